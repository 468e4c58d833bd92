//! The explanation's figures are consistent with the equilibrium they explain.

use prillm_runtime::explain::explain;
use prillm_runtime::leader::optimise;
use prillm_runtime::synthetic::market;
use prillm_runtime::{solve, Options};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

#[test]
fn marginal_costs_add_up_and_users_of_the_provider_are_at_their_best() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    for _ in 0..10 {
        let inst = market(6, 5, 1, &mut rng);
        let opts = Options::default();
        let best = optimise(&inst, 0, &inst.price, &opts).unwrap();
        let mut prices = inst.price.clone();
        prices[0] = best.price;
        let eq = solve(&inst, &prices, None, &opts).unwrap();
        let e = explain(&inst, 0, &prices, &eq, &opts).unwrap();
        assert_eq!(e.users.len(), 6);
        for u in &e.users {
            let sum = u.price + u.qos + u.congestion + u.value;
            assert!((sum - u.total).abs() <= 1e-12 * sum.abs().max(1.0));
            let tol = 1e-8 * u.total.abs().max(1.0);
            if u.flow > 0.0 {
                // KKT: a used provider is at the user's best marginal cost.
                assert!(
                    (u.total - u.best).abs() <= tol,
                    "{}: {} vs best {}",
                    u.user,
                    u.total,
                    u.best
                );
                assert!(u.distance >= 0.0);
            } else {
                // An unused provider costs at least as much as the best one.
                assert!(
                    u.total >= u.best - tol,
                    "{}: {} below best {}",
                    u.user,
                    u.total,
                    u.best
                );
            }
        }
        assert_eq!(e.sensitivities.len(), 4);
        assert!(e
            .sensitivities
            .iter()
            .all(|s| s.to_price.is_finite() && s.to_capacity.is_finite()));
    }
}
