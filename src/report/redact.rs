//! The one redaction step every report takes: a [`Redactor`] knows every
//! secret of a set of findings, in every form the repository stores it, and
//! replaces each occurrence in any text by the secret's redaction
//! ([`crate::redact::redact`]). Applied to every string field of a finding
//! (match, path, author, email, commit subject, tag, occurrence paths) and to
//! skipped paths, so a secret that also sits in a file name, a tag name or an
//! author name is hidden there too.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::finding::Finding;
pub use crate::redact::redact;

/// Replaces known secrets in text by their redactions.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Over every stored form, longest match first; `None` when no secret is known.
    automaton: Option<AhoCorasick>,
    /// What each pattern of the automaton becomes.
    replacements: Vec<String>,
}

impl Redactor {
    /// A redactor for the secrets of `findings`: each secret, each form it
    /// is stored in (a base64-stored secret's encoded text, shown as the
    /// redaction of the decoded secret), and the secrets found in commit
    /// subjects.
    pub fn new<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Redactor {
        let mut pairs = Vec::new();
        for finding in findings {
            if let Some(secret) = &finding.secret {
                let shown = redact(secret);
                for form in super::cleanup::stored_values(finding) {
                    pairs.push((form, shown.clone()));
                }
                pairs.push((secret.clone(), shown));
            }
            if let Some(git) = &finding.git {
                for secret in &git.summary_secrets {
                    pairs.push((secret.clone(), redact(secret)));
                }
            }
        }
        Redactor::from_pairs(pairs)
    }

    /// A redactor for `(text, replacement)` pairs: each text is replaced by
    /// its replacement wherever it occurs.
    pub fn from_pairs(mut pairs: Vec<(String, String)>) -> Redactor {
        pairs.retain(|(text, _)| !text.is_empty());
        pairs.sort();
        pairs.dedup_by(|a, b| a.0 == b.0);
        if pairs.is_empty() {
            return Redactor::default();
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(pairs.iter().map(|(text, _)| text.as_bytes()))
            .ok();
        Redactor {
            automaton,
            replacements: pairs.into_iter().map(|(_, shown)| shown).collect(),
        }
    }

    /// `text` with every known secret replaced by its redaction.
    pub fn text(&self, text: &str) -> String {
        match &self.automaton {
            Some(automaton) => automaton.replace_all(text, &self.replacements),
            None => text.to_string(),
        }
    }

    /// A copy of `finding` with its secret redacted and every known secret
    /// redacted in every other string field.
    pub fn finding(&self, finding: &Finding) -> Finding {
        let mut copy = finding.clone();
        copy.secret = finding.secret.as_deref().map(redact);
        copy.matched = finding.matched.as_deref().map(|m| self.text(m));
        copy.path = self.text(&finding.path);
        for part in &mut copy.inner_path {
            *part = self.text(part);
        }
        copy.name = self.text(&finding.name);
        if let Some(git) = copy.git.as_mut() {
            for field in [
                &mut git.author,
                &mut git.email,
                &mut git.summary,
                &mut git.tag,
            ]
            .into_iter()
            .flatten()
            {
                *field = self.text(field);
            }
            if let Some(occurrences) = git.occurrences.as_mut() {
                for path in &mut occurrences.paths {
                    *path = self.text(path);
                }
            }
            git.summary_secrets.clear();
        }
        copy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_secret_is_replaced_longest_first() {
        let redactor = Redactor::from_pairs(vec![
            ("tars2026".into(), redact("tars2026")),
            (
                "tars2026-and-more-text".into(),
                redact("tars2026-and-more-text"),
            ),
        ]);
        assert_eq!(
            redactor.text("PASSWORD=tars2026 # db, tars2026-and-more-text"),
            "PASSWORD=ta… # db, tars…t"
        );
        assert_eq!(Redactor::default().text("plain"), "plain");
    }
}
