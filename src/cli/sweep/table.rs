//! The rows of a sweep as `sweep.csv` (English, or German with semicolons and decimal
//! commas), `sweep.json` and `sweep.html` (the curves a committee reads, and the table).

use std::io::{self, Write};

use serde_json::{json, Map, Value as Json};

use super::axes::shown;
use super::Row;

/// How `sweep.csv` writes numbers: `en` with commas between fields and decimal points,
/// `de` as a German spreadsheet opens it (semicolons, decimal commas).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CsvStyle {
    En,
    De,
}

/// The figures of a run, by column name, from its `summary.json`: the same names as there
/// (`stage_<name>` for each stage's optimum, `mean_distance_<kind>_m`,
/// `most_new_within_m`).
fn figures(summary: &Json) -> Vec<(String, Json)> {
    let mut out: Vec<(String, Json)> = [
        "status",
        "placed",
        "shortfall",
        "dissimilarity",
        "worst_district",
        "max_abs_deviation",
        "sites_used",
        "min_share_reached",
    ]
    .iter()
    .map(|k| (k.to_string(), summary[*k].clone()))
    .collect();
    if summary["stages"].get("spread").is_some() {
        out.push((
            "most_new_within_m".into(),
            summary["max_new_within_m"]["places"].clone(),
        ));
    }
    if let Some(kinds) = summary["mean_distance_m"].as_object() {
        for (kind, metres) in kinds {
            out.push((format!("mean_distance_{kind}_m"), metres.clone()));
        }
    }
    if let Some(stages) = summary["stages"].as_object() {
        for (stage, value) in stages {
            out.push((format!("stage_{stage}"), value.clone()));
        }
    }
    out.push(("mip_gap".into(), summary["mip_gap"].clone()));
    out.push(("gap_stage".into(), summary["gap_stage"].clone()));
    out.push(("solve_s".into(), summary["timings_s"]["solve"].clone()));
    out
}

/// Every figure column of the rows, in the order they first appear.
fn columns(rows: &[Row]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for row in rows {
        if let Ok(summary) = &row.outcome {
            for (name, _) in figures(summary) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    if names.is_empty() {
        names.push("status".into());
    }
    // The same order in every sweep: the figures, spread and distances, the stages in the
    // model's order (a run stopped early has fewer), then the gap and the time.
    let rank = |name: &str| -> usize {
        if let Some(stage) = name.strip_prefix("stage_") {
            return 20
                + crate::model::Stage::EVERY
                    .iter()
                    .position(|s| s.name() == stage)
                    .unwrap_or(0);
        }
        match name {
            "mip_gap" => 50,
            "gap_stage" => 51,
            "solve_s" => 52,
            _ if name.starts_with("mean_distance_") => 11,
            "most_new_within_m" => 10,
            _ => 0,
        }
    };
    names.sort_by_key(|n| rank(n)); // stable: the head keeps its order
    names
}

/// A cell: numbers in the style's decimal mark, text as it is.
fn cell(value: &Json, style: CsvStyle) -> String {
    let text = match value {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        Json::Number(n) => n.to_string(),
        other => other.to_string(),
    };
    match (value, style) {
        (Json::Number(_), CsvStyle::De) => text.replace('.', ","),
        _ => text,
    }
}

fn toml_cell(value: &toml::Value, style: CsvStyle) -> String {
    let text = shown(value);
    match (value, style) {
        (toml::Value::Float(_), CsvStyle::De) => text.replace('.', ","),
        _ => text,
    }
}

pub fn write_csv(
    out: &mut impl Write,
    keys: &[&str],
    rows: &[Row],
    style: CsvStyle,
) -> io::Result<()> {
    let names = columns(rows);
    let mut writer = csv::WriterBuilder::new()
        .delimiter(if style == CsvStyle::De { b';' } else { b',' })
        .from_writer(out);
    let mut header: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    header.extend(names.iter().cloned());
    header.push("message".into());
    writer.write_record(&header)?;
    for row in rows {
        let mut record: Vec<String> = row.values.iter().map(|v| toml_cell(v, style)).collect();
        match &row.outcome {
            Ok(summary) => {
                let found = figures(summary);
                for name in &names {
                    let value = found
                        .iter()
                        .find(|(n, _)| n == name)
                        .map_or(Json::Null, |(_, v)| v.clone());
                    record.push(cell(&value, style));
                }
                record.push(String::new());
            }
            Err(message) => {
                for name in &names {
                    record.push(if name == "status" {
                        "failed".into()
                    } else {
                        String::new()
                    });
                }
                record.push(message.clone());
            }
        }
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(())
}

/// `sweep.json`: the scenario, the varied keys, and per run its values and figures (or its
/// message).
pub fn write_json(out: &mut impl Write, name: &str, keys: &[&str], rows: &[Row]) -> io::Result<()> {
    let runs: Vec<Json> = rows
        .iter()
        .map(|row| {
            let mut run = Map::new();
            let values: Map<String, Json> = keys
                .iter()
                .zip(&row.values)
                .map(|(k, v)| (k.to_string(), toml_to_json(v)))
                .collect();
            run.insert("values".into(), Json::Object(values));
            match &row.outcome {
                Ok(summary) => {
                    for (name, value) in figures(summary) {
                        run.insert(name, value);
                    }
                }
                Err(message) => {
                    run.insert("status".into(), json!("failed"));
                    run.insert("message".into(), json!(message));
                }
            }
            Json::Object(run)
        })
        .collect();
    let document = json!({ "scenario": name, "varied": keys, "runs": runs });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

fn toml_to_json(value: &toml::Value) -> Json {
    match value {
        toml::Value::Integer(n) => json!(n),
        toml::Value::Float(x) => json!(x),
        toml::Value::Boolean(b) => json!(b),
        other => json!(shown(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(places: i64, status: &str, d: f64) -> Row {
        Row {
            values: vec![toml::Value::Integer(places), toml::Value::Float(0.015)],
            outcome: Ok(json!({
                "status": status, "placed": places, "shortfall": 0, "dissimilarity": d,
                "worst_district": "07", "max_abs_deviation": 3.5, "sites_used": 12,
                "min_share_reached": 0.9, "stages": {"shortfall": 0.0, "evenness": 12.5},
                "mip_gap": 0.0, "timings_s": {"solve": 0.01}, "mean_distance_m": {}
            })),
        }
    }

    #[test]
    fn german_csv_has_semicolons_and_decimal_commas() {
        let rows = vec![
            row(1000, "optimal", 0.0512),
            Row {
                values: vec![toml::Value::Integer(2000), toml::Value::Float(0.015)],
                outcome: Err("the solver failed: no plan".into()),
            },
        ];
        let mut out = Vec::new();
        write_csv(
            &mut out,
            &["demand.places", "rules.max_share"],
            &rows,
            CsvStyle::De,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("demand.places;rules.max_share;status;placed"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].starts_with("1000;0,015;optimal;1000;0;0,0512;07;3,5;12;0,9"),
            "{}",
            lines[1]
        );
        assert!(lines[2].starts_with("2000;0,015;failed;"), "{}", lines[2]);
        assert!(
            lines[2].ends_with("the solver failed: no plan"),
            "{}",
            lines[2]
        );
        let mut en = Vec::new();
        write_csv(
            &mut en,
            &["demand.places", "rules.max_share"],
            &rows,
            CsvStyle::En,
        )
        .unwrap();
        assert!(String::from_utf8(en)
            .unwrap()
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("1000,0.015,optimal,1000,0,0.0512"));
    }
}
