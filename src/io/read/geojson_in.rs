//! Reading GeoJSON FeatureCollections into a `Layer` (see `layer`).
//!
//! The collection is parsed in two steps: the features are found (by `json_split`, a scan
//! of the bytes on every core), then read in parallel (plain ones by `quick_feature`, the
//! rest by serde in `full_feature`). Any error sends the whole file the careful way, where
//! serde finds the features itself, so that a broken feature is reported with its index and
//! its line and column in the file, and a broken file with the line and column of the fault.
//!
//! Loading a million sites is mostly this module, so it avoids work it does not need: each
//! feature can be turned into its item (a site, a facility) as soon as it is read
//! (`parse_layer_map`), on every core, so that the features are never all held at once.

use std::sync::Arc;

use rayon::prelude::*;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::full_feature::{full_feature, strip_position};
use super::layer::{first_error, Feature, Layer};
use super::quick_feature::quick_feature;
use crate::error::InputError;
use crate::progress::{Progress, Silent};

/// The members of a FeatureCollection, its features only checked to be there.
#[derive(Deserialize)]
struct RawCollection {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    crs: Option<Value>,
    #[serde(default)]
    features: Option<IgnoredAny>,
}

/// The features of a FeatureCollection, each kept as raw text.
#[derive(Deserialize)]
struct RawFeatures<'a> {
    #[serde(borrow, default)]
    features: Option<Vec<&'a RawValue>>,
}

/// Parses the text of a GeoJSON file; `file` is how messages name it.
pub fn parse_layer(text: &str, file: &str) -> Result<Layer, InputError> {
    parse_layer_with(text, file, &Silent, None)
}

/// As `parse_layer`, reporting each feature parsed to `progress`, and keeping only the
/// properties named in `wanted` (all when `None`).
pub fn parse_layer_with(
    text: &str,
    file: &str,
    progress: &dyn Progress,
    wanted: Option<&[String]>,
) -> Result<Layer, InputError> {
    let (layer, _, features) =
        parse_layer_map(text, file, progress, wanted, &|_| Ok(()), &|_, f| Ok(f))?;
    Ok(Layer { features, ..layer })
}

/// Turns each feature into an item with `map` as soon as it is parsed, on every core, so
/// that a million features need not be held at once. `prepare` runs once, with the layer's
/// file and CRS (its `features` empty), and makes the context `map` works in; the context
/// is returned with the items. The first error in file order is returned, the same however
/// the cores shared the work.
pub fn parse_layer_map<C: Sync, T: Send>(
    text: &str,
    file: &str,
    progress: &dyn Progress,
    wanted: Option<&[String]>,
    prepare: &dyn Fn(&Layer) -> Result<C, InputError>,
    map: &(dyn Fn(&C, Feature) -> Result<T, InputError> + Sync),
) -> Result<(Layer, C, Vec<T>), InputError> {
    // A byte-order mark (Windows editors write one) is not part of the JSON.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let wanted: Option<Arc<[Box<str>]>> =
        wanted.map(|names| names.iter().map(|n| n.as_str().into()).collect());
    // The quick way: features found by a byte scan and parsed on every core. Any error, and
    // any text the scan does not expect, goes the careful way below, which finds the
    // features with serde and gives every message its line and column in the whole file.
    if let Some(split) = super::json_split::split_collection(text) {
        if let Ok((layer, context)) = read_collection(&split.outer, file, prepare) {
            progress.start(&reading(file), Some(split.features.len() as u64));
            let mut items: Vec<Option<T>> = Vec::with_capacity(split.features.len());
            split
                .features
                .par_iter()
                .enumerate()
                .with_min_len(256)
                // Each piece of work has its own copy of the property names: features share
                // them, and one count of owners for both cores would bounce between them.
                .map_init(
                    || wanted.as_deref().map(|keys| Arc::from(keys.to_vec())),
                    |keys, (index, range)| {
                        progress.advance(1);
                        let json = &text[range.clone()];
                        let feature = parse_feature(text, file, index, json, keys.as_ref()).ok()?;
                        map(&context, feature).ok()
                    },
                )
                .collect_into_vec(&mut items);
            if items.iter().all(Option::is_some) {
                // Collected in place, as items with a niche (sites, features) are as large
                // as their Option; `flatten` would copy them (0.1–0.4 s at a million).
                #[allow(clippy::filter_map_identity)]
                let items = items.into_iter().filter_map(|item| item).collect();
                return Ok((layer, context, items));
            }
        }
    }
    let (layer, context) = read_collection(text, file, prepare)?;
    let raw: RawFeatures = serde_json::from_str(text).map_err(|e| collection_error(file, &e))?;
    let features = raw.features.unwrap_or_default();
    progress.start(&reading(file), Some(features.len() as u64));
    let mut parsed = Vec::with_capacity(features.len());
    features
        .par_iter()
        .enumerate()
        .with_min_len(256)
        .map(|(index, raw)| {
            progress.advance(1);
            map(
                &context,
                parse_feature(text, file, index, raw.get(), wanted.as_ref())?,
            )
        })
        .collect_into_vec(&mut parsed);
    Ok((layer, context, first_error(parsed)?))
}

