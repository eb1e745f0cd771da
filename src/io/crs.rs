//! Coordinate reference systems: reading CRS names the way GeoJSON files and planners write
//! them, choosing the metric CRS, and reprojecting with PROJ.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use proj::Proj;

/// A CRS name normalised for PROJ (`EPSG:25832`, `OGC:CRS84`, or what the user gave).
pub fn normalise_crs_name(name: &str) -> String {
    let trimmed = name.trim();
    let lower = trimmed.to_ascii_lowercase();
    if lower.ends_with("crs84") {
        return "OGC:CRS84".into();
    }
    if let Some(rest) = lower.strip_prefix("urn:ogc:def:crs:epsg:") {
        // urn:ogc:def:crs:EPSG::25832 or urn:ogc:def:crs:EPSG:6.6:25832
        if let Some(code) = rest.rsplit(':').next() {
            return format!("EPSG:{code}");
        }
    }
    if let Some(code) = lower.strip_prefix("epsg:") {
        return format!("EPSG:{}", code.trim());
    }
    if let Some(code) = lower.strip_prefix("http://www.opengis.net/def/crs/epsg/0/") {
        return format!("EPSG:{code}");
    }
    trimmed.to_string()
}

/// Geographic CRSs whose coordinates are longitude/latitude in degrees.
pub fn is_lonlat(crs: &str) -> bool {
    matches!(
        crs,
        "OGC:CRS84" | "EPSG:4326" | "EPSG:4258" | "EPSG:4979" | "EPSG:4937"
    ) || is_geographic_wkt(crs)
}

/// A WKT definition (from a Shapefile's .prj or a GeoPackage) of a geographic CRS.
fn is_geographic_wkt(crs: &str) -> bool {
    // Without an upper-case copy: this runs for every site.
    let text = crs.trim_start();
    ["GEOGCS[", "GEOGCRS[", "GEODCRS["].iter().any(|prefix| {
        text.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    })
}

/// The longitude/latitude CRS of all output (RFC 7946).
pub const LONLAT: &str = "OGC:CRS84";

/// Positions in the CRS `from` as WGS84 longitude/latitude (for output).
pub fn to_lonlat(from: &str, positions: &[[f64; 2]]) -> Result<Vec<[f64; 2]>, String> {
    let mut points: Vec<(f64, f64)> = positions.iter().map(|p| (p[0], p[1])).collect();
    Transform::new(from, LONLAT)?.apply(&mut points)?;
    Ok(points.into_iter().map(|(x, y)| [x, y]).collect())
}

/// The UTM zone CRS for a position: ETRS89 / UTM (EPSG:258zz) in Europe's zones, WGS 84 / UTM
/// elsewhere. In Germany this is EPSG:25832 or EPSG:25833, as in municipal data.
pub fn utm_for(lon: f64, lat: f64) -> String {
    let zone = (((lon + 180.0) / 6.0).floor() as i64 + 1).clamp(1, 60);
    if lat >= 0.0 && (28..=38).contains(&zone) && (34.0..=72.0).contains(&lat) {
        format!("EPSG:258{zone:02}")
    } else if lat >= 0.0 {
        format!("EPSG:326{zone:02}")
    } else {
        format!("EPSG:327{zone:02}")
    }
}

/// Transforms points between two CRSs in traditional GIS order (x = easting/longitude).
pub struct Transform {
    proj: Option<Rc<Proj>>,
}

thread_local! {
    /// Transformations made on this thread, by (from, to): creating one opens PROJ's
    /// database (tens of milliseconds), and loading a scenario asks for the same few pairs
    /// many times (checking each layer's CRS, then reprojecting it twice).
    static MADE: RefCell<HashMap<(String, String), Rc<Proj>>> = RefCell::new(HashMap::new());
}

impl Transform {
    /// `Err` carries PROJ's words for an unknown or unusable CRS.
    pub fn new(from: &str, to: &str) -> Result<Transform, String> {
        if from == to || (is_lonlat(from) && is_lonlat(to) && same_datum_lonlat(from, to)) {
            return Ok(Transform { proj: None });
        }
        let key = (from.to_string(), to.to_string());
        if let Some(proj) = MADE.with(|made| made.borrow().get(&key).cloned()) {
            return Ok(Transform { proj: Some(proj) });
        }
        let proj = Rc::new(new_proj(from, to)?);
        MADE.with(|made| made.borrow_mut().insert(key, proj.clone()));
        Ok(Transform { proj: Some(proj) })
    }

