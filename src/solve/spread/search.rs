//! A plan for stage spread by moving places, for when the LP's optimum rounds badly.
//!
//! The LP bound of the spread stage, rounded up, is a whole number no plan can beat. Its
//! rounded optimum often misses it by far where sites take all or nothing (row houses): the
//! LP spreads fractions of a house over many sites. This search starts from a plan that
//! keeps every rule and the earlier stages' optima (the plan of the stage before), and
//! moves places out of the most loaded neighbourhood, one place or one whole site at a
//! time, to sites nearby whose neighbourhoods stay below that load, as long as every rule
//! and every earlier stage's bound still holds. When the largest load reaches the bound, the plan is
//! optimal for the stage; the caller checks it against the program's rows once more.

use std::time::{Duration, Instant};

use super::lookups::{Lookups, Meeting};
use super::start::spread_start;
use super::state::{Bounds, State};
use crate::generate::rng::Rng;
use crate::model::Plan;
use crate::solve::trace::trace;

/// Most moves tried before giving up (each moves at least one place).
const MOST_MOVES: usize = 200_000;
/// Destinations looked at per move, nearest first.
const CANDIDATES: usize = 400;
/// Most moves that let other neighbourhoods reach the largest load.
const SIDEWAYS: usize = 2_000;

/// A plan whose largest spread load is at most `target`, found by moving places from
/// `start` (which keeps every rule and `bounds`), or the least loaded plan the moves
/// reached; with its largest load.
pub(crate) fn spread_within(
    lookups: &Lookups,
    start: &Plan,
    target: i64,
    bounds: &Bounds,
    deadline: Option<Instant>,
) -> (Plan, i64) {
    let (instance, prepared, balls) = (lookups.instance, lookups.prepared, lookups.balls);
    let mut state = State::new(lookups, start, bounds);
    let first = state.fill.load.iter().copied().max().unwrap_or(0);
    let mut sideways_left = SIDEWAYS;
    let mut left_recently: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    for moves in 0..MOST_MOVES {
        // The most loaded neighbourhood.
        let Some((centre, &most)) = state
            .fill
            .load
            .iter()
            .enumerate()
            .max_by_key(|&(c, &l)| (l, std::cmp::Reverse(c)))
        else {
            return (state.fill.plan, 0);
        };
        if most <= target {
            return (state.fill.plan, most);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            trace(|| {
                format!(
                    "  moving places: the time set for it ran out at {most} after {moves} moves"
                )
            });
            return (state.fill.plan, most);
        }
        // Sites in it with places, the fullest first.
        let centre_site = balls.centre(centre) as usize;
        let mut sources: Vec<usize> = balls
            .members(instance, &prepared.site_room, centre)
            .into_iter()
            .map(|s| s as usize)
            .filter(|&s| state.fill.plan.places[s] > 0)
            .collect();
        sources.sort_by_key(|&s| std::cmp::Reverse(state.fill.plan.places[s]));
        let mut moved = false;
        // First moves that keep every load below the largest; failing that, moves that let
        // others reach it (the largest stays, but one neighbourhood less is at it), never
        // back to a site places just left.
        'passes: for sideways in [false, true] {
            if sideways && sideways_left == 0 {
                break;
            }
            for &a in &sources {
                let xa = state.fill.plan.places[a];
                // One place, or the whole site where a part cannot go (all or nothing).
                let mut sizes = vec![1];
                if xa > 1 {
                    sizes.push(xa);
                }
                let from = instance.sites[centre_site].position;
                let outside = |b: usize| {
                    let q = instance.sites[b].position;
                    (q[0] - from[0]).hypot(q[1] - from[1]) > balls.metres
                };
                for &k in &sizes {
                    let candidates = balls
                        .sites_nearest(from)
                        .map(|b| b as usize)
                        .filter(|&b| prepared.site_room[b] > 0 && outside(b))
                        .filter(|b| !sideways || !left_recently.contains(b))
                        .take(CANDIDATES);
                    for b in candidates {
                        if !state.allowed(a, b, k) {
                            continue;
                        }
                        let fits = state
                            .fill
                            .loads_after_move(a, b, k)
                            .all(|after| after < most || (sideways && after == most));
                        if fits {
                            state.apply(a, b, k);
                            if sideways {
                                sideways_left -= 1;
                                left_recently.push_back(a);
                                if left_recently.len() > 50 {
                                    left_recently.pop_front();
                                }
                            }
                            moved = true;
                            break 'passes;
                        }
                    }
                }
            }
        }
        if !moved {
            // The most loaded neighbourhood cannot give a place away.
            trace(|| {
                format!(
                    "  moving places: the largest load went from {first} to {most} in {moves} moves, the bound is {target}"
                )
            });
            return (state.fill.plan, most);
        }
    }
    let most = state.fill.load.iter().copied().max().unwrap_or(0);
    (state.fill.plan, most)
}

