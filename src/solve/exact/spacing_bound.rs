//! A lower bound on stage evenness under the spacing rule, by Lagrangian relaxation of the
//! spacing balls.
//!
//! Where the spacing rule binds across a whole large city, the city without spacing is a
//! weak bound (the tight 200k grid: 82.6 % below the best plan), and the LP with the balls is
//! too large to finish within a minute. Pricing each ball instead (a multiplier λ_b ≥ 0 per
//! place above its room) leaves a problem that falls apart by district: a site's place costs
//! π_s = Σ_{b ∋ s} λ_b, so a district's best X new places are its X cheapest, and its term
//! |e_d + X − t_d| + (their cost) is convex in the whole number X. The N places then go,
//! cheapest marginal first, to the districts (within their site room and share cap). Whole
//! places per district matter: as fractions the bound falls far below the city's without
//! spacing (a 30 × 30 tight grid: 99 against 206, whole 257; the 200k tight grid: 5,758
//! fractional, 6,181 whole in the rounds of a 60 s run, against 2,332; the LP with every
//! ball is 6,202 there). For every λ ≥ 0 that value minus Σ_b λ_b · room_b is a lower
//! bound on evenness (rules other than site room, share cap and spacing only raise the
//! optimum); the multipliers follow the balls' overfill (subgradient steps, deflected,
//! towards the best known plan's value).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::model::{Instance, Plan};
use crate::solve::model::greedy;
use crate::solve::model::prepare::Prepared;

/// The best lower bound on stage evenness found before `deadline` for plans that place
/// between `placed.0` and `placed.1` new places (the shortfall stage's optimum, the demand),
/// keep every site's room, the share caps and every spacing ball;
/// `upper` is the evenness of a plan that keeps every rule (it steers the steps). Stops
/// early when `stop` is set. `None` when the relaxation cannot place `placed.0` places.
pub fn evenness_bound(
    prepared: &Prepared,
    placed: (u64, u64),
    upper: f64,
    deadline: Instant,
    stop: &AtomicBool,
) -> Option<f64> {
    priced_rounds(prepared, placed, upper, deadline, stop, |_| None)
}

/// A plan that keeps every rule, from the rounds' average: the fair fill with each site's
/// places at most its average rounded up. Tight 200k grid: evenness 9,518 where the fair
/// fill alone gives 13,406 (bound 5,758; the average scaled by 0.8 leaves places unplaced,
/// by 1.2 or 1.5 gives 9,994 and 10,467).
pub(crate) fn averaged_plan(instance: &Instance, prepared: &Prepared, mean: &[f64]) -> Plan {
    let most: Vec<u32> = mean
        .iter()
        .map(|&m| (m - 1e-9).ceil().max(0.0) as u32)
        .collect();
    greedy::fair_fill(instance, &prepared.with_room_at_most(&most))
}

