//! The layer as the readers hand it on: features with their geometry (`Geom`) and their
//! properties (`Prop`), and the typed accessors whose errors name the property and what was
//! expected (a number, a whole number, a number ≥ 0, never a number written as text).
//!
//! Every format reader builds this one `Layer` (GeoJSON in `geojson_in`, with
//! `quick_feature` and `full_feature` for single features; GeoPackage in `gpkg`; Shapefile in
//! `shp`), and everything that interprets a layer reads it through these accessors. It sits
//! below all of them and imports none.

use std::sync::Arc;

use serde_json::Value;

use crate::error::{InputError, Warning};

/// One layer as read from its file, before any property is interpreted.
#[derive(Debug)]
pub struct Layer {
    /// The file name as shown in messages.
    pub file: String,
    /// The legacy `crs` member (or the CRS of a GeoPackage or Shapefile), normalised; `None`
    /// when absent.
    pub crs: Option<String>,
    pub features: Vec<Feature>,
    /// What the reader noticed about the file that the planner should know, though the
    /// layer reads (a Shapefile's `.cpg` naming an encoding quartier does not know).
    pub warnings: Vec<Warning>,
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
    /// A line (a street): its vertices in order.
    LineString(Vec<Position>),
    MultiLineString(Vec<Vec<Position>>),
    /// Any other type (GeometryCollection, …), by name, for messages.
    Other(&'static str),
}

impl Geom {
    /// Every position of the geometry, in order.
    pub fn positions(&self) -> Vec<Position> {
        match self {
            Geom::Point(p) => vec![*p],
            Geom::MultiPoint(points) => points.clone(),
            Geom::Polygon(rings) => rings.iter().flatten().copied().collect(),
            Geom::MultiPolygon(polygons) => polygons.iter().flatten().flatten().copied().collect(),
            Geom::LineString(line) => line.clone(),
            Geom::MultiLineString(lines) => lines.iter().flatten().copied().collect(),
            Geom::Other(_) => Vec::new(),
        }
    }

    /// Every position of the geometry, in the order of `positions`, to change in place.
    pub fn positions_mut(&mut self) -> Vec<&mut Position> {
        match self {
            Geom::Point(p) => vec![p],
            Geom::MultiPoint(points) => points.iter_mut().collect(),
            Geom::Polygon(rings) => rings.iter_mut().flatten().collect(),
            Geom::MultiPolygon(polygons) => polygons.iter_mut().flatten().flatten().collect(),
            Geom::LineString(line) => line.iter_mut().collect(),
            Geom::MultiLineString(lines) => lines.iter_mut().flatten().collect(),
            Geom::Other(_) => Vec::new(),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Geom::Point(_) => "Point",
            Geom::MultiPoint(_) => "MultiPoint",
            Geom::Polygon(_) => "Polygon",
            Geom::MultiPolygon(_) => "MultiPolygon",
            Geom::LineString(_) => "LineString",
            Geom::MultiLineString(_) => "MultiLineString",
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
    pub(super) properties: Properties,
}

/// A feature's properties: values aligned with a list of names that all features of a
/// layer read with the same wanted names share.
#[derive(Debug)]
pub struct Properties {
    pub(super) keys: Arc<[Box<str>]>,
    pub(super) values: Box<[Prop]>,
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

/// The values, or the error of the first feature in file order that has one (collected in
/// one allocation of the exact size, and the same message however the cores shared the
/// work).
pub fn first_error<T>(mut results: Vec<Result<T, InputError>>) -> Result<Vec<T>, InputError> {
    if let Some(index) = results.iter().position(Result::is_err) {
        results.swap_remove(index)?;
    }
    Ok(results.into_iter().filter_map(Result::ok).collect())
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
