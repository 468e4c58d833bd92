//! `prillm train`, `prillm compile --backend network` and `--emit plan` end to end: a trained
//! network prices a real market with a certified, re-simulated profit no better than the
//! exact optimum, the same seed writes the same weights, a folder is priced in one batch,
//! and unusable weights, devices or markets exit 1 with a diagnostic.

mod common;

use std::path::{Path, PathBuf};

use common::prillm;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("prillm-net-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn train(market: &str, weights: &Path, extra: &[&str]) -> std::process::Output {
    let w = weights.to_str().unwrap();
    let mut args = vec![
        "train",
        market,
        "--scenarios",
        "24",
        "--epochs",
        "2",
        "--candidates",
        "8",
        "-o",
        w,
    ];
    args.extend_from_slice(extra);
    prillm(&args)
}

/// A scratch folder and the weights `w.mpk` in it, trained on the economy market.
fn economy_network(name: &str) -> (PathBuf, PathBuf) {
    let dir = scratch(name);
    let weights = dir.join("w.mpk");
    let out = train("examples/economy.market", &weights, &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    (dir, weights)
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `compile --backend network --format json` of a market (or folder) with the weights `w`.
fn network_json(w: &Path, market: &str) -> serde_json::Value {
    json(&prillm(&[
        "compile",
        "--format",
        "json",
        "--backend",
        "network",
        "--weights",
        w.to_str().unwrap(),
        market,
    ]))
}

#[test]
fn a_trained_network_prices_the_coding_market() {
    let dir = scratch("coding");
    let weights = dir.join("coding-k2.mpk");
    let trained = train("examples/coding.market", &weights, &[]);
    assert_eq!(trained.status.code(), Some(0), "{trained:?}");
    assert!(dir.join("coding-k2.json").exists());
    let w = weights.to_str().unwrap();
    let out = network_json(&weights, "examples/coding.market");
    let d = &out["markets"][0]["decision"];
    assert_eq!(d["target"], "glm-5_2");
    let price = d["price"].as_f64().unwrap();
    assert!((0.0..=4.33 + 1e-9).contains(&price), "{price}");
    assert!(d["residual"].as_f64().unwrap() <= 1e-9);
    assert_eq!(d["kept"].as_array().unwrap().len(), 1);
    assert_eq!(d["merged"].as_array().unwrap().len(), 11);
    assert_eq!(d["abstract_market"].as_array().unwrap().len(), 3);
    // The network's price, re-simulated, earns at most the exact optimum.
    let exact = json(&prillm(&[
        "compile",
        "--format",
        "json",
        "examples/coding.market",
    ]));
    let best = exact["solution"]["firms"][0]["objective"].as_f64().unwrap();
    let got = d["objective"].as_f64().unwrap();
    assert!(got <= best * (1.0 + 1e-9) && got > 0.0, "{got} vs {best}");
    // The text report names the kept rival and the representative.
    let text = prillm(&[
        "compile",
        "--backend",
        "network",
        "--weights",
        w,
        "examples/coding.market",
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("kept") && text.contains("representative#1"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_same_seed_gives_the_same_network() {
    let dir = scratch("seed");
    let (a, b, c) = (dir.join("a.mpk"), dir.join("b.mpk"), dir.join("c.mpk"));
    for (w, seed) in [(&a, "3"), (&b, "3"), (&c, "4")] {
        let out = train("examples/economy.market", w, &["--seed", seed]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    }
    // burn names parameters with random ids, so compare what the weights decide: the
    // scores of every rival (and the hyper-parameters, training losses included).
    let decide =
        |w: &Path| network_json(w, "examples/economy.market")["markets"][0]["decision"].clone();
    assert_eq!(decide(&a), decide(&b));
    assert_ne!(decide(&a)["merged"], decide(&c)["merged"]);
    let meta = |p: &Path| std::fs::read_to_string(p.with_extension("json")).unwrap();
    assert!(meta(&a) == meta(&b) && meta(&a) != meta(&c));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_folder_of_markets_is_priced_in_one_batch() {
    let (dir, weights) = economy_network("batch");
    let snapshots = dir.join("snapshots");
    std::fs::create_dir_all(&snapshots).unwrap();
    for name in ["economy", "coding", "translation"] {
        let text = std::fs::read_to_string(format!("examples/{name}.market")).unwrap();
        // Imports are relative to the market file: keep them resolvable from the copy.
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let text = text.replace("import \"", &format!("import \"{}/", here.display()));
        let text = text.replace("from \"", &format!("from \"{}/", here.display()));
        std::fs::write(snapshots.join(format!("{name}.market")), text).unwrap();
    }
    let out = network_json(&weights, snapshots.to_str().unwrap());
    let markets = out["markets"].as_array().unwrap();
    assert_eq!(markets.len(), 3);
    for m in markets {
        assert!(m["decision"]["residual"].as_f64().unwrap() <= 1e-9, "{m}");
    }
    assert!(out["markets_per_second"].as_f64().unwrap() > 0.0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_plan_describes_the_batched_computation() {
    let out = prillm(&[
        "compile",
        "--emit",
        "plan",
        "--k",
        "3",
        "examples/coding.market",
    ]);
    let plan = json(&out);
    assert_eq!(plan["k"], 3);
    assert_eq!(plan["batch_shape"], serde_json::json!([1, 12, 12]));
    assert_eq!(plan["features"].as_array().unwrap().len(), 12);
    assert_eq!(plan["candidates"].as_array().unwrap().len(), 16);
    assert_eq!(plan["layout"], "rival-features-v2");
}

fn fails_with(args: &[&str], message: &str) {
    let out = prillm(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(err.contains(message), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unusable_weights_devices_and_markets_are_refused() {
    let (dir, weights) = economy_network("bad");
    let w = weights.to_str().unwrap();
    let market = "examples/economy.market";
    let absent = dir.join("absent.mpk");
    fails_with(
        &[
            "compile",
            "--backend",
            "network",
            "--weights",
            absent.to_str().unwrap(),
            market,
        ],
        "no weights file",
    );
    fails_with(
        &[
            "compile",
            "--backend",
            "network",
            "--weights",
            w,
            "--k",
            "3",
            market,
        ],
        "trained for K = 2",
    );
    if cfg!(not(feature = "cuda")) {
        fails_with(
            &[
                "compile",
                "--backend",
                "network",
                "--weights",
                w,
                "--device",
                "cuda",
                market,
            ],
            "device `cuda` is not available",
        );
    }
    fails_with(
        &[
            "compile",
            "--emit",
            "plan",
            "--k",
            "30",
            "examples/coding.market",
        ],
        "fewer than K = 30",
    );
    fails_with(
        &["train", "examples/premium.market", "--k", "9", "-o", w],
        "fewer than K = 9",
    );
    // Weights that are not a network: a diagnostic, not a panic.
    let junk = dir.join("junk.mpk");
    std::fs::write(&junk, b"not msgpack").unwrap();
    std::fs::copy(dir.join("w.json"), dir.join("junk.json")).unwrap();
    fails_with(
        &[
            "compile",
            "--backend",
            "network",
            "--weights",
            junk.to_str().unwrap(),
            market,
        ],
        "junk.mpk",
    );
    // No hyper-parameters beside the weights.
    std::fs::remove_file(dir.join("w.json")).unwrap();
    fails_with(
        &["compile", "--backend", "network", "--weights", w, market],
        "w.json",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
