//! One stage of the city's program with its neighbourhoods (spacing balls, spread
//! neighbourhoods) entering lazily (`solve_stage_lazily`), from the LP to whole places.
//!
//! The stage's LP is solved in a session HiGHS keeps (each round from the last basis) and the
//! neighbourhoods it overfills are added until it overfills none: its optimum is then the
//! full LP's, a bound for the stage. A stage is finished only when its plan keeps every
//! neighbourhood, so its optimum is the full model's and later stages can keep it. From the
//! LP, in turn: its optimum rounded (`rounding`); on the spread stage, a plan by moving
//! places toward the bound (the `spread` room), and for access or cost after a tight spread
//! stage, the descent to cheaper sites; the LP's whole columns fixed; the MIP rounds
//! (`mip_rounds`). Each is accepted when it keeps every rule and neighbourhood and lies
//! within the MIP gap of the LP bound; a time limit keeps the best plan so far.

use std::time::{Duration, Instant};

use super::mip_rounds::{mip_rounds, put_in_every_spacing_ball, put_in_every_spread_neighbourhood};
use super::rounding::{
    district_totals_fixed, rounded_within_gap, whole_columns_fixed, Polished, Rounded,
};
use crate::error::Error;
use crate::model::{Instance, Plan, Stage};
use crate::solve::model::prepare::Prepared;
use crate::solve::program::city::{CityProgram, Segments};
use crate::solve::program::neighbourhoods::SpacingRows;
use crate::solve::program::plan::{plan_result, within_gap};
use crate::solve::program::rows::{add_rows, overfilled_by, Take};
use crate::solve::program::session::LpSession;
use crate::solve::program::sparse::{infeasible, Col, Program, Settings, StageResult, StageStatus};
use crate::solve::spread::descent::cheaper_by_moves;
use crate::solve::spread::lookups::Lookups;
use crate::solve::spread::quick::{quick_spread, Quick};
use crate::solve::spread::search::{breakout_to_bound, spread_within};
use crate::solve::spread::state::Bounds;
use crate::solve::trace::trace;

/// How a stage's objective relates to whole numbers: the spread stage of one level has a
/// whole-number optimum, so its LP bound rounds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bound {
    AsIs,
    RoundsUp,
}

impl Bound {
    fn apply(self, bound: f64) -> f64 {
        match self {
            Bound::AsIs => bound,
            Bound::RoundsUp => (bound - 1e-6).ceil(),
        }
    }
}

/// A stage's LP optimum with its reduced costs: a lower bound on the stage's objective over
/// every plan the LP allows, used to fix columns for the stages after
/// (`Program::fix_by_reduced_costs`).
pub(super) struct LpCertificate {
    pub(super) objective: f64,
    pub(super) values: Vec<f64>,
    pub(super) column_duals: Vec<f64>,
}

