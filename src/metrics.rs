//! The reported figures of a plan (docs/model.md "Reported figures"): fair shares, deviations,
//! the dissimilarity index and places per 1,000 residents. Pure functions of the instance,
//! the site → district assignment and the plan.

use serde::Serialize;

use crate::model::{Instance, Plan, SiteStatus};
use crate::spatial::sums_around;

/// Figures of one district.
#[derive(Debug, Clone, Serialize)]
pub struct DistrictFigures {
    /// e_d: the `existing` property plus occupied places of existing sites located in d.
    pub existing: f64,
    /// t_d = T · w_d / W with T = N + Σ e.
    pub target: f64,
    pub new: f64,
    /// a_d = e_d + new.
    pub total: f64,
    /// a_d − t_d.
    pub deviation: f64,
    /// Places per 1,000 residents; `None` without residents.
    pub per_1000: Option<f64>,
}

/// Figures of the whole plan.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub demand: u64,
    pub placed: u64,
    pub shortfall: u64,
    pub existing: f64,
    /// Sites that receive new places.
    pub sites_used: usize,
    /// Σ_d |a_d − t_d| (the evenness stage's objective).
    pub evenness: f64,
    /// Duncan's D = ½ Σ_d |a_d/A − w_d/W| (0 when no places at all).
    pub dissimilarity: f64,
    pub max_abs_deviation: f64,
    /// max_d |a_d − t_d| / t_d over districts with t_d > 0.
    pub max_rel_deviation: f64,
    /// The district with the largest absolute deviation.
    pub worst_district: Option<usize>,
    /// Σ_d max(0, t_d − a_d)² / t_d over districts with t_d > 0 (stage fair's objective).
    pub fair: f64,
    /// min(1, a_d / t_d), the smallest over districts with t_d > 0 (1 when none has one).
    pub min_share_reached: f64,
    /// The district that reaches the smallest part of its share, when one is below it.
    pub least_reached: Option<usize>,
    /// Over districts with residents.
    pub per_1000_min: f64,
    pub per_1000_median: f64,
    pub per_1000_max: f64,
    pub districts: Vec<DistrictFigures>,
}

/// Computes every figure; only sites inside a district count (with their occupied places).
pub fn figures(instance: &Instance, site_district: &[Option<u32>], plan: &Plan) -> Figures {
    figures_at(instance, site_district, plan, instance.demand)
}

