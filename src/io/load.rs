//! Loading a scenario: the TOML file, then each layer (GeoJSON, GeoPackage or Shapefile) and
//! the statistics table, interpreted with the field names of `[fields]` and the expressions
//! of the scenario, and reprojected into the metric CRS (for distances) and WGS84 (for
//! output). Input that contradicts itself is said: an error where no meaningful plan can
//! follow, a warning (returned beside the instance) where one can.

use std::path::Path;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;

use super::crs::{self, Transform};
use super::districts::{project_districts, read_districts, utm_of};
use super::geojson_in::{
    first_error, format_number, parse_layer_map, Feature, Layer, PolygonRings,
};
use super::points::{project_facilities, project_sites, read_facilities, read_sites};
use super::statistics::Table;
use crate::error::{Error, InputError, Warning};
use crate::model::{FacilityLayer, Instance, Stage};
use crate::progress::{Progress, Silent};
use crate::scenario::Scenario;

/// Reads and validates the scenario file.
pub fn read_scenario(path: &Path) -> Result<Scenario, Error> {
    let text = read_text(path)?;
    Ok(Scenario::parse(&text, path)?)
}

/// Reads a file's bytes; a missing or unreadable input is bad input (exit code 2).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, InputError> {
    let shown = path.display().to_string();
    if std::fs::metadata(path).map(|m| m.is_dir()).unwrap_or(false) {
        return Err(InputError::new(&shown, "is a folder, not a file"));
    }
    std::fs::read(path).map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::NotFound => "file not found".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        InputError::new(&shown, reason)
    })
}

