//! Seeded random markets, for tests and benchmarks: prices, capacities, demands, values,
//! one static QoS (a delay) and its weight, and a firm deciding provider 0's price.

use prillm_compiler::lower::{
    DecisionInfo, FirmInfo, Instance, Matrix, ProviderInfo, QosInfo, UserInfo,
};
use rand_chacha::ChaCha8Rng;
use rand_core::Rng;

/// A uniform draw in [lo, hi).
pub fn uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A market of `n` users and `m` providers; the first `choosers` users ignore congestion.
pub fn market(n: usize, m: usize, choosers: usize, rng: &mut ChaCha8Rng) -> Instance {
    let mut value = Matrix::filled(n, m, 0.0);
    let mut delay = Matrix::filled(n, m, 0.0);
    let mut weights = Matrix::filled(n, 1, 0.0);
    for i in 0..n {
        weights.set(i, 0, uniform(rng, 0.0, 0.001));
        for j in 0..m {
            value.set(i, j, uniform(rng, 0.0, 3.0));
            delay.set(i, j, uniform(rng, 100.0, 3000.0));
        }
    }
    Instance {
        market: "random".into(),
        period: "day".into(),
        seed: 0,
        providers: (0..m)
            .map(|j| ProviderInfo {
                name: format!("p{j}"),
                firm: (j == 0).then_some(0),
                capacity_rule: "given".into(),
            })
            .collect(),
        users: (0..n)
            .map(|i| UserInfo {
                name: format!("u{i}"),
                group: format!("u{i}"),
                draw: None,
                chooser: i < choosers,
            })
            .collect(),
        price: (0..m).map(|_| uniform(rng, 0.1, 5.0)).collect(),
        capacity: (0..m).map(|_| uniform(rng, 10.0, 1000.0)).collect(),
        cost: vec![0.0; m],
        demand: (0..n).map(|_| uniform(rng, 1.0, 200.0)).collect(),
        value,
        qos: vec![QosInfo {
            name: "ttft".into(),
            unit: "ms".into(),
            kind: "per_provider".into(),
        }],
        qos_values: vec![delay],
        qos_weights: weights,
        congestion_weight: (0..n)
            .map(|i| {
                if i < choosers {
                    0.0
                } else {
                    uniform(rng, 0.2, 5.0)
                }
            })
            .collect(),
        firms: vec![FirmInfo {
            name: "f".into(),
            providers: vec![0],
        }],
        decisions: vec![DecisionInfo {
            provider: 0,
            firm: 0,
            lo: 0.0,
            hi: 10.0,
            step: None,
        }],
        objectives: vec![],
        constraints: vec![],
        solve: None,
        observed: None,
        learned: None,
        observed_periods: None,
    }
}
