//! The network plan (MODEL.md §6): what the aggregation network computes for one market,
//! as pure data. Each rival of the target becomes a row of features that describe it
//! relative to the target and to the market, in units that do not depend on the market's
//! scale (so one network serves markets of any size and price level); the plan also fixes
//! K, the L candidate prices of the target's profit curve, the batch shape and the device.
//!
//! Costs are the users' own: `c_ij = (p_j + Σ_k w_ik q_kij − b_ij) / w_q^i` (a pure chooser's
//! is not divided), so a feature means the same thing whatever a user's congestion weight.

use serde::Serialize;

use super::Instance;

/// The name of this feature layout; a weights file trained on another is refused.
pub const LAYOUT: &str = "rival-features-v2";

/// The features of a rival, in order.
pub const FEATURES: [&str; 12] = [
    "price_gap",
    "log_capacity",
    "capacity_share",
    "cost_gap_mean",
    "cost_gap_min",
    "cheaper_share",
    "cost_vs_market",
    "cost_rank",
    "loaded_gap",
    "log_rivals",
    "best_gap",
    "best_share",
];

/// Candidate prices of the target's profit curve when none are given.
pub const DEFAULT_CANDIDATES: usize = 16;

/// The batched computation for one market.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub layout: &'static str,
    pub feature_names: Vec<&'static str>,
    /// The provider whose price is decided (the market's first decision).
    pub target: String,
    /// Rivals in the order of the feature rows.
    pub rivals: Vec<String>,
    /// Abstract market size: K − 1 kept rivals and one representative.
    pub k: usize,
    /// Rivals × features, before the network's normalisation.
    pub features: Vec<Vec<f64>>,
    /// The target's candidate prices (usd/mtok) of the profit curve.
    pub candidates: Vec<f64>,
    /// [markets, rivals, features] of one network pass.
    pub batch_shape: [usize; 3],
    pub device: String,
}

/// Why a market cannot be planned.
#[derive(Clone, Debug, PartialEq)]
pub enum PlanError {
    NoDecision,
    TooFewRivals { rivals: usize, k: usize },
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::NoDecision => {
                write!(f, "the market decides no price, so there is no target")
            }
            PlanError::TooFewRivals { rivals, k } => write!(
                f,
                "the target has {rivals} rivals, fewer than K = {k}: there is nothing to abstract"
            ),
        }
    }
}

/// The plan of `inst` for an abstract market of `k` rivals and `l` candidate prices.
pub fn plan(inst: &Instance, k: usize, l: usize, device: &str) -> Result<Plan, PlanError> {
    let decision = inst.decisions.first().ok_or(PlanError::NoDecision)?;
    let target = decision.provider;
    let rivals: Vec<usize> = (0..inst.n_providers()).filter(|&j| j != target).collect();
    if k == 0 || rivals.len() < k {
        return Err(PlanError::TooFewRivals {
            rivals: rivals.len(),
            k,
        });
    }
    let features = rival_features(inst, target);
    Ok(Plan {
        layout: LAYOUT,
        feature_names: FEATURES.to_vec(),
        target: inst.providers[target].name.clone(),
        rivals: rivals
            .iter()
            .map(|&j| inst.providers[j].name.clone())
            .collect(),
        k,
        batch_shape: [1, rivals.len(), FEATURES.len()],
        features,
        candidates: candidates(decision.lo, decision.hi, l),
        device: device.to_string(),
    })
}

/// `l` evenly spaced prices from `lo` to `hi` (both included; `lo` alone when `l` is 1).
pub fn candidates(lo: f64, hi: f64, l: usize) -> Vec<f64> {
    match l {
        0 => Vec::new(),
        1 => vec![lo],
        _ => (0..l)
            .map(|k| lo + (hi - lo) * k as f64 / (l - 1) as f64)
            .collect(),
    }
}

