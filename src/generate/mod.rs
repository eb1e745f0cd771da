//! Synthetic cities, deterministic from a seed, written as GeoJSON layers in EPSG:25832:
//!
//! - the demo city *Musterstadt* (`write_demo_layer`): about 40 irregular districts
//!   (Voronoi cells of jittered seeds inside an elliptic city outline), about 300,000
//!   residents with varied welfare and foreign-national shares, about 1,500 sites of the
//!   kinds the NRW research names, existing accommodation, schools, Kitas and stops;
//! - city grids for benchmarks (`write_grid_layer`): N × N square districts of 100 m with a
//!   population surface of a few centres, any number of sites, and facilities;
//! - realistic cities of address points for benchmarks and tests (`City`): irregular
//!   districts of very different sizes, sites clustered along streets, existing and excluded
//!   sites, offers outside the city limits, and scenario files, in two presets (a Münster-like
//!   city and the mid-size city benchmark);
//! - the tight grid (`write_tight_layer`): districts of 250 m with two dense centres where
//!   the spacing rule binds everywhere, the benchmark of time limits.
//!
//! Street networks (`streets`, the layer `streets.geojson`) for distances on foot: the demo
//! city's streets with a river, a canal and a railway as barriers (always written with it),
//! and a street grid for the grids and the tight grid (`--streets`).
//!
//! Nothing here touches files: every layer is written feature by feature to a writer, so a
//! grid with a million sites never sits in memory. The random numbers come from a
//! hand-written SplitMix64, so the files never change with a crate's version.

mod city;
mod demo;
mod geometry;
mod grid;
pub(crate) mod rng;
mod streets;
mod tight;

pub use city::{validate_city, City, CityFacts, CityPreset, CitySpec};
pub use demo::{write_demo_layer, write_demo_statistics, DemoSpec};
pub use grid::{grid_scenario_toml, validate_grid, write_grid_layer, GridSpec};
pub use streets::{grid_streets_scenario, write_grid_streets, GridStreets, STREETS_FILE};
pub use tight::{tight_scenario_toml, validate_tight_grid, write_tight_layer, TightGridSpec};

/// Scenario files the city generator writes next to its layers.
pub const CITY_SCENARIO_FILES: [&str; 3] =
    ["scenario.toml", "spacing_levels.toml", "spread_access.toml"];

/// The statistics table the demo city comes with (German CSV, Windows-1252).
pub const DEMO_STATISTICS: &str = "statistics.csv";

/// The layers a generator writes, in this order.
pub const LAYER_FILES: [&str; 5] = [
    "districts.geojson",
    "sites.geojson",
    "schools.geojson",
    "kitas.geojson",
    "stops.geojson",
];

use std::io::{self, Write};

/// The start of a FeatureCollection in EPSG:25832 with its legacy `crs` member.
fn begin_collection(out: &mut impl Write) -> io::Result<()> {
    out.write_all(
        b"{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::25832\"}},\"features\":[\n",
    )
}

fn end_collection(out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"\n]}\n")
}

/// A JSON string literal.
fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// Writes one Point feature; `properties` is the inside of a JSON object.
fn point_feature(
    out: &mut impl Write,
    first: bool,
    x: f64,
    y: f64,
    properties: &str,
) -> io::Result<()> {
    if !first {
        out.write_all(b",\n")?;
    }
    write!(
        out,
        "{{\"type\":\"Feature\",\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{x:.2},{y:.2}]}},\"properties\":{{{properties}}}}}"
    )
}

/// Writes one Polygon feature (a closed, counter-clockwise ring).
fn polygon_feature(
    out: &mut impl Write,
    first: bool,
    ring: &[(f64, f64)],
    properties: &str,
) -> io::Result<()> {
    if !first {
        out.write_all(b",\n")?;
    }
    out.write_all(b"{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[")?;
    for (i, (x, y)) in ring.iter().chain(ring.first()).enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write!(out, "[{x:.2},{y:.2}]")?;
    }
    write!(out, "]]}},\"properties\":{{{properties}}}}}")
}

fn unknown_layer(layer: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "unknown layer {layer}; expected one of {}",
            LAYER_FILES.join(", ")
        ),
    )
}
