//! `secretgate history`: the whole-history audit of a git repository.

use std::io::IsTerminal as _;
use std::time::Instant;

use super::{EmitArgs, ExitStatus, HistoryArgs};
use crate::finding::Finding;
use crate::pipeline::{Collector, CommitInfos, attach_history, resolve_history_paths};
use crate::report::cleanup::{self, CleanupFiles, Emitted};
use crate::sources::SourceItem;
use crate::sources::git::{self, History, HistoryOptions, NameTags, ReadOptions, RevRange};

/// Plans the history, scans every planned blob and message, and writes the report.
pub fn run(args: &HistoryArgs) -> anyhow::Result<ExitStatus> {
    let started = Instant::now();
    refuse_stdout(&args.emit)?;
    let repo = git::open(&args.repo)?;
    // Policy files at the repository's top level, whatever the current
    // directory (the repository itself when bare).
    let allow = args
        .allow
        .load(&super::policy::repository_top(&repo.to_thread_local()))?;
    let (engine, rules_loaded) = args.rules.engine(&allow)?;
    let threads = super::worker_threads(args.threads);
    let superproject = repo.clone();
    let range = match (&args.range, &args.since_commit) {
        _ if args.pre_push => {
            // A terminal is a person, not git: no lines to wait for.
            let pushed = if std::io::stdin().is_terminal() {
                pre_push_range(&repo, args.remote.as_deref(), std::io::empty())?
            } else {
                pre_push_range(&repo, args.remote.as_deref(), std::io::stdin().lock())?
            };
            match pushed {
                Some(range) => Some(range),
                // Only deletions: nothing is pushed, nothing to scan.
                None => return Ok(ExitStatus::Clean),
            }
        }
        _ if args.range_from_event => {
            use super::event_range::EventScope;
            let scope = super::event_range::from_env(&repo.to_thread_local())?;
            let (range, why) = match scope {
                EventScope::Range(range, why) => (Some(range), why),
                EventScope::Whole(why) => (None, why),
                EventScope::Nothing(why) => {
                    if !args.quiet {
                        eprintln!("secretgate: {}", crate::redact::printable(&why));
                    }
                    return Ok(ExitStatus::Clean);
                }
            };
            if !args.quiet {
                eprintln!("secretgate: {}", crate::redact::printable(&why));
            }
            range
        }
        (Some(range), _) => Some(RevRange::parse(range)?),
        (None, Some(commit)) => Some(RevRange {
            exclude: vec![commit.clone()],
            include: vec!["HEAD".to_string()],
            names: Vec::new(),
        }),
        (None, None) => None,
    };
    let options = HistoryOptions {
        all_objects: args.all_objects,
        range,
        threads,
        name_tags: Some(name_tags(&engine)),
    };
    let spinner = show_progress(args.quiet).then(|| {
        let spinner =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        spinner.set_message("reading refs, commits and trees…");
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        spinner
    });
    let planned = History::plan(repo, &options);
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    let mut history = planned?;
    if !args.quiet {
        for note in &history.stats().notes {
            eprintln!("secretgate: note: {}", crate::redact::printable(note));
        }
    }

    let skipped = history.take_skipped();
    // `--format jsonl` writes each blob's findings as soon as it is scanned,
    // with the commit's author and date (known from the plan); only
    // `occurrences` waits for the end (see report::jsonl).
    let stream = args.output.stream()?;
    let commits = CommitInfos::new(&history, &engine);
    let sink = |found: &[Finding]| {
        if let Some(stream) = &stream {
            let complete: Vec<Finding> = found
                .iter()
                .filter(|f| !args.allow.suppresses(&allow, f))
                .cloned()
                .map(|mut f| {
                    if let Some(git) = f.git.as_mut() {
                        commits.complete(git);
                    }
                    f
                })
                .collect();
            stream.findings(&complete);
        }
    };
    let limits = args.archives.limits(args.max_file_size);
    let collector = Collector::new(&engine)
        .with_sink(&sink)
        .with_archive_limits(limits);
    for skipped in skipped {
        collector.accept(SourceItem::Skipped(skipped));
    }
    let progress = progress_bar(history.len() as u64, args.quiet);
    let read_options = ReadOptions {
        threads,
        max_file_size: args.max_file_size,
    };
    history.read(&read_options, &|item, origin, derived| {
        let derived = derived.filter(|_| !args.full_rescan);
        let reusable = collector.accept_git(item, origin, derived);
        if let Some(bar) = &progress {
            bar.inc(1);
        }
        reusable
    });
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let mut outcome = collector.finish();
    resolve_history_paths(&mut outcome, &history, &engine);
    if args.recurse_submodules {
        let read = ReadOptions {
            threads,
            max_file_size: args.max_file_size,
        };
        // Submodule findings are complete when their repository is done:
        // streamed then, as the superproject's were.
        let emit = |found: &[Finding]| {
            if let Some(stream) = &stream {
                let kept: Vec<Finding> = found
                    .iter()
                    .filter(|f| !args.allow.suppresses(&allow, f))
                    .cloned()
                    .collect();
                stream.findings(&kept);
            }
        };
        let scan = SubScan {
            engine: &engine,
            read: &read,
            limits,
        };
        recurse_submodules(&superproject, &scan, &mut outcome, 0, Some(&emit));
    }
    args.allow.apply(&allow, &engine, &mut outcome);
    attach_history(&mut outcome, &commits);
    if let Some(stream) = &stream {
        // Findings that were not final when their blob was scanned: a
        // sensitive file only a later path shows, or a finding moved off a
        // covered path to one that is not.
        let late: Vec<Finding> = outcome
            .findings
            .iter()
            .filter(|f| f.deferred)
            .cloned()
            .collect();
        stream.findings(&late);
    }

    let status = ExitStatus::of(&outcome);
    // The cleanup covers what fails the gate: findings below it (a weak
    // password in a test) are not worth a history rewrite unless asked for
    // with a lower --min-confidence.
    let failing: Vec<Finding> = outcome
        .findings
        .iter()
        .filter(|f| outcome.fails(f))
        .cloned()
        .collect();
    let files = CleanupFiles::from_findings(&failing);
    let emitted = write_cleanup_files(&args.emit, &files)?;
    // The plan fits an audit of the whole history; a range or a push is
    // fixed by amending the new commits instead.
    let plan = (!failing.is_empty() && options.range.is_none())
        .then(|| cleanup::plan(&failing, &files, &emitted));
    // A hook says nothing when all is well.
    let quiet_hook = args.pre_push
        && status == ExitStatus::Clean
        && outcome.findings.is_empty()
        && args.output.is_human_on_stdout();
    if !quiet_hook {
        args.output.finish(
            stream,
            &outcome,
            rules_loaded,
            started.elapsed(),
            plan.as_deref(),
        )?;
    }
    Ok(status)
}

