//! The plan state the spread stage's searches and starts work on: a plan with the loads the
//! rules between sites count (`Fill`: spacing balls, seats, spread neighbourhoods), and with
//! the evenness, access and cost sums the earlier stages' bounds (`Bounds`) must keep
//! (`State`: which moves are allowed, and making them).

use super::lookups::Lookups;
use crate::model::{Instance, Plan, Stage};
use crate::solve::model::prepare::Prepared;

/// The earlier stages' bounds the moves must keep: (stage, largest value allowed).
pub(crate) type Bounds = Vec<(Stage, f64)>;

/// A plan with the loads the rules between sites count: the spacing balls, the facilities'
/// seats and the spread neighbourhoods. The starts fill it place by place; the searches
/// (`State`) move places within it.
pub(super) struct Fill<'a> {
    pub(super) instance: &'a Instance,
    pub(super) prepared: &'a Prepared,
    pub(super) lookups: &'a Lookups<'a>,
    pub(super) plan: Plan,
    /// Places in each spacing ball (its limit is `room`).
    pub(super) ball_load: Vec<u64>,
    pub(super) seat_load: Vec<u64>,
    /// Spread load of each neighbourhood.
    pub(super) load: Vec<i64>,
}

impl<'a> Fill<'a> {
    pub(super) fn new(lookups: &'a Lookups<'a>, plan: Plan) -> Fill<'a> {
        let (instance, prepared) = (lookups.instance, lookups.prepared);
        let mut ball_load = vec![0u64; prepared.spacing.len()];
        for (b, ball) in prepared.spacing.iter().enumerate() {
            for &m in &ball.members {
                ball_load[b] += u64::from(plan.places[m as usize]);
            }
        }
        let mut seat_load = vec![0u64; prepared.seat_room.len()];
        for (s, &x) in plan.places.iter().enumerate() {
            if let Some(load) = Self::seat_of(prepared, s).and_then(|f| seat_load.get_mut(f)) {
                *load += u64::from(x);
            }
        }
        let load = lookups
            .balls
            .plan_loads(instance, &plan)
            .into_iter()
            .map(|l| l.round() as i64)
            .collect();
        Fill {
            instance,
            prepared,
            lookups,
            plan,
            ball_load,
            seat_load,
            load,
        }
    }

    pub(super) fn seat_of(prepared: &Prepared, s: usize) -> Option<usize> {
        prepared.seat_facility[s].map(|f| f as usize)
    }

    /// The places site s takes next: one, or a whole site's minimum where it takes all or
    /// nothing and has none yet.
    pub(super) fn step(&self, s: usize) -> u32 {
        if self.plan.places[s] == 0 {
            self.instance.sites[s].min_places.max(1)
        } else {
            1
        }
    }

    /// Whether site s can take k more places under its room, the spacing balls around it
    /// and its facility's seats.
    pub(super) fn fits(&self, s: usize, k: u32) -> bool {
        let p = self.prepared;
        let k64 = u64::from(k);
        self.plan.places[s] + k <= p.site_room[s]
            && self
                .lookups
                .spacing_of(s)
                .iter()
                .all(|&b| self.ball_load[b as usize] + k64 <= p.spacing[b as usize].room)
            && Self::seat_of(p, s).is_none_or(|f| match p.seat_room.get(f) {
                Some(Some(room)) => self.seat_load[f] + k64 <= *room,
                _ => true,
            })
    }

    /// (Largest, sum of) the loads of the neighbourhoods around s after k more places
    /// there; the scan stops once the largest exceeds `above` (the score is then a lower
    /// bound, and the flag is set).
    pub(super) fn score(&self, s: usize, k: u32, above: Option<i64>) -> ((i64, i64), bool) {
        let mut score = (0i64, 0i64);
        for &c in self.lookups.around(s) {
            let l = self.load[c as usize] + i64::from(k);
            score = (score.0.max(l), score.1 + l);
            if above.is_some_and(|most| score.0 > most) {
                return (score, true);
            }
        }
        (score, false)
    }

    /// Adds k places at site s (k < 0 takes them away).
    pub(super) fn add(&mut self, s: usize, k: i64) {
        let shift = |value: &mut u64| *value = value.wrapping_add_signed(k);
        self.plan.places[s] = (i64::from(self.plan.places[s]) + k) as u32;
        for &b in self.lookups.spacing_of(s) {
            shift(&mut self.ball_load[b as usize]);
        }
        if let Some(seat) = Self::seat_of(self.prepared, s).and_then(|f| self.seat_load.get_mut(f))
        {
            shift(seat);
        }
        for &c in self.lookups.around(s) {
            self.load[c as usize] += k;
        }
    }

    /// The loads of the neighbourhoods around b after k places move from site a to b.
    pub(super) fn loads_after_move(
        &self,
        a: usize,
        b: usize,
        k: u32,
    ) -> impl Iterator<Item = i64> + '_ {
        let around_a = self.lookups.around(a);
        self.lookups.around(b).iter().map(move |&c| {
            let leaves = if around_a.binary_search(&c).is_ok() {
                k
            } else {
                0
            };
            self.load[c as usize] + i64::from(k) - i64::from(leaves)
        })
    }

    pub(super) fn most(&self) -> i64 {
        self.load.iter().copied().max().unwrap_or(0)
    }
}

