//! `prillm lsp`: a language server over stdio. Diagnostics on open and change from the same
//! checker as `prillm check`, hover on a name, go to definition, and formatting through
//! `prillm fmt`.
//!
//! Messages are framed by hand (lsp-server's reader stops at the first malformed payload):
//! a body that is not JSON-RPC gets a parse error and the server reads on. A request with bad
//! parameters gets `InvalidParams`, an unknown method `MethodNotFound`; nothing ends the
//! loop but `exit` or the end of input.

use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use lsp_server::{ErrorCode, Message, Notification, Request, Response};
use lsp_types::{
    Diagnostic as LspDiagnostic, DiagnosticSeverity, DidChangeTextDocumentParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DocumentFormattingParams,
    GotoDefinitionParams, Hover, HoverContents, HoverParams, Location, MarkupContent, MarkupKind,
    NumberOrString, Position, PublishDiagnosticsParams, Range, TextEdit, Uri,
};
use prillm_compiler::check::{Loc, Market};
use prillm_compiler::diagnostics::{Diagnostic, Sources};
use prillm_compiler::{fmt, FsLoader};
use serde_json::{json, Value};

/// An open document: its text, and the last market that checked (for hover and definition
/// while the text has errors).
struct Document {
    text: String,
    market: Option<Rc<(Market, Sources)>>,
    /// Files other than this one that got diagnostics last time (to clear them).
    published: Vec<String>,
}

#[derive(Default)]
struct Server {
    docs: HashMap<String, Document>,
    shut_down: bool,
}

pub fn run() -> u8 {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut out = io::stdout().lock();
    let mut server = Server::default();
    loop {
        let body = match read_frame(&mut input) {
            Ok(Some(b)) => b,
            Ok(None) => return 1, // input ended without `exit`
            Err(e) => {
                eprintln!("prillm lsp: {e}");
                return 1;
            }
        };
        let msg = match serde_json::from_slice::<Message>(&body) {
            Ok(m) => m,
            Err(e) => {
                // JSON-RPC: a parse error answers with a null id.
                let id = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v.get("id").cloned())
                    .unwrap_or(Value::Null);
                let reply = json!({"jsonrpc": "2.0", "id": id,
                    "error": {"code": -32700, "message": format!("not a JSON-RPC message: {e}")}});
                write_raw(&mut out, &reply.to_string());
                continue;
            }
        };
        match msg {
            Message::Request(req) => {
                for m in server.request(req) {
                    let _ = m.write(&mut out);
                }
            }
            Message::Notification(n) if n.method == "exit" => {
                return if server.shut_down { 0 } else { 1 };
            }
            Message::Notification(n) => {
                for m in server.notification(n) {
                    let _ = m.write(&mut out);
                }
            }
            Message::Response(_) => {}
        }
        let _ = out.flush();
    }
}

