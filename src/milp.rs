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
             it stops at the time limit of {} s with its best point and gap. \
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
pub fn emit(out: &Output, path: &Path, mps: bool, output: Option<&Path>, options: &MilpOptions) -> u8 {
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
    let text = if mps { write::mps(&program) } else { write::lp(&program) };
    let Some(target) = output else {
        print!("{text}");
        return 0;
    };
    let names = target.with_file_name(format!(
        "{}.names.csv",
        target.file_name().map_or("program".into(), |n| n.to_string_lossy())
    ));
    for (p, body) in [(target.to_path_buf(), text), (names, write::names_map(&program, &inst, Some(&origins)))] {
        if let Err(e) = std::fs::write(&p, body) {
            out.failure(&format!("cannot write `{}`: {e}", p.display()));
            return USAGE;
        }
    }
    0
}
