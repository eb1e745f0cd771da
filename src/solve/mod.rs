//! The allocation model of MODEL.md, built as a mixed-integer program and solved stage by
//! stage (shortfall, evenness, worst district, cost) with HiGHS through good_lp.
//!
//! The model is shrunk by structure, never weakened: sites whose only constraints are their
//! own bounds (no minimum occupancy, in no spacing ball that can bind) are aggregated into
//! one integer column per district (and serving school, under the seats rule), and split
//! onto the sites afterwards, cheapest first, then in file order (every split within the
//! bounds is equally even). The cost stage alone sees the cost blocks of such a column as
//! continuous segments, which it fills cheapest first. Only sites with a minimum get a
//! binary; only sites in a spacing ball that can bind get a column of their own.
//!
//! When no rule ties sites together, an exact per-district algorithm (`separable`) replaces
//! HiGHS. With spacing it still solves the city without spacing first: a relaxation, whose
//! optimum of each stage is a lower bound. A plan that keeps every rule and reaches the
//! relaxation's optima of the first stages proves them, and HiGHS solves only the stages
//! after (`proven_stages`).
//!
//! Spacing balls enter the model stage by stage (`solve_stage_lazily`): the stage's LP is
//! solved in a session HiGHS keeps (each round from the last basis) and the balls it
//! overfills are added until it overfills none. A stage is finished only when its plan keeps
//! every ball, so its optimum is the full model's and later stages can keep it. The LP
//! optimum rounded to whole places replaces the MIP when it keeps every rule and lies within
//! the MIP gap of the LP bound (`rounded_within_gap`); otherwise the MIP runs, again until
//! its plan keeps every ball.
//!
//! With spacing, the plan without spacing usually keeps its evenness: then every district's
//! new places stay within bounds that duality gives (`separable::evenness_bounds`), and only
//! balls that could overfill within them can matter (`solve_within_evenness_bounds`, which
//! checks the assumption and falls back otherwise). Each district's deviation also gets the
//! chord cut that makes its LP relaxation exact for whole numbers, so the LP optimum is
//! usually whole or nearly so.

mod greedy;
mod prepare;
mod program;
mod separable;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

pub use greedy::greedy_plan;
pub use prepare::{Exclusion, Prepared, SpacingLimit};
pub use program::StageStatus;

use crate::error::Error;
use crate::model::{Instance, Plan, Stage};
use program::{infeasible, Col, Program, Settings};

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

/// A column of places: one site, or the bound-only sites of a district.
struct Unit {
    column: Col,
    district: u32,
    /// Sites, cheapest first, then in file order.
    sites: Vec<u32>,
    /// New places by cost, cheapest first: (cost per place, places).
    blocks: Vec<(f64, u64)>,
}

/// The built program with the handles needed to read the plan back.
struct CityProgram {
    program: Program,
    demand_row: usize,
    deviation_rows: Vec<usize>,
    share_rows: Vec<Option<usize>>,
    /// The "site is used" binaries of sites with a minimum occupancy.
    binaries: Vec<Col>,
    units: Vec<Unit>,
    shortfall: Col,
    over: Vec<Col>,
    under: Vec<Col>,
    worst: Option<Col>,
    aggregated_sites: usize,
    /// Rows keeping districts within evenness bounds (dropped for marginal values).
    bound_rows: Vec<usize>,
    /// The column of each site that has one of its own.
    site_column: Vec<Option<Col>>,
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

/// The solution whose stage values are lexicographically smaller (the first on a tie).
fn lexicographically_better(first: Solution, second: Solution) -> Solution {
    for ((_, a), (_, b)) in first.stages.iter().zip(&second.stages) {
        let tolerance = 1e-9 * a.abs().max(b.abs()).max(1.0);
        if *b < a - tolerance {
            return second;
        }
        if *a < b - tolerance {
            return first;
        }
    }
    first
}

/// A plan that keeps every rule and is optimal in its first `proven` stages, reported with
/// the time limit's status. The gap is that of the first stage not proven, against the
/// relaxation's optimum (a lower bound).
fn time_limited(
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
    Solution {
        status: SolveStatus::TimeLimit,
        mip_gap,
        method: "greedy",
        ..proven_solution(prepared, plan, stages, None, started)
    }
}

/// The shortfall stage's optimum is 0 when a plan that keeps every rule places the whole
/// demand.
fn shortfall_proof(instance: &Instance, prepared: &Prepared) -> Vec<(Stage, f64)> {
    let fills = greedy::greedy_plan(instance, prepared).placed() >= instance.demand;
    if fills && instance.stages.first() == Some(&Stage::Shortfall) {
        vec![(Stage::Shortfall, 0.0)]
    } else {
        Vec::new()
    }
}

/// The relaxation without spacing is solved exactly, and its optimum of each stage is a
/// lower bound for the full model's (given the same earlier optima). A plan that keeps every
/// rule and reaches the relaxation's optima of the first stages proves them for the full
/// model, so HiGHS need not solve those stages. Tried: the relaxation's places per district
/// put on sites that keep every ball, then a greedy plan within the evenness bounds, then the
/// plain greedy plan. Returns the proven stages (a prefix of the relaxation's) and the plan.
fn proven_stages(
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
        separable::evenness_bounds(&districts, instance.demand, 1e-9 * evenness.max(1.0))
            .into_iter()
            .map(|(_, hi)| hi)
            .collect();
    let greedy = greedy::Greedy::new(instance, prepared);
    let mut best: Option<(usize, Plan)> = None;
    for caps in [Some(&per_district[..]), Some(&highest[..]), None] {
        let plan = greedy.plan(caps);
        let reached = relaxed
            .stages
            .iter()
            .take_while(|&&(stage, optimum)| {
                stage_value(stage, instance, prepared, &plan)
                    <= optimum + 1e-9 * optimum.abs().max(1.0)
            })
            .count();
        if best.as_ref().is_none_or(|(most, _)| reached > *most) {
            best = Some((reached, plan));
        }
        if reached == relaxed.stages.len() {
            break;
        }
    }
    let (reached, plan) = best.expect("three candidate plans");
    if std::env::var_os("QUARTIER_TRACE").is_some() {
        eprintln!("proof: a plan that keeps every rule reaches the relaxation's optimum in {reached} stages");
    }
    (relaxed.stages[..reached].to_vec(), plan)
}

/// A plan whose every stage value equals the relaxation's optimum: optimal as it stands.
fn proven_solution(
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
        size: ModelSize {
            aggregated_sites: prepared.site_room.iter().filter(|&&r| r > 0).count(),
            ..ModelSize::default()
        },
        marginal_values: marginal_values.map(<[f64]>::to_vec),
        method: "proof",
        spacing_rows: 0,
        build_s: 0.0,
        solve_s: started.elapsed().as_secs_f64(),
    }
}

