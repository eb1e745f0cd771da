//! The lexicographic loop on the city's program: each stage minimised in turn, its optimum
//! kept as a bound by the stages after it (docs/model.md: stage_k ≤ opt_k + 1e-6·max(1, |opt_k|)),
//! with stages already proven elsewhere only kept as bounds. With demand levels each stage
//! minimises the weighted sum over the levels.

use std::time::Instant;

use super::fair::{fair_box_rows, relaxed_box};
use super::lazy::{solve_stage_lazily, Bound};
use super::pins::pinned_district_rows;
use crate::error::Error;
use crate::model::{Instance, Plan, Stage};
use crate::solve::model::prepare::Prepared;
use crate::solve::model::solution::{LevelPlan, ModelSize, Solution, SolveStatus};
use crate::solve::model::values::{runs, weighted_stage_values};
use crate::solve::program::city::{build, marginal_values, read_plan, read_plans, Segments};
use crate::solve::program::neighbourhoods::SpacingRows;
use crate::solve::program::plan::{settled_if_feasible, values_of};
use crate::solve::program::rows::{add_rows, Overfilled};
use crate::solve::program::session::LpSession;
use crate::solve::program::sparse::{Row, Settings, StageResult, StageStatus};
use crate::solve::trace::trace;

/// Solves the stages with HiGHS for the levels `levels` (one `Prepared` per level, the last
/// the headline; one for a single demand) with weights `weights`. `proven` stages are not
/// solved: their optima are known and only kept as bounds. Neighbourhoods not yet in the
/// model enter stage by stage (see `solve_stage_lazily`); a stage is done only when its
/// plan keeps every one, so its optimum is the full model's, and the later stages can keep
/// it.
///
/// Stage fair right after evenness, with one demand, is first tried without its segments:
/// by the relaxation's box (`fair::relaxed_box`), when a plan in it keeps the evenness
/// optimum. Where none does, the program is solved again with the segments. When the proof
/// route's plan reached evenness but not fair (`exact::proof`: its greedy stays within the
/// box), the spacing balls are what keeps the box's plans out, and the box is not tried:
/// on the 200k-site grid with spacing its LP took 19 s only to find it empty.
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_program(
    instance: &Instance,
    levels: &[Prepared],
    weights: &[f64],
    active: SpacingRows,
    proven: &[(Stage, f64)],
    proven_marginal_values: Option<&[f64]>,
    start: Option<&Plan>,
    started: Instant,
) -> Result<Solution, Error> {
    let prepared = levels.last().expect("at least one level");
    let order: Vec<Stage> = prepared
        .stages
        .iter()
        .copied()
        .filter(|&s| runs(instance, s))
        .collect();
    let by_box = levels.len() == 1
        && !active.reference
        && order.get(1..3) == Some(&[Stage::Evenness, Stage::Fair][..])
        && !proven
            .iter()
            .any(|(s, _)| matches!(s, Stage::Evenness | Stage::Fair))
        && !prepared.stages.contains(&Stage::Spread);
    if by_box {
        let run = solve_stages(
            instance,
            levels,
            weights,
            active.clone(),
            proven,
            proven_marginal_values,
            start,
            started,
            true,
            &[],
        )?;
        if let Some(solution) = run {
            return Ok(solution);
        }
        trace(|| "  fair: no plan in the relaxation's box; again with the segments".into());
    }
    let solution = solve_stages(
        instance,
        levels,
        weights,
        active,
        proven,
        proven_marginal_values,
        start,
        started,
        false,
        &[],
    )?;
    Ok(solution.expect("only the box route gives up"))
}

/// The program of all levels with every level held at its own value in some stages that
/// count districts' places (`pins`: stage, one value per level, each within the stage's
/// tolerance). `proven` gives those stages' weighted sums, which the pins then meet: a plan
/// of this program is optimal in them, and HiGHS solves only the later stages. When no
/// nested plan meets every pin, the program has no plan: an error, as for any program
/// without one.
pub(crate) fn solve_pinned(
    instance: &Instance,
    levels: &[Prepared],
    weights: &[f64],
    active: SpacingRows,
    pins: &[(Stage, Vec<f64>)],
    proven: &[(Stage, f64)],
    started: Instant,
) -> Result<Solution, Error> {
    let solution = solve_stages(
        instance, levels, weights, active, proven, None, None, started, false, pins,
    )?;
    Ok(solution.expect("only the box route gives up"))
}

