//! The site layer of a synthetic city: address points along its streets, existing
//! accommodation, excluded sites and offers just outside the limits, each site drawn from
//! its own generator so that millions stream like a grid.

use super::*;

impl City {
    /// Site `i` of the layer, drawn from its own generator.
    pub(super) fn site(&self, i: u64) -> CitySite {
        let mut rng = Rng::for_item(self.spec.seed, SITES, i);
        let address_points = self.spec.sites - self.outside;
        if i >= address_points {
            return self.outside_site(i, i - address_points, &mut rng);
        }
        let street = &self.streets[self.streets.partition_point(|s| s.first <= i) - 1];
        let (mut at, mut along, mut side) = (street.start, 0.0, 1.0);
        for _ in 0..12 {
            let t = rng.unit() * street.length;
            let offset = rng.range(-25.0, 25.0);
            let (dx, dy) = street.direction;
            let p = (
                street.start.0 + t * dx - offset * dy,
                street.start.1 + t * dy + offset * dx,
            );
            if self.district_of(p).is_some() {
                (at, along, side) = (p, t, offset);
                break;
            }
        }
        // Odd numbers on the left, even on the right, about 12 m per house.
        let number = 2 * (along / 12.0) as u64 + if side < 0.0 { 2 } else { 1 };
        let address = format!("{} {number}", street.name);
        let p = &self.profile;
        let status_roll = rng.unit();
        let kind_roll = rng.unit();
        let cost_roll = rng.unit();
        let mut site = if status_roll < p.existing {
            let capacity = rng.int(10, 40);
            CitySite {
                id: format!("{}", 100_001 + i),
                kind: "existing",
                at,
                address,
                capacity,
                status: "existing",
                occupied: (capacity as f64 * rng.range(0.6, 1.0)).round() as u64,
                min_places: None,
                cost: Some(rng.int(300, 500)),
                outside: false,
            }
        } else {
            let (kind, capacity, min_places, cost) = if kind_roll < p.row_house {
                ("row_house", 10, Some(10), rng.int(400, 700))
            } else if kind_roll < p.row_house + p.shared {
                ("shared", rng.int(20, 80), None, rng.int(300, 450))
            } else if kind_roll < p.row_house + p.shared + p.hall {
                ("hall", rng.int(80, 150), None, rng.int(250, 350))
            } else {
                ("flat", rng.int(4, 8), None, rng.int(350, 650))
            };
            let excluded = (status_roll - p.existing) / (1.0 - p.existing) < p.excluded;
            CitySite {
                id: format!("{}", 100_001 + i),
                kind,
                at,
                address,
                capacity,
                status: if excluded { "excluded" } else { "candidate" },
                occupied: 0,
                min_places,
                cost: Some(cost),
                outside: false,
            }
        };
        if cost_roll >= p.cost {
            site.cost = None;
        }
        site
    }

    /// An offer a few hundred metres beyond the city limits (in the neighbouring town).
    fn outside_site(&self, i: u64, k: u64, rng: &mut Rng) -> CitySite {
        let angle = std::f64::consts::TAU * (k as f64 + rng.range(0.2, 0.8)) / self.outside as f64;
        let (dx, dy) = (angle.cos(), angle.sin());
        let centre = self.hull_centre;
        let at_distance = |r: f64| (centre.0 + r * dx, centre.1 + r * dy);
        // The last point inside the city along the ray, then some way beyond it.
        let mut last_inside = 0.0;
        let mut r = 0.0;
        while r < 3.0 * self.profile.radii.0 {
            if self.district_of(at_distance(r)).is_some() {
                last_inside = r;
            }
            r += 25.0;
        }
        let mut r = last_inside + rng.range(150.0, 600.0);
        while self.district_of(at_distance(r)).is_some() {
            r += 100.0;
        }
        let capacity = rng.int(4, 8);
        CitySite {
            id: format!("{}", 100_001 + i),
            kind: "flat",
            at: at_distance(r),
            address: format!("{} {}", street_name(rng), rng.int(1, 80)),
            capacity,
            status: "candidate",
            occupied: 0,
            min_places: None,
            cost: Some(rng.int(350, 650)),
            outside: true,
        }
    }
}
