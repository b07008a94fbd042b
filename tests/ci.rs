//! Tests: what CI consumes — SARIF, pure machine output, `build --check` scoped to the
//! selected targets and lenient about line endings, diagnostic paths from the repository root.

use crate::common::{bin, copy_examples, examples, git, run_in};
use mailsec::diagnostics::Code;
use std::path::Path;
use std::process::{Command, Output};

const WARNS: &str = "organization \"X\" { smtp_domains = [x.example] exchange = 2019 }\nserver a { fqdn = a.x.example roles = [eas] rolse = [eas] }\n";

#[test]
fn sarif_is_one_structurally_valid_log() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("u.mailsec"), WARNS).unwrap();
    let o = run_in(dir.path(), &["--message-format", "sarif", "check", "u.mailsec"]);
    assert_eq!(o.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "mailsec");
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), Code::ALL.len(), "every code is a rule");
    for (i, (rule, code)) in rules.iter().zip(Code::ALL).enumerate() {
        assert_eq!(rule["id"], code.as_str(), "rule {i}");
        assert!(!rule["shortDescription"]["text"].as_str().unwrap().is_empty());
        assert!(!rule["help"]["text"].as_str().unwrap().is_empty());
        let level = rule["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(["error", "warning", "note", "none"].contains(&level));
        let name = rule["name"].as_str().unwrap();
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
            "{name}"
        );
    }
    let results = runs[0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"], "ruleIndex points at ruleId");
        assert!(["error", "warning"].contains(&r["level"].as_str().unwrap()));
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        for loc in r["locations"]
            .as_array()
            .unwrap()
            .iter()
            .chain(r["relatedLocations"].as_array().into_iter().flatten())
        {
            let phys = &loc["physicalLocation"];
            assert_eq!(phys["artifactLocation"]["uri"], "u.mailsec");
            assert_eq!(phys["artifactLocation"]["uriBaseId"], "%SRCROOT%");
            let region = &phys["region"];
            for k in ["startLine", "startColumn", "endLine", "endColumn"] {
                assert!(region[k].as_u64().unwrap() >= 1, "{k} is 1-based");
            }
            assert!(
                (region["startLine"].as_u64(), region["startColumn"].as_u64())
                    <= (region["endLine"].as_u64(), region["endColumn"].as_u64())
            );
        }
    }
    assert!(o.stderr.is_empty() || !String::from_utf8_lossy(&o.stderr).contains("error["));
}

#[test]
fn diagnostic_paths_are_relative_to_the_repository_root() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let sub = dir.path().join("intent/site");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("u.mailsec"), WARNS).unwrap();
    let o = run_in(&sub, &["--message-format", "json", "check", "."]);
    let line = String::from_utf8(o.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert_eq!(v["span"]["file"], "intent/site/u.mailsec");
}

