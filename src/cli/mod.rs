//! The command line: one module per subcommand. Each returns the process exit code or an
//! error that `main` turns into a message and an exit code.

mod check;
mod compare;
mod generate;
mod solve;
mod verify;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
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
}

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
    /// Write a synthetic city grid (N × N cells of 100 m) with sites, facilities and a scenario.
    Generate {
        /// Grid side in cells (districts = cells × cells).
        #[arg(long, required_unless_present = "demo")]
        cells: Option<u32>,
        /// Number of candidate sites.
        #[arg(long, required_unless_present = "demo")]
        sites: Option<u64>,
        /// Random seed; the same seed gives the same files.
        #[arg(long, default_value_t = 2015)]
        seed: u64,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Write the demo city Musterstadt instead of a grid.
        #[arg(long, conflicts_with_all = ["cells", "sites"])]
        demo: bool,
    },
}

/// Runs a parsed command line; `Ok` carries the exit code.
pub fn run(cli: Cli) -> Result<i32, Error> {
    let progress = Progress::new(cli.quiet);
    match cli.command {
        Command::Solve { scenario, out } => solve::run(&scenario, out.as_deref(), &progress),
        Command::Check { scenario } => check::run(&scenario, &progress),
        Command::Verify { scenario, plan } => verify::run(&scenario, &plan, &progress),
        Command::Compare { a, b, html } => compare::run(&a, &b, html.as_deref(), &progress),
        Command::Generate {
            cells,
            sites,
            seed,
            out,
            demo,
        } => generate::run(cells, sites, seed, &out, demo, &progress),
    }
}

/// Progress on stderr, only when stderr is a terminal and `--quiet` is not given: a bar for
/// steps with a known number of items (features read, sites indexed), a spinner otherwise.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(spinner_style());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress { bar }
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
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }
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
}
