//! `quartier generate --city` end to end: the Münster-like city and the mid-size city
//! benchmark are written whole and deterministically, `check` accepts them, their base
//! scenarios solve and the plans pass `quartier verify` (the independent checker); the variant
//! scenarios carry the keys of the contract; arguments that do not fit together exit with 2;
//! the grid keeps its files.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

const FILES: [&str; 8] = [
    "districts.geojson",
    "sites.geojson",
    "schools.geojson",
    "kitas.geojson",
    "stops.geojson",
    "scenario.toml",
    "spacing_levels.toml",
    "spread_access.toml",
];

fn generate(args: &[&str], dir: &Path) -> Run {
    let mut all = vec!["generate"];
    all.extend_from_slice(args);
    all.push("--quiet");
    quartier(&all, dir)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn toml_table(path: &Path) -> toml::Table {
    std::fs::read_to_string(path)
        .unwrap()
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Solves a scenario into `out` and has `quartier verify` audit the plan.
fn solve_and_verify(scenario: &Path, out: &Path) -> Value {
    let (scenario, out) = (scenario.to_str().unwrap(), out.to_str().unwrap());
    let run = quartier(&["solve", scenario, "--out", out, "--quiet"], &root());
    assert_eq!(
        run.code, 0,
        "solve {scenario}: {}{}",
        run.stdout, run.stderr
    );
    let plan = format!("{out}/sites.geojson");
    let verify = quartier(&["verify", scenario, &plan], &root());
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
    read_json(&Path::new(out).join("summary.json"))
}

#[test]
fn cities_are_written_whole_and_the_same_seed_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    for city in ["muenster", "midsize"] {
        for (name, seed) in [("a", "7"), ("b", "7"), ("c", "8")] {
            let out = format!("{city}-{name}");
            let run = generate(&["--city", city, "--seed", seed, "--out", &out], dir.path());
            assert_eq!(run.code, 0, "{}", run.stderr);
        }
        let folder = |name: &str| dir.path().join(format!("{city}-{name}"));
        let mut names: Vec<String> = std::fs::read_dir(folder("a"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut expected: Vec<String> = FILES.iter().map(|f| f.to_string()).collect();
        expected.sort();
        assert_eq!(names, expected, "{city}");
        for file in FILES {
            let a = read(&folder("a").join(file));
            assert_eq!(a, read(&folder("b").join(file)), "{city} {file}: same seed");
            assert_ne!(
                a,
                read(&folder("c").join(file)),
                "{city} {file}: other seed"
            );
        }
        // Layers in EPSG:25832 with the legacy crs member in its odd-but-real form.
        let districts = read_json(&folder("a").join("districts.geojson"));
        assert_eq!(
            districts["crs"]["properties"]["name"],
            "urn:ogc:def:crs:EPSG::25832"
        );
    }
}

#[test]
fn muenster_like_city_checks_solves_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let run = generate(
        &["--city", "muenster", "--seed", "7", "--out", "city"],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Münster-like city: 45 districts"),
        "{}",
        run.stdout
    );
    let scenario = dir.path().join("city/scenario.toml");
    let check = quartier(&["check", scenario.to_str().unwrap()], &root());
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    for expected in [
        "districts: 45 with 315,000 residents",
        "sites: 2,000 (",
        "outside 4",
        "the scenario is valid",
    ] {
        assert!(
            check.stdout.contains(expected),
            "{expected}: {}",
            check.stdout
        );
    }
    let demand = toml_table(&scenario)["demand"]["places"]
        .as_integer()
        .unwrap() as u64;
    assert_eq!(demand, 4_725, "1.5 % of 315,000 residents");

    let summary = solve_and_verify(&scenario, &dir.path().join("plan"));
    assert_eq!(summary["status"], "optimal");
    assert_eq!(summary["demand"].as_u64(), Some(demand));
    assert_eq!(summary["placed"].as_u64(), Some(demand), "{summary}");
    assert_eq!(summary["sites_excluded"]["outside"], 4);
    // Every district of the input is in the plan: the Münster-like city numbers its
    // districts (the mid-size city uses text such as "07-Süd").
    let input = read_json(&dir.path().join("city/districts.geojson"));
    let plan = read_json(&dir.path().join("plan/districts.geojson"));
    let ids = |layer: &Value| -> Vec<String> {
        let mut ids: Vec<String> = layer["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let id = &f["properties"]["id"];
                id.as_str().map_or_else(|| id.to_string(), str::to_string)
            })
            .collect();
        ids.sort();
        ids
    };
    assert!(input["features"][0]["properties"]["id"].is_number());
    assert_eq!(ids(&input), ids(&plan));
}

#[test]
fn midsize_city_is_the_benchmark_case() {
    let dir = tempfile::tempdir().unwrap();
    let run = generate(
        &["--city", "midsize", "--seed", "7", "--out", "city"],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let scenario = dir.path().join("city/scenario.toml");
    let check = quartier(&["check", scenario.to_str().unwrap()], &root());
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(
        check
            .stdout
            .contains("districts: 86 with 240,000 residents"),
        "{}",
        check.stdout
    );
    assert!(check.stdout.contains("sites: 6,600 ("), "{}", check.stdout);
    let minimum = check
        .stdout
        .lines()
        .find(|l| l.contains("sites with a minimum occupancy"))
        .unwrap_or_else(|| panic!("{}", check.stdout));
    let percent: f64 = minimum
        .split('(')
        .nth(2)
        .and_then(|p| p.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{minimum}"));
    assert!((7.0..=9.0).contains(&percent), "{minimum}");

    // Row houses take exactly 10; 60 % of the sites carry a cost.
    let sites = read_json(&dir.path().join("city/sites.geojson"));
    let features = sites["features"].as_array().unwrap();
    let row_houses: Vec<&Value> = features
        .iter()
        .filter(|f| f["properties"]["kind"] == "row_house")
        .collect();
    assert!(row_houses
        .iter()
        .all(|f| f["properties"]["min_places"] == 10 && f["properties"]["capacity"] == 10));
    let with_cost = features
        .iter()
        .filter(|f| f["properties"].get("cost").is_some())
        .count() as f64;
    assert!(
        (0.57..=0.63).contains(&(with_cost / 6_600.0)),
        "{with_cost}"
    );

    let rules = &toml_table(&scenario)["rules"];
    assert_eq!(rules["max_share"].as_float(), Some(0.012));
    assert_eq!(rules["radius"]["metres"].as_integer(), Some(400));
    assert_eq!(rules["radius"]["max_places"].as_integer(), Some(150));
    assert_eq!(rules["access"]["school"].as_integer(), Some(1_200));
    assert_eq!(rules["access"]["kita"].as_integer(), Some(900));

    let summary = solve_and_verify(&scenario, &dir.path().join("plan"));
    assert_eq!(summary["status"], "optimal");
    let placed = summary["placed"].as_u64().unwrap();
    let shortfall = summary["shortfall"].as_u64().unwrap();
    assert_eq!(placed + shortfall, summary["demand"].as_u64().unwrap());
    assert!(summary["sites_excluded"]["access"].as_u64().unwrap() > 0);
}

#[test]
fn variant_scenarios_carry_levels_spread_and_access() {
    let dir = tempfile::tempdir().unwrap();
    for city in ["muenster", "midsize"] {
        let run = generate(&["--city", city, "--out", city], dir.path());
        assert_eq!(run.code, 0, "{}", run.stderr);
        let folder = dir.path().join(city);
        let base = toml_table(&folder.join("scenario.toml"));
        let demand = base["demand"]["places"].as_integer().unwrap();

        let levels = toml_table(&folder.join("spacing_levels.toml"));
        assert!(levels["demand"].get("places").is_none(), "places or levels");
        let steps: Vec<i64> = levels["demand"]["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_integer().unwrap())
            .collect();
        assert_eq!(steps.len(), 3);
        assert!(
            steps[0] > 0 && steps.windows(2).all(|w| w[0] < w[1]),
            "{steps:?}"
        );
        assert_eq!(steps[2], demand);
        assert_eq!(levels["rules"]["radius"]["metres"].as_integer(), Some(300));
        assert_eq!(
            levels["rules"]["radius"]["max_places"].as_integer(),
            Some(120)
        );

        let spread = toml_table(&folder.join("spread_access.toml"));
        let objective = &spread["objective"];
        let stages: Vec<&str> = objective["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(
            stages,
            ["shortfall", "evenness", "spread", "access", "cost"]
        );
        assert_eq!(objective["spread_metres"].as_integer(), Some(500));
        let kinds: Vec<&str> = objective["access_kinds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["school", "kita"]);
        assert_eq!(spread["demand"]["places"].as_integer(), Some(demand));

        // Every file a scenario names is there.
        for table in [&base, &levels, &spread] {
            let input = table["input"].as_table().unwrap();
            let mut paths: Vec<&str> = vec![
                input["districts"].as_str().unwrap(),
                input["sites"].as_str().unwrap(),
            ];
            paths.extend(
                input["facilities"]
                    .as_table()
                    .unwrap()
                    .values()
                    .map(|v| v.as_str().unwrap()),
            );
            for path in paths {
                assert!(folder.join(path).is_file(), "{city}: {path}");
            }
        }
    }
}

#[test]
fn bigger_or_smaller_cities_keep_their_counts() {
    let dir = tempfile::tempdir().unwrap();
    let run = generate(
        &[
            "--city",
            "münster",
            "--districts",
            "60",
            "--sites",
            "800",
            "--residents",
            "120000",
            "--seed",
            "3",
            "--out",
            "small",
        ],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let scenario = dir.path().join("small/scenario.toml");
    let check = quartier(&["check", scenario.to_str().unwrap()], &root());
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(
        check
            .stdout
            .contains("districts: 60 with 120,000 residents"),
        "{}",
        check.stdout
    );
    assert!(check.stdout.contains("sites: 800 ("), "{}", check.stdout);
    // The scenario says how to make the same city again.
    let text = std::fs::read_to_string(&scenario).unwrap();
    assert!(
        text.contains(
            "quartier generate --city muenster --districts 60 --sites 800 --residents 120000 --seed 3"
        ),
        "{text}"
    );
}

#[test]
fn arguments_that_do_not_fit_together_exit_with_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 7] = [
        (
            &["--city", "muenster", "--cells", "10", "--out", "x"],
            "cannot be used with",
        ),
        (
            &["--city", "midsize", "--demo", "--out", "x"],
            "cannot be used with",
        ),
        (
            &[
                "--cells",
                "10",
                "--sites",
                "100",
                "--districts",
                "40",
                "--out",
                "x",
            ],
            "cannot be used with",
        ),
        (&["--residents", "90000", "--out", "x"], "--city <KIND>"),
        (&["--city", "atlantis", "--out", "x"], "muenster"),
        (
            &["--city", "muenster", "--districts", "2", "--out", "x"],
            "--districts must be between 5 and 1,000, found 2",
        ),
        (&["--cells", "10", "--out", "x"], "--sites <SITES>"),
    ];
    for (args, expected) in cases {
        let run = generate(args, dir.path());
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(!dir.path().join("x").exists(), "{args:?} wrote a folder");
    }
    // A folder with the planner's own files is never overwritten.
    std::fs::create_dir(dir.path().join("mine")).unwrap();
    std::fs::write(dir.path().join("mine/notes.txt"), "Ratsbeschluss").unwrap();
    let run = generate(&["--city", "midsize", "--out", "mine"], dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("notes.txt"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mine/notes.txt")).unwrap(),
        "Ratsbeschluss"
    );
}

#[test]
fn grid_scenario_switches_levels_and_spread_on_by_uncommenting() {
    let dir = tempfile::tempdir().unwrap();
    let run = generate(
        &[
            "--cells", "12", "--sites", "600", "--seed", "7", "--out", "grid",
        ],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let names: Vec<String> = std::fs::read_dir(dir.path().join("grid"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 6, "five layers and scenario.toml: {names:?}");
    let text = std::fs::read_to_string(dir.path().join("grid/scenario.toml")).unwrap();
    // The active lines are the same as before: no levels, no objective.
    let active: toml::Table = text.parse().unwrap();
    assert!(active["demand"]["places"].as_integer().unwrap() > 0);
    assert!(active.get("objective").is_none());
    assert!(active["rules"].get("radius").is_none());
    // What the sed lines in the file's comments do.
    let switched: String = text
        .lines()
        .map(|line| {
            if let Some(rest) = line.strip_prefix("places = ") {
                format!("# places = {rest}")
            } else if let Some(rest) = [
                "levels = ",
                "radius = ",
                "[objective]",
                "stages = ",
                "spread_metres = ",
            ]
            .iter()
            .find(|key| line.starts_with(&format!("# {key}")))
            .and(line.strip_prefix("# "))
            {
                rest.to_string()
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let table: toml::Table = switched.parse().unwrap();
    let levels = table["demand"]["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 3);
    assert_eq!(
        levels[2].as_integer(),
        active["demand"]["places"].as_integer()
    );
    assert!(table["demand"].get("places").is_none());
    assert_eq!(table["rules"]["radius"]["metres"].as_integer(), Some(200));
    let stages = table["objective"]["stages"].as_array().unwrap();
    assert!(stages.iter().any(|s| s.as_str() == Some("spread")));
    assert_eq!(table["objective"]["spread_metres"].as_integer(), Some(200));
    assert_eq!(table["solver"]["mip_gap"].as_float(), Some(1e-6));
}