/// Spacing balls usually leave stage B's optimum where it is without them. If so, every
/// optimal plan keeps each district's new places within the bounds of `evenness_bounds`,
/// and only the balls that could be overfilled within those bounds matter: usually few,
/// so all go into the model at once (lazily when they are many). The plan is accepted when
/// its shortfall and evenness equal the relaxation's (which proves the assumption);
/// otherwise `None`.
fn solve_within_evenness_bounds(
    instance: &Instance,
    prepared: &Prepared,
    relaxed: &Solution,
    proven: &[(Stage, f64)],
    started: Instant,
) -> Result<Option<Solution>, Error> {
    let value = |solution: &Solution, stage: Stage| {
        solution
            .stages
            .iter()
            .find(|(s, _)| *s == stage)
            .map(|&(_, v)| v)
    };
    let (Some(shortfall), Some(evenness)) = (
        value(relaxed, Stage::Shortfall),
        value(relaxed, Stage::Evenness),
    ) else {
        return Ok(None);
    };
    // Later stages let evenness exceed its optimum by 1e-6 of it: the bounds allow more.
    let slack = 3e-6 * evenness.max(1.0);
    let (districts, _) = separable_districts(instance, prepared);
    // Only the upper bounds matter: they keep balls from overfilling. (Lower bounds could make
    // the model infeasible where spacing moves the optimum.)
    let highest: Vec<u64> = separable::evenness_bounds(&districts, instance.demand, slack)
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
    if std::env::var_os("QUARTIER_TRACE").is_some() {
        eprintln!(
            "evenness bounds: {} of {} spacing balls could overfill ({members} members)",
            candidates.len(),
            prepared.spacing.len()
        );
    }
    // Up front when the rows stay small for HiGHS; otherwise they enter lazily.
    if members <= 400_000 {
        active.add(candidates);
    }
    // A proof of the first stages holds within the bounds only when it covers evenness (the
    // bounds follow from the evenness optimum). Otherwise a plan within the bounds may have
    // to leave a shortfall: then the assumption fails, and the model must be able to say so.
    let proven_within: Vec<(Stage, f64)> = if proven.iter().any(|(s, _)| *s == Stage::Evenness) {
        proven.to_vec()
    } else if instance.stages.first() == Some(&Stage::Shortfall)
        && greedy::greedy_plan_within(instance, prepared, Some(&highest)).placed()
            >= instance.demand
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
        prepared,
        active,
        &proven_within,
        marginal_values,
        started,
    )?;
    if solution.status == SolveStatus::TimeLimit {
        // A plan that keeps every rule, reported with the time limit's status and gap; no
        // time is left to start again without the bounds.
        return Ok(Some(solution));
    }
    let holds = value(&solution, Stage::Shortfall) == Some(shortfall)
        && value(&solution, Stage::Evenness)
            .is_some_and(|v| v <= evenness + 1e-6 * evenness.max(1.0));
    if std::env::var_os("QUARTIER_TRACE").is_some() {
        eprintln!("evenness bounds: optimum kept: {holds}");
    }
    Ok(holds.then_some(solution))
}

/// Builds and solves the lexicographic program with HiGHS with every spacing ball in it
/// from the start (the reference the lazy and separable paths are tested against).
pub fn solve_mip(instance: &Instance, prepared: &Prepared) -> Result<Solution, Error> {
    let mut active = SpacingRows::lazy(instance, prepared);
    active.add((0..prepared.spacing.len()).collect());
    let proven = shortfall_proof(instance, prepared);
    solve_program(instance, prepared, active, &proven, None, Instant::now())
}

/// The spacing balls in the model, and the sites that get a column of their own.
struct SpacingRows {
    rows: Vec<usize>,
    in_model: Vec<bool>,
    in_spacing: Vec<bool>,
    /// At most this many new places per district (see `solve_within_evenness_bounds`).
    most_new: Option<Vec<u64>>,
}

