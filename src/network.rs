//! The aggregation network on the command line: `prillm train`, `prillm compile
//! --backend network` (one market or a folder of them in one batch), `--emit plan`, and
//! `prillm bench network`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::ValueEnum;
use indicatif::ProgressBar;
use prillm_compiler::lower::plan::{plan, DEFAULT_CANDIDATES};
use prillm_compiler::lower::{ObjectiveFn, SolveMethod};
use prillm_compiler::summary::num;
use prillm_compiler::Instance;
use prillm_runtime::network::burn::tensor::backend::Backend;
use prillm_runtime::network::scenario::scenarios_of;
use prillm_runtime::network::train::train as fit;
use prillm_runtime::network::weights::{load, paths, save};
use prillm_runtime::network::{
    price_with_network, AggregationNet, Meta, NetworkDecision, TrainOptions,
};

use crate::{instance, not_learned, progress, Output, DIAGNOSTICS, USAGE};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceArg {
    Cpu,
    Cuda,
}

impl DeviceArg {
    fn name(self) -> &'static str {
        match self {
            DeviceArg::Cpu => "cpu",
            DeviceArg::Cuda => "cuda",
        }
    }
}

/// Options of the network backend.
#[derive(clap::Args, Clone)]
pub struct NetworkArgs {
    /// Trained network (`prillm train … -o W.mpk`; default: the file's `solve network`).
    #[arg(long, value_name = "W.mpk")]
    pub weights: Option<PathBuf>,
    /// Where the network runs.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// Rivals of the abstract market (default: the file's `solve network k`, else the
    /// network's own K).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub k: Option<u32>,
}

pub struct TrainArgs<'a> {
    pub scenarios: usize,
    pub epochs: usize,
    pub k: usize,
    pub seed: u64,
    pub candidates: usize,
    pub output: &'a Path,
}

pub fn train(out: &Output, path: &Path, args: &TrainArgs) -> u8 {
    training(out, path, args).err().unwrap_or(0)
}

/// `r`'s value, or its error reported as a diagnostic and exit code 1.
fn reported<T>(out: &Output, r: Result<T, impl std::fmt::Display>) -> Result<T, u8> {
    r.map_err(|e| {
        out.failure(&e.to_string());
        DIAGNOSTICS
    })
}

