//! Neighbourhoods (spacing balls, and the neighbourhoods of stage spread) entering the
//! model only when a plan would overfill them.
//!
//! A stage's LP is solved in a session HiGHS keeps (each round from the last basis) and the
//! neighbourhoods it overfills are added until it overfills none (`solve_stage_lazily`). A
//! stage is finished only when its plan keeps every neighbourhood, so its optimum is the
//! full model's and later stages can keep it. The LP optimum rounded to whole places
//! replaces the MIP when it keeps every rule and lies within the MIP gap of the LP bound
//! (`rounding::rounded_within_gap`); otherwise the MIP over the LP's fractional columns, then the
//! full MIP, runs.
//!
//! A spacing ball is overfilled when its places exceed its room; a spread neighbourhood
//! when its new places exceed the level's spread column (the largest load the stage allows).
//!
//! The plan without spacing usually keeps its evenness: then every district's new places
//! stay within bounds that duality gives (`separable::evenness_bounds`), and only balls that
//! could overfill within them can matter (`solve_within_evenness_bounds`, which checks the
//! assumption and falls back otherwise).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::city::{CityProgram, Segments};
use super::descent::cheaper_by_moves;
use super::greedy;
use super::prepare::Prepared;
use super::program::{self, infeasible, Col, Program, Settings};
use super::rounding::{
    rounded_within_gap, settled_if_feasible, values_of, whole_columns_fixed, within_gap, Rounded,
};
use super::separable;
use super::separable_city::separable_districts;
use super::spread::{Lookups, Meeting};
use super::spread_quick::{quick_spread, Quick};
use super::spread_search::{spread_breakout, spread_within, Bounds};
use super::stages::solve_program;
use super::{trace, Solution, SolveStatus};
use crate::error::Error;
use crate::model::{Instance, Plan, Stage};

/// Spacing balls usually leave stage B's optimum where it is without them. If so, every
/// optimal plan keeps each district's new places within the bounds of `evenness_bounds`,
/// and only the balls that could be overfilled within those bounds matter: usually few,
/// so all go into the model at once (lazily when they are many). The plan is accepted when
/// its shortfall and evenness equal the relaxation's (which proves the assumption);
/// otherwise `None`.
pub(super) fn solve_within_evenness_bounds(
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
    if solution.status == SolveStatus::TimeLimit {
        // A plan that keeps every rule, reported with the time limit's status and gap; no
        // time is left to start again without the bounds.
        return Ok(Some(solution));
    }
    let holds = value(&solution, Stage::Shortfall) == Some(shortfall)
        && value(&solution, Stage::Evenness)
            .is_some_and(|v| v <= evenness + 1e-6 * evenness.max(1.0));
    trace(|| format!("evenness bounds: optimum kept: {holds}"));
    Ok(holds.then_some(solution))
}

/// The neighbourhoods in the model, and the sites that get a column of their own.
pub(super) struct SpacingRows {
    /// Spacing balls in the model (indices into `Prepared::spacing`), rows of the last level.
    pub(super) rows: Vec<usize>,
    pub(super) in_model: Vec<bool>,
    pub(super) in_spacing: Vec<bool>,
    /// At most this many new places per district (see `solve_within_evenness_bounds`).
    pub(super) most_new: Option<Vec<u64>>,
    /// Every usable site gets a column of its own (the spread stage needs them).
    pub(super) own_columns: bool,
    /// Spread neighbourhoods in the model, per level: their centres, and their sets of
    /// sites (two centres with the same sites give the same row).
    pub(super) spread: Vec<HashSet<usize>>,
    spread_sets: HashSet<(usize, Vec<u32>)>,
    /// Spread neighbourhoods to put in when the spread stage begins, per level.
    pub(super) spread_first: Vec<Vec<usize>>,
    /// The spread stage has begun: from then on, plans keep its neighbourhoods.
    pub(super) spread_on: bool,
    /// `spread_first` holds every spread neighbourhood (the full model).
    pub(super) spread_complete: bool,
    /// The spread stage's LP optimum was fractional: its neighbourhoods are tight, and
    /// every MIP from then on gets all of them at once (`put_in_every_spread_neighbourhood`).
    pub(super) spread_tight: bool,
}

