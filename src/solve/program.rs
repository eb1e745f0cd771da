//! A small sparse linear program (columns with bounds and integrality, rows with bounds)
//! that is handed to HiGHS through good_lp once per lexicographic stage.
//!
//! Keeping our own copy of the rows lets each stage add the bound "earlier optimum +
//! tolerance" and a new objective without rebuilding the city model.

use good_lp::solvers::highs::highs;
use good_lp::{variable, Expression, ProblemVariables, SolverModel, Variable};
use highs::{HighsModelStatus, HighsSolutionStatus};

use crate::error::Error;

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
    /// Reduced costs of the columns (LP only; empty for a MIP).
    pub column_duals: Vec<f64>,
}

/// HiGHS settings for one stage.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub time_limit_s: Option<f64>,
    pub mip_gap: f64,
    pub threads: u32,
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
        // When the LP relaxation's optimum is whole, it is the integer optimum: HiGHS's MIP
        // machinery (presolve, heuristics, branching) is then not needed.
        if !relax && self.has_integers() {
            if let Some(lp) = self.minimise_once(objective, settings, true, true)? {
                let integral = self
                    .columns
                    .iter()
                    .zip(&lp.values)
                    .all(|(c, &v)| !c.integer || (v - v.round()).abs() <= 1e-7);
                if integral && lp.status == StageStatus::Optimal {
                    return Ok(StageResult {
                        column_duals: Vec::new(),
                        ..lp
                    });
                }
            }
        }
        // The model always has a solution (the shortfall column, and each stage keeps a
        // bound its own optimum met). HiGHS's presolve has been seen to call such models
        // infeasible when a stage bound is tight; solving without presolve is then right.
        if let Some(result) = self.minimise_once(objective, settings, relax, true)? {
            return Ok(result);
        }
        self.minimise_once(objective, settings, relax, false)?
            .ok_or_else(|| {
                Error::Solver(
                    "HiGHS found the model infeasible; this is a bug in quartier (the shortfall variable always makes it feasible), please report it with the scenario".into(),
                )
            })
    }

    /// One HiGHS run; `None` when HiGHS calls the model infeasible.
    fn minimise_once(
        &self,
        objective: &[(Col, f64)],
        settings: Settings,
        relax: bool,
        presolve: bool,
    ) -> Result<Option<StageResult>, Error> {
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
        }
        let solving = std::time::Instant::now();
        let solved = model
            .try_solve()
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
        if std::env::var_os("QUARTIER_TRACE").is_some() {
            let nonzeros: usize = self.rows.iter().map(|r| r.terms.len()).sum();
            eprintln!(
                "  HiGHS {:.3} s: {} columns, {} rows, {nonzeros} nonzeros{}",
                solving.elapsed().as_secs_f64(),
                self.columns.len(),
                self.rows.len(),
                if relax { ", LP" } else { "" }
            );
        }
        let solution = solved.get_solution();
        let values = solution.columns().to_vec();
        if values.len() != self.columns.len()
            || solved.primal_solution_status() != HighsSolutionStatus::Feasible
        {
            return Err(Error::Solver(
                "the time limit ended the solve before any plan was found; raise [solver] time_limit_s".into(),
            ));
        }
        let objective_value = objective.iter().map(|&(c, k)| k * values[c]).sum();
        let is_mip = self.has_integers() && !relax;
        Ok(Some(StageResult {
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
            column_duals: if is_mip {
                Vec::new()
            } else {
                solution.dual_columns().to_vec()
            },
            values,
        }))
    }
}
