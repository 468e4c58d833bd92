//! The exact single-price optimum against a dense grid of re-solved equilibria.

use prillm_compiler::lower::{LinearConstraint, ObjectiveFn, ObjectiveInfo, Relation, Variable};
use prillm_runtime::leader::{optimise, Status};
use prillm_runtime::synthetic::market;
use prillm_runtime::{solve, Options};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// The best profit of provider 0 over `points` + 1 prices on [lo, hi], each by solving the
/// equilibrium there.
fn grid_best(inst: &prillm_compiler::Instance, lo: f64, hi: f64, points: usize) -> (f64, f64) {
    let mut best = (f64::NAN, f64::NEG_INFINITY);
    let mut warm = None;
    for k in 0..=points {
        let p = lo + (hi - lo) * k as f64 / points as f64;
        let mut prices = inst.price.clone();
        prices[0] = p;
        let eq = solve(inst, &prices, warm.as_ref(), &Options::default()).unwrap();
        let profit = (p - inst.cost[0]) * eq.loads[0];
        if profit > best.1 {
            best = (p, profit);
        }
        warm = Some(eq);
    }
    best
}

#[test]
fn the_parametric_optimum_matches_a_dense_grid() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for case in 0..12 {
        let n = 2 + (rng.next_u64() % 6) as usize;
        let m = 2 + (rng.next_u64() % 6) as usize;
        let choosers = if case % 3 == 0 { 1 } else { 0 };
        let mut inst = market(n, m, choosers, &mut rng);
        inst.cost[0] = 0.2;
        let exact = optimise(&inst, 0, &inst.price.clone(), &Options::default()).unwrap();
        assert_eq!(exact.status, Status::Optimal);
        // A dense grid of 10^4 prices, then 10^4 more around its best point: the optimum may
        // sit at a kink of the profit curve, where one grid level is only accurate to O(h).
        let d = &inst.decisions[0];
        let h = (d.hi - d.lo) / 10_000.0;
        let (p_coarse, _) = grid_best(&inst, d.lo, d.hi, 10_000);
        let (p_dense, v_dense) = grid_best(
            &inst,
            (p_coarse - h).max(d.lo),
            (p_coarse + h).min(d.hi),
            10_000,
        );
        // Never worse than any grid point, and the grid comes within 1e-6 of it.
        assert!(
            exact.objective >= v_dense * (1.0 - 1e-9) - 1e-12,
            "case {case}: exact {} < dense {v_dense} (p {} vs {p_dense})",
            exact.objective,
            exact.price
        );
        if choosers == 0 {
            assert!(
                v_dense >= exact.objective * (1.0 - 1e-6),
                "case {case}: dense {v_dense} far below exact {}",
                exact.objective
            );
        }
        let eq = exact.equilibrium.unwrap();
        assert!(eq.residual <= 1e-9);
        assert!(
            ((exact.price - inst.cost[0]) * eq.loads[0] - exact.objective).abs()
                <= 1e-9 * exact.objective.abs().max(1.0)
        );
    }
}

#[test]
fn a_grid_decision_returns_the_best_grid_point() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    for _ in 0..6 {
        let mut inst = market(4, 5, 0, &mut rng);
        inst.decisions[0].step = Some(0.25);
        let exact = optimise(&inst, 0, &inst.price.clone(), &Options::default()).unwrap();
        let k = (exact.price / 0.25).round();
        assert!(
            (exact.price - k * 0.25).abs() < 1e-12,
            "price {} is off the grid",
            exact.price
        );
        // Brute force over the 41 grid points.
        let mut best = f64::NEG_INFINITY;
        for k in 0..=40 {
            let p = k as f64 * 0.25;
            let mut prices = inst.price.clone();
            prices[0] = p;
            let eq = solve(&inst, &prices, None, &Options::default()).unwrap();
            best = best.max(p * eq.loads[0]);
        }
        assert!(
            (exact.objective - best).abs() <= 1e-9 * best.abs().max(1.0),
            "{} vs {best}",
            exact.objective
        );
    }
}

#[test]
fn a_minimum_share_is_respected_or_reported_infeasible() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mut inst = market(5, 4, 0, &mut rng);
    let free = optimise(&inst, 0, &inst.price.clone(), &Options::default()).unwrap();
    let free_share = free.equilibrium.as_ref().unwrap().loads[0] / inst.total_demand();
    // Ask for more share than the unconstrained optimum gives.
    let want = (free_share + 0.05).min(0.99);
    inst.constraints.push(LinearConstraint {
        label: None,
        terms: vec![(1.0, Variable::FirmShare(0))],
        relation: Relation::Ge,
        rhs: want,
    });
    let constrained = optimise(&inst, 0, &inst.price.clone(), &Options::default()).unwrap();
    match constrained.status {
        Status::Optimal => {
            let share = constrained.equilibrium.as_ref().unwrap().loads[0] / inst.total_demand();
            assert!(share >= want - 1e-9, "share {share} < {want}");
            assert!(constrained.objective <= free.objective + 1e-9 * free.objective.abs());
            assert!(constrained.price <= free.price + 1e-12);
        }
        Status::Infeasible => {
            // Even the lowest price cannot reach the share.
            let mut prices = inst.price.clone();
            prices[0] = inst.decisions[0].lo;
            let eq = solve(&inst, &prices, None, &Options::default()).unwrap();
            assert!(eq.loads[0] / inst.total_demand() < want);
        }
    }
    // An impossible share is infeasible.
    inst.constraints[0].rhs = 1.5;
    let impossible = optimise(&inst, 0, &inst.price.clone(), &Options::default()).unwrap();
    assert_eq!(impossible.status, Status::Infeasible);
}

#[test]
fn maximising_share_picks_the_lowest_price() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let mut inst = market(4, 4, 0, &mut rng);
    inst.objectives.push(ObjectiveInfo {
        firm: 0,
        maximize: ObjectiveFn::Share,
    });
    let best = optimise(&inst, 0, &inst.price.clone(), &Options::default()).unwrap();
    assert_eq!(best.price, inst.decisions[0].lo);
}
