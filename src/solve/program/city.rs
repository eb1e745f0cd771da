//! The city as a mixed-integer program for HiGHS (docs/model.md: rules 1–7, the stage
//! objectives, and demand levels), shrunk by structure, never weakened.
//!
//! - Sites whose only constraints are their own bounds (no minimum occupancy, in no spacing
//!   ball that can bind, no spread stage) are aggregated into one integer column per
//!   district (and serving school), and split onto the sites afterwards in fill order: by
//!   key (cheapest or nearest first, as the stages ask), then in file order. Every split
//!   within the bounds is equally even. The stage with a number per place sees the key
//!   blocks of such a column as continuous segments, which it fills in key order. With two
//!   such stages (access and cost), sites are aggregated only with sites of the same key.
//! - Only sites with a minimum get a binary; only sites in a spacing ball that can bind
//!   (or every usable site, with the spread stage) get a column of their own.
//! - Each district's deviation gets the chord cut that makes its LP relaxation exact for
//!   whole numbers.
//! - With demand levels every column exists once per level, with x^l ≤ x^{l+1}. The rules
//!   that only cap places (site caps, share caps, spacing, seats) are rows of the last
//!   level alone: with the nesting, they then hold at every level. Demand, fair shares,
//!   minimum occupancy and the stages' objectives are per level.

use std::collections::BTreeMap;

use super::neighbourhoods::SpacingRows;
use super::session::LpSession;
use super::sparse::{infeasible, Col, Program, Settings};
use crate::error::Error;
use crate::model::{Instance, Plan, Stage};
use crate::solve::model::prepare::{Prepared, SiteKey};
use crate::solve::model::values::level_scales;

/// A column of places: one site, or the bound-only sites of a district.
pub(crate) struct Unit {
    /// The unit's column at each level.
    pub(crate) columns: Vec<Col>,
    pub(crate) district: u32,
    /// Sites in fill order.
    pub(crate) sites: Vec<u32>,
    /// New places by key, in fill order: (key, places).
    pub(crate) blocks: Vec<(SiteKey, u64)>,
}

/// The handles of one level.
pub(crate) struct LevelColumns {
    pub(crate) demand_row: usize,
    pub(crate) deviation_rows: Vec<usize>,
    /// The "site is used" binaries of sites with a minimum occupancy.
    pub(crate) binaries: Vec<Col>,
    /// The unit of each binary.
    pub(crate) binary_units: Vec<usize>,
    pub(crate) shortfall: Col,
    pub(crate) over: Vec<Col>,
    pub(crate) under: Vec<Col>,
    /// Stage fair: each district's deficit below its share as segments between the deficits
    /// of whole numbers of places, with their cost per unit of deficit.
    pub(crate) fair: Vec<(Col, f64)>,
    /// The same segments by district, in the order they fill (cheapest deficit last), with
    /// their widths: how a plan's deficit is read into them (`plan::settle_continuous`).
    pub(crate) fair_by_district: Vec<(usize, Vec<(Col, f64)>)>,
    /// Stage worst: the largest deviation.
    pub(crate) worst: Option<Col>,
    /// Stage spread: the most new places in a neighbourhood.
    pub(crate) spread: Option<Col>,
    /// ω_l: the level's weight in every stage.
    pub(crate) weight: f64,
    /// T^L/T^l: evenness and worst count levels of different size alike.
    pub(crate) scale: f64,
}

/// The built program with the handles needed to read the plan back.
pub(crate) struct CityProgram {
    pub(crate) program: Program,
    pub(crate) levels: Vec<LevelColumns>,
    /// Share-cap rows of the last level.
    pub(crate) share_rows: Vec<Option<usize>>,
    pub(crate) units: Vec<Unit>,
    pub(crate) aggregated_sites: usize,
    /// Rows keeping districts within evenness bounds (dropped for marginal values).
    pub(crate) bound_rows: Vec<usize>,
    /// The unit of each site that has a column of its own.
    pub(crate) site_unit: Vec<Option<usize>>,
}

