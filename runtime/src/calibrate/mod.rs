//! Calibration from observed traffic (MODEL.md §7): the subjective parameters
//! `θ = {w_q, w_k, b_j}` (the congestion weight, each static QoS weight, each provider's
//! value; the price weight is 1) that make the users' equilibrium reproduce observed flows.
//!
//! 1. [`init`]: values `b` from the linear program of MODEL.md §7 — the smallest
//!    non-negative `b` under which the observed flows satisfy the equilibrium conditions,
//!    with slacks for noise — solved with good_lp.
//! 2. [`fit`]: least squares `Σ (f*_ij(θ) − f_ij)²` over the training users' cells by
//!    Levenberg–Marquardt, with the Jacobian `∂f*/∂θ` from implicit differentiation of the
//!    KKT system on the equilibrium's active set ([`jacobian`]).
//!
//! Every user shares θ (a market calibrated per segment would repeat this per segment).
//! Adding a constant to every `b_j` changes no choice, so values are reported with their
//! smallest at 0, as the LP's "smallest non-negative b" does.

pub mod fit;
pub mod init;
pub mod jacobian;

use prillm_compiler::lower::{Instance, Matrix};
use serde::Serialize;

use crate::error::RuntimeError;

/// The parameters being calibrated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Theta {
    /// Congestion weight w_q > 0 (usd/mtok per unit of load/capacity).
    pub congestion: f64,
    /// One weight per static QoS dimension (usd/mtok per unit of the dimension), ≥ 0.
    pub qos: Vec<f64>,
    /// Perceived value of each provider (usd/mtok).
    pub value: Vec<f64>,
}

impl Theta {
    /// The parameters as the instance has them (user 0's weights; values averaged over
    /// users).
    pub fn of(inst: &Instance) -> Theta {
        let n = inst.n_users() as f64;
        Theta {
            congestion: inst.congestion_weight.first().copied().unwrap_or(1.0),
            qos: (0..inst.qos.len())
                .map(|k| inst.qos_weights.get(0, k))
                .collect(),
            value: (0..inst.n_providers())
                .map(|j| {
                    (0..inst.n_users())
                        .map(|i| inst.value.get(i, j))
                        .sum::<f64>()
                        / n
                })
                .collect(),
        }
    }

    /// The instance with these parameters for every user.
    pub fn apply(&self, inst: &Instance) -> Instance {
        let mut out = inst.clone();
        for i in 0..inst.n_users() {
            out.congestion_weight[i] = self.congestion;
            for (k, &w) in self.qos.iter().enumerate() {
                out.qos_weights.set(i, k, w);
            }
            for (j, &b) in self.value.iter().enumerate() {
                out.value.set(i, j, b);
            }
        }
        out
    }

    /// Shifts the values so the smallest is 0 (a common shift changes no choice).
    pub fn normalised(mut self) -> Theta {
        let low = self.value.iter().copied().fold(f64::INFINITY, f64::min);
        if low.is_finite() {
            self.value.iter_mut().for_each(|b| *b -= low);
        }
        self
    }
}

/// Flows observed in one period, at that period's prices.
#[derive(Clone, Debug)]
pub struct Period {
    pub name: String,
    /// Every provider's price in the period (usd/mtok).
    pub prices: Vec<f64>,
    /// n × m, mtok per period.
    pub flows: Matrix,
    /// The static QoS values in the period, when they differ from the instance's.
    pub qos_values: Option<Vec<Matrix>>,
    /// Left out of the fit, to measure it (a held-out day).
    pub held_out: bool,
}

impl Period {
    /// The market in this period: its prices, and each user's demand its observed total.
    pub fn instance(&self, inst: &Instance) -> Instance {
        let mut at = inst.clone();
        at.price = self.prices.clone();
        if let Some(q) = &self.qos_values {
            at.qos_values = q.clone();
        }
        at.demand = (0..inst.n_users())
            .map(|i| self.flows.row(i).iter().sum())
            .collect();
        at
    }
}

/// Observations: one or more periods, and which users are held out of the fit.
#[derive(Clone, Debug)]
pub struct Observed {
    pub periods: Vec<Period>,
    pub held_out: Vec<bool>,
}

impl Observed {
    /// One period at the instance's own prices.
    pub fn single(inst: &Instance, flows: Matrix, held_out: Vec<bool>) -> Observed {
        Observed {
            periods: vec![Period {
                name: inst.period.clone(),
                prices: inst.price.clone(),
                flows,
                qos_values: None,
                held_out: false,
            }],
            held_out,
        }
    }

