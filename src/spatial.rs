//! Geometric facts about the city, computed once with R-trees (rstar): which district
//! contains each site, the nearest facility of each kind, and the sites within a radius.
//!
//! Distances are Euclidean metres in the metric CRS of the scenario. Nothing here knows the
//! planning rules; `solve` and `check` each derive their own limits from these facts.

use geo::{BoundingRect, Intersects, MultiPolygon, Point};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use std::sync::Arc;

use crate::model::{District, Instance, Site};
use crate::network::Walks;
use crate::progress::{Progress, Silent};

/// Which district contains each site, and how far each site is from its nearest facilities.
#[derive(Debug, Clone)]
pub struct Geography {
    /// Index of the containing district per site (first in file order on ties); `None` = outside.
    pub site_district: Vec<Option<u32>>,
    /// Per facility layer (order of `Instance::facilities`), per site: nearest facility index
    /// and its distance in metres; `None` when the layer is empty. With a street network the
    /// distance is the walk, and `None` also means that no facility of the kind can be
    /// reached on foot (the site is off the network, or its part of it has none).
    pub nearest: Vec<Vec<Option<Nearest>>>,
    /// With a street network: the straight-line nearest facility, as `nearest` without one.
    pub straight: Option<Vec<Vec<Option<Nearest>>>>,
    /// With a street network: the graph and the searches, for routes and the network's facts.
    pub walks: Option<Arc<Walks>>,
}

/// The nearest facility of one kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    pub facility: u32,
    pub metres: f64,
}

impl Geography {
    pub fn of(instance: &Instance) -> Geography {
        Geography::of_with(instance, &Silent)
    }

    /// As `of`, reporting the sites done to `progress`.
    pub fn of_with(instance: &Instance, progress: &dyn Progress) -> Geography {
        let sites = instance.sites.len() as u64;
        progress.start("finding the district of each site", Some(sites));
        let site_district = locate_sites(&instance.districts, &instance.sites, progress);
        let positions: Vec<[f64; 2]> = instance.sites.iter().map(|s| s.position).collect();
        let straight: Vec<Vec<Option<Nearest>>> = instance
            .facilities
            .iter()
            .map(|layer| {
                progress.start(&format!("nearest {} of each site", layer.kind), Some(sites));
                let points: Vec<[f64; 2]> = layer.facilities.iter().map(|f| f.position).collect();
                nearest_points_with(&points, &positions, progress)
            })
            .collect();
        match &instance.network {
            None => Geography {
                site_district,
                nearest: straight,
                straight: None,
                walks: None,
            },
            Some(streets) => {
                progress.start("walks along the street network", None);
                let walks = Walks::new(streets, instance);
                Geography {
                    site_district,
                    nearest: walks.nearest(),
                    straight: Some(straight),
                    walks: Some(Arc::new(walks)),
                }
            }
        }
    }

    /// The straight-line nearest facilities (the same as `nearest` without a network).
    pub fn straight_nearest(&self) -> &[Vec<Option<Nearest>>] {
        self.straight.as_deref().unwrap_or(&self.nearest)
    }
}

type DistrictBox = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// The district containing each site: bounding-box query in an R-tree of district outlines,
/// then an exact point-in-polygon test (holes respected, boundary counts as inside). When
/// several districts contain a site, the first in file order wins.
pub fn locate_sites(
    districts: &[District],
    sites: &[Site],
    progress: &dyn Progress,
) -> Vec<Option<u32>> {
    let boxes: Vec<DistrictBox> = districts
        .iter()
        .enumerate()
        .filter_map(|(index, district)| {
            let rect = district.area.bounding_rect()?;
            Some(GeomWithData::new(
                Rectangle::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]),
                index as u32,
            ))
        })
        .collect();
    let tree = RTree::bulk_load(boxes);
    sites
        .par_iter()
        .map(|site| {
            progress.advance(1);
            let point = Point::new(site.position[0], site.position[1]);
            tree.locate_all_at_point(&site.position)
                .map(|entry| entry.data)
                .filter(|&index| contains(&districts[index as usize].area, point))
                .min()
        })
        .collect()
}

fn contains(area: &MultiPolygon<f64>, point: Point<f64>) -> bool {
    area.intersects(&point)
}

/// For each query point, the nearest of `points` and its Euclidean distance.
pub fn nearest_points(points: &[[f64; 2]], queries: &[[f64; 2]]) -> Vec<Option<Nearest>> {
    nearest_points_with(points, queries, &Silent)
}

fn nearest_points_with(
    points: &[[f64; 2]],
    queries: &[[f64; 2]],
    progress: &dyn Progress,
) -> Vec<Option<Nearest>> {
    let tree = RTree::bulk_load(
        points
            .iter()
            .enumerate()
            .map(|(index, &p)| GeomWithData::new(p, index as u32))
            .collect(),
    );
    queries
        .par_iter()
        .map(|query| {
            progress.advance(1);
            tree.nearest_neighbor(query).map(|entry| Nearest {
                facility: entry.data,
                metres: distance(*entry.geom(), *query),
            })
        })
        .collect()
}