/// As `figures`, for a demand of `demand` new places (a level of the forecast).
pub fn figures_at(
    instance: &Instance,
    site_district: &[Option<u32>],
    plan: &Plan,
    demand: u64,
) -> Figures {
    let count = instance.districts.len();
    let mut existing: Vec<f64> = instance.districts.iter().map(|d| d.existing).collect();
    let mut new = vec![0.0f64; count];
    let mut placed = 0u64;
    for (s, site) in instance.sites.iter().enumerate() {
        let places = plan.places.get(s).copied().unwrap_or(0);
        placed += u64::from(places);
        if let Some(d) = site_district.get(s).copied().flatten() {
            existing[d as usize] += f64::from(site.occupied);
            new[d as usize] += f64::from(places);
        }
    }
    let total_weight: f64 = instance.districts.iter().map(|d| d.weight).sum();
    let all_existing: f64 = existing.iter().sum();
    let total_places = demand as f64 + all_existing;
    let districts: Vec<DistrictFigures> = (0..count)
        .map(|d| {
            let district = &instance.districts[d];
            let target = if total_weight > 0.0 {
                total_places * district.weight / total_weight
            } else {
                0.0
            };
            let total = existing[d] + new[d];
            DistrictFigures {
                existing: existing[d],
                target,
                new: new[d],
                total,
                deviation: total - target,
                per_1000: (district.population > 0.0).then(|| total * 1000.0 / district.population),
            }
        })
        .collect();

    let allocated: f64 = districts.iter().map(|d| d.total).sum();
    let dissimilarity = if allocated > 0.0 && total_weight > 0.0 {
        0.5 * instance
            .districts
            .iter()
            .zip(&districts)
            .map(|(district, f)| (f.total / allocated - district.weight / total_weight).abs())
            .sum::<f64>()
    } else {
        0.0
    };
    let evenness = districts.iter().map(|d| d.deviation.abs()).sum();
    let mut worst_district = None;
    let mut max_abs_deviation = 0.0f64;
    for (d, f) in districts.iter().enumerate() {
        if f.deviation.abs() > max_abs_deviation {
            max_abs_deviation = f.deviation.abs();
            worst_district = Some(d);
        }
    }
    let max_rel_deviation = districts
        .iter()
        .filter(|d| d.target > 0.0)
        .map(|d| d.deviation.abs() / d.target)
        .fold(0.0, f64::max);
    let fair = districts
        .iter()
        .filter(|d| d.target > 0.0 && d.total < d.target)
        .map(|d| (d.target - d.total).powi(2) / d.target)
        .sum();
    let mut min_share_reached = 1.0f64;
    let mut least_reached = None;
    for (d, f) in districts.iter().enumerate() {
        if f.target > 0.0 && f.total / f.target < min_share_reached {
            min_share_reached = f.total / f.target;
            least_reached = Some(d);
        }
    }
    let mut per_1000: Vec<f64> = districts.iter().filter_map(|d| d.per_1000).collect();
    per_1000.sort_by(f64::total_cmp);
    let median = match per_1000.len() {
        0 => 0.0,
        n if n % 2 == 1 => per_1000[n / 2],
        n => 0.5 * (per_1000[n / 2 - 1] + per_1000[n / 2]),
    };
    Figures {
        demand,
        placed,
        shortfall: demand.saturating_sub(placed),
        existing: all_existing,
        sites_used: plan.places.iter().filter(|&&p| p > 0).count(),
        evenness,
        dissimilarity,
        max_abs_deviation,
        max_rel_deviation,
        worst_district,
        fair,
        min_share_reached,
        least_reached,
        per_1000_min: per_1000.first().copied().unwrap_or(0.0),
        per_1000_median: median,
        per_1000_max: per_1000.last().copied().unwrap_or(0.0),
        districts,
    }
}

/// The figures of one level of a nested plan.
#[derive(Debug, Clone)]
pub struct LevelFigures {
    /// N_l.
    pub places: u64,
    /// ω_l.
    pub weight: f64,
    pub plan: Plan,
    pub figures: Figures,
    /// Sites with new places at this level and none at the level before.
    pub sites_opened: usize,
    /// D of the best plan for this level alone, when known.
    pub dissimilarity_alone: Option<f64>,
}

impl LevelFigures {
    /// What staging costs in evenness at this level: D − D of the level alone.
    pub fn price_of_nesting(&self) -> Option<f64> {
        // Equal plans differ by rounding noise only: that is no price.
        self.dissimilarity_alone.map(|alone| {
            let price = self.figures.dissimilarity - alone;
            if price.abs() < 1e-9 {
                0.0
            } else {
                price
            }
        })
    }
}

/// The figures of every level: `plans[l]` for the instance's level l, and the best plans
/// for each level alone when known.
pub fn level_figures(
    instance: &Instance,
    site_district: &[Option<u32>],
    plans: &[Plan],
    alone: Option<&[Plan]>,
) -> Vec<LevelFigures> {
    let levels = instance.demand_levels();
    plans
        .iter()
        .zip(&levels)
        .enumerate()
        .map(|(l, (plan, level))| {
            let before = l.checked_sub(1).map(|b| &plans[b]);
            LevelFigures {
                places: level.places,
                weight: level.weight,
                plan: plan.clone(),
                figures: figures_at(instance, site_district, plan, level.places),
                sites_opened: plan
                    .places
                    .iter()
                    .enumerate()
                    .filter(|&(s, &x)| x > 0 && before.is_none_or(|b| b.places[s] == 0))
                    .count(),
                dissimilarity_alone: alone.and_then(|a| a.get(l)).map(|own| {
                    figures_at(instance, site_district, own, level.places).dissimilarity
                }),
            }
        })
        .collect()
}

/// docs/model.md stage S as a figure: the most new places within `metres` of any candidate or
/// existing site inside a district, counting the new places of such sites (the centre
/// included), and the site where that is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MostNewWithin {
    pub places: u64,
    pub metres: f64,
    /// Index of the site at the centre of a neighbourhood with that many (`None` without
    /// new places).
    #[serde(skip)]
    pub site: Option<usize>,
}

