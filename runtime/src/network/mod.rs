//! Game abstraction (MODEL.md §6). Built so far: the abstract market a set of rival scores
//! defines ([`abstraction`]), the paper's MIN and AVG baselines, and a scoring heuristic
//! (each rival's current load); the learned scores — a Set Transformer on burn trained on
//! generated scenarios — are not built yet (issue 5).

pub mod abstraction;

use std::time::Instant;

use prillm_compiler::lower::Instance;
use serde::Serialize;

pub use abstraction::{abstract_market, Abstraction, Reduction};

use crate::equilibrium::{solve, Options};
use crate::error::RuntimeError;
use crate::leader::optimise;
use crate::nash::firm_objective;

/// A price chosen in an abstract market, and what it earns in the full one.
#[derive(Clone, Debug, Serialize)]
pub struct Priced {
    pub price: f64,
    /// The target firm's objective at `price` in the full market (re-simulated).
    pub objective: f64,
    pub kept: Vec<usize>,
    pub merged: Vec<usize>,
    pub ms: f64,
}

/// Prices the target (decision 0's provider) in the abstract market `how` defines, and
/// re-simulates that price in the full market.
pub fn price_by_reduction(
    inst: &Instance,
    k: usize,
    how: &Reduction,
) -> Result<Priced, RuntimeError> {
    let started = Instant::now();
    let dec = inst
        .decisions
        .first()
        .ok_or_else(|| RuntimeError::BadInstance("no decided price".into()))?;
    let target = dec.provider;
    let abs = abstract_market(inst, target, k, how)?;
    let priced = optimise(&abs.instance, 0, &abs.instance.price, &Options::default())?;
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let mut prices = inst.price.clone();
    prices[target] = priced.price;
    let eq = solve(inst, &prices, None, &Options::default())?;
    Ok(Priced {
        price: priced.price,
        objective: firm_objective(inst, dec.firm, &prices, &eq.loads),
        kept: abs.kept,
        merged: abs.merged,
        ms,
    })
}

/// Scores from the equilibrium at the current prices: `score_avg` is each rival's load
/// (so the busiest rivals are kept and weigh most in the merge), `score_sum` 1.
pub fn load_scores(inst: &Instance) -> Result<Reduction, RuntimeError> {
    let eq = solve(inst, &inst.price, None, &Options::default())?;
    let total: f64 = eq.loads.iter().sum();
    Ok(Reduction::Scores {
        sum: vec![1.0; inst.n_providers()],
        avg: eq.loads.iter().map(|x| x / total + 1e-9).collect(),
    })
}
