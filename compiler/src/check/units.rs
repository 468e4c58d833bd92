//! Units and dimensions. A unit is a dimension (exponents of money, tokens and time) and a
//! scale to the base units usd, tok and s. Quantities are converted to each slot's canonical
//! unit; a quantity of another dimension is an error, never a silent rescale.

use std::fmt;

use crate::diagnostics::{did_you_mean, Code, Diagnostic, FileId};
use crate::syntax::ast::{Quantity, UnitExpr, UnitOp};

/// Exponents of (money, tokens, time).
pub type Dim = [i8; 3];

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unit {
    pub dim: Dim,
    /// Size of one of this unit in base units (usd, tok, s).
    pub scale: f64,
}

/// Unit words the language knows, with their meaning in base units.
pub const ATOMS: &[(&str, Unit)] = &[
    ("usd", Unit::new([1, 0, 0], 1.0)),
    ("tok", Unit::new([0, 1, 0], 1.0)),
    ("ktok", Unit::new([0, 1, 0], 1e3)),
    ("mtok", Unit::new([0, 1, 0], 1e6)),
    ("btok", Unit::new([0, 1, 0], 1e9)),
    ("ms", Unit::new([0, 0, 1], 1e-3)),
    ("s", Unit::new([0, 0, 1], 1.0)),
    ("min", Unit::new([0, 0, 1], 60.0)),
    ("hour", Unit::new([0, 0, 1], 3600.0)),
    ("day", Unit::new([0, 0, 1], 86_400.0)),
    ("week", Unit::new([0, 0, 1], 604_800.0)),
    ("%", Unit::new([0, 0, 0], 0.01)),
];

/// Market periods, in seconds. A month is 30 days.
pub const PERIODS: &[(&str, f64)] = &[
    ("hour", 3600.0),
    ("day", 86_400.0),
    ("week", 604_800.0),
    ("month", 2_592_000.0),
];

impl Unit {
    pub const fn new(dim: Dim, scale: f64) -> Self {
        Unit { dim, scale }
    }
    pub const ONE: Unit = Unit::new([0, 0, 0], 1.0);
    /// usd/mtok, the unit of prices, values, costs and weighted costs.
    pub const PRICE: Unit = Unit::new([1, -1, 0], 1e-6);
    /// mtok, the unit of demands, capacities and loads (per period).
    pub const VOLUME: Unit = Unit::new([0, 1, 0], 1e6);
    /// tok/s, the unit of throughput ratings.
    pub const THROUGHPUT: Unit = Unit::new([0, 1, -1], 1.0);
    /// s, the unit of solver time limits.
    pub const SECONDS: Unit = Unit::new([0, 0, 1], 1.0);

    pub fn per(self, other: Unit) -> Unit {
        Unit::new(
            [
                self.dim[0] - other.dim[0],
                self.dim[1] - other.dim[1],
                self.dim[2] - other.dim[2],
            ],
            self.scale / other.scale,
        )
    }
    pub fn times(self, other: Unit) -> Unit {
        Unit::new(
            [
                self.dim[0] + other.dim[0],
                self.dim[1] + other.dim[1],
                self.dim[2] + other.dim[2],
            ],
            self.scale * other.scale,
        )
    }
    pub fn is_dimensionless(self) -> bool {
        self.dim == [0, 0, 0]
    }
}

/// What a dimension is called in messages.
pub fn describe(dim: Dim) -> String {
    match dim {
        [0, 0, 0] => "a plain number or percentage".into(),
        [1, -1, 0] => "a price (usd/mtok)".into(),
        [0, 1, 0] => "a token volume (tok, ktok, mtok, btok)".into(),
        [0, 0, 1] => "a time (ms, s)".into(),
        [0, 1, -1] => "a token rate (tok/s, or mtok/day)".into(),
        [1, 0, 0] => "an amount of money (usd)".into(),
        [1, -1, -1] => "a price per unit of time (usd/mtok per ms)".into(),
        [1, -2, 1] => "a price per token rate (usd/mtok per tok/s)".into(),
        _ => format!("a quantity of dimension {}", dim_string(dim)),
    }
}

fn dim_string(dim: Dim) -> String {
    let mut num = Vec::new();
    let mut den = Vec::new();
    for (name, e) in ["usd", "tok", "s"].iter().zip(dim) {
        let part = if e.abs() == 1 {
            name.to_string()
        } else {
            format!("{name}^{}", e.abs())
        };
        match e.signum() {
            1 => num.push(part),
            -1 => den.push(part),
            _ => {}
        }
    }
    let n = if num.is_empty() {
        "1".to_string()
    } else {
        num.join("·")
    };
    if den.is_empty() {
        n
    } else {
        format!("{n}/{}", den.join("·"))
    }
}

/// A unit as written, resolved. Carries the display text for messages.
#[derive(Clone, Debug, PartialEq)]
pub struct WrittenUnit {
    pub unit: Unit,
    pub text: String,
}

