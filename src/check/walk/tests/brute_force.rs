//! The walks against a brute force on random street grids: access points found with geo's
//! closest point, nodes told apart by their coordinates printed to the centimetre, every
//! segment cut at the access points on it, and Floyd–Warshall over the cut graph.

use std::collections::HashMap;

use geo::{Closest, ClosestPoint, Distance, Euclidean, Line, Point};

use super::super::{walk_distances, TIE_M};
use super::{city, layer, network, site};
use crate::model::*;

/// xorshift64*: a fixed sequence per seed, no dependency.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }
}

/// A 6 × 6 grid of crossings 100 m apart, moved up to 20 m each; runs of the streets
/// between them kept at random, their vertices sometimes moved by up to 4 mm (so that some
/// meet and some do not); 12 sites and two kinds of 4 facilities scattered over it.
fn random_town(seed: u64) -> Instance {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut crossing = [[[0.0f64; 2]; 6]; 6];
    for row in &mut crossing {
        for (j, point) in row.iter_mut().enumerate() {
            *point = [
                rng.between(0.0, 20.0),
                100.0 + j as f64 * 100.0 + rng.between(0.0, 20.0),
            ];
        }
    }
    for (i, row) in crossing.iter_mut().enumerate() {
        for point in row.iter_mut() {
            point[0] += 100.0 + i as f64 * 100.0;
        }
    }
    let mut lines: Vec<Vec<[f64; 2]>> = Vec::new();
    // The streets one way, then the other.
    let mut streets: Vec<Vec<[f64; 2]>> = crossing.iter().map(|row| row.to_vec()).collect();
    streets.extend((0..6).map(|j| crossing.iter().map(|row| row[j]).collect::<Vec<_>>()));
    for street in streets {
        let mut run: Vec<[f64; 2]> = Vec::new();
        for mut point in street {
            if rng.unit() < 0.2 {
                point[0] += rng.between(-0.004, 0.004);
            }
            if !run.is_empty() && rng.unit() < 0.3 {
                lines.push(std::mem::take(&mut run));
            }
            run.push(point);
        }
        lines.push(run);
    }
    lines.retain(|line| line.len() >= 2);
    let lines: Vec<&[[f64; 2]]> = lines.iter().map(Vec::as_slice).collect();
    let mut points = |n: usize| -> Vec<[f64; 2]> {
        (0..n)
            .map(|_| [rng.between(50.0, 750.0), rng.between(50.0, 750.0)])
            .collect()
    };
    let sites = points(12)
        .into_iter()
        .enumerate()
        .map(|(i, [x, y])| site(&format!("S{i}"), x, y, 50))
        .collect();
    let mut instance = city(&[1000.0], sites, 100);
    let named = |kind: &str, at: Vec<[f64; 2]>| {
        let facilities: Vec<(String, [f64; 2])> = at
            .into_iter()
            .enumerate()
            .map(|(i, p)| (format!("{kind}{i}"), p))
            .collect();
        let facilities: Vec<(&str, [f64; 2], Option<f64>)> = facilities
            .iter()
            .map(|(id, p)| (id.as_str(), *p, None))
            .collect();
        layer(kind, &facilities)
    };
    instance.facilities = vec![named("school", points(4)), named("kita", points(4))];
    instance.network = network(&lines, 40.0);
    instance
}

/// Where a point joins: segment, metres along it, and the leg; by geo's closest point.
fn join(segments: &[(Line<f64>, f64)], p: [f64; 2], max_snap_m: f64) -> Option<(usize, f64, f64)> {
    let p = Point::new(p[0], p[1]);
    let mut best: Option<(usize, f64, f64)> = None;
    for (k, (line, _)) in segments.iter().enumerate() {
        let q = match line.closest_point(&p) {
            Closest::Intersection(q) | Closest::SinglePoint(q) => q,
            Closest::Indeterminate => line.start_point(),
        };
        let leg = Euclidean.distance(p, q);
        if best.is_none_or(|b| leg < b.2) {
            best = Some((k, Euclidean.distance(line.start_point(), q), leg));
        }
    }
    best.filter(|b| b.2 <= max_snap_m)
}

