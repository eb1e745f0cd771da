//! STUB (replaced by the generator module).
use std::io::Write;
pub struct GridSpec {
    pub cells: u32,
    pub sites: u64,
    pub seed: u64,
}
pub struct DemoSpec {
    pub seed: u64,
}
pub const LAYER_FILES: [&str; 5] = [
    "districts.geojson",
    "sites.geojson",
    "schools.geojson",
    "kitas.geojson",
    "stops.geojson",
];
pub fn write_grid_layer(_: &GridSpec, _: &str, _: &mut impl Write) -> std::io::Result<u64> {
    Ok(0)
}
pub fn grid_scenario_toml(_: &GridSpec) -> String {
    String::new()
}
pub fn write_demo_layer(_: &DemoSpec, _: &str, _: &mut impl Write) -> std::io::Result<u64> {
    Ok(0)
}
pub fn validate_grid(_: &GridSpec) -> Result<(), String> {
    Ok(())
}
