//! The exchange backend: every generated script parses as PowerShell, calls only cmdlets and
//! parameters its Exchange version has (per the cmdlet oracle), guards every change with
//! `ShouldProcess`, keeps user strings inert, never holds a secret, puts gates in front of
//! gated steps, and matches its snapshot.

use crate::common::{compile_path, example_irs, root};
use mailsec::backend::{owner, render, OutputFile, Target};
use mailsec::ir::{Action, ExchangeVersion, Gate, HostKind, Ir};
use serde_json::Value as Json;
use std::collections::BTreeSet;
use std::path::PathBuf;
use tree_sitter::{Node, Parser, Tree};

// --- fixtures and helpers ----------------------------------------------------------------

fn fixture_dir() -> PathBuf {
    root().join("tests/fixtures/exchange")
}

/// The IR of every fixture unit under `tests/fixtures/exchange/`, in file-name order.
fn fixture_irs() -> Vec<Ir> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "mailsec"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no exchange fixtures");
    paths
        .iter()
        .map(|p| {
            let c = compile_path(p);
            assert!(
                !c.diags.has_errors(),
                "fixture {} has errors: {:?}",
                p.display(),
                c.diags
            );
            c.ir.expect("fixture lowers")
        })
        .collect()
}

fn fixture(unit: &str) -> Ir {
    fixture_irs()
        .into_iter()
        .find(|i| i.unit == unit)
        .unwrap_or_else(|| panic!("fixture unit {unit}"))
}

/// Every example and fixture unit.
fn all_irs() -> Vec<Ir> {
    let mut irs = example_irs();
    irs.extend(fixture_irs());
    irs
}

fn scripts(ir: &Ir) -> Vec<OutputFile> {
    render(Target::Exchange, ir).unwrap_or_else(|e| panic!("{}: {e}", ir.unit))
}

fn text(f: &OutputFile) -> &str {
    std::str::from_utf8(&f.contents).expect("utf-8")
}

fn parse(source: &str) -> Tree {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("PowerShell grammar");
    parser.parse(source, None).expect("parse")
}

/// The version a file's cmdlets must exist in: Exchange Online for the tenant, else the unit's.
fn version(ir: &Ir, f: &OutputFile) -> ExchangeVersion {
    let host = f.host.as_deref().and_then(|h| ir.hosts.get(h)).expect("file host");
    if host.kind == HostKind::ExchangeOnline {
        ExchangeVersion::Online
    } else {
        ir.organization.exchange
    }
}

fn node_text<'a>(n: Node<'_>, src: &'a str) -> &'a str {
    n.utf8_text(src.as_bytes()).expect("utf-8 node")
}

/// Every node of a tree, in document order.
fn nodes(tree: &Tree) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let mut cursor = tree.walk();
    'walk: loop {
        out.push(cursor.node());
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    out
}

/// A command invocation: its name, and its elements (parameters and arguments) in order.
struct Command<'t> {
    node: Node<'t>,
    name: String,
    elements: Vec<Node<'t>>,
}

fn commands<'t>(tree: &'t Tree, src: &str) -> Vec<Command<'t>> {
    nodes(tree)
        .into_iter()
        .filter(|n| n.kind() == "command")
        .map(|n| {
            let name = n
                .child_by_field_name("command_name")
                .map(|c| node_text(c, src).to_string())
                .unwrap_or_default();
            let elements = n
                .child_by_field_name("command_elements")
                .map(|e| {
                    let mut c = e.walk();
                    e.named_children(&mut c)
                        .filter(|x| x.kind() != "command_argument_sep")
                        .collect()
                })
                .unwrap_or_default();
            Command {
                node: n,
                name,
                elements,
            }
        })
        .collect()
}

/// The parameters of a command: name (no `-`, no `:`), whether written `-Name:value`, and
/// the argument node that follows, if any.
fn params<'t>(cmd: &Command<'t>, src: &str) -> Vec<(String, bool, Option<Node<'t>>)> {
    let mut out = Vec::new();
    for (i, e) in cmd.elements.iter().enumerate() {
        if e.kind() == "command_parameter" {
            let raw = node_text(*e, src);
            let colon = raw.ends_with(':');
            let name = raw.trim_start_matches('-').trim_end_matches(':').to_string();
            let value = cmd
                .elements
                .get(i + 1)
                .copied()
                .filter(|n| n.kind() != "command_parameter");
            out.push((name, colon, value));
        }
    }
    out
}

/// A single-quoted PowerShell literal's value.
fn verbatim(raw: &str) -> String {
    let inner = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')).unwrap_or(raw);
    inner.replace("''", "'")
}

/// The literal words of an argument: string literals, `$true`/`$false`, numbers, bare words.
/// `None` if the argument holds anything else (a variable, an expression).
fn literal_words(n: Node<'_>, src: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut stack = vec![n];
    let mut opaque = false;
    while let Some(x) = stack.pop() {
        match x.kind() {
            "verbatim_string_characters" => words.push(verbatim(node_text(x, src))),
            "expandable_string_literal" => opaque = true,
            "variable" => match node_text(x, src).to_ascii_lowercase().as_str() {
                "$true" => words.push("$true".into()),
                "$false" => words.push("$false".into()),
                _ => opaque = true,
            },
            "decimal_integer_literal" | "generic_token" => words.push(node_text(x, src).to_string()),
            _ => {
                let mut c = x.walk();
                let children: Vec<Node<'_>> = x.named_children(&mut c).collect();
                stack.extend(children.into_iter().rev());
            }
        }
    }
    (!opaque).then_some(words)
}

/// Where the first ERROR or MISSING node is, with its line.
fn first_error(tree: &Tree, src: &str) -> Option<String> {
    nodes(tree)
        .into_iter()
        .find(|n| n.is_error() || n.is_missing())
        .map(|n| {
            let p = n.start_position();
            let line = src.lines().nth(p.row).unwrap_or("");
            format!(
                "{} at {}:{}: {line}",
                if n.is_missing() { "MISSING" } else { "ERROR" },
                p.row + 1,
                p.column + 1
            )
        })
}

/// The operation sections of a script: `(operation id, body)` in file order.
fn sections(f: &OutputFile) -> Vec<(&str, &str)> {
    const RULE: &str = "\n# ------------------------------------------------------------------------------\n";
    let parts: Vec<&str> = text(f).split(RULE).collect();
    let bodies: Vec<&str> = parts.iter().skip(2).step_by(2).copied().collect();
    assert_eq!(
        bodies.len(),
        f.operations.len(),
        "{}: one section per operation",
        f.path
    );
    f.operations.iter().map(String::as_str).zip(bodies).collect()
}

