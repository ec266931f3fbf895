//! The on-disk form of a rule file, exactly as written in `patterns/*.toml`.
//!
//! Kept apart from the compiled [`crate::rules::Rule`] so that loading can report
//! every problem in a file with its rule id before anything is compiled.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One `patterns/*.toml` file: secret rules and sensitive-file rules.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFileSyntax {
    /// Rules that look for a secret inside content.
    #[serde(default)]
    pub rule: Vec<RuleSyntax>,
    /// Rules that flag a file by its path (and optionally its content).
    #[serde(default)]
    pub file: Vec<FileRuleSyntax>,
    /// Values published as documentation examples or test fixtures (AWS's
    /// example key, Hardhat's default accounts): never reported by a rule that
    /// has `placeholder_check`.
    #[serde(default)]
    pub public_values: Vec<String>,
}

/// A secret rule as written; see `patterns/README.md` for each field's meaning.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSyntax {
    pub id: String,
    pub name: String,
    pub severity: String,
    #[serde(default)]
    pub confidence: Option<String>,
    pub description: String,
    pub remediation: String,
    pub keywords: Vec<String>,
    pub regex: String,
    #[serde(default)]
    pub entropy: Option<f64>,
    #[serde(default)]
    pub checksum: Option<String>,
    #[serde(default = "default_true")]
    pub placeholder_check: bool,
    #[serde(default)]
    pub decode: Option<String>,
    #[serde(default)]
    pub decoded_regex: Option<String>,
    #[serde(default)]
    pub jwt: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub generic: bool,
    #[serde(default)]
    pub family: bool,
    #[serde(default)]
    pub validate: Option<String>,
    #[serde(default)]
    pub min_length: Option<usize>,
    #[serde(default)]
    pub deny: Option<DenySyntax>,
    #[serde(default = "default_true")]
    pub line_bounded: bool,
    #[serde(default)]
    pub keywords_case_sensitive: bool,
    #[serde(default)]
    pub window: Option<usize>,
    #[serde(default)]
    pub references: Vec<String>,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
}

/// Values and names that are never secrets for one rule: word lists that a
/// regex without look-around could only express as unreadable complements.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenySyntax {
    #[serde(default)]
    pub secret_words: Vec<String>,
    #[serde(default)]
    pub secret_prefixes: Vec<String>,
    #[serde(default)]
    pub secret_suffixes: Vec<String>,
    #[serde(default)]
    pub secret_substrings: Vec<String>,
    #[serde(default)]
    pub name_words: Vec<String>,
}

/// A sensitive-file rule as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRuleSyntax {
    pub id: String,
    pub name: String,
    pub severity: String,
    #[serde(default)]
    pub confidence: Option<String>,
    pub description: String,
    pub remediation: String,
    pub paths: Vec<String>,
    #[serde(default)]
    pub exclude_paths: Vec<String>,
    #[serde(default)]
    pub content_regex: Option<String>,
    #[serde(default)]
    pub references: Vec<String>,
    pub examples: Vec<FileExample>,
    pub negative_examples: Vec<FileExample>,
}

/// A path (and optional content) that a file rule must, or must not, flag.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileExample {
    pub path: String,
    #[serde(default)]
    pub content: Option<String>,
}

fn default_true() -> bool {
    true
}
