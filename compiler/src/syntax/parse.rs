//! pest parse tree → [`SourceTree`], and pest errors → our own diagnostics.
//!
//! A file that does not parse is cut into top-level items and each is parsed on its own, so
//! that one run reports every item's syntax error rather than only the first.

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser;
use pest_derive::Parser;

use super::ast::*;
use crate::diagnostics::{Code, Diagnostic, FileId, Span};

#[derive(Parser)]
#[grammar = "../../grammar/market.pest"]
struct MarketParser;

/// Files at least this large are parsed in parts, one thread per core.
const PARALLEL_BYTES: usize = 256 * 1024;

/// Parses one file. On syntax errors, returns one diagnostic per broken top-level item.
pub fn parse(text: &str, file: FileId) -> Result<SourceTree, Vec<Diagnostic>> {
    if let Some(tree) = parse_in_parts(text, file) {
        return Ok(tree);
    }
    match parse_part(text, 0, file) {
        Some(Ok(tree)) => Ok(tree),
        Some(Err(d)) => Err(d),
        None => Err(recover(text, file)),
    }
}

/// Parses `text[offset..]`-relative `part` as a whole file; `None` on a syntax error.
fn parse_part(
    part: &str,
    offset: usize,
    file: FileId,
) -> Option<Result<SourceTree, Vec<Diagnostic>>> {
    let mut pairs = MarketParser::parse(Rule::file, part).ok()?;
    let root = pairs.next().expect("pest returns the file rule");
    Some(Builder { file, offset }.file(root))
}

/// A large file split at top-level items and parsed in parallel. Each part must parse as a
/// sequence of whole items; if any part fails, `None`, and the caller parses the file as one
/// (so errors and any item that spans a split point are handled exactly as without splitting).
fn parse_in_parts(text: &str, file: FileId) -> Option<SourceTree> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    parse_in_n_parts(text, file, threads)
}

fn parse_in_n_parts(text: &str, file: FileId, threads: usize) -> Option<SourceTree> {
    if threads < 2 || text.len() < PARALLEL_BYTES {
        return None;
    }
    let starts: Vec<usize> = chunks(text).into_iter().map(|(s, _)| s).collect();
    let mut cuts = vec![0];
    for k in 1..threads {
        let target = text.len() * k / threads;
        // The first item start at column 0 after the target, so a part never starts mid-item.
        let cut = starts
            .iter()
            .copied()
            .find(|&s| s >= target && (s == 0 || text.as_bytes()[s - 1] == b'\n'))?;
        if cut > *cuts.last().unwrap() {
            cuts.push(cut);
        }
    }
    cuts.push(text.len());
    let parts: Vec<Option<Result<SourceTree, Vec<Diagnostic>>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = cuts
            .windows(2)
            .map(|w| {
                let (a, b) = (w[0], w[1]);
                scope.spawn(move || parse_part(&text[a..b], a, file))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("parser thread"))
            .collect()
    });
    let mut items = Vec::new();
    for part in parts {
        items.extend(part?.ok()?.items);
    }
    Some(SourceTree { items })
}

/// Parses every top-level chunk separately and reports each chunk's first error.
fn recover(text: &str, file: FileId) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (start, end) in chunks(text) {
        let chunk = &text[start..end];
        if let Err(e) = MarketParser::parse(Rule::item_only, chunk) {
            diags.push(syntax_error(e, chunk, start, text.len(), file));
        }
    }
    if diags.is_empty() {
        // The chunker saw no broken item, yet the whole file failed: report the whole-file error.
        if let Err(e) = MarketParser::parse(Rule::file, text) {
            diags.push(syntax_error(e, text, 0, text.len(), file));
        }
    }
    diags
}

const TOP_LEVEL: &[&str] = &[
    "import", "market", "qos", "weights", "provider", "user", "segment", "firm", "maximize",
    "subject", "table", "solve",
];

