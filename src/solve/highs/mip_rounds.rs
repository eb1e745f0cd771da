//! The MIP rounds of a lazy stage, after the LP and its roundings (`lazy`) found no plan
//! within the gap: the MIP with the neighbourhoods found so far, again with every one its
//! plan overfills, until it overfills none. Where the spread stage was tight, every spread
//! neighbourhood goes in at once before the first round.

use crate::error::Error;
use crate::model::Instance;
use crate::solve::model::prepare::Prepared;
use crate::solve::program::city::CityProgram;
use crate::solve::program::neighbourhoods::SpacingRows;
use crate::solve::program::rows::{add_rows, overfilled_by, Overfilled, Take};
use crate::solve::program::sparse::{infeasible, Col, Program, Settings, StageResult, StageStatus};
use crate::solve::trace::trace;

/// Most nonzeros the spread rows may add when all neighbourhoods go in at once.
const ALL_SPREAD_NONZEROS: usize = 2_000_000;

/// Puts every spread neighbourhood into the program before the MIP, when they are few
/// enough. Added lazily, each round is a whole MIP whose plan overfills a few
/// neighbourhoods more (Musterstadt, 1,495 sites: 17 rounds of 2-3 s; all 793 missing
/// ones at once: one MIP).
pub(super) fn put_in_every_spread_neighbourhood(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    program: &mut Program,
    active: &mut SpacingRows,
) {
    if !active.spread_on {
        return;
    }
    let balls = prepared.spread_balls(instance);
    let mut all = Overfilled::default();
    for (l, level) in city.levels.iter().enumerate() {
        if level.spread.is_some() {
            let in_model = active.spread.get(l);
            all.spread.extend(
                (0..balls.len())
                    .filter(|c| !in_model.is_some_and(|m| m.contains(c)))
                    .map(|c| (l, c)),
            );
        }
    }
    // Counted only up to the budget: on a large grid the count would stop far from the end.
    let mut nonzeros = 0;
    let within_budget = all.spread.iter().all(|&(_, c)| {
        nonzeros += balls.around(instance, balls.centre(c) as usize).len();
        nonzeros <= ALL_SPREAD_NONZEROS
    });
    if all.is_empty() || !within_budget {
        return;
    }
    trace(|| format!("  every spread neighbourhood: {} more", all.len()));
    add_rows(instance, prepared, city, program, active, all);
}

/// Most nonzeros the spacing rows may add when all balls go in at once (the demo city: 755
/// balls, 9,000 nonzeros; a 200k-site grid: 200,000 balls, far more).
const ALL_SPACING_NONZEROS: usize = 200_000;

/// Puts every spacing ball into the program before the MIP, when they are few enough; for
/// runs with a time limit. When the time ends a MIP that has only some of them, its plan
/// may overfill one it lacks, and is lost (the demo city with 10 levels and spacing: HiGHS
/// held a plan 0.0065 % from its bound, and the run wrote the fallback, 0.10 % from the
/// levels' own optima). With every ball in, HiGHS's plan keeps every rule.
pub(super) fn put_in_every_spacing_ball(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    program: &mut Program,
    active: &mut SpacingRows,
) {
    // (Programs without lazy spacing rows keep no record of them.)
    if active.in_model.len() != prepared.spacing.len() {
        return;
    }
    let missing: Vec<usize> = (0..prepared.spacing.len())
        .filter(|&b| !active.in_model[b])
        .collect();
    let nonzeros: usize = missing
        .iter()
        .map(|&b| prepared.spacing[b].members.len())
        .sum();
    if missing.is_empty() || nonzeros > ALL_SPACING_NONZEROS {
        return;
    }
    trace(|| format!("  every spacing ball: {} more", missing.len()));
    let overfilled = Overfilled {
        spacing: missing,
        spread: Vec::new(),
    };
    add_rows(instance, prepared, city, program, active, overfilled);
}

/// The MIP, again with every neighbourhood its plan overfills until it overfills none.
/// `None` when the program has no solution (only when `may_fail`: a bound was set).
///
/// With `best_known`, a plan that keeps every rule and neighbourhood: the MIP with only
/// some neighbourhoods is a relaxation of the stage, so its proven bound holds for the
/// stage. Once that bound lies within the MIP gap of `best_known`, it is the optimum, and
/// no more rounds are needed (the 200k-site grid with spacing, stage fair: one round of 8 s
/// instead of twelve).
#[allow(clippy::too_many_arguments)]
pub(super) fn mip_rounds(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    program: &mut Program,
    active: &mut SpacingRows,
    objective: &[(Col, f64)],
    settings: Settings,
    (may_fail, best_known): (bool, Option<&StageResult>),
    time_left: &dyn Fn() -> Option<f64>,
    out_of_time: &dyn Fn(usize) -> Error,
) -> Result<Option<StageResult>, Error> {
    loop {
        let settings = Settings {
            time_limit_s: time_left(),
            ..settings
        };
        let result = match program.minimise_if_feasible(objective, settings, false)? {
            Some(result) => result,
            None if may_fail => return Ok(None),
            None => return Err(infeasible()),
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
            return Ok(Some(result));
        }
        if let Some(proven) = best_known.and_then(|best| proven_by_bound(best, &result, settings)) {
            return Ok(Some(proven));
        }
        if result.status == StageStatus::TimeLimit || time_left().is_some_and(|t| t <= 0.0) {
            return Err(out_of_time(violated.len()));
        }
        trace(|| {
            format!(
                "  neighbourhoods: {} in the model, {} more overfilled by the MIP",
                active.count(),
                violated.len()
            )
        });
        add_rows(instance, prepared, city, program, active, violated);
    }
}

/// `best`, with its gap, when the bound that the MIP `relaxed` (with only some
/// neighbourhoods) proved lies within the MIP gap of it.
fn proven_by_bound(
    best: &StageResult,
    relaxed: &StageResult,
    settings: Settings,
) -> Option<StageResult> {
    if relaxed.status != StageStatus::Optimal || !relaxed.mip_gap.is_finite() {
        return None;
    }
    let bound = relaxed.objective - relaxed.mip_gap * relaxed.objective.abs().max(1.0);
    let gap = (best.objective - bound).max(0.0) / best.objective.abs().max(1.0);
    let within = best.objective - bound <= 1e-7 || gap <= settings.mip_gap;
    trace(|| {
        format!(
            "  the MIP's bound {bound} against the best plan known {} (gap {gap:.2e}): {}",
            best.objective,
            if within { "optimal" } else { "not proven" }
        )
    });
    within.then(|| StageResult {
        status: StageStatus::Optimal,
        mip_gap: gap,
        ..best.clone()
    })
}
