//! Distances on foot, end to end: a small town cut by a river with one bridge, its streets as
//! a line layer, schools on the south bank. The plan, the sites layer, the routes and the
//! summary measure the walk; `verify` measures it on its own.

mod common;

use std::path::Path;

use common::*;
use serde_json::{json, Value};

/// Two districts of 1 km × 1 km side by side (West, Ost). The river runs along y = 500 and is
/// crossed only by the bridge at x = 1,900 (in Ost). The school stands on the south bank in
/// West. North-bank sites are 150 m from the school in a straight line, but in West the
/// walk goes round by the bridge (about 3.5 km); south-bank sites are close on foot.
/// `S-Wiese` lies in a meadow 400 m from every street.
fn town(dir: &Path) {
    let districts = vec![
        square("West", 0.0, 0.0, 1000.0, 2000.0),
        square("Ost", 1000.0, 0.0, 1000.0, 2000.0),
    ];
    let sites = vec![
        site("S-Nord-West", 400.0, 600.0, 40),
        site("S-Süd-West", 500.0, 300.0, 40),
        site("S-Nord-Ost", 1850.0, 620.0, 40),
        site("S-Süd-Ost", 1300.0, 380.0, 40),
        site("S-Wiese", 1500.0, 900.0 + 0.0, 40),
    ];
    write_layers(dir, &districts, &sites);
    let at = |x: f64, y: f64| json!([ORIGIN.0 + x, ORIGIN.1 + y]);
    let crs = json!({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}});
    let street = |id: Value, name: &str, points: &[(f64, f64)]| {
        json!({"type": "Feature", "id": id,
               "geometry": {"type": "LineString",
                            "coordinates": points.iter().map(|&(x, y)| at(x, y)).collect::<Vec<_>>()},
               "properties": {"name": name}})
    };
    write_json(
        &dir.join("streets.geojson"),
        &json!({"type": "FeatureCollection", "crs": crs, "features": [
            street(json!("N-1"), "Nordufer", &[(0.0, 550.0), (400.0, 550.0), (1850.0, 550.0), (1900.0, 550.0), (2000.0, 550.0)]),
            street(json!(2), "Südufer", &[(0.0, 450.0), (400.0, 450.0), (1900.0, 450.0), (2000.0, 450.0)]),
            street(json!(3), "Mühlenbrücke", &[(1900.0, 550.0), (1900.0, 450.0)]),
            street(json!("4"), "Schulweg", &[(400.0, 450.0), (400.0, 300.0)]),
            street(json!("5"), "Am Nordfeld", &[(1850.0, 550.0), (1850.0, 620.0)]),
        ]}),
    );
    write_json(
        &dir.join("schools.geojson"),
        &json!({"type": "FeatureCollection", "crs": crs, "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": at(400.0, 420.0)},
             "properties": {"id": "Grundschule Süd"}},
        ]}),
    );
}

fn scenario(dir: &Path, network: bool) {
    let network = if network {
        "network = \"streets.geojson\"\n"
    } else {
        ""
    };
    std::fs::write(
        dir.join("scenario.toml"),
        format!(
            "name = \"Flussstadt\"\n[input]\ndistricts = \"districts.geojson\"\nsites = \"sites.geojson\"\n{network}\n[input.facilities]\nschool = \"schools.geojson\"\n\n[demand]\nplaces = 80\n\n[rules]\nmax_per_site = 40\n\n[rules.access]\nschool = 2000\n"
        ),
    )
    .unwrap();
}

fn site_feature<'a>(layer: &'a Value, id: &str) -> Option<&'a Value> {
    layer["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["id"] == id)
}

