//! The districts' sites refilled for the least nested cost, each district's places per
//! level kept (the dynamic program of `nested_cost` with the places fixed), where every
//! rule still holds.

use super::{district_sites, DistrictSites, Tables, WORK_LIMIT};
use crate::model::{Instance, Plan};
use crate::solve::model::prepare::Prepared;

/// Nested plans at the same places per district and level as `plans`, each district's
/// sites refilled for its least nested cost (the dynamic program above with the district's
/// places fixed) where that keeps every spacing ball and school's seats at every level; a
/// district where it does not keeps its sites. The stages that count districts' places
/// keep their values; cost falls or stays. Returns the weighted cost saved.
pub(crate) fn cheaper_within_districts(
    instance: &Instance,
    levels: &[Prepared],
    weights: &[f64],
    plans: &mut [Plan],
) -> f64 {
    let (Some(last), Some(last_plan)) = (levels.last(), plans.last()) else {
        return 0.0;
    };
    let districts = district_sites(instance, last, &last_plan.places);
    let totals = |sites: &DistrictSites, plans: &[Plan]| -> Vec<u64> {
        plans
            .iter()
            .map(|plan| {
                sites
                    .open
                    .iter()
                    .map(|o| o.2)
                    .chain(sites.least.iter().map(|o| o.3))
                    .map(|s| u64::from(plan.places[s as usize]))
                    .sum()
            })
            .collect()
    };
    let work: u64 = districts
        .iter()
        .map(|sites| sites.work(totals(sites, plans).into_iter()))
        .sum();
    if work > WORK_LIMIT {
        return 0.0;
    }
    let mut balls_of: Vec<Vec<u32>> = vec![Vec::new(); instance.sites.len()];
    for (b, ball) in last.spacing.iter().enumerate() {
        for &s in &ball.members {
            balls_of[s as usize].push(b as u32);
        }
    }
    let mut served: Vec<Vec<u32>> = vec![Vec::new(); last.seat_room.len()];
    for (s, facility) in last.seat_facility.iter().enumerate() {
        if let Some(f) = facility {
            served[*f as usize].push(s as u32);
        }
    }
    let cost_of = |s: u32| instance.sites[s as usize].cost.unwrap_or(0.0);
    let mut saved = 0.0;
    for sites in &districts {
        let placed = totals(sites, plans);
        let spans: Vec<(u64, u64)> = placed.iter().map(|&a| (a, a)).collect();
        let prices = vec![0.0; spans.len()];
        let Some((least, refill)) = Tables::new(sites, &spans).splits(&spans, weights, &prices)
        else {
            continue;
        };
        let members: Vec<u32> = sites
            .open
            .iter()
            .map(|o| o.2)
            .chain(sites.least.iter().map(|o| o.3))
            .collect();
        let weighted_cost = |plans: &[Plan]| -> f64 {
            plans
                .iter()
                .zip(weights)
                .map(|(plan, &w)| {
                    let cost: f64 = members
                        .iter()
                        .map(|&s| cost_of(s) * f64::from(plan.places[s as usize]))
                        .sum();
                    w * cost
                })
                .sum()
        };
        let now = weighted_cost(plans);
        if least >= now - 1e-9 * now.abs().max(1.0) {
            continue;
        }
        let Some(filled) = fill(sites, &refill) else {
            continue;
        };
        // Every spacing ball and school the district's sites lie in, at every level.
        let mut balls: Vec<u32> = members
            .iter()
            .flat_map(|&s| balls_of[s as usize].iter().copied())
            .collect();
        balls.sort_unstable();
        balls.dedup();
        let mut schools: Vec<u32> = members
            .iter()
            .filter_map(|&s| last.seat_facility.get(s as usize).copied().flatten())
            .collect();
        schools.sort_unstable();
        schools.dedup();
        // Refill in place; put back where a rule breaks or nothing is saved.
        let before: Vec<Vec<u32>> = plans
            .iter()
            .map(|plan| members.iter().map(|&s| plan.places[s as usize]).collect())
            .collect();
        for (plan, level) in plans.iter_mut().zip(&filled) {
            for &s in &members {
                plan.places[s as usize] = 0;
            }
            for &(s, x) in level {
                plan.places[s as usize] = x;
            }
        }
        let keeps = plans.iter().zip(levels).all(|(plan, level)| {
            let load = |sites: &[u32]| -> u64 {
                sites
                    .iter()
                    .map(|&s| u64::from(plan.places[s as usize]))
                    .sum()
            };
            balls.iter().all(|&b| {
                let ball = &last.spacing[b as usize];
                load(&ball.members) <= ball.room
            }) && schools.iter().all(|&f| {
                level.seat_room[f as usize].is_none_or(|room| load(&served[f as usize]) <= room)
            })
        });
        let cost = weighted_cost(plans);
        if keeps && cost < now - 1e-9 * now.abs().max(1.0) {
            saved += now - cost;
        } else {
            for (plan, old) in plans.iter_mut().zip(&before) {
                for (&s, &x) in members.iter().zip(old) {
                    plan.places[s as usize] = x;
                }
            }
        }
    }
    saved
}

/// The district's places per level from its splits: r on the sites without a minimum by
/// cost, q on those with one by cost, each filled to its room; `None` where the last site
/// opened would get less than its minimum.
fn fill(sites: &DistrictSites, splits: &[(usize, usize)]) -> Option<Vec<Vec<(u32, u32)>>> {
    splits
        .iter()
        .map(|&(q, r)| {
            let mut places = Vec::new();
            let mut left = r as u64;
            for &(_, room, s) in &sites.open {
                if left == 0 {
                    break;
                }
                let x = left.min(room);
                places.push((s, x as u32));
                left -= x;
            }
            if left > 0 {
                return None;
            }
            let mut left = q as u64;
            for &(_, least, room, s) in &sites.least {
                if left == 0 {
                    break;
                }
                let x = left.min(room);
                if x < least {
                    return None;
                }
                places.push((s, x as u32));
                left -= x;
            }
            (left == 0).then_some(places)
        })
        .collect()
}