impl SpacingRows {
    fn none(instance: &Instance) -> SpacingRows {
        SpacingRows {
            rows: Vec::new(),
            in_model: Vec::new(),
            in_spacing: vec![false; instance.sites.len()],
            most_new: None,
        }
    }

    /// No ball in the model yet, but a column for every site in a ball, so that balls can
    /// enter without rebuilding the program.
    fn lazy(instance: &Instance, prepared: &Prepared) -> SpacingRows {
        let mut rows = SpacingRows::none(instance);
        rows.in_model = vec![false; prepared.spacing.len()];
        for ball in &prepared.spacing {
            for &member in &ball.members {
                rows.in_spacing[member as usize] = true;
            }
        }
        rows
    }

    fn add(&mut self, balls: Vec<usize>) {
        for ball in balls {
            self.in_model[ball] = true;
            self.rows.push(ball);
        }
    }
}

/// Spacing balls not in the model whose limit the plan exceeds.
fn violated_spacing(prepared: &Prepared, in_model: &[bool], plan: &Plan) -> Vec<usize> {
    overfilled(prepared, in_model, |s| f64::from(plan.places[s as usize]))
}

/// Spacing balls not in the model whose sites hold more than their room, with
/// `places_at(site)` new places (possibly fractional, from an LP) at each site.
fn overfilled(
    prepared: &Prepared,
    in_model: &[bool],
    places_at: impl Fn(u32) -> f64,
) -> Vec<usize> {
    prepared
        .spacing
        .iter()
        .enumerate()
        .filter(|(ball, limit)| {
            !in_model.get(*ball).copied().unwrap_or(false) && {
                let load: f64 = limit.members.iter().map(|&s| places_at(s)).sum();
                load > limit.room as f64 + 1e-6
            }
        })
        .map(|(ball, _)| ball)
        .collect()
}

/// Of balls whose centres lie closer than half the spacing radius to each other, only the
/// first. Used for the balls the plan without spacing overfills, which in a dense core are
/// tens of thousands of nearly equal rows: thinned out, the first LP (the one solved from
/// scratch) is a fraction of the size, and the rounds after it, from its basis, add what is
/// still overfilled. (200k sites: 25,925 balls, first LP 16 s; thinned to about 4,000,
/// first LP 3 s, and 5,500 balls in the end instead of 26,800.)
fn spread_out(instance: &Instance, prepared: &Prepared, balls: Vec<usize>) -> Vec<usize> {
    let Some(spacing) = instance.rules.spacing else {
        return balls;
    };
    let metres = spacing.metres / 2.0;
    if metres <= 0.0 {
        return balls;
    }
    let cell_of = |p: [f64; 2]| {
        (
            (p[0] / metres).floor() as i64,
            (p[1] / metres).floor() as i64,
        )
    };
    let mut chosen: HashMap<(i64, i64), Vec<[f64; 2]>> = HashMap::new();
    let mut kept = Vec::new();
    for ball in balls {
        let p = instance.sites[prepared.spacing[ball].centre as usize].position;
        let cell = cell_of(p);
        let near = (-1..=1).any(|dx| {
            (-1..=1).any(|dy| {
                chosen.get(&(cell.0 + dx, cell.1 + dy)).is_some_and(|list| {
                    list.iter()
                        .any(|q| (q[0] - p[0]).hypot(q[1] - p[1]) < metres)
                })
            })
        });
        if !near {
            chosen.entry(cell).or_default().push(p);
            kept.push(ball);
        }
    }
    kept
}

/// The row of a spacing ball.
fn ball_row(prepared: &Prepared, city: &CityProgram, ball: usize) -> program::Row {
    let limit = &prepared.spacing[ball];
    program::Row {
        terms: limit
            .members
            .iter()
            .filter_map(|&s| city.site_column[s as usize])
            .map(|c| (c, 1.0))
            .collect(),
        upper: limit.room as f64,
        equal: false,
    }
}