/// Candidate destinations the penalty search looks at per move.
const BREAKOUT_CANDIDATES: usize = 48;
/// Moves per usable site after which the penalty search gives a level up.
const BREAKOUT_MOVES_PER_SITE: usize = 200;
/// Moves in a row without progress after which the overfilled neighbourhoods gain weight.
const BREAKOUT_PATIENCE: usize = 200;

/// A plan whose largest spread load is as low as the bound `meeting` knows, by a penalty search
/// ("breakout"), from `start` (which keeps every rule and `bounds`). Every rule and bound
/// stays hard, as in `spread_within`; only the neighbourhoods above a level L are allowed,
/// at a penalty: their weight times their places above L. A move takes one place (or a
/// whole site where a part cannot go) from a random site of a random neighbourhood above L
/// to the candidate that adds the least penalty: sites near it and sites anywhere. Moves
/// that lower the penalty are made, and some that keep it; when moves stall, the
/// neighbourhoods still above L gain weight, so the search leaves the spot it is stuck
/// in. When none is above L, the plan is kept (and told to `meeting`) and L falls by one,
/// down to the bound `meeting` knows. Returns the least loaded plan kept and its largest
/// load.
pub(super) fn spread_breakout(
    lookups: &Lookups,
    start: &Plan,
    meeting: &Meeting,
    bounds: &Bounds,
    deadline: Option<Instant>,
) -> (Plan, i64) {
    let (instance, prepared) = (lookups.instance, lookups.prepared);
    let (around, members) = (|s: usize| lookups.around(s), |c: usize| lookups.members(c));
    let began = Instant::now();
    let spread = spread_start(lookups, start, bounds, deadline);
    trace(|| match &spread {
        Some((_, most)) => format!(
            "  penalty search: starts at {most} from a plan spread out ({:.2} s)",
            began.elapsed().as_secs_f64()
        ),
        None => "  penalty search: starts at the plan it was given".to_string(),
    });
    let start = spread.as_ref().map_or(start, |(plan, _)| plan);
    let mut state = State::new(lookups, start, bounds);
    let first = state.fill.load.iter().copied().max().unwrap_or(0);
    meeting.lower_plan(first);
    let usable: Vec<usize> = (0..instance.sites.len())
        .filter(|&s| prepared.site_room[s] > 0 && prepared.site_district[s].is_some())
        .collect();
    if usable.is_empty() || meeting.met() {
        return (start.clone(), first);
    }
    let mut rng = Rng::new(0x5EED_5B2E);
    let pick = |rng: &mut Rng, n: usize| rng.int(0, n as u64 - 1) as usize;
    let count = state.fill.load.len();
    let mut weight = vec![1i64; count];
    let mut mark = vec![0u64; count];
    let mut epoch = 0u64;
    let mut position = vec![usize::MAX; count];
    let mut best = (start.clone(), first);
    let mut moves = 0u64;
    let mut level = first - 1;
    // A level not reached after this many moves is given up (small cities end at once).
    let most_level_moves = (BREAKOUT_MOVES_PER_SITE * usable.len()).max(20_000);
    'levels: while level >= meeting.bound() {
        let mut over: Vec<usize> = (0..count).filter(|&c| state.fill.load[c] > level).collect();
        position.iter_mut().for_each(|p| *p = usize::MAX);
        for (i, &c) in over.iter().enumerate() {
            position[c] = i;
        }
        weight.iter_mut().for_each(|w| *w = 1);
        let mut stalled = 0usize;
        let mut level_moves = 0usize;
        while !over.is_empty() {
            moves += 1;
            level_moves += 1;
            if level_moves > most_level_moves
                || (moves % 64 == 0
                    && (deadline.is_some_and(|d| Instant::now() >= d) || level < meeting.bound()))
            {
                break 'levels;
            }
            let c = over[pick(&mut rng, over.len())];
            let list = members(c);
            let offset = pick(&mut rng, list.len().max(1));
            let Some(a) = (0..list.len())
                .map(|i| list[(offset + i) % list.len()] as usize)
                .find(|&s| state.fill.plan.places[s] > 0)
            else {
                continue;
            };
            let xa = state.fill.plan.places[a];
            let k = if xa == 1 || xa > instance.sites[a].min_places {
                1
            } else {
                xa
            };
            let around_a = around(a);
            epoch += 1;
            for &b in around_a {
                mark[b as usize] = epoch;
            }
            let excess = |l: i64| (l - level).max(0);
            let k64 = i64::from(k);
            let relief: i64 = around_a
                .iter()
                .map(|&b| {
                    let b = b as usize;
                    weight[b] * (excess(state.fill.load[b] - k64) - excess(state.fill.load[b]))
                })
                .sum();
            let mut chosen: Option<(usize, i64)> = None;
            let mut ties = 0u64;
            for q in 0..BREAKOUT_CANDIDATES {
                let j = if q % 2 == 1 {
                    usable[pick(&mut rng, usable.len())]
                } else {
                    // A site of a neighbourhood around a, or one step further.
                    let mut from = a;
                    let mut j = a;
                    for _ in 0..(1 + usize::from(q % 4 == 2)) {
                        let near = around(from);
                        if near.is_empty() {
                            break;
                        }
                        let ball = near[pick(&mut rng, near.len())];
                        let list = members(ball as usize);
                        if list.is_empty() {
                            break;
                        }
                        j = list[pick(&mut rng, list.len())] as usize;
                        from = j;
                    }
                    j
                };
                if j == a {
                    continue;
                }
                let mut added = 0i64;
                for &b in around(j) {
                    let b = b as usize;
                    let l = state.fill.load[b] - if mark[b] == epoch { k64 } else { 0 };
                    added += weight[b] * (excess(l + k64) - excess(l));
                    if chosen.is_some_and(|(_, d)| added + relief > d) {
                        break;
                    }
                }
                let delta = added + relief;
                // The rules are checked only for a candidate that would be chosen.
                if chosen.is_some_and(|(_, d)| delta > d) || !state.allowed(a, j, k) {
                    continue;
                }
                match chosen {
                    Some((_, d)) if delta > d => {}
                    Some((_, d)) if delta == d => {
                        ties += 1;
                        if pick(&mut rng, ties as usize + 1) == 0 {
                            chosen = Some((j, delta));
                        }
                    }
                    _ => {
                        ties = 0;
                        chosen = Some((j, delta));
                    }
                }
            }
            let accept = chosen.filter(|&(_, d)| d < 0 || (d == 0 && rng.unit() < 0.3));
            match accept {
                Some((j, delta)) => {
                    state.apply(a, j, k);
                    for &b in around_a.iter().chain(around(j)) {
                        let b = b as usize;
                        let is_over = state.fill.load[b] > level;
                        if is_over && position[b] == usize::MAX {
                            position[b] = over.len();
                            over.push(b);
                        } else if !is_over && position[b] != usize::MAX {
                            let i = position[b];
                            let last = *over.last().expect("b is in it");
                            over.swap_remove(i);
                            if last != b {
                                position[last] = i;
                            }
                            position[b] = usize::MAX;
                        }
                    }
                    stalled = if delta < 0 { 0 } else { stalled + 1 };
                }
                None => stalled += 1,
            }
            if stalled >= BREAKOUT_PATIENCE {
                for &b in &over {
                    weight[b] += 1;
                }
                stalled = 0;
            }
        }
        let most = state.fill.load.iter().copied().max().unwrap_or(0);
        trace(|| {
            format!(
                "  penalty search: {most} after {moves} moves ({:.2} s)",
                began.elapsed().as_secs_f64()
            )
        });
        best = (state.fill.plan.clone(), most);
        meeting.lower_plan(most);
        level = most - 1;
    }
    trace(|| {
        format!(
            "  penalty search: the largest load went from {first} to {} in {moves} moves, the bound is {}",
            best.1,
            meeting.bound()
        )
    });
    best
}

/// Most seconds the penalty search may spend on the spread stage after the LP
/// (`breakout_to_bound`) before the MIP decides.
const BREAKOUT_SECONDS: f64 = 3.0;

/// The penalty search (`spread_breakout`) from the plan the greedy moves
/// left, down to the LP's bound if it can: on cities of a few thousand sites with
/// all-or-nothing sites it reaches the bound in a second or two, where the MIP that would
/// otherwise decide it takes up to minutes. It runs for at most `BREAKOUT_SECONDS` (or half
/// the time left); returns the less loaded of the two plans.
pub(crate) fn breakout_to_bound(
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
