//! Turns [`RuleSyntax`] into [`Rule`], collecting every problem instead of
//! stopping at the first.

use std::collections::HashSet;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::bytes::{Regex, RegexBuilder};

use serde::Deserialize;

use crate::engine::validate::Validator;

use super::syntax::{FileRuleSyntax, RuleFileSyntax, RuleSyntax};
use super::{
    Checksum, Confidence, Decode, Deny, FileRule, LazyRegex, Rule, RuleProblem, RuleSet, Severity,
};

/// Default bytes of context either side of a keyword.
const DEFAULT_WINDOW: usize = 512;
/// Upper bound on a rule's window, so one rule cannot make every scan quadratic.
const MAX_WINDOW: usize = 64 * 1024;
/// Upper bound on one compiled regex, so a hostile rule file fails loudly
/// instead of eating memory.
const REGEX_SIZE_LIMIT: usize = 16 * 1024 * 1024;
/// Shortest keyword: shorter ones fire on nearly every line.
const MIN_KEYWORD_LEN: usize = 3;

/// Compiles one rule file into `set`; returns its public values as written.
/// `eager` compiles every regex now; `scrub` keeps parse errors from quoting
/// the file (one a repository named could be anything).
pub(super) fn compile_file(
    origin: &str,
    text: &str,
    (eager, scrub): (bool, bool),
    set: &mut RuleSet,
    seen_ids: &mut HashSet<String>,
    problems: &mut Vec<RuleProblem>,
) -> Vec<String> {
    let Some(file) = parse_file(origin, text, scrub, problems) else {
        return Vec::new();
    };
    set.public_values.extend(
        file.public_values
            .iter()
            .map(|v| super::normalize_public_value(v.as_bytes())),
    );
    for syntax in file.rule {
        let id = syntax.id.clone();
        let mut report = Reporter::new(origin, &id, problems);
        check_id(&syntax.id, seen_ids, &mut report);
        if let Some(rule) = compile_rule(origin, syntax, eager, &mut report)
            && report.clean()
        {
            set.rules.push(rule);
        }
    }
    for syntax in file.file {
        let id = syntax.id.clone();
        let mut report = Reporter::new(origin, &id, problems);
        check_id(&syntax.id, seen_ids, &mut report);
        if let Some(rule) = compile_file_rule(origin, syntax, &mut report)
            && report.clean()
        {
            set.file_rules.push(rule);
        }
    }
    file.public_values
}

/// Collects the problems of one rule.
struct Reporter<'a> {
    origin: &'a str,
    rule_id: &'a str,
    problems: &'a mut Vec<RuleProblem>,
    before: usize,
}

impl<'a> Reporter<'a> {
    fn new(origin: &'a str, rule_id: &'a str, problems: &'a mut Vec<RuleProblem>) -> Self {
        let before = problems.len();
        Reporter {
            origin,
            rule_id,
            problems,
            before,
        }
    }

    fn problem(&mut self, reason: impl Into<String>) {
        self.problems.push(RuleProblem {
            origin: self.origin.to_string(),
            rule_id: Some(self.rule_id.to_string()),
            reason: reason.into(),
        });
    }

    fn clean(&self) -> bool {
        self.problems.len() == self.before
    }
}

fn check_id(id: &str, seen_ids: &mut HashSet<String>, report: &mut Reporter<'_>) {
    let kebab = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--");
    if !kebab {
        report.problem("id must be kebab-case: lowercase letters, digits and single dashes");
    }
    if !seen_ids.insert(id.to_string()) {
        report.problem("duplicate id: another rule already uses it");
    }
}

fn parse_severity(text: &str, report: &mut Reporter<'_>) -> Severity {
    Severity::parse(text).unwrap_or_else(|| {
        report.problem(format!(
            "severity `{text}` is not one of critical, high, medium, low"
        ));
        Severity::Medium
    })
}

/// The confidence a rule states, or its default: a generic rule (a value
/// found by the name it is assigned to) is medium, a provider format high.
fn parse_confidence(
    text: Option<&str>,
    default: Confidence,
    report: &mut Reporter<'_>,
) -> Confidence {
    match text {
        None => default,
        Some(text) => Confidence::parse(text).unwrap_or_else(|| {
            report.problem(format!(
                "confidence `{text}` is not one of high, medium, low"
            ));
            default
        }),
    }
}