/// One `Content-Length` framed body; `None` at the end of input.
fn read_frame(input: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end();
        if line.is_empty() {
            if length.is_some() {
                break;
            }
            continue; // stray blank line between messages
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let mut body = vec![0; length.unwrap_or(0)];
    input.read_exact(&mut body)?;
    Ok(Some(body))
}

fn write_raw(out: &mut impl Write, body: &str) {
    let _ = write!(out, "Content-Length: {}\r\n\r\n{body}", body.len());
    let _ = out.flush();
}

impl Server {
    fn request(&mut self, req: Request) -> Vec<Message> {
        let id = req.id.clone();
        let result: Result<Value, (ErrorCode, String)> = match req.method.as_str() {
            "initialize" => Ok(json!({
                "capabilities": {
                    "textDocumentSync": 1,
                    "hoverProvider": true,
                    "definitionProvider": true,
                    "documentFormattingProvider": true
                },
                "serverInfo": {"name": "prillm", "version": env!("CARGO_PKG_VERSION")}
            })),
            "shutdown" => {
                self.shut_down = true;
                Ok(Value::Null)
            }
            "textDocument/hover" => params::<HoverParams>(&req).map(|p| {
                let at = p.text_document_position_params;
                self.hover(at.text_document.uri.as_str(), at.position)
                    .map_or(Value::Null, |h| json!(h))
            }),
            "textDocument/definition" => params::<GotoDefinitionParams>(&req).map(|p| {
                let at = p.text_document_position_params;
                self.definition(at.text_document.uri.as_str(), at.position)
                    .map_or(Value::Null, |l| json!(l))
            }),
            "textDocument/formatting" => params::<DocumentFormattingParams>(&req)
                .and_then(|p| self.format(p.text_document.uri.as_str())),
            other => Err((
                ErrorCode::MethodNotFound,
                format!("prillm lsp does not handle `{other}`"),
            )),
        };
        let response = match result {
            Ok(v) => Response::new_ok(id, v),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        };
        vec![Message::Response(response)]
    }

    fn notification(&mut self, n: Notification) -> Vec<Message> {
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) else {
                    return Vec::new();
                };
                self.update(p.text_document.uri.as_str(), p.text_document.text)
            }
            "textDocument/didChange" => {
                let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) else {
                    return Vec::new();
                };
                // Full sync: the last change holds the whole text.
                match p.content_changes.into_iter().last() {
                    Some(c) => self.update(p.text_document.uri.as_str(), c.text),
                    None => Vec::new(),
                }
            }
            "textDocument/didClose" => {
                let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) else {
                    return Vec::new();
                };
                let uri = p.text_document.uri.as_str().to_string();
                let Some(doc) = self.docs.remove(&uri) else {
                    return Vec::new();
                };
                std::iter::once(uri)
                    .chain(doc.published)
                    .map(|u| publish(&u, Vec::new()))
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// Re-checks a document and publishes its diagnostics (and those of files it imports).
    fn update(&mut self, uri: &str, text: String) -> Vec<Message> {
        let path = uri_to_path(uri).unwrap_or_else(|| PathBuf::from("untitled.market"));
        let checked = prillm_compiler::check_text(path.clone(), text.clone(), &FsLoader);
        let mut by_file: HashMap<String, Vec<LspDiagnostic>> = HashMap::new();
        by_file.insert(uri.to_string(), Vec::new());
        let previous = self.docs.remove(uri);
        let market = match checked.result {
            Ok(m) => Some(Rc::new((m, checked.sources))),
            Err(diags) => {
                for d in &diags {
                    let file = checked.sources.get(d.file);
                    let target = if file.path == path {
                        uri.to_string()
                    } else {
                        path_to_uri(&file.path)
                    };
                    by_file
                        .entry(target)
                        .or_default()
                        .push(to_lsp(d, &checked.sources));
                }
                previous.as_ref().and_then(|p| p.market.clone())
            }
        };
        let mut messages = Vec::new();
        let mut published = Vec::new();
        for stale in previous.map(|p| p.published).unwrap_or_default() {
            if !by_file.contains_key(&stale) {
                messages.push(publish(&stale, Vec::new()));
            }
        }
        for (target, diags) in by_file {
            if target != uri {
                published.push(target.clone());
            }
            messages.push(publish(&target, diags));
        }
        self.docs.insert(
            uri.to_string(),
            Document {
                text,
                market,
                published,
            },
        );
        messages
    }

    fn hover(&self, uri: &str, pos: Position) -> Option<Hover> {
        let doc = self.docs.get(uri)?;
        let word = word_at(&doc.text, pos)?;
        let (market, _) = doc.market.as_deref()?;
        let text = describe(market, &word)?;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: text,
            }),
            range: None,
        })
    }

    fn definition(&self, uri: &str, pos: Position) -> Option<Location> {
        let doc = self.docs.get(uri)?;
        let word = word_at(&doc.text, pos)?;
        let (market, sources) = doc.market.as_deref()?;
        let loc = declared_at(market, &word)?;
        let file = sources.get(loc.file);
        let target = if Some(file.path.as_path()) == uri_to_path(uri).as_deref() {
            uri.to_string()
        } else {
            path_to_uri(&file.path)
        };
        Some(Location {
            uri: target.parse::<Uri>().ok()?,
            range: range(&file.text, loc.span.start, loc.span.end),
        })
    }

    fn format(&self, uri: &str) -> Result<Value, (ErrorCode, String)> {
        let doc = self
            .docs
            .get(uri)
            .ok_or((ErrorCode::InvalidParams, format!("`{uri}` is not open")))?;
        match fmt::format(&doc.text, 0) {
            Ok(formatted) if formatted == doc.text => Ok(json!([])),
            Ok(formatted) => {
                let end = range(&doc.text, doc.text.len(), doc.text.len()).end;
                Ok(json!([TextEdit {
                    range: Range {
                        start: Position::new(0, 0),
                        end
                    },
                    new_text: formatted
                }]))
            }
            // A file that does not parse is left as it is; its diagnostics say why.
            Err(_) => Ok(Value::Null),
        }
    }
}

