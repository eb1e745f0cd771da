//! The independent checker: audits any plan against every rule of docs/model.md and recomputes
//! the figures. It derives every limit from the model's definitions itself and never looks
//! at `solve` (they meet only in the tests), so a bug in one is caught by the other.
//!
//! One file per rule family; every violation is collected, not only the first.

mod access;
mod demand;
mod seats;
mod share;
mod sites;
mod spacing;
mod walk;

pub use walk::{walk_distances, Unreachable, TIE_M};

use std::fmt;

use crate::metrics::{figures_at, Figures};
use crate::model::{Instance, Plan};
use crate::spatial::Geography;
use walk::Distances;

/// Which limit of a site its places exceed (rule 2 has two: o_s + x_s ≤ min(cap_s,
/// max_per_site)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteLimit {
    /// The site's own capacity.
    Capacity(u32),
    /// The scenario's cap per site (`[rules] max_per_site`).
    PerSite(u32),
}

/// A broken rule, with the ids and amounts a planner needs to find and fix it.
#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    /// More new places than demanded.
    Demand { placed: u64, demand: u64 },
    /// o_s + x_s above the site's capacity or above max_per_site: one violation for each
    /// limit the site exceeds.
    SiteCap {
        site: String,
        occupied: u32,
        new: u32,
        limit: SiteLimit,
    },
    /// New places at an excluded site.
    Excluded { site: String, new: u32 },
    /// New places at a site inside no district.
    Outside { site: String, new: u32 },
    /// Fewer new places than the site's minimum (and more than 0).
    MinPlaces { site: String, new: u32, min: u32 },
    /// a_d above max(max_share · pop_d, e_d) (`rule`: the district rule whose share it is).
    ShareCap {
        district: String,
        name: String,
        total: f64,
        cap: f64,
        share: f64,
        rule: Option<String>,
    },
    /// More new places in a district than its district rule's `max_new`.
    MaxNew {
        district: String,
        name: String,
        new: u64,
        max_new: u64,
        rule: String,
    },
    /// More places within the radius of a site than allowed.
    Spacing {
        site: String,
        total: u64,
        limit: u64,
        metres: f64,
        members: Vec<String>,
    },
    /// New places at a site too far from its nearest facility of a kind (`on_foot`: the
    /// distance is walked along the street network, else a straight line; `metres` is
    /// `None` when the kind has no facility at all).
    Access {
        site: String,
        kind: String,
        metres: Option<f64>,
        limit: f64,
        on_foot: bool,
    },
    /// New places at a site that reaches no facility of a kind on foot (a kind that the
    /// access rule or stage access names), and why.
    Unreachable {
        site: String,
        kind: String,
        why: Unreachable,
    },
    /// Children from the places served by a facility above its free seats.
    Seats {
        facility: String,
        kind: String,
        children: f64,
        limit: f64,
        sites: usize,
    },
    /// Demand levels: a site has fewer new places at a level than at the level before
    /// (levels counted from 1).
    Nesting {
        site: String,
        level: usize,
        places: u32,
        before: u32,
    },
}

impl Violation {
    /// The rule family, as named in `limited_by` and `shortfall_reasons`.
    pub fn rule(&self) -> &'static str {
        match self {
            Violation::Demand { .. } => "demand",
            Violation::SiteCap { .. } => "site_cap",
            Violation::Excluded { .. } => "status",
            Violation::Outside { .. } => "outside",
            Violation::MinPlaces { .. } => "min_places",
            Violation::ShareCap { .. } => "share_cap",
            Violation::MaxNew { .. } => "max_new",
            Violation::Spacing { .. } => "spacing",
            Violation::Access { .. } => "access",
            Violation::Unreachable { .. } => "unreachable",
            Violation::Seats { .. } => "seats",
            Violation::Nesting { .. } => "nesting",
        }
    }
}

