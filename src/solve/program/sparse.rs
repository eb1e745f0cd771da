//! A small sparse linear program (columns with bounds and integrality, rows with bounds)
//! that is handed to HiGHS through good_lp once per lexicographic stage.
//!
//! Keeping our own copy of the rows lets each stage add the bound "earlier optimum +
//! tolerance" and a new objective without rebuilding the city model.

use good_lp::solvers::highs::highs;
use good_lp::{variable, Expression, ProblemVariables, SolverModel, Variable};
use highs::{HighsModelStatus, HighsSolutionStatus};

use crate::error::Error;
use crate::solve::trace::trace;

/// A column index.
pub type Col = usize;

#[derive(Debug, Clone)]
pub struct Column {
    pub lower: f64,
    pub upper: f64,
    pub integer: bool,
}

/// `terms ≤ upper`, or `= upper` when `equal`.
#[derive(Debug, Clone)]
pub struct Row {
    pub terms: Vec<(Col, f64)>,
    pub upper: f64,
    pub equal: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Program {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// Only a good plan is wanted, not a proven optimum (a window of a search, whose plan
    /// is judged on its own): a MIP HiGHS settles after its root node is not solved once
    /// more (one settled by presolve alone still is).
    pub only_a_plan: bool,
    /// A plan HiGHS's MIP starts from (one value per column), where one is known.
    pub start: Option<Vec<f64>>,
}

/// How one stage ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageStatus {
    Optimal,
    /// The time limit stopped HiGHS; the best solution found is kept.
    TimeLimit,
}

/// One solved stage.
#[derive(Debug, Clone)]
pub struct StageResult {
    pub status: StageStatus,
    pub objective: f64,
    pub values: Vec<f64>,
    /// Relative MIP gap HiGHS reports (0 for an LP).
    pub mip_gap: f64,
}

/// HiGHS settings for one stage.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub time_limit_s: Option<f64>,
    pub mip_gap: f64,
    pub threads: u32,
}

impl Settings {
    /// The same settings with the time spent since `since` taken off the limit (one stage's
    /// HiGHS runs share its time).
    fn after(self, since: std::time::Instant) -> Settings {
        Settings {
            time_limit_s: self
                .time_limit_s
                .map(|limit| limit - since.elapsed().as_secs_f64()),
            ..self
        }
    }
}

/// HiGHS's verdict when a model that always has a solution has none.
pub fn infeasible() -> Error {
    Error::Solver(
        "HiGHS found the model infeasible; this is a bug in quartier (the shortfall variable always makes it feasible), please report it with the scenario".into(),
    )
}

pub(super) fn no_plan_in_time() -> Error {
    Error::TimeLimit(
        "the time limit ended the solve before any plan was found; raise [solver] time_limit_s"
            .into(),
    )
}

/// A HiGHS model or its result, moved to the thread that solves it and back (a HiGHS
/// instance is used by one thread at a time).
struct Moved<T>(T);
// SAFETY: the instance behind the model is only ever used by the thread that holds it.
unsafe impl Send for Moved<highs::Model> {}
// SAFETY: as above, for the solved model handed back.
unsafe impl Send for Moved<Result<highs::SolvedModel, highs::HighsStatus>> {}

/// Up to this many columns, a MIP HiGHS settles at its root node is solved once more
/// without presolve (`minimise_once`); within the stage's time limit, like the first.
const CAREFUL_AT_ROOT_COLUMNS: usize = 2_000;

/// How long after the time limit a HiGHS run that has not stopped itself is given up.
const OVERRUN_S: f64 = 2.0;

