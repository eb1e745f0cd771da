//! City grids for benchmarks: `cells` × `cells` square districts of 100 m (lower-left corner
//! E 380000, N 5740000 in EPSG:25832), a population surface of a few centres, and sites and
//! facilities placed mostly where people live. Every item is drawn from its own generator
//! (seed, layer, index), so each layer streams without holding the others.

use std::io::{self, Write};

use super::rng::Rng;
use super::streets::GridStreets;
use super::{begin_collection, end_collection, json_string, point_feature, unknown_layer};

const ORIGIN: (f64, f64) = (380_000.0, 5_740_000.0);
const CELL: f64 = 100.0;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridSpec {
    pub cells: u32,
    pub sites: u64,
    pub seed: u64,
}

impl GridSpec {
    /// The grid's streets: one along every district border.
    pub fn streets(&self) -> GridStreets {
        GridStreets {
            origin: ORIGIN,
            cells: self.cells,
            cell: CELL,
            per_cell: 1,
            seed: self.seed,
        }
    }
}

/// A message for arguments a grid cannot be made from.
pub fn validate_grid(spec: &GridSpec) -> Result<(), String> {
    if spec.cells == 0 || spec.cells > 2000 {
        return Err(format!(
            "--cells must be between 1 and 2000 (a grid of up to 200 km side), found {}",
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

/// Residents per cell, row by row (row 0 in the south).
fn population(spec: &GridSpec) -> Vec<u32> {
    let n = spec.cells as usize;
    let mut rng = Rng::new(spec.seed);
    let centres: Vec<(f64, f64, f64, f64)> = (0..rng.int(3, 6))
        .map(|i| {
            let main = i == 0;
            (
                rng.range(0.25, 0.75) * n as f64,
                rng.range(0.25, 0.75) * n as f64,
                if main { 1.0 } else { rng.range(0.35, 0.8) },
                n as f64 * if main { 0.22 } else { rng.range(0.06, 0.14) },
            )
        })
        .collect();
    (0..n * n)
        .map(|cell| {
            let (row, col) = ((cell / n) as f64 + 0.5, (cell % n) as f64 + 0.5);
            let mut item = Rng::for_item(spec.seed, 1, cell as u64);
            if item.unit() < 0.08 {
                return 0; // parks, water, industry
            }
            let density: f64 = centres
                .iter()
                .map(|&(cx, cy, weight, sigma)| {
                    let d2 = (col - cx).powi(2) + (row - cy).powi(2);
                    weight * (-d2 / (2.0 * sigma * sigma)).exp()
                })
                .sum();
            (300.0 * density.min(1.0) * item.range(0.6, 1.2))
                .round()
                .min(300.0) as u32
        })
        .collect()
}

/// Picks cells, 70 % in proportion to population and 30 % uniformly.
struct CellPicker {
    cumulative: Vec<f64>,
    count: usize,
}

impl CellPicker {
    fn new(population: &[u32]) -> CellPicker {
        let mut total = 0.0;
        let cumulative = population
            .iter()
            .map(|&p| {
                total += f64::from(p);
                total
            })
            .collect();
        CellPicker {
            cumulative,
            count: population.len(),
        }
    }

    fn pick(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        if total <= 0.0 || rng.unit() < 0.3 {
            return (rng.next_u64() % self.count as u64) as usize;
        }
        let target = rng.unit() * total;
        self.cumulative
            .partition_point(|&c| c <= target)
            .min(self.count - 1)
    }

    /// A point strictly inside the cell (never on a border).
    fn point(&self, cell: usize, cells: usize, rng: &mut Rng) -> (f64, f64) {
        let (row, col) = ((cell / cells) as f64, (cell % cells) as f64);
        (
            ORIGIN.0 + col * CELL + rng.range(0.5, 99.5),
            ORIGIN.1 + row * CELL + rng.range(0.5, 99.5),
        )
    }
}

/// Writes one layer of the grid; returns the number of features.
pub fn write_grid_layer(spec: &GridSpec, layer: &str, out: &mut impl Write) -> io::Result<u64> {
    let n = spec.cells as usize;
    let population = population(spec);
    begin_collection(out)?;
    let mut written = 0u64;
    match layer {
        "districts.geojson" => {
            for (cell, &pop) in population.iter().enumerate() {
                let (row, col) = (cell / n, cell % n);
                let (x, y) = (ORIGIN.0 + col as f64 * CELL, ORIGIN.1 + row as f64 * CELL);
                if written > 0 {
                    out.write_all(b",\n")?;
                }
                write!(
                    out,
                    "{{\"type\":\"Feature\",\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[[[{x},{y}],[{x1},{y}],[{x1},{y1}],[{x},{y1}],[{x},{y}]]]}},\"properties\":{{\"id\":\"C-{row:04}-{col:04}\",\"name\":\"Zelle {row}/{col}\",\"population\":{pop}}}}}",
                    x1 = x + CELL,
                    y1 = y + CELL
                )?;
                written += 1;
            }
        }
        "sites.geojson" => {
            let picker = CellPicker::new(&population);
            for i in 0..spec.sites {
                let mut rng = Rng::for_item(spec.seed, 2, i);
                let cell = picker.pick(&mut rng);
                let (x, y) = picker.point(cell, n, &mut rng);
                let capacity = if rng.unit() < 0.9 {
                    rng.int(4, 12)
                } else {
                    rng.int(20, 80)
                };
                let kind = rng.unit();
                let (status, occupied) = if kind < 0.01 {
                    ("existing", rng.int(capacity / 2, capacity))
                } else if kind < 0.02 {
                    ("excluded", 0)
                } else {
                    ("candidate", 0)
                };
                let cost = rng.int(250, 900);
                point_feature(
                    out,
                    i == 0,
                    x,
                    y,
                    &format!(
                        "\"id\":\"S-{i:07}\",\"capacity\":{capacity},\"status\":\"{status}\",\"occupied\":{occupied},\"cost\":{cost}"
                    ),
                )?;
                written += 1;
            }
        }
        "schools.geojson" | "kitas.geojson" | "stops.geojson" => {
            let (stream, per_cells, prefix, name, seats) = match layer {
                "schools.geojson" => (3, 25, "G", "Schule", Some((5, 60))),
                "kitas.geojson" => (4, 10, "K", "Kita", Some((2, 20))),
                _ => (5, 4, "H", "Haltestelle", None),
            };
            let picker = CellPicker::new(&population);
            let count = ((n * n) as u64 / per_cells).max(1);
            for i in 0..count {
                let mut rng = Rng::for_item(spec.seed, stream, i);
                let cell = picker.pick(&mut rng);
                let (x, y) = picker.point(cell, n, &mut rng);
                let mut properties = format!(
                    "\"id\":\"{prefix}-{i:06}\",\"name\":{}",
                    json_string(&format!("{name} {}", i + 1))
                );
                if let Some((low, high)) = seats {
                    properties += &format!(",\"seats\":{}", rng.int(low, high));
                }
                point_feature(out, i == 0, x, y, &properties)?;
                written += 1;
            }
        }
        other => return Err(unknown_layer(other)),
    }
    end_collection(out)?;
    Ok(written)
}

/// The benchmark scenario for a grid: demand of 1 % of the residents, a share cap of three
/// times the average share (binding in dense cells), and access to a school within 1,500 m
/// and a stop within 800 m.
pub fn grid_scenario_toml(spec: &GridSpec) -> String {
    let residents: u64 = population(spec).iter().map(|&p| u64::from(p)).sum();
    let demand = (residents / 100).max(1);
    let max_share = (3.0 * demand as f64 / residents.max(1) as f64).min(1.0);
    format!(
        r#"name = "grid {cells}x{cells}, {sites} sites, seed {seed}"

[input]
districts = "districts.geojson"
sites = "sites.geojson"

[input.facilities]
school = "schools.geojson"
kita = "kitas.geojson"
transit = "stops.geojson"

[demand]
places = {demand}
# Three forecast levels instead of places:
#   sed -i -e 's/^places = /# places = /' -e 's/^# levels = /levels = /' scenario.toml
# levels = [{level_1}, {level_2}, {demand}]

[rules]
max_per_site = 50
max_share = {max_share:.6}
access = {{ school = 1500, transit = 800 }}
# radius = {{ metres = 200, max_places = 100 }}
# The stage spread (fewest new places within spread_metres of any site) after evenness:
#   sed -i -e 's/^# \[objective\]/[objective]/' -e 's/^# stages = /stages = /' -e 's/^# spread_metres = /spread_metres = /' scenario.toml
# [objective]
# stages = ["shortfall", "evenness", "spread", "worst", "cost"]
# spread_metres = 200

[solver]
mip_gap = 1e-6
"#,
        cells = spec.cells,
        sites = spec.sites,
        seed = spec.seed,
        level_1 = (demand as f64 / 3.0).round() as u64,
        level_2 = (2.0 * demand as f64 / 3.0).round() as u64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(spec: &GridSpec, name: &str) -> (u64, String) {
        let mut out = Vec::new();
        let n = write_grid_layer(spec, name, &mut out).unwrap();
        (n, String::from_utf8(out).unwrap())
    }

    #[test]
    fn deterministic_and_parseable() {
        let spec = GridSpec {
            cells: 10,
            sites: 500,
            seed: 3,
        };
        let (n, text) = layer(&spec, "sites.geojson");
        assert_eq!(n, 500);
        assert_eq!(text, layer(&spec, "sites.geojson").1);
        assert_ne!(
            text,
            layer(&GridSpec { seed: 4, ..spec }, "sites.geojson").1
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["features"].as_array().unwrap().len(), 500);
        let (n, text) = layer(&spec, "districts.geojson");
        assert_eq!(n, 100);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["features"][0]["properties"]["id"], "C-0000-0000");
        for name in ["schools.geojson", "kitas.geojson", "stops.geojson"] {
            let (n, text) = layer(&spec, name);
            assert!(n >= 1);
            serde_json::from_str::<serde_json::Value>(&text).unwrap();
        }
    }

    #[test]
    fn sites_lie_strictly_inside_the_grid_and_off_cell_borders() {
        let spec = GridSpec {
            cells: 7,
            sites: 2000,
            seed: 11,
        };
        let (_, text) = layer(&spec, "sites.geojson");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        for f in value["features"].as_array().unwrap() {
            let x = f["geometry"]["coordinates"][0].as_f64().unwrap() - ORIGIN.0;
            let y = f["geometry"]["coordinates"][1].as_f64().unwrap() - ORIGIN.1;
            assert!(x > 0.0 && x < 700.0 && y > 0.0 && y < 700.0);
            assert!(x % 100.0 > 0.4 && x % 100.0 < 99.6, "{x}");
        }
    }

    #[test]
    fn scenario_has_demand_and_share_cap() {
        let text = grid_scenario_toml(&GridSpec {
            cells: 20,
            sites: 1000,
            seed: 1,
        });
        let table: toml::Table = text.parse().unwrap();
        assert!(table["demand"]["places"].as_integer().unwrap() > 0);
        assert!(table["rules"]["max_share"].as_float().unwrap() > 0.0);
    }

    #[test]
    fn bad_arguments_are_explained() {
        assert!(validate_grid(&GridSpec {
            cells: 0,
            sites: 1,
            seed: 0
        })
        .is_err());
        assert!(validate_grid(&GridSpec {
            cells: 10,
            sites: 0,
            seed: 0
        })
        .is_err());
        assert!(validate_grid(&GridSpec {
            cells: 10,
            sites: 10,
            seed: 0
        })
        .is_ok());
    }
}
