//! Errors of the runtime: values with a message a user can act on, never panics.

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum RuntimeError {
    /// The instance does not describe a solvable market (sizes, NaN, non-positive figures).
    BadInstance(String),
    /// A number became NaN or infinite while solving.
    Numerical(String),
    /// The solver stopped before its tolerance; the best point and its residual are given.
    NotConverged { sweeps: usize, residual: f64 },
    /// A MILP solver failed, was not built in, or ran out of time without a feasible point.
    Solver(String),
    /// A solver's answer did not survive re-simulation: it is not reported as an optimum.
    Doubtful(String),
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::BadInstance(m) => write!(f, "the market cannot be solved: {m}"),
            RuntimeError::Numerical(m) => write!(f, "numerical failure: {m}"),
            RuntimeError::NotConverged { sweeps, residual } => write!(
                f,
                "the equilibrium did not converge in {sweeps} sweeps (KKT residual {residual:.3e})"
            ),
            RuntimeError::Solver(m) => write!(f, "MILP solver: {m}"),
            RuntimeError::Doubtful(m) => write!(
                f,
                "numerically doubtful answer, not reported as an optimum: {m}"
            ),
        }
    }
}

impl std::error::Error for RuntimeError {}
