//! The users' Nash equilibrium at fixed prices (MODEL.md §2), with its KKT residual.
//!
//! Each user's cost is divided by its own congestion weight `g_i > 0`, which changes no best
//! response and gives every user the same congestion term `x_j / α_j`. The equilibrium is
//! then the unique minimiser of the potential
//!
//! ```text
//! Φ(F) = Σ_ij c'_ij f_ij + Σ_j (1 / 2α_j) (x_j² + Σ_i f_ij²),   c'_ij = c_ij / g_i,
//! ```
//!
//! found by Gauss–Seidel sweeps: each user in turn plays its exact best response, a
//! water-filling problem (marginal cost `c'_ij + (y_j + 2 f_ij) / α_j`, with `y_j` the others'
//! load) solved by sorting the intercepts. Each sweep lowers Φ.
//!
//! Pure choosers (`g_i = 0`) ignore congestion: all their demand goes to their cheapest
//! provider. On a tie within a relative 1e-12, the tie is broken in the leaders' favour (a
//! provider whose price some firm decides), then by declaration order. Their loads enter the
//! others' congestion as constants.
//!
//! The KKT residual (the certificate) is the largest violation of the equilibrium conditions
//! (3): for each user, how much more a provider it uses costs at the margin than its cheapest
//! one, relative to the largest marginal cost in the market, and each user's unplaced demand
//! relative to its demand.

use prillm_compiler::lower::{Instance, Matrix};
use serde::Serialize;

use crate::error::RuntimeError;

/// When to stop.
#[derive(Clone, Debug)]
pub struct Options {
    /// Target KKT residual.
    pub tolerance: f64,
    pub max_sweeps: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tolerance: 1e-12,
            max_sweeps: 100_000,
        }
    }
}

/// The users' equilibrium at given prices.
#[derive(Clone, Debug, Serialize)]
pub struct Equilibrium {
    /// Flows f_ij, n × m (mtok per period).
    pub flows: Matrix,
    /// Loads x_j (mtok per period).
    pub loads: Vec<f64>,
    /// The KKT residual: the certificate that this is an equilibrium.
    pub residual: f64,
    pub sweeps: usize,
}

/// The follower game at fixed prices, normalised per user.
pub struct Game<'a> {
    inst: &'a Instance,
    n: usize,
    m: usize,
    /// c'_ij: cost before congestion, divided by the user's congestion weight (choosers: c_ij).
    cost: Vec<f64>,
    chooser: Vec<bool>,
    /// 1 / α_j and α_j / 2, precomputed for the sweeps.
    inv_capacity: Vec<f64>,
    half_capacity: Vec<f64>,
}

impl<'a> Game<'a> {
    pub fn new(inst: &'a Instance, prices: &[f64]) -> Result<Self, RuntimeError> {
        let (n, m) = (inst.n_users(), inst.n_providers());
        if n == 0 || m == 0 {
            return Err(RuntimeError::BadInstance("no user or no provider".into()));
        }
        if prices.len() != m {
            return Err(RuntimeError::BadInstance(format!(
                "{} prices for {m} providers",
                prices.len()
            )));
        }
        if let Some(j) = (0..m).find(|&j| !prices[j].is_finite()) {
            return Err(RuntimeError::BadInstance(format!(
                "the price of `{}` is not finite",
                inst.providers[j].name
            )));
        }
        if let Some(j) = (0..m).find(|&j| !(inst.capacity[j] > 0.0 && inst.capacity[j].is_finite()))
        {
            return Err(RuntimeError::BadInstance(format!(
                "the capacity of `{}` is {}; it must be positive and finite",
                inst.providers[j].name, inst.capacity[j]
            )));
        }
        if let Some(i) = (0..n).find(|&i| !(inst.demand[i] > 0.0 && inst.demand[i].is_finite())) {
            return Err(RuntimeError::BadInstance(format!(
                "the demand of `{}` is {}",
                inst.users[i].name, inst.demand[i]
            )));
        }
        let mut cost = vec![0.0; n * m];
        let mut chooser = vec![false; n];
        for i in 0..n {
            let g = inst.congestion_weight[i];
            chooser[i] = inst.users[i].chooser || g == 0.0;
            let positive = g > 0.0 && g.is_finite();
            if !chooser[i] && !positive {
                return Err(RuntimeError::BadInstance(format!(
                    "the congestion weight of `{}` is {g}",
                    inst.users[i].name
                )));
            }
            let scale = if chooser[i] { 1.0 } else { 1.0 / g };
            for j in 0..m {
                let c = (prices[j] + inst.static_cost(i, j)) * scale;
                if !c.is_finite() {
                    return Err(RuntimeError::Numerical(format!(
                        "the cost of `{}` to `{}` is not finite",
                        inst.providers[j].name, inst.users[i].name
                    )));
                }
                cost[i * m + j] = c;
            }
        }
        Ok(Game {
            inst,
            n,
            m,
            cost,
            chooser,
            inv_capacity: inst.capacity.iter().map(|a| 1.0 / a).collect(),
            half_capacity: inst.capacity.iter().map(|a| a / 2.0).collect(),
        })
    }

