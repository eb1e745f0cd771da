//! Proofs against the relaxation without spacing. The exact per-district algorithm solves
//! the city without spacing balls; its optimum of each stage is a lower bound for the city
//! with them (given the same earlier optima). A plan that keeps every rule and reaches the
//! relaxation's optima of the first stages proves those stages, so HiGHS need not solve
//! them; when it reaches all of them, no HiGHS run is needed at all.

use std::time::Instant;

use crate::model::{Instance, Plan, Stage};
use crate::solve::model::districts::{separable_districts, site_room_by_district};
use crate::solve::model::greedy;
use crate::solve::model::prepare::Prepared;
use crate::solve::model::separable;
use crate::solve::model::solution::{ModelSize, Solution, SolveStatus};
use crate::solve::model::values::{runs, stage_value};
use crate::solve::trace::trace;

/// The solution whose stage values are lexicographically smaller (the first on a tie).
pub(crate) fn lexicographically_better(first: Solution, second: Solution) -> Solution {
    let values = |s: &Solution| s.stages.iter().map(|&(_, v)| v).collect::<Vec<f64>>();
    if lexicographically_less(&values(&second), &values(&first)) {
        second
    } else {
        first
    }
}

/// True when `a` is better than `b` in the first stage where they differ by more than the
/// model's tolerance between stages (1e-6 of the value: a later stage may let an earlier
/// one exceed its optimum by that much, so plans that close are equally good in it).
fn lexicographically_less(a: &[f64], b: &[f64]) -> bool {
    for (x, y) in a.iter().zip(b) {
        let tolerance = 1e-6 * x.abs().max(y.abs()).max(1.0);
        if *x < y - tolerance {
            return true;
        }
        if *y < x - tolerance {
            return false;
        }
    }
    false
}

/// How many of the stages, from the first, `values` reach their `optima` in.
pub(crate) fn reached(optima: &[(Stage, f64)], values: impl IntoIterator<Item = f64>) -> usize {
    optima
        .iter()
        .zip(values)
        .take_while(|&(&(_, optimum), value)| value <= optimum + 1e-9 * optimum.abs().max(1.0))
        .count()
}

/// A plan that keeps every rule and is optimal in its first `proven` stages, reported with
/// the time limit's status. The gap is that of the first stage not proven, against the
/// relaxation's optimum (a lower bound).
pub(crate) fn time_limited(
    instance: &Instance,
    prepared: &Prepared,
    plan: Plan,
    relaxed: &Solution,
    proven: usize,
    started: Instant,
) -> Solution {
    let stages: Vec<(Stage, f64)> = relaxed
        .stages
        .iter()
        .map(|&(stage, _)| (stage, stage_value(stage, instance, prepared, &plan)))
        .collect();
    let mip_gap = relaxed.stages.get(proven).map_or(0.0, |&(_, bound)| {
        let value = stages[proven].1;
        (value - bound).max(0.0) / value.abs().max(1.0)
    });
    // (A plan at the relaxation's optimum in every stage is optimal, whenever it was found.)
    let gap_stage = relaxed.stages.get(proven).map(|&(stage, _)| stage);
    Solution {
        status: if gap_stage.is_some() {
            SolveStatus::TimeLimit
        } else {
            SolveStatus::Optimal
        },
        mip_gap,
        gap_stage,
        method: "greedy",
        ..proven_solution(prepared, plan, stages, None, started)
    }
}

/// When the time limit ends a solve before HiGHS found a plan and no relaxation bounds it:
/// the better of the greedy plan and the fair fill (both keep every rule), with the gap of
/// its first stage not proven against 0, the only bound known then.
pub(crate) fn time_limited_without_bound(
    instance: &Instance,
    prepared: &Prepared,
    proven: &[(Stage, f64)],
    started: Instant,
) -> Solution {
    let greedy = greedy::greedy_plan(instance, prepared);
    let fair = greedy::fair_fill(instance, prepared);
    let (greedy_stages, fair_stages) = (
        stages_of(instance, prepared, &greedy),
        stages_of(instance, prepared, &fair),
    );
    let values = |stages: &[(Stage, f64)]| stages.iter().map(|&(_, v)| v).collect::<Vec<_>>();
    let (plan, stages) = if lexicographically_less(&values(&fair_stages), &values(&greedy_stages)) {
        (fair, fair_stages)
    } else {
        (greedy, greedy_stages)
    };
    limited_against_zero(prepared, plan, stages, proven, started)
}

/// As `time_limited_without_bound`, with the plan of the stages before spread (`head`,
/// optimal in them) as the plan.
pub(crate) fn time_limited_without_bound_from(
    instance: &Instance,
    prepared: &Prepared,
    head: Solution,
    started: Instant,
) -> Solution {
    let stages = stages_of(instance, prepared, &head.plan);
    limited_against_zero(prepared, head.plan, stages, &head.stages, started)
}

/// Every stage's value for a plan.
pub(crate) fn stages_of(
    instance: &Instance,
    prepared: &Prepared,
    plan: &Plan,
) -> Vec<(Stage, f64)> {
    prepared
        .stages
        .iter()
        .filter(|&&stage| runs(instance, stage))
        .map(|&stage| (stage, stage_value(stage, instance, prepared, plan)))
        .collect()
}

