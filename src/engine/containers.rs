//! Secrets in decoded containers (see [`super::decode`]): each decoded value
//! is scanned by every rule like a small file, and its matches are placed at
//! the encoded text.
//!
//! Why apart from the rules' pass: a Kubernetes value depends on the whole
//! manifest (`kind: Secret`), every other container on its own line only. A
//! delta scan recomputes the first kind and, for the second, reads only the
//! lines a new version changed, carrying the base's matches on the others,
//! so a history audit pays for containers in proportion to what changed.

use std::ops::Range;

use super::decode::{self, DecodedValue};
use super::{Engine, Match, Work};

/// The matches of a text's decoded containers.
#[derive(Debug, Default)]
pub(super) struct Decoded {
    /// What to report, before overlaps are resolved.
    pub matches: Vec<Match>,
    /// The line containers' matches (their window is their line), for a
    /// version derived from this one to carry.
    pub reusable: Vec<Match>,
}

impl Engine {
    /// The matches inside `text`'s containers: Kubernetes values anywhere,
    /// line containers on the lines of `regions` plus `carried` (a base's,
    /// moved here). A container whose encoded text a specific rule already
    /// matched in `raw` adds nothing: that rule says it best.
    pub(super) fn decoded_matches(
        &self,
        text: &[u8],
        raw: &[Match],
        regions: &[Range<usize>],
        carried: Vec<Match>,
        work: &mut Work,
    ) -> Decoded {
        let kubernetes = decode::kubernetes_secret_values(text);
        let mut out = Decoded::default();
        for value in &kubernetes {
            self.scan_decoded(value, &value.span, work, &mut out.matches);
        }
        for region in regions {
            for value in decode::line_container_values(text, region.clone(), &kubernetes) {
                self.scan_decoded(&value, &value.line, work, &mut out.reusable);
            }
        }
        out.reusable.extend(
            carried
                .into_iter()
                .filter(|m| !kubernetes.iter().any(|k| k.span == m.secret_span)),
        );
        let named = |at: &Range<usize>| {
            raw.iter().any(|m| {
                !self.rules.rules[m.rule].generic
                    && m.secret_span.start < at.end
                    && at.start < m.secret_span.end
            })
        };
        out.matches.extend(out.reusable.iter().cloned());
        out.matches.retain(|m| !named(&m.secret_span));
        out
    }

    /// Runs every rule on one decoded value; its matches are placed at the
    /// encoded text, with `window` as what decided them.
    fn scan_decoded(
        &self,
        value: &DecodedValue,
        window: &Range<usize>,
        work: &mut Work,
        out: &mut Vec<Match>,
    ) {
        let mut inner = Vec::new();
        let mut hits = Vec::new();
        for set in &self.keywords {
            let whole = 0..value.text.len();
            self.scan_set(set, &value.text, whole, &mut inner, &mut hits, work);
        }
        self.confirm_spans(&value.text, &hits, None, &mut inner, work);
        out.extend(inner.into_iter().map(|m| Match {
            span: value.span.clone(),
            secret_span: value.span.clone(),
            window: window.clone(),
            encoding: Some("base64"),
            ..m
        }));
    }
}
