//! Point layers (candidate sites and facilities): each feature read straight into a site or
//! a facility on every core, its properties checked, footprints kept aside until their
//! interior point is taken after reprojection.

use std::collections::HashMap;

use geo::InteriorPoint;
use rayon::prelude::*;

use super::feature::{
    check_polygons, check_position, check_unique, feature_error, feature_id, flatten, layer_crs,
    place, rebuild, reproject,
};
use super::file::read_layer_map;
use super::layer::{Feature, Geom, Layer, PolygonRings};
use crate::error::{InputError, Warning};
use crate::model::{Facility, Site, SiteStatus};
use crate::progress::Progress;
use crate::scenario::Scenario;

/// Point features (sites, facilities) of a layer in its own CRS, with the properties
/// already checked. Each item's `position` holds its point; features given as footprints
/// (polygons) are kept aside, and their interior point is taken after reprojection. A
/// million sites are read straight into this, on every core.
pub(super) struct RawPoints<T> {
    file: String,
    crs: String,
    items: Vec<T>,
    /// Index of the item and its polygons, in file order.
    footprints: Vec<(usize, Vec<PolygonRings>)>,
}

/// Items with a position, replaced when the layer is reprojected.
trait Positioned {
    fn position(&self) -> [f64; 2];
    fn set_position(&mut self, position: [f64; 2]);
}

impl Positioned for Site {
    fn position(&self) -> [f64; 2] {
        self.position
    }
    fn set_position(&mut self, position: [f64; 2]) {
        self.position = position;
    }
}

impl Positioned for Facility {
    fn position(&self) -> [f64; 2] {
        self.position
    }
    fn set_position(&mut self, position: [f64; 2]) {
        self.position = position;
    }
}

enum Shape {
    Point([f64; 2]),
    Polygons(Vec<PolygonRings>),
}

/// What the features of a point layer are read with: the layer (for messages), its CRS, and
/// what the cores find on the side (rare: footprints and warnings), by feature index.
struct PointContext {
    layer: Layer,
    crs: String,
    footprints: std::sync::Mutex<Vec<(usize, Vec<PolygonRings>)>>,
    warnings: std::sync::Mutex<Vec<(usize, Warning)>>,
}

impl PointContext {
    fn of(layer: &Layer, default_crs: &str) -> Result<PointContext, InputError> {
        Ok(PointContext {
            crs: layer_crs(layer, default_crs)?,
            layer: Layer {
                file: layer.file.clone(),
                crs: layer.crs.clone(),
                features: Vec::new(),
                warnings: Vec::new(),
            },
            footprints: Default::default(),
            warnings: Default::default(),
        })
    }

    /// The point of the feature's shape; a footprint is kept aside (the point returned is
    /// a corner of it, replaced by its interior point after reprojection).
    fn point_of(&self, feature: &Feature, shape: Shape) -> [f64; 2] {
        match shape {
            Shape::Point(p) => p,
            Shape::Polygons(polygons) => {
                let corner = Shape::corner(&polygons);
                lock(&self.footprints).push((feature.index, polygons));
                corner
            }
        }
    }

    /// The items read, in file order, with what was found on the side.
    fn finish<T>(self, items: Vec<T>) -> (RawPoints<T>, Vec<Warning>) {
        let mut footprints = self
            .footprints
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        footprints.sort_unstable_by_key(|(index, _)| *index);
        let mut warnings = self
            .warnings
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        warnings.sort_by_key(|(index, _)| *index);
        let raw = RawPoints {
            file: self.layer.file,
            crs: self.crs,
            items,
            footprints,
        };
        (raw, warnings.into_iter().map(|(_, w)| w).collect())
    }
}

