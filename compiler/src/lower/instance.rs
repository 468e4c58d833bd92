//! The `Instance`: a market as dense numbers. This is the contract between the compiler and
//! every runtime backend; it mentions no syntax, only names for reports.
//!
//! Units: prices, values, costs and weighted costs in usd/mtok; demands and capacities in
//! mtok per period; static QoS in each dimension's declared unit; weights in usd/mtok per
//! unit of their dimension; shares as fractions. User `i`'s cost of provider `j` is
//! `price[j] + Σ_k qos_weights[i][k]·qos_values[k][i][j] − value[i][j]
//!  + congestion_weight[i]·load[j]/capacity[j]`.

use serde::{Deserialize, Serialize};

use super::sample::Sampler;
use crate::check::{Atom, CapacitySource, Market, ObjectiveKind, Param, QosKind, Sense, Solve};
use crate::diagnostics::{Code, Diagnostic};

/// A dense row-major matrix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Matrix {
    pub fn filled(rows: usize, cols: usize, v: f64) -> Self {
        Matrix {
            rows,
            cols,
            data: vec![v; rows * cols],
        }
    }
    pub fn get(&self, r: usize, c: usize) -> f64 {
        self.data[r * self.cols + c]
    }
    pub fn set(&mut self, r: usize, c: usize, v: f64) {
        self.data[r * self.cols + c] = v;
    }
    pub fn row(&self, r: usize) -> &[f64] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderInfo {
    pub name: String,
    pub firm: Option<usize>,
    /// `given`, or `throughput` when derived from a rating and an observed load.
    pub capacity_rule: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    /// `cline`, or `hobbyists#3` for the third draw of a segment.
    pub name: String,
    /// The user or segment this row comes from.
    pub group: String,
    /// Draw number (1-based) within a segment.
    pub draw: Option<u32>,
    /// Ignores congestion: its demand goes to its cheapest providers.
    pub chooser: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QosInfo {
    pub name: String,
    pub unit: String,
    /// `per_provider` or `pairwise`.
    pub kind: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FirmInfo {
    pub name: String,
    pub providers: Vec<usize>,
}

/// A price a firm decides.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecisionInfo {
    pub provider: usize,
    pub firm: usize,
    pub lo: f64,
    pub hi: f64,
    /// Grid step; `None` for a continuous price.
    pub step: Option<f64>,
}

impl DecisionInfo {
    /// The grid points `lo, lo + step, …, hi`, or `None` for a continuous price.
    pub fn grid(&self) -> Option<Vec<f64>> {
        let step = self.step?;
        let n = ((self.hi - self.lo) / step).round() as usize;
        Some((0..=n).map(|k| self.lo + k as f64 * step).collect())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveFn {
    Profit,
    Revenue,
    Share,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveInfo {
    pub firm: usize,
    pub maximize: ObjectiveFn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "of", content = "index", rename_all = "snake_case")]
pub enum Variable {
    /// Decided price of a provider (usd/mtok).
    Price(usize),
    /// Load of a provider (mtok).
    Load(usize),
    /// Load of a provider over all demand.
    Share(usize),
    /// Summed load of a firm (mtok).
    FirmLoad(usize),
    /// Summed share of a firm.
    FirmShare(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Le,
    Ge,
    Eq,
}

/// `Σ coef · variable (relation) rhs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearConstraint {
    pub label: Option<String>,
    pub terms: Vec<(f64, Variable)>,
    pub relation: Relation,
    pub rhs: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum SolveMethod {
    Exact,
    Milp { time_limit_s: Option<f64> },
    Network { k: u32, weights: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub market: String,
    pub period: String,
    pub seed: u64,
    pub providers: Vec<ProviderInfo>,
    pub users: Vec<UserInfo>,
    /// Current prices (m); a decided provider without one starts at its low bound.
    pub price: Vec<f64>,
    pub capacity: Vec<f64>,
    pub cost: Vec<f64>,
    /// Demand per user row (n).
    pub demand: Vec<f64>,
    /// Perceived value of each provider to each user (n × m), taste shocks included.
    pub value: Matrix,
    /// The static QoS dimensions.
    pub qos: Vec<QosInfo>,
    /// One n × m matrix per static QoS dimension.
    pub qos_values: Vec<Matrix>,
    /// Weight of each static QoS dimension for each user (n × qos).
    pub qos_weights: Matrix,
    /// Congestion weight per user; 0 for a pure chooser.
    pub congestion_weight: Vec<f64>,
    pub firms: Vec<FirmInfo>,
    pub decisions: Vec<DecisionInfo>,
    pub objectives: Vec<ObjectiveInfo>,
    pub constraints: Vec<LinearConstraint>,
    pub solve: Option<SolveMethod>,
    /// Observed flows (n × m, mtok per period) from a `table observed`, for calibration; a
    /// segment's draws share its row equally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<Matrix>,
    /// Parameters declared `learned`, to be fitted by `prillm calibrate`; `None` when none is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learned: Option<Learned>,
    /// Observations per period (`table observed` with a `period` column, `table prices`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_periods: Option<Vec<ObservedPeriod>>,
}

/// One period's prices (the market's, or `table prices`) and observed flows (n × m, mtok).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObservedPeriod {
    pub name: String,
    pub prices: Vec<f64>,
    pub flows: Matrix,
    /// The static QoS values in this period (as the instance's `qos_values`).
    pub qos_values: Vec<Matrix>,
}

/// Which parameters are `learned`: per provider value, per static QoS weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Learned {
    pub values: Vec<bool>,
    pub qos: Vec<bool>,
    pub congestion: bool,
}

impl Learned {
    /// What is learned, in words (`the value of \`x\``, `the weight of \`ttft\``).
    pub fn describe(&self, inst: &Instance) -> Vec<String> {
        let values = (0..self.values.len())
            .filter(|&j| self.values[j])
            .map(|j| format!("the value of `{}`", inst.providers[j].name));
        let weights = (0..self.qos.len())
            .filter(|&k| self.qos[k])
            .map(|k| format!("the weight of `{}`", inst.qos[k].name));
        let congestion = self.congestion.then(|| "the congestion weight".to_string());
        values.chain(weights).chain(congestion).collect()
    }
}

impl Instance {
    pub fn n_users(&self) -> usize {
        self.users.len()
    }
    pub fn n_providers(&self) -> usize {
        self.providers.len()
    }
    /// User `i`'s cost of provider `j` apart from price and congestion:
    /// `Σ_k w_ik q_kij − b_ij`.
    pub fn static_cost(&self, i: usize, j: usize) -> f64 {
        let mut c = -self.value.get(i, j);
        for (k, q) in self.qos_values.iter().enumerate() {
            c += self.qos_weights.get(i, k) * q.get(i, j);
        }
        c
    }
    pub fn total_demand(&self) -> f64 {
        self.demand.iter().sum()
    }
}

/// Lowers a checked market. Draws are taken per segment in a fixed order (for each draw:
/// demand, weights in declaration order, value overrides, then taste shocks per provider).
pub fn lower(market: &Market) -> Result<Instance, Vec<Diagnostic>> {
    let m = market.providers.len();
    let statics: Vec<usize> = (0..market.qos.len())
        .filter(|&k| market.qos[k].kind != QosKind::Congestion)
        .collect();
    let congestion = market.congestion();
    let rows: usize = market
        .users
        .iter()
        .map(|u| u.segment.as_ref().map_or(1, |s| s.draws as usize))
        .sum();

    let mut users = Vec::with_capacity(rows);
    let mut demand = Vec::with_capacity(rows);
    let mut value = Matrix::filled(rows, m, 0.0);
    let mut qos_values: Vec<Matrix> = statics
        .iter()
        .map(|_| Matrix::filled(rows, m, 0.0))
        .collect();
    let mut qos_weights = Matrix::filled(rows, statics.len(), 0.0);
    let mut congestion_weight = Vec::with_capacity(rows);
    let mut diags = Vec::new();

    let mut row = 0;
    for u in &market.users {
        let draws = u.segment.as_ref().map_or(1, |s| s.draws);
        let mut sampler = Sampler::new(u.segment.as_ref().map_or(0, |s| s.seed));
        for r in 0..draws {
            let d = take(&u.demand, &mut sampler, &mut diags) / draws as f64;
            if d <= 0.0 && diags.is_empty() {
                let at = u.demand.at();
                diags.push(
                    Diagnostic::new(
                        Code::NonpositiveDemand,
                        at.file,
                        at.span,
                        "a draw of this demand is zero",
                    )
                    .label("underflows to zero")
                    .help("the distribution puts mass too close to zero; shift it up"),
                );
            }
            demand.push(d);
            for (slot, &k) in statics.iter().enumerate() {
                let w = u.weights[k]
                    .as_ref()
                    .map_or(0.0, |p| take(p, &mut sampler, &mut diags));
                qos_weights.set(row, slot, w);
            }
            let cw = match (congestion, u.chooser) {
                (Some(k), false) => u.weights[k]
                    .as_ref()
                    .map_or(0.0, |p| take(p, &mut sampler, &mut diags)),
                _ => 0.0,
            };
            congestion_weight.push(cw);
            for (j, p) in market.providers.iter().enumerate() {
                value.set(row, j, p.value.value);
                for (slot, &k) in statics.iter().enumerate() {
                    let v = p.qos[k]
                        .map(|n| n.value)
                        .or(market.qos[k].default.map(|n| n.value));
                    qos_values[slot].set(row, j, v.unwrap_or(0.0));
                }
            }
            for (j, p) in &u.values {
                let v = take(p, &mut sampler, &mut diags);
                value.set(row, *j, v);
            }
            if let Some(t) = &u.taste {
                for j in 0..m {
                    let shock = sampler.draw(t);
                    value.set(row, j, value.get(row, j) + shock);
                }
            }
            for &(k, j, n) in &u.qos_overrides {
                if let Some(slot) = statics.iter().position(|&s| s == k) {
                    qos_values[slot].set(row, j, n.value);
                }
            }
            users.push(UserInfo {
                name: if u.segment.is_some() {
                    format!("{}#{}", u.name, r + 1)
                } else {
                    u.name.clone()
                },
                group: u.name.clone(),
                draw: u.segment.as_ref().map(|_| r + 1),
                chooser: u.chooser,
            });
            row += 1;
        }
    }
    if !diags.is_empty() {
        diags.truncate(1);
        return Err(diags);
    }

    let decisions: Vec<DecisionInfo> = market
        .firms
        .iter()
        .enumerate()
        .flat_map(|(f, firm)| {
            firm.decisions.iter().map(move |d| DecisionInfo {
                provider: d.provider,
                firm: f,
                lo: d.lo.value,
                hi: d.hi.value,
                step: d.step.map(|s| s.value),
            })
        })
        .collect();
    let price: Vec<f64> = market
        .providers
        .iter()
        .enumerate()
        .map(|(j, p)| {
            p.price.map(|n| n.value).unwrap_or_else(|| {
                decisions
                    .iter()
                    .find(|d| d.provider == j)
                    .map_or(0.0, |d| d.lo)
            })
        })
        .collect();

    let observed = observed(market, &users);
    let observed_periods = observed_periods(market, &users, &price, &statics, &qos_values);
    let learned = {
        let values: Vec<bool> = market.providers.iter().map(|p| p.value_learned).collect();
        let qos: Vec<bool> = statics
            .iter()
            .map(|&k| market.learned_weights.get(k).copied().unwrap_or(false))
            .collect();
        let congestion = market.learned_congestion.is_some();
        (congestion || values.iter().chain(&qos).any(|&l| l)).then_some(Learned {
            values,
            qos,
            congestion,
        })
    };
    Ok(Instance {
        market: market.name.clone(),
        period: market.period.clone(),
        seed: market.seed,
        providers: market
            .providers
            .iter()
            .map(|p| ProviderInfo {
                name: p.name.clone(),
                firm: p.firm,
                capacity_rule: match p.capacity_source {
                    CapacitySource::Given => "given".into(),
                    CapacitySource::Throughput { .. } => "throughput".into(),
                },
            })
            .collect(),
        users,
        price,
        capacity: market.providers.iter().map(|p| p.capacity.value).collect(),
        cost: market
            .providers
            .iter()
            .map(|p| p.cost.map_or(0.0, |c| c.value))
            .collect(),
        demand,
        value,
        qos: statics
            .iter()
            .map(|&k| QosInfo {
                name: market.qos[k].name.clone(),
                unit: market.qos[k].unit.clone(),
                kind: match market.qos[k].kind {
                    QosKind::Pairwise => "pairwise".into(),
                    _ => "per_provider".into(),
                },
            })
            .collect(),
        qos_values,
        qos_weights,
        congestion_weight,
        firms: market
            .firms
            .iter()
            .map(|f| FirmInfo {
                name: f.name.clone(),
                providers: f.providers.clone(),
            })
            .collect(),
        decisions,
        objectives: market
            .objectives
            .iter()
            .map(|o| ObjectiveInfo {
                firm: o.firm,
                maximize: match o.kind {
                    ObjectiveKind::Profit => ObjectiveFn::Profit,
                    ObjectiveKind::Revenue => ObjectiveFn::Revenue,
                    ObjectiveKind::Share => ObjectiveFn::Share,
                },
            })
            .collect(),
        constraints: market
            .constraints
            .iter()
            .map(|c| LinearConstraint {
                label: c.label.clone(),
                terms: c
                    .terms
                    .iter()
                    .map(|(coef, a)| {
                        (
                            *coef,
                            match *a {
                                Atom::Price(j) => Variable::Price(j),
                                Atom::Load(j) => Variable::Load(j),
                                Atom::Share(j) => Variable::Share(j),
                                Atom::FirmLoad(f) => Variable::FirmLoad(f),
                                Atom::FirmShare(f) => Variable::FirmShare(f),
                            },
                        )
                    })
                    .collect(),
                relation: match c.sense {
                    Sense::Le => Relation::Le,
                    Sense::Ge => Relation::Ge,
                    Sense::Eq => Relation::Eq,
                },
                rhs: c.rhs,
            })
            .collect(),
        solve: market.solve.as_ref().map(|(s, _)| match s {
            Solve::Exact => SolveMethod::Exact,
            Solve::Milp { time_limit } => SolveMethod::Milp {
                time_limit_s: *time_limit,
            },
            Solve::Network { k, weights } => SolveMethod::Network {
                k: *k,
                weights: crate::diagnostics::display_path(weights),
            },
        }),
        observed,
        learned,
        observed_periods,
    })
}

/// The observed flows per user row: a segment's row split equally among its draws.
fn observed(market: &Market, rows: &[UserInfo]) -> Option<Matrix> {
    if market.observed.is_empty() {
        return None;
    }
    let m = market.providers.len();
    let mut flows = Matrix::filled(rows.len(), m, 0.0);
    for &(u, j, num) in &market.observed {
        let group = &market.users[u];
        let draws = group.segment.as_ref().map_or(1, |s| s.draws) as f64;
        for (r, row) in rows.iter().enumerate() {
            if row.group == group.name {
                flows.set(r, j, num.value / draws);
            }
        }
    }
    Some(flows)
}

/// Per-period observations, periods in order of first appearance; a period's prices are the
/// market's unless `table prices` gives them.
fn observed_periods(
    market: &Market,
    rows: &[UserInfo],
    prices: &[f64],
    statics: &[usize],
    qos_values: &[Matrix],
) -> Option<Vec<ObservedPeriod>> {
    let mut periods: Vec<ObservedPeriod> = Vec::new();
    for (name, u, j, num) in &market.observed_periods {
        let at = match periods.iter().position(|p| &p.name == name) {
            Some(k) => k,
            None => {
                let mut prices = prices.to_vec();
                for (period, p, price) in &market.period_prices {
                    if period == name {
                        prices[*p] = price.value;
                    }
                }
                // A period's QoS value of a provider holds for every user.
                let mut qos = qos_values.to_vec();
                for (period, k, p, v) in &market.period_qos {
                    if let Some(slot) = statics.iter().position(|s| s == k) {
                        if period == name {
                            for r in 0..rows.len() {
                                qos[slot].set(r, *p, v.value);
                            }
                        }
                    }
                }
                periods.push(ObservedPeriod {
                    name: name.clone(),
                    prices,
                    flows: Matrix::filled(rows.len(), market.providers.len(), 0.0),
                    qos_values: qos,
                });
                periods.len() - 1
            }
        };
        let group = &market.users[*u];
        let draws = group.segment.as_ref().map_or(1, |s| s.draws) as f64;
        for (r, row) in rows.iter().enumerate() {
            if row.group == group.name {
                periods[at].flows.set(r, *j, num.value / draws);
            }
        }
    }
    (!periods.is_empty()).then_some(periods)
}

/// A parameter's value for one draw; a non-finite draw is reported, not passed on.
fn take(p: &Param, sampler: &mut Sampler, diags: &mut Vec<Diagnostic>) -> f64 {
    let v = match p {
        Param::Fixed(n) => n.value,
        Param::Drawn(d) => sampler.draw(d),
    };
    if v.is_finite() {
        return v;
    }
    let at = p.at();
    diags.push(
        Diagnostic::new(
            Code::InvalidNumber,
            at.file,
            at.span,
            "a draw from this distribution is not finite",
        )
        .label("overflows")
        .help("the parameters are too extreme; narrow the distribution"),
    );
    0.0
}