/// Stage fair's term max(0, t − a)² / t of a district with share `t` and `kink` = t − e new
/// places to its share, as the segments of its deficit between the deficits of whole numbers
/// of places (width, cost per unit of deficit), smallest deficit first. The term is convex in
/// the whole number of places, so the costs rise and the LP fills the segments in order:
/// its interpolation is exact at every whole number of places.
fn fair_segments(t: f64, kink: f64) -> Vec<(f64, f64)> {
    if t <= 0.0 || kink <= 1e-9 {
        return Vec::new();
    }
    // Deficits at X = ⌊kink⌋, ⌊kink⌋ − 1, …, 0 new places (and 0 at the share).
    let mut points = vec![0.0];
    let mut x = kink.floor();
    while x >= 0.0 {
        let deficit = kink - x;
        if deficit > 1e-9 {
            points.push(deficit);
        }
        x -= 1.0;
    }
    points
        .windows(2)
        .map(|w| (w[1] - w[0], (w[1] + w[0]) / t))
        .collect()
}

impl LevelColumns {
    /// The level's factor in a stage's weighted sum: ω_l, and for the stages that count
    /// districts' places (evenness, fair, worst) also T^L/T^l, so that levels of different
    /// size count alike.
    pub(crate) fn factor(&self, stage: Stage) -> f64 {
        match stage {
            Stage::Evenness | Stage::Fair | Stage::Worst => self.weight * self.scale,
            _ => self.weight,
        }
    }

    /// The level's value in a stage that counts districts' places (evenness, fair, worst),
    /// times `k`: with `k` = 1 its value alone (`values::stage_value`).
    pub(crate) fn district_terms(&self, stage: Stage, k: f64) -> Option<Vec<(Col, f64)>> {
        match stage {
            Stage::Evenness => Some(
                self.over
                    .iter()
                    .chain(&self.under)
                    .map(|&c| (c, k))
                    .collect(),
            ),
            Stage::Fair => Some(self.fair.iter().map(|&(c, cost)| (c, k * cost)).collect()),
            Stage::Worst => Some(vec![(self.worst?, k)]),
            _ => None,
        }
    }
}

impl CityProgram {
    /// The column of site s at level l, if the site has a column of its own.
    pub(crate) fn site_column(&self, s: usize, level: usize) -> Option<Col> {
        self.site_unit[s].map(|u| self.units[u].columns[level])
    }

    pub(crate) fn last_level(&self) -> usize {
        self.levels.len() - 1
    }
}

/// The continuous segments of each unit with several keys, per level: (unit, level, one
/// column per key block in fill order).
pub(crate) type Segments = Vec<(usize, usize, Vec<Col>)>;

