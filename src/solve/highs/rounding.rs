//! From a stage's LP optimum to whole places, for the lazy route (`lazy`): the LP optimum
//! rounded (`rounded_within_gap`), or with its whole columns fixed and the rest solved again
//! (`whole_columns_fixed`), is accepted when it keeps every row and neighbourhood and lies
//! within the MIP gap of the LP bound (`program::plan`, which reads a plan into the
//! program's columns and judges it).

use std::collections::BTreeMap;

use crate::error::Error;
use crate::model::{Instance, Plan};
use crate::solve::model::prepare::Prepared;
use crate::solve::program::city::{read_plan, CityProgram, Segments};
use crate::solve::program::neighbourhoods::SpacingRows;
use crate::solve::program::plan::{settled_if_feasible, within_gap};
use crate::solve::program::rows::{add_rows, overfilled_by, Take};
use crate::solve::program::sparse::{Col, Program, Settings, StageResult, StageStatus};
use crate::solve::trace::trace;

/// The LP optimum `lp` (which keeps every neighbourhood) is a lower bound for the stage
/// (`bound`, rounded up where the optimum is a whole number). Its integer columns rounded to
/// the nearest whole number, with the continuous columns at the least values the rows allow,
/// are a plan; when that plan meets every row and neighbourhood and its value is within the
/// MIP gap of the bound, it is optimal in exactly the sense HiGHS's MIP would prove, and the
/// MIP (whose presolve alone takes most of the time on large grids) is not needed.
#[allow(clippy::too_many_arguments)]
pub(super) fn rounded_within_gap(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    segments: &Segments,
    program: &Program,
    active: &SpacingRows,
    objective: &[(Col, f64)],
    settings: Settings,
    lp: &StageResult,
    bound: f64,
) -> Rounded {
    let mut best: Option<StageResult> = None;
    for rounding in [
        Rounding::Nearest,
        Rounding::KeepDistrictTotals,
        Rounding::RepairDistricts,
    ] {
        let Some(values) = rounded(instance, program, city, objective, &lp.values, rounding) else {
            continue;
        };
        let Some(result) = settled_if_feasible(
            instance, prepared, city, segments, program, objective, values,
        ) else {
            continue;
        };
        if best.as_ref().is_none_or(|b| result.objective < b.objective) {
            best = Some(result);
        }
    }
    let Some(best) = best else {
        trace(|| "  rounded LP optimum breaks a row".to_string());
        return Rounded::BreaksARow;
    };
    // Neighbourhoods not in the model may be overfilled: then it is no plan to start from.
    let keeps = overfilled_by(
        instance,
        prepared,
        city,
        active,
        &best.values,
        Take::Thinned,
    )
    .is_empty();
    let plan = keeps.then(|| read_plan(instance, prepared, city, &best.values, 0));
    match within_gap(
        instance,
        prepared,
        city,
        active,
        settings,
        bound,
        best,
        "rounded LP optimum",
    ) {
        Some(accepted) => Rounded::WithinGap(accepted),
        None => Rounded::Feasible(plan),
    }
}

/// What rounding the LP optimum gave.
pub(super) enum Rounded {
    /// A plan within the MIP gap of the bound: the stage's optimum.
    WithinGap(StageResult),
    /// A plan that keeps every rule (when it keeps every neighbourhood), but not within the
    /// gap.
    Feasible(Option<Plan>),
    BreaksARow,
}

/// How the LP's fractional columns become whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rounding {
    /// Each to the nearest whole number.
    Nearest,
    /// In each district and level, as many rounded up as the fractional parts add up to
    /// (to the nearest whole number), those with the smallest objective coefficient first:
    /// the district totals (and with them the evenness and worst stages) stay where the LP
    /// put them, when they are whole there.
    KeepDistrictTotals,
    /// As `KeepDistrictTotals` for sites with a minimum occupancy (row houses: all or
    /// nothing): each such site to 0 or at least its minimum, whichever is nearer, then the
    /// district's other sites take up or give back the difference, those with the smallest
    /// objective coefficient taking first and those with the largest giving first.
    RepairDistricts,
}

