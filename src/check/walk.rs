//! Distances on foot for the checker (docs/model.md "Distances on foot: the street
//! network"), computed the plain way, straight from the model's text and independent of the
//! solver's network code:
//!
//! - every vertex of every line is a node; vertices that agree when rounded to 0.01 m are
//!   the same node; each segment is an edge of its Euclidean length, both ways;
//! - a point joins the network at the closest point of the closest segment (brute force over
//!   every segment; ties: the first line, then the first segment), and the straight leg to
//!   that access point counts; farther than `max_snap_m` it is off the network;
//! - one textbook Dijkstra per facility over the whole graph, started at both ends of the
//!   facility's segment; a site's walk leaves its own segment at either end, or runs along
//!   it when the facility's access point lies on the same segment.
//!
//! Facilities are few (hundreds), the sites that matter a few thousand: brute-force snapping
//! and one search per facility take well under a second for a city (see the `#[ignore]`d
//! timing test).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use crate::model::{FacilityLayer, Instance, Stage, Streets};
use crate::spatial::Geography;

/// Two walks this close (metres) count as equally long: the lower facility index serves.
/// Sums of the same lengths in another order differ in the last bits, and the solver adds
/// them in its own order.
pub const TIE_M: f64 = 1e-6;

/// The walk from each of some sites to the nearest facility of each layer: per facility
/// layer (order of `Instance::facilities`), per site asked for (in the order asked), the
/// index of the nearest facility on foot and the metres of the walk; `None` when no facility
/// of the layer can be reached (the site is off the network, or its part of the network
/// holds none, or the layer is empty). Every entry is `None` when the instance has no street
/// network. Ties: the lowest facility index (walks within `TIE_M` of each other are ties).
pub fn walk_distances(instance: &Instance, sites: &[usize]) -> Vec<Vec<Option<(u32, f64)>>> {
    let Some(streets) = &instance.network else {
        return vec![vec![None; sites.len()]; instance.facilities.len()];
    };
    let network = Network::of(streets);
    let points: Vec<[f64; 2]> = sites.iter().map(|&s| instance.sites[s].position).collect();
    let access: Vec<Option<AccessPoint>> = points
        .iter()
        .map(|&p| {
            network
                .access_point(p)
                .filter(|a| a.leg <= streets.max_snap_m)
        })
        .collect();
    instance
        .facilities
        .iter()
        .map(|layer| network.nearest_on_foot(layer, streets.max_snap_m, &access))
        .collect()
}

/// Why a site reaches no facility of a kind on foot (docs/model.md "Distances on foot").
#[derive(Debug, Clone, PartialEq)]
pub enum Unreachable {
    /// The site is farther than `max_snap_m` from every street (`metres`: the straight way
    /// to the nearest one).
    SiteOffNetwork { metres: f64, max_snap_m: f64 },
    /// No facility of the kind lies in the site's connected part of the network.
    NotInPart,
    /// Every facility of the kind is farther than `max_snap_m` from the network.
    FacilitiesOffNetwork { max_snap_m: f64 },
    /// The street network has no segment at all.
    NoStreet,
}

/// The street network as a graph.
struct Network {
    /// Per node: its neighbours and the metres to each.
    adjacency: Vec<Vec<(u32, f64)>>,
    /// Every segment, lines in file order and segments in line order.
    segments: Vec<Segment>,
}

struct Segment {
    from: [f64; 2],
    to: [f64; 2],
    /// The nodes at `from` and `to`.
    ends: [u32; 2],
    /// Euclidean length between `from` and `to` as given.
    metres: f64,
}

/// Where a point joins the network.
#[derive(Debug, Clone, Copy, PartialEq)]
struct AccessPoint {
    /// Index into `Network::segments`.
    segment: usize,
    /// Metres along the segment from its `from` end.
    along: f64,
    /// The straight leg from the point to its access point.
    leg: f64,
}

