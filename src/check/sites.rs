//! Rules 2 and 3 at each site: the site cap o_s + x_s ≤ min(cap_s, max_per_site), no new
//! places at excluded sites or sites inside no district, and the minimum occupancy
//! (x_s = 0 or x_s ≥ min_s).

use super::{SiteLimit, Violation};
use crate::model::{Instance, Plan, SiteStatus};
use crate::spatial::Geography;

pub fn check(
    instance: &Instance,
    geography: &Geography,
    plan: &Plan,
    violations: &mut Vec<Violation>,
) {
    let max_per_site = instance.rules.max_per_site;
    for (s, site) in instance.sites.iter().enumerate() {
        let new = plan.places[s];
        if new == 0 {
            continue;
        }
        if geography.site_district[s].is_none() {
            violations.push(Violation::Outside {
                site: site.id.clone(),
                new,
            });
        }
        if site.status == SiteStatus::Excluded {
            violations.push(Violation::Excluded {
                site: site.id.clone(),
                new,
            });
        }
        // Each limit the site exceeds is its own violation: a planner who raises the
        // capacity must still learn that the cap per site stops it too.
        let total = u64::from(site.occupied) + u64::from(new);
        for limit in [
            SiteLimit::Capacity(site.capacity),
            SiteLimit::PerSite(max_per_site),
        ] {
            let (SiteLimit::Capacity(cap) | SiteLimit::PerSite(cap)) = limit;
            if total > u64::from(cap) {
                violations.push(Violation::SiteCap {
                    site: site.id.clone(),
                    occupied: site.occupied,
                    new,
                    limit,
                });
            }
        }
        if site.min_places > 0 && new < site.min_places {
            violations.push(Violation::MinPlaces {
                site: site.id.clone(),
                new,
                min: site.min_places,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use crate::model::SiteStatus;

    #[test]
    fn site_cap_counts_occupied_places() {
        let mut existing = site("E", 500.0, 500.0, 60);
        existing.status = SiteStatus::Existing;
        existing.occupied = 45;
        let inst = city(&[1000.0], vec![existing], 100);
        assert!(rules_broken(&inst, vec![5]).is_empty());
        assert_eq!(rules_broken(&inst, vec![6]), vec!["site_cap"]);
    }

    #[test]
    fn a_site_over_both_limits_is_named_for_each() {
        // 80 places at a site of capacity 20, with 50 per site: both limits are broken.
        let mut over_both = city(&[1000.0], vec![site("S", 500.0, 500.0, 20)], 100);
        over_both.rules.max_per_site = 50;
        let geography = crate::spatial::Geography::of(&over_both);
        let violations = |places: Vec<u32>| {
            super::super::check_plan(&over_both, &geography, &crate::model::Plan { places })
                .violations
        };
        let said: Vec<String> = violations(vec![80])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            said,
            [
                "site \"S\": 80 places (0 occupied + 80 new) exceed its capacity of 20",
                "site \"S\": 80 places (0 occupied + 80 new) exceed the cap of 50 per site",
            ]
        );
        // Over its capacity only.
        assert_eq!(violations(vec![30]).len(), 1);
    }

    #[test]
    fn excluded_and_outside_sites_take_nothing() {
        let mut excluded = site("X", 500.0, 500.0, 20);
        excluded.status = SiteStatus::Excluded;
        let inst = city(&[1000.0], vec![excluded, site("O", 5000.0, 500.0, 20)], 100);
        assert_eq!(rules_broken(&inst, vec![3, 0]), vec!["status"]);
        assert_eq!(rules_broken(&inst, vec![0, 3]), vec!["outside"]);
    }

    #[test]
    fn minimum_occupancy_is_all_or_nothing() {
        let mut row_house = site("R", 500.0, 500.0, 10);
        row_house.min_places = 10;
        let inst = city(&[1000.0], vec![row_house], 100);
        assert!(rules_broken(&inst, vec![0]).is_empty());
        assert!(rules_broken(&inst, vec![10]).is_empty());
        assert_eq!(rules_broken(&inst, vec![6]), vec!["min_places"]);
    }
}