pub fn most_new_within(
    instance: &Instance,
    site_district: &[Option<u32>],
    plan: &Plan,
    metres: f64,
) -> MostNewWithin {
    let counted = |s: usize| {
        instance.sites[s].status != SiteStatus::Excluded
            && site_district.get(s).copied().flatten().is_some()
    };
    let centres: Vec<usize> = (0..instance.sites.len()).filter(|&s| counted(s)).collect();
    let positions: Vec<[f64; 2]> = centres
        .iter()
        .map(|&s| instance.sites[s].position)
        .collect();
    let placed: Vec<([f64; 2], f64)> = (0..instance.sites.len())
        .filter(|&s| counted(s) && plan.places.get(s).is_some_and(|&x| x > 0))
        .map(|s| (instance.sites[s].position, f64::from(plan.places[s])))
        .collect();
    let sums = sums_around(&positions, &placed, metres);
    let mut best = MostNewWithin {
        places: 0,
        metres,
        site: None,
    };
    for (i, &sum) in sums.iter().enumerate() {
        let places = sum.round() as u64;
        if places > best.places {
            best.places = places;
            best.site = Some(centres[i]);
        }
    }
    best
}

/// docs/model.md stage E as figures: for each facility kind, the mean straight-line distance in
/// metres from a new place to the nearest facility of that kind (`None` without new
/// places). `nearest` is `Geography::nearest` (per layer of `instance.facilities`).
pub fn mean_distances(
    instance: &Instance,
    nearest: &[Vec<Option<crate::spatial::Nearest>>],
    plan: &Plan,
    kinds: &[String],
) -> Vec<(String, Option<f64>)> {
    kinds
        .iter()
        .map(|kind| {
            let Some(layer) = instance.facilities.iter().position(|l| &l.kind == kind) else {
                return (kind.clone(), None);
            };
            let (mut sum, mut places) = (0.0, 0u64);
            for (s, &x) in plan.places.iter().enumerate() {
                if let (true, Some(n)) = (x > 0, nearest[layer][s]) {
                    sum += n.metres * f64::from(x);
                    places += u64::from(x);
                }
            }
            (kind.clone(), (places > 0).then(|| sum / places as f64))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{District, ObjectiveOptions, Rules, SolverOptions, Stage};
    use geo::MultiPolygon;

    fn district(population: f64, existing: f64) -> District {
        District {
            id: "d".into(),
            name: "d".into(),
            population,
            weight: population,
            existing,
            area: MultiPolygon(Vec::new()),
            area_lonlat: MultiPolygon(Vec::new()),
            rule: None,
        }
    }

    fn instance(districts: Vec<District>, demand: u64) -> Instance {
        Instance {
            name: "t".into(),
            districts,
            sites: Vec::new(),
            facilities: Vec::new(),
            metric_crs: "EPSG:25832".into(),
            demand,
            rules: Rules::default(),
            levels: Vec::new(),
            stages: Stage::DEFAULT.to_vec(),
            objective: ObjectiveOptions::default(),
            solver: SolverOptions::default(),
            network: None,
        }
    }

    #[test]
    fn hand_computed_example() {
        // Populations 3,000 and 1,000, 10 places existing in the second, demand 30:
        // T = 40, targets 30 and 10. With no new places: a = (0, 10), deviations −30 and 0,
        // evenness 30, A = 10, D = ½ (|0 − 0.75| + |1 − 0.25|) = 0.75.
        let inst = instance(vec![district(3000.0, 0.0), district(1000.0, 10.0)], 30);
        let f = figures(&inst, &[], &Plan::empty(0));
        assert_eq!(f.districts[0].target, 30.0);
        assert_eq!(f.districts[1].target, 10.0);
        assert_eq!(f.evenness, 30.0);
        assert!((f.dissimilarity - 0.75).abs() < 1e-12);
        assert_eq!(f.shortfall, 30);
        assert_eq!(f.worst_district, Some(0));
        assert_eq!(f.max_rel_deviation, 1.0);
        assert_eq!(f.per_1000_min, 0.0);
        assert_eq!(f.per_1000_max, 10.0);
        assert_eq!(f.per_1000_median, 5.0);
    }
}
