//! Walks computed by hand, the rules that use them, a brute force on random networks and
//! the time on a city-sized grid.

use super::super::tests::{city, site};
use super::{walk_distances, Network, Unreachable, TIE_M};
use crate::check::{check_levels, check_plan, Violation};
use crate::model::*;
use crate::spatial::Geography;

fn network(lines: &[&[[f64; 2]]], max_snap_m: f64) -> Option<Streets> {
    Some(Streets {
        lines: lines
            .iter()
            .enumerate()
            .map(|(i, points)| StreetLine {
                id: format!("L{i}"),
                points: points.to_vec(),
            })
            .collect(),
        max_snap_m,
    })
}

fn layer(kind: &str, facilities: &[(&str, [f64; 2], Option<f64>)]) -> FacilityLayer {
    FacilityLayer {
        kind: kind.into(),
        facilities: facilities
            .iter()
            .map(|&(id, position, seats)| Facility {
                id: id.into(),
                position,
                seats,
            })
            .collect(),
    }
}

/// Two districts side by side (x 0–2,000 m, y 0–1,000 m) with the given sites.
fn town(sites: &[(&str, [f64; 2])]) -> Instance {
    let sites = sites
        .iter()
        .map(|&(id, [x, y])| site(id, x, y, 50))
        .collect();
    city(&[1000.0, 1000.0], sites, 100)
}

/// The walk from the first site to the nearest facility of the first layer.
fn walk(instance: &Instance) -> Option<(u32, f64)> {
    walk_distances(instance, &[0])[0][0]
}

fn assert_walk(got: Option<(u32, f64)>, facility: u32, metres: f64) {
    let (f, m) = got.unwrap_or_else(|| panic!("no walk; expected {metres} m to {facility}"));
    assert_eq!(f, facility, "facility (walk {m} m)");
    assert!((m - metres).abs() < 1e-6, "walk {m} m, expected {metres} m");
}

fn violations(instance: &Instance, places: Vec<u32>) -> Vec<Violation> {
    let geography = Geography::of(instance);
    check_plan(instance, &geography, &Plan { places }).violations
}

fn rules(violations: &[Violation]) -> Vec<&'static str> {
    violations.iter().map(Violation::rule).collect()
}

/// A river between y = 400 and y = 600 with one bridge at x = 1,500; streets along both
/// banks from x = 100. Site A on the north bank at x = 900, school G across the river.
const NORTH: &[[f64; 2]] = &[[100.0, 600.0], [1500.0, 600.0]];
const BRIDGE: &[[f64; 2]] = &[[1500.0, 600.0], [1500.0, 400.0]];
const SOUTH: &[[f64; 2]] = &[[1500.0, 400.0], [100.0, 400.0]];

fn river() -> Instance {
    let mut instance = town(&[("A", [900.0, 600.0])]);
    instance.network = network(&[NORTH, BRIDGE, SOUTH], 300.0);
    instance.facilities = vec![layer("school", &[("G", [900.0, 400.0], None)])];
    instance
}

#[test]
fn a_river_with_one_bridge_turns_200_m_into_1_400_m() {
    let mut instance = river();
    // 600 m to the bridge, 200 m over it, 600 m back.
    assert_walk(walk(&instance), 0, 1400.0);
    // A school on the site's own bank, 800 m both ways, is nearer on foot.
    instance.facilities[0]
        .facilities
        .push(layer("school", &[("H", [100.0, 600.0], None)]).facilities[0].clone());
    assert_walk(walk(&instance), 1, 800.0);
    // Without the bridge the far bank cannot be reached at all.
    instance.network = network(&[NORTH, SOUTH], 300.0);
    instance.facilities[0].facilities.pop();
    assert_eq!(walk(&instance), None);
}

