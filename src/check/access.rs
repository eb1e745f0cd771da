//! Rule 6: a site with new places must have, for every kind the access rule names, its
//! nearest facility of that kind within the distance.

use super::Violation;
use crate::model::{Instance, Plan};
use crate::spatial::Geography;

pub fn check(
    instance: &Instance,
    geography: &Geography,
    plan: &Plan,
    violations: &mut Vec<Violation>,
) {
    for rule in &instance.rules.access {
        let layer = instance.facilities.iter().position(|l| l.kind == rule.kind);
        for (s, site) in instance.sites.iter().enumerate() {
            if plan.places[s] == 0 {
                continue;
            }
            let metres = layer
                .and_then(|l| geography.nearest[l][s])
                .map(|n| n.metres);
            if !metres.is_some_and(|m| m <= rule.metres) {
                violations.push(Violation::Access {
                    site: site.id.clone(),
                    kind: rule.kind.clone(),
                    metres,
                    limit: rule.metres,
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
