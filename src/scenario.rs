//! The scenario file (TOML): what the planner typed, checked once into a typed configuration.
//!
//! Parsing goes in two steps, like ripgrep's low-level and high-level arguments: `RawScenario`
//! mirrors the file (serde, unknown keys rejected with the nearest valid name suggested), and
//! `Scenario` holds validated values with paths resolved against the scenario's folder.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use crate::error::InputError;
use crate::expr::Expression;
use crate::model::{
    Access, DistrictRule, Level, ObjectiveOptions, Rules, Seats, SolverOptions, Spacing, Stage,
    DEFAULT_MIP_GAP,
};

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
}

/// `[input.statistics]`: a table (CSV) whose columns become district properties.
#[derive(Debug, Clone, PartialEq)]
pub struct StatisticsInput {
    pub file: PathBuf,
    /// The column holding the district id.
    pub key: String,
    /// `None`: detected from the header (`,` `;` or tab).
    pub delimiter: Option<u8>,
    /// `.` or `,`.
    pub decimal: char,
    pub encoding: &'static encoding_rs::Encoding,
}

/// Property names of the district layer.
#[derive(Debug, Clone, PartialEq)]
pub struct DistrictFields {
    pub id: String,
    pub name: String,
    pub population: String,
    /// The fair-share key: a property name or an expression over district properties;
    /// the population property when the scenario sets none.
    pub weight: String,
    pub existing: String,
}

impl Default for DistrictFields {
    fn default() -> Self {
        DistrictFields {
            id: "id".into(),
            name: "name".into(),
            population: "population".into(),
            weight: "population".into(),
            existing: "existing".into(),
        }
    }
}

/// `[fields.districts]` as written: `weight` defaults to whatever `population` names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDistrictFields {
    id: Option<String>,
    name: Option<String>,
    population: Option<String>,
    weight: Option<String>,
    existing: Option<String>,
}

impl RawDistrictFields {
    fn resolve(self) -> DistrictFields {
        let defaults = DistrictFields::default();
        let population = self.population.unwrap_or(defaults.population);
        DistrictFields {
            id: self.id.unwrap_or(defaults.id),
            name: self.name.unwrap_or(defaults.name),
            weight: self.weight.unwrap_or_else(|| population.clone()),
            population,
            existing: self.existing.unwrap_or(defaults.existing),
        }
    }
}

/// Property names of the site layer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteFields {
    pub id: String,
    pub capacity: String,
    pub status: String,
    pub occupied: String,
    pub min_places: String,
    pub cost: String,
}

impl Default for SiteFields {
    fn default() -> Self {
        SiteFields {
            id: "id".into(),
            capacity: "capacity".into(),
            status: "status".into(),
            occupied: "occupied".into(),
            min_places: "min_places".into(),
            cost: "cost".into(),
        }
    }
}

/// Property names of the facility layers (an addition to CONTRACT.md: `[fields.facilities]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FacilityFields {
    pub id: String,
    pub seats: String,
}