/// Solves `model`; with a time limit, on a thread of its own, given up `OVERRUN_S` after
/// the limit. HiGHS checks its limit between the steps of its MIP search, not within all of
/// them: on large programs one step at the root (cuts, heuristics) can run on for a minute.
/// A run given up is left to end on its own (HiGHS stops it at its next check) and the
/// solve goes on as if the limit had been reached without a plan.
fn solve_within(
    model: highs::Model,
    limit_s: Option<f64>,
) -> Result<Result<highs::SolvedModel, highs::HighsStatus>, Error> {
    let Some(limit_s) = limit_s else {
        return Ok(model.try_solve());
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    let job = Moved(model);
    std::thread::Builder::new()
        .name("highs".into())
        .spawn(move || {
            let job = job;
            let _ = sender.send(Moved(job.0.try_solve()));
        })
        .map_err(|e| Error::Solver(format!("cannot start HiGHS: {e}")))?;
    let wait = std::time::Duration::from_secs_f64(limit_s.max(0.01) + OVERRUN_S);
    match receiver.recv_timeout(wait) {
        Ok(Moved(result)) => Ok(result),
        Err(_) => {
            trace(|| format!("  HiGHS ran {OVERRUN_S} s past the time limit: given up"));
            Err(no_plan_in_time())
        }
    }
}

impl Program {
    pub fn add_column(&mut self, lower: f64, upper: f64, integer: bool) -> Col {
        self.columns.push(Column {
            lower,
            upper,
            integer,
        });
        self.columns.len() - 1
    }

    pub fn add_row(&mut self, terms: Vec<(Col, f64)>, upper: f64, equal: bool) -> usize {
        self.rows.push(Row {
            terms,
            upper,
            equal,
        });
        self.rows.len() - 1
    }

    /// The deviation of whole places from `kink`: columns p, m ≥ 0 with
    /// Σ `members` − p + m = kink (the returned row), and, as Σ `members` is whole,
    /// |Σ − kink| on or above the chord through the two whole numbers around the kink:
    /// p + m ≥ φ + (Σ − ⌊kink⌋)(1 − 2φ), with φ the fractional part. Every whole sum
    /// satisfies it, so the optimum stays; the LP relaxation becomes the convex hull of the
    /// district's term, and an LP rounds its total the way whole places would.
    pub fn add_deviation(&mut self, members: &[Col], kink: f64) -> (Col, Col, usize) {
        let p = self.add_column(0.0, f64::INFINITY, false);
        let m = self.add_column(0.0, f64::INFINITY, false);
        let mut terms: Vec<(Col, f64)> = members.iter().map(|&c| (c, 1.0)).collect();
        terms.extend([(p, -1.0), (m, 1.0)]);
        let row = self.add_row(terms, kink, true);
        let floor = kink.floor();
        let fraction = kink - floor;
        if fraction > 1e-9 && fraction < 1.0 - 1e-9 {
            let slope = 1.0 - 2.0 * fraction;
            let mut chord: Vec<(Col, f64)> = members.iter().map(|&c| (c, slope)).collect();
            chord.extend([(p, -1.0), (m, -1.0)]);
            self.add_row(chord, floor * slope - fraction, false);
        }
        (p, m, row)
    }

    pub fn has_integers(&self) -> bool {
        self.columns.iter().any(|c| c.integer)
    }

    pub fn integer_count(&self) -> usize {
        self.columns.iter().filter(|c| c.integer).count()
    }

    /// Minimises `objective` with HiGHS. `relax` solves the LP relaxation (for duals).
    pub fn minimise(
        &self,
        objective: &[(Col, f64)],
        settings: Settings,
        relax: bool,
    ) -> Result<StageResult, Error> {
        self.minimise_with(objective, settings, relax, true)
    }

    /// As `minimise`; without `lp_first` a program with integers goes straight to the MIP
    /// (for callers that already know its LP optimum is fractional).
    pub fn minimise_with(
        &self,
        objective: &[(Col, f64)],
        settings: Settings,
        relax: bool,
        lp_first: bool,
    ) -> Result<StageResult, Error> {
        // When the LP relaxation's optimum is whole, it is the integer optimum: HiGHS's MIP
        // machinery (presolve, heuristics, branching) is then not needed.
        let entered = std::time::Instant::now();
        if lp_first && !relax && self.has_integers() {
            if let Some(lp) = self.minimise_once(objective, settings, true, true)? {
                if self.is_integral(&lp.values) && lp.status == StageStatus::Optimal {
                    return Ok(self.settled(lp, objective));
                }
            }
        }
        // The model always has a solution (the shortfall column, and each stage keeps a
        // bound its own optimum met).
        self.minimise_if_feasible(objective, settings.after(entered), relax)?
            .ok_or_else(infeasible)
    }

    /// As `minimise_with` without the LP first, for programs that may have no solution
    /// (`None`). HiGHS's presolve has been seen to call models infeasible that are not (when
    /// a stage bound is tight); its verdict is only believed when a solve without presolve
    /// agrees.
    ///
    /// HiGHS 1.16 has also called a MIP optimal with a gap far above its tolerance (7.6 %
    /// against 1e-6, after restarting its search on a tiny city with levels). Such a result
    /// is not believed either: the careful solve (no presolve, no restart) runs too, and the
    /// better plan is kept.
    ///
    /// And its presolve has reduced a MIP to nothing with a wrong optimum, gap 0: see
    /// `minimise_once`.
    pub fn minimise_if_feasible(
        &self,
        objective: &[(Col, f64)],
        settings: Settings,
        relax: bool,
    ) -> Result<Option<StageResult>, Error> {
        let entered = std::time::Instant::now();
        // HiGHS 1.16 has also ended a MIP in "solve error" after claiming optimality with a
        // primal infeasibility of 1.3e-6 against its 1e-6 (a tiny city with two levels,
        // stage fair last, values near 0.014): the careful solve is then the answer.
        let first = match self.minimise_once(objective, settings, relax, true) {
            Err(Error::Solver(message)) => {
                trace(|| format!("  {message}: solving once more without presolve and restarts"));
                return self.minimise_once(objective, settings.after(entered), relax, false);
            }
            other => other?,
        };
        let Some(result) = first else {
            return self.minimise_once(objective, settings.after(entered), relax, false);
        };
        let broken_promise = result.status == StageStatus::Optimal
            && result.mip_gap > settings.mip_gap
            && result.mip_gap * result.objective.abs().max(1.0) > 1e-6;
        if !broken_promise {
            return Ok(Some(result));
        }
        trace(|| {
            format!("  HiGHS called a plan optimal with a gap of {:.2e}: solving once more without presolve and restarts",
                result.mip_gap)
        });
        match self.minimise_once(objective, settings.after(entered), relax, false)? {
            Some(again) if again.objective < result.objective || again.mip_gap < result.mip_gap => {
                Ok(Some(again))
            }
            _ => Ok(Some(result)),
        }
    }

    /// The result with its integer columns set to the whole numbers HiGHS's values lie within
    /// its tolerances of, and the objective recomputed. (HiGHS may return 1e-7 below zero;
    /// a stage bound taken from such a value can cut off the very plan that reached it.)
    pub fn settled(&self, mut result: StageResult, objective: &[(Col, f64)]) -> StageResult {
        for (value, column) in result.values.iter_mut().zip(&self.columns) {
            if column.integer && (*value - value.round()).abs() <= 1e-6 {
                *value = value.round();
            }
        }
        result.objective = objective.iter().map(|&(c, k)| k * result.values[c]).sum();
        result
    }

    /// Reduced-cost fixing. `lp` is an LP optimum of `objective`'s stage with its reduced
    /// costs, and every plan the later stages may take keeps the stage's bound row
    /// (objective ≤ `upper`). Every point of the LP keeps objective ≥ lp + Σ_j d_j·(x_j −
    /// x*_j) with each term ≥ 0 (columns at their lower bound have d_j ≥ 0, at their upper
    /// bound d_j ≤ 0, basic columns d_j = 0). So an integer column whose single step off its
    /// bound would cost more than `upper − lp` stays at that bound in every such plan: its
    /// bounds are fixed there. Returns the columns fixed, with their values.
    pub fn fix_by_reduced_costs(
        &mut self,
        lp_objective: f64,
        values: &[f64],
        column_duals: &[f64],
        upper: f64,
    ) -> Vec<(Col, f64)> {
        let slack = upper - lp_objective;
        if !(slack.is_finite() && slack >= 0.0) || column_duals.len() != self.columns.len() {
            return Vec::new();
        }
        // A margin above HiGHS's dual tolerance, so noise never fixes a column.
        let threshold = slack + 1e-6 + 1e-9 * lp_objective.abs();
        let mut fixed = Vec::new();
        for (c, column) in self.columns.iter_mut().enumerate() {
            if !column.integer || column.lower == column.upper {
                continue;
            }
            let (value, dual) = (values[c], column_duals[c]);
            if (value - column.lower).abs() <= 1e-9 && dual > threshold {
                column.upper = column.lower;
                fixed.push((c, column.lower));
            } else if (value - column.upper).abs() <= 1e-9 && -dual > threshold {
                column.lower = column.upper;
                fixed.push((c, column.upper));
            }
        }
        fixed
    }

    /// True when every integer column of `values` is whole.
    pub fn is_integral(&self, values: &[f64]) -> bool {
        self.columns
            .iter()
            .zip(values)
            .all(|(c, &v)| !c.integer || (v - v.round()).abs() <= 1e-7)
    }

    /// One HiGHS run; `None` when HiGHS calls the model infeasible. Without `presolve`, a
    /// MIP also runs without restarts (the careful solve).
    fn minimise_once(
        &self,
        objective: &[(Col, f64)],
        settings: Settings,
        relax: bool,
        presolve: bool,
    ) -> Result<Option<StageResult>, Error> {
        let building = std::time::Instant::now();
        let has_integers = self.has_integers() && !relax;
        let mut variables = ProblemVariables::new();
        let vars: Vec<Variable> = self
            .columns
            .iter()
            .map(|c| {
                let def = variable().min(c.lower).max(c.upper);
                variables.add(if c.integer && !relax {
                    def.integer()
                } else {
                    def
                })
            })
            .collect();
        let expression = |terms: &[(Col, f64)]| {
            let mut e = Expression::with_capacity(terms.len());
            for &(col, coef) in terms {
                e.add_mul(coef, vars[col]);
            }
            e
        };
        let mut problem = variables.minimise(expression(objective)).using(highs);
        for row in &self.rows {
            let e = expression(&row.terms);
            problem.add_constraint(if row.equal {
                e.eq(row.upper)
            } else {
                e.leq(row.upper)
            });
        }
        let mut model = problem
            .try_into_inner()
            .map_err(|e| Error::Solver(e.to_string()))?;
        model.make_quiet();
        if std::env::var_os("QUARTIER_HIGHS_LOG").is_some() {
            let _ = model.try_set_option("output_flag", true);
            let _ = model.try_set_option("log_to_console", true);
        }
        let option_error = |name: &str| Error::Solver(format!("HiGHS rejected the option {name}"));
        model
            .try_set_option("mip_rel_gap", settings.mip_gap)
            .map_err(|_| option_error("mip_rel_gap"))?;
        // Objectives here are sums of places: an absolute gap below one place's fraction.
        model
            .try_set_option("mip_abs_gap", 1e-7)
            .map_err(|_| option_error("mip_abs_gap"))?;
        if let Some(limit) = settings.time_limit_s {
            model
                .try_set_option("time_limit", limit.max(0.01))
                .map_err(|_| option_error("time_limit"))?;
        }
        if settings.threads > 0 {
            model
                .try_set_option("threads", settings.threads as i32)
                .map_err(|_| option_error("threads"))?;
        }
        if !presolve {
            model
                .try_set_option("presolve", "off")
                .map_err(|_| option_error("presolve"))?;
            if has_integers {
                model
                    .try_set_option("mip_allow_restart", false)
                    .map_err(|_| option_error("mip_allow_restart"))?;
            }
        }
        if let Ok(extra) = std::env::var("QUARTIER_HIGHS_OPTIONS") {
            for pair in extra.split(',').filter(|p| !p.is_empty()) {
                if let Some((key, value)) = pair.split_once('=') {
                    let _ = match value.parse::<f64>() {
                        Ok(number) if value.contains('.') => model.try_set_option(key, number),
                        Ok(_) => model.try_set_option(key, value.parse::<i32>().unwrap_or(0)),
                        Err(_) => model.try_set_option(key, value),
                    };
                }
            }
        }
        if let Some(start) = self.start.as_deref() {
            if has_integers && start.len() == self.columns.len() {
                let _ = model.try_set_solution(Some(start), None, None, None);
            }
        }
        let solving = std::time::Instant::now();
        let solved = solve_within(model, settings.time_limit_s)?
            .map_err(|e| Error::Solver(format!("HiGHS stopped with {e:?}")))?;
        let status = match solved.status() {
            HighsModelStatus::Optimal => StageStatus::Optimal,
            HighsModelStatus::ReachedTimeLimit
            | HighsModelStatus::ReachedIterationLimit
            | HighsModelStatus::ReachedSolutionLimit
            | HighsModelStatus::ReachedInterrupt => StageStatus::TimeLimit,
            HighsModelStatus::Infeasible | HighsModelStatus::UnboundedOrInfeasible => {
                return Ok(None)
            }
            other => return Err(Error::Solver(format!("HiGHS ended with status {other:?}"))),
        };
        trace(|| {
            let nonzeros: usize = self.rows.iter().map(|r| r.terms.len()).sum();
            format!(
                "  HiGHS {:.3} s (model handed over in {:.3} s): {} columns, {} rows, {nonzeros} nonzeros{}",
                solving.elapsed().as_secs_f64(),
                (solving - building).as_secs_f64(),
                self.columns.len(),
                self.rows.len(),
                if relax { ", LP" } else { "" }
            )
        });
        let solution = solved.get_solution();
        let values = solution.columns().to_vec();
        if values.len() != self.columns.len()
            || solved.primal_solution_status() != HighsSolutionStatus::Feasible
        {
            return Err(no_plan_in_time());
        }
        let objective_value: f64 = objective.iter().map(|&(c, k)| k * values[c]).sum();
        let is_mip = self.has_integers() && !relax;
        // HiGHS 1.16's presolve has reduced a MIP to nothing and called a wrong plan optimal
        // with gap 0 (two districts, six sites, one all-or-nothing, stage access: 7,389
        // where a plan of 6,236 keeps every row; tests/hand_cases.rs). A MIP that presolve
        // settled alone, before any node of the search, is solved once more without it
        // (such MIPs are small), and the better plan is kept. It has also called a wrong
        // plan optimal after the root node alone (three districts, seven sites, three with
        // a minimum, stage access after worst: 28,653 where a plan of 26,855 keeps every
        // row; tests/levels_and_stages.rs): a small MIP settled at its root is solved once
        // more too.
        let settled_early = match mip_node_count(&solved) {
            Some(0) => true,
            Some(1) => !self.only_a_plan && self.columns.len() <= CAREFUL_AT_ROOT_COLUMNS,
            _ => false,
        };
        if is_mip && presolve && status == StageStatus::Optimal && settled_early {
            let settings = settings.after(building);
            // A careful solve the time limit ends (or that fails) leaves the first result.
            if let Ok(Some(careful)) = self.minimise_once(objective, settings, relax, false) {
                if careful.objective < objective_value - 1e-9 * objective_value.abs().max(1.0) {
                    trace(|| {
                        format!("  HiGHS's presolve alone called {objective_value} optimal; without presolve: {}",
                            careful.objective)
                    });
                    return Ok(Some(careful));
                }
            }
        }
        let settle = |result: StageResult| {
            if is_mip {
                self.settled(result, objective)
            } else {
                result
            }
        };
        Ok(Some(settle(StageResult {
            status,
            objective: objective_value,
            mip_gap: if is_mip {
                let gap = solved.mip_gap();
                if gap.is_finite() {
                    gap.max(0.0)
                } else {
                    f64::INFINITY
                }
            } else {
                0.0
            },
            values,
        })))
    }
}

/// The nodes HiGHS's branch and bound explored (0 when presolve settled the MIP alone); an
/// int64 info value, which the highs crate does not read.
fn mip_node_count(solved: &highs::SolvedModel) -> Option<i64> {
    let mut count: i64 = -1;
    // SAFETY: the pointer is the solved model's own HiGHS instance, alive for the call; the
    // name is a NUL-terminated info key of type int64 and `count` outlives the call.
    let status = unsafe {
        highs_sys::Highs_getInt64InfoValue(solved.as_ptr(), c"mip_node_count".as_ptr(), &mut count)
    };
    (status == highs_sys::kHighsStatusOk && count >= 0).then_some(count)
}
