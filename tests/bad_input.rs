//! Every kind of bad input gets exit code 2 and one message naming the file, the feature
//! and the property — never a panic.

mod common;

use std::path::Path;

use common::*;
use serde_json::{json, Value};

/// A valid two-district city in a fresh folder.
fn city() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let districts = vec![
        square("Nord", 0.0, 0.0, 1000.0, 3000.0),
        square("Süd", 1000.0, 0.0, 1000.0, 1000.0),
    ];
    let sites = vec![
        site("S-1", 500.0, 500.0, 30),
        site("S-2", 1500.0, 500.0, 30),
    ];
    write_layers(dir.path(), &districts, &sites);
    write_scenario(dir.path(), 20, "");
    dir
}

fn edit(path: &Path, change: impl FnOnce(&mut Value)) {
    let mut value = read_json(path);
    change(&mut value);
    write_json(path, &value);
}

/// Runs `check` and `solve`; both must fail with exit 2 and a message containing `parts`.
fn fails_with(dir: &Path, parts: &[&str]) {
    for command in ["check", "solve"] {
        let run = quartier(&[command, "scenario.toml"], dir);
        assert_eq!(run.code, 2, "{command}: {}{}", run.stdout, run.stderr);
        for part in parts {
            assert!(
                run.stderr.contains(part),
                "{command}: expected {part:?} in {:?}",
                run.stderr
            );
        }
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "one message: {}", run.stderr);
    }
    assert!(!dir.join("out").exists(), "nothing written on bad input");
}

