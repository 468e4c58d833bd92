//! Least squares through the equilibrium: Levenberg–Marquardt on
//! `z = (ln w_q, w_1..w_K, b_1..b_m)` with the Jacobian of [`super::jacobian`].

use prillm_compiler::lower::{Instance, Matrix};
use serde::Serialize;

use super::jacobian::jacobian;
use super::{fit_of, Fit, Observed, Theta};
use crate::equilibrium::{solve, Equilibrium, Options as EqOptions};
use crate::error::RuntimeError;
use crate::kkt::solve_dense;

#[derive(Clone, Debug)]
pub struct Options {
    /// Fit the congestion weight too. One snapshot of flows at one price vector cannot
    /// identify it: with a free value per provider, scaling w_q, every QoS weight and every
    /// `p_j − b_j` together changes no choice. Off, w_q stays at its starting (declared)
    /// value and sets the scale of the others.
    pub fit_congestion: bool,
    /// Fit the providers' values (off: they stay at their starting values — the "objective
    /// factors only" ablation with every value 0).
    pub fit_values: bool,
    /// Which values and QoS weights to fit (the market's `learned` ones); `None`: all.
    pub learned: Option<prillm_compiler::lower::Learned>,
    pub max_iterations: usize,
    /// Stop when an accepted step lowers the loss by less than this fraction.
    pub tolerance: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fit_congestion: false,
            fit_values: true,
            learned: None,
            max_iterations: 200,
            tolerance: 1e-12,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Calibration {
    pub theta: Theta,
    pub iterations: usize,
    /// Sum of squared residuals on the training cells, after each accepted step.
    pub loss: Vec<f64>,
    pub train: Fit,
    pub held_out: Option<Fit>,
    /// The fitted equilibrium's KKT residual.
    pub kkt_residual: f64,
    pub flows: Matrix,
}

fn to_z(t: &Theta) -> Vec<f64> {
    let mut z = vec![t.congestion.ln()];
    z.extend(&t.qos);
    z.extend(&t.value);
    z
}

fn from_z(z: &[f64], k: usize) -> Theta {
    Theta {
        congestion: z[0].exp(),
        qos: z[1..1 + k].iter().map(|w| w.max(0.0)).collect(),
        value: z[1 + k..].to_vec(),
    }
}

/// Parameters the training observations cannot pin down: a provider no training user is
/// observed using (its value is only bounded above), a QoS dimension equal across providers
/// for every training user (its weight changes no choice).
fn identifiable(
    inst: &Instance,
    obs: &Observed,
    train: &[usize],
    options: &Options,
) -> Result<(), RuntimeError> {
    let m = inst.n_providers();
    let learned = options.learned.as_ref();
    for j in 0..m {
        let free = options.fit_values && learned.is_none_or(|l| l.values[j]);
        if free && train.iter().all(|&i| obs.flows.get(i, j) <= 0.0) {
            return Err(RuntimeError::BadInstance(format!(
                "the observations cannot identify the value of `{}`: no training user is observed using it",
                inst.providers[j].name
            )));
        }
    }
    for (k, q) in inst.qos.iter().enumerate() {
        if !learned.is_none_or(|l| l.qos[k]) {
            continue;
        }
        let values = &inst.qos_values[k];
        let flat = train.iter().all(|&i| {
            (0..m).all(|j| {
                (values.get(i, j) - values.get(i, 0)).abs()
                    <= 1e-12 * values.get(i, 0).abs().max(1.0)
            })
        });
        if flat {
            return Err(RuntimeError::BadInstance(format!(
                "the observations cannot identify the weight of `{}`: it is the same for every provider, so it changes no choice",
                q.name
            )));
        }
    }
    Ok(())
}

/// Raises the value of each provider that training users are observed using but the
/// equilibrium at `theta` gives no flow, to where it becomes marginal for its closest user:
/// there its flows start to depend on the value, so the fit can move it.
fn activate(
    inst: &Instance,
    obs: &Observed,
    train: &[usize],
    theta: &mut Theta,
) -> Result<(), RuntimeError> {
    let m = inst.n_providers();
    for _ in 0..m {
        let at = theta.apply(inst);
        let eq = solve(&at, &inst.price, None, &EqOptions::default())?;
        let marginal = |i: usize, j: usize| {
            let mut c = inst.price[j] + at.static_cost(i, j);
            c += at.congestion_weight[i] * (eq.loads[j] + eq.flows.get(i, j)) / inst.capacity[j];
            c
        };
        let idle = (0..m).find(|&j| {
            train.iter().any(|&i| obs.flows.get(i, j) > 0.0)
                && train.iter().all(|&i| eq.flows.get(i, j) <= 0.0)
        });
        let Some(j) = idle else {
            return Ok(());
        };
        let gap = train
            .iter()
            .map(|&i| {
                let lambda = (0..m)
                    .filter(|&k| eq.flows.get(i, k) > 0.0)
                    .map(|k| marginal(i, k))
                    .fold(f64::INFINITY, f64::min);
                marginal(i, j) - lambda
            })
            .fold(f64::INFINITY, f64::min);
        // Just past marginal: a little flow, so the Jacobian sees the value.
        theta.value[j] += gap + 1e-3 * gap.abs().max(1e-6);
    }
    Ok(())
}

/// The equilibrium at θ and the training loss.
fn evaluate(
    inst: &Instance,
    obs: &Observed,
    theta: &Theta,
) -> Result<(Instance, Equilibrium, f64), RuntimeError> {
    let at = theta.apply(inst);
    let eq = solve(&at, &inst.price, None, &EqOptions::default())?;
    let loss = (0..inst.n_users())
        .filter(|&i| !obs.held_out[i])
        .flat_map(|i| (0..inst.n_providers()).map(move |j| (i, j)))
        .map(|(i, j)| (eq.flows.get(i, j) - obs.flows.get(i, j)).powi(2))
        .sum();
    Ok((at, eq, loss))
}

/// Fits θ from `start`; `progress` sees (iteration, loss) after each accepted step.
pub fn fit(
    inst: &Instance,
    obs: &Observed,
    start: &Theta,
    options: &Options,
    mut progress: impl FnMut(usize, f64),
) -> Result<Calibration, RuntimeError> {
    let (n, m, k) = (inst.n_users(), inst.n_providers(), inst.qos.len());
    if start.congestion.is_nan() || start.congestion <= 0.0 {
        return Err(RuntimeError::BadInstance(
            "the congestion weight must start positive".into(),
        ));
    }
    let train: Vec<usize> = (0..n).filter(|&i| !obs.held_out[i]).collect();
    identifiable(inst, obs, &train, options)?;
    if options.fit_congestion {
        return Err(RuntimeError::BadInstance(
            "the observations cannot identify the congestion weight: flows at one price vector \
             fix preferences only up to a common scale (scaling the congestion weight, the QoS \
             weights and every price-minus-value together changes no choice); keep it at its \
             declared value, or observe flows at other prices"
                .into(),
        ));
    }
    // Parameters the fit moves: the learned (or all) QoS weights, and values unless held.
    let learned_qos = |q: usize| options.learned.as_ref().is_none_or(|l| l.qos[q]);
    let learned_value =
        |j: usize| options.fit_values && options.learned.as_ref().is_none_or(|l| l.values[j]);
    let free: Vec<usize> = (0..k)
        .filter(|&q| learned_qos(q))
        .map(|q| 1 + q)
        .chain((0..m).filter(|&j| learned_value(j)).map(|j| 1 + k + j))
        .collect();
    // A common shift of every value changes nothing: fix the level when all are free.
    let all_values_free = (0..m).all(learned_value);
    let settle = |t: Theta| if all_values_free { t.normalised() } else { t };
    let mut start = start.clone();
    activate(inst, obs, &train, &mut start)?;
    let mut z = to_z(&start);
    let params = z.len();
    let (mut at, mut eq, mut loss) = evaluate(inst, obs, &from_z(&z, k))?;
    let mut history = vec![loss];
    let mut mu = 1e-3;
    let mut iterations = 0;
    for it in 0..options.max_iterations {
        iterations = it + 1;
        let jac = jacobian(&at, &eq).ok_or_else(|| {
            RuntimeError::Numerical("the equilibrium's KKT matrix is singular".into())
        })?;
        // Normal equations over the training cells.
        let mut jtj = vec![0.0; params * params];
        let mut jtr = vec![0.0; params];
        for &i in &train {
            for j in 0..m {
                let r = eq.flows.get(i, j) - obs.flows.get(i, j);
                let row = jac.row(i * m + j);
                for p in 0..params {
                    jtr[p] += row[p] * r;
                    for q in 0..params {
                        jtj[p * params + q] += row[p] * row[q];
                    }
                }
            }
        }
        // Damped steps on the free parameters until one lowers the loss.
        let f = free.len();
        let mut accepted = false;
        for _ in 0..30 {
            let mut a = vec![0.0; f * f];
            let mut step = vec![0.0; f];
            for (r, &p) in free.iter().enumerate() {
                for (c, &q) in free.iter().enumerate() {
                    a[r * f + c] = jtj[p * params + q];
                }
                a[r * f + r] += mu * jtj[p * params + p].max(1e-12);
                step[r] = -jtr[p];
            }
            if solve_dense(&mut a, &mut step, f).is_none() {
                mu *= 10.0;
                continue;
            }
            let mut trial = z.clone();
            for (r, &p) in free.iter().enumerate() {
                trial[p] += step[r];
            }
            let theta = settle(from_z(&trial, k));
            match evaluate(inst, obs, &theta) {
                Ok((at2, eq2, loss2)) if loss2 < loss => {
                    let gain = (loss - loss2) / loss.max(1e-300);
                    z = to_z(&theta);
                    (at, eq, loss) = (at2, eq2, loss2);
                    history.push(loss);
                    progress(iterations, loss);
                    mu = (mu / 3.0).max(1e-12);
                    accepted = gain > options.tolerance;
                    break;
                }
                _ => mu *= 4.0,
            }
        }
        if !accepted {
            break;
        }
    }
    let theta = settle(from_z(&z, k));
    let held: Vec<usize> = (0..n).filter(|&i| obs.held_out[i]).collect();
    Ok(Calibration {
        train: fit_of(&eq.flows, &obs.flows, |i| !obs.held_out[i]),
        held_out: (!held.is_empty()).then(|| fit_of(&eq.flows, &obs.flows, |i| obs.held_out[i])),
        kkt_residual: eq.residual,
        flows: eq.flows.clone(),
        theta,
        iterations,
        loss: history,
    })
}
