//! A lower bound for stage spread without its LP.
//!
//! On large grids the spread LP is out of HiGHS's reach: every neighbourhood shares the
//! load column, and thousands of them must enter before the LP stops overfilling one
//! (BENCHMARKS.md). Its dual is easy to bound, though. For weights `y_b ≥ 0` on the
//! neighbourhoods with `Σ y_b = 1`, every plan has
//!
//! `max_b load_b ≥ Σ_b y_b · load_b = Σ_s c_s · x_s`, with `c_s = Σ_{b ∋ s} y_b`,
//!
//! so the cheapest plan for the costs `c`, over any set that contains every plan the stage
//! allows, bounds the stage from below. The set used here keeps each site's room, the
//! number of places placed, and each district's range of new places that the earlier
//! stages' optima leave (`separable::evenness_bounds`); it drops every other rule, which
//! only weakens the bound. Over that set the cheapest plan is a greedy fill (each district
//! its cheapest sites; the districts' marginal costs rise, so the cheapest places overall
//! are taken), exact and fast. The weights are improved by exponentiated ascent: a
//! neighbourhood that the cheapest plan loads heavily gets more weight. The spread optimum
//! is a whole number, so the bound rounds up; a plan that reaches it is optimal.

use std::time::Instant;

use rayon::prelude::*;

use super::lookups::{Lookups, Meeting};
use super::state::Bounds;
use crate::model::{Instance, Stage};
use crate::solve::model::districts::separable_districts;
use crate::solve::model::prepare::Prepared;
use crate::solve::model::separable::{self, SeparableDistrict};
use crate::solve::trace::trace;

/// Most rounds of the ascent.
const MOST_ROUNDS: usize = 3_000;
/// The ascent stops when the bound has not risen by a thousandth of a place for this many rounds.
const PATIENCE: usize = 400;
/// The ascent's step: the largest load of the cheapest plan moves the weights by a factor
/// of up to e^(STEP/√round).
const STEP: f64 = 2.0;

/// The sites that may take new places, grouped by district, with the neighbourhoods each
/// counts in.
struct Sites {
    site: Vec<u32>,
    room: Vec<u64>,
    /// `site[start[d]..start[d + 1]]` lie in the d-th district of `ranges`.
    start: Vec<usize>,
    /// Neighbourhoods (compact numbers) site i counts in: `balls[offset[i]..offset[i + 1]]`.
    offset: Vec<usize>,
    balls: Vec<u32>,
    ball_count: usize,
}

/// The range of new places of each district over every plan the earlier stages' optima
/// allow, and the number of places every such plan places; `None` when the ranges do not
/// follow (a stage the bound cannot read).
fn district_ranges(
    instance: &Instance,
    prepared: &Prepared,
    bounds: &Bounds,
) -> Option<(Vec<(u64, u64)>, u64)> {
    let upper = |stage: Stage| bounds.iter().find(|(s, _)| *s == stage).map(|&(_, v)| v);
    let (districts, _) = separable_districts(instance, prepared);
    let caps: Vec<u64> = districts.iter().map(|d| d.cap).collect();
    let total_cap: u64 = caps.iter().sum();
    let most_placed = prepared.demand.min(total_cap);
    let shortfall = upper(Stage::Shortfall)?;
    let least_placed = prepared
        .demand
        .saturating_sub((shortfall + 1e-9).floor().max(0.0) as u64);
    if least_placed > most_placed {
        return None;
    }
    let everything = || caps.iter().map(|&cap| (0, cap)).collect();
    // The evenness ranges hold for plans that place as many places as the relaxation can.
    let ranges = match upper(Stage::Evenness) {
        Some(evenness) if least_placed == most_placed => {
            let relaxed = relaxed_evenness(&districts, prepared.demand, &caps);
            let slack = (evenness - relaxed).max(0.0) + 1e-9 * evenness.abs().max(1.0);
            separable::evenness_bounds(&districts, prepared.demand, slack)
        }
        _ => everything(),
    };
    Some((ranges, least_placed))
}

/// The evenness optimum of the relaxation without rules between sites.
fn relaxed_evenness(districts: &[SeparableDistrict], demand: u64, caps: &[u64]) -> f64 {
    let plan = separable::solve_separable(districts, demand, &[], caps);
    districts
        .iter()
        .zip(&plan.places)
        .map(|(d, &n)| (n as f64 - d.kink).abs())
        .sum()
}

