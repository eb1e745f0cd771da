//! Each district's usable sites for the program of the districts' totals, by kind (no
//! minimum, taken whole per size, a minimum below the room) and grouped by the balls and
//! schools that entered the program as rows.

use std::collections::BTreeSet;

use crate::model::Instance;
use crate::solve::model::nested_cost::{usable_sites, UsableSite};
use crate::solve::model::prepare::Prepared;

/// A ball or school that entered the program as rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Coupling {
    Ball(usize),
    School(usize),
}

/// Sites of one district in the same balls and schools that entered as rows: alike but
/// for cost.
#[derive(Default)]
pub(super) struct Group {
    pub(super) rows: Vec<Coupling>,
    /// (cost, room, site) of the sites without a minimum, cheapest first.
    pub(super) open: Vec<(f64, u64, u32)>,
    /// Sites taken whole, by size: (size, (cost, site) cheapest first).
    pub(super) whole: Vec<(u64, Vec<(f64, u32)>)>,
}

/// One district's usable sites: by group, and those with a minimum below their room
/// (cost, least, room, site), which keep columns of their own.
#[derive(Default)]
pub(super) struct Kinds {
    pub(super) groups: Vec<Group>,
    pub(super) least: Vec<(f64, u64, u64, u32)>,
}

/// The usable sites of each district by kind (room in `prepared`), grouped by the balls
/// and schools of `rows` they are in.
pub(super) fn district_kinds(
    instance: &Instance,
    prepared: &Prepared,
    rows: &BTreeSet<Coupling>,
) -> Vec<Kinds> {
    let mut of_site: Vec<Vec<Coupling>> = vec![Vec::new(); instance.sites.len()];
    for &row in rows {
        match row {
            Coupling::Ball(b) => {
                for &s in &prepared.spacing[b].members {
                    of_site[s as usize].push(row);
                }
            }
            Coupling::School(f) => {
                for (s, facility) in prepared.seat_facility.iter().enumerate() {
                    if *facility == Some(f as u32) {
                        of_site[s].push(row);
                    }
                }
            }
        }
    }
    let mut kinds: Vec<Kinds> = Vec::new();
    kinds.resize_with(instance.districts.len(), Kinds::default);
    for site in usable_sites(instance, prepared) {
        let UsableSite {
            site: s,
            cost,
            least,
            room,
            ..
        } = site;
        let district = &mut kinds[site.district];
        if least >= 2 && least < room {
            district.least.push((cost, least, room, s as u32));
            continue;
        }
        if least > room {
            continue;
        }
        let group = match district.groups.iter().position(|g| g.rows == of_site[s]) {
            Some(g) => &mut district.groups[g],
            None => {
                district.groups.push(Group {
                    rows: of_site[s].clone(),
                    ..Group::default()
                });
                district.groups.last_mut().expect("just pushed")
            }
        };
        if least <= 1 {
            group.open.push((cost, room, s as u32));
        } else {
            match group.whole.iter_mut().find(|w| w.0 == room) {
                Some(size) => size.1.push((cost, s as u32)),
                None => group.whole.push((room, vec![(cost, s as u32)])),
            }
        }
    }
    for district in &mut kinds {
        for group in &mut district.groups {
            group
                .open
                .sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
            for (_, sites) in &mut group.whole {
                sites.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            }
        }
    }
    kinds
}