fn euclidean(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// Vertices that agree when rounded to 0.01 m are one node.
fn node_key(p: [f64; 2]) -> (i64, i64) {
    ((p[0] * 100.0).round() as i64, (p[1] * 100.0).round() as i64)
}

impl Network {
    fn of(streets: &Streets) -> Network {
        let mut nodes: HashMap<(i64, i64), u32> = HashMap::new();
        let mut adjacency: Vec<Vec<(u32, f64)>> = Vec::new();
        let mut node = |p: [f64; 2], adjacency: &mut Vec<Vec<(u32, f64)>>| {
            *nodes.entry(node_key(p)).or_insert_with(|| {
                adjacency.push(Vec::new());
                (adjacency.len() - 1) as u32
            })
        };
        let mut segments = Vec::new();
        for line in &streets.lines {
            for pair in line.points.windows(2) {
                let (from, to) = (pair[0], pair[1]);
                let ends = [node(from, &mut adjacency), node(to, &mut adjacency)];
                let metres = euclidean(from, to);
                adjacency[ends[0] as usize].push((ends[1], metres));
                adjacency[ends[1] as usize].push((ends[0], metres));
                segments.push(Segment {
                    from,
                    to,
                    ends,
                    metres,
                });
            }
        }
        Network {
            adjacency,
            segments,
        }
    }

    /// The closest point of the closest segment to `p` (orthogonal projection clamped to
    /// the segment; ties: the first segment in file order), whatever its distance; `None`
    /// only when the network has no segment.
    fn access_point(&self, p: [f64; 2]) -> Option<AccessPoint> {
        let mut best: Option<(f64, AccessPoint)> = None;
        for (index, segment) in self.segments.iter().enumerate() {
            let (a, b) = (segment.from, segment.to);
            let d = [b[0] - a[0], b[1] - a[1]];
            let squared_length = d[0] * d[0] + d[1] * d[1];
            let t = if squared_length > 0.0 {
                ((p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1]) / squared_length
            } else {
                0.0
            };
            // The ends exactly, not a + 1·(b − a), so that a vertex shared by two segments
            // is the same point on both and the first segment wins the tie.
            let (closest, along) = if t <= 0.0 {
                (a, 0.0)
            } else if t >= 1.0 {
                (b, segment.metres)
            } else {
                ([a[0] + t * d[0], a[1] + t * d[1]], t * segment.metres)
            };
            let squared = (p[0] - closest[0]).powi(2) + (p[1] - closest[1]).powi(2);
            if best.is_none_or(|(nearest, _)| squared < nearest) {
                best = Some((
                    squared,
                    AccessPoint {
                        segment: index,
                        along,
                        leg: squared.sqrt(),
                    },
                ));
            }
        }
        best.map(|(_, access)| access)
    }

    /// Shortest walk in metres from `source` to every node (`f64::INFINITY`: not reachable):
    /// Dijkstra started at both ends of the source's segment.
    fn walks_from(&self, source: AccessPoint) -> Vec<f64> {
        let segment = &self.segments[source.segment];
        let mut metres = vec![f64::INFINITY; self.adjacency.len()];
        let mut queue = BinaryHeap::new();
        for (end, along) in segment
            .ends
            .into_iter()
            .zip([source.along, segment.metres - source.along])
        {
            let start = source.leg + along;
            if start < metres[end as usize] {
                metres[end as usize] = start;
                queue.push(Visit {
                    metres: start,
                    node: end,
                });
            }
        }
        while let Some(Visit { metres: here, node }) = queue.pop() {
            if here > metres[node as usize] {
                continue;
            }
            for &(next, length) in &self.adjacency[node as usize] {
                let there = here + length;
                if there < metres[next as usize] {
                    metres[next as usize] = there;
                    queue.push(Visit {
                        metres: there,
                        node: next,
                    });
                }
            }
        }
        metres
    }

    /// The walk from `site` (an access point) to the facility whose walks to every node are
    /// `walks` and whose access point is `facility`.
    fn walk(&self, site: AccessPoint, facility: AccessPoint, walks: &[f64]) -> f64 {
        let segment = &self.segments[site.segment];
        let via_from = site.along + walks[segment.ends[0] as usize];
        let via_to = (segment.metres - site.along) + walks[segment.ends[1] as usize];
        let mut network = via_from.min(via_to);
        if site.segment == facility.segment {
            network = network.min((site.along - facility.along).abs() + facility.leg);
        }
        site.leg + network
    }

    /// Per site (its access point, `None` when off the network): the nearest facility of
    /// `layer` on foot and the metres.
    fn nearest_on_foot(
        &self,
        layer: &FacilityLayer,
        max_snap_m: f64,
        sites: &[Option<AccessPoint>],
    ) -> Vec<Option<(u32, f64)>> {
        let mut nearest: Vec<Option<(u32, f64)>> = vec![None; sites.len()];
        for (f, facility) in layer.facilities.iter().enumerate() {
            let Some(at) = self
                .access_point(facility.position)
                .filter(|a| a.leg <= max_snap_m)
            else {
                continue;
            };
            let walks = self.walks_from(at);
            for (best, site) in nearest.iter_mut().zip(sites) {
                let Some(site) = site else { continue };
                let metres = self.walk(*site, at, &walks);
                if metres.is_finite() && best.is_none_or(|(_, m)| metres < m - TIE_M) {
                    *best = Some((f as u32, metres));
                }
            }
        }
        nearest
    }
}

/// One entry of Dijkstra's queue, the shortest walk first.
#[derive(Debug, PartialEq)]
struct Visit {
    metres: f64,
    node: u32,
}

impl Eq for Visit {}

impl Ord for Visit {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .metres
            .total_cmp(&self.metres)
            .then(other.node.cmp(&self.node))
    }
}

