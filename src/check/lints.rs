//! Security and consistency lints over a unit: the pitfalls of DOMAIN.md turned into checks.
//! Each lint reads only settings that validated, so it can run next to structural errors.

use super::access::{field_int, field_span, field_text};
use super::{Checked, Unit};
use crate::diagnostics::{Code, Diag, Diagnostics};

/// Runs every lint.
pub(crate) fn run(unit: &Unit, diags: &mut Diagnostics) {
    iis_names(unit, diags);
    keys(unit, diags);
    connectors(unit, diags);
    smtp_certificates(unit, diags);
    retirements(unit, diags);
    smime(unit, diags);
    client_certificates(unit, diags);
    chains(unit, diags);
    seg_certificates(unit, diags);
    tmg(unit, diags);
    workspace_one(unit, diags);
}

/// The minimum RSA key length we accept without a warning.
const MIN_KEY: i64 = 2048;
/// The uploadReadAheadSize the vendor guides set for client-certificate renegotiation.
pub const UPLOAD_READ_AHEAD: u64 = 10 * 1024 * 1024;

fn keys(unit: &Unit, diags: &mut Diagnostics) {
    for c in unit.of_kind("certificate") {
        if let Some(key) = c.record("key") {
            if let Some(size) = field_int(key, "size").filter(|s| *s < MIN_KEY) {
                diags.push(
                    Diag::new(
                        Code::WeakKey,
                        field_span(key, "size").unwrap_or(c.kind_span),
                        format!("certificate `{}` has a {size}-bit key", c.name()),
                    )
                    .label("shorter than 2048 bits")
                    .help("use `size = 2048` or more; partners and public CAs refuse shorter keys"),
                );
            }
        }
        if !c.given("issuer") {
            diags.push(
                Diag::new(
                    Code::NoIssuer,
                    c.name_span(),
                    format!("certificate `{}` has no issuer", c.name()),
                )
                .label("no `issuer`")
                .help("add `issuer = <authority>` so that the trust chain is installed and checked"),
            );
        }
    }
    // New-ExchangeCertificate -KeySize takes 1024, 2048 or 4096 only.
    let exchange_roles = ["hub_transport", "client_access", "mailbox", "edge", "eas"];
    for c in unit.of_kind("certificate") {
        let Some(key) = c.record("key") else { continue };
        let Some(size) = field_int(key, "size") else { continue };
        let on_exchange = c.list("servers").iter().any(|s| {
            unit.get(s).is_some_and(|b| {
                b.kind() == "server" && b.list("roles").iter().any(|r| exchange_roles.contains(&r.as_str()))
            })
        });
        if on_exchange && ![1024, 2048, 4096].contains(&size) {
            diags.push(
                Diag::new(
                    Code::OutOfRange,
                    field_span(key, "size").unwrap_or(c.kind_span),
                    format!("Exchange requests keys of 1024, 2048 or 4096 bits, not {size}"),
                )
                .label("not a key size New-ExchangeCertificate accepts")
                .help("use `size = 2048` or `size = 4096`"),
            );
        }
    }
    for t in unit.of_kind("ws1_template") {
        if let Some(size) = t.int("key_size").filter(|s| *s < MIN_KEY) {
            diags.push(
                Diag::new(
                    Code::WeakKey,
                    t.span_of("key_size"),
                    format!("template `{}` requests a {size}-bit key", t.name()),
                )
                .label("shorter than 2048 bits")
                .help("use `key_size = 2048` and the same on the CA's certificate template"),
            );
        }
    }
}

fn version(unit: &Unit) -> Option<(String, &Checked)> {
    let org = unit.organization()?;
    Some((org.version("exchange")?, org))
}

