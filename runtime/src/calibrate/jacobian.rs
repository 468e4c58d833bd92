//! `∂f*/∂θ` by implicit differentiation of the KKT conditions on the active set.
//!
//! At the equilibrium, for each active pair (i, j) and each user i,
//!
//! ```text
//! R_ij = p_j + Σ_k w_k q_kij − b_j + w_q (x_j + f_ij)/α_j − λ_i = 0,   S_i = Σ_j f_ij − D_i = 0.
//! ```
//!
//! With `u = (f_A, λ)`, `(∂(R,S)/∂u) du/dθ = −∂(R,S)/∂θ`: one dense solve per parameter.
//! Inactive pairs keep `f = 0` (the active set is locally constant away from ties).
//! Parameters, in order: `ln w_q`, each `w_k`, each `b_j`.

use prillm_compiler::lower::{Instance, Matrix};

use crate::equilibrium::Equilibrium;
use crate::kkt::{active_set_matrix, solve_dense};

/// Active flows below this share of the user's demand count as zero.
const ACTIVE: f64 = 1e-12;

/// The Jacobian, (n·m) × P row-major, P = 1 + K + m; `None` when the KKT matrix is singular.
pub fn jacobian(inst: &Instance, eq: &Equilibrium) -> Option<Matrix> {
    let (n, m, k) = (inst.n_users(), inst.n_providers(), inst.qos.len());
    let params = 1 + k + m;
    let active: Vec<(usize, usize)> = (0..n)
        .flat_map(|i| (0..m).map(move |j| (i, j)))
        .filter(|&(i, j)| eq.flows.get(i, j) > ACTIVE * inst.demand[i])
        .collect();
    let a = active.len();
    let size = a + n;
    let wq = inst.congestion_weight[0];
    // ∂(R, S)/∂u.
    let users: Vec<usize> = (0..n).collect();
    let mat = active_set_matrix(&active, &users, |j| wq / inst.capacity[j]);
    let mut jac = Matrix::filled(n * m, params, 0.0);
    for p in 0..params {
        // −∂(R, S)/∂θ_p; S does not depend on θ.
        let mut rhs = vec![0.0; size];
        for (r, &(i, j)) in active.iter().enumerate() {
            let d = if p == 0 {
                wq * (eq.loads[j] + eq.flows.get(i, j)) / inst.capacity[j]
            } else if p <= k {
                inst.qos_values[p - 1].get(i, j)
            } else if p - 1 - k == j {
                -1.0
            } else {
                0.0
            };
            rhs[r] = -d;
        }
        let mut a_copy = mat.clone();
        solve_dense(&mut a_copy, &mut rhs, size)?;
        for (r, &(i, j)) in active.iter().enumerate() {
            jac.set(i * m + j, p, rhs[r]);
        }
    }
    Some(jac)
}
