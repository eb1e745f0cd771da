//! The program of the districts' totals (`nested_master`): its columns per district and
//! level, the held stages' rows, the balls and schools that entered, and the way from
//! plans to its columns (a start for HiGHS) and back.

use std::collections::BTreeSet;

use super::groups::{Coupling, Group, Kinds};
use crate::model::{Plan, Stage};
use crate::solve::model::level_ranges::LevelRanges;
use crate::solve::model::prepare::Prepared;
use crate::solve::model::values::fair_term;
use crate::solve::program::sparse::{Col, Program};

/// The held stages: per stage, each level's most (`allowed`, own optimum and tolerance)
/// and the weighted sum's most.
pub(super) struct Held {
    pub(super) allowed: Vec<(Stage, Vec<f64>)>,
    pub(super) sums: Vec<(Stage, f64)>,
}

/// How a district's places at one level are held in the program: places per site with a
/// minimum below their room (integer, with a column of being open), and per group the
/// places on its sites without a minimum (integer) and, per size of its whole sites, how
/// many are open (integer).
#[derive(Default)]
struct DistrictColumns {
    sites: Vec<(u32, Col, Col)>,
    groups: Vec<GroupColumns>,
}

#[derive(Default)]
struct GroupColumns {
    open: Option<Col>,
    /// The increments of `open`: (column, room), the cheapest first.
    increments: Vec<(Col, u64)>,
    whole: Vec<Col>,
    /// Per size, the increments of its count (one column per site that fits).
    whole_increments: Vec<Vec<Col>>,
    /// The group's new places as terms.
    terms: Vec<(Col, f64)>,
}

/// A held stage's weighted sum over the levels: its terms and constant.
type WeightedSum = (Stage, Vec<(Col, f64)>, f64);

pub(super) struct Built {
    pub(super) program: Program,
    pub(super) objective: Vec<(Col, f64)>,
    /// Per level, per district.
    held: Vec<Vec<DistrictColumns>>,
    /// Per level, per district: its new places as terms.
    places: Vec<Vec<Vec<(Col, f64)>>>,
    /// The held stages' columns: (column, stage, level, district; none for worst).
    stage_columns: Vec<(Col, Stage, usize, Option<usize>)>,
}

impl Built {
    pub(super) fn new(weights: &[f64], kinds: &[Kinds], ranges: &[LevelRanges]) -> Built {
        let mut built = Built {
            program: Program::default(),
            objective: Vec::new(),
            held: Vec::with_capacity(weights.len()),
            places: Vec::with_capacity(weights.len()),
            stage_columns: Vec::new(),
        };
        for (l, (&weight, range)) in weights.iter().zip(ranges).enumerate() {
            let previous = l.checked_sub(1).map(|p| &ranges[p]);
            let mut level_held = Vec::with_capacity(kinds.len());
            let mut level_places = Vec::with_capacity(kinds.len());
            for (d, district) in kinds.iter().enumerate() {
                let mut terms = Vec::new();
                let mut one = DistrictColumns::default();
                let program = &mut built.program;
                let before = built.held.last().map(|h| &h[d]);
                for (i, &(cost, least, room, s)) in district.least.iter().enumerate() {
                    let x = program.add_column(0.0, room as f64, true);
                    built.objective.push((x, weight * cost));
                    terms.push((x, 1.0));
                    let open = program.add_column(0.0, 1.0, true);
                    program.add_row(vec![(x, 1.0), (open, -(room as f64))], 0.0, false);
                    program.add_row(vec![(open, least as f64), (x, -1.0)], 0.0, false);
                    if let Some(&(_, bx, bopen)) = before.and_then(|b| b.sites.get(i)) {
                        program.add_row(vec![(bx, 1.0), (x, -1.0)], 0.0, false);
                        program.add_row(vec![(bopen, 1.0), (open, -1.0)], 0.0, false);
                    }
                    one.sites.push((s, x, open));
                }
                for (g, group) in district.groups.iter().enumerate() {
                    let before = before.and_then(|b| b.groups.get(g));
                    let most = range.districts[d].most;
                    // The most the district can grow by from the level before.
                    let growth = most.saturating_sub(previous.map_or(0, |p| p.districts[d].least));
                    let columns = group_columns(
                        program,
                        &mut built.objective,
                        group,
                        weight,
                        (most, growth),
                        before,
                    );
                    terms.extend(columns.terms.iter().copied());
                    one.groups.push(columns);
                }
                level_held.push(one);
                level_places.push(terms);
            }
            built.held.push(level_held);
            built.places.push(level_places);
        }
        built
    }

