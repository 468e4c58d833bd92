//! `prillm`: the command line. Argument parsing, reading files, printing reports — no model
//! logic (that lives in `prillm-compiler` and, later, `prillm-runtime`).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use miette::{GraphicalReportHandler, GraphicalTheme};
use prillm_compiler::diagnostics::{Diagnostic, JsonDiagnostic, Rendered, Sources};
use prillm_compiler::{fmt, summary, FsLoader, Loader};

mod calibrate;
mod lsp;
mod milp;
mod network;
mod plot;
mod report;

#[derive(Parser)]
#[command(
    name = "prillm",
    version,
    about = "A compiler for pricing markets of LLM services"
)]
struct Cli {
    /// How to print diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Colour in diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and type-check market files.
    Check {
        /// The `.market` files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also print a summary of each lowered market.
        #[arg(long)]
        summary: bool,
    },
    /// Format market files in place (canonical, idempotent, keeps comments).
    Fmt {
        /// The `.market` files to format (`-`: standard input to standard output).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Change nothing; exit 1 if a file is not formatted.
        #[arg(long)]
        check: bool,
        /// Print the formatted text instead of writing the file.
        #[arg(long, conflicts_with = "check")]
        stdout: bool,
    },
    /// Check, lower and solve a market.
    Compile {
        /// The `.market` file to compile.
        file: PathBuf,
        /// Print an intermediate form instead of solving.
        #[arg(long, value_enum)]
        emit: Option<Emit>,
        /// Write the emitted form to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Override the file's solve directive.
        #[arg(long, value_enum)]
        backend: Option<Backend>,
        /// Draw the first leader's objective against its first decided price to this SVG file.
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<PathBuf>,
        #[command(flatten)]
        milp: MilpArgs,
        #[command(flatten)]
        network: network::NetworkArgs,
    },
    /// Train the aggregation network on perturbed scenarios of a market (MODEL.md §6).
    Train {
        /// The `.market` file whose first decided price is the target.
        file: PathBuf,
        /// Scenarios to draw (a fifth held out for validation and early stopping).
        #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
        scenarios: u32,
        /// Passes over the training scenarios (at most; early stopping may end sooner).
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        epochs: u32,
        /// Rivals of the abstract market: K − 1 kept, one representative.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
        k: u32,
        /// Seed of the scenarios, the split and the initial weights.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Candidate prices per profit curve.
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(2..=1000))]
        candidates: u32,
        /// Where to write the weights (`W.mpk`, and the hyper-parameters `W.json` beside).
        #[arg(short, long, value_name = "W.mpk")]
        output: PathBuf,
    },
    /// Measure a backend (run a release build: `cargo run --release -- bench exact`).
    Bench {
        #[arg(value_enum)]
        backend: BenchBackend,
        /// Where the example segments are (premium, economy, coding, translation).
        #[arg(long, default_value = "examples")]
        examples: PathBuf,
        /// Skip the largest sizes (exact: 1000×1000 equilibrium, 500 providers; milp: a
        /// 5 s limit and the small markets only).
        #[arg(long)]
        quick: bool,
    },
    /// Fit the users' preferences (values, QoS weights) to the market's observed flows.
    Calibrate {
        /// The `.market` file, with a `table observed from "…"`.
        file: PathBuf,
        /// Users left out of the fit and used to measure it (repeatable, or comma-separated).
        #[arg(long, value_delimiter = ',', value_name = "USER")]
        holdout: Vec<String>,
        /// Also fit the congestion weight (needs flows at more than one price vector).
        #[arg(long)]
        fit_congestion: bool,
        /// Write the calibrated market (the file with the fitted values and weights) here.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Run the language server over stdio (diagnostics, hover, go to definition, formatting).
    Lsp,
    /// Evaluate fixed prices: the users' equilibrium, each provider's load, share and profit.
    Simulate {
        /// The `.market` file to simulate.
        file: PathBuf,
        /// A price to use instead of the file's, in usd/mtok (repeatable).
        #[arg(long = "price", value_name = "NAME=VALUE", value_parser = price_arg)]
        prices: Vec<(String, f64)>,
    },
}

/// `NAME=VALUE`: a provider's price in usd/mtok.
fn price_arg(s: &str) -> Result<(String, f64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE (usd/mtok), got `{s}`"))?;
    let v: f64 = value
        .trim()
        .trim_end_matches("usd/mtok")
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a price in usd/mtok"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("`{value}` is not a non-negative finite price"));
    }
    Ok((name.trim().to_string(), v))
}

