//! The repository's own settings, `.secretgate.toml`: extra rules, rules to
//! turn off, paths whose findings are accepted, and per-rule entropy floors.
//!
//! ```toml
//! [rules]
//! extra = ["security/secretgate-rules"]   # rule files or directories, relative to this file
//! disable = ["generic-secret"]            # rule ids
//! entropy = { generic-secret = 3.8 }      # minimum entropy per rule id
//!
//! [allow]
//! paths = ["tests/fixtures/**", "docs/**/*.md"]   # findings there are accepted
//! baseline = "secretgate-baseline.json"           # an accepted earlier report
//!
//! [gate]
//! min_confidence = "medium"   # fail on findings of at least this confidence
//! ```
//!
//! Everything the file changes about detection is listed in every report's
//! summary (`summary.config`, and the human output), so a config cannot
//! quietly disable scanning. A repository's own config may read only regular
//! files inside the repository (see [`crate::confined`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::confined::{MAX_POLICY_BYTES, ReadError, Trust};
use crate::rules::RuleSet;

/// The file name looked for at the root of what is scanned.
pub const CONFIG_FILE_NAME: &str = ".secretgate.toml";

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read, or may not be.
    #[error(transparent)]
    File(#[from] ReadError),
    /// The file is not valid TOML or has unknown keys.
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line, column and key; values are
        /// never quoted but redacted.
        message: String,
    },
    /// A value is wrong.
    #[error("{path}: {key}: {reason}")]
    Value {
        /// The file.
        path: PathBuf,
        /// The key, e.g. `rules.disable`.
        key: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigSyntax {
    #[serde(default)]
    rules: RulesSyntax,
    #[serde(default)]
    allow: AllowSyntax,
    #[serde(default)]
    gate: GateSyntax,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GateSyntax {
    #[serde(default)]
    min_confidence: Option<crate::rules::Confidence>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesSyntax {
    #[serde(default)]
    extra: Vec<PathBuf>,
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    entropy: BTreeMap<String, f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowSyntax {
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    baseline: Option<PathBuf>,
}

/// A loaded `.secretgate.toml`.
#[derive(Debug, Default)]
pub struct RepoConfig {
    /// The file it came from.
    pub path: PathBuf,
    /// Who named it: the files it names are read under the same trust.
    pub trust: Trust,
    /// Extra rule files, resolved against the config's directory.
    pub extra_rules: Vec<PathBuf>,
    /// Rule ids turned off.
    pub disabled_rules: Vec<String>,
    /// Entropy floors per rule id.
    pub entropy: BTreeMap<String, f64>,
    /// Path globs whose findings are accepted, as written.
    pub allowed_paths: Vec<String>,
    /// A baseline report, resolved against the config's directory, used when
    /// `--baseline` is not given (so hooks honour it too).
    pub baseline: Option<PathBuf>,
    /// The gate's confidence threshold, used when `--min-confidence` is not
    /// given (so hooks honour it too).
    pub min_confidence: Option<crate::rules::Confidence>,
    allowed: GlobSet,
}

/// What a config changed about detection, as every report shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConfigSummary {
    /// The config file, when one was used.
    pub file: Option<String>,
    /// Rule ids it turned off.
    pub disabled_rules: Vec<String>,
    /// Path globs whose findings it accepts.
    pub allowed_paths: Vec<String>,
    /// Rule files and directories it added (`[rules] extra`).
    pub extra_rules: Vec<String>,
    /// Entropy floors it set, with the rule file's own.
    pub entropy: Vec<EntropyFloor>,
    /// Values its extra rule files declare public (never reported), beyond
    /// those the other rules declare. Redacted in redacted reports.
    pub public_values: Vec<String>,
    /// The baseline it names, when used (`--baseline` takes precedence).
    pub baseline: Option<String>,
    /// Whether anything above can remove findings: disabled rules, a raised
    /// entropy floor, public values, allowed paths, a baseline or a gate
    /// threshold of `high` (medium findings pass).
    pub weakens_detection: bool,
    /// The gate's confidence threshold it sets, if any (`high` lets medium
    /// findings pass: shown so it is never silent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_confidence: Option<crate::rules::Confidence>,
    /// In `summary.configs` (a `scan` of several repositories): the
    /// directory whose policy files judged that part of the scan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
}

/// One `[rules] entropy` entry.
#[derive(Debug, Clone, Serialize)]
pub struct EntropyFloor {
    /// The rule id.
    pub rule: String,
    /// The config's floor, bits per byte.
    pub floor: f64,
    /// The floor the rule file sets, if any.
    pub rule_floor: Option<f64>,
    /// Whether the config's floor is above the rule file's (or the rule has
    /// none): secrets the rule would report are dropped.
    pub weakens: bool,
}

impl ConfigSummary {
    /// The same, with public values redacted.
    pub fn redacted(&self) -> ConfigSummary {
        let mut copy = self.clone();
        for value in &mut copy.public_values {
            *value = crate::redact::redact(value);
        }
        copy
    }

    /// Adds what another repository's config changed (a `scan` of several
    /// repositories): lists are joined, `weakens_detection` holds if either
    /// weakens, the lower gate threshold and the first file and baseline
    /// are kept. A reader of this one summary misses nothing any config
    /// turned off; `summary.configs` says which did what.
    pub fn absorb(&mut self, other: &ConfigSummary) {
        fn join<T: Clone + PartialEq>(into: &mut Vec<T>, from: &[T]) {
            for item in from {
                if !into.contains(item) {
                    into.push(item.clone());
                }
            }
        }
        if self.file.is_none() {
            self.file.clone_from(&other.file);
        }
        join(&mut self.disabled_rules, &other.disabled_rules);
        join(&mut self.allowed_paths, &other.allowed_paths);
        join(&mut self.extra_rules, &other.extra_rules);
        self.entropy.extend(other.entropy.iter().cloned());
        join(&mut self.public_values, &other.public_values);
        if self.baseline.is_none() {
            self.baseline.clone_from(&other.baseline);
        }
        self.weakens_detection |= other.weakens_detection;
        self.min_confidence = match (self.min_confidence, other.min_confidence) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// Whether the config changed anything about detection.
    pub fn changes_anything(&self) -> bool {
        self.weakens_detection
            || !self.extra_rules.is_empty()
            || !self.entropy.is_empty()
            || self.min_confidence.is_some()
    }
}

impl RepoConfig {
    /// Reads and checks a config file named under `trust`; the files it
    /// names are read under the same trust.
    pub fn load(path: &Path, trust: Trust) -> Result<RepoConfig, ConfigError> {
        let text = crate::confined::read_text(path, MAX_POLICY_BYTES, &trust)?;
        let mut config = RepoConfig::parse(path, &text)?;
        config.trust = trust;
        Ok(config)
    }

    /// Checks config text as if read from `path` (relative paths in it resolve
    /// against `path`'s directory): the part of [`RepoConfig::load`] that
    /// needs no disk, so tests and fuzzing can feed it text.
    pub fn parse(path: &Path, text: &str) -> Result<RepoConfig, ConfigError> {
        let syntax: ConfigSyntax = toml::from_str(text).map_err(|err| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: crate::redact::toml_error(text, &err),
        })?;
        let value_error = |key: &str, reason: String| ConfigError::Value {
            path: path.to_path_buf(),
            key: key.to_string(),
            reason,
        };
        let mut builder = GlobSetBuilder::new();
        for glob in &syntax.allow.paths {
            let glob = GlobBuilder::new(glob)
                .literal_separator(true)
                .build()
                .map_err(|err| value_error("allow.paths", format!("bad glob `{glob}`: {err}")))?;
            builder.add(glob);
        }
        let allowed = builder
            .build()
            .map_err(|err| value_error("allow.paths", err.to_string()))?;
        for (id, floor) in &syntax.rules.entropy {
            if !(0.0..=8.0).contains(floor) {
                return Err(value_error(
                    "rules.entropy",
                    format!("{id} = {floor} is outside 0..=8 bits per byte"),
                ));
            }
        }
        let base = path.parent().unwrap_or(Path::new("."));
        Ok(RepoConfig {
            path: path.to_path_buf(),
            trust: Trust::User,
            extra_rules: syntax.rules.extra.iter().map(|p| base.join(p)).collect(),
            disabled_rules: syntax.rules.disable,
            entropy: syntax.rules.entropy,
            allowed_paths: syntax.allow.paths,
            baseline: syntax.allow.baseline.map(|p| base.join(p)),
            min_confidence: syntax.gate.min_confidence,
            allowed,
        })
    }

    /// Turns off disabled rules and applies entropy floors; an unknown rule id
    /// is an error, since a typo would otherwise silently do nothing.
    pub fn apply_to_rules(&self, rules: &mut RuleSet) -> Result<(), ConfigError> {
        let unknown = |key: &str, id: &str| ConfigError::Value {
            path: self.path.clone(),
            key: key.to_string(),
            reason: format!("no rule has the id `{id}` (`secretgate rules` lists them)"),
        };
        let known = |id: &str| {
            rules.rules.iter().any(|r| r.id == id) || rules.file_rules.iter().any(|r| r.id == id)
        };
        for id in &self.disabled_rules {
            if !known(id) {
                return Err(unknown("rules.disable", id));
            }
        }
        for id in self.entropy.keys() {
            if !rules.rules.iter().any(|r| &r.id == id) {
                return Err(unknown("rules.entropy", id));
            }
        }
        rules.rules.retain(|r| !self.disabled_rules.contains(&r.id));
        rules
            .file_rules
            .retain(|r| !self.disabled_rules.contains(&r.id));
        for rule in &mut rules.rules {
            if let Some(&floor) = self.entropy.get(&rule.id) {
                rule.config_entropy = Some(floor);
            }
        }
        Ok(())
    }

    /// Whether findings in `path` are accepted.
    pub fn allows_path(&self, path: &str) -> bool {
        self.allowed.is_match(path)
    }

    /// What this config changed, from the config alone (rule files' own
    /// floors unknown, every floor counted as weakening).
    pub fn summary(&self) -> ConfigSummary {
        self.summary_for(&RuleSet::default(), self.baseline.as_deref())
    }

    /// What this config changed about `rules` (loaded with it and after
    /// [`RepoConfig::apply_to_rules`]), with `baseline` the config's baseline
    /// when it is the one used.
    pub fn summary_for(&self, rules: &RuleSet, baseline: Option<&Path>) -> ConfigSummary {
        let entropy: Vec<EntropyFloor> = self
            .entropy
            .iter()
            .map(|(id, &floor)| {
                let rule_floor = rules.rule(id).and_then(|r| r.min_entropy);
                EntropyFloor {
                    rule: id.clone(),
                    floor,
                    rule_floor,
                    weakens: rule_floor.is_none_or(|own| floor > own),
                }
            })
            .collect();
        let public_values = rules.config_public_values.clone();
        let baseline = baseline.map(crate::sources::display_path);
        let weakens_detection = !self.disabled_rules.is_empty()
            || entropy.iter().any(|e| e.weakens)
            || !public_values.is_empty()
            || !self.allowed_paths.is_empty()
            || baseline.is_some()
            || self.min_confidence == Some(crate::rules::Confidence::High);
        ConfigSummary {
            file: Some(crate::sources::display_path(&self.path)),
            disabled_rules: self.disabled_rules.clone(),
            allowed_paths: self.allowed_paths.clone(),
            extra_rules: self
                .extra_rules
                .iter()
                .map(|p| crate::sources::display_path(p))
                .collect(),
            entropy,
            public_values,
            baseline,
            weakens_detection,
            min_confidence: self.min_confidence,
            root: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_resolves_paths_against_the_config_directory() {
        let text = "[rules]\nextra = [\"rules\"]\n[allow]\nbaseline = \"base.json\"\n";
        let config = RepoConfig::parse(Path::new("repo/.secretgate.toml"), text)
            .map_err(|err| err.to_string());
        let config = config.as_ref().map(|c| (&c.extra_rules, &c.baseline));
        assert_eq!(
            config,
            Ok((
                &vec![PathBuf::from("repo/rules")],
                &Some(PathBuf::from("repo/base.json"))
            ))
        );
    }

    #[test]
    fn gate_sets_the_confidence_threshold_and_rejects_unknown_levels() {
        let path = Path::new(".secretgate.toml");
        let config = RepoConfig::parse(path, "[gate]\nmin_confidence = \"high\"\n");
        assert_eq!(
            config.map(|c| c.min_confidence).ok(),
            Some(Some(crate::rules::Confidence::High))
        );
        let err = RepoConfig::parse(path, "[gate]\nmin_confidence = \"certain\"\n");
        assert!(matches!(err, Err(ConfigError::Syntax { .. })), "{err:?}");
    }

    #[test]
    fn parse_rejects_unknown_keys_without_reading_a_file() {
        let err = RepoConfig::parse(Path::new("missing/.secretgate.toml"), "[rulez]\n");
        assert!(matches!(err, Err(ConfigError::Syntax { .. })), "{err:?}");
    }
}