fn connectors(unit: &Unit, diags: &mut Diagnostics) {
    let v = version(unit);
    if let Some((ver, org)) = &v {
        if ver == "online" {
            for c in unit
                .blocks
                .iter()
                .filter(|b| matches!(b.kind(), "send_connector" | "receive_connector" | "retire"))
            {
                diags.push(
                    Diag::new(
                        Code::VersionParameter,
                        c.kind_span,
                        format!("`{}` needs on-premises Exchange", c.kind()),
                    )
                    .label("Exchange Online has inbound and outbound connectors instead")
                    .with(org.span_of("exchange"), "the organization is Exchange Online")
                    .help("set `exchange` to the on-premises version that runs the connector"),
                );
            }
        }
    }
    for s in unit.of_kind("send_connector") {
        let basic = s.secret("auth").is_some();
        if s.has("smart_hosts") && s.has("dns_routing") && s.bool("dns_routing") == Some(true) {
            diags.push(
                Diag::new(
                    Code::ConflictingSettings,
                    s.span_of("dns_routing"),
                    "`dns_routing = true` contradicts `smart_hosts`",
                )
                .label("DNS routing")
                .with(s.span_of("smart_hosts"), "smart hosts given here")
                .help("remove `dns_routing` to route through the smart hosts"),
            );
        }
        if basic && (s.bool("require_tls") == Some(false) || !s.given("require_tls")) {
            let d = Diag::new(
                Code::TlsNotRequired,
                if s.has("require_tls") {
                    s.span_of("require_tls")
                } else {
                    s.name_span()
                },
                format!(
                    "send connector `{}` sends Basic credentials without requiring TLS",
                    s.name()
                ),
            )
            .label(if s.has("require_tls") {
                "TLS not required"
            } else {
                "no `require_tls`"
            })
            .with(s.span_of("auth"), "Basic authentication here")
            .help("add `require_tls = true` (the connector wizard leaves RequireTLS off)");
            diags.push(d);
        }
        if s.bool("ignore_starttls") == Some(true) {
            diags.push(
                Diag::new(
                    Code::IgnoreStartTls,
                    s.span_of("ignore_starttls"),
                    format!("send connector `{}` never offers STARTTLS", s.name()),
                )
                .label("STARTTLS ignored")
                .help("write `ignore_starttls = false`"),
            );
        }
        if let Some((ver, org)) = &v {
            // TlsCertificateName arrived with Exchange 2013 (the cmdlet reference lists the
            // other TLS parameters for 2010 too).
            if ver == "2010" && s.has("tls_certificate") {
                diags.push(
                    Diag::new(
                        Code::VersionParameter,
                        s.span_of("tls_certificate"),
                        "`tls_certificate` needs Exchange 2013 or later",
                    )
                    .label("TlsCertificateName is not in Exchange 2010")
                    .with(org.span_of("exchange"), "the organization runs Exchange 2010")
                    .help("remove `tls_certificate`; on Exchange 2010 the certificate enabled for SMTP is used"),
                );
            }
        }
        if let Some(cert) = s.text("tls_certificate").and_then(|n| unit.get(n)) {
            let on = cert.list("servers");
            for (srv, span) in s.list_spans("source_servers") {
                if !on.contains(&srv) {
                    diags.push(
                        Diag::new(
                            Code::CertNotOnServer,
                            span,
                            format!("certificate `{}` is not installed on `{srv}`", cert.name()),
                        )
                        .label("source server without the certificate")
                        .with(cert.span_of("servers"), "installed only on these servers")
                        .help(format!("add `{srv}` to the certificate's `servers`")),
                    );
                }
            }
        }
    }
    for r in unit.of_kind("receive_connector") {
        for (ip, span) in r.list_spans("remote_ips") {
            let open = ip
                .split_once('/')
                .is_some_and(|(_, p)| p.parse::<u8>().is_ok_and(|p| p < 8));
            if open {
                diags.push(
                    Diag::new(
                        Code::OpenRelayRange,
                        span,
                        format!("receive connector `{}` accepts `{ip}`", r.name()),
                    )
                    .label("covers a large part of the Internet")
                    .help("list only the partner's sending addresses, like `76.75.133.96`"),
                );
            }
        }
        let Some(cert) = r.text("certificate").and_then(|n| unit.get(n)) else {
            continue;
        };
        certificate_on_server(r, cert, "used here", "the connector runs on this server", diags);
        if let Some(fqdn) = r.text("fqdn") {
            let cn = cert.record("subject").and_then(|s| field_text(s, "CN")).unwrap_or("");
            let on_cert = cn.eq_ignore_ascii_case(fqdn)
                || cert
                    .list("domains")
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(fqdn) || wildcard_match(d, fqdn));
            if !on_cert {
                diags.push(
                    Diag::new(Code::FqdnCertMismatch, r.span_of("fqdn"), format!("FQDN `{fqdn}` is neither the CN nor a SAN of certificate `{}`", cert.name()))
                        .label("answered in HELO/EHLO")
                        .with(cert.record("subject").and_then(|s| field_span(s, "CN")).unwrap_or(cert.name_span()), format!("the certificate's CN is `{cn}`"))
                        .help(format!("remove `fqdn` to use the certificate's CN `{cn}`, or add `{fqdn}` to the certificate's `domains`")),
                );
            }
        }
    }
}

fn wildcard_match(pattern: &str, name: &str) -> bool {
    pattern.strip_prefix("*.").is_some_and(|suffix| {
        name.split_once('.')
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(suffix))
    })
}

fn smtp_certificates(unit: &Unit, diags: &mut Diagnostics) {
    let smtp: Vec<&Checked> = unit
        .of_kind("certificate")
        .filter(|c| c.list("services").iter().any(|s| s == "smtp"))
        .collect();
    for (i, b) in smtp.iter().enumerate() {
        for a in &smtp[..i] {
            let shared: Vec<String> = b
                .list("servers")
                .into_iter()
                .filter(|s| a.list("servers").contains(s))
                .collect();
            if let Some(server) = shared.first() {
                diags.push(
                    Diag::new(
                        Code::SmtpCertConflict,
                        b.span_of("services"),
                        format!(
                            "certificates `{}` and `{}` are both enabled for SMTP on `{server}`",
                            a.name(),
                            b.name()
                        ),
                    )
                    .label("second SMTP certificate")
                    .with(a.span_of("services"), "first enabled for SMTP here")
                    .help("remove `smtp` from the `services` of the certificate that does not serve the partner route"),
                );
            }
        }
    }
}

