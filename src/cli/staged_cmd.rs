//! `secretgate staged`: the pre-commit gate. Scans what the commit would add
//! and, when it finds something, says exactly what to do next.

use std::time::Instant;

use super::{ExitStatus, StagedArgs};
use crate::finding::Finding;
use crate::pipeline::Collector;
use crate::sources::SourceItem;
use crate::sources::staged::{open, staged_changes};

/// Scans the staged changes and writes the report.
pub fn run(args: &StagedArgs) -> anyhow::Result<ExitStatus> {
    let started = Instant::now();
    let repo = open(&args.repo)?;
    let allow = args.allow.load(&super::policy::repository_top(&repo))?;
    let only: Option<std::collections::HashSet<String>> = (!args.files.is_empty()).then(|| {
        args.files
            .iter()
            .map(|path| crate::sources::display_path(path))
            .collect()
    });
    let staged = staged_changes(&repo, args.max_file_size, only.as_ref())?;
    // Rules are loaded after the cheap git work: a commit with nothing staged
    // costs no rule compilation at all.
    let (engine, rules_loaded) = args.rules.engine(&allow)?;
    let stream = args.output.stream()?;
    let sink = |found: &[Finding]| {
        if let Some(stream) = &stream {
            stream.findings(found.iter().filter(|f| !args.allow.suppresses(&allow, f)));
        }
    };
    let collector = Collector::new(&engine)
        .with_sink(&sink)
        .with_archive_limits(args.archives.limits(args.max_file_size));
    for skipped in staged.skipped {
        collector.accept(SourceItem::Skipped(skipped));
    }
    for change in staged.changes {
        collector.accept_staged(change);
    }
    let mut outcome = collector.finish();
    args.allow.apply(&allow, &engine, &mut outcome);
    let status = ExitStatus::of(&outcome);

    // A passing hook says nothing, unless it has findings below the gate to list.
    if status == ExitStatus::Clean
        && outcome.findings.is_empty()
        && !args.verbose
        && args.output.is_human_on_stdout()
    {
        return Ok(status);
    }
    let epilogue = (status == ExitStatus::Findings).then(|| {
        format!(
            "secretgate: commit blocked: the staged changes add {} secret finding(s).\n  \
             fix:   remove the secret from the file, `git add` it again, and rotate the secret\n  \
             \x20      (it may already be in your shell history, editor backups or CI logs)\n  \
             allow: if it is a false alarm, add `secretgate:allow` in a comment on that line\n  \
             bypass once, knowingly: git commit --no-verify",
            outcome.blocking()
        )
    });
    args.output.finish(
        stream,
        &outcome,
        rules_loaded,
        started.elapsed(),
        epilogue.as_deref(),
    )?;
    Ok(status)
}
