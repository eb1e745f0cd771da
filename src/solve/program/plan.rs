//! A plan of whole places read into the program's columns (`values_of`, with the continuous
//! columns at the least the rows allow: `settle_continuous`) and accepted as a stage's result
//! when it keeps every row (`settled_if_feasible`, `plan_result`), and as its optimum when it
//! also keeps every neighbourhood and lies within the MIP gap of a bound (`within_gap`). The
//! rounded LP optima of the HiGHS route and the searched plans of the spread stage are all
//! judged here.

use super::city::{read_plan, CityProgram, Segments};
use super::neighbourhoods::SpacingRows;
use super::rows::{overfilled_by, Take};
use super::sparse::{Col, Program, Settings, StageResult, StageStatus};
use crate::model::{Instance, Plan};
use crate::solve::model::prepare::Prepared;
use crate::solve::trace::trace;

/// Column values of whole-number plans (one per level): each unit's places and its "used"
/// binary; the continuous columns are left for `settle_continuous`.
pub(crate) fn values_of(program: &Program, city: &CityProgram, plans: &[Plan]) -> Vec<f64> {
    let mut values = vec![0.0; program.columns.len()];
    for (l, plan) in plans.iter().enumerate() {
        for unit in &city.units {
            values[unit.columns[l]] = unit
                .sites
                .iter()
                .map(|&s| f64::from(plan.places[s as usize]))
                .sum();
        }
        let level = &city.levels[l];
        for (&y, &u) in level.binaries.iter().zip(&level.binary_units) {
            values[y] = if values[city.units[u].columns[l]] > 0.5 {
                1.0
            } else {
                0.0
            };
        }
    }
    values
}

/// The continuous columns at the least values the rows allow for the integer columns in
/// `values`: shortfall, deviations, fair deficits, worst deviation and largest spread load
/// per level, and the segments filled in key order.
fn settle_continuous(
    instance: &Instance,
    levels_prepared: &Prepared,
    city: &CityProgram,
    segments: &Segments,
    values: &mut [f64],
    level_demand: impl Fn(usize) -> (f64, Vec<f64>),
) {
    for (l, level) in city.levels.iter().enumerate() {
        let mut new_places = vec![0.0; instance.districts.len()];
        for unit in &city.units {
            new_places[unit.district as usize] += values[unit.columns[l]];
        }
        let (demand, kinks) = level_demand(l);
        values[level.shortfall] = (demand - new_places.iter().sum::<f64>()).max(0.0);
        let mut worst: f64 = 0.0;
        for (d, &new) in new_places.iter().enumerate() {
            let deviation = new - kinks[d];
            values[level.over[d]] = deviation.max(0.0);
            values[level.under[d]] = (-deviation).max(0.0);
            worst = worst.max(deviation.abs());
        }
        if let Some(z) = level.worst {
            values[z] = worst;
        }
        // Stage fair: each district's deficit below its share, filled into its segments in
        // order (their costs rise, so this is the least the rows allow).
        for (d, columns) in &level.fair_by_district {
            let mut left = (values[level.under[*d]] - values[level.over[*d]]).max(0.0);
            for &(column, width) in columns {
                let take = left.min(width);
                values[column] = take;
                left -= take;
            }
        }
        if let Some(z) = level.spread {
            let plan = read_plan(instance, levels_prepared, city, values, l);
            values[z] = levels_prepared
                .spread_balls(instance)
                .most_new(instance, &plan) as f64;
        }
    }
    for (unit, level, columns) in segments {
        let mut left = values[city.units[*unit].columns[*level]];
        for (&column, &(_, places)) in columns.iter().zip(&city.units[*unit].blocks) {
            let take = left.min(places as f64);
            values[column] = take;
            left -= take;
        }
    }
}

