//! No drift between the language and its editor support: every keyword of
//! grammar/market.pest and every unit word of the checker is known to the TextMate grammar
//! (VS Code), the tree-sitter grammar (and so Helix) and the Vim syntax, and each editor's
//! own tests exercise every unit word.

use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The words of the `kw_*` rules: `kw_import = @{ "import" ~ !ident_char }`.
fn keywords() -> Vec<String> {
    let pest = read("grammar/market.pest");
    let words: Vec<String> = pest
        .lines()
        .filter(|l| l.trim_start().starts_with("kw_"))
        .filter_map(|l| l.split('"').nth(1).map(str::to_string))
        .collect();
    assert!(
        words.len() >= 20,
        "kw_ rules not found in market.pest: {words:?}"
    );
    words
}

fn units() -> Vec<&'static str> {
    prillm_compiler::check::units::ATOMS
        .iter()
        .map(|(w, _)| *w)
        .collect()
}

/// `word` appears as a whole word (letters, digits, `_` around it are not part of it).
fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        let part = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !part(before) && !part(after)
    })
}

/// A complete market whose provider is called `name`.
fn market_with_provider(name: &str) -> Result<(), String> {
    let text = format!(
        "market m {{ period = day }}\n\
         provider {name} {{ price = 1 usd/mtok value = 1 usd/mtok capacity = 1 mtok }}\n\
         user u {{ demand = 1 mtok }}\n"
    );
    let checked =
        prillm_compiler::check_text("reserved.market".into(), text, &prillm_compiler::FsLoader);
    checked
        .result
        .map(|_| ())
        .map_err(|d| format!("{:?}", d[0].code))
}

#[test]
fn every_keyword_is_reserved_by_the_parser() {
    // The parser refuses each kw_ word as a name, so the editors' keyword lists and the
    // parser agree on what a keyword is.
    assert_eq!(market_with_provider("ordinary"), Ok(()));
    for kw in keywords() {
        assert!(
            market_with_provider(&kw).is_err(),
            "`{kw}` is accepted as a provider name"
        );
    }
}

#[test]
fn every_editor_knows_every_keyword() {
    let textmate = read("editors/vscode/syntaxes/market.tmLanguage.json");
    let tree_sitter = read("editors/tree-sitter-market/grammar.js");
    let highlights = read("editors/tree-sitter-market/queries/highlights.scm");
    let vim = read("editors/vim/syntax/market.vim");
    let vim_keywords: String = vim
        .lines()
        .filter(|l| {
            l.starts_with("syn keyword marketDeclaration")
                || l.starts_with("syn keyword marketKeyword")
        })
        .collect::<Vec<_>>()
        .join(" ");
    for kw in keywords() {
        assert!(
            has_word(&textmate, &kw),
            "the TextMate grammar lacks `{kw}`"
        );
        assert!(
            tree_sitter.contains(&format!("'{kw}'")),
            "grammar.js lacks `{kw}`"
        );
        assert!(
            highlights.contains(&format!("\"{kw}\"")),
            "highlights.scm lacks `{kw}`"
        );
        assert!(has_word(&vim_keywords, &kw), "the Vim syntax lacks `{kw}`");
    }
}

#[test]
fn every_editor_test_covers_every_unit() {
    let textmate = read("editors/vscode/tests/unit/units.market");
    let corpus = read("editors/tree-sitter-market/test/corpus/units.txt");
    let vim = read("editors/vim/syntax/market.vim");
    for unit in units() {
        let line = format!("a = 1 {unit}\n");
        assert!(
            textmate.contains(&line),
            "editors/vscode/tests/unit/units.market lacks `{unit}`"
        );
        assert!(
            corpus.contains(&line),
            "the tree-sitter corpus lacks `{unit}`"
        );
        if unit == "%" {
            assert!(
                vim.contains("syn match marketUnit /%/"),
                "the Vim syntax lacks `%`"
            );
        } else {
            let units_line = vim
                .lines()
                .find(|l| l.starts_with("syn keyword marketUnit"))
                .unwrap();
            assert!(has_word(units_line, unit), "the Vim syntax lacks `{unit}`");
        }
    }
}
