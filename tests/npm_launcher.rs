//! The npm package's launcher (`npm/secretgate/bin/secretgate.js`) around the
//! real binary: it passes the exit status through, and a signal sent to it
//! (a CI timeout, a hook manager stopping) reaches secretgate, which must not
//! outlive it. Needs node; `#[ignore]`d without it.

#![cfg(target_os = "linux")]

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn launcher() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("npm/secretgate/bin/secretgate.js")
}

/// `node launcher ARGS` running the binary under test.
fn node(args: &[&str]) -> Command {
    let mut cmd = Command::new("node");
    cmd.arg(launcher())
        .args(args)
        .env(
            "SECRETGATE_BINARY",
            assert_cmd::cargo::cargo_bin("secretgate"),
        )
        .env_remove("CI");
    cmd
}

/// The pids of `parent`'s children, from /proc.
fn children(parent: u32) -> Vec<u32> {
    let path = format!("/proc/{parent}/task/{parent}/children");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|pid| pid.parse().ok())
        .collect()
}

fn alive(pid: u32) -> bool {
    // A zombie has exited; only its parent's wait is missing.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// Polls `done` for up to a minute (a bound for a hung run, not a timing
/// claim).
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg_attr(not(have_node), ignore = "node is not installed (then touch build.rs)")]
#[test]
fn the_launcher_passes_the_exit_status_through() {
    let tree = Tree::new();
    tree.write(
        ".env",
        format!("ANTHROPIC_API_KEY={}\n", anthropic_key(1520)),
    );
    let found = node(&["scan", "--redact"])
        .arg(tree.path())
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(found.status.code(), Some(1), "{found:?}");
    let bad = node(&["scan", "--no-such-flag"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
}

#[cfg_attr(not(have_node), ignore = "node is not installed (then touch build.rs)")]
#[test]
fn a_signal_to_the_launcher_stops_secretgate_and_the_launcher_dies_of_it() {
    use std::os::unix::process::ExitStatusExt as _;
    // `scan -` waits for the end of stdin, which the test holds open.
    let mut launcher = node(&["scan", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("{err}"));
    let mut stdin = launcher.stdin.take();
    if let Some(stdin) = stdin.as_mut() {
        let _ = stdin.write_all(b"nothing secret\n");
    }
    let mut secretgate = 0;
    wait_for("the launcher to start secretgate", || {
        secretgate = children(launcher.id()).first().copied().unwrap_or(0);
        secretgate != 0
    });
    let status = Command::new("kill")
        .args(["-TERM", &launcher.id().to_string()])
        .status()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(status.success());
    let exited = launcher.wait().unwrap_or_else(|err| panic!("{err}"));
    // secretgate died of SIGTERM, and the launcher of the same signal.
    assert_eq!(exited.signal(), Some(15), "{exited:?}");
    wait_for("secretgate to stop", || !alive(secretgate));
    drop(stdin);
}
