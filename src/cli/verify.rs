//! `quartier verify`: audit any plan against every rule of the scenario, with the
//! independent checker, and print each violation and the evenness figures.

use std::collections::HashMap;
use std::path::Path;

use geo::{Intersects, Point};

use super::{load, print, thousands, Progress};
use crate::check::check_plan;
use crate::error::Error;
use crate::io::geojson_in::format_number;
use crate::io::plan_in::read_plan;
use crate::model::Plan;

pub fn run(scenario_path: &Path, plan_path: &Path, progress: &Progress) -> Result<i32, Error> {
    let loaded = load(scenario_path, progress)?;
    let instance = &loaded.instance;
    progress.step("reading the plan");
    let entries = read_plan(plan_path, &loaded.scenario.site_fields.id)?;
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
    let report = check_plan(instance, &loaded.geography, &plan);
    progress.finish();

    let mut text = format!("{}\n  plan: {}\n", instance.name, plan_file);
    let count = issues.len() + report.violations.len();
    for issue in &issues {
        text += &format!("  ✗ {issue}\n");
    }
    for violation in &report.violations {
        text += &format!("  ✗ {violation}\n");
    }
    let f = &report.figures;
    text += &format!(
        "  placed {} of {} new places at {} sites; shortfall {}\n",
        thousands(f.placed),
        thousands(f.demand),
        thousands(f.sites_used as u64),
        thousands(f.shortfall)
    );
    text += &format!(
        "  evenness: dissimilarity D = {:.4}; sum of deviations {:.3}; largest deviation {:.1} places ({:.1} %)\n",
        f.dissimilarity,
        f.evenness,
        f.max_abs_deviation,
        f.max_rel_deviation * 100.0
    );
    text += &format!(
        "  places per 1,000 residents: min {:.1}, median {:.1}, max {:.1}\n",
        f.per_1000_min, f.per_1000_median, f.per_1000_max
    );
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

/// A message when the plan's point is more than a metre from the site's position.
fn moved(
    instance: &crate::model::Instance,
    site_district: &[Option<u32>],
    site: usize,
    lonlat: Option<[f64; 2]>,
) -> Option<String> {
    let at = lonlat?;
    let original = instance.sites[site].lonlat;
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
