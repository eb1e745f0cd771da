//! The exact per-district algorithm (`separable`) applied to a city: when no rule ties
//! sites together beyond their district, each district is one variable with its room, and
//! the stages are solved without HiGHS; the places are put on the district's sites in the
//! order of their key (cheapest or nearest first, as the stages ask), then in file order.
//! With demand levels, each level's optimal plans are a box per district, and nested plans
//! inside the boxes of every level (`separable::chain`) reach every level's own optimum.

use std::time::Instant;

use crate::model::{Instance, Plan, Stage};
use crate::solve::model::districts::{separable_districts, site_room_by_district};
use crate::solve::model::prepare::Prepared;
use crate::solve::model::separable::{self, SeparableDistrict, SeparablePlan, SeparableStage};
use crate::solve::model::solution::{ModelSize, Solution, SolveStatus};
use crate::solve::model::values::{runs, stage_value};
use crate::solve::program::neighbourhoods::{violated_spacing, SpacingRows};

/// True when some rule or stage ties sites together beyond their district: a minimum
/// occupancy, a spacing ball or a school's seats that can bind, or the spread stage.
pub(super) fn is_coupled(instance: &Instance, prepared: &Prepared, active: &SpacingRows) -> bool {
    let usable = |s: usize| prepared.site_room[s] > 0;
    if prepared.stages.contains(&Stage::Spread)
        || !active.rows.is_empty()
        || active.most_new.is_some()
        || (0..instance.sites.len()).any(|s| usable(s) && instance.sites[s].min_places > 0)
    {
        return true;
    }
    let mut served = vec![0u64; prepared.seat_room.len()];
    for (s, facility) in prepared.seat_facility.iter().enumerate() {
        if let Some(f) = facility {
            served[*f as usize] += u64::from(prepared.site_room[s]);
        }
    }
    prepared
        .seat_room
        .iter()
        .zip(&served)
        .any(|(room, &served)| room.is_some_and(|r| r < served))
}

/// The stages after evenness as the separable model sees them (stages that do not run are
/// left out).
fn later_stages(instance: &Instance, prepared: &Prepared) -> Vec<SeparableStage> {
    let positions = prepared.per_place_stages();
    prepared
        .stages
        .iter()
        .skip(2)
        .filter(|&&stage| runs(instance, stage))
        .filter_map(|&stage| match stage {
            Stage::Fair => Some(SeparableStage::Fair),
            Stage::Worst => Some(SeparableStage::Worst),
            Stage::Cost | Stage::Access => positions
                .iter()
                .find(|(s, _)| *s == stage)
                .map(|&(_, position)| SeparableStage::PerPlace(position)),
            _ => None,
        })
        .collect()
}

/// Puts each district's new places on its sites in fill order.
fn plan_from(
    instance: &Instance,
    prepared: &Prepared,
    sites_of: &[Vec<u32>],
    places: &[u64],
) -> Plan {
    let mut plan = Plan::empty(instance.sites.len());
    for (d, list) in sites_of.iter().enumerate() {
        let mut left = places[d];
        for &s in list {
            let take = left.min(u64::from(prepared.site_room[s as usize]));
            plan.places[s as usize] = take as u32;
            left -= take;
        }
    }
    plan
}

/// The stages that run, with their values for the plan.
pub(super) fn stage_values(
    instance: &Instance,
    prepared: &Prepared,
    plan: &Plan,
) -> Vec<(Stage, f64)> {
    prepared
        .stages
        .iter()
        .filter(|&&stage| runs(instance, stage))
        .map(|&stage| (stage, stage_value(stage, instance, prepared, plan)))
        .collect()
}

/// The separable model of the city solved, with its boxes.
fn solve_districts(
    instance: &Instance,
    prepared: &Prepared,
) -> (SeparablePlan, Vec<SeparableDistrict>, Vec<Vec<u32>>) {
    let site_room = site_room_by_district(instance, prepared);
    let (districts, sites_of) = separable_districts(instance, prepared);
    let result = separable::solve_separable(
        &districts,
        prepared.demand,
        &later_stages(instance, prepared),
        &site_room,
    );
    (result, districts, sites_of)
}

