//! Shapes of a generated city: rounding, distances, the convex outline and the smooth
//! bending of the plane that makes district boundaries wind.

use crate::generate::geometry::Point;
use crate::generate::rng::Rng;

/// Vertices along district boundaries, at most this far apart (metres).
const VERTEX_SPACING: f64 = 50.0;

pub(super) fn round2(p: Point) -> Point {
    ((p.0 * 100.0).round() / 100.0, (p.1 * 100.0).round() / 100.0)
}

pub(super) fn distance(a: Point, b: Point) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

/// Convex hull, counter-clockwise (Andrew's monotone chain).
pub(super) fn convex_hull(mut points: Vec<Point>) -> Vec<Point> {
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let cross =
        |o: Point, a: Point, b: Point| (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0);
    let mut hull: Vec<Point> = Vec::with_capacity(points.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let ordered: Box<dyn Iterator<Item = &Point>> = if pass == 0 {
            Box::new(points.iter())
        } else {
            Box::new(points.iter().rev())
        };
        for &p in ordered {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// A smooth displacement of the plane: a sum of plane waves whose slopes add up to less than
/// one, so the map is one-to-one and keeps rings simple and neighbours without gaps.
pub(super) struct Warp {
    centre: Point,
    /// (wave vector x, y, phase, amplitude, direction x, y)
    waves: Vec<[f64; 6]>,
}

impl Warp {
    pub(super) fn new(centre: Point, rng: &mut Rng) -> Warp {
        let mut waves = Vec::new();
        // Long waves bend whole boundaries, short ones make them wind.
        for (count, wavelengths, slope) in
            [(4, (1_500.0, 4_000.0), 0.09), (3, (300.0, 700.0), 0.06)]
        {
            for _ in 0..count {
                let wavelength: f64 = rng.range(wavelengths.0, wavelengths.1);
                let k = std::f64::consts::TAU / wavelength;
                let heading = rng.range(0.0, std::f64::consts::TAU);
                let push = rng.range(0.0, std::f64::consts::TAU);
                waves.push([
                    k * heading.cos(),
                    k * heading.sin(),
                    rng.range(0.0, std::f64::consts::TAU),
                    slope * rng.range(0.6, 1.0) / k,
                    push.cos(),
                    push.sin(),
                ]);
            }
        }
        Warp { centre, waves }
    }

    pub(super) fn apply(&self, p: Point) -> Point {
        let (x, y) = (p.0 - self.centre.0, p.1 - self.centre.1);
        let (mut dx, mut dy) = (0.0, 0.0);
        for [kx, ky, phase, amplitude, ux, uy] in &self.waves {
            let s = amplitude * (kx * x + ky * y + phase).sin();
            dx += s * ux;
            dy += s * uy;
        }
        (p.0 + dx, p.1 + dy)
    }

    /// A ring with every edge cut into pieces of at most `VERTEX_SPACING`, bent. An edge is
    /// always cut from its lexicographically smaller end, so the two districts that share it
    /// get exactly the same vertices.
    pub(super) fn bend_ring(&self, ring: &[Point]) -> Vec<Point> {
        let mut out = Vec::new();
        for i in 0..ring.len() {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            let forward = (a.0, a.1) <= (b.0, b.1);
            let (c0, c1) = if forward { (a, b) } else { (b, a) };
            let pieces = (distance(a, b) / VERTEX_SPACING).ceil().max(1.0) as usize;
            let at = |k: usize| -> Point {
                if k == 0 {
                    c0
                } else if k == pieces {
                    c1
                } else {
                    let t = k as f64 / pieces as f64;
                    (c0.0 + t * (c1.0 - c0.0), c0.1 + t * (c1.1 - c0.1))
                }
            };
            for step in 0..pieces {
                let k = if forward { step } else { pieces - step };
                out.push(round2(self.apply(at(k))));
            }
        }
        out.dedup();
        while out.len() > 1 && out.first() == out.last() {
            out.pop();
        }
        out
    }
}
