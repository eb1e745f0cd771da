//! Small cities whose optimum is worked out by hand (in the comments). Every solved plan is
//! also run through the independent checker.

mod common;

use common::*;
use quartier::check::check_plan;
use quartier::explain::{limited_by, shortfall_reasons};
use quartier::metrics::figures;
use quartier::model::*;
use quartier::solve::{solve, Prepared, Solution, SolveStatus};
use quartier::spatial::Geography;

struct Solved {
    solution: Solution,
    limited_by: Vec<&'static str>,
    reasons: Vec<(&'static str, u64)>,
}

fn solved(instance: &Instance) -> Solved {
    let geography = Geography::of(instance);
    let prepared = Prepared::new(instance, &geography);
    let solution = solve(instance, &prepared).expect("solves");
    let report = check_plan(instance, &geography, &solution.plan);
    assert!(
        report.violations.is_empty(),
        "checker found: {:?}",
        report
            .violations
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
    );
    let f = figures(instance, &geography.site_district, &solution.plan);
    assert!((f.evenness - stage(&solution, Stage::Evenness)).abs() < 1e-6);
    Solved {
        limited_by: limited_by(instance, &prepared, &solution.plan),
        reasons: shortfall_reasons(instance, &prepared, f.shortfall),
        solution,
    }
}

fn stage(solution: &Solution, stage: Stage) -> f64 {
    solution
        .stages
        .iter()
        .find(|(s, _)| *s == stage)
        .map(|(_, v)| *v)
        .expect("stage was run")
}

fn reason(solved: &Solved, key: &str) -> u64 {
    solved.reasons.iter().find(|(k, _)| *k == key).unwrap().1
}

#[test]
fn places_follow_the_population() {
    // 3,000 : 1,000 residents, 40 places → 30 and 10, every district exactly at its share.
    let inst = instance(
        vec![
            square("A", 0.0, 0.0, 1000.0, 3000.0),
            square("B", 1000.0, 0.0, 1000.0, 1000.0),
        ],
        vec![site("S1", 500.0, 500.0, 40), site("S2", 1500.0, 500.0, 40)],
        40,
    );
    let s = solved(&inst);
    assert_eq!(s.solution.status, SolveStatus::Optimal);
    assert_eq!(s.solution.plan.places, vec![30, 10]);
    assert_eq!(stage(&s.solution, Stage::Shortfall), 0.0);
    assert!(stage(&s.solution, Stage::Evenness).abs() < 1e-9);
}

#[test]
fn a_full_site_limits_its_district() {
    // A (3,000) can take only 10; targets 30/10. Evenness 60 − 2·a_A is least at a_A = 10:
    // (30 − 10) + (30 − 10) = 40, D = 40 / (2·40) = 0.5.
    let inst = instance(
        vec![
            square("A", 0.0, 0.0, 1000.0, 3000.0),
            square("B", 1000.0, 0.0, 1000.0, 1000.0),
        ],
        vec![site("S1", 500.0, 500.0, 10), site("S2", 1500.0, 500.0, 50)],
        40,
    );
    let s = solved(&inst);
    assert_eq!(s.solution.plan.places, vec![10, 30]);
    assert!((stage(&s.solution, Stage::Evenness) - 40.0).abs() < 1e-6);
    assert_eq!(s.limited_by[0], "site_caps");
    let geography = Geography::of(&inst);
    let f = figures(&inst, &geography.site_district, &s.solution.plan);
    assert!((f.dissimilarity - 0.5).abs() < 1e-9);
}

#[test]
fn share_caps_leave_a_shortfall_they_account_for() {
    // 1 % share: A ≤ 30, B ≤ 10, so 40 of 50 fit; shortfall 10, all due to share caps.
    // Targets 37.5/12.5 → evenness 7.5 + 2.5 = 10.
    let mut inst = instance(
        vec![
            square("A", 0.0, 0.0, 1000.0, 3000.0),
            square("B", 1000.0, 0.0, 1000.0, 1000.0),
        ],
        vec![site("S1", 500.0, 500.0, 50), site("S2", 1500.0, 500.0, 50)],
        50,
    );
    inst.rules.max_share = Some(0.01);
    let s = solved(&inst);
    assert_eq!(s.solution.plan.places, vec![30, 10]);
    assert_eq!(stage(&s.solution, Stage::Shortfall), 10.0);
    assert!((stage(&s.solution, Stage::Evenness) - 10.0).abs() < 1e-6);
    assert_eq!(s.limited_by, vec!["share_cap", "share_cap"]);
    assert_eq!(reason(&s, "share_cap"), 10);
    assert_eq!(s.reasons.iter().map(|(_, n)| n).sum::<u64>(), 10);
}

#[test]
fn a_district_without_sites_says_no_sites() {
    // Targets 10/10/20; C has no site: evenness 20 (C) + 20 (A and B together hold 40).
    let inst = instance(
        vec![
            square("A", 0.0, 0.0, 1000.0, 1000.0),
            square("B", 1000.0, 0.0, 1000.0, 1000.0),
            square("C", 2000.0, 0.0, 1000.0, 2000.0),
        ],
        vec![site("S1", 500.0, 500.0, 50), site("S2", 1500.0, 500.0, 50)],
        40,
    );
    let s = solved(&inst);
    assert!((stage(&s.solution, Stage::Evenness) - 40.0).abs() < 1e-6);
    assert!((stage(&s.solution, Stage::Worst) - 20.0).abs() < 1e-6);
    assert_eq!(s.limited_by[2], "no_sites");
}

#[test]
fn row_houses_are_used_fully_or_not_at_all() {
    // Targets 3/3. The row house in A takes 0 or 10 and 10 > demand 6: all 6 go to B.
    let mut row_house = site("R1", 500.0, 500.0, 10);
    row_house.min_places = 10;
    let inst = instance(
        vec![
            square("A", 0.0, 0.0, 1000.0, 1000.0),
            square("B", 1000.0, 0.0, 1000.0, 1000.0),
        ],
        vec![row_house, site("F1", 1500.0, 500.0, 10)],
        6,
    );
    let s = solved(&inst);
    assert_eq!(s.solution.plan.places, vec![0, 6]);
    assert!((stage(&s.solution, Stage::Evenness) - 6.0).abs() < 1e-6);
}

#[test]
fn row_houses_filled_when_demand_allows() {
    // Targets 10/10 of 20. Row house (10) in A and flat (10) in B: exactly even.
    let mut row_house = site("R1", 500.0, 500.0, 10);
    row_house.min_places = 10;
    let inst = instance(
        vec![
            square("A", 0.0, 0.0, 1000.0, 1000.0),
            square("B", 1000.0, 0.0, 1000.0, 1000.0),
        ],
        vec![row_house, site("F1", 1500.0, 500.0, 10)],
        20,
    );
    let s = solved(&inst);
    assert_eq!(s.solution.plan.places, vec![10, 10]);
}

#[test]
fn spacing_keeps_sites_apart() {
    // Three sites within 100 m in A, at most 60 places within 200 m: A gets 60 instead of
    // its target 75; B 40 instead of 25. Evenness 15 + 15 = 30.
    let mut inst = instance(
        vec![
            square("A", 0.0, 0.0, 1000.0, 3000.0),
            square("B", 1000.0, 0.0, 1000.0, 1000.0),
        ],
        vec![
            site("S1", 500.0, 500.0, 50),
            site("S2", 550.0, 500.0, 50),
            site("S3", 500.0, 550.0, 50),
            site("S4", 1500.0, 500.0, 50),
        ],
        100,
    );
    inst.rules.spacing = Some(Spacing {
        metres: 200.0,
        max_places: 60,
    });
    let s = solved(&inst);
    let placed_a: u32 = s.solution.plan.places[..3].iter().sum();
    assert_eq!(placed_a, 60);
    assert_eq!(s.solution.plan.places[3], 40);
    assert!((stage(&s.solution, Stage::Evenness) - 30.0).abs() < 1e-6);
    assert_eq!(s.limited_by[0], "spacing");
}

#[test]
fn time_limit_with_spacing_returns_the_plan_that_keeps_every_rule() {
    // As above, with no time at all: the solve stops before its plan keeps every
    // neighbourhood, and the greedy plan that proved the shortfall stage is returned with
    // the time limit's status. It keeps every rule and places the whole demand.
    let mut inst = instance(
        vec![
            square("A", 0.0, 0.0, 1000.0, 3000.0),
            square("B", 1000.0, 0.0, 1000.0, 1000.0),
        ],
        vec![
            site("S1", 500.0, 500.0, 50),
            site("S2", 550.0, 500.0, 50),
            site("S3", 500.0, 550.0, 50),
            site("S4", 1500.0, 500.0, 50),
        ],
        100,
    );
    inst.rules.spacing = Some(Spacing {
        metres: 200.0,
        max_places: 60,
    });
    inst.solver.time_limit_s = Some(1e-12);
    let geography = Geography::of(&inst);
    let prepared = Prepared::new(&inst, &geography);
    let solution = solve(&inst, &prepared).expect("a plan, not an error");
    assert_eq!(solution.status, SolveStatus::TimeLimit);
    let report = check_plan(&inst, &geography, &solution.plan);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!(solution.plan.placed(), 100);
    assert_eq!(stage(&solution, Stage::Shortfall), 0.0);
}

#[test]
fn existing_places_count_towards_the_fair_share() {
    // T = 20 new + 20 occupied = 40, targets 20/20; A already holds 20: all new go to B.
    let mut existing = site("E1", 500.0, 500.0, 30);
    existing.status = SiteStatus::Existing;
    existing.occupied = 20;
    let inst = instance(
        vec![
            square("A", 0.0, 0.0, 1000.0, 1000.0),
            square("B", 1000.0, 0.0, 1000.0, 1000.0),
        ],
        vec![existing, site("S2", 1500.0, 500.0, 50)],
        20,
    );
    let s = solved(&inst);
    assert_eq!(s.solution.plan.places, vec![0, 20]);
    assert!(stage(&s.solution, Stage::Evenness).abs() < 1e-6);
}

#[test]
fn districts_below_their_share_are_told_why() {
    // T = 20 new + 40 occupied = 60, targets 20/20/20. A already holds 40, so B and C
    // together can reach only 20 of their 40: evenness is 40 whichever way the 20 go, and
    // each of B and C that stays below its share, with room left, is `existing_elsewhere`.
    // With stage fair the deficit is shared: 10 and 10.
    let mut existing = site("E1", 500.0, 500.0, 50);
    existing.status = SiteStatus::Existing;
    existing.occupied = 40;
    let districts = || {
        vec![
            square("A", 0.0, 0.0, 1000.0, 1000.0),
            square("B", 1000.0, 0.0, 1000.0, 1000.0),
            square("C", 2000.0, 0.0, 1000.0, 1000.0),
        ]
    };
    let sites = vec![
        existing,
        site("S2", 1500.0, 500.0, 50),
        site("S3", 2500.0, 500.0, 50),
    ];
    let mut inst = instance(districts(), sites, 20);
    let with_fair = vec![
        Stage::Shortfall,
        Stage::Evenness,
        Stage::Fair,
        Stage::Worst,
        Stage::Cost,
    ];
    for stages in [Stage::DEFAULT.to_vec(), with_fair] {
        inst.stages = stages;
        let s = solved(&inst);
        assert_eq!(s.limited_by[0], "", "A is over its share, with room left");
        let places = &s.solution.plan.places;
        for (d, &new) in [places[1], places[2]].iter().enumerate() {
            let expected = if new < 20 { "existing_elsewhere" } else { "" };
            assert_eq!(s.limited_by[d + 1], expected, "district {}", d + 1);
        }
        if inst.stages.contains(&Stage::Fair) {
            assert_eq!(places, &vec![0, 10, 10]);
        }
    }
    // A plan short of the demand gives no such reason: the places are short then.
    let shortfall = quartier::model::Plan {
        places: vec![0, 5, 5],
    };
    let geography = Geography::of(&inst);
    let prepared = Prepared::new(&inst, &geography);
    assert_eq!(limited_by(&inst, &prepared, &shortfall), vec!["", "", ""]);
}

#[test]
fn access_rule_excludes_far_sites() {
    // Only S1 is within 500 m of a school: all 20 places go to A; evenness 10 + 10.
    let mut inst = instance(
        vec![
            square("A", 0.0, 0.0, 1000.0, 1000.0),
            square("B", 1000.0, 0.0, 1000.0, 1000.0),
        ],
        vec![site("S1", 500.0, 500.0, 50), site("S2", 1500.0, 500.0, 50)],
        20,
    );
    inst.facilities = vec![FacilityLayer {
        kind: "school".into(),
        facilities: vec![Facility {
            id: "G1".into(),
            position: [400.0, 500.0],
            seats: None,
        }],
    }];
    inst.rules.access = vec![Access {
        kind: "school".into(),
        metres: 500.0,
    }];
    let s = solved(&inst);
    assert_eq!(s.solution.plan.places, vec![20, 0]);
    assert!((stage(&s.solution, Stage::Evenness) - 20.0).abs() < 1e-6);
    assert_eq!(s.limited_by[1], "access");
}

#[test]
fn cost_decides_between_equally_even_plans() {
    // One district, two sites; the cheaper one (listed second) takes all 20 places.
    let mut dear = site("D", 400.0, 500.0, 20);
    dear.cost = Some(200.0);
    let mut cheap = site("C", 600.0, 500.0, 20);
    cheap.cost = Some(100.0);
    let inst = instance(
        vec![square("A", 0.0, 0.0, 1000.0, 1000.0)],
        vec![dear, cheap],
        20,
    );
    let s = solved(&inst);
    assert_eq!(s.solution.plan.places, vec![0, 20]);
    assert!((stage(&s.solution, Stage::Cost) - 2000.0).abs() < 1e-6);
}

#[test]
fn school_seats_limit_places_nearby() {
    // 5 free seats at 0.25 children per place: at most 20 places around school G1 (A);
    // targets 30/30 → A 20, B 40, evenness 20.
    let mut inst = instance(
        vec![
            square("A", 0.0, 0.0, 1000.0, 1000.0),
            square("B", 1000.0, 0.0, 1000.0, 1000.0),
        ],
        vec![site("S1", 500.0, 500.0, 50), site("S2", 1500.0, 500.0, 50)],
        60,
    );
    inst.facilities = vec![FacilityLayer {
        kind: "school".into(),
        facilities: vec![
            Facility {
                id: "G1".into(),
                position: [500.0, 400.0],
                seats: Some(5.0),
            },
            Facility {
                id: "G2".into(),
                position: [1500.0, 400.0],
                seats: None,
            },
        ],
    }];
    inst.rules.seats = Some(Seats {
        kind: "school".into(),
        per_place: 0.25,
    });
    let s = solved(&inst);
    assert_eq!(s.solution.plan.places, vec![20, 40]);
    assert!((stage(&s.solution, Stage::Evenness) - 20.0).abs() < 1e-6);
    assert_eq!(s.limited_by[0], "seats");
}

#[test]
fn sites_outside_every_district_are_excluded_not_dropped() {
    let inst = instance(
        vec![square("A", 0.0, 0.0, 1000.0, 1000.0)],
        vec![site("IN", 500.0, 500.0, 10), site("OUT", 5000.0, 500.0, 50)],
        20,
    );
    let s = solved(&inst);
    assert_eq!(s.solution.plan.places, vec![10, 0]);
    assert_eq!(stage(&s.solution, Stage::Shortfall), 10.0);
    let geography = Geography::of(&inst);
    let prepared = Prepared::new(&inst, &geography);
    assert!(prepared.exclusion_counts().contains(&("outside", 1)));
    assert_eq!(reason(&s, "no_capacity"), 10);
}

#[test]
fn many_sites_split_in_file_order_within_a_district() {
    // Aggregated sites: 25 places over sites of 10 in file order → 10, 10, 5, 0.
    let inst = instance(
        vec![square("A", 0.0, 0.0, 1000.0, 1000.0)],
        (0..4)
            .map(|i| site(&format!("S{i}"), 100.0 + 100.0 * i as f64, 500.0, 10))
            .collect(),
        25,
    );
    let s = solved(&inst);
    assert_eq!(s.solution.plan.places, vec![10, 10, 5, 0]);
    assert_eq!(s.solution.size.aggregated_sites, 4);
}

#[test]
fn marginal_value_predicts_the_gain_of_more_capacity() {
    // A (target 30) holds only 10; one more place of capacity in A moves a place from B
    // (above target) to A (below): the evenness sum falls by 2, as the marginal value says.
    let city = |cap_a: u32| {
        instance(
            vec![
                square("A", 0.0, 0.0, 1000.0, 3000.0),
                square("B", 1000.0, 0.0, 1000.0, 1000.0),
            ],
            vec![
                site("S1", 500.0, 500.0, cap_a),
                site("S2", 1500.0, 500.0, 50),
            ],
            40,
        )
    };
    for use_highs in [false, true] {
        let run = |inst: &Instance| {
            let geography = Geography::of(inst);
            let prepared = Prepared::new(inst, &geography);
            let solution = if use_highs {
                quartier::solve::solve_mip(inst, &prepared).unwrap()
            } else {
                solve(inst, &prepared).unwrap()
            };
            assert!(check_plan(inst, &geography, &solution.plan)
                .violations
                .is_empty());
            solution
        };
        let before = run(&city(10));
        let values = before.marginal_values.clone().expect("marginal values");
        assert!(
            (values[0] - 2.0).abs() < 1e-6,
            "highs {use_highs}: {values:?}"
        );
        assert_eq!(values[1], 0.0);
        let after = run(&city(11));
        let gain = stage(&before, Stage::Evenness) - stage(&after, Stage::Evenness);
        assert!((gain - values[0]).abs() < 1e-6, "gain {gain}");
    }
}

#[test]
fn an_all_or_nothing_site_does_not_hide_a_nearer_one() {
    // Two districts; demand 5 and 1 place already at the existing S4, so T = 6: D0 (1,743
    // residents) gets 2 new places and D1 (3,179) 3 at the evenness optimum. The school is
    // at (0, 390). D0 can take its 2 at S3 (120 m away: 239 m·places), at S1 (390 m: 780)
    // or at the all-or-nothing S0 (min 2, 696 m: 1,392); D1 takes 1 at S5 and 2 at S2
    // (1,959 + 4,037). The access optimum is 239 + 1,959 + 4,037 = 6,236. HiGHS 1.16's
    // presolve reduced the full model's access MIP to nothing and called 7,389 (S0)
    // optimal with gap 0; small MIPs are therefore also solved without presolve.
    let mut sites = vec![
        site("S0", 576.627, 0.0, 3),
        site("S1", 0.0, 0.0, 2),
        site("S2", 1999.0, 671.422, 4),
        site("S3", 0.0, 270.308, 2),
        site("S4", 1999.0, 0.0, 2),
        site("S5", 1920.258, 0.0, 1),
    ];
    sites[0].min_places = 2;
    sites[2].cost = Some(1.0);
    for (s, occupied) in [(4, 1), (5, 0)] {
        sites[s].status = SiteStatus::Existing;
        sites[s].occupied = occupied;
    }
    let mut inst = instance(
        vec![
            square("D0", 0.0, 0.0, 1000.0, 1743.0),
            square("D1", 1000.0, 0.0, 1000.0, 3179.0),
        ],
        sites,
        5,
    );
    inst.facilities = vec![FacilityLayer {
        kind: "school".into(),
        facilities: vec![Facility {
            id: "F0".into(),
            position: [0.0, 390.008],
            seats: None,
        }],
    }];
    inst.rules.spacing = Some(Spacing {
        metres: 943.453,
        max_places: 4,
    });
    inst.stages = vec![Stage::Shortfall, Stage::Evenness, Stage::Access];
    inst.solver.mip_gap = 1e-6;
    let geography = Geography::of(&inst);
    let prepared = Prepared::new(&inst, &geography);
    let fast = solved(&inst).solution;
    let full = quartier::solve::solve_mip(&inst, &prepared).unwrap();
    assert!(check_plan(&inst, &geography, &full.plan)
        .violations
        .is_empty());
    for solution in [&fast, &full] {
        assert_eq!(solution.plan.places, vec![0, 0, 2, 2, 0, 1]);
        assert!((stage(solution, Stage::Access) - 6236.28).abs() < 0.1);
    }
}
