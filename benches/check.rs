//! `cargo bench --bench check`: time `prillm check` (parse + check) on a generated market of
//! 10,000 providers and 1,000 users. Goal: ≤ 200 ms on the 2-core reference machine.

use std::fmt::Write;
use std::path::PathBuf;
use std::time::Instant;

use prillm_compiler::{check_text, FsLoader};

/// A market with `m` providers and `n` users, each user overriding one provider's delay.
pub fn generate(m: usize, n: usize) -> String {
    let mut s = String::from(
        "market generated {\n  period = day\n}\n\nqos ttft : ms\nqos load : congestion\n\n",
    );
    s.push_str("weights {\n  ttft = 0.0002 usd/mtok per ms\n  load = 1 usd/mtok\n}\n\n");
    for j in 0..m {
        let _ = writeln!(
            s,
            "provider p{j} {{ price = {:.3} usd/mtok  capacity = {} mtok  value = {:.3} usd/mtok  ttft = {} ms }}",
            0.05 + (j % 97) as f64 * 0.03,
            1_000 + (j % 13) * 500,
            0.5 + (j % 31) as f64 * 0.05,
            400 + (j % 41) * 50,
        );
    }
    for i in 0..n {
        let _ = writeln!(
            s,
            "user u{i} {{ demand = {} mtok  ttft[p{}] = 300 ms }}",
            100 + i % 17,
            (i * 7) % m
        );
    }
    s.push_str("\nfirm target owns p0 {\n  price in 0.01 .. 3 usd/mtok step 0.01\n}\n\nmaximize profit(target)\nsolve exact\n");
    s
}

fn main() {
    let text = generate(10_000, 1_000);
    // `cargo bench` passes `--bench`; under `cargo test` one run is a smoke test.
    let runs = if std::env::args().any(|a| a == "--bench") {
        15
    } else {
        1
    };
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let checked = check_text(PathBuf::from("generated.market"), text.clone(), &FsLoader);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(checked.result.is_ok(), "the generated market checks");
    }
    times.sort_by(f64::total_cmp);
    println!(
        "check: 10,000 providers × 1,000 users, {} KiB: median {:.1} ms, min {:.1} ms, max {:.1} ms ({runs} runs); goal ≤ 200 ms",
        text.len() / 1024,
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
}
