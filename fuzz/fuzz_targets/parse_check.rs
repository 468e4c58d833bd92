//! Any bytes through parse, check, lowering and formatting: only diagnostics may come out.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prillm_compiler::{compile_text, fmt, FsLoader};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let (sources, result) = compile_text("fuzz.market".into(), text.clone(), &FsLoader);
    if let Err(diags) = result {
        for d in diags {
            assert!(d.span.end <= sources.get(d.file).text.len());
        }
    }
    let _ = fmt::format(&text, 0);
});
