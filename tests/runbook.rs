//! Tests: the `runbook` backend. Every unit gets a Markdown and an HTML runbook; every
//! scripted step links the exchange/iis file that carries it out, and every link resolves to
//! a generated file; the HTML parses cleanly and loads nothing from elsewhere; user strings
//! cannot create elements; S1 reads in the ONE Mail guide's order, S6/S7 carry delegation,
//! SPN and troubleshooting; warnings, gates, manual values and rollbacks are where they
//! belong; output is deterministic; snapshots of every example.

use crate::common::{compile_dir, example_irs, root};
use mailsec::backend::{owner, render, OutputFile, Target};
use mailsec::ir::{Action, Gate, Ir};
use scraper::{ElementRef, Html, Selector};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------
// Inputs and helpers

fn fixture_irs() -> Vec<Ir> {
    let mut irs = Vec::new();
    for c in compile_dir(&root().join("tests/fixtures/runbook")) {
        if c.unit.is_some() {
            assert!(!c.diags.has_errors(), "fixture {} has errors: {:?}", c.name, c.diags);
            irs.push(c.ir.expect("a clean unit lowers"));
        }
    }
    assert!(irs.len() >= 2, "runbook fixtures found");
    irs
}

fn all_irs() -> Vec<Ir> {
    let mut irs = example_irs();
    irs.extend(fixture_irs());
    irs
}

fn unit<'a>(irs: &'a [Ir], name: &str) -> &'a Ir {
    irs.iter()
        .find(|i| i.unit == name)
        .unwrap_or_else(|| panic!("unit {name}"))
}

/// The Markdown and the HTML runbook of a unit.
fn runbook(ir: &Ir) -> (String, String) {
    let files = render(Target::Runbook, ir).unwrap_or_else(|e| panic!("{}: {e}", ir.unit));
    let get = |ext: &str| {
        let path = format!("runbook/{}.{ext}", ir.unit);
        let f = files
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("{}: no {path}", ir.unit));
        String::from_utf8(f.contents.clone()).expect("UTF-8 runbook")
    };
    (get("md"), get("html"))
}

/// The files of the targets scripted steps link to.
fn scripts(ir: &Ir) -> Vec<OutputFile> {
    let mut files = Vec::new();
    for t in [Target::Exchange, Target::Iis, Target::Tmg] {
        files.extend(render(t, ir).unwrap_or_else(|e| panic!("{}: {e}", ir.unit)));
    }
    files
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("selector")
}

fn text_of(e: ElementRef) -> String {
    e.text().collect()
}

/// One step of the HTML runbook: its operation id, links and full text.
struct Step {
    op: String,
    links: Vec<String>,
    text: String,
    /// Class of the first block after the heading, e.g. `markdown-alert-important`.
    first_block_class: Option<String>,
}

fn steps(html: &Html) -> Vec<Step> {
    let mut out = Vec::new();
    for div in html.select(&sel("div.step")) {
        let op = div
            .select(&sel("li"))
            .find(|li| text_of(*li).starts_with("Operation:"))
            .and_then(|li| li.select(&sel("code")).next())
            .map(text_of)
            .expect("every step names its operation");
        let links = div
            .select(&sel("a[href]"))
            .filter_map(|a| a.value().attr("href"))
            .filter(|h| !h.starts_with('#'))
            .map(str::to_string)
            .collect();
        let first_block_class = div
            .children()
            .filter_map(ElementRef::wrap)
            .find(|e| e.value().name() != "h4")
            .and_then(|e| e.value().attr("class").map(str::to_string));
        out.push(Step {
            op,
            links,
            text: text_of(div),
            first_block_class,
        });
    }
    out
}

/// An operation id as the runbook shows it: line breaks and other control characters are
/// shown as spaces.
fn norm(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

fn step<'a>(steps: &'a [Step], op: &str) -> &'a Step {
    let op = norm(op);
    steps
        .iter()
        .find(|s| s.op == op)
        .unwrap_or_else(|| panic!("no step for {op}"))
}

/// The text of a top-level section of the HTML (from its `h2` to the next one).
fn section(html: &Html, id: &str) -> String {
    let main = html.select(&sel("main")).next().expect("main");
    let mut inside = false;
    let mut out = String::new();
    for e in main.children().filter_map(ElementRef::wrap) {
        if e.value().name() == "h2" {
            inside = e.value().attr("id") == Some(id);
        } else if inside {
            out.push_str(&text_of(e));
            out.push('\n');
        }
    }
    assert!(!out.is_empty(), "section {id} found");
    out
}

// ---------------------------------------------------------------------------------------
// Every unit, both formats

#[test]
fn every_unit_has_a_markdown_and_an_html_runbook() {
    for ir in all_irs() {
        let files = render(Target::Runbook, &ir).expect("renders");
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [format!("runbook/{}.md", ir.unit), format!("runbook/{}.html", ir.unit)],
            "{}",
            ir.unit
        );
        let (md, html) = runbook(&ir);
        assert!(md.starts_with("# Runbook: "), "{}", ir.unit);
        assert!(html.starts_with("<!DOCTYPE html>"), "{}", ir.unit);
        // Every operation is a step, once.
        let doc = Html::parse_document(&html);
        let ops: Vec<String> = steps(&doc).into_iter().map(|s| s.op).collect();
        let want: Vec<String> = ir.operations.iter().map(|o| norm(&o.id)).collect();
        assert_eq!(
            ops.iter().collect::<BTreeSet<_>>(),
            want.iter().collect::<BTreeSet<_>>(),
            "{}",
            ir.unit
        );
        assert_eq!(ops.len(), want.len(), "{}: each operation once", ir.unit);
        // The runbook carries out exactly the operations no script does.
        let manual: Vec<&str> = ir
            .operations
            .iter()
            .filter(|o| owner(o, &ir).is_none())
            .map(|o| o.id.as_str())
            .collect();
        let listed: BTreeSet<&str> = files
            .iter()
            .flat_map(|f| f.operations.iter().map(String::as_str))
            .collect();
        assert_eq!(listed, manual.into_iter().collect(), "{}", ir.unit);
    }
}

