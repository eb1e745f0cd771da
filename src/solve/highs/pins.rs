//! Levels held at their own optima (`stages::solve_pinned`) as bounds on each district's new
//! places at each level.
//!
//! The pins are rows over the levels' deviation columns and deficit segments; the cost stage
//! after them is a MIP whose relaxation spreads places across districts in ways no plan
//! meeting the pins can (the demo city with 10 levels: the root relaxation 4 % below the
//! optimum). The ranges each district's places keep in every plan that meets the pins
//! (`level_ranges`) become rows: they cut off no plan the pins keep and only tighten the
//! relaxation.

use crate::model::{Instance, Stage};
use crate::solve::model::level_ranges::pinned_ranges;
use crate::solve::model::prepare::Prepared;
use crate::solve::program::city::CityProgram;
use crate::solve::program::sparse::Row;
use crate::solve::trace::trace;

/// Rows lo ≤ Σ_{sites in d} x^l ≤ hi for every level and district that the pinned values
/// bound (`level_ranges::pinned_ranges`). `own[stage][l]` is level l's own optimum in the
/// stage, `allowed[stage][l]` the most it may have (that and the tolerance).
pub(super) fn pinned_district_rows(
    instance: &Instance,
    levels: &[Prepared],
    city: &CityProgram,
    own: &[(Stage, Vec<f64>)],
    allowed: &[(Stage, Vec<f64>)],
) -> Vec<Row> {
    let mut in_district: Vec<Vec<usize>> = vec![Vec::new(); instance.districts.len()];
    for (u, unit) in city.units.iter().enumerate() {
        in_district[unit.district as usize].push(u);
    }
    let ranges = pinned_ranges(instance, levels, own, allowed);
    let mut rows = Vec::new();
    // Districts left a choice, per level bounded.
    let mut free = Vec::new();
    for (l, bounds) in ranges.iter().enumerate() {
        let Some(bounds) = bounds else {
            continue;
        };
        free.push(bounds.districts.iter().filter(|b| b.least < b.most).count());
        for (d, range) in bounds.districts.iter().enumerate() {
            let terms = || -> Vec<_> {
                in_district[d]
                    .iter()
                    .map(|&u| (city.units[u].columns[l], 1.0))
                    .collect()
            };
            if range.most < range.cap {
                rows.push(Row {
                    terms: terms(),
                    upper: range.most as f64,
                    equal: false,
                });
            }
            if range.least > 0 {
                rows.push(Row {
                    terms: terms().into_iter().map(|(c, v)| (c, -v)).collect(),
                    upper: -(range.least as f64),
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
