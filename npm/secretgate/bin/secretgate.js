#!/usr/bin/env node
// Runs the prebuilt secretgate binary that npm installed for this machine.
//
// No install script: npm picks the matching `@secretgate/<platform>` package
// among the optional dependencies by its os/cpu fields, and this
// launcher only finds it and hands over stdin, stdout, stderr, the
// arguments, signals sent to the launcher, and the exit status (or the
// signal it died of). SECRETGATE_BINARY overrides the binary (for a local
// build, or a platform without a prebuilt package).
"use strict";

const { spawn } = require("child_process");
const { constants } = require("os");

/** The platform package name for this machine, or null when none is
 * published. Linux binaries are static (musl): one package per CPU serves
 * glibc and musl (Alpine) systems alike. */
function platformPackage() {
  const { platform, arch } = process;
  if ((platform === "linux" || platform === "darwin") && (arch === "x64" || arch === "arm64")) {
    return `@secretgate/${platform}-${arch}`;
  }
  if (platform === "win32" && arch === "x64") return "@secretgate/win32-x64";
  return null;
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
      `no prebuilt binary for ${process.platform}-${process.arch}. Build it from source ` +
        "(`cargo install --locked --path .` in a secretgate checkout), then point SECRETGATE_BINARY at it."
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

/** Signals passed on to secretgate, so stopping the launcher (a CI job's
 * timeout, a hook manager, `kill`) stops secretgate too instead of leaving it
 * running without a parent. */
const FORWARDED = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"];

const binary = binaryPath();
// Listening before the spawn: a signal that comes while it runs is handled
// once `child` exists (handlers run from the event loop, after this tick).
let child = null;
const forwarders = FORWARDED.map((signal) => {
  const forward = () => {
    try {
      if (child) child.kill(signal);
    } catch (_) {
      // Already gone: its exit ends the launcher.
    }
  };
  try {
    process.on(signal, forward);
  } catch (_) {
    // A signal this platform cannot listen for (Windows).
  }
  return [signal, forward];
});
child = spawn(binary, process.argv.slice(2), { stdio: "inherit", windowsHide: true });
child.on("error", (error) => fail(`cannot run ${binary}: ${error.message}`));
child.on("exit", (code, signal) => {
  for (const [name, forward] of forwarders) process.removeListener(name, forward);
  if (signal) {
    // Die of the same signal, so a shell or hook manager sees what happened;
    // where that cannot be done, the shell's convention: 128 + its number.
    const number = constants.signals[signal] || 0;
    try {
      process.kill(process.pid, signal);
    } catch (_) {
      // Fall through to the exit status.
    }
    setTimeout(() => process.exit(128 + number), 1000);
    return;
  }
  process.exit(code === null ? 2 : code);
});
