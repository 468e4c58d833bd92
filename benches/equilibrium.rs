//! `cargo bench --bench equilibrium`: Gauss–Seidel sweeps of the users' equilibrium, in flow
//! updates per second (users × providers × sweeps / time), at 20×20, 200×200 and 1000×1000.
//! Goal: ≥ 10^8 updates per second on one core at the largest size. For peak memory against
//! the flow matrix, run the binary under `/usr/bin/time -v` with the argument `1000`.
//! `prillm bench exact` prints the same figures.

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let only: Option<usize> = std::env::args().skip(1).find_map(|a| a.parse().ok());
    let sizes: Vec<usize> = match only {
        Some(s) => vec![s],
        None if bench => vec![20, 200, 1000],
        None => vec![20], // a smoke run under `cargo test`
    };
    for n in sizes {
        let repeats = if n <= 20 {
            200
        } else if n <= 200 {
            5
        } else {
            1
        };
        let r = prillm_runtime::bench::throughput(n, repeats).expect("converges");
        println!(
            "equilibrium {n}×{n}: {} sweeps, residual {:.1e}, {:.1} ms, {:.2e} flow updates/s (goal ≥ 1e8 at 1000×1000); flow matrix {:.1} MiB",
            r.sweeps,
            r.residual,
            r.ms,
            r.updates_per_s,
            (n * n * 8) as f64 / (1 << 20) as f64
        );
    }
}
