//! `secretgate verify`: after a history rewrite, checks that none of the
//! secrets of an earlier `history` report exist anywhere in the repository
//! any more, and says where each survivor is and what to run next.
//!
//! The search is exact: the report's secret values (as stored: the encoded
//! text for base64-stored secrets, also in UTF-16) are looked for in every
//! object of the database, reachable or not, and whole secret files (the
//! sensitive-file findings) by blob id and by path. A redacted report has no
//! values to look for, so verify refuses it (exit 2) and says how to make an
//! unredacted one; rescanning and matching by fingerprint would only find
//! survivors the rules still recognise, which is weaker than the promise made
//! here.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;
use serde_json::Value;

use super::{ExitStatus, VerifyArgs};
use crate::redact::printable;
use crate::report::Format;
use crate::report::cleanup::stored_forms;
use crate::report::redact::{Redactor, redact};
use crate::sources::Skipped;
use crate::sources::git::{self, everywhere, leftovers};

/// One finding of the earlier report, as verify needs it.
#[derive(Debug, Clone, Serialize)]
struct Before {
    rule: String,
    fingerprint: String,
    /// Where the audit found it.
    path: String,
    /// The secret, redacted in redacted output; `null` for file findings.
    secret: Option<String>,
}

/// Where a survivor is reached from.
#[derive(Debug, Serialize)]
struct PlaceOut {
    #[serde(rename = "ref")]
    root: String,
    commit: Option<String>,
    path: String,
}

/// An object still holding a secret, or a whole secret file's blob.
#[derive(Debug, Serialize)]
struct SurvivorOut {
    object: String,
    kind: &'static str,
    reachable: bool,
    findings: Vec<Before>,
    reached_from: Vec<PlaceOut>,
}

/// A whole secret file's path still in history.
#[derive(Debug, Serialize)]
struct PathOut {
    path: String,
    blob: String,
    findings: Vec<Before>,
    reached_from: Vec<PlaceOut>,
}

/// A file of the git directory still holding old text (a message, a
/// reflog entry, a rebase's state), and how to clear it.
#[derive(Debug, Serialize)]
struct GitFileOut {
    /// Relative to the repository's common git directory.
    path: String,
    findings: Vec<Before>,
    clear: String,
}

/// The JSON document.
#[derive(Debug, Serialize)]
struct VerifyReport<'a> {
    version: u32,
    tool: crate::report::Tool,
    summary: VerifySummary<'a>,
    survivors: Vec<SurvivorOut>,
    paths: Vec<PathOut>,
    git_files: Vec<GitFileOut>,
    next_steps: Vec<String>,
}

#[derive(Debug, Serialize)]
struct VerifySummary<'a> {
    report: String,
    clean: bool,
    secrets_searched: usize,
    blobs_searched: usize,
    paths_searched: usize,
    objects_scanned: u64,
    bytes_scanned: u64,
    refs: u64,
    reflog_entries: u64,
    commits: u64,
    git_files_searched: u64,
    survivors: usize,
    surviving_paths: usize,
    surviving_git_files: usize,
    skipped: crate::report::SkippedSummary<'a>,
    #[serde(skip_serializing_if = "no_notes")]
    notes: &'a [String],
    redacted: bool,
    elapsed_ms: u128,
}

fn no_notes(notes: &&[String]) -> bool {
    notes.is_empty()
}

/// What the earlier report asks to look for.
#[derive(Debug, Default)]
struct Wanted {
    /// Distinct stored values, with the findings that hold each.
    values: BTreeMap<String, Vec<Before>>,
    /// Blob ids of whole secret files, with their findings.
    blobs: BTreeMap<gix::ObjectId, Vec<Before>>,
    /// Paths of whole secret files, with their findings.
    paths: BTreeMap<String, Vec<Before>>,
    /// Whether a finding was inside an archive: archives are searched too.
    in_archives: bool,
}

