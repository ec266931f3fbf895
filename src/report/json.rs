//! The JSON report: one document, schema in the README.

use std::io::Write;

use super::{Report, ReportOptions};
use crate::pipeline::ScanOutcome;

/// Writes the JSON report followed by a newline.
pub fn write(
    out: &mut dyn Write,
    outcome: &ScanOutcome,
    options: &ReportOptions,
) -> std::io::Result<()> {
    let report = Report::new(outcome, options);
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}
