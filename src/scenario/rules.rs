//! `[rules]`: the caps and distances every plan keeps (site cap, share cap, spacing,
//! access, school seats, and the district rules with their conditions).

use super::demand::whole_number;
use super::raw::{RawDistrictRule, RawRules};
use crate::expr::Expression;
use crate::model::{Access, DistrictRule, Rules, Seats, Spacing};

/// `[rules]` checked, with the district rules' conditions parsed in the same order.
pub(super) fn parse_rules(
    rules: RawRules,
    facility_kinds: &[&String],
) -> Result<(Rules, Vec<Expression>), String> {
    let max_per_site = match &rules.max_per_site {
        None => 50,
        Some(value) => whole_number(value)
            .filter(|&n| n > 0 && n <= u64::from(u32::MAX))
            .ok_or_else(|| {
                format!("[rules] max_per_site must be a positive whole number, found {value}")
            })? as u32,
    };
    if let Some(share) = rules.max_share {
        if !(share.is_finite() && share > 0.0 && share <= 1.0) {
            return Err(format!(
                    "[rules] max_share must be a share of the population between 0 and 1 (0.015 = 1.5 %), found {share}"
                ));
        }
    }
    let spacing = match rules.radius {
        None => None,
        Some(radius) => {
            if !(radius.metres.is_finite() && radius.metres > 0.0) {
                return Err(format!(
                    "[rules] radius.metres must be a positive distance in metres, found {}",
                    radius.metres
                ));
            }
            Some(Spacing {
                metres: radius.metres,
                max_places: radius.max_places,
            })
        }
    };
    let mut access = Vec::new();
    for (kind, metres) in rules.access.unwrap_or_default() {
        if !facility_kinds.contains(&&kind) {
            return Err(format!(
                    "[rules] access names the facility kind \"{kind}\", but [input.facilities] has no such layer{}",
                    known_list(facility_kinds)
                ));
        }
        if !(metres.is_finite() && metres >= 0.0) {
            return Err(format!(
                "[rules] access.{kind} must be a distance in metres ≥ 0, found {metres}"
            ));
        }
        access.push(Access { kind, metres });
    }
    let seats = match rules.seats {
        None => None,
        Some(seats) => {
            if !facility_kinds.contains(&&seats.kind) {
                return Err(format!(
                        "[rules] seats names the facility kind \"{}\", but [input.facilities] has no such layer{}",
                        seats.kind,
                        known_list(facility_kinds)
                    ));
            }
            if !(seats.per_place.is_finite() && seats.per_place > 0.0) {
                return Err(format!(
                        "[rules] seats.per_place must be a positive number of children per place, found {}",
                        seats.per_place
                    ));
            }
            Some(Seats {
                kind: seats.kind,
                per_place: seats.per_place,
            })
        }
    };

    let (district, district_conditions) = district_rules(rules.district)?;
    Ok((
        Rules {
            max_per_site,
            max_share: rules.max_share,
            spacing,
            access,
            seats,
            district,
        },
        district_conditions,
    ))
}

/// `[[rules.district]]`: each needs a condition and a cap.
fn district_rules(
    raw: Vec<RawDistrictRule>,
) -> Result<(Vec<DistrictRule>, Vec<Expression>), String> {
    let mut rules = Vec::with_capacity(raw.len());
    let mut conditions = Vec::with_capacity(raw.len());
    for (index, rule) in raw.into_iter().enumerate() {
        let which = format!(
            "[[rules.district]] {} (where = \"{}\")",
            index + 1,
            rule.condition
        );
        let condition = Expression::parse(&rule.condition).map_err(|e| format!("{which}: {e}"))?;
        if let Some(share) = rule.max_share {
            if !(share.is_finite() && (0.0..=1.0).contains(&share)) {
                return Err(format!(
                    "{which}: max_share must be a share of the population between 0 and 1 (0.005 = 0.5 %), found {share}"
                ));
            }
        }
        let max_new = match &rule.max_new {
            None => None,
            Some(value) => Some(whole_number(value).ok_or_else(|| {
                format!("{which}: max_new must be a whole number of new places ≥ 0, found {value}")
            })?),
        };
        if rule.max_share.is_none() && max_new.is_none() {
            return Err(format!(
                "{which}: give max_share and/or max_new, the cap for the districts where the condition holds"
            ));
        }
        rules.push(DistrictRule {
            condition: rule.condition,
            max_share: rule.max_share,
            max_new,
        });
        conditions.push(condition);
    }
    Ok((rules, conditions))
}

pub(super) fn known_list(kinds: &[&String]) -> String {
    if kinds.is_empty() {
        " (there are no facility layers)".into()
    } else {
        let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        format!(" (layers: {})", names.join(", "))
    }
}
