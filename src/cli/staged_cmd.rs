//! `secretgate staged`: the pre-commit gate. Scans what the commit would add
//! and, when it finds something, says exactly what to do next.

use std::io::Write as _;
use std::time::Instant;

use super::{ExitStatus, StagedArgs, ignore_broken_pipe, open_output};
use crate::pipeline::Collector;
use crate::report::{Format, ReportOptions, human, json};
use crate::sources::SourceItem;
use crate::sources::staged::{open, staged_changes};

/// Scans the staged changes and writes the report.
pub fn run(args: &StagedArgs) -> anyhow::Result<ExitStatus> {
    let started = Instant::now();
    let repo = open(&args.repo)?;
    let root = repo
        .workdir()
        .map_or_else(|| args.repo.clone(), |dir| dir.to_path_buf());
    let allow = args.allow.load(&root)?;
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
    let collector = Collector::new(&engine);
    for skipped in staged.skipped {
        collector.accept(SourceItem::Skipped(skipped));
    }
    for change in staged.changes {
        collector.accept_staged(change);
    }
    let mut outcome = collector.finish();
    args.allow.apply(&allow, &mut outcome);
    let status = ExitStatus::of(&outcome);

    let report_options = ReportOptions {
        redact: args.output.redaction(),
        rules_loaded,
        elapsed: started.elapsed(),
    };
    let quiet_success = status == ExitStatus::Clean
        && !args.verbose
        && args.output.format == Format::Human
        && args.output.output.is_none();
    if quiet_success {
        return Ok(status);
    }
    let mut out = open_output(args.output.output.as_ref())?;
    let written = match args.output.format {
        Format::Human => human::write(&mut out, &outcome, &report_options).and_then(|()| {
            if status == ExitStatus::Findings {
                writeln!(
                    out,
                    "secretgate: commit blocked: the staged changes add {} secret finding(s).\n  \
                     fix:   remove the secret from the file, `git add` it again, and rotate the secret\n  \
                     \x20      (it may already be in your shell history, editor backups or CI logs)\n  \
                     allow: if it is a false alarm, add `secretgate:allow` in a comment on that line\n  \
                     bypass once, knowingly: git commit --no-verify",
                    outcome.findings.len()
                )
            } else {
                Ok(())
            }
        }),
        Format::Json => json::write(&mut out, &outcome, &report_options),
    }
    .and_then(|()| out.flush());
    ignore_broken_pipe(written)?;
    Ok(status)
}
