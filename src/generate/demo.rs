//! The demo city *Musterstadt*: a fictional mid-size German city around E 404000,
//! N 5757000 (EPSG:25832). Districts are Voronoi cells of jittered seeds clipped to an
//! elliptic outline (each cell clipped by the half-planes of its bisectors), so they tile the
//! city without gaps; the centre is denser, and two districts (harbour, forest) have almost
//! no residents and no candidate sites.

use std::io::{self, Write};

use super::geometry::{area, clip_nearer, point_in};
use super::rng::Rng;
use super::streets::{musterstadt, DemoPlaces, Musterstadt, STREETS_FILE};
use super::{
    begin_collection, end_collection, json_string, point_feature, polygon_feature, unknown_layer,
};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSpec {
    pub seed: u64,
}

const CENTRE: (f64, f64) = (404_000.0, 5_757_000.0);
const RADII: (f64, f64) = (8_000.0, 6_500.0);

const NAMES: [&str; 42] = [
    "Altstadt",
    "Südviertel",
    "Kreuzviertel",
    "Hölting",
    "Nordstadt",
    "Mühlenfeld",
    "Großes Feld",
    "Schlossviertel",
    "Bahnhofsviertel",
    "Ostfeld",
    "Westerholt",
    "Lindenhöhe",
    "Am Hafen",
    "Buchenwald",
    "Geistviertel",
    "Rumphorst",
    "Sankt Mauritz",
    "Düstermühle",
    "Kinderhaus",
    "Gievenhof",
    "Angelmodde",
    "Wolbeckfeld",
    "Hiltruper Heide",
    "Amelsbüren",
    "Roxeler Bruch",
    "Nienberge",
    "Sprakel",
    "Handorf",
    "Gremmendorf",
    "Berg Fidel",
    "Mecklenbeck",
    "Aaseestadt",
    "Uppenberg",
    "Coerde",
    "Gelmer",
    "Hohe Ward",
    "Brückenviertel",
    "Schützenhof",
    "Erphoviertel",
    "Herz-Jesu",
    "Pluggendorf",
    "Grüne Aue",
];

struct DemoDistrict {
    id: String,
    name: String,
    ring: Vec<(f64, f64)>,
    population: u64,
    welfare: f64,
    foreign: f64,
    existing: u64,
    /// Harbour and forest: hardly anyone lives there and nothing is offered.
    empty: bool,
}

struct DemoSite {
    id: String,
    kind: &'static str,
    at: (f64, f64),
    footprint: Option<Vec<(f64, f64)>>,
    capacity: u64,
    status: &'static str,
    occupied: u64,
    min_places: Option<u64>,
    cost: Option<u64>,
}

struct DemoFacility {
    id: String,
    name: String,
    at: (f64, f64),
    seats: Option<u64>,
}

struct City {
    districts: Vec<DemoDistrict>,
    sites: Vec<DemoSite>,
    schools: Vec<DemoFacility>,
    kitas: Vec<DemoFacility>,
    stops: Vec<DemoFacility>,
}

fn outline() -> Vec<(f64, f64)> {
    (0..48)
        .map(|i| {
            let a = std::f64::consts::TAU * i as f64 / 48.0;
            (CENTRE.0 + RADII.0 * a.cos(), CENTRE.1 + RADII.1 * a.sin())
        })
        .collect()
}

