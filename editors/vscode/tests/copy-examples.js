// The snapshot tests run over every example: copy them here (the copies are not committed,
// their .snap files are), so a new or changed example shows up as a snapshot change.
const fs = require("fs");
const path = require("path");
const examples = path.join(__dirname, "..", "..", "..", "examples");
const target = path.join(__dirname, "snap");
for (const f of fs.readdirSync(target)) {
  if (f.endsWith(".market")) fs.unlinkSync(path.join(target, f));
}
const walk = (dir, prefix) => {
  for (const f of fs.readdirSync(dir)) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isDirectory()) walk(p, prefix + f + "-");
    else if (f.endsWith(".market")) fs.copyFileSync(p, path.join(target, prefix + f));
  }
};
walk(examples, "");