/// Per layer, per site: the nearest facility on foot, by Floyd–Warshall.
fn brute_force(instance: &Instance) -> Vec<Vec<Option<(u32, f64)>>> {
    let streets = instance.network.as_ref().unwrap();
    let mut nodes: HashMap<String, usize> = HashMap::new();
    let mut node = |p: [f64; 2]| {
        let count = nodes.len();
        *nodes
            .entry(format!("{:.2} {:.2}", p[0], p[1]))
            .or_insert(count)
    };
    let mut segments = Vec::new();
    let mut ends = Vec::new();
    for line in &streets.lines {
        for pair in line.points.windows(2) {
            let segment = Line::new((pair[0][0], pair[0][1]), (pair[1][0], pair[1][1]));
            segments.push((
                segment,
                Euclidean.distance(pair[0].into(), Point::from(pair[1])),
            ));
            ends.push([node(pair[0]), node(pair[1])]);
        }
    }
    let vertices = nodes.len();
    // Every site and facility that joins the network is a node of its own.
    let mut points: Vec<[f64; 2]> = instance.sites.iter().map(|s| s.position).collect();
    for layer in &instance.facilities {
        points.extend(layer.facilities.iter().map(|f| f.position));
    }
    let joins: Vec<_> = points
        .iter()
        .map(|&p| join(&segments, p, streets.max_snap_m))
        .collect();
    let n = vertices + points.len();
    let mut metres = vec![vec![f64::INFINITY; n]; n];
    for (i, row) in metres.iter_mut().enumerate() {
        row[i] = 0.0;
    }
    for (k, (_, length)) in segments.iter().enumerate() {
        let mut stops = vec![(0.0, ends[k][0]), (*length, ends[k][1])];
        for (i, at) in joins.iter().enumerate() {
            if let Some((segment, along, _)) = at {
                if *segment == k {
                    stops.push((*along, vertices + i));
                }
            }
        }
        stops.sort_by(|a, b| a.0.total_cmp(&b.0));
        for pair in stops.windows(2) {
            let ((a, u), (b, v)) = (pair[0], pair[1]);
            let d = metres[u][v].min(b - a);
            metres[u][v] = d;
            metres[v][u] = d;
        }
    }
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                let via = metres[i][k] + metres[k][j];
                if via < metres[i][j] {
                    metres[i][j] = via;
                }
            }
        }
    }
    let mut first = instance.sites.len();
    let mut nearest = Vec::new();
    for layer in &instance.facilities {
        let mut per_site = vec![None; instance.sites.len()];
        for (s, best) in per_site.iter_mut().enumerate() {
            let Some((_, _, site_leg)) = joins[s] else {
                continue;
            };
            for f in 0..layer.facilities.len() {
                let Some((_, _, leg)) = joins[first + f] else {
                    continue;
                };
                let walk = site_leg + metres[vertices + s][vertices + first + f] + leg;
                if walk.is_finite() && best.is_none_or(|(_, m): (u32, f64)| walk < m - TIE_M) {
                    *best = Some((f as u32, walk));
                }
            }
        }
        first += layer.facilities.len();
        nearest.push(per_site);
    }
    nearest
}

#[test]
fn walks_agree_with_floyd_warshall_on_random_street_grids() {
    let (mut reached, mut unreached) = (0, 0);
    for seed in 0..150 {
        let instance = random_town(seed);
        let sites: Vec<usize> = (0..instance.sites.len()).collect();
        let walks = walk_distances(&instance, &sites);
        let expected = brute_force(&instance);
        for (layer, (got, want)) in walks.iter().zip(&expected).enumerate() {
            for (s, (got, want)) in got.iter().zip(want).enumerate() {
                let same = match (got, want) {
                    (Some((f, m)), Some((g, n))) => f == g && (m - n).abs() < 1e-6,
                    (None, None) => true,
                    _ => false,
                };
                assert!(
                    same,
                    "seed {seed}, layer {layer}, site {s}: {got:?}, brute force {want:?}"
                );
                if got.is_some() {
                    reached += 1;
                } else {
                    unreached += 1;
                }
            }
        }
    }
    // Both outcomes are common, so the comparison says something about each.
    assert!(
        reached > 1000 && unreached > 300,
        "{reached} reached, {unreached} not"
    );
}
