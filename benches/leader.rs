//! `cargo bench --bench leader`: the exact single-price optimum on the four example segments
//! and on generated markets, beside a dense-grid baseline in the same run (every point of the
//! decision's grid, or 1,001 prices of a continuous one, each a warm-started equilibrium).
//! Goal: ≤ 50 ms at 13 providers × 20 users. `prillm bench exact` prints the same figures.

use std::path::Path;

use prillm_compiler::{compile_text, FsLoader};
use prillm_runtime::bench::{generated, leader_vs_grid, LeaderRow};

fn print(r: &LeaderRow) {
    println!(
        "{:<24} {:>4} providers × {:>4} users: exact {:>9.2} ms ({} pieces, objective {:.6e})   grid of {} points {:>9.1} ms (best {:.6e})   exact/grid time {:.3}",
        r.name, r.providers, r.users, r.exact_ms, r.pieces, r.exact_objective, r.grid_points, r.grid_ms, r.grid_objective, r.exact_ms / r.grid_ms
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
        let inst = inst.expect("the example compiles");
        print(&leader_vs_grid(name, &inst, if bench { 20 } else { 1 }).expect("solves"));
    }
    if bench {
        for (m, n) in [(13, 20), (100, 20), (500, 20)] {
            print(
                &leader_vs_grid(&format!("generated {m}×{n}"), &generated(m, n), 5)
                    .expect("solves"),
            );
        }
    }
}
