//! `cargo bench --bench leader`: the exact single-price optimum on the four example segments
//! and on generated markets, beside a dense-grid baseline in the same run (every point of the
//! decision's grid, or 1,001 prices of a continuous one, each a warm-started equilibrium). Goal: ≤ 50 ms at 13 providers × 20 users.

use std::path::Path;
use std::time::Instant;

use prillm_compiler::{compile_text, FsLoader, Instance};
use prillm_runtime::leader::optimise;
use prillm_runtime::synthetic::market;
use prillm_runtime::{solve, Options};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        out = Some(f());
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
    }
    (best, out.unwrap())
}

/// The best profit over the decision's grid, or over `points` + 1 prices of a continuous one.
fn dense_grid(inst: &Instance, points: usize) -> f64 {
    let d = &inst.decisions[0];
    let grid: Vec<f64> = d.grid().unwrap_or_else(|| {
        (0..=points)
            .map(|k| d.lo + (d.hi - d.lo) * k as f64 / points as f64)
            .collect()
    });
    let mut warm = None;
    let mut best = f64::NEG_INFINITY;
    for p in grid {
        let mut prices = inst.price.clone();
        prices[d.provider] = p;
        let eq = solve(inst, &prices, warm.as_ref(), &Options::default()).expect("equilibrium");
        best = best.max((prices[d.provider] - inst.cost[d.provider]) * eq.loads[d.provider]);
        warm = Some(eq);
    }
    best
}

fn row(name: &str, inst: &Instance, runs: usize) {
    let opts = Options::default();
    let (t_exact, exact) = time(runs, || {
        optimise(inst, 0, &inst.price, &opts).expect("optimum")
    });
    let (t_grid, grid) = time(1, || dense_grid(inst, 1000));
    println!(
        "{name:<28} {:>4} providers × {:>4} users: exact {t_exact:>9.2} ms ({} pieces, objective {:.6e})   dense grid {t_grid:>9.1} ms (best {:.6e}, on the decision's grid if it has one)   exact/grid time {:.3}",
        inst.n_providers(),
        inst.n_users(),
        exact.pieces,
        exact.objective,
        grid,
        t_exact / t_grid
    );
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let examples: &[&str] = if bench {
        &["premium", "economy", "coding", "translation"]
    } else {
        &["premium"]
    };
    for name in examples {
        let path = root.join(format!("{name}.market"));
        let text = std::fs::read_to_string(&path).unwrap();
        let (_, inst) = compile_text(path, text, &FsLoader);
        row(
            name,
            &inst.expect("the example compiles"),
            if bench { 20 } else { 1 },
        );
    }
    if !bench {
        return;
    }
    for (m, n) in [(13, 20), (100, 20), (500, 20)] {
        let mut rng = ChaCha8Rng::seed_from_u64(m as u64);
        let inst = market(n, m, 0, &mut rng);
        row(&format!("generated {m}×{n}"), &inst, 5);
    }
}
