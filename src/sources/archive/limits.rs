//! The bounds on reading inside archives: how deep, how many bytes, how
//! many entries, how compressed. An archive is attacker-shaped input (a zip
//! bomb is a few kilobytes that expand to petabytes), so every byte that
//! comes out of a decoder is counted before it is kept.

use std::cell::Cell;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::sources::SkipReason;

/// How far and how much archives are opened. The defaults are documented
/// in the README ("Archives and compressed files").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Archives inside archives are opened down to this many levels (1:
    /// the entries of a top-level archive only); 0 opens none.
    pub max_depth: u32,
    /// Decompressed bytes one top-level archive may yield, nested archives
    /// included.
    pub max_bytes: u64,
    /// Decompressed bytes all the archives of one run may yield together.
    pub max_run_bytes: u64,
    /// Entries one top-level archive may hold, nested archives included.
    pub max_entries: u64,
    /// The most bytes out per byte in for one compressed entry or stream...
    pub max_ratio: u64,
    /// ...once it has yielded more than this: small, very repetitive text
    /// files compress far better than any real document.
    pub ratio_floor: u64,
    /// An entry larger than this (decompressed) is skipped as `too_large`,
    /// as a file on disk is; 0 means no limit.
    pub max_entry_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 3,
            max_bytes: 256 << 20,
            max_run_bytes: 4 << 30,
            max_entries: 10_000,
            max_ratio: 250,
            ratio_floor: 1 << 20,
            max_entry_size: 25 << 20,
        }
    }
}

/// Decompressed bytes used by every archive of one run, shared by the
/// worker threads.
#[derive(Debug, Default)]
pub struct RunBudget {
    used: AtomicU64,
}

impl RunBudget {
    /// Takes `n` bytes; false once the run's budget is spent.
    fn take(&self, n: u64, max: u64) -> bool {
        self.used.fetch_add(n, Ordering::Relaxed).saturating_add(n) <= max
    }
}

/// Which limit stopped a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trip {
    /// [`Limits::max_bytes`].
    ArchiveBytes,
    /// [`Limits::max_run_bytes`].
    RunBytes,
    /// [`Limits::max_ratio`].
    Ratio,
}

impl Trip {
    /// The reason a report gives.
    pub fn reason(self) -> SkipReason {
        match self {
            Trip::ArchiveBytes | Trip::RunBytes => SkipReason::ArchiveBytesLimit,
            Trip::Ratio => SkipReason::ArchiveRatioLimit,
        }
    }
}

/// Counts the decompressed bytes of one top-level archive against its own
/// and the run's budget. Single-threaded: one archive is read by one worker.
#[derive(Debug)]
pub struct Meter<'a> {
    pub(super) limits: &'a Limits,
    run: &'a RunBudget,
    used: Cell<u64>,
    tripped: Cell<Option<Trip>>,
    /// Set by a stream stopped for its ratio, until its owner clears it:
    /// what tells a reader of that stream (a tar inside a gzip) to stop.
    ratio: Cell<bool>,
}

impl<'a> Meter<'a> {
    /// A fresh meter for one top-level archive.
    pub fn new(limits: &'a Limits, run: &'a RunBudget) -> Self {
        Meter {
            limits,
            run,
            used: Cell::new(0),
            tripped: Cell::new(None),
            ratio: Cell::new(false),
        }
    }

    /// Decompressed bytes counted so far.
    pub fn used(&self) -> u64 {
        self.used.get()
    }

    /// The byte limit that stopped this archive, if one did: once it has,
    /// nothing more of the archive is read.
    pub fn tripped(&self) -> Option<Trip> {
        self.tripped.get()
    }

    /// Whether a stream was stopped for its compression ratio (see
    /// [`Meter::clear_ratio`]).
    pub fn ratio_tripped(&self) -> bool {
        self.ratio.get()
    }

    /// Forgets a ratio stop, once the stream it stopped is done with.
    pub fn clear_ratio(&self) {
        self.ratio.set(false);
    }

    /// Whether a read failed because of a limit rather than bad data.
    pub fn limit_hit(&self) -> bool {
        self.tripped().is_some() || self.ratio_tripped()
    }

