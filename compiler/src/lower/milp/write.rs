//! Writers: CPLEX-LP, free MPS, and a names map (CSV) from every column and row to what it
//! means in the market. Output is deterministic: same program, same bytes.

use std::fmt::Write;

use super::program::*;
use crate::lower::{Instance, Origins, Relation};

/// A number as the shortest text that reads back to the same f64.
fn num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:?}")
    }
}

/// `+ 2 x - 0.5 y …`, wrapped every few terms (some readers limit line length).
fn terms(program: &LinearProgram, terms: &[(usize, f64)], out: &mut String) {
    for (k, &(c, a)) in terms.iter().enumerate() {
        if k > 0 && k % 6 == 0 {
            out.push_str("\n   ");
        }
        let sign = if a < 0.0 { '-' } else { '+' };
        let _ = write!(out, " {sign} {} {}", num(a.abs()), program.columns[c].name);
    }
}

/// CPLEX-LP text (read by CPLEX, Gurobi, HiGHS, CBC, GLPK's `glpsol --lp`).
pub fn lp(program: &LinearProgram) -> String {
    let mut out = String::new();
    for note in &program.notes {
        let _ = writeln!(out, "\\ {note}");
    }
    out.push_str("Maximize\n obj:");
    if program.objective.is_empty() {
        // Some readers reject an empty objective; a zero term keeps it valid.
        let _ = write!(out, " 0 {}", program.columns[0].name);
    }
    terms(program, &program.objective, &mut out);
    out.push_str("\nSubject To\n");
    for row in &program.rows {
        let _ = write!(out, " {}:", row.name);
        terms(program, &row.terms, &mut out);
        let rel = match row.relation {
            Relation::Le => "<=",
            Relation::Ge => ">=",
            Relation::Eq => "=",
        };
        let _ = writeln!(out, " {rel} {}", num(row.rhs));
    }
    out.push_str("Bounds\n");
    for col in program.columns.iter().filter(|c| !c.integer) {
        let name = &col.name;
        match (col.lo.is_finite(), col.hi.is_finite()) {
            _ if col.lo == col.hi => {
                let _ = writeln!(out, " {name} = {}", num(col.lo));
            }
            (true, true) => {
                let _ = writeln!(out, " {} <= {name} <= {}", num(col.lo), num(col.hi));
            }
            (true, false) if col.lo == 0.0 => {}
            (true, false) => {
                let _ = writeln!(out, " {name} >= {}", num(col.lo));
            }
            (false, true) => {
                let _ = writeln!(out, " -inf <= {name} <= {}", num(col.hi));
            }
            (false, false) => {
                let _ = writeln!(out, " {name} free");
            }
        }
    }
    out.push_str("Binaries\n");
    for col in program.columns.iter().filter(|c| c.integer) {
        let _ = writeln!(out, " {}", col.name);
    }
    out.push_str("End\n");
    out
}

/// Free-format MPS (read by every MILP solver; GLPK's `glpsol --freemps`). MPS minimises
/// and readers disagree on `OBJSENSE` (GLPK rejects it, CBC 2.10 ignores it), so the
/// objective row holds the negated objective: its minimum is minus the maximum.
pub fn mps(program: &LinearProgram) -> String {
    let mut out = String::new();
    for note in &program.notes {
        let _ = writeln!(out, "* {note}");
    }
    let name: String = program
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    out.push_str("* the objective row `obj` is the negated objective: minimise it\n");
    let _ = writeln!(out, "NAME {name}");
    out.push_str("ROWS\n N obj\n");
    for row in &program.rows {
        let kind = match row.relation {
            Relation::Le => 'L',
            Relation::Ge => 'G',
            Relation::Eq => 'E',
        };
        let _ = writeln!(out, " {kind} {}", row.name);
    }
    // Column-major entries: the objective first, then rows in order.
    let mut entries: Vec<Vec<(&str, f64)>> = vec![Vec::new(); program.columns.len()];
    for &(c, a) in &program.objective {
        entries[c].push(("obj", -a));
    }
    for row in &program.rows {
        for &(c, a) in &row.terms {
            entries[c].push((&row.name, a));
        }
    }
    out.push_str("COLUMNS\n");
    let mut integer = false;
    for (c, col) in program.columns.iter().enumerate() {
        if col.integer != integer {
            let marker = if col.integer { "INTORG" } else { "INTEND" };
            let _ = writeln!(out, " MARKER 'MARKER' '{marker}'");
            integer = col.integer;
        }
        if entries[c].is_empty() {
            let _ = writeln!(out, " {} obj 0", col.name);
        }
        for (row, a) in &entries[c] {
            let _ = writeln!(out, " {} {row} {}", col.name, num(*a));
        }
    }
    if integer {
        out.push_str(" MARKER 'MARKER' 'INTEND'\n");
    }
    out.push_str("RHS\n");
    for row in program.rows.iter().filter(|r| r.rhs != 0.0) {
        let _ = writeln!(out, " RHS {} {}", row.name, num(row.rhs));
    }
    out.push_str("BOUNDS\n");
    for col in &program.columns {
        let name = &col.name;
        if col.integer && col.lo == 0.0 && col.hi == 1.0 {
            let _ = writeln!(out, " BV BND {name}");
            continue;
        }
        match (col.lo.is_finite(), col.hi.is_finite()) {
            _ if col.lo == col.hi => {
                let _ = writeln!(out, " FX BND {name} {}", num(col.lo));
            }
            (false, false) => {
                let _ = writeln!(out, " FR BND {name}");
            }
            (lo, hi) => {
                if lo {
                    let _ = writeln!(out, " LO BND {name} {}", num(col.lo));
                } else {
                    let _ = writeln!(out, " MI BND {name}");
                }
                if hi {
                    let _ = writeln!(out, " UP BND {name} {}", num(col.hi));
                }
            }
        }
    }
    out.push_str("ENDATA\n");
    out
}

