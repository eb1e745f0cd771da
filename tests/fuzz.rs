//! Mutated demo inputs never crash quartier: whatever is changed in the layers, the
//! statistics table or the scenario (bytes, property values, geometries, table cells,
//! scenario values), `quartier check` either accepts the input (exit 0) or refuses it with
//! exit 2 and one message; never a panic (exit 101) or a backtrace.

mod common;

use std::path::Path;

use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};

/// The demo city with the burden-sharing scenario, in a fresh folder.
fn demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let data = root().join("data/musterstadt");
    for file in ["districts.geojson", "sites.geojson", "statistics.csv"] {
        std::fs::copy(data.join(file), dir.path().join(file)).unwrap();
    }
    let scenario = std::fs::read_to_string(root().join("scenarios/burden_sharing.toml"))
        .unwrap()
        .replace("../data/musterstadt/", "");
    std::fs::write(dir.path().join("scenario.toml"), scenario).unwrap();
    dir
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Flip, insert or delete a byte, or cut the file short.
    Bytes {
        file: usize,
        at: f64,
        kind: u8,
        byte: u8,
    },
    /// Set a property of a feature to an odd value.
    Value {
        file: usize,
        feature: usize,
        key: usize,
        value: usize,
    },
    /// Break a feature's geometry.
    Geometry {
        file: usize,
        feature: usize,
        kind: usize,
    },
    /// Change a cell of the statistics table.
    Cell {
        row: usize,
        column: usize,
        value: usize,
    },
    /// Change a value in the scenario.
    Scenario { line: usize, value: usize },
}

const FILES: [&str; 4] = [
    "districts.geojson",
    "sites.geojson",
    "statistics.csv",
    "scenario.toml",
];

fn odd_values() -> Vec<Value> {
    vec![
        json!("12.345"),
        json!(-1),
        Value::Null,
        json!(1e308),
        json!([1, 2]),
        json!({"a": 1}),
        json!(""),
        json!(true),
        json!("existing"),
        json!(0),
        json!(4294967296u64),
        json!(0.5),
    ]
}

const KEYS: [&str; 9] = [
    "id",
    "population",
    "name",
    "capacity",
    "status",
    "occupied",
    "min_places",
    "cost",
    "welfare_share",
];

const CELLS: [&str; 8] = ["", "x", "1.234,5", "-", "1e400", "12,5", "07", "Summe"];

const SCENARIO_VALUES: [&str; 8] = [
    "\"\"",
    "-3",
    "\"`SGB II-Quote` >\"",
    "\"Nr\"",
    "0.5",
    "[1]",
    "\"utf-16\"",
    "{ x = 1 }",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..4usize, 0.0..1.0f64, 0..4u8, any::<u8>()).prop_map(|(file, at, kind, byte)| {
            Mutation::Bytes {
                file,
                at,
                kind,
                byte,
            }
        }),
        (0..2usize, 0..2000usize, 0..KEYS.len(), 0..12usize).prop_map(
            |(file, feature, key, value)| Mutation::Value {
                file,
                feature,
                key,
                value
            }
        ),
        (0..2usize, 0..2000usize, 0..8usize).prop_map(|(file, feature, kind)| Mutation::Geometry {
            file,
            feature,
            kind
        }),
        (0..45usize, 0..8usize, 0..CELLS.len()).prop_map(|(row, column, value)| Mutation::Cell {
            row,
            column,
            value
        }),
        (0..40usize, 0..SCENARIO_VALUES.len())
            .prop_map(|(line, value)| Mutation::Scenario { line, value }),
    ]
}

/// Changes one feature; a file an earlier mutation broke stays as it is.
fn edit_layer(path: &Path, feature: usize, change: impl FnOnce(&mut Value)) {
    let Ok(mut layer) = serde_json::from_slice::<Value>(&std::fs::read(path).unwrap()) else {
        return;
    };
    let Some(features) = layer.get_mut("features").and_then(Value::as_array_mut) else {
        return;
    };
    if features.is_empty() || !features.iter().all(Value::is_object) {
        return;
    }
    let n = features.len();
    change(&mut features[feature % n]);
    write_json(path, &layer);
}

