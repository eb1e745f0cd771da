//! Why not more here? For each district the rule that stops more places there, and how much
//! of a shortfall each rule accounts for.

use crate::model::{Instance, Plan, Site, SiteStatus};
use crate::solve::{Exclusion, Prepared};

/// The rule that stops more new places in a district (`""` when nothing does). A district
/// below its fair share with room left, in a plan that meets the demand, is
/// `existing_elsewhere` when places that already exist put other districts over their
/// shares: the demand cannot reach every share then, and evenness is indifferent to which
/// districts stay below (stage fair spreads that deficit in proportion to the shares).
pub fn limited_by(instance: &Instance, prepared: &Prepared, plan: &Plan) -> Vec<&'static str> {
    let district_count = instance.districts.len();
    let mut new_places = vec![0u64; district_count];
    for (site, &x) in plan.places.iter().enumerate() {
        if let Some(d) = prepared.site_district[site] {
            new_places[d as usize] += u64::from(x);
        }
    }
    // Spacing balls and seat facilities that are used up.
    let mut blocked_by_spacing = vec![false; instance.sites.len()];
    for limit in prepared.spacing.iter() {
        let used: u64 = limit
            .members
            .iter()
            .map(|&s| u64::from(plan.places[s as usize]))
            .sum();
        if used >= limit.room {
            for &s in &limit.members {
                blocked_by_spacing[s as usize] = true;
            }
        }
    }
    let mut seats_used = vec![0u64; prepared.seat_room.len()];
    for (site, facility) in prepared.seat_facility.iter().enumerate() {
        if let Some(f) = facility {
            if let Some(slot) = seats_used.get_mut(*f as usize) {
                *slot += u64::from(plan.places[site]);
            }
        }
    }
    let seats_full = |site: usize| {
        prepared.seat_facility[site]
            .and_then(|f| {
                prepared
                    .seat_room
                    .get(f as usize)
                    .copied()
                    .flatten()
                    .map(|room| (f, room))
            })
            .is_some_and(|(f, room)| seats_used[f as usize] >= room)
    };

    #[derive(Default, Clone)]
    struct Tally {
        sites: usize,
        usable: usize,
        with_room: usize,
        spacing: usize,
        seats: usize,
        access: usize,
        unreachable: usize,
        no_capacity: usize,
    }
    let mut tally = vec![Tally::default(); district_count];
    for (site, data) in instance.sites.iter().enumerate() {
        let Some(d) = prepared.site_district[site] else {
            continue;
        };
        if data.status == SiteStatus::Excluded {
            continue;
        }
        let t = &mut tally[d as usize];
        t.sites += 1;
        match prepared.exclusion[site] {
            Some(Exclusion::Access(_)) => t.access += 1,
            Some(Exclusion::Unreachable) => t.unreachable += 1,
            Some(Exclusion::NoCapacity) => t.no_capacity += 1,
            Some(_) => {}
            None => {
                t.usable += 1;
                if plan.places[site] < prepared.site_room[site] {
                    if blocked_by_spacing[site] {
                        t.spacing += 1;
                    } else if seats_full(site) {
                        t.seats += 1;
                    } else {
                        t.with_room += 1;
                    }
                }
            }
        }
    }
    // Places that already exist above their districts' fair shares: the new places cannot
    // bring every other district up to its share then (the shares add up to the demand
    // plus every existing place).
    let placed: u64 = new_places.iter().sum();
    let over_share = existing_over_shares(&prepared.district_existing, &prepared.target).0 > 0;
    let below_share = |d: usize| {
        let target = prepared.target[d];
        target > 0.0 && prepared.district_existing[d] + (new_places[d] as f64) < target - 1e-9
    };
    (0..district_count)
        .map(|d| {
            let t = &tally[d];
            let max_new = instance.district_rule(d).and_then(|r| r.max_new);
            if max_new.is_some_and(|m| new_places[d] >= m) {
                "max_new"
            } else if prepared.share_room[d].is_some_and(|room| new_places[d] >= room) {
                "share_cap"
            } else if t.sites == 0 {
                "no_sites"
            } else if t.with_room > 0 {
                if below_share(d) && over_share && placed >= prepared.demand {
                    "existing_elsewhere"
                } else {
                    ""
                }
            } else if t.spacing > 0 && t.spacing >= t.seats {
                "spacing"
            } else if t.seats > 0 {
                "seats"
            } else if t.usable > 0 || t.no_capacity > 0 {
                "site_caps"
            } else if t.access > 0 && t.access >= t.unreachable {
                "access"
            } else if t.unreachable > 0 {
                "unreachable"
            } else {
                "no_sites"
            }
        })
        .collect()
}

