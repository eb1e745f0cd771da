//! The rows of the neighbourhoods a plan overfills, put into the program round by round:
//! which neighbourhoods the column values overfill (`overfilled_by`, the spread ones checked
//! against each level's spread column, the most overfilled first) and their rows
//! (`add_rows`).

use std::collections::HashSet;

use super::city::CityProgram;
use super::neighbourhoods::{overfilled, thinned, SpacingRows};
use super::sparse::{Col, Program, Row};
use crate::model::Instance;
use crate::solve::model::prepare::Prepared;

/// Neighbourhoods a set of values overfills: spacing balls (indices) and spread
/// neighbourhoods (level, centre).
#[derive(Default)]
pub(crate) struct Overfilled {
    pub(crate) spacing: Vec<usize>,
    pub(crate) spread: Vec<(usize, usize)>,
}

impl Overfilled {
    pub(crate) fn is_empty(&self) -> bool {
        self.spacing.is_empty() && self.spread.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.spacing.len() + self.spread.len()
    }
}

/// Most spread neighbourhoods added in one round.
const SPREAD_PER_ROUND: usize = 4_000;

/// How many of the overfilled spread neighbourhoods a round puts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Take {
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
pub(crate) fn overfilled_by(
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
pub(crate) fn ball_row(prepared: &Prepared, city: &CityProgram, ball: usize) -> Row {
    let limit = &prepared.spacing[ball];
    let last = city.last_level();
    Row {
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
pub(crate) fn add_rows(
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
        let members =
            prepared
                .spread_balls(instance)
                .members(instance, &prepared.site_room, centre);
        if !active.spread_sets.insert((l, members.clone())) {
            continue; // the same sites are in the model already
        }
        let mut terms: Vec<(Col, f64)> = members
            .iter()
            .filter_map(|&s| city.site_column(s as usize, l))
            .map(|c| (c, 1.0))
            .collect();
        terms.push((z, -1.0));
        program.rows.push(Row {
            terms,
            upper: 0.0,
            equal: false,
        });
    }
}
