//! The city and the plan as pure data: districts, sites, facilities, rules and the plan.
//! No I/O happens here; `io` builds these types from files, `solve` and `check` read them.
//!
//! All positions are in the metric CRS of the scenario (Euclidean metres); each feature also
//! keeps its WGS84 longitude/latitude for output.

use geo::MultiPolygon;

/// A planning district (Stadtteil, statistischer Bezirk, grid cell).
#[derive(Debug, Clone)]
pub struct District {
    pub id: String,
    pub name: String,
    /// Residents.
    pub population: f64,
    /// Sets the fair-share target (defaults to the population).
    pub weight: f64,
    /// Refugee places already in the district outside the listed sites (property `existing`).
    pub existing: f64,
    /// Outline in the metric CRS.
    pub area: MultiPolygon<f64>,
    /// Outline in WGS84 longitude/latitude, for output.
    pub area_lonlat: MultiPolygon<f64>,
    /// The district rule that applies here (index into `Rules::district`: the first rule
    /// whose condition holds for this district), `None` when no rule's condition holds.
    pub rule: Option<usize>,
}

/// What a site is in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SiteStatus {
    /// May receive new places.
    Candidate,
    /// Accommodation in use: has occupied places and may be extended up to its capacity.
    Existing,
    /// Not available (rejected by the council, building sold, …).
    Excluded,
}

impl SiteStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SiteStatus::Candidate => "candidate",
            SiteStatus::Existing => "existing",
            SiteStatus::Excluded => "excluded",
        }
    }

    pub fn parse(text: &str) -> Option<SiteStatus> {
        match text.trim().to_ascii_lowercase().as_str() {
            "candidate" | "" => Some(SiteStatus::Candidate),
            "existing" => Some(SiteStatus::Existing),
            "excluded" => Some(SiteStatus::Excluded),
            _ => None,
        }
    }
}

/// A building or plot that may hold refugee places.
#[derive(Debug, Clone)]
pub struct Site {
    pub id: String,
    /// Position in the metric CRS (interior point for footprints). Output reprojects the
    /// sites it shows to WGS84 (`io::plan_report::shown_sites`).
    pub position: [f64; 2],
    /// Places the building can hold in total (occupied included).
    pub capacity: u32,
    pub status: SiteStatus,
    /// Places already occupied (existing sites only; 0 otherwise).
    pub occupied: u32,
    /// If the site is used at all it gets at least this many new places (0 = no minimum).
    pub min_places: u32,
    /// Cost per new place, if known.
    pub cost: Option<f64>,
}

/// A school, Kita, transit stop or other point facility.
#[derive(Debug, Clone)]
pub struct Facility {
    pub id: String,
    pub position: [f64; 2],
    /// Free seats (schools, Kitas), when the layer has them.
    pub seats: Option<f64>,
}

/// All facilities of one kind ("school", "kita", "transit", …).
#[derive(Debug, Clone)]
pub struct FacilityLayer {
    pub kind: String,
    pub facilities: Vec<Facility>,
}

/// Decentralisation rule: within `metres` of any site at most `max_places` places in total.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spacing {
    pub metres: f64,
    pub max_places: u32,
}

/// Access rule for one facility kind: the nearest facility must lie within `metres`.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    pub kind: String,
    pub metres: f64,
}

/// School or Kita seats: each place brings `per_place` children to its nearest facility of `kind`.
#[derive(Debug, Clone, PartialEq)]
pub struct Seats {
    pub kind: String,
    pub per_place: f64,
}

/// The planning rules of docs/model.md (hard constraints).
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// Places per site, occupied ones included (Münster: 50).
    pub max_per_site: u32,
    /// A district may hold at most this share of its population (0.015 = 1.5 %).
    pub max_share: Option<f64>,
    pub spacing: Option<Spacing>,
    pub access: Vec<Access>,
    pub seats: Option<Seats>,
    /// `[[rules.district]]`: caps for the districts where a condition holds (which districts
    /// that are is decided when loading and kept in `District::rule`).
    pub district: Vec<DistrictRule>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            max_per_site: 50,
            max_share: None,
            spacing: None,
            access: Vec::new(),
            seats: None,
            district: Vec::new(),
        }
    }
}

