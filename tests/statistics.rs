//! District statistics, fair-share keys and district rules from the planner's side: the
//! office's CSV joined to the districts, every message it can cause (exit 2, one message
//! naming file, line, column or district and property), warnings for data that contradicts
//! itself, and plans that verify.

mod common;

use std::path::Path;

use common::*;
use serde_json::{json, Value};

/// Three districts with ids "01", "02", "03" (the office's table numbers them 1, 2, 3),
/// two sites in each.
fn city() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let districts = vec![
        square("01", 0.0, 0.0, 1000.0, 4000.0),
        square("02", 1000.0, 0.0, 1000.0, 4000.0),
        square("03", 2000.0, 0.0, 1000.0, 2000.0),
    ];
    let sites = vec![
        site("S-1", 300.0, 500.0, 50),
        site("S-2", 700.0, 500.0, 50),
        site("S-3", 1300.0, 500.0, 50),
        site("S-4", 1700.0, 500.0, 50),
        site("S-5", 2300.0, 500.0, 50),
        site("S-6", 2700.0, 500.0, 50),
    ];
    write_layers(dir.path(), &districts, &sites);
    write_table(dir.path(), STATISTICS);
    dir
}

/// The office's table: semicolons, decimal commas, a totals row; written in Windows-1252.
const STATISTICS: &str = "Nr;Bezirk;Einwohner;SGB II-Quote;Kita-Plätze\r\n1;Hölting;4000;5,0;120\r\n2;Südviertel;4000;25,0;80\r\n3;Gievenbeck;2000;10,0;60\r\nSumme;Stadt;10000;14,0;260\r\n";

fn write_table(dir: &Path, text: &str) {
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    std::fs::write(dir.join("stats.csv"), bytes).unwrap();
}

const JOIN: &str = "[input.statistics]\nfile = \"stats.csv\"\nkey = \"Nr\"\ndecimal = \",\"\nencoding = \"windows-1252\"\n";

/// A scenario with the table joined and `extra` (fields, rules) after it.
fn scenario(dir: &Path, demand: u64, extra: &str) {
    let text = format!(
        "name = \"Lastenteilung\"\n[input]\ndistricts = \"districts.geojson\"\nsites = \"sites.geojson\"\n{JOIN}\n[demand]\nplaces = {demand}\n{extra}\n"
    );
    std::fs::write(dir.join("scenario.toml"), text).unwrap();
}

fn with_fields(fields: &str, rules: &str) -> String {
    format!("[fields.districts]\n{fields}\n{rules}")
}

/// `check` and `solve` fail with exit 2 and one message holding every part; nothing written.
fn fails_with(dir: &Path, parts: &[&str]) {
    for command in ["check", "solve"] {
        let run = quartier(&[command, "scenario.toml"], dir);
        assert_eq!(run.code, 2, "{command}: {}{}", run.stdout, run.stderr);
        let errors: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| !l.starts_with("warning: "))
            .collect();
        assert_eq!(errors.len(), 1, "one message: {}", run.stderr);
        for part in parts {
            assert!(
                errors[0].contains(part),
                "{command}: expected {part:?} in {:?}",
                errors[0]
            );
        }
    }
    assert!(!dir.join("out").exists(), "nothing written on bad input");
}

fn districts_out(dir: &Path) -> Vec<Value> {
    read_json(&dir.join("out/districts.geojson"))["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"].clone())
        .collect()
}