fn training(out: &Output, path: &Path, args: &TrainArgs) -> Result<(), u8> {
    let inst = instance(out, path)?;
    not_learned(out, &inst, path)?;
    reported(
        out,
        plan(&inst, args.k, args.candidates, "cpu")
            .map_err(|e| format!("cannot train on `{}`: {e}", path.display())),
    )?;
    let bar = progress(
        args.scenarios as u64,
        "profit curves {bar:30} {pos}/{len} scenarios  {elapsed}",
    );
    let tick = || bar.inc(1);
    let drawn = scenarios_of(
        &inst,
        args.scenarios,
        args.k,
        args.candidates,
        args.seed,
        &tick,
    );
    bar.finish_and_clear();
    let (scenarios, skipped) = reported(out, drawn)?;
    if scenarios.len() < 2 {
        out.failure(&format!(
            "only {} of {} scenarios could be solved: nothing to train on",
            scenarios.len(),
            args.scenarios
        ));
        return Err(DIAGNOSTICS);
    }
    let bar = progress(
        args.epochs as u64,
        "training {bar:30} epoch {pos}/{len}  {msg}",
    );
    let opts = TrainOptions::new(args.k, args.epochs, args.seed);
    let started = Instant::now();
    let trained = fit(&scenarios, &inst.market, &opts, |e| {
        bar.set_message(format!(
            "loss {:.5}  validation {:.5}",
            e.train_loss, e.validation_loss
        ));
        bar.inc(1);
    });
    bar.finish_and_clear();
    let trained = reported(out, trained)?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Err(e) = std::fs::create_dir_all(dir) {
            out.failure(&format!("cannot create `{}`: {e}", dir.display()));
            return Err(USAGE);
        }
    }
    let meta = trained.meta.clone();
    reported(out, save(trained.net, &meta, args.output)).map_err(|_| USAGE)?;
    let (mpk, json) = paths(args.output);
    let t = &meta.training;
    if out.format == crate::Format::Json {
        let doc = serde_json::json!({
            "weights": mpk, "hyper_parameters": json, "meta": meta,
            "epochs": trained.epochs, "skipped_scenarios": skipped, "seconds": seconds,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return Ok(());
    }
    println!(
        "trained K = {} on {} scenarios of `{}` ({} for validation{}) in {seconds:.1} s",
        meta.k,
        t.scenarios_train + t.scenarios_validation,
        meta.training.market,
        t.scenarios_validation,
        if skipped > 0 {
            format!("; {skipped} left out: no equilibrium")
        } else {
            String::new()
        }
    );
    println!(
        "  validation loss (5): {:.5} untrained → {:.5} at epoch {} of {}",
        t.initial_validation_loss, t.best_validation_loss, t.best_epoch, t.epochs_run
    );
    println!(
        "  weights: {}\n  hyper-parameters: {}",
        mpk.display(),
        json.display()
    );
    Ok(())
}

/// `compile --emit plan`: the network plan as JSON.
pub fn emit_plan(out: &Output, inst: &Instance, args: &NetworkArgs) -> Result<String, u8> {
    let k = args.k.map(|k| k as usize).or(match &inst.solve {
        Some(SolveMethod::Network { k, .. }) => Some(*k as usize),
        _ => None,
    });
    plan(inst, k.unwrap_or(2), DEFAULT_CANDIDATES, args.device.name())
        .map(|p| serde_json::to_string_pretty(&p).unwrap_or_default() + "\n")
        .map_err(|e| {
            out.failure(&e.to_string());
            DIAGNOSTICS
        })
}

/// `compile --backend network`: a market file, or every `.market` file of a folder priced
/// in one batch.
pub fn compile(out: &Output, path: &Path, args: &NetworkArgs) -> u8 {
    let files = match market_files(path) {
        Ok(f) => f,
        Err(e) => {
            out.failure(&e);
            return USAGE;
        }
    };
    let mut markets = Vec::with_capacity(files.len());
    for f in &files {
        match instance(out, f) {
            Ok(i) => {
                if let Err(code) = not_learned(out, &i, f) {
                    return code;
                }
                markets.push(i);
            }
            Err(code) => return code,
        }
    }
    let declared = markets.iter().find_map(|m| match &m.solve {
        Some(SolveMethod::Network { k, weights }) => Some((*k as usize, weights.clone())),
        _ => None,
    });
    let Some(weights) = args
        .weights
        .clone()
        .or_else(|| declared.as_ref().map(|d| PathBuf::from(&d.1)))
    else {
        out.failure("the network backend needs weights: `--weights W.mpk` (from `prillm train`) or `solve network k = 2 weights = \"W.mpk\"` in the market");
        return USAGE;
    };
    let k = args
        .k
        .map(|k| k as usize)
        .or(declared.as_ref().map(|d| d.0));
    match args.device {
        DeviceArg::Cpu => run::<prillm_runtime::network::Cpu>(
            out,
            &files,
            &markets,
            &weights,
            k,
            "cpu",
            &Default::default(),
        ),
        DeviceArg::Cuda => cuda(out, &files, &markets, &weights, k),
    }
}

#[cfg(feature = "cuda")]
fn cuda(
    out: &Output,
    files: &[PathBuf],
    markets: &[Instance],
    weights: &Path,
    k: Option<usize>,
) -> u8 {
    use prillm_runtime::network::burn::backend::cuda::{Cuda, CudaDevice};
    // Without a driver or a GPU, cubecl panics when the device is first used; probe it,
    // with the panic message silenced (the diagnostic below says what happened).
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let probe = std::panic::catch_unwind(|| {
        let device = CudaDevice::default();
        let t = prillm_runtime::network::burn::tensor::Tensor::<Cuda, 1>::from_floats(
            [1.0f32],
            &device,
        );
        t.into_data();
    });
    std::panic::set_hook(hook);
    if probe.is_err() {
        out.failure("device `cuda` is not available: no usable NVIDIA GPU or driver on this machine; use `--device cpu`");
        return DIAGNOSTICS;
    }
    run::<Cuda>(
        out,
        files,
        markets,
        weights,
        k,
        "cuda",
        &CudaDevice::default(),
    )
}

#[cfg(not(feature = "cuda"))]
fn cuda(out: &Output, _: &[PathBuf], _: &[Instance], _: &Path, _: Option<usize>) -> u8 {
    out.failure("device `cuda` is not available: this prillm was built without CUDA (rebuild with `--features cuda`); use `--device cpu`");
    DIAGNOSTICS
}

fn run<B: Backend>(
    out: &Output,
    files: &[PathBuf],
    markets: &[Instance],
    weights: &Path,
    k: Option<usize>,
    device_name: &str,
    device: &B::Device,
) -> u8 {
    let (net, meta): (AggregationNet<B>, Meta) = match reported(out, load::<B>(weights, k, device))
    {
        Ok(x) => x,
        Err(code) => return code,
    };
    let started = Instant::now();
    let decisions = match reported(out, price_with_network(&net, &meta, markets, device)) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let seconds = started.elapsed().as_secs_f64();
    let throughput = markets.len() as f64 / seconds;
    if out.format == crate::Format::Json {
        let doc = serde_json::json!({
            "backend": "network", "device": device_name, "k": meta.k,
            "weights": paths(weights).0,
            "markets": files.iter().zip(&decisions).map(|(f, d)| serde_json::json!({
                "file": f, "decision": d,
            })).collect::<Vec<_>>(),
            "seconds": seconds, "markets_per_second": throughput,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return 0;
    }
    for ((f, inst), d) in files.iter().zip(markets).zip(&decisions) {
        report(f, inst, d, meta.k);
    }
    println!(
        "priced {} market{} on {device_name} in {:.1} ms ({} markets/s), network K = {} from {}",
        markets.len(),
        if markets.len() == 1 { "" } else { "s" },
        seconds * 1e3,
        num(throughput),
        meta.k,
        paths(weights).0.display()
    );
    0
}

/// One market's decision: the price, what it earns, and which rivals the network kept.
fn report(file: &Path, inst: &Instance, d: &NetworkDecision, k: usize) {
    let period = &inst.period;
    println!(
        "{}: {} at {} usd/mtok",
        file.display(),
        d.target,
        num(d.price)
    );
    let firm = inst.decisions[0].firm;
    let objective = match inst.objectives.iter().find(|o| o.firm == firm) {
        Some(o) if o.maximize == ObjectiveFn::Share => format!("share {:.2}%", 100.0 * d.objective),
        Some(o) if o.maximize == ObjectiveFn::Revenue => {
            format!("revenue {} usd per {period}", num(d.objective))
        }
        _ => format!("profit {} usd per {period}", num(d.objective)),
    };
    println!(
        "  firm {} in the full market (re-simulated): {objective}; KKT residual {:.1e}",
        inst.firms[firm].name, d.residual
    );
    println!(
        "  abstract market (K = {k}): the target's profit there {} usd per {period}",
        num(d.abstract_profit)
    );
    for r in &d.kept {
        println!(
            "    kept    {:<28} score_avg {:>8}  score_sum {:>8}",
            r.name,
            num(r.score_avg),
            num(r.score_sum)
        );
    }
    let rep = d.abstract_market.last().expect("a representative");
    println!(
        "    merged  {} rivals into {} (price {} usd/mtok, capacity {}):",
        d.merged.len(),
        rep.name,
        num(rep.price),
        num(rep.capacity)
    );
    let mut merged = d.merged.clone();
    merged.sort_by(|a, b| b.score_avg.total_cmp(&a.score_avg));
    for r in merged.iter().take(8) {
        println!(
            "            {:<28} score_avg {:>8}  score_sum {:>8}",
            r.name,
            num(r.score_avg),
            num(r.score_sum)
        );
    }
    if merged.len() > 8 {
        println!(
            "            … and {} more (`--format json` lists all)",
            merged.len() - 8
        );
    }
}

/// The file itself, or a folder's `.market` files in name order.
fn market_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries =
        std::fs::read_dir(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "market"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("`{}` holds no `.market` file", path.display()));
    }
    Ok(files)
}

/// `prillm bench network`: one network per K trained on generated markets, then the network
/// beside MIN, AVG and load scores on held-out markets of each size, and the batched
/// throughput.
pub fn bench(out: &Output, quick: bool) -> u8 {
    reported(out, bench_network(quick)).err().unwrap_or(0)
}

fn bench_network(quick: bool) -> Result<(), prillm_runtime::RuntimeError> {
    use prillm_runtime::bench::{
        abstraction_vs_exact, decision_steps, fixed_scores, network_throughput, training_markets,
        Family, FIXED_BETAS, FIXED_FEATURES,
    };
    use prillm_runtime::network::scenario::curves_of;
    let (sizes, markets, count, epochs): (&[usize], usize, usize, usize) = if quick {
        (&[8, 13], 3, 60, 3)
    } else {
        (&[8, 13, 50, 200, 500], 30, 2000, 40)
    };
    println!(
        "training: {count} generated markets (4 to 600 rivals, 20 users, half of each family below; seeds apart from the held-out ones), 16 candidate prices, at most {epochs} epochs per K"
    );
    let started = Instant::now();
    let bar = ProgressBar::new(count as u64);
    let tick = || bar.inc(1);
    let curves = curves_of(training_markets(count), 16, &tick);
    bar.finish_and_clear();
    let (scenarios, skipped) = curves?;
    println!(
        "  profit curves of {} markets in {:.1} s ({skipped} left out: no equilibrium)",
        scenarios.len(),
        started.elapsed().as_secs_f64()
    );
    let ks = [1, 2, 3, 4];
    let mut nets = Vec::new();
    for k in ks {
        let started = Instant::now();
        let bar = ProgressBar::new(epochs as u64);
        let trained = fit(
            &scenarios,
            "generated",
            &TrainOptions::new(k, epochs, 7),
            |_| bar.inc(1),
        );
        bar.finish_and_clear();
        let t = trained?;
        let s = &t.meta.training;
        println!(
            "  K = {k}: validation loss {:.5} → {:.5} (epoch {} of {}) in {:.1} s",
            s.initial_validation_loss,
            s.best_validation_loss,
            s.best_epoch,
            s.epochs_run,
            started.elapsed().as_secs_f64()
        );
        nets.push(t);
    }
    let refs: Vec<prillm_runtime::bench::Net> = nets.iter().map(|t| (&t.net, &t.meta)).collect();
    for family in Family::ALL {
        println!(
            "{} markets: abstract markets vs the exact optimum ({markets} held-out generated markets per size, 20 users; time: choosing the price, one market at a time):",
            family.name()
        );
        println!(
            "  {:>7} {:>2} {:<5} {:>14} {:>14} {:>16}",
            "rivals", "K", "", "median profit", "5th pct", "time / exact"
        );
        for &rivals in sizes {
            let rows = abstraction_vs_exact(family, rivals, &ks, markets, &refs)?;
            let skipped = rows.first().map_or(0, |r| r.skipped);
            for r in rows {
                println!(
                    "  {:>7} {:>2} {:<5} {:>13.2}% {:>13.2}% {:>16.4}",
                    r.rivals, r.k, r.method, r.median_pct, r.p5_pct, r.time_ratio
                );
            }
            if skipped > 0 {
                println!("          ({skipped} of {markets} markets left out: an equilibrium did not converge to 1e-12)");
            }
        }
    }
    let largest = *sizes.last().expect("sizes");
    println!(
        "where the time of one decision goes (K = 2, {largest} rivals, median ms per market):"
    );
    for family in Family::ALL {
        let t = decision_steps(family, largest, markets, refs[1])?;
        let total = t.features_ms + t.network_ms + t.abstract_ms;
        println!(
            "  {:<11}: features {:.3}, network pass {:.3}, abstract market {:.3}: {:.3} ms; exact {:.1} ms",
            family.name(),
            t.features_ms,
            t.network_ms,
            t.abstract_ms,
            total,
            t.exact_ms
        );
    }
    // The abstraction without a network: how far fixed scores get on the largest markets.
    let studied: Vec<usize> = match sizes
        .iter()
        .copied()
        .filter(|&r| r >= 200)
        .collect::<Vec<_>>()
    {
        v if v.is_empty() => vec![largest],
        v => v,
    };
    println!(
        "fixed scores, no network (K = 2; score_avg = e^(−β·x), x in {}, β in {:?}):",
        FIXED_FEATURES.join(", "),
        FIXED_BETAS
    );
    for family in Family::ALL {
        for &rivals in &studied {
            let rows = fixed_scores(family, rivals, markets, &[3.0, 10.0, 100.0])?;
            let plain: Vec<_> = rows.iter().filter(|r| r.capacity_scale == 1.0).collect();
            let Some(best) = plain
                .iter()
                .max_by(|a, b| a.median_pct.total_cmp(&b.median_pct))
            else {
                continue;
            };
            let over = |f: fn(usize, usize) -> usize| {
                plain.iter().map(|r| r.overpriced).reduce(f).unwrap_or(0)
            };
            println!(
                "  {:<11} {rivals:>4} rivals: best e^(−{}·{}) {:.2}% (5th pct {:.2}%) of {} markets; overpriced in {} to {} of them over the {} choices",
                family.name(),
                best.beta,
                best.feature,
                best.median_pct,
                best.p5_pct,
                best.markets,
                over(usize::min),
                over(usize::max),
                plain.len()
            );
            for r in rows.iter().filter(|r| r.capacity_scale != 1.0) {
                println!(
                    "      with its capacity × {}: {:.2}% (5th pct {:.2}%)",
                    r.capacity_scale, r.median_pct, r.p5_pct
                );
            }
        }
    }
    println!("batched throughput on the CPU (K = 2; all held-out independent markets of a size in one pass):");
    for &rivals in sizes {
        let (net, exact) = network_throughput(Family::Independent, rivals, markets, refs[1])?;
        println!(
            "  {rivals:>7} rivals: network {} markets/s, exact {} markets/s",
            num(net),
            num(exact)
        );
    }
    Ok(())
}
