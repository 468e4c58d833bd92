//! The MILP backend against the exact runtime and brute force, on the same price grids.

use prillm_compiler::lower::{
    DecisionInfo, FirmInfo, Instance, LinearConstraint, ObjectiveFn, ObjectiveInfo, Relation,
    Variable,
};
use prillm_runtime::leader::{optimise, Status};
use prillm_runtime::milp::{solve_firm, solve_leaders, MilpOptions, SolveStatus, Solver};
use prillm_runtime::nash::{firm_objective, Outcome};
use prillm_runtime::synthetic::market;
use prillm_runtime::{solve, Options, RuntimeError};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

fn solvers() -> Vec<Solver> {
    Solver::available()
}

fn options(solver: Solver) -> MilpOptions {
    MilpOptions {
        solver,
        time_limit_s: 120.0,
        // Bits keep microlp's branch and bound small on these 21-point grids.
        one_hot_limit: 8,
        ..MilpOptions::default()
    }
}

/// A random market where firm 0 decides provider 0 on the grid 0, 0.25, …, 5.
fn random(rng: &mut ChaCha8Rng, choosers: usize) -> Instance {
    let n = 2 + (rng.next_u64() % 3) as usize;
    let m = 2 + (rng.next_u64() % 3) as usize;
    let mut inst = market(n, m, choosers.min(n - 1), rng);
    inst.cost[0] = 0.2;
    inst.decisions[0].hi = 5.0;
    inst.decisions[0].step = Some(0.25);
    inst.objectives = vec![ObjectiveInfo {
        firm: 0,
        maximize: ObjectiveFn::Profit,
    }];
    inst
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-7 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn the_milp_grid_optimum_is_the_exact_grid_optimum() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for case in 0..8 {
        let inst = random(&mut rng, case % 3);
        let exact = optimise(&inst, 0, &inst.price, &Options::default()).unwrap();
        assert_eq!(exact.status, Status::Optimal);
        for solver in solvers() {
            let s = solve_firm(&inst, 0, &inst.price, &options(solver))
                .unwrap()
                .expect("feasible");
            let c = &s.certificate;
            assert_eq!(c.status, SolveStatus::Optimal, "case {case} {solver:?}");
            assert!(
                close(s.objective, exact.objective),
                "case {case} {solver:?}: MILP {} at {} vs exact {} at {}",
                s.objective,
                s.prices[0],
                exact.objective,
                exact.price
            );
            assert!(c.load_disagreement <= 1e-6, "{c:?}");
            assert!(c.row_violation <= 1e-7, "{c:?}");
            assert!(c.kkt_residual <= 1e-9, "{c:?}");
            assert!(close(c.milp_objective, c.simulated_objective), "{c:?}");
            if let (Some(bound), Some(gap)) = (c.bound, c.gap) {
                assert!(
                    bound >= c.milp_objective * (1.0 - 1e-9) && gap <= 1e-6,
                    "{c:?}"
                );
            }
        }
    }
}

/// Provider 0 and 1 both belong to firm 0, each on a 9-point grid: the MILP's joint optimum
/// against all 81 price pairs.
#[test]
fn two_prices_of_one_firm_are_optimised_jointly() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for case in 0..3 {
        let mut inst = random(&mut rng, 0);
        let m = inst.n_providers();
        if m < 3 {
            continue;
        }
        inst.providers[1].firm = Some(0);
        inst.firms[0].providers = vec![0, 1];
        inst.cost[1] = 0.1;
        for d in [0, 1] {
            let dec = DecisionInfo {
                provider: d,
                firm: 0,
                lo: 0.5,
                hi: 4.5,
                step: Some(0.5),
            };
            if d == 0 {
                inst.decisions[0] = dec;
            } else {
                inst.decisions.push(dec);
            }
        }
        let mut best = f64::NEG_INFINITY;
        let mut prices = inst.price.clone();
        for a in 0..9 {
            for b in 0..9 {
                prices[0] = 0.5 + 0.5 * a as f64;
                prices[1] = 0.5 + 0.5 * b as f64;
                let eq = solve(&inst, &prices, None, &Options::default()).unwrap();
                best = best.max(firm_objective(&inst, 0, &prices, &eq.loads));
            }
        }
        for solver in solvers() {
            let (sol, certs) = solve_leaders(&inst, &options(solver)).unwrap();
            assert_eq!(sol.outcome, Outcome::Optimal);
            assert_eq!(certs.len(), 1);
            assert!(
                close(sol.firms[0].objective, best),
                "case {case} {solver:?}: MILP {} vs brute force {best}",
                sol.firms[0].objective
            );
        }
    }
}

