//! The syntax tree: what the user wrote, with byte spans, and no meaning yet.

use crate::diagnostics::Span;

/// A name: an identifier, or a quoted string for names with other characters
/// (`"deepseek/deepseek-v4-flash"`).
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    pub text: String,
    pub quoted: bool,
    pub span: Span,
}

/// A number as written (the formatter keeps the spelling) and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    pub text: String,
    pub value: f64,
    pub span: Span,
}

/// How a unit atom joins the one before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitOp {
    /// `usd/mtok`
    Slash,
    /// `usd/mtok per ms`
    Per,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UnitAtom {
    /// `None` for the first atom.
    pub op: Option<UnitOp>,
    pub word: Name,
}

/// A unit expression such as `usd/mtok per ms`: atoms divided left to right.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitExpr {
    pub atoms: Vec<UnitAtom>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    pub number: Number,
    pub unit: Option<UnitExpr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StrLit {
    pub value: String,
    /// As written, between the quotes.
    pub raw: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Quantity(Quantity),
    Str(StrLit),
    Word(Name),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Quantity(q) => q.span,
            Value::Str(s) => s.span,
            Value::Word(w) => w.span,
        }
    }
}

/// One argument of a distribution; `weight` only in `discrete(1 @ 30%, ...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct DistArg {
    pub value: Number,
    pub weight: Option<Quantity>,
    pub span: Span,
}

/// `lognormal(-7.8, 0.5) usd/mtok per ms`: the unit applies to the drawn values.
#[derive(Clone, Debug, PartialEq)]
pub struct Distribution {
    pub name: Name,
    pub args: Vec<DistArg>,
    pub unit: Option<UnitExpr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtBody {
    /// `key = value`
    Assign(Value),
    /// `key ~ dist [per provider]`
    Draw {
        dist: Distribution,
        per_provider: Option<Span>,
    },
    /// `key in lo .. hi [step s]`
    Range {
        lo: Quantity,
        hi: Quantity,
        step: Option<Quantity>,
    },
}

/// A statement in a block: `[weight] key[index] (= value | ~ dist | in range)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// The span of the `weight` keyword, for `weight ttft = ...`.
    pub weight: Option<Span>,
    pub key: Name,
    pub index: Option<Name>,
    pub body: StmtBody,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum QosKindAst {
    Congestion(Span),
    Static {
        unit: UnitExpr,
        pairwise: Option<Span>,
    },
}

/// `profit(zai)`, `price(glm)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub func: Name,
    pub arg: Name,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Factor {
    Call(Call),
    Quantity(Quantity),
}

impl Factor {
    pub fn span(&self) -> Span {
        match self {
            Factor::Call(c) => c.span,
            Factor::Quantity(q) => q.span,
        }
    }
}

/// A product of factors with a sign.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    pub negative: bool,
    pub factors: Vec<Factor>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LinExpr {
    pub terms: Vec<Term>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    Le,
    Ge,
    Eq,
}

impl Relation {
    pub fn symbol(self) -> &'static str {
        match self {
            Relation::Le => "<=",
            Relation::Ge => ">=",
            Relation::Eq => "=",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SolveOption {
    pub key: Name,
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    Import(StrLit),
    Market {
        name: Name,
        block: Block,
    },
    Qos {
        name: Name,
        kind: QosKindAst,
        default: Option<Quantity>,
    },
    Weights(Block),
    Provider {
        name: Name,
        block: Block,
    },
    User {
        name: Name,
        chooser: Option<Span>,
        block: Block,
    },
    Segment {
        name: Name,
        chooser: Option<Span>,
        block: Block,
    },
    Firm {
        name: Name,
        owns: Vec<Name>,
        block: Option<Block>,
    },
    Maximize(Call),
    SubjectTo {
        label: Option<Name>,
        lhs: LinExpr,
        relation: Relation,
        rhs: LinExpr,
    },
    Table {
        target: Name,
        path: StrLit,
        unit: Option<UnitExpr>,
    },
    Solve {
        method: Name,
        options: Vec<SolveOption>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

/// One parsed `.market` file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceTree {
    pub items: Vec<Item>,
}
