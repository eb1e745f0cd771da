//! The command line: one module per subcommand. Each returns the process exit code or an
//! error that `main` turns into a message and an exit code.

mod check;
mod compare;
mod generate;
mod solve;
mod sweep;
mod verify;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::error::Error;

/// quartier: even, decentralised placement of refugee accommodation across city districts.
#[derive(Debug, Parser)]
#[command(name = "quartier", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Show no progress on stderr.
    #[arg(long, global = true)]
    pub quiet: bool,
    /// How progress is shown on stderr: `auto` draws bars when stderr is a terminal;
    /// `plain` prints one line per step ("step: reading sites.geojson") and per percent of
    /// a counted step ("progress: 45%"), also on a pipe, for programs that run quartier
    /// (the QGIS plugin). `--quiet` wins.
    #[arg(long, global = true, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

/// How `--progress` shows the long steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    /// Bars and spinners, only when stderr is a terminal.
    Auto,
    /// One line per step and per percent, on any stderr.
    Plain,
}

// The doc comments are clap's help text, written for the terminal: `[output] dir` and
// `out/<scenario name>` are no links or HTML tags there.
#[allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load, check, index and solve a scenario, and write the plan folder.
    Solve {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Output folder (default: [output] dir of the scenario, else out/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Validate a scenario and report counts and capacity against demand; writes nothing.
    Check {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
    /// Audit a plan (from `solve` or edited in QGIS) against every rule of the scenario.
    Verify {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// The plan's sites layer (sites.geojson of an output folder).
        plan: PathBuf,
    },
    /// Two output folders side by side: key figures, districts that changed most, sites
    /// added or dropped.
    Compare {
        /// The first output folder (A).
        a: PathBuf,
        /// The second output folder (B).
        b: PathBuf,
        /// Also write the comparison with both maps as an HTML page.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Run a scenario for every combination of the values of some of its keys, and write
    /// sweep.csv, sweep.json and sweep.html (the curves of D, shortfall, worst district and
    /// sites used) into one folder.
    Sweep {
        /// The scenario file (TOML); its [sweep] table may name the keys and values.
        scenario: PathBuf,
        /// KEY=VALUES: a scenario key by its dotted path and a list (30,50,80) or a range
        /// (1000..4000:250, both ends included); repeat for more keys (every combination
        /// runs).
        #[arg(long, value_name = "KEY=VALUES")]
        vary: Vec<String>,
        /// Output folder (default: out/<scenario name> sweep).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Runs at a time (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Also write each run's plan folder under runs/ (001, 002, …).
        #[arg(long)]
        plans: bool,
        /// sweep.csv for a spreadsheet: `en` (commas, decimal points) or `de` (semicolons,
        /// decimal commas, as a German spreadsheet opens it).
        #[arg(long, value_enum, default_value_t = sweep::CsvStyle::En)]
        csv: sweep::CsvStyle,
    },
    /// A worker process of `quartier sweep` (started by it; not for use by hand).
    #[command(hide = true)]
    SweepWorker {
        scenario: PathBuf,
        #[arg(long)]
        vary: Vec<String>,
        #[arg(long)]
        worker: usize,
        #[arg(long)]
        workers: usize,
        #[arg(long)]
        plans_dir: Option<PathBuf>,
    },
    /// Write a synthetic city with sites, facilities and scenarios: a grid (N × N cells of
    /// 100 m), a realistic city of address points (--city), or the demo city (--demo).
    Generate(generate::GenerateArgs),
}

/// Runs a parsed command line; `Ok` carries the exit code.
pub fn run(cli: Cli) -> Result<i32, Error> {
    let progress = Progress::new(cli.quiet, cli.progress);
    match cli.command {
        Command::Solve { scenario, out } => solve::run(&scenario, out.as_deref(), &progress),
        Command::Check { scenario } => check::run(&scenario, &progress),
        Command::Verify { scenario, plan } => verify::run(&scenario, &plan, &progress),
        Command::Compare { a, b, html } => compare::run(&a, &b, html.as_deref(), &progress),
        Command::Generate(args) => generate::run(args, &progress),
        Command::SweepWorker {
            scenario,
            vary,
            worker,
            workers,
            plans_dir,
        } => sweep::worker(&scenario, &vary, worker, workers, plans_dir),
        Command::Sweep {
            scenario,
            vary,
            out,
            jobs,
            plans,
            csv,
        } => sweep::run(
            sweep::SweepArgs {
                scenario: &scenario,
                vary: &vary,
                out: out.as_deref(),
                jobs,
                plans,
                csv,
            },
            &progress,
        ),
    }
}

/// Progress on stderr unless `--quiet` is given: with `--progress auto`, only when stderr is
/// a terminal, a bar for steps with a known number of items (features read, sites indexed)
/// and a spinner otherwise; with `--progress plain`, lines that a program can read.
pub struct Progress {
    bar: Option<ProgressBar>,
    plain: Option<PlainProgress>,
}

impl Progress {
    fn new(quiet: bool, mode: ProgressMode) -> Progress {
        let bar =
            (!quiet && mode == ProgressMode::Auto && std::io::stderr().is_terminal()).then(|| {
                let bar = ProgressBar::new_spinner();
                bar.set_style(spinner_style());
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            });
        let plain = (!quiet && mode == ProgressMode::Plain).then(PlainProgress::default);
        Progress { bar, plain }
    }

    /// Announces the next step (without a count: a spinner).
    pub fn step(&self, message: &str) {
        crate::progress::Progress::start(self, message, None);
    }

    /// Prints a line on stderr without tearing the progress bar.
    pub fn warn(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{text}")),
            None => eprintln!("{text}"),
        }
    }

    /// Removes the spinner before the summary is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl crate::progress::Progress for Progress {
    fn start(&self, message: &str, total: Option<u64>) {
        if let Some(plain) = &self.plain {
            plain.start(message, total);
        }
        let Some(bar) = &self.bar else {
            return;
        };
        match total {
            Some(total) => {
                bar.set_message(message.to_string());
                bar.set_position(0);
                bar.set_length(total);
                bar.set_style(bar_style());
            }
            None => {
                bar.set_style(spinner_style());
                bar.set_message(message.to_string());
            }
        }
    }

    fn advance(&self, n: u64) {
        if let Some(plain) = &self.plain {
            plain.advance(n);
        }
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }
}

/// `--progress plain`: "step: MESSAGE" when a step starts (once, when a step announced
/// first without a count gets its count), "progress: N%" each time a counted step passes
/// another whole percent. `advance` runs on every core, so the counters are atomic and a
/// percent is printed once, in order, by the thread that reaches it first.
#[derive(Default)]
struct PlainProgress {
    step: Mutex<String>,
    total: AtomicU64,
    done: AtomicU64,
    shown: AtomicU64,
}

impl PlainProgress {
    fn start(&self, message: &str, total: Option<u64>) {
        self.total.store(total.unwrap_or(0), Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        self.shown.store(0, Ordering::Relaxed);
        let mut step = self
            .step
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if *step != message {
            *step = message.to_string();
            line(&format!("step: {message}"));
        }
    }

    fn advance(&self, n: u64) {
        let total = self.total.load(Ordering::Relaxed);
        if total == 0 {
            return;
        }
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        let percent = (done.min(total) * 100 / total).min(100);
        if self.shown.load(Ordering::Relaxed) >= percent {
            return;
        }
        // At most 100 times a step: decide and print under the lock, so that the percents
        // come out in order even when two cores pass one at the same moment.
        let _step = self
            .step
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.shown.load(Ordering::Relaxed) < percent {
            self.shown.store(percent, Ordering::Relaxed);
            line(&format!("progress: {percent}%"));
        }
    }
}

/// One line on stderr; a closed stderr is not an error.
fn line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}").and_then(|_| err.flush());
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {elapsed:>3} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {elapsed:>3} {msg} [{bar:30}] {human_pos}/{human_len}")
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// Prints to stdout; a closed pipe (`quartier … | head`) is not an error.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// `12,345` for counts in messages.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A scenario loaded and indexed, with the time each step took.
/// The line on fair shares: the smallest part of its fair share that a district reaches.
/// With `limited_by` (the solver's explanation), districts that a rule stops (no sites, a
/// cap, spacing …) are told apart from those with room left: a district with room left
/// stays below its share only where places that already exist put others over theirs (so
/// the demand cannot reach every share) or places are short.
pub fn fair_share_line(
    instance: &crate::model::Instance,
    f: &crate::metrics::Figures,
    limited_by: Option<&[&str]>,
) -> String {
    let below = |d: &usize| {
        let x = &f.districts[*d];
        x.target > 0.0 && x.total < x.target - 1e-9
    };
    let part = |d: usize| f.districts[d].total / f.districts[d].target;
    let lowest = |ds: &mut dyn Iterator<Item = usize>| {
        ds.min_by(|&a, &b| part(a).total_cmp(&part(b)).then(a.cmp(&b)))
    };
    let percent = |d: usize| (part(d) * 100.0 + 1e-9).floor().max(0.0);
    let named = |d: usize| {
        format!(
            "{} \"{}\", {:.0} of {:.1}",
            instance.districts[d].id,
            instance.districts[d].name,
            f.districts[d].total,
            f.districts[d].target
        )
    };
    // `existing_elsewhere` is no rule: such a district has room left (said below).
    let rule = |d: usize| {
        limited_by
            .and_then(|l| l.get(d))
            .copied()
            .filter(|&r| r != "existing_elsewhere")
            .unwrap_or("")
    };
    let count = f.districts.len();
    let Some(free) = lowest(&mut (0..count).filter(below).filter(|&d| rule(d).is_empty())) else {
        let Some(stopped) = lowest(&mut (0..count).filter(below)) else {
            return "  fair shares: every district reaches its fair share\n".to_string();
        };
        return format!(
            "  fair shares: every district with room left reaches its fair share; {} below theirs where a rule stops more places (lowest: {}, {})\n",
            thousands((0..count).filter(below).count() as u64),
            named(stopped),
            rule(stopped)
        );
    };
    let existing: Vec<f64> = f.districts.iter().map(|x| x.existing).collect();
    let target: Vec<f64> = f.districts.iter().map(|x| x.target).collect();
    // Without the solver's explanation a rule may be what stops the lowest district; only
    // with it is the reason below sure.
    let why = if limited_by.is_none() {
        String::new()
    } else if f.shortfall > 0 {
        " (places are short)".to_string()
    } else {
        existing_over_shares_sentence(&existing, &target)
            .map(|sentence| format!(" ({sentence})"))
            .unwrap_or_default()
    };
    let mut line = format!(
        "  fair shares: every district{} reaches at least {:.0} % of its fair share{why}; lowest: {}\n",
        if limited_by.is_some() { " with room left" } else { "" },
        percent(free),
        named(free)
    );
    let stopped: Vec<usize> = (0..count)
        .filter(below)
        .filter(|&d| !rule(d).is_empty())
        .collect();
    if let Some(low) = lowest(&mut stopped.iter().copied()) {
        if part(low) < part(free) {
            line += &format!(
                "  and {} where a rule stops more places {} lower (lowest: {}, {})\n",
                match stopped.len() {
                    1 => "1 district".to_string(),
                    n => format!("{} districts", thousands(n as u64)),
                },
                if stopped.len() == 1 { "stays" } else { "stay" },
                named(low),
                rule(low)
            );
        }
    }
    line
}

/// The sentence on places that already exist above their districts' fair shares, with the
/// figures (`None` when there are none): "places that already exist stand 318 above the fair
/// shares of 5 districts, so the demand cannot bring every other district up to its share".
pub fn existing_over_shares_sentence(existing: &[f64], target: &[f64]) -> Option<String> {
    let (districts, places) = crate::explain::existing_over_shares(existing, target);
    (districts > 0).then(|| {
        format!(
            "places that already exist stand {} above the fair shares of {}, so the demand cannot bring every other district up to its share",
            thousands(places.round() as u64),
            match districts {
                1 => "1 district".to_string(),
                n => format!("{} districts", thousands(n as u64)),
            }
        )
    })
}

pub struct Loaded {
    pub scenario: crate::scenario::Scenario,
    pub instance: crate::model::Instance,
    pub geography: crate::spatial::Geography,
    pub load_s: f64,
    pub index_s: f64,
    /// Input that contradicts itself but allows a plan (already printed by `load`).
    pub warnings: Vec<crate::error::Warning>,
}

/// Reads the scenario and its layers and builds the spatial facts; warnings about the input
/// go to stderr.
pub fn load(path: &std::path::Path, progress: &Progress) -> Result<Loaded, Error> {
    let loaded = load_quietly(path, progress)?;
    for warning in &loaded.warnings {
        progress.warn(&format!("warning: {warning}"));
    }
    Ok(loaded)
}

/// Warns on stderr about each district rule that applies to no district (`check` shows them
/// in its list of rules): a cap that caps nothing is surely not what the planner meant.
pub fn warn_rules_without_districts(loaded: &Loaded, progress: &Progress) {
    let instance = &loaded.instance;
    for r in instance.district_rules_without_districts() {
        let rule = &instance.rules.district[r];
        progress.warn(&format!(
            "warning: {}: the district rule where {} ({}) applies to no district: its condition holds in none of the {} districts{}; check the condition against the data (quartier check lists the districts of each rule)",
            loaded.scenario.file.display(),
            rule.condition,
            rule.caps(),
            thousands(instance.districts.len() as u64),
            if r > 0 {
                ", or only where an earlier rule applies"
            } else {
                ""
            }
        ));
    }
}

/// As `load`, leaving the warnings to the caller.
pub fn load_quietly(path: &std::path::Path, progress: &Progress) -> Result<Loaded, Error> {
    let started = std::time::Instant::now();
    progress.step("reading the scenario");
    let scenario = crate::io::read_scenario(path)?;
    let (instance, warnings) = crate::io::load_instance_warned(&scenario, progress)?;
    let load_s = started.elapsed().as_secs_f64();
    let indexed = std::time::Instant::now();
    let geography = crate::spatial::Geography::of_with(&instance, progress);
    Ok(Loaded {
        scenario,
        instance,
        geography,
        load_s,
        index_s: indexed.elapsed().as_secs_f64(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn plain_progress_counts_whole_percents_up_to_100() {
        let plain = PlainProgress::default();
        plain.start("reading sites.geojson", Some(3));
        plain.advance(1);
        assert_eq!(plain.shown.load(Ordering::Relaxed), 33);
        plain.advance(5);
        assert_eq!(plain.shown.load(Ordering::Relaxed), 100);
        plain.start("solving", None);
        plain.advance(1);
        assert_eq!(
            plain.shown.load(Ordering::Relaxed),
            0,
            "no percent without a count"
        );
    }
}
