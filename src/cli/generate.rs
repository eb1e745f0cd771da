//! `quartier generate`: write a synthetic city (a grid for benchmarks, a realistic city of
//! address points, or the demo city).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{print, thousands, Progress};
use crate::error::{Error, InputError};
use crate::generate::{
    grid_scenario_toml, grid_streets_scenario, tight_scenario_toml, validate_city, validate_grid,
    validate_tight_grid, write_demo_layer, write_demo_statistics, write_grid_layer,
    write_grid_streets, write_tight_layer, City, CityFacts, CityPreset, CitySpec, DemoSpec,
    GridSpec, GridStreets, TightGridSpec, CITY_SCENARIO_FILES, DEMO_STATISTICS, LAYER_FILES,
    STREETS_FILE,
};
use crate::io::OutputFolder;

/// The arguments of `quartier generate`, as typed.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Grid side in cells (districts = cells × cells).
    #[arg(long, required_unless_present_any = ["demo", "city"])]
    pub cells: Option<u32>,
    /// Number of sites (grid: required; city: default 2,000 for muenster, 6,600 for midsize,
    /// a few of them just outside the city limits).
    #[arg(long, required_unless_present_any = ["demo", "city"])]
    pub sites: Option<u64>,
    /// Random seed; the same seed gives the same files.
    #[arg(long, default_value_t = 2015)]
    pub seed: u64,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Write the demo city Musterstadt instead of a grid.
    #[arg(long, conflicts_with_all = ["cells", "sites", "city"])]
    pub demo: bool,
    /// Write a realistic city of address points instead of a grid, with three scenarios:
    /// `muenster` (a Münster-like city, 2,000 sites in 45 districts) or `midsize` (the
    /// mid-size city benchmark: 6,600 sites in 86 districts, row houses, spacing, access and
    /// a share cap).
    #[arg(long, value_enum, value_name = "KIND", conflicts_with = "cells")]
    pub city: Option<CityKind>,
    /// Number of districts of the city (default 45 for muenster, 86 for midsize).
    #[arg(long, requires = "city", conflicts_with_all = ["cells", "demo"])]
    pub districts: Option<u32>,
    /// Residents of the city (default 315,000 for muenster, 240,000 for midsize).
    #[arg(long, requires = "city", conflicts_with_all = ["cells", "demo"])]
    pub residents: Option<u64>,
    /// Write the tight grid instead: districts of 250 m, two dense centres, capacities
    /// 6–120, and a scenario whose spacing rule (100 places within 200 m) binds across both
    /// centres, with a time limit of 60 s: the benchmark of time limits.
    #[arg(long, requires_all = ["cells", "sites"], conflicts_with_all = ["demo", "city"])]
    pub tight: bool,
    /// Also write streets.geojson for a grid: a street along every district border (every
    /// 100 m; in the tight grid every 125 m), a river crossed only at bridges every 1–2 km and
    /// a railway crossed at underpasses about every kilometre; the scenario then walks on it
    /// (`[input] network`). The demo city always comes with its streets.
    #[arg(long, requires_all = ["cells", "sites"], conflicts_with_all = ["demo", "city"])]
    pub streets: bool,
}

/// The kinds of realistic city `generate --city` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CityKind {
    /// A Münster-like city: about 2,000 address points in 45 districts.
    #[value(alias = "münster")]
    Muenster,
    /// The mid-size city benchmark: 6,600 sites in 86 districts.
    #[value(alias = "mid-size")]
    Midsize,
}

