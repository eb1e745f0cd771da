//! STUB (replaced by the metrics module).
use crate::model::{Instance, Plan};
#[derive(Debug, Clone, serde::Serialize)]
pub struct DistrictFigures {
    pub existing: f64,
    pub target: f64,
    pub new: f64,
    pub total: f64,
    pub deviation: f64,
    pub per_1000: Option<f64>,
}
#[derive(Debug, Clone, serde::Serialize)]
pub struct Figures {
    pub demand: u64,
    pub placed: u64,
    pub shortfall: u64,
    pub existing: f64,
    pub sites_used: usize,
    pub evenness: f64,
    pub dissimilarity: f64,
    pub max_abs_deviation: f64,
    pub max_rel_deviation: f64,
    pub worst_district: Option<usize>,
    pub per_1000_min: f64,
    pub per_1000_median: f64,
    pub per_1000_max: f64,
    pub districts: Vec<DistrictFigures>,
}
pub fn figures(instance: &Instance, site_district: &[Option<u32>], plan: &Plan) -> Figures {
    let n = instance.districts.len();
    let mut e: Vec<f64> = instance.districts.iter().map(|d| d.existing).collect();
    let mut x = vec![0.0; n];
    for (s, site) in instance.sites.iter().enumerate() {
        if let Some(d) = site_district[s] {
            e[d as usize] += site.occupied as f64;
            x[d as usize] += plan.places[s] as f64;
        }
    }
    let w: f64 = instance.districts.iter().map(|d| d.weight).sum();
    let t_all = instance.demand as f64 + e.iter().sum::<f64>();
    let mut ds = vec![];
    let mut ev = 0.0;
    let mut worst = None;
    let mut maxabs: f64 = 0.0;
    for d in 0..n {
        let t = t_all * instance.districts[d].weight / w;
        let tot = e[d] + x[d];
        let dev = tot - t;
        ev += dev.abs();
        if dev.abs() > maxabs {
            maxabs = dev.abs();
            worst = Some(d);
        }
        ds.push(DistrictFigures {
            existing: e[d],
            target: t,
            new: x[d],
            total: tot,
            deviation: dev,
            per_1000: (instance.districts[d].population > 0.0)
                .then(|| tot * 1000.0 / instance.districts[d].population),
        });
    }
    let placed = plan.placed();
    Figures {
        demand: instance.demand,
        placed,
        shortfall: instance.demand.saturating_sub(placed),
        existing: e.iter().sum(),
        sites_used: plan.places.iter().filter(|&&p| p > 0).count(),
        evenness: ev,
        dissimilarity: 0.0,
        max_abs_deviation: maxabs,
        max_rel_deviation: 0.0,
        worst_district: worst,
        per_1000_min: 0.0,
        per_1000_median: 0.0,
        per_1000_max: 0.0,
        districts: ds,
    }
}
