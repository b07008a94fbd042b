//! Tests: syntax.

#[test]
fn tree_sitter_powershell_loads() {
    let mut p = tree_sitter::Parser::new();
    p.set_language(&tree_sitter_powershell::LANGUAGE.into()).unwrap();
    let t = p.parse("Set-StrictMode -Version Latest\n$x = 'a''b'\n", None).unwrap();
    assert!(!t.root_node().has_error());
    let t = p.parse("Set-Foo -X 'unterminated\n", None).unwrap();
    assert!(t.root_node().has_error());
}