fn retirements(unit: &Unit, diags: &mut Diagnostics) {
    for r in unit.of_kind("retire") {
        if !r.given("after") && !r.given("not_before") && !r.given("approval") {
            diags.push(
                Diag::new(
                    Code::UngatedRetirement,
                    r.name_span(),
                    format!("retirement of `{}` has no gate", r.name()),
                )
                .label("removed as soon as the script runs")
                .help("add `after = \"new route verified\"` or `not_before = <date>`"),
            );
        }
        if r.retired_kind.as_ref().is_some_and(|k| k.text == "receive_connector") && !r.given("server") {
            diags.push(
                Diag::new(
                    Code::MissingSetting,
                    r.name_span(),
                    "retiring a receive connector needs its `server`",
                )
                .label("which server's connector?")
                .help("add `server = <server>`: receive connectors are per server"),
            );
        }
        if r.retired_kind.as_ref().is_some_and(|k| k.text == "receive_connector") && r.has("transition_cost") {
            diags.push(
                Diag::new(
                    Code::ConflictingSettings,
                    r.span_of("transition_cost"),
                    "receive connectors have no cost",
                )
                .label("only send connectors are routed by cost")
                .help("remove `transition_cost`"),
            );
        }
    }
}

fn smime(unit: &Unit, diags: &mut Diagnostics) {
    let org = unit.organization();
    for s in unit.of_kind("smime") {
        if let (Some(org), Some("on_premises")) = (org, s.text("mode")) {
            if org.version("exchange").as_deref() == Some("2010") {
                diags.push(
                    Diag::new(Code::VersionParameter, s.span_of("mode"), "on-premises S/MIME (Set-SmimeConfig) needs Exchange 2013 or later")
                        .label("configured with Set-SmimeConfig")
                        .with(org.span_of("exchange"), "the organization runs Exchange 2010")
                        .help("raise `exchange` once the organization runs Exchange 2013 or later; Exchange 2010 has no S/MIME configuration cmdlet"),
                );
            }
        }
        if let (Some(org), Some(mode)) = (org, s.text("mode")) {
            let online = org.version("exchange").as_deref() == Some("online");
            let problem = match mode {
                "cloud" if !online => Some((
                    "cloud-only S/MIME needs `exchange = online`",
                    "the organization runs Exchange on premises",
                )),
                "on_premises" if online => Some((
                    "on-premises S/MIME needs an on-premises `exchange` version",
                    "the organization is Exchange Online",
                )),
                "hybrid" | "cloud" if !org.given("tenant") => Some((
                    "S/MIME in Exchange Online needs the organization's `tenant`",
                    "no `tenant` here",
                )),
                _ => None,
            };
            if let Some((message, label)) = problem {
                diags.push(
                    Diag::new(Code::ConflictingSettings, s.span_of("mode"), message)
                        .label(format!("mode `{mode}`"))
                        .with(org.name_span(), label)
                        .help("make `mode` match the organization: `cloud` for Exchange Online only, `hybrid` for on-premises plus a tenant, `on_premises` without a tenant"),
                );
            }
        }
        if s.text("mode") == Some("hybrid") {
            if let Some(v) = s.text("dirsync_version") {
                if version_lt(v, "6593.0012") {
                    diags.push(
                        Diag::new(Code::DirSyncTooOld, s.span_of("dirsync_version"), format!("directory sync {v} does not replicate S/MIME certificates"))
                            .label("older than 6593.0012")
                            .help("upgrade directory synchronisation to 6593.0012 or later (or Azure AD Connect) and declare that version"),
                    );
                }
            }
        }
        if s.list("clients").iter().any(|c| c == "owa") {
            for (name, span) in s.list_spans("authorities") {
                if let Some(a) = unit
                    .get(&name)
                    .filter(|a| matches!(a.text("kind"), Some("external" | "partner")))
                {
                    diags.push(
                        Diag::new(Code::SmimeClient, span, format!("OWA cannot use certificates from third-party authority `{name}`"))
                            .label("not a Windows CA")
                            .with(a.span_of("kind"), "declared as a third-party authority here")
                            .with(s.span_of("clients"), "OWA is a declared client")
                            .help("OWA's S/MIME control supports only certificates issued by a Windows CA; use Outlook for these users, or issue from an enterprise CA"),
                    );
                }
            }
        }
    }
}

