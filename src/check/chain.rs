//! Where the device certificate is authenticated along a delegation chain (ruling (a) of the
//! fidelity review): every chain has exactly one certificate hop, the first hop that
//! terminates the device's TLS. A TMG web listener terminates it (SSL bridging: TMG opens its
//! own session to the published server and holds no device key); a TMG server publishing rule
//! passes TCP through; IIS on a SEG or Exchange server terminates it. Every hop behind the
//! certificate hop receives a delegated Kerberos ticket and must accept it.

use super::lints::{iis_blocks, wants_certs};
use super::{Checked, Unit};
use crate::diagnostics::{Code, Diag, Diagnostics};
use crate::source::Span;

/// How a hop handles the device's TLS session.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tls<'a> {
    /// TMG web publishing: the listener terminates TLS; the rule names the next hop.
    Listener { listener: &'a Checked },
    /// TMG server publishing: TCP passed through untouched.
    PassThrough,
    /// A TMG server with no rule to the next hop: undecidable (MS0130).
    Unknown,
    /// IIS (SEG or Exchange) terminates TLS.
    Iis,
}

impl Tls<'_> {
    fn terminates(self) -> bool {
        matches!(self, Tls::Listener { .. } | Tls::Iis)
    }
}

fn is_tmg(unit: &Unit, server: &str) -> bool {
    unit.get(server)
        .is_some_and(|s| s.kind() == "server" && s.list("roles").iter().any(|r| r == "tmg"))
}

/// How `hop` (followed by `next`, if any) handles the device's TLS.
fn tls<'a>(unit: &'a Unit, hop: &str, next: Option<&str>) -> Tls<'a> {
    if !is_tmg(unit, hop) {
        return Tls::Iis;
    }
    let Some(next) = next else { return Tls::Unknown };
    for rule in unit.of_kind("publishing_rule") {
        if rule.text("published_server") != Some(next) {
            continue;
        }
        let listener = rule.text("listener").and_then(|l| unit.get(l));
        if let Some(listener) = listener.filter(|l| l.text("server") == Some(hop)) {
            return Tls::Listener { listener };
        }
    }
    let passes = unit
        .of_kind("tmg_server_publishing")
        .any(|r| r.text("server") == Some(hop) && r.text("published_server") == Some(next));
    if passes {
        Tls::PassThrough
    } else {
        Tls::Unknown
    }
}

/// Whether a block accepts a delegated Kerberos ticket. `password` on an ActiveSync
/// directory behind a delegating hop is lowered with Windows authentication on as well
/// (Basic stays for direct clients). A SEG never does (MS0256).
fn accepts_kerberos(b: &Checked) -> bool {
    b.kind() == "activesync" && matches!(b.text("auth"), Some("kerberos" | "password"))
}

