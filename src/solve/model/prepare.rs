//! What the rules leave of each site and district before any optimisation: how many new
//! places each site may take (site cap, status, access), the fair-share targets, the share
//! caps and the spacing balls that can bind at all.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use super::spread_balls::SpreadBalls;
use crate::model::{Instance, SiteStatus, Stage};
use crate::spatial::{map_neighbourhoods, Geography};

/// Why a site can take no new places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Exclusion {
    /// Lies in no district.
    Outside,
    /// Status `excluded`.
    Status,
    /// With a street network: off it, or no facility of a kind that the access rule or stage
    /// names can be reached on foot.
    Unreachable,
    /// Too far from a facility the access rule names (index into `Rules::access`).
    Access(usize),
    /// No room left under its capacity and `max_per_site` (or less room than its minimum).
    NoCapacity,
}

impl Exclusion {
    /// The key used in `summary.json` and messages.
    pub fn key(self) -> &'static str {
        match self {
            Exclusion::Outside => "outside",
            Exclusion::Status => "status",
            Exclusion::Unreachable => "unreachable",
            Exclusion::Access(_) => "access",
            Exclusion::NoCapacity => "no_capacity",
        }
    }
}

/// A spacing ball that can bind: the sites in it may take at most `room` new places together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpacingLimit {
    /// The site at the centre.
    pub centre: u32,
    /// Sites in the ball that may take new places (ascending).
    pub members: Vec<u32>,
    pub room: u64,
}

/// The order of a site among the sites of its district for the stages that count a number
/// per new place (access, cost), in the order of the stages: sites with smaller keys fill
/// first. Unused entries are 0.
pub type SiteKey = [f64; 2];

/// The rules applied to each site and district, independent of the optimisation, for one
/// demand (a level of the forecast) and the stages to solve. The parts that do not depend
/// on the demand are shared between the levels.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// N: the new places of this solve.
    pub demand: u64,
    /// The objective stages this solve runs (the scenario's, or its first ones).
    pub stages: Vec<Stage>,
    pub site_district: Arc<Vec<Option<u32>>>,
    /// New places a site may take at most (0 when excluded).
    pub site_room: Arc<Vec<u32>>,
    /// Why a site may take none; `None` for usable sites.
    pub exclusion: Arc<Vec<Option<Exclusion>>>,
    /// e_d: the district's `existing` property plus occupied places of existing sites in it.
    pub district_existing: Vec<f64>,
    /// t_d = T·w_d/W.
    pub target: Vec<f64>,
    /// New places the share cap (rule 4, general or the district rule's) and the district
    /// rule's `max_new` leave in each district (`None` when neither applies).
    pub share_room: Vec<Option<u64>>,
    /// Spacing balls that can bind (deduplicated).
    pub spacing: Arc<Vec<SpacingLimit>>,
    /// Seats rule: the facility serving each site (its nearest of the rule's kind).
    pub seat_facility: Arc<Vec<Option<u32>>>,
    /// Seats rule: new places each facility's free seats still allow (`None` = no limit).
    pub seat_room: Vec<Option<u64>>,
    /// Stage access: per site, the sum of the distances (metres) to the nearest facility of
    /// each access kind; empty when the stages have no access stage.
    pub access_distance: Arc<Vec<f64>>,
    /// The neighbourhoods of stage spread, indexed when first needed.
    spread: Arc<OnceLock<SpreadBalls>>,
    /// Distances to facilities are walked along a street network.
    pub walked: bool,
}

