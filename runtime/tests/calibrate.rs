//! Calibration: the Jacobian against finite differences, the LP initialisation on exact
//! equilibrium data, recovery of known parameters from noisy flows, and bad observations.

use prillm_compiler::lower::{Instance, Matrix};
use prillm_runtime::calibrate::fit::{fit, Options};
use prillm_runtime::calibrate::init::initial_values;
use prillm_runtime::calibrate::jacobian::jacobian;
use prillm_runtime::calibrate::{matches_demand, validate, Observed, Period, Theta};
use prillm_runtime::synthetic::{market, uniform};
use prillm_runtime::{solve, Options as EqOptions, RuntimeError};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

/// The true parameters: values near each provider's price, so every provider is used.
fn truth_for(base: &Instance) -> Theta {
    let offsets = [0.0, 0.4, 0.1, 0.6, 0.2, 0.5];
    Theta {
        congestion: 1.7,
        qos: vec![0.0006],
        value: (0..6).map(|j| base.price[j] + offsets[j]).collect(),
    }
    .normalised()
}

fn base(seed: u64) -> Instance {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    market(10, 6, 0, &mut rng)
}

fn truth() -> Theta {
    truth_for(&base(1))
}

/// A 10-user, 6-provider market with the true parameters, and its equilibrium flows.
fn setup(seed: u64) -> (Instance, Matrix) {
    let inst = truth_for(&base(seed)).apply(&base(seed));
    let eq = solve(&inst, &inst.price, None, &EqOptions::default()).unwrap();
    for j in 0..6 {
        assert!(eq.loads[j] > 0.0, "provider {j} unused at the truth");
    }
    (inst, eq.flows)
}

fn observed(inst: &Instance, flows: Matrix, held_out: Vec<bool>) -> Observed {
    Observed::single(inst, flows, held_out)
}

#[test]
fn the_jacobian_matches_finite_differences() {
    let (inst, _) = setup(1);
    let eq = solve(&inst, &inst.price, None, &EqOptions::default()).unwrap();
    let jac = jacobian(&inst, &eq).unwrap();
    let t = truth();
    let params = 1 + t.qos.len() + t.value.len();
    for p in 0..params {
        let shifted = |h: f64| {
            let mut t = truth();
            match p {
                0 => t.congestion *= h.exp(),
                1 => t.qos[0] += h,
                _ => t.value[p - 2] += h,
            }
            solve(&t.apply(&inst), &inst.price, None, &EqOptions::default())
                .unwrap()
                .flows
        };
        let h = if p == 1 { 1e-7 } else { 1e-5 };
        let (up, down) = (shifted(h), shifted(-h));
        for c in 0..up.data.len() {
            let fd = (up.data[c] - down.data[c]) / (2.0 * h);
            let an = jac.get(c, p);
            assert!(
                (fd - an).abs() <= 1e-4 * fd.abs().max(an.abs()) + 1e-5,
                "param {p} cell {c}: implicit {an} vs finite differences {fd}"
            );
        }
    }
}

#[test]
fn the_lp_makes_exact_equilibrium_data_consistent() {
    let (inst, flows) = setup(2);
    let obs = observed(&inst, flows.clone(), vec![false; inst.n_users()]);
    validate(&inst, &obs).unwrap();
    let weights = Theta {
        value: vec![0.0; 6],
        ..truth_for(&base(2))
    };
    let (theta, slack) = initial_values(&inst, &obs, &weights, None).unwrap();
    assert!(slack <= 1e-7, "slack {slack} on exact data");
    // At the LP's values the equilibrium is the observed one (it is unique).
    let eq = solve(
        &theta.apply(&inst),
        &inst.price,
        None,
        &EqOptions::default(),
    )
    .unwrap();
    for (a, b) in eq.flows.data.iter().zip(&flows.data) {
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} vs {b}");
    }
    assert!(theta.value.iter().all(|&b| b >= -1e-9));
    assert!(
        theta.value.iter().any(|&b| b.abs() <= 1e-7),
        "smallest b is 0"
    );
}

