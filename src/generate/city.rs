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

// Generator streams: each item draws from (seed, stream, index).
const PLAN: u64 = 11;
const STREETS: u64 = 12;
const SITES: u64 = 13;
const FACILITIES: u64 = 14;

/// Vertices along district boundaries, at most this far apart (metres).
const VERTEX_SPACING: f64 = 50.0;
/// Cell side of the district lookup grid (metres).
const LOOKUP_CELL: f64 = 500.0;

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

fn round2(p: Point) -> Point {
    ((p.0 * 100.0).round() / 100.0, (p.1 * 100.0).round() / 100.0)
}

fn distance(a: Point, b: Point) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

/// Convex hull, counter-clockwise (Andrew's monotone chain).
fn convex_hull(mut points: Vec<Point>) -> Vec<Point> {
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let cross =
        |o: Point, a: Point, b: Point| (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0);
    let mut hull: Vec<Point> = Vec::with_capacity(points.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let ordered: Box<dyn Iterator<Item = &Point>> = if pass == 0 {
            Box::new(points.iter())
        } else {
            Box::new(points.iter().rev())
        };
        for &p in ordered {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// A smooth displacement of the plane: a sum of plane waves whose slopes add up to less than
/// one, so the map is one-to-one and keeps rings simple and neighbours without gaps.
struct Warp {
    centre: Point,
    /// (wave vector x, y, phase, amplitude, direction x, y)
    waves: Vec<[f64; 6]>,
}

impl Warp {
    fn new(centre: Point, rng: &mut Rng) -> Warp {
        let mut waves = Vec::new();
        // Long waves bend whole boundaries, short ones make them wind.
        for (count, wavelengths, slope) in
            [(4, (1_500.0, 4_000.0), 0.09), (3, (300.0, 700.0), 0.06)]
        {
            for _ in 0..count {
                let wavelength: f64 = rng.range(wavelengths.0, wavelengths.1);
                let k = std::f64::consts::TAU / wavelength;
                let heading = rng.range(0.0, std::f64::consts::TAU);
                let push = rng.range(0.0, std::f64::consts::TAU);
                waves.push([
                    k * heading.cos(),
                    k * heading.sin(),
                    rng.range(0.0, std::f64::consts::TAU),
                    slope * rng.range(0.6, 1.0) / k,
                    push.cos(),
                    push.sin(),
                ]);
            }
        }
        Warp { centre, waves }
    }

    fn apply(&self, p: Point) -> Point {
        let (x, y) = (p.0 - self.centre.0, p.1 - self.centre.1);
        let (mut dx, mut dy) = (0.0, 0.0);
        for [kx, ky, phase, amplitude, ux, uy] in &self.waves {
            let s = amplitude * (kx * x + ky * y + phase).sin();
            dx += s * ux;
            dy += s * uy;
        }
        (p.0 + dx, p.1 + dy)
    }

    /// A ring with every edge cut into pieces of at most `VERTEX_SPACING`, bent. An edge is
    /// always cut from its lexicographically smaller end, so the two districts that share it
    /// get exactly the same vertices.
    fn bend_ring(&self, ring: &[Point]) -> Vec<Point> {
        let mut out = Vec::new();
        for i in 0..ring.len() {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            let forward = (a.0, a.1) <= (b.0, b.1);
            let (c0, c1) = if forward { (a, b) } else { (b, a) };
            let pieces = (distance(a, b) / VERTEX_SPACING).ceil().max(1.0) as usize;
            let at = |k: usize| -> Point {
                if k == 0 {
                    c0
                } else if k == pieces {
                    c1
                } else {
                    let t = k as f64 / pieces as f64;
                    (c0.0 + t * (c1.0 - c0.0), c0.1 + t * (c1.1 - c0.1))
                }
            };
            for step in 0..pieces {
                let k = if forward { step } else { pieces - step };
                out.push(round2(self.apply(at(k))));
            }
        }
        out.dedup();
        while out.len() > 1 && out.first() == out.last() {
            out.pop();
        }
        out
    }
}

struct CityDistrict {
    /// The id as a JSON literal: a number or a string.
    id: String,
    name: String,
    bezirk: &'static str,
    ring: Vec<Point>,
    bounds: (f64, f64, f64, f64),
    /// Where most residents live (the village centre in the outskirts).
    village: Point,
    /// Spread of the settlement around the village centre (metres).
    sigma: f64,
    /// Probability that a resident's address lies near the village centre, not anywhere.
    clustered: f64,
    /// Distance from the city centre, 0 at the centre, about 1 at the outline.
    radius: f64,
    population: u64,
    welfare: f64,
    foreign: f64,
}

impl CityDistrict {
    fn area_km2(&self) -> f64 {
        area(&self.ring) / 1e6
    }

    /// A point where people live: near the village centre, or anywhere in the district.
    fn settled_point(&self, rng: &mut Rng) -> Point {
        let (x0, y0, x1, y1) = self.bounds;
        for _ in 0..500 {
            let p = if rng.unit() < self.clustered {
                (
                    self.village.0 + self.sigma * rng.normal(),
                    self.village.1 + self.sigma * rng.normal(),
                )
            } else {
                (rng.range(x0, x1), rng.range(y0, y1))
            };
            if contains(&self.ring, p) {
                return p;
            }
        }
        self.village
    }
}

/// Which districts may contain a point: a grid of cells listing the districts whose bounding
/// box overlaps each cell.
struct DistrictLookup {
    origin: Point,
    columns: usize,
    rows: usize,
    cells: Vec<Vec<u32>>,
}

impl DistrictLookup {
    fn new(districts: &[CityDistrict]) -> DistrictLookup {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for d in districts {
            x0 = x0.min(d.bounds.0);
            y0 = y0.min(d.bounds.1);
            x1 = x1.max(d.bounds.2);
            y1 = y1.max(d.bounds.3);
        }
        let columns = ((x1 - x0) / LOOKUP_CELL).ceil() as usize + 1;
        let rows = ((y1 - y0) / LOOKUP_CELL).ceil() as usize + 1;
        let mut cells = vec![Vec::new(); columns * rows];
        for (i, d) in districts.iter().enumerate() {
            let c0 = ((d.bounds.0 - x0) / LOOKUP_CELL) as usize;
            let c1 = ((d.bounds.2 - x0) / LOOKUP_CELL) as usize;
            let r0 = ((d.bounds.1 - y0) / LOOKUP_CELL) as usize;
            let r1 = ((d.bounds.3 - y0) / LOOKUP_CELL) as usize;
            for row in r0..=r1 {
                for column in c0..=c1 {
                    cells[row * columns + column].push(i as u32);
                }
            }
        }
        DistrictLookup {
            origin: (x0, y0),
            columns,
            rows,
            cells,
        }
    }

    /// The first district whose ring contains the point.
    fn district_of(&self, districts: &[CityDistrict], p: Point) -> Option<usize> {
        let (dx, dy) = (p.0 - self.origin.0, p.1 - self.origin.1);
        if dx < 0.0 || dy < 0.0 {
            return None;
        }
        let (column, row) = ((dx / LOOKUP_CELL) as usize, (dy / LOOKUP_CELL) as usize);
        if column >= self.columns || row >= self.rows {
            return None;
        }
        self.cells[row * self.columns + column]
            .iter()
            .map(|&i| i as usize)
            .find(|&i| contains(&districts[i].ring, p))
    }
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
const BEZIRKE: [&str; 6] = ["Mitte", "Ost", "Nord", "West", "Süd-West", "Süd"];

/// Names for districts of the centre.
const QUARTERS: [&str; 16] = [
    "Altstadt",
    "Domviertel",
    "Bahnhofsviertel",
    "Schloßviertel",
    "Kreuzviertel",
    "Südviertel",
    "Hafenviertel",
    "Überwasser",
    "Martiniviertel",
    "Mauritzviertel",
    "Rosenplätzchen",
    "Neutor",
    "Hansaviertel",
    "Josefsviertel",
    "Gärtnerviertel",
    "Mühlenhof",
];

const NAME_STARTS: [&str; 24] = [
    "Mühl", "Bröck", "Hölt", "Gräf", "Lüd", "Kött", "Düs", "Rüsch", "Wöll", "Häm", "Schön", "Groß",
    "Weiß", "Süß", "Bärn", "Förd", "Hüls", "Löns", "Dörn", "Fürst", "Lind", "Eich", "Brand",
    "Wolb",
];

const NAME_ENDS: [&str; 16] = [
    "enfeld", "ingen", "hausen", "beck", "horst", "kamp", "heide", "dorf", "bruch", "brück", "hof",
    "au", "stede", "loh", "büren", "winkel",
];

const STREET_STARTS: [&str; 20] = [
    "Mühlen",
    "Schützen",
    "Gärtner",
    "Brücken",
    "Kirch",
    "Linden",
    "Grüner ",
    "Bäcker",
    "Königs",
    "Fröbel",
    "Bahnhof",
    "Schul",
    "Tannen",
    "Weißdorn",
    "Buchen",
    "Hölderlin",
    "Rosen",
    "Görres",
    "Markt",
    "Düppel",
];

const STREET_ENDS: [&str; 8] = [
    "straße", "weg", "allee", "ring", "gasse", "pfad", "damm", "kamp",
];

/// Unique district names: quarters for the centre, compounds elsewhere, numbered when a very
/// large city runs out of compounds.
fn district_names(centre: usize, total: usize, rng: &mut Rng) -> Vec<String> {
    let mut quarters: Vec<String> = QUARTERS.iter().map(|s| s.to_string()).collect();
    let mut compounds: Vec<String> = NAME_STARTS
        .iter()
        .flat_map(|a| NAME_ENDS.iter().map(move |b| format!("{a}{b}")))
        .collect();
    shuffle(&mut quarters, rng);
    shuffle(&mut compounds, rng);
    let mut quarters = quarters.into_iter();
    let mut names = Vec::with_capacity(total);
    let mut next_compound = 0usize;
    for i in 0..total {
        let quarter = if i < centre { quarters.next() } else { None };
        names.push(quarter.unwrap_or_else(|| {
            let k = next_compound;
            next_compound += 1;
            let base = &compounds[k % compounds.len()];
            match k / compounds.len() {
                0 => base.clone(),
                round => format!("{base} {}", round + 1),
            }
        }));
    }
    names
}

fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

fn street_name(rng: &mut Rng) -> String {
    let a = STREET_STARTS[(rng.next_u64() % STREET_STARTS.len() as u64) as usize];
    let b = STREET_ENDS[(rng.next_u64() % STREET_ENDS.len() as u64) as usize];
    if a.ends_with(' ') {
        // "Grüner Weg"
        let mut chars = b.chars();
        let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
        format!("{a}{}{}", first.unwrap_or_default(), chars.as_str())
    } else {
        format!("{a}{b}")
    }
}

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

    /// Site `i` of the layer, drawn from its own generator.
    fn site(&self, i: u64) -> CitySite {
        let mut rng = Rng::for_item(self.spec.seed, SITES, i);
        let address_points = self.spec.sites - self.outside;
        if i >= address_points {
            return self.outside_site(i, i - address_points, &mut rng);
        }
        let street = &self.streets[self.streets.partition_point(|s| s.first <= i) - 1];
        let (mut at, mut along, mut side) = (street.start, 0.0, 1.0);
        for _ in 0..12 {
            let t = rng.unit() * street.length;
            let offset = rng.range(-25.0, 25.0);
            let (dx, dy) = street.direction;
            let p = (
                street.start.0 + t * dx - offset * dy,
                street.start.1 + t * dy + offset * dx,
            );
            if self.district_of(p).is_some() {
                (at, along, side) = (p, t, offset);
                break;
            }
        }
        // Odd numbers on the left, even on the right, about 12 m per house.
        let number = 2 * (along / 12.0) as u64 + if side < 0.0 { 2 } else { 1 };
        let address = format!("{} {number}", street.name);
        let p = &self.profile;
        let status_roll = rng.unit();
        let kind_roll = rng.unit();
        let cost_roll = rng.unit();
        let mut site = if status_roll < p.existing {
            let capacity = rng.int(10, 40);
            CitySite {
                id: format!("{}", 100_001 + i),
                kind: "existing",
                at,
                address,
                capacity,
                status: "existing",
                occupied: (capacity as f64 * rng.range(0.6, 1.0)).round() as u64,
                min_places: None,
                cost: Some(rng.int(300, 500)),
                outside: false,
            }
        } else {
            let (kind, capacity, min_places, cost) = if kind_roll < p.row_house {
                ("row_house", 10, Some(10), rng.int(400, 700))
            } else if kind_roll < p.row_house + p.shared {
                ("shared", rng.int(20, 80), None, rng.int(300, 450))
            } else if kind_roll < p.row_house + p.shared + p.hall {
                ("hall", rng.int(80, 150), None, rng.int(250, 350))
            } else {
                ("flat", rng.int(4, 8), None, rng.int(350, 650))
            };
            let excluded = (status_roll - p.existing) / (1.0 - p.existing) < p.excluded;
            CitySite {
                id: format!("{}", 100_001 + i),
                kind,
                at,
                address,
                capacity,
                status: if excluded { "excluded" } else { "candidate" },
                occupied: 0,
                min_places,
                cost: Some(cost),
                outside: false,
            }
        };
        if cost_roll >= p.cost {
            site.cost = None;
        }
        site
    }

    /// An offer a few hundred metres beyond the city limits (in the neighbouring town).
    fn outside_site(&self, i: u64, k: u64, rng: &mut Rng) -> CitySite {
        let angle = std::f64::consts::TAU * (k as f64 + rng.range(0.2, 0.8)) / self.outside as f64;
        let (dx, dy) = (angle.cos(), angle.sin());
        let centre = self.hull_centre;
        let at_distance = |r: f64| (centre.0 + r * dx, centre.1 + r * dy);
        // The last point inside the city along the ray, then some way beyond it.
        let mut last_inside = 0.0;
        let mut r = 0.0;
        while r < 3.0 * self.profile.radii.0 {
            if self.district_of(at_distance(r)).is_some() {
                last_inside = r;
            }
            r += 25.0;
        }
        let mut r = last_inside + rng.range(150.0, 600.0);
        while self.district_of(at_distance(r)).is_some() {
            r += 100.0;
        }
        let capacity = rng.int(4, 8);
        CitySite {
            id: format!("{}", 100_001 + i),
            kind: "flat",
            at: at_distance(r),
            address: format!("{} {}", street_name(rng), rng.int(1, 80)),
            capacity,
            status: "candidate",
            occupied: 0,
            min_places: None,
            cost: Some(rng.int(350, 650)),
            outside: true,
        }
    }

    /// Writes one layer; returns the number of features.
    pub fn write_layer(&self, layer: &str, out: &mut impl Write) -> io::Result<u64> {
        begin_collection(out)?;
        let mut written = 0u64;
        match layer {
            "districts.geojson" => {
                for d in &self.districts {
                    let properties = format!(
                        "\"id\":{},\"name\":{},\"bezirk\":{},\"population\":{},\"welfare_share\":{:.3},\"foreign_share\":{:.3}",
                        d.id,
                        json_string(&d.name),
                        json_string(d.bezirk),
                        d.population,
                        d.welfare,
                        d.foreign
                    );
                    polygon_feature(out, written == 0, &d.ring, &properties)?;
                    written += 1;
                }
            }
            "sites.geojson" => {
                for i in 0..self.spec.sites {
                    let s = self.site(i);
                    let mut properties = format!(
                        "\"id\":{},\"kind\":\"{}\",\"address\":{},\"capacity\":{},\"status\":\"{}\",\"occupied\":{}",
                        s.id,
                        s.kind,
                        json_string(&s.address),
                        s.capacity,
                        s.status,
                        s.occupied
                    );
                    if let Some(min) = s.min_places {
                        properties += &format!(",\"min_places\":{min}");
                    }
                    if let Some(cost) = s.cost {
                        properties += &format!(",\"cost\":{cost}");
                    }
                    point_feature(out, i == 0, s.at.0, s.at.1, &properties)?;
                    written += 1;
                }
            }
            "schools.geojson" | "kitas.geojson" | "stops.geojson" => {
                let list = match layer {
                    "schools.geojson" => &self.schools,
                    "kitas.geojson" => &self.kitas,
                    _ => &self.stops,
                };
                for f in list {
                    let mut properties =
                        format!("\"id\":{},\"name\":{}", f.id, json_string(&f.name));
                    if let Some(seats) = f.seats {
                        properties += &format!(",\"seats\":{seats}");
                    }
                    point_feature(out, written == 0, f.at.0, f.at.1, &properties)?;
                    written += 1;
                }
            }
            other => return Err(unknown_layer(other)),
        }
        end_collection(out)?;
        Ok(written)
    }
}

/// Figures of a generated city, for the command's summary and for tests.
#[derive(Debug, Clone, PartialEq)]
pub struct CityFacts {
    /// "Münster-like city", "mid-size city".
    pub label: &'static str,
    pub districts: usize,
    /// Stadtbezirke (groups of districts).
    pub bezirke: usize,
    pub residents: u64,
    /// Residents of the smallest and the largest district.
    pub smallest: u64,
    pub largest: u64,
    pub sites: u64,
    /// Sites by kind: flat, row_house, shared, hall, existing.
    pub kinds: [(&'static str, u64); 5],
    /// Occupied places at existing accommodation.
    pub occupied: u64,
    pub excluded: u64,
    /// Offers just outside the city limits.
    pub outside: u64,
    pub with_cost: u64,
    pub schools: usize,
    pub kitas: usize,
    pub stops: usize,
    /// New places asked for in `scenario.toml`.
    pub demand: u64,
}

impl City {
    /// Counts what the layers hold (draws every site once more).
    pub fn facts(&self) -> CityFacts {
        let mut kinds = [
            ("flat", 0),
            ("row_house", 0),
            ("shared", 0),
            ("hall", 0),
            ("existing", 0),
        ];
        let (mut occupied, mut excluded, mut outside, mut with_cost) = (0, 0, 0, 0);
        for i in 0..self.spec.sites {
            let s = self.site(i);
            if let Some(entry) = kinds.iter_mut().find(|(k, _)| *k == s.kind) {
                entry.1 += 1;
            }
            occupied += s.occupied;
            excluded += u64::from(s.status == "excluded");
            outside += u64::from(s.outside);
            with_cost += u64::from(s.cost.is_some());
        }
        let populations = self.districts.iter().map(|d| d.population);
        let mut bezirke: Vec<&str> = self.districts.iter().map(|d| d.bezirk).collect();
        bezirke.sort_unstable();
        bezirke.dedup();
        CityFacts {
            label: self.profile.label,
            districts: self.districts.len(),
            bezirke: bezirke.len(),
            residents: populations.clone().sum(),
            smallest: populations.clone().min().unwrap_or(0),
            largest: populations.max().unwrap_or(0),
            sites: self.spec.sites,
            kinds,
            occupied,
            excluded,
            outside,
            with_cost,
            schools: self.schools.len(),
            kitas: self.kitas.len(),
            stops: self.stops.len(),
            demand: self.demand(),
        }
    }

    /// New places of the base scenario: 1.5 % of the residents in the Münster-like city (no
    /// share cap there); 0.7 % in the mid-size city, where with the existing places (about
    /// 0.5 %) that fills most districts close to the share cap of 1.2 %, and the spacing rule
    /// binds in the core.
    fn demand(&self) -> u64 {
        let share = match self.spec.preset {
            CityPreset::Muenster => 0.015,
            CityPreset::Midsize => 0.007,
        };
        ((self.spec.residents as f64 * share).round() as u64).max(3)
    }

    /// The scenario files written next to the layers, as `(file name, TOML)`:
    /// `scenario.toml` (the base), `spacing_levels.toml` (spacing 300 m / 120 places and three
    /// demand levels) and `spread_access.toml` (the stages spread and access after evenness).
    pub fn scenarios(&self) -> Vec<(&'static str, String)> {
        let demand = self.demand();
        let label = self.profile.label;
        let seed = self.spec.seed;
        let command = self.spec.command();
        let header = |what: &str| {
            format!(
                "# {what}\n# The city: a synthetic {label}, written with\n#   {command} --out DIR\n"
            )
        };
        let input = "[input]\ndistricts = \"districts.geojson\"\nsites = \"sites.geojson\"\n\n[input.facilities]\nschool = \"schools.geojson\"\nkita = \"kitas.geojson\"\ntransit = \"stops.geojson\"\n";
        let levels = format!(
            "levels = [{}, {}, {demand}]   # a third, two thirds and all of the demand of scenario.toml",
            (demand as f64 / 3.0).round() as u64,
            (2.0 * demand as f64 / 3.0).round() as u64,
        );
        let solver = "[solver]\nmip_gap = 1e-6\n";
        let spread_access = "[objective]\nstages = [\"shortfall\", \"evenness\", \"spread\", \"access\", \"cost\"]\nspread_metres = 500\naccess_kinds = [\"school\", \"kita\"]\n";
        match self.spec.preset {
            CityPreset::Muenster => {
                let base_rules = "[rules]\nmax_per_site = 50\n";
                let spacing = "radius = { metres = 300, max_places = 120 }\n";
                vec![
                    (
                        "scenario.toml",
                        format!(
                            "{}# The Münster rule: at most 50 places per site, places in proportion to\n# population. Demand: 1.5 % of the residents. Spacing goes on with\n#   sed -i 's/^# radius = /radius = /' scenario.toml\nname = \"{label} (seed {seed}): max 50 per site, even by population\"\n\n{input}\n[demand]\nplaces = {demand}\n\n{base_rules}# {spacing}\n{solver}",
                            header("The base scenario."),
                        ),
                    ),
                    (
                        "spacing_levels.toml",
                        format!(
                            "{}# The base scenario with spacing (at most 120 places within 300 m of any site) and\n# the demand as three forecast levels: one nested plan that grows level by level.\nname = \"{label} (seed {seed}): spacing 300 m / 120, three demand levels\"\n\n{input}\n[demand]\n{levels}\n\n{base_rules}{spacing}\n{solver}",
                            header("Spacing with demand levels."),
                        ),
                    ),
                    (
                        "spread_access.toml",
                        format!(
                            "{}# The base scenario with spacing (at most 120 places within 300 m of any site);\n# after evenness, the fewest new places within 500 m of any site, then the shortest\n# distances to schools and Kitas, then the cost.\nname = \"{label} (seed {seed}): spacing 300 m / 120, spread within 500 m, access to schools and Kitas\"\n\n{input}\n[demand]\nplaces = {demand}\n\n{base_rules}{spacing}\n{spread_access}\n{solver}",
                            header("Spread and access stages."),
                        ),
                    ),
                ]
            }
            CityPreset::Midsize => {
                let rules = |metres: u32, places: u32| {
                    format!(
                        "[rules]\nmax_per_site = 50\nmax_share = 0.012\nradius = {{ metres = {metres}, max_places = {places} }}\naccess = {{ school = 1200, kita = 900 }}\n"
                    )
                };
                vec![
                    (
                        "scenario.toml",
                        format!(
                            "{}# The mid-size city benchmark: at most 50 places per site, at most 150 places\n# within 400 m of any site, a primary school within 1,200 m and a Kita within 900 m,\n# no district above 1.2 % of its residents; row houses take 10 places or none.\n# Demand: 0.7 % of the residents.\nname = \"{label} (seed {seed}): spacing 400 m / 150, school 1,200 m, Kita 900 m, share cap 1.2 %\"\n\n{input}\n[demand]\nplaces = {demand}\n\n{}\n{solver}",
                            header("The base scenario."),
                            rules(400, 150),
                        ),
                    ),
                    (
                        "spacing_levels.toml",
                        format!(
                            "{}# The rules of scenario.toml with tighter spacing (at most 120 places within 300 m)\n# and the demand as three forecast levels: one nested plan that grows level by level.\nname = \"{label} (seed {seed}): spacing 300 m / 120, three demand levels\"\n\n{input}\n[demand]\n{levels}\n\n{}\n{solver}",
                            header("Spacing with demand levels."),
                            rules(300, 120),
                        ),
                    ),
                    (
                        "spread_access.toml",
                        format!(
                            "{}# The rules of scenario.toml; after evenness, the fewest new places within 500 m of\n# any site, then the shortest distances to schools and Kitas, then the cost.\nname = \"{label} (seed {seed}): spread within 500 m, access to schools and Kitas\"\n\n{input}\n[demand]\nplaces = {demand}\n\n{}\n{spread_access}\n{solver}",
                            header("Spread and access stages."),
                            rules(400, 150),
                        ),
                    ),
                ]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use geo::Validation;

    use super::*;

    fn midsize() -> City {
        City::new(&CitySpec::new(CityPreset::Midsize, 7))
    }

    fn layer(city: &City, name: &str) -> (u64, Vec<u8>) {
        let mut out = Vec::new();
        let n = city.write_layer(name, &mut out).unwrap();
        (n, out)
    }

    #[test]
    fn districts_tile_the_city_without_gaps_or_overlaps() {
        for preset in [CityPreset::Muenster, CityPreset::Midsize] {
            let spec = CitySpec::new(preset, 3);
            let city = City::new(&spec);
            assert_eq!(city.districts.len(), spec.districts as usize);
            for d in &city.districts {
                assert!(area(&d.ring) > 0.0, "{}: counter-clockwise", d.name);
                let mut closed = d.ring.clone();
                closed.push(d.ring[0]);
                let polygon = geo::Polygon::new(geo::LineString::from(closed), vec![]);
                assert!(polygon.is_valid(), "{} is not a simple polygon", d.name);
            }
            // Every point near the centre lies in exactly one district, none in two.
            let centre = preset.profile().centre;
            let (rx, ry) = preset.profile().radii;
            let mut rng = Rng::new(1);
            let mut inside = 0;
            for _ in 0..4_000 {
                let p = (
                    centre.0 + rng.range(-1.3, 1.3) * rx,
                    centre.1 + rng.range(-1.3, 1.3) * ry,
                );
                let hits = city
                    .districts
                    .iter()
                    .filter(|d| contains(&d.ring, p))
                    .count();
                assert!(hits <= 1, "{p:?} lies in {hits} districts");
                if distance(p, centre) < 0.5 * ry {
                    assert_eq!(hits, 1, "{p:?} near the centre lies in no district");
                }
                inside += hits;
                assert_eq!(city.district_of(p).is_some(), hits == 1);
            }
            assert!(inside > 1_000, "{inside}");
            // Shared boundaries: every vertex of a district away from the outline is also a
            // vertex of a neighbour (so QGIS sees no slivers).
            let vertices: std::collections::HashMap<(i64, i64), usize> = city
                .districts
                .iter()
                .flat_map(|d| d.ring.iter())
                .fold(Default::default(), |mut counts, p| {
                    *counts
                        .entry(((p.0 * 100.0).round() as i64, (p.1 * 100.0).round() as i64))
                        .or_default() += 1;
                    counts
                });
            let shared = vertices.values().filter(|&&n| n >= 2).count();
            assert!(
                shared * 2 > vertices.len(),
                "{shared} of {}",
                vertices.len()
            );
        }
    }

    #[test]
    fn residents_add_up_with_a_dense_core_and_sparse_outskirts() {
        let city = midsize();
        let total: u64 = city.districts.iter().map(|d| d.population).sum();
        assert_eq!(total, 240_000);
        let density = |d: &CityDistrict| d.population as f64 / d.area_km2();
        let (core, outskirts): (Vec<&CityDistrict>, Vec<&CityDistrict>) =
            city.districts.iter().partition(|d| d.radius < 0.3);
        assert!(!core.is_empty() && !outskirts.is_empty());
        let mean = |list: &[&CityDistrict]| {
            list.iter().map(|d| density(d)).sum::<f64>() / list.len() as f64
        };
        assert!(mean(&core) > 3.0 * mean(&outskirts));
        let facts = city.facts();
        assert!(facts.largest > 10 * facts.smallest, "{facts:?}");
        assert_eq!(facts.bezirke, 6);
    }

    #[test]
    fn sites_are_clustered_address_points_of_every_kind() {
        let city = midsize();
        let sites: Vec<CitySite> = (0..city.spec.sites).map(|i| city.site(i)).collect();
        let facts = city.facts();
        let share = |kind: &str| {
            sites.iter().filter(|s| s.kind == kind).count() as f64 / sites.len() as f64
        };
        assert!((0.07..0.09).contains(&share("row_house")), "{facts:?}");
        assert!((0.005..0.015).contains(&share("existing")), "{facts:?}");
        assert!(share("hall") > 0.01 && share("shared") > 0.1);
        let with_cost = sites.iter().filter(|s| s.cost.is_some()).count() as f64;
        assert!((0.57..0.63).contains(&(with_cost / sites.len() as f64)));
        for s in &sites {
            match s.kind {
                "flat" => assert!((4..=8).contains(&s.capacity)),
                "row_house" => assert_eq!((s.capacity, s.min_places), (10, Some(10))),
                "shared" => assert!((20..=80).contains(&s.capacity)),
                "hall" => assert!((80..=150).contains(&s.capacity)),
                _ => assert!(s.status == "existing" && s.occupied > 0 && s.occupied <= s.capacity),
            }
            assert_eq!(s.outside, city.district_of(s.at).is_none(), "{}", s.id);
        }
        assert_eq!(sites.iter().filter(|s| s.outside).count(), 12);
        assert!(sites.iter().any(|s| s.status == "excluded"));
        // Address data has clusters: many sites with 10–30 others within 300 m.
        let within = |s: &CitySite| {
            sites
                .iter()
                .filter(|t| distance(s.at, t.at) <= 300.0)
                .count()
        };
        let clustered = sites.iter().step_by(10).filter(|s| within(s) >= 10).count();
        assert!(clustered * 2 > sites.len() / 10, "{clustered}");
        assert_eq!(facts.sites, 6_600);
        assert_eq!(facts.kinds.iter().map(|(_, n)| n).sum::<u64>(), 6_600);
    }

    #[test]
    fn facilities_lie_where_people_live_and_schools_and_kitas_have_seats() {
        let city = midsize();
        for d in city.districts.iter().filter(|d| d.population >= 1_500) {
            assert!(
                city.schools.iter().any(|f| contains(&d.ring, f.at)),
                "no school in {}",
                d.name
            );
        }
        assert!(city
            .schools
            .iter()
            .chain(&city.kitas)
            .all(|f| f.seats.is_some()));
        assert!(city.stops.iter().all(|f| f.seats.is_none()));
        assert!(city.kitas.len() > 2 * city.schools.len());
    }

    #[test]
    fn ids_and_names_look_like_a_city_office_s() {
        let ids = |city: &City, name: &str| -> Vec<serde_json::Value> {
            let (_, bytes) = layer(city, name);
            let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(
                value["crs"]["properties"]["name"],
                "urn:ogc:def:crs:EPSG::25832"
            );
            let features = value["features"].as_array().unwrap();
            let ids: Vec<serde_json::Value> = features
                .iter()
                .map(|f| f["properties"]["id"].clone())
                .collect();
            let unique: std::collections::HashSet<String> =
                ids.iter().map(|id| id.to_string()).collect();
            assert_eq!(unique.len(), ids.len(), "{name}: ids are unique");
            ids
        };
        let all = |ids: &[serde_json::Value], number: bool| {
            ids.iter()
                .all(|id| if number { id.is_u64() } else { id.is_string() })
        };
        let muenster = City::new(&CitySpec::new(CityPreset::Muenster, 7));
        let midsize = midsize();
        // Numbers and text, one type per layer.
        assert!(all(&ids(&muenster, "districts.geojson"), true));
        let text_ids = ids(&midsize, "districts.geojson");
        assert!(all(&text_ids, false));
        assert!(text_ids
            .iter()
            .any(|id| id.as_str().is_some_and(|t| t.ends_with("-Süd"))));
        for city in [&muenster, &midsize] {
            assert!(all(&ids(city, "sites.geojson"), true));
            assert!(all(&ids(city, "stops.geojson"), true));
            assert!(all(&ids(city, "schools.geojson"), false));
            assert!(all(&ids(city, "kitas.geojson"), false));
            let names: String = city.districts.iter().map(|d| d.name.as_str()).collect();
            for letter in ['ä', 'ö', 'ü', 'ß'] {
                assert!(names.contains(letter), "no {letter} in {names}");
            }
        }
    }

    #[test]
    fn layers_are_deterministic_and_depend_on_the_seed() {
        let spec = CitySpec {
            sites: 500,
            ..CitySpec::new(CityPreset::Muenster, 11)
        };
        let (a, b) = (City::new(&spec), City::new(&spec));
        let other = City::new(&CitySpec { seed: 12, ..spec });
        for name in super::super::LAYER_FILES {
            let (n, bytes) = layer(&a, name);
            assert_eq!(bytes, layer(&b, name).1, "{name}");
            assert_ne!(bytes, layer(&other, name).1, "{name}");
            let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(value["features"].as_array().unwrap().len() as u64, n);
        }
        assert_eq!(a.scenarios(), b.scenarios());
        assert!(a.write_layer("roads.geojson", &mut Vec::new()).is_err());
    }

    #[test]
    fn overrides_change_the_size_and_keep_the_make_up() {
        let spec = CitySpec {
            districts: 120,
            sites: 3_000,
            residents: 400_000,
            ..CitySpec::new(CityPreset::Midsize, 5)
        };
        assert!(validate_city(&spec).is_ok());
        let facts = City::new(&spec).facts();
        assert_eq!(
            (facts.districts, facts.sites, facts.residents),
            (120, 3_000, 400_000)
        );
        assert_eq!(
            spec.command(),
            "quartier generate --city midsize --districts 120 --sites 3000 --residents 400000 --seed 5"
        );
    }

    #[test]
    fn scenarios_carry_the_rules_of_each_case() {
        let city = midsize();
        let files: Vec<(&str, toml::Table)> = city
            .scenarios()
            .into_iter()
            .map(|(name, text)| (name, text.parse().unwrap()))
            .collect();
        let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, super::super::CITY_SCENARIO_FILES);
        let base = &files[0].1;
        assert_eq!(base["demand"]["places"].as_integer(), Some(1_680));
        assert_eq!(base["rules"]["max_share"].as_float(), Some(0.012));
        assert_eq!(base["rules"]["radius"]["metres"].as_integer(), Some(400));
        assert_eq!(
            base["rules"]["radius"]["max_places"].as_integer(),
            Some(150)
        );
        assert_eq!(base["rules"]["access"]["school"].as_integer(), Some(1_200));
        assert_eq!(base["rules"]["access"]["kita"].as_integer(), Some(900));
        let levels = &files[1].1;
        assert_eq!(levels["rules"]["radius"]["metres"].as_integer(), Some(300));
        assert_eq!(
            levels["rules"]["radius"]["max_places"].as_integer(),
            Some(120)
        );
        assert!(levels["demand"].get("places").is_none());
        let steps: Vec<i64> = levels["demand"]["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_integer().unwrap())
            .collect();
        assert_eq!(steps, [560, 1_120, 1_680]);
        let spread = &files[2].1;
        assert_eq!(spread["objective"]["spread_metres"].as_integer(), Some(500));
        let stages = spread["objective"]["stages"].as_array().unwrap();
        assert!(stages.iter().any(|s| s.as_str() == Some("spread")));
        assert!(stages.iter().any(|s| s.as_str() == Some("access")));
    }

    #[test]
    fn bad_sizes_are_explained() {
        let ok = CitySpec::new(CityPreset::Muenster, 1);
        assert!(validate_city(&ok).is_ok());
        for bad in [
            CitySpec { districts: 2, ..ok },
            CitySpec { sites: 5, ..ok },
            CitySpec {
                residents: 100,
                ..ok
            },
            CitySpec {
                districts: 900,
                residents: 100_000,
                ..ok
            },
        ] {
            assert!(validate_city(&bad).is_err(), "{bad:?}");
        }
    }
}
