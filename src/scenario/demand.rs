//! `[demand]`: one number of new places, or demand levels with their weights.

use super::raw::RawDemand;
use crate::model::Level;

/// and the levels (empty for `places`).
pub(super) fn parse_demand(raw: &RawDemand) -> Result<(u64, Vec<Level>), String> {
    match (&raw.places, &raw.levels) {
        (Some(_), Some(_)) => Err(
            "[demand] has both places and levels; give places for one demand, or levels for a forecast (not both)"
                .into(),
        ),
        (None, None) => Err(
            "[demand] needs places (new places to allocate) or levels (a forecast, e.g. levels = [1000, 2000, 3000])"
                .into(),
        ),
        (Some(places), None) => {
            if raw.weights.is_some() {
                return Err("[demand] weights belong to levels; with places there is one demand and no weights".into());
            }
            let demand = whole_number(places).filter(|&n| n > 0).ok_or_else(|| {
                format!("[demand] places must be a positive whole number of places, found {places}")
            })?;
            Ok((demand, Vec::new()))
        }
        (None, Some(levels)) => {
            let shown = levels.to_string();
            let list = levels
                .as_array()
                .filter(|list| !list.is_empty())
                .ok_or_else(|| format!("[demand] levels must be a list of positive whole numbers of places in increasing order, e.g. [1000, 2000, 3000]; found {shown}"))?;
            let mut places = Vec::with_capacity(list.len());
            for (index, value) in list.iter().enumerate() {
                let n = whole_number(value).filter(|&n| n > 0).ok_or_else(|| {
                    format!("[demand] levels: level {} must be a positive whole number of places, found {value}", index + 1)
                })?;
                if let Some(&before) = places.last() {
                    if n <= before {
                        return Err(format!(
                            "[demand] levels must increase strictly (each level is the plan of the one before plus new places): level {} is {n}, level {index} is {before}",
                            index + 1
                        ));
                    }
                }
                places.push(n);
            }
            let weights = match &raw.weights {
                None => vec![1.0; places.len()],
                Some(value) => {
                    let list = value.as_array().ok_or_else(|| {
                        format!("[demand] weights must be a list of positive numbers, one per level, found {value}")
                    })?;
                    if list.len() != places.len() {
                        return Err(format!(
                            "[demand] weights: {} given for {} levels; give one weight per level",
                            list.len(),
                            places.len()
                        ));
                    }
                    list.iter()
                        .enumerate()
                        .map(|(index, w)| {
                            let number = match w {
                                toml::Value::Integer(n) => Some(*n as f64),
                                toml::Value::Float(f) => Some(*f),
                                _ => None,
                            };
                            number.filter(|x| x.is_finite() && *x > 0.0).ok_or_else(|| {
                                format!("[demand] weights: weight {} must be a number > 0 (e.g. the probability of the level), found {w}", index + 1)
                            })
                        })
                        .collect::<Result<Vec<f64>, String>>()?
                }
            };
            let demand = *places.last().expect("at least one level");
            Ok((
                demand,
                places
                    .into_iter()
                    .zip(weights)
                    .map(|(places, weight)| Level { places, weight })
                    .collect(),
            ))
        }
    }
}

/// A TOML integer, or a float that is a whole number (planners write `2300.0` too).
pub(super) fn whole_number(value: &toml::Value) -> Option<u64> {
    match value {
        toml::Value::Integer(n) => u64::try_from(*n).ok(),
        toml::Value::Float(f) if f.is_finite() && f.fract() == 0.0 && *f >= 0.0 => Some(*f as u64),
        _ => None,
    }
}
