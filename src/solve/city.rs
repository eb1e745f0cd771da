//! The city as a mixed-integer program for HiGHS (MODEL.md, rules 1–7 and the stage
//! objectives), shrunk by structure, never weakened: sites whose only constraints are their
//! own bounds (no minimum occupancy, in no spacing ball that can bind) are aggregated into
//! one integer column per district (and serving school), and split onto the sites
//! afterwards, cheapest first, then in file order (every split within the bounds is equally
//! even). The cost stage alone sees the cost blocks of such a column as continuous
//! segments, which it fills cheapest first. Only sites with a minimum get a binary; only
//! sites in a spacing ball that can bind get a column of their own. Each district's
//! deviation gets the chord cut that makes its LP relaxation exact for whole numbers.

use std::collections::BTreeMap;

use super::lazy::SpacingRows;
use super::prepare::Prepared;
use super::program::{self, infeasible, Col, Program, Settings};
use crate::error::Error;
use crate::model::{Instance, Plan, Stage};

/// A column of places: one site, or the bound-only sites of a district.
pub(super) struct Unit {
    pub(super) column: Col,
    pub(super) district: u32,
    /// Sites, cheapest first, then in file order.
    pub(super) sites: Vec<u32>,
    /// New places by cost, cheapest first: (cost per place, places).
    pub(super) blocks: Vec<(f64, u64)>,
}

/// The built program with the handles needed to read the plan back.
pub(super) struct CityProgram {
    pub(super) program: Program,
    pub(super) demand_row: usize,
    pub(super) deviation_rows: Vec<usize>,
    pub(super) share_rows: Vec<Option<usize>>,
    /// The "site is used" binaries of sites with a minimum occupancy.
    pub(super) binaries: Vec<Col>,
    pub(super) units: Vec<Unit>,
    pub(super) shortfall: Col,
    pub(super) over: Vec<Col>,
    pub(super) under: Vec<Col>,
    pub(super) worst: Option<Col>,
    pub(super) aggregated_sites: usize,
    /// Rows keeping districts within evenness bounds (dropped for marginal values).
    pub(super) bound_rows: Vec<usize>,
    /// The column of each site that has one of its own.
    pub(super) site_column: Vec<Option<Col>>,
}

