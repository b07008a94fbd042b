//! What each step says, per IR action: what it does, how to do it by hand (the vendor
//! guides' click-paths and commands, corrected where the guides are wrong), how to verify
//! it and how to roll it back. Values come from the IR; user strings are escaped as Markdown
//! ([`T`], [`C`]) or quoted for the command language ([`ps`], [`arg`]).

use super::blocks::{bat, item, plain, ps as pscmd, run, Block, Item};
use super::cx::Cx;
use super::escape::{cmd, md, ps, Ir as IrText, Md, C, N, T};
use crate::backend::certreq::{crypto_dn, inf_lines, InfRequest};
use crate::ir::{Action, ClientCerts, EasAuth, ExchangeVersion, HostKind, Operation, Store, Subject};

/// The 64-bit appcmd (the Symantec guide's SysWOW64 copy edits the 32-bit configuration view).
const APPCMD: &str = "%windir%\\system32\\inetsrv\\appcmd.exe";

/// What a step says besides its header.
#[derive(Debug, Default)]
pub(crate) struct Content {
    /// One line: what happens (for scripted steps, what the script does).
    pub(crate) does: Md,
    /// The procedure a person follows (manual steps, or scripted steps without a script).
    pub(crate) by_hand: Vec<Block>,
    /// Notes shown with the step: corrections of the vendor guides, gotchas.
    pub(crate) notes: Vec<Md>,
    /// Checks and what a pass looks like.
    pub(crate) verify: Vec<Block>,
    /// How to undo it; empty when there is nothing to undo.
    pub(crate) rollback: Vec<Block>,
}

/// A `cmd.exe` argument, quoted only when it needs to be.
fn arg(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '\\' | '$' | ':' | '@' | '*'))
    {
        s.to_string()
    } else {
        cmd(s)
    }
}

/// A PowerShell array of single-quoted strings: `'a', 'b'`.
fn ps_list(items: &[String]) -> String {
    items.iter().map(|s| ps(s)).collect::<Vec<_>>().join(", ")
}

/// Where a person works for a host: the server's name, or for Active Directory "a domain
/// controller".
fn on_host(cx: &Cx, id: &str) -> Md {
    match cx.host(id).map(|h| h.kind) {
        Some(HostKind::ActiveDirectory) => md!("a domain controller of ", T(cx.ad_domain())),
        _ => md!(C(id)),
    }
}

/// A file path the intent names, with Windows separators (the intent writes `/`).
fn win(path: &str) -> String {
    path.replace('/', "\\")
}

/// The IIS configuration path of an application (`Default Web Site/Microsoft-Server-ActiveSync`).
fn location(site: &str, application: &str) -> String {
    if application.is_empty() {
        site.to_string()
    } else {
        format!("{site}/{application}")
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

fn ps_bool(b: bool) -> &'static str {
    if b {
        "$true"
    } else {
        "$false"
    }
}

/// Prints the thumbprint of a server's internal transport certificate. It is read from
/// Active Directory (`msExchServerInternalTLSCert`), as the script's helper does: Exchange
/// 2010's `Get-ExchangeServer` has no `InternalTransportCertificate`.
fn internal_transport_thumbprint(server: &str) -> String {
    format!(
        "$dn = (Get-ExchangeServer -Identity {}).DistinguishedName\n$raw = ([adsi]('LDAP://' + $dn)).Properties['msExchServerInternalTLSCert'].Value\n(New-Object System.Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList (,[byte[]]$raw)).Thumbprint",
        ps(server)
    )
}

/// Builds the content of one step.
pub(crate) fn content(op: &Operation, cx: &Cx) -> Content {
    match &op.action {
        Action::Prerequisite { text } => prerequisite(op, text, cx),
        Action::TrustAuthority {
            authority,
            file,
            common_name,
            store,
        } => trust(
            op,
            authority,
            file.as_deref().map(win).as_deref(),
            common_name.as_deref(),
            *store,
            cx,
        ),
        Action::PublishNtAuth {
            authority,
            file,
            common_name,
        } => ntauth(
            op,
            authority,
            file.as_deref().map(win).as_deref(),
            common_name.as_deref(),
            cx,
        ),
        Action::CheckCdp { authority, urls } => cdp(op, authority, urls),
        Action::RequestCertificate {
            certificate,
            subject,
            domains,
            key_size,
            exportable,
            request_file,
            reference,
            friendly_name,
            eku,
        } => request(
            op,
            &Request {
                certificate,
                subject,
                domains,
                key_size: *key_size,
                exportable: *exportable,
                request_file: &win(request_file),
                reference: reference.as_deref(),
                friendly_name: friendly_name.as_deref(),
                eku,
            },
            cx,
        ),
        Action::SubmitRequest {
            certificate,
            authority,
            request_file,
            reference,
            issued_file,
        } => submit(
            op,
            certificate,
            authority.as_deref(),
            &win(request_file),
            reference.as_deref(),
            &win(issued_file),
            cx,
        ),
        Action::ImportCertificate {
            certificate,
            file,
            subject,
            exportable,
        } => import(op, certificate, &win(file), subject, *exportable, cx),
        Action::EnableCertificate {
            certificate,
            subject,
            services,
        } => enable(op, certificate, subject, services, cx),
        Action::VerifySmtpCertificate { certificate, subject } => verify_smtp(op, certificate, subject, cx),
        Action::ReceiveConnector { .. } => receive_connector(op, cx),
        Action::SendConnector { .. } => send_connector(op, cx),
        Action::SetConnectorCost { name, cost } => connector_cost(name, *cost),
        Action::RestartService { service } => restart(op, service),
        Action::VerifyConnector {
            direction,
            name,
            expect,
        } => verify_connector(op, direction, name, expect, cx),
        Action::RemoveConnector {
            direction,
            name,
            server_name,
        } => remove_connector(direction, name, server_name.as_deref(), cx),
        Action::SmimeConfig {
            sst_file,
            authorities,
            online,
        } => smime_config(&win(sst_file), authorities, *online, cx),
        Action::VerifyUserSmime { user } => verify_user_smime(user, cx),
        Action::DirectorySync { version } => dirsync(version.as_deref(), cx),
        Action::ActiveSyncDirectory { .. } => activesync(op, cx),
        Action::IisClientCertificates { .. } => iis_client_certs(op, cx),
        Action::IisWindowsAuth { site, application } => iis_windows_auth(op, site, application, cx),
        Action::CertificateMapping {
            mapping,
            authority,
            account,
            subject,
        } => cert_mapping(op, mapping, authority, account.as_deref(), subject.as_deref(), cx),
        Action::RegisterSpn { spn, account } => register_spn(spn, account),
        Action::AlternateServiceAccount {
            account,
            array_fqdn,
            members,
            domain,
        } => asa(op, account, array_fqdn, members, domain.as_deref(), cx),
        Action::AllowDelegation {
            account,
            from,
            spns,
            protocol_transition,
        } => delegation(account, from, spns, *protocol_transition, cx),
        Action::GrantUserRights { identity, rights } => user_rights(op, identity, rights),
        Action::SegConfig {
            app_pool,
            identity,
            exchange_host,
            site,
            certificate,
            ..
        } => {
            let mut c = seg_config(op, app_pool, identity, exchange_host, cx);
            if let Some(cert) = certificate {
                seg_certificate(&mut c, site, cert, cx);
            }
            c
        }
        Action::TmgListener { .. } => tmg_listener(op, cx),
        Action::TmgPublishingRule { .. } => tmg_rule(op, cx),
        Action::TmgServerPublishing { .. } => tmg_server_publishing(op),
        Action::Ws1Authority { .. } => ws1_authority(op, cx),
        Action::Ws1Template { .. } => ws1_template(op, cx),
        Action::Ws1Profile { .. } => ws1_profile(op),
        Action::Manual { steps } => manual(steps),
        Action::Check { command, expect } => check(op, command, expect),
    }
}

/// A TCP connection test that PowerShell 2.0 (Windows Server 2008 R2) can run:
/// `Test-NetConnection` exists only from Windows Server 2012 R2. Prints `True`, or throws.
fn tcp_test(host: &str, port: u16) -> String {
    format!(
        "(New-Object System.Net.Sockets.TcpClient({}, {port})).Connected",
        ps(host)
    )
}

fn prerequisite(op: &Operation, text: &str, cx: &Cx) -> Content {
    let mut c = Content {
        does: md!("Confirm: ", IrText(text)),
        ..Content::default()
    };
    let server = op.id.rsplit('/').next().unwrap_or("");
    if op.id.starts_with("prereq/domain-member/") {
        let mut items = vec![run(
            md!("On ", C(server), ", in PowerShell:"),
            pscmd("Get-WmiObject Win32_ComputerSystem | Format-List Name, Domain, PartOfDomain\nTest-ComputerSecureChannel"),
        )
        .expect(md!(
            "`PartOfDomain : True`, ",
            C(&format!("Domain : {}", cx.ad_domain())),
            ", and `True` from the secure-channel test"
        ))];
        if text.contains("ActiveSync") {
            items.push(item(md!(
                "Sync one test device with user name and password now, so that a later failure is known to come from the change."
            )));
        }
        c.by_hand = vec![Block::Steps(items)];
    } else if op.id == "prereq/kerberos-firewall" {
        let mut items = Vec::new();
        let gateways: Vec<&str> = cx
            .hosts_with("tmg")
            .into_iter()
            .chain(cx.hosts_with("seg"))
            .map(|h| h.id.as_str())
            .collect();
        let dcs: Vec<String> = cx
            .domain_controllers()
            .iter()
            .map(|h| h.fqdn.clone().unwrap_or_else(|| cx.ad_domain().to_string()))
            .collect();
        let targets: Vec<String> = cx
            .hosts_with("client_access")
            .into_iter()
            .chain(cx.hosts_with("seg"))
            .filter_map(|h| h.fqdn.clone())
            .collect();
        let mut lines = Vec::new();
        for dc in &dcs {
            lines.push(tcp_test(dc, 88));
            lines.push(tcp_test(dc, 389));
        }
        for t in &targets {
            lines.push(tcp_test(t, 443));
        }
        let on = if gateways.is_empty() {
            md!("On each gateway")
        } else {
            let names: Vec<Md> = gateways.iter().map(|g| md!(C(g))).collect();
            md!("On ", Md::join(&names, ", "))
        };
        items.push(
            run(
                md!(on, ", test the paths to the domain controllers and the web servers:"),
                pscmd(lines.join("\n")),
            )
            .expect(md!("`True` for every line (an exception names a port that is blocked)")),
        );
        c.by_hand = vec![Block::Steps(items)];
    } else if op.id == "prereq/kerberos-domain" {
        c.by_hand = vec![Block::Steps(vec![run(
            md!("On the certificate authority, the TMG and the SEG servers:"),
            pscmd("(Get-WmiObject Win32_ComputerSystem).Domain"),
        )
        .expect(md!("the same domain, ", C(cx.ad_domain()), ", everywhere"))])];
    } else if op.id == "prereq/kerberos-time" {
        let dc = cx
            .domain_controllers()
            .first()
            .and_then(|h| h.fqdn.clone())
            .unwrap_or_else(|| cx.ad_domain().to_string());
        c.by_hand = vec![Block::Steps(vec![
            run(
                md!("On every gateway and Exchange server, compare the clock with a domain controller:"),
                bat(format!("w32tm /stripchart /computer:{} /samples:3 /dataonly", arg(&dc))),
            )
            .expect(md!(
                "offsets well below 300 seconds (5 minutes); Kerberos rejects larger skew"
            )),
            run(md!("Check the time source:"), bat("w32tm /query /status")).expect(md!(
                "`Source:` is a domain controller (domain hierarchy), not `Local CMOS Clock`"
            )),
        ])];
    } else if op.id.starts_with("prereq/ca/") {
        let authority =
            cx.ir.operations.iter().find(
                |o| matches!(&o.action, Action::Ws1Authority { name, .. } if op.id.ends_with(&format!("/{name}"))),
            );
        let url = match authority.map(|a| &a.action) {
            Some(Action::Ws1Authority { url, .. }) => url.as_str(),
            _ => "",
        };
        let mut items = vec![
            run(md!("On the certificate authority, in an elevated prompt:"), bat("certutil -cainfo type"))
                .expect(md!("an **Enterprise** CA (`Enterprise Root CA` or `Enterprise Subordinate CA`), not a stand-alone CA, whose templates Workspace ONE needs")),
            item(md!(
                "From the network Workspace ONE connects from, open ",
                C(url),
                " in a browser: the server answers (a sign-in prompt or its page), it does not time out"
            )),
        ];
        if let Some(a) = authority {
            items.extend(ca_template_checks(a, cx));
        }
        c.by_hand = vec![Block::Steps(items)];
        if let Some(Action::Ws1Authority {
            ca_type,
            challenge,
            url,
            ..
        }) = authority.map(|a| &a.action)
        {
            if ca_type == "generic_scep" {
                c.by_hand
                    .push(Block::Para(ndes_challenge_intro(challenge.is_some(), url)));
                c.by_hand.push(Block::Steps(ndes_challenge(challenge.is_some(), url)));
            }
        }
    } else {
        c.by_hand = vec![Block::Steps(vec![item(md!(
            "Confirm the statement above and record who confirmed it and when"
        ))])];
    }
    c
}

/// The AD CS certificate templates behind a Workspace ONE authority's request templates, with
/// the key length they ask for.
fn ca_templates<'a>(authority: &Operation, cx: &'a Cx) -> Vec<(&'a str, u32)> {
    let mut out: Vec<(&str, u32)> = Vec::new();
    for o in &cx.ir.operations {
        if let Action::Ws1Template {
            ca_template: Some(t),
            key_size,
            ..
        } = &o.action
        {
            if o.depends_on.contains(&authority.id) && !out.iter().any(|(n, _)| n == t) {
                out.push((t.as_str(), *key_size));
            }
        }
    }
    out
}

/// The AD CS template prerequisites Workspace ONE and NDES rely on (review S4-3): the subject
/// is supplied in the request (the SAN comes from Workspace ONE), Client Authentication is in
/// the EKU, the key length matches, the requesting account may enrol, the CA issues it.
fn ca_template_checks(authority: &Operation, cx: &Cx) -> Vec<Item> {
    let Action::Ws1Authority { ca_type, account, .. } = &authority.action else {
        return Vec::new();
    };
    let requester = if ca_type == "adcs" {
        md!(
            "the service account ",
            C(account.as_deref().unwrap_or("Workspace ONE uses"))
        )
    } else {
        md!("the NDES service account (the identity of the **SCEP** application pool)")
    };
    let mut items = Vec::new();
    for (t, key_size) in ca_templates(authority, cx) {
        items.push(
            run(
                md!("On the certificate authority, read the certificate template ", C(t), ":"),
                bat(format!("certutil -v -template {}", arg(t))),
            )
            .expect(md!(
                "`msPKI-Certificate-Name-Flag` holds `CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT` (Subject Name: **Supply in the request**, so the SAN from Workspace ONE is kept); `pKIExtendedKeyUsage` holds **Client Authentication** (1.3.6.1.5.5.7.3.2); `msPKI-Minimal-Key-Size` is ",
                N(u64::from(key_size)),
                "; the permissions list **Allow Enroll** (and Read) for ",
                requester.clone(),
                ". Fix the template in **certtmpl.msc** otherwise: the CA refuses or rewrites the request"
            )),
        );
        items.push(
            run(md!("The CA issues from it:"), bat("certutil -CATemplates"))
                .expect(md!("a line starting with ", C(t), "; if missing, **certsrv.msc** > **Certificate Templates** > **New** > **Certificate Template to Issue**")),
        );
    }
    items
}

/// The host of a URL (`https://ndes01.corp.contoso.com/certsrv/mscep/` -> `ndes01.corp.contoso.com`).
fn url_host(url: &str) -> &str {
    url.split("://").nth(1).and_then(|r| r.split('/').next()).unwrap_or(url)
}

