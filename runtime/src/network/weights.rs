//! A trained network on disk: `NAME.mpk` (burn's named MessagePack recorder, full precision)
//! and beside it `NAME.json`, the hyper-parameters a loader must agree with — the feature
//! layout, K, the network's shape, the feature normalisation — and how it was trained.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use burn::tensor::backend::Backend;
use prillm_compiler::lower::plan::{FEATURES, LAYOUT};
use serde::{Deserialize, Serialize};

use super::features::Normalisation;
use super::model::{AggregationNet, NetConfig};

pub const FORMAT: &str = "prillm-aggregation-network";
pub const VERSION: u32 = 1;

/// Everything about a weights file but the weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub format: String,
    pub version: u32,
    pub layout: String,
    pub features: Vec<String>,
    pub k: usize,
    /// Candidate prices per profit curve in training.
    pub candidates: usize,
    pub config: NetConfig,
    pub normalisation: Normalisation,
    pub training: TrainingSummary,
}

/// How the weights were obtained (reported, not checked).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    pub market: String,
    pub seed: u64,
    pub scenarios_train: usize,
    pub scenarios_validation: usize,
    pub epochs_run: usize,
    pub best_epoch: usize,
    pub initial_validation_loss: f64,
    pub best_validation_loss: f64,
}

/// Why a weights file cannot be used.
#[derive(Debug)]
pub enum WeightsError {
    Missing(PathBuf),
    Unreadable(PathBuf, String),
    Incompatible(PathBuf, String),
}

impl std::fmt::Display for WeightsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WeightsError::Missing(p) => write!(f, "no weights file `{}`", p.display()),
            WeightsError::Unreadable(p, why) => write!(f, "cannot read `{}`: {why}", p.display()),
            WeightsError::Incompatible(p, why) => {
                write!(f, "the weights `{}` do not fit: {why}", p.display())
            }
        }
    }
}

impl std::error::Error for WeightsError {}

/// `W.mpk` and `W.json` for a path given as `W` or `W.mpk`.
pub fn paths(path: &Path) -> (PathBuf, PathBuf) {
    let stem = if path.extension().is_some_and(|e| e == "mpk") {
        path.with_extension("")
    } else {
        path.to_path_buf()
    };
    let mut mpk = stem.clone().into_os_string();
    mpk.push(".mpk");
    let mut json = stem.into_os_string();
    json.push(".json");
    (mpk.into(), json.into())
}

fn recorder() -> NamedMpkFileRecorder<FullPrecisionSettings> {
    NamedMpkFileRecorder::new()
}

/// Writes the network and its hyper-parameters.
pub fn save<B: Backend>(
    net: AggregationNet<B>,
    meta: &Meta,
    path: &Path,
) -> Result<(), WeightsError> {
    let (mpk, json) = paths(path);
    net.save_file(mpk.clone(), &recorder())
        .map_err(|e| WeightsError::Unreadable(mpk, e.to_string()))?;
    let text = serde_json::to_string_pretty(meta).expect("meta serialises");
    std::fs::write(&json, text + "\n").map_err(|e| WeightsError::Unreadable(json, e.to_string()))
}

/// Reads a network saved by [`save`], checking that it fits this build's features and, when
/// given, the K the market asks for.
pub fn load<B: Backend>(
    path: &Path,
    k: Option<usize>,
    device: &B::Device,
) -> Result<(AggregationNet<B>, Meta), WeightsError> {
    let (mpk, json) = paths(path);
    if !mpk.exists() {
        return Err(WeightsError::Missing(mpk));
    }
    let text = std::fs::read_to_string(&json).map_err(|e| {
        WeightsError::Unreadable(
            json.clone(),
            format!("{e} (the hyper-parameters are written beside the weights by `prillm train`)"),
        )
    })?;
    let meta: Meta = serde_json::from_str(&text)
        .map_err(|e| WeightsError::Unreadable(json.clone(), e.to_string()))?;
    let incompatible = |why: String| Err(WeightsError::Incompatible(mpk.clone(), why));
    if meta.format != FORMAT || meta.version != VERSION {
        return incompatible(format!(
            "it is `{}` version {}, this build reads `{FORMAT}` version {VERSION}",
            meta.format, meta.version
        ));
    }
    if meta.layout != LAYOUT || meta.features != FEATURES {
        return incompatible(format!(
            "it was trained on feature layout `{}` ({}), this build computes `{LAYOUT}` ({})",
            meta.layout,
            meta.features.join(", "),
            FEATURES.join(", ")
        ));
    }
    if meta.config.features != FEATURES.len()
        || meta.normalisation.mean.len() != FEATURES.len()
        || meta.normalisation.std.len() != FEATURES.len()
    {
        return incompatible("its shape does not match its feature layout".into());
    }
    if let Some(k) = k {
        if k != meta.k {
            return incompatible(format!(
                "it was trained for K = {}, the market asks for K = {k}; train with `--k {k}`",
                meta.k
            ));
        }
    }
    let net = meta.config.init::<B>(0, device);
    // A record of another shape makes burn panic; turn that into a diagnostic.
    let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        net.load_file(mpk.clone(), &recorder(), device)
    }));
    match loaded {
        Ok(Ok(net)) => Ok((net, meta)),
        Ok(Err(e)) => Err(WeightsError::Unreadable(mpk, e.to_string())),
        Err(_) => {
            incompatible("its tensors do not have the shapes its hyper-parameters give".into())
        }
    }
}
