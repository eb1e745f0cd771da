//! Street networks for the synthetic cities, written as `streets.geojson`, the line layer a
//! scenario names as `[input] network` so that distances from sites to facilities are walked
//! (MODEL.md, "Distances on foot"):
//!
//! - Musterstadt's streets (`musterstadt`): irregular blocks, main roads, a ring, and the
//!   barriers that make a walk longer than the straight line — a river with a handful of
//!   bridges, a canal whose bridges pass over the towpaths, a railway with a few underpasses —
//!   plus a park without paths and an allotment garden whose paths meet no street;
//! - street grids for the benchmark grids (`write_grid_streets`), streamed block by block.
//!
//! The files keep the reader's rules by construction: every vertex is a node, and lines that
//! meet share a vertex with exactly the same coordinates (both are written from one node).
//! No two distinct nodes lie within a metre of each other, and no node lies within a metre
//! of a line it is not on, so nothing is a junction by accident or a near-miss by rounding.

mod grid;
mod musterstadt;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::io::{self, Write};

use super::geometry::{crossing, distance, distance_to_segment, Point};
use super::{begin_collection, end_collection, json_string};

pub use grid::{grid_streets_scenario, write_grid_streets, GridStreets};
pub(super) use musterstadt::{musterstadt, DemoPlaces, Musterstadt};

/// The street layer a generator writes next to the others.
pub const STREETS_FILE: &str = "streets.geojson";

/// What a street is, as the layer's `kind` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Residential,
    /// The pedestrian zone of the old town.
    Pedestrian,
    Secondary,
    Primary,
    /// Paths along the river and the canal, and in the allotment garden.
    Footpath,
    Bridge,
    Underpass,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Residential => "residential",
            Kind::Pedestrian => "pedestrian",
            Kind::Secondary => "secondary",
            Kind::Primary => "primary",
            Kind::Footpath => "footpath",
            Kind::Bridge => "bridge",
            Kind::Underpass => "underpass",
        }
    }
}

/// A street, or one stretch of it: one or more features of the layer.
#[derive(Debug, Clone)]
pub(crate) struct Street {
    pub name: String,
    pub kind: Kind,
}

/// A straight piece between two nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edge {
    pub a: usize,
    pub b: usize,
    pub street: usize,
    /// Passes over the lines inserted after it without meeting them (a bridge over a towpath).
    pub over: bool,
}

/// Two nodes closer than this are one; a line passing closer than this to a node goes through
/// it. The reader's own tolerance is 1 cm: anything between is a near-miss, so none is left.
const NEAR_MISS: f64 = 1.0;

/// A crossing this close to an existing node or a line's own vertex is moved onto it, so that
/// no edge is shorter than a few metres.
const SNAP: f64 = 3.0;

/// A street network in memory: nodes with coordinates rounded to 1 cm (as written), straight
/// edges between them, and the streets the edges belong to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Network {
    pub nodes: Vec<Point>,
    pub edges: Vec<Edge>,
    pub streets: Vec<Street>,
}

fn round2(p: Point) -> Point {
    ((p.0 * 100.0).round() / 100.0, (p.1 * 100.0).round() / 100.0)
}

impl Network {
    pub(crate) fn node(&mut self, p: Point) -> usize {
        self.nodes.push(round2(p));
        self.nodes.len() - 1
    }

    pub(crate) fn street(&mut self, name: impl Into<String>, kind: Kind) -> usize {
        self.streets.push(Street {
            name: name.into(),
            kind,
        });
        self.streets.len() - 1
    }

    pub(crate) fn edge(&mut self, a: usize, b: usize, street: usize) {
        if a != b {
            self.edges.push(Edge {
                a,
                b,
                street,
                over: false,
            });
        }
    }

    pub(crate) fn segment(&self, e: &Edge) -> (Point, Point) {
        (self.nodes[e.a], self.nodes[e.b])
    }

