//! The MILP backend on the command line: `compile --backend milp`, `--emit lp|mps`.

use std::path::Path;

use prillm_compiler::lower::milp::write;
use prillm_compiler::Instance;
use prillm_runtime::milp::{self, Certificate, MilpOptions};
use prillm_runtime::nash::LeadersSolution;
use prillm_runtime::RuntimeError;

use crate::{instance_with_origins, Output, DIAGNOSTICS, USAGE};

/// Says which solver runs, and warns when the program is beyond what it proves quickly.
fn announce(inst: &Instance, options: &MilpOptions) {
    let Some(firm) = inst.objectives.first().map(|o| o.firm) else {
        return;
    };
    let Ok(program) = milp::program(inst, firm, &inst.price, options) else {
        return;
    };
    let solver = options.solver;
    eprintln!(
        "MILP: {} ({} binaries, {} rows; solvers in this build: {})",
        solver.name(),
        program.binaries(),
        program.rows.len(),
        milp::Solver::available()
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if program.binaries() > solver.practical_binaries() {
        eprintln!(
            "warning: {} binaries is more than {} proves in reasonable time (about {}); \
             it stops at the time limit of {} s with its best point (exit 1). \
             A coarser grid (`step`, --grid-points) or `--backend exact` is faster.",
            program.binaries(),
            solver.name(),
            solver.practical_binaries(),
            options.time_limit_s
        );
    }
}

pub fn solve(
    _out: &Output,
    inst: &Instance,
    options: &MilpOptions,
) -> Result<(LeadersSolution, Vec<(usize, Certificate)>), RuntimeError> {
    announce(inst, options);
    milp::solve_leaders(inst, options)
}

/// `--emit lp|mps`: the first leader's program, with a names map beside a written file.
pub fn emit(
    out: &Output,
    path: &Path,
    mps: bool,
    output: Option<&Path>,
    options: &MilpOptions,
) -> u8 {
    let (inst, origins) = match instance_with_origins(out, path) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(firm) = inst.objectives.first().map(|o| o.firm) else {
        out.failure("the market has no objective, so there is no MILP to write: add `maximize profit(FIRM)`");
        return DIAGNOSTICS;
    };
    let program = match milp::program(&inst, firm, &inst.price, options) {
        Ok(p) => p,
        Err(e) => {
            out.failure(&e.to_string());
            return DIAGNOSTICS;
        }
    };
    let text = if mps {
        write::mps(&program)
    } else {
        write::lp(&program)
    };
    let Some(target) = output else {
        print!("{text}");
        return 0;
    };
    let names = target.with_file_name(format!(
        "{}.names.csv",
        target
            .file_name()
            .map_or("program".into(), |n| n.to_string_lossy())
    ));
    for (p, body) in [
        (target.to_path_buf(), text),
        (names, write::names_map(&program, &inst, Some(&origins))),
    ] {
        if let Err(e) = std::fs::write(&p, body) {
            out.failure(&format!("cannot write `{}`: {e}", p.display()));
            return USAGE;
        }
    }
    0
}

/// `prillm bench milp`: each solver in this build on generated markets of growing size,
/// beside the exact runtime on the same grid, until the solver stops proving optimality
/// within the time limit.
pub fn bench(quick: bool) -> u8 {
    use prillm_runtime::bench::{milp_market, milp_vs_exact};
    let sizes: &[(usize, usize, usize)] = if quick {
        &[(3, 2, 21), (4, 3, 21)]
    } else {
        &[
            (3, 2, 21),
            (4, 3, 21),
            (5, 4, 21),
            (6, 5, 21),
            (8, 6, 41),
            (10, 8, 41),
            (13, 9, 41),
            (16, 12, 41),
            (20, 16, 41),
            (30, 20, 41),
        ]
    };
    let limit = if quick { 5.0 } else { 60.0 };
    println!(
        "MILP vs the exact runtime on the same grid (generated markets, one decided price; time limit {limit} s):"
    );
    println!(
        "  {:<8} {:>9} {:>5} {:>6} {:>10} {:>12} {:>11} {:>11}  objective MILP / exact",
        "solver", "m × n", "grid", "binary", "status", "MILP ms", "exact ms", "MILP/exact"
    );
    for solver in milp::Solver::available() {
        let options = MilpOptions {
            solver,
            time_limit_s: limit,
            ..MilpOptions::default()
        };
        for &(m, n, points) in sizes {
            let inst = milp_market(m, n, points);
            let row = match milp_vs_exact(&inst, &options) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return DIAGNOSTICS;
                }
            };
            let agree = row.milp_objective.map_or("-".to_string(), |v| {
                format!("{:.9}", v / row.exact_objective)
            });
            let known = ["optimal", "time_limit", "infeasible"].contains(&row.status.as_str());
            println!(
                "  {:<8} {:>9} {:>5} {:>6} {:>10} {:>12.1} {:>11.2} {:>11.0}  {agree}",
                row.solver,
                format!("{m} × {n}"),
                row.grid_points,
                row.binaries,
                if known { &row.status } else { "failed" },
                row.milp_ms,
                row.exact_ms,
                row.milp_ms / row.exact_ms.max(1e-3),
            );
            if row.status != "optimal" {
                if !known {
                    println!("           ({})", row.status);
                }
                println!(
                    "           {solver} stops being practical here; larger sizes skipped",
                    solver = row.solver
                );
                break;
            }
        }
    }
    0
}
