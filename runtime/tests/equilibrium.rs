//! The users' equilibrium against independent computations and its defining properties.

use prillm_compiler::lower::Matrix;
use prillm_runtime::equilibrium::{loads_of, solve_game, Game};
use prillm_runtime::{solve, Options};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

use prillm_runtime::synthetic::{market, uniform};

fn opts() -> Options {
    Options::default()
}

#[test]
fn two_providers_match_the_closed_form() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut inst = market(1, 2, 0, &mut rng);
    inst.qos_weights.set(0, 0, 0.0);
    inst.congestion_weight[0] = 2.0;
    inst.value = Matrix::filled(1, 2, 0.0);
    inst.price = vec![1.0, 1.5];
    inst.capacity = vec![100.0, 50.0];
    inst.demand = vec![80.0];
    let eq = solve(&inst, &inst.price.clone(), None, &opts()).unwrap();
    // Marginal costs c_j/g + 2 f_j / α_j are equal: f1 = (c2/g − c1/g + 2D/α2) / (2/α1 + 2/α2).
    let (c1, c2, g, a1, a2, d) = (1.0, 1.5, 2.0, 100.0, 50.0, 80.0);
    let f1 = (c2 / g - c1 / g + 2.0 * d / a2) / (2.0 / a1 + 2.0 / a2);
    assert!(
        (eq.flows.get(0, 0) - f1).abs() < 1e-9 * d,
        "{} vs {f1}",
        eq.flows.get(0, 0)
    );
    assert!((eq.flows.get(0, 1) - (d - f1)).abs() < 1e-9 * d);
    assert!(eq.residual <= 1e-12);
}

#[test]
fn a_corner_solution_puts_nothing_on_the_dear_provider() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut inst = market(1, 2, 0, &mut rng);
    inst.qos_weights.set(0, 0, 0.0);
    inst.value = Matrix::filled(1, 2, 0.0);
    inst.congestion_weight[0] = 1.0;
    inst.price = vec![1.0, 100.0];
    inst.capacity = vec![1000.0, 1000.0];
    inst.demand = vec![10.0];
    let eq = solve(&inst, &inst.price.clone(), None, &opts()).unwrap();
    assert_eq!(eq.flows.get(0, 1), 0.0);
    assert!((eq.flows.get(0, 0) - 10.0).abs() < 1e-12);
}

#[test]
fn random_markets_converge_with_a_small_residual() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for case in 0..200 {
        let n = 1 + (rng.next_u64() % 12) as usize;
        let m = 1 + (rng.next_u64() % 12) as usize;
        let choosers = (rng.next_u64() % 3) as usize % (n + 1);
        let inst = market(n, m, choosers, &mut rng);
        let eq = solve(&inst, &inst.price.clone(), None, &opts())
            .unwrap_or_else(|e| panic!("case {case}: {e}"));
        assert!(eq.residual <= 1e-9, "case {case}: residual {}", eq.residual);
        for i in 0..n {
            let placed: f64 = eq.flows.row(i).iter().sum();
            assert!((placed - inst.demand[i]).abs() <= 1e-9 * inst.demand[i]);
            assert!(eq.flows.row(i).iter().all(|f| *f >= 0.0));
        }
    }
}

#[test]
fn every_sweep_lowers_the_potential() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for _ in 0..50 {
        let inst = market(8, 6, 1, &mut rng);
        let game = Game::new(&inst, &inst.price).unwrap();
        let mut last = f64::INFINITY;
        let mut sweeps = 0;
        solve_game(&game, None, &opts(), |f| {
            let phi = game.potential(f);
            // Non-increasing up to rounding.
            assert!(
                phi <= last + 1e-9 * last.abs().max(1.0),
                "sweep {sweeps}: {phi} after {last}"
            );
            last = phi;
            sweeps += 1;
        })
        .unwrap();
        assert!(sweeps >= 1);
    }
}

#[test]
fn raising_a_price_never_raises_that_providers_load() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for _ in 0..100 {
        let inst = market(6, 5, 0, &mut rng);
        let j = (rng.next_u64() % 5) as usize;
        let mut prices = inst.price.clone();
        let before = solve(&inst, &prices, None, &opts()).unwrap();
        prices[j] += uniform(&mut rng, 0.01, 2.0);
        let after = solve(&inst, &prices, Some(&before), &opts()).unwrap();
        assert!(after.loads[j] <= before.loads[j] + 1e-9 * before.loads[j].max(1.0));
    }
}

#[test]
fn identical_providers_get_identical_loads() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    for _ in 0..50 {
        let mut inst = market(7, 4, 0, &mut rng);
        // Provider 3 is a copy of provider 2 for every user.
        inst.price[3] = inst.price[2];
        inst.capacity[3] = inst.capacity[2];
        for i in 0..7 {
            inst.value.set(i, 3, inst.value.get(i, 2));
            let d = inst.qos_values[0].get(i, 2);
            inst.qos_values[0].set(i, 3, d);
        }
        let eq = solve(&inst, &inst.price.clone(), None, &opts()).unwrap();
        assert!(
            (eq.loads[2] - eq.loads[3]).abs() <= 1e-8 * eq.loads[2].max(1.0),
            "{} vs {}",
            eq.loads[2],
            eq.loads[3]
        );
    }
}

#[test]
fn pure_choosers_take_their_cheapest_provider() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..100 {
        let inst = market(5, 6, 5, &mut rng);
        let eq = solve(&inst, &inst.price.clone(), None, &opts()).unwrap();
        for i in 0..5 {
            // Brute force: the argmin of price + static cost.
            let costs: Vec<f64> = (0..6)
                .map(|j| inst.price[j] + inst.static_cost(i, j))
                .collect();
            let best = (0..6)
                .min_by(|&a, &b| costs[a].total_cmp(&costs[b]))
                .unwrap();
            assert_eq!(eq.flows.get(i, best), inst.demand[i]);
        }
        assert_eq!(eq.residual, 0.0);
    }
}

#[test]
fn a_chooser_tie_goes_to_the_leader() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let mut inst = market(1, 3, 1, &mut rng);
    inst.qos_weights.set(0, 0, 0.0);
    inst.value = Matrix::filled(1, 3, 0.0);
    inst.price = vec![2.0, 1.0, 1.0];
    inst.decisions[0].provider = 2;
    let eq = solve(&inst, &inst.price.clone(), None, &opts()).unwrap();
    assert_eq!(eq.flows.get(0, 2), inst.demand[0]);
}

#[test]
fn a_warm_start_from_the_solution_needs_no_sweep() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let inst = market(10, 8, 2, &mut rng);
    let eq = solve(&inst, &inst.price.clone(), None, &opts()).unwrap();
    let again = solve(&inst, &inst.price.clone(), Some(&eq), &opts()).unwrap();
    assert_eq!(again.sweeps, 0);
    assert_eq!(loads_of(&again.flows), again.loads);
}

#[test]
fn bad_instances_are_reported_not_solved() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let mut inst = market(2, 2, 0, &mut rng);
    assert!(solve(&inst, &[1.0], None, &opts()).is_err());
    assert!(solve(&inst, &[f64::NAN, 1.0], None, &opts()).is_err());
    inst.capacity[1] = 0.0;
    assert!(solve(&inst, &[1.0, 1.0], None, &opts()).is_err());
}