    pub(crate) fn midpoint(&self, e: &Edge) -> Point {
        let (a, b) = self.segment(e);
        ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0)
    }

    /// Splits edge `e` at `node`: both halves keep its street.
    fn split(&mut self, e: usize, node: usize) {
        let edge = self.edges[e];
        if node == edge.a || node == edge.b {
            return;
        }
        self.edges[e].b = node;
        self.edges.push(Edge { a: node, ..edge });
    }

    /// The node at `p`: an existing node within `SNAP` metres, or a new one.
    fn node_near(&mut self, p: Point) -> usize {
        let near = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, &q)| (distance(p, q), i))
            .filter(|&(d, _)| d < SNAP)
            .min_by(|x, y| x.0.total_cmp(&y.0));
        match near {
            Some((_, i)) => i,
            None => self.node(p),
        }
    }

    /// Adds a polyline as edges of `street`, joined to every edge it crosses: each crossing
    /// becomes a node on both (or the nearby node, when one lies within `SNAP` metres). Edges
    /// marked `over` are crossed without a junction. Returns the line's nodes in order.
    pub(crate) fn insert_line(&mut self, line: &[Point], street: usize) -> Vec<usize> {
        let mut sequence: Vec<usize> = Vec::new();
        for pair in line.windows(2) {
            let (p, q) = (pair[0], pair[1]);
            let start = self.node_near(p);
            let end = self.node_near(q);
            let mut hits: Vec<(f64, usize)> = Vec::new();
            for e in 0..self.edges.len() {
                let edge = self.edges[e];
                if edge.over || edge.a == start || edge.b == start {
                    continue;
                }
                let (a, b) = self.segment(&edge);
                if let Some((t, _)) = crossing(p, q, a, b) {
                    hits.push((t, e));
                }
            }
            hits.sort_by(|x, y| x.0.total_cmp(&y.0));
            sequence.push(start);
            for (t, e) in hits {
                let x = (p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1));
                let edge = self.edges[e];
                let node = if distance(x, self.nodes[edge.a]) < SNAP {
                    edge.a
                } else if distance(x, self.nodes[edge.b]) < SNAP {
                    edge.b
                } else if distance(x, self.nodes[start]) < SNAP {
                    start
                } else if distance(x, self.nodes[end]) < SNAP {
                    end
                } else {
                    self.node(x)
                };
                self.split(e, node);
                sequence.push(node);
            }
            sequence.push(end);
        }
        sequence.dedup();
        for pair in sequence.windows(2) {
            self.edge(pair[0], pair[1], street);
        }
        sequence
    }

    /// Makes every near-miss a junction: nodes closer than `NEAR_MISS` become one, and an edge
    /// passing closer than that to a node is split there.
    pub(crate) fn join_near_misses(&mut self) {
        const BUCKET: f64 = 50.0;
        let key = |p: Point| ((p.0 / BUCKET).floor() as i64, (p.1 / BUCKET).floor() as i64);
        let used = self.used_nodes();
        // Nodes within a metre: the later one becomes the earlier one.
        let mut same: Vec<usize> = (0..self.nodes.len()).collect();
        let mut buckets: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
        for &i in &used {
            let p = self.nodes[i];
            let (kx, ky) = key(p);
            let mut target = None;
            'search: for dx in -1..=1 {
                for dy in -1..=1 {
                    for &j in buckets.get(&(kx + dx, ky + dy)).into_iter().flatten() {
                        if distance(p, self.nodes[j]) < NEAR_MISS {
                            target = Some(j);
                            break 'search;
                        }
                    }
                }
            }
            match target {
                Some(j) => same[i] = j,
                None => buckets.entry((kx, ky)).or_default().push(i),
            }
        }
        for e in &mut self.edges {
            e.a = same[e.a];
            e.b = same[e.b];
        }
        self.edges.retain(|e| e.a != e.b);
        self.drop_duplicate_edges();
        // Nodes within a metre of an edge they are not on: split the edge there.
        let used = self.used_nodes();
        let mut buckets: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
        for &i in &used {
            buckets.entry(key(self.nodes[i])).or_default().push(i);
        }
        let mut e = 0;
        while e < self.edges.len() {
            let edge = self.edges[e];
            let (a, b) = self.segment(&edge);
            let (x0, y0) = key((a.0.min(b.0) - NEAR_MISS, a.1.min(b.1) - NEAR_MISS));
            let (x1, y1) = key((a.0.max(b.0) + NEAR_MISS, a.1.max(b.1) + NEAR_MISS));
            let mut nearest: Option<(f64, usize)> = None;
            for kx in x0..=x1 {
                for ky in y0..=y1 {
                    for &n in buckets.get(&(kx, ky)).into_iter().flatten() {
                        if n == edge.a || n == edge.b {
                            continue;
                        }
                        let (d, t) = distance_to_segment(self.nodes[n], a, b);
                        if d < NEAR_MISS && nearest.is_none_or(|(best, _)| t < best) {
                            nearest = Some((t, n));
                        }
                    }
                }
            }
            // The first half is checked again: it may pass near another node.
            match nearest {
                Some((_, n)) => self.split(e, n),
                None => e += 1,
            }
        }
    }

    fn used_nodes(&self) -> Vec<usize> {
        let mut used: Vec<usize> = self.edges.iter().flat_map(|e| [e.a, e.b]).collect();
        used.sort_unstable();
        used.dedup();
        used
    }

    fn drop_duplicate_edges(&mut self) {
        let mut seen = std::collections::HashSet::new();
        self.edges
            .retain(|e| seen.insert((e.a.min(e.b), e.a.max(e.b))));
    }

    /// The connected part of each node (by index; nodes on no edge are parts of their own).
    pub(crate) fn parts(&self) -> Vec<usize> {
        let mut parent: Vec<usize> = (0..self.nodes.len()).collect();
        fn find(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for e in &self.edges {
            let (a, b) = (find(&mut parent, e.a), find(&mut parent, e.b));
            if a != b {
                parent[a.max(b)] = a.min(b);
            }
        }
        (0..self.nodes.len())
            .map(|i| find(&mut parent, i))
            .collect()
    }

    /// The edges of each street as chains through the nodes where only that street's edges
    /// meet: what one LineString can hold.
    fn chains(&self) -> Vec<(usize, Vec<Vec<usize>>)> {
        let mut by_street: Vec<Vec<usize>> = vec![Vec::new(); self.streets.len()];
        for (i, e) in self.edges.iter().enumerate() {
            by_street[e.street].push(i);
        }
        let mut out = Vec::new();
        for (street, edges) in by_street.iter().enumerate() {
            if edges.is_empty() {
                continue;
            }
            let mut at: HashMap<usize, Vec<usize>> = HashMap::new();
            for &e in edges {
                at.entry(self.edges[e].a).or_default().push(e);
                at.entry(self.edges[e].b).or_default().push(e);
            }
            let mut done: std::collections::HashSet<usize> = std::collections::HashSet::new();
            let mut chains = Vec::new();
            let other = |e: usize, n: usize| {
                let edge = self.edges[e];
                if edge.a == n {
                    edge.b
                } else {
                    edge.a
                }
            };
            // Walks on from node `n` away from edge `e` while the chain cannot branch.
            let extend =
                |mut e: usize, mut n: usize, done: &mut std::collections::HashSet<usize>| {
                    let mut nodes = Vec::new();
                    loop {
                        let here = &at[&n];
                        if here.len() != 2 {
                            break;
                        }
                        let next = if here[0] == e { here[1] } else { here[0] };
                        if !done.insert(next) {
                            break;
                        }
                        e = next;
                        n = other(e, n);
                        nodes.push(n);
                    }
                    nodes
                };
            for &e in edges {
                if !done.insert(e) {
                    continue;
                }
                let edge = self.edges[e];
                let forward = extend(e, edge.b, &mut done);
                let backward = extend(e, edge.a, &mut done);
                let mut nodes: Vec<usize> = backward.into_iter().rev().collect();
                nodes.push(edge.a);
                nodes.push(edge.b);
                nodes.extend(forward);
                chains.push(nodes);
            }
            out.push((street, chains));
        }
        out
    }

    /// Writes the network as a FeatureCollection in EPSG:25832: one LineString per chain of a
    /// street, footpaths as one MultiLineString per path. Returns the number of features.
    pub(crate) fn write(&self, out: &mut impl Write) -> io::Result<u64> {
        begin_collection(out)?;
        let mut written = 0u64;
        let line = |out: &mut dyn Write, nodes: &[usize]| -> io::Result<()> {
            out.write_all(b"[")?;
            for (i, &n) in nodes.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                let (x, y) = self.nodes[n];
                write!(out, "[{x:.2},{y:.2}]")?;
            }
            out.write_all(b"]")
        };
        for (street, chains) in self.chains() {
            let Street { name, kind } = &self.streets[street];
            let groups: Vec<&[Vec<usize>]> = if *kind == Kind::Footpath {
                vec![&chains[..]]
            } else {
                chains.chunks(1).collect()
            };
            for group in groups {
                if written > 0 {
                    out.write_all(b",\n")?;
                }
                written += 1;
                out.write_all(b"{\"type\":\"Feature\",\"geometry\":{\"type\":")?;
                if group.len() == 1 {
                    out.write_all(b"\"LineString\",\"coordinates\":")?;
                    line(out, &group[0])?;
                } else {
                    out.write_all(b"\"MultiLineString\",\"coordinates\":[")?;
                    for (i, nodes) in group.iter().enumerate() {
                        if i > 0 {
                            out.write_all(b",")?;
                        }
                        line(out, nodes)?;
                    }
                    out.write_all(b"]")?;
                }
                write!(
                    out,
                    "}},\"properties\":{{\"id\":\"W-{written:05}\",\"name\":{},\"kind\":\"{}\"}}}}",
                    json_string(name),
                    kind.as_str()
                )?;
            }
        }
        end_collection(out)?;
        Ok(written)
    }
}
