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

/// The objective at `points` evenly spaced prices of the decision (re-solved equilibria).
pub fn profit_curve(
    inst: &Instance,
    d: &prillm_runtime::leader::PriceDecision,
    points: usize,
) -> Vec<(f64, f64)> {
    let dec = inst
        .decisions
        .iter()
        .find(|x| x.provider == d.provider)
        .expect("the decision exists");
    let mut out = Vec::with_capacity(points);
    let mut warm = None;
    for k in 0..points {
        let p = dec.lo + (dec.hi - dec.lo) * k as f64 / (points - 1) as f64;
        let mut prices = inst.price.clone();
        prices[d.provider] = p;
        let Ok(eq) = prillm_runtime::solve(
            inst,
            &prices,
            warm.as_ref(),
            &prillm_runtime::Options::default(),
        ) else {
            continue;
        };
        let firm = inst
            .decisions
            .iter()
            .find(|x| x.provider == d.provider)
            .map(|x| x.firm)
            .unwrap_or(0);
        let profit: f64 = inst.firms[firm]
            .providers
            .iter()
            .map(|&j| (prices[j] - inst.cost[j]) * eq.loads[j])
            .sum();
        out.push((p, profit));
        warm = Some(eq);
    }
    out
}

/// A text sparkline of a curve's values.
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    values
        .iter()
        .map(|v| {
            let r = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
            BARS[((r * 7.0).round() as usize).min(7)]
        })
        .collect()
}

pub fn exact(
    inst: &Instance,
    d: &prillm_runtime::leader::PriceDecision,
    eval: &Evaluation,
    curve: &[(f64, f64)],
    wall: Duration,
) -> String {
    let mut s = String::new();
    let name = &inst.providers[d.provider].name;
    let p = &eval.providers[d.provider];
    let _ = writeln!(
        s,
        "market {}: exact price of `{name}` (per {})",
        inst.market, inst.period
    );
    let _ = writeln!(
        s,
        "  price {} usd/mtok   objective {}   load {} mtok   share {:.2}%   revenue {} usd   profit {} usd",
        num(d.price),
        num(d.objective),
        num(p.load),
        100.0 * p.share,
        num(p.revenue),
        num(p.profit)
    );
    if let (Some(first), Some(last)) = (curve.first(), curve.last()) {
        let values: Vec<f64> = curve.iter().map(|c| c.1).collect();
        let _ = writeln!(
            s,
            "  profit curve over [{}, {}] usd/mtok: {}  (max {} usd)",
            num(first.0),
            num(last.0),
            sparkline(&values),
            num(values.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        );
    }
    s.push_str(&simulation(inst, eval, wall));
    let eq = d.equilibrium.as_ref().map_or(f64::NAN, |e| e.residual);
    let _ = writeln!(
        s,
        "certificate: {:?} over {} pieces of the price path; KKT residual at the price {:.2e}; {:.1} ms in all",
        d.status,
        d.pieces,
        eq,
        wall.as_secs_f64() * 1e3
    );
    s
}
