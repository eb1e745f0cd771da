//! GeoPackage layers (`file.gpkg`, or `file.gpkg#layer` when the file holds several), read
//! with rusqlite (SQLite) into the same `Layer` as GeoJSON. The CRS comes from the file's
//! `gpkg_spatial_ref_sys`; geometries are GeoPackage blobs (a small header, then WKB, read
//! with the `wkb` crate).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use geo_traits::{
    CoordTrait, GeometryTrait, GeometryType, LineStringTrait, LineTrait, MultiLineStringTrait,
    MultiPointTrait, MultiPolygonTrait, PointTrait, PolygonTrait,
};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::layer::{Feature, Geom, Layer, PolygonRings, Position, Prop, Properties};
use crate::error::InputError;
use crate::scenario::suggestion;

/// `data.gpkg#sites` → (`data.gpkg`, `Some("sites")`); `data.gpkg` → (`data.gpkg`, `None`);
/// `None` for other files.
pub fn split_layer(path: &Path) -> Option<(PathBuf, Option<String>)> {
    let text = path.to_string_lossy();
    let lower = text.to_ascii_lowercase();
    if let Some(at) = lower.rfind(".gpkg#") {
        let (file, layer) = text.split_at(at + ".gpkg".len());
        return Some((PathBuf::from(file), Some(layer[1..].to_string())));
    }
    lower.ends_with(".gpkg").then(|| (path.to_path_buf(), None))
}

/// Reads one feature layer; `wanted` limits the properties kept.
pub fn read(
    path: &Path,
    layer: Option<&str>,
    wanted: Option<&[String]>,
) -> Result<Layer, InputError> {
    let file = path.display().to_string();
    let shown = match layer {
        Some(name) => format!("{file}#{name}"),
        None => file.clone(),
    };
    let bad = |message: String| InputError::new(&shown, message);
    if !path.exists() {
        return Err(InputError::new(&file, "file not found"));
    }
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| InputError::new(&file, format!("cannot open the GeoPackage: {e}")))?;
    let not_gpkg = |e: rusqlite::Error| {
        InputError::new(
            &file,
            format!("not a GeoPackage (an SQLite file with gpkg_contents): {e}"),
        )
    };
    let layers: Vec<String> = {
        let mut statement = connection
            .prepare("SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name")
            .map_err(not_gpkg)?;
        let rows = statement
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(not_gpkg)?;
        rows.collect::<Result<_, _>>().map_err(not_gpkg)?
    };
    let table = match layer {
        Some(name) => {
            if !layers.iter().any(|l| l == name) {
                let known: Vec<&str> = layers.iter().map(String::as_str).collect();
                return Err(InputError::new(
                    &file,
                    format!(
                        "no feature layer \"{name}\"{}; its layers: {}",
                        suggestion(name, &known),
                        known.join(", ")
                    ),
                ));
            }
            name.to_string()
        }
        None => match layers.as_slice() {
            [only] => only.clone(),
            [] => {
                return Err(InputError::new(
                    &file,
                    "the GeoPackage holds no feature layer",
                ))
            }
            many => {
                return Err(InputError::new(
                    &file,
                    format!(
                        "the GeoPackage holds {} feature layers ({}); choose one with {file}#LAYER",
                        many.len(),
                        many.join(", ")
                    ),
                ))
            }
        },
    };
    let (geometry_column, srs_id): (String, i64) = connection
        .query_row(
            "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?1",
            [&table],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(|e| {
            bad(format!(
                "the layer has no geometry column in gpkg_geometry_columns: {e}"
            ))
        })?;
    let crs = crs_of(&connection, srs_id);

    let quoted = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    let mut statement = connection
        .prepare(&format!("SELECT * FROM {}", quoted(&table)))
        .map_err(|e| bad(format!("cannot read the layer: {e}")))?;
    let columns: Vec<String> = statement
        .column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let geometry_index = columns
        .iter()
        .position(|c| c.eq_ignore_ascii_case(&geometry_column))
        .ok_or_else(|| {
            bad(format!(
                "the geometry column \"{geometry_column}\" is missing"
            ))
        })?;
    // The property columns kept, and where each sits in a row.
    let kept: Vec<(usize, &String)> = columns
        .iter()
        .enumerate()
        .filter(|(i, name)| {
            *i != geometry_index && wanted.is_none_or(|w| w.iter().any(|k| k == *name))
        })
        .collect();
    let keys: Arc<[Box<str>]> = kept.iter().map(|(_, n)| n.as_str().into()).collect();
    let mut rows = statement
        .query([])
        .map_err(|e| bad(format!("cannot read the layer: {e}")))?;
    let mut features = Vec::new();
    while let Some(row) = rows
        .next()
        .map_err(|e| bad(format!("cannot read feature {}: {e}", features.len())))?
    {
        let index = features.len();
        let geometry = match row.get_ref(geometry_index) {
            Ok(ValueRef::Blob(blob)) => Some(
                decode(blob)
                    .map_err(|e| bad(format!("feature {index}: cannot read the geometry: {e}")))?,
            ),
            _ => None,
        };
        let values = kept
            .iter()
            .map(|(i, _)| match row.get_ref(*i) {
                Ok(ValueRef::Integer(n)) => Prop::Number(n.into()),
                Ok(ValueRef::Real(x)) => Prop::number(x),
                Ok(ValueRef::Text(t)) => Prop::Text(String::from_utf8_lossy(t).into()),
                Ok(ValueRef::Blob(_)) => {
                    Prop::Other(Box::new(serde_json::Value::String("(binary data)".into())))
                }
                Ok(ValueRef::Null) | Err(_) => Prop::Null,
            })
            .collect();
        features.push(Feature::new(
            index,
            geometry,
            Properties::new(keys.clone(), values),
        ));
    }
    Ok(Layer {
        file: shown,
        crs,
        features,
        warnings: Vec::new(),
    })
}

