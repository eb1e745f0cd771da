//! The exact route: the stages solved without HiGHS, or proven so that HiGHS need not solve
//! them.
//!
//! - `separable_city`: when no rule ties sites together beyond their district, the exact
//!   per-district algorithm (`model::separable`) solves the city, for one level or nested
//!   over levels.
//! - `proof`: with spacing, that solve is a relaxation whose optimum of each stage is a
//!   lower bound; a greedy plan that keeps every rule and reaches it proves the stage.
//! - `spacing_bound`: a lower bound on evenness with the spacing balls priced (Lagrangian
//!   relaxation), for plans a time limit leaves where the city without spacing is far below.

pub(super) mod proof;
pub(super) mod separable_city;
pub(super) mod spacing_bound;