impl Sites {
    fn new(lookups: &Lookups, districts: usize) -> Option<Sites> {
        let prepared = lookups.prepared;
        let mut by_district: Vec<Vec<u32>> = vec![Vec::new(); districts];
        for (s, &room) in prepared.site_room.iter().enumerate() {
            if let (Some(d), true) = (prepared.site_district[s], room > 0) {
                by_district[d as usize].push(s as u32);
            }
        }
        let mut site = Vec::new();
        let mut start = vec![0];
        for list in by_district {
            site.extend(list);
            start.push(site.len());
        }
        if !lookups.look_up_all() {
            trace(|| "  spread bound without the LP: too many neighbourhood entries".into());
            return None;
        }
        let lists: Vec<&[u32]> = site.iter().map(|&s| lookups.around(s as usize)).collect();
        // Compact numbers for the neighbourhoods some site counts in.
        let mut compact = vec![u32::MAX; lookups.balls.len()];
        let mut ball_count = 0usize;
        let mut offset = Vec::with_capacity(site.len() + 1);
        offset.push(0);
        let mut entries = Vec::with_capacity(lists.iter().map(|list| list.len()).sum());
        for list in &lists {
            for &b in list.iter() {
                let b = b as usize;
                if compact[b] == u32::MAX {
                    compact[b] = ball_count as u32;
                    ball_count += 1;
                }
                entries.push(compact[b]);
            }
            offset.push(entries.len());
        }
        // A site takes no more than any spacing ball around it leaves.
        let mut most = vec![u64::MAX; prepared.site_room.len()];
        for ball in prepared.spacing.iter() {
            for &m in &ball.members {
                most[m as usize] = most[m as usize].min(ball.room);
            }
        }
        let room = site
            .iter()
            .map(|&s| u64::from(prepared.site_room[s as usize]).min(most[s as usize]))
            .collect();
        Some(Sites {
            site,
            room,
            start,
            offset,
            balls: entries,
            ball_count,
        })
    }

    fn around(&self, i: usize) -> &[u32] {
        &self.balls[self.offset[i]..self.offset[i + 1]]
    }
}

/// Places at a site: (site position in `Sites`, places).
type Places = (u32, u64);
/// Places a district offers beyond its due ones: (cost per place, site position, places).
type Offer = (f64, u32, u64);

/// The cheapest plan for costs `c` (per site of `sites`): each district at least `lo` and at
/// most `hi` new places, `placed` in all. Returns (site position, places) pairs and the cost;
/// `None` when the ranges cannot add up to `placed`.
fn cheapest(
    sites: &Sites,
    ranges: &[(u64, u64)],
    placed: u64,
    c: &[f64],
) -> Option<(Vec<Places>, f64)> {
    // Per district: its sites cheapest first; the first `lo` places are due, the next up to
    // `hi` are offered.
    let per_district: Vec<(Vec<Places>, Vec<Offer>)> = ranges
        .par_iter()
        .enumerate()
        .map(|(d, &(lo, hi))| {
            let mut order: Vec<u32> = (sites.start[d] as u32..sites.start[d + 1] as u32).collect();
            order
                .sort_unstable_by(|&a, &b| c[a as usize].total_cmp(&c[b as usize]).then(a.cmp(&b)));
            let (mut due, mut offered) = (Vec::new(), Vec::new());
            let (mut taken, mut left) = (0u64, hi);
            for i in order {
                if left == 0 {
                    break;
                }
                let room = sites.room[i as usize].min(left);
                if room == 0 {
                    continue; // a full site (a spacing ball leaves it nothing)
                }
                let must = room.min(lo.saturating_sub(taken));
                if must > 0 {
                    due.push((i, must));
                }
                if room > must {
                    offered.push((c[i as usize], i, room - must));
                }
                taken += room;
                left -= room;
            }
            (due, offered)
        })
        .collect();
    let mut plan: Vec<Places> = Vec::new();
    let mut offered: Vec<Offer> = Vec::new();
    for (due, more) in per_district {
        plan.extend(due);
        offered.extend(more);
    }
    let due: u64 = plan.iter().map(|&(_, n)| n).sum();
    let mut left = placed.checked_sub(due)?;
    offered.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (_, i, room) in offered {
        if left == 0 {
            break;
        }
        let take = room.min(left);
        plan.push((i, take));
        left -= take;
    }
    if left > 0 {
        return None;
    }
    let cost = plan.iter().map(|&(i, n)| c[i as usize] * n as f64).sum();
    Some((plan, cost))
}