/// A CSV with one line per column and row: its name in the LP/MPS files, what it means,
/// the user and provider it belongs to, and where they were declared.
pub fn names_map(program: &LinearProgram, inst: &Instance, origins: Option<&Origins>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "section",
        "name",
        "meaning",
        "user",
        "provider",
        "detail",
        "declared_at",
    ]);
    let user = |i: usize| inst.users[i].name.clone();
    let provider = |j: usize| inst.providers[j].name.clone();
    let user_at = |i: usize| {
        origins
            .and_then(|o| o.users.get(&inst.users[i].group))
            .cloned()
            .unwrap_or_default()
    };
    let provider_at = |j: usize| {
        origins
            .and_then(|o| o.providers.get(j))
            .cloned()
            .unwrap_or_default()
    };
    let grid = |j: usize| program.grids.iter().find(|g| g.provider == j);
    for col in &program.columns {
        let (meaning, u, p, detail, at) = match col.meaning {
            ColumnMeaning::Flow {
                user: i,
                provider: j,
            } => (
                "flow",
                user(i),
                provider(j),
                format!("× {:e} mtok", program.flow_unit),
                user_at(i),
            ),
            ColumnMeaning::Active {
                user: i,
                provider: j,
            } => (
                "pair is used",
                user(i),
                provider(j),
                String::new(),
                user_at(i),
            ),
            ColumnMeaning::Multiplier { user: i } => (
                "marginal cost λ",
                user(i),
                String::new(),
                "usd/mtok".into(),
                user_at(i),
            ),
            ColumnMeaning::Load { provider: j } => (
                "load",
                String::new(),
                provider(j),
                format!("× {:e} mtok", program.flow_unit),
                provider_at(j),
            ),
            ColumnMeaning::Price { provider: j } => (
                "decided price",
                String::new(),
                provider(j),
                "usd/mtok".into(),
                provider_at(j),
            ),
            ColumnMeaning::PricePoint { provider: j, point } => (
                "price grid point chosen",
                String::new(),
                provider(j),
                grid(j).map_or(String::new(), |g| format!("price {}", num(g.point(point)))),
                provider_at(j),
            ),
            ColumnMeaning::PriceBit { provider: j, bit } => (
                "price grid index bit",
                String::new(),
                provider(j),
                grid(j).map_or(String::new(), |g| {
                    format!("adds {} usd/mtok", num(g.step * (1u64 << bit) as f64))
                }),
                provider_at(j),
            ),
            ColumnMeaning::RevenuePart { provider: j, part } => (
                "revenue part (grid selector × load)",
                String::new(),
                provider(j),
                format!("part {part}"),
                provider_at(j),
            ),
        };
        let _ = w.write_record(["column", &col.name, meaning, &u, &p, &detail, &at]);
    }
    for row in &program.rows {
        let (meaning, u, p, at) = match row.meaning {
            RowMeaning::Demand { user: i } => {
                ("demand is placed", user(i), String::new(), user_at(i))
            }
            RowMeaning::LoadDefinition { provider: j } => (
                "load is the sum of flows",
                String::new(),
                provider(j),
                provider_at(j),
            ),
            RowMeaning::Stationarity {
                user: i,
                provider: j,
            } => (
                "no provider cheaper at the margin than λ",
                user(i),
                provider(j),
                user_at(i),
            ),
            RowMeaning::Complementarity {
                user: i,
                provider: j,
            } => (
                "a used pair is at the margin (big-M)",
                user(i),
                provider(j),
                user_at(i),
            ),
            RowMeaning::UseIfActive {
                user: i,
                provider: j,
            } => (
                "only a used pair carries flow",
                user(i),
                provider(j),
                user_at(i),
            ),
            RowMeaning::PriceDefinition { provider: j } => (
                "price is its grid point",
                String::new(),
                provider(j),
                provider_at(j),
            ),
            RowMeaning::PickOnePoint { provider: j } => {
                ("one grid point", String::new(), provider(j), provider_at(j))
            }
            RowMeaning::GridLimit { provider: j } => (
                "grid index within the grid",
                String::new(),
                provider(j),
                provider_at(j),
            ),
            RowMeaning::RevenueSplit { provider: j } => (
                "revenue parts add up to the load",
                String::new(),
                provider(j),
                provider_at(j),
            ),
            RowMeaning::RevenueLink { provider: j, .. } => (
                "revenue part follows its selector",
                String::new(),
                provider(j),
                provider_at(j),
            ),
            RowMeaning::Side { constraint } => (
                "side constraint",
                String::new(),
                String::new(),
                origins
                    .and_then(|o| o.constraints.get(constraint))
                    .cloned()
                    .unwrap_or_default(),
            ),
        };
        let detail = inst
            .constraints
            .get(match row.meaning {
                RowMeaning::Side { constraint } => constraint,
                _ => usize::MAX,
            })
            .and_then(|c| c.label.clone())
            .unwrap_or_default();
        let _ = w.write_record(["row", &row.name, meaning, &u, &p, &detail, &at]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
