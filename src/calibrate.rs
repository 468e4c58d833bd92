//! `prillm calibrate`: fit the users' preferences to the market's observed flows
//! (`table observed from "…"`), report the fit, and write the calibrated market back.

use std::path::Path;

use prillm_compiler::check::{Market, Param};
use prillm_compiler::diagnostics::{display_path, Sources};
use prillm_compiler::summary::num;
use prillm_compiler::{fmt, FsLoader, Instance};
use prillm_runtime::calibrate::fit::{fit, Calibration, Options};
use prillm_runtime::calibrate::init::initial_values;
use prillm_runtime::calibrate::{matches_demand, validate, Observed, Period, Theta};

use crate::{progress, read, Output, DIAGNOSTICS, USAGE};

pub struct Args<'a> {
    pub holdout: &'a [String],
    pub fit_congestion: bool,
    pub output: Option<&'a Path>,
}

pub fn run(out: &Output, path: &Path, args: &Args) -> u8 {
    let Some(text) = read(out, path) else {
        return USAGE;
    };
    let checked = prillm_compiler::check_text(path.to_path_buf(), text.clone(), &FsLoader);
    let market = match checked.result {
        Ok(m) => m,
        Err(diags) => {
            out.diagnostics(&diags, &checked.sources);
            out.flush_json();
            return DIAGNOSTICS;
        }
    };
    let inst = match prillm_compiler::lower::lower(&market) {
        Ok(i) => i,
        Err(diags) => {
            out.diagnostics(&diags, &checked.sources);
            return DIAGNOSTICS;
        }
    };
    if inst.observed.is_none() && inst.observed_periods.is_none() {
        out.failure("the market has no observed flows: add `table observed from \"FILE.csv\" unit mtok` (rows: users, columns: providers; or `period,user,provider,tokens` rows)");
        return DIAGNOSTICS;
    }
    if inst.observed.is_some() && inst.observed_periods.is_some() {
        out.failure("the market has two observed-flow tables (one per user × provider, one per period): keep one");
        return DIAGNOSTICS;
    }
    // `--holdout` names users (apps) or, with per-period observations, periods (days).
    let period_names: Vec<String> = inst
        .observed_periods
        .iter()
        .flatten()
        .map(|p| p.name.clone())
        .collect();
    let mut held_out = vec![false; inst.n_users()];
    let mut held_periods: Vec<&str> = Vec::new();
    for name in args.holdout {
        let rows: Vec<usize> = (0..inst.n_users())
            .filter(|&i| &inst.users[i].group == name)
            .collect();
        if !rows.is_empty() {
            rows.into_iter().for_each(|i| held_out[i] = true);
        } else if period_names.contains(name) {
            held_periods.push(name);
        } else {
            let names = inst
                .users
                .iter()
                .map(|u| u.group.as_str())
                .chain(period_names.iter().map(String::as_str));
            let hint = prillm_compiler::diagnostics::did_you_mean(name, names)
                .map_or(String::new(), |h| format!("; {h}"));
            out.failure(&format!(
                "`--holdout {name}`: no user or period named `{name}`{hint}"
            ));
            return USAGE;
        }
    }
    let obs = match (&inst.observed, &inst.observed_periods) {
        (Some(flows), _) => {
            if let Err(e) = matches_demand(&inst, flows) {
                out.failure(&e.to_string());
                return DIAGNOSTICS;
            }
            Observed::single(&inst, flows.clone(), held_out)
        }
        (None, Some(periods)) => Observed {
            periods: periods
                .iter()
                .map(|p| Period {
                    name: p.name.clone(),
                    prices: p.prices.clone(),
                    flows: p.flows.clone(),
                    qos_values: Some(p.qos_values.clone()),
                    held_out: held_periods.contains(&p.name.as_str()),
                })
                .collect(),
            held_out,
        },
        (None, None) => unreachable!("checked above"),
    };
    if let Err(e) = validate(&inst, &obs) {
        out.failure(&e.to_string());
        return DIAGNOSTICS;
    }
    if let Err(e) = calibratable(&market).and_then(|_| shared_weights(&inst)) {
        out.failure(&e);
        return DIAGNOSTICS;
    }
    let declared = Theta::of(&inst);
    let learned = inst.learned.clone();
    let learned_values = learned.as_ref().map(|l| &l.values[..]);
    let (start, slack) = match initial_values(&inst, &obs, &declared, learned_values) {
        Ok(x) => x,
        Err(e) => {
            out.failure(&e.to_string());
            return DIAGNOSTICS;
        }
    };
    let bar = progress(
        Options::default().max_iterations as u64,
        "fitting {bar:30} {pos} steps  {msg}",
    );
    let options = Options {
        fit_congestion: args.fit_congestion || learned.as_ref().is_some_and(|l| l.congestion),
        learned: learned.clone(),
        ..Options::default()
    };
    let fitted = fit(&inst, &obs, &start, &options, |it, loss| {
        bar.set_position(it as u64);
        bar.set_message(format!("squared error {loss:.4e} mtok²"));
    });
    bar.finish_and_clear();
    let fitted = match fitted {
        Ok(f) => f,
        Err(e) => {
            out.failure(&e.to_string());
            return DIAGNOSTICS;
        }
    };
    let start_fit = prillm_runtime::calibrate::fit::fit(
        &inst,
        &obs,
        &start,
        &Options {
            max_iterations: 0,
            ..Options::default()
        },
        |_, _| {},
    )
    .ok();
    if out.format == crate::Format::Json {
        let doc = serde_json::json!({
            "initial_values": start.value,
            "initial_slack": slack,
            "initial_train": start_fit.as_ref().map(|f| &f.train),
            "calibration": fitted,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print!(
            "{}",
            report(
                &inst,
                &obs,
                &fitted,
                start_fit.as_ref(),
                slack,
                options.fit_congestion
            )
        );
    }
    if let Some(target) = args.output {
        let written = match write_back(&market, &checked.sources, &text, &fitted.theta) {
            Ok(t) => t,
            Err(e) => {
                out.failure(&e);
                return DIAGNOSTICS;
            }
        };
        if let Err(e) = std::fs::write(target, written) {
            out.failure(&format!("cannot write `{}`: {e}", target.display()));
            return USAGE;
        }
        eprintln!("wrote the calibrated market to {}", target.display());
    }
    0
}

/// What calibration can fit today: one value per provider and one weight per QoS
/// dimension shared by every user, all written as fixed numbers.
fn calibratable(market: &Market) -> Result<(), String> {
    for u in &market.users {
        if u.segment.is_some() || u.taste.is_some() || !u.values.is_empty() {
            return Err(format!(
                "`{}` has drawn or per-user preferences; calibration fits one value per provider and one weight per QoS dimension shared by every user",
                u.name
            ));
        }
        if u.weights
            .iter()
            .flatten()
            .any(|p| matches!(p, Param::Drawn(_)))
        {
            return Err(format!(
                "`{}` has a drawn weight; calibration needs fixed weights",
                u.name
            ));
        }
    }
    Ok(())
}

/// Every user must start from the same weights: the fit shares them.
fn shared_weights(inst: &Instance) -> Result<(), String> {
    for i in 1..inst.n_users() {
        let same = inst.congestion_weight[i] == inst.congestion_weight[0]
            && (0..inst.qos.len())
                .all(|k| inst.qos_weights.get(i, k) == inst.qos_weights.get(0, k));
        if !same {
            return Err(format!(
                "`{}` overrides a weight; calibration fits one weight per dimension shared by every user",
                inst.users[i].name
            ));
        }
    }
    Ok(())
}

fn report(
    inst: &Instance,
    obs: &Observed,
    c: &Calibration,
    start: Option<&Calibration>,
    slack: f64,
    congestion_fitted: bool,
) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let held: Vec<&str> = (0..inst.n_users())
        .filter(|&i| obs.held_out[i])
        .map(|i| inst.users[i].name.as_str())
        .chain(
            obs.periods
                .iter()
                .filter(|p| p.held_out)
                .map(|p| p.name.as_str()),
        )
        .collect();
    let _ = writeln!(
        s,
        "market {}: preferences calibrated to observed flows ({} period{}, {} users; {} held out{})",
        inst.market,
        obs.periods.len(),
        if obs.periods.len() == 1 { "" } else { "s" },
        inst.n_users(),
        held.len(),
        if held.is_empty() {
            String::new()
        } else {
            format!(": {}", held.join(", "))
        }
    );
    let _ = writeln!(
        s,
        "  fitted: {}",
        match &inst.learned {
            Some(l) => l.describe(inst).join(", "),
            None => "no parameter is declared `learned`, so every value and QoS weight".into(),
        }
    );
    let _ = writeln!(
        s,
        "  initial values: the LP of MODEL.md §7 (total slack {} usd/mtok){}",
        num(slack),
        start.map_or(String::new(), |f| format!(
            "; fit there: R² {:.4}, MAE {} mtok",
            f.train.r2,
            num(f.train.mae)
        ))
    );
    let _ = writeln!(
        s,
        "  fitted in {} Levenberg–Marquardt steps through the equilibrium (KKT residual {:.1e})",
        c.iterations, c.kkt_residual
    );
    let _ = writeln!(
        s,
        "  congestion weight {} usd/mtok ({})",
        num(c.theta.congestion),
        if congestion_fitted {
            "fitted: the periods' prices differ"
        } else {
            "declared; one snapshot fixes preferences only up to this scale"
        }
    );
    for (k, q) in inst.qos.iter().enumerate() {
        let _ = writeln!(
            s,
            "  weight {} = {} usd/mtok per {}",
            q.name,
            num(c.theta.qos[k]),
            q.unit
        );
    }
    for (j, p) in inst.providers.iter().enumerate() {
        let _ = writeln!(
            s,
            "  value {:<28} {} usd/mtok",
            p.name,
            num(c.theta.value[j])
        );
    }
    let _ = writeln!(
        s,
        "  train:    R² {:.4}, MAE {} mtok over {} cells",
        c.train.r2,
        num(c.train.mae),
        c.train.cells
    );
    if let Some(h) = &c.held_out {
        let _ = writeln!(
            s,
            "  held out: R² {:.4}, MAE {} mtok over {} cells (held-out users and periods, not in the fit)",
            h.r2,
            num(h.mae),
            h.cells
        );
    }
    s
}

/// The market's text with the fitted numbers in place of each `learned` (or, when nothing
/// is declared `learned`, of every value and QoS weight), formatted; every replaced
/// quantity must be written in this file.
fn write_back(
    market: &Market,
    sources: &Sources,
    text: &str,
    theta: &Theta,
) -> Result<String, String> {
    let any_learned =
        market.providers.iter().any(|p| p.value_learned) || market.learned_weights.contains(&true);
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let here = 0; // the main file is the first source
    let mut place = |file: usize, start: usize, end: usize, new: String, what: &str| {
        if file != here {
            return Err(format!(
                "{what} is written in `{}`; calibrate the file that declares it",
                display_path(&sources.get(file).path)
            ));
        }
        if !edits.iter().any(|e| e.0 == start) {
            edits.push((start, end, new));
        }
        Ok(())
    };
    for (j, p) in market.providers.iter().enumerate() {
        if any_learned && !p.value_learned {
            continue;
        }
        let at = p.value.at;
        place(
            at.file,
            at.span.start,
            at.span.end,
            format!("{} usd/mtok", num(theta.value[j])),
            &format!("the value of `{}`", p.name),
        )?;
    }
    let statics: Vec<usize> = (0..market.qos.len())
        .filter(|&k| market.qos[k].kind != prillm_compiler::check::QosKind::Congestion)
        .collect();
    if let Some(at) = market.learned_congestion {
        place(
            at.file,
            at.span.start,
            at.span.end,
            format!("{} usd/mtok", num(theta.congestion)),
            "the congestion weight",
        )?;
    }
    for (slot, &k) in statics.iter().enumerate() {
        if any_learned && !market.learned_weights.get(k).copied().unwrap_or(false) {
            continue;
        }
        let unit = &market.qos[k].unit;
        for u in &market.users {
            if let Some(Param::Fixed(w)) = &u.weights[k] {
                place(
                    w.at.file,
                    w.at.span.start,
                    w.at.span.end,
                    format!("{} usd/mtok per {unit}", num(theta.qos[slot])),
                    &format!("the weight of `{}`", market.qos[k].name),
                )?;
            }
        }
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (start, end, new) in edits {
        out.replace_range(start..end, &new);
    }
    fmt::format(&out, 0).map_err(|_| "the calibrated market does not parse (a bug)".to_string())
}

/// `prillm bench calibrate`: the full model beside the paper's two ablations, on the same
/// split of the coding market (codex and omp held out): no congestion term (`w_q = 0`: the
/// LP's values, since flows are then piecewise constant in θ and have no gradient) and
/// objective factors only (every value 0, the QoS weight fitted).
pub fn bench(out: &Output, examples: &Path) -> u8 {
    use prillm_runtime::calibrate::fit_of;
    let path = examples.join("coding.market");
    let inst = match crate::instance(out, &path) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let Some(flows) = inst.observed.clone() else {
        out.failure("coding.market has no observed flows");
        return DIAGNOSTICS;
    };
    let held_out: Vec<bool> = inst
        .users
        .iter()
        .map(|u| ["codex", "omp"].contains(&u.group.as_str()))
        .collect();
    let obs = Observed::single(&inst, flows, held_out);
    let declared = Theta::of(&inst);
    let started = std::time::Instant::now();
    let full = initial_values(&inst, &obs, &declared, None)
        .and_then(|(start, _)| fit(&inst, &obs, &start, &Options::default(), |_, _| {}));
    let full_ms = started.elapsed().as_secs_f64() * 1e3;
    let no_congestion = Theta {
        congestion: 0.0,
        ..declared.clone()
    };
    let started = std::time::Instant::now();
    let ablated_q = initial_values(&inst, &obs, &no_congestion, None).and_then(|(t, _)| {
        let eq = prillm_runtime::solve(
            &t.apply(&inst),
            &inst.price,
            None,
            &prillm_runtime::Options::default(),
        )?;
        let flows = [eq.flows];
        Ok((
            fit_of(&flows, &obs, |t, i| obs.trains(t, i)),
            fit_of(&flows, &obs, |t, i| !obs.trains(t, i)),
        ))
    });
    let q_ms = started.elapsed().as_secs_f64() * 1e3;
    let zero_values = Theta {
        value: vec![0.0; inst.n_providers()],
        ..declared.clone()
    };
    let started = std::time::Instant::now();
    let ablated_b = fit(
        &inst,
        &obs,
        &zero_values,
        &Options {
            fit_values: false,
            ..Options::default()
        },
        |_, _| {},
    );
    let b_ms = started.elapsed().as_secs_f64() * 1e3;
    println!("calibration on coding.market (9 apps × 13 models; codex and omp held out):");
    println!(
        "  {:<42} {:>9} {:>14} {:>11} {:>14} {:>9}",
        "model", "train R²", "train MAE", "held-out R²", "held-out MAE", "ms"
    );
    let row = |name: &str,
               train: &prillm_runtime::calibrate::Fit,
               held: &prillm_runtime::calibrate::Fit,
               ms: f64| {
        println!(
            "  {:<42} {:>9.4} {:>14} {:>11.4} {:>14} {:>9.1}",
            name,
            train.r2,
            format!("{} mtok", num(train.mae)),
            held.r2,
            format!("{} mtok", num(held.mae)),
            ms
        );
    };
    match (full, ablated_q, ablated_b) {
        (Ok(f), Ok((qt, qh)), Ok(b)) => {
            let held = |c: &Calibration| c.held_out.clone().expect("two users are held out");
            row(
                "full (w_q declared, w_ttft and b fitted)",
                &f.train,
                &held(&f),
                full_ms,
            );
            row("no congestion term (w_q = 0)", &qt, &qh, q_ms);
            row("objective factors only (b = 0)", &b.train, &held(&b), b_ms);
            0
        }
        (a, b, c) => {
            for e in [a.err(), b.err(), c.err()].into_iter().flatten() {
                out.failure(&e.to_string());
            }
            DIAGNOSTICS
        }
    }
}
