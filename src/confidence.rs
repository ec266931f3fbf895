//! How sure a finding is to be a real credential: the rule's confidence,
//! lowered by the kind of file the finding is in.
//!
//! A rule knows how specific its match is (a provider format with a checksum
//! is high, a random-looking value found by its variable name is medium). The
//! file adds what the rule cannot see: the same weak database password is a
//! leak in `app/settings.py` and test furniture in `tests/conftest.py`. So:
//!
//! - high stays high everywhere: a real-format key is real even in a fixture;
//! - in test, fixture, snapshot, example and docs files, medium becomes low;
//! - in container and CI definitions (`docker-compose*.yml`, `Dockerfile`,
//!   `.github/workflows/`, ...), which hold both throwaway service passwords
//!   and production settings, medium becomes low only for a weak value
//!   ([`is_weak_value`]: `postgres`, `changeme`, `dev-secret-change-me`);
//! - lock files (`package-lock.json`, `Cargo.lock`, ...) hold package names,
//!   URLs and hashes, never a hand-written secret: findings below high are
//!   dropped there.

use std::fmt;

use serde::Serialize;

/// How sure a finding is to be a real credential; the gates (`scan`,
/// `staged`, `history`) fail on findings at or above a threshold (by default
/// medium) and list the others without failing.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A weak or default value, a generic match in a test, example or docs
    /// file, a known public value: listed, not failing by default.
    Low,
    /// A key-named, random-looking value with no provider format (generic
    /// rules), or a weak value where it is used.
    Medium,
    /// A validated provider format or checksum.
    High,
}

impl Confidence {
    /// Parses the lowercase name used in rule files, configs and flags.
    pub fn parse(text: &str) -> Option<Confidence> {
        match text {
            "low" => Some(Confidence::Low),
            "medium" => Some(Confidence::Medium),
            "high" => Some(Confidence::High),
            _ => None,
        }
    }

    /// The lowercase name used in rule files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of file a finding is in, when it is one that lowers confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Context {
    /// Test code and test data: `tests/`, `t/`, `*.test.ts`, `test_x.py`, `.env.test`.
    Test,
    /// Fixtures and mocks: `fixtures/`, `testdata/`, `__mocks__/`.
    Fixture,
    /// Test snapshots: `__snapshots__/`, `*.snap`.
    Snapshot,
    /// Examples, samples and templates: `examples/`, `.env.example`, `config.sample.yml`.
    Example,
    /// Documentation: `docs/`, `*.md`, `*.rst`.
    Docs,
    /// CI configuration: `.github/workflows/`, `.gitlab-ci.yml`, `.env.ci`.
    Ci,
    /// Container definitions: `docker-compose*.yml`, `compose.yaml`, `Dockerfile`.
    Container,
}

impl Context {
    /// The lowercase name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Test => "test",
            Context::Fixture => "fixture",
            Context::Snapshot => "snapshot",
            Context::Example => "example",
            Context::Docs => "docs",
            Context::Ci => "ci",
            Context::Container => "container",
        }
    }

    /// Whether every value below high is low here, or only weak ones.
    fn lowers_every_value(self) -> bool {
        !matches!(self, Context::Ci | Context::Container)
    }
}

/// The gate's threshold: findings at or above it fail `scan`, `staged` and
/// `history` (exit 1); those below are reported and marked, and do not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Threshold(pub Confidence);

impl Default for Threshold {
    /// Medium: key-named random values and validated formats fail, weak
    /// values in tests and examples and known public values do not.
    fn default() -> Self {
        Threshold(Confidence::Medium)
    }
}

impl Threshold {
    /// Whether a finding of this confidence fails the gate.
    pub fn fails(self, confidence: Confidence) -> bool {
        confidence >= self.0
    }
}

/// Where the scanned roots sit in their repositories, so a file's context
/// is read from its path inside the project, not from the directories above
/// it: `scan /builds/test-project` must not make every file a test file.
/// Each entry maps a reported path prefix (the root as shown) to the same
/// directory's path from the repository root (or from the scanned directory
/// when it is in no repository). Empty: reported paths are already
/// repository-relative (`staged`, `history`, `scan .` at the top).
#[derive(Debug, Clone, Default)]
pub struct ContextRoots {
    prefixes: Vec<(String, String)>,
}

