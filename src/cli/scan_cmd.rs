//! `secretgate scan`: files and directories.

use std::time::Instant;

use super::{ExitStatus, ScanArgs, ignore_broken_pipe, open_output};
use crate::engine::Engine;
use crate::pipeline::Collector;
use crate::report::{Format, ReportOptions, human, json};
use crate::sources::fs::{FsOptions, walk};

/// Runs a scan and writes the report.
pub fn run(args: &ScanArgs) -> anyhow::Result<ExitStatus> {
    let started = Instant::now();
    let root = args
        .paths
        .first()
        .filter(|path| path.is_dir())
        .cloned()
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let allow = args.allow.load(&root)?;
    let rules = args.rules.load()?;
    let rules_loaded = rules.rules.len() + rules.file_rules.len();
    let engine = Engine::new(rules)?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = FsOptions {
        no_ignore: args.no_ignore,
        max_file_size: args.max_file_size,
        threads,
    };
    let collector = Collector::new(&engine);
    walk(&args.paths, &options, &|item| collector.accept(item))?;
    let mut outcome = collector.finish();
    args.allow.apply(&allow, &mut outcome);

    let report_options = ReportOptions {
        redact: args.output.redaction(),
        rules_loaded,
        elapsed: started.elapsed(),
    };
    let mut out = open_output(args.output.output.as_ref())?;
    let written = match args.output.format {
        Format::Human => human::write(&mut out, &outcome, &report_options),
        Format::Json => json::write(&mut out, &outcome, &report_options),
    }
    .and_then(|()| out.flush());
    ignore_broken_pipe(written)?;

    Ok(if !outcome.findings.is_empty() {
        ExitStatus::Findings
    } else if outcome.stats.has_unread_input() {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    })
}