#[test]
fn two_access_points_on_one_segment_are_joined_along_it() {
    let mut instance = town(&[("A", [300.0, 140.0])]);
    instance.network = network(&[&[[0.0, 100.0], [1000.0, 100.0]]], 300.0);
    instance.facilities = vec![layer("school", &[("G", [700.0, 70.0], None)])];
    // 40 m to the street, 400 m along it, 30 m to the school (by the ends: 1,070 m).
    assert_walk(walk(&instance), 0, 470.0);
}

#[test]
fn the_legs_to_the_access_points_count() {
    let mut instance = river();
    instance.sites[0].position = [900.0, 620.0];
    instance.facilities[0].facilities[0].position = [800.0, 370.0];
    // 20 m + 600 m + 200 m + 700 m + 30 m.
    assert_walk(walk(&instance), 0, 1550.0);
}

#[test]
fn a_point_as_near_two_lines_joins_the_first_in_file_order() {
    const A: &[[f64; 2]] = &[[0.0, 600.0], [1000.0, 600.0]];
    const B: &[[f64; 2]] = &[[0.0, 400.0], [1000.0, 400.0]];
    // Site at 100 m from both; GB is 10 m off line B, GA at the end of line A.
    let mut instance = town(&[("S", [500.0, 500.0])]);
    instance.facilities = vec![layer(
        "school",
        &[("GB", [500.0, 390.0], None), ("GA", [0.0, 600.0], None)],
    )];
    instance.network = network(&[A, B], 300.0);
    assert_walk(walk(&instance), 1, 600.0);
    instance.network = network(&[B, A], 300.0);
    assert_walk(walk(&instance), 0, 110.0);
}

#[test]
fn a_point_nearest_a_vertex_joins_the_first_segment_of_the_line() {
    let streets = network(&[&[[0.0, 600.0], [500.0, 600.0], [1000.0, 600.0]]], 300.0).unwrap();
    let at = Network::of(&streets).access_point([500.0, 500.0]).unwrap();
    assert_eq!((at.segment, at.along, at.leg), (0, 500.0, 100.0));
    let streets = network(&[&[[1000.0, 600.0], [500.0, 600.0], [0.0, 600.0]]], 300.0).unwrap();
    let at = Network::of(&streets).access_point([500.0, 500.0]).unwrap();
    assert_eq!((at.segment, at.along, at.leg), (0, 500.0, 100.0));
}

#[test]
fn lines_meet_where_their_vertices_agree_to_the_centimetre() {
    let t_junction = |top: [f64; 2], corner: [f64; 2]| {
        let mut instance = town(&[("A", [500.0, 100.0])]);
        instance.facilities = vec![layer("school", &[("G", [0.0, 500.0], None)])];
        instance.network = Some(Streets {
            lines: vec![
                StreetLine {
                    id: "main".into(),
                    points: vec![[0.0, 500.0], corner, [1000.0, 500.0]],
                },
                StreetLine {
                    id: "side".into(),
                    points: vec![top, [500.0, 100.0]],
                },
            ],
            max_snap_m: 300.0,
        });
        walk(&instance)
    };
    // 5 mm apart, both 500.00 when rounded to 1 cm: one node.
    let side = (0.0025f64).hypot(400.0);
    assert_walk(
        t_junction([500.0025, 500.0], [499.9975, 500.0]),
        0,
        side + 499.9975,
    );
    // 3 cm apart: two nodes, no junction (though the side street ends on the main one).
    assert_eq!(t_junction([500.03, 500.0], [500.0, 500.0]), None);
    // The model rounds: 2 mm apart across a rounding boundary (499.99 | 500.00) is no junction.
    assert_eq!(t_junction([499.996, 500.0], [499.994, 500.0]), None);
}

