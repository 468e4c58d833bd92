//! The MILP solvers good_lp gives us, behind one function: build the model from a
//! [`LinearProgram`], solve it under a time limit, return the column values and status.

use good_lp::{
    variable, Expression, ProblemVariables, ResolutionError, Solution, SolutionStatus, SolverModel,
    Variable, WithInitialSolution, WithTimeLimit,
};
use prillm_compiler::lower::milp::LinearProgram;
use prillm_compiler::lower::Relation;
use serde::Serialize;

/// A MILP solver compiled into this build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Solver {
    /// microlp: pure Rust, always built; practical for a few dozen binaries.
    Microlp,
    /// COIN-OR CBC (cargo feature `cbc`).
    Cbc,
    /// HiGHS (cargo feature `highs`).
    Highs,
}

impl Solver {
    pub fn name(self) -> &'static str {
        match self {
            Solver::Microlp => "microlp",
            Solver::Cbc => "cbc",
            Solver::Highs => "highs",
        }
    }
    pub fn compiled_in(self) -> bool {
        match self {
            Solver::Microlp => true,
            Solver::Cbc => cfg!(feature = "cbc"),
            Solver::Highs => cfg!(feature = "highs"),
        }
    }
    /// Every solver in this build, fastest first.
    pub fn available() -> Vec<Solver> {
        [Solver::Highs, Solver::Cbc, Solver::Microlp]
            .into_iter()
            .filter(|s| s.compiled_in())
            .collect()
    }
    /// The fastest solver in this build.
    pub fn best() -> Solver {
        Solver::available()[0]
    }
    /// Binaries beyond which this solver is unlikely to prove optimality in minutes
    /// (measured by `prillm bench milp`, docs/benchmarks.md).
    pub fn practical_binaries(self) -> usize {
        match self {
            Solver::Microlp => 80,
            Solver::Cbc | Solver::Highs => 200,
        }
    }
}

/// How the solver ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SolveStatus {
    Optimal,
    /// Stopped by the time limit with a feasible point.
    TimeLimit,
    Infeasible,
}

pub(super) struct RawSolution {
    pub status: SolveStatus,
    pub values: Vec<f64>,
    /// The solver's proven bound on the objective (program units), when it reports one.
    pub bound: Option<f64>,
}

/// Why no solution came back.
pub(super) enum BackendError {
    NotCompiled(Solver),
    /// The time limit passed before any feasible point.
    NoSolutionInTime,
    Failed(String),
}

struct Model {
    objective: Expression,
    constraints: Vec<good_lp::Constraint>,
    columns: Vec<Variable>,
    vars: ProblemVariables,
}

fn model(program: &LinearProgram) -> Model {
    let mut vars = ProblemVariables::new();
    let columns: Vec<Variable> = program
        .columns
        .iter()
        .map(|c| {
            let mut def = variable().name(c.name.clone());
            if c.lo.is_finite() {
                def = def.min(c.lo);
            }
            if c.hi.is_finite() {
                def = def.max(c.hi);
            }
            if c.integer {
                def = def.integer();
            }
            vars.add(def)
        })
        .collect();
    let expr = |terms: &[(usize, f64)]| {
        let mut e = Expression::from(0.0);
        for &(c, a) in terms {
            e.add_mul(a, columns[c]);
        }
        e
    };
    let objective = expr(&program.objective);
    let constraints = program
        .rows
        .iter()
        .map(|r| {
            let e = expr(&r.terms);
            match r.relation {
                Relation::Le => e.leq(r.rhs),
                Relation::Ge => e.geq(r.rhs),
                Relation::Eq => e.eq(r.rhs),
            }
        })
        .collect();
    Model {
        objective,
        constraints,
        columns,
        vars,
    }
}

fn status(s: SolutionStatus) -> SolveStatus {
    match s {
        SolutionStatus::Optimal => SolveStatus::Optimal,
        _ => SolveStatus::TimeLimit,
    }
}

fn failure(e: ResolutionError) -> Result<RawSolution, BackendError> {
    match e {
        ResolutionError::Infeasible => Ok(RawSolution {
            status: SolveStatus::Infeasible,
            values: Vec::new(),
            bound: None,
        }),
        ResolutionError::Other(m) if m.contains("Time limit") => {
            Err(BackendError::NoSolutionInTime)
        }
        e => Err(BackendError::Failed(e.to_string())),
    }
}

/// Solves `program`; `start` is a feasible point to begin from (a MIP start), if known.
/// The problem with a MIP start, when there is one.
fn with_start<P: WithInitialSolution>(problem: P, initial: Vec<(Variable, f64)>) -> P {
    if initial.is_empty() {
        problem
    } else {
        problem.with_initial_solution(initial)
    }
}

/// A solver's answer as column values, status and (where it reports one) its bound.
fn finish<S: Solution>(
    result: Result<S, ResolutionError>,
    columns: &[Variable],
    bound: impl Fn(&S) -> Option<f64>,
) -> Result<RawSolution, BackendError> {
    match result {
        Ok(s) => Ok(RawSolution {
            status: status(s.status()),
            values: columns.iter().map(|&c| s.value(c)).collect(),
            bound: bound(&s),
        }),
        Err(e) => failure(e),
    }
}

pub(super) fn solve(
    program: &LinearProgram,
    solver: Solver,
    time_limit_s: f64,
    start: Option<&[f64]>,
) -> Result<RawSolution, BackendError> {
    if !solver.compiled_in() {
        return Err(BackendError::NotCompiled(solver));
    }
    let Model {
        objective,
        constraints,
        columns,
        vars,
    } = model(program);
    let initial: Vec<(Variable, f64)> = start
        .map(|x| columns.iter().copied().zip(x.iter().copied()).collect())
        .unwrap_or_default();
    match solver {
        Solver::Microlp => {
            let problem = vars
                .maximise(objective)
                .using(good_lp::microlp)
                .with_all(constraints)
                .with_time_limit(time_limit_s);
            finish(with_start(problem, initial).solve(), &columns, |_| None)
        }
        #[cfg(feature = "cbc")]
        Solver::Cbc => {
            let mut problem = vars.maximise(objective).using(good_lp::coin_cbc);
            problem.set_parameter("log", "0");
            problem.set_parameter("slogLevel", "0");
            // Prove optimality, not a default relative gap.
            problem.set_parameter("ratioGap", "0");
            problem.set_parameter("allowableGap", "1e-9");
            let problem = problem.with_all(constraints).with_time_limit(time_limit_s);
            finish(with_start(problem, initial).solve(), &columns, |s| {
                Some(s.model().best_possible_value())
            })
        }
        #[cfg(feature = "highs")]
        Solver::Highs => {
            let mut problem = vars.maximise(objective).using(good_lp::highs);
            problem.set_verbose(false);
            let problem = problem
                .with_all(constraints)
                .set_mip_rel_gap(0.0)
                .map_err(|e| BackendError::Failed(e.to_string()))?
                .set_time_limit(time_limit_s);
            finish(with_start(problem, initial).solve(), &columns, |_| None)
        }
        #[allow(unreachable_patterns)]
        other => Err(BackendError::NotCompiled(other)),
    }
}