impl SpacingRows {
    pub(super) fn none(instance: &Instance) -> SpacingRows {
        SpacingRows {
            rows: Vec::new(),
            in_model: Vec::new(),
            in_spacing: vec![false; instance.sites.len()],
            most_new: None,
            own_columns: false,
            spread: Vec::new(),
            spread_sets: HashSet::new(),
            spread_first: Vec::new(),
            spread_on: false,
            spread_complete: false,
            spread_tight: false,
        }
    }

    /// No ball in the model yet, but a column for every site in a ball (every usable site,
    /// with the spread stage), so that balls can enter without rebuilding the program.
    pub(super) fn lazy(instance: &Instance, prepared: &Prepared) -> SpacingRows {
        let mut rows = SpacingRows::none(instance);
        rows.in_model = vec![false; prepared.spacing.len()];
        for ball in prepared.spacing.iter() {
            for &member in &ball.members {
                rows.in_spacing[member as usize] = true;
            }
        }
        rows.own_columns = prepared.stages.contains(&Stage::Spread);
        rows
    }

    pub(super) fn add(&mut self, balls: Vec<usize>) {
        for ball in balls {
            self.in_model[ball] = true;
            self.rows.push(ball);
        }
    }

    /// Neighbourhoods in the model, spacing and spread together.
    pub(super) fn count(&self) -> usize {
        self.rows.len() + self.spread.iter().map(HashSet::len).sum::<usize>()
    }
}

/// Spacing balls not in the model whose limit the plan exceeds.
pub(super) fn violated_spacing(prepared: &Prepared, in_model: &[bool], plan: &Plan) -> Vec<usize> {
    overfilled(prepared, in_model, |s| f64::from(plan.places[s as usize]))
}

/// Spacing balls not in the model whose sites hold more than their room, with
/// `places_at(site)` new places (possibly fractional, from an LP) at each site.
pub(super) fn overfilled(
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

/// Of balls whose centres lie closer than half `metres` to each other, only the first (in
/// the order given). Used for the balls a plan overfills, which in a dense core are tens of
/// thousands of nearly equal rows: thinned out, the LP is a fraction of the size, and the
/// rounds after it, from its basis, add what is still overfilled. (200k sites: 25,925
/// spacing balls, first LP 16 s; thinned to about 4,000, first LP 3 s, and 5,500 balls in
/// the end instead of 26,800.)
pub(super) fn thinned(positions: &[[f64; 2]], metres: f64) -> Vec<usize> {
    let metres = metres / 2.0;
    if metres <= 0.0 {
        return (0..positions.len()).collect();
    }
    let cell_of = |p: [f64; 2]| {
        (
            (p[0] / metres).floor() as i64,
            (p[1] / metres).floor() as i64,
        )
    };
    let mut chosen: HashMap<(i64, i64), Vec<[f64; 2]>> = HashMap::new();
    let mut kept = Vec::new();
    for (index, &p) in positions.iter().enumerate() {
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
            kept.push(index);
        }
    }
    kept
}

/// Spacing balls, thinned (see `thinned`).
pub(super) fn spread_out(
    instance: &Instance,
    prepared: &Prepared,
    balls: Vec<usize>,
) -> Vec<usize> {
    let Some(spacing) = instance.rules.spacing else {
        return balls;
    };
    let positions: Vec<[f64; 2]> = balls
        .iter()
        .map(|&b| instance.sites[prepared.spacing[b].centre as usize].position)
        .collect();
    thinned(&positions, spacing.metres)
        .into_iter()
        .map(|i| balls[i])
        .collect()
}

/// The spread neighbourhoods to put in first for a plan: those whose load reaches the
/// largest, and those up to a quarter below it, the most loaded first, thinned.
pub(super) fn first_spread(instance: &Instance, prepared: &Prepared, plan: &Plan) -> Vec<usize> {
    let balls = prepared.spread_balls(instance);
    let loads = balls.plan_loads(instance, plan);
    let most = loads.iter().copied().fold(0.0, f64::max);
    if most <= 0.0 {
        return Vec::new();
    }
    let mut heavy: Vec<usize> = (0..loads.len())
        .filter(|&c| loads[c] >= 0.75 * most)
        .collect();
    heavy.sort_by(|&a, &b| loads[b].total_cmp(&loads[a]).then(a.cmp(&b)));
    let positions: Vec<[f64; 2]> = heavy
        .iter()
        .map(|&c| instance.sites[balls.centre(c) as usize].position)
        .collect();
    thinned(&positions, balls.metres)
        .into_iter()
        .map(|i| heavy[i])
        .collect()
}