/// The rounded values with the continuous columns settled, when they meet every row and
/// column bound.
pub(crate) fn settled_if_feasible(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    segments: &Segments,
    program: &Program,
    objective: &[(Col, f64)],
    mut values: Vec<f64>,
) -> Option<StageResult> {
    settle_continuous(instance, prepared, city, segments, &mut values, |l| {
        let level = &city.levels[l];
        (
            program.rows[level.demand_row].upper,
            level
                .deviation_rows
                .iter()
                .map(|&r| program.rows[r].upper)
                .collect(),
        )
    });
    let meets_rows = program.rows.iter().all(|row| {
        let lhs: f64 = row.terms.iter().map(|&(c, k)| k * values[c]).sum();
        let tolerance = 1e-7 + 1e-9 * row.upper.abs();
        if row.equal {
            (lhs - row.upper).abs() <= tolerance
        } else {
            lhs <= row.upper + tolerance
        }
    });
    let within_bounds = values
        .iter()
        .zip(&program.columns)
        .all(|(&v, c)| v >= c.lower - 1e-9 && v <= c.upper + 1e-9);
    if !(meets_rows && within_bounds) {
        if std::env::var_os("QUARTIER_TRACE_ROWS").is_some() {
            for (i, row) in program.rows.iter().enumerate() {
                let lhs: f64 = row.terms.iter().map(|&(c, k)| k * values[c]).sum();
                let tolerance = 1e-7 + 1e-9 * row.upper.abs();
                let broken = if row.equal {
                    (lhs - row.upper).abs() > tolerance
                } else {
                    lhs > row.upper + tolerance
                };
                if broken {
                    eprintln!(
                        "    row {i}: {lhs} vs {} ({} terms, equal {})",
                        row.upper,
                        row.terms.len(),
                        row.equal
                    );
                }
            }
            eprintln!("    within bounds: {within_bounds}");
        }
        return None;
    }
    let value = objective.iter().map(|&(c, k)| k * values[c]).sum::<f64>();
    Some(StageResult {
        status: StageStatus::Optimal,
        objective: value,
        values,
        mip_gap: 0.0,
    })
}

/// `result`, a plan that meets every row of the program, when it keeps every neighbourhood
/// and its value lies within the MIP gap of `bound` (the LP optimum that keeps every
/// neighbourhood), with that gap; otherwise `None`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn within_gap(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    active: &SpacingRows,
    settings: Settings,
    bound: f64,
    result: StageResult,
    what: &str,
) -> Option<StageResult> {
    let value = result.objective;
    let gap = (value - bound).max(0.0) / value.abs().max(1.0);
    let within = value - bound <= 1e-7 || gap <= settings.mip_gap;
    let keeps_balls = overfilled_by(
        instance,
        prepared,
        city,
        active,
        &result.values,
        Take::Thinned,
    )
    .is_empty();
    trace(|| {
        format!(
            "  {what}: {value} against the bound {bound} (gap {gap:.2e}); keeps every neighbourhood: {keeps_balls}"
        )
    });
    (within && keeps_balls && result.status == StageStatus::Optimal).then_some(StageResult {
        mip_gap: gap,
        ..result
    })
}

/// `plan` as a result of the stage: every column's value, the continuous ones at the least
/// the rows allow; `None` when the plan breaks a row of the program.
pub(crate) fn plan_result(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    segments: &Segments,
    program: &Program,
    objective: &[(Col, f64)],
    plan: &Plan,
) -> Option<StageResult> {
    let values = values_of(program, city, std::slice::from_ref(plan));
    settled_if_feasible(
        instance, prepared, city, segments, program, objective, values,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::{city, site};
    use crate::model::Stage;
    use crate::solve::program::city::build;
    use crate::spatial::Geography;

    /// A plan read into a program with stage fair's segments meets every row, and the stage's
    /// value is the plan's F (the rounding and the fallbacks of the lazy route rely on it).
    #[test]
    fn a_plan_fills_the_fair_segments() {
        let mut instance = city(
            &[1000.0, 3000.0, 2000.0],
            vec![
                site("A", 500.0, 500.0, 40),
                site("B", 1500.0, 500.0, 40),
                site("C", 2500.0, 500.0, 40),
            ],
            30,
        );
        instance.stages = vec![Stage::Shortfall, Stage::Evenness, Stage::Fair];
        let geography = Geography::of(&instance);
        let prepared = Prepared::new(&instance, &geography);
        let city = build(
            &instance,
            std::slice::from_ref(&prepared),
            &[1.0],
            &SpacingRows::none(&instance),
            true,
        );
        let mut program = city.program.clone();
        let mut segments = Segments::new();
        let objective = city
            .objective(Stage::Fair, None, &mut program, &mut segments)
            .expect("stage fair has an objective");
        for places in [
            vec![5, 15, 10],
            vec![0, 30, 0],
            vec![12, 3, 7],
            vec![0, 0, 0],
        ] {
            let plan = Plan { places };
            let result = plan_result(
                &instance, &prepared, &city, &segments, &program, &objective, &plan,
            )
            .expect("the plan meets every row");
            let f = crate::metrics::figures(&instance, &geography.site_district, &plan).fair;
            assert!(
                (result.objective - f).abs() < 1e-9,
                "{:?}: {} against F = {f}",
                plan.places,
                result.objective
            );
        }
    }
}
