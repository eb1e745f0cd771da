//! Musterstadt's streets: a walkable network over the whole demo city, built in memory (a
//! few thousand edges) from a seed.
//!
//! How it is made: a lattice of about 170 m, turned, bent by a smooth displacement and with
//! every junction jittered, so blocks are irregular quadrilaterals of 120–250 m; every other
//! street of it outside the inner city (blocks of about 340 m); some blocks merged by
//! dropping a street piece (never so that a part is cut off). Straighter lattice streets
//! are the secondary roads; a ring around the old town and six radial roads out of the city
//! are inserted as curves, joined at every street they cross; the old town inside 380 m is a
//! pedestrian zone. Then the barriers:
//!
//! - the river Werse, meandering west to east, with a path on each bank; streets end at the
//!   bank paths, and the river is crossed only on bridges (the ring's, the radial roads' and
//!   a few more), which meet the bank paths;
//! - the canal in the east, with a towpath on each bank; its bridges pass over the towpaths
//!   without meeting them (lines that cross without a common vertex, as a reader must keep
//!   apart);
//! - the railway from north-west to south-east past the old town, crossed at a few
//!   underpasses; the river paths pass under its bridge.
//!
//! A park without paths leaves a Kita and a few sites more than 300 m from any street, and an
//! allotment garden has paths that meet no street: a second part of the network. Any other
//! part the barriers cut off gets one of the crossings back.

mod green;
mod lines;
mod names;

use super::{Edge, Kind, Network};
use crate::generate::geometry::{distance, distance_to_line, distance_to_segment, Point};
use crate::generate::rng::Rng;
use lines::*;
use names::*;

/// Generator stream of the streets: the other layers stay as they were.
const STREAM: u64 = 22;
/// Lattice spacing (metres).
const SPACING: f64 = 170.0;
/// Radius of the park without paths around its Kita (metres).
const PARK: f64 = 480.0;
/// Radius around the allotment garden's centre in which no street is left (metres).
const ALLOTMENT: f64 = 240.0;

/// Half widths of the barriers (metres): where streets end, and where the bank paths run.
const RIVER: f64 = 20.0;
const CANAL: f64 = 24.0;
const RAILWAY: f64 = 12.0;

/// Where the demo city lies and what is in it.
pub(crate) struct DemoPlaces<'a> {
    pub seed: u64,
    pub centre: Point,
    pub radii: Point,
    pub sites: &'a [Point],
    pub schools: &'a [Point],
    pub kitas: &'a [Point],
}

/// The streets and what shaped them (the barriers, the park and the garden are for the tests
/// that check where the streets cross and which sites are off them).
#[derive(Debug, Clone)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Musterstadt {
    pub network: Network,
    pub river: Vec<Point>,
    pub canal: Vec<Point>,
    pub railway: Vec<Point>,
    /// Centre and radius of the park without paths, if a place for it was found.
    pub park: Option<(Point, f64)>,
    /// Centre and radius of the allotment garden, if a place for it was found.
    pub allotment: Option<(Point, f64)>,
}

/// The network while it is being built, with what the steps share.
struct Builder<'a> {
    places: &'a DemoPlaces<'a>,
    net: Network,
    rng: Rng,
    bridge_names: usize,
    /// Crossings taken out of barriers, for parts the barriers would otherwise cut off.
    spare: Vec<(Edge, Kind)>,
}