/// Byte ranges of top-level items: a new item starts at a line whose first word is a
/// top-level keyword, either at brace depth 0 or in the first column (which also ends an
/// unclosed block). Strings and comments are skipped.
fn chunks(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut starts = Vec::new();
    let mut depth: i64 = 0;
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        let c = bytes[i];
        if line_start {
            let indent = bytes[i..]
                .iter()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .count();
            let word_at = i + indent;
            let word_end = bytes[word_at..]
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                .map_or(bytes.len(), |p| word_at + p);
            let word = &text[word_at..word_end];
            if TOP_LEVEL.contains(&word) && (depth <= 0 || indent == 0) {
                starts.push(word_at);
                depth = 0;
            }
            line_start = false;
            continue;
        }
        match c {
            b'\n' => line_start = true,
            b'{' => depth += 1,
            b'}' => depth -= 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
    if starts.first() != Some(&0) {
        // Text before the first keyword is its own (broken) chunk, unless it is only trivia.
        starts.insert(0, 0);
    }
    let mut out = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let e = starts
            .get(k + 1)
            .copied()
            .unwrap_or(text.len())
            .min(text.len());
        if s < e {
            out.push((s, e));
        }
    }
    out
}

/// Human names for the rules pest says it expected.
fn rule_name(rule: &Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::import => "`import`",
        Rule::market => "`market`",
        Rule::qos => "`qos`",
        Rule::weights => "`weights`",
        Rule::provider => "`provider`",
        Rule::user => "`user`",
        Rule::segment => "`segment`",
        Rule::firm => "`firm`",
        Rule::maximize => "`maximize`",
        Rule::subject_to => "`subject to`",
        Rule::table => "`table`",
        Rule::solve => "`solve`",
        Rule::kw_import => "`import`",
        Rule::kw_market => "`market`",
        Rule::kw_qos => "`qos`",
        Rule::kw_weights => "`weights`",
        Rule::kw_weight => "`weight`",
        Rule::kw_provider => "`provider`",
        Rule::kw_user => "`user`",
        Rule::kw_segment => "`segment`",
        Rule::kw_firm => "`firm`",
        Rule::kw_owns => "`owns`",
        Rule::kw_maximize => "`maximize`",
        Rule::kw_subject => "`subject`",
        Rule::kw_to => "`to`",
        Rule::kw_table => "`table`",
        Rule::kw_from => "`from`",
        Rule::kw_unit => "`unit`",
        Rule::kw_solve => "`solve`",
        Rule::kw_chooser => "`chooser`",
        Rule::kw_congestion => "`congestion`",
        Rule::kw_pairwise => "`pairwise`",
        Rule::kw_default => "`default`",
        Rule::kw_in => "`in`",
        Rule::kw_step => "`step`",
        Rule::block => "a block `{ ... }`",
        Rule::stmt | Rule::target => "a field (`name = value`) or `}`",
        Rule::draw => "`~`",
        Rule::range => "`in`",
        Rule::index => "`[provider]`",
        Rule::value => "a value",
        Rule::quantity => "a number",
        Rule::number => "a number",
        Rule::unit => "a unit",
        Rule::distribution => "a distribution such as `normal(0, 1)`",
        Rule::dist_name => "a distribution name",
        Rule::dist_arg => "a number",
        Rule::ident | Rule::word | Rule::label => "a name",
        Rule::string | Rule::string_body => "a quoted string",
        Rule::name_list => "a provider name",
        Rule::qos_kind => "a unit or `congestion`",
        Rule::qos_default => "`default`",
        Rule::option | Rule::option_key => "an option (`key = value`)",
        Rule::call => "a call such as `profit(firm)`",
        Rule::lin_expr | Rule::term | Rule::factor => "an expression",
        Rule::sign | Rule::addop => "`+`/`-`",
        Rule::relop => "a comparison (`<=`, `>=`, `=`)",
        Rule::per_provider => "`per provider`",
        _ => return None,
    })
}