    fn take(&self, n: u64) -> Result<(), Trip> {
        let used = self.used.get().saturating_add(n);
        self.used.set(used);
        let trip = if used > self.limits.max_bytes {
            Some(Trip::ArchiveBytes)
        } else if !self.run.take(n, self.limits.max_run_bytes) {
            Some(Trip::RunBytes)
        } else {
            None
        };
        match trip {
            Some(trip) => {
                self.tripped.set(Some(trip));
                Err(trip)
            }
            None => Ok(()),
        }
    }

    /// `reader`'s output, counted; `compressed` is its input size, for the
    /// ratio check (0: not compressed, no ratio).
    pub fn wrap<R: Read>(&'a self, reader: R, compressed: u64) -> Metered<'a, R> {
        Metered {
            inner: reader,
            meter: self,
            compressed,
            produced: 0,
            ratio_tripped: false,
        }
    }
}

/// A reader whose output is counted by a [`Meter`]; it fails once a limit
/// is passed.
#[derive(Debug)]
pub struct Metered<'a, R> {
    inner: R,
    meter: &'a Meter<'a>,
    compressed: u64,
    produced: u64,
    ratio_tripped: bool,
}

impl<R> Metered<'_, R> {
    /// Whether this stream, not the archive as a whole, was stopped for its
    /// compression ratio.
    pub fn ratio_tripped(&self) -> bool {
        self.ratio_tripped
    }
}

/// The error a [`Metered`] reader fails with.
#[derive(Debug, thiserror::Error)]
#[error("archive limit reached")]
pub struct LimitHit;

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.meter.tripped().is_some() || self.ratio_tripped {
            return Err(std::io::Error::other(LimitHit));
        }
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        // The budgets first: a bomb that passes both stops at the smaller.
        if self.meter.take(n as u64).is_err() {
            return Err(std::io::Error::other(LimitHit));
        }
        let limits = self.meter.limits;
        if self.compressed > 0
            && self.produced > limits.ratio_floor
            && self.produced / self.compressed.max(1) > limits.max_ratio
        {
            self.ratio_tripped = true;
            self.meter.ratio.set(true);
            return Err(std::io::Error::other(LimitHit));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_meter_stops_at_the_archive_budget() {
        let limits = Limits {
            max_bytes: 1000,
            ..Limits::default()
        };
        let run = RunBudget::default();
        let meter = Meter::new(&limits, &run);
        let data = vec![b'a'; 5000];
        let mut out = Vec::new();
        let err = meter.wrap(&data[..], 0).read_to_end(&mut out);
        assert!(err.is_err());
        assert_eq!(meter.tripped(), Some(Trip::ArchiveBytes));
        assert!(out.len() <= 5000);
    }

    #[test]
    fn the_run_budget_is_shared_by_archives() {
        let limits = Limits {
            max_run_bytes: 1500,
            ..Limits::default()
        };
        let run = RunBudget::default();
        let data = vec![b'a'; 1000];
        let first = Meter::new(&limits, &run);
        assert!(
            first
                .wrap(&data[..], 0)
                .read_to_end(&mut Vec::new())
                .is_ok()
        );
        let second = Meter::new(&limits, &run);
        assert!(
            second
                .wrap(&data[..], 0)
                .read_to_end(&mut Vec::new())
                .is_err()
        );
        assert_eq!(second.tripped(), Some(Trip::RunBytes));
    }

    #[test]
    fn the_ratio_counts_only_past_its_floor() {
        let limits = Limits {
            max_ratio: 10,
            ratio_floor: 100,
            ..Limits::default()
        };
        let run = RunBudget::default();
        let meter = Meter::new(&limits, &run);
        let data = [b'a'; 90];
        // 90 bytes from a 1-byte input: under the floor, fine.
        assert!(
            meter
                .wrap(&data[..], 1)
                .read_to_end(&mut Vec::new())
                .is_ok()
        );
        let data = vec![b'a'; 5000];
        let mut stream = meter.wrap(&data[..], 100);
        assert!(stream.read_to_end(&mut Vec::new()).is_err());
        assert!(stream.ratio_tripped());
        assert_eq!(meter.tripped(), None, "a ratio stops one stream only");
    }
}
