//! One demand (one level), by the cheapest route that proves its stages: the exact
//! per-district algorithm when no rule ties sites together; with spacing, its plan when it
//! keeps every ball, else proofs against it (`exact::proof`) for the first stages, the
//! evenness bounds, and the HiGHS route for the rest; with the spread stage, the stages
//! before it this way, then the HiGHS route from their plan. When the time limit ends the
//! solve early, the plan that proved the first stages is kept if it is better.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::model::{Instance, Plan, Stage};
use crate::solve::exact::proof::{
    lexicographically_better, proven_solution, proven_stages, shortfall_proof, stages_of,
    time_limited, time_limited_without_bound, time_limited_without_bound_from,
};
use crate::solve::exact::separable_city::solve_separable_city;
use crate::solve::exact::spacing_bound::{averaged_plan, priced_rounds};
use crate::solve::highs::evenness::solve_within_evenness_bounds;
use crate::solve::highs::stages::solve_program;
use crate::solve::highs::windows::{improve_by_windows, BY_LP, BY_MIP};
use crate::solve::model::prepare::Prepared;
use crate::solve::model::solution::{Solution, SolveStatus};
use crate::solve::model::values::stage_value;
use crate::solve::program::neighbourhoods::{
    first_spread, spread_out, violated_spacing, SpacingRows,
};
use crate::solve::trace::trace;

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
        // When the time limit ends it before HiGHS found a plan, the better of two fills
        // that keep every rule is the plan.
        let proven = shortfall_proof(instance, prepared);
        return match solve_program(
            instance,
            std::slice::from_ref(prepared),
            &[1.0],
            SpacingRows::lazy(instance, prepared),
            &proven,
            None,
            None,
            started,
        ) {
            Err(Error::TimeLimit(_)) => Ok(time_limited_without_bound(
                instance, prepared, &proven, started,
            )),
            other => other,
        };
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
    // With the balls priced (`priced`: the bound on evenness, a plan from the average), the
    // gap of a plan whose first goal not proven is evenness is also judged against that
    // bound: the fallback's, the averaged plan's and HiGHS's.
    let finish = |result: Result<Solution, Error>, priced: Option<(f64, Option<Plan>)>| {
        let (bound, averaged) = priced.unzip();
        let judged = |solution: Solution| match bound {
            Some(bound) => with_evenness_bound(instance, prepared, solution, &relaxed, bound),
            None => solution,
        };
        let solution = match result {
            Err(Error::TimeLimit(_)) => judged(fallback()),
            Ok(solution) if solution.status == SolveStatus::TimeLimit => {
                lexicographically_better(judged(solution), judged(fallback()))
            }
            other => return other,
        };
        Ok(match averaged.flatten() {
            Some(plan) => lexicographically_better(
                solution,
                judged(time_limited(
                    instance,
                    prepared,
                    plan,
                    &relaxed,
                    proven.len(),
                    started,
                )),
            ),
            None => solution,
        })
    };
    let rest = || {
        match solve_within_evenness_bounds(instance, prepared, &relaxed, &proven, started) {
            Ok(Some(solution)) => return Ok(solution),
            Ok(None) => {}
            Err(error) => return Err(error),
        }
        let mut active = SpacingRows::lazy(instance, prepared);
        active.add(spread_out(instance, prepared, violated));
        solve_program(
            instance,
            std::slice::from_ref(prepared),
            &[1.0],
            active,
            &proven,
            proven_marginal_values,
            None,
            started,
        )
    };
    // Where that plan does not reach evenness, the city without spacing may be far below
    // it (the tight 200k grid: 82.6 %); under a time limit, the balls are priced beside
    // HiGHS (`exact::spacing_bound`), for a bound and a plan from the rounds' average, in
    // case the limit ends HiGHS first. The plan is made a little before the limit.
    // Only where the plan proved shortfall and nothing more: every plan then places exactly
    // the demand less that shortfall (the priced relaxation could place none otherwise).
    let shortfall = match proven.as_slice() {
        [(Stage::Shortfall, shortfall)] => Some(shortfall.round() as u64),
        _ => None,
    };
    let limit = instance.solver.time_limit_s;
    let (Some(limit), Some(shortfall)) = (limit, shortfall) else {
        return finish(rest(), None);
    };
    let Some(deadline) = Duration::try_from_secs_f64(limit.max(0.0))
        .ok()
        .and_then(|limit| started.checked_add(limit))
    else {
        return finish(rest(), None);
    };
    let placed = prepared.demand.saturating_sub(shortfall);
    let placed = (placed, placed);
    let upper = stage_value(Stage::Evenness, instance, prepared, &plan);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let stop = &stop;
        let pricing = scope.spawn(move || {
            let reserve = Duration::from_secs_f64((0.05 * limit).clamp(0.0, 3.0));
            let before = deadline.checked_sub(reserve).unwrap_or(deadline);
            let mut best: Option<(Plan, f64)> = None;
            let bound = priced_rounds(prepared, placed, upper, before, stop, |mean| {
                let plan = averaged_plan(instance, prepared, mean);
                if plan.placed() < placed.0 {
                    return None;
                }
                // The first average is improved window by window; later ones, steered by
                // that plan, are only kept where they are better as they are.
                let plan = match best {
                    None => improve_by_windows(instance, prepared, plan, before, stop, BY_LP),
                    Some(_) => plan,
                };
                let evenness = stage_value(Stage::Evenness, instance, prepared, &plan);
                trace(|| format!("spacing bound: a plan from the average at {evenness}"));
                if best.as_ref().is_none_or(|(_, least)| evenness < *least) {
                    best = Some((plan, evenness));
                }
                Some(evenness)
            })?;
            // The time the rounds leave goes to small windows solved as MIPs.
            let best = best.map(|(plan, evenness)| {
                let proven = evenness <= bound + 1e-6 * bound.abs().max(1.0);
                if proven || stop.load(Ordering::Relaxed) || Instant::now() >= before {
                    return plan;
                }
                improve_by_windows(instance, prepared, plan, before, stop, BY_MIP)
            });
            Some((bound, best))
        });
        let result = rest();
        stop.store(true, Ordering::Relaxed);
        finish(result, pricing.join().ok().flatten())
    })
}

