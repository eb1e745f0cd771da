//! Hand-computed walks on small networks.

use super::*;
use crate::model::*;

fn line(id: &str, points: &[[f64; 2]]) -> StreetLine {
    StreetLine {
        id: id.into(),
        points: points.to_vec(),
    }
}

fn streets(lines: Vec<StreetLine>) -> Streets {
    Streets {
        lines,
        max_snap_m: 300.0,
    }
}

fn site(id: &str, position: [f64; 2]) -> Site {
    Site {
        id: id.into(),
        position,
        capacity: 10,
        status: SiteStatus::Candidate,
        occupied: 0,
        min_places: 0,
        cost: None,
    }
}

fn city(sites: Vec<Site>, schools: &[[f64; 2]], network: Streets) -> Instance {
    Instance {
        name: "t".into(),
        districts: Vec::new(),
        sites,
        facilities: vec![FacilityLayer {
            kind: "school".into(),
            facilities: schools
                .iter()
                .enumerate()
                .map(|(i, &position)| Facility {
                    id: format!("G{i}"),
                    position,
                    seats: None,
                })
                .collect(),
        }],
        metric_crs: "EPSG:25832".into(),
        demand: 0,
        levels: Vec::new(),
        rules: Rules::default(),
        stages: Stage::DEFAULT.to_vec(),
        objective: ObjectiveOptions::default(),
        solver: SolverOptions::default(),
        network: Some(network),
    }
}

fn walk(instance: &Instance) -> Vec<Option<(u32, f64)>> {
    let walks = Walks::new(instance.network.as_ref().unwrap(), instance);
    walks.nearest()[0]
        .iter()
        .map(|n| n.map(|n| (n.facility, n.metres)))
        .collect()
}

fn close(found: Option<(u32, f64)>, facility: u32, metres: f64) {
    let (f, m) = found.expect("a walk");
    assert_eq!(f, facility);
    assert!((m - metres).abs() < 1e-6, "{m} m, expected {metres} m");
}

/// A river along y = 0 with one bridge at x = 600: the bank streets run along y = ±100 and
/// join the bridge's ends; the site and the school face each other 200 m apart.
fn river() -> Streets {
    streets(vec![
        line("Nordufer", &[[0.0, 100.0], [600.0, 100.0], [1000.0, 100.0]]),
        line(
            "Südufer",
            &[[0.0, -100.0], [600.0, -100.0], [1000.0, -100.0]],
        ),
        line("Brücke", &[[600.0, 100.0], [600.0, -100.0]]),
    ])
}

#[test]
fn the_walk_goes_round_by_the_bridge() {
    let instance = city(vec![site("S", [0.0, 110.0])], &[[0.0, -110.0]], river());
    // 10 m onto the street, 600 m to the bridge, 200 m across, 600 m back, 10 m off.
    close(walk(&instance)[0], 0, 1420.0);
}

#[test]
fn two_joints_on_one_segment_are_joined_along_it() {
    let network = streets(vec![line("Weg", &[[0.0, 0.0], [1000.0, 0.0]])]);
    let instance = city(
        vec![site("S", [300.0, 20.0])],
        &[[700.0, -30.0], [1000.0, 500.0]],
        network,
    );
    close(walk(&instance)[0], 0, 20.0 + 400.0 + 30.0);
}

#[test]
fn the_nearer_school_on_foot_wins_over_the_nearer_in_a_straight_line() {
    // School 0 is across the river (220 m straight, 1,420 m on foot); school 1 is on the
    // same bank 500 m away.
    let instance = city(
        vec![site("S", [0.0, 110.0])],
        &[[0.0, -110.0], [500.0, 110.0]],
        river(),
    );
    close(walk(&instance)[0], 1, 10.0 + 500.0 + 10.0);
}

#[test]
fn equal_walks_go_to_the_first_school() {
    let network = streets(vec![line("Weg", &[[0.0, 0.0], [1000.0, 0.0]])]);
    let instance = city(
        vec![site("S", [500.0, 0.0])],
        &[[900.0, 0.0], [100.0, 0.0]],
        network,
    );
    close(walk(&instance)[0], 0, 400.0);
}

