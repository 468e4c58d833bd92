//! Reading a market and the files it imports, in order, with cycle detection.

use std::collections::HashSet;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::diagnostics::{display_path, Code, Diagnostic, FileId, Sources};
use crate::syntax::ast::{Item, ItemKind};
use crate::syntax::parse;

/// Where the compiler reads imported `.market` files and CSV tables from.
pub trait Loader {
    fn read(&self, path: &Path) -> io::Result<String>;
    fn exists(&self, path: &Path) -> bool;
}

/// Reads from the file system.
pub struct FsLoader;

/// Largest file the compiler reads (a market, an import or a table).
pub const MAX_FILE_BYTES: u64 = 256 << 20;

impl Loader for FsLoader {
    /// Reads a regular file of at most [`MAX_FILE_BYTES`]: a path such as `/dev/zero` or a
    /// directory is refused rather than read forever.
    fn read(&self, path: &Path) -> io::Result<String> {
        let meta = std::fs::metadata(path)?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "larger than 256 MiB",
            ));
        }
        std::fs::read_to_string(path)
    }
    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
}

/// The items of a market and its imports, each with the file it came from, in reading order
/// (an import's items stand where the import does).
pub struct Program {
    pub items: Vec<(FileId, Item)>,
}

/// A path relative to the file that names it, with `.` and `..` folded so the same file is
/// recognised however it is reached.
pub fn relative_to(base: &Path, rel: &str) -> PathBuf {
    let joined = base.parent().unwrap_or(Path::new("")).join(rel);
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

pub fn load(
    root: PathBuf,
    text: String,
    loader: &dyn Loader,
    sources: &mut Sources,
) -> Result<Program, Vec<Diagnostic>> {
    let root_id = sources.add(root, text);
    let mut state = State {
        loader,
        seen: HashSet::new(),
        stack: Vec::new(),
        items: Vec::new(),
        diags: Vec::new(),
    };
    state.seen.insert(root_id);
    state.visit(root_id, sources);
    if state.diags.is_empty() {
        Ok(Program { items: state.items })
    } else {
        Err(state.diags)
    }
}

struct State<'a> {
    loader: &'a dyn Loader,
    seen: HashSet<FileId>,
    stack: Vec<FileId>,
    items: Vec<(FileId, Item)>,
    diags: Vec<Diagnostic>,
}

impl State<'_> {
    fn visit(&mut self, file: FileId, sources: &mut Sources) {
        let text = sources.get(file).text.clone();
        let tree = match parse(&text, file) {
            Ok(t) => t,
            Err(mut d) => {
                self.diags.append(&mut d);
                return;
            }
        };
        self.stack.push(file);
        for item in tree.items {
            let ItemKind::Import(lit) = &item.kind else {
                self.items.push((file, item));
                continue;
            };
            let path = relative_to(&sources.get(file).path, &lit.value);
            if let Some(id) = sources.find(&path) {
                if let Some(pos) = self.stack.iter().position(|f| *f == id) {
                    let chain: Vec<String> = self.stack[pos..]
                        .iter()
                        .map(|f| display_path(&sources.get(*f).path))
                        .chain([display_path(&path)])
                        .collect();
                    self.diags.push(
                        Diagnostic::new(
                            Code::ImportCycle,
                            file,
                            lit.span,
                            format!("import cycle: {}", chain.join(" → ")),
                        )
                        .label("imports a file that is already being read")
                        .help("move the shared declarations into a file that imports nothing"),
                    );
                }
                // Already read (a diamond): its items are in once.
                continue;
            }
            match self.loader.read(&path) {
                Ok(t) => {
                    let id = sources.add(path, t);
                    self.seen.insert(id);
                    self.visit(id, sources);
                }
                Err(e) => self.diags.push(
                    Diagnostic::new(
                        Code::FileNotFound,
                        file,
                        lit.span,
                        format!("cannot read `{}`: {}", display_path(&path), io_reason(&e)),
                    )
                    .label("imported here")
                    .help("paths are relative to the importing file"),
                ),
            }
        }
        self.stack.pop();
    }
}

pub fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::InvalidData => "not UTF-8 text".to_string(),
        _ => e.to_string(),
    }
}
