//! The stages' objectives (docs/model.md) evaluated for plans: one level's value of a stage
//! (`stage_value`), the weighted sum over nested levels (`weighted_stage_values`), and
//! whether a stage runs at all (`runs`). Every route reports its stage values through them.

use super::prepare::Prepared;
use crate::model::{Instance, Plan, Stage};

/// The value of a stage's objective for a plan of one level (the stage optimum when the
/// plan is optimal).
pub fn stage_value(stage: Stage, instance: &Instance, prepared: &Prepared, plan: &Plan) -> f64 {
    let allocated = || {
        let mut allocated = prepared.district_existing.clone();
        for (site, &places) in plan.places.iter().enumerate() {
            if let Some(d) = prepared.site_district[site] {
                allocated[d as usize] += f64::from(places);
            }
        }
        allocated
    };
    let deviations = || {
        allocated()
            .into_iter()
            .zip(&prepared.target)
            .map(|(a, t)| (a - t).abs())
            .collect::<Vec<f64>>()
    };
    match stage {
        Stage::Shortfall => (prepared.demand - plan.placed().min(prepared.demand)) as f64,
        Stage::Evenness => deviations().iter().sum(),
        Stage::Fair => allocated()
            .into_iter()
            .zip(&prepared.target)
            .map(|(a, &t)| fair_term(a, t))
            .sum(),
        Stage::Worst => deviations().into_iter().fold(0.0, f64::max),
        Stage::Spread => prepared.spread_balls(instance).most_new(instance, plan) as f64,
        Stage::Access => prepared
            .access_distance
            .iter()
            .zip(&plan.places)
            .map(|(&d, &x)| d * f64::from(x))
            .sum(),
        Stage::Cost => instance
            .sites
            .iter()
            .zip(&plan.places)
            .map(|(s, &x)| s.cost.unwrap_or(0.0) * f64::from(x))
            .sum(),
    }
}

/// The value of each of `stages` for nested plans (one per level): the ω-weighted sum over
/// the levels, evenness, fair and worst scaled by T^L/T^l (docs/model.md, levels). With one level of
/// weight 1, the plain values.
pub(crate) fn weighted_stage_values(
    instance: &Instance,
    levels: &[Prepared],
    weights: &[f64],
    plans: &[Plan],
    stages: &[Stage],
) -> Vec<(Stage, f64)> {
    let scales = level_scales(levels);
    stages
        .iter()
        .filter(|&&stage| runs(instance, stage))
        .map(|&stage| {
            let value = if levels.len() == 1 {
                stage_value(stage, instance, &levels[0], &plans[0])
            } else {
                levels
                    .iter()
                    .zip(weights)
                    .zip(plans)
                    .zip(&scales)
                    .map(|(((level, &weight), plan), &scale)| {
                        let scale = match stage {
                            Stage::Evenness | Stage::Fair | Stage::Worst => scale,
                            _ => 1.0,
                        };
                        weight * scale * stage_value(stage, instance, level, plan)
                    })
                    .sum()
            };
            (stage, value)
        })
        .collect()
}

/// T^L/T^l for each level (T = N + Σ e_d): the factor of evenness, fair and worst district
/// in the levels' weighted sums (1 for a level with T = 0).
pub(crate) fn level_scales(levels: &[Prepared]) -> Vec<f64> {
    let total = |p: &Prepared| p.demand as f64 + p.district_existing.iter().sum::<f64>();
    let last = levels.last().map_or(1.0, total);
    levels
        .iter()
        .map(|p| {
            let t = total(p);
            if t > 0.0 {
                last / t
            } else {
                1.0
            }
        })
        .collect()
}

/// One district's term of stage fair: its deficit below the fair share `t`, squared and
/// divided by the share (0 for a district without a share).
pub fn fair_term(allocated: f64, t: f64) -> f64 {
    if t > 0.0 && allocated < t {
        (t - allocated) * (t - allocated) / t
    } else {
        0.0
    }
}

/// Whether the cost stage runs: it is skipped when no site has a cost.
pub(crate) fn runs(instance: &Instance, stage: Stage) -> bool {
    stage != Stage::Cost || instance.sites.iter().any(|s| s.cost.is_some())
}
