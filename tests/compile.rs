//! `prillm compile` on every example: the report as an analyst reads it, snapshotted. Wall
//! times are cut and the KKT residual is checked (≤ 1e-9) and then replaced, since its last
//! digits depend on rounding.

use std::process::Command;

/// Replaces what varies between machines: the residual (after checking it) and wall times.
fn stable(report: &str) -> String {
    report
        .lines()
        .map(|line| {
            let Some(at) = line.find("KKT residual ") else {
                return line.to_string();
            };
            let rest = &line[at + "KKT residual ".len()..];
            let token: String = rest
                .chars()
                .take_while(|c| !matches!(c, ';' | ' '))
                .collect();
            let residual: f64 = token
                .parse()
                .unwrap_or_else(|_| panic!("a residual in `{line}`"));
            assert!(residual <= 1e-9, "residual {residual} in `{line}`");
            let head = &line[..at];
            let tail = rest[token.len()..]
                .split("; ")
                .filter(|part| !part.trim_end().ends_with(" ms"))
                .collect::<Vec<_>>()
                .join("; ");
            format!("{head}KKT residual ≤ 1e-9{tail}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn compile_reports() {
    insta::glob!("../examples", "*.market", |path| {
        let out = Command::new(env!("CARGO_BIN_EXE_prillm"))
            .current_dir(path.parent().unwrap())
            .args(["compile", "--backend", "exact", "--color", "never"])
            .arg(path.file_name().unwrap())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        insta::assert_snapshot!(stable(&stdout));
    });
}
