//! The allocation model of MODEL.md, solved stage by stage (shortfall, evenness, then worst
//! district, spread, access and cost in the scenario's order) exactly, for one demand or a
//! nested plan over demand levels. One file per strategy:
//!
//! - `prepare`: the rules applied to each site and district once (room per site, share
//!   caps, spacing neighbourhoods that can bind, school seats), per level.
//! - `separable_city` and `separable`: when no rule ties sites together, an exact
//!   per-district algorithm replaces HiGHS, for one level or nested over levels.
//! - `proof`: with spacing, the city without spacing is a relaxation whose optimum of each
//!   stage is a lower bound; a plan that keeps every rule and reaches it proves the stage.
//! - `city`: the mixed-integer program for HiGHS. Sites whose only constraints are their
//!   own bounds are aggregated into one column per district (and serving school); only
//!   sites with a minimum get a binary; only sites in a neighbourhood that can bind get a
//!   column of their own.
//! - `stages`: the lexicographic loop over the stages on that program.
//! - `lazy`: spacing balls and spread neighbourhoods entering stage by stage through an LP
//!   that HiGHS keeps, the LP optimum rounded when that is provably as good as the MIP, and
//!   the evenness bounds that keep most balls out of the model.
//! - `spread`: the neighbourhoods of stage spread, one per site, never all listed.
//! - `levels`: demand levels: each level alone, nested plans that reach every level's own
//!   optimum when there are such (a proof), else the program over all levels.
//! - `program`: the sparse program and its hand-over to HiGHS; `greedy`: quick plans that
//!   keep every rule, used as proofs.

mod city;
mod descent;
mod greedy;
mod lazy;
mod levels;
mod prepare;
mod program;
mod proof;
mod rounding;
mod separable;
mod separable_city;
mod spread;
mod spread_bound;
mod spread_quick;
mod spread_search;
mod spread_start;
mod stages;

use std::time::Instant;

pub use greedy::greedy_plan;
pub use prepare::{Exclusion, Prepared, SiteKey, SpacingLimit};
pub use program::StageStatus;
pub use spread::SpreadBalls;

use crate::error::Error;
use crate::model::{Instance, Plan, Stage};
use lazy::{first_spread, solve_within_evenness_bounds, spread_out, violated_spacing, SpacingRows};
use proof::{
    lexicographically_better, proven_solution, proven_stages, shortfall_proof, time_limited,
};
use separable_city::{runs, solve_separable_city};
use stages::solve_program;

/// Prints a line of the solver's trace on stderr when `QUARTIER_TRACE` is set.
pub(crate) fn trace(line: impl FnOnce() -> String) {
    if std::env::var_os("QUARTIER_TRACE").is_some() {
        eprintln!("{}", line());
    }
}

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
    /// With demand levels: each level's plan (the last is `plan`), its stage values, and the
    /// best plan for that level alone. Empty for a single demand.
    pub levels: Vec<LevelPlan>,
}

/// One level of a nested plan.
#[derive(Debug, Clone)]
pub struct LevelPlan {
    /// N_l: the level's new places.
    pub places: u64,
    /// ω_l.
    pub weight: f64,
    pub plan: Plan,
    /// The level's own value of each stage run.
    pub stages: Vec<(Stage, f64)>,
    /// The best plan for this level alone and its stage values (for the price of nesting).
    pub alone: Option<(Plan, Vec<(Stage, f64)>)>,
}

impl LevelPlan {
    pub(crate) fn new(
        instance: &Instance,
        prepared: &Prepared,
        weight: f64,
        plan: Plan,
        stages: &[Stage],
    ) -> LevelPlan {
        LevelPlan {
            places: prepared.demand,
            weight,
            stages: stages
                .iter()
                .map(|&stage| (stage, stage_value(stage, instance, prepared, &plan)))
                .collect(),
            plan,
            alone: None,
        }
    }
}

/// Builds and solves the lexicographic program; the plan always satisfies every rule.
/// `prepared` carries the demand and the stages; with demand levels in the instance, the
/// nested plan over the levels is solved.
pub fn solve(instance: &Instance, prepared: &Prepared) -> Result<Solution, Error> {
    let started = Instant::now();
    if !instance.levels.is_empty() {
        return levels::solve_levels(instance, prepared, started);
    }
    solve_one(instance, prepared, started)
}

/// One demand (one level).
pub(crate) fn solve_one(
    instance: &Instance,
    prepared: &Prepared,
    started: Instant,
) -> Result<Solution, Error> {
    if prepared.stages.contains(&Stage::Spread) {
        return solve_with_spread(instance, prepared, started);
    }
    let Some(relaxed) = solve_separable_city(instance, prepared, &SpacingRows::none(instance))
    else {
        // Minimum occupancies or school seats tie sites together: HiGHS from the start.
        let proven = shortfall_proof(instance, prepared);
        return solve_program(
            instance,
            std::slice::from_ref(prepared),
            &[1.0],
            SpacingRows::lazy(instance, prepared),
            &proven,
            None,
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
        std::slice::from_ref(prepared),
        &[1.0],
        active,
        &proven,
        proven_marginal_values,
        None,
        started,
    ))
}

