//! Any bytes through parse, check, lowering and formatting: only diagnostics may come out.
#![no_main]

use std::io;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use prillm_compiler::{compile_text, fmt, Loader};

/// Imports and tables resolve to nothing: the fuzzer must not read the machine's files.
struct NoFiles;

impl Loader for NoFiles {
    fn read(&self, _: &Path) -> io::Result<String> {
        Err(io::ErrorKind::NotFound.into())
    }
    fn exists(&self, _: &Path) -> bool {
        false
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let (sources, result) = compile_text("fuzz.market".into(), text.clone(), &NoFiles);
    if let Err(diags) = result {
        for d in diags {
            assert!(d.span.start <= d.span.end && d.span.end <= sources.get(d.file).text.len());
        }
    }
    if let Ok(formatted) = fmt::format(&text, 0) {
        let again = fmt::format(&formatted, 0).expect("formatted text parses");
        assert_eq!(again, formatted, "fmt is idempotent");
    }
});
