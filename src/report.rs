//! Text reports of runtime results.

use std::fmt::Write;
use std::time::Duration;

use prillm_compiler::summary::num;
use prillm_compiler::Instance;
use prillm_runtime::milp::Certificate;
use prillm_runtime::nash::{firm_objective, LeadersSolution};
use prillm_runtime::Evaluation;

pub fn simulation(inst: &Instance, eval: &Evaluation, wall: Duration) -> String {
    let mut s = table(inst, eval);
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

/// Each user's allocation: its largest flows as shares of its demand.
fn allocations(inst: &Instance, eval: &Evaluation) -> String {
    const SHOWN: usize = 12;
    let mut s = String::new();
    let f = &eval.equilibrium.flows;
    let _ = writeln!(s, "  users' allocation (share of each user's demand):");
    for i in 0..inst.n_users().min(SHOWN) {
        let mut js: Vec<usize> = (0..inst.n_providers())
            .filter(|&j| f.get(i, j) > 0.0)
            .collect();
        js.sort_by(|&a, &b| f.get(i, b).total_cmp(&f.get(i, a)));
        let parts: Vec<String> = js
            .iter()
            .take(4)
            .map(|&j| {
                format!(
                    "{} {:.1}%",
                    inst.providers[j].name,
                    100.0 * f.get(i, j) / inst.demand[i]
                )
            })
            .collect();
        let more = if js.len() > 4 {
            format!(", +{} more", js.len() - 4)
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "    {:<24} {}{more}",
            inst.users[i].name,
            parts.join(", ")
        );
    }
    if inst.n_users() > SHOWN {
        let _ = writeln!(
            s,
            "    … {} more users (see --format json)",
            inst.n_users() - SHOWN
        );
    }
    s
}

/// The providers' and firms' outcomes at an equilibrium.
fn table(inst: &Instance, eval: &Evaluation) -> String {
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
    s.push_str(&allocations(inst, eval));
    s
}

/// The first leader's objective at `points` evenly spaced prices of its first decision, the
/// other prices as in `prices` (each point a re-solved equilibrium).
pub fn profit_curve(inst: &Instance, prices: &[f64], points: usize) -> Vec<(f64, f64)> {
    let Some(firm) = inst.objectives.first().map(|o| o.firm) else {
        return Vec::new();
    };
    let Some(dec) = inst.decisions.iter().find(|d| d.firm == firm) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(points);
    let mut warm = None;
    let mut prices = prices.to_vec();
    for k in 0..points {
        prices[dec.provider] = dec.lo + (dec.hi - dec.lo) * k as f64 / (points - 1) as f64;
        let Ok(eq) = prillm_runtime::solve(
            inst,
            &prices,
            warm.as_ref(),
            &prillm_runtime::Options::default(),
        ) else {
            continue;
        };
        out.push((
            prices[dec.provider],
            firm_objective(inst, firm, &prices, &eq.loads),
        ));
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
    sol: &LeadersSolution,
    eval: &Evaluation,
    curve: &[(f64, f64)],
    wall: Duration,
) -> String {
    let mut s = prices(inst, sol, eval, curve, "exact prices");
    s.push_str(&certificate(sol, wall));
    s
}

/// The solution's certificate line: outcome, rounds, Nash gap, KKT residual, wall time.
fn certificate(sol: &LeadersSolution, wall: Duration) -> String {
    format!(
        "certificate: {:?} after {} round(s); Nash gap {}; KKT residual {:.2e}; {:.1} ms\n",
        sol.outcome,
        sol.rounds,
        num(sol.nash_gap),
        sol.equilibrium.residual,
        wall.as_secs_f64() * 1e3
    )
}

/// The MILP backend's report: the prices, then each leader's MILP certificate.
pub fn milp(
    inst: &Instance,
    sol: &LeadersSolution,
    eval: &Evaluation,
    curve: &[(f64, f64)],
    certificates: &[(usize, Certificate)],
    wall: Duration,
) -> String {
    let mut s = prices(inst, sol, eval, curve, "MILP prices on the grid");
    s.push_str(&certificate(sol, wall));
    for (f, c) in certificates {
        let bound = match (c.bound, c.gap) {
            (Some(b), Some(g)) => format!("bound {} (gap {:.2e})", num(b), g),
            _ => "bound not reported by this solver".to_string(),
        };
        let _ = writeln!(
            s,
            "  MILP of firm {}: {} {:?}; objective {} (re-simulated {}); {bound}",
            inst.firms[*f].name,
            c.solver.name(),
            c.status,
            num(c.milp_objective),
            num(c.simulated_objective),
        );
        let _ = writeln!(
            s,
            "    {} columns, {} rows, {} binaries (plain formulation: {}); presolve: of {} pairs {} never used, {} always; {} captive users",
            c.columns,
            c.rows,
            c.binaries,
            c.presolve.binaries_before,
            c.presolve.pairs,
            c.presolve.pairs_never_used,
            c.presolve.pairs_always_used,
            c.presolve.captive_users
        );
        let _ = writeln!(
            s,
            "    loads agree with the exact equilibrium to {:.1e} of demand; row violation {:.1e}; {:.1} ms",
            c.load_disagreement, c.row_violation, c.wall_ms
        );
        for g in &c.grids {
            let _ = writeln!(
                s,
                "    grid of {}: {} points from {} step {}{}",
                inst.providers[g.provider].name,
                g.points,
                num(g.lo),
                num(g.step),
                if g.declared {
                    ""
                } else {
                    " (continuous range discretised; --grid-points)"
                }
            );
        }
    }
    s
}

/// The decided prices, each firm's objective, the profit curve and the market table.
fn prices(
    inst: &Instance,
    sol: &LeadersSolution,
    eval: &Evaluation,
    curve: &[(f64, f64)],
    title: &str,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "market {}: {title} (per {})", inst.market, inst.period);
    for d in &inst.decisions {
        let p = &eval.providers[d.provider];
        let at_bound = if p.price >= d.hi - 1e-12 * d.hi.abs().max(1.0) {
            "   (at its upper bound: the range, not the market, stops this price)"
        } else if p.price <= d.lo + 1e-12 * d.lo.abs().max(1.0) {
            "   (at its lower bound)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  {} (firm {}): price {} usd/mtok in [{}, {}]   load {} mtok   share {:.2}%   profit {} usd{at_bound}",
            p.name,
            inst.firms[d.firm].name,
            num(p.price),
            num(d.lo),
            num(d.hi),
            num(p.load),
            100.0 * p.share,
            num(p.profit)
        );
    }
    for f in &sol.firms {
        let _ = writeln!(
            s,
            "  firm {}: objective {}  (gain from deviating alone: {})",
            f.name,
            num(f.objective),
            num(f.deviation_gain)
        );
    }
    if let (Some(first), Some(last)) = (curve.first(), curve.last()) {
        let values: Vec<f64> = curve.iter().map(|c| c.1).collect();
        let firm = inst.objectives[0].firm;
        let name = inst
            .decisions
            .iter()
            .find(|d| d.firm == firm)
            .map_or("", |d| inst.providers[d.provider].name.as_str());
        let _ = writeln!(
            s,
            "  objective of {} vs the price of {name} over [{}, {}]: {}",
            inst.firms[firm].name,
            num(first.0),
            num(last.0),
            sparkline(&values)
        );
    }
    s.push_str(&table(inst, eval));
    s
}

/// "Why this price": the cost decomposition, the marginal users, the sensitivities.
pub fn explanation(e: &prillm_runtime::explain::Explanation) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "why this price of `{}`:", e.provider);
    let mut buyers: Vec<_> = e.users.iter().filter(|u| u.flow > 0.0).collect();
    buyers.sort_by(|a, b| a.distance.total_cmp(&b.distance));
    let mut others: Vec<_> = e.users.iter().filter(|u| u.flow <= 0.0).collect();
    others.sort_by(|a, b| a.distance.total_cmp(&b.distance));
    let _ = writeln!(
        s,
        "  each user's marginal cost of it, in usd/mtok, beside its best provider's:"
    );
    let _ = writeln!(
        s,
        "    {:<24} {:>9} {:>9} {:>10} {:>9} {:>9} {:>9}",
        "user", "price", "qos", "congestion", "value", "total", "best"
    );
    for u in buyers.iter().chain(others.iter()).take(10) {
        let _ = writeln!(
            s,
            "    {:<24} {:>9} {:>9} {:>10} {:>9} {:>9} {:>9}",
            u.user,
            num(u.price),
            num(u.qos),
            num(u.congestion),
            num(u.value),
            num(u.total),
            num(u.best)
        );
    }
    if e.users.len() > 10 {
        let _ = writeln!(
            s,
            "    … {} more users (see --format json)",
            e.users.len() - 10
        );
    }
    let first: Vec<String> = buyers
        .iter()
        .filter(|u| u.distance.is_finite())
        .take(3)
        .map(|u| format!("{} (after +{} usd/mtok)", u.user, num(u.distance)))
        .collect();
    if !first.is_empty() {
        let _ = writeln!(s, "  a higher price loses first: {}", first.join(", "));
    }
    let next: Vec<String> = others
        .iter()
        .take(3)
        .map(|u| format!("{} (at −{} usd/mtok)", u.user, num(u.distance)))
        .collect();
    if !next.is_empty() {
        let _ = writeln!(s, "  a lower price wins first: {}", next.join(", "));
    }
    let mut sens: Vec<_> = e.sensitivities.iter().collect();
    sens.sort_by(|a, b| b.to_price.abs().total_cmp(&a.to_price.abs()));
    for x in sens.iter().take(5) {
        let _ = writeln!(
            s,
            "  sensitivity to {}: {} per usd/mtok of its price, {} usd/mtok if its capacity doubled (first order)",
            x.rival,
            sig3(x.to_price),
            sig3(x.to_capacity * std::f64::consts::LN_2)
        );
    }
    s
}

/// Three significant digits: finite-difference sensitivities carry no more.
fn sig3(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let mag = v.abs().log10().floor() as i32;
    let decimals = (2 - mag).max(0) as usize;
    format!("{v:.decimals$}")
}
