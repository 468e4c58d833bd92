//! The MILP backend: lower one firm's problem to a [`LinearProgram`], solve it with a good_lp
//! solver, and re-simulate the answer with the exact equilibrium solver. The re-simulation is
//! the certificate: the program's follower flows must match the equilibrium, and the reported
//! objective is the re-simulated one. Several firms take turns (best response, as in `nash`).

mod backend;
mod start;

use std::time::Instant;

pub use backend::{SolveStatus, Solver};
use prillm_compiler::lower::milp::{
    self, LinearProgram, MilpError, MilpSpec, Presolve, PriceGrid, Source,
};
use prillm_compiler::lower::Instance;
use serde::Serialize;

use crate::equilibrium::{solve, Equilibrium, Options};
use crate::error::RuntimeError;
use crate::nash::{self, firm_objective, LeadersSolution};
use backend::BackendError;

#[derive(Clone, Debug)]
pub struct MilpOptions {
    pub solver: Solver,
    /// Per solve (one firm's best response).
    pub time_limit_s: f64,
    /// Grid points for a decided price declared without a `step`.
    pub grid_points: usize,
    /// Grids with more points use the binary index encoding.
    pub one_hot_limit: usize,
    /// Largest disagreement between the program's loads and the re-simulated equilibrium,
    /// relative to total demand, before the answer is called doubtful.
    pub load_tolerance: f64,
    /// Start the solver from the exact runtime's coordinate-wise optimum (a MIP start).
    pub warm_start: bool,
}

impl Default for MilpOptions {
    fn default() -> Self {
        MilpOptions {
            solver: Solver::best(),
            time_limit_s: 60.0,
            grid_points: 41,
            one_hot_limit: 64,
            load_tolerance: 1e-5,
            warm_start: true,
        }
    }
}

impl MilpOptions {
    pub fn spec(&self, inst: &Instance, firm: usize, prices: &[f64]) -> MilpSpec {
        MilpSpec {
            firm,
            prices: prices.to_vec(),
            grid_points: self.grid_points,
            one_hot_limit: self.one_hot_limit,
            ..MilpSpec::for_firm(inst, firm)
        }
    }
}

/// What shows that a MILP answer is right.
#[derive(Clone, Debug, Serialize)]
pub struct Certificate {
    pub solver: Solver,
    pub status: SolveStatus,
    /// The program's objective at its solution, in market units.
    pub milp_objective: f64,
    /// The solver's proven bound (market units), when it reports one.
    pub bound: Option<f64>,
    /// (bound − objective) / |objective|, when the bound is known.
    pub gap: Option<f64>,
    /// The objective re-simulated at the chosen prices with the exact equilibrium solver.
    pub simulated_objective: f64,
    /// max_j |x_j(program) − x_j(equilibrium)| / total demand.
    pub load_disagreement: f64,
    /// The solution's largest violation of a row, bound or integrality (relative).
    pub row_violation: f64,
    /// The re-simulated equilibrium's KKT residual.
    pub kkt_residual: f64,
    pub columns: usize,
    pub rows: usize,
    pub binaries: usize,
    pub presolve: Presolve,
    pub grids: Vec<PriceGrid>,
    pub wall_ms: f64,
}

/// One firm's best prices on its grids, the others fixed.
#[derive(Clone, Debug, Serialize)]
pub struct FirmSolution {
    pub firm: usize,
    /// Every provider's price, this firm's at its solution.
    pub prices: Vec<f64>,
    /// Re-simulated.
    pub objective: f64,
    pub equilibrium: Equilibrium,
    pub certificate: Certificate,
}

/// Lowers the problem of `firm` with every other price at `prices`.
pub fn program(
    inst: &Instance,
    firm: usize,
    prices: &[f64],
    options: &MilpOptions,
) -> Result<LinearProgram, MilpError> {
    milp::lower(inst, &options.spec(inst, firm, prices))
}

