//! The exact fast path for plans whose only constraints are per-district: when no site has
//! a minimum occupancy, no spacing ball and no school's seats can bind, the model of
//! docs/model.md falls apart into one variable per district, X_d ∈ [0, cap_d] with Σ X_d = K,
//! and each stage is a separable convex problem over whole numbers:
//!
//! - A: K = min(N, Σ cap_d).
//! - B: Σ |X_d − k_d| with k_d = t_d − e_d is convex and piecewise linear in each X_d; the
//!   optimum takes the K cheapest unit increments (slopes −1, then the one step across the
//!   kink, then +1). Every optimum takes all increments below the threshold slope λ and some
//!   of those at λ: the optimal set is a box [must_d, must_d + tied_d] intersected with
//!   Σ X_d = K.
//! - C: the smallest z for which the box shrunk to |X_d − k_d| ≤ z still meets Σ X_d = K
//!   (monotone in z; found by bisection to the last bit, then read off the plan).
//! - F: Σ max(0, k_d − X_d)² / t_d is convex in each whole X_d (its increments rise), so
//!   the optimum in the box takes the K − Σ lo cheapest increments above the lower corner
//!   (greedy over marginal gains, exact for a separable convex objective). Every optimum
//!   takes all increments cheaper than the last one taken (μ) and some of those equal to it:
//!   again a box.
//! - D and E (a cost or a distance per place): inside each district the places fill in the
//!   order of their key (cheapest, nearest first), so a district's sum is convex in X_d. The
//!   optimum fills the box from its lower corner with the smallest keys first; every optimum
//!   takes all places with a key below the last one taken (θ) and some of those at θ: again
//!   a box. Keys of two such stages compare in stage order, so the box after the first holds
//!   places of equal first key, ordered by the second.
//!
//! So the optimal plans after every stage are a box intersected with Σ X_d = K, in any
//! order of the stages after B. With demand levels (a nested plan, X^1 ≤ X^2 ≤ …), each
//! level's box is known; `chain` finds nested plans inside them when there are any (then
//! every level reaches its own optimum in every stage).
//!
//! This needs no solver and runs in O(D log D + sites); the property tests compare it with the
//! HiGHS model on random cities.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A stage after evenness, as the separable model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeparableStage {
    /// F: the squared deficits below the shares, each divided by its share.
    Fair,
    /// C: the largest deviation.
    Worst,
    /// D or E: the sum of key component `.0` over the places.
    PerPlace(usize),
}

/// The new places per district.
#[derive(Debug, Clone)]
pub struct SeparablePlan {
    pub places: Vec<u64>,
    /// Per district: fall of the evenness sum per extra place of site capacity there.
    pub marginal_values: Vec<f64>,
    /// New places placed in all: min(N, Σ cap).
    pub placed: u64,
    /// The optimal plans after evenness and after each later stage: `boxes[i][d]` = (least,
    /// most) new places of district d, with Σ X_d = `placed`.
    pub boxes: Vec<Vec<(u64, u64)>>,
}

fn compare_keys(a: &Key, b: &Key) -> Ordering {
    a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1]))
}

const EPS: f64 = 1e-9;

/// Slope of the evenness sum for the `j`-th new place (from j − 1 to j) in a district.
fn slope(j: u64, kink: f64) -> f64 {
    let j = j as f64;
    (j - kink).abs() - (j - 1.0 - kink).abs()
}

