//! Starts for the spread stage's penalty search (`search::spread_breakout`) that are
//! already spread out: the plan of the stage before fills sites in file order inside each
//! district and can crowd 98 new places within 200 m of a site on a 200k-site grid; built
//! afresh, the same places reach 25 before the search begins.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use super::lookups::Lookups;
use super::state::{Bounds, Fill};
use crate::generate::rng::Rng;
use crate::model::{Plan, Stage};
use crate::solve::trace::trace;

/// Sweeps of `spread_out` over the districts.
const SPREAD_OUT_SWEEPS: usize = 3;

/// The start for the penalty search, with its largest load: the plan built afresh
/// (`spread_anew`), or where that is no less crowded than `start`, `start` with each
/// district's places spread out inside it (`spread_out`); `None` when neither is less
/// crowded than `start`, or the time runs out. Where an earlier stage's bound counts which sites hold the places
/// (access, cost), both would break it, and there is no start; under a bound on the worst
/// district only the districts' own numbers are sure to keep it, so only `spread_out` runs.
pub(super) fn spread_start(
    lookups: &Lookups,
    start: &Plan,
    bounds: &Bounds,
    deadline: Option<Instant>,
) -> Option<(Plan, i64)> {
    let has = |stage: Stage| bounds.iter().any(|&(s, _)| s == stage);
    if has(Stage::Access) || has(Stage::Cost) {
        return None;
    }
    let before = lookups.balls.most_new(lookups.instance, start) as i64;
    let better = |found: Option<(Plan, i64)>| found.filter(|&(_, most)| most < before);
    let anew = if has(Stage::Worst) || has(Stage::Fair) {
        None
    } else {
        better(spread_anew(lookups, start, bounds, deadline))
    };
    anew.or_else(|| better(spread_out(lookups, start, deadline)))
}

/// A spread-out plan built afresh: the places of `start` that lie in districts are taken
/// away and placed again, one at a time (a whole site's minimum where it takes all or
/// nothing), each at the site in the whole city whose neighbourhoods are least loaded after
/// it (the largest load, then their sum), as long as every rule holds and the earlier
/// stages' bounds still can. Loads only grow, so a site's last score is a lower bound of
/// its next: a heap of scores looked at again only when they come to the top gives the same
/// choices as looking at every site each time (up to ties).
///
/// Evenness is kept as a budget: placing a place in a district below its target lowers the
/// evenness sum by one, anything else lowers it less; the sum after every place is placed
/// must stay within the stage's bound, so the places may "waste" at most the bound minus
/// (the sum without new places − the places). Bounds on the worst district, access or cost
/// are not kept (`spread_start` does not call it under them). `None` when a place finds no
/// site or the time runs out.
fn spread_anew(
    lookups: &Lookups,
    start: &Plan,
    bounds: &Bounds,
    deadline: Option<Instant>,
) -> Option<(Plan, i64)> {
    let (instance, prepared) = (lookups.instance, lookups.prepared);
    let mut plan = start.clone();
    let mut left = 0u64;
    for (s, x) in plan.places.iter_mut().enumerate() {
        if prepared.site_district[s].is_some() {
            left += u64::from(*x);
            *x = 0;
        }
    }
    let mut fill = Fill::new(lookups, plan);
    let mut new = vec![0u64; instance.districts.len()];
    let deviation =
        |d: usize, n: u64| (prepared.district_existing[d] + n as f64 - prepared.target[d]).abs();
    let mut budget = match bounds.iter().find(|(s, _)| *s == Stage::Evenness) {
        Some(&(_, evenness)) => {
            let without: f64 = (0..new.len()).map(|d| deviation(d, 0)).sum();
            evenness - (without - left as f64)
        }
        None => f64::INFINITY,
    };
    let mut heap: BinaryHeap<Reverse<(i64, i64, u32)>> = (0..instance.sites.len())
        .filter(|&s| prepared.site_room[s] > 0 && prepared.site_district[s].is_some())
        .map(|s| Reverse((0, 0, s as u32)))
        .collect();
    let mut pops = 0u64;
    while left > 0 {
        pops += 1;
        if pops % 4096 == 0 && deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        let Reverse((_, _, s)) = heap.pop()?;
        let s = s as usize;
        let d = prepared.site_district[s]? as usize;
        let k = fill.step(s);
        let waste = deviation(d, new[d] + u64::from(k)) - deviation(d, new[d]) + f64::from(k);
        let fits = u64::from(k) <= left
            && waste <= budget + 1e-9
            && prepared.share_room[d].is_none_or(|room| new[d] + u64::from(k) <= room)
            && fill.fits(s, k);
        if !fits {
            // What stops a site only grows (loads, the waste of its district, the places
            // left to place), so it leaves the heap for good.
            continue;
        }
        let top = heap.peek().map(|&Reverse((most, sum, _))| (most, sum));
        let (score, behind) = fill.score(s, k, top.map(|(most, _)| most));
        if behind || top.is_some_and(|top| top < score) {
            let sum = if behind { 0 } else { score.1 };
            heap.push(Reverse((score.0, sum, s as u32)));
            continue;
        }
        fill.add(s, i64::from(k));
        new[d] += u64::from(k);
        left -= u64::from(k);
        budget -= waste;
        heap.push(Reverse((score.0 + 1, score.1, s as u32)));
    }
    let most = fill.most();
    trace(|| format!("  spread afresh: largest load {most}"));
    Some((fill.plan, most))
}