impl fmt::Display for WrittenUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The canonical text of a unit expression: `usd/mtok per ms`.
pub fn unit_text(u: &UnitExpr) -> String {
    let mut s = String::new();
    for a in &u.atoms {
        match a.op {
            None => {}
            Some(UnitOp::Slash) => s.push('/'),
            Some(UnitOp::Per) => s.push_str(" per "),
        }
        s.push_str(&a.word.text);
    }
    s
}

pub fn resolve_unit(u: &UnitExpr, file: FileId) -> Result<WrittenUnit, Diagnostic> {
    let mut acc: Option<Unit> = None;
    for a in &u.atoms {
        let Some((_, atom)) = ATOMS.iter().find(|(n, _)| *n == a.word.text) else {
            let help = did_you_mean(&a.word.text, ATOMS.iter().map(|(n, _)| *n)).unwrap_or_else(|| {
                "units are usd, tok, ktok, mtok, btok, ms, s, min, hour, day, week and %, joined with `/` or `per`"
                    .to_string()
            });
            return Err(Diagnostic::new(
                Code::UnknownUnit,
                file,
                a.word.span,
                format!("unknown unit `{}`", a.word.text),
            )
            .label("not a unit")
            .help(help));
        };
        acc = Some(match acc {
            None => *atom,
            Some(prev) => prev.per(*atom),
        });
    }
    Ok(WrittenUnit {
        unit: acc.unwrap_or(Unit::ONE),
        text: unit_text(u),
    })
}

/// What a slot expects: its canonical unit and how to name it.
#[derive(Clone, Debug)]
pub struct Expect {
    pub unit: Unit,
    /// The canonical unit's text, for help lines (`usd/mtok`).
    pub text: String,
    /// Accept a rate (tokens per time) and multiply it by the market period.
    pub per_period: Option<f64>,
    /// Let `inf` through (price bounds report it with their own diagnostic).
    pub allow_infinite: bool,
}

impl Expect {
    pub fn new(unit: Unit, text: impl Into<String>) -> Self {
        Expect {
            unit,
            text: text.into(),
            per_period: None,
            allow_infinite: false,
        }
    }
    pub fn price() -> Self {
        Expect::new(Unit::PRICE, "usd/mtok")
    }
    pub fn volume(period_seconds: f64) -> Self {
        Expect {
            per_period: Some(period_seconds),
            ..Expect::new(Unit::VOLUME, "mtok")
        }
    }
    pub fn fraction() -> Self {
        Expect::new(Unit::ONE, "%")
    }
}

/// The factor that takes a number written in `written` (or in no unit) to `expect`'s
/// canonical unit; `None` when the dimensions differ.
fn factor(written: Option<&WrittenUnit>, expect: &Expect) -> Option<f64> {
    let Some(w) = written else {
        return expect
            .unit
            .is_dimensionless()
            .then(|| 1.0 / expect.unit.scale);
    };
    if w.unit.dim == expect.unit.dim {
        return Some(w.unit.scale / expect.unit.scale);
    }
    let period = expect.per_period?;
    (w.unit.dim == expect.unit.per(Unit::SECONDS).dim)
        .then(|| w.unit.scale * period / expect.unit.scale)
}

/// Converts a written value in `written` (or none) to `expect`'s canonical unit; the result
/// is finite unless `expect` allows infinity.
pub fn convert_value(
    value: f64,
    written: Option<&WrittenUnit>,
    expect: &Expect,
    at: (FileId, crate::diagnostics::Span),
    number_text: &str,
    what: &str,
) -> Result<f64, Diagnostic> {
    let (file, span) = at;
    let Some(f) = factor(written, expect) else {
        return Err(match written {
            None => Diagnostic::new(Code::MissingUnit, file, span, format!("{what} needs a unit"))
                .label(format!("expected {}", describe(expect.unit.dim)))
                .help(format!("write it with its unit, e.g. `{number_text} {}`", expect.text)),
            Some(w) => Diagnostic::new(
                Code::UnitMismatch,
                file,
                span,
                format!("{what} must be {}, found `{}`", describe(expect.unit.dim), w.text),
            )
            .label(format!("this is {}", describe(w.unit.dim)))
            .help(format!(
                "write it in {} (prillm converts between units of one dimension, never across dimensions)",
                expect.text
            )),
        });
    };
    let v = value * f;
    if v.is_finite() || (expect.allow_infinite && value.is_infinite()) {
        return Ok(v);
    }
    Err(Diagnostic::new(
        Code::InvalidNumber,
        file,
        span,
        format!("{what} is not a finite number in {}", expect.text),
    )
    .label(if value.is_finite() {
        "overflows once converted"
    } else {
        "not finite"
    })
    .help("give a finite figure; use a larger unit for very large ones"))
}

/// Converts a quantity to `expect`'s canonical unit.
pub fn convert(q: &Quantity, expect: &Expect, file: FileId, what: &str) -> Result<f64, Diagnostic> {
    let written = match &q.unit {
        Some(u) => Some(resolve_unit(u, file)?),
        None => None,
    };
    convert_value(
        q.number.value,
        written.as_ref(),
        expect,
        (file, q.span),
        &q.number.text,
        what,
    )
}