    fn c(&self, i: usize, j: usize) -> f64 {
        self.cost[i * self.m + j]
    }

    /// User `i`'s cost of provider `j` before congestion: divided by its congestion weight,
    /// except for a pure chooser.
    pub fn cost(&self, i: usize, j: usize) -> f64 {
        self.c(i, j)
    }

    pub fn is_chooser(&self, i: usize) -> bool {
        self.chooser[i]
    }

    /// The providers user `i` uses in `eq` (flows above 1e-12 of its demand).
    pub fn active(&self, eq: &Equilibrium, i: usize) -> Vec<usize> {
        let floor = 1e-12 * self.inst.demand[i];
        (0..self.m)
            .filter(|&j| eq.flows.get(i, j) > floor)
            .collect()
    }

    /// User `i`'s multiplier λ_i: the marginal cost on its largest flow.
    pub fn multiplier(&self, eq: &Equilibrium, i: usize, active: &[usize]) -> f64 {
        let j = active
            .iter()
            .copied()
            .max_by(|&a, &b| eq.flows.get(i, a).total_cmp(&eq.flows.get(i, b)))
            .unwrap_or(0);
        self.c(i, j) + (eq.loads[j] + eq.flows.get(i, j)) * self.inv_capacity[j]
    }

    /// The potential Φ of flows `f` (the quantity every sweep lowers).
    pub fn potential(&self, f: &Matrix) -> f64 {
        let mut phi = 0.0;
        for (j, (load, a)) in loads_of(f).into_iter().zip(&self.inst.capacity).enumerate() {
            let mut own = 0.0;
            for i in (0..self.n).filter(|&i| !self.chooser[i]) {
                let x = f.get(i, j);
                phi += self.c(i, j) * x;
                own += x * x;
            }
            phi += (load * load + own) / (2.0 * a);
        }
        phi
    }

    /// All of a chooser's demand on its cheapest provider, ties to a leader's provider.
    fn choose(&self, i: usize, out: &mut [f64]) {
        let row = &self.cost[i * self.m..(i + 1) * self.m];
        let best = row.iter().copied().fold(f64::INFINITY, f64::min);
        let tie = 1e-12 * best.abs().max(1e-300);
        let cheapest = |j: &usize| row[*j] <= best + tie;
        let leader = |j: &usize| self.inst.decisions.iter().any(|d| d.provider == *j);
        let pick = (0..self.m)
            .filter(cheapest)
            .find(leader)
            .or_else(|| (0..self.m).find(cheapest))
            .unwrap_or(0);
        out.iter_mut().for_each(|x| *x = 0.0);
        out[pick] = self.inst.demand[i];
    }

    /// User `i`'s best response to the loads of the others, into `out`; `order` is the
    /// user's providers sorted by intercept last time, `a` scratch space.
    fn best_response(
        &self,
        i: usize,
        loads: &[f64],
        own: &[f64],
        order: &mut [u32],
        a: &mut [f64],
        out: &mut [f64],
    ) {
        let m = self.m;
        let (inv, half) = (&self.inv_capacity, &self.half_capacity);
        // Intercepts of the marginal costs: c'_ij + y_j / α_j.
        let cost = &self.cost[i * m..(i + 1) * m];
        for j in 0..m {
            a[j] = cost[j] + (loads[j] - own[j]) * inv[j];
        }
        // Last sweep's order is nearly right: insertion sort is close to linear on it.
        for k in 1..m {
            let mut p = k;
            while p > 0 && a[order[p - 1] as usize] > a[order[p] as usize] {
                order.swap(p - 1, p);
                p -= 1;
            }
        }
        // f_j = (λ − a_j) α_j / 2 on the active set; λ from Σ f_j = D.
        let demand = self.inst.demand[i];
        let (mut w, mut wa) = (0.0, 0.0);
        let mut lambda = a[order[0] as usize];
        for k in 0..m {
            let j = order[k] as usize;
            w += half[j];
            wa += half[j] * a[j];
            lambda = (demand + wa) / w;
            if k + 1 == m || lambda <= a[order[k + 1] as usize] {
                break;
            }
        }
        for j in 0..m {
            out[j] = ((lambda - a[j]) * half[j]).max(0.0);
        }
        // Put the rounding error of Σ f on the largest flow, so demand is met exactly.
        let placed: f64 = out.iter().sum();
        if let Some(jmax) = (0..m).max_by(|&x, &y| out[x].total_cmp(&out[y])) {
            out[jmax] += demand - placed;
        }
    }

