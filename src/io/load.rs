//! Loading a scenario: the TOML file, then each GeoJSON layer, interpreted with the field
//! names of `[fields]` and reprojected into the metric CRS (for distances) and WGS84 (for
//! output).

use std::collections::HashMap;
use std::path::Path;

use geo::{Coord, InteriorPoint, LineString, MultiPolygon, Polygon};
use geojson::{Geometry, GeometryValue, PolygonType};

use super::crs::{self, Transform, LONLAT};
use super::geojson_in::{format_number, parse_layer_with, Feature, Layer};
use crate::error::{Error, InputError};
use crate::model::{District, Facility, FacilityLayer, Instance, Site, SiteStatus};
use crate::progress::{Progress, Silent};
use crate::scenario::Scenario;

/// Reads and validates the scenario file.
pub fn read_scenario(path: &Path) -> Result<Scenario, Error> {
    let text = read_text(path)?;
    Ok(Scenario::parse(&text, path)?)
}

/// Reads a text file; a missing or unreadable input is bad input (exit code 2).
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::NotFound => "file not found".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        InputError::new(&shown, reason)
    })?;
    if std::fs::metadata(path).map(|m| m.is_dir()).unwrap_or(false) {
        return Err(InputError::new(&shown, "is a folder, not a file"));
    }
    String::from_utf8(bytes).map_err(|e| {
        InputError::new(
            &shown,
            format!(
                "not UTF-8 text (byte {} is invalid); save the file as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Reads a GeoJSON layer file.
pub fn read_layer(path: &Path) -> Result<Layer, InputError> {
    read_layer_with(path, &Silent)
}

/// As `read_layer`, reporting the features parsed to `progress`.
pub fn read_layer_with(path: &Path, progress: &dyn Progress) -> Result<Layer, InputError> {
    let name = path.file_name().unwrap_or(path.as_os_str());
    progress.start(&format!("reading {}", name.to_string_lossy()), None);
    let text = read_text(path)?;
    let layer = parse_layer_with(&text, &path.display().to_string(), progress)?;
    if layer.features.is_empty() {
        return Err(InputError::new(
            path.display(),
            "the layer has no features; expected at least one",
        ));
    }
    Ok(layer)
}

/// Loads every layer of the scenario into an `Instance` with metric positions.
pub fn load_instance(scenario: &Scenario) -> Result<Instance, Error> {
    load_instance_with(scenario, &Silent)
}

/// As `load_instance`, reporting the features read to `progress`.
pub fn load_instance_with(scenario: &Scenario, progress: &dyn Progress) -> Result<Instance, Error> {
    let default_crs = crs::normalise_crs_name(&scenario.crs);
    crs::check_known(&default_crs).map_err(|e| {
        InputError::new(
            scenario.file.display(),
            format!("unknown CRS \"{}\" in [input] crs: {e}", scenario.crs),
        )
    })?;

    let district_layer = read_layer_with(&scenario.districts, progress)?;
    let site_layer = read_layer_with(&scenario.sites, progress)?;
    let facility_layers = scenario
        .facilities
        .iter()
        .map(|(kind, path)| Ok((kind.clone(), read_layer_with(path, progress)?)))
        .collect::<Result<Vec<_>, InputError>>()?;

    let layer_crs = |layer: &Layer| -> Result<String, InputError> {
        let name = layer.crs.clone().unwrap_or_else(|| default_crs.clone());
        if layer.crs.is_some() {
            crs::check_known(&name).map_err(|e| {
                InputError::new(
                    &layer.file,
                    format!("unknown CRS \"{name}\" in the \"crs\" member: {e}"),
                )
            })?;
        }
        Ok(name)
    };

    let districts_raw = read_districts(&district_layer, scenario, &layer_crs(&district_layer)?)?;
    let sites_raw = read_sites(&site_layer, scenario, &layer_crs(&site_layer)?)?;
    let mut facilities_raw = Vec::new();
    for (kind, layer) in &facility_layers {
        facilities_raw.push((
            kind.clone(),
            read_facilities(layer, scenario, &layer_crs(layer)?)?,
        ));
    }

    let metric = match &scenario.metric_crs {
        Some(name) => {
            let name = crs::normalise_crs_name(name);
            crs::check_known(&name).map_err(|e| {
                InputError::new(
                    scenario.file.display(),
                    format!("unknown CRS \"{name}\" in [input] metric_crs: {e}"),
                )
            })?;
            if crs::is_lonlat(&name) {
                return Err(InputError::new(
                    scenario.file.display(),
                    format!("[input] metric_crs \"{name}\" is in degrees; distances need a projected CRS in metres such as EPSG:25832"),
                )
                .into());
            }
            name
        }
        None => utm_of(&districts_raw)?,
    };

    progress.start("reprojecting", None);
    let districts = project_districts(districts_raw, &metric)?;
    let sites = project_sites(sites_raw, &metric)?;
    let facilities = facilities_raw
        .into_iter()
        .map(|(kind, raw)| {
            Ok(FacilityLayer {
                kind,
                facilities: project_facilities(raw, &metric)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;

    let total_weight: f64 = districts.iter().map(|d| d.weight).sum();
    if total_weight <= 0.0 {
        return Err(InputError::new(
            scenario.districts.display(),
            format!(
                "the weights (property \"{}\") add up to 0; the fair share of each district needs a positive total",
                scenario.district_fields.weight
            ),
        )
        .into());
    }

    Ok(Instance {
        name: scenario.name.clone(),
        districts,
        sites,
        facilities,
        demand: scenario.demand,
        levels: scenario.levels.clone(),
        rules: scenario.rules.clone(),
        stages: scenario.stages.clone(),
        objective: scenario.objective.clone(),
        solver: scenario.solver.clone(),
    })
}

/// A layer's features in its own CRS, with the properties already checked.
struct RawLayerData<T> {
    file: String,
    crs: String,
    items: Vec<T>,
}

struct RawDistrict {
    district: District,
    polygons: Vec<PolygonType>,
}

struct RawPoint<T> {
    item: T,
    /// Point, or polygons whose interior point is used.
    shape: Shape,
}

enum Shape {
    Point([f64; 2]),
    Polygons(Vec<PolygonType>),
}

fn feature_error(
    layer: &Layer,
    feature: &Feature,
    id: Option<&str>,
    message: String,
) -> InputError {
    InputError::new(&layer.file, format!("{}: {message}", feature.label(id)))
}

/// Ids must be present and unique per layer.
fn unique_ids(layer: &Layer, key: &str) -> Result<Vec<String>, InputError> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(layer.features.len());
    let ids = layer
        .features
        .iter()
        .map(|f| {
            f.id_text(key).ok_or_else(|| {
                feature_error(
                    layer,
                    f,
                    None,
                    format!(
                        "property \"{key}\" is missing; every feature needs an id (text or number)"
                    ),
                )
            })
        })
        .collect::<Result<Vec<String>, InputError>>()?;
    for (index, id) in ids.iter().enumerate() {
        if let Some(first) = seen.insert(id.as_str(), index) {
            return Err(InputError::new(
                &layer.file,
                format!("duplicate id \"{id}\" (features {first} and {index})"),
            ));
        }
    }
    Ok(ids)
}

fn required(
    layer: &Layer,
    feature: &Feature,
    id: &str,
    key: &str,
    value: Result<Option<f64>, String>,
) -> Result<f64, InputError> {
    value
        .map_err(|m| feature_error(layer, feature, Some(id), m))?
        .ok_or_else(|| {
            feature_error(
                layer,
                feature,
                Some(id),
                format!("property \"{key}\" is missing"),
            )
        })
}

fn read_districts(
    layer: &Layer,
    scenario: &Scenario,
    crs: &str,
) -> Result<RawLayerData<RawDistrict>, InputError> {
    let fields = &scenario.district_fields;
    let ids = unique_ids(layer, &fields.id)?;
    let mut items = Vec::with_capacity(layer.features.len());
    for (feature, id) in layer.features.iter().zip(ids) {
        let population = required(
            layer,
            feature,
            &id,
            &fields.population,
            feature.non_negative(&fields.population),
        )?;
        let weight = if fields.weight == fields.population {
            population
        } else {
            required(
                layer,
                feature,
                &id,
                &fields.weight,
                feature.non_negative(&fields.weight),
            )?
        };
        let existing = feature
            .non_negative(&fields.existing)
            .map_err(|m| feature_error(layer, feature, Some(&id), m))?
            .unwrap_or(0.0);
        let polygons = match feature.geometry.as_ref().map(|g| &g.value) {
            Some(GeometryValue::Polygon { coordinates }) => vec![coordinates.clone()],
            Some(GeometryValue::MultiPolygon { coordinates }) => coordinates.clone(),
            _ => {
                return Err(feature_error(
                    layer,
                    feature,
                    Some(&id),
                    format!(
                        "geometry must be a Polygon or MultiPolygon, found {}",
                        feature.geometry_type()
                    ),
                ))
            }
        };
        check_polygons(layer, feature, &id, &polygons, crs)?;
        let name = feature.text(&fields.name).unwrap_or_else(|| id.clone());
        items.push(RawDistrict {
            district: District {
                id,
                name,
                population,
                weight,
                existing,
                area: MultiPolygon(Vec::new()),
                area_lonlat: MultiPolygon(Vec::new()),
            },
            polygons,
        });
    }
    Ok(RawLayerData {
        file: layer.file.clone(),
        crs: crs.to_string(),
        items,
    })
}

fn check_polygons(
    layer: &Layer,
    feature: &Feature,
    id: &str,
    polygons: &[PolygonType],
    crs: &str,
) -> Result<(), InputError> {
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
                check_position(layer, feature, id, position.as_slice(), crs)?;
            }
        }
    }
    Ok(())
}

fn check_position(
    layer: &Layer,
    feature: &Feature,
    id: &str,
    position: &[f64],
    crs: &str,
) -> Result<(), InputError> {
    let (x, y) = (position[0], position[1]);
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
                "coordinates ({}, {}) cannot be longitude/latitude, but the layer is read as {crs}; if they are metres (e.g. EPSG:25832), add a \"crs\" member to the file or set crs = \"EPSG:25832\" in [input] of the scenario",
                format_number(x),
                format_number(y)
            ),
        ));
    }
    Ok(())
}

