//! `report.html`: one self-contained page (no scripts, no network) a planner can forward:
//! the scenario and its rules in plain words, the key figures, a map (inline SVG), a chart
//! of target against allocated places per district, and the table of districts. German
//! number formats (1.234,5) and umlauts throughout.

use std::fmt::Write;

use geo::MultiPolygon;

use super::plan_report::{site_kind, PlanReport};
use super::qml::class_breaks;
use crate::model::Stage;

/// German number format with `decimals` decimals: 12345.6 → "12.345,6".
pub fn de(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w.to_string(), Some(f.to_string())),
        None => (text.clone(), None),
    };
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    let sign = if value < 0.0 && text.chars().any(|c| c != '0' && c != '.') {
        "−"
    } else {
        ""
    };
    match fraction {
        Some(f) => format!("{sign}{grouped},{f}"),
        None => format!("{sign}{grouped}"),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const COLOURS: [&str; 5] = ["#feedde", "#fdbe85", "#fd8d3c", "#e6550d", "#a63603"];

/// The rules of the scenario in plain words.
fn rules_in_words(report: &PlanReport) -> Vec<String> {
    let rules = &report.instance.rules;
    let mut lines = vec![format!(
        "höchstens {} Plätze je Standort (belegte Plätze eingerechnet)",
        rules.max_per_site
    )];
    if let Some(share) = rules.max_share {
        lines.push(format!(
            "höchstens {} % der Einwohnerzahl eines Bezirks",
            de(share * 100.0, 2)
        ));
    }
    if let Some(spacing) = rules.spacing {
        lines.push(format!(
            "höchstens {} Plätze im Umkreis von {} m um jeden Standort",
            spacing.max_places,
            de(spacing.metres, 0)
        ));
    }
    for access in &rules.access {
        lines.push(format!(
            "nächste Einrichtung der Art „{}“ höchstens {} m entfernt",
            escape(&access.kind),
            de(access.metres, 0)
        ));
    }
    if let Some(seats) = &rules.seats {
        lines.push(format!(
            "{} Kinder je Platz gegen die freien Plätze der nächsten Einrichtung „{}“",
            de(seats.per_place, 2),
            escape(&seats.kind)
        ));
    }
    let kinds: Vec<String> = report
        .instance
        .access_kinds()
        .iter()
        .map(|kind| match kind.as_str() {
            "school" => "Schulen".to_string(),
            "kita" => "Kitas".to_string(),
            "transit" => "Haltestellen".to_string(),
            other => format!("„{}“", escape(other)),
        })
        .collect();
    let stages: Vec<String> = report
        .instance
        .stages
        .iter()
        .map(|s| match s {
            Stage::Shortfall => "möglichst viele Plätze unterbringen".to_string(),
            Stage::Evenness => "möglichst gleichmäßig nach Einwohnern verteilen".to_string(),
            Stage::Worst => {
                "den am stärksten abweichenden Bezirk möglichst gut stellen".to_string()
            }
            Stage::Spread => format!(
                "auch innerhalb der Bezirke streuen: möglichst wenige neue Plätze im Umkreis von {} m um jeden Standort",
                de(report.instance.spread_metres(), 0)
            ),
            Stage::Access => format!("möglichst kurze Wege zu {}", and_list(&kinds)),
            Stage::Cost => "unter gleich guten Plänen den günstigsten wählen".to_string(),
        })
        .collect();
    lines.push(format!(
        "Ziele in dieser Reihenfolge: {}",
        stages.join("; ")
    ));
    lines
}

/// "A", "A und B", "A, B und C".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} und {last}", rest.join(", ")),
    }
}