fn version_lt(a: &str, b: &str) -> bool {
    let parse = |s: &str| {
        s.split('.')
            .map(|p| p.trim().parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
    };
    parse(a) < parse(b)
}

/// The ActiveSync or SEG blocks on `server` (the IIS client-certificate work there).
pub(super) fn iis_blocks<'a>(unit: &'a Unit, server: &'a str) -> impl Iterator<Item = &'a Checked> + 'a {
    unit.blocks
        .iter()
        .filter(move |b| matches!(b.kind(), "activesync" | "seg") && b.text("server") == Some(server))
}

/// Whether an ActiveSync or SEG block authenticates devices by client certificate.
pub(super) fn wants_certs(b: &Checked) -> bool {
    matches!(
        b.text("auth"),
        Some("certificate" | "certificate_and_password" | "certificate_or_password")
    )
}

/// Largest uploadReadAheadSize IIS accepts (a uint limited to 31 bits in the schema).
const MAX_UPLOAD_READ_AHEAD: u64 = 2_147_483_647;

fn client_certificates(unit: &Unit, diags: &mut Diagnostics) {
    for b in unit.blocks.iter().filter(|b| matches!(b.kind(), "activesync" | "seg")) {
        if let Some(size) = b.size("upload_read_ahead").filter(|s| *s > MAX_UPLOAD_READ_AHEAD) {
            diags.push(
                Diag::new(
                    Code::OutOfRange,
                    b.span_of("upload_read_ahead"),
                    format!("uploadReadAheadSize {size} is larger than IIS accepts"),
                )
                .label("out of range")
                .help(format!(
                    "use at most {MAX_UPLOAD_READ_AHEAD} bytes; `10MiB` is what the vendor guides use"
                )),
            );
        }
        if wants_certs(b) {
            if let Some(size) = b.size("upload_read_ahead").filter(|s| *s < UPLOAD_READ_AHEAD) {
                diags.push(
                    Diag::new(Code::UploadReadAheadSmall, b.span_of("upload_read_ahead"), format!("uploadReadAheadSize {size} is below 10 MiB while client certificates are negotiated"))
                        .label("too small")
                        .with(b.span_of("auth"), "client certificates requested here")
                        .help("use `upload_read_ahead = 10MiB` (10485760), or ActiveSync requests with attachments fail with HTTP 413"),
                );
            }
            if let Some(auth) = b.text("authority").and_then(|n| unit.get(n)) {
                let mapped = unit
                    .of_kind("cert_mapping")
                    .any(|m| m.text("authority") == Some(auth.name()) && m.text("kind") != Some("upn"));
                if auth.bool("ntauth") != Some(true) && !mapped {
                    diags.push(
                        Diag::new(Code::NtAuthMissing, b.span_of("authority"), format!("authority `{}` issues client certificates but is not published to NTAuth", auth.name()))
                            .label("client certificates from this authority")
                            .with(auth.name_span(), "declared here without `ntauth = true`")
                            .help("add `ntauth = true` to the authority (mailsec emits `certutil -dspublish -f <ca>.cer NTAuthCA`), or declare a `one_to_one` or `many_to_one` `cert_mapping`"),
                    );
                }
                if auth.text("kind") == Some("standalone") {
                    diags.push(
                        Diag::new(
                            Code::StandaloneCa,
                            b.span_of("authority"),
                            format!(
                                "standalone CA `{}` cannot issue certificates mapped by UPN",
                                auth.name()
                            ),
                        )
                        .label("standalone CA")
                        .with(auth.span_of("kind"), "declared standalone here")
                        .help("use an `enterprise` CA integrated with Active Directory"),
                    );
                }
            }
        }
    }
    for m in unit.of_kind("cert_mapping") {
        let Some(auth) = m.text("authority").and_then(|n| unit.get(n)) else {
            continue;
        };
        if m.text("kind") == Some("upn") && auth.bool("ntauth") != Some(true) {
            diags.push(
                Diag::new(
                    Code::NtAuthMissing,
                    m.span_of("authority"),
                    format!("UPN mapping needs authority `{}` in NTAuth", auth.name()),
                )
                .label("UPN mapping")
                .with(auth.name_span(), "declared here without `ntauth = true`")
                .help("add `ntauth = true` to the authority"),
            );
        }
        if m.text("kind") == Some("many_to_one") && !m.given("account") {
            diags.push(
                Diag::new(
                    Code::MissingSetting,
                    m.name_span(),
                    "many-to-one mapping needs the target `account`",
                )
                .label("mapped to which account?")
                .help("add `account = \"DOMAIN\\\\svc-eas\"`"),
            );
        }
        if m.text("kind") == Some("one_to_one") && !m.given("subject") {
            diags.push(
                Diag::new(
                    Code::MissingSetting,
                    m.name_span(),
                    "one-to-one mapping needs the certificate `subject`",
                )
                .label("mapped from which subject?")
                .help("add `subject = \"CN=Jane Doe, O=Contoso\"`"),
            );
        }
    }
}

