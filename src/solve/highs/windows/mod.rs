//! A better plan for stage evenness where the spacing rule binds across a whole city centre,
//! by windows: a few dozen neighbouring districts at a time, with every other site's places
//! held, get the places of the window's LP optimum rounded to whole places.
//!
//! The city's program is too large for HiGHS there (the tight 200k grid: its LP rounds run
//! for minutes), but the LP of a window of 1,000 sites solves in a few tenths of a second,
//! and the spacing balls only tie sites closer than their radius. Evenness is
//! Σ_d |a_d − t_d|, so a window may take more places than it holds when districts elsewhere
//! give them up: a district a whole place above its share lowers the sum by 1 for each,
//! one a fraction f > ½ above it by 2f − 1 for its last. A window never takes fewer.
//!
//! The rounding keeps every rule (site room, share caps, seats, minimum occupancy, every
//! ball with the places outside the window counted): the LP's places rounded down keep
//! them, then places go back one by one where they fit. It is kept only where evenness
//! falls, so the plan keeps every rule after each window.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::model::{Instance, Plan};
use crate::solve::model::greedy::{usable_sites_by_district, Greedy};
use crate::solve::model::prepare::Prepared;
use crate::solve::trace::trace;

#[cfg(test)]
mod tests;
mod window;

/// How the windows are solved: their sizes in usable sites, in turn from sweep to sweep (so
/// that the windows' edges move), and whether by their LP rounded or by their MIP.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Search {
    sizes: [usize; 2],
    whole: bool,
    /// HiGHS's time for one window at most (seconds).
    limit_s: f64,
    /// The search ends when two sweeps in a row lower evenness by less than this share.
    enough: f64,
}

/// Tight 200k grid, 60 s: windows of 1,000 and 400 sites in turn reach evenness 6,617; 400
/// alone 6,678, 1,000 alone 6,660; windows of 1,000 sites take 0.2–0.4 s each, of 400
/// 0.05–0.08 s.
pub(crate) const BY_LP: Search = Search {
    sizes: [1_000, 400],
    whole: false,
    limit_s: 2.0,
    enough: 0.005,
};
/// Where the LP's roundings find little more (two sweeps less than 0.5 % together), small
/// windows by their MIP (tight 200k grid: 150 sites, 0.36 s each, 21 places less in
/// evenness in 12 s where rounding windows found 2).
pub(crate) const BY_MIP: Search = Search {
    sizes: [150, 150],
    whole: true,
    limit_s: 0.5,
    enough: 1e-9,
};
/// Roundings of each window's LP (the first in the order of the fractions, the others with
/// that order shuffled a little); the best is kept. One: 6,722 where eight give 6,677.
const ROUNDINGS: usize = 8;

/// The plan with evenness lowered window by window, each window solved `how`
/// (`BY_LP`: by its LP rounded to whole places; `BY_MIP`: small windows by their MIP, for
/// the time left once the roundings find little more), until two sweeps in a row over
/// every district below its share lower it by less than `how.enough`, `deadline` comes or
/// `stop` is set. `plan` keeps every rule and so does the result, with as many places.
pub(crate) fn improve_by_windows(
    instance: &Instance,
    prepared: &Prepared,
    plan: Plan,
    deadline: Instant,
    stop: &AtomicBool,
    how: Search,
) -> Plan {
    let mut city = Windows::new(instance, prepared, plan);
    let out_of_time = || stop.load(Ordering::Relaxed) || Instant::now() >= deadline;
    let begun = Instant::now();
    let mut last_gain = f64::INFINITY;
    for sweep in 0.. {
        let before = city.evenness();
        let mut seeds: Vec<(f64, usize)> = (0..city.districts())
            .filter(|&d| city.deviation(d) < -1e-9 && !city.sites_of[d].is_empty())
            .map(|d| (-city.deviation(d), d))
            .collect();
        seeds.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut covered = vec![false; city.districts()];
        let mut windows = 0;
        for (_, seed) in seeds {
            if out_of_time() {
                break;
            }
            if covered[seed] {
                continue;
            }
            let window = city.window_around(seed, how.sizes[sweep % 2]);
            for &d in &window {
                covered[d] = true;
            }
            windows += 1;
            city.solve_window(&window, deadline, how);
        }
        let after = city.evenness();
        trace(|| {
            format!(
                "windows ({}): sweep {}, {windows} windows, evenness {before} → {after} ({:.1} s)",
                if how.whole { "MIP" } else { "LP" },
                sweep + 1,
                begun.elapsed().as_secs_f64()
            )
        });
        let gain = before - after;
        if out_of_time() || last_gain + gain <= how.enough * before.max(1.0) {
            break;
        }
        last_gain = gain;
    }
    city.plan
}