fn params<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, (ErrorCode, String)> {
    serde_json::from_value(req.params.clone()).map_err(|e| {
        (
            ErrorCode::InvalidParams,
            format!("bad parameters for `{}`: {e}", req.method),
        )
    })
}

fn publish(uri: &str, diagnostics: Vec<LspDiagnostic>) -> Message {
    let uri = uri
        .parse::<Uri>()
        .unwrap_or_else(|_| "file:///invalid".parse().expect("a valid URI"));
    Message::Notification(Notification::new(
        "textDocument/publishDiagnostics".into(),
        PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        },
    ))
}

fn to_lsp(d: &Diagnostic, sources: &Sources) -> LspDiagnostic {
    let text = &sources.get(d.file).text;
    let mut message = d.message.clone();
    if !d.label.is_empty() {
        message.push_str(&format!(" ({})", d.label));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    LspDiagnostic {
        range: range(text, d.span.start, d.span.end),
        severity: Some(DiagnosticSeverity::ERROR),
        code: Some(NumberOrString::String(d.code.name().to_string())),
        source: Some("prillm".into()),
        message,
        ..Default::default()
    }
}

/// A byte offset as an LSP position (line, UTF-16 column).
fn position(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let col: usize = before[start..].chars().map(char::len_utf16).sum();
    Position::new(line as u32, col as u32)
}

fn range(text: &str, start: usize, end: usize) -> Range {
    Range {
        start: position(text, start),
        end: position(text, end),
    }
}

/// The byte offset of an LSP position, or `None` past the end.
fn offset(text: &str, pos: Position) -> Option<usize> {
    let mut line_start = 0;
    for _ in 0..pos.line {
        line_start += text[line_start..].find('\n')? + 1;
    }
    let line = text[line_start..].split('\n').next().unwrap_or("");
    let mut units = 0;
    for (i, c) in line.char_indices() {
        if units >= pos.character as usize {
            return Some(line_start + i);
        }
        units += c.len_utf16();
    }
    Some(line_start + line.len())
}

/// The identifier (letters, digits, `_`, `-`) under the cursor.
fn word_at(text: &str, pos: Position) -> Option<String> {
    let at = offset(text, pos)?;
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let start = text[..at]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_word(c))
        .last()
        .map_or(at, |(i, _)| i);
    let end = text[at..]
        .char_indices()
        .find(|&(_, c)| !is_word(c))
        .map_or(text.len(), |(i, _)| at + i);
    (start < end).then(|| text[start..end].to_string())
}

fn declared_at(market: &Market, name: &str) -> Option<Loc> {
    market
        .providers
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.at)
        .or_else(|| market.users.iter().find(|u| u.name == name).map(|u| u.at))
        .or_else(|| market.firms.iter().find(|f| f.name == name).map(|f| f.at))
        .or_else(|| market.qos.iter().find(|q| q.name == name).map(|q| q.at))
}

