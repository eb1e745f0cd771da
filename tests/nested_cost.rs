//! The bound on nested cost and the refill of districts for cost (demand levels), on random
//! small cities with row houses (a minimum equal to the room: all or nothing), sites with a
//! smaller minimum, costs and spacing: the bound never lies above the full model's optimum,
//! and a refill keeps every rule (the independent checker) and each district's places.

mod common;

use common::*;
use proptest::prelude::*;
use quartier::check::check_levels;
use quartier::model::*;
use quartier::solve::{levels_stage_bounds, refill_for_cost, solve, solve_mip, Prepared, Solution};
use quartier::spatial::Geography;

/// Two or three districts, sites of every kind, two to four levels.
fn arb_levels_city() -> impl Strategy<Value = Instance> {
    let sites = prop::collection::vec(
        (
            0.0f64..3000.0,
            0.0f64..700.0,
            2u32..=6,
            prop::option::of(0u32..20),
            0u8..6,
        ),
        4..=11,
    );
    (
        prop::collection::vec(100u32..5000, 2..=3),
        sites,
        prop::option::of((300.0f64..1200.0, 4u32..=10)),
        prop::collection::btree_set(1u64..=18, 2..=4),
        prop::collection::vec(0.2f64..3.0, 4),
        any::<bool>(),
    )
        .prop_map(|(pops, raw_sites, spacing, levels, weights, fair)| {
            let (districts, width) = districts_in_a_row(&pops);
            let sites = raw_sites
                .into_iter()
                .enumerate()
                .map(|(i, (x, y, cap, cost, kind))| {
                    let mut s = site(&format!("S{i}"), x.min(width - 1.0), y, cap);
                    s.cost = cost.map(f64::from);
                    match kind {
                        0 | 1 => s.min_places = cap,
                        2 => s.min_places = 2,
                        3 => {
                            s.status = SiteStatus::Existing;
                            s.occupied = cap / 2;
                        }
                        _ => {}
                    }
                    s
                })
                .collect();
            let levels: Vec<Level> = levels
                .iter()
                .zip(&weights)
                .map(|(&places, &weight)| Level { places, weight })
                .collect();
            let mut inst = instance(districts, sites, levels.last().unwrap().places);
            inst.rules.max_per_site = 6;
            inst.rules.spacing = spacing.map(|(metres, max_places)| Spacing { metres, max_places });
            inst.levels = levels;
            inst.stages = if fair {
                vec![
                    Stage::Shortfall,
                    Stage::Evenness,
                    Stage::Fair,
                    Stage::Worst,
                    Stage::Cost,
                ]
            } else {
                vec![Stage::Shortfall, Stage::Evenness, Stage::Cost]
            };
            inst
        })
}

fn plans_of(solution: &Solution) -> Vec<Plan> {
    solution.levels.iter().map(|l| l.plan.clone()).collect()
}

fn assert_keeps_every_rule(
    instance: &Instance,
    geography: &Geography,
    plans: &[Plan],
) -> Result<(), TestCaseError> {
    let report = check_levels(instance, geography, plans);
    let all: Vec<String> = report
        .violations()
        .iter()
        .map(|(l, v)| format!("{l:?}: {v}"))
        .collect();
    prop_assert!(all.is_empty(), "{:?}", all);
    Ok(())
}

/// Σ_l ω_l Σ_s c_s x_s^l.
fn nested_cost(instance: &Instance, plans: &[Plan]) -> f64 {
    plans
        .iter()
        .zip(&instance.levels)
        .map(|(plan, level)| {
            let cost: f64 = instance
                .sites
                .iter()
                .zip(&plan.places)
                .map(|(s, &x)| s.cost.unwrap_or(0.0) * f64::from(x))
                .sum();
            level.weight * cost
        })
        .sum()
}

/// Each level's new places per district.
fn district_places(instance: &Instance, geography: &Geography, plans: &[Plan]) -> Vec<Vec<u32>> {
    plans
        .iter()
        .map(|plan| {
            let mut places = vec![0; instance.districts.len()];
            for (s, &x) in plan.places.iter().enumerate() {
                if let Some(d) = geography.site_district[s] {
                    places[d as usize] += x;
                }
            }
            places
        })
        .collect()
}

/// True when the solution is at the bounds in every stage before cost: only then do they
/// bound cost.
fn at_bounds_before_cost(solution: &Solution, bounds: &[(Stage, f64)]) -> bool {
    solution
        .stages
        .iter()
        .zip(bounds)
        .take_while(|((stage, _), _)| *stage != Stage::Cost)
        .all(|((_, value), (_, bound))| *value <= bound + 1e-9 * bound.abs().max(1.0))
}

