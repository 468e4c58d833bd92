//! Text reports of runtime results.

use std::fmt::Write;
use std::time::Duration;

use prillm_compiler::summary::num;
use prillm_compiler::Instance;
use prillm_runtime::Evaluation;

pub fn simulation(inst: &Instance, eval: &Evaluation, wall: Duration) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "market {}: users' equilibrium at fixed prices (per {})",
        inst.market, inst.period
    );
    let _ = writeln!(
        s,
        "  {:<28} {:>12} {:>14} {:>8} {:>11} {:>16} {:>16}",
        "provider", "usd/mtok", "load mtok", "share", "load/cap", "revenue usd", "profit usd"
    );
    for p in &eval.providers {
        let _ = writeln!(
            s,
            "  {:<28} {:>12} {:>14} {:>7.2}% {:>11} {:>16} {:>16}",
            p.name,
            num(p.price),
            num(p.load),
            100.0 * p.share,
            num(p.congestion),
            num(p.revenue),
            num(p.profit)
        );
    }
    for f in &eval.firms {
        let _ = writeln!(
            s,
            "  firm {}: share {:.2}%, revenue {} usd, profit {} usd",
            f.name,
            100.0 * f.share,
            num(f.revenue),
            num(f.profit)
        );
    }
    let eq = &eval.equilibrium;
    let _ = writeln!(
        s,
        "certificate: KKT residual {:.2e} after {} sweeps ({:.3} ms)",
        eq.residual,
        eq.sweeps,
        wall.as_secs_f64() * 1e3
    );
    s
}
