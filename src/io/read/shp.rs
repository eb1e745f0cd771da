//! Shapefile layers (`.shp` with its `.dbf`, `.prj` for the CRS and `.cpg` for the text
//! encoding), read with the `shapefile` and `dbase` crates into the same `Layer` as GeoJSON.

use std::path::Path;
use std::sync::Arc;

use shapefile::dbase::{self, FieldValue};
use shapefile::{PolygonRing, Shape};

use super::layer::{Feature, Geom, Layer, PolygonRings, Position, Prop, Properties};
use crate::error::InputError;

/// Reads a Shapefile; `wanted` limits the properties kept.
pub fn read(path: &Path, wanted: Option<&[String]>) -> Result<Layer, InputError> {
    let file = path.display().to_string();
    let bad = |message: String| InputError::new(&file, message);
    if !path.exists() {
        return Err(bad("file not found".into()));
    }
    let dbf = path.with_extension("dbf");
    if !dbf.exists() {
        return Err(bad(format!(
            "the attribute table {} next to it is missing; a Shapefile is read with its .dbf (and .prj for the CRS)",
            dbf.display()
        )));
    }
    let crs = match std::fs::read(path.with_extension("prj")) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes)
                .trim_start_matches('\u{feff}')
                .trim()
                .to_string();
            (!text.is_empty()).then_some(text)
        }
        Err(_) => None,
    };
    let names: Vec<String> = dbase::Reader::from_path(&dbf)
        .map_err(|e| {
            bad(format!(
                "cannot read the attribute table {}: {e}",
                dbf.display()
            ))
        })?
        .fields()
        .iter()
        .map(|f| f.name().to_string())
        .filter(|n| n != "DeletionFlag")
        .collect();
    let mut reader = shapefile::Reader::from_path(path)
        .map_err(|e| bad(format!("cannot read the Shapefile: {e}")))?;
    let kept: Vec<&String> = names
        .iter()
        .filter(|n| wanted.is_none_or(|w| w.iter().any(|k| k == *n)))
        .collect();
    let keys: Arc<[Box<str>]> = kept.iter().map(|n| n.as_str().into()).collect();
    let mut features = Vec::new();
    for item in reader.iter_shapes_and_records() {
        let index = features.len();
        let (shape, mut record) =
            item.map_err(|e| bad(format!("feature {index}: cannot read it: {e}")))?;
        let geometry = geometry(shape);
        let values = kept
            .iter()
            .map(|name| match record.remove(name) {
                None => Prop::Absent,
                Some(value) => prop(value),
            })
            .collect();
        features.push(Feature::new(
            index,
            geometry,
            Properties::new(keys.clone(), values),
        ));
    }
    Ok(Layer {
        file,
        crs,
        features,
    })
}

fn prop(value: FieldValue) -> Prop {
    match value {
        FieldValue::Character(Some(text)) | FieldValue::Memo(text) => Prop::Text(text.into()),
        FieldValue::Numeric(Some(x)) | FieldValue::Double(x) | FieldValue::Currency(x) => {
            if x.fract() == 0.0 && x.abs() < 9e15 {
                Prop::Number((x as i64).into())
            } else {
                Prop::number(x)
            }
        }
        FieldValue::Float(Some(x)) => Prop::number(f64::from(x)),
        FieldValue::Integer(n) => Prop::Number(n.into()),
        FieldValue::Logical(Some(b)) => Prop::Bool(b),
        FieldValue::Date(Some(date)) => {
            Prop::Text(format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day()).into())
        }
        FieldValue::DateTime(_) => Prop::Text("(date and time)".into()),
        FieldValue::Character(None)
        | FieldValue::Numeric(None)
        | FieldValue::Float(None)
        | FieldValue::Logical(None)
        | FieldValue::Date(None) => Prop::Null,
    }
}

/// Rings of a Shapefile polygon: each outer ring (clockwise in the file) starts a polygon,
/// the inner rings after it are its holes.
fn polygons<P>(rings: &[PolygonRing<P>], xy: impl Fn(&P) -> Position) -> Vec<PolygonRings> {
    let mut polygons: Vec<PolygonRings> = Vec::new();
    for ring in rings {
        let positions: Vec<Position> = ring.points().iter().map(&xy).collect();
        match ring {
            PolygonRing::Outer(_) => polygons.push(vec![positions]),
            PolygonRing::Inner(_) => match polygons.last_mut() {
                Some(polygon) => polygon.push(positions),
                None => polygons.push(vec![positions]),
            },
        }
    }
    polygons
}

fn one_or_many(mut list: Vec<PolygonRings>) -> Geom {
    if list.len() == 1 {
        Geom::Polygon(list.remove(0))
    } else {
        Geom::MultiPolygon(list)
    }
}

fn geometry(shape: Shape) -> Option<Geom> {
    Some(match shape {
        Shape::NullShape => return None,
        Shape::Point(p) => Geom::Point([p.x, p.y]),
        Shape::PointM(p) => Geom::Point([p.x, p.y]),
        Shape::PointZ(p) => Geom::Point([p.x, p.y]),
        Shape::Multipoint(m) => Geom::MultiPoint(m.points().iter().map(|p| [p.x, p.y]).collect()),
        Shape::MultipointM(m) => Geom::MultiPoint(m.points().iter().map(|p| [p.x, p.y]).collect()),
        Shape::MultipointZ(m) => Geom::MultiPoint(m.points().iter().map(|p| [p.x, p.y]).collect()),
        Shape::Polygon(p) => one_or_many(polygons(p.rings(), |p| [p.x, p.y])),
        Shape::PolygonM(p) => one_or_many(polygons(p.rings(), |p| [p.x, p.y])),
        Shape::PolygonZ(p) => one_or_many(polygons(p.rings(), |p| [p.x, p.y])),
        Shape::Polyline(_) | Shape::PolylineM(_) | Shape::PolylineZ(_) => Geom::Other("LineString"),
        Shape::Multipatch(_) => Geom::Other("Multipatch"),
    })
}