/// What a map shows: areas shaded by a value, and circles for sites.
pub struct MapData<'a> {
    /// Outline (longitude/latitude), value (places per 1,000), tooltip.
    pub areas: Vec<(&'a MultiPolygon<f64>, Option<f64>, String)>,
    /// Position, total places, kind (`new`, `extended`, `existing`), tooltip.
    pub sites: Vec<([f64; 2], u32, &'static str, String)>,
    /// Largest value, for the class breaks.
    pub max_value: f64,
}

impl<'a> MapData<'a> {
    fn of_report(report: &'a PlanReport) -> MapData<'a> {
        let instance = report.instance;
        let areas = instance
            .districts
            .iter()
            .zip(&report.figures.districts)
            .map(|(district, figures)| {
                (
                    &district.area_lonlat,
                    figures.per_1000,
                    format!(
                        "{}: {} Plätze je 1.000 Einwohner",
                        district.name,
                        figures.per_1000.map_or("–".into(), |v| de(v, 1))
                    ),
                )
            })
            .collect();
        let sites = report
            .shown_sites
            .iter()
            .map(|&(s, lonlat)| {
                let site = &instance.sites[s];
                let new = report.plan.places[s];
                (
                    lonlat,
                    new + site.occupied,
                    site_kind(site.occupied, new),
                    format!("{}: {} neu, {} belegt", site.id, new, site.occupied),
                )
            })
            .collect();
        MapData {
            areas,
            sites,
            max_value: report.figures.per_1000_max,
        }
    }
}

/// The map: districts shaded by places per 1,000 residents, sites as circles, a legend and
/// a scale bar. `width` in pixels.
pub fn map_svg(data: &MapData, width: f64) -> String {
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (area, _, _) in &data.areas {
        for polygon in &area.0 {
            for c in &polygon.exterior().0 {
                min_x = min_x.min(c.x);
                max_x = max_x.max(c.x);
                min_y = min_y.min(c.y);
                max_y = max_y.max(c.y);
            }
        }
    }
    if min_x > max_x {
        return String::new();
    }
    let mid_lat = (min_y + max_y) / 2.0;
    let squash = mid_lat.to_radians().cos();
    let span_x = ((max_x - min_x) * squash).max(1e-9);
    let span_y = (max_y - min_y).max(1e-9);
    let scale = width / span_x;
    let height = (span_y * scale).clamp(200.0, 900.0);
    let scale = scale.min(height / span_y);
    let px = |x: f64, y: f64| {
        (
            (x - min_x) * squash * scale + 10.0,
            (max_y - y) * scale + 10.0,
        )
    };
    let breaks = class_breaks(data.max_value);
    let colour = |value: Option<f64>| match value {
        None => "#dddddd",
        Some(v) => {
            let class = breaks[1..5].iter().filter(|&&b| v >= b).count();
            COLOURS[class]
        }
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="Karte der Bezirke und Standorte">"#,
        w = width + 20.0,
        h = height + 90.0
    );
    for (area, value, title) in &data.areas {
        let mut path = String::new();
        for polygon in &area.0 {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                for (i, c) in ring.0.iter().enumerate() {
                    let (x, y) = px(c.x, c.y);
                    let _ = write!(path, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
                }
                path.push('Z');
            }
        }
        let _ = write!(
            svg,
            r##"<path d="{path}" fill="{}" stroke="#666" stroke-width="0.6" fill-rule="evenodd"><title>{}</title></path>"##,
            colour(*value),
            escape(title)
        );
    }
    let mut sites: Vec<&([f64; 2], u32, &str, String)> = data.sites.iter().collect();
    sites.sort_by_key(|site| std::cmp::Reverse(site.1));
    for (position, total, kind, title) in sites {
        let (x, y) = px(position[0], position[1]);
        let fill = match *kind {
            "new" => "#2166ac",
            "extended" => "#762a83",
            _ => "#787878",
        };
        let r = 1.5 + 0.45 * f64::from(*total).sqrt();
        let _ = write!(
            svg,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{fill}" fill-opacity="0.85" stroke="white" stroke-width="0.5"><title>{}</title></circle>"#,
            escape(title)
        );
    }
    // Scale bar: a round length near a fifth of the map width.
    let metres_per_px = 111_320.0 / scale;
    let target = metres_per_px * width / 5.0;
    let magnitude = 10f64.powf(target.log10().floor());
    let length = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .rfind(|&l| l <= target)
        .unwrap_or(magnitude);
    let bar = length / metres_per_px;
    let y0 = height + 35.0;
    let _ = write!(
        svg,
        r##"<g font-size="12" font-family="sans-serif"><rect x="10" y="{y0}" width="{bar:.1}" height="6" fill="#333"/><text x="10" y="{ty}">{label}</text>"##,
        ty = y0 + 22.0,
        label = if length >= 1000.0 {
            format!("{} km", de(length / 1000.0, 0))
        } else {
            format!("{} m", de(length, 0))
        }
    );
    let mut lx = 200.0_f64.min(width / 4.0);
    for (i, c) in COLOURS.iter().enumerate() {
        let label = if i == 4 {
            format!("≥ {}", de(breaks[4], 1))
        } else {
            format!("{}–{}", de(breaks[i], 1), de(breaks[i + 1], 1))
        };
        let _ = write!(
            svg,
            r##"<rect x="{lx}" y="{y0}" width="14" height="14" fill="{c}" stroke="#666"/><text x="{tx}" y="{ty}">{label}</text>"##,
            tx = lx + 18.0,
            ty = y0 + 12.0
        );
        lx += 85.0;
    }
    let _ = write!(
        svg,
        r##"<text x="10" y="{ty}">Flächen: Plätze je 1.000 Einwohner. Kreise: Standorte (blau neu, violett erweitert, grau bestehend), Größe nach Plätzen.</text></g></svg>"##,
        ty = y0 + 48.0
    );
    svg
}

/// Bars of allocated places against the target per district (sorted by target).
fn chart_svg(report: &PlanReport) -> String {
    let figures = &report.figures.districts;
    let mut order: Vec<usize> = (0..figures.len()).collect();
    order.sort_by(|&a, &b| figures[b].target.total_cmp(&figures[a].target));
    order.truncate(60);
    let max = order
        .iter()
        .map(|&d| figures[d].target.max(figures[d].total))
        .fold(1.0, f64::max);
    let row = 16.0;
    let label_w = 190.0;
    let bar_w = 540.0;
    let height = row * order.len() as f64 + 40.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {height}" width="{w}" height="{height}" font-family="sans-serif" font-size="11" role="img" aria-label="Soll und Ist je Bezirk">"#,
        w = label_w + bar_w + 60.0
    );
    for (i, &d) in order.iter().enumerate() {
        let y = 10.0 + i as f64 * row;
        let f = &figures[d];
        let total = f.total / max * bar_w;
        let target = f.target / max * bar_w;
        let _ = write!(
            svg,
            r##"<text x="{tx}" y="{ty}" text-anchor="end">{name}</text><rect x="{label_w}" y="{y}" width="{total:.1}" height="11" fill="#6baed6"><title>{name}: {ist} Plätze, Soll {soll}</title></rect><line x1="{tl:.1}" x2="{tl:.1}" y1="{y1}" y2="{y2}" stroke="#d6400e" stroke-width="2"/>"##,
            tx = label_w - 6.0,
            ty = y + 9.5,
            name = escape(&report.instance.districts[d].name),
            ist = de(f.total, 0),
            soll = de(f.target, 1),
            tl = label_w + target,
            y1 = y - 2.0,
            y2 = y + 13.0
        );
    }
    let ly = height - 14.0;
    let _ = write!(
        svg,
        r##"<rect x="{label_w}" y="{ly}" width="14" height="10" fill="#6baed6"/><text x="{a}" y="{t}">Plätze (bestehend + neu)</text><line x1="{b}" x2="{b}" y1="{ly}" y2="{l2}" stroke="#d6400e" stroke-width="2"/><text x="{c}" y="{t}">Soll (fairer Anteil)</text></svg>"##,
        a = label_w + 18.0,
        t = ly + 9.0,
        b = label_w + 200.0,
        l2 = ly + 11.0,
        c = label_w + 206.0
    );
    svg
}

/// The levels of a nested plan: D at each level (bars) and D of each level alone (marks),
/// so the planner sees what staging costs in evenness.
fn levels_chart_svg(report: &PlanReport) -> String {
    let levels = report.levels;
    let max = levels
        .iter()
        .map(|l| {
            l.figures
                .dissimilarity
                .max(l.dissimilarity_alone.unwrap_or(0.0))
        })
        .fold(0.01, f64::max);
    let (chart_h, bar_w, gap, left) = (180.0, 60.0, 40.0, 50.0);
    let width = left + levels.len() as f64 * (bar_w + gap) + 20.0;
    let height = chart_h + 70.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="sans-serif" font-size="11" role="img" aria-label="Segregationsindex D je Stufe">"#
    );
    let _ = write!(
        svg,
        r##"<line x1="{left}" x2="{left}" y1="10" y2="{b}" stroke="#888"/><line x1="{left}" x2="{r}" y1="{b}" y2="{b}" stroke="#888"/><text x="{tx}" y="14" text-anchor="end">{top}</text><text x="{tx}" y="{b}" text-anchor="end">0</text>"##,
        b = 10.0 + chart_h,
        r = width - 10.0,
        tx = left - 4.0,
        top = de(max, 3)
    );
    for (i, level) in levels.iter().enumerate() {
        let x = left + 20.0 + i as f64 * (bar_w + gap);
        let d = level.figures.dissimilarity;
        let h = d / max * chart_h;
        let _ = write!(
            svg,
            r##"<rect x="{x}" y="{y:.1}" width="{bar_w}" height="{h:.1}" fill="#2171b5"><title>Stufe {n}: D = {dv}</title></rect><text x="{cx}" y="{ly:.1}" text-anchor="middle">{dv}</text><text x="{cx}" y="{b1}" text-anchor="middle">Stufe {n}</text><text x="{cx}" y="{b2}" text-anchor="middle">{places} Plätze</text>"##,
            y = 10.0 + chart_h - h,
            n = i + 1,
            dv = de(d, 3),
            cx = x + bar_w / 2.0,
            ly = 10.0 + chart_h - h - 4.0,
            b1 = chart_h + 26.0,
            b2 = chart_h + 40.0,
            places = de(level.places as f64, 0)
        );
        if let Some(alone) = level.dissimilarity_alone {
            let ya = 10.0 + chart_h - alone / max * chart_h;
            let _ = write!(
                svg,
                r##"<line x1="{x1}" x2="{x2}" y1="{ya:.1}" y2="{ya:.1}" stroke="#d6400e" stroke-width="3"><title>Stufe {n} allein: D = {av}</title></line>"##,
                x1 = x - 6.0,
                x2 = x + bar_w + 6.0,
                n = i + 1,
                av = de(alone, 3)
            );
        }
    }
    let ly = height - 12.0;
    let _ = write!(
        svg,
        r##"<rect x="{left}" y="{ly0}" width="14" height="10" fill="#2171b5"/><text x="{a}" y="{ly}">D des gestuften Plans</text><line x1="{b}" x2="{b2}" y1="{lm}" y2="{lm}" stroke="#d6400e" stroke-width="3"/><text x="{c}" y="{ly}">D der Stufe allein geplant</text></svg>"##,
        ly0 = ly - 9.0,
        a = left + 18.0,
        b = left + 170.0,
        b2 = left + 186.0,
        lm = ly - 4.0,
        c = left + 192.0
    );
    svg
}

