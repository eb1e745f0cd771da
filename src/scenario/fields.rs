//! `[fields]`: the property names of the district, site and facility layers, with the
//! defaults of the scenario format.

use serde::Deserialize;

/// Property names of the district layer.
#[derive(Debug, Clone, PartialEq)]
pub struct DistrictFields {
    pub id: String,
    pub name: String,
    pub population: String,
    /// The fair-share key: a property name or an expression over district properties;
    /// the population property when the scenario sets none.
    pub weight: String,
    pub existing: String,
}

impl Default for DistrictFields {
    fn default() -> Self {
        DistrictFields {
            id: "id".into(),
            name: "name".into(),
            population: "population".into(),
            weight: "population".into(),
            existing: "existing".into(),
        }
    }
}

/// `[fields.districts]` as written: `weight` defaults to whatever `population` names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDistrictFields {
    id: Option<String>,
    name: Option<String>,
    population: Option<String>,
    weight: Option<String>,
    existing: Option<String>,
}

impl RawDistrictFields {
    pub(super) fn resolve(self) -> DistrictFields {
        let defaults = DistrictFields::default();
        let population = self.population.unwrap_or(defaults.population);
        DistrictFields {
            id: self.id.unwrap_or(defaults.id),
            name: self.name.unwrap_or(defaults.name),
            weight: self.weight.unwrap_or_else(|| population.clone()),
            population,
            existing: self.existing.unwrap_or(defaults.existing),
        }
    }
}

/// Property names of the site layer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteFields {
    pub id: String,
    pub capacity: String,
    pub status: String,
    pub occupied: String,
    pub min_places: String,
    pub cost: String,
}

impl Default for SiteFields {
    fn default() -> Self {
        SiteFields {
            id: "id".into(),
            capacity: "capacity".into(),
            status: "status".into(),
            occupied: "occupied".into(),
            min_places: "min_places".into(),
            cost: "cost".into(),
        }
    }
}

/// Property names of the facility layers (`[fields.facilities]`, see docs/scenario.md).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FacilityFields {
    pub id: String,
    pub seats: String,
}

impl Default for FacilityFields {
    fn default() -> Self {
        FacilityFields {
            id: "id".into(),
            seats: "seats".into(),
        }
    }
}
