//! A lower bound on the cost stage of nested plans (demand levels), where each district's
//! new places at each level lie in a known range (`level_ranges`).
//!
//! The sum of the levels' own cost optima is a weak bound when sites take a minimum or
//! nothing: a district whose level alone puts its 10 places on one free row house (10 or
//! none) cannot do so nested on the 7 places of the level below. Per district, a nested
//! plan's places at level l split into `q_l` on sites with a minimum occupancy and `r_l` on
//! the others, both never falling from level to level. The cheapest `r` places on the
//! others fill them by cost (`g(r)`, exact); the cheapest `q` on sites with a minimum is a
//! knapsack over those sites (`h(q)`, exact for one level; nested, the sites opened may
//! only grow, which the bound forgets). So every nested plan costs at least
//! `Σ_d min Σ_l ω_l (h_d(q_l) + g_d(r_l))` over non-decreasing `q`, `r` with `q_l + r_l` in
//! the district's range at level l: a small dynamic program per district. Spacing, seats
//! and the districts' sum are left out, so it is a bound, not a plan.

use std::time::Instant;

use crate::model::{Instance, Stage};
use crate::solve::model::level_ranges::{pinned_ranges, LevelRanges};
use crate::solve::model::prepare::Prepared;
use crate::solve::model::solution::Solution;
use crate::solve::model::values::level_scales;
use crate::solve::trace::trace;

mod refill;
pub(crate) use refill::cheaper_within_districts;

/// The most table cells the bound may fill in one round (about 0.1 s); beyond, no bound.
const WORK_LIMIT: u64 = 20_000_000;

/// Rounds of prices on the levels' counts, at most.
const ROUNDS: usize = 40;

/// One district's usable sites: (cost, room, site) of those without a minimum occupancy,
/// (cost, least, room, site) of those with one; each by cost.
#[derive(Default)]
struct DistrictSites {
    open: Vec<(f64, u64, u32)>,
    least: Vec<(f64, u64, u64, u32)>,
}

impl DistrictSites {
    fn open_room(&self) -> u64 {
        self.open.iter().map(|s| s.1).sum()
    }

    fn least_room(&self) -> u64 {
        self.least.iter().map(|s| s.2).sum()
    }

    /// `g(r)` for r = 0..=top: the cheapest r places on the sites without a minimum.
    fn open_costs(&self, top: u64) -> Vec<f64> {
        let mut costs = Vec::with_capacity(top as usize + 1);
        costs.push(0.0);
        let mut total = 0.0;
        for &(cost, room, _) in &self.open {
            for _ in 0..room {
                if costs.len() > top as usize {
                    return costs;
                }
                total += cost;
                costs.push(total);
            }
        }
        costs
    }

    /// `h(q)` for q = 0..=top: the cheapest exactly q places on the sites with a minimum,
    /// each either empty or between its minimum and its room (infinite where none).
    fn least_costs(&self, top: u64) -> Vec<f64> {
        let top = top as usize;
        let mut costs = vec![f64::INFINITY; top + 1];
        costs[0] = 0.0;
        for &(cost, least, room, _) in &self.least {
            let before = costs.clone();
            for q in least as usize..=top {
                for j in least as usize..=(room as usize).min(q) {
                    let with = before[q - j] + cost * j as f64;
                    if with < costs[q] {
                        costs[q] = with;
                    }
                }
            }
        }
        costs
    }

    /// Table cells the district's bound fills over levels with these tops.
    fn work(&self, tops: impl Iterator<Item = u64>) -> u64 {
        let (open, least) = (self.open_room(), self.least_room());
        let knapsack: u64 = self
            .least
            .iter()
            .map(|&(_, l, r, _)| (least + 1) * (r + 1 - l.min(r)))
            .sum();
        knapsack
            + tops
                .map(|top| (open.min(top) + 1) * (least.min(top) + 1))
                .sum::<u64>()
    }
}

/// A bound on the cost stage of nested plans at the levels' own optima in the stages before
/// it (`before`, weighted), in those that count districts' places within the stages'
/// tolerance: each district's places per level then lie in the ranges those optima leave
/// (`level_ranges`), and within them no nested plan costs less than `nested_cost_bound`.
/// A bound only while a plan is at those optima in every stage before cost
/// (`levels::first_unproven`). `None` without shortfall among them or where the tables are large.
pub(crate) fn cost_bound(
    instance: &Instance,
    levels: &[Prepared],
    weights: &[f64],
    alone: &[Solution],
    before: &[(Stage, f64)],
    target: Option<f64>,
    deadline: Option<Instant>,
) -> Option<f64> {
    let (own, allowed) = held_values(levels, weights, alone, before);
    let ranges = pinned_ranges(instance, levels, &own, &allowed);
    nested_cost_bound(instance, levels, weights, &ranges, target, deadline)
}

