//! Layers from GeoPackage and Shapefile (written here with the same crates quartier reads
//! them with), GeoJSON and TOML with a byte-order mark: each solves to the same plan as the
//! plain GeoJSON city, and the plan verifies.

mod common;

use common::*;
use serde_json::Value;

fn districts() -> Vec<quartier::model::District> {
    vec![
        square("01", 0.0, 0.0, 1000.0, 3000.0),
        square("02", 1000.0, 0.0, 1000.0, 1000.0),
        square("03", 2000.0, 0.0, 1000.0, 2000.0),
    ]
}

fn sites() -> Vec<quartier::model::Site> {
    vec![
        site("S-1", 500.0, 500.0, 40),
        site("S-2", 1500.0, 500.0, 40),
        site("S-3", 2500.0, 500.0, 40),
        site("S-4", 2600.0, 600.0, 10),
    ]
}

/// Solves `scenario.toml` in `dir` into `out`, verifies, and returns new places by district.
fn solved(dir: &std::path::Path) -> Vec<(String, f64)> {
    let run = quartier(&["solve", "scenario.toml", "--out", "out"], dir);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    verifies("scenario.toml", "out", dir);
    let layer = read_json(&dir.join("out/districts.geojson"));
    let mut new: Vec<(String, f64)> = layer["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["properties"]["id"].as_str().unwrap().to_string(),
                f["properties"]["new"].as_f64().unwrap(),
            )
        })
        .collect();
    new.sort_by(|a, b| a.0.cmp(&b.0));
    new
}

fn geojson_plan() -> Vec<(String, f64)> {
    let dir = tempfile::tempdir().unwrap();
    write_layers(dir.path(), &districts(), &sites());
    write_scenario(dir.path(), 60, "");
    solved(dir.path())
}

#[test]
fn geopackage_layers_with_the_crs_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (district_features, site_features) = gpkg_features(&districts(), &sites());
    let gpkg = dir.path().join("stadt.gpkg");
    write_gpkg_layer(&gpkg, "bezirke", 25832, &district_features);
    write_gpkg_layer(&gpkg, "standorte", 25832, &site_features);
    std::fs::write(
        dir.path().join("scenario.toml"),
        "[input]\ndistricts = \"stadt.gpkg#bezirke\"\nsites = \"stadt.gpkg#standorte\"\n[demand]\nplaces = 60\n",
    )
    .unwrap();
    assert_eq!(solved(dir.path()), geojson_plan());

    // The only layer of a file needs no name; a file with several does.
    let single = dir.path().join("bezirke.gpkg");
    write_gpkg_layer(&single, "bezirke", 25832, &district_features);
    std::fs::write(
        dir.path().join("scenario.toml"),
        "[input]\ndistricts = \"bezirke.gpkg\"\nsites = \"stadt.gpkg#standorte\"\n[demand]\nplaces = 60\n",
    )
    .unwrap();
    assert_eq!(solved(dir.path()), geojson_plan());
    for (districts, expected) in [
        (
            "stadt.gpkg",
            "stadt.gpkg: the GeoPackage holds 2 feature layers (bezirke, standorte); choose one with stadt.gpkg#LAYER",
        ),
        (
            "stadt.gpkg#bezirk",
            "stadt.gpkg: no feature layer \"bezirk\" (did you mean \"bezirke\"?); its layers: bezirke, standorte",
        ),
        ("fehlt.gpkg", "fehlt.gpkg: file not found"),
        ("scenario.toml.gpkg", "scenario.toml.gpkg: file not found"),
    ] {
        std::fs::write(
            dir.path().join("scenario.toml"),
            format!("[input]\ndistricts = \"{districts}\"\nsites = \"stadt.gpkg#standorte\"\n[demand]\nplaces = 60\n"),
        )
        .unwrap();
        let run = quartier(&["check", "scenario.toml"], dir.path());
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    // Not a GeoPackage at all.
    std::fs::write(dir.path().join("kaputt.gpkg"), "kein SQLite").unwrap();
    std::fs::write(
        dir.path().join("scenario.toml"),
        "[input]\ndistricts = \"kaputt.gpkg\"\nsites = \"stadt.gpkg#standorte\"\n[demand]\nplaces = 60\n",
    )
    .unwrap();
    let run = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("kaputt.gpkg: "), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// A GeoPackage layer without a CRS, as GDAL and QGIS write it (srs_id 99999,
/// `LOCAL_CS["Undefined SRS"]`), or with the standard's undefined systems 0 and -1: read
/// like a layer without a CRS, so `[input] crs` applies, or the message says to set it.
#[test]
fn geopackage_layers_without_a_crs_take_the_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let (district_features, site_features) = gpkg_features(&districts(), &sites());
    let gpkg = dir.path().join("stadt.gpkg");
    write_gpkg_layer(&gpkg, "bezirke", 25832, &district_features);
    write_gpkg_layer(&gpkg, "standorte", 25832, &site_features);
    for (srs_id, definition) in [
        (
            99999,
            r#"LOCAL_CS["Undefined SRS",LOCAL_DATUM["unknown",32767],UNIT["unknown",0],AXIS["Easting",EAST],AXIS["Northing",NORTH]]"#,
        ),
        (-1, "undefined"),
        (0, "undefined"),
    ] {
        let connection = rusqlite::Connection::open(&gpkg).unwrap();
        connection
            .execute(
                "INSERT OR REPLACE INTO gpkg_spatial_ref_sys VALUES ('Undefined SRS', ?1, 'NONE', ?1, ?2, 'undefined')",
                rusqlite::params![srs_id, definition],
            )
            .unwrap();
        connection
            .execute("UPDATE gpkg_geometry_columns SET srs_id = ?1", [srs_id])
            .unwrap();
        drop(connection);
        let scenario = |crs: &str| {
            std::fs::write(
                dir.path().join("scenario.toml"),
                format!("[input]\ndistricts = \"stadt.gpkg#bezirke\"\nsites = \"stadt.gpkg#standorte\"\n{crs}[demand]\nplaces = 60\n"),
            )
            .unwrap();
        };
        scenario("");
        let run = quartier(&["check", "scenario.toml"], dir.path());
        assert_eq!(run.code, 2, "srs_id {srs_id}: {}", run.stderr);
        assert!(
            run.stderr.contains("stadt.gpkg")
                && run.stderr.contains("cannot be longitude/latitude")
                && run.stderr.contains("assign the layer its CRS in QGIS")
                && run.stderr.contains("set crs = \"EPSG:25832\" in [input]"),
            "srs_id {srs_id}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        scenario("crs = \"EPSG:25832\"\n");
        assert_eq!(solved(dir.path()), geojson_plan(), "srs_id {srs_id}");
    }
}

