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

/// The hooks' line that names the binary which installed them: empty as
/// shipped, filled in by [`with_installer`].
const INSTALLED_LINE: &str = "installed=''";

/// `hook` with [`INSTALLED_LINE`] naming `binary`, so the hook runs the
/// secretgate that installed it even where that is not on PATH (npx runs
/// the binary from node_modules, a venv's is on PATH only while active).
/// The path is single-quoted for `sh`; on Windows it is written with `/`,
/// which git's `sh` reads.
fn with_installer(hook: &str, binary: &str) -> String {
    let binary = if cfg!(windows) {
        binary.replace('\\', "/")
    } else {
        binary.to_string()
    };
    let quoted = format!("installed='{}'", binary.replace('\'', r"'\''"));
    hook.replacen(INSTALLED_LINE, &quoted, 1)
}

/// The absolute path of the running binary, when it has one `sh` can be
/// given (valid UTF-8); `None` leaves the hook to find secretgate on PATH.
/// Not canonicalized: a package manager's stable link outlives the
/// versioned file it points at.
fn this_binary() -> Option<String> {
    let path = std::env::current_exe().ok()?;
    if !path.is_absolute() {
        return None;
    }
    path.to_str().map(str::to_string)
}

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
    let binary = this_binary();
    if binary.is_none() {
        eprintln!(
            "secretgate: cannot name this binary's path in the hook; it will run `secretgate` from PATH"
        );
    }
    for (name, content) in hooks_for(args.hook) {
        let content = match &binary {
            Some(binary) => with_installer(content, binary),
            None => content.to_string(),
        };
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
        write_executable(&path, &content)?;
        let verb = if was_ours { "updated" } else { "installed" };
        match &binary {
            Some(binary) => eprintln!("secretgate: {verb} {} (runs {binary})", path.display()),
            None => eprintln!("secretgate: {verb} {}", path.display()),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hook_has_the_line_install_fills_in() {
        for (name, hook) in hooks_for(HookChoice::All) {
            assert_eq!(hook.matches(INSTALLED_LINE).count(), 1, "{name}");
        }
    }

    #[test]
    fn the_installer_path_is_quoted_for_sh() {
        let hook = with_installer("a\ninstalled=''\nb\n", "/opt/it's here/secretgate");
        assert_eq!(hook, "a\ninstalled='/opt/it'\\''s here/secretgate'\nb\n");
    }
}
