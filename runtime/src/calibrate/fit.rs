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
    /// Fit the congestion weight too. Flows at one price vector cannot identify it: with a
    /// free value per provider, scaling w_q, every QoS weight and every `p_j − b_j` together
    /// changes no choice; periods at different prices can (refused otherwise). Off, w_q
    /// stays at its starting (declared) value and sets the scale of the others.
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
    /// The largest KKT residual of the fitted equilibria.
    pub kkt_residual: f64,
    /// The fitted equilibrium's flows in each period (mtok).
    pub flows: Vec<Matrix>,
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
        let seen = obs
            .periods
            .iter()
            .filter(|t| !t.held_out)
            .any(|t| train.iter().any(|&i| t.flows.get(i, j) > 0.0));
        if free && !seen {
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
        let mut idle = vec![true; m];
        let mut seen = vec![false; m];
        let mut gap = vec![f64::INFINITY; m];
        for period in obs.periods.iter().filter(|p| !p.held_out) {
            let at = theta.apply(&period.instance(inst));
            let eq = solve(&at, &at.price, None, &EqOptions::default())?;
            let marginal = |i: usize, j: usize| {
                at.price[j]
                    + at.static_cost(i, j)
                    + at.congestion_weight[i] * (eq.loads[j] + eq.flows.get(i, j)) / at.capacity[j]
            };
            for j in 0..m {
                seen[j] |= train.iter().any(|&i| period.flows.get(i, j) > 0.0);
                idle[j] &= train.iter().all(|&i| eq.flows.get(i, j) <= 0.0);
                for &i in train {
                    let lambda = (0..m)
                        .filter(|&k| eq.flows.get(i, k) > 0.0)
                        .map(|k| marginal(i, k))
                        .fold(f64::INFINITY, f64::min);
                    gap[j] = gap[j].min(marginal(i, j) - lambda);
                }
            }
        }
        let Some(j) = (0..m).find(|&j| seen[j] && idle[j]) else {
            return Ok(());
        };
        // Just past marginal: a little flow, so the Jacobian sees the value.
        theta.value[j] += gap[j] + 1e-3 * gap[j].abs().max(1e-6);
    }
    Ok(())
}

/// One period's market at θ and its equilibrium.
struct Solved {
    at: Instance,
    eq: Equilibrium,
}

/// The equilibrium of every period at θ and the training loss.
fn evaluate(
    inst: &Instance,
    obs: &Observed,
    theta: &Theta,
) -> Result<(Vec<Solved>, f64), RuntimeError> {
    let mut solved = Vec::with_capacity(obs.periods.len());
    let mut loss = 0.0;
    for period in &obs.periods {
        let at = theta.apply(&period.instance(inst));
        let eq = solve(&at, &at.price, None, &EqOptions::default())?;
        let t = solved.len();
        for i in (0..inst.n_users()).filter(|&i| obs.trains(t, i)) {
            for j in 0..inst.n_providers() {
                loss += (eq.flows.get(i, j) - period.flows.get(i, j)).powi(2);
            }
        }
        solved.push(Solved { at, eq });
    }
    Ok((solved, loss))
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
    if options.fit_congestion && !obs.prices_vary() {
        return Err(RuntimeError::BadInstance(
            "the observations cannot identify the congestion weight: flows at one price vector \
             (or periods at the same prices) fix preferences only up to a common scale (scaling the congestion weight, the QoS \
             weights and every price-minus-value together changes no choice); keep it at its \
             declared value, or observe flows at other prices"
                .into(),
        ));
    }
    // Parameters the fit moves: the learned (or all) QoS weights, and values unless held.
    let learned_qos = |q: usize| options.learned.as_ref().is_none_or(|l| l.qos[q]);
    let learned_value =
        |j: usize| options.fit_values && options.learned.as_ref().is_none_or(|l| l.values[j]);
    let free: Vec<usize> = options
        .fit_congestion
        .then_some(0)
        .into_iter()
        .chain((0..k).filter(|&q| learned_qos(q)).map(|q| 1 + q))
        .chain((0..m).filter(|&j| learned_value(j)).map(|j| 1 + k + j))
        .collect();
    // A common shift of every value changes nothing: fix the level when all are free.
    let all_values_free = (0..m).all(learned_value);
    let settle = |t: Theta| if all_values_free { t.normalised() } else { t };
    let mut start = start.clone();
    activate(inst, obs, &train, &mut start)?;
    let mut z = to_z(&start);
    let params = z.len();
    let (mut solved, mut loss) = evaluate(inst, obs, &from_z(&z, k))?;
    let mut history = vec![loss];
    let mut mu = 1e-3;
    let mut iterations = 0;
    for it in 0..options.max_iterations {
        iterations = it + 1;
        // Normal equations over the training cells of every period.
        let mut jtj = vec![0.0; params * params];
        let mut jtr = vec![0.0; params];
        for (t, (s, period)) in solved.iter().zip(&obs.periods).enumerate() {
            if period.held_out {
                continue;
            }
            let jac = jacobian(&s.at, &s.eq).ok_or_else(|| {
                RuntimeError::Numerical("the equilibrium's KKT matrix is singular".into())
            })?;
            for &i in train.iter().filter(|&&i| obs.trains(t, i)) {
                for j in 0..m {
                    let r = s.eq.flows.get(i, j) - period.flows.get(i, j);
                    let row = jac.row(i * m + j);
                    for p in 0..params {
                        jtr[p] += row[p] * r;
                        for q in 0..params {
                            jtj[p * params + q] += row[p] * row[q];
                        }
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
                Ok((solved2, loss2)) if loss2 < loss => {
                    let gain = (loss - loss2) / loss.max(1e-300);
                    z = to_z(&theta);
                    (solved, loss) = (solved2, loss2);
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
    let any_held = obs.held_out.contains(&true) || obs.periods.iter().any(|p| p.held_out);
    let flows: Vec<Matrix> = solved.iter().map(|s| s.eq.flows.clone()).collect();
    Ok(Calibration {
        train: fit_of(&flows, obs, |t, i| obs.trains(t, i)),
        held_out: any_held.then(|| fit_of(&flows, obs, |t, i| !obs.trains(t, i))),
        kkt_residual: solved.iter().map(|s| s.eq.residual).fold(0.0, f64::max),
        flows,
        theta,
        iterations,
        loss: history,
    })
}
