//! The neighbourhoods of stage S (spread): around every candidate or existing site inside a
//! district, the new places of such sites within `spread_metres` (the centre included). There
//! is one per site, a million in a big city, each with hundreds of sites at 500 m: they are
//! never all listed. Their loads under a plan are summed from the sites that hold places,
//! and a neighbourhood's sites are looked up only when it enters the program.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::OnceLock;

use super::prepare::Prepared;
use crate::model::{Instance, Plan, SiteStatus};
use crate::spatial::PointIndex;

/// Most entries (4 bytes each) of the neighbourhood lists `Lookups` looks up ahead.
const MOST_LOOKED_UP: usize = 150_000_000;

/// The centres of the spread neighbourhoods, indexed.
#[derive(Debug, Clone)]
pub struct SpreadBalls {
    pub metres: f64,
    /// Site index of each centre (candidate or existing, inside a district): also the sites
    /// whose places count.
    centres: Vec<u32>,
    /// Position in `centres` of each site, `u32::MAX` for sites that are no centre.
    centre_of: Vec<u32>,
    index: PointIndex,
}

impl SpreadBalls {
    pub(super) fn new(instance: &Instance, site_district: &[Option<u32>]) -> SpreadBalls {
        let mut centres: Vec<u32> = (0..instance.sites.len() as u32)
            .filter(|&s| {
                instance.sites[s as usize].status != SiteStatus::Excluded
                    && site_district[s as usize].is_some()
            })
            .collect();
        // Numbered in rows of squares as wide as the radius, so that the neighbourhoods
        // around a site have numbers close together: the searches that walk their loads
        // (`spread_search`, `spread_bound`) then read memory in a few runs, not at random.
        let metres = instance.spread_metres().max(1.0);
        let square = |s: u32| {
            let [x, y] = instance.sites[s as usize].position;
            ((y / metres).floor() as i64, (x / metres).floor() as i64)
        };
        centres.sort_by_key(|&s| (square(s), s));
        let mut centre_of = vec![u32::MAX; instance.sites.len()];
        for (position, &s) in centres.iter().enumerate() {
            centre_of[s as usize] = position as u32;
        }
        let positions: Vec<[f64; 2]> = centres
            .iter()
            .map(|&s| instance.sites[s as usize].position)
            .collect();
        SpreadBalls {
            metres: instance.spread_metres(),
            index: PointIndex::new(&positions),
            centres,
            centre_of,
        }
    }

    pub fn len(&self) -> usize {
        self.centres.len()
    }

    pub fn is_empty(&self) -> bool {
        self.centres.is_empty()
    }

    /// The site at the centre of neighbourhood `ball`.
    pub fn centre(&self, ball: usize) -> u32 {
        self.centres[ball]
    }

    /// The new places in each neighbourhood when site s holds `places(s)` (possibly
    /// fractional, from an LP); only sites that are centres count (MODEL.md: the same sites
    /// as rule 5).
    pub fn loads(&self, instance: &Instance, places: &[(u32, f64)]) -> Vec<f64> {
        let weighted: Vec<([f64; 2], f64)> = places
            .iter()
            .filter(|&&(s, x)| x > 1e-9 && self.centre_of[s as usize] != u32::MAX)
            .map(|&(s, x)| (instance.sites[s as usize].position, x))
            .collect();
        self.index
            .sums_within(self.centres.len(), &weighted, self.metres)
    }

    /// The loads under a whole-number plan.
    pub fn plan_loads(&self, instance: &Instance, plan: &Plan) -> Vec<f64> {
        let places: Vec<(u32, f64)> = plan
            .places
            .iter()
            .enumerate()
            .filter(|(_, &x)| x > 0)
            .map(|(s, &x)| (s as u32, f64::from(x)))
            .collect();
        self.loads(instance, &places)
    }

    /// The largest number of new places within the radius of any site under the plan.
    pub fn most_new(&self, instance: &Instance, plan: &Plan) -> u64 {
        self.plan_loads(instance, plan)
            .into_iter()
            .fold(0.0, f64::max)
            .round() as u64
    }

    /// The neighbourhoods whose centre lies within the radius of site s (so that s counts
    /// in them); empty for a site that is no centre.
    pub fn around(&self, instance: &Instance, s: usize) -> Vec<usize> {
        let mut balls = Vec::new();
        if self.centre_of[s] == u32::MAX {
            return balls;
        }
        self.index
            .for_each_within(instance.sites[s].position, self.metres, |i| {
                balls.push(i as usize)
            });
        balls
    }

    /// Sites that count in the neighbourhoods, nearest to `p` first.
    pub fn sites_nearest(&self, p: [f64; 2]) -> impl Iterator<Item = u32> + '_ {
        self.index
            .nearest_first(p)
            .map(|i| self.centres[i as usize])
    }

    /// The sites of neighbourhood `ball` that may take new places (ascending).
    pub fn members(&self, instance: &Instance, prepared: &Prepared, ball: usize) -> Vec<u32> {
        let centre = instance.sites[self.centres[ball] as usize].position;
        let mut members = Vec::new();
        self.index.for_each_within(centre, self.metres, |i| {
            let s = self.centres[i as usize];
            if prepared.site_room[s as usize] > 0 {
                members.push(s);
            }
        });
        members.sort_unstable();
        members
    }
}

/// Each site's neighbourhoods and each neighbourhood's sites, looked up once: the searches
/// come back to the same sites again and again.
pub(super) struct Lookups<'a> {
    pub(super) instance: &'a Instance,
    pub(super) prepared: &'a Prepared,
    pub(super) balls: &'a SpreadBalls,
    around: Vec<OnceLock<Vec<u32>>>,
    members: Vec<OnceLock<Vec<u32>>>,
    /// The spacing balls containing each site (ascending), built when first needed.
    spacing: OnceLock<Vec<Vec<u32>>>,
}

impl<'a> Lookups<'a> {
    pub(super) fn new(instance: &'a Instance, prepared: &'a Prepared) -> Lookups<'a> {
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
