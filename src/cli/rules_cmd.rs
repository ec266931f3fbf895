//! `secretgate rules`: list the rules, or check rule files' examples.

use std::io::Write;

use anyhow::Context as _;

use super::{ExitStatus, RulesAction, RulesArgs};
use crate::engine::Engine;
use crate::engine::self_test::check_examples;
use crate::rules::{RuleSet, RuleSources};

/// Lists or checks rules.
pub fn run(args: &RulesArgs) -> anyhow::Result<ExitStatus> {
    match &args.action {
        None => list(args),
        Some(RulesAction::Check { files }) => check(files),
    }
}

fn list(args: &RulesArgs) -> anyhow::Result<ExitStatus> {
    let rules = args.rules.load()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let rows: Vec<serde_json::Value> = rules
            .rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "kind": "secret", "id": r.id, "name": r.name, "severity": r.severity,
                    "confidence": r.confidence, "keywords": r.keywords, "description": r.description,
                    "remediation": r.remediation, "references": r.references,
                })
            })
            .chain(rules.file_rules.iter().map(|r| {
                serde_json::json!({
                    "kind": "file", "id": r.id, "name": r.name, "severity": r.severity,
                    "confidence": r.confidence, "description": r.description, "remediation": r.remediation,
                    "references": r.references,
                })
            }))
            .collect();
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
    } else {
        for r in &rules.rules {
            writeln!(
                out,
                "{:<44} {:<9} {:<7} {}",
                r.id,
                r.severity.as_str(),
                r.confidence.as_str(),
                r.name
            )?;
        }
        for r in &rules.file_rules {
            writeln!(
                out,
                "{:<44} {:<9} {:<7} {} (file)",
                r.id,
                r.severity.as_str(),
                r.confidence.as_str(),
                r.name
            )?;
        }
        writeln!(
            out,
            "{} secret rules, {} file rules",
            rules.rules.len(),
            rules.file_rules.len()
        )?;
    }
    Ok(ExitStatus::Clean)
}

fn check(files: &[std::path::PathBuf]) -> anyhow::Result<ExitStatus> {
    let sources = RuleSources {
        builtin: files.is_empty(),
        paths: files.to_vec(),
        config: None,
    };
    let rules = match RuleSet::load(&sources) {
        Ok(rules) => rules,
        Err(err) => {
            eprintln!("{err}");
            return Ok(ExitStatus::Findings);
        }
    };
    let (count, file_count) = (rules.rules.len(), rules.file_rules.len());
    let engine = Engine::new(rules).context("cannot build the engine from these rules")?;
    let problems = check_examples(&engine);
    if problems.is_empty() {
        println!(
            "ok: {count} secret rules and {file_count} file rules; every example and negative example behaves"
        );
        Ok(ExitStatus::Clean)
    } else {
        for problem in &problems {
            eprintln!("{problem}");
        }
        eprintln!(
            "{} problem(s) in {count} secret rules and {file_count} file rules",
            problems.len()
        );
        Ok(ExitStatus::Findings)
    }
}