/// One stage with neighbourhoods entering lazily. The LP relaxation is solved in a session
/// that keeps HiGHS's basis, and each neighbourhood it overfills is added, until it
/// overfills none: its optimum is then the full LP's. When that optimum is whole, it is the
/// stage's; otherwise the MIP is solved with the neighbourhoods found, and again with any
/// its plan overfills, until the plan keeps every one.
#[allow(clippy::too_many_arguments)]
pub(super) fn solve_stage_lazily(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    segments: &Segments,
    program: &mut Program,
    session: &mut Option<LpSession>,
    active: &mut SpacingRows,
    objective: &[(Col, f64)],
    settings: Settings,
    (stage, bound): (Stage, Bound),
    search: Option<(&Plan, &Bounds)>,
    started: Instant,
) -> Result<(StageResult, Option<LpCertificate>), Error> {
    let time_left = || {
        instance
            .solver
            .time_limit_s
            .map(|limit| limit - started.elapsed().as_secs_f64())
    };
    let out_of_time = |violated: usize| {
        let over = match violated {
            1 => "1 neighbourhood was still over its limit".to_string(),
            n => format!("{n} neighbourhoods were still over their limits"),
        };
        Error::TimeLimit(format!(
            "the time limit ended the solve while {over}; raise [solver] time_limit_s"
        ))
    };
    if time_left().is_some_and(|t| t <= 0.0) {
        return Err(Error::TimeLimit(
            "the time limit ended the solve before its plan kept every spacing neighbourhood; raise [solver] time_limit_s".into(),
        ));
    }
    // The spread stage: first a bound without the LP and a plan by moving places toward it.
    // When they meet, the plan is optimal and the LP is not needed; otherwise the plan is
    // what a time limit leaves, with its proven distance from the bound.
    let mut quick: Option<StageResult> = None;
    if let (Bound::RoundsUp, Some((before, bounds))) = (bound, search) {
        match quick_spread(
            instance, prepared, city, segments, program, active, objective, settings, before,
            bounds,
        ) {
            Quick::Optimal(found) => return Ok((found, None)),
            Quick::Plan(result) => quick = Some(result),
            Quick::Nothing => {}
        }
    }
    // When the time runs out before the LP settles, the plan of the quick route, else the
    // plan of the stage before when it keeps every rule, from the spread stage on (its
    // distance from the optimum unknown: up to its whole value). Before spread, the caller
    // falls back to the plan that proved the first stages.
    let give_up = |error: Error, program: &Program, active: &SpacingRows| {
        let fallback = quick.clone().or_else(|| {
            let (before, _) = search.filter(|_| active.spread_on)?;
            let result = kept_plan(
                instance, prepared, city, segments, program, active, objective, before,
            )?;
            Some(StageResult {
                status: StageStatus::TimeLimit,
                mip_gap: 1.0,
                ..result
            })
        });
        match fallback {
            Some(result) => Ok((result, None)),
            None => Err(error),
        }
    };
    if session.is_none() {
        *session = Some(LpSession::new(program, settings)?);
    }
    let session = session.as_mut().expect("just made");
    let (lp, column_duals) = loop {
        let optimum = match session.minimise(
            program,
            objective,
            Settings {
                time_limit_s: time_left(),
                ..settings
            },
        ) {
            Err(error @ Error::TimeLimit(_)) => return give_up(error, program, active),
            other => other?.ok_or_else(infeasible)?,
        };
        let lp = optimum.result;
        let violated = overfilled_by(instance, prepared, city, active, &lp.values, Take::Thinned);
        if violated.is_empty() {
            break (lp, optimum.column_duals);
        }
        if time_left().is_some_and(|t| t <= 0.0) {
            return give_up(out_of_time(violated.len()), program, active);
        }
        trace(|| {
            format!(
                "  neighbourhoods: {} in the model, {} more overfilled by the LP",
                active.count(),
                violated.len()
            )
        });
        add_rows(instance, prepared, city, program, active, violated);
    };
    let certificate = LpCertificate {
        objective: lp.objective,
        values: lp.values.clone(),
        column_duals,
    };
    if program.is_integral(&lp.values) {
        return Ok((program.settled(lp, objective), Some(certificate)));
    }
    let lp_bound = bound.apply(lp.objective);
    let rounded = match rounded_within_gap(
        instance, prepared, city, segments, program, active, objective, settings, &lp, lp_bound,
    ) {
        Rounded::WithinGap(accepted) => return Ok((accepted, Some(certificate))),
        Rounded::Feasible(plan) => plan,
        Rounded::BreaksARow => None,
    };
    // The spread stage: a plan at the bound by moving places (see `spread::search`), from
    // the rounded LP optimum or the plan of the stage before, whichever is less loaded. A
    // plan one place above the bound is kept: the MIP then only has to decide whether the
    // bound itself can be met.
    let mut one_above = None;
    if let (Bound::RoundsUp, Some((before, bounds))) = (bound, search) {
        active.spread_tight = true;
        let balls = prepared.spread_balls(instance);
        let start = match &rounded {
            Some(plan) if balls.most_new(instance, plan) < balls.most_new(instance, before) => plan,
            _ => before,
        };
        let deadline =
            time_left().map(|t| Instant::now() + Duration::from_secs_f64(t.max(0.0) / 2.0));
        // One set of neighbourhood lists for the greedy moves and the penalty search.
        let lookups = Lookups::new(instance, prepared);
        let (plan, most) = spread_within(&lookups, start, lp_bound as i64, bounds, deadline);
        let (plan, most) = if most as f64 > lp_bound {
            breakout_to_bound(&lookups, plan, most, lp_bound, bounds, &time_left)
        } else {
            (plan, most)
        };
        if let Some(result) = plan_result(
            instance, prepared, city, segments, program, objective, &plan,
        ) {
            if most as f64 <= lp_bound {
                if let Some(found) = within_gap(
                    instance,
                    prepared,
                    city,
                    active,
                    settings,
                    lp_bound,
                    result,
                    "places moved",
                ) {
                    return Ok((found, Some(certificate)));
                }
            } else if most as f64 <= lp_bound + 1.0
                && overfilled_by(
                    instance,
                    prepared,
                    city,
                    active,
                    &result.values,
                    Take::Every,
                )
                .is_empty()
            {
                one_above = Some(result);
            }
        }
    }
    // Access or cost: a plan by moving places to cheaper sites, optimal when within the gap
    // of the LP bound, else what a time limit leaves and where the district totals fixed
    // start from (after a tight spread stage HiGHS may take minutes to its first plan; on the
    // 200k-site grid with spacing, cost after fair, the plan of the stage before is 40 %
    // above the bound).
    let descended = search
        .filter(|_| matches!(stage, Stage::Access | Stage::Cost))
        .and_then(|(before, bounds)| {
            let seconds =
                time_left().map_or(DESCENT_SECONDS, |t| (t.max(0.0) / 4.0).min(DESCENT_SECONDS));
            let deadline = Some(Instant::now() + Duration::from_secs_f64(seconds));
            let lookups = Lookups::new(instance, prepared);
            let (plan, _) = cheaper_by_moves(&lookups, before, bounds, stage, deadline)?;
            kept_plan(
                instance, prepared, city, segments, program, active, objective, &plan,
            )
        });
    if let Some(found) = descended.clone().and_then(|result| {
        within_gap(
            instance,
            prepared,
            city,
            active,
            settings,
            lp_bound,
            result,
            "places moved to cheaper sites",
        )
    }) {
        return Ok((found, Some(certificate)));
    }
    // Half the time left at most: the MIP rounds may still find the plan (the 200k-site
    // grid, cost after fair: this MIP ran 504 s of a 600 s limit, and the run ended with no
    // gap known for the stage).
    let polishing = Settings {
        time_limit_s: time_left().map(|t| t.max(0.0) / 2.0),
        ..settings
    };
    let polished = match whole_columns_fixed(
        instance, prepared, city, program, active, objective, polishing, &lp, lp_bound,
    ) {
        Ok(Polished::WithinGap(found)) => return Ok((found, Some(certificate))),
        Ok(Polished::Kept(result)) => Some(result),
        Ok(Polished::Nothing) | Err(Error::TimeLimit(_)) => None,
        Err(error) => return Err(error),
    };
    // The best plan known that keeps every rule and neighbourhood: what the MIP has to
    // beat, and what a time limit keeps.
    let mut best_known = [
        descended,
        polished,
        rounded.as_ref().and_then(|plan| {
            kept_plan(
                instance, prepared, city, segments, program, active, objective, plan,
            )
        }),
        // The plan of the stage before keeps every rule and the stages so far.
        search.and_then(|(before, _)| {
            kept_plan(
                instance, prepared, city, segments, program, active, objective, before,
            )
        }),
    ]
    .into_iter()
    .flatten()
    .min_by(|a, b| a.objective.total_cmp(&b.objective));
    // Far from the bound (more than 1e-4 of it), the best known plan's district totals
    // fixed: the districts then only choose their sites (the 200k-site grid with spacing,
    // stage cost after fair: a plan 0.16 % from the bound in 28 s, where the best known was
    // the stage before's, 40 % from it, and the MIP found nothing better in 220 s). Nearer
    // the bound, the MIP rounds with columns fixed by reduced costs do better.
    if let Some(known) = best_known.clone().filter(|known| {
        let gap = (known.objective - lp_bound).max(0.0) / known.objective.abs().max(1.0);
        gap > settings.mip_gap.max(1e-4) && known.objective - lp_bound > 1e-7
    }) {
        let settings = Settings {
            time_limit_s: time_left().map(|t| t.max(0.0) / 2.0),
            ..settings
        };
        match district_totals_fixed(
            instance, prepared, city, program, active, objective, settings, &known, lp_bound,
        ) {
            Ok(Polished::WithinGap(found)) => return Ok((found, Some(certificate))),
            Ok(Polished::Kept(result)) => best_known = Some(result),
            Ok(Polished::Nothing) | Err(Error::TimeLimit(_)) => {}
            Err(error) => return Err(error),
        }
    }
    // A MIP with the neighbourhoods found so far overfills a few more each round; where
    // the spread stage was tight, all go in at once, for the stages after it as well
    // (mid-size city, access after spread: one MIP of 245 s instead of rounds of 100 s).
    if bound == Bound::RoundsUp {
        active.spread_tight = true;
    }
    if active.spread_tight {
        put_in_every_spread_neighbourhood(instance, prepared, city, program, active);
    }
    if settings.time_limit_s.is_some() {
        put_in_every_spacing_ball(instance, prepared, city, program, active);
    }
    // With a plan one above the bound, the MIP looks for a plan at the bound; when there is
    // none, the plan one above is optimal.
    let spread_column = city.levels.iter().find_map(|level| level.spread);
    let restore = match (&one_above, spread_column) {
        (Some(_), Some(z)) => {
            let upper = program.columns[z].upper;
            program.columns[z].upper = lp_bound;
            Some((z, upper))
        }
        _ => None,
    };
    // Only plans better than the best known matter to the MIP: every whole column whose
    // one step off its LP value would cost more than that plan's distance from the bound
    // is fixed for this stage's rounds (`Program::fix_by_reduced_costs`). The MIP keeps
    // the best known plan, and the rows added later only raise the bound (the 200k-site
    // grid with spacing, stage fair: 72,348 of 190,801 columns fixed).
    let bounds_before = match (&best_known, restore) {
        (Some(best), None) => {
            let before: Vec<(f64, f64)> =
                program.columns.iter().map(|c| (c.lower, c.upper)).collect();
            let fixed = program.fix_by_reduced_costs(
                certificate.objective,
                &certificate.values,
                &certificate.column_duals,
                best.objective,
            );
            trace(|| {
                format!(
                    "  {} columns fixed by reduced costs against the best plan known",
                    fixed.len()
                )
            });
            Some(before)
        }
        _ => None,
    };
    let result = mip_rounds(
        instance,
        prepared,
        city,
        program,
        active,
        objective,
        settings,
        (restore.is_some(), best_known.as_ref()),
        &time_left,
        &out_of_time,
    );
    if let Some((z, upper)) = restore {
        program.columns[z].upper = upper;
    }
    if let Some(before) = bounds_before {
        for (column, (lower, upper)) in program.columns.iter_mut().zip(before) {
            (column.lower, column.upper) = (lower, upper);
        }
    }
    // The plan a time limit leaves, with how far from this stage's bound it can be at most.
    let kept = |plan: StageResult| {
        let gap = (plan.objective - lp_bound).max(0.0) / plan.objective.abs().max(1.0);
        trace(|| format!("  time limit: the plan kept is {gap:.2e} above the bound"));
        StageResult {
            status: StageStatus::TimeLimit,
            mip_gap: gap,
            ..plan
        }
    };
    match (result, one_above) {
        // HiGHS's plan when the time ran out, unless the best known before is better.
        (Ok(Some(found)), _)
            if found.status == StageStatus::TimeLimit
                && best_known
                    .as_ref()
                    .is_some_and(|plan| plan.objective < found.objective) =>
        {
            Ok((kept(best_known.expect("checked")), Some(certificate)))
        }
        (Ok(Some(result)), _) => Ok((result, Some(certificate))),
        (Ok(None), Some(above)) => {
            trace(|| "  no plan at the bound: the plan one above it is optimal".to_string());
            Ok((above, Some(certificate)))
        }
        (Err(Error::TimeLimit(message)), above) => {
            // The time ran out before HiGHS found a plan: the plan one above the bound, or
            // else the plan of the stage before (it keeps every rule and every earlier
            // stage), with how far from this stage's bound it can be at most.
            // (`best_known` holds the plan of the stage before when it keeps every rule.)
            let fallback = above.or(best_known).or(quick);
            let Some(plan) = fallback else {
                return Err(Error::TimeLimit(message));
            };
            Ok((kept(plan), Some(certificate)))
        }
        (Ok(None), None) => Err(infeasible()),
        (Err(e), _) => Err(e),
    }
}

/// `plan` as a result of the stage (`plan_result`) when it also keeps every neighbourhood,
/// those not yet in the program included: the plan a time limit may fall back to.
#[allow(clippy::too_many_arguments)]
fn kept_plan(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    segments: &Segments,
    program: &Program,
    active: &SpacingRows,
    objective: &[(Col, f64)],
    plan: &Plan,
) -> Option<StageResult> {
    let result = plan_result(instance, prepared, city, segments, program, objective, plan)?;
    let over = overfilled_by(
        instance,
        prepared,
        city,
        active,
        &result.values,
        Take::Every,
    );
    over.is_empty().then_some(result)
}

/// Most seconds the descent to cheaper sites may take (`spread::descent::cheaper_by_moves`).
const DESCENT_SECONDS: f64 = 2.0;
