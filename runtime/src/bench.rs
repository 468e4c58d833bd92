//! Measurements shared by `cargo bench` and `prillm bench exact|milp`: the equilibrium's
//! throughput, the exact price against a dense grid of re-solved equilibria, and each MILP
//! solver against the exact price on the same grid.

use std::time::Instant;

use prillm_compiler::lower::Instance;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::Serialize;

use crate::equilibrium::{solve, Options};
use crate::error::RuntimeError;
use crate::leader::optimise;
use crate::milp::{MilpOptions, SolveStatus};
use crate::synthetic::{market, uniform};

#[derive(Clone, Debug, Serialize)]
pub struct ThroughputRow {
    pub users: usize,
    pub providers: usize,
    pub sweeps: usize,
    pub residual: f64,
    pub ms: f64,
    /// users × providers × sweeps per second.
    pub updates_per_s: f64,
}

/// The best of `repeats` cold solves of a generated n × n market.
pub fn throughput(n: usize, repeats: usize) -> Result<ThroughputRow, RuntimeError> {
    let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
    let inst = market(n, n, 0, &mut rng);
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let eq = solve(&inst, &inst.price, None, &Options::default())?;
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(eq);
    }
    let eq = last.expect("at least one run");
    Ok(ThroughputRow {
        users: n,
        providers: n,
        sweeps: eq.sweeps,
        residual: eq.residual,
        ms: best * 1e3,
        updates_per_s: (n * n * eq.sweeps) as f64 / best,
    })
}

#[derive(Clone, Debug, Serialize)]
pub struct LeaderRow {
    pub name: String,
    pub providers: usize,
    pub users: usize,
    pub exact_ms: f64,
    pub pieces: usize,
    pub exact_objective: f64,
    pub grid_ms: f64,
    pub grid_points: usize,
    pub grid_objective: f64,
}

/// The exact price of decision 0 (best of `repeats`) beside the best point of a dense grid
/// (the decision's own grid, or 1,001 prices), each point a warm-started equilibrium.
pub fn leader_vs_grid(
    name: &str,
    inst: &Instance,
    repeats: usize,
) -> Result<LeaderRow, RuntimeError> {
    let opts = Options::default();
    let mut best = f64::INFINITY;
    let mut exact = None;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let r = optimise(inst, 0, &inst.price, &opts)?;
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
        exact = Some(r);
    }
    let exact = exact.expect("at least one run");
    let d = &inst.decisions[0];
    let grid: Vec<f64> = d.grid().unwrap_or_else(|| {
        (0..=1000)
            .map(|k| d.lo + (d.hi - d.lo) * k as f64 / 1000.0)
            .collect()
    });
    let t = Instant::now();
    let mut warm = None;
    let mut grid_best = f64::NEG_INFINITY;
    for &p in &grid {
        let mut prices = inst.price.clone();
        prices[d.provider] = p;
        let eq = solve(inst, &prices, warm.as_ref(), &opts)?;
        grid_best = grid_best.max(crate::nash::firm_objective(
            inst, d.firm, &prices, &eq.loads,
        ));
        warm = Some(eq);
    }
    Ok(LeaderRow {
        name: name.to_string(),
        providers: inst.n_providers(),
        users: inst.n_users(),
        exact_ms: best,
        pieces: exact.pieces,
        exact_objective: exact.objective,
        grid_ms: t.elapsed().as_secs_f64() * 1e3,
        grid_points: grid.len(),
        grid_objective: grid_best,
    })
}

/// Generated markets for the leader benchmark: `m` providers, `n` users, provider 0 decided.
pub fn generated(m: usize, n: usize) -> Instance {
    let mut rng = ChaCha8Rng::seed_from_u64(m as u64);
    market(n, m, 0, &mut rng)
}

#[derive(Clone, Debug, Serialize)]
pub struct MilpRow {
    pub providers: usize,
    pub users: usize,
    pub grid_points: usize,
    pub solver: &'static str,
    pub binaries: usize,
    pub milp_ms: f64,
    /// `optimal`, `time_limit`, or why it failed.
    pub status: String,
    pub milp_objective: Option<f64>,
    pub exact_ms: f64,
    pub exact_objective: f64,
}

/// A generated market for the MILP benchmark: provider 0 decided on `points` grid prices
/// over [0, 10], its profit maximised.
pub fn milp_market(m: usize, n: usize, points: usize) -> Instance {
    let mut inst = generated(m, n);
    inst.decisions[0].step = Some(10.0 / (points - 1) as f64);
    inst.objectives = vec![prillm_compiler::lower::ObjectiveInfo {
        firm: 0,
        maximize: prillm_compiler::lower::ObjectiveFn::Profit,
    }];
    inst
}

/// One MILP solve of firm 0 beside the exact runtime's optimum on the same grid.
pub fn milp_vs_exact(inst: &Instance, options: &MilpOptions) -> Result<MilpRow, RuntimeError> {
    let t = Instant::now();
    let exact = optimise(inst, 0, &inst.price, &Options::default())?;
    let exact_ms = t.elapsed().as_secs_f64() * 1e3;
    let binaries = crate::milp::program(inst, 0, &inst.price, options)
        .map(|p| p.binaries())
        .unwrap_or(0);
    let t = Instant::now();
    let solved = crate::milp::solve_firm(inst, 0, &inst.price, options);
    let milp_ms = t.elapsed().as_secs_f64() * 1e3;
    let (status, milp_objective) = match solved {
        Ok(Some(s)) => (
            match s.certificate.status {
                SolveStatus::Optimal => "optimal".to_string(),
                SolveStatus::TimeLimit => "time_limit".to_string(),
                SolveStatus::Infeasible => "infeasible".to_string(),
            },
            Some(s.objective),
        ),
        Ok(None) => ("infeasible".to_string(), None),
        Err(e) => (e.to_string(), None),
    };
    Ok(MilpRow {
        providers: inst.n_providers(),
        users: inst.n_users(),
        grid_points: inst.decisions[0].grid().map_or(0, |g| g.len()),
        solver: options.solver.name(),
        binaries,
        milp_ms,
        status,
        milp_objective,
        exact_ms,
        exact_objective: exact.objective,
    })
}

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
    let quantile = |v: &mut Vec<f64>, q: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() - 1) as f64 * q).round() as usize]
    };
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