impl Prepared {
    pub fn new(instance: &Instance, geography: &Geography) -> Prepared {
        let rules = &instance.rules;
        let site_district = geography.site_district.clone();
        let access_layers: Vec<Option<usize>> = rules
            .access
            .iter()
            .map(|a| instance.facilities.iter().position(|l| l.kind == a.kind))
            .collect();

        let unreachable = unreachable_sites(instance, geography);
        let mut site_room = Vec::with_capacity(instance.sites.len());
        let mut exclusion = Vec::with_capacity(instance.sites.len());
        for (index, site) in instance.sites.iter().enumerate() {
            let cap = site.capacity.min(rules.max_per_site);
            let room = cap.saturating_sub(site.occupied);
            let reason = if site_district[index].is_none() {
                Some(Exclusion::Outside)
            } else if site.status == SiteStatus::Excluded {
                Some(Exclusion::Status)
            } else if unreachable.get(index).copied().unwrap_or(false) {
                Some(Exclusion::Unreachable)
            } else if let Some(rule) = rules.access.iter().enumerate().position(|(k, rule)| {
                let nearest = access_layers[k].and_then(|layer| geography.nearest[layer][index]);
                !matches!(nearest, Some(n) if n.metres <= rule.metres)
            }) {
                Some(Exclusion::Access(rule))
            } else if room == 0 || room < site.min_places {
                Some(Exclusion::NoCapacity)
            } else {
                None
            };
            site_room.push(if reason.is_some() { 0 } else { room });
            exclusion.push(reason);
        }

        let mut district_existing: Vec<f64> =
            instance.districts.iter().map(|d| d.existing).collect();
        for (index, site) in instance.sites.iter().enumerate() {
            if let Some(d) = site_district[index] {
                district_existing[d as usize] += f64::from(site.occupied);
            }
        }
        let target = targets(instance, &district_existing, instance.demand);
        // Rule 4 with the district rule's own share cap where one applies, and its cap on
        // new places (`max_new`).
        let share_room = instance
            .districts
            .iter()
            .zip(&district_existing)
            .map(|(d, &existing)| {
                let rule = d.rule.and_then(|r| rules.district.get(r));
                let share = rule.and_then(|r| r.max_share).or(rules.max_share);
                let by_share = share.map(|share| {
                    let cap = (share * d.population).max(existing);
                    (cap - existing + 1e-9).floor().max(0.0) as u64
                });
                match (by_share, rule.and_then(|r| r.max_new)) {
                    (Some(room), Some(max_new)) => Some(room.min(max_new)),
                    (room, max_new) => room.or(max_new),
                }
            })
            .collect();

        let (seat_facility, seat_room) = seat_limits(instance, geography, &site_district);
        let access_distance = if instance.stages.contains(&Stage::Access) {
            access_distances(instance, geography)
        } else {
            Vec::new()
        };
        let mut prepared = Prepared {
            demand: instance.demand,
            stages: instance.stages.clone(),
            site_district: Arc::new(site_district),
            site_room: Arc::new(site_room),
            exclusion: Arc::new(exclusion),
            district_existing,
            target,
            share_room,
            spacing: Arc::new(Vec::new()),
            seat_facility: Arc::new(seat_facility),
            seat_room,
            access_distance: Arc::new(access_distance),
            walked: instance.network.is_some(),
            spread: Arc::new(OnceLock::new()),
        };
        prepared.spacing = Arc::new(prepared.spacing_limits(instance));
        prepared
    }

    /// The same city for another demand (a level of the forecast): only the fair shares
    /// change.
    pub fn for_demand(&self, instance: &Instance, demand: u64) -> Prepared {
        Prepared {
            demand,
            target: targets(instance, &self.district_existing, demand),
            ..self.clone()
        }
    }

    /// The same city with only the first stages to solve.
    pub fn with_stages(&self, stages: &[Stage]) -> Prepared {
        Prepared {
            stages: stages.to_vec(),
            ..self.clone()
        }
    }

