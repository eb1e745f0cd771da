//! The QGIS plugin (`qgis/quartier_processing`, zipped by `make qgis-plugin`) in real QGIS,
//! headless: each test builds the zip, and a script under tests/qgis/ installs it into a
//! fresh QGIS profile with QGIS's own "Install from ZIP" code, starts Processing and runs
//! the provider's algorithms against this binary. Every plan a script solves is checked with
//! `quartier verify`. Without python3-qgis these tests say so and pass, unless
//! QUARTIER_REQUIRE_VIEWERS=1 (set by `make test`).
//!
//! QUARTIER_SCREENSHOTS=DIR also saves the form and the result map there
//! (`make qgis-screenshots` refreshes docs/).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const PYTHON: &str = "/usr/bin/python3";

fn required() -> bool {
    std::env::var_os("QUARTIER_REQUIRE_VIEWERS").is_some_and(|v| v == "1")
}

/// QGIS's Python bindings and its Processing framework.
fn qgis_available() -> bool {
    let ok = Command::new(PYTHON)
        .args(["-c", "import qgis.core"])
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .is_ok_and(|o| o.status.success())
        && Path::new("/usr/share/qgis/python/plugins/processing").is_dir();
    if !ok {
        assert!(
            !required(),
            "python3-qgis is needed for this test (make test installs it)"
        );
        eprintln!("skipped: python3-qgis with its processing framework is not available");
    }
    ok
}

/// The plugin zip, built as `make qgis-plugin` builds it.
fn plugin_zip(dir: &Path) -> PathBuf {
    let zip = dir.join("quartier_processing.zip");
    let built = Command::new(PYTHON)
        .arg(root().join("qgis/build_zip.py"))
        .arg(&zip)
        .output()
        .expect("python3 runs");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    zip
}

/// Runs tests/qgis/SCRIPT with the zip, a work folder and the binary (plus `extra`);
/// fails on a failed check and returns the script's lines.
fn run_script(script: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let zip = plugin_zip(dir.path());
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    // QGIS and Processing put their temporary folders here, removed with the test's.
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut command = Command::new(PYTHON);
    command
        .arg(root().join("tests/qgis").join(script))
        .arg(&zip)
        .arg(&work)
        .arg(env!("CARGO_BIN_EXE_quartier"))
        .args(extra)
        .env("QT_QPA_PLATFORM", "offscreen")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("TMPDIR", &tmp);
    let run = command.output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success() && !stdout.contains("\nFAIL ") && !stdout.starts_with("FAIL "),
        "{script} failed:\n{stdout}\n{stderr}"
    );
    for line in stdout.lines().filter(|l| l.starts_with("SKIP ")) {
        eprintln!("{script}: {line}");
    }
    stdout
}

fn screenshots() -> Vec<String> {
    std::env::var("QUARTIER_SCREENSHOTS")
        .ok()
        .filter(|d| !d.is_empty())
        .into_iter()
        .collect()
}

fn expect(stdout: &str, line: &str) {
    assert!(
        stdout.lines().any(|l| l.starts_with(&format!("ok {line}"))),
        "no line \"ok {line}\" in:\n{stdout}"
    );
}

#[test]
fn the_plugin_zip_installs_and_registers_the_provider() {
    if !qgis_available() {
        return;
    }
    let out = run_script("plugin_install.py", &[env!("CARGO_PKG_VERSION")]);
    expect(
        &out,
        "the zip holds the folder quartier_processing/ at its root",
    );
    expect(
        &out,
        "its algorithms: Check a plan, Compare plans, Plan places",
    );
    expect(
        &out,
        "Plan places has a field picker for each of the 13 field mappings",
    );
    expect(
        &out,
        "Plan places has an optional street network (a line layer) and, under Advanced parameters, the max. distance to it",
    );
    expect(
        &out,
        "Check a plan has an optional street network (a line layer) and, under Advanced parameters, the max. distance to it",
    );
    expect(
        &out,
        "Plan places outputs the routes layer and the street network's figures",
    );
    expect(
        &out,
        "loading it again registers the provider with the saved setting",
    );
}

