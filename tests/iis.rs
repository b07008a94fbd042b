//! Tests: the `iis` backend. Every fragment is well-formed XML that validates against the IIS
//! schema data (`tests/data/iis-schema.json`, copied from the oracle); every appcmd line names
//! a real section, real attributes and legal values and commits to applicationHost.config;
//! the scenarios get the settings they need; the site name survives intact; the PowerShell
//! companion parses; hostile names are refused; snapshots of every file.

use crate::common::{compile_dir, compile_text, example_irs, root};
use mailsec::backend::{render, OutputFile, Target};
use mailsec::ir::{Action, ClientCerts, Ir};
use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::OnceLock;

const APPCMD: &str = r"%windir%\system32\inetsrv\appcmd.exe";
const EAS: &str = "Microsoft-Server-ActiveSync";

// ---------------------------------------------------------------------------------------
// Inputs

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = std::fs::read_to_string(root().join("tests/data/iis-schema.json")).expect("schema data");
        serde_json::from_str(&text).expect("schema data is JSON")
    })
}

/// The IR of every unit under `tests/fixtures/iis/`.
fn fixture_irs() -> Vec<Ir> {
    let mut irs = Vec::new();
    for c in compile_dir(&root().join("tests/fixtures/iis")) {
        if c.unit.is_some() {
            assert!(!c.diags.has_errors(), "fixture {} has errors: {:?}", c.name, c.diags);
            irs.push(c.ir.expect("a clean unit lowers"));
        }
    }
    assert!(irs.len() >= 2, "IIS fixtures found");
    irs
}

fn all_irs() -> Vec<Ir> {
    let mut irs = example_irs();
    irs.extend(fixture_irs());
    irs
}

fn iis(ir: &Ir) -> Vec<OutputFile> {
    render(Target::Iis, ir).unwrap_or_else(|e| panic!("{}: {e}", ir.unit))
}

fn text(f: &OutputFile) -> &str {
    std::str::from_utf8(&f.contents).expect("UTF-8 output")
}

fn file<'a>(files: &'a [OutputFile], host: &str, name: &str) -> &'a OutputFile {
    let path = format!("iis/{host}/{name}");
    files.iter().find(|f| f.path == path).unwrap_or_else(|| {
        panic!(
            "no {path} among {:?}",
            files.iter().map(|f| &f.path).collect::<Vec<_>>()
        )
    })
}

fn unit<'a>(irs: &'a [Ir], name: &str) -> &'a Ir {
    irs.iter()
        .find(|i| i.unit == name)
        .unwrap_or_else(|| panic!("unit {name}"))
}

// ---------------------------------------------------------------------------------------
// XML: a small DOM read with quick-xml's Reader, then checked against the schema data.

#[derive(Debug)]
struct El {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<El>,
}

impl El {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The descendant at a `/`-separated element path.
    fn at(&self, path: &str) -> Option<&El> {
        let mut el = self;
        for part in path.split('/') {
            el = el.children.iter().find(|c| c.name == part)?;
        }
        Some(el)
    }

    fn location(&self, path: &str) -> Option<&El> {
        self.children
            .iter()
            .find(|c| c.name == "location" && c.attr("path") == Some(path))
    }

    fn locations(&self) -> Vec<&El> {
        self.children.iter().filter(|c| c.name == "location").collect()
    }
}

/// Parses a whole document: exactly one root element, only whitespace text, no DTD.
fn parse_xml(xml: &str) -> El {
    fn start(e: &quick_xml::events::BytesStart<'_>) -> El {
        let attrs = e
            .attributes()
            .map(|a| {
                let a = a.expect("well-formed attribute");
                (
                    String::from_utf8(a.key.as_ref().to_vec()).expect("UTF-8 name"),
                    a.unescape_value().expect("unescapable value").into_owned(),
                )
            })
            .collect::<Vec<_>>();
        let mut names = BTreeSet::new();
        for (k, _) in &attrs {
            assert!(names.insert(k.clone()), "duplicate attribute {k}");
        }
        El {
            name: String::from_utf8(e.name().as_ref().to_vec()).expect("UTF-8 name"),
            attrs,
            children: Vec::new(),
        }
    }
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<El> = Vec::new();
    let mut roots: Vec<El> = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(start(&e)),
            Event::Empty(e) => {
                let el = start(&e);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => roots.push(el),
                }
            }
            Event::End(_) => {
                let el = stack.pop().expect("balanced");
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => roots.push(el),
                }
            }
            Event::Text(t) => {
                let t = t.unescape().expect("text");
                assert!(t.trim().is_empty(), "unexpected text {t:?}");
            }
            Event::Comment(c) => {
                let c = String::from_utf8(c.to_vec()).expect("UTF-8 comment");
                assert!(!c.contains("--") && !c.ends_with('-'), "bad comment {c:?}");
            }
            Event::Decl(_) => {}
            Event::Eof => break,
            other => panic!("unexpected XML event {other:?}"),
        }
    }
    assert!(stack.is_empty(), "unclosed elements");
    assert_eq!(roots.len(), 1, "exactly one root element");
    roots.pop().expect("root")
}

/// Checks a value against an attribute's schema entry (type, enum, flags, range, validator).
fn check_value(value: &str, attr: &Value, what: &str) {
    let ty = attr["type"].as_str().expect("type");
    match ty {
        "bool" => assert!(value == "true" || value == "false", "{what}: `{value}` is not a bool"),
        "uint" | "int" | "int64" => {
            let n: i128 = value
                .parse()
                .unwrap_or_else(|_| panic!("{what}: `{value}` is not an integer"));
            let (lo, hi) = match ty {
                "uint" => (0, i128::from(u32::MAX)),
                "int" => (i128::from(i32::MIN), i128::from(i32::MAX)),
                _ => (i128::from(i64::MIN), i128::from(i64::MAX)),
            };
            assert!((lo..=hi).contains(&n), "{what}: {n} out of {ty} range");
            if let Some(r) = attr.get("range").and_then(Value::as_array) {
                let (a, b) = (r[0].as_i64().expect("min"), r[1].as_i64().expect("max"));
                let inside = (i128::from(a)..=i128::from(b)).contains(&n);
                let exclusive = attr.get("range_exclusive").and_then(Value::as_bool).unwrap_or(false);
                assert!(inside != exclusive, "{what}: {n} violates range {a}..{b}");
            }
        }
        "enum" => {
            let e = attr["enum"].as_object().expect("enum values");
            assert!(
                e.contains_key(value),
                "{what}: `{value}` not in {:?}",
                e.keys().collect::<Vec<_>>()
            );
        }
        "flags" => {
            let f = attr["flags"].as_object().expect("flag values");
            let mut seen = BTreeSet::new();
            for part in value.split(',') {
                let part = part.trim();
                assert!(
                    f.contains_key(part),
                    "{what}: flag `{part}` not in {:?}",
                    f.keys().collect::<Vec<_>>()
                );
                assert!(seen.insert(part), "{what}: flag `{part}` twice");
            }
        }
        "string" => {}
        "timeSpan" => {
            let ok = value.split(':').count() == 3 && value.split(':').all(|p| p.parse::<f64>().is_ok());
            assert!(ok, "{what}: `{value}` is not a timeSpan");
        }
        other => panic!("{what}: unknown schema type {other}"),
    }
    if let Some(v) = attr.get("validation").and_then(|v| v["type"].as_str()) {
        match v {
            "nonEmptyString" => assert!(!value.is_empty(), "{what}: empty"),
            "applicationPoolName" | "siteName" => {
                let bad = schema()["validators"][v]["forbidden_characters"]
                    .as_str()
                    .expect("validator");
                assert!(!value.is_empty(), "{what}: empty");
                assert!(!value.chars().any(|c| bad.contains(c)), "{what}: `{value}` fails {v}");
            }
            "integerRange" => {}
            other => panic!("{what}: validator {other} not checked by this test"),
        }
    }
}

