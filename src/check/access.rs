//! Rule 6: a site with new places must have, for every kind the access rule names, its
//! nearest facility of that kind within the distance. With a street network the distance is
//! walked (docs/model.md "Distances on foot"), and a site that reaches no facility of a kind
//! that rule 6 or stage access names on foot may take no new places at all.

use super::walk::Distances;
use super::Violation;
use crate::model::{Instance, Plan, Stage};

/// Walks measured by two programs may differ in the last bits: a walk this close above the
/// limit (metres) is within it.
const ON_FOOT_SLACK_M: f64 = 1e-6;

pub fn check(
    instance: &Instance,
    distances: &Distances,
    plan: &Plan,
    violations: &mut Vec<Violation>,
) {
    let on_foot = distances.on_foot();
    let slack = if on_foot { ON_FOOT_SLACK_M } else { 0.0 };
    for rule in &instance.rules.access {
        let layer = instance.facilities.iter().position(|l| l.kind == rule.kind);
        for (s, site) in instance.sites.iter().enumerate() {
            if plan.places[s] == 0 {
                continue;
            }
            if let Some(why) = layer.and_then(|l| distances.unreachable(instance, l, s)) {
                violations.push(Violation::Unreachable {
                    site: site.id.clone(),
                    kind: rule.kind.clone(),
                    why,
                });
                continue;
            }
            let metres = layer.and_then(|l| distances.nearest(l, s)).map(|n| n.1);
            if !metres.is_some_and(|m| m <= rule.metres + slack) {
                violations.push(Violation::Access {
                    site: site.id.clone(),
                    kind: rule.kind.clone(),
                    metres,
                    limit: rule.metres,
                    on_foot,
                });
            }
        }
    }
    if !instance.stages.contains(&Stage::Access) {
        return;
    }
    // Stage access needs a walk to every kind it names; the kinds of the rule are done above.
    for kind in instance.access_kinds() {
        if instance.rules.access.iter().any(|rule| rule.kind == kind) {
            continue;
        }
        let Some(layer) = instance.facilities.iter().position(|l| l.kind == kind) else {
            continue;
        };
        for (s, site) in instance.sites.iter().enumerate() {
            if plan.places[s] == 0 {
                continue;
            }
            if let Some(why) = distances.unreachable(instance, layer, s) {
                violations.push(Violation::Unreachable {
                    site: site.id.clone(),
                    kind: kind.clone(),
                    why,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use crate::model::{Access, Facility, FacilityLayer};

    #[test]
    fn nearest_school_too_far() {
        let mut inst = city(
            &[1000.0, 1000.0],
            vec![site("A", 500.0, 500.0, 50), site("B", 1500.0, 500.0, 50)],
            100,
        );
        inst.facilities = vec![FacilityLayer {
            kind: "school".into(),
            facilities: vec![Facility {
                id: "G".into(),
                position: [500.0, 400.0],
                seats: None,
            }],
        }];
        inst.rules.access = vec![Access {
            kind: "school".into(),
            metres: 500.0,
        }];
        assert!(rules_broken(&inst, vec![10, 0]).is_empty());
        assert_eq!(rules_broken(&inst, vec![10, 1]), vec!["access"]);
    }
}