impl Default for FacilityFields {
    fn default() -> Self {
        FacilityFields {
            id: "id".into(),
            seats: "seats".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<String>,
    input: RawInput,
    #[serde(default)]
    fields: RawFields,
    demand: RawDemand,
    #[serde(default)]
    rules: RawRules,
    #[serde(default)]
    objective: RawObjective,
    #[serde(default)]
    solver: RawSolver,
    #[serde(default)]
    output: RawOutput,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    districts: String,
    sites: String,
    crs: Option<String>,
    metric_crs: Option<String>,
    #[serde(default)]
    facilities: BTreeMap<String, String>,
    statistics: Option<RawStatistics>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatistics {
    file: String,
    key: String,
    delimiter: Option<String>,
    decimal: Option<String>,
    encoding: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFields {
    #[serde(default)]
    districts: RawDistrictFields,
    #[serde(default)]
    sites: SiteFields,
    #[serde(default)]
    facilities: FacilityFields,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDemand {
    places: Option<toml::Value>,
    levels: Option<toml::Value>,
    weights: Option<toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    max_per_site: Option<toml::Value>,
    max_share: Option<f64>,
    radius: Option<RawRadius>,
    access: Option<BTreeMap<String, f64>>,
    seats: Option<RawSeats>,
    #[serde(default)]
    district: Vec<RawDistrictRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDistrictRule {
    #[serde(rename = "where")]
    condition: String,
    max_share: Option<f64>,
    max_new: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRadius {
    metres: f64,
    max_places: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeats {
    kind: String,
    per_place: f64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObjective {
    stages: Option<Vec<String>>,
    spread_metres: Option<toml::Value>,
    access_kinds: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSolver {
    time_limit_s: Option<f64>,
    mip_gap: Option<f64>,
    threads: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    dir: Option<String>,
}

/// Every key the scenario format knows, by table; `*` marks tables whose keys are free
/// (facility kinds, access kinds).
const KNOWN_KEYS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "name",
            "input",
            "fields",
            "demand",
            "rules",
            "objective",
            "solver",
            "output",
        ],
    ),
    (
        "input",
        &[
            "districts",
            "sites",
            "crs",
            "metric_crs",
            "facilities",
            "statistics",
        ],
    ),
    ("input.facilities", &["*"]),
    (
        "input.statistics",
        &["file", "key", "delimiter", "decimal", "encoding"],
    ),
    ("fields", &["districts", "sites", "facilities"]),
    (
        "fields.districts",
        &["id", "name", "population", "weight", "existing"],
    ),
    (
        "fields.sites",
        &["id", "capacity", "status", "occupied", "min_places", "cost"],
    ),
    ("fields.facilities", &["id", "seats"]),
    ("demand", &["places", "levels", "weights"]),
    (
        "rules",
        &[
            "max_per_site",
            "max_share",
            "radius",
            "access",
            "seats",
            "district",
        ],
    ),
    ("rules.district", &["where", "max_share", "max_new"]),
    ("rules.radius", &["metres", "max_places"]),
    ("rules.access", &["*"]),
    ("rules.seats", &["kind", "per_place"]),
    ("objective", &["stages", "spread_metres", "access_kinds"]),
    ("solver", &["time_limit_s", "mip_gap", "threads"]),
    ("output", &["dir"]),
];

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

        let max_per_site = match &raw.rules.max_per_site {
            None => 50,
            Some(value) => whole_number(value)
                .filter(|&n| n > 0 && n <= u64::from(u32::MAX))
                .ok_or_else(|| {
                    bad(format!(
                        "[rules] max_per_site must be a positive whole number, found {value}"
                    ))
                })? as u32,
        };
        if let Some(share) = raw.rules.max_share {
            if !(share.is_finite() && share > 0.0 && share <= 1.0) {
                return Err(bad(format!(
                    "[rules] max_share must be a share of the population between 0 and 1 (0.015 = 1.5 %), found {share}"
                )));
            }
        }
        let spacing = match raw.rules.radius {
            None => None,
            Some(radius) => {
                if !(radius.metres.is_finite() && radius.metres > 0.0) {
                    return Err(bad(format!(
                        "[rules] radius.metres must be a positive distance in metres, found {}",
                        radius.metres
                    )));
                }
                Some(Spacing {
                    metres: radius.metres,
                    max_places: radius.max_places,
                })
            }
        };
        let facility_kinds: Vec<&String> = raw.input.facilities.keys().collect();
        let mut access = Vec::new();
        for (kind, metres) in raw.rules.access.unwrap_or_default() {
            if !facility_kinds.contains(&&kind) {
                return Err(bad(format!(
                    "[rules] access names the facility kind \"{kind}\", but [input.facilities] has no such layer{}",
                    known_list(&facility_kinds)
                )));
            }
            if !(metres.is_finite() && metres >= 0.0) {
                return Err(bad(format!(
                    "[rules] access.{kind} must be a distance in metres ≥ 0, found {metres}"
                )));
            }
            access.push(Access { kind, metres });
        }
        let seats = match raw.rules.seats {
            None => None,
            Some(seats) => {
                if !facility_kinds.contains(&&seats.kind) {
                    return Err(bad(format!(
                        "[rules] seats names the facility kind \"{}\", but [input.facilities] has no such layer{}",
                        seats.kind,
                        known_list(&facility_kinds)
                    )));
                }
                if !(seats.per_place.is_finite() && seats.per_place > 0.0) {
                    return Err(bad(format!(
                        "[rules] seats.per_place must be a positive number of children per place, found {}",
                        seats.per_place
                    )));
                }
                Some(Seats {
                    kind: seats.kind,
                    per_place: seats.per_place,
                })
            }
        };

        let (district_rules, district_conditions) =
            district_rules(raw.rules.district).map_err(bad)?;
        let statistics = match raw.input.statistics {
            None => None,
            Some(raw) => Some(statistics_input(raw, &resolve).map_err(bad)?),
        };

        let stages = match &raw.objective.stages {
            None => Stage::DEFAULT.to_vec(),
            Some(names) => parse_stages(names).map_err(bad)?,
        };
        let objective = parse_objective(&raw.objective, &stages, &facility_kinds).map_err(bad)?;

        let solver = SolverOptions {
            time_limit_s: match raw.solver.time_limit_s {
                Some(t) if !(t.is_finite() && t > 0.0) => {
                    return Err(bad(format!(
                        "[solver] time_limit_s must be a positive number of seconds, found {t}"
                    )))
                }
                t => t,
            },
            mip_gap: match raw.solver.mip_gap {
                Some(g) if !(g.is_finite() && (0.0..1.0).contains(&g)) => {
                    return Err(bad(format!(
                        "[solver] mip_gap must be a relative gap between 0 and 1 (0.0001 = 0.01 %), found {g}"
                    )))
                }
                g => g.unwrap_or(DEFAULT_MIP_GAP),
            },
            threads: raw.solver.threads.unwrap_or(0),
            ..SolverOptions::default()
        };

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
            rules: Rules {
                max_per_site,
                max_share: raw.rules.max_share,
                spacing,
                access,
                seats,
                district: district_rules,
            },
            stages,
            objective,
            solver,
            output_dir: raw.output.dir.as_deref().map(resolve),
            statistics,
            district_conditions,
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
        files
    }
}

/// `[demand]`: `places`, or `levels` with optional `weights`; returns the last level's places
/// and the levels (empty for `places`).
fn parse_demand(raw: &RawDemand) -> Result<(u64, Vec<Level>), String> {
    match (&raw.places, &raw.levels) {
        (Some(_), Some(_)) => Err(
            "[demand] has both places and levels; give places for one demand, or levels for a forecast (not both)"
                .into(),
        ),
        (None, None) => Err(
            "[demand] needs places (new places to allocate) or levels (a forecast, e.g. levels = [1000, 2000, 3000])"
                .into(),
        ),
        (Some(places), None) => {
            if raw.weights.is_some() {
                return Err("[demand] weights belong to levels; with places there is one demand and no weights".into());
            }
            let demand = whole_number(places).filter(|&n| n > 0).ok_or_else(|| {
                format!("[demand] places must be a positive whole number of places, found {places}")
            })?;
            Ok((demand, Vec::new()))
        }
        (None, Some(levels)) => {
            let shown = levels.to_string();
            let list = levels
                .as_array()
                .filter(|list| !list.is_empty())
                .ok_or_else(|| format!("[demand] levels must be a list of positive whole numbers of places in increasing order, e.g. [1000, 2000, 3000]; found {shown}"))?;
            let mut places = Vec::with_capacity(list.len());
            for (index, value) in list.iter().enumerate() {
                let n = whole_number(value).filter(|&n| n > 0).ok_or_else(|| {
                    format!("[demand] levels: level {} must be a positive whole number of places, found {value}", index + 1)
                })?;
                if let Some(&before) = places.last() {
                    if n <= before {
                        return Err(format!(
                            "[demand] levels must increase strictly (each level is the plan of the one before plus new places): level {} is {n}, level {index} is {before}",
                            index + 1
                        ));
                    }
                }
                places.push(n);
            }
            let weights = match &raw.weights {
                None => vec![1.0; places.len()],
                Some(value) => {
                    let list = value.as_array().ok_or_else(|| {
                        format!("[demand] weights must be a list of positive numbers, one per level, found {value}")
                    })?;
                    if list.len() != places.len() {
                        return Err(format!(
                            "[demand] weights: {} given for {} levels; give one weight per level",
                            list.len(),
                            places.len()
                        ));
                    }
                    list.iter()
                        .enumerate()
                        .map(|(index, w)| {
                            let number = match w {
                                toml::Value::Integer(n) => Some(*n as f64),
                                toml::Value::Float(f) => Some(*f),
                                _ => None,
                            };
                            number.filter(|x| x.is_finite() && *x > 0.0).ok_or_else(|| {
                                format!("[demand] weights: weight {} must be a number > 0 (e.g. the probability of the level), found {w}", index + 1)
                            })
                        })
                        .collect::<Result<Vec<f64>, String>>()?
                }
            };
            let demand = *places.last().expect("at least one level");
            Ok((
                demand,
                places
                    .into_iter()
                    .zip(weights)
                    .map(|(places, weight)| Level { places, weight })
                    .collect(),
            ))
        }
    }
}

/// `[[rules.district]]`: each needs a condition and a cap.
fn district_rules(
    raw: Vec<RawDistrictRule>,
) -> Result<(Vec<DistrictRule>, Vec<Expression>), String> {
    let mut rules = Vec::with_capacity(raw.len());
    let mut conditions = Vec::with_capacity(raw.len());
    for (index, rule) in raw.into_iter().enumerate() {
        let which = format!(
            "[[rules.district]] {} (where = \"{}\")",
            index + 1,
            rule.condition
        );
        let condition = Expression::parse(&rule.condition).map_err(|e| format!("{which}: {e}"))?;
        if let Some(share) = rule.max_share {
            if !(share.is_finite() && (0.0..=1.0).contains(&share)) {
                return Err(format!(
                    "{which}: max_share must be a share of the population between 0 and 1 (0.005 = 0.5 %), found {share}"
                ));
            }
        }
        let max_new = match &rule.max_new {
            None => None,
            Some(value) => Some(whole_number(value).ok_or_else(|| {
                format!("{which}: max_new must be a whole number of new places ≥ 0, found {value}")
            })?),
        };
        if rule.max_share.is_none() && max_new.is_none() {
            return Err(format!(
                "{which}: give max_share and/or max_new, the cap for the districts where the condition holds"
            ));
        }
        rules.push(DistrictRule {
            condition: rule.condition,
            max_share: rule.max_share,
            max_new,
        });
        conditions.push(condition);
    }
    Ok((rules, conditions))
}

/// `[input.statistics]` checked: one-character delimiter, `.` or `,` decimal, a known
/// encoding.
fn statistics_input(
    raw: RawStatistics,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<StatisticsInput, String> {
    let delimiter = match raw.delimiter.as_deref() {
        None => None,
        Some("\t") | Some("\\t") | Some("tab") => Some(b'\t'),
        Some(text) if text.len() == 1 && text.is_ascii() => Some(text.as_bytes()[0]),
        Some(text) => {
            return Err(format!(
                "[input.statistics] delimiter must be one character such as \";\", \",\" or \"\\t\", found \"{text}\""
            ))
        }
    };
    let decimal = match raw.decimal.as_deref() {
        None | Some(".") => '.',
        Some(",") => ',',
        Some(other) => {
            return Err(format!(
                "[input.statistics] decimal must be \".\" or \",\", found \"{other}\""
            ))
        }
    };
    if delimiter == Some(b',') && decimal == ',' {
        return Err(
            "[input.statistics] delimiter and decimal are both \",\"; German tables use delimiter = \";\""
                .into(),
        );
    }
    let encoding = match raw.encoding.as_deref() {
        None => encoding_rs::UTF_8,
        Some(label) => encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            format!(
                "[input.statistics] unknown encoding \"{label}\"; use \"utf-8\" or \"windows-1252\" (also called latin1 or cp1252)"
            )
        })?,
    };
    if raw.key.trim().is_empty() {
        return Err(
            "[input.statistics] key must name the column that holds the district id".into(),
        );
    }
    Ok(StatisticsInput {
        file: resolve(&raw.file),
        key: raw.key,
        delimiter,
        decimal,
        encoding,
    })
}

fn parse_stages(names: &[String]) -> Result<Vec<Stage>, String> {
    let mut stages = Vec::new();
    for name in names {
        let stage = Stage::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Stage::EVERY.iter().map(|s| s.name()).collect();
            format!(
                "[objective] stages: unknown stage \"{name}\"{}; known stages: {}",
                suggestion(name, &known),
                known.join(", ")
            )
        })?;
        if stages.contains(&stage) {
            return Err(format!("[objective] stages: \"{name}\" is listed twice"));
        }
        stages.push(stage);
    }
    for (position, required) in [(0, Stage::Shortfall), (1, Stage::Evenness)] {
        if stages.get(position) != Some(&required) {
            return Err(format!(
                "[objective] stages must begin with \"shortfall\", \"evenness\" (evenness may not be dropped), then any of \"worst\", \"spread\", \"access\", \"cost\" in the order you want; found {names:?}"
            ));
        }
    }
    Ok(stages)
}

/// `[objective] spread_metres` and `access_kinds`.
fn parse_objective(
    raw: &RawObjective,
    stages: &[Stage],
    facility_kinds: &[&String],
) -> Result<ObjectiveOptions, String> {
    let spread_metres = match &raw.spread_metres {
        None => None,
        Some(value) => {
            let metres = match value {
                toml::Value::Integer(n) => Some(*n as f64),
                toml::Value::Float(f) => Some(*f),
                _ => None,
            };
            Some(metres.filter(|m| m.is_finite() && *m > 0.0).ok_or_else(|| {
                format!("[objective] spread_metres must be a positive distance in metres, found {value}")
            })?)
        }
    };
    let access_kinds = match &raw.access_kinds {
        None => None,
        Some(kinds) => {
            if kinds.is_empty() {
                return Err("[objective] access_kinds is empty; name at least one facility kind, or leave it out for every kind".into());
            }
            for (index, kind) in kinds.iter().enumerate() {
                if !facility_kinds.contains(&kind) {
                    return Err(format!(
                        "[objective] access_kinds names the facility kind \"{kind}\", but [input.facilities] has no such layer{}",
                        known_list(facility_kinds)
                    ));
                }
                if kinds[..index].contains(kind) {
                    return Err(format!(
                        "[objective] access_kinds: \"{kind}\" is listed twice"
                    ));
                }
            }
            Some(kinds.clone())
        }
    };
    if stages.contains(&Stage::Access) && facility_kinds.is_empty() {
        return Err("[objective] stages has \"access\", which needs facilities (schools, Kitas, stops) in [input.facilities]".into());
    }
    Ok(ObjectiveOptions {
        spread_metres,
        access_kinds,
    })
}

fn known_list(kinds: &[&String]) -> String {
    if kinds.is_empty() {
        " (there are no facility layers)".into()
    } else {
        let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        format!(" (layers: {})", names.join(", "))
    }
}

/// A TOML integer, or a float that is a whole number (planners write `2300.0` too).
fn whole_number(value: &toml::Value) -> Option<u64> {
    match value {
        toml::Value::Integer(n) => u64::try_from(*n).ok(),
        toml::Value::Float(f) if f.is_finite() && f.fract() == 0.0 && *f >= 0.0 => Some(*f as u64),
        _ => None,
    }
}

fn describe_toml_error(error: &toml::de::Error, text: &str) -> String {
    let message = error.message().trim();
    match error.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            format!("invalid TOML at line {line}, column {column}: {message}")
        }
        None => format!("invalid TOML: {message}"),
    }
}

