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

/// Bars of allocated places against the target per district (sorted by target, the 60
/// largest), drawn with plotters: a blue bar for the places (existing and new), a red mark
/// for the fair share.
pub(super) fn chart_svg(report: &PlanReport) -> String {
    use plotters::prelude::*;
    let figures = &report.figures.districts;
    let mut order: Vec<usize> = (0..figures.len()).collect();
    order.sort_by(|&a, &b| figures[b].target.total_cmp(&figures[a].target));
    order.truncate(60);
    // Plotters counts rows from the bottom: the largest share on top.
    order.reverse();
    let max = order
        .iter()
        .map(|&d| figures[d].target.max(figures[d].total))
        .fold(1.0, f64::max);
    let count = order.len().max(1);
    let height = (16 * count + 70) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, height)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let name_of = |i: usize| {
            order
                .get(i)
                .map(|&d| report.instance.districts[d].name.clone())
                .unwrap_or_default()
        };
        let Ok(mut chart) = ChartBuilder::on(&root)
            .margin(6)
            .x_label_area_size(40)
            .y_label_area_size(190)
            .build_cartesian_2d(0.0..max * 1.05, (0..count).into_segmented())
        else {
            return String::new();
        };
        let _ = chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(count)
            .y_label_formatter(&|y| match y {
                SegmentValue::CenterOf(i) => name_of(*i),
                _ => String::new(),
            })
            .x_desc("Plätze (blau: bestehend + neu; rot: Soll, der faire Anteil)")
            .x_label_formatter(&|x| de(*x, 0))
            .light_line_style(WHITE)
            .draw();
        let blue = RGBColor(107, 174, 214);
        let red = RGBColor(214, 64, 14);
        let _ = chart.draw_series(order.iter().enumerate().map(|(i, &d)| {
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (figures[d].total, SegmentValue::Exact(i + 1)),
                ],
                blue.filled(),
            );
            bar.set_margin(2, 2, 0, 0);
            bar
        }));
        let _ = chart.draw_series(order.iter().enumerate().map(|(i, &d)| {
            PathElement::new(
                vec![
                    (figures[d].target, SegmentValue::Exact(i)),
                    (figures[d].target, SegmentValue::Exact(i + 1)),
                ],
                red.stroke_width(2),
            )
        }));
        let _ = root.present();
    }
    svg
}

/// The levels of a nested plan: D at each level (bars) and D of each level alone (red
/// marks), so the planner sees what staging costs in evenness; drawn with plotters.
pub(super) fn levels_chart_svg(report: &PlanReport) -> String {
    use plotters::prelude::*;
    let levels = report.levels;
    let max = levels
        .iter()
        .map(|l| {
            l.figures
                .dissimilarity
                .max(l.dissimilarity_alone.unwrap_or(0.0))
        })
        .fold(0.01, f64::max);
    let count = levels.len().max(1);
    let width = (120 * count + 160) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, 280)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let Ok(mut chart) = ChartBuilder::on(&root)
            .caption(
                "Segregationsindex D je Stufe (blau: gestufter Plan, rot: Stufe allein geplant)",
                ("sans-serif", 12),
            )
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d((0..count).into_segmented(), 0.0..max * 1.1)
        else {
            return String::new();
        };
        let _ = chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(count)
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) => levels
                    .get(*i)
                    .map(|l| format!("Stufe {} ({} Plätze)", i + 1, de(l.places as f64, 0)))
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_formatter(&|y| de(*y, 3))
            .light_line_style(WHITE)
            .draw();
        let blue = RGBColor(33, 113, 181);
        let red = RGBColor(214, 64, 14);
        let _ = chart.draw_series(levels.iter().enumerate().map(|(i, level)| {
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), level.figures.dissimilarity),
                ],
                blue.filled(),
            );
            bar.set_margin(0, 0, 18, 18);
            bar
        }));
        let _ = chart.draw_series(levels.iter().enumerate().filter_map(|(i, level)| {
            let alone = level.dissimilarity_alone?;
            Some(PathElement::new(
                vec![
                    (SegmentValue::Exact(i), alone),
                    (SegmentValue::Exact(i + 1), alone),
                ],
                red.stroke_width(3),
            ))
        }));
        let _ = root.present();
    }
    svg
}
