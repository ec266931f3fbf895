//! secretgate finds secrets in files and git history before they leak.
//!
//! Data flows one way: a [`sources`] module yields blobs, the [`engine`] finds
//! matches using the [`rules`], the [`pipeline`] turns matches into
//! [`finding`]s and counts what it did, and [`report`] writes them.

#![deny(missing_docs)]

pub mod allow;
pub mod cli;
pub mod confidence;
pub mod config;
pub mod confined;
pub mod engine;
pub mod finding;
pub mod outfile;
pub mod pipeline;
pub mod redact;
pub mod report;
pub mod rules;
pub mod sources;
