//! The invalid corpus: each file under `tests/invalid/` is checked by the real binary, which
//! must exit 1 with the diagnostic its name announces; stderr is snapshotted as users see it
//! (no colour, paths relative to the corpus).

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use prillm_compiler::diagnostics::Code;

fn check(dir: &Path, file: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_prillm"))
        .current_dir(dir)
        .args(["check", "--color", "never", file])
        .output()
        .expect("run prillm");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn invalid_files_get_their_diagnostic() {
    insta::glob!("invalid", "*.market", |path| {
        let dir = path.parent().unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        let (code, stdout, stderr) = check(dir, name);
        assert_eq!(code, 1, "{name}: exit code\n{stderr}");
        assert!(stdout.is_empty(), "{name}: wrote to stdout");
        assert!(!stderr.contains("panicked"), "{name}: panicked\n{stderr}");
        let stem = name.trim_end_matches(".market");
        let expected = stem.split('-').next().unwrap();
        if stem != "several-errors" {
            assert!(
                stderr.contains(&format!("prillm::{expected}")),
                "{name}: no prillm::{expected}\n{stderr}"
            );
        }
        assert!(stderr.contains("help:"), "{name}: no help line\n{stderr}");
        insta::assert_snapshot!(stderr);
    });
}

#[test]
fn every_diagnostic_code_has_an_invalid_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let covered: HashSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".market"))
        .map(|n| {
            n.trim_end_matches(".market")
                .split('-')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .map(|c| c.name())
        .filter(|c| !covered.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without an invalid file: {missing:?}"
    );
    assert!(covered.len() >= 30);
}

#[test]
fn several_errors_are_reported_in_one_run() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let (_, _, stderr) = check(&dir, "several-errors.market");
    assert!(stderr.contains("4 errors"), "{stderr}");
    let (_, _, stderr) = check(&dir, "syntax.market");
    assert!(
        stderr.contains("2 errors"),
        "syntax errors in two items: {stderr}"
    );
}
