//! Shapefile layers (`.shp` with its `.dbf`, `.prj` for the CRS and `.cpg` for the text
//! encoding), read with the `shapefile` and `dbase` crates into the same `Layer` as GeoJSON.
//!
//! The files come as Windows and QGIS write them: the extensions in any case (`SITES.SHP`
//! with `SITES.DBF`), and the `.cpg` naming the encoding in whatever words the program that
//! wrote it uses (`UTF-8`, `windows-1252`, `CP1252`, `1252`, `ANSI 1252`, `ISO-8859-1`,
//! `88591`, `LATIN1`). quartier opens the files itself and reads those words with the
//! labels of `encoding_rs` (the WHATWG encoding standard's), so that a `.cpg` the crates
//! would not know never turns umlauts into replacement characters unsaid.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use shapefile::dbase::encoding::{DynEncoding, EncodingRs};
use shapefile::dbase::{self, CodePageMark, FieldValue};
use shapefile::{PolygonRing, Shape};

use super::layer::{Feature, Geom, Layer, PolygonRings, Position, Prop, Properties};
use crate::error::{InputError, Warning};

/// Reads a Shapefile; `wanted` limits the properties kept.
pub fn read(path: &Path, wanted: Option<&[String]>) -> Result<Layer, InputError> {
    let file = path.display().to_string();
    let bad = |message: String| InputError::new(&file, message);
    let shp = sidecar(path, "shp").ok_or_else(|| bad("file not found".into()))?;
    let Some(dbf) = sidecar(&shp, "dbf") else {
        // Named in the case of the .shp's extension: SITES.DBF for SITES.SHP.
        let upper = shp
            .extension()
            .is_some_and(|e| e.to_string_lossy().chars().all(|c| c.is_ascii_uppercase()));
        return Err(bad(format!(
            "the attribute table {} next to it is missing; a Shapefile is read with its .dbf (and .prj for the CRS)",
            shp.with_extension(if upper { "DBF" } else { "dbf" }).display()
        )));
    };
    let crs = match sidecar(&shp, "prj").map(std::fs::read) {
        Some(Ok(bytes)) => {
            let text = String::from_utf8_lossy(&bytes)
                .trim_start_matches('\u{feff}')
                .trim()
                .to_string();
            (!text.is_empty()).then_some(text)
        }
        _ => None,
    };
    let cannot_read_table = |e: &dyn std::fmt::Display| {
        bad(format!(
            "cannot read the attribute table {}: {e}",
            dbf.display()
        ))
    };
    let open = |path: &Path| File::open(path).map(BufReader::new);
    let (encoding, warning) = text_encoding(&shp, &dbf)?;
    let table = dbase::ReaderBuilder::new()
        .with_encoding(encoding)
        .build(open(&dbf).map_err(|e| cannot_read_table(&e))?)
        .map_err(|e| cannot_read_table(&e))?;
    let names: Vec<String> = table
        .fields()
        .iter()
        .map(|f| f.name().to_string())
        .filter(|n| n != "DeletionFlag")
        .collect();
    let cannot_read = |e: &dyn std::fmt::Display| bad(format!("cannot read the Shapefile: {e}"));
    let shapes = open(&shp).map_err(|e| cannot_read(&e))?;
    let shapes = match sidecar(&shp, "shx").map(|shx| open(&shx)) {
        Some(Ok(index)) => shapefile::ShapeReader::with_shx(shapes, index),
        _ => shapefile::ShapeReader::new(shapes),
    }
    .map_err(|e| cannot_read(&e))?;
    let mut reader = shapefile::Reader::new(shapes, table);
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
        warnings: warning.into_iter().collect(),
    })
}

