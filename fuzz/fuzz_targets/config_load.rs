//! `.secretgate.toml` parsing (`RepoConfig::parse`, the text half of
//! `RepoConfig::load`) on arbitrary text: a config or a clean error, never a
//! panic. A config that parses is applied to a small rule set and asked about
//! paths, as a scan would.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use secretgate::config::{ConfigError, RepoConfig};
use secretgate::rules::RuleSet;

/// Two rules whose ids a fuzzed config can disable or give entropy floors.
const RULES: &str = r#"
[[rule]]
id = "fuzz-token"
name = "Fuzz token"
severity = "high"
description = "A token the config fuzzer can name."
remediation = "None: it is not a real token."
keywords = ["fuzz_"]
regex = 'fuzz_(?P<secret>[a-z]{8})'
examples = ["fuzz_abcdefgh"]
negative_examples = ["fuzz_"]

[[file]]
id = "fuzz-file"
name = "Fuzz file"
severity = "low"
description = "A file the config fuzzer can name."
remediation = "None."
paths = ["**/*.fuzz"]
examples = [{ path = "a.fuzz" }]
negative_examples = [{ path = "a.txt" }]
"#;

/// Paths to ask an accepted config about.
const PROBE_PATHS: [&str; 6] = [
    "",
    "a",
    "tests/fixtures/x.env",
    "docs/a/b.md",
    ".secretgate.toml",
    "ü/ß",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("repo/.secretgate.toml");
    let config = match RepoConfig::parse(path, text) {
        Ok(config) => config,
        Err(err) => {
            assert!(
                !matches!(err, ConfigError::File(_)),
                "parse read a file"
            );
            assert!(!err.to_string().is_empty());
            return;
        }
    };
    for floor in config.entropy.values() {
        assert!(
            (0.0..=8.0).contains(floor),
            "entropy floor {floor} accepted"
        );
    }
    for extra in &config.extra_rules {
        // Relative paths resolve against the config's directory; an absolute
        // one names a file outside the repository on purpose.
        assert!(
            extra.is_absolute() || extra.starts_with("repo"),
            "{} not resolved against the config",
            extra.display()
        );
    }
    for probe in PROBE_PATHS {
        config.allows_path(probe);
    }
    let _ = config.summary();
    let mut rules = RuleSet::from_toml("fuzz-rules.toml", RULES).expect("the fixed rules load");
    if config.apply_to_rules(&mut rules).is_ok() {
        for rule in &rules.rules {
            assert!(
                !config.disabled_rules.contains(&rule.id),
                "disabled rule kept"
            );
        }
    }
});
