//! Everything that touches files: the scenario, the layers (GeoJSON, GeoPackage, Shapefile)
//! and the statistics table in (with CRS handling by PROJ), the plan folder out.

pub mod compare;
pub mod crs;
mod districts;
pub mod geojson_in;
pub mod geojson_out;
pub mod gpkg;
mod json_split;
pub mod load;
pub mod output;
pub mod plan_in;
pub mod plan_report;
mod points;
pub mod qml;
mod quick_feature;
pub mod report;
pub mod shp;
pub mod statistics;
pub mod validate;

pub use load::{load_instance, load_instance_warned, load_instance_with, read_scenario};
pub use output::OutputFolder;
pub use plan_report::PlanReport;
