//! The street layers read back as a reader of `[input] network` reads them (MODEL.md,
//! "Distances on foot"): every vertex a node, vertices equal to 1 cm the same node.

use std::collections::{BinaryHeap, HashMap};

use super::*;
use crate::generate::geometry::{crossing, distance, distance_to_segment};
use crate::generate::{write_demo_layer, DemoSpec, GridSpec, TightGridSpec};

/// One straight piece of a line, between two nodes.
#[derive(Debug, Clone)]
struct Piece {
    a: usize,
    b: usize,
    kind: String,
    name: String,
}

/// A street layer as a graph.
struct Graph {
    nodes: Vec<Point>,
    pieces: Vec<Piece>,
    features: usize,
}

impl Graph {
    fn read(geojson: &[u8]) -> Graph {
        let value: serde_json::Value = serde_json::from_slice(geojson).unwrap();
        assert_eq!(
            value["crs"]["properties"]["name"],
            "urn:ogc:def:crs:EPSG::25832"
        );
        let mut ids: HashMap<(i64, i64), usize> = HashMap::new();
        let mut graph = Graph {
            nodes: Vec::new(),
            pieces: Vec::new(),
            features: 0,
        };
        let mut seen_ids = std::collections::HashSet::new();
        for f in value["features"].as_array().unwrap() {
            graph.features += 1;
            let properties = &f["properties"];
            assert!(seen_ids.insert(properties["id"].as_str().unwrap().to_string()));
            let kind = properties["kind"].as_str().unwrap().to_string();
            let name = properties["name"].as_str().unwrap().to_string();
            let geometry = &f["geometry"];
            let lines: Vec<&serde_json::Value> = match geometry["type"].as_str().unwrap() {
                "LineString" => vec![&geometry["coordinates"]],
                "MultiLineString" => geometry["coordinates"].as_array().unwrap().iter().collect(),
                other => panic!("{other}"),
            };
            for line in lines {
                let mut previous: Option<usize> = None;
                for c in line.as_array().unwrap() {
                    let p = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
                    let key = ((p.0 * 100.0).round() as i64, (p.1 * 100.0).round() as i64);
                    let next = graph.nodes.len();
                    let node = *ids.entry(key).or_insert(next);
                    if node == next {
                        graph.nodes.push(p);
                    }
                    if let Some(a) = previous.filter(|&a| a != node) {
                        graph.pieces.push(Piece {
                            a,
                            b: node,
                            kind: kind.clone(),
                            name: name.clone(),
                        });
                    }
                    previous = Some(node);
                }
            }
        }
        graph
    }

    fn segment(&self, piece: &Piece) -> (Point, Point) {
        (self.nodes[piece.a], self.nodes[piece.b])
    }