/// The LP values with every integer column whole (the "site is used" binaries follow their
/// site's places); `None` when the rounding does not apply.
fn rounded(
    instance: &Instance,
    program: &Program,
    city: &CityProgram,
    objective: &[(Col, f64)],
    lp: &[f64],
    rounding: Rounding,
) -> Option<Vec<f64>> {
    let mut values = lp.to_vec();
    if rounding == Rounding::RepairDistricts {
        let mut coefficient = vec![0.0; program.columns.len()];
        for &(c, k) in objective {
            coefficient[c] += k;
        }
        let minimum = |u: usize| match city.units[u].sites[..] {
            [site] => f64::from(instance.sites[site as usize].min_places),
            _ => 0.0,
        };
        for (l, level) in city.levels.iter().enumerate() {
            let mut by_district: Vec<Vec<usize>> = vec![Vec::new(); level.over.len()];
            for (u, unit) in city.units.iter().enumerate() {
                by_district[unit.district as usize].push(u);
            }
            for units in by_district.iter().filter(|u| !u.is_empty()) {
                let column = |u: usize| city.units[u].columns[l];
                // The district's total to the nearest whole number: where the LP's is
                // fractional, the acceptance against the LP bound decides.
                let total: f64 = units.iter().map(|&u| values[column(u)]).sum();
                let whole = total.round();
                let settled = |u: usize| {
                    let v = values[column(u)];
                    (v - v.round()).abs() <= 1e-7
                        && (minimum(u) == 0.0 || v < 0.5 || v >= minimum(u) - 1e-7)
                };
                if units.iter().all(|&u| settled(u)) {
                    continue;
                }
                // Sites below their minimum go to 0 or to the minimum; the others down to
                // whole numbers.
                let mut open: Vec<usize> = Vec::new();
                for &u in units {
                    let c = column(u);
                    let (v, min) = (values[c], minimum(u));
                    values[c] = if min > 0.0 && v < min - 1e-7 {
                        if v > 1e-7 {
                            open.push(u);
                        }
                        0.0
                    } else {
                        v.floor().max(program.columns[c].lower)
                    };
                }
                // Which of them open: the choice whose difference to the district's total the
                // flexible sites can take up or give back, nearest to the LP (at most 2^10
                // choices are tried; beyond, the nearest rounding).
                let base = units.iter().map(|&u| values[column(u)]).sum::<f64>();
                let flexible_room = |values: &[f64]| -> (f64, f64) {
                    units
                        .iter()
                        .filter(|&&u| minimum(u) == 0.0)
                        .map(|&u| {
                            let c = column(u);
                            (
                                program.columns[c].upper - values[c],
                                values[c] - program.columns[c].lower,
                            )
                        })
                        .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1))
                };
                let (room_up, room_down) = flexible_room(&values);
                let mut chosen: Option<(f64, u32)> = None;
                if open.len() <= 10 {
                    for mask in 0u32..(1 << open.len()) {
                        let added: f64 = open
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| mask & (1 << i) != 0)
                            .map(|(_, &u)| minimum(u))
                            .sum();
                        let left = whole - base - added;
                        if left > room_up + 1e-9 || -left > room_down + 1e-9 {
                            continue;
                        }
                        let distance: f64 = open
                            .iter()
                            .enumerate()
                            .map(|(i, &u)| {
                                let target = if mask & (1 << i) != 0 {
                                    minimum(u)
                                } else {
                                    0.0
                                };
                                (lp[column(u)] - target).abs()
                            })
                            .sum();
                        if chosen.is_none_or(|(best, _)| distance < best) {
                            chosen = Some((distance, mask));
                        }
                    }
                }
                let mask = match chosen {
                    Some((_, mask)) => mask,
                    None => open
                        .iter()
                        .enumerate()
                        .filter(|(_, &u)| lp[column(u)] >= minimum(u) / 2.0)
                        .fold(0, |m, (i, _)| m | (1 << i.min(31))),
                };
                for (i, &u) in open.iter().enumerate() {
                    if mask & (1 << i.min(31)) != 0 {
                        values[column(u)] = minimum(u);
                    }
                }
                let mut left = whole - units.iter().map(|&u| values[column(u)]).sum::<f64>();
                // Flexible sites: no minimum, or already at or above it.
                let mut flexible: Vec<usize> = units
                    .iter()
                    .copied()
                    .filter(|&u| minimum(u) == 0.0 || values[column(u)] >= minimum(u))
                    .collect();
                if left > 0.0 {
                    flexible.sort_by(|&a, &b| {
                        coefficient[column(a)].total_cmp(&coefficient[column(b)])
                    });
                    for &u in &flexible {
                        let c = column(u);
                        let take = left.min(program.columns[c].upper - values[c]).max(0.0);
                        values[c] += take;
                        left -= take;
                    }
                } else if left < 0.0 {
                    flexible.sort_by(|&a, &b| {
                        coefficient[column(b)].total_cmp(&coefficient[column(a)])
                    });
                    for &u in &flexible {
                        let c = column(u);
                        let floor = if minimum(u) > 0.0 {
                            minimum(u)
                        } else {
                            program.columns[c].lower
                        };
                        let give = (-left).min(values[c] - floor).max(0.0);
                        values[c] -= give;
                        left += give;
                    }
                }
                if left.abs() > 1e-9 {
                    if std::env::var_os("QUARTIER_TRACE_ROWS").is_some() {
                        let shown: Vec<String> = units
                            .iter()
                            .map(|&u| {
                                format!(
                                    "{}:{}/{}(min {})",
                                    u,
                                    lp[column(u)],
                                    program.columns[column(u)].upper,
                                    minimum(u)
                                )
                            })
                            .collect();
                        eprintln!(
                            "    repair failed: total {total} left {left}: {}",
                            shown.join(" ")
                        );
                    }
                    return None;
                }
            }
        }
    }
    if rounding == Rounding::KeepDistrictTotals {
        let mut coefficient = vec![0.0; program.columns.len()];
        for &(c, k) in objective {
            coefficient[c] += k;
        }
        for (l, level) in city.levels.iter().enumerate() {
            let mut by_district: Vec<Vec<Col>> = vec![Vec::new(); level.over.len()];
            for unit in &city.units {
                let c = unit.columns[l];
                if (values[c] - values[c].round()).abs() > 1e-7 {
                    by_district[unit.district as usize].push(c);
                }
            }
            for mut columns in by_district.into_iter().filter(|c| !c.is_empty()) {
                let part = |v: f64| v - v.floor();
                let parts: f64 = columns.iter().map(|&c| part(values[c])).sum();
                let up = parts.round() as usize;
                columns.sort_by(|&a, &b| {
                    coefficient[a]
                        .total_cmp(&coefficient[b])
                        .then(part(values[b]).total_cmp(&part(values[a])))
                });
                for (i, &c) in columns.iter().enumerate() {
                    values[c] = if i < up {
                        values[c].ceil()
                    } else {
                        values[c].floor()
                    };
                }
            }
        }
    }
    for (value, column) in values.iter_mut().zip(&program.columns) {
        if column.integer {
            *value = value.round();
        }
    }
    for (l, level) in city.levels.iter().enumerate() {
        for (&y, &u) in level.binaries.iter().zip(&level.binary_units) {
            values[y] = if values[city.units[u].columns[l]] > 0.5 {
                1.0
            } else {
                0.0
            };
        }
    }
    Some(values)
}

