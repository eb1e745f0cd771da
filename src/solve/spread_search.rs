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

use std::sync::OnceLock;
use std::time::Instant;

use super::prepare::Prepared;
use super::spread::SpreadBalls;
use crate::generate::rng::Rng;
use crate::model::{Instance, Plan, Stage};

/// The earlier stages' bounds the moves must keep: (stage, largest value allowed).
pub(super) type Bounds = Vec<(Stage, f64)>;

/// Each site's neighbourhoods and each neighbourhood's sites, looked up once: the searches
/// come back to the same sites again and again.
struct Lookups<'a> {
    instance: &'a Instance,
    prepared: &'a Prepared,
    balls: &'a SpreadBalls,
    around: Vec<OnceLock<Vec<u32>>>,
    members: Vec<OnceLock<Vec<u32>>>,
}

impl<'a> Lookups<'a> {
    fn new(instance: &'a Instance, prepared: &'a Prepared) -> Lookups<'a> {
        let balls = prepared.spread_balls(instance);
        Lookups {
            instance,
            prepared,
            balls,
            around: (0..instance.sites.len()).map(|_| OnceLock::new()).collect(),
            members: (0..balls.len()).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The neighbourhoods site s counts in (ascending).
    fn around(&self, s: usize) -> &[u32] {
        self.around[s].get_or_init(|| {
            let mut list: Vec<u32> = self
                .balls
                .around(self.instance, s)
                .into_iter()
                .map(|c| c as u32)
                .collect();
            list.sort_unstable();
            list
        })
    }

    /// Looks up the neighbourhoods of every site that may take places, on all cores, unless
    /// they would take more than `MOST_LOOKED_UP` entries (then they are looked up when
    /// first needed).
    fn look_up_all(&self) {
        use rayon::prelude::*;
        let usable: Vec<usize> = (0..self.instance.sites.len())
            .filter(|&s| self.prepared.site_room[s] > 0)
            .collect();
        let step = (usable.len() / 256).max(1);
        let sampled: Vec<usize> = usable
            .iter()
            .step_by(step)
            .map(|&s| self.around(s).len())
            .collect();
        let mean = sampled.iter().sum::<usize>() as f64 / sampled.len().max(1) as f64;
        if mean * usable.len() as f64 <= MOST_LOOKED_UP as f64 {
            usable.par_iter().for_each(|&s| {
                self.around(s);
            });
        }
    }

    /// The sites of neighbourhood c that may take new places (ascending).
    fn members(&self, c: usize) -> &[u32] {
        // The sites within the radius of the centre are the centres of the neighbourhoods
        // the centre counts in; a site that may take places is a centre.
        self.members[c].get_or_init(|| {
            let mut list: Vec<u32> = self
                .around(self.balls.centre(c) as usize)
                .iter()
                .map(|&b| self.balls.centre(b as usize))
                .filter(|&s| self.prepared.site_room[s as usize] > 0)
                .collect();
            list.sort_unstable();
            list
        })
    }
}

/// Most entries (4 bytes each) of the neighbourhood lists looked up ahead.
const MOST_LOOKED_UP: usize = 150_000_000;

/// Most moves tried before giving up (each moves at least one place).
const MOST_MOVES: usize = 200_000;
/// Destinations looked at per move, nearest first.
const CANDIDATES: usize = 400;
/// Most moves that let other neighbourhoods reach the largest load.
const SIDEWAYS: usize = 2_000;

/// The plan state the moves change, with everything they must keep.
struct State<'a> {
    instance: &'a Instance,
    prepared: &'a Prepared,
    plan: Plan,
    /// New places per district.
    new: Vec<f64>,
    /// Places in each spacing ball (its limit is `room`).
    ball_load: Vec<u64>,
    /// Spacing balls containing each site.
    balls_of: Vec<Vec<u32>>,
    seat_load: Vec<u64>,
    /// Spread load of each neighbourhood.
    load: Vec<i64>,
    bounds: &'a Bounds,
    access: f64,
    cost: f64,
    /// Σ_d |a_d − t_d|.
    evenness: f64,
}

