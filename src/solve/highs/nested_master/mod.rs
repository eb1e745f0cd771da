//! The cost stage of nested plans (demand levels) solved on the districts' totals: a small
//! MIP whose columns are each district's places per level, split by kind of site, with the
//! spacing balls and schools' seats entering only where a plan breaks them.
//!
//! Where every level is held at its own optima in the stages that count districts' places
//! (evenness, fair, worst; `levels::solve_levels`), what is left to decide is cost, and
//! within a district the cheapest nested sites for given places per level are known: the
//! sites without a minimum fill cheapest first (a convex cost in their places, nested as
//! places grow), and so do sites taken whole of one size (row houses, 10 or none: the
//! cheapest k of them, nested as k grows). So the program needs, per district and level,
//! only the places on each kind, never falling from level to level: on the demo city with
//! 50 levels 15,575 columns (3,400 of them integer, the rest the cost increments) instead
//! of 185,004 site columns. Sites with a minimum
//! below their room keep columns of their own. Where the plan overfills a spacing ball or
//! a school's seats, that ball or school enters as rows, and each district's sites are
//! grouped by the rows they are in (sites in the same rows are alike but for cost, so
//! within a group the cheapest still fill first); then the program is solved again (at
//! most `ROUNDS` times per call; the levels' route calls it twice, before and after the
//! nested plans).
//!
//! The held stages enter as in the program of all levels: each level's value at most its
//! own optimum plus the stage's tolerance, the weighted sum at most the held sum plus the
//! tolerance, and each district's places in the ranges those values leave
//! (`level_ranges`). Without the balls and seats not yet in it, the program is a
//! relaxation of the cost stage: its optimum is a bound, and a plan of it that keeps every
//! rule is optimal.

use std::collections::BTreeSet;
use std::time::Instant;

use crate::model::{Instance, Plan, Stage};
use crate::solve::model::level_ranges::{pinned_ranges, LevelRanges};
use crate::solve::model::nested_cost::held_values;
use crate::solve::model::prepare::Prepared;
use crate::solve::model::solution::Solution;
use crate::solve::model::values::{level_scales, weighted_stage_values};
use crate::solve::program::neighbourhoods::violated_spacing;
use crate::solve::program::sparse::{Settings, StageStatus};
use crate::solve::trace::trace;

mod groups;
mod program;
use groups::{district_kinds, Coupling};
use program::{Built, Held};

/// Solves of the program at most, each with the balls and schools the plan before broke.
pub(crate) const ROUNDS: usize = 8;

/// The program of the districts' totals with what it has learnt: the balls and schools
/// that entered, and the best bound proven so far.
pub(crate) struct Master<'a> {
    instance: &'a Instance,
    levels: &'a [Prepared],
    weights: &'a [f64],
    held: Held,
    scales: Vec<f64>,
    ranges: Vec<LevelRanges>,
    rows: BTreeSet<Coupling>,
    /// No nested plan at the held values costs less (where finite).
    pub(crate) bound: f64,
}