/// Tags each file name with the sensitive-file rules that could flag a path
/// ending in it, so a blob that had such a name anywhere in history is
/// judged by those rules at every path it had, not only its first.
fn name_tags(engine: &crate::engine::Engine) -> NameTags {
    use std::sync::Arc;
    let filters: Arc<Vec<crate::rules::NameFilter>> = Arc::new(
        engine
            .rules()
            .file_rules
            .iter()
            .map(|rule| rule.names.clone())
            .collect(),
    );
    let tagged = |filters: &[crate::rules::NameFilter],
                  hit: &dyn Fn(&crate::rules::NameFilter) -> bool| {
        filters
            .iter()
            .enumerate()
            .filter(|(_, filter)| hit(filter))
            .map(|(index, _)| index as u32)
            .collect::<Vec<u32>>()
    };
    let dirs = Arc::clone(&filters);
    NameTags {
        files: Arc::new(move |name: &str| tagged(&filters, &|f| f.admits_file(name))),
        dirs: Arc::new(move |name: &str| tagged(&dirs, &|f| f.admits_dir(name))),
    }
}

/// How each submodule is scanned: as the superproject is.
struct SubScan<'a> {
    engine: &'a crate::engine::Engine,
    read: &'a ReadOptions,
    limits: crate::sources::archive::Limits,
}