/// Neighbourhoods a set of values overfills: spacing balls (indices) and spread
/// neighbourhoods (level, centre).
#[derive(Default)]
pub(super) struct Overfilled {
    pub(super) spacing: Vec<usize>,
    pub(super) spread: Vec<(usize, usize)>,
}

impl Overfilled {
    pub(super) fn is_empty(&self) -> bool {
        self.spacing.is_empty() && self.spread.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.spacing.len() + self.spread.len()
    }
}

/// Most seconds the penalty search may spend on the spread stage after the LP
/// (`breakout_to_bound`) before the MIP decides.
const BREAKOUT_SECONDS: f64 = 3.0;

/// Most spread neighbourhoods added in one round.
const SPREAD_PER_ROUND: usize = 4_000;

/// How many of the overfilled spread neighbourhoods a round puts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Take {
    /// The most overfilled, thinned: for the LP rounds, where dense cores would otherwise
    /// add tens of thousands of nearly equal rows.
    Thinned,
    /// Every one: for the MIP rounds, where each round is a whole MIP, and a neighbourhood
    /// left out for its overfilled neighbour tends to come back in the next round.
    Every,
}

/// The neighbourhoods not in the model that `values` (column values, possibly fractional)
/// overfill. Spread neighbourhoods are checked against each level's spread column; the
/// most overfilled go first.
pub(super) fn overfilled_by(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    active: &SpacingRows,
    values: &[f64],
    take: Take,
) -> Overfilled {
    let last = city.last_level();
    let spacing = overfilled(prepared, &active.in_model, |s| {
        city.site_column(s as usize, last)
            .map_or(0.0, |c| values[c])
    });
    let mut spread = Vec::new();
    for (l, level) in city.levels.iter().enumerate() {
        let Some(z) = level.spread.filter(|_| active.spread_on) else {
            continue;
        };
        let balls = prepared.spread_balls(instance);
        let places: Vec<(u32, f64)> = (0..instance.sites.len())
            .filter_map(|s| {
                city.site_column(s, l)
                    .map(|c| (s as u32, values[c]))
                    .filter(|&(_, x)| x > 1e-9)
            })
            .collect();
        let loads = balls.loads(instance, &places);
        let limit = values[z] + 1e-6;
        let mut over: Vec<usize> = (0..loads.len())
            .filter(|&c| loads[c] > limit && !active.spread.get(l).is_some_and(|m| m.contains(&c)))
            .collect();
        over.sort_by(|&a, &b| loads[b].total_cmp(&loads[a]).then(a.cmp(&b)));
        let positions: Vec<[f64; 2]> = over
            .iter()
            .map(|&c| instance.sites[balls.centre(c) as usize].position)
            .collect();
        match take {
            Take::Thinned => spread.extend(
                thinned(&positions, balls.metres)
                    .into_iter()
                    .take(SPREAD_PER_ROUND)
                    .map(|i| (l, over[i])),
            ),
            Take::Every => spread.extend(over.into_iter().map(|c| (l, c))),
        }
    }
    Overfilled { spacing, spread }
}

/// The row of a spacing ball (last level).
pub(super) fn ball_row(prepared: &Prepared, city: &CityProgram, ball: usize) -> program::Row {
    let limit = &prepared.spacing[ball];
    let last = city.last_level();
    program::Row {
        terms: limit
            .members
            .iter()
            .filter_map(|&s| city.site_column(s as usize, last))
            .map(|c| (c, 1.0))
            .collect(),
        upper: limit.room as f64,
        equal: false,
    }
}

/// Puts neighbourhoods into the program and records them.
pub(super) fn add_rows(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    program: &mut Program,
    active: &mut SpacingRows,
    overfilled: Overfilled,
) {
    for &ball in &overfilled.spacing {
        program.rows.push(ball_row(prepared, city, ball));
    }
    active.add(overfilled.spacing);
    if active.spread.len() < city.levels.len() {
        active.spread.resize_with(city.levels.len(), HashSet::new);
    }
    for (l, centre) in overfilled.spread {
        let Some(z) = city.levels[l].spread else {
            continue;
        };
        active.spread[l].insert(centre);
        let members = prepared
            .spread_balls(instance)
            .members(instance, prepared, centre);
        if !active.spread_sets.insert((l, members.clone())) {
            continue; // the same sites are in the model already
        }
        let mut terms: Vec<(Col, f64)> = members
            .iter()
            .filter_map(|&s| city.site_column(s as usize, l))
            .map(|c| (c, 1.0))
            .collect();
        terms.push((z, -1.0));
        program.rows.push(program::Row {
            terms,
            upper: 0.0,
            equal: false,
        });
    }
}