impl ContextRoots {
    /// Roots from (reported prefix, repository-relative prefix) pairs, each
    /// empty or ending in `/`.
    pub fn new(mut prefixes: Vec<(String, String)>) -> ContextRoots {
        // Longest first: nested roots resolve to the closest one.
        prefixes.sort_by_key(|(shown, _)| std::cmp::Reverse(shown.len()));
        ContextRoots { prefixes }
    }

    /// The path to read a file's context from: `path` with its root's
    /// prefix replaced by the root's place in its repository.
    pub fn context_path<'a>(&self, path: &'a str) -> std::borrow::Cow<'a, str> {
        for (shown, inside) in &self.prefixes {
            if let Some(rest) = path.strip_prefix(shown.as_str()) {
                return if shown == inside {
                    std::borrow::Cow::Borrowed(path)
                } else {
                    std::borrow::Cow::Owned(format!("{inside}{rest}"))
                };
            }
        }
        std::borrow::Cow::Borrowed(path)
    }
}

/// What the path says about a finding's confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assessment {
    /// Report it with this confidence; the context is the kind of file, if any.
    Report(Confidence, Option<Context>),
    /// Drop it: a finding below high in a lock file.
    Drop,
}

/// The confidence of a finding of a rule with `rule_confidence` holding
/// `secret` in the file at `path` (`/`-separated, from the project's root),
/// on a line that is (`doc_comment`) or is not in a documentation comment
/// ([`is_doc_comment_line`]): such a line is documentation wherever it is.
pub fn assess(
    rule_confidence: Confidence,
    path: &str,
    secret: &[u8],
    doc_comment: bool,
) -> Assessment {
    if rule_confidence < Confidence::High && is_lock_file(path) {
        return Assessment::Drop;
    }
    let context = context_of(path).or(doc_comment.then_some(Context::Docs));
    let confidence = match context {
        Some(context)
            if rule_confidence == Confidence::Medium
                && (context.lowers_every_value() || is_weak_value(secret)) =>
        {
            Confidence::Low
        }
        _ => rule_confidence,
    };
    Assessment::Report(confidence, context)
}

/// Dependency lock files: generated, and full of names, URLs and hashes
/// that only look like `key: value` secrets (`parse-passwd: 1.0.0`).
pub fn is_lock_file(path: &str) -> bool {
    const LOCK_FILES: &[&str] = &[
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lock",
        "cargo.lock",
        "poetry.lock",
        "pipfile.lock",
        "pdm.lock",
        "uv.lock",
        "go.sum",
        "gemfile.lock",
        "composer.lock",
        "packages.lock.json",
        "podfile.lock",
        "pubspec.lock",
        "mix.lock",
        "flake.lock",
        "gradle.lockfile",
        "package.resolved",
        "deno.lock",
        "conda-lock.yml",
    ];
    let name = base_name(path).to_ascii_lowercase();
    LOCK_FILES.contains(&name.as_str())
}

/// The kind of file at `path`, if it is one where weak or generic values
/// are expected rather than leaked. Directories count at any depth
/// (`packages/core/test/x.ts`); the file name is checked last.
pub fn context_of(path: &str) -> Option<Context> {
    let lower = path.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').filter(|p| !p.is_empty()).collect();
    let (name, dirs) = parts.split_last()?;
    if lower.starts_with(".github/workflows/")
        || lower.starts_with(".github/actions/")
        || lower.starts_with(".circleci/")
        || lower.starts_with(".buildkite/")
        || lower.starts_with(".woodpecker/")
    {
        return Some(Context::Ci);
    }
    for dir in dirs {
        if let Some(context) = directory_context(dir) {
            return Some(context);
        }
    }
    file_context(name)
}

