//! Shared helpers for the integration tests: small cities built by hand, written as files
//! when a test runs the binary, and a runner for the `quartier` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use geo::{polygon, MultiPolygon};
use quartier::model::*;
use serde_json::{json, Value};

/// A square district of `side` metres with its lower-left corner at (x, y).
pub fn square(id: &str, x: f64, y: f64, side: f64, population: f64) -> District {
    let area = MultiPolygon(vec![polygon![
        (x: x, y: y),
        (x: x + side, y: y),
        (x: x + side, y: y + side),
        (x: x, y: y + side),
    ]]);
    District {
        id: id.into(),
        name: format!("Bezirk {id}"),
        population,
        weight: population,
        existing: 0.0,
        area_lonlat: area.clone(),
        rule: None,
        area,
    }
}

pub fn site(id: &str, x: f64, y: f64, capacity: u32) -> Site {
    Site {
        id: id.into(),
        position: [x, y],
        lonlat: [0.0, 0.0],
        capacity,
        status: SiteStatus::Candidate,
        occupied: 0,
        min_places: 0,
        cost: None,
    }
}

pub fn instance(districts: Vec<District>, sites: Vec<Site>, demand: u64) -> Instance {
    Instance {
        name: "test".into(),
        districts,
        sites,
        facilities: Vec::new(),
        demand,
        rules: Rules::default(),
        stages: Stage::ALL.to_vec(),
        solver: SolverOptions::default(),
    }
}

/// Origin of hand-built cities in EPSG:25832 (near Münster).
pub const ORIGIN: (f64, f64) = (404_000.0, 5_757_000.0);

/// Writes districts and sites as GeoJSON in EPSG:25832 (positions relative to ORIGIN).
pub fn write_layers(dir: &Path, districts: &[District], sites: &[Site]) {
    let crs = json!({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}});
    let shift = |c: &geo::Coord<f64>| json!([c.x + ORIGIN.0, c.y + ORIGIN.1]);
    let district_features: Vec<Value> = districts
        .iter()
        .map(|d| {
            let rings: Vec<Value> = d.area.0[0].exterior().0.iter().map(shift).collect();
            json!({"type": "Feature",
                   "geometry": {"type": "Polygon", "coordinates": [rings]},
                   "properties": {"id": d.id, "name": d.name, "population": d.population,
                                  "existing": d.existing}})
        })
        .collect();
    let site_features: Vec<Value> = sites
        .iter()
        .map(|s| {
            let mut props = json!({"id": s.id, "capacity": s.capacity, "status": s.status.as_str(),
                                   "occupied": s.occupied});
            if s.min_places > 0 {
                props["min_places"] = json!(s.min_places);
            }
            if let Some(cost) = s.cost {
                props["cost"] = json!(cost);
            }
            json!({"type": "Feature",
                   "geometry": {"type": "Point",
                                "coordinates": [s.position[0] + ORIGIN.0, s.position[1] + ORIGIN.1]},
                   "properties": props})
        })
        .collect();
    write_json(
        &dir.join("districts.geojson"),
        &json!({"type": "FeatureCollection", "crs": crs, "features": district_features}),
    );
    write_json(
        &dir.join("sites.geojson"),
        &json!({"type": "FeatureCollection", "crs": crs, "features": site_features}),
    );
}

pub fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

/// A scenario file next to the layers; `extra` is appended (rules, solver, …).
pub fn write_scenario(dir: &Path, demand: u64, extra: &str) -> PathBuf {
    let path = dir.join("scenario.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"Testfall\"\n[input]\ndistricts = \"districts.geojson\"\nsites = \"sites.geojson\"\n\n[demand]\nplaces = {demand}\n{extra}\n"
        ),
    )
    .unwrap();
    path
}

/// Output of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn quartier(args: &[&str], cwd: &Path) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_quartier"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the quartier binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Repository root (scenarios/, data/).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
