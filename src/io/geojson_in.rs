//! Reading GeoJSON FeatureCollections into features with typed accessors whose errors name
//! the file, the feature (index and id), the property and what was expected.
//!
//! The collection is parsed in two steps: the features are found (by `json_split`, a scan
//! of the bytes on every core), then read in parallel (plain ones by `quick_feature`, the
//! rest by serde). Any error sends the whole file the careful way, where serde finds the
//! features itself, so that a broken feature is reported with its index and its line and
//! column in the file, and a broken file with the line and column of the fault.
//!
//! Loading a million sites is mostly this module, so it avoids work it does not need: the
//! coordinates are read straight into positions (not through JSON values), only the
//! properties the scenario uses are kept when the caller names them, and each feature's
//! properties are one allocation. GeoPackage and Shapefile layers (`io::gpkg`, `io::shp`) are
//! read into the same `Layer`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use rayon::prelude::*;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::quick_feature::quick_feature;
use crate::error::InputError;
use crate::progress::{Progress, Silent};
use crate::scenario::line_column;

/// One layer as read from its file, before any property is interpreted.
#[derive(Debug)]
pub struct Layer {
    /// The file name as shown in messages.
    pub file: String,
    /// The legacy `crs` member (or the CRS of a GeoPackage or Shapefile), normalised; `None`
    /// when absent.
    pub crs: Option<String>,
    pub features: Vec<Feature>,
}

impl Layer {
    /// Whether any feature has the property `key` (null counts: the column exists).
    pub fn has_property(&self, key: &str) -> bool {
        self.features.iter().any(|f| f.properties.has(key))
    }

    /// The property names of the layer (of its first 1,000 features), for suggestions.
    pub fn property_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for feature in self.features.iter().take(1000) {
            for (key, value) in feature
                .properties
                .keys
                .iter()
                .zip(&*feature.properties.values)
            {
                if !matches!(value, Prop::Absent) && !names.iter().any(|n| **n == **key) {
                    names.push(key.to_string());
                }
            }
        }
        names
    }
}

/// A position: x (easting or longitude), y (northing or latitude).
pub type Position = [f64; 2];
/// A closed ring of positions.
pub type Ring = Vec<Position>;
/// An outer ring and its holes.
pub type PolygonRings = Vec<Ring>;

/// A feature's geometry, as far as quartier uses it.
#[derive(Debug, Clone, PartialEq)]
pub enum Geom {
    Point(Position),
    MultiPoint(Vec<Position>),
    Polygon(PolygonRings),
    MultiPolygon(Vec<PolygonRings>),
    /// Any other type (LineString, GeometryCollection, …), by name, for messages.
    Other(&'static str),
}

impl Geom {
    pub fn type_name(&self) -> &'static str {
        match self {
            Geom::Point(_) => "Point",
            Geom::MultiPoint(_) => "MultiPoint",
            Geom::Polygon(_) => "Polygon",
            Geom::MultiPolygon(_) => "MultiPolygon",
            Geom::Other(name) => name,
        }
    }
}

/// One feature with its position in the file.
#[derive(Debug)]
pub struct Feature {
    pub index: usize,
    /// The top-level `id` member.
    pub(super) id: Option<Prop>,
    pub geometry: Option<Geom>,
    properties: Properties,
}

/// A feature's properties: values aligned with a list of names that all features of a
/// layer read with the same wanted names share.
#[derive(Debug)]
pub struct Properties {
    keys: Arc<[Box<str>]>,
    values: Box<[Prop]>,
}

impl Default for Properties {
    fn default() -> Self {
        Properties {
            keys: Arc::from(Vec::new()),
            values: Box::new([]),
        }
    }
}

/// One property value, in 24 bytes instead of a JSON value's 72.
#[derive(Debug, Clone, PartialEq)]
pub enum Prop {
    /// Not in the feature.
    Absent,
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
    /// A number as a property value (NaN and infinities become null).
    pub fn number(x: f64) -> Prop {
        serde_json::Number::from_f64(x).map_or(Prop::Null, Prop::Number)
    }

