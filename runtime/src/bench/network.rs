//! The aggregation network's measurements: generated markets of two families, the network
//! and the baselines against the exact optimum, the batched throughput, where the time of a
//! decision goes, and how far fixed scores get (the abstraction's own limit).

use std::time::Instant;

use prillm_compiler::lower::Instance;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::Serialize;

use crate::equilibrium::Options;
use crate::error::RuntimeError;
use crate::leader::optimise;
use crate::synthetic::{market, uniform};

#[derive(Clone, Debug, Serialize)]
pub struct AbstractionRow {
    pub family: Family,
    pub rivals: usize,
    pub k: usize,
    pub method: &'static str,
    /// Re-simulated profit as % of the exact optimum, median and 5th percentile.
    pub median_pct: f64,
    pub p5_pct: f64,
    /// Median of (time to reduce and price) / (exact pricing time).
    pub time_ratio: f64,
    /// Markets left out because an equilibrium did not converge to its tolerance.
    pub skipped: usize,
}

/// How the values and delays of a generated market relate across users.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Every user's value and delay of every rival drawn on its own: in a large market each
    /// user's best rival is a different one, the hardest case for one representative rival.
    Independent,
    /// A rival's quality and latency shared by all users (80%) plus a user's own taste
    /// (20%), as in real markets, where a model is good or fast for everyone.
    Correlated,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::Independent, Family::Correlated];

    pub fn name(self) -> &'static str {
        match self {
            Family::Independent => "independent",
            Family::Correlated => "correlated",
        }
    }
}

/// A generated market of `rivals` rivals and `users` users whose target (provider 0, unit
/// cost 0.3) is worth pricing: each user values it half a usd/mtok above its best rival, so
/// it keeps customers however many rivals there are.
pub fn target_market(rivals: usize, users: usize, seed: u64) -> Instance {
    target_market_of(Family::Independent, rivals, users, seed)
}

/// [`target_market`] of a family.
pub fn target_market_of(family: Family, rivals: usize, users: usize, seed: u64) -> Instance {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut inst = market(users, rivals + 1, 0, &mut rng);
    if family == Family::Correlated {
        let quality: Vec<f64> = (0..=rivals).map(|_| uniform(&mut rng, 0.0, 1.0)).collect();
        let latency: Vec<f64> = (0..=rivals)
            .map(|_| uniform(&mut rng, 100.0, 3000.0))
            .collect();
        for i in 0..users {
            for j in 0..=rivals {
                let taste = uniform(&mut rng, 0.0, 1.0);
                inst.value.set(i, j, 3.0 * (0.8 * quality[j] + 0.2 * taste));
                let delay = latency[j] * uniform(&mut rng, 0.8, 1.2);
                inst.qos_values[0].set(i, j, delay);
            }
        }
    }
    inst.cost[0] = 0.3;
    inst.objectives = vec![prillm_compiler::lower::ObjectiveInfo {
        firm: 0,
        maximize: prillm_compiler::lower::ObjectiveFn::Profit,
    }];
    for i in 0..inst.n_users() {
        let best = (1..=rivals)
            .map(|j| inst.value.get(i, j))
            .fold(0.0, f64::max);
        inst.value.set(i, 0, best + 0.5);
    }
    inst
}

/// Markets the network bench trains on: generated like [`target_market`] with 4 to 600
/// rivals (log-spaced, so small and large sets are equally common) and 20 users, the two
/// families alternating, from seeds apart from the held-out ones.
pub fn training_markets(count: usize) -> Vec<Instance> {
    (0..count)
        .map(|s| {
            let rivals = (4.0 * 150f64.powf((s % 50) as f64 / 49.0)).round() as usize;
            let family = Family::ALL[(s / 50) % 2];
            target_market_of(family, rivals, 20, 2_000_000 + s as u64)
        })
        .collect()
}

/// The held-out markets of one family and size (the seeds `prillm bench network` measures on).
pub fn held_out_markets(family: Family, rivals: usize, markets: usize) -> Vec<Instance> {
    (0..markets)
        .map(|s| target_market_of(family, rivals, 20, 1_000_000 + (rivals * 1000 + s) as u64))
        .collect()
}

/// A trained network for the comparison, by its K.
pub type Net<'a> = (
    &'a crate::network::AggregationNet<crate::network::Cpu>,
    &'a crate::network::Meta,
);

