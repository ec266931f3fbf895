//! Human output: what was found, where, how to rotate it and how to allow it.
//! Secrets are always redacted here; use JSON to get them in full.

use std::io::Write;

use super::ReportOptions;
use super::redact::{redact, redact_in};
use crate::finding::{Finding, FindingKind, GitProvenance};
use crate::pipeline::ScanOutcome;

/// Longest matched text shown; minified bundles have megabyte lines.
const MAX_SHOWN_MATCH: usize = 160;

/// Writes every finding, the skipped inputs and a one-line summary.
pub fn write(
    out: &mut dyn Write,
    outcome: &ScanOutcome,
    options: &ReportOptions,
) -> std::io::Result<()> {
    let threshold = outcome.threshold;
    let (failing, below): (Vec<&Finding>, Vec<&Finding>) = outcome
        .findings
        .iter()
        .partition(|f| threshold.fails(f.confidence));
    for finding in failing {
        write_finding(out, finding)?;
    }
    if !below.is_empty() {
        writeln!(
            out,
            "{} finding{} below --min-confidence {} (listed, not failing: test, example and docs files, weak defaults, known public values):",
            below.len(),
            plural(below.len() as u64),
            threshold.0,
        )?;
        for finding in below {
            write_below(out, finding)?;
        }
        writeln!(out)?;
    }
    let stats = &outcome.stats;
    let unread: Vec<_> = stats
        .skipped
        .iter()
        .filter(|s| s.reason.is_error())
        .collect();
    if !unread.is_empty() {
        writeln!(
            out,
            "could not read {} input(s); they may hold secrets:",
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
        writeln!(out)?;
    }
    let submodules: Vec<_> = stats
        .skipped
        .iter()
        .filter(|s| s.reason == crate::sources::SkipReason::Submodule)
        .collect();
    if !submodules.is_empty() {
        writeln!(
            out,
            "not scanned: {} submodule(s); their history is another repository (--recurse-submodules reads it):",
            submodules.len()
        )?;
        for skip in submodules {
            let path = printable(&skip.path);
            writeln!(out, "  {path}: scan it with `secretgate history {path}`")?;
        }
        writeln!(out)?;
    }
    if let Some(history) = &outcome.history {
        for note in &history.notes {
            writeln!(out, "note: {note}")?;
        }
        if let Some(file) = &outcome.config.file {
            let config = &outcome.config;
            if !config.disabled_rules.is_empty() || !config.allowed_paths.is_empty() {
                writeln!(
                    out,
                    "config {file}: rules disabled: [{}]; paths allowed: [{}]",
                    config.disabled_rules.join(", "),
                    config.allowed_paths.join(", ")
                )?;
            }
        }
        if let Some(unused) = &outcome.suppressed.unused_ignores {
            for entry in unused {
                writeln!(
                    out,
                    "unused ignore entry {} ({}): it matches nothing any more; remove it",
                    entry.fingerprint, entry.location
                )?;
            }
        }
        let mut line = format!(
            "history: {} ref{}, {} commit{}, {} blob{}",
            history.refs,
            plural(history.refs),
            history.commits,
            plural(history.commits),
            history.blobs,
            plural(history.blobs),
        );
        if let Some(unreachable) = history.unreachable_blobs {
            line.push_str(&format!(" ({unreachable} unreachable)"));
        }
        if let Some(range) = &history.range {
            line.push_str(&format!(", range {range}"));
        }
        if history.shallow {
            line.push_str(", shallow clone");
        }
        writeln!(out, "{line}")?;
    }
    let blocking = outcome.blocking();
    let below = outcome.findings.len() - blocking;
    let below = if below > 0 {
        format!(" (+{below} below --min-confidence {})", threshold.0)
    } else {
        String::new()
    };
    let mut line = format!(
        "{} finding{}{below} in {} file{} ({})",
        blocking,
        plural(blocking as u64),
        stats.scanned,
        plural(stats.scanned),
        human_bytes(stats.bytes),
    );
    if !stats.skipped.is_empty() {
        let reasons: Vec<String> = stats
            .skipped_by_reason()
            .into_iter()
            .map(|(reason, count)| format!("{}: {count}", reason.as_str()))
            .collect();
        line.push_str(&format!(
            ", {} skipped ({})",
            stats.skipped.len(),
            reasons.join(", ")
        ));
    }
    let suppressed = &outcome.suppressed;
    if suppressed.allowed_paths > 0 {
        line.push_str(&format!(", {} in allowed paths", suppressed.allowed_paths));
    }
    if suppressed.ignored > 0 {
        line.push_str(&format!(", {} ignored", suppressed.ignored));
    }
    if suppressed.baseline > 0 {
        line.push_str(&format!(", {} in baseline", suppressed.baseline));
    }
    if stats.allowed > 0 {
        line.push_str(&format!(", {} allowed inline", stats.allowed));
    }
    line.push_str(&format!(
        ", {} rules, {:.2}s",
        options.rules_loaded,
        options.elapsed.as_secs_f64()
    ));
    writeln!(out, "{line}")
}

fn write_finding(out: &mut dyn Write, finding: &Finding) -> std::io::Result<()> {
    writeln!(
        out,
        "[{}] {} ({}), confidence {}{}",
        finding.severity,
        finding.name,
        finding.rule,
        finding.confidence,
        context_note(finding)
    )?;
    match (finding.kind, finding.line, finding.column) {
        (FindingKind::Secret, Some(line), Some(column)) => {
            writeln!(
                out,
                "  at      {}:{line}:{column}",
                printable(&finding.path)
            )?;
        }
        _ => writeln!(out, "  file    {}", printable(&finding.path))?,
    }
    // Always redacted here, the commit subject too (a secret pasted in a
    // commit message usually sits on its first line).
    if let Some(git) = &super::redacted(finding).git {
        write_git(out, git)?;
    }
    if let (Some(secret), Some(matched)) = (&finding.secret, &finding.matched) {
        let shown = redact_in(matched, secret).replace(['\n', '\r'], " ");
        let shown = truncate(&printable(&shown), MAX_SHOWN_MATCH);
        writeln!(out, "  secret  {}", redact(secret))?;
        writeln!(out, "  match   {shown}")?;
    }
    for (i, line) in finding.remediation.lines().enumerate() {
        let label = if i == 0 { "  rotate  " } else { "          " };
        writeln!(out, "{label}{line}")?;
    }
    let allow = match finding.kind {
        FindingKind::Secret => "add a `secretgate:allow` comment on the line",
        FindingKind::File => "remove the file from git (git rm --cached)",
    };
    writeln!(out, "  allow   if this is a false alarm: {allow}")?;
    writeln!(out, "  id      fingerprint {}", finding.fingerprint)?;
    writeln!(out)
}

/// One line for a finding below the gate: enough to find and judge it.
fn write_below(out: &mut dyn Write, finding: &Finding) -> std::io::Result<()> {
    let place = match finding.line {
        Some(line) => format!("{}:{line}", printable(&finding.path)),
        None => printable(&finding.path).into_owned(),
    };
    let secret = finding
        .secret
        .as_deref()
        .map(|s| format!("  {}", redact(s)))
        .unwrap_or_default();
    let commit = finding
        .git
        .as_ref()
        .and_then(|g| g.commit.as_deref())
        .map(|c| format!("  commit {}", &c[..c.len().min(12)]))
        .unwrap_or_default();
    writeln!(
        out,
        "  [{} confidence{}] {} ({}) at {place}{secret}{commit}  fingerprint {}",
        finding.confidence,
        context_note(finding),
        finding.name,
        finding.rule,
        finding.fingerprint
    )
}

/// `, in a test file` when the finding's place lowered its confidence.
fn context_note(finding: &Finding) -> String {
    finding
        .context
        .map(|c| format!(", in a {} file", c.as_str()))
        .unwrap_or_default()
}

fn write_git(out: &mut dyn Write, git: &GitProvenance) -> std::io::Result<()> {
    let unknown = "?";
    if let Some(commit) = &git.commit {
        writeln!(
            out,
            "  commit  {commit} by {} <{}> on {}",
            printable(git.author.as_deref().unwrap_or(unknown)),
            printable(git.email.as_deref().unwrap_or(unknown)),
            git.date.as_deref().unwrap_or(unknown),
        )?;
        if let Some(summary) = &git.summary {
            writeln!(
                out,
                "          {}",
                truncate(&printable(summary), MAX_SHOWN_MATCH)
            )?;
        }
    }
    if let Some(tag) = &git.tag {
        writeln!(out, "  tag     {}", printable(tag))?;
    }
    if let Some(blob) = &git.blob {
        let reach = if git.reachable {
            ""
        } else {
            " (unreachable: no ref points to it)"
        };
        writeln!(out, "  blob    {blob}{reach}")?;
    }
    if let Some(occurrences) = &git.occurrences {
        writeln!(
            out,
            "  in      {} commit{}, path{}: {}",
            occurrences.commits,
            plural(occurrences.commits),
            plural(occurrences.paths.len() as u64),
            printable(&occurrences.paths.join(", "))
        )?;
    }
    Ok(())
}

/// Text from the scanned repository (file names, author names, commit
/// subjects) with control characters escaped: a file name holding a newline
/// must not forge a report line, nor one holding ESC drive the terminal.
fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

fn truncate(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn plural(count: u64) -> &'static str {
    if count == 1 { "" } else { "s" }
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