#[test]
fn a_burden_sharing_key_and_a_district_rule_from_the_offices_table() {
    let dir = city();
    scenario(
        dir.path(),
        100,
        &with_fields(
            "population = \"Einwohner\"\nweight = \"Einwohner * (1 - 2 * `SGB II-Quote` / 100)\"\nname = \"Bezirk\"",
            "[[rules.district]]\nwhere = \"`SGB II-Quote` > 20 and `Kita-Plätze` < 100\"\nmax_new = 10\n[[rules.district]]\nwhere = \"`SGB II-Quote` >= 10\"\nmax_share = 0.004",
        ),
    );
    let check = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    for part in [
        "fair share by \"Einwohner * (1 - 2 * `SGB II-Quote` / 100)\"",
        "statistics: stats.csv joined by \"Nr\" to every district",
        "district rule where `SGB II-Quote` > 20 and `Kita-Plätze` < 100 (max_new 10): 1 district: 02 Südviertel",
        "district rule where `SGB II-Quote` >= 10 (max_share 0.004): 1 district: 03 Gievenbeck",
        "1 warning about the input",
        "stats.csv: 1 row matches no district and is not used (a totals row?): line 5 \"Summe\"",
    ] {
        assert!(check.stdout.contains(part), "{part:?} in {}", check.stdout);
    }

    let run = quartier(&["solve", "scenario.toml", "--out", "out"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("warning: stats.csv: 1 row matches no district"),
        "{}",
        run.stderr
    );
    verifies("scenario.toml", "out", dir.path());
    let districts = districts_out(dir.path());
    // Keys 3,600, 2,000 and 1,600: the fair shares of 100 places are 50, 27.8 and 22.2;
    // Südviertel stops at 10 (max_new), Gievenbeck at 0.4 % of 2,000 = 8.
    let weights: Vec<f64> = districts
        .iter()
        .map(|d| d["weight"].as_f64().unwrap())
        .collect();
    assert_eq!(weights, vec![3600.0, 2000.0, 1600.0]);
    let rules: Vec<&Value> = districts.iter().map(|d| &d["rule"]).collect();
    assert_eq!(
        rules,
        vec![
            &Value::Null,
            &json!("`SGB II-Quote` > 20 and `Kita-Plätze` < 100"),
            &json!("`SGB II-Quote` >= 10")
        ]
    );
    let new: Vec<f64> = districts
        .iter()
        .map(|d| d["new"].as_f64().unwrap())
        .collect();
    assert_eq!(new, vec![82.0, 10.0, 8.0]);
    let limited: Vec<&str> = districts
        .iter()
        .map(|d| d["limited_by"].as_str().unwrap())
        .collect();
    assert_eq!(limited, vec!["", "max_new", "share_cap"]);
    let names: Vec<&str> = districts
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Hölting", "Südviertel", "Gievenbeck"]);
    let report = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(report.contains("Verteilschlüssel und Bezirksregeln"));
    assert!(
        report.contains("höchstens 10 neue Plätze – 1 Bezirk: Südviertel"),
        "{report}"
    );

    // A plan edited in QGIS with more new places in Südviertel breaks its district rule.
    let path = dir.path().join("out/sites.geojson");
    let mut plan = read_json(&path);
    for feature in plan["features"].as_array_mut().unwrap() {
        if feature["properties"]["id"] == "S-3" {
            let places = feature["properties"]["places"].as_u64().unwrap();
            feature["properties"]["places"] = json!(places + 5);
        }
    }
    write_json(&dir.path().join("edited.geojson"), &plan);
    let run = quartier(&["verify", "scenario.toml", "edited.geojson"], dir.path());
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("district 02 \"Südviertel\": 15 new places exceed max_new = 10 of the district rule where `SGB II-Quote` > 20 and `Kita-Plätze` < 100"),
        "{}",
        run.stdout
    );
}

