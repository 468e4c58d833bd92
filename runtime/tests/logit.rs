//! A simulated mixed-logit duopoly: pure choosers with Gumbel taste shocks and an outside
//! option. As the draws grow, the best-response prices approach the closed-form logit Nash
//! prices p = μ / (1 − s(p)) (zero costs, symmetric firms).

use prillm_compiler::lower::{
    DecisionInfo, FirmInfo, Instance, Matrix, ObjectiveFn, ObjectiveInfo, ProviderInfo, UserInfo,
};
use prillm_runtime::nash::{solve_leaders, Outcome};
use prillm_runtime::Options;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

const MU: f64 = 1.0;
const VALUE: f64 = 2.0;

fn gumbel(rng: &mut ChaCha8Rng) -> f64 {
    let u = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    -MU * (-u.ln()).ln()
}

/// Providers: outside option (0), firm A's model (1), firm B's model (2).
fn duopoly(draws: usize, seed: u64) -> Instance {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let m = 3;
    let mut value = Matrix::filled(draws, m, 0.0);
    for i in 0..draws {
        for j in 0..m {
            let base = if j == 0 { 0.0 } else { VALUE };
            value.set(i, j, base + gumbel(&mut rng));
        }
    }
    Instance {
        market: "logit".into(),
        period: "day".into(),
        seed,
        providers: ["outside", "a", "b"]
            .iter()
            .enumerate()
            .map(|(j, n)| ProviderInfo {
                name: n.to_string(),
                firm: (j > 0).then(|| j - 1),
                capacity_rule: "given".into(),
            })
            .collect(),
        users: (0..draws)
            .map(|i| UserInfo {
                name: format!("d{i}"),
                group: "logit".into(),
                draw: Some(i as u32 + 1),
                chooser: true,
            })
            .collect(),
        price: vec![0.0, 1.0, 1.0],
        capacity: vec![1e9; m],
        cost: vec![0.0; m],
        demand: vec![1.0 / draws as f64; draws],
        value,
        qos: vec![],
        qos_values: vec![],
        qos_weights: Matrix::filled(draws, 0, 0.0),
        congestion_weight: vec![0.0; draws],
        firms: vec![
            FirmInfo {
                name: "A".into(),
                providers: vec![1],
            },
            FirmInfo {
                name: "B".into(),
                providers: vec![2],
            },
        ],
        decisions: (0..2)
            .map(|f| DecisionInfo {
                provider: f + 1,
                firm: f,
                lo: 0.0,
                hi: 10.0,
                step: None,
            })
            .collect(),
        objectives: (0..2)
            .map(|f| ObjectiveInfo {
                firm: f,
                maximize: ObjectiveFn::Profit,
            })
            .collect(),
        constraints: vec![],
        solve: None,
        observed: None,
        learned: None,
        observed_periods: None,
    }
}

/// The symmetric logit Nash price: p = μ / (1 − s(p)), s(p) = e^{(b−p)/μ} / (1 + 2 e^{(b−p)/μ}).
fn logit_nash() -> f64 {
    let mut p = 1.0;
    for _ in 0..200 {
        let e = ((VALUE - p) / MU).exp();
        let s = e / (1.0 + 2.0 * e);
        p = MU / (1.0 - s);
    }
    p
}

#[test]
fn best_responses_approach_the_logit_nash_prices() {
    let target = logit_nash();
    let mut errors = Vec::new();
    for draws in [300, 1500] {
        let inst = duopoly(draws, 17);
        let sol = solve_leaders(&inst, &Options::default()).unwrap();
        assert!(
            matches!(sol.outcome, Outcome::Equilibrium | Outcome::Cycle),
            "{:?}",
            sol.outcome
        );
        let err =
            ((sol.prices[1] - target).abs() + (sol.prices[2] - target).abs()) / (2.0 * target);
        eprintln!("{draws} draws: prices {:.4} {:.4} vs logit {target:.4} (error {:.2}%), gap {:.2e}, {:?} after {} rounds", sol.prices[1], sol.prices[2], 100.0 * err, sol.nash_gap, sol.outcome, sol.rounds);
        errors.push(err);
    }
    assert!(
        errors[1] < 0.03,
        "1500 draws: {:.2}% from the logit Nash price",
        100.0 * errors[1]
    );
    assert!(errors[1] <= errors[0] + 0.01);
}
