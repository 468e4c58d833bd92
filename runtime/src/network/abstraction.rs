//! The abstract market of MODEL.md §6: the target provider and K rivals standing for all
//! of them. Given two positive scores per rival, the K − 1 rivals with the highest
//! `score_avg` are kept as they are, and the rest merge into one representative rival with
//!
//! * capacity `Σ score_sum_j · α_j` (capacity adds up),
//! * price, per-user values and per-user QoS values as `score_avg`-weighted averages.
//!
//! The target then prices exactly against the abstract market, and the price is
//! re-simulated in the full market. The paper's baselines build the abstract market without
//! scores: MIN keeps the K cheapest rivals (the others vanish), AVG replaces all rivals by
//! K identical copies of their average with a K-th of their capacity each.

use prillm_compiler::lower::{DecisionInfo, Instance, Matrix, ProviderInfo};
use serde::Serialize;

use crate::error::RuntimeError;

/// An abstract market and which rivals of the full market it kept or merged.
#[derive(Clone, Debug)]
pub struct Abstraction {
    /// The target first (index 0), then the kept rivals, then the representative.
    pub instance: Instance,
    pub kept: Vec<usize>,
    pub merged: Vec<usize>,
}

/// A rival's part in a column of the abstract market: (provider, weight of its price, values
/// and QoS, weight of its capacity).
pub(crate) type Share = (usize, f64, f64);

/// How the rivals are reduced.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// Keep the K − 1 best by `avg`, merge the rest (weights `avg`, capacity by `sum`).
    Scores { sum: Vec<f64>, avg: Vec<f64> },
    /// Keep the K cheapest rivals; drop the rest.
    Min,
    /// K identical copies of the rivals' plain average, each with a K-th of their capacity.
    Avg,
}

/// The target's market reduced to `k` rivals. `scores` are per provider of the full market
/// (the target's entries are ignored). Only the target's own decision and objective remain.
pub fn abstract_market(
    inst: &Instance,
    target: usize,
    k: usize,
    how: &Reduction,
) -> Result<Abstraction, RuntimeError> {
    let m = inst.n_providers();
    let rivals: Vec<usize> = (0..m).filter(|&j| j != target).collect();
    if k == 0 || rivals.len() < k {
        return Err(RuntimeError::BadInstance(format!(
            "{} rivals cannot be reduced to K = {k}",
            rivals.len()
        )));
    }
    let decision = inst
        .decisions
        .iter()
        .find(|d| d.provider == target)
        .ok_or_else(|| RuntimeError::BadInstance("the target's price is not decided".into()))?;
    let (kept, merged, parts): (Vec<usize>, Vec<usize>, Vec<Vec<Share>>) = match how {
        Reduction::Scores { sum, avg } => {
            if sum.len() != m
                || avg.len() != m
                || rivals.iter().any(|&j| !(sum[j] >= 0.0 && avg[j] > 0.0))
            {
                return Err(RuntimeError::BadInstance(
                    "scores must be given for every provider, score_sum ≥ 0 and score_avg > 0"
                        .into(),
                ));
            }
            let mut order = rivals.clone();
            order.sort_by(|&a, &b| avg[b].total_cmp(&avg[a]).then(a.cmp(&b)));
            let kept: Vec<usize> = order[..k - 1].to_vec();
            let merged: Vec<usize> = order[k - 1..].to_vec();
            let total: f64 = merged.iter().map(|&j| avg[j]).sum();
            // One representative: (provider, price-etc. weight, capacity weight).
            let part = merged
                .iter()
                .map(|&j| (j, avg[j] / total, sum[j]))
                .collect();
            (kept, merged, vec![part])
        }
        Reduction::Min => {
            let mut order = rivals.clone();
            order.sort_by(|&a, &b| inst.price[a].total_cmp(&inst.price[b]).then(a.cmp(&b)));
            (order[..k].to_vec(), Vec::new(), Vec::new())
        }
        Reduction::Avg => {
            let w = 1.0 / rivals.len() as f64;
            let part: Vec<Share> = rivals.iter().map(|&j| (j, w, 1.0 / k as f64)).collect();
            (Vec::new(), rivals.clone(), vec![part; k])
        }
    };
    let instance = assemble(inst, target, decision, &kept, &parts)?;
    Ok(Abstraction {
        instance,
        kept,
        merged,
    })
}

/// The target's market with the given columns: the target first (index 0, its firm's only
/// provider and decision), then each kept rival as it is, then one column per part (a
/// weighted combination of rivals). A rival may be kept twice (scenarios add copies).
pub(crate) fn assemble(
    inst: &Instance,
    target: usize,
    decision: &DecisionInfo,
    kept: &[usize],
    parts: &[Vec<Share>],
) -> Result<Instance, RuntimeError> {
    let n = inst.n_users();
    let count = 1 + kept.len() + parts.len();
    let mut out = inst.clone();
    out.providers = Vec::with_capacity(count);
    out.price = Vec::with_capacity(count);
    out.capacity = Vec::with_capacity(count);
    out.cost = Vec::with_capacity(count);
    out.value = Matrix::filled(n, count, 0.0);
    out.qos_values = vec![Matrix::filled(n, count, 0.0); inst.qos.len()];
    let column = |out: &mut Instance, c: usize, from: &[Share], name: String| {
        out.providers.push(ProviderInfo {
            name,
            firm: None,
            capacity_rule: "given".into(),
        });
        out.price
            .push(from.iter().map(|&(j, w, _)| w * inst.price[j]).sum());
        out.capacity
            .push(from.iter().map(|&(j, _, s)| s * inst.capacity[j]).sum());
        out.cost
            .push(from.iter().map(|&(j, w, _)| w * inst.cost[j]).sum());
        for i in 0..n {
            out.value.set(
                i,
                c,
                from.iter().map(|&(j, w, _)| w * inst.value.get(i, j)).sum(),
            );
            for (q, values) in inst.qos_values.iter().enumerate() {
                let v = from.iter().map(|&(j, w, _)| w * values.get(i, j)).sum();
                out.qos_values[q].set(i, c, v);
            }
        }
    };
    column(
        &mut out,
        0,
        &[(target, 1.0, 1.0)],
        inst.providers[target].name.clone(),
    );
    out.providers[0].firm = Some(0);
    out.cost[0] = inst.cost[target];
    for (c, &j) in kept.iter().enumerate() {
        column(
            &mut out,
            1 + c,
            &[(j, 1.0, 1.0)],
            inst.providers[j].name.clone(),
        );
    }
    for (r, part) in parts.iter().enumerate() {
        column(
            &mut out,
            1 + kept.len() + r,
            part,
            format!("representative#{}", r + 1),
        );
    }
    if out.capacity.iter().any(|&a| !(a > 0.0 && a.is_finite())) {
        return Err(RuntimeError::BadInstance(
            "a representative rival has no capacity (all its score_sum are 0)".into(),
        ));
    }
    let firm = decision.firm;
    out.firms = vec![prillm_compiler::lower::FirmInfo {
        name: inst.firms[firm].name.clone(),
        providers: vec![0],
    }];
    out.decisions = vec![prillm_compiler::lower::DecisionInfo {
        provider: 0,
        firm: 0,
        ..decision.clone()
    }];
    out.objectives = inst
        .objectives
        .iter()
        .filter(|o| o.firm == firm)
        .map(|o| prillm_compiler::lower::ObjectiveInfo {
            firm: 0,
            maximize: o.maximize.clone(),
        })
        .collect();
    out.constraints = Vec::new();
    out.observed = None;
    out.observed_periods = None;
    out.learned = None;
    Ok(out)
}
