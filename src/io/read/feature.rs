//! What the layer → instance readers (`districts`, `points`) share: a layer's CRS, ids that
//! must be there and be unique, messages that name the file and the feature, checks of
//! positions and polygon outlines in the layer's own CRS, and the reprojection of a layer's
//! positions into the metric CRS; the readers of plans and output folders (`plan_in`,
//! `compare`) take the same CRS and position checks. It sits below those readers and
//! imports none of them.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;

use super::layer::{first_error, format_number, Feature, Layer, PolygonRings};
use crate::error::InputError;
use crate::io::crs::{self, Transform};

/// The CRS of a layer: its own, checked, or the scenario's `default`.
pub(super) fn layer_crs(layer: &Layer, default: &str) -> Result<String, InputError> {
    // A declared but undefined CRS (GeoPackage srs_id 99999, `LOCAL_CS["Undefined SRS"]`)
    // says no more than none.
    let own = layer.crs.as_deref().filter(|c| !crs::is_undefined(c));
    let name = own.map_or_else(|| default.to_string(), str::to_string);
    if own.is_some() {
        crs::check_known(&name).map_err(|e| {
            InputError::new(
                &layer.file,
                format!("unknown CRS \"{}\" of the layer: {e}", short(&name)),
            )
        })?;
    }
    Ok(name)
}

/// A CRS name for messages (WKT from a .prj is long).
fn short(crs: &str) -> String {
    if crs.chars().count() > 60 {
        let cut: String = crs.chars().take(60).collect();
        format!("{cut}…")
    } else {
        crs.to_string()
    }
}

/// A layer's features in its own CRS, with the properties already checked.
pub(super) struct RawLayerData<T> {
    pub(super) file: String,
    pub(super) crs: String,
    pub(super) items: Vec<T>,
}

pub(super) fn feature_error(
    layer: &Layer,
    feature: &Feature,
    id: Option<&str>,
    message: String,
) -> InputError {
    InputError::new(&layer.file, format!("{}: {message}", feature.label(id)))
}

/// Ids must be present and unique per layer.
pub(super) fn unique_ids(layer: &Layer, key: &str) -> Result<Vec<String>, InputError> {
    let mut ids = Vec::with_capacity(layer.features.len());
    layer
        .features
        .par_iter()
        .map(|f| feature_id(layer, f, key))
        .collect_into_vec(&mut ids);
    let ids = first_error(ids)?;
    check_unique(&layer.file, ids.len(), |i| ids[i].as_str())?;
    Ok(ids)
}

/// The feature's id (property `key`), which must be there.
pub(super) fn feature_id(
    layer: &Layer,
    feature: &Feature,
    key: &str,
) -> Result<String, InputError> {
    feature.id_text(key).ok_or_else(|| {
        feature_error(
            layer,
            feature,
            None,
            format!("property \"{key}\" is missing; every feature needs an id (text or number)"),
        )
    })
}

/// The first id that comes twice, with the features of both: the same pair a walk through
/// the features in file order finds, but sorted on every core (a walk with a hash map took
/// 0.2 s for a million sites).
pub(super) fn check_unique<'a>(
    file: &str,
    count: usize,
    id: impl Fn(usize) -> &'a str + Sync,
) -> Result<(), InputError> {
    use std::hash::BuildHasher;
    let hasher = rustc_hash::FxBuildHasher;
    let mut keyed: Vec<(u64, usize)> = (0..count)
        .into_par_iter()
        .map(|i| (hasher.hash_one(id(i)), i))
        .collect();
    keyed.par_sort_unstable();
    // Within a run of equal hashes (in file order), the first feature whose id came before.
    let mut repeat: Option<(usize, usize)> = None;
    for run in keyed
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
    {
        for (k, &(_, second)) in run.iter().enumerate().skip(1) {
            let same = run[..k].iter().find(|(_, first)| id(*first) == id(second));
            if let Some(&(_, first)) = same {
                if repeat.is_none_or(|(_, known)| second < known) {
                    repeat = Some((first, second));
                }
                break;
            }
        }
    }
    match repeat {
        Some((first, second)) => Err(InputError::new(
            file,
            format!(
                "duplicate id \"{}\" (features {first} and {second})",
                id(first)
            ),
        )),
        None => Ok(()),
    }
}