fn build(seed: u64) -> City {
    let mut rng = Rng::new(seed);
    // District seeds: denser towards the centre, 700–2,000 m apart (less when the city
    // fills up).
    let mut seeds: Vec<(f64, f64)> = Vec::new();
    let mut attempts = 0u32;
    while seeds.len() < 40 {
        attempts += 1;
        let relax = 0.9f64.powi((attempts / 2_000) as i32);
        let r = rng.unit().sqrt() * 0.93;
        let a = rng.range(0.0, std::f64::consts::TAU);
        let p = (
            CENTRE.0 + RADII.0 * r * a.cos(),
            CENTRE.1 + RADII.1 * r * a.sin(),
        );
        let min_gap = (700.0 + 1300.0 * r) * relax;
        if seeds
            .iter()
            .all(|q| (q.0 - p.0).hypot(q.1 - p.1) >= min_gap)
        {
            seeds.push(p);
        }
    }
    let city = outline();
    let mut districts: Vec<DemoDistrict> = Vec::new();
    // The two outermost seeds become harbour and forest.
    let distance = |p: &(f64, f64)| ((p.0 - CENTRE.0) / RADII.0).hypot((p.1 - CENTRE.1) / RADII.1);
    let mut by_distance: Vec<usize> = (0..seeds.len()).collect();
    by_distance.sort_by(|&a, &b| distance(&seeds[b]).total_cmp(&distance(&seeds[a])));
    let empty = [by_distance[0], by_distance[1]];
    for (i, &p) in seeds.iter().enumerate() {
        let mut cell = city.clone();
        for (j, &q) in seeds.iter().enumerate() {
            if i != j {
                cell = clip_nearer(&cell, p, q);
            }
        }
        // Two decimals, as written; counter-clockwise.
        let mut ring: Vec<(f64, f64)> = cell
            .iter()
            .map(|&(x, y)| ((x * 100.0).round() / 100.0, (y * 100.0).round() / 100.0))
            .collect();
        ring.dedup();
        if area(&ring) < 0.0 {
            ring.reverse();
        }
        let r = distance(&p);
        let is_empty = empty.contains(&i);
        let density = if is_empty {
            30.0
        } else {
            9_000.0 * (-2.2 * r * r).exp() * rng.range(0.7, 1.3) + 400.0
        };
        let population = (density * area(&ring) / 1e6).round();
        let deprivation = (rng.range(0.0, 1.0) * 0.7 + (1.0 - r) * 0.3).clamp(0.0, 1.0);
        districts.push(DemoDistrict {
            id: format!("{:02}", i + 1),
            name: match (is_empty, empty.iter().position(|&e| e == i)) {
                (true, Some(0)) => "Stadthafen".to_string(),
                (true, _) => "Stadtwald".to_string(),
                _ => NAMES[i % NAMES.len()].to_string(),
            },
            ring,
            population: population as u64,
            welfare: 0.03 + 0.22 * deprivation,
            foreign: (0.05 + 0.30 * (0.75 * deprivation + 0.25 * rng.unit())).min(0.35),
            existing: if rng.unit() < 0.15 { rng.int(5, 30) } else { 0 },
            empty: is_empty,
        });
    }
    // Scale to about 300,000 residents, keeping each populated district within 2,000–18,000.
    let total: u64 = districts
        .iter()
        .filter(|d| !d.empty)
        .map(|d| d.population)
        .sum();
    let factor = 299_000.0 / total.max(1) as f64;
    for d in districts.iter_mut().filter(|d| !d.empty) {
        d.population = ((d.population as f64 * factor).round() as u64).clamp(2_000, 18_000);
    }

    // Sites: about 1,500, in proportion to population, at least 6 per populated district.
    let residents: u64 = districts.iter().map(|d| d.population).sum();
    let mut sites: Vec<DemoSite> = Vec::new();
    let mut next_id = 1;
    for d in &districts {
        let count = if d.empty {
            0
        } else {
            ((d.population as f64 / residents as f64) * 1_470.0)
                .round()
                .max(6.0) as usize
        };
        for _ in 0..count {
            let at = point_in(&d.ring, &mut rng);
            let roll = rng.unit();
            let (kind, capacity, min_places, cost) = if roll < 0.62 {
                ("flat", rng.int(4, 8), None, rng.int(350, 600))
            } else if roll < 0.74 {
                ("row_house", 10, Some(10), rng.int(400, 700))
            } else if roll < 0.88 {
                ("shared", rng.int(50, 80), None, rng.int(300, 450))
            } else if roll < 0.94 {
                ("hall", rng.int(80, 150), None, rng.int(250, 350))
            } else {
                ("hotel", rng.int(80, 150), None, rng.int(600, 900))
            };
            let status = if rng.unit() < 0.05 {
                "excluded"
            } else {
                "candidate"
            };
            let footprint = (kind == "hall" && rng.unit() < 0.5).then(|| {
                let (w, h) = (rng.range(30.0, 60.0), rng.range(20.0, 35.0));
                vec![
                    (at.0 - w / 2.0, at.1 - h / 2.0),
                    (at.0 + w / 2.0, at.1 - h / 2.0),
                    (at.0 + w / 2.0, at.1 + h / 2.0),
                    (at.0 - w / 2.0, at.1 + h / 2.0),
                ]
            });
            sites.push(DemoSite {
                id: format!("S-{next_id:05}"),
                kind,
                at,
                footprint,
                capacity,
                status,
                occupied: 0,
                min_places,
                cost: (rng.unit() >= 0.1).then_some(cost),
            });
            next_id += 1;
        }
    }
    // Existing accommodation: 25 sites, more of them in the centre.
    let populated: Vec<usize> = (0..districts.len())
        .filter(|&i| !districts[i].empty)
        .collect();
    for _ in 0..25 {
        let d = &districts[populated[(rng.next_u64() % populated.len() as u64) as usize]];
        let capacity = rng.int(40, 150);
        sites.push(DemoSite {
            id: format!("S-{next_id:05}"),
            kind: "existing",
            at: point_in(&d.ring, &mut rng),
            footprint: None,
            capacity,
            status: "existing",
            occupied: rng.int(20, capacity),
            min_places: None,
            cost: Some(rng.int(300, 500)),
        });
        next_id += 1;
    }
    // Three offers just outside the city limits: quartier must report them as outside.
    for k in 0..3 {
        let a = 0.7 + 2.1 * k as f64;
        sites.push(DemoSite {
            id: format!("S-{next_id:05}"),
            kind: "flat",
            at: (
                CENTRE.0 + (RADII.0 + 400.0) * a.cos(),
                CENTRE.1 + (RADII.1 + 400.0) * a.sin(),
            ),
            footprint: None,
            capacity: 6,
            status: "candidate",
            occupied: 0,
            min_places: None,
            cost: Some(450),
        });
        next_id += 1;
    }

    // Facilities where people live.
    let facilities =
        |count: usize, prefix: &str, label: &str, seats: Option<(u64, u64)>, rng: &mut Rng| {
            (0..count)
                .map(|i| {
                    let mut target = rng.unit() * residents as f64;
                    let d = districts
                        .iter()
                        .find(|d| {
                            target -= d.population as f64;
                            target < 0.0
                        })
                        .unwrap_or(&districts[0]);
                    DemoFacility {
                        id: format!("{prefix}-{:03}", i + 1),
                        name: format!("{label} {}", d.name),
                        at: point_in(&d.ring, rng),
                        seats: seats.map(|(low, high)| rng.int(low, high)),
                    }
                })
                .collect::<Vec<_>>()
        };
    let schools = facilities(60, "G", "Grundschule", Some((5, 60)), &mut rng);
    let kitas = facilities(150, "K", "Kita", Some((2, 20)), &mut rng);
    let stops = facilities(300, "H", "Haltestelle", None, &mut rng);
    City {
        districts,
        sites,
        schools,
        kitas,
        stops,
    }
}

