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

/// Districts "D0", "D1", … of 1 km² in a row along the x axis with these populations, and
/// the row's width in metres.
pub fn districts_in_a_row(populations: &[u32]) -> (Vec<District>, f64) {
    let districts = populations
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            square(
                &format!("D{i}"),
                i as f64 * 1000.0,
                0.0,
                1000.0,
                f64::from(p),
            )
        })
        .collect();
    (districts, 1000.0 * populations.len() as f64)
}

pub fn site(id: &str, x: f64, y: f64, capacity: u32) -> Site {
    Site {
        id: id.into(),
        position: [x, y],
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
        metric_crs: "EPSG:25832".into(),
        demand,
        rules: Rules::default(),
        levels: Vec::new(),
        stages: Stage::DEFAULT.to_vec(),
        objective: ObjectiveOptions::default(),
        solver: SolverOptions::default(),
        network: None,
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

/// A GeoPackage geometry blob (little-endian header without envelope, then WKB).
pub fn gpkg_blob(geometry: &geo::Geometry<f64>, srs_id: i32) -> Vec<u8> {
    let mut blob = vec![b'G', b'P', 0, 0b0000_0001];
    blob.extend_from_slice(&srs_id.to_le_bytes());
    wkb::writer::write_geometry(
        &mut blob,
        geometry,
        &wkb::writer::WriteOptions {
            endianness: wkb::Endianness::LittleEndian,
        },
    )
    .unwrap();
    blob
}

/// One feature of a layer written by the tests: geometry and (name, value) properties.
pub type TestFeature = (
    geo::Geometry<f64>,
    Vec<(&'static str, rusqlite::types::Value)>,
);

/// Writes a GeoPackage feature layer (creating the file and the GeoPackage tables as needed)
/// in EPSG `epsg`, with the columns of the first feature.
pub fn write_gpkg_layer(path: &Path, layer: &str, epsg: i32, features: &[TestFeature]) {
    let connection = rusqlite::Connection::open(path).unwrap();
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY, organization TEXT, organization_coordsys_id INTEGER, definition TEXT, description TEXT);
             CREATE TABLE IF NOT EXISTS gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT, identifier TEXT, description TEXT, last_change TEXT, min_x REAL, min_y REAL, max_x REAL, max_y REAL, srs_id INTEGER);
             CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (table_name TEXT, column_name TEXT, geometry_type_name TEXT, srs_id INTEGER, z INTEGER, m INTEGER);",
        )
        .unwrap();
    connection
        .execute(
            "INSERT OR REPLACE INTO gpkg_spatial_ref_sys VALUES (?1, ?2, 'EPSG', ?2, 'undefined', '')",
            rusqlite::params![format!("EPSG:{epsg}"), epsg],
        )
        .unwrap();
    let columns: Vec<&str> = features[0].1.iter().map(|(name, _)| *name).collect();
    let definitions: Vec<String> = columns.iter().map(|c| format!(", \"{c}\"")).collect();
    connection
        .execute_batch(&format!(
            "CREATE TABLE \"{layer}\" (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom BLOB{});",
            definitions.concat()
        ))
        .unwrap();
    connection
        .execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES (?1, 'features', ?1, ?2)",
            rusqlite::params![layer, epsg],
        )
        .unwrap();
    connection
        .execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', 'GEOMETRY', ?2, 0, 0)",
            rusqlite::params![layer, epsg],
        )
        .unwrap();
    let placeholders: Vec<String> = (0..=columns.len()).map(|i| format!("?{}", i + 1)).collect();
    let names: Vec<String> = columns.iter().map(|c| format!(", \"{c}\"")).collect();
    let insert = format!(
        "INSERT INTO \"{layer}\" (geom{}) VALUES ({})",
        names.concat(),
        placeholders.join(", ")
    );
    for (geometry, properties) in features {
        let mut values: Vec<rusqlite::types::Value> =
            vec![rusqlite::types::Value::Blob(gpkg_blob(geometry, epsg))];
        values.extend(properties.iter().map(|(_, v)| v.clone()));
        connection
            .execute(&insert, rusqlite::params_from_iter(values))
            .unwrap();
    }
}

/// The districts and sites of a hand-built city as GeoPackage features in EPSG:25832.
pub fn gpkg_features(
    districts: &[District],
    sites: &[Site],
) -> (Vec<TestFeature>, Vec<TestFeature>) {
    use rusqlite::types::Value as V;
    let shift = |c: geo::Coord<f64>| geo::Coord {
        x: c.x + ORIGIN.0,
        y: c.y + ORIGIN.1,
    };
    let district_features = districts
        .iter()
        .map(|d| {
            let ring: Vec<geo::Coord<f64>> =
                d.area.0[0].exterior().0.iter().map(|c| shift(*c)).collect();
            (
                geo::Geometry::Polygon(geo::Polygon::new(geo::LineString(ring), vec![])),
                vec![
                    ("id", V::Text(d.id.clone())),
                    ("name", V::Text(d.name.clone())),
                    ("population", V::Integer(d.population as i64)),
                ],
            )
        })
        .collect();
    let site_features = sites
        .iter()
        .map(|s| {
            (
                geo::Geometry::Point(geo::Point::new(
                    s.position[0] + ORIGIN.0,
                    s.position[1] + ORIGIN.1,
                )),
                vec![
                    ("id", V::Text(s.id.clone())),
                    ("capacity", V::Integer(i64::from(s.capacity))),
                    ("status", V::Text(s.status.as_str().into())),
                    ("occupied", V::Integer(i64::from(s.occupied))),
                ],
            )
        })
        .collect();
    (district_features, site_features)
}

