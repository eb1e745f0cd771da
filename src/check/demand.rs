//! Rule 1: Σ x_s + u = N with u ≥ 0, so a plan may place at most the demand.

use super::Violation;
use crate::model::Plan;

pub fn check(demand: u64, plan: &Plan, violations: &mut Vec<Violation>) {
    let placed = plan.placed();
    if placed > demand {
        violations.push(Violation::Demand { placed, demand });
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;

    #[test]
    fn more_than_the_demand_is_one_violation() {
        let inst = city(&[1000.0], vec![site("A", 500.0, 500.0, 50)], 10);
        assert_eq!(rules_broken(&inst, vec![11]), vec!["demand"]);
        assert!(rules_broken(&inst, vec![10]).is_empty());
    }
}