/// Where Musterstadt's sites, schools and Kitas lie (a hall's footprint by its centre).
#[cfg(test)]
pub(crate) fn demo_places(seed: u64) -> [Vec<(f64, f64)>; 3] {
    places(&build(seed))
}

fn places(city: &City) -> [Vec<(f64, f64)>; 3] {
    let at = |list: &[DemoFacility]| list.iter().map(|f| f.at).collect::<Vec<_>>();
    [
        city.sites.iter().map(|s| s.at).collect(),
        at(&city.schools),
        at(&city.kitas),
    ]
}

/// Musterstadt's streets, around its sites and facilities.
fn streets(city: &City, seed: u64) -> Musterstadt {
    let [sites, schools, kitas] = places(city);
    musterstadt(&DemoPlaces {
        seed,
        centre: CENTRE,
        radii: RADII,
        sites: &sites,
        schools: &schools,
        kitas: &kitas,
    })
}

/// Writes one layer of Musterstadt; returns the number of features.
pub fn write_demo_layer(spec: &DemoSpec, layer: &str, out: &mut impl Write) -> io::Result<u64> {
    let city = build(spec.seed);
    if layer == STREETS_FILE {
        return streets(&city, spec.seed).network.write(out);
    }
    begin_collection(out)?;
    let mut written = 0u64;
    match layer {
        "districts.geojson" => {
            for d in &city.districts {
                let mut properties = format!(
                    "\"id\":\"{}\",\"name\":{},\"population\":{},\"welfare_share\":{:.3},\"foreign_share\":{:.3}",
                    d.id,
                    json_string(&d.name),
                    d.population,
                    d.welfare,
                    d.foreign
                );
                if d.existing > 0 {
                    properties += &format!(",\"existing\":{}", d.existing);
                }
                polygon_feature(out, written == 0, &d.ring, &properties)?;
                written += 1;
            }
        }
        "sites.geojson" => {
            for s in &city.sites {
                let mut properties = format!(
                    "\"id\":\"{}\",\"kind\":\"{}\",\"capacity\":{},\"status\":\"{}\",\"occupied\":{}",
                    s.id, s.kind, s.capacity, s.status, s.occupied
                );
                if let Some(min) = s.min_places {
                    properties += &format!(",\"min_places\":{min}");
                }
                if let Some(cost) = s.cost {
                    properties += &format!(",\"cost\":{cost}");
                }
                match &s.footprint {
                    Some(ring) => polygon_feature(out, written == 0, ring, &properties)?,
                    None => point_feature(out, written == 0, s.at.0, s.at.1, &properties)?,
                }
                written += 1;
            }
        }
        "schools.geojson" | "kitas.geojson" | "stops.geojson" => {
            let list = match layer {
                "schools.geojson" => &city.schools,
                "kitas.geojson" => &city.kitas,
                _ => &city.stops,
            };
            for f in list {
                let mut properties =
                    format!("\"id\":\"{}\",\"name\":{}", f.id, json_string(&f.name));
                if let Some(seats) = f.seats {
                    properties += &format!(",\"seats\":{seats}");
                }
                point_feature(out, written == 0, f.at.0, f.at.1, &properties)?;
                written += 1;
            }
        }
        other => return Err(unknown_layer(other)),
    }
    end_collection(out)?;
    Ok(written)
}

