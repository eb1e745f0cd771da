//! Streets of the benchmark grids: a street along every district border (and, in the tight
//! grid's 250 m districts, through the middle too), one feature per block, streamed row by
//! row so that a grid of any size never sits in memory. Two barriers make some walks longer
//! than the straight line: a river meandering west to east, crossed only at bridges every
//! 1–2 km, and a railway running north to south, crossed only at underpasses about every
//! kilometre. Grids smaller than 1 km have neither, grids smaller than 2 km no railway.

use std::io::{self, Write};

use crate::generate::geometry::Point;
use crate::generate::rng::Rng;
use crate::generate::{begin_collection, end_collection};

/// Generator stream of the street grid: the other layers stay as they were.
const STREAM: u64 = 21;

/// A street grid over a square of `cells` × `cells` districts of `cell` metres, with
/// `per_cell` streets per district side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridStreets {
    pub origin: Point,
    pub cells: u32,
    pub cell: f64,
    pub per_cell: u32,
    pub seed: u64,
}

/// Where the barriers lie, in street indices.
pub(crate) struct Layout {
    /// Streets per direction minus one: nodes run from 0 to `lines` both ways.
    pub lines: usize,
    pub spacing: f64,
    pub origin: Point,
    /// The river's northing at each north–south street, never within 5 % of the spacing
    /// of an east–west street; straight in between. Empty without a river.
    pub river: Vec<f64>,
    /// North–south streets whose block across the river is a bridge.
    pub bridges: Vec<usize>,
    /// The railway runs between north–south streets `rail` and `rail + 1`.
    pub rail: Option<usize>,
    /// East–west streets whose block across the railway is an underpass.
    pub underpasses: Vec<usize>,
}

const WEST_EAST: [&str; 12] = [
    "Mühlenstraße",
    "Königsstraße",
    "Schützenstraße",
    "Gärtnerstraße",
    "Lindenstraße",
    "Hölderlinstraße",
    "Bäckerstraße",
    "Düppelstraße",
    "Görresstraße",
    "Fröbelstraße",
    "Weißdornstraße",
    "Schloßstraße",
];

const SOUTH_NORTH: [&str; 12] = [
    "Buchenweg",
    "Tannenweg",
    "Rosenweg",
    "Lärchenweg",
    "Kirchweg",
    "Brückenweg",
    "Am Mühlenbach",
    "Grüner Weg",
    "Eichenkamp",
    "Hüttenweg",
    "Möwenweg",
    "Schulweg",
];

/// "Mühlenstraße", then "Mühlenstraße 2" for the thirteenth street, and so on.
fn street_name(names: &[&str], index: usize) -> String {
    let base = names[index % names.len()];
    match index / names.len() {
        0 => base.to_string(),
        round => format!("{base} {}", round + 1),
    }
}

impl GridStreets {
    pub(crate) fn layout(&self) -> Layout {
        let lines = (self.cells * self.per_cell) as usize;
        let spacing = self.cell / f64::from(self.per_cell);
        let side = lines as f64 * spacing;
        let mut rng = Rng::for_item(self.seed, STREAM, 0);
        let mut layout = Layout {
            lines,
            spacing,
            origin: self.origin,
            river: Vec::new(),
            bridges: Vec::new(),
            rail: None,
            underpasses: Vec::new(),
        };
        if side < 1_000.0 {
            return layout;
        }
        // The river: one long and one short meander around 45 % of the way north.
        let tau = std::f64::consts::TAU;
        let (long, short) = ((0.12 * side).min(1_200.0), (0.03 * side).min(250.0));
        let (long_wave, short_wave) = ((side / 3.0).max(2_500.0), (side / 12.0).max(1_200.0));
        let (phase_long, phase_short) = (rng.range(0.0, tau), rng.range(0.0, tau));
        layout.river = (0..=lines)
            .map(|a| {
                let x = a as f64 * spacing;
                let y = 0.45 * side
                    + long * (tau * x / long_wave + phase_long).sin()
                    + short * (tau * x / short_wave + phase_short).sin();
                let row = y / spacing;
                let inside = (row - row.floor()).clamp(0.05, 0.95);
                (row.floor() + inside) * spacing
            })
            .collect();
        let mut x = rng.range(300.0, 1_500.0);
        while x < side {
            layout.bridges.push((x / spacing).round() as usize);
            x += rng.range(1_000.0, 2_000.0);
        }
        if side >= 2_000.0 {
            let rail = ((0.68 * lines as f64).round() as usize).min(lines - 1);
            layout.rail = Some(rail);
            let mut y = rng.range(300.0, 1_000.0);
            while y < side {
                layout.underpasses.push((y / spacing).round() as usize);
                y += rng.range(700.0, 1_400.0);
            }
            // Every quarter the two barriers leave reaches the others.
            if !layout.bridges.iter().any(|&a| a <= rail) {
                layout.bridges.push(rail / 2);
            }
            if !layout.bridges.iter().any(|&a| a > rail) {
                layout.bridges.push((rail + 1 + lines) / 2);
            }
            let low = layout.river[rail].min(layout.river[rail + 1]) / spacing;
            let high = layout.river[rail].max(layout.river[rail + 1]) / spacing;
            if !layout.underpasses.iter().any(|&b| (b as f64) < low) {
                layout.underpasses.push((low.floor() / 2.0) as usize);
            }
            if !layout.underpasses.iter().any(|&b| (b as f64) > high) {
                layout.underpasses.push((high.ceil() as usize + lines) / 2);
            }
        }
        if layout.bridges.is_empty() {
            layout.bridges.push(lines / 2);
        }
        layout.bridges.sort_unstable();
        layout.bridges.dedup();
        layout.underpasses.sort_unstable();
        layout.underpasses.dedup();
        layout
    }
}

