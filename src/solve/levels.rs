//! Demand levels (docs/model.md, "Levels"): one nested plan x^1 ≤ x^2 ≤ … whose stages minimise
//! the weighted sums of the levels' values.
//!
//! Each level is first solved alone, exactly. No nested plan can do better in any level than
//! that level alone, so when nested plans reach every level's own optimum in the first
//! stages, those stages are proven for the nested model (stage by stage: a weighted sum of
//! values each at its least is at its least, and then every level must be at its own
//! optimum in the stages after). Nested plans are tried in this order:
//!
//! - when no rule couples sites, the per-district boxes of every level's optimal plans,
//!   chained (`separable::chain`);
//! - the levels' own plans, when they happen to be nested;
//! - from the first level up: each level solved alone with the plan of the level below
//!   already taken (`Prepared::with_placed`);
//! - where those miss a level's own optimum in a stage that counts districts' places, from
//!   the last level down: each level solved alone within the plan of the level above.
//!
//! Where cost follows the stages that count districts' places, it is first solved on the
//! districts' totals (`highs::nested_master`): where that plan keeps every rule, it is
//! optimal; under a time limit with half the time left, and again after the candidates.
//!
//! The stages no candidate proves are solved by HiGHS on the program of all levels at once,
//! with the proven stages kept as bounds. Where the unproven stages start with ones that
//! count districts' places (evenness, fair, worst), that program is first tried with each
//! level held at its own optimum in them (`solve_pinned`): a nested plan that meets every
//! pin is optimal there, so HiGHS solves only the stages after; without one, the program
//! as it is. When the time limit ends that program first, the
//! best nested candidate is the plan (it keeps every rule), with its honest gap.

use std::time::{Duration, Instant};

use crate::error::Error;
use crate::model::{Instance, Plan, Stage};
use crate::solve::exact::proof::lexicographically_better;
use crate::solve::exact::separable_city::nested_separable;
use crate::solve::highs::nested_master::{Master, ROUNDS};
use crate::solve::highs::stages::{solve_pinned, solve_program};
use crate::solve::model::nested_cost::{cheaper_within_districts, cost_bound};
use crate::solve::model::prepare::Prepared;
use crate::solve::model::solution::{LevelPlan, ModelSize, Solution, SolveStatus};
use crate::solve::model::values::{runs, stage_value, weighted_stage_values};
use crate::solve::nested_plans::{cut_down, from_the_bottom, from_the_top, is_nested};
use crate::solve::one_demand::solve_one;
use crate::solve::program::neighbourhoods::{first_spread, spread_out, SpacingRows};
use crate::solve::trace::trace;

/// Each demand level's weight and `Prepared` (its demand and fair shares), and the stages
/// that run.
pub(super) fn levels_of(
    instance: &Instance,
    prepared: &Prepared,
) -> (Vec<f64>, Vec<Prepared>, Vec<Stage>) {
    let spec = instance.demand_levels();
    let weights = spec.iter().map(|l| l.weight).collect();
    let levels = spec
        .iter()
        .map(|level| prepared.for_demand(instance, level.places))
        .collect();
    let stages = prepared
        .stages
        .iter()
        .copied()
        .filter(|&s| runs(instance, s))
        .collect();
    (weights, levels, stages)
}