/// How a stage's objective relates to whole numbers: the spread stage of one level has a
/// whole-number optimum, so its LP bound rounds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bound {
    AsIs,
    RoundsUp,
}

impl Bound {
    fn apply(self, bound: f64) -> f64 {
        match self {
            Bound::AsIs => bound,
            Bound::RoundsUp => (bound - 1e-6).ceil(),
        }
    }
}

/// A stage's LP optimum with its reduced costs: a lower bound on the stage's objective over
/// every plan the LP allows, used to fix columns for the stages after
/// (`Program::fix_by_reduced_costs`).
pub(super) struct LpCertificate {
    pub(super) objective: f64,
    pub(super) values: Vec<f64>,
    pub(super) column_duals: Vec<f64>,
}

/// One stage with neighbourhoods entering lazily. The LP relaxation is solved in a session
/// that keeps HiGHS's basis, and each neighbourhood it overfills is added, until it
/// overfills none: its optimum is then the full LP's. When that optimum is whole, it is the
/// stage's; otherwise the MIP is solved with the neighbourhoods found, and again with any
/// its plan overfills, until the plan keeps every one.
#[allow(clippy::too_many_arguments)]
pub(super) fn solve_stage_lazily(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    segments: &Segments,
    program: &mut Program,
    session: &mut Option<program::LpSession>,
    active: &mut SpacingRows,
    objective: &[(Col, f64)],
    settings: Settings,
    (stage, bound): (Stage, Bound),
    search: Option<(&Plan, &Bounds)>,
    started: Instant,
) -> Result<(program::StageResult, Option<LpCertificate>), Error> {
    let time_left = || {
        instance
            .solver
            .time_limit_s
            .map(|limit| limit - started.elapsed().as_secs_f64())
    };
    let out_of_time = |violated: usize| {
        let over = match violated {
            1 => "1 neighbourhood was still over its limit".to_string(),
            n => format!("{n} neighbourhoods were still over their limits"),
        };
        Error::TimeLimit(format!(
            "the time limit ended the solve while {over}; raise [solver] time_limit_s"
        ))
    };
    if time_left().is_some_and(|t| t <= 0.0) {
        return Err(Error::TimeLimit(
            "the time limit ended the solve before its plan kept every spacing neighbourhood; raise [solver] time_limit_s".into(),
        ));
    }
    // The spread stage: first a bound without the LP and a plan by moving places toward it.
    // When they meet, the plan is optimal and the LP is not needed; otherwise the plan is
    // what a time limit leaves, with its proven distance from the bound.
    let mut quick: Option<program::StageResult> = None;
    if let (Bound::RoundsUp, Some((before, bounds))) = (bound, search) {
        match quick_spread(
            instance, prepared, city, segments, program, active, objective, settings, before,
            bounds,
        ) {
            Quick::Optimal(found) => return Ok((found, None)),
            Quick::Plan(result) => quick = Some(result),
            Quick::Nothing => {}
        }
    }
    // When the time runs out before the LP settles, the plan of the quick route, else the
    // plan of the stage before when it keeps every rule, from the spread stage on (its
    // distance from the optimum unknown: up to its whole value). Before spread, the caller
    // falls back to the plan that proved the first stages.
    let give_up = |error: Error, program: &Program, active: &SpacingRows| {
        let fallback = quick.clone().or_else(|| {
            let (before, _) = search.filter(|_| active.spread_on)?;
            let result = kept_plan(
                instance, prepared, city, segments, program, active, objective, before,
            )?;
            Some(program::StageResult {
                status: program::StageStatus::TimeLimit,
                mip_gap: 1.0,
                ..result
            })
        });
        match fallback {
            Some(result) => Ok((result, None)),
            None => Err(error),
        }
    };
    if session.is_none() {
        *session = Some(program::LpSession::new(program, settings)?);
    }
    let session = session.as_mut().expect("just made");
    let (lp, column_duals) = loop {
        let optimum = match session.minimise(
            program,
            objective,
            Settings {
                time_limit_s: time_left(),
                ..settings
            },
        ) {
            Err(error @ Error::TimeLimit(_)) => return give_up(error, program, active),
            other => other?.ok_or_else(infeasible)?,
        };
        let lp = optimum.result;
        let violated = overfilled_by(instance, prepared, city, active, &lp.values, Take::Thinned);
        if violated.is_empty() {
            break (lp, optimum.column_duals);
        }
        if time_left().is_some_and(|t| t <= 0.0) {
            return give_up(out_of_time(violated.len()), program, active);
        }
        trace(|| {
            format!(
                "  neighbourhoods: {} in the model, {} more overfilled by the LP",
                active.count(),
                violated.len()
            )
        });
        add_rows(instance, prepared, city, program, active, violated);
    };
    let certificate = LpCertificate {
        objective: lp.objective,
        values: lp.values.clone(),
        column_duals,
    };
    if program.is_integral(&lp.values) {
        return Ok((program.settled(lp, objective), Some(certificate)));
    }
    let lp_bound = bound.apply(lp.objective);
    let rounded = match rounded_within_gap(
        instance, prepared, city, segments, program, active, objective, settings, &lp, lp_bound,
    ) {
        Rounded::WithinGap(accepted) => return Ok((accepted, Some(certificate))),
        Rounded::Feasible(plan) => plan,
        Rounded::BreaksARow => None,
    };
    // The spread stage: a plan at the bound by moving places (see `spread_search`), from
    // the rounded LP optimum or the plan of the stage before, whichever is less loaded. A
    // plan one place above the bound is kept: the MIP then only has to decide whether the
    // bound itself can be met.
    let mut one_above = None;
    if let (Bound::RoundsUp, Some((before, bounds))) = (bound, search) {
        active.spread_tight = true;
        let balls = prepared.spread_balls(instance);
        let start = match &rounded {
            Some(plan) if balls.most_new(instance, plan) < balls.most_new(instance, before) => plan,
            _ => before,
        };
        let deadline =
            time_left().map(|t| Instant::now() + Duration::from_secs_f64(t.max(0.0) / 2.0));
        // One set of neighbourhood lists for the greedy moves and the penalty search.
        let lookups = Lookups::new(instance, prepared);
        let (plan, most) = spread_within(&lookups, start, lp_bound as i64, bounds, deadline);
        let (plan, most) = if most as f64 > lp_bound {
            breakout_to_bound(&lookups, plan, most, lp_bound, bounds, &time_left)
        } else {
            (plan, most)
        };
        if let Some(result) = plan_result(
            instance, prepared, city, segments, program, objective, &plan,
        ) {
            if most as f64 <= lp_bound {
                if let Some(found) = within_gap(
                    instance,
                    prepared,
                    city,
                    active,
                    settings,
                    lp_bound,
                    result,
                    "places moved",
                ) {
                    return Ok((found, Some(certificate)));
                }
            } else if most as f64 <= lp_bound + 1.0
                && overfilled_by(
                    instance,
                    prepared,
                    city,
                    active,
                    &result.values,
                    Take::Every,
                )
                .is_empty()
            {
                one_above = Some(result);
            }
        }
    }
    // Access or cost after a tight spread stage: a plan by moving places to cheaper sites,
    // optimal when within the gap of the LP bound, else what a time limit leaves (HiGHS may
    // take minutes to its first plan there).
    let descended = search
        .filter(|_| active.spread_tight && matches!(stage, Stage::Access | Stage::Cost))
        .and_then(|(before, bounds)| {
            let seconds =
                time_left().map_or(DESCENT_SECONDS, |t| (t.max(0.0) / 4.0).min(DESCENT_SECONDS));
            let deadline = Some(Instant::now() + Duration::from_secs_f64(seconds));
            let lookups = Lookups::new(instance, prepared);
            let (plan, _) = cheaper_by_moves(&lookups, before, bounds, stage, deadline)?;
            kept_plan(
                instance, prepared, city, segments, program, active, objective, &plan,
            )
        });
    if let Some(found) = descended.clone().and_then(|result| {
        within_gap(
            instance,
            prepared,
            city,
            active,
            settings,
            lp_bound,
            result,
            "places moved to cheaper sites",
        )
    }) {
        return Ok((found, Some(certificate)));
    }
    if let Some(polished) = whole_columns_fixed(
        instance, prepared, city, program, active, objective, settings, &lp, lp_bound,
    )? {
        return Ok((polished, Some(certificate)));
    }
    // A MIP with the neighbourhoods found so far overfills a few more each round; where
    // the spread stage was tight, all go in at once, for the stages after it as well
    // (mid-size city, access after spread: one MIP of 245 s instead of rounds of 100 s).
    if bound == Bound::RoundsUp {
        active.spread_tight = true;
    }
    if active.spread_tight {
        put_in_every_spread_neighbourhood(instance, prepared, city, program, active);
    }
    // With a plan one above the bound, the MIP looks for a plan at the bound; when there is
    // none, the plan one above is optimal.
    let spread_column = city.levels.iter().find_map(|level| level.spread);
    let restore = match (&one_above, spread_column) {
        (Some(_), Some(z)) => {
            let upper = program.columns[z].upper;
            program.columns[z].upper = lp_bound;
            Some((z, upper))
        }
        _ => None,
    };
    let result = mip_rounds(
        instance,
        prepared,
        city,
        program,
        active,
        objective,
        settings,
        restore.is_some(),
        &time_left,
        &out_of_time,
    );
    if let Some((z, upper)) = restore {
        program.columns[z].upper = upper;
    }
    // The plan a time limit leaves, with how far from this stage's bound it can be at most.
    let kept = |plan: program::StageResult| {
        let gap = (plan.objective - lp_bound).max(0.0) / plan.objective.abs().max(1.0);
        trace(|| format!("  time limit: the plan kept is {gap:.2e} above the bound"));
        program::StageResult {
            status: program::StageStatus::TimeLimit,
            mip_gap: gap,
            ..plan
        }
    };
    match (result, one_above) {
        // HiGHS's plan when the time ran out, unless the descent's is better.
        (Ok(Some(found)), _)
            if found.status == program::StageStatus::TimeLimit
                && descended
                    .as_ref()
                    .is_some_and(|plan| plan.objective < found.objective) =>
        {
            Ok((kept(descended.expect("checked")), Some(certificate)))
        }
        (Ok(Some(result)), _) => Ok((result, Some(certificate))),
        (Ok(None), Some(above)) => {
            trace(|| "  no plan at the bound: the plan one above it is optimal".to_string());
            Ok((above, Some(certificate)))
        }
        (Err(Error::TimeLimit(message)), above) => {
            // The time ran out before HiGHS found a plan: the plan one above the bound, or
            // else the plan of the stage before (it keeps every rule and every earlier
            // stage), with how far from this stage's bound it can be at most.
            let fallback = above.or(quick).or(descended).or_else(|| {
                let (before, _) = search?;
                kept_plan(
                    instance, prepared, city, segments, program, active, objective, before,
                )
            });
            let Some(plan) = fallback else {
                return Err(Error::TimeLimit(message));
            };
            Ok((kept(plan), Some(certificate)))
        }
        (Ok(None), None) => Err(infeasible()),
        (Err(e), _) => Err(e),
    }
}

