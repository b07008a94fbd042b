//! Lowering: a checked unit becomes the per-host plan. Operations are generated phase by
//! phase, and each depends only on operations generated before it, so the list is in a
//! valid execution order by construction.

use super::{
    Action, ClientCerts, DeviceRoot, EasAuth, ExchangeVersion, Gate, Host, HostKind, Ir, Mode, Operation, Organization,
    Phase, SecretRef, Store, Subject, Suppression, Warning,
};
use crate::check::access::{field_bool, field_int, field_text};
use crate::check::{Checked, Unit};
use crate::diagnostics::Diagnostics;
use crate::source::{SourceMap, Span};
use indexmap::IndexMap;
use std::collections::HashMap;

/// Host id of the Exchange Online tenant.
pub const EXCHANGE_ONLINE: &str = "exchange-online";
/// Host id of Active Directory when no domain controller is declared.
pub const ACTIVE_DIRECTORY: &str = "active-directory";
/// Host id of the Workspace ONE console.
pub const WORKSPACE_ONE: &str = "workspace-one";
/// Host id of the partner / issuing party.
pub const PARTNER: &str = "partner";
/// Host id of devices and mail clients.
pub const CLIENTS: &str = "clients";

const DEFAULT_SITE: &str = "Default Web Site";
const EAS_APP: &str = "Microsoft-Server-ActiveSync";

/// Lowers a unit that checked without errors. `warnings` are the unit's check warnings.
pub fn lower(unit: &Unit, sources: &SourceMap, warnings: &Diagnostics) -> Ir {
    let mut cx = Cx::new(unit, sources);
    cx.hosts();
    cx.prerequisites();
    cx.pki();
    cx.certificates();
    cx.transport();
    cx.smime();
    cx.kerberos();
    cx.client_access();
    cx.mapping();
    cx.gateway();
    cx.mdm();
    cx.verification();
    cx.retirement();
    cx.finish(warnings)
}

struct Cx<'a> {
    unit: &'a Unit,
    sources: &'a SourceMap,
    org: Organization,
    hosts: IndexMap<String, Host>,
    ops: Vec<Operation>,
    /// Resource key → operations that provide it.
    provides: HashMap<String, Vec<String>>,
    /// Block span → operations generated from it (for warnings).
    origins: Vec<(Span, String)>,
    /// Current block, for `source` and origins.
    block: Option<&'a Checked>,
}

fn exchange_name(fqdn: &str) -> String {
    fqdn.split('.').next().unwrap_or(fqdn).to_string()
}

fn computer_account(fqdn: &str) -> String {
    format!("{}$", exchange_name(fqdn).to_ascii_uppercase())
}

fn gate_of(b: &Checked) -> Option<Gate> {
    let date = b.date("not_before").map(|d| d.to_string());
    // A retirement may name both an approval and the condition it waits for; the gate
    // asks for both, so neither is dropped.
    let text = match (b.text("approval"), b.text("after")) {
        (Some(approval), Some(after)) => Some(format!("{approval}; and {after}")),
        (approval, after) => approval.or(after).map(str::to_string),
    };
    match (date, text) {
        (Some(date), Some(text)) => Some(Gate::Both { date, text }),
        (Some(date), None) => Some(Gate::NotBefore { date }),
        (None, Some(text)) => Some(Gate::Approval { text }),
        (None, None) => None,
    }
}

fn subject(b: &Checked) -> Subject {
    let fields = b.record("subject").unwrap_or(&[]);
    let parts = ["C", "S", "L", "O", "OU", "CN"]
        .iter()
        .filter_map(|k| field_text(fields, k).map(|v| ((*k).to_string(), v.to_string())))
        .collect();
    Subject { parts }
}

impl<'a> Cx<'a> {
    fn new(unit: &'a Unit, sources: &'a SourceMap) -> Self {
        let o = unit.organization().expect("lowering needs an organization (checked)");
        let org = Organization {
            name: o.name().to_string(),
            smtp_domains: o.list("smtp_domains"),
            exchange: o
                .version("exchange")
                .and_then(|v| ExchangeVersion::parse(&v))
                .expect("version checked"),
            ad_domain: o.text("ad_domain").map(str::to_string),
            ad_forest: o.text("ad_forest").or_else(|| o.text("ad_domain")).map(str::to_string),
            netbios: o.text("netbios").map(str::to_string),
            tenant: o.text("tenant").map(str::to_string),
            iis_site: o.text("iis_site").unwrap_or(DEFAULT_SITE).to_string(),
            owner: o.text("owner").map(str::to_string),
        };
        Cx {
            unit,
            sources,
            org,
            hosts: IndexMap::new(),
            ops: Vec::new(),
            provides: HashMap::new(),
            origins: Vec::new(),
            block: None,
        }
    }

