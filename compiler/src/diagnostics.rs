//! Every user-facing error of the compiler, as one type. The CLI renders it with miette; the
//! JSON form serves editors and CI. Diagnostics are values: nothing in the compiler panics on
//! bad input.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{LabeledSpan, MietteError, SourceCode, SourceSpan, SpanContents};
use serde::Serialize;

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub fn shift(self, by: usize) -> Self {
        Span::new(self.start + by, self.end + by)
    }
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// Index of a file in [`Sources`].
pub type FileId = usize;

/// A file the compiler read: a `.market` file or an imported CSV table.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: Arc<str>,
}

/// Every file read while compiling one market, so diagnostics can quote any of them.
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, path: PathBuf, text: impl Into<Arc<str>>) -> FileId {
        self.files.push(SourceFile {
            path,
            text: text.into(),
        });
        self.files.len() - 1
    }
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id]
    }
    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.files.iter().position(|f| f.path == path)
    }
    pub fn len(&self) -> usize {
        self.files.len()
    }
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

macro_rules! codes {
    ($($variant:ident => $name:literal : $doc:literal,)*) => {
        /// The stable code of a diagnostic, printed as `prillm::<name>`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code { $(#[doc = $doc] $variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            /// The code's name without the `prillm::` prefix.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }
            /// One line saying what the code means (for `docs/language.md`).
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $doc,)* }
            }
        }
    };
}

codes! {
    Syntax => "syntax": "the text does not follow the grammar",
    InvalidNumber => "invalid_number": "a number is not finite or does not fit",
    DuplicateName => "duplicate_name": "two declarations of the same kind share a name",
    DuplicateField => "duplicate_field": "a field is set twice in one block",
    DuplicateMarket => "duplicate_market": "more than one `market` header",
    DuplicateCongestion => "duplicate_congestion": "more than one congestion dimension",
    DuplicateOwner => "duplicate_owner": "a provider is owned by two firms",
    DuplicateObjective => "duplicate_objective": "a firm has two objectives",
    DuplicateSolve => "duplicate_solve": "more than one `solve` directive",
    UnknownProvider => "unknown_provider": "a name that should be a provider is not one",
    UnknownUser => "unknown_user": "a name that should be a user or segment is not one",
    UnknownFirm => "unknown_firm": "a name that should be a firm is not one",
    UnknownQos => "unknown_qos": "a name that should be a QoS dimension is not one",
    UnknownField => "unknown_field": "a field this block does not have",
    UnknownUnit => "unknown_unit": "a unit word prillm does not know",
    UnknownDistribution => "unknown_distribution": "a distribution prillm does not know",
    UnknownFunction => "unknown_function": "an objective or constraint function prillm does not know",
    UnknownSolver => "unknown_solver": "a `solve` method prillm does not know",
    MissingField => "missing_field": "a required field is absent",
    MissingMarket => "missing_market": "no `market` header",
    MissingUnit => "missing_unit": "a quantity that needs a unit has none",
    MissingQosValue => "missing_qos_value": "a static QoS value is not given for a provider or pair",
    MissingThroughputRef => "missing_throughput_ref": "capacity from throughput without a reference throughput",
    UnitMismatch => "unit_mismatch": "a quantity has the wrong dimension",
    FieldForm => "field_form": "a field is written in a form it does not take",
    NotStaticQos => "not_static_qos": "a per-provider value given for a congestion dimension",
    NonpositiveCapacity => "nonpositive_capacity": "a capacity is zero or negative",
    NonpositiveDemand => "nonpositive_demand": "a demand is zero, negative, or can be drawn so",
    NegativePrice => "negative_price": "a price, bound or cost is negative",
    InvalidDistribution => "invalid_distribution": "distribution parameters out of their domain",
    DistributionOutsideSegment => "distribution_outside_segment": "a distribution where only a fixed number is allowed",
    CongestionWeightSign => "congestion_weight_sign": "a congestion weight that is or can be zero or negative",
    ChooserCongestionWeight => "chooser_congestion_weight": "a pure chooser given a congestion weight",
    CapacityConflict => "capacity_conflict": "a provider gives both a capacity and a throughput rating",
    CostConflict => "cost_conflict": "a serving cost set both by the provider and by its firm",
    InvalidPeriod => "invalid_period": "a market period prillm does not know",
    InvalidCount => "invalid_count": "a count (draws, seed, k) that is not a whole number in range",
    EmptyRange => "empty_range": "a price range whose low end is not below its high end",
    InfiniteBound => "infinite_bound": "a price bound that is not finite",
    InvalidStep => "invalid_step": "a grid step that is not positive or gives too many points",
    GridMisaligned => "grid_misaligned": "a price range that is not a whole number of steps",
    NotOwned => "not_owned": "a firm decides the price of a provider it does not own",
    AmbiguousDecision => "ambiguous_decision": "`price in` without a provider in a firm that owns several",
    FirmWithoutDecision => "firm_without_decision": "an objective for a firm that decides no price",
    NonlinearConstraint => "nonlinear_constraint": "a side constraint that multiplies two decisions",
    ConstantConstraint => "constant_constraint": "a side constraint that no decision can change",
    EmptyMarket => "empty_market": "a market with no provider or no user",
    TooLarge => "too_large": "a market too large to lower",
    FileNotFound => "file_not_found": "an imported file cannot be read",
    ImportCycle => "import_cycle": "files import each other in a cycle",
    CsvMalformed => "csv_malformed": "a CSV table that is not a well-formed table",
    CsvMissingCell => "csv_missing_cell": "a CSV table with an empty cell",
    CsvBadNumber => "csv_bad_number": "a CSV cell that is not a number",
    WeightsNotFound => "weights_not_found": "a network weights file that does not exist",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "prillm::{}", self.name())
    }
}

