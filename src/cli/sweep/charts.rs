//! `sweep.html`, self-contained and in German like `report.html`: the curves of D, the
//! shortfall, the worst district's deviation and the sites used against the first varied
//! key, one line per value of the second, small multiples for a third; where a shortfall
//! starts is marked; the table of every run below. Drawn with plotters as inline SVG.

use std::io::{self, Write};

use plotters::prelude::*;

use super::axes::{as_number, shown, Axis};
use super::Row;
use crate::io::write::html::{de, escape_html, page_head};

/// The figures drawn, with their German titles.
const CURVES: &[(&str, &str)] = &[
    (
        "dissimilarity",
        "Segregationsindex D (0 = genau nach Einwohnern)",
    ),
    ("shortfall", "Fehlbedarf (Plätze ohne Standort)"),
    (
        "max_abs_deviation",
        "größte Abweichung eines Bezirks (Plätze)",
    ),
    ("sites_used", "genutzte Standorte"),
];

/// Line colours, one per value of the second key.
const COLOURS: &[RGBColor] = &[
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn figure(row: &Row, key: &str) -> Option<f64> {
    row.outcome.as_ref().ok().and_then(|s| s[key].as_f64())
}

/// One chart as SVG: `key` of the rows against the first axis, a line per value of the
/// second axis (rows whose third value is `third`, when there is a third axis).
fn chart(
    axes: &[Axis],
    rows: &[Row],
    key: &str,
    title: &str,
    third: Option<&toml::Value>,
) -> String {
    let mut svg = String::new();
    let x_of = |row: &Row| {
        let index = axes[0]
            .values
            .iter()
            .position(|v| v == &row.values[0])
            .unwrap_or(0);
        as_number(&row.values[0], index)
    };
    let chosen: Vec<&Row> = rows
        .iter()
        .filter(|r| third.is_none_or(|t| r.values.get(2) == Some(t)))
        .collect();
    let xs: Vec<f64> = chosen.iter().map(|r| x_of(r)).collect();
    let ys: Vec<f64> = chosen.iter().filter_map(|r| figure(r, key)).collect();
    let (x0, x1) = span(&xs);
    let (_, y1) = span(&ys);
    let y1 = if y1 <= 0.0 { 1.0 } else { y1 * 1.08 };
    {
        let root = SVGBackend::with_string(&mut svg, (460, 300)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let caption = match third {
            Some(t) => format!("{title}, {} = {}", axes[2].key, shown(t)),
            None => title.to_string(),
        };
        let Ok(mut chart) = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 14))
            .margin(8)
            .margin_right(24)
            .x_label_area_size(34)
            .y_label_area_size(52)
            .build_cartesian_2d(x0..x1, 0.0..y1)
        else {
            return svg_fallback();
        };
        let _ = chart
            .configure_mesh()
            .x_desc(axes[0].key.as_str())
            .x_label_formatter(&|x| de(*x, if x.fract() == 0.0 { 0 } else { 3 }))
            .y_label_formatter(&|y| de(*y, if y1 < 2.0 { 3 } else { 0 }))
            .light_line_style(WHITE.mix(0.0))
            .draw();
        // One line per value of the second key (or one line).
        let seconds: Vec<Option<&toml::Value>> = match axes.get(1) {
            Some(axis) => axis.values.iter().map(Some).collect(),
            None => vec![None],
        };
        for (i, second) in seconds.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let mut points: Vec<(f64, f64)> = chosen
                .iter()
                .filter(|r| second.is_none_or(|s| r.values.get(1) == Some(s)))
                .filter_map(|r| Some((x_of(r), figure(r, key)?)))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let label = match (second, axes.get(1)) {
                (Some(value), Some(axis)) => format!("{} = {}", axis.key, shown(value)),
                _ => String::new(),
            };
            if let Ok(series) =
                chart.draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
            {
                if !label.is_empty() {
                    series.label(label).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
                    });
                }
            }
            let _ = chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())));
            // Where the shortfall starts on this line: a dashed mark.
            let start = chosen
                .iter()
                .filter(|r| second.is_none_or(|s| r.values.get(1) == Some(s)))
                .filter(|r| figure(r, "shortfall").is_some_and(|s| s > 0.0))
                .map(|r| x_of(r))
                .min_by(f64::total_cmp);
            if let Some(x) = start {
                let _ = chart.draw_series(DashedLineSeries::new(
                    vec![(x, 0.0), (x, y1)],
                    4,
                    4,
                    colour.mix(0.6).stroke_width(1),
                ));
            }
        }
        if axes.len() > 1 {
            let _ = chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .position(SeriesLabelPosition::UpperLeft)
                .draw();
        }
        let _ = root.present();
    }
    svg
}