fn join_expected(mut names: Vec<&'static str>) -> String {
    names.sort_unstable();
    names.dedup();
    match names.len() {
        0 => "something else".to_string(),
        1 => names[0].to_string(),
        n => format!("{} or {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

fn syntax_error(
    e: pest::error::Error<Rule>,
    chunk: &str,
    offset: usize,
    full_len: usize,
    file: FileId,
) -> Diagnostic {
    let (start, end) = match e.location {
        InputLocation::Pos(p) => (p, p),
        InputLocation::Span((s, e)) => (s, e),
    };
    // Point at the offending token, not at an empty position.
    let token_len = chunk[start.min(chunk.len())..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .map(char::len_utf8)
        .sum::<usize>()
        .max(
            chunk[start.min(chunk.len())..]
                .chars()
                .next()
                .map_or(0, char::len_utf8),
        );
    let end = end.max(start + token_len).min(chunk.len());
    let found = chunk[start.min(chunk.len())..end].trim();
    let (expected, unexpected) = match &e.variant {
        ErrorVariant::ParsingError {
            positives,
            negatives,
        } => (
            positives.iter().filter_map(rule_name).collect::<Vec<_>>(),
            negatives.iter().filter_map(rule_name).collect::<Vec<_>>(),
        ),
        ErrorVariant::CustomError { .. } => (Vec::new(), Vec::new()),
    };
    let at_chunk_end = start >= chunk.trim_end().len();
    let found_text = if at_chunk_end && offset + chunk.len() < full_len {
        "the next declaration".to_string()
    } else if found.is_empty() {
        "end of file".to_string()
    } else {
        let short: String = found.chars().take(24).collect();
        format!("`{short}`")
    };
    let message = if !expected.is_empty() {
        format!("expected {}, found {found_text}", join_expected(expected))
    } else if !unexpected.is_empty() {
        format!("unexpected {}", join_expected(unexpected))
    } else {
        format!("unexpected {found_text}")
    };
    let help = syntax_help(found);
    Diagnostic::new(
        Code::Syntax,
        file,
        Span::new(start + offset, end + offset),
        message,
    )
    .label("here")
    .help(help)
}

fn syntax_help(found: &str) -> String {
    if found.starts_with('<') || found.starts_with('>') {
        "side constraints use `<=`, `>=` or `=`; strict inequalities are not linear-programmable"
            .to_string()
    } else if found.starts_with(',') || found.starts_with(';') {
        "fields in a block are separated by spaces or new lines, not by `,` or `;`".to_string()
    } else {
        "see docs/language.md for the form of each declaration".to_string()
    }
}

/// Builds AST nodes from pest pairs; `offset` shifts spans when parsing a chunk.
struct Builder {
    file: FileId,
    offset: usize,
}

type Diags = Vec<Diagnostic>;

impl Builder {
    /// The pair's span without the whitespace and comments pest may leave at its end
    /// (it keeps the skipped trivia when a trailing optional element fails).
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        let end = s.start() + token_extent(p.as_str());
        Span::new(s.start() + self.offset, end + self.offset)
    }

    fn file(&mut self, root: Pair<Rule>) -> Result<SourceTree, Diags> {
        let mut items = Vec::new();
        let mut diags = Vec::new();
        for p in root.into_inner() {
            if p.as_rule() == Rule::EOI {
                continue;
            }
            match self.item(p) {
                Ok(item) => items.push(item),
                Err(mut d) => diags.append(&mut d),
            }
        }
        if diags.is_empty() {
            Ok(SourceTree { items })
        } else {
            Err(diags)
        }
    }

    fn item(&self, p: Pair<Rule>) -> Result<Item, Diags> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut it = p
            .into_inner()
            .filter(|p| !is_keyword(p.as_rule()))
            .peekable();
        let kind = match rule {
            Rule::import => ItemKind::Import(self.string(it.next().unwrap())),
            Rule::market => ItemKind::Market {
                name: self.name(it.next().unwrap()),
                block: self.block(it.next().unwrap())?,
            },
            Rule::qos => {
                let name = self.name(it.next().unwrap());
                let kind_pair = it.next().unwrap();
                let kind = {
                    let kspan = self.span(&kind_pair);
                    let mut inner = kind_pair.into_inner();
                    match inner.next() {
                        Some(u) if u.as_rule() == Rule::unit => QosKindAst::Static {
                            unit: self.unit(u),
                            pairwise: inner.next().map(|k| self.span(&k)),
                        },
                        _ => QosKindAst::Congestion(kspan),
                    }
                };
                let default = match it.next() {
                    Some(d) => Some(self.quantity(d.into_inner().nth(1).unwrap())?),
                    None => None,
                };
                ItemKind::Qos {
                    name,
                    kind,
                    default,
                }
            }
            Rule::weights => ItemKind::Weights(self.block(it.next().unwrap())?),
            Rule::provider => ItemKind::Provider {
                name: self.name(it.next().unwrap()),
                block: self.block(it.next().unwrap())?,
            },
            Rule::user | Rule::segment => {
                let name = self.name(it.next().unwrap());
                let mut chooser = None;
                if it.peek().map(|p| p.as_rule()) == Some(Rule::kw_chooser) {
                    chooser = it.next().map(|k| self.span(&k));
                }
                let block_pair = it.next().unwrap();
                let block = self.block(block_pair)?;
                if rule == Rule::user {
                    ItemKind::User {
                        name,
                        chooser,
                        block,
                    }
                } else {
                    ItemKind::Segment {
                        name,
                        chooser,
                        block,
                    }
                }
            }
            Rule::firm => {
                let name = self.name(it.next().unwrap());
                let owns = it
                    .next()
                    .unwrap()
                    .into_inner()
                    .map(|n| self.name(n))
                    .collect();
                let block = match it.next() {
                    Some(b) => Some(self.block(b)?),
                    None => None,
                };
                ItemKind::Firm { name, owns, block }
            }
            Rule::maximize => ItemKind::Maximize(self.call(it.next().unwrap())),
            Rule::subject_to => {
                let mut label = None;
                if it.peek().map(|p| p.as_rule()) == Some(Rule::label) {
                    let l = it.next().unwrap();
                    label = Some(Name {
                        text: l.as_str().to_string(),
                        quoted: false,
                        span: self.span(&l),
                    });
                }
                let lhs = self.lin_expr(it.next().unwrap())?;
                let relation = match it.next().unwrap().as_str() {
                    "<=" => Relation::Le,
                    ">=" => Relation::Ge,
                    _ => Relation::Eq,
                };
                let rhs = self.lin_expr(it.next().unwrap())?;
                ItemKind::SubjectTo {
                    label,
                    lhs,
                    relation,
                    rhs,
                }
            }
            Rule::table => ItemKind::Table {
                target: self.name(it.next().unwrap()),
                path: self.string(it.next().unwrap()),
                unit: it.next().map(|u| self.unit(u)),
            },
            Rule::solve => {
                let method = self.name(it.next().unwrap());
                let mut options = Vec::new();
                for o in it {
                    let ospan = self.span(&o);
                    let mut oi = o.into_inner();
                    let k = oi.next().unwrap();
                    let key = Name {
                        text: k.as_str().to_string(),
                        quoted: false,
                        span: self.span(&k),
                    };
                    let value = self.value(oi.next().unwrap())?;
                    options.push(SolveOption {
                        key,
                        value,
                        span: ospan,
                    });
                }
                ItemKind::Solve { method, options }
            }
            other => unreachable!("not an item rule: {other:?}"),
        };
        Ok(Item { kind, span })
    }

    fn block(&self, p: Pair<Rule>) -> Result<Block, Diags> {
        let span = self.span(&p);
        let mut stmts = Vec::new();
        let mut diags = Vec::new();
        for s in p.into_inner() {
            match self.stmt(s) {
                Ok(s) => stmts.push(s),
                Err(mut d) => diags.append(&mut d),
            }
        }
        if diags.is_empty() {
            Ok(Block { stmts, span })
        } else {
            Err(diags)
        }
    }

    fn stmt(&self, p: Pair<Rule>) -> Result<Stmt, Diags> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let target = it.next().unwrap();
        let mut weight = None;
        let mut key = None;
        let mut index = None;
        for t in target.into_inner() {
            match t.as_rule() {
                Rule::kw_weight => weight = Some(self.span(&t)),
                Rule::ident | Rule::string => key = Some(self.name(t)),
                Rule::index => index = Some(self.name(t.into_inner().next().unwrap())),
                _ => {}
            }
        }
        let body_pair = it.next().unwrap();
        let body = match body_pair.as_rule() {
            Rule::value => StmtBody::Assign(self.value(body_pair)?),
            Rule::draw => {
                let mut d = body_pair.into_inner();
                let dist = self.distribution(d.next().unwrap())?;
                let per_provider = d.next().map(|pp| self.span(&pp));
                StmtBody::Draw { dist, per_provider }
            }
            Rule::range => {
                let mut r = body_pair.into_inner().filter(|p| !is_keyword(p.as_rule()));
                let lo = self.quantity(r.next().unwrap())?;
                let hi = self.quantity(r.next().unwrap())?;
                let step = match r.next() {
                    Some(s) => Some(self.quantity(s)?),
                    None => None,
                };
                StmtBody::Range { lo, hi, step }
            }
            other => unreachable!("not a statement body: {other:?}"),
        };
        Ok(Stmt {
            weight,
            key: key.expect("a target has a name"),
            index,
            body,
            span,
        })
    }

    fn value(&self, p: Pair<Rule>) -> Result<Value, Diags> {
        let inner = p.into_inner().next().unwrap();
        Ok(match inner.as_rule() {
            Rule::quantity => Value::Quantity(self.quantity(inner)?),
            Rule::string => Value::Str(self.string(inner)),
            _ => {
                let i = inner.into_inner().next().unwrap();
                Value::Word(Name {
                    text: i.as_str().to_string(),
                    quoted: false,
                    span: self.span(&i),
                })
            }
        })
    }

    fn quantity(&self, p: Pair<Rule>) -> Result<Quantity, Diags> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let number = self.number(it.next().unwrap())?;
        let unit = it.next().map(|u| self.unit(u));
        Ok(Quantity { number, unit, span })
    }

    fn number(&self, p: Pair<Rule>) -> Result<Number, Diags> {
        let span = self.span(&p);
        let text = p.as_str().to_string();
        let cleaned = text.replace('_', "");
        let value: f64 = cleaned.parse().map_err(|_| {
            vec![Diagnostic::new(
                Code::InvalidNumber,
                self.file,
                span,
                format!("`{text}` is not a number"),
            )
            .label("here")
            .help("write digits with an optional fraction and exponent, e.g. `1.5e3`")]
        })?;
        if !value.is_finite() && !cleaned.trim_start_matches('-').starts_with("inf") {
            return Err(vec![Diagnostic::new(
                Code::InvalidNumber,
                self.file,
                span,
                format!("`{text}` is too large to represent"),
            )
            .label("overflows a 64-bit float")
            .help("numbers must be below about 1.8e308; use a larger unit")]);
        }
        Ok(Number { text, value, span })
    }

    /// Reads the atomic `unit` token: words or `%`, joined by `/` or `per`.
    fn unit(&self, p: Pair<Rule>) -> UnitExpr {
        let span = self.span(&p);
        let text = p.as_str();
        let b = text.as_bytes();
        let mut atoms = Vec::new();
        let mut op = None;
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_whitespace() {
                i += 1;
            } else if c == b'/' {
                op = Some(UnitOp::Slash);
                i += 1;
            } else {
                let len = if c == b'%' {
                    1
                } else {
                    b[i..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'-')
                        .count()
                };
                let word = &text[i..i + len];
                if word == "per" && !atoms.is_empty() && op.is_none() {
                    op = Some(UnitOp::Per);
                } else {
                    let start = span.start + i;
                    atoms.push(UnitAtom {
                        op: op.take(),
                        word: Name {
                            text: word.to_string(),
                            quoted: false,
                            span: Span::new(start, start + len),
                        },
                    });
                }
                i += len.max(1);
            }
        }
        UnitExpr { atoms, span }
    }

    fn distribution(&self, p: Pair<Rule>) -> Result<Distribution, Diags> {
        let span = self.span(&p);
        let mut name = None;
        let mut args = Vec::new();
        let mut unit = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::dist_name => {
                    let i = x.into_inner().next().unwrap();
                    name = Some(Name {
                        text: i.as_str().to_string(),
                        quoted: false,
                        span: self.span(&i),
                    });
                }
                Rule::dist_arg => {
                    let aspan = self.span(&x);
                    let mut a = x.into_inner();
                    let value = self.number(a.next().unwrap())?;
                    let weight = match a.next() {
                        Some(w) => Some(self.quantity(w)?),
                        None => None,
                    };
                    args.push(DistArg {
                        value,
                        weight,
                        span: aspan,
                    });
                }
                Rule::unit => unit = Some(self.unit(x)),
                _ => {}
            }
        }
        Ok(Distribution {
            name: name.expect("a distribution has a name"),
            args,
            unit,
            span,
        })
    }

    fn lin_expr(&self, p: Pair<Rule>) -> Result<LinExpr, Diags> {
        let span = self.span(&p);
        let mut terms = Vec::new();
        let mut negative = false;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::sign | Rule::addop => negative = x.as_str() == "-",
                Rule::term => {
                    let tspan = self.span(&x);
                    let mut factors = Vec::new();
                    for f in x.into_inner() {
                        let inner = f.into_inner().next().unwrap();
                        factors.push(match inner.as_rule() {
                            Rule::call => Factor::Call(self.call(inner)),
                            _ => Factor::Quantity(self.quantity(inner)?),
                        });
                    }
                    terms.push(Term {
                        negative,
                        factors,
                        span: tspan,
                    });
                    negative = false;
                }
                _ => {}
            }
        }
        Ok(LinExpr { terms, span })
    }

    fn call(&self, p: Pair<Rule>) -> Call {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let func = self.name(it.next().unwrap());
        let arg = self.name(it.next().unwrap());
        Call { func, arg, span }
    }

    /// A name: the `ident` or `string` pair (`name` itself is silent).
    fn name(&self, p: Pair<Rule>) -> Name {
        match p.as_rule() {
            Rule::string => {
                let s = self.string(p);
                Name {
                    text: s.value,
                    quoted: true,
                    span: s.span,
                }
            }
            _ => Name {
                text: p.as_str().to_string(),
                quoted: false,
                span: self.span(&p),
            },
        }
    }

    fn string(&self, p: Pair<Rule>) -> StrLit {
        let span = self.span(&p);
        let raw = p.into_inner().next().map_or("", |b| b.as_str()).to_string();
        let value = raw.replace("\\\"", "\"").replace("\\\\", "\\");
        StrLit { value, raw, span }
    }
}

