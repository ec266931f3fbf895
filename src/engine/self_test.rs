//! Runs every rule's examples and negative examples through the whole engine,
//! so a rule is only as good as its tests say, and a filter change that breaks a
//! rule is caught by `cargo test` and by `secretgate rules check`.

use crate::rules::RuleProblem;

use super::Engine;

/// Every example that does not produce its rule's finding, and every negative
/// example that does, as problems naming file, rule and input.
pub fn check_examples(engine: &Engine) -> Vec<RuleProblem> {
    let mut problems = Vec::new();
    let rules = engine.rules();
    for (index, rule) in rules.rules.iter().enumerate() {
        let problem = |reason: String| RuleProblem {
            origin: rule.origin.clone(),
            rule_id: Some(rule.id.clone()),
            reason,
        };
        for example in &rule.examples {
            let found: Vec<_> = engine
                .scan(example.as_bytes())
                .into_iter()
                .filter(|m| !m.allowed)
                .collect();
            if !found.iter().any(|m| m.rule == index) {
                let others: Vec<&str> = found
                    .iter()
                    .map(|m| rules.rules[m.rule].id.as_str())
                    .collect();
                let hint = if others.is_empty() {
                    String::new()
                } else {
                    format!(" (matched instead: {})", others.join(", "))
                };
                problems.push(problem(format!(
                    "example does not match{hint}: {}",
                    preview(example)
                )));
            }
        }
        for negative in &rule.negative_examples {
            if let Some(m) = engine
                .scan(negative.as_bytes())
                .into_iter()
                .find(|m| m.rule == index && !m.allowed)
            {
                problems.push(problem(format!(
                    "negative example matches (secret `{}`): {}",
                    String::from_utf8_lossy(&m.secret),
                    preview(negative)
                )));
            }
        }
    }
    for rule in &rules.file_rules {
        let problem = |reason: String| RuleProblem {
            origin: rule.origin.clone(),
            rule_id: Some(rule.id.clone()),
            reason,
        };
        for example in &rule.examples {
            if !rule.matches(&example.path, example.content.as_deref().map(str::as_bytes)) {
                problems.push(problem(format!(
                    "example path `{}` is not flagged",
                    example.path
                )));
            }
        }
        for negative in &rule.negative_examples {
            if rule.matches(
                &negative.path,
                negative.content.as_deref().map(str::as_bytes),
            ) {
                problems.push(problem(format!(
                    "negative path `{}` is flagged",
                    negative.path
                )));
            }
        }
    }
    problems
}

fn preview(text: &str) -> String {
    const LIMIT: usize = 160;
    let one_line = text.replace('\n', "\\n");
    match one_line.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}