    /// Whether user `i`'s flows in period `t` are fitted (neither is held out).
    pub fn trains(&self, t: usize, i: usize) -> bool {
        !self.periods[t].held_out && !self.held_out[i]
    }

    /// Whether the periods' prices differ: what identifies the preferences' scale.
    pub fn prices_vary(&self) -> bool {
        self.periods.windows(2).any(|w| {
            w[0].prices
                .iter()
                .zip(&w[1].prices)
                .any(|(a, b)| (a - b).abs() > 1e-12 * a.abs().max(1.0))
        })
    }
}

/// Fit of flows to observations on a set of users' cells.
#[derive(Clone, Debug, Serialize)]
pub struct Fit {
    pub cells: usize,
    pub r2: f64,
    /// Mean absolute error per cell, mtok per period.
    pub mae: f64,
}

/// R² and MAE of the `predicted` flows of each period against the observed ones, over the
/// (period, user) rows `which` selects.
pub fn fit_of(predicted: &[Matrix], obs: &Observed, which: impl Fn(usize, usize) -> bool) -> Fit {
    let mut cells = Vec::new();
    for (t, (p, period)) in predicted.iter().zip(&obs.periods).enumerate() {
        let observed = &period.flows;
        for i in (0..observed.rows).filter(|&i| which(t, i)) {
            for j in 0..observed.cols {
                cells.push((p.get(i, j), observed.get(i, j)));
            }
        }
    }
    let n = cells.len().max(1) as f64;
    let mean = cells.iter().map(|c| c.1).sum::<f64>() / n;
    let ss_res: f64 = cells.iter().map(|(p, o)| (p - o).powi(2)).sum();
    let ss_tot: f64 = cells.iter().map(|(_, o)| (o - mean).powi(2)).sum();
    Fit {
        cells: cells.len(),
        r2: if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            f64::NAN
        },
        mae: cells.iter().map(|(p, o)| (p - o).abs()).sum::<f64>() / n,
    }
}

/// Flows observed at the market's own prices (its `table observed`) must add up to each
/// user's declared demand (within 1e-6): the market and its observations describe the same
/// period.
pub fn matches_demand(inst: &Instance, flows: &Matrix) -> Result<(), RuntimeError> {
    for i in 0..inst.n_users().min(flows.rows) {
        let total: f64 = flows.row(i).iter().sum();
        if (total - inst.demand[i]).abs() > 1e-6 * inst.demand[i] {
            return Err(RuntimeError::BadInstance(format!(
                "the observed flows of `{}` add up to {total} mtok, its demand is {} mtok",
                inst.users[i].name, inst.demand[i]
            )));
        }
    }
    Ok(())
}

/// Checks observations against the instance: sizes, finite non-negative flows and prices,
/// a positive total for every user in every period, no pure chooser.
pub fn validate(inst: &Instance, obs: &Observed) -> Result<(), RuntimeError> {
    let (n, m) = (inst.n_users(), inst.n_providers());
    let bad = |s: String| Err(RuntimeError::BadInstance(s));
    if obs.periods.is_empty() {
        return bad("no observed period".into());
    }
    if obs.held_out.len() != n {
        return bad(format!(
            "{} held-out flags for {n} users",
            obs.held_out.len()
        ));
    }
    if inst.users.iter().any(|u| u.chooser) {
        return bad("calibration needs every user to weigh congestion (no `chooser`)".into());
    }
    for period in &obs.periods {
        let when = &period.name;
        if period.flows.rows != n || period.flows.cols != m || period.prices.len() != m {
            return bad(format!(
                "period `{when}`: observed flows are {} × {}, the market has {n} users × {m} providers",
                period.flows.rows, period.flows.cols
            ));
        }
        if let Some(j) =
            (0..m).find(|&j| !(period.prices[j].is_finite() && period.prices[j] >= 0.0))
        {
            return bad(format!(
                "period `{when}`: the price of `{}` is {}",
                inst.providers[j].name, period.prices[j]
            ));
        }
        for i in 0..n {
            let name = &inst.users[i].name;
            let row = period.flows.row(i);
            if let Some(j) = row.iter().position(|f| !(f.is_finite() && *f >= 0.0)) {
                return bad(format!(
                    "period `{when}`: the observed flow of `{name}` to `{}` is {}",
                    inst.providers[j].name, row[j]
                ));
            }
            if row.iter().sum::<f64>() <= 0.0 {
                return bad(format!("period `{when}`: `{name}` has no observed flow"));
            }
        }
    }
    if !(0..obs.periods.len()).any(|t| (0..n).any(|i| obs.trains(t, i))) {
        return bad("every user or every period is held out: nothing to fit".into());
    }
    Ok(())
}