/// `plan` as a result of the stage: every column's value, the continuous ones at the least
/// the rows allow; `None` when the plan breaks a row of the program.
pub(super) fn plan_result(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    segments: &Segments,
    program: &Program,
    objective: &[(Col, f64)],
    plan: &Plan,
) -> Option<program::StageResult> {
    let values = values_of(program, city, std::slice::from_ref(plan));
    settled_if_feasible(
        instance, prepared, city, segments, program, objective, values,
    )
}

/// `plan` as a result of the stage (`plan_result`) when it also keeps every neighbourhood,
/// those not yet in the program included: the plan a time limit may fall back to.
#[allow(clippy::too_many_arguments)]
fn kept_plan(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    segments: &Segments,
    program: &Program,
    active: &SpacingRows,
    objective: &[(Col, f64)],
    plan: &Plan,
) -> Option<program::StageResult> {
    let result = plan_result(instance, prepared, city, segments, program, objective, plan)?;
    let over = overfilled_by(
        instance,
        prepared,
        city,
        active,
        &result.values,
        Take::Every,
    );
    over.is_empty().then_some(result)
}

/// Most seconds the descent to cheaper sites may take (`descent::cheaper_by_moves`).
const DESCENT_SECONDS: f64 = 2.0;

/// Most nonzeros the spread rows may add when all neighbourhoods go in at once.
const ALL_SPREAD_NONZEROS: usize = 2_000_000;