fn directory_context(dir: &str) -> Option<Context> {
    match dir {
        "__snapshots__" | "snapshots" => Some(Context::Snapshot),
        "fixtures" | "fixture" | "__fixtures__" | "testdata" | "test-data" | "test_data"
        | "__mocks__" | "mocks" | "stubs" => Some(Context::Fixture),
        "test" | "tests" | "__tests__" | "t" | "spec" | "specs" | "e2e" | "testing" => {
            Some(Context::Test)
        }
        "example" | "examples" | "sample" | "samples" | "demo" | "demos" => Some(Context::Example),
        "docs" | "doc" | "documentation" | "_docs" => Some(Context::Docs),
        _ if has_affix(dir, &["test", "tests"]) => Some(Context::Test),
        _ if has_affix(dir, &["example", "examples"]) => Some(Context::Example),
        _ => None,
    }
}

/// Whether `word` is one of `affixes` joined to something by `-` or `_`:
/// `e2e-tests`, `unit_test`, `test-utils`, `examples-next`.
fn has_affix(word: &str, affixes: &[&str]) -> bool {
    affixes.iter().any(|affix| {
        [b'-', b'_'].iter().any(|&sep| {
            word.strip_prefix(affix)
                .is_some_and(|rest| rest.as_bytes().first() == Some(&sep))
                || word
                    .strip_suffix(affix)
                    .is_some_and(|rest| rest.as_bytes().last() == Some(&sep))
        })
    })
}