/// How much of the shortfall each rule accounts for, in the order the rules take capacity
/// away: no capacity left at available sites at all, then (with a street network) sites that
/// reach no facility on foot, then access, then district share caps,
/// then the district rules' caps on new places (`max_new`);
/// what remains is due to spacing (or seats, or all-or-nothing minimum occupancy, whichever
/// the scenario uses first). The amounts add up to the shortfall.
pub fn shortfall_reasons(
    instance: &Instance,
    prepared: &Prepared,
    shortfall: u64,
) -> Vec<(&'static str, u64)> {
    let demand = instance.demand;
    let max_per_site = instance.rules.max_per_site;
    // K1: room at available sites under capacity and max_per_site alone; K1': without the
    // sites that reach no facility on foot.
    let available = |s: usize, site: &Site| {
        prepared.site_district[s].is_some() && site.status != SiteStatus::Excluded
    };
    let room_of = |site: &Site| {
        u64::from(
            site.capacity
                .min(max_per_site)
                .saturating_sub(site.occupied),
        )
    };
    let raw_room: u64 = instance
        .sites
        .iter()
        .enumerate()
        .filter(|&(s, site)| available(s, site))
        .map(|(_, site)| room_of(site))
        .sum();
    let reachable_room: u64 = instance
        .sites
        .iter()
        .enumerate()
        .filter(|&(s, site)| {
            available(s, site) && prepared.exclusion[s] != Some(Exclusion::Unreachable)
        })
        .map(|(_, site)| room_of(site))
        .sum();
    // K2: after access (and minimums that no longer fit).
    let site_room = prepared.site_room_total();
    // K3: after district share caps.
    let mut district_room = vec![0u64; instance.districts.len()];
    for (s, &room) in prepared.site_room.iter().enumerate() {
        if let Some(d) = prepared.site_district[s] {
            district_room[d as usize] += u64::from(room);
        }
    }
    // K3: after the share caps (general, or a district rule's own), K4: after the district
    // rules' caps on new places too (`share_room` holds both).
    let share_only: u64 = district_room
        .iter()
        .enumerate()
        .map(|(d, &room)| {
            let district = &instance.districts[d];
            let share = instance
                .district_rule(d)
                .and_then(|r| r.max_share)
                .or(instance.rules.max_share);
            share.map_or(room, |share| {
                let existing = prepared.district_existing[d];
                let cap = (share * district.population).max(existing);
                room.min((cap - existing + 1e-9).floor().max(0.0) as u64)
            })
        })
        .sum();
    let capped_room: u64 = district_room
        .iter()
        .zip(&prepared.share_room)
        .map(|(&room, cap)| cap.map_or(room, |c| room.min(c)))
        .sum();
    let short = |room: u64| demand.saturating_sub(room).min(shortfall);
    let no_capacity = short(raw_room);
    let unreachable = short(reachable_room) - no_capacity;
    let access = short(site_room) - no_capacity - unreachable;
    let share_cap = short(share_only) - no_capacity - unreachable - access;
    let max_new =
        short(capped_room.min(share_only)) - no_capacity - unreachable - access - share_cap;
    let rest = shortfall - no_capacity - unreachable - access - share_cap - max_new;
    let rest_reason = if instance.rules.spacing.is_some() {
        "spacing"
    } else if instance.rules.seats.is_some() {
        "seats"
    } else {
        "min_places"
    };
    let mut reasons = vec![("no_capacity", no_capacity)];
    // Said only where distances are walked, so that scenarios without a network keep their
    // keys.
    if instance.network.is_some() {
        reasons.push(("unreachable", unreachable));
    }
    reasons.extend([
        ("access", access),
        ("share_cap", share_cap),
        ("max_new", max_new),
        ("spacing", 0),
        ("seats", 0),
        ("min_places", 0),
    ]);
    if let Some(entry) = reasons.iter_mut().find(|(k, _)| *k == rest_reason) {
        entry.1 += rest;
    }
    reasons
}

/// Places that already exist above their districts' fair shares: how many districts, and by
/// how many places in all. Since the shares add up to the demand plus every existing place,
/// the new places then cannot bring every other district up to its share: at least that
/// many places of the other districts' shares stay out of reach.
pub fn existing_over_shares(existing: &[f64], target: &[f64]) -> (usize, f64) {
    existing
        .iter()
        .zip(target)
        .filter(|&(&e, &t)| t > 0.0 && e > t + 1e-9)
        .fold((0, 0.0), |(n, sum), (&e, &t)| (n + 1, sum + e - t))
}