    /// The held stages' rows, each level's count and districts' ranges, and the balls and
    /// schools a plan broke, at every level.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn with_rows(
        mut self,
        levels: &[Prepared],
        weights: &[f64],
        ranges: &[LevelRanges],
        stages: &Held,
        scales: &[f64],
        kinds: &[Kinds],
        rows: &BTreeSet<Coupling>,
    ) -> Built {
        let Built {
            program,
            stage_columns,
            places,
            ..
        } = &mut self;
        let tolerance = |sum: f64| 1e-6 * sum.abs().max(1.0);
        // Per stage, the weighted sum's terms and constant.
        let mut sums: Vec<WeightedSum> = Vec::new();
        for (l, (level, range)) in levels.iter().zip(ranges).enumerate() {
            let places = &places[l];
            let mut count = Vec::new();
            for (d, terms) in places.iter().enumerate() {
                let r = &range.districts[d];
                if !terms.is_empty() {
                    program.add_row(terms.clone(), r.most as f64, false);
                    if r.least > 0 {
                        program.add_row(negated(terms), -(r.least as f64), false);
                    }
                }
                count.extend(terms.iter().copied());
            }
            program.add_row(count, range.placed as f64, true);
            for (stage, allowed) in &stages.allowed {
                let Some((terms, constant)) =
                    stage_terms(program, stage_columns, (*stage, l), level, range, places)
                else {
                    continue;
                };
                program.add_row(terms.clone(), allowed[l] - constant, false);
                let k = weights[l] * scales[l];
                let weighted = terms.iter().map(|&(col, v)| (col, v * k));
                match sums.iter_mut().find(|(s, _, _)| s == stage) {
                    Some((_, all, c)) => {
                        all.extend(weighted);
                        *c += k * constant;
                    }
                    None => sums.push((*stage, weighted.collect(), k * constant)),
                }
            }
        }
        for (stage, terms, constant) in sums {
            if let Some(&(_, sum)) = stages.sums.iter().find(|(s, _)| *s == stage) {
                program.add_row(terms, sum + tolerance(sum) - constant, false);
            }
        }
        // Each ball and school that entered, at every level: the groups in it, and the
        // sites with a minimum below their room.
        for (l, level) in levels.iter().enumerate() {
            for &row in rows {
                let (room, inside): (Option<u64>, Box<dyn Fn(u32) -> bool>) = match row {
                    Coupling::Ball(b) => {
                        let ball = &level.spacing[b];
                        let members = &ball.members;
                        (
                            Some(ball.room),
                            Box::new(move |s| members.binary_search(&s).is_ok()),
                        )
                    }
                    Coupling::School(f) => (
                        level.seat_room[f],
                        Box::new(move |s| level.seat_facility[s as usize] == Some(f as u32)),
                    ),
                };
                let Some(room) = room else { continue };
                let mut terms = Vec::new();
                for (held, district) in self.held[l].iter().zip(kinds) {
                    for (columns, group) in held.groups.iter().zip(&district.groups) {
                        if group.rows.contains(&row) {
                            terms.extend(columns.terms.iter().copied());
                        }
                    }
                    for &(s, x, _) in &held.sites {
                        if inside(s) {
                            terms.push((x, 1.0));
                        }
                    }
                }
                self.program.add_row(terms, room as f64, false);
            }
        }
        self
    }

    /// The program's columns for nested plans `plans` (one per level) that keep every
    /// rule: a plan of the program to start HiGHS's search from.
    pub(super) fn start(&self, levels: &[Prepared], kinds: &[Kinds], plans: &[Plan]) -> Vec<f64> {
        let mut values = vec![0.0; self.program.columns.len()];
        let mut totals: Vec<Vec<f64>> = Vec::with_capacity(levels.len());
        for ((held, plan), level) in self.held.iter().zip(plans).zip(levels) {
            let mut level_totals = level.district_existing.clone();
            for (s, &x) in plan.places.iter().enumerate() {
                if let Some(d) = level.site_district[s] {
                    level_totals[d as usize] += f64::from(x);
                }
            }
            totals.push(level_totals);
            for (one, district) in held.iter().zip(kinds) {
                for &(s, x, open) in &one.sites {
                    let places = f64::from(plan.places[s as usize]);
                    values[x] = places;
                    values[open] = if places > 0.0 { 1.0 } else { 0.0 };
                }
                for (columns, group) in one.groups.iter().zip(&district.groups) {
                    let on_open: u64 = group
                        .open
                        .iter()
                        .map(|&(_, _, s)| u64::from(plan.places[s as usize]))
                        .sum();
                    if let Some(r) = columns.open {
                        values[r] = on_open as f64;
                    }
                    let mut left = on_open;
                    for &(y, room) in &columns.increments {
                        let take = left.min(room);
                        values[y] = take as f64;
                        left -= take;
                    }
                    for ((&k, increments), (size, sites)) in columns
                        .whole
                        .iter()
                        .zip(&columns.whole_increments)
                        .zip(&group.whole)
                    {
                        let open = sites
                            .iter()
                            .filter(|&&(_, s)| u64::from(plan.places[s as usize]) >= *size)
                            .count();
                        values[k] = open as f64;
                        for &z in increments.iter().take(open) {
                            values[z] = 1.0;
                        }
                    }
                }
            }
        }
        for &(c, stage, l, d) in &self.stage_columns {
            let (level, totals) = (&levels[l], &totals[l]);
            let deviation = |d: usize| (totals[d] - level.target[d]).abs();
            values[c] = match (stage, d) {
                (Stage::Fair, Some(d)) => fair_term(totals[d], level.target[d]),
                (_, Some(d)) => deviation(d),
                (_, None) => (0..totals.len()).map(deviation).fold(0.0, f64::max),
            };
        }
        values
    }

    /// Each level's plan from the program's values: the sites with a minimum below their
    /// room as they are, each group's cheapest sites of each kind for its places.
    pub(super) fn plans(&self, kinds: &[Kinds], values: &[f64], sites: usize) -> Vec<Plan> {
        let whole = |c: Col| values[c].round().max(0.0) as u64;
        self.held
            .iter()
            .map(|level| {
                let mut plan = Plan::empty(sites);
                for (held, district) in level.iter().zip(kinds) {
                    for &(s, x, _) in &held.sites {
                        plan.places[s as usize] = whole(x) as u32;
                    }
                    for (columns, group) in held.groups.iter().zip(&district.groups) {
                        let mut left = columns.open.map_or(0, whole);
                        for &(_, room, s) in &group.open {
                            let x = left.min(room);
                            plan.places[s as usize] = x as u32;
                            left -= x;
                        }
                        for (&k, (size, sites)) in columns.whole.iter().zip(&group.whole) {
                            for &(_, s) in sites.iter().take(whole(k) as usize) {
                                plan.places[s as usize] = *size as u32;
                            }
                        }
                    }
                }
                plan
            })
            .collect()
    }
}

