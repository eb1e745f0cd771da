//! Writing a synthetic city's layers as GeoJSON, feature by feature.

use super::*;

impl City {
    /// Writes one layer; returns the number of features.
    pub fn write_layer(&self, layer: &str, out: &mut impl Write) -> io::Result<u64> {
        begin_collection(out)?;
        let mut written = 0u64;
        match layer {
            "districts.geojson" => {
                for d in &self.districts {
                    let properties = format!(
                        "\"id\":{},\"name\":{},\"bezirk\":{},\"population\":{},\"welfare_share\":{:.3},\"foreign_share\":{:.3}",
                        d.id,
                        json_string(&d.name),
                        json_string(d.bezirk),
                        d.population,
                        d.welfare,
                        d.foreign
                    );
                    polygon_feature(out, written == 0, &d.ring, &properties)?;
                    written += 1;
                }
            }
            "sites.geojson" => {
                for i in 0..self.spec.sites {
                    let s = self.site(i);
                    let mut properties = format!(
                        "\"id\":{},\"kind\":\"{}\",\"address\":{},\"capacity\":{},\"status\":\"{}\",\"occupied\":{}",
                        s.id,
                        s.kind,
                        json_string(&s.address),
                        s.capacity,
                        s.status,
                        s.occupied
                    );
                    if let Some(min) = s.min_places {
                        properties += &format!(",\"min_places\":{min}");
                    }
                    if let Some(cost) = s.cost {
                        properties += &format!(",\"cost\":{cost}");
                    }
                    point_feature(out, i == 0, s.at.0, s.at.1, &properties)?;
                    written += 1;
                }
            }
            "schools.geojson" | "kitas.geojson" | "stops.geojson" => {
                let list = match layer {
                    "schools.geojson" => &self.schools,
                    "kitas.geojson" => &self.kitas,
                    _ => &self.stops,
                };
                for f in list {
                    let mut properties =
                        format!("\"id\":{},\"name\":{}", f.id, json_string(&f.name));
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
}