/// A time-limited solution: the stages the plan reaches `proven` in are proven, the gap is
/// that of the next one against 0.
fn limited_against_zero(
    prepared: &Prepared,
    plan: Plan,
    stages: Vec<(Stage, f64)>,
    proven: &[(Stage, f64)],
    started: Instant,
) -> Solution {
    let proven = reached(proven, stages.iter().map(|&(_, v)| v));
    let mip_gap = stages
        .get(proven)
        .map_or(0.0, |&(_, value)| value.max(0.0) / value.abs().max(1.0));
    Solution {
        status: SolveStatus::TimeLimit,
        mip_gap,
        gap_stage: stages.get(proven).map(|&(stage, _)| stage),
        method: "greedy",
        ..proven_solution(prepared, plan, stages, None, started)
    }
}

/// The shortfall stage's optimum is 0 when a plan that keeps every rule places the whole
/// demand.
pub(crate) fn shortfall_proof(instance: &Instance, prepared: &Prepared) -> Vec<(Stage, f64)> {
    let fills = greedy::greedy_plan(instance, prepared).placed() >= prepared.demand;
    if fills && prepared.stages.first() == Some(&Stage::Shortfall) {
        vec![(Stage::Shortfall, 0.0)]
    } else {
        Vec::new()
    }
}

/// The relaxation without spacing is solved exactly, and its optimum of each stage is a
/// lower bound for the full model's (given the same earlier optima). A plan that keeps every
/// rule and reaches the relaxation's optima of the first stages proves them for the full
/// model, so HiGHS need not solve those stages. Tried: the relaxation's places per district
/// put on sites that keep every ball, then greedy plans within the bounds of stage fair's
/// optimal plans (with that stage) and within the evenness bounds, the plain
/// greedy plan, and a fill that follows the fair shares. Returns the proven stages (a prefix of the relaxation's) and the plan.
pub(crate) fn proven_stages(
    instance: &Instance,
    prepared: &Prepared,
    relaxed: &Solution,
) -> (Vec<(Stage, f64)>, Plan) {
    let mut per_district = vec![0u64; instance.districts.len()];
    for (s, &x) in relaxed.plan.places.iter().enumerate() {
        if let Some(d) = prepared.site_district[s] {
            per_district[d as usize] += u64::from(x);
        }
    }
    let (districts, _) = separable_districts(instance, prepared);
    let evenness = relaxed
        .stages
        .iter()
        .find(|(s, _)| *s == Stage::Evenness)
        .map_or(0.0, |&(_, v)| v);
    let highest: Vec<u64> =
        separable::evenness_bounds(&districts, prepared.demand, 1e-9 * evenness.max(1.0))
            .into_iter()
            .map(|(_, hi)| hi)
            .collect();
    // The most places per district in the relaxation's plans optimal through stage fair.
    let fair_highest: Option<Vec<u64>> = prepared.stages.contains(&Stage::Fair).then(|| {
        let room = site_room_by_district(instance, prepared);
        let fair = separable::solve_separable(
            &districts,
            prepared.demand,
            &[separable::SeparableStage::Fair],
            &room,
        );
        fair.boxes[1].iter().map(|&(_, hi)| hi).collect()
    });
    let greedy = greedy::Greedy::new(instance, prepared);
    // Of plans reaching as many stages, the one better in the stages after (the plan a time
    // limit falls back to).
    let mut best: Option<(usize, Vec<f64>, Plan)> = None;
    let mut consider = |plan: Plan| -> usize {
        let values: Vec<f64> = relaxed
            .stages
            .iter()
            .map(|&(stage, _)| stage_value(stage, instance, prepared, &plan))
            .collect();
        let count = reached(&relaxed.stages, values.iter().copied());
        let better = best.as_ref().is_none_or(|(most, before, _)| {
            count > *most || (count == *most && lexicographically_less(&values, before))
        });
        if better {
            best = Some((count, values, plan));
        }
        best.as_ref().map_or(0, |(most, _, _)| *most)
    };
    let mut most = 0;
    for caps in [
        Some(&per_district[..]),
        fair_highest.as_deref(),
        Some(&highest[..]),
        None,
    ] {
        most = consider(greedy.plan(caps));
        if most == relaxed.stages.len() {
            break;
        }
    }
    // The fair fill only where no greedy plan reached the evenness optimum: it is for
    // spacing that binds across whole districts (about 1 s on 200,000 sites).
    let evenness = relaxed
        .stages
        .iter()
        .position(|(s, _)| *s == Stage::Evenness);
    if evenness.is_some_and(|position| most <= position) {
        consider(greedy::fair_fill(instance, prepared));
    }
    let (reached, _, plan) = best.expect("three candidate plans at least");
    trace(|| {
        format!("proof: a plan that keeps every rule reaches the relaxation's optimum in {reached} stages")
    });
    (relaxed.stages[..reached].to_vec(), plan)
}

/// A plan whose every stage value equals the relaxation's optimum: optimal as it stands.
pub(crate) fn proven_solution(
    prepared: &Prepared,
    plan: Plan,
    stages: Vec<(Stage, f64)>,
    marginal_values: Option<&[f64]>,
    started: Instant,
) -> Solution {
    Solution {
        plan,
        status: SolveStatus::Optimal,
        stages,
        mip_gap: 0.0,
        gap_stage: None,
        size: ModelSize {
            aggregated_sites: prepared.site_room.iter().filter(|&&r| r > 0).count(),
            ..ModelSize::default()
        },
        marginal_values: marginal_values.map(<[f64]>::to_vec),
        method: "proof",
        spacing_rows: 0,
        build_s: 0.0,
        solve_s: started.elapsed().as_secs_f64(),
        levels: Vec::new(),
    }
}
