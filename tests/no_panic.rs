//! Robustness: thousands of seeded mutations of every example (tokens deleted, duplicated and
//! swapped; random bytes; huge and tiny numbers) go through parse, check, lowering and
//! rendering. Only diagnostics may come out: no panic, no span outside its file, no
//! non-finite number in an instance.

use std::path::Path;

use miette::{GraphicalReportHandler, GraphicalTheme};
use prillm_compiler::diagnostics::Rendered;
use prillm_compiler::{compile_text, fmt, FsLoader, Instance};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

const MUTATIONS_PER_EXAMPLE: usize = 1000;
const NUMBERS: &[&str] = &[
    "1e308",
    "1e309",
    "-1e308",
    "1e-320",
    "0",
    "-0",
    "99999999999999999999999",
    "0.000",
    "inf",
    "-inf",
    "1_",
    "1e",
    "NaN",
];
const WORDS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "=",
    "~",
    "..",
    "%",
    "/",
    "per provider",
    "market",
    "provider",
    "user",
    "segment",
    "firm",
    "owns",
    "maximize",
    "subject to",
    "table",
    "import",
    "solve",
    "chooser",
    "weight",
    "\"",
    "#",
    "\u{1F600}",
    "price",
    "demand",
    "draws = 1000000",
    "step",
    "in",
];

fn pick(rng: &mut ChaCha8Rng, n: usize) -> usize {
    (rng.next_u64() % n.max(1) as u64) as usize
}

/// Splits into tokens and the whitespace between them, so mutations keep some structure.
fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut in_space = false;
    for c in text.chars() {
        let space = c.is_whitespace();
        if space != in_space && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        in_space = space;
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn mutate(text: &str, rng: &mut ChaCha8Rng) -> String {
    let mut t = tokens(text);
    let rounds = 1 + pick(rng, 3);
    for _ in 0..rounds {
        let n = t.len();
        match pick(rng, 7) {
            0 if n > 1 => {
                t.remove(pick(rng, n));
            }
            1 => {
                let i = pick(rng, n);
                let tok = t[i].clone();
                t.insert(i, tok);
            }
            2 if n > 1 => {
                let (a, b) = (pick(rng, n), pick(rng, n));
                t.swap(a, b);
            }
            3 => {
                // Replace a number with an extreme one.
                let nums: Vec<usize> = (0..n)
                    .filter(|&i| t[i].starts_with(|c: char| c.is_ascii_digit()))
                    .collect();
                if !nums.is_empty() {
                    let i = nums[pick(rng, nums.len())];
                    t[i] = NUMBERS[pick(rng, NUMBERS.len())].to_string();
                }
            }
            4 => {
                let i = pick(rng, n + 1);
                t.insert(
                    i.min(t.len()),
                    format!(" {} ", WORDS[pick(rng, WORDS.len())]),
                );
            }
            5 => {
                let mut bytes = t.concat().into_bytes();
                for _ in 0..1 + pick(rng, 4) {
                    let i = pick(rng, bytes.len());
                    bytes[i] = (rng.next_u64() & 0xff) as u8;
                }
                t = tokens(&String::from_utf8_lossy(&bytes));
            }
            _ => {
                let i = pick(rng, n);
                let cut = pick(rng, t[i].len() + 1);
                if t[i].is_char_boundary(cut) {
                    t[i].truncate(cut);
                }
            }
        }
    }
    t.concat()
}

fn assert_finite(inst: &Instance) {
    let all = inst
        .price
        .iter()
        .chain(&inst.capacity)
        .chain(&inst.cost)
        .chain(&inst.demand)
        .chain(&inst.value.data)
        .chain(&inst.qos_weights.data)
        .chain(&inst.congestion_weight)
        .chain(inst.qos_values.iter().flat_map(|m| &m.data));
    for v in all {
        assert!(v.is_finite(), "non-finite number in an instance");
    }
    assert!(inst.capacity.iter().all(|c| *c > 0.0));
    assert!(inst.demand.iter().all(|d| *d > 0.0));
}

#[test]
fn mutated_examples_give_only_diagnostics() {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut examples: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "market"))
        .collect();
    examples.sort();
    let mut rng = ChaCha8Rng::seed_from_u64(20261203);
    let (mut ok, mut rejected) = (0, 0);
    for path in &examples {
        let text = std::fs::read_to_string(path).unwrap();
        for _ in 0..MUTATIONS_PER_EXAMPLE {
            let mutated = mutate(&text, &mut rng);
            let (sources, result) = compile_text(path.clone(), mutated.clone(), &FsLoader);
            match result {
                Ok(inst) => {
                    assert_finite(&inst);
                    ok += 1;
                }
                Err(diags) => {
                    assert!(!diags.is_empty());
                    for d in &diags {
                        let file = sources.get(d.file);
                        assert!(
                            d.span.start <= d.span.end && d.span.end <= file.text.len(),
                            "span out of bounds: {d:?}"
                        );
                        let mut out = String::new();
                        handler
                            .render_report(&mut out, &Rendered::new(d, &sources))
                            .unwrap();
                        assert!(out.contains("prillm::"));
                    }
                    rejected += 1;
                }
            }
            // The formatter either reports syntax errors or gives text that parses again.
            if let Ok(f) = fmt::format(&mutated, 0) {
                assert!(
                    fmt::format(&f, 0).is_ok(),
                    "formatted text does not parse:\n{f}"
                );
            }
        }
    }
    // The mutations exercise both paths.
    assert!(ok > 100 && rejected > 1000, "ok {ok}, rejected {rejected}");
}
