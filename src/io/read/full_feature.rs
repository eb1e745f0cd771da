//! The full reader of one GeoJSON feature, by serde: any geometry quartier knows, any
//! property value, and every error with its line and column in the whole file. Features the
//! quick reader (`quick_feature`) gives up on come here, and the careful pass over a broken
//! file reads every feature this way.
//!
//! The coordinates are read straight into positions (not through JSON values), and only the
//! properties the caller names are kept when it names them, each feature's in one allocation.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::layer::{Feature, Geom, PolygonRings, Position, Prop, Properties};
use crate::error::InputError;
use crate::scenario::line_column;

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
    let known = [
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
    ];
    if kind == "GeometryCollection" {
        return Ok(Geom::Other("GeometryCollection"));
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
        "LineString" => {
            serde_json::from_str::<Vec<Pos>>(text).map(|p| Geom::LineString(positions(p)))
        }
        "MultiLineString" => serde_json::from_str::<Vec<Vec<Pos>>>(text)
            .map(|l| Geom::MultiLineString(l.into_iter().map(positions).collect())),
        "Polygon" => serde_json::from_str::<Vec<Vec<Pos>>>(text).map(|r| Geom::Polygon(rings(r))),
        _ => serde_json::from_str::<Vec<Vec<Vec<Pos>>>>(text)
            .map(|p| Geom::MultiPolygon(p.into_iter().map(rings).collect())),
    };
    parsed.map_err(|e| (String::new(), Some(e)))
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
pub(super) fn strip_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}