    /// The same city where site s may take at most `most[s]` new places (a level's plan must
    /// lie within the next level's). Spacing balls that can no longer bind are dropped.
    pub(crate) fn with_room_at_most(&self, most: &[u32]) -> Prepared {
        let site_room: Vec<u32> = self
            .site_room
            .iter()
            .zip(most)
            .map(|(&room, &most)| room.min(most))
            .collect();
        let mut restricted = Prepared {
            site_room: Arc::new(site_room),
            ..self.clone()
        };
        let spacing: Vec<SpacingLimit> = self
            .spacing
            .iter()
            .filter_map(|ball| {
                let members: Vec<u32> = ball
                    .members
                    .iter()
                    .copied()
                    .filter(|&s| restricted.site_room[s as usize] > 0)
                    .collect();
                let could_take = restricted
                    .room_within(&members, |d| restricted.share_room[d].unwrap_or(u64::MAX));
                (could_take > ball.room).then_some(SpacingLimit {
                    centre: ball.centre,
                    members,
                    room: ball.room,
                })
            })
            .collect();
        restricted.spacing = Arc::new(spacing);
        restricted
    }

    /// The same city with the places of `below` (a plan that keeps every rule) already
    /// taken, and `demand` new places on top: the next level of a nested plan, solved
    /// alone. The city (`Instance`) counts them as occupied at their sites, without the
    /// minimum occupancy where a site has some already; the rules' room left shrinks by
    /// them (sites, districts' share caps, spacing balls, seats), and the fair shares are
    /// those of the level whose demand is `below` + `demand`. The evenness, fair and worst
    /// district values of a plan are then those of `below` plus it; costs and distances
    /// are those of the new places only (less by a constant). Not for stage spread, which
    /// counts new places only.
    pub(crate) fn with_placed(
        &self,
        instance: &Instance,
        below: &[u32],
        demand: u64,
    ) -> (Instance, Prepared) {
        let mut city = instance.clone();
        city.demand = demand;
        city.levels = Vec::new();
        let mut site_room = self.site_room.as_ref().clone();
        let mut district_existing = self.district_existing.clone();
        let mut share_room = self.share_room.clone();
        let mut seat_room = self.seat_room.clone();
        for (s, &placed) in below.iter().enumerate().filter(|(_, &x)| x > 0) {
            city.sites[s].occupied += placed;
            city.sites[s].min_places = 0;
            site_room[s] = site_room[s].saturating_sub(placed);
            if let Some(d) = self.site_district[s] {
                let d = d as usize;
                district_existing[d] += f64::from(placed);
                if let Some(room) = share_room[d].as_mut() {
                    *room = room.saturating_sub(u64::from(placed));
                }
            }
            if let Some(f) = self.seat_facility[s] {
                if let Some(Some(room)) = seat_room.get_mut(f as usize) {
                    *room = room.saturating_sub(u64::from(placed));
                }
            }
        }
        let spacing: Vec<SpacingLimit> = self
            .spacing
            .iter()
            .map(|ball| {
                let taken: u64 = ball
                    .members
                    .iter()
                    .map(|&m| u64::from(below[m as usize]))
                    .sum();
                SpacingLimit {
                    centre: ball.centre,
                    members: ball.members.clone(),
                    room: ball.room.saturating_sub(taken),
                }
            })
            .collect();
        let target = targets(&city, &district_existing, demand);
        let prepared = Prepared {
            demand,
            site_room: Arc::new(site_room),
            district_existing,
            target,
            share_room,
            spacing: Arc::new(spacing),
            seat_room,
            ..self.clone()
        };
        (city, prepared)
    }

    /// The order key of site s among the sites of its district (see `SiteKey`).
    pub fn site_key(&self, instance: &Instance, s: usize) -> SiteKey {
        let mut key = [0.0; 2];
        let mut next = 0;
        for stage in &self.stages {
            let value = match stage {
                Stage::Access => self.access_distance.get(s).copied().unwrap_or(0.0),
                Stage::Cost => instance.sites[s].cost.unwrap_or(0.0),
                _ => continue,
            };
            key[next] = value;
            next += 1;
        }
        key
    }

    /// The place-per-place stages (access, cost) in the order they run, each with its
    /// position in `SiteKey`.
    pub fn per_place_stages(&self) -> Vec<(Stage, usize)> {
        self.stages
            .iter()
            .filter(|s| s.is_per_place())
            .enumerate()
            .map(|(position, &stage)| (stage, position))
            .collect()
    }

