//! `quartier solve`: load, check, index, solve and write the plan folder.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Map};

use super::{load, print, thousands, warn_rules_without_districts, Loaded, Progress};
use crate::error::Error;
use crate::explain::{limited_by, shortfall_reasons};
use crate::io::output::{summary, write_plan, write_summary};
use crate::io::plan_report::{shown_sites, ways_on_foot};
use crate::io::{OutputFolder, PlanReport};
use crate::metrics::{figures, level_figures, mean_distances, most_new_within};
use crate::model::{Instance, Stage};
use crate::solve::{solve_since, Prepared};

pub fn run(scenario_path: &Path, out: Option<&Path>, progress: &Progress) -> Result<i32, Error> {
    let loaded = load(scenario_path, progress)?;
    warn_rules_without_districts(&loaded, progress);
    let (scenario, instance) = (&loaded.scenario, &loaded.instance);
    // Check the output folder before the long work, so that a bad --out fails at once.
    let target = scenario.output_dir(out);
    let folder = OutputFolder::prepare(&target, &scenario.input_files())?;
    // The time limit is for the whole run: reading and indexing the layers count.
    let spent_s = loaded.load_s + loaded.index_s;
    let solved = solved(&loaded, instance, Some(&folder), progress, spent_s)?;
    let target = folder.commit()?;
    progress.finish();
    let mut text = format!("{}\n{}", instance.name, solved.text);
    text += &format!(
        "  written to {}/ (sites.geojson, districts.geojson, {}summary.json)\n",
        target.display(),
        if solved.routes {
            "routes.geojson, "
        } else {
            ""
        }
    );
    print(&text);
    Ok(0)
}

/// A solved scenario: its `summary.json` and the lines `solve` prints about it (without
/// the scenario's name and the folder).
pub(super) struct Solved {
    pub(super) summary: serde_json::Value,
    pub(super) text: String,
    /// The plan folder has `routes.geojson`.
    pub(super) routes: bool,
}

