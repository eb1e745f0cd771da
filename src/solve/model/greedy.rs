//! A quick plan that keeps every rule, used as a proof: when it places the whole demand, the
//! shortfall stage's optimum is 0 and HiGHS need not solve it.

use super::prepare::Prepared;
use crate::model::{Instance, Plan};

/// Places new places site by site (file order), each time as many as the site, its
/// district's share cap, its school's seats, every spacing ball containing it and the
/// demand still allow (none where that is below the site's minimum). The plan keeps every
/// rule of docs/model.md.
pub fn greedy_plan(instance: &Instance, prepared: &Prepared) -> Plan {
    greedy_plan_within(instance, prepared, None)
}

/// As `greedy_plan`, with at most `district_caps[d]` new places in district d.
pub(crate) fn greedy_plan_within(
    instance: &Instance,
    prepared: &Prepared,
    district_caps: Option<&[u64]>,
) -> Plan {
    Greedy::new(instance, prepared).plan(district_caps)
}

/// Greedy plans for several lists of caps, sharing the index of balls by site.
pub(crate) struct Greedy<'a> {
    instance: &'a Instance,
    prepared: &'a Prepared,
    /// The balls containing each site, in compressed form: balls_of[starts[s]..starts[s + 1]].
    starts: Vec<usize>,
    balls_of: Vec<u32>,
}

impl<'a> Greedy<'a> {
    pub(crate) fn new(instance: &'a Instance, prepared: &'a Prepared) -> Greedy<'a> {
        let mut starts = vec![0usize; instance.sites.len() + 1];
        for limit in prepared.spacing.iter() {
            for &member in &limit.members {
                starts[member as usize + 1] += 1;
            }
        }
        for s in 0..instance.sites.len() {
            starts[s + 1] += starts[s];
        }
        let mut balls_of = vec![0u32; starts[instance.sites.len()]];
        let mut filled = starts.clone();
        for (ball, limit) in prepared.spacing.iter().enumerate() {
            for &member in &limit.members {
                balls_of[filled[member as usize]] = ball as u32;
                filled[member as usize] += 1;
            }
        }
        Greedy {
            instance,
            prepared,
            starts,
            balls_of,
        }
    }

    /// The spacing balls around site `s`.
    pub(crate) fn balls_of(&self, s: usize) -> &[u32] {
        &self.balls_of[self.starts[s]..self.starts[s + 1]]
    }

    /// The greedy plan with at most `district_caps[d]` new places in district d.
    pub(crate) fn plan(&self, district_caps: Option<&[u64]>) -> Plan {
        one_greedy_plan(self.instance, self.prepared, district_caps, |s| {
            self.balls_of(s)
        })
    }
}

/// What the share caps, the seats and the spacing balls still leave while a fill places.
struct Left {
    ball: Vec<u64>,
    share: Vec<u64>,
    seat: Vec<u64>,
}

impl Left {
    /// With at most `district_caps[d]` new places in district d as well.
    fn new(prepared: &Prepared, district_caps: Option<&[u64]>) -> Left {
        Left {
            ball: prepared.spacing.iter().map(|b| b.room).collect(),
            share: prepared
                .share_room
                .iter()
                .enumerate()
                .map(|(d, r)| {
                    let cap = district_caps.map_or(u64::MAX, |caps| caps[d]);
                    r.unwrap_or(u64::MAX).min(cap)
                })
                .collect(),
            seat: prepared
                .seat_room
                .iter()
                .map(|r| r.unwrap_or(u64::MAX))
                .collect(),
        }
    }

    /// The facility whose seats site s uses, if its seats are limited.
    fn seat_of(&self, prepared: &Prepared, s: usize) -> Option<usize> {
        prepared.seat_facility[s]
            .map(|f| f as usize)
            .filter(|&f| f < self.seat.len())
    }

    /// New places site s in district d may still take by its district's share, its seats
    /// and its balls (not its own room), and the room of its fullest ball.
    fn room(&self, prepared: &Prepared, s: usize, d: usize, balls: &[u32]) -> (u64, u64) {
        let slack = balls
            .iter()
            .map(|&ball| self.ball[ball as usize])
            .min()
            .unwrap_or(u64::MAX);
        let room = self.share[d]
            .min(self.seat_of(prepared, s).map_or(u64::MAX, |f| self.seat[f]))
            .min(slack);
        (room, slack)
    }

    /// Records `n` new places at site s in district d.
    fn take(&mut self, prepared: &Prepared, s: usize, d: usize, n: u64, balls: &[u32]) {
        self.share[d] -= n.min(self.share[d]);
        if let Some(f) = self.seat_of(prepared, s) {
            self.seat[f] -= n;
        }
        for &ball in balls {
            self.ball[ball as usize] -= n;
        }
    }
}