fn ndes_challenge_intro(static_challenge: bool, url: &str) -> Md {
    let host = url_host(url);
    if static_challenge {
        md!(
            "**NDES accepts the static challenge** (on the NDES server ",
            C(host),
            "). NDES hands out one-time passwords by default (`mscep_admin`), which a static challenge in Workspace ONE cannot follow: switch NDES to single-password mode (KB959193), or use Workspace ONE's dynamic challenge instead."
        )
    } else {
        md!(
            "**NDES accepts requests without a challenge** (on the NDES server ",
            C(host),
            "). Anyone who reaches the SCEP URL can then enrol: keep the URL reachable from Workspace ONE and the devices only."
        )
    }
}

/// Registry steps on the NDES server for the authority's challenge type (review S4-1).
fn ndes_challenge(static_challenge: bool, url: &str) -> Vec<Item> {
    let admin = format!("https://{}/certsrv/mscep_admin/", url_host(url));
    const KEY: &str = r"HKLM\SOFTWARE\Microsoft\Cryptography\MSCEP";
    let (sub, value) = if static_challenge {
        ("UseSinglePassword", "1")
    } else {
        ("EnforcePassword", "0")
    };
    let mut items = vec![
        run(
            md!("In an elevated prompt on the NDES server, read the current mode:"),
            bat(format!("reg query {KEY}\\{sub} /v {sub}")),
        )
        .expect(md!(
            "`",
            T(sub),
            "    REG_DWORD    0x",
            T(value),
            "`: then nothing to change, skip the next two items"
        )),
        run(
            md!("Otherwise set it (the value lives in a subkey of the same name):"),
            bat(format!("reg add {KEY}\\{sub} /v {sub} /t REG_DWORD /d {value} /f")),
        ),
        run(
            md!("NDES reads the registry when its application pool starts; recycle it:"),
            bat(r"%windir%\system32\inetsrv\appcmd.exe recycle apppool /apppool.name:SCEP"),
        ),
    ];
    if static_challenge {
        items.push(
            run(
                md!("Read how long a password stays valid (minutes; NDES default 60):"),
                bat(format!("reg query {KEY}\\PasswordValidity /v PasswordValidity")),
            )
            .expect(md!("a validity that fits how you rotate the challenge: when the password expires, enrolments fail until a new one from ", C(&admin), " is stored in the vault and typed into the Workspace ONE authority")),
        );
        items.push(item(md!(
            "Open ",
            C(&admin),
            " as an NDES administrator: the page shows the single enrolment challenge. Store it as the vault secret the authority names; it is typed into the console, never into a file."
        )));
    }
    items
}

fn store_name(store: Store) -> (&'static str, &'static str) {
    match store {
        Store::Root => ("Root", "Trusted Root Certification Authorities"),
        Store::Intermediate => ("CA", "Intermediate Certification Authorities"),
    }
}

fn trust(op: &Operation, authority: &str, file: Option<&str>, cn: Option<&str>, store: Store, cx: &Cx) -> Content {
    let (short, long) = store_name(store);
    let file = file.unwrap_or("the CA certificate file");
    let mut c = Content {
        does: md!(
            "Imports the certificate of ",
            C(authority),
            match cn {
                Some(_) => " (",
                None => "",
            },
            T(cn.unwrap_or("")),
            match cn {
                Some(_) => ")",
                None => "",
            },
            " from ",
            C(file),
            " into the computer's ",
            T(long),
            " store (",
            C(&format!("Cert:\\LocalMachine\\{short}")),
            ") on ",
            C(&op.host),
            "."
        ),
        ..Content::default()
    };
    c.by_hand = vec![Block::Steps(vec![
        item(md!("Copy ", C(file), " to ", C(&op.host), ".")),
        run(
            md!("In an elevated prompt on ", C(&op.host), ":"),
            bat(format!("certutil -addstore {short} {}", arg(file))),
        ),
        item(md!(
            "Or in the console: **mmc** > **File** > **Add/Remove Snap-in** > **Certificates** > **Computer account** > **Local computer** > **Finish** > **OK**; right-click **",
            T(long),
            "** > **Certificates** > **All Tasks** > **Import**, choose the file, keep **Place all certificates in the following store: ",
            T(long),
            "**, **Finish**."
        )),
    ])];
    let cn_value = cn.unwrap_or(authority);
    c.verify = vec![Block::Steps(vec![run(
        md!("On ", C(&op.host), ":"),
        pscmd(format!(
            "Get-ChildItem Cert:\\LocalMachine\\{short} | Where-Object {{ $_.Subject.Contains({}) }} | Format-List Subject, Thumbprint, NotAfter",
            ps(&format!("CN={cn_value}"))
        )),
    )
    .expect(md!("one certificate whose subject holds ", C(&format!("CN={cn_value}")), ", `NotAfter` in the future; note its thumbprint"))])];
    c.rollback = vec![Block::Steps(vec![run(
        md!("Only if the certificate was not trusted before this change:"),
        bat(format!("certutil -delstore {short} <thumbprint>")),
    )])];
    // The partner sends its root with the issued certificate.
    if let Some(s) = cx.ops().find(|o| {
        matches!(&o.action, Action::SubmitRequest { authority: Some(a), .. } if a == authority)
            && cx.host(&o.host).is_some_and(|h| h.kind == HostKind::Partner)
    }) {
        c.notes.push(md!(
            "The CA certificate arrives from the issuing party together with the issued certificate (",
            cx.step_link(&s.id),
            "); it is a different file from the certificate imported in the next steps."
        ));
    }
    c
}

fn ntauth(op: &Operation, authority: &str, file: Option<&str>, cn: Option<&str>, cx: &Cx) -> Content {
    let file = file.unwrap_or("the CA certificate file");
    let cn_value = cn.unwrap_or(authority);
    let mapping_hosts: Vec<Md> = cx
        .ir
        .operations
        .iter()
        .filter(|o| matches!(o.action, Action::IisClientCertificates { .. }))
        .map(|o| md!(C(&o.host)))
        .collect();
    let mut c = Content {
        does: md!(
            "Publishes the certificate of ",
            C(authority),
            " (",
            T(cn_value),
            ") to the enterprise NTAuth store in Active Directory, so certificates it issues can map to accounts and start Kerberos logons."
        ),
        ..Content::default()
    };
    let mut steps = vec![
        run(
            md!("On ", on_host(cx, &op.host), ", as a member of Enterprise Admins, in an elevated prompt:"),
            bat(format!("certutil -dspublish -f {} NTAuthCA", arg(file))),
        ),
        item(md!(
            "Or in the console: **pkiview.msc** (Enterprise PKI) > right-click **Enterprise PKI** > **Manage AD Containers** > **NTAuthCertificates** > **Add**, choose ",
            C(file),
            ", **OK**."
        )),
    ];
    if !mapping_hosts.is_empty() {
        steps.push(run(
            md!(
                "On ",
                Md::join(&mapping_hosts, ", "),
                ", refresh the local copy of NTAuth instead of waiting for the next policy cycle:"
            ),
            bat("gpupdate /force"),
        ));
    }
    c.by_hand = vec![Block::Steps(steps)];
    c.notes.push(md!(
        "The container is `NTAuthCA` and the refresh command `gpupdate /force`: the VMware guide writes `NTAAuthCA` and the Symantec guide `gupdate`."
    ));
    c.verify = vec![Block::Steps(vec![
        run(
            md!("On ", on_host(cx, &op.host), ":"),
            bat("certutil -enterprise -store NTAuth"),
        )
        .expect(md!("a certificate whose subject holds ", C(&format!("CN={cn_value}")))),
        run(
            md!("On each server that maps client certificates, after `gpupdate /force`:"),
            bat("reg query HKLM\\SOFTWARE\\Microsoft\\EnterpriseCertificates\\NTAuth\\Certificates"),
        )
        .expect(md!("a key named after the CA certificate's thumbprint")),
    ])];
    c.rollback = vec![Block::Steps(vec![
        run(
            md!("Only if the certificate was not in NTAuth before this change: open the store and delete ", T(cn_value), ":"),
            bat(format!(
                "certutil -viewdelstore \"ldap:///CN=NTAuthCertificates,CN=Public Key Services,CN=Services,CN=Configuration,{}?cACertificate?base?objectClass=certificationAuthority\"",
                cx.domain_dn()
            )),
        ),
        item(md!("Run `gpupdate /force` on the servers that map client certificates.")),
    ])];
    c
}

fn cdp(op: &Operation, authority: &str, urls: &[String]) -> Content {
    let mut c = Content {
        does: md!(
            "Checks that the CRL of ",
            C(authority),
            " is reachable from ",
            C(&op.host),
            " without a proxy: IIS checks revocation of every client certificate and the mapping fails when it cannot."
        ),
        ..Content::default()
    };
    let mut items = vec![
        run(md!("On ", C(&op.host), ":"), bat("netsh winhttp show proxy")).expect(md!(
            "`Direct access (no proxy server).` (certificate checks use the WinHTTP settings)"
        )),
    ];
    for u in urls {
        items.push(item(md!(
            "Open ",
            C(u),
            " in a browser on ",
            C(&op.host),
            ": the CRL downloads (a prompt to open or save the file)."
        )));
    }
    items.push(
        run(
            md!("With a sample client certificate (a `.cer` file) issued under this CA:"),
            bat("certutil -verify -urlfetch user.cer"),
        )
        .expect(md!(
            "every CRL URL listed as `Verified`, and `Leaf certificate revocation check passed`"
        )),
    );
    c.verify = vec![Block::Steps(items)];
    c
}

struct Request<'a> {
    certificate: &'a str,
    subject: &'a Subject,
    domains: &'a [String],
    key_size: u32,
    exportable: bool,
    request_file: &'a str,
    reference: Option<&'a str>,
    friendly_name: Option<&'a str>,
    eku: &'a [String],
}

fn request(op: &Operation, r: &Request, cx: &Cx) -> Content {
    // The subject as CryptoAPI reads it, as the script passes it.
    let subject = crypto_dn(r.subject);
    let mut c = Content {
        does: md!(
            "Makes a ",
            N(u64::from(r.key_size)),
            "-bit RSA key pair",
            if r.exportable {
                " (private key exportable)"
            } else {
                " (private key not exportable)"
            },
            " on ",
            C(&op.host),
            " and a certificate request for ",
            C(&subject),
            ", saved as ",
            C(r.request_file),
            "."
        ),
        ..Content::default()
    };
    if cx.is_exchange(&op.host) {
        let mut cmdline = format!(
            "$req = New-ExchangeCertificate -GenerateRequest -KeySize {} -PrivateKeyExportable {} -SubjectName {}",
            r.key_size,
            ps_bool(r.exportable),
            ps(&subject)
        );
        if !r.domains.is_empty() {
            cmdline.push_str(&format!(" -DomainName {}", ps_list(r.domains)));
        }
        if let Some(f) = r.friendly_name {
            cmdline.push_str(&format!(" -FriendlyName {}", ps(f)));
        }
        cmdline.push_str(&format!(
            "\nSet-Content -Path {} -Value $req -Encoding Ascii",
            ps(r.request_file)
        ));
        c.by_hand = vec![Block::Steps(vec![
            item(md!(
                "Log on to ",
                C(&op.host),
                " (",
                T(cx.fqdn(&op.host)),
                ") and open the Exchange Management Shell."
            )),
            run(md!("Generate the request:"), pscmd(cmdline)),
        ])];
        c.notes.push(md!(
            "The key is ",
            N(u64::from(r.key_size)),
            " bits: never below 2048 (the ONE Mail guide's example uses `-KeySize 1024`, which is too weak). `-DomainName` only satisfies the cmdlet when the CA ignores SANs. The request is written as ASCII: `Out-File` in Windows PowerShell writes UTF-16."
        ));
    } else {
        let inf = inf_lines(&InfRequest {
            dn: &subject,
            domains: r.domains,
            key_size: r.key_size,
            exportable: r.exportable,
            friendly_name: r.friendly_name,
            eku: r.eku,
        })
        .join("\n");
        c.by_hand = vec![Block::Steps(vec![
            run(md!("On ", C(&op.host), ", save this as `request.inf`:"), plain(inf)),
            run(
                md!("In an elevated prompt:"),
                bat(format!("certreq -new request.inf {}", arg(r.request_file))),
            ),
        ])];
    }
    if let Some(reference) = r.reference {
        c.notes.push(md!(
            "One request per reference number: this one is for reference ",
            C(reference),
            ", and its common name is that number."
        ));
    }
    c.verify = vec![Block::Steps(vec![run(
        md!("Inspect the request:"),
        bat(format!("certutil -dump {}", arg(r.request_file))),
    )
    .expect(md!(
        "the subject ",
        C(&subject),
        " and `Public Key Length: ",
        N(u64::from(r.key_size)),
        " bits`"
    ))])];
    c.rollback = if cx.is_exchange(&op.host) {
        vec![Block::Steps(vec![
            run(
                md!("Find the pending request and remove it with its private key:"),
                pscmd("Get-ExchangeCertificate | Where-Object { $_.Status -eq 'PendingRequest' } | Format-List Subject, Thumbprint\nRemove-ExchangeCertificate -Thumbprint <thumbprint>"),
            ),
            item(md!("Delete ", C(r.request_file), ".")),
        ])]
    } else {
        vec![Block::Steps(vec![item(md!(
            "In **mmc** > **Certificates** snap-in for the computer account > **Certificate Enrollment Requests** > **Certificates**, delete the pending request for ",
            C(&subject),
            "; delete ",
            C(r.request_file),
            "."
        ))])]
    };
    let _ = r.certificate;
    c
}

fn submit(
    op: &Operation,
    certificate: &str,
    authority: Option<&str>,
    request_file: &str,
    reference: Option<&str>,
    issued_file: &str,
    cx: &Cx,
) -> Content {
    let issuer = authority.map(|a| cx.authority_cn(a).unwrap_or(a));
    let mut c = Content {
        does: md!(
            "Send the request ",
            C(request_file),
            " to the issuing party",
            match issuer {
                Some(_) => " (",
                None => "",
            },
            T(issuer.unwrap_or("")),
            match issuer {
                Some(_) => ")",
                None => "",
            },
            " and receive the certificate ",
            C(certificate),
            " as ",
            C(issued_file),
            "."
        ),
        ..Content::default()
    };
    let subject = cx.ir.operations.iter().find_map(|o| match &o.action {
        Action::RequestCertificate {
            certificate: cert,
            subject,
            ..
        } if cert == certificate => Some(crypto_dn(subject)),
        _ => None,
    });
    let partner = cx.host(&op.host).is_some_and(|h| h.kind == HostKind::Partner);
    let mut steps = Vec::new();
    if partner {
        steps.push(item(match reference {
            Some(r) => md!(
                "Send ",
                C(request_file),
                " together with the reference number ",
                C(r),
                " to the issuing party's deployment team, through the channel agreed with them."
            ),
            None => md!(
                "Send ",
                C(request_file),
                " to the issuing party through its enrolment channel (portal or e-mail), as agreed with them."
            ),
        }));
        steps.push(item(md!(
            "Receive the issued certificate and save it as ",
            C(issued_file),
            "."
        )));
        if let Some(a) = authority {
            if let Some(f) = cx.authority_file(a).map(win) {
                // The issuer is a root (Root store) or an intermediate (CA store).
                let root = cx.ops().any(
                    |o| matches!(&o.action, Action::TrustAuthority { authority: t, store: Store::Root, .. } if t == a),
                );
                steps.push(item(md!(
                    if root {
                        "Receive the issuing CA's root certificate as well (ask for it if it is missing) and save it as "
                    } else {
                        "Receive the issuing CA's intermediate certificate as well (ask for it if it is missing) and save it as "
                    },
                    C(&f),
                    "."
                )));
            }
        }
    } else {
        let config = format!("{}\\{}", cx.fqdn(&op.host), issuer.unwrap_or("<CA name>"));
        steps.push(item(md!("Copy ", C(request_file), " to ", C(&op.host), ".")));
        steps.push(run(
            md!("Submit it to the CA (for an enterprise CA add `-attrib \"CertificateTemplate:<template>\"`):"),
            bat(format!(
                "certreq -submit -config {} {} {}",
                arg(&config),
                arg(request_file),
                arg(issued_file)
            )),
        ));
        steps.push(item(md!(
            "If the request is pending, issue it in **certsrv.msc** > **Pending Requests** > **All Tasks** > **Issue**, then ",
            C(&format!("certreq -retrieve <request id> {}", arg(issued_file))),
            "."
        )));
    }
    c.by_hand = vec![Block::Steps(steps)];
    // The issuer may rewrite the requested subject (the ONE Mail guide's own sample does):
    // what counts is the file's thumbprint and issuer; the scripts go by both.
    let mut expect = md!("`Subject:` as the issuer wrote it (requested: ");
    expect.push(&C(subject.as_deref().unwrap_or(certificate)));
    expect.push(&md!(
        "; note its CN, and the `Cert Hash(sha1)`, by which the scripts find the certificate)"
    ));
    if let Some(i) = issuer {
        expect.push(&md!(" and `Issuer:` ", C(&format!("CN={i}"))));
    }
    c.verify = vec![Block::Steps(vec![run(
        md!("Before using the file:"),
        bat(format!("certutil -dump {}", arg(issued_file))),
    )
    .expect(expect)])];
    c
}

