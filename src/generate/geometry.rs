//! Plane geometry the generators share: Voronoi cells by half-plane clipping, ring area and
//! containment, random points inside a ring. Rings are open (the first point is not repeated)
//! and in metres (EPSG:25832).

use super::rng::Rng;

pub type Point = (f64, f64);

/// Keeps the part of a polygon on the side of `p` nearer to `a` than to `b`
/// (Sutherland–Hodgman against the bisector of a and b).
pub fn clip_nearer(polygon: &[Point], a: Point, b: Point) -> Vec<Point> {
    let (nx, ny) = (b.0 - a.0, b.1 - a.1);
    let c = (b.0 * b.0 + b.1 * b.1 - a.0 * a.0 - a.1 * a.1) / 2.0;
    let side = |p: Point| c - (nx * p.0 + ny * p.1); // ≥ 0: nearer to a
    let mut out = Vec::with_capacity(polygon.len() + 1);
    for i in 0..polygon.len() {
        let (p, q) = (polygon[i], polygon[(i + 1) % polygon.len()]);
        let (sp, sq) = (side(p), side(q));
        if sp >= 0.0 {
            out.push(p);
        }
        if (sp >= 0.0) != (sq >= 0.0) {
            let t = sp / (sp - sq);
            out.push((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)));
        }
    }
    out
}

/// Signed area (positive for counter-clockwise rings).
pub fn area(ring: &[Point]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (p, q) = (ring[i], ring[(i + 1) % n]);
            p.0 * q.1 - q.0 * p.1
        })
        .sum::<f64>()
        / 2.0
}

/// Even-odd test.
pub fn contains(ring: &[Point], p: Point) -> bool {
    let mut inside = false;
    let n = ring.len();
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + n - 1) % n]);
        if (a.1 > p.1) != (b.1 > p.1) && p.0 < (b.0 - a.0) * (p.1 - a.1) / (b.1 - a.1) + a.0 {
            inside = !inside;
        }
    }
    inside
}

/// `(x0, y0, x1, y1)` of a ring.
pub fn bounds(ring: &[Point]) -> (f64, f64, f64, f64) {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &(x, y) in ring {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    (x0, y0, x1, y1)
}

/// A random point inside a ring (rejection sampling in its bounding box).
pub fn point_in(ring: &[Point], rng: &mut Rng) -> Point {
    let (x0, y0, x1, y1) = bounds(ring);
    for _ in 0..10_000 {
        let p = (rng.range(x0, x1), rng.range(y0, y1));
        if contains(ring, p) {
            return p;
        }
    }
    ring[0]
}

/// Euclidean distance in metres.
pub fn distance(a: Point, b: Point) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

/// Euclidean distance from `p` to the segment `a`–`b`, and the parameter of the closest point
/// (0 at `a`, 1 at `b`).
pub fn distance_to_segment(p: Point, a: Point, b: Point) -> (f64, f64) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length2 = dx * dx + dy * dy;
    let t = if length2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / length2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (distance(p, (a.0 + t * dx, a.1 + t * dy)), t)
}

/// Where the segments `p`–`q` and `a`–`b` cross: the parameters along each (0 ≤ t, u ≤ 1), or
/// `None` when they do not meet or are parallel.
pub fn crossing(p: Point, q: Point, a: Point, b: Point) -> Option<(f64, f64)> {
    let (rx, ry) = (q.0 - p.0, q.1 - p.1);
    let (sx, sy) = (b.0 - a.0, b.1 - a.1);
    let denominator = rx * sy - ry * sx;
    if denominator.abs() < 1e-12 {
        return None;
    }
    let (wx, wy) = (a.0 - p.0, a.1 - p.1);
    let t = (wx * sy - wy * sx) / denominator;
    let u = (wx * ry - wy * rx) / denominator;
    ((0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&u)).then_some((t, u))
}

/// Distance from `p` to a polyline.
pub fn distance_to_line(p: Point, line: &[Point]) -> f64 {
    line.windows(2)
        .map(|w| distance_to_segment(p, w[0], w[1]).0)
        .fold(f64::INFINITY, f64::min)
}
