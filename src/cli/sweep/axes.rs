//! What a sweep varies: scenario keys by their dotted path, each with its values, from
//! `--vary KEY=VALUES` or the scenario's `[sweep]` table; the runs are the product of the
//! values, the first key varying slowest.

use toml::{Table, Value};

/// One varied key and its values, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The key by its dotted path in the scenario file: `demand.places`.
    pub key: String,
    pub values: Vec<Value>,
}

/// Most runs a sweep may have: a product of a few long lists grows fast, and a planner who
/// asks for 100,000 runs has surely mistyped a step.
pub const MOST_RUNS: usize = 10_000;

/// `KEY=VALUES` of `--vary`: VALUES a list (`30,50,80`) or a range (`1000..4000:250`,
/// both ends included).
pub fn parse_vary(text: &str) -> Result<Axis, String> {
    let Some((key, values)) = text.split_once('=') else {
        return Err(format!(
            "--vary {text}: expected KEY=VALUES, such as demand.places=1000..4000:250 or rules.max_per_site=30,50,80"
        ));
    };
    let key = key.trim().to_string();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(format!(
            "--vary {text}: the key must be a dotted path of the scenario file, such as demand.places"
        ));
    }
    let values = parse_values(values.trim()).map_err(|why| format!("--vary {text}: {why}"))?;
    Ok(Axis { key, values })
}

/// A list `30,50,80` (numbers, `true`/`false`, or text) or a range `FROM..TO:STEP`.
fn parse_values(text: &str) -> Result<Vec<Value>, String> {
    if let Some((range, step)) = text.split_once(':') {
        let Some((from, to)) = range.split_once("..") else {
            return Err(format!(
                "\"{text}\" is no range; write FROM..TO:STEP, such as 1000..4000:250"
            ));
        };
        let number = |s: &str| {
            s.trim()
                .parse::<f64>()
                .map_err(|_| format!("\"{}\" in the range \"{text}\" is no number", s.trim()))
        };
        return range_values(number(from)?, number(to)?, number(step)?)
            .map_err(|why| format!("the range \"{text}\" {why}"));
    }
    if text.is_empty() {
        return Err("no values given".into());
    }
    Ok(text.split(',').map(|v| scalar(v.trim())).collect())
}

/// A value as TOML would read it: a whole number, a decimal number, true/false, or text.
fn scalar(text: &str) -> Value {
    if let Ok(n) = text.parse::<i64>() {
        Value::Integer(n)
    } else if let Ok(x) = text.parse::<f64>() {
        Value::Float(x)
    } else if let Ok(b) = text.parse::<bool>() {
        Value::Boolean(b)
    } else {
        Value::String(text.to_string())
    }
}

/// FROM, FROM + STEP, … up to TO (included when it lies on a step); whole numbers stay
/// whole.
fn range_values(from: f64, to: f64, step: f64) -> Result<Vec<Value>, String> {
    if step.is_nan() || step <= 0.0 || !step.is_finite() {
        return Err("needs a step above 0".into());
    }
    if to < from {
        return Err("must not end below its start".into());
    }
    let count = ((to - from) / step + 1e-9).floor() as usize + 1;
    if count > MOST_RUNS {
        return Err(format!("has {count} values, more than {MOST_RUNS}"));
    }
    let whole = [from, to, step].iter().all(|x| x.fract() == 0.0);
    Ok((0..count)
        .map(|i| {
            let x = from + i as f64 * step;
            if whole {
                Value::Integer(x as i64)
            } else {
                // 0.1 steps without float noise: 0.30000000000000004 → 0.3.
                Value::Float((x * 1e9).round() / 1e9)
            }
        })
        .collect())
}

/// The `[sweep]` table of a scenario file: `"demand.places" = { from = 1000, to = 4000,
/// step = 250 }` or `"rules.max_per_site" = [30, 50, 80]`.
pub fn from_table(table: &Table) -> Result<Vec<Axis>, String> {
    let mut axes = Vec::new();
    for (key, value) in table {
        let values = match value {
            Value::Array(values) if !values.is_empty() => values.clone(),
            Value::Table(range) => {
                let number = |name: &str| match range.get(name) {
                    Some(Value::Integer(n)) => Ok(*n as f64),
                    Some(Value::Float(x)) => Ok(*x),
                    _ => Err(format!(
                        "[sweep] \"{key}\": expected {{ from = …, to = …, step = … }} with numbers; \"{name}\" is missing or no number"
                    )),
                };
                if let Some(other) = range.keys().find(|k| !["from", "to", "step"].contains(&k.as_str())) {
                    return Err(format!(
                        "[sweep] \"{key}\": unknown key \"{other}\" (a range has from, to and step)"
                    ));
                }
                range_values(number("from")?, number("to")?, number("step")?)
                    .map_err(|why| format!("[sweep] \"{key}\": the range {why}"))?
            }
            _ => {
                return Err(format!(
                    "[sweep] \"{key}\": expected a list of values ([30, 50, 80]) or a range ({{ from = 1000, to = 4000, step = 250 }})"
                ))
            }
        };
        axes.push(Axis {
            key: key.clone(),
            values,
        });
    }
    Ok(axes)
}

