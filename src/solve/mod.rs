//! The allocation model of docs/model.md, solved stage by stage (shortfall, evenness, then worst
//! district, spread, access and cost in the scenario's order) exactly, for one demand or a
//! nested plan over demand levels. The rooms, from the top down; each imports only from the
//! rooms below it:
//!
//! - the driver, here: `solve` (one demand in `one_demand`, demand levels in `levels`) and
//!   `solve_mip`, the reference with everything in the program from the start.
//! - `exact`: the route without HiGHS: the exact per-district algorithm when no rule ties
//!   sites together, and proofs against it as a relaxation when spacing does.
//! - `highs`: the HiGHS route: the stage loop on the city's program, each stage with its
//!   neighbourhoods entering lazily, from the LP to whole places (roundings, MIP rounds),
//!   and the evenness bounds that keep most spacing balls out.
//! - `spread`: the spread stage's searches without HiGHS (bound, starts, moves, descent);
//!   the HiGHS route calls them for spread, and for access or cost after a tight spread.
//! - `program`: the sparse program and its LP session, the city as that program, the
//!   neighbourhoods in it and their rows, and plans read into it and judged.
//! - `model`: the rules applied to each site and district (`Prepared`), the spread
//!   neighbourhoods, the per-district algorithm, greedy plans, the stages' values and the
//!   `Solution`.
//!
//! `trace` prints the solver's trace (`QUARTIER_TRACE`): why did the cost stage take 3 s?
//! The stage loop (`highs::stages`) times each stage; `highs::lazy` says what each way from
//! the LP found.

mod exact;
mod highs;
mod levels;
mod model;
mod nested_plans;
mod one_demand;
mod program;
mod spread;
mod trace;

use std::time::Instant;

pub use exact::spacing_bound::evenness_bound;
pub use levels::levels_stage_bounds;
pub use model::greedy::greedy_plan;
pub use model::prepare::{Exclusion, Prepared, SiteKey, SpacingLimit};
pub use model::solution::{LevelPlan, ModelSize, Solution, SolveStatus};
pub use model::spread_balls::SpreadBalls;
pub use model::values::stage_value;
pub use program::sparse::StageStatus;

use crate::error::Error;
use crate::model::{Instance, Plan, Stage};
use exact::proof::shortfall_proof;
use highs::stages::solve_program;
use one_demand::solve_one;
use program::neighbourhoods::SpacingRows;

/// Builds and solves the lexicographic program; the plan always satisfies every rule.
/// `prepared` carries the demand and the stages; with demand levels in the instance, the
/// nested plan over the levels is solved.
pub fn solve(instance: &Instance, prepared: &Prepared) -> Result<Solution, Error> {
    solve_since(instance, prepared, Instant::now())
}

/// As `solve`, with `[solver] time_limit_s` counted from `started` (for `quartier solve`,
/// when it began reading the layers: the limit is for the whole run).
pub fn solve_since(
    instance: &Instance,
    prepared: &Prepared,
    started: Instant,
) -> Result<Solution, Error> {
    if !instance.levels.is_empty() {
        return levels::solve_levels(instance, prepared, started);
    }
    solve_one(instance, prepared, started)
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
    active.reference = true;
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

/// The levels' nested plans (one per level, at most `prepared`'s room) with each district's
/// sites refilled for its least nested cost where every rule still holds: the places per
/// district and level stay, cost falls or stays. Returns the weighted cost saved. What the
/// levels' route does to its plans before the stage cost; public for tests.
pub fn refill_for_cost(instance: &Instance, prepared: &Prepared, plans: &mut [Plan]) -> f64 {
    let (weights, levels, _) = levels::levels_of(instance, prepared);
    model::nested_cost::cheaper_within_districts(instance, &levels, &weights, plans)
}