fn chains(unit: &Unit, diags: &mut Diagnostics) {
    let chains: Vec<&Checked> = unit.of_kind("chain").collect();
    if !chains.is_empty() {
        let dcs: Vec<&Checked> = unit
            .of_kind("server")
            .filter(|s| s.list("roles").iter().any(|r| r == "domain_controller"))
            .collect();
        if dcs.len() == 1 {
            diags.push(
                Diag::new(
                    Code::SingleKdc,
                    dcs[0].name_span(),
                    "Kerberos delegation depends on a single domain controller",
                )
                .label("the only KDC")
                .with(chains[0].name_span(), "delegation declared here")
                .help("declare a second server with the `domain_controller` role"),
            );
        }
    }
    for c in chains {
        let path = c.list_spans("path");
        if c.bool("protocol_transition") == Some(false) {
            diags.push(
                Diag::new(Code::NoProtocolTransition, c.span_of("protocol_transition"), format!("chain `{}` cannot delegate certificate logons", c.name()))
                    .label("protocol transition off")
                    .help("write `protocol_transition = true`: the front end authenticates users by certificate, not Kerberos"),
            );
        }
        let Some(term) = c.text("client_certificates") else {
            continue;
        };
        if !path.iter().any(|(n, _)| n == term) {
            diags.push(
                Diag::new(
                    Code::ConflictingSettings,
                    c.span_of("client_certificates"),
                    format!("`{term}` is not on the chain's path"),
                )
                .label("not a hop of this chain")
                .with(c.span_of("path"), "the path")
                .help("name the hop that authenticates the client certificate"),
            );
        }
        for (hop, span) in &path {
            if hop == term {
                continue;
            }
            for b in iis_blocks(unit, hop).filter(|b| wants_certs(b)) {
                diags.push(
                    Diag::new(
                        Code::DoubleCertTermination,
                        b.span_of("auth"),
                        format!(
                            "`{hop}` also requires client certificates, but `{term}` authenticates them in chain `{}`",
                            c.name()
                        ),
                    )
                    .label("second certificate authentication")
                    .with(
                        c.span_of("client_certificates"),
                        "the chain terminates client certificates here",
                    )
                    .with(*span, "hop of the chain")
                    .help(format!(
                        "set `auth = kerberos` on the `{}` of `{hop}`; behind a delegating hop it receives a Kerberos ticket",
                        b.kind()
                    )),
                );
            }
        }
        // The terminating hop's authority must be internal and NTAuth-published.
        for b in iis_blocks(unit, term) {
            let Some(auth) = b.text("authority").and_then(|n| unit.get(n)) else {
                continue;
            };
            if matches!(auth.text("kind"), Some("external" | "partner")) {
                diags.push(
                    Diag::new(
                        Code::ExternalCaForKcd,
                        b.span_of("authority"),
                        format!(
                            "`{}` is an external authority; it cannot issue certificates for Kerberos delegation",
                            auth.name()
                        ),
                    )
                    .label("user certificates from an external CA")
                    .with(auth.span_of("kind"), "declared external here")
                    .help("issue the user certificates from an `enterprise` authority of the SEG's domain"),
                );
            }
        }
        // Every member of the target array answers for the last hop: none may require
        // certificates either.
        if let Some(asa) = c.text("target").and_then(|t| unit.get(t)) {
            for (member, _) in asa.list_spans("members") {
                if path.iter().any(|(n, _)| *n == member) || member == term {
                    continue;
                }
                for b in iis_blocks(unit, &member).filter(|b| wants_certs(b)) {
                    diags.push(
                        Diag::new(Code::DoubleCertTermination, b.span_of("auth"), format!("array member `{member}` requires client certificates, but `{term}` authenticates them in chain `{}`", c.name()))
                            .label("second certificate authentication")
                            .with(c.span_of("client_certificates"), "the chain terminates client certificates here")
                            .with(asa.span_of("members"), "member of the delegation target")
                            .help(format!("set `auth = kerberos` on the `{}` of `{member}`; behind a delegating hop it receives a Kerberos ticket", b.kind())),
                    );
                }
            }
        }
        // Load-balanced Exchange behind the chain needs the ASA as target.
        if let Some((last, last_span)) = path.last() {
            if !c.given("target") {
                if let Some(asa) = unit
                    .of_kind("service_account")
                    .find(|a| a.list("members").contains(last))
                {
                    diags.push(
                        Diag::new(Code::ArrayWithoutAsa, *last_span, format!("`{last}` is a member of the Client Access array of `{}`, but the chain delegates to the server itself", asa.name()))
                            .label("array member")
                            .with(asa.name_span(), "alternate service account declared here")
                            .help(format!("add `target = {}` so the SPN http/{} is used", asa.name(), asa.text("array_fqdn").unwrap_or("<array fqdn>"))),
                    );
                }
            }
        }
        // A SEG on the path must call the next hop by the name the SPN is registered for.
        for (i, (hop, _)) in path.iter().enumerate() {
            let Some(next) = path.get(i + 1) else { continue };
            let expected = if i + 2 == path.len() {
                c.text("target")
                    .and_then(|t| unit.get(t))
                    .and_then(|a| a.text("array_fqdn"))
                    .or_else(|| unit.get(&next.0).and_then(|s| s.text("fqdn")))
            } else {
                unit.get(&next.0).and_then(|s| s.text("fqdn"))
            };
            for seg in unit.of_kind("seg").filter(|s| s.text("server") == Some(hop.as_str())) {
                if let (Some(host), Some(exp)) = (seg.text("exchange_host"), expected) {
                    if !host.eq_ignore_ascii_case(exp) {
                        diags.push(
                            Diag::new(
                                Code::SpnMismatch,
                                seg.span_of("exchange_host"),
                                format!(
                                    "SEG `{}` calls `{host}`, but delegation is registered for `http/{exp}`",
                                    seg.name()
                                ),
                            )
                            .label("host in the SEG's web.config")
                            .with(next.1, "next hop of the chain")
                            .help(format!("write `exchange_host = {exp}`")),
                        );
                    }
                }
            }
        }
    }
}