/// The runs: one value per axis, every combination, the first axis varying slowest.
pub fn runs(axes: &[Axis]) -> Result<Vec<Vec<Value>>, String> {
    let count = axes
        .iter()
        .try_fold(1usize, |n, axis| n.checked_mul(axis.values.len()))
        .filter(|&n| n <= MOST_RUNS)
        .ok_or_else(|| format!("the sweep has more than {MOST_RUNS} runs; vary fewer values"))?;
    let mut runs = Vec::with_capacity(count);
    for index in 0..count {
        let mut rest = index;
        let mut run = vec![Value::Boolean(false); axes.len()];
        for (a, axis) in axes.iter().enumerate().rev() {
            run[a] = axis.values[rest % axis.values.len()].clone();
            rest /= axis.values.len();
        }
        runs.push(run);
    }
    Ok(runs)
}

/// Sets `key` (a dotted path) to `value` in the scenario's table, making the tables on the
/// way; a part of the path that is no table is an error naming the key.
pub fn set(table: &mut Table, key: &str, value: Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    let (last, path) = parts.split_last().expect("a key has at least one part");
    let mut here = table;
    let mut i = 0;
    while i < path.len() {
        let entry = here
            .entry(path[i].to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        // [[rules.district]] is a list of tables: `rules.district.0.max_share` is the
        // first rule's cap (counted from 0).
        let entry = match entry {
            Value::Array(items) => {
                let index = path.get(i + 1).and_then(|p| p.parse::<usize>().ok());
                let count = items.len();
                i += 1;
                match index.and_then(|n| items.get_mut(n)) {
                    Some(item) => item,
                    None => {
                        return Err(format!(
                        "{key}: \"{}\" is a list of {count}; name one by its number, from 0 to {}",
                        parts[..i].join("."),
                        count.saturating_sub(1)
                    ))
                    }
                }
            }
            other => other,
        };
        here = match entry {
            Value::Table(inner) => inner,
            _ => {
                return Err(format!(
                    "{key}: \"{}\" is a value in the scenario file, not a table",
                    parts[..=i].join(".")
                ))
            }
        };
        i += 1;
    }
    here.insert(last.to_string(), value);
    Ok(())
}

/// A value as the CSV and the messages show it: 1500, 0.015, walk.
pub fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The number a chart plots for a value of a varied key (text values by their position).
pub fn as_number(value: &toml::Value, index: usize) -> f64 {
    match value {
        toml::Value::Integer(n) => *n as f64,
        toml::Value::Float(x) => *x,
        _ => index as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges() {
        let axis = parse_vary("rules.max_per_site=30,50,80").unwrap();
        assert_eq!(axis.key, "rules.max_per_site");
        assert_eq!(
            axis.values,
            vec![Value::Integer(30), Value::Integer(50), Value::Integer(80)]
        );
        let range = parse_vary("demand.places=1000..2000:250").unwrap();
        assert_eq!(range.values.len(), 5, "both ends included");
        assert_eq!(range.values[4], Value::Integer(2000));
        let shares = parse_vary("rules.max_share=0.01..0.02:0.005").unwrap();
        assert_eq!(
            shares.values,
            vec![Value::Float(0.01), Value::Float(0.015), Value::Float(0.02)]
        );
        assert!(parse_vary("demand.places").is_err());
        assert!(parse_vary("demand.places=1000..900:10").is_err());
        assert!(parse_vary("demand.places=1000..2000:0").is_err());
        assert!(parse_vary("demand.places=1..100000000:1").is_err());
    }

    #[test]
    fn the_runs_are_the_product_first_key_slowest() {
        let axes = [parse_vary("a=1,2").unwrap(), parse_vary("b=x,y,z").unwrap()];
        let runs = runs(&axes).unwrap();
        assert_eq!(runs.len(), 6);
        assert_eq!(runs[1], vec![Value::Integer(1), Value::String("y".into())]);
        assert_eq!(runs[3], vec![Value::Integer(2), Value::String("x".into())]);
    }

    #[test]
    fn set_makes_tables_on_the_way_and_refuses_a_value_in_the_path() {
        let mut table: Table = "[demand]\nplaces = 10\n".parse().unwrap();
        set(&mut table, "demand.places", Value::Integer(20)).unwrap();
        set(&mut table, "solver.time_limit_s", Value::Integer(5)).unwrap();
        assert_eq!(table["demand"]["places"].as_integer(), Some(20));
        assert_eq!(table["solver"]["time_limit_s"].as_integer(), Some(5));
        assert!(set(&mut table, "demand.places.x", Value::Integer(1)).is_err());
        let mut rules: Table = "[[rules.district]]\nwhere = \"a > 1\"\nmax_share = 0.01\n"
            .parse()
            .unwrap();
        set(&mut rules, "rules.district.0.max_share", Value::Float(0.02)).unwrap();
        assert_eq!(
            rules["rules"]["district"][0]["max_share"].as_float(),
            Some(0.02)
        );
        let wrong = set(&mut rules, "rules.district.3.max_share", Value::Float(0.02));
        assert!(wrong.unwrap_err().contains("is a list of 1"));
    }

    #[test]
    fn a_sweep_table() {
        let table: Table =
            "\"demand.places\" = { from = 1000, to = 1500, step = 250 }\n\"rules.max_per_site\" = [30, 50]\n"
                .parse()
                .unwrap();
        let axes = from_table(&table).unwrap();
        assert_eq!(axes.len(), 2);
        assert_eq!(axes[0].values.len(), 3);
        let bad: Table = "\"demand.places\" = 5\n".parse().unwrap();
        assert!(from_table(&bad).is_err());
    }
}