fn oracle() -> Json {
    serde_json::from_str(include_str!("data/exchange-cmdlets.json")).expect("oracle parses")
}

fn ci_get<'a>(map: &'a serde_json::Map<String, Json>, key: &str) -> Option<&'a Json> {
    map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// PowerShell's common parameters: valid on every cmdlet, not listed per cmdlet.
const COMMON: &[&str] = &[
    "Verbose",
    "Debug",
    "ErrorAction",
    "WarningAction",
    "InformationAction",
    "ErrorVariable",
    "WarningVariable",
    "OutVariable",
    "OutBuffer",
    "PipelineVariable",
    "WhatIf",
    "Confirm",
];

// --- tests -------------------------------------------------------------------------------

#[test]
fn every_script_parses_as_powershell() {
    let mut count = 0;
    for ir in all_irs() {
        for f in scripts(&ir) {
            let src = text(&f);
            let tree = parse(src);
            if let Some(e) = first_error(&tree, src) {
                panic!("{}/{} does not parse: {e}", ir.unit, f.path);
            }
            assert!(!tree.root_node().has_error(), "{}/{}", ir.unit, f.path);
            count += 1;
        }
    }
    assert!(count >= 40, "expected scripts for every example, got {count}");
}

/// Every `*-Mailsec*` helper a script calls is defined in that script: each script stands
/// alone, and a helper left out stops it at its first call (`ErrorActionPreference` Stop),
/// `-WhatIf` included.
#[test]
fn every_helper_a_script_calls_is_defined_in_it() {
    let mut calls = 0;
    for ir in all_irs() {
        let mut files = scripts(&ir);
        for t in [Target::Iis, Target::Tmg] {
            files.extend(render(t, &ir).unwrap_or_else(|e| panic!("{}: {e}", ir.unit)));
        }
        for f in files.iter().filter(|f| f.path.ends_with(".ps1")) {
            let src = text(f);
            let tree = parse(src);
            for cmd in commands(&tree, src) {
                if !cmd.name.contains("-Mailsec") {
                    continue;
                }
                assert!(
                    src.contains(&format!("function {} {{", cmd.name)),
                    "{}/{} calls {} but does not define it",
                    ir.unit,
                    f.path,
                    cmd.name
                );
                calls += 1;
            }
        }
    }
    assert!(calls >= 100, "helper calls checked: {calls}");
}