/// What fixing the LP's whole columns gave.
pub(super) enum Polished {
    /// A plan within the MIP gap of the bound: the stage's optimum.
    WithinGap(StageResult),
    /// A plan that keeps every rule and neighbourhood, but not within the gap: the best
    /// known so far, which the MIP rounds then only have to beat (and a time limit keeps).
    Kept(StageResult),
    Nothing,
}

/// When rounding the LP optimum `lp` fails, the MIP with every integer column that is whole
/// in `lp` fixed at its value: usually a handful of free columns, which HiGHS settles at
/// once. Its plan is feasible for the full model; when it keeps every neighbourhood and lies
/// within the MIP gap of the LP bound, it is optimal as `rounded_within_gap` explains.
#[allow(clippy::too_many_arguments)]
pub(super) fn whole_columns_fixed(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    program: &Program,
    active: &SpacingRows,
    objective: &[(Col, f64)],
    settings: Settings,
    lp: &StageResult,
    bound: f64,
) -> Result<Polished, Error> {
    let mut fixed = program.clone();
    for (column, &value) in fixed.columns.iter_mut().zip(&lp.values) {
        if column.integer && (value - value.round()).abs() <= 1e-7 {
            column.lower = value.round();
            column.upper = value.round();
        }
    }
    let Some(result) = fixed.minimise_if_feasible(objective, settings, false)? else {
        return Ok(Polished::Nothing); // the fractional columns cannot be settled with the others fixed
    };
    match within_gap(
        instance,
        prepared,
        city,
        active,
        settings,
        bound,
        result.clone(),
        "LP's whole columns fixed",
    ) {
        Some(accepted) => Ok(Polished::WithinGap(accepted)),
        // Outside the gap, still the best known when it keeps every neighbourhood.
        None if result.status == StageStatus::Optimal
            && overfilled_by(
                instance,
                prepared,
                city,
                active,
                &result.values,
                Take::Every,
            )
            .is_empty() =>
        {
            Ok(Polished::Kept(result))
        }
        None => Ok(Polished::Nothing),
    }
}

