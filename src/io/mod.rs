//! Everything that touches files: the scenario and GeoJSON layers in (with CRS handling by
//! PROJ), the plan folder out.

pub mod compare;
pub mod crs;
pub mod geojson_in;
pub mod geojson_out;
pub mod load;
pub mod output;
pub mod plan_in;
pub mod plan_report;
pub mod qml;
pub mod report;

pub use load::{load_instance, load_instance_with, read_scenario};
pub use output::OutputFolder;
pub use plan_report::PlanReport;