impl<'a> State<'a> {
    fn new(
        instance: &'a Instance,
        prepared: &'a Prepared,
        plan: &Plan,
        bounds: &'a Bounds,
    ) -> State<'a> {
        let balls = prepared.spread_balls(instance);
        let mut new = vec![0.0; instance.districts.len()];
        let mut seat_load = vec![0u64; prepared.seat_room.len()];
        for (s, &x) in plan.places.iter().enumerate() {
            if let Some(d) = prepared.site_district[s] {
                new[d as usize] += f64::from(x);
            }
            if let Some(f) = prepared.seat_facility[s] {
                if let Some(load) = seat_load.get_mut(f as usize) {
                    *load += u64::from(x);
                }
            }
        }
        let mut balls_of = vec![Vec::new(); instance.sites.len()];
        let mut ball_load = vec![0u64; prepared.spacing.len()];
        for (b, ball) in prepared.spacing.iter().enumerate() {
            for &m in &ball.members {
                balls_of[m as usize].push(b as u32);
                ball_load[b] += u64::from(plan.places[m as usize]);
            }
        }
        let load = balls
            .plan_loads(instance, plan)
            .into_iter()
            .map(|l| l.round() as i64)
            .collect();
        let access = plan
            .places
            .iter()
            .zip(prepared.access_distance.iter())
            .map(|(&x, &d)| f64::from(x) * d)
            .sum();
        let cost = plan
            .places
            .iter()
            .zip(&instance.sites)
            .map(|(&x, s)| f64::from(x) * s.cost.unwrap_or(0.0))
            .sum();
        let evenness = new
            .iter()
            .enumerate()
            .map(|(d, &n)| (prepared.district_existing[d] + n - prepared.target[d]).abs())
            .sum();
        State {
            evenness,
            instance,
            prepared,
            plan: plan.clone(),
            new,
            ball_load,
            balls_of,
            seat_load,
            load,
            bounds,
            access,
            cost,
        }
    }

    fn deviation(&self, d: usize, new: f64) -> f64 {
        let p = self.prepared;
        (p.district_existing[d] + new - p.target[d]).abs()
    }

    /// The evenness sum and the larger deviation of the two districts after moving k
    /// places from district `from` to `to`. (The other districts keep theirs, which already
    /// keep the worst stage's bound.)
    fn deviations_after(&self, from: usize, to: usize, k: f64) -> (f64, f64) {
        let (old_from, old_to) = (
            self.deviation(from, self.new[from]),
            self.deviation(to, self.new[to]),
        );
        let (new_from, new_to) = (
            self.deviation(from, self.new[from] - k),
            self.deviation(to, self.new[to] + k),
        );
        (
            self.evenness - old_from - old_to + new_from + new_to,
            new_from.max(new_to),
        )
    }

    /// Whether moving `k` places from site a to site b keeps every rule and bound (the
    /// spread loads aside).
    fn allowed(&self, a: usize, b: usize, k: u32) -> bool {
        let (p, inst) = (self.prepared, self.instance);
        let (xa, xb) = (self.plan.places[a], self.plan.places[b]);
        if a == b || xa < k || u64::from(xb) + u64::from(k) > u64::from(p.site_room[b]) {
            return false;
        }
        let left = xa - k;
        if left > 0 && left < inst.sites[a].min_places {
            return false;
        }
        if xb + k < inst.sites[b].min_places {
            return false;
        }
        let (Some(da), Some(db)) = (p.site_district[a], p.site_district[b]) else {
            return false;
        };
        let (da, db) = (da as usize, db as usize);
        if da != db {
            if let Some(room) = p.share_room[db] {
                if self.new[db] + f64::from(k) > room as f64 + 1e-9 {
                    return false;
                }
            }
        }
        // Spacing balls that hold b but not a gain k places.
        for &ball in &self.balls_of[b] {
            if self.balls_of[a].binary_search(&ball).is_err()
                && self.ball_load[ball as usize] + u64::from(k) > p.spacing[ball as usize].room
            {
                return false;
            }
        }
        if let (Some(fb), fa) = (p.seat_facility[b], p.seat_facility[a]) {
            if fa != Some(fb) {
                if let Some(Some(room)) = p.seat_room.get(fb as usize) {
                    if self.seat_load[fb as usize] + u64::from(k) > *room {
                        return false;
                    }
                }
            }
        }
        let needs_districts = self
            .bounds
            .iter()
            .any(|(s, _)| matches!(s, Stage::Evenness | Stage::Worst));
        let (evenness, worst) = if needs_districts && da != db {
            self.deviations_after(da, db, f64::from(k))
        } else {
            (f64::NEG_INFINITY, f64::NEG_INFINITY)
        };
        let k = f64::from(k);
        self.bounds.iter().all(|&(stage, upper)| match stage {
            Stage::Evenness => da == db || evenness <= upper,
            Stage::Worst => da == db || worst <= upper,
            Stage::Access => {
                let d = &p.access_distance;
                self.access + k * (d[b] - d[a]) <= upper
            }
            Stage::Cost => {
                let cost = |s: usize| inst.sites[s].cost.unwrap_or(0.0);
                self.cost + k * (cost(b) - cost(a)) <= upper
            }
            Stage::Shortfall | Stage::Spread => true,
        })
    }

    fn apply(&mut self, a: usize, b: usize, k: u32, around_a: &[u32], around_b: &[u32]) {
        let p = self.prepared;
        self.plan.places[a] -= k;
        self.plan.places[b] += k;
        if let (Some(da), Some(db)) = (p.site_district[a], p.site_district[b]) {
            let (da, db) = (da as usize, db as usize);
            if da != db {
                let (evenness, _) = self.deviations_after(da, db, f64::from(k));
                self.evenness = evenness;
            }
            self.new[da] -= f64::from(k);
            self.new[db] += f64::from(k);
        }
        for &ball in &self.balls_of[a] {
            self.ball_load[ball as usize] -= u64::from(k);
        }
        for &ball in &self.balls_of[b] {
            self.ball_load[ball as usize] += u64::from(k);
        }
        if let Some(f) = p.seat_facility[a] {
            if let Some(load) = self.seat_load.get_mut(f as usize) {
                *load -= u64::from(k);
            }
        }
        if let Some(f) = p.seat_facility[b] {
            if let Some(load) = self.seat_load.get_mut(f as usize) {
                *load += u64::from(k);
            }
        }
        for &c in around_a {
            self.load[c as usize] -= i64::from(k);
        }
        for &c in around_b {
            self.load[c as usize] += i64::from(k);
        }
        let kf = f64::from(k);
        if let Some(d) = p.access_distance.get(a) {
            self.access += kf * (p.access_distance[b] - d);
        }
        let cost = |s: usize| self.instance.sites[s].cost.unwrap_or(0.0);
        self.cost += kf * (cost(b) - cost(a));
    }
}

