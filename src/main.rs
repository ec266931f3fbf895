//! The `secretgate` binary: all logic lives in the library.

fn main() -> std::process::ExitCode {
    ignore_file_size_signal();
    std::process::ExitCode::from(secretgate::cli::main() as u8)
}

/// A write past `ulimit -f` must fail with an error (EFBIG) that names the
/// file and removes the temporary report, not kill the process with SIGXFSZ
/// and leave a partial 0600 temporary file holding secrets behind.
#[cfg(unix)]
fn ignore_file_size_signal() {
    // SAFETY: setting SIGXFSZ's disposition to SIG_IGN at start-up, before any
    // other thread exists, installs no handler and touches no Rust state.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

#[cfg(not(unix))]
fn ignore_file_size_signal() {}
