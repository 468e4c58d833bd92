//! The profit-curve loss of MODEL.md (5) for one scenario,
//!
//! ```text
//! L(φ) = (1/L) Σ_k ((Y_k − Ŷ_k(φ)) / max_k |Y_k|)²,
//! ```
//!
//! as a tensor of the network's scores, so that burn's autodiff carries its gradient into
//! the network. The merge is written in tensor operations (weights `score_avg / Σ score_avg`
//! over the merged rivals, capacity `Σ score_sum · α`, each user's cost of the
//! representative the weighted average of its costs of the merged rivals). The abstract
//! game's curve enters linearised at the current scores: `Ŷ = Ŷ₀ + J (θ − θ₀)`, with `Ŷ₀`
//! and `J = ∂Ŷ/∂θ` from [`super::game::abstract_curve`]; its value is `Ŷ₀` and its gradient
//! `J`, which is all backpropagation needs. Which rivals are kept is a discrete choice of
//! the scores and carries no gradient.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};

use super::abstraction::{abstract_market, Abstraction, Reduction};
use super::game::{abstract_curve, Curve};
use super::scenario::Scenario;
use crate::error::RuntimeError;

/// The abstract market of a scenario (target 0) under per-rival scores.
pub fn abstraction_of(
    scn: &Scenario,
    k: usize,
    sum: &[f64],
    avg: &[f64],
) -> Result<Abstraction, RuntimeError> {
    // abstract_market takes scores per provider; the target's entries are ignored.
    let full = |s: &[f64]| std::iter::once(1.0).chain(s.iter().copied()).collect();
    abstract_market(
        &scn.instance,
        0,
        k,
        &Reduction::Scores {
            sum: full(sum),
            avg: full(avg),
        },
    )
}

/// The scale of (5): the largest true profit (1 when the target earns nothing anywhere).
fn scale(truth: &[f64]) -> f64 {
    let s = truth.iter().fold(0.0f64, |a, y| a.max(y.abs()));
    if s > 0.0 {
        s
    } else {
        1.0
    }
}

/// (5) in plain numbers, from an abstract curve.
pub fn curve_loss(truth: &[f64], profits: &[f64]) -> f64 {
    let s = scale(truth);
    truth
        .iter()
        .zip(profits)
        .map(|(y, yh)| ((y - yh) / s).powi(2))
        .sum::<f64>()
        / truth.len().max(1) as f64
}

/// (5) of a scenario under scores, by solving its abstract market exactly.
pub fn exact_loss(scn: &Scenario, k: usize, sum: &[f64], avg: &[f64]) -> Result<f64, RuntimeError> {
    let abs = abstraction_of(scn, k, sum, avg)?;
    let curve = abstract_curve(&abs.instance, &scn.candidates)?;
    Ok(curve_loss(&scn.truth, &curve.profits))
}

/// (5) of one scenario as a tensor of its rivals' scores (`[rivals]` each), given the
/// abstract market and curve those scores define.
pub fn tensor_loss<B: Backend>(
    scn: &Scenario,
    sum: Tensor<B, 1>,
    avg: Tensor<B, 1>,
    merged: &[usize],
    curve: &Curve,
) -> Tensor<B, 1> {
    let device = sum.device();
    let n = scn.instance.n_users();
    let l = scn.candidates.len();
    let count = merged.len();
    // Merged rivals as rows of the scenario's rival arrays (provider j is rival j − 1).
    let rows: Vec<i64> = merged.iter().map(|&j| j as i64 - 1).collect();
    let index = Tensor::<B, 1, Int>::from_data(TensorData::new(rows, [count]), &device);
    let sum = sum.select(0, index.clone());
    let avg = avg.select(0, index);
    let weights = avg.clone() / avg.sum();
    let capacities: Vec<f32> = merged
        .iter()
        .map(|&j| scn.instance.capacity[j] as f32)
        .collect();
    let capacity = (sum * Tensor::from_data(TensorData::new(capacities, [count]), &device)).sum();
    let costs: Vec<f32> = (0..n)
        .flat_map(|i| merged.iter().map(move |&j| scn.costs[i][j - 1] as f32))
        .collect();
    let costs = Tensor::<B, 2>::from_data(TensorData::new(costs, [n, count]), &device);
    let rep_costs = costs.matmul(weights.reshape([count, 1])).reshape([n]);
    let theta = Tensor::cat(vec![rep_costs, capacity], 0);
    let delta = theta.clone() - theta.detach();
    let jac: Vec<f32> = curve
        .gradients
        .iter()
        .flat_map(|g| g.iter().map(|&v| v as f32))
        .collect();
    let jac = Tensor::<B, 2>::from_data(TensorData::new(jac, [l, n + 1]), &device);
    let profits =
        constant(&curve.profits, &device) + jac.matmul(delta.reshape([n + 1, 1])).reshape([l]);
    let s = scale(&scn.truth);
    let truth: Vec<f64> = scn.truth.iter().map(|y| y / s).collect();
    (constant(&truth, &device) - profits / s)
        .powf_scalar(2.0)
        .mean()
}

fn constant<B: Backend>(values: &[f64], device: &B::Device) -> Tensor<B, 1> {
    let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(v, [values.len()]), device)
}
