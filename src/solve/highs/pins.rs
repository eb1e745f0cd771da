//! Levels held at their own optima (`stages::solve_pinned`) as bounds on each district's new
//! places at each level.
//!
//! The pins are rows over the levels' deviation columns and deficit segments; the cost stage
//! after them is a MIP whose relaxation spreads places across districts in ways no plan
//! meeting the pins can (the demo city with 10 levels: the root relaxation 4 % below the
//! optimum). The separable model (site room and share caps per district; no minimum
//! occupancy, seats or spacing) is a relaxation of each level, so every plan that meets a
//! level's pins keeps each district within what the relaxation allows at those values:
//! evenness within its slack (`separable::evenness_bounds`), the worst district's
//! deviation, and stage fair within its slack (`separable::fair_bounds`), in that order,
//! each inside the bounds before. The bounds cut off no plan the pins keep; they only
//! tighten the relaxation.

use crate::model::{Instance, Stage};
use crate::solve::model::districts::{separable_districts, site_room_by_district};
use crate::solve::model::prepare::Prepared;
use crate::solve::model::separable::{evenness_bounds, fair_bounds, solve_separable};
use crate::solve::program::city::CityProgram;
use crate::solve::program::sparse::Row;
use crate::solve::trace::trace;

/// Rows lo ≤ Σ_{sites in d} x^l ≤ hi for every level and district that the pinned values
/// bound. `allowed[stage][l]` is the most level l may have in the stage (its own optimum
/// and the tolerance); shortfall must be among them.
pub(super) fn pinned_district_rows(
    instance: &Instance,
    levels: &[Prepared],
    city: &CityProgram,
    allowed: &[(Stage, Vec<f64>)],
) -> Vec<Row> {
    let most = |stage: Stage, l: usize| {
        allowed
            .iter()
            .find(|(s, _)| *s == stage)
            .map(|(_, values)| values[l])
    };
    let mut in_district: Vec<Vec<usize>> = vec![Vec::new(); instance.districts.len()];
    for (u, unit) in city.units.iter().enumerate() {
        in_district[unit.district as usize].push(u);
    }
    let mut rows = Vec::new();
    // Districts left a choice, per level bounded.
    let mut free = Vec::new();
    for (l, level) in levels.iter().enumerate() {
        let Some(shortfall) = most(Stage::Shortfall, l) else {
            return Vec::new();
        };
        let Some(bounds) = level_bounds(instance, level, shortfall, |stage| most(stage, l)) else {
            continue;
        };
        free.push(bounds.iter().filter(|b| b.0 < b.1).count());
        for (d, &(lo, hi, cap)) in bounds.iter().enumerate() {
            let terms = || -> Vec<_> {
                in_district[d]
                    .iter()
                    .map(|&u| (city.units[u].columns[l], 1.0))
                    .collect()
            };
            if hi < cap {
                rows.push(Row {
                    terms: terms(),
                    upper: hi as f64,
                    equal: false,
                });
            }
            if lo > 0 {
                rows.push(Row {
                    terms: terms().into_iter().map(|(c, v)| (c, -v)).collect(),
                    upper: -(lo as f64),
                    equal: false,
                });
            }
        }
    }
    trace(|| {
        format!(
            "  pins: {} district bounds at {} of {} levels; districts left a choice: {free:?}",
            rows.len(),
            free.len(),
            levels.len()
        )
    });
    rows
}

/// One level's bounds per district: (least, most, the relaxation's cap). `None` where the
/// relaxation cannot place what the level places, or reaches less than its pins allow in
/// no plan (then the program decides).
fn level_bounds(
    instance: &Instance,
    level: &Prepared,
    shortfall: f64,
    most: impl Fn(Stage) -> Option<f64>,
) -> Option<Vec<(u64, u64, u64)>> {
    let (districts, _) = separable_districts(instance, level);
    let placed = level
        .demand
        .checked_sub(shortfall.max(0.0).round() as u64)?;
    let total_cap: u64 = districts.iter().map(|d| d.cap).sum();
    if placed > total_cap {
        return None;
    }
    let mut bounds: Vec<(u64, u64)> = districts.iter().map(|d| (0, d.cap)).collect();
    if let Some(evenness) = most(Stage::Evenness) {
        let site_room = site_room_by_district(instance, level);
        let relaxed = solve_separable(&districts, placed, &[], &site_room);
        let least: f64 = districts
            .iter()
            .zip(&relaxed.places)
            .map(|(d, &x)| (x as f64 - d.kink).abs())
            .sum();
        if evenness < least - 1e-9 * least.max(1.0) {
            return None;
        }
        bounds = evenness_bounds(&districts, placed, evenness - least);
    }
    if let Some(z) = most(Stage::Worst) {
        for (bound, district) in bounds.iter_mut().zip(&districts) {
            let low = (district.kink - z - 1e-9).ceil().max(0.0) as u64;
            let high = (district.kink + z + 1e-9).floor();
            if high < 0.0 {
                return None;
            }
            *bound = (bound.0.max(low), bound.1.min(high as u64));
            if bound.0 > bound.1 {
                return None;
            }
        }
    }
    if let Some(fair) = most(Stage::Fair) {
        bounds = fair_bounds(&districts, placed, &bounds, fair)?;
    }
    Some(
        bounds
            .into_iter()
            .zip(&districts)
            .map(|((lo, hi), d)| (lo, hi, d.cap))
            .collect(),
    )
}