fn number(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    let text = if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.2}")
    };
    // Thousands separators for readability: 12345 → 12,345.
    let (whole, fraction) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    let negative = whole.starts_with('-');
    let digits = whole.trim_start_matches('-');
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!(
        "{}{grouped}{}",
        if negative { "-" } else { "" },
        fraction.map_or(String::new(), |f| format!(".{f}"))
    )
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Demand { placed, demand } => write!(
                f,
                "the plan places {} new places, more than the demand of {}",
                number(*placed as f64),
                number(*demand as f64)
            ),
            Violation::SiteCap { site, occupied, new, limit } => {
                let why = match limit {
                    SiteLimit::PerSite(cap) => format!("the cap of {cap} per site"),
                    SiteLimit::Capacity(capacity) => format!("its capacity of {capacity}"),
                };
                write!(
                    f,
                    "site \"{site}\": {} places ({occupied} occupied + {new} new) exceed {why}",
                    occupied + new
                )
            }
            Violation::Excluded { site, new } => {
                write!(f, "site \"{site}\" gets {new} new places but its status is excluded")
            }
            Violation::Outside { site, new } => {
                write!(f, "site \"{site}\" gets {new} new places but lies in no district")
            }
            Violation::MinPlaces { site, new, min } => write!(
                f,
                "site \"{site}\" gets {new} new places; if used at all it needs at least {min}"
            ),
            Violation::ShareCap { district, name, total, cap, share, rule } => write!(
                f,
                "district {district} \"{name}\": {} places exceed the share cap of {} % ({}){}",
                number(*total),
                number(share * 100.0),
                number(cap.floor()),
                rule.as_ref().map_or(String::new(), |r| format!(" of the district rule where {r}"))
            ),
            Violation::MaxNew { district, name, new, max_new, rule } => write!(
                f,
                "district {district} \"{name}\": {} new places exceed max_new = {} of the district rule where {rule}",
                number(*new as f64),
                number(*max_new as f64)
            ),
            Violation::Spacing { site, total, limit, metres, members } => {
                let mut shown: Vec<String> = members.iter().take(5).map(|m| format!("\"{m}\"")).collect();
                if members.len() > 5 {
                    shown.push("…".into());
                }
                write!(
                    f,
                    "site \"{site}\": {} places within {} m of it ({}) exceed the spacing limit of {}",
                    number(*total as f64),
                    number(*metres),
                    shown.join(", "),
                    number(*limit as f64)
                )
            }
            Violation::Access { site, kind, metres, limit, on_foot } => match metres {
                Some(m) => write!(
                    f,
                    "site \"{site}\": nearest {kind} is {} m away{} (limit {} m)",
                    number(m.round()),
                    if *on_foot { " on foot" } else { "" },
                    number(*limit)
                ),
                None => write!(f, "site \"{site}\" gets new places but there is no {kind} at all (limit {} m)", number(*limit)),
            },
            Violation::Unreachable { site, kind, why } => {
                let why = match why {
                    Unreachable::SiteOffNetwork { metres, max_snap_m } => format!(
                        "the site is {} m from the nearest street, more than max_snap_m = {} m",
                        number(metres.round()),
                        number(*max_snap_m)
                    ),
                    Unreachable::NotInPart => format!("no {kind} in its part of the street network"),
                    Unreachable::FacilitiesOffNetwork { max_snap_m } => format!(
                        "every {kind} is more than max_snap_m = {} m from the street network",
                        number(*max_snap_m)
                    ),
                    Unreachable::NoStreet => "the street network has no street".to_string(),
                };
                write!(f, "site \"{site}\": no {kind} can be reached on foot ({why})")
            }
            Violation::Seats { facility, kind, children, limit, sites } => write!(
                f,
                "{kind} \"{facility}\": {} children from the places at the {sites} sites it serves exceed its {} free seats",
                number(*children),
                number(*limit)
            ),
            Violation::Nesting { site, level, places, before } => write!(
                f,
                "site \"{site}\": {places} new places at level {level} but {before} at level {}; places never move or close as demand grows",
                level - 1
            ),
        }
    }
}

/// The checker's verdict and the plan's figures.
#[derive(Debug, Clone)]
pub struct Report {
    pub violations: Vec<Violation>,
    pub figures: Figures,
}

/// Checks the plan against every rule of the instance.
pub fn check_plan(instance: &Instance, geography: &Geography, plan: &Plan) -> Report {
    check_plan_at(instance, geography, plan, instance.demand)
}

/// As `check_plan`, for a demand of `demand` new places (one level of a forecast).
pub fn check_plan_at(
    instance: &Instance,
    geography: &Geography,
    plan: &Plan,
    demand: u64,
) -> Report {
    let distances = Distances::measure(instance, geography, |s| has_places(instance, plan, s));
    check_with(instance, geography, &distances, plan, demand)
}

/// Sites whose distances to facilities the rules need: those with new or occupied places.
fn has_places(instance: &Instance, plan: &Plan, s: usize) -> bool {
    plan.places[s] > 0 || instance.sites[s].occupied > 0
}

fn check_with(
    instance: &Instance,
    geography: &Geography,
    distances: &Distances,
    plan: &Plan,
    demand: u64,
) -> Report {
    let figures = figures_at(instance, &geography.site_district, plan, demand);
    let mut violations = Vec::new();
    demand::check(demand, plan, &mut violations);
    sites::check(instance, geography, plan, &mut violations);
    share::check(instance, &figures, &mut violations);
    spacing::check(instance, geography, plan, &mut violations);
    access::check(instance, distances, plan, &mut violations);
    seats::check(instance, geography, distances, plan, &mut violations);
    Report {
        violations,
        figures,
    }
}

