use geo::Validation;

use super::*;

fn midsize() -> City {
    City::new(&CitySpec::new(CityPreset::Midsize, 7))
}

fn layer(city: &City, name: &str) -> (u64, Vec<u8>) {
    let mut out = Vec::new();
    let n = city.write_layer(name, &mut out).unwrap();
    (n, out)
}

#[test]
fn districts_tile_the_city_without_gaps_or_overlaps() {
    for preset in [CityPreset::Muenster, CityPreset::Midsize] {
        let spec = CitySpec::new(preset, 3);
        let city = City::new(&spec);
        assert_eq!(city.districts.len(), spec.districts as usize);
        for d in &city.districts {
            assert!(area(&d.ring) > 0.0, "{}: counter-clockwise", d.name);
            let mut closed = d.ring.clone();
            closed.push(d.ring[0]);
            let polygon = geo::Polygon::new(geo::LineString::from(closed), vec![]);
            assert!(polygon.is_valid(), "{} is not a simple polygon", d.name);
        }
        // Every point near the centre lies in exactly one district, none in two.
        let centre = preset.profile().centre;
        let (rx, ry) = preset.profile().radii;
        let mut rng = Rng::new(1);
        let mut inside = 0;
        for _ in 0..4_000 {
            let p = (
                centre.0 + rng.range(-1.3, 1.3) * rx,
                centre.1 + rng.range(-1.3, 1.3) * ry,
            );
            let hits = city
                .districts
                .iter()
                .filter(|d| contains(&d.ring, p))
                .count();
            assert!(hits <= 1, "{p:?} lies in {hits} districts");
            if distance(p, centre) < 0.5 * ry {
                assert_eq!(hits, 1, "{p:?} near the centre lies in no district");
            }
            inside += hits;
            assert_eq!(city.district_of(p).is_some(), hits == 1);
        }
        assert!(inside > 1_000, "{inside}");
        // Shared boundaries: every vertex of a district away from the outline is also a
        // vertex of a neighbour (so QGIS sees no slivers).
        let vertices: std::collections::HashMap<(i64, i64), usize> = city
            .districts
            .iter()
            .flat_map(|d| d.ring.iter())
            .fold(Default::default(), |mut counts, p| {
                *counts
                    .entry(((p.0 * 100.0).round() as i64, (p.1 * 100.0).round() as i64))
                    .or_default() += 1;
                counts
            });
        let shared = vertices.values().filter(|&&n| n >= 2).count();
        assert!(
            shared * 2 > vertices.len(),
            "{shared} of {}",
            vertices.len()
        );
    }
}

#[test]
fn residents_add_up_with_a_dense_core_and_sparse_outskirts() {
    let city = midsize();
    let total: u64 = city.districts.iter().map(|d| d.population).sum();
    assert_eq!(total, 240_000);
    let density = |d: &CityDistrict| d.population as f64 / d.area_km2();
    let (core, outskirts): (Vec<&CityDistrict>, Vec<&CityDistrict>) =
        city.districts.iter().partition(|d| d.radius < 0.3);
    assert!(!core.is_empty() && !outskirts.is_empty());
    let mean =
        |list: &[&CityDistrict]| list.iter().map(|d| density(d)).sum::<f64>() / list.len() as f64;
    assert!(mean(&core) > 3.0 * mean(&outskirts));
    let facts = city.facts();
    assert!(facts.largest > 10 * facts.smallest, "{facts:?}");
    assert_eq!(facts.bezirke, 6);
}