/// A held stage's value at one level as terms over new columns and a constant (the
/// districts without columns); `None` for a stage that does not count districts' places.
fn stage_terms(
    program: &mut Program,
    columns: &mut Vec<(Col, Stage, usize, Option<usize>)>,
    (stage, l): (Stage, usize),
    level: &Prepared,
    range: &LevelRanges,
    places: &[Vec<(Col, f64)>],
) -> Option<(Vec<(Col, f64)>, f64)> {
    let mut terms = Vec::new();
    let mut constant = 0.0;
    let worst = match stage {
        Stage::Evenness | Stage::Fair => None,
        Stage::Worst => Some(program.add_column(0.0, f64::INFINITY, false)),
        _ => return None,
    };
    if let Some(w) = worst {
        columns.push((w, stage, l, None));
    }
    for (d, district_terms) in places.iter().enumerate() {
        let (e, t) = (level.district_existing[d], level.target[d]);
        let r = &range.districts[d];
        if district_terms.is_empty() {
            match worst {
                Some(w) => {
                    let lower = &mut program.columns[w].lower;
                    *lower = lower.max((e - t).abs());
                }
                None if stage == Stage::Evenness => constant += (e - t).abs(),
                None => constant += fair_term(e, t),
            }
            continue;
        }
        if stage == Stage::Fair {
            // f ≥ φ(n) + (φ(n + 1) − φ(n)) · (new − n) for each n in the district's range:
            // exact at whole places, φ being convex.
            let phi = |n: u64| fair_term(e + n as f64, t);
            let f = program.add_column(0.0, f64::INFINITY, false);
            program.columns[f].lower = phi(r.most).min(phi(r.least));
            columns.push((f, stage, l, Some(d)));
            for n in r.least..r.most {
                let slope = phi(n + 1) - phi(n);
                if slope == 0.0 {
                    // At or above the share from n on: φ is 0 there, the column's bound.
                    break;
                }
                let mut row: Vec<(Col, f64)> = district_terms
                    .iter()
                    .map(|&(c, v)| (c, v * slope))
                    .collect();
                row.push((f, -1.0));
                program.add_row(row, slope * n as f64 - phi(n), false);
            }
            terms.push((f, 1.0));
            continue;
        }
        // |e + new − t| ≤ u (evenness, per district) or ≤ w (worst, one column).
        let u = worst.unwrap_or_else(|| {
            let u = program.add_column(0.0, f64::INFINITY, false);
            columns.push((u, stage, l, Some(d)));
            u
        });
        let mut up = district_terms.clone();
        up.push((u, -1.0));
        program.add_row(up, t - e, false);
        let mut down = negated(district_terms);
        down.push((u, -1.0));
        program.add_row(down, e - t, false);
        if worst.is_none() {
            terms.push((u, 1.0));
        }
    }
    if let Some(w) = worst {
        terms.push((w, 1.0));
    }
    Some((terms, constant))
}

