//! Command-line interface: flags, and one short function per subcommand.
//! Exit codes are decided in one place, [`ExitStatus`].

mod archives;
mod event_range;
mod history_cmd;
mod install_cmd;
mod policy;
mod rules_cmd;
mod scan_cmd;
mod staged_cmd;
mod verify_cmd;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use archives::ArchiveArgs;

use crate::report::Format;
use crate::rules::{RuleSet, RuleSources};

/// What a run ended in; the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything was scanned and nothing was found.
    Clean = 0,
    /// Findings were reported.
    Findings = 1,
    /// A usage or runtime error, or a clean run that could not read everything.
    Error = 2,
}

impl ExitStatus {
    /// The exit status of a finished scan: findings that fail the gate
    /// (at or above `--min-confidence`) first, then unread input.
    pub fn of(outcome: &crate::pipeline::ScanOutcome) -> ExitStatus {
        if outcome.blocking() > 0 {
            ExitStatus::Findings
        } else if outcome.stats.has_unread_input() {
            ExitStatus::Error
        } else {
            ExitStatus::Clean
        }
    }
}

/// secretgate: find secrets in files and git history, before they leak.
#[derive(Debug, Parser)]
#[command(name = "secretgate", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (default: the current directory).
    Scan(ScanArgs),
    /// Audit a git repository's whole history: every blob any ref reaches,
    /// commit and tag messages, each blob once, with the commit that added it.
    History(HistoryArgs),
    /// Scan what the next commit would add (the pre-commit gate): the index
    /// against HEAD, added lines only.
    Staged(StagedArgs),
    /// Install the pre-commit and/or pre-push hook into a repository.
    Install(InstallArgs),
    /// Remove the hooks `install` put there, restoring any it chained.
    Uninstall(UninstallArgs),
    /// List the rules, or check rule files' examples.
    Rules(RulesArgs),
    /// After a history rewrite: check that none of the secrets of an earlier
    /// `history` report remain anywhere in the repository (refs, reflogs,
    /// stashes, unreachable objects), and say where survivors are.
    Verify(VerifyArgs),
}

/// Which rules to load; shared by every command that scans.
#[derive(Debug, Args, Clone)]
pub struct RuleArgs {
    /// Add rules from a TOML file or a directory of them (repeatable).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Load only these rule files, not the built-in rules (repeatable).
    #[arg(long = "rules-only", value_name = "PATH", conflicts_with = "rules")]
    pub rules_only: Vec<PathBuf>,
}

impl RuleArgs {
    /// Loads the chosen rules plus the config's extra rules, then applies the
    /// config's disabled rules and entropy floors.
    pub fn load_with(&self, policy: &Policy) -> anyhow::Result<RuleSet> {
        let mut sources = self.sources();
        sources.config = policy
            .config
            .as_ref()
            .map(|config| crate::rules::ConfigRuleFiles {
                paths: config.extra_rules.clone(),
                trust: config.trust.clone(),
            });
        let mut rules = RuleSet::load(&sources)?;
        if let Some(config) = &policy.config {
            config.apply_to_rules(&mut rules)?;
        }
        Ok(rules)
    }

    /// Loads the rules under the policy and compiles the engine; also returns
    /// how many rules it runs, for the summary.
    pub fn engine(&self, policy: &Policy) -> anyhow::Result<(crate::engine::Engine, usize)> {
        let rules = self.load_with(policy)?;
        let count = rules.rules.len() + rules.file_rules.len();
        let engine = crate::engine::Engine::new(rules)?.with_inline_allow(!policy.no_inline_allow);
        Ok((engine, count))
    }

    /// Loads the chosen rules.
    pub fn load(&self) -> anyhow::Result<RuleSet> {
        Ok(RuleSet::load(&self.sources())?)
    }

