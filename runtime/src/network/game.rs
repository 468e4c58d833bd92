//! Profit curves: the target's profit at L candidate prices, in the full market (the training
//! target `Y_k`) and in an abstract market with its gradient (`Ŷ_k(φ)` and `∂Ŷ_k/∂θ`, where
//! θ is the representative rival: each user's cost of it and its capacity).
//!
//! The gradient is the implicit derivative of the equilibrium (3) on its active set (MODEL.md
//! §6 allows unrolled iterations or implicit differentiation; this is exact where the active
//! set is locally constant, i.e. away from ties). One adjoint solve per candidate price:
//! with `u = (f_A, λ)` and `A = ∂(R, S)/∂u`, `dŶ/dθ = −yᵀ ∂(R, S)/∂θ` where `Aᵀ y = ∂Ŷ/∂u`.
//! The equilibrium itself is the exact runtime's, certified as always.

use prillm_compiler::lower::Instance;

use crate::equilibrium::{solve, solve_game, Equilibrium, Game, Options};
use crate::error::RuntimeError;
use crate::kkt::{active_set_matrix, solve_dense};

/// The target's own profit `(p − c) · x` at the equilibrium `eq`.
pub fn target_profit(inst: &Instance, target: usize, price: f64, eq: &Equilibrium) -> f64 {
    (price - inst.cost[target]) * eq.loads[target]
}

/// The target's profit at each candidate price, the rivals' prices as given.
pub fn true_curve(
    inst: &Instance,
    target: usize,
    candidates: &[f64],
) -> Result<Vec<f64>, RuntimeError> {
    let mut prices = inst.price.clone();
    let mut last: Option<Equilibrium> = None;
    candidates
        .iter()
        .map(|&p| {
            prices[target] = p;
            let eq = solve(inst, &prices, last.as_ref(), &Options::default())?;
            let y = target_profit(inst, target, p, &eq);
            last = Some(eq);
            Ok(y)
        })
        .collect()
}

/// An abstract market's profit curve and its gradient with respect to the representative.
#[derive(Clone, Debug)]
pub struct Curve {
    pub profits: Vec<f64>,
    /// Per candidate: `∂Ŷ/∂c_ia` for each user i, then `∂Ŷ/∂α_a` (a: the last provider).
    pub gradients: Vec<Vec<f64>>,
}

/// The profit curve of the abstract market `abs` (target at 0, representative last).
pub fn abstract_curve(abs: &Instance, candidates: &[f64]) -> Result<Curve, RuntimeError> {
    let mut prices = abs.price.clone();
    let mut last: Option<Equilibrium> = None;
    let mut curve = Curve {
        profits: Vec::with_capacity(candidates.len()),
        gradients: Vec::with_capacity(candidates.len()),
    };
    for &p in candidates {
        prices[0] = p;
        let game = Game::new(abs, &prices)?;
        let eq = solve_game(&game, last.as_ref(), &Options::default(), |_| {})?;
        curve.profits.push(target_profit(abs, 0, p, &eq));
        curve.gradients.push(gradient(abs, &game, &eq, p)?);
        last = Some(eq);
    }
    Ok(curve)
}

/// `∂Ŷ/∂(c_{·a}, α_a)` at one candidate price by one adjoint solve (see the module).
fn gradient(
    abs: &Instance,
    game: &Game,
    eq: &Equilibrium,
    p: f64,
) -> Result<Vec<f64>, RuntimeError> {
    let (n, m) = (abs.n_users(), abs.n_providers());
    let rep = m - 1;
    // Pure choosers' flows are locally constant: only the others' flows are unknowns.
    let players: Vec<usize> = (0..n).filter(|&i| !game.is_chooser(i)).collect();
    let active: Vec<(usize, usize)> = players
        .iter()
        .flat_map(|&i| game.active(eq, i).into_iter().map(move |j| (i, j)))
        .collect();
    let a = active.len();
    let size = a + players.len();
    let mat = active_set_matrix(&active, &players, |j| 1.0 / abs.capacity[j]);
    // The adjoint system takes the transpose.
    let mut at = vec![0.0; size * size];
    for r in 0..size {
        for c in 0..size {
            at[c * size + r] = mat[r * size + c];
        }
    }
    // ∂Ŷ/∂u: the margin on each of the target's active flows.
    let mut y = vec![0.0; size];
    for (r, &(_, j)) in active.iter().enumerate() {
        if j == 0 {
            y[r] = p - abs.cost[0];
        }
    }
    if a > 0 {
        solve_dense(&mut at, &mut y, size).ok_or_else(|| {
            RuntimeError::Numerical("the abstract market's KKT matrix is singular".into())
        })?;
    }
    let mut grad = vec![0.0; n + 1];
    let alpha = abs.capacity[rep];
    for (r, &(i, j)) in active.iter().enumerate() {
        if j == rep {
            grad[i] -= y[r];
            grad[n] += y[r] * (eq.loads[rep] + eq.flows.get(i, rep)) / (alpha * alpha);
        }
    }
    Ok(grad)
}
