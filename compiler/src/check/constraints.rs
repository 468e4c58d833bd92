//! Objectives, side constraints and the solve directive.

use super::units::{self, Unit};
use super::*;
use crate::syntax::ast::{Call, Factor, LinExpr, Relation, SolveOption, Value};

const CONSTRAINT_FUNCTIONS: &[&str] = &["price", "load", "share"];

impl Checker<'_> {
    pub(crate) fn objective(&mut self, file: FileId, call: &Call) {
        let kind = match call.func.text.as_str() {
            "profit" => ObjectiveKind::Profit,
            "revenue" => ObjectiveKind::Revenue,
            "share" => ObjectiveKind::Share,
            other => {
                let help =
                    did_you_mean(other, ["profit", "revenue", "share"]).unwrap_or_else(|| {
                        "a firm maximizes `profit(FIRM)`, `revenue(FIRM)` or `share(FIRM)`".into()
                    });
                self.err(
                    Diagnostic::new(
                        Code::UnknownFunction,
                        file,
                        call.func.span,
                        format!("cannot maximize `{other}`"),
                    )
                    .label("not an objective")
                    .help(help),
                );
                return;
            }
        };
        let Some(f) = self.firm_ref(file, &call.arg) else {
            return;
        };
        let at = Self::loc(file, call.span);
        if let Some(prev) = self.market.objectives.iter().find(|o| o.firm == f) {
            let prev = prev.at;
            self.err(
                Diagnostic::new(
                    Code::DuplicateObjective,
                    file,
                    call.span,
                    format!("firm `{}` already has an objective", call.arg.text),
                )
                .label("second objective")
                .related(prev.file, prev.span, "the first")
                .help(
                    "each firm maximizes one thing; several `maximize` lines are for several firms",
                ),
            );
            return;
        }
        if self
            .market
            .firms
            .get(f)
            .is_some_and(|firm| firm.decisions.is_empty())
        {
            let firm_at = self.market.firms[f].at;
            self.err(
                Diagnostic::new(
                    Code::FirmWithoutDecision,
                    file,
                    call.arg.span,
                    format!("firm `{}` decides no price", call.arg.text),
                )
                .label("nothing to optimise")
                .related(firm_at.file, firm_at.span, "declared here")
                .help("give the firm a decision: `price in LOW .. HIGH usd/mtok` in its block"),
            );
            return;
        }
        self.market.objectives.push(Objective { firm: f, kind, at });
    }

    pub(crate) fn constraint(
        &mut self,
        file: FileId,
        span: Span,
        label: Option<&Name>,
        lhs: &LinExpr,
        relation: Relation,
        rhs: &LinExpr,
    ) {
        let mut terms: Vec<Term> = Vec::new();
        let (Some(l), Some(r)) = (self.side(file, lhs, 1.0), self.side(file, rhs, -1.0)) else {
            return;
        };
        terms.extend(l);
        terms.extend(r);
        // Every term must be of one measure: prices, loads or shares.
        let first = &terms[0];
        let Some((measure, canon)) = measure_of(first.dim) else {
            self.err(
                Diagnostic::new(Code::UnitMismatch, file, first.span, format!("a side constraint compares prices, loads or shares; this term is {}", units::describe(first.dim)))
                    .label("not a price, load or share")
                    .help("write e.g. `share(firm) >= 10%`, `price(a) <= 2 * price(b)` or `load(a) >= 100 mtok`"),
            );
            return;
        };
        let mut coefs: Vec<(f64, Atom)> = Vec::new();
        let mut constant = 0.0;
        for t in &terms {
            if t.dim != first.dim {
                self.err(
                    Diagnostic::new(
                        Code::UnitMismatch,
                        file,
                        t.span,
                        format!(
                            "this term is {}, but the constraint compares {}",
                            units::describe(t.dim),
                            units::describe(first.dim)
                        ),
                    )
                    .label("other dimension")
                    .related(file, first.span, "this term sets the dimension")
                    .help(
                        "every term of a constraint has one dimension; give constants their units",
                    ),
                );
                return;
            }
            let c = t.coef / canon;
            match t.atom {
                Some(Atom::Price(p)) if !self.market.decided(p) => {
                    // A rival's price is a constant.
                    constant += c * self.market.providers[p].price.map_or(0.0, |n| n.value);
                }
                Some(a) => match coefs.iter_mut().find(|(_, b)| *b == a) {
                    Some(e) => e.0 += c,
                    None => coefs.push((c, a)),
                },
                None => constant += c,
            }
        }
        if !constant.is_finite() || coefs.iter().any(|(c, _)| !c.is_finite()) {
            self.err(
                Diagnostic::new(
                    Code::InvalidNumber,
                    file,
                    span,
                    "a coefficient of this constraint is not a finite number",
                )
                .label("overflows")
                .help("use smaller figures"),
            );
            return;
        }
        coefs.retain(|(c, _)| *c != 0.0);
        if coefs.is_empty() {
            self.err(
                Diagnostic::new(Code::ConstantConstraint, file, span, "this constraint does not depend on any decision")
                    .label("constant")
                    .help("a side constraint must involve a decided price, a load or a share; prices of providers no firm decides are constants"),
            );
            return;
        }
        let sense = match relation {
            Relation::Le => Sense::Le,
            Relation::Ge => Sense::Ge,
            Relation::Eq => Sense::Eq,
        };
        self.market.constraints.push(Constraint {
            label: label.map(|l| l.text.clone()),
            terms: coefs,
            sense,
            rhs: -constant,
            measure,
            at: Self::loc(file, span),
        });
    }

    /// The terms of one side, multiplied by `sign`, with coefficients in base units.
    fn side(&mut self, file: FileId, e: &LinExpr, sign: f64) -> Option<Vec<Term>> {
        let mut out = Vec::new();
        let mut ok = true;
        for t in &e.terms {
            let mut coef = if t.negative { -sign } else { sign };
            let mut dim: units::Dim = [0, 0, 0];
            let mut atom: Option<(Atom, Span)> = None;
            for f in &t.factors {
                match f {
                    Factor::Quantity(q) => {
                        let unit = match &q.unit {
                            Some(u) => match self.lift(units::resolve_unit(u, file)) {
                                Some(w) => w.unit,
                                None => {
                                    ok = false;
                                    continue;
                                }
                            },
                            None => Unit::ONE,
                        };
                        coef *= q.number.value * unit.scale;
                        dim = Unit::new(dim, 1.0).times(unit).dim;
                    }
                    Factor::Call(c) => {
                        let Some((a, unit)) = self.atom(file, c) else {
                            ok = false;
                            continue;
                        };
                        if let Some((_, first)) = atom {
                            self.err(
                                Diagnostic::new(Code::NonlinearConstraint, file, t.span, "this term multiplies two decision quantities")
                                    .label("not linear")
                                    .related(file, first, "first factor")
                                    .help("side constraints are linear: multiply a price, load or share only by constants (ratios: `price(a) <= 2 * price(b)`)"),
                            );
                            ok = false;
                            continue;
                        }
                        atom = Some((a, c.span));
                        coef *= unit.scale;
                        dim = Unit::new(dim, 1.0).times(unit).dim;
                    }
                }
            }
            out.push(Term {
                coef,
                dim,
                atom: atom.map(|a| a.0),
                span: t.span,
            });
        }
        ok.then_some(out)
    }

    fn atom(&mut self, file: FileId, c: &Call) -> Option<(Atom, Unit)> {
        match c.func.text.as_str() {
            "price" => {
                let p = self.provider_ref(file, &c.arg)?;
                Some((Atom::Price(p), Unit::PRICE))
            }
            f @ ("load" | "share") => {
                let unit = if f == "load" { Unit::VOLUME } else { Unit::ONE };
                // A firm's name wins over a provider's of the same name.
                if let Some(firm) = self.firm_names.get(&c.arg.text) {
                    let a = if f == "load" {
                        Atom::FirmLoad(firm)
                    } else {
                        Atom::FirmShare(firm)
                    };
                    return Some((a, unit));
                }
                if let Some(p) = self.provider_names.get(&c.arg.text) {
                    let a = if f == "load" {
                        Atom::Load(p)
                    } else {
                        Atom::Share(p)
                    };
                    return Some((a, unit));
                }
                let mut names: Vec<&str> =
                    self.firm_names.names.iter().map(String::as_str).collect();
                names.extend(self.provider_names.names.iter().map(String::as_str));
                let help = did_you_mean(&c.arg.text, names)
                    .unwrap_or_else(|| format!("`{f}(...)` takes a firm or a provider"));
                self.err(
                    Diagnostic::new(
                        Code::UnknownProvider,
                        file,
                        c.arg.span,
                        format!("no firm or provider named `{}`", c.arg.text),
                    )
                    .label("not a firm or provider")
                    .help(help),
                );
                None
            }
            other => {
                let help = did_you_mean(other, CONSTRAINT_FUNCTIONS.iter().copied())
                    .unwrap_or_else(|| "constraints use `price(PROVIDER)`, `load(FIRM or PROVIDER)` and `share(FIRM or PROVIDER)`".into());
                self.err(
                    Diagnostic::new(
                        Code::UnknownFunction,
                        file,
                        c.func.span,
                        format!("unknown function `{other}`"),
                    )
                    .label("not a constraint function")
                    .help(help),
                );
                None
            }
        }
    }

    pub(crate) fn solve(
        &mut self,
        file: FileId,
        span: Span,
        method: &Name,
        options: &[SolveOption],
    ) {
        let at = Self::loc(file, span);
        if let Some((_, prev)) = &self.market.solve {
            let prev = *prev;
            self.err(
                Diagnostic::new(
                    Code::DuplicateSolve,
                    file,
                    span,
                    "a second `solve` directive",
                )
                .label("second directive")
                .related(prev.file, prev.span, "the first")
                .help("keep one; `prillm compile --backend` overrides it from the command line"),
            );
            return;
        }
        let allowed: &[&str] = match method.text.as_str() {
            "exact" => &[],
            "milp" => &["time_limit"],
            "network" => &["k", "weights"],
            other => {
                let help = did_you_mean(other, ["exact", "milp", "network"])
                    .unwrap_or_else(|| "the methods are `exact`, `milp` and `network`".into());
                self.err(
                    Diagnostic::new(
                        Code::UnknownSolver,
                        file,
                        method.span,
                        format!("unknown solve method `{other}`"),
                    )
                    .label("not a method")
                    .help(help),
                );
                return;
            }
        };
        let mut time_limit = None;
        let mut k = None;
        let mut weights = None;
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for o in options {
            if let Some(first) = seen.insert(o.key.text.as_str(), o.span) {
                self.err(
                    Diagnostic::new(
                        Code::DuplicateField,
                        file,
                        o.span,
                        format!("`{}` is set twice", o.key.text),
                    )
                    .label("set again")
                    .related(file, first, "first set here")
                    .help("remove one of the two"),
                );
                continue;
            }
            match (o.key.text.as_str(), &o.value) {
                (key, _) if !allowed.contains(&key) => {
                    let help = did_you_mean(key, allowed.iter().copied()).unwrap_or_else(|| {
                        if allowed.is_empty() {
                            format!("`solve {}` takes no options", method.text)
                        } else {
                            format!(
                                "`solve {}` takes {}",
                                method.text,
                                allowed
                                    .iter()
                                    .map(|a| format!("`{a}`"))
                                    .collect::<Vec<_>>()
                                    .join(" and ")
                            )
                        }
                    });
                    self.err(
                        Diagnostic::new(
                            Code::UnknownField,
                            file,
                            o.key.span,
                            format!("`solve {}` has no option `{key}`", method.text),
                        )
                        .label("unknown option")
                        .help(help),
                    );
                }
                ("time_limit", Value::Quantity(q)) => {
                    time_limit = self.lift(units::convert(
                        q,
                        &units::Expect::new(Unit::SECONDS, "s"),
                        file,
                        "the time limit",
                    ));
                    if time_limit.is_some_and(|t| t.is_nan() || t <= 0.0) {
                        self.err(
                            Diagnostic::new(
                                Code::InvalidCount,
                                file,
                                q.span,
                                "the time limit must be positive",
                            )
                            .label("not positive")
                            .help("write e.g. `time_limit = 60 s`"),
                        );
                    }
                }
                ("k", Value::Quantity(q))
                    if q.unit.is_none()
                        && q.number.value.fract() == 0.0
                        && (1.0..=64.0).contains(&q.number.value) =>
                {
                    k = Some(q.number.value as u32);
                }
                ("weights", Value::Str(s)) => {
                    let path = crate::load::relative_to(&self.sources.get(file).path, &s.value);
                    if !self.loader.exists(&path) {
                        self.err(
                            Diagnostic::new(Code::WeightsNotFound, file, s.span, format!("no weights file `{}`", crate::diagnostics::display_path(&path)))
                                .label("file not found")
                                .help("train one with `prillm train FILE -o WEIGHTS`; the path is relative to the market file"),
                        );
                    }
                    weights = Some(path);
                }
                (key, v) => {
                    let (code, help) = match key {
                        "k" => (
                            Code::InvalidCount,
                            "`k` is the number of abstract rivals, a whole number from 1 to 64",
                        ),
                        "weights" => (Code::FieldForm, "write `weights = \"coding.mpk\"`"),
                        _ => (Code::FieldForm, "write `time_limit = 60 s`"),
                    };
                    self.err(
                        Diagnostic::new(code, file, v.span(), format!("invalid value for `{key}`"))
                            .label("invalid")
                            .help(help),
                    );
                }
            }
        }
        let solve = match method.text.as_str() {
            "exact" => Solve::Exact,
            "milp" => Solve::Milp { time_limit },
            _ => {
                let Some(weights) = weights else {
                    if !seen.contains_key("weights") {
                        self.err(
                            Diagnostic::new(
                                Code::MissingField,
                                file,
                                method.span,
                                "`solve network` needs a weights file",
                            )
                            .label("no `weights = \"...\"`")
                            .help("write `solve network k = 2 weights = \"coding.mpk\"`"),
                        );
                    }
                    return;
                };
                Solve::Network {
                    k: k.unwrap_or(2),
                    weights,
                }
            }
        };
        self.market.solve = Some((solve, at));
    }
}

struct Term {
    /// In base units (usd, tok, s).
    coef: f64,
    dim: units::Dim,
    atom: Option<Atom>,
    span: Span,
}

/// A constraint's measure and the size of its canonical unit in base units.
fn measure_of(dim: units::Dim) -> Option<(&'static str, f64)> {
    if dim == Unit::PRICE.dim {
        Some(("price", Unit::PRICE.scale))
    } else if dim == Unit::VOLUME.dim {
        Some(("volume", Unit::VOLUME.scale))
    } else if dim == Unit::ONE.dim {
        Some(("fraction", 1.0))
    } else {
        None
    }
}