/// MIN, AVG, current-load scores and (for each K a network is given for) the network's
/// scores against the exact optimum on the held-out markets with `rivals` rivals. Time is
/// that of choosing the price (scoring, reducing, pricing the abstract market), one market
/// at a time; the profit is re-simulated in the full market.
pub fn abstraction_vs_exact(
    family: Family,
    rivals: usize,
    ks: &[usize],
    markets: usize,
    nets: &[Net],
) -> Result<Vec<AbstractionRow>, RuntimeError> {
    use crate::network::{certify, choose, load_scores, price_by_reduction, Reduction};
    let methods = ["MIN", "AVG", "LOAD", "NET"];
    // (k, method) → [(pct, time ratio)]
    let mut results = vec![Vec::new(); ks.len() * methods.len()];
    let mut skipped = 0;
    let device = Default::default();
    for inst in held_out_markets(family, rivals, markets) {
        // One market's rows, or why it could not be measured.
        let one = || -> Result<Vec<(usize, f64, f64)>, RuntimeError> {
            let t = Instant::now();
            let exact = optimise(&inst, 0, &inst.price, &Options::default())?;
            let exact_ms = t.elapsed().as_secs_f64() * 1e3;
            let mut out = Vec::new();
            for (a, &k) in ks.iter().enumerate() {
                for (b, name) in methods.into_iter().enumerate() {
                    let column = a * methods.len() + b;
                    let t = Instant::now();
                    let (objective, ms) = if name == "NET" {
                        let Some((net, meta)) = nets.iter().find(|(_, m)| m.k == k) else {
                            continue;
                        };
                        let choice = choose(net, meta, std::slice::from_ref(&inst), &device)?;
                        let ms = t.elapsed().as_secs_f64() * 1e3;
                        (certify(&inst, &choice[0])?.objective, ms)
                    } else {
                        let how = match name {
                            "MIN" => Reduction::Min,
                            "AVG" => Reduction::Avg,
                            _ => load_scores(&inst)?,
                        };
                        let scoring_ms = t.elapsed().as_secs_f64() * 1e3;
                        let p = price_by_reduction(&inst, k, &how)?;
                        (p.objective, scoring_ms + p.ms)
                    };
                    out.push((column, 100.0 * objective / exact.objective, ms / exact_ms));
                }
            }
            Ok(out)
        };
        match one() {
            Ok(rows) => rows
                .into_iter()
                .for_each(|(c, pct, time)| results[c].push((pct, time))),
            Err(RuntimeError::NotConverged { .. }) => skipped += 1,
            Err(e) => return Err(e),
        }
    }
    if skipped == markets {
        return Err(RuntimeError::Numerical(format!(
            "no equilibrium converged on the {markets} markets with {rivals} rivals"
        )));
    }
    let mut rows = Vec::new();
    for (a, &k) in ks.iter().enumerate() {
        for (b, &method) in methods.iter().enumerate() {
            let r = &results[a * methods.len() + b];
            if r.is_empty() {
                continue;
            }
            let mut pct: Vec<f64> = r.iter().map(|x| x.0).collect();
            let mut time: Vec<f64> = r.iter().map(|x| x.1).collect();
            rows.push(AbstractionRow {
                family,
                rivals,
                k,
                method,
                median_pct: quantile(&mut pct, 0.5),
                p5_pct: quantile(&mut pct, 0.05),
                time_ratio: quantile(&mut time, 0.5),
                skipped,
            });
        }
    }
    Ok(rows)
}

/// Markets per second: the network choosing prices for all held-out markets of a size in
/// one batch, and the exact runtime pricing them one after another.
pub fn network_throughput(
    family: Family,
    rivals: usize,
    markets: usize,
    net: Net,
) -> Result<(f64, f64), RuntimeError> {
    let insts = held_out_markets(family, rivals, markets);
    let t = Instant::now();
    crate::network::choose(net.0, net.1, &insts, &Default::default())?;
    let batched = markets as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for inst in &insts {
        optimise(inst, 0, &inst.price, &Options::default())?;
    }
    Ok((batched, markets as f64 / t.elapsed().as_secs_f64()))
}

/// Where the time of one decision goes (medians over the held-out markets, milliseconds).
#[derive(Clone, Debug, Serialize)]
pub struct DecisionSteps {
    pub features_ms: f64,
    pub network_ms: f64,
    /// Building the abstract market and pricing it exactly.
    pub abstract_ms: f64,
    pub exact_ms: f64,
}

/// [`DecisionSteps`] of the network `net` on the held-out markets of a family and size.
pub fn decision_steps(
    family: Family,
    rivals: usize,
    markets: usize,
    net: Net,
) -> Result<DecisionSteps, RuntimeError> {
    use prillm_compiler::lower::plan::rival_features;
    let (model, meta) = net;
    let device = Default::default();
    let (mut features, mut network, mut abstracted, mut exact) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    for inst in held_out_markets(family, rivals, markets) {
        let t = Instant::now();
        let rows = rival_features(&inst, 0);
        features.push(ms(t));
        let t = Instant::now();
        let scored = crate::network::train::scores(model, &[&rows], &meta.normalisation, &device);
        network.push(ms(t));
        let t = Instant::now();
        let (sum, avg) = &scored[0];
        crate::network::choose_one(&inst, 0, meta.k, sum, avg)?;
        abstracted.push(ms(t));
        let t = Instant::now();
        optimise(&inst, 0, &inst.price, &Options::default())?;
        exact.push(ms(t));
    }
    Ok(DecisionSteps {
        features_ms: quantile(&mut features, 0.5),
        network_ms: quantile(&mut network, 0.5),
        abstract_ms: quantile(&mut abstracted, 0.5),
        exact_ms: quantile(&mut exact, 0.5),
    })
}

