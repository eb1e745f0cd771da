//! `quartier check`: validate a scenario and report what the rules leave before solving.

use std::path::Path;

use super::{existing_over_shares_sentence, load_quietly, print, thousands, Progress};
use crate::error::Error;
use crate::explain::shortfall_reasons;
use crate::model::{Instance, SiteStatus, Stage};
use crate::solve::Prepared;
use crate::spatial::Geography;

pub fn run(scenario_path: &Path, progress: &Progress) -> Result<i32, Error> {
    let loaded = load_quietly(scenario_path, progress)?;
    let (scenario, instance) = (&loaded.scenario, &loaded.instance);
    progress.step("applying the rules to sites and districts");
    let prepared = Prepared::new(instance, &loaded.geography);
    progress.finish();

    let population: f64 = instance.districts.iter().map(|d| d.population).sum();
    let status_count =
        |status: SiteStatus| instance.sites.iter().filter(|s| s.status == status).count() as u64;
    let mut text = format!("{}\n", instance.name);
    text += &format!(
        "  districts: {} with {} residents (fair share by \"{}\")\n",
        thousands(instance.districts.len() as u64),
        thousands(population.round() as u64),
        scenario.district_fields.weight
    );
    if let Some(statistics) = &scenario.statistics {
        text += &format!(
            "  statistics: {} joined by \"{}\" to every district\n",
            statistics.file.display(),
            statistics.key
        );
    }
    text += &district_rules(instance);
    text += &format!(
        "  sites: {} ({} candidate, {} existing, {} excluded)\n",
        thousands(instance.sites.len() as u64),
        thousands(status_count(SiteStatus::Candidate)),
        thousands(status_count(SiteStatus::Existing)),
        thousands(status_count(SiteStatus::Excluded)),
    );
    let with_minimum = instance.sites.iter().filter(|s| s.min_places > 0).count() as u64;
    if with_minimum > 0 {
        text += &format!(
            "  sites with a minimum occupancy (\"{}\"): {} ({:.1} %), used with at least that many places or not at all\n",
            scenario.site_fields.min_places,
            thousands(with_minimum),
            100.0 * with_minimum as f64 / instance.sites.len().max(1) as f64,
        );
    }
    if !instance.facilities.is_empty() {
        let layers: Vec<String> = instance
            .facilities
            .iter()
            .map(|l| format!("{} {}", l.kind, thousands(l.facilities.len() as u64)))
            .collect();
        text += &format!("  facilities: {}\n", layers.join(", "));
    }
    text += &network_lines(instance, &loaded.geography);
    let existing: f64 = prepared.district_existing.iter().sum();
    text += &format!(
        "  demand: {} new places ({} places exist already)\n",
        thousands(instance.demand),
        thousands(existing.round() as u64)
    );
    if instance.levels.len() > 1 {
        let levels = instance.demand_levels();
        let places: Vec<String> = levels.iter().map(|l| thousands(l.places)).collect();
        let weights: Vec<String> = levels.iter().map(|l| format!("{}", l.weight)).collect();
        text += &format!(
            "  demand levels: {} new places (weights {}), one nested plan\n",
            places.join(" / "),
            weights.join(", ")
        );
    }
    let stages: Vec<String> = instance
        .stages
        .iter()
        .map(|&stage| match stage {
            Stage::Spread => format!("spread (within {} m)", instance.spread_metres()),
            Stage::Access => format!("access ({})", instance.access_kinds().join(", ")),
            other => other.name().to_string(),
        })
        .collect();
    text += &format!("  objective, stage by stage: {}\n", stages.join(", "));
    let excluded: Vec<String> = prepared
        .exclusion_counts()
        .iter()
        .map(|(k, n)| format!("{k} {}", thousands(*n as u64)))
        .collect();
    text += &format!(
        "  sites that cannot take new places: {}\n",
        excluded.join(", ")
    );
    text += &format!(
        "  room for new places at usable sites: {}\n",
        thousands(prepared.site_room_total())
    );
    // The capacity waterfall before solving: a lower bound on the shortfall.
    let reasons = shortfall_reasons(instance, &prepared, instance.demand);
    let lost: u64 = reasons
        .iter()
        .filter(|(k, _)| {
            matches!(
                *k,
                "no_capacity" | "unreachable" | "access" | "share_cap" | "max_new"
            )
        })
        .map(|(_, n)| n)
        .sum();
    if lost == 0 {
        text += "  capacity: enough for the demand under site caps, access and share caps\n";
    } else {
        let because: Vec<String> = reasons
            .iter()
            .filter(|(k, n)| {
                *n > 0
                    && matches!(
                        *k,
                        "no_capacity" | "unreachable" | "access" | "share_cap" | "max_new"
                    )
            })
            .map(|(k, n)| format!("{k} {}", thousands(*n)))
            .collect();
        text += &format!(
            "  capacity: at least {} places will not fit ({})\n",
            thousands(lost),
            because.join(", ")
        );
    }
    if let Some(sentence) =
        existing_over_shares_sentence(&prepared.district_existing, &prepared.target)
    {
        let then = if instance.stages.contains(&Stage::Fair) {
            "stage fair spreads that deficit in proportion to the shares"
        } else {
            "which districts stay below is left to evenness, which does not care; stage \"fair\" after \"evenness\" spreads the deficit in proportion to the shares"
        };
        text += &format!("  fair shares: {sentence}; {then}\n");
    }
    if let Some(spacing) = instance.rules.spacing {
        text += &format!(
            "  spacing: {} neighbourhoods of {} m can reach the limit of {} places\n",
            thousands(prepared.spacing.len() as u64),
            spacing.metres,
            spacing.max_places
        );
    }
    if !loaded.warnings.is_empty() {
        text += &format!(
            "  {} about the input (a plan follows, but check them):\n",
            if loaded.warnings.len() == 1 {
                "1 warning".to_string()
            } else {
                format!("{} warnings", thousands(loaded.warnings.len() as u64))
            }
        );
        for warning in &loaded.warnings {
            text += &format!("    {warning}\n");
        }
    }
    text += "  the scenario is valid\n";
    print(&text);
    Ok(0)
}

