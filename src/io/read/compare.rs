//! Reading an output folder back (for `quartier compare`): summary, districts and sites.

use std::path::Path;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::Value;

use super::feature::into_lonlat;
use super::file::{read_layer, read_text};
use super::layer::{Geom, Layer, PolygonRings};
use crate::error::InputError;

/// One district of an output folder.
pub struct DistrictRow {
    pub id: String,
    pub name: String,
    pub total: f64,
    pub new: f64,
    pub target: f64,
    pub per_1000: Option<f64>,
    pub area: MultiPolygon<f64>,
}

/// One site of an output folder.
pub struct SiteRow {
    pub id: String,
    pub places: u32,
    pub occupied: u32,
    pub lonlat: [f64; 2],
}

/// An output folder of `quartier solve`.
pub struct Output {
    pub summary: Value,
    pub districts: Vec<DistrictRow>,
    pub sites: Vec<SiteRow>,
}

fn polygons(rings: &[PolygonRings]) -> MultiPolygon<f64> {
    let ring =
        |r: &Vec<[f64; 2]>| LineString(r.iter().map(|p| Coord { x: p[0], y: p[1] }).collect());
    MultiPolygon(
        rings
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| Polygon::new(ring(&p[0]), p[1..].iter().map(ring).collect()))
            .collect(),
    )
}

/// A layer of the folder in longitude/latitude, as `quartier solve` writes it; saved again
/// in another CRS (with its `crs` member) it is reprojected, and coordinates that cannot be
/// degrees without a `crs` member are refused as in any layer.
fn lonlat_layer(path: &Path) -> Result<Layer, InputError> {
    let mut layer = read_layer(path)?;
    into_lonlat(
        &mut layer,
        "EPSG:4326",
        "id",
        "add a \"crs\" member to the file, or write the folder again with quartier solve",
    )?;
    Ok(layer)
}

/// Reads `summary.json`, `districts.geojson` and `sites.geojson` of a folder.
pub fn read_output(dir: &Path) -> Result<Output, InputError> {
    let summary_path = dir.join("summary.json");
    let text = read_text(&summary_path)?;
    let summary: Value = serde_json::from_str(&text).map_err(|e| {
        InputError::new(
            summary_path.display(),
            format!("invalid JSON at line {}, column {}", e.line(), e.column()),
        )
    })?;
    let layer = lonlat_layer(&dir.join("districts.geojson"))?;
    let number = |f: &super::layer::Feature, key: &str| {
        f.number(key)
            .map_err(|m| InputError::new(&layer.file, format!("{}: {m}", f.label(None))))
    };
    let mut districts = Vec::with_capacity(layer.features.len());
    for f in &layer.features {
        let id = f.id_text("id").ok_or_else(|| {
            InputError::new(
                &layer.file,
                format!("{}: property \"id\" is missing", f.label(None)),
            )
        })?;
        let area = match &f.geometry {
            Some(Geom::Polygon(rings)) => polygons(std::slice::from_ref(rings)),
            Some(Geom::MultiPolygon(list)) => polygons(list),
            _ => MultiPolygon(Vec::new()),
        };
        districts.push(DistrictRow {
            name: f.text("name").unwrap_or_else(|| id.clone()),
            total: number(f, "total")?.unwrap_or(0.0),
            new: number(f, "new")?.unwrap_or(0.0),
            target: number(f, "target")?.unwrap_or(0.0),
            per_1000: number(f, "per_1000")?,
            id,
            area,
        });
    }
    let layer = lonlat_layer(&dir.join("sites.geojson"))?;
    let mut sites = Vec::with_capacity(layer.features.len());
    for f in &layer.features {
        let fail = |m: String| InputError::new(&layer.file, format!("{}: {m}", f.label(None)));
        let id = f
            .id_text("id")
            .ok_or_else(|| fail("property \"id\" is missing".into()))?;
        let lonlat = match &f.geometry {
            Some(Geom::Point(p)) => *p,
            _ => return Err(fail("geometry must be a Point".into())),
        };
        sites.push(SiteRow {
            places: f.count("places").map_err(fail)?.unwrap_or(0),
            occupied: f.count("occupied").map_err(fail)?.unwrap_or(0),
            id,
            lonlat,
        });
    }
    Ok(Output {
        summary,
        districts,
        sites,
    })
}
