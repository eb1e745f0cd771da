//! The street network as a graph: every vertex of every line is a node, vertices equal to
//! 1 cm are one node, and each segment between consecutive vertices is an edge of its
//! length, walkable both ways. Points join the network at the closest point of the closest
//! segment (an R-tree of the segments finds it).

use std::collections::HashMap;

use rstar::primitives::{GeomWithData, Line};
use rstar::RTree;

use crate::model::Streets;

/// One segment between consecutive vertices of a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Nodes at `from` and `to` (equal for a segment shorter than 1 cm).
    pub a: u32,
    pub b: u32,
    /// The vertices as given.
    pub from: [f64; 2],
    pub to: [f64; 2],
    pub length: f64,
    /// Index of the line in `Streets::lines`.
    pub line: u32,
}

/// Where a point joins the network: the closest point of the closest segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Joint {
    pub segment: u32,
    /// Metres from the segment's `from` vertex to the joint.
    pub along: f64,
    /// The joint itself.
    pub point: [f64; 2],
    /// Metres from the point to the joint (the straight way onto the network).
    pub offset: f64,
}

type SegmentEntry = GeomWithData<Line<[f64; 2]>, u32>;

/// The graph of a street network.
#[derive(Debug)]
pub struct Graph {
    /// Node positions (the first vertex seen at each).
    pub nodes: Vec<[f64; 2]>,
    /// Segments in file order (line by line, vertex by vertex).
    pub segments: Vec<Segment>,
    /// Adjacency: the segments at node `n` are `incident[first[n]..first[n + 1]]`.
    first: Vec<u32>,
    incident: Vec<u32>,
    /// Connected part of each node, numbered from 0.
    part: Vec<u32>,
    pub parts: usize,
    tree: RTree<SegmentEntry>,
    /// Points farther than this from every segment are off the network.
    pub max_snap_m: f64,
}

/// The 1 cm cell a vertex belongs to.
fn cell(p: [f64; 2]) -> (i64, i64) {
    ((p[0] * 100.0).round() as i64, (p[1] * 100.0).round() as i64)
}

fn length(from: [f64; 2], to: [f64; 2]) -> f64 {
    (to[0] - from[0]).hypot(to[1] - from[1])
}

impl Graph {
    pub fn new(streets: &Streets) -> Graph {
        let mut node_of: HashMap<(i64, i64), u32> = HashMap::new();
        let mut nodes: Vec<[f64; 2]> = Vec::new();
        let mut node = |p: [f64; 2]| -> u32 {
            *node_of.entry(cell(p)).or_insert_with(|| {
                nodes.push(p);
                (nodes.len() - 1) as u32
            })
        };
        let mut segments = Vec::new();
        for (line, street) in streets.lines.iter().enumerate() {
            for pair in street.points.windows(2) {
                let (from, to) = (pair[0], pair[1]);
                segments.push(Segment {
                    a: node(from),
                    b: node(to),
                    from,
                    to,
                    length: length(from, to),
                    line: line as u32,
                });
            }
        }

        // Adjacency in compressed rows: count, prefix sums, fill.
        let mut first = vec![0u32; nodes.len() + 1];
        for s in &segments {
            if s.a != s.b {
                first[s.a as usize + 1] += 1;
                first[s.b as usize + 1] += 1;
            }
        }
        for n in 0..nodes.len() {
            first[n + 1] += first[n];
        }
        let mut fill = first.clone();
        let mut incident = vec![0u32; first[nodes.len()] as usize];
        for (index, s) in segments.iter().enumerate() {
            if s.a != s.b {
                for end in [s.a, s.b] {
                    incident[fill[end as usize] as usize] = index as u32;
                    fill[end as usize] += 1;
                }
            }
        }

        let (part, parts) = connected_parts(nodes.len(), &segments);
        let tree = RTree::bulk_load(
            segments
                .iter()
                .enumerate()
                .map(|(index, s)| GeomWithData::new(Line::new(s.from, s.to), index as u32))
                .collect(),
        );
        Graph {
            nodes,
            segments,
            first,
            incident,
            part,
            parts,
            tree,
            max_snap_m: streets.max_snap_m,
        }
    }