fn require_text(field: &str, value: &str, report: &mut Reporter<'_>) {
    if value.trim().is_empty() {
        report.problem(format!("`{field}` is empty"));
    }
}

/// Compiles a byte regex with Unicode off: ASCII classes are ~50x faster here
/// and secrets are ASCII.
pub(crate) fn compile_regex(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|err| err.to_string())
}

/// Checks a pattern's syntax without compiling it (a fraction of the cost).
fn check_regex_syntax(pattern: &str) -> Result<(), String> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .map(|_| ())
        .map_err(|err| err.to_string())
}

fn compile_rule(
    origin: &str,
    syntax: RuleSyntax,
    eager: bool,
    report: &mut Reporter<'_>,
) -> Option<Rule> {
    require_text("name", &syntax.name, report);
    require_text("description", &syntax.description, report);
    require_text("remediation", &syntax.remediation, report);
    let severity = parse_severity(&syntax.severity, report);
    let default_confidence = if syntax.generic {
        Confidence::Medium
    } else {
        Confidence::High
    };
    let confidence = parse_confidence(syntax.confidence.as_deref(), default_confidence, report);

    if syntax.keywords.is_empty() {
        report.problem("`keywords` is empty: at least one literal is needed for the prefilter");
    }
    for keyword in &syntax.keywords {
        if keyword.len() < MIN_KEYWORD_LEN {
            report.problem(format!(
                "keyword `{keyword}` is shorter than {MIN_KEYWORD_LEN} bytes"
            ));
        }
        if keyword.contains(['\n', '\r']) {
            // A keyword lies on one line: what lets a history audit find a
            // new version's keywords in its changed lines alone.
            report.problem(format!("keyword {keyword:?} holds a line break"));
        }
        if !keyword.is_ascii() {
            report.problem(format!("keyword `{keyword}` is not ASCII"));
        }
    }

    // Built-in rules (not `eager`) are compiled by the test suite, which runs
    // every rule's examples; re-parsing three hundred regexes on every run
    // would cost a pre-commit hook most of its budget.
    let syntax_checked = if eager {
        check_regex_syntax(&syntax.regex)
    } else {
        Ok(())
    };
    let regex = match syntax_checked {
        Ok(()) => {
            let regex = LazyRegex::new(syntax.regex.clone());
            if eager && let Err(err) = regex.get() {
                report.problem(format!("regex does not compile: {err}"));
            }
            Some(regex)
        }
        Err(err) => {
            report.problem(format!("regex does not compile: {err}"));
            None
        }
    };

    let checksum = match syntax.checksum.as_deref() {
        None => None,
        Some("github-crc32") => Some(Checksum::GithubCrc32),
        Some("npm-crc32") => Some(Checksum::NpmCrc32),
        Some(other) => {
            report.problem(format!(
                "checksum `{other}` is unknown (known: github-crc32, npm-crc32)"
            ));
            None
        }
    };
    let decode = match syntax.decode.as_deref() {
        None => None,
        Some("base64") => Some(Decode::Base64),
        Some(other) => {
            report.problem(format!("decode `{other}` is unknown (known: base64)"));
            None
        }
    };
    let decoded_regex = match (&syntax.decoded_regex, decode) {
        (None, _) => None,
        (Some(_), None) => {
            report.problem("`decoded_regex` needs `decode`");
            None
        }
        (Some(pattern), Some(_)) => match compile_regex(pattern) {
            Ok(regex) => Some(regex),
            Err(err) => {
                report.problem(format!("decoded_regex does not compile: {err}"));
                None
            }
        },
    };
    let validate = match syntax.validate.as_deref() {
        None => None,
        Some(name) => {
            let validator = Validator::parse(name);
            if validator.is_none() {
                report.problem(format!(
                    "validate `{name}` is unknown (known: {})",
                    Validator::NAMES
                ));
            }
            validator
        }
    };
    if syntax.generic && syntax.family {
        report.problem("a rule is `generic` or `family`, not both");
    }
    if let Some(min) = syntax.entropy
        && !(0.0..=8.0).contains(&min)
    {
        report.problem(format!("entropy {min} is outside 0..=8 bits per byte"));
    }
    let window = syntax.window.unwrap_or(DEFAULT_WINDOW);
    if window == 0 || window > MAX_WINDOW {
        report.problem(format!("window {window} is outside 1..={MAX_WINDOW}"));
    }
    if syntax.examples.is_empty() {
        report.problem("`examples` is empty: every rule needs inputs it must match");
    }
    if syntax.negative_examples.is_empty() {
        report.problem(
            "`negative_examples` is empty: every rule needs near-misses it must not match",
        );
    }

    Some(Rule {
        id: syntax.id,
        name: syntax.name,
        severity,
        confidence,
        description: syntax.description.trim().to_string(),
        remediation: syntax.remediation.trim().to_string(),
        keywords: if syntax.keywords_case_sensitive {
            syntax.keywords.clone()
        } else {
            syntax
                .keywords
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .collect()
        },
        keywords_case_sensitive: syntax.keywords_case_sensitive,
        regex: regex?,
        min_entropy: syntax.entropy,
        config_entropy: None,
        checksum,
        placeholder_check: syntax.placeholder_check,
        decode,
        decoded_regex,
        jwt_claims: syntax.jwt,
        generic: syntax.generic,
        family: syntax.family,
        validate,
        min_length: syntax.min_length,
        deny: syntax
            .deny
            .map(|d| Deny {
                secret_words: lowercase(d.secret_words),
                secret_prefixes: lowercase(d.secret_prefixes),
                secret_suffixes: lowercase(d.secret_suffixes),
                secret_substrings: lowercase(d.secret_substrings),
                name_words: lowercase(d.name_words),
            })
            .unwrap_or_default(),
        line_bounded: syntax.line_bounded,
        window,
        references: syntax.references,
        examples: syntax.examples,
        negative_examples: syntax.negative_examples,
        origin: origin.to_string(),
    })
}