/// Runs the chain checks.
pub(crate) fn run(unit: &Unit, diags: &mut Diagnostics) {
    let mut behind: Vec<String> = Vec::new();
    for c in unit.of_kind("chain") {
        let path = c.list_spans("path");
        let names: Vec<&str> = path.iter().map(|(n, _)| n.as_str()).collect();
        // Which hop terminates the device's TLS.
        let mut cert_hop = None;
        for (i, (hop, span)) in path.iter().enumerate() {
            let next = names.get(i + 1).copied();
            match tls(unit, hop, next) {
                Tls::Unknown => {
                    let what = next.map_or_else(
                        || "it is the last hop, so nothing is published behind it".to_string(),
                        |n| format!("no `publishing_rule` or `tmg_server_publishing` on `{hop}` publishes `{n}`"),
                    );
                    diags.push(
                        Diag::new(Code::TmgHopWithoutRule, *span, format!("TMG hop `{hop}` of chain `{}` publishes nothing to the next hop", c.name()))
                            .label(what)
                            .help(match next {
                                Some(n) => format!("declare a `publishing_rule` with `published_server = {n}` on a listener of `{hop}`, or a `tmg_server_publishing` block with `server = {hop}` and `published_server = {n}`"),
                                None => "end the path with the server that answers ActiveSync".to_string(),
                            }),
                    );
                    // Undecidable: no further findings on this chain's hops.
                    behind.extend(names.iter().map(|n| (*n).to_string()));
                    break;
                }
                t if t.terminates() => {
                    cert_hop = Some((i, t));
                    break;
                }
                _ => {}
            }
        }
        let Some((at, how)) = cert_hop else { continue };
        let (hop, hop_span) = (&path[at].0, path[at].1);
        let declared = c.text("client_certificates");
        if let Some(term) = declared.filter(|t| names.contains(t) && *t != hop.as_str()) {
            let why = match how {
                Tls::Listener { listener, .. } => format!(
                    "the TMG web listener `{}` on `{hop}` terminates the device's TLS here",
                    listener.name()
                ),
                _ => format!("`{hop}` terminates the device's TLS here"),
            };
            let mut d = Diag::new(
                Code::CertHopMismatch,
                c.span_of("client_certificates"),
                format!(
                    "`{term}` never sees the device certificate: `{hop}` terminates TLS first in chain `{}`",
                    c.name()
                ),
            )
            .label("not the certificate-terminating hop")
            .with(hop_span, why);
            if let Tls::Listener { .. } = how {
                d = d.help(format!("write `client_certificates = {hop}`, or publish `{}` with `tmg_server_publishing` so that it terminates TLS itself", names[at + 1]));
            } else {
                d = d.help(format!("write `client_certificates = {hop}`"));
            }
            diags.push(d);
        }
        // The certificate hop must authenticate the certificate (otherwise no hop does).
        match how {
            Tls::Listener { listener, .. } if listener.text("auth") != Some("client_certificate") => {
                diags.push(
                    Diag::new(Code::NoCertHop, listener.span_of("auth"), format!("no hop of chain `{}` authenticates the device certificate", c.name()))
                        .label("the listener that terminates the device's TLS does not ask for a certificate")
                        .with(hop_span, "first hop to terminate TLS")
                        .help(format!("write `auth = client_certificate`, or publish `{}` with `tmg_server_publishing` so that it authenticates the certificate", names[at + 1])),
                );
            }
            Tls::Iis if !iis_blocks(unit, hop).any(wants_certs) => {
                let block = iis_blocks(unit, hop).next();
                let mut d = Diag::new(
                    Code::NoCertHop,
                    block.map_or(hop_span, |b| b.span_of("auth")),
                    format!("no hop of chain `{}` authenticates the device certificate", c.name()),
                )
                .label(format!(
                    "`{hop}` terminates the device's TLS but does not ask for a certificate"
                ));
                if block.is_some() {
                    d = d.with(hop_span, "first hop to terminate TLS");
                }
                diags.push(d.help(format!(
                    "set `auth = certificate` on the `activesync` or `seg` block of `{hop}`"
                )));
            }
            _ => {}
        }
        // Every hop behind the certificate hop gets a delegated Kerberos ticket.
        // (Members of the target array stand where the last hop stands; a member declared
        // without a block is left alone: its ActiveSync may be configured outside the unit.)
        let mut later: Vec<(String, Span, bool)> = path[at + 1..].iter().map(|(n, s)| (n.clone(), *s, true)).collect();
        if let Some(asa) = c.text("target").and_then(|t| unit.get(t)) {
            for (m, s) in asa.list_spans("members") {
                if !later.iter().any(|(n, _, _)| *n == m) && !names.contains(&m.as_str()) {
                    later.push((m, s, false));
                }
            }
        }
        for (server, span, on_path) in later {
            behind.push(server.clone());
            let blocks: Vec<&Checked> = iis_blocks(unit, &server).collect();
            if blocks.is_empty() && on_path {
                diags.push(
                    Diag::new(
                        Code::KerberosNotAccepted,
                        span,
                        format!("delegated Kerberos ticket cannot be accepted by `{server}`"),
                    )
                    .label("behind a delegating hop; Windows authentication stays off")
                    .with(hop_span, "the certificate hop delegates from here")
                    .help(format!(
                        "declare an `activesync` block with `server = {server}` and `auth = kerberos`"
                    )),
                );
            }
            for b in blocks
                .iter()
                .filter(|b| b.kind() == "seg" && !wants_certs(b) && b.text("auth") != Some("kerberos"))
            {
                diags.push(
                    Diag::new(Code::SegKerberosInbound, b.span_of("server"), format!("SEG `{}` stands behind a delegating hop and would receive a Kerberos ticket", b.name()))
                        .label("SEG behind the certificate hop")
                        .with(hop_span, "the certificate hop delegates from here")
                        .help("let the SEG authenticate the device certificate (`auth = certificate`) and publish it through TMG with `tmg_server_publishing`"),
                );
            }
            for b in blocks
                .into_iter()
                .filter(|b| !wants_certs(b) && !accepts_kerberos(b) && b.kind() == "activesync")
            {
                diags.push(
                    Diag::new(
                        Code::KerberosNotAccepted,
                        b.span_of("auth"),
                        format!(
                            "delegated Kerberos ticket cannot be accepted by the `{}` of `{server}`",
                            b.kind()
                        ),
                    )
                    .label("Windows authentication off")
                    .with(hop_span, "the certificate hop delegates from here")
                    .help("write `auth = kerberos`"),
                );
            }
        }
    }
    for b in unit.blocks.iter().filter(|b| matches!(b.kind(), "activesync" | "seg")) {
        let Some(server) = b.text("server") else { continue };
        if b.kind() == "seg" && b.text("auth") == Some("kerberos") {
            diags.push(
                Diag::new(Code::SegKerberosInbound, b.span_of("auth"), format!("SEG `{}` cannot be relied on to accept a delegated Kerberos ticket", b.name()))
                    .label("Kerberos inbound on the SEG")
                    .help("let the SEG authenticate the device certificate (`auth = certificate`) and publish it through TMG with `tmg_server_publishing`"),
            );
            continue;
        }
        if b.text("auth") == Some("kerberos") && !behind.iter().any(|s| s == server) {
            diags.push(
                Diag::new(
                    Code::KerberosWithoutDelegation,
                    b.span_of("auth"),
                    format!("`{server}` accepts only delegated Kerberos tickets, but no chain delegates to it"),
                )
                .label("Kerberos only")
                .help("put the server behind a delegating hop with a `chain`, or write `auth = certificate`"),
            );
        }
    }
    backend_certificates(unit, diags);
    listener_authorities(unit, diags);
    public_names(unit, diags);
}

