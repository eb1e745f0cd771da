//! Stage fair on small cities worked out by hand: where places that already exist put a
//! district over its share, the gap of the others is spread in proportion to their shares,
//! in the per-district route and in the HiGHS route (all-or-nothing sites), also where the
//! relaxation's box holds no plan. Every plan goes through the checker, and the HiGHS
//! routes are compared with the reference model.

mod common;

use common::*;
use quartier::check::check_plan;
use quartier::metrics::figures;
use quartier::model::*;
use quartier::solve::{solve, solve_mip, Prepared, Solution};
use quartier::spatial::Geography;

/// A over its share through 40 occupied places; B (3,000 residents) and C (1,000) below.
/// T = 20 new + 40 = 60, targets A 12, B 36, C 12. Any split of the 20 new places between B
/// and C is equally even (sum of deviations 28 + 28); stage fair leaves deficits in
/// proportion to the shares: 28 · 36/48 = 21 and 7, so B gets 15 and C 5, both 41.7 %.
fn city(c_site: Site) -> Instance {
    let mut existing = site("E", 500.0, 500.0, 40);
    existing.status = SiteStatus::Existing;
    existing.occupied = 40;
    let mut city = instance(
        vec![
            square("A", 0.0, 0.0, 1000.0, 1000.0),
            square("B", 1000.0, 0.0, 1000.0, 3000.0),
            square("C", 2000.0, 0.0, 1000.0, 1000.0),
        ],
        vec![existing, site("SB", 1500.0, 500.0, 50), c_site],
        20,
    );
    city.stages = vec![
        Stage::Shortfall,
        Stage::Evenness,
        Stage::Fair,
        Stage::Worst,
        Stage::Cost,
    ];
    city
}

fn solved(instance: &Instance) -> (Solution, quartier::metrics::Figures) {
    let geography = Geography::of(instance);
    let prepared = Prepared::new(instance, &geography);
    let solution = solve(instance, &prepared).expect("solves");
    let report = check_plan(instance, &geography, &solution.plan);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    let f = figures(instance, &geography.site_district, &solution.plan);
    let fair = solution
        .stages
        .iter()
        .find(|(s, _)| *s == Stage::Fair)
        .expect("stage fair runs")
        .1;
    assert!(
        (fair - f.fair).abs() < 1e-9,
        "reported {fair}, figures {}",
        f.fair
    );
    (solution, f)
}

fn places(solution: &Solution) -> Vec<u32> {
    solution.plan.places.clone()
}

#[test]
fn the_gap_is_spread_in_proportion_to_the_shares() {
    let instance = city(site("SC", 2500.0, 500.0, 50));
    let (solution, f) = solved(&instance);
    assert_eq!(solution.method, "separable");
    assert_eq!(places(&solution), vec![0, 15, 5]);
    // 21² / 36 + 7² / 12
    assert!((f.fair - (441.0 / 36.0 + 49.0 / 12.0)).abs() < 1e-9);
    assert!((f.min_share_reached - 5.0 / 12.0).abs() < 1e-12);
    // B and C reach the same part of their shares.
    assert!(matches!(f.least_reached, Some(1 | 2)));

    // Without the stage, evenness alone fills B first (file order): C gets nothing.
    let mut without = instance.clone();
    without.stages = vec![Stage::Shortfall, Stage::Evenness, Stage::Worst, Stage::Cost];
    let geography = Geography::of(&without);
    let plain = solve(&without, &Prepared::new(&without, &geography)).unwrap();
    assert!(check_plan(&without, &geography, &plain.plan)
        .violations
        .is_empty());
    assert_eq!(plain.plan.places, vec![0, 20, 0]);
}

#[test]
fn all_or_nothing_sites_take_the_highs_route_through_the_box() {
    // C's only site takes 5 or nothing: the relaxation's plan (15, 5) is whole there.
    let mut row_house = site("SC", 2500.0, 500.0, 5);
    row_house.min_places = 5;
    let instance = city(row_house);
    let (solution, f) = solved(&instance);
    assert_eq!(solution.method, "mip");
    assert_eq!(places(&solution), vec![0, 15, 5]);
    assert!((f.fair - (441.0 / 36.0 + 49.0 / 12.0)).abs() < 1e-9);
    let geography = Geography::of(&instance);
    let reference = solve_mip(&instance, &Prepared::new(&instance, &geography)).unwrap();
    for ((stage, a), (_, b)) in solution.stages.iter().zip(&reference.stages) {
        assert!(
            (a - b).abs() <= 1e-6 * b.abs().max(1.0),
            "{stage:?}: {a} vs {b}"
        );
    }
}

#[test]
fn where_the_relaxations_box_holds_no_plan_the_segments_decide() {
    // C's only site takes 8 or nothing, so C cannot have the relaxation's 5: C 0 leaves
    // 16²/36 + 12²/12 = 19.1, C 8 leaves 24²/36 + 4²/12 = 17.3: B 12, C 8.
    let mut row_house = site("SC", 2500.0, 500.0, 8);
    row_house.min_places = 8;
    let instance = city(row_house);
    let (solution, f) = solved(&instance);
    assert_eq!(places(&solution), vec![0, 12, 8]);
    assert!((f.fair - (576.0 / 36.0 + 16.0 / 12.0)).abs() < 1e-9);
    let geography = Geography::of(&instance);
    let reference = solve_mip(&instance, &Prepared::new(&instance, &geography)).unwrap();
    assert!(check_plan(&instance, &geography, &reference.plan)
        .violations
        .is_empty());
    for ((stage, a), (_, b)) in solution.stages.iter().zip(&reference.stages) {
        assert!(
            (a - b).abs() <= 1e-6 * b.abs().max(1.0),
            "{stage:?}: {a} vs {b}"
        );
    }
}

#[test]
fn levels_spread_the_gap_at_every_level() {
    // Levels 10 and 20: at 10 new places (T = 50, targets 10, 30, 10) the deficits of B
    // and C, 30 in all, would be 22.5 and 7.5: B 7 or 8, C 3 or 2 (equally fair); both nest
    // into the last level's 15 and 5. The weighted stage optima equal the reference's.
    let mut instance = city(site("SC", 2500.0, 500.0, 50));
    instance.levels = vec![
        Level {
            places: 10,
            weight: 1.0,
        },
        Level {
            places: 20,
            weight: 1.0,
        },
    ];
    instance.demand = 20;
    let geography = Geography::of(&instance);
    let prepared = Prepared::new(&instance, &geography);
    let nested = solve(&instance, &prepared).unwrap();
    let reference = solve_mip(&instance, &prepared).unwrap();
    for ((stage, a), (_, b)) in nested.stages.iter().zip(&reference.stages) {
        assert!(
            (a - b).abs() <= 1e-6 * b.abs().max(1.0),
            "{stage:?}: {a} vs {b}"
        );
    }
    for (level, demand) in nested.levels.iter().zip([10, 20]) {
        let report = quartier::check::check_plan_at(&instance, &geography, &level.plan, demand);
        assert!(report.violations.is_empty(), "{:?}", report.violations);
    }
    assert_eq!(
        nested.levels[0].plan.places[1] + nested.levels[0].plan.places[2],
        10
    );
    assert!([7, 8].contains(&nested.levels[0].plan.places[1]));
    assert_eq!(nested.plan.places, vec![0, 15, 5]);
}
