//! Loading a scenario: the TOML file, then each layer (GeoJSON, GeoPackage or Shapefile) and
//! the statistics table, interpreted with the field names of `[fields]` and the expressions
//! of the scenario, and reprojected into the metric CRS (for distances) and WGS84 (for
//! output). Input that contradicts itself is said: an error where no meaningful plan can
//! follow, a warning (returned beside the instance) where one can.
//!
//! The files are read by `file`, the statistics table by `statistics`; the layers become
//! districts (`districts`), sites and facilities (`points`) and the street network
//! (`streets`), which share the checks of `feature`. Nothing here is imported by those
//! readers.

use std::path::Path;

use super::districts::{project_districts, read_districts, utm_of};
use super::feature::layer_crs;
use super::file::{read_layer_with, read_text};
use super::layer::{format_number, Layer};
use super::points::{project_facilities, project_sites, read_facilities, read_sites};
use super::statistics::Table;
use super::streets::{project_streets, read_streets};
use crate::error::{Error, InputError, Warning};
use crate::io::crs;
use crate::model::{FacilityLayer, Instance, Stage};
use crate::progress::{Progress, Silent};
use crate::scenario::Scenario;

/// Reads and validates the scenario file.
pub fn read_scenario(path: &Path) -> Result<Scenario, Error> {
    let text = read_text(path)?;
    Ok(Scenario::parse(&text, path)?)
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
    let mut district_layer = read_layer_with(&scenario.districts, progress, None)?;
    warnings.append(&mut district_layer.warnings);
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
            let mut layer = read_layer_with(path, progress, Some(&facility_keys))?;
            warnings.append(&mut layer.warnings);
            Ok((kind.clone(), layer))
        })
        .collect::<Result<Vec<_>, InputError>>()?;
    let streets_raw = read_streets(scenario, &default_crs, progress, &mut warnings)?;
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

    let network = streets_raw
        .map(|raw| project_streets(raw, &metric))
        .transpose()?;

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
            network,
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