#[test]
fn the_scenario_writer_reads_back_and_merges_as_documented() {
    if !qgis_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let zip = plugin_zip(dir.path());
    let run = Command::new(PYTHON)
        .arg(root().join("tests/qgis/plugin_scenario.py"))
        .arg(&zip)
        .arg(dir.path())
        .env("QT_QPA_PLATFORM", "offscreen")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("TMPDIR", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success() && !stdout.contains("FAIL "),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    expect(
        &stdout,
        "the scenario written reads back to the same values",
    );
    expect(&stdout, "facility kinds with dots are one key");
    expect(
        &stdout,
        "the input files of a scenario include the street network",
    );
}

#[test]
fn plan_places_on_the_demo_city_from_a_city_offices_layers() {
    if !qgis_available() {
        return;
    }
    let shots = screenshots();
    let extra: Vec<&str> = shots.iter().map(String::as_str).collect();
    let out = run_script("plugin_plan.py", &extra);
    expect(&out, "dissimilarity D = 0.0493 as on the original files");
    expect(&out, "district names with umlauts arrive unchanged");
    expect(&out, "every exported layer says its CRS");
    expect(
        &out,
        "Plan for 2300 places – districts is styled by quartier's .qml: graduatedSymbol",
    );
    expect(
        &out,
        "Plan for 2300 places – sites is styled by quartier's .qml: categorizedSymbol",
    );
    expect(&out, "the command line repeats the plan exactly");
    expect(&out, "the input layers are unchanged");
    expect(
        &out,
        "with the layers removed, the run replaces the plugin's own files and keeps others",
    );
}

#[test]
fn plan_places_started_from_a_scenario_file() {
    if !qgis_available() {
        return;
    }
    let out = run_script("plugin_base.py", &[]);
    expect(
        &out,
        "the form's values win over the file's, the others stay",
    );
    expect(&out, "the plan is quartier's for that scenario");
    expect(
        &out,
        "a run from the folder's own scenario.toml into the same folder keeps its inputs",
    );
}

/// "Selected features only" on the districts: an empty selection is an error naming the
/// layer, a run on 5 of 40 districts says so in its log and plans for them alone; layers
/// of two runs have names of their own; a folder that cannot be made is named as chosen.
#[test]
fn plan_places_on_selected_districts() {
    if !qgis_available() {
        return;
    }
    let out = run_script("plugin_selection.py", &[]);
    expect(&out, "an empty selection fails with the layer's name");
    expect(
        &out,
        "the log names the layer and its selection: (5 of 40 selected)",
    );
    expect(
        &out,
        "the run says it planned for the selected districts only",
    );
    expect(&out, "the plan has the 5 selected districts");
    expect(&out, "quartier verify finds");
    expect(&out, "a second run adds layers with names of their own");
    expect(
        &out,
        "a folder that cannot be written is reported by the folder chosen",
    );
}

/// Sweep scenarios: the table of the runs in the project, the page of curves as the result,
/// a row equal to quartier solve of its run, a refused value with quartier's message.
#[test]
fn sweep_scenarios_from_the_toolbox() {
    if !qgis_available() {
        return;
    }
    let out = run_script("plugin_sweep.py", &[]);
    expect(&out, "the sweep has 4 runs");
    expect(&out, "sweep.csv is in the project as the table");
    expect(&out, "its fields start with the varied keys");
    expect(&out, "the result page has the four charts");
    expect(
        &out,
        "the row of 2300 places and 50 per site equals quartier solve",
    );
    expect(
        &out,
        "a refused value fails with quartier's message naming the run",
    );
}

#[test]
fn check_a_plan_edited_in_qgis() {
    if !qgis_available() {
        return;
    }
    let out = run_script("plugin_check.py", &[]);
    expect(&out, "the solved plan keeps every rule; no offending sites");
    expect(&out, "the offending sites are the four edited ones");
    expect(
        &out,
        "the edits are still there, unsaved, and the plan's file is unchanged",
    );
    expect(&out, "a plan without places fails with quartier's message");
    expect(
        &out,
        "the report names the layer, not the temporary file it was handed over in",
    );
}

/// Distances on foot (tests/on_foot.rs's town cut by a river, its streets a GeoPackage):
/// Plan places with the street network adds the routes with their style and the walks to
/// the sites layer; selected streets and the max. distance reach quartier; Check a plan
/// checks a straight-line plan on foot; a scenario file may name the network as a
/// GeoPackage layer or a Shapefile.
#[test]
fn plan_places_and_check_a_plan_on_foot_along_a_street_network() {
    if !qgis_available() {
        return;
    }
    let out = run_script("plugin_network.py", &[]);
    expect(
        &out,
        "the plan and the network's figures are quartier's on the original files",
    );
    expect(
        &out,
        "the streets are handed over as MultiLineStrings in EPSG:25832 with their ids only",
    );
    expect(&out, "the algorithm's outputs carry the network's figures");
    expect(
        &out,
        "three result layers added: ['Flussstadt – districts', 'Flussstadt – routes', 'Flussstadt – sites']",
    );
    expect(
        &out,
        "the routes layer is styled by quartier's routes.qml: categorizedSymbol on \"kind\"",
    );
    expect(&out, "the routes lie between the sites and the districts");
    expect(
        &out,
        "the sites layer has dist_school_m (on foot) and line_school_m (straight)",
    );
    expect(
        &out,
        "selected streets only: 4 of 5 handed over, in 2 parts",
    );
    expect(
        &out,
        "without a network: straight distances, two layers and no routes",
    );
    expect(
        &out,
        "checked on foot with the network of the form, the far sites break the access rule",
    );
    expect(
        &out,
        "the plan made on foot keeps every rule with its scenario's network",
    );
    expect(
        &out,
        "a scenario file naming the network as Shapefile: handed over as inputs/network.shp",
    );
    assert_eq!(
        out.matches("ok quartier verify finds plan/sites.geojson keeps every rule")
            .count(),
        5,
        "{out}"
    );
}

#[test]
fn a_sweep_over_three_demands_in_the_batch_dialog_then_compare() {
    if !qgis_available() {
        return;
    }
    let out = run_script("plugin_batch.py", &[]);
    for row in 1..=3 {
        expect(
            &out,
            &format!("row {row}: its two layers are in the project"),
        );
    }
    assert_eq!(
        out.matches("ok quartier verify finds plan/sites.geojson keeps every rule")
            .count(),
        3,
        "{out}"
    );
    expect(&out, "the comparison page has both plans and both maps");
}

#[test]
fn bad_input_fails_with_quartiers_message_and_changes_nothing() {
    if !qgis_available() {
        return;
    }
    let out = run_script("plugin_bad_input.py", &[]);
    expect(
        &out,
        "a duplicate district id fails with quartier's message",
    );
    expect(
        &out,
        "a typo in the scenario file fails with quartier's message",
    );
    expect(&out, "without a setting and not on PATH");
    expect(&out, "found on PATH without a setting");
    expect(&out, "Cancel stops quartier");
    expect(
        &out,
        "cancelled: the project, its layers and files are unchanged",
    );
}

/// Demand levels and the stages spread and access: the scenario keys are checked now; the
/// solve is checked once the binary accepts them (until then the script prints SKIP).
#[test]
fn levels_and_spread_from_the_form() {
    if !qgis_available() {
        return;
    }
    let out = run_script("plugin_levels.py", &[]);
    expect(
        &out,
        "the scenario has [demand] levels = [1000, 2000, 3000] and weights = [0.5, 0.3, 0.2]",
    );
    expect(
        &out,
        "the scenario has [objective] stages with spread and access",
    );
}

#[test]
fn the_form_renders_and_runs_in_the_processing_dialog() {
    if !qgis_available() {
        return;
    }
    let shots = screenshots();
    let extra: Vec<&str> = shots.iter().map(String::as_str).collect();
    let out = run_script("plugin_form.py", &extra);
    expect(&out, "the form gives back the values set");
    expect(&out, "the grab shows a drawn form");
    expect(&out, "Run in the dialog finishes (in a background task)");
    expect(&out, "the dialog adds both styled layers");
}

/// `--progress plain`, which the plugin reads: one line per step and per percent on a pipe;
/// nothing with `--quiet` or without the option.
#[test]
fn plain_progress_lines_for_programs_that_run_quartier() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = root().join("scenarios/muenster.toml");
    let scenario = scenario.to_str().unwrap();
    let run = quartier(
        &["solve", scenario, "--out", "plan", "--progress", "plain"],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let verify = quartier(&["verify", scenario, "plan/sites.geojson"], dir.path());
    assert_eq!(verify.code, 0, "{}", verify.stdout);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines.iter().all(|l| l.starts_with("step: ")
            || l.strip_prefix("progress: ")
                .and_then(|p| p.strip_suffix('%'))
                .and_then(|p| p.parse::<u32>().ok())
                .is_some_and(|p| (1..=100).contains(&p))),
        "{}",
        run.stderr
    );
    let steps: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("step: "))
        .collect();
    assert_eq!(steps.first(), Some(&"reading the scenario"));
    assert!(steps.contains(&"reading sites.geojson"), "{steps:?}");
    assert!(steps.iter().any(|s| s.starts_with("solving")), "{steps:?}");
    assert_eq!(steps.last(), Some(&"writing the plan"));
    let unique: std::collections::HashSet<_> = steps.iter().collect();
    assert_eq!(unique.len(), steps.len(), "each step once: {steps:?}");
    // The percents of the sites step climb to 100 without repeating.
    let at = lines
        .iter()
        .position(|l| *l == "step: reading sites.geojson")
        .unwrap();
    let percents: Vec<u32> = lines[at + 1..]
        .iter()
        .map_while(|l| l.strip_prefix("progress: "))
        .filter_map(|p| p.trim_end_matches('%').parse().ok())
        .collect();
    assert!(percents.windows(2).all(|w| w[0] < w[1]), "{percents:?}");
    assert_eq!(percents.last(), Some(&100));

    for flags in [&["--progress", "plain", "--quiet"][..], &[][..]] {
        let mut args = vec!["solve", scenario, "--out", "plan"];
        args.extend_from_slice(flags);
        let run = quartier(&args, dir.path());
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stderr, "", "no progress on a pipe with {flags:?}");
    }
    let verify = quartier(&["verify", scenario, "plan/sites.geojson"], dir.path());
    assert_eq!(verify.code, 0, "{}", verify.stdout);
}
