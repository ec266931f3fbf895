//! Rule-file loading and compiling (`RuleSet::from_toml`, what `--rules` does
//! with each file) on arbitrary text: it must return rules or a clean list of
//! problems, never panic. Rules that load are then built into an engine and
//! run on their own examples, as `secretgate rules --check` would.

#![no_main]

use libfuzzer_sys::fuzz_target;
use secretgate::engine::Engine;
use secretgate::rules::RuleSet;

fuzz_target!(|data: &[u8]| {
    // Rule files are read with `read_to_string`: non-UTF-8 never gets here.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let set = match RuleSet::from_toml("fuzz.toml", text) {
        Ok(set) => set,
        Err(err) => {
            assert!(!err.problems.is_empty(), "an error without problems");
            assert!(!err.to_string().is_empty());
            return;
        }
    };
    for rule in &set.rules {
        assert!(
            !rule.keywords.is_empty(),
            "rule {} loaded without keywords",
            rule.id
        );
        assert!(
            rule.regex.get().is_ok(),
            "rule {} loaded with a broken regex",
            rule.id
        );
    }
    let examples: Vec<String> = set
        .rules
        .iter()
        .flat_map(|r| r.examples.iter().chain(&r.negative_examples).cloned())
        .collect();
    let file_examples: Vec<_> = set
        .file_rules
        .iter()
        .flat_map(|r| r.examples.iter().chain(&r.negative_examples).cloned())
        .collect();
    let Ok(engine) = Engine::new(set) else {
        return;
    };
    for example in &examples {
        for m in engine.scan(example.as_bytes()) {
            assert!(m.span.end <= example.len() && m.secret_span.end <= example.len());
        }
    }
    for example in &file_examples {
        engine.sensitive_file_rules(&example.path, example.content.as_deref().map(str::as_bytes));
    }
});