/// `reading sites.geojson`
fn reading(file: &str) -> String {
    let name = std::path::Path::new(file)
        .file_name()
        .map_or(file.into(), |n| n.to_string_lossy());
    format!("reading {name}")
}

fn collection_error(file: &str, e: &serde_json::Error) -> InputError {
    let (line, column, what) = (e.line(), e.column(), strip_position(e));
    let message = if e.is_data() {
        format!("not a GeoJSON FeatureCollection (line {line}, column {column}): {what}")
    } else {
        format!("invalid JSON at line {line}, column {column}: {what}")
    };
    InputError::new(file, message)
}

/// The collection's own members (`type`, `crs`, that `features` is there) from `text`, as
/// a layer without features, and the context `prepare` makes from it.
fn read_collection<C>(
    text: &str,
    file: &str,
    prepare: &dyn Fn(&Layer) -> Result<C, InputError>,
) -> Result<(Layer, C), InputError> {
    let bad = |message: String| InputError::new(file, message);
    let raw: RawCollection = serde_json::from_str(text).map_err(|e| collection_error(file, &e))?;
    match raw.kind.as_deref() {
        Some("FeatureCollection") => {}
        Some(other) => {
            return Err(bad(format!(
                "expected a GeoJSON FeatureCollection, found a {other}"
            )))
        }
        None => {
            return Err(bad(
                "expected a GeoJSON FeatureCollection, found an object without \"type\"".into(),
            ))
        }
    }
    if raw.features.is_none() {
        return Err(bad("the FeatureCollection has no \"features\" array".into()));
    }
    let crs = match raw.crs {
        None | Some(Value::Null) => None,
        Some(member) => Some(crs_member_name(&member).ok_or_else(|| {
            bad(format!(
                "the \"crs\" member is not of the form {{\"type\": \"name\", \"properties\": {{\"name\": \"EPSG:25832\"}}}}: found {member}"
            ))
        })?),
    };
    let layer = Layer {
        file: file.to_string(),
        crs,
        features: Vec::new(),
        warnings: Vec::new(),
    };
    let context = prepare(&layer)?;
    Ok((layer, context))
}

/// The feature in `json`, a slice of the file's `text`: read quickly when it is plain (see
/// `quick_feature`), else by serde.
fn parse_feature(
    text: &str,
    file: &str,
    index: usize,
    json: &str,
    wanted: Option<&Arc<[Box<str>]>>,
) -> Result<Feature, InputError> {
    if let Some(feature) = wanted.and_then(|keys| quick_feature(json, index, keys)) {
        return Ok(feature);
    }
    full_feature(text, file, index, json, wanted)
}

