//! The exact per-district algorithm (`separable`) applied to a city: when no rule ties
//! sites together beyond their district, each district is one variable with its room, and
//! the stages are solved without HiGHS; the places are put on the district's sites cheapest
//! first, then in file order.

use std::time::Instant;

use super::lazy::SpacingRows;
use super::prepare::Prepared;
use super::separable;
use super::{stage_value, ModelSize, Solution, SolveStatus};
use crate::model::{Instance, Plan, Stage};

/// Sites grouped by the column they share, and the new places that could go there.
pub(super) fn site_room_by_district(instance: &Instance, prepared: &Prepared) -> Vec<u64> {
    let mut room = vec![0u64; instance.districts.len()];
    for (s, &r) in prepared.site_room.iter().enumerate() {
        if let Some(d) = prepared.site_district[s] {
            room[d as usize] += u64::from(r);
        }
    }
    room
}

/// True when some rule ties sites together beyond their district: a minimum occupancy, a
/// spacing ball or a school's seats that can bind.
pub(super) fn is_coupled(instance: &Instance, prepared: &Prepared, active: &SpacingRows) -> bool {
    let usable = |s: usize| prepared.site_room[s] > 0;
    if !active.rows.is_empty()
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

/// The districts of the separable model, and each district's usable sites, cheapest first
/// (when the cost stage runs), then in file order.
pub(super) fn separable_districts(
    instance: &Instance,
    prepared: &Prepared,
) -> (Vec<separable::SeparableDistrict>, Vec<Vec<u32>>) {
    let with_cost = instance.stages.contains(&Stage::Cost);
    let site_room = site_room_by_district(instance, prepared);
    let mut sites_of: Vec<Vec<u32>> = vec![Vec::new(); instance.districts.len()];
    for (s, &room) in prepared.site_room.iter().enumerate() {
        if let (Some(d), true) = (prepared.site_district[s], room > 0) {
            sites_of[d as usize].push(s as u32);
        }
    }
    let cost_of = |s: u32| {
        if with_cost {
            instance.sites[s as usize].cost.unwrap_or(0.0)
        } else {
            0.0
        }
    };
    for list in &mut sites_of {
        list.sort_by(|&a, &b| cost_of(a).total_cmp(&cost_of(b)).then(a.cmp(&b)));
    }
    let districts = (0..instance.districts.len())
        .map(|d| {
            let mut blocks: Vec<(f64, u64)> = Vec::new();
            for &s in &sites_of[d] {
                let room = u64::from(prepared.site_room[s as usize]);
                match blocks.last_mut() {
                    Some(last) if last.0 == cost_of(s) => last.1 += room,
                    _ => blocks.push((cost_of(s), room)),
                }
            }
            separable::SeparableDistrict {
                cap: prepared.share_room[d].map_or(site_room[d], |r| r.min(site_room[d])),
                kink: prepared.target[d] - prepared.district_existing[d],
                blocks,
            }
        })
        .collect();
    (districts, sites_of)
}

/// The exact per-district algorithm (see `separable`) when no rule couples sites.
pub(super) fn solve_separable_city(
    instance: &Instance,
    prepared: &Prepared,
    active: &SpacingRows,
) -> Option<Solution> {
    if is_coupled(instance, prepared, active) {
        return None;
    }
    let started_here = Instant::now();
    let site_room = site_room_by_district(instance, prepared);
    let (districts, sites_of) = separable_districts(instance, prepared);
    let build_s = started_here.elapsed().as_secs_f64();
    let result = separable::solve_separable(
        &districts,
        instance.demand,
        instance.stages.contains(&Stage::Worst),
        &site_room,
    );
    let mut plan = Plan::empty(instance.sites.len());
    for (d, list) in sites_of.iter().enumerate() {
        let mut left = result.places[d];
        for &s in list {
            let take = left.min(u64::from(prepared.site_room[s as usize]));
            plan.places[s as usize] = take as u32;
            left -= take;
        }
    }
    let has_cost = instance.sites.iter().any(|s| s.cost.is_some());
    let stages = instance
        .stages
        .iter()
        .filter(|&&stage| stage != Stage::Cost || has_cost)
        .map(|&stage| (stage, stage_value(stage, instance, prepared, &plan)))
        .collect();
    Some(Solution {
        plan,
        status: SolveStatus::Optimal,
        stages,
        mip_gap: 0.0,
        size: ModelSize {
            columns: districts.len(),
            integers: 0,
            rows: 0,
            aggregated_sites: sites_of.iter().map(Vec::len).sum(),
        },
        marginal_values: Some(result.marginal_values),
        method: "separable",
        spacing_rows: 0,
        build_s,
        solve_s: started_here.elapsed().as_secs_f64() - build_s,
    })
}
