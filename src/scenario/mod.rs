//! The scenario file (TOML): what the planner typed, checked once into a typed configuration.
//!
//! Parsing goes in two steps, like ripgrep's low-level and high-level arguments: `RawScenario`
//! mirrors the file (serde, unknown keys rejected with the nearest valid name suggested), and
//! `Scenario` holds validated values with paths resolved against the scenario's folder.

//!
//! One file per table: `raw` (the file as written), `keys` (known keys, messages for
//! mistyped ones), `fields`, `input`, `demand`, `rules`, `objective` (with `[solver]`).

mod demand;
mod fields;
mod input;
mod keys;
mod objective;
mod raw;
mod rules;

use std::path::{Path, PathBuf};

use crate::error::InputError;
use crate::expr::Expression;
use crate::model::{Level, ObjectiveOptions, Rules, SolverOptions, Stage};

use demand::parse_demand;
pub use fields::{DistrictFields, FacilityFields, SiteFields};
use input::statistics_input;
pub use input::{normalise, StatisticsInput};
pub use keys::line_column;
pub(crate) use keys::suggestion;
use keys::{check_keys, describe_toml_error};
use objective::{parse_objective, parse_solver, parse_stages};
use raw::RawScenario;
use rules::parse_rules;

/// A validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Path of the scenario file itself.
    pub file: PathBuf,
    pub name: String,
    pub districts: PathBuf,
    pub sites: PathBuf,
    /// `(kind, path)` in file order.
    pub facilities: Vec<(String, PathBuf)>,
    /// CRS of layers without a `crs` member.
    pub crs: String,
    /// CRS for distances; `None` = UTM zone of the data.
    pub metric_crs: Option<String>,
    pub district_fields: DistrictFields,
    pub site_fields: SiteFields,
    pub facility_fields: FacilityFields,
    /// New places (the last level's, with levels).
    pub demand: u64,
    /// `[demand] levels` with their weights; empty with `places`.
    pub levels: Vec<Level>,
    pub rules: Rules,
    pub stages: Vec<Stage>,
    pub objective: ObjectiveOptions,
    pub solver: SolverOptions,
    /// Output folder (relative paths already resolved); `None` = `out/<scenario stem>`.
    pub output_dir: Option<PathBuf>,
    /// `[input.statistics]`: a table joined to the districts by id.
    pub statistics: Option<StatisticsInput>,
    /// The conditions (`where`) of `rules.district`, parsed, in the same order.
    pub district_conditions: Vec<Expression>,
    /// `[input] network` with `[network]`: the street network distances are walked on.
    pub network: Option<NetworkInput>,
}

/// The street network of `[input] network`, with the settings of `[network]`.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkInput {
    pub file: PathBuf,
    /// Sites and facilities farther from the network are off it (default 300 m).
    pub max_snap_m: f64,
    /// Write `routes.geojson` (default true).
    pub routes: bool,
}

impl Scenario {
    /// Parses and validates scenario text; `file` is where it came from (paths are relative
    /// to its folder).
    pub fn parse(text: &str, file: &Path) -> Result<Scenario, InputError> {
        let shown = file.display().to_string();
        let bad = |message: String| InputError::new(&shown, message);
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| bad(describe_toml_error(&e, text)))?;
        check_keys(&table, "").map_err(bad)?;
        let raw: RawScenario = table
            .try_into()
            .map_err(|e: toml::de::Error| bad(e.message().trim().to_string()))?;
        let base = file.parent().unwrap_or(Path::new(""));
        let resolve = |relative: &str| normalise(&base.join(relative));

        let (demand, levels) = parse_demand(&raw.demand).map_err(bad)?;

        let facility_kinds: Vec<&String> = raw.input.facilities.keys().collect();
        let (rules, district_conditions) = parse_rules(raw.rules, &facility_kinds).map_err(bad)?;
        let statistics = match raw.input.statistics {
            None => None,
            Some(raw) => Some(statistics_input(raw, &resolve).map_err(bad)?),
        };

        let stages = match &raw.objective.stages {
            None => Stage::DEFAULT.to_vec(),
            Some(names) => parse_stages(names).map_err(bad)?,
        };
        let objective = parse_objective(&raw.objective, &stages, &facility_kinds).map_err(bad)?;

        let solver = parse_solver(&raw.solver).map_err(bad)?;
        let network =
            parse_network(raw.input.network.as_deref(), raw.network, &resolve).map_err(bad)?;

        Ok(Scenario {
            file: file.to_path_buf(),
            name: raw.name.unwrap_or_else(|| {
                file.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "scenario".into())
            }),
            districts: resolve(&raw.input.districts),
            sites: resolve(&raw.input.sites),
            facilities: raw
                .input
                .facilities
                .iter()
                .map(|(kind, path)| (kind.clone(), resolve(path)))
                .collect(),
            crs: raw.input.crs.unwrap_or_else(|| "EPSG:4326".into()),
            metric_crs: raw.input.metric_crs,
            district_fields: raw.fields.districts.resolve(),
            site_fields: raw.fields.sites,
            facility_fields: raw.fields.facilities,
            demand,
            levels,
            rules,
            stages,
            objective,
            solver,
            output_dir: raw.output.dir.as_deref().map(resolve),
            statistics,
            district_conditions,
            network,
        })
    }

    /// The output folder: `--out` wins, then `[output] dir`, then `out/<scenario stem>`.
    pub fn output_dir(&self, cli_out: Option<&Path>) -> PathBuf {
        if let Some(dir) = cli_out {
            return dir.to_path_buf();
        }
        if let Some(dir) = &self.output_dir {
            return dir.clone();
        }
        let stem = self
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into());
        PathBuf::from("out").join(stem)
    }

    /// The fair-share key when it is not the population property.
    pub fn fair_share_key(&self) -> Option<&str> {
        let fields = &self.district_fields;
        (fields.weight != fields.population).then_some(fields.weight.as_str())
    }

    /// Every input file of the scenario.
    pub fn input_files(&self) -> Vec<&Path> {
        let mut files = vec![self.file.as_path(), &self.districts, &self.sites];
        files.extend(self.facilities.iter().map(|(_, p)| p.as_path()));
        if let Some(statistics) = &self.statistics {
            files.push(&statistics.file);
        }
        if let Some(network) = &self.network {
            files.push(&network.file);
        }
        files
    }
}

/// `[input] network` and `[network]`: the settings need the layer, and the snapping distance
/// must be a positive number of metres.
fn parse_network(
    path: Option<&str>,
    settings: Option<raw::RawNetwork>,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<Option<NetworkInput>, String> {
    let Some(path) = path else {
        return match settings {
            Some(_) => Err("[network] is set but [input] has no network; add network = \"streets.geojson\" (a line layer of the streets) to [input]".into()),
            None => Ok(None),
        };
    };
    let settings = settings.unwrap_or_default();
    let max_snap_m = settings
        .max_snap_m
        .unwrap_or(crate::model::DEFAULT_MAX_SNAP_M);
    if !(max_snap_m.is_finite() && max_snap_m > 0.0) {
        return Err(format!(
            "[network] max_snap_m must be a positive number of metres (how far a site or facility may lie from the nearest street), found {max_snap_m}"
        ));
    }
    Ok(Some(NetworkInput {
        file: resolve(path),
        max_snap_m,
        routes: settings.routes.unwrap_or(true),
    }))
}

#[cfg(test)]
mod tests;