/// Euclidean distance in metres (both points in the metric CRS).
pub fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// Neighbourhoods in compressed form: `of(i)` lists the members within the radius of member i.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Neighbours {
    offsets: Vec<usize>,
    members: Vec<u32>,
}

impl Neighbours {
    /// Positions (in `ids`) of the points within the radius of point `i`, itself included,
    /// sorted ascending.
    pub fn of(&self, i: usize) -> &[u32] {
        &self.members[self.offsets[i]..self.offsets[i + 1]]
    }

    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// For every point, the points within `radius` metres (Euclidean, boundary included).
pub fn neighbours_within(points: &[[f64; 2]], radius: f64) -> Neighbours {
    let lists = map_neighbourhoods(points, radius, |_, list| Some(list.to_vec()));
    let mut offsets = Vec::with_capacity(lists.len() + 1);
    offsets.push(0);
    let mut members = Vec::with_capacity(lists.iter().map(Vec::len).sum());
    for list in lists {
        members.extend_from_slice(&list);
        offsets.push(members.len());
    }
    Neighbours { offsets, members }
}

/// Hands each point's neighbourhood (the positions of the points within `radius` metres,
/// itself included, ascending) to `keep`, on all cores, and returns what it keeps, in point
/// order. Unlike `neighbours_within`, no more than one neighbourhood per core is held at a
/// time: a million sites with hundreds of neighbours each would take gigabytes.
pub fn map_neighbourhoods<T: Send>(
    points: &[[f64; 2]],
    radius: f64,
    keep: impl Fn(usize, &[u32]) -> Option<T> + Sync,
) -> Vec<T> {
    let tree = RTree::bulk_load(
        points
            .iter()
            .enumerate()
            .map(|(index, &p)| GeomWithData::new(p, index as u32))
            .collect::<Vec<_>>(),
    );
    let radius2 = radius * radius;
    points
        .par_iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let envelope = AABB::from_corners(
                [p[0] - radius, p[1] - radius],
                [p[0] + radius, p[1] + radius],
            );
            let mut list: Vec<u32> = tree
                .locate_in_envelope(&envelope)
                .filter(|entry| {
                    let q = entry.geom();
                    let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
                    dx * dx + dy * dy <= radius2
                })
                .map(|entry| entry.data)
                .collect();
            list.sort_unstable();
            keep(i, &list)
        })
        .collect()
}

/// Points indexed once for many radius queries (rstar bulk load).
#[derive(Debug, Clone)]
pub struct PointIndex {
    tree: RTree<GeomWithData<[f64; 2], u32>>,
}

impl PointIndex {
    /// Indexes `points`; queries return positions in this slice.
    pub fn new(points: &[[f64; 2]]) -> PointIndex {
        PointIndex {
            tree: RTree::bulk_load(
                points
                    .iter()
                    .enumerate()
                    .map(|(index, &p)| GeomWithData::new(p, index as u32))
                    .collect(),
            ),
        }
    }

    /// Calls `found` with the position of every point within `radius` metres of `p`
    /// (Euclidean, boundary included), in no particular order.
    pub fn for_each_within(&self, p: [f64; 2], radius: f64, mut found: impl FnMut(u32)) {
        let radius2 = radius * radius;
        let envelope = AABB::from_corners(
            [p[0] - radius, p[1] - radius],
            [p[0] + radius, p[1] + radius],
        );
        for entry in self.tree.locate_in_envelope(&envelope) {
            let q = entry.geom();
            let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
            if dx * dx + dy * dy <= radius2 {
                found(entry.data);
            }
        }
    }

    /// Positions of the indexed points, nearest to `p` first.
    pub fn nearest_first(&self, p: [f64; 2]) -> impl Iterator<Item = u32> + '_ {
        self.tree
            .nearest_neighbor_iter_with_distance_2(&p)
            .map(|(entry, _)| entry.data)
    }

    /// For every indexed point, the sum of the weights of the weighted points within
    /// `radius` metres of it; on all cores. Cost grows with the weighted points, not with
    /// the indexed ones: a plan's few used sites, not every site of the city.
    pub fn sums_within(&self, size: usize, weighted: &[([f64; 2], f64)], radius: f64) -> Vec<f64> {
        weighted
            .par_chunks(4096)
            .fold(
                || vec![0.0; size],
                |mut sums, chunk| {
                    for &(p, weight) in chunk {
                        self.for_each_within(p, radius, |i| sums[i as usize] += weight);
                    }
                    sums
                },
            )
            .reduce(
                || vec![0.0; size],
                |mut a, b| {
                    if a.is_empty() {
                        return b;
                    }
                    for (x, y) in a.iter_mut().zip(b) {
                        *x += y;
                    }
                    a
                },
            )
    }
}

