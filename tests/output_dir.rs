//! Tests: `build --out` never destroys what mailsec did not write — foreign directories,
//! the intent files themselves, other units' and targets' outputs — and a closed pipe on
//! stdout is a normal end of output, not a panic.

use crate::common::{bin, examples};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const UNIT_A: &str = "organization \"A\" { smtp_domains = [a.example] exchange = 2019 }\nserver a { fqdn = a.a.example roles = [eas] }\n";
const UNIT_B: &str = "organization \"B\" { smtp_domains = [b.example] exchange = 2019 }\nserver b { fqdn = b.b.example roles = [eas] }\n";

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(bin()).args(args).env("NO_COLOR", "1").output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

/// Every file below `dir` with its contents, to prove nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), std::fs::read(e.path()).unwrap()))
        .collect();
    v.sort();
    v
}

fn assert_refused(o: &Output, why: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    assert!(stderr(o).contains(why), "expected {why:?} in: {}", stderr(o));
    assert!(!stderr(o).contains("panicked"), "{}", stderr(o));
}

#[test]
fn a_web_app_with_a_manifest_is_not_an_output_directory() {
    let dir = tempfile::tempdir().unwrap();
    let unit = write(dir.path(), "intent/u.mailsec", UNIT_A);
    let app = dir.path().join("src");
    write(&app, "manifest.json", "{ \"name\": \"My PWA\", \"icons\": [] }\n");
    write(&app, "index.js", "console.log('mine');\n");
    let before = snapshot(&app);
    let o = run(&[&"build", &unit, &"--out", &app, &"--emit", &"ir"]);
    assert_refused(&o, "not a mailsec output directory");
    assert!(stderr(&o).contains("\"tool\": \"mailsec\""), "{}", stderr(&o));
    assert_eq!(snapshot(&app), before);
}

#[test]
fn an_older_unmarked_manifest_is_refused_too() {
    let dir = tempfile::tempdir().unwrap();
    let unit = write(dir.path(), "intent/u.mailsec", UNIT_A);
    let out = dir.path().join("out");
    write(&out, "manifest.json", "{ \"format\": 1, \"artefacts\": [] }\n");
    write(&out, "u/ir.json", "{}");
    let o = run(&[&"build", &unit, &"--out", &out, &"--emit", &"ir"]);
    assert_refused(&o, "not a mailsec output directory");
    assert_eq!(std::fs::read_to_string(out.join("u/ir.json")).unwrap(), "{}");
}

#[test]
fn out_holding_the_intent_files_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let unit = write(dir.path(), "estate/site/u.mailsec", UNIT_A);
    let estate = dir.path().join("estate");
    let before = snapshot(&estate);
    // `--out` is the input folder, a parent of it, or the input file's own directory.
    for out in [estate.clone(), dir.path().to_path_buf(), estate.join("site")] {
        let o = run(&[&"build", &estate, &"--out", &out, &"--emit", &"ir"]);
        assert_refused(&o, "refusing to write to");
        let o = run(&[&"build", &unit, &"--out", &out, &"--emit", &"ir"]);
        assert_refused(&o, "contains the input");
    }
    // `--out` inside the input folder.
    let o = run(&[&"build", &estate, &"--out", &estate.join("out"), &"--emit", &"ir"]);
    assert_refused(&o, "is inside the input");
    // The same through a relative path.
    let o = Command::new(bin())
        .current_dir(&estate)
        .args(["build", ".", "--out", ".", "--emit", "ir"])
        .output()
        .unwrap();
    assert_refused(&o, "contains the input");
    assert_eq!(snapshot(&estate), before, "no intent file was touched");
}