/// Where a submodule's finished findings go (the JSON Lines stream).
type Emit<'a> = &'a dyn Fn(&[Finding]);

/// How deep `--recurse-submodules` follows submodules of submodules.
const MAX_SUBMODULE_DEPTH: usize = 8;

/// Scans the whole history of every submodule `outcome` lists as skipped
/// whose repository is here (checked out, or in `.git/modules`), and puts its
/// findings and skips in `outcome` under the submodule's path. A submodule
/// whose repository is absent stays listed, with what to do.
fn recurse_submodules(
    superproject: &gix::ThreadSafeRepository,
    scan: &SubScan<'_>,
    outcome: &mut crate::pipeline::ScanOutcome,
    depth: usize,
    emit: Option<Emit<'_>>,
) {
    use crate::sources::SkipReason;
    let (engine, read) = (scan.engine, scan.read);
    let paths: Vec<String> = outcome
        .stats
        .skipped
        .iter()
        .filter(|s| s.reason == SkipReason::Submodule)
        .map(|s| s.path.clone())
        .collect();
    for path in paths {
        let Some(repo) = submodule_repository(superproject, &path) else {
            if let Some(skip) = outcome
                .stats
                .skipped
                .iter_mut()
                .find(|s| s.reason == SkipReason::Submodule && s.path == path)
            {
                skip.detail = format!(
                    "{}; its repository is not here (run `git submodule update --init` first)",
                    skip.detail
                );
            }
            continue;
        };
        let options = HistoryOptions {
            name_tags: Some(name_tags(engine)),
            ..HistoryOptions::default()
        };
        let mut sub = match History::plan(repo.clone(), &options) {
            Ok(history) => history,
            Err(err) => {
                outcome.stats.skipped.push(crate::sources::Skipped {
                    path: path.clone(),
                    reason: SkipReason::Unreadable,
                    detail: format!("submodule repository cannot be read: {err}"),
                });
                continue;
            }
        };
        let collector = Collector::new(engine).with_archive_limits(scan.limits);
        for skipped in sub.take_skipped() {
            collector.accept(SourceItem::Skipped(skipped));
        }
        sub.read(read, &|item, origin, derived| {
            collector.accept_git(item, origin, derived)
        });
        let mut sub_outcome = collector.finish();
        resolve_history_paths(&mut sub_outcome, &sub, engine);
        if depth + 1 < MAX_SUBMODULE_DEPTH {
            // Nested findings reach `emit` with this submodule's, below.
            recurse_submodules(&repo, scan, &mut sub_outcome, depth + 1, None);
        }
        attach_history(&mut sub_outcome, &CommitInfos::new(&sub, engine));
        if let Some(emit) = emit {
            let prefixed: Vec<Finding> = sub_outcome
                .findings
                .iter()
                .cloned()
                .map(|mut f| {
                    f.path = format!("{path}/{}", f.path);
                    f
                })
                .collect();
            emit(&prefixed);
        }
        outcome
            .stats
            .skipped
            .retain(|s| !(s.reason == SkipReason::Submodule && s.path == path));
        outcome.absorb(sub_outcome, &path);
    }
}

