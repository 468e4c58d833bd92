//! The exact optimum of one decided price (MODEL.md §4, parametric method).
//!
//! For a fixed set of active (user, provider) pairs the KKT conditions (3) are linear, and the
//! decided price enters them linearly, so the equilibrium loads move affinely with the price
//! until a pair enters or leaves the active set (or a pure chooser switches provider). The
//! solver walks these pieces from the low bound to the high bound:
//!
//! 1. solve the equilibrium at the piece's start (warm-started Gauss–Seidel, certified);
//! 2. from its active set, solve the linear system for the loads' derivative `dx/dp`
//!    (an m × m system after eliminating each user's multiplier);
//! 3. find the next breakpoint by a ratio test (an active flow reaching 0, an inactive pair's
//!    reduced cost reaching 0, a chooser leaving the leader);
//! 4. maximise the objective on the piece in closed form: profit `(p − c)·x_s(p)` is a concave
//!    quadratic there; revenue is the same with c = 0; share is linear. Side constraints are
//!    affine in p on a piece and cut it to an interval.
//!
//! The best candidates are then re-simulated at their prices, and the reported profit is the
//! re-simulated one. On a grid, each piece's best grid points (the two around its continuous
//! maximum, and its ends) are the candidates.
//!
//! Pure choosers make the load jump at the price where they leave the leader. Ties go to the
//! leader (see `equilibrium`), so the price at the jump itself keeps them; the solver checks
//! that by re-simulation and steps just below the jump when rounding says otherwise.

use prillm_compiler::lower::{Instance, Relation, Variable};
use serde::Serialize;

use crate::equilibrium::{Equilibrium, Game, Options};
use crate::error::RuntimeError;
use crate::kkt;

/// Most pieces walked before giving up (each is one equilibrium solve).
const MAX_PIECES: usize = 200_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The global optimum over the price range (or grid), by the parametric method.
    Optimal,
    /// No price in the range satisfies the side constraints.
    Infeasible,
}

/// The result of pricing one decision.
#[derive(Clone, Debug, Serialize)]
pub struct PriceDecision {
    pub provider: usize,
    pub price: f64,
    /// The objective at `price`, re-simulated (usd per period, or a share).
    pub objective: f64,
    pub status: Status,
    /// Pieces of the path x*(p) walked.
    pub pieces: usize,
    /// The equilibrium at `price`, with its KKT residual.
    pub equilibrium: Option<Equilibrium>,
    /// The objective along the range, sampled at the pieces' ends (for the profit curve).
    pub curve: Vec<(f64, f64)>,
}

/// One affine piece of the path: on [p0, p1], loads x(p) = x0 + (p − p0)·dx.
struct Piece {
    p0: f64,
    p1: f64,
    x0: Vec<f64>,
    dx: Vec<f64>,
}

/// What the firm maximises, as a function of the price and the loads.
#[derive(Clone, Copy)]
enum Goal {
    /// (p − cost)·x_s, summed with the firm's other providers at fixed prices.
    Profit,
    Revenue,
    Share,
}

pub struct Problem<'a> {
    inst: &'a Instance,
    /// The decided provider.
    s: usize,
    firm: usize,
    goal: Goal,
    lo: f64,
    hi: f64,
    step: Option<f64>,
    prices: Vec<f64>,
}

impl<'a> Problem<'a> {
    /// The problem of decision `d` of the instance, with the other prices as in `prices`.
    pub fn new(inst: &'a Instance, d: usize, prices: &[f64]) -> Result<Self, RuntimeError> {
        let dec = inst
            .decisions
            .get(d)
            .ok_or_else(|| RuntimeError::BadInstance(format!("no decision {d}")))?;
        let goal = match inst
            .objectives
            .iter()
            .find(|o| o.firm == dec.firm)
            .map(|o| &o.maximize)
        {
            Some(prillm_compiler::lower::ObjectiveFn::Revenue) => Goal::Revenue,
            Some(prillm_compiler::lower::ObjectiveFn::Share) => Goal::Share,
            _ => Goal::Profit,
        };
        if !(dec.lo.is_finite() && dec.hi.is_finite() && dec.lo < dec.hi) {
            return Err(RuntimeError::BadInstance(format!(
                "the price range of `{}` is [{}, {}]",
                inst.providers[dec.provider].name, dec.lo, dec.hi
            )));
        }
        Ok(Problem {
            inst,
            s: dec.provider,
            firm: dec.firm,
            goal,
            lo: dec.lo,
            hi: dec.hi,
            step: dec.step,
            prices: prices.to_vec(),
        })
    }