#[test]
fn known_parameters_are_recovered_from_noisy_flows() {
    let (inst, flows) = setup(3);
    let t = truth_for(&base(3));
    // 0.5% multiplicative noise on every used cell, each user's total kept at its demand.
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut noisy = flows.clone();
    for i in 0..inst.n_users() {
        let row: Vec<f64> = (0..6)
            .map(|j| flows.get(i, j) * (1.0 + uniform(&mut rng, -0.005, 0.005)))
            .collect();
        let total: f64 = row.iter().sum();
        for (j, v) in row.iter().enumerate() {
            noisy.set(i, j, v * inst.demand[i] / total);
        }
    }
    let held: Vec<bool> = (0..inst.n_users()).map(|i| i >= 8).collect();
    let obs = observed(&inst, noisy, held);
    validate(&inst, &obs).unwrap();
    // Start from a wrong QoS weight and the LP's values; the congestion weight is the
    // declared scale (one snapshot cannot identify it).
    let weights = Theta {
        congestion: t.congestion,
        qos: vec![0.0002],
        value: vec![0.0; 6],
    };
    let (start, _) = initial_values(&inst, &obs, &weights, None).unwrap();
    let fitted = fit(&inst, &obs, &start, &Options::default(), |_, _| {}).unwrap();
    let got = &fitted.theta;
    let loss_at = |th: &Theta| -> f64 {
        let eq = solve(&th.apply(&inst), &inst.price, None, &EqOptions::default()).unwrap();
        (0..8)
            .flat_map(|i| (0..6).map(move |j| (i, j)))
            .map(|(i, j)| (eq.flows.get(i, j) - obs.periods[0].flows.get(i, j)).powi(2))
            .sum()
    };
    // The optimiser does at least as well as the truth on the noisy data…
    assert!(
        loss_at(got) <= loss_at(&t) * (1.0 + 1e-9),
        "{} > {}",
        loss_at(got),
        loss_at(&t)
    );
    // …and, the noise being small, lands near it.
    assert_eq!(got.congestion, t.congestion);
    assert!(
        (got.qos[0] / t.qos[0] - 1.0).abs() < 0.1,
        "qos {:?}",
        got.qos
    );
    for (a, b) in got.value.iter().zip(&t.value) {
        assert!(
            (a - b).abs() < 0.1,
            "values {:?} vs {:?}",
            got.value,
            t.value
        );
    }
    assert!(fitted.train.r2 > 0.99, "{:?}", fitted.train);
    let held = fitted.held_out.as_ref().unwrap();
    assert!(held.r2 > 0.95, "{held:?}");
    assert!(fitted.kkt_residual <= 1e-9);
    assert!(
        fitted.loss.windows(2).all(|w| w[1] < w[0]),
        "loss decreases"
    );
}

#[test]
fn bad_observations_are_refused_with_a_reason() {
    let (inst, flows) = setup(4);
    let n = inst.n_users();
    let mut wrong_total = flows.clone();
    wrong_total.set(0, 0, wrong_total.get(0, 0) + 1.0);
    let e = matches_demand(&inst, &wrong_total).unwrap_err();
    assert!(e.to_string().contains("add up to"), "{e}");
    let mut negative = flows.clone();
    negative.set(1, 1, -1.0);
    let e = validate(&inst, &observed(&inst, negative, vec![false; n])).unwrap_err();
    assert!(e.to_string().contains("observed flow"), "{e}");
    let e = validate(&inst, &observed(&inst, flows.clone(), vec![true; n])).unwrap_err();
    assert!(e.to_string().contains("held out"), "{e}");
    // A QoS dimension equal for every provider changes no choice: its weight is unidentifiable.
    let mut flat = inst.clone();
    for i in 0..n {
        for j in 0..6 {
            flat.qos_values[0].set(i, j, 500.0);
        }
    }
    let eq = solve(&flat, &flat.price, None, &EqOptions::default()).unwrap();
    let obs = observed(&flat, eq.flows, vec![false; n]);
    match fit(
        &flat,
        &obs,
        &truth_for(&base(4)),
        &Options::default(),
        |_, _| {},
    ) {
        Err(RuntimeError::BadInstance(m)) => {
            assert!(m.contains("cannot identify the weight of `ttft`"), "{m}")
        }
        other => panic!("expected an identification error, got {other:?}"),
    }
}