/// The stage loop; with `fair_by_box`, stage fair by the relaxation's box, and `None` when
/// that does not prove it.
#[allow(clippy::too_many_arguments)]
fn solve_stages(
    instance: &Instance,
    levels: &[Prepared],
    weights: &[f64],
    mut active: SpacingRows,
    proven: &[(Stage, f64)],
    proven_marginal_values: Option<&[f64]>,
    start: Option<&Plan>,
    started: Instant,
    fair_by_box: bool,
    pins: &[(Stage, Vec<f64>)],
) -> Result<Option<Solution>, Error> {
    let prepared = levels.last().expect("at least one level");
    let built = Instant::now();
    let city = build(instance, levels, weights, &active, !fair_by_box);
    let build_s = built.elapsed().as_secs_f64();
    trace(|| format!("program built in {build_s:.3} s"));
    let mut program = city.program.clone();
    let all_in_model = active.in_model.iter().all(|&b| b)
        && (!prepared.stages.contains(&Stage::Spread) || active.spread_complete);
    let positions = prepared.per_place_stages();
    let mut session: Option<LpSession> = None;
    let mut segments = Segments::new();
    let mut stages_run = Vec::new();
    // Rows of the stage bounds, which the marginal values drop from evenness on.
    let mut stage_rows: Vec<(Stage, usize)> = Vec::new();
    let mut last: Option<StageResult> = None;
    let mut status = SolveStatus::Optimal;
    // A plan that keeps every rule and the stages so far, and their bounds: where moving
    // places searches from (the spread stage).
    let mut incumbent: Option<Plan> = start.cloned();
    let mut bounds_so_far: Vec<(Stage, f64)> = Vec::new();
    // The optima so far, and rows that restate one (dropped for marginal values).
    let mut optima: Vec<(Stage, f64)> = Vec::new();
    let mut restating_rows: Vec<usize> = Vec::new();
    // Each level's most in a pinned stage: its own optimum and the stage's whole tolerance
    // (its weighted term may take all of it alone). The pins then cut off no plan the
    // stage's own row keeps (every level is at least at its own optimum) and only tighten
    // the relaxation.
    let allowed: Vec<(Stage, Vec<f64>)> = pins
        .iter()
        .filter_map(|(stage, values)| {
            let &(_, sum) = proven.iter().find(|(s, _)| s == stage)?;
            let tolerance = 1e-6 * sum.abs().max(1.0);
            let most = city
                .levels
                .iter()
                .zip(values)
                .map(|(level, &value)| value + tolerance / level.factor(*stage))
                .collect();
            Some((*stage, most))
        })
        .collect();
    for (stage, most) in &allowed {
        for (level, &value) in city.levels.iter().zip(most) {
            let k = level.factor(*stage);
            if let Some(terms) = level.district_terms(*stage, k) {
                restating_rows.push(program.rows.len());
                program.rows.push(Row {
                    terms,
                    upper: k * value,
                    equal: false,
                });
            }
        }
    }
    if !allowed.is_empty() {
        for row in pinned_district_rows(instance, levels, &city, pins, &allowed) {
            restating_rows.push(program.rows.len());
            program.rows.push(row);
        }
    }
    for &stage in &prepared.stages {
        if !runs(instance, stage) {
            continue;
        }
        // By the box, stage fair is a plan in the relaxation's box that keeps the evenness
        // optimum: found by minimising evenness again with the box's rows.
        let by_box = (stage == Stage::Fair && fair_by_box)
            .then(|| relaxed_box(instance, prepared, &city, &optima))
            .map(|found| {
                let evenness = stage_rows.iter().find(|(s, _)| *s == Stage::Evenness);
                found.zip(evenness.map(|&(_, row)| program.rows[row].terms.clone()))
            });
        let fair_by_box_optimum = by_box
            .as_ref()
            .and_then(|b| b.as_ref())
            .map(|((_, f), _)| *f);
        let objective = match by_box {
            Some(None) => return Ok(None),
            Some(Some(((rows, _), evenness))) => {
                for row in rows {
                    restating_rows.push(program.rows.len());
                    program.rows.push(row);
                }
                evenness
            }
            None => {
                let component = positions.iter().find(|(s, _)| *s == stage).map(|&(_, c)| c);
                let Some(objective) = city.objective(stage, component, &mut program, &mut segments)
                else {
                    continue;
                };
                objective
            }
        };
        if stage == Stage::Spread && !active.spread_on {
            active.spread_on = true;
            let first = std::mem::take(&mut active.spread_first);
            let overfilled = Overfilled {
                spacing: Vec::new(),
                spread: first
                    .into_iter()
                    .enumerate()
                    .flat_map(|(l, centres)| centres.into_iter().map(move |c| (l, c)))
                    .collect(),
            };
            add_rows(
                instance,
                prepared,
                &city,
                &mut program,
                &mut active,
                overfilled,
            );
        }
        let settings = Settings {
            time_limit_s: instance
                .solver
                .time_limit_s
                .map(|limit| limit - started.elapsed().as_secs_f64()),
            mip_gap: instance.solver.mip_gap,
            threads: instance.solver.threads,
        };
        let optimum = if let Some(&(_, optimum)) = proven.iter().find(|(s, _)| *s == stage) {
            optimum
        } else {
            if settings.time_limit_s.is_some_and(|t| t <= 0.0) && last.is_some() {
                status = SolveStatus::TimeLimit;
                break;
            }
            let stage_started = Instant::now();
            let bound = if stage == Stage::Spread && levels.len() == 1 {
                Bound::RoundsUp
            } else {
                Bound::AsIs
            };
            let solved = if all_in_model {
                program
                    .minimise(&objective, settings, false)
                    .map(|result| (result, None))
            } else {
                solve_stage_lazily(
                    instance,
                    prepared,
                    &city,
                    &segments,
                    &mut program,
                    &mut session,
                    &mut active,
                    &objective,
                    settings,
                    (stage, bound),
                    incumbent.as_ref().map(|plan| (plan, &bounds_so_far)),
                    started,
                )
            };
            let (result, certificate) = match solved {
                // No plan in the relaxation's box (or none in time): with the segments.
                Err(_) if fair_by_box_optimum.is_some() => return Ok(None),
                // The time ran out before this stage had a plan: the plan of the stage
                // before keeps every rule and the stages so far; this stage's gap is
                // against 0, the only bound known.
                Err(Error::TimeLimit(_)) if last.is_some() => {
                    trace(|| format!("stage {}: stopped by the time limit", stage.name()));
                    if let Some(last) = last.as_mut() {
                        last.mip_gap = 1.0;
                    }
                    stages_run.push(stage);
                    status = SolveStatus::TimeLimit;
                    break;
                }
                other => other?,
            };
            trace(|| {
                format!(
                    "stage {}: {:.3} s, optimum {}, gap {}, {} neighbourhoods in the model",
                    stage.name(),
                    stage_started.elapsed().as_secs_f64(),
                    result.objective,
                    result.mip_gap,
                    active.count()
                )
            });
            // The stage's value of the whole-number plan, with every continuous column at
            // the least the rows allow: HiGHS's own values may lie up to its tolerances
            // below it (deficit segments cost up to 2/t_d a place, times the level
            // weights), and a bound below the plan's value could cut off every plan in a
            // later stage (a tiny city with levels and fair: access found infeasible).
            let mut optimum = result.objective;
            let exact = settled_if_feasible(
                instance,
                prepared,
                &city,
                &segments,
                &program,
                &objective,
                values_of(
                    &program,
                    &city,
                    &read_plans(instance, prepared, &city, &result.values),
                ),
            );
            if let Some(exact) = exact.filter(|e| e.objective > optimum) {
                trace(|| {
                    format!(
                        "  the plan's own value {} is above HiGHS's {optimum}: kept as the optimum",
                        exact.objective
                    )
                });
                optimum = exact.objective;
            }
            let stopped = result.status == StageStatus::TimeLimit;
            if let Some(fair) = fair_by_box_optimum {
                let evenness = optima[1].1;
                let kept = !stopped && optimum <= evenness + 1e-6 * evenness.abs().max(1.0);
                trace(|| {
                    format!(
                        "  fair: a plan in the relaxation's box {} the evenness optimum",
                        if kept { "keeps" } else { "misses" }
                    )
                });
                if !kept {
                    return Ok(None);
                }
                optimum = fair;
            }
            if levels.len() == 1 {
                incumbent = Some(read_plan(instance, prepared, &city, &result.values, 0));
            }
            last = Some(result);
            if stopped {
                stages_run.push(stage);
                status = SolveStatus::TimeLimit;
                break;
            }
            // Plans of the later stages keep this stage within its bound: columns whose one
            // step would break it are fixed.
            let certificate = certificate.filter(|_| fair_by_box_optimum.is_none());
            if let (Some(lp), Some(session)) = (certificate, session.as_mut()) {
                let upper = optimum + 1e-6 * optimum.abs().max(1.0);
                let fixed =
                    program.fix_by_reduced_costs(lp.objective, &lp.values, &lp.column_duals, upper);
                trace(|| format!("  {} columns fixed by reduced costs", fixed.len()));
                session.fix_columns(&fixed)?;
            }
            optimum
        };
        stages_run.push(stage);
        if fair_by_box_optimum.is_some() {
            // The box's rows keep it.
            bounds_so_far.push((stage, optimum + 1e-6 * optimum.abs().max(1.0)));
            optima.push((stage, optimum));
            continue;
        }
        // Later stages keep this optimum (docs/model.md: stage_k ≤ opt_k + 1e-6·max(1, |opt_k|)).
        let row = Row {
            terms: objective,
            upper: optimum + 1e-6 * optimum.abs().max(1.0),
            equal: false,
        };
        bounds_so_far.push((stage, row.upper));
        stage_rows.push((stage, program.rows.len()));
        program.rows.push(row);
        optima.push((stage, optimum));
        if stage == Stage::Fair && !active.reference {
            for row in fair_box_rows(instance, prepared, &city, &optima) {
                restating_rows.push(program.rows.len());
                program.rows.push(row);
            }
        }
    }
    let last = last.ok_or_else(|| {
        Error::Solver(
            "no stage was solved; the objective needs at least \"shortfall\" and \"evenness\""
                .into(),
        )
    })?;
    let plans = read_plans(instance, prepared, &city, &last.values);
    let plan = plans.last().cloned().expect("at least one level");
    let marginal_values = match (status, stages_run.contains(&Stage::Evenness), levels.len()) {
        (SolveStatus::Optimal, true, 1) => {
            let mut values = match proven_marginal_values {
                Some(values) => values.to_vec(),
                None => {
                    let evenness_objective = stage_rows
                        .iter()
                        .find(|(s, _)| *s == Stage::Evenness)
                        .map(|&(_, row)| program.rows[row].terms.clone())
                        .unwrap_or_default();
                    // The program as the evenness stage saw it, with every ball that
                    // entered since.
                    let mut dropped: Vec<usize> = stage_rows
                        .iter()
                        .skip_while(|(s, _)| *s != Stage::Evenness)
                        .map(|&(_, row)| row)
                        .collect();
                    dropped.extend(&city.bound_rows);
                    dropped.extend(&restating_rows);
                    marginal_values(
                        &city,
                        &program,
                        &evenness_objective,
                        &dropped,
                        &last.values,
                        instance,
                    )?
                }
            };
            // At a degenerate optimum a reduced cost may promise a gain where the share cap
            // leaves no room: capacity there cannot be used, whatever the dual says.
            let mut new_places = vec![0u64; values.len()];
            for (s, &x) in plan.places.iter().enumerate() {
                if let Some(d) = prepared.site_district[s] {
                    new_places[d as usize] += u64::from(x);
                }
            }
            for (d, value) in values.iter_mut().enumerate() {
                if prepared.share_room[d].is_some_and(|room| new_places[d] >= room) {
                    *value = 0.0;
                }
            }
            Some(values)
        }
        _ => None,
    };
    let run: Vec<Stage> = stages_run.clone();
    let stages = weighted_stage_values(instance, levels, weights, &plans, &run);
    let level_plans = if levels.len() > 1 {
        plans
            .into_iter()
            .zip(levels.iter().zip(weights))
            .map(|(plan, (level, &weight))| LevelPlan::new(instance, level, weight, plan, &run))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Some(Solution {
        plan,
        status,
        stages,
        mip_gap: last.mip_gap,
        gap_stage: (status == SolveStatus::TimeLimit)
            .then(|| run.last().copied())
            .flatten(),
        size: ModelSize {
            columns: city.program.columns.len(),
            integers: city.program.integer_count(),
            rows: program.rows.len(),
            aggregated_sites: city.aggregated_sites,
        },
        marginal_values,
        method: "mip",
        spacing_rows: active.count(),
        build_s,
        solve_s: built.elapsed().as_secs_f64() - build_s,
        levels: level_plans,
    }))
}
