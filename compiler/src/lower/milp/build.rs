//! The formulation of MODEL.md §4 (MILP): the followers replaced by their KKT conditions,
//! complementarity linearised with binaries and the tight big-M values of `bounds`, each
//! decided price on its grid, and revenue `p_j · x_j` linearised exactly.

use std::collections::BTreeMap;

use super::bounds::{self, Bounds};
use super::names::Namer;
use super::program::*;
use super::{MilpError, MilpSpec};
use crate::lower::{Instance, ObjectiveFn, Relation, Variable};

/// Sparse linear terms, merged by column.
#[derive(Default)]
struct Terms(BTreeMap<usize, f64>);

impl Terms {
    fn add(&mut self, column: usize, coefficient: f64) -> &mut Self {
        *self.0.entry(column).or_insert(0.0) += coefficient;
        self
    }
    fn into_vec(self) -> Vec<(usize, f64)> {
        self.0.into_iter().filter(|&(_, a)| a != 0.0).collect()
    }
}

struct Builder<'a> {
    inst: &'a Instance,
    names: Namer,
    columns: Vec<Column>,
    rows: Vec<Row>,
}

impl<'a> Builder<'a> {
    fn column(
        &mut self,
        name: String,
        lo: f64,
        hi: f64,
        integer: bool,
        meaning: ColumnMeaning,
    ) -> usize {
        self.columns.push(Column {
            name,
            lo,
            hi,
            integer,
            meaning,
        });
        self.columns.len() - 1
    }
    fn row(
        &mut self,
        name: String,
        terms: Terms,
        relation: Relation,
        rhs: f64,
        meaning: RowMeaning,
    ) {
        self.rows.push(Row {
            name,
            terms: terms.into_vec(),
            relation,
            rhs,
            meaning,
        });
    }
    fn user(&self, i: usize) -> &'a str {
        &self.inst.users[i].name
    }
    fn provider(&self, j: usize) -> &'a str {
        &self.inst.providers[j].name
    }
}

/// A decided price's columns: `p_j`, its grid variables, and (when revenue is needed) the
/// revenue parts.
struct PriceColumns {
    price: usize,
    /// One-hot: y_jk; binary: u_jb.
    selectors: Vec<usize>,
    revenue: Vec<usize>,
}

/// The grid each decided price of `firm` takes.
fn grids(inst: &Instance, spec: &MilpSpec) -> Result<Vec<PriceGrid>, MilpError> {
    let mut out = Vec::new();
    for d in inst.decisions.iter().filter(|d| d.firm == spec.firm) {
        let name = &inst.providers[d.provider].name;
        if !(d.lo.is_finite() && d.hi.is_finite() && d.lo <= d.hi) {
            return Err(MilpError::BadInstance(format!(
                "the price range of `{name}` is [{}, {}]",
                d.lo, d.hi
            )));
        }
        let (step, points, declared) = match d.grid() {
            Some(g) => (d.step.unwrap_or(0.0), g.len(), true),
            None => {
                let points = spec.grid_points.max(2);
                ((d.hi - d.lo) / (points - 1) as f64, points, false)
            }
        };
        if points > spec.max_grid_points {
            return Err(MilpError::TooLarge(format!(
                "the grid of `{name}` has {points} points, more than {}; give the decision a coarser `step`",
                spec.max_grid_points
            )));
        }
        out.push(PriceGrid {
            provider: d.provider,
            lo: d.lo,
            step,
            points,
            encoding: if points <= spec.one_hot_limit {
                GridEncoding::OneHot
            } else {
                GridEncoding::Binary
            },
            declared,
        });
    }
    Ok(out)
}

/// The power of ten nearest the largest demand: flows are counted in these units so the
/// program's numbers are near 1.
fn flow_unit(demand: &[f64]) -> f64 {
    let largest = demand.iter().copied().fold(0.0, f64::max);
    10f64.powf(largest.log10().round())
}