fn build_globs(field: &str, globs: &[String], report: &mut Reporter<'_>) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        match GlobBuilder::new(glob).literal_separator(true).build() {
            Ok(glob) => {
                builder.add(glob);
            }
            Err(err) => report.problem(format!("{field}: bad glob `{glob}`: {err}")),
        }
    }
    builder.build().unwrap_or_else(|err| {
        report.problem(format!("{field}: {err}"));
        GlobSet::empty()
    })
}

/// What `globs` require of a path's last two components (see
/// [`super::NameFilter`]): each glob's last component as a glob over file
/// names, or, when that is `*`, the component before it as a glob over the
/// directory's name; `any` when a glob says nothing usable (`**` there,
/// braces, classes or escapes, or a part that does not compile).
fn name_filter(globs: &[String]) -> super::NameFilter {
    let simple =
        |part: &str| !part.is_empty() && !part.contains("**") && !part.contains(['{', '[', '\\']);
    let compiled = |part: &str| GlobBuilder::new(part).literal_separator(true).build().ok();
    let mut files = GlobSetBuilder::new();
    let mut dirs = GlobSetBuilder::new();
    let mut any = false;
    for glob in globs {
        let mut parts = glob.rsplit('/');
        let name = parts.next().unwrap_or(glob);
        let dir = parts.next();
        match (name, dir) {
            ("*", Some(dir)) if simple(dir) => match compiled(dir) {
                Some(dir) => {
                    dirs.add(dir);
                }
                None => any = true,
            },
            (name, _) if name != "*" && simple(name) => match compiled(name) {
                Some(name) => {
                    files.add(name);
                }
                None => any = true,
            },
            _ => any = true,
        }
    }
    match (files.build(), dirs.build()) {
        (Ok(files), Ok(dirs)) => super::NameFilter { files, dirs, any },
        _ => super::NameFilter {
            any: true,
            ..super::NameFilter::default()
        },
    }
}