/// A plan whose largest spread load is at most `target`, found by moving places from
/// `start` (which keeps every rule and `bounds`), or the least loaded plan the moves
/// reached; with its largest load.
pub(super) fn spread_within(
    instance: &Instance,
    prepared: &Prepared,
    start: &Plan,
    target: i64,
    bounds: &Bounds,
    deadline: Option<Instant>,
) -> (Plan, i64) {
    let lookups = Lookups::new(instance, prepared);
    let (balls, around) = (lookups.balls, |s: usize| lookups.around(s));
    let mut state = State::new(instance, prepared, start, bounds);
    let first = state.load.iter().copied().max().unwrap_or(0);
    let mut sideways_left = SIDEWAYS;
    let mut left_recently: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    for moves in 0..MOST_MOVES {
        // The most loaded neighbourhood.
        let Some((centre, &most)) = state
            .load
            .iter()
            .enumerate()
            .max_by_key(|&(c, &l)| (l, std::cmp::Reverse(c)))
        else {
            return (state.plan, 0);
        };
        if most <= target {
            return (state.plan, most);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            super::trace(|| {
                format!(
                    "  moving places: the time set for it ran out at {most} after {moves} moves"
                )
            });
            return (state.plan, most);
        }
        // Sites in it with places, the fullest first.
        let centre_site = balls.centre(centre) as usize;
        let mut sources: Vec<usize> = balls
            .members(instance, prepared, centre)
            .into_iter()
            .map(|s| s as usize)
            .filter(|&s| state.plan.places[s] > 0)
            .collect();
        sources.sort_by_key(|&s| std::cmp::Reverse(state.plan.places[s]));
        let mut moved = false;
        // First moves that keep every load below the largest; failing that, moves that let
        // others reach it (the largest stays, but one neighbourhood less is at it), never
        // back to a site places just left.
        'passes: for sideways in [false, true] {
            if sideways && sideways_left == 0 {
                break;
            }
            for &a in &sources {
                let around_a = around(a);
                let xa = state.plan.places[a];
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
                        let around_b = around(b);
                        let fits = around_b.iter().all(|&c| {
                            let inside_a = around_a.binary_search(&c).is_ok();
                            let after = state.load[c as usize] + i64::from(k)
                                - if inside_a { i64::from(k) } else { 0 };
                            after < most || (sideways && after == most)
                        });
                        if fits {
                            state.apply(a, b, k, around_a, around_b);
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
            super::trace(|| {
                format!(
                    "  moving places: the largest load went from {first} to {most} in {moves} moves, the bound is {target}"
                )
            });
            return (state.plan, most);
        }
    }
    let most = state.load.iter().copied().max().unwrap_or(0);
    (state.plan, most)
}

/// A spread-out plan built afresh, for the penalty search to start from: the places of
/// `start` that lie in districts are taken away and placed again, one at a time (a whole
/// site's minimum where it takes all or nothing), each at the site in the whole city whose
/// neighbourhoods are least loaded after it (the largest load, then their sum), as long as
/// every rule holds and the earlier stages' bounds still can. Loads only grow, so a site's
/// last score is a lower bound of its next: a heap of scores looked at again only when they
/// come to the top gives the same choices as looking at every site each time.
///
/// Evenness is kept as a budget: placing a place in a district below its target lowers the
/// evenness sum by one, anything else lowers it less; the sum after every place is placed
/// must stay within the stage's bound, so the places may "waste" at most the bound minus
/// (the sum without new places − the places). The worst district, access and cost are
/// checked at the end. `None` when a place finds no site or a bound breaks.
fn spread_anew(lookups: &Lookups, start: &Plan, bounds: &Bounds) -> Option<Plan> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    let began = Instant::now();
    let (instance, prepared) = (lookups.instance, lookups.prepared);
    let upper = |stage: Stage| bounds.iter().find(|(s, _)| *s == stage).map(|&(_, v)| v);
    let mut plan = start.clone();
    let mut new = vec![0u64; instance.districts.len()];
    let mut left = 0u64;
    for (s, x) in plan.places.iter_mut().enumerate() {
        if prepared.site_district[s].is_some() {
            left += u64::from(*x);
            *x = 0;
        }
    }
    let deviation =
        |d: usize, n: u64| (prepared.district_existing[d] + n as f64 - prepared.target[d]).abs();
    let mut budget = match upper(Stage::Evenness) {
        Some(evenness) => {
            let without: f64 = (0..new.len()).map(|d| deviation(d, 0)).sum();
            evenness - (without - left as f64)
        }
        None => f64::INFINITY,
    };
    let mut ball_load = vec![0u64; prepared.spacing.len()];
    let mut balls_of = vec![Vec::new(); instance.sites.len()];
    for (b, ball) in prepared.spacing.iter().enumerate() {
        for &m in &ball.members {
            balls_of[m as usize].push(b as u32);
        }
    }
    let seat_of = |s: usize| prepared.seat_facility[s].map(|f| f as usize);
    let mut seat_load = vec![0u64; prepared.seat_room.len()];
    let mut load = vec![0i64; lookups.balls.len()];
    let mut heap: BinaryHeap<Reverse<(i64, i64, u32)>> = (0..instance.sites.len())
        .filter(|&s| prepared.site_room[s] > 0 && prepared.site_district[s].is_some())
        .map(|s| Reverse((0, 0, s as u32)))
        .collect();
    while left > 0 {
        let Reverse((_, _, s)) = heap.pop()?;
        let s = s as usize;
        let d = prepared.site_district[s]? as usize;
        let x = plan.places[s];
        let k = if x == 0 {
            instance.sites[s].min_places.max(1)
        } else {
            1
        };
        let waste = deviation(d, new[d] + u64::from(k)) - deviation(d, new[d]) + f64::from(k);
        let fits = u64::from(k) <= left
            && x + k <= prepared.site_room[s]
            && waste <= budget + 1e-9
            && prepared.share_room[d].is_none_or(|room| new[d] + u64::from(k) <= room)
            && balls_of[s].iter().all(|&b| {
                ball_load[b as usize] + u64::from(k) <= prepared.spacing[b as usize].room
            })
            && seat_of(s).is_none_or(|f| match prepared.seat_room.get(f) {
                Some(Some(room)) => seat_load[f] + u64::from(k) <= *room,
                _ => true,
            });
        if !fits {
            // What stops a site only grows (loads, the waste of its district, the places
            // left to place), so it leaves the heap for good.
            continue;
        }
        // The score (largest load, sum of loads) after the place; the scan stops as soon
        // as a load shows the site is no longer first, its key then a lower bound.
        let top = heap.peek().map(|&Reverse((most, sum, _))| (most, sum));
        let mut score = (0i64, 0i64);
        let mut behind = false;
        for &c in lookups.around(s) {
            let l = load[c as usize] + i64::from(k);
            score = (score.0.max(l), score.1 + l);
            if top.is_some_and(|(most, _)| score.0 > most) {
                behind = true;
                break;
            }
        }
        if behind || top.is_some_and(|top| top < score) {
            heap.push(Reverse((
                score.0,
                if behind { 0 } else { score.1 },
                s as u32,
            )));
            continue;
        }
        plan.places[s] += k;
        new[d] += u64::from(k);
        left -= u64::from(k);
        budget -= waste;
        for &b in &balls_of[s] {
            ball_load[b as usize] += u64::from(k);
        }
        if let Some(seat) = seat_of(s).and_then(|f| seat_load.get_mut(f)) {
            *seat += u64::from(k);
        }
        for &c in lookups.around(s) {
            load[c as usize] += i64::from(k);
        }
        heap.push(Reverse((score.0 + 1, score.1, s as u32)));
    }
    let total = |per_place: &dyn Fn(usize) -> f64| -> f64 {
        plan.places
            .iter()
            .enumerate()
            .map(|(s, &x)| f64::from(x) * per_place(s))
            .sum()
    };
    let keeps = bounds.iter().all(|&(stage, upper)| match stage {
        Stage::Worst => (0..new.len()).all(|d| deviation(d, new[d]) <= upper),
        Stage::Access => total(&|s| prepared.access_distance[s]) <= upper,
        Stage::Cost => total(&|s| instance.sites[s].cost.unwrap_or(0.0)) <= upper,
        Stage::Shortfall | Stage::Evenness | Stage::Spread => true,
    });
    super::trace(|| {
        format!(
            "  spread anew: keeps the bounds {keeps}, largest {}, {:?}",
            load.iter().max().unwrap_or(&0),
            began.elapsed()
        )
    });
    keeps.then_some(plan)
}

