//! The solver-independent linear program: columns, rows and an objective, each tagged with
//! what it means in the market, so a solution (or an LP file) can be read back in DSL terms.

use serde::Serialize;

use crate::lower::Relation;

/// What a column stands for. Indices are the Instance's user rows and providers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnMeaning {
    /// f_ij: user i's flow to provider j, in flow units.
    Flow { user: usize, provider: usize },
    /// z_ij = 1 when the pair may carry flow (complementarity).
    Active { user: usize, provider: usize },
    /// λ_i: user i's marginal cost at equilibrium (usd/mtok).
    Multiplier { user: usize },
    /// x_j: provider j's load, in flow units.
    Load { provider: usize },
    /// p_j: a decided price (usd/mtok).
    Price { provider: usize },
    /// y_jk = 1 when decided price j takes grid point k (one-hot grid).
    PricePoint { provider: usize, point: usize },
    /// u_jb: bit b of the grid index of price j (binary grid).
    PriceBit { provider: usize, bit: usize },
    /// w_jk = y_jk · x_j (one-hot) or u_jb · x_j (binary): the exact revenue linearisation.
    RevenuePart { provider: usize, part: usize },
}

/// What a row enforces.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RowMeaning {
    /// Σ_j f_ij = D_i.
    Demand { user: usize },
    /// x_j − Σ_i f_ij = captive load.
    LoadDefinition { provider: usize },
    /// Marginal cost − λ_i ≥ 0 (no provider is cheaper at the margin than λ_i).
    Stationarity { user: usize, provider: usize },
    /// Marginal cost − λ_i ≤ M_ij (1 − z_ij): a used pair is at the margin.
    Complementarity { user: usize, provider: usize },
    /// f_ij ≤ D_i z_ij: only an active pair carries flow.
    UseIfActive { user: usize, provider: usize },
    /// p_j equals its chosen grid point.
    PriceDefinition { provider: usize },
    /// Σ_k y_jk = 1.
    PickOnePoint { provider: usize },
    /// The bits of a binary grid index stay within the grid.
    GridLimit { provider: usize },
    /// Σ_k w_jk = x_j (one-hot grid).
    RevenueSplit { provider: usize },
    /// w_jk ≤ X_j y_jk, or the McCormick rows of w_jb = u_jb · x_j.
    RevenueLink { provider: usize, part: usize },
    /// A side constraint of the market, by index.
    Side { constraint: usize },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    pub lo: f64,
    pub hi: f64,
    pub integer: bool,
    pub meaning: ColumnMeaning,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub name: String,
    /// (column, coefficient), columns ascending, no zeros.
    pub terms: Vec<(usize, f64)>,
    pub relation: Relation,
    pub rhs: f64,
    pub meaning: RowMeaning,
}

/// Where a flow or a price of the market is found in a solution.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "at", content = "value", rename_all = "snake_case")]
pub enum Source {
    Constant(f64),
    Column(usize),
}

/// How a decided price's grid is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GridEncoding {
    /// One binary per grid point (MODEL.md §4): the tightest relaxation.
    OneHot,
    /// ⌈log2 N⌉ binaries for the grid index: far fewer binaries on fine grids.
    Binary,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PriceGrid {
    pub provider: usize,
    pub lo: f64,
    pub step: f64,
    pub points: usize,
    pub encoding: GridEncoding,
    /// Whether the market declared this grid (`step`) or the lowering chose it.
    pub declared: bool,
}

impl PriceGrid {
    pub fn point(&self, k: usize) -> f64 {
        self.lo + k as f64 * self.step
    }
    /// The grid point nearest to `p`.
    pub fn snap(&self, p: f64) -> f64 {
        let k = ((p - self.lo) / self.step)
            .round()
            .clamp(0.0, (self.points - 1) as f64);
        self.point(k as usize)
    }
}

/// What presolve removed, so a report can say how the program was made smaller.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Presolve {
    /// (user, provider) pairs in the market.
    pub pairs: usize,
    /// Pairs that carry no flow at any allowed price (their reduced cost is always positive).
    pub pairs_never_used: usize,
    /// Pairs of non-captive users that carry flow at every allowed price: no binary.
    pub pairs_always_used: usize,
    /// Users left with one possible provider: their flow is a constant.
    pub captive_users: usize,
    /// Binaries a plain formulation would need, and those this one has.
    pub binaries_before: usize,
    pub binaries: usize,
}

/// A mixed-integer linear program that maximises one firm's objective on the price grids.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinearProgram {
    pub name: String,
    /// Comment lines for file headers: units, scaling, the fixed prices.
    pub notes: Vec<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// Maximised. (column, coefficient).
    pub objective: Vec<(usize, f64)>,
    /// The objective in market units is `objective_scale ×` the program's objective.
    pub objective_scale: f64,
    /// Flows and loads in the program are in units of this many mtok.
    pub flow_unit: f64,
    pub firm: usize,
    pub grids: Vec<PriceGrid>,
    /// Every price of the market (m).
    pub prices: Vec<Source>,
    /// Every flow of the market (n × m, row-major), in flow units.
    pub flows: Vec<Source>,
    pub presolve: Presolve,
}

impl LinearProgram {
    pub fn binaries(&self) -> usize {
        self.columns.iter().filter(|c| c.integer).count()
    }
    pub fn value(&self, source: Source, x: &[f64]) -> f64 {
        match source {
            Source::Constant(v) => v,
            Source::Column(c) => x[c],
        }
    }
    pub fn objective_value(&self, x: &[f64]) -> f64 {
        self.objective.iter().map(|&(c, a)| a * x[c]).sum::<f64>() * self.objective_scale
    }
    /// The largest violation of a bound, a row or integrality by `x`, each relative to the
    /// scale of its row (so 1e-9 means "as exact as floating point allows").
    pub fn violation(&self, x: &[f64]) -> f64 {
        let mut worst: f64 = 0.0;
        for (c, col) in self.columns.iter().enumerate() {
            let v = x[c];
            let scale = 1.0f64
                .max(col.lo.abs().min(1e300))
                .max(col.hi.abs().min(1e300));
            worst = worst.max((col.lo - v).max(v - col.hi).max(0.0) / scale);
            if col.integer {
                worst = worst.max((v - v.round()).abs());
            }
        }
        for row in &self.rows {
            let mut lhs = 0.0;
            let mut scale = row.rhs.abs().max(1.0);
            for &(c, a) in &row.terms {
                lhs += a * x[c];
                scale = scale.max((a * x[c]).abs());
            }
            let excess = match row.relation {
                Relation::Le => lhs - row.rhs,
                Relation::Ge => row.rhs - lhs,
                Relation::Eq => (lhs - row.rhs).abs(),
            };
            worst = worst.max(excess.max(0.0) / scale);
        }
        worst
    }
}