fn import(op: &Operation, certificate: &str, file: &str, subject: &Subject, exportable: bool, cx: &Cx) -> Content {
    let first = cx
        .ir
        .operations
        .iter()
        .take_while(|o| o.id != op.id)
        .find(|o| matches!(&o.action, Action::ImportCertificate { certificate: c, .. } if c == certificate))
        .map(|o| o.host.clone());
    let cn = subject.cn();
    let mut c = Content {
        does: match &first {
            None => md!(
                "Installs the issued certificate ",
                C(file),
                " on ",
                C(&op.host),
                ", where it joins the private key made with the request."
            ),
            Some(f) => md!(
                "Installs ",
                C(certificate),
                " on ",
                C(&op.host),
                " with its private key, copied from ",
                C(f),
                " (the certificate is issued to the organisation, not to a server)."
            ),
        },
        ..Content::default()
    };
    if cx.is_exchange(&op.host) {
        c.by_hand = vec![Block::Steps(match &first {
            None => vec![
                item(md!("Copy ", C(file), " to ", C(&op.host), ", the server where the request was made.")),
                run(
                    md!("In the Exchange Management Shell:"),
                    pscmd(format!(
                        "Import-ExchangeCertificate -FileData ([Byte[]]$(Get-Content -Path {} -Encoding Byte -ReadCount 0))",
                        ps(file)
                    )),
                ),
            ],
            Some(f) => vec![
                run(
                    md!("On ", C(f), ", export the certificate with its private key", if exportable { "" } else { " (its key is not exportable: make a new request on this server instead)" }, ":"),
                    pscmd(format!(
                        "$pw = (Get-Credential -UserName pfx -Message 'A password for the PFX file').Password\n$pfx = Export-ExchangeCertificate -Thumbprint <thumbprint> -BinaryEncoded:$true -Password $pw\nSet-Content -Path {} -Value $pfx.FileData -Encoding Byte",
                        ps(&format!("{certificate}.pfx"))
                    )),
                ),
                run(
                    md!("Copy the file to ", C(&op.host), " and import it there with the same password:"),
                    pscmd(format!(
                        "$pw = (Get-Credential -UserName pfx -Message 'The PFX password').Password\nImport-ExchangeCertificate -FileData ([Byte[]]$(Get-Content -Path {} -Encoding Byte -ReadCount 0)) -Password $pw",
                        ps(&format!("{certificate}.pfx"))
                    )),
                ),
                item(md!("Delete the PFX file from both servers.")),
            ],
        })];
        c.notes.push(md!(
            "If Exchange reports `PrivateKeyMissing`, the certificate is not joined to its key: run `certutil -repairstore my <serial number>` (the serial is in `Get-ExchangeCertificate -Thumbprint <thumbprint> | Format-List`), then check again."
        ));
        c.verify = vec![Block::Steps(vec![run(
            md!("In the Exchange Management Shell:"),
            pscmd("Get-ExchangeCertificate | Format-List Subject, Thumbprint, Status, HasPrivateKey, Services"),
        )
        .expect(md!(
            "the certificate whose thumbprint is the file's `Cert Hash(sha1)` (its subject may differ from the requested ",
            C(&format!("CN={cn}")),
            "), `Status : Valid` and `HasPrivateKey : True`"
        ))])];
        c.rollback = vec![Block::Steps(vec![run(
            md!("Remove the certificate (and its key) from ", C(&op.host), ":"),
            pscmd("Remove-ExchangeCertificate -Thumbprint <thumbprint>"),
        )])];
    } else {
        c.by_hand = vec![Block::Steps(vec![
            item(md!(
                "Copy ",
                C(file),
                " to ",
                C(&op.host),
                ", the server where the request was made."
            )),
            run(
                md!("In an elevated prompt:"),
                bat(format!("certreq -accept {}", arg(file))),
            ),
        ])];
        c.verify = vec![Block::Steps(vec![run(
            md!("On ", C(&op.host), ":"),
            bat("certutil -store My"),
        )
        .expect(md!(
            "the certificate with ",
            C(&format!("CN={cn}")),
            " and `Encryption test passed` (the private key is present)"
        ))])];
        c.rollback = vec![Block::Steps(vec![run(
            md!("Remove it from the computer's personal store:"),
            bat("certutil -delstore My <thumbprint>"),
        )])];
    }
    c
}

fn enable(op: &Operation, certificate: &str, subject: &Subject, services: &[String], cx: &Cx) -> Content {
    let server = exchange_server(op, cx);
    let list = services.join(", ");
    let smtp = services.iter().any(|s| s == "SMTP");
    let mut c = Content {
        does: md!("Enables ", C(certificate), " for ", T(&list), " on ", C(&op.host), "."),
        ..Content::default()
    };
    let mut steps = vec![run(
        md!(
            "Note which certificate has these services now (for the rollback) and the thumbprint of the issued certificate (",
            C(&format!("CN={}", subject.cn())),
            " in the request; the issuer may have rewritten the subject, so go by the file's `Cert Hash(sha1)` from `certutil -dump`):"
        ),
        pscmd("Get-ExchangeCertificate | Format-List Subject, Thumbprint, Services"),
    )];
    if smtp {
        steps.push(run(
            md!("Note the internal transport (default SMTP) certificate, which must stay as it is:"),
            pscmd(internal_transport_thumbprint(&server)),
        ));
        steps.push(run(
            md!("Enable it; answer **No** when asked to overwrite the existing default SMTP certificate: the default is the internal transport certificate between Exchange servers, and Exchange 2010 picks the certificate for a connector by the connector's FQDN, not by the default:"),
            pscmd(format!(
                "Enable-ExchangeCertificate -Thumbprint <thumbprint> -Services {}",
                services.join(",")
            )),
        ));
    } else {
        steps.push(run(
            md!("Enable it:"),
            pscmd(format!(
                "Enable-ExchangeCertificate -Thumbprint <thumbprint> -Services {}",
                services.join(",")
            )),
        ));
    }
    c.by_hand = vec![Block::Steps(steps)];
    if smtp {
        c.notes.push(md!(
            "The script cannot answer the overwrite prompt, so it enables with `-Force` and at once makes the previous default SMTP certificate the default again, then reads the internal transport certificate back; it stops if that differs from before."
        ));
    }
    let mut verify = vec![run(
        md!("In the Exchange Management Shell:"),
        pscmd("Get-ExchangeCertificate -Thumbprint <thumbprint> | Format-List Services"),
    )
    .expect(md!("`Services` lists ", T(&list)))];
    if smtp {
        verify.push(
            run(
                md!("The internal transport certificate:"),
                pscmd(internal_transport_thumbprint(&server)),
            )
            .expect(md!("the thumbprint noted before this step")),
        );
    }
    c.verify = vec![Block::Steps(verify)];
    c.rollback = vec![Block::Steps(if smtp {
        vec![item(md!(
            "A service cannot be taken off a certificate once assigned; the default SMTP certificate was kept, so nothing else changed. To undo, remove the certificate itself (rollback of its import) once no connector needs it."
        ))]
    } else {
        vec![run(
            md!("Enable the previous certificate again for these services:"),
            pscmd(format!(
                "Enable-ExchangeCertificate -Thumbprint <previous thumbprint> -Services {} -Force",
                services.join(",")
            )),
        )]
    })];
    c
}

/// The Exchange server name of the operation's host (first label of its FQDN).
fn exchange_server(op: &Operation, cx: &Cx) -> String {
    cx.host(&op.host)
        .and_then(|h| h.fqdn.as_deref())
        .map_or(op.host.as_str(), |f| f.split('.').next().unwrap_or(f))
        .to_string()
}

fn verify_smtp(op: &Operation, certificate: &str, subject: &Subject, cx: &Cx) -> Content {
    let fqdn = cx.ops().find_map(|o| match &o.action {
        Action::ReceiveConnector {
            fqdn,
            fqdn_certificate,
            server,
            ..
        } if server == &op.host && (fqdn_certificate.as_deref() == Some(certificate) || fqdn.is_some()) => fqdn.clone(),
        _ => None,
    });
    let name = fqdn.unwrap_or_else(|| subject.cn().to_string());
    let mut c = Content {
        does: md!(
            "Checks that ",
            C(certificate),
            " is enabled for SMTP on ",
            C(&op.host),
            " and that no other SMTP certificate there holds the connector's FQDN (",
            C(&name),
            " as requested; the script reads it from the issued certificate): Exchange 2010 picks the STARTTLS certificate by that name."
        ),
        ..Content::default()
    };
    c.verify = vec![Block::Steps(vec![run(
        md!("In the Exchange Management Shell on ", C(&op.host), ":"),
        pscmd("Get-ExchangeCertificate | Where-Object { $_.Services -match 'SMTP' } | Format-List Subject, CertificateDomains, Thumbprint, Services"),
    )
    .expect(md!(
        "the issued certificate is listed with SMTP; no other certificate has the connector's FQDN (",
        C(&name),
        ") as its CN or in `CertificateDomains`. The self-signed certificate made by Exchange setup also lists SMTP: that is expected and stays"
    ))])];
    c.notes.push(md!(
        "If another SMTP certificate holds the connector's FQDN, it is a stray copy: check that it is not the internal transport certificate (step above), then remove it with `Remove-ExchangeCertificate -Thumbprint <other>`. Services cannot be taken off a certificate."
    ));
    c
}

fn receive_connector(op: &Operation, cx: &Cx) -> Content {
    let Action::ReceiveConnector {
        name,
        server_name,
        fqdn,
        bindings,
        remote_ips,
        auth,
        permission_groups,
        require_tls,
        usage,
        max_message_size,
        tls_domain,
        fqdn_certificate,
        ..
    } = &op.action
    else {
        return Content::default();
    };
    let version = cx.ir.organization.exchange;
    // Guide 9.0: the FQDN is the CN of the *issued* certificate, which the issuer may have
    // rewritten; the script reads it from the returned file, and so does the person.
    let from_issued = fqdn_certificate.is_some();
    let helo = match (fqdn, from_issued) {
        (Some(f), true) => format!("the CN of the issued certificate (requested: {f})"),
        (Some(f), false) => f.clone(),
        (None, _) => "the server's name".to_string(),
    };
    let mut c = Content {
        does: md!(
            "Creates receive connector ",
            C(name),
            " on ",
            C(server_name),
            " (or brings an existing one to these settings): it accepts mail only from ",
            N(remote_ips.len() as u64),
            " remote address",
            if remote_ips.len() == 1 { "" } else { "es" },
            ", answers HELO/EHLO as ",
            if from_issued { md!(T(&helo)) } else { md!(C(&helo)) },
            ", authentication ",
            T(&auth.join(", ")),
            ", permission groups ",
            T(&permission_groups.join(", ")),
            "."
        ),
        ..Content::default()
    };
    let mut line = format!(
        "New-ReceiveConnector -Name {} -Server {} -Usage {} -Bindings {} -RemoteIPRanges {}",
        ps(name),
        ps(server_name),
        usage,
        ps_list(bindings),
        ps_list(remote_ips)
    );
    if version >= ExchangeVersion::E2013 {
        line.push_str(" -TransportRole FrontendTransport");
    }
    if from_issued {
        line.push_str(" -Fqdn <CN of the issued certificate>");
    } else if let Some(f) = fqdn {
        line.push_str(&format!(" -Fqdn {}", ps(f)));
    }
    line.push_str(&format!(
        " -AuthMechanism {} -PermissionGroups {} -RequireTLS {}",
        auth.join(","),
        permission_groups.join(","),
        ps_bool(*require_tls)
    ));
    if let Some(size) = max_message_size {
        line.push_str(&format!(" -MaxMessageSize {size}"));
    }
    if let Some(d) = tls_domain {
        line.push_str(&format!(
            " -TlsDomainCapabilities {}",
            ps(&format!("{d}:AcceptOorgProtocol"))
        ));
    }
    let mut steps = Vec::new();
    if from_issued {
        steps.push(run(
            md!("Read the CN from the subject of the issued certificate (ONE Mail guide 9.0):"),
            pscmd("Get-ExchangeCertificate -Thumbprint <thumbprint> | Format-List Subject"),
        ));
    }
    steps.push(run(
        md!("In the Exchange Management Shell on ", C(&op.host), ":"),
        pscmd(line),
    ));
    if version == ExchangeVersion::E2010 {
        steps.push(item(md!(
            "Or in the Exchange Management Console (ONE Mail guide 9.0): **Server Configuration** > **Hub Transport** > ",
            C(server_name),
            " > **New Receive Connector**; name ",
            C(name),
            ", intended use **Custom**; **Local Network settings**: FQDN for HELO/EHLO ",
            if from_issued { md!(T("read above")) } else { md!(C(fqdn.as_deref().unwrap_or(""))) },
            " (the CN of the issued certificate); **Remote Network settings**: add each address below and **remove 0.0.0.0–255.255.255.255**; **New**, **Finish**. Then the connector's **Properties** > **Authentication**: only ",
            T(&auth.join(", ")),
            "; **Permission Groups**: only ",
            T(&permission_groups.join(", ")),
            "; **Apply**."
        )));
    }
    c.by_hand = vec![
        Block::Steps(steps),
        Block::Bullets(remote_ips.iter().map(|ip| item(md!(C(ip)))).collect()),
    ];
    c.notes.push(md!(
        "The remote range is exactly the addresses above; the default `0.0.0.0-255.255.255.255` must not stay on this connector."
    ));
    c.verify = verify_pointer(op, cx);
    c.rollback = vec![Block::Steps(vec![run(
        md!("If the connector is new, remove it (if it existed before, restore the settings saved in the backup instead):"),
        pscmd(format!("Remove-ReceiveConnector -Identity {}", ps(&format!("{server_name}\\{name}")))),
    )])];
    c
}

/// "Step N checks it", for operations whose verification is a step of its own.
fn verify_pointer(op: &Operation, cx: &Cx) -> Vec<Block> {
    let steps: Vec<Md> = cx.verifiers_of(&op.id).iter().map(|v| cx.step_link(&v.id)).collect();
    if steps.is_empty() {
        Vec::new()
    } else {
        vec![Block::Para(md!("Checked in ", Md::join(&steps, ", "), "."))]
    }
}