/// The repository of the submodule at `path`: its checkout, or its git
/// directory under the superproject's `modules/`.
fn submodule_repository(
    superproject: &gix::ThreadSafeRepository,
    path: &str,
) -> Option<gix::ThreadSafeRepository> {
    let local = superproject.to_thread_local();
    if let Some(checkout) = local.workdir().map(|dir| dir.join(path))
        && checkout.join(".git").exists()
    {
        return gix::ThreadSafeRepository::open(checkout).ok();
    }
    let modules = local.git_dir().join("modules").join(path);
    modules
        .is_dir()
        .then(|| gix::ThreadSafeRepository::open(modules).ok())
        .flatten()
}

/// Cleanup files locate or hold secrets: they go to files, never to stdout.
fn refuse_stdout(emit: &EmitArgs) -> anyhow::Result<()> {
    let asked = [
        (&emit.emit_replacements, "--emit-replacements"),
        (&emit.emit_blob_ids, "--emit-blob-ids"),
        (&emit.emit_paths, "--emit-paths"),
    ];
    for (path, flag) in asked {
        if path.as_ref().is_some_and(|p| p.as_os_str() == "-") {
            anyhow::bail!(
                "{flag} never writes to stdout (the file holds or locates secrets); give a file outside the repository, such as ../cleanup.txt"
            );
        }
    }
    Ok(())
}

/// Writes the cleanup files asked for (mode 0600, also when empty, so a
/// script can rely on them) and says on stderr what each holds.
fn write_cleanup_files(emit: &EmitArgs, files: &CleanupFiles) -> anyhow::Result<Emitted> {
    let jobs = [
        (
            &emit.emit_replacements,
            "replacements",
            files.replacements_text(),
            files.values.len(),
            "secret value(s) for `git filter-repo --replace-text` / `bfg --replace-text`",
            "it holds the secrets in clear",
        ),
        (
            &emit.emit_blob_ids,
            "blob ids",
            files.blob_ids_text(),
            files.blob_ids.len(),
            "blob id(s) of whole secret files for `--strip-blobs-with-ids`",
            "it points at the secret files",
        ),
        (
            &emit.emit_paths,
            "paths",
            files.paths_text(),
            files.paths.len(),
            "path(s) of whole secret files for `git filter-repo --invert-paths --paths-from-file`",
            "it points at the secret files",
        ),
    ];
    for (path, what, content, count, description, holds) in jobs {
        let Some(path) = path else { continue };
        cleanup::write_private(path, what, &content)?;
        eprintln!(
            "secretgate: wrote {count} {description} to {} (mode 0600); {holds}: keep it out of the repository and delete it after the rewrite",
            crate::redact::printable(&path.display().to_string())
        );
    }
    Ok(Emitted {
        replacements: emit.emit_replacements.clone(),
        blob_ids: emit.emit_blob_ids.clone(),
        paths: emit.emit_paths.clone(),
    })
}

