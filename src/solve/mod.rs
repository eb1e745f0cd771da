//! The allocation model of MODEL.md, solved stage by stage (shortfall, evenness, then worst
//! district and cost) exactly. One file per strategy:
//!
//! - `prepare`: the rules applied to each site and district once (room per site, share
//!   caps, spacing neighbourhoods that can bind, school seats).
//! - `separable_city` and `separable`: when no rule ties sites together, an exact
//!   per-district algorithm replaces HiGHS.
//! - `proof`: with spacing, the city without spacing is a relaxation whose optimum of each
//!   stage is a lower bound; a plan that keeps every rule and reaches it proves the stage.
//! - `city`: the mixed-integer program for HiGHS. Sites whose only constraints are their
//!   own bounds are aggregated into one column per district (and serving school); only
//!   sites with a minimum get a binary; only sites in a spacing ball that can bind get a
//!   column of their own.
//! - `stages`: the lexicographic loop over the stages on that program.
//! - `lazy`: spacing balls entering stage by stage through an LP that HiGHS keeps, the LP
//!   optimum rounded when that is provably as good as the MIP, and the evenness bounds that
//!   keep most balls out of the model.
//! - `program`: the sparse program and its hand-over to HiGHS; `greedy`: quick plans that
//!   keep every rule, used as proofs.

mod city;
mod greedy;
mod lazy;
mod prepare;
mod program;
mod proof;
mod separable;
mod separable_city;
mod stages;

use std::time::Instant;

pub use greedy::greedy_plan;
pub use prepare::{Exclusion, Prepared, SpacingLimit};
pub use program::StageStatus;

use crate::error::Error;
use crate::model::{Instance, Plan, Stage};
use lazy::{solve_within_evenness_bounds, spread_out, violated_spacing, SpacingRows};
use proof::{
    lexicographically_better, proven_solution, proven_stages, shortfall_proof, time_limited,
};
use separable_city::solve_separable_city;
use stages::solve_program;

/// How the whole solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolveStatus {
    Optimal,
    TimeLimit,
}

impl SolveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SolveStatus::Optimal => "optimal",
            SolveStatus::TimeLimit => "time_limit",
        }
    }
}

/// Size of the program handed to HiGHS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModelSize {
    pub columns: usize,
    pub integers: usize,
    pub rows: usize,
    /// Sites aggregated into district columns.
    pub aggregated_sites: usize,
}

/// The plan and what the solver says about it.
#[derive(Debug, Clone)]
pub struct Solution {
    pub plan: Plan,
    pub status: SolveStatus,
    /// The optimum of each stage run, in order.
    pub stages: Vec<(Stage, f64)>,
    /// Relative MIP gap of the last stage run (0 when proven optimal or an LP).
    pub mip_gap: f64,
    pub size: ModelSize,
    /// Per district: how much the evenness sum (stage B) falls per extra place of capacity
    /// there, from the LP at the optimum (binaries fixed); `None` when not computed.
    pub marginal_values: Option<Vec<f64>>,
    /// `separable` (exact per-district algorithm) or `mip` (HiGHS).
    pub method: &'static str,
    /// Spacing balls that had to be put into the model.
    pub spacing_rows: usize,
    /// Seconds spent building the program and in HiGHS.
    pub build_s: f64,
    pub solve_s: f64,
}

/// Builds and solves the lexicographic program; the plan always satisfies every rule.
pub fn solve(instance: &Instance, prepared: &Prepared) -> Result<Solution, Error> {
    let started = Instant::now();
    let Some(relaxed) = solve_separable_city(instance, prepared, &SpacingRows::none(instance))
    else {
        // Minimum occupancies or school seats tie sites together: HiGHS from the start.
        let proven = shortfall_proof(instance, prepared);
        return solve_program(
            instance,
            prepared,
            SpacingRows::lazy(instance, prepared),
            &proven,
            None,
            started,
        );
    };
    let violated = violated_spacing(prepared, &[], &relaxed.plan);
    if violated.is_empty() {
        return Ok(relaxed);
    }
    let (proven, plan) = proven_stages(instance, prepared, &relaxed);
    // When the evenness optimum is the relaxation's, so are its duals: the relaxation's
    // optimal duals, with 0 for every spacing ball, are feasible for the full evenness LP and
    // reach its optimum. The relaxation's marginal values then hold for the city's model.
    let proven_marginal_values = proven
        .iter()
        .any(|(s, _)| *s == Stage::Evenness)
        .then_some(relaxed.marginal_values.as_deref())
        .flatten();
    if proven.len() == relaxed.stages.len() {
        return Ok(proven_solution(
            prepared,
            plan,
            proven,
            proven_marginal_values,
            started,
        ));
    }
    // When the time limit ends the solve before its plan keeps every ball, the plan that
    // proved the first stages is returned instead: it keeps every rule and is optimal in
    // those stages. A plan HiGHS found within the limit is kept only if it is better.
    let fallback = || {
        time_limited(
            instance,
            prepared,
            plan.clone(),
            &relaxed,
            proven.len(),
            started,
        )
    };
    let finish = |result: Result<Solution, Error>| match result {
        Err(Error::TimeLimit(_)) => Ok(fallback()),
        Ok(solution) if solution.status == SolveStatus::TimeLimit => {
            Ok(lexicographically_better(solution, fallback()))
        }
        other => other,
    };
    match solve_within_evenness_bounds(instance, prepared, &relaxed, &proven, started) {
        Ok(Some(solution)) => return finish(Ok(solution)),
        Ok(None) => {}
        Err(error) => return finish(Err(error)),
    }
    let mut active = SpacingRows::lazy(instance, prepared);
    active.add(spread_out(instance, prepared, violated));
    finish(solve_program(
        instance,
        prepared,
        active,
        &proven,
        proven_marginal_values,
        started,
    ))
}

/// Builds and solves the lexicographic program with HiGHS with every spacing ball in it
/// from the start (the reference the lazy and separable paths are tested against).
pub fn solve_mip(instance: &Instance, prepared: &Prepared) -> Result<Solution, Error> {
    let mut active = SpacingRows::lazy(instance, prepared);
    active.add((0..prepared.spacing.len()).collect());
    let proven = shortfall_proof(instance, prepared);
    solve_program(instance, prepared, active, &proven, None, Instant::now())
}

/// The value of a stage's objective for a plan (the stage optimum when the plan is optimal).
pub fn stage_value(stage: Stage, instance: &Instance, prepared: &Prepared, plan: &Plan) -> f64 {
    let deviations = || {
        let mut allocated = prepared.district_existing.clone();
        for (site, &places) in plan.places.iter().enumerate() {
            if let Some(d) = prepared.site_district[site] {
                allocated[d as usize] += f64::from(places);
            }
        }
        allocated
            .into_iter()
            .zip(&prepared.target)
            .map(|(a, t)| (a - t).abs())
            .collect::<Vec<f64>>()
    };
    match stage {
        Stage::Shortfall => (instance.demand - plan.placed().min(instance.demand)) as f64,
        Stage::Evenness => deviations().iter().sum(),
        Stage::Worst => deviations().into_iter().fold(0.0, f64::max),
        Stage::Cost => instance
            .sites
            .iter()
            .zip(&plan.places)
            .map(|(s, &x)| s.cost.unwrap_or(0.0) * f64::from(x))
            .sum(),
    }
}
