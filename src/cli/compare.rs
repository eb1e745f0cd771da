//! `quartier compare`: two output folders side by side: every key figure and its change,
//! the districts whose allocation changed most, and the sites added or dropped; with
//! `--html`, also a page with both maps.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use serde_json::Value;

use super::{print, Progress};
use crate::error::{Error, InputError};
use crate::io::compare::{read_output, Output};
use crate::io::plan_report::site_kind;
use crate::io::write::charts::{map_svg, MapData};
use crate::io::write::html::{de, escape_html, page_head};

/// The key figures compared, with their labels.
const FIGURES: &[(&str, &str)] = &[
    ("demand", "demand"),
    ("placed", "placed"),
    ("shortfall", "shortfall"),
    ("existing", "existing places"),
    ("sites_used", "sites used"),
    ("dissimilarity", "dissimilarity D"),
    ("max_abs_deviation", "largest deviation (places)"),
    ("max_rel_deviation", "largest deviation (share of target)"),
    ("min_share_reached", "smallest part of a fair share reached"),
];

fn figure(summary: &Value, key: &str) -> Option<f64> {
    summary.get(key).and_then(Value::as_f64)
}

/// One row of the table: a figure of A and of B, and whether they were measured alike
/// (the same spread radius, distances measured the same way); only then is B − A shown.
struct Figure {
    label: String,
    a: Option<f64>,
    b: Option<f64>,
    alike: bool,
}

impl Figure {
    fn new(label: String, a: Option<f64>, b: Option<f64>) -> Self {
        Figure {
            label,
            a,
            b,
            alike: true,
        }
    }
}

/// Why figures of A and B are not subtracted, when they are measured differently: the
/// spread radius and the way distances are measured (on foot or in a straight line).
struct Differences {
    radius: Option<(f64, f64)>,
    distance: Option<(String, String)>,
}

impl Differences {
    fn of(a: &Value, b: &Value) -> Self {
        let metres = |s: &Value| s["max_new_within_m"]["metres"].as_f64();
        let distance = |s: &Value| s["distance"].as_str().map(str::to_string);
        Differences {
            radius: metres(a).zip(metres(b)).filter(|(x, y)| x != y),
            distance: distance(a).zip(distance(b)).filter(|(x, y)| x != y),
        }
    }

    /// The sentences below the table that say which figures are not subtracted, and why.
    fn notes(&self) -> Vec<String> {
        let way = |d: &str| match d {
            "network" => "on foot along the streets",
            _ => "in a straight line",
        };
        let mut notes = Vec::new();
        if let Some((x, y)) = self.radius {
            notes.push(format!(
                "the spread figures count places within {} m in A and {} m in B: not comparable, so B − A is left out",
                format_value(Some(x)),
                format_value(Some(y))
            ));
        }
        if let Some((x, y)) = &self.distance {
            notes.push(format!(
                "A measures distances {} and B {}: the distance figures are not comparable, so B − A is left out",
                way(x),
                way(y)
            ));
        }
        notes
    }
}