/// Checks an element against a schema element (`attributes`, `elements`, `collection`).
fn check_element(el: &El, def: &Value, what: &str) {
    let attributes = def["attributes"].as_object().expect("attributes");
    for (k, v) in &el.attrs {
        let a = attributes.get(k).unwrap_or_else(|| {
            panic!(
                "{what}: unknown attribute `{k}` (known: {:?})",
                attributes.keys().collect::<Vec<_>>()
            )
        });
        check_value(v, a, &format!("{what}@{k}"));
    }
    for child in &el.children {
        let here = format!("{what}/{}", child.name);
        if let Some(d) = def.get("elements").and_then(|e| e.get(&child.name)) {
            check_element(child, d, &here);
            continue;
        }
        let coll = def
            .get("collection")
            .unwrap_or_else(|| panic!("{here}: unknown element"));
        let item_attrs = coll["item_attributes"].as_object().expect("item attributes");
        let is = |k: &str| coll.get(k).and_then(Value::as_str) == Some(child.name.as_str());
        if is("addElement") {
            let item = serde_json::json!({
                "attributes": coll["item_attributes"],
                "elements": coll.get("item_elements").cloned().unwrap_or(serde_json::json!({})),
            });
            check_element(child, &item, &here);
            for (k, a) in item_attrs {
                if a["required"].as_bool() == Some(true) {
                    assert!(child.attr(k).is_some(), "{here}: required attribute `{k}` missing");
                }
            }
            for k in coll["key"].as_array().expect("key") {
                let k = k.as_str().expect("key name");
                assert!(
                    child.attr(k).is_some() || item_attrs[k]["default"].is_string(),
                    "{here}: key `{k}` missing"
                );
            }
        } else if is("clearElement") {
            assert!(
                child.attrs.is_empty() && child.children.is_empty(),
                "{here}: clear takes nothing"
            );
        } else if is("removeElement") {
            let keys: Vec<&str> = coll["key"]
                .as_array()
                .expect("key")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert!(
                child.attrs.iter().all(|(k, _)| keys.contains(&k.as_str())),
                "{here}: remove takes only key attributes"
            );
        } else {
            panic!("{here}: unknown element");
        }
    }
    // Collection items must be unique by key, after any <clear/>.
    if let Some(coll) = def.get("collection") {
        let add = coll["addElement"].as_str().unwrap_or("add");
        let keys: Vec<&str> = coll["key"]
            .as_array()
            .expect("key")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let mut seen = BTreeSet::new();
        for c in el.children.iter().filter(|c| c.name == add) {
            let key: Vec<Option<&str>> = keys.iter().map(|k| c.attr(k)).collect();
            assert!(
                seen.insert(format!("{key:?}")),
                "{what}: duplicate collection key {key:?}"
            );
        }
    }
}

/// Validates a section group or section element found at `prefix` in a scope.
fn check_group(el: &El, prefix: &str, location: Option<&str>, seen: &mut BTreeSet<String>) {
    let sections = schema()["sections"].as_object().expect("sections");
    if let Some(def) = sections.get(prefix) {
        assert!(seen.insert(prefix.to_string()), "section {prefix} twice in one scope");
        if def["allowDefinition"].as_str() == Some("AppHostOnly") {
            assert!(
                location.is_none_or(str::is_empty),
                "{prefix} is AppHostOnly and cannot be set in <location path=\"{}\">",
                location.unwrap_or_default()
            );
        }
        check_element(el, def, prefix);
        return;
    }
    let group_prefix = format!("{prefix}/");
    assert!(
        sections.keys().any(|s| s.starts_with(&group_prefix)),
        "`{prefix}` is neither a known section nor a section group"
    );
    assert!(el.attrs.is_empty(), "section group {prefix} has attributes");
    for c in &el.children {
        check_group(c, &format!("{prefix}/{}", c.name), location, seen);
    }
}

/// Validates a whole fragment against the schema data.
fn check_fragment(xml: &str, what: &str) -> El {
    let doc = parse_xml(xml);
    assert_eq!(doc.name, "configuration", "{what}: root element");
    assert!(doc.attrs.is_empty(), "{what}: root attributes");
    let mut server_seen = BTreeSet::new();
    let mut paths = BTreeSet::new();
    for c in &doc.children {
        if c.name == "location" {
            let defs = schema()["location"]["attributes"]
                .as_object()
                .expect("location attributes");
            for (k, v) in &c.attrs {
                let a = defs
                    .get(k)
                    .unwrap_or_else(|| panic!("{what}: unknown <location> attribute {k}"));
                check_value(v, a, &format!("{what}: location@{k}"));
            }
            let path = c.attr("path").expect("location path");
            assert!(
                paths.insert((path.to_string(), c.attr("overrideMode").map(str::to_string))),
                "{what}: two <location path=\"{path}\">"
            );
            let site = path.split('/').next().unwrap_or_default();
            assert!(
                !site.is_empty() && !site.contains('?'),
                "{what}: bad site in location path `{path}`"
            );
            let mut seen = BTreeSet::new();
            for g in &c.children {
                check_group(g, &g.name, Some(path), &mut seen);
            }
        } else {
            check_group(c, &c.name, None, &mut server_seen);
        }
    }
    doc
}

#[test]
fn every_fragment_is_well_formed_and_valid_against_the_iis_schema() {
    let mut count = 0;
    for ir in all_irs() {
        for f in iis(&ir).iter().filter(|f| f.path.ends_with(".config")) {
            check_fragment(text(f), &format!("{}/{}", ir.unit, f.path));
            assert!(!f.contents.contains(&b'\r'), "{}: LF line endings", f.path);
            count += 1;
        }
    }
    assert!(count >= 10, "fragments checked: {count}");
}