fn compile_file_rule(
    origin: &str,
    syntax: FileRuleSyntax,
    report: &mut Reporter<'_>,
) -> Option<FileRule> {
    require_text("name", &syntax.name, report);
    require_text("description", &syntax.description, report);
    require_text("remediation", &syntax.remediation, report);
    let severity = parse_severity(&syntax.severity, report);
    let confidence = parse_confidence(syntax.confidence.as_deref(), Confidence::High, report);
    if syntax.paths.is_empty() {
        report.problem("`paths` is empty");
    }
    let paths = build_globs("paths", &syntax.paths, report);
    let exclude_paths = build_globs("exclude_paths", &syntax.exclude_paths, report);
    let names = name_filter(&syntax.paths);
    let content_regex = match syntax.content_regex.as_deref().map(compile_regex) {
        None => None,
        Some(Ok(regex)) => Some(regex),
        Some(Err(err)) => {
            report.problem(format!("content_regex does not compile: {err}"));
            None
        }
    };
    if syntax.examples.is_empty() {
        report.problem("`examples` is empty");
    }
    if syntax.negative_examples.is_empty() {
        report.problem("`negative_examples` is empty");
    }
    Some(FileRule {
        id: syntax.id,
        name: syntax.name,
        severity,
        confidence,
        description: syntax.description.trim().to_string(),
        remediation: syntax.remediation.trim().to_string(),
        paths,
        exclude_paths,
        names,
        content_regex,
        references: syntax.references,
        examples: syntax.examples,
        negative_examples: syntax.negative_examples,
        origin: origin.to_string(),
    })
}

/// Parses a rule file table by table, so that a missing or unknown field is
/// reported with the id of the rule it belongs to.
fn parse_file(
    origin: &str,
    text: &str,
    scrub: bool,
    problems: &mut Vec<RuleProblem>,
) -> Option<RuleFileSyntax> {
    let file_problem = |reason: String| RuleProblem {
        origin: origin.to_string(),
        rule_id: None,
        reason,
    };
    let shown = |err: &toml::de::Error| {
        if scrub {
            crate::redact::toml_error(text, err)
        } else {
            err.to_string().trim_end().replace('\n', " ")
        }
    };
    let mut table: toml::Table = match toml::from_str(text) {
        Ok(table) => table,
        Err(err) if scrub => {
            problems.push(file_problem(format!("not valid TOML: {}", shown(&err))));
            return None;
        }
        Err(err) => {
            problems.push(file_problem(format!(
                "not valid TOML: {}",
                err.to_string().trim_end()
            )));
            return None;
        }
    };
    let mut file = RuleFileSyntax::default();
    let before = problems.len();
    let rule_tables = table.remove("rule");
    let file_tables = table.remove("file");
    if let Some(values) = table.remove("public_values") {
        match Vec::<String>::deserialize(values) {
            Ok(values) => file.public_values = values,
            Err(err) => problems.push(file_problem(format!("public_values: {}", shown(&err)))),
        }
    }
    for key in table.keys() {
        problems.push(file_problem(format!(
            "unknown top-level key `{key}` (expected [[rule]], [[file]] or public_values)"
        )));
    }
    file.rule = parse_tables(origin, "rule", rule_tables, &shown, problems);
    file.file = parse_tables(origin, "file", file_tables, &shown, problems);
    if file.rule.is_empty()
        && file.file.is_empty()
        && file.public_values.is_empty()
        && problems.len() == before
    {
        problems.push(file_problem(
            "file defines no [[rule]] or [[file]] tables".into(),
        ));
    }
    Some(file)
}

fn parse_tables<T: for<'de> Deserialize<'de>>(
    origin: &str,
    kind: &str,
    value: Option<toml::Value>,
    shown: &dyn Fn(&toml::de::Error) -> String,
    problems: &mut Vec<RuleProblem>,
) -> Vec<T> {
    let Some(value) = value else {
        return Vec::new();
    };
    let toml::Value::Array(items) = value else {
        problems.push(RuleProblem {
            origin: origin.to_string(),
            rule_id: None,
            reason: format!("`{kind}` must be an array of tables: write [[{kind}]]"),
        });
        return Vec::new();
    };
    let mut parsed = Vec::new();
    for (position, item) in items.into_iter().enumerate() {
        let id = item
            .get("id")
            .and_then(toml::Value::as_str)
            .map_or_else(|| format!("#{} (no id)", position + 1), str::to_string);
        match T::deserialize(item) {
            Ok(value) => parsed.push(value),
            Err(err) => problems.push(RuleProblem {
                origin: origin.to_string(),
                rule_id: Some(id),
                reason: shown(&err),
            }),
        }
    }
    parsed
}

fn lowercase(list: Vec<String>) -> Vec<String> {
    list.into_iter().map(|s| s.to_ascii_lowercase()).collect()
}
