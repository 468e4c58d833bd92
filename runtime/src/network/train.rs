//! Training the aggregation network on scenarios: Adam on the loss (5), mini-batches of
//! scenarios in one padded network pass, the abstract games of a batch solved in parallel
//! (rayon), a validation split, early stopping, and the best epoch's network kept.
//! Everything random is drawn from the seed, so the same seed gives the same weights.

use burn::backend::{Autodiff, NdArray};
use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use prillm_compiler::lower::plan::{FEATURES, LAYOUT};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::Serialize;

use super::features::{batch, Normalisation};
use super::game::{abstract_curve, Curve};
use super::loss::{abstraction_of, curve_loss, tensor_loss};
use super::model::{AggregationNet, NetConfig, Scores};
use super::scenario::Scenario;
use super::weights::{Meta, TrainingSummary, FORMAT, VERSION};
use crate::error::RuntimeError;

/// The CPU backend, and with gradients for training.
pub type Cpu = NdArray<f32>;
pub type CpuTraining = Autodiff<Cpu>;

#[derive(Clone, Debug)]
pub struct TrainOptions {
    pub k: usize,
    pub epochs: usize,
    pub batch: usize,
    pub learning_rate: f64,
    /// Share of the scenarios held out for validation and early stopping.
    pub validation: f64,
    /// Epochs without a better validation loss before stopping.
    pub patience: usize,
    pub seed: u64,
    pub config: NetConfig,
}

impl TrainOptions {
    pub fn new(k: usize, epochs: usize, seed: u64) -> Self {
        TrainOptions {
            k,
            epochs,
            batch: 16,
            learning_rate: 1e-3,
            validation: 0.2,
            patience: 12,
            seed,
            config: NetConfig::new(FEATURES.len()),
        }
    }
}

/// One epoch's losses (mean of (5) over the scenarios).
#[derive(Clone, Debug, Serialize)]
pub struct Epoch {
    pub epoch: usize,
    pub train_loss: f64,
    pub validation_loss: f64,
}

/// The trained network (on the CPU backend) and its hyper-parameters.
pub struct Trained {
    pub net: AggregationNet<Cpu>,
    pub meta: Meta,
    pub epochs: Vec<Epoch>,
}

/// Scores of every rival of each market, from one padded network pass.
pub fn scores<B: Backend>(
    net: &AggregationNet<B>,
    markets: &[&Vec<Vec<f64>>],
    norm: &Normalisation,
    device: &B::Device,
) -> Vec<(Vec<f64>, Vec<f64>)> {
    let (x, padding) = batch::<B>(markets, norm, device);
    split(&net.forward(x, padding), markets)
}

/// Each market's `(score_sum, score_avg)` rows of a padded batch's scores.
fn split<B: Backend>(out: &Scores<B>, markets: &[&Vec<Vec<f64>>]) -> Vec<(Vec<f64>, Vec<f64>)> {
    let widest = markets.iter().map(|m| m.len()).max().unwrap_or(0);
    let read = |t: &Tensor<B, 2>| -> Vec<f64> {
        t.to_data()
            .to_vec::<f32>()
            .expect("float scores")
            .into_iter()
            .map(f64::from)
            .collect()
    };
    let (sum, avg) = (read(&out.sum), read(&out.avg));
    markets
        .iter()
        .enumerate()
        .map(|(b, m)| {
            let rows = b * widest..b * widest + m.len();
            (sum[rows.clone()].to_vec(), avg[rows].to_vec())
        })
        .collect()
}

/// Mean (5) over scenarios with the network's scores, each abstract market solved exactly.
pub fn mean_loss<B: Backend>(
    net: &AggregationNet<B>,
    scenarios: &[Scenario],
    k: usize,
    norm: &Normalisation,
    device: &B::Device,
) -> Result<f64, RuntimeError> {
    let mut total = 0.0;
    for chunk in scenarios.chunks(64) {
        let feats: Vec<&Vec<Vec<f64>>> = chunk.iter().map(|s| &s.features).collect();
        let scored = scores(net, &feats, norm, device);
        let losses: Vec<Result<f64, RuntimeError>> = chunk
            .par_iter()
            .zip(&scored)
            .map(|(s, (sum, avg))| super::loss::exact_loss(s, k, sum, avg))
            .collect();
        for l in losses {
            total += l?;
        }
    }
    Ok(total / scenarios.len().max(1) as f64)
}

