//! Check: names, units, forms and value domains → [`Market`], or every error found.
//!
//! The checker keeps going after an error so one run reports as much as it can; a
//! declaration whose own fields are broken is still entered into the name tables, so that
//! later references to it do not cascade into "unknown name" errors.

mod blocks;
mod constraints;
pub mod model;
mod tables;
pub mod units;

use std::collections::HashMap;

use crate::diagnostics::{did_you_mean, Code, Diagnostic, FileId, Sources, Span};
use crate::load::{Loader, Program};
use crate::syntax::ast::{self, ItemKind, Name};
pub use model::*;
use units::Expect;

/// Largest number of (user draw × provider) cells a market may lower to.
pub const MAX_CELLS: f64 = 5e7;
/// Largest number of draws in one segment.
pub const MAX_DRAWS: u64 = 1_000_000;

pub fn check(
    program: &Program,
    sources: &mut Sources,
    loader: &dyn Loader,
) -> Result<Market, Vec<Diagnostic>> {
    let mut c = Checker::new(sources, loader);
    c.run(program);
    if c.diags.is_empty() {
        Ok(c.finish())
    } else {
        c.diags.sort_by_key(|d| (d.file, d.span.start));
        Err(c.diags)
    }
}

/// Names of one kind, with their declarations.
#[derive(Default)]
pub(crate) struct NameTable {
    index: HashMap<String, usize>,
    pub(crate) names: Vec<String>,
    pub(crate) locs: Vec<Loc>,
}

impl NameTable {
    pub(crate) fn get(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
    /// Whether `name` was first declared as entry `position` (a later duplicate was not).
    pub(crate) fn is_first(&self, name: &str, position: usize) -> bool {
        self.get(name) == Some(position)
    }
    fn suggest(&self, wrong: &str) -> Option<String> {
        did_you_mean(wrong, self.names.iter().map(String::as_str))
    }
}

pub(crate) struct Checker<'a> {
    pub(crate) sources: &'a mut Sources,
    pub(crate) loader: &'a dyn Loader,
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) period_seconds: f64,
    pub(crate) qos_names: NameTable,
    pub(crate) provider_names: NameTable,
    pub(crate) user_names: NameTable,
    pub(crate) firm_names: NameTable,
    pub(crate) market: Market,
    /// Where each default weight was written (per QoS).
    pub(crate) default_weights: Vec<Option<Num>>,
    /// The declared unit of each QoS dimension (one for congestion).
    pub(crate) qos_units: Vec<units::Unit>,
    /// Where each (user, qos, provider) override was set, to catch conflicts.
    pub(crate) override_at: HashMap<(usize, usize, usize), Loc>,
}

impl<'a> Checker<'a> {
    fn new(sources: &'a mut Sources, loader: &'a dyn Loader) -> Self {
        let at = Loc {
            file: 0,
            span: Span::default(),
        };
        Checker {
            sources,
            loader,
            diags: Vec::new(),
            period_seconds: 86_400.0,
            qos_names: NameTable::default(),
            provider_names: NameTable::default(),
            user_names: NameTable::default(),
            firm_names: NameTable::default(),
            market: Market {
                name: String::new(),
                at,
                period: "day".into(),
                period_seconds: 86_400.0,
                seed: 0,
                throughput_ref: None,
                qos: Vec::new(),
                providers: Vec::new(),
                users: Vec::new(),
                firms: Vec::new(),
                objectives: Vec::new(),
                constraints: Vec::new(),
                solve: None,
                observed: Vec::new(),
                learned_weights: Vec::new(),
                observed_periods: Vec::new(),
                period_prices: Vec::new(),
                period_qos: Vec::new(),
                learned_congestion: None,
            },
            default_weights: Vec::new(),
            qos_units: Vec::new(),
            override_at: HashMap::new(),
        }
    }

