//! The publishing script: a view of the host's listeners and rules, laid out by
//! `templates/tmg/publish.ps1.j2`. Every string reaches the script through the PowerShell
//! filters of the `exchange` backend's environment (`psq`, `ident`, `comment`).

use super::super::exchange;
use crate::ir::{Action, Host, Ir, Operation};
use minijinja::Environment;
use serde::Serialize;
use std::sync::LazyLock;

const TEMPLATES: &[(&str, &str)] = &[("publish.ps1.j2", include_str!("../../../templates/tmg/publish.ps1.j2"))];

static ENV: LazyLock<Result<Environment<'static>, String>> =
    LazyLock::new(|| exchange::powershell_environment(TEMPLATES).map_err(|e| format!("{e:#}")));

/// `FpcCredentialsDelegationType` (comenum.h): NonePassThrough 0, Basic 3,
/// KerberosConstrained 6.
fn delegation_type(delegation: &str) -> i64 {
    match delegation {
        "kerberos" => 6,
        "basic" => 3,
        _ => 0,
    }
}

/// Path of the published service below the public name (the wizard's path for the service).
fn service_path(service: &str) -> &'static str {
    match service {
        "owa" => "/owa/*",
        "outlook_anywhere" => "/rpc/*",
        _ => "/Microsoft-Server-ActiveSync/*",
    }
}

#[derive(Serialize)]
struct OpLine {
    number: usize,
    id: String,
    summary: String,
}

#[derive(Serialize)]
struct CheckView {
    summary: String,
    command: String,
    expect: String,
}

#[derive(Serialize)]
struct ListenerView {
    name: String,
    description: String,
    addresses: Vec<String>,
    certificate: String,
    certificate_cn: String,
    ssl_port: i64,
    http_port: i64,
    client_certificate: bool,
    basic: bool,
    forms: bool,
}

#[derive(Serialize)]
struct RuleView {
    name: String,
    description: String,
    listener: String,
    internal_site: String,
    public_name: String,
    path: String,
    ssl: bool,
    delegation_type: i64,
    spn: String,
    farm: Vec<String>,
    export_file: String,
    listener_export_file: String,
}

#[derive(Serialize)]
struct PassView {
    name: String,
    description: String,
    protocol: String,
    published_server: String,
    published_ip: String,
    addresses: Vec<String>,
}

#[derive(Serialize)]
struct View {
    unit: String,
    organization: String,
    host_label: String,
    computer_name: String,
    sources: Vec<String>,
    ops: Vec<OpLine>,
    checks: Vec<CheckView>,
    listeners: Vec<ListenerView>,
    rules: Vec<RuleView>,
    passes: Vec<PassView>,
}

/// Renders the publishing script of `host`.
pub(super) fn render(ir: &Ir, host: &Host, ops: &[&Operation]) -> Result<String, String> {
    let env = ENV.as_ref().map_err(|e| format!("templates: {e}"))?;
    let fqdn = host.fqdn.clone().unwrap_or_else(|| host.id.clone());
    let computer_name: String = fqdn
        .split('.')
        .next()
        .unwrap_or("")
        .chars()
        .take(15)
        .collect::<String>()
        .to_ascii_uppercase();
    let mut sources: Vec<String> = ops.iter().map(|o| o.source_file().to_string()).collect();
    sources.sort();
    sources.dedup();
    let mut view = View {
        unit: ir.unit.clone(),
        organization: ir.organization.name.clone(),
        host_label: format!("{} ({fqdn})", host.id),
        computer_name,
        sources,
        ops: ops
            .iter()
            .enumerate()
            .map(|(i, o)| OpLine {
                number: i + 1,
                id: o.id.clone(),
                summary: o.summary.clone(),
            })
            .collect(),
        checks: Vec::new(),
        listeners: Vec::new(),
        rules: Vec::new(),
        passes: Vec::new(),
    };
    for op in ops {
        match &op.action {
            Action::Check { command, expect } => view.checks.push(CheckView {
                summary: op.summary.clone(),
                command: command.clone(),
                expect: expect.clone(),
            }),
            Action::TmgListener {
                name,
                description,
                certificate,
                certificate_cn,
                auth,
                addresses,
                require_ssl,
            } => view.listeners.push(ListenerView {
                name: name.clone(),
                description: description.clone().unwrap_or_default(),
                addresses: addresses.clone(),
                certificate: certificate.clone(),
                certificate_cn: certificate_cn.clone(),
                ssl_port: 443,
                // `TCPPort = 0` disables HTTP on the listener (the default is 8080).
                http_port: if *require_ssl { 0 } else { 80 },
                client_certificate: auth == "client_certificate",
                basic: auth == "basic",
                forms: auth == "forms",
            }),
            Action::TmgPublishingRule {
                name,
                listener,
                exchange,
                service,
                internal_site,
                public_name,
                delegation,
                spn,
                farm,
                ssl_to_server,
            } => {
                let spn = crate::ir::tmg_delegation_spn(spn.as_deref(), internal_site, farm);
                let services = match service.as_str() {
                    "owa" => "Outlook Web Access",
                    "outlook_anywhere" => "Outlook Anywhere",
                    _ => "Exchange ActiveSync",
                };
                view.rules.push(RuleView {
                    name: name.clone(),
                    // No COM property holds the wizard's Exchange version and services: the
                    // description records them (the runbook has the console step).
                    description: format!("{}, {services}. Generated by mailsec.", exchange.product()),
                    listener: listener.clone(),
                    internal_site: internal_site.clone(),
                    public_name: public_name.clone(),
                    path: service_path(service).into(),
                    ssl: *ssl_to_server,
                    delegation_type: delegation_type(delegation),
                    spn: if delegation == "kerberos" { spn } else { String::new() },
                    farm: farm.clone(),
                    export_file: format!("{name}.tmg-export.xml"),
                    listener_export_file: format!("{listener}.tmg-export.xml"),
                });
            }
            Action::TmgServerPublishing {
                name,
                protocol,
                published_server,
                published_ip,
                addresses,
                description,
            } => view.passes.push(PassView {
                name: name.clone(),
                description: super::server_rule_description(description.as_deref()),
                protocol: protocol.clone(),
                published_server: published_server.clone(),
                published_ip: published_ip.clone().unwrap_or_default(),
                addresses: addresses.clone(),
            }),
            _ => return Err(format!("operation `{}` is not a TMG publishing step", op.id)),
        }
    }
    env.get_template("publish.ps1.j2")
        .and_then(|t| t.render(&view))
        .map_err(|e| format!("rendering the publishing script of {}: {e:#}", host.id))
}