/// Builds the program for the levels `levels` (one `Prepared` per level, the last the
/// headline; a single demand is one level) with `weights` ω_l.
pub(crate) fn build(
    instance: &Instance,
    levels: &[Prepared],
    weights: &[f64],
    active: &SpacingRows,
    with_fair_segments: bool,
) -> CityProgram {
    let prepared = levels.last().expect("at least one level");
    let level_count = levels.len();
    let mut program = Program::default();
    let district_count = instance.districts.len();
    let mut units: Vec<Unit> = Vec::new();
    let mut groups: BTreeMap<(u32, u32, [u64; 2]), usize> = BTreeMap::new();
    // With two stages with a number per place (access and cost), one stage's bound leaves
    // the next free to trade places between sites of different keys in the same unit:
    // continuous segments would let it trade fractions of a place, and a unit's places
    // would no longer fill in key order. Such sites then get a unit per key. (Tight market:
    // the segments gave a cost bound of 1,450,000.26 and a plan costing 1,451,035; the
    // integer optimum is 1,450,171.)
    let split_by_key = prepared.per_place_stages().len() >= 2;
    let mut room_of_unit: Vec<u64> = Vec::new();
    let mut aggregated_sites = 0;

    for (index, site) in instance.sites.iter().enumerate() {
        let room = prepared.site_room[index];
        let Some(district) = prepared.site_district[index] else {
            continue;
        };
        if room == 0 {
            continue;
        }
        let own_column = site.min_places > 0 || active.own_columns || active.in_spacing[index];
        if !own_column {
            aggregated_sites += 1;
            let facility = prepared.seat_facility[index].unwrap_or(u32::MAX);
            let site_key = if split_by_key {
                prepared.site_key(instance, index).map(f64::to_bits)
            } else {
                [0; 2]
            };
            let key = (district, facility, site_key);
            if let Some(&unit) = groups.get(&key) {
                units[unit].sites.push(index as u32);
                room_of_unit[unit] += u64::from(room);
                continue;
            }
            groups.insert(key, units.len());
        }
        units.push(Unit {
            columns: Vec::new(),
            district,
            sites: vec![index as u32],
            blocks: Vec::new(),
        });
        room_of_unit.push(u64::from(room));
    }
    let key_of = |s: u32| prepared.site_key(instance, s as usize);
    let keyed = prepared.stages.iter().any(|s| s.is_per_place());
    for unit in &mut units {
        if keyed {
            unit.sites.sort_by(|&a, &b| {
                let (ka, kb) = (key_of(a), key_of(b));
                ka[0]
                    .total_cmp(&kb[0])
                    .then(ka[1].total_cmp(&kb[1]))
                    .then(a.cmp(&b))
            });
        }
        for &s in &unit.sites {
            let room = u64::from(prepared.site_room[s as usize]);
            let key = key_of(s);
            match unit.blocks.last_mut() {
                Some(last) if last.0 == key => last.1 += room,
                _ => unit.blocks.push((key, room)),
            }
        }
    }

    let mut site_unit: Vec<Option<usize>> = vec![None; instance.sites.len()];
    for (u, (unit, &room)) in units.iter_mut().zip(&room_of_unit).enumerate() {
        unit.columns = (0..level_count)
            .map(|_| program.add_column(0.0, room as f64, true))
            .collect();
        if let [site] = unit.sites[..] {
            site_unit[site as usize] = Some(u);
        }
    }
    // Nesting: places never fall from one level to the next.
    for unit in &units {
        for pair in unit.columns.windows(2) {
            program.add_row(vec![(pair[0], 1.0), (pair[1], -1.0)], 0.0, false);
        }
    }

    let mut in_district: Vec<Vec<usize>> = vec![Vec::new(); district_count];
    let mut room_in_district = vec![0u64; district_count];
    for (u, (unit, &room)) in units.iter().zip(&room_of_unit).enumerate() {
        in_district[unit.district as usize].push(u);
        room_in_district[unit.district as usize] += room;
    }
    let scale = level_scales(levels);
    let mut level_columns = Vec::with_capacity(level_count);
    for (l, level) in levels.iter().enumerate() {
        let at = |u: usize| units[u].columns[l];
        // Minimum occupancy: min·y ≤ x ≤ room·y.
        let mut binaries = Vec::new();
        let mut binary_units = Vec::new();
        for (u, unit) in units.iter().enumerate() {
            let site = unit.sites[0] as usize;
            let minimum = instance.sites[site].min_places;
            if unit.sites.len() == 1 && minimum > 0 {
                let room = f64::from(prepared.site_room[site]);
                let used = program.add_column(0.0, 1.0, true);
                binaries.push(used);
                binary_units.push(u);
                let x = unit.columns[l];
                program.add_row(vec![(x, 1.0), (used, -room)], 0.0, false);
                program.add_row(vec![(x, -1.0), (used, f64::from(minimum))], 0.0, false);
            }
        }
        let demand = level.demand as f64;
        let shortfall = program.add_column(0.0, demand, false);
        let mut demand_terms: Vec<(Col, f64)> = (0..units.len()).map(|u| (at(u), 1.0)).collect();
        demand_terms.push((shortfall, 1.0));
        let demand_row = program.add_row(demand_terms, demand, true);

        let mut over = Vec::with_capacity(district_count);
        let mut under = Vec::with_capacity(district_count);
        let mut deviation_rows = Vec::with_capacity(district_count);
        for (d, members) in in_district.iter().enumerate() {
            // a_d − t_d = p_d − m_d, with a_d = e_d + Σ x, and the chord cut of whole places
            // (HiGHS rarely branches on the districts' terms).
            let columns: Vec<Col> = members.iter().map(|&u| at(u)).collect();
            let kink = level.target[d] - level.district_existing[d];
            let (p, m, row) = program.add_deviation(&columns, kink);
            over.push(p);
            under.push(m);
            deviation_rows.push(row);
        }
        let mut fair = Vec::new();
        let mut fair_by_district = Vec::new();
        if with_fair_segments && prepared.stages.contains(&Stage::Fair) {
            for d in 0..district_count {
                let segments = fair_segments(
                    level.target[d],
                    level.target[d] - level.district_existing[d],
                );
                if segments.is_empty() {
                    continue;
                }
                // deficit ≥ t_d − a_d = m_d − p_d, as the sum of its segments.
                let mut terms = vec![(under[d], 1.0), (over[d], -1.0)];
                let mut columns = Vec::new();
                for (width, cost) in segments {
                    let column = program.add_column(0.0, width, false);
                    terms.push((column, -1.0));
                    fair.push((column, cost));
                    columns.push((column, width));
                }
                program.add_row(terms, 0.0, false);
                fair_by_district.push((d, columns));
            }
        }
        let worst = prepared.stages.contains(&Stage::Worst).then(|| {
            let z = program.add_column(0.0, f64::INFINITY, false);
            for d in 0..district_count {
                program.add_row(vec![(over[d], 1.0), (under[d], 1.0), (z, -1.0)], 0.0, false);
            }
            z
        });
        let spread = prepared
            .stages
            .contains(&Stage::Spread)
            .then(|| program.add_column(0.0, f64::INFINITY, false));
        level_columns.push(LevelColumns {
            demand_row,
            deviation_rows,
            binaries,
            binary_units,
            shortfall,
            over,
            under,
            fair,
            fair_by_district,
            worst,
            spread,
            weight: weights[l],
            scale: scale[l],
        });
    }

    // The caps, at the last level.
    let last = level_count - 1;
    let at_last = |u: usize| units[u].columns[last];
    let mut share_rows = vec![None; district_count];
    for d in 0..district_count {
        if let Some(share_room) = prepared.share_room[d] {
            if share_room < room_in_district[d] {
                let terms = in_district[d].iter().map(|&u| (at_last(u), 1.0)).collect();
                share_rows[d] = Some(program.add_row(terms, share_room as f64, false));
            }
        }
    }
    for limit in active.rows.iter().map(|&row| &prepared.spacing[row]) {
        let terms: Vec<(Col, f64)> = limit
            .members
            .iter()
            .filter_map(|&s| site_unit[s as usize])
            .map(|u| (at_last(u), 1.0))
            .collect();
        program.add_row(terms, limit.room as f64, false);
    }
    let mut served: Vec<Vec<(Col, f64)>> = vec![Vec::new(); prepared.seat_room.len()];
    let mut room_served = vec![0u64; prepared.seat_room.len()];
    for (u, (unit, &room)) in units.iter().zip(&room_of_unit).enumerate() {
        if let Some(f) = prepared.seat_facility[unit.sites[0] as usize] {
            served[f as usize].push((at_last(u), 1.0));
            room_served[f as usize] += room;
        }
    }
    for (f, terms) in served.into_iter().enumerate() {
        if let Some(seat_room) = prepared.seat_room[f] {
            if seat_room < room_served[f] {
                program.add_row(terms, seat_room as f64, false);
            }
        }
    }
    // Last, so that dropping them leaves the other row indices as they are.
    let mut bound_rows = Vec::new();
    if let Some(most_new) = &active.most_new {
        for (d, &hi) in most_new.iter().enumerate() {
            if hi < room_in_district[d] {
                let terms = in_district[d].iter().map(|&u| (at_last(u), 1.0)).collect();
                bound_rows.push(program.add_row(terms, hi as f64, false));
            }
        }
    }

    CityProgram {
        program,
        levels: level_columns,
        share_rows,
        units,
        aggregated_sites,
        bound_rows,
        site_unit,
    }
}