/// The file of the Shapefile `path` with the extension `extension` in any case: the exact
/// name first, then the same name with the extension's letters in any case (`SITES.DBF` or
/// `sites.DBF` for `sites.shp`). Windows does not tell the cases apart, so files copied from
/// there keep whichever case the program that wrote them chose.
fn sidecar(path: &Path, extension: &str) -> Option<PathBuf> {
    let exact = path.with_extension(extension);
    if exact.is_file() {
        return Some(exact);
    }
    let stem = path.file_stem()?;
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(folder)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| path.with_file_name(entry.file_name()))
        .filter(|candidate| {
            candidate.file_stem() == Some(stem)
                && candidate
                    .extension()
                    .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case(extension))
                && candidate.is_file()
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// The encoding named by a `.cpg`, by the labels of the WHATWG encoding standard
/// (`encoding_rs::Encoding::for_label`: `UTF-8`, `windows-1252`, `cp1252`, `latin1`,
/// `ISO-8859-1`, …) and the forms GIS programs write around them: ArcGIS's `ANSI 1252`,
/// Windows' code page numbers (`1252` as `windows-1252`, `866` as `cp866`) and GDAL's
/// `8859-1` and `88591` (as `iso8859-1`).
pub fn cpg_encoding(label: &str) -> Option<&'static encoding_rs::Encoding> {
    let label = label.trim_start_matches('\u{feff}').trim();
    let bare = match label.get(..5) {
        Some(ansi) if ansi.eq_ignore_ascii_case("ANSI ") => label[5..].trim(),
        _ => label,
    };
    let mut labels = vec![bare.to_string()];
    if !bare.is_empty() && bare.bytes().all(|b| b.is_ascii_digit()) {
        labels.extend(["windows-", "cp", "ibm", "ms"].map(|prefix| format!("{prefix}{bare}")));
    }
    if bare.starts_with("8859") {
        labels.push(format!("iso{bare}"));
    }
    labels
        .iter()
        .find_map(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
}

/// How the attribute table's text is decoded: as its `.cpg` says, else as its header's
/// language driver byte says. A `.cpg` that names no known encoding is a warning that says
/// which encoding the text is read as instead.
fn text_encoding(shp: &Path, dbf: &Path) -> Result<(DynEncoding, Option<Warning>), InputError> {
    let header = header_encoding(dbf);
    let label = sidecar(shp, "cpg").and_then(|cpg| {
        let mut text = String::new();
        File::open(&cpg)
            .ok()?
            .take(1024)
            .read_to_string(&mut text)
            .ok()?;
        let label = text.trim_start_matches('\u{feff}').trim();
        let label = label.lines().next().unwrap_or("").trim().to_string();
        (!label.is_empty()).then_some((cpg, label))
    });
    let Some((cpg, label)) = label else {
        return header
            .map(|(encoding, _)| (encoding, None))
            .map_err(|message| InputError::new(shp.display(), message));
    };
    if let Some(encoding) = cpg_encoding(&label) {
        return Ok((EncodingRs::from(encoding).into(), None));
    }
    // The names the dbase crate knows besides (GBK as "936", UTF-8 as "65001", …).
    if let Some(encoding) = DynEncoding::from_name(&label) {
        return Ok((encoding, None));
    }
    let (encoding, read_as) = header.map_err(|message| {
        InputError::new(
            cpg.display(),
            format!(
                "names the text encoding \"{label}\", which quartier does not know, and {message}"
            ),
        )
    })?;
    let warning = Warning::new(
        cpg.display(),
        format!(
            "names the text encoding \"{label}\", which quartier does not know; the attributes are read as {read_as} instead, so umlauts may come out wrong: save the layer again in QGIS with the encoding UTF-8 (or correct the name in the .cpg, for example to windows-1252)"
        ),
    );
    Ok((encoding, Some(warning)))
}

/// The encoding the `.dbf`'s header names (its language driver byte), with its name for
/// messages; the error says why it cannot be read.
fn header_encoding(dbf: &Path) -> Result<(DynEncoding, String), String> {
    let mut header = [0u8; 32];
    let driver = File::open(dbf)
        .and_then(|mut f| f.read_exact(&mut header))
        .map_or(0, |_| header[29]);
    let named = |encoding: &'static encoding_rs::Encoding| {
        (
            EncodingRs::from(encoding).into(),
            encoding.name().to_string(),
        )
    };
    // Driver 87 is what GDAL (and so QGIS) writes without a .cpg, and reads as ISO-8859-1:
    // Windows-1252 is its superset.
    if driver == 0x57 {
        return Ok(named(encoding_rs::WINDOWS_1252));
    }
    match CodePageMark::from(driver) {
        CodePageMark::Undefined | CodePageMark::Invalid | CodePageMark::Utf8 => {
            Ok(named(encoding_rs::UTF_8))
        }
        mark => {
            let page = format!("{mark:?}").trim_start_matches("CP").to_string();
            match mark.to_encoding() {
                Some(encoding) => Ok((encoding, format!("code page {page} (as the .dbf says)"))),
                None => Err(format!(
                    "the .dbf says its text is in code page {page}, which quartier cannot read; save the layer again in QGIS with the encoding UTF-8"
                )),
            }
        }
    }
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

/// The parts of a Shapefile polyline: one part is a LineString, several a MultiLineString.
fn lines<P>(parts: &[Vec<P>], xy: impl Fn(&P) -> Position) -> Geom {
    let mut lines: Vec<Vec<Position>> = parts
        .iter()
        .map(|part| part.iter().map(&xy).collect())
        .collect();
    if lines.len() == 1 {
        Geom::LineString(lines.remove(0))
    } else {
        Geom::MultiLineString(lines)
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
        Shape::Polyline(l) => lines(l.parts(), |p| [p.x, p.y]),
        Shape::PolylineM(l) => lines(l.parts(), |p| [p.x, p.y]),
        Shape::PolylineZ(l) => lines(l.parts(), |p| [p.x, p.y]),
        Shape::Multipatch(_) => Geom::Other("Multipatch"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::*;

    #[test]
    fn polylines_are_lines_one_per_part() {
        use shapefile::{Point, PointM, PointZ, Polyline, PolylineM, PolylineZ};
        let one = Polyline::new(vec![Point::new(1.0, 2.0), Point::new(3.0, 4.0)]);
        assert_eq!(
            geometry(Shape::Polyline(one)),
            Some(Geom::LineString(vec![[1.0, 2.0], [3.0, 4.0]]))
        );
        let z = |x, y| PointZ::new(x, y, 60.0, 0.0);
        let two = PolylineZ::with_parts(vec![
            vec![z(1.0, 2.0), z(3.0, 4.0)],
            vec![z(3.0, 4.0), z(5.0, 6.0), z(7.0, 8.0)],
        ]);
        assert_eq!(
            geometry(Shape::PolylineZ(two)),
            Some(Geom::MultiLineString(vec![
                vec![[1.0, 2.0], [3.0, 4.0]],
                vec![[3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]
            ]))
        );
        let m = PolylineM::new(vec![PointM::new(1.0, 2.0, 0.5), PointM::new(3.0, 4.0, 1.5)]);
        assert_eq!(
            geometry(Shape::PolylineM(m)),
            Some(Geom::LineString(vec![[1.0, 2.0], [3.0, 4.0]]))
        );
    }

    #[test]
    fn cpg_labels_as_gis_programs_write_them() {
        for (labels, expected) in [
            (
                &[
                    "windows-1252",
                    "Windows-1252",
                    "WINDOWS-1252",
                    "cp1252",
                    "CP1252",
                    "1252",
                    "ANSI 1252",
                    "ansi 1252",
                    "ISO-8859-1",
                    "iso8859-1",
                    "8859-1",
                    "88591",
                    "LATIN1",
                    "latin1",
                    "ascii",
                    " windows-1252\r\n",
                ][..],
                WINDOWS_1252,
            ),
            (&["UTF-8", "utf-8", "utf8", "\u{feff}UTF-8\n"][..], UTF_8),
            (&["utf-16", "UTF-16LE"][..], UTF_16LE),
            (&["UTF-16BE"][..], UTF_16BE),
            (
                &["1250", "ANSI 1250", "cp1250", "windows-1250"][..],
                WINDOWS_1250,
            ),
            (&["1251", "ANSI 1251"][..], WINDOWS_1251),
            (&["866", "CP866"][..], IBM866),
            (&["932", "Shift_JIS"][..], SHIFT_JIS),
            (&["949"][..], EUC_KR),
            (&["8859-2", "88592", "ISO-8859-2"][..], ISO_8859_2),
            (&["885915", "ISO-8859-15"][..], ISO_8859_15),
        ] {
            for label in labels {
                assert_eq!(cpg_encoding(label), Some(expected), "{label:?}");
            }
        }
        // DOS code pages are not in the WHATWG standard: the reader warns about them.
        for label in ["437", "850", "CP850", "ANSI", "System", "", "12520"] {
            assert_eq!(cpg_encoding(label), None, "{label:?}");
        }
    }
}