#[test]
fn the_validator_rejects_what_iis_would() {
    let bad = [
        r#"<configuration><system.webServer><security><access sslFlags="Ssl, SslMapCert"/></security></system.webServer></configuration>"#,
        r#"<configuration><system.webServer><serverRuntime uploadReadAheadSize="2147483648"/></system.webServer></configuration>"#,
        r#"<configuration><system.webServer><serverRuntime uploadReadAheadSzie="1"/></system.webServer></configuration>"#,
        r#"<configuration><system.webServer><security><authentication><clientCertificateMappingAuthentication enabled="True"/></authentication></security></system.webServer></configuration>"#,
        r#"<configuration><system.webServer><security><authentication><clientCertificateMappingAuthentication><oneToOneMappings/></clientCertificateMappingAuthentication></authentication></security></system.webServer></configuration>"#,
        r#"<configuration><location path="Default Web Site"><system.applicationHost><applicationPools><add name="P"/></applicationPools></system.applicationHost></location></configuration>"#,
        r#"<configuration><system.applicationHost><applicationPools><add name="P"><processModel identityType="NetworkServices"/></add></applicationPools></system.applicationHost></configuration>"#,
        r#"<configuration><system.webServer><security><authentication><windowsAuthentication><providers><add value="NTLM"/><add value="NTLM"/></providers></windowsAuthentication></authentication></security></system.webServer></configuration>"#,
        r#"<configuration><serverRuntime uploadReadAheadSize="1"/></configuration>"#,
        r#"<configuration><system.webServer><serverRuntime uploadReadAheadSize="1"/></system.webServer></configuration><configuration/>"#,
    ];
    for xml in bad {
        let r = std::panic::catch_unwind(|| check_fragment(xml, "bad"));
        assert!(r.is_err(), "accepted: {xml}");
    }
    check_fragment(
        r#"<configuration><location path="A/B" overrideMode="Allow"><system.webServer><security><access sslFlags="Ssl, SslNegotiateCert, SslRequireCert"/></security></system.webServer></location></configuration>"#,
        "good",
    );
}

// ---------------------------------------------------------------------------------------
// cmd: lines, tokens, appcmd commands

/// Splits a batch line into arguments as cmd and the C runtime would see them: quotes
/// group and disappear, `%%` is `%`, the rest of the line after `||` or a redirection is dropped.
fn cmd_args(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            '%' => {
                // `%%` is a literal `%`; a single `%` starts an expansion, and the script
                // only expands `%windir%` and `%~dp0` (a user string never may).
                if chars.peek() == Some(&'%') {
                    chars.next();
                    cur.push('%');
                } else {
                    let rest: String = chars.clone().collect();
                    let var = ["windir%", "~dp0", "STEP%", "CURRENT%"]
                        .into_iter()
                        .find(|v| rest.starts_with(v))
                        .unwrap_or_else(|| panic!("unescaped `%` in {line}"));
                    cur.push('%');
                    cur.push_str(var);
                    for _ in 0..var.len() {
                        chars.next();
                    }
                }
            }
            '>' if !quoted && cur.is_empty() => break,
            ' ' if !quoted => {
                if any || !cur.is_empty() {
                    if cur == "||" {
                        return args;
                    }
                    args.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => cur.push(c),
        }
    }
    assert!(!quoted, "unbalanced quotes in {line}");
    if any || !cur.is_empty() {
        args.push(cur);
    }
    args
}

/// An appcmd invocation.
#[derive(Debug)]
struct Appcmd {
    verb: String,
    object: String,
    target: Option<String>,
    section: Option<String>,
    settings: Vec<(String, String)>,
    commit: Option<String>,
}

fn appcmd_lines(cmd: &str) -> Vec<Appcmd> {
    let mut out = Vec::new();
    for line in cmd.split("\r\n").filter(|l| l.to_ascii_lowercase().contains("appcmd")) {
        if line.starts_with("REM") || line.starts_with("if not exist") {
            continue;
        }
        let args = cmd_args(line);
        assert_eq!(args[0], APPCMD, "appcmd is always the 64-bit one: {line}");
        let mut a = Appcmd {
            verb: args[1].clone(),
            object: args[2].clone(),
            target: None,
            section: None,
            settings: Vec::new(),
            commit: None,
        };
        for arg in &args[3..] {
            if let Some(s) = arg.strip_prefix("-section:").or_else(|| arg.strip_prefix("/section:")) {
                a.section = Some(s.to_string());
            } else if let Some(c) = arg.strip_prefix("/commit:") {
                a.commit = Some(c.to_string());
            } else if let Some(rest) = arg.strip_prefix('/') {
                // The attribute path ends at the first `:` outside a `[...]` selector.
                let mut depth = 0;
                let split = rest
                    .char_indices()
                    .find(|&(_, c)| {
                        match c {
                            '[' => depth += 1,
                            ']' => depth -= 1,
                            _ => {}
                        }
                        c == ':' && depth == 0
                    })
                    .map(|(i, _)| i)
                    .unwrap_or_else(|| panic!("no value in {arg}: {line}"));
                a.settings
                    .push((rest[..split].to_string(), rest[split + 1..].to_string()));
            } else {
                assert!(
                    a.target.is_none() && a.section.is_none(),
                    "stray argument {arg}: {line}"
                );
                a.target = Some(arg.clone());
            }
        }
        out.push(a);
    }
    out
}

/// Checks one `set config` setting: `attr`, `element.attr` or `[key='v'].element.attr`.
fn check_setting(section: &Value, path: &str, value: &str, what: &str) {
    let mut def = section.clone();
    let mut rest = path;
    if let Some(sel) = rest.strip_prefix('[') {
        let (selector, after) = sel
            .split_once(']')
            .unwrap_or_else(|| panic!("{what}: bad selector {path}"));
        let coll = def
            .get("collection")
            .unwrap_or_else(|| panic!("{what}: no collection for {path}"));
        for part in selector.split(',') {
            let (k, v) = part
                .split_once('=')
                .unwrap_or_else(|| panic!("{what}: bad selector {part}"));
            let v = v.trim_matches('\'');
            let a = coll["item_attributes"]
                .get(k)
                .unwrap_or_else(|| panic!("{what}: unknown key {k}"));
            assert!(
                a.get("isUniqueKey").is_some() || a.get("isCombinedKey").is_some(),
                "{what}: {k} is not a key"
            );
            check_value(v, a, &format!("{what}: [{k}]"));
        }
        def = serde_json::json!({
            "attributes": coll["item_attributes"],
            "elements": coll.get("item_elements").cloned().unwrap_or(serde_json::json!({})),
        });
        rest = after
            .strip_prefix('.')
            .unwrap_or_else(|| panic!("{what}: nothing after the selector in {path}"));
    }
    let parts: Vec<&str> = rest.split('.').collect();
    for el in &parts[..parts.len() - 1] {
        def = def["elements"]
            .get(el)
            .unwrap_or_else(|| panic!("{what}: unknown element `{el}` in {path}"))
            .clone();
    }
    let attr = parts[parts.len() - 1];
    let a = def["attributes"]
        .get(attr)
        .unwrap_or_else(|| panic!("{what}: unknown attribute `{attr}` in {path}"));
    check_value(value, a, &format!("{what}: {path}"));
}