/// Runs the verification.
pub fn run(args: &VerifyArgs) -> anyhow::Result<ExitStatus> {
    let started = Instant::now();
    if matches!(args.format, Format::Jsonl | Format::Sarif) {
        // Survivors are not findings: no rule, no line, nothing SARIF or the
        // finding stream could carry faithfully.
        anyhow::bail!(
            "`verify` writes `--format human` or `--format json`, not {:?}: it reports surviving secrets and where they live, not findings",
            args.format
        );
    }
    let redact_output = super::redaction(args.redact, args.no_redact);
    let wanted = read_report(&args.report)?;
    let repo = git::open(&args.repo)?;
    let values: Vec<String> = wanted.values.keys().cloned().collect();
    let query = everywhere::Query {
        values: values.iter().map(|v| v.as_bytes().to_vec()).collect(),
        objects: wanted.blobs.keys().copied().collect(),
        paths: wanted.paths.keys().cloned().collect(),
        threads: super::worker_threads(None),
        archives: wanted
            .in_archives
            .then(crate::sources::archive::Limits::default),
    };
    let found = everywhere::search(&repo, &query)?;
    // Copies outside the object database that a rewrite leaves alone.
    let left = leftovers::search_values(&repo, &query.values);

    // Human output always hides secrets; JSON when asked. One redactor for
    // every field: a secret can also sit in a ref name or a file name.
    let hide = redact_output || args.format == Format::Human;
    let redactor = if hide {
        redactor(&wanted)
    } else {
        Redactor::default()
    };
    let shown = |before: &Before| {
        let mut before = before.clone();
        if hide {
            before.secret = before.secret.as_deref().map(redact);
            before.path = redactor.text(&before.path);
        }
        before
    };
    let places = |places: &[everywhere::Place]| {
        places
            .iter()
            .map(|p| PlaceOut {
                root: redactor.text(&p.root),
                commit: p.commit.map(|c| c.to_string()),
                path: redactor.text(&p.path),
            })
            .collect::<Vec<_>>()
    };
    let survivors: Vec<SurvivorOut> = found
        .survivors
        .iter()
        .map(|s| {
            let mut findings: Vec<Before> = s
                .values
                .iter()
                .filter_map(|&i| values.get(i))
                .flat_map(|v| wanted.values.get(v).into_iter().flatten())
                .map(shown)
                .collect();
            if s.listed {
                findings.extend(wanted.blobs.get(&s.object).into_iter().flatten().map(shown));
            }
            SurvivorOut {
                object: s.object.to_string(),
                kind: s.kind,
                reachable: !s.places.is_empty(),
                findings,
                reached_from: places(&s.places),
            }
        })
        .collect();
    // A path whose blob is already reported as a survivor adds nothing.
    let surviving: BTreeSet<gix::ObjectId> = found.survivors.iter().map(|s| s.object).collect();
    let paths: Vec<PathOut> = found
        .paths
        .iter()
        .filter(|p| !surviving.contains(&p.blob))
        .map(|p| PathOut {
            path: redactor.text(&p.path),
            blob: p.blob.to_string(),
            findings: wanted
                .paths
                .get(&p.path)
                .into_iter()
                .flatten()
                .map(shown)
                .collect(),
            reached_from: places(&p.places),
        })
        .collect();
    let git_files: Vec<GitFileOut> = left
        .found
        .iter()
        .map(|file| GitFileOut {
            path: file.path.clone(),
            findings: file
                .values
                .iter()
                .filter_map(|&i| values.get(i))
                .flat_map(|v| wanted.values.get(v).into_iter().flatten())
                .map(shown)
                .collect(),
            clear: file.clear.clone(),
        })
        .collect();
    let clean = survivors.is_empty() && paths.is_empty() && git_files.is_empty();
    let skipped: Vec<Skipped> = found.skipped.iter().chain(&left.skipped).cloned().collect();
    let unread: Vec<&Skipped> = skipped.iter().filter(|s| s.reason.is_error()).collect();
    let status = if !clean {
        ExitStatus::Findings
    } else if !unread.is_empty() {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    };
    let next_steps = next_steps(&survivors, &paths, &git_files, clean);
    let mut by_reason: BTreeMap<&'static str, u64> = BTreeMap::new();
    for skip in &skipped {
        *by_reason.entry(skip.reason.as_str()).or_insert(0) += 1;
    }
    let report = VerifyReport {
        version: crate::report::REPORT_VERSION,
        tool: crate::report::Tool {
            name: "secretgate",
            version: env!("CARGO_PKG_VERSION"),
        },
        summary: VerifySummary {
            report: args.report.display().to_string(),
            clean,
            secrets_searched: wanted.values.len(),
            blobs_searched: wanted.blobs.len(),
            paths_searched: wanted.paths.len(),
            objects_scanned: found.stats.objects,
            bytes_scanned: found.stats.bytes,
            refs: found.stats.refs,
            reflog_entries: found.stats.reflog_entries,
            commits: found.stats.commits,
            git_files_searched: left.files,
            survivors: survivors.len(),
            surviving_paths: paths.len(),
            surviving_git_files: git_files.len(),
            skipped: crate::report::SkippedSummary {
                total: skipped.len(),
                by_reason,
                items: std::borrow::Cow::Borrowed(&skipped),
            },
            notes: &found.notes,
            redacted: redact_output,
            elapsed_ms: started.elapsed().as_millis(),
        },
        survivors,
        paths,
        git_files,
        next_steps,
    };
    let mut out = super::open_output(args.output.as_ref())?;
    let written = if args.format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &report)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        write_human(&mut out, &report, &unread)
    }
    .and_then(|()| out.commit());
    super::ignore_broken_pipe(written, &super::output_name(args.output.as_ref()))?;
    Ok(status)
}

