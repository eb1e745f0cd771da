//! Reading: the scenario's layers and statistics table into an `Instance`, and the plans and
//! output folders that `verify` and `compare` read back. Nothing here writes a file.
//!
//! From the bottom up (each file imports only those below it):
//! - `layer`: the `Layer`/`Feature` every format reader builds, with typed accessors;
//!   `validate`: geometry facts (flat or self-crossing rings).
//! - `json_split`, `quick_feature`, `full_feature` → `geojson_in`; `gpkg`; `shp`: the
//!   format readers, each into a `Layer`.
//! - `file`: bytes, text, and a layer of any format by its path; `statistics`: the table.
//! - `feature`: what the readers above share (ids, positions, messages, polygon checks, a
//!   layer's CRS, reprojection).
//! - `districts`, `points`, `streets`: the layers into districts, sites and facilities, and
//!   the street network.
//! - `load`: the scenario into an `Instance`; `plan_in`, `compare`: a plan and an output
//!   folder read back.

pub mod compare;
mod districts;
mod feature;
pub mod file;
mod full_feature;
pub mod geojson_in;
pub mod gpkg;
mod json_split;
pub mod layer;
pub mod load;
pub mod plan_in;
mod points;
mod quick_feature;
pub mod shp;
pub mod statistics;
mod streets;
pub mod validate;
