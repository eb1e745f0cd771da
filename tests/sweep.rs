//! `quartier sweep`: every row equals a separate `quartier solve` of its run, and its plan
//! passes the checker (in worker processes, and in the sweep's own with --jobs 1); runs are validated before the first starts; a run that fails is a
//! row and the sweep goes on; the German CSV; the `[sweep]` table.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

/// Musterstadt's Münster scenario in `dir`, its data paths absolute, with `places` and
/// `max_per_site` set.
fn scenario(dir: &Path, file: &str, places: i64, max_per_site: i64, extra: &str) {
    let data = root().join("data/musterstadt");
    let text = format!(
        "name = \"Münster-Regel\"\n[input]\ndistricts = \"{d}/districts.geojson\"\nsites = \"{d}/sites.geojson\"\n\n[demand]\nplaces = {places}\n\n[rules]\nmax_per_site = {max_per_site}\n\n[objective]\nstages = [\"shortfall\", \"evenness\", \"fair\", \"worst\", \"cost\"]\n{extra}",
        d = data.display()
    );
    std::fs::write(dir.join(file), text).unwrap();
}

#[test]
fn every_row_equals_a_separate_solve_and_its_plan_keeps_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    scenario(dir.path(), "base.toml", 2300, 50, "");
    let run = quartier(
        &[
            "sweep",
            "base.toml",
            "--vary",
            "demand.places=1500..2300:800",
            "--vary",
            "rules.max_per_site=30,50",
            "--plans",
            "--jobs",
            "2",
            "--out",
            "sweep",
        ],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("sweep of 4 runs"), "{}", run.stdout);
    let sweep = read_json(&dir.path().join("sweep/sweep.json"));
    let runs = sweep["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    let mut i = 0;
    for places in [1500, 2300] {
        for cap in [30, 50] {
            let row = &runs[i];
            i += 1;
            assert_eq!(row["values"]["demand.places"], places);
            assert_eq!(row["values"]["rules.max_per_site"], cap);
            let file = format!("run{i}.toml");
            scenario(dir.path(), &file, places, cap, "");
            let out = format!("alone{i}");
            let solved = quartier(&["solve", &file, "--out", &out, "--quiet"], dir.path());
            assert_eq!(solved.code, 0, "{}", solved.stderr);
            let alone = read_json(&dir.path().join(&out).join("summary.json"));
            for key in [
                "status",
                "placed",
                "shortfall",
                "dissimilarity",
                "worst_district",
                "max_abs_deviation",
                "sites_used",
                "min_share_reached",
                "mip_gap",
            ] {
                assert_eq!(row[key], alone[key], "run {i}: {key}");
            }
            for (stage, value) in alone["stages"].as_object().unwrap() {
                assert_eq!(
                    &row[format!("stage_{stage}")],
                    value,
                    "run {i}: stage {stage}"
                );
            }
            // The same plan, site by site, and the checker accepts it.
            let plan = format!("sweep/runs/{i:03}");
            let places_of = |folder: &str| -> Vec<Value> {
                read_json(&dir.path().join(folder).join("sites.geojson"))["features"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["properties"]["places"].clone())
                    .collect()
            };
            assert_eq!(places_of(&plan), places_of(&out), "run {i}: the plans");
            verifies(&file, &plan, dir.path());
        }
    }
    let csv = std::fs::read_to_string(dir.path().join("sweep/sweep.csv")).unwrap();
    assert!(
        csv.starts_with("demand.places,rules.max_per_site,status,placed,shortfall,dissimilarity"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 5);
    let html = std::fs::read_to_string(dir.path().join("sweep/sweep.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 4, "four charts");
    assert!(html.contains("Segregationsindex D"));
}

#[test]
fn every_run_is_checked_before_the_first_starts() {
    let dir = tempfile::tempdir().unwrap();
    scenario(dir.path(), "base.toml", 2300, 50, "");
    let typo = quartier(
        &[
            "sweep",
            "base.toml",
            "--vary",
            "rules.max_per_sit=30,50",
            "--out",
            "s",
        ],
        dir.path(),
    );
    assert_eq!(typo.code, 2, "{}", typo.stderr);
    assert!(
        typo.stderr.contains("run 1 of 2 (rules.max_per_sit = 30)")
            && typo
                .stderr
                .contains("unknown key \"max_per_sit\" in [rules]"),
        "{}",
        typo.stderr
    );
    let negative = quartier(
        &[
            "sweep",
            "base.toml",
            "--vary",
            "demand.places=1000,-5",
            "--out",
            "s",
        ],
        dir.path(),
    );
    assert_eq!(negative.code, 2, "{}", negative.stderr);
    assert!(
        negative.stderr.contains("run 2 of 2 (demand.places = -5)"),
        "{}",
        negative.stderr
    );
    let range = quartier(
        &[
            "sweep",
            "base.toml",
            "--vary",
            "demand.places=4000..1000:250",
            "--out",
            "s",
        ],
        dir.path(),
    );
    assert_eq!(range.code, 2);
    assert!(
        range.stderr.contains("must not end below its start"),
        "{}",
        range.stderr
    );
    let nothing = quartier(&["sweep", "base.toml", "--out", "s"], dir.path());
    assert_eq!(nothing.code, 2);
    assert!(
        nothing.stderr.contains("nothing to sweep"),
        "{}",
        nothing.stderr
    );
    assert!(!dir.path().join("s").exists(), "no folder written");
}

#[test]
fn a_failed_run_is_a_row_and_the_sweep_goes_on_and_german_csv() {
    let dir = tempfile::tempdir().unwrap();
    // The [sweep] table: one run reads a sites file that is not there; 30,000 places leave
    // a shortfall; a tiny time limit stops a run.
    scenario(
        dir.path(),
        "base.toml",
        2300,
        50,
        "\n[solver]\ntime_limit_s = 60\n\n[sweep]\n\"demand.places\" = [2300, 30000]\n",
    );
    let run = quartier(
        &[
            "sweep",
            "base.toml",
            "--vary",
            &format!(
                "input.sites={},fehlt.geojson",
                root().join("data/musterstadt/sites.geojson").display()
            ),
            "--csv",
            "de",
            "--jobs",
            "1",
            "--plans",
            "--out",
            "s",
        ],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("2 solved, 1 with a shortfall, 0 stopped by the time limit, 2 failed"),
        "{}",
        run.stdout
    );
    let csv = std::fs::read_to_string(dir.path().join("s/sweep.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("demand.places;input.sites;status;"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("2300;") && lines[1].contains(";optimal;2300;0;0,0"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("2300;fehlt.geojson;failed;"),
        "{}",
        lines[2]
    );
    assert!(
        lines[2].contains("fehlt.geojson: file not found"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("30000;") && lines[3].contains(";optimal;25133;4867;"),
        "{}",
        lines[3]
    );
    // The runs that solved keep every rule (runs 1 and 3: the sites that are there).
    for (run, places) in [(1, 2300), (3, 30000)] {
        let file = format!("run{run}.toml");
        scenario(dir.path(), &file, places, 50, "");
        verifies(&file, &format!("s/runs/{run:03}"), dir.path());
    }
    // A tiny time limit: a row with that status.
    let limited = quartier(
        &[
            "sweep",
            "base.toml",
            "--vary",
            "solver.time_limit_s=0.00001",
            "--vary",
            "demand.places=2300",
            "--plans",
            "--out",
            "t",
        ],
        dir.path(),
    );
    assert_eq!(limited.code, 0, "{}", limited.stderr);
    let json = read_json(&dir.path().join("t/sweep.json"));
    assert_eq!(json["runs"][0]["status"], "time_limit");
    verifies("base.toml", "t/runs/001", dir.path());
}
