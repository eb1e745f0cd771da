//! A sweep's runs on several cores: worker processes (`quartier sweep-worker`, hidden),
//! each reading the layers once and solving every `workers`-th run, one JSON line per run
//! on its stdout. Processes rather than threads: HiGHS 1.16 solving in two threads of one
//! process corrupted its heap here (once in a few dozen sweeps of the demo city); a worker
//! that stops leaves its runs as failed rows, and the sweep goes on.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use serde_json::{json, Value as Json};

use super::{load_quietly_for_worker, one_run, plan_runs, run_folder, SweepArgs};
use crate::cli::Progress;
use crate::error::Error;

/// What a worker says: a warning about the input (the first worker only), or a run's
/// outcome.
enum Message {
    Warning(String),
    Outcome(usize, Result<Json, String>),
}

/// Runs the sweep in `jobs` worker processes; the outcome of every run, in order.
pub(super) fn run_workers(
    args: &SweepArgs,
    jobs: usize,
    total: usize,
    plans: Option<&Path>,
    progress: &Progress,
) -> Result<Vec<Result<Json, String>>, Error> {
    let exe = std::env::current_exe().map_err(|e| Error::io("quartier", e))?;
    let (sender, receiver) = mpsc::channel::<Message>();
    let mut children = Vec::new();
    for worker in 0..jobs {
        let mut command = Command::new(&exe);
        command
            .arg("--quiet")
            .arg("sweep-worker")
            .arg(args.scenario)
            .args([
                "--worker",
                &worker.to_string(),
                "--workers",
                &jobs.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for vary in args.vary {
            command.arg("--vary").arg(vary);
        }
        if let Some(dir) = plans {
            command.arg("--plans-dir").arg(dir);
        }
        let mut child = command.spawn().map_err(|e| Error::io(&exe, e))?;
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let sender = sender.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let Ok(message) = serde_json::from_str::<Json>(&line) else {
                    continue;
                };
                if let Some(warning) = message["warning"].as_str() {
                    let _ = sender.send(Message::Warning(warning.to_string()));
                    continue;
                }
                let Some(index) = message["index"].as_u64() else {
                    continue;
                };
                let outcome = match message.get("summary") {
                    Some(summary) => Ok(summary.clone()),
                    None => Err(message["error"].as_str().unwrap_or("failed").to_string()),
                };
                let _ = sender.send(Message::Outcome(index as usize, outcome));
            }
        });
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                text += &line;
                text.push('\n');
            }
            text
        });
        children.push((child, reader, errors));
    }
    drop(sender);
    let mut outcomes: Vec<Option<Result<Json, String>>> = vec![None; total];
    for message in receiver {
        match message {
            Message::Warning(text) => progress.warn(&format!("warning: {text}")),
            Message::Outcome(index, outcome) => {
                if let Some(slot) = outcomes.get_mut(index) {
                    *slot = Some(outcome);
                    crate::progress::Progress::advance(progress, 1);
                }
            }
        }
    }
    let mut stopped = Vec::new();
    for (mut child, reader, errors) in children {
        let status = child.wait().map_err(|e| Error::io(&exe, e))?;
        let _ = reader.join();
        let said = errors.join().unwrap_or_default();
        if !status.success() {
            stopped.push(format!(
                "{status}{}",
                said.lines()
                    .last()
                    .map(|l| format!(": {l}"))
                    .unwrap_or_default()
            ));
        }
    }
    let why = if stopped.is_empty() {
        "its worker gave no result".to_string()
    } else {
        format!("its worker stopped ({})", stopped.join("; "))
    };
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(why.clone())))
        .collect())
}

/// `quartier sweep-worker`: the runs `worker`, `worker + workers`, … of the sweep, each as
/// a JSON line `{"index": i, "summary": …}` or `{"index": i, "error": "…"}` on stdout.
pub fn worker(
    scenario: &Path,
    vary: &[String],
    worker: usize,
    workers: usize,
    plans: Option<PathBuf>,
) -> Result<i32, Error> {
    let (axes, runs) = plan_runs(scenario, vary)?;
    let loaded = load_quietly_for_worker(scenario)?;
    let quiet = Progress::new(true, crate::cli::ProgressMode::Auto);
    let stdout = std::io::stdout();
    if worker == 0 {
        let mut out = stdout.lock();
        for warning in &loaded.warnings {
            writeln!(out, "{}", json!({ "warning": warning.to_string() }))
                .map_err(|e| Error::io("stdout", e))?;
        }
    }
    for (i, run) in runs.iter().enumerate().skip(worker).step_by(workers.max(1)) {
        let plan = plans.as_deref().map(|d| run_folder(d, i));
        let line = match one_run(&loaded, &axes, run, plan, workers > 1, &quiet) {
            Ok(summary) => json!({ "index": i, "summary": summary }),
            Err(error) => json!({ "index": i, "error": error.to_string() }),
        };
        let mut out = stdout.lock();
        writeln!(out, "{line}")
            .and_then(|_| out.flush())
            .map_err(|e| Error::io("stdout", e))?;
    }
    Ok(0)
}
