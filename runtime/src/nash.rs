//! Several decided prices (MODEL.md §4–§5).
//!
//! A firm's best response sets its decided prices one at a time, each by the exact
//! single-price method, until none moves (coordinate-wise search): exact for a firm with one
//! decided price, a local optimum (reported as such) for several. Several firms take turns
//! (Gauss–Seidel best response) until no price moves; a revisited price vector is a cycle,
//! reported as such. The certificate is the Nash gap: the most any firm could still gain by
//! deviating alone, measured by one more best response of each firm from the final prices.

use prillm_compiler::lower::{Instance, ObjectiveFn};
use serde::Serialize;

use crate::equilibrium::{solve, Equilibrium, Options};
use crate::error::RuntimeError;
use crate::leader::{optimise, Status};

/// Rounds of best responses before giving up.
const MAX_ROUNDS: usize = 200;
/// Coordinate sweeps within one firm's best response.
const MAX_COORDINATE_SWEEPS: usize = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// One firm: the global optimum (one decided price, or all of them jointly by MILP).
    Optimal,
    /// One firm, several prices: coordinate-wise optimal (no single price can improve).
    Local,
    /// Several firms: no firm moved in a full round.
    Equilibrium,
    /// Several firms: best responses revisited earlier prices.
    Cycle,
    /// Several firms: the round limit was reached.
    RoundLimit,
    /// No price satisfies the side constraints.
    Infeasible,
    /// A MILP stopped at its time limit: the best point found, not a proven optimum.
    TimeLimit,
}

#[derive(Clone, Debug, Serialize)]
pub struct FirmResult {
    pub name: String,
    pub objective: f64,
    /// What one more best response from the final prices would gain.
    pub deviation_gain: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct LeadersSolution {
    pub outcome: Outcome,
    /// All prices, decided ones at their solution.
    pub prices: Vec<f64>,
    pub firms: Vec<FirmResult>,
    /// max over firms of `deviation_gain` (0 for a single firm's exact optimum).
    pub nash_gap: f64,
    pub rounds: usize,
    pub equilibrium: Equilibrium,
}

/// The objective of firm `f` at `prices` with loads `x`.
pub fn firm_objective(inst: &Instance, f: usize, prices: &[f64], x: &[f64]) -> f64 {
    let providers = &inst.firms[f].providers;
    match inst
        .objectives
        .iter()
        .find(|o| o.firm == f)
        .map(|o| &o.maximize)
    {
        Some(ObjectiveFn::Revenue) => providers.iter().map(|&j| prices[j] * x[j]).sum(),
        Some(ObjectiveFn::Share) => {
            providers.iter().map(|&j| x[j]).sum::<f64>() / inst.total_demand()
        }
        _ => providers
            .iter()
            .map(|&j| (prices[j] - inst.cost[j]) * x[j])
            .sum(),
    }
}

/// Firm `f`'s best response to `prices`: its decided prices, set coordinate-wise.
/// Returns `None` when no price of the firm satisfies the side constraints.
fn best_response(
    inst: &Instance,
    f: usize,
    prices: &[f64],
    opts: &Options,
) -> Result<Option<Vec<f64>>, RuntimeError> {
    let mine: Vec<usize> = (0..inst.decisions.len())
        .filter(|&d| inst.decisions[d].firm == f)
        .collect();
    let mut p = prices.to_vec();
    for _ in 0..MAX_COORDINATE_SWEEPS {
        let mut moved = false;
        for &d in &mine {
            let r = optimise(inst, d, &p, opts)?;
            if r.status == Status::Infeasible {
                return Ok(None);
            }
            let j = inst.decisions[d].provider;
            if (r.price - p[j]).abs() > 1e-9 * p[j].abs().max(1.0) {
                moved = true;
            }
            p[j] = r.price;
        }
        if !moved || mine.len() == 1 {
            break;
        }
    }
    Ok(Some(p))
}

/// Prices every decision: one firm's (local) optimum, or a price equilibrium among firms.
pub fn solve_leaders(inst: &Instance, opts: &Options) -> Result<LeadersSolution, RuntimeError> {
    let mut exact = |f: usize, prices: &[f64]| best_response(inst, f, prices, opts);
    solve_leaders_by(inst, opts, false, &mut exact)
}

/// A firm's best response to the prices: its new prices, or `None` when none of its prices
/// satisfies the side constraints.
pub type BestResponse<'a> = dyn FnMut(usize, &[f64]) -> Result<Option<Vec<f64>>, RuntimeError> + 'a;

/// The best-response loop with any best response. `joint` says the best response optimises
/// all of a firm's prices together (the MILP does), so one firm's answer is `Optimal` even
/// with several prices.
pub fn solve_leaders_by(
    inst: &Instance,
    opts: &Options,
    joint: bool,
    best_response: &mut BestResponse,
) -> Result<LeadersSolution, RuntimeError> {
    let leaders: Vec<usize> = inst.objectives.iter().map(|o| o.firm).collect();
    if leaders.is_empty() {
        return Err(RuntimeError::BadInstance(
            "no objective: nothing to optimise".into(),
        ));
    }
    let mut prices = inst.price.clone();
    let mut history: Vec<Vec<f64>> = vec![prices.clone()];
    let mut outcome = None;
    let mut rounds = 0;
    while outcome.is_none() {
        rounds += 1;
        let mut moved = false;
        for &f in &leaders {
            let Some(next) = best_response(f, &prices)? else {
                outcome = Some(Outcome::Infeasible);
                break;
            };
            moved |= next
                .iter()
                .zip(&prices)
                .any(|(a, b)| (a - b).abs() > 1e-9 * b.abs().max(1.0));
            prices = next;
        }
        if outcome.is_some() {
            break;
        }
        if leaders.len() == 1 {
            let decisions = inst
                .decisions
                .iter()
                .filter(|d| d.firm == leaders[0])
                .count();
            outcome = Some(if decisions == 1 || joint {
                Outcome::Optimal
            } else {
                Outcome::Local
            });
        } else if !moved {
            outcome = Some(Outcome::Equilibrium);
        } else if history.iter().any(|h| {
            h.iter()
                .zip(&prices)
                .all(|(a, b)| (a - b).abs() <= 1e-9 * b.abs().max(1.0))
        }) {
            outcome = Some(Outcome::Cycle);
        } else if rounds >= MAX_ROUNDS {
            outcome = Some(Outcome::RoundLimit);
        }
        history.push(prices.clone());
    }
    let outcome = outcome.unwrap_or(Outcome::RoundLimit);
    let eq = solve(inst, &prices, None, opts)?;
    // The certificate: each firm's gain from one more best response.
    let mut firms = Vec::new();
    let mut gap: f64 = 0.0;
    for &f in &leaders {
        let now = firm_objective(inst, f, &prices, &eq.loads);
        let gain = if outcome == Outcome::Optimal || outcome == Outcome::Infeasible {
            0.0
        } else {
            match best_response(f, &prices)? {
                Some(dev) => {
                    let e = solve(inst, &dev, Some(&eq), opts)?;
                    (firm_objective(inst, f, &dev, &e.loads) - now).max(0.0)
                }
                None => 0.0,
            }
        };
        gap = gap.max(gain);
        firms.push(FirmResult {
            name: inst.firms[f].name.clone(),
            objective: now,
            deviation_gain: gain,
        });
    }
    Ok(LeadersSolution {
        outcome,
        prices,
        firms,
        nash_gap: gap,
        rounds,
        equilibrium: eq,
    })
}