/// The CRS of an srs_id: `EPSG:n` when the organisation is EPSG, else the definition
/// (WKT); `None` for the undefined systems 0 and -1.
fn crs_of(connection: &Connection, srs_id: i64) -> Option<String> {
    // 0 and -1 are the standard's undefined systems; GDAL and QGIS write 99999 for a layer
    // without a CRS.
    if matches!(srs_id, 0 | -1 | 99999) {
        return None;
    }
    let (organization, code, definition): (Option<String>, Option<i64>, Option<String>) =
        connection
            .query_row(
                "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
                [srs_id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .ok()?;
    match (organization, code) {
        (Some(org), Some(code)) if org.eq_ignore_ascii_case("epsg") => Some(format!("EPSG:{code}")),
        _ => definition
            .filter(|d| !crate::io::crs::is_undefined(d))
            .or_else(|| Some(format!("EPSG:{srs_id}"))),
    }
}

/// How an empty geometry is named in messages ("geometry must be a Point …, found …").
const EMPTY: &str = "an empty geometry";

/// A GeoPackage geometry blob: "GP", version, flags, srs_id, envelope, then WKB.
pub fn decode(blob: &[u8]) -> Result<Geom, String> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err("not a GeoPackage geometry (no \"GP\" header)".into());
    }
    // Flags (GeoPackage 1.4, 2.1.3): bit 0 byte order, bits 1–3 the envelope, bit 4 an
    // empty geometry, bit 5 an extended (non-standard) geometry type.
    let flags = blob[3];
    let empty = flags & 0b0001_0000 != 0;
    if flags & 0b0010_0000 != 0 {
        return Err("an extended geometry type (not one of the standard's); save the layer with a standard geometry type".into());
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        other => return Err(format!("unknown envelope kind {other}")),
    };
    let start = 8 + envelope;
    let wkb = blob.get(start..);
    if empty {
        // An empty line is a line without vertices, which a street network skips with a
        // warning; any other empty geometry is named as such.
        let line = wkb
            .and_then(|wkb| wkb::reader::read_wkb(wkb).ok())
            .map(|geometry| from_wkb(&geometry))
            .filter(|g| matches!(g, Geom::LineString(_) | Geom::MultiLineString(_)));
        return Ok(line.unwrap_or(Geom::Other(EMPTY)));
    }
    let wkb = wkb.ok_or("the geometry is cut short")?;
    let geometry = wkb::reader::read_wkb(wkb).map_err(|e| e.to_string())?;
    Ok(from_wkb(&geometry))
}