/// MS0206 when the block `user` (a receive connector, a SEG) names a certificate that is
/// not installed on its `server`.
fn certificate_on_server(user: &Checked, cert: &Checked, used: &str, runs: &str, diags: &mut Diagnostics) {
    let Some(server) = user.text("server") else { return };
    if cert.list("servers").iter().any(|s| s == server) {
        return;
    }
    diags.push(
        Diag::new(
            Code::CertNotOnServer,
            user.span_of("certificate"),
            format!("certificate `{}` is not installed on `{server}`", cert.name()),
        )
        .label(used)
        .with(user.span_of("server"), runs)
        .with(cert.span_of("servers"), "the certificate is installed on these")
        .help(format!("add `{server}` to the certificate's `servers`")),
    );
}

/// The certificate a SEG presents must be installed on the SEG's server.
fn seg_certificates(unit: &Unit, diags: &mut Diagnostics) {
    for g in unit.of_kind("seg") {
        if let Some(cert) = g.text("certificate").and_then(|n| unit.get(n)) {
            certificate_on_server(g, cert, "the SEG presents it", "the SEG runs on this server", diags);
        }
    }
}

/// MS0209 for TMG: a web listener that authenticates client certificates terminates the
/// device's TLS, so no IIS block behind it can ever receive the certificate, whatever the
/// chain's `client_certificates` says. Blocks on a chain hop other than `client_certificates`
/// are already reported by `chains`.
fn tmg_listeners(unit: &Unit, diags: &mut Diagnostics) {
    for r in unit.of_kind("publishing_rule") {
        let Some(l) = r.text("listener").and_then(|n| unit.get(n)) else {
            continue;
        };
        if l.text("auth") != Some("client_certificate") {
            continue;
        }
        let Some(tmg) = l.text("server") else { continue };
        let mut downstream: Vec<String> = r.text("published_server").map(str::to_string).into_iter().collect();
        downstream.extend(r.list("farm"));
        for c in unit.of_kind("chain") {
            let path = c.list("path");
            let Some(i) = path.iter().position(|h| h == tmg) else {
                continue;
            };
            if !path.get(i + 1).is_some_and(|n| downstream.contains(n)) {
                continue;
            }
            downstream.extend(path[i + 1..].iter().cloned());
            if let Some(asa) = c.text("target").and_then(|t| unit.get(t)) {
                downstream.extend(asa.list("members"));
            }
        }
        let mut seen: Vec<String> = Vec::new();
        for server in downstream {
            if seen.contains(&server) {
                continue;
            }
            seen.push(server.clone());
            let reported = unit.of_kind("chain").any(|c| {
                c.list("path").contains(&server) && c.text("client_certificates").is_some_and(|t| t != server)
            });
            if reported {
                continue;
            }
            for b in iis_blocks(unit, &server).filter(|b| wants_certs(b)) {
                diags.push(
                    Diag::new(Code::DoubleCertTermination, b.span_of("auth"), format!("`{server}` requires client certificates, but TMG listener `{}` already authenticates them", l.name()))
                        .label("second certificate authentication")
                        .with(l.span_of("auth"), "the listener terminates the device's TLS and authenticates the certificate")
                        .with(r.span_of("published_server"), "published behind the listener")
                        .help(format!("write `auth = kerberos` on the `{}` of `{server}`: it receives TMG's delegated ticket, never the device certificate", b.kind())),
                );
            }
        }
    }
}

