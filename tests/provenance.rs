//! Artefacts cite an operation id and an intent file, never a line: a change to comments or
//! layout of the intent changes no generated file (line numbers stay in diagnostics and IR).

use crate::common;
use mailsec::backend::Target;
use mailsec::driver;
use std::collections::BTreeMap;
use std::path::Path;

/// Every artefact of every unit below `dir`, keyed by `unit/path`.
fn artefacts(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let targets: Vec<Target> = Target::ALL.into_iter().filter(|t| t.is_built()).collect();
    let mut out = BTreeMap::new();
    for c in common::compile_dir(dir) {
        let Some(ir) = c.ir else { continue };
        for f in driver::render_unit(&ir, &targets).expect("examples render") {
            out.insert(format!("{}/{}", ir.unit, f.path), f.contents);
        }
    }
    out
}

/// Copies the examples, adding comment lines at the top of each file and blank lines
/// before every top-level block.
fn shifted_copy(to: &Path) {
    for entry in walkdir::WalkDir::new(common::examples()) {
        let entry = entry.expect("examples readable");
        let rel = entry.path().strip_prefix(common::examples()).expect("below examples");
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("read example");
        let shifted = if rel.extension().is_some_and(|e| e == "mailsec") {
            let mut s = String::from("# Reviewed by the change board.\n#\n# Two more lines.\n\n");
            for line in text.lines() {
                if !line.starts_with([' ', '\t', '#', '}']) && line.ends_with('{') {
                    s.push_str("\n# (layout)\n");
                }
                s.push_str(line);
                s.push('\n');
            }
            s
        } else {
            text
        };
        std::fs::write(&dest, shifted).expect("write copy");
    }
}

#[test]
fn comments_and_layout_change_no_artefact() {
    let dir = tempfile::tempdir().expect("tempdir");
    shifted_copy(dir.path());
    let before = artefacts(&common::examples());
    let after = artefacts(dir.path());
    assert!(
        before.len() > 50,
        "expected the examples' artefacts, got {}",
        before.len()
    );
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "same files"
    );
    let changed: Vec<&String> = before.keys().filter(|k| before[*k] != after[*k]).collect();
    assert!(
        changed.is_empty(),
        "artefacts changed by comments/layout only: {changed:?}"
    );
}

#[test]
fn the_ir_keeps_the_line() {
    let irs = common::example_irs();
    let op = irs.iter().flat_map(|ir| &ir.operations).next().expect("an operation");
    let (file, line) = op.source.rsplit_once(':').expect("file:line in the IR");
    assert!(
        file.ends_with(".mailsec") && line.parse::<u32>().is_ok(),
        "{}",
        op.source
    );
    assert_eq!(op.source_file(), file);
}