#[test]
fn every_appcmd_line_is_real_and_commits_to_apphost() {
    let mut sets = 0;
    for ir in all_irs() {
        for f in iis(&ir) {
            let t = text(&f);
            let lower = t.to_ascii_lowercase();
            assert!(!lower.contains("syswow64"), "{}: names SysWOW64", f.path);
            assert!(!lower.contains("unlock"), "{}: unlocks a section", f.path);
            if !f.path.ends_with(".cmd") {
                continue;
            }
            assert!(
                !t.replace("\r\n", "").contains('\n'),
                "{}: CRLF line endings only",
                f.path
            );
            assert!(t.ends_with("\r\n"), "{}: ends with CRLF", f.path);
            assert!(t.is_ascii(), "{}: ASCII only", f.path);
            assert!(
                t.contains("setlocal EnableExtensions DisableDelayedExpansion"),
                "{}",
                f.path
            );
            for a in appcmd_lines(t) {
                let what = format!("{}: {a:?}", f.path);
                match (a.verb.as_str(), a.object.as_str()) {
                    ("set", "config") => {
                        sets += 1;
                        assert_eq!(a.commit.as_deref(), Some("apphost"), "{what}");
                        let name = a.section.as_deref().unwrap_or_else(|| panic!("{what}: no section"));
                        let section = schema()["sections"]
                            .get(name)
                            .unwrap_or_else(|| panic!("{what}: unknown section {name}"));
                        if section["allowDefinition"].as_str() == Some("AppHostOnly") {
                            assert!(a.target.is_none(), "{what}: AppHostOnly section with a path");
                        }
                        assert!(!a.settings.is_empty(), "{what}: sets nothing");
                        for (path, value) in &a.settings {
                            assert!(
                                !path.starts_with(['+', '-', '~']),
                                "{what}: collection edits are not idempotent"
                            );
                            check_setting(section, path, value, &what);
                        }
                    }
                    ("list", "site" | "app") => {
                        assert!(a.target.is_some() && a.settings.is_empty(), "{what}");
                    }
                    ("list", "apppool") => {
                        assert!(a.target.is_some(), "{what}");
                        for (k, v) in &a.settings {
                            assert_eq!(
                                (k.as_str(), v.as_str()),
                                ("text", "processModel.identityType"),
                                "{what}"
                            );
                        }
                    }
                    ("list", "config") => {
                        // Reads one attribute to compare it: it must exist in the section.
                        let name = a.section.as_deref().unwrap_or_else(|| panic!("{what}: no section"));
                        let section = schema()["sections"]
                            .get(name)
                            .unwrap_or_else(|| panic!("{what}: unknown section {name}"));
                        assert_eq!(a.settings.len(), 1, "{what}");
                        let (k, attr) = &a.settings[0];
                        assert_eq!(k, "text", "{what}");
                        assert!(
                            section["attributes"].get(attr.as_str()).is_some(),
                            "{what}: unknown attribute {attr}"
                        );
                    }
                    _ => panic!("{what}: unexpected appcmd verb"),
                }
            }
        }
    }
    assert!(sets >= 30, "set config lines checked: {sets}");
}

#[test]
fn the_appcmd_checker_rejects_what_appcmd_would() {
    let good = format!("{APPCMD} set config \"Default Web Site\" -section:system.webServer/serverRuntime /uploadReadAheadSize:\"10485760\" /commit:apphost || goto :fail\r\n");
    let a = &appcmd_lines(&good)[0];
    assert_eq!(a.target.as_deref(), Some("Default Web Site"));
    let section = &schema()["sections"]["system.webServer/serverRuntime"];
    check_setting(section, "uploadReadAheadSize", "10485760", "good");
    let pools = &schema()["sections"]["system.applicationHost/applicationPools"];
    check_setting(
        pools,
        "[name='Secure Email Gateway'].processModel.identityType",
        "NetworkService",
        "good",
    );
    let bad: [(&Value, &str, &str); 4] = [
        (section, "uploadReadAheadSize", "-1"),
        (section, "uploadReadAheadSzie", "1"),
        (pools, "[name='P'].processModel.identityType", "Network Service"),
        (pools, "[name='P'].processModel.identity", "NetworkService"),
    ];
    for (s, path, value) in bad {
        let r = std::panic::catch_unwind(|| check_setting(s, path, value, "bad"));
        assert!(r.is_err(), "accepted {path}={value}");
    }
    assert_eq!(
        cmd_args("x \"a & b 100%%\" /y:\"1, 2\" || goto :fail"),
        ["x", "a & b 100%", "/y:1, 2"]
    );
}

// ---------------------------------------------------------------------------------------
// Scenarios

/// The settings of one host's fragment that the scenarios care about.
struct Fragment {
    doc: El,
}

impl Fragment {
    fn of(files: &[OutputFile], host: &str) -> Self {
        Fragment {
            doc: parse_xml(text(file(files, host, "applicationHost.fragment.config"))),
        }
    }

    fn server(&self, path: &str, attr: &str) -> Option<&str> {
        self.doc.at(path)?.attr(attr)
    }

    fn at(&self, location: &str, path: &str, attr: &str) -> Option<&str> {
        self.doc.location(location)?.at(path)?.attr(attr)
    }
}

const AUTH: &str = "system.webServer/security/authentication";

fn assert_certificate_auth(files: &[OutputFile], host: &str, location: &str, certs: ClientCerts, basic: bool) {
    let f = Fragment::of(files, host);
    let flags = match certs {
        ClientCerts::Require => "Ssl, SslNegotiateCert, SslRequireCert",
        ClientCerts::Accept => "Ssl, SslNegotiateCert",
        ClientCerts::Ignore => "Ssl",
    };
    let ctx = format!("{host} {location}");
    assert_eq!(
        f.server(&format!("{AUTH}/clientCertificateMappingAuthentication"), "enabled"),
        Some("true"),
        "{ctx}: server-level AD certificate mapping"
    );
    assert_eq!(
        f.server("system.webServer/serverRuntime", "uploadReadAheadSize"),
        Some("10485760"),
        "{ctx}: server-level uploadReadAheadSize"
    );
    assert_eq!(
        f.at(location, "system.webServer/security/access", "sslFlags"),
        Some(flags),
        "{ctx}"
    );
    assert_eq!(
        f.at(
            location,
            &format!("{AUTH}/clientCertificateMappingAuthentication"),
            "enabled"
        ),
        Some("true"),
        "{ctx}"
    );
    assert_eq!(
        f.at(location, &format!("{AUTH}/basicAuthentication"), "enabled"),
        Some(if basic { "true" } else { "false" }),
        "{ctx}"
    );
    assert_eq!(
        f.at(location, &format!("{AUTH}/anonymousAuthentication"), "enabled"),
        Some("false"),
        "{ctx}"
    );
    let site = location.split('/').next().expect("site");
    assert_eq!(
        f.at(site, "system.webServer/serverRuntime", "uploadReadAheadSize"),
        Some("10485760"),
        "{ctx}: site-level uploadReadAheadSize"
    );
    let cmd = text(file(files, host, "configure-iis.cmd"));
    assert!(
        cmd.contains("Add-WindowsFeature -Name Web-Client-Auth"),
        "{ctx}: role service"
    );
    assert!(
        cmd.contains("\r\nif not defined RESTART goto :no_restart\r\n")
            && cmd.contains("\r\niisreset /noforce || goto :fail\r\n"),
        "{ctx}: iisreset only when needed"
    );
    let ps = text(file(files, host, "configure-iis.ps1"));
    assert!(
        ps.contains("$wanted['dsmapperusage'] = 'enable'"),
        "{ctx}: DS mapper on the binding"
    );
    assert!(
        ps.contains("[switch] $NegotiateClientCertificate"),
        "{ctx}: client certificate negotiation offered"
    );
    assert!(
        ps.contains("& netsh.exe http update sslcert @after"),
        "{ctx}: binding updated in place"
    );
}

