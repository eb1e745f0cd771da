//! How long the checker takes on foot in a city-sized street grid. Run with
//! `cargo test --release --lib check::walk::tests::timing -- --ignored --nocapture`.

use std::time::Instant;

use geo::{polygon, MultiPolygon};

use super::super::walk_distances;
use super::{layer, network, site};
use crate::check::check_plan;
use crate::model::*;
use crate::spatial::Geography;

/// A grid of `streets` × `streets` streets 100 m apart (each street a line with a vertex at
/// every crossing), schools and Kitas (100 each) and `sites` sites scattered over it, each
/// with 1 new place; the access rule for both kinds and seats at the schools.
fn grid_city(streets: usize, sites: usize) -> (Instance, Plan) {
    let side = (streets - 1) as f64 * 100.0;
    let mut lines: Vec<Vec<[f64; 2]>> = Vec::new();
    for a in 0..streets {
        let at = a as f64 * 100.0;
        lines.push((0..streets).map(|b| [b as f64 * 100.0, at]).collect());
        lines.push((0..streets).map(|b| [at, b as f64 * 100.0]).collect());
    }
    let lines: Vec<&[[f64; 2]]> = lines.iter().map(Vec::as_slice).collect();
    // A fixed scatter: the golden ratio's multiples modulo 1.
    let scatter = |i: usize, salt: f64| {
        let u = (i as f64 * 0.618_033_988_75 + salt).fract();
        let v = (i as f64 * 0.754_877_666_2 + salt * 0.5).fract();
        [u * side, v * side]
    };
    let facilities = |kind: &str, salt: f64| {
        let ids: Vec<String> = (0..100).map(|i| format!("{kind}{i}")).collect();
        let at: Vec<(&str, [f64; 2], Option<f64>)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), scatter(i, salt), Some(40.0)))
            .collect();
        layer(kind, &at)
    };
    let area = MultiPolygon(vec![polygon![
        (x: -1.0, y: -1.0), (x: side + 1.0, y: -1.0), (x: side + 1.0, y: side + 1.0), (x: -1.0, y: side + 1.0)
    ]]);
    let instance = Instance {
        name: "grid".into(),
        districts: vec![District {
            id: "D".into(),
            name: "D".into(),
            population: 100_000.0,
            weight: 100_000.0,
            existing: 0.0,
            area_lonlat: area.clone(),
            rule: None,
            area,
        }],
        sites: (0..sites)
            .map(|i| {
                let [x, y] = scatter(i, 0.31);
                site(&format!("S{i}"), x, y, 50)
            })
            .collect(),
        facilities: vec![facilities("school", 0.11), facilities("kita", 0.77)],
        metric_crs: "EPSG:25832".into(),
        demand: sites as u64,
        rules: Rules {
            access: vec![
                Access {
                    kind: "school".into(),
                    metres: 1200.0,
                },
                Access {
                    kind: "kita".into(),
                    metres: 900.0,
                },
            ],
            seats: Some(Seats {
                kind: "school".into(),
                per_place: 0.25,
            }),
            ..Rules::default()
        },
        levels: Vec::new(),
        stages: Stage::DEFAULT.to_vec(),
        objective: ObjectiveOptions::default(),
        solver: SolverOptions::default(),
        network: network(&lines, 300.0),
    };
    let plan = Plan {
        places: vec![1; sites],
    };
    (instance, plan)
}

fn time(streets: usize, sites: usize) {
    let (instance, plan) = grid_city(streets, sites);
    let geography = Geography::of(&instance);
    let segments = 2 * streets * (streets - 1);
    let start = Instant::now();
    let all: Vec<usize> = (0..sites).collect();
    let walks = walk_distances(&instance, &all);
    let walked = start.elapsed();
    let start = Instant::now();
    let report = check_plan(&instance, &geography, &plan);
    let checked = start.elapsed();
    let reached = walks[0].iter().filter(|w| w.is_some()).count();
    println!(
        "{streets}×{streets} streets ({segments} segments), 200 facilities, {sites} sites: \
         walk_distances {:.3} s, check_plan {:.3} s ({} violations, {reached} sites reach a school)",
        walked.as_secs_f64(),
        checked.as_secs_f64(),
        report.violations.len()
    );
    assert_eq!(reached, sites);
}

#[test]
#[ignore = "a timing, not a test: run with --ignored --nocapture"]
fn walks_in_a_city_sized_grid() {
    time(100, 5000);
    time(123, 2000);
}