    pub(crate) fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub(crate) fn lift<T>(&mut self, r: Result<T, Diagnostic>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(d) => {
                self.err(d);
                None
            }
        }
    }

    fn run(&mut self, program: &Program) {
        let items = &program.items;
        // Pass 1: the header (its period scales every rate) and every name.
        self.header(items);
        self.declare_names(items);
        // Pass 2: declarations, in dependency order.
        for (file, item) in items {
            if let ItemKind::Qos {
                name,
                kind,
                default,
            } = &item.kind
            {
                self.qos(*file, name, kind, default.as_ref());
            }
        }
        self.default_weights = vec![None; self.market.qos.len()];
        for (file, item) in items {
            if let ItemKind::Weights(block) = &item.kind {
                self.weights_block(*file, block);
            }
        }
        for (file, item) in items {
            if let ItemKind::Provider { name, block } = &item.kind {
                self.provider(*file, name, block);
            }
        }
        for (file, item) in items {
            if let ItemKind::Firm { name, owns, block } = &item.kind {
                self.firm(*file, name, owns, block.as_ref());
            }
        }
        for (file, item) in items {
            match &item.kind {
                ItemKind::User {
                    name,
                    chooser,
                    block,
                } => self.user(*file, name, *chooser, block, false),
                ItemKind::Segment {
                    name,
                    chooser,
                    block,
                } => self.user(*file, name, *chooser, block, true),
                _ => {}
            }
        }
        for (file, item) in items {
            if let ItemKind::Table { target, path, unit } = &item.kind {
                self.table(*file, target, path, unit.as_ref());
            }
        }
        self.coverage();
        for (file, item) in items {
            match &item.kind {
                ItemKind::Maximize(call) => self.objective(*file, call),
                ItemKind::SubjectTo {
                    label,
                    lhs,
                    relation,
                    rhs,
                } => self.constraint(*file, item.span, label.as_ref(), lhs, *relation, rhs),
                ItemKind::Solve { method, options } => {
                    self.solve(*file, item.span, method, options)
                }
                _ => {}
            }
        }
        self.size_checks();
        self.period_checks();
    }

    /// Per-period observations and prices describe the same periods, every price is given,
    /// and a learned congestion weight has periods to be learned from.
    fn period_checks(&mut self) {
        let m = self.market.providers.len();
        let mut periods: Vec<&str> = self
            .market
            .observed_periods
            .iter()
            .map(|o| o.0.as_str())
            .collect();
        periods.sort();
        periods.dedup();
        let periods: Vec<String> = periods.into_iter().map(String::from).collect();
        let mut diags = Vec::new();
        let per_period_qos = self.market.period_qos.iter().map(|(p, _, _, n)| (p, n));
        for (period, num) in per_period_qos {
            if !periods.contains(period) {
                diags.push(
                    Diagnostic::new(Code::CsvMalformed, num.at.file, num.at.span, format!("values for period `{period}`, which has no observed flows"))
                        .label("period without observations")
                        .help("give each period's flows in the `table observed` (period,user,provider,tokens)"),
                );
                break;
            }
        }
        if !self.market.period_prices.is_empty() {
            for (period, _, num) in &self.market.period_prices {
                if !periods.contains(period) {
                    diags.push(
                        Diagnostic::new(Code::CsvMalformed, num.at.file, num.at.span, format!("prices for period `{period}`, which has no observed flows"))
                            .label("period without observations")
                            .help("give each period's flows in the `table observed` (period,user,provider,tokens)"),
                    );
                    break;
                }
            }
            for period in &periods {
                let given = self
                    .market
                    .period_prices
                    .iter()
                    .filter(|(p, _, _)| p == period)
                    .count();
                if given < m {
                    let at = self
                        .market
                        .observed_periods
                        .iter()
                        .find(|o| &o.0 == period)
                        .map(|o| o.3.at)
                        .expect("an observed period");
                    diags.push(
                        Diagnostic::new(
                            Code::CsvMissingCell,
                            at.file,
                            at.span,
                            format!("period `{period}` has no prices for every provider"),
                        )
                        .label("observed here")
                        .help("add a row for this period to the `table prices`"),
                    );
                }
            }
        }
        if let Some(at) = self.market.learned_congestion {
            if periods.len() < 2 {
                diags.push(
                    Diagnostic::new(Code::FieldForm, at.file, at.span, "the congestion weight cannot be learned from one snapshot of flows")
                        .label("sets the scale of every other preference")
                        .help("give it a number, or observe flows in several periods at different prices (`table observed` with a `period` column, and `table prices`); see docs/calibration.md"),
                );
            }
        }
        for d in diags {
            self.err(d);
        }
    }

    fn finish(self) -> Market {
        self.market
    }

    pub(crate) fn loc(file: FileId, span: Span) -> Loc {
        Loc { file, span }
    }

    // ---- names ---------------------------------------------------------------------------

    fn declare(&mut self, kind: &str, table: Table, file: FileId, name: &Name) -> usize {
        let t = self.table_mut(table);
        if let Some(&i) = t.index.get(&name.text) {
            let first = t.locs[i];
            self.err(
                Diagnostic::new(
                    Code::DuplicateName,
                    file,
                    name.span,
                    format!("{kind} `{}` is declared twice", name.text),
                )
                .label("declared again here")
                .related(first.file, first.span, "first declared here")
                .help(format!("give each {kind} its own name")),
            );
            return i;
        }
        let t = self.table_mut(table);
        t.index.insert(name.text.clone(), t.names.len());
        t.names.push(name.text.clone());
        t.locs.push(Self::loc(file, name.span));
        t.names.len() - 1
    }

    fn table_mut(&mut self, t: Table) -> &mut NameTable {
        match t {
            Table::Qos => &mut self.qos_names,
            Table::Provider => &mut self.provider_names,
            Table::User => &mut self.user_names,
            Table::Firm => &mut self.firm_names,
        }
    }

    fn declare_names(&mut self, items: &[(FileId, ast::Item)]) {
        for (file, item) in items {
            match &item.kind {
                ItemKind::Qos { name, .. } => {
                    self.declare("QoS dimension", Table::Qos, *file, name);
                }
                ItemKind::Provider { name, .. } => {
                    self.declare("provider", Table::Provider, *file, name);
                }
                ItemKind::User { name, .. } => {
                    self.declare("user", Table::User, *file, name);
                }
                ItemKind::Segment { name, .. } => {
                    self.declare("user", Table::User, *file, name);
                }
                ItemKind::Firm { name, .. } => {
                    self.declare("firm", Table::Firm, *file, name);
                }
                _ => {}
            }
        }
    }

    /// Reports a name that is not declared, suggesting the closest declared one.
    /// Reports a name that is not declared, suggesting the closest declared one; `texts` is
    /// the label and the help line used when nothing is close.
    fn unknown(
        &mut self,
        code: Code,
        at: (FileId, Span),
        message: String,
        texts: (&str, &str),
        suggestion: Option<String>,
    ) {
        self.err(
            Diagnostic::new(code, at.0, at.1, message)
                .label(texts.0)
                .help(suggestion.unwrap_or_else(|| texts.1.into())),
        );
    }

    pub(crate) fn provider_ref(&mut self, file: FileId, name: &Name) -> Option<usize> {
        let found = self.provider_names.get(&name.text);
        if found.is_none() {
            let suggestion = self.provider_names.suggest(&name.text);
            let message = format!("no provider named `{}`", name.text);
            self.unknown(
                Code::UnknownProvider,
                (file, name.span),
                message,
                ("not a provider", "declare it with `provider NAME { ... }`"),
                suggestion,
            );
        }
        found
    }

    pub(crate) fn user_ref(&mut self, file: FileId, name: &str, span: Span) -> Option<usize> {
        let found = self.user_names.get(name);
        if found.is_none() {
            let suggestion = self.user_names.suggest(name);
            let message = format!("no user or segment named `{name}`");
            self.unknown(
                Code::UnknownUser,
                (file, span),
                message,
                (
                    "not a user",
                    "declare it with `user NAME { ... }` or `segment NAME { ... }`",
                ),
                suggestion,
            );
        }
        found
    }

    pub(crate) fn firm_ref(&mut self, file: FileId, name: &Name) -> Option<usize> {
        let found = self.firm_names.get(&name.text);
        if found.is_none() {
            // A provider's name where a firm's is wanted is a common slip: name the owner.
            let as_provider = self
                .provider_names
                .get(&name.text)
                .and_then(|p| self.market.providers.get(p));
            let suggestion = match as_provider {
                Some(p) => Some(match p.firm {
                    Some(f) => format!("`{}` is a provider; the firm that owns it is `{}`", name.text, self.market.firms[f].name),
                    None => format!("`{}` is a provider; declare a firm that owns it: `firm NAME owns {} {{ ... }}`", name.text, name.text),
                }),
                None => self.firm_names.suggest(&name.text),
            };
            let message = format!("no firm named `{}`", name.text);
            self.unknown(
                Code::UnknownFirm,
                (file, name.span),
                message,
                (
                    "not a firm",
                    "declare it with `firm NAME owns PROVIDER { ... }`",
                ),
                suggestion,
            );
        }
        found
    }

    pub(crate) fn qos_ref(&mut self, file: FileId, name: &Name) -> Option<usize> {
        let found = self.qos_names.get(&name.text);
        if found.is_none() {
            let suggestion = self.qos_names.suggest(&name.text);
            let message = format!("no QoS dimension named `{}`", name.text);
            self.unknown(
                Code::UnknownQos,
                (file, name.span),
                message,
                (
                    "not a QoS dimension",
                    "declare it with `qos NAME : UNIT` or `qos NAME : congestion`",
                ),
                suggestion,
            );
        }
        found
    }

    // ---- header ----------------------------------------------------------------------------

    fn header(&mut self, items: &[(FileId, ast::Item)]) {
        let mut first: Option<Loc> = None;
        for (file, item) in items {
            let ItemKind::Market { name, block } = &item.kind else {
                continue;
            };
            if let Some(f) = first {
                self.err(
                    Diagnostic::new(
                        Code::DuplicateMarket,
                        *file,
                        name.span,
                        "a second `market` header",
                    )
                    .label("second header")
                    .related(f.file, f.span, "the first header")
                    .help("a market has one header; an imported file should not declare one"),
                );
                continue;
            }
            first = Some(Self::loc(*file, name.span));
            self.market.name = name.text.clone();
            self.market.at = Self::loc(*file, name.span);
            self.market_block(*file, name, block);
        }
        if first.is_none() {
            // Reported at the start of the root file (file 0), the one that needs the header.
            self.err(
                Diagnostic::new(Code::MissingMarket, 0, Span::new(0, 0), "no `market` header")
                    .label("expected `market NAME { period = day }`")
                    .help("start the file with a header such as `market coding { period = day }`; a file of shared providers is checked through the file that imports it"),
            );
        }
    }

    fn market_block(&mut self, file: FileId, name: &Name, block: &ast::Block) {
        let mut seen = Seen::default();
        let mut period_set = false;
        for s in &block.stmts {
            if !self.once(&mut seen, file, s) {
                continue;
            }
            match (s.key.text.as_str(), s.index.is_none() && s.weight.is_none()) {
                ("period", true) => {
                    period_set = true;
                    match &s.body {
                        ast::StmtBody::Assign(ast::Value::Word(w)) => {
                            if let Some((p, secs)) =
                                units::PERIODS.iter().find(|(n, _)| *n == w.text)
                            {
                                self.market.period = p.to_string();
                                self.market.period_seconds = *secs;
                                self.period_seconds = *secs;
                            } else {
                                let help =
                                    did_you_mean(&w.text, units::PERIODS.iter().map(|(n, _)| *n));
                                self.err(
                                    Diagnostic::new(
                                        Code::InvalidPeriod,
                                        file,
                                        w.span,
                                        format!("unknown period `{}`", w.text),
                                    )
                                    .label("not a period")
                                    .help(help.unwrap_or_else(|| {
                                        "the period is one of hour, day, week, month (30 days)"
                                            .into()
                                    })),
                                );
                            }
                        }
                        other => {
                            let span = body_span(other, s.span);
                            self.err(
                                Diagnostic::new(
                                    Code::InvalidPeriod,
                                    file,
                                    span,
                                    "the period is a word such as `day`",
                                )
                                .label("not a period")
                                .help("write `period = day` (or hour, week, month)"),
                            )
                        }
                    }
                }
                ("seed", true) => {
                    if let Some(v) = self.integer(file, s, 0, u64::MAX, "a seed") {
                        self.market.seed = v;
                    }
                }
                ("throughput_ref", true) => {
                    if let Some(n) = self.fixed(
                        file,
                        s,
                        &Expect::new(units::Unit::THROUGHPUT, "tok/s"),
                        "the reference throughput",
                    ) {
                        if n.value <= 0.0 {
                            self.err(
                                Diagnostic::new(Code::NonpositiveCapacity, file, n.at.span, "the reference throughput must be positive")
                                    .label("not positive")
                                    .help("give the throughput at which a model counts as fully loaded at its observed load, e.g. `50 tok/s`"),
                            );
                        } else {
                            self.market.throughput_ref = Some(n);
                        }
                    }
                }
                _ => self.unknown_field(
                    file,
                    s,
                    "a market header",
                    &["period", "seed", "throughput_ref"],
                ),
            }
        }
        if !period_set {
            self.err(
                Diagnostic::new(Code::MissingField, file, name.span, format!("market `{}` has no period", name.text))
                    .label("no `period`")
                    .help("add `period = day` (or hour, week, month): demands and capacities are per period"),
            );
        }
    }

    // ---- shared field helpers ----------------------------------------------------------

    /// Records a field; reports and returns false if the block already set it.
    pub(crate) fn once(&mut self, seen: &mut Seen, file: FileId, s: &ast::Stmt) -> bool {
        let key = (
            s.weight.is_some(),
            s.key.text.clone(),
            s.index.as_ref().map(|i| i.text.clone()),
        );
        if let Some(first) = seen.0.get(&key) {
            let first = *first;
            self.err(
                Diagnostic::new(
                    Code::DuplicateField,
                    file,
                    s.span,
                    format!("`{}` is set twice", stmt_key(s)),
                )
                .label("set again here")
                .related(file, first, "first set here")
                .help("remove one of the two"),
            );
            return false;
        }
        seen.0.insert(key, s.span);
        true
    }

    pub(crate) fn unknown_field(
        &mut self,
        file: FileId,
        s: &ast::Stmt,
        context: &str,
        fields: &[&str],
    ) {
        let key = stmt_key(s);
        let help = did_you_mean(&s.key.text, fields.iter().copied())
            .unwrap_or_else(|| format!("{context} takes {}", list_fields(fields)));
        self.err(
            Diagnostic::new(
                Code::UnknownField,
                file,
                s.key.span,
                format!("{context} has no field `{key}`"),
            )
            .label("unknown field")
            .help(help),
        );
    }

    /// A field that must be a fixed quantity.
    /// `FIELD = learned`: the span of the word, when the statement says so.
    pub(crate) fn learned(s: &ast::Stmt) -> Option<Span> {
        match &s.body {
            ast::StmtBody::Assign(ast::Value::Word(w)) if w.text == "learned" => Some(w.span),
            _ => None,
        }
    }

    pub(crate) fn fixed(
        &mut self,
        file: FileId,
        s: &ast::Stmt,
        expect: &Expect,
        what: &str,
    ) -> Option<Num> {
        match &s.body {
            ast::StmtBody::Assign(ast::Value::Quantity(q)) => {
                let v = self.lift(units::convert(q, expect, file, what))?;
                Some(Num {
                    value: v,
                    at: Self::loc(file, q.span),
                })
            }
            ast::StmtBody::Draw { dist, .. } => {
                self.err(
                    Diagnostic::new(
                        Code::DistributionOutsideSegment,
                        file,
                        dist.span,
                        format!("{what} cannot be a distribution here"),
                    )
                    .label("a distribution")
                    .help(
                        "distributions describe the members of a `segment`; here give one number",
                    ),
                );
                None
            }
            other => {
                self.err(
                    Diagnostic::new(
                        Code::FieldForm,
                        file,
                        body_span(other, s.span),
                        format!("{what} takes a number with a unit"),
                    )
                    .label("not a quantity")
                    .help(format!(
                        "write `{} = <number> {}`",
                        stmt_key(s),
                        expect.text
                    )),
                );
                None
            }
        }
    }

    /// A whole number in `[min, max]` without a unit.
    pub(crate) fn integer(
        &mut self,
        file: FileId,
        s: &ast::Stmt,
        min: u64,
        max: u64,
        what: &str,
    ) -> Option<u64> {
        if let ast::StmtBody::Assign(ast::Value::Quantity(q)) = &s.body {
            let v = q.number.value;
            if q.unit.is_none() && v.fract() == 0.0 && v >= min as f64 && v <= max as f64 {
                return Some(v as u64);
            }
        }
        self.err(
            Diagnostic::new(
                Code::InvalidCount,
                file,
                body_span(&s.body, s.span),
                format!("{what} must be a whole number from {min} to {max}"),
            )
            .label("not a whole number in range")
            .help(format!(
                "write `{} = <whole number>` without a unit",
                stmt_key(s)
            )),
        );
        None
    }

    // ---- coverage and sizes ----------------------------------------------------------------

    /// Every user has a value for every static QoS of every provider, and a weight for each.
    fn coverage(&mut self) {
        let m = self.market.providers.len();
        for (k, q) in self.market.qos.clone().iter().enumerate() {
            // Weights: a user without its own weight and without a default.
            let unweighted: Vec<String> = self
                .market
                .users
                .iter()
                .filter(|u| u.weights.get(k).is_some_and(|w| w.is_none()))
                .filter(|u| !(q.kind == QosKind::Congestion && u.chooser))
                .map(|u| u.name.clone())
                .collect();
            if !unweighted.is_empty() {
                self.err(
                    Diagnostic::new(Code::MissingField, q.at.file, q.at.span, format!("no weight for `{}`", q.name))
                        .label(format!("{} user(s) have no weight for it: {}", unweighted.len(), preview(&unweighted)))
                        .help(format!("add `{} = ...` to a `weights {{ }}` block, or `weight {} = ...` to each user", q.name, q.name)),
                );
            }
            if q.kind == QosKind::Congestion || q.default.is_some() {
                continue;
            }
            if q.kind == QosKind::PerProvider {
                for p in 0..m {
                    if self.market.providers[p]
                        .qos
                        .get(k)
                        .is_some_and(|v| v.is_none())
                    {
                        let pr = &self.market.providers[p];
                        let d = Diagnostic::new(Code::MissingQosValue, pr.at.file, pr.at.span, format!("provider `{}` has no `{}`", pr.name, q.name))
                            .label(format!("no `{}` value", q.name))
                            .related(q.at.file, q.at.span, "declared here without a default")
                            .help(format!("add `{} = <number> {}` to the provider, or a default to the QoS declaration", q.name, q.unit));
                        self.err(d);
                    }
                }
            } else {
                for u in 0..self.market.users.len() {
                    let missing: Vec<String> = (0..m)
                        .filter(|&p| !self.override_at.contains_key(&(u, k, p)))
                        .map(|p| self.market.providers[p].name.clone())
                        .collect();
                    if !missing.is_empty() {
                        let user = &self.market.users[u];
                        let d = Diagnostic::new(
                            Code::MissingQosValue,
                            user.at.file,
                            user.at.span,
                            format!("user `{}` has no `{}` for {} provider(s)", user.name, q.name, missing.len()),
                        )
                        .label(format!("missing for {}", preview(&missing)))
                        .related(q.at.file, q.at.span, "a pairwise dimension: every (user, provider) pair needs a value")
                        .help(format!("set `{}[provider] = ...` in the user, import a `table {} from \"...\"`, or declare a default", q.name, q.name));
                        self.err(d);
                    }
                }
            }
        }
    }

    fn size_checks(&mut self) {
        let at = self.market.at;
        if self.market.providers.is_empty() || self.market.users.is_empty() {
            let what = if self.market.providers.is_empty() {
                "no provider"
            } else {
                "no user"
            };
            if self.market.name.is_empty() {
                return; // the missing header is already reported
            }
            self.err(
                Diagnostic::new(
                    Code::EmptyMarket,
                    at.file,
                    at.span,
                    format!("market `{}` has {what}", self.market.name),
                )
                .label(what.to_string())
                .help("a market needs at least one `provider` and one `user` or `segment`"),
            );
            return;
        }
        let rows: f64 = self
            .market
            .users
            .iter()
            .map(|u| u.segment.as_ref().map_or(1.0, |s| s.draws as f64))
            .sum();
        let cells = rows * self.market.providers.len() as f64;
        if cells > MAX_CELLS {
            self.err(
                Diagnostic::new(
                    Code::TooLarge,
                    at.file,
                    at.span,
                    format!(
                        "market `{}` lowers to {cells:.0} (user draw × provider) cells",
                        self.market.name
                    ),
                )
                .label(format!("more than {MAX_CELLS:.0} cells"))
                .help("use fewer segment draws, or split the market"),
            );
        }
    }
}

