//! Everything that touches files: the scenario, the layers (GeoJSON, GeoPackage, Shapefile)
//! and the statistics table in (with CRS handling by PROJ), the plan folder out.
//!
//! `read` and `write` do not import each other; both use `crs` (PROJ), which imports
//! neither. The modules keep their old paths (`io::load`, `io::report`, …) through the
//! re-exports below.

pub mod crs;
pub mod read;
pub mod write;

pub use read::{compare, geojson_in, gpkg, load, plan_in, shp, statistics, validate};
pub use write::{geojson_out, output, plan_report, qml, report};

pub use load::{load_instance, load_instance_warned, load_instance_with, read_scenario};
pub use output::OutputFolder;
pub use plan_report::PlanReport;