/// Stage B's threshold: each district's runs of equal slope (−1 below the kink, one step
/// across it, +1 above; at most three), and the slope λ of the K-th cheapest increment.
fn threshold(districts: &[SeparableDistrict], k: u64) -> (Vec<Vec<(f64, u64)>>, f64) {
    let runs = |d: &SeparableDistrict| -> Vec<(f64, u64)> {
        let mut runs = Vec::with_capacity(3);
        if d.cap == 0 {
            return runs;
        }
        let below = if d.kink >= 1.0 {
            (d.kink.floor() as u64).min(d.cap)
        } else {
            0
        };
        if below > 0 {
            runs.push((-1.0, below));
        }
        let mut taken = below;
        if taken < d.cap && d.kink > taken as f64 + EPS && d.kink < (taken + 1) as f64 - EPS {
            runs.push((slope(taken + 1, d.kink), 1));
            taken += 1;
        }
        if taken < d.cap {
            runs.push((1.0, d.cap - taken));
        }
        runs
    };
    let all_runs: Vec<Vec<(f64, u64)>> = districts.iter().map(runs).collect();
    let mut slopes: Vec<(f64, u64)> = all_runs.iter().flatten().copied().collect();
    slopes.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut lambda = f64::NEG_INFINITY;
    let mut left = k;
    for &(s, n) in &slopes {
        if left == 0 {
            break;
        }
        lambda = s;
        left -= left.min(n);
    }
    (all_runs, lambda)
}

/// New places per district that every plan within `slack` of stage B's optimum keeps
/// (given the most places are placed): `[lo_d, hi_d]`. By duality with λ, a plan's
/// evenness sum exceeds the optimum by at least the distance of each increment it takes
/// above λ, or leaves out below λ, so no plan within `slack` takes an increment steeper
/// than λ + slack or leaves out one flatter than λ − slack.
pub fn evenness_bounds(
    districts: &[SeparableDistrict],
    demand: u64,
    slack: f64,
) -> Vec<(u64, u64)> {
    let total_cap: u64 = districts.iter().map(|d| d.cap).sum();
    let (all_runs, lambda) = threshold(districts, demand.min(total_cap));
    let slack = slack.max(EPS);
    all_runs
        .iter()
        .map(|runs| {
            let lo = runs
                .iter()
                .filter(|r| r.0 < lambda - slack)
                .map(|r| r.1)
                .sum();
            let hi = runs
                .iter()
                .filter(|r| r.0 <= lambda + slack)
                .map(|r| r.1)
                .sum();
            (lo, hi)
        })
        .collect()
}

/// Solves the stages: shortfall and evenness, then `later` in order. `site_room_only` is the
/// room of each district's sites before its share cap (for marginal values).
pub fn solve_separable(
    districts: &[SeparableDistrict],
    demand: u64,
    later: &[SeparableStage],
    site_room_only: &[u64],
) -> SeparablePlan {
    let count = districts.len();
    let total_cap: u64 = districts.iter().map(|d| d.cap).sum();
    let k = demand.min(total_cap);

    let (all_runs, lambda) = threshold(districts, k);
    let mut lo = vec![0u64; count];
    let mut hi = vec![0u64; count];
    for (d, runs) in all_runs.iter().enumerate() {
        for &(s, n) in runs {
            if s < lambda - EPS {
                lo[d] += n;
                hi[d] += n;
            } else if (s - lambda).abs() <= EPS {
                hi[d] += n;
            }
        }
    }
    let mut boxes = vec![lo
        .iter()
        .copied()
        .zip(hi.iter().copied())
        .collect::<Vec<_>>()];
    for stage in later {
        match *stage {
            SeparableStage::Fair => fair_box(districts, k, &mut lo, &mut hi),
            SeparableStage::Worst => worst_box(districts, k, &mut lo, &mut hi),
            SeparableStage::PerPlace(component) => {
                per_place_box(districts, k, component, &mut lo, &mut hi)
            }
        }
        boxes.push(lo.iter().copied().zip(hi.iter().copied()).collect());
    }
    let places = fill_box(districts, k, &lo, &hi);
    let marginal_values = marginal_values(districts, demand, k, &places, site_room_only);
    SeparablePlan {
        places,
        marginal_values,
        placed: k,
        boxes,
    }
}

