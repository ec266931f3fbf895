//! `secretgate scan`: files and directories.

use std::time::Instant;

use super::{ExitStatus, ScanArgs};
use crate::finding::Finding;
use crate::pipeline::Collector;
use crate::sources::fs::{FsOptions, walk};

/// Runs a scan and writes the report.
pub fn run(args: &ScanArgs) -> anyhow::Result<ExitStatus> {
    let started = Instant::now();
    // Policy files at the top of the repository holding what is scanned
    // (outside one: the root of what is scanned), whatever the current
    // directory; its paths are judged relative to that top.
    let (root, paths) = super::policy::scan_root(&args.paths);
    let mut allow = args.allow.load(&root)?;
    allow.paths = paths;
    let (engine, rules_loaded) = args.rules.engine(&allow)?;
    let threads = super::worker_threads(args.threads);
    let options = FsOptions {
        no_ignore: args.no_ignore,
        max_file_size: args.max_file_size,
        threads,
    };
    let stream = args.output.stream()?;
    let sink = |found: &[Finding]| {
        if let Some(stream) = &stream {
            stream.findings(found.iter().filter(|f| !args.allow.suppresses(&allow, f)));
        }
    };
    let collector = Collector::new(&engine)
        .with_sink(&sink)
        .with_archive_limits(args.archives.limits(args.max_file_size))
        .with_context_roots(crate::sources::fs::context_roots(&args.paths));
    walk(&args.paths, &options, &|item| collector.accept(item))?;
    let mut outcome = collector.finish();
    args.allow.apply(&allow, &engine, &mut outcome);

    args.output
        .finish(stream, &outcome, rules_loaded, started.elapsed(), None)?;
    Ok(ExitStatus::of(&outcome))
}
