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

/// Rounds every number to `digits` significant digits, checks and masks residuals, drops
/// wall times and sweep counts: what is left is the answer, not the machine.
fn stable_json(v: &mut serde_json::Value, digits: usize) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            map.remove("wall_ms");
            map.remove("sweeps");
            for (k, x) in map.iter_mut() {
                if k == "residual" {
                    let r = x.as_f64().expect("a residual");
                    assert!(r <= 1e-9, "residual {r}");
                    *x = Value::String("≤ 1e-9".into());
                } else {
                    // Finite-difference sensitivities carry three digits.
                    let d = if k == "to_price" || k == "to_capacity" {
                        3
                    } else {
                        digits
                    };
                    stable_json(x, d);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| stable_json(x, digits)),
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                if n.is_f64() {
                    let rounded: f64 = format!("{f:.*e}", digits - 1).parse().unwrap();
                    *v = serde_json::json!(rounded);
                }
            }
        }
        _ => {}
    }
}

#[test]
fn compile_json() {
    insta::glob!("../examples", "*.market", |path| {
        let out = Command::new(env!("CARGO_BIN_EXE_prillm"))
            .current_dir(path.parent().unwrap())
            .args(["compile", "--backend", "exact", "--format", "json"])
            .arg(path.file_name().unwrap())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        stable_json(&mut v, 6);
        insta::assert_json_snapshot!(v);
    });
}
