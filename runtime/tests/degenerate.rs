//! Degenerate markets end in an answer with its certificate or in a clear error, never a
//! panic or a silently wrong number.

use prillm_runtime::leader::{optimise, Status};
use prillm_runtime::nash::{solve_leaders, Outcome};
use prillm_runtime::synthetic::market;
use prillm_runtime::{solve, Options, RuntimeError};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

#[test]
fn huge_capacities_and_equal_prices_still_converge() {
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let mut inst = market(6, 5, 0, &mut rng);
    inst.capacity = vec![1e12; 5];
    inst.price = vec![1.0; 5];
    let eq = solve(&inst, &inst.price.clone(), None, &Options::default()).unwrap();
    assert!(eq.residual <= 1e-9);
    let best = optimise(&inst, 0, &inst.price.clone(), &Options::default()).unwrap();
    assert_eq!(best.status, Status::Optimal);
    assert!(best.objective.is_finite());
}

#[test]
fn tiny_capacities_make_congestion_dominate_without_breaking_the_solver() {
    let mut rng = ChaCha8Rng::seed_from_u64(32);
    let mut inst = market(5, 4, 0, &mut rng);
    inst.capacity = vec![1e-6, 1e-6, 1e-6, 1e-6];
    let eq = solve(&inst, &inst.price.clone(), None, &Options::default()).unwrap();
    assert!(eq.residual <= 1e-9);
    // Congestion dominates: loads are nearly equal.
    let mean = eq.loads.iter().sum::<f64>() / 4.0;
    assert!(eq.loads.iter().all(|x| (x - mean).abs() <= 1e-3 * mean));
}

#[test]
fn overflowing_costs_are_reported() {
    let mut rng = ChaCha8Rng::seed_from_u64(33);
    let mut inst = market(3, 3, 0, &mut rng);
    inst.value.set(0, 1, -1e308);
    inst.value.set(1, 1, -1e308);
    inst.congestion_weight[0] = 1e-300;
    let err = solve(&inst, &inst.price.clone(), None, &Options::default()).unwrap_err();
    assert!(matches!(err, RuntimeError::Numerical(_)), "{err}");
}

#[test]
fn a_firm_with_no_feasible_price_is_infeasible() {
    let mut rng = ChaCha8Rng::seed_from_u64(34);
    let mut inst = market(4, 4, 0, &mut rng);
    inst.objectives.push(prillm_compiler::lower::ObjectiveInfo {
        firm: 0,
        maximize: prillm_compiler::lower::ObjectiveFn::Profit,
    });
    inst.constraints
        .push(prillm_compiler::lower::LinearConstraint {
            label: None,
            terms: vec![(1.0, prillm_compiler::lower::Variable::Share(0))],
            relation: prillm_compiler::lower::Relation::Ge,
            rhs: 1.01,
        });
    let sol = solve_leaders(&inst, &Options::default()).unwrap();
    assert_eq!(sol.outcome, Outcome::Infeasible);
}
