//! `[objective]` and `[solver]`: the stages in the planner's order, their options, and the
//! solver's time limit, gap and threads.

use super::keys::suggestion;
use super::raw::{RawObjective, RawSolver};
use super::rules::known_list;
use crate::model::{ObjectiveOptions, SolverOptions, Stage, DEFAULT_MIP_GAP};

/// `[objective] stages`: known names, none twice, shortfall and evenness first.
pub(super) fn parse_stages(names: &[String]) -> Result<Vec<Stage>, String> {
    let mut stages = Vec::new();
    for name in names {
        let stage = Stage::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Stage::EVERY.iter().map(|s| s.name()).collect();
            format!(
                "[objective] stages: unknown stage \"{name}\"{}; known stages: {}",
                suggestion(name, &known),
                known.join(", ")
            )
        })?;
        if stages.contains(&stage) {
            return Err(format!("[objective] stages: \"{name}\" is listed twice"));
        }
        stages.push(stage);
    }
    for (position, required) in [(0, Stage::Shortfall), (1, Stage::Evenness)] {
        if stages.get(position) != Some(&required) {
            return Err(format!(
                "[objective] stages must begin with \"shortfall\", \"evenness\" (evenness may not be dropped), then any of \"worst\", \"spread\", \"access\", \"cost\" in the order you want; found {names:?}"
            ));
        }
    }
    Ok(stages)
}

/// `[objective] spread_metres` and `access_kinds`.
pub(super) fn parse_objective(
    raw: &RawObjective,
    stages: &[Stage],
    facility_kinds: &[&String],
) -> Result<ObjectiveOptions, String> {
    let spread_metres = match &raw.spread_metres {
        None => None,
        Some(value) => {
            let metres = match value {
                toml::Value::Integer(n) => Some(*n as f64),
                toml::Value::Float(f) => Some(*f),
                _ => None,
            };
            Some(metres.filter(|m| m.is_finite() && *m > 0.0).ok_or_else(|| {
                format!("[objective] spread_metres must be a positive distance in metres, found {value}")
            })?)
        }
    };
    let access_kinds = match &raw.access_kinds {
        None => None,
        Some(kinds) => {
            if kinds.is_empty() {
                return Err("[objective] access_kinds is empty; name at least one facility kind, or leave it out for every kind".into());
            }
            for (index, kind) in kinds.iter().enumerate() {
                if !facility_kinds.contains(&kind) {
                    return Err(format!(
                        "[objective] access_kinds names the facility kind \"{kind}\", but [input.facilities] has no such layer{}",
                        known_list(facility_kinds)
                    ));
                }
                if kinds[..index].contains(kind) {
                    return Err(format!(
                        "[objective] access_kinds: \"{kind}\" is listed twice"
                    ));
                }
            }
            Some(kinds.clone())
        }
    };
    if stages.contains(&Stage::Access) && facility_kinds.is_empty() {
        return Err("[objective] stages has \"access\", which needs facilities (schools, Kitas, stops) in [input.facilities]".into());
    }
    Ok(ObjectiveOptions {
        spread_metres,
        access_kinds,
    })
}

/// `[solver]` checked: a positive time limit, a gap in [0, 1), threads (0 = all cores).
pub(super) fn parse_solver(raw: &RawSolver) -> Result<SolverOptions, String> {
    Ok(SolverOptions {
        time_limit_s: match raw.time_limit_s {
            Some(t) if !(t.is_finite() && t > 0.0) => {
                return Err(format!(
                    "[solver] time_limit_s must be a positive number of seconds, found {t}"
                ))
            }
            t => t,
        },
        mip_gap: match raw.mip_gap {
            Some(g) if !(g.is_finite() && (0.0..1.0).contains(&g)) => {
                return Err(format!(
                    "[solver] mip_gap must be a relative gap between 0 and 1 (0.0001 = 0.01 %), found {g}"
                ))
            }
            g => g.unwrap_or(DEFAULT_MIP_GAP),
        },
        threads: raw.threads.unwrap_or(0),
        ..SolverOptions::default()
    })
}
