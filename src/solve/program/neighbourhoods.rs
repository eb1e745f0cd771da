//! Neighbourhoods that enter the program only when a plan would overfill them: spacing balls
//! (a ball is overfilled when its places exceed its room) and the neighbourhoods of stage
//! spread (when their new places exceed the level's spread column). `SpacingRows` says which
//! are in the model and which sites get a column of their own; the city's program is built
//! from it. Also here: which balls a plan overfills, and which to put in first, thinned out
//! where a dense core would add thousands of nearly equal rows.

use std::collections::{HashMap, HashSet};

use crate::model::{Instance, Plan, Stage};
use crate::solve::model::prepare::Prepared;

/// The neighbourhoods in the model, and the sites that get a column of their own.
#[derive(Clone)]
pub(crate) struct SpacingRows {
    /// Spacing balls in the model (indices into `Prepared::spacing`), rows of the last level.
    pub(crate) rows: Vec<usize>,
    pub(crate) in_model: Vec<bool>,
    pub(crate) in_spacing: Vec<bool>,
    /// At most this many new places per district (see `solve_within_evenness_bounds`).
    pub(crate) most_new: Option<Vec<u64>>,
    /// Every usable site gets a column of its own (the spread stage needs them).
    pub(crate) own_columns: bool,
    /// The reference model (`solve_mip`): every stage as docs/model.md writes it, no
    /// shortcut from the relaxation (stage fair by its segments).
    pub(crate) reference: bool,
    /// Spread neighbourhoods in the model, per level: their centres, and their sets of
    /// sites (two centres with the same sites give the same row).
    pub(crate) spread: Vec<HashSet<usize>>,
    pub(super) spread_sets: HashSet<(usize, Vec<u32>)>,
    /// Spread neighbourhoods to put in when the spread stage begins, per level.
    pub(crate) spread_first: Vec<Vec<usize>>,
    /// The spread stage has begun: from then on, plans keep its neighbourhoods.
    pub(crate) spread_on: bool,
    /// `spread_first` holds every spread neighbourhood (the full model).
    pub(crate) spread_complete: bool,
    /// The spread stage's LP optimum was fractional: its neighbourhoods are tight, and
    /// every MIP from then on gets all of them at once (`put_in_every_spread_neighbourhood`).
    pub(crate) spread_tight: bool,
}

impl SpacingRows {
    pub(crate) fn none(instance: &Instance) -> SpacingRows {
        SpacingRows {
            rows: Vec::new(),
            in_model: Vec::new(),
            in_spacing: vec![false; instance.sites.len()],
            most_new: None,
            own_columns: false,
            reference: false,
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
    pub(crate) fn lazy(instance: &Instance, prepared: &Prepared) -> SpacingRows {
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

    pub(crate) fn add(&mut self, balls: Vec<usize>) {
        for ball in balls {
            self.in_model[ball] = true;
            self.rows.push(ball);
        }
    }

    /// Neighbourhoods in the model, spacing and spread together.
    pub(crate) fn count(&self) -> usize {
        self.rows.len() + self.spread.iter().map(HashSet::len).sum::<usize>()
    }
}

/// Spacing balls not in the model whose limit the plan exceeds.
pub(crate) fn violated_spacing(prepared: &Prepared, in_model: &[bool], plan: &Plan) -> Vec<usize> {
    overfilled(prepared, in_model, |s| f64::from(plan.places[s as usize]))
}

/// Spacing balls not in the model whose sites hold more than their room, with
/// `places_at(site)` new places (possibly fractional, from an LP) at each site.
pub(crate) fn overfilled(
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
pub(crate) fn thinned(positions: &[[f64; 2]], metres: f64) -> Vec<usize> {
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
pub(crate) fn spread_out(
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
pub(crate) fn first_spread(instance: &Instance, prepared: &Prepared, plan: &Plan) -> Vec<usize> {
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
