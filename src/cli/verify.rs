//! `quartier verify`: audit any plan against every rule of the scenario, with the
//! independent checker, and print each violation and the evenness figures.

use std::collections::HashMap;
use std::path::Path;

use geo::{Intersects, Point};

use super::{load, print, thousands, warn_rules_without_districts, Progress};
use crate::check::{check_levels, check_plan};
use crate::error::Error;
use crate::io::plan_in::read_plan;
use crate::io::read::layer::format_number;
use crate::metrics::{mean_distances, most_new_within, Figures};
use crate::model::Plan;

pub fn run(scenario_path: &Path, plan_path: &Path, progress: &Progress) -> Result<i32, Error> {
    let loaded = load(scenario_path, progress)?;
    warn_rules_without_districts(&loaded, progress);
    let instance = &loaded.instance;
    progress.step("reading the plan");
    let level_count = instance.levels.len();
    let entries = read_plan(
        plan_path,
        &loaded.scenario.site_fields.id,
        level_count,
        &crate::io::crs::normalise_crs_name(&loaded.scenario.crs),
    )?;
    let plan_file = plan_path.display().to_string();

    // Problems of the plan file itself: ids, whole numbers, moved points.
    let mut issues: Vec<String> = Vec::new();
    let index: HashMap<&str, usize> = instance
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut plan = Plan::empty(instance.sites.len());
    let mut plans = vec![Plan::empty(instance.sites.len()); level_count];
    let mut seen: HashMap<usize, usize> = HashMap::new();
    for entry in &entries {
        let Some(&site) = index.get(entry.id.as_str()) else {
            issues.push(format!(
                "{plan_file}: feature {} has site id \"{}\", which is not in the scenario's sites layer",
                entry.feature, entry.id
            ));
            continue;
        };
        if let Some(first) = seen.insert(site, entry.feature) {
            issues.push(format!(
                "site \"{}\" appears twice in the plan (features {first} and {}); its places are added up",
                entry.id, entry.feature
            ));
        }
        if entry.places < 0.0 {
            issues.push(format!(
                "site \"{}\": {} new places is negative",
                entry.id,
                format_number(entry.places)
            ));
            continue;
        }
        if entry.places.fract() != 0.0 {
            issues.push(format!(
                "site \"{}\": {} new places is not a whole number (counted as {})",
                entry.id,
                format_number(entry.places),
                entry.places.round()
            ));
        }
        let places = entry.places.round().min(f64::from(u32::MAX)) as u32;
        plan.places[site] = plan.places[site].saturating_add(places);
        for (l, &value) in entry.levels.iter().enumerate() {
            if value < 0.0 || value.fract() != 0.0 {
                issues.push(format!(
                    "site \"{}\": {} new places at level {} is not a whole number ≥ 0 (counted as {})",
                    entry.id,
                    format_number(value),
                    l + 1,
                    value.round().max(0.0)
                ));
            }
            let at_level = value.round().clamp(0.0, f64::from(u32::MAX)) as u32;
            plans[l].places[site] = plans[l].places[site].saturating_add(at_level);
        }
        if let Some(&last) = entry.levels.last() {
            if (last - entry.places).abs() > 1e-9 {
                issues.push(format!(
                    "site \"{}\": places is {} but places_{level_count} is {}; with levels, the places of each level are checked",
                    entry.id,
                    format_number(entry.places),
                    format_number(last)
                ));
            }
        }
        if let Some(moved) = moved(
            instance,
            &loaded.geography.site_district,
            site,
            entry.lonlat,
        ) {
            issues.push(moved);
        }
    }

    progress.step("checking every rule");
    let mut text = format!("{}\n  plan: {}\n", instance.name, plan_file);
    let mut count = issues.len();
    for issue in &issues {
        text += &format!("  ✗ {issue}\n");
    }
    let headline = if level_count == 0 {
        let report = check_plan(instance, &loaded.geography, &plan);
        count += report.violations.len();
        for violation in &report.violations {
            text += &format!("  ✗ {violation}\n");
        }
        text += &figure_lines(instance, &report.figures, "");
        plan.clone()
    } else {
        let report = check_levels(instance, &loaded.geography, &plans);
        let violations = report.violations();
        count += violations.len();
        for (level, violation) in &violations {
            match level {
                Some(l) => text += &format!("  ✗ level {l}: {violation}\n"),
                None => text += &format!("  ✗ {violation}\n"),
            }
        }
        for (l, level) in report.levels.iter().enumerate() {
            text += &format!(
                "  level {} ({} places):\n",
                l + 1,
                thousands(level.figures.demand)
            );
            text += &figure_lines(instance, &level.figures, "  ");
        }
        plans.last().cloned().unwrap_or(plan.clone())
    };
    let spread = most_new_within(
        instance,
        &loaded.geography.site_district,
        &headline,
        instance.spread_metres(),
    );
    text += &format!(
        "  spread: at most {} new places within {} m of any site{}\n",
        thousands(spread.places),
        format_number(spread.metres),
        spread.site.map_or(String::new(), |s| format!(
            " (around site \"{}\")",
            instance.sites[s].id
        ))
    );
    let distances = mean_distances(
        instance,
        &loaded.geography.nearest,
        &headline,
        &instance.access_kinds(),
    );
    let shown: Vec<String> = distances
        .iter()
        .filter_map(|(kind, metres)| {
            metres.map(|m| format!("{kind} {} m", thousands(m.round() as u64)))
        })
        .collect();
    if !shown.is_empty() {
        text += &format!(
            "  mean distance from a new place to the nearest{}: {}\n",
            if instance.network.is_some() {
                " on foot"
            } else {
                ""
            },
            shown.join(", ")
        );
    }
    progress.finish();
    if count == 0 {
        text += "  the plan keeps every rule\n";
    } else {
        text += &format!(
            "  {} violation{} found\n",
            thousands(count as u64),
            if count == 1 { "" } else { "s" }
        );
    }
    print(&text);
    Ok(if count == 0 { 0 } else { 1 })
}