/// 1-based line and column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn check_keys(table: &toml::Table, path: &str) -> Result<(), String> {
    let Some((_, known)) = KNOWN_KEYS.iter().find(|(p, _)| *p == path) else {
        return Ok(());
    };
    if known == &["*"] {
        return Ok(());
    }
    for (key, value) in table {
        if !known.contains(&key.as_str()) {
            let section = if path.is_empty() {
                "the top level".to_string()
            } else {
                format!("[{path}]")
            };
            return Err(format!(
                "unknown key \"{key}\" in {section}{}",
                suggestion(key, known)
            ));
        }
        let inner_path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match value {
            toml::Value::Table(inner) => check_keys(inner, &inner_path)?,
            // [[rules.district]]: an array of tables.
            toml::Value::Array(items) => {
                for item in items {
                    if let toml::Value::Table(inner) = item {
                        check_keys(inner, &inner_path)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// ` (did you mean "x"?)` when a known name is close to what was typed.
pub(crate) fn suggestion(typed: &str, known: &[&str]) -> String {
    known
        .iter()
        .map(|k| (edit_distance(typed, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min()
        .map(|(_, k)| format!(" (did you mean \"{k}\"?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Removes `.` and `name/..` pairs so that messages show `data/x.geojson`, not
/// `scenarios/../data/x.geojson`.
pub fn normalise(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                _ => out.push(component),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[input]
districts = "../data/d.geojson"
sites = "s.geojson"
[demand]
places = 100
"#;

    fn parse(text: &str) -> Result<Scenario, String> {
        Scenario::parse(text, Path::new("scenarios/test.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = parse(MINIMAL).unwrap();
        assert_eq!(s.name, "test");
        assert_eq!(s.districts, PathBuf::from("data/d.geojson"));
        assert_eq!(s.sites, PathBuf::from("scenarios/s.geojson"));
        assert_eq!(s.crs, "EPSG:4326");
        assert_eq!(s.rules.max_per_site, 50);
        assert_eq!(s.stages, Stage::DEFAULT.to_vec());
        assert_eq!(s.district_fields.weight, "population");
        assert_eq!(s.solver.threads, 0);
        assert_eq!(s.output_dir(None), PathBuf::from("out/test"));
        assert_eq!(s.output_dir(Some(Path::new("x"))), PathBuf::from("x"));
    }

    #[test]
    fn full_contract_example_parses() {
        let text = r#"
name = "Musterstadt – max 50 per site"
[input]
districts = "../data/musterstadt/districts.geojson"
sites = "../data/musterstadt/sites.geojson"
crs = "EPSG:4326"
metric_crs = "EPSG:25832"
[input.facilities]
school = "../data/musterstadt/schools.geojson"
transit = "../data/musterstadt/stops.geojson"
[fields.districts]
id = "id"
name = "name"
population = "population"
weight = "population"
existing = "existing"
[fields.sites]
id = "id"
capacity = "capacity"
status = "status"
occupied = "occupied"
min_places = "min_places"
cost = "cost"
[demand]
places = 2300
[rules]
max_per_site = 50
max_share = 0.015
radius = { metres = 500, max_places = 100 }
access = { school = 1500, transit = 600 }
seats = { kind = "school", per_place = 0.25 }
[objective]
stages = ["shortfall", "evenness", "worst", "cost"]
[solver]
time_limit_s = 60
mip_gap = 0.0001
threads = 0
[output]
dir = "../out/musterstadt"
"#;
        let s = parse(text).unwrap();
        assert_eq!(s.demand, 2300);
        assert_eq!(s.rules.max_share, Some(0.015));
        assert_eq!(
            s.rules.spacing,
            Some(Spacing {
                metres: 500.0,
                max_places: 100
            })
        );
        assert_eq!(s.rules.access.len(), 2);
        assert_eq!(s.facilities[0].0, "school");
        assert_eq!(s.output_dir(None), PathBuf::from("out/musterstadt"));
        assert_eq!(s.solver.mip_gap, 0.0001);
    }

    #[test]
    fn unknown_keys_are_named_with_a_suggestion() {
        let text = MINIMAL.replace("[demand]", "[rules]\nmax_per_sit = 50\n[demand]");
        let err = parse(&text).unwrap_err();
        assert_eq!(
            err,
            "scenarios/test.toml: unknown key \"max_per_sit\" in [rules] (did you mean \"max_per_site\"?)"
        );
        let err =
            parse(&MINIMAL.replace("[demand]", "[fields.sites]\ncapacty = \"cap\"\n[demand]"))
                .unwrap_err();
        assert!(
            err.contains("\"capacty\" in [fields.sites] (did you mean \"capacity\"?)"),
            "{err}"
        );
        let err = parse(&format!("nmae = \"x\"\n{MINIMAL}")).unwrap_err();
        assert!(
            err.contains("unknown key \"nmae\" in the top level (did you mean \"name\"?)"),
            "{err}"
        );
    }

    #[test]
    fn demand_must_be_a_positive_whole_number() {
        for bad in ["0", "-5", "12.5", "\"many\""] {
            let err =
                parse(&MINIMAL.replace("places = 100", &format!("places = {bad}"))).unwrap_err();
            assert!(err.contains("positive whole number"), "{bad}: {err}");
        }
        assert_eq!(parse(&MINIMAL.replace("100", "100.0")).unwrap().demand, 100);
    }

    #[test]
    fn toml_syntax_errors_give_line_and_column() {
        let err = parse("[input\ndistricts = 1").unwrap_err();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn stages_keep_their_order_and_evenness() {
        let with = |stages: &str| parse(&format!("{MINIMAL}\n[objective]\nstages = {stages}\n"));
        assert_eq!(
            with(r#"["shortfall", "evenness", "cost"]"#).unwrap().stages,
            vec![Stage::Shortfall, Stage::Evenness, Stage::Cost]
        );
        assert!(with(r#"["shortfall", "worst"]"#).is_err());
        assert!(with(r#"["shortfall", "evenes"]"#)
            .unwrap_err()
            .contains("did you mean \"evenness\""));
    }

    #[test]
    fn access_must_name_a_facility_layer() {
        let text = MINIMAL.replace("[demand]", "[rules]\naccess = { school = 1000 }\n[demand]");
        assert!(parse(&text).unwrap_err().contains("no such layer"));
    }

    #[test]
    fn normalise_removes_parent_steps() {
        assert_eq!(normalise(Path::new("a/../b/./c")), PathBuf::from("b/c"));
        assert_eq!(normalise(Path::new("../x")), PathBuf::from("../x"));
    }
}
