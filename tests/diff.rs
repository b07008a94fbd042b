//! Tests: `mailsec diff` — a revision's effect on the generated artefacts.

use crate::common::{copy_examples, git, run_in};
use std::path::Path;

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

const OLD_HOST: &str = "EXCH2K10.mpn2k10.poc";
const NEW_HOST: &str = "EXCH2K10B.mpn2k10.poc";

/// Two trees, `a` = the examples and `b` = the examples with S1's hub renamed.
fn trees() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_examples(&dir.path().join("a"));
    copy_examples(&dir.path().join("b"));
    edit(&dir.path().join("b/s1-one-mail.mailsec"), OLD_HOST, NEW_HOST);
    dir
}

#[test]
fn identical_trees_exit_zero_and_print_nothing() {
    let dir = trees();
    let o = run_in(dir.path(), &["diff", "a", "a"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty(), "{}", String::from_utf8_lossy(&o.stdout));
}

/// A changed line of the runbook that carries a digest rather than content.
fn digest_line(l: &str) -> bool {
    (l.starts_with('-') || l.starts_with('+')) && (l.contains("sha256:") || l.contains("SHA-256"))
}

#[test]
fn a_renamed_host_shows_exactly_the_changed_lines() {
    let dir = trees();
    let o = run_in(dir.path(), &["diff", "a", "b"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let (summary, diffs) = out.split_once("\n\n").expect("summary, then diffs");
    assert!(summary.starts_with("s1-one-mail: "), "{summary}");
    assert!(summary.contains("  exchange/hub01: "), "{summary}");
    assert!(summary.contains("  runbook: "), "{summary}");
    assert!(!summary.contains("s3-"), "only S1 changes: {summary}");
    let (mut removed, mut added) = (0, 0);
    for line in diffs.lines() {
        let upper = line.to_ascii_uppercase();
        if line.starts_with("---") || line.starts_with("+++") {
            assert!(line.contains("/s1-one-mail/"), "{line}");
        } else if digest_line(line) {
            // The runbook's plan digest and each linked script's SHA-256 follow the scripts.
        } else if let Some(l) = line.strip_prefix('-') {
            removed += 1;
            assert!(
                upper.contains("EXCH2K10") && !upper.contains("EXCH2K10B"),
                "unrelated removal: {l}"
            );
        } else if let Some(l) = line.strip_prefix('+') {
            added += 1;
            assert!(upper.contains("EXCH2K10B"), "unrelated addition: {l}");
        }
    }
    assert!(removed > 0 && removed == added, "{removed} removed, {added} added");
}

#[test]
fn stat_and_json_describe_the_same_change_set() {
    let dir = trees();
    let stat = String::from_utf8(run_in(dir.path(), &["diff", "a", "b", "--stat"]).stdout).unwrap();
    assert!(!stat.contains("@@"), "no diff text with --stat: {stat}");
    let o = run_in(dir.path(), &["--message-format", "json", "diff", "a", "b"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    assert_eq!(v["equal"], false);
    let files = v["files"].as_array().unwrap();
    assert!(!files.is_empty());
    for f in files {
        assert_eq!(f["unit"], "s1-one-mail");
        assert_eq!(f["status"], "changed");
        let path = f["path"].as_str().unwrap();
        assert!(stat.contains(path), "{path} missing from --stat");
        assert!(f["diff"].as_str().unwrap().contains(NEW_HOST), "{path}");
    }
    assert_eq!(v["totals"]["changed"].as_u64().unwrap() as usize, files.len());
    let o = run_in(dir.path(), &["diff", "a", "b", "--target", "iis"]);
    assert_eq!(o.status.code(), Some(0), "S1 has no IIS artefacts");
}

#[test]
fn errors_and_missing_sides_exit_two() {
    let dir = trees();
    std::fs::write(dir.path().join("b/broken.mailsec"), "organization {").unwrap();
    assert_eq!(run_in(dir.path(), &["diff", "a", "b"]).status.code(), Some(2));
    assert_eq!(run_in(dir.path(), &["diff", "a", "nowhere"]).status.code(), Some(2));
    assert_eq!(run_in(dir.path(), &["diff", "a"]).status.code(), Some(2));
}

#[test]
fn git_revisions_are_compared_with_the_working_tree() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    copy_examples(&repo.join("intent"));
    git(repo, &["init", "-q"]);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "base"]);
    let o = run_in(repo, &["diff", "--git", "HEAD", "intent"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    edit(&repo.join("intent/s1-one-mail.mailsec"), OLD_HOST, NEW_HOST);
    let o = run_in(repo, &["diff", "--git", "HEAD", "intent", "--stat"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("s1-one-mail/exchange/hub01/"));
    // From a subdirectory, `<rev>:<path>` is relative to it, as in git.
    let o = run_in(&repo.join("intent"), &["diff", "HEAD:.", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run_in(repo, &["diff", "--git", "no-such-rev", "intent"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a git revision"));
}
