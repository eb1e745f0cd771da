//! Realistic synthetic cities of address points, for benchmarks and tests that need data like
//! a city office's without using real data. Two presets:
//!
//! - `muenster`: a Münster-like city, about 2,000 candidate address points in 45 statistical
//!   districts, 315,000 residents on about 300 km²;
//! - `midsize`: the mid-size city benchmark, 6,600 sites in 86 districts with 240,000
//!   residents, 8 % of the sites row houses (exactly 10 places or none) and a cost on 60 % of
//!   the sites; its scenario has spacing 400 m / 150 places, a school within 1,200 m, a Kita
//!   within 900 m and a share cap of 1.2 %.
//!
//! How a city is made: an irregular convex outline; district seeds that lie closer together in
//! the core; their Voronoi cells clipped to the outline, with every edge subdivided and the
//! whole plane bent by a smooth, one-to-one displacement (so boundaries wind like real ones,
//! neighbours still share every vertex, and nothing overlaps); a dense core, sparse outskirts
//! and a few nearly empty districts (industry, forest); people live around each district's
//! village centre. Sites are address points along streets that start where people live
//! (several to 30 on a street, so 10–30 candidates often lie within 300 m), plus existing
//! accommodation with occupied places, sites the council excluded and a few offers just
//! outside the city limits. Schools, Kitas (both with free `seats`) and stops lie where people
//! live. District ids are numbers in the Münster-like city (101, 102, …) and text such as
//! "07-Süd" in the mid-size city; sites and stops have numbers, schools and Kitas text; each
//! layer keeps one type, as a GIS exports it. Names carry umlauts and ß.
//!
//! The districts, streets and facilities are built in memory (small); sites are drawn one by
//! one from their own generator, so a city with millions of sites streams like a grid.

use std::io::{self, Write};

use super::geometry::{area, bounds, clip_nearer, contains, point_in, Point};
use super::rng::Rng;
use super::{
    begin_collection, end_collection, json_string, point_feature, polygon_feature, unknown_layer,
};

mod districts;
mod facts;
mod names;
mod shape;
mod sites;
#[cfg(test)]
mod tests;
mod write;

use districts::{CityDistrict, DistrictLookup};

pub use facts::CityFacts;
use names::{district_names, shuffle, street_name, BEZIRKE};
use shape::{convex_hull, distance, round2, Warp};

// Generator streams: each item draws from (seed, stream, index).
const PLAN: u64 = 11;
const STREETS: u64 = 12;
const SITES: u64 = 13;
const FACILITIES: u64 = 14;

/// Which kind of city.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CityPreset {
    /// A Münster-like city: about 2,000 address points in 45 districts.
    Muenster,
    /// The mid-size city benchmark: 6,600 sites in 86 districts, row houses, costs, spacing,
    /// access and a share cap.
    Midsize,
}

/// The make-up of a preset: its size, where it lies, and the shares of site kinds.
struct Profile {
    label: &'static str,
    centre: Point,
    /// Half-axes of the outline before it is made irregular (metres).
    radii: (f64, f64),
    districts: u32,
    sites: u64,
    residents: u64,
    /// Shares of address points by kind; the rest are flats.
    row_house: f64,
    shared: f64,
    hall: f64,
    /// Share of address points that are existing accommodation.
    existing: f64,
    /// Share of the other address points the council excluded.
    excluded: f64,
    /// Share of sites with a cost per place.
    cost: f64,
}

