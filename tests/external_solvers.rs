//! Every example's LP and MPS files, read by Debian's `glpsol` (glpk-utils) and `cbc`
//! (coinor-cbc), which `scripts/test` installs. For each answer a solver gives:
//!
//! * soundness: its prices, re-simulated with the exact equilibrium solver, earn exactly the
//!   objective the solver reports, so every feasible point of the file is a real equilibrium;
//! * it never beats prillm's own optimum (the exact runtime's, or prillm's MILP for a firm
//!   with several prices), and where the solver proves optimality it matches it.
//!
//! Solvers run under a time limit; the markets they cannot prove in it are listed in
//! docs/milp.md, and the small examples must be proven.

use std::path::{Path, PathBuf};
use std::process::Command;

use prillm_compiler::lower::milp::{LinearProgram, Source};
use prillm_compiler::{FsLoader, Instance};
use prillm_runtime::milp::{self, MilpOptions};
use prillm_runtime::nash::{firm_objective, solve_leaders};
use prillm_runtime::{solve, Options};

/// Relative agreement expected of solvers that prove optimality within ~1e-6 tolerances
/// on rows scaled near 1 (a flat profit curve lets two grid points swap within this).
const AGREE: f64 = 2e-5;

struct Answer {
    proven: bool,
    /// The program's objective as the solver reports it (program units, maximised).
    objective: f64,
    /// Column values by name, when the output gives them.
    prices: Option<Vec<f64>>,
}

fn tool(name: &str) -> PathBuf {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .expect("sh");
    assert!(
        found.status.success(),
        "`{name}` is not installed: run scripts/test (it installs glpk-utils and coinor-cbc), \
         or `apt-get install glpk-utils coinor-cbc`"
    );
    PathBuf::from(String::from_utf8_lossy(&found.stdout).trim())
}

fn instance(path: &Path) -> Instance {
    let text = std::fs::read_to_string(path).unwrap();
    prillm_compiler::compile_text(path.to_path_buf(), text, &FsLoader)
        .1
        .unwrap_or_else(|_| panic!("{} compiles", path.display()))
}

/// Decided prices from named column values.
fn prices(
    program: &LinearProgram,
    named: &dyn Fn(&str) -> Option<f64>,
    base: &[f64],
) -> Option<Vec<f64>> {
    let mut p = base.to_vec();
    for g in &program.grids {
        let Source::Column(c) = program.prices[g.provider] else {
            continue;
        };
        p[g.provider] = g.snap(named(&program.columns[c].name)?);
    }
    Some(p)
}

/// `cbc FILE sec T solve solu OUT`: the first line gives the status and objective, then
/// `index name value reduced-cost` for the nonzero columns.
fn cbc(
    file: &Path,
    limit: u32,
    program: &LinearProgram,
    base: &[f64],
    negated: bool,
) -> Option<Answer> {
    let out = file.with_extension(format!(
        "{}.cbc",
        file.extension().unwrap().to_string_lossy()
    ));
    let status = Command::new(tool("cbc"))
        .arg(file)
        .args(["sec", &limit.to_string(), "ratioGap", "0", "solve", "solu"])
        .arg(&out)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&status.stdout);
    // CoinLpIO and CoinMpsIO report read errors as `### ERROR …` or `N errors`.
    let clean = !log.contains("###") && (!log.contains(" errors") || log.contains(" 0 errors"));
    assert!(
        clean && log.contains("Result -"),
        "cbc could not read {}:\n{log}",
        file.display()
    );
    let text = std::fs::read_to_string(&out).ok()?;
    let first = text.lines().next()?;
    if first.contains("no integer solution") || first.starts_with("Infeasible") {
        return None;
    }
    let proven = first.starts_with("Optimal");
    let value: f64 = first.rsplit(' ').next()?.trim().parse().ok()?;
    let values: std::collections::HashMap<&str, f64> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let t: Vec<&str> = l.split_whitespace().filter(|t| *t != "**").collect();
            Some((*t.get(1)?, t.get(2)?.parse().ok()?))
        })
        .collect();
    let named = |n: &str| Some(values.get(n).copied().unwrap_or(0.0));
    Some(Answer {
        proven,
        objective: if negated { -value } else { value },
        prices: prices(program, &named, base),
    })
}

/// `glpsol --lp|--freemps FILE --tmlim T -w OUT`: GLPK's plain solution format, `s mip ROWS
/// COLS STATUS OBJ` then `j COL VALUE` in the file's column order (ours, for MPS).
fn glpsol(
    file: &Path,
    mps: bool,
    limit: u32,
    program: &LinearProgram,
    base: &[f64],
) -> Option<Answer> {
    let out = file.with_extension(format!(
        "{}.glp",
        file.extension().unwrap().to_string_lossy()
    ));
    let run = Command::new(tool("glpsol"))
        .arg(if mps { "--freemps" } else { "--lp" })
        .arg(file)
        .args(["--tmlim", &limit.to_string(), "-w"])
        .arg(&out)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&run.stdout);
    assert!(
        !log.contains("error"),
        "glpsol could not read {}:\n{log}",
        file.display()
    );
    assert!(
        // The MPS reader counts the objective row; the LP reader does not.
        log.contains(&format!(
            "{} rows, {} columns",
            program.rows.len() + usize::from(mps),
            program.columns.len()
        )),
        "glpsol read other dimensions from {}:\n{log}",
        file.display()
    );
    let text = std::fs::read_to_string(&out).ok()?;
    let head: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with("s mip"))?
        .split_whitespace()
        .collect();
    let (status, value): (&str, f64) = (head[4], head[5].parse().ok()?);
    if status == "n" || status == "u" {
        return None;
    }
    let mut values = vec![0.0; program.columns.len()];
    for l in text.lines().filter(|l| l.starts_with("j ")) {
        let t: Vec<&str> = l.split_whitespace().collect();
        values[t[1].parse::<usize>().ok()? - 1] = t[2].parse().ok()?;
    }
    let named = |n: &str| {
        program
            .columns
            .iter()
            .position(|c| c.name == n)
            .map(|c| values[c])
    };
    Some(Answer {
        proven: status == "o",
        objective: if mps { -value } else { value },
        // The LP reader orders columns by first appearance, not ours: prices from MPS only.
        prices: if mps {
            prices(program, &named, base)
        } else {
            None
        },
    })
}

