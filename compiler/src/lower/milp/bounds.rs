//! Bounds for the big-M values, and the presolve that drops pairs no price can make used.
//!
//! Write `c_ij(p) = p_j + s_ij` for user i's cost of provider j before congestion, `g_i` for
//! its congestion weight (0 for a pure chooser) and, in flow units, the marginal cost
//!
//! ```text
//! MC_ij = c_ij(p) + g_i (x_j + f_ij) / α_j.
//! ```
//!
//! At equilibrium `MC_ij ≥ λ_i` for every j, with equality where `f_ij > 0`. With each price
//! in `[lo_j, hi_j]`:
//!
//! * `x_j ≤ X_j := Σ D_i` over the users that can use j, and `f_ij ≤ D_i ≤ X_j`, so
//!   `MC_ij ≤ MCmax_ij := hi_j + s_ij + g_i (X_j + D_i) / α_j`.
//! * `λ_i ≤ MC_ij` for every j, so `λ_i ≤ λmax_i := min_j MCmax_ij`.
//! * A used pair has `MC_ij = λ_i`, and `MC_ij ≥ MCmin_ij := lo_j + s_ij + g_i L_j / α_j`
//!   (L_j: load of captive users, always there). If `MCmin_ij > λmax_i` the pair is never
//!   used: presolve drops it, which lowers X and so λmax; repeat until nothing changes. The
//!   provider attaining λmax_i is never dropped, so every user keeps one.
//! * The provider with the largest flow of user i carries `f ≥ D_i / k_i` (k_i providers
//!   left) and `x_j ≥ L_j + f`, so `λ_i ≥ λmin_i := min_j (lo_j + s_ij + g_i (L_j + 2D_i/k_i) / α_j)`.
//! * The slack `MC_ij − λ_i` is then at most `M_ij := MCmax_ij − λmin_i`: the tight big-M of
//!   the complementarity row, and `f_ij ≤ D_i` is the big-M of the use row.

use crate::lower::Instance;

pub(super) struct Bounds {
    /// n × m: whether the pair can carry flow at some allowed price.
    pub usable: Vec<bool>,
    pub pairs_never_used: usize,
    /// X_j in flow units.
    pub load_max: Vec<f64>,
    /// L_j: the load of captive users (one usable provider), in flow units.
    pub captive_load: Vec<f64>,
    pub lambda: Vec<(f64, f64)>,
    /// n × m.
    pub big_m: Vec<f64>,
}

/// `price_range[j]` is `(lo, hi)` (equal for a fixed price); demands and capacities are
/// given in flow units.
pub(super) fn compute(
    inst: &Instance,
    price_range: &[(f64, f64)],
    demand: &[f64],
    capacity: &[f64],
    weight: &[f64],
) -> Bounds {
    let (n, m) = (inst.n_users(), inst.n_providers());
    let s = |i: usize, j: usize| inst.static_cost(i, j);
    let mut usable = vec![true; n * m];
    let mut load_max = vec![0.0; m];
    let mut captive_load = vec![0.0; m];
    let mut lambda_max = vec![0.0; n];
    let mut pairs_never_used = 0;
    loop {
        load_max.iter_mut().for_each(|x| *x = 0.0);
        captive_load.iter_mut().for_each(|x| *x = 0.0);
        for i in 0..n {
            let usable_here: Vec<usize> = (0..m).filter(|&j| usable[i * m + j]).collect();
            for &j in &usable_here {
                load_max[j] += demand[i];
            }
            if let [j] = usable_here[..] {
                captive_load[j] += demand[i];
            }
        }
        let mc_max = |i: usize, j: usize| {
            price_range[j].1 + s(i, j) + weight[i] * (load_max[j] + demand[i]) / capacity[j]
        };
        let mc_min = |i: usize, j: usize| {
            price_range[j].0 + s(i, j) + weight[i] * captive_load[j] / capacity[j]
        };
        let mut dropped = false;
        for i in 0..n {
            lambda_max[i] = (0..m)
                .filter(|&j| usable[i * m + j])
                .map(|j| mc_max(i, j))
                .fold(f64::INFINITY, f64::min);
            let tolerance = 1e-9 * lambda_max[i].abs().max(1.0);
            for j in 0..m {
                if usable[i * m + j] && mc_min(i, j) > lambda_max[i] + tolerance {
                    usable[i * m + j] = false;
                    pairs_never_used += 1;
                    dropped = true;
                }
            }
        }
        if !dropped {
            break;
        }
    }
    let mut lambda = Vec::with_capacity(n);
    let mut big_m = vec![0.0; n * m];
    for i in 0..n {
        let used: Vec<usize> = (0..m).filter(|&j| usable[i * m + j]).collect();
        let k = used.len() as f64;
        let lambda_min = used
            .iter()
            .map(|&j| {
                price_range[j].0
                    + s(i, j)
                    + weight[i] * (captive_load[j] + 2.0 * demand[i] / k) / capacity[j]
            })
            .fold(f64::INFINITY, f64::min);
        for &j in &used {
            let mc_max =
                price_range[j].1 + s(i, j) + weight[i] * (load_max[j] + demand[i]) / capacity[j];
            big_m[i * m + j] = (mc_max - lambda_min).max(0.0);
        }
        lambda.push((lambda_min, lambda_max[i].max(lambda_min)));
    }
    Bounds {
        usable,
        pairs_never_used,
        load_max,
        captive_load,
        lambda,
        big_m,
    }
}