/// The plan state the moves change, with everything they must keep.
pub(super) struct State<'a> {
    /// The plan and the loads of spacing balls, seats and spread neighbourhoods.
    pub(super) fill: Fill<'a>,
    /// New places per district.
    new: Vec<f64>,
    bounds: &'a Bounds,
    access: f64,
    cost: f64,
    /// Σ_d |a_d − t_d|.
    evenness: f64,
}

impl<'a> State<'a> {
    pub(super) fn new(lookups: &'a Lookups<'a>, plan: &Plan, bounds: &'a Bounds) -> State<'a> {
        let (instance, prepared) = (lookups.instance, lookups.prepared);
        let mut new = vec![0.0; instance.districts.len()];
        for (s, &x) in plan.places.iter().enumerate() {
            if let Some(d) = prepared.site_district[s] {
                new[d as usize] += f64::from(x);
            }
        }
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
            fill: Fill::new(lookups, plan.clone()),
            new,
            bounds,
            access,
            cost,
            evenness,
        }
    }

    fn deviation(&self, d: usize, new: f64) -> f64 {
        let p = self.fill.prepared;
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
    pub(super) fn allowed(&self, a: usize, b: usize, k: u32) -> bool {
        let (p, inst) = (self.fill.prepared, self.fill.instance);
        let (xa, xb) = (self.fill.plan.places[a], self.fill.plan.places[b]);
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
        let spacing_of = |s: usize| self.fill.lookups.spacing_of(s);
        for &ball in spacing_of(b) {
            if self.fill.ball_load[ball as usize] + u64::from(k) > p.spacing[ball as usize].room
                && spacing_of(a).binary_search(&ball).is_err()
            {
                return false;
            }
        }
        if let (Some(fb), fa) = (p.seat_facility[b], p.seat_facility[a]) {
            if fa != Some(fb) {
                if let Some(Some(room)) = p.seat_room.get(fb as usize) {
                    if self.fill.seat_load[fb as usize] + u64::from(k) > *room {
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
            // Moves inside a district keep every district's deficit; across, the search
            // keeps no account of it.
            Stage::Fair => da == db,
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

    pub(super) fn apply(&mut self, a: usize, b: usize, k: u32) {
        let p = self.fill.prepared;
        if let (Some(da), Some(db)) = (p.site_district[a], p.site_district[b]) {
            let (da, db) = (da as usize, db as usize);
            if da != db {
                let (evenness, _) = self.deviations_after(da, db, f64::from(k));
                self.evenness = evenness;
            }
            self.new[da] -= f64::from(k);
            self.new[db] += f64::from(k);
        }
        self.fill.add(a, -i64::from(k));
        self.fill.add(b, i64::from(k));
        let kf = f64::from(k);
        if let Some(d) = p.access_distance.get(a) {
            self.access += kf * (p.access_distance[b] - d);
        }
        let cost = |s: usize| self.fill.instance.sites[s].cost.unwrap_or(0.0);
        self.cost += kf * (cost(b) - cost(a));
    }
}