/// The stages from spread on need every usable site as a column (the spread neighbourhoods
/// overlap everywhere). The stages before it are solved first, as fast as they allow; their
/// optima are kept as bounds, and their plan tells which neighbourhoods to put in first.
fn solve_with_spread(
    instance: &Instance,
    prepared: &Prepared,
    started: Instant,
) -> Result<Solution, Error> {
    let position = prepared
        .stages
        .iter()
        .position(|&s| s == Stage::Spread)
        .expect("called with the spread stage");
    let head = solve_one(
        instance,
        &prepared.with_stages(&prepared.stages[..position]),
        started,
    )?;
    if head.status == SolveStatus::TimeLimit {
        return Ok(head);
    }
    let mut active = SpacingRows::lazy(instance, prepared);
    active.spread_first = vec![first_spread(instance, prepared, &head.plan)];
    let solution = solve_program(
        instance,
        std::slice::from_ref(prepared),
        &[1.0],
        active,
        &head.stages,
        head.marginal_values.as_deref(),
        Some(&head.plan),
        started,
    )?;
    Ok(Solution {
        method: if head.method == "mip" {
            "mip"
        } else {
            "mip (spread)"
        },
        ..solution
    })
}

/// Builds and solves the lexicographic program with HiGHS with every site its own column and
/// every spacing ball and every spread neighbourhood in it from the start, for every level
/// (the reference the lazy, separable and proof paths and the aggregation are tested
/// against).
pub fn solve_mip(instance: &Instance, prepared: &Prepared) -> Result<Solution, Error> {
    let levels: Vec<Prepared> = instance
        .demand_levels()
        .iter()
        .map(|level| prepared.for_demand(instance, level.places))
        .collect();
    let weights: Vec<f64> = match levels.len() {
        1 => vec![1.0],
        _ => instance.demand_levels().iter().map(|l| l.weight).collect(),
    };
    let mut active = SpacingRows::lazy(instance, prepared);
    active.add((0..prepared.spacing.len()).collect());
    // Every site its own column: no aggregation, so the shortcuts of the program builder
    // are tested too.
    active.own_columns = true;
    if prepared.stages.contains(&Stage::Spread) {
        let all: Vec<usize> = (0..prepared.spread_balls(instance).len()).collect();
        active.spread_first = vec![all; levels.len()];
        active.spread_complete = true;
    }
    let proven = if levels.len() == 1 {
        shortfall_proof(instance, prepared)
    } else {
        Vec::new()
    };
    let mut solution = solve_program(
        instance,
        &levels,
        &weights,
        active,
        &proven,
        None,
        None,
        Instant::now(),
    )?;
    if !instance.levels.is_empty() && solution.levels.is_empty() {
        let stages: Vec<Stage> = solution.stages.iter().map(|&(s, _)| s).collect();
        solution.levels = vec![LevelPlan::new(
            instance,
            &levels[0],
            weights[0],
            solution.plan.clone(),
            &stages,
        )];
    }
    Ok(solution)
}

/// The value of a stage's objective for a plan of one level (the stage optimum when the
/// plan is optimal).
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
        Stage::Shortfall => (prepared.demand - plan.placed().min(prepared.demand)) as f64,
        Stage::Evenness => deviations().iter().sum(),
        Stage::Worst => deviations().into_iter().fold(0.0, f64::max),
        Stage::Spread => prepared.spread_balls(instance).most_new(instance, plan) as f64,
        Stage::Access => prepared
            .access_distance
            .iter()
            .zip(&plan.places)
            .map(|(&d, &x)| d * f64::from(x))
            .sum(),
        Stage::Cost => instance
            .sites
            .iter()
            .zip(&plan.places)
            .map(|(s, &x)| s.cost.unwrap_or(0.0) * f64::from(x))
            .sum(),
    }
}

/// The value of each of `stages` for nested plans (one per level): the ω-weighted sum over
/// the levels, evenness and worst scaled by T^L/T^l (MODEL.md, levels). With one level of
/// weight 1, the plain values.
pub(crate) fn weighted_stage_values(
    instance: &Instance,
    levels: &[Prepared],
    weights: &[f64],
    plans: &[Plan],
    stages: &[Stage],
) -> Vec<(Stage, f64)> {
    let total = |p: &Prepared| p.demand as f64 + p.district_existing.iter().sum::<f64>();
    let last = levels.last().map_or(1.0, total);
    stages
        .iter()
        .filter(|&&stage| runs(instance, stage))
        .map(|&stage| {
            let value = if levels.len() == 1 {
                stage_value(stage, instance, &levels[0], &plans[0])
            } else {
                levels
                    .iter()
                    .zip(weights)
                    .zip(plans)
                    .map(|((level, &weight), plan)| {
                        let scale = match stage {
                            Stage::Evenness | Stage::Worst if total(level) > 0.0 => {
                                last / total(level)
                            }
                            _ => 1.0,
                        };
                        weight * scale * stage_value(stage, instance, level, plan)
                    })
                    .sum()
            };
            (stage, value)
        })
        .collect()
}
