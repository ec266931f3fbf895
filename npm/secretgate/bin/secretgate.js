#!/usr/bin/env node
// Runs the prebuilt secretgate binary that npm installed for this machine.
//
// No install script: npm picks the matching `@secretgate/<platform>` package
// among the optional dependencies by its os/cpu/libc fields, and this
// launcher only finds it and hands over stdin, stdout, stderr, the arguments
// and the exit status. SECRETGATE_BINARY overrides the binary (for a local
// build, or a platform without a prebuilt package).
"use strict";

const { spawnSync } = require("child_process");

/** The platform package name for this machine, or null when none is published. */
function platformPackage() {
  const { platform, arch } = process;
  if (platform === "linux") {
    if (arch !== "x64" && arch !== "arm64") return null;
    return isMusl() ? null : `@secretgate/linux-${arch}-gnu`;
  }
  if (platform === "darwin" && (arch === "x64" || arch === "arm64")) {
    return `@secretgate/darwin-${arch}`;
  }
  if (platform === "win32" && arch === "x64") return "@secretgate/win32-x64";
  return null;
}

/** True on a musl libc (Alpine): the -gnu binaries need glibc. */
function isMusl() {
  try {
    const report = process.report && process.report.getReport();
    return Boolean(report && report.header && !report.header.glibcVersionRuntime);
  } catch (_) {
    return false;
  }
}

function fail(message) {
  process.stderr.write(`secretgate: ${message}\n`);
  // 2 is secretgate's "error" status: a hook or CI gate treats it as a failure.
  process.exit(2);
}

function binaryPath() {
  if (process.env.SECRETGATE_BINARY) return process.env.SECRETGATE_BINARY;
  const pkg = platformPackage();
  if (!pkg) {
    fail(
      `no prebuilt binary for ${process.platform}-${process.arch}` +
        (process.platform === "linux" && isMusl() ? " (musl libc)" : "") +
        ". Build it with `cargo install --locked secretgate` or use the container image, " +
        "then point SECRETGATE_BINARY at it."
    );
  }
  const exe = process.platform === "win32" ? "secretgate.exe" : "secretgate";
  try {
    return require.resolve(`${pkg}/bin/${exe}`);
  } catch (_) {
    fail(
      `the platform package ${pkg} is not installed. It is an optional dependency of ` +
        "secretgate: reinstall without --no-optional / --omit=optional " +
        "(e.g. `npm i -D secretgate`), and make sure the lockfile was not made on another platform only."
    );
  }
  return null;
}

const binary = binaryPath();
const result = spawnSync(binary, process.argv.slice(2), { stdio: "inherit", windowsHide: true });
if (result.error) {
  fail(`cannot run ${binary}: ${result.error.message}`);
}
if (result.signal) {
  // Die of the same signal, so a shell or hook manager sees what happened.
  process.kill(process.pid, result.signal);
}
process.exit(result.status === null ? 2 : result.status);