pub(crate) fn musterstadt(places: &DemoPlaces) -> Musterstadt {
    let mut build = Builder {
        places,
        net: Network::default(),
        rng: Rng::for_item(places.seed, STREAM, 0),
        bridge_names: 0,
        spare: Vec::new(),
    };
    let turn = build.lattice();
    let main_roads = build.main_roads();
    let [river, canal, railway] = build.barrier_lines();
    let in_city = |p: Point| build.norm(p) < 0.99;
    let canal_barrier = Barrier {
        line: &canal,
        half_width: CANAL,
        crossing: Kind::Bridge,
    };
    let canal_inside = longest_run(&canal, in_city);
    build.canal(&canal_barrier, &canal_inside);
    let river_barrier = Barrier {
        line: &river,
        half_width: RIVER,
        crossing: Kind::Bridge,
    };
    build.river(&river_barrier, &canal);
    // The river paths end at the canal too.
    build.remove_blocked(&canal_barrier, &[Kind::Bridge]);
    let rail_barrier = Barrier {
        line: &railway,
        half_width: RAILWAY,
        crossing: Kind::Underpass,
    };
    let rail_inside = longest_run(&railway, |p| build.norm(p) < 0.99);
    build.railway(&rail_barrier, &rail_inside);

    let roads: Vec<&[Point]> = main_roads.iter().map(|l| &l[..]).collect();
    let barriers = [&river[..], &canal[..], &railway[..]];
    let park = build.park(&barriers, &roads);
    let allotment = build.allotment(&barriers, &roads, park);
    build.reconnect();
    if let Some(centre) = allotment {
        build.garden_paths(centre, turn);
    }
    build.net.join_near_misses();
    Musterstadt {
        network: build.net,
        river,
        canal,
        railway,
        park: park.map(|p| (p, PARK)),
        allotment: allotment.map(|p| (p, ALLOTMENT)),
    }
}