fn tmg(unit: &Unit, diags: &mut Diagnostics) {
    tmg_listeners(unit, diags);
    for r in unit.of_kind("publishing_rule") {
        let farm = r.list("farm");
        if let Some(spn) = r.text("spn") {
            if farm.len() > 1 {
                if spn != "http/*" {
                    diags.push(
                        Diag::new(
                            Code::SpnFarm,
                            r.span_of("spn"),
                            format!(
                                "rule `{}` load-balances {} servers but requests `{spn}`",
                                r.name(),
                                farm.len()
                            ),
                        )
                        .label("single-server SPN")
                        .with(r.span_of("farm"), "farm members")
                        .help("write `spn = \"http/*\"`"),
                    );
                }
            } else if let Some(fqdn) = r
                .text("published_server")
                .and_then(|s| unit.get(s))
                .and_then(|s| s.text("fqdn"))
            {
                let expect = format!("http/{fqdn}");
                if !spn.eq_ignore_ascii_case(&expect) {
                    diags.push(
                        Diag::new(
                            Code::SpnMismatch,
                            r.span_of("spn"),
                            format!("rule `{}` delegates with `{spn}` but publishes `{fqdn}`", r.name()),
                        )
                        .label("SPN of the delegation")
                        .with(r.span_of("published_server"), "the internal site name")
                        .help(format!("write `spn = \"{expect}\"`")),
                    );
                }
            }
        } else if r.text("delegation") == Some("kerberos") {
            diags.push(
                Diag::new(
                    Code::MissingSetting,
                    r.name_span(),
                    format!("rule `{}` delegates with Kerberos but names no SPN", r.name()),
                )
                .label("no `spn`")
                .help("add `spn = \"http/<published server fqdn>\"`"),
            );
        }
    }
}

fn workspace_one(unit: &Unit, diags: &mut Diagnostics) {
    for a in unit.of_kind("ws1_authority") {
        if let Some(url) = a.text("url").filter(|u| !u.ends_with('/')) {
            diags.push(
                Diag::new(
                    Code::UrlTrailingSlash,
                    a.span_of("url"),
                    format!("URL of `{}` does not end with `/`", a.name()),
                )
                .label("missing trailing `/`")
                .help(format!("write \"{url}/\"")),
            );
        }
        if a.text("type") == Some("adcs") && !a.given("credentials") {
            diags.push(
                Diag::new(
                    Code::MissingSetting,
                    a.name_span(),
                    "a Microsoft AD CS authority needs service-account `credentials`",
                )
                .label("no `credentials`")
                .help("add `credentials = secret(\"WS1_ADCS_SERVICE\")`"),
            );
        }
        if let Some(backing) = a.text("authority").and_then(|n| unit.get(n)) {
            if backing.text("kind") == Some("standalone") {
                diags.push(
                    Diag::new(
                        Code::StandaloneCa,
                        a.span_of("authority"),
                        format!(
                            "Workspace ONE needs an enterprise CA, but `{}` is standalone",
                            backing.name()
                        ),
                    )
                    .label("standalone CA behind NDES / AD CS")
                    .with(backing.span_of("kind"), "declared standalone here")
                    .help("use an `enterprise` authority"),
                );
            }
        }
    }
    for t in unit.of_kind("ws1_template") {
        if let Some(secs) = t.duration("renewal").filter(|s| s % 86_400 != 0 || *s == 0) {
            diags.push(
                Diag::new(
                    Code::OutOfRange,
                    t.span_of("renewal"),
                    format!("renewal period of {secs} seconds is not a whole number of days"),
                )
                .label("Workspace ONE counts renewal in days")
                .help(format!("write `{}d`", (secs / 86_400).max(1))),
            );
        }
        // A renewal period is the Auto Renewal Period of automatic renewal; without it the
        // period reaches no artefact, and the certificates silently expire instead.
        if t.has("renewal") && t.bool("auto_renew") != Some(true) {
            let d = Diag::new(
                Code::ConflictingSettings,
                t.span_of("renewal"),
                "a renewal period without automatic renewal is never used",
            )
            .label("the period of automatic renewal");
            let d = if t.has("auto_renew") {
                d.with(t.span_of("auto_renew"), "automatic renewal is off here")
            } else {
                d.with(t.name_span(), "`auto_renew` is not set here (default `false`)")
            };
            diags
                .push(d.help("write `auto_renew = true` to renew the certificates automatically, or remove `renewal`"));
        }
        let profiles: Vec<&Checked> = unit
            .of_kind("ws1_profile")
            .filter(|p| p.text("template") == Some(t.name()))
            .collect();
        if t.bool("publish_private_key") == Some(true) {
            diags.push(
                Diag::new(
                    Code::PrivateKeyPublish,
                    t.span_of("publish_private_key"),
                    "publishing the private key is for Lotus Domino only",
                )
                .label("private key leaves the device")
                .help("write `publish_private_key = false`"),
            );
        }
        if t.bool("force_key_generation_on_device") == Some(true) {
            for p in profiles
                .iter()
                .filter(|p| p.text("platform").is_some_and(|pl| pl != "ios"))
            {
                diags.push(
                    Diag::new(
                        Code::IosOnlyOption,
                        t.span_of("force_key_generation_on_device"),
                        format!(
                            "`force_key_generation_on_device` is iOS-only, but profile `{}` targets `{}`",
                            p.name(),
                            p.text("platform").unwrap_or("")
                        ),
                    )
                    .label("iOS-only option")
                    .with(p.span_of("platform"), "platform of the profile")
                    .help("remove it, or use a separate template for iOS"),
                );
            }
        }
        if !profiles.is_empty() {
            let sans: Vec<&str> = t.records("san").iter().filter_map(|r| field_text(r, "type")).collect();
            let missing: Vec<&str> = ["email", "upn"].into_iter().filter(|k| !sans.contains(k)).collect();
            if !missing.is_empty() {
                diags.push(
                    Diag::new(Code::EasSanMissing, if t.has("san") { t.span_of("san") } else { t.name_span() }, format!("template `{}` has no {} in its SAN", t.name(), missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(" or ")))
                        .label("used for ActiveSync")
                        .with(profiles[0].name_span(), "profile using it")
                        .help("add `san = [{ type = email, value = \"{EmailAddress}\" }, { type = upn, value = \"{UserPrincipalName}\" }]`"),
                );
            }
            if t.has("eku") && !t.list("eku").iter().any(|e| e == "client_auth") {
                diags.push(
                    Diag::new(
                        Code::ClientAuthEku,
                        t.span_of("eku"),
                        format!("template `{}` lacks the Client Authentication EKU", t.name()),
                    )
                    .label("no `client_auth`")
                    .help("add `client_auth` to `eku`"),
                );
            }
        }
        let backing = t
            .text("authority")
            .and_then(|n| unit.get(n))
            .and_then(|a| a.text("authority"))
            .and_then(|n| unit.get(n));
        if let (Some(ks), Some(b)) = (t.int("key_size"), backing) {
            if let Some(cas) = b.int("template_key_size").filter(|c| *c != ks) {
                diags.push(
                    Diag::new(
                        Code::KeySizeMismatch,
                        t.span_of("key_size"),
                        format!(
                            "template `{}` asks for {ks}-bit keys, the CA template issues {cas}-bit",
                            t.name()
                        ),
                    )
                    .label("requested key length")
                    .with(b.span_of("template_key_size"), "CA template key length")
                    .help(format!("write `key_size = {cas}`")),
                );
            }
        }
    }
    for p in unit.of_kind("ws1_profile") {
        if let Some(host) = p.text("host") {
            let lower = host.to_ascii_lowercase();
            if lower.contains("://") || host.contains('/') {
                let bare = host.split("://").last().unwrap_or(host).split('/').next().unwrap_or("");
                diags.push(
                    Diag::new(
                        Code::EasHostNotHost,
                        p.span_of("host"),
                        format!("ActiveSync host `{host}` is not a bare host name"),
                    )
                    .label("scheme or path included")
                    .help(format!(
                        "write `host = \"{bare}\"`; the device adds https:// and /Microsoft-Server-ActiveSync"
                    )),
                );
            } else {
                super::validate::hostname(host, p.span_of("host"), diags);
            }
        }
    }
}

