//! The city as the separable model sees it (`separable`): each district one variable with its
//! room, share cap, kink and blocks of places in fill order, and each district's usable sites
//! in that order. The exact route solves it; the evenness bounds of the HiGHS route, the
//! proofs and the spread bound read their district ranges from it.

use super::prepare::Prepared;
use super::separable::{self, SeparableDistrict};
use crate::model::Instance;

/// The new places the usable sites of each district could take.
pub(crate) fn site_room_by_district(instance: &Instance, prepared: &Prepared) -> Vec<u64> {
    let mut room = vec![0u64; instance.districts.len()];
    for (s, &r) in prepared.site_room.iter().enumerate() {
        if let Some(d) = prepared.site_district[s] {
            room[d as usize] += u64::from(r);
        }
    }
    room
}

/// The districts of the separable model, and each district's usable sites in the order they
/// fill: by key (see `Prepared::site_key`), then in file order.
pub(crate) fn separable_districts(
    instance: &Instance,
    prepared: &Prepared,
) -> (Vec<SeparableDistrict>, Vec<Vec<u32>>) {
    let site_room = site_room_by_district(instance, prepared);
    let mut sites_of: Vec<Vec<u32>> = vec![Vec::new(); instance.districts.len()];
    for (s, &room) in prepared.site_room.iter().enumerate() {
        if let (Some(d), true) = (prepared.site_district[s], room > 0) {
            sites_of[d as usize].push(s as u32);
        }
    }
    let has_key = prepared.stages.iter().any(|s| s.is_per_place());
    let key_of = |s: u32| prepared.site_key(instance, s as usize);
    if has_key {
        for list in &mut sites_of {
            list.sort_by(|&a, &b| {
                let (ka, kb) = (key_of(a), key_of(b));
                ka[0]
                    .total_cmp(&kb[0])
                    .then(ka[1].total_cmp(&kb[1]))
                    .then(a.cmp(&b))
            });
        }
    }
    let districts = (0..instance.districts.len())
        .map(|d| {
            let mut blocks: Vec<(separable::Key, u64)> = Vec::new();
            for &s in &sites_of[d] {
                let room = u64::from(prepared.site_room[s as usize]);
                let key = key_of(s);
                match blocks.last_mut() {
                    Some(last) if last.0 == key => last.1 += room,
                    _ => blocks.push((key, room)),
                }
            }
            SeparableDistrict {
                cap: prepared.share_room[d].map_or(site_room[d], |r| r.min(site_room[d])),
                kink: prepared.target[d] - prepared.district_existing[d],
                share: prepared.target[d],
                blocks,
            }
        })
        .collect();
    (districts, sites_of)
}
