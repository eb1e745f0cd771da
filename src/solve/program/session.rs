//! The LP relaxation of a program kept inside HiGHS between solves (`LpSession`): each
//! round of the lazy route, and each new objective, starts from the last optimal basis. It
//! talks to HiGHS's C API directly for the calls the highs crate does not wrap.

use highs::HighsModelStatus;

use super::sparse::{no_plan_in_time, Col, Program, Settings, StageResult, StageStatus};
use crate::error::Error;
use crate::solve::trace::trace;

/// The LP relaxation of a program, kept inside HiGHS between solves. Rows and columns added
/// to the program later, and a new objective, start from the last optimal basis (dual or
/// primal simplex from a hot start) instead of from scratch: this is what makes adding
/// spacing balls round by round cheap. (good_lp builds a new HiGHS model for every solve, so
/// this part talks to HiGHS directly.)
pub struct LpSession {
    model: Option<highs::Model>,
    columns: Vec<highs::Col>,
    rows: usize,
    /// Seconds this HiGHS instance has run: its time limit counts them all.
    ran_s: f64,
}

/// The optimum of the LP relaxation with its duals.
pub struct LpOptimum {
    pub result: StageResult,
    pub row_duals: Vec<f64>,
    /// Reduced costs: how fast the objective rises per unit a column moves off its bound.
    pub column_duals: Vec<f64>,
}

fn check(status: i32, what: &str) -> Result<(), Error> {
    if status == highs_sys::kHighsStatusError {
        Err(Error::Solver(format!("HiGHS rejected {what}")))
    } else {
        Ok(())
    }
}

impl LpSession {
    /// The LP relaxation of `program` as it is now.
    pub fn new(program: &Program, settings: Settings) -> Result<LpSession, Error> {
        let building = std::time::Instant::now();
        let mut problem = highs::RowProblem::default();
        let columns: Vec<highs::Col> = program
            .columns
            .iter()
            .map(|c| problem.add_column(0.0, c.lower..=c.upper))
            .collect();
        for row in &program.rows {
            let factors = row.terms.iter().map(|&(c, k)| (columns[c], k));
            if row.equal {
                problem.add_row(row.upper..=row.upper, factors);
            } else {
                problem.add_row(..=row.upper, factors);
            }
        }
        let mut model = problem
            .try_optimise(highs::Sense::Minimise)
            .map_err(|e| Error::Solver(format!("HiGHS rejected the model: {e:?}")))?;
        model.make_quiet();
        if settings.threads > 0 {
            model
                .try_set_option("threads", settings.threads as i32)
                .map_err(|_| Error::Solver("HiGHS rejected the option threads".into()))?;
        }
        trace(|| {
            format!(
                "  LP session: model handed over in {:.3} s",
                building.elapsed().as_secs_f64()
            )
        });
        Ok(LpSession {
            model: Some(model),
            columns,
            rows: program.rows.len(),
            ran_s: 0.0,
        })
    }

    fn model(&mut self) -> &mut highs::Model {
        self.model.as_mut().expect("the session keeps its model")
    }

    /// Adds the columns and rows the program gained since the last call.
    pub fn sync(&mut self, program: &Program) -> Result<(), Error> {
        while self.columns.len() < program.columns.len() {
            let c = &program.columns[self.columns.len()];
            let (lower, upper) = (c.lower, c.upper);
            let column = self
                .model()
                .try_add_column_with_integrality(0.0, lower..=upper, [], false)
                .map_err(|e| Error::Solver(format!("HiGHS rejected a column: {e:?}")))?;
            self.columns.push(column);
        }
        // All new rows in one call: HiGHS adding rows one by one costs far more.
        let new_rows = &program.rows[self.rows..];
        if !new_rows.is_empty() {
            let (mut lower, mut upper) = (Vec::new(), Vec::new());
            let (mut starts, mut index, mut value) = (Vec::new(), Vec::new(), Vec::new());
            for row in new_rows {
                lower.push(if row.equal {
                    row.upper
                } else {
                    f64::NEG_INFINITY
                });
                upper.push(row.upper);
                starts.push(index.len() as i32);
                for &(c, k) in &row.terms {
                    index.push(self.columns[c].index() as i32);
                    value.push(k);
                }
            }
            let status = unsafe {
                highs_sys::Highs_addRows(
                    self.model().as_mut_ptr(),
                    new_rows.len() as i32,
                    lower.as_ptr(),
                    upper.as_ptr(),
                    index.len() as i32,
                    starts.as_ptr(),
                    index.as_ptr(),
                    value.as_ptr(),
                )
            };
            check(status, "new rows")?;
            self.rows = program.rows.len();
        }
        Ok(())
    }

    /// Lets the given rows go (no upper bound any more).
    pub fn drop_rows(&mut self, rows: &[usize]) -> Result<(), Error> {
        for &row in rows {
            let status = unsafe {
                highs_sys::Highs_changeRowBounds(
                    self.model().as_mut_ptr(),
                    row as i32,
                    f64::NEG_INFINITY,
                    f64::INFINITY,
                )
            };
            check(status, "a row bound")?;
        }
        Ok(())
    }

    /// Fixes the given columns at the given values.
    pub fn fix_columns(&mut self, fixed: &[(Col, f64)]) -> Result<(), Error> {
        let set: Vec<i32> = fixed
            .iter()
            .map(|&(c, _)| self.columns[c].index() as i32)
            .collect();
        let values: Vec<f64> = fixed.iter().map(|&(_, v)| v).collect();
        self.change_bounds(&set, &values, &values)
    }

