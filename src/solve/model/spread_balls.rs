//! The neighbourhoods of stage S (spread): around every candidate or existing site inside a
//! district, the new places of such sites within `spread_metres` (the centre included). There
//! is one per site, a million in a big city, each with hundreds of sites at 500 m: they are
//! never all listed. Their loads under a plan are summed from the sites that hold places,
//! and a neighbourhood's sites are looked up only when it enters the program.

use crate::model::{Instance, Plan, SiteStatus};
use crate::spatial::PointIndex;

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
        // (`spread::search`, `spread::bound`) then read memory in a few runs, not at random.
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
    /// fractional, from an LP); only sites that are centres count (docs/model.md: the same sites
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

    /// The sites of neighbourhood `ball` that may take new places (`site_room`, as in
    /// `Prepared::site_room`, above 0), ascending.
    pub fn members(&self, instance: &Instance, site_room: &[u32], ball: usize) -> Vec<u32> {
        let centre = instance.sites[self.centres[ball] as usize].position;
        let mut members = Vec::new();
        self.index.for_each_within(centre, self.metres, |i| {
            let s = self.centres[i as usize];
            if site_room[s as usize] > 0 {
                members.push(s);
            }
        });
        members.sort_unstable();
        members
    }
}
