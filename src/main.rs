//! The `secretgate` binary: all logic lives in the library.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(secretgate::cli::main() as u8)
}
