//! Stage F in the separable model: the greedy over the districts' rising increments, the
//! box of its optimal plans, and the bounds of plans within a slack of it.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::district::SeparableDistrict;

/// New places per district that every plan with stage F's value at most `most` keeps, among
/// plans with each district in `bounds` (`[lo_d, hi_d]`) and Σ X_d = `k`; `None` when no
/// such plan exists. By duality with μ, the last increment the greedy takes: each
/// district's term less μ·X_d is convex and least at the greedy's X*_d, so a plan's value
/// exceeds the least by at least Σ_d of the distances |increment − μ| of the increments
/// between X*_d and its own X_d, and no district can move further than that slack allows.
pub fn fair_bounds(
    districts: &[SeparableDistrict],
    k: u64,
    bounds: &[(u64, u64)],
    most: f64,
) -> Option<Vec<(u64, u64)>> {
    let lo: Vec<u64> = bounds.iter().map(|b| b.0).collect();
    let hi: Vec<u64> = bounds.iter().map(|b| b.1).collect();
    if lo.iter().zip(&hi).any(|(l, h)| l > h)
        || lo.iter().sum::<u64>() > k
        || hi.iter().sum::<u64>() < k
    {
        return None;
    }
    if lo.iter().sum::<u64>() == k {
        return Some(lo.iter().map(|&l| (l, l)).collect());
    }
    let (places, mu) = fair_greedy(districts, k, &lo, &hi);
    let least: f64 = districts
        .iter()
        .zip(&places)
        .map(|(district, &x)| fair_term(district, x))
        .sum();
    let slack = most - least + 1e-9 * least.max(1.0);
    if slack < 0.0 {
        return None;
    }
    let out = districts
        .iter()
        .enumerate()
        .map(|(d, district)| {
            let at = places[d];
            // Up: increments from X*_d on (each at least μ).
            let mut up = at;
            let mut spent = 0.0;
            while up < hi[d] {
                let increment = fair_increment(district, up);
                if increment == 0.0 {
                    // From the share on every increment is 0: each costs −μ ≥ 0 more.
                    let left = hi[d] - up;
                    let more = if -mu <= 1e-12 {
                        left
                    } else {
                        (((slack - spent) / -mu).floor().max(0.0) as u64).min(left)
                    };
                    up += more;
                    break;
                }
                spent += increment - mu;
                if spent > slack {
                    break;
                }
                up += 1;
            }
            // Down: increments below X*_d (each at most μ).
            let mut down = at;
            let mut spent = 0.0;
            while down > lo[d] {
                spent += mu - fair_increment(district, down - 1);
                if spent > slack {
                    break;
                }
                down -= 1;
            }
            (down, up)
        })
        .collect();
    Some(out)
}

/// Stage F's term of a district with `x` new places: max(0, t − a)² / t.
fn fair_term(district: &SeparableDistrict, x: u64) -> f64 {
    if district.share <= 0.0 {
        return 0.0;
    }
    (district.kink - x as f64).max(0.0).powi(2) / district.share
}

/// Stage F's change in a district's term from `x` to `x + 1` new places (negative below the
/// share, 0 from it on; rising with `x`).
fn fair_increment(district: &SeparableDistrict, x: u64) -> f64 {
    fair_term(district, x + 1) - fair_term(district, x)
}

/// From the lower corner, the K − Σ lo cheapest increments up to the upper corner: the
/// places and the last increment taken (μ; 0 when none was needed).
fn fair_greedy(districts: &[SeparableDistrict], k: u64, lo: &[u64], hi: &[u64]) -> (Vec<u64>, f64) {
    #[derive(PartialEq)]
    struct Next(f64, usize);
    impl Eq for Next {}
    impl PartialOrd for Next {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Next {
        fn cmp(&self, other: &Self) -> Ordering {
            other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
        }
    }
    let mut places = lo.to_vec();
    let mut left = k.saturating_sub(places.iter().sum::<u64>());
    if left == 0 {
        return (places, 0.0);
    }
    let mut heap: BinaryHeap<Next> = (0..districts.len())
        .filter(|&d| places[d] < hi[d])
        .map(|d| Next(fair_increment(&districts[d], places[d]), d))
        .collect();
    let mut mu = 0.0;
    while left > 0 {
        let Some(Next(increment, d)) = heap.pop() else {
            break;
        };
        // A district's increments are 0 from its share on: take them all at once.
        let take = if increment == 0.0 {
            (hi[d] - places[d]).min(left)
        } else {
            1
        };
        places[d] += take;
        left -= take;
        mu = increment;
        if places[d] < hi[d] {
            heap.push(Next(fair_increment(&districts[d], places[d]), d));
        }
    }
    (places, mu)
}

/// Stage F inside the box: from the lower corner, the K − Σ lo cheapest increments (a heap
/// over the districts' next increments; each district's increments rise, so the greedy is
/// exact); the box shrinks to the increments cheaper than the last one taken (all of them)
/// and those equal to it (any of them), found per district by bisection.
pub(super) fn fair_box(districts: &[SeparableDistrict], k: u64, lo: &mut [u64], hi: &mut [u64]) {
    if k <= lo.iter().sum::<u64>() {
        hi.copy_from_slice(lo);
        return;
    }
    let (_, mu) = fair_greedy(districts, k, lo, hi);
    let tolerance = 1e-9 * mu.abs().max(1.0);
    for (d, district) in districts.iter().enumerate() {
        // The first place in [lo, hi] whose increment is not below `limit` (increments rise).
        let first_not_below = |limit: f64| {
            let (mut a, mut b) = (lo[d], hi[d]);
            while a < b {
                let m = a + (b - a) / 2;
                if fair_increment(district, m) < limit {
                    a = m + 1;
                } else {
                    b = m;
                }
            }
            a
        };
        let least = first_not_below(mu - tolerance);
        let most = {
            let (mut a, mut b) = (lo[d], hi[d]);
            while a < b {
                let m = a + (b - a) / 2;
                if fair_increment(district, m) <= mu + tolerance {
                    a = m + 1;
                } else {
                    b = m;
                }
            }
            a
        };
        lo[d] = least;
        hi[d] = most;
    }
}
