//! `history --range-from-event`: what a GitHub Actions job should scan, read
//! from the event that started it (`GITHUB_EVENT_NAME`, and the payload at
//! `GITHUB_EVENT_PATH`), so the Action needs no range logic of its own.
//!
//! - A pull request (`pull_request`, `pull_request_target`, review events)
//!   and a merge queue group: what its head adds to its base, by the SHAs in
//!   the payload. Not `origin/BASE..HEAD`: under `pull_request_target` the
//!   checkout is the base branch, and that range is empty.
//! - A push: what `after` adds to `before` when the clone has `before`, a
//!   force-push included (`before..after` excludes all `before` reached,
//!   ancestor or not). A new branch or tag (`before` all zeros), or a
//!   force-push whose old tip the clone lacks: what the default branch does
//!   not reach; a push to the default branch itself then scans its history.
//!   Not "what no other branch reaches": two branches pushed at once with
//!   the same new commits would each exclude the other, and neither would
//!   scan them.
//! - A deletion: nothing. Any other event: the whole history.

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::sources::git::RevRange;

/// What the event asks to scan.
#[derive(Debug)]
pub enum EventScope {
    /// Commits in a range, with a line saying why it is that range.
    Range(RevRange, String),
    /// Every ref's history (an event with no range: a schedule, a manual run).
    Whole(String),
    /// Nothing: the event deleted a ref.
    Nothing(String),
}

/// The remote actions/checkout names, whose tracking refs hold the branches.
const REMOTE: &str = "origin";

/// Reads the event from the environment GitHub Actions sets.
pub fn from_env(repo: &gix::Repository) -> anyhow::Result<EventScope> {
    let (Some(name), Some(path)) = (
        std::env::var_os("GITHUB_EVENT_NAME"),
        std::env::var_os("GITHUB_EVENT_PATH"),
    ) else {
        bail!(
            "--range-from-event reads the GitHub Actions event, but GITHUB_EVENT_NAME or GITHUB_EVENT_PATH is not set: run it in a GitHub Actions job, or give the range yourself (`--range BASE..HEAD`)"
        );
    };
    let name = name.to_string_lossy().into_owned();
    let text = std::fs::read(&path).with_context(|| {
        format!(
            "cannot read the event payload {} (GITHUB_EVENT_PATH)",
            path.to_string_lossy()
        )
    })?;
    let event: Value = serde_json::from_slice(&text).with_context(|| {
        format!(
            "the event payload {} (GITHUB_EVENT_PATH) is not JSON",
            path.to_string_lossy()
        )
    })?;
    from_event(repo, &name, &event)
}

/// The scope of event `name` with payload `event`, judged against what the
/// clone `repo` holds.
pub fn from_event(repo: &gix::Repository, name: &str, event: &Value) -> anyhow::Result<EventScope> {
    let text = |pointer: &str| event.pointer(pointer).and_then(Value::as_str);
    if let (Some(base), Some(head)) = (
        text("/pull_request/base/sha"),
        text("/pull_request/head/sha"),
    ) {
        let base_ref = text("/pull_request/base/ref").map(|b| format!("refs/heads/{b}"));
        let number = event
            .pointer("/pull_request/number")
            .and_then(Value::as_u64);
        let what = match number {
            Some(n) => format!("pull request #{n}"),
            None => "the pull request".to_string(),
        };
        return between(repo, name, &what, base, head, base_ref.as_deref());
    }
    if let (Some(base), Some(head)) = (text("/merge_group/base_sha"), text("/merge_group/head_sha"))
    {
        let base_ref = text("/merge_group/base_ref");
        return between(repo, name, "the merge group", base, head, base_ref);
    }
    if name == "push" {
        let (Some(pushed), Some(after)) = (text("/ref"), text("/after")) else {
            bail!("the push event's payload has no `ref` or `after`");
        };
        return push(repo, event, pushed, text("/before"), after);
    }
    Ok(EventScope::Whole(format!(
        "{name} event: no range, so the whole history of every ref"
    )))
}

