//! Training scenarios: perturbed copies of a market, each with the target's true profit curve.
//!
//! A scenario keeps the target and its decision and redraws around the market (seeded,
//! ChaCha8): each rival is dropped with probability 0.2 or copied with probability 0.2 (so
//! the network sees sets of different sizes), then rivals' prices are scaled by U(0.7, 1.3),
//! capacities by e^U(−0.5, 0.5), each rival's values shifted by U(−0.3, 0.3) times the
//! spread of values, and users' demands scaled by U(0.6, 1.4).

use prillm_compiler::lower::plan::{candidates, rival_features, user_cost};
use prillm_compiler::lower::Instance;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use rayon::prelude::*;

use super::abstraction::assemble;
use super::game::true_curve;
use crate::error::RuntimeError;
use crate::synthetic::uniform;

/// One market the network learns from or is measured on: the target is provider 0.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub instance: Instance,
    /// Rivals × features (raw, before normalisation), rivals being providers 1..m.
    pub features: Vec<Vec<f64>>,
    /// Users × rivals: each user's cost of each rival before congestion, in its own units.
    pub costs: Vec<Vec<f64>>,
    pub candidates: Vec<f64>,
    /// The target's profit at each candidate in the full market (`Y_k`).
    pub truth: Vec<f64>,
}

impl Scenario {
    /// A scenario of a market whose target (provider 0) decides its price.
    pub fn new(instance: Instance, l: usize) -> Result<Scenario, RuntimeError> {
        let decision = instance
            .decisions
            .first()
            .filter(|d| d.provider == 0)
            .ok_or_else(|| RuntimeError::BadInstance("the target must be provider 0".into()))?;
        let candidates = candidates(decision.lo, decision.hi, l);
        let truth = true_curve(&instance, 0, &candidates)?;
        let m = instance.n_providers();
        Ok(Scenario {
            features: rival_features(&instance, 0),
            costs: (0..instance.n_users())
                .map(|i| (1..m).map(|j| user_cost(&instance, i, j)).collect())
                .collect(),
            candidates,
            truth,
            instance,
        })
    }

    pub fn rivals(&self) -> usize {
        self.instance.n_providers() - 1
    }
}

/// The market reduced to its target (the first decision's provider, moved to index 0) and
/// its rivals.
pub fn target_market(inst: &Instance) -> Result<Instance, RuntimeError> {
    let decision = inst
        .decisions
        .first()
        .ok_or_else(|| RuntimeError::BadInstance("the market decides no price".into()))?;
    let rivals: Vec<usize> = (0..inst.n_providers())
        .filter(|&j| j != decision.provider)
        .collect();
    assemble(inst, decision.provider, decision, &rivals, &[])
}

/// A perturbed copy of `base` (target at 0) with at least `min_rivals` rivals.
pub fn perturbed(
    base: &Instance,
    min_rivals: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Instance, RuntimeError> {
    let m = base.n_providers();
    let mut rivals = Vec::new();
    for j in 1..m {
        let draw = uniform(rng, 0.0, 1.0);
        if draw >= 0.2 {
            rivals.push(j);
        }
        if draw >= 0.8 {
            rivals.push(j);
        }
    }
    while rivals.len() < min_rivals {
        rivals.push(1 + (rng.next_u64() % (m as u64 - 1)) as usize);
    }
    rivals.sort_unstable();
    let mut inst = assemble(base, 0, &base.decisions[0], &rivals, &[])?;
    let (lo, hi) = base
        .value
        .data
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let spread = (hi - lo).max(0.1);
    for j in 1..inst.n_providers() {
        inst.price[j] *= uniform(rng, 0.7, 1.3);
        inst.capacity[j] *= uniform(rng, -0.5, 0.5).exp();
        let shift = uniform(rng, -0.3, 0.3) * spread;
        for i in 0..inst.n_users() {
            let v = inst.value.get(i, j) + shift;
            inst.value.set(i, j, v);
        }
        inst.providers[j].name = format!("{}~{j}", inst.providers[j].name);
    }
    for d in &mut inst.demand {
        *d *= uniform(rng, 0.6, 1.4);
    }
    Ok(inst)
}

/// `count` perturbed scenarios of `inst`, their profit curves computed in parallel. Markets
/// whose equilibrium does not converge are skipped (counted in the second value).
pub fn scenarios_of(
    inst: &Instance,
    count: usize,
    min_rivals: usize,
    l: usize,
    seed: u64,
    on_done: &(dyn Fn() + Sync),
) -> Result<(Vec<Scenario>, usize), RuntimeError> {
    let base = target_market(inst)?;
    let markets: Vec<Instance> = (0..count)
        .map(|s| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(s as u64));
            perturbed(&base, min_rivals, &mut rng)
        })
        .collect::<Result<_, _>>()?;
    curves_of(markets, l, on_done)
}

/// Scenarios of the given markets (targets at 0), profit curves in parallel.
pub fn curves_of(
    markets: Vec<Instance>,
    l: usize,
    on_done: &(dyn Fn() + Sync),
) -> Result<(Vec<Scenario>, usize), RuntimeError> {
    let results: Vec<Result<Scenario, RuntimeError>> = markets
        .into_par_iter()
        .map(|inst| {
            let s = Scenario::new(inst, l);
            on_done();
            s
        })
        .collect();
    let mut out = Vec::new();
    let mut skipped = 0;
    for r in results {
        match r {
            Ok(s) => out.push(s),
            Err(RuntimeError::NotConverged { .. }) => skipped += 1,
            Err(e) => return Err(e),
        }
    }
    Ok((out, skipped))
}