/// The levels' own optima (`own[stage][l]`) in the stages of `before` that count
/// districts' places, and the most each level may have in them (`allowed`): its own
/// optimum and the stage's whole tolerance (the weighted sum `before` gives may spend it
/// on one level alone).
#[allow(clippy::type_complexity)]
pub(crate) fn held_values(
    levels: &[Prepared],
    weights: &[f64],
    alone: &[Solution],
    before: &[(Stage, f64)],
) -> (Vec<(Stage, Vec<f64>)>, Vec<(Stage, Vec<f64>)>) {
    let scales = level_scales(levels);
    let mut own = Vec::new();
    let mut allowed = Vec::new();
    for &(stage, sum) in before {
        if !matches!(
            stage,
            Stage::Shortfall | Stage::Evenness | Stage::Fair | Stage::Worst
        ) {
            continue;
        }
        let tolerance = 1e-6 * sum.abs().max(1.0);
        let values: Vec<f64> = alone
            .iter()
            .map(|own| own.value_of(stage).unwrap_or(f64::INFINITY))
            .collect();
        let most = values
            .iter()
            .zip(weights.iter().zip(&scales))
            .map(|(&value, (&weight, &scale))| {
                let factor = if stage == Stage::Shortfall {
                    weight
                } else {
                    weight * scale
                };
                value + tolerance / factor
            })
            .collect();
        own.push((stage, values));
        allowed.push((stage, most));
    }
    (own, allowed)
}

/// A site that may take new places (room in `prepared`), in a district.
pub(crate) struct UsableSite {
    pub(crate) site: usize,
    pub(crate) district: usize,
    /// Per place (0 without a cost).
    pub(crate) cost: f64,
    /// Its minimum occupancy and its room.
    pub(crate) least: u64,
    pub(crate) room: u64,
}

/// Every site that may take new places, in file order.
pub(crate) fn usable_sites<'a>(
    instance: &'a Instance,
    prepared: &'a Prepared,
) -> impl Iterator<Item = UsableSite> + 'a {
    prepared
        .site_room
        .iter()
        .enumerate()
        .filter_map(move |(s, &room)| {
            let d = prepared.site_district[s].filter(|_| room > 0)?;
            let site = &instance.sites[s];
            Some(UsableSite {
                site: s,
                district: d as usize,
                cost: site.cost.unwrap_or(0.0),
                least: u64::from(site.min_places),
                room: u64::from(room),
            })
        })
}

/// Each district's usable sites (room in `prepared`), of equal cost those with more places
/// in `first` (a plan) first.
fn district_sites(instance: &Instance, prepared: &Prepared, first: &[u32]) -> Vec<DistrictSites> {
    let mut districts: Vec<DistrictSites> = (0..instance.districts.len())
        .map(|_| DistrictSites::default())
        .collect();
    for usable in usable_sites(instance, prepared) {
        let (cost, least, room, s) = (usable.cost, usable.least, usable.room, usable.site);
        match least {
            0 | 1 => districts[usable.district].open.push((cost, room, s as u32)),
            _ if least <= room => districts[usable.district]
                .least
                .push((cost, least, room, s as u32)),
            _ => {}
        }
    }
    let order = |cost: f64, s: u32| (cost, std::cmp::Reverse(first.get(s as usize).copied()));
    for district in &mut districts {
        district.open.sort_by(|a, b| {
            let (ka, kb) = (order(a.0, a.2), order(b.0, b.2));
            ka.0.total_cmp(&kb.0).then(ka.1.cmp(&kb.1))
        });
        district.least.sort_by(|a, b| {
            let (ka, kb) = (order(a.0, a.3), order(b.0, b.3));
            ka.0.total_cmp(&kb.0).then(ka.1.cmp(&kb.1))
        });
    }
    districts
}

