//! The district layer: polygons with population, weight expression, existing places and
//! per-district rules, the statistics table joined by district id, and the outlines
//! checked; then reprojected.

use std::cell::RefCell;
use std::collections::HashMap;

use geo::MultiPolygon;

use super::feature::{
    check_polygons, feature_error, flatten, place, rebuild, reproject, transform, unique_ids,
    RawLayerData,
};
use super::layer::{format_number, Feature, Geom, Layer, PolygonRings};
use super::statistics::Table;
use super::validate::{is_flat, ring_crossing};
use crate::error::{InputError, Warning};
use crate::expr::Expression;
use crate::io::crs::{self, LONLAT};
use crate::model::District;
use crate::scenario::{suggestion, Scenario};

pub(super) struct RawDistrict {
    district: District,
    polygons: Vec<PolygonRings>,
}

/// Where a district property comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    Layer,
    /// A column of the statistics table.
    Column(usize),
    Nowhere,
}

/// The district layer and the statistics table as one set of district properties.
struct DistrictProperties<'a> {
    layer: &'a Layer,
    /// The id property of the layer.
    id_key: &'a str,
    table: Option<&'a Table>,
    /// The table row of each district.
    rows: Vec<usize>,
    sources: RefCell<HashMap<String, Source>>,
}

impl<'a> DistrictProperties<'a> {
    /// Where `name` comes from; a name in both the layer and the table is an error.
    fn source(&self, name: &str, used_in: &str) -> Result<Source, InputError> {
        if let Some(&known) = self.sources.borrow().get(name) {
            return Ok(known);
        }
        let in_layer = self.layer.has_property(name);
        let column = self.table.and_then(|t| t.column(name));
        let source = match (in_layer, column, self.table) {
            (true, Some(_), Some(table)) => {
                return Err(InputError::new(
                    &table.file,
                    format!(
                        "column \"{name}\" is also a property of the district layer {}; the scenario uses \"{name}\" ({used_in}), so quartier cannot tell which is meant: rename the column or the property",
                        self.layer.file
                    ),
                ))
            }
            (true, _, _) => Source::Layer,
            (false, Some(c), _) => Source::Column(c),
            (false, None, _) => Source::Nowhere,
        };
        self.sources.borrow_mut().insert(name.to_string(), source);
        Ok(source)
    }

    /// The error for a property that is nowhere: with a table, the table is named with the
    /// closest column; otherwise the first feature.
    fn nowhere(&self, name: &str, used_in: &str) -> InputError {
        let mut known = self.layer.property_names();
        if let Some(table) = self.table {
            known.extend(table.header.iter().cloned());
        }
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        let hint = suggestion(name, &known);
        match self.table {
            Some(table) => InputError::new(
                &table.file,
                format!(
                    "no column \"{name}\"{hint}, and the district layer {} has no such property either; the scenario uses it ({used_in})",
                    self.layer.file
                ),
            ),
            None => {
                let first = &self.layer.features[0];
                let id = first.id_text(self.id_key);
                feature_error(
                    self.layer,
                    first,
                    id.as_deref(),
                    format!("property \"{name}\" is missing{hint} ({used_in})"),
                )
            }
        }
    }

    /// The number of property `name` for district `d`; `Ok(None)` when missing or empty.
    fn number(
        &self,
        d: usize,
        id: &str,
        name: &str,
        used_in: &str,
    ) -> Result<Option<f64>, InputError> {
        match self.source(name, used_in)? {
            Source::Layer => {
                let feature = &self.layer.features[d];
                feature
                    .number(name)
                    .map_err(|m| feature_error(self.layer, feature, Some(id), m))
            }
            Source::Column(c) => {
                let table = self.table.expect("a column comes from a table");
                let row = self.rows[d];
                if table.text(row, c).is_empty() {
                    return Ok(None);
                }
                table.number(row, c).map(Some)
            }
            Source::Nowhere => Ok(None),
        }
    }

    /// As `number`, for a property that must be there.
    fn required(&self, d: usize, id: &str, name: &str, used_in: &str) -> Result<f64, InputError> {
        match self.number(d, id, name, used_in)? {
            Some(x) => Ok(x),
            None if self.source(name, used_in)? == Source::Nowhere => {
                Err(self.nowhere(name, used_in))
            }
            None => Err(self.missing(d, id, name, used_in)),
        }
    }