#[test]
fn cmdlets_and_parameters_exist_in_the_units_version() {
    let oracle = oracle();
    let cmdlets = oracle["cmdlets"].as_object().expect("cmdlets");
    let mut checked = 0;
    for ir in all_irs() {
        for f in scripts(&ir) {
            let product = version(&ir, &f).product();
            let src = text(&f);
            let tree = parse(src);
            for cmd in commands(&tree, src) {
                let Some(spec) = ci_get(cmdlets, &cmd.name) else {
                    continue;
                };
                let at = format!("{}/{}: {}", ir.unit, f.path, cmd.name);
                assert!(
                    strings(&spec["applicable"]).iter().any(|a| a == product),
                    "{at} does not exist in {product}"
                );
                let parameters = spec["parameters"].as_object().expect("parameters");
                for (name, colon, value) in params(&cmd, src) {
                    if COMMON.contains(&name.as_str()) && ci_get(parameters, &name).is_none() {
                        continue;
                    }
                    let p = ci_get(parameters, &name).unwrap_or_else(|| panic!("{at} has no parameter -{name}"));
                    assert!(
                        strings(&p["applicable"]).iter().any(|a| a == product),
                        "{at} -{name} does not exist in {product}"
                    );
                    let switch = p["switch"].as_bool().unwrap_or(false);
                    let values = strings(&p["values"]);
                    if values.is_empty() || (switch && !colon) {
                        continue;
                    }
                    let value = value.unwrap_or_else(|| panic!("{at} -{name} has no value"));
                    let words = literal_words(value, src).unwrap_or_else(|| {
                        panic!(
                            "{at} -{name} takes one of {values:?} but is given {}",
                            node_text(value, src)
                        )
                    });
                    assert!(!words.is_empty(), "{at} -{name}: no value");
                    for w in words {
                        assert!(
                            values.iter().any(|v| v.eq_ignore_ascii_case(&w)),
                            "{at} -{name} {w}: not one of {values:?}"
                        );
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 100, "expected many Exchange cmdlet calls, checked {checked}");
}

#[test]
fn roll_asa_script_parameters_follow_the_oracle() {
    let oracle = oracle();
    let script = &oracle["scripts"]["RollAlternateServiceAccountPassword.ps1"];
    let scopes = strings(&script["scope_params_one_of"]);
    let sources = strings(&script["source_params_one_of"]);
    let mut seen = 0;
    for ir in all_irs() {
        for f in scripts(&ir) {
            let src = text(&f);
            let tree = parse(src);
            for cmd in commands(&tree, src) {
                if !cmd.name.ends_with("RollAlternateServiceAccountPassword.ps1") {
                    continue;
                }
                seen += 1;
                let names: Vec<String> = params(&cmd, src).into_iter().map(|(n, _, _)| n).collect();
                let scope = names.iter().filter(|n| scopes.contains(n)).count();
                let source = names.iter().filter(|n| sources.contains(n)).count();
                assert_eq!((scope, source), (1, 1), "{}/{}: {names:?}", ir.unit, f.path);
                for n in &names {
                    assert!(
                        scopes.contains(n) || sources.contains(n) || n == "Verbose",
                        "{}/{}: unknown -{n}",
                        ir.unit,
                        f.path
                    );
                }
            }
        }
    }
    assert!(seen >= 2, "the S6 example and the 2016 fixture roll an ASA");
}

#[test]
fn every_change_is_guarded_by_should_process() {
    // Commands that change something, with the argument that makes a native command a change.
    let changes = |cmd: &Command<'_>, src: &str| -> bool {
        let name = cmd.name.to_ascii_lowercase();
        let args: Vec<&str> = cmd.elements.iter().map(|e| node_text(*e, src)).collect();
        match name.as_str() {
            "certutil.exe" => args.iter().any(|a| matches!(*a, "-addstore" | "-dspublish")),
            "setspn.exe" => args
                .iter()
                .any(|a| a.eq_ignore_ascii_case("-S") || a.eq_ignore_ascii_case("-A")),
            "secedit.exe" => args.contains(&"/configure"),
            "certreq.exe" | "gpupdate.exe" | "restart-service" | "import-certificate" | "set-content" | "new-item" => {
                true
            }
            n if n.ends_with("rollalternateserviceaccountpassword.ps1") => true,
            n => {
                ["new-", "set-", "enable-", "import-", "remove-"]
                    .iter()
                    .any(|p| n.starts_with(p))
                    && !matches!(n, "set-strictmode" | "import-module" | "new-object")
            }
        }
    };
    let guarded = |n: Node<'_>, src: &str| -> bool {
        let mut cur = n;
        while let Some(parent) = cur.parent() {
            if cur.kind() == "statement_block" && matches!(parent.kind(), "if_statement" | "elseif_clause") {
                let cond = parent.child_by_field_name("condition").map(|c| node_text(c, src));
                if cond.is_some_and(|c| c.contains("$PSCmdlet.ShouldProcess(")) {
                    return true;
                }
            }
            cur = parent;
        }
        false
    };
    let mut count = 0;
    for ir in all_irs() {
        for f in scripts(&ir) {
            let src = text(&f);
            let tree = parse(src);
            for cmd in commands(&tree, src) {
                if changes(&cmd, src) {
                    count += 1;
                    assert!(
                        guarded(cmd.node, src),
                        "{}/{}: `{}` at line {} is not inside `if ($PSCmdlet.ShouldProcess(...))`",
                        ir.unit,
                        f.path,
                        node_text(cmd.node, src).lines().next().unwrap_or(""),
                        cmd.node.start_position().row + 1
                    );
                }
            }
        }
    }
    assert!(count >= 50, "expected many guarded changes, found {count}");
}

#[test]
fn every_script_has_the_contract_preamble() {
    for ir in all_irs() {
        for f in scripts(&ir) {
            let src = text(&f);
            let at = format!("{}/{}", ir.unit, f.path);
            let host = f.host.as_deref().expect("host");
            let step = f.path.rsplit('/').next().unwrap().trim_end_matches(".ps1");
            assert!(src.contains(&format!("# Unit:     {}", ir.unit)), "{at}: unit");
            assert!(src.contains(&format!("# Host:     {host}")), "{at}: host");
            assert!(src.contains(&format!("# Step:     {step} (")), "{at}: step");
            assert!(src.contains("# Sources:  "), "{at}: sources");
            let binding = src
                .find("[CmdletBinding(SupportsShouldProcess = $true)]")
                .expect("CmdletBinding");
            let strict = src.find("\nSet-StrictMode -Version Latest\n").expect("strict mode");
            let stop = src
                .find("\n$ErrorActionPreference = 'Stop'\n")
                .expect("error preference");
            assert!(binding < strict && strict < stop, "{at}: preamble order");
            // Nothing but comments before [CmdletBinding()].
            assert!(
                src[..binding].lines().all(|l| l.starts_with('#')),
                "{at}: code before the param block"
            );
            assert!(
                src.ends_with('\n') && !src.contains('\r') && src.is_ascii(),
                "{at}: LF-only ASCII"
            );
            let phase = ir
                .operations
                .iter()
                .find(|o| o.id == f.operations[0])
                .expect("op")
                .phase;
            assert_eq!(
                f.path,
                format!(
                    "exchange/{}/{:02}-{}.ps1",
                    mailsec::backend::sanitize_component(host),
                    phase.number(),
                    phase.slug()
                )
            );
        }
    }
}

/// The header names the Exchange product exactly when the script calls its cmdlets: a
/// domain controller's, a SEG's or a TMG server's steps run no Exchange there, and a header
/// saying "Exchange Server 2010" on a TMG server would send the admin looking for a shell
/// that is not installed.
#[test]
fn the_header_names_exchange_only_where_its_cmdlets_run() {
    let oracle = oracle();
    let cmdlets = oracle["cmdlets"].as_object().expect("cmdlets");
    let (mut with, mut without) = (0, 0);
    for ir in all_irs() {
        let tmg = render(Target::Tmg, &ir).unwrap_or_else(|e| panic!("{}: {e}", ir.unit));
        for f in scripts(&ir).into_iter().chain(tmg) {
            if !f.path.ends_with(".ps1") {
                continue;
            }
            let src = text(&f);
            let tree = parse(src);
            let calls = commands(&tree, src).iter().any(|c| ci_get(cmdlets, &c.name).is_some());
            let line = format!("# Exchange: {}\n", version(&ir, &f).product());
            let at = format!("{}/{}", ir.unit, f.path);
            if calls {
                assert!(
                    src.contains(&line),
                    "{at}: calls Exchange cmdlets, header lacks {line:?}"
                );
                with += 1;
            } else {
                assert!(
                    !src.contains("# Exchange:"),
                    "{at}: runs no Exchange cmdlet, header names Exchange"
                );
                without += 1;
            }
        }
    }
    assert!(
        with >= 10 && without >= 10,
        "{with} scripts with Exchange, {without} without"
    );
}

#[test]
fn files_hold_each_exchange_operation_once_in_ir_order() {
    for ir in all_irs() {
        let files = scripts(&ir);
        let listed: Vec<&str> = files
            .iter()
            .flat_map(|f| f.operations.iter().map(String::as_str))
            .collect();
        let owned: BTreeSet<&str> = ir
            .operations
            .iter()
            .filter(|o| owner(o, &ir) == Some(Target::Exchange))
            .map(|o| o.id.as_str())
            .collect();
        assert_eq!(listed.iter().copied().collect::<BTreeSet<_>>(), owned, "{}", ir.unit);
        assert_eq!(listed.len(), owned.len(), "{}: an operation in two files", ir.unit);
        for f in &files {
            assert_eq!(f.target, Target::Exchange);
            let ops: Vec<_> = f
                .operations
                .iter()
                .map(|id| ir.operations.iter().position(|o| &o.id == id).expect("op"))
                .collect();
            assert!(ops.windows(2).all(|w| w[0] < w[1]), "{}/{}: IR order", ir.unit, f.path);
            for &i in &ops {
                let op = &ir.operations[i];
                assert_eq!(Some(op.host.as_str()), f.host.as_deref());
            }
            let _ = sections(f);
        }
        let paths: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths.len(), files.len(), "{}: duplicate paths", ir.unit);
    }
}

#[test]
fn output_is_deterministic() {
    for ir in all_irs() {
        let a = scripts(&ir);
        let b = scripts(&ir.clone());
        assert_eq!(a, b, "{}", ir.unit);
    }
}

#[test]
fn s1_runs_csr_trust_import_enable_connectors_verification_and_gated_retirement_in_order() {
    // The example when it is there, and always the fixture with the same intent.
    let mut irs: Vec<Ir> = example_irs().into_iter().filter(|i| i.unit == "s1-one-mail").collect();
    irs.push(fixture("s1-one-mail-fixture"));
    for ir in &irs {
        s1_order(ir);
    }
}

fn s1_order(ir: &Ir) {
    let files = scripts(ir);
    let all: Vec<(&str, &str)> = files.iter().flat_map(sections).collect();
    let pos = |prefix: &str| -> usize {
        all.iter()
            .position(|(id, _)| id.starts_with(prefix))
            .unwrap_or_else(|| panic!("no operation {prefix}"))
    };
    let body = |prefix: &str| all[pos(prefix)].1;
    let command = |prefix: &str, name: &str| -> Vec<(String, Vec<String>)> {
        let src = body(prefix);
        let tree = parse(src);
        let cmd = commands(&tree, src)
            .into_iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{prefix} has no {name}"));
        params(&cmd, src)
            .into_iter()
            .map(|(n, _, v)| (n, v.and_then(|v| literal_words(v, src)).unwrap_or_default()))
            .collect()
    };
    let arg = |args: &[(String, Vec<String>)], name: &str| -> Vec<String> {
        args.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no -{name}"))
    };
    let set = |v: Vec<String>| v.into_iter().collect::<BTreeSet<_>>();
    let words = |w: &[&str]| w.iter().map(|s| (*s).to_string()).collect::<BTreeSet<_>>();

    // The CSR: a key of at least 2048 bits.
    let csr = command("csr/", "New-ExchangeCertificate");
    let key: u32 = arg(&csr, "KeySize")[0].parse().expect("number");
    assert!(key >= 2048, "key size {key}");
    assert!(csr.iter().any(|(n, _)| n == "GenerateRequest"));
    // Trust and import: the root is trusted before the certificate is imported. (Trust lives
    // in phase 10 and the CSR in phase 20; the two are independent, so only their order
    // relative to the import is asserted.)
    let trust = body("trust/");
    assert!(trust.contains("Import-Certificate") && trust.contains("'Cert:\\LocalMachine\\Root'"));
    assert!(pos("trust/") < pos("import/") && pos("csr/") < pos("import/"));
    let import = command("import/", "Import-ExchangeCertificate");
    assert!(import.iter().any(|(n, _)| n == "FileData"));
    // SMTP enablement, then the check that no other certificate is enabled for SMTP.
    let enable = command("enable/", "Enable-ExchangeCertificate");
    assert_eq!(arg(&enable, "Services"), vec!["SMTP"]);
    assert!(body("enable/").contains("-Thumbprint $certificate[0].Thumbprint"));
    // S1-4: the issued certificate is found by the thumbprint of the returned file, never by
    // the requested subject (the CA rewrites it); import, enable and check all do so.
    for step in ["import/", "enable/", "verify-smtp-cert/"] {
        assert!(
            body(step).contains("Get-MailsecIssuedCertificate -Path $certFile"),
            "{step} does not read the issued file"
        );
        assert!(
            !body(step).contains("ConvertTo-MailsecDnKey"),
            "{step} looks the certificate up by subject"
        );
    }
    // S1-3: -Force would replace the internal transport certificate: it is read before and
    // made the default again after.
    let enable_body = body("enable/");
    let before = enable_body
        .find("$defaultSmtp = Get-MailsecInternalTransportThumbprint")
        .expect("reads the default SMTP certificate first");
    let force = enable_body.find("`\n                -Force").expect("-Force");
    let restore = enable_body
        .find("-Thumbprint $defaultSmtp -Services 'SMTP' -Force")
        .expect("restores the default SMTP certificate");
    assert!(before < force && force < restore);
    // S1-1: the self-signed setup certificate also holds SMTP on every 2010 hub and cannot
    // lose it: only another SMTP certificate holding the connector FQDN is an error.
    let check = body("verify-smtp-cert/");
    assert!(!check.contains("Only ' + 'one_mail") && !check.contains("take SMTP off"));
    assert!(
        check.contains("-contains $connectorFqdn"),
        "compares the connector FQDN"
    );
    // S1-4: the connector's FQDN is the CN of the issued certificate, read at run time.
    let receive_body = body("receive-connector/");
    assert!(receive_body.contains("$connectorFqdn = (Get-MailsecIssuedCertificate -Path $issuedFile).GetNameInfo("));
    assert!(receive_body.contains("-Fqdn $connectorFqdn"));
    assert!(body("verify-connector/receive/").contains("Fqdn -Expected $connectorFqdn"));
    // S1-6: the partner root is checked by the chain of the issued certificate, not by the
    // common name of the guide's test root.
    let trust_body = body("trust/");
    let chain = trust_body.find("$chain.Build(").expect("chain check");
    assert!(!trust_body[..chain].contains("throw ($caFile + ' is the certificate of '"));
    // The receive connector: the four partner addresses, TLS + Basic + Integrated, every
    // permission group but Partners.
    let receive = command("receive-connector/", "New-ReceiveConnector");
    assert_eq!(
        set(arg(&receive, "RemoteIPRanges")),
        words(&["76.75.133.96", "76.75.164.96", "76.75.149.54", "76.75.177.138"])
    );
    assert_eq!(
        set(arg(&receive, "AuthMechanism")),
        words(&["Tls", "BasicAuth", "Integrated"])
    );
    let groups = set(arg(&receive, "PermissionGroups"));
    assert!(!groups.contains("Partners"));
    assert_eq!(
        groups,
        words(&[
            "AnonymousUsers",
            "ExchangeUsers",
            "ExchangeServers",
            "ExchangeLegacyServers"
        ])
    );
    // The send connector: Basic auth to the partner smart host with mandatory TLS.
    let send = command("send-connector/", "New-SendConnector");
    assert_eq!(arg(&send, "SmartHosts"), vec!["smtp.tls.one-mail.on.ca"]);
    assert_eq!(arg(&send, "SmartHostAuthMechanism"), vec!["BasicAuth"]);
    assert_eq!(arg(&send, "RequireTLS"), vec!["$true"]);
    assert_eq!(arg(&send, "IgnoreSTARTTLS"), vec!["$false"]);
    assert_eq!(arg(&send, "DNSRoutingEnabled"), vec!["$false"]);
    // Verification of the send connector reads RequireTLS, IgnoreSTARTTLS and the auth back.
    let verify = body("verify-connector/send/");
    for check in [
        "RequireTLS -Expected 'True'",
        "IgnoreSTARTTLS -Expected 'False'",
        "SmartHostAuthMechanism -Expected 'BasicAuth'",
    ] {
        assert!(verify.contains(check), "send verification lacks {check}");
    }
    // The gated retirement: the gate stands before the removal.
    let retire = body("retire/send/");
    let gate = retire
        .find("Assert-MailsecGate -Operation 'retire/send/")
        .expect("gate");
    let remove = retire.find("Remove-SendConnector").expect("removal");
    assert!(gate < remove);
    // S1-5 (guide 10.0): the old connector's cost goes up before the new one is created.
    let order = [
        "import/",
        "enable/",
        "verify-smtp-cert/",
        "receive-connector/",
        "verify-connector/receive/",
        "restart-transport/",
        "connector-cost/",
        "send-connector/",
        "verify-connector/send/",
        "retire/send/",
    ];
    for w in order.windows(2) {
        assert!(pos(w[0]) < pos(w[1]), "{} must come before {}", w[0], w[1]);
    }
}

#[test]
fn gates_stand_in_front_of_gated_operations() {
    let mut gated = 0;
    for ir in all_irs() {
        let files = scripts(&ir);
        for f in &files {
            let src = text(f);
            for (id, body) in sections(f) {
                let op = ir.operations.iter().find(|o| o.id == id).expect("op");
                let Some(gate) = &op.gate else {
                    assert!(!body.contains("Assert-MailsecGate"), "{id}: gate without a gate");
                    continue;
                };
                gated += 1;
                let first = body.lines().next().unwrap_or("");
                assert!(
                    first.starts_with("Assert-MailsecGate -Operation "),
                    "{}/{}: {id} does not start with its gate",
                    ir.unit,
                    f.path
                );
                let (date, text) = match gate {
                    Gate::NotBefore { date } => (Some(date), None),
                    Gate::Approval { text } => (None, Some(text)),
                    Gate::Both { date, text } => (Some(date), Some(text)),
                };
                if let Some(d) = date {
                    assert!(first.contains(&format!("-NotBefore '{d}'")), "{id}: date");
                }
                if text.is_some() {
                    assert!(first.contains("-Approval ") && first.ends_with("-IsApproved $Approved.IsPresent"));
                    assert!(src.contains("[switch]$Approved"), "{}: no -Approved switch", f.path);
                }
            }
            if src.contains("Assert-MailsecGate -Operation") {
                let def = src.find("function Assert-MailsecGate").expect("gate helper");
                let helper = &src[def..];
                assert!(helper.contains("if ((Get-Date) -lt $date)"));
                assert!(helper.contains("Stop-Mailsec -Message ('Stopped before "));
            }
        }
    }
    assert!(gated >= 5, "S1 gates its send connector and retirements");
}

#[test]
fn secrets_are_asked_for_never_written() {
    let mut seen = 0;
    for ir in all_irs() {
        let files = scripts(&ir);
        for op in &ir.operations {
            let Action::SendConnector {
                credential: Some(secret),
                smart_hosts,
                ..
            } = &op.action
            else {
                continue;
            };
            if smart_hosts.is_empty() {
                continue;
            }
            seen += 1;
            let f = files
                .iter()
                .find(|f| f.operations.contains(&op.id))
                .expect("file of the send connector");
            let src = text(f);
            let tree = parse(src);
            let lookup = format!("Get-MailsecCredential -Name {}", quote_like(&secret.name));
            assert!(src.contains(&lookup), "{}: no lookup of {}", f.path, secret.name);
            let def = src.find("function Get-MailsecCredential").expect("credential helper");
            let helper = &src[def..];
            assert!(helper.contains("Get-Credential") && helper.contains("Get-Secret -Vault $SecretVault"));
            for cmd in commands(&tree, src) {
                for (name, _, value) in params(&cmd, src) {
                    if name == "AuthenticationCredential" {
                        assert_eq!(value.map(|v| node_text(v, src)), Some("$credential"), "{}", f.path);
                    }
                }
            }
        }
        for f in &files {
            let src = text(f);
            for banned in [
                "ConvertTo-SecureString",
                "-AsPlainText",
                "PSCredential -ArgumentList",
                "-Password '",
            ] {
                assert!(!src.contains(banned), "{}/{}: {banned}", ir.unit, f.path);
            }
        }
    }
    assert!(seen >= 2, "S1 and the injection fixture have smart-host credentials");
}

/// How a plain secret name is written (names are `[A-Za-z0-9_.-]`, so no quoting is needed).
fn quote_like(name: &str) -> String {
    assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)));
    format!("'{name}'")
}