/// Every searched value (as stored) and every secret, each replaced by the
/// redaction of its secret.
fn redactor(wanted: &Wanted) -> Redactor {
    let mut pairs = Vec::new();
    for (value, befores) in &wanted.values {
        for secret in befores.iter().filter_map(|b| b.secret.as_deref()) {
            pairs.push((value.clone(), redact(secret)));
            pairs.push((secret.to_string(), redact(secret)));
        }
    }
    Redactor::from_pairs(pairs)
}

/// Reads the earlier report: the values of its secret findings, the blobs and
/// paths of its file findings. A redacted report with secret findings is an
/// error: its values are unknown.
fn read_report(path: &std::path::Path) -> anyhow::Result<Wanted> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the report {}", path.display()))?;
    let report: Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a secretgate JSON report; make one before the rewrite with `secretgate history --format json --no-redact -o FILE`",
            path.display()
        )
    })?;
    let Some(findings) = report["findings"].as_array() else {
        anyhow::bail!(
            "{} is not a secretgate JSON report (no `findings`); make one before the rewrite with `secretgate history --format json --no-redact -o FILE`",
            path.display()
        );
    };
    let text_of = |f: &Value, key: &str| f[key].as_str().map(str::to_string);
    let mut wanted = Wanted::default();
    let mut secrets = 0;
    for f in findings {
        let before = Before {
            rule: text_of(f, "rule").unwrap_or_default(),
            fingerprint: text_of(f, "fingerprint").unwrap_or_default(),
            path: text_of(f, "path").unwrap_or_default(),
            secret: text_of(f, "secret"),
        };
        // Inside an archive: the archive is removed whole, like a secret
        // file, and the value is looked for inside archives too.
        let inside = f["inner_path"].as_array().is_some_and(|p| !p.is_empty());
        wanted.in_archives |= inside;
        match f["kind"].as_str() {
            _ if inside && before.secret.is_none() => wanted.add_whole(f, &before),
            Some("file") => wanted.add_whole(f, &before),
            _ => {
                let Some(secret) = before.secret.clone() else {
                    continue;
                };
                secrets += 1;
                if inside {
                    wanted.add_whole(f, &before);
                }
                if report["summary"]["redacted"] == Value::Bool(true) {
                    continue;
                }
                let matched = f["match"].as_str();
                let encoded = f["encoding"].is_string();
                for value in stored_forms(&secret, matched, encoded) {
                    wanted.values.entry(value).or_default().push(before.clone());
                }
            }
        }
    }
    if report["summary"]["redacted"] == Value::Bool(true) && secrets > 0 {
        anyhow::bail!(
            "{} is redacted: its {secrets} secret(s) cannot be searched for. Make an unredacted report with `secretgate history --format json --no-redact -o FILE` (after a rewrite, from the mirror backup: `secretgate history ../backup.git --format json --no-redact -o before.json`) and keep it out of the repository",
            path.display()
        );
    }
    Ok(wanted)
}

impl Wanted {
    /// A whole file to be gone: its blob and every path it had.
    fn add_whole(&mut self, f: &Value, before: &Before) {
        if let Some(blob) = f["blob"]
            .as_str()
            .and_then(|b| gix::ObjectId::from_hex(b.as_bytes()).ok())
        {
            self.blobs.entry(blob).or_default().push(before.clone());
        }
        let mut paths: BTreeSet<String> = f["occurrences"]["paths"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect();
        if !before.path.starts_with('<') {
            paths.insert(before.path.clone());
        }
        for path in paths {
            self.paths.entry(path).or_default().push(before.clone());
        }
    }
}

/// Whether a place is a reflog entry, the index, `refs/original/`, or a ref.
fn place_kind(root: &str) -> &'static str {
    if root == "index" || root.ends_with("/index") {
        "index"
    } else if root.contains("@{") {
        "reflog"
    } else if root.starts_with("refs/original/") {
        "original"
    } else {
        "ref"
    }
}

