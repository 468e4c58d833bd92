//! `prillm lsp` driven over stdio with real JSON-RPC messages: diagnostics, hover, go to
//! definition, formatting, and survival of malformed input and files deleted under it.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    /// Notifications seen while waiting for responses.
    notes: Vec<Value>,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_prillm"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prillm lsp");
        let stdin = child.stdin.take().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (tx, incoming) = channel();
        std::thread::spawn(move || loop {
            let mut length = 0;
            loop {
                let mut line = String::new();
                if out.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(v) = line.strip_prefix("Content-Length: ") {
                    length = v.parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            out.read_exact(&mut body).unwrap();
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        });
        let mut c = Client {
            child,
            stdin,
            incoming,
            notes: Vec::new(),
        };
        let init = c.request(1, "initialize", json!({"capabilities": {}}));
        assert_eq!(init["result"]["capabilities"]["hoverProvider"], true);
        c.notify("initialized", json!({}));
        c
    }

    fn raw(&mut self, body: &str) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.raw(&json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string());
    }

    fn next(&mut self) -> Value {
        self.incoming
            .recv_timeout(Duration::from_secs(20))
            .expect("the server answers")
    }

    /// Sends a request and waits for its response, keeping notifications.
    fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.raw(
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string(),
        );
        self.response(json!(id))
    }

    fn response(&mut self, id: Value) -> Value {
        loop {
            let m = self.next();
            if m.get("method").is_some() {
                self.notes.push(m);
            } else if m["id"] == id {
                return m;
            }
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        if let Some(i) = self.notes.iter().position(|n| n["params"]["uri"] == uri) {
            let n = self.notes.remove(i);
            return n["params"]["diagnostics"].as_array().unwrap().clone();
        }
        loop {
            let m = self.next();
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri {
                return m["params"]["diagnostics"].as_array().unwrap().clone();
            }
            self.notes.push(m);
        }
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "market", "version": 1, "text": text}}),
        );
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    fn stop(mut self) -> Option<i32> {
        let r = self.request(999, "shutdown", Value::Null);
        assert!(r["error"].is_null(), "{r}");
        self.notify("exit", Value::Null);
        self.child.wait().unwrap().code()
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", std::fs::canonicalize(path).unwrap().display())
}

/// (line, character) of the first occurrence of `needle` in `text`.
fn at(text: &str, needle: &str) -> Value {
    let i = text.find(needle).unwrap();
    let line = text[..i].matches('\n').count();
    let col = i - text[..i].rfind('\n').map_or(0, |k| k + 1);
    json!({"line": line, "character": col + 1})
}

#[test]
fn diagnostics_hover_definition_and_formatting() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/premium.market");
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = uri(&path);
    let mut c = Client::start();
    c.open(&uri, &text);
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());

    // Hover on a use of a provider's name (in the firm's declaration).
    let use_at = at(&text, "owns claude-sonnet-5");
    let pos =
        json!({"line": use_at["line"], "character": use_at["character"].as_u64().unwrap() + 6});
    let hover = c.request(
        2,
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": pos}),
    );
    let value = hover["result"]["contents"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        value.contains("provider `claude-sonnet-5`") && value.contains("mtok per month"),
        "{value}"
    );

    // Go to its declaration.
    let def = c.request(
        3,
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": pos}),
    );
    let declared = at(&text, "provider claude-sonnet-5");
    assert_eq!(def["result"]["uri"], uri);
    assert_eq!(def["result"]["range"]["start"]["line"], declared["line"]);

    // An error in the text: a coded diagnostic at the right line; hover still works.
    let broken = text.replacen("owns claude-sonnet-5", "owns claude-sonet-5", 1);
    c.change(&uri, 2, &broken);
    let diags = c.diagnostics(&uri);
    assert!(!diags.is_empty());
    assert_eq!(diags[0]["source"], "prillm");
    assert!(
        diags[0]["message"]
            .as_str()
            .unwrap()
            .contains("claude-sonnet-5"),
        "did you mean: {}",
        diags[0]
    );
    assert_eq!(diags[0]["range"]["start"]["line"], use_at["line"]);

    // Formatting: an unformatted but valid text comes back canonical.
    let messy = text.replacen(
        "maximize profit(anthropic)",
        "maximize    profit( anthropic )",
        1,
    );
    c.change(&uri, 3, &messy);
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());
    let edits = c.request(
        4,
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(edits["result"][0]["newText"].as_str().unwrap(), text);
    assert_eq!(c.stop(), Some(0));
}

#[test]
fn malformed_input_and_unknown_methods_get_errors_not_a_crash() {
    let mut c = Client::start();
    c.raw("{this is not json");
    let parse = c.response(Value::Null);
    assert_eq!(parse["error"]["code"], -32700);
    let unknown = c.request(5, "textDocument/rename", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    let bad = c.request(6, "textDocument/hover", json!({"nonsense": true}));
    assert_eq!(bad["error"]["code"], -32602);
    let closed = c.request(7, "textDocument/formatting", json!({"textDocument": {"uri": "file:///nowhere.market"}, "options": {"tabSize": 2, "insertSpaces": true}}));
    assert_eq!(closed["error"]["code"], -32602);
    // A file that does not parse: diagnostics, and formatting leaves it alone.
    c.open("file:///tmp/broken.market", "market {{{");
    assert!(!c.diagnostics("file:///tmp/broken.market").is_empty());
    let f = c.request(8, "textDocument/formatting", json!({"textDocument": {"uri": "file:///tmp/broken.market"}, "options": {"tabSize": 2, "insertSpaces": true}}));
    assert!(f["result"].is_null() && f["error"].is_null(), "{f}");
    assert_eq!(c.stop(), Some(0));
}

#[test]
fn a_deleted_import_becomes_a_diagnostic() {
    let dir = std::env::temp_dir().join(format!("prillm-lsp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shared/frontier.market");
    std::fs::copy(&shared, dir.join("frontier.market")).unwrap();
    let main = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/outside-option.market"),
    )
    .unwrap()
    .replace("shared/frontier.market", "frontier.market");
    std::fs::write(dir.join("main.market"), &main).unwrap();
    let uri = uri(&dir.join("main.market"));
    let mut c = Client::start();
    c.open(&uri, &main);
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());
    std::fs::remove_file(dir.join("frontier.market")).unwrap();
    c.change(&uri, 2, &main);
    let diags = c.diagnostics(&uri);
    assert!(
        diags
            .iter()
            .any(|d| d["message"].as_str().unwrap().contains("cannot read")),
        "{diags:?}"
    );
    // Still serving: a hover answers (from the last market that checked).
    let pos = at(&main, "claude-opus-5");
    let h = c.request(
        9,
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": pos}),
    );
    assert!(h["error"].is_null(), "{h}");
    assert_eq!(c.stop(), Some(0));
    std::fs::remove_dir_all(&dir).unwrap();
}