/// The least `Σ_l ω_l cost^l` of nested plans whose new places in district d at level l
/// lie in `ranges[l][d]` (a level without ranges: anything the district's sites hold) and
/// sum over the districts to the level's count. The count couples the districts: it is
/// priced (a Lagrangian relaxation, each price a place's worth at its level), and the
/// prices move by subgradient steps towards `target` (the cost of a known nested plan)
/// for a few rounds, until `deadline`; every round's value is a bound, the best is
/// returned. `None` where the tables would be too large, or some district cannot meet its
/// ranges (then no nested plan meets them and there is nothing to bound).
pub(crate) fn nested_cost_bound(
    instance: &Instance,
    levels: &[Prepared],
    weights: &[f64],
    ranges: &[Option<LevelRanges>],
    target: Option<f64>,
    deadline: Option<Instant>,
) -> Option<f64> {
    let last = levels.last()?;
    let districts = district_sites(instance, last, &[]);
    let spans = |d: usize, sites: &DistrictSites| -> Vec<(u64, u64)> {
        ranges
            .iter()
            .map(|range| match range {
                Some(range) => (range.districts[d].least, range.districts[d].most),
                None => (0, sites.open_room() + sites.least_room()),
            })
            .collect()
    };
    let spans: Vec<Vec<(u64, u64)>> = districts
        .iter()
        .enumerate()
        .map(|(d, sites)| spans(d, sites))
        .collect();
    let work: u64 = districts
        .iter()
        .zip(&spans)
        .map(|(sites, spans)| sites.work(spans.iter().map(|s| s.1)))
        .sum();
    if work > WORK_LIMIT {
        return None;
    }
    let tables: Vec<Tables> = districts
        .iter()
        .zip(&spans)
        .map(|(sites, spans)| Tables::new(sites, spans))
        .collect();
    let placed: Vec<Option<f64>> = ranges
        .iter()
        .map(|r| r.as_ref().map(|r| r.placed as f64))
        .collect();
    let mut prices = vec![0.0; ranges.len()];
    let mut best = f64::NEG_INFINITY;
    let (mut step, mut stalled) = (1.0, 0);
    for round in 0..ROUNDS {
        let mut value = 0.0;
        let mut count = vec![0.0; ranges.len()];
        for (table, spans) in tables.iter().zip(&spans) {
            let (least, splits) = table.splits(spans, weights, &prices)?;
            value += least;
            for (count, (q, r)) in count.iter_mut().zip(splits) {
                *count += (q + r) as f64;
            }
        }
        // The priced count: Σ_l λ_l (Σ_d a_d^l − N_l), its subgradient the excess.
        let excess: Vec<f64> = count
            .iter()
            .zip(&placed)
            .map(|(&count, placed)| placed.map_or(0.0, |placed| count - placed))
            .collect();
        value -= prices
            .iter()
            .zip(&placed)
            .map(|(&price, placed)| price * placed.unwrap_or(0.0))
            .sum::<f64>();
        if value > best + 1e-9 * best.abs().max(1.0) {
            best = best.max(value);
            stalled = 0;
        } else {
            best = best.max(value);
            stalled += 1;
            if stalled >= 3 {
                (step, stalled) = (step / 2.0, 0);
            }
        }
        trace(|| format!("  nested cost bound, round {round}: {value:.6}"));
        let norm: f64 = excess.iter().map(|e| e * e).sum();
        let Some(target) = target else { break };
        // Every count met: the relaxation's optimum keeps the coupling, nothing to gain.
        if norm == 0.0 || target <= best || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let length = step * (target - value) / norm;
        for (price, excess) in prices.iter_mut().zip(&excess) {
            *price += length * excess;
        }
    }
    Some(best)
}

/// One district's least weighted nested cost with its places at level l in `spans[l]`
/// (infinite where no split meets them).
#[cfg(test)]
fn district_bound(sites: &DistrictSites, spans: &[(u64, u64)], weights: &[f64]) -> f64 {
    let prices = vec![0.0; spans.len()];
    Tables::new(sites, spans)
        .splits(spans, weights, &prices)
        .map_or(f64::INFINITY, |(cost, _)| cost)
}

/// The dynamic program's tables: `least[q]` = h(q), `open[r]` = g(r); a level's table holds
/// at `q · width + r` the least cost of the levels so far ending with q places on sites with
/// a minimum and r on the others.
struct Tables {
    least: Vec<f64>,
    open: Vec<f64>,
}

impl Tables {
    fn new(sites: &DistrictSites, spans: &[(u64, u64)]) -> Tables {
        let top = spans.iter().map(|s| s.1).max().unwrap_or(0);
        Tables {
            least: sites.least_costs(top.min(sites.least_room())),
            open: sites.open_costs(top),
        }
    }

    fn width(&self) -> usize {
        self.open.len()
    }

    /// Before the first level: nothing placed.
    fn start(&self) -> Vec<f64> {
        let mut best = vec![f64::INFINITY; self.least.len() * self.width()];
        best[0] = 0.0;
        best
    }

    /// The next level, `lo..=hi` places, its cost weighted by `weight`, each place priced at
    /// `price` on top.
    fn step(&self, best: &mut [f64], (lo, hi): (u64, u64), weight: f64, price: f64) {
        let width = self.width();
        // Least over every split below or at (q, r): the levels before may have had no more.
        for q in 0..self.least.len() {
            for r in 0..width {
                let k = q * width + r;
                let mut m = best[k];
                if q > 0 {
                    m = m.min(best[k - width]);
                }
                if r > 0 {
                    m = m.min(best[k - 1]);
                }
                best[k] = m;
            }
        }
        for (q, &on_least) in self.least.iter().enumerate() {
            for (r, &on_open) in self.open.iter().enumerate() {
                let k = q * width + r;
                let places = (q + r) as u64;
                best[k] = if (lo..=hi).contains(&places) && on_least.is_finite() {
                    best[k] + weight * (on_least + on_open) + price * places as f64
                } else {
                    f64::INFINITY
                };
            }
        }
    }