/// The figures of the stages and levels, in either folder: the most new places near any
/// site, the mean distance to each kind of facility, each stage's optimum, and per demand
/// level the places and D. A figure only one folder has shows "–" in the other; figures
/// measured differently (`Differences`) are not subtracted.
fn stage_figures(a: &Value, b: &Value, differences: &Differences) -> Vec<Figure> {
    let mut rows = Vec::new();
    let within = |s: &Value, key: &str| s["max_new_within_m"][key].as_f64();
    if within(a, "places").is_some() || within(b, "places").is_some() {
        let metres = match (within(a, "metres"), within(b, "metres")) {
            (Some(x), Some(y)) if x != y => {
                format!("{} m / {} m", format_value(Some(x)), format_value(Some(y)))
            }
            (Some(m), _) | (_, Some(m)) => format!("{} m", format_value(Some(m))),
            (None, None) => "the radius".into(),
        };
        rows.push(Figure {
            alike: differences.radius.is_none(),
            ..Figure::new(
                format!("most new places within {metres}"),
                within(a, "places"),
                within(b, "places"),
            )
        });
    }
    // Keys in the order of the first folder that has them.
    let keys = |member: &str| -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for summary in [a, b] {
            if let Some(map) = summary[member].as_object() {
                for key in map.keys() {
                    if !keys.contains(key) {
                        keys.push(key.clone());
                    }
                }
            }
        }
        keys
    };
    for kind in keys("mean_distance_m") {
        rows.push(Figure {
            alike: differences.distance.is_none(),
            ..Figure::new(
                format!("mean distance to {kind} (m)"),
                a["mean_distance_m"][&kind].as_f64(),
                b["mean_distance_m"][&kind].as_f64(),
            )
        });
    }
    for stage in keys("stages") {
        let alike = match stage.as_str() {
            "spread" => differences.radius.is_none(),
            "access" => differences.distance.is_none(),
            _ => true,
        };
        rows.push(Figure {
            alike,
            ..Figure::new(
                format!("stage optimum: {stage}"),
                a["stages"][&stage].as_f64(),
                b["stages"][&stage].as_f64(),
            )
        });
    }
    let levels = |s: &Value| s["levels"].as_array().map_or(0, Vec::len);
    for level in 0..levels(a).max(levels(b)) {
        for (key, label) in [("places", "places"), ("dissimilarity", "D")] {
            rows.push(Figure::new(
                format!("level {}: {label}", level + 1),
                a["levels"][level][key].as_f64(),
                b["levels"][level][key].as_f64(),
            ));
        }
    }
    rows
}

fn format_value(value: Option<f64>) -> String {
    match value {
        None => "–".into(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e12 => format!("{}", v as i64),
        Some(v) => format!("{v:.4}"),
    }
}

pub fn run(a: &Path, b: &Path, html: Option<&Path>, progress: &Progress) -> Result<i32, Error> {
    progress.step("reading both output folders");
    let left = read_output(a)?;
    let right = read_output(b)?;
    progress.finish();

    let name = |o: &Output| {
        o.summary
            .get("scenario")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string()
    };
    let mut text = format!(
        "A: {} ({})\nB: {} ({})\n\n",
        name(&left),
        a.display(),
        name(&right),
        b.display()
    );
    let _ = writeln!(
        text,
        "  {:<38} {:>14} {:>14} {:>14}",
        "figure", "A", "B", "B − A"
    );
    let mut rows: Vec<Figure> = FIGURES
        .iter()
        .map(|(key, label)| {
            Figure::new(
                label.to_string(),
                figure(&left.summary, key),
                figure(&right.summary, key),
            )
        })
        .collect();
    let differences = Differences::of(&left.summary, &right.summary);
    rows.extend(stage_figures(&left.summary, &right.summary, &differences));
    for Figure {
        label,
        a: x,
        b: y,
        alike,
    } in &rows
    {
        let (x, y) = (*x, *y);
        let change = match (x, y) {
            (Some(_), Some(_)) if !alike => "not comparable".into(),
            // Equal up to rounding (a float's last bits) is no change.
            (Some(x), Some(y)) if (y - x).abs() <= 1e-9 * x.abs().max(1.0) => "0".into(),
            (Some(x), Some(y)) => format_value(Some(y - x)),
            _ => "–".into(),
        };
        let _ = writeln!(
            text,
            "  {label:<38} {:>14} {:>14} {:>14}",
            format_value(x),
            format_value(y),
            change
        );
    }
    for note in differences.notes() {
        let _ = writeln!(text, "    note: {note}");
    }

    // Districts matched by id.
    let right_districts: HashMap<&str, usize> = right
        .districts
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let mut changes: Vec<(f64, usize, usize)> = left
        .districts
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let j = *right_districts.get(d.id.as_str())?;
            Some((right.districts[j].total - d.total, i, j))
        })
        .filter(|(change, _, _)| change.abs() > 1e-9)
        .collect();
    changes.sort_by(|x, y| y.0.abs().total_cmp(&x.0.abs()).then(x.1.cmp(&y.1)));
    let _ = writeln!(
        text,
        "\n  districts whose places changed most (of {} that changed):",
        changes.len()
    );
    for &(change, i, j) in changes.iter().take(10) {
        let d = &left.districts[i];
        let _ = writeln!(
            text,
            "    {} \"{}\": {} → {} places ({:+}), target {:.1} → {:.1}",
            d.id,
            d.name,
            d.total,
            right.districts[j].total,
            change,
            d.target,
            right.districts[j].target
        );
    }
    if left.districts.len() != right.districts.len() || changes.len() > left.districts.len() {
        let _ = writeln!(
            text,
            "    note: the folders have {} and {} districts",
            left.districts.len(),
            right.districts.len()
        );
    }

    // Sites with new places added, dropped or changed.
    let places = |o: &Output| -> HashMap<String, u32> {
        o.sites
            .iter()
            .filter(|s| s.places > 0)
            .map(|s| (s.id.clone(), s.places))
            .collect()
    };
    let (pa, pb) = (places(&left), places(&right));
    let mut added: Vec<(&String, &u32)> =
        pb.iter().filter(|(id, _)| !pa.contains_key(*id)).collect();
    let mut dropped: Vec<(&String, &u32)> =
        pa.iter().filter(|(id, _)| !pb.contains_key(*id)).collect();
    let changed = pa
        .iter()
        .filter(|(id, n)| pb.get(*id).is_some_and(|m| m != *n))
        .count();
    added.sort();
    dropped.sort();
    let list = |sites: &[(&String, &u32)]| {
        let mut shown: Vec<String> = sites
            .iter()
            .take(12)
            .map(|(id, n)| format!("{id} ({n})"))
            .collect();
        if sites.len() > 12 {
            shown.push(format!("… {} more", sites.len() - 12));
        }
        shown.join(", ")
    };
    let _ = writeln!(
        text,
        "\n  sites with new places only in B (added): {}",
        added.len()
    );
    if !added.is_empty() {
        let _ = writeln!(text, "    {}", list(&added));
    }
    let _ = writeln!(
        text,
        "  sites with new places only in A (dropped): {}",
        dropped.len()
    );
    if !dropped.is_empty() {
        let _ = writeln!(text, "    {}", list(&dropped));
    }
    let _ = writeln!(
        text,
        "  sites in both with other numbers of places: {changed}"
    );

    if let Some(path) = html {
        for folder in [a, b] {
            if path.starts_with(folder) {
                return Err(InputError::new(
                    path.display(),
                    "compare.html would be written into one of the compared folders; choose another path",
                )
                .into());
            }
        }
        let page = compare_html(&left, &right, &text);
        let mut file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        file.write_all(page.as_bytes())
            .map_err(|e| Error::io(path, e))?;
        let _ = writeln!(text, "\n  written to {}", path.display());
    }
    print(&text);
    Ok(0)
}