    /// Transforms in place; points PROJ cannot transform become NaN.
    pub fn apply(&self, points: &mut [(f64, f64)]) -> Result<(), String> {
        match &self.proj {
            None => Ok(()),
            Some(proj) => {
                // Transform in chunks so that one bad point does not fail a million.
                for chunk in points.chunks_mut(65_536) {
                    if proj.convert_array(chunk).is_err() {
                        for point in chunk.iter_mut() {
                            *point = proj.convert(*point).unwrap_or((f64::NAN, f64::NAN));
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

/// PROJ's transformation between two CRSs. Definitions PROJ cannot relate to the earth (an
/// engineering or local CRS, a damaged WKT) sometimes fail without an error number, and the
/// `proj` crate then panics ("PROJ did not supply an error"): that panic is caught here and
/// becomes an error like any other, and its message is kept off the terminal.
fn new_proj(from: &str, to: &str) -> Result<Proj, String> {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str));
            if message != Some(PROJ_SILENT) {
                previous(info);
            }
        }));
    });
    let made = std::panic::catch_unwind(|| Proj::new_known_crs(from, to, None));
    match made {
        Ok(Ok(proj)) => Ok(proj),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("PROJ cannot use this definition (it gave no reason)".into()),
    }
}

/// The `proj` crate's panic message when PROJ fails without saying why.
const PROJ_SILENT: &str = "PROJ did not supply an error";

/// A CRS that a file declares but that says nothing: GeoPackage's undefined systems
/// (srs_id 0, -1 and the 99999 that GDAL and QGIS write), `undefined`, and local or
/// engineering CRSs such as `LOCAL_CS["Undefined SRS"]`, whose coordinates have no place
/// on the earth. Such a layer is read like one without a CRS.
pub fn is_undefined(definition: &str) -> bool {
    let text = definition.trim();
    let head: String = text
        .chars()
        .take(24)
        .collect::<String>()
        .to_ascii_uppercase();
    text.is_empty()
        || text.eq_ignore_ascii_case("undefined")
        || head.starts_with("LOCAL_CS[")
        || head.starts_with("ENGCRS[")
        || head.starts_with("ENGINEERINGCRS[")
        || text.to_ascii_lowercase().contains("undefined srs")
        || text
            .to_ascii_lowercase()
            .contains("undefined cartesian srs")
        || text
            .to_ascii_lowercase()
            .contains("undefined geographic srs")
}

/// WGS 84 in either axis label is the same longitude/latitude for output purposes.
fn same_datum_lonlat(a: &str, b: &str) -> bool {
    let wgs84 = |c: &str| c == "OGC:CRS84" || c == "EPSG:4326";
    wgs84(a) && wgs84(b)
}

/// Checks that a CRS name is known to PROJ.
pub fn check_known(crs: &str) -> Result<(), String> {
    Transform::new(crs, LONLAT).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crs_names_are_normalised() {
        assert_eq!(
            normalise_crs_name("urn:ogc:def:crs:EPSG::25832"),
            "EPSG:25832"
        );
        assert_eq!(
            normalise_crs_name("urn:ogc:def:crs:EPSG:6.6:4326"),
            "EPSG:4326"
        );
        assert_eq!(
            normalise_crs_name("urn:ogc:def:crs:OGC:1.3:CRS84"),
            "OGC:CRS84"
        );
        assert_eq!(normalise_crs_name("epsg:25833"), "EPSG:25833");
        assert_eq!(normalise_crs_name("CRS84"), "OGC:CRS84");
    }

    #[test]
    fn utm_zone_of_german_cities() {
        assert_eq!(utm_for(7.63, 51.96), "EPSG:25832"); // Münster
        assert_eq!(utm_for(13.4, 52.5), "EPSG:25833"); // Berlin
        assert_eq!(utm_for(-74.0, 40.7), "EPSG:32618");
        assert_eq!(utm_for(151.2, -33.9), "EPSG:32756");
    }

    #[test]
    fn reprojects_muenster_both_ways() {
        let to_metric = Transform::new("EPSG:4326", "EPSG:25832").unwrap();
        let mut points = vec![(7.6261, 51.9607)];
        to_metric.apply(&mut points).unwrap();
        let (x, y) = points[0];
        assert!((x - 405_000.0).abs() < 1_000.0, "{x}");
        assert!((y - 5_757_000.0).abs() < 1_000.0, "{y}");
        let back = Transform::new("EPSG:25832", LONLAT).unwrap();
        back.apply(&mut points).unwrap();
        assert!((points[0].0 - 7.6261).abs() < 1e-7);
        assert!((points[0].1 - 51.9607).abs() < 1e-7);
    }

    #[test]
    fn definitions_proj_cannot_use_are_errors_not_panics() {
        for definition in [
            r#"LOCAL_CS["Undefined SRS",LOCAL_DATUM["unknown",32767],UNIT["unknown",0],AXIS["Easting",EAST],AXIS["Northing",NORTH]]"#,
            r#"ENGCRS["local",EDATUM["x"],CS[Cartesian,2],AXIS["x",east],AXIS["y",north],LENGTHUNIT["metre",1]]"#,
            "PROJCS[",
            "+proj=",
            "",
        ] {
            assert!(check_known(definition).is_err(), "{definition}");
        }
        assert!(is_undefined(r#"LOCAL_CS["Undefined SRS"]"#));
        assert!(is_undefined("undefined"));
        assert!(!is_undefined("EPSG:25832"));
    }

    #[test]
    fn unknown_crs_is_an_error() {
        assert!(check_known("EPSG:999999").is_err());
        assert!(check_known("EPSG:25832").is_ok());
    }
}