/// `start` spread out inside each district. Each district in turn (in a new order each
/// sweep) takes its new places away and places them again, one at a time, each at the site
/// of the district whose neighbourhoods are least loaded after it (the largest load, then
/// their sum), keeping every rule; where they no longer all fit, the district keeps the
/// sites it had. The districts' numbers of new places do not change, so the earlier
/// stages' bounds on evenness and the worst district hold (those on access and cost may
/// not: `spread_start` does not call it under them). `None` when the time runs out.
fn spread_out(lookups: &Lookups, start: &Plan, deadline: Option<Instant>) -> Option<(Plan, i64)> {
    let (instance, prepared) = (lookups.instance, lookups.prepared);
    let mut sites_of: Vec<Vec<u32>> = vec![Vec::new(); instance.districts.len()];
    for (s, &room) in prepared.site_room.iter().enumerate() {
        if let (Some(d), true) = (prepared.site_district[s], room > 0) {
            sites_of[d as usize].push(s as u32);
        }
    }
    let mut fill = Fill::new(lookups, start.clone());
    let mut rng = Rng::new(0x05EE_D0A7);
    let mut order: Vec<usize> = (0..sites_of.len())
        .filter(|&d| sites_of[d].iter().any(|&s| start.places[s as usize] > 0))
        .collect();
    for _ in 0..SPREAD_OUT_SWEEPS {
        for i in (1..order.len()).rev() {
            order.swap(i, rng.int(0, i as u64) as usize);
        }
        for &d in &order {
            if deadline.is_some_and(|t| Instant::now() >= t) {
                return None;
            }
            let had: Vec<(usize, u32)> = sites_of[d]
                .iter()
                .map(|&s| (s as usize, fill.plan.places[s as usize]))
                .filter(|&(_, x)| x > 0)
                .collect();
            let mut left: u32 = had.iter().map(|&(_, x)| x).sum();
            for &(s, x) in &had {
                fill.add(s, -i64::from(x));
            }
            while left > 0 {
                let mut chosen: Option<(usize, u32, (i64, i64))> = None;
                for &s in &sites_of[d] {
                    let s = s as usize;
                    let k = fill.step(s);
                    if k > left || !fill.fits(s, k) {
                        continue;
                    }
                    let (score, _) = fill.score(s, k, chosen.map(|(_, _, best)| best.0));
                    if chosen.is_none_or(|(_, _, best)| score < best) {
                        chosen = Some((s, k, score));
                    }
                }
                let Some((s, k, _)) = chosen else {
                    break;
                };
                fill.add(s, i64::from(k));
                left -= k;
            }
            if left > 0 {
                // They no longer all fit: the district keeps the sites it had.
                for &s in &sites_of[d] {
                    let x = fill.plan.places[s as usize];
                    fill.add(s as usize, -i64::from(x));
                }
                for &(s, x) in &had {
                    fill.add(s, i64::from(x));
                }
            }
        }
    }
    let most = fill.most();
    trace(|| format!("  spread out in the districts: largest load {most}"));
    Some((fill.plan, most))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::{city, site};
    use crate::model::{Facility, FacilityLayer, Instance, SiteStatus, Spacing};
    use crate::solve::model::prepare::Prepared;
    use crate::spatial::Geography;

    /// Random cities of four districts, their sites crowded into one corner of each,
    /// with spacing, existing sites, sites that take all or nothing and a share cap, after
    /// the stages shortfall and evenness (and sometimes worst): each start keeps every rule
    /// (by the independent checker), places as many places as the plan it starts from and
    /// keeps the earlier stages' bounds; and mostly it is less crowded than the evenness
    /// plan, which fills sites in file order. Under a bound on access there is no start.
    #[test]
    fn spread_starts_keep_every_rule_and_the_earlier_stages() {
        let afresh = |l: &Lookups, p: &Plan, b: &Bounds| spread_anew(l, p, b, None);
        let out = |l: &Lookups, p: &Plan, _: &Bounds| spread_out(l, p, None);
        let either = |l: &Lookups, p: &Plan, b: &Bounds| spread_start(l, p, b, None);
        type Start<'a> = &'a dyn Fn(&Lookups, &Plan, &Bounds) -> Option<(Plan, i64)>;
        let starts: [(&str, Start, &[Stage]); 4] = [
            ("afresh", &afresh, &[]),
            ("out", &out, &[]),
            ("out under worst", &out, &[Stage::Worst]),
            ("start under worst", &either, &[Stage::Worst]),
        ];
        for (name, start, later) in starts {
            let (mut built, mut better) = (0, 0);
            for seed in 0..40u64 {
                let Some((instance, prepared, geography, solution, bounds)) = city_at(seed, later)
                else {
                    continue;
                };
                let lookups = Lookups::new(&instance, &prepared);
                let Some((plan, most)) = start(&lookups, &solution.plan, &bounds) else {
                    continue;
                };
                let tag = format!("{name}, seed {seed}");
                let report = crate::check::check_plan(&instance, &geography, &plan);
                assert!(
                    report.violations.is_empty(),
                    "{tag}: {:?}",
                    report.violations
                );
                let placed = |p: &Plan| p.places.iter().map(|&x| u64::from(x)).sum::<u64>();
                assert_eq!(placed(&plan), placed(&solution.plan), "{tag}");
                let deviations: Vec<f64> = (0..instance.districts.len())
                    .map(|d| {
                        let new: u32 = (0..plan.places.len())
                            .filter(|&s| prepared.site_district[s] == Some(d as u32))
                            .map(|s| plan.places[s])
                            .sum();
                        (prepared.district_existing[d] + f64::from(new) - prepared.target[d]).abs()
                    })
                    .collect();
                for &(stage, upper) in &bounds {
                    let value = match stage {
                        Stage::Evenness => deviations.iter().sum(),
                        Stage::Worst => deviations.iter().copied().fold(0.0, f64::max),
                        _ => continue,
                    };
                    assert!(value <= upper, "{tag}: {stage:?} {value} > {upper}");
                }
                let balls = prepared.spread_balls(&instance);
                assert_eq!(balls.most_new(&instance, &plan) as i64, most, "{tag}");
                built += 1;
                if most < balls.most_new(&instance, &solution.plan) as i64 {
                    better += 1;
                }
            }
            // spread_start gives a plan only when it is less crowded.
            assert!(built >= 20, "{name}: only {built} of 40 cities gave a plan");
            assert!(
                better * 2 >= built,
                "{name}: only {better} of {built} plans less crowded"
            );
        }
        let mut access = 0;
        for seed in 0..10u64 {
            if let Some((instance, prepared, _, solution, bounds)) = city_at(seed, &[Stage::Access])
            {
                let lookups = Lookups::new(&instance, &prepared);
                assert!(spread_start(&lookups, &solution.plan, &bounds, None).is_none());
                access += 1;
            }
        }
        assert!(access >= 5, "only {access} of 10 cities with access solved");
    }

    type Solved = (
        Instance,
        Prepared,
        Geography,
        crate::solve::Solution,
        Bounds,
    );

    /// A random city of four districts (see the test above), solved for shortfall,
    /// evenness and the `later` stages, with the bounds those leave for stage spread.
    fn city_at(seed: u64, later: &[Stage]) -> Option<Solved> {
        let mut rng = Rng::new(seed);
        let mut sites = Vec::new();
        for i in 0..60 {
            let district = rng.int(0, 3) as f64;
            let (x, y) = (rng.unit() * 600.0, rng.unit() * 600.0);
            let capacity = rng.int(1, 12) as u32;
            let mut s = site(&format!("S{i}"), district * 1000.0 + x, y, capacity);
            if rng.unit() < 0.15 {
                s.min_places = s.capacity.min(rng.int(2, 6) as u32);
            }
            if seed % 2 == 1 && rng.unit() < 0.1 {
                s.status = SiteStatus::Existing;
                s.occupied = rng.int(0, 30) as u32;
                s.capacity += s.occupied;
            }
            sites.push(s);
        }
        let demand = rng.int(20, 120);
        let mut instance = city(&[1000.0, 2500.0, 4000.0, 3000.0], sites, demand);
        if seed % 2 == 0 {
            // Two districts above their fair share and two below: evenness leaves the
            // split between the two below free, and the worst district decides it.
            instance.districts[0].existing = 40.0;
            instance.districts[1].existing = 60.0;
        }
        instance.rules.spacing = Some(Spacing {
            metres: 200.0,
            max_places: rng.int(30, 80) as u32,
        });
        if rng.unit() < 0.5 {
            instance.rules.max_share = Some(0.012);
        }
        instance.objective.spread_metres = Some(150.0);
        instance.stages = vec![Stage::Shortfall, Stage::Evenness];
        instance.stages.extend_from_slice(later);
        if later.contains(&Stage::Access) {
            instance.facilities = vec![FacilityLayer {
                kind: "school".into(),
                facilities: vec![Facility {
                    id: "F0".into(),
                    position: [1500.0, 300.0],
                    seats: None,
                }],
            }];
            instance.objective.access_kinds = Some(vec!["school".into()]);
        }
        let geography = Geography::of(&instance);
        let prepared = Prepared::new(&instance, &geography);
        let solution = crate::solve::solve(&instance, &prepared).ok()?;
        let bounds: Bounds = solution
            .stages
            .iter()
            .map(|&(stage, value)| (stage, value + 1e-6 * value.abs().max(1.0)))
            .collect();
        Some((instance, prepared, geography, solution, bounds))
    }
}