/// A minimum share for the firm: the MILP's optimum against the feasible grid points, and
/// an unreachable share reported as infeasible.
#[test]
fn side_constraints_cut_the_grid() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let mut inst = random(&mut rng, 0);
    let grid: Vec<f64> = inst.decisions[0].grid().unwrap();
    let shares: Vec<(f64, f64, f64)> = grid
        .iter()
        .map(|&p| {
            let mut prices = inst.price.clone();
            prices[0] = p;
            let eq = solve(&inst, &prices, None, &Options::default()).unwrap();
            (
                p,
                eq.loads[0] / inst.total_demand(),
                (p - 0.2) * eq.loads[0],
            )
        })
        .collect();
    // Ask for a share between the unconstrained optimum's and the largest.
    let unconstrained = shares.iter().map(|s| s.2).fold(f64::NEG_INFINITY, f64::max);
    let at_best = shares.iter().find(|s| s.2 == unconstrained).unwrap().1;
    let top = shares.iter().map(|s| s.1).fold(0.0, f64::max);
    let wanted = (at_best + top) / 2.0;
    let best = shares
        .iter()
        .filter(|s| s.1 >= wanted)
        .map(|s| s.2)
        .fold(f64::NEG_INFINITY, f64::max);
    inst.constraints = vec![LinearConstraint {
        label: Some("min_share".into()),
        terms: vec![(1.0, Variable::Share(0))],
        relation: Relation::Ge,
        rhs: wanted,
    }];
    for solver in solvers() {
        let s = solve_firm(&inst, 0, &inst.price, &options(solver))
            .unwrap()
            .expect("feasible");
        assert!(
            close(s.objective, best),
            "{solver:?}: {} vs {best}",
            s.objective
        );
        assert!(s.equilibrium.loads[0] / inst.total_demand() >= wanted * (1.0 - 1e-9));
    }
    inst.constraints[0].rhs = top + 0.01;
    for solver in solvers() {
        assert!(solve_firm(&inst, 0, &inst.price, &options(solver))
            .unwrap()
            .is_none());
    }
}

/// Two firms by MILP best response: at the end no firm gains by moving to another point of
/// its grid (checked by brute force).
#[test]
fn two_firms_reach_a_grid_equilibrium() {
    let mut rng = ChaCha8Rng::seed_from_u64(33);
    let mut inst = market(3, 3, 0, &mut rng);
    inst.firms.push(FirmInfo {
        name: "g".into(),
        providers: vec![1],
    });
    inst.providers[1].firm = Some(1);
    inst.decisions = vec![
        DecisionInfo {
            provider: 0,
            firm: 0,
            lo: 0.5,
            hi: 6.0,
            step: Some(0.5),
        },
        DecisionInfo {
            provider: 1,
            firm: 1,
            lo: 0.5,
            hi: 6.0,
            step: Some(0.5),
        },
    ];
    inst.price[0] = 0.5;
    inst.price[1] = 0.5;
    inst.objectives = (0..2)
        .map(|firm| ObjectiveInfo {
            firm,
            maximize: ObjectiveFn::Revenue,
        })
        .collect();
    let solver = Solver::best();
    let (sol, certs) = solve_leaders(&inst, &options(solver)).unwrap();
    assert_eq!(certs.len(), 2);
    assert_eq!(sol.outcome, Outcome::Equilibrium);
    {
        for (f, d) in inst.decisions.iter().enumerate() {
            let now = sol.firms[f].objective;
            for p in d.grid().unwrap() {
                let mut prices = sol.prices.clone();
                prices[d.provider] = p;
                let eq = solve(&inst, &prices, None, &Options::default()).unwrap();
                let dev = firm_objective(&inst, f, &prices, &eq.loads);
                assert!(
                    dev <= now * (1.0 + 1e-9) + 1e-9,
                    "firm {f} gains at {p}: {dev} > {now}"
                );
            }
            assert!(sol.firms[f].deviation_gain <= 1e-9 * now.abs().max(1.0));
        }
    }
}

#[test]
fn a_doubtful_answer_is_an_error_not_an_optimum() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let inst = random(&mut rng, 0);
    let strict = MilpOptions {
        load_tolerance: -1.0,
        ..options(Solver::Microlp)
    };
    match solve_firm(&inst, 0, &inst.price, &strict) {
        Err(RuntimeError::Doubtful(m)) => assert!(m.contains("re-simulated"), "{m}"),
        other => panic!("expected a doubtful answer, got {other:?}"),
    }
}

#[test]
fn a_solver_not_in_the_build_is_an_error() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let inst = random(&mut rng, 0);
    for solver in [Solver::Cbc, Solver::Highs] {
        if !solver.compiled_in() {
            match solve_firm(&inst, 0, &inst.price, &options(solver)) {
                Err(RuntimeError::Solver(m)) => assert!(m.contains("not in this build"), "{m}"),
                other => panic!("expected an error, got {other:?}"),
            }
        }
    }
}