/// The rounds of `evenness_bound`, in passes: a pass ends when its steps have become too
/// small to raise the bound, and then `on_pass` gets each site's places averaged over the
/// pass (close to a plan of the LP with every ball, which the balls fit: each round's plan
/// overfills the balls priced too low and leaves those priced too high empty) and may
/// return the evenness of a better plan made from it, which the next pass steers towards.
/// Without one, and at the deadline, the rounds end (`on_pass` is then called a last time
/// unless `stop` is set).
pub(crate) fn priced_rounds(
    prepared: &Prepared,
    placed: (u64, u64),
    mut upper: f64,
    deadline: Instant,
    stop: &AtomicBool,
    mut on_pass: impl FnMut(&[f64]) -> Option<f64>,
) -> Option<f64> {
    let sites = prepared.site_room.len();
    let districts = prepared.target.len();
    // The sites of each district that may take places; those outside every district last.
    let mut sites_of: Vec<Vec<u32>> = vec![Vec::new(); districts + 1];
    for (s, &room) in prepared.site_room.iter().enumerate() {
        if room > 0 {
            let d = prepared.site_district[s].map_or(districts, |d| d as usize);
            sites_of[d].push(s as u32);
        }
    }
    // Balls that can overfill at all, and each site's balls among them.
    let balls: Vec<usize> = prepared
        .spacing
        .iter()
        .enumerate()
        .filter(|(_, ball)| {
            let room: u64 = ball
                .members
                .iter()
                .map(|&s| u64::from(prepared.site_room[s as usize]))
                .sum();
            room > ball.room
        })
        .map(|(b, _)| b)
        .collect();
    let mut start = vec![0usize; sites + 1];
    for &b in &balls {
        for &s in &prepared.spacing[b].members {
            start[s as usize + 1] += 1;
        }
    }
    for s in 0..sites {
        start[s + 1] += start[s];
    }
    let mut ball_of = vec![0u32; start[sites]];
    let mut next = start.clone();
    for (i, &b) in balls.iter().enumerate() {
        for &s in &prepared.spacing[b].members {
            ball_of[next[s as usize]] = i as u32;
            next[s as usize] += 1;
        }
    }
    let rooms: Vec<f64> = balls
        .iter()
        .map(|&b| prepared.spacing[b].room as f64)
        .collect();
    let at_zero: f64 = (0..districts)
        .map(|d| (prepared.district_existing[d] - prepared.target[d]).abs())
        .sum();

    let mut lambda = vec![0.0f64; balls.len()];
    let mut direction = vec![0.0f64; balls.len()];
    let mut price = vec![0.0f64; sites];
    let mut taken = vec![0.0f64; sites];
    let mut load = vec![0.0f64; balls.len()];
    let mut mean = vec![0.0f64; sites];
    // (marginal change of the bound, places, site)
    let mut pieces: Vec<(f64, f64, u32)> = Vec::with_capacity(sites + districts);
    let mut best: Option<f64> = None;
    // Step sizes: halved after `PATIENCE` rounds without a better bound. Tight 200k grid
    // under 60 s, the first pass (until the steps are below 10⁻⁴), plain subgradients: 30
    // reach 6,124 after 2,637 rounds (20 s), 60 6,164 after 3,750 (28 s), 100 6,176 after
    // 6,700 (50 s, which leaves the windows 4 s of the minute); deflected (below): 30 reach
    // 6,181 after about 1,700 rounds, 60 6,190 after about 2,800, which leaves the windows
    // less time (plan 6,511 against 6,487). The LP with every ball, which the rounds
    // approach, is 6,202 there (HiGHS's interior point method, 255 s).
    const PATIENCE: usize = 30;
    let mut theta = 2.0;
    let mut since_better = 0;
    let mut iterations = 0;
    let mut in_pass = 0;
    let mut averaged = false;
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        if theta <= 1e-4 {
            averaged = true;
            match on_pass(&mean) {
                Some(better) if better < upper - 1e-9 * upper.abs().max(1.0) => {
                    upper = better;
                    theta = 2.0;
                    since_better = 0;
                    in_pass = 0;
                    averaged = false;
                }
                _ => break,
            }
        }
        iterations += 1;
        in_pass += 1;
        for s in 0..sites {
            price[s] = ball_of[start[s]..start[s + 1]]
                .iter()
                .map(|&b| lambda[b as usize])
                .sum();
        }
        pieces.clear();
        for (d, list) in sites_of.iter_mut().enumerate() {
            list.sort_unstable_by(|&a, &b| price[a as usize].total_cmp(&price[b as usize]));
            let (kink, cap) = if d < districts {
                (
                    prepared.target[d] - prepared.district_existing[d],
                    prepared.share_room[d].map_or(f64::INFINITY, |r| r as f64),
                )
            } else {
                (f64::NEG_INFINITY, f64::INFINITY)
            };
            let mut filled = 0.0;
            for &s in list.iter() {
                let room = f64::from(prepared.site_room[s as usize]).min(cap - filled);
                if room <= 0.0 {
                    break;
                }
                let p = price[s as usize];
                if d == districts {
                    pieces.push((p, room, s));
                    filled += room;
                    continue;
                }
                // Whole places: those that stay below the share lower |a − t| by 1, the one
                // that crosses it by 2·frac − 1, the rest raise it by 1.
                let short = kink - filled;
                if short >= room {
                    pieces.push((p - 1.0, room, s));
                } else if short <= 0.0 {
                    pieces.push((p + 1.0, room, s));
                } else {
                    let whole = short.floor();
                    if whole > 0.0 {
                        pieces.push((p - 1.0, whole, s));
                    }
                    pieces.push((p + 1.0 - 2.0 * (short - whole), 1.0, s));
                    if room > whole + 1.0 {
                        pieces.push((p + 1.0, room - whole - 1.0, s));
                    }
                }
                filled += room;
            }
        }
        taken.iter_mut().for_each(|t| *t = 0.0);
        let (mut value, left) = if placed.0 == placed.1 {
            // The number of places is fixed: the cheapest pieces, selected without sorting.
            let (cost, left) = take_cheapest(&mut pieces, placed.0 as f64, &mut taken);
            (at_zero + cost, left)
        } else {
            pieces.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            // The least number of places, then more while they lower the value.
            let mut left = placed.0 as f64;
            let mut more = placed.1.saturating_sub(placed.0) as f64;
            let mut value = at_zero;
            for &(slope, width, s) in &pieces {
                if left <= 0.0 {
                    if slope >= 0.0 || more <= 0.0 {
                        break;
                    }
                    left = width.min(more);
                    more -= left;
                }
                let take = width.min(left);
                value += slope * take;
                taken[s as usize] += take;
                left -= take;
            }
            (value, left)
        };
        if left > 1e-9 {
            return None;
        }
        let share = 1.0 / in_pass as f64;
        for (m, &t) in mean.iter_mut().zip(&taken) {
            *m += share * (t - *m);
        }
        load.iter_mut().for_each(|l| *l = 0.0);
        for s in 0..sites {
            if taken[s] > 0.0 {
                for &b in &ball_of[start[s]..start[s + 1]] {
                    load[b as usize] += taken[s];
                }
            }
        }
        let mut norm = 0.0;
        for (b, l) in load.iter_mut().enumerate() {
            value -= lambda[b] * rooms[b];
            *l -= rooms[b];
            // The subgradient of a multiplier at 0 that would only fall is 0.
            if lambda[b] <= 0.0 && *l <= 0.0 {
                *l = 0.0;
            }
            norm += *l * *l;
        }
        if best.is_none_or(|b| value > b + 1e-9 * b.abs().max(1.0)) {
            best = Some(value);
            since_better = 0;
        } else {
            since_better += 1;
            if since_better >= PATIENCE {
                theta /= 2.0;
                since_better = 0;
            }
        }
        let target = upper.max(value + 1e-6 * value.abs().max(1.0));
        if norm <= 0.0 || upper - value <= 1e-6 * upper.abs().max(1.0) {
            break;
        }
        // The step follows the subgradient deflected by the last direction where the two
        // point against each other (Camerini, Fratta and Maffioli, γ = 1.5), which damps
        // the zigzag between balls (tight 200k grid, 60 s: 6,181 after 1,767 rounds instead
        // of 6,124 after 2,637).
        let (mut against, mut length) = (0.0, 0.0);
        for (l, d) in load.iter().zip(&direction) {
            against += l * d;
            length += d * d;
        }
        let beta = if against < 0.0 && length > 0.0 {
            -1.5 * against / length
        } else {
            0.0
        };
        let mut norm = 0.0;
        for (d, l) in direction.iter_mut().zip(&load) {
            *d = l + beta * *d;
            norm += *d * *d;
        }
        if norm <= 0.0 {
            break;
        }
        let step = theta * (target - value) / norm;
        for (b, d) in direction.iter().enumerate() {
            lambda[b] = (lambda[b] + step * d).max(0.0);
        }
    }
    if !averaged && in_pass > 0 && !stop.load(Ordering::Relaxed) {
        on_pass(&mean);
    }
    crate::solve::trace::trace(|| {
        format!(
            "spacing bound: {:?} after {iterations} rounds over {} balls (a plan at {upper})",
            best,
            balls.len()
        )
    });
    best
}