/// Stage C inside the box: the smallest z for which |X_d − k_d| ≤ z still meets Σ X_d = K,
/// by bisection to the last bit; the box shrinks to it.
fn worst_box(districts: &[SeparableDistrict], k: u64, lo: &mut [u64], hi: &mut [u64]) {
    let count = districts.len();
    let deviation = |d: usize, x: u64| (x as f64 - districts[d].kink).abs();
    let bounds = |z: f64| -> Option<(Vec<u64>, Vec<u64>)> {
        let mut low = Vec::with_capacity(count);
        let mut high = Vec::with_capacity(count);
        for d in 0..count {
            let kink = districts[d].kink;
            let low_z = (kink - z - EPS).ceil().max(0.0) as u64;
            let high_z = (kink + z + EPS).floor();
            if high_z < 0.0 {
                return None;
            }
            let l = lo[d].max(low_z);
            let h = (high_z as u64).min(hi[d]);
            if l > h {
                return None;
            }
            low.push(l);
            high.push(h);
        }
        let sum_lo: u64 = low.iter().sum();
        let sum_hi: u64 = high.iter().sum();
        (sum_lo <= k && k <= sum_hi).then_some((low, high))
    };
    let mut high = (0..count)
        .map(|d| deviation(d, lo[d]).max(deviation(d, hi[d])))
        .fold(0.0, f64::max);
    let mut low = 0.0;
    if bounds(low).is_some() {
        high = low;
    }
    for _ in 0..200 {
        if high - low <= 1e-12 * high.max(1.0) {
            break;
        }
        let mid = 0.5 * (low + high);
        if bounds(mid).is_some() {
            high = mid;
        } else {
            low = mid;
        }
    }
    if let Some((low, high)) = bounds(high) {
        lo.copy_from_slice(&low);
        hi.copy_from_slice(&high);
    }
}

/// Walks a district's places in fill order from place `from` (0-based count of places
/// before): each call to `take(n)` advances n places and returns the runs passed as (key,
/// places).
struct Cursor<'a> {
    blocks: &'a [(Key, u64)],
    block: usize,
    used: u64,
}

