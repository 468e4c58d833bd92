//! The canonical formatter. It prints the syntax tree, keeps numbers as written, keeps every
//! comment (own-line comments before the node they precede, trailing comments after the line
//! they end), keeps one blank line where the source had any, and keeps a block on one line
//! when the source had it on one line and it fits.

use crate::diagnostics::{Diagnostic, Span};
use crate::syntax::ast::*;
use crate::syntax::parse;

const WIDTH: usize = 100;

/// Formats a file; syntax errors are returned as diagnostics and nothing is printed.
pub fn format(text: &str, file: usize) -> Result<String, Vec<Diagnostic>> {
    let tree = parse(text, file)?;
    let mut f = Formatter {
        src: text,
        comments: comments(text),
        next: 0,
        out: String::new(),
    };
    f.items(&tree.items);
    Ok(f.out)
}

/// `# ...` comments outside strings, as byte spans.
fn comments(text: &str) -> Vec<Span> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'#' => {
                let start = i;
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                out.push(Span::new(start, i));
            }
            _ => i += 1,
        }
    }
    out
}

struct Formatter<'a> {
    src: &'a str,
    comments: Vec<Span>,
    /// The first comment not yet printed.
    next: usize,
    out: String,
}

impl Formatter<'_> {
    fn comment_text(&self, c: Span) -> &str {
        self.src[c.start..c.end].trim_end()
    }

    /// Whether the source has a blank line between `a` and `b`.
    fn blank_between(&self, a: usize, b: usize) -> bool {
        let gap = &self.src[a.min(b)..b];
        gap.split('\n')
            .skip(1)
            .collect::<Vec<_>>()
            .split_last()
            .is_some_and(|(_, mid)| mid.iter().any(|l| l.trim().is_empty()))
    }

    /// Prints the comments that start before `pos` as own lines, at `indent`.
    fn leading(&mut self, pos: usize, indent: &str, mut prev_end: Option<usize>) {
        let before = self.next;
        while self.next < self.comments.len() && self.comments[self.next].start < pos {
            let c = self.comments[self.next];
            if let Some(p) = prev_end {
                if self.blank_between(p, c.start) && !self.out.ends_with("{\n") {
                    self.out.push('\n');
                }
            }
            let text = self.comment_text(c).to_string();
            self.out.push_str(indent);
            self.out.push_str(&text);
            self.out.push('\n');
            prev_end = Some(c.end);
            self.next += 1;
        }
        // Keep a blank line between a comment group and the node it precedes.
        if self.next > before && pos != usize::MAX && indent.is_empty() {
            if let Some(p) = prev_end {
                if self.blank_between(p, pos) {
                    self.out.push('\n');
                }
            }
        }
    }

    /// Appends the comment that ends the line of `end`, if any.
    fn trailing(&mut self, end: usize) {
        if self.next < self.comments.len() {
            let c = self.comments[self.next];
            if !self.src[end..c.start].contains('\n') {
                let text = self.comment_text(c).to_string();
                self.out.push_str("  ");
                self.out.push_str(&text);
                self.next += 1;
            }
        }
    }

    fn has_comment_in(&self, span: Span) -> bool {
        self.comments[self.next..]
            .iter()
            .any(|c| c.start >= span.start && c.start < span.end)
    }

    /// Before a node: one blank line where the source had one since `prev_end`, then the
    /// comments that precede the node.
    fn before_node(&mut self, prev_end: Option<usize>, start: usize, indent: &str) {
        if let Some(p) = prev_end {
            let first_pos = self
                .comments
                .get(self.next)
                .filter(|c| c.start < start)
                .map_or(start, |c| c.start);
            if self.blank_between(p, first_pos) {
                self.out.push('\n');
            }
        }
        self.leading(start, indent, None);
    }

    fn items(&mut self, items: &[Item]) {
        let mut prev_end: Option<usize> = None;
        for item in items {
            self.before_node(prev_end, item.span.start, "");
            self.item(item);
            self.trailing(item.span.end);
            self.out.push('\n');
            prev_end = Some(item.span.end);
        }
        self.leading(usize::MAX, "", prev_end);
    }

    fn item(&mut self, item: &Item) {
        match &item.kind {
            ItemKind::Import(s) => self.out.push_str(&format!("import {}", string(s))),
            ItemKind::Market { name, block } => {
                self.block_item(&format!("market {}", name_text(name)), block)
            }
            ItemKind::Qos {
                name,
                kind,
                default,
            } => {
                let mut s = format!("qos {} : ", name_text(name));
                match kind {
                    QosKindAst::Congestion(_) => s.push_str("congestion"),
                    QosKindAst::Static { unit, pairwise } => {
                        s.push_str(&unit_text(unit));
                        if pairwise.is_some() {
                            s.push_str(" pairwise");
                        }
                    }
                }
                if let Some(d) = default {
                    s.push_str(&format!(" default {}", quantity(d)));
                }
                self.out.push_str(&s);
            }
            ItemKind::Weights(block) => self.block_item("weights", block),
            ItemKind::Provider { name, block } => {
                self.block_item(&format!("provider {}", name_text(name)), block)
            }
            ItemKind::User {
                name,
                chooser,
                block,
            }
            | ItemKind::Segment {
                name,
                chooser,
                block,
            } => {
                let kw = if matches!(item.kind, ItemKind::User { .. }) {
                    "user"
                } else {
                    "segment"
                };
                let c = if chooser.is_some() { " chooser" } else { "" };
                self.block_item(&format!("{kw} {}{c}", name_text(name)), block)
            }
            ItemKind::Firm { name, owns, block } => {
                let owned: Vec<String> = owns.iter().map(name_text).collect();
                let head = format!("firm {} owns {}", name_text(name), owned.join(", "));
                match block {
                    Some(b) => self.block_item(&head, b),
                    None => self.out.push_str(&head),
                }
            }
            ItemKind::Maximize(c) => self.out.push_str(&format!("maximize {}", call(c))),
            ItemKind::SubjectTo {
                label,
                lhs,
                relation,
                rhs,
            } => {
                let l = label
                    .as_ref()
                    .map_or(String::new(), |l| format!("{}: ", l.text));
                self.out.push_str(&format!(
                    "subject to {l}{} {} {}",
                    expr(lhs),
                    relation.symbol(),
                    expr(rhs)
                ));
            }
            ItemKind::Table { target, path, unit } => {
                let mut s = format!("table {} from {}", name_text(target), string(path));
                if let Some(u) = unit {
                    s.push_str(&format!(" unit {}", unit_text(u)));
                }
                self.out.push_str(&s);
            }
            ItemKind::Solve { method, options } => {
                let mut s = format!("solve {}", name_text(method));
                for o in options {
                    s.push_str(&format!(" {} = {}", o.key.text, value(&o.value)));
                }
                self.out.push_str(&s);
            }
        }
    }

    fn block_item(&mut self, head: &str, block: &Block) {
        let stmts: Vec<String> = block.stmts.iter().map(stmt).collect();
        let one_line_src = !self.src[block.span.start..block.span.end].contains('\n');
        let one_line = if stmts.is_empty() {
            format!("{head} {{}}")
        } else {
            format!("{head} {{ {} }}", stmts.join("  "))
        };
        if (one_line_src || stmts.is_empty())
            && !self.has_comment_in(block.span)
            && one_line.len() <= WIDTH
        {
            self.out.push_str(&one_line);
            return;
        }
        self.out.push_str(head);
        self.out.push_str(" {");
        // A comment on the line of the opening brace stays there.
        self.trailing(block.span.start + 1);
        self.out.push('\n');
        let mut prev_end: Option<usize> = None;
        for (s, text) in block.stmts.iter().zip(&stmts) {
            self.before_node(prev_end, s.span.start, "  ");
            self.out.push_str("  ");
            self.out.push_str(text);
            self.trailing(s.span.end);
            self.out.push('\n');
            prev_end = Some(s.span.end);
        }
        self.leading(block.span.end - 1, "  ", prev_end);
        self.out.push('}');
    }
}

