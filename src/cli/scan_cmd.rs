//! `secretgate scan`: files and directories.
//!
//! Each scanned path is judged by the policy files of the repository that
//! holds it (see `cli::policy`): `scan A B` with A and B in two repositories
//! runs one scan per repository, each with its own config, ignore file,
//! rules and gate threshold, and reports them as one.

use std::time::Instant;

use super::{ExitStatus, ScanArgs};
use crate::finding::Finding;
use crate::pipeline::{Collector, ScanOutcome};
use crate::sources::fs::{FsOptions, walk};

/// Runs a scan and writes the report.
pub fn run(args: &ScanArgs) -> anyhow::Result<ExitStatus> {
    let started = Instant::now();
    // Policy files at the top of the repository holding each path scanned
    // (outside one: the root of what is scanned), whatever the current
    // directory; its paths are judged relative to that top.
    let groups = super::policy::scan_groups(&args.paths);
    // Every policy is loaded (and every error in one reported) before
    // anything is scanned.
    // Rules depend only on the config: groups without one (or with the same
    // file) share one engine, so `scan d1 d2 ... d50` compiles the rules once.
    let mut engines: Vec<(Option<std::path::PathBuf>, crate::engine::Engine, usize)> = Vec::new();
    let mut policies = Vec::with_capacity(groups.len());
    for group in &groups {
        let mut allow = args.allow.load(&group.root)?;
        allow.paths = group.base.clone();
        let key = allow
            .config
            .as_ref()
            .map(|config| std::fs::canonicalize(&config.path).unwrap_or(config.path.clone()));
        let index = match engines.iter().position(|(k, _, _)| *k == key) {
            Some(index) => index,
            None => {
                let (engine, rules_loaded) = args.rules.engine(&allow)?;
                engines.push((key, engine, rules_loaded));
                engines.len() - 1
            }
        };
        policies.push((allow, index));
    }
    let several = groups.len() > 1;
    let threads = super::worker_threads(args.threads);
    let options = FsOptions {
        no_ignore: args.no_ignore,
        max_file_size: args.max_file_size,
        threads,
    };
    let stream = args.output.stream()?;
    let mut merged: Option<ScanOutcome> = None;
    let mut rules_loaded = 0;
    for (group, (allow, index)) in groups.iter().zip(&policies) {
        let (_, engine, loaded) = &engines[*index];
        rules_loaded = rules_loaded.max(*loaded);
        let sink = |found: &[Finding]| {
            if let Some(stream) = &stream {
                stream.findings(found.iter().filter(|f| !args.allow.suppresses(allow, f)));
            }
        };
        let collector = Collector::new(engine)
            .with_sink(&sink)
            .with_archive_limits(args.archives.limits(args.max_file_size))
            .with_context_roots(crate::sources::fs::context_roots(&group.paths));
        walk(&group.paths, &options, &|item| collector.accept(item))?;
        let mut outcome = collector.finish();
        args.allow.apply(allow, engine, &mut outcome);
        // What an engine's config dropped is counted over all its groups:
        // added once, below.
        outcome.suppressed.entropy_floor = 0;
        outcome.suppressed.public_values = 0;
        if several {
            let gate = outcome.threshold;
            for finding in &mut outcome.findings {
                finding.gate = Some(gate);
            }
            let mut config = outcome.config.clone();
            config.root = Some(crate::sources::display_path(&group.root));
            outcome.configs.push(config);
        }
        merged = Some(match merged {
            None => outcome,
            Some(mut all) => {
                absorb(&mut all, outcome);
                all
            }
        });
    }
    let mut outcome = merged.unwrap_or_default();
    for (_, engine, _) in &engines {
        let dropped = engine.config_drops();
        outcome.suppressed.entropy_floor += dropped.entropy_floor;
        outcome.suppressed.public_values += dropped.public_values;
    }
    args.output
        .finish(stream, &outcome, rules_loaded, started.elapsed(), None)?;
    Ok(ExitStatus::of(&outcome))
}

/// Adds the scan of another repository's paths to `all`. The run's own
/// threshold is the lowest (every finding keeps its own policy's in
/// `gate`), so the summary names the strictest one in force.
fn absorb(all: &mut ScanOutcome, other: ScanOutcome) {
    all.findings.extend(other.findings);
    all.stats.merge(other.stats);
    all.suppressed.add(other.suppressed);
    all.config.absorb(&other.config);
    all.configs.extend(other.configs);
    all.rule_docs.extend(other.rule_docs);
    if other.threshold.0 < all.threshold.0 {
        all.threshold = other.threshold;
    }
    all.sort();
}
