//! Human output: what was found, where, how to rotate it and how to allow it.
//! Secrets are always redacted here; use JSON to get them in full.

use std::io::Write;

use super::ReportOptions;
use super::redact::Redactor;
use crate::finding::{Finding, FindingKind, GitProvenance};
use crate::pipeline::ScanOutcome;
use crate::redact::printable;

/// Longest matched text shown; minified bundles have megabyte lines.
const MAX_SHOWN_MATCH: usize = 160;

/// Writes every finding, the skipped inputs and a one-line summary.
pub fn write(
    out: &mut dyn Write,
    outcome: &ScanOutcome,
    options: &ReportOptions,
) -> std::io::Result<()> {
    // Always redacted here, every field through the one redaction step: a
    // secret also hides in a file name, a commit subject or an author name.
    let redactor = Redactor::new(&outcome.findings);
    // Several repositories' policies (a `scan` across them) may each set
    // their own threshold.
    let gate = if outcome.configs.is_empty() {
        format!("--min-confidence {}", outcome.threshold.0)
    } else {
        "the --min-confidence of their repository".to_string()
    };
    let (failing, below): (Vec<Finding>, Vec<Finding>) = outcome
        .findings
        .iter()
        .map(|f| redactor.finding(f))
        .partition(|f| outcome.fails(f));
    for finding in &failing {
        write_finding(out, finding)?;
    }
    if !below.is_empty() {
        writeln!(
            out,
            "{} finding{} below {gate} (listed, not failing: test, example and docs files, weak defaults, known public values):",
            below.len(),
            plural(below.len() as u64),
        )?;
        for finding in &below {
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
                printable(&redactor.text(&skip.path)),
                printable(&redactor.text(&skip.detail))
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
            writeln!(out, "note: {}", printable(note))?;
        }
    }
    if outcome.configs.is_empty() {
        write_config(out, &outcome.config, &outcome.suppressed)?;
    } else {
        // One block per repository's config; what they kept out is counted
        // on the summary line.
        for config in &outcome.configs {
            write_config(out, config, &Default::default())?;
        }
    }
    if let Some(history) = &outcome.history {
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
        format!(" (+{below} below {gate})")
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
    if suppressed.entropy_floor > 0 {
        line.push_str(&format!(
            ", {} under raised entropy floors",
            suppressed.entropy_floor
        ));
    }
    if suppressed.public_values > 0 {
        line.push_str(&format!(
            ", {} declared public by the config",
            suppressed.public_values
        ));
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

/// What the config changed about detection, when it changed anything: every
/// item, which of them weaken detection, and what they kept out of this
/// report where that is counted.
fn write_config(
    out: &mut dyn Write,
    config: &crate::config::ConfigSummary,
    suppressed: &crate::allow::Suppressed,
) -> std::io::Result<()> {
    let Some(file) = &config.file else {
        return Ok(());
    };
    if !config.changes_anything() {
        return Ok(());
    }
    let weakens = if config.weakens_detection {
        " (some of it weakens detection)"
    } else {
        ""
    };
    writeln!(
        out,
        "config {}: changes detection{weakens}:",
        printable(file)
    )?;
    let list = |items: &[String]| {
        items
            .iter()
            .map(|item| printable(item).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let not_reported = |count: u64, what: &str| match count {
        0 => String::new(),
        1 => format!("; 1 {what} not reported"),
        n => format!("; {n} {what}s not reported"),
    };
    if !config.disabled_rules.is_empty() {
        writeln!(
            out,
            "  rules disabled: {}: weakens detection",
            list(&config.disabled_rules)
        )?;
    }
    for floor in &config.entropy {
        let own = floor
            .rule_floor
            .map_or_else(|| "none".to_string(), |own| own.to_string());
        let effect = if floor.weakens {
            "raised: weakens detection"
        } else {
            "not raised"
        };
        writeln!(
            out,
            "  entropy floor: {} = {} bits/byte (the rule file's: {own}): {effect}",
            printable(&floor.rule),
            floor.floor
        )?;
    }
    if suppressed.entropy_floor > 0 {
        writeln!(
            out,
            "  raised entropy floors: {} secret(s) not reported",
            suppressed.entropy_floor
        )?;
    }
    if !config.extra_rules.is_empty() {
        writeln!(out, "  extra rule files: {}", list(&config.extra_rules))?;
    }
    if !config.public_values.is_empty() {
        // Always redacted here: a public value is the one thing a config
        // could use to hide a real secret.
        let shown: Vec<String> = config
            .public_values
            .iter()
            .map(|v| crate::redact::redact(v))
            .collect();
        writeln!(
            out,
            "  public values added by extra rule files: {}: weakens detection{}",
            list(&shown),
            not_reported(suppressed.public_values, "secret")
        )?;
    }
    if !config.allowed_paths.is_empty() {
        writeln!(
            out,
            "  paths allowed: {}: weakens detection{}",
            list(&config.allowed_paths),
            not_reported(suppressed.allowed_paths, "finding")
        )?;
    }
    if let Some(baseline) = &config.baseline {
        writeln!(
            out,
            "  baseline: {}: weakens detection{}",
            printable(baseline),
            not_reported(suppressed.baseline, "finding")
        )?;
    }
    if let Some(level) = config.min_confidence {
        let effect = match level {
            crate::rules::Confidence::High => ": weakens detection (medium findings pass)",
            _ => "",
        };
        writeln!(out, "  gate: min_confidence = {level}{effect}")?;
    }
    Ok(())
}

fn write_finding(out: &mut dyn Write, finding: &Finding) -> std::io::Result<()> {
    writeln!(
        out,
        "[{}] {} ({}), confidence {}{}",
        finding.severity,
        printable(&finding.name),
        printable(&finding.rule),
        finding.confidence,
        context_note(finding)
    )?;
    match (finding.kind, finding.line, finding.column) {
        (FindingKind::Secret, Some(line), Some(column)) => {
            writeln!(
                out,
                "  at      {}:{line}:{column}",
                printable(&finding.shown_path())
            )?;
        }
        _ => writeln!(out, "  file    {}", printable(&finding.shown_path()))?,
    }
    if let Some(detail) = &finding.detail {
        writeln!(out, "  why     {}", printable(detail))?;
    }
    // `finding` is already redacted, the commit subject too (a secret
    // pasted in a commit message usually sits on its first line).
    if let Some(git) = &finding.git {
        write_git(out, git)?;
    }
    if let (Some(secret), Some(matched)) = (&finding.secret, &finding.matched) {
        let shown = matched.replace(['\n', '\r'], " ");
        let shown = truncate(&printable(&shown), MAX_SHOWN_MATCH);
        writeln!(out, "  secret  {}", printable(secret))?;
        writeln!(out, "  match   {shown}")?;
    }
    for (i, line) in finding.remediation.lines().enumerate() {
        let label = if i == 0 { "  rotate  " } else { "          " };
        writeln!(out, "{label}{line}")?;
    }
    let allow = match finding.kind {
        // A file inside an archive has no line anyone edits in place.
        _ if !finding.inner_path.is_empty() => {
            "add its fingerprint to .secretgateignore (it is inside an archive)"
        }
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
        Some(line) => format!("{}:{line}", printable(&finding.shown_path())),
        None => printable(&finding.shown_path()).into_owned(),
    };
    // Already redacted, like every field (see `write`).
    let secret = finding
        .secret
        .as_deref()
        .map(|s| format!("  {}", printable(s)))
        .unwrap_or_default();
    let commit = finding
        .git
        .as_ref()
        .and_then(|g| g.commit.as_deref())
        .map(|c| format!("  commit {}", &c[..c.len().min(12)]))
        .unwrap_or_default();
    let detail = finding
        .detail
        .as_deref()
        .map(|d| format!(": {}", printable(d)))
        .unwrap_or_default();
    writeln!(
        out,
        "  [{} confidence{}{detail}] {} ({}) at {place}{secret}{commit}  fingerprint {}",
        finding.confidence,
        context_note(finding),
        printable(&finding.name),
        printable(&finding.rule),
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