#[test]
fn one_snapshot_cannot_identify_the_congestion_weight() {
    let (inst, flows) = setup(5);
    let obs = observed(&inst, flows, vec![false; inst.n_users()]);
    let options = Options {
        fit_congestion: true,
        ..Options::default()
    };
    match fit(&inst, &obs, &truth_for(&base(5)), &options, |_, _| {}) {
        Err(RuntimeError::BadInstance(m)) => {
            assert!(m.contains("cannot identify the congestion weight"), "{m}")
        }
        other => panic!("expected an identification error, got {other:?}"),
    }
    // The degeneracy itself: scaling w_q, the QoS weights and every price-minus-value by
    // the same factor leaves the equilibrium unchanged.
    let t = truth_for(&base(5));
    let s = 2.5;
    let scaled = Theta {
        congestion: t.congestion * s,
        qos: t.qos.iter().map(|w| w * s).collect(),
        value: (0..6)
            .map(|j| inst.price[j] - s * (inst.price[j] - t.value[j]))
            .collect(),
    };
    let a = solve(&t.apply(&inst), &inst.price, None, &EqOptions::default()).unwrap();
    let b = solve(
        &scaled.apply(&inst),
        &inst.price,
        None,
        &EqOptions::default(),
    )
    .unwrap();
    for (x, y) in a.flows.data.iter().zip(&b.flows.data) {
        assert!((x - y).abs() <= 1e-8 * x.abs().max(1.0), "{x} vs {y}");
    }
}

/// Periods at different prices identify the scale: the congestion weight is recovered too.
#[test]
fn periods_at_different_prices_identify_the_congestion_weight() {
    let inst0 = base(6);
    let t = truth_for(&inst0);
    let inst = t.apply(&inst0);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let periods: Vec<Period> = (0..4)
        .map(|d| {
            let prices: Vec<f64> = inst
                .price
                .iter()
                .map(|p| p * (1.0 + uniform(&mut rng, -0.3, 0.3)))
                .collect();
            let mut at = inst.clone();
            at.price = prices.clone();
            let eq = solve(&at, &prices, None, &EqOptions::default()).unwrap();
            Period {
                name: format!("day{d}"),
                prices,
                flows: eq.flows,
                qos_values: None,
                held_out: d == 3,
            }
        })
        .collect();
    let obs = Observed {
        periods,
        held_out: vec![false; inst.n_users()],
    };
    validate(&inst, &obs).unwrap();
    let start = Theta {
        congestion: 4.0,
        qos: vec![0.0002],
        value: vec![0.0; 6],
    };
    let (start, _) = initial_values(&inst, &obs, &start, None).unwrap();
    let options = Options {
        fit_congestion: true,
        ..Options::default()
    };
    let fitted = fit(&inst, &obs, &start, &options, |_, _| {}).unwrap();
    let got = &fitted.theta;
    assert!(
        (got.congestion / t.congestion - 1.0).abs() < 1e-3,
        "congestion {} vs {}",
        got.congestion,
        t.congestion
    );
    assert!(
        (got.qos[0] / t.qos[0] - 1.0).abs() < 1e-3,
        "{:?} vs {:?}",
        got.qos,
        t.qos
    );
    for (a, b) in got.value.iter().zip(&t.value) {
        assert!((a - b).abs() < 1e-3, "{:?} vs {:?}", got.value, t.value);
    }
    assert!(fitted.train.r2 > 0.999999, "{:?}", fitted.train);
    // The held-out day (period 3) is predicted as well as the days fitted.
    let held = fitted.held_out.as_ref().unwrap();
    assert_eq!(held.cells, inst.n_users() * 6);
    assert!(held.r2 > 0.999999, "{held:?}");
}
