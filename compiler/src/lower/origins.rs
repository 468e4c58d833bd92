//! Where each provider, user, firm and side constraint was declared, as `file:line:col`,
//! so lowered forms (an LP file's names map) can point back to the market's text.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::check::{Loc, Market};
use crate::diagnostics::{display_path, line_col, Sources};

#[derive(Clone, Debug, Default, Serialize)]
pub struct Origins {
    pub providers: Vec<String>,
    /// By user (segment) name; a segment's draws share it.
    pub users: BTreeMap<String, String>,
    pub firms: Vec<String>,
    pub constraints: Vec<String>,
}

impl Origins {
    pub fn of(market: &Market, sources: &Sources) -> Self {
        let at = |loc: Loc| {
            let file = sources.get(loc.file);
            let (line, col) = line_col(&file.text, loc.span.start);
            format!("{}:{line}:{col}", display_path(&file.path))
        };
        Origins {
            providers: market.providers.iter().map(|p| at(p.at)).collect(),
            users: market
                .users
                .iter()
                .map(|u| (u.name.clone(), at(u.at)))
                .collect(),
            firms: market.firms.iter().map(|f| at(f.at)).collect(),
            constraints: market.constraints.iter().map(|c| at(c.at)).collect(),
        }
    }
}