/// A solution the time limit ended with its gap in evenness (its shortfall at the optimum),
/// judged against `bound` too (and the city without spacing, `relaxed`). Where the plan is
/// at that bound, evenness is proven after all: the gap moves to the next stage with a
/// value above 0, against 0 (no bound is known for it there), and with none the plan is
/// optimal.
fn with_evenness_bound(
    instance: &Instance,
    prepared: &Prepared,
    solution: Solution,
    relaxed: &Solution,
    bound: f64,
) -> Solution {
    let (Some(evenness), Some(least)) = (
        solution.value_of(Stage::Evenness),
        relaxed.value_of(Stage::Evenness),
    ) else {
        return solution;
    };
    if solution.status != SolveStatus::TimeLimit || solution.gap_stage != Some(Stage::Evenness) {
        return solution;
    }
    let gap = (evenness - bound.max(least)).max(0.0) / evenness.max(1.0);
    trace(|| {
        format!(
            "spacing bound: evenness {evenness} against {bound}, gap {gap:.4} (was {:.4})",
            solution.mip_gap
        )
    });
    if gap > 1e-9 {
        return Solution {
            mip_gap: solution.mip_gap.min(gap),
            ..solution
        };
    }
    let stages = stages_of(instance, prepared, &solution.plan);
    let next = stages
        .iter()
        .skip_while(|(stage, _)| *stage != Stage::Evenness)
        .skip(1)
        .find(|&&(_, value)| value > 0.0)
        .copied();
    Solution {
        status: if next.is_some() {
            SolveStatus::TimeLimit
        } else {
            SolveStatus::Optimal
        },
        mip_gap: next.map_or(0.0, |(_, value)| value / value.max(1.0)),
        gap_stage: next.map(|(stage, _)| stage),
        stages,
        ..solution
    }
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
    let solution = match solve_program(
        instance,
        std::slice::from_ref(prepared),
        &[1.0],
        active,
        &head.stages,
        head.marginal_values.as_deref(),
        Some(&head.plan),
        started,
    ) {
        // The plan of the stages before spread keeps every rule and is optimal in them;
        // the spread stage's gap is against 0, the only bound known then.
        Err(Error::TimeLimit(_)) => {
            return Ok(time_limited_without_bound_from(
                instance, prepared, head, started,
            ))
        }
        other => other?,
    };
    Ok(Solution {
        method: if head.method == "mip" {
            "mip"
        } else {
            "mip (spread)"
        },
        ..solution
    })
}