#[test]
fn sites_are_clustered_address_points_of_every_kind() {
    let city = midsize();
    let sites: Vec<CitySite> = (0..city.spec.sites).map(|i| city.site(i)).collect();
    let facts = city.facts();
    let share =
        |kind: &str| sites.iter().filter(|s| s.kind == kind).count() as f64 / sites.len() as f64;
    assert!((0.07..0.09).contains(&share("row_house")), "{facts:?}");
    assert!((0.005..0.015).contains(&share("existing")), "{facts:?}");
    assert!(share("hall") > 0.01 && share("shared") > 0.1);
    let with_cost = sites.iter().filter(|s| s.cost.is_some()).count() as f64;
    assert!((0.57..0.63).contains(&(with_cost / sites.len() as f64)));
    for s in &sites {
        match s.kind {
            "flat" => assert!((4..=8).contains(&s.capacity)),
            "row_house" => assert_eq!((s.capacity, s.min_places), (10, Some(10))),
            "shared" => assert!((20..=80).contains(&s.capacity)),
            "hall" => assert!((80..=150).contains(&s.capacity)),
            _ => assert!(s.status == "existing" && s.occupied > 0 && s.occupied <= s.capacity),
        }
        assert_eq!(s.outside, city.district_of(s.at).is_none(), "{}", s.id);
    }
    assert_eq!(sites.iter().filter(|s| s.outside).count(), 12);
    assert!(sites.iter().any(|s| s.status == "excluded"));
    // Address data has clusters: many sites with 10–30 others within 300 m.
    let within = |s: &CitySite| {
        sites
            .iter()
            .filter(|t| distance(s.at, t.at) <= 300.0)
            .count()
    };
    let clustered = sites.iter().step_by(10).filter(|s| within(s) >= 10).count();
    assert!(clustered * 2 > sites.len() / 10, "{clustered}");
    assert_eq!(facts.sites, 6_600);
    assert_eq!(facts.kinds.iter().map(|(_, n)| n).sum::<u64>(), 6_600);
}

#[test]
fn facilities_lie_where_people_live_and_schools_and_kitas_have_seats() {
    let city = midsize();
    for d in city.districts.iter().filter(|d| d.population >= 1_500) {
        assert!(
            city.schools.iter().any(|f| contains(&d.ring, f.at)),
            "no school in {}",
            d.name
        );
    }
    assert!(city
        .schools
        .iter()
        .chain(&city.kitas)
        .all(|f| f.seats.is_some()));
    assert!(city.stops.iter().all(|f| f.seats.is_none()));
    assert!(city.kitas.len() > 2 * city.schools.len());
}

#[test]
fn ids_and_names_look_like_a_city_office_s() {
    let ids = |city: &City, name: &str| -> Vec<serde_json::Value> {
        let (_, bytes) = layer(city, name);
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            value["crs"]["properties"]["name"],
            "urn:ogc:def:crs:EPSG::25832"
        );
        let features = value["features"].as_array().unwrap();
        let ids: Vec<serde_json::Value> = features
            .iter()
            .map(|f| f["properties"]["id"].clone())
            .collect();
        let unique: std::collections::HashSet<String> =
            ids.iter().map(|id| id.to_string()).collect();
        assert_eq!(unique.len(), ids.len(), "{name}: ids are unique");
        ids
    };
    let all = |ids: &[serde_json::Value], number: bool| {
        ids.iter()
            .all(|id| if number { id.is_u64() } else { id.is_string() })
    };
    let muenster = City::new(&CitySpec::new(CityPreset::Muenster, 7));
    let midsize = midsize();
    // Numbers and text, one type per layer.
    assert!(all(&ids(&muenster, "districts.geojson"), true));
    let text_ids = ids(&midsize, "districts.geojson");
    assert!(all(&text_ids, false));
    assert!(text_ids
        .iter()
        .any(|id| id.as_str().is_some_and(|t| t.ends_with("-Süd"))));
    for city in [&muenster, &midsize] {
        assert!(all(&ids(city, "sites.geojson"), true));
        assert!(all(&ids(city, "stops.geojson"), true));
        assert!(all(&ids(city, "schools.geojson"), false));
        assert!(all(&ids(city, "kitas.geojson"), false));
        let names: String = city.districts.iter().map(|d| d.name.as_str()).collect();
        for letter in ['ä', 'ö', 'ü', 'ß'] {
            assert!(names.contains(letter), "no {letter} in {names}");
        }
    }
}