/// The list behind a mutex, also when another core panicked while holding it.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn point_shape(layer: &Layer, feature: &Feature, id: &str, crs: &str) -> Result<Shape, InputError> {
    let shape = match &feature.geometry {
        Some(Geom::Point(p)) => {
            check_position(layer, feature, id, *p, crs)?;
            Shape::Point(*p)
        }
        Some(Geom::MultiPoint(points)) if points.len() == 1 => {
            check_position(layer, feature, id, points[0], crs)?;
            Shape::Point(points[0])
        }
        Some(Geom::Polygon(rings)) => {
            let polygons = vec![rings.clone()];
            check_polygons(layer, feature, id, &polygons, crs)?;
            Shape::Polygons(polygons)
        }
        Some(Geom::MultiPolygon(polygons)) => {
            check_polygons(layer, feature, id, polygons, crs)?;
            Shape::Polygons(polygons.clone())
        }
        _ => {
            return Err(feature_error(
                layer,
                feature,
                Some(id),
                format!(
                "geometry must be a Point (or a Polygon, whose interior point is used), found {}",
                feature.geometry_type()
            ),
            ))
        }
    };
    Ok(shape)
}

impl Shape {
    /// A position to name the feature's place in messages.
    fn place(&self) -> [f64; 2] {
        match self {
            Shape::Point(p) => *p,
            Shape::Polygons(polygons) => Shape::corner(polygons),
        }
    }

    /// The first corner of a footprint.
    fn corner(polygons: &[PolygonRings]) -> [f64; 2] {
        polygons
            .first()
            .and_then(|p| p.first())
            .and_then(|r| r.first())
            .copied()
            .unwrap_or([0.0, 0.0])
    }
}

/// The site layer, read feature by feature straight into sites (a million sites never exist
/// as generic features), with the warnings about sites whose data contradict themselves.
pub(super) fn read_sites(
    scenario: &Scenario,
    default_crs: &str,
    progress: &dyn Progress,
    keys: &[String],
    warnings: &mut Vec<Warning>,
) -> Result<RawPoints<Site>, InputError> {
    let fields = &scenario.site_fields;
    let (layer, context, sites) = read_layer_map(
        &scenario.sites,
        progress,
        Some(keys),
        &|layer| PointContext::of(layer, default_crs),
        &|context, mut feature| {
            let id = match feature.take_id_text(&fields.id) {
                Some(id) => id,
                None => feature_id(&context.layer, &feature, &fields.id)?,
            };
            read_site(context, &feature, id, fields)
        },
    )?;
    check_unique(&context.layer.file, sites.len(), |i| sites[i].id.as_str())?;
    let (raw, said) = context.finish(sites);
    warnings.extend(layer.warnings);
    warnings.extend(said);
    Ok(raw)
}

