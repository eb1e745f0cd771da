//! The street network of `[input] network`: a line layer in GeoJSON, GeoPackage or Shapefile
//! (as a city office or QGIS writes it) loaded into lines in the metric CRS, and the words
//! for a layer that cannot be one.

mod common;

use std::path::Path;

use common::*;
use quartier::error::Warning;
use quartier::model::Streets;
use quartier::progress::Silent;
use serde_json::json;

/// One district and one site around ORIGIN (EPSG:25832), so that the metric CRS is
/// EPSG:25832 and positions there can be compared with what was written.
fn city(dir: &Path) {
    let districts = vec![square("Mitte", 0.0, 0.0, 2000.0, 3000.0)];
    let sites = vec![site("S-1", 500.0, 500.0, 30)];
    write_layers(dir, &districts, &sites);
}

/// A scenario with `network` as its `[input] network`, and `extra` after it.
fn write_network_scenario(dir: &Path, network: &str, extra: &str) {
    std::fs::write(
        dir.join("scenario.toml"),
        format!(
            "[input]\ndistricts = \"districts.geojson\"\nsites = \"sites.geojson\"\nnetwork = \"{network}\"\n[demand]\nplaces = 10\n{extra}"
        ),
    )
    .unwrap();
}

/// The street network (and the warnings) as `load_instance_warned` gives them.
fn load(dir: &Path) -> (Streets, Vec<Warning>) {
    let scenario = quartier::io::read_scenario(&dir.join("scenario.toml")).unwrap();
    let (instance, warnings) =
        quartier::io::load_instance_warned(&scenario, &Silent).unwrap_or_else(|e| panic!("{e}"));
    (instance.network.expect("a street network"), warnings)
}