/// The penalty search (`spread_search::spread_breakout`) from the plan the greedy moves
/// left, down to the LP's bound if it can: on cities of a few thousand sites with
/// all-or-nothing sites it reaches the bound in a second or two, where the MIP that would
/// otherwise decide it takes up to minutes. It runs for at most `BREAKOUT_SECONDS` (or half
/// the time left); returns the less loaded of the two plans.
fn breakout_to_bound(
    lookups: &Lookups,
    plan: Plan,
    most: i64,
    lp_bound: f64,
    bounds: &Bounds,
    time_left: &dyn Fn() -> Option<f64>,
) -> (Plan, i64) {
    let seconds = time_left().map_or(BREAKOUT_SECONDS, |t| {
        (t.max(0.0) / 2.0).min(BREAKOUT_SECONDS)
    });
    let deadline = Some(Instant::now() + Duration::from_secs_f64(seconds));
    let meeting = Meeting::new(most);
    meeting.raise_bound(lp_bound as i64);
    let (found, found_most) = spread_breakout(lookups, &plan, &meeting, bounds, deadline);
    if found_most < most {
        (found, found_most)
    } else {
        (plan, most)
    }
}

/// Puts every spread neighbourhood into the program before the MIP, when they are few
/// enough. Added lazily, each round is a whole MIP whose plan overfills a few
/// neighbourhoods more (Musterstadt, 1,495 sites: 17 rounds of 2-3 s; all 793 missing
/// ones at once: one MIP).
fn put_in_every_spread_neighbourhood(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    program: &mut Program,
    active: &mut SpacingRows,
) {
    if !active.spread_on {
        return;
    }
    let balls = prepared.spread_balls(instance);
    let mut all = Overfilled::default();
    for (l, level) in city.levels.iter().enumerate() {
        if level.spread.is_some() {
            let in_model = active.spread.get(l);
            all.spread.extend(
                (0..balls.len())
                    .filter(|c| !in_model.is_some_and(|m| m.contains(c)))
                    .map(|c| (l, c)),
            );
        }
    }
    // Counted only up to the budget: on a large grid the count would stop far from the end.
    let mut nonzeros = 0;
    let within_budget = all.spread.iter().all(|&(_, c)| {
        nonzeros += balls.around(instance, balls.centre(c) as usize).len();
        nonzeros <= ALL_SPREAD_NONZEROS
    });
    if all.is_empty() || !within_budget {
        return;
    }
    trace(|| format!("  every spread neighbourhood: {} more", all.len()));
    add_rows(instance, prepared, city, program, active, all);
}