#[test]
fn vertices_one_centimetre_apart_are_one_node() {
    // The side street ends 4 mm from the main street's vertex: joined. A second one ends
    // 3 cm away: not joined, so the school behind it cannot be reached.
    let network = streets(vec![
        line("Hauptstraße", &[[0.0, 0.0], [500.0, 0.0], [1000.0, 0.0]]),
        line("Gasse", &[[500.004, 0.0], [500.0, 400.0]]),
        line("Sackgasse", &[[1000.03, 0.0], [1400.0, 0.0]]),
    ]);
    let instance = city(
        vec![site("S", [0.0, 0.0])],
        &[[500.0, 400.0]],
        network.clone(),
    );
    close(walk(&instance)[0], 0, 900.0);
    let instance = city(vec![site("S", [0.0, 0.0])], &[[1400.0, 0.0]], network);
    // The school joins the Sackgasse (its nearest segment), which is cut off.
    assert_eq!(walk(&instance)[0], None);
}

#[test]
fn a_crossing_without_a_shared_vertex_is_no_junction() {
    // A bridge over a street: the lines cross at (500, 0) but share no vertex.
    let network = streets(vec![
        line("Straße", &[[0.0, 0.0], [1000.0, 0.0]]),
        line("Brücke", &[[500.0, -500.0], [500.0, 500.0]]),
    ]);
    let instance = city(vec![site("S", [0.0, 0.0])], &[[500.0, 500.0]], network);
    assert_eq!(walk(&instance)[0], None);
    let walks = Walks::new(instance.network.as_ref().unwrap(), &instance);
    assert_eq!(walks.graph.parts, 2);
}

#[test]
fn sites_and_schools_far_from_every_street_are_off_the_network() {
    let network = streets(vec![line("Weg", &[[0.0, 0.0], [1000.0, 0.0]])]);
    let instance = city(
        vec![site("S", [500.0, 301.0]), site("T", [500.0, 299.0])],
        &[[0.0, 0.0], [800.0, 400.0]],
        network,
    );
    let found = walk(&instance);
    assert_eq!(found[0], None);
    close(found[1], 0, 299.0 + 500.0);
    let walks = Walks::new(instance.network.as_ref().unwrap(), &instance);
    assert_eq!(walks.facilities_off_network(0), 1);
}

#[test]
fn equal_distances_to_two_segments_join_the_first_line() {
    // The site lies midway between two parallel streets; the first in the file wins.
    let network = streets(vec![
        line("B", &[[0.0, 100.0], [1000.0, 100.0]]),
        line("A", &[[0.0, -100.0], [1000.0, -100.0]]),
    ]);
    let instance = city(vec![site("S", [500.0, 0.0])], &[[0.0, 100.0]], network);
    let walks = Walks::new(instance.network.as_ref().unwrap(), &instance);
    let joint = walks.site_joints[0].unwrap();
    assert_eq!(walks.graph.segments[joint.segment as usize].line, 0);
    close(walk(&instance)[0], 0, 600.0);
}

#[test]
fn the_route_follows_the_streets() {
    let instance = city(vec![site("S", [0.0, 110.0])], &[[0.0, -110.0]], river());
    let walks = Walks::new(instance.network.as_ref().unwrap(), &instance);
    let route = walks.route(0, 0, [0.0, 110.0]).unwrap();
    assert_eq!(
        route.points,
        vec![
            [0.0, 110.0],
            [0.0, 100.0],
            [600.0, 100.0],
            [600.0, -100.0],
            [0.0, -100.0],
        ]
    );
    let length: f64 = route
        .points
        .windows(2)
        .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
        .sum();
    // The route ends at the school's joint; the last 10 m to the school are its way on.
    assert!((length + 10.0 - route.metres).abs() < 1e-9);
}
