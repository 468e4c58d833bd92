//! The MILP backend through the command line: LP/MPS snapshots (formulation changes are
//! reviewed), the names map, agreement with the exact backend, and honest failures.

mod common;

use common::prillm;

fn stdout_of(args: &[&str]) -> String {
    let out = prillm(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn lp_and_mps_of_two_small_examples() {
    for name in ["regions", "outside-option"] {
        let file = format!("examples/{name}.market");
        let lp = stdout_of(&["compile", &file, "--emit", "lp"]);
        insta::assert_snapshot!(format!("{name}.lp"), lp);
        let mps = stdout_of(&["compile", &file, "--emit", "mps"]);
        insta::assert_snapshot!(format!("{name}.mps"), mps);
    }
}

#[test]
fn the_names_map_points_back_to_the_market() {
    let dir = std::env::temp_dir().join(format!("prillm-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let lp = dir.join("regions.lp");
    stdout_of(&[
        "compile",
        "examples/regions.market",
        "--emit",
        "lp",
        "-o",
        lp.to_str().unwrap(),
    ]);
    let names = std::fs::read_to_string(dir.join("regions.lp.names.csv")).unwrap();
    let text = std::fs::read_to_string(&lp).unwrap();
    let mut rdr = csv::Reader::from_reader(names.as_bytes());
    let mut rows = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        // Every name in the map is in the LP file, and every one says where it came from.
        assert!(text.contains(&rec[1]), "{} not in the LP file", &rec[1]);
        assert!(
            rec[6].starts_with("examples/") && rec[6].contains(".market:"),
            "{rec:?}"
        );
        rows += 1;
    }
    assert!(rows > 20);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn objective(v: &serde_json::Value) -> f64 {
    v["solution"]["firms"][0]["objective"].as_f64().unwrap()
}

#[test]
fn milp_and_exact_agree_on_an_example() {
    let exact: serde_json::Value = serde_json::from_str(&stdout_of(&[
        "compile",
        "--format",
        "json",
        "examples/premium.market",
    ]))
    .unwrap();
    let milp: serde_json::Value = serde_json::from_str(&stdout_of(&[
        "compile",
        "--format",
        "json",
        "--backend",
        "milp",
        "examples/premium.market",
    ]))
    .unwrap();
    assert_eq!(milp["solution"]["outcome"], "optimal");
    let (a, b) = (objective(&exact), objective(&milp));
    assert!((a - b).abs() <= 1e-6 * a, "exact {a} vs milp {b}");
    let c = &milp["milp"][0][1];
    assert_eq!(c["status"], "optimal");
    assert!(c["load_disagreement"].as_f64().unwrap() <= 1e-6);
    assert!(c["row_violation"].as_f64().unwrap() <= 1e-6);
    assert!(c["kkt_residual"].as_f64().unwrap() <= 1e-9);
    let sim = c["simulated_objective"].as_f64().unwrap();
    assert!(
        (sim - b).abs() <= 1e-9 * b,
        "the reported objective is the re-simulated one"
    );
}

#[test]
fn a_time_limit_is_not_an_optimum() {
    let out = prillm(&[
        "compile",
        "--backend",
        "milp",
        "--time-limit",
        "0.5",
        "examples/economy.market",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("time limit"), "{err}");
}

#[test]
fn a_solver_that_is_not_built_in_is_an_error() {
    let out = prillm(&[
        "compile",
        "--backend",
        "milp",
        "--solver",
        "highs",
        "examples/regions.market",
    ]);
    if cfg!(feature = "highs") {
        assert_eq!(out.status.code(), Some(0));
    } else {
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("not in this build"));
    }
}

#[test]
fn emit_lp_needs_an_objective() {
    let dir = std::env::temp_dir().join(format!("prillm-noobj-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string("examples/premium.market").unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("maximize"))
        .collect::<Vec<_>>()
        .join("\n");
    let file = dir.join("no-objective.market");
    std::fs::write(&file, without).unwrap();
    let out = prillm(&["compile", file.to_str().unwrap(), "--emit", "lp"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no objective"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bench_milp_runs_and_agrees_with_exact() {
    let out = stdout_of(&["bench", "milp", "--quick"]);
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.contains(" × ") && !l.contains("solver"))
        .collect();
    assert!(rows.len() >= 4, "{out}");
    for row in rows {
        assert!(
            row.contains("optimal") && row.ends_with("1.000000000"),
            "{row}"
        );
    }
}

#[test]
fn bench_network_runs_the_baselines() {
    let out = stdout_of(&["bench", "network", "--quick"]);
    for method in [" MIN ", " AVG ", " LOAD "] {
        assert!(out.contains(method), "{out}");
    }
    // With K = 4 of 8 rivals the load heuristic loses little; no row exceeds the optimum.
    for line in out.lines().filter(|l| l.contains('%')) {
        let pct: f64 = line
            .split('%')
            .next()
            .unwrap()
            .split_whitespace()
            .last()
            .unwrap()
            .parse()
            .unwrap();
        assert!(pct <= 100.0 + 1e-6, "{line}");
    }
}