impl CityProgram {
    /// The objective of `stage`: the ω-weighted sum over the levels (evenness and worst
    /// scaled by T^L/T^l). Stages with a number per place get their segments in `program`
    /// the first time (stored in `segments`); `component` is the stage's position in the
    /// key. `None` when the stage does not run in this program.
    pub(crate) fn objective(
        &self,
        stage: Stage,
        component: Option<usize>,
        program: &mut Program,
        segments: &mut Segments,
    ) -> Option<Vec<(Col, f64)>> {
        let mut terms = Vec::new();
        match stage {
            Stage::Shortfall => {
                for level in &self.levels {
                    terms.push((level.shortfall, level.factor(stage)));
                }
            }
            Stage::Evenness | Stage::Fair | Stage::Worst => {
                for level in &self.levels {
                    terms.extend(level.district_terms(stage, level.factor(stage))?);
                }
            }
            Stage::Spread => {
                for level in &self.levels {
                    terms.push((level.spread?, level.factor(stage)));
                }
            }
            Stage::Access | Stage::Cost => {
                let component = component?;
                if segments.is_empty() {
                    *segments = self.add_segments(program);
                }
                let mut has_segments = vec![false; self.units.len()];
                for (unit, level, columns) in segments.iter() {
                    has_segments[*unit] = true;
                    let weight = self.levels[*level].weight;
                    for (&column, &(key, _)) in columns.iter().zip(&self.units[*unit].blocks) {
                        if key[component] != 0.0 {
                            terms.push((column, weight * key[component]));
                        }
                    }
                }
                for (u, unit) in self.units.iter().enumerate() {
                    if has_segments[u] {
                        continue;
                    }
                    if let Some(&(key, _)) = unit.blocks.first() {
                        for (column, level) in unit.columns.iter().zip(&self.levels) {
                            if key[component] != 0.0 {
                                terms.push((*column, level.weight * key[component]));
                            }
                        }
                    }
                }
            }
        }
        Some(terms)
    }