/// The exact per-district algorithm (see `separable`) when no rule couples sites.
pub(crate) fn solve_separable_city(
    instance: &Instance,
    prepared: &Prepared,
    active: &SpacingRows,
) -> Option<Solution> {
    if is_coupled(instance, prepared, active) {
        return None;
    }
    let started_here = Instant::now();
    let (result, districts, sites_of) = solve_districts(instance, prepared);
    let plan = plan_from(instance, prepared, &sites_of, &result.places);
    let stages = stage_values(instance, prepared, &plan);
    Some(Solution {
        plan,
        status: SolveStatus::Optimal,
        stages,
        mip_gap: 0.0,
        gap_stage: None,
        size: ModelSize {
            columns: districts.len(),
            integers: 0,
            rows: 0,
            aggregated_sites: sites_of.iter().map(Vec::len).sum(),
        },
        marginal_values: Some(result.marginal_values),
        method: "separable",
        spacing_rows: 0,
        build_s: 0.0,
        solve_s: started_here.elapsed().as_secs_f64(),
        levels: Vec::new(),
    })
}

/// Nested plans for the levels (`levels[l]` prepared for level l's demand) when no rule
/// couples sites: the plans and how many of the stages (counted from the first, among
/// those that run) reach every level's own optimum. `None` when sites are coupled, or when
/// the last level's plan overfills a spacing ball (the relaxation without spacing does not
/// hold then).
pub(crate) fn nested_separable(
    instance: &Instance,
    levels: &[Prepared],
) -> Option<(Vec<Plan>, usize)> {
    let (plans, reached) = nested_without_spacing(instance, levels)?;
    let last = levels.last()?;
    let overfills = plans
        .last()
        .is_some_and(|plan| !violated_spacing(last, &[], plan).is_empty());
    (!overfills).then_some((plans, reached))
}

fn nested_without_spacing(instance: &Instance, levels: &[Prepared]) -> Option<(Vec<Plan>, usize)> {
    let first = levels.first()?;
    if is_coupled(instance, first, &SpacingRows::none(instance)) {
        return None;
    }
    let solved: Vec<(SeparablePlan, Vec<SeparableDistrict>, Vec<Vec<u32>>)> = levels
        .iter()
        .map(|prepared| solve_districts(instance, prepared))
        .collect();
    let (_, districts, sites_of) = &solved[0];
    let placed: Vec<u64> = solved.iter().map(|(r, _, _)| r.placed).collect();
    let stages_after_evenness = solved[0].0.boxes.len() - 1;
    // The most stages whose boxes hold nested plans: all, else fewer.
    for after in (0..=stages_after_evenness).rev() {
        let boxes: Vec<Vec<(u64, u64)>> = solved
            .iter()
            .map(|(r, _, _)| r.boxes[after].clone())
            .collect();
        if let Some(places) = separable::nested::chain(districts, &boxes, &placed) {
            let plans = places
                .iter()
                .zip(levels)
                .map(|(places, prepared)| plan_from(instance, prepared, sites_of, places))
                .collect();
            return Some((plans, 2 + after));
        }
    }
    // Shortfall alone: any nested plans placing each level's most, e.g. the last level's
    // plan cut down in fill order.
    let most = &solved.last()?.0.places;
    let mut plans = Vec::with_capacity(levels.len());
    for (l, prepared) in levels.iter().enumerate() {
        let mut left = placed[l];
        let places: Vec<u64> = most
            .iter()
            .map(|&x| {
                let take = x.min(left);
                left -= take;
                take
            })
            .collect();
        plans.push(plan_from(instance, prepared, sites_of, &places));
    }
    Some((plans, 1))
}
