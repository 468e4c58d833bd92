//! The checked market: names resolved to indices, numbers in canonical units, sources kept.
//!
//! Canonical units: prices, values, costs and weighted costs in usd/mtok; demands,
//! capacities and loads in mtok per market period; static QoS values in their declared unit;
//! a weight in usd/mtok per unit of its QoS dimension; shares as fractions.

use std::path::PathBuf;

use serde::Serialize;

use crate::diagnostics::{FileId, Span};

/// Where something was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Loc {
    pub file: FileId,
    pub span: Span,
}

/// A number in canonical units, with where it was written.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Num {
    pub value: f64,
    pub at: Loc,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DistKind {
    Normal { mu: f64, sigma: f64 },
    Lognormal { mu: f64, sigma: f64 },
    Uniform { lo: f64, hi: f64 },
    Gumbel { mu: f64, beta: f64 },
    Discrete { values: Vec<f64>, probs: Vec<f64> },
}

impl DistKind {
    /// The smallest value a draw can take, in written units (before `scale`).
    pub fn lower_bound(&self) -> f64 {
        match self {
            DistKind::Normal { .. } | DistKind::Gumbel { .. } => f64::NEG_INFINITY,
            DistKind::Lognormal { .. } => 0.0,
            DistKind::Uniform { lo, .. } => *lo,
            DistKind::Discrete { values, .. } => {
                values.iter().copied().fold(f64::INFINITY, f64::min)
            }
        }
    }
    /// Whether draws are strictly positive.
    pub fn strictly_positive(&self) -> bool {
        match self {
            DistKind::Lognormal { .. } => true,
            _ => self.lower_bound() > 0.0,
        }
    }
}

/// A distribution of draws: `scale` converts a draw from written to canonical units.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dist {
    pub kind: DistKind,
    pub scale: f64,
    pub at: Loc,
}

/// A parameter that is either fixed or drawn per member of a segment.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Param {
    Fixed(Num),
    Drawn(Dist),
}

impl Param {
    pub fn at(&self) -> Loc {
        match self {
            Param::Fixed(n) => n.at,
            Param::Drawn(d) => d.at,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QosKind {
    /// One value per provider; users may override it per provider.
    PerProvider,
    /// One value per (user, provider) pair.
    Pairwise,
    /// Load over capacity: the same for every user of a provider.
    Congestion,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Qos {
    pub name: String,
    pub kind: QosKind,
    /// The declared unit (`ms`); empty for congestion.
    pub unit: String,
    pub default: Option<Num>,
    pub at: Loc,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum CapacitySource {
    Given,
    /// capacity = observed load × throughput / reference throughput (docs/language.md).
    Throughput {
        throughput: f64,
        observed: f64,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Provider {
    pub name: String,
    pub at: Loc,
    /// The current price; `None` only when a firm decides it.
    pub price: Option<Num>,
    pub capacity: Num,
    pub capacity_source: CapacitySource,
    pub value: Num,
    pub cost: Option<Num>,
    /// `value = learned`: to be fitted by `prillm calibrate` (`value` holds 0 meanwhile).
    pub value_learned: bool,
    /// Per QoS dimension: this provider's value (per-provider dimensions only).
    pub qos: Vec<Option<Num>>,
    pub firm: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SegmentDraws {
    pub draws: u32,
    pub seed: u64,
}

/// A user, or a segment of users described by distributions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct User {
    pub name: String,
    pub at: Loc,
    pub chooser: bool,
    /// `Some` for a segment.
    pub segment: Option<SegmentDraws>,
    /// A segment's total demand (each draw gets demand / draws).
    pub demand: Param,
    /// Per QoS dimension: the weight, own or default (`None` for a chooser's congestion).
    pub weights: Vec<Option<Param>>,
    /// Per-provider value overrides.
    pub values: Vec<(usize, Param)>,
    /// An additive taste shock per provider.
    pub taste: Option<Dist>,
    /// (qos, provider, value) overrides of static QoS.
    pub qos_overrides: Vec<(usize, usize, Num)>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    pub provider: usize,
    pub lo: Num,
    pub hi: Num,
    pub step: Option<Num>,
    pub at: Loc,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Firm {
    pub name: String,
    pub at: Loc,
    pub providers: Vec<usize>,
    pub decisions: Vec<Decision>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveKind {
    Profit,
    Revenue,
    Share,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Objective {
    pub firm: usize,
    pub kind: ObjectiveKind,
    pub at: Loc,
}

/// A variable of a side constraint, in canonical units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "of", content = "index", rename_all = "snake_case")]
pub enum Atom {
    /// A decided provider's price.
    Price(usize),
    /// A provider's load.
    Load(usize),
    /// A provider's share of all demand.
    Share(usize),
    /// The summed load of a firm's providers.
    FirmLoad(usize),
    /// A firm's share of all demand.
    FirmShare(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sense {
    Le,
    Ge,
    Eq,
}

/// `Σ coef · atom  (sense)  rhs`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Constraint {
    pub label: Option<String>,
    pub terms: Vec<(f64, Atom)>,
    pub sense: Sense,
    pub rhs: f64,
    /// `price`, `volume` or `fraction`: the unit of both sides.
    pub measure: &'static str,
    pub at: Loc,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Solve {
    Exact,
    Milp {
        /// Seconds.
        time_limit: Option<f64>,
    },
    Network {
        k: u32,
        weights: PathBuf,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Market {
    pub name: String,
    pub at: Loc,
    pub period: String,
    pub period_seconds: f64,
    pub seed: u64,
    pub throughput_ref: Option<Num>,
    pub qos: Vec<Qos>,
    pub providers: Vec<Provider>,
    pub users: Vec<User>,
    pub firms: Vec<Firm>,
    pub objectives: Vec<Objective>,
    pub constraints: Vec<Constraint>,
    pub solve: Option<(Solve, Loc)>,
    /// Observed flows from a `table observed from "…"`: (user, provider, mtok per period).
    pub observed: Vec<(usize, usize, Num)>,
    /// Per QoS dimension: its default weight is `learned` (fitted by `prillm calibrate`).
    pub learned_weights: Vec<bool>,
    /// Observed flows per period from a long table `period,user,provider,tokens`:
    /// (period, user, provider, mtok per period).
    pub observed_periods: Vec<(String, usize, usize, Num)>,
    /// Each period's prices from `table prices` (`period,PROVIDER,...`): (period, provider, price).
    pub period_prices: Vec<(String, usize, Num)>,
    /// Each period's value of a static QoS per provider from `table NAME` with a `period`
    /// column: (period, QoS dimension, provider, value).
    pub period_qos: Vec<(String, usize, usize, Num)>,
    /// `load = learned` in the weights block: the congestion weight is fitted (it needs
    /// observations in periods at different prices).
    pub learned_congestion: Option<Loc>,
}

impl Market {
    pub fn congestion(&self) -> Option<usize> {
        self.qos.iter().position(|q| q.kind == QosKind::Congestion)
    }
    pub fn decided(&self, provider: usize) -> bool {
        self.firms
            .iter()
            .any(|f| f.decisions.iter().any(|d| d.provider == provider))
    }
}
