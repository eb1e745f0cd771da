//! The spread neighbourhoods looked up for the searches of the spread stage: each site's
//! neighbourhoods and each neighbourhood's sites, listed once (`Lookups`), and what the
//! bound and the penalty search, running side by side, tell each other (`Meeting`).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::OnceLock;

use crate::model::Instance;
use crate::solve::model::prepare::Prepared;
use crate::solve::model::spread_balls::SpreadBalls;

/// Most entries (4 bytes each) of the neighbourhood lists `Lookups` looks up ahead.
const MOST_LOOKED_UP: usize = 150_000_000;

/// Each site's neighbourhoods and each neighbourhood's sites, looked up once: the searches
/// come back to the same sites again and again.
pub(crate) struct Lookups<'a> {
    pub(super) instance: &'a Instance,
    pub(super) prepared: &'a Prepared,
    pub(super) balls: &'a SpreadBalls,
    around: Vec<OnceLock<Vec<u32>>>,
    members: Vec<OnceLock<Vec<u32>>>,
    /// The spacing balls containing each site (ascending), built when first needed.
    spacing: OnceLock<Vec<Vec<u32>>>,
}

impl<'a> Lookups<'a> {
    pub(crate) fn new(instance: &'a Instance, prepared: &'a Prepared) -> Lookups<'a> {
        let balls = prepared.spread_balls(instance);
        Lookups {
            instance,
            prepared,
            balls,
            around: (0..instance.sites.len()).map(|_| OnceLock::new()).collect(),
            members: (0..balls.len()).map(|_| OnceLock::new()).collect(),
            spacing: OnceLock::new(),
        }
    }

    /// The spacing balls (`Prepared::spacing`) containing site s, ascending.
    pub(super) fn spacing_of(&self, s: usize) -> &[u32] {
        let of = self.spacing.get_or_init(|| {
            let mut of = vec![Vec::new(); self.instance.sites.len()];
            for (b, ball) in self.prepared.spacing.iter().enumerate() {
                for &m in &ball.members {
                    of[m as usize].push(b as u32);
                }
            }
            of
        });
        &of[s]
    }

    /// The neighbourhoods site s counts in (ascending).
    pub(super) fn around(&self, s: usize) -> &[u32] {
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
    /// first needed, and the answer is false).
    pub(super) fn look_up_all(&self) -> bool {
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
        let all = mean * usable.len() as f64 <= MOST_LOOKED_UP as f64;
        if all {
            usable.par_iter().for_each(|&s| {
                self.around(s);
            });
        }
        all
    }

    /// The sites of neighbourhood c that may take new places (ascending).
    pub(super) fn members(&self, c: usize) -> &[u32] {
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

/// What the spread bound and the penalty search, running side by side, tell each other:
/// the bound so far (rounded up) and the largest load of the best plan so far. When they
/// meet, the plan is optimal and both stop.
pub(super) struct Meeting {
    bound: AtomicI64,
    plan: AtomicI64,
}

impl Meeting {
    pub(super) fn new(plan: i64) -> Meeting {
        Meeting {
            bound: AtomicI64::new(0),
            plan: AtomicI64::new(plan),
        }
    }

    pub(super) fn bound(&self) -> i64 {
        self.bound.load(Ordering::Relaxed)
    }

    pub(super) fn plan(&self) -> i64 {
        self.plan.load(Ordering::Relaxed)
    }

    pub(super) fn raise_bound(&self, bound: i64) {
        self.bound.fetch_max(bound, Ordering::Relaxed);
    }

    pub(super) fn lower_plan(&self, most: i64) {
        self.plan.fetch_min(most, Ordering::Relaxed);
    }

    pub(super) fn met(&self) -> bool {
        self.plan() <= self.bound()
    }
}