/// Each district rule, its cap and the districts it applies to.
fn district_rules(instance: &crate::model::Instance) -> String {
    let mut text = String::new();
    for (r, rule) in instance.rules.district.iter().enumerate() {
        let districts: Vec<String> = instance
            .districts_of_rule(r)
            .into_iter()
            .map(|d| {
                let d = &instance.districts[d];
                if d.name == d.id {
                    d.id.clone()
                } else {
                    format!("{} {}", d.id, d.name)
                }
            })
            .collect();
        let shown: Vec<&str> = districts.iter().take(12).map(String::as_str).collect();
        text += &format!(
            "  district rule where {} ({}): {}{}{}\n",
            rule.condition,
            rule.caps(),
            match districts.len() {
                0 => "no district".to_string(),
                1 => "1 district: ".to_string(),
                n => format!("{} districts: ", thousands(n as u64)),
            },
            shown.join(", "),
            if districts.len() > 12 { ", …" } else { "" }
        );
    }
    text
}

/// The street network as `check` reports it: its size and parts, the facilities off it
/// and, per kind, the sites that reach no facility on foot. Empty without a network.
fn network_lines(instance: &Instance, geography: &Geography) -> String {
    let Some(walks) = &geography.walks else {
        return String::new();
    };
    let graph = &walks.graph;
    let mut text = format!(
        "  street network: {} nodes, {} edges, {}.{} km in {} connected part{}; distances to facilities are walked along it\n",
        thousands(graph.nodes.len() as u64),
        thousands(graph.edges() as u64),
        thousands((graph.km() * 10.0).round() as u64 / 10),
        (graph.km() * 10.0).round() as u64 % 10,
        thousands(graph.parts as u64),
        if graph.parts == 1 { "" } else { "s" },
    );
    let off_sites = walks.site_joints.iter().filter(|j| j.is_none()).count();
    text += &format!(
        "  sites off the network (more than {} m from every street): {}\n",
        graph.max_snap_m,
        thousands(off_sites as u64)
    );
    for (layer, l) in instance.facilities.iter().enumerate() {
        let off = walks.facilities_off_network(layer);
        let unreachable = geography.nearest[layer]
            .iter()
            .filter(|n| n.is_none())
            .count();
        text += &format!(
            "  {}: {} of {} off the network; {} sites reach none on foot\n",
            l.kind,
            thousands(off as u64),
            thousands(l.facilities.len() as u64),
            thousands(unreachable as u64),
        );
    }
    text
}
