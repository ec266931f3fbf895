//! SARIF 2.1.0 (`--format sarif`), shaped for GitHub code scanning
//! (`github/codeql-action/upload-sarif`) and valid against the OASIS schema
//! (`tests/fixtures/sarif-schema-2.1.0.json`, checked by `tests/formats.rs`).
//!
//! Choices, and why:
//! - One `rule` per rule that produced a result, with its description and a
//!   `help` text holding the remediation, so an alert says how to rotate.
//!   `security-severity` and the `security` tag make GitHub rank the alert.
//! - Locations are relative to `%SRCROOT%`: the directory `scan` ran in (an
//!   absolute path under it is made relative; one outside it stays an
//!   absolute `file://` URI), the repository root for `history` and `staged`.
//!   Pseudo-paths (`<commit message>`, `<tag message>`, `<unreachable blob>`,
//!   `<stdin>`) are not files, so they get no `uriBaseId`.
//! - Columns are UTF-16 code units (`columnKind`), SARIF's default, converted
//!   from our byte columns when the finding was made. A sensitive-file
//!   finding has no position: its region is line 1, the file itself.
//! - `partialFingerprints` carry our position-independent fingerprint (also
//!   as `primaryLocationLineHash`, the key GitHub matches alerts on), so an
//!   alert survives lines moving and a moved secret is not a new alert.
//! - The message never holds the secret, only its redaction; the region's
//!   snippet holds the secret unless `--redact` (or `CI=true`).
//! - A result's `level` follows the severity, except that a finding below the
//!   gate's confidence threshold (`--min-confidence`) is a `note`: listed,
//!   not failing. Its `properties.confidence` (and `context`) say why; a
//!   rule's `precision` is its confidence before context.
//! - `invocations[0].executionSuccessful` is `false` when some input could not
//!   be read, and each such input is a `toolExecutionNotifications` entry.
//!   The whole JSON `summary` is in `runs[0].properties.summary`.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Value, json};

use super::redact::redact;
use super::{Report, ReportOptions};
use crate::finding::{Finding, FindingKind};
use crate::pipeline::ScanOutcome;
use crate::rules::{RuleDoc, Severity};

/// The schema URI written in `$schema`: the OASIS 2.1.0 schema with errata.
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The base that relative artifact URIs are resolved against.
pub const SRCROOT: &str = "%SRCROOT%";

/// Paths that name no file: results there get no `uriBaseId`.
const PSEUDO_PATHS: [&str; 4] = [
    crate::sources::git::COMMIT_MESSAGE_PATH,
    crate::sources::git::TAG_MESSAGE_PATH,
    crate::sources::git::UNREACHABLE_PATH,
    "<stdin>",
];

/// Writes the SARIF log followed by a newline.
pub fn write(
    out: &mut dyn Write,
    outcome: &ScanOutcome,
    options: &ReportOptions,
) -> std::io::Result<()> {
    let cwd = std::env::current_dir().ok();
    let log = log(outcome, options, cwd.as_deref());
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

/// The SARIF log as a JSON value; `cwd` makes absolute `scan` paths relative.
pub fn log(outcome: &ScanOutcome, options: &ReportOptions, cwd: Option<&std::path::Path>) -> Value {
    let report = Report::new(outcome, options);
    // Rules in the order their first result appears; results point at them by index.
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules = Vec::new();
    for finding in &outcome.findings {
        if !rule_index.contains_key(finding.rule.as_str()) {
            rule_index.insert(&finding.rule, rules.len());
            rules.push(rule(finding, outcome.rule_docs.get(&finding.rule)));
        }
    }
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .zip(&report.findings)
        .map(|(raw, shown)| {
            let index = rule_index.get(raw.rule.as_str()).copied().unwrap_or(0);
            let failing = outcome.fails(raw);
            result(raw, shown, index, options.redact, failing, cwd)
        })
        .collect();

    let stats = &outcome.stats;
    // The report's skips: redacted when asked, like every other field.
    let notifications: Vec<Value> = report
        .summary
        .skipped
        .items
        .iter()
        .filter(|s| s.reason.is_error())
        .map(|skip| {
            json!({
                "level": "error",
                "message": { "text": format!("could not read {}: {}; it may hold secrets", skip.path, skip.detail) },
                "descriptor": { "id": skip.reason.as_str() },
                "locations": [ { "physicalLocation": { "artifactLocation": artifact_location(&skip.path, cwd) } } ],
            })
        })
        .collect();
    let mut invocation = json!({
        "executionSuccessful": !stats.has_unread_input(),
        "properties": { "skipped": report.summary.skipped.by_reason },
    });
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = Value::Array(notifications);
    }

    let mut driver = json!({
        "name": "secretgate",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    if let Some(uri) = information_uri() {
        driver["informationUri"] = json!(uri);
    }
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [ {
            "tool": { "driver": driver },
            "invocations": [ invocation ],
            "columnKind": "utf16CodeUnits",
            "results": results,
            "properties": { "summary": report.summary },
        } ],
    })
}