#[test]
fn geopackage_text_numbers_are_refused_like_geojson() {
    use rusqlite::types::Value as V;
    let dir = tempfile::tempdir().unwrap();
    let (mut district_features, site_features) = gpkg_features(&districts(), &sites());
    district_features[1].1[2] = ("population", V::Text("1.000".into()));
    let gpkg = dir.path().join("stadt.gpkg");
    write_gpkg_layer(&gpkg, "bezirke", 25832, &district_features);
    write_gpkg_layer(&gpkg, "standorte", 25832, &site_features);
    std::fs::write(
        dir.path().join("scenario.toml"),
        "[input]\ndistricts = \"stadt.gpkg#bezirke\"\nsites = \"stadt.gpkg#standorte\"\n[demand]\nplaces = 60\n",
    )
    .unwrap();
    let run = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("stadt.gpkg#bezirke: feature 1 (id \"02\"): property \"population\" must be a number, found the text \"1.000\": in German notation"),
        "{}",
        run.stderr
    );
}

#[test]
fn shapefiles_with_prj_and_cpg() {
    let dir = tempfile::tempdir().unwrap();
    let mut named = districts();
    named[0].name = "Hölting".into();
    named[1].name = "Süd-Ost".into();
    write_shapefiles(dir.path(), &named, &sites());
    std::fs::write(
        dir.path().join("scenario.toml"),
        "[input]\ndistricts = \"districts.shp\"\nsites = \"sites.shp\"\n[demand]\nplaces = 60\n",
    )
    .unwrap();
    assert_eq!(solved(dir.path()), geojson_plan());
    let layer = read_json(&dir.path().join("out/districts.geojson"));
    let names: Vec<&str> = layer["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Hölting", "Süd-Ost", "Bezirk 03"]);
    // Coordinates in the output are longitude/latitude near Münster: the .prj was applied.
    let first = &layer["features"][0]["geometry"]["coordinates"][0][0];
    assert!((first[0].as_f64().unwrap() - 7.6).abs() < 0.1, "{first}");

    // Without the .prj the metres are read as degrees: said, with the way out.
    std::fs::remove_file(dir.path().join("sites.prj")).unwrap();
    let run = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("sites.shp: feature 0 (id \"S-1\"): coordinates (404500, 5757500) cannot be longitude/latitude"),
        "{}",
        run.stderr
    );
    std::fs::remove_file(dir.path().join("districts.dbf")).unwrap();
    let run = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("districts.shp: the attribute table")
            && run.stderr.contains("districts.dbf next to it is missing"),
        "{}",
        run.stderr
    );
}