fn one_greedy_plan<'a>(
    instance: &Instance,
    prepared: &Prepared,
    district_caps: Option<&[u64]>,
    balls_of: impl Fn(usize) -> &'a [u32],
) -> Plan {
    let mut plan = Plan::empty(instance.sites.len());
    let mut rooms = Left::new(prepared, district_caps);
    let mut left = prepared.demand;
    for (s, &room) in prepared.site_room.iter().enumerate() {
        if left == 0 {
            break;
        }
        let Some(d) = prepared.site_district[s] else {
            continue;
        };
        let d = d as usize;
        let take = u64::from(room)
            .min(left)
            .min(rooms.room(prepared, s, d, balls_of(s)).0);
        if take == 0 || take < u64::from(instance.sites[s].min_places) {
            continue;
        }
        left -= take;
        plan.places[s] = take as u32;
        rooms.take(prepared, s, d, take, balls_of(s));
    }
    plan
}

/// A fill that follows the fair shares and keeps every rule: place by place, the district
/// furthest below its fair share (then the one least above it) gets the next place, at the
/// next of its sites in turn that still has room within its cap, its district's share, its
/// school's seats and every spacing ball around it. Places spread over a district's sites
/// as they spread over the districts. The plan a time limit falls back to when the
/// spacing rule binds across a whole centre, where the site-order greedy leaves it empty.
pub(crate) fn fair_fill(instance: &Instance, prepared: &Prepared) -> Plan {
    use std::cmp::Ordering;
    use std::collections::BinaryHeap;

    /// A district in the queue, by how far below its fair share it is.
    struct Below(f64, u32);
    impl PartialEq for Below {
        fn eq(&self, other: &Self) -> bool {
            self.cmp(other) == Ordering::Equal
        }
    }
    impl Eq for Below {}
    impl PartialOrd for Below {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Below {
        fn cmp(&self, other: &Self) -> Ordering {
            self.0.total_cmp(&other.0).then(other.1.cmp(&self.1))
        }
    }

    let greedy = Greedy::new(instance, prepared);
    let districts = instance.districts.len();
    let mut sites_of = usable_sites_by_district(prepared);
    let mut next = vec![0usize; districts];
    let mut plan = Plan::empty(instance.sites.len());
    let mut rooms = Left::new(prepared, None);
    let mut below: Vec<f64> = prepared
        .target
        .iter()
        .zip(&prepared.district_existing)
        .map(|(t, e)| t - e)
        .collect();
    let mut queue: BinaryHeap<Below> = (0..districts)
        .filter(|&d| !sites_of[d].is_empty())
        .map(|d| Below(below[d], d as u32))
        .collect();
    let mut left = prepared.demand;
    while left > 0 {
        let Some(Below(_, d)) = queue.pop() else {
            break;
        };
        let d = d as usize;
        // Of the district's sites that can take a place (or their minimum), the one whose
        // fullest spacing ball has most room left, the next in turn on a tie.
        let mut best: Option<(u64, usize, u64)> = None;
        let count = sites_of[d].len();
        let mut done = Vec::new();
        for k in 0..count {
            let i = (next[d] + k) % count;
            let s = sites_of[d][i] as usize;
            let (room, slack) = rooms.room(prepared, s, d, greedy.balls_of(s));
            let room = room.min(u64::from(prepared.site_room[s] - plan.places[s]));
            let wanted = if plan.places[s] == 0 {
                u64::from(instance.sites[s].min_places).max(1)
            } else {
                1
            };
            if room < wanted || wanted > left {
                // Rooms only shrink: the site is done.
                done.push(i);
                continue;
            }
            if best.is_none_or(|(most, _, _)| slack > most) {
                best = Some((slack, i, wanted));
            }
        }
        let mut granted = 0u64;
        if let Some((_, i, wanted)) = best {
            let s = sites_of[d][i] as usize;
            plan.places[s] += wanted as u32;
            rooms.take(prepared, s, d, wanted, greedy.balls_of(s));
            next[d] = i + 1;
            granted = wanted;
        }
        done.sort_unstable();
        for &i in done.iter().rev() {
            sites_of[d].swap_remove(i);
        }
        if next[d] > sites_of[d].len() {
            next[d] = 0;
        }
        if granted > 0 {
            left -= granted;
            below[d] -= granted as f64;
            queue.push(Below(below[d], d as u32));
        }
    }
    plan
}

/// The sites of each district that may take new places, in file order.
pub(crate) fn usable_sites_by_district(prepared: &Prepared) -> Vec<Vec<u32>> {
    let mut sites_of: Vec<Vec<u32>> = vec![Vec::new(); prepared.target.len()];
    for (s, &room) in prepared.site_room.iter().enumerate() {
        if let (Some(d), true) = (prepared.site_district[s], room > 0) {
            sites_of[d as usize].push(s as u32);
        }
    }
    sites_of
}