#[test]
fn metacharacters_in_names_stay_inert() {
    let ir = fixture("injection");
    let files = scripts(&ir);
    assert!(files.len() >= 4, "the injection fixture reaches several scripts");
    let allowed = allowed_commands();
    let mut literals: Vec<String> = Vec::new();
    for f in &files {
        let src = text(f);
        let tree = parse(src);
        if let Some(e) = first_error(&tree, src) {
            panic!("{} does not parse: {e}", f.path);
        }
        for cmd in commands(&tree, src) {
            assert!(
                allowed.contains(&cmd.name.to_ascii_lowercase()),
                "{}: unexpected command `{}` at line {}",
                f.path,
                cmd.name,
                cmd.node.start_position().row + 1
            );
        }
        for n in nodes(&tree) {
            match n.kind() {
                "verbatim_string_characters" => literals.push(verbatim(node_text(n, src))),
                // A user string in a double-quoted string would expand `$(...)`.
                "expandable_string_literal" | "expandable_here_string_literal" => {
                    let t = node_text(n, src);
                    assert!(!t.contains("calc") && !t.contains("Remove-Item"), "{}: {t}", f.path);
                }
                "comment" => {
                    // Comments hold one line each; no user string ends one early.
                    assert!(!node_text(n, src).contains('\n'), "{}", f.path);
                }
                _ => {}
            }
        }
    }
    // The dangerous parts of the user strings arrive as literal text.
    for needle in [
        "x'; Remove-Item C:\\ -Recurse; '",
        "$(calc) `\"; & calc.exe; \" ",
        "approved by '; Remove-Item C:\\ -Recurse; ' $(calc)",
        "old'; Remove-Item C:\\ -Recurse; '",
        "u'; Remove-Item C:\\ -Recurse; '@evil.example",
        "$(calc)@evil.example",
        "certs\\x'; Remove-Item C:\\ -Recurse; '.cer",
    ] {
        assert!(
            literals.iter().any(|l| l.contains(needle)),
            "`{needle}` is not a literal in any script"
        );
    }
}