/// The commits a push sends, from git's pre-push lines on stdin: every
/// pushed local tip (a tag as it is: its message and whatever it names are
/// pushed), minus what the remote had (its old tips, when we have them) and
/// minus everything the remote-tracking refs of `remote` (the remote pushed
/// to) reach. Another remote's refs say nothing about this one: a commit
/// pushed to a private mirror is still new to the public remote. `None`
/// when the push only deletes refs.
///
/// Hook managers (pre-commit, prek) do not forward git's lines; they name the
/// pushed range in their environment instead ([`ManagerPush`]). With neither,
/// nothing says what is pushed, and passing would let any push through
/// unchecked: an error.
fn pre_push_range(
    repo: &gix::ThreadSafeRepository,
    remote: Option<&str>,
    input: impl std::io::BufRead,
) -> anyhow::Result<Option<RevRange>> {
    use anyhow::Context as _;
    let repo = repo.to_thread_local();
    let mut include = Vec::new();
    let mut names = Vec::new();
    let mut exclude = Vec::new();
    let mut lines = 0;
    // What the remote had, as far as it is a commit we know: a tag that
    // named a blob or a tree excludes nothing.
    let known_commit = |rev: &str| {
        repo.rev_parse_single(rev)
            .ok()
            .and_then(|id| id.object().ok())
            .and_then(|object| object.peel_to_commit().ok())
            .map(|commit| commit.id.to_hex().to_string())
    };
    for line in input.lines() {
        let line = line.context("cannot read git's pre-push lines from stdin")?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_local_ref, local_sha, remote_ref, remote_sha] = fields[..] else {
            if line.trim().is_empty() {
                continue;
            }
            anyhow::bail!(
                "unexpected pre-push line {line:?}: expected `<local ref> <local sha> <remote ref> <remote sha>` (run this from a pre-push hook)"
            );
        };
        lines += 1;
        let is_zero = |sha: &str| sha.bytes().all(|b| b == b'0');
        if is_zero(local_sha) {
            continue; // a deletion pushes no content
        }
        // A tag may name a blob or a tree: shown under the ref it updates.
        include.push(local_sha.to_string());
        names.push(remote_ref.to_string());
        if !is_zero(remote_sha)
            && let Some(commit) = known_commit(remote_sha)
        {
            exclude.push(commit);
        }
    }
    if lines == 0 {
        let push = ManagerPush::from_env(|name| std::env::var(name).ok())
            .ok_or_else(|| anyhow::anyhow!(NOTHING_TO_CHECK))?;
        include.push(push.to);
        names.extend(push.remote_branch);
        if let Some(from) = push.from.as_deref().and_then(known_commit) {
            exclude.push(from);
        }
    }
    if include.is_empty() {
        return Ok(None);
    }
    // Only a configured remote has tracking refs; git passes a URL pushed
    // to directly as the remote's name too.
    let configured = |name: &str| {
        repo.remote_names()
            .iter()
            .any(|known| AsRef::<[u8]>::as_ref(known) == name.as_bytes())
    };
    if let Some(remote) = remote.filter(|name| !name.is_empty() && configured(name)) {
        let prefix = format!("refs/remotes/{remote}/");
        // Another remote whose name extends this one's (`origin/mirror`
        // beside `origin`) keeps its refs under the same prefix.
        let longer: Vec<String> = repo
            .remote_names()
            .iter()
            .filter(|name| {
                name.strip_prefix(remote.as_bytes())
                    .is_some_and(|rest| rest.starts_with(b"/"))
            })
            .map(|name| format!("refs/remotes/{name}/"))
            .collect();
        let references = repo
            .references()
            .context("cannot list the remote-tracking refs")?;
        for reference in references
            .prefixed(prefix.as_str())
            .context("cannot list the remote-tracking refs")?
            .flatten()
        {
            let name = reference.name().as_bstr().to_string();
            if longer.iter().any(|other| name.starts_with(other.as_str())) {
                continue;
            }
            if let Some(id) = reference.target().try_id() {
                exclude.push(id.to_hex().to_string());
            }
        }
    }
    Ok(Some(RevRange {
        exclude,
        include,
        names,
    }))
}

/// Why `--pre-push` refuses to run on nothing.
const NOTHING_TO_CHECK: &str = "history --pre-push was given nothing to check, so it cannot tell what is pushed: no `<local ref> <local sha> <remote ref> <remote sha>` lines on stdin (git's pre-push hook passes them), and no PRE_COMMIT_TO_REF or PRE_COMMIT_LOCAL_BRANCH in the environment (pre-commit and prek set them). Run it from git's pre-push hook (`secretgate install --hook pre-push`), from pre-commit or prek (hook `secretgate-pre-push`), or from a hook manager that forwards git's lines on stdin (lefthook: `use_stdin: true`); to scan a range by hand, use `secretgate history --range A..B`";