impl Builder<'_> {
    /// How far out a point lies: 0 at the centre, 1 on the city limits.
    fn norm(&self, p: Point) -> f64 {
        let ((cx, cy), (rx, ry)) = (self.places.centre, self.places.radii);
        ((p.0 - cx) / rx).hypot((p.1 - cy) / ry)
    }

    fn new_bridge(&mut self) -> usize {
        let name = BRIDGES[self.bridge_names % BRIDGES.len()];
        self.bridge_names += 1;
        self.net.street(name, Kind::Bridge)
    }

    /// The lattice streets: turned, bent, every junction jittered, some pieces dropped.
    /// Returns the turn (radians).
    fn lattice(&mut self) -> f64 {
        let tau = std::f64::consts::TAU;
        let (cx, cy) = self.places.centre;
        let (rx, ry) = self.places.radii;
        let rng = &mut self.rng;
        let turn: f64 = rng.range(0.15, 0.35);
        let phases: Vec<f64> = (0..4).map(|_| rng.range(0.0, tau)).collect();
        let bend = |(x, y): Point| {
            (
                x + 120.0 * (tau * y / 4_200.0 + phases[0]).sin()
                    + 70.0 * (tau * (x + y) / 2_600.0 + phases[1]).sin(),
                y + 120.0 * (tau * x / 3_900.0 + phases[2]).sin()
                    + 70.0 * (tau * (x - y) / 2_900.0 + phases[3]).sin(),
            )
        };
        let edge_phase = rng.range(0.0, tau);
        let norm = |p: Point| ((p.0 - cx) / rx).hypot((p.1 - cy) / ry);
        let inner = |p: Point| {
            let angle = (p.1 - cy).atan2(p.0 - cx);
            norm(p) + 0.07 * (3.0 * angle + edge_phase).sin() < 0.6
        };
        let main_column = |i: i64| i.rem_euclid(7) == 3;
        let main_row = |j: i64| j.rem_euclid(6) == 2;
        let reach = (rx.max(ry) / SPACING).ceil() as i64 + 3;
        let width = (2 * reach + 1) as usize;
        let index = |i: i64, j: i64| ((i + reach) as usize) * width + (j + reach) as usize;
        let net = &mut self.net;
        let mut lattice: Vec<Option<usize>> = vec![None; width * width];
        for i in -reach..=reach {
            for j in -reach..=reach {
                let mut jitter = Rng::for_item(self.places.seed, STREAM, 1 + index(i, j) as u64);
                let mut u = jitter.range(-0.2, 0.2) * SPACING;
                let mut v = jitter.range(-0.2, 0.2) * SPACING;
                // The secondary roads run straighter.
                if main_column(i) {
                    u *= 0.15;
                }
                if main_row(j) {
                    v *= 0.15;
                }
                let (x, y) = (i as f64 * SPACING + u, j as f64 * SPACING + v);
                let (x, y) = (
                    x * turn.cos() - y * turn.sin(),
                    x * turn.sin() + y * turn.cos(),
                );
                let (x, y) = bend((x, y));
                let p = (cx + x, cy + y);
                if norm(p) < 0.985 && (inner(p) || i % 2 == 0 || j % 2 == 0) {
                    lattice[index(i, j)] = Some(net.node(p));
                }
            }
        }
        // Streets along the lattice lines, a new name every 6–12 blocks.
        let mut names = Names::new(rng);
        let mut dropped: Vec<(usize, usize, usize)> = Vec::new();
        for horizontal in [true, false] {
            for line in -reach..=reach {
                let main = if horizontal {
                    main_row(line)
                } else {
                    main_column(line)
                };
                let mut stretch_left = 0;
                let (mut ordinary, mut pedestrian) = (usize::MAX, usize::MAX);
                for k in -reach..reach {
                    let (a, b) = if horizontal {
                        (index(k, line), index(k + 1, line))
                    } else {
                        (index(line, k), index(line, k + 1))
                    };
                    let (Some(a), Some(b)) = (lattice[a], lattice[b]) else {
                        continue;
                    };
                    let (pa, pb) = (net.nodes[a], net.nodes[b]);
                    if line % 2 != 0 && !(inner(pa) && inner(pb)) {
                        continue;
                    }
                    if stretch_left == 0 {
                        let name = names.take();
                        let kind = if main {
                            Kind::Secondary
                        } else {
                            Kind::Residential
                        };
                        ordinary = net.street(name.clone(), kind);
                        pedestrian = net.street(name, Kind::Pedestrian);
                        stretch_left = rng.int(6, 12);
                    }
                    stretch_left -= 1;
                    let centre = self.places.centre;
                    let old_town = distance(pa, centre).max(distance(pb, centre)) < 380.0;
                    let street = if old_town { pedestrian } else { ordinary };
                    let drop = if inner(pa) && inner(pb) { 0.2 } else { 0.03 };
                    if !main && !old_town && rng.unit() < drop {
                        dropped.push((a, b, street));
                    } else {
                        net.edge(a, b, street);
                    }
                }
            }
        }
        // Dropped pieces that would cut a part off come back.
        let mut parts = net.parts();
        for (a, b, street) in dropped {
            if parts[a] != parts[b] {
                net.edge(a, b, street);
                parts = net.parts();
            }
        }
        turn
    }

    /// The ring around the old town (four named quarters) and six radial roads from it out
    /// of the city, joined to every street they cross. Returns their lines.
    fn main_roads(&mut self) -> Vec<Vec<Point>> {
        let tau = std::f64::consts::TAU;
        let (cx, cy) = self.places.centre;
        let (rx, ry) = self.places.radii;
        let ring_centre = (cx + 60.0, cy + 120.0);
        let ring_phase = self.rng.range(0.0, tau);
        let ring_vertices = 160;
        let ring: Vec<Point> = (0..=ring_vertices)
            .map(|k| {
                let angle = tau * k as f64 / ring_vertices as f64;
                let wobble = 1.0 + 0.04 * (3.0 * angle + ring_phase).sin();
                (
                    ring_centre.0 + 1_200.0 * wobble * angle.cos(),
                    ring_centre.1 + 1_000.0 * wobble * angle.sin(),
                )
            })
            .collect();
        for (quarter, name) in RING.iter().enumerate() {
            let street = self.net.street(*name, Kind::Primary);
            let q = ring_vertices / 4;
            self.net
                .insert_line(&ring[quarter * q..=(quarter + 1) * q], street);
        }
        let mut roads: Vec<Vec<Point>> = vec![ring.clone()];
        for (k, name) in RADIALS.iter().enumerate() {
            // Away from the river's and the railway's directions, so each crosses them once
            // at most.
            let angle = [25.0f64, 85.0, 155.0, 215.0, 265.0, 335.0][k].to_radians()
                + self.rng.range(-0.14, 0.14);
            let vertex = ((angle.rem_euclid(tau) / tau) * ring_vertices as f64).round() as usize;
            let start = ring[vertex % ring_vertices];
            let start_angle = (start.1 - ring_centre.1).atan2(start.0 - ring_centre.0);
            let (dx, dy) = (start_angle.cos(), start_angle.sin());
            // To 15 % beyond the city limits.
            let end = 1.15 / ((dx / rx).hypot(dy / ry));
            let length = end - distance(start, self.places.centre).min(end - 500.0);
            let wave = self.rng.range(0.0, tau);
            let steps = (length / 50.0).ceil() as usize;
            let line: Vec<Point> = (0..=steps)
                .map(|s| {
                    let t = length * s as f64 / steps as f64;
                    let side = 60.0 * (tau * t / 3_000.0 + wave).sin() * (t / length).min(1.0);
                    (start.0 + t * dx - side * dy, start.1 + t * dy + side * dx)
                })
                .collect();
            let street = self.net.street(*name, Kind::Primary);
            self.net.insert_line(&line, street);
            roads.push(line);
        }
        roads
    }

    /// The river (west to east, meandering), the canal (north to south in the east) and the
    /// railway (north-west to south-east past the old town), beyond the city limits.
    fn barrier_lines(&mut self) -> [Vec<Point>; 3] {
        let tau = std::f64::consts::TAU;
        let (cx, cy) = self.places.centre;
        let rng = &mut self.rng;
        let river_phases = (rng.range(0.0, tau), rng.range(0.0, tau));
        let river: Vec<Point> = (0..=475)
            .map(|k| {
                let x = -9_500.0 + 40.0 * k as f64;
                let y = -450.0
                    + 650.0 * (tau * x / 6_200.0 + river_phases.0).sin()
                    + 220.0 * (tau * x / 2_300.0 + river_phases.1).sin()
                    + 0.08 * x;
                (cx + x, cy + y)
            })
            .collect();
        let canal_phase = rng.range(0.0, tau);
        let canal: Vec<Point> = (0..=375)
            .map(|k| {
                let y = -7_500.0 + 40.0 * k as f64;
                (
                    cx + 3_900.0 + 250.0 * (tau * y / 7_000.0 + canal_phase).sin(),
                    cy + y,
                )
            })
            .collect();
        let rail_angle: f64 = rng.range(-1.0, -0.8);
        let railway: Vec<Point> = (0..=400)
            .map(|k| {
                let t = -10_000.0 + 50.0 * k as f64;
                let bow = 250.0 * (std::f64::consts::PI * t / 10_000.0).cos();
                (
                    cx - 350.0 + t * rail_angle.cos() - bow * rail_angle.sin(),
                    cy - 500.0 + t * rail_angle.sin() + bow * rail_angle.cos(),
                )
            })
            .collect();
        [river, canal, railway]
    }

    /// Makes the main roads' pieces that `across` picks crossings of their own: one street
    /// per road and place (within 150 m), a bridge or an underpass of the road's name.
    /// Returns where they cross.
    fn main_road_crossings(
        &mut self,
        kind: Kind,
        across: impl Fn(&Network, &Edge) -> bool,
    ) -> Vec<Point> {
        let mut made: Vec<(usize, Point, usize)> = Vec::new();
        let mut at = Vec::new();
        for e in 0..self.net.edges.len() {
            let edge = self.net.edges[e];
            if self.net.streets[edge.street].kind != Kind::Primary || !across(&self.net, &edge) {
                continue;
            }
            let middle = self.net.midpoint(&edge);
            at.push(middle);
            let known = made
                .iter()
                .find(|(road, p, _)| *road == edge.street && distance(*p, middle) < 150.0);
            let street = match known {
                Some(&(_, _, street)) => street,
                None => {
                    let street = if kind == Kind::Bridge {
                        self.new_bridge()
                    } else {
                        let name = self.net.streets[edge.street].name.clone();
                        self.net.street(name, kind)
                    };
                    made.push((edge.street, middle, street));
                    street
                }
            };
            self.net.edges[e].street = street;
        }
        at
    }

    /// Picks, for each target point, the edge among `candidates` whose crossing of the
    /// barrier lies nearest to it (within `reach` metres) and at least `apart` metres from
    /// the crossings in `kept`, and makes it a crossing of its own.
    fn add_crossings(
        &mut self,
        barrier: &Barrier,
        candidates: &[usize],
        targets: &[Point],
        kept: &mut Vec<Point>,
        reach: f64,
        apart: f64,
    ) -> Vec<usize> {
        let mut chosen = Vec::new();
        for &target in targets {
            let net = &self.net;
            let best = candidates
                .iter()
                .filter_map(|&e| barrier.crossing_point(net, &net.edges[e]).map(|x| (e, x)))
                .filter(|&(_, x)| kept.iter().all(|&k| distance(k, x) >= apart))
                .map(|(e, x)| (distance(x, target), e, x))
                .filter(|&(d, _, _)| d <= reach)
                .min_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((_, e, x)) = best {
                kept.push(x);
                chosen.push(e);
                let street = if barrier.crossing == Kind::Bridge {
                    self.new_bridge()
                } else {
                    let name = self.net.streets[self.net.edges[e].street].name.clone();
                    self.net.street(name, barrier.crossing)
                };
                self.net.edges[e].street = street;
            }
        }
        chosen
    }

    /// The ordinary streets that cross the barrier from one side to the other.
    fn spanning(&self, barrier: &Barrier, also: impl Fn(&Edge) -> bool) -> Vec<usize> {
        (0..self.net.edges.len())
            .filter(|&e| {
                let edge = &self.net.edges[e];
                let kind = self.net.streets[edge.street].kind;
                matches!(kind, Kind::Residential | Kind::Secondary | Kind::Pedestrian)
                    && barrier.spans(&self.net, edge)
                    && also(edge)
            })
            .collect()
    }

    /// The canal: bridges first (the main roads' and two more), marked to pass over the
    /// towpaths inserted next; then everything else in the canal goes.
    fn canal(&mut self, canal: &Barrier, inside: &[Point]) {
        let line = canal.line;
        let near = |net: &Network, e: &Edge| {
            let (a, b) = net.segment(e);
            distance_to_line(a, line).min(distance_to_line(b, line)) < CANAL + 3.0
                || crosses(a, b, line)
        };
        for e in 0..self.net.edges.len() {
            let edge = self.net.edges[e];
            if self.net.streets[edge.street].kind == Kind::Primary && near(&self.net, &edge) {
                self.net.edges[e].over = true;
            }
        }
        let mut kept = self.main_road_crossings(Kind::Bridge, |net, e| e.over && near(net, e));
        let candidates = self.spanning(canal, |e| {
            let (a, b) = self.net.segment(e);
            distance_to_line(a, line).min(distance_to_line(b, line)) > CANAL + 4.0
        });
        let targets = [along(inside, 0.3), along(inside, 0.7)];
        for e in self.add_crossings(canal, &candidates, &targets, &mut kept, 700.0, 600.0) {
            self.net.edges[e].over = true;
        }
        let west = self.net.street("Treidelpfad", Kind::Footpath);
        let east = self.net.street("Am Kanal", Kind::Footpath);
        let in_city = |p: Point| self.norm(p) < 0.99;
        let (west_bank, east_bank) = (
            longest_run(&offset(line, CANAL), in_city),
            longest_run(&offset(line, -CANAL), in_city),
        );
        self.net.insert_line(&west_bank, west);
        self.net.insert_line(&east_bank, east);
        self.remove_blocked(canal, &[Kind::Bridge]);
    }

    /// The river: a path on each bank, the main roads' bridges and three more, which meet
    /// the bank paths; everything else in the river goes.
    fn river(&mut self, river: &Barrier, canal: &[Point]) {
        let north = self.net.street("Uferweg", Kind::Footpath);
        let south = self.net.street("An der Werse", Kind::Footpath);
        let in_city = |p: Point| self.norm(p) < 0.99;
        let (north_bank, south_bank) = (
            longest_run(&offset(river.line, RIVER), in_city),
            longest_run(&offset(river.line, -RIVER), in_city),
        );
        self.net.insert_line(&north_bank, north);
        self.net.insert_line(&south_bank, south);
        let mut kept = self.main_road_crossings(Kind::Bridge, |net, e| river.blocks(net, e));
        let candidates = self.spanning(river, |e| {
            distance_to_line(self.net.midpoint(e), canal) > 300.0
        });
        let targets: Vec<Point> = [-4_500.0, 0.0, 4_500.0]
            .iter()
            .map(|&x: &f64| {
                let x = x + self.rng.range(-300.0, 300.0);
                river.line[((x + 9_500.0) / 40.0).round() as usize]
            })
            .collect();
        self.add_crossings(river, &candidates, &targets, &mut kept, 800.0, 500.0);
        self.remove_blocked(river, &[Kind::Bridge]);
    }

    /// The railway: the main roads' underpasses and four more; the river paths pass under
    /// its bridge; everything else across it goes.
    fn railway(&mut self, railway: &Barrier, inside: &[Point]) {
        let mut kept = self.main_road_crossings(Kind::Underpass, |net, e| railway.blocks(net, e));
        kept.extend(
            self.net
                .edges
                .iter()
                .filter(|e| {
                    matches!(
                        self.net.streets[e.street].kind,
                        Kind::Bridge | Kind::Footpath
                    ) && railway.blocks(&self.net, e)
                })
                .map(|e| self.net.midpoint(e)),
        );
        let candidates = self.spanning(railway, |_| true);
        let targets = [0.2, 0.45, 0.7, 0.9].map(|f| along(inside, f));
        self.add_crossings(railway, &candidates, &targets, &mut kept, 600.0, 700.0);
        self.remove_blocked(railway, &[Kind::Underpass, Kind::Bridge, Kind::Footpath]);
    }

    /// Removes the edges in the barrier except those of the `keep` kinds; those across it
    /// from one side to the other are kept back as spare crossings.
    fn remove_blocked(&mut self, barrier: &Barrier, keep: &[Kind]) {
        let mut kept = Vec::with_capacity(self.net.edges.len());
        for e in std::mem::take(&mut self.net.edges) {
            if keep.contains(&self.net.streets[e.street].kind) || !barrier.blocks(&self.net, &e) {
                kept.push(e);
            } else if barrier.spans(&self.net, &e) {
                self.spare.push((e, barrier.crossing));
            }
        }
        self.net.edges = kept;
    }

    /// Gives each part cut off from the largest one a spare crossing that joins it (the
    /// first in order); parts that no crossing reaches are dropped.
    fn reconnect(&mut self) {
        let net = &mut self.net;
        loop {
            let parts = net.parts();
            let mut size = vec![0usize; net.nodes.len()];
            for e in &net.edges {
                size[parts[e.a]] += 1;
            }
            let Some(largest) = (0..size.len()).max_by_key(|&p| (size[p], std::cmp::Reverse(p)))
            else {
                return;
            };
            if (0..size.len()).all(|p| size[p] == 0 || p == largest) {
                return;
            }
            let joining = self.spare.iter().find(|(e, _)| {
                let (a, b) = (parts[e.a], parts[e.b]);
                a != b && size[a] > 0 && size[b] > 0 && (a == largest || b == largest)
            });
            match joining {
                Some(&(edge, kind)) => {
                    let name = net.streets[edge.street].name.clone();
                    let street = if kind == Kind::Bridge {
                        net.street(format!("Steg {name}"), Kind::Bridge)
                    } else {
                        net.street(name, Kind::Underpass)
                    };
                    net.edges.push(Edge {
                        street,
                        over: false,
                        ..edge
                    });
                }
                None => {
                    net.edges.retain(|e| parts[e.a] == largest);
                    return;
                }
            }
        }
    }
}
