//! Reading GeoJSON FeatureCollections into features with typed accessors whose errors name
//! the file, the feature (index and id), the property and what was expected.
//!
//! The collection is parsed in two steps: the outer object with each feature kept as raw
//! text, then the features in parallel. A broken feature is reported with its index and its
//! line and column in the file.

use geojson::{Geometry, GeometryValue};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::InputError;
use crate::progress::{Progress, Silent};
use crate::scenario::line_column;

/// One layer as read from its file, before any property is interpreted.
#[derive(Debug)]
pub struct Layer {
    /// The file name as shown in messages.
    pub file: String,
    /// The legacy `crs` member, normalised; `None` when absent.
    pub crs: Option<String>,
    pub features: Vec<Feature>,
}

/// One feature with its position in the file.
#[derive(Debug)]
pub struct Feature {
    pub index: usize,
    /// The top-level `id` member.
    id: Option<Prop>,
    pub geometry: Option<Geometry>,
    properties: Properties,
}

/// A feature's properties as a compact list (a million features' property maps are the
/// largest part of loading; a list of a few small pairs is a quarter of a hash map of
/// JSON values).
#[derive(Debug, Default)]
struct Properties(Box<[(Box<str>, Prop)]>);

/// One property value, in 24 bytes instead of a JSON value's 72.
#[derive(Debug)]
enum Prop {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Text(Box<str>),
    /// Arrays and objects: only ever shown in messages.
    Other(Box<Value>),
}

impl From<Value> for Prop {
    fn from(value: Value) -> Prop {
        match value {
            Value::Null => Prop::Null,
            Value::Bool(b) => Prop::Bool(b),
            Value::Number(n) => Prop::Number(n),
            Value::String(s) => Prop::Text(s.into_boxed_str()),
            other => Prop::Other(Box::new(other)),
        }
    }
}

impl Prop {
    /// The value as JSON text, shortened to 40 characters, for messages.
    fn shown(&self) -> String {
        let text = match self {
            Prop::Null => "null".to_string(),
            Prop::Bool(b) => b.to_string(),
            Prop::Number(n) => n.to_string(),
            Prop::Text(s) => Value::String(s.to_string()).to_string(),
            Prop::Other(v) => v.to_string(),
        };
        if text.chars().count() > 40 {
            let cut: String = text.chars().take(40).collect();
            format!("{cut}…")
        } else {
            text
        }
    }
}

impl Properties {
    /// The value of `key` (the last, should a file repeat a key, as JSON parsers do).
    fn get(&self, key: &str) -> Option<&Prop> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| v)
    }
}

impl<'de> Deserialize<'de> for Properties {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Properties;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of properties or null")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Properties, E> {
                Ok(Properties::default())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Properties, A::Error> {
                let mut pairs: Vec<(Box<str>, Prop)> =
                    Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some((key, value)) =
                    map.next_entry::<std::borrow::Cow<'de, str>, Value>()?
                {
                    pairs.push((key.into(), Prop::from(value)));
                }
                Ok(Properties(pairs.into_boxed_slice()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Deserialize)]
struct RawCollection<'a> {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    crs: Option<Value>,
    #[serde(borrow, default)]
    features: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct RawFeature {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    geometry: Option<Geometry>,
    #[serde(default)]
    properties: Option<Properties>,
}

/// Parses the text of a GeoJSON file; `file` is how messages name it.
pub fn parse_layer(text: &str, file: &str) -> Result<Layer, InputError> {
    parse_layer_with(text, file, &Silent)
}

/// As `parse_layer`, reporting each feature parsed to `progress`.
pub fn parse_layer_with(
    text: &str,
    file: &str,
    progress: &dyn Progress,
) -> Result<Layer, InputError> {
    let bad = |message: String| InputError::new(file, message);
    let raw: RawCollection = serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            bad(format!(
                "not a GeoJSON FeatureCollection (line {}, column {}): {}",
                e.line(),
                e.column(),
                strip_position(&e)
            ))
        } else {
            bad(format!(
                "invalid JSON at line {}, column {}: {}",
                e.line(),
                e.column(),
                strip_position(&e)
            ))
        }
    })?;
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
    let raw_features = raw
        .features
        .ok_or_else(|| bad("the FeatureCollection has no \"features\" array".into()))?;
    let crs = match raw.crs {
        None | Some(Value::Null) => None,
        Some(member) => Some(crs_member_name(&member).ok_or_else(|| {
            bad(format!(
                "the \"crs\" member is not of the form {{\"type\": \"name\", \"properties\": {{\"name\": \"EPSG:25832\"}}}}: found {member}"
            ))
        })?),
    };
    let name = std::path::Path::new(file)
        .file_name()
        .map_or(file.into(), |n| n.to_string_lossy());
    progress.start(&format!("reading {name}"), Some(raw_features.len() as u64));
    let features = raw_features
        .par_iter()
        .enumerate()
        .map(|(index, raw)| {
            progress.advance(1);
            parse_feature(text, file, index, raw)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Layer {
        file: file.to_string(),
        crs,
        features,
    })
}