/// Reads a UTF-8 text file; a byte-order mark at the start is dropped.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let shown = path.display().to_string();
    let bytes = read_bytes(path)?;
    let mut text = String::from_utf8(bytes).map_err(|e| {
        InputError::new(
            &shown,
            format!(
                "not UTF-8 text (byte {} is invalid); save the file as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// A layer file mapped into memory: a million sites are 175 MB of GeoJSON, and reading them
/// into a buffer costs a copy and as much fresh memory as the file (the kernel clears each
/// page first); the mapping reads the page cache directly.
enum MappedFile {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for MappedFile {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            MappedFile::Mapped(map) => map,
            MappedFile::Read(bytes) => bytes,
        }
    }
}

impl MappedFile {
    fn open(path: &Path) -> Result<MappedFile, InputError> {
        let shown = path.display().to_string();
        let file = match std::fs::File::open(path) {
            Ok(file) if file.metadata().is_ok_and(|m| m.is_file() && m.len() > 0) => file,
            // Folders, empty files and files that cannot be opened get the messages of
            // `read_bytes`.
            _ => return read_bytes(path).map(MappedFile::Read),
        };
        // SAFETY: the mapping is read-only and lives while the layer is parsed; quartier
        // never writes its input files. Should another program shorten the file meanwhile,
        // reading may fail, as reading a file being rewritten does anyway.
        match unsafe { memmap2::Mmap::map(&file) } {
            Ok(map) => Ok(MappedFile::Mapped(map)),
            Err(_) => std::fs::read(path)
                .map(MappedFile::Read)
                .map_err(|e| InputError::new(&shown, e.to_string())),
        }
    }
}

/// The bytes as UTF-8 text without a byte-order mark; the error names the invalid byte.
fn utf8<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a str, InputError> {
    let text = match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => {
            let valid_up_to = std::str::from_utf8(bytes).map_or_else(|e| e.valid_up_to(), |_| 0);
            return Err(InputError::new(
                path.display(),
                format!("not UTF-8 text (byte {valid_up_to} is invalid); save the file as UTF-8"),
            ));
        }
    };
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// Reads a layer file with all its properties.
pub fn read_layer(path: &Path) -> Result<Layer, InputError> {
    read_layer_with(path, &Silent, None)
}

/// Reads a layer (GeoJSON; GeoPackage `file.gpkg` or `file.gpkg#layer`; Shapefile `.shp`),
/// reporting the features parsed to `progress` and keeping only the properties in `wanted`
/// (all when `None`).
pub fn read_layer_with(
    path: &Path,
    progress: &dyn Progress,
    wanted: Option<&[String]>,
) -> Result<Layer, InputError> {
    let (layer, _, features) = read_layer_map(path, progress, wanted, &|_| Ok(()), &|_, f| Ok(f))?;
    Ok(Layer { features, ..layer })
}

/// As `read_layer_with`, turning each feature into an item with `map` as soon as it is read
/// (see `geojson_in::parse_layer_map`): the returned layer has no features of its own; the
/// context `prepare` made for `map` comes with the items.
pub fn read_layer_map<C: Sync, T: Send>(
    path: &Path,
    progress: &dyn Progress,
    wanted: Option<&[String]>,
    prepare: &dyn Fn(&Layer) -> Result<C, InputError>,
    map: &(dyn Fn(&C, Feature) -> Result<T, InputError> + Sync),
) -> Result<(Layer, C, Vec<T>), InputError> {
    let name = path.file_name().unwrap_or(path.as_os_str());
    progress.start(&format!("reading {}", name.to_string_lossy()), None);
    let whole = |mut layer: Layer| -> Result<(Layer, C, Vec<T>), InputError> {
        let context = prepare(&layer)?;
        let features = std::mem::take(&mut layer.features);
        let items = features
            .into_iter()
            .map(|feature| map(&context, feature))
            .collect::<Result<Vec<T>, InputError>>()?;
        Ok((layer, context, items))
    };
    let (layer, context, items) = match super::gpkg::split_layer(path) {
        Some((file, layer_name)) => {
            whole(super::gpkg::read(&file, layer_name.as_deref(), wanted)?)?
        }
        None if has_extension(path, "shp") => whole(super::shp::read(path, wanted)?)?,
        None => {
            let bytes = MappedFile::open(path)?;
            let text = utf8(&bytes, path)?;
            parse_layer_map(
                text,
                &path.display().to_string(),
                progress,
                wanted,
                prepare,
                map,
            )?
        }
    };
    if items.is_empty() {
        return Err(InputError::new(
            &layer.file,
            "the layer has no features; expected at least one",
        ));
    }
    Ok((layer, context, items))
}

pub(crate) fn has_extension(path: &Path, extension: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case(extension))
}

/// Loads every layer of the scenario into an `Instance` with metric positions.
pub fn load_instance(scenario: &Scenario) -> Result<Instance, Error> {
    load_instance_with(scenario, &Silent)
}

/// As `load_instance`, reporting the features read to `progress`.
pub fn load_instance_with(scenario: &Scenario, progress: &dyn Progress) -> Result<Instance, Error> {
    load_instance_warned(scenario, progress).map(|(instance, _)| instance)
}

/// As `load_instance_with`, with the warnings about input that contradicts itself (each
/// names the file, the feature and the place).
pub fn load_instance_warned(
    scenario: &Scenario,
    progress: &dyn Progress,
) -> Result<(Instance, Vec<Warning>), Error> {
    let mut warnings = unused_objective_keys(scenario);
    let default_crs = crs::normalise_crs_name(&scenario.crs);
    crs::check_known(&default_crs).map_err(|e| {
        InputError::new(
            scenario.file.display(),
            format!("unknown CRS \"{}\" in [input] crs: {e}", scenario.crs),
        )
    })?;

    // Districts are few: all their properties are kept (expressions and suggestions need
    // them). Sites and facilities keep only what the scenario reads.
    let district_layer = read_layer_with(&scenario.districts, progress, None)?;
    let f = &scenario.site_fields;
    let site_keys = [
        &f.id,
        &f.capacity,
        &f.status,
        &f.occupied,
        &f.min_places,
        &f.cost,
    ]
    .map(|k| k.to_string());
    // A million sites are read straight into sites, feature by feature on every core.
    let sites_raw = read_sites(scenario, &default_crs, progress, &site_keys, &mut warnings)?;
    let facility_keys = [
        scenario.facility_fields.id.clone(),
        scenario.facility_fields.seats.clone(),
    ];
    let facility_layers = scenario
        .facilities
        .iter()
        .map(|(kind, path)| {
            Ok((
                kind.clone(),
                read_layer_with(path, progress, Some(&facility_keys))?,
            ))
        })
        .collect::<Result<Vec<_>, InputError>>()?;
    let table = match &scenario.statistics {
        Some(input) => Some(Table::read(input)?),
        None => None,
    };

    let layer_crs = |layer: &Layer| layer_crs(layer, &default_crs);
    let districts_raw = read_districts(
        &district_layer,
        table.as_ref(),
        scenario,
        &layer_crs(&district_layer)?,
        &mut warnings,
    )?;
    let mut facilities_raw = Vec::new();
    for (kind, layer) in &facility_layers {
        facilities_raw.push((
            kind.clone(),
            read_facilities(layer, scenario, &default_crs)?,
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
                "the weights ({}) add up to 0; the fair share of each district needs a positive total",
                if scenario.district_fields.weight == scenario.district_fields.population {
                    format!("property \"{}\"", scenario.district_fields.weight)
                } else {
                    format!("weight = \"{}\"", scenario.district_fields.weight)
                }
            ),
        )
        .into());
    }

    Ok((
        Instance {
            name: scenario.name.clone(),
            districts,
            sites,
            facilities,
            metric_crs: metric,
            demand: scenario.demand,
            levels: scenario.levels.clone(),
            rules: scenario.rules.clone(),
            stages: scenario.stages.clone(),
            objective: scenario.objective.clone(),
            solver: scenario.solver.clone(),
        },
        warnings,
    ))
}

/// `[objective]` keys that serve a stage the scenario does not run: said, since the planner
/// surely meant that stage to run.
fn unused_objective_keys(scenario: &Scenario) -> Vec<Warning> {
    let file = scenario.file.display();
    let mut said = Vec::new();
    if let Some(metres) = scenario.objective.spread_metres {
        if !scenario.stages.contains(&Stage::Spread) {
            said.push(Warning::new(
                &file,
                format!(
                    "[objective] spread_metres = {} has no effect: \"spread\" is not in [objective] stages; add it (for example after \"evenness\") to spread the new places out",
                    format_number(metres)
                ),
            ));
        }
    }
    if let Some(kinds) = &scenario.objective.access_kinds {
        if !scenario.stages.contains(&Stage::Access) {
            said.push(Warning::new(
                &file,
                format!(
                    "[objective] access_kinds = {kinds:?} has no effect: \"access\" is not in [objective] stages; add it (for example after \"evenness\") to bring the new places close to these facilities"
                ),
            ));
        }
    }
    said
}

/// The CRS of a layer: its own, checked, or the scenario's `default`.
pub(super) fn layer_crs(layer: &Layer, default: &str) -> Result<String, InputError> {
    let name = layer.crs.clone().unwrap_or_else(|| default.to_string());
    if layer.crs.is_some() {
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
                "coordinates ({}, {}) cannot be longitude/latitude, but the layer is read as {crs}; if they are metres (e.g. EPSG:25832), add a \"crs\" member to the file or set crs = \"EPSG:25832\" in [input] of the scenario",
                format_number(x),
                format_number(y)
            ),
        ));
    }
    Ok(())
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