fn send_connector(op: &Operation, cx: &Cx) -> Content {
    let Action::SendConnector {
        name,
        address_spaces,
        smart_hosts,
        auth_mechanism,
        credential,
        require_tls,
        ignore_starttls,
        source_servers,
        usage,
        tls_auth_level,
        tls_domain,
        tls_certificate,
        cost,
        fqdn,
        port,
        max_message_size,
    } = &op.action
    else {
        return Content::default();
    };
    let version = cx.ir.organization.exchange;
    let mut does = md!(
        "Creates send connector ",
        C(name),
        " (or brings an existing one to these settings): address space ",
        T(&address_spaces.join(", ")),
        ", "
    );
    if smart_hosts.is_empty() {
        does.push(&md!("DNS routing"));
    } else {
        does.push(&md!("through the smart host ", T(&smart_hosts.join(", "))));
    }
    does.push(&md!(
        ", smart-host authentication ",
        C(auth_mechanism),
        ", source server ",
        T(&source_servers.join(", ")),
        ", `RequireTLS` ",
        C(yes_no(*require_tls)),
        ", `IgnoreSTARTTLS` ",
        C(yes_no(*ignore_starttls)),
        "."
    ));
    let mut c = Content {
        does,
        ..Content::default()
    };
    let spaces: Vec<String> = address_spaces.iter().map(|a| format!("SMTP:{a};{cost}")).collect();
    let mut lines = Vec::new();
    if let Some(secret) = credential {
        lines.push(format!(
            "# the smart-host user name and password: the secret {} from your vault\n$cred = Get-Credential",
            secret.name
        ));
    }
    let mut line = format!(
        "New-SendConnector -Name {} -Usage {} -AddressSpaces {} -SourceTransportServers {}",
        ps(name),
        usage,
        ps_list(&spaces),
        ps_list(source_servers)
    );
    if smart_hosts.is_empty() {
        line.push_str(" -DNSRoutingEnabled $true");
    } else {
        line.push_str(&format!(
            " -DNSRoutingEnabled $false -SmartHosts {}",
            ps_list(smart_hosts)
        ));
    }
    line.push_str(&format!(" -SmartHostAuthMechanism {auth_mechanism}"));
    if credential.is_some() {
        line.push_str(" -AuthenticationCredential $cred");
    }
    if let Some(l) = tls_auth_level {
        line.push_str(&format!(" -TlsAuthLevel {l}"));
    }
    if let Some(d) = tls_domain {
        line.push_str(&format!(" -TlsDomain {}", ps(d)));
    }
    if let Some(t) = tls_certificate {
        // Exchange matches the certificate's issuer and subject as Windows writes them.
        lines.push(format!(
            "$tls = Get-ExchangeCertificate -Server {} -Thumbprint <thumbprint of {t}>",
            ps(source_servers.first().map_or("<source server>", String::as_str))
        ));
        line.push_str(" -TlsCertificateName \"<I>$($tls.Issuer)<S>$($tls.Subject)\"");
    }
    if let Some(f) = fqdn {
        line.push_str(&format!(" -Fqdn {}", ps(f)));
    }
    if let Some(p) = port {
        line.push_str(&format!(" -Port {p}"));
    }
    if let Some(s) = max_message_size {
        line.push_str(&format!(" -MaxMessageSize {s}"));
    }
    lines.push(line);
    lines.push(format!(
        "Set-SendConnector -Identity {} -RequireTLS {} -IgnoreSTARTTLS {}",
        ps(name),
        ps_bool(*require_tls),
        ps_bool(*ignore_starttls)
    ));
    let mut steps = vec![run(
        md!("In the Exchange Management Shell on ", C(&op.host), ":"),
        pscmd(lines.join("\n")),
    )];
    if let Some(secret) = credential {
        steps.push(item(md!(
            "When `Get-Credential` asks, enter the user name and password of the secret ",
            C(&secret.name),
            " from your vault (never type them into a script or a ticket)."
        )));
    }
    if version == ExchangeVersion::E2010 {
        steps.push(item(md!(
            "Or in the Exchange Management Console (ONE Mail guide 10.0): **Organization Configuration** > **Hub Transport** > **Send Connectors** > **New Send Connector**; name ",
            C(name),
            ", intended use **",
            T(usage),
            "**; **Address space** > **Add**: ",
            T(&address_spaces.join(", ")),
            "; **Network settings**: **Route mail through the following smart hosts** > **Add** > **Fully qualified domain name**: ",
            T(&smart_hosts.join(", ")),
            "; **Smart host security**: **Basic Authentication** with the credentials of the secret; **Source Server**: only ",
            T(&source_servers.join(", ")),
            "; **New**, **Finish**. Then run the `Set-SendConnector` line above."
        )));
    }
    c.by_hand = vec![Block::Steps(steps)];
    if *require_tls {
        c.notes.push(md!(
            "The New Send Connector wizard leaves `RequireTLS` at `False`: it must be set after the wizard with ",
            C(&format!("Set-SendConnector -Identity {} -RequireTLS $true", ps(name))),
            ", as above."
        ));
    }
    c.verify = verify_pointer(op, cx);
    let mut rb = vec![run(
        md!("Remove the new connector:"),
        pscmd(format!("Remove-SendConnector -Identity {}", ps(name))),
    )];
    // The cost change runs before this step (guide 10.0), so it is undone after it.
    for o in cx.ops() {
        if matches!(o.action, Action::SetConnectorCost { .. }) && op.depends_on.iter().any(|d| d == &o.id) {
            rb.push(item(md!(
                "Then undo the cost change of ",
                cx.step_link(&o.id),
                ": the old connector is the only one left and takes the mail again."
            )));
        }
    }
    c.rollback = vec![Block::Steps(rb)];
    c
}

fn connector_cost(name: &str, cost: u32) -> Content {
    let mut c = Content {
        does: md!(
            "Raises the address-space cost of the existing send connector ",
            C(name),
            " to ",
            N(u64::from(cost)),
            ", before the new connector (cost 1) is created, so the new one takes the mail as soon as it exists while the old one stays as a fallback."
        ),
        ..Content::default()
    };
    c.by_hand = vec![Block::Steps(vec![
        run(
            md!("Note the current address spaces (the rollback sets them back):"),
            pscmd(format!("Get-SendConnector -Identity {} | Format-List AddressSpaces", ps(name))),
        ),
        run(
            md!("Set the cost of every address space of the connector:"),
            pscmd(format!(
                "$c = Get-SendConnector -Identity {}\nSet-SendConnector -Identity {} -AddressSpaces ($c.AddressSpaces | ForEach-Object {{ '{{0}}:{{1}};{}' -f $_.Type, $_.Address }})",
                ps(name),
                ps(name),
                cost
            )),
        ),
        item(md!(
            "Or in the console (ONE Mail guide 10.0): the connector's **Properties** > **Address Space** > **Edit** > **Cost** ",
            N(u64::from(cost)),
            "."
        )),
    ])];
    c.verify = vec![Block::Steps(vec![run(
        md!("In the Exchange Management Shell:"),
        pscmd(format!(
            "Get-SendConnector -Identity {} | Format-List AddressSpaces",
            ps(name)
        )),
    )
    .expect(md!(
        "every address space ends in `;",
        N(u64::from(cost)),
        "` (for example `{SMTP:*;",
        N(u64::from(cost)),
        "}`)"
    ))])];
    c.rollback = vec![Block::Steps(vec![run(
        md!("Set the cost back to 1 (or to the values noted before the change):"),
        pscmd(format!(
            "$c = Get-SendConnector -Identity {}\nSet-SendConnector -Identity {} -AddressSpaces ($c.AddressSpaces | ForEach-Object {{ '{{0}}:{{1}};1' -f $_.Type, $_.Address }})",
            ps(name),
            ps(name)
        )),
    )])];
    c
}

fn restart(op: &Operation, service: &str) -> Content {
    let display = match service {
        "MSExchangeTransport" => "Microsoft Exchange Transport",
        "W3SVC" => "World Wide Web Publishing Service",
        other => other,
    };
    let mut c = Content {
        does: md!(
            "Restarts ",
            C(service),
            " (",
            T(display),
            ") on ",
            C(&op.host),
            " so the changes apply now; mail flow pauses for a moment."
        ),
        ..Content::default()
    };
    c.by_hand = vec![Block::Steps(vec![
        run(
            md!("In PowerShell on ", C(&op.host), ":"),
            pscmd(format!("Restart-Service -Name {}", ps(service))),
        ),
        item(md!("Or **services.msc** > **", T(display), "** > **Restart**.")),
    ])];
    c.verify = vec![Block::Steps(vec![run(
        md!("On ", C(&op.host), ":"),
        pscmd(format!("Get-Service -Name {} | Format-List Name, Status", ps(service))),
    )
    .expect(md!("`Status : Running`"))])];
    c
}

fn verify_connector(
    op: &Operation,
    direction: &str,
    name: &str,
    expect: &indexmap::IndexMap<String, String>,
    cx: &Cx,
) -> Content {
    let identity = if direction == "receive" {
        let server = op.depends_on.iter().find_map(|d| match cx.op(d).map(|o| &o.action) {
            Some(Action::ReceiveConnector { server_name, .. }) => Some(server_name.clone()),
            _ => None,
        });
        match server {
            Some(s) => format!("{s}\\{name}"),
            None => name.to_string(),
        }
    } else {
        name.to_string()
    };
    let cmdlet = if direction == "receive" {
        "Get-ReceiveConnector"
    } else {
        "Get-SendConnector"
    };
    // A receive connector whose FQDN is the issued certificate's CN (read at run time).
    let fqdn_certificate = cx.ir.operations.iter().find_map(|o| match &o.action {
        Action::ReceiveConnector {
            name: n,
            fqdn_certificate: Some(c),
            ..
        } if direction == "receive" && n == name => Some(c.as_str()),
        _ => None,
    });
    let props: Vec<&str> = expect.keys().map(String::as_str).collect();
    let mut c = Content {
        does: md!(
            "Reads ",
            T(direction),
            " connector ",
            C(name),
            " back and compares the settings that matter."
        ),
        ..Content::default()
    };
    let cost = cx
        .ir
        .operations
        .iter()
        .find_map(|o| match &o.action {
            Action::SendConnector { name: n, cost, .. } if n == name => Some(*cost),
            _ => None,
        })
        .unwrap_or(1);
    // Multi-valued properties print in braces; flag enumerations (AuthMechanism,
    // PermissionGroups) and single values print as they are.
    let multi = [
        "RemoteIPRanges",
        "AddressSpaces",
        "SmartHosts",
        "Bindings",
        "SourceTransportServers",
    ];
    let rows: Vec<(&str, String)> = expect
        .iter()
        .map(|(k, v)| {
            let shown = if k == "AddressSpaces" {
                let spaces: Vec<String> = v.split(", ").map(|a| format!("SMTP:{a};{cost}")).collect();
                format!("{{{}}}", spaces.join(", "))
            } else if multi.contains(&k.as_str()) {
                format!("{{{v}}}")
            } else if k == "Fqdn" && fqdn_certificate.is_some() {
                format!("<CN of the issued {}>", fqdn_certificate.unwrap_or_default())
            } else {
                v.clone()
            };
            (k.as_str(), shown)
        })
        .collect();
    if let (Some(cert), Some(requested)) = (fqdn_certificate, expect.get("Fqdn")) {
        c.notes.push(md!(
            "`Fqdn` is the common name of the certificate issued for ",
            C(cert),
            " (requested as ",
            C(requested),
            "; the issuer may rewrite it), as the script set it from the issued file: compare it with the `Subject` of that certificate."
        ));
    }
    c.verify = vec![Block::Steps(vec![run(
        md!("In the Exchange Management Shell on ", C(&op.host), ":"),
        pscmd(format!(
            "{cmdlet} -Identity {} | Format-List {}",
            ps(&identity),
            props.join(", ")
        )),
    )
    .expect(md!("these values (lists may print in another order):"))
    .output(&rows)])];
    if expect.get("RequireTLS").is_some_and(|v| v == "True") && direction == "send" {
        c.notes.push(md!(
            "If `RequireTLS` shows `False`, run ",
            C(&format!("Set-SendConnector -Identity {} -RequireTLS $true", ps(name))),
            " and check again (guide 10.0)."
        ));
    }
    if expect.contains_key("RemoteIPRanges") {
        c.notes
            .push(md!("`RemoteIPRanges` must not contain `0.0.0.0-255.255.255.255`."));
    }
    c
}

fn remove_connector(direction: &str, name: &str, server_name: Option<&str>, cx: &Cx) -> Content {
    let (get, remove, identity) = if direction == "receive" {
        let id = match server_name {
            Some(s) => format!("{s}\\{name}"),
            None => name.to_string(),
        };
        ("Get-ReceiveConnector", "Remove-ReceiveConnector", id)
    } else {
        ("Get-SendConnector", "Remove-SendConnector", name.to_string())
    };
    // The script saves to the same file before it removes the connector.
    let saved = crate::backend::removed_connector_file(direction, name);
    let mut c = Content {
        does: md!(
            "Removes the old ",
            T(direction),
            " connector ",
            C(name),
            ", which this change replaces, after saving its settings to ",
            C(&saved),
            " (the rollback re-creates it from them)."
        ),
        ..Content::default()
    };
    let mut steps = vec![
        run(
            md!("Save its settings first (the rollback re-creates it from them):"),
            pscmd(format!(
                "{get} -Identity {} | Export-Clixml -Path {}",
                ps(&identity),
                ps(&saved)
            )),
        ),
        run(
            md!("Remove it:"),
            pscmd(format!("{remove} -Identity {}", ps(&identity))),
        ),
    ];
    if cx.ir.organization.exchange == ExchangeVersion::E2010 {
        steps.push(item(if direction == "receive" {
            md!(
                "Or in the console (ONE Mail guide 11.0): **Server Configuration** > **Hub Transport** > the server > the receive connector ",
                C(name),
                " > **Remove**."
            )
        } else {
            md!(
                "Or in the console (ONE Mail guide 11.0): **Organization Configuration** > **Hub Transport** > **Send Connectors** > ",
                C(name),
                " > **Remove**."
            )
        }));
    }
    c.by_hand = vec![Block::Steps(steps)];
    c.verify = vec![Block::Steps(vec![run(
        md!("In the Exchange Management Shell:"),
        pscmd(format!("{get} -Identity {}", ps(&identity))),
    )
    .expect(md!("an error saying the connector couldn't be found"))])];
    c.rollback = vec![Block::Steps(vec![run(
        md!(
            "Re-create the connector from the saved settings (read them, then use `New-",
            if direction == "receive" {
                "ReceiveConnector"
            } else {
                "SendConnector"
            },
            "` with the same values):"
        ),
        pscmd(format!("Import-Clixml -Path {} | Format-List", ps(&saved))),
    )])];
    c
}

fn smime_config(sst_file: &str, authorities: &[String], online: bool, cx: &Cx) -> Content {
    let names: Vec<Md> = authorities
        .iter()
        .map(|a| match cx.authority_cn(a) {
            Some(cn) => md!(C(a), " (", T(cn), ")"),
            None => md!(C(a)),
        })
        .collect();
    let mut c = Content {
        does: md!(
            "Uploads the certificates of ",
            Md::join(&names, ", "),
            " (the SST ",
            C(sst_file),
            ") as the CAs that issue users' S/MIME certificates, in ",
            if online { "Exchange Online" } else { "Exchange" },
            "."
        ),
        ..Content::default()
    };
    let connect = if online {
        "Connect-ExchangeOnline"
    } else {
        "# in the Exchange Management Shell"
    };
    c.by_hand = vec![Block::Steps(vec![
        item(md!(
            "Build ",
            C(sst_file),
            " from the root and intermediate certificates: **certmgr.msc** > **Trusted Root Certification Authorities** > **Certificates**, select the CA certificates (move intermediates there first, or export them from **Intermediate Certification Authorities**) > **All Tasks** > **Export** > **Microsoft Serialized Certificate Store (.SST)**."
        )),
        run(
            md!("Save the current setting (for the rollback) and upload the new one:"),
            pscmd(format!(
                "{connect}\n$before = (Get-SmimeConfig).SMIMECertificateIssuingCA\nif ($before) {{ [IO.File]::WriteAllBytes(\"$PWD\\smime-issuing-ca.before.sst\", $before) }}\n$sst = Get-Content -Path {} -Encoding Byte -ReadCount 0   # PowerShell 7: -AsByteStream\nSet-SmimeConfig -SMIMECertificateIssuingCA $sst",
                ps(sst_file)
            )),
        ),
    ])];
    if online {
        c.notes.push(md!("In Exchange Online only this SST is used to validate S/MIME certificates: it must hold every root and intermediate of the users' certificates."));
    }
    c.verify = vec![Block::Steps(vec![run(
        md!("In the same session:"),
        pscmd("(Get-SmimeConfig).SMIMECertificateIssuingCA.Length"),
    )
    .expect(md!("a number greater than zero (the size of the uploaded SST)"))])];
    c.rollback = vec![Block::Steps(vec![run(
        md!("Put the saved SST back (or clear the setting if there was none):"),
        pscmd("Set-SmimeConfig -SMIMECertificateIssuingCA ([IO.File]::ReadAllBytes(\"$PWD\\smime-issuing-ca.before.sst\"))\n# or: Set-SmimeConfig -SMIMECertificateIssuingCA $null"),
    )])];
    c
}

