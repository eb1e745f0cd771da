//! The ground floor of the solver: the city as the rules leave it, and what a plan is worth.
//! Every route stands on it; it imports nothing of theirs.
//!
//! - `prepare`: the rules applied to each site and district once, per level (room per
//!   site, share caps, the spacing balls that can bind, school seats); `spread_balls`, the
//!   neighbourhoods of stage spread it indexes on first use.
//! - `separable`: the exact per-district algorithm, pure arithmetic on districts (no
//!   sites, no solver); `districts`: the city as those districts.
//! - `greedy`: quick plans that keep every rule, used as proofs.
//! - `values`: the stages' objectives for a plan; `solution`: what a solve hands back.

pub(super) mod districts;
pub(super) mod greedy;
pub(super) mod level_ranges;
pub(super) mod nested_cost;
pub(super) mod prepare;
pub(super) mod separable;
pub(super) mod solution;
pub(super) mod spread_balls;
pub(super) mod values;