impl Layout {
    /// The river as a polyline in metres (EPSG:25832); empty without a river.
    #[cfg(test)]
    pub(crate) fn river_line(&self) -> Vec<Point> {
        self.river
            .iter()
            .enumerate()
            .map(|(a, y)| (self.origin.0 + a as f64 * self.spacing, self.origin.1 + y))
            .collect()
    }

    /// The railway as a line in metres, if there is one.
    #[cfg(test)]
    pub(crate) fn rail_line(&self) -> Option<[Point; 2]> {
        self.rail.map(|rail| {
            let x = self.origin.0 + (rail as f64 + 0.5) * self.spacing;
            let top = self.origin.1 + self.lines as f64 * self.spacing;
            [(x, self.origin.1), (x, top)]
        })
    }

    /// Whether the river crosses the block between east–west street `b` and the next one
    /// north, along north–south street `a`.
    fn river_across_north(&self, a: usize, b: usize) -> bool {
        self.river.get(a).is_some_and(|&y| {
            let y0 = b as f64 * self.spacing;
            y0 < y && y < y0 + self.spacing
        })
    }

    /// Whether the river crosses the block of east–west street `b` between north–south streets
    /// `a` and `a + 1`.
    fn river_across_east(&self, a: usize, b: usize) -> bool {
        if self.river.is_empty() {
            return false;
        }
        let y = b as f64 * self.spacing;
        (self.river[a] > y) != (self.river[a + 1] > y)
    }
}

/// Writes the street grid; returns the number of features (one per block).
pub fn write_grid_streets(spec: &GridStreets, out: &mut impl Write) -> io::Result<u64> {
    let layout = spec.layout();
    let (n, h) = (layout.lines, layout.spacing);
    let (ox, oy) = layout.origin;
    begin_collection(out)?;
    let mut written = 0u64;
    let mut feature = |out: &mut dyn Write,
                       id: String,
                       from: Point,
                       to: Point,
                       name: &str,
                       kind: &str|
     -> io::Result<()> {
        if written > 0 {
            out.write_all(b",\n")?;
        }
        written += 1;
        write!(
            out,
            "{{\"type\":\"Feature\",\"geometry\":{{\"type\":\"LineString\",\"coordinates\":[[{},{}],[{},{}]]}},\"properties\":{{\"id\":\"{id}\",\"name\":\"{name}\",\"kind\":\"{kind}\"}}}}",
            from.0, from.1, to.0, to.1
        )
    };
    let main = |index: usize| index % 10 == 5;
    for b in 0..=n {
        let name = street_name(&WEST_EAST, b);
        let y = oy + b as f64 * h;
        for a in 0..n {
            if layout.river_across_east(a, b) {
                continue;
            }
            let kind = if layout.rail == Some(a) {
                if !layout.underpasses.contains(&b) {
                    continue;
                }
                "underpass"
            } else if main(b) {
                "secondary"
            } else {
                "residential"
            };
            let x = ox + a as f64 * h;
            feature(
                out,
                format!("H-{b:04}-{a:04}"),
                (x, y),
                (x + h, y),
                &name,
                kind,
            )?;
        }
    }
    for a in 0..=n {
        let name = street_name(&SOUTH_NORTH, a);
        let x = ox + a as f64 * h;
        for b in 0..n {
            let kind = if layout.river_across_north(a, b) {
                if layout.bridges.binary_search(&a).is_err() {
                    continue;
                }
                "bridge"
            } else if main(a) {
                "secondary"
            } else {
                "residential"
            };
            let y = oy + b as f64 * h;
            feature(
                out,
                format!("V-{a:04}-{b:04}"),
                (x, y),
                (x, y + h),
                &name,
                kind,
            )?;
        }
    }
    end_collection(out)?;
    Ok(written)
}

/// A grid's scenario that walks on its streets: `network = "streets.geojson"` in `[input]`.
pub fn grid_streets_scenario(scenario: &str) -> String {
    let mut text = String::with_capacity(scenario.len() + 200);
    let mut added = false;
    for line in scenario.lines() {
        text += line;
        text.push('\n');
        if !added && line.starts_with("sites = ") {
            text += "# Distances to schools, Kitas and stops are walked along the streets (a river and a\n";
            text += "# railway are crossed only at bridges and underpasses), not measured in a straight line.\n";
            text += "network = \"streets.geojson\"\n";
            added = true;
        }
    }
    text
}