/// When the MIP has no plan near the bound to start from, the MIP with every district's new
/// places (at every level) held at those of `known`, a plan that keeps every rule and
/// neighbourhood: the districts then only choose their sites, which HiGHS settles far faster
/// than the whole city (the 200k-site grid with spacing, stage cost after fair: 16 s, where
/// the city's MIP found no plan in 220 s). Neighbourhoods its plan overfills go into the
/// program, and it is solved again until its plan keeps every one. That plan keeps every row
/// of the full model, so it is judged against the LP bound like the others; outside the gap
/// it is the best known when it is better than `known`.
#[allow(clippy::too_many_arguments)]
pub(super) fn district_totals_fixed(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    program: &mut Program,
    active: &mut SpacingRows,
    objective: &[(Col, f64)],
    settings: Settings,
    known: &StageResult,
    bound: f64,
) -> Result<Polished, Error> {
    let entered = std::time::Instant::now();
    let mut totals = Vec::new();
    for level in 0..city.levels.len() {
        let mut by_district: BTreeMap<u32, Vec<(Col, f64)>> = BTreeMap::new();
        for unit in &city.units {
            by_district
                .entry(unit.district)
                .or_default()
                .push((unit.columns[level], 1.0));
        }
        for terms in by_district.into_values() {
            let total: f64 = terms.iter().map(|&(c, _)| known.values[c]).sum();
            totals.push((terms, total.round()));
        }
    }
    let result = loop {
        let mut fixed = program.clone();
        for (terms, total) in &totals {
            fixed.add_row(terms.clone(), *total, true);
        }
        let settings = Settings {
            time_limit_s: settings
                .time_limit_s
                .map(|limit| limit - entered.elapsed().as_secs_f64()),
            ..settings
        };
        let Some(result) = fixed.minimise_if_feasible(objective, settings, false)? else {
            return Ok(Polished::Nothing);
        };
        let violated = overfilled_by(
            instance,
            prepared,
            city,
            active,
            &result.values,
            Take::Every,
        );
        if violated.is_empty() {
            break result;
        }
        if result.status == StageStatus::TimeLimit {
            return Ok(Polished::Nothing);
        }
        trace(|| {
            format!(
                "  neighbourhoods: {} in the model, {} more overfilled with the district totals fixed",
                active.count(),
                violated.len()
            )
        });
        add_rows(instance, prepared, city, program, active, violated);
    };
    match within_gap(
        instance,
        prepared,
        city,
        active,
        settings,
        bound,
        result.clone(),
        "district totals of the best plan known fixed",
    ) {
        Some(accepted) => Ok(Polished::WithinGap(accepted)),
        None if result.objective < known.objective => Ok(Polished::Kept(result)),
        None => Ok(Polished::Nothing),
    }
}
