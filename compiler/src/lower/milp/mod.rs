//! Lowering to an exact mixed-integer linear program (MODEL.md §4, MILP).
//!
//! One firm's decided prices are chosen on their grids; every other price is held fixed
//! (a best-response step when several firms lead). The program is solver-independent
//! ([`LinearProgram`]): `prillm-runtime` solves it with good_lp, and [`write`] prints it as
//! CPLEX-LP or free MPS for any other solver.

mod bounds;
mod build;
mod names;
mod program;
pub mod write;

use std::fmt;

pub use program::*;

use crate::lower::Instance;

/// What to lower.
#[derive(Clone, Debug)]
pub struct MilpSpec {
    /// The firm whose decided prices are chosen.
    pub firm: usize,
    /// Every provider's price; those not decided by `firm` are held at these values.
    pub prices: Vec<f64>,
    /// Grid points for a decided price declared without a `step`.
    pub grid_points: usize,
    /// Grids with more points than this encode the index in bits instead of one-hot.
    pub one_hot_limit: usize,
    /// Refuse grids with more points than this.
    pub max_grid_points: usize,
}

impl MilpSpec {
    /// The first leader's problem with every other price as the market gives it.
    pub fn for_firm(inst: &Instance, firm: usize) -> Self {
        MilpSpec {
            firm,
            prices: inst.price.clone(),
            grid_points: 41,
            one_hot_limit: 64,
            max_grid_points: 1 << 20,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum MilpError {
    /// The instance cannot be lowered (sizes, non-finite numbers, a firm with no decision).
    BadInstance(String),
    /// A side constraint on fixed quantities only does not hold.
    Infeasible(String),
    /// Beyond what the lowering accepts.
    TooLarge(String),
}

impl fmt::Display for MilpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MilpError::BadInstance(m) => write!(f, "the market cannot be lowered to a MILP: {m}"),
            MilpError::Infeasible(m) => write!(f, "the MILP is infeasible: {m}"),
            MilpError::TooLarge(m) => write!(f, "the MILP would be too large: {m}"),
        }
    }
}

impl std::error::Error for MilpError {}

/// Lowers the problem of `spec.firm` to a linear program.
pub fn lower(inst: &Instance, spec: &MilpSpec) -> Result<LinearProgram, MilpError> {
    build::build(inst, spec)
}
