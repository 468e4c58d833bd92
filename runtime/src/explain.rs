//! Why the price is what it is: each user's marginal cost of the decided provider split into
//! its terms, the users who would move first, and the optimal price's sensitivity to each
//! rival's price and capacity (measured on the continuous price range, by re-optimising with
//! the rival moved by 1%).

use prillm_compiler::lower::Instance;
use serde::Serialize;

use crate::equilibrium::{Equilibrium, Game, Options};
use crate::error::RuntimeError;
use crate::leader::{derivative, optimise};

/// One user's marginal cost of the decided provider, in usd/mtok (its own units, not
/// divided by its congestion weight).
#[derive(Clone, Debug, Serialize)]
pub struct UserMargin {
    pub user: String,
    /// Flow to the decided provider (mtok).
    pub flow: f64,
    pub price: f64,
    /// Σ_k w_k q_k: delays and other static QoS.
    pub qos: f64,
    /// w_q (x_s + f_is) / α_s: congestion, including the user's own.
    pub congestion: f64,
    /// −b_is: the perceived value (negative: it lowers the cost).
    pub value: f64,
    /// The sum of the four.
    pub total: f64,
    /// The user's marginal cost of its best provider (its multiplier λ_i, in usd/mtok).
    pub best: f64,
    /// How the flow moves with the price (mtok per usd/mtok); 0 for choosers.
    pub flow_slope: f64,
    /// For a user of the provider: the price rise at which it would stop using it (on the
    /// current piece of the path); for a non-user: the price cut that would attract it.
    pub distance: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Sensitivity {
    pub rival: String,
    /// d p* / d p_r: how the optimal price follows this rival's price.
    pub to_price: f64,
    /// d p* / d ln α_r: the optimal price's change for a 100% larger capacity, to first order.
    pub to_capacity: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    pub provider: String,
    pub users: Vec<UserMargin>,
    pub sensitivities: Vec<Sensitivity>,
}

/// Rivals whose sensitivities are measured: all of them up to this many, else the largest by load.
const MAX_RIVALS: usize = 30;

/// Explains decision `d` at `prices` (its price at the optimum) with the equilibrium `eq`.
pub fn explain(
    inst: &Instance,
    d: usize,
    prices: &[f64],
    eq: &Equilibrium,
    opts: &Options,
) -> Result<Explanation, RuntimeError> {
    let s = inst.decisions[d].provider;
    let game = Game::new(inst, prices)?;
    let dx = derivative(inst, &game, eq, s)?;
    let mut users = Vec::new();
    for i in 0..inst.n_users() {
        let g = inst.congestion_weight[i];
        let chooser = game.is_chooser(i);
        let qos: f64 = (0..inst.qos.len())
            .map(|k| inst.qos_weights.get(i, k) * inst.qos_values[k].get(i, s))
            .sum();
        let f = eq.flows.get(i, s);
        let congestion = if chooser {
            0.0
        } else {
            g * (eq.loads[s] + f) / inst.capacity[s]
        };
        let value = -inst.value.get(i, s);
        let total = prices[s] + qos + congestion + value;
        let scale = if chooser { 1.0 } else { g };
        let active = game.active(eq, i);
        let best = if chooser {
            (0..inst.n_providers())
                .map(|j| game.cost(i, j))
                .fold(f64::INFINITY, f64::min)
        } else if active.is_empty() {
            total
        } else {
            scale * game.multiplier(eq, i, &active)
        };
        let (flow_slope, distance) = if chooser {
            (
                0.0,
                if f > 0.0 {
                    chooser_gap(&game, inst, i, s)
                } else {
                    total - best
                },
            )
        } else if active.contains(&s) {
            let total_alpha: f64 = active.iter().map(|&j| inst.capacity[j]).sum();
            let sum_dx: f64 = active.iter().map(|&j| dx[j]).sum();
            let dlambda = (sum_dx + inst.capacity[s] / g) / total_alpha;
            let df = inst.capacity[s] * (dlambda - 1.0 / g) - dx[s];
            (df, if df < 0.0 { f / -df } else { f64::INFINITY })
        } else {
            (0.0, total - best)
        };
        users.push(UserMargin {
            user: inst.users[i].name.clone(),
            flow: f,
            price: prices[s],
            qos,
            congestion,
            value,
            total,
            best,
            flow_slope,
            distance,
        });
    }
    // Sensitivities by re-optimising with each rival moved a little.
    let mut rivals: Vec<usize> = (0..inst.n_providers())
        .filter(|&j| j != s && inst.providers[j].firm != inst.providers[s].firm)
        .collect();
    rivals.sort_by(|&a, &b| eq.loads[b].total_cmp(&eq.loads[a]));
    rivals.truncate(MAX_RIVALS);
    // On the continuous range: a grid would hide small moves of the optimum.
    let mut cont = inst.clone();
    cont.decisions[d].step = None;
    let base = optimise(&cont, d, prices, opts)?.price;
    let mut sensitivities = Vec::new();
    for r in rivals {
        let h = 0.01 * prices[r].abs().max(0.01);
        let mut moved = prices.to_vec();
        moved[r] += h;
        let up = optimise(&cont, d, &moved, opts)?.price;
        let mut bigger = cont.clone();
        bigger.capacity[r] *= 1.01;
        let cap = optimise(&bigger, d, prices, opts)?.price;
        sensitivities.push(Sensitivity {
            rival: inst.providers[r].name.clone(),
            to_price: (up - base) / h,
            to_capacity: (cap - base) / 0.01f64.ln_1p(),
        });
    }
    Ok(Explanation {
        provider: inst.providers[s].name.clone(),
        users,
        sensitivities,
    })
}

/// For a chooser on `s`: how much dearer `s` may get before another provider is cheaper.
fn chooser_gap(game: &Game, inst: &Instance, i: usize, s: usize) -> f64 {
    let cs = game.cost(i, s);
    (0..inst.n_providers())
        .filter(|&j| j != s)
        .map(|j| game.cost(i, j) - cs)
        .fold(f64::INFINITY, f64::min)
}
