//! Loading a scenario: the TOML file, then each layer (GeoJSON, GeoPackage or Shapefile) and
//! the statistics table, interpreted with the field names of `[fields]` and the expressions
//! of the scenario, and reprojected into the metric CRS (for distances) and WGS84 (for
//! output). Input that contradicts itself is said: an error where no meaningful plan can
//! follow, a warning (returned beside the instance) where one can.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use geo::{Coord, InteriorPoint, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;

use super::crs::{self, Transform, LONLAT};
use super::geojson_in::{
    first_error, format_number, parse_layer_map, Feature, Geom, Layer, PolygonRings,
};
use super::statistics::Table;
use super::validate::{is_flat, ring_crossing};
use crate::error::{Error, InputError, Warning};
use crate::expr::Expression;
use crate::model::{District, Facility, FacilityLayer, Instance, Site, SiteStatus, Stage};
use crate::progress::{Progress, Silent};
use crate::scenario::{suggestion, Scenario};

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
fn layer_crs(layer: &Layer, default: &str) -> Result<String, InputError> {
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
struct RawLayerData<T> {
    file: String,
    crs: String,
    items: Vec<T>,
}

struct RawDistrict {
    district: District,
    polygons: Vec<PolygonRings>,
}

/// Point features (sites, facilities) of a layer in its own CRS, with the properties
/// already checked. Each item's `position` holds its point; features given as footprints
/// (polygons) are kept aside, and their interior point is taken after reprojection. A
/// million sites are read straight into this, on every core.
struct RawPoints<T> {
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
fn feature_id(layer: &Layer, feature: &Feature, key: &str) -> Result<String, InputError> {
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
fn check_unique<'a>(
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

/// Where a district property comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    Layer,
    /// A column of the statistics table.
    Column(usize),
    Nowhere,
}

/// The district layer and the statistics table as one set of district properties.
struct DistrictProperties<'a> {
    layer: &'a Layer,
    /// The id property of the layer.
    id_key: &'a str,
    table: Option<&'a Table>,
    /// The table row of each district.
    rows: Vec<usize>,
    sources: RefCell<HashMap<String, Source>>,
}

impl<'a> DistrictProperties<'a> {
    /// Where `name` comes from; a name in both the layer and the table is an error.
    fn source(&self, name: &str, used_in: &str) -> Result<Source, InputError> {
        if let Some(&known) = self.sources.borrow().get(name) {
            return Ok(known);
        }
        let in_layer = self.layer.has_property(name);
        let column = self.table.and_then(|t| t.column(name));
        let source = match (in_layer, column, self.table) {
            (true, Some(_), Some(table)) => {
                return Err(InputError::new(
                    &table.file,
                    format!(
                        "column \"{name}\" is also a property of the district layer {}; the scenario uses \"{name}\" ({used_in}), so quartier cannot tell which is meant: rename the column or the property",
                        self.layer.file
                    ),
                ))
            }
            (true, _, _) => Source::Layer,
            (false, Some(c), _) => Source::Column(c),
            (false, None, _) => Source::Nowhere,
        };
        self.sources.borrow_mut().insert(name.to_string(), source);
        Ok(source)
    }

    /// The error for a property that is nowhere: with a table, the table is named with the
    /// closest column; otherwise the first feature.
    fn nowhere(&self, name: &str, used_in: &str) -> InputError {
        let mut known = self.layer.property_names();
        if let Some(table) = self.table {
            known.extend(table.header.iter().cloned());
        }
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        let hint = suggestion(name, &known);
        match self.table {
            Some(table) => InputError::new(
                &table.file,
                format!(
                    "no column \"{name}\"{hint}, and the district layer {} has no such property either; the scenario uses it ({used_in})",
                    self.layer.file
                ),
            ),
            None => {
                let first = &self.layer.features[0];
                let id = first.id_text(self.id_key);
                feature_error(
                    self.layer,
                    first,
                    id.as_deref(),
                    format!("property \"{name}\" is missing{hint} ({used_in})"),
                )
            }
        }
    }

    /// The number of property `name` for district `d`; `Ok(None)` when missing or empty.
    fn number(
        &self,
        d: usize,
        id: &str,
        name: &str,
        used_in: &str,
    ) -> Result<Option<f64>, InputError> {
        match self.source(name, used_in)? {
            Source::Layer => {
                let feature = &self.layer.features[d];
                feature
                    .number(name)
                    .map_err(|m| feature_error(self.layer, feature, Some(id), m))
            }
            Source::Column(c) => {
                let table = self.table.expect("a column comes from a table");
                let row = self.rows[d];
                if table.text(row, c).is_empty() {
                    return Ok(None);
                }
                table.number(row, c).map(Some)
            }
            Source::Nowhere => Ok(None),
        }
    }

    /// As `number`, for a property that must be there.
    fn required(&self, d: usize, id: &str, name: &str, used_in: &str) -> Result<f64, InputError> {
        match self.number(d, id, name, used_in)? {
            Some(x) => Ok(x),
            None if self.source(name, used_in)? == Source::Nowhere => {
                Err(self.nowhere(name, used_in))
            }
            None => Err(self.missing(d, id, name, used_in)),
        }
    }

    /// A property missing (or an empty cell) in one district.
    fn missing(&self, d: usize, id: &str, name: &str, used_in: &str) -> InputError {
        match self.sources.borrow().get(name) {
            Some(Source::Column(c)) => {
                let table = self.table.expect("a column comes from a table");
                let row = &table.rows[self.rows[d]];
                InputError::new(
                    &table.file,
                    format!(
                        "line {}, column \"{}\" (district \"{id}\"): the cell is empty; expected a number ({used_in})",
                        row.line, table.header[*c]
                    ),
                )
            }
            _ => {
                let feature = &self.layer.features[d];
                let context = if used_in.starts_with("[fields") {
                    String::new()
                } else {
                    format!(" ({used_in})")
                };
                feature_error(
                    self.layer,
                    feature,
                    Some(id),
                    format!("property \"{name}\" is missing{context}"),
                )
            }
        }
    }

    /// A text property (the district's name).
    fn text(&self, d: usize, name: &str) -> Result<Option<String>, InputError> {
        Ok(match self.source(name, "[fields.districts] name")? {
            Source::Layer => self.layer.features[d].text(name),
            Source::Column(c) => {
                let table = self.table.expect("a column comes from a table");
                let text = table.text(self.rows[d], c);
                (!text.is_empty()).then(|| text.to_string())
            }
            Source::Nowhere => None,
        })
    }

    /// Evaluates an expression for district `d`.
    fn eval<T>(
        &self,
        d: usize,
        id: &str,
        expression: &Expression,
        used_in: &str,
        eval: impl Fn(&Expression, &dyn Fn(&str) -> Result<f64, String>) -> Result<T, String>,
    ) -> Result<T, InputError> {
        let failed: RefCell<Option<InputError>> = RefCell::new(None);
        let value = |name: &str| -> Result<f64, String> {
            match self.required(d, id, name, used_in) {
                Ok(x) => Ok(x),
                Err(e) => {
                    let message = e.message.clone();
                    failed.borrow_mut().get_or_insert(e);
                    Err(message)
                }
            }
        };
        eval(expression, &value).map_err(|message| {
            failed.take().unwrap_or_else(|| {
                let feature = &self.layer.features[d];
                feature_error(
                    self.layer,
                    feature,
                    Some(id),
                    format!("{used_in}: {message}"),
                )
            })
        })
    }
}

/// The fair-share key: the population, another property, or an expression.
enum Key {
    Population,
    Property(String),
    Expression(Expression),
}

fn read_districts(
    layer: &Layer,
    table: Option<&Table>,
    scenario: &Scenario,
    crs: &str,
    warnings: &mut Vec<Warning>,
) -> Result<RawLayerData<RawDistrict>, InputError> {
    let fields = &scenario.district_fields;
    let ids = unique_ids(layer, &fields.id)?;
    let rows = match table {
        None => Vec::new(),
        Some(table) => join_rows(layer, table, &ids, warnings)?,
    };
    let properties = DistrictProperties {
        layer,
        id_key: &fields.id,
        table,
        rows,
        sources: RefCell::new(HashMap::new()),
    };
    let population_use = "[fields.districts] population".to_string();
    // The key: a property when a layer property or column has exactly that name, else an
    // expression.
    let weight_use = format!("weight = \"{}\"", fields.weight);
    let key = if fields.weight == fields.population {
        Key::Population
    } else if layer.has_property(&fields.weight)
        || table.is_some_and(|t| t.column(&fields.weight).is_some())
    {
        Key::Property(fields.weight.clone())
    } else {
        Key::Expression(Expression::parse(&fields.weight).map_err(|e| {
            InputError::new(
                scenario.file.display(),
                format!(
                    "[fields.districts] weight = \"{}\" is neither a property of the districts nor an expression: {e}",
                    fields.weight
                ),
            )
        })?)
    };
    // Every name the scenario uses, checked once before the districts (so that a name in
    // both the layer and the table, or in neither, is said for the scenario, not for one
    // district).
    properties.source(&fields.population, &population_use)?;
    let mut used: Vec<(String, String)> = Vec::new();
    match &key {
        Key::Population => {}
        Key::Property(name) => used.push((name.clone(), weight_use.clone())),
        Key::Expression(e) => {
            used.extend(e.names().map(|n| (n.to_string(), weight_use.clone())));
        }
    }
    let condition_uses: Vec<String> = scenario
        .district_conditions
        .iter()
        .enumerate()
        .map(|(i, c)| format!("[[rules.district]] {} where = \"{}\"", i + 1, c.text))
        .collect();
    for (condition, used_in) in scenario.district_conditions.iter().zip(&condition_uses) {
        used.extend(condition.names().map(|n| (n.to_string(), used_in.clone())));
    }
    for (name, used_in) in &used {
        if properties.source(name, used_in)? == Source::Nowhere {
            return Err(properties.nowhere(name, used_in));
        }
    }
    properties.source(&fields.existing, "[fields.districts] existing")?;
    if table.is_some() {
        properties.source(&fields.name, "[fields.districts] name")?;
    }

    let mut items = Vec::with_capacity(layer.features.len());
    let mut rule_counts = vec![0usize; scenario.district_conditions.len()];
    for (d, (feature, id)) in layer.features.iter().zip(ids).enumerate() {
        let population = properties.required(d, &id, &fields.population, &population_use)?;
        if population < 0.0 {
            return Err(feature_error(
                layer,
                feature,
                Some(&id),
                format!(
                    "property \"{}\" must be a number ≥ 0, found {}",
                    fields.population,
                    format_number(population)
                ),
            ));
        }
        let weight = match &key {
            Key::Population => population,
            Key::Property(name) => properties.required(d, &id, name, &weight_use)?,
            Key::Expression(e) => {
                properties.eval(d, &id, e, &weight_use, |e, value| e.number(value))?
            }
        };
        if weight < 0.0 {
            return Err(feature_error(
                layer,
                feature,
                Some(&id),
                format!(
                    "the fair-share key {weight_use} gives {} here; a weight must be ≥ 0",
                    format_number(weight)
                ),
            ));
        }
        let mut rule = None;
        for (r, (condition, used_in)) in scenario
            .district_conditions
            .iter()
            .zip(&condition_uses)
            .enumerate()
        {
            let holds = properties.eval(d, &id, condition, used_in, |e, value| e.truth(value))?;
            if holds && rule.is_none() {
                rule = Some(r);
                rule_counts[r] += 1;
            }
        }
        let existing = properties
            .number(d, &id, &fields.existing, "[fields.districts] existing")?
            .unwrap_or(0.0);
        if existing < 0.0 {
            return Err(feature_error(
                layer,
                feature,
                Some(&id),
                format!(
                    "property \"{}\" must be a number ≥ 0, found {}",
                    fields.existing,
                    format_number(existing)
                ),
            ));
        }
        let polygons = match &feature.geometry {
            Some(Geom::Polygon(rings)) => vec![rings.clone()],
            Some(Geom::MultiPolygon(polygons)) => polygons.clone(),
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
        check_district_outline(layer, feature, &id, &polygons, crs, warnings)?;
        let name = properties
            .text(d, &fields.name)?
            .unwrap_or_else(|| id.clone());
        items.push(RawDistrict {
            district: District {
                id,
                name,
                population,
                weight,
                existing,
                area: MultiPolygon(Vec::new()),
                area_lonlat: MultiPolygon(Vec::new()),
                rule,
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

/// The table row of each district; rows that match no district are a warning.
fn join_rows(
    layer: &Layer,
    table: &Table,
    ids: &[String],
    warnings: &mut Vec<Warning>,
) -> Result<Vec<usize>, InputError> {
    let mut used = vec![false; table.rows.len()];
    let mut rows = Vec::with_capacity(ids.len());
    for (feature, id) in layer.features.iter().zip(ids) {
        let row = table.row_of(id).ok_or_else(|| {
            InputError::new(
                &table.file,
                format!(
                    "no row for district \"{id}\" ({} {}); expected a row with \"{id}\" in column \"{}\"",
                    layer.file,
                    feature.label(None),
                    table.key_name()
                ),
            )
        })?;
        used[row] = true;
        rows.push(row);
    }
    let unused: Vec<String> = (0..table.rows.len())
        .filter(|&r| !used[r])
        .map(|r| format!("line {} \"{}\"", table.rows[r].line, table.key_of(r)))
        .collect();
    if !unused.is_empty() {
        let shown: Vec<&str> = unused.iter().take(10).map(String::as_str).collect();
        warnings.push(Warning::new(
            &table.file,
            format!(
                "{} {} no district and {} not used (a totals row?): {}{}",
                unused.len(),
                if unused.len() == 1 {
                    "row matches"
                } else {
                    "rows match"
                },
                if unused.len() == 1 { "is" } else { "are" },
                shown.join(", "),
                if unused.len() > 10 { ", …" } else { "" }
            ),
        ));
    }
    Ok(rows)
}

/// A place in a layer's own CRS, for messages: `(404512.3, 5757001.2)`.
fn place(position: [f64; 2], crs: &str) -> String {
    if crs::is_lonlat(crs) {
        format!("({:.6}, {:.6})", position[0], position[1])
    } else {
        format!("({:.1}, {:.1})", position[0], position[1])
    }
}

/// A district outline that crosses itself is a warning (sites near the crossing are assigned
/// by guess); one without any area is an error (no site can lie in it).
fn check_district_outline(
    layer: &Layer,
    feature: &Feature,
    id: &str,
    polygons: &[PolygonRings],
    crs: &str,
    warnings: &mut Vec<Warning>,
) -> Result<(), InputError> {
    if polygons
        .iter()
        .filter_map(|p| p.first())
        .all(|ring| is_flat(ring))
    {
        let at = polygons[0][0][0];
        return Err(feature_error(
            layer,
            feature,
            Some(id),
            format!(
                "the outline at {} has no area (all its positions lie on a line); no site can lie in the district, so no plan can follow: fix the polygon",
                place(at, crs)
            ),
        ));
    }
    for ring in polygons.iter().flatten() {
        if let Some(at) = ring_crossing(ring) {
            warnings.push(Warning::new(
                &layer.file,
                format!(
                    "{}: the outline crosses itself at {}; which district a site near the crossing lies in is a guess: fix the polygon (QGIS: Vector → Geometry Tools → Check Validity)",
                    feature.label(Some(id)),
                    place(at, crs)
                ),
            ));
            break;
        }
    }
    Ok(())
}

fn check_polygons(
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

fn check_position(
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
fn read_sites(
    scenario: &Scenario,
    default_crs: &str,
    progress: &dyn Progress,
    keys: &[String],
    warnings: &mut Vec<Warning>,
) -> Result<RawPoints<Site>, InputError> {
    let fields = &scenario.site_fields;
    let (_, context, sites) = read_layer_map(
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

fn read_facilities(
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

fn flatten(polygons: &[PolygonRings]) -> Vec<(f64, f64)> {
    polygons
        .iter()
        .flatten()
        .flatten()
        .map(|p| (p[0], p[1]))
        .collect()
}

/// Rebuilds polygons from flattened positions in the same order as `flatten`.
fn rebuild(polygons: &[PolygonRings], points: &[(f64, f64)]) -> MultiPolygon<f64> {
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
fn project_sites(mut raw: RawPoints<Site>, metric: &str) -> Result<Vec<Site>, InputError> {
    project_points(&mut raw, metric)?;
    Ok(raw.items)
}

fn project_facilities(
    mut raw: RawPoints<Facility>,
    metric: &str,
) -> Result<Vec<Facility>, InputError> {
    project_points(&mut raw, metric)?;
    Ok(raw.items)
}
