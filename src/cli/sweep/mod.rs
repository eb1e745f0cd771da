//! `quartier sweep`: one scenario, run for every combination of the values of some of its
//! keys (`--vary demand.places=1000..4000:250`, or its `[sweep]` table). Every run is
//! validated before the first starts; the layers are read and indexed once (a run that
//! varies an input, a field or a district rule's condition reads them again); the runs go
//! in parallel; each becomes a row of `sweep.csv`, `sweep.json` and the charts of
//! `sweep.html`, with the figures `solve` would write in its `summary.json`.

mod axes;
mod charts;
mod table;
mod workers;

use serde_json::Value as Json;
use std::path::{Path, PathBuf};

use super::solve::solved;
use super::{load, print, thousands, Loaded, Progress};
use crate::error::{Error, InputError};
use crate::io::OutputFolder;
use crate::model::Instance;
use crate::scenario::Scenario;
use crate::spatial::Geography;
pub use axes::Axis;
pub use table::CsvStyle;
pub use workers::worker;

/// The files of a sweep's output folder.
const SWEEP_FILES: &[&str] = &["sweep.csv", "sweep.json", "sweep.html", "runs"];

/// What `quartier sweep` was asked for.
pub struct SweepArgs<'a> {
    pub scenario: &'a Path,
    pub vary: &'a [String],
    pub out: Option<&'a Path>,
    pub jobs: Option<usize>,
    pub plans: bool,
    pub csv: CsvStyle,
}

/// One run: its values (one per axis) and its scenario, validated.
struct Run {
    values: Vec<toml::Value>,
    scenario: Scenario,
}

/// A run's row: its values and what it gave (`summary.json` of the run, or why it failed).
pub struct Row {
    pub values: Vec<toml::Value>,
    pub outcome: Result<Json, String>,
}

/// The axes and every run's scenario, checked before the first run starts: an unknown key
/// or a value the scenario refuses is bad input naming the run, the key and the value.
fn plan_runs(scenario: &Path, vary: &[String]) -> Result<(Vec<Axis>, Vec<Run>), Error> {
    let text = crate::io::read::file::read_text(scenario)?;
    let shown = scenario.display().to_string();
    let bad = |message: String| Error::from(InputError::new(&shown, message));
    let mut base: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| bad(format!("invalid TOML: {}", e.message().trim())))?;
    // The scenario's [sweep] table, then --vary (which replaces a key the table has).
    let mut axes = match base.remove("sweep") {
        Some(toml::Value::Table(table)) => axes::from_table(&table).map_err(&bad)?,
        Some(_) => {
            return Err(bad(
                "[sweep] must be a table of keys and their values".into()
            ))
        }
        None => Vec::new(),
    };
    for vary in vary {
        let axis = axes::parse_vary(vary).map_err(&bad)?;
        match axes.iter_mut().find(|a| a.key == axis.key) {
            Some(known) => *known = axis,
            None => axes.push(axis),
        }
    }
    if axes.is_empty() {
        return Err(bad(
            "nothing to sweep: give --vary KEY=VALUES (such as --vary demand.places=1000..4000:250) or a [sweep] table".into(),
        ));
    }
    let combinations = axes::runs(&axes).map_err(&bad)?;
    let total = combinations.len();
    let mut runs = Vec::with_capacity(total);
    for (i, values) in combinations.into_iter().enumerate() {
        let described = describe(&axes, &values);
        let mut table = base.clone();
        for (axis, value) in axes.iter().zip(&values) {
            axes::set(&mut table, &axis.key, value.clone())
                .map_err(|why| bad(format!("run {} of {total} ({described}): {why}", i + 1)))?;
        }
        let text = toml::to_string(&table).expect("a table");
        let scenario = Scenario::parse(&text, scenario).map_err(|e| {
            bad(format!(
                "run {} of {total} ({described}): {}",
                i + 1,
                e.message
            ))
        })?;
        runs.push(Run { values, scenario });
    }
    Ok((axes, runs))
}

