//! The tight grid, the benchmark of time limits: `cells` × `cells` square districts of 250 m
//! (lower-left corner E 380000, N 5740000 in EPSG:25832) with two dense centres of about
//! 6,500 residents per district, sites at random points with capacities 6–120, one school
//! per km², and a scenario in which the spacing rule (200 m, 100 places) binds across both
//! centres: there the fair share is more than the spacing lets in, so the program cannot
//! split by district and the whole centre is one knot of overlapping neighbourhoods.

use std::io::{self, Write};

use super::rng::Rng;
use super::streets::GridStreets;
use super::{begin_collection, end_collection, json_string, point_feature, unknown_layer};

const ORIGIN: (f64, f64) = (380_000.0, 5_740_000.0);
const CELL: f64 = 250.0;
/// Residents of a district at the heart of a centre.
const PEAK: f64 = 6_500.0;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TightGridSpec {
    pub cells: u32,
    pub sites: u64,
    pub seed: u64,
}

impl TightGridSpec {
    /// The tight grid's streets: along every district border and through every district's
    /// middle, 125 m apart.
    pub fn streets(&self) -> GridStreets {
        GridStreets {
            origin: ORIGIN,
            cells: self.cells,
            cell: CELL,
            per_cell: 2,
            seed: self.seed,
        }
    }
}

/// A message for arguments a tight grid cannot be made from.
pub fn validate_tight_grid(spec: &TightGridSpec) -> Result<(), String> {
    if spec.cells < 4 || spec.cells > 800 {
        return Err(format!(
            "--cells must be between 4 and 800 for a tight grid (districts of 250 m, up to 200 km side), found {}",
            spec.cells
        ));
    }
    if spec.sites == 0 || spec.sites > 20_000_000 {
        return Err(format!(
            "--sites must be between 1 and 20,000,000, found {}",
            spec.sites
        ));
    }
    Ok(())
}

/// Residents per district, row by row (row 0 in the south): two centres whose density
/// falls off over about 3 km (on a 100-cell grid), a thin suburban floor, 5 % empty districts.
fn population(spec: &TightGridSpec) -> Vec<u32> {
    let n = spec.cells as usize;
    let nf = n as f64;
    let centres = [(0.35 * nf, 0.40 * nf), (0.65 * nf, 0.62 * nf)];
    let sigma = 0.12 * nf;
    (0..n * n)
        .map(|cell| {
            let (row, col) = ((cell / n) as f64 + 0.5, (cell % n) as f64 + 0.5);
            let mut item = Rng::for_item(spec.seed, 11, cell as u64);
            if item.unit() < 0.05 {
                return 0; // parks, water, industry
            }
            let density: f64 = centres
                .iter()
                .map(|&(cx, cy)| {
                    let d2 = (col - cx).powi(2) + (row - cy).powi(2);
                    (-d2 / (2.0 * sigma * sigma)).exp()
                })
                .sum::<f64>()
                .min(1.0);
            (PEAK * density * item.range(0.85, 1.15) + item.range(60.0, 240.0)).round() as u32
        })
        .collect()
}

/// A point strictly inside the grid, uniform, never on a district border.
fn point(n: usize, rng: &mut Rng) -> (f64, f64) {
    let (col, row) = (rng.next_u64() % n as u64, rng.next_u64() % n as u64);
    (
        ORIGIN.0 + col as f64 * CELL + rng.range(0.5, CELL - 0.5),
        ORIGIN.1 + row as f64 * CELL + rng.range(0.5, CELL - 0.5),
    )
}