fn svg_fallback() -> String {
    "<p class=\"note\">(keine Werte zum Zeichnen)</p>".into()
}

/// Lowest and highest value, widened when they are equal.
fn span(values: &[f64]) -> (f64, f64) {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        (0.0, 1.0)
    } else if hi - lo < 1e-12 {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    }
}

pub fn write_html(out: &mut impl Write, name: &str, axes: &[Axis], rows: &[Row]) -> io::Result<()> {
    let mut html = page_head(&format!("Szenarien: {name}"));
    html += &format!(
        "<h1>Szenarien: {}</h1><p>{} Läufe über {}. Jede Kurve zeigt eine Kennzahl gegen <b>{}</b>{}; eine gestrichelte Linie markiert, ab wo Plätze fehlen (Fehlbedarf). Jeder Lauf ist ein vollständiger Plan mit denselben Regeln wie <code>quartier solve</code>.</p>",
        escape_html(name),
        rows.len(),
        escape_html(&axes.iter().map(|a| a.key.as_str()).collect::<Vec<_>>().join(" × ")),
        escape_html(&axes[0].key),
        match axes.get(1) {
            Some(axis) => format!(", eine Linie je Wert von <b>{}</b>", escape_html(&axis.key)),
            None => String::new(),
        }
    );
    let thirds: Vec<Option<&toml::Value>> = match axes.get(2) {
        Some(axis) => axis.values.iter().map(Some).collect(),
        None => vec![None],
    };
    html += "<div class=\"charts\">";
    for (key, title) in CURVES {
        for third in &thirds {
            html += "<div class=\"chart\">";
            html += &chart(axes, rows, key, title, *third);
            html += "</div>";
        }
    }
    html += "</div><h2>Alle Läufe</h2><table><thead><tr>";
    for axis in axes {
        html += &format!("<th>{}</th>", escape_html(&axis.key));
    }
    html += "<th>Status</th><th>untergebracht</th><th>Fehlbedarf</th><th>D</th><th>schlechtester Bezirk</th><th>Standorte</th><th>Rechenzeit (s)</th></tr></thead><tbody>";
    for row in rows {
        html += "<tr>";
        for value in &row.values {
            html += &format!("<td>{}</td>", escape_html(&shown(value)));
        }
        match &row.outcome {
            Ok(s) => {
                let number = |k: &str, d: usize| s[k].as_f64().map_or(String::new(), |x| de(x, d));
                html +=
                    &format!(
                    "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
                    escape_html(s["status"].as_str().unwrap_or("")),
                    number("placed", 0),
                    number("shortfall", 0),
                    number("dissimilarity", 4),
                    escape_html(s["worst_district"].as_str().unwrap_or("")),
                    number("sites_used", 0),
                    s["timings_s"]["solve"].as_f64().map_or(String::new(), |x| de(x, 2))
                );
            }
            Err(message) => {
                html += &format!(
                    "<td colspan=\"7\">fehlgeschlagen: {}</td>",
                    escape_html(message)
                );
            }
        }
        html += "</tr>";
    }
    html += "</tbody></table><style>.charts{display:flex;flex-wrap:wrap;gap:12px}.chart svg{border:1px solid #ddd}</style></body></html>";
    out.write_all(html.as_bytes())
}