impl<'a> Cursor<'a> {
    fn at(blocks: &'a [(Key, u64)], mut from: u64) -> Cursor<'a> {
        let mut block = 0;
        while block < blocks.len() && from >= blocks[block].1 {
            from -= blocks[block].1;
            block += 1;
        }
        Cursor {
            blocks,
            block,
            used: from,
        }
    }

    /// The key of the next place and how many places follow with that key.
    fn next_run(&self) -> Option<(Key, u64)> {
        self.blocks
            .get(self.block)
            .map(|&(key, places)| (key, places - self.used))
    }

    fn advance(&mut self, mut n: u64) {
        while n > 0 && self.block < self.blocks.len() {
            let left = self.blocks[self.block].1 - self.used;
            let take = left.min(n);
            self.used += take;
            n -= take;
            if self.used == self.blocks[self.block].1 {
                self.block += 1;
                self.used = 0;
            }
        }
    }
}

/// Min-heap entry: the next run of a district, ordered by its key, then district.
struct Next {
    key: Key,
    district: usize,
}

impl PartialEq for Next {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Next {}
impl PartialOrd for Next {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Next {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_keys(&other.key, &self.key).then(other.district.cmp(&self.district))
    }
}

/// From the lower corner of the box, K − Σ lo more places, smallest `key_of` first (ties:
/// lower district first), at most up to the upper corner. Returns the places and the key
/// of the last place taken (`None` when none was needed).
fn fill_by(
    districts: &[SeparableDistrict],
    k: u64,
    lo: &[u64],
    hi: &[u64],
    key_of: impl Fn(&Key) -> Key,
) -> (Vec<u64>, Option<Key>) {
    let mut places = lo.to_vec();
    let mut left = k.saturating_sub(places.iter().sum::<u64>());
    let mut cursors: Vec<Cursor> = districts
        .iter()
        .zip(lo)
        .map(|(d, &from)| Cursor::at(&d.blocks, from))
        .collect();
    let mut heap: BinaryHeap<Next> = (0..districts.len())
        .filter(|&d| places[d] < hi[d])
        .filter_map(|d| {
            cursors[d].next_run().map(|(key, _)| Next {
                key: key_of(&key),
                district: d,
            })
        })
        .collect();
    let mut last = None;
    while left > 0 {
        let Some(Next { key, district: d }) = heap.pop() else {
            break;
        };
        let (_, run) = cursors[d]
            .next_run()
            .expect("a queued district has places left");
        let take = run.min(hi[d] - places[d]).min(left);
        places[d] += take;
        left -= take;
        cursors[d].advance(take);
        last = Some(key);
        if places[d] < hi[d] {
            if let Some((key, _)) = cursors[d].next_run() {
                heap.push(Next {
                    key: key_of(&key),
                    district: d,
                });
            }
        }
    }
    (places, last)
}

/// Stage D or E inside the box: fill from the lower corner by key component `component`;
/// the box shrinks to the places with a smaller key than the last one taken (all of them)
/// and those with an equal key (any of them).
fn per_place_box(
    districts: &[SeparableDistrict],
    k: u64,
    component: usize,
    lo: &mut [u64],
    hi: &mut [u64],
) {
    let only = |key: &Key| {
        let mut one = [0.0; 2];
        one[0] = key[component];
        one
    };
    let (_, last) = fill_by(districts, k, lo, hi, only);
    let Some(theta) = last else {
        // Nothing to add: the lower corner is the only optimum.
        hi.copy_from_slice(lo);
        return;
    };
    let theta = theta[0];
    for (d, district) in districts.iter().enumerate() {
        let mut cursor = Cursor::at(&district.blocks, lo[d]);
        let (mut below, mut at_most) = (0u64, 0u64);
        let room = hi[d] - lo[d];
        while at_most < room {
            let Some((key, run)) = cursor.next_run() else {
                break;
            };
            let run = run.min(room - at_most);
            if key[component] < theta {
                debug_assert_eq!(below, at_most, "keys ascend inside the box");
                below += run;
                at_most += run;
            } else if key[component] == theta {
                at_most += run;
            } else {
                break;
            }
            cursor.advance(run);
        }
        hi[d] = lo[d] + at_most;
        lo[d] += below;
    }
}

/// A plan in the box: from the lower corner, smallest keys first (then lower districts).
fn fill_box(districts: &[SeparableDistrict], k: u64, lo: &[u64], hi: &[u64]) -> Vec<u64> {
    fill_by(districts, k, lo, hi, |key| *key).0
}

/// Marginal values: one more place of site capacity in d lets the plan take the next
/// increment there, instead of the dearest increment taken elsewhere (or, when places are
/// short, in addition to all of them).
fn marginal_values(
    districts: &[SeparableDistrict],
    demand: u64,
    k: u64,
    places: &[u64],
    site_room_only: &[u64],
) -> Vec<f64> {
    let count = districts.len();
    let top_taken = (0..count)
        .filter(|&d| places[d] > 0)
        .map(|d| slope(places[d], districts[d].kink))
        .fold(f64::NEG_INFINITY, f64::max);
    let shortfall = demand - k;
    (0..count)
        .map(|d| {
            let district = &districts[d];
            // Capacity helps only where the sites, not the share cap, limit the district.
            if places[d] < district.cap || site_room_only[d] > district.cap {
                return 0.0;
            }
            let next = slope(places[d] + 1, district.kink);
            let mut gain: f64 = 0.0;
            if shortfall > 0 {
                gain = gain.max(-next);
            }
            if top_taken.is_finite() {
                gain = gain.max(top_taken - next);
            }
            if gain.abs() < 1e-9 {
                0.0
            } else {
                gain
            }
        })
        .collect()
}

mod district;
mod fair;
pub mod nested;

pub use district::{Key, SeparableDistrict};
pub use fair::fair_bounds;
use fair::fair_box;
#[cfg(test)]
mod tests;
