//! The exact fast path for plans whose only constraints are per-district: when no site has
//! a minimum occupancy, no spacing ball and no school's seats can bind, the model of
//! MODEL.md falls apart into one variable per district, X_d ∈ [0, cap_d] with Σ X_d = K,
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
//! - D: the cheapest way to fill that box: start at its lower corner and add the remaining
//!   places one cost block at a time, cheapest first (each district's cost of X places is
//!   convex: its cheapest places first).
//!
//! This needs no solver and runs in O(D log D + sites); the property tests compare it with the
//! HiGHS model on random cities.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One district of the separable model.
#[derive(Debug, Clone)]
pub struct SeparableDistrict {
    /// Most new places the district can take (site room, share cap).
    pub cap: u64,
    /// Target minus existing places: the number of new places that would hit the target.
    pub kink: f64,
    /// Blocks of new places by cost (ascending cost): (cost, places).
    pub blocks: Vec<(f64, u64)>,
}

/// The new places per district.
#[derive(Debug, Clone)]
pub struct SeparablePlan {
    pub places: Vec<u64>,
    /// Per district: fall of the evenness sum per extra place of site capacity there.
    pub marginal_values: Vec<f64>,
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

/// Solves the stages; `worst` and `cost` say whether those stages run. `site_room_only` is
/// the room of each district's sites before its share cap (for marginal values).
pub fn solve_separable(
    districts: &[SeparableDistrict],
    demand: u64,
    worst: bool,
    site_room_only: &[u64],
) -> SeparablePlan {
    let count = districts.len();
    let total_cap: u64 = districts.iter().map(|d| d.cap).sum();
    let k = demand.min(total_cap);

    let (all_runs, lambda) = threshold(districts, k);
    let mut must = vec![0u64; count];
    let mut tied = vec![0u64; count];
    for (d, runs) in all_runs.iter().enumerate() {
        for &(s, n) in runs {
            if s < lambda - EPS {
                must[d] += n;
            } else if (s - lambda).abs() <= EPS {
                tied[d] += n;
            }
        }
    }
    let deviation = |d: usize, x: u64| (x as f64 - districts[d].kink).abs();

    // Stage C: the box where every district is within z of its target.
    let bounds = |z: f64| -> Option<(Vec<u64>, Vec<u64>)> {
        let mut lo = Vec::with_capacity(count);
        let mut hi = Vec::with_capacity(count);
        for d in 0..count {
            let kink = districts[d].kink;
            let low_z = (kink - z - EPS).ceil().max(0.0) as u64;
            let high_z = (kink + z + EPS).floor();
            let high_z = if high_z < 0.0 {
                None
            } else {
                Some(high_z as u64)
            };
            let l = must[d].max(low_z);
            let h = high_z.map(|h| h.min(must[d] + tied[d]))?;
            if l > h {
                return None;
            }
            lo.push(l);
            hi.push(h);
        }
        let sum_lo: u64 = lo.iter().sum();
        let sum_hi: u64 = hi.iter().sum();
        (sum_lo <= k && k <= sum_hi).then_some((lo, hi))
    };
    let (lo, hi) = if worst {
        let mut high = (0..count)
            .map(|d| deviation(d, must[d]).max(deviation(d, must[d] + tied[d])))
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
        bounds(high).unwrap_or_else(|| {
            (
                must.clone(),
                must.iter().zip(&tied).map(|(m, t)| m + t).collect(),
            )
        })
    } else {
        (
            must.clone(),
            must.iter().zip(&tied).map(|(m, t)| m + t).collect(),
        )
    };

    // Stage D: fill from the lower corner, cheapest places first.
    let mut places = lo.clone();
    let mut left = k - places.iter().sum::<u64>().min(k);
    // Position in each district's cost blocks after its first `places[d]` places.
    let mut cursor: Vec<(usize, u64)> = vec![(0, 0); count];
    let advance = |d: usize, mut n: u64, cursor: &mut (usize, u64)| {
        let blocks = &districts[d].blocks;
        while n > 0 && cursor.0 < blocks.len() {
            let room = blocks[cursor.0].1 - cursor.1;
            let take = room.min(n);
            cursor.1 += take;
            n -= take;
            if cursor.1 == blocks[cursor.0].1 {
                *cursor = (cursor.0 + 1, 0);
            }
        }
    };
    for d in 0..count {
        advance(d, places[d], &mut cursor[d]);
    }
    #[derive(PartialEq)]
    struct Next(f64, usize);
    impl Eq for Next {}
    impl PartialOrd for Next {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Next {
        // Min-heap on cost, then district index.
        fn cmp(&self, other: &Self) -> Ordering {
            other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
        }
    }
    let next_cost =
        |d: usize, cursor: &(usize, u64)| districts[d].blocks.get(cursor.0).map(|b| b.0);
    let mut heap: BinaryHeap<Next> = (0..count)
        .filter(|&d| places[d] < hi[d])
        .filter_map(|d| next_cost(d, &cursor[d]).map(|c| Next(c, d)))
        .collect();
    while left > 0 {
        let Some(Next(_, d)) = heap.pop() else { break };
        let (b, used) = cursor[d];
        let block_left = districts[d].blocks[b].1 - used;
        let take = block_left.min(hi[d] - places[d]).min(left);
        places[d] += take;
        left -= take;
        advance(d, take, &mut cursor[d]);
        if places[d] < hi[d] {
            if let Some(c) = next_cost(d, &cursor[d]) {
                heap.push(Next(c, d));
            }
        }
    }

    // Marginal values: one more place of site capacity in d lets the plan take the next
    // increment there, instead of the dearest increment taken elsewhere (or, when places
    // are short, in addition to all of them).
    let top_taken = (0..count)
        .filter(|&d| places[d] > 0)
        .map(|d| slope(places[d], districts[d].kink))
        .fold(f64::NEG_INFINITY, f64::max);
    let shortfall = demand - k;
    let marginal_values = (0..count)
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
        .collect();

    SeparablePlan {
        places,
        marginal_values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evenness(districts: &[SeparableDistrict], plan: &SeparablePlan) -> f64 {
        districts
            .iter()
            .zip(&plan.places)
            .map(|(d, &x)| (x as f64 - d.kink).abs())
            .sum()
    }

    fn worst(districts: &[SeparableDistrict], plan: &SeparablePlan) -> f64 {
        districts
            .iter()
            .zip(&plan.places)
            .map(|(d, &x)| (x as f64 - d.kink).abs())
            .fold(0.0, f64::max)
    }

    fn district(cap: u64, kink: f64) -> SeparableDistrict {
        SeparableDistrict {
            cap,
            kink,
            blocks: vec![(0.0, cap)],
        }
    }

    /// Every plan within the slack of the evenness optimum lies within the bounds (checked
    /// against all plans of small random cities).
    #[test]
    fn evenness_bounds_hold_every_near_optimal_plan() {
        let mut seed = 12345u64;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for _ in 0..300 {
            let count = 2 + next(3) as usize;
            let city: Vec<SeparableDistrict> = (0..count)
                .map(|_| district(next(5), next(40) as f64 / 8.0 - 1.0))
                .collect();
            let demand = next(12);
            let slack = [0.0, 0.3, 1.0][next(3) as usize];
            let bounds = evenness_bounds(&city, demand, slack);
            let k = demand.min(city.iter().map(|d| d.cap).sum());
            let mut plans = vec![Vec::new()];
            for d in &city {
                plans = plans
                    .into_iter()
                    .flat_map(|p: Vec<u64>| {
                        (0..=d.cap).map(move |x| {
                            let mut p = p.clone();
                            p.push(x);
                            p
                        })
                    })
                    .collect();
            }
            plans.retain(|p| p.iter().sum::<u64>() == k);
            let value = |p: &Vec<u64>| -> f64 {
                p.iter()
                    .zip(&city)
                    .map(|(&x, d)| (x as f64 - d.kink).abs())
                    .sum()
            };
            let best = plans.iter().map(value).fold(f64::INFINITY, f64::min);
            for plan in plans.iter().filter(|p| value(p) <= best + slack + 1e-9) {
                for (x, (lo, hi)) in plan.iter().zip(&bounds) {
                    assert!(lo <= x && x <= hi, "{plan:?} outside {bounds:?}");
                }
            }
        }
    }

    #[test]
    fn proportional_when_capacity_allows() {
        let city = [district(40, 30.0), district(40, 10.0)];
        let plan = solve_separable(&city, 40, true, &[40, 40]);
        assert_eq!(plan.places, vec![30, 10]);
        assert_eq!(evenness(&city, &plan), 0.0);
    }

    #[test]
    fn a_capped_district_pushes_places_elsewhere() {
        let city = [district(10, 30.0), district(50, 10.0)];
        let plan = solve_separable(&city, 40, true, &[10, 50]);
        assert_eq!(plan.places, vec![10, 30]);
        assert!((evenness(&city, &plan) - 40.0).abs() < 1e-9);
        // One more place in the first district replaces one above target in the second.
        assert!((plan.marginal_values[0] - 2.0).abs() < 1e-9);
        assert_eq!(plan.marginal_values[1], 0.0);
    }

    #[test]
    fn worst_district_spreads_the_surplus() {
        // Both at target 5 with 14 places: 7 + 7 (worst 2), not 9 + 5.
        let city = [district(20, 5.0), district(20, 5.0)];
        let plan = solve_separable(&city, 14, true, &[20, 20]);
        assert_eq!(plan.places, vec![7, 7]);
        assert_eq!(worst(&city, &plan), 2.0);
    }

    #[test]
    fn cost_picks_the_cheaper_district_among_equally_even_plans() {
        let dear = SeparableDistrict {
            cap: 20,
            kink: 5.0,
            blocks: vec![(300.0, 20)],
        };
        let cheap = SeparableDistrict {
            cap: 20,
            kink: 5.0,
            blocks: vec![(100.0, 20)],
        };
        // 11 places: 5 + 5 at target, one more anywhere; worst 1 either way → cheaper.
        let plan = solve_separable(&[dear, cheap], 11, true, &[20, 20]);
        assert_eq!(plan.places, vec![5, 6]);
    }
}
