//! # quartier
//!
//! Even, decentralised placement of refugee accommodation across the districts of a city.
//!
//! quartier reads district polygons with population, candidate and existing sites, and
//! facilities (schools, Kitas, transit stops) as GeoJSON, GeoPackage or Shapefile, joins the
//! statistics office's table to the districts, and places the demanded number of
//! places as evenly as possible across districts under the rules planners use (at most 50
//! per site, district share caps, spacing, access to facilities, school seats). The model
//! is in `docs/model.md`: a lexicographic integer program solved with HiGHS.
//!
//! The data flows one way:
//! `io` (scenario, layers) → `model` → `spatial` (R-trees) → `solve` → `Plan` → `check`
//! (an independent verifier) and `io` (GeoJSON, summary).
//!
//! ```
//! use quartier::model::{Instance, Plan};
//! use quartier::spatial::Geography;
//! use quartier::solve::{solve, Prepared};
//! use quartier::check::check_plan;
//! # use quartier::model::*;
//! # use geo::{polygon, MultiPolygon};
//! # let square = |x: f64, id: &str, population: f64| District {
//! #     id: id.into(), name: id.into(), population, weight: population, existing: 0.0,
//! #     area: MultiPolygon(vec![polygon![(x: x, y: 0.0), (x: x + 100.0, y: 0.0), (x: x + 100.0, y: 100.0), (x: x, y: 100.0)]]),
//! #     area_lonlat: MultiPolygon(vec![]), rule: None,
//! # };
//! # let site = |x: f64, id: &str| Site {
//! #     id: id.into(), position: [x, 50.0], capacity: 40,
//! #     status: SiteStatus::Candidate, occupied: 0, min_places: 0, cost: None,
//! # };
//! // Two districts of 3,000 and 1,000 residents, one site in each, 40 new places.
//! let instance = Instance {
//!     name: "example".into(),
//!     districts: vec![square(0.0, "A", 3000.0), square(100.0, "B", 1000.0)],
//!     sites: vec![site(50.0, "S1"), site(150.0, "S2")],
//!     facilities: vec![],
//!     metric_crs: "EPSG:25832".into(),
//!     demand: 40,
//!     rules: Rules::default(),
//!     levels: Vec::new(),
//!     stages: Stage::DEFAULT.to_vec(),
//!     objective: ObjectiveOptions::default(),
//!     solver: SolverOptions::default(),
//!     network: None,
//! };
//! let geography = Geography::of(&instance);
//! let prepared = Prepared::new(&instance, &geography);
//! let solution = solve(&instance, &prepared).unwrap();
//! assert_eq!(solution.plan.places, vec![30, 10]); // 3 : 1, as the population
//! assert!(check_plan(&instance, &geography, &solution.plan).violations.is_empty());
//! ```

pub mod check;
pub mod cli;
pub mod error;
pub mod explain;
pub mod expr;
pub mod generate;
pub mod io;
pub mod metrics;
pub mod model;
pub mod network;
pub mod progress;
pub mod scenario;
pub mod solve;
pub mod spatial;

pub use error::{Error, InputError, Warning};
