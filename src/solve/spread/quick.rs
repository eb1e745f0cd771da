//! The spread stage on large cities without the LP: a lower bound by ascent on the
//! neighbourhoods' weights (`bound`) and a penalty search towards it
//! (`search::spread_breakout`). A plan at the bound is the stage's optimum; otherwise
//! the lazy LP (`highs::lazy`) carries on, and the searched plan is what a time limit leaves.

use std::time::{Duration, Instant};

use super::bound::spread_lower_bound;
use super::lookups::{Lookups, Meeting};
use super::search::spread_breakout;
use super::state::Bounds;
use crate::model::{Instance, Plan};
use crate::solve::model::prepare::Prepared;
use crate::solve::program::city::{CityProgram, Segments};
use crate::solve::program::neighbourhoods::SpacingRows;
use crate::solve::program::plan::{plan_result, within_gap};
use crate::solve::program::rows::{add_rows, overfilled_by, Take};
use crate::solve::program::sparse::{Col, Program, Settings, StageResult, StageStatus};
use crate::solve::trace::trace;

/// What the spread stage's quick route found (see `quick_spread`).
pub(crate) enum Quick {
    /// A plan at the bound without the LP: the stage's optimum.
    Optimal(StageResult),
    /// A plan above the bound, kept for a time limit, its gap to the bound set.
    Plan(StageResult),
    Nothing,
}

/// The spread stage without the LP: a lower bound by ascent on the neighbourhoods' weights
/// (`bound`), then a penalty search from the plan of the stage before, down to the
/// bound if it can (`search::spread_breakout`). The plan then enters the program's
/// terms, with every neighbourhood it fills to its largest load.
#[allow(clippy::too_many_arguments)]
pub(crate) fn quick_spread(
    instance: &Instance,
    prepared: &Prepared,
    city: &CityProgram,
    segments: &Segments,
    program: &mut Program,
    active: &mut SpacingRows,
    objective: &[(Col, f64)],
    settings: Settings,
    before: &Plan,
    bounds: &Bounds,
) -> Quick {
    let usable = prepared.site_room.iter().filter(|&&room| room > 0).count();
    if usable < instance.solver.quick_spread_from_sites {
        return Quick::Nothing;
    }
    let lookups = Lookups::new(instance, prepared);
    if !lookups.look_up_all() {
        trace(|| "  spread without the LP: too many neighbourhood entries".into());
        return Quick::Nothing;
    }
    let before_most = lookups.balls.most_new(instance, before) as i64;
    // The bound and the search run side by side (the bound on all cores but one) until
    // they meet: the bound for a fifth of the time limit at most (20 s at most), the
    // search for three quarters of it (40 s at most); the LP has the rest.
    let began = Instant::now();
    let after = |seconds: f64| Some(began + Duration::from_secs_f64(seconds.max(0.0)));
    let limit = |share: f64, most: f64| {
        after(
            settings
                .time_limit_s
                .map_or(most, |t| (share * t).min(most)),
        )
    };
    let meeting = Meeting::new(before_most);
    let (bound, (plan, most)) = std::thread::scope(|scope| {
        let search =
            scope.spawn(|| spread_breakout(&lookups, before, &meeting, bounds, limit(0.75, 40.0)));
        let cores = rayon::current_num_threads().saturating_sub(1).max(1);
        let bound = || spread_lower_bound(&lookups, bounds, &meeting, limit(0.2, 20.0));
        let bound = match rayon::ThreadPoolBuilder::new().num_threads(cores).build() {
            Ok(pool) => pool.install(bound),
            Err(_) => bound(),
        };
        let searched = search
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (bound, searched)
    });
    let Some(bound) = bound else {
        return Quick::Nothing;
    };
    trace(|| format!("  places moved without the LP: {most} against the bound {bound}"));
    // The plan's loads enter as rows until none is above the program's spread column.
    let result = loop {
        let Some(result) = plan_result(
            instance, prepared, city, segments, program, objective, &plan,
        ) else {
            return Quick::Nothing;
        };
        let over = overfilled_by(
            instance,
            prepared,
            city,
            active,
            &result.values,
            Take::Every,
        );
        if over.is_empty() {
            break result;
        }
        add_rows(instance, prepared, city, program, active, over);
    };
    if (result.objective - most as f64).abs() > 1e-6 {
        return Quick::Nothing; // the program reads the plan differently: leave it to the LP
    }
    if let Some(found) = within_gap(
        instance,
        prepared,
        city,
        active,
        settings,
        bound,
        result.clone(),
        "places moved without the LP",
    ) {
        return Quick::Optimal(found);
    }
    let gap = (result.objective - bound).max(0.0) / result.objective.abs().max(1.0);
    Quick::Plan(StageResult {
        status: StageStatus::TimeLimit,
        mip_gap: gap,
        ..result
    })
}