#[test]
fn byte_order_marks_are_ignored_and_other_encodings_named() {
    let dir = tempfile::tempdir().unwrap();
    write_layers(dir.path(), &districts(), &sites());
    write_scenario(dir.path(), 60, "");
    for file in ["districts.geojson", "sites.geojson", "scenario.toml"] {
        let path = dir.path().join(file);
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(std::fs::read(&path).unwrap());
        std::fs::write(&path, bytes).unwrap();
    }
    assert_eq!(solved(dir.path()), geojson_plan());
    // Latin-1 text is not UTF-8: today's message, with the byte.
    let path = dir.path().join("districts.geojson");
    let text = std::fs::read_to_string(&path).unwrap();
    let latin1: Vec<u8> = text
        .replace("Bezirk 01", "Hölting")
        .chars()
        .map(|c| if c == 'ö' { 0xF6 } else { c as u8 })
        .collect();
    std::fs::write(&path, latin1).unwrap();
    let run = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("districts.geojson: not UTF-8 text (byte")
            && run.stderr.contains("save the file as UTF-8"),
        "{}",
        run.stderr
    );
    let _: Value = read_json(&dir.path().join("out/summary.json"));
}

/// A plan in metres without a `crs` member (a script's export) is not read as degrees
/// and found "moved" by thousands of kilometres: `verify` and `compare` say what the layers
/// say (exit 2). With a `crs` member it is reprojected; `[input] crs` of the scenario
/// applies to a plan whose coordinates cannot be degrees, as to its layers.
#[test]
fn plans_in_metres_without_a_crs() {
    let dir = tempfile::tempdir().unwrap();
    write_layers(dir.path(), &districts(), &sites());
    write_scenario(dir.path(), 60, "");
    solved(dir.path());
    let mut plan = read_json(&dir.path().join("out/sites.geojson"));
    for feature in plan["features"].as_array_mut().unwrap() {
        let id = feature["properties"]["id"].as_str().unwrap();
        let site = sites().into_iter().find(|s| s.id == id).unwrap();
        feature["geometry"]["coordinates"] =
            serde_json::json!([site.position[0] + ORIGIN.0, site.position[1] + ORIGIN.1]);
    }
    write_json(&dir.path().join("plan.geojson"), &plan);
    let run = quartier(&["verify", "scenario.toml", "plan.geojson"], dir.path());
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("plan.geojson: feature 0 (id \"S-1\"): coordinates (404500, 5757500) cannot be longitude/latitude, but the layer is read as EPSG:4326; if they are metres (e.g. EPSG:25832), add a \"crs\" member to the file or set crs = \"EPSG:25832\" in [input] of the scenario"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("moved"), "{}", run.stdout);

    // The scenario's [input] crs applies to it; the plan solve wrote (degrees) still reads
    // as longitude/latitude.
    write_scenario(dir.path(), 60, "");
    let text = std::fs::read_to_string(dir.path().join("scenario.toml")).unwrap();
    let with_crs = text.replace("[input]\n", "[input]\ncrs = \"EPSG:25832\"\n");
    std::fs::write(dir.path().join("scenario.toml"), with_crs).unwrap();
    verifies("scenario.toml", "out", dir.path());
    let run = quartier(&["verify", "scenario.toml", "plan.geojson"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    std::fs::write(dir.path().join("scenario.toml"), text).unwrap();

    // With its crs member, as QGIS saves it in EPSG:25832: reprojected.
    plan["crs"] =
        serde_json::json!({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}});
    write_json(&dir.path().join("plan.geojson"), &plan);
    let run = quartier(&["verify", "scenario.toml", "plan.geojson"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    // compare: an output folder whose sites were saved again in metres.
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    for file in ["summary.json", "districts.geojson"] {
        std::fs::copy(dir.path().join("out").join(file), copy.join(file)).unwrap();
    }
    write_json(&copy.join("sites.geojson"), &plan);
    let run = quartier(
        &["compare", "out", "copy", "--html", "compare.html"],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    plan.as_object_mut().unwrap().remove("crs");
    write_json(&copy.join("sites.geojson"), &plan);
    let run = quartier(&["compare", "out", "copy"], dir.path());
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("sites.geojson: feature 0 (id \"S-1\"): coordinates (404500, 5757500) cannot be longitude/latitude, but the layer is read as EPSG:4326; if they are metres (e.g. EPSG:25832), add a \"crs\" member to the file, or write the folder again with quartier solve"),
        "{}",
        run.stderr
    );
}
