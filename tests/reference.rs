//! The language reference `docs/language.md`: generated from the schema's documentation
//! table, complete, and with examples that compile.
//!
//! `MAILSEC_UPDATE_DOCS=1 cargo test --test integration reference` rewrites the file.

use crate::common::{compile_text, render_all, root};
use mailsec::check::reference;

#[test]
fn language_md_is_generated() {
    let path = root().join("docs").join("language.md");
    let fresh = reference::markdown();
    if std::env::var("MAILSEC_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &fresh).expect("write docs/language.md");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == fresh,
        "docs/language.md is not the generated reference; regenerate it with\n  MAILSEC_UPDATE_DOCS=1 cargo test --test integration reference"
    );
}

#[test]
fn generation_is_deterministic() {
    assert_eq!(reference::markdown(), reference::markdown());
}

#[test]
fn every_block_kind_and_setting_is_documented() {
    let missing = reference::undocumented();
    assert!(
        missing.is_empty(),
        "the language reference (src/check/reference.rs) and the schema disagree:\n  {}\ndocument each setting there, then regenerate docs/language.md with\n  MAILSEC_UPDATE_DOCS=1 cargo test --test integration reference",
        missing.join("\n  ")
    );
}

#[test]
fn every_example_checks_cleanly() {
    let examples = reference::examples();
    assert!(!examples.is_empty());
    let mut failures = Vec::new();
    for (kind, text) in &examples {
        let c = compile_text("example.mailsec", text);
        if c.diags.iter().next().is_some() || c.ir.is_none() {
            failures.push(format!("example of `{kind}`:\n{}", render_all(&c)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_block_kind_has_an_example_in_the_reference() {
    let md = reference::markdown();
    for (kind, _) in reference::examples() {
        assert!(md.contains(&format!("\n## {kind}\n")), "no section for `{kind}`");
    }
}
