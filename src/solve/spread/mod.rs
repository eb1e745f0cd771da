//! The spread stage's own searches, used by the HiGHS route when the stage is spread, or
//! access or cost after a tight spread stage. They stand on the program room only to judge
//! their plans (`quick`); none of them needs HiGHS.
//!
//! - `lookups`: each site's spread neighbourhoods and each neighbourhood's sites, listed
//!   once; `state`: the plan with its loads and the earlier stages' sums (`Bounds`) that
//!   every move must keep.
//! - `bound`: a lower bound without the LP, by ascent on the neighbourhoods' weights.
//! - `start` and `search`: plans by moving places: spread-out starts, greedy moves and the
//!   penalty search down to a bound.
//! - `quick`: bound and search side by side before the LP; a plan at the bound is optimal.
//! - `descent`: access or cost after a tight spread stage, by moving places to cheaper sites.

pub(super) mod bound;
pub(super) mod descent;
pub(super) mod lookups;
pub(super) mod quick;
pub(super) mod search;
pub(super) mod start;
pub(super) mod state;
