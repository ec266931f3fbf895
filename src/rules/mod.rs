//! Loading, validating and compiling the rule set.
//!
//! Rules are data (`patterns/*.toml`, embedded at build time, plus any files the
//! user names with `--rules`). Loading checks every rule of every file and reports
//! all problems at once, each with its file and rule id, so a rule author fixes a
//! file in one pass rather than one error per run.

mod compile;
pub(crate) use compile::compile_regex;
#[allow(missing_docs)] // Field meanings live in patterns/README.md, the format's one reference.
pub mod syntax;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::bytes::Regex;
use serde::Serialize;

pub use crate::confidence::Confidence;
pub use syntax::FileExample;

include!(concat!(env!("OUT_DIR"), "/embedded_patterns.rs"));

/// How bad a leak of this kind is; orders findings and drives SARIF levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Test keys and public test wallets: worth knowing, rarely worth blocking.
    Low,
    /// Limited scope, or a value that only looks like a secret by its name.
    Medium,
    /// Most provider API keys.
    High,
    /// Cloud admin keys, private keys, payment secrets, database credentials.
    Critical,
}

impl Severity {
    fn parse(text: &str) -> Option<Severity> {
        match text {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }

    /// The lowercase name used in rule files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A structural check that real tokens of a format pass and look-alikes fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// GitHub classic tokens: base62 CRC32 of the random part as the last 6 chars.
    GithubCrc32,
    /// npm tokens: the same scheme as GitHub's.
    NpmCrc32,
}

/// How a rule's captured secret is encoded before it can be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decode {
    /// Standard or URL-safe base64; the finding reports the decoded text.
    Base64,
}

/// A compiled secret rule, ready for the engine.
#[derive(Debug)]
pub struct Rule {
    /// Stable kebab-case id; part of every fingerprint, so never renamed lightly.
    pub id: String,
    /// Human name for reports.
    pub name: String,
    /// How bad a leak is.
    pub severity: Severity,
    /// How sure a match is to be a real credential, before the file's
    /// context (a test or example file) lowers it.
    pub confidence: Confidence,
    /// What was found and what an attacker can do with it.
    pub description: String,
    /// Where and how to rotate.
    pub remediation: String,
    /// Literal prefilter strings: lowercase and matched ASCII
    /// case-insensitively, unless `keywords_case_sensitive`.
    pub keywords: Vec<String>,
    /// Keywords match only in their exact case (PEM armour lines are
    /// upper case by specification). Such keywords are found by a SIMD
    /// literal search many times faster than a case-blind automaton.
    pub keywords_case_sensitive: bool,
    /// The confirming regex, a byte regex with Unicode off, compiled on first use.
    pub regex: LazyRegex,
    /// Minimum Shannon entropy (bits per byte) of the secret, as the rule
    /// file sets it.
    pub min_entropy: Option<f64>,
    /// The floor a `.secretgate.toml` set instead (`[rules] entropy`); the
    /// engine counts what it drops beyond the rule file's own floor.
    pub config_entropy: Option<f64>,
    /// Structural check on the secret.
    pub checksum: Option<Checksum>,
    /// Whether placeholders and references are rejected.
    pub placeholder_check: bool,
    /// How the captured secret is encoded.
    pub decode: Option<Decode>,
    /// What the decoded secret must look like.
    pub decoded_regex: Option<Regex>,
    /// Required JWT payload claims; `Some(empty)` means any well-formed JWT.
    pub jwt_claims: Option<BTreeMap<String, String>>,
    /// A generic rule yields to a specific rule that matched the same secret.
    pub generic: bool,
    /// A format-family rule (any JWT, a private key in any armour) yields to
    /// a provider rule that matched the same secret, and generic rules yield
    /// to it.
    pub family: bool,
    /// The code check the secret must pass, which may also set the
    /// finding's severity, confidence and reason.
    pub validate: Option<crate::engine::validate::Validator>,
    /// Shortest secret (in bytes) the rule reports.
    pub min_length: Option<usize>,
    /// Secrets and names the rule never reports.
    pub deny: Deny,
    /// Whether the regex window stops at line ends.
    pub line_bounded: bool,
    /// Bytes of context either side of a keyword that the regex may see.
    pub window: usize,
    /// Documentation links.
    pub references: Vec<String>,
    /// Inputs that must produce a finding of this rule.
    pub examples: Vec<String>,
    /// Inputs that must not.
    pub negative_examples: Vec<String>,
    /// The file the rule came from, for error messages.
    pub origin: String,
}