/// Solves the nested plan over the instance's demand levels.
pub(super) fn solve_levels(
    instance: &Instance,
    prepared: &Prepared,
    started: Instant,
) -> Result<Solution, Error> {
    let (weights, levels, stages) = levels_of(instance, prepared);

    let alone_started = Instant::now();
    let alone: Vec<Solution> = levels
        .iter()
        .map(|level| solve_one(instance, level, started))
        .collect::<Result<_, _>>()?;
    trace(|| {
        let seconds = alone_started.elapsed().as_secs_f64();
        format!("levels: {} levels alone in {seconds:.2} s", levels.len())
    });
    let attach_alone = |mut solution: Solution| {
        for (level, own) in solution.levels.iter_mut().zip(&alone) {
            level.alone = Some((own.plan.clone(), own.stages.clone()));
        }
        solution
    };
    if levels.len() == 1 {
        let own = alone.into_iter().next().expect("one level");
        let level = LevelPlan {
            places: levels[0].demand,
            weight: weights[0],
            plan: own.plan.clone(),
            stages: own.stages.clone(),
            alone: Some((own.plan.clone(), own.stages.clone())),
        };
        return Ok(Solution {
            levels: vec![level],
            ..own
        });
    }
    let all_optimal = alone.iter().all(|s| s.status == SolveStatus::Optimal);

    // How many of the stages (from the first) the nested plans reach every level's own
    // optimum in.
    let reached = |plans: &[Plan]| -> usize {
        if !all_optimal {
            return 0;
        }
        stages
            .iter()
            .take_while(|&&stage| {
                levels
                    .iter()
                    .zip(plans)
                    .zip(&alone)
                    .all(|((level, plan), own)| {
                        let optimum = own.value_of(stage).unwrap_or(f64::INFINITY);
                        let value = stage_value(stage, instance, level, plan);
                        value <= optimum + 1e-9 * optimum.abs().max(1.0)
                    })
            })
            .count()
    };
    let mut best: Option<(usize, Vec<Plan>, &'static str)> = None;
    let mut consider = |plans: Vec<Plan>, how: &'static str| -> bool {
        let count = reached(&plans);
        trace(|| format!("levels: {how} reach every level's own optimum in {count} stages"));
        if best.as_ref().is_none_or(|(most, _, _)| count > *most) {
            best = Some((count, plans, how));
        }
        count == stages.len()
    };
    let mut done = false;
    if let Some((plans, _)) = nested_separable(instance, &levels) {
        done = consider(plans, "separable");
    }
    if !done {
        let own: Vec<Plan> = alone.iter().map(|s| s.plan.clone()).collect();
        if is_nested(&own) {
            done = consider(own, "proof");
        }
    }
    // Nested plans from the first level up, then (unless those already reach every level's
    // own optima in the stages that count districts' places, the `pinned` first ones) from
    // the last level down.
    let pinned = stages
        .iter()
        .take_while(|s| {
            matches!(
                s,
                Stage::Shortfall | Stage::Evenness | Stage::Fair | Stage::Worst
            )
        })
        .count();
    let deadline = instance
        .solver
        .time_limit_s
        .and_then(|limit| Duration::try_from_secs_f64(limit.max(0.0)).ok())
        .and_then(|limit| started.checked_add(limit));
    // With cost right after the stages that count districts' places: cost on the districts'
    // totals (`nested_master`), a bound, and where its plans keep every rule, the optimum.
    // Under a time limit it has half the time left; where it has no plan that keeps every
    // rule by then, the nested plans below are built, and it goes on from the better.
    // Plans of the districts' totals proven optimal, with HiGHS's gap (within `mip_gap`).
    let optimal = |plans: Vec<Plan>, gap: f64| Solution {
        mip_gap: gap,
        ..attach_alone(nested_solution(
            instance, &levels, &weights, plans, &stages, "mip", started,
        ))
    };
    let (mut master, mut master_plans, mut master_proven) = (None, None, false);
    if !done && all_optimal && stages.get(pinned) == Some(&Stage::Cost) {
        if let Some(mut found) =
            Master::for_levels(instance, &levels, &weights, &alone, &stages[..pinned])
        {
            let until = deadline.map(|d| {
                let now = Instant::now();
                now + d.saturating_duration_since(now) / 2
            });
            match found.solve(ROUNDS, until, None) {
                Some((plans, Some(gap))) if pinned + 1 == stages.len() => {
                    return Ok(optimal(plans, gap));
                }
                Some((plans, gap)) => {
                    master_plans = Some(plans);
                    master_proven = gap.is_some();
                }
                None => {}
            }
            master = Some(found);
        }
    }
    // Plans of the districts' totals that keep every rule make the nested candidates
    // unneeded (they are at the held optima, and the districts' totals go on from them).
    let mut enough = master_plans.is_some();
    if !done && !enough && all_optimal && !stages.contains(&Stage::Spread) {
        if let Some(plans) = from_the_bottom(instance, &levels, &alone, started)? {
            enough = reached(&plans) >= pinned;
            done = consider(plans, "proof");
        }
    }
    if !done && all_optimal && !enough {
        if let Some(plans) = from_the_top(instance, &levels, &alone, started)? {
            done = consider(plans, "proof");
        }
    }
    let (count, mut plans, how) = best.unwrap_or((0, Vec::new(), "mip"));
    if done {
        return Ok(attach_alone(nested_solution(
            instance, &levels, &weights, plans, &stages, how, started,
        )));
    }
    // Plans at every level's own optima in the stages that count districts' places, with
    // cost next: each district's sites refilled for its least nested cost where the rules
    // allow (the districts' places, and so those stages, unchanged).
    if count >= pinned && stages.get(pinned) == Some(&Stage::Cost) {
        let refill = Instant::now();
        let saved = cheaper_within_districts(instance, &levels, &weights, &mut plans);
        trace(|| {
            let seconds = refill.elapsed().as_secs_f64();
            format!("levels: districts refilled for cost in {seconds:.2} s, {saved:.6} saved")
        });
    }
    // The plans of the districts' totals keep every rule and the held stages (within their
    // tolerance): better than nested plans that do not, else where cheaper. Unless proven,
    // the districts' totals go on for the time left from the better plans (HiGHS starts
    // from them), with the balls and schools their plans broke.
    let cost = |plans: &[Plan]| {
        weighted_stage_values(instance, &levels, &weights, plans, &[Stage::Cost])
            .first()
            .map_or(f64::INFINITY, |&(_, cost)| cost)
    };
    let mut count = count;
    if let Some(found) = master_plans.take() {
        if count < pinned || plans.is_empty() || cost(&found) < cost(&plans) {
            trace(|| "levels: the plans of the districts' totals are the best".into());
            (plans, count) = (found, pinned);
        }
    }
    if let Some(found) = master.as_mut().filter(|_| !master_proven) {
        if count >= pinned && !plans.is_empty() {
            match found.solve(ROUNDS, deadline, Some(&plans)) {
                Some((better, Some(gap))) if pinned + 1 == stages.len() => {
                    return Ok(optimal(better, gap));
                }
                Some((better, _)) if cost(&better) < cost(&plans) => plans = better,
                _ => {}
            }
        }
    }
    let master_bound = master.map(|m| m.bound).filter(|b| b.is_finite());

    // The program of all levels, with the proven stages as bounds.
    let proven: Vec<(Stage, f64)> = if plans.is_empty() {
        Vec::new()
    } else {
        weighted_stage_values(instance, &levels, &weights, &plans, &stages[..count])
    };
    let mut active = SpacingRows::lazy(instance, prepared);
    if prepared.stages.contains(&Stage::Spread) {
        let start: Vec<Plan> = if plans.is_empty() {
            alone.iter().map(|s| s.plan.clone()).collect()
        } else {
            plans.clone()
        };
        active.spread_first = start
            .iter()
            .zip(&levels)
            .map(|(plan, level)| first_spread(instance, level, plan))
            .collect();
    }
    // Spacing balls the starting plans' last level fills to the brim are likely to bind.
    if let Some(last) = plans.last() {
        let full: Vec<usize> = prepared
            .spacing
            .iter()
            .enumerate()
            .filter(|(_, ball)| {
                let load: u64 = ball
                    .members
                    .iter()
                    .map(|&s| u64::from(last.places[s as usize]))
                    .sum();
                load >= ball.room
            })
            .map(|(b, _)| b)
            .collect();
        active.add(spread_out(instance, prepared, full));
    }
    let bounds = if all_optimal {
        // The nested plans' cost, what the bound on nested cost aims at.
        let target = (!plans.is_empty())
            .then(|| weighted_stage_values(instance, &levels, &weights, &plans, &[Stage::Cost]))
            .and_then(|values| values.first().map(|&(_, cost)| cost));
        // With the bound of the districts' totals, the Lagrangian's rounds add nothing.
        let target = target.filter(|_| master_bound.is_none());
        let mut bounds = stage_bounds(
            instance, &levels, &weights, &alone, &stages, target, deadline,
        );
        if let (Some(bound), Some(k)) =
            (master_bound, stages.iter().position(|&s| s == Stage::Cost))
        {
            bounds[k].1 = bounds[k].1.max(bound);
        }
        bounds
    } else {
        Vec::new()
    };
    // When the time limit ends the program of all levels, the nested plans it started from
    // keep every rule (or, without them, the last level's own plan cut down level by level):
    // they are the plan, with the gap of their first stage not proven against the levels'
    // own optima, a bound no nested plan can beat.
    // `highs`: the bound HiGHS proved for the stage its plan's gap is in, where it stopped
    // with one (for the same program, it holds for the nested plans too).
    let limited = |highs: Option<(Stage, f64)>| {
        let plans = if plans.is_empty() {
            cut_down(instance, &levels, &alone)
        } else {
            plans.clone()
        };
        let mut solution =
            nested_solution(instance, &levels, &weights, plans, &stages, how, started);
        solution.method = "greedy";
        if let Some((stage, gap)) = first_unproven(instance, &solution.stages, 0, &bounds, highs) {
            solution.status = SolveStatus::TimeLimit;
            solution.mip_gap = gap;
            solution.gap_stage = Some(stage);
        }
        solution
    };
    // Every level alone is at its optimum, but no candidate reached those optima in every
    // stage. Where the first stages count districts' places only (evenness, fair, worst),
    // the program of all levels is tried with every level held at its own optimum in each
    // of them: a plan of it is optimal there (a weighted sum at the levels' own optima,
    // which no nested plan beats), and HiGHS solves only the stages after. Without a nested
    // plan that meets every pin, the program of all levels as it is.
    // (Only with a stage after them to solve: a program with every stage proven solves
    // nothing.)
    // Where the time is up already (the districts' totals may take all of it), the
    // program of all levels would only be built to stop at once.
    if deadline.is_some_and(|d| Instant::now() >= d) {
        return Ok(attach_alone(limited(None)));
    }
    if all_optimal && pinned >= count && pinned < stages.len() {
        let pins: Vec<(Stage, Vec<f64>)> = stages[..pinned]
            .iter()
            .map(|&stage| {
                let own = alone
                    .iter()
                    .map(|own| own.value_of(stage).unwrap_or(f64::INFINITY));
                (stage, own.collect())
            })
            .collect();
        trace(|| {
            let seconds = started.elapsed().as_secs_f64();
            format!("levels: the program of all levels, every level at its own optima in {pinned} stages ({seconds:.2} s into the run)")
        });
        match solve_pinned(
            instance,
            &levels,
            &weights,
            active.clone(),
            &pins,
            &bounds[..pinned],
            started,
        ) {
            Ok(solution) if solution.status == SolveStatus::TimeLimit => {
                let highs = highs_bound(&solution);
                let solution = judged_by_own_optima(
                    instance, &levels, &weights, &stages, &bounds, solution, started,
                );
                return Ok(attach_alone(lexicographically_better(
                    solution,
                    limited(highs),
                )));
            }
            Ok(solution) => return Ok(attach_alone(solution)),
            Err(Error::TimeLimit(_)) => return Ok(attach_alone(limited(None))),
            Err(_) => trace(|| "levels: no nested plan meets every level's own optima".into()),
        }
    }
    trace(|| format!("levels: the program of all levels, {count} stages proven"));
    let result = solve_program(
        instance, &levels, &weights, active, &proven, None, None, started,
    );
    match result {
        Err(Error::TimeLimit(_)) => Ok(attach_alone(limited(None))),
        Ok(solution) if solution.status == SolveStatus::TimeLimit => {
            let solution = judged_by_own_optima(
                instance, &levels, &weights, &stages, &bounds, solution, started,
            );
            let highs = highs_bound(&solution);
            Ok(attach_alone(lexicographically_better(
                solution,
                limited(highs),
            )))
        }
        other => other.map(attach_alone),
    }
}

