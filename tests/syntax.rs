//! Tests: the parser — AST shapes, typed literals, escapes, comments, spans.

use mailsec::diagnostics::Diagnostics;
use mailsec::source::{SourceMap, Span};
use mailsec::syntax::ast::{Entry, Item, ValueKind};
use mailsec::syntax::{ast, parse_file};
use std::net::IpAddr;

fn parse(text: &str) -> (ast::File, Diagnostics, SourceMap) {
    let mut sources = SourceMap::default();
    let id = sources.add("t.mailsec".into(), "t.mailsec".into(), text.into());
    let mut diags = Diagnostics::new();
    let file = parse_file(&sources, id, &mut diags);
    (file, diags, sources)
}

fn value_of(text: &str) -> ValueKind {
    let (file, diags, _) = parse(&format!("b x {{ v = {text} }}"));
    assert!(diags.is_empty(), "{text}: {diags:?}");
    let Item::Block(b) = &file.items[0] else {
        panic!("block")
    };
    let Entry::Setting(s) = &b.entries[0] else {
        panic!("setting")
    };
    s.value.kind.clone()
}

#[test]
fn typed_literals() {
    assert_eq!(value_of("76.75.133.96"), ValueKind::Ip("76.75.133.96".parse().unwrap()));
    assert_eq!(value_of("2001:db8::1"), ValueKind::Ip("2001:db8::1".parse().unwrap()));
    assert_eq!(value_of("::1"), ValueKind::Ip(IpAddr::V6("::1".parse().unwrap())));
    assert_eq!(value_of("10.0.0.0/8"), ValueKind::Cidr("10.0.0.0".parse().unwrap(), 8));
    assert_eq!(
        value_of("2001:db8::/32"),
        ValueKind::Cidr("2001:db8::".parse().unwrap(), 32)
    );
    assert_eq!(value_of("30d"), ValueKind::Duration(30 * 86_400));
    assert_eq!(value_of("5m"), ValueKind::Duration(300));
    assert_eq!(value_of("10MiB"), ValueKind::Size(10_485_760));
    assert_eq!(value_of("48KB"), ValueKind::Size(48_000));
    assert_eq!(value_of("2048"), ValueKind::Int(2048));
    assert_eq!(value_of("-3"), ValueKind::Int(-3));
    assert_eq!(value_of("true"), ValueKind::Bool(true));
    assert_eq!(
        value_of("smtp.tls.one-mail.on.ca"),
        ValueKind::Hostname("smtp.tls.one-mail.on.ca".into())
    );
    assert_eq!(value_of("hub01"), ValueKind::Ref("hub01".into()));
    assert_eq!(value_of("trueish"), ValueKind::Ref("trueish".into()));
    match value_of("2026-12-01") {
        ValueKind::Date(d) => assert_eq!(d.to_string(), "2026-12-01"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn compound_values() {
    match value_of("[a, \"b\", 1.2.3.4,]") {
        ValueKind::List(items) => assert_eq!(items.len(), 3),
        other => panic!("{other:?}"),
    }
    match value_of("{ C = \"CA\", CN = \"123456\" }") {
        ValueKind::Record(fields) => {
            assert_eq!(fields.len(), 2);
            assert_eq!(fields[1].name.name, "CN");
        }
        other => panic!("{other:?}"),
    }
    match value_of("basic(secret(\"ONE_MAIL_SMTP\"))") {
        ValueKind::Call(f, args) => {
            assert_eq!(f.name, "basic");
            assert!(matches!(&args[0].kind, ValueKind::Call(g, a) if g.name == "secret" && a.len() == 1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn string_escapes() {
    assert_eq!(
        value_of(r#""a\"b\\c\nd\te\u{263A}""#),
        ValueKind::Str("a\"b\\c\nd\te\u{263A}".into())
    );
    let (_, diags, _) = parse(r#"b x { v = "\u{D800}" }"#);
    assert_eq!(diags.iter().next().unwrap().code.as_str(), "MS0006");
}

#[test]
fn invalid_literals_are_coded() {
    for (text, code) in [
        ("300.1.1.1", "MS0006"),
        ("10.0.0.0/33", "MS0006"),
        ("2026-02-30", "MS0006"),
        ("2026-13-01", "MS0006"),
        ("99999999999999999999", "MS0006"),
    ] {
        let (_, diags, _) = parse(&format!("b x {{ v = {text} }}"));
        let codes: Vec<_> = diags.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, [code], "{text}");
    }
}

#[test]
fn headers_entries_and_spans() {
    let text = "retire send_connector \"To ISP\" {\n  after = \"x\"\n}\n";
    let (file, diags, sources) = parse(text);
    assert!(diags.is_empty());
    let Item::Block(b) = &file.items[0] else { panic!() };
    assert_eq!(b.kind.name, "retire");
    assert_eq!(b.header.len(), 2);
    assert!(!b.header[0].quoted && b.header[1].quoted);
    assert_eq!(b.header[1].text, "To ISP");
    assert_eq!(sources.slice(b.header[1].span), "\"To ISP\"");
    assert_eq!(sources.slice(b.span), text.trim_end());
    let Entry::Setting(s) = &b.entries[0] else { panic!() };
    assert_eq!(sources.slice(s.name.span), "after");
    assert_eq!(sources.slice(s.value.span), "\"x\"");
}

#[test]
fn comments_are_kept_but_not_inside_strings() {
    let (file, diags, sources) = parse("# top\nserver a { fqdn = \"x#y\" # trailing\n}\n");
    assert!(diags.is_empty());
    let texts: Vec<_> = file.comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, [" top", " trailing"]);
    assert_eq!(sources.slice(file.comments[1].span), "# trailing");
}

#[test]
fn includes_parse() {
    let (file, diags, _) = parse("include \"lib/pki.mailsec\"\nserver a {}\n");
    assert!(diags.is_empty());
    assert!(matches!(&file.items[0], Item::Include(i) if i.path == "lib/pki.mailsec"));
}

#[test]
fn syntax_errors_speak_plain_words() {
    for (text, needle) in [
        ("server a {\n  fqdn = \"abc\n}\n", "unterminated string"),
        ("server a {\n  fqdn: \"x\"\n}\n", "`=`"),
        ("server a {\n  fqdn = \n}\n", "expected a value"),
        (
            "server a {\n  fqdn = \"x\"\n",
            "missing `}` to close `server a` before the end of the file",
        ),
        ("server a { roles = [eas, }\n", "expected a value"),
    ] {
        let (_, diags, _) = parse(text);
        let d = diags.iter().next().unwrap_or_else(|| panic!("no error for {text:?}"));
        assert_eq!(d.code.as_str(), "MS0001");
        assert!(d.message.contains(needle), "{text:?}: {}", d.message);
        for rule in [
            "reference",
            "hostname",
            "cidr4",
            "ipv6",
            "string_inner",
            "EOI",
            "kw_include",
        ] {
            assert!(
                !d.message.contains(rule),
                "pest rule name `{rule}` leaked: {}",
                d.message
            );
        }
    }
}

#[test]
fn syntax_error_span_points_at_the_problem() {
    let text = "server a {\n  fqdn; \"x\"\n}\n";
    let (_, diags, sources) = parse(text);
    let d = diags.iter().next().unwrap();
    assert_eq!(sources.slice(d.span), ";");
    assert_eq!(d.span, Span::new(d.span.file, 17, 18));
    assert!(d.help.as_deref().unwrap_or("").contains("line breaks"));
}

#[test]
fn tree_sitter_powershell_loads() {
    // The backends' tests rely on this grammar to parse every generated script.
    let mut p = tree_sitter::Parser::new();
    p.set_language(&tree_sitter_powershell::LANGUAGE.into()).unwrap();
    let t = p.parse("Set-StrictMode -Version Latest\n$x = 'a''b'\n", None).unwrap();
    assert!(!t.root_node().has_error());
    let t = p.parse("Set-Foo -X 'unterminated\n", None).unwrap();
    assert!(t.root_node().has_error());
}