    fn prices_at(&self, p: f64) -> Vec<f64> {
        let mut prices = self.prices.clone();
        prices[self.s] = p;
        prices
    }

    /// The objective at price `p` with loads `x`.
    fn objective(&self, p: f64, x: &[f64]) -> f64 {
        let inst = self.inst;
        let firm = &inst.firms[self.firm].providers;
        let price = |j: usize| if j == self.s { p } else { self.prices[j] };
        match self.goal {
            Goal::Profit => firm.iter().map(|&j| (price(j) - inst.cost[j]) * x[j]).sum(),
            Goal::Revenue => firm.iter().map(|&j| price(j) * x[j]).sum(),
            Goal::Share => firm.iter().map(|&j| x[j]).sum::<f64>() / inst.total_demand(),
        }
    }

    /// Whether the side constraints hold at price `p` with loads `x` (to a relative 1e-9).
    fn feasible(&self, p: f64, x: &[f64]) -> bool {
        self.inst.constraints.iter().all(|c| {
            let (lhs, scale) = self.lhs(c, p, x);
            let tol = 1e-9 * scale.max(c.rhs.abs()).max(1e-12);
            match c.relation {
                Relation::Le => lhs <= c.rhs + tol,
                Relation::Ge => lhs >= c.rhs - tol,
                Relation::Eq => (lhs - c.rhs).abs() <= tol,
            }
        })
    }

    /// A constraint's left-hand side and the size of its terms.
    fn lhs(&self, c: &prillm_compiler::lower::LinearConstraint, p: f64, x: &[f64]) -> (f64, f64) {
        let inst = self.inst;
        let total = inst.total_demand();
        let mut sum = 0.0;
        let mut scale: f64 = 0.0;
        for &(coef, v) in &c.terms {
            let value = match v {
                Variable::Price(j) => {
                    if j == self.s {
                        p
                    } else {
                        self.prices[j]
                    }
                }
                Variable::Load(j) => x[j],
                Variable::Share(j) => x[j] / total,
                Variable::FirmLoad(f) => inst.firms[f].providers.iter().map(|&j| x[j]).sum(),
                Variable::FirmShare(f) => {
                    inst.firms[f].providers.iter().map(|&j| x[j]).sum::<f64>() / total
                }
            };
            sum += coef * value;
            scale = scale.max((coef * value).abs());
        }
        (sum, scale)
    }

    /// The feasible sub-interval of a piece: every constraint is affine in p there.
    fn feasible_interval(&self, piece: &Piece) -> Option<(f64, f64)> {
        let (mut a, mut b) = (piece.p0, piece.p1);
        for c in &self.inst.constraints {
            // lhs(p) = l0 + (p − p0)·dl on the piece.
            let (l0, scale) = self.lhs(c, piece.p0, &piece.x0);
            let x1: Vec<f64> = piece.x0.iter().zip(&piece.dx).map(|(x, d)| x + d).collect();
            let (l1, _) = self.lhs(c, piece.p0 + 1.0, &x1);
            let dl = l1 - l0;
            let tol = 1e-9 * scale.max(c.rhs.abs()).max(1e-12);
            // The t for which l0 + t·dl ≤ rhs (`at_most`) or ≥ rhs, as an interval.
            let bounds = |at_most: bool| -> (f64, f64) {
                let gap = c.rhs - l0;
                if dl.abs() < 1e-300 {
                    let ok = if at_most { gap >= -tol } else { gap <= tol };
                    return if ok {
                        (f64::NEG_INFINITY, f64::INFINITY)
                    } else {
                        (1.0, 0.0)
                    };
                }
                let t = gap / dl;
                match (at_most, dl > 0.0) {
                    (true, true) | (false, false) => (f64::NEG_INFINITY, t),
                    _ => (t, f64::INFINITY),
                }
            };
            let (tlo, thi) = match c.relation {
                Relation::Le => bounds(true),
                Relation::Ge => bounds(false),
                Relation::Eq => {
                    let (a1, b1) = bounds(true);
                    let (a2, b2) = bounds(false);
                    (a1.max(a2), b1.min(b2))
                }
            };
            let slack = 1e-12 * (piece.p1 - piece.p0).abs().max(1e-12);
            a = a.max(piece.p0 + tlo - slack);
            b = b.min(piece.p0 + thi + slack);
        }
        let (a, b) = (a.max(piece.p0), b.min(piece.p1));
        (a <= b).then_some((a, b))
    }