/// Sweeps of `spread_out` over the districts.
const SPREAD_OUT_SWEEPS: usize = 3;

/// A start for the penalty search that is already spread out. Each district in turn (in a
/// new order each sweep) takes its new places away and places them again, one at a time,
/// each at the site of the district whose neighbourhoods are least loaded after it (the
/// largest load, then their sum), keeping every rule; where they no longer all fit, the
/// district keeps the sites it had. The districts' numbers of new places do not change, so
/// the earlier stages' bounds on evenness and the worst district hold; those on access and
/// cost are checked at the end (`None` when one breaks).
fn spread_out(lookups: &Lookups, start: &Plan, bounds: &Bounds) -> Option<Plan> {
    let (instance, prepared) = (lookups.instance, lookups.prepared);
    let mut plan = start.clone();
    let mut sites_of: Vec<Vec<u32>> = vec![Vec::new(); instance.districts.len()];
    for (s, &room) in prepared.site_room.iter().enumerate() {
        if let (Some(d), true) = (prepared.site_district[s], room > 0) {
            sites_of[d as usize].push(s as u32);
        }
    }
    let mut ball_load = vec![0u64; prepared.spacing.len()];
    let mut balls_of = vec![Vec::new(); instance.sites.len()];
    for (b, ball) in prepared.spacing.iter().enumerate() {
        for &m in &ball.members {
            balls_of[m as usize].push(b as u32);
            ball_load[b] += u64::from(plan.places[m as usize]);
        }
    }
    let mut seat_load = vec![0u64; prepared.seat_room.len()];
    let seat_of = |s: usize| prepared.seat_facility[s].map(|f| f as usize);
    for (s, &x) in plan.places.iter().enumerate() {
        if let Some(load) = seat_of(s).and_then(|f| seat_load.get_mut(f)) {
            *load += u64::from(x);
        }
    }
    let mut load: Vec<i64> = lookups
        .balls
        .plan_loads(instance, &plan)
        .into_iter()
        .map(|l| l.round() as i64)
        .collect();
    // Adds k places at site s (k < 0 takes them away).
    let add = |plan: &mut Plan,
               ball_load: &mut Vec<u64>,
               seat_load: &mut Vec<u64>,
               load: &mut Vec<i64>,
               s: usize,
               k: i64| {
        plan.places[s] = (i64::from(plan.places[s]) + k) as u32;
        for &b in &balls_of[s] {
            ball_load[b as usize] = (ball_load[b as usize] as i64 + k) as u64;
        }
        if let Some(seat) = seat_of(s).and_then(|f| seat_load.get_mut(f)) {
            *seat = (*seat as i64 + k) as u64;
        }
        for &c in lookups.around(s) {
            load[c as usize] += k;
        }
    };
    let mut rng = Rng::new(0x5EED_0A7);
    let mut order: Vec<usize> = (0..sites_of.len())
        .filter(|&d| sites_of[d].iter().any(|&s| plan.places[s as usize] > 0))
        .collect();
    for _ in 0..SPREAD_OUT_SWEEPS {
        for i in (1..order.len()).rev() {
            order.swap(i, rng.int(0, i as u64) as usize);
        }
        for &d in &order {
            let had: Vec<(usize, u32)> = sites_of[d]
                .iter()
                .map(|&s| (s as usize, plan.places[s as usize]))
                .filter(|&(_, x)| x > 0)
                .collect();
            let mut left: u32 = had.iter().map(|&(_, x)| x).sum();
            for &(s, x) in &had {
                add(
                    &mut plan,
                    &mut ball_load,
                    &mut seat_load,
                    &mut load,
                    s,
                    -i64::from(x),
                );
            }
            while left > 0 {
                let mut chosen: Option<(usize, u32, (i64, i64))> = None;
                for &s in &sites_of[d] {
                    let s = s as usize;
                    let x = plan.places[s];
                    // One place, or a whole site's minimum where it takes all or nothing.
                    let k = if x == 0 {
                        instance.sites[s].min_places.max(1)
                    } else {
                        1
                    };
                    let fits = k <= left
                        && x + k <= prepared.site_room[s]
                        && balls_of[s].iter().all(|&b| {
                            ball_load[b as usize] + u64::from(k)
                                <= prepared.spacing[b as usize].room
                        })
                        && seat_of(s).is_none_or(|f| match prepared.seat_room.get(f) {
                            Some(Some(room)) => seat_load[f] + u64::from(k) <= *room,
                            _ => true,
                        });
                    if !fits {
                        continue;
                    }
                    let mut score = (0i64, 0i64);
                    for &c in lookups.around(s) {
                        let l = load[c as usize] + i64::from(k);
                        score = (score.0.max(l), score.1 + l);
                        if chosen.is_some_and(|(_, _, best)| score.0 > best.0) {
                            break;
                        }
                    }
                    if chosen.is_none_or(|(_, _, best)| score < best) {
                        chosen = Some((s, k, score));
                    }
                }
                let Some((s, k, _)) = chosen else {
                    break;
                };
                add(
                    &mut plan,
                    &mut ball_load,
                    &mut seat_load,
                    &mut load,
                    s,
                    i64::from(k),
                );
                left -= k;
            }
            if left > 0 {
                // They no longer all fit: the district keeps the sites it had.
                for &s in &sites_of[d] {
                    let x = plan.places[s as usize];
                    if x > 0 {
                        add(
                            &mut plan,
                            &mut ball_load,
                            &mut seat_load,
                            &mut load,
                            s as usize,
                            -i64::from(x),
                        );
                    }
                }
                for &(s, x) in &had {
                    add(
                        &mut plan,
                        &mut ball_load,
                        &mut seat_load,
                        &mut load,
                        s,
                        i64::from(x),
                    );
                }
            }
        }
    }
    let total = |per_place: &dyn Fn(usize) -> f64| -> f64 {
        plan.places
            .iter()
            .enumerate()
            .map(|(s, &x)| f64::from(x) * per_place(s))
            .sum()
    };
    let keeps = bounds.iter().all(|&(stage, upper)| match stage {
        Stage::Access => total(&|s| prepared.access_distance[s]) <= upper,
        Stage::Cost => total(&|s| instance.sites[s].cost.unwrap_or(0.0)) <= upper,
        Stage::Shortfall | Stage::Evenness | Stage::Worst | Stage::Spread => true,
    });
    super::trace(|| {
        format!(
            "  spread out: keeps the bounds {keeps}, largest {}",
            load.iter().max().unwrap_or(&0)
        )
    });
    keeps.then_some(plan)
}