    /// The connected part of each node.
    fn parts(&self) -> Vec<usize> {
        let mut parent: Vec<usize> = (0..self.nodes.len()).collect();
        fn find(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for p in &self.pieces {
            let (a, b) = (find(&mut parent, p.a), find(&mut parent, p.b));
            parent[a.max(b)] = a.min(b);
        }
        (0..self.nodes.len())
            .map(|i| find(&mut parent, i))
            .collect()
    }

    /// Pieces by 100 m square, for the searches below.
    fn buckets(&self) -> HashMap<(i64, i64), Vec<usize>> {
        let mut buckets: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
        for (i, piece) in self.pieces.iter().enumerate() {
            let (a, b) = self.segment(piece);
            for kx in key(a.0.min(b.0))..=key(a.0.max(b.0)) {
                for ky in key(a.1.min(b.1))..=key(a.1.max(b.1)) {
                    buckets.entry((kx, ky)).or_default().push(i);
                }
            }
        }
        buckets
    }

    /// The closest point of the network (the first piece on ties): distance, piece, parameter.
    fn access(&self, buckets: &HashMap<(i64, i64), Vec<usize>>, p: Point) -> (f64, usize, f64) {
        let mut best = (f64::INFINITY, usize::MAX, 0.0);
        for ring in 0..60i64 {
            for kx in key(p.0) - ring..=key(p.0) + ring {
                for ky in key(p.1) - ring..=key(p.1) + ring {
                    if (kx - key(p.0)).abs().max((ky - key(p.1)).abs()) != ring {
                        continue;
                    }
                    for &i in buckets.get(&(kx, ky)).into_iter().flatten() {
                        let (a, b) = self.segment(&self.pieces[i]);
                        let (d, t) = distance_to_segment(p, a, b);
                        if (d, i) < (best.0, best.1) {
                            best = (d, i, t);
                        }
                    }
                }
            }
            if best.0 < ring as f64 * 100.0 {
                break;
            }
        }
        best
    }

    /// A function giving each point its walk to the nearest of `facilities` (MODEL.md):
    /// straight to its access point, along the network, straight from the facility's.
    fn walks_to(&self, facilities: &[Point], max_snap: f64) -> impl Fn(Point) -> f64 + '_ {
        let buckets = self.buckets();
        let mut adjacent: Vec<Vec<(usize, f64)>> = vec![Vec::new(); self.nodes.len()];
        for p in &self.pieces {
            let length = distance(self.nodes[p.a], self.nodes[p.b]);
            adjacent[p.a].push((p.b, length));
            adjacent[p.b].push((p.a, length));
        }
        let mut best = vec![f64::INFINITY; self.nodes.len()];
        let mut on_piece: HashMap<usize, Vec<(f64, f64)>> = HashMap::new();
        let mut queue = BinaryHeap::new();
        let reach = |node: usize, metres: f64, best: &mut Vec<f64>, queue: &mut BinaryHeap<_>| {
            if metres < best[node] {
                best[node] = metres;
                queue.push((std::cmp::Reverse(Metres(metres)), node));
            }
        };
        for &f in facilities {
            let (d, i, t) = self.access(&buckets, f);
            if d > max_snap {
                continue;
            }
            let piece = &self.pieces[i];
            let length = distance(self.nodes[piece.a], self.nodes[piece.b]);
            on_piece.entry(i).or_default().push((t, d));
            reach(piece.a, d + t * length, &mut best, &mut queue);
            reach(piece.b, d + (1.0 - t) * length, &mut best, &mut queue);
        }
        while let Some((std::cmp::Reverse(Metres(metres)), node)) = queue.pop() {
            if metres > best[node] {
                continue;
            }
            for &(next, length) in &adjacent[node] {
                reach(next, metres + length, &mut best, &mut queue);
            }
        }
        move |p: Point| {
            let (d, i, t) = self.access(&buckets, p);
            if d > max_snap {
                return f64::INFINITY;
            }
            let piece = &self.pieces[i];
            let length = distance(self.nodes[piece.a], self.nodes[piece.b]);
            let mut walk = d + (best[piece.a] + t * length).min(best[piece.b] + (1.0 - t) * length);
            for &(tf, df) in on_piece.get(&i).into_iter().flatten() {
                walk = walk.min(d + (t - tf).abs() * length + df);
            }
            walk
        }
    }
}