/// A lower bound for the spread stage's optimum (whole, so rounded up), by the ascent in
/// the module comment, told to `meeting` as it rises. Stops as soon as it meets the plan
/// of `meeting` (the plan is then optimal), when it stalls, or at `deadline`. `None` when
/// the bound cannot be built (the neighbourhood lists would be too large, or a stage the
/// bound cannot read).
pub(super) fn spread_lower_bound(
    lookups: &Lookups,
    bounds: &Bounds,
    meeting: &Meeting,
    deadline: Option<Instant>,
) -> Option<f64> {
    let (ranges, placed) = district_ranges(lookups.instance, lookups.prepared, bounds)?;
    let sites = Sites::new(lookups, ranges.len())?;
    let rounded = |bound: f64| (bound - 1e-6).ceil().max(0.0);
    let mut weight = vec![1.0 / sites.ball_count.max(1) as f64; sites.ball_count];
    let mut load = vec![0.0f64; sites.ball_count];
    let mut best = 0.0f64;
    let mut since_better = 0usize;
    let began = Instant::now();
    let mut rounds = 0;
    for round in 1..=MOST_ROUNDS {
        rounds = round;
        let c: Vec<f64> = (0..sites.site.len())
            .into_par_iter()
            .map(|i| sites.around(i).iter().map(|&b| weight[b as usize]).sum())
            .collect();
        let (plan, cost) = cheapest(&sites, &ranges, placed, &c)?;
        // Σ y = 1 up to rounding: the bound divides by the sum actually used.
        let total: f64 = weight.iter().sum();
        let bound = cost / total;
        if bound > best + 1e-3 {
            since_better = 0;
        } else {
            since_better += 1;
        }
        best = best.max(bound);
        meeting.raise_bound(rounded(best) as i64);
        if meeting.met()
            || since_better >= PATIENCE
            || deadline.is_some_and(|d| Instant::now() >= d)
        {
            break;
        }
        // The loads of the cheapest plan lift the weights of the neighbourhoods it fills.
        load.iter_mut().for_each(|l| *l = 0.0);
        for &(i, n) in &plan {
            for &b in sites.around(i as usize) {
                load[b as usize] += n as f64;
            }
        }
        let most = load.iter().copied().fold(0.0, f64::max).max(1.0);
        let step = STEP / (most * (round as f64).sqrt());
        weight
            .iter_mut()
            .zip(&load)
            .for_each(|(w, &l)| *w *= ((l - most) * step).exp());
        let sum: f64 = weight.iter().sum();
        weight.iter_mut().for_each(|w| *w /= sum);
    }
    trace(|| {
        format!(
            "  spread bound without the LP: {best:.4}, so at least {}; {rounds} rounds in {:.2} s ({} sites, {} neighbourhood entries)",
            rounded(best),
            began.elapsed().as_secs_f64(),
            sites.site.len(),
            sites.balls.len()
        )
    });
    Some(rounded(best))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cheapest_takes_the_due_places_then_the_cheapest_overall() {
        // Two districts: sites 0..3 and 3..5, rooms 2 each.
        let sites = Sites {
            site: vec![10, 11, 12, 13, 14],
            room: vec![2, 2, 2, 2, 2],
            start: vec![0, 3, 5],
            offset: vec![0; 6],
            balls: Vec::new(),
            ball_count: 0,
        };
        let c = [5.0, 1.0, 3.0, 0.5, 9.0];
        // District 0 must take 3 (sites 1 then 2), district 1 at most 1.
        let (plan, cost) = cheapest(&sites, &[(3, 6), (0, 1)], 5, &c).unwrap();
        let mut plan = plan;
        plan.sort_unstable();
        // Due: 2 at site 1, 1 at site 2; then the cheapest: site 3 (0.5, 1 of it by the
        // cap), site 2's other place (3.0).
        assert_eq!(plan, vec![(1, 2), (2, 1), (2, 1), (3, 1)]);
        assert_eq!(cost, 2.0 + 3.0 + 3.0 + 0.5);
        assert!(cheapest(&sites, &[(3, 6), (0, 1)], 8, &c).is_none());
        assert!(cheapest(&sites, &[(5, 6), (0, 1)], 4, &c).is_none());
        // A site without room is passed over, not the end of its district.
        let full = Sites {
            room: vec![2, 0, 2, 2, 2],
            ..sites
        };
        let (plan, cost) = cheapest(&full, &[(0, 6), (0, 0)], 3, &c).unwrap();
        assert_eq!(plan.iter().map(|&(_, n)| n).sum::<u64>(), 3);
        assert_eq!(cost, 3.0 + 3.0 + 5.0);
    }
}
