//! STUB (replaced by the checker module).
use crate::metrics::Figures;
use crate::model::{Instance, Plan};
use crate::spatial::Geography;
pub struct Report {
    pub violations: Vec<String>,
    pub figures: Figures,
}
pub fn check_plan(instance: &Instance, geography: &Geography, plan: &Plan) -> Report {
    Report {
        violations: vec![],
        figures: crate::metrics::figures(instance, &geography.site_district, plan),
    }
}