/// A group's columns at one level (places on its sites without a minimum, its whole sites
/// open per size), their cost by increments (the cheapest first, the cost being convex;
/// sites of equal cost in one, and only as many as the district's `most` places can
/// reach), nested on `before`. A whole site takes its size at once: where the district
/// can grow by less than that since the level before (`growth`), no more open (a rounded
/// row, without which the relaxation opens a fraction of a row house at each level).
fn group_columns(
    program: &mut Program,
    objective: &mut Vec<(Col, f64)>,
    group: &Group,
    weight: f64,
    (most, growth): (u64, u64),
    before: Option<&GroupColumns>,
) -> GroupColumns {
    let mut columns = GroupColumns::default();
    if !group.open.is_empty() {
        // (cost, room) increments, up to `most` places.
        let mut increments: Vec<(f64, u64)> = Vec::new();
        let mut room = 0;
        for &(cost, site_room, _) in &group.open {
            if room >= most {
                break;
            }
            match increments.last_mut() {
                Some(last) if last.0 == cost => last.1 += site_room,
                _ => increments.push((cost, site_room)),
            }
            room += site_room;
        }
        let r = program.add_column(0.0, room.min(most) as f64, true);
        let mut row = vec![(r, 1.0)];
        for (cost, room) in increments {
            let y = program.add_column(0.0, room as f64, false);
            objective.push((y, weight * cost));
            row.push((y, -1.0));
            columns.increments.push((y, room));
        }
        program.add_row(row, 0.0, true);
        columns.terms.push((r, 1.0));
        if let Some(b) = before.and_then(|b| b.open) {
            program.add_row(vec![(b, 1.0), (r, -1.0)], 0.0, false);
        }
        columns.open = Some(r);
    }
    for (i, (size, sites)) in group.whole.iter().enumerate() {
        let fit = sites.len().min((most / size) as usize);
        let k = program.add_column(0.0, fit as f64, true);
        let mut row = vec![(k, 1.0)];
        let mut increments = Vec::with_capacity(fit);
        for &(cost, _) in &sites[..fit] {
            let z = program.add_column(0.0, 1.0, false);
            objective.push((z, weight * cost * *size as f64));
            row.push((z, -1.0));
            increments.push(z);
        }
        columns.whole_increments.push(increments);
        program.add_row(row, 0.0, true);
        columns.terms.push((k, *size as f64));
        if let Some(&b) = before.and_then(|b| b.whole.get(i)) {
            program.add_row(vec![(b, 1.0), (k, -1.0)], 0.0, false);
            program.add_row(vec![(k, 1.0), (b, -1.0)], (growth / size) as f64, false);
        }
        columns.whole.push(k);
    }
    columns
}

fn negated(terms: &[(Col, f64)]) -> Vec<(Col, f64)> {
    terms.iter().map(|&(c, v)| (c, -v)).collect()
}
