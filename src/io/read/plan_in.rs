//! Reading a plan to verify: the `sites.geojson` of `solve`, or one a planner edited in QGIS.
//! Only the id, the `places` property and the point are read; everything else may change.

use std::path::Path;

use super::feature::{beyond_degrees, crs_advice, into_lonlat};
use super::file::read_layer;
use super::layer::{Feature, Geom};
use crate::error::InputError;

/// One feature of a plan file.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanEntry {
    pub feature: usize,
    pub id: String,
    /// New places as written (may be fractional or negative: `verify` reports that).
    pub places: f64,
    /// With demand levels: `places_1`, `places_2`, … as written.
    pub levels: Vec<f64>,
    /// The point in WGS84, when the feature has a Point geometry.
    pub lonlat: Option<[f64; 2]>,
}

/// Reads the plan's features; `id_key` is the site id property of the scenario. With
/// `levels` > 0 each feature also needs `places_1` … `places_<levels>`.
///
/// A plan in a CRS of its own (a `crs` member, a `.prj`) is read in it. Without one it is in
/// longitude/latitude, as `quartier solve` writes it, unless its coordinates cannot be
/// degrees: then it is in `scenario_crs` (`[input] crs`, the CRS of the scenario's layers
/// without one), and where that is in degrees too, the message says to set it.
pub fn read_plan(
    path: &Path,
    id_key: &str,
    levels: usize,
    scenario_crs: &str,
) -> Result<Vec<PlanEntry>, InputError> {
    let mut layer = read_layer(path)?;
    let default = if beyond_degrees(&layer) {
        scenario_crs
    } else {
        "EPSG:4326"
    };
    let advice = crs_advice(&layer.file);
    into_lonlat(&mut layer, default, id_key, &advice)?;
    let mut entries = Vec::with_capacity(layer.features.len());
    for feature in &layer.features {
        let id = feature
            .id_text(id_key)
            .or_else(|| feature.id_text("id"))
            .ok_or_else(|| {
                InputError::new(
                    &layer.file,
                    format!(
                        "{}: property \"{id_key}\" is missing; the plan needs the site ids",
                        feature.label(None)
                    ),
                )
            })?;
        let mut by_level = Vec::with_capacity(levels);
        for level in 1..=levels {
            let key = format!("places_{level}");
            let value = feature
                .number(&key)
                .map_err(|m| {
                    InputError::new(&layer.file, format!("{}: {m}", feature.label(Some(&id))))
                })?
                .ok_or_else(|| {
                    InputError::new(
                        &layer.file,
                        format!(
                            "{}: property \"{key}\" is missing; the scenario has {levels} demand levels, so the plan needs places_1 … places_{levels} (the sites.geojson that quartier solve writes for it has them)",
                            feature.label(Some(&id))
                        ),
                    )
                })?;
            by_level.push(value);
        }
        let places = feature
            .number("places")
            .map_err(|m| {
                InputError::new(&layer.file, format!("{}: {m}", feature.label(Some(&id))))
            })?
            .or(by_level.last().copied())
            .ok_or_else(|| {
                InputError::new(
                    &layer.file,
                    format!(
                        "{}: property \"places\" is missing; it holds the new places of the site",
                        feature.label(Some(&id))
                    ),
                )
            })?;
        entries.push(PlanEntry {
            feature: feature.index,
            id,
            places,
            levels: by_level,
            lonlat: point_of(feature),
        });
    }
    Ok(entries)
}

fn point_of(feature: &Feature) -> Option<[f64; 2]> {
    match feature.geometry.as_ref()? {
        Geom::Point(p) => Some(*p),
        _ => None,
    }
}