/// Site and application pool names that IIS, appcmd or a `.cmd` file cannot carry.
fn iis_names(unit: &Unit, diags: &mut Diagnostics) {
    let settings = [
        ("organization", "iis_site", false),
        ("server", "site", false),
        ("activesync", "site", false),
        ("seg", "site", false),
        ("seg", "app_pool", true),
    ];
    for (kind, setting, pool) in settings {
        for b in unit.of_kind(kind) {
            let Some(name) = b.text(setting) else { continue };
            let forbidden: &[char] = if pool {
                &[
                    '|', '<', '>', '&', '"', '/', '[', ']', '+', '=', ';', ':', ',', '?', '*', '@', '\'',
                ]
            } else {
                &['/', '?', '"']
            };
            let problem = if name.is_empty() {
                Some("is empty".to_string())
            } else if name.trim() != name {
                Some("has leading or trailing spaces".to_string())
            } else if let Some(c) = name.chars().find(|c| forbidden.contains(c)) {
                Some(format!("contains `{c}`"))
            } else {
                name.chars()
                    .find(|c| !c.is_ascii() || c.is_ascii_control())
                    .map(|c| format!("contains U+{:04X}, which is not printable ASCII", c as u32))
            };
            if let Some(problem) = problem {
                let what = if pool { "application pool name" } else { "IIS site name" };
                diags.push(
                    Diag::new(
                        Code::InvalidIisName,
                        b.span_of(setting),
                        format!("{what} `{name}` {problem}"),
                    )
                    .label(format!("not a valid {what}"))
                    .help(if pool {
                        "use the pool name as IIS Manager shows it, like \"SecureEmailGateway\""
                    } else {
                        "use the site name as IIS Manager shows it, like \"Default Web Site\""
                    }),
                );
            }
        }
    }
}
