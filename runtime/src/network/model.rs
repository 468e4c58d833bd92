//! The aggregation network of MODEL.md §6: rival features → an embedding → a stack of Set
//! Attention Blocks (multi-head self-attention over the set of rivals, residual, layer norm,
//! a feed-forward layer, residual, layer norm) → two positive heads, `score_sum` and
//! `score_avg`. No positional encoding, so the scores are permutation-equivariant: permuting
//! the rivals permutes their scores. Padded rivals of a batch are masked out of attention.
//!
//! Parameters are drawn from a ChaCha generator of the training seed (Xavier-uniform weights,
//! zero biases, unit layer-norm gains), not from the backend's global generator, so the same
//! seed gives the same network whatever else runs in the process.

use burn::module::{Initializer, Module, ModuleMapper, Param};
use burn::nn::attention::{MhaInput, MultiHeadAttention, MultiHeadAttentionConfig};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::{relu, softplus};
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Tensor, TensorData};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::synthetic::uniform;

/// The network's shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetConfig {
    pub features: usize,
    pub d_model: usize,
    pub heads: usize,
    pub blocks: usize,
}

impl NetConfig {
    pub fn new(features: usize) -> Self {
        NetConfig {
            features,
            d_model: 32,
            heads: 4,
            blocks: 2,
        }
    }

    /// A network of this shape with parameters drawn from `seed`.
    pub fn init<B: Backend>(&self, seed: u64, device: &B::Device) -> AggregationNet<B> {
        let linear = |i, o| {
            LinearConfig::new(i, o)
                .with_initializer(Initializer::Zeros)
                .init(device)
        };
        let net = AggregationNet {
            embed: linear(self.features, self.d_model),
            blocks: (0..self.blocks)
                .map(|_| SetAttentionBlock {
                    attention: MultiHeadAttentionConfig::new(self.d_model, self.heads)
                        .with_dropout(0.0)
                        .with_initializer(Initializer::Zeros)
                        .init(device),
                    norm_attention: LayerNormConfig::new(self.d_model).init(device),
                    feed_in: linear(self.d_model, 2 * self.d_model),
                    feed_out: linear(2 * self.d_model, self.d_model),
                    norm_feed: LayerNormConfig::new(self.d_model).init(device),
                })
                .collect(),
            head_sum: linear(self.d_model, 1),
            head_avg: linear(self.d_model, 1),
        };
        net.map(&mut SeededXavier {
            rng: ChaCha8Rng::seed_from_u64(seed),
        })
    }
}

/// Multi-head self-attention over the set, then a feed-forward layer, each with a residual
/// connection and layer norm (Lee et al. 2019's SAB, post-norm).
#[derive(Module, Debug)]
pub struct SetAttentionBlock<B: Backend> {
    attention: MultiHeadAttention<B>,
    norm_attention: LayerNorm<B>,
    feed_in: Linear<B>,
    feed_out: Linear<B>,
    norm_feed: LayerNorm<B>,
}

impl<B: Backend> SetAttentionBlock<B> {
    fn forward(&self, x: Tensor<B, 3>, padding: Option<Tensor<B, 2, Bool>>) -> Tensor<B, 3> {
        let mut input = MhaInput::self_attn(x.clone());
        if let Some(mask) = padding {
            input = input.mask_pad(mask);
        }
        let h = self
            .norm_attention
            .forward(x + self.attention.forward(input).context);
        let fed = self.feed_out.forward(relu(self.feed_in.forward(h.clone())));
        self.norm_feed.forward(h + fed)
    }
}

#[derive(Module, Debug)]
pub struct AggregationNet<B: Backend> {
    embed: Linear<B>,
    blocks: Vec<SetAttentionBlock<B>>,
    head_sum: Linear<B>,
    head_avg: Linear<B>,
}

/// The two scores of every rival of a batch, `[markets, rivals]` each.
pub struct Scores<B: Backend> {
    pub sum: Tensor<B, 2>,
    pub avg: Tensor<B, 2>,
}

impl<B: Backend> AggregationNet<B> {
    /// `features`: `[markets, rivals, features]`, normalised; `padding`: `[markets, rivals]`,
    /// true where a market has fewer rivals than the batch.
    pub fn forward(
        &self,
        features: Tensor<B, 3>,
        padding: Option<Tensor<B, 2, Bool>>,
    ) -> Scores<B> {
        let mut x = self.embed.forward(features);
        for block in &self.blocks {
            x = block.forward(x, padding.clone());
        }
        // Softplus keeps both scores positive; the floor keeps weights away from 0.
        let head = |h: &Linear<B>| softplus(h.forward(x.clone()), 1.0).squeeze_dim::<2>(2) + 1e-4;
        Scores {
            sum: head(&self.head_sum),
            avg: head(&self.head_avg),
        }
    }
}

/// Fills every weight matrix with Xavier-uniform draws of its own generator; vectors
/// (biases, layer-norm gains and shifts) keep their deterministic initial values.
struct SeededXavier {
    rng: ChaCha8Rng,
}

impl<B: Backend> ModuleMapper<B> for SeededXavier {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        if D != 2 {
            return param;
        }
        let rng = &mut self.rng;
        param.map(|tensor| {
            let dims = tensor.dims();
            let bound = (6.0 / (dims[0] + dims[1]) as f64).sqrt();
            let values: Vec<f32> = (0..dims.iter().product::<usize>())
                .map(|_| uniform(rng, -bound, bound) as f32)
                .collect();
            let fresh = Tensor::from_data(TensorData::new(values, dims), &tensor.device());
            if tensor.is_require_grad() {
                fresh.require_grad()
            } else {
                fresh
            }
        })
    }
}