#[derive(Clone, Copy)]
enum Table {
    Qos,
    Provider,
    User,
    Firm,
}

/// Fields already set in one block.
#[derive(Default)]
pub(crate) struct Seen(HashMap<(bool, String, Option<String>), Span>);

pub(crate) fn stmt_key(s: &ast::Stmt) -> String {
    let mut k = String::new();
    if s.weight.is_some() {
        k.push_str("weight ");
    }
    k.push_str(&s.key.text);
    if let Some(i) = &s.index {
        k.push_str(&format!("[{}]", i.text));
    }
    k
}

pub(crate) fn body_span(body: &ast::StmtBody, _stmt: Span) -> Span {
    match body {
        ast::StmtBody::Assign(v) => v.span(),
        ast::StmtBody::Draw { dist, .. } => dist.span,
        ast::StmtBody::Range { lo, hi, .. } => lo.span.to(hi.span),
    }
}

fn list_fields(fields: &[&str]) -> String {
    let quoted: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
    match quoted.len() {
        0 => "no fields".into(),
        1 => quoted[0].clone(),
        n => format!("{} and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

pub(crate) fn preview(names: &[String]) -> String {
    let shown: Vec<String> = names.iter().take(3).map(|n| format!("`{n}`")).collect();
    if names.len() > 3 {
        format!("{}, …", shown.join(", "))
    } else {
        shown.join(", ")
    }
}
