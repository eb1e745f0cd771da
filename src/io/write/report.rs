//! `report.html`: one self-contained page (no scripts, no network) a planner can forward:
//! the scenario and its rules in plain words, the key figures, a map (inline SVG), a chart
//! of target against allocated places per district, and the table of districts. German
//! number formats (1.234,5) and umlauts throughout.
//!
//! The page is put together here, its pictures come from `charts`, the shared HTML pieces from
//! `html`.

use std::fmt::Write;

use super::charts::{chart_svg, levels_chart_svg, map_svg, MapData};
use super::html::{de, escape, page_head};
use super::plan_report::PlanReport;
use crate::model::Stage;

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
            Stage::Fair => "wo nicht jeder Bezirk sein Soll erreichen kann, den Rückstand im Verhältnis zum Soll auf die Bezirke verteilen".to_string(),
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

/// A goal's short German name (for the gap a time limit leaves).
fn goal_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Shortfall => "unterbringen",
        Stage::Evenness => "gleichmäßig verteilen",
        Stage::Fair => "Rückstand gerecht verteilen",
        Stage::Worst => "abweichendster Bezirk",
        Stage::Spread => "innerhalb der Bezirke streuen",
        Stage::Access => "kurze Wege",
        Stage::Cost => "Kosten",
    }
}

/// "A", "A und B", "A, B und C".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} und {last}", rest.join(", ")),
    }
}

/// Colours of the ways on foot by facility kind (as in `routes.qml`).
const WAY_COLOURS: [&str; 6] = [
    "#e66101", "#5e3c99", "#1b9e77", "#d95f02", "#7570b3", "#66a61e",
];

