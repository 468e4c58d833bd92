//! The command line's contract: exit codes, JSON diagnostics, `fmt --check`, `--emit`.

mod common;

use common::prillm;

#[test]
fn check_exit_codes() {
    assert_eq!(
        prillm(&["check", "examples/coding.market"]).status.code(),
        Some(0)
    );
    assert_eq!(
        prillm(&["check", "tests/invalid/unknown_provider.market"])
            .status
            .code(),
        Some(1)
    );
    let missing = prillm(&["check", "no/such/file.market"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read"));
    assert_eq!(prillm(&["check"]).status.code(), Some(2), "usage error");
    // A device or a directory is refused, not read forever.
    assert_eq!(prillm(&["check", "/dev/zero"]).status.code(), Some(2));
    assert_eq!(prillm(&["check", "examples"]).status.code(), Some(2));
    assert_eq!(
        prillm(&["check", "--color", "purple", "examples/coding.market"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn json_diagnostics_carry_code_span_and_help() {
    let out = prillm(&[
        "check",
        "--format",
        "json",
        "tests/invalid/unknown_provider.market",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let d = &v[0];
    assert_eq!(d["code"], "prillm::unknown_provider");
    assert_eq!(d["span"]["line"], 7);
    assert_eq!(d["span"]["column"], 33);
    assert!(d["help"].as_str().is_some());
    let clean = prillm(&["check", "--format", "json", "examples/premium.market"]);
    assert_eq!(String::from_utf8_lossy(&clean.stdout).trim(), "[]");
}

#[test]
fn colour_is_only_on_request() {
    let plain = prillm(&[
        "check",
        "--color",
        "never",
        "tests/invalid/unknown_unit.market",
    ]);
    assert!(!String::from_utf8_lossy(&plain.stderr).contains('\u{1b}'));
    let coloured = prillm(&[
        "check",
        "--color",
        "always",
        "tests/invalid/unknown_unit.market",
    ]);
    assert!(String::from_utf8_lossy(&coloured.stderr).contains('\u{1b}'));
}

#[test]
fn fmt_check_and_write() {
    let dir = std::env::temp_dir().join(format!("prillm-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("messy.market");
    std::fs::write(&file, "market m {period=day}  # header\nqos load:congestion\n\n\n\nprovider a {price=1 usd/mtok capacity=5 mtok value=2 usd/mtok}\n").unwrap();
    let f = file.to_str().unwrap();
    assert_eq!(prillm(&["fmt", "--check", f]).status.code(), Some(1));
    assert_eq!(prillm(&["fmt", f]).status.code(), Some(0));
    let formatted = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        formatted,
        "market m { period = day }  # header\nqos load : congestion\n\nprovider a { price = 1 usd/mtok  capacity = 5 mtok  value = 2 usd/mtok }\n"
    );
    assert_eq!(prillm(&["fmt", "--check", f]).status.code(), Some(0));
    // A file that does not parse is reported and left alone.
    std::fs::write(&file, "market m {\n").unwrap();
    assert_eq!(prillm(&["fmt", f]).status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "market m {\n");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn emit_instance_is_the_json_contract() {
    let out = prillm(&["compile", "examples/two-firms.market", "--emit", "instance"]);
    assert_eq!(out.status.code(), Some(0));
    let inst: prillm_compiler::Instance = serde_json::from_slice(&out.stdout).expect("an Instance");
    assert_eq!(inst.n_providers(), 6);
    assert_eq!(inst.firms.len(), 2);
    assert_eq!(inst.objectives.len(), 2);
    assert_eq!(inst.decisions.len(), 4);
    let grid = inst.decisions[0].grid().unwrap();
    assert_eq!(grid.len(), 991);
    assert!((grid[990] - 2.0).abs() < 1e-12);
}

#[test]
fn compile_prices_one_decision_exactly_and_says_what_is_not_built() {
    let out = prillm(&["compile", "--format", "json", "examples/coding.market"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &v["solution"];
    assert_eq!(d["outcome"], "optimal");
    let glm_index = 3; // glm-5_2 is the fourth provider of coding.market
    let price = d["prices"][glm_index].as_f64().unwrap();
    assert!((0.0..=4.33).contains(&price));
    assert!(
        (price / 0.01 - (price / 0.01).round()).abs() < 1e-9,
        "on the 0.01 grid"
    );
    assert!(d["equilibrium"]["residual"].as_f64().unwrap() <= 1e-9);
    // The reported objective is the re-simulated profit at the reported price.
    let glm = v["evaluation"]["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "glm-5_2")
        .unwrap();
    let profit = glm["profit"].as_f64().unwrap();
    assert!((profit - d["firms"][0]["objective"].as_f64().unwrap()).abs() <= 1e-9 * profit);
    // No grid price does better.
    // (every 25th grid point through the CLI; the runtime tests check whole grids)
    for k in (0..=433).step_by(25) {
        let p = k as f64 * 0.01;
        let sim = prillm(&[
            "simulate",
            "--format",
            "json",
            "examples/coding.market",
            "--price",
            &format!("glm-5_2={p}"),
        ]);
        let w: serde_json::Value = serde_json::from_slice(&sim.stdout).unwrap();
        let q = w["providers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "glm-5_2")
            .unwrap();
        assert!(q["profit"].as_f64().unwrap() <= profit * (1.0 + 1e-9));
    }
    // Two firms: a price equilibrium, certified by its Nash gap.
    let two = prillm(&["compile", "--format", "json", "examples/two-firms.market"]);
    assert_eq!(two.status.code(), Some(0));
    let t: serde_json::Value = serde_json::from_slice(&two.stdout).unwrap();
    assert_eq!(t["solution"]["outcome"], "equilibrium");
    let objective: f64 = t["solution"]["firms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["objective"].as_f64().unwrap())
        .sum();
    assert!(t["solution"]["nash_gap"].as_f64().unwrap() <= 1e-6 * objective);
    let network = prillm(&["compile", "--backend", "network", "examples/coding.market"]);
    assert_eq!(network.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&network.stderr).contains("needs weights"));
}

#[test]
fn simulate_reports_a_certified_equilibrium() {
    let out = prillm(&[
        "simulate",
        "--format",
        "json",
        "examples/two-firms.market",
        "--price",
        "glm-5_2=2.0",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["equilibrium"]["residual"].as_f64().unwrap() <= 1e-9);
    let providers = v["providers"].as_array().unwrap();
    let shares: f64 = providers.iter().map(|p| p["share"].as_f64().unwrap()).sum();
    assert!((shares - 1.0).abs() < 1e-9);
    let glm = providers.iter().find(|p| p["name"] == "glm-5_2").unwrap();
    assert_eq!(glm["price"], 2.0);
    // A dearer price never draws more load.
    let cheaper = prillm(&[
        "simulate",
        "--format",
        "json",
        "examples/two-firms.market",
        "--price",
        "glm-5_2=1.0",
    ]);
    let w: serde_json::Value = serde_json::from_slice(&cheaper.stdout).unwrap();
    let glm_cheap = w["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "glm-5_2")
        .unwrap();
    assert!(glm_cheap["load"].as_f64().unwrap() >= glm["load"].as_f64().unwrap());
    // Text report and a misspelt provider.
    let text = prillm(&["simulate", "examples/premium.market"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("certificate: KKT residual"));
    let typo = prillm(&[
        "simulate",
        "examples/premium.market",
        "--price",
        "claude-sonet-5=3",
    ]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("did you mean `claude-sonnet-5`"));
}

#[test]
fn compile_draws_the_profit_curve() {
    let svg = std::env::temp_dir().join(format!("prillm-curve-{}.svg", std::process::id()));
    let out = prillm(&[
        "compile",
        "examples/premium.market",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("profit (usd per month)"));
    std::fs::remove_file(&svg).ok();
    let bad = prillm(&[
        "compile",
        "examples/premium.market",
        "--plot",
        "/no/such/dir/curve.svg",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn bench_exact_runs_and_agrees_with_the_grid() {
    let out = prillm(&["bench", "exact", "--quick"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("flow updates/s"));
    // Every row: the exact objective is at least the grid's best.
    for line in text.lines().filter(|l| l.contains("objectives")) {
        let nums: Vec<f64> = line
            .rsplit("objectives ")
            .next()
            .unwrap()
            .split(" / ")
            .map(|x| x.trim().parse().unwrap())
            .collect();
        assert!(nums[0] >= nums[1] * (1.0 - 1e-9), "{line}");
    }
}

#[test]
fn an_infeasible_market_exits_1_with_a_clear_message() {
    let dir = std::env::temp_dir().join(format!("prillm-infeasible-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("m.market");
    std::fs::write(
        &file,
        "market m { period = day }\nqos load : congestion\nweights { load = 1 usd/mtok }\n\
         provider a { price = 1 usd/mtok  capacity = 10 mtok  value = 1 usd/mtok }\n\
         provider b { price = 1 usd/mtok  capacity = 10 mtok  value = 1 usd/mtok }\n\
         user u { demand = 10 mtok }\nfirm f owns a { price in 0.5 .. 3 usd/mtok }\n\
         maximize profit(f)\nsubject to share(f) >= 99%\n",
    )
    .unwrap();
    let out = prillm(&["compile", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("infeasible"));
    std::fs::remove_dir_all(&dir).ok();
}