/// A short Markdown summary of the provider, user, firm or QoS dimension called `name`,
/// in the market's canonical units.
fn describe(market: &Market, name: &str) -> Option<String> {
    use prillm_compiler::summary::num;
    let period = &market.period;
    if let Some(p) = market.providers.iter().find(|p| p.name == name) {
        let mut s = format!("**provider `{name}`**\n\n");
        match p.price {
            Some(price) => s.push_str(&format!("- price {} usd/mtok\n", num(price.value))),
            None => s.push_str("- price decided by its firm\n"),
        }
        s.push_str(&format!(
            "- capacity {} mtok per {period}{}\n- value {} usd/mtok\n",
            num(p.capacity.value),
            match p.capacity_source {
                prillm_compiler::check::CapacitySource::Given => "",
                _ => " (from throughput)",
            },
            num(p.value.value)
        ));
        if let Some(c) = p.cost {
            s.push_str(&format!("- cost {} usd/mtok\n", num(c.value)));
        }
        for (q, v) in market.qos.iter().zip(&p.qos) {
            if let Some(v) = v {
                s.push_str(&format!("- {} {} {}\n", q.name, num(v.value), q.unit));
            }
        }
        if let Some(f) = p.firm {
            s.push_str(&format!("- owned by firm `{}`\n", market.firms[f].name));
        }
        return Some(s);
    }
    if let Some(u) = market.users.iter().find(|u| u.name == name) {
        let kind = if u.segment.is_some() {
            "segment"
        } else {
            "user"
        };
        let mut s = format!("**{kind} `{name}`**\n\n");
        match &u.demand {
            prillm_compiler::check::Param::Fixed(d) => {
                s.push_str(&format!("- demand {} mtok per {period}\n", num(d.value)))
            }
            prillm_compiler::check::Param::Drawn(_) => {
                s.push_str(&format!("- demand drawn per member (mtok per {period})\n"))
            }
        }
        if let Some(seg) = &u.segment {
            s.push_str(&format!("- {} draws, seed {}\n", seg.draws, seg.seed));
        }
        if u.chooser {
            s.push_str("- chooser: ignores congestion\n");
        }
        return Some(s);
    }
    if let Some(f) = market.firms.iter().find(|f| f.name == name) {
        let owns: Vec<&str> = f
            .providers
            .iter()
            .map(|&j| market.providers[j].name.as_str())
            .collect();
        let mut s = format!("**firm `{name}`** owns {}\n\n", owns.join(", "));
        for d in &f.decisions {
            s.push_str(&format!(
                "- decides {} in [{}, {}] usd/mtok{}\n",
                market.providers[d.provider].name,
                num(d.lo.value),
                num(d.hi.value),
                d.step
                    .map_or(String::new(), |st| format!(" step {}", num(st.value)))
            ));
        }
        return Some(s);
    }
    let q = market.qos.iter().find(|q| q.name == name)?;
    Some(format!(
        "**qos `{name}`** ({:?}){}",
        q.kind,
        if q.unit.is_empty() {
            String::new()
        } else {
            format!(", unit {}", q.unit)
        }
    ))
}

/// `file:///a/b%20c.market` → `/a/b c.market`.
fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&rest[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Some(PathBuf::from(String::from_utf8(out).ok()?))
}

fn path_to_uri(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut s = String::from("file://");
    for b in absolute.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "a\nµé x\n";
        assert_eq!(position(text, 2 + "µé ".len()), Position::new(1, 3));
        assert_eq!(offset(text, Position::new(1, 3)), Some(2 + "µé ".len()));
    }

    #[test]
    fn uris_round_trip() {
        let p = Path::new("/tmp/a b/c.market");
        assert_eq!(uri_to_path(&path_to_uri(p)).unwrap(), p);
    }
}