/// One choice of fixed scores (no network) and how the abstract market it makes prices.
#[derive(Clone, Debug, Serialize)]
pub struct FixedRow {
    /// `score_avg = e^(−beta · feature)`, `score_sum = capacity_scale` for every rival.
    pub feature: &'static str,
    pub beta: f64,
    pub capacity_scale: f64,
    pub median_pct: f64,
    pub p5_pct: f64,
    /// Markets where the abstract market's price is above the exact optimum's.
    pub overpriced: usize,
    pub markets: usize,
}

/// The features fixed scores are drawn from, and their weights β.
pub const FIXED_FEATURES: [&str; 4] = ["best_gap", "cost_gap_mean", "price_gap", "loaded_gap"];
pub const FIXED_BETAS: [f64; 4] = [1.0, 3.0, 10.0, 30.0];

/// Every fixed choice of [`FIXED_FEATURES`] × [`FIXED_BETAS`] at K = 2 on the held-out markets
/// of a family and size (the representative's capacity the plain sum of the merged rivals'),
/// then the best of them (by median) with that capacity scaled by each of `capacity_scales`.
/// Markets whose equilibrium does not converge under a choice are left out of that row.
pub fn fixed_scores(
    family: Family,
    rivals: usize,
    markets: usize,
    capacity_scales: &[f64],
) -> Result<Vec<FixedRow>, RuntimeError> {
    use prillm_compiler::lower::plan::rival_features;
    let insts = held_out_markets(family, rivals, markets);
    let exact: Vec<(f64, f64)> = insts
        .iter()
        .map(|i| optimise(i, 0, &i.price, &Options::default()).map(|e| (e.objective, e.price)))
        .collect::<Result<_, _>>()?;
    let features: Vec<Vec<Vec<f64>>> = insts.iter().map(|i| rival_features(i, 0)).collect();
    let measure = |feature, beta, capacity_scale| {
        fixed_row(&insts, &features, &exact, feature, beta, capacity_scale)
    };
    let mut rows = Vec::new();
    for feature in FIXED_FEATURES {
        for beta in FIXED_BETAS {
            rows.extend(measure(feature, beta, 1.0)?);
        }
    }
    let best = rows
        .iter()
        .max_by(|a, b| a.median_pct.total_cmp(&b.median_pct))
        .map(|r| (r.feature, r.beta));
    if let Some((feature, beta)) = best {
        for &scale in capacity_scales {
            rows.extend(measure(feature, beta, scale)?);
        }
    }
    Ok(rows)
}

/// One choice of fixed scores on the markets (`exact`: each one's optimum and its price).
fn fixed_row(
    insts: &[Instance],
    features: &[Vec<Vec<f64>>],
    exact: &[(f64, f64)],
    feature: &'static str,
    beta: f64,
    capacity_scale: f64,
) -> Result<Option<FixedRow>, RuntimeError> {
    use crate::network::{price_by_reduction, Reduction};
    use prillm_compiler::lower::plan::FEATURES;
    let f = FEATURES
        .iter()
        .position(|&name| name == feature)
        .expect("a feature of the layout");
    let (mut pct, mut overpriced) = (Vec::new(), 0);
    for ((inst, rows), &(best, best_price)) in insts.iter().zip(features).zip(exact) {
        // Scores per provider; the target's (provider 0) are ignored.
        let avg = std::iter::once(1.0)
            .chain(rows.iter().map(|r| (-beta * r[f]).exp().max(1e-300)))
            .collect();
        let how = Reduction::Scores {
            sum: vec![capacity_scale; inst.n_providers()],
            avg,
        };
        match price_by_reduction(inst, 2, &how) {
            Ok(p) => {
                pct.push(100.0 * p.objective / best);
                overpriced += usize::from(p.price > best_price);
            }
            Err(RuntimeError::NotConverged { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    if pct.is_empty() {
        return Ok(None);
    }
    Ok(Some(FixedRow {
        feature,
        beta,
        capacity_scale,
        markets: pct.len(),
        median_pct: quantile(&mut pct, 0.5),
        p5_pct: quantile(&mut pct, 0.05),
        overpriced,
    }))
}

/// The `q` quantile of `v` (nearest rank; `v` not empty).
fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}
