//! Syntax: text → [`ast::SourceTree`] with spans, no meaning.

pub mod ast;
mod parse;

pub use parse::parse;