/// Options of the MILP backend (`--backend milp`, `--emit lp|mps`).
#[derive(clap::Args, Clone)]
struct MilpArgs {
    /// MILP solver (default: the fastest in this build: highs, cbc, then microlp).
    #[arg(long, value_enum)]
    solver: Option<SolverArg>,
    /// Seconds per MILP solve (default: the file's `solve milp` time limit, else 60).
    #[arg(long, value_name = "SECONDS")]
    time_limit: Option<f64>,
    /// Grid points for a decided price declared without a `step`.
    #[arg(long, default_value_t = 41, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    grid_points: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SolverArg {
    Microlp,
    Cbc,
    Highs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BenchBackend {
    /// The equilibrium's throughput and the exact price against a dense grid.
    Exact,
    /// Each MILP solver in this build against the exact price on the same grid, by size.
    Milp,
    /// Calibration on coding.market beside the no-congestion and values-free ablations.
    Calibrate,
    /// Abstract markets of K rivals (MIN, AVG, load scores) against the exact optimum.
    Network,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Emit {
    /// The numeric Instance, as JSON (the runtime's input).
    Instance,
    /// A readable summary of the Instance.
    Summary,
    /// The first leader's MILP as CPLEX-LP (with `-o`, also a names map `PATH.names.csv`).
    Lp,
    /// The first leader's MILP as free MPS (with `-o`, also a names map `PATH.names.csv`).
    Mps,
    /// The aggregation network's plan: rival features, K, candidate prices, batch shape.
    Plan,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    Exact,
    Milp,
    Network,
}

/// Exit codes: 0 clean, 1 diagnostics, 2 usage or I/O errors.
const DIAGNOSTICS: u8 = 1;
const USAGE: u8 = 2;

/// Output piped into a reader that stops early (`prillm compile … | head`) ends the process
/// quietly, as for any Unix tool, instead of `println!` panicking on the broken pipe.
#[cfg(unix)]
fn default_sigpipe() {
    extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13;
    const SIG_DFL: usize = 0;
    // SAFETY: restores the default disposition of one signal before any thread starts.
    unsafe {
        signal(SIGPIPE, SIG_DFL);
    }
}

#[cfg(not(unix))]
fn default_sigpipe() {}

fn main() -> ExitCode {
    default_sigpipe();
    let cli = Cli::parse();
    let out = Output::new(cli.format, cli.color);
    let code = match cli.command {
        Command::Check { files, summary } => check(&out, &files, summary),
        Command::Fmt {
            files,
            check,
            stdout,
        } => format_files(&out, &files, check, stdout),
        Command::Compile {
            file,
            emit,
            output,
            backend,
            plot,
            milp,
            network,
        } => compile(
            &out,
            &file,
            emit,
            output.as_deref(),
            backend,
            plot.as_deref(),
            (&milp, &network),
        ),
        Command::Train {
            file,
            scenarios,
            epochs,
            k,
            seed,
            candidates,
            output,
        } => network::train(
            &out,
            &file,
            &network::TrainArgs {
                scenarios: scenarios as usize,
                epochs: epochs as usize,
                k: k as usize,
                seed,
                candidates: candidates as usize,
                output: &output,
            },
        ),
        Command::Simulate { file, prices } => simulate(&out, &file, &prices),
        Command::Lsp => lsp::run(),
        Command::Calibrate {
            file,
            holdout,
            fit_congestion,
            output,
        } => calibrate::run(
            &out,
            &file,
            &calibrate::Args {
                holdout: &holdout,
                fit_congestion,
                output: output.as_deref(),
            },
        ),
        Command::Bench {
            backend: BenchBackend::Exact,
            examples,
            quick,
        } => bench_exact(&out, &examples, quick),
        Command::Bench {
            backend: BenchBackend::Milp,
            quick,
            ..
        } => milp::bench(quick),
        Command::Bench {
            backend: BenchBackend::Network,
            quick,
            ..
        } => network::bench(&out, quick),
        Command::Bench {
            backend: BenchBackend::Calibrate,
            examples,
            ..
        } => calibrate::bench(&out, &examples),
    };
    ExitCode::from(code)
}

/// Prints diagnostics as text (miette) or JSON.
struct Output {
    format: Format,
    handler: GraphicalReportHandler,
    json: std::cell::RefCell<Vec<JsonDiagnostic>>,
}

impl Output {
    fn new(format: Format, color: Color) -> Self {
        let colour = match color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        let theme = if colour {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        Output {
            format,
            handler: GraphicalReportHandler::new_themed(theme).with_width(100),
            json: Default::default(),
        }
    }

    fn diagnostics(&self, diags: &[Diagnostic], sources: &Sources) {
        for d in diags {
            match self.format {
                Format::Json => self.json.borrow_mut().push(JsonDiagnostic::new(d, sources)),
                Format::Text => {
                    let mut s = String::new();
                    let r = Rendered::new(d, sources);
                    if self.handler.render_report(&mut s, &r).is_err() {
                        s = format!("error[{}]: {}\n", d.code, d.message);
                    }
                    eprintln!("{s}");
                }
            }
        }
        if self.format == Format::Text && !diags.is_empty() {
            let n = diags.len();
            eprintln!("{n} error{}", if n == 1 { "" } else { "s" });
        }
    }

    /// An error that is not about the market's text (a missing file, a usage problem).
    fn failure(&self, message: &str) {
        eprintln!("error: {message}");
    }

    fn flush_json(&self) {
        if self.format == Format::Json {
            let diags = self.json.borrow();
            let s = serde_json::to_string_pretty(&*diags).unwrap_or_else(|_| "[]".into());
            println!("{s}");
        }
    }
}

/// Reads, checks and lowers a market, and says where its parts were declared.
fn instance_with_origins(
    out: &Output,
    path: &Path,
) -> Result<(prillm_compiler::Instance, prillm_compiler::lower::Origins), u8> {
    let text = read(out, path).ok_or(USAGE)?;
    let checked = prillm_compiler::check_text(path.to_path_buf(), text, &FsLoader);
    let lowered = checked.result.and_then(|market| {
        let origins = prillm_compiler::lower::Origins::of(&market, &checked.sources);
        prillm_compiler::lower::lower(&market).map(|inst| (inst, origins))
    });
    lowered.map_err(|diags| {
        out.diagnostics(&diags, &checked.sources);
        out.flush_json();
        DIAGNOSTICS
    })
}

/// A progress bar of `len` steps drawn with `template` (indicatif's syntax).
fn progress(len: u64, template: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Reads, checks and lowers a market; on failure, prints why and gives the exit code.
fn instance(out: &Output, path: &Path) -> Result<prillm_compiler::Instance, u8> {
    let text = read(out, path).ok_or(USAGE)?;
    let (sources, result) = prillm_compiler::compile_text(path.to_path_buf(), text, &FsLoader);
    result.map_err(|diags| {
        out.diagnostics(&diags, &sources);
        out.flush_json();
        DIAGNOSTICS
    })
}

/// A market with `learned` parameters has no numbers for them yet: it is calibrated first.
fn not_learned(out: &Output, inst: &prillm_compiler::Instance, path: &Path) -> Result<(), u8> {
    let Some(l) = &inst.learned else {
        return Ok(());
    };
    let what = l.describe(inst);
    out.failure(&format!(
        "{} {} `learned`: run `prillm calibrate {} -o calibrated.market` and solve that",
        what.join(", "),
        if what.len() == 1 { "is" } else { "are" },
        path.display()
    ));
    Err(DIAGNOSTICS)
}

fn read(out: &Output, path: &Path) -> Option<String> {
    match FsLoader.read(path) {
        Ok(t) => Some(t),
        Err(e) => {
            out.failure(&format!(
                "cannot read `{}`: {}",
                path.display(),
                prillm_compiler::load::io_reason(&e)
            ));
            None
        }
    }
}

fn check(out: &Output, files: &[PathBuf], show_summary: bool) -> u8 {
    let mut code = 0;
    for path in files {
        let Some(text) = read(out, path) else {
            code = USAGE;
            continue;
        };
        let (sources, result) = prillm_compiler::compile_text(path.clone(), text, &FsLoader);
        match result {
            Ok(inst) => {
                if show_summary && out.format == Format::Text {
                    print!("{}", summary::summary(&inst));
                }
            }
            Err(diags) => {
                out.diagnostics(&diags, &sources);
                code = code.max(DIAGNOSTICS);
            }
        }
    }
    out.flush_json();
    code
}

fn format_files(out: &Output, files: &[PathBuf], check_only: bool, to_stdout: bool) -> u8 {
    let mut code = 0;
    for path in files {
        // `-` is standard input, formatted to standard output (for editors).
        let stdin = path.as_os_str() == "-";
        let text = if stdin {
            let mut t = String::new();
            if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut t) {
                out.failure(&format!("cannot read standard input: {e}"));
                code = USAGE;
                continue;
            }
            t
        } else {
            match read(out, path) {
                Some(t) => t,
                None => {
                    code = USAGE;
                    continue;
                }
            }
        };
        match fmt::format(&text, 0) {
            Ok(formatted) => {
                if to_stdout || (stdin && !check_only) {
                    print!("{formatted}");
                } else if formatted != text {
                    if check_only {
                        eprintln!("{} is not formatted", path.display());
                        code = code.max(DIAGNOSTICS);
                    } else if let Err(e) = std::fs::write(path, formatted) {
                        out.failure(&format!("cannot write `{}`: {e}", path.display()));
                        code = USAGE;
                    }
                }
            }
            Err(diags) => {
                let mut sources = Sources::default();
                sources.add(path.clone(), text);
                out.diagnostics(&diags, &sources);
                code = code.max(DIAGNOSTICS);
            }
        }
    }
    out.flush_json();
    code
}

fn compile(
    out: &Output,
    path: &Path,
    emit: Option<Emit>,
    output: Option<&Path>,
    backend: Option<Backend>,
    plot_to: Option<&Path>,
    (milp_args, network_args): (&MilpArgs, &network::NetworkArgs),
) -> u8 {
    if path.is_dir() {
        // A folder of market snapshots is priced in one batch by the network.
        if emit.is_some() || !matches!(backend, Some(Backend::Network) | None) {
            out.failure(&format!(
                "`{}` is a folder: only `--backend network` prices a folder of markets",
                path.display()
            ));
            return USAGE;
        }
        return network::compile(out, path, network_args);
    }
    if matches!(emit, Some(Emit::Lp | Emit::Mps)) {
        let mps = emit == Some(Emit::Mps);
        return milp::emit(
            out,
            path,
            mps,
            output,
            &milp_options(&milp_args.clone(), None),
        );
    }
    let inst = match instance(out, path) {
        Ok(i) => i,
        Err(code) => return code,
    };
    if emit.is_none() {
        if let Err(code) = not_learned(out, &inst, path) {
            return code;
        }
    }
    let text = match emit {
        Some(Emit::Instance) => match serde_json::to_string_pretty(&inst) {
            Ok(s) => s + "\n",
            Err(e) => {
                out.failure(&format!("cannot serialise the instance: {e}"));
                return DIAGNOSTICS;
            }
        },
        Some(Emit::Summary) => summary::summary(&inst),
        Some(Emit::Plan) => match network::emit_plan(out, &inst, network_args) {
            Ok(text) => text,
            Err(code) => return code,
        },
        Some(Emit::Lp | Emit::Mps) => unreachable!("handled above"),
        None => {
            let method = match backend {
                Some(Backend::Exact) => "exact",
                Some(Backend::Milp) => "milp",
                Some(Backend::Network) => "network",
                None => match inst.solve {
                    Some(prillm_compiler::lower::SolveMethod::Milp { .. }) => "milp",
                    Some(prillm_compiler::lower::SolveMethod::Network { .. }) => "network",
                    _ => "exact",
                },
            };
            if method == "exact" {
                return solve_and_report(out, &inst, plot_to, None);
            }
            if method == "milp" {
                let limit = match inst.solve {
                    Some(prillm_compiler::lower::SolveMethod::Milp { time_limit_s }) => {
                        time_limit_s
                    }
                    _ => None,
                };
                let options = milp_options(milp_args, limit);
                return solve_and_report(out, &inst, plot_to, Some(&options));
            }
            return network::compile(out, path, network_args);
        }
    };
    match output {
        Some(p) => {
            if let Err(e) = std::fs::write(p, text) {
                out.failure(&format!("cannot write `{}`: {e}", p.display()));
                return USAGE;
            }
        }
        None => {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }
    0
}

fn simulate(out: &Output, path: &Path, overrides: &[(String, f64)]) -> u8 {
    let inst = match instance(out, path) {
        Ok(i) => i,
        Err(code) => return code,
    };
    if let Err(code) = not_learned(out, &inst, path) {
        return code;
    }
    let mut prices = inst.price.clone();
    for (name, value) in overrides {
        match inst.providers.iter().position(|p| &p.name == name) {
            Some(j) => prices[j] = *value,
            None => {
                let names = inst.providers.iter().map(|p| p.name.as_str());
                let hint = prillm_compiler::diagnostics::did_you_mean(name, names)
                    .map_or(String::new(), |h| format!("; {h}"));
                out.failure(&format!(
                    "`--price {name}=...`: no provider named `{name}`{hint}"
                ));
                return USAGE;
            }
        }
    }
    let started = std::time::Instant::now();
    let eval = match prillm_runtime::evaluate(&inst, &prices) {
        Ok(e) => e,
        Err(e) => {
            out.failure(&e.to_string());
            return DIAGNOSTICS;
        }
    };
    let wall = started.elapsed();
    if out.format == Format::Json {
        match serde_json::to_string_pretty(&eval) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                out.failure(&format!("cannot serialise the result: {e}"));
                return DIAGNOSTICS;
            }
        }
        return 0;
    }
    print!("{}", report::simulation(&inst, &eval, wall));
    0
}

/// The MILP options from the command line, then the file's solve directive.
fn milp_options(args: &MilpArgs, file_limit: Option<f64>) -> prillm_runtime::milp::MilpOptions {
    use prillm_runtime::milp::{MilpOptions, Solver};
    let defaults = MilpOptions::default();
    MilpOptions {
        solver: match args.solver {
            Some(SolverArg::Microlp) => Solver::Microlp,
            Some(SolverArg::Cbc) => Solver::Cbc,
            Some(SolverArg::Highs) => Solver::Highs,
            None => defaults.solver,
        },
        time_limit_s: args
            .time_limit
            .or(file_limit)
            .unwrap_or(defaults.time_limit_s),
        grid_points: args.grid_points as usize,
        ..defaults
    }
}

/// Prices every leader, exactly or by MILP (`milp` given), and reports the solution with its
/// certificate, the profit curve and the explanation.
fn solve_and_report(
    out: &Output,
    inst: &prillm_compiler::Instance,
    plot_to: Option<&Path>,
    milp: Option<&prillm_runtime::milp::MilpOptions>,
) -> u8 {
    if inst.objectives.is_empty() {
        out.failure("the market has no objective: add `maximize profit(FIRM)` (or use `prillm simulate` to evaluate fixed prices)");
        return DIAGNOSTICS;
    }
    let started = std::time::Instant::now();
    let options = prillm_runtime::Options::default();
    let solved = match milp {
        None => prillm_runtime::nash::solve_leaders(inst, &options).map(|s| (s, Vec::new())),
        Some(m) => milp::solve(out, inst, m),
    };
    let (solution, certificates) = match solved {
        Ok(s) => s,
        Err(e) => {
            out.failure(&e.to_string());
            return DIAGNOSTICS;
        }
    };
    let wall = started.elapsed();
    let infeasible = solution.outcome == prillm_runtime::nash::Outcome::Infeasible;
    let eval = match prillm_runtime::evaluate(inst, &solution.prices) {
        Ok(e) => e,
        Err(e) => {
            out.failure(&e.to_string());
            return DIAGNOSTICS;
        }
    };
    let curve = report::profit_curve(inst, &solution.prices, 64);
    if let (Some(path), Some(d)) = (
        plot_to,
        inst.decisions
            .iter()
            .find(|d| d.firm == inst.objectives[0].firm),
    ) {
        let firm = &inst.firms[d.firm].name;
        let chosen = (solution.prices[d.provider], solution.firms[0].objective);
        let title = format!(
            "{}: objective of {firm} vs the price of {}",
            inst.market, inst.providers[d.provider].name
        );
        let y_desc = match inst.objectives[0].maximize {
            prillm_compiler::lower::ObjectiveFn::Profit => {
                format!("profit (usd per {})", inst.period)
            }
            prillm_compiler::lower::ObjectiveFn::Revenue => {
                format!("revenue (usd per {})", inst.period)
            }
            prillm_compiler::lower::ObjectiveFn::Share => "share of all demand".to_string(),
        };
        if let Err(e) = plot::profit_curve(path, &title, &y_desc, &curve, chosen) {
            out.failure(&e);
            return USAGE;
        }
    }
    // The explanation covers the first leader's first decision.
    let first = inst.objectives[0].firm;
    let explanation = match inst.decisions.iter().position(|d| d.firm == first) {
        Some(d) if !infeasible => {
            match prillm_runtime::explain::explain(
                inst,
                d,
                &solution.prices,
                &solution.equilibrium,
                &options,
            ) {
                Ok(e) => Some(e),
                Err(e) => {
                    out.failure(&format!("cannot explain the price: {e}"));
                    return DIAGNOSTICS;
                }
            }
        }
        _ => None,
    };
    if out.format == Format::Json {
        let doc = serde_json::json!({
            "solution": solution,
            "evaluation": eval,
            "explanation": explanation,
            "profit_curve": curve,
            "wall_ms": wall.as_secs_f64() * 1e3,
        });
        let mut doc = doc;
        if milp.is_some() {
            doc["milp"] = serde_json::json!(certificates);
        }
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else if infeasible {
        eprintln!("error: no price in the ranges satisfies the side constraints (infeasible)");
    } else {
        match milp {
            None => print!("{}", report::exact(inst, &solution, &eval, &curve, wall)),
            Some(_) => print!(
                "{}",
                report::milp(inst, &solution, &eval, &curve, &certificates, wall)
            ),
        }
        if let Some(e) = &explanation {
            print!("{}", report::explanation(e));
        }
    }
    // A time limit gives a feasible point, not a proven optimum: say so and fail.
    let unproven: Vec<&str> = certificates
        .iter()
        .filter(|(_, c)| c.status != prillm_runtime::milp::SolveStatus::Optimal)
        .map(|(f, _)| inst.firms[*f].name.as_str())
        .collect();
    if !unproven.is_empty() {
        eprintln!(
            "error: the MILP time limit was reached for {}: the prices above are the best found, not a proven optimum (see the bound and gap)",
            unproven.join(", ")
        );
    }
    if infeasible || !unproven.is_empty() {
        DIAGNOSTICS
    } else {
        0
    }
}

fn bench_exact(out: &Output, examples: &Path, quick: bool) -> u8 {
    use prillm_runtime::bench;
    let sizes: &[usize] = if quick { &[20, 200] } else { &[20, 200, 1000] };
    println!(
        "users' equilibrium (generated n × n markets; goal ≥ 1e8 flow updates/s at 1000×1000):"
    );
    for &n in sizes {
        match bench::throughput(n, if n <= 20 { 200 } else if n <= 200 { 5 } else { 1 }) {
            Ok(r) => println!(
                "  {n:>5} × {n:<5} {:>6} sweeps  residual {:.1e}  {:>10.2} ms  {:.2e} flow updates/s",
                r.sweeps, r.residual, r.ms, r.updates_per_s
            ),
            Err(e) => {
                out.failure(&e.to_string());
                return DIAGNOSTICS;
            }
        }
    }
    println!("exact price vs a dense grid (goal ≤ 50 ms at 13 providers × 20 users):");
    let mut rows = Vec::new();
    for name in ["premium", "economy", "coding", "translation"] {
        match instance(out, &examples.join(format!("{name}.market"))) {
            Ok(i) => rows.push(bench::leader_vs_grid(name, &i, 20)),
            Err(code) => return code,
        }
    }
    let generated: &[(usize, usize)] = if quick {
        &[(13, 20), (100, 20)]
    } else {
        &[(13, 20), (100, 20), (500, 20)]
    };
    for &(m, n) in generated {
        rows.push(bench::leader_vs_grid(
            &format!("generated {m}×{n}"),
            &bench::generated(m, n),
            5,
        ));
    }
    for row in rows {
        match row {
            Ok(r) => println!(
                "  {:<22} {:>4} × {:<4} exact {:>9.2} ms ({:>4} pieces)  grid of {:>5} {:>10.1} ms  exact/grid {:.3}  objectives {:.6e} / {:.6e}",
                r.name, r.providers, r.users, r.exact_ms, r.pieces, r.grid_points, r.grid_ms, r.exact_ms / r.grid_ms, r.exact_objective, r.grid_objective
            ),
            Err(e) => {
                out.failure(&e.to_string());
                return DIAGNOSTICS;
            }
        }
    }
    0
}