    /// Segments that join two different nodes.
    pub fn edges(&self) -> usize {
        self.segments.iter().filter(|s| s.a != s.b).count()
    }

    /// Length of all segments in kilometres.
    pub fn km(&self) -> f64 {
        self.segments.iter().map(|s| s.length).sum::<f64>() / 1000.0
    }

    /// The segments at a node.
    pub fn incident(&self, node: u32) -> &[u32] {
        let n = node as usize;
        &self.incident[self.first[n] as usize..self.first[n + 1] as usize]
    }

    /// The connected part of a node.
    pub fn part(&self, node: u32) -> u32 {
        self.part[node as usize]
    }

    /// The other end of a segment.
    pub fn across(&self, segment: u32, from: u32) -> u32 {
        let s = &self.segments[segment as usize];
        if s.a == from {
            s.b
        } else {
            s.a
        }
    }

    /// Where `p` joins the network: the closest point of the closest segment (on ties the
    /// first segment in file order), or `None` when it is farther than `max_snap_m`.
    pub fn joint(&self, p: [f64; 2]) -> Option<Joint> {
        let mut best: Option<(f64, u32)> = None;
        for (entry, d2) in self.tree.nearest_neighbor_iter_with_distance_2(&p) {
            match best {
                None => best = Some((d2, entry.data)),
                Some((closest, segment)) => {
                    // Equal distances (to rounding) go to the first segment in file order.
                    if d2 > closest + 1e-9 * (1.0 + closest) {
                        break;
                    }
                    if entry.data < segment {
                        best = Some((closest, entry.data));
                    }
                }
            }
            if best.is_some_and(|(closest, _)| closest > self.max_snap_m * self.max_snap_m * 1.01) {
                return None;
            }
        }
        let (_, segment) = best?;
        let joint = self.project(segment, p);
        (joint.offset <= self.max_snap_m).then_some(joint)
    }

    /// The orthogonal projection of `p` onto a segment, clamped to it.
    pub fn project(&self, segment: u32, p: [f64; 2]) -> Joint {
        let s = &self.segments[segment as usize];
        let (dx, dy) = (s.to[0] - s.from[0], s.to[1] - s.from[1]);
        let squared = dx * dx + dy * dy;
        let t = if squared > 0.0 {
            (((p[0] - s.from[0]) * dx + (p[1] - s.from[1]) * dy) / squared).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let point = [s.from[0] + t * dx, s.from[1] + t * dy];
        Joint {
            segment,
            along: t * s.length,
            point,
            offset: length(p, point),
        }
    }
}

/// Connected parts by union–find over the segments: the part of each node (numbered from 0
/// in the order of their first node) and how many there are.
fn connected_parts(nodes: usize, segments: &[Segment]) -> (Vec<u32>, usize) {
    let mut parent: Vec<u32> = (0..nodes as u32).collect();
    fn root(parent: &mut [u32], mut n: u32) -> u32 {
        while parent[n as usize] != n {
            let up = parent[parent[n as usize] as usize];
            parent[n as usize] = up;
            n = up;
        }
        n
    }
    for s in segments {
        let (ra, rb) = (root(&mut parent, s.a), root(&mut parent, s.b));
        if ra != rb {
            parent[ra.max(rb) as usize] = ra.min(rb);
        }
    }
    let mut number = vec![u32::MAX; nodes];
    let mut part = vec![0u32; nodes];
    let mut parts = 0u32;
    for n in 0..nodes as u32 {
        let r = root(&mut parent, n) as usize;
        if number[r] == u32::MAX {
            number[r] = parts;
            parts += 1;
        }
        part[n as usize] = number[r];
    }
    (part, parts as usize)
}
