//! The walk from every site to the nearest facility of each kind.
//!
//! Per kind, one search (Dijkstra) starts from all facilities at once: each facility enters
//! the network at the two ends of its segment, at the length of its straight way onto the
//! network plus the way along the segment to that end. Every node keeps the shortest walk
//! to any facility of the kind and which facility it is (the first in file order on equal
//! lengths). A site's walk is then the least of: via either end of its segment, or straight
//! along the segment to a facility that joins the same segment.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use rayon::prelude::*;

use super::graph::{Graph, Joint};
use crate::model::{FacilityLayer, Instance, Streets};
use crate::spatial::Nearest;

const NONE: u32 = u32::MAX;

/// The search of one facility kind.
#[derive(Debug)]
struct Search {
    /// Where each facility of the layer joins the network (`None`: off the network).
    joints: Vec<Option<Joint>>,
    /// Per node: the shortest walk to a facility of the kind (infinite if none reaches it),
    /// the facility, and the segment it was reached along (`NONE` at the node where the
    /// facility's own way onto the network arrives).
    metres: Vec<f64>,
    facility: Vec<u32>,
    came_along: Vec<u32>,
    /// Facilities by the segment they join (for sites on the same segment).
    on_segment: HashMap<u32, Vec<u32>>,
}

/// How a site's walk runs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Way {
    /// Along its own segment, straight to a facility on it.
    Along,
    /// Through the node at one end of its segment.
    Through(u32),
}

/// A walk found for a site: its length, the facility and how it runs.
#[derive(Debug, Clone, Copy)]
struct Found {
    metres: f64,
    facility: u32,
    way: Way,
}

/// A site's walk to a facility, as a line along the streets.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub facility: u32,
    /// Length of the walk.
    pub metres: f64,
    /// The way: site, its joint, the nodes passed, the facility's joint, the facility.
    pub points: Vec<[f64; 2]>,
}

/// The street network with the searches of every facility kind and where each site joins.
#[derive(Debug)]
pub struct Walks {
    pub graph: Graph,
    /// Where each site joins the network (`None`: off the network).
    pub site_joints: Vec<Option<Joint>>,
    /// Per facility layer (order of `Instance::facilities`).
    searches: Vec<Search>,
}

impl Walks {
    /// Builds the graph, joins the sites and facilities to it and searches from each kind's
    /// facilities.
    pub fn new(streets: &Streets, instance: &Instance) -> Walks {
        let graph = Graph::new(streets);
        let site_joints: Vec<Option<Joint>> = instance
            .sites
            .par_iter()
            .map(|site| graph.joint(site.position))
            .collect();
        let searches = instance
            .facilities
            .par_iter()
            .map(|layer| search(&graph, layer))
            .collect();
        Walks {
            graph,
            site_joints,
            searches,
        }
    }

    /// Per facility layer, per site: the nearest facility on foot and the walk's length;
    /// `None` when the site is off the network or no facility of the kind can be reached.
    pub fn nearest(&self) -> Vec<Vec<Option<Nearest>>> {
        (0..self.searches.len())
            .map(|layer| {
                self.site_joints
                    .par_iter()
                    .map(|joint| {
                        let found = self.find(layer, (*joint)?)?;
                        Some(Nearest {
                            facility: found.facility,
                            metres: found.metres,
                        })
                    })
                    .collect()
            })
            .collect()
    }

    /// Facilities of a layer that are off the network.
    pub fn facilities_off_network(&self, layer: usize) -> usize {
        self.searches[layer]
            .joints
            .iter()
            .filter(|j| j.is_none())
            .count()
    }