/// A district rule that caps no district (a threshold above every rate, or districts an
/// earlier rule takes): `check` shows "no district", `solve` and `verify` warn on stderr.
#[test]
fn a_district_rule_that_applies_to_no_district_is_said() {
    let dir = city();
    scenario(
        dir.path(),
        100,
        &with_fields(
            "population = \"Einwohner\"\nname = \"Bezirk\"",
            "[[rules.district]]\nwhere = \"`SGB II-Quote` > 40\"\nmax_new = 5\n[[rules.district]]\nwhere = \"`SGB II-Quote` > 20\"\nmax_new = 10\n[[rules.district]]\nwhere = \"`SGB II-Quote` > 24\"\nmax_share = 0.001\nmax_new = 3",
        ),
    );
    let check = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    for part in [
        "district rule where `SGB II-Quote` > 40 (max_new 5): no district",
        "district rule where `SGB II-Quote` > 20 (max_new 10): 1 district: 02 Südviertel",
        "district rule where `SGB II-Quote` > 24 (max_share 0.001, max_new 3): no district",
    ] {
        assert!(check.stdout.contains(part), "{part:?} in {}", check.stdout);
    }
    let expected = [
        "warning: scenario.toml: the district rule where `SGB II-Quote` > 40 (max_new 5) applies to no district: its condition holds in none of the 3 districts; check the condition against the data (quartier check lists the districts of each rule)",
        "warning: scenario.toml: the district rule where `SGB II-Quote` > 24 (max_share 0.001, max_new 3) applies to no district: its condition holds in none of the 3 districts, or only where an earlier rule applies; check the condition against the data (quartier check lists the districts of each rule)",
    ];
    let run = quartier(&["solve", "scenario.toml", "--out", "out"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let verify = quartier(
        &["verify", "scenario.toml", "out/sites.geojson"],
        dir.path(),
    );
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    for said in [&run.stderr, &verify.stderr] {
        let rules: Vec<&str> = said
            .lines()
            .filter(|l| l.contains("district rule"))
            .collect();
        assert_eq!(rules, expected, "{said}");
    }
}

#[test]
fn the_weight_follows_the_mapped_population() {
    let dir = city();
    let path = dir.path().join("districts.geojson");
    let mut layer = read_json(&path);
    for feature in layer["features"].as_array_mut().unwrap() {
        let p = feature["properties"].as_object_mut().unwrap();
        let population = p.remove("population").unwrap();
        p.insert("pop_2015".into(), population);
    }
    write_json(&path, &layer);
    write_scenario(
        dir.path(),
        100,
        "[fields.districts]\npopulation = \"pop_2015\"",
    );
    let run = quartier(&["solve", "scenario.toml", "--out", "out"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    verifies("scenario.toml", "out", dir.path());
    let weights: Vec<f64> = districts_out(dir.path())
        .iter()
        .map(|d| d["weight"].as_f64().unwrap())
        .collect();
    assert_eq!(weights, vec![4000.0, 4000.0, 2000.0]);
}

#[test]
fn a_plain_property_and_an_expression_over_the_layer_alone() {
    let dir = city();
    let path = dir.path().join("districts.geojson");
    let mut layer = read_json(&path);
    for (i, feature) in layer["features"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        feature["properties"]["Wohnfläche je EW"] = json!(30 + 5 * i);
        feature["properties"]["welfare"] = json!(0.1 * i as f64);
    }
    write_json(&path, &layer);
    write_scenario(
        dir.path(),
        60,
        "[fields.districts]\nweight = \"Wohnfläche je EW\"\n",
    );
    let run = quartier(&["solve", "scenario.toml", "--out", "out"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    verifies("scenario.toml", "out", dir.path());
    let new: Vec<f64> = districts_out(dir.path())
        .iter()
        .map(|d| d["new"].as_f64().unwrap())
        .collect();
    // Keys 30, 35, 40: shares of 60 places 17.1, 20 and 22.9.
    assert_eq!(new, vec![17.0, 20.0, 23.0]);
    write_scenario(
        dir.path(),
        60,
        "[fields.districts]\nweight = \"if(welfare > 0.15, 0, min(population, 3000))\"\n",
    );
    let run = quartier(&["solve", "scenario.toml", "--out", "out"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    verifies("scenario.toml", "out", dir.path());
    let new: Vec<f64> = districts_out(dir.path())
        .iter()
        .map(|d| d["new"].as_f64().unwrap())
        .collect();
    assert_eq!(new, vec![30.0, 30.0, 0.0]);
}

#[test]
fn table_errors_name_file_line_and_column() {
    let key = "population = \"Einwohner\"\nweight = \"Einwohner * (1 - `SGB II-Quote` / 100)\"";
    let cases: Vec<(String, String, Vec<&str>)> = vec![
        (
            STATISTICS.replace("3;Gievenbeck;2000;10,0;60\r\n", ""),
            key.into(),
            vec!["stats.csv: no row for district \"03\" (districts.geojson feature 2); expected a row with \"03\" in column \"Nr\""],
        ),
        (
            STATISTICS.replace("2;Südviertel;4000", "2;Südviertel;4.000"),
            key.into(),
            vec!["stats.csv: line 3, column \"Einwohner\" (district \"2\"): \"4.000\" is not a number in the declared notation (decimal \",\"): \".\" is not the decimal separator here, and thousands separators are not allowed"],
        ),
        (
            STATISTICS.into(),
            "population = \"Einwohner\"\nweight = \"Einwohner * (1 - `SGB-II-Quote` / 100)\"".into(),
            vec!["stats.csv: no column \"SGB-II-Quote\" (did you mean \"SGB II-Quote\"?), and the district layer districts.geojson has no such property either; the scenario uses it (weight = \"Einwohner * (1 - `SGB-II-Quote` / 100)\")"],
        ),
        (
            STATISTICS.replace("3;Gievenbeck", "03;Gievenbeck").replace("Summe;", "3;"),
            key.into(),
            vec!["stats.csv: line 5, column \"Nr\": the district id \"3\" appears twice (lines 4 and 5); expected one row per district"],
        ),
        (
            STATISTICS.replace("Einwohner", "population"),
            "weight = \"population * 2\"".into(),
            vec!["stats.csv: column \"population\" is also a property of the district layer districts.geojson; the scenario uses \"population\" ([fields.districts] population), so quartier cannot tell which is meant"],
        ),
        (
            STATISTICS.replace("25,0;80", ";80"),
            key.into(),
            vec!["stats.csv: line 3, column \"SGB II-Quote\" (district \"02\"): the cell is empty; expected a number (weight = \"Einwohner * (1 - `SGB II-Quote` / 100)\")"],
        ),
        (
            STATISTICS.replace("25,0;80", "250,0;80"),
            key.into(),
            vec!["districts.geojson: feature 1 (id \"02\"): the fair-share key weight = \"Einwohner * (1 - `SGB II-Quote` / 100)\" gives -6000 here; a weight must be ≥ 0"],
        ),
        (
            STATISTICS.into(),
            "population = \"Einwohner\"\nweight = \"sqrt(Einwohner)\"".into(),
            vec!["scenario.toml: [fields.districts] weight = \"sqrt(Einwohner)\" is neither a property of the districts nor an expression: unknown function \"sqrt\"; the functions are min, max and if"],
        ),
        (
            STATISTICS.replace("Nr;", "Nr.;"),
            key.into(),
            vec!["stats.csv: no column \"Nr\" for the district id (key in [input.statistics]) (did you mean \"Nr.\"?)"],
        ),
    ];
    for (table, fields, parts) in cases {
        let dir = city();
        write_table(dir.path(), &table);
        scenario(dir.path(), 100, &with_fields(&fields, ""));
        fails_with(dir.path(), &parts);
    }
}

#[test]
fn expression_errors_name_the_district_and_the_property() {
    let dir = city();
    let path = dir.path().join("districts.geojson");
    let mut layer = read_json(&path);
    layer["features"][0]["properties"]["welfare"] = json!(0.1);
    layer["features"][1]["properties"]["welfare"] = json!(0.2);
    write_json(&path, &layer);
    write_scenario(
        dir.path(),
        100,
        "[fields.districts]\nweight = \"population * (1 - welfare)\"",
    );
    fails_with(
        dir.path(),
        &["districts.geojson: feature 2 (id \"03\"): property \"welfare\" is missing (weight = \"population * (1 - welfare)\")"],
    );
    write_scenario(
        dir.path(),
        100,
        "[[rules.district]]\nwhere = \"wellfare > 0.1\"\nmax_new = 5",
    );
    fails_with(
        dir.path(),
        &["districts.geojson: feature 0 (id \"01\"): property \"wellfare\" is missing (did you mean \"welfare\"?) ([[rules.district]] 1 where = \"wellfare > 0.1\")"],
    );
    write_scenario(
        dir.path(),
        100,
        "[[rules.district]]\nwhere = \"welfare * 2\"\nmax_new = 5",
    );
    fails_with(
        dir.path(),
        &["districts.geojson: feature 0 (id \"01\"): [[rules.district]] 1 where = \"welfare * 2\": the condition gives the number 0.2, not true or false"],
    );
    for (rule, expected) in [
        ("where = \"welfare >\"\nmax_new = 5", "scenario.toml: [[rules.district]] 1 (where = \"welfare >\"): cannot read the expression"),
        ("where = \"welfare > 0.1\"", "scenario.toml: [[rules.district]] 1 (where = \"welfare > 0.1\"): give max_share and/or max_new"),
        ("where = \"welfare > 0.1\"\nmax_new = -3", "max_new must be a whole number of new places ≥ 0, found -3"),
        ("where = \"welfare > 0.1\"\nmax_shar = 0.1", "scenario.toml: unknown key \"max_shar\" in [rules.district] (did you mean \"max_share\"?)"),
    ] {
        write_scenario(dir.path(), 100, &format!("[[rules.district]]\n{rule}"));
        fails_with(dir.path(), &[expected]);
    }
}

#[test]
fn encodings_and_delimiters_of_the_table() {
    // Read as UTF-8, the Windows-1252 umlauts are invalid: the message says what to set.
    let dir = city();
    scenario(
        dir.path(),
        100,
        "[fields.districts]\npopulation = \"Einwohner\"\nname = \"Bezirk\"",
    );
    let text = std::fs::read_to_string(dir.path().join("scenario.toml")).unwrap();
    std::fs::write(
        dir.path().join("scenario.toml"),
        text.replace("encoding = \"windows-1252\"\n", ""),
    )
    .unwrap();
    fails_with(
        dir.path(),
        &[
            "stats.csv: not UTF-8 text (byte",
            "set encoding = \"windows-1252\" in [input.statistics]",
        ],
    );
    // UTF-8 with a byte-order mark, commas and decimal points, detected.
    let dir = city();
    let utf8 =
        "\u{feff}Nr,Bezirk,Einwohner\n1,Hölting,4000\n2,Südviertel,4000\n3,Gievenbeck,2000\n";
    std::fs::write(dir.path().join("stats.csv"), utf8).unwrap();
    std::fs::write(
        dir.path().join("scenario.toml"),
        "[input]\ndistricts = \"districts.geojson\"\nsites = \"sites.geojson\"\n[input.statistics]\nfile = \"stats.csv\"\nkey = \"Nr\"\n[fields.districts]\npopulation = \"Einwohner\"\nname = \"Bezirk\"\n[demand]\nplaces = 50\n",
    )
    .unwrap();
    let run = quartier(&["solve", "scenario.toml", "--out", "out"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.is_empty(), "no warning: {}", run.stderr);
    verifies("scenario.toml", "out", dir.path());
    let names: Vec<String> = districts_out(dir.path())
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["Hölting", "Südviertel", "Gievenbeck"]);
    for (key, value, expected) in [
        (
            "delimiter",
            "\";;\"",
            "[input.statistics] delimiter must be one character",
        ),
        (
            "decimal",
            "\"'\"",
            "[input.statistics] decimal must be \".\" or \",\"",
        ),
        (
            "encoding",
            "\"klingonisch\"",
            "[input.statistics] unknown encoding \"klingonisch\"",
        ),
    ] {
        let text = std::fs::read_to_string(dir.path().join("scenario.toml")).unwrap();
        let bad = text.replace(
            "key = \"Nr\"\n",
            &format!("key = \"Nr\"\n{key} = {value}\n"),
        );
        let bad_dir = tempfile::tempdir().unwrap();
        for file in ["districts.geojson", "sites.geojson", "stats.csv"] {
            std::fs::copy(dir.path().join(file), bad_dir.path().join(file)).unwrap();
        }
        std::fs::write(bad_dir.path().join("scenario.toml"), bad).unwrap();
        fails_with(bad_dir.path(), &[expected]);
    }
}

#[test]
fn numbers_written_as_text_are_refused_with_the_reason() {
    let dir = city();
    write_scenario(dir.path(), 100, "");
    let path = dir.path().join("districts.geojson");
    let mut layer = read_json(&path);
    layer["features"][1]["properties"]["population"] = json!("12.345");
    write_json(&path, &layer);
    fails_with(
        dir.path(),
        &["districts.geojson: feature 1 (id \"02\"): property \"population\" must be a number, found the text \"12.345\": in German notation \"12.345\" means one number, in English another, so quartier does not guess; write it as a JSON number without quotes"],
    );
    let dir = city();
    write_scenario(dir.path(), 100, "");
    let path = dir.path().join("sites.geojson");
    let mut layer = read_json(&path);
    layer["features"][0]["properties"]["capacity"] = json!("50");
    write_json(&path, &layer);
    fails_with(
        dir.path(),
        &["sites.geojson: feature 0 (id \"S-1\"): property \"capacity\" must be a number, found the text \"50\": text is not read as a number"],
    );
}

#[test]
fn data_that_contradicts_itself_is_said() {
    let dir = city();
    write_scenario(dir.path(), 100, "");
    let path = dir.path().join("sites.geojson");
    let mut layer = read_json(&path);
    let p = &mut layer["features"][0]["properties"];
    p["status"] = json!("existing");
    p["occupied"] = json!(60);
    layer["features"][1]["properties"]["min_places"] = json!(80);
    layer["features"][2]["properties"]["occupied"] = json!(12);
    write_json(&path, &layer);
    let path = dir.path().join("districts.geojson");
    let mut districts = read_json(&path);
    // A bow tie: the outline of district 03 crosses itself at (406500, 5757500).
    districts["features"][2]["geometry"]["coordinates"] = json!([[
        [406000.0, 5757000.0],
        [407000.0, 5758000.0],
        [407000.0, 5757000.0],
        [406000.0, 5758000.0],
        [406000.0, 5757000.0]
    ]]);
    write_json(&path, &districts);
    let expected = [
        "districts.geojson: feature 2 (id \"03\"): the outline crosses itself at (406500.0, 5757500.0); which district a site near the crossing lies in is a guess",
        "sites.geojson: feature 0 (id \"S-1\") at (404300.0, 5757500.0): 60 places are occupied, more than the capacity of 50; the site gets no new places",
        "sites.geojson: feature 1 (id \"S-2\") at (404700.0, 5757500.0): the minimum of 80 new places (\"min_places\") is above the capacity of 50; the site can never be used",
        "sites.geojson: feature 2 (id \"S-3\") at (405300.0, 5757500.0): a candidate with 12 occupied places; they are not counted: if people live there, set \"status\" to existing",
    ];
    let check = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains("4 warnings about the input"),
        "{}",
        check.stdout
    );
    for part in expected {
        assert!(check.stdout.contains(part), "{part:?} in {}", check.stdout);
    }
    let run = quartier(&["solve", "scenario.toml", "--out", "out"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for part in expected {
        assert!(
            run.stderr.contains(&format!("warning: {part}")),
            "{part:?} in {}",
            run.stderr
        );
    }
    verifies("scenario.toml", "out", dir.path());

    // An outline without area leaves no meaningful plan: an error.
    districts["features"][2]["geometry"]["coordinates"] = json!([[
        [406000.0, 5757000.0],
        [407000.0, 5758000.0],
        [406500.0, 5757500.0],
        [406000.0, 5757000.0]
    ]]);
    write_json(&path, &districts);
    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    fails_with(
        dir.path(),
        &["districts.geojson: feature 2 (id \"03\"): the outline at (406000.0, 5757000.0) has no area"],
    );
}