fn verify_user_smime(user: &str, cx: &Cx) -> Content {
    let publish = cx
        .ops()
        .find(|o| o.id.starts_with("smime-publish/"))
        .map(|o| cx.step_link(&o.id));
    let hybrid = cx.ops().any(|o| matches!(o.action, Action::DirectorySync { .. }));
    let mut c = Content {
        does: md!(
            "Checks that ",
            C(user),
            " has a certificate published to the GAL, issued by a CA of the uploaded store."
        ),
        ..Content::default()
    };
    let mut expect = if hybrid {
        md!("`UserCertificate` or `UserSMimeCertificate` (either, or both) shows a certificate, not the empty `{}`")
    } else {
        md!("`UserSMimeCertificate` shows a certificate, not the empty `{}`")
    };
    if let Some(p) = publish {
        expect.push(&md!("; if not, the user publishes again (", p, ")"));
    }
    c.verify = vec![Block::Steps(vec![
        run(
            md!("In the Exchange session, what the recipient is here (in Exchange Online an on-premises user is a `MailUser`):"),
            pscmd(format!("Get-Recipient -Identity {} | Format-List RecipientTypeDetails", ps(user))),
        ),
        run(
            md!("Then, for a `MailUser` with `Get-MailUser`, otherwise with `Get-Mailbox`:"),
            pscmd(format!(
                "Get-Mailbox -Identity {} | Format-List UserCertificate, UserSMimeCertificate",
                ps(user)
            )),
        )
        .expect(expect),
    ])];
    c
}

fn dirsync(version: Option<&str>, cx: &Cx) -> Content {
    let mut c = Content {
        does: md!(
            "Confirms that directory synchronisation carries `userCertificate` and `userSMIMECertificate` to the cloud",
            match version {
                Some(_) => " (declared version ",
                None => "",
            },
            T(version.unwrap_or("")),
            match version {
                Some(_) => ")",
                None => "",
            },
            "."
        ),
        ..Content::default()
    };
    c.by_hand = vec![Block::Steps(vec![item(md!(
        "On the synchronisation server: **Control Panel** > **Programs** > **Programs and Features** > **Windows Azure Active Directory Sync tool** (or Azure AD Connect / Microsoft Entra Connect): note the version."
    ))])];
    c.verify = vec![Block::Steps(vec![
        item(md!("The version is 6593.0012 or later (any Azure AD Connect or Entra Connect version syncs both attributes).")),
        run(
            md!("For a test user with an enrolled certificate, in PowerShell with the AD module:"),
            pscmd("Get-ADUser -Identity <user> -Properties userCertificate, userSMIMECertificate | Format-List userCertificate, userSMIMECertificate"),
        )
        .expect(md!(
            "the attributes are filled on premises (",
            T(cx.ad_domain()),
            "); after the next sync the mailbox check in a later step finds them in the cloud"
        )),
    ])];
    c
}

fn activesync(op: &Operation, cx: &Cx) -> Content {
    let Action::ActiveSyncDirectory {
        server_name,
        site,
        auth,
        basic,
        client_cert_auth,
        windows,
        external_host,
        ..
    } = &op.action
    else {
        return Content::default();
    };
    let identity = format!("{server_name}\\Microsoft-Server-ActiveSync ({site})");
    let mode = match auth {
        EasAuth::Password => "user name and password",
        EasAuth::CertificateAndPassword => "client certificate required, password as fallback identity",
        EasAuth::CertificateOrPassword => "client certificate or password",
        EasAuth::Certificate => "client certificate only",
        EasAuth::Kerberos => "delegated Kerberos tickets only",
    };
    let mut c = Content {
        does: md!(
            "Sets the ActiveSync virtual directory on ",
            C(server_name),
            " to ",
            T(mode),
            ": Basic ",
            C(yes_no(*basic)),
            ", client certificates ",
            C(client_cert_auth),
            ", Windows authentication ",
            C(yes_no(*windows)),
            "."
        ),
        ..Content::default()
    };
    let mut line = format!(
        "Set-ActiveSyncVirtualDirectory -Identity {} -BasicAuthEnabled {} -ClientCertAuth {} -WindowsAuthEnabled {}",
        ps(&identity),
        ps_bool(*basic),
        client_cert_auth,
        ps_bool(*windows)
    );
    if let Some(h) = external_host {
        line.push_str(&format!(
            " -ExternalUrl {}",
            ps(&format!("https://{h}/Microsoft-Server-ActiveSync"))
        ));
    }
    let mut steps = vec![
        run(
            md!("In the Exchange Management Shell, note the current settings (for the rollback):"),
            pscmd(format!(
                "Get-ActiveSyncVirtualDirectory -Server {} | Format-List Identity, BasicAuthEnabled, ClientCertAuth, WindowsAuthEnabled, ExternalUrl",
                ps(server_name)
            )),
        ),
        run(md!("Set them:"), pscmd(line)),
    ];
    if cx.ir.organization.exchange == ExchangeVersion::E2010 {
        let choice = match client_cert_auth.as_str() {
            "Required" => "**Require client certificates**",
            "Accepted" => "**Accept client certificates**",
            _ => "**Ignore client certificates**",
        };
        steps.push(item(md!(
            "Or in the Exchange Management Console: **Server Configuration** > **Client Access** > ",
            C(server_name),
            " > **Exchange ActiveSync** > **Microsoft-Server-ActiveSync** > **Properties** > **Authentication**: **Basic authentication** ",
            if *basic { "selected" } else { "cleared" },
            ", ",
            Md::trusted(choice.to_string()),
            "."
        )));
    }
    c.by_hand = vec![Block::Steps(steps)];
    match auth {
        EasAuth::CertificateAndPassword => c.notes.push(md!(
            "Certificate required; password as fallback identity. Every device must present a certificate (Required, as the Symantec guide says); when the certificate maps to an account IIS uses that identity and never asks for the password, and Basic only answers when the mapping fails. This is **not** two-factor authentication."
        )),
        EasAuth::CertificateOrPassword => c.notes.push(md!(
            "Certificate **or** password: devices without a certificate keep syncing with their password alone, and Microsoft notes that *Accepted* client certificates do not work consistently across ActiveSync devices. Use it for a migration only; switch to `certificate_and_password` or `certificate` when every device has its certificate."
        )),
        _ => {}
    }
    c.verify = vec![Block::Steps(vec![run(
        md!("In the Exchange Management Shell:"),
        pscmd(format!(
            "Get-ActiveSyncVirtualDirectory -Server {} | Format-List BasicAuthEnabled, ClientCertAuth, WindowsAuthEnabled",
            ps(server_name)
        )),
    )
    .expect(md!("these values:"))
    .output(&[
        ("BasicAuthEnabled", yes_no(*basic).to_string()),
        ("ClientCertAuth", client_cert_auth.clone()),
        ("WindowsAuthEnabled", yes_no(*windows).to_string()),
    ])])];
    let mut undo = format!(
        "Set-ActiveSyncVirtualDirectory -Identity {} -BasicAuthEnabled <noted> -ClientCertAuth <noted> -WindowsAuthEnabled <noted>",
        ps(&identity)
    );
    if external_host.is_some() {
        // The script sets ExternalUrl too; $null when none was noted.
        undo.push_str(" -ExternalUrl <noted, or $null>");
    }
    c.rollback = vec![Block::Steps(vec![run(
        md!("Put back the values noted before the change (Exchange's defaults: Basic `$true`, client certificates `Ignore`, Windows authentication `$false`, no external URL):"),
        pscmd(undo),
    )])];
    c
}

fn iis_client_certs(op: &Operation, cx: &Cx) -> Content {
    let Action::IisClientCertificates {
        site,
        application,
        client_certs,
        basic,
        anonymous,
        certificate_mapping,
        upload_read_ahead,
        ..
    } = &op.action
    else {
        return Content::default();
    };
    let loc = location(site, application);
    let (flags, ssl) = match client_certs {
        ClientCerts::Require => (
            "Ssl, SslNegotiateCert, SslRequireCert",
            "Require SSL, client certificates **Required**",
        ),
        ClientCerts::Accept => ("Ssl, SslNegotiateCert", "Require SSL, client certificates **Accept**"),
        ClientCerts::Ignore => ("Ssl", "Require SSL, client certificates **Ignore**"),
    };
    let mut c = Content {
        does: md!(
            "Configures IIS on ",
            C(&op.host),
            " for ",
            C(&loc),
            ": Active Directory client certificate mapping (server level and this application), ",
            Md::trusted(ssl.to_string()),
            ", Basic ",
            C(yes_no(*basic)),
            ", Anonymous ",
            C(yes_no(*anonymous)),
            ", `uploadReadAheadSize` ",
            N(*upload_read_ahead),
            " bytes (server and site). The script reads every value first and writes only what differs; IIS restarts (`iisreset /noforce`: W3SVC, WAS and IISADMIN, so every site and application pool on the server) only when this run switched the client certificate mapping on (at the server or for this application), which takes effect after a restart."
        ),
        ..Content::default()
    };
    let section = "system.webServer/security/authentication/clientCertificateMappingAuthentication";
    let mut lines = vec![
        format!("{APPCMD} set config -section:{section} /enabled:\"{}\" /commit:apphost", yes_no(*certificate_mapping)),
        format!(
            "{APPCMD} set config {} -section:{section} /enabled:\"{}\" /commit:apphost",
            cmd(&loc),
            yes_no(*certificate_mapping)
        ),
        format!("{APPCMD} set config {} -section:system.webServer/security/access /sslFlags:\"{flags}\" /commit:apphost", cmd(&loc)),
        format!(
            "{APPCMD} set config {} -section:system.webServer/security/authentication/basicAuthentication /enabled:\"{}\" /commit:apphost",
            cmd(&loc),
            yes_no(*basic)
        ),
        format!(
            "{APPCMD} set config {} -section:system.webServer/security/authentication/anonymousAuthentication /enabled:\"{}\" /commit:apphost",
            cmd(&loc),
            yes_no(*anonymous)
        ),
        format!("{APPCMD} set config -section:system.webServer/serverRuntime /uploadReadAheadSize:\"{upload_read_ahead}\" /commit:apphost"),
        format!(
            "{APPCMD} set config {} -section:system.webServer/serverRuntime /uploadReadAheadSize:\"{upload_read_ahead}\" /commit:apphost",
            cmd(site)
        ),
    ];
    // Certificate only: the script switches the other methods off too (Digest, and Windows
    // authentication unless this host's ActiveSync directory uses it), as the guides say.
    if crate::backend::iis::certificate_only(*client_certs, *basic, *anonymous) {
        lines.push(format!(
            "{APPCMD} set config {} -section:system.webServer/security/authentication/digestAuthentication /enabled:\"False\" /commit:apphost",
            cmd(&loc)
        ));
        if !crate::backend::iis::keeps_windows_auth(cx.ir, &op.host) {
            lines.push(format!(
                "{APPCMD} set config {} -section:system.webServer/security/authentication/windowsAuthentication /enabled:\"False\" /commit:apphost",
                cmd(&loc)
            ));
        }
    }
    lines.push(
        "REM Only if a client certificate mapping setting was switched on (it takes effect after a restart):"
            .to_string(),
    );
    lines.push("iisreset /noforce".to_string());
    lines.dedup();
    let mut steps = vec![
        run(
            md!("On ", C(&op.host), ", check the role service **Client Certificate Mapping Authentication** is installed:"),
            // ServerManager's cmdlets exist from Windows Server 2008 R2 (PowerShell 2.0) on;
            // Install-WindowsFeature only from 2012.
            pscmd("Import-Module ServerManager\nGet-WindowsFeature Web-Client-Auth   # Add-WindowsFeature Web-Client-Auth if it is not installed"),
        ),
        run(md!("In an elevated command prompt:"), bat(lines.join("\n"))),
    ];
    steps.push(item(md!(
            "Or in IIS Manager (**inetmgr**): the server > **Authentication** > **Active Directory Client Certificate Authentication** > **Enable**; **Sites** > ",
            C(&loc.replace('/', " > ")),
            " > **Configuration Editor** > `",
            Md::trusted(section.to_string()),
            "` > **enabled** `True` > **Apply**; **SSL Settings**: ",
            Md::trusted(ssl.to_string()),
            " > **Apply**; then the two `uploadReadAheadSize` lines above, and `iisreset /noforce` only if one of the two mapping settings was off before."
    )));
    if *certificate_mapping {
        c.does.push(&md!(
            " The DS mapper of the site's HTTP.sys SSL binding is switched on too (read first, changed only if it is off, every other field of the binding kept)."
        ));
        steps.push(run(
            md!(
                "Active Directory mapping works only through the DS mapper of the HTTP.sys SSL binding of the site's https binding (usually `0.0.0.0:443`). Show it and note every field:"
            ),
            bat("netsh http show sslcert ipport=0.0.0.0:443"),
        ));
        steps.push(run(
            md!(
                "If `DS Mapper Usage` is `Disabled`: on Windows Server 2012 and later update it in place with the binding's own certificate hash and application id; Windows Server 2008 R2 has no `update`: delete the binding and add it again with **every** field it showed (revocation, usage check, CTL), plus the DS mapper:"
            ),
            bat("netsh http update sslcert ipport=0.0.0.0:443 certhash=<Certificate Hash> appid=<Application ID> dsmapperusage=enable\nREM Windows Server 2008 R2:\nnetsh http delete sslcert ipport=0.0.0.0:443\nnetsh http add sslcert ipport=0.0.0.0:443 certhash=<Certificate Hash> appid=<Application ID> certstorename=MY <the other fields as shown> dsmapperusage=enable"),
        ));
    }
    c.by_hand = vec![Block::Steps(steps)];
    c.notes.push(md!(
        "Run the 64-bit ",
        C(APPCMD),
        " (the Symantec guide's `C:\\Windows\\SysWOW64\\inetsrv\\appcmd.exe` edits the 32-bit configuration view) and quote the site name ",
        C(site),
        " everywhere",
        if site == "Default Web Site" {
            " (the VMware guide's `Default Website` is not the IIS default name)."
        } else {
            "."
        }
    ));
    c.verify = vec![Block::Steps(vec![
        run(
            md!("In an elevated command prompt on ", C(&op.host), ":"),
            bat(format!(
                "{APPCMD} list config {} -section:system.webServer/security/access\n{APPCMD} list config {} -section:{section}\n{APPCMD} list config {} -section:system.webServer/serverRuntime",
                cmd(&loc),
                cmd(&loc),
                cmd(site)
            )),
        )
        .expect(md!(
            "`sslFlags=\"",
            Md::trusted(flags.to_string()),
            "\"`, `enabled=\"",
            Md::trusted(yes_no(*certificate_mapping).to_lowercase()),
            "\"` and `uploadReadAheadSize=\"",
            N(*upload_read_ahead),
            "\"`"
        )),
    ])];
    if *certificate_mapping {
        if let Some(Block::Steps(v)) = c.verify.first_mut() {
            v.push(
                run(
                    md!("The HTTP.sys SSL binding:"),
                    bat("netsh http show sslcert ipport=0.0.0.0:443"),
                )
                .expect(md!("`DS Mapper Usage : Enabled`")),
            );
        }
    }
    let mut undo = vec![run(
        md!("Restore the IIS configuration backup taken before the change, then restart IIS:"),
        bat(format!("{APPCMD} restore backup {}\niisreset", arg(&cx.iis_backup()))),
    )];
    if *certificate_mapping {
        // The HTTP.sys binding is not part of applicationHost.config, so not of the backup.
        undo.push(item(md!(
            "The IIS backup does not hold the HTTP.sys SSL binding: only if `DS Mapper Usage` was `Disabled` before the change, switch it off again as in the steps above, with `dsmapperusage=disable`."
        )));
    }
    c.rollback = vec![Block::Steps(undo)];
    c
}