pub(super) fn build(instance: &Instance, prepared: &Prepared, active: &SpacingRows) -> CityProgram {
    let mut program = Program::default();
    let district_count = instance.districts.len();
    let mut units: Vec<Unit> = Vec::new();
    let mut groups: BTreeMap<(u32, u32), usize> = BTreeMap::new();
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
        let own_column = site.min_places > 0 || active.in_spacing[index];
        if !own_column {
            aggregated_sites += 1;
            let facility = prepared.seat_facility[index].unwrap_or(u32::MAX);
            let key = (district, facility);
            if let Some(&unit) = groups.get(&key) {
                units[unit].sites.push(index as u32);
                room_of_unit[unit] += u64::from(room);
                continue;
            }
            groups.insert(key, units.len());
        }
        units.push(Unit {
            column: usize::MAX,
            district,
            sites: vec![index as u32],
            blocks: Vec::new(),
        });
        room_of_unit.push(u64::from(room));
    }
    let cost_of = |s: u32| instance.sites[s as usize].cost.unwrap_or(0.0);
    for unit in &mut units {
        unit.sites
            .sort_by(|&a, &b| cost_of(a).total_cmp(&cost_of(b)).then(a.cmp(&b)));
        for &s in &unit.sites {
            let room = u64::from(prepared.site_room[s as usize]);
            match unit.blocks.last_mut() {
                Some(last) if last.0 == cost_of(s) => last.1 += room,
                _ => unit.blocks.push((cost_of(s), room)),
            }
        }
    }

    let mut site_column: Vec<Option<Col>> = vec![None; instance.sites.len()];
    for (unit, &room) in units.iter_mut().zip(&room_of_unit) {
        unit.column = program.add_column(0.0, room as f64, true);
        if let [site] = unit.sites[..] {
            site_column[site as usize] = Some(unit.column);
        }
    }
    // Minimum occupancy: min·y ≤ x ≤ room·y.
    let mut binaries = Vec::new();
    for unit in &units {
        let site = unit.sites[0] as usize;
        let minimum = instance.sites[site].min_places;
        if unit.sites.len() == 1 && minimum > 0 {
            let room = f64::from(prepared.site_room[site]);
            let used = program.add_column(0.0, 1.0, true);
            binaries.push(used);
            program.add_row(vec![(unit.column, 1.0), (used, -room)], 0.0, false);
            program.add_row(
                vec![(unit.column, -1.0), (used, f64::from(minimum))],
                0.0,
                false,
            );
        }
    }

    let demand = instance.demand as f64;
    let shortfall = program.add_column(0.0, demand, false);
    let mut demand_row: Vec<(Col, f64)> = units.iter().map(|u| (u.column, 1.0)).collect();
    demand_row.push((shortfall, 1.0));
    let demand_row = program.add_row(demand_row, demand, true);

    let mut in_district: Vec<Vec<(Col, f64)>> = vec![Vec::new(); district_count];
    let mut room_in_district = vec![0u64; district_count];
    for (unit, &room) in units.iter().zip(&room_of_unit) {
        in_district[unit.district as usize].push((unit.column, 1.0));
        room_in_district[unit.district as usize] += room;
    }
    let mut over = Vec::with_capacity(district_count);
    let mut under = Vec::with_capacity(district_count);
    let mut deviation_rows = Vec::with_capacity(district_count);
    let mut share_rows = vec![None; district_count];
    for d in 0..district_count {
        let p = program.add_column(0.0, f64::INFINITY, false);
        let m = program.add_column(0.0, f64::INFINITY, false);
        over.push(p);
        under.push(m);
        // a_d − t_d = p_d − m_d, with a_d = e_d + Σ x.
        let mut terms = in_district[d].clone();
        terms.push((p, -1.0));
        terms.push((m, 1.0));
        let kink = prepared.target[d] - prepared.district_existing[d];
        deviation_rows.push(program.add_row(terms, kink, true));
        // New places k = Σx are whole, so |k − kink| lies on or above the chord through
        // the two whole numbers around the kink: p + m ≥ φ + (k − ⌊kink⌋)(1 − 2φ), with φ
        // the fractional part. Every whole k satisfies it, so the model keeps its optimum;
        // the LP relaxation becomes the convex hull per district and HiGHS rarely branches.
        let floor = kink.floor();
        let fraction = kink - floor;
        if fraction > 1e-9 && fraction < 1.0 - 1e-9 {
            let slope = 1.0 - 2.0 * fraction;
            let mut chord: Vec<(Col, f64)> =
                in_district[d].iter().map(|&(c, _)| (c, slope)).collect();
            chord.push((p, -1.0));
            chord.push((m, -1.0));
            program.add_row(chord, floor * slope - fraction, false);
        }
        if let Some(share_room) = prepared.share_room[d] {
            if share_room < room_in_district[d] {
                share_rows[d] =
                    Some(program.add_row(in_district[d].clone(), share_room as f64, false));
            }
        }
    }
    for limit in active.rows.iter().map(|&row| &prepared.spacing[row]) {
        let terms: Vec<(Col, f64)> = limit
            .members
            .iter()
            .filter_map(|&s| site_column[s as usize])
            .map(|c| (c, 1.0))
            .collect();
        program.add_row(terms, limit.room as f64, false);
    }
    let mut served: Vec<Vec<(Col, f64)>> = vec![Vec::new(); prepared.seat_room.len()];
    let mut room_served = vec![0u64; prepared.seat_room.len()];
    for (unit, &room) in units.iter().zip(&room_of_unit) {
        if let Some(f) = prepared.seat_facility[unit.sites[0] as usize] {
            served[f as usize].push((unit.column, 1.0));
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
    let worst = instance.stages.contains(&Stage::Worst).then(|| {
        let z = program.add_column(0.0, f64::INFINITY, false);
        for d in 0..district_count {
            program.add_row(vec![(over[d], 1.0), (under[d], 1.0), (z, -1.0)], 0.0, false);
        }
        z
    });
    // Last, so that dropping them leaves the other row indices as they are.
    let mut bound_rows = Vec::new();
    if let Some(most_new) = &active.most_new {
        for (d, &hi) in most_new.iter().enumerate() {
            if hi < room_in_district[d] {
                bound_rows.push(program.add_row(in_district[d].clone(), hi as f64, false));
            }
        }
    }

    CityProgram {
        program,
        demand_row,
        deviation_rows,
        share_rows,
        binaries,
        units,
        shortfall,
        over,
        under,
        worst,
        aggregated_sites,
        bound_rows,
        site_column,
    }
}

/// The cost stage's objective. A column with one cost is priced directly; a column whose
/// sites differ in cost gets continuous segments, one per cost block, that add up to it, so
/// that the cheapest places fill first. (Given the whole number of places of the column,
/// cheapest-first is the unique optimum and fills whole blocks, so no segment needs to be
/// an integer.)
pub(super) fn cost_objective(units: &[Unit], program: &mut Program) -> (Vec<(Col, f64)>, Segments) {
    let mut objective = Vec::new();
    let mut segments = Vec::new();
    for (index, unit) in units.iter().enumerate() {
        match unit.blocks[..] {
            [] => {}
            [(cost, _)] => {
                if cost != 0.0 {
                    objective.push((unit.column, cost));
                }
            }
            _ => {
                let mut link = vec![(unit.column, -1.0)];
                let mut columns = Vec::with_capacity(unit.blocks.len());
                for &(cost, places) in &unit.blocks {
                    let segment = program.add_column(0.0, places as f64, false);
                    link.push((segment, 1.0));
                    columns.push(segment);
                    if cost != 0.0 {
                        objective.push((segment, cost));
                    }
                }
                program.add_row(link, 0.0, true);
                segments.push((index, columns));
            }
        }
    }
    (objective, segments)
}

/// The continuous cost segments of each unit that has several costs: (unit, one column per
/// cost block, cheapest first).
pub(super) type Segments = Vec<(usize, Vec<Col>)>;

/// Integer places per site: aggregated columns are split onto their sites cheapest first,
/// then in file order.
pub(super) fn read_plan(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    values: &[f64],
) -> Plan {
    let mut plan = Plan::empty(instance.sites.len());
    for unit in &city.units {
        let mut left = values[unit.column].round().max(0.0) as u64;
        for &site in &unit.sites {
            let take = left.min(u64::from(prepared.site_room[site as usize]));
            plan.places[site as usize] = take as u32;
            left -= take;
        }
    }
    plan
}

/// The value of one more place of capacity in each district for evenness: the evenness LP
/// at the optimum (binaries fixed at their optimal values, places relaxed, the bound rows of
/// later stages and of the evenness bounds dropped). A place of extra capacity in district d
/// would be a column in the demand row, d's deviation row and d's share-cap row; minus its
/// reduced cost, the sum of those rows' duals, is how fast the sum of deviations falls when
/// that capacity is added. (Where the sites alone keep d below its share cap, the cap's row
/// would be slack and adds nothing.)
pub(super) fn marginal_values(
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
    // A fresh LP: from the last stage's basis, the evenness objective can take HiGHS longer
    // than a solve from scratch.
    let mut session = program::LpSession::new(program, settings)?;
    session.drop_rows(dropped)?;
    let fixed: Vec<(Col, f64)> = city
        .binaries
        .iter()
        .map(|&c| (c, optimum[c].round()))
        .collect();
    session.fix_columns(&fixed)?;
    let relaxed = session
        .minimise(program, objective, settings)?
        .ok_or_else(infeasible)?;
    let dual = |row: usize| relaxed.row_duals.get(row).copied().unwrap_or(0.0);
    Ok((0..city.deviation_rows.len())
        .map(|d| {
            let value = dual(city.demand_row)
                + dual(city.deviation_rows[d])
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
