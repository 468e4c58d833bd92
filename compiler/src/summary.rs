//! A plain-text summary of a lowered market, for `prillm check --summary` and snapshot tests.

use std::fmt::Write;

use crate::lower::{Instance, ObjectiveFn, Relation, SolveMethod, Variable};

/// A number with six significant digits, without trailing zeros.
pub fn num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let mag = v.abs().log10().floor() as i32;
    if !(-4..=9).contains(&mag) {
        return format!("{v:.5e}");
    }
    let decimals = (5 - mag).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn stats(xs: impl Iterator<Item = f64>) -> String {
    let v: Vec<f64> = xs.collect();
    if v.is_empty() {
        return "-".into();
    }
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    if (max - min).abs() <= 1e-12 * max.abs().max(1.0) {
        num(mean)
    } else {
        format!("{} [{} .. {}]", num(mean), num(min), num(max))
    }
}

pub fn summary(inst: &Instance) -> String {
    let mut s = String::new();
    let n = inst.n_users();
    let m = inst.n_providers();
    let _ = writeln!(
        s,
        "market {} (per {}, seed {})",
        inst.market, inst.period, inst.seed
    );
    let _ = writeln!(
        s,
        "  {m} providers, {n} user rows, total demand {} mtok",
        num(inst.total_demand())
    );
    for q in &inst.qos {
        let _ = writeln!(s, "  qos {} : {} ({})", q.name, q.unit, q.kind);
    }
    let _ = writeln!(
        s,
        "providers (price usd/mtok, capacity mtok, cost usd/mtok, mean value usd/mtok):"
    );
    for (j, p) in inst.providers.iter().enumerate() {
        let owner = p
            .firm
            .map_or(String::new(), |f| format!("  firm {}", inst.firms[f].name));
        let decided = inst
            .decisions
            .iter()
            .find(|d| d.provider == j)
            .map_or(String::new(), |d| {
                let step = d
                    .step
                    .map_or("continuous".to_string(), |st| format!("step {}", num(st)));
                format!("  decided in [{}, {}] {step}", num(d.lo), num(d.hi))
            });
        let rule = if p.capacity_rule == "given" {
            ""
        } else {
            " (from throughput)"
        };
        let qos: Vec<String> = inst
            .qos
            .iter()
            .enumerate()
            .map(|(k, q)| {
                format!(
                    "{} {}",
                    q.name,
                    stats((0..n).map(|i| inst.qos_values[k].get(i, j)))
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "  {}: price {}  capacity {}{rule}  cost {}  value {}{}{owner}{decided}",
            p.name,
            num(inst.price[j]),
            num(inst.capacity[j]),
            num(inst.cost[j]),
            stats((0..n).map(|i| inst.value.get(i, j))),
            if qos.is_empty() {
                String::new()
            } else {
                format!("  {}", qos.join("  "))
            },
        );
    }
    let _ = writeln!(s, "users (demand mtok, congestion weight usd/mtok):");
    let mut i = 0;
    while i < n {
        let group = &inst.users[i].group;
        let end = (i..n).find(|&k| &inst.users[k].group != group).unwrap_or(n);
        let rows = i..end;
        let chooser = if inst.users[i].chooser {
            "  chooser"
        } else {
            ""
        };
        let draws = if inst.users[i].draw.is_some() {
            format!(" ({} draws)", end - i)
        } else {
            String::new()
        };
        let weights: Vec<String> = inst
            .qos
            .iter()
            .enumerate()
            .map(|(k, q)| {
                format!(
                    "weight {} {}",
                    q.name,
                    stats(rows.clone().map(|r| inst.qos_weights.get(r, k)))
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "  {group}{draws}: demand {}  congestion {}{}{chooser}",
            num(rows.clone().map(|r| inst.demand[r]).sum()),
            stats(rows.clone().map(|r| inst.congestion_weight[r])),
            if weights.is_empty() {
                String::new()
            } else {
                format!("  {}", weights.join("  "))
            },
        );
        i = end;
    }
    for o in &inst.objectives {
        let what = match o.maximize {
            ObjectiveFn::Profit => "profit",
            ObjectiveFn::Revenue => "revenue",
            ObjectiveFn::Share => "share",
        };
        let _ = writeln!(s, "maximize {what}({})", inst.firms[o.firm].name);
    }
    for c in &inst.constraints {
        let terms: Vec<String> = c
            .terms
            .iter()
            .map(|(coef, v)| {
                let var = match *v {
                    Variable::Price(j) => format!("price({})", inst.providers[j].name),
                    Variable::Load(j) => format!("load({})", inst.providers[j].name),
                    Variable::Share(j) => format!("share({})", inst.providers[j].name),
                    Variable::FirmLoad(f) => format!("load({})", inst.firms[f].name),
                    Variable::FirmShare(f) => format!("share({})", inst.firms[f].name),
                };
                format!("{}·{var}", num(*coef))
            })
            .collect();
        let rel = match c.relation {
            Relation::Le => "<=",
            Relation::Ge => ">=",
            Relation::Eq => "=",
        };
        let label = c.label.as_ref().map_or(String::new(), |l| format!("{l}: "));
        let _ = writeln!(
            s,
            "subject to {label}{} {rel} {}",
            terms.join(" + "),
            num(c.rhs)
        );
    }
    match &inst.solve {
        Some(SolveMethod::Exact) | None => {
            let _ = writeln!(s, "solve exact");
        }
        Some(SolveMethod::Milp { time_limit_s }) => {
            let _ = writeln!(
                s,
                "solve milp{}",
                time_limit_s.map_or(String::new(), |t| format!(" (time limit {} s)", num(t)))
            );
        }
        Some(SolveMethod::Network { k, weights }) => {
            let _ = writeln!(s, "solve network k = {k} weights {weights}");
        }
    }
    s
}
