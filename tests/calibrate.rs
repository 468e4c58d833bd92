//! `prillm calibrate` on the real coding market: the report, the written-back market (it
//! re-checks and compiles), the ablation benchmark, and bad observations.

mod common;

use std::path::PathBuf;

use common::prillm_in;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch copy of coding.market and its observed flows, with `edit` applied to the CSV.
fn scratch(name: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("prillm-calibrate-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::copy(
        root().join("examples/coding.market"),
        dir.join("coding.market"),
    )
    .unwrap();
    let csv = std::fs::read_to_string(root().join("examples/data/coding-observed.csv")).unwrap();
    std::fs::write(dir.join("data/coding-observed.csv"), edit(&csv)).unwrap();
    dir
}

#[test]
fn calibrating_the_coding_market_writes_a_market_that_compiles() {
    let dir = scratch("ok", |c| c.to_string());
    let out = prillm_in(
        &dir,
        &[
            "calibrate",
            "coding.market",
            "--holdout",
            "codex,omp",
            "-o",
            "calibrated.market",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("held out: R²"), "{stdout}");
    let train_r2: f64 = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("train:"))
        .and_then(|l| l.split("R² ").nth(1))
        .and_then(|t| t.split(',').next())
        .and_then(|t| t.parse().ok())
        .unwrap();
    assert!(train_r2 > 0.7, "{stdout}");
    // The calibrated market checks, compiles, and calibrating it again changes little.
    let check = prillm_in(&dir, &["check", "calibrated.market"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let compile = prillm_in(&dir, &["compile", "calibrated.market"]);
    assert_eq!(compile.status.code(), Some(0));
    let again = prillm_in(
        &dir,
        &[
            "--format",
            "json",
            "calibrate",
            "calibrated.market",
            "--holdout",
            "codex,omp",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    let r2 = v["calibration"]["train"]["r2"].as_f64().unwrap();
    assert!((r2 - train_r2).abs() < 0.01, "{r2} vs {train_r2}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_observations_are_diagnosed() {
    // A negative flow: a checker diagnostic pointing into the CSV.
    let dir = scratch("neg", |c| c.replacen("10095945", "-5", 1));
    let out = prillm_in(&dir, &["calibrate", "coding.market"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be negative"));
    std::fs::remove_dir_all(&dir).unwrap();
    // An unknown user row.
    let dir = scratch("unknown", |c| c.replacen("hermes_agent", "hermes_agnet", 1));
    let out = prillm_in(&dir, &["calibrate", "coding.market"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("hermes_agent"),
        "did you mean"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    // Flows that do not add up to the demand.
    let dir = scratch("total", |c| c.replacen("3926942", "3000000", 1));
    let out = prillm_in(&dir, &["calibrate", "coding.market"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("add up to"));
    std::fs::remove_dir_all(&dir).unwrap();
    // A held-out user that does not exist; a market without observations.
    let out = prillm_in(
        &root(),
        &["calibrate", "examples/coding.market", "--holdout", "codexx"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("codex"));
    let out = prillm_in(&root(), &["calibrate", "examples/premium.market"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no observed flows"));
}

#[test]
fn bench_calibrate_runs_the_ablations() {
    let out = prillm_in(&root(), &["bench", "calibrate"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for row in ["full", "no congestion term", "objective factors only"] {
        assert!(stdout.contains(row), "{stdout}");
    }
}

#[test]
fn learned_parameters_are_fitted_and_written_back() {
    let dir = scratch("learned", |c| c.to_string());
    let market = std::fs::read_to_string(dir.join("coding.market")).unwrap();
    let learned = market
        .replacen("value = 2.667 usd/mtok", "value = learned", 1)
        .replacen("value = 0.6609 usd/mtok", "value = learned", 1)
        .replacen("ttft = 0.0002 usd/mtok per ms", "ttft = learned", 1);
    std::fs::write(dir.join("coding.market"), &learned).unwrap();
    let check = prillm_in(&dir, &["check", "coding.market"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Not solvable before calibration.
    let compile = prillm_in(&dir, &["compile", "coding.market"]);
    assert_eq!(compile.status.code(), Some(1));
    let err = String::from_utf8_lossy(&compile.stderr);
    assert!(
        err.contains("the value of `hy3`") && err.contains("`learned`"),
        "{err}"
    );
    // Calibration fits those three and leaves every other number as declared.
    let out = prillm_in(
        &dir,
        &["calibrate", "coding.market", "-o", "calibrated.market"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("fitted: the value of `hy3`, the value of `glm-5_2`, the weight of `ttft`"),
        "{stdout}"
    );
    let calibrated = std::fs::read_to_string(dir.join("calibrated.market")).unwrap();
    assert!(!calibrated.contains("learned"));
    let changed: Vec<(&str, &str)> = learned
        .lines()
        .zip(calibrated.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 3, "{changed:?}");
    assert!(changed.iter().all(|(a, _)| a.contains("learned")));
    let compile = prillm_in(&dir, &["compile", "calibrated.market"]);
    assert_eq!(compile.status.code(), Some(0));
    // The congestion weight sets the scale: it cannot be learned from one snapshot.
    let scale = learned.replacen("load = 1 usd/mtok", "load = learned", 1);
    std::fs::write(dir.join("coding.market"), scale).unwrap();
    let check = prillm_in(&dir, &["check", "coding.market"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&check.stderr).contains("cannot be learned from one snapshot"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Flows simulated by prillm itself at known preferences in three periods at different
/// prices, with the TTFT of `c` changing by day: calibrating a copy with every preference
/// `learned` recovers them all, the congestion weight included (values up to their common
/// shift).
#[test]
fn per_period_observations_identify_every_parameter() {
    let dir = std::env::temp_dir().join(format!("prillm-calibrate-periods-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let truth = std::fs::read_to_string(root().join("tests/data/toy-truth.market")).unwrap();
    std::fs::write(dir.join("truth.market"), &truth).unwrap();
    let days = [(1.0, 2.0, 0.5), (1.4, 1.6, 0.7), (0.8, 2.5, 0.4)];
    let mut flows = String::from("period,user,provider,tokens\n");
    let mut prices = String::from("period,a,b,c\n");
    let ttft_c = [600, 800, 450];
    let mut ttft = String::from("period,c\n");
    for (d, (pa, pb, pc)) in days.iter().enumerate() {
        let day = truth.replace("ttft = 600 ms", &format!("ttft = {} ms", ttft_c[d]));
        std::fs::write(dir.join("day.market"), day).unwrap();
        ttft.push_str(&format!("day{d},{}\n", ttft_c[d]));
        let sim = prillm_in(
            &dir,
            &[
                "--format",
                "json",
                "simulate",
                "day.market",
                "--price",
                &format!("a={pa}"),
                "--price",
                &format!("b={pb}"),
                "--price",
                &format!("c={pc}"),
            ],
        );
        let v: serde_json::Value = serde_json::from_slice(&sim.stdout).unwrap();
        let data = v["equilibrium"]["flows"]["data"].as_array().unwrap();
        for (i, user) in ["u1", "u2", "u3"].iter().enumerate() {
            for (j, provider) in ["a", "b", "c"].iter().enumerate() {
                flows.push_str(&format!("day{d},{user},{provider},{}\n", data[i * 3 + j]));
            }
        }
        prices.push_str(&format!("day{d},{pa},{pb},{pc}\n"));
    }
    std::fs::write(dir.join("flows.csv"), flows).unwrap();
    std::fs::write(dir.join("prices.csv"), prices).unwrap();
    std::fs::write(dir.join("ttft.csv"), ttft).unwrap();
    let mut learn = truth
        .replace("  ttft = 0.0004 usd/mtok per ms", "  ttft = learned")
        .replace("  load = 2 usd/mtok", "  load = learned");
    for v in ["2", "3.5", "1.2"] {
        learn = learn.replacen(&format!("value = {v} usd/mtok"), "value = learned", 1);
    }
    learn.push_str(
        "table observed from \"flows.csv\" unit mtok\n\
         table prices from \"prices.csv\" unit usd/mtok\n\
         table ttft from \"ttft.csv\" unit ms\n",
    );
    std::fs::write(dir.join("learn.market"), learn).unwrap();
    let out = prillm_in(&dir, &["calibrate", "learn.market", "-o", "out.market"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("3 periods") && stdout.contains("fitted: the periods' prices differ"),
        "{stdout}"
    );
    let calibrated = std::fs::read_to_string(dir.join("out.market")).unwrap();
    for line in [
        "  ttft = 0.0004 usd/mtok per ms",
        "  load = 2 usd/mtok",
        "  value = 0.8 usd/mtok",
        "  value = 2.3 usd/mtok",
        "  value = 0 usd/mtok",
    ] {
        assert!(calibrated.contains(line), "`{line}` not in\n{calibrated}");
    }
    // A held-out day is predicted from the other two.
    let out = prillm_in(&dir, &["calibrate", "learn.market", "--holdout", "day2"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 held out: day2") && stdout.contains("held out: R² 1.0000"),
        "{stdout}"
    );
    // Periods at the same prices cannot: the same flows, no prices table.
    let same = std::fs::read_to_string(dir.join("learn.market"))
        .unwrap()
        .replace("table prices from \"prices.csv\" unit usd/mtok\n", "");
    std::fs::write(dir.join("same.market"), same).unwrap();
    let out = prillm_in(&dir, &["calibrate", "same.market"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot identify the congestion weight"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_per_period_tables_are_diagnosed_in_the_csv() {
    let dir = std::env::temp_dir().join(format!(
        "prillm-calibrate-badperiods-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let truth = std::fs::read_to_string(root().join("tests/data/toy-truth.market")).unwrap();
    let market = format!(
        "{truth}table observed from \"flows.csv\" unit mtok\ntable prices from \"prices.csv\" unit usd/mtok\n"
    );
    std::fs::write(dir.join("m.market"), market).unwrap();
    let cases = [
        (
            "period,user,provider,tokens\nday1,u1,z,5\n",
            "period,a,b,c\nday1,1,2,3\n",
            "no provider named `z`",
        ),
        (
            "period,user,provider,tokens\nday1,u9,a,5\n",
            "period,a,b,c\nday1,1,2,3\n",
            "u9",
        ),
        (
            "period,user,provider,tokens\nday1,u1,a,-5\n",
            "period,a,b,c\nday1,1,2,3\n",
            "not a non-negative number",
        ),
        (
            "period,user,provider,tokens\nday1,u1,a,5\nday1,u1,a,6\n",
            "period,a,b,c\nday1,1,2,3\n",
            "two rows",
        ),
        (
            "period,user,provider,tokens\nday1,u1,a,5\n",
            "period,a,b,c\nday2,1,2,3\n",
            "which has no observed flows",
        ),
        (
            "period,user,provider,tokens\nday1,u1,a,5\n",
            "period,a,b\nday1,1,2\n",
            "no prices for every provider",
        ),
        (
            "period,user,provider,tokens\nday1,u1,a,5\n",
            "a,b,c\n1,2,3\n",
            "starts with a `period` column",
        ),
    ];
    for (flows, prices, expected) in cases {
        std::fs::write(dir.join("flows.csv"), flows).unwrap();
        std::fs::write(dir.join("prices.csv"), prices).unwrap();
        let out = prillm_in(&dir, &["check", "m.market"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{flows}{prices}: {err}");
        assert!(
            err.contains(expected),
            "{flows}{prices}: expected `{expected}` in\n{err}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