/// What `head` adds to `base` (and to the base branch's current tip, when
/// the clone has it): a pull request or a merge group.
fn between(
    repo: &gix::Repository,
    event: &str,
    what: &str,
    base: &str,
    head: &str,
    base_ref: Option<&str>,
) -> anyhow::Result<EventScope> {
    if known_commit(repo, head).is_none() {
        bail!(
            "{event} event: the head commit of {what}, {head}, is not in this clone: fetch it (`git fetch origin {head}`; the secretgate Action does) or check it out with actions/checkout"
        );
    }
    let mut exclude: Vec<String> = known_commit(repo, base).into_iter().collect();
    if let Some(tip) = base_ref.and_then(|r| tracking_tip(repo, r)) {
        exclude.push(tip);
    }
    if exclude.is_empty() {
        bail!(
            "{event} event: the base commit of {what}, {base}, is not in this clone: fetch it (`git fetch origin {base}`, or `fetch-depth: 0` in actions/checkout)"
        );
    }
    let why = format!("{event} event: what {what} adds, {base}..{head}");
    Ok(EventScope::Range(
        RevRange {
            exclude,
            include: vec![head.to_string()],
            names: Vec::new(),
        },
        why,
    ))
}

/// What a push of `pushed` from `before` to `after` adds.
fn push(
    repo: &gix::Repository,
    event: &Value,
    pushed: &str,
    before: Option<&str>,
    after: &str,
) -> anyhow::Result<EventScope> {
    let deleted = event.pointer("/deleted").and_then(Value::as_bool) == Some(true);
    if deleted || is_zero(after) {
        return Ok(EventScope::Nothing(format!(
            "push event: {pushed} was deleted, nothing to scan"
        )));
    }
    let range = |exclude: Vec<String>| RevRange {
        exclude,
        include: vec![after.to_string()],
        names: vec![pushed.to_string()],
    };
    let before = before.filter(|b| !is_zero(b));
    if let Some(old) = before.and_then(|b| known_commit(repo, b)) {
        let why = format!("push event: what {pushed} gained, {old}..{after}");
        return Ok(EventScope::Range(range(vec![old]), why));
    }
    let how = match before {
        Some(b) => format!("force-push whose old tip {b} is not in this clone"),
        None => "new ref".to_string(),
    };
    let default = event
        .pointer("/repository/default_branch")
        .and_then(Value::as_str)
        .map(|b| format!("refs/heads/{b}"));
    let Some(default) = default else {
        return Ok(EventScope::Range(
            range(Vec::new()),
            format!(
                "push event ({how}): the payload names no default branch, so the whole history of {after}"
            ),
        ));
    };
    if default == pushed {
        return Ok(EventScope::Range(
            range(Vec::new()),
            format!("push event ({how}) to the default branch: the whole history of {after}"),
        ));
    }
    match tracking_tip(repo, &default) {
        Some(tip) => Ok(EventScope::Range(
            range(vec![tip]),
            format!("push event ({how}): what {pushed} adds to {default}"),
        )),
        None => Ok(EventScope::Range(
            range(Vec::new()),
            format!(
                "push event ({how}): the default branch {default} is not in this clone (fetch it, or `fetch-depth: 0` in actions/checkout), so the whole history of {after}"
            ),
        )),
    }
}

fn is_zero(sha: &str) -> bool {
    sha.bytes().all(|b| b == b'0')
}

/// The full id of the commit `rev` names here, if the clone has it.
fn known_commit(repo: &gix::Repository, rev: &str) -> Option<String> {
    repo.rev_parse_single(rev)
        .ok()
        .and_then(|id| id.object().ok())
        .and_then(|object| object.peel_to_commit().ok())
        .map(|commit| commit.id.to_hex().to_string())
}

/// The commit branch `full_ref` (`refs/heads/NAME`) points at: its
/// remote-tracking ref (what actions/checkout fetches), else a local branch.
fn tracking_tip(repo: &gix::Repository, full_ref: &str) -> Option<String> {
    let short = full_ref.strip_prefix("refs/heads/").unwrap_or(full_ref);
    [
        format!("refs/remotes/{REMOTE}/{short}"),
        format!("refs/heads/{short}"),
    ]
    .iter()
    .find_map(|name| known_commit(repo, name))
}
