//! Helpers shared by the test modules.

#![allow(dead_code, unreachable_pub)]

use mailsec::diagnostics::{render_human, render_json, Diag, RenderOptions};
use mailsec::driver::{self, Compiled};
use mailsec::ir::Ir;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped examples directory.
pub fn examples() -> PathBuf {
    root().join("examples")
}

/// Compiles every file below `dir`.
pub fn compile_dir(dir: &Path) -> Vec<Compiled> {
    let inputs = driver::discover(&[dir.to_path_buf()]).expect("examples readable");
    driver::compile_all(&inputs).expect("examples compile")
}

/// The IR of every example unit, in file order. Panics if an example has errors.
pub fn example_irs() -> Vec<Ir> {
    let compiled = compile_dir(&examples());
    let mut irs = Vec::new();
    for c in compiled {
        if c.unit.is_some() {
            assert!(!c.diags.has_errors(), "example {} has errors: {:?}", c.name, c.diags);
            irs.push(c.ir.expect("a clean unit lowers"));
        }
    }
    assert!(!irs.is_empty(), "no example units found");
    irs
}

/// Renders every diagnostic of a compiled file the way snapshots show them: fixed width,
/// no colour.
pub fn render_all(c: &Compiled) -> String {
    let mut out = String::new();
    for d in c.diags.iter() {
        out.push_str(&render_human(
            d,
            &c.sources,
            RenderOptions {
                color: false,
                width: 100,
            },
        ));
        out.push('\n');
    }
    out
}

/// JSON lines of every diagnostic.
pub fn render_all_json(c: &Compiled) -> String {
    c.diags.iter().map(|d| render_json(d, &c.sources) + "\n").collect()
}

/// The codes of a compiled file's diagnostics.
pub fn codes(c: &Compiled) -> Vec<&'static str> {
    c.diags.iter().map(|d: &Diag| d.code.as_str()).collect()
}

/// Compiles one source text written to a temporary directory as `name`.
pub fn compile_text(name: &str, text: &str) -> Compiled {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    compile_path(&path)
}

/// Compiles one file.
pub fn compile_path(path: &Path) -> Compiled {
    let inputs = driver::discover(&[path.to_path_buf()]).expect("readable");
    driver::compile_all(&inputs).expect("compiles").remove(0)
}

/// Path to the built `mailsec` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mailsec"))
}

/// Runs `mailsec` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(bin())
        .current_dir(dir)
        .args(args)
        .output()
        .expect("mailsec runs")
}

/// Copies the shipped examples to `to`.
pub fn copy_examples(to: &Path) {
    for entry in walkdir::WalkDir::new(examples()) {
        let entry = entry.expect("examples readable");
        let dest = to.join(entry.path().strip_prefix(examples()).expect("below examples"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

/// Runs git in `dir` with a throwaway identity; panics if it fails.
pub fn git(dir: &Path, args: &[&str]) {
    let o = std::process::Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}