/// Word lists that veto a match, all lowercase and compared ASCII
/// case-insensitively. The secret is compared whole, by prefix, by suffix and
/// by substring; the `name` capture group (the variable or key a value is
/// assigned to) is split into words at `_`, `-`, `.`, other punctuation and
/// camelCase boundaries, and any listed word vetoes it.
#[derive(Debug, Default)]
pub struct Deny {
    /// The secret equals one of these.
    pub secret_words: Vec<String>,
    /// The secret starts with one of these.
    pub secret_prefixes: Vec<String>,
    /// The secret ends with one of these.
    pub secret_suffixes: Vec<String>,
    /// The secret contains one of these.
    pub secret_substrings: Vec<String>,
    /// A word of the name is one of these (`resetPassword`, `csrf_token`).
    pub name_words: Vec<String>,
}

impl Deny {
    /// Whether the lists veto this secret or name.
    pub fn vetoes(&self, secret: &[u8], name: Option<&[u8]>) -> bool {
        let secret = secret.to_ascii_lowercase();
        let has = |list: &[String], test: &dyn Fn(&[u8]) -> bool| {
            list.iter().any(|item| test(item.as_bytes()))
        };
        if has(&self.secret_words, &|w| secret == w)
            || has(&self.secret_prefixes, &|p| secret.starts_with(p))
            || has(&self.secret_suffixes, &|p| secret.ends_with(p))
            || has(&self.secret_substrings, &|p| {
                memchr::memmem::find(&secret, p).is_some()
            })
        {
            return true;
        }
        match name {
            Some(name) if !self.name_words.is_empty() => name_words(name).iter().any(|word| {
                self.name_words
                    .iter()
                    .any(|w| w.as_bytes() == word.as_slice())
            }),
            _ => false,
        }
    }
}

