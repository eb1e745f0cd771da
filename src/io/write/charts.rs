//! The pictures of `report.html` (and of `compare.html`), as inline SVG: the map of
//! districts shaded by places per 1,000 residents with the sites as circles, the bars of
//! target against allocated places per district, and the chart of the demand levels.

use std::fmt::Write;

use geo::MultiPolygon;

use super::html::{de, escape};
use super::plan_report::{site_kind, PlanReport};
use super::qml::class_breaks;

const COLOURS: [&str; 5] = ["#feedde", "#fdbe85", "#fd8d3c", "#e6550d", "#a63603"];

/// What a map shows: areas shaded by a value, and circles for sites.
pub struct MapData<'a> {
    /// Outline (longitude/latitude), value (places per 1,000), tooltip.
    pub areas: Vec<(&'a MultiPolygon<f64>, Option<f64>, String)>,
    /// Position, total places, kind (`new`, `extended`, `existing`), tooltip.
    pub sites: Vec<([f64; 2], u32, &'static str, String)>,
    /// Largest value, for the class breaks.
    pub max_value: f64,
    /// Lines drawn over the areas (ways on foot): positions, colour, tooltip.
    pub lines: Vec<(&'a [[f64; 2]], &'static str, String)>,
}

impl<'a> MapData<'a> {
    pub(super) fn of_report(report: &'a PlanReport) -> MapData<'a> {
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
            lines: Vec::new(),
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
    for (points, colour, title) in &data.lines {
        let mut path = String::new();
        for (i, p) in points.iter().enumerate() {
            let (x, y) = px(p[0], p[1]);
            let _ = write!(path, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
        }
        let _ = write!(
            svg,
            r#"<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.8" stroke-linejoin="round" stroke-opacity="0.9"><title>{}</title></path>"#,
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
pub(super) fn chart_svg(report: &PlanReport) -> String {
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
pub(super) fn levels_chart_svg(report: &PlanReport) -> String {
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