/// The bound a time-limited solution's gap stands on, in the stage the gap is in (less the
/// stages' tolerance, as the gap is HiGHS's against its own objective, which may lie that
/// far below the plan's value).
fn highs_bound(solution: &Solution) -> Option<(Stage, f64)> {
    let stage = solution.gap_stage?;
    let value = solution.value_of(stage)?;
    let scale = value.abs().max(1.0);
    Some((stage, value - (solution.mip_gap + 1e-6) * scale))
}

/// The levels' own optima, weighted: no nested plan does better in any stage; in cost, the
/// bound on nested cost (`nested_cost::cost_bound`, towards `target` until `deadline`)
/// where it is higher. Every level alone must be optimal.
fn stage_bounds(
    instance: &Instance,
    levels: &[Prepared],
    weights: &[f64],
    alone: &[Solution],
    stages: &[Stage],
    target: Option<f64>,
    deadline: Option<Instant>,
) -> Vec<(Stage, f64)> {
    let own: Vec<Plan> = alone.iter().map(|s| s.plan.clone()).collect();
    let mut bounds = weighted_stage_values(instance, levels, weights, &own, stages);
    if let Some(k) = stages.iter().position(|&s| s == Stage::Cost) {
        let timer = Instant::now();
        if let Some(nested) = cost_bound(
            instance,
            levels,
            weights,
            alone,
            &bounds[..k],
            target,
            deadline,
        ) {
            trace(|| {
                let (own, seconds) = (bounds[k].1, timer.elapsed().as_secs_f64());
                format!("levels: nested cost at least {nested:.6} in {seconds:.3} s (the levels' own optima {own:.6})")
            });
            bounds[k].1 = bounds[k].1.max(nested);
        }
    }
    bounds
}

