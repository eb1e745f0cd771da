//! The program handed to HiGHS, below both routes and the spread stage.
//!
//! - `sparse`: a small sparse program (columns, rows) that each stage extends with the bound
//!   of the stage before and solves through good_lp; `session`: its LP relaxation kept inside
//!   HiGHS between rounds.
//! - `city`: the city as that program (docs/model.md rules 1–7, the stage objectives, the levels),
//!   shrunk by structure, never weakened.
//! - `neighbourhoods`: the spacing balls and spread neighbourhoods in the model, and which a
//!   plan overfills; `rows`: their rows, put in round by round.
//! - `plan`: a plan of whole places read into the columns and accepted against a bound.

pub(super) mod city;
pub(super) mod neighbourhoods;
pub(super) mod plan;
pub(super) mod rows;
pub(super) mod session;
pub(super) mod sparse;