/// The evenness figures of one plan (or level), indented by `indent`.
fn figure_lines(instance: &crate::model::Instance, f: &Figures, indent: &str) -> String {
    let mut text = format!(
        "{indent}  placed {} of {} new places at {} sites; shortfall {}\n",
        thousands(f.placed),
        thousands(f.demand),
        thousands(f.sites_used as u64),
        thousands(f.shortfall)
    );
    text += &format!(
        "{indent}  evenness: dissimilarity D = {:.4}; sum of deviations {:.3}; largest deviation {:.1} places ({:.1} %)\n",
        f.dissimilarity,
        f.evenness,
        f.max_abs_deviation,
        f.max_rel_deviation * 100.0
    );
    text += &format!(
        "{indent}  places per 1,000 residents: min {:.1}, median {:.1}, max {:.1}\n",
        f.per_1000_min, f.per_1000_median, f.per_1000_max
    );
    text += &format!(
        "{indent}  fair deficits F = {:.3}\n{indent}{}",
        f.fair,
        super::fair_share_line(instance, f, None)
    );
    text
}

/// A message when the plan's point is more than a metre from the site's position.
fn moved(
    instance: &crate::model::Instance,
    site_district: &[Option<u32>],
    site: usize,
    lonlat: Option<[f64; 2]>,
) -> Option<String> {
    let at = lonlat?;
    let original =
        crate::io::crs::to_lonlat(&instance.metric_crs, &[instance.sites[site].position])
            .ok()?
            .first()
            .copied()?;
    let metres_per_degree = 111_320.0;
    let dx = (at[0] - original[0]) * metres_per_degree * original[1].to_radians().cos();
    let dy = (at[1] - original[1]) * metres_per_degree;
    let metres = dx.hypot(dy);
    if metres <= 1.0 {
        return None;
    }
    let id = &instance.sites[site].id;
    let point = Point::new(at[0], at[1]);
    let now_in = instance
        .districts
        .iter()
        .position(|d| d.area_lonlat.intersects(&point));
    let was_in = site_district[site].map(|d| d as usize);
    let name = |d: Option<usize>| {
        d.map_or("no district".to_string(), |d| {
            format!(
                "district {} \"{}\"",
                instance.districts[d].id, instance.districts[d].name
            )
        })
    };
    Some(if now_in != was_in {
        format!(
            "site \"{id}\" was moved {:.0} m from {} into {}; the rules apply to the position in the sites layer, so move it there and run again",
            metres,
            name(was_in),
            name(now_in)
        )
    } else {
        format!(
            "site \"{id}\" was moved {:.0} m; the rules apply to the position in the sites layer, so move it there and run again",
            metres
        )
    })
}
