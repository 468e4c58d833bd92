//! Game abstraction (MODEL.md §6): a Set Transformer on burn scores each rival of the
//! target ([`model`]); the scores define a small abstract market ([`abstraction`]) that is
//! priced exactly, and the price is re-simulated in the full market. [`train`] fits the
//! network to profit curves of perturbed scenarios ([`scenario`], [`game`], [`loss`]);
//! [`weights`] stores it. The paper's MIN and AVG baselines and a load-score heuristic
//! build abstract markets without a network, for comparison.

pub mod abstraction;
pub mod features;
pub mod game;
pub mod loss;
pub mod model;
pub mod scenario;
pub mod train;
pub mod weights;

use std::time::Instant;

use prillm_compiler::lower::Instance;
use serde::Serialize;

pub use abstraction::{abstract_market, Abstraction, Reduction};
/// The CLI names backends and devices through this re-export (burn stays a runtime dependency).
pub use burn;
pub use model::{AggregationNet, NetConfig};
pub use train::{Cpu, CpuTraining, TrainOptions, Trained};
pub use weights::{Meta, WeightsError};

use burn::tensor::backend::Backend;
use prillm_compiler::lower::plan::rival_features;
use rayon::prelude::*;

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
    let target = target_of(inst)?;
    let (abs, price) = priced_abstraction(inst, target, k, how)?;
    let ms = started.elapsed().as_secs_f64() * 1e3;
    Ok(Priced {
        price,
        objective: resimulated(inst, target, price)?.0,
        kept: abs.kept,
        merged: abs.merged,
        ms,
    })
}

/// The provider whose price the market decides first: the target of the abstraction.
fn target_of(inst: &Instance) -> Result<usize, RuntimeError> {
    inst.decisions
        .first()
        .map(|d| d.provider)
        .ok_or_else(|| RuntimeError::BadInstance("the market decides no price".into()))
}

/// The abstract market `how` defines and the target's exact price in it.
fn priced_abstraction(
    inst: &Instance,
    target: usize,
    k: usize,
    how: &Reduction,
) -> Result<(Abstraction, f64), RuntimeError> {
    let abs = abstract_market(inst, target, k, how)?;
    let priced = optimise(&abs.instance, 0, &abs.instance.price, &Options::default())?;
    Ok((abs, priced.price))
}

