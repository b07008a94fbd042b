//! Tests: the command line contract — exit codes, message formats, explain, and `build`
//! writing, checking and never losing a previous output.

use crate::common::{bin, examples};
use mailsec::diagnostics::Code;
use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(bin()).args(args).env_remove("NO_COLOR").output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

const BAD: &str = "organization \"X\" { smtp_domains = [x.example] exchange = 2019 }\nserver a { fqdn = a.x.example roles = [eas] rolse = [eas] }\n";
const GOOD: &str = "organization \"X\" { smtp_domains = [x.example] exchange = 2019 }\nserver a { fqdn = a.x.example roles = [eas] }\n";

#[test]
fn check_examples_is_clean() {
    let o = run(&["check", examples().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("9 units"), "{}", stderr(&o));
}

#[test]
fn errors_exit_one_and_name_their_code() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "bad.mailsec", BAD);
    let o = run(&["check", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("error[MS0101]: unknown setting `rolse` in `server`"), "{e}");
    assert!(e.contains("bad.mailsec:2:"), "{e}");
    assert!(!e.contains('\u{1b}'), "no colour when stderr is not a terminal");
}

#[test]
fn json_messages_are_one_object_per_line_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "bad.mailsec", BAD);
    let o = run(&["--message-format", "json", "check", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["code"], "MS0101");
    assert_eq!(lines[0]["severity"], "error");
    assert_eq!(lines[0]["span"]["file"], "bad.mailsec");
    assert_eq!(lines[0]["span"]["start"]["line"], 2);
    assert!(
        lines[0]["help"].as_str().unwrap().starts_with("did you mean"),
        "{}",
        lines[0]["help"]
    );
}

#[test]
fn colour_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "bad.mailsec", BAD);
    let o = run(&["--color", "always", "check", f.to_str().unwrap()]);
    assert!(stderr(&o).contains('\u{1b}'));
    let o = Command::new(bin())
        .args(["check", f.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stderr(&o).contains('\u{1b}'));
}

#[test]
fn deny_warnings_turns_warnings_into_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{GOOD}authority p {{ kind = partner }}\ncertificate c {{ subject = {{ CN = \"1\" }} key = {{ size = 1024 }} issuer = p servers = [a] }}\n");
    let f = write(dir.path(), "w.mailsec", &text);
    assert_eq!(run(&["check", f.to_str().unwrap()]).status.code(), Some(0));
    assert_eq!(
        run(&["check", "--deny", "warnings", f.to_str().unwrap()]).status.code(),
        Some(1)
    );
}

#[test]
fn explain_every_code() {
    for code in Code::ALL {
        let o = run(&["explain", code.as_str()]);
        assert_eq!(o.status.code(), Some(0));
        let text = stdout(&o);
        assert!(text.starts_with(code.as_str()), "{text}");
        assert!(text.len() > 120, "{code} has a real explanation");
    }
    let o = run(&["explain", "ms0101"]);
    assert!(stdout(&o).contains("unknown setting"));
    let o = run(&["explain", "MS9999"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["explain", "--list"]);
    assert_eq!(stdout(&o).lines().count(), Code::ALL.len());
}

#[test]
fn codes_are_unique_and_well_formed() {
    let mut seen = std::collections::HashSet::new();
    for c in Code::ALL {
        assert!(seen.insert(c.as_str()), "duplicate code {c}");
        assert!(c.as_str().len() == 6 && c.as_str().starts_with("MS0"), "{c}");
        assert!(!c.title().ends_with('.'), "{c}: titles have no final period");
    }
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(run(&["check"]).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(run(&["build", "examples"]).status.code(), Some(2), "--out is required");
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        run(&["check", dir.path().to_str().unwrap()]).status.code(),
        Some(2),
        "a directory without intent files"
    );
}

#[test]
fn build_ir_is_deterministic_and_has_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let ex = examples();
    let o = run(&[
        "build",
        ex.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--emit",
        "ir",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ir = std::fs::read(out.join("s1-one-mail/ir.json")).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let entries = manifest["artefacts"].as_array().unwrap();
    assert_eq!(entries.len(), 9);
    assert!(entries.iter().all(|e| e["sha256"].as_str().unwrap().len() == 64));
    let o = run(&[
        "build",
        ex.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--emit",
        "ir",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        std::fs::read(out.join("s1-one-mail/ir.json")).unwrap(),
        ir,
        "same input, same bytes"
    );
    let check = run(&[
        "build",
        ex.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--emit",
        "ir",
        "--check",
    ]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
}

#[test]
fn build_check_reports_drift() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "src/u.mailsec", GOOD);
    let out = dir.path().join("out");
    let args = |check: bool| {
        let mut a = vec![
            "build",
            src.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--emit",
            "ir",
        ];
        if check {
            a.push("--check");
        }
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run_s = |a: Vec<String>| Command::new(bin()).args(&a).output().unwrap();
    assert_eq!(run_s(args(false)).status.code(), Some(0));
    std::fs::write(&src, GOOD.replace("a.x.example", "b.x.example")).unwrap();
    let o = run_s(args(true));
    assert_eq!(o.status.code(), Some(3), "drift has its own exit status");
    assert!(
        stdout(&o).contains("+      \"fqdn\": \"b.x.example\""),
        "{}",
        stdout(&o)
    );
    std::fs::write(out.join("stray.txt"), "x").unwrap();
    assert!(stdout(&run_s(args(true))).contains("extra: stray.txt"));
}

#[test]
fn failed_build_keeps_the_previous_output() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "src/u.mailsec", GOOD);
    let out = dir.path().join("out");
    let o = run(&[
        "build",
        src.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--emit",
        "ir",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let before = std::fs::read(out.join("u/ir.json")).unwrap();
    std::fs::write(&src, BAD).unwrap();
    let o = run(&[
        "build",
        src.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--emit",
        "ir",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read(out.join("u/ir.json")).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        2,
        "no temporary directories left behind: {leftovers:?}"
    );
}

#[test]
fn build_refuses_to_replace_a_foreign_directory() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "src/u.mailsec", GOOD);
    let out = dir.path().join("precious");
    write(&out, "notes.txt", "mine");
    let o = run(&[
        "build",
        src.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--emit",
        "ir",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a mailsec output directory"));
    assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
}

#[test]
fn unit_directories_are_sanitised() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "src/CON..Weird Name!.mailsec", GOOD);
    let out = dir.path().join("out");
    let o = run(&[
        "build",
        src.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--emit",
        "ir",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"_con..weird-name".to_string()), "{names:?}");
    assert_eq!(mailsec::backend::sanitize_component("CON"), "_con");
    assert_eq!(mailsec::backend::sanitize_component("../../etc"), "etc");
    assert_eq!(mailsec::backend::sanitize_component("a/b\\c"), "a-b-c");
    assert_eq!(mailsec::backend::sanitize_component(""), "unnamed");
}

#[test]
fn includes_stay_below_the_root_unless_a_marker_widens_it() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "shared/pki.mailsec",
        "authority root { kind = enterprise ntauth = true }\n",
    );
    let unit = write(
        dir.path(),
        "units/u.mailsec",
        &format!("include \"../shared/pki.mailsec\"\n{GOOD}"),
    );
    let o = run(&["check", unit.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error[MS0009]"), "{}", stderr(&o));
    write(dir.path(), "mailsec.toml", "");
    let o = run(&["check", unit.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