impl PartialOrd for Visit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Site-to-facility distances as rules 6 and 7 measure them: the straight line from the
/// solver side's index, or, with a street network, the checker's own walks.
pub(super) enum Distances<'a> {
    Straight(&'a Geography),
    OnFoot(OnFoot),
}

/// The nearest facility on foot and the metres of the walk; `None`: none within reach.
type Reach = Option<(u32, f64)>;

/// The checker's walks from the sites that matter.
pub(super) struct OnFoot {
    /// Per facility layer (`None`: no rule needs it), per site of the instance: the nearest
    /// facility on foot and the metres (`None` also for a site not measured).
    nearest: Vec<Option<Vec<Reach>>>,
    /// Per site: the straight way to the nearest street (`None`: not measured, or no street).
    to_street: Vec<Option<f64>>,
    /// Per facility layer: whether any of its facilities is on the network.
    any_facility_on_network: Vec<bool>,
    max_snap_m: f64,
}

impl<'a> Distances<'a> {
    /// The distances for the sites whose `matters` is true: without a street network the
    /// straight lines of `geography`; with one, walks measured here for the facility layers
    /// that rule 6, rule 7 or stage E name.
    pub(super) fn measure(
        instance: &Instance,
        geography: &'a Geography,
        matters: impl Fn(usize) -> bool,
    ) -> Distances<'a> {
        let Some(streets) = &instance.network else {
            return Distances::Straight(geography);
        };
        let network = Network::of(streets);
        let mut access = vec![None; instance.sites.len()];
        let mut to_street = vec![None; instance.sites.len()];
        for (s, site) in instance.sites.iter().enumerate() {
            if matters(s) {
                let at = network.access_point(site.position);
                to_street[s] = at.map(|a| a.leg);
                access[s] = at.filter(|a| a.leg <= streets.max_snap_m);
            }
        }
        let named = |kind: &str| {
            instance.rules.access.iter().any(|rule| rule.kind == kind)
                || instance
                    .rules
                    .seats
                    .as_ref()
                    .is_some_and(|rule| rule.kind == kind)
                || (instance.stages.contains(&Stage::Access)
                    && instance.access_kinds().iter().any(|k| k == kind))
        };
        let nearest = instance
            .facilities
            .iter()
            .map(|layer| {
                named(&layer.kind)
                    .then(|| network.nearest_on_foot(layer, streets.max_snap_m, &access))
            })
            .collect();
        let any_facility_on_network = instance
            .facilities
            .iter()
            .map(|layer| {
                layer.facilities.iter().any(|f| {
                    network
                        .access_point(f.position)
                        .is_some_and(|a| a.leg <= streets.max_snap_m)
                })
            })
            .collect();
        Distances::OnFoot(OnFoot {
            nearest,
            to_street,
            any_facility_on_network,
            max_snap_m: streets.max_snap_m,
        })
    }

    /// Whether the distances are walked along the street network.
    pub(super) fn on_foot(&self) -> bool {
        matches!(self, Distances::OnFoot(_))
    }

    /// The nearest facility of `layer` from site `s` and the metres to it.
    pub(super) fn nearest(&self, layer: usize, s: usize) -> Option<(u32, f64)> {
        match self {
            Distances::Straight(geography) => {
                geography.nearest[layer][s].map(|n| (n.facility, n.metres))
            }
            Distances::OnFoot(walks) => walks.nearest[layer].as_ref().and_then(|n| n[s]),
        }
    }

    /// Why site `s` reaches no facility of `layer` on foot; `None` when it reaches one, when
    /// the layer has no facility at all (nothing to reach, as in a straight line), or
    /// without a street network.
    pub(super) fn unreachable(
        &self,
        instance: &Instance,
        layer: usize,
        s: usize,
    ) -> Option<Unreachable> {
        let Distances::OnFoot(walks) = self else {
            return None;
        };
        if instance.facilities[layer].facilities.is_empty() || self.nearest(layer, s).is_some() {
            return None;
        }
        let max_snap_m = walks.max_snap_m;
        Some(match walks.to_street[s] {
            None => Unreachable::NoStreet,
            Some(metres) if metres > max_snap_m => {
                Unreachable::SiteOffNetwork { metres, max_snap_m }
            }
            Some(_) if !walks.any_facility_on_network[layer] => {
                Unreachable::FacilitiesOffNetwork { max_snap_m }
            }
            Some(_) => Unreachable::NotInPart,
        })
    }
}

#[cfg(test)]
mod tests;