/// The section on demand levels: what each level places, how even it is, what staging
/// costs, and which sites open when.
fn levels_section(report: &PlanReport) -> String {
    let mut html = String::from("<h2>Stufen der Prognose</h2><p>Ein gestufter Plan: Jede Stufe behält alle Plätze der Stufe davor und öffnet weitere Standorte; niemand muss umziehen, wenn mehr Menschen kommen. „Preis der Staffelung“ ist, um wie viel der Segregationsindex D einer Stufe höher liegt als bei einem Plan nur für diese Stufe.</p><table><thead><tr><th>Stufe</th><th>Plätze</th><th>Gewicht</th><th>untergebracht</th><th>Fehlbedarf</th><th>D</th><th>D allein</th><th>Preis der Staffelung</th><th>Standorte</th><th>neu geöffnet</th></tr></thead><tbody>");
    for (i, level) in report.levels.iter().enumerate() {
        let f = &level.figures;
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            de(level.places as f64, 0),
            de(level.weight, 2),
            de(f.placed as f64, 0),
            de(f.shortfall as f64, 0),
            de(f.dissimilarity, 3),
            level.dissimilarity_alone.map_or("–".into(), |d| de(d, 3)),
            level.price_of_nesting().map_or("–".into(), |p| de(p, 4)),
            de(f.sites_used as f64, 0),
            de(level.sites_opened as f64, 0),
        );
    }
    html += "</tbody></table>";
    html += &levels_chart_svg(report);
    html
}