#[test]
fn every_command_is_one_the_backend_means_to_run() {
    let allowed = allowed_commands();
    for ir in all_irs() {
        for f in scripts(&ir) {
            let src = text(&f);
            let tree = parse(src);
            // `& { ... }` runs a block in a child scope; the commands inside are checked one by one.
            for cmd in commands(&tree, src).into_iter().filter(|c| !c.name.starts_with('{')) {
                assert!(
                    allowed.contains(&cmd.name.to_ascii_lowercase()),
                    "{}/{}: unexpected command `{}`",
                    ir.unit,
                    f.path,
                    cmd.name
                );
            }
        }
    }
}

fn allowed_commands() -> BTreeSet<String> {
    [
        // PowerShell
        "Set-StrictMode",
        "Write-Host",
        "Write-Warning",
        "Get-Command",
        "Resolve-Path",
        "Join-Path",
        "Split-Path",
        "Test-Path",
        "New-Object",
        "New-Item",
        "Get-Location",
        "Push-Location",
        "Pop-Location",
        "Get-ChildItem",
        "Get-Content",
        "Set-Content",
        "Export-Clixml",
        "Import-Module",
        "Where-Object",
        "ForEach-Object",
        "Sort-Object",
        "Select-Object",
        "Out-Null",
        "Get-Date",
        "Read-Host",
        "Get-Credential",
        "Get-Secret",
        "Restart-Service",
        "Import-Certificate",
        // Exchange Online session
        "Get-ConnectionInformation",
        "Connect-ExchangeOnline",
        // Exchange
        "Get-AcceptedDomain",
        "Get-ExchangeServer",
        "Get-ExchangeCertificate",
        "New-ExchangeCertificate",
        "Import-ExchangeCertificate",
        "Enable-ExchangeCertificate",
        "Get-ReceiveConnector",
        "New-ReceiveConnector",
        "Set-ReceiveConnector",
        "Remove-ReceiveConnector",
        "Get-SendConnector",
        "New-SendConnector",
        "Set-SendConnector",
        "Remove-SendConnector",
        "Get-SmimeConfig",
        "Set-SmimeConfig",
        "Get-Mailbox",
        "Get-MailUser",
        "Get-Recipient",
        "Get-ActiveSyncVirtualDirectory",
        "Set-ActiveSyncVirtualDirectory",
        "Get-ClientAccessServer",
        "Get-ClientAccessArray",
        "Get-Service",
        "Get-ADDomainController",
        "Get-ClientAccessService",
        ".\\RollAlternateServiceAccountPassword.ps1",
        // Active Directory
        "Get-ADComputer",
        "New-ADComputer",
        "Set-ADComputer",
        "Set-ADAccountControl",
        // Native
        "certutil.exe",
        "certreq.exe",
        "setspn.exe",
        "secedit.exe",
        "gpupdate.exe",
        // The scripts' own helpers
        "Stop-Mailsec",
        "Resolve-MailsecPath",
        "Assert-MailsecGate",
        "ConvertTo-MailsecDnKey",
        "ConvertTo-MailsecBytes",
        "ConvertTo-MailsecSet",
        "Test-MailsecSame",
        "Get-MailsecCredential",
        "Get-MailsecRightHolders",
        "Assert-MailsecSpnUnique",
        "Get-MailsecIssuedCertificate",
        "Get-MailsecInternalTransportThumbprint",
    ]
    .iter()
    .map(|s| s.to_ascii_lowercase())
    .collect()
}

