//! Rule 5: around every candidate or existing site inside a district, the places of all such
//! sites within the radius (itself included) stay within max(R, what is already occupied
//! there).

use std::collections::HashSet;

use super::Violation;
use crate::model::{Instance, Plan, SiteStatus};
use crate::spatial::{neighbours_within, Geography};

pub fn check(
    instance: &Instance,
    geography: &Geography,
    plan: &Plan,
    violations: &mut Vec<Violation>,
) {
    let Some(rule) = instance.rules.spacing else {
        return;
    };
    let members: Vec<usize> = (0..instance.sites.len())
        .filter(|&s| {
            instance.sites[s].status != SiteStatus::Excluded && geography.site_district[s].is_some()
        })
        .collect();
    let positions: Vec<[f64; 2]> = members
        .iter()
        .map(|&s| instance.sites[s].position)
        .collect();
    let hood = neighbours_within(&positions, rule.metres);
    // One report per distinct group of sites, so a cluster is named once, not per member.
    let mut reported: HashSet<Vec<u32>> = HashSet::new();
    for (i, &centre) in members.iter().enumerate() {
        let ball = hood.of(i);
        let occupied: u64 = ball
            .iter()
            .map(|&m| u64::from(instance.sites[members[m as usize]].occupied))
            .sum();
        let total: u64 = occupied
            + ball
                .iter()
                .map(|&m| u64::from(plan.places[members[m as usize]]))
                .sum::<u64>();
        let limit = u64::from(rule.max_places).max(occupied);
        if total > limit && reported.insert(ball.to_vec()) {
            violations.push(Violation::Spacing {
                site: instance.sites[centre].id.clone(),
                total,
                limit,
                metres: rule.metres,
                members: ball
                    .iter()
                    .map(|&m| members[m as usize])
                    .filter(|&s| plan.places[s] > 0 || instance.sites[s].occupied > 0)
                    .map(|s| instance.sites[s].id.clone())
                    .collect(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use crate::model::Spacing;

    #[test]
    fn too_many_places_close_together() {
        let mut inst = city(
            &[1000.0],
            vec![
                site("A", 100.0, 100.0, 50),
                site("B", 200.0, 100.0, 50),
                site("C", 900.0, 900.0, 50),
            ],
            200,
        );
        inst.rules.spacing = Some(Spacing {
            metres: 300.0,
            max_places: 60,
        });
        assert!(rules_broken(&inst, vec![30, 30, 50]).is_empty());
        // A and B are within 300 m of each other: one violation for the pair.
        assert_eq!(rules_broken(&inst, vec![31, 30, 50]), vec!["spacing"]);
    }
}