/// User `i`'s cost of provider `j` before congestion, in its own units (see the module).
pub fn user_cost(inst: &Instance, i: usize, j: usize) -> f64 {
    let g = inst.congestion_weight[i];
    let c = inst.price[j] + inst.static_cost(i, j);
    if inst.users[i].chooser || g.is_nan() || g <= 0.0 {
        c
    } else {
        c / g
    }
}

/// One row of [`FEATURES`] per rival of `target` (every other provider, in index order).
pub fn rival_features(inst: &Instance, target: usize) -> Vec<Vec<f64>> {
    let (n, m) = (inst.n_users(), inst.n_providers());
    let rivals: Vec<usize> = (0..m).filter(|&j| j != target).collect();
    let demand = inst.total_demand().max(f64::MIN_POSITIVE);
    let cost: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..m).map(|j| user_cost(inst, i, j)).collect())
        .collect();
    let market_mean: Vec<f64> = cost
        .iter()
        .map(|c| c.iter().sum::<f64>() / m as f64)
        .collect();
    // The spread of costs across providers, demand-weighted: the market's cost unit.
    let spread = ((0..n)
        .map(|i| {
            let dev: f64 = cost[i].iter().map(|c| (c - market_mean[i]).powi(2)).sum();
            inst.demand[i] * dev / m as f64
        })
        .sum::<f64>()
        / demand)
        .sqrt()
        .max(1e-12);
    let price_scale = (inst.price.iter().map(|p| p.abs()).sum::<f64>() / m as f64).max(1e-12);
    let mean_log_capacity = inst.capacity.iter().map(|a| a.ln()).sum::<f64>() / m as f64;
    let total_capacity: f64 = inst.capacity.iter().sum();
    // Congestion at a fair share of the demand, in the users' cost units.
    let fair_load = demand / m as f64;
    let weighted = |f: &dyn Fn(usize) -> f64| -> f64 {
        (0..n).map(|i| inst.demand[i] * f(i)).sum::<f64>() / demand
    };
    let gap_mean: Vec<f64> = rivals
        .iter()
        .map(|&j| weighted(&|i| cost[i][j] - cost[i][target]) / spread)
        .collect();
    let log_rivals = (rivals.len() as f64).ln();
    // Rivals cheaper on average than this one (ties by position), as a share.
    let mut by_gap: Vec<usize> = (0..rivals.len()).collect();
    by_gap.sort_by(|&a, &b| gap_mean[a].total_cmp(&gap_mean[b]));
    let mut rank = vec![0.0; rivals.len()];
    for (place, &r) in by_gap.iter().enumerate() {
        rank[r] = place as f64 / (rivals.len().max(2) - 1) as f64;
    }
    // Each user's best rival: a large market competes through these, user by user.
    let best: Vec<f64> = cost
        .iter()
        .map(|c| rivals.iter().map(|&j| c[j]).fold(f64::INFINITY, f64::min))
        .collect();
    rivals
        .iter()
        .enumerate()
        .map(|(r, &j)| {
            let gap_min = (0..n)
                .map(|i| cost[i][j] - cost[i][target])
                .fold(f64::INFINITY, f64::min);
            let loaded = |p: usize| fair_load / inst.capacity[p];
            vec![
                (inst.price[j] - inst.price[target]) / price_scale,
                inst.capacity[j].ln() - mean_log_capacity,
                m as f64 * inst.capacity[j] / total_capacity,
                gap_mean[r],
                gap_min / spread,
                weighted(&|i| f64::from(u8::from(cost[i][j] < cost[i][target]))),
                weighted(&|i| cost[i][j] - market_mean[i]) / spread,
                rank[r],
                weighted(&|i| cost[i][j] + loaded(j) - cost[i][target] - loaded(target)) / spread,
                log_rivals,
                weighted(&|i| cost[i][j] - best[i]) / spread,
                weighted(&|i| f64::from(u8::from(cost[i][j] <= best[i]))),
            ]
        })
        .collect()
}