    /// The walk from a site to its nearest facility of a layer, as a line along the streets.
    pub fn route(&self, layer: usize, site: usize, position: [f64; 2]) -> Option<Route> {
        let joint = self.site_joints[site]?;
        let found = self.find(layer, joint)?;
        let search = &self.searches[layer];
        let facility_joint = search.joints[found.facility as usize]?;
        let mut points = vec![position, joint.point];
        if let Way::Through(mut node) = found.way {
            loop {
                points.push(self.graph.nodes[node as usize]);
                let segment = search.came_along[node as usize];
                if segment == NONE {
                    break;
                }
                node = self.graph.across(segment, node);
            }
        }
        points.push(facility_joint.point);
        points.dedup();
        Some(Route {
            facility: found.facility,
            metres: found.metres,
            points,
        })
    }

    /// The least walk from a joint to a facility of a layer (ties: the first facility).
    fn find(&self, layer: usize, joint: Joint) -> Option<Found> {
        let search = &self.searches[layer];
        let segment = &self.graph.segments[joint.segment as usize];
        let mut best: Option<Found> = None;
        let mut offer = |found: Found| {
            if found.metres.is_finite()
                && best.is_none_or(|b| (found.metres, found.facility) < (b.metres, b.facility))
            {
                best = Some(found);
            }
        };
        for (node, along) in [
            (segment.a, joint.along),
            (segment.b, segment.length - joint.along),
        ] {
            let n = node as usize;
            if search.facility[n] != NONE {
                offer(Found {
                    metres: joint.offset + along + search.metres[n],
                    facility: search.facility[n],
                    way: Way::Through(node),
                });
            }
        }
        for &f in search.on_segment.get(&joint.segment).into_iter().flatten() {
            let there = search.joints[f as usize].expect("facilities on a segment join it");
            offer(Found {
                metres: joint.offset + (joint.along - there.along).abs() + there.offset,
                facility: f,
                way: Way::Along,
            });
        }
        best
    }
}

/// Dijkstra from every facility of a layer at once, each node labelled with the facility
/// of its shortest walk (the first in file order on equal lengths).
fn search(graph: &Graph, layer: &FacilityLayer) -> Search {
    let joints: Vec<Option<Joint>> = layer
        .facilities
        .iter()
        .map(|f| graph.joint(f.position))
        .collect();
    let nodes = graph.nodes.len();
    let mut metres = vec![f64::INFINITY; nodes];
    let mut facility = vec![NONE; nodes];
    let mut came_along = vec![NONE; nodes];
    let mut on_segment: HashMap<u32, Vec<u32>> = HashMap::new();
    // Non-negative lengths order as their bit patterns.
    let mut queue: BinaryHeap<Reverse<(u64, u32, u32)>> = BinaryHeap::new();
    let better = |m: f64, f: u32, metres: &[f64], facility: &[u32], n: usize| {
        (m, f) < (metres[n], facility[n])
    };
    for (f, joint) in joints.iter().enumerate() {
        let Some(joint) = joint else { continue };
        let f = f as u32;
        on_segment.entry(joint.segment).or_default().push(f);
        let segment = &graph.segments[joint.segment as usize];
        for (node, along) in [
            (segment.a, joint.along),
            (segment.b, segment.length - joint.along),
        ] {
            let m = joint.offset + along;
            let n = node as usize;
            if better(m, f, &metres, &facility, n) {
                metres[n] = m;
                facility[n] = f;
                came_along[n] = NONE;
                queue.push(Reverse((m.to_bits(), f, node)));
            }
        }
    }
    while let Some(Reverse((bits, f, node))) = queue.pop() {
        let m = f64::from_bits(bits);
        let n = node as usize;
        if m != metres[n] || f != facility[n] {
            continue;
        }
        for &segment in graph.incident(node) {
            let next = graph.across(segment, node);
            let reached = m + graph.segments[segment as usize].length;
            let x = next as usize;
            if better(reached, f, &metres, &facility, x) {
                metres[x] = reached;
                facility[x] = f;
                came_along[x] = segment;
                queue.push(Reverse((reached.to_bits(), f, next)));
            }
        }
    }
    Search {
        joints,
        metres,
        facility,
        came_along,
        on_segment,
    }
}