    /// The KKT residual of flows `f` (see the module documentation).
    pub fn residual(&self, f: &Matrix) -> f64 {
        let loads = loads_of(f);
        let mc = |i: usize, j: usize| {
            if self.chooser[i] {
                self.c(i, j)
            } else {
                self.c(i, j) + (loads[j] + f.get(i, j)) / self.inst.capacity[j]
            }
        };
        let mut scale: f64 = 1e-300;
        for i in 0..self.n {
            for j in 0..self.m {
                scale = scale.max(mc(i, j).abs());
            }
        }
        let mut worst: f64 = 0.0;
        for i in 0..self.n {
            let best = (0..self.m).map(|j| mc(i, j)).fold(f64::INFINITY, f64::min);
            let mut placed = 0.0;
            for j in 0..self.m {
                let x = f.get(i, j);
                placed += x;
                if x < 0.0 {
                    worst = worst.max(-x / self.inst.demand[i]);
                } else if x > 0.0 {
                    worst = worst.max((mc(i, j) - best) / scale);
                }
            }
            worst = worst.max((placed - self.inst.demand[i]).abs() / self.inst.demand[i]);
        }
        worst
    }
}

/// The loads x_j = Σ_i f_ij.
pub fn loads_of(f: &Matrix) -> Vec<f64> {
    let mut x = vec![0.0; f.cols];
    for i in 0..f.rows {
        for (xj, fij) in x.iter_mut().zip(f.row(i)) {
            *xj += fij;
        }
    }
    x
}

/// Solves the users' equilibrium at `prices`, starting from `start` when given (a price sweep
/// reuses the previous solution).
pub fn solve(
    inst: &Instance,
    prices: &[f64],
    start: Option<&Equilibrium>,
    opts: &Options,
) -> Result<Equilibrium, RuntimeError> {
    let game = Game::new(inst, prices)?;
    solve_game(&game, start, opts, |_| {})
}