    /// The value as JSON text, shortened to 40 characters, for messages.
    fn shown(&self) -> String {
        let text = match self {
            Prop::Absent | Prop::Null => "null".to_string(),
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
    /// Properties from names and values (GeoPackage and Shapefile rows).
    pub fn new(keys: Arc<[Box<str>]>, values: Vec<Prop>) -> Properties {
        Properties {
            keys,
            values: values.into_boxed_slice(),
        }
    }

    /// The value of `key`.
    fn get(&self, key: &str) -> Option<&Prop> {
        let index = self.keys.iter().position(|k| &**k == key)?;
        match self.values.get(index) {
            None | Some(Prop::Absent) => None,
            Some(value) => Some(value),
        }
    }

    fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
}

/// Reads a feature's properties: all of them (`wanted` = None), or only the wanted ones.
struct PropertiesSeed<'w> {
    wanted: Option<&'w Arc<[Box<str>]>>,
}

impl<'de> DeserializeSeed<'de> for PropertiesSeed<'_> {
    type Value = Properties;
    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Properties, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PropertiesSeed<'_> {
    type Value = Properties;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of properties or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Properties, E> {
        Ok(match self.wanted {
            Some(keys) => Properties {
                keys: keys.clone(),
                values: vec![Prop::Absent; keys.len()].into_boxed_slice(),
            },
            None => Properties::default(),
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Properties, A::Error> {
        match self.wanted {
            Some(keys) => {
                let mut values = vec![Prop::Absent; keys.len()];
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match keys.iter().position(|k| **k == *key) {
                        // The last, should a file repeat a key, as JSON parsers do.
                        Some(i) => values[i] = map.next_value::<PropValue>()?.0,
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Properties {
                    keys: keys.clone(),
                    values: values.into_boxed_slice(),
                })
            }
            None => {
                let mut keys: Vec<Box<str>> = Vec::with_capacity(map.size_hint().unwrap_or(8));
                let mut values: Vec<Prop> = Vec::with_capacity(keys.capacity());
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let value = map.next_value::<PropValue>()?.0;
                    match keys.iter().position(|k| **k == *key) {
                        Some(i) => values[i] = value,
                        None => {
                            keys.push(key.into());
                            values.push(value);
                        }
                    }
                }
                Ok(Properties {
                    keys: Arc::from(keys),
                    values: values.into_boxed_slice(),
                })
            }
        }
    }
}

/// A property value read directly (no JSON value in between for numbers and text).
struct PropValue(Prop);

impl<'de> Deserialize<'de> for PropValue {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<PropValue, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PropValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a property value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<PropValue, E> {
                Ok(PropValue(Prop::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<PropValue, E> {
                Ok(PropValue(Prop::Null))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<PropValue, E> {
                Ok(PropValue(Prop::Bool(b)))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<PropValue, E> {
                Ok(PropValue(Prop::Number(n.into())))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<PropValue, E> {
                Ok(PropValue(Prop::Number(n.into())))
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> Result<PropValue, E> {
                Ok(PropValue(Prop::number(x)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<PropValue, E> {
                Ok(PropValue(Prop::Text(s.into())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<PropValue, E> {
                Ok(PropValue(Prop::Text(s.into_boxed_str())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<PropValue, A::Error> {
                let value = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(PropValue(Prop::Other(Box::new(value))))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<PropValue, A::Error> {
                let value = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(PropValue(Prop::Other(Box::new(value))))
            }
        }
        deserializer.deserialize_any(V)
    }
}

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

/// A feature as read in one pass: the geometry's coordinates stay raw text until the type
/// (which may come after them) is known.
struct RawFeature<'a> {
    kind: Option<Cow<'a, str>>,
    id: Option<Prop>,
    geometry: Option<RawGeometry<'a>>,
    properties: Option<Properties>,
}

#[derive(Deserialize)]
struct RawGeometry<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    coordinates: Option<&'a RawValue>,
}

struct FeatureSeed<'w> {
    wanted: Option<&'w Arc<[Box<str>]>>,
}

impl<'de, 'w> DeserializeSeed<'de> for FeatureSeed<'w> {
    type Value = RawFeature<'de>;
    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<RawFeature<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FeatureSeed<'_> {
    type Value = RawFeature<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON Feature object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFeature<'de>, A::Error> {
        let mut feature = RawFeature {
            kind: None,
            id: None,
            geometry: None,
            properties: None,
        };
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "type" => feature.kind = map.next_value::<Option<Cow<'de, str>>>()?,
                "id" => feature.id = Some(map.next_value::<PropValue>()?.0),
                "geometry" => feature.geometry = map.next_value::<Option<RawGeometry<'de>>>()?,
                "properties" => {
                    feature.properties = Some(map.next_value_seed(PropertiesSeed {
                        wanted: self.wanted,
                    })?)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(feature)
    }
}

/// A position of two or more numbers (a third, the height, is ignored).
struct Pos(Position);

impl<'de> Deserialize<'de> for Pos {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Pos, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pos;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a position [x, y]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Pos, A::Error> {
                let x: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("a position needs two numbers [x, y]"))?;
                let y: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("a position needs two numbers [x, y]"))?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Pos([x, y]))
            }
        }
        deserializer.deserialize_seq(V)
    }
}

fn positions(list: Vec<Pos>) -> Vec<Position> {
    list.into_iter().map(|p| p.0).collect()
}

fn rings(list: Vec<Vec<Pos>>) -> PolygonRings {
    list.into_iter().map(positions).collect()
}

/// The geometry from its type and raw coordinates.
fn read_geometry(raw: &RawGeometry) -> Result<Geom, (String, Option<serde_json::Error>)> {
    let Some(kind) = raw.kind.as_deref() else {
        return Err(("the geometry has no \"type\"".into(), None));
    };
    let known = ["Point", "MultiPoint", "Polygon", "MultiPolygon"];
    let other = ["LineString", "MultiLineString", "GeometryCollection"];
    if let Some(name) = other.iter().find(|n| **n == kind) {
        return Ok(Geom::Other(name));
    }
    if !known.contains(&kind) {
        return Err((format!("unknown geometry type \"{kind}\""), None));
    }
    let Some(coordinates) = raw.coordinates else {
        return Err((format!("the {kind} has no \"coordinates\""), None));
    };
    let text = coordinates.get();
    let parsed = match kind {
        "Point" => serde_json::from_str::<Pos>(text).map(|p| Geom::Point(p.0)),
        "MultiPoint" => {
            serde_json::from_str::<Vec<Pos>>(text).map(|p| Geom::MultiPoint(positions(p)))
        }
        "Polygon" => serde_json::from_str::<Vec<Vec<Pos>>>(text).map(|r| Geom::Polygon(rings(r))),
        _ => serde_json::from_str::<Vec<Vec<Vec<Pos>>>>(text)
            .map(|p| Geom::MultiPolygon(p.into_iter().map(rings).collect())),
    };
    parsed.map_err(|e| (String::new(), Some(e)))
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
    };
    let context = prepare(&layer)?;
    Ok((layer, context))
}

/// The values, or the error of the first feature in file order that has one (collected in
/// one allocation of the exact size, and the same message however the cores shared the
/// work).
pub fn first_error<T>(mut results: Vec<Result<T, InputError>>) -> Result<Vec<T>, InputError> {
    if let Some(index) = results.iter().position(Result::is_err) {
        results.swap_remove(index)?;
    }
    Ok(results.into_iter().filter_map(Result::ok).collect())
}

/// `feature N: invalid GeoJSON at line L, column C: …` for an error inside `json`, a slice of
/// the file's `text`.
fn located(text: &str, json: &str, file: &str, index: usize, e: &serde_json::Error) -> InputError {
    let offset = json.as_ptr() as usize - text.as_ptr() as usize;
    let inner = offset_of(json, e.line(), e.column());
    let (line, column) = line_column(text, offset + inner);
    InputError::new(
        file,
        format!(
            "feature {index}: invalid GeoJSON at line {line}, column {column}: {}",
            strip_position(e)
        ),
    )
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

/// The feature in `json` as serde reads it, every error with its line and column in `text`.
pub(super) fn full_feature(
    text: &str,
    file: &str,
    index: usize,
    json: &str,
    wanted: Option<&Arc<[Box<str>]>>,
) -> Result<Feature, InputError> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    // The whole text must be the one object (a quick split may have cut it elsewhere).
    let feature = FeatureSeed { wanted }
        .deserialize(&mut deserializer)
        .and_then(|feature| deserializer.end().map(|()| feature))
        .map_err(|e| located(text, json, file, index, &e))?;
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
    let geometry = match &feature.geometry {
        None => None,
        Some(raw_geometry) => {
            Some(read_geometry(raw_geometry).map_err(|(message, e)| match e {
                Some(e) => located(
                    text,
                    raw_geometry.coordinates.map_or(json, |c| c.get()),
                    file,
                    index,
                    &e,
                ),
                None => InputError::new(file, format!("feature {index}: {message}")),
            })?)
        }
    };
    let properties = match feature.properties {
        Some(p) => p,
        None => PropertiesSeed { wanted }
            .visit_unit::<serde_json::Error>()
            .unwrap_or_default(),
    };
    Ok(Feature {
        index,
        id: feature.id,
        geometry,
        properties,
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
    /// A feature read from another format (GeoPackage, Shapefile).
    pub fn new(index: usize, geometry: Option<Geom>, properties: Properties) -> Feature {
        Feature {
            index,
            id: None,
            geometry,
            properties,
        }
    }

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

    /// As `id_text`, moving the text out of the feature when it needs no trimming (a
    /// million sites need not copy their ids).
    pub fn take_id_text(&mut self, key: &str) -> Option<String> {
        if let Some(index) = self.properties.keys.iter().position(|k| &**k == key) {
            if let Prop::Text(s) = &mut self.properties.values[index] {
                if !s.is_empty() && s.trim().len() == s.len() {
                    return Some(String::from(std::mem::take(s)));
                }
            }
        }
        self.id_text(key)
    }

    /// A property that must be present, `None` if missing or null.
    fn raw(&self, key: &str) -> Option<&Prop> {
        match self.properties.get(key) {
            None | Some(Prop::Null) => None,
            Some(value) => Some(value),
        }
    }

    /// Whether the feature has the property (null counts).
    pub fn has(&self, key: &str) -> bool {
        self.properties.has(key)
    }

    /// A number; `Ok(None)` when missing or null. Numbers written as text are refused:
    /// "12.345" is twelve thousand in German notation and twelve in English, and quartier
    /// never guesses.
    pub fn number(&self, key: &str) -> Result<Option<f64>, String> {
        let Some(value) = self.raw(key) else {
            return Ok(None);
        };
        let number = match value {
            Prop::Number(n) => n.as_f64(),
            Prop::Text(s) => return Err(number_as_text(key, s)),
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

    /// A text property as it is stored (`None` for numbers and other values too).
    pub fn text_ref(&self, key: &str) -> Option<&str> {
        match self.raw(key)? {
            Prop::Text(s) => Some(s),
            _ => None,
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
        self.geometry
            .as_ref()
            .map_or("no geometry", Geom::type_name)
    }
}

/// The message for a number written as text.
fn number_as_text(key: &str, text: &str) -> String {
    let trimmed = text.trim();
    let looks_numeric = !trimmed.is_empty()
        && trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-' | '+' | ' ' | '\''));
    if !looks_numeric {
        return format!(
            "property \"{key}\" must be a number, found {}",
            Prop::Text(text.into()).shown()
        );
    }
    let why = if trimmed.contains('.') || trimmed.contains(',') {
        format!(
            "in German notation \"{trimmed}\" means one number, in English another, so quartier does not guess"
        )
    } else {
        "text is not read as a number".to_string()
    };
    format!(
        "property \"{key}\" must be a number, found the text {}: {why}; write it as a JSON number without quotes (in QGIS: a field of type integer or decimal)",
        Prop::Text(text.into()).shown()
    )
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