/// A district rule: where `condition` holds, rule 4 with the district's own share cap
/// (`max_share` instead of the general one) and/or a cap on its new places (`max_new`).
#[derive(Debug, Clone, PartialEq)]
pub struct DistrictRule {
    /// The condition as written (`where`), an expression over district properties.
    pub condition: String,
    /// Share of the district's population it may hold at most, instead of `Rules::max_share`.
    pub max_share: Option<f64>,
    /// New places the district may get at most.
    pub max_new: Option<u64>,
}

impl DistrictRule {
    /// How the rule is named in `districts.geojson` (`rule`) and messages: its condition.
    pub fn label(&self) -> &str {
        &self.condition
    }

    /// Its caps for messages: `max_share 0.005, max_new 40`.
    pub fn caps(&self) -> String {
        let mut caps = Vec::new();
        if let Some(share) = self.max_share {
            caps.push(format!("max_share {share}"));
        }
        if let Some(max_new) = self.max_new {
            caps.push(format!("max_new {max_new}"));
        }
        caps.join(", ")
    }
}

impl Instance {
    /// The district rule that applies to district `d`, if any.
    pub fn district_rule(&self, d: usize) -> Option<&DistrictRule> {
        self.districts[d]
            .rule
            .and_then(|r| self.rules.district.get(r))
    }

    /// The districts district rule `r` applies to (each district takes the first rule whose
    /// condition holds there), in the layer's order.
    pub fn districts_of_rule(&self, r: usize) -> Vec<usize> {
        (0..self.districts.len())
            .filter(|&d| self.districts[d].rule == Some(r))
            .collect()
    }

    /// The district rules that apply to no district: their condition holds nowhere, or only
    /// where an earlier rule applies. The planner surely meant them to cap something.
    pub fn district_rules_without_districts(&self) -> Vec<usize> {
        (0..self.rules.district.len())
            .filter(|&r| self.districts.iter().all(|d| d.rule != Some(r)))
            .collect()
    }
}

/// One stage of the lexicographic objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// A: place as much as possible.
    Shortfall,
    /// B: sum of absolute deviations from the fair share.
    Evenness,
    /// F: the deficits below the fair shares, squared and divided by the share: the
    /// unavoidable deficit spread in proportion to the shares.
    Fair,
    /// C: the largest absolute deviation of any district.
    Worst,
    /// S: the largest number of new places within `spread_metres` of any site.
    Spread,
    /// E: the place-weighted distance to the nearest facility of each access kind.
    Access,
    /// D: cost of the new places.
    Cost,
}

impl Stage {
    /// The stages run when the scenario names none (docs/model.md): shortfall, evenness,
    /// fair, worst, cost.
    pub const DEFAULT: [Stage; 5] = [
        Stage::Shortfall,
        Stage::Evenness,
        Stage::Fair,
        Stage::Worst,
        Stage::Cost,
    ];

    /// Every stage there is, in the order the model lists them.
    pub const EVERY: [Stage; 7] = [
        Stage::Shortfall,
        Stage::Evenness,
        Stage::Fair,
        Stage::Worst,
        Stage::Spread,
        Stage::Access,
        Stage::Cost,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Shortfall => "shortfall",
            Stage::Evenness => "evenness",
            Stage::Fair => "fair",
            Stage::Worst => "worst",
            Stage::Spread => "spread",
            Stage::Access => "access",
            Stage::Cost => "cost",
        }
    }

    pub fn parse(text: &str) -> Option<Stage> {
        Stage::EVERY.into_iter().find(|s| s.name() == text)
    }

    /// Stages whose objective is a sum of a number per new place (cost, distance): inside a
    /// district they decide which sites fill first.
    pub fn is_per_place(self) -> bool {
        matches!(self, Stage::Access | Stage::Cost)
    }
}

/// One level of a demand forecast: `places` new places in all, counted with `weight` in
/// each stage's weighted sum over the levels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    pub places: u64,
    pub weight: f64,
}

/// Settings of the objective stages beyond their order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectiveOptions {
    /// Radius of the neighbourhoods of stage `spread`; `None`: the spacing radius, else 500 m.
    pub spread_metres: Option<f64>,
    /// Facility kinds of stage `access`; `None`: every facility kind of the scenario.
    pub access_kinds: Option<Vec<String>>,
}

/// Radius of stage `spread` when neither the scenario nor a spacing rule sets one.
pub const DEFAULT_SPREAD_METRES: f64 = 500.0;

