//! Draws from preference distributions, reproducible on every platform.
//!
//! The stream is ChaCha8 seeded with the segment's seed; uniforms are built from its 64-bit
//! words, and the transforms (Box–Muller, inverse CDFs) use the `libm` crate rather than the
//! platform's math library, so the same file gives bit-identical draws everywhere. (A
//! distribution crate would switch to the platform's `ln`/`exp` as soon as any other crate in
//! the build enabled its `std` math feature.)

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

use crate::check::{Dist, DistKind};

pub struct Sampler {
    rng: ChaCha8Rng,
}

impl Sampler {
    pub fn new(seed: u64) -> Self {
        Sampler {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// A uniform draw in the open interval (0, 1).
    fn open01(&mut self) -> f64 {
        ((self.rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    fn standard_normal(&mut self) -> f64 {
        let (u1, u2) = (self.open01(), self.open01());
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
    }

    /// One draw, in canonical units.
    pub fn draw(&mut self, d: &Dist) -> f64 {
        let x = match &d.kind {
            DistKind::Normal { mu, sigma } => mu + sigma * self.standard_normal(),
            DistKind::Lognormal { mu, sigma } => libm::exp(mu + sigma * self.standard_normal()),
            DistKind::Uniform { lo, hi } => lo + (hi - lo) * self.open01(),
            DistKind::Gumbel { mu, beta } => mu - beta * libm::log(-libm::log(self.open01())),
            DistKind::Discrete { values, probs } => {
                let u = self.open01();
                let mut acc = 0.0;
                let mut pick = values[values.len() - 1];
                for (v, p) in values.iter().zip(probs) {
                    acc += p;
                    if u < acc {
                        pick = *v;
                        break;
                    }
                }
                pick
            }
        };
        x * d.scale
    }
}