    fn change_bounds(&mut self, set: &[i32], lower: &[f64], upper: &[f64]) -> Result<(), Error> {
        if set.is_empty() {
            return Ok(());
        }
        let status = unsafe {
            highs_sys::Highs_changeColsBoundsBySet(
                self.model().as_mut_ptr(),
                set.len() as i32,
                set.as_ptr(),
                lower.as_ptr(),
                upper.as_ptr(),
            )
        };
        check(status, "column bounds")
    }

    /// Minimises `objective` over the LP relaxation of `program` (which may have grown since
    /// the last solve), from the last basis. `None` when the LP has no solution (only
    /// possible with columns fixed).
    pub fn minimise(
        &mut self,
        program: &Program,
        objective: &[(Col, f64)],
        settings: Settings,
    ) -> Result<Option<LpOptimum>, Error> {
        self.sync(program)?;
        let mut costs = vec![0.0; self.columns.len()];
        for &(c, k) in objective {
            costs[c] += k;
        }
        let status = unsafe {
            highs_sys::Highs_changeColsCostByRange(
                self.model().as_mut_ptr(),
                0,
                costs.len() as i32 - 1,
                costs.as_ptr(),
            )
        };
        check(status, "the objective")?;
        let mut presolve = true;
        let (status, solution) = loop {
            let mut model = self.model.take().expect("the session keeps its model");
            if let Some(limit) = settings.time_limit_s {
                // HiGHS measures its limit from its first run, not from this one.
                model
                    .try_set_option("time_limit", self.ran_s + limit.max(0.01))
                    .map_err(|_| Error::Solver("HiGHS rejected the option time_limit".into()))?;
            }
            let solving = std::time::Instant::now();
            let solved = model.try_solve();
            self.ran_s += solving.elapsed().as_secs_f64();
            let solved = solved.map_err(|e| Error::Solver(format!("HiGHS stopped with {e:?}")))?;
            let status = solved.status();
            let solution = solved.get_solution();
            trace(|| {
                format!(
                    "  HiGHS {:.3} s: LP from the last basis, {} rows, {} simplex iterations",
                    solving.elapsed().as_secs_f64(),
                    self.rows,
                    solved.simplex_iteration_count()
                )
            });
            self.model = Some(highs::Model::from(solved));
            // As in `minimise`: HiGHS's presolve has called feasible models infeasible; ask
            // once more without it before believing it.
            if status == HighsModelStatus::Infeasible && presolve {
                presolve = false;
                self.model()
                    .try_set_option("presolve", "off")
                    .map_err(|_| Error::Solver("HiGHS rejected the option presolve".into()))?;
                continue;
            }
            break (status, solution);
        };
        match status {
            HighsModelStatus::Optimal => {}
            HighsModelStatus::Infeasible => return Ok(None),
            HighsModelStatus::ReachedTimeLimit | HighsModelStatus::ReachedIterationLimit => {
                return Err(no_plan_in_time())
            }
            other => return Err(Error::Solver(format!("HiGHS ended with status {other:?}"))),
        }
        let values = solution.columns().to_vec();
        Ok(Some(LpOptimum {
            result: StageResult {
                status: StageStatus::Optimal,
                objective: objective.iter().map(|&(c, k)| k * values[c]).sum(),
                mip_gap: 0.0,
                values,
            },
            row_duals: solution.dual_rows().to_vec(),
            column_duals: solution.dual_columns().to_vec(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: Settings = Settings {
        time_limit_s: None,
        mip_gap: 1e-6,
        threads: 1,
    };

    /// The kept LP agrees with a cold solve after rows, an objective and fixed columns change.
    #[test]
    fn session_follows_the_program() {
        let mut program = Program::default();
        let x = program.add_column(0.0, 1.0, true);
        let y = program.add_column(0.0, 1.0, true);
        program.add_row(vec![(x, 1.0), (y, 1.0)], 1.5, false);
        let most = [(x, -1.0), (y, -1.0)];
        let mut session = LpSession::new(&program, SETTINGS).unwrap();
        let first = session
            .minimise(&program, &most, SETTINGS)
            .unwrap()
            .unwrap();
        assert!((first.result.objective + 1.5).abs() < 1e-9);
        // The row's dual: one more unit of room is worth one unit of objective.
        assert!((first.row_duals[0] + 1.0).abs() < 1e-9);

        program.add_row(vec![(x, 1.0)], 0.25, false);
        let second = session
            .minimise(&program, &most, SETTINGS)
            .unwrap()
            .unwrap();
        let cold = program.minimise(&most, SETTINGS, true).unwrap();
        assert!((second.result.objective - cold.objective).abs() < 1e-9);
        assert!((second.result.objective + 1.25).abs() < 1e-9);

        let cheapest_x = [(x, 1.0), (y, -0.5)];
        let third = session
            .minimise(&program, &cheapest_x, SETTINGS)
            .unwrap()
            .unwrap();
        assert!((third.result.objective + 0.5).abs() < 1e-9);

        session.fix_columns(&[(x, 1.0)]).unwrap();
        assert!(
            session
                .minimise(&program, &most, SETTINGS)
                .unwrap()
                .is_none(),
            "x = 1 breaks x ≤ 0.25"
        );
        session.drop_rows(&[1]).unwrap();
        let dropped = session
            .minimise(&program, &most, SETTINGS)
            .unwrap()
            .unwrap();
        assert!((dropped.result.objective + 1.5).abs() < 1e-9);
        assert!((dropped.result.values[x] - 1.0).abs() < 1e-9);
    }
}
