//! A synthetic city's districts: their outlines, residents and settlement, and a grid lookup
//! of the district that holds a point.

/// Cell side of the district lookup grid (metres).
const LOOKUP_CELL: f64 = 500.0;
use crate::generate::geometry::{area, contains, Point};
use crate::generate::rng::Rng;

pub(super) struct CityDistrict {
    /// The id as a JSON literal: a number or a string.
    pub(super) id: String,
    pub(super) name: String,
    pub(super) bezirk: &'static str,
    pub(super) ring: Vec<Point>,
    pub(super) bounds: (f64, f64, f64, f64),
    /// Where most residents live (the village centre in the outskirts).
    pub(super) village: Point,
    /// Spread of the settlement around the village centre (metres).
    pub(super) sigma: f64,
    /// Probability that a resident's address lies near the village centre, not anywhere.
    pub(super) clustered: f64,
    /// Distance from the city centre, 0 at the centre, about 1 at the outline.
    pub(super) radius: f64,
    pub(super) population: u64,
    pub(super) welfare: f64,
    pub(super) foreign: f64,
}

impl CityDistrict {
    pub(super) fn area_km2(&self) -> f64 {
        area(&self.ring) / 1e6
    }

    /// A point where people live: near the village centre, or anywhere in the district.
    pub(super) fn settled_point(&self, rng: &mut Rng) -> Point {
        let (x0, y0, x1, y1) = self.bounds;
        for _ in 0..500 {
            let p = if rng.unit() < self.clustered {
                (
                    self.village.0 + self.sigma * rng.normal(),
                    self.village.1 + self.sigma * rng.normal(),
                )
            } else {
                (rng.range(x0, x1), rng.range(y0, y1))
            };
            if contains(&self.ring, p) {
                return p;
            }
        }
        self.village
    }
}

/// Which districts may contain a point: a grid of cells listing the districts whose bounding
/// box overlaps each cell.
pub(super) struct DistrictLookup {
    pub(super) origin: Point,
    pub(super) columns: usize,
    pub(super) rows: usize,
    pub(super) cells: Vec<Vec<u32>>,
}

impl DistrictLookup {
    pub(super) fn new(districts: &[CityDistrict]) -> DistrictLookup {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for d in districts {
            x0 = x0.min(d.bounds.0);
            y0 = y0.min(d.bounds.1);
            x1 = x1.max(d.bounds.2);
            y1 = y1.max(d.bounds.3);
        }
        let columns = ((x1 - x0) / LOOKUP_CELL).ceil() as usize + 1;
        let rows = ((y1 - y0) / LOOKUP_CELL).ceil() as usize + 1;
        let mut cells = vec![Vec::new(); columns * rows];
        for (i, d) in districts.iter().enumerate() {
            let c0 = ((d.bounds.0 - x0) / LOOKUP_CELL) as usize;
            let c1 = ((d.bounds.2 - x0) / LOOKUP_CELL) as usize;
            let r0 = ((d.bounds.1 - y0) / LOOKUP_CELL) as usize;
            let r1 = ((d.bounds.3 - y0) / LOOKUP_CELL) as usize;
            for row in r0..=r1 {
                for column in c0..=c1 {
                    cells[row * columns + column].push(i as u32);
                }
            }
        }
        DistrictLookup {
            origin: (x0, y0),
            columns,
            rows,
            cells,
        }
    }

    /// The first district whose ring contains the point.
    pub(super) fn district_of(&self, districts: &[CityDistrict], p: Point) -> Option<usize> {
        let (dx, dy) = (p.0 - self.origin.0, p.1 - self.origin.1);
        if dx < 0.0 || dy < 0.0 {
            return None;
        }
        let (column, row) = ((dx / LOOKUP_CELL) as usize, (dy / LOOKUP_CELL) as usize);
        if column >= self.columns || row >= self.rows {
            return None;
        }
        self.cells[row * self.columns + column]
            .iter()
            .map(|&i| i as usize)
            .find(|&i| contains(&districts[i].ring, p))
    }
}