/// Prepares, solves and reports `instance` (the loaded scenario's, or a sweep's run of it
/// on the same layers); with `folder`, writes the plan folder there (not committed).
/// `spent_s`, the seconds the run spent before (reading the layers), counts against
/// `[solver] time_limit_s`.
pub(super) fn solved(
    loaded: &Loaded,
    instance: &Instance,
    folder: Option<&OutputFolder>,
    progress: &Progress,
    spent_s: f64,
) -> Result<Solved, Error> {
    let (scenario, geography) = (&loaded.scenario, &loaded.geography);
    progress.step("applying the rules to sites and districts");
    let built = Instant::now();
    let prepared = Prepared::new(instance, geography);
    let prepare_s = built.elapsed().as_secs_f64();
    let stage_names: Vec<&str> = instance.stages.iter().map(|s| s.name()).collect();
    progress.step(&format!(
        "solving ({}{})",
        stage_names.join(", "),
        if instance.levels.is_empty() {
            String::new()
        } else {
            format!(", {} levels", instance.levels.len())
        }
    ));
    let started = Instant::now()
        .checked_sub(Duration::from_secs_f64(spent_s + prepare_s))
        .unwrap_or(built);
    let solution = solve_since(instance, &prepared, started)?;

    progress.step("writing the plan");
    let written = Instant::now();
    let figures = figures(instance, &geography.site_district, &solution.plan);
    let limited = limited_by(instance, &prepared, &solution.plan);
    let reasons = shortfall_reasons(instance, &prepared, figures.shortfall);
    let excluded = prepared.exclusion_counts();
    let levels = if solution.levels.is_empty() {
        Vec::new()
    } else {
        let plans: Vec<_> = solution.levels.iter().map(|l| l.plan.clone()).collect();
        let alone: Option<Vec<_>> = solution
            .levels
            .iter()
            .map(|l| l.alone.as_ref().map(|(plan, _)| plan.clone()))
            .collect();
        level_figures(instance, &geography.site_district, &plans, alone.as_deref())
    };
    let spread = most_new_within(
        instance,
        &geography.site_district,
        &solution.plan,
        instance.spread_metres(),
    );
    let distances = mean_distances(
        instance,
        &geography.nearest,
        &solution.plan,
        &instance.access_kinds(),
    );
    let mut extra = Map::new();
    extra.insert(
        "model".into(),
        json!({
            "method": solution.method,
            "columns": solution.size.columns,
            "integer_columns": solution.size.integers,
            "rows": solution.size.rows,
            "sites_aggregated": solution.size.aggregated_sites,
            "spacing_rows": solution.spacing_rows,
            "spacing_neighbourhoods": prepared.spacing.len(),
        }),
    );
    let report = PlanReport {
        instance,
        geography,
        plan: &solution.plan,
        status: solution.status.as_str(),
        figures: &figures,
        limited_by: &limited,
        shortfall_reasons: &reasons,
        sites_excluded: &excluded,
        stages: &solution.stages,
        mip_gap: solution.mip_gap,
        gap_stage: solution.gap_stage,
        marginal_values: solution.marginal_values.as_deref(),
        levels: &levels,
        spread: Some(spread),
        distances: &distances,
        fair_share_key: scenario.fair_share_key(),
        extra,
        shown_sites: shown_sites(instance, &solution.plan)?,
        routes: scenario.network.as_ref().is_some_and(|n| n.routes),
        ways: ways_on_foot(instance, geography, &solution.plan)?,
    };
    if let Some(folder) = folder {
        write_plan(folder, &report)?;
    }
    let report_has_routes = report.routes && geography.walks.is_some();
    let timings = [
        ("load", loaded.load_s),
        ("index", loaded.index_s + prepare_s),
        ("build", solution.build_s),
        ("solve", solution.solve_s),
        ("write", written.elapsed().as_secs_f64()),
    ];
    let summary = summary(&report, &timings);
    if let Some(folder) = folder {
        write_summary(folder, &summary)?;
    }
    let mut text = String::new();
    text += &format!(
        "  plan: {}{}\n",
        solution.status.as_str(),
        if solution.status == crate::solve::SolveStatus::TimeLimit {
            {
                // Enough digits to tell a small gap from none; a large one in whole tenths.
                let percent = solution.mip_gap * 100.0;
                let digits = if percent >= 1.0 { 1 } else { 4 };
                let stage = solution
                    .gap_stage
                    .map(|stage| format!(" in {}", stage.name()))
                    .unwrap_or_default();
                format!(" (at most {percent:.digits$} % from the optimum{stage})")
            }
        } else {
            String::new()
        }
    );
    text += &format!(
        "  placed {} of {} new places at {} sites; shortfall {}\n",
        thousands(figures.placed),
        thousands(figures.demand),
        thousands(figures.sites_used as u64),
        thousands(figures.shortfall),
    );
    if figures.shortfall > 0 {
        let because: Vec<String> = reasons
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{k} {}", thousands(*n)))
            .collect();
        text += &format!("  shortfall because of: {}\n", because.join(", "));
    }
    text += &format!(
        "  evenness: dissimilarity D = {:.4} (0 = places exactly in proportion to {})\n",
        figures.dissimilarity,
        if scenario.district_fields.weight == scenario.district_fields.population {
            "population".to_string()
        } else {
            format!("\"{}\"", scenario.district_fields.weight)
        }
    );
    text += &format!(
        "  places per 1,000 residents: min {:.1}, median {:.1}, max {:.1}\n",
        figures.per_1000_min, figures.per_1000_median, figures.per_1000_max
    );
    if instance.stages.contains(&Stage::Spread) {
        text += &format!(
            "  spread: at most {} new places within {} m of any site\n",
            thousands(spread.places),
            crate::io::read::layer::format_number(spread.metres)
        );
    }
    if instance.stages.contains(&Stage::Access) {
        let shown: Vec<String> = distances
            .iter()
            .filter_map(|(kind, metres)| {
                metres.map(|m| format!("{kind} {} m", thousands(m.round() as u64)))
            })
            .collect();
        if !shown.is_empty() {
            text += &format!(
                "  mean distance from a new place{}: {}\n",
                if instance.network.is_some() {
                    " on foot"
                } else {
                    ""
                },
                shown.join(", ")
            );
        }
    }
    if let Some(d) = figures.worst_district {
        let district = &instance.districts[d];
        let f = &figures.districts[d];
        text += &format!(
            "  worst district: {} \"{}\": {:.0} places against a fair share of {:.1} ({:+.1})\n",
            district.id, district.name, f.total, f.target, f.deviation
        );
    }
    text += &super::fair_share_line(instance, &figures, Some(&limited));
    for (l, level) in levels.iter().enumerate() {
        let f = &level.figures;
        text += &format!(
            "  level {} ({} places): placed {}, D = {:.4}, {} sites ({} opened at this level){}\n",
            l + 1,
            thousands(level.places),
            thousands(f.placed),
            f.dissimilarity,
            thousands(f.sites_used as u64),
            thousands(level.sites_opened as u64),
            match level.price_of_nesting() {
                Some(price) if price > 5e-5 => format!("; price of nesting {price:+.4}"),
                Some(_) => "; as even as this level alone".to_string(),
                None => String::new(),
            }
        );
    }
    Ok(Solved {
        summary,
        text,
        routes: report_has_routes,
    })
}
