//! The park without paths and the allotment garden whose paths meet no street: the places
//! of Musterstadt that are off the network or cut off from it.

use super::*;

impl Builder<'_> {
    /// The park without paths: around a Kita in the inner city, away from the barriers and
    /// main roads, with no school and no other Kita in it and one to three sites near the
    /// Kita (these end up off the network). Returns its centre.
    pub(super) fn park(&mut self, barriers: &[&[Point]], roads: &[&[Point]]) -> Option<Point> {
        let places = self.places;
        let centre = places.kitas.iter().copied().find(|&p| {
            self.norm(p) < 0.7
                && far_from(p, barriers, PARK + 150.0)
                && far_from(p, roads, PARK + 50.0)
                && within(places.schools, p, PARK) == 0
                && within(places.kitas, p, PARK) == 1
                && (1..=3).contains(&within(places.sites, p, PARK - 320.0))
        })?;
        self.clear(centre, PARK);
        Some(centre)
    }

    /// The allotment garden: around a site with one or two others within 100 m, away from the
    /// barriers, main roads, the park, schools and Kitas. Returns its centre.
    pub(super) fn allotment(
        &mut self,
        barriers: &[&[Point]],
        roads: &[&[Point]],
        park: Option<Point>,
    ) -> Option<Point> {
        let places = self.places;
        let centre = places.sites.iter().copied().find(|&p| {
            self.norm(p) < 0.8
                && far_from(p, barriers, 350.0)
                && far_from(p, roads, ALLOTMENT + 40.0)
                && park.is_none_or(|c| distance(c, p) > PARK + ALLOTMENT + 300.0)
                && within(places.schools, p, ALLOTMENT + 320.0) == 0
                && within(places.kitas, p, ALLOTMENT + 320.0) == 0
                && (2..=3).contains(&within(places.sites, p, 100.0))
        })?;
        self.clear(centre, ALLOTMENT);
        Some(centre)
    }

    /// Removes every edge that comes within `radius` of `centre`.
    pub(super) fn clear(&mut self, centre: Point, radius: f64) {
        let nodes = &self.net.nodes;
        self.net
            .edges
            .retain(|e| distance_to_segment(centre, nodes[e.a], nodes[e.b]).0 >= radius);
    }

    /// The allotment garden's paths: a grid of 3 × 3 junctions 90 m apart that meets no
    /// street.
    pub(super) fn garden_paths(&mut self, (x, y): Point, turn: f64) {
        let street = self
            .net
            .street("Kleingartenanlage Am Mühlenbach", Kind::Footpath);
        let grid: Vec<usize> = (0..9)
            .map(|k| {
                let (u, v) = (90.0 * (k % 3) as f64 - 90.0, 90.0 * (k / 3) as f64 - 90.0);
                self.net.node((
                    x + u * turn.cos() - v * turn.sin(),
                    y + u * turn.sin() + v * turn.cos(),
                ))
            })
            .collect();
        for k in 0..9 {
            if k % 3 < 2 {
                self.net.edge(grid[k], grid[k + 1], street);
            }
            if k < 6 {
                self.net.edge(grid[k], grid[k + 3], street);
            }
        }
    }
}
