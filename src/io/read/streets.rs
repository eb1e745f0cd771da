//! The street network of `[input] network`: a line layer (a city's street segments, or an
//! OSM extract saved from QGIS) read into lines, each part of a MultiLineString a line of
//! its own, in file order; lines of fewer than two vertices skipped with one warning; then
//! reprojected into the metric CRS, where distances on foot are measured.

use super::feature::{check_position, feature_error, layer_crs, reproject};
use super::file::read_layer_map;
use super::layer::{Feature, Geom, Layer, Position};
use crate::error::{InputError, Warning};
use crate::model::{StreetLine, Streets};
use crate::progress::Progress;
use crate::scenario::Scenario;

/// The properties that name a line in messages, first found first: its own `id`, the OSM id
/// that an extract saved from QGIS carries, a GeoPackage's feature id. Street layers need
/// no id (each line is then named by its index), nor unique ones.
const ID_KEYS: [&str; 3] = ["id", "osm_id", "fid"];

/// The street network in its layer's own CRS.
pub(super) struct RawStreets {
    file: String,
    crs: String,
    lines: Vec<StreetLine>,
    max_snap_m: f64,
}

/// What the features are read with: the layer (for messages, without features) and its CRS.
struct StreetContext {
    layer: Layer,
    crs: String,
}

/// One feature's lines (a LineString gives one, a MultiLineString one per part), with the
/// label of the feature when a line of it has fewer than two vertices.
struct FeatureLines {
    id: String,
    lines: Vec<Vec<Position>>,
    degenerate: Option<String>,
}

/// The street network of the scenario (`None` without `[input] network`), its positions
/// checked in the layer's own CRS (or `default_crs`); lines of fewer than two vertices are
/// skipped with a warning.
pub(super) fn read_streets(
    scenario: &Scenario,
    default_crs: &str,
    progress: &dyn Progress,
    warnings: &mut Vec<Warning>,
) -> Result<Option<RawStreets>, InputError> {
    let Some(input) = &scenario.network else {
        return Ok(None);
    };
    let keys = ID_KEYS.map(str::to_string);
    let (layer, context, features) = read_layer_map(
        &input.file,
        progress,
        Some(&keys),
        &|layer| {
            Ok(StreetContext {
                crs: layer_crs(layer, default_crs)?,
                layer: Layer {
                    file: layer.file.clone(),
                    crs: layer.crs.clone(),
                    features: Vec::new(),
                    warnings: Vec::new(),
                },
            })
        },
        &read_feature,
    )?;
    warnings.extend(layer.warnings);
    let file = context.layer.file;
    let count = features.iter().map(|f| f.lines.len()).sum();
    let mut lines = Vec::with_capacity(count);
    let mut skipped = 0usize;
    let mut first_skipped: Option<String> = None;
    for mut feature in features {
        if let Some(label) = feature.degenerate {
            first_skipped.get_or_insert(label);
            // A MultiLineString without any part counts as one line without vertices.
            skipped += feature.lines.iter().filter(|l| l.len() < 2).count().max(1);
        }
        let kept: Vec<Vec<Position>> = feature.lines.into_iter().filter(|l| l.len() >= 2).collect();
        let last = kept.len().saturating_sub(1);
        for (k, points) in kept.into_iter().enumerate() {
            // The parts of a MultiLineString share the feature's id.
            let id = if k < last {
                feature.id.clone()
            } else {
                std::mem::take(&mut feature.id)
            };
            lines.push(StreetLine { id, points });
        }
    }
    if let Some(first) = first_skipped {
        warnings.push(Warning::new(
            &file,
            if skipped == 1 {
                format!("1 line has fewer than 2 vertices and is skipped: {first}")
            } else {
                format!("{skipped} lines have fewer than 2 vertices and are skipped (the first: {first})")
            },
        ));
    }
    if lines.is_empty() {
        return Err(InputError::new(
            &file,
            "no line has 2 vertices or more; a street network needs lines to walk along",
        ));
    }
    Ok(Some(RawStreets {
        file,
        crs: context.crs,
        lines,
        max_snap_m: input.max_snap_m,
    }))
}

/// One feature's lines; any geometry but a LineString or MultiLineString is an error, and so
/// are positions that cannot be in the layer's CRS.
fn read_feature(context: &StreetContext, mut feature: Feature) -> Result<FeatureLines, InputError> {
    let id = ID_KEYS
        .iter()
        .find_map(|key| feature.id_text(key))
        .unwrap_or_else(|| feature.index.to_string());
    let lines = match feature.geometry.take() {
        Some(Geom::LineString(line)) => vec![line],
        Some(Geom::MultiLineString(lines)) => lines,
        other => {
            let found = other.as_ref().map_or("no geometry", Geom::type_name);
            return Err(feature_error(
                &context.layer,
                &feature,
                Some(&id),
                format!(
                    "geometry must be a LineString or MultiLineString (a street network needs lines), found {found}"
                ),
            ));
        }
    };
    for position in lines.iter().flatten() {
        check_position(&context.layer, &feature, &id, *position, &context.crs)?;
    }
    let degenerate =
        (lines.is_empty() || lines.iter().any(|l| l.len() < 2)).then(|| feature.label(Some(&id)));
    Ok(FeatureLines {
        id,
        lines,
        degenerate,
    })
}

