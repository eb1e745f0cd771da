//! Rule 4: a district holds at most max(max_share · pop_d, e_d) places in total.

use super::Violation;
use crate::metrics::Figures;
use crate::model::Instance;

pub fn check(instance: &Instance, figures: &Figures, violations: &mut Vec<Violation>) {
    let Some(share) = instance.rules.max_share else {
        return;
    };
    for (district, f) in instance.districts.iter().zip(&figures.districts) {
        let cap = (share * district.population).max(f.existing);
        if f.total > cap + 1e-9 {
            violations.push(Violation::ShareCap {
                district: district.id.clone(),
                name: district.name.clone(),
                total: f.total,
                cap,
                share,
            });
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
}
