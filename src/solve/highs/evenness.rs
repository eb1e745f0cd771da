//! The HiGHS route's shortcut when spacing is the only rule between sites: the plan without
//! spacing usually keeps its evenness, and then every district's new places stay within
//! bounds that duality gives (`separable::evenness_bounds`); only the balls that could
//! overfill within them can matter. The program with those bounds is solved, and accepted
//! only when its shortfall and evenness equal the relaxation's (which proves the
//! assumption); otherwise the driver falls back to the program without them.

use std::time::Instant;

use super::stages::solve_program;
use crate::error::Error;
use crate::model::{Instance, Stage};
use crate::solve::exact::proof::{reached, time_limited};
use crate::solve::model::districts::separable_districts;
use crate::solve::model::greedy;
use crate::solve::model::prepare::Prepared;
use crate::solve::model::separable;
use crate::solve::model::solution::{Solution, SolveStatus};
use crate::solve::model::values::stage_value;
use crate::solve::program::neighbourhoods::SpacingRows;
use crate::solve::trace::trace;

/// Spacing balls usually leave stage B's optimum where it is without them. If so, every
/// optimal plan keeps each district's new places within the bounds of `evenness_bounds`,
/// and only the balls that could be overfilled within those bounds matter: usually few,
/// so all go into the model at once (lazily when they are many). The plan is accepted when
/// its shortfall and evenness equal the relaxation's (which proves the assumption);
/// otherwise `None`.
pub(crate) fn solve_within_evenness_bounds(
    instance: &Instance,
    prepared: &Prepared,
    relaxed: &Solution,
    proven: &[(Stage, f64)],
    started: Instant,
) -> Result<Option<Solution>, Error> {
    let (Some(shortfall), Some(evenness)) = (
        relaxed.value_of(Stage::Shortfall),
        relaxed.value_of(Stage::Evenness),
    ) else {
        return Ok(None);
    };
    // Later stages let evenness exceed its optimum by 1e-6 of it: the bounds allow more.
    let slack = 3e-6 * evenness.max(1.0);
    let (districts, _) = separable_districts(instance, prepared);
    // Only the upper bounds matter: they keep balls from overfilling. (Lower bounds could make
    // the model infeasible where spacing moves the optimum.)
    let highest: Vec<u64> = separable::evenness_bounds(&districts, prepared.demand, slack)
        .into_iter()
        .map(|(_, hi)| hi)
        .collect();
    if highest.iter().zip(&districts).all(|(&hi, d)| hi >= d.cap) {
        return Ok(None); // every district may take anything up to its cap: nothing gained
    }
    let mut active = SpacingRows::lazy(instance, prepared);
    let candidates: Vec<usize> = prepared
        .spacing
        .iter()
        .enumerate()
        .filter(|(_, ball)| prepared.room_within(&ball.members, |d| highest[d]) > ball.room)
        .map(|(index, _)| index)
        .collect();
    let members: usize = candidates
        .iter()
        .map(|&b| prepared.spacing[b].members.len())
        .sum();
    trace(|| {
        format!(
            "evenness bounds: {} of {} spacing balls could overfill ({members} members)",
            candidates.len(),
            prepared.spacing.len()
        )
    });
    // Up front when the rows stay small for HiGHS; otherwise they enter lazily.
    if members <= 400_000 {
        active.add(candidates);
    }
    // A proof of the first stages holds within the bounds only when it covers evenness (the
    // bounds follow from the evenness optimum). Otherwise a plan within the bounds may have
    // to leave a shortfall: then the assumption fails, and the model must be able to say so.
    let proven_within: Vec<(Stage, f64)> = if proven.iter().any(|(s, _)| *s == Stage::Evenness) {
        proven.to_vec()
    } else if prepared.stages.first() == Some(&Stage::Shortfall)
        && greedy::greedy_plan_within(instance, prepared, Some(&highest)).placed()
            >= prepared.demand
    {
        vec![(Stage::Shortfall, 0.0)]
    } else {
        Vec::new()
    };
    active.most_new = Some(highest);
    let marginal_values = relaxed
        .marginal_values
        .as_deref()
        .filter(|_| proven_within.iter().any(|(s, _)| *s == Stage::Evenness));
    let solution = solve_program(
        instance,
        std::slice::from_ref(prepared),
        &[1.0],
        active,
        &proven_within,
        marginal_values,
        None,
        started,
    )?;
    let holds = solution.value_of(Stage::Shortfall) == Some(shortfall)
        && solution
            .value_of(Stage::Evenness)
            .is_some_and(|v| v <= evenness + 1e-6 * evenness.max(1.0));
    if solution.status == SolveStatus::TimeLimit {
        // A plan that keeps every rule, reported with the time limit's status; no time is
        // left to start again without the bounds. Its gap is against the relaxation's
        // optimum of the first stage the plan does not reach, a bound that holds for the
        // city; and where the plan reaches the relaxation's evenness, every plan that
        // could beat it lies within the bounds, so HiGHS's stages and gap hold for the city
        // too. The later of the two stages, or the smaller gap where they agree.
        let reached = reached(
            &relaxed.stages,
            relaxed
                .stages
                .iter()
                .map(|&(stage, _)| stage_value(stage, instance, prepared, &solution.plan)),
        );
        let judged = Solution {
            method: solution.method,
            ..time_limited(
                instance,
                prepared,
                solution.plan.clone(),
                relaxed,
                reached,
                started,
            )
        };
        if !holds {
            return Ok(Some(judged));
        }
        let position = |s: &Solution| {
            s.gap_stage.map_or(usize::MAX, |stage| {
                relaxed
                    .stages
                    .iter()
                    .position(|&(r, _)| r == stage)
                    .unwrap_or(0)
            })
        };
        return Ok(Some(match position(&judged).cmp(&position(&solution)) {
            std::cmp::Ordering::Greater => judged,
            std::cmp::Ordering::Less => solution,
            std::cmp::Ordering::Equal => Solution {
                mip_gap: solution.mip_gap.min(judged.mip_gap),
                ..solution
            },
        }));
    }
    trace(|| format!("evenness bounds: optimum kept: {holds}"));
    Ok(holds.then_some(solution))
}