fn parse_feature(
    text: &str,
    file: &str,
    index: usize,
    raw: &RawValue,
) -> Result<Feature, InputError> {
    let json = raw.get();
    let feature: RawFeature = serde_json::from_str(json).map_err(|e| {
        // Positions inside the feature, shifted to positions in the file.
        let offset = json.as_ptr() as usize - text.as_ptr() as usize;
        let inner = offset_of(json, e.line(), e.column());
        let (line, column) = line_column(text, offset + inner);
        InputError::new(
            file,
            format!(
                "feature {index}: invalid GeoJSON at line {line}, column {column}: {}",
                strip_position(&e)
            ),
        )
    })?;
    if feature.kind.as_deref() != Some("Feature") {
        return Err(InputError::new(
            file,
            format!(
                "feature {index}: expected an object with \"type\": \"Feature\", found {}",
                feature
                    .kind
                    .map_or("no \"type\"".to_string(), |k| format!("\"{k}\""))
            ),
        ));
    }
    Ok(Feature {
        index,
        id: feature.id.map(Prop::from),
        geometry: feature.geometry,
        properties: feature.properties.unwrap_or_default(),
    })
}

/// Byte offset of a 1-based line and column inside `text`.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + column.saturating_sub(1)).min(text.len())
}

/// serde_json appends " at line L column C"; messages here give the position themselves.
fn strip_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// `{"type": "name", "properties": {"name": "..."}}` → the normalised name.
fn crs_member_name(member: &Value) -> Option<String> {
    let name = member.get("properties")?.get("name")?.as_str()?;
    Some(super::crs::normalise_crs_name(name))
}

impl Feature {
    /// `feature 17 (id "Gievenbeck")` for messages.
    pub fn label(&self, id: Option<&str>) -> String {
        match id {
            Some(id) => format!("feature {} (id \"{id}\")", self.index),
            None => format!("feature {}", self.index),
        }
    }

    /// The id from the property `key`, else the top-level `id` member.
    pub fn id_text(&self, key: &str) -> Option<String> {
        let value = match self.properties.get(key) {
            Some(Prop::Null) | None => self.id.as_ref()?,
            Some(value) => value,
        };
        match value {
            Prop::Text(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Prop::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A property that must be present, `None` if missing or null.
    fn raw(&self, key: &str) -> Option<&Prop> {
        match self.properties.get(key) {
            None | Some(Prop::Null) => None,
            Some(value) => Some(value),
        }
    }

    /// A number (JSON number or numeric text); `Ok(None)` when missing or null.
    pub fn number(&self, key: &str) -> Result<Option<f64>, String> {
        let Some(value) = self.raw(key) else {
            return Ok(None);
        };
        let number = match value {
            Prop::Number(n) => n.as_f64(),
            Prop::Text(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match number {
            Some(n) if n.is_finite() => Ok(Some(n)),
            _ => Err(format!(
                "property \"{key}\" must be a number, found {}",
                value.shown()
            )),
        }
    }

    /// A number ≥ 0.
    pub fn non_negative(&self, key: &str) -> Result<Option<f64>, String> {
        match self.number(key)? {
            Some(n) if n < 0.0 => Err(format!(
                "property \"{key}\" must be a number ≥ 0, found {}",
                format_number(n)
            )),
            other => Ok(other),
        }
    }

    /// A whole number ≥ 0 (a count of places or persons).
    pub fn count(&self, key: &str) -> Result<Option<u32>, String> {
        match self.non_negative(key)? {
            None => Ok(None),
            Some(n) if n.fract() == 0.0 && n <= f64::from(u32::MAX) => Ok(Some(n as u32)),
            Some(n) => Err(format!(
                "property \"{key}\" must be a whole number of places ≥ 0, found {}",
                format_number(n)
            )),
        }
    }

    /// A text property (numbers are turned into text).
    pub fn text(&self, key: &str) -> Option<String> {
        match self.raw(key)? {
            Prop::Text(s) => Some(s.to_string()),
            Prop::Number(n) => Some(n.to_string()),
            Prop::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The name of the geometry type, for messages.
    pub fn geometry_type(&self) -> &'static str {
        match self.geometry.as_ref().map(|g| &g.value) {
            None => "no geometry",
            Some(GeometryValue::Point { .. }) => "Point",
            Some(GeometryValue::MultiPoint { .. }) => "MultiPoint",
            Some(GeometryValue::LineString { .. }) => "LineString",
            Some(GeometryValue::MultiLineString { .. }) => "MultiLineString",
            Some(GeometryValue::Polygon { .. }) => "Polygon",
            Some(GeometryValue::MultiPolygon { .. }) => "MultiPolygon",
            Some(GeometryValue::GeometryCollection { .. }) => "GeometryCollection",
        }
    }
}

/// A number as planners write it: no trailing `.0`.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(first.count("capacity"), Ok(Some(12)));
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