/// Metres, ordered for the queue of the shortest-path search.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Metres(f64);
impl Eq for Metres {}
impl PartialOrd for Metres {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Metres {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

fn key(x: f64) -> i64 {
    (x / 100.0).floor() as i64
}

/// Junctions only where lines share a vertex: no two nodes within a metre, no node within a
/// metre of a piece it is not on. Returns the pairs of pieces that cross without a common
/// vertex, by kind.
fn near_misses_and_crossings(graph: &Graph) -> Vec<(String, String)> {
    let buckets = graph.buckets();
    let mut node_buckets: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (i, &p) in graph.nodes.iter().enumerate() {
        node_buckets
            .entry((key(p.0), key(p.1)))
            .or_default()
            .push(i);
    }
    for (i, &p) in graph.nodes.iter().enumerate() {
        for kx in key(p.0 - 1.0)..=key(p.0 + 1.0) {
            for ky in key(p.1 - 1.0)..=key(p.1 + 1.0) {
                for &j in node_buckets.get(&(kx, ky)).into_iter().flatten() {
                    let d = distance(p, graph.nodes[j]);
                    assert!(
                        j == i || d >= 1.0,
                        "nodes {p:?} and {:?} {d} m apart",
                        graph.nodes[j]
                    );
                }
                for &k in buckets.get(&(kx, ky)).into_iter().flatten() {
                    let piece = &graph.pieces[k];
                    if piece.a == i || piece.b == i {
                        continue;
                    }
                    let (a, b) = graph.segment(piece);
                    let (d, _) = distance_to_segment(p, a, b);
                    assert!(
                        d >= 1.0,
                        "node {p:?} {d} m from {piece:?} without meeting it"
                    );
                }
            }
        }
    }
    let mut crossings = Vec::new();
    for bucket in buckets.values() {
        for (n, &i) in bucket.iter().enumerate() {
            for &j in &bucket[n + 1..] {
                let (p, q) = (&graph.pieces[i], &graph.pieces[j]);
                if [p.a, p.b].iter().any(|x| *x == q.a || *x == q.b) {
                    continue;
                }
                let ((a, b), (c, d)) = (graph.segment(p), graph.segment(q));
                if crossing(a, b, c, d).is_some() {
                    let mut pair = [p.kind.clone(), q.kind.clone()];
                    pair.sort();
                    crossings.push((pair[0].clone(), pair[1].clone()));
                }
            }
        }
    }
    crossings.sort();
    crossings
}

/// Which kinds of piece cross a barrier's line.
fn kinds_across(graph: &Graph, line: &[Point]) -> Vec<(String, String)> {
    let mut across: Vec<(String, String)> = graph
        .pieces
        .iter()
        .filter(|piece| {
            let (a, b) = graph.segment(piece);
            line.windows(2)
                .any(|w| crossing(a, b, w[0], w[1]).is_some())
        })
        .map(|piece| (piece.kind.clone(), piece.name.clone()))
        .collect();
    across.sort();
    across.dedup();
    across
}

fn layer(spec: &DemoSpec, name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    write_demo_layer(spec, name, &mut out).unwrap();
    out
}

struct Demo {
    streets: Musterstadt,
    graph: Graph,
    sites: Vec<Point>,
    schools: Vec<Point>,
    kitas: Vec<Point>,
}

fn demo() -> Demo {
    let [sites, schools, kitas] = crate::generate::demo::demo_places(2015);
    let streets = musterstadt(&DemoPlaces {
        seed: 2015,
        centre: (404_000.0, 5_757_000.0),
        radii: (8_000.0, 6_500.0),
        sites: &sites,
        schools: &schools,
        kitas: &kitas,
    });
    let mut bytes = Vec::new();
    streets.network.write(&mut bytes).unwrap();
    assert!(
        bytes == layer(&DemoSpec { seed: 2015 }, STREETS_FILE),
        "the layer is this network"
    );
    Demo {
        graph: Graph::read(&bytes),
        streets,
        sites,
        schools,
        kitas,
    }
}

#[test]
fn musterstadt_streets_are_deterministic_and_a_few_thousand_pieces() {
    let spec = DemoSpec { seed: 2015 };
    let bytes = layer(&spec, STREETS_FILE);
    assert!(bytes == layer(&spec, STREETS_FILE));
    assert!(bytes != layer(&DemoSpec { seed: 7 }, STREETS_FILE));
    let graph = Graph::read(&bytes);
    assert!(
        (5_000..=15_000).contains(&graph.pieces.len()),
        "{} pieces",
        graph.pieces.len()
    );
    let text = String::from_utf8(bytes).unwrap();
    for name in [
        "straße",
        "brücke",
        "Am Kanal",
        "Uferweg",
        "Hohenzollernring",
    ] {
        assert!(text.contains(name), "{name}");
    }
    for kind in [
        "residential",
        "secondary",
        "primary",
        "pedestrian",
        "footpath",
        "bridge",
        "underpass",
    ] {
        assert!(graph.pieces.iter().any(|p| p.kind == kind), "{kind}");
    }
    assert!(text.contains("\"MultiLineString\""));
}

#[test]
fn musterstadt_is_one_network_and_the_allotment_garden() {
    let Demo { graph, .. } = demo();
    let parts = graph.parts();
    let mut sizes: HashMap<usize, Vec<&Piece>> = HashMap::new();
    for piece in &graph.pieces {
        sizes.entry(parts[piece.a]).or_default().push(piece);
    }
    assert_eq!(
        sizes.len(),
        2,
        "the streets and the allotment garden's paths"
    );
    let small = sizes.values().min_by_key(|pieces| pieces.len()).unwrap();
    assert!(small
        .iter()
        .all(|p| p.name == "Kleingartenanlage Am Mühlenbach" && p.kind == "footpath"));
}

#[test]
fn musterstadt_lines_meet_only_at_identical_vertices() {
    let Demo { graph, .. } = demo();
    let crossings = near_misses_and_crossings(&graph);
    // The canal bridges pass over the towpaths: both towpaths under each of them.
    assert!(!crossings.is_empty());
    assert!(
        crossings
            .iter()
            .all(|(a, b)| a == "bridge" && b == "footpath"),
        "{crossings:?}"
    );
}

#[test]
fn musterstadt_barriers_are_crossed_only_at_bridges_and_underpasses() {
    let Demo { graph, streets, .. } = demo();
    for (line, allowed, range) in [
        (&streets.river, &["bridge"][..], 4..=9),
        (&streets.canal, &["bridge"][..], 2..=6),
        (&streets.railway, &["underpass", "footpath"][..], 3..=10),
    ] {
        let across = kinds_across(&graph, line);
        assert!(
            across
                .iter()
                .all(|(kind, _)| allowed.contains(&kind.as_str())),
            "{across:?}"
        );
        let crossings = across.iter().filter(|(kind, _)| kind != "footpath").count();
        assert!(range.contains(&crossings), "{across:?}");
    }
    // The canal's bridges meet no towpath.
    let towpaths: Vec<&Piece> = graph
        .pieces
        .iter()
        .filter(|p| p.name == "Treidelpfad" || p.name == "Am Kanal")
        .collect();
    for bridge in kinds_across(&graph, &streets.canal) {
        for piece in graph.pieces.iter().filter(|p| p.name == bridge.1) {
            for towpath in &towpaths {
                assert!([piece.a, piece.b]
                    .iter()
                    .all(|n| *n != towpath.a && *n != towpath.b));
            }
        }
    }
}

#[test]
fn musterstadt_leaves_a_park_and_the_sites_outside_off_the_network() {
    let Demo {
        graph,
        streets,
        sites,
        kitas,
        schools,
        ..
    } = demo();
    let (park, radius) = streets.park.unwrap();
    let buckets = graph.buckets();
    let off = |p: Point| graph.access(&buckets, p).0 > 300.0;
    let outline = |p: Point| ((p.0 - 404_000.0) / 8_000.0).hypot((p.1 - 5_757_000.0) / 6_500.0);
    let off_sites: Vec<Point> = sites.iter().copied().filter(|&p| off(p)).collect();
    let in_park = off_sites
        .iter()
        .filter(|&&p| distance(p, park) < radius)
        .count();
    let outside = off_sites.iter().filter(|&&p| outline(p) > 1.0).count();
    assert_eq!(in_park + outside, off_sites.len(), "{off_sites:?}");
    assert!((1..=4).contains(&in_park), "{off_sites:?}");
    assert_eq!(outside, 3);
    let off_kitas: Vec<Point> = kitas.iter().copied().filter(|&p| off(p)).collect();
    assert_eq!(off_kitas, vec![park], "the Kita in the park");
    assert!(schools.iter().all(|&p| !off(p)));
    // In the allotment garden, sites join its own paths.
    let (garden, _) = streets.allotment.unwrap();
    let joined = sites
        .iter()
        .filter(|&&p| distance(p, garden) < 100.0)
        .map(|&p| &graph.pieces[graph.access(&buckets, p).1].name)
        .collect::<Vec<_>>();
    assert!(
        joined.len() >= 2
            && joined
                .iter()
                .all(|n| *n == "Kleingartenanlage Am Mühlenbach"),
        "{joined:?}"
    );
}

/// On foot, the nearest school is farther than in a straight line, much farther across the
/// barriers: in the spirit of the real city's figures (MODEL.md: median 1.5 times, one in
/// ten 2.4 times or more).
#[test]
fn musterstadt_walks_are_longer_than_straight_lines() {
    let Demo {
        graph,
        sites,
        schools,
        kitas,
        ..
    } = demo();
    for (facilities, within, kind) in [(&schools, 1_200.0, "school"), (&kitas, 900.0, "Kita")] {
        let walk = graph.walks_to(facilities, 300.0);
        let mut ratios = Vec::new();
        let (mut near, mut farther) = (0, 0);
        for &s in &sites {
            let line = facilities
                .iter()
                .map(|&f| distance(s, f))
                .fold(f64::INFINITY, f64::min);
            if line > within {
                continue;
            }
            near += 1;
            let walked = walk(s);
            if walked > within {
                farther += 1;
            }
            if walked.is_finite() {
                ratios.push(walked / line.max(1.0));
            }
        }
        ratios.sort_by(f64::total_cmp);
        let quantile = |q: f64| ratios[((ratios.len() - 1) as f64 * q) as usize];
        let (median, tenth) = (quantile(0.5), quantile(0.9));
        let share = farther as f64 / near as f64;
        eprintln!(
            "{kind} within {within} m in a straight line: {near} sites, {:.0} % farther on foot, walk / line median {median:.2}, 90th percentile {tenth:.2}",
            share * 100.0
        );
        assert!((1.3..=1.8).contains(&median), "{median}");
        assert!(tenth >= 1.9, "{tenth}");
        assert!(share >= 0.15, "{share}");
    }
}

fn grid_streets(spec: &GridStreets) -> (u64, Vec<u8>) {
    let mut out = Vec::new();
    let n = write_grid_streets(spec, &mut out).unwrap();
    (n, out)
}

#[test]
fn grid_streets_are_deterministic_and_one_part() {
    let spec = GridSpec {
        cells: 40,
        sites: 100,
        seed: 7,
    }
    .streets();
    let (n, bytes) = grid_streets(&spec);
    assert!(bytes == grid_streets(&spec).1);
    assert!(bytes != grid_streets(&GridStreets { seed: 8, ..spec }).1);
    let graph = Graph::read(&bytes);
    assert_eq!(graph.features as u64, n);
    assert_eq!(graph.pieces.len() as u64, n, "one block per feature");
    // 41 streets each way of 40 blocks, less those across the river and the railway.
    let full = 2 * 41 * 40;
    assert!(n < full && n > full - 200, "{n}");
    let parts = graph.parts();
    assert!(graph
        .pieces
        .iter()
        .all(|p| parts[p.a] == parts[graph.pieces[0].a]));
    // Every node of the grid is a junction of identical coordinates.
    assert_eq!(graph.nodes.len(), 41 * 41);
    assert!(near_misses_and_crossings(&graph).is_empty());
}

#[test]
fn grid_barriers_are_crossed_only_at_bridges_and_underpasses() {
    for spec in [
        GridSpec {
            cells: 60,
            sites: 1,
            seed: 3,
        }
        .streets(),
        TightGridSpec {
            cells: 30,
            sites: 1,
            seed: 3,
        }
        .streets(),
    ] {
        let layout = spec.layout();
        let graph = Graph::read(&grid_streets(&spec).1);
        let river = kinds_across(&graph, &layout.river_line());
        assert!(river.iter().all(|(kind, _)| kind == "bridge"), "{river:?}");
        let bridges = graph.pieces.iter().filter(|p| p.kind == "bridge").count();
        // Every 1–2 km over 6 or 7.5 km.
        assert!((3..=8).contains(&bridges), "{bridges}");
        let rail = layout.rail_line().unwrap();
        let under = kinds_across(&graph, &rail);
        assert!(
            under.iter().all(|(kind, _)| kind == "underpass"),
            "{under:?}"
        );
        let underpasses = graph
            .pieces
            .iter()
            .filter(|p| p.kind == "underpass")
            .count();
        assert!((4..=12).contains(&underpasses), "{underpasses}");
        let parts = graph.parts();
        assert!(graph
            .pieces
            .iter()
            .all(|p| parts[p.a] == parts[graph.pieces[0].a]));
    }
}

#[test]
fn small_grids_have_no_barriers() {
    let spec = GridSpec {
        cells: 5,
        sites: 1,
        seed: 1,
    }
    .streets();
    let (n, bytes) = grid_streets(&spec);
    assert_eq!(n, 2 * 6 * 5);
    let graph = Graph::read(&bytes);
    assert!(graph.pieces.iter().all(|p| p.kind != "bridge"));
}

#[test]
fn grid_scenario_walks_on_the_streets() {
    let spec = GridSpec {
        cells: 20,
        sites: 1000,
        seed: 1,
    };
    let text = grid_streets_scenario(&crate::generate::grid_scenario_toml(&spec));
    let table: toml::Table = text.parse().unwrap();
    assert_eq!(table["input"]["network"].as_str(), Some(STREETS_FILE));
    assert_eq!(table["input"]["sites"].as_str(), Some("sites.geojson"));
}