#[test]
fn a_crossing_without_a_shared_vertex_is_no_junction() {
    let crossing = |shared: bool| {
        let mut instance = town(&[("A", [500.0, 100.0])]);
        instance.facilities = vec![layer("school", &[("G", [0.0, 500.0], None)])];
        let (across, up): (Vec<[f64; 2]>, Vec<[f64; 2]>) = if shared {
            (
                vec![[0.0, 500.0], [500.0, 500.0], [1000.0, 500.0]],
                vec![[500.0, 100.0], [500.0, 500.0], [500.0, 900.0]],
            )
        } else {
            (
                vec![[0.0, 500.0], [1000.0, 500.0]],
                vec![[500.0, 100.0], [500.0, 900.0]],
            )
        };
        instance.network = network(&[&across, &up], 300.0);
        walk(&instance)
    };
    assert_eq!(crossing(false), None, "a bridge over a street");
    assert_walk(crossing(true), 0, 900.0);
}

#[test]
fn a_site_farther_than_max_snap_m_from_every_street_is_off_the_network() {
    let mut instance = town(&[("A", [500.0, 801.0]), ("B", [600.0, 800.0])]);
    instance.network = network(&[&[[0.0, 500.0], [1000.0, 500.0]]], 300.0);
    instance.facilities = vec![layer("school", &[("G", [0.0, 500.0], None)])];
    let walks = walk_distances(&instance, &[0, 1]);
    assert_eq!(walks[0][0], None);
    assert_walk(walks[0][1], 0, 900.0);
    instance.rules.access = vec![Access {
        kind: "school".into(),
        metres: 5000.0,
    }];
    let found = violations(&instance, vec![10, 10]);
    assert_eq!(
        found,
        vec![Violation::Unreachable {
            site: "A".into(),
            kind: "school".into(),
            why: Unreachable::SiteOffNetwork {
                metres: 301.0,
                max_snap_m: 300.0
            },
        }]
    );
    assert_eq!(found[0].rule(), "unreachable");
    assert_eq!(
        found[0].to_string(),
        "site \"A\": no school can be reached on foot (the site is 301 m from the nearest street, more than max_snap_m = 300 m)"
    );
    // A school off the network is no school on foot.
    instance.facilities[0].facilities[0].position = [0.0, 199.0];
    assert_eq!(
        violations(&instance, vec![0, 10])[0].to_string(),
        "site \"B\": no school can be reached on foot (every school is more than max_snap_m = 300 m from the street network)"
    );
}

#[test]
fn a_school_in_another_part_of_the_network_cannot_be_reached() {
    // Two parallel streets 20 m apart that never meet.
    let mut instance = town(&[("A", [500.0, 500.0])]);
    instance.network = network(
        &[
            &[[0.0, 500.0], [1000.0, 500.0]],
            &[[0.0, 520.0], [1000.0, 520.0]],
        ],
        300.0,
    );
    instance.facilities = vec![layer(
        "school",
        &[("near", [500.0, 530.0], None), ("far", [0.0, 500.0], None)],
    )];
    assert_walk(walk(&instance), 1, 500.0);
    instance.facilities[0].facilities.pop();
    assert_eq!(walk(&instance), None);
    instance.rules.access = vec![Access {
        kind: "school".into(),
        metres: 1000.0,
    }];
    let found = violations(&instance, vec![10]);
    assert_eq!(rules(&found), vec!["unreachable"]);
    assert_eq!(
        found[0].to_string(),
        "site \"A\": no school can be reached on foot (no school in its part of the street network)"
    );
}

#[test]
fn equally_near_schools_serve_by_their_order() {
    let mut instance = town(&[("A", [500.0, 500.0])]);
    instance.network = network(&[&[[0.0, 500.0], [1000.0, 500.0]]], 300.0);
    let schools = |right: f64| {
        layer(
            "school",
            &[("L", [0.0, 500.0], None), ("R", [right, 500.0], None)],
        )
    };
    instance.facilities = vec![schools(1000.0)];
    assert_walk(walk(&instance), 0, 500.0);
    // Closer by less than TIE_M: still a tie.
    instance.facilities = vec![schools(1000.0 - TIE_M / 4.0)];
    assert_eq!(walk(&instance).map(|w| w.0), Some(0));
    instance.facilities = vec![schools(999.999)];
    assert_eq!(walk(&instance).map(|w| w.0), Some(1));
}

