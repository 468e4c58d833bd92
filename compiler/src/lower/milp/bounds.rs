//! Bounds for the big-M values, and the presolve that drops pairs no price can make used.
//!
//! Write `c_ij(p) = p_j + s_ij` for user i's cost of provider j before congestion, `g_i` for
//! its congestion weight (0 for a pure chooser), and, in flow units, the marginal cost
//!
//! ```text
//! MC_ij = c_ij(p) + g_i (x_j + f_ij) / α_j.
//! ```
//!
//! At equilibrium `MC_ij ≥ λ_i` for every j, with equality where `f_ij > 0`. With each price
//! in `[lo_j, hi_j]` and bounds `l_ij ≤ f_ij ≤ u_ij` (first `0 ≤ f_ij ≤ D_i`), so that the
//! load lies in `[L_j, X_j] = [Σ_i l_ij, Σ_i u_ij]`, one round of bound propagation is:
//!
//! * `MC_ij ≤ MCmax_ij := hi_j + s_ij + g_i (X_j + u_ij) / α_j` and
//!   `MC_ij ≥ MCmin_ij := lo_j + s_ij + g_i (L_j + l_ij) / α_j`.
//! * `λ_i ≤ MC_ij` for every j, so `λ_i ≤ λmax_i := min_j MCmax_ij`.
//! * A used pair has `MC_ij = λ_i ≤ λmax_i`, and `x_j ≥ (L_j − l_ij) + f_ij`, so
//!   `f_ij ≤ (λmax_i − lo_j − s_ij − g_i (L_j − l_ij)/α_j) · α_j / (2 g_i)`: the new `u_ij`.
//!   When that is below zero (equivalently `MCmin_ij > λmax_i` at no flow) the pair is never
//!   used, and presolve drops it. The provider attaining λmax_i is never dropped.
//! * Demand is placed: `l_ij ≥ D_i − Σ_{k≠j} u_ik`. A pair with `l_ij > 0` is always used:
//!   it needs no binary, and its stationarity row is an equality.
//!
//! Rounds repeat until no bound moves. Then λ's lower bound: the provider carrying user i's
//! largest flow has `f ≥ max(l_ij, D_i / k_i)` (k_i providers left), so
//! `λ_i ≥ min_j (lo_j + s_ij + g_i (L_j − l_ij + 2 max(l_ij, D_i/k_i)) / α_j)`, and `λ_i`
//! equals the marginal cost of every always-used pair, so `λ_i ≥ MCmin_ij` for those too.
//! The slack `MC_ij − λ_i` is at most `M_ij := MCmax_ij − λmin_i`: the big-M of the
//! complementarity row; `u_ij` is the big-M of the use row `f_ij ≤ u_ij z_ij`.

use crate::lower::Instance;

/// Propagation rounds before stopping (each is O(n·m); bounds settle in a few).
const MAX_ROUNDS: usize = 100;

pub(super) struct Bounds {
    /// n × m: whether the pair can carry flow at some allowed price.
    pub usable: Vec<bool>,
    pub pairs_never_used: usize,
    /// n × m flow bounds, in flow units.
    pub flow_lo: Vec<f64>,
    pub flow_hi: Vec<f64>,
    /// Load bounds L_j, X_j in flow units.
    pub load_lo: Vec<f64>,
    pub load_hi: Vec<f64>,
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
    let s: Vec<f64> = (0..n * m).map(|k| inst.static_cost(k / m, k % m)).collect();
    let mut usable = vec![true; n * m];
    let mut lo = vec![0.0; n * m];
    let mut hi: Vec<f64> = (0..n * m).map(|k| demand[k / m]).collect();
    let mut load_lo = vec![0.0; m];
    let mut load_hi = vec![0.0; m];
    let mut lambda_max = vec![0.0; n];
    let loads = |lo: &[f64], hi: &[f64], load_lo: &mut [f64], load_hi: &mut [f64]| {
        for j in 0..m {
            load_lo[j] = (0..n).map(|i| lo[i * m + j]).sum();
            load_hi[j] = (0..n).map(|i| hi[i * m + j]).sum();
        }
    };
    for _ in 0..MAX_ROUNDS {
        loads(&lo, &hi, &mut load_lo, &mut load_hi);
        let mut moved = false;
        for i in 0..n {
            let g = weight[i];
            let mc_max = |j: usize| {
                price_range[j].1 + s[i * m + j] + g * (load_hi[j] + hi[i * m + j]) / capacity[j]
            };
            lambda_max[i] = (0..m)
                .filter(|&j| usable[i * m + j])
                .map(mc_max)
                .fold(f64::INFINITY, f64::min);
            let tolerance = 1e-9 * lambda_max[i].abs().max(1.0);
            for j in 0..m {
                let k = i * m + j;
                if !usable[k] {
                    continue;
                }
                // Marginal cost at no flow of its own, at the lowest price and load.
                let at_zero = price_range[j].0 + s[k] + g * (load_lo[j] - lo[k]) / capacity[j];
                if at_zero > lambda_max[i] + tolerance {
                    usable[k] = false;
                    lo[k] = 0.0;
                    hi[k] = 0.0;
                    moved = true;
                    continue;
                }
                if g > 0.0 {
                    let cap = ((lambda_max[i] - at_zero) * capacity[j] / (2.0 * g)).max(0.0);
                    if cap < hi[k] * (1.0 - 1e-9) {
                        hi[k] = cap.max(lo[k]);
                        moved = true;
                    }
                }
            }
            let total_hi: f64 = (0..m).map(|j| hi[i * m + j]).sum();
            for j in (0..m).filter(|&j| usable[i * m + j]) {
                let k = i * m + j;
                let need = demand[i] - (total_hi - hi[k]);
                if need > lo[k] + 1e-9 * demand[i] {
                    lo[k] = need.min(hi[k]);
                    moved = true;
                }
            }
        }
        if !moved {
            break;
        }
    }
    loads(&lo, &hi, &mut load_lo, &mut load_hi);
    let pairs_never_used = usable.iter().filter(|&&u| !u).count();
    let mut lambda = Vec::with_capacity(n);
    let mut big_m = vec![0.0; n * m];
    for i in 0..n {
        let g = weight[i];
        let used: Vec<usize> = (0..m).filter(|&j| usable[i * m + j]).collect();
        let share = demand[i] / used.len() as f64;
        let mut lambda_min = used
            .iter()
            .map(|&j| {
                let k = i * m + j;
                price_range[j].0
                    + s[k]
                    + g * (load_lo[j] - lo[k] + 2.0 * lo[k].max(share)) / capacity[j]
            })
            .fold(f64::INFINITY, f64::min);
        for &j in &used {
            let k = i * m + j;
            if lo[k] > 0.0 {
                let mc_min = price_range[j].0 + s[k] + g * (load_lo[j] + lo[k]) / capacity[j];
                lambda_min = lambda_min.max(mc_min);
            }
        }
        let lambda_min = lambda_min.min(lambda_max[i]);
        for &j in &used {
            let k = i * m + j;
            let mc_max = price_range[j].1 + s[k] + g * (load_hi[j] + hi[k]) / capacity[j];
            big_m[k] = (mc_max - lambda_min).max(0.0);
        }
        lambda.push((lambda_min, lambda_max[i]));
    }
    Bounds {
        usable,
        pairs_never_used,
        flow_lo: lo,
        flow_hi: hi,
        load_lo,
        load_hi,
        lambda,
        big_m,
    }
}