/// What to run next, in order, for what survived.
fn next_steps(
    survivors: &[SurvivorOut],
    paths: &[PathOut],
    git_files: &[GitFileOut],
    clean: bool,
) -> Vec<String> {
    let publish = [
        "Force-push every branch and tag: git push --force --all origin && git push --force --tags origin".to_string(),
        "Ask every collaborator to re-clone (their clones and forks still hold the old history)".to_string(),
        "Ask the hosting provider to purge cached views and pull-request refs (refs/pull/*), which a force-push does not reach".to_string(),
    ];
    if clean {
        return publish.to_vec();
    }
    let roots = survivors
        .iter()
        .flat_map(|s| &s.reached_from)
        .chain(paths.iter().flat_map(|p| &p.reached_from));
    let kinds: BTreeSet<&str> = roots.map(|p| place_kind(&p.root)).collect();
    let messages = survivors
        .iter()
        .any(|s| s.reachable && matches!(s.kind, "commit" | "tag"));
    let whole_files = !paths.is_empty()
        || survivors
            .iter()
            .any(|s| s.findings.iter().any(|f| f.secret.is_none()));
    // Staged content outside HEAD: a rewrite does not touch the index.
    let only_staged = survivors.iter().any(|s| {
        let roots = || s.reached_from.iter().map(|p| p.root.as_str());
        roots().any(|r| place_kind(r) == "index")
            && !roots().any(|r| r == "HEAD" || r.ends_with("/HEAD"))
    });
    let other_worktrees = survivors
        .iter()
        .flat_map(|s| &s.reached_from)
        .chain(paths.iter().flat_map(|p| &p.reached_from))
        .any(|p| p.root.starts_with("worktrees/"));
    let mut steps = Vec::new();
    if kinds.contains("ref") {
        let mut command =
            "Rewrite, the refs above still hold them: git filter-repo --replace-text REPLACEMENTS"
                .to_string();
        if messages {
            command.push_str(" --replace-message REPLACEMENTS");
        }
        if whole_files {
            command.push_str(" --invert-paths --paths-from-file PATHS");
        }
        command.push_str(" --force");
        steps.push(command);
    }
    if other_worktrees {
        steps.push(
            "Remove the other work trees first (git worktree list; git worktree remove PATH): a rewrite does not reach their HEAD and index".to_string(),
        );
    }
    if only_staged {
        steps.push(
            "Unstage them: git reset --hard (or git rm --cached PATH), after saving what you need"
                .to_string(),
        );
    }
    steps.push(
        "Delete refs/original/ (git filter-branch's backup), if any: git for-each-ref --format='delete %(refname)' refs/original | git update-ref --stdin".to_string(),
    );
    // Reflog messages go with the expiry below; every other file of the git
    // directory is cleared on its own.
    let mut cleared = BTreeSet::new();
    for file in git_files.iter().filter(|f| !f.path.contains("logs/")) {
        if cleared.insert(&file.clear) {
            steps.push(format!(
                "Clear {} (old text in the git directory): {}",
                file.path, file.clear
            ));
        }
    }
    steps.push(
        "Expire the reflogs and prune: git reflog expire --expire=now --all && git gc --prune=now --aggressive".to_string(),
    );
    steps.push("Run secretgate verify again; when it exits 0:".to_string());
    steps.extend(publish);
    steps
}

fn write_place(out: &mut dyn std::io::Write, place: &PlaceOut) -> std::io::Result<()> {
    let what = match place_kind(&place.root) {
        "reflog" => " (reflog entry)",
        "original" => " (backup ref of git filter-branch)",
        "index" => " (staged in the index)",
        _ => "",
    };
    let (root, path) = (printable(&place.root), printable(&place.path));
    match &place.commit {
        Some(commit) => writeln!(
            out,
            "    reached from {root}{what}: commit {commit}, {path}"
        ),
        None => writeln!(out, "    reached from {root}{what}: {path}"),
    }
}

/// Reflog entries shown per survivor; the JSON output lists them all.
const SHOWN_REFLOG_ENTRIES: usize = 3;