fn file_context(name: &str) -> Option<Context> {
    const CI_FILES: &[&str] = &[
        ".gitlab-ci.yml",
        ".travis.yml",
        "azure-pipelines.yml",
        "bitbucket-pipelines.yml",
        "jenkinsfile",
        ".drone.yml",
        "appveyor.yml",
        ".appveyor.yml",
        "cloudbuild.yaml",
        "cloudbuild.yml",
        "codemagic.yaml",
    ];
    if CI_FILES.contains(&name) {
        return Some(Context::Ci);
    }
    if name.ends_with(".snap") {
        return Some(Context::Snapshot);
    }
    let is_yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    if (is_yaml && (name.starts_with("docker-compose") || name.starts_with("compose")))
        || name == "dockerfile"
        || name.starts_with("dockerfile.")
        || name.ends_with(".dockerfile")
    {
        return Some(Context::Container);
    }
    // Documentation pages, and the configuration of documentation sites
    // (their search keys are public by design).
    if [".md", ".mdx", ".rst", ".adoc", ".asciidoc"]
        .iter()
        .any(|ext| name.ends_with(ext))
        || ["docusaurus.config.", "mkdocs.", "book.toml"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
    {
        return Some(Context::Docs);
    }
    // The dot-separated pieces of the name: `.env.local.example`,
    // `client.test.ts`, `settings.sample.json`, `example.py`.
    let pieces: Vec<&str> = name.split('.').filter(|p| !p.is_empty()).collect();
    let stem = pieces.first().copied().unwrap_or("");
    for piece in &pieces {
        match *piece {
            "test" | "tests" | "spec" | "e2e" | "testing" => return Some(Context::Test),
            "example" | "examples" | "sample" | "template" | "tmpl" | "dist" | "demo" => {
                return Some(Context::Example);
            }
            "ci" if name.starts_with(".env") => return Some(Context::Ci),
            _ => {}
        }
    }
    // test_client.py, client_test.go, user_spec.rb, test-utils.js, conftest.py
    if stem == "conftest" || has_affix(stem, &["test", "tests", "spec"]) {
        return Some(Context::Test);
    }
    // proxy-example.py, sample_config.yml
    if has_affix(stem, &["example", "examples", "sample", "demo"]) {
        return Some(Context::Example);
    }
    None
}

/// Whether a line (from its first byte) is inside a documentation comment:
/// JSDoc/TSDoc/Javadoc (`/**`, ` * `) or Rust (`///`, `//!`). The code
/// examples written there (`secret: "secret"`, `AUTH_SECRET=your_secret`)
/// are documentation like a README's; plain `//` and `#` comments are not
/// lowered, since commented-out code holds real secrets.
pub fn is_doc_comment_line(line: &[u8]) -> bool {
    let start = line
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(line.len());
    let line = &line[start..];
    line.starts_with(b"/**")
        || line.starts_with(b"///")
        || line.starts_with(b"//!")
        || (line.first() == Some(&b'*') && !line.starts_with(b"*/") && !line.starts_with(b"**"))
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A value a person chose or left at its default rather than generated:
/// short (`postgres`, `Pa55w0rd`, `changeme`), or words and numbers joined
/// by separators (`super-secret-jwt-token-with-at-least-32-characters-long`,
/// `dev_secret_2024`), or of very low entropy. A generated value mixes
/// letters and digits inside its pieces (a UUID's `e29b`, base64), so it is
/// never weak by the second test.
pub fn is_weak_value(secret: &[u8]) -> bool {
    const SHORT: usize = 12;
    if secret.len() < SHORT {
        return true;
    }
    let pieces: Vec<&[u8]> = secret
        .split(|b| matches!(b, b'-' | b'_' | b'.' | b' '))
        .filter(|p| !p.is_empty())
        .collect();
    let plain_piece = |piece: &&[u8]| {
        piece.iter().all(u8::is_ascii_alphabetic) || piece.iter().all(u8::is_ascii_digit)
    };
    if pieces.len() >= 2 && pieces.iter().all(plain_piece) {
        return true;
    }
    crate::engine::entropy::shannon_entropy(secret) < 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(path: &str) -> Option<&'static str> {
        context_of(path).map(Context::as_str)
    }

    #[test]
    fn test_example_docs_and_ci_paths_have_a_context() {
        for (path, expected) in [
            ("tests/test_requests.py", "test"),
            ("packages/core/auth-js/test/GoTrueClient.test.ts", "test"),
            ("src/__tests__/api.ts", "test"),
            ("t/t5551-http-fetch-smart.sh", "test"),
            ("e2e-tests/helpers/auth/clients.ts", "test"),
            ("src/client.test.ts", "test"),
            ("src/client.spec.js", "test"),
            ("pkg/client_test.go", "test"),
            ("lib/test_client.py", "test"),
            ("conftest.py", "test"),
            ("app/.env.test", "test"),
            ("packages/x/test/__snapshots__/client.test.ts.snap", "test"),
            ("src/__snapshots__/render.js.snap", "snapshot"),
            ("tests/fixtures/config.json", "test"),
            ("fixtures/config.json", "fixture"),
            ("go/testdata/creds.txt", "fixture"),
            ("examples/app/settings.py", "example"),
            ("apps/examples/nextjs/docker-compose.yml", "example"),
            ("app/.env.example", "example"),
            ("app/.env.local.example", "example"),
            (".env.sample", "example"),
            (".env.template", "example"),
            ("config/settings.sample.yml", "example"),
            ("example.py", "example"),
            ("proxy-example.py", "example"),
            ("src/test-utils.ts", "test"),
            ("www/docusaurus.config.js", "docs"),
            ("docs/getting-started.md", "docs"),
            ("README.md", "docs"),
            ("Documentation/config.txt", "docs"),
            (".github/workflows/ci.yml", "ci"),
            (".gitlab-ci.yml", "ci"),
            (".env.ci", "ci"),
            ("docker-compose.yml", "container"),
            ("deploy/docker-compose.prod.yaml", "container"),
            ("compose.yaml", "container"),
            ("infra/postgres/Dockerfile", "container"),
        ] {
            assert_eq!(context(path), Some(expected), "{path}");
        }
    }

    #[test]
    fn application_paths_have_no_context() {
        for path in [
            "src/app.py",
            ".env",
            ".env.local",
            ".env.production",
            "app/api/auth/[...nextauth]/route.ts",
            "config/settings.yml",
            "contest/entry.py",
            "latest/app.js",
            "attestation/keys.go",
            "src/testimonials.ts",
            "<commit message>",
        ] {
            assert_eq!(context(path), None, "{path}");
        }
    }

    #[test]
    fn context_roots_read_paths_from_inside_the_project() {
        let roots = ContextRoots::new(vec![
            ("/builds/test-project/".into(), String::new()),
            (
                "/builds/test-project/packages/web/".into(),
                "packages/web/".into(),
            ),
            ("../mono/".into(), "mono/".into()),
        ]);
        let inside = |path| roots.context_path(path).into_owned();
        assert_eq!(inside("/builds/test-project/src/app.py"), "src/app.py");
        assert_eq!(
            inside("/builds/test-project/packages/web/tests/a.ts"),
            "packages/web/tests/a.ts"
        );
        assert_eq!(inside("../mono/examples/x.py"), "mono/examples/x.py");
        assert_eq!(inside("src/app.py"), "src/app.py");
        assert_eq!(context_of(&inside("/builds/test-project/src/app.py")), None);
    }

    #[test]
    fn documentation_comments_are_recognised_by_their_leader() {
        for line in [
            " * AUTH_SECRET=your_auth_secret",
            "   *   secret: \"secret\",",
            "/** token: \"abc\" */",
            "/// let key = \"k\";",
            "//! password: hunter",
            "*",
        ] {
            assert!(is_doc_comment_line(line.as_bytes()), "{line}");
        }
        for line in [
            "// API_TOKEN = \"commented out\"",
            "# SECRET_KEY=old",
            "  */ const token = \"x\";",
            "**bold** password: x",
            "const a = b * c; token = \"x\"",
            "",
        ] {
            assert!(!is_doc_comment_line(line.as_bytes()), "{line}");
        }
        assert_eq!(
            assess(Confidence::Medium, "src/index.ts", b"secret", true),
            Assessment::Report(Confidence::Low, Some(Context::Docs))
        );
        assert_eq!(
            assess(Confidence::High, "src/index.ts", b"secret", true),
            Assessment::Report(Confidence::High, Some(Context::Docs))
        );
    }

    #[test]
    fn lock_files_are_recognised_by_name() {
        for path in [
            "pnpm-lock.yaml",
            "web/package-lock.json",
            "yarn.lock",
            "Cargo.lock",
            "poetry.lock",
            "go.sum",
            "Gemfile.lock",
        ] {
            assert!(is_lock_file(path), "{path}");
        }
        for path in ["lock.yaml", "src/lockfile.rs", "package.json", "go.mod"] {
            assert!(!is_lock_file(path), "{path}");
        }
    }

    #[test]
    fn weak_values_are_short_or_plain_words() {
        for value in [
            "postgres",
            "Pa55w0rd",
            "changeme",
            "nextauth",
            "test1234",
            "tars2026",
            "super-secret-jwt-token-with-at-least-32-characters-long",
            "dev-secret-change-in-production",
            "aaaaaaaabbbbbbbb",
        ] {
            assert!(is_weak_value(value.as_bytes()), "{value}");
        }
        for value in [
            "twnCpoPlJ3d2n_T4UKOyBR-Eq1611Nm0IJ8NGK3Xi58",
            "52b0d3ba-c76c-4cd7-9133-cf2503d8009f",
            "AipkRaNwtVTW2XUPpccAmdj7",
            "wZPl9qd+KCzQjxaK2mBjvC8Hp/oSGWynRbocrM0NSFc=",
        ] {
            assert!(!is_weak_value(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn context_lowers_medium_but_never_high() {
        let report = |confidence, path, secret: &str| match assess(
            confidence,
            path,
            secret.as_bytes(),
            false,
        ) {
            Assessment::Report(confidence, _) => Some(confidence),
            Assessment::Drop => None,
        };
        let strong = "twnCpoPlJ3d2n_T4UKOyBR-Eq1611Nm0IJ8NGK3Xi58";
        assert_eq!(
            report(Confidence::High, "tests/x.py", strong),
            Some(Confidence::High)
        );
        assert_eq!(
            report(Confidence::Medium, "tests/x.py", strong),
            Some(Confidence::Low)
        );
        assert_eq!(
            report(Confidence::Medium, "src/x.py", "tars2026"),
            Some(Confidence::Medium)
        );
        assert_eq!(
            report(Confidence::Medium, "docker-compose.yml", "postgres"),
            Some(Confidence::Low)
        );
        assert_eq!(
            report(Confidence::Medium, "docker-compose.yml", strong),
            Some(Confidence::Medium)
        );
        assert_eq!(
            report(Confidence::Low, "src/x.py", strong),
            Some(Confidence::Low)
        );
        assert_eq!(report(Confidence::Medium, "pnpm-lock.yaml", strong), None);
        assert_eq!(
            report(Confidence::High, "pnpm-lock.yaml", strong),
            Some(Confidence::High)
        );
    }
}