fn name_text(n: &Name) -> String {
    if n.quoted {
        format!("\"{}\"", n.text.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        n.text.clone()
    }
}

fn string(s: &StrLit) -> String {
    format!("\"{}\"", s.raw)
}

fn unit_text(u: &UnitExpr) -> String {
    crate::check::units::unit_text(u)
}

fn quantity(q: &Quantity) -> String {
    match &q.unit {
        Some(u) => {
            let ut = unit_text(u);
            if ut == "%" {
                format!("{}%", q.number.text)
            } else {
                format!("{} {ut}", q.number.text)
            }
        }
        None => q.number.text.clone(),
    }
}

fn value(v: &Value) -> String {
    match v {
        Value::Quantity(q) => quantity(q),
        Value::Str(s) => string(s),
        Value::Word(w) => w.text.clone(),
    }
}

fn stmt(s: &Stmt) -> String {
    let mut out = String::new();
    if s.weight.is_some() {
        out.push_str("weight ");
    }
    out.push_str(&name_text(&s.key));
    if let Some(i) = &s.index {
        out.push_str(&format!("[{}]", name_text(i)));
    }
    match &s.body {
        StmtBody::Assign(v) => out.push_str(&format!(" = {}", value(v))),
        StmtBody::Draw { dist, per_provider } => {
            out.push_str(&format!(" ~ {}", distribution(dist)));
            if per_provider.is_some() {
                out.push_str(" per provider");
            }
        }
        StmtBody::Range { lo, hi, step } => {
            out.push_str(&format!(" in {} .. {}", quantity(lo), quantity(hi)));
            if let Some(s) = step {
                out.push_str(&format!(" step {}", quantity(s)));
            }
        }
    }
    out
}

fn distribution(d: &Distribution) -> String {
    let args: Vec<String> = d
        .args
        .iter()
        .map(|a| match &a.weight {
            Some(w) => format!("{} @ {}", a.value.text, quantity(w)),
            None => a.value.text.clone(),
        })
        .collect();
    let mut s = format!("{}({})", d.name.text, args.join(", "));
    if let Some(u) = &d.unit {
        s.push(' ');
        s.push_str(&unit_text(u));
    }
    s
}

fn call(c: &Call) -> String {
    format!("{}({})", c.func.text, name_text(&c.arg))
}

fn expr(e: &LinExpr) -> String {
    let mut out = String::new();
    for (i, t) in e.terms.iter().enumerate() {
        let factors: Vec<String> = t
            .factors
            .iter()
            .map(|f| match f {
                Factor::Call(c) => call(c),
                Factor::Quantity(q) => quantity(q),
            })
            .collect();
        match (i, t.negative) {
            (0, true) => out.push('-'),
            (0, false) => {}
            (_, true) => out.push_str(" - "),
            (_, false) => out.push_str(" + "),
        }
        out.push_str(&factors.join(" * "));
    }
    out
}