    /// The neighbourhoods of stage spread (built on first use, shared between levels).
    pub fn spread_balls(&self, instance: &Instance) -> &SpreadBalls {
        self.spread
            .get_or_init(|| SpreadBalls::new(instance, &self.site_district))
    }

    /// Balls around every candidate or existing site inside a district (docs/model.md rule 5),
    /// kept only where the room the sites in them have could exceed what the rule allows.
    fn spacing_limits(&self, instance: &Instance) -> Vec<SpacingLimit> {
        let Some(spacing) = instance.rules.spacing else {
            return Vec::new();
        };
        let members: Vec<u32> = (0..instance.sites.len() as u32)
            .filter(|&s| {
                let site = &instance.sites[s as usize];
                site.status != SiteStatus::Excluded && self.site_district[s as usize].is_some()
            })
            .collect();
        let positions: Vec<[f64; 2]> = members
            .iter()
            .map(|&s| instance.sites[s as usize].position)
            .collect();
        // Each ball that could bind, on all cores: (centre, usable sites, room).
        let balls: Vec<(u32, Vec<u32>, u64)> =
            map_neighbourhoods(&positions, spacing.metres, |centre_pos, ball| {
                let occupied: u64 = ball
                    .iter()
                    .map(|&m| u64::from(instance.sites[members[m as usize] as usize].occupied))
                    .sum();
                let room = u64::from(spacing.max_places).max(occupied) - occupied;
                let usable: Vec<u32> = ball
                    .iter()
                    .map(|&m| members[m as usize])
                    .filter(|&s| self.site_room[s as usize] > 0)
                    .collect();
                let could_take =
                    self.room_within(&usable, |d| self.share_room[d].unwrap_or(u64::MAX));
                (could_take > room).then_some((members[centre_pos], usable, room))
            });
        // Balls with the same usable sites differ only in their room: keep the tightest.
        let mut first_with: HashMap<&[u32], usize> = HashMap::new();
        let mut kept: Vec<(usize, u64, u32)> = Vec::new(); // (ball, room, centre)
        for (index, (centre, usable, room)) in balls.iter().enumerate() {
            match first_with.get(usable.as_slice()) {
                Some(&k) => {
                    if *room < kept[k].1 {
                        kept[k].1 = *room;
                        kept[k].2 = *centre;
                    }
                }
                None => {
                    first_with.insert(usable, kept.len());
                    kept.push((index, *room, *centre));
                }
            }
        }
        drop(first_with);
        let mut balls: Vec<Option<Vec<u32>>> = balls
            .into_iter()
            .map(|(_, usable, _)| Some(usable))
            .collect();
        kept.into_iter()
            .map(|(index, room, centre)| SpacingLimit {
                centre,
                members: balls[index].take().expect("each ball is kept once"),
                room,
            })
            .collect()
    }

    /// The most new places `sites` could take together: their room, but at most
    /// `district_cap(d)` in each district d.
    pub(crate) fn room_within(&self, sites: &[u32], district_cap: impl Fn(usize) -> u64) -> u64 {
        let mut by_district: Vec<(u32, u64)> = Vec::new();
        for &s in sites {
            let Some(d) = self.site_district[s as usize] else {
                continue;
            };
            let room = u64::from(self.site_room[s as usize]);
            match by_district.iter_mut().find(|(known, _)| *known == d) {
                Some(entry) => entry.1 += room,
                None => by_district.push((d, room)),
            }
        }
        by_district
            .into_iter()
            .map(|(d, room)| room.min(district_cap(d as usize)))
            .sum()
    }

