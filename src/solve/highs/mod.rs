//! The HiGHS route: the stages solved in turn on the city's program (`program::city`) when
//! rules tie sites together (minimum occupancies, seats, spacing that binds, the spread
//! stage) or the exact route cannot prove every stage.
//!
//! - `stages`: the lexicographic loop, each stage's optimum kept as a bound by the next,
//!   the marginal values at the end.
//! - `lazy`: one stage with its neighbourhoods entering as the LP overfills them, then the
//!   way from the LP to whole places; `rounding`: the LP optimum rounded; `mip_rounds`: the
//!   MIP, round by round.
//! - `evenness`: the bounds on each district's new places that keep most spacing balls out
//!   of the model, tried first when spacing is the only rule between sites.
//! - `fair`: stage fair's optimum as bounds on each district's places for the later stages,
//!   where the relaxation proves them.
//! - `windows`: a better plan for evenness where spacing binds across a city centre, a
//!   few dozen districts at a time.
//! - `pins`: levels held at their own optima, as bounds on each district's places.
//! - `nested_master`: with levels, the cost stage on the districts' totals per level.

pub(super) mod evenness;
mod fair;
pub(super) mod lazy;
pub(super) mod mip_rounds;
pub(super) mod nested_master;
mod pins;
pub(super) mod rounding;
pub(super) mod stages;
pub(super) mod windows;