fn build(dir: &Path, extra: &[&str]) -> Output {
    let ex = examples();
    let mut args = vec!["build", ex.to_str().unwrap(), "--out", "out"];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

#[test]
fn check_respects_target_keeps_json_pure_and_ignores_line_endings() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(build(dir.path(), &["-t", "exchange"]).status.code(), Some(0));
    // A full-output drift check of an exchange-only output fails; the exchange one passes.
    assert_eq!(build(dir.path(), &["--check"]).status.code(), Some(3));
    let o = build(dir.path(), &["-t", "exchange", "--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    // A checkout that turned LF into CRLF is not drift.
    let script = walkdir::WalkDir::new(dir.path().join("out"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .find(|p| p.extension().is_some_and(|e| e == "ps1"))
        .unwrap();
    let text = std::fs::read_to_string(&script).unwrap();
    std::fs::write(&script, text.replace('\n', "\r\n")).unwrap();
    assert_eq!(build(dir.path(), &["-t", "exchange", "--check"]).status.code(), Some(0));
    // A real change is drift, and in JSON mode stdout stays JSON lines.
    std::fs::write(&script, text.replace("Set-StrictMode", "Set-StrictMod")).unwrap();
    let o = build(dir.path(), &["-t", "exchange", "--check", "--message-format", "json"]);
    assert_eq!(o.status.code(), Some(3));
    for line in String::from_utf8(o.stdout).unwrap().lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("only JSON on stdout");
    }
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Set-StrictMod"),
        "the diff goes to stderr"
    );
}

#[test]
fn completions_and_manual_page_cover_every_command() {
    let here = std::env::current_dir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = run_in(&here, &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let text = String::from_utf8(o.stdout).unwrap();
        for word in ["build", "diff", "explain", "message-format"] {
            assert!(text.contains(word), "{shell} completion lacks {word}");
        }
        if ["bash", "zsh", "fish"].contains(&shell) {
            assert!(text.contains("sarif"), "{shell} completes the format values");
        }
        if shell == "powershell" {
            // (clap_complete's script uses `.Where{…}`, PowerShell 4+ syntax that the
            // tree-sitter grammar does not know, so it is not parsed here.)
            assert!(text.contains("Register-ArgumentCompleter -Native -CommandName 'mailsec'"));
        }
    }
    let o = run_in(&here, &["man"]);
    assert_eq!(o.status.code(), Some(0));
    let man = String::from_utf8(o.stdout).unwrap();
    assert!(man.starts_with(".ie") || man.contains(".TH mailsec 1"), "{man}");
    for cmd in ["check", "build", "diff", "explain", "completions"] {
        assert!(man.contains(cmd), "manual page lacks {cmd}");
    }
}

#[test]
fn quiet_keeps_diagnostics_and_drops_status_lines() {
    let dir = tempfile::tempdir().unwrap();
    let o = build(dir.path(), &["-q"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(dir.path().join("u.mailsec"), WARNS).unwrap();
    let o = run_in(dir.path(), &["check", "--quiet", "u.mailsec"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("MS0") && err.contains("check failed"), "{err}");
}

#[test]
fn runbooks_carry_the_version_the_plan_digest_and_each_scripts_sha256() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(build(dir.path(), &[]).status.code(), Some(0));
    let out = dir.path().join("out");
    let mut checked = 0;
    for entry in walkdir::WalkDir::new(&out) {
        let path = entry.unwrap().into_path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let unit_dir = path.parent().unwrap().parent().unwrap();
        let md = std::fs::read_to_string(&path).unwrap();
        assert!(md.contains(&format!("| Generated by | `mailsec {}` |", env!("CARGO_PKG_VERSION"))));
        assert!(md.contains("| Plan digest | `sha256:"));
        assert!(!md.contains("Intent revision"), "no stamp unless asked");
        for line in md.lines().filter(|l| l.contains("), SHA-256 `")) {
            let file = line.split('`').nth(1).unwrap();
            let hash = line.split("SHA-256 `").nth(1).unwrap().split('`').next().unwrap();
            let bytes = std::fs::read(unit_dir.join(file)).unwrap();
            let want: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hash, want, "{file}");
            checked += 1;
        }
    }
    assert!(checked >= 20, "scripts checked: {checked}");
}

#[test]
fn stamp_records_the_git_revision() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    std::fs::write(repo.join("u.mailsec"), WARNS.replace(" rolse = [eas]", "")).unwrap();
    git(repo, &["init", "-q"]);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "one"]);
    git(repo, &["tag", "v1"]);
    let o = run_in(
        repo,
        &["build", "u.mailsec", "--out", "out", "--stamp", "-t", "runbook"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(repo.join("out/u/runbook/u.md")).unwrap();
    assert!(md.contains("| Intent revision | `v1` |"), "{md}");
}

/// Runs the shipped CI recipe's script on a repository holding the examples.
#[test]
fn the_ci_recipe_checks_detects_drift_and_summarises_the_diff() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    copy_examples(&repo.join("intent"));
    let script = crate::common::root().join("docs/ci/mailsec-ci.sh");
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let ci = |base: Option<&str>| {
        let summary = repo.join("summary.md");
        let _ = std::fs::remove_file(&summary);
        let mut cmd = Command::new("bash");
        cmd.current_dir(repo)
            .arg(&script)
            .args(["intent", "generated"])
            .args(base)
            .env("PATH", &path)
            .env_remove("GITHUB_STEP_SUMMARY")
            .env("MAILSEC_SUMMARY", &summary);
        let o = cmd.output().unwrap();
        (o.status.code(), std::fs::read_to_string(&summary).unwrap_or_default())
    };
    assert_eq!(run_in(repo, &["fmt", "intent"]).status.code(), Some(0));
    assert_eq!(
        run_in(repo, &["build", "intent", "--out", "generated"]).status.code(),
        Some(0)
    );
    git(repo, &["init", "-q"]);
    git(repo, &["add", "intent", "generated"]);
    git(repo, &["commit", "-q", "-m", "base"]);
    git(repo, &["tag", "base"]);
    assert_eq!(ci(None), (Some(0), String::new()), "a clean tree passes silently");
    let sarif: serde_json::Value = serde_json::from_slice(&std::fs::read(repo.join("mailsec.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");

    // A change of intent with its regenerated output: passes, and the summary shows it.
    let unit = repo.join("intent/s1-one-mail.mailsec");
    let text = std::fs::read_to_string(&unit).unwrap();
    std::fs::write(&unit, text.replace("EXCH2K10.mpn2k10.poc", "EXCH2K10B.mpn2k10.poc")).unwrap();
    assert_eq!(
        run_in(repo, &["build", "intent", "--out", "generated"]).status.code(),
        Some(0)
    );
    let (code, summary) = ci(Some("base"));
    assert_eq!(code, Some(0), "{summary}");
    assert!(summary.contains("artefact changes against `base`"), "{summary}");
    assert!(summary.contains("s1-one-mail: "), "{summary}");
    assert!(
        summary.contains("```diff") && summary.contains("+++ b/s1-one-mail/"),
        "{summary}"
    );

    // The intent changed but the output was not rebuilt: drift fails the job.
    std::fs::write(&unit, text).unwrap();
    let (code, summary) = ci(Some("base"));
    assert_eq!(code, Some(1));
    assert!(summary.contains("is not what the intent generates"), "{summary}");
}