/// The checker's verdict on a nested plan over demand levels: each level's report, and the
/// sites whose places fall from one level to the next.
#[derive(Debug, Clone)]
pub struct LevelsReport {
    pub levels: Vec<Report>,
    pub nesting: Vec<Violation>,
}

impl LevelsReport {
    /// Every violation: each level's (with its level, from 1), then the nesting.
    pub fn violations(&self) -> Vec<(Option<usize>, &Violation)> {
        let mut all: Vec<(Option<usize>, &Violation)> = Vec::new();
        for (l, report) in self.levels.iter().enumerate() {
            all.extend(report.violations.iter().map(|v| (Some(l + 1), v)));
        }
        all.extend(self.nesting.iter().map(|v| (None, v)));
        all
    }
}

/// Checks the plan of every level (`plans[l]` for the instance's level l) against every
/// rule at that level's demand, and that places never fall from one level to the next.
pub fn check_levels(instance: &Instance, geography: &Geography, plans: &[Plan]) -> LevelsReport {
    let levels = instance.demand_levels();
    // Walks are measured once, from the sites with places at any level.
    let distances = Distances::measure(instance, geography, |s| {
        plans.iter().any(|plan| has_places(instance, plan, s))
    });
    let reports = plans
        .iter()
        .zip(&levels)
        .map(|(plan, level)| check_with(instance, geography, &distances, plan, level.places))
        .collect();
    let mut nesting = Vec::new();
    for (l, pair) in plans.windows(2).enumerate() {
        for (s, (&before, &places)) in pair[0].places.iter().zip(&pair[1].places).enumerate() {
            if places < before {
                nesting.push(Violation::Nesting {
                    site: instance.sites[s].id.clone(),
                    level: l + 2,
                    places,
                    before,
                });
            }
        }
    }
    LevelsReport {
        levels: reports,
        nesting,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! Tiny cities for the rule tests: squares of 1 km side in a row.
    use crate::model::*;
    use geo::{polygon, MultiPolygon};

    pub fn city(populations: &[f64], sites: Vec<Site>, demand: u64) -> Instance {
        let districts = populations
            .iter()
            .enumerate()
            .map(|(i, &population)| {
                let x = i as f64 * 1000.0;
                let area = MultiPolygon(vec![polygon![
                    (x: x, y: 0.0), (x: x + 1000.0, y: 0.0), (x: x + 1000.0, y: 1000.0), (x: x, y: 1000.0)
                ]]);
                District {
                    id: format!("D{i}"),
                    name: format!("Bezirk {i}"),
                    population,
                    weight: population,
                    existing: 0.0,
                    area_lonlat: area.clone(),
                    rule: None,
                    area,
                }
            })
            .collect();
        Instance {
            name: "test".into(),
            districts,
            sites,
            facilities: Vec::new(),
            metric_crs: "EPSG:25832".into(),
            demand,
            rules: Rules::default(),
            levels: Vec::new(),
            stages: Stage::DEFAULT.to_vec(),
            objective: ObjectiveOptions::default(),
            solver: SolverOptions::default(),
            network: None,
        }
    }

    pub fn site(id: &str, x: f64, y: f64, capacity: u32) -> Site {
        Site {
            id: id.into(),
            position: [x, y],
            capacity,
            status: SiteStatus::Candidate,
            occupied: 0,
            min_places: 0,
            cost: None,
        }
    }

    pub fn rules_broken(instance: &Instance, places: Vec<u32>) -> Vec<&'static str> {
        let geography = crate::spatial::Geography::of(instance);
        super::check_plan(instance, &geography, &Plan { places })
            .violations
            .iter()
            .map(|v| v.rule())
            .collect()
    }

    #[test]
    fn a_valid_plan_has_no_violation() {
        let inst = city(
            &[1000.0, 1000.0],
            vec![site("A", 500.0, 500.0, 20), site("B", 1500.0, 500.0, 20)],
            20,
        );
        assert!(rules_broken(&inst, vec![10, 10]).is_empty());
        assert!(
            rules_broken(&inst, vec![0, 0]).is_empty(),
            "a shortfall is not a violation"
        );
    }

    #[test]
    fn every_violation_is_collected() {
        let inst = city(
            &[1000.0],
            vec![site("A", 500.0, 500.0, 20), site("B", 600.0, 500.0, 20)],
            20,
        );
        assert_eq!(
            rules_broken(&inst, vec![30, 30]),
            vec!["demand", "site_cap", "site_cap"]
        );
    }
}
