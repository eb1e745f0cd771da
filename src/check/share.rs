//! Rule 4: a district holds at most max(max_share · pop_d, e_d) places in total, with the
//! share of the district rule that applies to it (the first `[[rules.district]]` whose
//! condition holds, as recorded in `District::rule`) instead of the general `max_share`; and
//! such a rule's `max_new` bounds the district's new places.

use super::Violation;
use crate::metrics::Figures;
use crate::model::Instance;

pub fn check(instance: &Instance, figures: &Figures, violations: &mut Vec<Violation>) {
    for (district, f) in instance.districts.iter().zip(&figures.districts) {
        let rule = district.rule.and_then(|r| instance.rules.district.get(r));
        let own_share = rule.and_then(|r| r.max_share);
        if let Some(share) = own_share.or(instance.rules.max_share) {
            let cap = (share * district.population).max(f.existing);
            if f.total > cap + 1e-9 {
                violations.push(Violation::ShareCap {
                    district: district.id.clone(),
                    name: district.name.clone(),
                    total: f.total,
                    cap,
                    share,
                    rule: own_share.and(rule).map(|r| r.condition.clone()),
                });
            }
        }
        if let Some((max_new, rule)) = rule.and_then(|r| r.max_new.map(|m| (m, r))) {
            let new = f.new.round() as u64;
            if new > max_new {
                violations.push(Violation::MaxNew {
                    district: district.id.clone(),
                    name: district.name.clone(),
                    new,
                    max_new,
                    rule: rule.condition.clone(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use crate::model::SiteStatus;

    #[test]
    fn share_cap_of_the_population() {
        let mut inst = city(
            &[1000.0, 1000.0],
            vec![site("A", 500.0, 500.0, 50), site("B", 1500.0, 500.0, 50)],
            100,
        );
        inst.rules.max_share = Some(0.02);
        assert!(rules_broken(&inst, vec![20, 20]).is_empty());
        assert_eq!(rules_broken(&inst, vec![21, 20]), vec!["share_cap"]);
    }

    #[test]
    fn a_district_already_over_its_share_keeps_what_it_has() {
        let mut existing = site("E", 500.0, 500.0, 50);
        existing.status = SiteStatus::Existing;
        existing.occupied = 30;
        let mut inst = city(&[1000.0], vec![existing, site("B", 600.0, 500.0, 50)], 100);
        inst.rules.max_share = Some(0.02);
        assert!(rules_broken(&inst, vec![0, 0]).is_empty());
        assert_eq!(rules_broken(&inst, vec![0, 1]), vec!["share_cap"]);
    }

    #[test]
    fn a_district_rule_has_its_own_share_and_max_new() {
        use crate::model::DistrictRule;
        let mut inst = city(
            &[1000.0, 1000.0],
            vec![site("A", 500.0, 500.0, 50), site("B", 1500.0, 500.0, 50)],
            100,
        );
        inst.rules.max_share = Some(0.02);
        inst.rules.district = vec![
            DistrictRule {
                condition: "welfare > 0.2".into(),
                max_share: Some(0.01),
                max_new: None,
            },
            DistrictRule {
                condition: "population > 500".into(),
                max_share: None,
                max_new: Some(5),
            },
        ];
        inst.districts[0].rule = Some(0);
        inst.districts[1].rule = Some(1);
        // District 0: its own 1 %; district 1: the general 2 % and at most 5 new.
        assert!(rules_broken(&inst, vec![10, 5]).is_empty());
        assert_eq!(rules_broken(&inst, vec![11, 5]), vec!["share_cap"]);
        assert_eq!(rules_broken(&inst, vec![10, 6]), vec!["max_new"]);
        let geography = crate::spatial::Geography::of(&inst);
        let report = super::super::check_plan(
            &inst,
            &geography,
            &crate::model::Plan {
                places: vec![11, 6],
            },
        );
        let shown: Vec<String> = report.violations.iter().map(|v| v.to_string()).collect();
        assert_eq!(
            shown,
            vec![
                "district D0 \"Bezirk 0\": 11 places exceed the share cap of 1 % (10) of the district rule where welfare > 0.2",
                "district D1 \"Bezirk 1\": 6 new places exceed max_new = 5 of the district rule where population > 500",
            ]
        );
    }
}
