//! The aggregation network of MODEL.md §6: rival features → an embedding → a stack of
//! induced Set Attention Blocks → two positive heads, `score_sum` and `score_avg`.
//!
//! Each block is Lee et al. (2019)'s ISAB: `I` learned inducing points attend to the set of
//! rivals (a summary of it), then every rival attends to that summary; each attention is
//! followed by a residual, layer norm, a feed-forward layer, residual and layer norm (their
//! MAB). It is the Set Transformer's answer to large sets: O(n·I) instead of full
//! self-attention's O(n²), which is what keeps a 500-rival market a millisecond away. There
//! is no positional encoding, so the scores are permutation-equivariant: permuting the
//! rivals permutes their scores. Padded rivals of a batch are masked out of the summary.
//!
//! Parameters are drawn from a ChaCha generator of the training seed (Xavier-uniform weights
//! and inducing points, zero biases, unit layer-norm gains), not from the backend's global
//! generator, so the same seed gives the same network whatever else runs in the process.

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
    /// Inducing points of each block.
    pub inducing: usize,
}

impl NetConfig {
    /// The default shape: one ISAB block of width 16. In development runs of `prillm bench
    /// network` it scored about as well as two blocks of width 32 in half the time
    /// (docs/network.md).
    pub fn new(features: usize) -> Self {
        NetConfig {
            features,
            d_model: 16,
            heads: 2,
            blocks: 1,
            inducing: 4,
        }
    }

    /// A network of this shape with parameters drawn from `seed`.
    pub fn init<B: Backend>(&self, seed: u64, device: &B::Device) -> AggregationNet<B> {
        let linear = |i, o| {
            LinearConfig::new(i, o)
                .with_initializer(Initializer::Zeros)
                .init(device)
        };
        let attention_block = || AttentionBlock {
            attention: MultiHeadAttentionConfig::new(self.d_model, self.heads)
                .with_dropout(0.0)
                .with_initializer(Initializer::Zeros)
                .init(device),
            norm_attention: LayerNormConfig::new(self.d_model).init(device),
            feed_in: linear(self.d_model, 2 * self.d_model),
            feed_out: linear(2 * self.d_model, self.d_model),
            norm_feed: LayerNormConfig::new(self.d_model).init(device),
        };
        let net = AggregationNet {
            embed: linear(self.features, self.d_model),
            blocks: (0..self.blocks)
                .map(|_| SetAttentionBlock {
                    inducing: Param::from_tensor(Tensor::zeros(
                        [self.inducing.max(1), self.d_model],
                        device,
                    )),
                    summarise: attention_block(),
                    broadcast: attention_block(),
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

/// Lee et al.'s MAB: `query` attends to `context` (multi-head), then a feed-forward layer,
/// each with a residual connection and layer norm (post-norm). `padding` masks context rows.
#[derive(Module, Debug)]
pub struct AttentionBlock<B: Backend> {
    attention: MultiHeadAttention<B>,
    norm_attention: LayerNorm<B>,
    feed_in: Linear<B>,
    feed_out: Linear<B>,
    norm_feed: LayerNorm<B>,
}

impl<B: Backend> AttentionBlock<B> {
    fn forward(
        &self,
        query: Tensor<B, 3>,
        context: Tensor<B, 3>,
        padding: Option<Tensor<B, 2, Bool>>,
    ) -> Tensor<B, 3> {
        let mut input = MhaInput::new(query.clone(), context.clone(), context);
        if let Some(mask) = padding {
            input = input.mask_pad(mask);
        }
        let h = self
            .norm_attention
            .forward(query + self.attention.forward(input).context);
        let fed = self.feed_out.forward(relu(self.feed_in.forward(h.clone())));
        self.norm_feed.forward(h + fed)
    }
}

/// Lee et al.'s ISAB: the inducing points summarise the set, the set reads the summary.
#[derive(Module, Debug)]
pub struct SetAttentionBlock<B: Backend> {
    inducing: Param<Tensor<B, 2>>,
    summarise: AttentionBlock<B>,
    broadcast: AttentionBlock<B>,
}

impl<B: Backend> SetAttentionBlock<B> {
    fn forward(&self, x: Tensor<B, 3>, padding: Option<Tensor<B, 2, Bool>>) -> Tensor<B, 3> {
        let markets = x.dims()[0];
        let points = self
            .inducing
            .val()
            .unsqueeze_dim::<3>(0)
            .repeat_dim(0, markets);
        let summary = self.summarise.forward(points, x.clone(), padding);
        self.broadcast.forward(x, summary, None)
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
        let logit = |h: &Linear<B>| h.forward(x.clone()).squeeze_dim::<2>(2);
        // score_sum scales capacities: softplus, floored away from 0. score_avg weighs the
        // merge: an exponential, so that the merge is a softmax over the merged rivals and
        // can concentrate on a few of hundreds (softplus flattens out near 0 and cannot).
        Scores {
            sum: softplus(logit(&self.head_sum), 1.0) + 1e-4,
            avg: logit(&self.head_avg).clamp(-20.0, 20.0).exp(),
        }
    }
}

/// Fills every weight matrix (and the inducing points) with Xavier-uniform draws of its own
/// generator; vectors (biases, layer-norm gains and shifts) keep their initial values.
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