    /// The rule files the flags name.
    fn sources(&self) -> RuleSources {
        if self.rules_only.is_empty() {
            RuleSources {
                builtin: true,
                paths: self.rules.clone(),
                config: None,
            }
        } else {
            RuleSources {
                builtin: false,
                paths: self.rules_only.clone(),
                config: None,
            }
        }
    }
}

/// How results are written; shared by every command that reports findings.
#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to FILE (mode 0600: it may hold secrets) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Redact secrets in every format (on by default when CI=true).
    #[arg(long, overrides_with = "no_redact")]
    pub redact: bool,
    /// Show full secrets in JSON, JSONL and SARIF even when CI=true.
    #[arg(long = "no-redact")]
    pub no_redact: bool,
}

impl OutputArgs {
    /// Whether to redact: asked for, or running in CI and not refused.
    pub fn redaction(&self) -> bool {
        redaction(self.redact, self.no_redact)
    }
}

/// Whether to redact, from `--redact` / `--no-redact`: asked for, or running
/// in CI and not refused. One rule for every command.
pub fn redaction(redact: bool, no_redact: bool) -> bool {
    redact || (!no_redact && in_ci())
}

/// Whether we run in CI (`CI` set to anything but empty, `false` or `0`):
/// redact by default, and draw no progress bar.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Findings the team has accepted; shared by every command that reports.
#[derive(Debug, Args, Clone)]
pub struct AllowArgs {
    /// Fail only on findings not in this earlier JSON report (matched by fingerprint).
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<PathBuf>,
    /// Ignore file of accepted fingerprints (default: `.secretgateignore` at the
    /// repository's top level, whatever the current directory; outside a
    /// repository, at the root of what is scanned; when it exists).
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// List ignore-file entries that matched nothing, so they can be removed.
    #[arg(long)]
    pub report_unused_ignores: bool,
    /// Repository config (default: `.secretgate.toml` at the repository's top
    /// level, whatever the current directory; outside a repository, at the
    /// root of what is scanned).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore the scanned repository's own `.secretgate.toml` and
    /// `.secretgateignore` (for CI on untrusted changes: a pull request could
    /// otherwise turn rules off or accept its own key). `--ignore-file` still
    /// reads the file it names.
    #[arg(long, conflicts_with = "config")]
    pub no_repo_config: bool,
    /// Report findings on lines with a `secretgate:allow` comment like any
    /// other (for CI on untrusted changes: their author wrote the comment too).
    #[arg(long)]
    pub no_inline_allow: bool,
    /// Fail on findings of at least this confidence (default: medium, or
    /// `[gate] min_confidence` in .secretgate.toml). Findings below it are
    /// still reported, marked, and do not fail.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub min_confidence: Option<crate::rules::Confidence>,
}

/// The team's policy for one run: the repository config, the ignore file and
/// the baseline.
#[derive(Debug, Default)]
pub struct Policy {
    /// `.secretgate.toml`, when there is one and it is not refused.
    pub config: Option<crate::config::RepoConfig>,
    /// Accepted fingerprints.
    pub allow: crate::allow::AllowList,
    /// How reported paths map to the repository-relative paths the config's
    /// globs and the ignore file's paths name.
    pub paths: policy::PathBase,
    /// The gate's confidence threshold: the flag, else the config, else medium.
    pub threshold: crate::confidence::Threshold,
    /// `--no-inline-allow`: `secretgate:allow` comments accept nothing.
    pub no_inline_allow: bool,
}

