//! A plan for the access or cost stage after a tight spread stage, by moving places to
//! cheaper sites.
//!
//! After a tight spread stage, access or cost is a hard integer program where sites take all
//! or nothing (Musterstadt, the generated mid-size city): HiGHS may need minutes before its
//! first plan, and a time limit would then leave the plan of the stage before. This descent
//! gives a good plan in well under a second. It starts from the plan of the stage before and
//! moves places (one, or a whole site where a part cannot go) from the dearest sites to
//! cheaper ones that take them, first inside the site's district (evenness leaves each
//! district's number of places little room), then anywhere, keeping every rule, every
//! earlier stage's bound and every spread neighbourhood at or below the spread optimum.

use std::time::Instant;

use super::lookups::Lookups;
use super::state::{Bounds, State};
use crate::model::{Plan, Stage};
use crate::solve::trace::trace;

/// Cheaper sites tried per move, in the district and anywhere, before the place stays.
const TRIES: usize = 400;
/// Most passes over the sites with places.
const PASSES: usize = 20;

/// The plan of the descent and its value for `stage` (Σ places × the site's distance or
/// cost), or `None` when `stage` has no cost per place or nothing moved.
pub(crate) fn cheaper_by_moves(
    lookups: &Lookups,
    start: &Plan,
    bounds: &Bounds,
    stage: Stage,
    deadline: Option<Instant>,
) -> Option<(Plan, f64)> {
    let (instance, prepared) = (lookups.instance, lookups.prepared);
    let per_place: Vec<f64> = match stage {
        Stage::Access => prepared.access_distance.to_vec(),
        Stage::Cost => instance
            .sites
            .iter()
            .map(|s| s.cost.unwrap_or(0.0))
            .collect(),
        _ => return None,
    };
    // The spread optimum caps every neighbourhood (it is whole: the bound's tolerance aside).
    let spread_cap = bounds
        .iter()
        .find(|(s, _)| *s == Stage::Spread)
        .map(|&(_, v)| (v + 1e-6).floor() as i64);
    let mut state = State::new(lookups, start, bounds);
    let fits_spread = |state: &State, a: usize, b: usize, k: u32| {
        spread_cap.is_none_or(|cap| state.fill.loads_after_move(a, b, k).all(|l| l <= cap))
    };
    // Sites that may take places, cheapest first: all of them, and per district.
    let mut cheapest: Vec<usize> = (0..instance.sites.len())
        .filter(|&s| prepared.site_room[s] > 0 && prepared.site_district[s].is_some())
        .collect();
    cheapest.sort_by(|&a, &b| per_place[a].total_cmp(&per_place[b]).then(a.cmp(&b)));
    let mut in_district: Vec<Vec<usize>> = vec![Vec::new(); instance.districts.len()];
    for &s in &cheapest {
        if let Some(d) = prepared.site_district[s] {
            in_district[d as usize].push(s);
        }
    }
    let mut moves = 0usize;
    for _ in 0..PASSES {
        let mut dearest: Vec<usize> = (0..instance.sites.len())
            .filter(|&s| state.fill.plan.places[s] > 0 && prepared.site_district[s].is_some())
            .collect();
        dearest.sort_by(|&a, &b| per_place[b].total_cmp(&per_place[a]).then(a.cmp(&b)));
        let moves_before = moves;
        for a in dearest {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            let Some(district) = prepared.site_district[a] else {
                continue;
            };
            loop {
                let xa = state.fill.plan.places[a];
                if xa == 0 {
                    break;
                }
                let k = if xa == 1 || xa > instance.sites[a].min_places {
                    1
                } else {
                    xa
                };
                let cheaper = |list: &[usize]| {
                    list.iter()
                        .copied()
                        .take_while(|&b| per_place[b] < per_place[a])
                        .take(TRIES)
                        .find(|&b| state.allowed(a, b, k) && fits_spread(&state, a, b, k))
                };
                let Some(b) =
                    cheaper(&in_district[district as usize]).or_else(|| cheaper(&cheapest))
                else {
                    break;
                };
                state.apply(a, b, k);
                moves += 1;
            }
        }
        if moves == moves_before || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    let value = state
        .fill
        .plan
        .places
        .iter()
        .zip(&per_place)
        .map(|(&x, &c)| f64::from(x) * c)
        .sum();
    trace(|| format!("  moving places to cheaper sites: {value} after {moves} moves"));
    (moves > 0).then_some((state.fill.plan, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::{city, site};
    use crate::generate::rng::Rng;
    use crate::model::Spacing;
    use crate::solve::model::prepare::Prepared;
    use crate::spatial::Geography;

    /// Random cities of four districts with spacing, all-or-nothing sites and a cost per
    /// place, solved for shortfall, evenness and spread. From that plan the descent for the
    /// cost stage keeps every rule (by the independent checker), the number of places, the
    /// evenness bound and the spread optimum; its value is what it reports, below the
    /// start's, and never below the cost stage's optimum of the full solve.
    #[test]
    fn descent_keeps_every_rule_and_the_earlier_stages() {
        let (mut cities, mut moved) = (0, 0);
        for seed in 0..40u64 {
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
                s.cost = Some(rng.int(100, 900) as f64);
                sites.push(s);
            }
            let demand = rng.int(20, 120);
            let mut instance = city(&[1000.0, 2500.0, 4000.0, 3000.0], sites, demand);
            instance.rules.spacing = Some(Spacing {
                metres: 200.0,
                max_places: rng.int(30, 80) as u32,
            });
            instance.objective.spread_metres = Some(150.0);
            instance.stages = vec![Stage::Shortfall, Stage::Evenness, Stage::Spread];
            let geography = Geography::of(&instance);
            let prepared = Prepared::new(&instance, &geography);
            let Ok(solution) = crate::solve::solve(&instance, &prepared) else {
                continue;
            };
            let bounds: Bounds = solution
                .stages
                .iter()
                .map(|&(stage, value)| (stage, value + 1e-6 * value.abs().max(1.0)))
                .collect();
            let mut full = instance.clone();
            full.stages.push(Stage::Cost);
            let optimum = crate::solve::solve(&full, &Prepared::new(&full, &geography))
                .expect("the same city with one stage more")
                .stages
                .iter()
                .find(|(stage, _)| *stage == Stage::Cost)
                .map(|&(_, value)| value)
                .expect("a cost stage");
            cities += 1;
            let lookups = Lookups::new(&instance, &prepared);
            let Some((plan, value)) =
                cheaper_by_moves(&lookups, &solution.plan, &bounds, Stage::Cost, None)
            else {
                continue;
            };
            moved += 1;
            let tag = format!("seed {seed}");
            let report = crate::check::check_plan(&instance, &geography, &plan);
            assert!(
                report.violations.is_empty(),
                "{tag}: {:?}",
                report.violations
            );
            let placed = |p: &Plan| p.places.iter().map(|&x| u64::from(x)).sum::<u64>();
            assert_eq!(placed(&plan), placed(&solution.plan), "{tag}");
            let upper = |stage: Stage| bounds.iter().find(|(s, _)| *s == stage).unwrap().1;
            let evenness: f64 = (0..instance.districts.len())
                .map(|d| {
                    let new: u32 = (0..plan.places.len())
                        .filter(|&s| prepared.site_district[s] == Some(d as u32))
                        .map(|s| plan.places[s])
                        .sum();
                    (prepared.district_existing[d] + f64::from(new) - prepared.target[d]).abs()
                })
                .sum();
            assert!(
                evenness <= upper(Stage::Evenness),
                "{tag}: evenness {evenness}"
            );
            let most = prepared.spread_balls(&instance).most_new(&instance, &plan);
            assert!(most as f64 <= upper(Stage::Spread), "{tag}: spread {most}");
            let cost = |p: &Plan| -> f64 {
                p.places
                    .iter()
                    .zip(&instance.sites)
                    .map(|(&x, s)| f64::from(x) * s.cost.unwrap_or(0.0))
                    .sum()
            };
            assert!((value - cost(&plan)).abs() < 1e-6, "{tag}");
            assert!(value < cost(&solution.plan), "{tag}");
            assert!(
                value >= optimum - 1e-6 * optimum.max(1.0),
                "{tag}: {value} < {optimum}"
            );
        }
        assert!(cities >= 30, "only {cities} of 40 cities solved");
        assert!(
            moved * 2 >= cities,
            "the descent moved in only {moved} of {cities}"
        );
    }
}