/// Length of `text` up to the end of its last token (not counting trailing trivia). Scans
/// back from the end, looking only at the last lines, so it costs little on large items.
fn token_extent(text: &str) -> usize {
    let b = text.as_bytes();
    let mut end = b.len();
    loop {
        while end > 0 && b[end - 1].is_ascii_whitespace() {
            end -= 1;
        }
        let line_start = b[..end]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1);
        match comment_start(&b[line_start..end]) {
            Some(c) => end = line_start + c,
            None => return end,
        }
    }
}

/// Where a `#` comment starts in one line, outside strings.
fn comment_start(line: &[u8]) -> Option<usize> {
    let mut in_string = false;
    let mut i = 0;
    while i < line.len() {
        match line[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'#' if !in_string => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_import
            | Rule::kw_market
            | Rule::kw_qos
            | Rule::kw_weights
            | Rule::kw_provider
            | Rule::kw_user
            | Rule::kw_segment
            | Rule::kw_firm
            | Rule::kw_owns
            | Rule::kw_maximize
            | Rule::kw_subject
            | Rule::kw_to
            | Rule::kw_table
            | Rule::kw_from
            | Rule::kw_unit
            | Rule::kw_solve
            | Rule::kw_in
            | Rule::kw_step
            | Rule::kw_default
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big_market(extra_at_end: &str) -> String {
        let mut s = String::from("market m { period = day }\nqos ttft : ms\n");
        for j in 0..6000 {
            s.push_str(&format!(
                "provider p{j} {{ price = 1 usd/mtok  capacity = 10 mtok  value = 2 usd/mtok  ttft = {j} ms }}  # c{j}\n"
            ));
        }
        s.push_str(extra_at_end);
        s
    }

    #[test]
    fn parsing_in_parts_gives_the_same_tree() {
        let text = big_market("user u { demand = 5 mtok }\n");
        assert!(text.len() >= PARALLEL_BYTES);
        let whole = parse_part(&text, 0, 0).unwrap().unwrap();
        for threads in [2, 3, 7] {
            assert_eq!(parse_in_n_parts(&text, 0, threads).as_ref(), Some(&whole));
        }
        assert_eq!(parse(&text, 0).unwrap(), whole);
    }

    #[test]
    fn an_item_continued_across_a_split_falls_back_to_one_parse() {
        // `weights = ...` at column 0 continues the `solve` item, and the split lands on it:
        // the second part alone cannot parse, so the file is parsed as one.
        let mut text = big_market("solve network k = 2\n");
        let prefix = text.len();
        text.push_str("weights = \"w.mpk\"\n");
        let total = 2 * prefix - 1;
        while text.len() + 100 < total {
            text.push_str(
                "provider q { price = 1 usd/mtok  capacity = 1 mtok  value = 1 usd/mtok }\n",
            );
        }
        text.push_str(&"#".repeat(total - text.len() - 1));
        text.push('\n');
        assert_eq!(text.len(), total);
        assert!(
            parse_in_n_parts(&text, 0, 2).is_none(),
            "the split is at the `weights` line"
        );
        let whole = parse_part(&text, 0, 0).unwrap().unwrap();
        assert_eq!(parse(&text, 0).unwrap(), whole);
        let ItemKind::Solve { options, .. } = &whole.items[6002].kind else {
            panic!("item 6002 is the solve directive");
        };
        assert_eq!(options.len(), 2);
    }

    #[test]
    fn syntax_errors_in_a_large_file_are_reported_as_without_parts() {
        let text = big_market("user u { demand == 5 mtok }\n");
        let errors = parse(&text, 0).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors, recover(&text, 0));
    }
}