/// [`solve`] on a built game; `on_sweep` sees the flows after every sweep (for tests).
pub fn solve_game(
    game: &Game,
    start: Option<&Equilibrium>,
    opts: &Options,
    mut on_sweep: impl FnMut(&Matrix),
) -> Result<Equilibrium, RuntimeError> {
    let (n, m) = (game.n, game.m);
    let mut f = match start {
        Some(s) if s.flows.rows == n && s.flows.cols == m => s.flows.clone(),
        _ => Matrix::filled(n, m, 0.0),
    };
    let mut row = vec![0.0; m];
    for i in (0..n).filter(|&i| game.chooser[i]) {
        game.choose(i, &mut row);
        f.data[i * m..(i + 1) * m].copy_from_slice(&row);
    }
    let mut loads = loads_of(&f);
    // Each user's providers by intercept, kept between sweeps (u32 halves their memory).
    let mut orders: Vec<Vec<u32>> = vec![(0..m as u32).collect(); n];
    let (mut own, mut scratch) = (vec![0.0; m], vec![0.0; m]);
    let players: Vec<usize> = (0..n).filter(|&i| !game.chooser[i]).collect();
    let mut sweeps = 0;
    let mut residual = game.residual(&f);
    let mut last_polish = 0;
    // The best polished point, and polishes since it improved: in an ill-conditioned market
    // (capacities far apart) rounding can hold the residual a little above the tolerance.
    let mut best: Option<(f64, Matrix)> = None;
    let mut stalls = 0;
    while residual > opts.tolerance {
        if sweeps == opts.max_sweeps {
            return Err(RuntimeError::NotConverged { sweeps, residual });
        }
        let mut change: f64 = 0.0;
        for &i in &players {
            let inv_demand = 1.0 / game.inst.demand[i];
            own.copy_from_slice(f.row(i));
            game.best_response(i, &loads, &own, &mut orders[i], &mut scratch, &mut row);
            for j in 0..m {
                loads[j] += row[j] - own[j];
                change = change.max((row[j] - own[j]).abs() * inv_demand);
            }
            f.data[i * m..(i + 1) * m].copy_from_slice(&row);
        }
        sweeps += 1;
        on_sweep(&f);
        if !change.is_finite() {
            return Err(RuntimeError::Numerical(
                "a flow became NaN or infinite during a sweep".into(),
            ));
        }
        // Loads drift by rounding over many sweeps: recompute them now and then.
        if sweeps % 64 == 0 {
            loads = loads_of(&f);
        }
        // Once the active sets have settled, solve the KKT system on them directly: this
        // lands on the equilibrium to rounding instead of sweeping towards it.
        if change <= 1e-6 && sweeps >= last_polish + 8 {
            last_polish = sweeps;
            if let Some(p) = polish(game, &f) {
                let r = game.residual(&p);
                if r <= opts.tolerance {
                    f = p;
                    residual = r;
                    break;
                }
                if best.as_ref().is_none_or(|(b, _)| r < *b) {
                    best = Some((r, p));
                    stalls = 0;
                } else {
                    stalls += 1;
                }
                // No better in 8 polishes: rounding, not the method, stops here. Accept the
                // best point if it meets the certificate's floor (its residual is reported).
                if stalls >= 8 {
                    if let Some((r, p)) =
                        best.take().filter(|(r, _)| *r <= opts.tolerance.max(1e-9))
                    {
                        f = p;
                        residual = r;
                        break;
                    }
                }
            }
        }
        // The residual costs a sweep; check it only once the flows have settled.
        if change <= opts.tolerance.max(1e-15) * 10.0 || sweeps % 256 == 0 || players.is_empty() {
            residual = game.residual(&f);
            if change == 0.0 && residual > opts.tolerance {
                // A fixed point of the sweep that rounding keeps from the tolerance.
                break;
            }
        }
    }
    if residual > opts.tolerance.max(1e-9) {
        return Err(RuntimeError::NotConverged { sweeps, residual });
    }
    Ok(Equilibrium {
        loads: loads_of(&f),
        flows: f,
        residual,
        sweeps,
    })
}

/// Markets up to this many providers get the direct KKT solve (a dense m × m system).
const POLISH_MAX_PROVIDERS: usize = 300;

/// The exact solution of the KKT system on the active sets of `f` (see `kkt`), if the flows it
/// gives are non-negative (that is, if the active sets were right).
fn polish(game: &Game, f: &Matrix) -> Option<Matrix> {
    let inst = game.inst;
    let (n, m) = (game.n, game.m);
    if m > POLISH_MAX_PROVIDERS {
        return None;
    }
    let alpha = &inst.capacity;
    let actives: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            if game.chooser[i] {
                Vec::new()
            } else {
                (0..m).filter(|&j| f.get(i, j) > 0.0).collect()
            }
        })
        .collect();
    let mut mat = crate::kkt::matrix(inst, &actives);
    let mut rhs = vec![0.0; m];
    for i in (0..n).filter(|&i| game.chooser[i]) {
        for (r, x) in rhs.iter_mut().zip(f.row(i)) {
            *r += x;
        }
    }
    let mut consts = vec![(0.0, 0.0); n]; // (S_i, D_i + C_i)
    for (i, active) in actives.iter().enumerate() {
        if active.is_empty() {
            continue;
        }
        let total: f64 = active.iter().map(|&j| alpha[j]).sum();
        let c: f64 = active.iter().map(|&j| alpha[j] * game.c(i, j)).sum();
        consts[i] = (total, inst.demand[i] + c);
        for &j in active {
            rhs[j] += alpha[j] * ((inst.demand[i] + c) / total - game.c(i, j));
        }
    }
    crate::kkt::solve_dense(&mut mat, &mut rhs, m)?;
    let x = rhs;
    let mut out = f.clone();
    for (i, active) in actives.iter().enumerate() {
        if active.is_empty() {
            continue;
        }
        let (total, dc) = consts[i];
        let lambda = (dc + active.iter().map(|&k| x[k]).sum::<f64>()) / total;
        let floor = -1e-12 * inst.demand[i];
        let row = &mut out.data[i * m..(i + 1) * m];
        row.iter_mut().for_each(|v| *v = 0.0);
        for &j in active {
            let v = alpha[j] * (lambda - game.c(i, j)) - x[j];
            if v < floor {
                return None;
            }
            row[j] = v.max(0.0);
        }
    }
    Some(out)
}