/// The section "Wege zu Fuß": per facility kind, the walk against the straight line for the
/// sites with new places, the sites that the walk rules out under the access rule, and a
/// map of the ways that differ most from the straight line.
fn ways_section(report: &PlanReport) -> String {
    let instance = report.instance;
    let geography = report.geography;
    let Some(walks) = &geography.walks else {
        return String::new();
    };
    let straight = geography.straight_nearest();
    let graph = &walks.graph;
    let mut html = format!(
        "<h2>Wege zu Fuß</h2><p>Entfernungen zu Einrichtungen sind hier Fußwege auf dem Straßennetz ({} km, {} Knoten, {} zusammenhängende Teilnetz{}), nicht die Luftlinie: Flüsse, Bahnlinien und große Straßen machen Wege länger. Abstandsregel und Streuung bleiben in Luftlinie. Ein Standort, der mehr als {} m vom nächsten Weg entfernt liegt oder von dem aus keine Einrichtung einer geforderten Art erreichbar ist, bekommt keine neuen Plätze.</p>",
        de(graph.km(), 1),
        de(graph.nodes.len() as f64, 0),
        de(graph.parts as f64, 0),
        if graph.parts == 1 { "" } else { "e" },
        de(graph.max_snap_m, 0),
    );
    html += "<table><thead><tr><th>Art</th><th>Standorte mit neuen Plätzen</th><th>mittlerer Fußweg</th><th>mittlere Luftlinie</th><th>Umweg (Median)</th><th>größter Umweg</th><th>Regel</th><th>nur in Luftlinie nah genug</th><th>nicht erreichbar</th></tr></thead><tbody>";
    let usable = |s: usize| {
        geography.site_district[s].is_some()
            && instance.sites[s].status != crate::model::SiteStatus::Excluded
    };
    for (layer, facilities) in instance.facilities.iter().enumerate() {
        let mut walk_sum = 0.0;
        let mut line_sum = 0.0;
        let mut ratios = Vec::new();
        let mut used = 0usize;
        for (s, &places) in report.plan.places.iter().enumerate() {
            if places == 0 {
                continue;
            }
            if let (Some(walk), Some(line)) = (geography.nearest[layer][s], straight[layer][s]) {
                used += 1;
                walk_sum += walk.metres;
                line_sum += line.metres;
                if line.metres > 1.0 {
                    ratios.push(walk.metres / line.metres);
                }
            }
        }
        ratios.sort_by(f64::total_cmp);
        let rule = instance
            .rules
            .access
            .iter()
            .find(|a| a.kind == facilities.kind);
        let unreachable = (0..instance.sites.len())
            .filter(|&s| usable(s) && geography.nearest[layer][s].is_none())
            .count();
        let ruled_out = rule.map(|rule| {
            (0..instance.sites.len())
                .filter(|&s| {
                    usable(s)
                        && straight[layer][s].is_some_and(|n| n.metres <= rule.metres)
                        && geography.nearest[layer][s].is_some_and(|n| n.metres > rule.metres)
                })
                .count()
        });
        let mean = |sum: f64| {
            if used == 0 {
                "–".to_string()
            } else {
                format!("{} m", de(sum / used as f64, 0))
            }
        };
        let times =
            |r: Option<&f64>| r.map_or("–".to_string(), |r| format!("{}-fach", de(*r, 2)));
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&facilities.kind),
            de(used as f64, 0),
            mean(walk_sum),
            mean(line_sum),
            times(ratios.get(ratios.len() / 2)),
            times(ratios.last()),
            rule.map_or("–".to_string(), |r| format!("höchstens {} m zu Fuß", de(r.metres, 0))),
            ruled_out.map_or("–".to_string(), |n| de(n as f64, 0)),
            de(unreachable as f64, 0),
        );
    }
    html += "</tbody></table><p class=\"note\">„Nur in Luftlinie nah genug“: Standorte, die die Entfernungsregel in Luftlinie einhielten, zu Fuß aber nicht; sie bekommen keine neuen Plätze. „Nicht erreichbar“: Standorte abseits des Wegenetzes oder in einem Teilnetz ohne Einrichtung dieser Art. Umweg: Fußweg geteilt durch Luftlinie.</p>";
    if !report.ways.is_empty() {
        // The ways that differ most from the straight line, at most 40.
        let mut order: Vec<usize> = (0..report.ways.len()).collect();
        let detour = |w: &super::plan_report::WayOnFoot| w.metres / w.line_metres.max(1.0);
        order.sort_by(|&a, &b| detour(&report.ways[b]).total_cmp(&detour(&report.ways[a])));
        order.truncate(40);
        let mut data = MapData::of_report(report);
        data.lines = order
            .iter()
            .map(|&w| {
                let way = &report.ways[w];
                let colour = instance
                    .facilities
                    .iter()
                    .position(|l| l.kind == way.kind)
                    .map_or(WAY_COLOURS[0], |i| WAY_COLOURS[i % WAY_COLOURS.len()]);
                (
                    way.lonlat.as_slice(),
                    colour,
                    format!(
                        "{} → {} ({}): {} m zu Fuß, {} m Luftlinie",
                        way.site_id,
                        way.facility_id,
                        way.kind,
                        de(way.metres, 0),
                        de(way.line_metres, 0)
                    ),
                )
            })
            .collect();
        let _ = write!(
            html,
            "<p>Die Karte zeigt die {} Wege mit dem größten Umweg (Linien, Farbe nach Art der Einrichtung); alle Wege stehen in <code>routes.geojson</code>.</p>",
            de(order.len() as f64, 0)
        );
        html += &map_svg(&data, 760.0);
    }
    html
}