#[test]
fn native_commands_check_their_exit_code() {
    let mut count = 0;
    for ir in all_irs() {
        for f in scripts(&ir) {
            let src = text(&f);
            let tree = parse(src);
            for cmd in commands(&tree, src) {
                if !cmd.name.ends_with(".exe") {
                    continue;
                }
                count += 1;
                // The statement holding the command (not a statement inside `@(...)`), then
                // the next statement.
                let mut stmt = cmd.node;
                while let Some(p) = stmt.parent() {
                    let block = p.parent().map(|g| g.kind()).unwrap_or("program");
                    if p.kind() == "statement_list"
                        && matches!(
                            block,
                            "program" | "statement_block" | "script_block_body" | "script_block"
                        )
                    {
                        break;
                    }
                    stmt = p;
                }
                let next = stmt.next_named_sibling().map(|n| node_text(n, src)).unwrap_or("");
                assert!(
                    next.contains("$LASTEXITCODE"),
                    "{}/{}: `{}` (line {}) is not followed by a $LASTEXITCODE check",
                    ir.unit,
                    f.path,
                    cmd.name,
                    cmd.node.start_position().row + 1
                );
            }
        }
    }
    assert!(count >= 20, "{count}");
}

#[test]
fn spns_use_setspn_s_and_ntauth_is_spelled_ntauthca() {
    let mut spn = 0;
    let mut ntauth = 0;
    for ir in all_irs() {
        for f in scripts(&ir) {
            let src = text(&f);
            let tree = parse(src);
            for cmd in commands(&tree, src) {
                let args: Vec<&str> = cmd.elements.iter().map(|e| node_text(*e, src)).collect();
                match cmd.name.as_str() {
                    "setspn.exe" => {
                        assert!(
                            !args.iter().any(|a| a.eq_ignore_ascii_case("-A")),
                            "{}: setspn -A",
                            f.path
                        );
                        spn += usize::from(args.first() == Some(&"-S"));
                    }
                    "certutil.exe" if args.contains(&"-dspublish") => {
                        assert_eq!(args.last(), Some(&"NTAuthCA"), "{}", f.path);
                        ntauth += 1;
                    }
                    _ => {}
                }
            }
            if f.operations.iter().any(|id| id.starts_with("spn/")) {
                assert!(
                    src.contains("Assert-MailsecSpnUnique -Spn $spn\n"),
                    "{}: no setspn -Q -F for the registered SPN",
                    f.path
                );
            }
        }
    }
    assert!(spn >= 4 && ntauth >= 5, "{spn} {ntauth}");
}