/// Options handed to HiGHS.
#[derive(Debug, Clone, PartialEq)]
pub struct SolverOptions {
    pub time_limit_s: Option<f64>,
    /// Relative MIP gap at which HiGHS may stop.
    pub mip_gap: f64,
    /// 0 = all cores.
    pub threads: u32,
    /// From this many sites that may take places on, the spread stage first tries its
    /// bound and plan without the LP (`solve::spread::quick`); not a scenario key (tests lower it).
    pub quick_spread_from_sites: usize,
}

impl Default for SolverOptions {
    fn default() -> Self {
        SolverOptions {
            time_limit_s: None,
            mip_gap: DEFAULT_MIP_GAP,
            threads: 0,
            quick_spread_from_sites: QUICK_SPREAD_FROM_SITES,
        }
    }
}

/// Sites that may take places from which the spread stage tries the route without the LP
/// first. Below, the LP settles the stage in well under a second (the Münster-like city's
/// 1,900 sites: 0.1 s), faster than that route's bound; at 20,000 sites it takes minutes.
pub const QUICK_SPREAD_FROM_SITES: usize = 10_000;

/// Default relative gap: small enough that the reported optimum is the optimum, not a bound.
pub const DEFAULT_MIP_GAP: f64 = 1e-6;

/// A loaded scenario: the city, the demand and the rules.
#[derive(Debug, Clone)]
pub struct Instance {
    pub name: String,
    pub districts: Vec<District>,
    pub sites: Vec<Site>,
    pub facilities: Vec<FacilityLayer>,
    /// The CRS of every position, in metres (such as EPSG:25832); output is reprojected
    /// from it to WGS84.
    pub metric_crs: String,
    /// New places to allocate (N); with levels, the last level's.
    pub demand: u64,
    /// Demand levels of an uncertain forecast, increasing, the last one `demand`; empty for
    /// a single demand. One nested plan grows level by level.
    pub levels: Vec<Level>,
    pub rules: Rules,
    /// Objective stages in order (always begins with `Shortfall`, `Evenness`).
    pub stages: Vec<Stage>,
    pub objective: ObjectiveOptions,
    pub solver: SolverOptions,
    /// The street network of `[input] network`: with it, distances from sites to facilities
    /// are walked along the streets (docs/model.md "Distances on foot").
    pub network: Option<Streets>,
}

/// A street network as read: its lines in the metric CRS, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Streets {
    /// One entry per line (a MultiLineString gives one per part), in file order; lines meet
    /// only where they share a vertex (to 1 cm).
    pub lines: Vec<StreetLine>,
    /// Sites and facilities farther than this from every line are off the network.
    pub max_snap_m: f64,
}

/// One line of the street network.
#[derive(Debug, Clone, PartialEq)]
pub struct StreetLine {
    /// The feature's id (its index in the file when it has none), for messages.
    pub id: String,
    /// Vertices in the metric CRS, in order.
    pub points: Vec<[f64; 2]>,
}

/// Default `[network] max_snap_m`.
pub const DEFAULT_MAX_SNAP_M: f64 = 300.0;

impl Instance {
    pub fn facility_layer(&self, kind: &str) -> Option<&FacilityLayer> {
        self.facilities.iter().find(|layer| layer.kind == kind)
    }

    /// The demand levels, at least one (a single demand is one level of weight 1).
    pub fn demand_levels(&self) -> Vec<Level> {
        if self.levels.is_empty() {
            vec![Level {
                places: self.demand,
                weight: 1.0,
            }]
        } else {
            self.levels.clone()
        }
    }

    /// Radius of stage `spread`: `spread_metres`, else the spacing radius, else 500 m.
    pub fn spread_metres(&self) -> f64 {
        self.objective
            .spread_metres
            .or(self.rules.spacing.map(|s| s.metres))
            .unwrap_or(DEFAULT_SPREAD_METRES)
    }

    /// Facility kinds of stage `access` (and of the mean distances reported), in the order
    /// of the facility layers: `access_kinds`, else every kind.
    pub fn access_kinds(&self) -> Vec<String> {
        match &self.objective.access_kinds {
            Some(kinds) => kinds.clone(),
            None => self.facilities.iter().map(|l| l.kind.clone()).collect(),
        }
    }
}

/// New places per site, indexed like `Instance::sites`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub places: Vec<u32>,
}

impl Plan {
    pub fn empty(sites: usize) -> Plan {
        Plan {
            places: vec![0; sites],
        }
    }

    pub fn placed(&self) -> u64 {
        self.places.iter().map(|&p| u64::from(p)).sum()
    }
}
