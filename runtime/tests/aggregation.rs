//! The aggregation network: its loss's gradient against finite differences, training lowers
//! the loss, scores are permutation-equivariant, the same seed gives the same weights, a
//! saved network decides as it did, and unusable weights or markets are refused.

use burn::tensor::{Tensor, TensorData};
use prillm_compiler::lower::plan::{rival_features, FEATURES};
use prillm_compiler::lower::Instance;
use prillm_runtime::bench::target_market;
use prillm_runtime::equilibrium::Game;
use prillm_runtime::network::features::Normalisation;
use prillm_runtime::network::game::abstract_curve;
use prillm_runtime::network::loss::{abstraction_of, exact_loss, tensor_loss};
use prillm_runtime::network::scenario::{curves_of, scenarios_of, Scenario};
use prillm_runtime::network::train::{scores, train};
use prillm_runtime::network::weights::{load, paths, save};
use prillm_runtime::network::{
    price_with_network, Cpu, CpuTraining, NetConfig, TrainOptions, WeightsError,
};

fn scenario(seed: u64, rivals: usize) -> Scenario {
    Scenario::new(target_market(rivals, 6, seed), 8).unwrap()
}

fn tensor(v: &[f64]) -> Tensor<CpuTraining, 1> {
    let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(v.clone(), [v.len()]), &Default::default())
}

#[test]
fn the_representative_costs_the_weighted_average() {
    let scn = scenario(3, 6);
    let sum = [0.5, 1.0, 2.0, 0.7, 1.3, 0.9];
    let avg = [0.2, 1.5, 0.4, 0.9, 0.3, 0.6];
    let abs = abstraction_of(&scn, 2, &sum, &avg).unwrap();
    let game = Game::new(&abs.instance, &abs.instance.price).unwrap();
    let rep = abs.instance.n_providers() - 1;
    let total: f64 = abs.merged.iter().map(|&j| avg[j - 1]).sum();
    for i in 0..scn.instance.n_users() {
        let expected: f64 = abs
            .merged
            .iter()
            .map(|&j| avg[j - 1] / total * scn.costs[i][j - 1])
            .sum();
        assert!((game.cost(i, rep) - expected).abs() < 1e-9 * expected.abs().max(1.0));
    }
}

#[test]
fn loss_gradient_matches_finite_differences() {
    for seed in [1, 2, 5] {
        let scn = scenario(seed, 5);
        let k = 2;
        let sum = vec![0.8, 1.1, 0.6, 1.4, 0.9];
        let avg = vec![0.3, 1.2, 0.7, 0.5, 0.9];
        let abs = abstraction_of(&scn, k, &sum, &avg).unwrap();
        let curve = abstract_curve(&abs.instance, &scn.candidates).unwrap();
        let (ts, ta) = (tensor(&sum).require_grad(), tensor(&avg).require_grad());
        let loss = tensor_loss(&scn, ts.clone(), ta.clone(), &abs.merged, &curve);
        let grads = loss.backward();
        let read = |t: &Tensor<CpuTraining, 1>| -> Vec<f64> {
            t.grad(&grads)
                .unwrap()
                .into_data()
                .to_vec::<f32>()
                .unwrap()
                .into_iter()
                .map(f64::from)
                .collect()
        };
        let (gs, ga) = (read(&ts), read(&ta));
        let mut checked = 0;
        for r in 0..sum.len() {
            for (which, g) in [(0, gs[r]), (1, ga[r])] {
                let h = 1e-5;
                let at = |d: f64| {
                    let (mut s, mut a) = (sum.clone(), avg.clone());
                    if which == 0 {
                        s[r] += d;
                    } else {
                        a[r] += d;
                    }
                    exact_loss(&scn, k, &s, &a).unwrap()
                };
                let fd = (at(h) - at(-h)) / (2.0 * h);
                assert!(
                    (fd - g).abs() <= 2e-3 * fd.abs().max(g.abs()) + 1e-5,
                    "seed {seed} rival {r} score {which}: autodiff {g} vs finite differences {fd}"
                );
                checked += usize::from(fd.abs() > 1e-4);
            }
        }
        assert!(checked > 0, "seed {seed}: every derivative is zero");
    }
}