#[test]
fn layers_are_deterministic_and_depend_on_the_seed() {
    let spec = CitySpec {
        sites: 500,
        ..CitySpec::new(CityPreset::Muenster, 11)
    };
    let (a, b) = (City::new(&spec), City::new(&spec));
    let other = City::new(&CitySpec { seed: 12, ..spec });
    for name in super::super::LAYER_FILES {
        let (n, bytes) = layer(&a, name);
        assert_eq!(bytes, layer(&b, name).1, "{name}");
        assert_ne!(bytes, layer(&other, name).1, "{name}");
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["features"].as_array().unwrap().len() as u64, n);
    }
    assert_eq!(a.scenarios(), b.scenarios());
    assert!(a.write_layer("roads.geojson", &mut Vec::new()).is_err());
}

#[test]
fn overrides_change_the_size_and_keep_the_make_up() {
    let spec = CitySpec {
        districts: 120,
        sites: 3_000,
        residents: 400_000,
        ..CitySpec::new(CityPreset::Midsize, 5)
    };
    assert!(validate_city(&spec).is_ok());
    let facts = City::new(&spec).facts();
    assert_eq!(
        (facts.districts, facts.sites, facts.residents),
        (120, 3_000, 400_000)
    );
    assert_eq!(
        spec.command(),
        "quartier generate --city midsize --districts 120 --sites 3000 --residents 400000 --seed 5"
    );
}

#[test]
fn scenarios_carry_the_rules_of_each_case() {
    let city = midsize();
    let files: Vec<(&str, toml::Table)> = city
        .scenarios()
        .into_iter()
        .map(|(name, text)| (name, text.parse().unwrap()))
        .collect();
    let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, super::super::CITY_SCENARIO_FILES);
    let base = &files[0].1;
    assert_eq!(base["demand"]["places"].as_integer(), Some(1_680));
    assert_eq!(base["rules"]["max_share"].as_float(), Some(0.012));
    assert_eq!(base["rules"]["radius"]["metres"].as_integer(), Some(400));
    assert_eq!(
        base["rules"]["radius"]["max_places"].as_integer(),
        Some(150)
    );
    assert_eq!(base["rules"]["access"]["school"].as_integer(), Some(1_200));
    assert_eq!(base["rules"]["access"]["kita"].as_integer(), Some(900));
    let levels = &files[1].1;
    assert_eq!(levels["rules"]["radius"]["metres"].as_integer(), Some(300));
    assert_eq!(
        levels["rules"]["radius"]["max_places"].as_integer(),
        Some(120)
    );
    assert!(levels["demand"].get("places").is_none());
    let steps: Vec<i64> = levels["demand"]["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_integer().unwrap())
        .collect();
    assert_eq!(steps, [560, 1_120, 1_680]);
    let spread = &files[2].1;
    assert_eq!(spread["objective"]["spread_metres"].as_integer(), Some(500));
    let stages = spread["objective"]["stages"].as_array().unwrap();
    assert!(stages.iter().any(|s| s.as_str() == Some("spread")));
    assert!(stages.iter().any(|s| s.as_str() == Some("access")));
    // Access and cost after spread take HiGHS minutes on this city: a time limit.
    assert_eq!(spread["solver"]["time_limit_s"].as_integer(), Some(120));
    assert!(base["solver"].get("time_limit_s").is_none());
}

#[test]
fn bad_sizes_are_explained() {
    let ok = CitySpec::new(CityPreset::Muenster, 1);
    assert!(validate_city(&ok).is_ok());
    for bad in [
        CitySpec { districts: 2, ..ok },
        CitySpec { sites: 5, ..ok },
        CitySpec {
            residents: 100,
            ..ok
        },
        CitySpec {
            districts: 900,
            residents: 100_000,
            ..ok
        },
    ] {
        assert!(validate_city(&bad).is_err(), "{bad:?}");
    }
}