#[test]
fn the_access_rule_on_foot_breaks_where_the_straight_line_keeps_it() {
    let mut instance = river();
    instance.rules.access = vec![Access {
        kind: "school".into(),
        metres: 1200.0,
    }];
    let found = violations(&instance, vec![10]);
    assert_eq!(rules(&found), vec!["access"]);
    assert_eq!(
        found[0].to_string(),
        "site \"A\": nearest school is 1,400 m away on foot (limit 1,200 m)"
    );
    instance.rules.access[0].metres = 1400.0;
    assert!(violations(&instance, vec![10]).is_empty());
    instance.rules.access[0].metres = 1200.0;
    instance.network = None;
    assert!(
        violations(&instance, vec![10]).is_empty(),
        "200 m in a straight line"
    );
}

#[test]
fn seats_go_to_the_nearest_school_on_foot() {
    // G across the river (200 m straight, 1,400 m on foot), H on the same bank (800 m).
    let seats = |g: f64, h: f64, on_foot: bool| {
        let mut instance = river();
        instance.facilities = vec![layer(
            "school",
            &[
                ("G", [900.0, 400.0], Some(g)),
                ("H", [100.0, 600.0], Some(h)),
            ],
        )];
        instance.rules.seats = Some(Seats {
            kind: "school".into(),
            per_place: 0.25,
        });
        if !on_foot {
            instance.network = None;
        }
        let found = violations(&instance, vec![30]);
        found
            .iter()
            .map(|v| match v {
                Violation::Seats { facility, .. } => facility.clone(),
                other => panic!("{other}"),
            })
            .collect::<Vec<_>>()
    };
    // 30 places bring 7.5 children.
    assert_eq!(seats(100.0, 5.0, true), vec!["H"]);
    assert!(seats(100.0, 5.0, false).is_empty());
    assert!(seats(5.0, 100.0, true).is_empty());
    assert_eq!(seats(5.0, 100.0, false), vec!["G"]);
}

#[test]
fn stage_access_needs_every_kind_it_names_within_reach() {
    let mut instance = river();
    instance.network = network(&[NORTH, SOUTH], 300.0);
    instance
        .facilities
        .push(layer("kita", &[("K", [100.0, 600.0], None)]));
    assert!(
        violations(&instance, vec![10]).is_empty(),
        "no rule, no stage"
    );
    instance.stages.push(Stage::Access);
    let found = violations(&instance, vec![10]);
    assert_eq!(rules(&found), vec!["unreachable"]);
    assert!(found[0].to_string().starts_with("site \"A\": no school"));
    instance.objective.access_kinds = Some(vec!["kita".into()]);
    assert!(violations(&instance, vec![10]).is_empty());
}

#[test]
fn levels_measure_the_sites_of_every_level() {
    let mut instance = river();
    instance.sites.push(site("B", 1000.0, 600.0, 50));
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
    instance.rules.access = vec![Access {
        kind: "school".into(),
        metres: 1400.0,
    }];
    let geography = Geography::of(&instance);
    let plans = [
        Plan {
            places: vec![10, 0],
        },
        Plan {
            places: vec![10, 10],
        },
    ];
    // B (1,300 m on foot) gets places at level 2 only.
    let report = check_levels(&instance, &geography, &plans);
    assert!(report.violations().is_empty(), "{:?}", report.violations());
    instance.rules.access[0].metres = 1300.0;
    let report = check_levels(&instance, &geography, &plans);
    let found: Vec<_> = report
        .violations()
        .into_iter()
        .map(|(l, v)| (l, v.to_string()))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                Some(1),
                "site \"A\": nearest school is 1,400 m away on foot (limit 1,300 m)".to_string()
            ),
            (
                Some(2),
                "site \"A\": nearest school is 1,400 m away on foot (limit 1,300 m)".to_string()
            ),
        ]
    );
}

mod brute_force;
mod timing;