/// The statistics office's table for Musterstadt, as offices send it: semicolons, decimal
/// commas, Windows-1252 (umlauts in the names), percentages, and a totals row at the end.
/// Columns: `Nr` (the district id as a number, "7" for the layer's "07"), `Bezirk`,
/// `Einwohner`, `SGB II-Quote` (recipients of basic income support, % of residents),
/// `Ausländeranteil` (%), `Anteil unter 18` (%), `Kita-Plätze`. Population and the two
/// shares are those of the district layer; the age and Kita figures come from their own
/// random stream, so the layers do not change.
pub fn write_demo_statistics(spec: &DemoSpec, out: &mut impl Write) -> io::Result<u64> {
    let city = build(spec.seed);
    let mut rng = Rng::for_item(spec.seed, 0x5747_4154, 0);
    let mut text = String::from(
        "Nr;Bezirk;Einwohner;SGB II-Quote;Ausländeranteil;Anteil unter 18;Kita-Plätze\r\n",
    );
    let german = |x: f64| format!("{x:.1}").replace('.', ",");
    let (mut residents, mut welfare, mut foreign, mut young, mut kita) =
        (0u64, 0.0, 0.0, 0.0, 0u64);
    for d in &city.districts {
        let under_18 = (0.12 + 0.10 * d.welfare + rng.range(0.0, 0.06)).min(0.3);
        let places = if d.empty {
            0
        } else {
            ((d.population as f64 * under_18 * rng.range(0.08, 0.16)).round()) as u64
        };
        let number: u64 = d.id.parse().unwrap_or(0);
        text += &format!(
            "{number};{};{};{};{};{};{places}\r\n",
            d.name,
            d.population,
            german(d.welfare * 100.0),
            german(d.foreign * 100.0),
            german(under_18 * 100.0)
        );
        let p = d.population as f64;
        residents += d.population;
        welfare += d.welfare * p;
        foreign += d.foreign * p;
        young += under_18 * p;
        kita += places;
    }
    let r = residents.max(1) as f64;
    text += &format!(
        "Summe;Musterstadt insgesamt;{residents};{};{};{};{kita}\r\n",
        german(welfare / r * 100.0),
        german(foreign / r * 100.0),
        german(young / r * 100.0)
    );
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    out.write_all(&bytes)?;
    Ok(city.districts.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::super::geometry::contains;
    use super::*;

    #[test]
    fn statistics_are_german_windows_1252_with_a_totals_row() {
        let mut bytes = Vec::new();
        let rows = write_demo_statistics(&DemoSpec { seed: 2015 }, &mut bytes).unwrap();
        assert_eq!(rows, 40);
        let (text, _, bad) = encoding_rs::WINDOWS_1252.decode(&bytes);
        assert!(!bad);
        assert!(std::str::from_utf8(&bytes).is_err(), "not UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 42);
        assert!(lines[0].starts_with("Nr;Bezirk;Einwohner;SGB II-Quote;Ausländeranteil"));
        assert!(lines[41].starts_with("Summe;"));
        assert!(text.contains("Hölting") || text.contains("Südviertel"));
        assert!(lines[1].split(';').nth(3).unwrap().contains(','));
    }

    #[test]
    fn districts_tile_the_city_without_overlap() {
        let city = build(2015);
        assert_eq!(city.districts.len(), 40);
        let residents: u64 = city.districts.iter().map(|d| d.population).sum();
        assert!((250_000..=350_000).contains(&residents), "{residents}");
        let outline = outline();
        let mut rng = Rng::new(1);
        for _ in 0..500 {
            let p = (
                rng.range(CENTRE.0 - RADII.0, CENTRE.0 + RADII.0),
                rng.range(CENTRE.1 - RADII.1, CENTRE.1 + RADII.1),
            );
            let hits = city
                .districts
                .iter()
                .filter(|d| contains(&d.ring, p))
                .count();
            assert_eq!(hits, usize::from(contains(&outline, p)), "{p:?}");
        }
        for d in &city.districts {
            assert!(area(&d.ring) > 0.0, "counter-clockwise");
        }
    }

    #[test]
    fn sites_of_every_kind_and_some_outside() {
        let city = build(2015);
        assert!(
            (1_300..=1_700).contains(&city.sites.len()),
            "{}",
            city.sites.len()
        );
        for kind in ["flat", "row_house", "shared", "hall", "hotel", "existing"] {
            assert!(city.sites.iter().any(|s| s.kind == kind), "{kind}");
        }
        let outside = city
            .sites
            .iter()
            .filter(|s| !city.districts.iter().any(|d| contains(&d.ring, s.at)))
            .count();
        assert_eq!(outside, 3);
    }

    #[test]
    fn layers_are_deterministic_json() {
        let spec = DemoSpec { seed: 2015 };
        for layer in super::super::LAYER_FILES {
            let mut a = Vec::new();
            let n = write_demo_layer(&spec, layer, &mut a).unwrap();
            let mut b = Vec::new();
            write_demo_layer(&spec, layer, &mut b).unwrap();
            assert_eq!(a, b);
            let value: serde_json::Value = serde_json::from_slice(&a).unwrap();
            assert_eq!(value["features"].as_array().unwrap().len() as u64, n);
        }
        let mut other = Vec::new();
        write_demo_layer(&DemoSpec { seed: 1 }, "sites.geojson", &mut other).unwrap();
        let mut mine = Vec::new();
        write_demo_layer(&spec, "sites.geojson", &mut mine).unwrap();
        assert_ne!(other, mine);
    }
}
