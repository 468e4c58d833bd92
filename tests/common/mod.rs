//! Running the `prillm` binary from integration tests. Each test crate uses only some of
//! these, hence the `dead_code` allowances.

use std::path::Path;
use std::process::{Command, Output};

/// `prillm ARGS` from the repository root.
#[allow(dead_code)]
pub fn prillm(args: &[&str]) -> Output {
    prillm_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// `prillm ARGS` from `dir`.
#[allow(dead_code)]
pub fn prillm_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prillm"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run prillm")
}