/// Splits an identifier into lowercase words: `resetPassword`, `RESET_PASSWORD`
/// and `reset-password` all give `reset`, `password`.
pub fn name_words(name: &[u8]) -> Vec<Vec<u8>> {
    let mut words: Vec<Vec<u8>> = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    let mut previous_lower = false;
    for &byte in name {
        if !byte.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if byte.is_ascii_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = byte.is_ascii_lowercase() || byte.is_ascii_digit();
        current.push(byte.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// A rule's regex, compiled on first use: a pre-commit run that touches three
/// files should not pay for compiling three hundred regexes. Syntax is checked
/// when the rule is loaded; user rules are compiled eagerly too.
#[derive(Debug)]
pub struct LazyRegex {
    pattern: String,
    compiled: OnceLock<Result<CompiledRegex, String>>,
}

/// A compiled rule regex and where its `secret` group is.
#[derive(Debug)]
pub struct CompiledRegex {
    /// The byte regex.
    pub regex: Regex,
    /// Indexes of the `secret` capture group and of its alternates
    /// `secret2`, `secret3`... (a regex that finds the secret in two shapes,
    /// quoted and unquoted, needs two groups: names cannot repeat). The
    /// first that took part in a match is the secret; none means the whole
    /// match is.
    pub secret_groups: Vec<usize>,
    /// Index of the `name` capture group (the assigned-to identifier), if any.
    pub name_group: Option<usize>,
}

impl LazyRegex {
    /// Wraps a pattern whose syntax has been checked.
    pub fn new(pattern: String) -> LazyRegex {
        LazyRegex {
            pattern,
            compiled: OnceLock::new(),
        }
    }

    /// The pattern text.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The compiled regex; an error only past the compile size limit.
    pub fn get(&self) -> Result<&CompiledRegex, &str> {
        self.compiled
            .get_or_init(|| {
                compile_regex(&self.pattern).map(|regex| CompiledRegex {
                    secret_groups: regex
                        .capture_names()
                        .enumerate()
                        .filter(|(_, name)| name.is_some_and(is_secret_group_name))
                        .map(|(index, _)| index)
                        .collect(),
                    name_group: regex.capture_names().position(|name| name == Some("name")),
                    regex,
                })
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

/// `secret`, or `secret` followed by digits: the groups that hold a secret.
fn is_secret_group_name(name: &str) -> bool {
    name.strip_prefix("secret")
        .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()))
}

/// A compiled sensitive-file rule.
#[derive(Debug)]
pub struct FileRule {
    /// Stable kebab-case id.
    pub id: String,
    /// Human name for reports.
    pub name: String,
    /// How bad a leak is.
    pub severity: Severity,
    /// How sure a flagged file is to hold a real credential.
    pub confidence: Confidence,
    /// What the file is and why it should not be in git.
    pub description: String,
    /// What to do about it.
    pub remediation: String,
    /// Paths that match.
    pub paths: globset::GlobSet,
    /// Paths that never match, even when `paths` does.
    pub exclude_paths: globset::GlobSet,
    /// Which names a path `paths` matches can have, decided per tree entry
    /// name: a history audit uses it to pick, from each distinct entry name,
    /// the few blobs a rule could flag under a path other than their first.
    pub names: NameFilter,
    /// What the content must contain, when the name alone is not enough.
    pub content_regex: Option<Regex>,
    /// Documentation links.
    pub references: Vec<String>,
    /// Files that must be flagged.
    pub examples: Vec<FileExample>,
    /// Files that must not be flagged.
    pub negative_examples: Vec<FileExample>,
    /// The file the rule came from, for error messages.
    pub origin: String,
}

impl FileRule {
    /// Whether a file with this path (and, if the rule needs it, content) is flagged.
    pub fn matches(&self, path: &str, content: Option<&[u8]>) -> bool {
        self.path_matches(path) && self.content_matches(content)
    }

    /// Whether the path alone is one this rule flags (its content aside).
    pub fn path_matches(&self, path: &str) -> bool {
        let path = path.trim_start_matches("./");
        self.paths.is_match(path) && !self.exclude_paths.is_match(path)
    }

    /// Whether the content is what this rule flags (its path aside); content
    /// that was not read (binary) passes only a rule that needs none.
    pub fn content_matches(&self, content: Option<&[u8]>) -> bool {
        match (&self.content_regex, content) {
            (None, _) => true,
            (Some(regex), Some(content)) => regex.is_match(content),
            (Some(_), None) => false,
        }
    }

    /// Whether some path ending in the file name `name` could match `paths`
    /// without help from its directory's name (see [`NameFilter`]).
    pub fn may_match_name(&self, name: &str) -> bool {
        self.names.admits_file(name)
    }

    /// Whether any file directly inside a directory named `dir` could match
    /// `paths` (see [`NameFilter`]).
    pub fn may_match_in_dir(&self, dir: &str) -> bool {
        self.names.admits_dir(dir)
    }
}

/// What the last two components of a path must look like for a rule's
/// `paths` to match it, from the globs' own last two components (globs
/// never let `*`, `?` or a class match `/`). A path can match only if its
/// file name is in `files`, or its directory's name is in `dirs` (globs
/// whose last component is `*`, such as `keystore/*`), or `any` is set (a
/// glob too loose to say: `**` last, braces, classes).
#[derive(Debug, Clone, Default)]
pub struct NameFilter {
    /// File names that globs with a telling last component admit.
    pub files: globset::GlobSet,
    /// Directory names whose every file a glob admits.
    pub dirs: globset::GlobSet,
    /// A glob admits paths whatever their last two names.
    pub any: bool,
}

impl NameFilter {
    /// Whether a file named `name` could match, whatever its directory.
    pub fn admits_file(&self, name: &str) -> bool {
        self.any || self.files.is_match(name)
    }

    /// Whether every file directly inside a directory named `dir` could.
    pub fn admits_dir(&self, dir: &str) -> bool {
        self.dirs.is_match(dir)
    }
}

/// Every rule the engine will run.
#[derive(Debug, Default)]
pub struct RuleSet {
    /// Secret rules, in load order.
    pub rules: Vec<Rule>,
    /// Sensitive-file rules, in load order.
    pub file_rules: Vec<FileRule>,
    /// Publicly documented example and test values, normalised by
    /// [`normalize_public_value`].
    pub public_values: HashSet<String>,
    /// Public values only a config's extra rule files declare, as written:
    /// listed in every report, since they turn findings off.
    pub config_public_values: Vec<String>,
    /// The same, normalised, for the engine to count what they drop.
    pub config_public_set: HashSet<String>,
}

impl Rule {
    /// The entropy floor in force: the config's, else the rule file's.
    pub fn entropy_floor(&self) -> Option<f64> {
        self.config_entropy.or(self.min_entropy)
    }
}

/// The form in which public values are compared: lowercase, without a `0x`
/// prefix, so `0xAC09…` and `ac09…` are the same Hardhat key.
pub fn normalize_public_value(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value).to_ascii_lowercase();
    match text.strip_prefix("0x") {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

/// One problem in one rule file.
#[derive(Debug, Clone)]
pub struct RuleProblem {
    /// The file, as named to the user.
    pub origin: String,
    /// The rule id, when the problem belongs to one rule.
    pub rule_id: Option<String>,
    /// What is wrong and, where possible, how to fix it.
    pub reason: String,
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule_id {
            Some(id) => write!(f, "{}: rule `{}`: {}", self.origin, id, self.reason),
            None => write!(f, "{}: {}", self.origin, self.reason),
        }
    }
}

/// Loading failed; every problem found is listed.
#[derive(Debug, thiserror::Error)]
#[error("invalid rules ({} problem{}):\n{}", problems.len(), if problems.len() == 1 { "" } else { "s" }, render_problems(problems))]
pub struct RuleError {
    /// Every problem, in file order.
    pub problems: Vec<RuleProblem>,
}

fn render_problems(problems: &[RuleProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where rules come from: the embedded set, user files, a config's extra
/// files, or any of them.
#[derive(Debug, Clone, Default)]
pub struct RuleSources {
    /// Include the embedded `patterns/*.toml`.
    pub builtin: bool,
    /// Extra files or directories of `*.toml` named on the command line.
    pub paths: Vec<PathBuf>,
    /// Files or directories a `.secretgate.toml` names (`[rules] extra`).
    pub config: Option<ConfigRuleFiles>,
}

/// The rule files a config names, and who named the config: a repository's
/// own config may name only regular files inside it (see
/// [`crate::confined`]), and problems in them never quote their text.
#[derive(Debug, Clone, Default)]
pub struct ConfigRuleFiles {
    /// Files or directories of `*.toml`.
    pub paths: Vec<PathBuf>,
    /// Who named the config.
    pub trust: crate::confined::Trust,
}

/// Where one rule file's text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Embedded: tested, so regexes may compile lazily.
    Builtin,
    /// Named on the command line.
    User,
    /// Named by a config; `scrub` when the repository named it.
    Config { scrub: bool },
}

/// A rule as a report describes it once, apart from its findings: SARIF lists
/// every rule that produced a result with its description, remediation and
/// links, while each finding carries only the rule's id.
#[derive(Debug, Clone)]
pub struct RuleDoc {
    /// The rule id.
    pub id: String,
    /// Human name.
    pub name: String,
    /// How bad a leak is.
    pub severity: Severity,
    /// The rule's confidence before context (SARIF's `precision`).
    pub confidence: Confidence,
    /// `true` for a sensitive-file rule, `false` for a secret rule.
    pub file: bool,
    /// What was found and what an attacker can do with it.
    pub description: String,
    /// Where and how to rotate (or remove the file).
    pub remediation: String,
    /// Documentation links.
    pub references: Vec<String>,
}

impl RuleSet {
    /// The documentation of the rule with this id, secret or file rule.
    pub fn doc(&self, id: &str) -> Option<RuleDoc> {
        let secret = self.rules.iter().find(|r| r.id == id).map(|r| RuleDoc {
            id: r.id.clone(),
            name: r.name.clone(),
            severity: r.severity,
            confidence: r.confidence,
            file: false,
            description: r.description.clone(),
            remediation: r.remediation.clone(),
            references: r.references.clone(),
        });
        secret.or_else(|| {
            self.file_rules
                .iter()
                .find(|r| r.id == id)
                .map(|r| RuleDoc {
                    id: r.id.clone(),
                    name: r.name.clone(),
                    severity: r.severity,
                    confidence: r.confidence,
                    file: true,
                    description: r.description.clone(),
                    remediation: r.remediation.clone(),
                    references: r.references.clone(),
                })
        })
    }
}

impl RuleSet {
    /// Loads and compiles rules from the given sources, reporting every problem.
    pub fn load(sources: &RuleSources) -> Result<RuleSet, RuleError> {
        // (origin, text, source: built-in rules are tested, so their regexes
        // may be compiled lazily; other rules are compiled now).
        let mut texts: Vec<(String, String, Source)> = Vec::new();
        let mut problems = Vec::new();
        if sources.builtin {
            for (name, text) in EMBEDDED_PATTERNS {
                texts.push((
                    format!("patterns/{name} (built in)"),
                    (*text).to_string(),
                    Source::Builtin,
                ));
            }
        }
        let user = crate::confined::Trust::User;
        for path in &sources.paths {
            collect_rule_files(path, &user, Source::User, &mut texts, &mut problems);
        }
        if let Some(config) = &sources.config {
            let source = Source::Config {
                scrub: config.trust.is_repository(),
            };
            for path in &config.paths {
                collect_rule_files(path, &config.trust, source, &mut texts, &mut problems);
            }
        }
        let mut set = RuleSet::default();
        let mut seen_ids = HashSet::new();
        let mut from_config: Vec<String> = Vec::new();
        let mut elsewhere: HashSet<String> = HashSet::new();
        for (origin, text, source) in &texts {
            let (eager, scrub) = match source {
                Source::Builtin => (false, false),
                Source::User => (true, false),
                Source::Config { scrub } => (true, *scrub),
            };
            let values = compile::compile_file(
                origin,
                text,
                (eager, scrub),
                &mut set,
                &mut seen_ids,
                &mut problems,
            );
            match source {
                Source::Config { .. } => from_config.extend(values),
                _ => elsewhere.extend(values.iter().map(|v| normalize_public_value(v.as_bytes()))),
            }
        }
        for value in from_config {
            let normal = normalize_public_value(value.as_bytes());
            if !elsewhere.contains(&normal) && set.config_public_set.insert(normal) {
                set.config_public_values.push(value);
            }
        }
        if problems.is_empty() {
            Ok(set)
        } else {
            Err(RuleError { problems })
        }
    }

    /// Compiles the text of one rule file as `--rules` would (every regex
    /// compiled now), without reading a file: for tests and fuzzing, which
    /// hold rule text in memory. `origin` names the text in problems.
    pub fn from_toml(origin: &str, text: &str) -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        let mut problems = Vec::new();
        compile::compile_file(
            origin,
            text,
            (true, false),
            &mut set,
            &mut HashSet::new(),
            &mut problems,
        );
        if problems.is_empty() {
            Ok(set)
        } else {
            Err(RuleError { problems })
        }
    }

    /// The confidence of the secret or file rule with this id.
    pub fn confidence(&self, id: &str) -> Option<Confidence> {
        self.rules
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.confidence)
            .or_else(|| {
                self.file_rules
                    .iter()
                    .find(|r| r.id == id)
                    .map(|r| r.confidence)
            })
    }

    /// Looks up a secret rule by id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

fn collect_rule_files(
    path: &Path,
    trust: &crate::confined::Trust,
    source: Source,
    texts: &mut Vec<(String, String, Source)>,
    problems: &mut Vec<RuleProblem>,
) {
    let origin = path.display().to_string();
    if path.is_dir() {
        if let Err(err) = trust.admit(path) {
            problems.push(RuleProblem {
                origin,
                rule_id: None,
                reason: err.to_string(),
            });
            return;
        }
        let entries = match std::fs::read_dir(path) {
            Ok(entries) => entries,
            Err(err) => {
                problems.push(RuleProblem {
                    origin,
                    rule_id: None,
                    reason: format!("cannot read rule directory: {err}"),
                });
                return;
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        files.sort();
        if files.is_empty() {
            problems.push(RuleProblem {
                origin,
                rule_id: None,
                reason: "directory holds no *.toml rule files".into(),
            });
        }
        for file in files {
            collect_rule_files(&file, trust, source, texts, problems);
        }
        return;
    }
    match crate::confined::read_text(path, crate::confined::MAX_POLICY_BYTES, trust) {
        Ok(text) => texts.push((origin, text, source)),
        Err(err) => problems.push(RuleProblem {
            origin,
            rule_id: None,
            reason: match source {
                Source::Config { .. } => format!("cannot use this rule file: {err}"),
                _ => format!("cannot read rule file: {err} (check the --rules path)"),
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(name: &str) -> Vec<String> {
        name_words(name.as_bytes())
            .into_iter()
            .map(|w| String::from_utf8_lossy(&w).into_owned())
            .collect()
    }

    #[test]
    fn names_split_into_words() {
        assert_eq!(words("resetPassword"), ["reset", "password"]);
        assert_eq!(words("RESET_PASSWORD"), ["reset", "password"]);
        assert_eq!(words("db.reset-password2"), ["db", "reset", "password2"]);
        assert_eq!(words("OWNER_PASSWORD"), ["owner", "password"]);
    }

    #[test]
    fn from_toml_compiles_rules_and_lists_every_problem() {
        let rule = |id: &str, regex: &str| {
            format!(
                "[[rule]]\nid = \"{id}\"\nname = \"N\"\nseverity = \"low\"\n\
                 description = \"D\"\nremediation = \"R\"\nkeywords = [\"demo_\"]\n\
                 regex = '{regex}'\nexamples = [\"demo_abcdefgh\"]\n\
                 negative_examples = [\"demo_\"]\n"
            )
        };
        let good = RuleSet::from_toml("good.toml", &rule("demo-token", "demo_[a-z]{8}"));
        assert_eq!(good.map(|set| set.rules.len()).ok(), Some(1));
        let text = rule("demo-a", "demo_(") + &rule("demo-a", "demo_[a-z]{8}");
        let problems = RuleSet::from_toml("bad.toml", &text).map(|_| ()).err();
        let reasons: Vec<String> = problems
            .map(|err| err.problems.iter().map(|p| p.reason.clone()).collect())
            .unwrap_or_default();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(
            reasons[0].starts_with("regex does not compile"),
            "{reasons:?}"
        );
        assert!(reasons[1].starts_with("duplicate id"), "{reasons:?}");
    }

    #[test]
    fn a_file_rules_names_admit_every_path_it_matches() {
        let set = RuleSet::load(&RuleSources {
            builtin: true,
            paths: Vec::new(),
            config: None,
        })
        .unwrap();
        let mut paths: Vec<String> = vec!["src/main.rs".into(), "a/b/c/.env".into()];
        for rule in &set.file_rules {
            paths.extend(rule.examples.iter().map(|e| e.path.clone()));
            paths.extend(rule.negative_examples.iter().map(|e| e.path.clone()));
        }
        paths.push("wallet/keystore/anything".into());
        for rule in &set.file_rules {
            // Every built-in rule names its files or their directory.
            assert!(!rule.names.any, "{}", rule.id);
            for path in &paths {
                let mut parts = path.rsplit('/');
                let name = parts.next().unwrap_or(path);
                let in_dir = parts.next().is_some_and(|dir| rule.may_match_in_dir(dir));
                if rule.path_matches(path) {
                    assert!(rule.may_match_name(name) || in_dir, "{}: {path}", rule.id);
                }
            }
        }
        let rule = |id: &str| set.file_rules.iter().find(|r| r.id == id).unwrap();
        assert!(!rule("dotenv-file").may_match_name("main.rs"));
        assert!(rule("dotenv-file").may_match_name(".env.production"));
        let keystores: Vec<&FileRule> = set
            .file_rules
            .iter()
            .filter(|r| r.paths.is_match("wallet/keystore/anything"))
            .collect();
        assert!(!keystores.is_empty());
        for rule in keystores {
            assert!(!rule.may_match_name("anything"), "{}", rule.id);
            assert!(rule.may_match_in_dir("keystore"), "{}", rule.id);
        }
    }

    #[test]
    fn secret_groups_are_secret_and_its_numbered_alternates() {
        assert!(is_secret_group_name("secret"));
        assert!(is_secret_group_name("secret2"));
        assert!(is_secret_group_name("secret10"));
        assert!(!is_secret_group_name("secrets"));
        assert!(!is_secret_group_name("secret_key"));
        assert!(!is_secret_group_name("name"));
        let regex = LazyRegex::new(
            r#"(?x) k= (?: "(?P<secret>[a-z ]+)" | (?P<secret2>[a-z]+)$ )"#.to_string(),
        );
        let compiled = regex.get().unwrap();
        assert_eq!(compiled.secret_groups, [1, 2]);
    }

    #[test]
    fn deny_lists_veto_secrets_and_names() {
        let deny = Deny {
            secret_words: vec!["guest".into()],
            secret_prefixes: vec!["test".into()],
            secret_suffixes: vec!["password".into()],
            secret_substrings: vec!["xyz".into()],
            name_words: vec!["reset".into()],
        };
        assert!(deny.vetoes(b"Guest", None));
        assert!(deny.vetoes(b"TestPass1", None));
        assert!(deny.vetoes(b"mypassword", None));
        assert!(deny.vetoes(b"abXYZcd", None));
        assert!(deny.vetoes(b"tars2026", Some(b"resetPassword")));
        assert!(!deny.vetoes(b"tars2026", Some(b"OWNER_PASSWORD")));
        assert!(!deny.vetoes(b"tars2026", None));
    }
}