/// The plan being improved, with what it leaves in every ball, seat and district.
struct Windows<'a> {
    instance: &'a Instance,
    prepared: &'a Prepared,
    plan: Plan,
    /// The usable sites of each district.
    sites_of: Vec<Vec<u32>>,
    /// The balls around each site.
    balls: Greedy<'a>,
    /// Districts that share a ball.
    neighbours: Vec<Vec<u32>>,
    /// New places in each ball, each facility's seats, each district.
    ball_load: Vec<u64>,
    seat_load: Vec<u64>,
    new: Vec<u64>,
}

impl<'a> Windows<'a> {
    fn new(instance: &'a Instance, prepared: &'a Prepared, plan: Plan) -> Windows<'a> {
        let districts = prepared.target.len();
        let sites_of = usable_sites_by_district(prepared);
        let mut neighbours: Vec<Vec<u32>> = vec![Vec::new(); districts];
        let mut ball_load = vec![0u64; prepared.spacing.len()];
        for (b, ball) in prepared.spacing.iter().enumerate() {
            let mut touched: Vec<u32> = Vec::new();
            for &s in &ball.members {
                ball_load[b] += u64::from(plan.places[s as usize]);
                touched.extend(prepared.site_district[s as usize]);
            }
            touched.sort_unstable();
            touched.dedup();
            for &d in &touched {
                neighbours[d as usize].extend(touched.iter().filter(|&&e| e != d));
            }
        }
        for list in &mut neighbours {
            list.sort_unstable();
            list.dedup();
        }
        let mut seat_load = vec![0u64; prepared.seat_room.len()];
        let mut new = vec![0u64; districts];
        for (s, &places) in plan.places.iter().enumerate() {
            if let Some(load) =
                prepared.seat_facility[s].and_then(|f| seat_load.get_mut(f as usize))
            {
                *load += u64::from(places);
            }
            if let Some(d) = prepared.site_district[s] {
                new[d as usize] += u64::from(places);
            }
        }
        Windows {
            instance,
            prepared,
            plan,
            sites_of,
            balls: Greedy::new(instance, prepared),
            neighbours,
            ball_load,
            seat_load,
            new,
        }
    }

    fn districts(&self) -> usize {
        self.new.len()
    }

    /// a_d − t_d.
    fn deviation(&self, d: usize) -> f64 {
        self.prepared.district_existing[d] + self.new[d] as f64 - self.prepared.target[d]
    }

    fn evenness(&self) -> f64 {
        (0..self.districts()).map(|d| self.deviation(d).abs()).sum()
    }

    /// Places site s may give up and keep its minimum occupancy.
    fn removable_at(&self, s: usize) -> u64 {
        let places = u64::from(self.plan.places[s]);
        match self.instance.sites[s].min_places {
            0 | 1 => places,
            least => places.saturating_sub(u64::from(least)),
        }
    }

    /// The places districts outside the window can give up that lower evenness, each with
    /// how much, the most first: 1 for each whole place a district is above its share, then
    /// 2f − 1 for the last where the fraction f above it is more than a half. Taken in this
    /// order they lower evenness by exactly the sum of the first ones.
    fn donors(&self, in_window: &[bool]) -> Vec<(f64, u32)> {
        let mut donors = Vec::new();
        for d in (0..self.districts()).filter(|&d| !in_window[d]) {
            let above = self.deviation(d);
            if above <= 0.5 {
                continue;
            }
            let removable: u64 = self.sites_of[d]
                .iter()
                .map(|&s| self.removable_at(s as usize))
                .sum();
            let whole = (above.floor() as u64).min(removable);
            donors.extend(std::iter::repeat_n((1.0, d as u32), whole as usize));
            let last = 2.0 * above.fract() - 1.0;
            if removable > whole && whole == above.floor() as u64 && last > 1e-9 {
                donors.push((last, d as u32));
            }
        }
        donors.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        donors
    }

    /// The districts around `seed`, breadth first over districts that share a ball, until
    /// they hold `most` usable sites.
    fn window_around(&self, seed: usize, most: usize) -> Vec<usize> {
        let mut window = vec![seed];
        let mut seen = HashSet::from([seed]);
        let mut sites = self.sites_of[seed].len();
        let mut at = 0;
        while at < window.len() && sites < most {
            for &e in &self.neighbours[window[at]] {
                let e = e as usize;
                if sites >= most {
                    break;
                }
                if seen.insert(e) {
                    window.push(e);
                    sites += self.sites_of[e].len();
                }
            }
            at += 1;
        }
        window
    }

    /// New places site s in district d may still take (its room, share cap, seats and
    /// balls), the room of its fullest ball, and how many it must take at least.
    fn room_at(&self, s: usize, d: usize) -> (u64, u64, u64) {
        let prepared = self.prepared;
        let wanted = match self.plan.places[s] {
            0 => u64::from(self.instance.sites[s].min_places).max(1),
            _ => 1,
        };
        let slack = self.ball_slack(s);
        let seats = prepared.seat_facility[s]
            .and_then(|f| {
                let f = f as usize;
                let room = prepared.seat_room.get(f).copied().flatten()?;
                Some(room - self.seat_load[f])
            })
            .unwrap_or(u64::MAX);
        let share = prepared.share_room[d].map_or(u64::MAX, |r| r.saturating_sub(self.new[d]));
        let room = u64::from(prepared.site_room[s] - self.plan.places[s])
            .min(share)
            .min(seats)
            .min(slack);
        (room, slack, wanted)
    }

    /// The room left in site s's fullest ball.
    fn ball_slack(&self, s: usize) -> u64 {
        self.balls
            .balls_of(s)
            .iter()
            .map(|&b| self.prepared.spacing[b as usize].room - self.ball_load[b as usize])
            .min()
            .unwrap_or(u64::MAX)
    }
    /// Sets site s's places, keeping the loads.
    fn set(&mut self, s: usize, places: u32) {
        let before = self.plan.places[s];
        if before == places {
            return;
        }
        let (up, down) = (
            u64::from(places.saturating_sub(before)),
            u64::from(before.saturating_sub(places)),
        );
        let change = |load: &mut u64| *load = *load + up - down;
        for &b in self.balls.balls_of(s) {
            change(&mut self.ball_load[b as usize]);
        }
        let seat = self.prepared.seat_facility[s];
        if let Some(load) = seat.and_then(|f| self.seat_load.get_mut(f as usize)) {
            change(load);
        }
        if let Some(d) = self.prepared.site_district[s] {
            change(&mut self.new[d as usize]);
        }
        self.plan.places[s] = places;
    }

    /// Takes a place from district d, at its site whose fullest ball has least room left.
    fn take_one(&mut self, d: usize) {
        let site = self.sites_of[d]
            .iter()
            .map(|&s| s as usize)
            .filter(|&s| self.removable_at(s) > 0)
            .min_by_key(|&s| (self.ball_slack(s), s));
        if let Some(s) = site {
            self.set(s, self.plan.places[s] - 1);
        }
    }
}
