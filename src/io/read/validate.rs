//! Input that contradicts itself: found while loading and said, never silently absorbed.
//! Geometry facts here; the messages are built where the features are read (`districts`).

use super::layer::Position;

/// Twice the signed area of a ring (shoelace); positive when counter-clockwise.
pub fn ring_area2(ring: &[Position]) -> f64 {
    let n = ring.len();
    if n < 3 {
        return 0.0;
    }
    (0..n)
        .map(|i| {
            let (p, q) = (ring[i], ring[(i + 1) % n]);
            p[0] * q[1] - q[0] * p[1]
        })
        .sum()
}

/// Whether all positions of a ring lie on one line (or on one point): it has no area, not
/// even in parts (a bow tie's signed area may be 0 while its lobes are real).
pub fn is_flat(ring: &[Position]) -> bool {
    let Some(&first) = ring.first() else {
        return true;
    };
    let Some(&other) = ring.iter().find(|p| **p != first) else {
        return true;
    };
    let scale = ring
        .iter()
        .map(|p| (p[0] - first[0]).abs().max((p[1] - first[1]).abs()))
        .fold(0.0, f64::max);
    ring.iter()
        .all(|&p| cross(first, other, p).abs() <= 1e-12 * scale * scale)
}

/// Where a ring crosses or touches itself (other than at the shared ends of neighbouring
/// edges): the first such point found, or `None` for a simple ring. Sort-and-sweep over the
/// edges' x ranges, so a ring of many thousand positions is checked quickly.
pub fn ring_crossing(ring: &[Position]) -> Option<Position> {
    // Drop repeated positions (a closed ring repeats its first position at the end).
    let mut points: Vec<Position> = Vec::with_capacity(ring.len());
    for &p in ring {
        if points.last() != Some(&p) {
            points.push(p);
        }
    }
    while points.len() > 1 && points.first() == points.last() {
        points.pop();
    }
    let n = points.len();
    if n < 4 {
        return None;
    }
    let edge = |i: usize| (points[i], points[(i + 1) % n]);
    let mut order: Vec<usize> = (0..n).collect();
    let min_x = |i: usize| {
        let (a, b) = edge(i);
        a[0].min(b[0])
    };
    order.sort_by(|&a, &b| min_x(a).total_cmp(&min_x(b)));
    let mut active: Vec<usize> = Vec::new();
    for &i in &order {
        let x = min_x(i);
        active.retain(|&j| {
            let (a, b) = edge(j);
            a[0].max(b[0]) >= x
        });
        for &j in &active {
            let adjacent = (i + 1) % n == j || (j + 1) % n == i;
            if adjacent {
                continue;
            }
            let (p, q) = edge(i);
            let (r, s) = edge(j);
            if let Some(at) = segments_meet(p, q, r, s) {
                return Some(at);
            }
        }
        active.push(i);
    }
    None
}

fn cross(o: Position, a: Position, b: Position) -> f64 {
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
}

fn on_segment(p: Position, q: Position, r: Position) -> bool {
    r[0] >= p[0].min(q[0])
        && r[0] <= p[0].max(q[0])
        && r[1] >= p[1].min(q[1])
        && r[1] <= p[1].max(q[1])
}

/// A point where segments pq and rs meet, if they do.
fn segments_meet(p: Position, q: Position, r: Position, s: Position) -> Option<Position> {
    let d1 = cross(r, s, p);
    let d2 = cross(r, s, q);
    let d3 = cross(p, q, r);
    let d4 = cross(p, q, s);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        let t = d1 / (d1 - d2);
        return Some([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
    }
    for (a, b, c, d) in [(r, s, p, d1), (r, s, q, d2), (p, q, r, d3), (p, q, s, d4)] {
        if d == 0.0 && on_segment(a, b, c) {
            return Some(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_is_simple_and_a_bow_tie_crosses() {
        let square = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]];
        assert_eq!(ring_crossing(&square), None);
        assert!(ring_area2(&square) > 0.0);
        let bow_tie = [[0.0, 0.0], [2.0, 2.0], [2.0, 0.0], [0.0, 2.0], [0.0, 0.0]];
        assert_eq!(ring_crossing(&bow_tie), Some([1.0, 1.0]));
        assert_eq!(ring_area2(&bow_tie), 0.0);
        assert!(!is_flat(&bow_tie) && !is_flat(&square));
        assert!(is_flat(&[[0.0, 0.0], [2.0, 2.0], [1.0, 1.0], [0.0, 0.0]]));
    }

    #[test]
    fn a_ring_touching_itself_is_found_and_a_long_ring_is_fast() {
        // A figure eight touching at (1, 1).
        let touching = [
            [0.0, 0.0],
            [1.0, 1.0],
            [2.0, 0.0],
            [2.0, 2.0],
            [1.0, 1.0],
            [0.0, 2.0],
            [0.0, 0.0],
        ];
        assert_eq!(ring_crossing(&touching), Some([1.0, 1.0]));
        let circle: Vec<Position> = (0..=20_000)
            .map(|i| {
                let a = std::f64::consts::TAU * f64::from(i % 20_000) / 20_000.0;
                [a.cos() * 1000.0, a.sin() * 1000.0]
            })
            .collect();
        assert_eq!(ring_crossing(&circle), None);
    }
}
