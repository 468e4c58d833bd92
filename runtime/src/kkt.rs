//! The KKT system of the users' equilibrium on a fixed active set, reduced to the loads.
//!
//! For a user i with active providers A_i (total capacity S_i), the conditions
//! `c'_ij + (x_j + f_ij)/α_j = λ_i` (j ∈ A_i) and `Σ_j f_ij = D_i` give
//! `f_ij = α_j (λ_i − c'_ij) − x_j` and `λ_i = (D_i + Σ_{A_i} α_k c'_ik + Σ_{A_i} x_k) / S_i`.
//! Summing the flows into each load leaves an m × m linear system in x:
//!
//! ```text
//! (1 + N_j) x_j − α_j Σ_{i ∋ j} (Σ_{k ∈ A_i} x_k) / S_i = X⁰_j + α_j Σ_{i ∋ j} ((D_i + C_i)/S_i − c'_ij)
//! ```
//!
//! with N_j the number of users active at j and X⁰_j the pure choosers' load. The same matrix,
//! with another right-hand side, gives the loads' derivative in a price.

use prillm_compiler::lower::Instance;

/// The system's matrix, row-major m × m, for the active sets `actives` (empty for choosers).
pub fn matrix(inst: &Instance, actives: &[Vec<usize>]) -> Vec<f64> {
    let m = inst.n_providers();
    let alpha = &inst.capacity;
    let mut mat = vec![0.0; m * m];
    for j in 0..m {
        mat[j * m + j] = 1.0;
    }
    for active in actives.iter().filter(|a| !a.is_empty()) {
        let total: f64 = active.iter().map(|&j| alpha[j]).sum();
        for &j in active {
            mat[j * m + j] += 1.0;
            for &k in active {
                mat[j * m + k] -= alpha[j] / total;
            }
        }
    }
    mat
}

/// Gaussian elimination with partial pivoting; the solution replaces `b`.
pub fn solve_dense(a: &mut [f64], b: &mut [f64], n: usize) -> Option<()> {
    for col in 0..n {
        let piv =
            (col..n).max_by(|&x, &y| a[x * n + col].abs().total_cmp(&a[y * n + col].abs()))?;
        if a[piv * n + col].abs() < 1e-300 {
            return None;
        }
        if piv != col {
            for k in 0..n {
                a.swap(piv * n + k, col * n + k);
            }
            b.swap(piv, col);
        }
        for r in col + 1..n {
            let f = a[r * n + col] / a[col * n + col];
            if f != 0.0 {
                for k in col..n {
                    a[r * n + k] -= f * a[col * n + k];
                }
                b[r] -= f * b[col];
            }
        }
    }
    for col in (0..n).rev() {
        let mut v = b[col];
        for k in col + 1..n {
            v -= a[col * n + k] * b[k];
        }
        b[col] = v / a[col * n + col];
    }
    b.iter().all(|v| v.is_finite()).then_some(())
}

/// `∂(R, S)/∂(f_A, λ)`, row-major, of the equilibrium's conditions on a fixed active set:
/// `R_ij = c_ij + slope_j (x_j + f_ij) − λ_i` for each active pair (rows and columns first,
/// in the order of `active`), then `S_i = Σ_j f_ij − D_i` for each user of `users` (sorted;
/// its λ column matches). `slope(j)` is the congestion cost's slope at provider j.
pub fn active_set_matrix(
    active: &[(usize, usize)],
    users: &[usize],
    slope: impl Fn(usize) -> f64,
) -> Vec<f64> {
    let a = active.len();
    let size = a + users.len();
    let row_of_user = |i: usize| a + users.binary_search(&i).expect("an active pair's user");
    let mut mat = vec![0.0; size * size];
    for (r, &(i, j)) in active.iter().enumerate() {
        let s = slope(j);
        for (c, &(i2, j2)) in active.iter().enumerate() {
            if j2 == j {
                // Through the load x_j, and the pair's own flow once more.
                mat[r * size + c] += if i2 == i { s + s } else { s };
            }
        }
        mat[r * size + row_of_user(i)] = -1.0;
        mat[row_of_user(i) * size + r] = 1.0;
    }
    mat
}