/// What the levels' fallback judges a plan by, for tests: each stage's bound (the levels'
/// own optima, weighted; in cost, the bound on nested cost where higher, its prices moved
/// towards `target`). A bound for a stage only while the plan is at them in every stage
/// before. `None` with a single level or where some level alone is not proven optimal.
pub fn levels_stage_bounds(
    instance: &Instance,
    prepared: &Prepared,
    target: Option<f64>,
) -> Result<Option<Vec<(Stage, f64)>>, Error> {
    if instance.demand_levels().len() < 2 {
        return Ok(None);
    }
    let (weights, levels, stages) = levels_of(instance, prepared);
    let started = Instant::now();
    let alone: Vec<Solution> = levels
        .iter()
        .map(|level| solve_one(instance, level, started))
        .collect::<Result<_, _>>()?;
    if alone.iter().any(|s| s.status != SolveStatus::Optimal) {
        return Ok(None);
    }
    Ok(Some(stage_bounds(
        instance, &levels, &weights, &alone, &stages, target, None,
    )))
}

/// The first stage, from `from` on, whose weighted value (`values`) is above the best bound
/// known for it, with its gap: the levels' own optima (`own`, weighted; a bound for a stage
/// only while the values are at them in every stage before), `highs` (HiGHS's bound for the
/// stage it stopped in), or 0 (every stage's value is at least 0, cost where no site has a
/// negative cost). A stage at its bound is proven. `None` when every stage from `from` on is.
fn first_unproven(
    instance: &Instance,
    values: &[(Stage, f64)],
    from: usize,
    own: &[(Stage, f64)],
    highs: Option<(Stage, f64)>,
) -> Option<(Stage, f64)> {
    let no_negative_cost = instance
        .sites
        .iter()
        .all(|s| s.cost.is_none_or(|c| c >= 0.0));
    // Within the tolerance the stages keep between them (10⁻⁶ of the value, docs/model.md):
    // plans that use it (the program of all levels and the districts' totals may) are at
    // the optimum.
    let at = |k: usize, bound: f64| values[k].1 <= bound + 1e-6 * bound.abs().max(1.0);
    let at_own = |k: usize| own.get(k).is_some_and(|&(_, bound)| at(k, bound));
    let mut own_holds = (0..from).all(at_own);
    for (k, &(stage, value)) in values.iter().enumerate().skip(from) {
        let zero = (stage != Stage::Cost || no_negative_cost).then_some(0.0);
        let by_own = own.get(k).filter(|_| own_holds).map(|&(_, bound)| bound);
        let by_highs = highs.filter(|&(s, _)| s == stage).map(|(_, bound)| bound);
        match [zero, by_own, by_highs]
            .into_iter()
            .flatten()
            .reduce(f64::max)
        {
            Some(bound) if at(k, bound) => own_holds &= at_own(k),
            Some(bound) => return Some((stage, (value - bound) / value.abs().max(1.0))),
            None => return Some((stage, 1.0)),
        }
    }
    None
}