/// The push a hook manager describes in its environment, having read git's
/// lines itself. pre-commit and prek describe only the first ref pushed:
/// `PRE_COMMIT_FROM_REF`/`PRE_COMMIT_TO_REF` (older pre-commit:
/// `PRE_COMMIT_ORIGIN`/`PRE_COMMIT_SOURCE`) when part of the branch is on the
/// remote; for a branch whose history the remote lacks down to its root,
/// pre-commit sets no refs, only `PRE_COMMIT_LOCAL_BRANCH` (the local ref
/// pushed; what no remote-tracking ref reaches is then scanned), and prek
/// sets `PRE_COMMIT_TO_REF` alone.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ManagerPush {
    /// What is pushed.
    to: String,
    /// What the remote is known to have, if anything.
    from: Option<String>,
    /// The ref it updates on the remote.
    remote_branch: Option<String>,
}

impl ManagerPush {
    /// Reads the push from the variables `var` returns; `None` when there
    /// is none.
    fn from_env(var: impl Fn(&str) -> Option<String>) -> Option<ManagerPush> {
        let set = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let first = |names: [&str; 2]| names.into_iter().find_map(set);
        let remote_branch = set("PRE_COMMIT_REMOTE_BRANCH");
        if let Some(to) = first(["PRE_COMMIT_TO_REF", "PRE_COMMIT_SOURCE"]) {
            return Some(ManagerPush {
                to,
                from: first(["PRE_COMMIT_FROM_REF", "PRE_COMMIT_ORIGIN"]),
                remote_branch,
            });
        }
        set("PRE_COMMIT_LOCAL_BRANCH").map(|to| ManagerPush {
            to,
            from: None,
            remote_branch,
        })
    }
}

/// A progress bar on stderr, only for a person watching: not when stderr is
/// redirected, not with `--quiet`, not in CI.
fn progress_bar(len: u64, quiet: bool) -> Option<indicatif::ProgressBar> {
    if !show_progress(quiet) {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} scanning history {pos}/{len} objects [{elapsed_precise}, {per_sec}, eta {eta}]",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

/// Whether progress belongs on stderr: a terminal, not `--quiet`, not CI.
fn show_progress(quiet: bool) -> bool {
    let in_ci = super::in_ci();
    !quiet && !in_ci && std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::ManagerPush;

    fn push(vars: &[(&str, &str)]) -> Option<ManagerPush> {
        ManagerPush::from_env(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn hook_manager_variables_name_the_push() {
        // pre-commit and prek, part of the branch on the remote.
        assert_eq!(
            push(&[
                ("PRE_COMMIT_FROM_REF", "aaa"),
                ("PRE_COMMIT_TO_REF", "bbb"),
                ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main"),
                ("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main"),
            ]),
            Some(ManagerPush {
                to: "bbb".into(),
                from: Some("aaa".into()),
                remote_branch: Some("refs/heads/main".into()),
            })
        );
        // pre-commit, a new branch down to its root: the local branch only.
        assert_eq!(
            push(&[
                ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/feature"),
                ("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/feature"),
                ("PRE_COMMIT_REMOTE_NAME", "origin"),
            ]),
            Some(ManagerPush {
                to: "refs/heads/feature".into(),
                from: None,
                remote_branch: Some("refs/heads/feature".into()),
            })
        );
        // prek, the same push: a to-ref without a from-ref.
        assert_eq!(
            push(&[("PRE_COMMIT_TO_REF", "ccc")]).map(|p| (p.to, p.from)),
            Some(("ccc".to_string(), None))
        );
        // Older pre-commit names.
        assert_eq!(
            push(&[("PRE_COMMIT_ORIGIN", "aaa"), ("PRE_COMMIT_SOURCE", "bbb")])
                .map(|p| (p.to, p.from)),
            Some(("bbb".to_string(), Some("aaa".to_string())))
        );
        // Nothing (or only empty values): no push described.
        assert_eq!(push(&[]), None);
        assert_eq!(
            push(&[
                ("PRE_COMMIT_TO_REF", ""),
                ("PRE_COMMIT_REMOTE_NAME", "origin")
            ]),
            None
        );
    }
}