/// The street network in the metric CRS.
pub(super) fn project_streets(raw: RawStreets, metric: &str) -> Result<Streets, InputError> {
    let RawStreets {
        file,
        crs,
        mut lines,
        max_snap_m,
    } = raw;
    let mut points: Vec<(f64, f64)> = lines
        .iter()
        .flat_map(|line| line.points.iter().map(|p| (p[0], p[1])))
        .collect();
    reproject(&mut points, &crs, metric, &file)?;
    let vertices = lines.iter_mut().flat_map(|line| line.points.iter_mut());
    for (vertex, (x, y)) in vertices.zip(points) {
        *vertex = [x, y];
    }
    Ok(Streets { lines, max_snap_m })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::progress::Silent;

    /// A scenario with the street network `file` (in `dir`) and `network` as its [network].
    fn scenario(dir: &Path, file: &str, network: &str) -> Scenario {
        let text = format!(
            "[input]\ndistricts = \"d.geojson\"\nsites = \"s.geojson\"\nnetwork = \"{file}\"\n[demand]\nplaces = 1\n{network}"
        );
        Scenario::parse(&text, &dir.join("scenario.toml")).unwrap()
    }

    fn write(dir: &Path, file: &str, features: serde_json::Value, crs: Option<&str>) {
        let mut collection = json!({"type": "FeatureCollection", "features": features});
        if let Some(name) = crs {
            collection["crs"] = json!({"type": "name", "properties": {"name": name}});
        }
        std::fs::write(dir.join(file), collection.to_string()).unwrap();
    }

    fn line(coordinates: serde_json::Value, properties: serde_json::Value) -> serde_json::Value {
        json!({"type": "Feature", "properties": properties,
               "geometry": {"type": "LineString", "coordinates": coordinates}})
    }

    fn read(dir: &Path, network: &str) -> Result<(RawStreets, Vec<Warning>), String> {
        let mut warnings = Vec::new();
        read_streets(
            &scenario(dir, "streets.geojson", network),
            "EPSG:4326",
            &Silent,
            &mut warnings,
        )
        .map(|raw| (raw.expect("a network"), warnings))
        .map_err(|e| e.to_string())
    }

    #[test]
    fn lines_and_parts_in_file_order_with_their_ids() {
        let dir = tempfile::tempdir().unwrap();
        let features = json!([
            line(json!([[0, 0], [100, 0, 55.5]]), json!({"id": "Straße 1", "name": "Ölweg"})),
            {"type": "Feature", "id": 7, "properties": {"osm_id": 123456},
             "geometry": {"type": "MultiLineString",
                          "coordinates": [[[100, 0], [100, 100]], [[100, 100], [0, 100], [0, 0]]]}},
            line(json!([[0, 100], [50, 50]]), json!({"osm_id": 99})),
            line(json!([[50, 50], [0, 0]]), json!(null)),
        ]);
        write(dir.path(), "streets.geojson", features, Some("EPSG:25832"));
        let (raw, warnings) = read(dir.path(), "[network]\nmax_snap_m = 120\n").unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(raw.crs, "EPSG:25832");
        assert_eq!(raw.max_snap_m, 120.0);
        let ids: Vec<&str> = raw.lines.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["Straße 1", "7", "7", "99", "3"]);
        assert_eq!(raw.lines[0].points, [[0.0, 0.0], [100.0, 0.0]]);
        assert_eq!(raw.lines[2].points.len(), 3);
        let streets = project_streets(raw, "EPSG:25832").unwrap();
        assert_eq!(streets.lines.len(), 5);
        assert_eq!(streets.lines[2].points[1], [0.0, 100.0]);
        assert_eq!(streets.max_snap_m, 120.0);
    }

    #[test]
    fn without_a_network_nothing_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let text =
            "[input]\ndistricts = \"d.geojson\"\nsites = \"s.geojson\"\n[demand]\nplaces = 1\n";
        let scenario = Scenario::parse(text, &dir.path().join("scenario.toml")).unwrap();
        let read = read_streets(&scenario, "EPSG:4326", &Silent, &mut Vec::new()).unwrap();
        assert!(read.is_none());
    }

    #[test]
    fn other_geometries_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let polygon = json!({"type": "Feature", "properties": {"id": "Platz"},
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}});
        for (geometry, found) in [
            (polygon.clone(), "found Polygon"),
            (
                json!({"type": "Feature", "properties": {"id": "Platz"}, "geometry": null}),
                "found no geometry",
            ),
            (
                json!({"type": "Feature", "properties": {"id": "Platz"},
                       "geometry": {"type": "Point", "coordinates": [1, 2]}}),
                "found Point",
            ),
        ] {
            let features = json!([
                line(json!([[7.6, 51.9], [7.61, 51.9]]), json!({})),
                geometry
            ]);
            write(dir.path(), "streets.geojson", features, None);
            let err = read(dir.path(), "").err().unwrap();
            assert_eq!(
                err,
                format!(
                    "{}: feature 1 (id \"Platz\"): geometry must be a LineString or MultiLineString (a street network needs lines), {found}",
                    dir.path().join("streets.geojson").display()
                )
            );
        }
    }

    #[test]
    fn lines_of_fewer_than_two_vertices_are_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let features = json!([
            line(json!([[7.6, 51.9], [7.61, 51.9]]), json!({"id": "a"})),
            line(json!([[7.6, 51.9]]), json!({"id": "Einzelpunkt"})),
            {"type": "Feature", "properties": {"id": "m"},
             "geometry": {"type": "MultiLineString",
                          "coordinates": [[[7.6, 51.9], [7.6, 51.91]], [], [[7.6, 51.91]]]}},
            line(json!([]), json!({"id": "leer"})),
        ]);
        write(dir.path(), "streets.geojson", features, None);
        let (raw, warnings) = read(dir.path(), "").unwrap();
        let ids: Vec<&str> = raw.lines.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["a", "m"]);
        assert_eq!(raw.crs, "EPSG:4326");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(
            warnings[0].message,
            "4 lines have fewer than 2 vertices and are skipped (the first: feature 1 (id \"Einzelpunkt\"))"
        );
        // One alone is said as one.
        let features = json!([
            line(json!([[7.6, 51.9], [7.61, 51.9]]), json!({})),
            line(json!([[7.6, 51.9]]), json!({})),
        ]);
        write(dir.path(), "streets.geojson", features, None);
        let (_, warnings) = read(dir.path(), "").unwrap();
        assert_eq!(
            warnings[0].message,
            "1 line has fewer than 2 vertices and is skipped: feature 1 (id \"1\")"
        );
        // Nothing left to walk on is an error.
        let features = json!([line(json!([[7.6, 51.9]]), json!({}))]);
        write(dir.path(), "streets.geojson", features, None);
        let err = read(dir.path(), "").err().unwrap();
        assert!(err.ends_with("streets.geojson: no line has 2 vertices or more; a street network needs lines to walk along"), "{err}");
    }

    #[test]
    fn an_empty_layer_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "streets.geojson", json!([]), None);
        let err = read(dir.path(), "").err().unwrap();
        assert!(
            err.ends_with("streets.geojson: the layer has no features; expected at least one"),
            "{err}"
        );
    }

    #[test]
    fn metres_read_as_degrees_get_the_crs_advice() {
        let dir = tempfile::tempdir().unwrap();
        let features = json!([line(
            json!([[404000, 5757000], [404100, 5757000]]),
            json!({"id": 12})
        )]);
        write(dir.path(), "streets.geojson", features, None);
        let err = read(dir.path(), "").err().unwrap();
        assert!(
            err.contains("streets.geojson: feature 0 (id \"12\"): coordinates (404000, 5757000) cannot be longitude/latitude, but the layer is read as EPSG:4326")
                && err.contains("add a \"crs\" member to the file or set crs = \"EPSG:25832\" in [input] of the scenario"),
            "{err}"
        );
    }

    #[test]
    fn lines_are_reprojected_into_the_metric_crs() {
        let dir = tempfile::tempdir().unwrap();
        // Münster's Prinzipalmarkt in degrees; in EPSG:25832 (405 734.93, 5 757 756.36), as
        // GDAL's gdaltransform says.
        let features = json!([line(
            json!([[7.6280, 51.9625], [7.6290, 51.9630]]),
            json!({})
        )]);
        write(dir.path(), "streets.geojson", features, None);
        let (raw, _) = read(dir.path(), "").unwrap();
        let streets = project_streets(raw, "EPSG:25832").unwrap();
        let [a, b] = [streets.lines[0].points[0], streets.lines[0].points[1]];
        assert!(
            (a[0] - 405_734.93).abs() < 0.01 && (a[1] - 5_757_756.36).abs() < 0.01,
            "{a:?}"
        );
        // 0.001° of longitude and 0.0005° of latitude here: about 69 m and 56 m.
        let length = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        assert!((length - 88.5).abs() < 2.0, "{length}");
    }
}
