//! The binary end to end: every scenario in `scenarios/`, a hand-built city with mixed
//! CRSs, and the output folder's contract. Every plan written is verified again with
//! `quartier verify` (the independent checker).

mod common;

use common::*;
use quartier::io::crs::Transform;
use serde_json::{json, Value};

/// `quartier verify` (the independent checker) accepts the plan in `out`.
fn assert_verifies(scenario: &str, out: &str, cwd: &std::path::Path) {
    let plan = format!("{out}/sites.geojson");
    let verify = quartier(&["verify", scenario, &plan], cwd);
    assert_eq!(
        verify.code, 0,
        "verify {scenario}: {}{}",
        verify.stdout, verify.stderr
    );
    assert!(
        verify.stdout.contains("keeps every rule"),
        "{}",
        verify.stdout
    );
}

fn solve_and_verify(scenario: &std::path::Path, out: &std::path::Path) -> Value {
    let cwd = root();
    let run = quartier(
        &[
            "solve",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
        &cwd,
    );
    assert_eq!(
        run.code,
        0,
        "solve {}: {}{}",
        scenario.display(),
        run.stdout,
        run.stderr
    );
    assert!(run.stdout.contains("dissimilarity"), "{}", run.stdout);
    assert_verifies(scenario.to_str().unwrap(), out.to_str().unwrap(), &cwd);
    read_json(&out.join("summary.json"))
}

#[test]
fn every_scenario_solves_optimally_and_verifies() {
    let mut count = 0;
    let mut entries: Vec<_> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    entries.sort();
    for scenario in entries {
        let out = tempfile::tempdir().unwrap();
        let summary = solve_and_verify(&scenario, &out.path().join("plan"));
        assert_eq!(summary["status"], "optimal", "{}", scenario.display());
        let placed = summary["placed"].as_u64().unwrap();
        let shortfall = summary["shortfall"].as_u64().unwrap();
        assert_eq!(placed + shortfall, summary["demand"].as_u64().unwrap());
        let reasons: u64 = summary["shortfall_reasons"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(reasons, shortfall, "shortfall reasons add up");
        assert!(summary["mean_distance_m"].is_object(), "{summary}");
        assert!(summary["max_new_within_m"]["places"].is_u64(), "{summary}");
        count += 1;
    }
    assert!(count >= 3, "at least three scenarios, found {count}");
}

#[test]
fn check_reports_without_writing() {
    let run = quartier(&["check", "scenarios/muenster.toml"], &root());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("districts: "), "{}", run.stdout);
    assert!(
        run.stdout.contains("sites that cannot take new places"),
        "{}",
        run.stdout
    );
}

/// `spread_metres` or `access_kinds` without their stage: a warning on stderr and in
/// `check`, and the plan is made without that stage.
#[test]
fn objective_keys_without_their_stage_are_said() {
    let dir = tempfile::tempdir().unwrap();
    let data = root().join("data");
    for (name, stages, said) in [
        (
            "spread",
            "stages = [\"shortfall\", \"evenness\", \"worst\"]",
            "[objective] spread_metres = 500 has no effect: \"spread\" is not in [objective] stages",
        ),
        (
            "tight_market",
            "stages = [\"shortfall\", \"evenness\", \"worst\", \"cost\"]",
            "[objective] access_kinds = [\"school\", \"kita\"] has no effect: \"access\" is not in [objective] stages",
        ),
    ] {
        let text = std::fs::read_to_string(root().join(format!("scenarios/{name}.toml")))
            .unwrap()
            .replace("\"../data/", &format!("\"{}/", data.display()));
        let old = text.lines().find(|l| l.starts_with("stages = ")).unwrap();
        let scenario = dir.path().join(format!("{name}.toml"));
        std::fs::write(&scenario, text.replace(old, stages)).unwrap();
        let out = dir.path().join(name);
        let run = quartier(
            &["solve", scenario.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"],
            &root(),
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stderr.contains(&format!("warning: {}: {said}", scenario.display())), "{}", run.stderr);
        assert_verifies(scenario.to_str().unwrap(), out.to_str().unwrap(), &root());
        let summary = read_json(&out.join("summary.json"));
        assert!(summary["stages"].get("spread").is_none(), "{summary}");
        assert!(summary["stages"].get("access").is_none(), "{summary}");
        if name == "spread" {
            // Musterstadt's spread scenario has no facility layers.
            assert_eq!(summary["mean_distance_m"], json!({}), "{summary}");
        }
        let check = quartier(&["check", scenario.to_str().unwrap()], &root());
        assert!(check.stdout.contains(said), "{}", check.stdout);
    }
}

/// Districts in EPSG:4326 without a crs member, sites in EPSG:25832 with one.
fn mixed_crs_city(dir: &std::path::Path) {
    let districts = vec![
        square("Nord", 0.0, 0.0, 1000.0, 3000.0),
        square("Süd", 1000.0, 0.0, 1000.0, 1000.0),
    ];
    let mut sites = vec![
        site("S-1", 500.0, 500.0, 50),
        site("S-2", 1500.0, 500.0, 50),
        site("S-3", 1600.0, 600.0, 50),
        site("S-4", 3500.0, 500.0, 50),
    ];
    sites[2].status = quartier::model::SiteStatus::Existing;
    sites[2].occupied = 12;
    write_layers(dir, &districts, &sites);
    let to_lonlat = Transform::new("EPSG:25832", "OGC:CRS84").unwrap();
    let mut value = read_json(&dir.join("districts.geojson"));
    value.as_object_mut().unwrap().remove("crs");
    for feature in value["features"].as_array_mut().unwrap() {
        let ring = feature["geometry"]["coordinates"][0]
            .as_array_mut()
            .unwrap();
        let mut points: Vec<(f64, f64)> = ring
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect();
        to_lonlat.apply(&mut points).unwrap();
        *ring = points.iter().map(|p| json!([p.0, p.1])).collect();
    }
    write_json(&dir.join("districts.geojson"), &value);
}

#[test]
fn mixed_crs_layers_work_together_and_output_is_rfc7946() {
    let dir = tempfile::tempdir().unwrap();
    mixed_crs_city(dir.path());
    let scenario = write_scenario(dir.path(), 48, "[rules]\nmax_per_site = 50");
    let summary = solve_and_verify(&scenario, &dir.path().join("out"));
    // T = 48 + 12 = 60 → targets 45 / 15; Süd already holds 12: 45 new in Nord, 3 in Süd.
    assert_eq!(summary["placed"], 48);
    assert!(summary["stages"]["evenness"].as_f64().unwrap().abs() < 1e-6);
    assert_eq!(summary["sites_excluded"]["outside"], 1);
    for key in [
        "scenario",
        "status",
        "demand",
        "placed",
        "shortfall",
        "shortfall_reasons",
        "existing",
        "sites_used",
        "sites_excluded",
        "dissimilarity",
        "max_abs_deviation",
        "max_rel_deviation",
        "per_1000",
        "stages",
        "mip_gap",
        "timings_s",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    for key in ["load", "index", "build", "solve", "write"] {
        assert!(summary["timings_s"][key].is_number(), "timings_s.{key}");
    }

    let districts = read_json(&dir.path().join("out/districts.geojson"));
    assert!(districts.get("crs").is_none());
    let nord = &districts["features"][0]["properties"];
    assert_eq!(nord["name"], "Bezirk Nord");
    for key in [
        "id",
        "name",
        "population",
        "weight",
        "existing",
        "target",
        "new",
        "total",
        "deviation",
        "per_1000",
        "limited_by",
    ] {
        assert!(nord.get(key).is_some(), "districts.geojson lacks {key}");
    }
    assert_eq!(nord["new"].as_f64(), Some(45.0));
    // Longitude/latitude near Münster, exterior ring counter-clockwise.
    let ring: Vec<(f64, f64)> = districts["features"][0]["geometry"]["coordinates"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    assert!(ring
        .iter()
        .all(|p| (7.0..8.0).contains(&p.0) && (51.0..52.5).contains(&p.1)));
    let twice_area: f64 = ring
        .windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum();
    assert!(twice_area > 0.0);

    let sites = read_json(&dir.path().join("out/sites.geojson"));
    let features = sites["features"].as_array().unwrap();
    let existing = features
        .iter()
        .find(|f| f["properties"]["id"] == "S-3")
        .expect("existing site listed");
    assert_eq!(existing["properties"]["occupied"], 12);
    assert_eq!(existing["properties"]["district"], "Süd");
    for f in features {
        for key in [
            "id", "district", "places", "occupied", "total", "capacity", "status",
        ] {
            assert!(
                f["properties"].get(key).is_some(),
                "sites.geojson lacks {key}"
            );
        }
        let text = f["geometry"]["coordinates"][0].to_string();
        assert!(
            text.split('.').nth(1).map_or(0, str::len) <= 7,
            "at most 7 decimals: {text}"
        );
    }
}

#[test]
fn a_second_solve_replaces_its_own_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    mixed_crs_city(dir.path());
    write_scenario(dir.path(), 30, "");
    for _ in 0..2 {
        let run = quartier(&["solve", "scenario.toml", "--quiet"], dir.path());
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_verifies("scenario.toml", "out/scenario", dir.path());
    }
    let names: Vec<String> = std::fs::read_dir(dir.path().join("out/scenario"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 6, "{names:?}");
    // No partial folders left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn verify_catches_an_edited_plan() {
    let dir = tempfile::tempdir().unwrap();
    mixed_crs_city(dir.path());
    write_scenario(dir.path(), 48, "");
    assert_eq!(
        quartier(&["solve", "scenario.toml", "--quiet"], dir.path()).code,
        0
    );
    assert_verifies("scenario.toml", "out/scenario", dir.path());
    let plan = dir.path().join("out/scenario/sites.geojson");
    let mut value = read_json(&plan);
    for f in value["features"].as_array_mut().unwrap() {
        if f["properties"]["id"] == "S-1" {
            f["properties"]["places"] = json!(55);
        }
    }
    let edited = dir.path().join("edited.geojson");
    write_json(&edited, &value);
    let run = quartier(&["verify", "scenario.toml", "edited.geojson"], dir.path());
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("S-1"), "{}", run.stdout);
}

#[test]
fn compare_shows_what_changed_between_two_plans() {
    let dir = tempfile::tempdir().unwrap();
    mixed_crs_city(dir.path());
    write_scenario(dir.path(), 48, "");
    assert_eq!(
        quartier(
            &["solve", "scenario.toml", "--out", "a", "--quiet"],
            dir.path()
        )
        .code,
        0
    );
    assert_verifies("scenario.toml", "a", dir.path());
    write_scenario(dir.path(), 20, "");
    assert_eq!(
        quartier(
            &["solve", "scenario.toml", "--out", "b", "--quiet"],
            dir.path()
        )
        .code,
        0
    );
    assert_verifies("scenario.toml", "b", dir.path());
    let run = quartier(&["compare", "a", "b", "--html", "compare.html"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("placed"))
        .unwrap();
    assert!(
        line.contains("48") && line.contains("20") && line.contains("-28"),
        "{line}"
    );
    assert!(
        run.stdout.contains("districts whose places changed most"),
        "{}",
        run.stdout
    );
    let html = std::fs::read_to_string(dir.path().join("compare.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 2, "both maps");
    let missing = quartier(&["compare", "a", "nowhere"], dir.path());
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("nowhere/summary.json: file not found"),
        "{}",
        missing.stderr
    );
}

#[test]
fn compare_does_not_subtract_figures_measured_differently() {
    // Two plans with the spread stage, one counting places within 500 m, one within 300 m:
    // the spread figures stand side by side, not subtracted, and a note says why.
    let dir = tempfile::tempdir().unwrap();
    mixed_crs_city(dir.path());
    for (metres, out) in [(500, "a"), (300, "b")] {
        write_scenario(
            dir.path(),
            30,
            &format!(
                "[objective]\nstages = [\"shortfall\", \"evenness\", \"spread\"]\nspread_metres = {metres}"
            ),
        );
        let run = quartier(
            &["solve", "scenario.toml", "--out", out, "--quiet"],
            dir.path(),
        );
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert_verifies("scenario.toml", out, dir.path());
    }
    let run = quartier(&["compare", "a", "b"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let row = |start: &str| {
        run.stdout
            .lines()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no row {start}: {}", run.stdout))
            .to_string()
    };
    let within = row("most new places within 500 m / 300 m");
    assert!(within.ends_with("not comparable"), "{within}");
    assert!(row("stage optimum: spread").ends_with("not comparable"));
    assert!(
        row("placed").ends_with('0'),
        "the same demand: {}",
        row("placed")
    );
    assert!(
        run.stdout.contains(
            "note: the spread figures count places within 500 m in A and 300 m in B: not comparable, so B − A is left out"
        ),
        "{}",
        run.stdout
    );
}

/// Counts what the library reports while loading and indexing.
#[derive(Default)]
struct Counting {
    steps: std::sync::Mutex<Vec<(String, Option<u64>)>>,
    done: std::sync::atomic::AtomicU64,
}

impl quartier::progress::Progress for Counting {
    fn start(&self, message: &str, total: Option<u64>) {
        self.steps
            .lock()
            .unwrap()
            .push((message.to_string(), total));
    }
    fn advance(&self, n: u64) {
        self.done.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn progress_counts_every_feature_and_site_and_stays_off_a_pipe() {
    let scenario_path = root().join("scenarios/muenster.toml");
    let scenario = quartier::io::read_scenario(&scenario_path).unwrap();
    let progress = Counting::default();
    let instance = quartier::io::load_instance_with(&scenario, &progress).unwrap();
    let _ = quartier::spatial::Geography::of_with(&instance, &progress);
    let steps = progress.steps.lock().unwrap().clone();
    let counted: u64 = steps.iter().filter_map(|(_, total)| *total).sum();
    let features = instance.districts.len()
        + instance.sites.len()
        + instance
            .facilities
            .iter()
            .map(|l| l.facilities.len())
            .sum::<usize>();
    // Every feature read, then every site located and matched to each facility kind.
    let indexed = instance.sites.len() * (1 + instance.facilities.len());
    assert_eq!(counted, (features + indexed) as u64, "{steps:?}");
    assert_eq!(
        progress.done.load(std::sync::atomic::Ordering::Relaxed),
        counted
    );
    assert!(
        steps.iter().any(|(m, _)| m == "reading sites.geojson"),
        "{steps:?}"
    );

    // On a pipe (as here) nothing but messages goes to stderr, even without --quiet.
    let out = tempfile::tempdir().unwrap();
    let run = quartier(
        &[
            "solve",
            scenario_path.to_str().unwrap(),
            "--out",
            out.path().join("plan").to_str().unwrap(),
        ],
        &root(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let plan = out.path().join("plan");
    assert_verifies(
        scenario_path.to_str().unwrap(),
        plan.to_str().unwrap(),
        &root(),
    );
}

/// The forecast scenario: one nested plan over three levels, its figures, `verify` on an
/// edited plan that breaks the nesting, and `compare` against the one-shot plan.
#[test]
fn forecast_levels_nest_verify_and_compare() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = root();
    let out = dir.path().join("forecast");
    let summary = solve_and_verify(&cwd.join("scenarios/forecast.toml"), &out);
    let levels = summary["levels"]
        .as_array()
        .expect("levels in summary.json");
    let wanted = [1200, 2300, 3400];
    assert_eq!(levels.len(), wanted.len());
    for (level, &places) in levels.iter().zip(&wanted) {
        assert_eq!(level["places"], places, "{level}");
        let d = level["dissimilarity"].as_f64().unwrap();
        let alone = level["dissimilarity_alone"].as_f64().unwrap();
        let price = level["price_of_nesting"].as_f64().unwrap();
        assert!(alone <= d + 1e-9, "alone is a bound: {level}");
        assert!((price - (d - alone)).abs() < 1e-6, "{level}");
    }
    assert_eq!(summary["placed"], 3400);

    // Every site: places never fall from one level to the next, `level` is the first
    // level with places, and the headline `places` is the last level's.
    let sites = read_json(&out.join("sites.geojson"));
    let mut opened = [0usize; 3];
    for feature in sites["features"].as_array().unwrap() {
        let p = &feature["properties"];
        let at: Vec<u64> = (1..=3)
            .map(|k| p[format!("places_{k}")].as_u64().unwrap())
            .collect();
        assert!(at[0] <= at[1] && at[1] <= at[2], "nested: {p}");
        assert_eq!(p["places"].as_u64().unwrap(), at[2], "{p}");
        if let Some(first) = at.iter().position(|&x| x > 0) {
            assert_eq!(p["level"].as_u64().unwrap() as usize, first + 1, "{p}");
            opened[first] += 1;
        }
    }
    assert!(
        opened.iter().all(|&n| n > 0),
        "sites open at every level: {opened:?}"
    );
    let districts = read_json(&out.join("districts.geojson"));
    for k in 1..=3 {
        let new: f64 = districts["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"][format!("new_{k}")].as_f64().unwrap())
            .sum();
        assert_eq!(new, wanted[k - 1] as f64, "new_{k} adds up to the level");
    }
    let style = std::fs::read_to_string(out.join("sites.qml")).unwrap();
    assert!(style.contains("attr=\"level\""), "sites.qml by level");

    // A planner moves places at one site so that level 2 has fewer than level 1.
    let mut edited = sites.clone();
    let feature = edited["features"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| {
            let p = &f["properties"];
            p["places_1"].as_u64().unwrap() > 0 && p["places_2"].as_u64().unwrap() > 0
        })
        .expect("a site with places at levels 1 and 2");
    let id = feature["properties"]["id"].as_str().unwrap().to_string();
    let first = feature["properties"]["places_1"].as_u64().unwrap();
    feature["properties"]["places_2"] = json!(first - 1);
    let plan = dir.path().join("edited.geojson");
    write_json(&plan, &edited);
    let run = quartier(
        &["verify", "scenarios/forecast.toml", plan.to_str().unwrap()],
        &cwd,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let expected = format!(
        "site \"{id}\": {} new places at level 2 but {first} at level 1",
        first - 1
    );
    assert!(
        run.stdout.contains(&expected),
        "{expected:?} in {}",
        run.stdout
    );

    // compare: the forecast plan against the one-shot plan of the same city.
    let oneshot = dir.path().join("muenster");
    solve_and_verify(&cwd.join("scenarios/muenster.toml"), &oneshot);
    let run = quartier(
        &["compare", out.to_str().unwrap(), oneshot.to_str().unwrap()],
        &cwd,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("dissimilarity"), "{}", run.stdout);
    // The levels' figures, each stage's optimum and the spread figure, with "–" where only
    // one plan has them.
    let row = |label: &str| {
        run.stdout
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no row {label}: {}", run.stdout))
            .split_whitespace()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
    };
    assert_eq!(row("level 1: places"), ["–", "–", "1200"]);
    assert_eq!(row("level 3: D"), ["–", "–", "0.0178"]);
    let forecast = read_json(&out.join("summary.json"));
    let muenster = read_json(&oneshot.join("summary.json"));
    let within = |s: &Value| {
        s["max_new_within_m"]["places"]
            .as_u64()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        row("most new places within 500 m")[1..],
        [within(&muenster), within(&forecast)]
    );
    assert_eq!(row("stage optimum: evenness").len(), 3);
}

/// `levels = [N]` is the one-shot plan of `places = N`: the same stage optima and the same
/// places at every site.
#[test]
fn one_level_is_the_one_shot_plan() {
    let dir = tempfile::tempdir().unwrap();
    let data = root().join("data");
    for file in ["muenster", "spread"] {
        let text = std::fs::read_to_string(root().join(format!("scenarios/{file}.toml")))
            .unwrap()
            .replace("../data", data.to_str().unwrap());
        let oneshot = dir.path().join(format!("{file}.toml"));
        std::fs::write(&oneshot, &text).unwrap();
        let one_level = dir.path().join(format!("{file}_level.toml"));
        std::fs::write(&one_level, text.replace("places = 2300", "levels = [2300]")).unwrap();
        let a = solve_and_verify(&oneshot, &dir.path().join(format!("{file}_a")));
        let b = solve_and_verify(&one_level, &dir.path().join(format!("{file}_b")));
        assert_eq!(a["stages"], b["stages"], "{file}");
        assert_eq!(a["dissimilarity"], b["dissimilarity"], "{file}");
        let places = |out: &str| -> Vec<(String, u64)> {
            let sites = read_json(&dir.path().join(out).join("sites.geojson"));
            let mut v: Vec<(String, u64)> = sites["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    let p = &f["properties"];
                    (p["id"].to_string(), p["places"].as_u64().unwrap())
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            places(&format!("{file}_a")),
            places(&format!("{file}_b")),
            "{file}"
        );
    }
}

/// The tight market, with access and then cost: every stage optimum equals the one the
/// independent Python reference (`benches/reference/`, GeoPandas + HiGHS, every site its
/// own integer column) computed for this scenario. quartier 0.4.0 before the fix aggregated
/// sites of different keys and wrote a plan costing 1,451,035.
#[test]
fn tight_market_optima_match_the_python_reference() {
    let dir = tempfile::tempdir().unwrap();
    let summary = solve_and_verify(
        &root().join("scenarios/tight_market.toml"),
        &dir.path().join("plan"),
    );
    let stages = &summary["stages"];
    let reference = [
        ("shortfall", 582.0),
        ("evenness", 719.3044832275764),
        ("worst", 38.6063734875748),
        ("access", 2340315.142459671),
        ("cost", 1450171.0),
    ];
    for (stage, optimum) in reference {
        let value = stages[stage].as_f64().unwrap();
        // Each stage keeps the ones before within 1e-6 relative (the model's tolerance).
        assert!(
            (value - optimum).abs() <= 1e-6 * optimum.abs().max(1.0),
            "{stage}: {value} against the reference's {optimum}"
        );
    }
}
