//! Nested candidates for demand levels (`levels`): plans x^1 ≤ x^2 ≤ … built from the
//! levels' own plans, level on level, with the solver of one demand.

use std::time::Instant;

use crate::error::Error;
use crate::model::{Instance, Plan};
use crate::solve::model::greedy;
use crate::solve::model::prepare::Prepared;
use crate::solve::model::solution::{Solution, SolveStatus};
use crate::solve::one_demand::solve_one;
use crate::solve::trace::trace;

/// Nested plans that keep every rule, made without a solver: the last level's own plan, and
/// each level below a greedy fill within the plan of the level above (a plan within one
/// that keeps every spacing ball keeps them too).
pub(super) fn cut_down(instance: &Instance, levels: &[Prepared], alone: &[Solution]) -> Vec<Plan> {
    let count = levels.len();
    let mut plans = vec![Plan::empty(instance.sites.len()); count];
    plans[count - 1] = alone[count - 1].plan.clone();
    for l in (0..count - 1).rev() {
        let within = levels[l].with_room_at_most(&plans[l + 1].places);
        plans[l] = greedy::fair_fill(instance, &within);
    }
    plans
}

/// True when every level's plan lies within the next one's.
pub(super) fn is_nested(plans: &[Plan]) -> bool {
    plans.windows(2).all(|pair| {
        pair[0]
            .places
            .iter()
            .zip(&pair[1].places)
            .all(|(a, b)| a <= b)
    })
}

/// Nested plans from the last level down: the last level's own plan, then each level solved
/// alone with every site's places at most those of the level above. `None` when some level
/// cannot reach its own optimum in its first stage that way.
pub(super) fn from_the_top(
    instance: &Instance,
    levels: &[Prepared],
    alone: &[Solution],
    started: Instant,
) -> Result<Option<Vec<Plan>>, Error> {
    let count = levels.len();
    let mut plans = vec![Plan::empty(instance.sites.len()); count];
    plans[count - 1] = alone[count - 1].plan.clone();
    for l in (0..count - 1).rev() {
        let within = levels[l].with_room_at_most(&plans[l + 1].places);
        let solution = solve_one(instance, &within, started)?;
        if solution.status != SolveStatus::Optimal {
            return Ok(None);
        }
        plans[l] = solution.plan;
    }
    Ok(Some(plans))
}

/// Nested plans from the first level up: the first level's own plan, then each level solved
/// alone with the plan of the level below already taken (`Prepared::with_placed`). `None`
/// when some level cannot be solved to its optimum that way.
pub(super) fn from_the_bottom(
    instance: &Instance,
    levels: &[Prepared],
    alone: &[Solution],
    started: Instant,
) -> Result<Option<Vec<Plan>>, Error> {
    let up = Instant::now();
    let mut plans = vec![alone[0].plan.clone()];
    for pair in levels.windows(2) {
        let below = plans.last().expect("the first level's plan");
        let more = pair[1].demand.saturating_sub(pair[0].demand);
        let (city, level) = pair[1].with_placed(instance, &below.places, more);
        let solution = solve_one(&city, &level, started)?;
        if solution.status != SolveStatus::Optimal {
            return Ok(None);
        }
        let mut plan = below.clone();
        for (x, more) in plan.places.iter_mut().zip(&solution.plan.places) {
            *x += more;
        }
        plans.push(plan);
    }
    trace(|| {
        let seconds = up.elapsed().as_secs_f64();
        format!("levels: nested plans from the first level up in {seconds:.2} s")
    });
    Ok(Some(plans))
}