fn point_shape(layer: &Layer, feature: &Feature, id: &str, crs: &str) -> Result<Shape, InputError> {
    let geometry: Option<&Geometry> = feature.geometry.as_ref();
    let shape = match geometry.map(|g| &g.value) {
        Some(GeometryValue::Point { coordinates }) => {
            check_position(layer, feature, id, coordinates.as_slice(), crs)?;
            Shape::Point([coordinates[0], coordinates[1]])
        }
        Some(GeometryValue::MultiPoint { coordinates }) if coordinates.len() == 1 => {
            check_position(layer, feature, id, coordinates[0].as_slice(), crs)?;
            Shape::Point([coordinates[0][0], coordinates[0][1]])
        }
        Some(GeometryValue::Polygon { coordinates }) => {
            let polygons = vec![coordinates.clone()];
            check_polygons(layer, feature, id, &polygons, crs)?;
            Shape::Polygons(polygons)
        }
        Some(GeometryValue::MultiPolygon { coordinates }) => {
            check_polygons(layer, feature, id, coordinates, crs)?;
            Shape::Polygons(coordinates.clone())
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

fn read_sites(
    layer: &Layer,
    scenario: &Scenario,
    crs: &str,
) -> Result<RawLayerData<RawPoint<Site>>, InputError> {
    let fields = &scenario.site_fields;
    let ids = unique_ids(layer, &fields.id)?;
    let mut items = Vec::with_capacity(layer.features.len());
    for (feature, id) in layer.features.iter().zip(ids) {
        let fail = |m: String| feature_error(layer, feature, Some(&id), m);
        let capacity = feature
            .count(&fields.capacity)
            .map_err(fail)?
            .ok_or_else(|| fail(format!("property \"{}\" is missing", fields.capacity)))?;
        let status = match feature.text(&fields.status) {
            None => SiteStatus::Candidate,
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
        items.push(RawPoint {
            item: Site {
                id,
                position: [0.0; 2],
                lonlat: [0.0; 2],
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
            },
            shape,
        });
    }
    Ok(RawLayerData {
        file: layer.file.clone(),
        crs: crs.to_string(),
        items,
    })
}

fn read_facilities(
    layer: &Layer,
    scenario: &Scenario,
    crs: &str,
) -> Result<RawLayerData<RawPoint<Facility>>, InputError> {
    let fields = &scenario.facility_fields;
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
        let shape = point_shape(layer, feature, &id, crs)?;
        items.push(RawPoint {
            item: Facility {
                id,
                position: [0.0; 2],
                seats,
            },
            shape,
        });
    }
    Ok(RawLayerData {
        file: layer.file.clone(),
        crs: crs.to_string(),
        items,
    })
}

fn transform(from: &str, to: &str, file: &str) -> Result<Transform, InputError> {
    Transform::new(from, to)
        .map_err(|e| InputError::new(file, format!("cannot transform from {from} to {to}: {e}")))
}

/// The UTM zone at the centre of the districts' bounding box.
fn utm_of(districts: &RawLayerData<RawDistrict>) -> Result<String, InputError> {
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for raw in &districts.items {
        for ring in raw.polygons.iter().filter_map(|p| p.first()) {
            for position in ring {
                min_x = min_x.min(position[0]);
                max_x = max_x.max(position[0]);
                min_y = min_y.min(position[1]);
                max_y = max_y.max(position[1]);
            }
        }
    }
    let mut centre = [((min_x + max_x) / 2.0, (min_y + max_y) / 2.0)];
    transform(&districts.crs, LONLAT, &districts.file)?
        .apply(&mut centre)
        .map_err(|e| InputError::new(&districts.file, e))?;
    let (lon, lat) = centre[0];
    if !(lon.is_finite() && lat.is_finite()) {
        return Err(InputError::new(
            &districts.file,
            format!(
                "cannot find the UTM zone of the districts from {}; set metric_crs in [input]",
                districts.crs
            ),
        ));
    }
    Ok(crs::utm_for(lon, lat))
}

/// Reprojects all positions of a layer, reporting the first that PROJ cannot transform.
fn reproject(
    points: &mut [(f64, f64)],
    from: &str,
    to: &str,
    file: &str,
) -> Result<(), InputError> {
    transform(from, to, file)?
        .apply(points)
        .map_err(|e| InputError::new(file, e))?;
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

fn flatten(polygons: &[PolygonType]) -> Vec<(f64, f64)> {
    polygons
        .iter()
        .flatten()
        .flatten()
        .map(|p| (p[0], p[1]))
        .collect()
}

/// Rebuilds polygons from flattened positions in the same order as `flatten`.
fn rebuild(polygons: &[PolygonType], points: &[(f64, f64)]) -> MultiPolygon<f64> {
    let mut next = points.iter();
    let mut ring_of = |ring: &Vec<geojson::Position>| -> LineString<f64> {
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

fn project_districts(
    raw: RawLayerData<RawDistrict>,
    metric: &str,
) -> Result<Vec<District>, InputError> {
    let originals: Vec<(f64, f64)> = raw
        .items
        .iter()
        .flat_map(|d| flatten(&d.polygons))
        .collect();
    let mut in_metric = originals.clone();
    reproject(&mut in_metric, &raw.crs, metric, &raw.file)?;
    let mut in_lonlat = originals;
    reproject(&mut in_lonlat, &raw.crs, LONLAT, &raw.file)?;
    let mut start = 0;
    Ok(raw
        .items
        .into_iter()
        .map(|item| {
            let count = item.polygons.iter().flatten().map(Vec::len).sum::<usize>();
            let range = start..start + count;
            start += count;
            District {
                area: rebuild(&item.polygons, &in_metric[range.clone()]),
                area_lonlat: rebuild(&item.polygons, &in_lonlat[range]),
                ..item.district
            }
        })
        .collect())
}

/// Positions in the metric CRS and in WGS84 longitude/latitude.
type MetricAndLonLat = (Vec<[f64; 2]>, Vec<[f64; 2]>);

/// Metric and lon/lat positions of point features (polygons by their interior point, taken
/// in the metric CRS so that it lies inside the footprint as built).
fn project_points<T>(
    raw: &RawLayerData<RawPoint<T>>,
    metric: &str,
) -> Result<MetricAndLonLat, InputError> {
    let mut points: Vec<(f64, f64)> = vec![(0.0, 0.0); raw.items.len()];
    let mut plain: Vec<usize> = Vec::with_capacity(raw.items.len());
    let mut plain_points: Vec<(f64, f64)> = Vec::with_capacity(raw.items.len());
    for (index, item) in raw.items.iter().enumerate() {
        if let Shape::Point(p) = &item.shape {
            plain.push(index);
            plain_points.push((p[0], p[1]));
        }
    }
    reproject(&mut plain_points, &raw.crs, metric, &raw.file)?;
    for (&index, &point) in plain.iter().zip(&plain_points) {
        points[index] = point;
    }
    for (index, item) in raw.items.iter().enumerate() {
        let Shape::Polygons(list) = &item.shape else {
            continue;
        };
        let mut flat = flatten(list);
        reproject(&mut flat, &raw.crs, metric, &raw.file)?;
        let interior = rebuild(list, &flat).interior_point().ok_or_else(|| {
            InputError::new(&raw.file, format!("feature {index}: the polygon is empty"))
        })?;
        points[index] = (interior.x(), interior.y());
    }
    let metric_points: Vec<[f64; 2]> = points.iter().map(|&(x, y)| [x, y]).collect();
    reproject(&mut points, metric, LONLAT, &raw.file)?;
    let lonlat: Vec<[f64; 2]> = points.iter().map(|&(x, y)| [x, y]).collect();
    Ok((metric_points, lonlat))
}

fn project_sites(raw: RawLayerData<RawPoint<Site>>, metric: &str) -> Result<Vec<Site>, InputError> {
    let (positions, lonlats) = project_points(&raw, metric)?;
    Ok(raw
        .items
        .into_iter()
        .zip(positions.into_iter().zip(lonlats))
        .map(|(raw, (position, lonlat))| Site {
            position,
            lonlat,
            ..raw.item
        })
        .collect())
}

fn project_facilities(
    raw: RawLayerData<RawPoint<Facility>>,
    metric: &str,
) -> Result<Vec<Facility>, InputError> {
    let (positions, _) = project_points(&raw, metric)?;
    Ok(raw
        .items
        .into_iter()
        .zip(positions)
        .map(|(raw, position)| Facility {
            position,
            ..raw.item
        })
        .collect())
}