#[test]
fn output_is_deterministic() {
    for ir in all_irs() {
        let a = render(Target::Runbook, &ir).expect("renders");
        let b = render(Target::Runbook, &ir.clone()).expect("renders");
        assert_eq!(a, b, "{}", ir.unit);
    }
}

// ---------------------------------------------------------------------------------------
// Links to the generated scripts

#[test]
fn scripted_steps_link_the_files_that_run_them() {
    for ir in all_irs() {
        let files = scripts(&ir);
        let by_path: BTreeMap<String, &OutputFile> = files.iter().map(|f| (format!("../{}", f.path), f)).collect();
        let (md, html) = runbook(&ir);
        let doc = Html::parse_document(&html);
        let steps = steps(&doc);
        for s in &steps {
            for link in &s.links {
                let f = by_path
                    .get(link)
                    .unwrap_or_else(|| panic!("{}: step {} links {link}, which no backend generates", ir.unit, s.op));
                assert!(
                    f.operations.iter().any(|o| norm(o) == s.op),
                    "{}: step {} links {link}, which does not carry it",
                    ir.unit,
                    s.op
                );
                assert!(
                    matches!(f.target, Target::Exchange | Target::Iis | Target::Tmg),
                    "{}: {link} is a script",
                    ir.unit
                );
                if f.target == Target::Iis {
                    assert!(
                        link.ends_with(".cmd"),
                        "{}: the IIS step links the .cmd, not {link}",
                        ir.unit
                    );
                }
                // The Markdown links the same file by the same relative path.
                assert!(
                    md.contains(&format!("]({link})")),
                    "{}: {link} in the Markdown",
                    ir.unit
                );
            }
        }
        for op in &ir.operations {
            let Some(target) = owner(op, &ir) else { continue };
            assert!(
                matches!(target, Target::Exchange | Target::Iis | Target::Tmg),
                "{}: {}",
                ir.unit,
                op.id
            );
            let carriers: Vec<String> = files
                .iter()
                .filter(|f| f.operations.contains(&op.id))
                .map(|f| format!("../{}", f.path))
                .collect();
            assert!(
                !carriers.is_empty(),
                "{}: the {} backend carries {}",
                ir.unit,
                target.name(),
                op.id
            );
            let s = step(&steps, &op.id);
            assert!(
                s.links.iter().any(|l| carriers.contains(l)),
                "{}: step {} links a file that runs it ({carriers:?}), has {:?}",
                ir.unit,
                op.id,
                s.links
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// HTML

#[test]
fn html_parses_cleanly_and_loads_nothing_from_elsewhere() {
    for ir in all_irs() {
        let (_, html) = runbook(&ir);
        let doc = Html::parse_document(&html);
        assert!(doc.errors.is_empty(), "{}: parse errors {:?}", ir.unit, doc.errors);
        for bad in [
            "script", "link", "iframe", "img", "object", "embed", "frame", "base", "form",
        ] {
            assert_eq!(doc.select(&sel(bad)).count(), 0, "{}: <{bad}>", ir.unit);
        }
        for e in doc.root_element().descendants().filter_map(ElementRef::wrap) {
            for (name, value) in e.value().attrs() {
                assert!(!name.starts_with("on"), "{}: event handler {name}", ir.unit);
                if name == "src" || name == "srcset" || name == "action" {
                    panic!("{}: <{} {name}={value}>", ir.unit, e.value().name());
                }
                if name == "href" {
                    assert!(
                        value.starts_with('#')
                            || value.starts_with("../exchange/")
                            || value.starts_with("../iis/")
                            || value.starts_with("../tmg/"),
                        "{}: href {value}",
                        ir.unit
                    );
                }
                if name == "style" {
                    assert!(!value.contains("url("), "{}: style {value}", ir.unit);
                }
            }
        }
        // The stylesheet is inline and fetches nothing.
        let style = doc.select(&sel("head style")).map(text_of).collect::<String>();
        assert!(!style.is_empty(), "{}: inline CSS", ir.unit);
        assert!(!style.contains("url(") && !style.contains("@import"), "{}", ir.unit);
        assert!(
            doc.select(&sel("meta[http-equiv=Content-Security-Policy]")).count() == 1,
            "{}: a CSP that forbids scripts",
            ir.unit
        );
        // The diagram is inline SVG with the Mermaid source kept beside it.
        let svg = doc.select(&sel("figure.diagram svg")).next();
        assert!(svg.is_some(), "{}: inline SVG diagram", ir.unit);
        assert!(
            doc.select(&sel("svg rect")).count() >= 2,
            "{}: boxes in the diagram",
            ir.unit
        );
        let source = doc
            .select(&sel("details.mermaid-source code"))
            .map(text_of)
            .collect::<String>();
        assert!(source.starts_with("flowchart LR"), "{}: Mermaid source", ir.unit);
        // Internal links point at anchors that exist.
        let ids: BTreeSet<String> = doc
            .root_element()
            .descendants()
            .filter_map(ElementRef::wrap)
            .filter_map(|e| e.value().attr("id").map(str::to_string))
            .collect();
        for a in doc.select(&sel("a[href^='#']")) {
            let target = &a.value().attr("href").expect("href")[1..];
            assert!(ids.contains(target), "{}: link to #{target}", ir.unit);
        }
    }
}

/// The names of all elements, in document order.
fn element_names(html: &str) -> Vec<String> {
    Html::parse_document(html)
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .map(|e| e.value().name().to_string())
        .collect()
}

#[test]
fn user_strings_cannot_create_elements() {
    let path = root().join("tests/fixtures/runbook/injection.mailsec");
    let evil_text = std::fs::read_to_string(&path).expect("fixture");
    // The same unit with every Markdown and HTML metacharacter inside its strings replaced
    // by a letter: its runbook has the structure user strings must not change.
    let mut benign_text = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in evil_text.chars() {
        if in_string {
            if escaped {
                escaped = false;
                benign_text.push(c);
                continue;
            }
            match c {
                '\\' => {
                    escaped = true;
                    benign_text.push(c);
                }
                '"' => {
                    in_string = false;
                    benign_text.push(c);
                }
                // A request template subject stays a distinguished name (MS0261).
                '=' if benign_text.ends_with("\"CN") => benign_text.push(c),
                '<' | '>' | '[' | ']' | '(' | ')' | '|' | '*' | '`' | '#' | '&' | '!' | '_' | '=' => {
                    benign_text.push('x')
                }
                c => benign_text.push(c),
            }
        } else {
            if c == '"' {
                in_string = true;
            }
            benign_text.push(c);
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let compile = |text: &str| -> Ir {
        let p = dir.path().join("injection.mailsec");
        std::fs::write(&p, text).expect("write");
        let c = crate::common::compile_path(&p);
        assert!(!c.diags.has_errors(), "{:?}", c.diags);
        c.ir.expect("lowers")
    };
    let evil = compile(&evil_text);
    let benign = compile(&benign_text);
    let (evil_md, evil_html) = runbook(&evil);
    let (_, benign_html) = runbook(&benign);
    let (e, b) = (element_names(&evil_html), element_names(&benign_html));
    if e != b {
        let at = e
            .iter()
            .zip(&b)
            .position(|(x, y)| x != y)
            .unwrap_or(e.len().min(b.len()));
        panic!(
            "user strings changed the structure of the HTML at element {at}: {:?} vs {:?}",
            &e[at.saturating_sub(5)..(at + 5).min(e.len())],
            &b[at.saturating_sub(5)..(at + 5).min(b.len())]
        );
    }
    let doc = Html::parse_document(&evil_html);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    for bad in [
        "script",
        "img",
        "iframe",
        "svg svg",
        "b",
        "i",
        "details[open]",
        "a[href^=javascript]",
    ] {
        assert_eq!(doc.select(&sel(bad)).count(), 0, "{bad}");
    }
    // The strings are there, as text.
    let text = text_of(doc.root_element());
    for s in [
        "<script>alert('r')</script>",
        "[x](javascript:alert(1))",
        "*bold*",
        "<img src=x onerror=alert(1)>",
        "Listener <script>alert('l')</script> | [x](javascript:alert(1)) `tick`",
        "Mail <script>alert('p')</script> ](javascript:alert(1)) | *z*",
    ] {
        assert!(text.contains(s), "{s} shown as text");
    }
    // In the Markdown, raw HTML comes only from the runbook's own layout: a GitHub rendering
    // of the .md is as inert as the HTML.
    let options = pulldown_cmark::Options::ENABLE_TABLES
        | pulldown_cmark::Options::ENABLE_TASKLISTS
        | pulldown_cmark::Options::ENABLE_GFM;
    for event in pulldown_cmark::Parser::new_ext(&evil_md, options) {
        let (pulldown_cmark::Event::Html(h) | pulldown_cmark::Event::InlineHtml(h)) = event else {
            continue;
        };
        for line in h.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let ours = [
                "</div>",
                "<details>",
                "</details>",
                "<summary>By hand, without the script</summary>",
            ]
            .contains(&line)
                || (line.starts_with("<div class=\"step\" id=\"step-")
                    && line.ends_with("\">")
                    && line["<div class=\"step\" id=\"step-".len()..line.len() - 2]
                        .chars()
                        .all(|c| c.is_ascii_digit()));
            assert!(ours, "raw HTML in the Markdown: {line}");
        }
    }
    let js_links = pulldown_cmark::Parser::new_ext(&evil_md, options)
        .filter(|e| {
            matches!(e, pulldown_cmark::Event::Start(pulldown_cmark::Tag::Link { dest_url, .. }) if dest_url.contains("javascript"))
        })
        .count();
    assert_eq!(js_links, 0, "a javascript: link in the Markdown");
    // A table row keeps its cells.
    let row_sel = sel("table tr");
    for r in doc.select(&row_sel) {
        let cells = r.select(&sel("td, th")).count();
        assert!(
            cells == 2 || cells == 5,
            "a user string split a table row: {}",
            text_of(r)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Scenarios

#[test]
fn s1_reads_like_the_one_mail_guide_with_its_errors_fixed() {
    let irs = example_irs();
    let ir = unit(&irs, "s1-one-mail");
    let (md, html) = runbook(ir);
    // Guide 9.0 / sample 5.0: the receive connector answers with the CN of the *issued*
    // certificate, which the script reads from the file; the check expects that, not the
    // requested CN.
    assert!(md.contains("Fqdn             : <CN of the issued one_mail_123456>"));
    assert!(!md.contains("Fqdn             : 123456"));
    // Exchange 2010's Get-ExchangeServer has no InternalTransportCertificate: the by-hand
    // check reads Active Directory, as the script's helper does.
    assert!(!md.contains(".InternalTransportCertificate"));
    assert!(md.contains("Properties['msExchServerInternalTLSCert'].Value"));
    let doc = Html::parse_document(&html);
    let steps = steps(&doc);
    let order: Vec<&str> = steps.iter().map(|s| s.op.as_str()).collect();
    let pos = |op: &str| {
        order
            .iter()
            .position(|o| *o == op)
            .unwrap_or_else(|| panic!("step {op}"))
    };
    let guide = [
        "csr/one_mail_123456",
        "submit/one_mail_123456",
        "trust/ssha_root/hub01",
        "import/one_mail_123456/hub01",
        "enable/one_mail_123456/hub01",
        "verify-smtp-cert/one_mail_123456/hub01",
        "receive-connector/From ONE Mail",
        "restart-transport/hub01",
        "send-connector/To ONE Mail Smart Host",
        "verify-connector/send/To ONE Mail Smart Host",
        "retire/send/To ISP",
        "retire/receive/From ISP",
    ];
    for pair in guide.windows(2) {
        assert!(pos(pair[0]) < pos(pair[1]), "{} before {}", pair[0], pair[1]);
    }
    // The CSR: 2048 bits, and the guide's 1024 named as wrong.
    let csr = step(&steps, "csr/one_mail_123456");
    assert!(csr.text.contains("-KeySize 2048"), "{}", csr.text);
    assert!(!md.contains("-KeySize 1024 "), "never a 1024-bit request");
    // Sending the CSR with the reference number, receiving the root with the certificate.
    let submit = step(&steps, "submit/one_mail_123456");
    assert!(submit.text.contains("123456") && submit.text.contains("ssha-root.cer"));
    // Import, with the PrivateKeyMissing fix at hand.
    let import = step(&steps, "import/one_mail_123456/hub01");
    assert!(import.text.contains("certutil -repairstore my"));
    // The send connector: gated, RequireTLS set after the wizard, verified True.
    let send = step(&steps, "send-connector/To ONE Mail Smart Host");
    assert_eq!(send.first_block_class.as_deref(), Some("markdown-alert-important"));
    assert!(send.text.contains("not before 2026-12-01"), "{}", send.text);
    assert!(send.text.contains("ONE Mail deployment team confirms the go-live date"));
    assert!(send.text.contains("-RequireTLS $true"));
    assert!(send.text.contains("the secret ONE_MAIL_SMTP from your vault"));
    let verify = step(&steps, "verify-connector/send/To ONE Mail Smart Host");
    assert!(verify
        .text
        .contains("Get-SendConnector -Identity 'To ONE Mail Smart Host' | Format-List"));
    assert!(
        verify
            .text
            .lines()
            .any(|l| l.starts_with("RequireTLS") && l.trim_end().ends_with(": True")),
        "{}",
        verify.text
    );
    // The receive connector: only the partner's four addresses.
    let receive = step(&steps, "receive-connector/From ONE Mail");
    for ip in ["76.75.133.96", "76.75.164.96", "76.75.149.54", "76.75.177.138"] {
        assert!(receive.text.contains(ip), "{ip}");
    }
    assert!(
        receive.text.contains("0.0.0.0-255.255.255.255"),
        "the default range is named to be removed"
    );
    // Retirement after its gate, undone from the saved settings.
    let retire = step(&steps, "retire/send/To ISP");
    assert_eq!(retire.first_block_class.as_deref(), Some("markdown-alert-important"));
    assert!(retire.text.contains("ISP service is disconnected"));
    assert!(retire.text.contains("Export-Clixml"));
    // Rollback: the cost goes back to 1, the new connector goes away.
    let rollback = section(&doc, "rollback");
    assert!(rollback.contains("Set the cost back to 1"), "{rollback}");
    assert!(rollback.contains("Remove-SendConnector -Identity 'To ONE Mail Smart Host'"));
    assert!(rollback.contains("Remove-ReceiveConnector -Identity 'EXCH2K10\\From ONE Mail'"));
    // Troubleshooting: PrivateKeyMissing.
    let trouble = section(&doc, "troubleshooting");
    assert!(trouble.contains("PrivateKeyMissing") && trouble.contains("certutil -repairstore my"));
}

#[test]
fn kcd_runbooks_carry_delegation_spns_and_troubleshooting() {
    let irs = example_irs();
    for name in ["s6-seg-kcd", "s7-tmg-eas", "s7-tmg-seg-eas"] {
        let ir = unit(&irs, name);
        let (_, html) = runbook(ir);
        let doc = Html::parse_document(&html);
        let steps = steps(&doc);
        let mut delegations = 0;
        let mut spns = 0;
        for op in &ir.operations {
            let s = step(&steps, &op.id);
            match &op.action {
                Action::AllowDelegation {
                    spns: targets, from, ..
                } => {
                    delegations += 1;
                    for needle in [
                        "Trust this computer for delegation to specified services only",
                        "Use any authentication protocol",
                        "msDS-AllowedToDelegateTo",
                        "TrustedToAuthForDelegation",
                        from.as_str(),
                    ] {
                        assert!(s.text.contains(needle), "{name} {}: {needle}", op.id);
                    }
                    for t in targets {
                        assert!(s.text.contains(t.as_str()), "{name} {}: {t}", op.id);
                    }
                }
                Action::RegisterSpn { spn, account } => {
                    spns += 1;
                    assert!(
                        s.text.contains(&format!("setspn -S {spn} {account}")),
                        "{name}: {}",
                        s.text
                    );
                    assert!(s.text.contains(&format!("setspn -L {account}")), "{name}");
                    assert!(
                        s.text.contains(&format!("setspn -D {spn} {account}")),
                        "{name}: rollback"
                    );
                }
                Action::GrantUserRights { .. } => {
                    assert!(s.text.contains("Act as part of the operating system"));
                    assert!(s.text.contains("Impersonate a client after authentication"));
                }
                _ => {}
            }
        }
        assert!(delegations >= 1 && spns >= 1, "{name}: delegation and SPN steps");
        let trouble = section(&doc, "troubleshooting");
        for needle in ["setspn -X", "Negotiate", "NTLM", "5 minutes", "single point of failure"] {
            assert!(trouble.contains(needle), "{name}: troubleshooting mentions {needle}");
        }
        assert!(
            section(&doc, "before-you-start").contains("two domain controllers"),
            "{name}"
        );
        // The diagram labels the KCD edges.
        let source = doc
            .select(&sel("details.mermaid-source code"))
            .map(text_of)
            .collect::<String>();
        assert!(source.contains("KCD http/"), "{name}: {source}");
    }
    let ir = unit(&irs, "s6-seg-kcd");
    let (_, html) = runbook(ir);
    let doc = Html::parse_document(&html);
    let all = steps(&doc);
    let asa = step(&all, "asa/casarray_asa");
    for needle in [
        "RollAlternateServiceAccountPassword.ps1",
        "-IncludeAlternateServiceAccountCredentialStatus",
        "CASARRAY-ASA",
    ] {
        assert!(asa.text.contains(needle), "{needle}");
    }
}

#[test]
fn manual_console_steps_carry_every_value_to_enter() {
    let mut irs = example_irs();
    irs.extend(fixture_irs());
    let mut seen = BTreeSet::new();
    for ir in &irs {
        let (_, html) = runbook(ir);
        let doc = Html::parse_document(&html);
        let steps = steps(&doc);
        for op in &ir.operations {
            let s = step(&steps, &op.id);
            let need: Vec<String> = match &op.action {
                Action::TmgListener {
                    name,
                    description,
                    certificate_cn,
                    auth,
                    addresses,
                    ..
                } => {
                    seen.insert("listener");
                    let mut v = vec![
                        name.clone(),
                        certificate_cn.clone(),
                        "Require SSL secured connections with clients".into(),
                        "SSO is not available".into(),
                    ];
                    v.extend(description.clone());
                    v.extend(addresses.iter().cloned());
                    if auth == "client_certificate" {
                        v.push("SSL Client Certificate Authentication".into());
                    }
                    v
                }
                Action::TmgPublishingRule {
                    name,
                    listener,
                    internal_site,
                    public_name,
                    spn,
                    exchange,
                    ..
                } => {
                    seen.insert("rule");
                    let mut v = vec![
                        name.clone(),
                        listener.clone(),
                        internal_site.clone(),
                        public_name.clone(),
                        exchange.product().into(),
                        "Exchange ActiveSync".into(),
                        "Kerberos constrained delegation".into(),
                        "All Authenticated Users".into(),
                        "This domain name (type below)".into(),
                    ];
                    v.extend(spn.clone());
                    v
                }
                Action::Ws1Authority {
                    ca_type,
                    ca_name,
                    url,
                    challenge,
                    credentials,
                    account,
                    ..
                } => {
                    seen.insert("ca");
                    let mut v = vec![ca_name.clone(), url.clone()];
                    v.push(
                        if ca_type == "adcs" {
                            "Microsoft ADCS"
                        } else {
                            "Generic SCEP"
                        }
                        .into(),
                    );
                    v.extend(account.clone());
                    v.extend(
                        challenge
                            .iter()
                            .chain(credentials.iter())
                            .map(|s| format!("the secret {} from your vault", s.name)),
                    );
                    if ca_type != "adcs" && challenge.is_none() {
                        v.push("No Challenge".into());
                    }
                    v
                }
                Action::Ws1Template {
                    name,
                    authority,
                    subject,
                    key_size,
                    san,
                    ..
                } => {
                    seen.insert("template");
                    let mut v = vec![name.clone(), authority.clone(), subject.clone(), key_size.to_string()];
                    v.extend(san.iter().map(|(_, value)| value.clone()));
                    v
                }
                Action::Ws1Profile {
                    name,
                    template,
                    authority,
                    account_name,
                    host,
                    domain,
                    username,
                    email,
                    ..
                } => {
                    seen.insert("profile");
                    let mut v = vec![
                        name.clone(),
                        template.clone(),
                        authority.clone(),
                        account_name.clone(),
                        host.clone(),
                        "Defined Certificate Authority".into(),
                    ];
                    v.extend(domain.iter().chain(username.iter()).chain(email.iter()).cloned());
                    v
                }
                _ => continue,
            };
            for n in need {
                assert!(
                    s.text.contains(&n),
                    "{} {}: the step names {n:?}:\n{}",
                    ir.unit,
                    op.id,
                    s.text
                );
            }
        }
    }
    assert_eq!(seen.len(), 5, "every console step kind was checked: {seen:?}");
}

#[test]
fn corrected_commands_replace_the_guides_mistakes() {
    let irs = example_irs();
    let all: String = irs.iter().map(|ir| runbook(ir).0).collect();
    for wrong in [
        "SysWOW64\\inetsrv\\appcmd.exe set",
        "gupdate /force",
        "NTAAuthCA -",
        "\"Default Website\"",
    ] {
        assert!(!all.contains(wrong), "a guide's mistake is in a command: {wrong}");
    }
    let s3 = runbook(unit(&irs, "s3-eas-client-certs")).0;
    assert!(s3.contains("certutil -dspublish -f certs\\cademo1-mpki-user-ca.cer NTAuthCA"));
    assert!(s3.contains("gpupdate /force"));
    assert!(s3.contains(
        "%windir%\\system32\\inetsrv\\appcmd.exe set config \"Default Web Site/Microsoft-Server-ActiveSync\""
    ));
    assert!(s3.contains("HTTP 505"));
}

// ---------------------------------------------------------------------------------------
// Warnings, gates, rollback

#[test]
fn warnings_show_at_their_steps_and_in_the_summary() {
    let irs = fixture_irs();
    let ir = unit(&irs, "warnings");
    assert!(ir.warnings.len() >= 4, "{:?}", ir.warnings);
    let (_, html) = runbook(ir);
    let doc = Html::parse_document(&html);
    let steps = steps(&doc);
    let summary = section(&doc, "warnings");
    for w in &ir.warnings {
        assert!(summary.contains(&w.code), "{} in the summary", w.code);
        for op in &w.operations {
            let s = step(&steps, op);
            assert!(s.text.contains(&w.code), "{} at step {op}", w.code);
        }
    }
    let with_warning = doc.select(&sel("div.step blockquote.markdown-alert-warning")).count();
    assert!(with_warning >= ir.warnings.iter().map(|w| w.operations.len()).sum::<usize>());
}

#[test]
fn gates_come_first_in_their_steps() {
    for ir in all_irs() {
        let (_, html) = runbook(&ir);
        let doc = Html::parse_document(&html);
        let steps = steps(&doc);
        for op in &ir.operations {
            let s = step(&steps, &op.id);
            match &op.gate {
                None => assert_ne!(s.first_block_class.as_deref(), Some("markdown-alert-important")),
                Some(g) => {
                    assert_eq!(
                        s.first_block_class.as_deref(),
                        Some("markdown-alert-important"),
                        "{}",
                        op.id
                    );
                    let (date, text) = match g {
                        Gate::NotBefore { date } => (Some(date), None),
                        Gate::Approval { text } => (None, Some(text)),
                        Gate::Both { date, text } => (Some(date), Some(text)),
                    };
                    if let Some(d) = date {
                        assert!(s.text.contains(&format!("not before {d}")), "{}", op.id);
                    }
                    if let Some(t) = text {
                        let shown = t.split_whitespace().collect::<Vec<_>>().join(" ");
                        let have = s.text.split_whitespace().collect::<Vec<_>>().join(" ");
                        assert!(have.contains(&shown), "{}: {shown}", op.id);
                    }
                }
            }
        }
    }
}

#[test]
fn changes_with_a_rollback_are_in_the_rollback_section() {
    let irs = all_irs();
    let mut kinds = BTreeSet::new();
    for ir in &irs {
        let (_, html) = runbook(ir);
        let doc = Html::parse_document(&html);
        let rollback = section(&doc, "rollback");
        for op in &ir.operations {
            let needle = match &op.action {
                Action::ReceiveConnector { .. } => "Remove-ReceiveConnector",
                Action::SendConnector { .. } => "Remove-SendConnector",
                Action::SetConnectorCost { .. } => "Set the cost back to 1",
                Action::ActiveSyncDirectory { .. } => "Set-ActiveSyncVirtualDirectory",
                Action::PublishNtAuth { .. } => "certutil -viewdelstore",
                Action::TrustAuthority { .. } => "certutil -delstore",
                Action::IisClientCertificates { .. } | Action::IisWindowsAuth { .. } => "restore backup",
                Action::RegisterSpn { .. } => "setspn -D",
                Action::AllowDelegation { .. } => "-TrustedToAuthForDelegation $false",
                Action::RemoveConnector { .. } => "Import-Clixml",
                Action::SmimeConfig { .. } => "Set-SmimeConfig -SMIMECertificateIssuingCA",
                Action::TmgPublishingRule { .. } => "Disable or delete the rule",
                _ => continue,
            };
            kinds.insert(needle);
            assert!(rollback.contains(needle), "{} {}: rollback {needle}", ir.unit, op.id);
        }
    }
    assert!(kinds.len() >= 10, "{kinds:?}");
}

#[test]
fn secrets_appear_only_as_references() {
    for ir in all_irs() {
        let (md, _) = runbook(&ir);
        for op in &ir.operations {
            let names: Vec<&str> = match &op.action {
                Action::SendConnector { credential, .. } => credential.iter().map(|s| s.name.as_str()).collect(),
                Action::Ws1Authority {
                    challenge, credentials, ..
                } => challenge
                    .iter()
                    .chain(credentials.iter())
                    .map(|s| s.name.as_str())
                    .collect(),
                _ => continue,
            };
            for n in names {
                assert!(
                    md.contains(&format!("the secret `{n}` from your vault")),
                    "{}: {n}",
                    ir.unit
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Snapshots

#[test]
fn snapshots_of_every_example() {
    for ir in example_irs() {
        let (md, html) = runbook(&ir);
        insta::with_settings!({snapshot_path => "../snapshots/runbook", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("{}.md", ir.unit), md);
            insta::assert_snapshot!(format!("{}.html", ir.unit), html);
        });
    }
}

#[test]
fn s6_asa_rollback_klist_and_tcb_follow_microsoft() {
    let irs = example_irs();
    let (md, _) = runbook(unit(&irs, "s6-seg-kcd"));
    // S6-2: the roll script cannot remove an ASA; Set-ClientAccessServer does, per member.
    assert!(md.contains("Set-ClientAccessServer -Identity 'cas01' -RemoveAlternateServiceAccountCredentials"));
    assert!(md.contains("Set-ClientAccessServer -Identity 'cas02' -RemoveAlternateServiceAccountCredentials"));
    assert!(!md.contains("RollAlternateServiceAccountPassword.ps1 -ToArrayMembers 'casarray.corp.contoso.com'"));
    assert!(!md.contains("-ToArrayMembers 'casarray.corp.contoso.com' -RemoveAlternateServiceAccountCredentials"));
    // S6-4: the prerequisites of the roll.
    assert!(md.contains("MSExchangeServiceHost"));
    // S6-6: the SEG's pool runs as Network Service (0x3e4).
    assert!(md.contains("klist -li 0x3e4 purge"));
    // S6-7: the array name is delegated in the form registered on the ASA only.
    assert!(
        !md.contains("http/CASARRAY"),
        "short array SPN delegated but never registered"
    );
    // S6-8: what TCB for Network Service means.
    assert!(md.contains("to every service on `seg01` that runs as Network Service"));
}

/// The S1 example with its text changed, compiled from a copy next to the shipped library.
fn s1_with(edit: impl Fn(String) -> String) -> Ir {
    let dir = tempfile::tempdir().expect("tempdir");
    let lib = dir.path().join("lib");
    std::fs::create_dir_all(&lib).expect("mkdir");
    for e in std::fs::read_dir(root().join("examples/lib")).expect("lib") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, lib.join(p.file_name().expect("name"))).expect("copy");
    }
    let text = std::fs::read_to_string(root().join("examples/s1-one-mail.mailsec")).expect("s1");
    let path = dir.path().join("s1-one-mail.mailsec");
    std::fs::write(&path, edit(text)).expect("write");
    let c = crate::common::compile_path(&path);
    assert!(!c.diags.has_errors(), "{:?}", c.diags);
    c.ir.expect("lowers")
}

/// The lines of every fenced block tagged `lang`.
fn code_lines(md: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in md.lines() {
        let t = line.trim_start();
        if t.starts_with("```") {
            inside = !inside && t.trim_start_matches('`') == lang;
            continue;
        }
        if inside {
            out.push(t.to_string());
        }
    }
    out
}

#[test]
fn cmd_blocks_never_expand_a_variable_from_the_intent() {
    let ir = s1_with(|t| {
        t.replace("requests/one-mail-123456.req", "requests/100%USERPROFILE%.req")
            .replace("certs/one-mail-123456.cer", "certs/a \\\"&calc& %PATH%.cer")
    });
    let (md, _) = runbook(&ir);
    let bat = code_lines(&md, "bat");
    assert!(
        bat.iter()
            .any(|l| l.contains(r#""requests\100"^%"USERPROFILE"^%".req""#)),
        "{bat:#?}"
    );
    assert!(
        bat.iter().any(|l| l.contains(r#""certs\a ""&calc& "^%"PATH"^%".cer""#)),
        "{bat:#?}"
    );
    for line in &bat {
        // Every `%` from the intent stands outside quotes behind a caret; `%windir%` and `%TEMP%` are ours.
        let ours = line.replace("%windir%", "").replace("%TEMP%", "");
        for (i, _) in ours.match_indices('%') {
            assert!(i > 0 && ours.as_bytes()[i - 1] == b'^', "bare `%` in `{line}`");
        }
    }
}

#[test]
fn suppressions_are_listed_with_their_reasons() {
    let ir = s1_with(|t| {
        t.replace(
            "  require_tls     = true\n",
            "  allow MS0229 \"the *relay* has no TLS; mail is S/MIME-encrypted (contract 14)\"\n",
        )
        .replace("auth            = basic(secret(\"ONE_MAIL_SMTP\"))\n", "")
    });
    assert_eq!(ir.suppressions.len(), 1, "{:?}", ir.suppressions);
    assert_eq!(ir.suppressions[0].code, "MS0229");
    let (md, html) = runbook(&ir);
    let section = md
        .split("### Suppressed findings")
        .nth(1)
        .expect("a suppressions section");
    assert!(
        section.contains("**MS0229** (partner send connector does not require TLS) on `send_connector To ONE Mail Smart Host`: the \\*relay\\* has no TLS"),
        "{section}"
    );
    assert!(html.contains("Suppressed findings"));
    // Without suppressions the section is absent.
    let (plain, _) = runbook(&s1_with(|t| t));
    assert!(!plain.contains("Suppressed findings"));
}

/// The lines of each fenced block tagged `lang`, block by block.
fn code_blocks(md: &str, lang: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut inside = false;
    for line in md.lines() {
        let t = line.trim_start();
        if t.starts_with("```") {
            inside = !inside && t.trim_start_matches('`') == lang;
            if inside {
                out.push(Vec::new());
            }
            continue;
        }
        if inside {
            out.last_mut().expect("open block").push(t.to_string());
        }
    }
    out
}

/// The INF lines a certreq script writes: the single-quoted strings of its `$inf = @(...)`.
fn script_infs(src: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut lines = src.lines();
    while let Some(l) = lines.next() {
        if l.trim() != "$inf = @(" {
            continue;
        }
        let mut inf = Vec::new();
        for l in lines.by_ref() {
            let t = l.trim().trim_end_matches(',');
            if t == ")" {
                break;
            }
            let inner = t
                .strip_prefix('\'')
                .and_then(|t| t.strip_suffix('\''))
                .expect("a quoted INF line");
            inf.push(inner.replace("''", "'"));
        }
        out.push(inf);
    }
    out
}

/// A certificate request made with certreq (a server without Exchange): the runbook's "by
/// hand" INF is the INF the script writes, line for line, and both carry the key usages the
/// intent names.
#[test]
fn certreq_requests_by_hand_are_the_scripts_requests() {
    let dir = tempfile::tempdir().expect("tempdir");
    crate::common::copy_examples(dir.path());
    let path = dir.path().join("s7-tmg-eas.mailsec");
    let text = std::fs::read_to_string(&path).expect("s7");
    let edited = text.replacen(
        "  eku           = [server_auth]\n",
        "  eku           = [server_auth, client_auth]\n",
        1,
    );
    assert_ne!(text, edited, "the example's TMG certificate moved");
    std::fs::write(&path, edited).expect("write");
    let c = crate::common::compile_path(&path);
    let edited_ir = c.ir.expect("lowers");
    let mut compared = 0;
    for ir in all_irs().iter().chain([&edited_ir]) {
        let (md, _) = runbook(ir);
        let blocks = code_blocks(&md, "text");
        for f in scripts(ir) {
            let src = String::from_utf8(f.contents.clone()).expect("UTF-8");
            for inf in script_infs(&src) {
                assert!(
                    blocks.contains(&inf),
                    "{}/{}: the runbook has no block with the script's INF {inf:#?}",
                    ir.unit,
                    f.path
                );
                compared += 1;
                if std::ptr::eq(ir, &edited_ir) {
                    let oids: Vec<&str> = inf.iter().filter_map(|l| l.strip_prefix("OID = ")).collect();
                    assert_eq!(oids, ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], "{}", f.path);
                }
            }
        }
    }
    assert!(compared >= 3, "certreq requests compared: {compared}");
}

/// A subject value with a comma: the runbook's `New-ExchangeCertificate -SubjectName` is
/// the one the script passes, in CryptoAPI's quoting (a backslash escape would split the
/// organisation into two attributes).
#[test]
fn by_hand_requests_quote_the_subject_as_the_script_does() {
    let ir = s1_with(|t| {
        t.replace(
            "O = \"eHealth Ontario ONE Mail Dev Lab\"",
            "O = \"eHealth Ontario, Dev Lab\"",
        )
    });
    let want = "-SubjectName 'C=CA, S=ON, O=\"eHealth Ontario, Dev Lab\", CN=123456'";
    let (md, _) = runbook(&ir);
    assert!(md.contains(want), "runbook: {want}");
    let script = scripts(&ir)
        .into_iter()
        .find(|f| f.path.ends_with("20-certificates.ps1"))
        .expect("S1 certificate script");
    let src = String::from_utf8(script.contents).expect("UTF-8");
    assert!(src.contains(&want[1..]), "script: {want}");
}

/// A send connector pinned to a certificate (Exchange 2013+): by hand as in the script,
/// TlsCertificateName is built from the installed certificate's own issuer and subject.
#[test]
fn pinned_tls_certificate_is_named_from_the_certificate_itself() {
    let c = crate::common::compile_path(&root().join("tests/fixtures/exchange/exchange-2016.mailsec"));
    let ir = c.ir.expect("the fixture lowers");
    let (md, _) = runbook(&ir);
    let lines = code_lines(&md, "powershell");
    let lookup = lines
        .iter()
        .position(|l| l == "$tls = Get-ExchangeCertificate -Server 'mbx01' -Thumbprint <thumbprint of partner_tls>")
        .expect("the certificate is looked up");
    assert!(
        lines[lookup + 1].starts_with("New-SendConnector -Name 'To Partner'")
            && lines[lookup + 1].contains(" -TlsCertificateName \"<I>$($tls.Issuer)<S>$($tls.Subject)\""),
        "{}",
        lines[lookup + 1]
    );
    assert!(
        !md.contains("<I>CN="),
        "no TlsCertificateName from the intent's subject"
    );
}

/// The by-hand IIS procedure makes the change the script makes: where certificates are
/// mapped to accounts, the DS mapper of the HTTP.sys binding (configure-iis.ps1) too; and
/// its commands exist on Windows Server 2008 R2 (no Install-WindowsFeature there).
#[test]
fn by_hand_iis_client_certificates_match_the_script() {
    let mut mapped = 0;
    for ir in all_irs() {
        let (md, _) = runbook(&ir);
        assert!(
            !md.contains("Install-WindowsFeature"),
            "{}: a 2012-only cmdlet",
            ir.unit
        );
        let maps = ir.operations.iter().any(|o| {
            matches!(
                o.action,
                Action::IisClientCertificates {
                    certificate_mapping: true,
                    ..
                }
            )
        });
        let scripts = scripts(&ir);
        let script_sets = scripts
            .iter()
            .any(|f| String::from_utf8_lossy(&f.contents).contains("$wanted['dsmapperusage'] = 'enable'"));
        assert_eq!(
            maps, script_sets,
            "{}: the script switches the DS mapper iff certificates are mapped",
            ir.unit
        );
        if maps {
            let bat = code_lines(&md, "bat");
            assert!(
                bat.iter()
                    .any(|l| l.starts_with("netsh http update sslcert") && l.ends_with("dsmapperusage=enable")),
                "{}: the runbook's by-hand steps do not switch the DS mapper on",
                ir.unit
            );
            // The IIS backup does not hold the binding: the rollback says how to undo it.
            assert!(
                md.contains("with `dsmapperusage=disable`"),
                "{}: no rollback of the DS mapper",
                ir.unit
            );
            mapped += 1;
        }
    }
    assert!(mapped >= 3, "units mapping certificates: {mapped}");
}

/// Every rollback that re-creates a removed connector reads the file the script saved it
/// to before removing it (not one that only the by-hand path writes).
#[test]
fn removed_connectors_are_saved_where_the_rollback_reads() {
    let quoted = |text: &str, prefix: &str| -> Vec<String> {
        text.match_indices(prefix)
            .map(|(at, _)| {
                let rest = &text[at + prefix.len()..];
                rest[..rest.find('\'').expect("closing quote")].to_string()
            })
            .collect()
    };
    let mut compared = 0;
    for ir in all_irs() {
        let (md, _) = runbook(&ir);
        let saved_by_scripts: Vec<String> = scripts(&ir)
            .iter()
            .flat_map(|f| quoted(&String::from_utf8_lossy(&f.contents), "Export-Clixml -Path '"))
            .collect();
        for file in quoted(&md, "Import-Clixml -Path '") {
            assert!(
                saved_by_scripts.contains(&file),
                "{}: the rollback reads {file}, which no script writes",
                ir.unit
            );
            compared += 1;
        }
    }
    assert!(compared >= 2, "rollbacks compared: {compared}");
}

/// The by-hand commands run where the change runs: Windows Server 2008 R2 with PowerShell
/// 2.0 for Exchange 2010 and TMG 2010. No cmdlet or console that arrived later, and
/// secedit's UTF-16 export is read through `type` (findstr cannot search UTF-16).
#[test]
fn runbook_commands_exist_on_windows_server_2008_r2() {
    for ir in all_irs() {
        let (md, _) = runbook(&ir);
        for later in [
            "Get-CimInstance",
            "Test-NetConnection",
            "Get-Credential -Message",
            "certlm.msc",
            "Install-WindowsFeature",
            "TcpTestSucceeded",
        ] {
            assert!(!md.contains(later), "{}: {later}", ir.unit);
        }
        for line in md.lines().filter(|l| l.contains("findstr") && l.contains(".inf")) {
            assert!(line.contains("type "), "{}: {line}", ir.unit);
        }
    }
}

/// Every IIS setting the generated `configure-iis.cmd` writes is also in the runbook's
/// by-hand commands (same location, section and value): the manual path makes the same
/// change as the script.
#[test]
fn every_appcmd_write_of_the_script_is_in_the_runbook() {
    let mut compared = 0;
    for ir in all_irs() {
        let (md, _) = runbook(&ir);
        let by_hand: Vec<String> = code_lines(&md, "bat").iter().map(|l| l.to_ascii_lowercase()).collect();
        for f in render(Target::Iis, &ir)
            .unwrap_or_else(|e| panic!("{}: {e}", ir.unit))
            .iter()
            .filter(|f| f.path.ends_with(".cmd"))
        {
            let src = String::from_utf8_lossy(&f.contents);
            // The `Ssl128` variant keeps a flag the server already had (the runbook says to).
            for line in src
                .lines()
                .filter(|l| l.contains("appcmd.exe set ") && !l.contains("Ssl128"))
            {
                let write = line.split(" || ").next().expect("command").trim().to_ascii_lowercase();
                assert!(
                    by_hand.contains(&write),
                    "{}/{}: the runbook never says {write}",
                    ir.unit,
                    f.path
                );
                compared += 1;
            }
        }
    }
    assert!(compared >= 20, "appcmd writes compared: {compared}");
}

/// The ActiveSync rollback puts back every value the step sets, the external URL included,
/// from what was noted before (not Exchange's defaults over the noted values).
#[test]
fn activesync_rollback_restores_what_the_step_set() {
    let mut checked = 0;
    for ir in all_irs() {
        let (md, _) = runbook(&ir);
        for line in code_lines(&md, "powershell")
            .iter()
            .filter(|l| l.starts_with("Set-ActiveSyncVirtualDirectory") && l.contains("<noted>"))
        {
            assert!(!line.contains("-ClientCertAuth Ignore"), "{}: {line}", ir.unit);
            let sets_url = md.contains("-ExternalUrl 'https://");
            assert_eq!(
                line.contains("-ExternalUrl <noted, or $null>"),
                sets_url,
                "{}: {line}",
                ir.unit
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "ActiveSync rollbacks: {checked}");
}
