//! Writing: the plan folder (`sites.geojson`, `districts.geojson`, their QGIS styles,
//! `summary.json`, `report.html`), written whole or not at all. Nothing here reads an input
//! file; what the writers show of a solved scenario comes in one `PlanReport`.
//!
//! From the bottom up (each file imports only those below it):
//! - `plan_report`: the plan with its figures, as handed to the writers; `geojson_out`: the
//!   GeoJSON writer; `qml`: the layer styles; `html`: German numbers, escaping, the page head.
//! - `charts`: the map and the charts of the page (SVG); `report`: the page.
//! - `output`: the output folder and what goes into it.

pub mod charts;
pub mod geojson_out;
pub mod html;
pub mod output;
pub mod plan_report;
pub mod qml;
pub mod report;