    /// For each unit whose sites differ in key, continuous segments (one per key block, per
    /// level) that add up to its column, so that the places fill in key order. (Given the
    /// whole number of places of the column, filling in key order is optimal for the first
    /// stage with a number per place and fills whole blocks, so no segment needs to be an
    /// integer.)
    fn add_segments(&self, program: &mut Program) -> Segments {
        let mut segments = Vec::new();
        for (index, unit) in self.units.iter().enumerate() {
            if unit.blocks.len() < 2 {
                continue;
            }
            for (level, &column) in unit.columns.iter().enumerate() {
                let mut link = vec![(column, -1.0)];
                let mut columns = Vec::with_capacity(unit.blocks.len());
                for &(_, places) in &unit.blocks {
                    let segment = program.add_column(0.0, places as f64, false);
                    link.push((segment, 1.0));
                    columns.push(segment);
                }
                program.add_row(link, 0.0, true);
                segments.push((index, level, columns));
            }
        }
        segments
    }
}

/// Whole places per site at `level`: columns are split onto their sites in fill order.
pub(crate) fn read_plan(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    values: &[f64],
    level: usize,
) -> Plan {
    let mut plan = Plan::empty(instance.sites.len());
    for unit in &city.units {
        let mut left = values[unit.columns[level]].round().max(0.0) as u64;
        for &site in &unit.sites {
            let take = left.min(u64::from(prepared.site_room[site as usize]));
            plan.places[site as usize] = take as u32;
            left -= take;
        }
    }
    plan
}

/// The plan of every level.
pub(crate) fn read_plans(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    values: &[f64],
) -> Vec<Plan> {
    (0..city.levels.len())
        .map(|l| read_plan(instance, prepared, city, values, l))
        .collect()
}

/// The value of one more place of capacity in each district for evenness (one level): the
/// evenness LP at the optimum (binaries fixed at their optimal values, places relaxed, the
/// bound rows of later stages and of the evenness bounds dropped). A place of extra capacity
/// in district d would be a column in the demand row, d's deviation row and d's share-cap
/// row; minus its reduced cost, the sum of those rows' duals, is how fast the sum of
/// deviations falls when that capacity is added. (Where the sites alone keep d below its
/// share cap, the cap's row would be slack and adds nothing.)
pub(crate) fn marginal_values(
    city: &CityProgram,
    program: &Program,
    objective: &[(Col, f64)],
    dropped: &[usize],
    optimum: &[f64],
    instance: &Instance,
) -> Result<Vec<f64>, Error> {
    let settings = Settings {
        time_limit_s: instance.solver.time_limit_s,
        mip_gap: instance.solver.mip_gap,
        threads: instance.solver.threads,
    };
    let level = &city.levels[0];
    // A fresh LP: from the last stage's basis, the evenness objective can take HiGHS longer
    // than a solve from scratch.
    let mut session = LpSession::new(program, settings)?;
    session.drop_rows(dropped)?;
    let fixed: Vec<(Col, f64)> = level
        .binaries
        .iter()
        .map(|&c| (c, optimum[c].round()))
        .collect();
    session.fix_columns(&fixed)?;
    let relaxed = session
        .minimise(program, objective, settings)?
        .ok_or_else(infeasible)?;
    let dual = |row: usize| relaxed.row_duals.get(row).copied().unwrap_or(0.0);
    Ok((0..level.deviation_rows.len())
        .map(|d| {
            let value = dual(level.demand_row)
                + dual(level.deviation_rows[d])
                + city.share_rows[d].map_or(0.0, dual);
            // Clean solver noise: the value of a place is a small rational number.
            if value.abs() < 1e-9 {
                0.0
            } else {
                value
            }
        })
        .collect())
}
