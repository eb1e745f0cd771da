//! The range of each district's new places at each level in every plan that holds the
//! levels at their own optima (and the stages' tolerance) in the stages that count
//! districts' places.
//!
//! The separable model (site room and share caps per district; no minimum occupancy, seats
//! or spacing) is a relaxation of each level, so every plan that meets a level's pins keeps
//! each district within what the relaxation allows at those values: evenness within its
//! slack (`separable::evenness_bounds`), the worst district's deviation, and stage fair
//! within its slack (`separable::fair_bounds`), in that order, each inside the bounds
//! before. Used as rows of the program of all levels (`highs::pins`) and by the bound on
//! nested cost (`nested_cost`).

use crate::model::{Instance, Stage};
use crate::solve::model::districts::{separable_districts, site_room_by_district};
use crate::solve::model::prepare::Prepared;
use crate::solve::model::separable::{
    evenness_bounds, fair_bounds, solve_separable, SeparableDistrict,
};

/// One district's new places at one level: at least `least`, at most `most`, of the
/// district's `cap` (site room and share cap).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Range {
    pub(crate) least: u64,
    pub(crate) most: u64,
    pub(crate) cap: u64,
}

/// One level's ranges: the places it places in all (`placed`, fixed by its held
/// shortfall) and each district's range.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LevelRanges {
    pub(crate) placed: u64,
    pub(crate) districts: Vec<Range>,
}

/// Per level, each district's range, or `None` for a level the pins do not bound (its
/// count of places is not fixed, or the relaxation cannot meet them). `own[stage][l]` is
/// level l's own optimum in the stage, `allowed[stage][l]` the most it may have; shortfall
/// must be among them (else no level is bounded).
pub(crate) fn pinned_ranges(
    instance: &Instance,
    levels: &[Prepared],
    own: &[(Stage, Vec<f64>)],
    allowed: &[(Stage, Vec<f64>)],
) -> Vec<Option<LevelRanges>> {
    let value = |values: &[(Stage, Vec<f64>)], stage: Stage, l: usize| {
        values
            .iter()
            .find(|(s, _)| *s == stage)
            .map(|(_, values)| values[l])
    };
    // The levels differ only in demand and fair shares: the caps are the same at every level.
    let Some(last) = levels.last() else {
        return Vec::new();
    };
    let (caps, _) = separable_districts(instance, last);
    let site_room = site_room_by_district(instance, last);
    levels
        .iter()
        .enumerate()
        .map(|(l, level)| {
            let shortfall = value(own, Stage::Shortfall, l)?;
            let most_shortfall = value(allowed, Stage::Shortfall, l)?;
            let placed = held_placed(level.demand, shortfall, most_shortfall)?;
            let districts: Vec<SeparableDistrict> = caps
                .iter()
                .enumerate()
                .map(|(d, district)| SeparableDistrict {
                    cap: district.cap,
                    kink: level.target[d] - level.district_existing[d],
                    share: level.target[d],
                    blocks: vec![([0.0; 2], district.cap)],
                })
                .collect();
            let bounds = level_bounds(&districts, &site_room, placed, |stage| {
                value(allowed, stage, l)
            })?;
            Some(LevelRanges {
                placed,
                districts: bounds
                    .iter()
                    .zip(&districts)
                    .map(|(&(least, most), district)| Range {
                        least,
                        most,
                        cap: district.cap,
                    })
                    .collect(),
            })
        })
        .collect()
}

/// How many places a level places when its shortfall is held at most at `most` above its
/// own `shortfall`: shortfall is a whole number, so exactly the level's own unless the
/// allowance reaches the next one (then `None`: several counts are allowed).
fn held_placed(demand: u64, shortfall: f64, most: f64) -> Option<u64> {
    let shortfall = shortfall.round();
    if (most + 1e-9).floor() > shortfall || shortfall < 0.0 {
        return None;
    }
    demand.checked_sub(shortfall as u64)
}

/// One level's bounds per district: (least, most). `None` where the relaxation cannot place
/// `placed`, or reaches what the pins allow in no plan (then the program decides).
fn level_bounds(
    districts: &[SeparableDistrict],
    site_room: &[u64],
    placed: u64,
    most: impl Fn(Stage) -> Option<f64>,
) -> Option<Vec<(u64, u64)>> {
    let total_cap: u64 = districts.iter().map(|d| d.cap).sum();
    if placed > total_cap {
        return None;
    }
    let mut bounds: Vec<(u64, u64)> = districts.iter().map(|d| (0, d.cap)).collect();
    if let Some(evenness) = most(Stage::Evenness) {
        let relaxed = solve_separable(districts, placed, &[], site_room);
        let least: f64 = districts
            .iter()
            .zip(&relaxed.places)
            .map(|(d, &x)| (x as f64 - d.kink).abs())
            .sum();
        if evenness < least - 1e-9 * least.max(1.0) {
            return None;
        }
        bounds = evenness_bounds(districts, placed, evenness - least);
    }
    if let Some(z) = most(Stage::Worst) {
        for (bound, district) in bounds.iter_mut().zip(districts) {
            let low = (district.kink - z - 1e-9).ceil().max(0.0) as u64;
            let high = (district.kink + z + 1e-9).floor();
            if high < 0.0 {
                return None;
            }
            *bound = (bound.0.max(low), bound.1.min(high as u64));
            if bound.0 > bound.1 {
                return None;
            }
        }
    }
    if let Some(fair) = most(Stage::Fair) {
        bounds = fair_bounds(districts, placed, &bounds, fair)?;
    }
    Some(bounds)
}

#[cfg(test)]
mod tests {
    use super::held_placed;

    /// A light level (ω = 1.2e-6) may be held up to 0.83 places above its own shortfall:
    /// it still places exactly its own count (rounding the allowance once made it a place
    /// fewer); from a whole place on, no count is fixed.
    #[test]
    fn a_held_shortfall_below_a_place_fixes_the_count() {
        assert_eq!(held_placed(10, 0.0, 0.0), Some(10));
        assert_eq!(held_placed(10, 0.0, 0.83), Some(10));
        assert_eq!(held_placed(10, 2.0, 2.96), Some(8));
        assert_eq!(held_placed(10, 0.0, 1.0), None);
        assert_eq!(held_placed(10, 2.0, 3.5), None);
        assert_eq!(held_placed(1, 2.0, 2.0), None);
    }
}
