//! The output folder: `sites.geojson`, `districts.geojson` and `summary.json`, written whole
//! or not at all (a temporary folder renamed into place), never over an input file.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::geojson_out::{round3, write_collection, Shape};
use super::plan_report::{site_kind, PlanReport, WayOnFoot};
use super::qml;
use crate::error::{Error, InputError};
use crate::model::Instance;
use crate::spatial::{Geography, Nearest};

/// Files quartier writes into an output folder; a folder holding anything else is not
/// replaced.
pub const OUTPUT_FILES: &[&str] = &[
    "sites.geojson",
    "districts.geojson",
    "summary.json",
    "sites.qml",
    "districts.qml",
    "report.html",
    "routes.geojson",
    "routes.qml",
];

/// An output folder being written: files go to a temporary sibling folder until `commit`.
pub struct OutputFolder {
    target: PathBuf,
    temp: PathBuf,
    committed: bool,
}

/// Removes the half-written folders `.NAME.partial-PID` that runs which were killed while
/// writing left behind (their process no longer exists). Only on Linux, where `/proc`
/// tells; a folder of a run still going is never touched.
fn remove_abandoned(parent: &Path, name: &str) {
    let prefix = format!(".{name}.partial-");
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    if !Path::new("/proc/self").exists() {
        return;
    }
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

impl OutputFolder {
    /// Checks that the target can be written without losing anything, and creates the
    /// temporary folder.
    pub fn prepare(target: &Path, inputs: &[&Path]) -> Result<OutputFolder, Error> {
        Self::prepare_for(target, inputs, OUTPUT_FILES)
    }

    /// Like `prepare`, for a folder that may hold only the files in `ours`.
    pub fn prepare_for(
        target: &Path,
        inputs: &[&Path],
        ours: &[&str],
    ) -> Result<OutputFolder, Error> {
        let shown = target.display().to_string();
        if target.exists() {
            if !target.is_dir() {
                return Err(
                    InputError::new(&shown, "the output path exists and is not a folder").into(),
                );
            }
            let canonical = fs::canonicalize(target).map_err(|e| Error::io(target, e))?;
            for input in inputs {
                if let Ok(input) = fs::canonicalize(input) {
                    if input.starts_with(&canonical) {
                        return Err(InputError::new(
                            &shown,
                            format!(
                                "the output folder holds the input file {}; choose another folder with --out so that no input is overwritten",
                                input.display()
                            ),
                        )
                        .into());
                    }
                }
            }
            let mut foreign = Vec::new();
            for entry in fs::read_dir(target).map_err(|e| Error::io(target, e))? {
                let entry = entry.map_err(|e| Error::io(target, e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if !ours.contains(&name.as_str()) {
                    foreign.push(name);
                }
            }
            if !foreign.is_empty() {
                foreign.sort();
                return Err(InputError::new(
                    &shown,
                    format!(
                        "the output folder exists and holds files quartier did not write ({}); choose another folder with --out or empty it",
                        foreign.join(", ")
                    ),
                )
                .into());
            }
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        remove_abandoned(&parent, &name);
        let temp = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if temp.exists() {
            fs::remove_dir_all(&temp).map_err(|e| Error::io(&temp, e))?;
        }
        fs::create_dir(&temp).map_err(|e| Error::io(&temp, e))?;
        Ok(OutputFolder {
            target: target.to_path_buf(),
            temp,
            committed: false,
        })
    }

    /// The temporary folder, where files go until `commit`.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// Writes one file into the temporary folder.
    pub fn write(
        &self,
        name: &str,
        body: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
    ) -> Result<(), Error> {
        let path = self.temp.join(name);
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        body(&mut out)
            .and_then(|_| out.flush())
            .map_err(|e| Error::io(&path, e))
    }

    /// Puts the folder in place; an earlier output folder there is replaced whole.
    pub fn commit(mut self) -> Result<PathBuf, Error> {
        let old = self.temp.with_extension("old");
        let had_old = self.target.exists();
        if had_old {
            fs::rename(&self.target, &old).map_err(|e| Error::io(&self.target, e))?;
        }
        if let Err(e) = fs::rename(&self.temp, &self.target) {
            if had_old {
                // Put the earlier result back rather than leave nothing.
                let _ = fs::rename(&old, &self.target);
            }
            return Err(Error::io(&self.target, e));
        }
        self.committed = true;
        if had_old {
            fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
        }
        Ok(self.target.clone())
    }
}

impl Drop for OutputFolder {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.temp);
        }
    }
}

/// Writes the layers of a plan and their QGIS styles into the folder.
pub fn write_plan(folder: &OutputFolder, report: &PlanReport) -> Result<(), Error> {
    // The three large files are written at the same time (the districts of a 200 × 200
    // grid are 16 MB of GeoJSON, and as many again in the report's map).
    let (layers, page) = rayon::join(
        || -> Result<(), Error> {
            let (sites, districts) = rayon::join(
                || folder.write("sites.geojson", |out| write_sites(out, report)),
                || folder.write("districts.geojson", |out| write_districts(out, report)),
            );
            sites.and(districts)
        },
        || {
            folder.write("report.html", |out| {
                out.write_all(super::report::report_html(report).as_bytes())
            })
        },
    );
    layers.and(page)?;
    // QGIS loads a .qml with the layer's name as its default style.
    folder.write("sites.qml", |out| {
        let style = if report.levels.is_empty() {
            qml::sites_qml()
        } else {
            qml::sites_by_level_qml(report.levels.len())
        };
        out.write_all(style.as_bytes())
    })?;
    folder.write("districts.qml", |out| {
        out.write_all(qml::districts_qml(report.figures.per_1000_max).as_bytes())
    })?;
    if report.routes && report.geography.walks.is_some() {
        folder.write("routes.geojson", |out| write_routes(out, &report.ways))?;
        let kinds = super::plan_report::route_kinds(report.instance);
        folder.write("routes.qml", |out| {
            out.write_all(qml::routes_qml(&kinds).as_bytes())
        })?;
    }
    Ok(())
}

/// The street network's figures for `summary.json` and `check`: its size, connected parts,
/// the facilities off it and the sites that reach no facility of a kind on foot (per kind,
/// of all sites in the layer). `None` without a network.
pub fn network_facts(instance: &Instance, geography: &Geography) -> Option<Value> {
    let walks = geography.walks.as_ref()?;
    let graph = &walks.graph;
    let per_kind = |count: &dyn Fn(usize) -> usize| -> Value {
        Value::Object(
            instance
                .facilities
                .iter()
                .enumerate()
                .map(|(layer, l)| (l.kind.clone(), json!(count(layer))))
                .collect(),
        )
    };
    Some(json!({
        "nodes": graph.nodes.len(),
        "edges": graph.edges(),
        "km": (graph.km() * 10.0).round() / 10.0,
        "parts": graph.parts,
        "max_snap_m": graph.max_snap_m,
        "sites_off_network": walks.site_joints.iter().filter(|j| j.is_none()).count(),
        "facilities_off_network": per_kind(&|layer| walks.facilities_off_network(layer)),
        "sites_unreachable": per_kind(&|layer| geography.nearest[layer].iter().filter(|n| n.is_none()).count()),
    }))
}

fn write_routes<W: Write>(out: &mut W, routes: &[WayOnFoot]) -> std::io::Result<()> {
    write_collection(
        out,
        routes.iter().map(|r| {
            let mut p = Map::new();
            p.insert("site".into(), json!(r.site_id));
            p.insert("kind".into(), json!(r.kind));
            p.insert("facility".into(), json!(r.facility_id));
            p.insert("metres".into(), json!(r.metres.round() as u64));
            p.insert("line_metres".into(), json!(r.line_metres.round() as u64));
            (Shape::Line(&r.lonlat), p)
        }),
    )
}

/// Writes `summary.json` (last, so that it can carry the time taken to write the others).
pub fn write_summary(folder: &OutputFolder, summary: &Value) -> Result<(), Error> {
    folder.write("summary.json", |out| {
        serde_json::to_writer_pretty(&mut *out, summary)?;
        out.write_all(b"\n")
    })
}

fn write_sites<W: Write>(out: &mut W, report: &PlanReport) -> std::io::Result<()> {
    let instance = report.instance;
    let features = report.shown_sites.iter().map(|&(s, lonlat)| {
        let site = &instance.sites[s];
        let places = report.plan.places[s];
        let mut p = Map::new();
        p.insert("id".into(), json!(site.id));
        p.insert(
            "district".into(),
            report.geography.site_district[s]
                .map_or(Value::Null, |d| json!(instance.districts[d as usize].id)),
        );
        p.insert("places".into(), json!(places));
        p.insert("occupied".into(), json!(site.occupied));
        p.insert("total".into(), json!(site.occupied + places));
        p.insert("capacity".into(), json!(site.capacity));
        p.insert("status".into(), json!(site.status.as_str()));
        if !report.levels.is_empty() {
            // The first level (from 1) at which the site gets new places.
            let first = report
                .levels
                .iter()
                .position(|level| level.plan.places[s] > 0)
                .map_or(Value::Null, |l| json!(l + 1));
            p.insert("level".into(), first);
            for (l, level) in report.levels.iter().enumerate() {
                p.insert(format!("places_{}", l + 1), json!(level.plan.places[s]));
            }
        }
        // For the map: new accommodation, existing, or existing and extended.
        p.insert("kind".into(), json!(site_kind(site.occupied, places)));
        let metres =
            |n: &Option<Nearest>| n.map_or(Value::Null, |n| json!(n.metres.round() as u64));
        for (layer, nearest) in instance.facilities.iter().zip(&report.geography.nearest) {
            p.insert(format!("dist_{}_m", layer.kind), metres(&nearest[s]));
        }
        // With a street network `dist_` is the walk and `line_` the straight line.
        if let Some(straight) = &report.geography.straight {
            for (layer, nearest) in instance.facilities.iter().zip(straight) {
                p.insert(format!("line_{}_m", layer.kind), metres(&nearest[s]));
            }
        }
        (Shape::Point(lonlat), p)
    });
    write_collection(out, features)
}

fn write_districts<W: Write>(out: &mut W, report: &PlanReport) -> std::io::Result<()> {
    let features = report
        .instance
        .districts
        .iter()
        .zip(&report.figures.districts)
        .zip(report.limited_by)
        .enumerate()
        .map(|(d, ((district, figures), limited_by))| {
            let mut p = Map::new();
            p.insert("id".into(), json!(district.id));
            p.insert("name".into(), json!(district.name));
            p.insert("population".into(), json!(district.population));
            p.insert("weight".into(), round3(district.weight));
            p.insert("existing".into(), json!(figures.existing));
            p.insert("target".into(), round3(figures.target));
            p.insert("new".into(), json!(figures.new));
            for (l, level) in report.levels.iter().enumerate() {
                p.insert(
                    format!("new_{}", l + 1),
                    json!(level.figures.districts[d].new),
                );
            }
            p.insert("total".into(), json!(figures.total));
            p.insert("deviation".into(), round3(figures.deviation));
            p.insert(
                "per_1000".into(),
                figures.per_1000.map_or(Value::Null, round3),
            );
            p.insert("limited_by".into(), json!(limited_by));
            p.insert(
                "rule".into(),
                district
                    .rule
                    .and_then(|r| report.instance.rules.district.get(r))
                    .map_or(Value::Null, |rule| json!(rule.label())),
            );
            p.insert(
                "marginal_value".into(),
                report.marginal_values.map_or(Value::Null, |m| round3(m[d])),
            );
            (Shape::Area(&district.area_lonlat), p)
        });
    write_collection(out, features)
}

/// The contents of `summary.json` (docs/input-output.md), plus `extra`.
pub fn summary(report: &PlanReport, timings: &[(&str, f64)]) -> Value {
    let f = report.figures;
    let mut s = Map::new();
    s.insert("scenario".into(), json!(report.instance.name));
    s.insert("status".into(), json!(report.status));
    s.insert("demand".into(), json!(f.demand));
    s.insert("placed".into(), json!(f.placed));
    s.insert("shortfall".into(), json!(f.shortfall));
    s.insert(
        "shortfall_reasons".into(),
        Value::Object(
            report
                .shortfall_reasons
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect(),
        ),
    );
    s.insert("existing".into(), json!(f.existing));
    s.insert("sites_used".into(), json!(f.sites_used));
    s.insert(
        "sites_excluded".into(),
        Value::Object(
            report
                .sites_excluded
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect(),
        ),
    );
    s.insert("dissimilarity".into(), json!(f.dissimilarity));
    s.insert("max_abs_deviation".into(), json!(f.max_abs_deviation));
    s.insert("max_rel_deviation".into(), json!(f.max_rel_deviation));
    s.insert(
        "per_1000".into(),
        json!({"min": f.per_1000_min, "median": f.per_1000_median, "max": f.per_1000_max}),
    );
    s.insert("min_share_reached".into(), json!(f.min_share_reached));
    s.insert(
        "stages".into(),
        Value::Object(
            report
                .stages
                .iter()
                .map(|(stage, value)| (stage.name().to_string(), json!(value)))
                .collect(),
        ),
    );
    s.insert("mip_gap".into(), json!(report.mip_gap));
    s.insert(
        "gap_stage".into(),
        json!(report.gap_stage.map(|stage| stage.name())),
    );
    s.insert(
        "worst_district".into(),
        f.worst_district
            .map_or(Value::Null, |d| json!(report.instance.districts[d].id)),
    );
    s.insert(
        "timings_s".into(),
        Value::Object(
            timings
                .iter()
                .map(|(k, v)| (k.to_string(), json!((v * 1000.0).round() / 1000.0)))
                .collect(),
        ),
    );
    if let Some(spread) = &report.spread {
        s.insert(
            "max_new_within_m".into(),
            json!({"places": spread.places, "metres": spread.metres}),
        );
    }
    // Always there, empty without facility layers, so that scripts need not test for it.
    s.insert(
        "mean_distance_m".into(),
        Value::Object(
            report
                .distances
                .iter()
                .map(|(kind, metres)| {
                    (
                        kind.clone(),
                        metres.map_or(Value::Null, |m| json!(m.round() as u64)),
                    )
                })
                .collect(),
        ),
    );
    s.insert(
        "distance".into(),
        json!(if report.geography.walks.is_some() {
            "network"
        } else {
            "straight"
        }),
    );
    if let Some(network) = network_facts(report.instance, report.geography) {
        s.insert("network".into(), network);
    }
    if !report.levels.is_empty() {
        s.insert(
            "levels".into(),
            Value::Array(
                report
                    .levels
                    .iter()
                    .map(|level| {
                        let f = &level.figures;
                        json!({
                            "places": level.places,
                            "weight": level.weight,
                            "placed": f.placed,
                            "shortfall": f.shortfall,
                            "dissimilarity": f.dissimilarity,
                            "sites_used": f.sites_used,
                            "sites_opened": level.sites_opened,
                            "dissimilarity_alone": level.dissimilarity_alone,
                            "price_of_nesting": level.price_of_nesting(),
                        })
                    })
                    .collect(),
            ),
        );
    }
    if let Some(values) = report.marginal_values {
        s.insert(
            "new_sites_help_most".into(),
            Value::Array(top_marginal(report, values, 10)),
        );
    }
    for (k, v) in &report.extra {
        s.insert(k.clone(), v.clone());
    }
    Value::Object(s)
}

/// The districts where one more place of capacity lowers the evenness sum most.
fn top_marginal(report: &PlanReport, values: &[f64], count: usize) -> Vec<Value> {
    let mut ranked: Vec<usize> = (0..values.len()).filter(|&d| values[d] > 1e-9).collect();
    ranked.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    ranked
        .into_iter()
        .take(count)
        .map(|d| {
            let district = &report.instance.districts[d];
            json!({
                "id": district.id,
                "name": district.name,
                "marginal_value": round3(values[d]),
                "deviation": round3(report.figures.districts[d].deviation),
                "limited_by": report.limited_by[d],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_of_killed_runs_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        // No process has this id (Linux ids stay below 2^22).
        let abandoned = dir.path().join(".plan.partial-999999999");
        let other_name = dir.path().join(".other.partial-999999999");
        let mine = dir
            .path()
            .join(format!(".plan.partial-{}x", std::process::id()));
        for folder in [&abandoned, &other_name, &mine] {
            fs::create_dir(folder).unwrap();
        }
        let folder = OutputFolder::prepare(&dir.path().join("plan"), &[]).unwrap();
        folder.write("a.txt", |out| out.write_all(b"a")).unwrap();
        folder.commit().unwrap();
        assert!(!abandoned.exists());
        assert!(other_name.exists() && mine.exists());
        assert!(dir.path().join("plan/a.txt").exists());
    }
}
