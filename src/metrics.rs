//! The reported figures of a plan (MODEL.md "Reported figures"): fair shares, deviations,
//! the dissimilarity index and places per 1,000 residents. Pure functions of the instance,
//! the site → district assignment and the plan.

use serde::Serialize;

use crate::model::{Instance, Plan};

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
    /// Over districts with residents.
    pub per_1000_min: f64,
    pub per_1000_median: f64,
    pub per_1000_max: f64,
    pub districts: Vec<DistrictFigures>,
}

/// Computes every figure; only sites inside a district count (with their occupied places).
pub fn figures(instance: &Instance, site_district: &[Option<u32>], plan: &Plan) -> Figures {
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
    let total_places = instance.demand as f64 + all_existing;
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
    let mut per_1000: Vec<f64> = districts.iter().filter_map(|d| d.per_1000).collect();
    per_1000.sort_by(f64::total_cmp);
    let median = match per_1000.len() {
        0 => 0.0,
        n if n % 2 == 1 => per_1000[n / 2],
        n => 0.5 * (per_1000[n / 2 - 1] + per_1000[n / 2]),
    };
    Figures {
        demand: instance.demand,
        placed,
        shortfall: instance.demand.saturating_sub(placed),
        existing: all_existing,
        sites_used: plan.places.iter().filter(|&&p| p > 0).count(),
        evenness,
        dissimilarity,
        max_abs_deviation,
        max_rel_deviation,
        worst_district,
        per_1000_min: per_1000.first().copied().unwrap_or(0.0),
        per_1000_median: median,
        per_1000_max: per_1000.last().copied().unwrap_or(0.0),
        districts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{District, Rules, SolverOptions, Stage};
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
            demand,
            rules: Rules::default(),
            stages: Stage::ALL.to_vec(),
            solver: SolverOptions::default(),
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