#[test]
fn the_valid_city_passes() {
    let dir = city();
    let run = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn missing_file() {
    let dir = city();
    std::fs::remove_file(dir.path().join("sites.geojson")).unwrap();
    fails_with(dir.path(), &["sites.geojson: file not found"]);
    let run = quartier(&["check", "nowhere.toml"], dir.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("nowhere.toml: file not found"),
        "{}",
        run.stderr
    );
}

#[test]
fn invalid_json_names_line_and_column() {
    let dir = city();
    std::fs::write(
        dir.path().join("districts.geojson"),
        "{\"type\": \"FeatureCollection\",\n \"features\": [\n {\"type\": \"Feature\",, }]}",
    )
    .unwrap();
    fails_with(dir.path(), &["districts.geojson: ", "line 3, column"]);
}

#[test]
fn not_a_feature_collection() {
    let dir = city();
    write_json(
        &dir.path().join("sites.geojson"),
        &json!({"type": "Feature", "geometry": null, "properties": {}}),
    );
    fails_with(
        dir.path(),
        &["sites.geojson: expected a GeoJSON FeatureCollection, found a Feature"],
    );
}

#[test]
fn wrong_geometry_type() {
    let dir = city();
    edit(&dir.path().join("districts.geojson"), |v| {
        v["features"][1]["geometry"] = json!({"type": "Point", "coordinates": [404000, 5757000]});
    });
    fails_with(
        dir.path(),
        &["districts.geojson: feature 1 (id \"Süd\"): geometry must be a Polygon or MultiPolygon, found Point"],
    );
    let dir = city();
    edit(&dir.path().join("sites.geojson"), |v| {
        v["features"][0]["geometry"] =
            json!({"type": "LineString", "coordinates": [[404000, 5757000], [404100, 5757000]]});
    });
    fails_with(
        dir.path(),
        &[
            "sites.geojson: feature 0 (id \"S-1\"): geometry must be a Point",
            "found LineString",
        ],
    );
}

#[test]
fn population_missing_non_numeric_or_negative() {
    for (value, expected) in [
        (Value::Null, "property \"population\" is missing"),
        (
            json!("viele"),
            "property \"population\" must be a number, found \"viele\"",
        ),
        (
            json!(-5),
            "property \"population\" must be a number ≥ 0, found -5",
        ),
    ] {
        let dir = city();
        edit(&dir.path().join("districts.geojson"), |v| {
            v["features"][0]["properties"]["population"] = value.clone();
        });
        fails_with(
            dir.path(),
            &["districts.geojson: feature 0 (id \"Nord\"): ", expected],
        );
    }
}

#[test]
fn capacity_missing_non_numeric_negative_or_fractional() {
    for (value, expected) in [
        (Value::Null, "property \"capacity\" is missing"),
        (
            json!("groß"),
            "property \"capacity\" must be a number, found \"groß\"",
        ),
        (
            json!(-1),
            "property \"capacity\" must be a number ≥ 0, found -1",
        ),
        (
            json!(7.5),
            "property \"capacity\" must be a whole number of places ≥ 0, found 7.5",
        ),
    ] {
        let dir = city();
        edit(&dir.path().join("sites.geojson"), |v| {
            v["features"][1]["properties"]["capacity"] = value.clone();
        });
        fails_with(
            dir.path(),
            &["sites.geojson: feature 1 (id \"S-2\"): ", expected],
        );
    }
}

#[test]
fn duplicate_ids() {
    let dir = city();
    edit(&dir.path().join("sites.geojson"), |v| {
        v["features"][1]["properties"]["id"] = json!("S-1");
    });
    fails_with(
        dir.path(),
        &["sites.geojson: duplicate id \"S-1\" (features 0 and 1)"],
    );
}

#[test]
fn unknown_scenario_key_suggests_the_right_one() {
    let dir = city();
    write_scenario(dir.path(), 20, "[rules]\nmax_per_sit = 50");
    fails_with(
        dir.path(),
        &["scenario.toml: unknown key \"max_per_sit\" in [rules] (did you mean \"max_per_site\"?)"],
    );
}

#[test]
fn unknown_crs() {
    let dir = city();
    edit(&dir.path().join("sites.geojson"), |v| {
        v["crs"]["properties"]["name"] = json!("EPSG:999999");
    });
    fails_with(dir.path(), &["sites.geojson: unknown CRS \"EPSG:999999\""]);
    let dir = city();
    write_scenario(dir.path(), 20, "")
        .to_str()
        .unwrap()
        .to_string();
    let text = std::fs::read_to_string(dir.path().join("scenario.toml")).unwrap();
    std::fs::write(
        dir.path().join("scenario.toml"),
        text.replace("[input]\n", "[input]\nmetric_crs = \"EPSG:12345678\"\n"),
    )
    .unwrap();
    fails_with(
        dir.path(),
        &["scenario.toml: unknown CRS \"EPSG:12345678\" in [input] metric_crs"],
    );
}

#[test]
fn projected_coordinates_read_as_lon_lat() {
    let dir = city();
    edit(&dir.path().join("sites.geojson"), |v| {
        v.as_object_mut().unwrap().remove("crs");
    });
    fails_with(
        dir.path(),
        &["sites.geojson: feature 0 (id \"S-1\"): coordinates (404500, 5757500) cannot be longitude/latitude", "crs"],
    );
}

#[test]
fn total_weight_zero() {
    let dir = city();
    edit(&dir.path().join("districts.geojson"), |v| {
        for f in v["features"].as_array_mut().unwrap() {
            f["properties"]["population"] = json!(0);
        }
    });
    fails_with(
        dir.path(),
        &["districts.geojson: the weights (property \"population\") add up to 0"],
    );
}

#[test]
fn demand_not_a_positive_whole_number() {
    for bad in ["0", "-3", "12.5", "\"viele\""] {
        let dir = city();
        let text = std::fs::read_to_string(dir.path().join("scenario.toml")).unwrap();
        std::fs::write(
            dir.path().join("scenario.toml"),
            text.replace("places = 20", &format!("places = {bad}")),
        )
        .unwrap();
        fails_with(
            dir.path(),
            &["scenario.toml: [demand] places must be a positive whole number"],
        );
    }
}

#[test]
fn empty_layer() {
    let dir = city();
    write_json(
        &dir.path().join("sites.geojson"),
        &json!({"type": "FeatureCollection", "features": []}),
    );
    fails_with(dir.path(), &["sites.geojson: the layer has no features"]);
}

#[test]
fn output_folder_that_holds_the_inputs_is_refused() {
    let dir = city();
    let before = std::fs::read(dir.path().join("sites.geojson")).unwrap();
    let run = quartier(&["solve", "scenario.toml", "--out", "."], dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("holds the input file"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(dir.path().join("sites.geojson")).unwrap(),
        before
    );
    // An [output] dir pointing at the input folder is refused the same way.
    let text = std::fs::read_to_string(dir.path().join("scenario.toml")).unwrap();
    std::fs::write(
        dir.path().join("scenario.toml"),
        format!("{text}[output]\ndir = \".\"\n"),
    )
    .unwrap();
    let run = quartier(&["solve", "scenario.toml"], dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        std::fs::read(dir.path().join("sites.geojson")).unwrap(),
        before
    );
}

#[test]
fn output_folder_with_foreign_files_is_not_replaced() {
    let dir = city();
    std::fs::create_dir(dir.path().join("mine")).unwrap();
    std::fs::write(dir.path().join("mine/notes.txt"), "wichtig").unwrap();
    let run = quartier(&["solve", "scenario.toml", "--out", "mine"], dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("notes.txt"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mine/notes.txt")).unwrap(),
        "wichtig"
    );
}

/// The city's scenario with `[demand]` and an optional `[objective]` replaced.
fn with_demand_and_objective(dir: &Path, demand: &str, objective: &str) {
    std::fs::write(
        dir.join("scenario.toml"),
        format!(
            "name = \"Testfall\"\n[input]\ndistricts = \"districts.geojson\"\nsites = \"sites.geojson\"\n\n[demand]\n{demand}\n{objective}\n"
        ),
    )
    .unwrap();
}

#[test]
fn demand_levels() {
    let cases = [
        (
            "places = 20\nlevels = [10, 20]",
            "scenario.toml: [demand] has both places and levels",
        ),
        (
            "levels = [20, 10]",
            "scenario.toml: [demand] levels must increase strictly (each level is the plan of the one before plus new places): level 2 is 10, level 1 is 20",
        ),
        (
            "levels = [10, 10]",
            "scenario.toml: [demand] levels must increase strictly",
        ),
        (
            "levels = [0, 10]",
            "scenario.toml: [demand] levels: level 1 must be a positive whole number of places, found 0",
        ),
        (
            "levels = [10, 20.5]",
            "scenario.toml: [demand] levels: level 2 must be a positive whole number of places, found 20.5",
        ),
        (
            "levels = []",
            "scenario.toml: [demand] levels must be a list of positive whole numbers",
        ),
        (
            "levels = [10, 20]\nweights = [1]",
            "scenario.toml: [demand] weights: 1 given for 2 levels; give one weight per level",
        ),
        (
            "levels = [10, 20]\nweights = [0.5, 0]",
            "scenario.toml: [demand] weights: weight 2 must be a number > 0",
        ),
        (
            "levels = [10, 20]\nweights = [0.5, -1]",
            "scenario.toml: [demand] weights: weight 2 must be a number > 0",
        ),
    ];
    for (demand, message) in cases {
        let dir = city();
        with_demand_and_objective(dir.path(), demand, "");
        fails_with(dir.path(), &[message]);
    }
}

#[test]
fn objective_stages_spread_and_access() {
    let cases = [
        (
            "stages = [\"evenness\", \"shortfall\"]",
            "scenario.toml: [objective] stages must begin with \"shortfall\", \"evenness\"",
        ),
        (
            "stages = [\"shortfall\", \"evenness\", \"spread\", \"spread\"]",
            "scenario.toml: [objective] stages: \"spread\" is listed twice",
        ),
        (
            "stages = [\"shortfall\", \"evenness\", \"nearby\"]",
            "scenario.toml: [objective] stages: unknown stage \"nearby\"; known stages: shortfall, evenness, fair, worst, spread, access, cost",
        ),
        (
            "stages = [\"shortfall\", \"evenness\", \"spread\"]\nspread_metres = -5",
            "scenario.toml: [objective] spread_metres must be a positive distance in metres, found -5",
        ),
        (
            "stages = [\"shortfall\", \"evenness\", \"access\"]\naccess_kinds = [\"kita\"]",
            "scenario.toml: [objective] access_kinds names the facility kind \"kita\", but [input.facilities] has no such layer",
        ),
        (
            "stages = [\"shortfall\", \"evenness\", \"access\"]\naccess_kinds = []",
            "scenario.toml: [objective] access_kinds is empty",
        ),
    ];
    for (objective, message) in cases {
        let dir = city();
        with_demand_and_objective(
            dir.path(),
            "places = 20",
            &format!("[objective]\n{objective}"),
        );
        fails_with(dir.path(), &[message]);
    }
}

#[test]
fn a_valid_levels_scenario_passes() {
    let dir = city();
    with_demand_and_objective(
        dir.path(),
        "levels = [10, 20]\nweights = [0.7, 0.3]",
        "[objective]\nstages = [\"shortfall\", \"evenness\", \"spread\", \"worst\"]\nspread_metres = 300",
    );
    let run = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
}
