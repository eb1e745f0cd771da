//! The output as planners see it: the folder opened in real QGIS (headless, with the
//! default styles applied and the map rendered to a PNG), and report.html rendered by
//! headless Chromium offline. `make test` installs both (python3-qgis, chromium); without
//! them these tests say so and pass, unless QUARTIER_REQUIRE_VIEWERS=1 (set by `make test`).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn required() -> bool {
    std::env::var_os("QUARTIER_REQUIRE_VIEWERS").is_some_and(|v| v == "1")
}

fn available(program: &str, args: &[&str]) -> bool {
    let ok = Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !required(),
            "{program} is needed for this test (make test installs it)"
        );
        eprintln!("skipped: {program} {args:?} is not available");
    }
    ok
}

/// A solved hand-built city with umlauts, an existing site and a site outside.
fn solved_city(dir: &Path) -> std::path::PathBuf {
    let districts = vec![
        square("Nord", 0.0, 0.0, 1000.0, 3000.0),
        square("Süd", 1000.0, 0.0, 1000.0, 1000.0),
        square("Große Heide", 0.0, 1000.0, 2000.0, 2500.0),
    ];
    let mut sites = vec![
        site("S-1", 500.0, 500.0, 50),
        site("S-2", 1500.0, 500.0, 50),
        site("S-3", 1600.0, 600.0, 50),
        site("S-4", 700.0, 1500.0, 20),
        site("S-5", 1500.0, 1700.0, 20),
    ];
    sites[2].status = quartier::model::SiteStatus::Existing;
    sites[2].occupied = 12;
    write_layers(dir, &districts, &sites);
    write_scenario(dir, 60, "");
    let run = quartier(&["solve", "scenario.toml", "--out", "out", "--quiet"], dir);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let verify = quartier(&["verify", "scenario.toml", "out/sites.geojson"], dir);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
    dir.join("out")
}

#[test]
fn the_output_opens_in_qgis_with_its_styles() {
    if !available("/usr/bin/python3", &["-c", "import qgis.core"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = solved_city(dir.path());
    let sites = read_json(&out.join("sites.geojson"))["features"]
        .as_array()
        .unwrap()
        .len();
    let png = dir.path().join("qgis.png");
    let run = Command::new("/usr/bin/python3")
        .arg(root().join("tests/qgis/check_output.py"))
        .arg(&out)
        .arg(sites.to_string())
        .arg("3")
        .arg(&png)
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("ok districts: 3 features"), "{stdout}");
    assert!(
        stdout.contains("graduatedSymbol") && stdout.contains("categorizedSymbol"),
        "{stdout}"
    );
    assert!(
        std::fs::metadata(&png).unwrap().len() > 5_000,
        "the map was rendered"
    );
}

#[test]
fn the_report_renders_offline_in_chromium() {
    if !available("chromium", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = solved_city(dir.path());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Große Heide") && html.contains("Süd"));
    assert!(
        !html.contains("http://") || !html.contains("<script"),
        "no scripts, no network"
    );
    let report = format!("file://{}", out.join("report.html").display());
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let profile = dir.path().join("profile");
    let png = dir.path().join("report.png");
    let shot = Command::new("chromium")
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1100,2200")
        .arg(&report)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&shot.stderr);
    assert!(shot.status.success(), "{log}");
    assert!(
        !log.contains("Uncaught") && !log.contains(":CONSOLE"),
        "console errors: {log}"
    );
    assert!(
        std::fs::metadata(&png).unwrap().len() > 20_000,
        "screenshot taken"
    );
    let dom = Command::new("chromium")
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&report)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("Segregationsindex D"), "key figures rendered");
    assert!(dom.contains("<svg"), "map rendered");
}