fn apply(dir: &Path, mutation: &Mutation) {
    match *mutation {
        Mutation::Bytes {
            file,
            at,
            kind,
            byte,
        } => {
            let path = dir.join(FILES[file]);
            let mut bytes = std::fs::read(&path).unwrap();
            if bytes.is_empty() {
                bytes.push(byte);
            }
            let i = ((bytes.len() as f64 * at) as usize).min(bytes.len().saturating_sub(1));
            match kind {
                0 => bytes[i] ^= byte.max(1),
                1 => bytes.insert(i, byte),
                2 => {
                    bytes.remove(i);
                }
                _ => bytes.truncate(i),
            }
            std::fs::write(&path, bytes).unwrap();
        }
        Mutation::Value {
            file,
            feature,
            key,
            value,
        } => {
            edit_layer(&dir.join(FILES[file]), feature, |f| {
                if !f["properties"].is_object() {
                    f["properties"] = json!({});
                }
                f["properties"][KEYS[key]] = odd_values()[value].clone();
            });
        }
        Mutation::Geometry {
            file,
            feature,
            kind,
        } => {
            edit_layer(&dir.join(FILES[file]), feature, |f| {
                if !f["geometry"].is_object() {
                    f["geometry"] = json!({});
                }
                let g = &mut f["geometry"];
                match kind {
                    0 => *g = Value::Null,
                    1 => g["type"] = json!("LineString"),
                    2 => g["coordinates"] = json!([]),
                    3 => g["coordinates"] = json!([[[1.0, 2.0]]]),
                    4 => g["coordinates"] = json!("x"),
                    5 => g["coordinates"] = json!([1e300, -1e300]),
                    6 => g["type"] = json!("Kreis"),
                    _ => {
                        *g = json!({"type": "Polygon", "coordinates": [[[404000, 5757000], [405000, 5758000], [405000, 5757000], [404000, 5758000], [404000, 5757000]]]})
                    }
                }
            });
        }
        Mutation::Cell { row, column, value } => {
            let path = dir.join("statistics.csv");
            let bytes = std::fs::read(&path).unwrap();
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
            let mut lines: Vec<Vec<String>> = text
                .lines()
                .map(|l| l.split(';').map(str::to_string).collect())
                .collect();
            let n = lines.len();
            if n == 0 {
                return;
            }
            let line = &mut lines[row % n];
            let m = line.len();
            line[column % m] = CELLS[value].to_string();
            let joined: Vec<String> = lines.iter().map(|l| l.join(";")).collect();
            let text = joined.join("\r\n");
            let (encoded, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
            std::fs::write(&path, encoded).unwrap();
        }
        Mutation::Scenario { line, value } => {
            let path = dir.join("scenario.toml");
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            let candidates: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].contains(" = "))
                .collect();
            if candidates.is_empty() {
                return;
            }
            let i = candidates[line % candidates.len()];
            let key = lines[i].split(" = ").next().unwrap_or("").to_string();
            lines[i] = format!("{key} = {}", SCENARIO_VALUES[value]);
            std::fs::write(&path, lines.join("\n")).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 80, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_inputs_give_a_message_never_a_panic(mutations in prop::collection::vec(mutation(), 1..3)) {
        let dir = demo();
        for m in &mutations {
            apply(dir.path(), m);
        }
        let run = quartier(&["check", "scenario.toml"], dir.path());
        prop_assert!(run.code == 0 || run.code == 2, "exit {} for {:?}: {}", run.code, mutations, run.stderr);
        prop_assert!(!run.stderr.contains("panicked"), "{:?}: {}", mutations, run.stderr);
        if run.code == 2 {
            let errors: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error: ")).collect();
            prop_assert_eq!(errors.len(), 1, "{:?}: {}", mutations, run.stderr);
            prop_assert!(
                run.stderr.lines().all(|l| l.starts_with("error: ") || l.starts_with("warning: ")),
                "{:?}: {}", mutations, run.stderr
            );
        }
    }
}

#[test]
fn the_unmutated_demo_passes() {
    let dir = demo();
    let run = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// Pieces of the CRS definitions files carry (GeoJSON `crs`, `.prj`, GeoPackage
/// `gpkg_spatial_ref_sys`), put together at random: PROJ sees each only after quartier's
/// checks, and whatever it makes of them, the answer is `Ok` or `Err`, never a panic.
fn crs_definition() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "EPSG:",
        "25832",
        "99999",
        "-1",
        "urn:ogc:def:crs:EPSG::",
        "LOCAL_CS[\"Undefined SRS\",LOCAL_DATUM[\"unknown\",32767],UNIT[\"unknown\",0]]",
        "ENGCRS[\"x\",EDATUM[\"y\"],CS[Cartesian,2],AXIS[\"x\",east],AXIS[\"y\",north],LENGTHUNIT[\"metre\",1]]",
        "PROJCS[\"ETRS89 / UTM zone 32N\",GEOGCS[\"ETRS89\",DATUM[\"D_ETRS_1989\",SPHEROID[\"GRS_1980\",6378137,298.257222101]],PRIMEM[\"Greenwich\",0],UNIT[\"Degree\",0.0174532925199433]],PROJECTION[\"Transverse_Mercator\"],PARAMETER[\"False_Easting\",2500000],PARAMETER[\"Central_Meridian\",9],PARAMETER[\"Scale_Factor\",0.9996],UNIT[\"Meter\",1]]",
        "GEOGCS[",
        "PROJCS[",
        "]",
        ",",
        "\"",
        "+proj=utm +zone=32",
        "+proj=",
        "undefined",
        " ",
        "\u{0}",
        "ü",
    ]);
    prop::collection::vec(pieces, 0..6).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn crs_definitions_from_files_never_panic(definition in crs_definition()) {
        let _ = quartier::io::crs::check_known(&definition);
        let _ = quartier::io::crs::Transform::new(&definition, "EPSG:25832");
        let _ = quartier::io::crs::Transform::new("EPSG:25832", &definition);
    }
}
