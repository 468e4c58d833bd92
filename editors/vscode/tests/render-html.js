// Renders a .market file as HTML highlighted by this extension's TextMate grammar (the same
// tokenizer VS Code uses), for the README's screenshot:
//   node tests/render-html.js ../../examples/hobbyists.market > /tmp/market.html
//   chromium --headless --screenshot=shot.png --window-size=900,1000 /tmp/market.html
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

// Colours of VS Code's Dark+ theme for the scopes the grammar assigns.
const theme = [
  ["comment", "#6a9955"],
  ["string", "#ce9178"],
  ["constant.numeric", "#b5cea8"],
  ["keyword.other.unit", "#4ec9b0"],
  ["keyword.operator", "#d4d4d4"],
  ["keyword", "#569cd6"],
  ["entity.name.type", "#4ec9b0"],
  ["support.function", "#dcdcaa"],
  ["support.constant", "#4fc1ff"],
  ["variable.other.property", "#9cdcfe"],
  ["variable", "#9cdcfe"],
];
const colour = (scopes) => {
  for (let i = scopes.length - 1; i >= 0; i--) {
    const hit = theme.find(([prefix]) => scopes[i].startsWith(prefix));
    if (hit) return hit[1];
  }
  return "#d4d4d4";
};
const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

async function main() {
  const file = process.argv[2];
  const wasm = fs.readFileSync(path.join(require.resolve("vscode-oniguruma"), "..", "onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (p) => new oniguruma.OnigScanner(p),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async () =>
      vsctm.parseRawGrammar(
        fs.readFileSync(path.join(__dirname, "..", "syntaxes", "market.tmLanguage.json"), "utf8"),
        "market.tmLanguage.json",
      ),
  });
  const grammar = await registry.loadGrammar("source.market");
  let stack = vsctm.INITIAL;
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const html = lines.map((line) => {
    const r = grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return r.tokens
      .map((t) => `<span style="color:${colour(t.scopes)}">${escape(line.slice(t.startIndex, t.endIndex))}</span>`)
      .join("");
  });
  process.stdout.write(
    `<!doctype html><meta charset="utf-8"><body style="margin:0;background:#1e1e1e">` +
      `<pre style="margin:0;padding:16px;font:14px/1.45 'DejaVu Sans Mono',monospace;color:#d4d4d4">` +
      html.join("\n") +
      `</pre>`,
  );
}
main();
