//! Embeds every `patterns/*.toml` file in the binary, so the shipped rule set is
//! exactly what the repository holds and needs no files at run time.

use std::env;
use std::fs;
use std::io::Write;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    detect_test_tools();
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let patterns_dir = manifest_dir.join("patterns");
    println!("cargo:rerun-if-changed={}", patterns_dir.display());

    let mut files: Vec<PathBuf> = fs::read_dir(&patterns_dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();

    let out_path = PathBuf::from(env::var("OUT_DIR")?).join("embedded_patterns.rs");
    let mut out = fs::File::create(out_path)?;
    writeln!(
        out,
        "/// Every `patterns/*.toml` file, as (file name, contents)."
    )?;
    writeln!(out, "pub static EMBEDDED_PATTERNS: &[(&str, &str)] = &[")?;
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("pattern file name is not UTF-8")?;
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            file.display().to_string()
        )?;
    }
    writeln!(out, "];")?;
    Ok(())
}

/// Tools some integration tests drive (hook managers in
/// tests/hook_managers.rs, node for the npm launcher in tests/npm_launcher.rs):
/// a test whose tool is not installed is compiled `#[ignore]`d, with the
/// reason shown by `cargo test`, instead of passing without running. Detected
/// when the build script runs (also after PATH changes); `.ci/run` installs
/// the hook managers.
fn detect_test_tools() {
    println!("cargo::rerun-if-env-changed=PATH");
    for (tool, cfg) in [
        ("pre-commit", "have_pre_commit"),
        ("prek", "have_prek"),
        ("node", "have_node"),
    ] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        let works = std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success());
        if works {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