fn iis_windows_auth(op: &Operation, site: &str, application: &str, cx: &Cx) -> Content {
    let loc = location(site, application);
    let section = "system.webServer/security/authentication/windowsAuthentication";
    let mut c = Content {
        does: md!(
            "Enables Windows authentication with the Negotiate and NTLM providers on ",
            C(&loc),
            " on ",
            C(&op.host),
            ", so it accepts the Kerberos tickets the gateway delegates."
        ),
        ..Content::default()
    };
    c.by_hand = vec![Block::Steps(vec![
        run(
            md!("In an elevated command prompt on ", C(&op.host), ":"),
            bat(format!(
                "{APPCMD} set config {} -section:{section} /enabled:\"True\" /commit:apphost\n{APPCMD} list config {} -section:{section}",
                cmd(&loc),
                cmd(&loc)
            )),
        ),
        run(
            md!("The script makes the `providers` list exactly `Negotiate`, `NTLM`, in that order. Add the missing one(s); then remove any other provider in IIS Manager (below, **Providers...** > **Remove**) and keep `Negotiate` first:"),
            bat(format!(
                "{APPCMD} set config {} -section:{section} /+\"providers.[value='Negotiate']\" /commit:apphost\n{APPCMD} set config {} -section:{section} /+\"providers.[value='NTLM']\" /commit:apphost",
                cmd(&loc),
                cmd(&loc)
            )),
        ),
        item(md!(
            "Or in IIS Manager: **Sites** > ",
            C(site),
            " > ",
            C(application),
            " > **Authentication** > **Windows Authentication** > **Enable**; **Providers...**: `Negotiate` and `NTLM`."
        )),
    ])];
    c.verify = vec![Block::Steps(vec![run(
        md!("On ", C(&op.host), ":"),
        bat(format!("{APPCMD} list config {} -section:{section}", cmd(&loc))),
    )
    .expect(md!("`enabled=\"true\"` with providers `Negotiate` and `NTLM`"))])];
    c.rollback = vec![Block::Steps(vec![run(
        md!("Restore the IIS configuration backup taken before the change, then restart IIS:"),
        bat(format!("{APPCMD} restore backup {}\niisreset", arg(&cx.iis_backup()))),
    )])];
    c
}

fn cert_mapping(
    op: &Operation,
    kind: &str,
    authority: &str,
    account: Option<&str>,
    subject: Option<&str>,
    cx: &Cx,
) -> Content {
    let cn = cx.authority_cn(authority).unwrap_or(authority);
    let mut c = Content::default();
    match kind {
        "upn" => {
            c.does = md!(
                "Checks that certificates of ",
                C(authority),
                " map to users by the UPN in their SAN: the CA must be in NTAuth and each certificate must carry the user's UPN."
            );
            c.verify = vec![Block::Steps(vec![
                run(
                    md!("On ", on_host(cx, &op.host), ":"),
                    bat("certutil -enterprise -store NTAuth"),
                )
                .expect(md!("the CA ", C(&format!("CN={cn}")), " is listed")),
                run(
                    md!("On each server that maps client certificates, after `gpupdate /force`:"),
                    bat("reg query HKLM\\SOFTWARE\\Microsoft\\EnterpriseCertificates\\NTAuth\\Certificates"),
                )
                .expect(md!("a key named after the CA certificate's thumbprint")),
                run(md!("On a sample user certificate:"), bat("certutil -dump user.cer")).expect(md!(
                    "`Subject Alternative Name` holds `Principal Name=<the user's UPN>`"
                )),
            ])];
        }
        _ => {
            let many = kind == "many_to_one";
            let target = account.unwrap_or("the user");
            c.does = if many {
                md!(
                    "Maps every certificate issued by ",
                    C(authority),
                    " (",
                    T(cn),
                    ") to the account ",
                    C(target),
                    "."
                )
            } else {
                md!("Maps the certificate ", C(subject.unwrap_or("")), " to its user.")
            };
            c.by_hand = vec![Block::Steps(vec![
                item(md!(
                    "Export a certificate issued by ",
                    T(cn),
                    " as an X.509 `.cer` file."
                )),
                item(md!(
                    "On ",
                    C(&op.host),
                    ": **Active Directory Users and Computers** > **View** > **Advanced Features**."
                )),
                item(md!(
                    "Find ",
                    C(target),
                    ", right-click > **Name Mappings** > **X.509 Certificates** > **Add**, choose the `.cer` file."
                )),
                item(if many {
                    md!("Keep **Use Issuer for alternate security identity** selected and **clear Use Subject for alternate security identity**, so every certificate of this issuer maps to the account; **OK**, **OK**.")
                } else {
                    md!("Keep both **Use Issuer for alternate security identity** and **Use Subject for alternate security identity** selected; **OK**, **OK**.")
                }),
            ])];
            c.verify = vec![Block::Steps(vec![run(
                md!("In PowerShell with the AD module:"),
                pscmd(format!(
                    "Get-ADUser -Identity {} -Properties altSecurityIdentities | Format-List altSecurityIdentities",
                    ps(target.rsplit('\\').next().unwrap_or(target))
                )),
            )
            .expect(if many {
                md!("an `X509:<I>…` entry naming the issuer ", T(cn), " and no `<S>` part")
            } else {
                md!("an `X509:<I>…<S>…` entry with the certificate's issuer and subject")
            })])];
            c.rollback = vec![Block::Steps(vec![item(md!(
                "**Name Mappings** on ",
                C(target),
                " > select the mapping > **Remove**."
            ))])];
        }
    }
    c
}

fn register_spn(spn: &str, account: &str) -> Content {
    let mut c = Content {
        does: md!("Registers the service principal name ", C(spn), " on ", C(account), "."),
        ..Content::default()
    };
    c.by_hand = vec![Block::Steps(vec![
        run(
            md!("As a domain administrator:"),
            bat(format!("setspn -S {} {}", arg(spn), arg(account))),
        ),
        item(md!(
            "Or with **ADSI Edit** (`adsiedit.msc`) > **Default naming context** > the account > **Properties** > **Attribute Editor** > `servicePrincipalName` > **Edit** > add ",
            C(spn),
            " > **OK**."
        )),
    ])];
    c.notes.push(md!(
        "`setspn -S` refuses to add a duplicate; the guides' `setspn -A` does not check, and a duplicate SPN breaks Kerberos for every client."
    ));
    c.verify = vec![Block::Steps(vec![
        run(
            md!("List the account's SPNs:"),
            bat(format!("setspn -L {}", arg(account))),
        )
        .expect(md!(C(spn), " is listed")),
        run(
            md!("Look the SPN up in the forest:"),
            bat(format!("setspn -Q {}", arg(spn))),
        )
        .expect(md!("`Existing SPN found!` with exactly one account")),
    ])];
    c.rollback = vec![Block::Steps(vec![run(
        md!("Only if the SPN was not registered before this change:"),
        bat(format!("setspn -D {} {}", arg(spn), arg(account))),
    )])];
    c
}

fn asa(op: &Operation, account: &str, array_fqdn: &str, members: &[String], domain: Option<&str>, cx: &Cx) -> Content {
    let domain = domain.unwrap_or("DOMAIN");
    let full = format!("{domain}\\{account}$");
    let mut c = Content {
        does: md!(
            "Creates the alternate service account ",
            C(&format!("{account}$")),
            " (a computer account) for the Client Access array ",
            C(array_fqdn),
            " and deploys its credentials to every member: ",
            T(&members.join(", ")),
            "."
        ),
        ..Content::default()
    };
    let dc_list: Vec<String> = cx.domain_controllers().iter().filter_map(|h| h.fqdn.clone()).collect();
    let mut replicated = String::new();
    for dc in &dc_list {
        replicated.push_str(&format!(
            "Get-ADComputer -Identity {} -Server {}\n",
            ps(account),
            ps(dc)
        ));
    }
    let mut steps = vec![item(md!(
        "**Active Directory Users and Computers** > **Computers** > **New** > **Computer**: name ",
        C(account),
        ". It stays a member of Domain Computers only."
    ))];
    if !replicated.is_empty() {
        steps.push(run(
            md!("Check it has replicated to every domain controller:"),
            pscmd(replicated.trim_end().to_string()),
        ));
    }
    steps.push(
        run(
            md!(
                "In the Exchange Management Shell on ",
                C(&op.host),
                ", confirm the array name:"
            ),
            pscmd("Get-ClientAccessArray | Format-List Name, Fqdn, Members"),
        )
        .expect(md!(C(&format!("Fqdn : {array_fqdn}")))),
    );
    steps.push(item(md!(
        "Before rolling: every member runs Exchange 2010 SP1 with Update Rollup 3 or later, and its **Microsoft Exchange Service Host** service is running (the ASA does not work without it): ",
        C("Get-Service -ComputerName <member> -Name MSExchangeServiceHost")
    )));
    steps.push(run(
        md!("Deploy the account to the array members, named by the array's **Name** from the step above (the script sets a new password itself and asks to confirm the change: answer Yes):"),
        pscmd(format!(
            "cd $exscripts\n.\\RollAlternateServiceAccountPassword.ps1 -ToArrayMembers '<array name>' -GenerateNewPasswordFor {} -Verbose",
            ps(&full)
        )),
    ));
    c.by_hand = vec![Block::Steps(steps)];
    c.notes.push(md!(
        "Every Client Access server of the array, and any server used for datacenter activation, must share this one account; add new members and run the script again."
    ));
    c.verify = vec![Block::Steps(vec![run(
        md!("In the Exchange Management Shell:"),
        pscmd("Get-ClientAccessServer -IncludeAlternateServiceAccountCredentialStatus | Format-List Name, *Alter*"),
    )
    .expect(md!(
        "each of ",
        T(&members.join(", ")),
        " shows the credential of ",
        C(&full)
    ))])];
    // Microsoft's roll script cannot remove an ASA; Set-ClientAccessServer can, per member.
    let remove: Vec<String> = members
        .iter()
        .map(|m| {
            format!(
                "Set-ClientAccessServer -Identity {} -RemoveAlternateServiceAccountCredentials",
                ps(m.split('.').next().unwrap_or(m))
            )
        })
        .collect();
    c.rollback = vec![Block::Steps(vec![
        run(
            md!("Remove the credential from each member, in the Exchange Management Shell:"),
            pscmd(remove.join("\n")),
        ),
        run(
            md!("Remove the array's SPN from the account:"),
            bat(format!(
                "setspn -D {} {}",
                arg(&format!("http/{array_fqdn}")),
                arg(&full)
            )),
        ),
        item(md!("Delete the computer account ", C(account), ".")),
    ])];
    c
}

fn delegation(account: &str, from: &str, spns: &[String], transition: bool, cx: &Cx) -> Content {
    // The short form only for a declared server, whose computer account answers for it; an
    // array name held by an alternate service account is registered (and delegated) as FQDN.
    let mut all: Vec<String> = Vec::new();
    for s in spns {
        all.push(s.clone());
        if let Some((svc, host)) = s.split_once('/') {
            let server =
                cx.ir.hosts.values().any(|h| {
                    h.kind == HostKind::Server && h.fqdn.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(host))
                });
            if let Some((short, _)) = host.split_once('.').filter(|_| server) {
                all.push(format!("{svc}/{}", short.to_ascii_uppercase()));
            }
        }
    }
    let target_account = spns.first().and_then(|s| {
        cx.ir.operations.iter().find_map(|o| match &o.action {
            Action::RegisterSpn { spn, account } if spn.eq_ignore_ascii_case(s) => Some(account.clone()),
            _ => None,
        })
    });
    let mut c = Content {
        does: md!(
            "Trusts ",
            C(account),
            " (",
            C(from),
            ") for delegation to ",
            T(&all.join(", ")),
            " only (Kerberos constrained delegation)",
            if transition {
                ", with protocol transition (**Use any authentication protocol**), so it can log users on from their certificates."
            } else {
                ", Kerberos only."
            }
        ),
        ..Content::default()
    };
    let ident = account.to_string();
    let service = spns
        .first()
        .and_then(|s| s.split_once('/'))
        .map_or("http", |(svc, _)| svc)
        .to_string();
    c.by_hand = vec![Block::Steps(vec![
        item(md!(
            "On a domain controller: **Active Directory Users and Computers** > **Computers** > right-click ",
            C(from),
            " > **Properties** > **Delegation**."
        )),
        item(md!(
            "Select **Trust this computer for delegation to specified services only** and ",
            if transition { "**Use any authentication protocol**" } else { "**Use Kerberos only**" },
            "."
        )),
        item(md!(
            "**Add** > **Users or Computers** > ",
            C(target_account.as_deref().unwrap_or("the account that holds the SPN")),
            " > **OK**; under **Available services** select service type ",
            C(&service),
            " for each of ",
            T(&all.join(", ")),
            " (a short name is offered through the computer's `HOST` SPN) > **OK** > **OK**."
        )),
        run(
            md!("Or in PowerShell with the AD module:"),
            pscmd(format!(
                "Set-ADComputer -Identity {} -Add @{{'msDS-AllowedToDelegateTo' = @({})}}\nSet-ADAccountControl -Identity {} -TrustedToAuthForDelegation {}",
                ps(&ident),
                ps_list(&all),
                ps(&ident),
                ps_bool(transition)
            )),
        ),
        run(
            md!(
                "On ",
                C(from),
                ", drop cached tickets so the change applies without a restart (0x3e4 is Network Service, which runs the gateway's application pool; 0x3e7 is the computer's own LocalSystem session):"
            ),
            bat("klist -li 0x3e4 purge\nklist -li 0x3e7 purge"),
        ),
    ])];
    c.verify = vec![Block::Steps(vec![run(
        md!("In PowerShell with the AD module:"),
        pscmd(format!(
            "Get-ADComputer -Identity {} -Properties msDS-AllowedToDelegateTo, TrustedToAuthForDelegation | Format-List msDS-AllowedToDelegateTo, TrustedToAuthForDelegation",
            ps(&ident)
        )),
    )
    .expect(md!("these values:"))
    .output(&[
        ("msDS-AllowedToDelegateTo", format!("{{{}}}", all.join(", "))),
        ("TrustedToAuthForDelegation", yes_no(transition).to_string()),
    ])])];
    c.rollback = vec![Block::Steps(vec![run(
        md!("Remove the delegation (and protocol transition if it was off before):"),
        pscmd(format!(
            "Set-ADComputer -Identity {} -Remove @{{'msDS-AllowedToDelegateTo' = @({})}}\nSet-ADAccountControl -Identity {} -TrustedToAuthForDelegation $false",
            ps(&ident),
            ps_list(&all),
            ps(&ident)
        )),
    )])];
    c
}

fn right_name(r: &str) -> &str {
    match r {
        "SeTcbPrivilege" => "Act as part of the operating system",
        "SeImpersonatePrivilege" => "Impersonate a client after authentication",
        other => other,
    }
}