#[test]
fn version_gated_parameters_follow_the_version() {
    // Exchange 2010: no TransportRole, no TlsCertificateName, CSR text written by the script.
    for ir in example_irs()
        .iter()
        .filter(|i| i.organization.exchange == ExchangeVersion::E2010)
    {
        for f in scripts(ir) {
            let src = text(&f);
            let tree = parse(src);
            for cmd in commands(&tree, src) {
                assert_ne!(cmd.name, "Get-ClientAccessService", "{}", f.path);
                for (name, _, _) in params(&cmd, src) {
                    assert!(
                        !matches!(name.as_str(), "TransportRole" | "TlsCertificateName" | "RequestFile"),
                        "{}: {} -{name}",
                        f.path,
                        cmd.name
                    );
                }
            }
        }
    }
    // Exchange 2016: the front-end role for a port-25 receive connector, the pinned
    // certificate, and the per-server ASA roll read back with Get-ClientAccessService.
    let ir = fixture("exchange-2016");
    let all: String = scripts(&ir).iter().map(|f| text(f).to_string()).collect();
    assert!(all.contains("-TransportRole 'FrontendTransport'"));
    // The pinned certificate's issuer and subject come from the issued certificate at run
    // time, never from the intent's subject (its order and escaping are not Windows').
    assert!(all.contains("$tlsCertificateName = '<I>' + $tlsCertificate.Issuer + '<S>' + $tlsCertificate.Subject"));
    assert!(all.contains("-TlsCertificateName $tlsCertificateName"));
    assert!(all.contains("-Actual $connector[0].TlsCertificateName -Expected $tlsCertificateName"));
    assert!(!all.contains("'<I>CN="), "no literal TlsCertificateName");
    assert!(all.contains("Get-ClientAccessService -Identity $member"));
    assert!(all.contains("-ToSpecificServer 'mbx02.corp.fabrikam.com' -CopyFrom 'mbx01.corp.fabrikam.com'"));
    // Exchange 2010 with S/MIME on premises: refused by the checker (MS0221) before any
    // script could call a cmdlet that version does not have.
    let text = std::fs::read_to_string(root().join("tests/fixtures/exchange/exchange-2010-limits.mailsec")).unwrap()
        + "\nsmime onprem {\n  mode = on_premises\n  sst = file(\"s.sst\")\n  authorities = [partner_ca]\n}\n";
    let c = crate::common::compile_text("limits.mailsec", &text);
    assert!(c.diags.iter().any(|d| d.code.as_str() == "MS0221"), "{:?}", c.diags);
    assert!(c.ir.is_none());
}

#[test]
fn embedded_cmdlet_reference_agrees_with_the_oracle() {
    let oracle = oracle();
    let embedded: Json =
        serde_json::from_str(include_str!("../src/backend/exchange/cmdlets.json")).expect("embedded parses");
    let cmdlets = embedded["cmdlets"].as_object().expect("cmdlets");
    assert!(cmdlets.len() >= 15);
    for (name, c) in cmdlets {
        let o = &oracle["cmdlets"][name];
        assert_eq!(c["applicable"], o["applicable"], "{name}");
        let params = c["parameters"].as_object().expect("parameters");
        assert_eq!(
            params.keys().collect::<BTreeSet<_>>(),
            o["parameters"]
                .as_object()
                .expect("oracle parameters")
                .keys()
                .collect::<BTreeSet<_>>(),
            "{name}: parameter names"
        );
        for (p, spec) in params {
            let op = &o["parameters"][p];
            assert_eq!(spec["applicable"], op["applicable"], "{name} -{p}");
            assert_eq!(
                spec["switch"].as_bool().unwrap_or(false),
                op["switch"].as_bool().unwrap_or(false)
            );
            if op["values_source"] != "type:Boolean" {
                assert_eq!(strings(&spec["values"]), strings(&op["values"]), "{name} -{p} values");
            }
        }
    }
}

#[test]
fn snapshots_of_every_script() {
    for ir in all_irs() {
        for f in scripts(&ir) {
            let name = format!("{}__{}", ir.unit, f.path.replace('/', "__"));
            let body = text(&f).to_string();
            insta::with_settings!({snapshot_path => "../snapshots/exchange", prepend_module_to_snapshot => false}, {
                insta::assert_snapshot!(name, body);
            });
        }
    }
}

#[test]
fn activesync_script_sets_the_external_url_the_runbook_sets() {
    // I-5: the runbook's "by hand" command sets -ExternalUrl; the script must make the same
    // change, and compare it before.
    let mut seen = 0;
    for ir in all_irs() {
        let files = scripts(&ir);
        for (id, body) in files.iter().flat_map(sections) {
            let Some(op) = ir.operations.iter().find(|o| o.id == id) else {
                continue;
            };
            if let Action::ActiveSyncDirectory {
                external_host: Some(h), ..
            } = &op.action
            {
                let url = format!("'https://{h}/Microsoft-Server-ActiveSync'");
                assert!(
                    body.contains(&format!("-ExternalUrl {url}")),
                    "{}/{id}: sets ExternalUrl",
                    ir.unit
                );
                assert!(
                    body.contains(&format!("ExternalUrl -Expected {url}")),
                    "{}/{id}: compares ExternalUrl",
                    ir.unit
                );
                seen += 1;
            }
        }
    }
    assert!(seen >= 3, "the EAS examples declare external hosts, saw {seen}");
}

