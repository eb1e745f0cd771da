//! Writing the plan as RFC 7946 GeoJSON that QGIS opens as it is: WGS84 longitude/latitude,
//! no `crs` member, at most 7 decimals, exterior rings counter-clockwise.

use std::io::{self, Write};

use geo::orient::{Direction, Orient};
use geo::MultiPolygon;
use serde_json::{json, Map, Value};

/// One output feature: a geometry and its properties.
pub enum Shape<'a> {
    Point([f64; 2]),
    Area(&'a MultiPolygon<f64>),
    /// A line through longitude/latitude positions (the ways on foot).
    Line(&'a [[f64; 2]]),
}

/// Writes a FeatureCollection feature by feature (no tree of the whole layer in memory).
pub fn write_collection<'a, W: Write>(
    out: &mut W,
    features: impl Iterator<Item = (Shape<'a>, Map<String, Value>)>,
) -> io::Result<()> {
    out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    let mut first = true;
    for (shape, properties) in features {
        if !first {
            out.write_all(b",\n")?;
        }
        first = false;
        out.write_all(b"{\"type\":\"Feature\",\"geometry\":")?;
        match shape {
            Shape::Point(p) => {
                out.write_all(b"{\"type\":\"Point\",\"coordinates\":")?;
                write_position(out, p)?;
                out.write_all(b"}")?;
            }
            Shape::Area(area) => write_multipolygon(out, area)?,
            Shape::Line(points) => {
                out.write_all(b"{\"type\":\"LineString\",\"coordinates\":[")?;
                for (i, &p) in points.iter().enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    write_position(out, p)?;
                }
                out.write_all(b"]}")?;
            }
        }
        out.write_all(b",\"properties\":")?;
        serde_json::to_writer(&mut *out, &properties)?;
        out.write_all(b"}")?;
    }
    out.write_all(b"\n]}\n")
}

fn write_position<W: Write>(out: &mut W, p: [f64; 2]) -> io::Result<()> {
    write!(out, "[{},{}]", degrees(p[0]), degrees(p[1]))
}

/// At most 7 decimals (about 1 cm), trailing zeros dropped.
fn degrees(value: f64) -> String {
    let text = format!("{value:.7}");
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" {
        "0".into()
    } else {
        trimmed.to_string()
    }
}

fn write_multipolygon<W: Write>(out: &mut W, area: &MultiPolygon<f64>) -> io::Result<()> {
    // RFC 7946: exterior rings counter-clockwise, holes clockwise.
    let oriented = area.orient(Direction::Default);
    let ring = |out: &mut W, line: &geo::LineString<f64>| -> io::Result<()> {
        out.write_all(b"[")?;
        for (i, c) in line.0.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            write_position(out, [c.x, c.y])?;
        }
        out.write_all(b"]")
    };
    let polygon = |out: &mut W, p: &geo::Polygon<f64>| -> io::Result<()> {
        out.write_all(b"[")?;
        ring(out, p.exterior())?;
        for hole in p.interiors() {
            out.write_all(b",")?;
            ring(out, hole)?;
        }
        out.write_all(b"]")
    };
    if let [single] = &oriented.0[..] {
        out.write_all(b"{\"type\":\"Polygon\",\"coordinates\":")?;
        polygon(out, single)?;
    } else {
        out.write_all(b"{\"type\":\"MultiPolygon\",\"coordinates\":[")?;
        for (i, p) in oriented.0.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            polygon(out, p)?;
        }
        out.write_all(b"]")?;
    }
    out.write_all(b"}")
}

/// Rounds for output: figures that are shares of places keep 3 decimals.
pub fn round3(value: f64) -> Value {
    let rounded = (value * 1000.0).round() / 1000.0;
    json!(if rounded == 0.0 { 0.0 } else { rounded })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn writes_valid_geojson_with_ccw_rings_and_7_decimals() {
        // Clockwise input ring.
        let area = MultiPolygon(vec![polygon![
            (x: 7.0, y: 51.0),
            (x: 7.0, y: 52.0),
            (x: 8.123456789, y: 52.0),
            (x: 8.0, y: 51.0)
        ]]);
        let mut props = Map::new();
        props.insert("name".into(), json!("Südviertel"));
        let mut out = Vec::new();
        write_collection(
            &mut out,
            vec![
                (Shape::Area(&area), props.clone()),
                (Shape::Point([7.5, 51.5]), props),
            ]
            .into_iter(),
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("8.1234568"), "{text}");
        assert!(!text.contains("crs"));
        let parsed: Value = serde_json::from_str(&text).unwrap();
        let ring = &parsed["features"][0]["geometry"]["coordinates"][0];
        let points: Vec<(f64, f64)> = ring
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect();
        let twice_area: f64 = points
            .windows(2)
            .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
            .sum();
        assert!(twice_area > 0.0, "exterior ring must be counter-clockwise");
        assert_eq!(parsed["features"][1]["properties"]["name"], "Südviertel");
    }

    #[test]
    fn degrees_are_trimmed() {
        assert_eq!(degrees(7.5), "7.5");
        assert_eq!(degrees(7.0), "7");
        assert_eq!(degrees(-0.00000001), "0");
        assert_eq!(degrees(51.123456789), "51.1234568");
    }
}