/// A place in a layer's own CRS, for messages: `(404512.3, 5757001.2)`.
pub(super) fn place(position: [f64; 2], crs: &str) -> String {
    if crs::is_lonlat(crs) {
        format!("({:.6}, {:.6})", position[0], position[1])
    } else {
        format!("({:.1}, {:.1})", position[0], position[1])
    }
}

pub(super) fn check_polygons(
    layer: &Layer,
    feature: &Feature,
    id: &str,
    polygons: &[PolygonRings],
    crs: &str,
) -> Result<(), InputError> {
    if polygons.is_empty() {
        return Err(feature_error(
            layer,
            feature,
            Some(id),
            "the geometry has no polygon; expected an outer ring of at least 4 positions (closed)"
                .into(),
        ));
    }
    for polygon in polygons {
        match polygon.first() {
            Some(ring) if ring.len() >= 4 => {}
            _ => {
                return Err(feature_error(
                    layer,
                    feature,
                    Some(id),
                    "a polygon needs an outer ring of at least 4 positions (closed)".into(),
                ))
            }
        }
        for ring in polygon {
            for position in ring {
                check_position(layer, feature, id, *position, crs)?;
            }
        }
    }
    Ok(())
}

pub(super) fn check_position(
    layer: &Layer,
    feature: &Feature,
    id: &str,
    position: [f64; 2],
    crs: &str,
) -> Result<(), InputError> {
    check_position_advised(layer, feature, id, position, crs, &crs_advice(&layer.file))
}

/// As `check_position`, with `advice` saying how to give the layer its CRS.
fn check_position_advised(
    layer: &Layer,
    feature: &Feature,
    id: &str,
    position: [f64; 2],
    crs: &str,
    advice: &str,
) -> Result<(), InputError> {
    let [x, y] = position;
    if !(x.is_finite() && y.is_finite()) {
        return Err(feature_error(
            layer,
            feature,
            Some(id),
            "coordinates must be finite numbers".into(),
        ));
    }
    if crs::is_lonlat(crs) && (x.abs() > 180.0 || y.abs() > 90.0) {
        return Err(feature_error(
            layer,
            feature,
            Some(id),
            format!(
                "coordinates ({}, {}) cannot be longitude/latitude, but the layer is read as {crs}; if they are metres (e.g. EPSG:25832), {advice}",
                format_number(x),
                format_number(y),
            ),
        ));
    }
    Ok(())
}

/// A layer that quartier wrote, or reads back, in longitude/latitude (a plan, an output
/// folder) with its positions in WGS84: in its own CRS, else in `default`. Positions that
/// cannot be degrees in a layer read as degrees are refused with the message of
/// `check_position` (`advice` says how to give the layer its CRS), naming the feature by
/// `id_key`; a layer in another CRS is reprojected.
pub(super) fn into_lonlat(
    layer: &mut Layer,
    default: &str,
    id_key: &str,
    advice: &str,
) -> Result<(), InputError> {
    let own = layer_crs(layer, default)?;
    for feature in &layer.features {
        let Some(geometry) = &feature.geometry else {
            continue;
        };
        let id = feature
            .id_text(id_key)
            .or_else(|| feature.id_text("id"))
            .unwrap_or_else(|| format!("#{}", feature.index));
        for position in geometry.positions() {
            check_position_advised(layer, feature, &id, position, &own, advice)?;
        }
    }
    if !crs::is_lonlat(&own) {
        let mut positions: Vec<&mut [f64; 2]> = layer
            .features
            .iter_mut()
            .filter_map(|f| f.geometry.as_mut())
            .flat_map(|g| g.positions_mut())
            .collect();
        let mut points: Vec<(f64, f64)> = positions.iter().map(|p| (p[0], p[1])).collect();
        reproject(&mut points, &own, crs::LONLAT, &layer.file)?;
        for (position, (x, y)) in positions.iter_mut().zip(points) {
            **position = [x, y];
        }
    }
    Ok(())
}