/// The fair-share key and the district rules, with the districts each rule applies to.
fn key_and_district_rules(report: &PlanReport) -> String {
    let instance = report.instance;
    if report.fair_share_key.is_none() && instance.rules.district.is_empty() {
        return String::new();
    }
    let mut html = String::from("<h2>Verteilschlüssel und Bezirksregeln</h2>");
    if let Some(key) = report.fair_share_key {
        let total: f64 = instance.districts.iter().map(|d| d.weight).sum();
        let _ = write!(
            html,
            "<p>Der faire Anteil eines Bezirks folgt nicht allein der Einwohnerzahl, sondern dem Schlüssel <code>{}</code>: Soll = alle Plätze × Schlüssel des Bezirks / Summe der Schlüssel ({}). Der Wert je Bezirk steht in der Tabelle unten und als <code>weight</code> in <code>districts.geojson</code>.</p>",
            escape(key),
            de(total, 1)
        );
    }
    if !instance.rules.district.is_empty() {
        html += "<p>Bezirksregeln (es gilt die erste, deren Bedingung zutrifft; <code>rule</code> in <code>districts.geojson</code>):</p><ul>";
        for (r, rule) in instance.rules.district.iter().enumerate() {
            let names: Vec<String> = instance
                .districts
                .iter()
                .filter(|d| d.rule == Some(r))
                .map(|d| escape(&d.name))
                .collect();
            let mut caps = Vec::new();
            if let Some(share) = rule.max_share {
                caps.push(format!(
                    "höchstens {} % der Einwohnerzahl",
                    de(share * 100.0, 2)
                ));
            }
            if let Some(max_new) = rule.max_new {
                caps.push(format!("höchstens {} neue Plätze", de(max_new as f64, 0)));
            }
            let _ = write!(
                html,
                "<li>wo <code>{}</code>: {} – {}</li>",
                escape(&rule.condition),
                caps.join(" und "),
                if names.is_empty() {
                    "trifft auf keinen Bezirk zu".to_string()
                } else {
                    format!(
                        "{} {}: {}",
                        names.len(),
                        if names.len() == 1 {
                            "Bezirk"
                        } else {
                            "Bezirke"
                        },
                        names.join(", ")
                    )
                }
            );
        }
        html += "</ul>";
    }
    html
}