/// `{"type": "name", "properties": {"name": "..."}}` → the normalised name.
fn crs_member_name(member: &Value) -> Option<String> {
    let name = member.get("properties")?.get("name")?.as_str()?;
    Some(crate::io::crs::normalise_crs_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::read::layer::Geom;

    #[test]
    /// However a writer lays out the features (one per line, pretty-printed, all on one
    /// line, several per line, lines inside a feature that begin with `{`, Windows line
    /// ends), the quick readers give the features serde alone finds, and a broken feature
    /// the same message.
    fn layouts_of_a_large_collection_read_the_same() {
        let features: Vec<Value> = (0..30_000)
            .map(|i| {
                let mut properties = serde_json::json!({"id": format!("S-{i}"), "capacity": i % 50, "name": "Straße"});
                if i % 1000 == 7 {
                    properties["list"] = serde_json::json!([{"a": 1}, {"b": [2, 3]}]);
                    properties["name"] = Value::String("a\"},\n{\"b".into());
                }
                serde_json::json!({"type": "Feature", "properties": properties,
                    "geometry": {"type": "Point", "coordinates": [i as f64 + 0.25, 2.5]}})
            })
            .collect();
        let compact: Vec<String> = features.iter().map(Value::to_string).collect();
        let collection = |joined: String| {
            format!(r#"{{"type": "FeatureCollection", "features": [{joined}], "name": "x"}}"#)
        };
        let layouts = [
            collection(format!("\n{}\n", compact.join(",\n"))),
            serde_json::to_string_pretty(
                &serde_json::json!({"type": "FeatureCollection", "features": features}),
            )
            .unwrap(),
            collection(compact.join(",")),
            collection(
                compact
                    .chunks(2)
                    .map(|pair| pair.join(", "))
                    .collect::<Vec<_>>()
                    .join(",\n"),
            ),
            collection(format!("\r\n\t{}\r\n", compact.join(",\r\n\t"))),
        ];
        let wanted = ["id".to_string(), "capacity".into(), "name".into()];
        let summary = |layer: &Layer| -> Vec<String> {
            layer
                .features
                .iter()
                .map(|f| {
                    format!(
                        "{} {:?} {:?} {:?}",
                        f.index,
                        f.id_text("id"),
                        f.count("capacity"),
                        f.geometry
                    )
                })
                .collect()
        };
        let expected: Vec<String> = summary(&Layer {
            file: String::new(),
            crs: None,
            features: features
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let keys: Arc<[Box<str>]> = wanted.iter().map(|k| k.as_str().into()).collect();
                    full_feature(&f.to_string(), "x", i, &f.to_string(), Some(&keys)).unwrap()
                })
                .collect(),
            warnings: Vec::new(),
        });
        for (n, text) in layouts.iter().enumerate() {
            let layer = parse_layer_with(text, "x.geojson", &Silent, Some(&wanted)).unwrap();
            assert!(summary(&layer) == expected, "layout {n}");
            // A broken feature deep inside, and a broken file: the careful reader's words.
            let at = text.find("\"S-23456\"").unwrap();
            let point = at + text[at..].find("\"Point\"").unwrap();
            let broken = format!("{}\"Pointe\"{}", &text[..point], &text[point + 7..]);
            let err = parse_layer_with(&broken, "x.geojson", &Silent, Some(&wanted))
                .unwrap_err()
                .to_string();
            assert_eq!(
                err,
                "x.geojson: feature 23456: unknown geometry type \"Pointe\""
            );
            let broken = text.replacen("\"S-23456\"", "\"S-23456\", \"capacity\": [", 1);
            let err = parse_layer_with(&broken, "x.geojson", &Silent, Some(&wanted))
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("x.geojson: invalid JSON at line"),
                "layout {n}: {err}"
            );
        }
    }

    #[test]
    fn reads_features_ids_and_crs() {
        let text = r#"{"type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
            "features": [
              {"type": "Feature", "id": 7, "geometry": {"type": "Point", "coordinates": [1, 2]},
               "properties": {"capacity": "12", "name": "Hölting"}},
              {"type": "Feature", "geometry": null, "properties": {"id": "S-2", "capacity": -1}}
            ]}"#;
        let layer = parse_layer(text, "sites.geojson").unwrap();
        assert_eq!(layer.crs.as_deref(), Some("EPSG:25832"));
        assert_eq!(layer.features.len(), 2);
        let first = &layer.features[0];
        assert_eq!(first.id_text("id").as_deref(), Some("7"));
        let err = first.count("capacity").unwrap_err();
        assert!(
            err.starts_with("property \"capacity\" must be a number, found the text \"12\""),
            "{err}"
        );
        assert_eq!(first.text("name").as_deref(), Some("Hölting"));
        assert_eq!(first.geometry_type(), "Point");
        let second = &layer.features[1];
        assert_eq!(second.id_text("id").as_deref(), Some("S-2"));
        assert!(second
            .count("capacity")
            .unwrap_err()
            .contains("≥ 0, found -1"));
        assert_eq!(second.count("missing"), Ok(None));
        assert_eq!(second.geometry_type(), "no geometry");
    }

    #[test]
    fn invalid_json_reports_line_and_column() {
        let err = parse_layer(
            "{\"type\": \"FeatureCollection\",\n  \"features\": [,]}",
            "d.geojson",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("d.geojson: invalid JSON at line 2, column"),
            "{err}"
        );
    }

    #[test]
    fn broken_feature_reports_index_and_position() {
        let text = "{\"type\": \"FeatureCollection\", \"features\": [\n{\"type\": \"Feature\", \"properties\": {}, \"geometry\": null},\n{\"type\": \"Feature\", \"geometry\": {\"type\": \"Point\", \"coordinates\": \"x\"}}]}";
        let err = parse_layer(text, "s.geojson").unwrap_err().to_string();
        assert!(
            err.contains("feature 1: invalid GeoJSON at line 3"),
            "{err}"
        );
    }

    #[test]
    fn other_geojson_is_not_a_feature_collection() {
        let err = parse_layer(r#"{"type": "Point", "coordinates": [1, 2]}"#, "x.geojson")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "x.geojson: expected a GeoJSON FeatureCollection, found a Point"
        );
        let err = parse_layer("[1, 2]", "x.geojson").unwrap_err().to_string();
        assert!(err.contains("not a GeoJSON FeatureCollection"), "{err}");
    }

    #[test]
    fn properties_escaped_keys_repeated_keys_and_null() {
        let text = r#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": null,
             "properties": {"Bev\u00f6lkerung": 12, "cap": 1, "cap": 2, "name": "Gr\u00fcn"}},
            {"type": "Feature", "geometry": null, "properties": null}]}"#;
        let layer = parse_layer(text, "d.geojson").unwrap();
        let first = &layer.features[0];
        assert_eq!(first.number("Bevölkerung").unwrap(), Some(12.0));
        assert_eq!(first.number("cap").unwrap(), Some(2.0));
        assert_eq!(first.text("name").as_deref(), Some("Grün"));
        assert_eq!(layer.features[1].number("cap").unwrap(), None);
        let err = parse_layer(
            r#"{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": 3}]}"#,
            "d.geojson",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("feature 0") && err.contains("properties"),
            "{err}"
        );
    }

    #[test]
    fn numbers_written_as_text_are_refused_and_a_bom_is_ignored() {
        let text = "\u{feff}{\"type\": \"FeatureCollection\", \"features\": [
            {\"type\": \"Feature\", \"geometry\": {\"coordinates\": [7.5, 51.9, 60], \"type\": \"Point\"},
             \"properties\": {\"population\": \"12.345\", \"other\": 1}}]}";
        let layer = parse_layer(text, "d.geojson").unwrap();
        let f = &layer.features[0];
        assert_eq!(f.geometry, Some(Geom::Point([7.5, 51.9])));
        assert_eq!(
            f.number("population").unwrap_err(),
            "property \"population\" must be a number, found the text \"12.345\": in German notation \"12.345\" means one number, in English another, so quartier does not guess; write it as a JSON number without quotes (in QGIS: a field of type integer or decimal)"
        );
        let only =
            parse_layer_with(text, "d.geojson", &Silent, Some(&["other".to_string()])).unwrap();
        assert!(!only.features[0].has("population"));
        assert_eq!(only.features[0].number("other"), Ok(Some(1.0)));
        assert!(only.has_property("other") && !only.has_property("population"));
    }

    #[test]
    fn geometries_are_read_and_broken_ones_located() {
        let text = r#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [[[[0,0],[1,0],[1,1],[0,0]]]]}, "properties": {}},
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0,0],[1,1]]}, "properties": {}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1]}, "properties": {}}]}"#;
        let err = parse_layer(text, "x.geojson").unwrap_err().to_string();
        assert!(
            err.contains("feature 2: invalid GeoJSON at line 4") && err.contains("two numbers"),
            "{err}"
        );
        let layer = parse_layer(&text.replace("[1]}", "[1, 2]}"), "x.geojson").unwrap();
        assert_eq!(layer.features[1].geometry_type(), "LineString");
        assert_eq!(
            layer.features[1].geometry,
            Some(Geom::LineString(vec![[0.0, 0.0], [1.0, 1.0]]))
        );
        // Lines are read as lines, heights dropped; their broken coordinates are located too.
        let lines = r#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": [[[0,0,5],[1,1,6]],[[1,1],[2,0],[3,1]]]}, "properties": {}},
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0,0],[1]]}, "properties": {}}]}"#;
        let err = parse_layer(lines, "x.geojson").unwrap_err().to_string();
        assert!(
            err.contains("feature 1: invalid GeoJSON at line 3") && err.contains("two numbers"),
            "{err}"
        );
        let read = parse_layer(&lines.replace("[1]]", "[1, 0]]"), "x.geojson").unwrap();
        assert_eq!(
            read.features[0].geometry,
            Some(Geom::MultiLineString(vec![
                vec![[0.0, 0.0], [1.0, 1.0]],
                vec![[1.0, 1.0], [2.0, 0.0], [3.0, 1.0]]
            ]))
        );
        assert_eq!(
            layer.features[0].geometry,
            Some(Geom::MultiPolygon(vec![vec![vec![
                [0.0, 0.0],
                [1.0, 0.0],
                [1.0, 1.0],
                [0.0, 0.0]
            ]]]))
        );
    }

    #[test]
    fn of_several_broken_features_the_first_is_named() {
        let mut features = vec![r#"{"type": "Feature", "geometry": null, "properties": {}}"#; 3000];
        features[1700] =
            r#"{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1]}}"#;
        features[2900] = r#"{"type": "Feuture"}"#;
        let text = format!(
            "{{\"type\": \"FeatureCollection\", \"features\": [{}]}}",
            features.join(",\n")
        );
        for _ in 0..5 {
            let err = parse_layer(&text, "s.geojson").unwrap_err().to_string();
            assert!(err.starts_with("s.geojson: feature 1700: "), "{err}");
        }
    }

    #[test]
    fn numbers_must_be_numbers() {
        let text = r#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": null, "properties": {"population": "viele", "cap": 2.5}}]}"#;
        let layer = parse_layer(text, "d.geojson").unwrap();
        let f = &layer.features[0];
        assert!(f
            .number("population")
            .unwrap_err()
            .contains("must be a number, found \"viele\""));
        assert!(f.count("cap").unwrap_err().contains("whole number"));
    }
}
