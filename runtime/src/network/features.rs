//! Rival features as network input: normalised with the training set's statistics and
//! padded into one `[markets, rivals, features]` batch with a padding mask.

use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Per-feature mean and standard deviation of the training rivals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Normalisation {
    /// The statistics of every row of every market.
    pub fn fit<'a>(markets: impl Iterator<Item = &'a Vec<Vec<f64>>>, features: usize) -> Self {
        let (mut sum, mut sq, mut count) = (vec![0.0; features], vec![0.0; features], 0usize);
        for row in markets.flatten() {
            for (f, v) in row.iter().enumerate() {
                sum[f] += v;
                sq[f] += v * v;
            }
            count += 1;
        }
        let count = count.max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(q, m)| (q / count - m * m).max(0.0).sqrt().max(1e-6))
            .collect();
        Normalisation { mean, std }
    }

    fn apply(&self, f: usize, v: f64) -> f32 {
        ((v - self.mean[f]) / self.std[f]) as f32
    }
}

/// One batch of markets' rivals; `padding` is `None` when all have as many rivals.
pub fn batch<B: Backend>(
    markets: &[&Vec<Vec<f64>>],
    norm: &Normalisation,
    device: &B::Device,
) -> (Tensor<B, 3>, Option<Tensor<B, 2, Bool>>) {
    let features = norm.mean.len();
    let widest = markets.iter().map(|m| m.len()).max().unwrap_or(0);
    let mut values = vec![0.0f32; markets.len() * widest * features];
    let mut pad = vec![true; markets.len() * widest];
    for (b, rows) in markets.iter().enumerate() {
        for (r, row) in rows.iter().enumerate() {
            pad[b * widest + r] = false;
            for (f, &v) in row.iter().enumerate() {
                values[(b * widest + r) * features + f] = norm.apply(f, v);
            }
        }
    }
    let x = Tensor::from_data(
        TensorData::new(values, [markets.len(), widest, features]),
        device,
    );
    let padding = pad
        .iter()
        .any(|&p| p)
        .then(|| Tensor::from_data(TensorData::new(pad, [markets.len(), widest]), device));
    (x, padding)
}