/// A solution of the program of all levels that the time limit ended, judged against the
/// levels' own optima (`bounds`) as well (`first_unproven`): its gap is the smaller of
/// HiGHS's and theirs in the stage it stopped in (25 levels of the demo city, stage worst:
/// HiGHS's bound was still 0, a gap of 100 %); where the plan is at a bound there, the gap
/// is that of the first later stage that is not, and with none the plan is optimal.
fn judged_by_own_optima(
    instance: &Instance,
    levels: &[Prepared],
    weights: &[f64],
    stages: &[Stage],
    bounds: &[(Stage, f64)],
    solution: Solution,
    started: Instant,
) -> Solution {
    let Some(stopped) = solution.gap_stage else {
        return solution;
    };
    let Some(from) = stages.iter().position(|&s| s == stopped) else {
        return solution;
    };
    let plans: Vec<Plan> = solution.levels.iter().map(|l| l.plan.clone()).collect();
    let all = weighted_stage_values(instance, levels, weights, &plans, stages);
    match first_unproven(instance, &all, from, bounds, highs_bound(&solution)) {
        Some((stage, gap)) => Solution {
            mip_gap: if stage == stopped {
                gap.min(solution.mip_gap)
            } else {
                gap
            },
            gap_stage: Some(stage),
            ..solution
        },
        None => Solution {
            size: solution.size,
            spacing_rows: solution.spacing_rows,
            build_s: solution.build_s,
            ..nested_solution(
                instance,
                levels,
                weights,
                plans,
                stages,
                solution.method,
                started,
            )
        },
    }
}

/// The solution made of nested plans that reach every level's own optimum in every stage.
fn nested_solution(
    instance: &Instance,
    levels: &[Prepared],
    weights: &[f64],
    plans: Vec<Plan>,
    stages: &[Stage],
    how: &'static str,
    started: Instant,
) -> Solution {
    let values = weighted_stage_values(instance, levels, weights, &plans, stages);
    let level_plans: Vec<LevelPlan> = plans
        .iter()
        .zip(levels.iter().zip(weights))
        .map(|(plan, (level, &weight))| {
            LevelPlan::new(instance, level, weight, plan.clone(), stages)
        })
        .collect();
    Solution {
        plan: plans.last().cloned().expect("at least one level"),
        status: SolveStatus::Optimal,
        stages: values,
        mip_gap: 0.0,
        gap_stage: None,
        size: ModelSize::default(),
        marginal_values: None,
        method: how,
        spacing_rows: 0,
        build_s: 0.0,
        solve_s: started.elapsed().as_secs_f64(),
        levels: level_plans,
    }
}
