//! The steps of `quartier solve` measured separately on generated city grids: load
//! (parse + reproject), index (R-trees: district of each site, nearest facilities), build
//! (the model's data: room per site, district caps, spacing neighbourhoods), solve (the
//! HiGHS program where one is needed) and write.
//!
//! Sizes: 10,000, 100,000 and 1,000,000 sites (the largest only with
//! `QUARTIER_BENCH_LARGE=1`, as one run takes seconds), and the solve with the spacing rule
//! on 20,000 sites; load and solve of the realistic cities (`generate --city`): the
//! Münster-like city and the mid-size city benchmark. Fixed seeds, so every run measures the
//! same inputs. Run with `cargo bench --bench pipeline` (one group: `-- city`). The group
//! `walks` measures distances on foot on the same grids with their street grid.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use quartier::explain::{limited_by, shortfall_reasons};
use quartier::generate::{
    grid_scenario_toml, grid_streets_scenario, write_grid_layer, write_grid_streets, City,
    CityPreset, CitySpec, GridSpec, LAYER_FILES, STREETS_FILE,
};
use quartier::io::output::{summary, write_plan, write_summary};
use quartier::io::plan_report::shown_sites;
use quartier::io::{load_instance, read_scenario, OutputFolder, PlanReport};
use quartier::metrics::figures;
use quartier::solve::{solve, Prepared};
use quartier::spatial::Geography;
use serde_json::Map;

// The same allocator as the binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn generate(dir: &Path, cells: u32, sites: u64) -> std::path::PathBuf {
    let spec = GridSpec {
        cells,
        sites,
        seed: 7,
    };
    for layer in LAYER_FILES {
        let mut out = BufWriter::new(File::create(dir.join(layer)).unwrap());
        write_grid_layer(&spec, layer, &mut out).unwrap();
    }
    let scenario = dir.join("scenario.toml");
    std::fs::write(&scenario, grid_scenario_toml(&spec)).unwrap();
    scenario
}

/// A scenario beside the grid's `scenario.toml` that reads its sites with one district around
/// them and no facilities: what `load sites` measures is reading the sites.
fn sites_only(dir: &Path, scenario: &quartier::scenario::Scenario) -> std::path::PathBuf {
    let instance = load_instance(scenario).unwrap();
    let (mut low, mut high) = ([f64::MAX; 2], [f64::MIN; 2]);
    for site in &instance.sites {
        for k in 0..2 {
            low[k] = low[k].min(site.position[k] - 1.0);
            high[k] = high[k].max(site.position[k] + 1.0);
        }
    }
    let ring = [
        [low[0], low[1]],
        [high[0], low[1]],
        [high[0], high[1]],
        [low[0], high[1]],
        [low[0], low[1]],
    ];
    let districts = serde_json::json!({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": instance.metric_crs}},
        "features": [{"type": "Feature", "properties": {"id": "all", "name": "all", "population": 1000},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}}]
    });
    std::fs::write(dir.join("one_district.geojson"), districts.to_string()).unwrap();
    let path = dir.join("sites_only.toml");
    std::fs::write(
        &path,
        "name = \"sites only\"\n[input]\ndistricts = \"one_district.geojson\"\nsites = \"sites.geojson\"\n[demand]\nplaces = 100\n",
    )
    .unwrap();
    path
}

fn sizes() -> Vec<(u32, u64)> {
    let mut sizes = vec![(40, 10_000), (100, 100_000)];
    if std::env::var_os("QUARTIER_BENCH_LARGE").is_some() {
        sizes.push((200, 1_000_000));
    }
    sizes
}

fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    for (cells, sites) in sizes() {
        let dir = tempfile::tempdir().unwrap();
        let scenario_path = generate(dir.path(), cells, sites);
        let scenario = read_scenario(&scenario_path).unwrap();
        group.bench_with_input(BenchmarkId::new("load", sites), &scenario, |b, s| {
            b.iter(|| load_instance(s).unwrap())
        });
        // Reading the sites alone (the target of reading 1M GeoJSON sites in under 1 s).
        let only = read_scenario(&sites_only(dir.path(), &scenario)).unwrap();
        group.bench_with_input(BenchmarkId::new("load sites", sites), &only, |b, s| {
            b.iter(|| load_instance(s).unwrap())
        });
        let instance = load_instance(&scenario).unwrap();
        group.bench_with_input(BenchmarkId::new("index", sites), &instance, |b, i| {
            b.iter(|| Geography::of(i))
        });
        let geography = Geography::of(&instance);
        group.bench_with_input(BenchmarkId::new("build", sites), &geography, |b, g| {
            b.iter(|| Prepared::new(&instance, g))
        });
        let prepared = Prepared::new(&instance, &geography);
        group.bench_with_input(BenchmarkId::new("solve", sites), &prepared, |b, p| {
            b.iter(|| solve(&instance, p).unwrap())
        });
        let solution = solve(&instance, &prepared).unwrap();
        let figures = figures(&instance, &geography.site_district, &solution.plan);
        let limited = limited_by(&instance, &prepared, &solution.plan);
        let reasons = shortfall_reasons(&instance, &prepared, figures.shortfall);
        let excluded = prepared.exclusion_counts();
        let report = PlanReport {
            instance: &instance,
            geography: &geography,
            plan: &solution.plan,
            status: solution.status.as_str(),
            figures: &figures,
            limited_by: &limited,
            shortfall_reasons: &reasons,
            sites_excluded: &excluded,
            stages: &solution.stages,
            mip_gap: solution.mip_gap,
            gap_stage: solution.gap_stage,
            marginal_values: solution.marginal_values.as_deref(),
            levels: &[],
            spread: None,
            distances: &[],
            fair_share_key: scenario.fair_share_key(),
            extra: Map::new(),
            shown_sites: shown_sites(&instance, &solution.plan).unwrap(),
            routes: false,
            ways: Vec::new(),
        };
        let out = dir.path().join("out");
        group.bench_with_input(BenchmarkId::new("write", sites), &report, |b, r| {
            b.iter(|| {
                let folder = OutputFolder::prepare(&out, &[]).unwrap();
                write_plan(&folder, r).unwrap();
                write_summary(&folder, &summary(r, &[])).unwrap();
                folder.commit().unwrap();
            })
        });
    }
    group.finish();
}

/// The solve with spacing (200 m, at most 100 places) on 20,000 sites of a 40 × 40 grid.
fn spacing(c: &mut Criterion) {
    let mut group = c.benchmark_group("spacing");
    group.sample_size(10);
    let dir = tempfile::tempdir().unwrap();
    let scenario_path = generate(dir.path(), 40, 20_000);
    let text = std::fs::read_to_string(&scenario_path).unwrap();
    std::fs::write(&scenario_path, text.replace("# radius = ", "radius = ")).unwrap();
    let scenario = read_scenario(&scenario_path).unwrap();
    assert!(scenario.rules.spacing.is_some());
    let instance = load_instance(&scenario).unwrap();
    let geography = Geography::of(&instance);
    let prepared = Prepared::new(&instance, &geography);
    group.bench_function(BenchmarkId::new("solve", 20_000), |b| {
        b.iter(|| solve(&instance, &prepared).unwrap())
    });
    group.finish();
}