impl AllowArgs {
    /// Loads the config (`--config`, or `root/.secretgate.toml` unless
    /// `--no-repo-config`), the ignore file (`--ignore-file`, or
    /// `root/.secretgateignore` unless `--no-repo-config`) and the baseline (`--baseline`, or the
    /// config's); `root` is the repository's top level (see `cli::policy`).
    /// What the repository itself names is read under
    /// [`crate::confined::Trust::Repository`]: regular files inside `root`
    /// only, of bounded size.
    pub fn load(&self, root: &std::path::Path) -> anyhow::Result<Policy> {
        use crate::confined::Trust;
        let existing = |name: &str| {
            let path = root.join(name);
            path.symlink_metadata().is_ok().then_some(path)
        };
        let repository = || Trust::repository(root);
        let config = match (&self.config, self.no_repo_config) {
            (Some(path), _) => Some(crate::config::RepoConfig::load(path, Trust::User)?),
            (None, true) => None,
            (None, false) => match existing(crate::config::CONFIG_FILE_NAME) {
                Some(path) => Some(crate::config::RepoConfig::load(&path, repository()?)?),
                None => None,
            },
        };
        let ignore = match (&self.ignore_file, self.no_repo_config) {
            (Some(path), _) => Some((path.clone(), Trust::User)),
            (None, true) => None,
            (None, false) => match existing(crate::allow::IGNORE_FILE_NAME) {
                Some(path) => Some((path, repository()?)),
                None => None,
            },
        };
        let baseline = match (&self.baseline, &config) {
            (Some(path), _) => Some((path.clone(), Trust::User)),
            (None, Some(config)) => config
                .baseline
                .clone()
                .map(|path| (path, config.trust.clone())),
            (None, None) => None,
        };
        let allow = crate::allow::AllowList::load(ignore.as_ref(), baseline.as_ref())?;
        let threshold = self
            .min_confidence
            .or_else(|| config.as_ref().and_then(|c| c.min_confidence))
            .map(crate::confidence::Threshold)
            .unwrap_or_default();
        Ok(Policy {
            config,
            allow,
            paths: policy::PathBase::default(),
            threshold,
            no_inline_allow: self.no_inline_allow,
        })
    }

    /// Takes accepted findings out of `outcome`: paths the config allows and
    /// ignore entries, each accepting a finding only when it covers every
    /// path that holds it, then the baseline (see `cli::policy`); and records
    /// what the config changed, with what `engine` dropped because of it.
    pub fn apply(
        &self,
        policy: &Policy,
        engine: &crate::engine::Engine,
        outcome: &mut crate::pipeline::ScanOutcome,
    ) {
        outcome.threshold = policy.threshold;
        policy.apply(outcome, self.report_unused_ignores, engine.rules());
        if let Some(config) = &policy.config {
            let baseline = self
                .baseline
                .is_none()
                .then_some(config.baseline.as_deref())
                .flatten();
            outcome.config = config.summary_for(engine.rules(), baseline);
        }
        let dropped = engine.config_drops();
        outcome.suppressed.entropy_floor = dropped.entropy_floor;
        outcome.suppressed.public_values = dropped.public_values;
    }

    /// Whether output streamed before the scan ends holds `finding` back:
    /// accepted, or not final yet (written at the end if it survives).
    pub fn suppresses(&self, policy: &Policy, finding: &crate::finding::Finding) -> bool {
        !policy.final_now(finding)
    }
}

impl OutputArgs {
    /// Writes the report in the chosen format to the chosen destination.
    pub fn write(
        &self,
        outcome: &crate::pipeline::ScanOutcome,
        rules_loaded: usize,
        elapsed: std::time::Duration,
    ) -> anyhow::Result<()> {
        self.write_with_epilogue(outcome, rules_loaded, elapsed, None)
    }

    /// Like [`OutputArgs::write`], with a closing message after human output
    /// (what a blocked commit should do next); machine formats never get it.
    pub fn write_with_epilogue(
        &self,
        outcome: &crate::pipeline::ScanOutcome,
        rules_loaded: usize,
        elapsed: std::time::Duration,
        epilogue: Option<&str>,
    ) -> anyhow::Result<()> {
        self.finish(None, outcome, rules_loaded, elapsed, epilogue)
    }

    /// For `--format jsonl`, the report opened before the scan so findings
    /// can be written as they are found (see [`crate::pipeline::FindingSink`]);
    /// `None` for formats written whole at the end.
    pub fn stream(
        &self,
    ) -> anyhow::Result<Option<crate::report::jsonl::Stream<crate::outfile::Output>>> {
        if self.format != Format::Jsonl {
            return Ok(None);
        }
        let out = open_output(self.output.as_ref())?;
        Ok(Some(crate::report::jsonl::Stream::new(
            out,
            self.redaction(),
        )))
    }