fn coord<C: CoordTrait<T = f64>>(c: C) -> Position {
    [c.x(), c.y()]
}

fn ring<L: LineStringTrait<T = f64>>(line: &L) -> Vec<Position> {
    line.coords().map(coord).collect()
}

fn polygon<P: PolygonTrait<T = f64>>(p: &P) -> PolygonRings {
    let mut rings: PolygonRings = Vec::with_capacity(1 + p.num_interiors());
    if let Some(exterior) = p.exterior() {
        rings.push(ring(&exterior));
    }
    rings.extend(p.interiors().map(|r| ring(&r)));
    rings
}

fn from_wkb(geometry: &impl GeometryTrait<T = f64>) -> Geom {
    match geometry.as_type() {
        GeometryType::Point(p) => match p.coord() {
            Some(c) => Geom::Point(coord(c)),
            None => Geom::Other(EMPTY),
        },
        GeometryType::MultiPoint(m) => {
            Geom::MultiPoint(m.points().filter_map(|p| p.coord().map(coord)).collect())
        }
        GeometryType::Polygon(p) => Geom::Polygon(polygon(p)),
        GeometryType::MultiPolygon(m) => {
            Geom::MultiPolygon(m.polygons().map(|p| polygon(&p)).collect())
        }
        // Z and M values, as a 3D or measured line carries them, are dropped with `coord`.
        GeometryType::LineString(l) => Geom::LineString(ring(l)),
        GeometryType::Line(l) => Geom::LineString(vec![coord(l.start()), coord(l.end())]),
        GeometryType::MultiLineString(m) => {
            Geom::MultiLineString(m.line_strings().map(|l| ring(&l)).collect())
        }
        GeometryType::GeometryCollection(_) => Geom::Other("GeometryCollection"),
        GeometryType::Rect(_) | GeometryType::Triangle(_) => {
            Geom::Other("Polygon (rectangle or triangle)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_names_after_a_hash() {
        assert_eq!(
            split_layer(Path::new("data/city.gpkg#sites")),
            Some((PathBuf::from("data/city.gpkg"), Some("sites".into())))
        );
        assert_eq!(
            split_layer(Path::new("data/City.GPKG")),
            Some((PathBuf::from("data/City.GPKG"), None))
        );
        assert_eq!(split_layer(Path::new("data/city.geojson")), None);
    }

    #[test]
    fn geometry_blobs_with_and_without_envelope() {
        // A point (3, 4) in little-endian WKB after a header without envelope.
        let mut blob = vec![b'G', b'P', 0, 0b0000_0001, 0xE8, 0x64, 0, 0];
        blob.extend_from_slice(&[1, 1, 0, 0, 0]);
        blob.extend_from_slice(&3.0f64.to_le_bytes());
        blob.extend_from_slice(&4.0f64.to_le_bytes());
        assert_eq!(decode(&blob), Ok(Geom::Point([3.0, 4.0])));
        let mut with_envelope = vec![b'G', b'P', 0, 0b0000_0011, 0xE8, 0x64, 0, 0];
        for v in [3.0f64, 3.0, 4.0, 4.0] {
            with_envelope.extend_from_slice(&v.to_le_bytes());
        }
        with_envelope.extend_from_slice(&blob[8..]);
        assert_eq!(decode(&with_envelope), Ok(Geom::Point([3.0, 4.0])));
        // The empty flag is bit 4; bit 5 marks an extended type.
        let mut empty = blob.clone();
        empty[3] |= 0b0001_0000;
        assert_eq!(decode(&empty), Ok(Geom::Other("an empty geometry")));
        let mut extended = blob.clone();
        extended[3] |= 0b0010_0000;
        assert!(decode(&extended).is_err());
        // An empty point in WKB (NaN coordinates) without the flag.
        let mut nan = blob[..8].to_vec();
        nan.extend_from_slice(&[1, 1, 0, 0, 0]);
        nan.extend_from_slice(&f64::NAN.to_le_bytes());
        nan.extend_from_slice(&f64::NAN.to_le_bytes());
        assert_eq!(decode(&nan), Ok(Geom::Other("an empty geometry")));
        assert!(decode(b"XX").is_err());
        assert!(decode(&blob[..12]).is_err());
    }

    /// Little-endian ISO WKB of `type_code` after a header without envelope (`flags` besides
    /// the byte order), then `body`.
    fn blob(flags: u8, type_code: u32, body: &[u8]) -> Vec<u8> {
        let mut blob = vec![b'G', b'P', 0, 0b0000_0001 | flags, 0xE8, 0x64, 0, 0, 1];
        blob.extend_from_slice(&type_code.to_le_bytes());
        blob.extend_from_slice(body);
        blob
    }

    /// A count, then the positions with `dims` numbers each (x, y, then z and/or m).
    fn points(positions: &[&[f64]]) -> Vec<u8> {
        let mut body = (positions.len() as u32).to_le_bytes().to_vec();
        for position in positions {
            for value in *position {
                body.extend_from_slice(&value.to_le_bytes());
            }
        }
        body
    }

    #[test]
    fn lines_with_heights_and_measures() {
        let xy = points(&[&[1.0, 2.0], &[3.0, 4.0]]);
        assert_eq!(
            decode(&blob(0, 2, &xy)),
            Ok(Geom::LineString(vec![[1.0, 2.0], [3.0, 4.0]]))
        );
        // LineString Z (1002), M (2002) and ZM (3002): x and y kept.
        let xyz = points(&[&[1.0, 2.0, 60.0], &[3.0, 4.0, 61.0]]);
        let xyzm = points(&[&[1.0, 2.0, 60.0, 0.0], &[3.0, 4.0, 61.0, 2.8]]);
        for (code, body) in [(1002, &xyz), (2002, &xyz), (3002, &xyzm)] {
            assert_eq!(
                decode(&blob(0, code, body)),
                Ok(Geom::LineString(vec![[1.0, 2.0], [3.0, 4.0]])),
                "{code}"
            );
        }
        // MultiLineString Z (1005): two LineString Z parts, each with its own header.
        let mut body = 2u32.to_le_bytes().to_vec();
        for part in [
            points(&[&[1.0, 2.0, 60.0], &[3.0, 4.0, 61.0]]),
            points(&[&[3.0, 4.0, 61.0], &[5.0, 6.0, 62.0], &[7.0, 8.0, 63.0]]),
        ] {
            body.push(1);
            body.extend_from_slice(&1002u32.to_le_bytes());
            body.extend_from_slice(&part);
        }
        assert_eq!(
            decode(&blob(0, 1005, &body)),
            Ok(Geom::MultiLineString(vec![
                vec![[1.0, 2.0], [3.0, 4.0]],
                vec![[3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]
            ]))
        );
        // An empty line (flag bit 4) stays a line, without vertices; an empty point does not.
        assert_eq!(
            decode(&blob(0b0001_0000, 2, &points(&[]))),
            Ok(Geom::LineString(Vec::new()))
        );
        assert_eq!(
            decode(&blob(0b0001_0000, 5, &0u32.to_le_bytes())),
            Ok(Geom::MultiLineString(Vec::new()))
        );
        assert_eq!(
            decode(&blob(0b0001_0000, 1, &[])),
            Ok(Geom::Other("an empty geometry"))
        );
    }
}