fn map_of(output: &Output) -> String {
    let max = output
        .districts
        .iter()
        .filter_map(|d| d.per_1000)
        .fold(0.0, f64::max);
    let data = MapData {
        areas: output
            .districts
            .iter()
            .map(|d| {
                (
                    &d.area,
                    d.per_1000,
                    format!("{}: {} Plätze", d.name, de(d.total, 0)),
                )
            })
            .collect(),
        sites: output
            .sites
            .iter()
            .map(|s| {
                (
                    s.lonlat,
                    s.places + s.occupied,
                    site_kind(s.occupied, s.places),
                    format!("{}: {} neu, {} belegt", s.id, s.places, s.occupied),
                )
            })
            .collect(),
        max_value: max,
        lines: Vec::new(),
    };
    map_svg(&data, 470.0)
}

fn compare_html(left: &Output, right: &Output, text: &str) -> String {
    let scenario = |o: &Output| {
        o.summary
            .get("scenario")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string()
    };
    let mut html = page_head("Vergleich zweier Pläne");
    let _ = writeln!(
        html,
        "<h1>Vergleich: {} / {}</h1><div class=\"maps\"><div><h2>A: {}</h2>{}</div><div><h2>B: {}</h2>{}</div></div><h2>Zahlen</h2><pre>{}</pre></body></html>",
        escape_html(&scenario(left)),
        escape_html(&scenario(right)),
        escape_html(&scenario(left)),
        map_of(left),
        escape_html(&scenario(right)),
        map_of(right),
        escape_html(text)
    );
    html
}
