//! Stage fair's optimum as bounds on each district's new places, for the stages after it.
//!
//! Kept as one row over its deficit segments, stage fair makes the later stages' MIPs slow
//! (Musterstadt with its all-or-nothing row houses: the cost stage 0.38 s instead of a few
//! hundredths). The separable model (`separable`: site room and share caps per district,
//! no minimum occupancy, seats or spacing) is a relaxation of the city's program. Where the
//! program reaches the relaxation's optima in shortfall, evenness and fair, its plans that
//! are optimal in all three are exactly its plans whose districts lie in the relaxation's
//! box after fair (every plan there reaches those optima, and no plan outside does); the
//! box's rows then say the same as the stage's row, in a form the MIP handles well.

use crate::model::{Instance, Stage};
use crate::solve::model::districts::{separable_districts, site_room_by_district};
use crate::solve::model::prepare::Prepared;
use crate::solve::model::separable::{solve_separable, SeparableStage};
use crate::solve::program::city::CityProgram;
use crate::solve::program::sparse::Row;
use crate::solve::trace::trace;

/// The rows lo_d ≤ Σ_{sites in d} x ≤ hi_d of the relaxation's box after fair, when fair
/// comes right after evenness and `optima` (the program's optima so far, fair the last)
/// equal the relaxation's; else none. One demand only.
pub(super) fn fair_box_rows(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    optima: &[(Stage, f64)],
) -> Vec<Row> {
    let order: Vec<Stage> = optima.iter().map(|&(s, _)| s).collect();
    if order != [Stage::Shortfall, Stage::Evenness, Stage::Fair] {
        return Vec::new();
    }
    match relaxed_box(instance, prepared, city, optima) {
        Some((rows, fair)) if same(optima[2].1, fair) => rows,
        _ => {
            trace(|| {
                "  fair: the program's optimum is not the relaxation's; no district bounds".into()
            });
            Vec::new()
        }
    }
}

fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// The rows of the relaxation's box after fair and its fair optimum, when `optima` start
/// with shortfall and evenness equal to the relaxation's; one demand only.
pub(super) fn relaxed_box(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    optima: &[(Stage, f64)],
) -> Option<(Vec<Row>, f64)> {
    let order: Vec<Stage> = optima.iter().take(2).map(|&(s, _)| s).collect();
    if order != [Stage::Shortfall, Stage::Evenness] || city.levels.len() != 1 {
        return None;
    }
    let (districts, _) = separable_districts(instance, prepared);
    let site_room = site_room_by_district(instance, prepared);
    let relaxed = solve_separable(
        &districts,
        prepared.demand,
        &[SeparableStage::Fair],
        &site_room,
    );
    let shortfall = (prepared.demand - relaxed.placed) as f64;
    let deviation = |d: usize| (relaxed.places[d] as f64 - districts[d].kink).abs();
    let evenness: f64 = (0..districts.len()).map(deviation).sum();
    let fair: f64 = districts
        .iter()
        .zip(&relaxed.places)
        .filter(|(d, _)| d.share > 0.0)
        .map(|(d, &x)| (d.kink - x as f64).max(0.0).powi(2) / d.share)
        .sum();
    if !(same(optima[0].1, shortfall) && same(optima[1].1, evenness)) {
        trace(|| {
            "  fair: the program's evenness is not the relaxation's; no district bounds".into()
        });
        return None;
    }
    let boxes = &relaxed.boxes[1];
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); districts.len()];
    for unit in &city.units {
        columns[unit.district as usize].push(unit.columns[0]);
    }
    let mut rows = Vec::new();
    for (d, &(lo, hi)) in boxes.iter().enumerate() {
        if hi < site_room[d] {
            rows.push(Row {
                terms: columns[d].iter().map(|&c| (c, 1.0)).collect(),
                upper: hi as f64,
                equal: false,
            });
        }
        if lo > 0 {
            rows.push(Row {
                terms: columns[d].iter().map(|&c| (c, -1.0)).collect(),
                upper: -(lo as f64),
                equal: false,
            });
        }
    }
    trace(|| {
        format!(
            "  fair: {} district bounds from the relaxation's box",
            rows.len()
        )
    });
    Some((rows, fair))
}
