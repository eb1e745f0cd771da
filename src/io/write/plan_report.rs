//! What the output folder shows about one solved scenario: the plan with its figures and
//! explanations, as handed to the writers of the layers (`output`) and the page (`report`).

use serde_json::{Map, Value};

use crate::error::InputError;
use crate::metrics::{Figures, LevelFigures, MostNewWithin};
use crate::model::{Instance, Plan, Stage};
use crate::spatial::Geography;

/// Everything the output folder shows about one solved scenario.
pub struct PlanReport<'a> {
    pub instance: &'a Instance,
    pub geography: &'a Geography,
    pub plan: &'a Plan,
    /// `optimal` or `time_limit`.
    pub status: &'a str,
    pub figures: &'a Figures,
    pub limited_by: &'a [&'static str],
    pub shortfall_reasons: &'a [(&'static str, u64)],
    pub sites_excluded: &'a [(&'static str, usize)],
    pub stages: &'a [(Stage, f64)],
    pub mip_gap: f64,
    /// Per district: fall of the evenness sum per extra place of capacity there.
    pub marginal_values: Option<&'a [f64]>,
    /// With demand levels: each level's figures (the last is the headline); empty without.
    pub levels: &'a [LevelFigures],
    /// The most new places within the spread radius of any site.
    pub spread: Option<MostNewWithin>,
    /// Mean distance from a new place to the nearest facility, per kind of stage access.
    pub distances: &'a [(String, Option<f64>)],
    /// The fair-share key when it is not the population (`[fields.districts] weight`).
    pub fair_share_key: Option<&'a str>,
    /// Extra figures for `summary.json` (model size, …).
    pub extra: Map<String, Value>,
    /// The sites shown (new places or occupied ones) with their WGS84 positions, from
    /// `shown_sites`.
    pub shown_sites: Vec<(usize, [f64; 2])>,
    /// With a street network: write `routes.geojson` (`[network] routes`).
    pub routes: bool,
}

/// The sites the output shows, those with new or occupied places, and their WGS84
/// positions: only these are reprojected, not every candidate of a million.
pub fn shown_sites(instance: &Instance, plan: &Plan) -> Result<Vec<(usize, [f64; 2])>, InputError> {
    let shown: Vec<usize> = (0..instance.sites.len())
        .filter(|&s| plan.places[s] > 0 || instance.sites[s].occupied > 0)
        .collect();
    let positions: Vec<[f64; 2]> = shown.iter().map(|&s| instance.sites[s].position).collect();
    let lonlat = crate::io::crs::to_lonlat(&instance.metric_crs, &positions).map_err(|e| {
        InputError::new(
            &instance.metric_crs,
            format!("cannot reproject the sites to longitude/latitude: {e}"),
        )
    })?;
    Ok(shown.into_iter().zip(lonlat).collect())
}

/// New accommodation, existing, or existing and extended.
pub fn site_kind(occupied: u32, new: u32) -> &'static str {
    match (occupied > 0, new > 0) {
        (false, _) => "new",
        (true, true) => "extended",
        (true, false) => "existing",
    }
}
