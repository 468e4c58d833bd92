//! Every example drives the front end: its lowered summary is snapshotted, the formatter is
//! idempotent on it and leaves its meaning unchanged, and the examples are kept formatted.

use std::path::Path;

use prillm_compiler::{compile_text, fmt, summary, FsLoader, Instance};

fn compile(path: &Path, text: String) -> Instance {
    let (_, result) = compile_text(path.to_path_buf(), text, &FsLoader);
    match result {
        Ok(i) => i,
        Err(d) => panic!("{} does not check: {:?}", path.display(), d),
    }
}

#[test]
fn example_summaries() {
    insta::glob!("../examples", "*.market", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let inst = compile(path, text);
        insta::assert_snapshot!(summary::summary(&inst));
    });
}

#[test]
fn formatter_round_trip_keeps_meaning() {
    insta::glob!("../examples", "**/*.market", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let once = fmt::format(&text, 0).expect("examples parse");
        let twice = fmt::format(&once, 0).expect("formatted text parses");
        assert_eq!(once, twice, "fmt is not idempotent on {}", path.display());
        assert_eq!(
            once,
            text,
            "{} is not formatted: run `prillm fmt`",
            path.display()
        );
        let comments = |s: &str| s.lines().filter(|l| l.contains('#')).count();
        assert_eq!(
            comments(&text),
            comments(&once),
            "fmt lost a comment in {}",
            path.display()
        );
        if path.parent().is_some_and(|p| p.ends_with("examples")) {
            // Same path, so imports and tables resolve alike.
            assert_eq!(compile(path, text), compile(path, once));
        }
    });
}

#[test]
fn lowering_is_reproducible() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hobbyists.market");
    let text = std::fs::read_to_string(&path).unwrap();
    let a = serde_json::to_string(&compile(&path, text.clone())).unwrap();
    let b = serde_json::to_string(&compile(&path, text.clone())).unwrap();
    assert_eq!(a, b);
    // A different seed gives different draws.
    let reseeded = text.replace("seed = 2026", "seed = 2027");
    let c = serde_json::to_string(&compile(&path, reseeded)).unwrap();
    assert_ne!(a, c);
}

#[test]
fn segment_draws_split_the_demand_and_follow_their_distributions() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hobbyists.market");
    let inst = compile(&path, std::fs::read_to_string(&path).unwrap());
    let hermes: Vec<usize> = (0..inst.n_users())
        .filter(|&i| inst.users[i].group == "hermes_users")
        .collect();
    assert_eq!(hermes.len(), 64);
    let total: f64 = hermes.iter().map(|&i| inst.demand[i]).sum();
    assert!((total - 28_913_508.0).abs() < 1e-6 * total);
    // uniform(0.5, 2) congestion weights stay in range; lognormal ttft weights are positive.
    for &i in &hermes {
        assert!((0.5..=2.0).contains(&inst.congestion_weight[i]));
        assert!(inst.qos_weights.get(i, 0) > 0.0);
    }
    // The discrete loyalty takes only its two values.
    let j = inst
        .providers
        .iter()
        .position(|p| p.name == "deepseek-v4-flash")
        .unwrap();
    for &i in &hermes {
        let v = inst.value.get(i, j);
        assert!(v == 0.62 || v == 0.9, "value {v}");
    }
    // Pure choosers have no congestion weight.
    assert!(inst
        .users
        .iter()
        .filter(|u| u.chooser)
        .all(|u| u.group == "tinkerers"));
    for i in 0..inst.n_users() {
        if inst.users[i].chooser {
            assert_eq!(inst.congestion_weight[i], 0.0);
        }
    }
}

#[test]
fn units_are_converted_to_canonical() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/regions.market");
    let inst = compile(&path, std::fs::read_to_string(&path).unwrap());
    // 21_000 mtok/week in a day market.
    assert!((inst.demand[0] - 3_000.0).abs() < 1e-9);
    // The pairwise table: eu_agency's delay to claude-opus-5.
    let k = inst
        .qos
        .iter()
        .position(|q| q.name == "region_ttft")
        .unwrap();
    assert_eq!(inst.qos_values[k].get(0, 0), 3626.0);
    // Capacity from throughput: observed × throughput / reference.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/premium.market");
    let inst = compile(&path, std::fs::read_to_string(&path).unwrap());
    assert_eq!(inst.providers[0].capacity_rule, "throughput");
    assert!((inst.capacity[0] - 1_724_965.0 * 56.0 / 50.0).abs() < 1.0);
}