    /// The best price on [a, b] of a piece by the closed form, and the objective there.
    fn best_on(&self, piece: &Piece, a: f64, b: f64) -> Vec<f64> {
        let mut cands = vec![a, b];
        // Objective on the piece: a quadratic q(p) = Σ_firm (p_j − c_j)·(x0_j + (p − p0)·dx_j)
        // with only p_s moving. Its stationary point, if concave, is a candidate.
        let firm = &self.inst.firms[self.firm].providers;
        let (mut quad, mut lin) = (0.0, 0.0);
        let p0 = piece.p0;
        let cost_s = match self.goal {
            Goal::Profit => self.inst.cost[self.s],
            _ => 0.0,
        };
        if !matches!(self.goal, Goal::Share) {
            for &j in firm {
                if j == self.s {
                    // (p − c)(x0 + (p − p0) dx) = dx p² + (x0 − p0 dx − c dx) p + const
                    quad += piece.dx[j];
                    lin += piece.x0[j] - p0 * piece.dx[j] - cost_s * piece.dx[j];
                } else {
                    let margin = match self.goal {
                        Goal::Profit => self.prices[j] - self.inst.cost[j],
                        _ => self.prices[j],
                    };
                    lin += margin * piece.dx[j];
                }
            }
            if quad < 0.0 {
                let p = -lin / (2.0 * quad);
                if p > a && p < b {
                    cands.push(p);
                }
            }
        }
        if let Some(step) = self.step {
            // The grid points around each candidate, inside [a, b].
            let mut grid = Vec::new();
            for &p in &cands {
                let k = ((p - self.lo) / step).floor();
                for kk in [k - 1.0, k, k + 1.0, k + 2.0] {
                    let g = self.lo + kk * step;
                    if g >= a - 1e-12 * step
                        && g <= b + 1e-12 * step
                        && g >= self.lo - 1e-12
                        && g <= self.hi + 1e-12
                    {
                        grid.push(g.clamp(self.lo, self.hi));
                    }
                }
            }
            return grid;
        }
        cands
    }
}

/// The m × m system for dx/dp on the active set of `eq` (see the module documentation).
pub(crate) fn derivative(
    inst: &Instance,
    game: &Game,
    eq: &Equilibrium,
    s: usize,
) -> Result<Vec<f64>, RuntimeError> {
    let (n, m) = (inst.n_users(), inst.n_providers());
    let alpha = &inst.capacity;
    let actives: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            if game.is_chooser(i) {
                Vec::new()
            } else {
                game.active(eq, i)
            }
        })
        .collect();
    let mut mat = kkt::matrix(inst, &actives);
    // Right-hand side: the price of `s` enters the cost of every user of `s`, as 1/g_i.
    let mut rhs = vec![0.0; m];
    for (i, active) in actives.iter().enumerate() {
        if active.is_empty() {
            continue;
        }
        let g = inst.congestion_weight[i];
        let total: f64 = active.iter().map(|&j| alpha[j]).sum();
        let has_s = active.contains(&s);
        for &j in active {
            if has_s {
                rhs[j] += alpha[j] * alpha[s] / (g * total);
            }
            if j == s {
                rhs[j] -= alpha[j] / g;
            }
        }
    }
    kkt::solve_dense(&mut mat, &mut rhs, m)
        .ok_or_else(|| RuntimeError::Numerical("the sensitivity system is singular".into()))?;
    Ok(rhs)
}

/// How far the price can move before the active set (or a chooser's choice) changes.
fn next_breakpoint(inst: &Instance, game: &Game, eq: &Equilibrium, dx: &[f64], s: usize) -> f64 {
    let (n, m) = (inst.n_users(), inst.n_providers());
    let alpha = &inst.capacity;
    let mut t = f64::INFINITY;
    for i in 0..n {
        if game.is_chooser(i) {
            // A chooser on the leader leaves when another provider becomes cheaper.
            if eq.flows.get(i, s) > 0.0 {
                let cs = game.cost(i, s);
                let other = (0..m)
                    .filter(|&j| j != s)
                    .map(|j| game.cost(i, j))
                    .fold(f64::INFINITY, f64::min);
                if other.is_finite() {
                    t = t.min((other - cs).max(0.0));
                }
            }
            continue;
        }
        let g = inst.congestion_weight[i];
        let active = game.active(eq, i);
        if active.is_empty() {
            continue;
        }
        let total: f64 = active.iter().map(|&j| alpha[j]).sum();
        let sum_dx: f64 = active.iter().map(|&j| dx[j]).sum();
        let dlambda = (sum_dx
            + if active.contains(&s) {
                alpha[s] / g
            } else {
                0.0
            })
            / total;
        let lambda = game.multiplier(eq, i, &active);
        for j in 0..m {
            let ds = if j == s { 1.0 / g } else { 0.0 };
            if active.contains(&j) {
                let df = alpha[j] * (dlambda - ds) - dx[j];
                if df < 0.0 {
                    t = t.min(eq.flows.get(i, j) / -df);
                }
            } else {
                let reduced = game.cost(i, j) + eq.loads[j] / alpha[j] - lambda;
                let dr = ds + dx[j] / alpha[j] - dlambda;
                if dr < 0.0 {
                    t = t.min(reduced.max(0.0) / -dr);
                }
            }
        }
    }
    t
}

