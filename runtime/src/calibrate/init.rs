//! Initial values `b` (MODEL.md §7): the smallest non-negative values under which the
//! observed flows satisfy the equilibrium conditions (3) at the instance's weights — every
//! provider a user uses equally cheap at the margin, every other one no cheaper — with
//! slacks where noisy data cannot satisfy them exactly. A linear program, solved by microlp:
//!
//! ```text
//! min  Σ (e⁺_ij + e⁻_ij) + Σ s_ij + ε Σ b_j
//! s.t. MC_ij(b) − λ_i = e⁺_ij − e⁻_ij   (f_ij > 0)
//!      MC_ij(b) − λ_i ≥ −s_ij           (f_ij = 0)
//!      b, e, s ≥ 0,  MC_ij(b) = p_j + Σ_k w_k q_kij − b_j + w_q (x_j + f_ij)/α_j.
//! ```

use good_lp::{variable, Expression, ProblemVariables, Solution, SolverModel};
use prillm_compiler::lower::Instance;

use super::{Observed, Theta};
use crate::error::RuntimeError;

/// The LP's values with the instance's weights, and its total slack (0 when the
/// observations are exactly an equilibrium for some values). With `learned`, only those
/// values are variables; the others stay at `weights.value`.
pub fn initial_values(
    inst: &Instance,
    obs: &Observed,
    weights: &Theta,
    learned: Option<&[bool]>,
) -> Result<(Theta, f64), RuntimeError> {
    let (n, m) = (inst.n_users(), inst.n_providers());
    let mut vars = ProblemVariables::new();
    let free = |j: usize| learned.is_none_or(|l| l[j]);
    // A fixed value is a variable pinned to its number.
    let b: Vec<_> = (0..m)
        .map(|j| {
            if free(j) {
                vars.add(variable().min(0.0))
            } else {
                vars.add(variable().min(weights.value[j]).max(weights.value[j]))
            }
        })
        .collect();
    let mut slack_terms = Expression::from(0.0);
    let mut rows = Vec::new();
    // One multiplier per user and period: each period is its own equilibrium.
    for period in obs.periods.iter().filter(|p| !p.held_out) {
        let flows = &period.flows;
        let at = period.instance(inst);
        let loads: Vec<f64> = (0..m)
            .map(|j| (0..n).map(|i| flows.get(i, j)).sum())
            .collect();
        for i in (0..n).filter(|&i| !obs.held_out[i]) {
            let lambda = vars.add(variable());
            for j in 0..m {
                let f = flows.get(i, j);
                let mut qos = 0.0;
                for (k, w) in weights.qos.iter().enumerate() {
                    qos += w * at.qos_values[k].get(i, j);
                }
                let constant =
                    period.prices[j] + qos + weights.congestion * (loads[j] + f) / inst.capacity[j];
                // MC − λ = constant − b_j − λ_i.
                let mut reduced = Expression::from(constant);
                reduced.add_mul(-1.0, b[j]);
                reduced.add_mul(-1.0, lambda);
                if f > 0.0 {
                    let up = vars.add(variable().min(0.0));
                    let down = vars.add(variable().min(0.0));
                    slack_terms.add_mul(1.0, up);
                    slack_terms.add_mul(1.0, down);
                    let mut e = reduced;
                    e.add_mul(-1.0, up);
                    e.add_mul(1.0, down);
                    rows.push(e.eq(0.0));
                } else {
                    let s = vars.add(variable().min(0.0));
                    slack_terms.add_mul(1.0, s);
                    let mut e = reduced;
                    e.add_mul(1.0, s);
                    rows.push(e.geq(0.0));
                }
            }
        }
    }
    let mut objective = slack_terms.clone();
    for &bj in &b {
        objective.add_mul(1e-6, bj);
    }
    let solution = vars
        .minimise(objective)
        .using(good_lp::microlp)
        .with_all(rows)
        .solve()
        .map_err(|e| RuntimeError::Solver(format!("the initial-value LP failed: {e}")))?;
    let value: Vec<f64> = b.iter().map(|&v| solution.value(v)).collect();
    let slack = solution.eval(&slack_terms);
    Ok((
        Theta {
            value,
            ..weights.clone()
        },
        slack,
    ))
}