/// A secondary label, possibly in another file.
#[derive(Clone, Debug, PartialEq)]
pub struct Related {
    pub file: FileId,
    pub span: Span,
    pub label: String,
}

/// One error, pointing at the text that caused it.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    pub file: FileId,
    pub span: Span,
    pub label: String,
    pub help: Option<String>,
    pub related: Vec<Related>,
}

impl Diagnostic {
    pub fn new(code: Code, file: FileId, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            file,
            span,
            label: String::new(),
            help: None,
            related: Vec::new(),
        }
    }
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }
    pub fn related(mut self, file: FileId, span: Span, label: impl Into<String>) -> Self {
        self.related.push(Related {
            file,
            span,
            label: label.into(),
        });
        self
    }
}

/// "did you mean `x`?" for a misspelt name, when a candidate is close enough.
pub fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&wrong.to_lowercase(), &c.to_lowercase());
        if score > best.map_or(0.0, |b| b.0) {
            best = Some((score, c));
        }
    }
    match best {
        Some((score, c)) if score >= 0.8 => Some(format!("did you mean `{c}`?")),
        _ => None,
    }
}

// ---- rendering ---------------------------------------------------------------------------

/// 1-based line and column of a byte offset (column counted in characters).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A span made safe to slice: inside the text and on character boundaries.
fn clamp(text: &str, span: Span) -> Span {
    let start = floor_char_boundary(text, span.start.min(text.len()));
    let end = floor_char_boundary(text, span.end.min(text.len())).max(start);
    Span::new(start, end)
}

/// A source file as miette wants it: named, shared.
#[derive(Debug, Clone)]
struct NamedText {
    name: String,
    text: Arc<str>,
}

impl SourceCode for NamedText {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        lines_before: usize,
        lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, lines_before, lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// A diagnostic joined with its source text, ready for miette's report handlers.
#[derive(Debug)]
pub struct Rendered {
    code: Code,
    message: String,
    help: Option<String>,
    source: NamedText,
    labels: Vec<(Span, String)>,
    others: Vec<Rendered>,
}

impl Rendered {
    pub fn new(diag: &Diagnostic, sources: &Sources) -> Self {
        let file = sources.get(diag.file);
        let source = NamedText {
            name: display_path(&file.path),
            text: file.text.clone(),
        };
        let mut labels = vec![(clamp(&file.text, diag.span), diag.label.clone())];
        let mut others = Vec::new();
        for r in &diag.related {
            let rf = sources.get(r.file);
            if r.file == diag.file {
                labels.push((clamp(&rf.text, r.span), r.label.clone()));
            } else {
                others.push(Rendered {
                    code: diag.code,
                    message: r.label.clone(),
                    help: None,
                    source: NamedText {
                        name: display_path(&rf.path),
                        text: rf.text.clone(),
                    },
                    labels: vec![(clamp(&rf.text, r.span), String::new())],
                    others: Vec::new(),
                });
            }
        }
        Rendered {
            code: diag.code,
            message: diag.message.clone(),
            help: diag.help.clone(),
            source,
            labels,
            others,
        }
    }
}

/// Paths print with forward slashes on every platform, so snapshots agree.
pub fn display_path(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().enumerate().map(
            |(i, (s, l))| {
                let text = (!l.is_empty()).then(|| l.clone());
                let span = SourceSpan::new(s.start.into(), s.end - s.start);
                if i == 0 {
                    LabeledSpan::new_primary_with_span(text, span)
                } else {
                    LabeledSpan::new_with_span(text, span)
                }
            },
        )))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.others.is_empty() {
            None
        } else {
            Some(Box::new(
                self.others.iter().map(|o| o as &dyn miette::Diagnostic),
            ))
        }
    }
}

/// The JSON form of a diagnostic, for editors and CI (`--format json`).
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic {
    pub code: String,
    pub severity: &'static str,
    pub message: String,
    pub file: String,
    pub span: JsonSpan,
    pub label: String,
    pub help: Option<String>,
    pub related: Vec<JsonRelated>,
}

#[derive(Debug, Serialize)]
pub struct JsonSpan {
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

#[derive(Debug, Serialize)]
pub struct JsonRelated {
    pub file: String,
    pub span: JsonSpan,
    pub label: String,
}

fn json_span(text: &str, span: Span) -> JsonSpan {
    let span = clamp(text, span);
    let (line, column) = line_col(text, span.start);
    let (end_line, end_column) = line_col(text, span.end);
    JsonSpan {
        start: span.start,
        end: span.end,
        line,
        column,
        end_line,
        end_column,
    }
}

impl JsonDiagnostic {
    pub fn new(diag: &Diagnostic, sources: &Sources) -> Self {
        let file = sources.get(diag.file);
        JsonDiagnostic {
            code: diag.code.to_string(),
            severity: "error",
            message: diag.message.clone(),
            file: display_path(&file.path),
            span: json_span(&file.text, diag.span),
            label: diag.label.clone(),
            help: diag.help.clone(),
            related: diag
                .related
                .iter()
                .map(|r| {
                    let rf = sources.get(r.file);
                    JsonRelated {
                        file: display_path(&rf.path),
                        span: json_span(&rf.text, r.span),
                        label: r.label.clone(),
                    }
                })
                .collect(),
        }
    }
}