/// Solves the stages with HiGHS. `proven` stages are not solved: their optima are known and
/// only kept as bounds. Spacing balls not yet in the model enter stage by stage (see
/// `solve_stage_lazily`); a stage is done only when its plan keeps every ball, so its optimum
/// is the full model's, and the later stages can keep it.
fn solve_program(
    instance: &Instance,
    prepared: &Prepared,
    mut active: SpacingRows,
    proven: &[(Stage, f64)],
    proven_marginal_values: Option<&[f64]>,
    started: Instant,
) -> Result<Solution, Error> {
    let built = Instant::now();
    let city = build(instance, prepared, &active);
    let build_s = built.elapsed().as_secs_f64();
    if std::env::var_os("QUARTIER_TRACE").is_some() {
        eprintln!("program built in {build_s:.3} s");
    }
    let mut program = city.program.clone();
    let has_cost = instance.sites.iter().any(|s| s.cost.is_some());
    let all_in_model = active.in_model.iter().all(|&b| b);
    let mut session: Option<program::LpSession> = None;
    let mut segments = Segments::new();
    let mut stages_run = Vec::new();
    // Rows of the stage bounds, which the marginal values drop from evenness on.
    let mut stage_rows: Vec<(Stage, usize)> = Vec::new();
    let mut last = None;
    let mut status = SolveStatus::Optimal;
    for &stage in &instance.stages {
        let objective: Vec<(Col, f64)> = match stage {
            Stage::Shortfall => vec![(city.shortfall, 1.0)],
            Stage::Evenness => city
                .over
                .iter()
                .chain(&city.under)
                .map(|&c| (c, 1.0))
                .collect(),
            Stage::Worst => match city.worst {
                Some(z) => vec![(z, 1.0)],
                None => continue,
            },
            Stage::Cost if !has_cost => continue,
            Stage::Cost => {
                let (objective, cost_segments) = cost_objective(&city.units, &mut program);
                segments = cost_segments;
                objective
            }
        };
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
            let result = if all_in_model {
                program.minimise(&objective, settings, false)?
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
                    started,
                )?
            };
            if std::env::var_os("QUARTIER_TRACE").is_some() {
                eprintln!(
                    "stage {}: {:.3} s, optimum {}, gap {}, {} spacing balls in the model",
                    stage.name(),
                    stage_started.elapsed().as_secs_f64(),
                    result.objective,
                    result.mip_gap,
                    active.rows.len()
                );
            }
            let optimum = result.objective;
            let stopped = result.status == program::StageStatus::TimeLimit;
            last = Some(result);
            if stopped {
                stages_run.push(stage);
                status = SolveStatus::TimeLimit;
                break;
            }
            optimum
        };
        stages_run.push(stage);
        // Later stages keep this optimum (MODEL.md: stage_k ≤ opt_k + 1e-6·max(1, |opt_k|)).
        let row = program::Row {
            terms: objective,
            upper: optimum + 1e-6 * optimum.abs().max(1.0),
            equal: false,
        };
        stage_rows.push((stage, program.rows.len()));
        program.rows.push(row);
    }
    let last = last.ok_or_else(|| {
        Error::Solver(
            "no stage was solved; the objective needs at least \"shortfall\" and \"evenness\""
                .into(),
        )
    })?;
    let plan = read_plan(instance, prepared, &city, &last.values);
    let marginal_values = match (status, stages_run.contains(&Stage::Evenness)) {
        (SolveStatus::Optimal, true) => {
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
    let stages = stages_run
        .iter()
        .map(|&stage| (stage, stage_value(stage, instance, prepared, &plan)))
        .collect();
    Ok(Solution {
        plan,
        status,
        stages,
        mip_gap: last.mip_gap,
        size: ModelSize {
            columns: city.program.columns.len(),
            integers: city.program.integer_count(),
            rows: city.program.rows.len() + active.rows.len(),
            aggregated_sites: city.aggregated_sites,
        },
        marginal_values,
        method: "mip",
        spacing_rows: active.rows.len(),
        build_s,
        solve_s: built.elapsed().as_secs_f64() - build_s,
    })
}

/// One stage with spacing balls entering lazily. The LP relaxation is solved in a session
/// that keeps HiGHS's basis, and each ball it overfills is added, until it overfills none:
/// its optimum is then the full LP's. When that optimum is whole, it is the stage's;
/// otherwise the MIP is solved with the balls found, and again with any ball its plan
/// overfills, until the plan keeps every ball.
#[allow(clippy::too_many_arguments)]
fn solve_stage_lazily(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    segments: &Segments,
    program: &mut Program,
    session: &mut Option<program::LpSession>,
    active: &mut SpacingRows,
    objective: &[(Col, f64)],
    settings: Settings,
    started: Instant,
) -> Result<program::StageResult, Error> {
    let time_left = || {
        instance
            .solver
            .time_limit_s
            .map(|limit| limit - started.elapsed().as_secs_f64())
    };
    let out_of_time = |violated: usize| {
        let over = match violated {
            1 => "1 spacing neighbourhood was still over its limit".to_string(),
            n => format!("{n} spacing neighbourhoods were still over their limits"),
        };
        Error::TimeLimit(format!(
            "the time limit ended the solve while {over}; raise [solver] time_limit_s"
        ))
    };
    let add = |balls: Vec<usize>, program: &mut Program, active: &mut SpacingRows| {
        for &ball in &balls {
            program.rows.push(ball_row(prepared, city, ball));
        }
        active.add(balls);
    };
    if time_left().is_some_and(|t| t <= 0.0) {
        return Err(Error::TimeLimit(
            "the time limit ended the solve before its plan kept every spacing neighbourhood; raise [solver] time_limit_s".into(),
        ));
    }
    if session.is_none() {
        *session = Some(program::LpSession::new(program, settings)?);
    }
    let session = session.as_mut().expect("just made");
    let lp = loop {
        let lp = session
            .minimise(
                program,
                objective,
                Settings {
                    time_limit_s: time_left(),
                    ..settings
                },
            )?
            .ok_or_else(infeasible)?
            .result;
        let violated = overfilled(prepared, &active.in_model, |s| {
            city.site_column[s as usize].map_or(0.0, |c| lp.values[c])
        });
        if violated.is_empty() {
            break lp;
        }
        if time_left().is_some_and(|t| t <= 0.0) {
            return Err(out_of_time(violated.len()));
        }
        if std::env::var_os("QUARTIER_TRACE").is_some() {
            eprintln!(
                "  spacing: {} balls in the model, {} more overfilled by the LP",
                active.rows.len(),
                violated.len()
            );
        }
        add(violated, program, active);
    };
    if program.is_integral(&lp.values) {
        return Ok(lp);
    }
    if let Some(rounded) = rounded_within_gap(
        instance, prepared, city, segments, program, active, objective, settings, &lp,
    ) {
        return Ok(rounded);
    }
    if let Some(polished) = whole_columns_fixed(
        instance, prepared, city, program, active, objective, settings, &lp,
    )? {
        return Ok(polished);
    }
    loop {
        let result = program.minimise_with(
            objective,
            Settings {
                time_limit_s: time_left(),
                ..settings
            },
            false,
            false,
        )?;
        let plan = read_plan(instance, prepared, city, &result.values);
        let violated = violated_spacing(prepared, &active.in_model, &plan);
        if violated.is_empty() {
            return Ok(result);
        }
        if result.status == program::StageStatus::TimeLimit || time_left().is_some_and(|t| t <= 0.0)
        {
            return Err(out_of_time(violated.len()));
        }
        if std::env::var_os("QUARTIER_TRACE").is_some() {
            eprintln!(
                "  spacing: {} balls in the model, {} more overfilled by the MIP",
                active.rows.len(),
                violated.len()
            );
        }
        add(violated, program, active);
    }
}

/// Sites grouped by the column they share, and the new places that could go there.
fn site_room_by_district(instance: &Instance, prepared: &Prepared) -> Vec<u64> {
    let mut room = vec![0u64; instance.districts.len()];
    for (s, &r) in prepared.site_room.iter().enumerate() {
        if let Some(d) = prepared.site_district[s] {
            room[d as usize] += u64::from(r);
        }
    }
    room
}

/// True when some rule ties sites together beyond their district: a minimum occupancy, a
/// spacing ball or a school's seats that can bind.
fn is_coupled(instance: &Instance, prepared: &Prepared, active: &SpacingRows) -> bool {
    let usable = |s: usize| prepared.site_room[s] > 0;
    if !active.rows.is_empty()
        || active.most_new.is_some()
        || (0..instance.sites.len()).any(|s| usable(s) && instance.sites[s].min_places > 0)
    {
        return true;
    }
    let mut served = vec![0u64; prepared.seat_room.len()];
    for (s, facility) in prepared.seat_facility.iter().enumerate() {
        if let Some(f) = facility {
            served[*f as usize] += u64::from(prepared.site_room[s]);
        }
    }
    prepared
        .seat_room
        .iter()
        .zip(&served)
        .any(|(room, &served)| room.is_some_and(|r| r < served))
}

/// The districts of the separable model, and each district's usable sites, cheapest first
/// (when the cost stage runs), then in file order.
fn separable_districts(
    instance: &Instance,
    prepared: &Prepared,
) -> (Vec<separable::SeparableDistrict>, Vec<Vec<u32>>) {
    let with_cost = instance.stages.contains(&Stage::Cost);
    let site_room = site_room_by_district(instance, prepared);
    let mut sites_of: Vec<Vec<u32>> = vec![Vec::new(); instance.districts.len()];
    for (s, &room) in prepared.site_room.iter().enumerate() {
        if let (Some(d), true) = (prepared.site_district[s], room > 0) {
            sites_of[d as usize].push(s as u32);
        }
    }
    let cost_of = |s: u32| {
        if with_cost {
            instance.sites[s as usize].cost.unwrap_or(0.0)
        } else {
            0.0
        }
    };
    for list in &mut sites_of {
        list.sort_by(|&a, &b| cost_of(a).total_cmp(&cost_of(b)).then(a.cmp(&b)));
    }
    let districts = (0..instance.districts.len())
        .map(|d| {
            let mut blocks: Vec<(f64, u64)> = Vec::new();
            for &s in &sites_of[d] {
                let room = u64::from(prepared.site_room[s as usize]);
                match blocks.last_mut() {
                    Some(last) if last.0 == cost_of(s) => last.1 += room,
                    _ => blocks.push((cost_of(s), room)),
                }
            }
            separable::SeparableDistrict {
                cap: prepared.share_room[d].map_or(site_room[d], |r| r.min(site_room[d])),
                kink: prepared.target[d] - prepared.district_existing[d],
                blocks,
            }
        })
        .collect();
    (districts, sites_of)
}

/// The exact per-district algorithm (see `separable`) when no rule couples sites.
fn solve_separable_city(
    instance: &Instance,
    prepared: &Prepared,
    active: &SpacingRows,
) -> Option<Solution> {
    if is_coupled(instance, prepared, active) {
        return None;
    }
    let started_here = Instant::now();
    let site_room = site_room_by_district(instance, prepared);
    let (districts, sites_of) = separable_districts(instance, prepared);
    let build_s = started_here.elapsed().as_secs_f64();
    let result = separable::solve_separable(
        &districts,
        instance.demand,
        instance.stages.contains(&Stage::Worst),
        &site_room,
    );
    let mut plan = Plan::empty(instance.sites.len());
    for (d, list) in sites_of.iter().enumerate() {
        let mut left = result.places[d];
        for &s in list {
            let take = left.min(u64::from(prepared.site_room[s as usize]));
            plan.places[s as usize] = take as u32;
            left -= take;
        }
    }
    let has_cost = instance.sites.iter().any(|s| s.cost.is_some());
    let stages = instance
        .stages
        .iter()
        .filter(|&&stage| stage != Stage::Cost || has_cost)
        .map(|&stage| (stage, stage_value(stage, instance, prepared, &plan)))
        .collect();
    Some(Solution {
        plan,
        status: SolveStatus::Optimal,
        stages,
        mip_gap: 0.0,
        size: ModelSize {
            columns: districts.len(),
            integers: 0,
            rows: 0,
            aggregated_sites: sites_of.iter().map(Vec::len).sum(),
        },
        marginal_values: Some(result.marginal_values),
        method: "separable",
        spacing_rows: 0,
        build_s,
        solve_s: started_here.elapsed().as_secs_f64() - build_s,
    })
}

fn build(instance: &Instance, prepared: &Prepared, active: &SpacingRows) -> CityProgram {
    let mut program = Program::default();
    let district_count = instance.districts.len();
    let mut units: Vec<Unit> = Vec::new();
    let mut groups: BTreeMap<(u32, u32), usize> = BTreeMap::new();
    let mut room_of_unit: Vec<u64> = Vec::new();
    let mut aggregated_sites = 0;

    for (index, site) in instance.sites.iter().enumerate() {
        let room = prepared.site_room[index];
        let Some(district) = prepared.site_district[index] else {
            continue;
        };
        if room == 0 {
            continue;
        }
        let own_column = site.min_places > 0 || active.in_spacing[index];
        if !own_column {
            aggregated_sites += 1;
            let facility = prepared.seat_facility[index].unwrap_or(u32::MAX);
            let key = (district, facility);
            if let Some(&unit) = groups.get(&key) {
                units[unit].sites.push(index as u32);
                room_of_unit[unit] += u64::from(room);
                continue;
            }
            groups.insert(key, units.len());
        }
        units.push(Unit {
            column: usize::MAX,
            district,
            sites: vec![index as u32],
            blocks: Vec::new(),
        });
        room_of_unit.push(u64::from(room));
    }
    let cost_of = |s: u32| instance.sites[s as usize].cost.unwrap_or(0.0);
    for unit in &mut units {
        unit.sites
            .sort_by(|&a, &b| cost_of(a).total_cmp(&cost_of(b)).then(a.cmp(&b)));
        for &s in &unit.sites {
            let room = u64::from(prepared.site_room[s as usize]);
            match unit.blocks.last_mut() {
                Some(last) if last.0 == cost_of(s) => last.1 += room,
                _ => unit.blocks.push((cost_of(s), room)),
            }
        }
    }

    let mut site_column: Vec<Option<Col>> = vec![None; instance.sites.len()];
    for (unit, &room) in units.iter_mut().zip(&room_of_unit) {
        unit.column = program.add_column(0.0, room as f64, true);
        if let [site] = unit.sites[..] {
            site_column[site as usize] = Some(unit.column);
        }
    }
    // Minimum occupancy: min·y ≤ x ≤ room·y.
    let mut binaries = Vec::new();
    for unit in &units {
        let site = unit.sites[0] as usize;
        let minimum = instance.sites[site].min_places;
        if unit.sites.len() == 1 && minimum > 0 {
            let room = f64::from(prepared.site_room[site]);
            let used = program.add_column(0.0, 1.0, true);
            binaries.push(used);
            program.add_row(vec![(unit.column, 1.0), (used, -room)], 0.0, false);
            program.add_row(
                vec![(unit.column, -1.0), (used, f64::from(minimum))],
                0.0,
                false,
            );
        }
    }

    let demand = instance.demand as f64;
    let shortfall = program.add_column(0.0, demand, false);
    let mut demand_row: Vec<(Col, f64)> = units.iter().map(|u| (u.column, 1.0)).collect();
    demand_row.push((shortfall, 1.0));
    let demand_row = program.add_row(demand_row, demand, true);

    let mut in_district: Vec<Vec<(Col, f64)>> = vec![Vec::new(); district_count];
    let mut room_in_district = vec![0u64; district_count];
    for (unit, &room) in units.iter().zip(&room_of_unit) {
        in_district[unit.district as usize].push((unit.column, 1.0));
        room_in_district[unit.district as usize] += room;
    }
    let mut over = Vec::with_capacity(district_count);
    let mut under = Vec::with_capacity(district_count);
    let mut deviation_rows = Vec::with_capacity(district_count);
    let mut share_rows = vec![None; district_count];
    for d in 0..district_count {
        let p = program.add_column(0.0, f64::INFINITY, false);
        let m = program.add_column(0.0, f64::INFINITY, false);
        over.push(p);
        under.push(m);
        // a_d − t_d = p_d − m_d, with a_d = e_d + Σ x.
        let mut terms = in_district[d].clone();
        terms.push((p, -1.0));
        terms.push((m, 1.0));
        let kink = prepared.target[d] - prepared.district_existing[d];
        deviation_rows.push(program.add_row(terms, kink, true));
        // New places k = Σx are whole, so |k − kink| lies on or above the chord through
        // the two whole numbers around the kink: p + m ≥ φ + (k − ⌊kink⌋)(1 − 2φ), with φ
        // the fractional part. Every whole k satisfies it, so the model keeps its optimum;
        // the LP relaxation becomes the convex hull per district and HiGHS rarely branches.
        let floor = kink.floor();
        let fraction = kink - floor;
        if fraction > 1e-9 && fraction < 1.0 - 1e-9 {
            let slope = 1.0 - 2.0 * fraction;
            let mut chord: Vec<(Col, f64)> =
                in_district[d].iter().map(|&(c, _)| (c, slope)).collect();
            chord.push((p, -1.0));
            chord.push((m, -1.0));
            program.add_row(chord, floor * slope - fraction, false);
        }
        if let Some(share_room) = prepared.share_room[d] {
            if share_room < room_in_district[d] {
                share_rows[d] =
                    Some(program.add_row(in_district[d].clone(), share_room as f64, false));
            }
        }
    }
    for limit in active.rows.iter().map(|&row| &prepared.spacing[row]) {
        let terms: Vec<(Col, f64)> = limit
            .members
            .iter()
            .filter_map(|&s| site_column[s as usize])
            .map(|c| (c, 1.0))
            .collect();
        program.add_row(terms, limit.room as f64, false);
    }
    let mut served: Vec<Vec<(Col, f64)>> = vec![Vec::new(); prepared.seat_room.len()];
    let mut room_served = vec![0u64; prepared.seat_room.len()];
    for (unit, &room) in units.iter().zip(&room_of_unit) {
        if let Some(f) = prepared.seat_facility[unit.sites[0] as usize] {
            served[f as usize].push((unit.column, 1.0));
            room_served[f as usize] += room;
        }
    }
    for (f, terms) in served.into_iter().enumerate() {
        if let Some(seat_room) = prepared.seat_room[f] {
            if seat_room < room_served[f] {
                program.add_row(terms, seat_room as f64, false);
            }
        }
    }
    let worst = instance.stages.contains(&Stage::Worst).then(|| {
        let z = program.add_column(0.0, f64::INFINITY, false);
        for d in 0..district_count {
            program.add_row(vec![(over[d], 1.0), (under[d], 1.0), (z, -1.0)], 0.0, false);
        }
        z
    });
    // Last, so that dropping them leaves the other row indices as they are.
    let mut bound_rows = Vec::new();
    if let Some(most_new) = &active.most_new {
        for (d, &hi) in most_new.iter().enumerate() {
            if hi < room_in_district[d] {
                bound_rows.push(program.add_row(in_district[d].clone(), hi as f64, false));
            }
        }
    }

    CityProgram {
        program,
        demand_row,
        deviation_rows,
        share_rows,
        binaries,
        units,
        shortfall,
        over,
        under,
        worst,
        aggregated_sites,
        bound_rows,
        site_column,
    }
}

/// The LP optimum `lp` (which keeps every ball) is a lower bound for the stage. Its integer
/// columns rounded to the nearest whole number, with the continuous columns at the least
/// values the rows allow (shortfall, deviations, worst deviation, cost segments filled
/// cheapest first), are a plan; when that plan meets every row and ball and its value is
/// within the MIP gap of the bound, it is optimal in exactly the sense HiGHS's MIP would
/// prove, and the MIP (whose presolve alone takes most of the time on large grids) is not
/// needed.
#[allow(clippy::too_many_arguments)]
fn rounded_within_gap(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    segments: &Segments,
    program: &Program,
    active: &SpacingRows,
    objective: &[(Col, f64)],
    settings: Settings,
    lp: &program::StageResult,
) -> Option<program::StageResult> {
    let mut values = lp.values.clone();
    for (value, column) in values.iter_mut().zip(&program.columns) {
        if column.integer {
            *value = value.round();
        }
    }
    let mut new_places = vec![0.0; instance.districts.len()];
    for unit in &city.units {
        new_places[unit.district as usize] += values[unit.column];
    }
    values[city.shortfall] = (instance.demand as f64 - new_places.iter().sum::<f64>()).max(0.0);
    let mut worst: f64 = 0.0;
    for (d, &new) in new_places.iter().enumerate() {
        let deviation = prepared.district_existing[d] + new - prepared.target[d];
        values[city.over[d]] = deviation.max(0.0);
        values[city.under[d]] = (-deviation).max(0.0);
        worst = worst.max(deviation.abs());
    }
    if let Some(z) = city.worst {
        values[z] = worst;
    }
    for (unit, columns) in segments {
        let mut left = values[city.units[*unit].column];
        for (&column, &(_, places)) in columns.iter().zip(&city.units[*unit].blocks) {
            let take = left.min(places as f64);
            values[column] = take;
            left -= take;
        }
    }
    let meets_rows = program.rows.iter().all(|row| {
        let lhs: f64 = row.terms.iter().map(|&(c, k)| k * values[c]).sum();
        let tolerance = 1e-7 + 1e-9 * row.upper.abs();
        if row.equal {
            (lhs - row.upper).abs() <= tolerance
        } else {
            lhs <= row.upper + tolerance
        }
    });
    if !meets_rows {
        if std::env::var_os("QUARTIER_TRACE").is_some() {
            eprintln!("  rounded LP optimum breaks a row");
        }
        return None;
    }
    let value = objective.iter().map(|&(c, k)| k * values[c]).sum::<f64>();
    within_gap(
        instance,
        prepared,
        city,
        active,
        settings,
        lp.objective,
        program::StageResult {
            status: program::StageStatus::Optimal,
            objective: value,
            values,
            mip_gap: 0.0,
        },
        "rounded LP optimum",
    )
}

/// `result`, a plan that meets every row of the program, when it keeps every ball and its
/// value lies within the MIP gap of `bound` (the LP optimum that keeps every ball), with
/// that gap; otherwise `None`.
#[allow(clippy::too_many_arguments)]
fn within_gap(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    active: &SpacingRows,
    settings: Settings,
    bound: f64,
    result: program::StageResult,
    what: &str,
) -> Option<program::StageResult> {
    let value = result.objective;
    let gap = (value - bound).max(0.0) / value.abs().max(1.0);
    let within = value - bound <= 1e-7 || gap <= settings.mip_gap;
    let plan = read_plan(instance, prepared, city, &result.values);
    let keeps_balls = violated_spacing(prepared, &active.in_model, &plan).is_empty();
    if std::env::var_os("QUARTIER_TRACE").is_some() {
        eprintln!(
            "  {what}: {value} against the bound {bound} (gap {gap:.2e}); keeps every ball: {keeps_balls}"
        );
    }
    (within && keeps_balls && result.status == program::StageStatus::Optimal).then_some(
        program::StageResult {
            mip_gap: gap,
            ..result
        },
    )
}

/// When rounding the LP optimum `lp` fails, the MIP with every integer column that is whole
/// in `lp` fixed at its value: usually a handful of free columns, which HiGHS settles at
/// once. Its plan is feasible for the full model; when it keeps every ball and lies within
/// the MIP gap of the LP bound, it is optimal as `rounded_within_gap` explains.
#[allow(clippy::too_many_arguments)]
fn whole_columns_fixed(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    program: &Program,
    active: &SpacingRows,
    objective: &[(Col, f64)],
    settings: Settings,
    lp: &program::StageResult,
) -> Result<Option<program::StageResult>, Error> {
    let mut fixed = program.clone();
    for (column, &value) in fixed.columns.iter_mut().zip(&lp.values) {
        if column.integer && (value - value.round()).abs() <= 1e-7 {
            column.lower = value.round();
            column.upper = value.round();
        }
    }
    let Some(result) = fixed.minimise_if_feasible(objective, settings, false)? else {
        return Ok(None); // the fractional columns cannot be settled with the others fixed
    };
    Ok(within_gap(
        instance,
        prepared,
        city,
        active,
        settings,
        lp.objective,
        result,
        "LP's whole columns fixed",
    ))
}

/// The value of one more place of capacity in each district for evenness: the evenness LP
/// at the optimum (binaries fixed at their optimal values, places relaxed, the bound rows of
/// later stages and of the evenness bounds dropped). A place of extra capacity in district d
/// would be a column in the demand row, d's deviation row and d's share-cap row; minus its
/// reduced cost, the sum of those rows' duals, is how fast the sum of deviations falls when
/// that capacity is added. (Where the sites alone keep d below its share cap, the cap's row
/// would be slack and adds nothing.)
fn marginal_values(
    city: &CityProgram,
    program: &Program,
    objective: &[(Col, f64)],
    dropped: &[usize],
    optimum: &[f64],
    instance: &Instance,
) -> Result<Vec<f64>, Error> {
    let settings = Settings {
        time_limit_s: instance.solver.time_limit_s,
        mip_gap: instance.solver.mip_gap,
        threads: instance.solver.threads,
    };
    // A fresh LP: from the last stage's basis, the evenness objective can take HiGHS longer
    // than a solve from scratch.
    let mut session = program::LpSession::new(program, settings)?;
    session.drop_rows(dropped)?;
    let fixed: Vec<(Col, f64)> = city
        .binaries
        .iter()
        .map(|&c| (c, optimum[c].round()))
        .collect();
    session.fix_columns(&fixed)?;
    let relaxed = session
        .minimise(program, objective, settings)?
        .ok_or_else(infeasible)?;
    let dual = |row: usize| relaxed.row_duals.get(row).copied().unwrap_or(0.0);
    Ok((0..city.deviation_rows.len())
        .map(|d| {
            let value = dual(city.demand_row)
                + dual(city.deviation_rows[d])
                + city.share_rows[d].map_or(0.0, dual);
            // Clean solver noise: the value of a place is a small rational number.
            if value.abs() < 1e-9 {
                0.0
            } else {
                value
            }
        })
        .collect())
}

/// The cost stage's objective. A column with one cost is priced directly; a column whose
/// sites differ in cost gets continuous segments, one per cost block, that add up to it, so
/// that the cheapest places fill first. (Given the whole number of places of the column,
/// cheapest-first is the unique optimum and fills whole blocks, so no segment needs to be
/// an integer.)
fn cost_objective(units: &[Unit], program: &mut Program) -> (Vec<(Col, f64)>, Segments) {
    let mut objective = Vec::new();
    let mut segments = Vec::new();
    for (index, unit) in units.iter().enumerate() {
        match unit.blocks[..] {
            [] => {}
            [(cost, _)] => {
                if cost != 0.0 {
                    objective.push((unit.column, cost));
                }
            }
            _ => {
                let mut link = vec![(unit.column, -1.0)];
                let mut columns = Vec::with_capacity(unit.blocks.len());
                for &(cost, places) in &unit.blocks {
                    let segment = program.add_column(0.0, places as f64, false);
                    link.push((segment, 1.0));
                    columns.push(segment);
                    if cost != 0.0 {
                        objective.push((segment, cost));
                    }
                }
                program.add_row(link, 0.0, true);
                segments.push((index, columns));
            }
        }
    }
    (objective, segments)
}

/// The continuous cost segments of each unit that has several costs: (unit, one column per
/// cost block, cheapest first).
type Segments = Vec<(usize, Vec<Col>)>;

/// Integer places per site: aggregated columns are split onto their sites cheapest first,
/// then in file order.
fn read_plan(instance: &Instance, prepared: &Prepared, city: &CityProgram, values: &[f64]) -> Plan {
    let mut plan = Plan::empty(instance.sites.len());
    for unit in &city.units {
        let mut left = values[unit.column].round().max(0.0) as u64;
        for &site in &unit.sites {
            let take = left.min(u64::from(prepared.site_room[site as usize]));
            plan.places[site as usize] = take as u32;
            left -= take;
        }
    }
    plan
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