pub fn run(args: GenerateArgs, progress: &Progress) -> Result<i32, Error> {
    let mut ours: Vec<&str> = LAYER_FILES.to_vec();
    ours.extend(CITY_SCENARIO_FILES);
    ours.push(DEMO_STATISTICS);
    ours.push(STREETS_FILE);
    let out: &Path = &args.out;
    let mut counts = Vec::new();
    let mut written_scenarios: Vec<&str> = Vec::new();
    let mut facts = None;
    let folder;
    if args.demo {
        folder = OutputFolder::prepare_for(out, &[], &ours)?;
        let spec = DemoSpec { seed: args.seed };
        for layer in LAYER_FILES.into_iter().chain([STREETS_FILE]) {
            progress.step(&format!("writing {layer}"));
            let mut written = 0;
            folder.write(layer, |w| {
                written = write_demo_layer(&spec, layer, w)?;
                Ok(())
            })?;
            counts.push((layer, written));
        }
        progress.step(&format!("writing {DEMO_STATISTICS}"));
        let mut written = 0;
        folder.write(DEMO_STATISTICS, |w| {
            written = write_demo_statistics(&spec, w)?;
            Ok(())
        })?;
        counts.push((DEMO_STATISTICS, written));
    } else if let Some(kind) = args.city {
        let preset = match kind {
            CityKind::Muenster => CityPreset::Muenster,
            CityKind::Midsize => CityPreset::Midsize,
        };
        let defaults = CitySpec::new(preset, args.seed);
        let spec = CitySpec {
            districts: args.districts.unwrap_or(defaults.districts),
            sites: args.sites.unwrap_or(defaults.sites),
            residents: args.residents.unwrap_or(defaults.residents),
            ..defaults
        };
        validate_city(&spec).map_err(|m| InputError::new("quartier generate", m))?;
        folder = OutputFolder::prepare_for(out, &[], &ours)?;
        progress.step("laying out districts, streets and facilities");
        let city = City::new(&spec);
        for layer in LAYER_FILES {
            progress.step(&format!("writing {layer}"));
            let mut written = 0;
            folder.write(layer, |w| {
                written = city.write_layer(layer, w)?;
                Ok(())
            })?;
            counts.push((layer, written));
        }
        for (name, text) in city.scenarios() {
            folder.write(name, |w| w.write_all(text.as_bytes()))?;
            written_scenarios.push(name);
        }
        facts = Some(city.facts());
    } else if args.tight {
        let spec = TightGridSpec {
            cells: args.cells.unwrap_or(0),
            sites: args.sites.unwrap_or(0),
            seed: args.seed,
        };
        validate_tight_grid(&spec).map_err(|m| InputError::new("quartier generate", m))?;
        folder = OutputFolder::prepare_for(out, &[], &ours)?;
        for layer in LAYER_FILES {
            progress.step(&format!("writing {layer}"));
            let mut written = 0;
            folder.write(layer, |w| {
                written = write_tight_layer(&spec, layer, w)?;
                Ok(())
            })?;
            counts.push((layer, written));
        }
        let mut scenario = tight_scenario_toml(&spec);
        if args.streets {
            write_streets(&folder, &spec.streets(), progress, &mut counts)?;
            scenario = grid_streets_scenario(&scenario);
        }
        folder.write("scenario.toml", |w| w.write_all(scenario.as_bytes()))?;
    } else {
        let spec = GridSpec {
            cells: args.cells.unwrap_or(0),
            sites: args.sites.unwrap_or(0),
            seed: args.seed,
        };
        validate_grid(&spec).map_err(|m| InputError::new("quartier generate", m))?;
        folder = OutputFolder::prepare_for(out, &[], &ours)?;
        for layer in LAYER_FILES {
            progress.step(&format!("writing {layer}"));
            let mut written = 0;
            folder.write(layer, |w| {
                written = write_grid_layer(&spec, layer, w)?;
                Ok(())
            })?;
            counts.push((layer, written));
        }
        let mut scenario = grid_scenario_toml(&spec);
        if args.streets {
            write_streets(&folder, &spec.streets(), progress, &mut counts)?;
            scenario = grid_streets_scenario(&scenario);
        }
        folder.write("scenario.toml", |w| w.write_all(scenario.as_bytes()))?;
    }
    let target = folder.commit()?;
    progress.finish();
    let mut text = format!("written to {}/\n", target.display());
    for (layer, n) in counts {
        let what = if layer.ends_with(".csv") {
            "district rows and a totals row"
        } else {
            "features"
        };
        text += &format!("  {layer}: {} {what}\n", thousands(n));
    }
    if !written_scenarios.is_empty() {
        text += &format!("  scenarios: {}\n", written_scenarios.join(", "));
    }
    if let Some(facts) = facts {
        text += &describe(&facts);
    }
    print(&text);
    Ok(0)
}

/// Writes a grid's streets.geojson.
fn write_streets(
    folder: &OutputFolder,
    streets: &GridStreets,
    progress: &Progress,
    counts: &mut Vec<(&str, u64)>,
) -> Result<(), Error> {
    progress.step(&format!("writing {STREETS_FILE}"));
    let mut written = 0;
    folder.write(STREETS_FILE, |w| {
        written = write_grid_streets(streets, w)?;
        Ok(())
    })?;
    counts.push((STREETS_FILE, written));
    Ok(())
}

/// The city in a few lines, for the planner who runs the benchmark.
fn describe(f: &CityFacts) -> String {
    let kind = |name: &str| {
        f.kinds
            .iter()
            .find(|(k, _)| *k == name)
            .map_or(0, |(_, n)| *n)
    };
    let percent = |n: u64| 100.0 * n as f64 / f.sites.max(1) as f64;
    let mut text = format!(
        "{}: {} districts in {} Stadtbezirke, {} residents ({} to {} per district)\n",
        f.label,
        f.districts,
        f.bezirke,
        thousands(f.residents),
        thousands(f.smallest),
        thousands(f.largest)
    );
    let mut kinds = vec![format!("{} flats (4–8 places)", thousands(kind("flat")))];
    if kind("row_house") > 0 {
        kinds.push(format!(
            "{} row houses (10 places or none; {:.1} %)",
            thousands(kind("row_house")),
            percent(kind("row_house"))
        ));
    }
    kinds.push(format!("{} shared (20–80)", thousands(kind("shared"))));
    kinds.push(format!("{} halls (80–150)", thousands(kind("hall"))));
    kinds.push(format!(
        "{} existing with {} occupied places",
        thousands(kind("existing")),
        thousands(f.occupied)
    ));
    text += &format!("  sites: {}\n", kinds.join(", "));
    text += &format!(
        "  {} excluded by the council, {} just outside the city limits, {} with a cost per place ({:.0} %)\n",
        thousands(f.excluded),
        thousands(f.outside),
        thousands(f.with_cost),
        percent(f.with_cost)
    );
    text += &format!(
        "  facilities: {} schools and {} Kitas with free seats, {} stops\n",
        thousands(f.schools as u64),
        thousands(f.kitas as u64),
        thousands(f.stops as u64)
    );
    text += &format!(
        "  scenario.toml asks for {} new places\n",
        thousands(f.demand)
    );
    text
}