#[test]
fn out_holding_an_included_library_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mailsec.toml", "");
    let out = dir.path().join("out");
    // A mailsec output that someone put a library into, included from outside.
    let o = run(&[
        &"build",
        &write(dir.path(), "first/u.mailsec", UNIT_A),
        &"--out",
        &out,
        &"--emit",
        &"ir",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    write(
        &out,
        "lib/pki.mailsec",
        "authority root { kind = enterprise ntauth = true }\n",
    );
    let unit = write(
        dir.path(),
        "units/v.mailsec",
        &format!("include \"../out/lib/pki.mailsec\"\n{UNIT_B}"),
    );
    let o = run(&[&"build", &unit, &"--out", &out, &"--emit", &"ir"]);
    assert_refused(&o, "contains the intent file `out/lib/pki.mailsec`");
    assert!(out.join("lib/pki.mailsec").is_file());
}

#[test]
fn files_added_to_an_output_are_never_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let unit = write(dir.path(), "intent/u.mailsec", UNIT_A);
    let out = dir.path().join("out");
    let o = run(&[&"build", &unit, &"--out", &out, &"--emit", &"ir"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    write(&out, "u/notes.txt", "my notes");
    let o = run(&[&"build", &unit, &"--out", &out, &"--emit", &"ir"]);
    assert_refused(&o, "holds a file that mailsec did not write (`u/notes.txt`)");
    assert_eq!(std::fs::read_to_string(out.join("u/notes.txt")).unwrap(), "my notes");
    // `--check` reports it as drift instead.
    let o = run(&[&"build", &unit, &"--out", &out, &"--emit", &"ir", &"--check"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stdout).contains("extra: u/notes.txt"));
}

#[test]
fn a_manifest_cannot_point_outside_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let unit = write(dir.path(), "intent/u.mailsec", UNIT_A);
    let out = dir.path().join("out");
    write(dir.path(), "secret.txt", "outside");
    write(
        &out,
        "manifest.json",
        r#"{ "tool": "mailsec", "format": 2, "artefacts": [ { "path": "../secret.txt", "unit": "x", "target": "ir", "host": null, "sha256": "", "sources": [] } ] }"#,
    );
    let o = run(&[&"build", &unit, &"--out", &out, &"--emit", &"ir"]);
    assert_refused(&o, "lists `../secret.txt`, which mailsec never writes");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("secret.txt")).unwrap(),
        "outside"
    );
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_as_out_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let unit = write(dir.path(), "intent/u.mailsec", UNIT_A);
    let real = dir.path().join("real");
    let o = run(&[&"build", &unit, &"--out", &real, &"--emit", &"ir"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let o = run(&[&"build", &unit, &"--out", &link, &"--emit", &"ir"]);
    assert_refused(&o, "is a symbolic link");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
}

#[test]
fn a_file_as_out_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let unit = write(dir.path(), "intent/u.mailsec", UNIT_A);
    let file = write(dir.path(), "report.txt", "keep");
    let o = run(&[&"build", &unit, &"--out", &file, &"--emit", &"ir"]);
    assert_refused(&o, "is not a directory");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");
}

#[test]
fn building_one_unit_keeps_the_other_units() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "intent/a.mailsec", UNIT_A);
    let b = write(dir.path(), "intent/b.mailsec", UNIT_B);
    let out = dir.path().join("out");
    let o = run(&[&"build", &a, &"--out", &out, &"--emit", &"ir"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let a_ir = std::fs::read(out.join("a/ir.json")).unwrap();
    let o = run(&[&"build", &b, &"--out", &out, &"--emit", &"ir"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("a/ir.json")).unwrap(), a_ir, "unit a kept");
    assert!(out.join("b/ir.json").is_file());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["tool"], "mailsec");
    let paths: Vec<&str> = manifest["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["a/ir.json", "b/ir.json"]);
    // Each unit alone is up to date, and so is the pair.
    for args in [vec![&a], vec![&b], vec![&a, &b]] {
        let mut cmd = Command::new(bin());
        cmd.arg("build")
            .args(args)
            .arg("--out")
            .arg(&out)
            .args(["--emit", "ir", "--check"]);
        let o = cmd.output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}{}",
            stderr(&o),
            String::from_utf8_lossy(&o.stdout)
        );
    }
    // Rebuilding a unit replaces its own files: a stale file of that unit goes.
    std::fs::write(&a, UNIT_A.replace("a.a.example", "c.a.example")).unwrap();
    let o = run(&[&"build", &a, &"--out", &out, &"--emit", &"ir"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_ne!(std::fs::read(out.join("a/ir.json")).unwrap(), a_ir);
    assert!(out.join("b/ir.json").is_file(), "unit b kept");
}

#[test]
fn building_one_target_keeps_the_other_targets() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let ex = examples();
    let unit = ex.join("s1-one-mail.mailsec");
    let o = run(&[&"build", &unit, &"--out", &out, &"-t", &"exchange"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let exchange = snapshot(&out.join("s1-one-mail/exchange"));
    assert!(!exchange.is_empty());
    let o = run(&[&"build", &unit, &"--out", &out, &"-t", &"runbook"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        snapshot(&out.join("s1-one-mail/exchange")),
        exchange,
        "exchange files kept"
    );
    assert!(out.join("s1-one-mail/runbook/s1-one-mail.md").is_file());
    let o = run(&[&"build", &unit, &"--out", &out, &"-t", &"exchange", &"--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_closed_stdout_is_a_normal_end_of_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let ex = examples();
    let cases: Vec<(Vec<&dyn AsRef<std::ffi::OsStr>>, i32)> = vec![
        (vec![&"explain", &"--list"], 0),
        (vec![&"explain", &"MS0201"], 0),
        // Drift: every file is missing, so `--check` prints a line per file.
        (vec![&"build", &ex, &"--out", &out, &"--check"], 3),
    ];
    for (args, status) in cases {
        let mut child = Command::new(bin())
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end at once, as `| head -0` would: every write gets EPIPE.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(o.status.code(), Some(status), "{err}");
    }
}