pub(super) fn build(inst: &Instance, spec: &MilpSpec) -> Result<LinearProgram, MilpError> {
    let (n, m) = (inst.n_users(), inst.n_providers());
    validate(inst, spec)?;
    let firm = &inst.firms[spec.firm];
    let goal = inst
        .objectives
        .iter()
        .find(|o| o.firm == spec.firm)
        .map_or(ObjectiveFn::Profit, |o| o.maximize.clone());
    let grids = grids(inst, spec)?;
    if grids.is_empty() {
        return Err(MilpError::BadInstance(format!(
            "firm `{}` decides no price",
            firm.name
        )));
    }
    let unit = flow_unit(&inst.demand);
    let demand: Vec<f64> = inst.demand.iter().map(|d| d / unit).collect();
    let capacity: Vec<f64> = inst.capacity.iter().map(|a| a / unit).collect();
    let weight: Vec<f64> = (0..n)
        .map(|i| {
            if inst.users[i].chooser {
                0.0
            } else {
                inst.congestion_weight[i]
            }
        })
        .collect();
    let mut price_range: Vec<(f64, f64)> = spec.prices.iter().map(|&p| (p, p)).collect();
    for g in &grids {
        price_range[g.provider] = (g.lo, g.point(g.points - 1));
    }
    let Bounds {
        usable,
        pairs_never_used,
        flow_lo,
        flow_hi,
        load_lo,
        load_hi: load_max,
        lambda,
        big_m,
    } = bounds::compute(inst, &price_range, &demand, &capacity, &weight);
    let captive: Vec<bool> = (0..n)
        .map(|i| (0..m).filter(|&j| usable[i * m + j]).count() == 1)
        .collect();
    // The load of captive users: a constant in each load row.
    let mut captive_load = vec![0.0; m];
    for i in (0..n).filter(|&i| captive[i]) {
        for j in (0..m).filter(|&j| usable[i * m + j]) {
            captive_load[j] += demand[i];
        }
    }
    // Pairs that carry flow at every allowed price need no binary.
    let always = |i: usize, j: usize| flow_lo[i * m + j] > 0.0;

    let mut b = Builder {
        inst,
        names: Namer::default(),
        columns: Vec::new(),
        rows: Vec::new(),
    };

    // Columns: loads, decided prices and their grids, then each user's multiplier and flows.
    let load: Vec<usize> = (0..m)
        .map(|j| {
            let name = b.names.name("x", &[b.provider(j)]);
            b.column(
                name,
                load_lo[j],
                load_max[j].max(load_lo[j]),
                false,
                ColumnMeaning::Load { provider: j },
            )
        })
        .collect();
    let revenue_needed = goal != ObjectiveFn::Share;
    let mut price_columns = Vec::new();
    for g in &grids {
        let j = g.provider;
        let pname = b.provider(j).to_string();
        let name = b.names.name("p", &[&pname]);
        let price = b.column(
            name,
            g.lo,
            g.point(g.points - 1),
            false,
            ColumnMeaning::Price { provider: j },
        );
        let parts = match g.encoding {
            GridEncoding::OneHot => g.points,
            GridEncoding::Binary => bits(g.points),
        };
        let selectors: Vec<usize> = (0..parts)
            .map(|k| {
                let (prefix, meaning) = match g.encoding {
                    GridEncoding::OneHot => (
                        "y",
                        ColumnMeaning::PricePoint {
                            provider: j,
                            point: k,
                        },
                    ),
                    GridEncoding::Binary => (
                        "u",
                        ColumnMeaning::PriceBit {
                            provider: j,
                            bit: k,
                        },
                    ),
                };
                let name = b.names.name(prefix, &[&pname, &k.to_string()]);
                b.column(name, 0.0, 1.0, true, meaning)
            })
            .collect();
        let revenue: Vec<usize> = if revenue_needed && firm.providers.contains(&j) {
            (0..parts)
                .map(|k| {
                    let name = b.names.name("w", &[&pname, &k.to_string()]);
                    b.column(
                        name,
                        0.0,
                        load_max[j],
                        false,
                        ColumnMeaning::RevenuePart {
                            provider: j,
                            part: k,
                        },
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        price_columns.push(PriceColumns {
            price,
            selectors,
            revenue,
        });
    }
    let mut lambda_col = vec![None; n];
    let mut flows = vec![Source::Constant(0.0); n * m];
    let mut active = vec![None; n * m];
    for i in 0..n {
        let uname = b.user(i).to_string();
        if captive[i] {
            let j = (0..m).find(|&j| usable[i * m + j]).unwrap_or(0);
            flows[i * m + j] = Source::Constant(demand[i]);
            continue;
        }
        let name = b.names.name("lam", &[&uname]);
        lambda_col[i] = Some(b.column(
            name,
            lambda[i].0,
            lambda[i].1,
            false,
            ColumnMeaning::Multiplier { user: i },
        ));
        for j in (0..m).filter(|&j| usable[i * m + j]) {
            let pname = b.provider(j).to_string();
            let name = b.names.name("f", &[&uname, &pname]);
            flows[i * m + j] = Source::Column(b.column(
                name,
                flow_lo[i * m + j],
                flow_hi[i * m + j],
                false,
                ColumnMeaning::Flow {
                    user: i,
                    provider: j,
                },
            ));
            if !always(i, j) {
                let name = b.names.name("z", &[&uname, &pname]);
                active[i * m + j] = Some(b.column(
                    name,
                    0.0,
                    1.0,
                    true,
                    ColumnMeaning::Active {
                        user: i,
                        provider: j,
                    },
                ));
            }
        }
    }
    let price_of = |j: usize| {
        grids
            .iter()
            .position(|g| g.provider == j)
            .map(|k| price_columns[k].price)
    };

    // Followers: demand, loads, and each pair's KKT conditions.
    for i in (0..n).filter(|&i| !captive[i]) {
        let uname = b.user(i).to_string();
        let mut t = Terms::default();
        for j in 0..m {
            if let Source::Column(c) = flows[i * m + j] {
                t.add(c, 1.0);
            }
        }
        let name = b.names.name("demand", &[&uname]);
        b.row(
            name,
            t,
            Relation::Eq,
            demand[i],
            RowMeaning::Demand { user: i },
        );
    }
    for j in 0..m {
        let mut t = Terms::default();
        t.add(load[j], 1.0);
        for i in 0..n {
            if let Source::Column(c) = flows[i * m + j] {
                t.add(c, -1.0);
            }
        }
        let name = b.names.name("load", &[b.provider(j)]);
        b.row(
            name,
            t,
            Relation::Eq,
            captive_load[j],
            RowMeaning::LoadDefinition { provider: j },
        );
    }
    for i in (0..n).filter(|&i| !captive[i]) {
        let lam = lambda_col[i].expect("non-captive users have a multiplier");
        for j in (0..m).filter(|&j| usable[i * m + j]) {
            let Source::Column(f) = flows[i * m + j] else {
                continue;
            };
            // MC_ij − λ_i = [p_j] + s_ij + (g_i/α_j)(x_j + f_ij) − λ_i.
            let mut constant = inst.static_cost(i, j);
            let mut t = Terms::default();
            match price_of(j) {
                Some(p) => {
                    t.add(p, 1.0);
                }
                None => constant += spec.prices[j],
            }
            if weight[i] > 0.0 {
                let slope = weight[i] / capacity[j];
                t.add(load[j], slope).add(f, slope);
            }
            t.add(lam, -1.0);
            let (uname, pname) = (b.user(i).to_string(), b.provider(j).to_string());
            let name = b.names.name("kkt", &[&uname, &pname]);
            let slack = Terms(t.0.clone());
            let Some(z) = active[i * m + j] else {
                // Always used: at the margin, no binary.
                b.row(
                    name,
                    t,
                    Relation::Eq,
                    -constant,
                    RowMeaning::Stationarity {
                        user: i,
                        provider: j,
                    },
                );
                continue;
            };
            b.row(
                name,
                t,
                Relation::Ge,
                -constant,
                RowMeaning::Stationarity {
                    user: i,
                    provider: j,
                },
            );
            let big = big_m[i * m + j];
            let mut slack = slack;
            slack.add(z, big);
            let name = b.names.name("slack", &[&uname, &pname]);
            b.row(
                name,
                slack,
                Relation::Le,
                big - constant,
                RowMeaning::Complementarity {
                    user: i,
                    provider: j,
                },
            );
            let mut t = Terms::default();
            t.add(f, 1.0).add(z, -flow_hi[i * m + j]);
            let name = b.names.name("use", &[&uname, &pname]);
            b.row(
                name,
                t,
                Relation::Le,
                0.0,
                RowMeaning::UseIfActive {
                    user: i,
                    provider: j,
                },
            );
        }
    }

    // Decided prices on their grids, and the revenue linearisation.
    for (g, cols) in grids.iter().zip(&price_columns) {
        let j = g.provider;
        let pname = b.provider(j).to_string();
        match g.encoding {
            GridEncoding::OneHot => {
                let mut t = Terms::default();
                cols.selectors.iter().for_each(|&y| {
                    t.add(y, 1.0);
                });
                let name = b.names.name("pick", &[&pname]);
                b.row(
                    name,
                    t,
                    Relation::Eq,
                    1.0,
                    RowMeaning::PickOnePoint { provider: j },
                );
                let mut t = Terms::default();
                t.add(cols.price, 1.0);
                for (k, &y) in cols.selectors.iter().enumerate() {
                    t.add(y, -g.point(k));
                }
                let name = b.names.name("price", &[&pname]);
                b.row(
                    name,
                    t,
                    Relation::Eq,
                    0.0,
                    RowMeaning::PriceDefinition { provider: j },
                );
                if !cols.revenue.is_empty() {
                    let mut t = Terms::default();
                    cols.revenue.iter().for_each(|&w| {
                        t.add(w, 1.0);
                    });
                    t.add(load[j], -1.0);
                    let name = b.names.name("rev", &[&pname]);
                    b.row(
                        name,
                        t,
                        Relation::Eq,
                        0.0,
                        RowMeaning::RevenueSplit { provider: j },
                    );
                    for (k, (&w, &y)) in cols.revenue.iter().zip(&cols.selectors).enumerate() {
                        let mut t = Terms::default();
                        t.add(w, 1.0).add(y, -load_max[j]);
                        let name = b.names.name("revcap", &[&pname, &k.to_string()]);
                        b.row(
                            name,
                            t,
                            Relation::Le,
                            0.0,
                            RowMeaning::RevenueLink {
                                provider: j,
                                part: k,
                            },
                        );
                    }
                }
            }
            GridEncoding::Binary => {
                // p_j = lo + step Σ_b 2^b u_b, the index at most points − 1.
                let mut t = Terms::default();
                t.add(cols.price, 1.0);
                let mut index = Terms::default();
                for (bit, &u) in cols.selectors.iter().enumerate() {
                    let weight = (1u64 << bit) as f64;
                    t.add(u, -g.step * weight);
                    index.add(u, weight);
                }
                let name = b.names.name("price", &[&pname]);
                b.row(
                    name,
                    t,
                    Relation::Eq,
                    g.lo,
                    RowMeaning::PriceDefinition { provider: j },
                );
                let largest = ((1u64 << cols.selectors.len()) - 1) as f64;
                if largest > (g.points - 1) as f64 {
                    let name = b.names.name("grid", &[&pname]);
                    b.row(
                        name,
                        index,
                        Relation::Le,
                        (g.points - 1) as f64,
                        RowMeaning::GridLimit { provider: j },
                    );
                }
                // w_b = u_b · x_j, exact for binary u_b (McCormick):
                // w_b ≤ X u_b, w_b ≤ x_j, w_b ≥ x_j − X (1 − u_b).
                let cap = load_max[j];
                for (bit, (&w, &u)) in cols.revenue.iter().zip(&cols.selectors).enumerate() {
                    let tag = bit.to_string();
                    let meaning = RowMeaning::RevenueLink {
                        provider: j,
                        part: bit,
                    };
                    let mut t = Terms::default();
                    t.add(w, 1.0).add(u, -cap);
                    let name = b.names.name("revcap", &[&pname, &tag]);
                    b.row(name, t, Relation::Le, 0.0, meaning);
                    let mut t = Terms::default();
                    t.add(w, 1.0).add(load[j], -1.0);
                    let name = b.names.name("revload", &[&pname, &tag]);
                    b.row(name, t, Relation::Le, 0.0, meaning);
                    let mut t = Terms::default();
                    t.add(w, 1.0).add(load[j], -1.0).add(u, -cap);
                    let name = b.names.name("revfloor", &[&pname, &tag]);
                    b.row(name, t, Relation::Ge, -cap, meaning);
                }
            }
        }
    }

    // Side constraints, with every price not decided here held at `spec.prices`.
    let total = demand.iter().sum::<f64>();
    for (k, c) in inst.constraints.iter().enumerate() {
        let mut t = Terms::default();
        let mut constant = 0.0;
        for &(a, v) in &c.terms {
            match v {
                Variable::Price(j) => match price_of(j) {
                    Some(p) => {
                        t.add(p, a);
                    }
                    None => constant += a * spec.prices[j],
                },
                Variable::Load(j) => {
                    t.add(load[j], a * unit);
                }
                Variable::Share(j) => {
                    t.add(load[j], a / total);
                }
                Variable::FirmLoad(f) => inst.firms[f].providers.iter().for_each(|&j| {
                    t.add(load[j], a * unit);
                }),
                Variable::FirmShare(f) => inst.firms[f].providers.iter().for_each(|&j| {
                    t.add(load[j], a / total);
                }),
            }
        }
        let label = c.label.clone().unwrap_or_else(|| (k + 1).to_string());
        let rhs = c.rhs - constant;
        let terms = t.into_vec();
        if terms.is_empty() {
            let holds = match c.relation {
                Relation::Le => 0.0 <= rhs + 1e-9 * rhs.abs().max(1.0),
                Relation::Ge => 0.0 >= rhs - 1e-9 * rhs.abs().max(1.0),
                Relation::Eq => rhs.abs() <= 1e-9 * c.rhs.abs().max(1.0),
            };
            if !holds {
                return Err(MilpError::Infeasible(format!(
                    "side constraint `{label}` involves only fixed prices and does not hold"
                )));
            }
            continue;
        }
        let name = b.names.name("side", &[&label]);
        b.rows.push(Row {
            name,
            terms,
            relation: c.relation,
            rhs,
            meaning: RowMeaning::Side { constraint: k },
        });
    }

    // The objective, in units of `unit` usd per period (or a share).
    let mut objective = Terms::default();
    for &j in &firm.providers {
        let cost = if goal == ObjectiveFn::Profit {
            inst.cost[j]
        } else {
            0.0
        };
        let decided = grids.iter().position(|g| g.provider == j);
        match (&goal, decided) {
            (ObjectiveFn::Share, _) => {
                objective.add(load[j], 1.0 / total);
            }
            (_, None) => {
                objective.add(load[j], spec.prices[j] - cost);
            }
            (_, Some(k)) => {
                let g = &grids[k];
                let cols = &price_columns[k];
                match g.encoding {
                    GridEncoding::OneHot => {
                        for (point, &w) in cols.revenue.iter().enumerate() {
                            objective.add(w, g.point(point) - cost);
                        }
                    }
                    GridEncoding::Binary => {
                        objective.add(load[j], g.lo - cost);
                        for (bit, &w) in cols.revenue.iter().enumerate() {
                            objective.add(w, g.step * (1u64 << bit) as f64);
                        }
                    }
                }
            }
        }
    }
    let objective_scale = if goal == ObjectiveFn::Share {
        1.0
    } else {
        unit
    };

    let binaries = b.columns.iter().filter(|c| c.integer).count();
    let presolve = Presolve {
        pairs: n * m,
        pairs_never_used,
        pairs_always_used: (0..n)
            .filter(|&i| !captive[i])
            .map(|i| (0..m).filter(|&j| always(i, j)).count())
            .sum(),
        captive_users: captive.iter().filter(|&&c| c).count(),
        binaries_before: n * m + grids.iter().map(|g| g.points).sum::<usize>(),
        binaries,
    };
    let mut prices: Vec<Source> = spec.prices.iter().map(|&p| Source::Constant(p)).collect();
    for (g, cols) in grids.iter().zip(&price_columns) {
        prices[g.provider] = Source::Column(cols.price);
    }
    let notes = notes(inst, spec, &grids, &presolve, unit, &goal);
    Ok(LinearProgram {
        name: inst.market.clone(),
        notes,
        columns: b.columns,
        rows: b.rows,
        objective: objective.into_vec(),
        objective_scale,
        flow_unit: unit,
        firm: spec.firm,
        grids,
        prices,
        flows,
        presolve,
    })
}

/// Bits of a grid index over `points` points.
fn bits(points: usize) -> usize {
    (usize::BITS - (points.max(2) - 1).leading_zeros()) as usize
}

fn validate(inst: &Instance, spec: &MilpSpec) -> Result<(), MilpError> {
    let (n, m) = (inst.n_users(), inst.n_providers());
    let bad = |s: String| Err(MilpError::BadInstance(s));
    if n == 0 || m == 0 {
        return bad("no user or no provider".into());
    }
    if spec.firm >= inst.firms.len() {
        return bad(format!("no firm {}", spec.firm));
    }
    if spec.prices.len() != m {
        return bad(format!("{} prices for {m} providers", spec.prices.len()));
    }
    for j in 0..m {
        let name = &inst.providers[j].name;
        if !spec.prices[j].is_finite() {
            return bad(format!("the price of `{name}` is not finite"));
        }
        if !(inst.capacity[j] > 0.0 && inst.capacity[j].is_finite()) {
            return bad(format!("the capacity of `{name}` is {}", inst.capacity[j]));
        }
    }
    for i in 0..n {
        let name = &inst.users[i].name;
        if !(inst.demand[i] > 0.0 && inst.demand[i].is_finite()) {
            return bad(format!("the demand of `{name}` is {}", inst.demand[i]));
        }
        let g = inst.congestion_weight[i];
        let valid_weight = g > 0.0 && g.is_finite();
        if !(inst.users[i].chooser || valid_weight) {
            return bad(format!("the congestion weight of `{name}` is {g}"));
        }
        for j in 0..m {
            if !inst.static_cost(i, j).is_finite() {
                return bad(format!(
                    "the cost of `{}` to `{name}` is not finite",
                    inst.providers[j].name
                ));
            }
        }
    }
    Ok(())
}

fn notes(
    inst: &Instance,
    spec: &MilpSpec,
    grids: &[PriceGrid],
    presolve: &Presolve,
    unit: f64,
    goal: &ObjectiveFn,
) -> Vec<String> {
    let firm = &inst.firms[spec.firm].name;
    let what = match goal {
        ObjectiveFn::Profit => "profit",
        ObjectiveFn::Revenue => "revenue",
        ObjectiveFn::Share => "share",
    };
    let mut notes = vec![
        format!("prillm MILP of market `{}`: maximise the {what} of firm `{firm}` with the users' equilibrium as KKT conditions (MODEL.md §4)", inst.market),
        format!("units: prices usd/mtok; flows and loads in units of {unit:e} mtok per {}", inst.period),
    ];
    if *goal != ObjectiveFn::Share {
        notes.push(format!("objective × {unit:e} = usd per {}", inst.period));
    }
    for g in grids {
        notes.push(format!(
            "price of `{}`: {} grid points from {} step {} ({}, {})",
            inst.providers[g.provider].name,
            g.points,
            g.lo,
            g.step,
            if g.declared {
                "declared"
            } else {
                "continuous range discretised"
            },
            match g.encoding {
                GridEncoding::OneHot => "one binary per point".to_string(),
                GridEncoding::Binary => format!("{} index bits", bits(g.points)),
            }
        ));
    }
    let fixed: Vec<String> = inst
        .decisions
        .iter()
        .filter(|d| d.firm != spec.firm)
        .map(|d| {
            format!(
                "{} = {}",
                inst.providers[d.provider].name, spec.prices[d.provider]
            )
        })
        .collect();
    if !fixed.is_empty() {
        notes.push(format!(
            "other firms' prices held fixed: {}",
            fixed.join(", ")
        ));
    }
    notes.push(format!(
        "presolve: of {} user-provider pairs, {} can never carry flow and {} always do; {} captive users; {} binaries (a plain formulation has {})",
        presolve.pairs, presolve.pairs_never_used, presolve.pairs_always_used, presolve.captive_users, presolve.binaries, presolve.binaries_before
    ));
    notes
}