    fn server(&self, name: &str) -> Option<&'a Checked> {
        self.unit.get(name).filter(|b| b.kind() == "server")
    }

    fn fqdn(&self, server: &str) -> String {
        self.server(server)
            .and_then(|s| s.text("fqdn"))
            .unwrap_or(server)
            .to_string()
    }

    fn servers_with(&self, role: &str) -> Vec<&'a Checked> {
        self.unit
            .of_kind("server")
            .filter(|s| s.list("roles").iter().any(|r| r == role))
            .collect()
    }

    fn domain_controller(&mut self) -> String {
        if let Some(dc) = self.servers_with("domain_controller").first() {
            return dc.name().to_string();
        }
        self.pseudo(ACTIVE_DIRECTORY, HostKind::ActiveDirectory)
    }

    fn pseudo(&mut self, id: &str, kind: HostKind) -> String {
        self.hosts.entry(id.to_string()).or_insert_with(|| Host {
            id: id.to_string(),
            kind,
            fqdn: None,
            roles: Vec::new(),
            site: None,
            computer_account: None,
            owner: None,
        });
        id.to_string()
    }

    fn site_of(&self, server: &str) -> String {
        self.server(server)
            .and_then(|s| s.text("site"))
            .map_or_else(|| self.org.iis_site.clone(), str::to_string)
    }

    fn account_domain(&self) -> String {
        self.org
            .netbios
            .clone()
            .or_else(|| {
                self.org
                    .ad_domain
                    .as_ref()
                    .map(|d| exchange_name(d).to_ascii_uppercase())
            })
            .unwrap_or_else(|| "DOMAIN".to_string())
    }

    fn hosts(&mut self) {
        for s in self.unit.of_kind("server") {
            let fqdn = s.text("fqdn").unwrap_or(s.name()).to_string();
            self.hosts.insert(
                s.name().to_string(),
                Host {
                    id: s.name().to_string(),
                    kind: HostKind::Server,
                    computer_account: Some(computer_account(&fqdn)),
                    fqdn: Some(fqdn),
                    roles: s.list("roles"),
                    site: Some(self.site_of(s.name())),
                    owner: s.text("owner").map(str::to_string),
                },
            );
        }
    }

    /// Adds an operation; `needs` are resource keys it depends on, `gives` the keys it provides.
    #[allow(clippy::too_many_arguments)]
    fn op(
        &mut self,
        id: String,
        host: &str,
        phase: Phase,
        mode: Mode,
        summary: String,
        needs: &[String],
        gives: &[String],
        action: Action,
    ) -> String {
        let mut depends_on: Vec<String> = Vec::new();
        for key in needs {
            for dep in self.provides.get(key).into_iter().flatten() {
                if !depends_on.contains(dep) {
                    depends_on.push(dep.clone());
                }
            }
        }
        let (source, gate) = match self.block {
            Some(b) => {
                let (line, _) = self.sources.line_col(b.span.file, b.span.start);
                self.origins.push((b.span, id.clone()));
                (format!("{}:{line}", self.sources.get(b.span.file).name), gate_of(b))
            }
            None => (String::new(), None),
        };
        // Ids are unique: a second operation of the same id gets a numeric suffix.
        let mut unique = id.clone();
        let mut n = 2;
        while self.ops.iter().any(|o| o.id == unique) {
            unique = format!("{id}#{n}");
            n += 1;
        }
        for key in gives {
            self.provides.entry(key.clone()).or_default().push(unique.clone());
        }
        self.ops.push(Operation {
            id: unique.clone(),
            host: host.to_string(),
            phase,
            mode,
            summary,
            depends_on,
            gate,
            source,
            action,
        });
        unique
    }

    fn prerequisites(&mut self) {
        self.block = self.unit.organization();
        let dc = self
            .servers_with("domain_controller")
            .first()
            .map(|s| s.name().to_string());
        let web: Vec<(String, &str)> = self
            .unit
            .blocks
            .iter()
            .filter(|b| matches!(b.kind(), "activesync" | "seg"))
            .filter_map(|b| b.text("server").map(|s| (s.to_string(), b.kind())))
            .collect();
        let domain = self
            .org
            .ad_domain
            .clone()
            .unwrap_or_else(|| "the Active Directory domain".into());
        for (server, kind) in &web {
            let text = if *kind == "seg" {
                format!("`{server}` is a member of {domain}, the domain of the certificate authority")
            } else {
                format!("`{server}` is a member of {domain}, and ActiveSync already works with user name and password")
            };
            self.op(
                format!("prereq/domain-member/{server}"),
                server,
                Phase::Prerequisites,
                Mode::Manual,
                format!("Confirm {server} is a domain member"),
                &[],
                &[],
                Action::Prerequisite { text },
            );
        }
        if !self.unit.of_kind("chain").collect::<Vec<_>>().is_empty() {
            let host = dc
                .clone()
                .unwrap_or_else(|| self.pseudo(ACTIVE_DIRECTORY, HostKind::ActiveDirectory));
            for (slug, summary, text) in [
                ("firewall", "Confirm firewall paths for Kerberos delegation", "Firewalls pass Kerberos (88), LDAP (389) and HTTPS (443) between the gateways (TMG/SEG), the domain controllers and the Exchange servers"),
                ("domain", "Confirm the CA and gateways share one domain", "The certificate authority, TMG and SEG are in one enterprise Active Directory domain"),
                ("time", "Confirm clocks are within 5 minutes", "Clocks of TMG, SEG, Exchange and the domain controllers are within 5 minutes of each other (Kerberos rejects larger skew)"),
            ] {
                self.op(format!("prereq/kerberos-{slug}"), &host, Phase::Prerequisites, Mode::Manual, summary.into(), &[], &[], Action::Prerequisite { text: text.into() });
            }
        }
        for a in self.unit.of_kind("ws1_authority") {
            self.block = Some(a);
            let backing = a.text("authority").and_then(|n| self.unit.get(n));
            let host = backing
                .and_then(|b| b.text("server"))
                .map(str::to_string)
                .unwrap_or_else(|| self.pseudo(WORKSPACE_ONE, HostKind::WorkspaceOne));
            let text = if a.text("type") == Some("adcs") {
                format!(
                    "`{}` is an enterprise AD CS CA reachable from Workspace ONE at {}",
                    a.text("ca_name").unwrap_or(""),
                    a.text("url").unwrap_or("")
                )
            } else {
                format!(
                    "`{}` is an enterprise CA with NDES, its SCEP endpoint reachable from Workspace ONE at {}",
                    a.text("ca_name").unwrap_or(""),
                    a.text("url").unwrap_or("")
                )
            };
            self.op(
                format!("prereq/ca/{}", a.name()),
                &host,
                Phase::Prerequisites,
                Mode::Manual,
                format!("Confirm CA `{}` is ready", a.name()),
                &[],
                &[],
                Action::Prerequisite { text },
            );
        }
        self.block = None;
    }

    /// Hosts that must trust an authority, with the reason's block.
    fn trust_targets(&self) -> IndexMap<String, Vec<String>> {
        let mut map: IndexMap<String, Vec<String>> = IndexMap::new();
        let mut add = |auth: &str, host: &str| {
            let hosts = map.entry(auth.to_string()).or_default();
            if !hosts.iter().any(|h| h == host) {
                hosts.push(host.to_string());
            }
        };
        for c in self.unit.of_kind("certificate") {
            if let Some(issuer) = c.text("issuer") {
                for s in c.list("servers") {
                    for a in self.chain_of(issuer) {
                        add(a.name(), &s);
                    }
                }
            }
        }
        for b in self
            .unit
            .blocks
            .iter()
            .filter(|b| matches!(b.kind(), "activesync" | "seg"))
        {
            if let (Some(auth), Some(server)) = (b.text("authority"), b.text("server")) {
                for a in self.chain_of(auth) {
                    add(a.name(), server);
                }
            }
        }
        // A TMG listener that authenticates device certificates validates them on TMG.
        for l in self.unit.of_kind("tmg_listener") {
            if l.text("auth") != Some("client_certificate") {
                continue;
            }
            if let (Some(auth), Some(server)) = (l.text("authority"), l.text("server")) {
                for a in self.chain_of(auth) {
                    add(a.name(), server);
                }
            }
        }
        // TMG bridges SSL to the published server: it trusts the issuer of that server's
        // certificate, when the intent declares it.
        for r in self.unit.of_kind("publishing_rule") {
            if r.bool("ssl_to_server") == Some(false) {
                continue;
            }
            let Some(tmg) = r
                .text("listener")
                .and_then(|l| self.unit.get(l))
                .and_then(|l| l.text("server"))
            else {
                continue;
            };
            let published = r.text("published_server").unwrap_or("");
            for c in self
                .unit
                .of_kind("certificate")
                .filter(|c| c.list("servers").iter().any(|s| s == published))
            {
                for a in c.text("issuer").map(|i| self.chain_of(i)).unwrap_or_default() {
                    add(a.name(), tmg);
                }
            }
        }
        map
    }

    /// The authority and its parents, root first.
    fn chain_of(&self, name: &str) -> Vec<&'a Checked> {
        let mut chain = Vec::new();
        let mut cur = self.unit.get(name).filter(|b| b.kind() == "authority");
        while let Some(a) = cur {
            if chain.iter().any(|c: &&Checked| c.name() == a.name()) {
                break;
            }
            chain.push(a);
            cur = a.text("parent").and_then(|p| self.unit.get(p));
        }
        chain.reverse();
        chain
    }

    /// The first certificate whose request goes to a partner or external authority `name`
    /// (or below it): that authority's certificate comes back with the issued certificate.
    fn arrives_with_issued(&self, name: &str) -> Option<&'a Checked> {
        self.unit.of_kind("certificate").find(|c| {
            c.text("issuer").is_some_and(|i| {
                let chain = self.chain_of(i);
                chain.iter().any(|x| x.name() == name)
                    && chain
                        .first()
                        .is_some_and(|root| matches!(root.text("kind"), Some("partner" | "external")))
                    && !chain.iter().any(|x| x.text("server").is_some())
            })
        })
    }

    /// Trusts authority `a` on `host`, once.
    fn trust(&mut self, a: &'a Checked, host: &str, phase: Phase, mut needs: Vec<String>) {
        let key = format!("trust:{}:{host}", a.name());
        if self.provides.contains_key(&key) {
            return;
        }
        let store = if a.text("kind") == Some("intermediate") || a.has("parent") {
            Store::Intermediate
        } else {
            Store::Root
        };
        needs.extend(a.text("parent").map(|p| format!("trust:{p}:{host}")));
        let block = self.block;
        self.block = Some(a);
        self.op(
            format!("trust/{}/{host}", a.name()),
            host,
            phase,
            Mode::Scripted,
            format!(
                "Trust `{}` in LocalMachine\\{} on {host}",
                a.name(),
                if store == Store::Root { "Root" } else { "CA" }
            ),
            &needs,
            &[key],
            Action::TrustAuthority {
                authority: a.name().to_string(),
                file: a.file("certificate").map(str::to_string),
                common_name: a.text("common_name").map(str::to_string),
                store,
            },
        );
        self.block = block;
    }

    fn pki(&mut self) {
        let targets = self.trust_targets();
        let authorities: Vec<&Checked> = self.unit.of_kind("authority").collect();
        for a in authorities {
            self.block = Some(a);
            for host in targets.get(a.name()).into_iter().flatten() {
                // A partner's root arrives with the certificate it issued (S1): that trust is
                // added in the certificates phase, after the certificate came back.
                if self.arrives_with_issued(a.name()).is_some() {
                    continue;
                }
                self.trust(a, host, Phase::Pki, Vec::new());
            }
            // NTAuth governs logon mapping only: a unit that maps no certificate of this CA
            // to a logon (S/MIME, say) does not publish it, even if a library offers it.
            if a.bool("ntauth") == Some(true) && crate::check::mapping::maps_to_logons(self.unit, a.name()) {
                let dc = self.domain_controller();
                let id = self.op(
                    format!("ntauth/{}", a.name()),
                    &dc,
                    Phase::Pki,
                    Mode::Scripted,
                    format!("Publish `{}` to the enterprise NTAuth store", a.name()),
                    &[],
                    &[format!("ntauth:{}", a.name())],
                    Action::PublishNtAuth {
                        authority: a.name().to_string(),
                        file: a.file("certificate").map(str::to_string),
                        common_name: a.text("common_name").map(str::to_string),
                    },
                );
                // A CA the organisation does not run can then issue logon certificates for any
                // user: the publication waits for the PKI owner's approval (MS0238).
                let foreign = self
                    .chain_of(a.name())
                    .first()
                    .is_some_and(|r| matches!(r.text("kind"), Some("external" | "partner")));
                if foreign {
                    let text = a.text("ntauth_approval").map_or_else(
                        || format!("the PKI owner approves publishing `{}`, a CA the organisation does not run, to NTAuth, and confirms its hierarchy issues only to this organisation", a.name()),
                        str::to_string,
                    );
                    if let Some(op) = self.ops.iter_mut().find(|o| o.id == id) {
                        op.gate = Some(Gate::Approval { text });
                    }
                }
            }
            let cdp = a.list("cdp");
            if !cdp.is_empty() {
                for host in targets.get(a.name()).into_iter().flatten() {
                    self.op(
                        format!("cdp/{}/{host}", a.name()),
                        host,
                        Phase::Pki,
                        Mode::Verify,
                        format!(
                            "Check the CRL of `{}` is reachable from {host} without a proxy",
                            a.name()
                        ),
                        &[format!("trust:{}:{host}", a.name())],
                        &[],
                        Action::CheckCdp {
                            authority: a.name().to_string(),
                            urls: cdp.clone(),
                        },
                    );
                }
            }
        }
        self.block = None;
    }

    fn certificates(&mut self) {
        let certs: Vec<&Checked> = self.unit.of_kind("certificate").collect();
        for c in certs {
            self.block = Some(c);
            let servers = c.list("servers");
            let Some(first) = servers.first().cloned() else {
                continue;
            };
            let key = c.record("key").unwrap_or(&[]);
            let exportable = field_bool(key, "exportable").unwrap_or(false);
            let subj = subject(c);
            let name = c.name().to_string();
            let reference = c.text("reference").map(str::to_string);
            let request_file = c.file("request").map_or_else(
                || format!("{}.req", reference.as_deref().unwrap_or(&name)),
                str::to_string,
            );
            let issued_file = c.file("issued").map_or_else(
                || format!("{}.cer", reference.as_deref().unwrap_or(&name)),
                str::to_string,
            );
            let issuer = c.text("issuer").map(str::to_string);
            let mut domains = c.list("domains");
            if domains.is_empty() {
                domains = self.org.smtp_domains.iter().take(1).cloned().collect();
            }
            self.op(
                format!("csr/{name}"),
                &first,
                Phase::Certificates,
                Mode::Scripted,
                format!(
                    "Generate the certificate request for `{name}`{}",
                    reference
                        .as_ref()
                        .map(|r| format!(" (reference {r})"))
                        .unwrap_or_default()
                ),
                &[],
                &[format!("csr:{name}")],
                Action::RequestCertificate {
                    certificate: name.clone(),
                    subject: subj.clone(),
                    domains,
                    key_size: u32::try_from(field_int(key, "size").unwrap_or(2048)).unwrap_or(2048),
                    exportable,
                    request_file: request_file.clone(),
                    reference: reference.clone(),
                    friendly_name: c.text("friendly_name").map(str::to_string),
                    eku: c.list("eku"),
                },
            );
            let issuer_host = issuer
                .as_deref()
                .and_then(|i| self.unit.get(i))
                .and_then(|a| a.text("server"))
                .map(str::to_string)
                .unwrap_or_else(|| self.pseudo(PARTNER, HostKind::Partner));
            self.op(
                format!("submit/{name}"),
                &issuer_host,
                Phase::Certificates,
                Mode::Manual,
                format!(
                    "Send the request for `{name}` to {} and receive the certificate",
                    issuer.as_deref().unwrap_or("the issuing CA")
                ),
                &[format!("csr:{name}")],
                &[format!("issued:{name}")],
                Action::SubmitRequest {
                    certificate: name.clone(),
                    authority: issuer.clone(),
                    request_file,
                    reference,
                    issued_file: issued_file.clone(),
                },
            );
            if let Some(issuer) = issuer.as_deref() {
                let chain = self.chain_of(issuer);
                for server in &servers {
                    for a in &chain {
                        if self.arrives_with_issued(a.name()).is_some() {
                            self.trust(a, server, Phase::Certificates, vec![format!("issued:{name}")]);
                        }
                    }
                }
            }
            let services: Vec<String> = c.list("services").iter().map(|s| s.to_ascii_uppercase()).collect();
            for (i, server) in servers.iter().enumerate() {
                let trust: Vec<String> = issuer
                    .as_deref()
                    .map(|a| {
                        self.chain_of(a)
                            .iter()
                            .map(|x| format!("trust:{}:{server}", x.name()))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut needs = vec![format!("issued:{name}")];
                needs.extend(trust);
                if i > 0 {
                    needs.push(format!("imported:{name}:{first}"));
                }
                self.op(
                    format!("import/{name}/{server}"),
                    server,
                    Phase::Certificates,
                    Mode::Scripted,
                    format!("Import `{name}` on {server}"),
                    &needs,
                    &[format!("imported:{name}:{server}")],
                    Action::ImportCertificate {
                        certificate: name.clone(),
                        file: issued_file.clone(),
                        subject: subj.clone(),
                        exportable,
                    },
                );
                if !services.is_empty() {
                    self.op(
                        format!("enable/{name}/{server}"),
                        server,
                        Phase::Certificates,
                        Mode::Scripted,
                        format!("Enable `{name}` for {} on {server}", services.join(", ")),
                        &[format!("imported:{name}:{server}")],
                        &[format!("enabled:{name}:{server}")],
                        Action::EnableCertificate {
                            certificate: name.clone(),
                            subject: subj.clone(),
                            services: services.clone(),
                        },
                    );
                }
                if services.iter().any(|s| s == "SMTP") {
                    self.op(
                        format!("verify-smtp-cert/{name}/{server}"),
                        server,
                        Phase::Certificates,
                        Mode::Verify,
                        format!("Verify `{name}` is enabled for SMTP and no other SMTP certificate on {server} holds its connector FQDN"),
                        &[format!("enabled:{name}:{server}")],
                        &[format!("enabled:{name}:{server}")],
                        Action::VerifySmtpCertificate {
                            certificate: name.clone(),
                            subject: subj.clone(),
                        },
                    );
                }
            }
        }
        self.block = None;
    }

    fn transport(&mut self) {
        let receive: Vec<&Checked> = self.unit.of_kind("receive_connector").collect();
        let mut restart: Vec<String> = Vec::new();
        for r in receive {
            self.block = Some(r);
            let server = r.text("server").unwrap_or("").to_string();
            let cert = r.text("certificate").and_then(|n| self.unit.get(n));
            let fqdn = r
                .text("fqdn")
                .map(str::to_string)
                .or_else(|| cert.map(|c| subject(c).cn().to_string()));
            let fqdn_certificate = cert.filter(|_| !r.has("fqdn")).map(|c| c.name().to_string());
            let needs: Vec<String> = cert
                .map(|c| vec![format!("enabled:{}:{server}", c.name())])
                .unwrap_or_default();
            let auth: Vec<String> = r
                .list("auth")
                .iter()
                .map(|a| {
                    match a.as_str() {
                        "tls" => "Tls",
                        "basic" => "BasicAuth",
                        "basic_require_tls" => "BasicAuthRequireTLS",
                        "integrated" => "Integrated",
                        "exchange_server" => "ExchangeServer",
                        _ => "ExternalAuthoritative",
                    }
                    .to_string()
                })
                .collect();
            let groups: Vec<String> = r
                .list("permission_groups")
                .iter()
                .map(|g| {
                    match g.as_str() {
                        "anonymous" => "AnonymousUsers",
                        "exchange_users" => "ExchangeUsers",
                        "exchange_servers" => "ExchangeServers",
                        "exchange_legacy_servers" => "ExchangeLegacyServers",
                        _ => "Partners",
                    }
                    .to_string()
                })
                .collect();
            let require_tls = r.bool("require_tls").unwrap_or(false);
            let bindings = if r.has("bindings") {
                r.list("bindings")
            } else {
                vec!["0.0.0.0:25".to_string()]
            };
            let name = r.name().to_string();
            let remote_ips = r.list("remote_ips");
            let mut expect = IndexMap::new();
            expect.insert("RemoteIPRanges".to_string(), remote_ips.join(", "));
            expect.insert("AuthMechanism".to_string(), auth.join(", "));
            expect.insert("PermissionGroups".to_string(), groups.join(", "));
            if let Some(f) = &fqdn {
                expect.insert("Fqdn".to_string(), f.clone());
            }
            expect.insert(
                "RequireTLS".to_string(),
                if require_tls { "True" } else { "False" }.to_string(),
            );
            let server_name = exchange_name(&self.fqdn(&server));
            self.op(
                format!("receive-connector/{name}"),
                &server,
                Phase::Transport,
                Mode::Scripted,
                format!("Ensure receive connector `{name}` on {server}"),
                &needs,
                &[format!("connector:{name}"), format!("receive:{server}")],
                Action::ReceiveConnector {
                    name: name.clone(),
                    server: server.clone(),
                    server_name,
                    fqdn,
                    fqdn_certificate,
                    bindings,
                    remote_ips,
                    auth,
                    permission_groups: groups,
                    require_tls,
                    usage: usage(r.text("usage").unwrap_or("custom")),
                    max_message_size: r.size("max_message_size"),
                    tls_domain: r.text("tls_domain").map(str::to_string),
                },
            );
            if !restart.contains(&server) {
                restart.push(server.clone());
            }
            self.op(
                format!("verify-connector/receive/{name}"),
                &server,
                Phase::Transport,
                Mode::Verify,
                format!("Read back receive connector `{name}`"),
                &[format!("connector:{name}")],
                &[format!("verified:{name}")],
                Action::VerifyConnector {
                    direction: "receive".into(),
                    name: name.clone(),
                    expect,
                },
            );
        }
        for server in restart {
            self.block = self
                .unit
                .of_kind("receive_connector")
                .find(|r| r.text("server") == Some(server.as_str()));
            self.op(
                format!("restart-transport/{server}"),
                &server,
                Phase::Transport,
                Mode::Scripted,
                format!("Restart MSExchangeTransport on {server}"),
                &[format!("receive:{server}")],
                &[format!("restarted:{server}")],
                Action::RestartService {
                    service: "MSExchangeTransport".into(),
                },
            );
        }
        let cost_changes: Vec<&Checked> = self
            .unit
            .of_kind("retire")
            .filter(|r| r.retired_kind.as_ref().is_some_and(|k| k.text == "send_connector") && r.has("transition_cost"))
            .collect();
        let send: Vec<&Checked> = self.unit.of_kind("send_connector").collect();
        for s in send {
            self.block = Some(s);
            let sources = s.list("source_servers");
            let Some(host) = sources.first().cloned() else { continue };
            let name = s.name().to_string();
            let smart_hosts = s.list("smart_hosts");
            let credential = s.secret("auth").map(|n| SecretRef { name: n.to_string() });
            let auth_mechanism = if credential.is_some() { "BasicAuth" } else { "None" }.to_string();
            let require_tls = s.bool("require_tls").unwrap_or(false);
            let ignore_starttls = s.bool("ignore_starttls").unwrap_or(false);
            let source_servers: Vec<String> = sources.iter().map(|x| exchange_name(&self.fqdn(x))).collect();
            let tls_certificate = s.text("tls_certificate").map(str::to_string);
            let mut expect = IndexMap::new();
            expect.insert("AddressSpaces".to_string(), s.list("address_spaces").join(", "));
            if !smart_hosts.is_empty() {
                expect.insert("SmartHosts".to_string(), smart_hosts.join(", "));
            }
            expect.insert("SmartHostAuthMechanism".to_string(), auth_mechanism.clone());
            expect.insert(
                "RequireTLS".to_string(),
                if require_tls { "True" } else { "False" }.to_string(),
            );
            expect.insert(
                "IgnoreSTARTTLS".to_string(),
                if ignore_starttls { "True" } else { "False" }.to_string(),
            );
            let mut needs: Vec<String> = sources.iter().map(|x| format!("restarted:{x}")).collect();
            // Guide 10.0: the old connector's cost goes up *before* the new one (cost 1) is
            // created, so there is no window with two connectors at the same cost.
            for r in &cost_changes {
                let old = r.name().to_string();
                let cost = u32::try_from(r.int("transition_cost").unwrap_or(20)).unwrap_or(20);
                self.block = Some(r);
                // The cost change is part of the transition, not of the retirement: no gate
                // of its own, only the new connector's date.
                let id = self.op(
                    format!("connector-cost/{old}"),
                    &host,
                    Phase::Transport,
                    Mode::Scripted,
                    format!("Set the cost of `{old}` to {cost} before `{name}` takes over"),
                    &needs,
                    &[format!("cost:{old}")],
                    Action::SetConnectorCost {
                        name: old.clone(),
                        cost,
                    },
                );
                if let Some(op) = self.ops.iter_mut().find(|o| o.id == id) {
                    op.gate = s.date("not_before").map(|d| Gate::NotBefore { date: d.to_string() });
                }
                needs.push(format!("cost:{old}"));
                self.block = Some(s);
            }
            self.op(
                format!("send-connector/{name}"),
                &host,
                Phase::Transport,
                Mode::Scripted,
                format!("Ensure send connector `{name}`"),
                &needs,
                &[format!("connector:{name}")],
                Action::SendConnector {
                    name: name.clone(),
                    address_spaces: s.list("address_spaces"),
                    smart_hosts,
                    auth_mechanism,
                    credential,
                    require_tls,
                    ignore_starttls,
                    source_servers,
                    usage: usage(s.text("usage").unwrap_or("custom")),
                    tls_auth_level: s.text("tls_auth_level").map(|l| {
                        match l {
                            "encryption_only" => "EncryptionOnly",
                            "certificate_validation" => "CertificateValidation",
                            _ => "DomainValidation",
                        }
                        .to_string()
                    }),
                    tls_domain: s.text("tls_domain").map(str::to_string),
                    tls_certificate,
                    cost: u32::try_from(s.int("cost").unwrap_or(1)).unwrap_or(1),
                    fqdn: s.text("fqdn").map(str::to_string),
                    port: s.int("port").and_then(|p| u32::try_from(p).ok()),
                    max_message_size: s.size("max_message_size"),
                },
            );
            self.op(
                format!("verify-connector/send/{name}"),
                &host,
                Phase::Transport,
                Mode::Verify,
                format!("Read back send connector `{name}`"),
                &[format!("connector:{name}")],
                &[format!("verified:{name}")],
                Action::VerifyConnector {
                    direction: "send".into(),
                    name: name.clone(),
                    expect,
                },
            );
        }
        self.block = None;
    }

    fn smime(&mut self) {
        let blocks: Vec<&Checked> = self.unit.of_kind("smime").collect();
        for s in blocks {
            self.block = Some(s);
            let mode = s.text("mode").unwrap_or("cloud");
            let online = mode != "on_premises";
            let host = if online {
                self.pseudo(EXCHANGE_ONLINE, HostKind::ExchangeOnline)
            } else {
                self.servers_with("mailbox")
                    .into_iter()
                    .chain(self.servers_with("client_access"))
                    .next()
                    .map(|b| b.name().to_string())
                    .unwrap_or_else(|| self.pseudo(EXCHANGE_ONLINE, HostKind::ExchangeOnline))
            };
            if mode == "hybrid" {
                let dc = self.domain_controller();
                self.op(
                    format!("dirsync/{}", s.name()),
                    &dc,
                    Phase::Smime,
                    Mode::Verify,
                    "Confirm directory synchronisation replicates userCertificate and userSMIMECertificate".into(),
                    &[],
                    &[format!("dirsync:{}", s.name())],
                    Action::DirectorySync {
                        version: s.text("dirsync_version").map(str::to_string),
                    },
                );
            }
            self.op(
                format!("smime-config/{}", s.name()),
                &host,
                Phase::Smime,
                Mode::Scripted,
                "Upload the S/MIME issuing CA certificates (SST)".into(),
                &[format!("dirsync:{}", s.name())],
                &[format!("smime:{}", s.name())],
                Action::SmimeConfig {
                    sst_file: s.file("sst").unwrap_or("").to_string(),
                    authorities: s.list("authorities"),
                    online,
                },
            );
            let clients = self.pseudo(CLIENTS, HostKind::Clients);
            self.op(
                format!("smime-publish/{}", s.name()),
                &clients,
                Phase::Smime,
                Mode::Manual,
                "Users publish their certificates to the GAL".into(),
                &[format!("smime:{}", s.name())],
                &[format!("published:{}", s.name())],
                Action::Manual {
                    steps: vec![
                        "In Outlook, open File > Options > Trust Center > Trust Center Settings > Email Security".into(),
                        "Under Encrypted email, choose Settings and select the user's S/MIME certificate for signing and encryption".into(),
                        "Choose Publish to GAL and confirm".into(),
                    ],
                },
            );
            for user in s.list("verify_users") {
                self.op(
                    format!("smime-verify/{}/{user}", s.name()),
                    &host,
                    Phase::Smime,
                    Mode::Verify,
                    format!("Verify {user} has a published S/MIME certificate"),
                    &[format!("published:{}", s.name())],
                    &[],
                    Action::VerifyUserSmime { user },
                );
            }
        }
        self.block = None;
    }

    /// Whether `server` sits behind the hop that terminates client certificates in some
    /// chain, so it receives delegated Kerberos tickets rather than certificates.
    fn behind_gateway(&self, server: &str) -> bool {
        self.unit.of_kind("chain").any(|c| {
            let path = c.list("path");
            let term = c.text("client_certificates").unwrap_or("");
            let term_pos = path.iter().position(|p| p == term);
            let pos = path.iter().position(|p| p == server).or_else(|| {
                // Members of the target array stand where the last hop stands.
                let asa = c.text("target").and_then(|t| self.unit.get(t))?;
                asa.list("members")
                    .iter()
                    .any(|m| m == server)
                    .then(|| path.len().saturating_sub(1))
            });
            matches!((term_pos, pos), (Some(t), Some(p)) if p > t)
        })
    }

    fn kerberos(&mut self) {
        let dc = if self.unit.of_kind("chain").next().is_some() || self.unit.of_kind("service_account").next().is_some()
        {
            Some(self.domain_controller())
        } else {
            None
        };
        let Some(dc) = dc else { return };
        let domain = self.account_domain();
        let asas: Vec<&Checked> = self.unit.of_kind("service_account").collect();
        for a in asas {
            self.block = Some(a);
            let members: Vec<String> = a.list("members").iter().map(|m| self.fqdn(m)).collect();
            let first = a.list("members").first().cloned().unwrap_or_else(|| dc.clone());
            let account = a.text("account").unwrap_or(a.name()).trim_end_matches('$').to_string();
            let array = a.text("array_fqdn").unwrap_or("").to_string();
            self.op(
                format!("asa/{}", a.name()),
                &first,
                Phase::Kerberos,
                Mode::Scripted,
                format!("Create the alternate service account {account}$ and roll it to the array members"),
                &[],
                &[format!("asa:{}", a.name())],
                Action::AlternateServiceAccount {
                    account: account.clone(),
                    array_fqdn: array.clone(),
                    members,
                    domain: Some(domain.clone()),
                },
            );
            self.op(
                format!("spn/{}/{array}", a.name()),
                &dc,
                Phase::Kerberos,
                Mode::Scripted,
                format!("Register http/{array} on {account}$"),
                &[format!("asa:{}", a.name())],
                &[format!("spn:{array}")],
                Action::RegisterSpn {
                    spn: format!("http/{array}"),
                    account: format!("{domain}\\{account}$"),
                },
            );
        }
        let chains: Vec<&Checked> = self.unit.of_kind("chain").collect();
        for c in chains {
            self.block = Some(c);
            let path = c.list("path");
            let service = c.text("service").unwrap_or("http").to_string();
            let transition = c.bool("protocol_transition").unwrap_or(true);
            // Hops before the certificate hop pass the device's TLS through (a TMG server
            // publishing rule): they have no user to delegate for.
            let first = c
                .text("client_certificates")
                .and_then(|t| path.iter().position(|p| p == t))
                .unwrap_or(0);
            for (i, pair) in path.windows(2).enumerate() {
                if i < first {
                    continue;
                }
                let (from, to) = (&pair[0], &pair[1]);
                let last = i + 2 == path.len();
                let asa = if last {
                    c.text("target").and_then(|t| self.unit.get(t))
                } else {
                    None
                };
                let (spn_host, account) = match asa {
                    Some(a) => (
                        a.text("array_fqdn").unwrap_or("").to_string(),
                        format!(
                            "{domain}\\{}$",
                            a.text("account").unwrap_or(a.name()).trim_end_matches('$')
                        ),
                    ),
                    None => {
                        let f = self.fqdn(to);
                        let acct = format!("{domain}\\{}", computer_account(&f));
                        (f, acct)
                    }
                };
                let spn = format!("{service}/{spn_host}");
                if asa.is_none() && !self.provides.contains_key(&format!("spn:{spn_host}")) {
                    self.op(
                        format!("spn/{to}/{spn_host}"),
                        &dc,
                        Phase::Kerberos,
                        Mode::Scripted,
                        format!("Register {spn} on {account}"),
                        &[],
                        &[format!("spn:{spn_host}")],
                        Action::RegisterSpn {
                            spn: spn.clone(),
                            account,
                        },
                    );
                }
                let from_fqdn = self.fqdn(from);
                self.op(
                    format!("delegation/{}/{from}", c.name()),
                    &dc,
                    Phase::Kerberos,
                    Mode::Scripted,
                    format!(
                        "Allow {from} to delegate to {spn}{}",
                        if transition { " with protocol transition" } else { "" }
                    ),
                    &[format!("spn:{spn_host}")],
                    &[format!("delegation:{from}")],
                    Action::AllowDelegation {
                        account: computer_account(&from_fqdn),
                        from: from.clone(),
                        spns: vec![spn],
                        protocol_transition: transition,
                    },
                );
                let seg = self
                    .unit
                    .of_kind("seg")
                    .find(|s| s.text("server") == Some(from.as_str()));
                let identity = windows_identity(
                    seg.and_then(|s| s.text("identity")).unwrap_or("network_service"),
                    seg.and_then(|s| s.text("app_pool")).unwrap_or("SecureEmailGateway"),
                );
                let key = format!("rights:{from}");
                // No TCB on the edge firewall: the TMG Firewall service runs as Network
                // Service and needs only the constrained delegation on the TMG computer
                // account (Microsoft, TMG SP2 "Kerberos authentication on an NLB array").
                let on_tmg = self
                    .server(from)
                    .is_some_and(|s| s.list("roles").iter().any(|r| r == "tmg"));
                if !on_tmg && !self.provides.contains_key(&key) {
                    self.op(
                        format!("user-rights/{from}"),
                        from,
                        Phase::Kerberos,
                        Mode::Scripted,
                        format!("Grant the gateway identity on {from} the rights to act as part of the OS and impersonate clients"),
                        &[],
                        &[key],
                        Action::GrantUserRights {
                            identity,
                            rights: vec!["SeTcbPrivilege".into(), "SeImpersonatePrivilege".into()],
                        },
                    );
                }
            }
        }
        self.block = None;
    }

    fn client_access(&mut self) {
        let eas: Vec<&Checked> = self.unit.of_kind("activesync").collect();
        for e in eas {
            self.block = Some(e);
            let server = e.text("server").unwrap_or("").to_string();
            let fqdn = self.fqdn(&server);
            let auth = eas_auth(e.text("auth"));
            let site = e.text("site").map_or_else(|| self.site_of(&server), str::to_string);
            let windows = self.behind_gateway(&server) || auth == EasAuth::Kerberos;
            let certs = asks_for_certificates(auth);
            self.op(
                format!("activesync/{}", e.name()),
                &server,
                Phase::ClientAccess,
                Mode::Scripted,
                format!("Set ActiveSync authentication on {server}"),
                &[],
                &[format!("eas:{server}")],
                Action::ActiveSyncDirectory {
                    name: e.name().to_string(),
                    server_name: exchange_name(&fqdn),
                    site: site.clone(),
                    auth,
                    basic: !matches!(auth, EasAuth::Certificate | EasAuth::Kerberos),
                    // Ruling (b): "certificate and password" requires the certificate; only
                    // the explicit "certificate or password" accepts devices without one.
                    // Behind a delegating hop (kerberos) certificates are ignored.
                    client_cert_auth: match auth {
                        EasAuth::Password | EasAuth::Kerberos => "Ignore",
                        EasAuth::CertificateOrPassword => "Accepted",
                        EasAuth::CertificateAndPassword | EasAuth::Certificate => "Required",
                    }
                    .into(),
                    windows,
                    external_host: e.text("external_host").map(str::to_string),
                },
            );
            if certs {
                let summary =
                    format!("Configure IIS client-certificate authentication for {site}/{EAS_APP} on {server}");
                self.iis_client_certs(e, &server, site.clone(), EAS_APP, auth, fqdn.clone(), summary);
            }
            if windows {
                self.op(
                    format!("iis-windows-auth/{}", e.name()),
                    &server,
                    Phase::ClientAccess,
                    Mode::Scripted,
                    format!("Enable Windows authentication (Negotiate, NTLM) for {site}/{EAS_APP} on {server}"),
                    &[],
                    &[format!("iis:{server}")],
                    Action::IisWindowsAuth {
                        site,
                        application: EAS_APP.into(),
                    },
                );
            }
        }
        let segs: Vec<&Checked> = self.unit.of_kind("seg").collect();
        for s in segs {
            self.block = Some(s);
            let server = s.text("server").unwrap_or("").to_string();
            let fqdn = self.fqdn(&server);
            let site = s.text("site").map_or_else(|| self.site_of(&server), str::to_string);
            let identity = s.text("identity").unwrap_or("network_service");
            let certificate = s.text("certificate").map(str::to_string);
            let mut needs = vec![format!("rights:{server}")];
            if let Some(c) = &certificate {
                needs.push(format!("imported:{c}:{server}"));
            }
            self.op(
                format!("seg/{}", s.name()),
                &server,
                Phase::ClientAccess,
                Mode::Scripted,
                match &certificate {
                    Some(c) => format!(
                        "Configure the SEG application pool and its Exchange host on {server}, and bind `{c}` to its https binding"
                    ),
                    None => format!("Configure the SEG application pool and its Exchange host on {server}"),
                },
                &needs,
                &[format!("seg:{server}")],
                Action::SegConfig {
                    name: s.name().to_string(),
                    app_pool: s.text("app_pool").unwrap_or("SecureEmailGateway").to_string(),
                    identity: match identity {
                        "local_system" => "LocalSystem",
                        "application_pool_identity" => "ApplicationPoolIdentity",
                        _ => "NetworkService",
                    }
                    .into(),
                    exchange_host: s.text("exchange_host").unwrap_or("").to_string(),
                    site: site.clone(),
                    certificate,
                },
            );
            let auth = eas_auth(s.text("auth"));
            if asks_for_certificates(auth) {
                let summary = format!(
                    "Configure IIS client-certificate authentication for the SEG at {site}/{EAS_APP} on {server}"
                );
                // The SEG serves ActiveSync at its own Microsoft-Server-ActiveSync application
                // (Workspace ONE guide, SEG section step 4): certificate settings site-wide
                // would also lock out its other endpoints and load-balancer probes (403.7).
                self.iis_client_certs(s, &server, site, EAS_APP, auth, fqdn, summary);
            }
        }
        self.block = None;
    }

    /// IIS client-certificate authentication for an ActiveSync application or a SEG site,
    /// after the client certificates' chain is trusted on that server.
    #[allow(clippy::too_many_arguments)]
    fn iis_client_certs(
        &mut self,
        b: &Checked,
        server: &str,
        site: String,
        application: &str,
        auth: EasAuth,
        fqdn: String,
        summary: String,
    ) {
        let trust: Vec<String> = b
            .text("authority")
            .map(|a| {
                self.chain_of(a)
                    .iter()
                    .map(|x| format!("trust:{}:{server}", x.name()))
                    .collect()
            })
            .unwrap_or_default();
        self.op(
            format!("iis-client-certs/{}", b.name()),
            server,
            Phase::ClientAccess,
            Mode::Scripted,
            summary,
            &trust,
            &[format!("iis:{server}")],
            Action::IisClientCertificates {
                name: b.name().to_string(),
                site,
                application: application.to_string(),
                client_certs: if auth == EasAuth::CertificateOrPassword {
                    ClientCerts::Accept
                } else {
                    ClientCerts::Require
                },
                basic: matches!(auth, EasAuth::CertificateAndPassword | EasAuth::CertificateOrPassword),
                anonymous: false,
                certificate_mapping: true,
                upload_read_ahead: b.size("upload_read_ahead").unwrap_or(crate::check::UPLOAD_READ_AHEAD),
                fqdn,
            },
        );
    }

    fn mapping(&mut self) {
        let maps: Vec<&Checked> = self.unit.of_kind("cert_mapping").collect();
        for m in maps {
            self.block = Some(m);
            let host = m
                .text("domain_controller")
                .map(str::to_string)
                .unwrap_or_else(|| self.domain_controller());
            let authority = m.text("authority").unwrap_or("").to_string();
            let kind = m.text("kind").unwrap_or("upn").to_string();
            let mode = if kind == "upn" { Mode::Verify } else { Mode::Manual };
            // The NTAuth cache that UPN mapping needs is read on the server that maps the
            // certificates (the ActiveSync or SEG host), not on the domain controller.
            let mut hosts: Vec<String> = Vec::new();
            if kind == "upn" {
                for b in self.unit.blocks.iter().filter(|b| {
                    matches!(b.kind(), "activesync" | "seg")
                        && asks_for_certificates(eas_auth(b.text("auth")))
                        && b.text("authority")
                            .is_some_and(|x| self.chain_of(x).iter().any(|c| c.name() == authority))
                }) {
                    if let Some(s) = b.text("server").filter(|s| !hosts.iter().any(|h| h == s)) {
                        hosts.push(s.to_string());
                    }
                }
            }
            if hosts.is_empty() {
                hosts.push(host);
            }
            let summary = match kind.as_str() {
                "upn" => format!("Verify `{authority}` is in NTAuth so certificates map to users by UPN"),
                "many_to_one" => format!(
                    "Map all certificates of `{authority}` to {}",
                    m.text("account").unwrap_or("the service account")
                ),
                _ => format!("Map the certificate {} to its user", m.text("subject").unwrap_or("")),
            };
            for (i, host) in hosts.iter().enumerate() {
                self.op(
                    if i == 0 {
                        format!("mapping/{}", m.name())
                    } else {
                        format!("mapping/{}/{host}", m.name())
                    },
                    host,
                    Phase::Mapping,
                    mode,
                    summary.clone(),
                    &[format!("ntauth:{authority}")],
                    &[format!("mapped:{}", m.name())],
                    Action::CertificateMapping {
                        mapping: kind.clone(),
                        authority: authority.clone(),
                        account: m.text("account").map(str::to_string),
                        subject: m.text("subject").map(str::to_string),
                    },
                );
            }
        }
        // KB5014754: domain controllers in Full Enforcement refuse weak mappings; their
        // Kdcsvc events say so. Read them after a test logon, in every unit that maps.
        let mapper = self.unit.of_kind("cert_mapping").next().or_else(|| {
            self.unit.blocks.iter().find(|b| {
                (matches!(b.kind(), "activesync" | "seg") && asks_for_certificates(eas_auth(b.text("auth"))))
                        // TMG maps the device certificate to the user for its delegation.
                        || (b.kind() == "tmg_listener" && b.text("auth") == Some("client_certificate"))
            })
        });
        // What makes a mapping strong is a statement about the PKI or the directory: read it
        // back on one real certificate or account before trusting it.
        let declared: Vec<&Checked> = self
            .unit
            .blocks
            .iter()
            .filter(|b| {
                b.text("strong").is_some()
                    && match b.kind() {
                        "cert_mapping" => true,
                        "activesync" | "seg" => asks_for_certificates(eas_auth(b.text("auth"))),
                        "tmg_listener" => b.text("auth") == Some("client_certificate"),
                        _ => false,
                    }
            })
            .collect();
        for b in declared {
            self.block = Some(b);
            let dc = self.domain_controller();
            let (command, expect) = strong_mapping_check(b.text("strong").unwrap_or_default());
            self.op(
                format!("strong-mapping-{}", b.name()),
                &dc,
                Phase::Verification,
                Mode::Verify,
                format!("Check that `{}` maps certificates strongly (KB5014754)", b.name()),
                &[],
                &[],
                Action::Check { command, expect },
            );
        }
        if let Some(b) = mapper {
            self.block = Some(b);
            let dc = self.domain_controller();
            let needs: Vec<String> = self
                .unit
                .of_kind("cert_mapping")
                .map(|m| format!("mapped:{}", m.name()))
                .collect();
            self.op(
                "kdc-strong-mapping".into(),
                &dc,
                Phase::Verification,
                Mode::Verify,
                "Check the domain controllers for weak certificate mappings (KB5014754)".into(),
                &needs,
                &[],
                Action::Check {
                    command: "Get-WinEvent -FilterHashtable @{ LogName = 'System'; ProviderName = 'Microsoft-Windows-Kerberos-Key-Distribution-Center'; Id = 39, 40, 41 } -MaxEvents 50 on every domain controller, after a test device has synced".into(),
                    expect: "no event 39, 40 or 41 for the mapped users (39: no strong mapping; 40: certificate older than the account; 41: the certificate's SID is another user's)".into(),
                },
            );
        }
        self.block = None;
    }

    fn gateway(&mut self) {
        let listeners: Vec<&Checked> = self.unit.of_kind("tmg_listener").collect();
        for l in listeners {
            self.block = Some(l);
            let server = l.text("server").unwrap_or("").to_string();
            let cert = l.text("certificate").and_then(|c| self.unit.get(c));
            let client_certs = l.text("auth") == Some("client_certificate");
            if client_certs {
                // TMG validates the device certificate itself: against AD's NTAuth store (for
                // the S4U logon) and the CRL, which TMG downloads under its system policy.
                if !l.has("authority") {
                    self.op(
                        format!("device-ca/{server}"),
                        &server,
                        Phase::Gateway,
                        Mode::Verify,
                        format!("Check that {server} trusts the CA of the device certificates"),
                        &[],
                        &[format!("ntauth-cache:{server}")],
                        Action::Check {
                            command: format!("certutil -verify -urlfetch <a device certificate>.cer on {server} (the intent names no `authority` for listener `{}`)", l.name()),
                            expect: "the chain builds to a trusted root in LocalMachine\\Root, the CRLs download, and the issuing CA is in the NTAuth store".into(),
                        },
                    );
                }
                if let Some(auth) = l.text("authority").and_then(|a| self.unit.get(a)) {
                    let cn = auth.text("common_name").unwrap_or(auth.name()).to_string();
                    if auth.bool("ntauth") == Some(true) {
                        self.op(
                            format!("ntauth-cache/{}/{server}", auth.name()),
                            &server,
                            Phase::Gateway,
                            Mode::Verify,
                            format!("Check that {server}'s NTAuth cache holds `{}`", auth.name()),
                            &[format!("ntauth:{}", auth.name())],
                            &[format!("ntauth-cache:{server}")],
                            Action::Check {
                                command: format!(
                                    "gpupdate /force, then certutil -enterprise -store NTAuth on {server}"
                                ),
                                expect: format!(
                                    "the store lists {cn}; otherwise the device's certificate logon fails on TMG"
                                ),
                            },
                        );
                    }
                }
                self.op(
                    format!("crl-policy/{server}"),
                    &server,
                    Phase::Gateway,
                    Mode::Verify,
                    format!("Check that TMG's system policy lets {server} download CRLs"),
                    &[],
                    &[format!("crl-policy:{server}")],
                    Action::Check {
                        command: "Forefront TMG Management > Firewall Policy > Tasks > Edit System Policy > Authentication Services > Certificate Revocation".into(),
                        expect: "Enabled, \"Allow HTTP from Local Host to all networks for CRL downloads\" (verify on a lab TMG: the group's name differs between builds)".into(),
                    },
                );
            }
            self.op(
                format!("tmg-listener/{}", l.name()),
                &server,
                Phase::Gateway,
                Mode::Scripted,
                format!("Create the TMG web listener `{}`", l.name()),
                &[
                    format!("delegation:{server}"),
                    format!("ntauth-cache:{server}"),
                    format!("crl-policy:{server}"),
                ],
                &[format!("listener:{}", l.name())],
                Action::TmgListener {
                    name: l.name().to_string(),
                    description: l.text("description").map(str::to_string),
                    certificate: l.text("certificate").unwrap_or("").to_string(),
                    certificate_cn: cert.map(|c| subject(c).cn().to_string()).unwrap_or_default(),
                    auth: l.text("auth").unwrap_or("client_certificate").to_string(),
                    addresses: l.list("addresses"),
                    require_ssl: l.bool("require_ssl").unwrap_or(true),
                },
            );
        }
        let rules: Vec<&Checked> = self.unit.of_kind("publishing_rule").collect();
        for r in rules {
            self.block = Some(r);
            let listener = r.text("listener").unwrap_or("").to_string();
            let host = self
                .unit
                .get(&listener)
                .and_then(|l| l.text("server"))
                .unwrap_or("")
                .to_string();
            let farm: Vec<String> = r.list("farm").iter().map(|f| self.fqdn(f)).collect();
            let internal = self.fqdn(r.text("published_server").unwrap_or(""));
            let ssl = r.bool("ssl_to_server").unwrap_or(true);
            if ssl {
                // SSL bridging: TMG opens its own TLS session to the internal site name.
                self.op(
                    format!("backend-cert/{}", r.name()),
                    &host,
                    Phase::Gateway,
                    Mode::Verify,
                    format!("Check that {host} trusts the certificate {internal} presents"),
                    &[],
                    &[format!("backend-cert:{}", r.name())],
                    Action::Check {
                        command: format!("On {host}: open https://{internal}/{EAS_APP} in a browser (or certutil -verify -urlfetch on that server's exported certificate)"),
                        expect: format!("no certificate warning: the certificate's issuer is trusted on {host} and its CN or SAN holds {internal}"),
                    },
                );
            }
            self.op(
                format!("tmg-rule/{}", r.name()),
                &host,
                Phase::Gateway,
                Mode::Scripted,
                format!("Create the Exchange publishing rule `{}`", r.name()),
                &[format!("listener:{listener}"), format!("backend-cert:{}", r.name())],
                &[format!("rule:{}", r.name())],
                Action::TmgPublishingRule {
                    name: r.name().to_string(),
                    listener,
                    exchange: self.org.exchange,
                    service: r.text("service").unwrap_or("activesync").to_string(),
                    internal_site: self.fqdn(r.text("published_server").unwrap_or("")),
                    public_name: r.text("public_name").unwrap_or("").to_string(),
                    delegation: r.text("delegation").unwrap_or("kerberos").to_string(),
                    spn: r.text("spn").map(str::to_string),
                    farm,
                    ssl_to_server: ssl,
                },
            );
            // The wizard's Exchange version and service boxes have no COM property.
            let service = match r.text("service").unwrap_or("activesync") {
                "owa" => "Outlook Web Access",
                "outlook_anywhere" => "Outlook Anywhere (RPC/HTTP(s))",
                _ => "Exchange ActiveSync",
            };
            self.op(
                format!("tmg-rule-services/{}", r.name()),
                &host,
                Phase::Gateway,
                Mode::Manual,
                format!("Confirm the Exchange version and service of rule `{}` in the TMG console", r.name()),
                &[format!("rule:{}", r.name())],
                &[],
                Action::Manual {
                    steps: vec![
                        format!("Forefront TMG Management > Firewall Policy > rule `{}` > Properties > Paths / Exchange tab (as the wizard shows it).", r.name()),
                        format!("Exchange version: {}; services: only {service}. The script cannot set these: the TMG object model has no property for them, it records them in the rule's description.", self.org.exchange.product()),
                        "Apply.".into(),
                    ],
                },
            );
        }
        let passes: Vec<&Checked> = self.unit.of_kind("tmg_server_publishing").collect();
        for p in passes {
            self.block = Some(p);
            let host = p.text("server").unwrap_or("").to_string();
            let published = p.text("published_server").unwrap_or("");
            let published_ip = p
                .ip("published_ip")
                .or_else(|| self.server(published).and_then(|s| s.ip("ip")));
            self.op(
                format!("tmg-server-publishing/{}", p.name()),
                &host,
                Phase::Gateway,
                Mode::Scripted,
                format!(
                    "Publish {} to {} with the server publishing rule `{}` (TLS passed through)",
                    "HTTPS",
                    self.fqdn(published),
                    p.name()
                ),
                &[format!("iis:{published}"), format!("seg:{published}")],
                &[format!("rule:{}", p.name())],
                Action::TmgServerPublishing {
                    name: p.name().to_string(),
                    protocol: "HTTPS Server".into(),
                    published_server: self.fqdn(published),
                    published_ip,
                    addresses: p.list("addresses"),
                    description: p.text("description").map(str::to_string),
                },
            );
        }
        self.block = None;
    }

    fn mdm(&mut self) {
        if self.unit.of_kind("ws1_authority").next().is_none() && self.unit.of_kind("ws1_profile").next().is_none() {
            return;
        }
        let host = self.pseudo(WORKSPACE_ONE, HostKind::WorkspaceOne);
        let cas: Vec<&Checked> = self.unit.of_kind("ws1_authority").collect();
        for a in cas {
            self.block = Some(a);
            self.op(
                format!("ws1-ca/{}", a.name()),
                &host,
                Phase::Mdm,
                Mode::Manual,
                format!(
                    "Add the certificate authority `{}` in Workspace ONE",
                    a.text("ca_name").unwrap_or(a.name())
                ),
                &[],
                &[format!("ws1ca:{}", a.name())],
                Action::Ws1Authority {
                    name: a.name().to_string(),
                    ca_type: a.text("type").unwrap_or("generic_scep").to_string(),
                    ca_name: a.text("ca_name").unwrap_or("").to_string(),
                    url: a.text("url").unwrap_or("").to_string(),
                    challenge: a.secret("challenge").map(|n| SecretRef { name: n.to_string() }),
                    credentials: a.secret("credentials").map(|n| SecretRef { name: n.to_string() }),
                    account: a.text("account").map(str::to_string),
                },
            );
        }
        let templates: Vec<&Checked> = self.unit.of_kind("ws1_template").collect();
        for t in templates {
            self.block = Some(t);
            let ca = t.text("authority").unwrap_or("").to_string();
            let ca_name = self
                .unit
                .get(&ca)
                .and_then(|a| a.text("ca_name"))
                .unwrap_or(&ca)
                .to_string();
            self.op(
                format!("ws1-template/{}", t.name()),
                &host,
                Phase::Mdm,
                Mode::Manual,
                format!("Add the request template `{}`", t.name()),
                &[format!("ws1ca:{ca}")],
                &[format!("ws1template:{}", t.name())],
                Action::Ws1Template {
                    name: t.name().to_string(),
                    authority: ca_name,
                    subject: t.text("subject").unwrap_or("").to_string(),
                    key_size: u32::try_from(t.int("key_size").unwrap_or(2048)).unwrap_or(2048),
                    key_type: t.text("key_type").unwrap_or("signing_and_encryption").to_string(),
                    san: t
                        .records("san")
                        .iter()
                        .map(|r| {
                            (
                                field_text(r, "type").unwrap_or("").to_string(),
                                field_text(r, "value").unwrap_or("").to_string(),
                            )
                        })
                        .collect(),
                    eku: t.list("eku"),
                    ca_template: t.text("ca_template").map(str::to_string),
                    auto_renew: t.bool("auto_renew").unwrap_or(false),
                    renewal_days: t.duration("renewal").map(|s| s / 86_400),
                    revoke_on_unenroll: t.bool("revoke_on_unenroll").unwrap_or(false),
                    publish_private_key: t.bool("publish_private_key").unwrap_or(false),
                    force_key_generation_on_device: t.bool("force_key_generation_on_device").unwrap_or(false),
                },
            );
        }
        let profiles: Vec<&Checked> = self.unit.of_kind("ws1_profile").collect();
        for p in profiles {
            self.block = Some(p);
            let template = p.text("template").unwrap_or("").to_string();
            let ca = self.unit.get(&template).and_then(|t| t.text("authority")).unwrap_or("");
            let ca_name = self
                .unit
                .get(ca)
                .and_then(|a| a.text("ca_name"))
                .unwrap_or(ca)
                .to_string();
            self.op(
                format!("ws1-profile/{}", p.name()),
                &host,
                Phase::Mdm,
                Mode::Manual,
                format!(
                    "Create the {} profile `{}` (credentials, then Exchange ActiveSync)",
                    p.text("platform").unwrap_or(""),
                    p.name()
                ),
                &[format!("ws1template:{template}")],
                &[format!("ws1profile:{}", p.name())],
                Action::Ws1Profile {
                    name: p.name().to_string(),
                    platform: p.text("platform").unwrap_or("ios").to_string(),
                    template,
                    authority: ca_name,
                    account_name: p.text("account_name").unwrap_or("").to_string(),
                    host: p.text("host").unwrap_or("").to_string(),
                    use_ssl: p.bool("use_ssl").unwrap_or(true),
                    use_smime: p.bool("use_smime").unwrap_or(false),
                    domain: p.text("domain").map(str::to_string),
                    username: p.text("username").map(str::to_string),
                    email: p.text("email").map(str::to_string),
                    trust: p
                        .list("trust")
                        .iter()
                        .filter_map(|n| self.unit.get(n))
                        .filter_map(|a| {
                            Some(DeviceRoot {
                                authority: a.name().to_string(),
                                common_name: a.text("common_name").map(str::to_string),
                                file: a.file("certificate")?.to_string(),
                            })
                        })
                        .collect(),
                },
            );
        }
        self.block = None;
    }

    fn verification(&mut self) {
        let clients = CLIENTS;
        let eas: Vec<&Checked> = self.unit.of_kind("activesync").collect();
        for e in eas {
            self.block = Some(e);
            let server = e.text("server").unwrap_or("");
            let host = e
                .text("external_host")
                .map_or_else(|| self.fqdn(server), str::to_string);
            if asks_for_certificates(eas_auth(e.text("auth"))) {
                self.pseudo(clients, HostKind::Clients);
                self.op(
                    format!("test-browser/{}", e.name()),
                    clients,
                    Phase::Verification,
                    Mode::Verify,
                    format!("Browse to https://{host}/{EAS_APP} with a user certificate"),
                    &[format!("iis:{server}"), format!("eas:{server}")],
                    &[],
                    Action::Check {
                        command: format!("https://{host}/{EAS_APP} in a browser that holds the user's certificate"),
                        expect: "HTTP 505 (HTTP Version Not Supported) after choosing the certificate: authentication worked; 401 or 403 means the mapping failed".into(),
                    },
                );
            }
        }
        let profiles: Vec<&Checked> = self.unit.of_kind("ws1_profile").collect();
        for p in profiles {
            self.block = Some(p);
            self.pseudo(clients, HostKind::Clients);
            self.op(
                format!("test-device/{}", p.name()),
                clients,
                Phase::Verification,
                Mode::Verify,
                format!("Enrol a test {} device and sync mail", p.text("platform").unwrap_or("")),
                &[format!("ws1profile:{}", p.name())],
                &[],
                Action::Check {
                    command: "Enrol a test device in the profile's smart group and open the mail app".into(),
                    expect: "The device receives a certificate whose SAN holds the user's email and UPN (EKU Client Authentication), and mail syncs".into(),
                },
            );
        }
        // Behind a TMG listener the certificate is mapped on TMG: the test reads TMG's log
        // and the delegated user in the back end's IIS log.
        let rules: Vec<&Checked> = self.unit.of_kind("publishing_rule").collect();
        for r in rules {
            let Some(l) = r.text("listener").and_then(|l| self.unit.get(l)) else {
                continue;
            };
            if l.text("auth") != Some("client_certificate") {
                continue;
            }
            self.block = Some(r);
            let tmg = l.text("server").unwrap_or("").to_string();
            let internal = r.text("published_server").unwrap_or("").to_string();
            let public = r.text("public_name").unwrap_or("").to_string();
            self.pseudo(clients, HostKind::Clients);
            self.op(
                format!("test-tmg/{}", r.name()),
                clients,
                Phase::Verification,
                Mode::Verify,
                format!("Sync a test device through {tmg} and read TMG's log and {internal}'s IIS log"),
                &[format!("rule:{}", r.name()), format!("eas:{internal}")],
                &[],
                Action::Check {
                    command: format!("Sync a test device against https://{public}/{EAS_APP}; on {tmg}: Forefront TMG Management > Monitoring > Logging (live), filter on rule {}; on {internal}: the W3SVC log for {EAS_APP}", r.name()),
                    expect: format!("TMG logs the request as allowed by {} with the device user's name as client username; {internal}'s IIS log shows that user (DOMAIN\\user) in cs-username and status 200, never 401 or 403", r.name()),
                },
            );
        }
        if self.unit.of_kind("chain").next().is_some() {
            let dc = self.domain_controller();
            self.block = self.unit.of_kind("chain").next();
            self.op(
                "verify-spn/duplicates".into(),
                &dc,
                Phase::Verification,
                Mode::Verify,
                "Check the SPNs of this change are unique in the forest".into(),
                &[],
                &[],
                Action::Check {
                    command: "setspn -X -F".into(),
                    expect: "found 0 group of duplicate SPNs; at the least, `setspn -Q -F <spn>` lists exactly one account for each SPN this change registers".into(),
                },
            );
        }
        self.block = None;
    }

    fn retirement(&mut self) {
        let verified: Vec<String> = self
            .unit
            .blocks
            .iter()
            .filter(|b| matches!(b.kind(), "send_connector" | "receive_connector"))
            .map(|b| format!("verified:{}", b.name()))
            .collect();
        let retire: Vec<&Checked> = self.unit.of_kind("retire").collect();
        for r in retire {
            self.block = Some(r);
            let kind = r.retired_kind.as_ref().map_or("send_connector", |k| k.text.as_str());
            let direction = if kind == "receive_connector" { "receive" } else { "send" };
            let server = r.text("server").map(str::to_string);
            let host = server
                .clone()
                .or_else(|| self.servers_with("hub_transport").first().map(|s| s.name().to_string()))
                .unwrap_or_else(|| self.pseudo(EXCHANGE_ONLINE, HostKind::ExchangeOnline));
            self.op(
                format!("retire/{direction}/{}", r.name()),
                &host,
                Phase::Retirement,
                Mode::Scripted,
                format!("Remove the old {direction} connector `{}`", r.name()),
                &verified,
                &[],
                Action::RemoveConnector {
                    direction: direction.into(),
                    name: r.name().to_string(),
                    server_name: server.map(|s| exchange_name(&self.fqdn(&s))),
                },
            );
        }
        self.block = None;
    }

    fn finish(self, warnings: &Diagnostics) -> Ir {
        let Cx {
            unit,
            sources,
            org,
            hosts,
            mut ops,
            origins,
            ..
        } = self;
        // Stable sort by phase; dependencies always point to earlier phases or earlier in
        // the same phase, so the order stays valid.
        ops.sort_by_key(|o| o.phase);
        let warnings = warnings
            .iter()
            .filter(|d| !d.is_error())
            .map(|d| {
                let (line, _) = sources.line_col(d.span.file, d.span.start);
                Warning {
                    code: d.code.as_str().to_string(),
                    message: d.message.to_string(),
                    source: format!("{}:{line}", sources.get(d.span.file).name),
                    operations: origins
                        .iter()
                        .filter(|(s, _)| s.file == d.span.file && s.start <= d.span.start && d.span.end <= s.end)
                        .map(|(_, id)| id.clone())
                        .collect(),
                }
            })
            .collect();
        let suppressions = unit
            .blocks
            .iter()
            .flat_map(|b| {
                b.allows.iter().map(move |a| {
                    let (line, _) = sources.line_col(a.span.file, a.span.start);
                    Suppression {
                        code: a.code.as_str().to_string(),
                        title: a.code.title().to_string(),
                        block: format!("{} {}", b.kind(), b.name()),
                        reason: a.reason.clone(),
                        source: format!("{}:{line}", sources.get(a.span.file).name),
                    }
                })
            })
            .collect();
        Ir {
            unit: unit.id.clone(),
            sources: unit.files.iter().map(|f| sources.get(*f).name.clone()).collect(),
            organization: org,
            hosts,
            operations: ops,
            warnings,
            revision: None,
            suppressions,
        }
    }
}

fn usage(u: &str) -> String {
    match u {
        "internet" => "Internet",
        "internal" => "Internal",
        "partner" => "Partner",
        "client" => "Client",
        _ => "Custom",
    }
    .to_string()
}

/// The check, on a test user's certificate or account, that a declared strong mapping holds.
fn strong_mapping_check(strong: &str) -> (String, String) {
    let ad = "Get-ADUser <test user> -Properties altSecurityIdentities | Select-Object -ExpandProperty altSecurityIdentities";
    match strong {
        "sid_extension" => (
            "certutil -dump <a test device's certificate, exported from the device or from the CA's Issued Certificates>".into(),
            "the extension 1.3.6.1.4.1.311.25.2 (SID) holding the test user's SID, or a SAN URL tag:microsoft.com,2022-09-14:sid:<the test user's SID>".into(),
        ),
        "issuer_serial" => (
            ad.into(),
            "an entry X509:<I><issuer DN><SR><serial number in reversed byte order> for the test device's certificate".into(),
        ),
        "ski" => (
            ad.into(),
            "an entry X509:<SKI><subject key identifier> for the test device's certificate".into(),
        ),
        _ => (
            ad.into(),
            "an entry X509:<SHA1-PUKEY><SHA-1 hash of the public key> for the test device's certificate".into(),
        ),
    }
}

/// Whether the mode asks devices for a client certificate (required or accepted): the
/// blocks that get IIS certificate authentication, trust and mapping checks.
fn asks_for_certificates(a: EasAuth) -> bool {
    matches!(
        a,
        EasAuth::Certificate | EasAuth::CertificateAndPassword | EasAuth::CertificateOrPassword
    )
}

fn eas_auth(a: Option<&str>) -> EasAuth {
    match a {
        Some("certificate") => EasAuth::Certificate,
        Some("certificate_and_password") => EasAuth::CertificateAndPassword,
        Some("kerberos") => EasAuth::Kerberos,
        Some("certificate_or_password") => EasAuth::CertificateOrPassword,
        _ => EasAuth::Password,
    }
}

fn windows_identity(identity: &str, app_pool: &str) -> String {
    match identity {
        "local_system" => "NT AUTHORITY\\SYSTEM".into(),
        // The pool's virtual account is named after the pool.
        "application_pool_identity" => format!("IIS AppPool\\{app_pool}"),
        _ => "NT AUTHORITY\\NETWORK SERVICE".into(),
    }
}
