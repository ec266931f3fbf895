#!/usr/bin/env node
// Stages the npm packages from prebuilt binaries, ready for `npm pack` or
// `npm publish`:
//
//   node npm/build.mjs --out DIR [--platform TARGET=BINARY]...
//
// DIR/secretgate is the launcher, its version and optional dependencies
// stamped from Cargo.toml and npm/platforms.json; DIR/<name> is one platform
// package per --platform (TARGET is a Rust target triple from platforms.json,
// BINARY the built executable, copied as is). No package has an install script.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);

function die(message) {
  process.stderr.write(`npm/build.mjs: ${message}\n`);
  process.exit(2);
}

function cargoVersion() {
  const manifest = readFileSync(join(root, "Cargo.toml"), "utf8");
  const pkg = manifest.split(/^\[/m).find((section) => section.startsWith("package]"));
  const match = pkg && pkg.match(/^version\s*=\s*"([^"]+)"/m);
  if (!match) die("no [package] version in Cargo.toml");
  return match[1];
}

const args = process.argv.slice(2);
let out = null;
const builds = [];
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === "--out") out = args[(i += 1)];
  else if (args[i] === "--platform") {
    const [target, binary] = (args[(i += 1)] || "").split("=");
    if (!target || !binary) die("--platform takes TARGET=BINARY");
    builds.push({ target, binary });
  } else die(`unknown argument ${args[i]}`);
}
if (!out) die("--out DIR is required");

const version = cargoVersion();
const { platforms } = JSON.parse(readFileSync(join(here, "platforms.json"), "utf8"));
const repository = { type: "git", url: "git+https://github.com/secretgate/secretgate.git" };

// The launcher: every platform package is an optional dependency at exactly this version.
const launcherSrc = join(here, "secretgate");
const launcherOut = join(out, "secretgate");
rmSync(launcherOut, { recursive: true, force: true });
mkdirSync(join(launcherOut, "bin"), { recursive: true });
const launcher = JSON.parse(readFileSync(join(launcherSrc, "package.json"), "utf8"));
launcher.version = version;
launcher.optionalDependencies = Object.fromEntries(platforms.map((p) => [p.package, version]));
writeFileSync(join(launcherOut, "package.json"), `${JSON.stringify(launcher, null, 2)}\n`);
copyFileSync(join(launcherSrc, "README.md"), join(launcherOut, "README.md"));
copyFileSync(join(launcherSrc, "bin", "secretgate.js"), join(launcherOut, "bin", "secretgate.js"));
chmodSync(join(launcherOut, "bin", "secretgate.js"), 0o755);

for (const { target, binary } of builds) {
  const platform = platforms.find((p) => p.target === target);
  if (!platform) die(`${target} is not in npm/platforms.json`);
  const dir = join(out, platform.package.split("/")[1]);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "bin"), { recursive: true });
  const manifest = {
    name: platform.package,
    version,
    description: `The secretgate binary for ${target}; installed by the secretgate package.`,
    repository,
    os: [platform.os],
    cpu: [platform.cpu],
    ...(platform.libc ? { libc: [platform.libc] } : {}),
    files: [`bin/${platform.exe}`],
    preferUnplugged: true,
  };
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  copyFileSync(binary, join(dir, "bin", platform.exe));
  chmodSync(join(dir, "bin", platform.exe), 0o755);
  process.stdout.write(`${dir}\n`);
}
process.stdout.write(`${launcherOut}\n`);