/// Load and solve of the base scenarios of the realistic cities, seed 7: the Münster-like city
/// (2,000 address points, no rule that ties sites together) and the mid-size city benchmark
/// (6,600 sites, row houses, costs, spacing 400 m / 150, access, a share cap of 1.2 %), and
/// the levels and spread/access scenarios written with them.
fn cities(c: &mut Criterion) {
    let mut group = c.benchmark_group("city");
    group.sample_size(10);
    for preset in [CityPreset::Muenster, CityPreset::Midsize] {
        let dir = tempfile::tempdir().unwrap();
        let city = City::new(&CitySpec::new(preset, 7));
        for layer in LAYER_FILES {
            let mut out = BufWriter::new(File::create(dir.path().join(layer)).unwrap());
            city.write_layer(layer, &mut out).unwrap();
        }
        let scenario_path = dir.path().join("scenario.toml");
        for (name, text) in city.scenarios() {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let scenario = read_scenario(&scenario_path).unwrap();
        group.bench_with_input(
            BenchmarkId::new("load", preset.name()),
            &scenario,
            |b, s| b.iter(|| load_instance(s).unwrap()),
        );
        let instance = load_instance(&scenario).unwrap();
        let geography = Geography::of(&instance);
        let prepared = Prepared::new(&instance, &geography);
        group.bench_function(BenchmarkId::new("solve", preset.name()), |b| {
            b.iter(|| solve(&instance, &prepared).unwrap())
        });
        // The scenarios of issues 9 and 11 the generator writes next to the base one:
        // spacing with three demand levels, and spacing with the spread and access stages.
        // On the mid-size city access and cost after spread are hard integer programs
        // (minutes each, BENCHMARKS.md): ten samples of them would take hours.
        for (name, _) in city.scenarios() {
            let Some(variant) = name
                .strip_suffix(".toml")
                .filter(|n| ["spacing_levels", "spread_access"].contains(n))
                .filter(|n| !(*n == "spread_access" && preset == CityPreset::Midsize))
            else {
                continue;
            };
            let scenario = read_scenario(&dir.path().join(name)).unwrap();
            let instance = load_instance(&scenario).unwrap();
            let geography = Geography::of(&instance);
            let prepared = Prepared::new(&instance, &geography);
            group.bench_function(
                BenchmarkId::new(format!("solve {variant}"), preset.name()),
                |b| b.iter(|| solve(&instance, &prepared).unwrap()),
            );
        }
    }
    group.finish();
}

/// Distances on foot on the grids with their street grid (`generate --streets`): the walks
/// from every site to the nearest school, Kita and stop (graph, joints, one search per kind),
/// against the straight-line index of the same grid; and the checker's own walks for the
/// sites of the plan.
fn walks(c: &mut Criterion) {
    let mut group = c.benchmark_group("walks");
    group.sample_size(10);
    for (cells, sites) in sizes() {
        let dir = tempfile::tempdir().unwrap();
        let scenario_path = generate(dir.path(), cells, sites);
        let spec = GridSpec {
            cells,
            sites,
            seed: 7,
        };
        let mut out = BufWriter::new(File::create(dir.path().join(STREETS_FILE)).unwrap());
        write_grid_streets(&spec.streets(), &mut out).unwrap();
        drop(out);
        let text = std::fs::read_to_string(&scenario_path).unwrap();
        std::fs::write(&scenario_path, grid_streets_scenario(&text)).unwrap();
        let scenario = read_scenario(&scenario_path).unwrap();
        let instance = load_instance(&scenario).unwrap();
        assert!(instance.network.is_some());
        group.bench_with_input(
            BenchmarkId::new("index on foot", sites),
            &instance,
            |b, i| b.iter(|| Geography::of(i)),
        );
        let geography = Geography::of(&instance);
        let prepared = Prepared::new(&instance, &geography);
        let solution = solve(&instance, &prepared).unwrap();
        let used: Vec<usize> = (0..instance.sites.len())
            .filter(|&s| solution.plan.places[s] > 0)
            .collect();
        group.bench_with_input(
            BenchmarkId::new("checker walks of the used sites", sites),
            &used,
            |b, used| b.iter(|| quartier::check::walk_distances(&instance, used)),
        );
    }
    group.finish();
}

criterion_group!(benches, pipeline, spacing, cities, walks);
criterion_main!(benches);
