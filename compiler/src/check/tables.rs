//! CSV tables of per-(user, provider) values: a header `user,PROVIDER,...` and one row per
//! user or segment. Errors point into the CSV file itself, at the offending cell. A table
//! sets a static QoS, `value`, or `observed` (flows per period, for `prillm calibrate`).

/// What a per-period table holds.
#[derive(Clone, Copy, PartialEq)]
enum PeriodTable {
    Flows,
    Prices,
    Qos(usize),
}

/// What a table's cells are.
#[derive(Clone, Copy)]
enum Cells {
    Qos(usize),
    Value,
    Observed,
}

use super::units::{self, Expect};
use super::*;
use crate::load::{io_reason, relative_to};
use crate::syntax::ast::{StrLit, UnitExpr};

impl Checker<'_> {
    pub(crate) fn table(
        &mut self,
        file: FileId,
        target: &Name,
        path: &StrLit,
        unit: Option<&UnitExpr>,
    ) {
        // What the cells are: a static QoS, per-user values of providers, or observed flows.
        let (cells, expect) = if target.text == "value" || target.text == "prices" {
            (Cells::Value, Expect::price())
        } else if target.text == "observed" {
            (Cells::Observed, Expect::volume(self.period_seconds))
        } else {
            let Some(k) = self.qos_ref(file, target) else {
                return;
            };
            if k >= self.market.qos.len() {
                return;
            }
            if self.market.qos[k].kind == QosKind::Congestion {
                self.err(
                    Diagnostic::new(
                        Code::NotStaticQos,
                        file,
                        target.span,
                        format!(
                            "`{}` is a congestion dimension: it is computed, not tabulated",
                            target.text
                        ),
                    )
                    .label("computed from load / capacity")
                    .help("tables set static QoS values (delays) or `value`"),
                );
                return;
            }
            (Cells::Qos(k), self.qos_expect(k))
        };
        // Cells are in the table's `unit`, or else in the target's own unit.
        let scale = match unit {
            Some(u) => {
                let Some(w) = self.lift(units::resolve_unit(u, file)) else {
                    return;
                };
                let Some(s) = self.lift(units::convert_value(
                    1.0,
                    Some(&w),
                    &expect,
                    (file, u.span),
                    "1",
                    "the table's unit",
                )) else {
                    return;
                };
                s
            }
            None => 1.0,
        };
        let csv_path = relative_to(&self.sources.get(file).path, &path.value);
        let text = match self.loader.read(&csv_path) {
            Ok(t) => t,
            Err(e) => {
                self.err(
                    Diagnostic::new(
                        Code::FileNotFound,
                        file,
                        path.span,
                        format!(
                            "cannot read `{}`: {}",
                            crate::diagnostics::display_path(&csv_path),
                            io_reason(&e)
                        ),
                    )
                    .label("named here")
                    .help("paths are relative to the market file"),
                );
                return;
            }
        };
        // The CSV becomes a source of its own so its cells can be pointed at.
        let csv_file = match self.sources.find(&csv_path) {
            Some(id) => id,
            None => self.sources.add(csv_path, text.clone()),
        };
        let long = text
            .split([',', '\n', '\r'])
            .next()
            .is_some_and(|h| h.trim().eq_ignore_ascii_case("period"));
        match (target.text.as_str(), long) {
            ("observed", true) => self.read_periods(csv_file, &text, scale, PeriodTable::Flows),
            ("prices", true) => self.read_periods(csv_file, &text, scale, PeriodTable::Prices),
            ("prices", false) => self.err(
                Diagnostic::new(
                    Code::CsvMalformed,
                    csv_file,
                    Span::new(0, 0),
                    "a prices table starts with a `period` column",
                )
                .label("header")
                .help("write the header as `period,PROVIDER_1,PROVIDER_2,...`, one row per period"),
            ),
            (_, true) => match cells {
                Cells::Qos(k) => self.read_periods(csv_file, &text, scale, PeriodTable::Qos(k)),
                _ => self.read_table(csv_file, &text, cells, scale),
            },
            _ => self.read_table(csv_file, &text, cells, scale),
        }
    }

    /// Per-period tables: observed flows `period,user,provider,tokens` (`flows`), or prices
    /// `period,PROVIDER,...` (one row per period).
    fn read_periods(&mut self, csv: FileId, text: &str, scale: f64, kind: PeriodTable) {
        let flows = kind == PeriodTable::Flows;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut header: Vec<Option<usize>> = Vec::new();
        let mut seen: HashMap<(String, usize, usize), Span> = HashMap::new();
        for (r, rec) in reader.records().enumerate() {
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    self.err(malformed(csv, &e));
                    return;
                }
            };
            let start = rec.position().map_or(0, |p| p.byte() as usize);
            let cells = cell_spans(text, start, rec.len());
            if r == 0 {
                if flows && rec.len() != 4 {
                    self.err(
                        Diagnostic::new(
                            Code::CsvMalformed,
                            csv,
                            line_span(text, start),
                            "an observed-flows table has four columns",
                        )
                        .label("header")
                        .help("write the header as `period,user,provider,tokens`"),
                    );
                    return;
                }
                if !flows {
                    header = self.provider_columns(csv, &rec, &cells);
                }
                continue;
            }
            let width = if flows { 4 } else { header.len() + 1 };
            if rec.len() != width {
                self.err(row_width(csv, text, start, rec.len(), width));
                continue;
            }
            let period = rec.get(0).unwrap_or("").trim().to_string();
            if period.is_empty() {
                self.err(
                    Diagnostic::new(Code::CsvMissingCell, csv, cells[0], "no period")
                        .label("empty cell")
                        .help("name the period (a date, `day1`, ...)"),
                );
                continue;
            }
            let number = |this: &mut Self, c: usize| -> Option<Num> {
                let cell = rec.get(c).unwrap_or("").trim();
                let v = cell
                    .replace('_', "")
                    .parse::<f64>()
                    .ok()
                    .filter(|v| (v * scale).is_finite() && *v >= 0.0);
                if v.is_none() {
                    this.err(
                        Diagnostic::new(
                            Code::CsvBadNumber,
                            csv,
                            cells[c],
                            format!("`{cell}` is not a non-negative number"),
                        )
                        .label("not a number ≥ 0")
                        .help("write plain numbers (`12.5`, `1e3`); the unit is the table's"),
                    );
                }
                v.map(|v| Num {
                    value: v * scale,
                    at: Self::loc(csv, cells[c]),
                })
            };
            if flows {
                let user = rec.get(1).unwrap_or("").trim();
                let provider = rec.get(2).unwrap_or("").trim();
                let Some(u) = self.user_ref(csv, user, cells[1]) else {
                    continue;
                };
                let Some(p) = self.provider_names.get(provider) else {
                    let help = self.provider_names.suggest(provider);
                    self.err(
                        Diagnostic::new(
                            Code::UnknownProvider,
                            csv,
                            cells[2],
                            format!("no provider named `{provider}`"),
                        )
                        .label("unknown provider")
                        .help(help.unwrap_or_else(|| "the third column names a provider".into())),
                    );
                    continue;
                };
                let Some(num) = number(self, 3) else { continue };
                if let Some(first) = seen.insert((period.clone(), u, p), cells[0]) {
                    self.err(
                        Diagnostic::new(
                            Code::DuplicateName,
                            csv,
                            line_span(text, start),
                            format!("period `{period}` has two rows for `{user}` and `{provider}`"),
                        )
                        .label("second row")
                        .related(csv, first, "first row")
                        .help("keep one row per (period, user, provider)"),
                    );
                    continue;
                }
                self.market.observed_periods.push((period, u, p, num));
            } else {
                for c in 1..width {
                    let Some(num) = number(self, c) else { continue };
                    if let Some(p) = header[c - 1] {
                        match kind {
                            PeriodTable::Qos(k) => {
                                self.market.period_qos.push((period.clone(), k, p, num))
                            }
                            _ => self.market.period_prices.push((period.clone(), p, num)),
                        }
                    }
                }
            }
        }
    }

    fn read_table(&mut self, csv: FileId, text: &str, cells_are: Cells, scale: f64) {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut providers: Vec<Option<usize>> = Vec::new();
        let mut width = 0;
        let mut rows_seen: HashMap<usize, Span> = HashMap::new();
        for (r, rec) in reader.records().enumerate() {
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    self.err(malformed(csv, &e));
                    return;
                }
            };
            let start = rec.position().map_or(0, |p| p.byte() as usize);
            let cells = cell_spans(text, start, rec.len());
            if r == 0 {
                width = rec.len();
                if width < 2 {
                    self.err(
                        Diagnostic::new(
                            Code::CsvMalformed,
                            csv,
                            cells[0],
                            "the header names no provider",
                        )
                        .label("header")
                        .help("write the header as `user,PROVIDER_1,PROVIDER_2,...`"),
                    );
                    return;
                }
                providers = self.provider_columns(csv, &rec, &cells);
                continue;
            }
            if rec.len() != width {
                self.err(row_width(csv, text, start, rec.len(), width));
                continue;
            }
            let user_name = rec.get(0).unwrap_or("").trim();
            let Some(u) = self.user_ref(csv, user_name, cells[0]) else {
                continue;
            };
            if let Some(first) = rows_seen.insert(u, cells[0]) {
                self.err(
                    Diagnostic::new(
                        Code::DuplicateName,
                        csv,
                        cells[0],
                        format!("user `{user_name}` has two rows"),
                    )
                    .label("second row")
                    .related(csv, first, "first row")
                    .help("keep one row per user"),
                );
                continue;
            }
            for (c, cell) in rec.iter().enumerate().skip(1) {
                let cell_t = cell.trim();
                let span = cells[c];
                if cell_t.is_empty() {
                    self.err(
                        Diagnostic::new(
                            Code::CsvMissingCell,
                            csv,
                            span,
                            format!("no value for user `{user_name}`"),
                        )
                        .label("empty cell")
                        .help("every cell of a table needs a number"),
                    );
                    continue;
                }
                let Some(v) = cell_t
                    .replace('_', "")
                    .parse::<f64>()
                    .ok()
                    .filter(|v| (v * scale).is_finite())
                else {
                    self.err(
                        Diagnostic::new(
                            Code::CsvBadNumber,
                            csv,
                            span,
                            format!("`{cell_t}` is not a number"),
                        )
                        .label("not a number")
                        .help("write plain numbers (`12.5`, `1e3`); the unit is the table's"),
                    );
                    continue;
                };
                let Some(p) = providers[c - 1] else { continue };
                let num = Num {
                    value: v * scale,
                    at: Self::loc(csv, span),
                };
                self.set_cell(u, cells_are, p, num);
            }
        }
        if width == 0 {
            self.err(
                Diagnostic::new(
                    Code::CsvMalformed,
                    csv,
                    Span::new(0, 0),
                    "the table is empty",
                )
                .label("no header")
                .help("write a header `user,PROVIDER,...` and one row per user"),
            );
        }
    }

    fn set_cell(&mut self, u: usize, cells: Cells, p: usize, num: Num) {
        match cells {
            Cells::Observed => {
                if num.value < 0.0 {
                    self.err(
                        Diagnostic::new(
                            Code::CsvBadNumber,
                            num.at.file,
                            num.at.span,
                            "an observed flow cannot be negative",
                        )
                        .label("negative flow")
                        .help("observed flows are tokens per period, zero or more"),
                    );
                    return;
                }
                self.market.observed.push((u, p, num));
            }
            Cells::Qos(k) => {
                if let Some(prev) = self.override_at.insert((u, k, p), num.at) {
                    self.err(
                        Diagnostic::new(
                            Code::DuplicateField,
                            num.at.file,
                            num.at.span,
                            "this value is also set elsewhere",
                        )
                        .label("set by the table")
                        .related(prev.file, prev.span, "set here too")
                        .help("give each (user, provider) value once"),
                    );
                    return;
                }
                self.market.users[u].qos_overrides.push((k, p, num));
            }
            Cells::Value => {
                if self.market.users[u].values.iter().any(|(q, _)| *q == p) {
                    self.err(
                        Diagnostic::new(
                            Code::DuplicateField,
                            num.at.file,
                            num.at.span,
                            "this value is also set in the user's block",
                        )
                        .label("set by the table")
                        .help("give each (user, provider) value once"),
                    );
                    return;
                }
                self.market.users[u].values.push((p, Param::Fixed(num)));
            }
        }
    }
}