/// Trains on `scenarios` (split into training and validation by the seed). `market` names
/// what they were drawn from, for the hyper-parameter file.
pub fn train(
    scenarios: &[Scenario],
    market: &str,
    opts: &TrainOptions,
    mut on_epoch: impl FnMut(&Epoch),
) -> Result<Trained, RuntimeError> {
    if let Some(s) = scenarios.iter().find(|s| s.rivals() < opts.k) {
        return Err(RuntimeError::BadInstance(format!(
            "a scenario has {} rivals, fewer than K = {}",
            s.rivals(),
            opts.k
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut order: Vec<usize> = (0..scenarios.len()).collect();
    shuffle(&mut order, &mut rng);
    let held = ((scenarios.len() as f64 * opts.validation).round() as usize).clamp(
        usize::from(scenarios.len() > 1),
        scenarios.len().saturating_sub(1),
    );
    let validation: Vec<Scenario> = order[..held]
        .iter()
        .map(|&s| scenarios[s].clone())
        .collect();
    let training: Vec<usize> = order[held..].to_vec();
    if training.is_empty() {
        return Err(RuntimeError::BadInstance("no scenario to train on".into()));
    }
    let norm = Normalisation::fit(
        training.iter().map(|&s| &scenarios[s].features),
        FEATURES.len(),
    );
    let device = Default::default();
    let mut net = opts.config.init::<CpuTraining>(opts.seed, &device);
    let mut optim = AdamConfig::new().init::<CpuTraining, AggregationNet<CpuTraining>>();
    let inference = Default::default();
    let initial = mean_loss(&net.valid(), &validation, opts.k, &norm, &inference)?;
    let (mut best, mut best_net, mut best_epoch) = (initial, net.valid(), 0);
    let mut epochs = Vec::new();
    let mut order = training;
    for epoch in 1..=opts.epochs {
        // Batches of similar set sizes (little padding), in a random order.
        shuffle(&mut order, &mut rng);
        order.sort_by_key(|&s| scenarios[s].rivals());
        let mut batches: Vec<&[usize]> = order.chunks(opts.batch.max(1)).collect();
        shuffle(&mut batches, &mut rng);
        let mut train_total = 0.0;
        for chunk in batches {
            let (loss, value) = batch_loss(&net, scenarios, chunk, opts.k, &norm, &device)?;
            train_total += value;
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(opts.learning_rate, net, grads);
        }
        let validation_loss = mean_loss(&net.valid(), &validation, opts.k, &norm, &inference)?;
        let log = Epoch {
            epoch,
            train_loss: train_total / order.len() as f64,
            validation_loss,
        };
        on_epoch(&log);
        epochs.push(log);
        if validation_loss < best {
            best = validation_loss;
            best_net = net.valid();
            best_epoch = epoch;
        } else if epoch - best_epoch >= opts.patience {
            break;
        }
    }
    let meta = Meta {
        format: FORMAT.into(),
        version: VERSION,
        layout: LAYOUT.into(),
        features: FEATURES.iter().map(|f| f.to_string()).collect(),
        k: opts.k,
        candidates: scenarios[0].candidates.len(),
        config: opts.config.clone(),
        normalisation: norm,
        training: TrainingSummary {
            market: market.into(),
            seed: opts.seed,
            scenarios_train: order.len(),
            scenarios_validation: validation.len(),
            epochs_run: epochs.len(),
            best_epoch,
            initial_validation_loss: initial,
            best_validation_loss: best,
        },
    };
    Ok(Trained {
        net: best_net,
        meta,
        epochs,
    })
}

/// The summed loss of a mini-batch as a tensor, and its value summed over scenarios.
fn batch_loss(
    net: &AggregationNet<CpuTraining>,
    scenarios: &[Scenario],
    chunk: &[usize],
    k: usize,
    norm: &Normalisation,
    device: &burn::backend::ndarray::NdArrayDevice,
) -> Result<(Tensor<CpuTraining, 1>, f64), RuntimeError> {
    let feats: Vec<&Vec<Vec<f64>>> = chunk.iter().map(|&s| &scenarios[s].features).collect();
    let (x, padding) = batch::<CpuTraining>(&feats, norm, device);
    let out = net.forward(x, padding);
    let values = split(&out, &feats);
    // The abstract games, in parallel: each scenario's merged rivals and curve.
    let games: Vec<Result<(Vec<usize>, Curve), RuntimeError>> = chunk
        .par_iter()
        .zip(&values)
        .map(|(&s, (sum, avg))| {
            let abs = abstraction_of(&scenarios[s], k, sum, avg)?;
            let curve = abstract_curve(&abs.instance, &scenarios[s].candidates)?;
            Ok((abs.merged, curve))
        })
        .collect();
    let mut total: Option<Tensor<CpuTraining, 1>> = None;
    let mut value = 0.0;
    for (b, (&s, game)) in chunk.iter().zip(games).enumerate() {
        let (merged, curve) = game?;
        let scn = &scenarios[s];
        value += curve_loss(&scn.truth, &curve.profits);
        let rivals = scn.rivals();
        let row =
            |t: &Tensor<CpuTraining, 2>| t.clone().slice([b..b + 1, 0..rivals]).reshape([rivals]);
        let loss = tensor_loss(scn, row(&out.sum), row(&out.avg), &merged, &curve);
        total = Some(match total {
            Some(t) => t + loss,
            None => loss,
        });
    }
    let total = total.ok_or_else(|| RuntimeError::BadInstance("an empty batch".into()))?;
    Ok((total / chunk.len() as f64, value))
}

/// Fisher–Yates with the training generator.
fn shuffle<T>(v: &mut [T], rng: &mut ChaCha8Rng) {
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}