    /// A property missing (or an empty cell) in one district.
    fn missing(&self, d: usize, id: &str, name: &str, used_in: &str) -> InputError {
        match self.sources.borrow().get(name) {
            Some(Source::Column(c)) => {
                let table = self.table.expect("a column comes from a table");
                let row = &table.rows[self.rows[d]];
                InputError::new(
                    &table.file,
                    format!(
                        "line {}, column \"{}\" (district \"{id}\"): the cell is empty; expected a number ({used_in})",
                        row.line, table.header[*c]
                    ),
                )
            }
            _ => {
                let feature = &self.layer.features[d];
                let context = if used_in.starts_with("[fields") {
                    String::new()
                } else {
                    format!(" ({used_in})")
                };
                feature_error(
                    self.layer,
                    feature,
                    Some(id),
                    format!("property \"{name}\" is missing{context}"),
                )
            }
        }
    }

    /// A text property (the district's name).
    fn text(&self, d: usize, name: &str) -> Result<Option<String>, InputError> {
        Ok(match self.source(name, "[fields.districts] name")? {
            Source::Layer => self.layer.features[d].text(name),
            Source::Column(c) => {
                let table = self.table.expect("a column comes from a table");
                let text = table.text(self.rows[d], c);
                (!text.is_empty()).then(|| text.to_string())
            }
            Source::Nowhere => None,
        })
    }

    /// Evaluates an expression for district `d`.
    fn eval<T>(
        &self,
        d: usize,
        id: &str,
        expression: &Expression,
        used_in: &str,
        eval: impl Fn(&Expression, &dyn Fn(&str) -> Result<f64, String>) -> Result<T, String>,
    ) -> Result<T, InputError> {
        let failed: RefCell<Option<InputError>> = RefCell::new(None);
        let value = |name: &str| -> Result<f64, String> {
            match self.required(d, id, name, used_in) {
                Ok(x) => Ok(x),
                Err(e) => {
                    let message = e.message.clone();
                    failed.borrow_mut().get_or_insert(e);
                    Err(message)
                }
            }
        };
        eval(expression, &value).map_err(|message| {
            failed.take().unwrap_or_else(|| {
                let feature = &self.layer.features[d];
                feature_error(
                    self.layer,
                    feature,
                    Some(id),
                    format!("{used_in}: {message}"),
                )
            })
        })
    }
}

/// The fair-share key: the population, another property, or an expression.
enum Key {
    Population,
    Property(String),
    Expression(Expression),
}