    /// Ends the report: the last lines of a stream from
    /// [`OutputArgs::stream`], or the whole report in the chosen format. A
    /// report file appears only complete (see [`crate::outfile`]); an error
    /// names the file.
    pub fn finish(
        &self,
        stream: Option<crate::report::jsonl::Stream<crate::outfile::Output>>,
        outcome: &crate::pipeline::ScanOutcome,
        rules_loaded: usize,
        elapsed: std::time::Duration,
        epilogue: Option<&str>,
    ) -> anyhow::Result<()> {
        use crate::report::{ReportOptions, human, json, jsonl, sarif};
        use std::io::Write as _;
        let options = ReportOptions {
            redact: self.redaction(),
            rules_loaded,
            elapsed,
        };
        let name = output_name(self.output.as_ref());
        if let Some(stream) = stream {
            let written = stream
                .finish(outcome, &options)
                .and_then(crate::outfile::Output::commit);
            return ignore_broken_pipe(written, &name);
        }
        let mut out = open_output(self.output.as_ref())?;
        let written = match self.format {
            Format::Human => {
                human::write(&mut out, outcome, &options).and_then(|()| match epilogue {
                    Some(text) => writeln!(out, "{text}"),
                    None => Ok(()),
                })
            }
            Format::Json => json::write(&mut out, outcome, &options),
            Format::Jsonl => jsonl::write(&mut out, outcome, &options),
            Format::Sarif => sarif::write(&mut out, outcome, &options),
        }
        .and_then(|()| out.commit());
        ignore_broken_pipe(written, &name)
    }

    /// Whether the report is human text on stdout, where a hook that passes
    /// should print nothing at all.
    pub fn is_human_on_stdout(&self) -> bool {
        self.format == Format::Human && self.output.is_none()
    }
}

