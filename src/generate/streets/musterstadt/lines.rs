//! Polylines for Musterstadt's streets: offsets, runs, crossings, and the barriers (river,
//! canal, railway) that streets may cross only at bridges.

use crate::generate::geometry::{crossing, distance, distance_to_line, Point};
use crate::generate::streets::{Edge, Kind, Network};

/// A polyline offset sideways by `by` metres (left of its direction when positive).
pub(super) fn offset(line: &[Point], by: f64) -> Vec<Point> {
    (0..line.len())
        .map(|i| {
            let (p, q) = (line[i.saturating_sub(1)], line[(i + 1).min(line.len() - 1)]);
            let length = distance(p, q).max(1e-9);
            let (nx, ny) = (-(q.1 - p.1) / length, (q.0 - p.0) / length);
            (line[i].0 + by * nx, line[i].1 + by * ny)
        })
        .collect()
}

/// The longest run of consecutive vertices for which `keep` holds.
pub(super) fn longest_run(line: &[Point], keep: impl Fn(Point) -> bool) -> Vec<Point> {
    let mut best: &[Point] = &[];
    let mut start = 0;
    for i in 0..=line.len() {
        if i == line.len() || !keep(line[i]) {
            if i - start > best.len() {
                best = &line[start..i];
            }
            start = i + 1;
        }
    }
    best.to_vec()
}

/// Whether an edge crosses a polyline.
pub(super) fn crosses(a: Point, b: Point, line: &[Point]) -> bool {
    line.windows(2)
        .any(|w| crossing(a, b, w[0], w[1]).is_some())
}

/// One barrier: a line streets may cross only where a crossing is kept.
pub(super) struct Barrier<'a> {
    pub(super) line: &'a [Point],
    pub(super) half_width: f64,
    /// What a kept crossing is: a bridge or an underpass.
    pub(super) crossing: Kind,
}

impl Barrier<'_> {
    /// Whether the edge lies in the barrier: across its line, or with its middle within it.
    pub(super) fn blocks(&self, net: &Network, e: &Edge) -> bool {
        let (a, b) = net.segment(e);
        crosses(a, b, self.line)
            || distance_to_line(net.midpoint(e), self.line) < self.half_width - 2.0
    }

    /// Whether the edge crosses the barrier from one side to the other, both ends outside it.
    pub(super) fn spans(&self, net: &Network, e: &Edge) -> bool {
        let (a, b) = net.segment(e);
        crosses(a, b, self.line)
            && distance_to_line(a, self.line) >= self.half_width - 1.0
            && distance_to_line(b, self.line) >= self.half_width - 1.0
    }

    /// Where an edge crosses the line.
    pub(super) fn crossing_point(&self, net: &Network, e: &Edge) -> Option<Point> {
        let (a, b) = net.segment(e);
        self.line.windows(2).find_map(|w| {
            crossing(a, b, w[0], w[1]).map(|(t, _)| (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)))
        })
    }
}

/// A point `fraction` of the way along a polyline (by vertex count).
pub(super) fn along(line: &[Point], fraction: f64) -> Point {
    line[((line.len() - 1) as f64 * fraction).round() as usize]
}

pub(super) fn far_from(p: Point, lines: &[&[Point]], metres: f64) -> bool {
    lines.iter().all(|line| distance_to_line(p, line) >= metres)
}

pub(super) fn within(points: &[Point], p: Point, metres: f64) -> usize {
    points.iter().filter(|&&q| distance(p, q) < metres).count()
}
