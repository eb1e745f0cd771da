//! What a solve hands back: the plan, how the solve ended, the optimum of each stage, the
//! size of the program and, with demand levels, each level's plan (`LevelPlan`). Every route
//! builds a `Solution`; the driver re-exports these types.

use super::prepare::Prepared;
use super::values::stage_value;
use crate::model::{Instance, Plan, Stage};

/// How the whole solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolveStatus {
    Optimal,
    TimeLimit,
}

impl SolveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SolveStatus::Optimal => "optimal",
            SolveStatus::TimeLimit => "time_limit",
        }
    }
}

/// Size of the program handed to HiGHS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModelSize {
    pub columns: usize,
    pub integers: usize,
    pub rows: usize,
    /// Sites aggregated into district columns.
    pub aggregated_sites: usize,
}

/// The plan and what the solver says about it.
#[derive(Debug, Clone)]
pub struct Solution {
    pub plan: Plan,
    pub status: SolveStatus,
    /// The optimum of each stage run, in order.
    pub stages: Vec<(Stage, f64)>,
    /// How far from the optimum the plan can be at most, relative, in `gap_stage` (0 when
    /// proven optimal).
    pub mip_gap: f64,
    /// With the time limit's status: the first stage the plan is not proven optimal in,
    /// the one `mip_gap` is measured in (`None` when every stage is proven).
    pub gap_stage: Option<Stage>,
    pub size: ModelSize,
    /// Per district: how much the evenness sum (stage B) falls per extra place of capacity
    /// there, from the LP at the optimum (binaries fixed); `None` when not computed.
    pub marginal_values: Option<Vec<f64>>,
    /// `separable` (exact per-district algorithm) or `mip` (HiGHS).
    pub method: &'static str,
    /// Spacing balls that had to be put into the model.
    pub spacing_rows: usize,
    /// Seconds spent building the program and in HiGHS.
    pub build_s: f64,
    pub solve_s: f64,
    /// With demand levels: each level's plan (the last is `plan`), its stage values, and the
    /// best plan for that level alone. Empty for a single demand.
    pub levels: Vec<LevelPlan>,
}

impl Solution {
    /// The value of `stage` in this solution, if it was run.
    pub fn value_of(&self, stage: Stage) -> Option<f64> {
        self.stages
            .iter()
            .find(|(s, _)| *s == stage)
            .map(|&(_, v)| v)
    }
}

/// One level of a nested plan.
#[derive(Debug, Clone)]
pub struct LevelPlan {
    /// N_l: the level's new places.
    pub places: u64,
    /// ω_l.
    pub weight: f64,
    pub plan: Plan,
    /// The level's own value of each stage run.
    pub stages: Vec<(Stage, f64)>,
    /// The best plan for this level alone and its stage values (for the price of nesting).
    pub alone: Option<(Plan, Vec<(Stage, f64)>)>,
}

impl LevelPlan {
    pub(crate) fn new(
        instance: &Instance,
        prepared: &Prepared,
        weight: f64,
        plan: Plan,
        stages: &[Stage],
    ) -> LevelPlan {
        LevelPlan {
            places: prepared.demand,
            weight,
            stages: stages
                .iter()
                .map(|&stage| (stage, stage_value(stage, instance, prepared, &plan)))
                .collect(),
            plan,
            alone: None,
        }
    }
}