impl CityPreset {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            CityPreset::Muenster => "muenster",
            CityPreset::Midsize => "midsize",
        }
    }

    fn profile(self) -> Profile {
        match self {
            CityPreset::Muenster => Profile {
                label: "Münster-like city",
                centre: (405_000.0, 5_757_000.0),
                radii: (10_500.0, 9_200.0),
                districts: 45,
                sites: 2_000,
                residents: 315_000,
                row_house: 0.0,
                shared: 0.20,
                hall: 0.03,
                existing: 0.01,
                excluded: 0.03,
                cost: 0.8,
            },
            CityPreset::Midsize => Profile {
                label: "mid-size city",
                centre: (468_000.0, 5_764_000.0),
                radii: (8_200.0, 6_600.0),
                districts: 86,
                sites: 6_600,
                residents: 240_000,
                row_house: 0.08,
                shared: 0.18,
                hall: 0.03,
                existing: 0.01,
                excluded: 0.03,
                cost: 0.6,
            },
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CitySpec {
    pub preset: CityPreset,
    pub districts: u32,
    /// Every feature of the sites layer, the few outside the city limits included.
    pub sites: u64,
    pub residents: u64,
    pub seed: u64,
}

impl CitySpec {
    /// The preset with its own numbers of districts, sites and residents.
    pub fn new(preset: CityPreset, seed: u64) -> CitySpec {
        let profile = preset.profile();
        CitySpec {
            preset,
            districts: profile.districts,
            sites: profile.sites,
            residents: profile.residents,
            seed,
        }
    }

    /// The command that writes this city.
    pub fn command(&self) -> String {
        let default = CitySpec::new(self.preset, self.seed);
        let mut text = format!("quartier generate --city {}", self.preset.name());
        if self.districts != default.districts {
            text += &format!(" --districts {}", self.districts);
        }
        if self.sites != default.sites {
            text += &format!(" --sites {}", self.sites);
        }
        if self.residents != default.residents {
            text += &format!(" --residents {}", self.residents);
        }
        text + &format!(" --seed {}", self.seed)
    }
}

/// A message for arguments a city cannot be made from.
pub fn validate_city(spec: &CitySpec) -> Result<(), String> {
    if !(5..=1_000).contains(&spec.districts) {
        return Err(format!(
            "--districts must be between 5 and 1,000, found {}",
            spec.districts
        ));
    }
    if !(20..=5_000_000).contains(&spec.sites) {
        return Err(format!(
            "--sites must be between 20 and 5,000,000 for a city, found {}",
            spec.sites
        ));
    }
    if !(10_000..=20_000_000).contains(&spec.residents) {
        return Err(format!(
            "--residents must be between 10,000 and 20,000,000, found {}",
            spec.residents
        ));
    }
    if spec.residents < 500 * u64::from(spec.districts) {
        return Err(format!(
            "--residents {} is too few for {} districts (at least 500 per district)",
            spec.residents, spec.districts
        ));
    }
    Ok(())
}

/// A street: address points lie along it, a few metres to either side.
struct Street {
    /// Index of its first site; the next street's first site ends it.
    first: u64,
    start: Point,
    direction: Point,
    length: f64,
    name: String,
}

struct CityFacility {
    /// The id as a JSON literal.
    id: String,
    name: String,
    at: Point,
    seats: Option<u64>,
}

/// One site of the sites layer.
struct CitySite {
    /// The id as a JSON literal.
    id: String,
    kind: &'static str,
    at: Point,
    address: String,
    capacity: u64,
    status: &'static str,
    occupied: u64,
    min_places: Option<u64>,
    cost: Option<u64>,
    outside: bool,
}

/// A generated city: districts, streets and facilities in memory, sites drawn on demand.
pub struct City {
    spec: CitySpec,
    profile: Profile,
    districts: Vec<CityDistrict>,
    lookup: DistrictLookup,
    /// Hull of the city before bending, counter-clockwise; offers outside lie beyond it.
    hull_centre: Point,
    streets: Vec<Street>,
    /// Sites at the end of the layer that lie just outside the city limits.
    outside: u64,
    schools: Vec<CityFacility>,
    kitas: Vec<CityFacility>,
    stops: Vec<CityFacility>,
}

/// Stadtbezirke: the centre, then five sectors counter-clockwise from the east.
impl City {
    /// Builds the city's districts, streets and facilities (call `validate_city` first).
    pub fn new(spec: &CitySpec) -> City {
        let profile = spec.preset.profile();
        let mut rng = Rng::for_item(spec.seed, PLAN, 0);
        let centre = profile.centre;
        let (rx, ry) = profile.radii;

        // An irregular convex outline: a bumpy ellipse, hulled.
        let bumps: Vec<(f64, f64, f64)> = (2..=5)
            .map(|k| {
                (
                    f64::from(k),
                    rng.range(0.03, 0.09),
                    rng.range(0.0, std::f64::consts::TAU),
                )
            })
            .collect();
        let tilt = rng.range(-0.4, 0.4);
        let outline = convex_hull(
            (0..96)
                .map(|i| {
                    let a = std::f64::consts::TAU * f64::from(i) / 96.0;
                    let r = 1.0
                        + bumps
                            .iter()
                            .map(|(k, amp, ph)| amp * (k * a + ph).cos())
                            .sum::<f64>();
                    let (x, y) = (rx * r * a.cos(), ry * r * a.sin());
                    (
                        centre.0 + x * tilt.cos() - y * tilt.sin(),
                        centre.1 + x * tilt.sin() + y * tilt.cos(),
                    )
                })
                .collect(),
        );
        let normalised = |p: Point| {
            let (x, y) = (p.0 - centre.0, p.1 - centre.1);
            let (u, v) = (
                x * tilt.cos() + y * tilt.sin(),
                -x * tilt.sin() + y * tilt.cos(),
            );
            (u / rx).hypot(v / ry)
        };

        // District seeds, closer together in the core.
        let n = spec.districts as usize;
        let spacing = (area(&outline) / n as f64).sqrt();
        let mut seeds: Vec<Point> = Vec::with_capacity(n);
        let mut attempts = 0u32;
        while seeds.len() < n {
            attempts += 1;
            let relax = 0.93f64.powi((attempts / 1_000) as i32);
            let r = rng.unit().sqrt() * 1.05;
            let a = rng.range(0.0, std::f64::consts::TAU);
            let (x, y) = (rx * r * a.cos(), ry * r * a.sin());
            let p = (
                centre.0 + x * tilt.cos() - y * tilt.sin(),
                centre.1 + x * tilt.sin() + y * tilt.cos(),
            );
            let gap = spacing * (0.3 + 1.0 * r) * relax;
            if contains(&outline, p) && seeds.iter().all(|&q| distance(p, q) >= gap) {
                seeds.push(p);
            }
        }

        // Voronoi cells clipped to the outline, bent.
        let warp = Warp::new(centre, &mut rng);
        let mut cells: Vec<(Point, Vec<Point>)> = seeds
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let mut cell = outline.clone();
                for (j, &q) in seeds.iter().enumerate() {
                    if i != j {
                        cell = clip_nearer(&cell, p, q);
                    }
                }
                let mut ring: Vec<Point> = cell.into_iter().map(round2).collect();
                ring.dedup();
                while ring.len() > 1 && ring.first() == ring.last() {
                    ring.pop();
                }
                (p, warp.bend_ring(&ring))
            })
            .collect();

        // Stadtbezirke: the centre, then five sectors around it; districts listed by
        // Stadtbezirk, then from the inside out.
        let bezirk_of = |p: Point| -> usize {
            if normalised(p) < 0.3 {
                return 0;
            }
            let angle = (p.1 - centre.1)
                .atan2(p.0 - centre.0)
                .rem_euclid(std::f64::consts::TAU);
            1 + ((angle + std::f64::consts::TAU / 10.0) / (std::f64::consts::TAU / 5.0)) as usize
                % 5
        };
        cells.sort_by(|a, b| {
            bezirk_of(a.0)
                .cmp(&bezirk_of(b.0))
                .then(normalised(a.0).total_cmp(&normalised(b.0)))
        });
        let in_centre = cells.iter().filter(|(p, _)| bezirk_of(*p) == 0).count();
        let names = district_names(in_centre, n, &mut rng);

        // Residents: a dense core, sparse outskirts, a few nearly empty districts.
        let nearly_empty: Vec<usize> = {
            let mut outer: Vec<usize> = (0..n).filter(|&i| normalised(cells[i].0) > 0.4).collect();
            shuffle(&mut outer, &mut rng);
            outer.truncate((n / 25).max(1));
            outer
        };
        // District ids: in the Münster-like city numbers, the Stadtbezirk's number followed by
        // the district's (101, 102, …; 1001, … when a Stadtbezirk has 100 districts or more);
        // in the mid-size city text such as "07-Süd". One type per layer, as a GIS exports
        // it (QGIS reads a property holding both numbers and text as an empty JSON field).
        let mut per_bezirk = [0u32; 6];
        for (seed, _) in &cells {
            per_bezirk[bezirk_of(*seed)] += 1;
        }
        let place = 10u32.pow(
            per_bezirk
                .iter()
                .max()
                .map_or(1, |n| n.to_string().len())
                .max(2) as u32,
        );
        let mut numbering = [0u32; 6];
        let mut districts: Vec<CityDistrict> = Vec::with_capacity(n);
        let mut raw: Vec<f64> = Vec::with_capacity(n);
        for (i, ((seed, ring), name)) in cells.into_iter().zip(names).enumerate() {
            let r = normalised(seed);
            let b = bezirk_of(seed);
            numbering[b] += 1;
            let bezirk = BEZIRKE[b];
            let id = if spec.preset == CityPreset::Muenster {
                format!("{}", place * (b as u32 + 1) + numbering[b])
            } else {
                json_string(&format!("{:02}-{bezirk}", numbering[b]))
            };
            let (x0, y0, x1, y1) = bounds(&ring);
            let village = {
                let bent = warp.apply(seed);
                if contains(&ring, bent) {
                    bent
                } else {
                    point_in(&ring, &mut rng)
                }
            };
            let km2 = area(&ring) / 1e6;
            let mut density = 11_000.0 * (-(r / 0.3).powi(2)).exp() + 900.0 * rng.range(0.3, 1.7);
            if nearly_empty.contains(&i) {
                density *= rng.range(0.02, 0.08);
            }
            raw.push(density * km2);
            let deprivation = (0.7 * rng.unit() + 0.3 * (1.0 - r).max(0.0)).clamp(0.0, 1.0);
            districts.push(CityDistrict {
                id,
                name,
                bezirk,
                bounds: (x0, y0, x1, y1),
                village,
                sigma: 0.3 * (km2 * 1e6).sqrt(),
                clustered: if r < 0.3 { 0.2 } else { 0.75 },
                radius: r,
                ring,
                population: 0,
                welfare: 0.03 + 0.22 * deprivation,
                foreign: (0.05 + 0.30 * (0.75 * deprivation + 0.25 * rng.unit())).min(0.35),
            });
        }
        // Scale to the residents asked for, at least 200 per district, exact in total.
        let total_raw: f64 = raw.iter().sum();
        for (d, raw) in districts.iter_mut().zip(&raw) {
            d.population = ((raw / total_raw * spec.residents as f64).round() as u64).max(200);
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| districts[b].population.cmp(&districts[a].population));
        let sum: u64 = districts.iter().map(|d| d.population).sum();
        if sum < spec.residents {
            districts[order[0]].population += spec.residents - sum;
        } else {
            let mut excess = sum - spec.residents;
            for &i in &order {
                let take = excess.min(districts[i].population.saturating_sub(200));
                districts[i].population -= take;
                excess -= take;
            }
        }
        let lookup = DistrictLookup::new(&districts);

        // Streets until every address point has one.
        let outside = (spec.sites / 500).clamp(1, 12);
        let address_points = spec.sites - outside;
        let cumulative: Vec<f64> = districts
            .iter()
            .scan(0.0, |total, d| {
                *total += d.population as f64;
                Some(*total)
            })
            .collect();
        let pick = |rng: &mut Rng| -> usize {
            let target = rng.unit() * cumulative.last().copied().unwrap_or(0.0);
            cumulative.partition_point(|&c| c <= target).min(n - 1)
        };
        let mut streets = Vec::new();
        let mut assigned = 0u64;
        while assigned < address_points {
            let mut rng = Rng::for_item(spec.seed, STREETS, streets.len() as u64);
            let d = &districts[pick(&mut rng)];
            let start = d.settled_point(&mut rng);
            let heading = rng.range(0.0, std::f64::consts::TAU);
            let length = if d.radius < 0.3 {
                rng.range(80.0, 300.0)
            } else {
                rng.range(120.0, 600.0)
            };
            let roll = rng.unit();
            let count = if roll < 0.15 {
                1
            } else if roll < 0.55 {
                rng.int(2, 6)
            } else if roll < 0.88 {
                rng.int(7, 14)
            } else {
                rng.int(15, 30)
            };
            streets.push(Street {
                first: assigned,
                start,
                direction: (heading.cos(), heading.sin()),
                length,
                name: street_name(&mut rng),
            });
            assigned += count.min(address_points - assigned);
        }

        // Facilities where people live; every district with enough residents has its own.
        let (mut schools, mut kitas, mut stops) = (Vec::new(), Vec::new(), Vec::new());
        for (i, d) in districts.iter().enumerate() {
            let mut rng = Rng::for_item(spec.seed, FACILITIES, i as u64);
            let pop = d.population as f64;
            let count = |per: f64, floor: (f64, usize), extra: f64, rng: &mut Rng| -> usize {
                // Rounded at random, so that many small districts get their share in total.
                let expected = pop / per * rng.range(0.7, 1.3) + extra;
                let n = expected.floor() as usize + usize::from(rng.unit() < expected.fract());
                if pop >= floor.0 {
                    n.max(floor.1)
                } else {
                    n
                }
            };
            let n_schools = count(4_500.0, (1_500.0, 1), 0.0, &mut rng);
            let n_kitas = count(1_400.0, (600.0, 1), 0.0, &mut rng);
            let n_stops = count(450.0, (0.0, 1), 0.8 * d.area_km2(), &mut rng);
            for k in 0..n_schools {
                let label = if n_schools > 1 {
                    format!("Grundschule {} {}", d.name, k + 1)
                } else {
                    format!("Grundschule {}", d.name)
                };
                schools.push(CityFacility {
                    id: json_string(&format!("GS-{:03}", schools.len() + 1)),
                    name: label,
                    at: d.settled_point(&mut rng),
                    seats: Some(rng.int(5, 60)),
                });
            }
            for k in 0..n_kitas {
                kitas.push(CityFacility {
                    id: json_string(&format!("Kita-{:04}", kitas.len() + 1)),
                    name: format!("Kita {} {}", d.name, k + 1),
                    at: d.settled_point(&mut rng),
                    seats: Some(rng.int(2, 20)),
                });
            }
            for k in 0..n_stops {
                stops.push(CityFacility {
                    id: format!("{}", 40_001 + stops.len()),
                    name: format!("{}, Steig {}", d.name, k + 1),
                    at: d.settled_point(&mut rng),
                    seats: None,
                });
            }
        }

        City {
            spec: *spec,
            profile,
            districts,
            lookup,
            hull_centre: centre,
            streets,
            outside,
            schools,
            kitas,
            stops,
        }
    }

    fn district_of(&self, p: Point) -> Option<usize> {
        self.lookup.district_of(&self.districts, p)
    }
}
