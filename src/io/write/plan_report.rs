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
    /// The first stage the plan is not proven optimal in (with the time limit's status).
    pub gap_stage: Option<Stage>,
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
    /// With a street network: the walk from each site with new places to its nearest
    /// facility of each route kind (`ways_on_foot`); empty without.
    pub ways: Vec<WayOnFoot>,
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

/// The facility kinds the routes lead to: those of the access rule and stage, or every
/// kind when neither names one.
pub fn route_kinds(instance: &Instance) -> Vec<String> {
    let mut kinds: Vec<String> = instance
        .rules
        .access
        .iter()
        .map(|a| a.kind.clone())
        .collect();
    if instance.stages.contains(&Stage::Access) {
        for kind in instance.access_kinds() {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
    }
    if kinds.is_empty() {
        kinds = instance.facilities.iter().map(|l| l.kind.clone()).collect();
    }
    // In the order of the facility layers.
    instance
        .facilities
        .iter()
        .map(|l| l.kind.clone())
        .filter(|k| kinds.contains(k))
        .collect()
}

/// One way on foot for `routes.geojson`, in longitude/latitude.
pub struct WayOnFoot {
    pub site: usize,
    pub site_id: String,
    pub kind: String,
    pub facility_id: String,
    pub metres: f64,
    pub line_metres: f64,
    pub lonlat: Vec<[f64; 2]>,
}

/// For each site with new places and each route kind, the walk to its nearest facility,
/// reprojected to longitude/latitude in one go.
pub fn ways_on_foot(
    instance: &Instance,
    geography: &Geography,
    plan: &Plan,
) -> Result<Vec<WayOnFoot>, InputError> {
    let Some(walks) = &geography.walks else {
        return Ok(Vec::new());
    };
    let kinds = route_kinds(instance);
    let layers: Vec<usize> = instance
        .facilities
        .iter()
        .enumerate()
        .filter(|(_, l)| kinds.contains(&l.kind))
        .map(|(i, _)| i)
        .collect();
    let mut found = Vec::new();
    let mut points: Vec<[f64; 2]> = Vec::new();
    for (s, site) in instance.sites.iter().enumerate() {
        if plan.places[s] == 0 {
            continue;
        }
        for &layer in &layers {
            let Some(route) = walks.route(layer, s, site.position) else {
                continue;
            };
            let facility = instance.facilities[layer].facilities[route.facility as usize].position;
            let line_metres =
                (facility[0] - site.position[0]).hypot(facility[1] - site.position[1]);
            points.extend(&route.points);
            points.push(facility);
            found.push((s, layer, route, line_metres));
        }
    }
    let lonlat = crate::io::crs::to_lonlat(&instance.metric_crs, &points).map_err(|e| {
        InputError::new(
            &instance.metric_crs,
            format!("cannot reproject the routes to longitude/latitude: {e}"),
        )
    })?;
    let mut at = 0;
    Ok(found
        .into_iter()
        .map(|(site, layer, route, line_metres)| {
            let n = route.points.len() + 1;
            let mut way: Vec<[f64; 2]> = lonlat[at..at + n].to_vec();
            at += n;
            way.dedup();
            let layer = &instance.facilities[layer];
            WayOnFoot {
                site,
                site_id: instance.sites[site].id.clone(),
                kind: layer.kind.clone(),
                facility_id: layer.facilities[route.facility as usize].id.clone(),
                metres: route.metres,
                line_metres,
                lonlat: way,
            }
        })
        .collect())
}