/// Byte spans of the cells of the record starting at `start` (quotes included).
fn cell_spans(text: &str, start: usize, count: usize) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut spans = Vec::with_capacity(count);
    let mut i = start;
    let mut cell_start = start;
    let mut quoted = false;
    while i <= bytes.len() && spans.len() < count {
        let c = bytes.get(i).copied();
        match c {
            Some(b'"') => quoted = !quoted,
            Some(b',') if !quoted => {
                spans.push(Span::new(cell_start, i));
                cell_start = i + 1;
            }
            Some(b'\n') | Some(b'\r') | None if !quoted => {
                spans.push(Span::new(cell_start, i));
                break;
            }
            _ => {}
        }
        i += 1;
    }
    while spans.len() < count {
        spans.push(Span::new(i.min(bytes.len()), i.min(bytes.len())));
    }
    spans
}

impl Checker<'_> {
    /// The providers named by a header's cells after the first; an unknown one is reported
    /// at its cell (with a suggestion) and stands as `None`.
    fn provider_columns(
        &mut self,
        csv: FileId,
        rec: &csv::StringRecord,
        cells: &[Span],
    ) -> Vec<Option<usize>> {
        let mut out = Vec::new();
        for (c, name) in rec.iter().enumerate().skip(1) {
            let name = name.trim();
            let p = self.provider_names.get(name);
            if p.is_none() {
                let help = self.provider_names.suggest(name);
                self.err(
                    Diagnostic::new(
                        Code::UnknownProvider,
                        csv,
                        cells[c],
                        format!("no provider named `{name}`"),
                    )
                    .label("column of an unknown provider")
                    .help(help.unwrap_or_else(|| {
                        "each header cell after the first names a provider".into()
                    })),
                );
            }
            out.push(p);
        }
        out
    }
}

/// A CSV record the reader cannot parse, at the byte where it failed.
fn malformed(csv: FileId, e: &csv::Error) -> Diagnostic {
    let at = e.position().map_or(0, |p| p.byte() as usize);
    Diagnostic::new(
        Code::CsvMalformed,
        csv,
        Span::new(at, at + 1),
        format!("malformed CSV: {e}"),
    )
    .label("here")
    .help("a table is comma-separated text with a header row")
}

/// A row with another number of cells than the header.
fn row_width(csv: FileId, text: &str, start: usize, cells: usize, width: usize) -> Diagnostic {
    Diagnostic::new(
        Code::CsvMalformed,
        csv,
        line_span(text, start),
        format!("row has {cells} cells, the header has {width}"),
    )
    .label("wrong number of cells")
    .help("every row has one cell per header column")
}

fn line_span(text: &str, start: usize) -> Span {
    let end = text[start.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |e| start + e);
    Span::new(start, end.max(start))
}