pub(super) fn read_districts(
    layer: &Layer,
    table: Option<&Table>,
    scenario: &Scenario,
    crs: &str,
    warnings: &mut Vec<Warning>,
) -> Result<RawLayerData<RawDistrict>, InputError> {
    let fields = &scenario.district_fields;
    let ids = unique_ids(layer, &fields.id)?;
    let rows = match table {
        None => Vec::new(),
        Some(table) => join_rows(layer, table, &ids, warnings)?,
    };
    let properties = DistrictProperties {
        layer,
        id_key: &fields.id,
        table,
        rows,
        sources: RefCell::new(HashMap::new()),
    };
    let population_use = "[fields.districts] population".to_string();
    // The key: a property when a layer property or column has exactly that name, else an
    // expression.
    let weight_use = format!("weight = \"{}\"", fields.weight);
    let key = if fields.weight == fields.population {
        Key::Population
    } else if layer.has_property(&fields.weight)
        || table.is_some_and(|t| t.column(&fields.weight).is_some())
    {
        Key::Property(fields.weight.clone())
    } else {
        Key::Expression(Expression::parse(&fields.weight).map_err(|e| {
            InputError::new(
                scenario.file.display(),
                format!(
                    "[fields.districts] weight = \"{}\" is neither a property of the districts nor an expression: {e}",
                    fields.weight
                ),
            )
        })?)
    };
    // Every name the scenario uses, checked once before the districts (so that a name in
    // both the layer and the table, or in neither, is said for the scenario, not for one
    // district).
    properties.source(&fields.population, &population_use)?;
    let mut used: Vec<(String, String)> = Vec::new();
    match &key {
        Key::Population => {}
        Key::Property(name) => used.push((name.clone(), weight_use.clone())),
        Key::Expression(e) => {
            used.extend(e.names().map(|n| (n.to_string(), weight_use.clone())));
        }
    }
    let condition_uses: Vec<String> = scenario
        .district_conditions
        .iter()
        .enumerate()
        .map(|(i, c)| format!("[[rules.district]] {} where = \"{}\"", i + 1, c.text))
        .collect();
    for (condition, used_in) in scenario.district_conditions.iter().zip(&condition_uses) {
        used.extend(condition.names().map(|n| (n.to_string(), used_in.clone())));
    }
    for (name, used_in) in &used {
        if properties.source(name, used_in)? == Source::Nowhere {
            return Err(properties.nowhere(name, used_in));
        }
    }
    properties.source(&fields.existing, "[fields.districts] existing")?;
    if table.is_some() {
        properties.source(&fields.name, "[fields.districts] name")?;
    }

    let mut items = Vec::with_capacity(layer.features.len());
    let mut rule_counts = vec![0usize; scenario.district_conditions.len()];
    for (d, (feature, id)) in layer.features.iter().zip(ids).enumerate() {
        let population = properties.required(d, &id, &fields.population, &population_use)?;
        if population < 0.0 {
            return Err(feature_error(
                layer,
                feature,
                Some(&id),
                format!(
                    "property \"{}\" must be a number ≥ 0, found {}",
                    fields.population,
                    format_number(population)
                ),
            ));
        }
        let weight = match &key {
            Key::Population => population,
            Key::Property(name) => properties.required(d, &id, name, &weight_use)?,
            Key::Expression(e) => {
                properties.eval(d, &id, e, &weight_use, |e, value| e.number(value))?
            }
        };
        if weight < 0.0 {
            return Err(feature_error(
                layer,
                feature,
                Some(&id),
                format!(
                    "the fair-share key {weight_use} gives {} here; a weight must be ≥ 0",
                    format_number(weight)
                ),
            ));
        }
        let mut rule = None;
        for (r, (condition, used_in)) in scenario
            .district_conditions
            .iter()
            .zip(&condition_uses)
            .enumerate()
        {
            let holds = properties.eval(d, &id, condition, used_in, |e, value| e.truth(value))?;
            if holds && rule.is_none() {
                rule = Some(r);
                rule_counts[r] += 1;
            }
        }
        let existing = properties
            .number(d, &id, &fields.existing, "[fields.districts] existing")?
            .unwrap_or(0.0);
        if existing < 0.0 {
            return Err(feature_error(
                layer,
                feature,
                Some(&id),
                format!(
                    "property \"{}\" must be a number ≥ 0, found {}",
                    fields.existing,
                    format_number(existing)
                ),
            ));
        }
        let polygons = match &feature.geometry {
            Some(Geom::Polygon(rings)) => vec![rings.clone()],
            Some(Geom::MultiPolygon(polygons)) => polygons.clone(),
            _ => {
                return Err(feature_error(
                    layer,
                    feature,
                    Some(&id),
                    format!(
                        "geometry must be a Polygon or MultiPolygon, found {}",
                        feature.geometry_type()
                    ),
                ))
            }
        };
        check_polygons(layer, feature, &id, &polygons, crs)?;
        check_district_outline(layer, feature, &id, &polygons, crs, warnings)?;
        let name = properties
            .text(d, &fields.name)?
            .unwrap_or_else(|| id.clone());
        items.push(RawDistrict {
            district: District {
                id,
                name,
                population,
                weight,
                existing,
                area: MultiPolygon(Vec::new()),
                area_lonlat: MultiPolygon(Vec::new()),
                rule,
            },
            polygons,
        });
    }
    Ok(RawLayerData {
        file: layer.file.clone(),
        crs: crs.to_string(),
        items,
    })
}