/// The page's head and style, shared with `compare.html`.
pub fn page_head(title: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>{title} – quartier</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }}
.figures {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.figure {{ background: #f3f6fa; border-radius: 6px; padding: 10px 14px; min-width: 150px; }}
.figure b {{ display: block; font-size: 1.45em; }}
.maps {{ display: flex; gap: 12px; }}
table {{ border-collapse: collapse; font-size: 0.9em; width: 100%; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 3px 6px; text-align: right; }}
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) {{ text-align: left; }}
.note {{ color: #555; font-size: 0.9em; }}
</style></head><body>
"#,
        title = escape(title)
    )
}

pub fn escape_html(text: &str) -> String {
    escape(text)
}

/// The whole page.
pub fn report_html(report: &PlanReport) -> String {
    let f = report.figures;
    let instance = report.instance;
    let mut html = String::new();
    html += &page_head(&instance.name);
    let _ = write!(
        html,
        r#"<h1>{title}</h1>
<p class="note">Erstellt mit quartier. Status der Optimierung: <b>{status}</b>.</p>
<h2>Regeln</h2><ul>"#,
        title = escape(&instance.name),
        status = if report.status == "optimal" {
            "optimal (bewiesen)".to_string()
        } else {
            format!(
                "Zeitlimit erreicht, beste gefundene Lösung (Lücke {} %)",
                de(report.mip_gap * 100.0, 2)
            )
        }
    );
    let _ = write!(
        html,
        "<li>{} neue Plätze sind unterzubringen; {} Plätze bestehen bereits.</li>",
        de(f.demand as f64, 0),
        de(f.existing, 0)
    );
    for line in rules_in_words(report) {
        let _ = write!(html, "<li>{line}</li>");
    }
    html += "</ul><h2>Kennzahlen</h2><div class=\"figures\">";
    let worst = f.worst_district.map(|d| {
        format!("{} ({} Plätze)", escape(&instance.districts[d].name), {
            let dev = f.districts[d].deviation;
            format!("{}{}", if dev > 0.0 { "+" } else { "" }, de(dev, 1))
        })
    });
    for (label, value) in [
        ("untergebracht", de(f.placed as f64, 0)),
        ("Fehlbedarf", de(f.shortfall as f64, 0)),
        ("genutzte Standorte", de(f.sites_used as f64, 0)),
        ("Segregationsindex D", de(f.dissimilarity, 3)),
        (
            "Plätze je 1.000 EW (min / Median / max)",
            format!(
                "{} / {} / {}",
                de(f.per_1000_min, 1),
                de(f.per_1000_median, 1),
                de(f.per_1000_max, 1)
            ),
        ),
        ("größte Abweichung", worst.unwrap_or_else(|| "–".into())),
    ] {
        let _ = write!(html, "<div class=\"figure\">{label}<b>{value}</b></div>");
    }
    if let Some(spread) = &report.spread {
        let _ = write!(
            html,
            "<div class=\"figure\">höchstens neue Plätze im Umkreis von {} m eines Standorts<b>{}</b></div>",
            de(spread.metres, 0),
            de(spread.places as f64, 0)
        );
    }
    for (kind, metres) in report.distances {
        if let Some(m) = metres {
            let _ = write!(
                html,
                "<div class=\"figure\">mittlerer Weg von einem neuen Platz zur nächsten Einrichtung „{}“<b>{} m</b></div>",
                escape(kind),
                de(*m, 0)
            );
        }
    }
    html += "</div><p class=\"note\">Der Segregationsindex D ist 0, wenn jeder Bezirk genau seinen Anteil an den Plätzen hat (nach Einwohnern); 0,1 heißt: 10 % der Plätze müssten umziehen, damit das so ist.</p>";
    if f.shortfall > 0 {
        let reasons: Vec<String> = report
            .shortfall_reasons
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{k}: {}", de(*n as f64, 0)))
            .collect();
        let _ = write!(
            html,
            "<p><b>Fehlbedarf nach Regel:</b> {}</p>",
            reasons.join(", ")
        );
    }
    html += &key_and_district_rules(report);
    if !report.levels.is_empty() {
        html += &levels_section(report);
    }
    html += "<h2>Karte</h2>";
    html += &map_svg(&MapData::of_report(report), 760.0);
    html += "<h2>Soll und Ist je Bezirk</h2>";
    html += &chart_svg(report);
    let keyed = report.fair_share_key.is_some();
    let ruled = !instance.rules.district.is_empty();
    let _ = write!(
        html,
        "<h2>Bezirke</h2><table><thead><tr><th>Id</th><th>Name</th><th>Einwohner</th>{}{}<th>bestehend</th><th>neu</th><th>Soll</th><th>Abweichung</th><th>je 1.000 EW</th><th>begrenzt durch</th></tr></thead><tbody>",
        if keyed { "<th>Schlüssel</th>" } else { "" },
        if ruled { "<th>Bezirksregel</th>" } else { "" }
    );
    for (d, district) in instance.districts.iter().enumerate() {
        let fd = &f.districts[d];
        let mut extra = String::new();
        if keyed {
            let _ = write!(extra, "<td>{}</td>", de(district.weight, 1));
        }
        if ruled {
            let rule = instance.district_rule(d).map_or("", |r| r.label());
            let _ = write!(extra, "<td>{}</td>", escape(rule));
        }
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td>{extra}<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&district.id),
            escape(&district.name),
            de(district.population, 0),
            de(fd.existing, 0),
            de(fd.new, 0),
            de(fd.target, 1),
            de(fd.deviation, 1),
            fd.per_1000.map_or("–".into(), |v| de(v, 1)),
            report.limited_by[d]
        );
    }
    html += "</tbody></table></body></html>\n";
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_numbers() {
        assert_eq!(de(1234567.891, 1), "1.234.567,9");
        assert_eq!(de(0.1234, 3), "0,123");
        assert_eq!(de(-12.5, 1), "−12,5");
        assert_eq!(de(999.0, 0), "999");
        assert_eq!(de(-0.01, 1), "0,0");
    }
}