fn cost_of(stages: &[(Stage, f64)]) -> Option<f64> {
    stages
        .iter()
        .find(|(s, _)| *s == Stage::Cost)
        .map(|&(_, v)| v)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// The bound on nested cost (the levels' fallback judges its gap by it) never lies
    /// above the cost optimum of the full model, wherever that is at the levels' own
    /// optima in the stages before (the checker accepts its plans).
    #[test]
    fn the_nested_cost_bound_is_below_the_optimum(instance in arb_levels_city()) {
        prop_assume!(instance.sites.iter().any(|s| s.cost.is_some()));
        let geography = Geography::of(&instance);
        let prepared = Prepared::new(&instance, &geography);
        let full = solve_mip(&instance, &prepared).unwrap();
        assert_keeps_every_rule(&instance, &geography, &plans_of(&full))?;
        let optimum = cost_of(&full.stages).unwrap();
        // The prices of the levels' counts move towards the optimum (the steepest steps).
        let Some(bounds) = levels_stage_bounds(&instance, &prepared, Some(optimum)).unwrap() else {
            return Ok(());
        };
        prop_assume!(at_bounds_before_cost(&full, &bounds));
        let bound = cost_of(&bounds).unwrap();
        prop_assert!(
            bound <= optimum + 1e-6 * optimum.abs().max(1.0),
            "nested cost bound {} above the optimum {}",
            bound,
            optimum
        );
    }

    /// Plans solved without the stage cost, refilled for cost: every rule still holds, each
    /// district keeps its places at every level, the cost falls by what is reported saved,
    /// and it stays at or above the bound.
    #[test]
    fn a_refill_keeps_the_rules_and_the_districts_places(instance in arb_levels_city()) {
        prop_assume!(instance.sites.iter().any(|s| s.cost.is_some()));
        let geography = Geography::of(&instance);
        let mut without_cost = instance.clone();
        without_cost.stages.retain(|&s| s != Stage::Cost);
        let prepared = Prepared::new(&without_cost, &geography);
        let solution = solve_mip(&without_cost, &prepared).unwrap();
        let mut plans = plans_of(&solution);
        let before = nested_cost(&instance, &plans);
        let places = district_places(&instance, &geography, &plans);
        let prepared = Prepared::new(&instance, &geography);
        let saved = refill_for_cost(&instance, &prepared, &mut plans);
        assert_keeps_every_rule(&instance, &geography, &plans)?;
        prop_assert_eq!(district_places(&instance, &geography, &plans), places);
        let after = nested_cost(&instance, &plans);
        prop_assert!(saved >= 0.0);
        prop_assert!((before - after - saved).abs() <= 1e-6 * before.abs().max(1.0));
        if let Some(bounds) = levels_stage_bounds(&instance, &prepared, Some(after)).unwrap() {
            if at_bounds_before_cost(&solution, &bounds) {
                let bound = cost_of(&bounds).unwrap();
                prop_assert!(after >= bound - 1e-6 * bound.abs().max(1.0), "{} below the bound {}", after, bound);
            }
        }
    }

    /// With cost right after the stages that count districts' places, the levels' route
    /// solves cost on the districts' totals (row houses by their count, sites with a smaller
    /// minimum by site, spacing balls and schools entering where a plan breaks them): its
    /// optima are those of the full model, and the checker accepts its plans.
    #[test]
    fn cost_on_the_districts_totals_reaches_the_full_models_optima(instance in arb_levels_city()) {
        prop_assume!(instance.sites.iter().any(|s| s.cost.is_some()));
        let geography = Geography::of(&instance);
        let prepared = Prepared::new(&instance, &geography);
        let fast = solve(&instance, &prepared).unwrap();
        let full = solve_mip(&instance, &prepared).unwrap();
        assert_keeps_every_rule(&instance, &geography, &plans_of(&fast))?;
        assert_keeps_every_rule(&instance, &geography, &plans_of(&full))?;
        prop_assert_eq!(fast.stages.len(), full.stages.len());
        for ((stage, a), (_, b)) in fast.stages.iter().zip(&full.stages) {
            prop_assert!(
                (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                "{:?}: levels' route {} ({}) against the full model {}",
                stage,
                a,
                fast.method,
                b
            );
        }
    }
}
