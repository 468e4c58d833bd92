//! Measurements shared by `cargo bench` and `prillm bench exact|milp|network`: the
//! equilibrium's throughput, the exact price against a dense grid of re-solved equilibria,
//! each MILP solver against the exact price on the same grid, and the aggregation network
//! ([`network`]).

pub mod network;
pub use network::*;

use std::time::Instant;

use prillm_compiler::lower::Instance;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::Serialize;

use crate::equilibrium::{solve, Options};
use crate::error::RuntimeError;
use crate::leader::optimise;
use crate::milp::{MilpOptions, SolveStatus};
use crate::synthetic::market;

#[derive(Clone, Debug, Serialize)]
pub struct ThroughputRow {
    pub users: usize,
    pub providers: usize,
    pub sweeps: usize,
    pub residual: f64,
    pub ms: f64,
    /// users × providers × sweeps per second.
    pub updates_per_s: f64,
}

/// The best of `repeats` cold solves of a generated n × n market.
pub fn throughput(n: usize, repeats: usize) -> Result<ThroughputRow, RuntimeError> {
    let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
    let inst = market(n, n, 0, &mut rng);
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let eq = solve(&inst, &inst.price, None, &Options::default())?;
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(eq);
    }
    let eq = last.expect("at least one run");
    Ok(ThroughputRow {
        users: n,
        providers: n,
        sweeps: eq.sweeps,
        residual: eq.residual,
        ms: best * 1e3,
        updates_per_s: (n * n * eq.sweeps) as f64 / best,
    })
}

#[derive(Clone, Debug, Serialize)]
pub struct LeaderRow {
    pub name: String,
    pub providers: usize,
    pub users: usize,
    pub exact_ms: f64,
    pub pieces: usize,
    pub exact_objective: f64,
    pub grid_ms: f64,
    pub grid_points: usize,
    pub grid_objective: f64,
}

/// The exact price of decision 0 (best of `repeats`) beside the best point of a dense grid
/// (the decision's own grid, or 1,001 prices), each point a warm-started equilibrium.
pub fn leader_vs_grid(
    name: &str,
    inst: &Instance,
    repeats: usize,
) -> Result<LeaderRow, RuntimeError> {
    let opts = Options::default();
    let mut best = f64::INFINITY;
    let mut exact = None;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let r = optimise(inst, 0, &inst.price, &opts)?;
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
        exact = Some(r);
    }
    let exact = exact.expect("at least one run");
    let d = &inst.decisions[0];
    let grid: Vec<f64> = d.grid().unwrap_or_else(|| {
        (0..=1000)
            .map(|k| d.lo + (d.hi - d.lo) * k as f64 / 1000.0)
            .collect()
    });
    let t = Instant::now();
    let mut warm = None;
    let mut grid_best = f64::NEG_INFINITY;
    for &p in &grid {
        let mut prices = inst.price.clone();
        prices[d.provider] = p;
        let eq = solve(inst, &prices, warm.as_ref(), &opts)?;
        grid_best = grid_best.max(crate::nash::firm_objective(
            inst, d.firm, &prices, &eq.loads,
        ));
        warm = Some(eq);
    }
    Ok(LeaderRow {
        name: name.to_string(),
        providers: inst.n_providers(),
        users: inst.n_users(),
        exact_ms: best,
        pieces: exact.pieces,
        exact_objective: exact.objective,
        grid_ms: t.elapsed().as_secs_f64() * 1e3,
        grid_points: grid.len(),
        grid_objective: grid_best,
    })
}

/// Generated markets for the leader benchmark: `m` providers, `n` users, provider 0 decided.
pub fn generated(m: usize, n: usize) -> Instance {
    let mut rng = ChaCha8Rng::seed_from_u64(m as u64);
    market(n, m, 0, &mut rng)
}

#[derive(Clone, Debug, Serialize)]
pub struct MilpRow {
    pub providers: usize,
    pub users: usize,
    pub grid_points: usize,
    pub solver: &'static str,
    pub binaries: usize,
    pub milp_ms: f64,
    /// `optimal`, `time_limit`, or why it failed.
    pub status: String,
    pub milp_objective: Option<f64>,
    pub exact_ms: f64,
    pub exact_objective: f64,
}

/// A generated market for the MILP benchmark: provider 0 decided on `points` grid prices
/// over [0, 10], its profit maximised.
pub fn milp_market(m: usize, n: usize, points: usize) -> Instance {
    let mut inst = generated(m, n);
    inst.decisions[0].step = Some(10.0 / (points - 1) as f64);
    inst.objectives = vec![prillm_compiler::lower::ObjectiveInfo {
        firm: 0,
        maximize: prillm_compiler::lower::ObjectiveFn::Profit,
    }];
    inst
}

/// One MILP solve of firm 0 beside the exact runtime's optimum on the same grid.
pub fn milp_vs_exact(inst: &Instance, options: &MilpOptions) -> Result<MilpRow, RuntimeError> {
    let t = Instant::now();
    let exact = optimise(inst, 0, &inst.price, &Options::default())?;
    let exact_ms = t.elapsed().as_secs_f64() * 1e3;
    let binaries = crate::milp::program(inst, 0, &inst.price, options)
        .map(|p| p.binaries())
        .unwrap_or(0);
    let t = Instant::now();
    let solved = crate::milp::solve_firm(inst, 0, &inst.price, options);
    let milp_ms = t.elapsed().as_secs_f64() * 1e3;
    let (status, milp_objective) = match solved {
        Ok(Some(s)) => (
            match s.certificate.status {
                SolveStatus::Optimal => "optimal".to_string(),
                SolveStatus::TimeLimit => "time_limit".to_string(),
                SolveStatus::Infeasible => "infeasible".to_string(),
            },
            Some(s.objective),
        ),
        Ok(None) => ("infeasible".to_string(), None),
        Err(e) => (e.to_string(), None),
    };
    Ok(MilpRow {
        providers: inst.n_providers(),
        users: inst.n_users(),
        grid_points: inst.decisions[0].grid().map_or(0, |g| g.len()),
        solver: options.solver.name(),
        binaries,
        milp_ms,
        status,
        milp_objective,
        exact_ms,
        exact_objective: exact.objective,
    })
}