pub fn run(args: SweepArgs, progress: &Progress) -> Result<i32, Error> {
    let (axes, runs) = plan_runs(args.scenario, args.vary)?;
    let total = runs.len();
    let jobs = args
        .jobs
        .unwrap_or_else(rayon::current_num_threads)
        .clamp(1, total);
    // With one job the layers are read here; with more, each worker reads them once.
    let scenario = crate::io::read_scenario(args.scenario)?;
    let loaded = if jobs == 1 {
        Some(load(args.scenario, progress)?)
    } else {
        None
    };
    let target = args
        .out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("out").join(format!("{} sweep", scenario.name)));
    let folder = OutputFolder::prepare_for(&target, &scenario.input_files(), SWEEP_FILES)?;
    crate::progress::Progress::start(
        progress,
        &format!("sweep: {} runs, {jobs} at a time", thousands(total as u64)),
        Some(total as u64),
    );
    let plans_dir = args.plans.then(|| folder.path().join("runs"));
    if let Some(dir) = &plans_dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let outcomes: Vec<Result<Json, String>> = match &loaded {
        Some(loaded) => {
            let quiet = Progress::new(true, super::ProgressMode::Auto);
            let mut outcomes = Vec::with_capacity(total);
            for (i, run) in runs.iter().enumerate() {
                let plan = plans_dir.as_deref().map(|d| run_folder(d, i));
                let outcome = one_run(loaded, &axes, run, plan, false, &quiet);
                if let Err(error @ Error::Io { .. }) = outcome {
                    return Err(error);
                }
                outcomes.push(outcome.map_err(|e| e.to_string()));
                crate::progress::Progress::advance(progress, 1);
            }
            outcomes
        }
        None => workers::run_workers(&args, jobs, total, plans_dir.as_deref(), progress)?,
    };
    let rows: Vec<Row> = runs
        .into_iter()
        .zip(outcomes)
        .map(|(run, outcome)| Row {
            values: run.values,
            outcome,
        })
        .collect();
    progress.finish();
    let keys: Vec<&str> = axes.iter().map(|a| a.key.as_str()).collect();
    folder.write("sweep.csv", |out| {
        table::write_csv(out, &keys, &rows, args.csv)
    })?;
    folder.write("sweep.json", |out| {
        table::write_json(out, &scenario.name, &keys, &rows)
    })?;
    folder.write("sweep.html", |out| {
        charts::write_html(out, &scenario.name, &axes, &rows)
    })?;
    let target = folder.commit()?;
    let failed = rows.iter().filter(|r| r.outcome.is_err()).count();
    let short = rows
        .iter()
        .filter(|r| {
            r.outcome
                .as_ref()
                .is_ok_and(|s| s["shortfall"].as_u64().unwrap_or(0) > 0)
        })
        .count();
    let limited = rows
        .iter()
        .filter(|r| {
            r.outcome
                .as_ref()
                .is_ok_and(|s| s["status"] == "time_limit")
        })
        .count();
    let mut text = format!(
        "{}: sweep of {} runs over {}\n",
        scenario.name,
        thousands(total as u64),
        keys.join(" × ")
    );
    text += &format!(
        "  {} solved, {} with a shortfall, {} stopped by the time limit, {} failed\n",
        thousands((total - failed) as u64),
        thousands(short as u64),
        thousands(limited as u64),
        thousands(failed as u64)
    );
    if let Some(row) = rows.iter().find(|r| r.outcome.is_err()) {
        text += &format!(
            "  first failed run ({}): {}\n",
            describe(&axes, &row.values),
            row.outcome.as_ref().err().map_or("", String::as_str)
        );
    }
    text += &format!(
        "  written to {}/ (sweep.csv, sweep.json, sweep.html{})\n",
        target.display(),
        if args.plans { ", runs/" } else { "" }
    );
    print(&text);
    Ok(0)
}

/// The loaded scenario for a worker process, without progress or warnings (the sweep
/// printed them).
fn load_quietly_for_worker(scenario: &Path) -> Result<Loaded, Error> {
    super::load_quietly(scenario, &Progress::new(true, super::ProgressMode::Auto))
}

/// The plan folder of run `i` (counted from 0) under `runs/`: 001, 002, …
fn run_folder(runs: &Path, i: usize) -> PathBuf {
    runs.join(format!("{:03}", i + 1))
}

/// "demand.places = 1500, rules.max_per_site = 30"
fn describe(axes: &[Axis], values: &[toml::Value]) -> String {
    axes.iter()
        .zip(values)
        .map(|(a, v)| format!("{} = {}", a.key, axes::shown(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Keys whose runs need the layers read again: the inputs, their fields, the network and
/// the district rules' conditions (which decide the districts a rule covers; its caps do
/// not).
fn reads_layers(key: &str) -> bool {
    let district_rule = key.starts_with("rules.district")
        && !(key.ends_with(".max_share") || key.ends_with(".max_new"));
    district_rule
        || ["input", "fields", "network"]
            .iter()
            .any(|p| key == *p || key.starts_with(&format!("{p}.")))
}

/// Solves one run: on the loaded layers with the run's demand, rules, stages and solver
/// options, or on its own layers where it varies them; with `plans`, its plan folder.
fn one_run(
    loaded: &Loaded,
    axes: &[Axis],
    run: &Run,
    plans: Option<PathBuf>,
    one_core: bool,
    quiet: &Progress,
) -> Result<Json, Error> {
    let s = &run.scenario;
    let own;
    let (loaded, instance) = if axes.iter().any(|a| reads_layers(&a.key)) {
        let (instance, warnings) = crate::io::load_instance_warned(s, quiet)?;
        let geography = Geography::of(&instance);
        own = Loaded {
            scenario: s.clone(),
            instance,
            geography,
            load_s: 0.0,
            index_s: 0.0,
            warnings,
        };
        (&own, own.instance.clone())
    } else {
        let instance = Instance {
            demand: s.demand,
            levels: s.levels.clone(),
            rules: s.rules.clone(),
            stages: s.stages.clone(),
            objective: s.objective.clone(),
            solver: s.solver.clone(),
            ..loaded.instance.clone()
        };
        (loaded, instance)
    };
    // A worker beside others has one core: HiGHS on all of them (threads = 0) would only
    // make the workers wait for each other.
    let mut instance = instance;
    if one_core && instance.solver.threads == 0 {
        instance.solver.threads = 1;
    }
    let folder = plans
        .map(|dir| OutputFolder::prepare(&dir, &[]))
        .transpose()?;
    let solved = solved(loaded, &instance, folder.as_ref(), quiet, 0.0)?;
    if let Some(folder) = folder {
        folder.commit()?;
    }
    Ok(solved.summary)
}