impl<'a> Master<'a> {
    /// The program for levels held at their own optima (`alone`) in the stages `before`
    /// (those that count districts' places, before cost); `None` for other stages.
    pub(crate) fn for_levels(
        instance: &'a Instance,
        levels: &'a [Prepared],
        weights: &'a [f64],
        alone: &[Solution],
        before: &[Stage],
    ) -> Option<Master<'a>> {
        let known = |s: &Stage| {
            matches!(
                s,
                Stage::Shortfall | Stage::Evenness | Stage::Fair | Stage::Worst
            )
        };
        if !before.iter().all(known) {
            return None;
        }
        let own_plans: Vec<Plan> = alone.iter().map(|s| s.plan.clone()).collect();
        let sums = weighted_stage_values(instance, levels, weights, &own_plans, before);
        let (own, allowed) = held_values(levels, weights, alone, &sums);
        // `None` where a level has no ranges (its places are not fixed by the held stages).
        let ranges: Vec<LevelRanges> = pinned_ranges(instance, levels, &own, &allowed)
            .into_iter()
            .collect::<Option<_>>()?;
        Some(Master {
            instance,
            levels,
            weights,
            held: Held { allowed, sums },
            scales: level_scales(levels),
            ranges,
            rows: BTreeSet::new(),
            bound: f64::NEG_INFINITY,
        })
    }

    /// Up to `rounds` more solves, within `deadline`, each MIP started from `start` where
    /// given (nested plans that keep every rule: a plan of every round). The first plans
    /// that keep every rule, with HiGHS's gap where it proved them optimal (within the
    /// scenario's `mip_gap`); `None` where the rounds or the time ran out first.
    pub(crate) fn solve(
        &mut self,
        rounds: usize,
        deadline: Option<Instant>,
        start: Option<&[Plan]>,
    ) -> Option<(Vec<Plan>, Option<f64>)> {
        let (instance, levels, weights) = (self.instance, self.levels, self.weights);
        let last = levels.last()?;
        for _ in 0..rounds {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return None;
            }
            let kinds = district_kinds(instance, last, &self.rows);
            let mut built = Built::new(weights, &kinds, &self.ranges).with_rows(
                levels,
                weights,
                &self.ranges,
                &self.held,
                &self.scales,
                &kinds,
                &self.rows,
            );
            if let Some(plans) = start {
                built.program.start = Some(built.start(levels, &kinds, plans));
            }
            // The time left once the program is built.
            let settings = Settings {
                time_limit_s: deadline
                    .map(|d| d.saturating_duration_since(Instant::now()).as_secs_f64()),
                mip_gap: instance.solver.mip_gap,
                threads: instance.solver.threads,
            };
            let timer = Instant::now();
            let result = built
                .program
                .minimise_with(&built.objective, settings, false, false)
                .ok()?;
            let scale = result.objective.abs().max(1.0);
            self.bound = self.bound.max(result.objective - result.mip_gap * scale);
            let plans = built.plans(&kinds, &result.values, instance.sites.len());
            let broken = broken_rules(levels, &plans);
            trace(|| {
                format!(
                    "levels: districts' totals program: {} columns, {} rows in, cost {:.6} (bound {:.6}) in {:.2} s; {} balls and {} schools broken",
                    built.program.columns.len(),
                    self.rows.len(),
                    result.objective,
                    self.bound,
                    timer.elapsed().as_secs_f64(),
                    broken.0.len(),
                    broken.1.len()
                )
            });
            if broken.0.is_empty() && broken.1.is_empty() {
                let optimal = result.status == StageStatus::Optimal;
                return Some((plans, optimal.then_some(result.mip_gap)));
            }
            if result.status != StageStatus::Optimal {
                return None;
            }
            self.rows
                .extend(broken.0.iter().map(|&b| Coupling::Ball(b)));
            self.rows
                .extend(broken.1.iter().map(|&f| Coupling::School(f)));
        }
        None
    }
}

/// The spacing balls and schools some level's plan overfills.
fn broken_rules(levels: &[Prepared], plans: &[Plan]) -> (Vec<usize>, Vec<usize>) {
    let mut balls = BTreeSet::new();
    let mut schools = BTreeSet::new();
    for (level, plan) in levels.iter().zip(plans) {
        balls.extend(violated_spacing(level, &[], plan));
        let mut served = vec![0u64; level.seat_room.len()];
        for (s, facility) in level.seat_facility.iter().enumerate() {
            if let Some(f) = facility {
                served[*f as usize] += u64::from(plan.places[s]);
            }
        }
        for (f, (&load, room)) in served.iter().zip(&level.seat_room).enumerate() {
            if room.is_some_and(|room| load > room) {
                schools.insert(f);
            }
        }
    }
    (balls.into_iter().collect(), schools.into_iter().collect())
}