#[test]
fn scores_are_permutation_equivariant() {
    let net = NetConfig::new(FEATURES.len()).init::<Cpu>(7, &Default::default());
    let inst = target_market(9, 8, 11);
    let features = rival_features(&inst, 0);
    let norm = Normalisation::fit(std::iter::once(&features), FEATURES.len());
    let perm = [4, 0, 8, 2, 6, 1, 7, 3, 5];
    let permuted: Vec<Vec<f64>> = perm.iter().map(|&r| features[r].clone()).collect();
    let out = scores(&net, &[&features, &permuted], &norm, &Default::default());
    for (q, &r) in perm.iter().enumerate() {
        for (a, b) in [(&out[0].0, &out[1].0), (&out[0].1, &out[1].1)] {
            assert!(
                (a[r] - b[q]).abs() < 1e-5,
                "rival {r}: {} vs {}",
                a[r],
                b[q]
            );
        }
    }
    // Distinct rivals get distinct scores (the net is not constant).
    assert!(out[0].1.iter().any(|&s| (s - out[0].1[0]).abs() > 1e-4));
}

#[test]
fn padding_does_not_change_scores() {
    let net = NetConfig::new(FEATURES.len()).init::<Cpu>(3, &Default::default());
    let small = rival_features(&target_market(4, 8, 1), 0);
    let large = rival_features(&target_market(9, 8, 2), 0);
    let norm = Normalisation::fit([&small, &large].into_iter(), FEATURES.len());
    let alone = scores(&net, &[&small], &norm, &Default::default());
    let padded = scores(&net, &[&small, &large], &norm, &Default::default());
    for (a, b) in alone[0].1.iter().zip(&padded[0].1) {
        assert!((a - b).abs() < 1e-5);
    }
}

fn tiny_training_set() -> Vec<Scenario> {
    let markets: Vec<Instance> = (0..40)
        .map(|s| target_market(3 + s % 5, 8, 500 + s as u64))
        .collect();
    curves_of(markets, 8, &|| {}).unwrap().0
}

#[test]
fn training_lowers_the_loss_and_is_reproducible() {
    let scenarios = tiny_training_set();
    let mut opts = TrainOptions::new(2, 6, 42);
    opts.batch = 8;
    let a = train(&scenarios, "tiny", &opts, |_| {}).unwrap();
    let t = &a.meta.training;
    assert!(
        t.best_validation_loss < 0.9 * t.initial_validation_loss,
        "validation loss {} → {}",
        t.initial_validation_loss,
        t.best_validation_loss
    );
    let b = train(&scenarios, "tiny", &opts, |_| {}).unwrap();
    assert_eq!(a.meta, b.meta);
    let features: Vec<&Vec<Vec<f64>>> = scenarios.iter().map(|s| &s.features).collect();
    let norm = &a.meta.normalisation;
    assert_eq!(
        scores(&a.net, &features, norm, &Default::default()),
        scores(&b.net, &features, norm, &Default::default())
    );
}

#[test]
fn saved_weights_decide_as_before_and_bad_weights_are_refused() {
    let scenarios = scenarios_of(&target_market(6, 8, 77), 12, 3, 8, 9, &|| {})
        .unwrap()
        .0;
    let trained = train(&scenarios, "small", &TrainOptions::new(2, 2, 5), |_| {}).unwrap();
    let dir = std::env::temp_dir().join(format!("prillm-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("net.mpk");
    let markets: Vec<Instance> = (0..4).map(|s| target_market(7, 8, 900 + s)).collect();
    let device = Default::default();
    let before = price_with_network(&trained.net, &trained.meta, &markets, &device).unwrap();
    save(trained.net, &trained.meta, &path).unwrap();
    let (net, meta) = load::<Cpu>(&path, Some(2), &device).unwrap();
    let after = price_with_network(&net, &meta, &markets, &device).unwrap();
    for (x, y) in before.iter().zip(&after) {
        assert_eq!(x.price, y.price);
        assert_eq!(x.objective, y.objective);
        assert!(x.residual <= 1e-9);
        assert_eq!(
            x.kept.iter().map(|r| &r.name).collect::<Vec<_>>(),
            y.kept.iter().map(|r| &r.name).collect::<Vec<_>>()
        );
    }
    // Another K, a missing file, another feature layout, fewer rivals than K.
    assert!(matches!(
        load::<Cpu>(&path, Some(3), &device),
        Err(WeightsError::Incompatible(..))
    ));
    assert!(matches!(
        load::<Cpu>(&dir.join("absent.mpk"), None, &device),
        Err(WeightsError::Missing(..))
    ));
    let json = paths(&path).1;
    let text = std::fs::read_to_string(&json).unwrap();
    std::fs::write(&json, text.replace("cost_rank", "cost_order")).unwrap();
    assert!(matches!(
        load::<Cpu>(&path, None, &device),
        Err(WeightsError::Incompatible(..))
    ));
    std::fs::write(&json, text).unwrap();
    let few = vec![target_market(1, 8, 3)];
    let err = price_with_network(&net, &meta, &few, &device).unwrap_err();
    assert!(
        err.to_string().contains("fewer than the network's K = 2"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