/// The exact optimum of decision `d`, the other prices as in `prices`.
pub fn optimise(
    inst: &Instance,
    d: usize,
    prices: &[f64],
    opts: &Options,
) -> Result<PriceDecision, RuntimeError> {
    let problem = Problem::new(inst, d, prices)?;
    let s = problem.s;
    let width = problem.hi - problem.lo;
    let tiny = 1e-10 * width.max(1e-12);
    let mut p = problem.lo;
    let mut warm: Option<Equilibrium> = None;
    let mut candidates: Vec<(f64, f64)> = Vec::new(); // (price, predicted objective)
    let mut curve = Vec::new();
    let mut pieces = 0;
    while p < problem.hi {
        pieces += 1;
        if pieces > MAX_PIECES {
            return Err(RuntimeError::Numerical(format!(
                "more than {MAX_PIECES} pieces on the price path"
            )));
        }
        let game = Game::new(inst, &problem.prices_at(p))?;
        let eq = crate::equilibrium::solve_game(&game, warm.as_ref(), opts, |_| {})?;
        let dx = derivative(inst, &game, &eq, s)?;
        let t = next_breakpoint(inst, &game, &eq, &dx, s);
        let p1 = (p + t).min(problem.hi);
        curve.push((p, problem.objective(p, &eq.loads)));
        let piece = Piece {
            p0: p,
            p1,
            x0: eq.loads.clone(),
            dx,
        };
        if let Some((a, b)) = problem.feasible_interval(&piece) {
            for q in problem.best_on(&piece, a, b) {
                let x: Vec<f64> = piece
                    .x0
                    .iter()
                    .zip(&piece.dx)
                    .map(|(x, d)| x + (q - p) * d)
                    .collect();
                candidates.push((q, problem.objective(q, &x)));
            }
        }
        // A zero-length piece (a pair exactly at its bound) moves on by a hair.
        p = if p1 - p < tiny { p + tiny } else { p1 };
        warm = Some(eq);
    }
    let end_eq =
        crate::equilibrium::solve(inst, &problem.prices_at(problem.hi), warm.as_ref(), opts)?;
    curve.push((problem.hi, problem.objective(problem.hi, &end_eq.loads)));
    // Re-simulate the most promising candidates; report the best re-simulated one.
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
    candidates.dedup_by(|a, b| (a.0 - b.0).abs() <= 1e-15 * a.0.abs().max(1.0));
    let mut best: Option<(f64, f64, Equilibrium)> = None;
    for &(q, _) in candidates.iter().take(8) {
        for nudge in [0.0, 1e-9, 1e-7] {
            // Just below a chooser's jump when rounding pushed it off the leader.
            let q = if problem.step.is_some() {
                q
            } else {
                (q - nudge * width).max(problem.lo)
            };
            let eq = crate::equilibrium::solve(inst, &problem.prices_at(q), warm.as_ref(), opts)?;
            if !problem.feasible(q, &eq.loads) {
                continue;
            }
            let v = problem.objective(q, &eq.loads);
            if best.as_ref().is_none_or(|b| v > b.1) {
                best = Some((q, v, eq));
            }
            if problem.step.is_some() {
                break;
            }
        }
    }
    Ok(match best {
        Some((price, objective, eq)) => PriceDecision {
            provider: s,
            price,
            objective,
            status: Status::Optimal,
            pieces,
            equilibrium: Some(eq),
            curve,
        },
        None => PriceDecision {
            provider: s,
            price: f64::NAN,
            objective: f64::NAN,
            status: Status::Infeasible,
            pieces,
            equilibrium: None,
            curve,
        },
    })
}