/// The section on demand levels: what each level places, how even it is, what staging
/// costs, and which sites open when.
/// The districts below their fair share, the furthest below (as a part of the share) first:
/// how far, and what stops more places there.
fn below_share_section(report: &PlanReport) -> String {
    /// More rows than this are counted, not listed.
    const SHOWN: usize = 40;
    let f = report.figures;
    let mut below: Vec<usize> = (0..f.districts.len())
        .filter(|&d| {
            let x = &f.districts[d];
            x.target > 0.0 && x.total < x.target - 0.5
        })
        .collect();
    if below.is_empty() {
        return String::new();
    }
    below.sort_by(|&a, &b| {
        let part = |d: usize| f.districts[d].total / f.districts[d].target;
        part(a).total_cmp(&part(b)).then(a.cmp(&b))
    });
    let existing: Vec<f64> = f.districts.iter().map(|x| x.existing).collect();
    let target: Vec<f64> = f.districts.iter().map(|x| x.target).collect();
    let why = match crate::explain::existing_over_shares(&existing, &target) {
        (0, _) if f.shortfall > 0 => "Es fehlen Plätze, daher kann nicht jeder Bezirk sein Soll erreichen".to_string(),
        (0, _) => "Wo eine Regel weitere Plätze verhindert, nennt die letzte Spalte sie".to_string(),
        (1, places) => format!(
            "Bestehende Unterkünfte liegen in 1 Bezirk {} Plätze über seinem Soll; mindestens so viele Plätze fehlen den anderen Bezirken, der Bedarf kann nicht jedes Soll erreichen („existing_elsewhere“)",
            de(places, 0)
        ),
        (n, places) => format!(
            "Bestehende Unterkünfte liegen in {} Bezirken zusammen {} Plätze über ihrem Soll; mindestens so viele Plätze fehlen den anderen Bezirken, der Bedarf kann nicht jedes Soll erreichen („existing_elsewhere“)",
            de(n as f64, 0),
            de(places, 0)
        ),
    };
    let mut html = format!(
        "<h2>Bezirke unter ihrem Soll</h2><p>{} {} Soll um mehr als einen halben Platz nicht. {why}; {}</p><table><thead><tr><th>Id</th><th>Name</th><th>Soll</th><th>Ist</th><th>erreicht</th><th>fehlen</th><th>begrenzt durch</th></tr></thead><tbody>",
        de(below.len() as f64, 0),
        if below.len() == 1 {
            "Bezirk erreicht sein"
        } else {
            "Bezirke erreichen ihr"
        },
        if report.instance.stages.contains(&Stage::Fair) {
            "das Ziel „fair“ verteilt diesen Rückstand im Verhältnis zum Soll, sodass kein Bezirk leer ausgeht, während andere voll versorgt sind."
        } else {
            "ohne das Ziel „fair“ bleibt dem Zufall überlassen, welche Bezirke zurückbleiben."
        }
    );
    for &d in below.iter().take(SHOWN) {
        let x = &f.districts[d];
        let district = &report.instance.districts[d];
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} %</td><td>{}</td><td>{}</td></tr>",
            escape(&district.id),
            escape(&district.name),
            de(x.target, 1),
            de(x.total, 0),
            de((x.total / x.target * 100.0 + 1e-9).floor(), 0),
            de(x.target - x.total, 1),
            escape(report.limited_by.get(d).copied().unwrap_or(""))
        );
    }
    html += "</tbody></table>";
    if below.len() > SHOWN {
        let _ = write!(
            html,
            "<p class=\"note\">und {} weitere</p>",
            de((below.len() - SHOWN) as f64, 0)
        );
    }
    html
}

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
            let goal = report
                .gap_stage
                .map(|stage| format!(" im Ziel „{}“", goal_name(stage)))
                .unwrap_or_default();
            format!(
                "Zeitlimit erreicht, beste gefundene Lösung (Lücke {} %{goal})",
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
        (
            "kleinster erreichter Anteil am Soll",
            format!("{} %", de((f.min_share_reached * 100.0 + 1e-9).floor(), 0)),
        ),
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
    html += &below_share_section(report);
    html += &key_and_district_rules(report);
    if !report.levels.is_empty() {
        html += &levels_section(report);
    }
    html += "<h2>Karte</h2>";
    html += &map_svg(&MapData::of_report(report), 760.0);
    if report.geography.walks.is_some() {
        html += &ways_section(report);
    }
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