#[test]
fn the_plan_walks_round_by_the_bridge() {
    let dir = tempfile::tempdir().unwrap();
    town(dir.path());
    scenario(dir.path(), true);

    let check = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(
        check
            .stdout
            .contains("street network: 11 nodes, 10 edges, 4.3 km in 1 connected part"),
        "{}",
        check.stdout
    );
    assert!(
        check
            .stdout
            .contains("sites off the network (more than 300 m from every street): 1"),
        "{}",
        check.stdout
    );

    let run = quartier(&["solve", "scenario.toml", "--out", "plan"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = dir.path().join("plan");
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["distance"], "network");
    assert_eq!(summary["network"]["parts"], 1);
    assert_eq!(summary["network"]["sites_off_network"], 1);
    assert_eq!(summary["network"]["facilities_off_network"]["school"], 0);
    // The meadow site reaches nothing; the north-west site is 3.5 km away on foot.
    assert_eq!(summary["network"]["sites_unreachable"]["school"], 1);
    assert_eq!(summary["sites_excluded"]["unreachable"], 1);
    assert_eq!(summary["sites_excluded"]["access"], 1);
    // West can only use its south-bank site: 40 of its fair share of 40; Ost gets 40.
    assert_eq!(summary["placed"], 80);

    let sites = read_json(&out.join("sites.geojson"));
    let north_west = site_feature(&sites, "S-Nord-West");
    assert!(north_west.is_none(), "no places north of the river in West");
    let south_west = site_feature(&sites, "S-Süd-West").expect("used");
    // The site joins the Schulweg at its end (400, 300), 100 m away, then walks 120 m up
    // to the school, which stands on it; straight: √(100² + 120²) = 156 m.
    assert_eq!(south_west["properties"]["dist_school_m"], 220);
    assert_eq!(south_west["properties"]["line_school_m"], 156);
    let north_east = site_feature(&sites, "S-Nord-Ost").expect("used");
    let walk = north_east["properties"]["dist_school_m"].as_u64().unwrap();
    let line = north_east["properties"]["line_school_m"].as_u64().unwrap();
    // 70 m down Am Nordfeld, 50 m to the bridge, 100 m across, 1,500 m west along the
    // Südufer and 30 m down the Schulweg to the school.
    assert_eq!(walk, 70 + 50 + 100 + 1500 + 30);
    assert!(line < walk);

    let routes = read_json(&out.join("routes.geojson"));
    let features = routes["features"].as_array().unwrap();
    assert_eq!(features.len(), 2, "one way per used site: {routes}");
    for f in features {
        assert_eq!(f["geometry"]["type"], "LineString");
        assert_eq!(f["properties"]["kind"], "school");
        assert_eq!(f["properties"]["facility"], "Grundschule Süd");
        let metres = f["properties"]["metres"].as_u64().unwrap();
        let straight = f["properties"]["line_metres"].as_u64().unwrap();
        assert!(metres >= straight, "{f}");
        let coordinates = f["geometry"]["coordinates"].as_array().unwrap();
        assert!(coordinates.len() >= 3, "{f}");
        // RFC 7946: longitude/latitude near Münster.
        let lon = coordinates[0][0].as_f64().unwrap();
        assert!((7.0..8.0).contains(&lon), "{f}");
    }
    let over_the_bridge = features
        .iter()
        .find(|f| f["properties"]["site"] == "S-Nord-Ost")
        .unwrap();
    assert_eq!(over_the_bridge["properties"]["metres"], walk);
    assert!(out.join("routes.qml").exists());
    assert!(!routes.to_string().contains("\"crs\""));

    assert!(run.stdout.contains("routes.geojson"), "{}", run.stdout);
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("<h2>Wege zu Fuß</h2>"));
    // One row for schools: 2 sites, S-Nord-West ruled out by the walk, S-Wiese unreachable.
    assert!(
        page.contains("<td>school</td><td>2</td><td>985 m</td>"),
        "{}",
        &page[page.find("Wege zu Fuß").unwrap()..][..1500]
    );
    assert!(page.contains("<td>höchstens 2.000 m zu Fuß</td><td>1</td><td>1</td>"));
    assert!(page.contains("S-Nord-Ost → Grundschule Süd (school): 1.750 m zu Fuß"));

    verifies("scenario.toml", "plan", dir.path());
}

#[test]
fn a_plan_made_in_a_straight_line_breaks_the_walking_rule() {
    let dir = tempfile::tempdir().unwrap();
    town(dir.path());
    scenario(dir.path(), false);
    let run = quartier(&["solve", "scenario.toml", "--out", "line"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let summary = read_json(&dir.path().join("line/summary.json"));
    assert_eq!(summary["distance"], "straight");
    assert!(summary.get("network").is_none());

    // The same plan checked on foot: a site the straight line allowed is too far, or one
    // off the network took places.
    scenario(dir.path(), true);
    let verify = quartier(
        &["verify", "scenario.toml", "line/sites.geojson"],
        dir.path(),
    );
    let sites = read_json(&dir.path().join("line/sites.geojson"));
    let uses_far_sites = ["S-Nord-West", "S-Wiese"]
        .iter()
        .any(|id| site_feature(&sites, id).is_some_and(|f| f["properties"]["places"] != 0));
    // In a straight line both West sites are 150 m from the school; the plan takes the
    // first, north of the river.
    assert!(uses_far_sites, "{sites}");
    assert_eq!(verify.code, 1, "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains(
            "site \"S-Nord-West\": nearest school is 3,180 m away on foot (limit 2,000 m)"
        ),
        "{}",
        verify.stdout
    );
}

#[test]
fn without_routes_no_routes_layer_is_written() {
    let dir = tempfile::tempdir().unwrap();
    town(dir.path());
    scenario(dir.path(), true);
    let mut text = std::fs::read_to_string(dir.path().join("scenario.toml")).unwrap();
    text += "\n[network]\nroutes = false\nmax_snap_m = 450\n";
    std::fs::write(dir.path().join("scenario.toml"), text).unwrap();
    let run = quartier(&["solve", "scenario.toml", "--out", "plan"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!dir.path().join("plan/routes.geojson").exists());
    let summary = read_json(&dir.path().join("plan/summary.json"));
    // With 450 m the meadow site joins Am Nordfeld's end... it is 400 m from the Nordufer.
    assert_eq!(summary["network"]["sites_off_network"], 0);
}
