//! Rule 7: every site inside a district is served by its nearest facility of the seats kind;
//! the children of the places it serves, κ · (o_s + x_s), stay within
//! max(seats_j, κ · Σ o_s). With a street network "nearest" is on foot, and a site that
//! reaches no facility of the kind is served by none.

use super::walk::Distances;
use super::Violation;
use crate::model::{Instance, Plan};
use crate::spatial::Geography;

pub fn check(
    instance: &Instance,
    geography: &Geography,
    distances: &Distances,
    plan: &Plan,
    violations: &mut Vec<Violation>,
) {
    let Some(rule) = &instance.rules.seats else {
        return;
    };
    let Some(layer) = instance.facilities.iter().position(|l| l.kind == rule.kind) else {
        return;
    };
    let facilities = &instance.facilities[layer].facilities;
    let mut occupied = vec![0.0f64; facilities.len()];
    let mut total = vec![0.0f64; facilities.len()];
    let mut served = vec![0usize; facilities.len()];
    for (s, site) in instance.sites.iter().enumerate() {
        // Only sites with places bring children (and only they are measured on foot).
        if geography.site_district[s].is_none() || plan.places[s] == 0 && site.occupied == 0 {
            continue;
        }
        let Some((facility, _)) = distances.nearest(layer, s) else {
            continue;
        };
        let j = facility as usize;
        occupied[j] += f64::from(site.occupied);
        total[j] += f64::from(site.occupied) + f64::from(plan.places[s]);
        served[j] += 1;
    }
    for (j, facility) in facilities.iter().enumerate() {
        let Some(seats) = facility.seats else {
            continue;
        };
        let children = rule.per_place * total[j];
        let limit = seats.max(rule.per_place * occupied[j]);
        if children > limit + 1e-9 {
            violations.push(Violation::Seats {
                facility: facility.id.clone(),
                kind: rule.kind.clone(),
                children,
                limit,
                sites: served[j],
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use crate::model::{Facility, FacilityLayer, Seats};

    #[test]
    fn children_beyond_the_free_seats() {
        let mut inst = city(
            &[1000.0],
            vec![
                site("A", 500.0, 500.0, 50),
                site("B", 600.0, 500.0, 50),
                site("C", 700.0, 500.0, 50),
            ],
            100,
        );
        inst.facilities = vec![FacilityLayer {
            kind: "school".into(),
            facilities: vec![Facility {
                id: "G".into(),
                position: [550.0, 400.0],
                seats: Some(5.0),
            }],
        }];
        inst.rules.seats = Some(Seats {
            kind: "school".into(),
            per_place: 0.25,
        });
        assert!(rules_broken(&inst, vec![10, 10, 0]).is_empty());
        assert_eq!(rules_broken(&inst, vec![11, 10, 0]), vec!["seats"]);
        // C, without places, brings no children and is not counted among the sites served.
        let geography = crate::spatial::Geography::of(&inst);
        let plan = crate::model::Plan {
            places: vec![11, 10, 0],
        };
        assert_eq!(
            super::super::check_plan(&inst, &geography, &plan).violations[0].to_string(),
            "school \"G\": 5.25 children from the places at the 2 sites it serves exceed its 5 free seats"
        );
    }
}