/// ESRI's WKT for ETRS89 / UTM zone 32N, as QGIS and ArcGIS write it into a .prj.
pub const PRJ_25832: &str = r#"PROJCS["ETRS_1989_UTM_Zone_32N",GEOGCS["GCS_ETRS_1989",DATUM["D_ETRS_1989",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",9.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

/// Writes districts (`districts.shp`) and sites (`sites.shp`) as Shapefiles in EPSG:25832
/// with a .prj, and text in Windows-1252 with a .cpg saying so.
pub fn write_shapefiles(dir: &Path, districts: &[District], sites: &[Site]) {
    let cp1252 = shapefile::dbase::encoding_rs::WINDOWS_1252;
    write_shapefiles_encoded(dir, districts, sites, cp1252, Some("CP1252"));
}

/// As `write_shapefiles`, with the text in `encoding` and `cpg` (if any) as the .cpg's
/// content. The .dbf's language driver byte is the one the dbase crate writes for the
/// encoding (0x03 for Windows-1252, 0xF0 for UTF-8).
pub fn write_shapefiles_encoded(
    dir: &Path,
    districts: &[District],
    sites: &[Site],
    encoding: &'static shapefile::dbase::encoding_rs::Encoding,
    cpg: Option<&str>,
) {
    use shapefile::dbase::{self, FieldValue, Record, TableWriterBuilder};
    let name = |n: &str| dbase::FieldName::try_from(n).unwrap();
    let text = || dbase::encoding::EncodingRs::from(encoding);
    let builder = TableWriterBuilder::with_encoding(text())
        .add_character_field(name("id"), 20)
        .add_character_field(name("name"), 40)
        .add_numeric_field(name("population"), 12, 0);
    let mut writer = shapefile::Writer::from_path(dir.join("districts.shp"), builder).unwrap();
    for d in districts {
        // Shapefile outer rings run clockwise.
        let mut ring: Vec<shapefile::Point> = d.area.0[0]
            .exterior()
            .0
            .iter()
            .map(|c| shapefile::Point::new(c.x + ORIGIN.0, c.y + ORIGIN.1))
            .collect();
        ring.reverse();
        let polygon = shapefile::Polygon::new(shapefile::PolygonRing::Outer(ring));
        let mut record = Record::default();
        record.insert("id".into(), FieldValue::Character(Some(d.id.clone())));
        record.insert("name".into(), FieldValue::Character(Some(d.name.clone())));
        record.insert("population".into(), FieldValue::Numeric(Some(d.population)));
        writer.write_shape_and_record(&polygon, &record).unwrap();
    }
    drop(writer);
    let builder = TableWriterBuilder::with_encoding(text())
        .add_character_field(name("id"), 20)
        .add_numeric_field(name("capacity"), 10, 0)
        .add_character_field(name("status"), 12)
        .add_numeric_field(name("occupied"), 10, 0);
    let mut writer = shapefile::Writer::from_path(dir.join("sites.shp"), builder).unwrap();
    for s in sites {
        let point = shapefile::Point::new(s.position[0] + ORIGIN.0, s.position[1] + ORIGIN.1);
        let mut record = Record::default();
        record.insert("id".into(), FieldValue::Character(Some(s.id.clone())));
        record.insert(
            "capacity".into(),
            FieldValue::Numeric(Some(f64::from(s.capacity))),
        );
        record.insert(
            "status".into(),
            FieldValue::Character(Some(s.status.as_str().into())),
        );
        record.insert(
            "occupied".into(),
            FieldValue::Numeric(Some(f64::from(s.occupied))),
        );
        writer.write_shape_and_record(&point, &record).unwrap();
    }
    drop(writer);
    for layer in ["districts", "sites"] {
        std::fs::write(dir.join(format!("{layer}.prj")), PRJ_25832).unwrap();
        if let Some(cpg) = cpg {
            std::fs::write(dir.join(format!("{layer}.cpg")), cpg).unwrap();
        }
    }
}

/// `quartier verify` accepts the plan in `out` (relative to `cwd`).
pub fn verifies(scenario: &str, out: &str, cwd: &Path) {
    let plan = format!("{out}/sites.geojson");
    let run = quartier(&["verify", scenario, &plan], cwd);
    assert_eq!(run.code, 0, "verify: {}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("keeps every rule"), "{}", run.stdout);
}