/// For every point of `centres`, the sum of the weights of the weighted points within
/// `radius` metres of it; on all cores. For one query over many centres and few weighted
/// points (a plan's used sites among a million): the index is built over the weighted
/// points, so that a million centres need no tree of their own (1.85 s at 1M sites).
pub fn sums_around(centres: &[[f64; 2]], weighted: &[([f64; 2], f64)], radius: f64) -> Vec<f64> {
    let positions: Vec<[f64; 2]> = weighted.iter().map(|(p, _)| *p).collect();
    let index = PointIndex::new(&positions);
    centres
        .par_iter()
        .with_min_len(1024)
        .map(|&centre| {
            let mut sum = 0.0;
            index.for_each_within(centre, radius, |i| sum += weighted[i as usize].1);
            sum
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, MultiPolygon};

    /// A tiny deterministic generator for test points.
    fn points(seed: u64, n: usize, side: f64) -> Vec<[f64; 2]> {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n).map(|_| [next() * side, next() * side]).collect()
    }

    #[test]
    fn nearest_matches_brute_force() {
        let facilities = points(1, 200, 10_000.0);
        let queries = points(2, 500, 10_000.0);
        let found = nearest_points(&facilities, &queries);
        for (q, hit) in queries.iter().zip(found) {
            let best = facilities
                .iter()
                .map(|f| distance(*f, *q))
                .fold(f64::INFINITY, f64::min);
            assert!((hit.unwrap().metres - best).abs() < 1e-9);
        }
        assert_eq!(nearest_points(&[], &queries)[0], None);
    }

    #[test]
    fn sums_within_match_brute_force() {
        let centres = points(4, 300, 3_000.0);
        let weighted: Vec<([f64; 2], f64)> = points(5, 400, 3_000.0)
            .into_iter()
            .enumerate()
            .map(|(i, p)| (p, (i % 7) as f64))
            .collect();
        let index = PointIndex::new(&centres);
        let sums = index.sums_within(centres.len(), &weighted, 350.0);
        let around = sums_around(&centres, &weighted, 350.0);
        for ((c, sum), other) in centres.iter().zip(sums).zip(around) {
            assert!((sum - other).abs() < 1e-9);
            let brute: f64 = weighted
                .iter()
                .filter(|(p, _)| distance(*p, *c) <= 350.0)
                .map(|(_, w)| w)
                .sum();
            assert!((sum - brute).abs() < 1e-9);
        }
    }

    #[test]
    fn neighbours_match_brute_force() {
        let pts = points(3, 800, 5_000.0);
        let radius = 400.0;
        let hood = neighbours_within(&pts, radius);
        assert_eq!(hood.len(), pts.len());
        for (i, p) in pts.iter().enumerate() {
            let brute: Vec<u32> = (0..pts.len() as u32)
                .filter(|&j| distance(pts[j as usize], *p) <= radius)
                .collect();
            assert_eq!(hood.of(i), brute.as_slice());
            assert!(hood.of(i).contains(&(i as u32)));
        }
    }

    fn district(id: &str, area: MultiPolygon<f64>) -> District {
        District {
            id: id.into(),
            name: id.into(),
            population: 1.0,
            weight: 1.0,
            existing: 0.0,
            area_lonlat: area.clone(),
            rule: None,
            area,
        }
    }

    fn site(x: f64, y: f64) -> Site {
        Site {
            id: format!("{x}/{y}"),
            position: [x, y],
            capacity: 10,
            status: crate::model::SiteStatus::Candidate,
            occupied: 0,
            min_places: 0,
            cost: None,
        }
    }

    #[test]
    fn sites_go_to_the_first_containing_district_and_holes_count_as_outside() {
        let with_hole = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0)],
            interiors: [[(x: 4.0, y: 4.0), (x: 6.0, y: 4.0), (x: 6.0, y: 6.0), (x: 4.0, y: 6.0)]],
        );
        let right =
            polygon![(x: 10.0, y: 0.0), (x: 20.0, y: 0.0), (x: 20.0, y: 10.0), (x: 10.0, y: 10.0)];
        let districts = vec![
            district("A", MultiPolygon(vec![with_hole])),
            district("B", MultiPolygon(vec![right])),
        ];
        let sites = vec![
            site(1.0, 1.0),
            site(5.0, 5.0),
            site(15.0, 5.0),
            site(10.0, 5.0),
            site(30.0, 5.0),
        ];
        assert_eq!(
            locate_sites(&districts, &sites, &Silent),
            vec![Some(0), None, Some(1), Some(0), None]
        );
    }

    #[test]
    fn grid_assignment_matches_brute_force() {
        let mut districts = Vec::new();
        for row in 0..10 {
            for col in 0..10 {
                let (x, y) = (col as f64 * 100.0, row as f64 * 100.0);
                let cell = polygon![(x: x, y: y), (x: x + 100.0, y: y), (x: x + 100.0, y: y + 100.0), (x: x, y: y + 100.0)];
                districts.push(district(&format!("{row}-{col}"), MultiPolygon(vec![cell])));
            }
        }
        let sites: Vec<Site> = points(9, 2_000, 1_100.0)
            .into_iter()
            .map(|p| site(p[0], p[1]))
            .collect();
        let found = locate_sites(&districts, &sites, &Silent);
        for (site, hit) in sites.iter().zip(found) {
            let brute = districts
                .iter()
                .position(|d| contains(&d.area, Point::new(site.position[0], site.position[1])))
                .map(|i| i as u32);
            assert_eq!(hit, brute);
        }
    }
}
