use super::*;
use crate::model::Spacing;

const MINIMAL: &str = r#"
[input]
districts = "../data/d.geojson"
sites = "s.geojson"
[demand]
places = 100
"#;

fn parse(text: &str) -> Result<Scenario, String> {
    Scenario::parse(text, Path::new("scenarios/test.toml")).map_err(|e| e.to_string())
}

#[test]
fn defaults_follow_the_contract() {
    let s = parse(MINIMAL).unwrap();
    assert_eq!(s.name, "test");
    assert_eq!(s.districts, PathBuf::from("data/d.geojson"));
    assert_eq!(s.sites, PathBuf::from("scenarios/s.geojson"));
    assert_eq!(s.crs, "EPSG:4326");
    assert_eq!(s.rules.max_per_site, 50);
    assert_eq!(s.stages, Stage::DEFAULT.to_vec());
    assert_eq!(s.district_fields.weight, "population");
    assert_eq!(s.solver.threads, 0);
    assert_eq!(s.output_dir(None), PathBuf::from("out/test"));
    assert_eq!(s.output_dir(Some(Path::new("x"))), PathBuf::from("x"));
}

#[test]
fn full_contract_example_parses() {
    let text = r#"
name = "Musterstadt – max 50 per site"
[input]
districts = "../data/musterstadt/districts.geojson"
sites = "../data/musterstadt/sites.geojson"
crs = "EPSG:4326"
metric_crs = "EPSG:25832"
[input.facilities]
school = "../data/musterstadt/schools.geojson"
transit = "../data/musterstadt/stops.geojson"
[fields.districts]
id = "id"
name = "name"
population = "population"
weight = "population"
existing = "existing"
[fields.sites]
id = "id"
capacity = "capacity"
status = "status"
occupied = "occupied"
min_places = "min_places"
cost = "cost"
[demand]
places = 2300
[rules]
max_per_site = 50
max_share = 0.015
radius = { metres = 500, max_places = 100 }
access = { school = 1500, transit = 600 }
seats = { kind = "school", per_place = 0.25 }
[objective]
stages = ["shortfall", "evenness", "worst", "cost"]
[solver]
time_limit_s = 60
mip_gap = 0.0001
threads = 0
[output]
dir = "../out/musterstadt"
"#;
    let s = parse(text).unwrap();
    assert_eq!(s.demand, 2300);
    assert_eq!(s.rules.max_share, Some(0.015));
    assert_eq!(
        s.rules.spacing,
        Some(Spacing {
            metres: 500.0,
            max_places: 100
        })
    );
    assert_eq!(s.rules.access.len(), 2);
    assert_eq!(s.facilities[0].0, "school");
    assert_eq!(s.output_dir(None), PathBuf::from("out/musterstadt"));
    assert_eq!(s.solver.mip_gap, 0.0001);
}

#[test]
fn unknown_keys_are_named_with_a_suggestion() {
    let text = MINIMAL.replace("[demand]", "[rules]\nmax_per_sit = 50\n[demand]");
    let err = parse(&text).unwrap_err();
    assert_eq!(
        err,
        "scenarios/test.toml: unknown key \"max_per_sit\" in [rules] (did you mean \"max_per_site\"?)"
    );
    let err = parse(&MINIMAL.replace("[demand]", "[fields.sites]\ncapacty = \"cap\"\n[demand]"))
        .unwrap_err();
    assert!(
        err.contains("\"capacty\" in [fields.sites] (did you mean \"capacity\"?)"),
        "{err}"
    );
    let err = parse(&format!("nmae = \"x\"\n{MINIMAL}")).unwrap_err();
    assert!(
        err.contains("unknown key \"nmae\" in the top level (did you mean \"name\"?)"),
        "{err}"
    );
}

#[test]
fn demand_must_be_a_positive_whole_number() {
    for bad in ["0", "-5", "12.5", "\"many\""] {
        let err = parse(&MINIMAL.replace("places = 100", &format!("places = {bad}"))).unwrap_err();
        assert!(err.contains("positive whole number"), "{bad}: {err}");
    }
    assert_eq!(parse(&MINIMAL.replace("100", "100.0")).unwrap().demand, 100);
}

#[test]
fn toml_syntax_errors_give_line_and_column() {
    let err = parse("[input\ndistricts = 1").unwrap_err();
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn stages_keep_their_order_and_evenness() {
    let with = |stages: &str| parse(&format!("{MINIMAL}\n[objective]\nstages = {stages}\n"));
    assert_eq!(
        with(r#"["shortfall", "evenness", "cost"]"#).unwrap().stages,
        vec![Stage::Shortfall, Stage::Evenness, Stage::Cost]
    );
    assert!(with(r#"["shortfall", "worst"]"#).is_err());
    assert!(with(r#"["shortfall", "evenes"]"#)
        .unwrap_err()
        .contains("did you mean \"evenness\""));
}

#[test]
fn access_must_name_a_facility_layer() {
    let text = MINIMAL.replace("[demand]", "[rules]\naccess = { school = 1000 }\n[demand]");
    assert!(parse(&text).unwrap_err().contains("no such layer"));
}

#[test]
fn normalise_removes_parent_steps() {
    assert_eq!(normalise(Path::new("a/../b/./c")), PathBuf::from("b/c"));
    assert_eq!(normalise(Path::new("../x")), PathBuf::from("../x"));
}

#[test]
fn network_settings_with_their_defaults_and_only_with_a_layer() {
    let with_network = MINIMAL.replace("[demand]", "network = \"streets.geojson\"\n[demand]");
    let network = parse(&with_network).unwrap().network.unwrap();
    assert_eq!(network.file, PathBuf::from("scenarios/streets.geojson"));
    assert_eq!(network.max_snap_m, 300.0);
    assert!(network.routes);
    assert!(parse(MINIMAL).unwrap().network.is_none());

    let set = parse(&format!(
        "{with_network}\n[network]\nmax_snap_m = 120.5\nroutes = false\n"
    ))
    .unwrap()
    .network
    .unwrap();
    assert_eq!((set.max_snap_m, set.routes), (120.5, false));

    let err = parse(&format!("{MINIMAL}\n[network]\nmax_snap_m = 200\n")).unwrap_err();
    assert_eq!(
        err,
        "scenarios/test.toml: [network] is set but [input] has no network; add network = \"streets.geojson\" (a line layer of the streets) to [input]"
    );
    for bad in ["0", "-50", "nan"] {
        let err = parse(&format!("{with_network}\n[network]\nmax_snap_m = {bad}\n")).unwrap_err();
        assert!(
            err.contains("[network] max_snap_m must be a positive number of metres"),
            "{bad}: {err}"
        );
    }
    let err = parse(&format!("{with_network}\n[network]\nmax_snap = 200\n")).unwrap_err();
    assert!(
        err.contains("unknown key \"max_snap\" in [network] (did you mean \"max_snap_m\"?)"),
        "{err}"
    );
}