fn on_certificate(cert: &Checked, host: &str) -> bool {
    let cn = cert
        .record("subject")
        .and_then(|s| super::access::field_text(s, "CN"))
        .unwrap_or("");
    let matches = |pattern: &str| {
        pattern.eq_ignore_ascii_case(host)
            || pattern.strip_prefix("*.").is_some_and(|suffix| {
                host.split_once('.')
                    .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(suffix))
            })
    };
    matches(cn) || cert.list("domains").iter().any(|d| matches(d))
}

/// Devices check the rule's public name against the listener's certificate.
fn public_names(unit: &Unit, diags: &mut Diagnostics) {
    for r in unit.of_kind("publishing_rule") {
        let Some(name) = r.text("public_name") else { continue };
        let Some(l) = r.text("listener").and_then(|l| unit.get(l)) else {
            continue;
        };
        let Some(cert) = l.text("certificate").and_then(|c| unit.get(c)) else {
            continue;
        };
        if !on_certificate(cert, name) {
            diags.push(
                Diag::new(
                    Code::PublicNameNotOnListener,
                    r.span_of("public_name"),
                    format!(
                        "public name `{name}` is not on certificate `{}` of listener `{}`",
                        cert.name(),
                        l.name()
                    ),
                )
                .label("devices connect to this name")
                .with(cert.name_span(), "the listener's certificate")
                .help(format!("add `{name}` to the certificate's `domains`")),
            );
        }
    }
}

/// A listener that authenticates device certificates validates them on TMG, and TMG's
/// protocol transition logs the user on by the certificate, which needs an internal CA in
/// NTAuth. (Without `authority` the lowering asks for the trust as a manual check.)
fn listener_authorities(unit: &Unit, diags: &mut Diagnostics) {
    for l in unit.of_kind("tmg_listener") {
        if l.text("auth") != Some("client_certificate") {
            continue;
        }
        let Some(auth) = l.text("authority").and_then(|a| unit.get(a)) else {
            continue;
        };
        if matches!(auth.text("kind"), Some("external" | "partner")) {
            diags.push(
                Diag::new(Code::ExternalCaForKcd, l.span_of("authority"), format!("`{}` is an external authority; TMG cannot log users on with its certificates for Kerberos delegation", auth.name()))
                    .label("device certificates from an external CA")
                    .with(auth.span_of("kind"), "declared external here")
                    .help("issue the device certificates from an `enterprise` authority of TMG's domain"),
            );
        } else if auth.bool("ntauth") != Some(true) {
            diags.push(
                Diag::new(Code::NtAuthMissing, l.span_of("authority"), format!("authority `{}` issues the device certificates TMG maps to users, but is not published to NTAuth", auth.name()))
                    .label("client certificates from this authority")
                    .with(auth.name_span(), "declared here without `ntauth = true`")
                    .help("add `ntauth = true` to the authority"),
            );
        }
    }
}

/// TMG bridges SSL to the published server by its internal site name: a certificate declared
/// for that server must carry the name.
fn backend_certificates(unit: &Unit, diags: &mut Diagnostics) {
    for r in unit.of_kind("publishing_rule") {
        if r.bool("ssl_to_server") == Some(false) {
            continue;
        }
        let Some(server) = r.text("published_server") else {
            continue;
        };
        let Some(fqdn) = unit.get(server).and_then(|s| s.text("fqdn")) else {
            continue;
        };
        for cert in unit
            .of_kind("certificate")
            .filter(|c| c.list("servers").iter().any(|s| s == server))
        {
            if !on_certificate(cert, fqdn) {
                diags.push(
                    Diag::new(
                        Code::BackendCertName,
                        cert.span_of("servers"),
                        format!(
                            "certificate `{}` of `{server}` does not carry `{fqdn}`, the rule's internal site name",
                            cert.name()
                        ),
                    )
                    .label("TMG checks the published server's certificate against its internal name")
                    .with(r.span_of("published_server"), "published here by FQDN")
                    .help(format!("add `{fqdn}` to the certificate's `domains`")),
                );
            }
        }
    }
}