/// The table row of each district; rows that match no district are a warning.
fn join_rows(
    layer: &Layer,
    table: &Table,
    ids: &[String],
    warnings: &mut Vec<Warning>,
) -> Result<Vec<usize>, InputError> {
    let mut used = vec![false; table.rows.len()];
    let mut rows = Vec::with_capacity(ids.len());
    for (feature, id) in layer.features.iter().zip(ids) {
        let row = table.row_of(id).ok_or_else(|| {
            InputError::new(
                &table.file,
                format!(
                    "no row for district \"{id}\" ({} {}); expected a row with \"{id}\" in column \"{}\"",
                    layer.file,
                    feature.label(None),
                    table.key_name()
                ),
            )
        })?;
        used[row] = true;
        rows.push(row);
    }
    let unused: Vec<String> = (0..table.rows.len())
        .filter(|&r| !used[r])
        .map(|r| format!("line {} \"{}\"", table.rows[r].line, table.key_of(r)))
        .collect();
    if !unused.is_empty() {
        let shown: Vec<&str> = unused.iter().take(10).map(String::as_str).collect();
        warnings.push(Warning::new(
            &table.file,
            format!(
                "{} {} no district and {} not used (a totals row?): {}{}",
                unused.len(),
                if unused.len() == 1 {
                    "row matches"
                } else {
                    "rows match"
                },
                if unused.len() == 1 { "is" } else { "are" },
                shown.join(", "),
                if unused.len() > 10 { ", …" } else { "" }
            ),
        ));
    }
    Ok(rows)
}

/// A district outline that crosses itself is a warning (sites near the crossing are assigned
/// by guess); one without any area is an error (no site can lie in it).
fn check_district_outline(
    layer: &Layer,
    feature: &Feature,
    id: &str,
    polygons: &[PolygonRings],
    crs: &str,
    warnings: &mut Vec<Warning>,
) -> Result<(), InputError> {
    if polygons
        .iter()
        .filter_map(|p| p.first())
        .all(|ring| is_flat(ring))
    {
        let at = polygons[0][0][0];
        return Err(feature_error(
            layer,
            feature,
            Some(id),
            format!(
                "the outline at {} has no area (all its positions lie on a line); no site can lie in the district, so no plan can follow: fix the polygon",
                place(at, crs)
            ),
        ));
    }
    for ring in polygons.iter().flatten() {
        if let Some(at) = ring_crossing(ring) {
            warnings.push(Warning::new(
                &layer.file,
                format!(
                    "{}: the outline crosses itself at {}; which district a site near the crossing lies in is a guess: fix the polygon (QGIS: Vector → Geometry Tools → Check Validity)",
                    feature.label(Some(id)),
                    place(at, crs)
                ),
            ));
            break;
        }
    }
    Ok(())
}

/// The UTM zone at the centre of the districts' bounding box.
pub(super) fn utm_of(districts: &RawLayerData<RawDistrict>) -> Result<String, InputError> {
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for raw in &districts.items {
        for ring in raw.polygons.iter().filter_map(|p| p.first()) {
            for position in ring {
                min_x = min_x.min(position[0]);
                max_x = max_x.max(position[0]);
                min_y = min_y.min(position[1]);
                max_y = max_y.max(position[1]);
            }
        }
    }
    let mut centre = [((min_x + max_x) / 2.0, (min_y + max_y) / 2.0)];
    transform(&districts.crs, LONLAT, &districts.file)?
        .apply(&mut centre)
        .map_err(|e| InputError::new(&districts.file, e))?;
    let (lon, lat) = centre[0];
    if !(lon.is_finite() && lat.is_finite()) {
        return Err(InputError::new(
            &districts.file,
            format!(
                "cannot find the UTM zone of the districts from {}; set metric_crs in [input]",
                districts.crs
            ),
        ));
    }
    Ok(crs::utm_for(lon, lat))
}

pub(super) fn project_districts(
    raw: RawLayerData<RawDistrict>,
    metric: &str,
) -> Result<Vec<District>, InputError> {
    let originals: Vec<(f64, f64)> = raw
        .items
        .iter()
        .flat_map(|d| flatten(&d.polygons))
        .collect();
    let mut in_metric = originals.clone();
    reproject(&mut in_metric, &raw.crs, metric, &raw.file)?;
    let mut in_lonlat = originals;
    reproject(&mut in_lonlat, &raw.crs, LONLAT, &raw.file)?;
    let mut start = 0;
    Ok(raw
        .items
        .into_iter()
        .map(|item| {
            let count = item.polygons.iter().flatten().map(Vec::len).sum::<usize>();
            let range = start..start + count;
            start += count;
            District {
                area: rebuild(&item.polygons, &in_metric[range.clone()]),
                area_lonlat: rebuild(&item.polygons, &in_lonlat[range]),
                ..item.district
            }
        })
        .collect())
}
