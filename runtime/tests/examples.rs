//! Every example's users' equilibrium at its current prices is certified.

use std::path::Path;

use prillm_compiler::{compile_text, FsLoader};
use prillm_runtime::{solve, Options};

#[test]
fn every_example_has_a_certified_equilibrium() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "market"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 6);
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let (_, inst) = compile_text(path.clone(), text, &FsLoader);
        let inst = inst.unwrap_or_else(|d| panic!("{}: {d:?}", path.display()));
        let eq = solve(&inst, &inst.price, None, &Options::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            eq.residual <= 1e-9,
            "{}: residual {}",
            path.display(),
            eq.residual
        );
        let total: f64 = eq.loads.iter().sum();
        assert!((total - inst.total_demand()).abs() <= 1e-9 * total);
        eprintln!(
            "{}: {} sweeps, residual {:.2e}",
            path.display(),
            eq.sweeps,
            eq.residual
        );
    }
}