/// Writes one layer of the tight grid; returns the number of features.
pub fn write_tight_layer(
    spec: &TightGridSpec,
    layer: &str,
    out: &mut impl Write,
) -> io::Result<u64> {
    let n = spec.cells as usize;
    begin_collection(out)?;
    let mut written = 0u64;
    match layer {
        "districts.geojson" => {
            for (cell, &pop) in population(spec).iter().enumerate() {
                let (row, col) = (cell / n, cell % n);
                let (x, y) = (ORIGIN.0 + col as f64 * CELL, ORIGIN.1 + row as f64 * CELL);
                if written > 0 {
                    out.write_all(b",\n")?;
                }
                write!(
                    out,
                    "{{\"type\":\"Feature\",\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[[[{x},{y}],[{x1},{y}],[{x1},{y1}],[{x},{y1}],[{x},{y}]]]}},\"properties\":{{\"id\":\"T-{row:04}-{col:04}\",\"name\":\"Bezirk {row}/{col}\",\"population\":{pop}}}}}",
                    x1 = x + CELL,
                    y1 = y + CELL
                )?;
                written += 1;
            }
        }
        "sites.geojson" => {
            for i in 0..spec.sites {
                let mut rng = Rng::for_item(spec.seed, 12, i);
                let (x, y) = point(n, &mut rng);
                let capacity = rng.int(6, 120);
                let cost = rng.int(250, 900);
                point_feature(
                    out,
                    i == 0,
                    x,
                    y,
                    &format!(
                        "\"id\":\"S-{i:07}\",\"capacity\":{capacity},\"status\":\"candidate\",\"cost\":{cost}"
                    ),
                )?;
                written += 1;
            }
        }
        "schools.geojson" | "kitas.geojson" | "stops.geojson" => {
            // Per km² (16 districts of 250 m): one school, three Kitas, six stops.
            let (stream, per_km2, prefix, name) = match layer {
                "schools.geojson" => (13, 1, "G", "Schule"),
                "kitas.geojson" => (14, 3, "K", "Kita"),
                _ => (15, 6, "H", "Haltestelle"),
            };
            let count = ((n * n) as u64 * per_km2 / 16).max(1);
            for i in 0..count {
                let mut rng = Rng::for_item(spec.seed, stream, i);
                let (x, y) = point(n, &mut rng);
                let properties = format!(
                    "\"id\":\"{prefix}-{i:06}\",\"name\":{}",
                    json_string(&format!("{name} {}", i + 1))
                );
                point_feature(out, i == 0, x, y, &properties)?;
                written += 1;
            }
        }
        other => return Err(unknown_layer(other)),
    }
    end_collection(out)?;
    Ok(written)
}

/// The tight benchmark scenario: demand of 1 % of the residents, at most 50 per site, a share
/// cap of 2 %, spacing of 100 places within 200 m, a school within 1,500 m, and a time limit
/// of 60 s.
pub fn tight_scenario_toml(spec: &TightGridSpec) -> String {
    let residents: u64 = population(spec).iter().map(|&p| u64::from(p)).sum();
    let demand = (residents / 100).max(1);
    format!(
        r#"name = "tight grid {cells}x{cells}, {sites} sites, seed {seed}"

[input]
districts = "districts.geojson"
sites = "sites.geojson"

[input.facilities]
school = "schools.geojson"
kita = "kitas.geojson"
transit = "stops.geojson"

[demand]
places = {demand}

[rules]
max_per_site = 50
max_share = 0.02
radius = {{ metres = 200, max_places = 100 }}
access = {{ school = 1500 }}

[solver]
time_limit_s = 60
"#,
        cells = spec.cells,
        sites = spec.sites,
        seed = spec.seed,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_parseable_and_dense_in_the_centres() {
        let spec = TightGridSpec {
            cells: 20,
            sites: 800,
            seed: 5,
        };
        let mut a = Vec::new();
        let mut b = Vec::new();
        assert_eq!(
            write_tight_layer(&spec, "sites.geojson", &mut a).unwrap(),
            800
        );
        write_tight_layer(&spec, "sites.geojson", &mut b).unwrap();
        assert_eq!(a, b);
        let value: serde_json::Value = serde_json::from_slice(&a).unwrap();
        for f in value["features"].as_array().unwrap() {
            let capacity = f["properties"]["capacity"].as_u64().unwrap();
            assert!((6..=120).contains(&capacity));
        }
        let population = population(&spec);
        assert_eq!(population.len(), 400);
        assert!(*population.iter().max().unwrap() > 5_000);
        let mut schools = Vec::new();
        assert_eq!(
            write_tight_layer(&spec, "schools.geojson", &mut schools).unwrap(),
            25
        );
        let table: toml::Table = tight_scenario_toml(&spec).parse().unwrap();
        assert_eq!(table["rules"]["max_share"].as_float(), Some(0.02));
        assert!(validate_tight_grid(&TightGridSpec { cells: 2, ..spec }).is_err());
    }
}