fn user_rights(op: &Operation, identity: &str, rights: &[String]) -> Content {
    let names: Vec<Md> = rights.iter().map(|r| md!("**", T(right_name(r)), "**")).collect();
    let sid = match identity {
        "NT AUTHORITY\\NETWORK SERVICE" => Some("*S-1-5-20"),
        "NT AUTHORITY\\SYSTEM" => Some("*S-1-5-18"),
        _ => None,
    };
    let mut c = Content {
        does: md!(
            "Grants ",
            C(identity),
            " on ",
            C(&op.host),
            " the user rights ",
            Md::join(&names, " and "),
            ", which delegation on behalf of users needs."
        ),
        ..Content::default()
    };
    let mut steps = vec![item(md!(
        "On ",
        C(&op.host),
        ": **secpol.msc** > **Security Settings** > **Local Policies** > **User Rights Assignment**."
    ))];
    for r in rights {
        steps.push(item(md!(
            "Double-click **",
            T(right_name(r)),
            "** > **Add User or Group** > ",
            C(identity),
            " > **OK** > **OK** (skip if it is listed already)."
        )));
    }
    c.by_hand = vec![Block::Steps(steps)];
    c.notes.push(md!(
        "A domain Group Policy that sets these rights overrides the local policy: check with `gpresult /h gp.html` if the rights do not stick."
    ));
    if crate::ir::is_builtin_service_account(identity) {
        c.notes.push(md!(
            "Restart ",
            C(&op.host),
            " once the rights are granted: the rights of ",
            C(identity),
            " belong to its logon session, which Windows creates at start-up; recycling the application pool does not renew it."
        ));
    } else {
        c.notes.push(md!(
            "Recycle the application pool (or restart the service) that runs as ",
            C(identity),
            ": it gets the rights when its process starts."
        ));
    }
    if identity == "NT AUTHORITY\\NETWORK SERVICE" && rights.iter().any(|r| r == "SeTcbPrivilege") {
        c.notes.push(md!(
            "**Act as part of the operating system** for Network Service gives it to every service on ",
            C(&op.host),
            " that runs as Network Service, not only to the gateway. The vendor guide asks for it; to narrow it, run the gateway's application pool under its own identity (`identity = application_pool_identity` on the `seg` block) and grant the rights to that identity instead."
        ));
    }
    c.verify = vec![Block::Steps(vec![run(
        md!("In an elevated prompt on ", C(&op.host), ":"),
        bat(format!(
            "secedit /export /areas USER_RIGHTS /cfg \"%TEMP%\\rights.inf\"\ntype \"%TEMP%\\rights.inf\" | findstr /i \"{}\"",
            rights.join(" ")
        )),
    )
    .expect(match sid {
        Some(s) => md!("each line lists ", C(s), " (", C(identity), ")"),
        None => md!("each line lists the SID of ", C(identity)),
    })])];
    c.rollback = vec![Block::Steps(vec![item(md!(
        "In **secpol.msc**, remove ",
        C(identity),
        " from **Act as part of the operating system** (leave **Impersonate a client after authentication**: service identities hold it by default)."
    ))])];
    c
}

fn seg_config(op: &Operation, app_pool: &str, identity: &str, exchange_host: &str, cx: &Cx) -> Content {
    let spn_step = cx.ops().find(|o| {
        matches!(&o.action, Action::RegisterSpn { spn, .. } if spn.split_once('/').is_some_and(|(_, h)| h.eq_ignore_ascii_case(exchange_host)))
    });
    let mut c = Content {
        does: md!(
            "Runs the SEG application pool ",
            C(app_pool),
            " as ",
            C(identity),
            " and points the SEG at the Exchange host ",
            C(exchange_host),
            "."
        ),
        ..Content::default()
    };
    c.by_hand = vec![Block::Steps(vec![
        run(
            md!("In an elevated command prompt on ", C(&op.host), ":"),
            bat(format!(
                "{APPCMD} set config -section:system.applicationHost/applicationPools {} /commit:apphost",
                cmd(&format!("/[name='{app_pool}'].processModel.identityType:{identity}"))
            )),
        ),
        item(md!(
            "Or **IIS Manager** > **Application Pools** > ",
            C(app_pool),
            " > **Advanced Settings** > **Identity** = ",
            C(identity),
            "."
        )),
        item(md!(
            "In the SEG's `web.config` (the Web Listener folder), the Exchange server host name is ",
            C(exchange_host),
            "."
        )),
    ])];
    if let Some(s) = spn_step {
        c.notes.push(md!(
            "The Exchange host must be the name the SPN of ",
            cx.step_link(&s.id),
            " is registered for, or Kerberos delegation fails."
        ));
    }
    c.verify = vec![Block::Steps(vec![run(
        md!("On ", C(&op.host), ":"),
        bat(format!(
            "{APPCMD} list apppool {} /text:processModel.identityType",
            cmd(app_pool)
        )),
    )
    .expect(md!(C(identity)))])];
    c.rollback = vec![Block::Steps(vec![run(
        md!("Restore the IIS configuration backup taken before the change:"),
        bat(format!("{APPCMD} restore backup {}\niisreset", arg(&cx.iis_backup()))),
    )])];
    c
}

/// The certificate a SEG presents: bound to the HTTP.sys SSL binding of its site's https
/// binding, as `configure-iis.ps1` does (by the issued file's thumbprint).
fn seg_certificate(c: &mut Content, site: &str, certificate: &str, cx: &Cx) {
    let file = cx
        .ir
        .issued_file(certificate)
        .map_or_else(|| format!("the issued file of {certificate}"), win);
    c.does.push(&md!(
        " It binds ",
        C(certificate),
        " (found by the thumbprint of ",
        C(&file),
        ") to the HTTP.sys SSL binding of the https binding of ",
        C(site),
        ", keeping every other field of the binding: the SEG presents it to devices."
    ));
    if let Some(Block::Steps(steps)) = c.by_hand.first_mut() {
        steps.push(run(
            md!("Read the thumbprint of the issued certificate (`Cert Hash(sha1)`, without spaces):"),
            bat(format!("certutil -dump {}", arg(&file))),
        ));
        steps.push(item(md!(
            "**IIS Manager** > **Sites** > ",
            C(site),
            " > **Bindings** > `https` > **Edit** > **SSL certificate**: the certificate with that thumbprint > **OK**. (Or `netsh http update sslcert` / delete and add on Windows Server 2008 R2 with `certhash=<thumbprint>` and every other field as `netsh http show sslcert` shows it.)"
        )));
    }
    if let Some(Block::Steps(v)) = c.verify.first_mut() {
        v.push(
            run(
                md!("The HTTP.sys SSL binding:"),
                bat("netsh http show sslcert ipport=0.0.0.0:443"),
            )
            .expect(md!("`Certificate Hash` is the thumbprint of ", C(&file))),
        );
    }
}

fn listener_auth(auth: &str) -> &'static str {
    match auth {
        "client_certificate" => "SSL Client Certificate Authentication",
        "basic" => "HTTP Authentication (Basic)",
        "forms" => "HTML Form Authentication",
        _ => "No Authentication",
    }
}

fn tmg_listener(op: &Operation, cx: &Cx) -> Content {
    let Action::TmgListener {
        name,
        description,
        certificate,
        certificate_cn,
        auth,
        addresses,
        require_ssl,
    } = &op.action
    else {
        return Content::default();
    };
    let mut c = Content {
        does: md!(
            "Creates the TMG web listener ",
            C(name),
            " on ",
            C(&op.host),
            ": ",
            if *require_ssl { "SSL only" } else { "HTTP and SSL" },
            ", certificate ",
            C(certificate_cn),
            ", authentication ",
            T(listener_auth(auth)),
            "."
        ),
        ..Content::default()
    };
    let mut steps = vec![
        item(md!(
            "On ",
            C(&op.host),
            ": **Forefront TMG Management** > **Firewall Policy** > **Toolbox** > **Network Objects** > **New** > **Web Listener**."
        )),
        item(md!("**Web listener name**: ", C(name), "; **Next**.")),
        item(if *require_ssl {
            md!("**Client Connection Security**: **Require SSL secured connections with clients**; **Next**.")
        } else {
            md!("**Client Connection Security**: **Do not require SSL secured connections with clients**; **Next**.")
        }),
    ];
    if addresses.is_empty() {
        steps.push(item(md!(
            "**Web Listener IP Addresses**: select the **External** network (all its addresses); **Next**."
        )));
    } else {
        let ips: Vec<Md> = addresses.iter().map(|a| md!(C(a))).collect();
        steps.push(item(md!(
            "**Web Listener IP Addresses**: select **External** > **Select IP Addresses** > **Specified IP addresses on the Forefront TMG computer in the selected network** > add ",
            Md::join(&ips, ", "),
            " > **OK**; **Next**."
        )));
    }
    steps.push(item(md!(
        "**Listener SSL Certificates**: **Use a single certificate for this Web listener** > **Select Certificate** > the certificate issued to ",
        C(certificate_cn),
        " (mailsec name ",
        C(certificate),
        ") > **Select**; **Next**."
    )));
    steps.push(item(md!(
        "**Authentication Settings**: **",
        T(listener_auth(auth)),
        "**; **Next**."
    )));
    steps.push(item(md!(
        "**Single Sign On Settings**: the message *SSO is not available for the currently selected client authentication method* is expected: ignore it; **Next**, **Finish**."
    )));
    if let Some(d) = description {
        steps.push(item(md!(
            "Open the listener's **Properties** > **General** > **Description**: ",
            C(d),
            "; **OK**."
        )));
    }
    steps.push(item(md!(
        "**Apply** in the console, so TMG saves and loads the configuration."
    )));
    c.by_hand = vec![Block::Steps(steps)];
    c.verify = vec![Block::Steps(vec![
        item(md!(
            "**Toolbox** > **Web Listeners** > ",
            C(name),
            " > **Properties**: **Connections** shows HTTPS 443",
            if *require_ssl { " and no HTTP" } else { "" },
            "; **Certificates** shows ",
            C(certificate_cn),
            "; **Authentication** shows ",
            T(listener_auth(auth)),
            "."
        )),
        run(md!("On ", C(&op.host), ":"), bat("netstat -an | findstr \":443\"")).expect(if addresses.is_empty() {
            md!("a `LISTENING` line on port 443 of the external addresses")
        } else {
            let ips: Vec<Md> = addresses.iter().map(|a| md!(C(&format!("{a}:443")))).collect();
            md!("`LISTENING` on ", Md::join(&ips, ", "))
        }),
    ])];
    c.rollback = vec![Block::Steps(vec![item(md!(
        "Delete the rules that use the listener, then **Toolbox** > **Web Listeners** > ",
        C(name),
        " > **Delete**; **Apply**."
    ))])];
    let _ = cx;
    c
}

fn tmg_rule(op: &Operation, cx: &Cx) -> Content {
    let Action::TmgPublishingRule {
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
    } = &op.action
    else {
        return Content::default();
    };
    let service_box = match service.as_str() {
        "owa" => "Outlook Web Access",
        "outlook_anywhere" => "Outlook Anywhere (RPC/HTTP(s))",
        _ => "Exchange ActiveSync",
    };
    let spn_value = crate::ir::tmg_delegation_spn(spn.as_deref(), internal_site, farm);
    let delegation_box = match delegation.as_str() {
        "kerberos" => "Kerberos constrained delegation",
        "basic" => "Basic authentication",
        _ => "No delegation, but client may authenticate directly",
    };
    let mut c = Content {
        does: md!(
            "Creates the Exchange publishing rule ",
            C(name),
            " on ",
            C(&op.host),
            ": ",
            T(service_box),
            " for ",
            C(public_name),
            " through listener ",
            C(listener),
            " to ",
            C(internal_site),
            ", authentication delegation ",
            T(delegation_box),
            "."
        ),
        ..Content::default()
    };
    let mut steps = vec![
        item(md!(
            "On ",
            C(&op.host),
            ": **Forefront TMG Management** > **Firewall Policy** > **Tasks** > **Publish Exchange Web Client Access**."
        )),
        item(md!("**Exchange Publishing rule name**: ", C(name), "; **Next**.")),
        item(md!(
            "**Select Services**: **Exchange version** ",
            T(exchange.product()),
            "; select only **",
            T(service_box),
            "**; **Next**."
        )),
    ];
    if farm.is_empty() {
        steps.push(item(md!(
            "**Publishing Type**: **Publish a single Web site or load balancer**; **Next**."
        )));
    } else {
        let members: Vec<Md> = farm.iter().map(|f| md!(C(f))).collect();
        steps.push(item(md!(
            "**Publishing Type**: **Publish a server farm of load balanced Web servers**, with the farm members ",
            Md::join(&members, ", "),
            "; **Next**."
        )));
    }
    steps.push(item(if *ssl_to_server {
        md!("**Server Connection Security**: **Use SSL to connect to the published Web server or server farm**; **Next**.")
    } else {
        md!("**Server Connection Security**: **Use non-secured connections to connect the published Web server or server farm**; **Next**.")
    }));
    steps.push(item(md!(
        "**Internal Publishing Details**: **Internal site name** ",
        C(internal_site),
        "; **Next**."
    )));
    steps.push(item(md!(
        "**Public Name Details**: **Accept requests for** **This domain name (type below)**, **Public name** ",
        C(public_name),
        "; **Next**."
    )));
    steps.push(item(md!("**Select Web Listener**: ", C(listener), "; **Next**.")));
    if delegation == "kerberos" {
        steps.push(item(md!(
            "**Authentication Delegation**: **Kerberos constrained delegation**, **Service Principal Name** ",
            C(&spn_value),
            "; **Next**."
        )));
    } else {
        steps.push(item(md!(
            "**Authentication Delegation**: **",
            T(delegation_box),
            "**; **Next**."
        )));
    }
    steps.push(item(md!(
        "**User Sets**: remove **All Users** and add **All Authenticated Users**; **Next**, **Finish**."
    )));
    let spn_op = cx
        .ops()
        .find(|o| matches!(&o.action, Action::RegisterSpn { spn, .. } if spn.eq_ignore_ascii_case(&spn_value)));
    steps.push(item(match spn_op {
        Some(s) => md!(
            "TMG then reminds you to configure the SPN: it is registered in ",
            cx.step_link(&s.id),
            ". **Apply** in the console."
        ),
        None => md!("TMG then reminds you to configure the SPN for the internal site name. **Apply** in the console."),
    }));
    c.by_hand = vec![Block::Steps(steps)];
    if cx
        .hosts_with("seg")
        .iter()
        .any(|h| h.fqdn.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(internal_site)))
    {
        c.notes.push(md!(
            "When a SEG is added to an existing TMG to EAS set-up, first stop the old rule publishing to the EAS server (disable it), and take certificate authentication off the EAS server, before this rule publishes the SEG."
        ));
    }
    c.verify = vec![Block::Steps(vec![item(md!(
        "The rule ",
        C(name),
        " is enabled in **Firewall Policy**; its **Properties** show **To** ",
        C(internal_site),
        ", **Public Name** ",
        C(public_name),
        ", **Listener** ",
        C(listener),
        ", **Authentication Delegation** ",
        T(delegation_box),
        " (",
        C(&spn_value),
        ") and **Users** All Authenticated Users."
    ))])];
    c.rollback = vec![Block::Steps(vec![item(md!(
        "Disable or delete the rule ",
        C(name),
        " (and re-enable the rule it replaces, if any); **Apply**."
    ))])];
    c
}