/// Takes `amount` places from the cheapest `pieces` (slope, width, site), adding them to
/// `taken`: the sum of slope × places taken, and the places no piece had room for. A
/// weighted quickselect (each step halves the pieces left): sorting the 200,000 pieces of
/// the tight grid took a quarter of a round's time (7.5 ms a round sorted, 5.6 selected).
fn take_cheapest(pieces: &mut [(f64, f64, u32)], mut amount: f64, taken: &mut [f64]) -> (f64, f64) {
    let cheaper =
        |a: &(f64, f64, u32), b: &(f64, f64, u32)| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2));
    let mut value = 0.0;
    let mut rest = pieces;
    let mut take = |(slope, width, s): (f64, f64, u32), amount: &mut f64| {
        let part = width.min(*amount);
        value += slope * part;
        taken[s as usize] += part;
        *amount -= part;
    };
    while amount > 0.0 && !rest.is_empty() {
        if rest.len() <= 32 {
            rest.sort_unstable_by(cheaper);
            for &piece in rest.iter() {
                if amount <= 0.0 {
                    break;
                }
                take(piece, &mut amount);
            }
            break;
        }
        let middle = rest.len() / 2;
        rest.select_nth_unstable_by(middle, cheaper);
        let (low, high) = rest.split_at_mut(middle);
        let width: f64 = low.iter().map(|p| p.1).sum();
        if width >= amount {
            rest = low;
        } else {
            for &piece in low.iter() {
                take(piece, &mut amount);
            }
            rest = high;
        }
    }
    (value, amount.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::take_cheapest;
    use crate::generate::rng::Rng;

    /// The selection takes what taking the pieces cheapest first, sorted by slope and site,
    /// takes: the same value, the same places per site, the same places left over (random
    /// pieces with ties, whole and fractional widths, amounts from none to more than all).
    #[test]
    fn the_cheapest_pieces_are_selected_as_a_sort_would_take_them() {
        let mut rng = Rng::new(7);
        for case in 0..500 {
            let count = rng.int(0, 300) as usize;
            let sites = 50;
            let mut pieces: Vec<(f64, f64, u32)> = (0..count)
                .map(|_| {
                    let slope = (rng.int(0, 40) as f64 - 20.0) / 4.0;
                    let width = if rng.unit() < 0.2 {
                        rng.unit()
                    } else {
                        rng.int(1, 9) as f64
                    };
                    (slope, width, rng.int(0, sites - 1) as u32)
                })
                .collect();
            let total: f64 = pieces.iter().map(|p| p.1).sum();
            let amount = (rng.unit() * 1.2 * total).floor();
            let mut sorted = pieces.clone();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
            let (mut value, mut left) = (0.0, amount);
            let mut expected = vec![0.0; sites as usize];
            for &(slope, width, s) in &sorted {
                let part = width.min(left);
                value += slope * part;
                expected[s as usize] += part;
                left -= part;
            }
            let mut taken = vec![0.0; sites as usize];
            let (got, over) = take_cheapest(&mut pieces, amount, &mut taken);
            assert!(
                (got - value).abs() < 1e-9,
                "case {case}: {got} against {value}"
            );
            assert!(
                (over - left.max(0.0)).abs() < 1e-9,
                "case {case}: {over} left against {left}"
            );
            // Pieces of one slope and site are interchangeable: the places per site agree.
            for (t, e) in taken.iter().zip(&expected) {
                assert!(
                    (t - e).abs() < 1e-9,
                    "case {case}: {taken:?} against {expected:?}"
                );
            }
        }
    }
}