    /// The splits (q, r) per level of a least-cost sequence, and its cost; `None` where no
    /// sequence meets the spans.
    fn splits(
        &self,
        spans: &[(u64, u64)],
        weights: &[f64],
        prices: &[f64],
    ) -> Option<(f64, Vec<(usize, usize)>)> {
        let width = self.width();
        let mut tables = Vec::with_capacity(spans.len());
        let mut best = self.start();
        for ((&span, &weight), &price) in spans.iter().zip(weights).zip(prices) {
            self.step(&mut best, span, weight, price);
            tables.push(best.clone());
        }
        let last = tables.last()?;
        let (mut k, &cost) = last.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1))?;
        if !cost.is_finite() {
            return None;
        }
        let mut splits = vec![(0, 0); spans.len()];
        for l in (0..spans.len()).rev() {
            let (q, r) = (k / width, k % width);
            splits[l] = (q, r);
            if l == 0 {
                break;
            }
            // The level before: the least of its table below or at (q, r).
            let before = &tables[l - 1];
            k = (0..=q)
                .flat_map(|q| (0..=r).map(move |r| q * width + r))
                .min_by(|&a, &b| before[a].total_cmp(&before[b]))?;
        }
        Some((cost, splits))
    }
}

#[cfg(test)]
mod tests {
    use super::{district_bound, DistrictSites};

    /// Three free row houses (10 or none) and flats at 100 a place: with 7 places at the
    /// first level and 10 at the second, the second cannot use a row house on top of the 7
    /// (17 > 10), so it pays for 3 more flats; level alone it would be free.
    #[test]
    fn nested_row_houses_cost_what_nesting_forces() {
        let sites = DistrictSites {
            open: vec![(100.0, 20, 0)],
            least: vec![(0.0, 10, 10, 1); 3],
        };
        let bound = district_bound(&sites, &[(7, 7), (10, 10)], &[1.0, 1.0]);
        assert_eq!(bound, 700.0 + 1000.0);
        // At 17 the row house fits on top of the 7.
        let bound = district_bound(&sites, &[(7, 7), (17, 17)], &[1.0, 1.0]);
        assert_eq!(bound, 700.0 + 700.0);
        // A range lets the first level take the row house at 10 and the second the same.
        let bound = district_bound(&sites, &[(7, 10), (10, 10)], &[1.0, 2.0]);
        assert_eq!(bound, 0.0);
        // Weights count each level's cost.
        let bound = district_bound(&sites, &[(7, 7), (10, 10)], &[2.0, 0.5]);
        assert_eq!(bound, 2.0 * 700.0 + 0.5 * 1000.0);
        // No split meets 25 with 20 flats and row houses of 10: 5 flats and 20 on row houses.
        let bound = district_bound(&sites, &[(25, 25)], &[1.0]);
        assert_eq!(bound, 500.0);
        // More than the district holds: infinite.
        assert!(district_bound(&sites, &[(51, 51)], &[1.0]).is_infinite());
    }

    /// Sites with a minimum below their room take any count between them.
    #[test]
    fn a_minimum_below_the_room_takes_any_count_from_it() {
        let sites = DistrictSites {
            open: vec![(5.0, 3, 0)],
            least: vec![(1.0, 4, 8, 1)],
        };
        let h = sites.least_costs(8);
        assert_eq!(h[..4], [0.0, f64::INFINITY, f64::INFINITY, f64::INFINITY]);
        assert_eq!(h[4..], [4.0, 5.0, 6.0, 7.0, 8.0]);
        // 3 places: on the open site (15); 6: on the site with a minimum (6).
        assert_eq!(district_bound(&sites, &[(3, 3)], &[1.0]), 15.0);
        assert_eq!(district_bound(&sites, &[(6, 6)], &[1.0]), 6.0);
        // Nested 3 then 6: the first level's 3 on the open site stay, and 3 more cannot
        // open the other site (its minimum is 4): no nested plan. With the first level
        // allowed 4, it opens that site at 4 and grows it to 6.
        assert!(district_bound(&sites, &[(3, 3), (6, 6)], &[1.0, 1.0]).is_infinite());
        assert_eq!(
            district_bound(&sites, &[(3, 4), (6, 6)], &[1.0, 1.0]),
            4.0 + 6.0
        );
    }
}