fn tmg_server_publishing(op: &Operation) -> Content {
    let Action::TmgServerPublishing {
        name,
        protocol,
        published_server,
        published_ip,
        addresses,
        description,
    } = &op.action
    else {
        return Content::default();
    };
    let mut c = Content {
        does: md!(
            "Creates the server publishing rule ",
            C(name),
            " on ",
            C(&op.host),
            ": ",
            T(protocol),
            " passed through to ",
            C(published_server),
            ". TMG does not terminate the device's TLS, so it neither asks for nor sees the device certificate, and it delegates nothing: ",
            C(published_server),
            " authenticates the device."
        ),
        ..Content::default()
    };
    let target = published_ip.clone().unwrap_or_else(|| published_server.clone());
    let mut steps = vec![
        item(md!(
            "On ",
            C(&op.host),
            ": **Forefront TMG Management** > **Firewall Policy** > **Tasks** > **Publish Non-Web Server Protocols**."
        )),
        item(md!("**Server publishing rule name**: ", C(name), "; **Next**.")),
        item(md!(
            "**Select Server**: **Server IP address** of ",
            C(&target),
            "; **Next**."
        )),
        item(md!("**Select Protocol**: ", C(protocol), "; **Next**.")),
    ];
    if addresses.is_empty() {
        steps.push(item(md!(
            "**Network Listener IP Addresses**: **External**, all addresses; **Next**, **Finish**."
        )));
    } else {
        let ips: Vec<Md> = addresses.iter().map(|a| md!(C(a))).collect();
        steps.push(item(md!(
            "**Network Listener IP Addresses**: **External** > **Address** > **Specified IP addresses** ",
            Md::join(&ips, ", "),
            "; **Next**, **Finish**."
        )));
    }
    if let Some(d) = description {
        steps.push(item(md!(
            "Rule **Properties** > **General** > **Description**: ",
            C(d),
            "; **OK**."
        )));
    }
    steps.push(item(md!(
        "Check that no web publishing rule and no web listener answer the same address on port 443 (one of them would take the connection and terminate TLS); **Apply**."
    )));
    c.by_hand = vec![Block::Steps(steps)];
    c.notes.push(md!(
        "No TMG computer-account delegation and no user rights on TMG are needed for this rule."
    ));
    c.notes.push(md!(
        "Replacing a TMG web publishing rule that authenticated the certificate and delegated to the EAS server: (1) create this rule and disable the old web publishing rule (rollback: re-enable it and disable this one); (2) remove TMG's delegation to the EAS server's SPN from the TMG computer account (rollback: add it back); (3) leave the EAS server on Kerberos (Windows authentication, client certificates ignored). Keep that order and test a device after each step."
    ));
    c.verify = vec![Block::Steps(vec![item(md!(
        "From a device on the Internet, the certificate shown for the public name is the one installed on ",
        C(published_server),
        " (not a TMG listener certificate), and TMG **Monitoring** > **Logging** shows the rule ",
        C(name),
        " allowing the connection."
    ))])];
    c.rollback = vec![Block::Steps(vec![item(md!(
        "Disable or delete the rule ",
        C(name),
        " (and re-enable the rule it replaces, if any); **Apply**."
    ))])];
    c
}

fn ws1_authority(op: &Operation, cx: &Cx) -> Content {
    let Action::Ws1Authority {
        ca_type,
        ca_name,
        url,
        challenge,
        credentials,
        account,
        ..
    } = &op.action
    else {
        return Content::default();
    };
    let adcs = ca_type == "adcs";
    let mut c = Content {
        does: md!(
            "Adds the certificate authority ",
            C(ca_name),
            " to Workspace ONE UEM (",
            if adcs { "Microsoft ADCS" } else { "Generic SCEP" },
            ", ",
            C(url),
            ")."
        ),
        ..Content::default()
    };
    let mut steps = vec![
        item(md!(
            "Log on to the Workspace ONE UEM console as an administrator: **Devices** > **Certificates** > **Certificate Authorities** > **Add**."
        )),
        item(md!(
            "**Authority Type**: **",
            if adcs { "Microsoft ADCS" } else { "Generic SCEP" },
            "** (choose it before anything else)."
        )),
        item(md!("**Certificate Authority** (name): ", C(ca_name), "; **Description**: your choice.")),
    ];
    if adcs {
        steps.push(item(md!("**Protocol**: **ADCS**.")));
        steps.push(item(md!(
            "**Server Hostname**: ",
            C(url),
            " (the trailing `/` is required)."
        )));
        steps.push(item(md!(
            "**Authority Name**: ",
            C(ca_name),
            " (as the Certification Authority console shows it)."
        )));
        steps.push(item(md!("**Authentication**: **Service Account**.")));
        steps.push(item(md!(
            "**Username**: ",
            C(account.as_deref().unwrap_or("the AD CS service account")),
            "."
        )));
        steps.push(item(match credentials {
            Some(s) => md!(
                "**Password**: the secret ",
                C(&s.name),
                " from your vault (type it; never paste it into a ticket)."
            ),
            None => md!("**Password**: the service account's password from your vault."),
        }));
        steps.push(item(md!("**Save**.")));
    } else {
        steps.push(item(md!("**SCEP URL**: ", C(url), " (it must end with `/`).")));
        steps.push(item(match challenge {
            Some(s) => md!(
                "**Challenge Type**: **Static**; **Static Challenge**: the secret ",
                C(&s.name),
                " from your vault."
            ),
            None => md!("**Challenge Type**: **No Challenge**."),
        }));
        steps.push(item(md!(
            "**Test Connection** first: **Save** before testing shows *Test is unsuccessful*. Then **Save**."
        )));
    }
    c.by_hand = vec![Block::Steps(steps)];
    c.verify = vec![Block::Steps(vec![item(if adcs {
        md!("The authority is listed under **Certificate Authorities**; the device test later shows a certificate issued by ", C(ca_name), ".")
    } else {
        md!("**Test Connection** reports success and the authority is listed under **Certificate Authorities**.")
    })])];
    c.rollback = vec![Block::Steps(vec![item(md!(
        "After its templates and profiles are gone: **Certificate Authorities** > ",
        C(ca_name),
        " > **Delete**."
    ))])];
    let _ = cx;
    c
}

fn key_type(k: &str) -> &'static str {
    match k {
        "signing" => "Signing",
        "encryption" => "Encryption",
        _ => "Signing & Encryption",
    }
}

fn san_type(t: &str) -> &'static str {
    match t {
        "email" => "Email",
        "upn" => "User Principal Name",
        _ => "DNS Name",
    }
}

fn ws1_template(op: &Operation, cx: &Cx) -> Content {
    let Action::Ws1Template {
        name,
        authority,
        subject,
        key_size,
        key_type: kt,
        san,
        eku,
        ca_template,
        auto_renew,
        renewal_days,
        revoke_on_unenroll,
        publish_private_key,
        force_key_generation_on_device,
    } = &op.action
    else {
        return Content::default();
    };
    let adcs = cx.ir.operations.iter().any(|o| {
        matches!(&o.action, Action::Ws1Authority { ca_name, ca_type, .. } if ca_name == authority && ca_type == "adcs")
    });
    let mut c = Content {
        does: md!(
            "Adds the request template ",
            C(name),
            " for ",
            C(authority),
            ": subject ",
            C(subject),
            ", ",
            N(u64::from(*key_size)),
            "-bit key, SAN ",
            T(&san.iter().map(|(t, _)| san_type(t)).collect::<Vec<_>>().join(" and ")),
            "."
        ),
        ..Content::default()
    };
    let mut steps = vec![
        item(md!(
            "**Devices** > **Certificates** > **Certificate Authorities** > **Request Templates** > **Add**."
        )),
        item(md!("**Name**: ", C(name), "; **Description**: your choice.")),
        item(md!("**Certificate Authority**: ", C(authority), ".")),
        item(md!(
            "**Subject Name**: ",
            C(subject),
            " (the `{…}` parts are Workspace ONE lookup values)."
        )),
        item(md!(
            "**Private Key Length**: ",
            N(u64::from(*key_size)),
            " (it must match the CA's certificate template)."
        )),
        item(md!("**Private Key Type**: **", T(key_type(kt)), "**.")),
    ];
    for (t, v) in san {
        steps.push(item(md!("**SAN Type** > **Add**: ", T(san_type(t)), " = ", C(v), ".")));
    }
    if adcs {
        if let Some(t) = ca_template {
            steps.push(item(md!(
                "**Certificate Template**: ",
                C(t),
                " (the template's name on the CA)."
            )));
        }
    }
    if *auto_renew {
        steps.push(item(md!(
            "**Automatic Certificate Renewal**: selected; **Auto Renewal Period (days)**: ",
            N(renewal_days.unwrap_or(30)),
            "."
        )));
    } else {
        steps.push(item(md!("**Automatic Certificate Renewal**: cleared.")));
    }
    steps.push(item(md!(
        "**Enable Certificate Revocation**: ",
        if *revoke_on_unenroll { "selected" } else { "cleared" },
        "."
    )));
    steps.push(item(md!(
        "**Publish Private Key**: ",
        if *publish_private_key {
            "selected"
        } else {
            "cleared (it is for Lotus Domino only)"
        },
        "."
    )));
    if adcs {
        steps.push(item(md!(
            "**Force Key Generation on Device** (iOS only): ",
            if *force_key_generation_on_device {
                "selected"
            } else {
                "cleared"
            },
            "."
        )));
    }
    steps.push(item(md!("**Save**.")));
    c.by_hand = vec![Block::Steps(steps)];
    let mut ndes_template = None;
    if !adcs {
        if let Some(t) = ca_template {
            // NDES picks the template by the request's key usage (review S4-2).
            let value = match kt.as_str() {
                "signing" => "SignatureTemplate",
                "encryption" => "EncryptionTemplate",
                _ => "GeneralPurposeTemplate",
            };
            c.notes.push(md!(
                "NDES chooses the AD CS template itself, by the request's key usage: it issues a ",
                T(key_type(kt)),
                " request from the template named in the registry value ",
                C(value),
                " of `HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP` (signing: `SignatureTemplate`, encryption: `EncryptionTemplate`, both: `GeneralPurposeTemplate`). It must be ",
                C(t),
                "."
            ));
            ndes_template = Some(
                run(
                    md!("On the NDES server, in an elevated prompt:"),
                    bat(format!(
                        "reg query HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP /v {value}"
                    )),
                )
                .expect(md!(
                    "`",
                    T(value),
                    "    REG_SZ    ",
                    T(t),
                    "`; if not, set it with `reg add` (same path, `/t REG_SZ /d ",
                    T(t),
                    " /f`) and recycle the **SCEP** application pool"
                )),
            );
        }
    }
    if eku.iter().any(|e| e == "client_auth") {
        c.notes.push(md!(
            "The issued certificate must carry **Client Authentication** in its Enhanced Key Usage: the CA's certificate template provides it."
        ));
    }
    c.verify = vec![Block::Para(md!(
        "The device test in the Verification phase checks the issued certificate: the subject, Email and UPN in the SAN, Client Authentication in the EKU."
    ))];
    if let Some(check) = ndes_template {
        c.verify.push(Block::Steps(vec![check]));
    }
    c.rollback = vec![Block::Steps(vec![item(md!(
        "After the profiles that use it are gone: **Request Templates** > ",
        C(name),
        " > **Delete**."
    ))])];
    c
}

fn platform(p: &str) -> &'static str {
    match p {
        "ios" => "Apple iOS",
        "android" => "Android",
        "windows" => "Windows",
        _ => "Apple macOS",
    }
}

fn ws1_profile(op: &Operation) -> Content {
    let Action::Ws1Profile {
        name,
        platform: p,
        template,
        authority,
        account_name,
        host,
        use_ssl,
        use_smime,
        domain,
        username,
        email,
        trust,
    } = &op.action
    else {
        return Content::default();
    };
    let mut c = Content {
        does: md!(
            "Creates the ",
            T(platform(p)),
            " profile ",
            C(name),
            ": a Credentials payload from ",
            C(authority),
            " / ",
            C(template),
            ", then an Exchange ActiveSync payload for ",
            C(host),
            " that authenticates with that certificate."
        ),
        ..Content::default()
    };
    let lookup = |v: &Option<String>| v.clone().unwrap_or_default();
    let roots: Vec<Item> = trust
        .iter()
        .map(|r| {
            item(md!(
                "**Credentials** > **+** (one more credential): **Credential Source** **Upload**; **Certificate** the file ",
                C(&r.file),
                " (",
                T(r.common_name.as_deref().unwrap_or(&r.authority)),
                "): the device installs it as a trusted root."
            ))
        })
        .collect();
    let mut steps = vec![
        item(md!("**Devices** > **Profiles** > **List View** > **Add** > **Add Profile** > **", T(platform(p)), "**.")),
        item(md!("**General**: **Name** ", C(name), "; assign the smart groups of the users in scope.")),
        item(md!(
            "**Credentials** > **Configure**: **Credential Source** **Defined Certificate Authority**; **Certificate Authority** ",
            C(authority),
            "; **Certificate Template** ",
            C(template),
            "."
        )),
    ];
    steps.extend(roots);
    steps.extend([
        item(md!(
            "**Exchange ActiveSync** > **Configure** (after the Credentials payload): **Account Name** ",
            C(account_name),
            "; **Exchange ActiveSync Host** ",
            C(host),
            " (no `https://`, no `/Microsoft-Server-ActiveSync`); **Use SSL** ",
            if *use_ssl { "selected" } else { "cleared" },
            "; **Use S/MIME** ",
            if *use_smime { "selected" } else { "cleared" },
            "."
        )),
        item(md!(
            "**Domain** ",
            C(&lookup(domain)),
            "; **Username** ",
            C(&lookup(username)),
            "; **Email Address** ",
            C(&lookup(email)),
            "; **Payload Certificate**: the credential from ",
            C(template),
            "."
        )),
        item(md!("**Save and Publish**.")),
    ]);
    c.by_hand = vec![Block::Steps(steps)];
    if !use_ssl {
        c.notes.push(md!("Certificate authentication fails without SSL."));
    }
    let mut view_xml = md!(
        "**Devices** > **Profiles** > **List View** > ",
        C(name),
        " > **View XML**: the Exchange payload names ",
        C(host),
        " and the certificate payload is present."
    );
    if p == "ios" {
        // The workspace-one target writes the same profile; its path is fixed by the backend.
        let path = format!(
            "workspace-one/{}/profiles/{}.mobileconfig",
            crate::backend::sanitize_component(&op.host),
            crate::backend::sanitize_component(name)
        );
        view_xml.push(&md!(
            " It matches ",
            C(&path),
            " of the `workspace-one` target: same Host, SSL and credential payload (the console adds the SCEP challenge or the issued identity)."
        ));
    }
    c.verify = vec![Block::Steps(vec![item(view_xml)])];
    c.rollback = vec![Block::Steps(vec![item(md!(
        "Deactivate or delete the profile ",
        C(name),
        ": the mail account and the certificate are removed from the devices."
    ))])];
    c
}

fn manual(steps: &[String]) -> Content {
    Content {
        does: Md::default(),
        by_hand: vec![Block::Steps(steps.iter().map(|s| item(md!(IrText(s)))).collect())],
        ..Content::default()
    }
}

/// The first line of a check: open a URL, run a command, or do what the sentence says.
fn check_action(command: &str) -> Md {
    if command.starts_with("https://") || command.starts_with("http://") {
        let (url, rest) = command.split_once(' ').unwrap_or((command, ""));
        return md!("Open ", C(url), " ", IrText(rest), ".");
    }
    let looks_like_a_command = command.starts_with(|c: char| c.is_ascii_lowercase())
        && (command.contains(" -") || command.contains(" /"))
        && command.split_whitespace().count() <= 8;
    if looks_like_a_command {
        md!("Run ", C(command), ".")
    } else {
        md!(IrText(command), ".")
    }
}

fn check(op: &Operation, command: &str, expect: &str) -> Content {
    let mut c = Content::default();
    let mut items: Vec<Item> = vec![item(check_action(command)).expect(md!(IrText(expect)))];
    if op.id.starts_with("test-browser/") {
        items.push(item(md!(
            "On the error page, the logged-on user is the mapped user, not Anonymous."
        )));
        items.push(item(md!(
            "Then an ActiveSync test client (or one device configured by hand) with the user's certificate and an empty password: the sync succeeds."
        )));
        c.notes.push(md!(
            "HTTP 505 here is expected and fine: the browser is not an ActiveSync client."
        ));
    } else if op.id.starts_with("test-device/") {
        items.push(item(md!(
            "In the device's list of installed profiles (on iOS: **Settings** > **General** > **VPN & Device Management**), the certificate is present; open it and check **Subject Alternative Name** (Email and Principal Name) and **Enhanced Key Usage** (Client Authentication)."
        )));
        items.push(item(md!(
            "On the CA, **certsrv.msc** > **Issued Certificates**: the last certificate has the template's subject."
        )));
    }
    c.verify = vec![Block::Steps(items)];
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmd_arguments_are_quoted_when_needed() {
        assert_eq!(arg("http/eas01.corp.contoso.com"), "http/eas01.corp.contoso.com");
        assert_eq!(arg("CONTOSO\\EAS01$"), "CONTOSO\\EAS01$");
        assert_eq!(arg("a b"), "\"a b\"");
        assert_eq!(arg("x\"&del"), "\"x\"\"&del\"");
    }
}