/// Whether any position of the layer cannot be longitude/latitude.
pub(super) fn beyond_degrees(layer: &Layer) -> bool {
    layer
        .features
        .iter()
        .filter_map(|f| f.geometry.as_ref())
        .flat_map(|g| g.positions())
        .any(|[x, y]| x.abs() > 180.0 || y.abs() > 90.0)
}

pub(super) fn transform(from: &str, to: &str, file: &str) -> Result<Transform, InputError> {
    Transform::new(from, to)
        .map_err(|e| InputError::new(file, format!("cannot transform from {from} to {to}: {e}")))
}

/// Reprojects all positions of a layer, reporting the first that PROJ cannot transform.
pub(super) fn reproject(
    points: &mut [(f64, f64)],
    from: &str,
    to: &str,
    file: &str,
) -> Result<(), InputError> {
    // PROJ transforms one point after another; large layers go in one piece per core, each
    // with its own transformation (a PROJ object is not shared between threads).
    let threads = rayon::current_num_threads().max(1);
    if points.len() >= 200_000 && threads > 1 && from != to {
        let chunk = points.len().div_ceil(threads);
        points
            .par_chunks_mut(chunk)
            .try_for_each(|part| -> Result<(), InputError> {
                transform(from, to, file)?
                    .apply(part)
                    .map_err(|e| InputError::new(file, e))
            })?;
    } else {
        transform(from, to, file)?
            .apply(points)
            .map_err(|e| InputError::new(file, e))?;
    }
    if let Some(bad) = points
        .iter()
        .position(|p| !(p.0.is_finite() && p.1.is_finite()))
    {
        return Err(InputError::new(
            file,
            format!("position {bad} of the layer cannot be transformed from {from} to {to}; check the layer's CRS"),
        ));
    }
    Ok(())
}

pub(super) fn flatten(polygons: &[PolygonRings]) -> Vec<(f64, f64)> {
    polygons
        .iter()
        .flatten()
        .flatten()
        .map(|p| (p[0], p[1]))
        .collect()
}

/// Rebuilds polygons from flattened positions in the same order as `flatten`.
pub(super) fn rebuild(polygons: &[PolygonRings], points: &[(f64, f64)]) -> MultiPolygon<f64> {
    let mut next = points.iter();
    let mut ring_of = |ring: &Vec<[f64; 2]>| -> LineString<f64> {
        LineString(
            ring.iter()
                .filter_map(|_| next.next())
                .map(|&(x, y)| Coord { x, y })
                .collect(),
        )
    };
    MultiPolygon(
        polygons
            .iter()
            .map(|polygon| {
                let mut rings = polygon.iter().map(&mut ring_of);
                let exterior = rings.next().unwrap_or_else(|| LineString(Vec::new()));
                Polygon::new(exterior, rings.collect())
            })
            .collect(),
    )
}

/// How to give a layer of this file's format its CRS.
pub(super) fn crs_advice(file: &str) -> String {
    let lower = file.to_lowercase();
    let set = "set crs = \"EPSG:25832\" in [input] of the scenario";
    if lower.ends_with(".shp") {
        format!("put the Shapefile's .prj next to it (QGIS writes one when it saves the layer with a CRS) or {set}")
    } else if lower.contains(".gpkg") {
        format!("assign the layer its CRS in QGIS and save the GeoPackage again, or {set}")
    } else {
        format!("add a \"crs\" member to the file or {set}")
    }
}