/// The target firm's objective with the target at `price` in the full market, and that
/// equilibrium (its residual is the certificate).
fn resimulated(
    inst: &Instance,
    target: usize,
    price: f64,
) -> Result<(f64, crate::Equilibrium), RuntimeError> {
    let mut prices = inst.price.clone();
    prices[target] = price;
    let eq = solve(inst, &prices, None, &Options::default())?;
    let firm = inst.decisions[0].firm;
    Ok((firm_objective(inst, firm, &prices, &eq.loads), eq))
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

/// A rival's scores, by name.
#[derive(Clone, Debug, Serialize)]
pub struct RivalScore {
    pub name: String,
    pub score_sum: f64,
    pub score_avg: f64,
}

/// A provider of the abstract market.
#[derive(Clone, Debug, Serialize)]
pub struct AbstractProvider {
    pub name: String,
    pub price: f64,
    pub capacity: f64,
}

/// The network's decision for one market.
#[derive(Clone, Debug, Serialize)]
pub struct NetworkDecision {
    pub target: String,
    pub price: f64,
    /// The target firm's objective at `price` in the full market (re-simulated).
    pub objective: f64,
    /// The target's profit in the abstract market at `price`.
    pub abstract_profit: f64,
    /// The re-simulated full equilibrium's KKT residual: the certificate.
    pub residual: f64,
    pub kept: Vec<RivalScore>,
    /// Merged into the representative, highest `score_avg` first.
    pub merged: Vec<RivalScore>,
    pub abstract_market: Vec<AbstractProvider>,
}

/// The price the network chooses for one market, before it is re-simulated.
#[derive(Clone, Debug)]
pub struct Choice {
    pub target: usize,
    pub price: f64,
    /// Scores per provider of the full market (the target's entries are 1).
    pub score_sum: Vec<f64>,
    pub score_avg: Vec<f64>,
    pub abstraction: Abstraction,
}

/// Decisions for many markets: [`choose`] then [`certify`], in parallel.
pub fn price_with_network<B: Backend>(
    net: &AggregationNet<B>,
    meta: &Meta,
    markets: &[Instance],
    device: &B::Device,
) -> Result<Vec<NetworkDecision>, RuntimeError> {
    let choices = choose(net, meta, markets, device)?;
    markets
        .par_iter()
        .zip(choices.par_iter())
        .map(|(inst, c)| certify(inst, c))
        .collect()
}

/// Prices for many markets: one batched network pass per 256 markets, then each abstract
/// market priced exactly, in parallel.
pub fn choose<B: Backend>(
    net: &AggregationNet<B>,
    meta: &Meta,
    markets: &[Instance],
    device: &B::Device,
) -> Result<Vec<Choice>, RuntimeError> {
    let mut targets = Vec::with_capacity(markets.len());
    let mut features = Vec::with_capacity(markets.len());
    for inst in markets {
        let target = target_of(inst)?;
        let rivals = inst.n_providers() - 1;
        if rivals < meta.k {
            return Err(RuntimeError::BadInstance(format!(
                "the target `{}` has {rivals} rivals, fewer than the network's K = {}",
                inst.providers[target].name, meta.k
            )));
        }
        targets.push(target);
        features.push(rival_features(inst, target));
    }
    let mut scored = Vec::with_capacity(markets.len());
    for chunk in features.chunks(256) {
        let refs: Vec<&Vec<Vec<f64>>> = chunk.iter().collect();
        scored.extend(train::scores(net, &refs, &meta.normalisation, device));
    }
    markets
        .par_iter()
        .zip(targets.par_iter())
        .zip(scored.par_iter())
        .map(|((inst, &target), (sum, avg))| choose_one(inst, target, meta.k, sum, avg))
        .collect()
}

/// Prices one market from its rivals' scores (rival order: providers other than `target`).
pub(crate) fn choose_one(
    inst: &Instance,
    target: usize,
    k: usize,
    sum: &[f64],
    avg: &[f64],
) -> Result<Choice, RuntimeError> {
    let m = inst.n_providers();
    let mut score_sum = vec![1.0; m];
    let mut score_avg = vec![1.0; m];
    let rivals = (0..m).filter(|&j| j != target);
    for (r, j) in rivals.enumerate() {
        score_sum[j] = sum[r];
        score_avg[j] = avg[r];
    }
    let how = Reduction::Scores {
        sum: score_sum.clone(),
        avg: score_avg.clone(),
    };
    let (abstraction, price) = priced_abstraction(inst, target, k, &how)?;
    Ok(Choice {
        target,
        price,
        score_sum,
        score_avg,
        abstraction,
    })
}

/// A choice re-simulated in the full market, with the scores by name.
pub fn certify(inst: &Instance, c: &Choice) -> Result<NetworkDecision, RuntimeError> {
    let (objective, eq) = resimulated(inst, c.target, c.price)?;
    let abs = &c.abstraction.instance;
    let mut abs_prices = abs.price.clone();
    abs_prices[0] = c.price;
    let abs_eq = solve(abs, &abs_prices, None, &Options::default())?;
    let score = |j: usize| RivalScore {
        name: inst.providers[j].name.clone(),
        score_sum: c.score_sum[j],
        score_avg: c.score_avg[j],
    };
    Ok(NetworkDecision {
        target: inst.providers[c.target].name.clone(),
        price: c.price,
        objective,
        abstract_profit: game::target_profit(abs, 0, c.price, &abs_eq),
        residual: eq.residual,
        kept: c.abstraction.kept.iter().map(|&j| score(j)).collect(),
        merged: c.abstraction.merged.iter().map(|&j| score(j)).collect(),
        abstract_market: (0..abs.n_providers())
            .map(|j| AbstractProvider {
                name: abs.providers[j].name.clone(),
                price: abs_prices[j],
                capacity: abs.capacity[j],
            })
            .collect(),
    })
}