struct Case {
    name: &'static str,
    /// Seconds each solver gets per file.
    limit: u32,
    /// Both solvers must prove this one optimal within the limit (measured: docs/milp.md).
    must_prove: bool,
}

const CASES: &[Case] = &[
    Case {
        name: "regions",
        limit: 10,
        must_prove: true,
    },
    Case {
        name: "outside-option",
        limit: 10,
        must_prove: true,
    },
    Case {
        name: "translation",
        limit: 30,
        must_prove: true,
    },
    Case {
        name: "premium",
        limit: 60,
        must_prove: true,
    },
    Case {
        name: "economy",
        limit: 3,
        must_prove: false,
    },
    Case {
        name: "coding",
        limit: 3,
        must_prove: false,
    },
    Case {
        name: "hobbyists",
        limit: 3,
        must_prove: false,
    },
    Case {
        name: "two-firms",
        limit: 3,
        must_prove: false,
    },
];

fn check(case: &Case, dir: &Path) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(format!("{}.market", case.name));
    let inst = instance(&path);
    let firm = inst.objectives[0].firm;
    let options = MilpOptions::default();
    let program = milp::program(&inst, firm, &inst.price, &options).unwrap();
    let scale = program.objective_scale;
    // prillm's own optimum of this program: exact for one decided price, else prillm's MILP.
    let decisions = inst.decisions.iter().filter(|d| d.firm == firm).count();
    let optimum = if decisions == 1 && inst.objectives.len() == 1 {
        Some(solve_leaders(&inst, &Options::default()).unwrap().firms[0].objective)
    } else if case.must_prove {
        let s = milp::solve_firm(&inst, firm, &inst.price, &options)
            .unwrap()
            .unwrap();
        Some(s.objective)
    } else {
        None
    };
    let mut seen = Vec::new();
    for mps in [false, true] {
        let file = dir.join(format!("{}.{}", case.name, if mps { "mps" } else { "lp" }));
        let emitted = Command::new(env!("CARGO_BIN_EXE_prillm"))
            .args([
                "compile",
                path.to_str().unwrap(),
                "--emit",
                if mps { "mps" } else { "lp" },
                "-o",
                file.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            emitted.status.success(),
            "{}",
            String::from_utf8_lossy(&emitted.stderr)
        );
        let answers = [
            ("cbc", cbc(&file, case.limit, &program, &inst.price, mps)),
            (
                "glpsol",
                glpsol(&file, mps, case.limit, &program, &inst.price),
            ),
        ];
        for (solver, answer) in answers {
            let what = format!("{} {solver} {}", case.name, if mps { "mps" } else { "lp" });
            let Some(a) = answer else {
                assert!(!case.must_prove, "{what}: no solution");
                seen.push(format!("{what}: no feasible point in {} s", case.limit));
                continue;
            };
            let objective = a.objective * scale;
            if let Some(p) = &a.prices {
                let eq = solve(&inst, p, None, &Options::default()).unwrap();
                let simulated = firm_objective(&inst, firm, p, &eq.loads);
                assert!(
                    (simulated - objective).abs() <= AGREE * objective.abs().max(1.0),
                    "{what}: the solver's point earns {simulated} re-simulated, not {objective}"
                );
            }
            if let Some(best) = optimum {
                assert!(
                    objective <= best * (1.0 + AGREE) + 1e-9,
                    "{what}: {objective} beats prillm's optimum {best}"
                );
                if a.proven {
                    assert!(
                        objective >= best * (1.0 - AGREE),
                        "{what}: proven {objective} < prillm's {best}"
                    );
                }
            }
            assert!(
                a.proven || !case.must_prove,
                "{what}: not proven in {} s",
                case.limit
            );
            seen.push(format!(
                "{what}: {} {objective}",
                if a.proven { "optimal" } else { "feasible" }
            ));
        }
    }
    seen
}

#[test]
fn glpsol_and_cbc_read_every_example_and_agree() {
    let dir = std::env::temp_dir().join(format!("prillm-external-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let reports: Vec<Vec<String>> = std::thread::scope(|s| {
        let halves: Vec<_> = [0, 1]
            .into_iter()
            .map(|half| {
                let dir = &dir;
                s.spawn(move || {
                    CASES
                        .iter()
                        .skip(half)
                        .step_by(2)
                        .map(|c| check(c, dir))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    for line in reports.iter().flatten() {
        eprintln!("{line}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