    /// Counts of excluded sites by reason key, in a stable order.
    pub fn exclusion_counts(&self) -> Vec<(&'static str, usize)> {
        let mut counts: Vec<(&'static str, usize)> =
            ["outside", "status", "unreachable", "access", "no_capacity"]
                .iter()
                .map(|&k| (k, 0))
                .collect();
        if !self.walked {
            counts.retain(|(k, _)| *k != "unreachable");
        }
        for reason in self.exclusion.iter().flatten() {
            if let Some(entry) = counts.iter_mut().find(|(k, _)| *k == reason.key()) {
                entry.1 += 1;
            }
        }
        counts
    }

    /// Total new places the sites could take before district and spacing rules.
    pub fn site_room_total(&self) -> u64 {
        self.site_room.iter().map(|&r| u64::from(r)).sum()
    }
}

/// t_d = T·w_d/W with T = N + Σ e_d.
fn targets(instance: &Instance, district_existing: &[f64], demand: u64) -> Vec<f64> {
    let total_weight: f64 = instance.districts.iter().map(|d| d.weight).sum();
    let total = demand as f64 + district_existing.iter().sum::<f64>();
    instance
        .districts
        .iter()
        .map(|d| total * d.weight / total_weight)
        .collect()
}

/// docs/model.md "Distances on foot": with a street network, the sites that cannot reach any
/// facility of a kind that rule 6 or stage E names (kinds without facilities are left to
/// the access rule). Empty without a network.
fn unreachable_sites(instance: &Instance, geography: &Geography) -> Vec<bool> {
    if instance.network.is_none() {
        return Vec::new();
    }
    let mut kinds: Vec<String> = instance
        .rules
        .access
        .iter()
        .map(|a| a.kind.clone())
        .collect();
    if instance.stages.contains(&Stage::Access) {
        kinds.extend(instance.access_kinds());
    }
    let layers: Vec<usize> = instance
        .facilities
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.facilities.is_empty() && kinds.contains(&l.kind))
        .map(|(index, _)| index)
        .collect();
    (0..instance.sites.len())
        .map(|s| layers.iter().any(|&l| geography.nearest[l][s].is_none()))
        .collect()
}

/// docs/model.md stage E: per site, Σ_k dist_k(s) over the access kinds (kinds without a layer
/// or without facilities add nothing).
fn access_distances(instance: &Instance, geography: &Geography) -> Vec<f64> {
    let layers: Vec<usize> = instance
        .access_kinds()
        .iter()
        .filter_map(|kind| instance.facilities.iter().position(|l| &l.kind == kind))
        .collect();
    (0..instance.sites.len())
        .map(|s| {
            layers
                .iter()
                .filter_map(|&layer| geography.nearest[layer][s])
                .map(|n| n.metres)
                .sum()
        })
        .collect()
}

/// docs/model.md rule 7: each site inside a district is served by its nearest facility of the
/// seats kind; a facility with `seats` admits Σ κ·(o + x) ≤ max(seats, Σ κ·o) over the sites it
/// serves, so new places there are at most ⌊(max(seats, κ·O) − κ·O) / κ⌋.
fn seat_limits(
    instance: &Instance,
    geography: &Geography,
    site_district: &[Option<u32>],
) -> (Vec<Option<u32>>, Vec<Option<u64>>) {
    let Some(rule) = &instance.rules.seats else {
        return (vec![None; instance.sites.len()], Vec::new());
    };
    let Some(layer_index) = instance.facilities.iter().position(|l| l.kind == rule.kind) else {
        return (vec![None; instance.sites.len()], Vec::new());
    };
    let layer = &instance.facilities[layer_index];
    let served: Vec<Option<u32>> = (0..instance.sites.len())
        .map(|s| {
            site_district[s]?;
            geography.nearest[layer_index][s].map(|n| n.facility)
        })
        .collect();
    let mut occupied = vec![0.0f64; layer.facilities.len()];
    for (s, facility) in served.iter().enumerate() {
        if let Some(f) = facility {
            occupied[*f as usize] += f64::from(instance.sites[s].occupied);
        }
    }
    let kappa = rule.per_place;
    let room = layer
        .facilities
        .iter()
        .zip(&occupied)
        .map(|(facility, &o)| {
            facility.seats.map(|seats| {
                let children = kappa * o;
                ((seats.max(children) - children) / kappa + 1e-9)
                    .floor()
                    .max(0.0) as u64
            })
        })
        .collect();
    (served, room)
}