fn assert_no_certificate_auth(files: &[OutputFile], host: &str) {
    let f = Fragment::of(files, host);
    for l in f.doc.locations() {
        assert!(
            l.at("system.webServer/security/access").is_none(),
            "{host}: sslFlags set"
        );
        let mapping = l.at(&format!("{AUTH}/clientCertificateMappingAuthentication"));
        assert!(mapping.is_none(), "{host}: certificate mapping set");
    }
    assert!(f.doc.at("system.webServer").is_none(), "{host}: server-level settings");
}

fn assert_windows_auth(files: &[OutputFile], host: &str, location: &str) {
    let f = Fragment::of(files, host);
    let w = f
        .doc
        .location(location)
        .and_then(|l| l.at(&format!("{AUTH}/windowsAuthentication")))
        .unwrap_or_else(|| panic!("{host}: no windowsAuthentication at {location}"));
    assert_eq!(w.attr("enabled"), Some("true"), "{host}");
    let providers: Vec<String> = w
        .at("providers")
        .expect("providers")
        .children
        .iter()
        .map(|c| {
            format!(
                "{}{}",
                c.name,
                c.attr("value").map(|v| format!("={v}")).unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(providers, ["clear", "add=Negotiate", "add=NTLM"], "{host}");
    let ps = text(file(files, host, "configure-iis.ps1"));
    assert!(
        ps.contains("$wanted = @('Negotiate', 'NTLM')") && ps.contains("$providers.Clear()"),
        "{host}"
    );
    let cmd = text(file(files, host, "configure-iis.cmd"));
    assert!(
        cmd.contains(&format!(
            "-section:{AUTH}/windowsAuthentication /enabled:\"true\" /commit:apphost"
        )),
        "{host}"
    );
}

#[test]
fn s3_s4_s5_eas_servers_get_certificate_mapping_ssl_and_read_ahead() {
    let irs = example_irs();
    let eas = format!("Default Web Site/{EAS}");
    let s3 = iis(unit(&irs, "s3-eas-client-certs"));
    // Ruling (b): "certificate and password" requires the certificate (Basic stays on).
    assert_certificate_auth(&s3, "exch1", &eas, ClientCerts::Require, true);
    for name in ["s4-ws1-scep", "s5-ws1-adcs"] {
        let files = iis(unit(&irs, name));
        assert_certificate_auth(&files, "eas01", &eas, ClientCerts::Require, false);
        let f = Fragment::of(&files, "eas01");
        for off in ["digestAuthentication", "windowsAuthentication"] {
            assert_eq!(
                f.at(&eas, &format!("{AUTH}/{off}"), "enabled"),
                Some("false"),
                "{name}: certificate only"
            );
        }
    }
}

#[test]
fn s6_s7_certificates_terminate_where_the_chain_says_and_the_eas_behind_gets_windows_auth() {
    let irs = example_irs();
    let eas = format!("Default Web Site/{EAS}");

    let s6 = iis(unit(&irs, "s6-seg-kcd"));
    assert_certificate_auth(&s6, "seg01", &eas, ClientCerts::Require, false);
    // S6-1: the SEG's certificate settings belong to its ActiveSync application, not the site:
    // its other endpoints and load-balancer probes must not answer 403.7.
    let seg_site = Fragment::of(&s6, "seg01");
    assert!(
        seg_site
            .at("Default Web Site", "system.webServer/security/access", "sslFlags")
            .is_none(),
        "seg01: no sslFlags on the whole site"
    );
    let seg = Fragment::of(&s6, "seg01");
    assert_eq!(
        seg.doc
            .at("system.applicationHost/applicationPools/add/processModel")
            .and_then(|p| p.attr("identityType")),
        Some("NetworkService")
    );
    assert_eq!(
        seg.doc
            .at("system.applicationHost/applicationPools/add")
            .and_then(|p| p.attr("name")),
        Some("SecureEmailGateway")
    );
    for cas in ["cas01", "cas02"] {
        assert_windows_auth(&s6, cas, &eas);
        assert_no_certificate_auth(&s6, cas);
    }

    // S7a: TMG's web listener terminates the device's TLS and authenticates the
    // certificate; eas01 behind it accepts TMG's delegated Kerberos ticket and never asks
    // for a certificate (it would answer 403.7: no certificate reaches it).
    let tmg_eas = iis(unit(&irs, "s7-tmg-eas"));
    assert_windows_auth(&tmg_eas, "eas01", &eas);
    assert_no_certificate_auth(&tmg_eas, "eas01");
    assert!(
        tmg_eas.iter().all(|f| f.host.as_deref() == Some("eas01")),
        "only the EAS server gets IIS files"
    );

    let tmg_seg = iis(unit(&irs, "s7-tmg-seg-eas"));
    assert_certificate_auth(&tmg_seg, "seg01", &eas, ClientCerts::Require, false);
    assert_windows_auth(&tmg_seg, "eas01", &eas);
    assert_no_certificate_auth(&tmg_seg, "eas01");
    assert!(
        tmg_seg.iter().all(|f| f.host.as_deref() != Some("tmg01")),
        "TMG is not an IIS host"
    );

    for name in ["s1-one-mail", "s2-smime-cloud", "s2-smime-hybrid"] {
        assert!(iis(unit(&irs, name)).is_empty(), "{name} has no IIS host");
    }
}

#[test]
fn every_file_names_the_operations_it_carries_out() {
    for ir in all_irs() {
        let files = iis(&ir);
        let owned: BTreeSet<&str> = ir
            .operations
            .iter()
            .filter(|op| mailsec::backend::owner(op, &ir) == Some(Target::Iis))
            .map(|op| op.id.as_str())
            .collect();
        let covered: BTreeSet<&str> = files
            .iter()
            .flat_map(|f| f.operations.iter().map(String::as_str))
            .collect();
        assert_eq!(owned, covered, "{}: every IIS operation is in a file", ir.unit);
        for f in &files {
            assert_eq!(f.target, Target::Iis);
            let host = f.host.as_deref().expect("per host");
            for id in &f.operations {
                let op = ir.operations.iter().find(|o| &o.id == id).expect("known op");
                assert_eq!(op.host, host, "{}: {id} belongs to its host", f.path);
                assert!(text(f).contains(id.as_str()), "{}: names {id}", f.path);
            }
            let parts: Vec<&str> = f.path.split('/').collect();
            assert_eq!(parts.len(), 3, "{}: iis/<host>/<file>", f.path);
            assert_eq!(parts[0], "iis");
            assert_eq!(parts[1], mailsec::backend::sanitize_component(host), "{}", f.path);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Site names

#[test]
fn the_site_name_from_the_intent_is_used_exactly_everywhere() {
    let irs = fixture_irs();
    for (name, host, site, app) in [
        ("custom-site", "mail01", "Exchange Site & Co (100%) ^!", Some(EAS)),
        ("seg-custom", "gw01", "SEG & Mail 50%", Some(EAS)),
    ] {
        let ir = unit(&irs, name);
        assert!(
            ir.operations
                .iter()
                .any(|op| matches!(&op.action, Action::IisClientCertificates { site: s, .. } if s == site)),
            "{name}: the IR carries the site"
        );
        let files = iis(ir);
        let expected: BTreeSet<String> = [Some(site.to_string()), app.map(|a| format!("{site}/{a}"))]
            .into_iter()
            .flatten()
            .collect();

        let doc = parse_xml(text(file(&files, host, "applicationHost.fragment.config")));
        let paths: BTreeSet<String> = doc
            .locations()
            .iter()
            .filter_map(|l| l.attr("path"))
            .map(str::to_string)
            .collect();
        assert_eq!(paths, expected, "{name}: every <location path> names the site exactly");

        let cmd = text(file(&files, host, "configure-iis.cmd"));
        let targets: BTreeSet<String> = appcmd_lines(cmd)
            .into_iter()
            .filter(|a| a.object == "config" || a.object == "site" || a.object == "app")
            .filter_map(|a| a.target)
            .collect();
        assert_eq!(targets, expected, "{name}: every appcmd target names the site exactly");
        let ps = text(file(&files, host, "configure-iis.ps1"));
        assert!(
            ps.contains(&format!("$sites = @('{}')", site.replace('\'', "''"))),
            "{name}: the binding list is read from the site's own bindings"
        );
        for f in files.iter().filter(|f| f.host.as_deref() == Some(host)) {
            let t = text(f);
            assert!(
                !t.contains("Default Web Site") && !t.contains("Default Website"),
                "{}",
                f.path
            );
        }
    }
    // The Exchange server behind the custom SEG keeps the organization's default site.
    let seg = iis(unit(&irs, "seg-custom"));
    assert_windows_auth(&seg, "ex01", &format!("Default Web Site/{EAS}"));
}

#[test]
fn names_a_script_cannot_carry_are_refused_not_rendered() {
    let template = |setting: &str| {
        format!(
            r#"organization "X" {{
  smtp_domains = [x.example]
  exchange     = 2016
}}
server mail01 {{
  fqdn  = mail01.x.example
  roles = [client_access, mailbox, eas, seg]
}}
authority r {{
  kind        = external
  common_name = "R"
  certificate = file("r.cer")
  ntauth      = true
}}
{setting}
"#
        )
    };
    let eas = |extra: &str| {
        template(&format!(
            "activesync e {{\n  server = mail01\n  auth = certificate\n  authority = r\n  {extra}\n}}"
        ))
    };
    let seg = |extra: &str| {
        template(&format!(
            "seg g {{\n  server = mail01\n  exchange_host = mail.x.example\n  auth = certificate\n  authority = r\n  {extra}\n}}"
        ))
    };
    let cases = [
        eas(r#"site = "Say \"hi\"""#),
        eas(r#"site = "two\nlines""#),
        eas(r#"site = "Caf\u{e9}""#),
        eas(r#"site = "a/b""#),
        eas("upload_read_ahead = 3GiB"),
        seg(r#"app_pool = "O'Brien""#),
        seg(r#"app_pool = "a&b""#),
    ];
    for text in cases {
        let c = compile_text("hostile.mailsec", &text);
        let Some(ir) = c.ir.as_ref() else {
            continue; // the checker refused it: even better
        };
        let err = render(Target::Iis, ir).expect_err(&text);
        assert_eq!(err.target, "iis");
        assert!(err.message.contains("checker should refuse"), "{}", err.message);
    }
}

// ---------------------------------------------------------------------------------------
// PowerShell companion, determinism, snapshots

#[test]
fn the_powershell_companion_parses() {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("PowerShell grammar");
    let mut count = 0;
    for ir in all_irs() {
        for f in iis(&ir).iter().filter(|f| f.path.ends_with(".ps1")) {
            let t = text(f);
            let tree = parser.parse(t, None).expect("parse");
            assert!(!tree.root_node().has_error(), "{}: does not parse:\n{t}", f.path);
            assert!(t.is_ascii(), "{}: ASCII only", f.path);
            assert!(t.contains("Set-StrictMode -Version Latest") && t.contains("$ErrorActionPreference = 'Stop'"));
            assert!(t.contains("SupportsShouldProcess = $true"), "{}: -WhatIf", f.path);
            count += 1;
        }
    }
    assert!(count >= 8, "companions checked: {count}");
}

#[test]
fn output_is_deterministic() {
    for ir in all_irs() {
        assert_eq!(iis(&ir), iis(&ir), "{}", ir.unit);
    }
}

#[test]
fn snapshots() {
    for ir in all_irs() {
        for f in iis(&ir) {
            let name = format!("{}__{}", ir.unit, f.path.trim_start_matches("iis/").replace('/', "__"));
            // Snapshots show LF; the CRLF of .cmd files is asserted above.
            let body = text(&f).replace("\r\n", "\n");
            insta::with_settings!({snapshot_path => "../snapshots/iis", prepend_module_to_snapshot => false}, {
                insta::assert_snapshot!(name, body);
            });
        }
    }
}

// ---------------------------------------------------------------------------------------
// Idempotence: the generated cmd script run against a model of applicationHost.config

/// A model of what `configure-iis.cmd` touches: explicit attribute values per
/// (path, section, attribute) (`""` = server level), application pool identities, and what
/// a run did.
#[derive(Default, Clone)]
struct Server {
    config: std::collections::BTreeMap<(String, String, String), String>,
    pools: std::collections::BTreeMap<String, String>,
    writes: Vec<String>,
    restarts: usize,
}

impl Server {
    /// The value in effect at `path`: set there, at a parent path, at the server, or the
    /// schema default.
    fn effective(&self, path: &str, section: &str, attr: &str) -> String {
        let mut p = path.to_string();
        loop {
            if let Some(v) = self.config.get(&(p.clone(), section.to_string(), attr.to_string())) {
                return v.clone();
            }
            if p.is_empty() {
                break;
            }
            p = p.rsplit_once('/').map(|(a, _)| a.to_string()).unwrap_or_default();
        }
        let def = &schema()["sections"][section]["attributes"][attr]["default"];
        match def {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        }
    }

    /// Runs the script: the subset of cmd it is written in (labels, goto, set, if, findstr,
    /// appcmd, iisreset); anything else is a test failure.
    fn run(&mut self, script: &str) {
        self.writes.clear();
        self.restarts = 0;
        let lines: Vec<&str> = script.split("\r\n").collect();
        let label = |l: &str| {
            lines
                .iter()
                .position(|x| *x == l)
                .unwrap_or_else(|| panic!("no label {l}"))
        };
        let mut vars: std::collections::BTreeMap<String, String> = Default::default();
        let mut current = String::new();
        let mut pc = 0;
        let mut steps = 0;
        while pc < lines.len() {
            steps += 1;
            assert!(steps < 100_000, "the script loops");
            let mut line = lines[pc].trim().to_string();
            pc += 1;
            // `if [/i] [not] defined X rest` and `if /i "%VALUE: =%"=="v" rest`.
            if let Some(rest) = line
                .strip_prefix("if not defined ")
                .or_else(|| line.strip_prefix("if defined "))
            {
                let negate = line.starts_with("if not");
                let (var, rest) = rest.split_once(' ').expect("if defined X cmd");
                if vars.contains_key(var) == negate {
                    continue;
                }
                line = rest.to_string();
            } else if let Some(rest) = line.strip_prefix("if /i \"%VALUE: =%\"==\"") {
                let (want, rest) = rest.split_once("\" ").expect("if compare");
                let have = vars.get("VALUE").cloned().unwrap_or_default().replace(' ', "");
                if !have.eq_ignore_ascii_case(want) {
                    continue;
                }
                line = rest.to_string();
            }
            if line.is_empty()
                || line.starts_with("REM")
                || line.starts_with("echo ")
                || line.starts_with(':')
                || line.starts_with("@echo")
                || line.starts_with("setlocal")
                || line.starts_with("net session")
                || line.starts_with("if not exist")
                || line.starts_with("if defined PROCESSOR_ARCHITEW6432")
                || line.starts_with("del ")
                || line.starts_with("powershell.exe ")
            {
                continue;
            }
            if let Some(l) = line.strip_prefix("goto ") {
                if l == ":fail" {
                    panic!("the script failed before line {pc}");
                }
                pc = label(l);
                continue;
            }
            if line.starts_with("exit /b") {
                return;
            }
            if line == "set \"VALUE=-\" & set /p VALUE=<\"%CURRENT%\"" {
                let v = current.lines().next().unwrap_or("").to_string();
                vars.insert("VALUE".into(), if v.is_empty() { "-".into() } else { v });
                continue;
            }
            if let Some(rest) = line.strip_prefix("set \"") {
                let (k, v) = rest.trim_end_matches('"').split_once('=').expect("set K=V");
                if v.is_empty() {
                    vars.remove(k);
                } else {
                    vars.insert(k.into(), v.into());
                }
                continue;
            }
            if let Some(rest) = line.strip_prefix("findstr /i /l /c:\"") {
                let (needle, rest) = rest.split_once('"').expect("findstr needle");
                let l = rest.rsplit_once("&& goto ").expect("findstr && goto").1;
                if current.to_ascii_lowercase().contains(&needle.to_ascii_lowercase()) {
                    pc = label(l);
                }
                continue;
            }
            if line.starts_with("iisreset") {
                self.restarts += 1;
                continue;
            }
            let a = appcmd_lines(&format!("{line}\r\n"))
                .pop()
                .unwrap_or_else(|| panic!("unexpected line {line}"));
            let path = a.target.clone().unwrap_or_default();
            match (a.verb.as_str(), a.object.as_str()) {
                ("list", "config") => {
                    let section = a.section.as_deref().expect("section");
                    current = self.effective(&path, section, &a.settings[0].1);
                }
                ("list", "apppool") if !a.settings.is_empty() => {
                    current = self
                        .pools
                        .get(&path)
                        .cloned()
                        .unwrap_or_else(|| "ApplicationPoolIdentity".into());
                }
                ("list", _) => {}
                ("set", "config") => {
                    let section = a.section.clone().expect("section");
                    for (k, v) in &a.settings {
                        if let Some(sel) = k.strip_prefix("[name='") {
                            let (pool, _) = sel.split_once("']").expect("pool selector");
                            self.pools.insert(pool.into(), v.clone());
                        } else {
                            self.config
                                .insert((path.clone(), section.clone(), k.clone()), v.clone());
                        }
                        self.writes.push(format!("{path} {section}@{k}={v}"));
                    }
                }
                _ => panic!("unexpected appcmd line {line}"),
            }
        }
        panic!("the script ran off its end");
    }
}

/// Every attribute of a fragment, as (path, section, attribute, value); `""` = server.
fn fragment_settings(doc: &El) -> Vec<(String, String, String, String)> {
    fn walk(el: &El, prefix: &str, path: &str, out: &mut Vec<(String, String, String, String)>) {
        let here = if prefix.is_empty() {
            el.name.clone()
        } else {
            format!("{prefix}/{}", el.name)
        };
        if schema()["sections"].get(&here).is_some() {
            for (k, v) in &el.attrs {
                out.push((path.into(), here.clone(), k.clone(), v.clone()));
            }
            return;
        }
        for c in &el.children {
            walk(c, &here, path, out);
        }
    }
    let mut out = Vec::new();
    for c in &doc.children {
        if c.name == "location" {
            let path = c.attr("path").expect("path").to_string();
            for g in &c.children {
                walk(g, "", &path, &mut out);
            }
        } else if c.name != "system.applicationHost" {
            walk(c, "", "", &mut out);
        }
    }
    out
}

#[test]
fn a_second_run_of_the_cmd_script_changes_nothing_and_restarts_nothing() {
    let mut checked = 0;
    for ir in all_irs() {
        let files = iis(&ir);
        for f in files.iter().filter(|f| f.path.ends_with(".cmd")) {
            let host = f.host.as_deref().expect("host");
            let mut server = Server::default();
            server.run(text(f));
            let first = server.writes.len();
            let mapping = text(f).contains("clientCertificateMappingAuthentication");
            assert!(first > 0, "{}: a first run on a fresh server writes", f.path);
            assert_eq!(
                server.restarts,
                usize::from(mapping),
                "{}: first run restarts IIS once if it maps certificates",
                f.path
            );
            // The script makes the fragment's change: every fragment value is in effect.
            let doc = parse_xml(text(file(&files, host, "applicationHost.fragment.config")));
            for (path, section, attr, value) in fragment_settings(&doc) {
                assert_eq!(
                    server.effective(&path, &section, &attr),
                    value,
                    "{}: {path} {section}@{attr}",
                    f.path
                );
            }
            server.run(text(f));
            assert!(
                server.writes.is_empty(),
                "{}: second run writes {:?}",
                f.path,
                server.writes
            );
            assert_eq!(server.restarts, 0, "{}: second run restarts IIS", f.path);
            checked += 1;
        }
    }
    assert!(checked >= 10, "scripts run: {checked}");
}

#[test]
fn only_a_changed_certificate_mapping_restarts_iis_and_ssl128_is_kept() {
    let irs = example_irs();
    let files = iis(unit(&irs, "s4-ws1-scep"));
    let script = text(file(&files, "eas01", "configure-iis.cmd"));
    let eas = format!("Default Web Site/{EAS}");
    let access = "system.webServer/security/access".to_string();
    let mapping = format!("{AUTH}/clientCertificateMappingAuthentication");

    // "Require 128-bit SSL" already on: kept.
    let mut server = Server::default();
    server
        .config
        .insert((eas.clone(), access.clone(), "sslFlags".into()), "Ssl, Ssl128".into());
    server.run(script);
    assert_eq!(
        server.effective(&eas, &access, "sslFlags"),
        "Ssl, SslNegotiateCert, SslRequireCert, Ssl128"
    );
    server.run(script);
    assert!(server.writes.is_empty(), "{:?}", server.writes);

    // The mapping already on everywhere, one other value off: written, no restart.
    let mut server = Server::default();
    server.run(script);
    server.config.insert(
        (
            String::new(),
            "system.webServer/serverRuntime".into(),
            "uploadReadAheadSize".into(),
        ),
        "49152".into(),
    );
    server.run(script);
    assert_eq!(server.writes.len(), 1, "{:?}", server.writes);
    assert_eq!(server.restarts, 0, "no restart for uploadReadAheadSize");

    // The mapping switched off by someone: written again, and IIS restarts.
    server
        .config
        .insert((eas.clone(), mapping.clone(), "enabled".into()), "false".into());
    server.run(script);
    assert_eq!(server.writes, [format!("{eas} {mapping}@enabled=true")]);
    assert_eq!(server.restarts, 1);
    assert!(script.contains("REM IIS restarts only if the AD client certificate mapping was changed"));
    assert!(
        script.contains("W3SVC, WAS and IISADMIN"),
        "the script says which services restart"
    );
}

#[test]
fn fragments_lift_no_lock() {
    // The script writes with /commit:apphost and unlocks nothing; an overrideMode="Allow"
    // in the fragment would let the application's web.config weaken the settings.
    for ir in all_irs() {
        for f in iis(&ir).iter().filter(|f| f.path.ends_with(".config")) {
            let doc = parse_xml(text(f));
            for l in doc.locations() {
                assert_eq!(l.attr("overrideMode"), None, "{}: {:?}", f.path, l.attr("path"));
            }
        }
    }
}

#[test]
fn the_ssl_binding_is_read_compared_and_carried_whole() {
    // Every field netsh http show sslcert prints on Windows Server 2008 R2, and the
    // netsh http add parameter that carries it.
    let fields = [
        ("Certificate Hash", "certhash"),
        ("Application ID", "appid"),
        ("Certificate Store Name", "certstorename"),
        ("Verify Client Certificate Revocation", "verifyclientcertrevocation"),
        (
            "Verify Revocation Using Cached Client Certificate Only",
            "verifyrevocationwithcachedclientcertonly",
        ),
        ("Usage Check", "usagecheck"),
        ("Revocation Freshness Time", "revocationfreshnesstime"),
        ("URL Retrieval Timeout", "urlretrievaltimeout"),
        ("Ctl Identifier", "sslctlidentifier"),
        ("Ctl Store Name", "sslctlstorename"),
        ("DS Mapper Usage", "dsmapperusage"),
        ("Negotiate Client Certificate", "clientcertnegotiation"),
    ];
    let mut checked = 0;
    for ir in all_irs() {
        for f in iis(&ir).iter().filter(|f| f.path.ends_with(".ps1")) {
            let t = text(f);
            if !t.contains("netsh.exe") {
                continue;
            }
            for (label, parameter) in fields {
                assert!(
                    t.contains(&format!("    '{label}' = '{parameter}'\n")),
                    "{}: {label}",
                    f.path
                );
            }
            // Nothing is written before the comparison says something differs.
            let compare = t.find("if ($changes.Count -eq 0) {").expect("comparison");
            for write in ["http update sslcert", "http delete sslcert", "http add sslcert"] {
                let at = t.find(write).unwrap_or_else(|| panic!("{}: {write}", f.path));
                assert!(at > compare, "{}: {write} before the comparison", f.path);
            }
            // Delete and add only where update does not exist, with every field.
            let legacy = t.find("if (-not $legacy) {").expect("legacy branch");
            assert!(t.find("http delete sslcert").expect("delete") > legacy);
            assert!(
                t.contains("& netsh.exe http add sslcert @after") && t.contains("& netsh.exe http add sslcert @before")
            );
            // I-3: the server-wide first-handshake negotiation is an opt-in, never a default.
            assert!(!t.contains("'clientcertnegotiation=enable'"), "{}", f.path);
            assert!(
                t.contains(
                    "    if ($NegotiateClientCertificate) {\n        $wanted['clientcertnegotiation'] = 'enable'"
                ),
                "{}",
                f.path
            );
            // I-4: the bindings default to the site's https bindings in applicationHost.config.
            assert!(t.contains("[string[]] $IpPort = @()"), "{}", f.path);
            assert!(t.contains("& $appcmd list site $site /text:bindings"), "{}", f.path);
            checked += 1;
        }
    }
    // S7's EAS server behind TMG accepts Kerberos and has no certificate binding to carry.
    assert!(checked >= 7, "companions checked: {checked}");
}

/// A SEG's `certificate` (S7 TMG→SEG→EAS: TMG passes TLS through, so devices see the SEG's
/// certificate): the companion binds the issued certificate's thumbprint to the site's HTTP.sys
/// SSL binding through the same read-compare-carry path, and no other host's binding changes
/// its certificate.
#[test]
fn a_segs_certificate_is_bound_by_the_issued_thumbprint() {
    let mut bound = 0;
    for ir in all_irs() {
        let seg_cert = ir.operations.iter().find_map(|o| match &o.action {
            mailsec::ir::Action::SegConfig {
                certificate: Some(c), ..
            } => Some((o.host.clone(), c.clone())),
            _ => None,
        });
        for f in iis(&ir).iter().filter(|f| f.path.ends_with("configure-iis.ps1")) {
            let t = text(f);
            let binds = t.contains("$wanted['certhash'] = $certificateHash");
            let here = seg_cert
                .as_ref()
                .is_some_and(|(h, _)| f.host.as_deref() == Some(h.as_str()));
            assert_eq!(binds, here, "{}/{}", ir.unit, f.path);
            if !here {
                continue;
            }
            let (_, cert) = seg_cert.as_ref().expect("seg certificate");
            assert!(t.contains(&format!("$issuedFile = '{cert}.cer'")), "{}", f.path);
            assert!(
                t.contains("[string] $FilesRoot = (Get-Location).ProviderPath"),
                "{}",
                f.path
            );
            // Found by the issued file's thumbprint, and only bound once installed with its key.
            let hash = t
                .find("$certificateHash = $leaf[0].Thumbprint")
                .expect("thumbprint from the file");
            let installed = t
                .find("$_.Thumbprint -eq $certificateHash -and $_.HasPrivateKey")
                .expect("installed check");
            let compare = t.find("if ($changes.Count -eq 0) {").expect("comparison");
            assert!(hash < installed && installed < compare, "{}", f.path);
            bound += 1;
        }
    }
    assert_eq!(bound, 1, "S7 TMG→SEG→EAS binds its SEG certificate");
}