/// Every ref and index entry, and the first few reflog entries.
fn write_places(out: &mut dyn std::io::Write, places: &[PlaceOut]) -> std::io::Result<()> {
    let (reflog, others): (Vec<&PlaceOut>, Vec<&PlaceOut>) =
        places.iter().partition(|p| place_kind(&p.root) == "reflog");
    for place in others
        .iter()
        .chain(reflog.iter().take(SHOWN_REFLOG_ENTRIES))
    {
        write_place(out, place)?;
    }
    if reflog.len() > SHOWN_REFLOG_ENTRIES {
        writeln!(
            out,
            "    and {} more reflog entries (--format json lists them)",
            reflog.len() - SHOWN_REFLOG_ENTRIES
        )?;
    }
    Ok(())
}

fn write_findings(out: &mut dyn std::io::Write, findings: &[Before]) -> std::io::Result<()> {
    for f in findings {
        match &f.secret {
            // Already redacted: human output always hides secrets.
            Some(secret) => writeln!(
                out,
                "    holds   {} {} (fingerprint {}, found at {})",
                printable(&f.rule),
                printable(secret),
                printable(&f.fingerprint),
                printable(&f.path)
            )?,
            None => writeln!(
                out,
                "    is      {} (fingerprint {}, found at {})",
                printable(&f.rule),
                printable(&f.fingerprint),
                printable(&f.path)
            )?,
        }
    }
    Ok(())
}

fn write_human(
    out: &mut dyn std::io::Write,
    report: &VerifyReport<'_>,
    unread: &[&Skipped],
) -> std::io::Result<()> {
    for s in &report.survivors {
        if s.reachable {
            writeln!(out, "survivor: {} {}", s.kind, s.object)?;
        } else {
            writeln!(
                out,
                "survivor: unreachable object {} ({}): nothing reaches it, `git gc --prune=now` removes it",
                s.object, s.kind
            )?;
        }
        write_findings(out, &s.findings)?;
        write_places(out, &s.reached_from)?;
        writeln!(out)?;
    }
    for p in &report.paths {
        writeln!(
            out,
            "survivor: file {} is still in history (blob {})",
            printable(&p.path),
            p.blob
        )?;
        write_findings(out, &p.findings)?;
        write_places(out, &p.reached_from)?;
        writeln!(out)?;
    }
    for f in &report.git_files {
        writeln!(
            out,
            "survivor: {} in the git directory still holds old text",
            f.path
        )?;
        write_findings(out, &f.findings)?;
        writeln!(out, "    clear   {}", f.clear)?;
        writeln!(out)?;
    }
    if !unread.is_empty() {
        writeln!(
            out,
            "could not read {} object(s); they may hold secrets:",
            unread.len()
        )?;
        for skip in unread {
            writeln!(
                out,
                "  {}: {}",
                printable(&skip.path),
                printable(&skip.detail)
            )?;
        }
        if !report.summary.clean {
            writeln!(
                out,
                "(exit 1 because survivors were found; the unreadable objects are an error of their own)"
            )?;
        }
        writeln!(out)?;
    }
    for note in report.summary.notes {
        writeln!(out, "note: {}", printable(note))?;
    }
    let summary = &report.summary;
    let searched = format!(
        "{} secret value(s), {} blob(s) and {} path(s) of {} in {} object(s), {} ref(s), {} reflog entr{}, {} file(s) of the git directory",
        summary.secrets_searched,
        summary.blobs_searched,
        summary.paths_searched,
        printable(&summary.report),
        summary.objects_scanned,
        summary.refs,
        summary.reflog_entries,
        if summary.reflog_entries == 1 {
            "y"
        } else {
            "ies"
        },
        summary.git_files_searched,
    );
    if summary.clean && unread.is_empty() {
        writeln!(out, "verified: nothing left; searched {searched}")?;
    } else if summary.clean {
        writeln!(
            out,
            "nothing found, but not everything could be read; searched {searched}"
        )?;
    } else {
        writeln!(
            out,
            "{} object(s), {} path(s) and {} file(s) of the git directory survive; searched {searched}",
            summary.survivors, summary.surviving_paths, summary.surviving_git_files
        )?;
    }
    writeln!(out, "next:")?;
    for (n, step) in report.next_steps.iter().enumerate() {
        writeln!(out, "  {}. {step}", n + 1)?;
    }
    Ok(())
}
