//! The `.market` language: parsing, checking, formatting, and lowering to numeric forms.
//!
//! text ──[`syntax`]──▶ syntax tree ──[`check`]──▶ checked market ──[`lower`]──▶ [`Instance`]

// Diagnostics are rich values returned on the cold path; boxing them buys nothing here.
#![allow(clippy::result_large_err)]

pub mod check;
pub mod diagnostics;
pub mod load;
pub mod lower;
pub mod syntax;

use std::path::PathBuf;

pub use check::Market;
use diagnostics::{Diagnostic, Sources};
pub use load::{FsLoader, Loader};
pub use lower::Instance;

/// The result of checking one market file: every file read, and the market or its errors.
pub struct Checked {
    pub sources: Sources,
    pub result: Result<Market, Vec<Diagnostic>>,
}

/// Parses and checks `text` (the contents of `path`), reading imports through `loader`.
pub fn check_text(path: PathBuf, text: String, loader: &dyn Loader) -> Checked {
    let mut sources = Sources::default();
    let result = load::load(path, text, loader, &mut sources)
        .and_then(|program| check::check(&program, &mut sources, loader));
    Checked { sources, result }
}

/// Checks and lowers to an [`Instance`].
pub fn compile_text(
    path: PathBuf,
    text: String,
    loader: &dyn Loader,
) -> (Sources, Result<Instance, Vec<Diagnostic>>) {
    let Checked { sources, result } = check_text(path, text, loader);
    let result = result.and_then(|m| lower::lower(&m));
    (sources, result)
}
pub mod fmt;
pub mod summary;