/// The project's address, from `Cargo.toml` (`repository`, else `homepage`).
fn information_uri() -> Option<&'static str> {
    [env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_HOMEPAGE")]
        .into_iter()
        .find(|uri| !uri.is_empty())
}

/// The SARIF level of a severity: what blocks (error), what warns, what informs.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub's `security-severity` score: above 9.0 is shown as critical,
/// 7.0–8.9 high, 4.0–6.9 medium, below that low.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
    }
}

/// `anthropic-api-key` → `AnthropicApiKey`: SARIF wants rule names to be
/// identifiers, the human name goes in `shortDescription`.
fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A `reportingDescriptor` for the rule of `finding`; `doc` adds the
/// description and links (always there for rules the scan ran).
fn rule(finding: &Finding, doc: Option<&RuleDoc>) -> Value {
    let description = doc.map_or(finding.name.as_str(), |d| d.description.as_str());
    let remediation = doc.map_or(finding.remediation.as_str(), |d| d.remediation.as_str());
    let references: &[String] = doc.map_or(&[], |d| &d.references);
    let file = finding.kind == FindingKind::File;
    let allow = if file {
        "If the file is meant to be there, allow its path in `.secretgate.toml` (`[allow] paths`) or accept the fingerprint in `.secretgateignore`."
    } else {
        "If it is a false alarm, add a `secretgate:allow` comment on the line, or accept the fingerprint in `.secretgateignore`."
    };
    let mut text = format!("{description}\n\nRemediation: {remediation}\n\n{allow}");
    let mut markdown = format!("{description}\n\n**Remediation:** {remediation}\n\n{allow}");
    if !references.is_empty() {
        text.push_str("\n\nReferences:");
        markdown.push_str("\n\n**References:**\n");
        for reference in references {
            text.push_str(&format!("\n- {reference}"));
            markdown.push_str(&format!("\n- <{reference}>"));
        }
    }
    let (kind_tag, cwe) = if file {
        ("sensitive-file", "external/cwe/cwe-540")
    } else {
        ("secret", "external/cwe/cwe-798")
    };
    let mut rule = json!({
        "id": finding.rule,
        "name": pascal_case(&finding.rule),
        "shortDescription": { "text": finding.name },
        "fullDescription": { "text": description },
        "help": { "text": text, "markdown": markdown },
        "defaultConfiguration": { "level": level(finding.severity) },
        "properties": {
            "tags": ["security", kind_tag, cwe],
            "security-severity": security_severity(finding.severity),
            "severity": finding.severity.as_str(),
            "precision": doc.map_or(finding.confidence, |d| d.confidence).as_str(),
        },
    });
    if let Some(uri) = references.iter().find(|r| r.starts_with("https://")) {
        rule["helpUri"] = json!(uri);
    }
    rule
}

/// One `result`. `raw` is the finding as found (for the message's secret
/// hint, always redacted); `shown` is what may be printed (redacted with
/// `--redact`); `failing` whether it fails the gate (else its level is `note`).
fn result(
    raw: &Finding,
    shown: &Finding,
    rule_index: usize,
    redacted: bool,
    failing: bool,
    cwd: Option<&std::path::Path>,
) -> Value {
    let mut region = match (raw.line, raw.end_line) {
        (Some(line), end_line) => {
            let (column, end_column) = match raw.utf16 {
                Some(utf16) => (Some(utf16.column), Some(utf16.end_column)),
                None => (raw.column, raw.end_column),
            };
            let mut region = json!({ "startLine": line, "endLine": end_line.unwrap_or(line) });
            if let (Some(column), Some(end_column)) = (column, end_column) {
                region["startColumn"] = json!(column);
                region["endColumn"] = json!(end_column);
            }
            region
        }
        // A file that should not be in git: the whole file, shown at its top.
        (None, _) => json!({ "startLine": 1 }),
    };
    // Inside an archive, the lines are the inner file's, not the archive's:
    // the alert points at the archive as a whole.
    if !raw.inner_path.is_empty() {
        region = json!({ "startLine": 1 });
    }
    // The snippet is the region's text: the secret itself, when it is stored
    // as it is (not for a decoded secret, whose region holds its encoding).
    if raw.encoding.is_none()
        && raw.inner_path.is_empty()
        && let Some(secret) = &shown.secret
    {
        region["snippet"] = json!({ "text": secret });
    }
    let mut properties = json!({
        "kind": raw.kind,
        "severity": raw.severity.as_str(),
        "confidence": raw.confidence.as_str(),
        "fingerprint": raw.fingerprint,
        "redacted": redacted,
    });
    if let Some(context) = raw.context {
        properties["context"] = json!(context.as_str());
    }
    if !raw.inner_path.is_empty() {
        properties["inner_path"] = json!(shown.inner_path);
        properties["inner_line"] = json!(raw.line);
    }
    if let Some(detail) = &raw.detail {
        properties["detail"] = json!(detail);
    }
    if let Some(encoding) = &raw.encoding {
        properties["encoding"] = json!(encoding);
    }
    if let Some(git) = &shown.git
        && let Ok(Value::Object(fields)) = serde_json::to_value(git)
    {
        for (key, value) in fields {
            properties[key] = value;
        }
    }
    json!({
        "ruleId": raw.rule,
        "ruleIndex": rule_index,
        "level": if failing { level(raw.severity) } else { "note" },
        "message": { "text": message(raw, shown) },
        "locations": [ { "physicalLocation": {
            "artifactLocation": artifact_location(&shown.path, cwd),
            "region": region,
        } } ],
        "partialFingerprints": {
            "secretgate/v1": raw.fingerprint,
            "primaryLocationLineHash": raw.fingerprint,
        },
        "properties": properties,
    })
}

