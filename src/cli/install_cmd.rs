//! `secretgate install` / `uninstall`: put the hooks where git runs them
//! (`core.hooksPath`, linked work trees and all), never silently over a hook
//! someone else wrote, and take away only what we put there.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::{ExitStatus, HookChoice, InstallArgs, UninstallArgs};

/// The line that marks a hook as ours; uninstall removes nothing without it.
const MARKER: &str = "# managed-by: secretgate";
/// Where `--chain` keeps the hook that was there before.
const CHAINED_SUFFIX: &str = ".secretgate-chained";

const PRE_COMMIT: &str = include_str!("../../hooks/pre-commit");
const PRE_PUSH: &str = include_str!("../../hooks/pre-push");

fn hooks_for(choice: HookChoice) -> Vec<(&'static str, &'static str)> {
    match choice {
        HookChoice::PreCommit => vec![("pre-commit", PRE_COMMIT)],
        HookChoice::PrePush => vec![("pre-push", PRE_PUSH)],
        HookChoice::All => vec![("pre-commit", PRE_COMMIT), ("pre-push", PRE_PUSH)],
    }
}

/// The directory git runs hooks from, as git itself resolves it.
fn hooks_dir(repo: &Path) -> anyhow::Result<PathBuf> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .output()
        .context("cannot run git to find the hooks directory (is git installed?)")?;
    if !output.status.success() {
        bail!(
            "{}: not a git repository, or git cannot read it: {}",
            repo.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the hooks directory {}", dir.display()))?;
    Ok(dir)
}

fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| text.contains(MARKER))
}

fn write_executable(path: &Path, content: &str) -> anyhow::Result<()> {
    std::fs::write(path, content).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", path.display()))?;
    }
    Ok(())
}

fn chained_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(CHAINED_SUFFIX);
    PathBuf::from(name)
}

/// Installs the chosen hooks.
pub fn install(args: &InstallArgs) -> anyhow::Result<ExitStatus> {
    let dir = hooks_dir(&args.repo)?;
    for (name, content) in hooks_for(args.hook) {
        let path = dir.join(name);
        let exists = path.exists();
        let was_ours = exists && is_ours(&path);
        if exists && !was_ours {
            if !args.chain {
                bail!(
                    "{} already exists and was not installed by secretgate; nothing was changed.\n  \
                     keep it and run it before secretgate: secretgate install --hook {name} --chain\n  \
                     or move it away yourself and run secretgate install again",
                    path.display()
                );
            }
            let chained = chained_path(&path);
            if chained.exists() {
                bail!(
                    "{} already exists: an earlier --chain kept a hook there; merge the two by hand",
                    chained.display()
                );
            }
            std::fs::rename(&path, &chained).with_context(|| {
                format!("cannot move {} to {}", path.display(), chained.display())
            })?;
            eprintln!(
                "secretgate: kept your {name} hook as {}; it runs first",
                chained.display()
            );
        }
        write_executable(&path, content)?;
        let verb = if was_ours { "updated" } else { "installed" };
        eprintln!("secretgate: {verb} {}", path.display());
    }
    Ok(ExitStatus::Clean)
}

/// Removes the hooks secretgate installed, restoring chained ones.
pub fn uninstall(args: &UninstallArgs) -> anyhow::Result<ExitStatus> {
    let dir = hooks_dir(&args.repo)?;
    for (name, _) in hooks_for(args.hook) {
        let path = dir.join(name);
        if !path.exists() {
            eprintln!("secretgate: no {name} hook in {}", dir.display());
            continue;
        }
        if !is_ours(&path) {
            eprintln!(
                "secretgate: {} was not installed by secretgate; left alone",
                path.display()
            );
            continue;
        }
        std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        let chained = chained_path(&path);
        if chained.exists() {
            std::fs::rename(&chained, &path).with_context(|| {
                format!("cannot restore {} to {}", chained.display(), path.display())
            })?;
            eprintln!("secretgate: removed the {name} hook and restored the one it chained");
        } else {
            eprintln!("secretgate: removed {}", path.display());
        }
    }
    Ok(ExitStatus::Clean)
}