/// One site (its position still in the layer's CRS); a warning when its data contradict
/// themselves goes to the context.
fn read_site(
    context: &PointContext,
    feature: &Feature,
    id: String,
    fields: &crate::scenario::SiteFields,
) -> Result<Site, InputError> {
    let (layer, crs) = (&context.layer, context.crs.as_str());
    let fail = |m: String| feature_error(layer, feature, Some(&id), m);
    let capacity = feature
        .count(&fields.capacity)
        .map_err(fail)?
        .ok_or_else(|| fail(format!("property \"{}\" is missing", fields.capacity)))?;
    // The usual spellings without an allocation per site; others through SiteStatus::parse.
    let known = feature.text_ref(&fields.status).and_then(|text| {
        [
            SiteStatus::Candidate,
            SiteStatus::Existing,
            SiteStatus::Excluded,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    });
    let status = match known.map_or_else(|| feature.text(&fields.status), |_| None) {
        None => known.unwrap_or(SiteStatus::Candidate),
        Some(text) => SiteStatus::parse(&text).ok_or_else(|| {
            fail(format!(
                "property \"{}\" must be candidate, existing or excluded, found \"{text}\"",
                fields.status
            ))
        })?,
    };
    let occupied = feature.count(&fields.occupied).map_err(fail)?.unwrap_or(0);
    let min_places = feature
        .count(&fields.min_places)
        .map_err(fail)?
        .unwrap_or(0);
    let cost = feature.number(&fields.cost).map_err(fail)?;
    let shape = point_shape(layer, feature, &id, crs)?;
    let said = |message: String| {
        Some(Warning::new(
            &layer.file,
            format!(
                "{} at {}: {message}",
                feature.label(Some(&id)),
                place(shape.place(), crs)
            ),
        ))
    };
    let warning = if status == SiteStatus::Existing && occupied > capacity {
        said(format!(
            "{occupied} places are occupied, more than the capacity of {capacity}; the site gets no new places and its {occupied} occupied places count as they are: check \"{}\" and \"{}\"",
            fields.capacity, fields.occupied
        ))
    } else if status == SiteStatus::Candidate && occupied > 0 {
        said(format!(
            "a candidate with {occupied} occupied places; they are not counted: if people live there, set \"{}\" to existing",
            fields.status
        ))
    } else if min_places > capacity && status != SiteStatus::Excluded {
        said(format!(
            "the minimum of {min_places} new places (\"{}\") is above the capacity of {capacity}; the site can never be used",
            fields.min_places
        ))
    } else {
        None
    };
    if let Some(warning) = warning {
        lock(&context.warnings).push((feature.index, warning));
    }
    Ok(Site {
        id,
        position: context.point_of(feature, shape),
        capacity,
        status,
        // Occupied places belong to accommodation in use.
        occupied: if status == SiteStatus::Existing {
            occupied
        } else {
            0
        },
        min_places,
        cost,
    })
}

pub(super) fn read_facilities(
    layer: &Layer,
    scenario: &Scenario,
    default_crs: &str,
) -> Result<RawPoints<Facility>, InputError> {
    let fields = &scenario.facility_fields;
    let context = PointContext::of(layer, default_crs)?;
    let mut items = Vec::with_capacity(layer.features.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for feature in &layer.features {
        // Facility ids only serve messages; features without one are named by their index.
        let id = feature
            .id_text(&fields.id)
            .unwrap_or_else(|| format!("#{}", feature.index));
        if let Some(first) = seen.insert(id.clone(), feature.index) {
            return Err(InputError::new(
                &layer.file,
                format!(
                    "duplicate id \"{id}\" (features {first} and {})",
                    feature.index
                ),
            ));
        }
        let seats = feature
            .non_negative(&fields.seats)
            .map_err(|m| feature_error(layer, feature, Some(&id), m))?;
        let shape = point_shape(layer, feature, &id, &context.crs)?;
        items.push(Facility {
            id,
            position: context.point_of(feature, shape),
            seats,
        });
    }
    Ok(context.finish(items).0)
}

/// Reprojects the items' positions into the metric CRS, in place; footprints get their
/// interior point, taken in the metric CRS so that it lies inside the footprint as built.
/// Returns the metric positions.
fn project_points<T: Positioned + Send>(
    raw: &mut RawPoints<T>,
    metric: &str,
) -> Result<Vec<(f64, f64)>, InputError> {
    let mut points: Vec<(f64, f64)> = raw
        .items
        .iter()
        .map(|item| {
            let [x, y] = item.position();
            (x, y)
        })
        .collect();
    reproject(&mut points, &raw.crs, metric, &raw.file)?;
    for (index, list) in &raw.footprints {
        let mut flat = flatten(list);
        reproject(&mut flat, &raw.crs, metric, &raw.file)?;
        let interior = rebuild(list, &flat).interior_point().ok_or_else(|| {
            InputError::new(&raw.file, format!("feature {index}: the polygon is empty"))
        })?;
        points[*index] = (interior.x(), interior.y());
    }
    raw.items
        .par_iter_mut()
        .zip(&points)
        .for_each(|(item, &(x, y))| item.set_position([x, y]));
    Ok(points)
}

/// Sites with their metric positions (WGS84 is left to the output, which shows a few
/// thousand of a million).
pub(super) fn project_sites(
    mut raw: RawPoints<Site>,
    metric: &str,
) -> Result<Vec<Site>, InputError> {
    project_points(&mut raw, metric)?;
    Ok(raw.items)
}

pub(super) fn project_facilities(
    mut raw: RawPoints<Facility>,
    metric: &str,
) -> Result<Vec<Facility>, InputError> {
    project_points(&mut raw, metric)?;
    Ok(raw.items)
}