/// What the alert says: the rule, a redacted hint of the secret, and for
/// history where it came from.
fn message(raw: &Finding, shown: &Finding) -> String {
    let mut text = match (&raw.kind, &raw.secret) {
        (FindingKind::Secret, Some(secret)) => {
            let encoded = raw
                .encoding
                .as_deref()
                .map(|e| format!(" ({e}-encoded)"))
                .unwrap_or_default();
            format!("{}: {}{encoded}", raw.name, redact(secret))
        }
        _ => format!(
            "{}: {} should not be in version control",
            raw.name,
            shown.shown_path()
        ),
    };
    if raw.kind == FindingKind::Secret && !raw.inner_path.is_empty() {
        text.push_str(&format!(" inside {}", shown.shown_path()));
        if let Some(line) = raw.line {
            text.push_str(&format!(" (line {line})"));
        }
    }
    if let Some(git) = &shown.git {
        let unknown = "?";
        if let Some(tag) = &git.tag {
            text.push_str(&format!(" in the message of tag {tag}"));
        } else if raw.path == crate::sources::git::COMMIT_MESSAGE_PATH {
            text.push_str(" in the message of a commit");
        }
        match &git.commit {
            Some(commit) => text.push_str(&format!(
                "; commit {commit} by {} <{}> on {}",
                git.author.as_deref().unwrap_or(unknown),
                git.email.as_deref().unwrap_or(unknown),
                git.date.as_deref().unwrap_or(unknown),
            )),
            None if !git.reachable => {
                text.push_str("; in a blob no ref reaches");
            }
            None => {}
        }
        if let Some(blob) = &git.blob {
            text.push_str(&format!(", blob {blob}"));
        }
    }
    text
}

/// Where a result is: relative to `%SRCROOT%` for real paths, as they are
/// for pseudo-paths, absolute `file://` for files outside the directory.
fn artifact_location(path: &str, cwd: Option<&std::path::Path>) -> Value {
    if PSEUDO_PATHS.contains(&path) {
        return json!({ "uri": encode_uri_path(path) });
    }
    let absolute = std::path::Path::new(path);
    if absolute.is_absolute() {
        let relative = cwd.and_then(|cwd| absolute.strip_prefix(cwd).ok());
        return match relative {
            Some(rel) => json!({
                "uri": encode_uri_path(&crate::sources::display_path(rel)),
                "uriBaseId": SRCROOT,
            }),
            None => {
                let slashed = path.replace('\\', "/");
                let rooted = if slashed.starts_with('/') {
                    slashed
                } else {
                    format!("/{slashed}")
                };
                json!({ "uri": format!("file://{}", encode_uri_path(&rooted)) })
            }
        };
    }
    json!({ "uri": encode_uri_path(path), "uriBaseId": SRCROOT })
}

/// Percent-encodes everything but unreserved characters and `/`, so any path
/// (spaces, `#`, `%`, `:`, non-ASCII) is a valid URI reference.
pub fn encode_uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(encode_uri_path("src/app.env"), "src/app.env");
        assert_eq!(encode_uri_path("my dir/a#b%c:d"), "my%20dir/a%23b%25c%3Ad");
        assert_eq!(encode_uri_path("clé"), "cl%C3%A9");
        assert_eq!(
            encode_uri_path("<commit message>"),
            "%3Ccommit%20message%3E"
        );
    }

    #[test]
    fn locations_are_relative_to_srcroot() {
        let cwd = std::path::Path::new("/work/repo");
        assert_eq!(
            artifact_location("a/b.env", Some(cwd)),
            json!({ "uri": "a/b.env", "uriBaseId": SRCROOT })
        );
        assert_eq!(
            artifact_location("/work/repo/a/b.env", Some(cwd)),
            json!({ "uri": "a/b.env", "uriBaseId": SRCROOT })
        );
        assert_eq!(
            artifact_location("/elsewhere/b.env", Some(cwd)),
            json!({ "uri": "file:///elsewhere/b.env" })
        );
        assert_eq!(
            artifact_location("<commit message>", Some(cwd)),
            json!({ "uri": "%3Ccommit%20message%3E" })
        );
    }

    #[test]
    fn rule_names_are_identifiers() {
        assert_eq!(pascal_case("anthropic-api-key"), "AnthropicApiKey");
        assert_eq!(pascal_case("aws_secret.key"), "AwsSecretKey");
    }

    #[test]
    fn levels_follow_severity() {
        assert_eq!(level(Severity::Critical), "error");
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Low), "note");
    }
}
