//! The scenario file as written: serde mirrors of its tables, unknown keys rejected. The
//! other files of this room check them into the typed `Scenario`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::fields::{FacilityFields, RawDistrictFields, SiteFields};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub(super) name: Option<String>,
    pub(super) input: RawInput,
    #[serde(default)]
    pub(super) fields: RawFields,
    pub(super) demand: RawDemand,
    #[serde(default)]
    pub(super) rules: RawRules,
    #[serde(default)]
    pub(super) objective: RawObjective,
    #[serde(default)]
    pub(super) solver: RawSolver,
    #[serde(default)]
    pub(super) output: RawOutput,
    pub(super) network: Option<RawNetwork>,
    /// `quartier sweep`'s table, read by the sweep itself; `solve` and the others ignore it.
    #[allow(dead_code)]
    pub(super) sweep: Option<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInput {
    pub(super) districts: String,
    pub(super) sites: String,
    pub(super) crs: Option<String>,
    pub(super) metric_crs: Option<String>,
    #[serde(default)]
    pub(super) facilities: BTreeMap<String, String>,
    pub(super) statistics: Option<RawStatistics>,
    pub(super) network: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStatistics {
    pub(super) file: String,
    pub(super) key: String,
    pub(super) delimiter: Option<String>,
    pub(super) decimal: Option<String>,
    pub(super) encoding: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFields {
    #[serde(default)]
    pub(super) districts: RawDistrictFields,
    #[serde(default)]
    pub(super) sites: SiteFields,
    #[serde(default)]
    pub(super) facilities: FacilityFields,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDemand {
    pub(super) places: Option<toml::Value>,
    pub(super) levels: Option<toml::Value>,
    pub(super) weights: Option<toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRules {
    pub(super) max_per_site: Option<toml::Value>,
    pub(super) max_share: Option<f64>,
    pub(super) radius: Option<RawRadius>,
    pub(super) access: Option<BTreeMap<String, f64>>,
    pub(super) seats: Option<RawSeats>,
    #[serde(default)]
    pub(super) district: Vec<RawDistrictRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDistrictRule {
    #[serde(rename = "where")]
    pub(super) condition: String,
    pub(super) max_share: Option<f64>,
    pub(super) max_new: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRadius {
    pub(super) metres: f64,
    pub(super) max_places: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSeats {
    pub(super) kind: String,
    pub(super) per_place: f64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawObjective {
    pub(super) stages: Option<Vec<String>>,
    pub(super) spread_metres: Option<toml::Value>,
    pub(super) access_kinds: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSolver {
    pub(super) time_limit_s: Option<f64>,
    pub(super) mip_gap: Option<f64>,
    pub(super) threads: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutput {
    pub(super) dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNetwork {
    pub(super) max_snap_m: Option<f64>,
    pub(super) routes: Option<bool>,
}
