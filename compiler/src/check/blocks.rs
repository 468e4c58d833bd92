//! Declarations with blocks: QoS dimensions, default weights, providers, firms, users and
//! segments.

use super::units::{self, Expect, Unit};
use super::*;
use crate::syntax::ast::{Block, Distribution, QosKindAst, Quantity, Stmt, StmtBody};

const PROVIDER_FIELDS: &[&str] = &[
    "price",
    "capacity",
    "throughput",
    "observed",
    "value",
    "cost",
];
const DISTRIBUTIONS: &[&str] = &["normal", "lognormal", "uniform", "gumbel", "discrete"];

impl Checker<'_> {
    pub(crate) fn qos(
        &mut self,
        file: FileId,
        name: &Name,
        kind: &QosKindAst,
        default: Option<&Quantity>,
    ) {
        if !self.qos_names.is_first(&name.text, self.market.qos.len()) {
            return; // a duplicate, already reported
        }
        let at = Self::loc(file, name.span);
        if PROVIDER_FIELDS.contains(&name.text.as_str())
            || ["demand", "draws", "seed", "taste"].contains(&name.text.as_str())
        {
            self.err(
                Diagnostic::new(
                    Code::DuplicateName,
                    file,
                    name.span,
                    format!(
                        "`{}` is a built-in field and cannot name a QoS dimension",
                        name.text
                    ),
                )
                .label("reserved field name")
                .help("choose another name, e.g. `ttft` or `latency`"),
            );
        }
        let (kind, unit, written) = match kind {
            QosKindAst::Congestion(span) => {
                if let Some(prev) = self
                    .market
                    .qos
                    .iter()
                    .find(|q| q.kind == QosKind::Congestion)
                {
                    let prev = prev.at;
                    self.err(
                        Diagnostic::new(Code::DuplicateCongestion, file, *span, "a second congestion dimension")
                            .label("second congestion dimension")
                            .related(prev.file, prev.span, "the first one")
                            .help("congestion is load over capacity, the same for every dimension: declare it once and weight it once"),
                    );
                }
                (QosKind::Congestion, String::new(), None)
            }
            QosKindAst::Static { unit, pairwise } => {
                let w = self.lift(units::resolve_unit(unit, file));
                let kind = if pairwise.is_some() {
                    QosKind::Pairwise
                } else {
                    QosKind::PerProvider
                };
                (kind, units::unit_text(unit), w)
            }
        };
        let mut default_num = None;
        if let Some(d) = default {
            if kind == QosKind::Congestion {
                self.err(
                    Diagnostic::new(
                        Code::FieldForm,
                        file,
                        d.span,
                        "a congestion dimension has no default value",
                    )
                    .label("not allowed here")
                    .help("congestion is computed from load and capacity; remove the default"),
                );
            } else if let Some(w) = &written {
                let expect = Expect::new(w.unit, unit.clone());
                if let Some(v) = self.lift(units::convert(d, &expect, file, "the default")) {
                    default_num = Some(Num {
                        value: v,
                        at: Self::loc(file, d.span),
                    });
                }
            }
        }
        self.qos_units
            .push(written.as_ref().map_or(Unit::ONE, |w| w.unit));
        self.market.qos.push(Qos {
            name: name.text.clone(),
            kind,
            unit,
            default: default_num,
            at,
        });
    }

    /// What a weight of QoS `k` is measured in: usd/mtok per unit of the dimension.
    pub(crate) fn weight_expect(&self, k: usize) -> Expect {
        let q = &self.market.qos[k];
        if q.kind == QosKind::Congestion {
            return Expect::price();
        }
        Expect::new(
            Unit::PRICE.per(self.qos_units[k]),
            format!("usd/mtok per {}", q.unit),
        )
    }

    pub(crate) fn qos_expect(&self, k: usize) -> Expect {
        let q = &self.market.qos[k];
        Expect::new(self.qos_units[k], q.unit.clone())
    }

    pub(crate) fn weights_block(&mut self, file: FileId, block: &Block) {
        let mut seen = Seen::default();
        for s in &block.stmts {
            if !self.once(&mut seen, file, s) {
                continue;
            }
            let Some(k) = self
                .qos_names
                .get(&s.key.text)
                .filter(|_| s.index.is_none())
            else {
                let names = self.qos_names.names.clone();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                self.unknown_field(file, s, "a `weights` block", &names);
                continue;
            };
            if k >= self.market.qos.len() {
                continue;
            }
            if let Some(span) = Self::learned(s) {
                if self.market.qos[k].kind == QosKind::Congestion {
                    // Checked against the observations once every item is read; the fit
                    // starts from 1.
                    self.market.learned_congestion = Some(Self::loc(file, span));
                    self.default_weights[k] = Some(Num {
                        value: 1.0,
                        at: Self::loc(file, span),
                    });
                    continue;
                }
                self.market
                    .learned_weights
                    .resize(self.market.qos.len(), false);
                self.market.learned_weights[k] = true;
                self.default_weights[k] = Some(Num {
                    value: 0.0,
                    at: Self::loc(file, span),
                });
                continue;
            }
            let expect = self.weight_expect(k);
            let what = format!("the weight of `{}`", s.key.text);
            let Some(n) = self.fixed(file, s, &expect, &what) else {
                continue;
            };
            if self.market.qos[k].kind == QosKind::Congestion && n.value <= 0.0 {
                self.err(
                    Diagnostic::new(Code::CongestionWeightSign, file, n.at.span, "the congestion weight must be positive")
                        .label("zero or negative")
                        .help("users who ignore congestion are pure choosers: declare them `user NAME chooser { ... }`"),
                );
                continue;
            }
            self.default_weights[k] = Some(n);
        }
    }

    pub(crate) fn provider(&mut self, file: FileId, name: &Name, block: &Block) {
        if !self
            .provider_names
            .is_first(&name.text, self.market.providers.len())
        {
            return;
        }
        let at = Self::loc(file, name.span);
        let mut seen = Seen::default();
        let mut price = None;
        let mut capacity = None;
        let mut throughput = None;
        let mut observed = None;
        let mut value = None;
        let mut value_learned = false;
        let mut cost = None;
        let mut qos = vec![None; self.market.qos.len()];
        let volume = Expect::volume(self.period_seconds);
        for s in &block.stmts {
            if !self.once(&mut seen, file, s) {
                continue;
            }
            let plain = s.index.is_none() && s.weight.is_none();
            match s.key.text.as_str() {
                "price" if plain => price = self.nonnegative(file, s, "the price"),
                "capacity" if plain => capacity = self.fixed(file, s, &volume, "the capacity").map(|n| self.positive_capacity(file, n, "capacity")),
                "throughput" if plain => {
                    throughput = self
                        .fixed(file, s, &Expect::new(Unit::THROUGHPUT, "tok/s"), "the throughput")
                        .map(|n| self.positive_capacity(file, n, "throughput"))
                }
                "observed" if plain => observed = self.fixed(file, s, &volume, "the observed load").map(|n| self.positive_capacity(file, n, "observed load")),
                "value" if plain => match Self::learned(s) {
                    Some(span) => {
                        value_learned = true;
                        value = Some(Num { value: 0.0, at: Self::loc(file, span) });
                    }
                    None => value = self.fixed(file, s, &Expect::price(), "the value"),
                },
                "cost" if plain => cost = self.nonnegative(file, s, "the serving cost"),
                key => match self.qos_names.get(key) {
                    Some(k) if plain && k < self.market.qos.len() => match self.market.qos[k].kind {
                        QosKind::PerProvider => {
                            let expect = self.qos_expect(k);
                            qos[k] = self.fixed(file, s, &expect, &format!("`{key}`"));
                        }
                        QosKind::Pairwise => self.err(
                            Diagnostic::new(Code::FieldForm, file, s.key.span, format!("`{key}` is pairwise: it has a value per user, not per provider"))
                                .label("per (user, provider) pair")
                                .help(format!("set it in each user as `{key}[{}] = ...`, import a table, or declare `qos {key} : ... default ...`", name.text)),
                        ),
                        QosKind::Congestion => self.err(
                            Diagnostic::new(Code::NotStaticQos, file, s.key.span, format!("`{key}` is a congestion dimension: it is computed, not given"))
                                .label("computed from load / capacity")
                                .help("set the provider's `capacity` instead"),
                        ),
                    },
                    _ => {
                        let mut fields: Vec<&str> = PROVIDER_FIELDS.to_vec();
                        fields.extend(self.qos_names.names.iter().map(String::as_str));
                        let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
                        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
                        self.unknown_field(file, s, "a provider", &fields);
                    }
                },
            }
        }
        let capacity_source;
        let capacity = match (capacity, throughput, observed) {
            (Some(c), None, None) => {
                capacity_source = CapacitySource::Given;
                c
            }
            (Some(c), Some(t), _) | (Some(c), _, Some(t)) => {
                self.err(
                    Diagnostic::new(Code::CapacityConflict, file, t.at.span, format!("provider `{}` gives both a capacity and a throughput rating", name.text))
                        .label("throughput-derived capacity")
                        .related(file, c.at.span, "given capacity")
                        .help("keep `capacity = ...`, or derive it with `throughput` and `observed` (not both)"),
                );
                return self.push_placeholder(name, at);
            }
            (None, Some(t), Some(o)) => {
                let Some(r) = self.market.throughput_ref else {
                    self.err(
                        Diagnostic::new(Code::MissingThroughputRef, file, t.at.span, "capacity from throughput needs a reference throughput")
                            .label("no `throughput_ref` in the market header")
                            .help("add `throughput_ref = 50 tok/s` (say) to the `market` block; see docs/language.md, capacities from data"),
                    );
                    return self.push_placeholder(name, at);
                };
                capacity_source = CapacitySource::Throughput {
                    throughput: t.value,
                    observed: o.value,
                };
                let value = o.value * t.value / r.value;
                if !value.is_finite() {
                    self.err(
                        Diagnostic::new(
                            Code::InvalidNumber,
                            file,
                            t.at.span,
                            "the derived capacity is not a finite number",
                        )
                        .label("overflows")
                        .help("give smaller figures, or a plain `capacity`"),
                    );
                    return self.push_placeholder(name, at);
                }
                Num { value, at: t.at }
            }
            (None, Some(t), None) | (None, None, Some(t)) => {
                self.err(
                    Diagnostic::new(Code::MissingField, file, t.at.span, "a throughput rating and an observed load go together")
                        .label("only one of the two")
                        .help("give both `throughput = ... tok/s` and `observed = ... mtok`, or a plain `capacity`"),
                );
                return self.push_placeholder(name, at);
            }
            (None, None, None) => {
                self.missing(file, name, "provider", "capacity", "capacity = 40_000 mtok");
                return self.push_placeholder(name, at);
            }
        };
        let Some(value) = value else {
            self.missing(file, name, "provider", "value", "value = 1.0 usd/mtok");
            return self.push_placeholder(name, at);
        };
        self.market.providers.push(Provider {
            name: name.text.clone(),
            at,
            price,
            capacity,
            capacity_source,
            value,
            cost,
            value_learned,
            qos,
            firm: None,
        });
    }

    /// Keeps indices aligned with the name table when a provider is broken.
    fn push_placeholder(&mut self, name: &Name, at: Loc) {
        let one = Num { value: 1.0, at };
        self.market.providers.push(Provider {
            name: name.text.clone(),
            at,
            price: Some(one),
            capacity: one,
            capacity_source: CapacitySource::Given,
            value: one,
            cost: None,
            value_learned: false,
            qos: vec![Some(one); self.market.qos.len()],
            firm: None,
        });
    }

    pub(crate) fn missing(
        &mut self,
        file: FileId,
        name: &Name,
        kind: &str,
        field: &str,
        example: &str,
    ) {
        self.err(
            Diagnostic::new(
                Code::MissingField,
                file,
                name.span,
                format!("{kind} `{}` has no `{field}`", name.text),
            )
            .label(format!("no `{field}`"))
            .help(format!("add `{example}`")),
        );
    }

    fn positive_capacity(&mut self, file: FileId, n: Num, what: &str) -> Num {
        if n.value <= 0.0 {
            self.err(
                Diagnostic::new(Code::NonpositiveCapacity, file, n.at.span, format!("the {what} must be positive"))
                    .label("zero or negative")
                    .help("a provider that serves nothing is not in the market: remove it, or give a positive figure"),
            );
        }
        n
    }

    fn nonnegative(&mut self, file: FileId, s: &Stmt, what: &str) -> Option<Num> {
        let n = self.fixed(file, s, &Expect::price(), what)?;
        if n.value < 0.0 {
            self.err(
                Diagnostic::new(Code::NegativePrice, file, n.at.span, format!("{what} cannot be negative"))
                    .label("negative")
                    .help("an outside option costs `0 usd/mtok`; model a subsidy through a higher `value`"),
            );
            return None;
        }
        Some(n)
    }

    pub(crate) fn firm(&mut self, file: FileId, name: &Name, owns: &[Name], block: Option<&Block>) {
        if !self
            .firm_names
            .is_first(&name.text, self.market.firms.len())
        {
            return;
        }
        let f = self.market.firms.len();
        let mut providers = Vec::new();
        for o in owns {
            let Some(p) = self.provider_ref(file, o) else {
                continue;
            };
            if p >= self.market.providers.len() || providers.contains(&p) {
                continue;
            }
            if let Some(prev) = self.market.providers[p].firm.filter(|prev| *prev < f) {
                let prev_at = self.market.firms[prev].at;
                let prev_name = self.market.firms[prev].name.clone();
                self.err(
                    Diagnostic::new(
                        Code::DuplicateOwner,
                        file,
                        o.span,
                        format!(
                            "provider `{}` is already owned by firm `{prev_name}`",
                            o.text
                        ),
                    )
                    .label("owned twice")
                    .related(prev_at.file, prev_at.span, "the first owner")
                    .help("each provider has one owner; model a reseller as a provider of its own"),
                );
                continue;
            }
            if providers.contains(&p) {
                continue;
            }
            self.market.providers[p].firm = Some(f);
            providers.push(p);
        }
        let mut decisions: Vec<Decision> = Vec::new();
        let mut seen = Seen::default();
        for s in block.map_or(&[][..], |b| &b.stmts[..]) {
            if !self.once(&mut seen, file, s) {
                continue;
            }
            let target = match (&s.index, providers.len()) {
                (Some(i), _) => {
                    match self.provider_ref(file, i) {
                        Some(p) if providers.contains(&p) => Some(p),
                        Some(_) => {
                            self.err(
                            Diagnostic::new(Code::NotOwned, file, i.span, format!("firm `{}` does not own `{}`", name.text, i.text))
                                .label("not one of this firm's providers")
                                .help(format!("add it to `firm {} owns ...`, or decide it in its owner's block", name.text)),
                        );
                            None
                        }
                        None => None,
                    }
                }
                (None, 1) => Some(providers[0]),
                (None, _)
                    if ["price", "cost"].contains(&s.key.text.as_str()) && s.weight.is_none() =>
                {
                    self.err(
                        Diagnostic::new(
                            Code::AmbiguousDecision,
                            file,
                            s.key.span,
                            format!(
                                "firm `{}` owns {} providers: say which",
                                name.text,
                                providers.len()
                            ),
                        )
                        .label(format!("`{}` of which provider?", s.key.text))
                        .help(format!("write `{}[PROVIDER] ...`", s.key.text)),
                    );
                    None
                }
                (None, _) => None,
            };
            match (s.key.text.as_str(), s.weight.is_none()) {
                ("price", true) => {
                    let StmtBody::Range { lo, hi, step } = &s.body else {
                        self.err(
                            Diagnostic::new(Code::FieldForm, file, body_span(&s.body, s.span), "a firm's price is a range to decide in")
                                .label("not a range")
                                .help("write `price in 0.10 .. 2.00 usd/mtok [step 0.01]`; a fixed price belongs in the provider"),
                        );
                        continue;
                    };
                    if let Some(d) = self.decision(file, s, lo, hi, step.as_ref()) {
                        if let Some(p) = target {
                            decisions.push(Decision { provider: p, ..d });
                        }
                    }
                }
                ("cost", true) => {
                    let Some(n) = self.nonnegative(file, s, "the serving cost") else {
                        continue;
                    };
                    if let Some(p) = target {
                        if let Some(prev) = self.market.providers[p].cost {
                            self.err(
                                Diagnostic::new(
                                    Code::CostConflict,
                                    file,
                                    n.at.span,
                                    format!(
                                        "the cost of `{}` is set twice",
                                        self.market.providers[p].name
                                    ),
                                )
                                .label("set by the firm")
                                .related(prev.at.file, prev.at.span, "set by the provider")
                                .help("keep one of the two"),
                            );
                        } else {
                            self.market.providers[p].cost = Some(n);
                        }
                    }
                }
                _ => self.unknown_field(file, s, "a firm", &["price", "cost"]),
            }
        }
        self.market.firms.push(Firm {
            name: name.text.clone(),
            at: Self::loc(file, name.span),
            providers,
            decisions,
        });
    }

    fn decision(
        &mut self,
        file: FileId,
        s: &Stmt,
        lo: &Quantity,
        hi: &Quantity,
        step: Option<&Quantity>,
    ) -> Option<Decision> {
        // A unit written only on the high end applies to the whole range: `0.1 .. 2 usd/mtok`.
        let with_unit = |q: &Quantity| -> Quantity {
            let mut q = q.clone();
            if q.unit.is_none() {
                q.unit = hi.unit.clone();
            }
            q
        };
        let price = Expect {
            allow_infinite: true,
            ..Expect::price()
        };
        let lo_v = self.lift(units::convert(
            &with_unit(lo),
            &price,
            file,
            "the low price bound",
        ));
        let hi_v = self.lift(units::convert(hi, &price, file, "the high price bound"));
        let step_v = match step {
            Some(q) => Some(self.lift(units::convert(
                &with_unit(q),
                &price,
                file,
                "the price step",
            ))?),
            None => None,
        };
        let (lo_v, hi_v) = (lo_v?, hi_v?);
        for (v, q) in [(lo_v, lo), (hi_v, hi)] {
            if !v.is_finite() {
                self.err(
                    Diagnostic::new(
                        Code::InfiniteBound,
                        file,
                        q.span,
                        "a decided price needs finite bounds",
                    )
                    .label("not finite")
                    .help(
                        "bound the price by what the market could bear, e.g. 10× the dearest rival",
                    ),
                );
                return None;
            }
            if v < 0.0 {
                self.err(
                    Diagnostic::new(
                        Code::NegativePrice,
                        file,
                        q.span,
                        "a price bound cannot be negative",
                    )
                    .label("negative")
                    .help("start the range at 0 usd/mtok or above"),
                );
                return None;
            }
        }
        if lo_v >= hi_v {
            self.err(
                Diagnostic::new(Code::EmptyRange, file, lo.span.to(hi.span), "the price range is empty: its low end is not below its high end")
                    .label("low ≥ high")
                    .help("write `price in LOW .. HIGH usd/mtok` with LOW < HIGH; a fixed price belongs in the provider"),
            );
            return None;
        }
        if let (Some(sv), Some(sq)) = (step_v, step) {
            let points = (hi_v - lo_v) / sv;
            if sv.is_nan() || sv <= 0.0 || points > 1e6 {
                self.err(
                    Diagnostic::new(
                        Code::InvalidStep,
                        file,
                        sq.span,
                        "the price step must be positive and give at most a million grid points",
                    )
                    .label(if sv > 0.0 {
                        "too many grid points"
                    } else {
                        "not positive"
                    })
                    .help("use a step such as 0.01 usd/mtok"),
                );
                return None;
            }
            if (points - points.round()).abs() > 1e-6 * points.max(1.0) {
                let k = points.floor();
                self.err(
                    Diagnostic::new(Code::GridMisaligned, file, s.span, format!("the range is {points:.4} steps long, not a whole number"))
                        .label("the high end is not on the grid")
                        .help(format!("end the range at {} usd/mtok ({} steps), or pick a step that divides the range", fmt_num(lo_v + k * sv), k)),
                );
                return None;
            }
        }
        let at = Self::loc(file, s.span);
        Some(Decision {
            provider: usize::MAX,
            lo: Num {
                value: lo_v,
                at: Self::loc(file, lo.span),
            },
            hi: Num {
                value: hi_v,
                at: Self::loc(file, hi.span),
            },
            step: step_v.zip(step).map(|(v, q)| Num {
                value: v,
                at: Self::loc(file, q.span),
            }),
            at,
        })
    }

    pub(crate) fn user(
        &mut self,
        file: FileId,
        name: &Name,
        chooser: Option<Span>,
        block: &Block,
        segment: bool,
    ) {
        if !self
            .user_names
            .is_first(&name.text, self.market.users.len())
        {
            return;
        }
        let u = self.market.users.len();
        let kind = if segment { "segment" } else { "user" };
        let at = Self::loc(file, name.span);
        let congestion = self.market.congestion();
        let mut seen = Seen::default();
        let mut demand = None;
        let mut draws = None;
        let mut seed = None;
        let mut weights: Vec<Option<Param>> = vec![None; self.market.qos.len()];
        let mut values: Vec<(usize, Param)> = Vec::new();
        let mut taste = None;
        let mut overrides = Vec::new();
        let mut has_dist = false;
        for s in &block.stmts {
            if !self.once(&mut seen, file, s) {
                continue;
            }
            has_dist |= matches!(s.body, StmtBody::Draw { .. });
            let plain = s.index.is_none() && s.weight.is_none();
            if s.weight.is_some() {
                let Some(k) = self.qos_ref(file, &s.key) else {
                    continue;
                };
                if k >= self.market.qos.len() {
                    continue;
                }
                if Some(k) == congestion && chooser.is_some() {
                    self.err(
                        Diagnostic::new(Code::ChooserCongestionWeight, file, s.span, format!("{kind} `{}` is a pure chooser but sets a congestion weight", name.text))
                            .label("a congestion weight")
                            .related(file, chooser.unwrap_or(name.span), "declared a pure chooser here")
                            .help("a pure chooser ignores congestion: remove the weight, or drop `chooser`"),
                    );
                    continue;
                }
                let expect = self.weight_expect(k);
                let what = format!("the weight of `{}`", s.key.text);
                weights[k] = self.param(file, s, &expect, &what, segment);
                if Some(k) == congestion {
                    if let Some(p) = &weights[k] {
                        self.congestion_sign(file, p, kind, name);
                    }
                }
                continue;
            }
            match s.key.text.as_str() {
                "demand" if plain => {
                    let expect = Expect::volume(self.period_seconds);
                    demand = self.param(file, s, &expect, "the demand", segment);
                    if let Some(p) = &demand {
                        self.positive_demand(file, p);
                    }
                }
                "draws" if plain && segment => {
                    draws = self.integer(file, s, 1, MAX_DRAWS, "the number of draws")
                }
                "seed" if plain && segment => seed = self.integer(file, s, 0, u64::MAX, "a seed"),
                "value" if s.index.is_some() => {
                    let Some(p) = self.provider_ref(file, s.index.as_ref().unwrap()) else {
                        continue;
                    };
                    let what = format!("the value of `{}`", self.provider_names.names[p]);
                    if let Some(v) = self.param(file, s, &Expect::price(), &what, segment) {
                        values.push((p, v));
                    }
                }
                "taste" if plain => {
                    if !segment {
                        self.err(
                            Diagnostic::new(Code::DistributionOutsideSegment, file, s.key.span, "a taste shock is drawn: it belongs in a `segment`")
                                .label("in a single user")
                                .help("declare a `segment` with `draws`, or set `value[PROVIDER]` for this user"),
                        );
                        continue;
                    }
                    match &s.body {
                        StmtBody::Draw {
                            dist,
                            per_provider: Some(_),
                        } => taste = self.dist(file, dist, &Expect::price(), "the taste shock"),
                        _ => self.err(
                            Diagnostic::new(
                                Code::FieldForm,
                                file,
                                s.span,
                                "a taste shock is a distribution drawn per provider",
                            )
                            .label("not `~ DIST per provider`")
                            .help("write `taste ~ gumbel(0, 0.3) usd/mtok per provider`"),
                        ),
                    }
                }
                key => {
                    let Some(k) = self
                        .qos_names
                        .get(key)
                        .filter(|k| *k < self.market.qos.len())
                    else {
                        let mut fields = vec!["demand", "weight", "value", "taste"];
                        if segment {
                            fields.extend(["draws", "seed"]);
                        }
                        let names: Vec<String> = self.qos_names.names.clone();
                        fields.extend(names.iter().map(String::as_str));
                        self.unknown_field(file, s, &format!("a {kind}"), &fields);
                        continue;
                    };
                    if self.market.qos[k].kind == QosKind::Congestion {
                        self.err(
                            Diagnostic::new(Code::NotStaticQos, file, s.key.span, format!("`{key}` is a congestion dimension: it is computed, not given"))
                                .label("computed from load / capacity")
                                .help(format!("to change how much this {kind} minds congestion, write `weight {key} = ...`")),
                        );
                        continue;
                    }
                    let Some(index) = &s.index else {
                        self.err(
                            Diagnostic::new(Code::FieldForm, file, s.key.span, format!("a {kind}'s `{key}` is given per provider"))
                                .label("which provider?")
                                .help(format!("write `{key}[PROVIDER] = ...`; to weight it, write `weight {key} = ...`")),
                        );
                        continue;
                    };
                    let Some(p) = self.provider_ref(file, index) else {
                        continue;
                    };
                    let expect = self.qos_expect(k);
                    if let Some(n) = self.fixed(file, s, &expect, &format!("`{key}`")) {
                        overrides.push((k, p, n));
                        self.override_at.insert((u, k, p), n.at);
                    }
                }
            }
        }
        let segment_draws = if segment {
            if has_dist && draws.is_none() {
                self.missing(file, name, "segment", "draws", "draws = 64");
            }
            let seed = seed.unwrap_or_else(|| self.market.seed ^ fnv1a(&name.text));
            Some(SegmentDraws {
                draws: draws.unwrap_or(1) as u32,
                seed,
            })
        } else {
            None
        };
        let demand = demand.unwrap_or_else(|| {
            self.missing(file, name, kind, "demand", "demand = 1_000 mtok");
            Param::Fixed(Num { value: 1.0, at })
        });
        // Defaults fill the weights a user does not set; a chooser has no congestion weight.
        for (k, w) in weights.iter_mut().enumerate() {
            if w.is_none() && !(Some(k) == congestion && chooser.is_some()) {
                *w = self.default_weights[k].map(Param::Fixed);
            }
        }
        self.market.users.push(User {
            name: name.text.clone(),
            at,
            chooser: chooser.is_some() || congestion.is_none(),
            segment: segment_draws,
            demand,
            weights,
            values,
            taste,
            qos_overrides: overrides,
        });
    }

    fn congestion_sign(&mut self, file: FileId, p: &Param, kind: &str, name: &Name) {
        let bad = match p {
            Param::Fixed(n) => n.value <= 0.0,
            Param::Drawn(d) => !d.kind.strictly_positive(),
        };
        if bad {
            let reach = if matches!(p, Param::Fixed(_)) {
                "is"
            } else {
                "can be drawn"
            };
            self.err(
                Diagnostic::new(Code::CongestionWeightSign, file, p.at().span, format!("the congestion weight {reach} zero or negative"))
                    .label("must stay positive")
                    .help(format!("use a positive number or a `lognormal(...)`, or declare the {kind} a pure chooser: `{kind} {} chooser {{ ... }}`", name.text)),
            );
        }
    }

    fn positive_demand(&mut self, file: FileId, p: &Param) {
        let bad = match p {
            Param::Fixed(n) => n.value <= 0.0,
            Param::Drawn(d) => !d.kind.strictly_positive(),
        };
        if bad {
            self.err(
                Diagnostic::new(Code::NonpositiveDemand, file, p.at().span, "demand must be positive")
                    .label(if matches!(p, Param::Fixed(_)) { "zero or negative" } else { "can be drawn zero or negative" })
                    .help("give a positive volume, or a `lognormal(...)` / positive `uniform(...)` distribution"),
            );
        }
    }

    /// A fixed number, or a distribution where `allow_dist`.
    pub(crate) fn param(
        &mut self,
        file: FileId,
        s: &Stmt,
        expect: &Expect,
        what: &str,
        allow_dist: bool,
    ) -> Option<Param> {
        match &s.body {
            StmtBody::Draw { dist, per_provider } if allow_dist => {
                if let Some(pp) = per_provider {
                    self.err(
                        Diagnostic::new(Code::FieldForm, file, *pp, "only a taste shock is drawn `per provider`")
                            .label("not allowed here")
                            .help("remove `per provider`; for a per-provider shock write `taste ~ ... per provider`"),
                    );
                    return None;
                }
                self.dist(file, dist, expect, what).map(Param::Drawn)
            }
            _ => self.fixed(file, s, expect, what).map(Param::Fixed),
        }
    }

    pub(crate) fn dist(
        &mut self,
        file: FileId,
        d: &Distribution,
        expect: &Expect,
        what: &str,
    ) -> Option<Dist> {
        let written = match &d.unit {
            Some(u) => Some(self.lift(units::resolve_unit(u, file))?),
            None => None,
        };
        let num_text = d
            .args
            .first()
            .map_or("1".to_string(), |a| a.value.text.clone());
        let scale = self.lift(units::convert_value(
            1.0,
            written.as_ref(),
            expect,
            (file, d.span),
            &num_text,
            what,
        ))?;
        let name = d.name.text.as_str();
        let arity = |n: usize| d.args.len() == n;
        let invalid = |this: &mut Self, msg: String, help: &str| {
            this.err(
                Diagnostic::new(Code::InvalidDistribution, file, d.span, msg)
                    .label("invalid parameters")
                    .help(help.to_string()),
            );
        };
        if name != "discrete" {
            if let Some(a) = d.args.iter().find(|a| a.weight.is_some()) {
                self.err(
                    Diagnostic::new(
                        Code::InvalidDistribution,
                        file,
                        a.span,
                        format!("`@` weights belong to `discrete`, not `{name}`"),
                    )
                    .label("a probability weight")
                    .help("remove the `@ ...` part"),
                );
                return None;
            }
        }
        let arg = |i: usize| d.args[i].value.value;
        let kind = match name {
            "normal" | "lognormal" | "gumbel" => {
                if !arity(2) {
                    invalid(
                        self,
                        format!("`{name}` takes two parameters, got {}", d.args.len()),
                        &format!("write `{name}(location, scale)`"),
                    );
                    return None;
                }
                let (a, b) = (arg(0), arg(1));
                if b.is_nan() || b <= 0.0 || !a.is_finite() || !b.is_finite() {
                    invalid(
                        self,
                        format!(
                            "the scale of `{name}` must be positive and finite, got {}",
                            d.args[1].value.text
                        ),
                        "the second parameter (sigma or beta) must be > 0",
                    );
                    return None;
                }
                match name {
                    "normal" => DistKind::Normal { mu: a, sigma: b },
                    "lognormal" => DistKind::Lognormal { mu: a, sigma: b },
                    _ => DistKind::Gumbel { mu: a, beta: b },
                }
            }
            "uniform" => {
                if !arity(2) {
                    invalid(
                        self,
                        format!("`uniform` takes two parameters, got {}", d.args.len()),
                        "write `uniform(lo, hi)`",
                    );
                    return None;
                }
                let (lo, hi) = (arg(0), arg(1));
                if lo >= hi || !lo.is_finite() || !hi.is_finite() {
                    invalid(
                        self,
                        format!(
                            "`uniform({}, {})` is empty: lo must be below hi",
                            d.args[0].value.text, d.args[1].value.text
                        ),
                        "write `uniform(lo, hi)` with lo < hi",
                    );
                    return None;
                }
                DistKind::Uniform { lo, hi }
            }
            "discrete" => {
                if d.args.is_empty() {
                    invalid(
                        self,
                        "`discrete` needs at least one value".into(),
                        "write `discrete(1 @ 30%, 2 @ 70%)`",
                    );
                    return None;
                }
                let mut values = Vec::new();
                let mut probs = Vec::new();
                for a in &d.args {
                    let Some(w) = &a.weight else {
                        invalid(
                            self,
                            format!(
                                "the value {} of `discrete` has no probability",
                                a.value.text
                            ),
                            "write each value as `VALUE @ PROBABILITY`, e.g. `1 @ 30%`",
                        );
                        return None;
                    };
                    let p = self.lift(units::convert(
                        w,
                        &Expect::fraction(),
                        file,
                        "a probability",
                    ))?;
                    if p.is_nan() || p <= 0.0 || p > 1.0 {
                        invalid(
                            self,
                            format!("probability {} is not in (0, 100%]", w.number.text),
                            "each probability is above 0 and at most 100%",
                        );
                        return None;
                    }
                    values.push(a.value.value);
                    probs.push(p);
                }
                let total: f64 = probs.iter().sum();
                if (total - 1.0).abs() > 1e-6 {
                    invalid(
                        self,
                        format!(
                            "the probabilities of `discrete` add up to {:.4}%, not 100%",
                            total * 100.0
                        ),
                        "make the probabilities add up to 100%",
                    );
                    return None;
                }
                DistKind::Discrete { values, probs }
            }
            other => {
                let help =
                    did_you_mean(other, DISTRIBUTIONS.iter().copied()).unwrap_or_else(|| {
                        "distributions are normal, lognormal, uniform, gumbel and discrete".into()
                    });
                self.err(
                    Diagnostic::new(
                        Code::UnknownDistribution,
                        file,
                        d.name.span,
                        format!("unknown distribution `{other}`"),
                    )
                    .label("not a distribution")
                    .help(help),
                );
                return None;
            }
        };
        Some(Dist {
            kind,
            scale,
            at: Self::loc(file, d.span),
        })
    }
}

/// A stable 64-bit hash of a name (FNV-1a), to derive a segment's seed from its name.
pub(crate) fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

pub(crate) fn fmt_num(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}