/// `secretgate scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Also scan files excluded by .gitignore, .ignore and git's exclude files.
    #[arg(long)]
    pub no_ignore: bool,
    /// Skip (and count) files larger than this many bytes; 0 scans everything.
    #[arg(long, value_name = "BYTES", default_value_t = 25 * 1024 * 1024)]
    pub max_file_size: u64,
    /// How archives are opened.
    #[command(flatten)]
    pub archives: ArchiveArgs,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Rules to run.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Accepted findings.
    #[command(flatten)]
    pub allow: AllowArgs,
    /// Report format and destination.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `secretgate history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The repository: a work tree, a linked work tree, a `.git` directory or
    /// a bare repository (default: the repository around the current directory).
    #[arg(value_name = "REPO", default_value = ".")]
    pub repo: PathBuf,
    /// Also scan every blob in the object database that no ref reaches
    /// (dangling, stashed-and-dropped, rewritten away), loose, packed or in
    /// alternates.
    #[arg(long, conflicts_with_all = ["range", "since_commit"])]
    pub all_objects: bool,
    /// Scan only what `A..B` adds: blobs in commits reachable from B and not
    /// from A that A's history does not already hold, and those commits' messages.
    #[arg(long, value_name = "A..B", conflicts_with = "since_commit")]
    pub range: Option<String>,
    /// Same as `--range COMMIT..HEAD`: what was committed after COMMIT.
    #[arg(long, value_name = "COMMIT")]
    pub since_commit: Option<String>,
    /// Read git's pre-push lines (`<local ref> <local sha> <remote ref> <remote
    /// sha>`) from stdin and scan exactly the commits being pushed: those not
    /// reachable from the remote's old tips or from any remote-tracking ref.
    /// Without lines, the push pre-commit or prek describe (PRE_COMMIT_TO_REF,
    /// PRE_COMMIT_LOCAL_BRANCH); with neither, an error.
    #[arg(long, conflicts_with_all = ["range", "since_commit", "all_objects"])]
    pub pre_push: bool,
    /// In GitHub Actions: scan what the event that started the job adds,
    /// from its payload (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH): a pull
    /// request's base..head, a push's before..after, for a new branch or a
    /// force-push whose old tip is gone what the default branch does not
    /// reach, nothing for a deletion, the whole history for other events.
    #[arg(long, conflicts_with_all = ["range", "since_commit", "all_objects", "pre_push"])]
    pub range_from_event: bool,

    /// With `--pre-push`: the remote pushed to (git passes its name to the
    /// hook as its first argument; pre-commit and prek set
    /// PRE_COMMIT_REMOTE_NAME). Only its remote-tracking refs count as what
    /// the remote already has; without it, no remote's do.
    #[arg(
        long,
        value_name = "NAME",
        env = "PRE_COMMIT_REMOTE_NAME",
        requires = "pre_push"
    )]
    pub remote: Option<String>,
    /// Also audit the whole history of each submodule whose repository is
    /// here (checked out or in `.git/modules`); findings carry its path.
    #[arg(long, conflicts_with_all = ["range", "since_commit", "pre_push", "range_from_event"])]
    pub recurse_submodules: bool,
    /// Skip (and count) blobs larger than this many bytes; 0 scans everything.
    #[arg(long, value_name = "BYTES", default_value_t = 25 * 1024 * 1024)]
    pub max_file_size: u64,
    /// How archives are opened.
    #[command(flatten)]
    pub archives: ArchiveArgs,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Scan every version of every file in full. By default a version stored
    /// as a delta is scanned only where it differs from its base, with the
    /// base's matches carried over: the same findings, several times faster.
    /// This flag is for checking that claim.
    #[arg(long)]
    pub full_rescan: bool,
    /// No progress bar and no notes on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Files for `git filter-repo` / BFG (they hold the secrets: mode 0600).
    #[command(flatten)]
    pub emit: EmitArgs,
    /// Rules to run.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Accepted findings.
    #[command(flatten)]
    pub allow: AllowArgs,
    /// Report format and destination.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The cleanup files `history` can write for a rewrite; they hold the real
/// secrets, whatever the redaction setting.
#[derive(Debug, Args, Clone, Default)]
pub struct EmitArgs {
    /// Write every distinct secret found as a `--replace-text` file for `git
    /// filter-repo` and BFG (`VALUE==>***REMOVED***`, or `regex:`), mode 0600.
    #[arg(long, value_name = "FILE")]
    pub emit_replacements: Option<PathBuf>,
    /// Write the blob ids of whole secret files (a tracked `.env`, a private
    /// key file) for `--strip-blobs-with-ids`, mode 0600.
    #[arg(long, value_name = "FILE")]
    pub emit_blob_ids: Option<PathBuf>,
    /// Write the paths of whole secret files for `git filter-repo
    /// --invert-paths --paths-from-file`, mode 0600.
    #[arg(long, value_name = "FILE")]
    pub emit_paths: Option<PathBuf>,
}

/// `secretgate verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The unredacted JSON report of the audit before the rewrite
    /// (`secretgate history --format json --no-redact -o FILE`).
    #[arg(long, value_name = "BEFORE.json")]
    pub report: PathBuf,
    /// The rewritten repository (default: the one around the current directory).
    #[arg(value_name = "REPO", default_value = ".")]
    pub repo: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the result to FILE (mode 0600) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Redact surviving secrets in the output (on by default when CI=true).
    #[arg(long, overrides_with = "no_redact")]
    pub redact: bool,
    /// Show surviving secrets in full even when CI=true.
    #[arg(long = "no-redact")]
    pub no_redact: bool,
}