#[test]
fn smime_checks_follow_the_hybrid_object_model() {
    // S2-1: in Exchange Online an on-premises user is a mail user, not a mailbox: the check
    // asks what the recipient is first. S2-2: in hybrid, userCertificate counts too, and the
    // certificate must come from a CA in the uploaded store. S2-4: the store is compared by
    // thumbprints, not bytes.
    let irs = example_irs();
    for unit in ["s2-smime-hybrid", "s2-smime-cloud"] {
        let ir = irs.iter().find(|i| i.unit == unit).expect("example");
        let files = scripts(ir);
        let all: Vec<(&str, &str)> = files.iter().flat_map(sections).collect();
        let verify: Vec<&str> = all
            .iter()
            .filter(|(id, _)| id.starts_with("smime-verify/"))
            .map(|(_, b)| *b)
            .collect();
        assert!(!verify.is_empty(), "{unit}: user checks");
        for body in verify {
            let recipient = body.find("Get-Recipient -Identity").expect("recipient type first");
            let mailbox = body.find("Get-Mailbox -Identity").expect("mailbox");
            assert!(recipient < mailbox && body.contains("Get-MailUser -Identity"), "{unit}");
            assert_eq!(
                body.contains("@($holder.UserCertificate)"),
                unit == "s2-smime-hybrid",
                "{unit}: UserCertificate counts in hybrid only"
            );
            assert!(
                body.contains("$issuerNames -contains $_.Issuer"),
                "{unit}: issuer from the SST"
            );
        }
        let (_, config) = all
            .iter()
            .find(|(id, _)| id.starts_with("smime-config/"))
            .expect("upload");
        assert!(
            config.contains("$currentSet -eq $wantedSet") && !config.contains("-ceq $sstBase64"),
            "{unit}"
        );
    }
}

#[test]
fn s6_roll_script_runs_in_a_lenient_child_scope_with_the_array_name() {
    let irs = example_irs();
    let ir = irs.iter().find(|i| i.unit == "s6-seg-kcd").expect("S6");
    let files = scripts(ir);
    let all: Vec<(&str, &str)> = files.iter().flat_map(sections).collect();
    let (_, asa) = all.iter().find(|(id, _)| id.starts_with("asa/")).expect("ASA step");
    // S6-3: Microsoft's script under neither StrictMode nor Stop, given the array's name.
    let block = asa.find("& {").expect("child scope");
    let off = asa.find("Set-StrictMode -Off").expect("strict mode off");
    let roll = asa.find(".\\RollAlternateServiceAccountPassword.ps1").expect("roll");
    assert!(block < off && off < roll);
    assert!(asa.contains("$ErrorActionPreference = 'Continue'"));
    assert!(asa.contains("-ToArrayMembers $casArrayName"));
    assert!(asa.contains("$casArrayName = [string]$casArray[0].Name"));
    // S6-4: prerequisites checked before the roll.
    for pre in [
        "'MSExchangeServiceHost'",
        "Get-ADDomainController -Filter *",
        "AdminDisplayVersion",
    ] {
        assert!(asa.find(pre).is_some_and(|p| p < roll), "{pre} before the roll");
    }
    // S6-5: the SPNs this change owns are checked forest-wide one by one (setspn -Q -F); the
    // forest-wide duplicate scan only reports.
    let (_, dup) = all
        .iter()
        .find(|(id, _)| id.starts_with("verify-spn/"))
        .expect("SPN check");
    assert!(dup.contains("Assert-MailsecSpnUnique -Spn 'http/casarray.corp.contoso.com'"));
    assert!(dup.contains("setspn.exe -X -F") && dup.contains("Write-Warning ('setspn -X -F"));
    // S6-7: only the SPN registered on the ASA is delegated.
    for (id, body) in all.iter().filter(|(id, _)| id.starts_with("delegation/")) {
        assert!(
            !body.contains("http/CASARRAY"),
            "{id}: short array SPN is never registered"
        );
    }
}

/// Publishing to NTAuth decides by the enterprise store in Active Directory (the
/// `cACertificate` attribute of `CN=NTAuthCertificates`), not by this computer's NTAuth
/// cache, which lags behind replication and a policy refresh: a run after a successful
/// publish must find it published and change nothing.
#[test]
fn ntauth_publishing_reads_the_enterprise_store() {
    let mut publishing = 0;
    for ir in all_irs() {
        for f in scripts(&ir) {
            let src = text(&f);
            let Some(publish) = src.find("certutil.exe -dspublish -f $caFile NTAuthCA") else {
                continue;
            };
            let at = format!("{}/{}", ir.unit, f.path);
            let read = src[..publish]
                .rfind("Properties['cACertificate']")
                .unwrap_or_else(|| panic!("{at}: publishes without reading the enterprise store"));
            let decide = src[read..publish]
                .find("if ($published) {")
                .unwrap_or_else(|| panic!("{at}: not decided by the store"));
            assert!(
                !src[read + decide..publish].contains("Test-Path -LiteralPath $ntauthKey"),
                "{at}: decided by the local NTAuth cache"
            );
            publishing += 1;
        }
    }
    assert!(publishing >= 5, "publishing scripts: {publishing}");
}

/// After granting user rights the script says what applies them: a built-in service
/// account's rights live in its logon session, made at start-up (restart the server); a
/// virtual or domain account gets them when its process starts (recycle the pool).
#[test]
fn granted_rights_say_how_they_take_effect() {
    let (mut builtin, mut other) = (0, 0);
    for ir in all_irs() {
        for f in scripts(&ir) {
            let src = text(&f);
            let Some(at) = src.find("$rightsIdentity = '") else {
                continue;
            };
            let identity = &src[at + 19..at + 19 + src[at + 19..].find('\'').expect("quoted identity")];
            let restart = src.contains("Write-Warning ('Restart ' + $env:COMPUTERNAME + ' before testing");
            let recycle = src.contains("; recycle the application pool or restart the service that runs as it')");
            if identity.to_ascii_uppercase().starts_with("NT AUTHORITY\\") {
                assert!(restart && !recycle, "{}/{}: {identity}", ir.unit, f.path);
                builtin += 1;
            } else {
                assert!(recycle && !restart, "{}/{}: {identity}", ir.unit, f.path);
                other += 1;
            }
        }
    }
    assert!(builtin >= 2, "built-in identities: {builtin}, others: {other}");
}

/// S/MIME certificates read from a recipient are decoded whatever form the shell returns:
/// byte arrays on premises, Base64 text from the Exchange Online module.
#[test]
fn published_user_certificates_are_read_as_bytes_or_base64() {
    let mut checked = 0;
    for ir in all_irs() {
        for f in scripts(&ir) {
            let src = text(&f);
            if !src.contains("$holder.UserSMimeCertificate") {
                continue;
            }
            assert!(
                src.contains("$blobs += ,(ConvertTo-MailsecBytes -Value $blob)") && !src.contains(",([byte[]]$blob)"),
                "{}/{}",
                ir.unit,
                f.path
            );
            assert!(src.contains("if ($Value -is [string]) { return ,[System.Convert]::FromBase64String($Value) }"));
            checked += 1;
        }
    }
    assert!(checked >= 2, "S/MIME checks: {checked}");
}