/// `quartier check` fails with exit code 2 and one line holding `expected`.
fn check_fails_with(dir: &Path, expected: &str) {
    let run = quartier(&["check", "scenario.toml"], dir);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(expected),
        "expected {expected:?} in {:?}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "one message: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// A position relative to ORIGIN in EPSG:25832.
fn at(x: f64, y: f64) -> [f64; 2] {
    [ORIGIN.0 + x, ORIGIN.1 + y]
}

fn close(a: [f64; 2], b: [f64; 2], metres: f64) -> bool {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt() < metres
}

fn ids(streets: &Streets) -> Vec<&str> {
    streets.lines.iter().map(|l| l.id.as_str()).collect()
}

#[test]
fn geojson_lines_and_multilines_with_text_and_number_ids() {
    let dir = tempfile::tempdir().unwrap();
    city(dir.path());
    let features = json!([
        {"type": "Feature", "properties": {"id": "Weseler Straße", "name": "Weseler Straße"},
         "geometry": {"type": "LineString", "coordinates": [at(0.0, 0.0), at(400.0, 0.0), at(800.0, 30.0)]}},
        {"type": "Feature", "properties": {"id": 42, "name": "Hüfferstraße"},
         "geometry": {"type": "MultiLineString", "coordinates": [
             [at(400.0, 0.0), at(400.0, 500.0)],
             [at(400.0, 500.0), at(900.0, 500.0)]]}},
        {"type": "Feature", "properties": {"name": "Gasse ohne Nummer"},
         "geometry": {"type": "LineString", "coordinates": [at(900.0, 500.0), at(900.0, 0.0)]}}
    ]);
    write_json(
        &dir.path().join("straßen.geojson"),
        &json!({"type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
                "features": features}),
    );
    write_network_scenario(
        dir.path(),
        "straßen.geojson",
        "[network]\nmax_snap_m = 150\n",
    );
    let (streets, warnings) = load(dir.path());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(ids(&streets), ["Weseler Straße", "42", "42", "2"]);
    assert_eq!(streets.max_snap_m, 150.0);
    assert_eq!(
        streets.lines[0].points,
        [at(0.0, 0.0), at(400.0, 0.0), at(800.0, 30.0)]
    );
    assert_eq!(
        streets.lines[2].points,
        [at(400.0, 500.0), at(900.0, 500.0)]
    );

    // Without [network], the defaults; the scenario's check passes.
    write_network_scenario(dir.path(), "straßen.geojson", "");
    assert_eq!(load(dir.path()).0.max_snap_m, 300.0);
    let run = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn geopackage_lines_with_their_crs_and_feature_ids() {
    use geo::{Geometry, LineString, MultiLineString};
    use rusqlite::types::Value as V;
    let dir = tempfile::tempdir().unwrap();
    city(dir.path());
    let line = |points: &[[f64; 2]]| {
        LineString::from(points.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>())
    };
    let in_metres = vec![
        (
            Geometry::LineString(line(&[at(0.0, 0.0), at(500.0, 0.0)])),
            vec![("name", V::Text("Königsstraße".into()))],
        ),
        (
            Geometry::MultiLineString(MultiLineString(vec![
                line(&[at(500.0, 0.0), at(500.0, 400.0)]),
                line(&[at(500.0, 400.0), at(0.0, 400.0), at(0.0, 0.0)]),
            ])),
            vec![("name", V::Text("Ring".into()))],
        ),
    ];
    let gpkg = dir.path().join("netz.gpkg");
    write_gpkg_layer(&gpkg, "strassen", 25832, &in_metres);
    // The same first line in longitude/latitude, in a layer with its own ids.
    let mut ends = [
        (at(0.0, 0.0)[0], at(0.0, 0.0)[1]),
        (at(500.0, 0.0)[0], at(500.0, 0.0)[1]),
    ];
    quartier::io::crs::Transform::new("EPSG:25832", "EPSG:4326")
        .unwrap()
        .apply(&mut ends)
        .unwrap();
    let in_degrees = vec![(
        Geometry::LineString(line(&[[ends[0].0, ends[0].1], [ends[1].0, ends[1].1]])),
        vec![("id", V::Text("K-1".into()))],
    )];
    write_gpkg_layer(&gpkg, "grad", 4326, &in_degrees);

    write_network_scenario(dir.path(), "netz.gpkg#strassen", "");
    let (streets, _) = load(dir.path());
    // Without an id column, the GeoPackage's feature id (fid) names the lines.
    assert_eq!(ids(&streets), ["1", "2", "2"]);
    assert_eq!(streets.lines[1].points, [at(500.0, 0.0), at(500.0, 400.0)]);
    assert_eq!(streets.lines[2].points.len(), 3);

    write_network_scenario(dir.path(), "netz.gpkg#grad", "");
    let (streets, _) = load(dir.path());
    assert_eq!(ids(&streets), ["K-1"]);
    let points = &streets.lines[0].points;
    assert!(close(points[0], at(0.0, 0.0), 0.01), "{points:?}");
    assert!(close(points[1], at(500.0, 0.0), 0.01), "{points:?}");

    // A layer of areas is no street network.
    let square = geo::Polygon::new(
        line(&[at(0.0, 0.0), at(50.0, 0.0), at(50.0, 50.0), at(0.0, 0.0)]),
        vec![],
    );
    write_gpkg_layer(
        &gpkg,
        "flaechen",
        25832,
        &[(
            Geometry::Polygon(square),
            vec![("name", V::Text("Domplatz".into()))],
        )],
    );
    write_network_scenario(dir.path(), "netz.gpkg#flaechen", "");
    check_fails_with(
        dir.path(),
        "netz.gpkg#flaechen: feature 0 (id \"1\"): geometry must be a LineString or MultiLineString (a street network needs lines), found Polygon",
    );
}

/// ETRS89 / UTM zone 32N with a false easting of 2,500,000 m instead of 500,000 m (eastings
/// 2,000,000 m larger than EPSG:25832's), as ESRI's WKT in a `.prj`.
fn prj_2500000(name: &str) -> String {
    PRJ_25832.replace("ETRS_1989_UTM_Zone_32N", name).replace(
        "PARAMETER[\"False_Easting\",500000.0]",
        "PARAMETER[\"False_Easting\",2500000.0]",
    )
}

#[test]
fn shapefile_polylines_in_upper_case_files_with_a_custom_prj() {
    use shapefile::dbase::{self, FieldValue, Record, TableWriterBuilder};
    use shapefile::{Point, Polyline};
    let shifted = |x: f64, y: f64| Point::new(ORIGIN.0 + 2_000_000.0 + x, ORIGIN.1 + y);
    for name in ["ETRS_1989_UTM_Zone_32N_2500000", "ETRS_1989_UTM_Zone_32N"] {
        let dir = tempfile::tempdir().unwrap();
        city(dir.path());
        let builder = TableWriterBuilder::with_encoding(dbase::encoding::EncodingRs::from(
            dbase::encoding_rs::WINDOWS_1252,
        ))
        .add_numeric_field(dbase::FieldName::try_from("osm_id").unwrap(), 12, 0)
        .add_character_field(dbase::FieldName::try_from("NAME").unwrap(), 40);
        let mut writer =
            shapefile::Writer::from_path(dir.path().join("STREETS.SHP"), builder).unwrap();
        let lines = [
            (
                4711.0,
                "Münzstraße",
                Polyline::new(vec![shifted(0.0, 0.0), shifted(300.0, 0.0)]),
            ),
            (
                4712.0,
                "Aegidiistraße",
                Polyline::with_parts(vec![
                    vec![shifted(300.0, 0.0), shifted(300.0, 300.0)],
                    vec![shifted(300.0, 300.0), shifted(0.0, 300.0)],
                ]),
            ),
        ];
        for (osm_id, street, polyline) in &lines {
            let mut record = Record::default();
            record.insert("osm_id".into(), FieldValue::Numeric(Some(*osm_id)));
            record.insert(
                "NAME".into(),
                FieldValue::Character(Some(street.to_string())),
            );
            writer.write_shape_and_record(polyline, &record).unwrap();
        }
        drop(writer);
        for (from, to) in [
            ("STREETS.shx", "STREETS.SHX"),
            ("STREETS.dbf", "STREETS.DBF"),
        ] {
            std::fs::rename(dir.path().join(from), dir.path().join(to)).unwrap();
        }
        std::fs::write(dir.path().join("STREETS.PRJ"), prj_2500000(name)).unwrap();
        std::fs::write(dir.path().join("STREETS.CPG"), "1252").unwrap();

        write_network_scenario(dir.path(), "STREETS.SHP", "");
        let (streets, warnings) = load(dir.path());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(ids(&streets), ["4711", "4712", "4712"]);
        // x ≈ 2,404,000 in the file is x ≈ 404,000 in EPSG:25832: the false easting counts,
        // also where the WKT keeps the name of the standard zone.
        let points = &streets.lines[0].points;
        assert!(close(points[0], at(0.0, 0.0), 0.01), "{name}: {points:?}");
        assert!(close(points[1], at(300.0, 0.0), 0.01), "{name}: {points:?}");
        assert!(
            close(streets.lines[2].points[1], at(0.0, 300.0), 0.01),
            "{name}"
        );

        // Without the .prj the metres are read as degrees: said, with the way out.
        std::fs::remove_file(dir.path().join("STREETS.PRJ")).unwrap();
        check_fails_with(
            dir.path(),
            "STREETS.SHP: feature 0 (id \"4711\"): coordinates (2404000, 5757000) cannot be longitude/latitude, but the layer is read as EPSG:4326; if they are metres (e.g. EPSG:25832), put the Shapefile's .prj next to it",
        );
    }
}

#[test]
fn other_geometries_and_empty_layers_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    city(dir.path());
    let crs = json!({"type": "name", "properties": {"name": "EPSG:25832"}});
    let street = json!({"type": "Feature", "properties": {"id": "Ludgeristraße"},
        "geometry": {"type": "LineString", "coordinates": [at(0.0, 0.0), at(100.0, 0.0)]}});
    let square = json!({"type": "Feature", "properties": {"id": "Domplatz"},
        "geometry": {"type": "Polygon", "coordinates": [[at(0.0, 0.0), at(50.0, 0.0), at(50.0, 50.0), at(0.0, 0.0)]]}});
    write_json(
        &dir.path().join("streets.geojson"),
        &json!({"type": "FeatureCollection", "crs": crs, "features": [street, square]}),
    );
    write_network_scenario(dir.path(), "streets.geojson", "");
    check_fails_with(
        dir.path(),
        "streets.geojson: feature 1 (id \"Domplatz\"): geometry must be a LineString or MultiLineString (a street network needs lines), found Polygon",
    );

    write_json(
        &dir.path().join("streets.geojson"),
        &json!({"type": "FeatureCollection", "crs": crs, "features": []}),
    );
    check_fails_with(
        dir.path(),
        "streets.geojson: the layer has no features; expected at least one",
    );

    write_network_scenario(dir.path(), "fehlt.geojson", "");
    check_fails_with(dir.path(), "fehlt.geojson: file not found");
}

#[test]
fn lines_without_two_vertices_are_skipped_with_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    city(dir.path());
    let line = |id: &str, coordinates: serde_json::Value| {
        json!({"type": "Feature", "properties": {"id": id},
               "geometry": {"type": "LineString", "coordinates": coordinates}})
    };
    write_json(
        &dir.path().join("streets.geojson"),
        &json!({"type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "EPSG:25832"}},
                "features": [
                    line("Salzstraße", json!([at(0.0, 0.0), at(100.0, 0.0)])),
                    line("Stummel", json!([at(100.0, 0.0)])),
                    line("Leer", json!([])),
                    line("Bült", json!([at(100.0, 0.0), at(100.0, 80.0)]))]}),
    );
    write_network_scenario(dir.path(), "streets.geojson", "");
    let (streets, warnings) = load(dir.path());
    assert_eq!(ids(&streets), ["Salzstraße", "Bült"]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].file.ends_with("streets.geojson"),
        "{:?}",
        warnings[0]
    );
    assert_eq!(
        warnings[0].message,
        "2 lines have fewer than 2 vertices and are skipped (the first: feature 1 (id \"Stummel\"))"
    );
}

#[test]
fn network_settings_need_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    city(dir.path());
    write_scenario(dir.path(), 10, "[network]\nmax_snap_m = 200\n");
    check_fails_with(
        dir.path(),
        "scenario.toml: [network] is set but [input] has no network; add network = \"streets.geojson\"",
    );
}