/// The MIP, again with every neighbourhood its plan overfills until it overfills none.
/// `None` when the program has no solution (only when `may_fail`: a bound was set).
#[allow(clippy::too_many_arguments)]
fn mip_rounds(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    program: &mut Program,
    active: &mut SpacingRows,
    objective: &[(Col, f64)],
    settings: Settings,
    may_fail: bool,
    time_left: &dyn Fn() -> Option<f64>,
    out_of_time: &dyn Fn(usize) -> Error,
) -> Result<Option<program::StageResult>, Error> {
    loop {
        let settings = Settings {
            time_limit_s: time_left(),
            ..settings
        };
        let result = match program.minimise_if_feasible(objective, settings, false)? {
            Some(result) => result,
            None if may_fail => return Ok(None),
            None => return Err(infeasible()),
        };
        let violated = overfilled_by(
            instance,
            prepared,
            city,
            active,
            &result.values,
            Take::Every,
        );
        if violated.is_empty() {
            return Ok(Some(result));
        }
        if result.status == program::StageStatus::TimeLimit || time_left().is_some_and(|t| t <= 0.0)
        {
            return Err(out_of_time(violated.len()));
        }
        trace(|| {
            format!(
                "  neighbourhoods: {} in the model, {} more overfilled by the MIP",
                active.count(),
                violated.len()
            )
        });
        add_rows(instance, prepared, city, program, active, violated);
    }
}