/// Solves firm `firm`'s problem; `None` when no grid price satisfies the side constraints.
pub fn solve_firm(
    inst: &Instance,
    firm: usize,
    prices: &[f64],
    options: &MilpOptions,
) -> Result<Option<FirmSolution>, RuntimeError> {
    let started = Instant::now();
    let program = match program(inst, firm, prices, options) {
        Ok(p) => p,
        Err(MilpError::Infeasible(_)) => return Ok(None),
        Err(e) => return Err(RuntimeError::Solver(e.to_string())),
    };
    let start = options
        .warm_start
        .then(|| start_point(inst, firm, prices, &program))
        .flatten();
    let raw = match backend::solve(
        &program,
        options.solver,
        options.time_limit_s,
        start.as_deref(),
    ) {
        Ok(r) => r,
        Err(BackendError::NotCompiled(s)) => {
            return Err(RuntimeError::Solver(format!(
                "the `{}` solver is not in this build (cargo feature `{}`)",
                s.name(),
                s.name()
            )))
        }
        Err(BackendError::NoSolutionInTime) => {
            return Err(RuntimeError::Solver(format!(
                "{} found no feasible point within the time limit of {} s",
                options.solver.name(),
                options.time_limit_s
            )))
        }
        Err(BackendError::Failed(m)) => {
            return Err(RuntimeError::Solver(format!(
                "{} failed: {m}",
                options.solver.name()
            )))
        }
    };
    if raw.status == SolveStatus::Infeasible {
        return Ok(None);
    }
    let x = &raw.values;
    let row_violation = program.violation(x);
    // NaN counts as a violation.
    let violates = row_violation.is_nan() || row_violation > 1e-6;
    if raw.status == SolveStatus::TimeLimit && violates {
        // CBC returns its last LP point when it stops before any feasible one.
        return Err(RuntimeError::Solver(format!(
            "{} found no feasible point within the time limit of {} s",
            options.solver.name(),
            options.time_limit_s
        )));
    }
    if violates {
        return Err(RuntimeError::Doubtful(format!(
            "{}'s solution violates the program by {row_violation:.2e} (relative)",
            options.solver.name(),
        )));
    }
    // Decided prices snap to their grid points; every other price is as given.
    let mut chosen = prices.to_vec();
    for g in &program.grids {
        chosen[g.provider] = g.snap(program.value(program.prices[g.provider], x));
    }
    let eq = solve(inst, &chosen, None, &Options::default())?;
    let total = inst.total_demand();
    let m = inst.n_providers();
    let mut load_disagreement: f64 = 0.0;
    for j in 0..m {
        let load: f64 = (0..inst.n_users())
            .map(|i| program.value(program.flows[i * m + j], x))
            .sum::<f64>()
            * program.flow_unit;
        load_disagreement = load_disagreement.max((load - eq.loads[j]).abs() / total);
    }
    let milp_objective = program.objective_value(x);
    let simulated_objective = firm_objective(inst, firm, &chosen, &eq.loads);
    if load_disagreement.is_nan() || load_disagreement > options.load_tolerance {
        return Err(RuntimeError::Doubtful(format!(
            "the MILP's follower loads differ from the re-simulated equilibrium by {load_disagreement:.2e} of total demand (tolerance {:.0e}); MILP objective {milp_objective:.6e}, re-simulated {simulated_objective:.6e}",
            options.load_tolerance
        )));
    }
    let bound = raw.bound.map(|b| b * program.objective_scale);
    let gap = bound.map(|b| ((b - milp_objective) / milp_objective.abs().max(1e-12)).max(0.0));
    let certificate = Certificate {
        solver: options.solver,
        status: raw.status,
        milp_objective,
        bound,
        gap,
        simulated_objective,
        load_disagreement,
        row_violation,
        kkt_residual: eq.residual,
        columns: program.columns.len(),
        rows: program.rows.len(),
        binaries: program.binaries(),
        presolve: program.presolve.clone(),
        grids: program.grids.clone(),
        wall_ms: started.elapsed().as_secs_f64() * 1e3,
    };
    Ok(Some(FirmSolution {
        firm,
        prices: chosen,
        objective: simulated_objective,
        equilibrium: eq,
        certificate,
    }))
}

/// The MIP start: each decided price of the firm set in turn by the exact single-price
/// method (on the program's grid), then the equilibrium there. `None` when that point is
/// not feasible for the program (a side constraint, or a price off the grid).
fn start_point(
    inst: &Instance,
    firm: usize,
    prices: &[f64],
    program: &LinearProgram,
) -> Option<Vec<f64>> {
    let mut on_grid = inst.clone();
    for d in on_grid.decisions.iter_mut() {
        if let Some(g) = program.grids.iter().find(|g| g.provider == d.provider) {
            d.lo = g.lo;
            d.hi = g.point(g.points - 1);
            d.step = Some(g.step);
        }
    }
    let mut p = prices.to_vec();
    let opts = Options::default();
    for _ in 0..3 {
        for (d, dec) in on_grid
            .decisions
            .iter()
            .enumerate()
            .filter(|(_, x)| x.firm == firm)
        {
            let r = crate::leader::optimise(&on_grid, d, &p, &opts).ok()?;
            if r.status != crate::leader::Status::Optimal {
                return None;
            }
            p[dec.provider] = r.price;
        }
    }
    let eq = solve(inst, &p, None, &opts).ok()?;
    let x = start::values(program, inst, &p, &eq)?;
    (program.violation(&x) <= 1e-9).then_some(x)
}

/// Every leader priced by MILP: one firm's optimum on its grids (all its prices jointly), or
/// a price equilibrium among firms by best response. Returns the last certificate of each
/// leader firm beside the solution.
pub fn solve_leaders(
    inst: &Instance,
    options: &MilpOptions,
) -> Result<(LeadersSolution, Vec<(usize, Certificate)>), RuntimeError> {
    let mut certificates: Vec<(usize, Certificate)> = Vec::new();
    let mut best_response =
        |firm: usize, prices: &[f64]| -> Result<Option<Vec<f64>>, RuntimeError> {
            let Some(s) = solve_firm(inst, firm, prices, options)? else {
                return Ok(None);
            };
            certificates.retain(|(f, _)| *f != firm);
            certificates.push((firm, s.certificate));
            Ok(Some(s.prices))
        };
    let mut solution = nash::solve_leaders_by(inst, &Options::default(), true, &mut best_response)?;
    certificates.sort_by_key(|(f, _)| *f);
    if certificates
        .iter()
        .any(|(_, c)| c.status == SolveStatus::TimeLimit)
    {
        solution.outcome = nash::Outcome::TimeLimit;
    }
    Ok((solution, certificates))
}

/// A prices vector from a solution of `program` (for tests and external solvers' answers).
pub fn prices_of(program: &LinearProgram, x: &[f64]) -> Vec<f64> {
    program
        .prices
        .iter()
        .enumerate()
        .map(|(j, &s)| match s {
            Source::Column(_) => program
                .grids
                .iter()
                .find(|g| g.provider == j)
                .map_or(program.value(s, x), |g| g.snap(program.value(s, x))),
            Source::Constant(v) => v,
        })
        .collect()
}