/// Candidate destinations the penalty search looks at per move.
const BREAKOUT_CANDIDATES: usize = 48;
/// Moves per usable site after which the penalty search gives a level up.
const BREAKOUT_MOVES_PER_SITE: usize = 200;
/// Moves in a row without progress after which the overfilled neighbourhoods gain weight.
const BREAKOUT_PATIENCE: usize = 200;

/// A plan whose largest spread load is at most `target`, by a penalty search
/// ("breakout"), from `start` (which keeps every rule and `bounds`). Every rule and bound
/// stays hard, as in `spread_within`; only the neighbourhoods above a level L are allowed,
/// at a penalty: their weight times their places above L. A move takes one place (or a
/// whole site where a part cannot go) from a random site of a random neighbourhood above L
/// to the candidate that adds the least penalty: sites near it and sites anywhere. Moves
/// that lower the penalty are made, and some that keep it; when moves stall, the
/// neighbourhoods still above L gain weight, so the search leaves the spot it is stuck
/// in. When none is above L, the plan is kept and L falls by one. Returns the least loaded
/// plan kept and its largest load.
pub(super) fn spread_breakout(
    instance: &Instance,
    prepared: &Prepared,
    start: &Plan,
    target: i64,
    bounds: &Bounds,
    deadline: Option<Instant>,
) -> (Plan, i64) {
    let lookups = Lookups::new(instance, prepared);
    let (around, members) = (|s: usize| lookups.around(s), |c: usize| lookups.members(c));
    let balls = lookups.balls;
    let began = Instant::now();
    lookups.look_up_all();
    super::trace(|| {
        format!(
            "  penalty search: neighbourhoods looked up ({:.2} s)",
            began.elapsed().as_secs_f64()
        )
    });
    let spread = spread_anew(&lookups, start, bounds)
        .or_else(|| spread_out(&lookups, start, bounds))
        .map(|plan| {
            let most = balls.most_new(instance, &plan) as i64;
            (plan, most)
        })
        .filter(|&(_, most)| most < balls.most_new(instance, start) as i64);
    super::trace(|| match &spread {
        Some((_, most)) => format!(
            "  penalty search: spread out again, it starts at {most} ({:.2} s)",
            began.elapsed().as_secs_f64()
        ),
        None => "  penalty search: spreading out again did not help".to_string(),
    });
    let start = spread.as_ref().map_or(start, |(plan, _)| plan);
    let mut state = State::new(instance, prepared, start, bounds);
    let first = state.load.iter().copied().max().unwrap_or(0);
    let usable: Vec<usize> = (0..instance.sites.len())
        .filter(|&s| prepared.site_room[s] > 0 && prepared.site_district[s].is_some())
        .collect();
    if usable.is_empty() || first <= target {
        return (start.clone(), first);
    }
    let mut rng = Rng::new(0x5EED_5B2E);
    let pick = |rng: &mut Rng, n: usize| rng.int(0, n as u64 - 1) as usize;
    let count = state.load.len();
    let mut weight = vec![1i64; count];
    let mut mark = vec![0u64; count];
    let mut epoch = 0u64;
    let mut position = vec![usize::MAX; count];
    let mut best = (start.clone(), first);
    let mut moves = 0u64;
    let mut level = first - 1;
    // A level not reached after this many moves is given up (small cities end at once).
    let most_level_moves = (BREAKOUT_MOVES_PER_SITE * usable.len()).max(20_000);
    'levels: while level >= target {
        let mut over: Vec<usize> = (0..count).filter(|&c| state.load[c] > level).collect();
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
                || (moves % 64 == 0 && deadline.is_some_and(|d| Instant::now() >= d))
            {
                break 'levels;
            }
            let c = over[pick(&mut rng, over.len())];
            let list = members(c);
            let offset = pick(&mut rng, list.len().max(1));
            let Some(a) = (0..list.len())
                .map(|i| list[(offset + i) % list.len()] as usize)
                .find(|&s| state.plan.places[s] > 0)
            else {
                continue;
            };
            let xa = state.plan.places[a];
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
                    weight[b] * (excess(state.load[b] - k64) - excess(state.load[b]))
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
                    let l = state.load[b] - if mark[b] == epoch { k64 } else { 0 };
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
                    state.apply(a, j, k, around_a, around(j));
                    for &b in around_a.iter().chain(around(j)) {
                        let b = b as usize;
                        let is_over = state.load[b] > level;
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
        let most = state.load.iter().copied().max().unwrap_or(0);
        best = (state.plan.clone(), most);
        level = most - 1;
    }
    super::trace(|| {
        format!(
            "  penalty search: the largest load went from {first} to {} in {moves} moves, the bound is {target}",
            best.1
        )
    });
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::{city, site};
    use crate::generate::rng::Rng;
    use crate::model::{SiteStatus, Spacing};
    use crate::spatial::Geography;

    /// Random cities of three districts, their sites crowded into one corner of each,
    /// with spacing, existing sites, sites that take all or nothing and a share cap: the plan
    /// built afresh keeps every rule (by the independent checker), places as many places
    /// as the plan it starts from and keeps the evenness bound; and mostly it is less
    /// crowded than the evenness plan, which fills sites in file order.
    #[test]
    fn spread_anew_keeps_every_rule_and_the_evenness_bound() {
        let (mut built, mut better) = (0, 0);
        for seed in 0..40u64 {
            let mut rng = Rng::new(seed);
            let mut sites = Vec::new();
            for i in 0..60 {
                let district = rng.int(0, 2) as f64;
                let (x, y) = (rng.unit() * 600.0, rng.unit() * 600.0);
                let mut s = site(
                    &format!("S{i}"),
                    district * 1000.0 + x,
                    y,
                    rng.int(1, 12) as u32,
                );
                if rng.unit() < 0.15 {
                    s.min_places = s.capacity.min(rng.int(2, 6) as u32);
                }
                if rng.unit() < 0.1 {
                    s.status = SiteStatus::Existing;
                    s.occupied = rng.int(0, 30) as u32;
                    s.capacity += s.occupied;
                }
                sites.push(s);
            }
            let demand = rng.int(20, 120);
            let mut instance = city(&[1000.0, 2500.0, 4000.0], sites, demand);
            instance.rules.spacing = Some(Spacing {
                metres: 200.0,
                max_places: rng.int(30, 80) as u32,
            });
            if rng.unit() < 0.5 {
                instance.rules.max_share = Some(0.012);
            }
            instance.objective.spread_metres = Some(150.0);
            instance.stages = vec![Stage::Shortfall, Stage::Evenness];
            let geography = Geography::of(&instance);
            let prepared = Prepared::new(&instance, &geography);
            let Ok(solution) = crate::solve::solve(&instance, &prepared) else {
                continue;
            };
            let bounds: Bounds = solution
                .stages
                .iter()
                .map(|&(stage, value)| (stage, value + 1e-6 * value.abs().max(1.0)))
                .collect();
            let lookups = Lookups::new(&instance, &prepared);
            let Some(plan) = spread_anew(&lookups, &solution.plan, &bounds) else {
                continue;
            };
            let report = crate::check::check_plan(&instance, &geography, &plan);
            assert!(
                report.violations.is_empty(),
                "seed {seed}: {:?}",
                report.violations
            );
            let placed = |p: &Plan| p.places.iter().map(|&x| u64::from(x)).sum::<u64>();
            assert_eq!(placed(&plan), placed(&solution.plan), "seed {seed}");
            let evenness = State::new(&instance, &prepared, &plan, &bounds).evenness;
            assert!(
                evenness <= bounds[1].1,
                "seed {seed}: evenness {evenness} > {:?}",
                bounds[1]
            );
            let balls = prepared.spread_balls(&instance);
            built += 1;
            if balls.most_new(&instance, &plan) < balls.most_new(&instance, &solution.plan) {
                better += 1;
            }
        }
        assert!(built >= 30, "only {built} of 40 cities gave a plan");
        assert!(
            better * 2 >= built,
            "only {better} of {built} plans less crowded"
        );
    }
}