/// `secretgate staged`.
#[derive(Debug, Args)]
pub struct StagedArgs {
    /// Only these files (repository-relative, as hook managers pass them);
    /// one whose staged content equals HEAD's is scanned whole, so
    /// `pre-commit run --all-files` checks everything.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The repository (default: the one around the current directory).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub repo: PathBuf,
    /// Skip (and count) staged files larger than this many bytes; 0 scans everything.
    #[arg(long, value_name = "BYTES", default_value_t = 25 * 1024 * 1024)]
    pub max_file_size: u64,
    /// How archives are opened.
    #[command(flatten)]
    pub archives: ArchiveArgs,
    /// Print a line even when nothing is found.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Rules to run.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Accepted findings.
    #[command(flatten)]
    pub allow: AllowArgs,
    /// Report format and destination.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Which hooks to install or remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HookChoice {
    /// Block commits that add secrets.
    PreCommit,
    /// Block pushes whose commits add secrets.
    PrePush,
    /// Both.
    All,
}

/// `secretgate install`.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Which hook.
    #[arg(long, value_enum, default_value_t = HookChoice::PreCommit)]
    pub hook: HookChoice,
    /// Keep an existing hook that secretgate did not write and run it first.
    #[arg(long)]
    pub chain: bool,
    /// The repository (default: the one around the current directory).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub repo: PathBuf,
}

/// `secretgate uninstall`.
#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Which hook.
    #[arg(long, value_enum, default_value_t = HookChoice::All)]
    pub hook: HookChoice,
    /// The repository (default: the one around the current directory).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub repo: PathBuf,
}

/// `secretgate rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// What to do; lists the rules when omitted.
    #[command(subcommand)]
    pub action: Option<RulesAction>,
    /// Rules to list.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// List as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `secretgate rules` actions.
#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// Load only the given rule files and run every example and negative
    /// example through the engine; exit 1 on any problem.
    Check {
        /// Rule files or directories; the built-in rules when none are given.
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

/// Parses arguments, runs the command and returns the exit status; errors are
/// printed here once, with their causes.
pub fn main() -> ExitStatus {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan_cmd::run(&args),
        Command::History(args) => history_cmd::run(&args),
        Command::Staged(args) => staged_cmd::run(&args),
        Command::Install(args) => install_cmd::install(&args),
        Command::Uninstall(args) => install_cmd::uninstall(&args),
        Command::Rules(args) => rules_cmd::run(&args),
        Command::Verify(args) => verify_cmd::run(&args),
    };
    match result {
        Ok(status) => status,
        Err(err) => {
            // Errors quote paths and ref names from the repository: escaped,
            // so none can drive the terminal.
            let message = crate::redact::printable_lines(&err.to_string());
            eprintln!("secretgate: error: {message}");
            for cause in err.chain().skip(1) {
                let cause = crate::redact::printable_lines(&cause.to_string());
                eprintln!("  caused by: {cause}");
            }
            ExitStatus::Error
        }
    }
}

/// Worker threads: as asked, or one per core.
fn worker_threads(asked: Option<usize>) -> usize {
    asked.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Opens the report destination: stdout, or a new file only the user can
/// read, which replaces `path` when committed (see [`crate::outfile`]).
fn open_output(path: Option<&PathBuf>) -> anyhow::Result<crate::outfile::Output> {
    use anyhow::Context as _;
    crate::outfile::Output::open(path.map(PathBuf::as_path))
        .with_context(|| format!("cannot write the report to {}", output_name(path)))
}

/// The report destination as error messages name it.
fn output_name(path: Option<&PathBuf>) -> String {
    match path {
        Some(path) => crate::redact::printable(&path.display().to_string()).into_owned(),
        None => crate::outfile::STDOUT_NAME.to_string(),
    }
}

/// Writing to a closed pipe (`| head`) is not an error worth a message; any
/// other write error names the destination (a full disk, say).
fn ignore_broken_pipe(result: std::io::Result<()>, name: &str) -> anyhow::Result<()> {
    match result {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => {
            Err(anyhow::Error::new(err).context(format!("cannot write the report to {name}")))
        }
        Ok(()) => Ok(()),
    }
}
