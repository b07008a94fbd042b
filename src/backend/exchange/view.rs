//! The view model the templates see: one [`Script`] per host and phase. Every decision is
//! made here (which template, which parameters exist in the unit's Exchange version, how a
//! value is spelled); the templates only lay the script out. Strings stay raw: the templates
//! quote each one with `psq` (see `quote.rs`), never here.

use super::oracle::{self, Support};
use crate::backend::certreq::{crypto_dn, inf_lines, InfRequest};
use crate::ir::{Action, EasAuth, ExchangeVersion, Gate, Host, HostKind, Ir, Operation, Phase, Store};
use serde::Serialize;

/// One generated script.
#[derive(Debug, Serialize)]
pub(crate) struct Script {
    /// Unit id.
    pub(crate) unit: String,
    /// Organization display name.
    pub(crate) organization: String,
    /// Host id and FQDN, for people.
    pub(crate) host_label: String,
    /// NetBIOS computer name the script must run on (declared servers only).
    pub(crate) computer_name: Option<String>,
    /// Product the Exchange cmdlets are checked against; none when the script uses none
    /// (a domain controller's, a SEG's or a TMG server's steps).
    pub(crate) product: Option<&'static str>,
    /// `NN-slug`.
    pub(crate) step: String,
    /// Phase title.
    pub(crate) phase_title: &'static str,
    /// Source files of the operations, in first-use order.
    pub(crate) sources: Vec<String>,
    /// What must hold before running it, for the header.
    pub(crate) requirements: Vec<String>,
    /// Script parameters, by kind (`host`, `files`, `approval`, `credentials`), in order.
    pub(crate) params: Vec<&'static str>,
    /// Which helpers and preambles the script needs.
    pub(crate) needs: Needs,
    /// The operations, in IR order.
    pub(crate) ops: Vec<OpView>,
}

/// Helpers and preambles a script needs.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Needs {
    /// `-FilesRoot` and `Resolve-MailsecPath`.
    pub(crate) files: bool,
    /// `Assert-MailsecGate`.
    pub(crate) gate: bool,
    /// `ConvertTo-MailsecDnKey`.
    pub(crate) dn: bool,
    /// `ConvertTo-MailsecSet` and `Test-MailsecSame`.
    pub(crate) compare: bool,
    /// `Get-MailsecCredential`.
    pub(crate) credentials: bool,
    /// `Get-MailsecRightHolders`.
    pub(crate) user_rights: bool,
    /// `Assert-MailsecSpnUnique`.
    pub(crate) spn: bool,
    /// The on-premises Exchange Management Shell.
    pub(crate) exchange: bool,
    /// An Exchange Online session.
    pub(crate) online: bool,
    /// The tenant's initial domain, checked after connecting.
    pub(crate) tenant: Option<String>,
    /// The ActiveDirectory module.
    pub(crate) active_directory: bool,
    /// `Get-MailsecIssuedCertificate`.
    pub(crate) issued: bool,
    /// `Get-MailsecInternalTransportThumbprint`.
    pub(crate) internal_tls: bool,
    /// `ConvertTo-MailsecBytes`.
    pub(crate) bytes: bool,
}

/// One operation.
#[derive(Debug, Serialize)]
pub(crate) struct OpView {
    /// 1-based position in the script.
    pub(crate) number: usize,
    /// IR id.
    pub(crate) id: String,
    /// One line.
    pub(crate) summary: String,
    /// `file:line`.
    pub(crate) source: String,
    /// The gate in front of it.
    pub(crate) gate: Option<GateView>,
    /// Template name.
    pub(crate) template: &'static str,
    /// Template data.
    pub(crate) a: ActionView,
}

/// A gate: a date, an approval, or both.
#[derive(Debug, Serialize)]
pub(crate) struct GateView {
    /// `YYYY-MM-DD`.
    pub(crate) date: Option<String>,
    /// What must be confirmed with `-Approved`.
    pub(crate) approval: Option<String>,
}

/// A PowerShell value, rendered by `psq`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub(crate) enum PsValue {
    /// A string literal.
    Str(String),
    /// `$true` / `$false`.
    Bool(bool),
    /// A number.
    Int(u64),
    /// `@('a', 'b')`.
    List(Vec<String>),
    /// A variable the script set before (`$name`), for values known only at run time.
    Var {
        /// The variable's name, without `$`.
        var: &'static str,
    },
}

impl PsValue {
    /// The strings a value-set check looks at.
    fn words(&self) -> Vec<String> {
        match self {
            PsValue::Str(s) => vec![s.clone()],
            PsValue::Bool(b) => vec![if *b { "$true" } else { "$false" }.to_string()],
            PsValue::Int(n) => vec![n.to_string()],
            PsValue::List(l) => l.clone(),
            PsValue::Var { var } => vec![format!("${var}")],
        }
    }
}

impl From<&str> for PsValue {
    fn from(s: &str) -> Self {
        PsValue::Str(s.to_string())
    }
}

impl From<String> for PsValue {
    fn from(s: String) -> Self {
        PsValue::Str(s)
    }
}

impl From<bool> for PsValue {
    fn from(b: bool) -> Self {
        PsValue::Bool(b)
    }
}

impl From<Vec<String>> for PsValue {
    fn from(l: Vec<String>) -> Self {
        PsValue::List(l)
    }
}

/// One `-Name value` (or a switch, `value` none).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Param {
    /// Parameter name, without `-`.
    pub(crate) name: String,
    /// Value; none for a switch.
    pub(crate) value: Option<PsValue>,
}

/// A cmdlet call whose parameters were checked against the cmdlet reference.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Call {
    /// Cmdlet name.
    pub(crate) cmdlet: &'static str,
    /// Parameters that exist in the version, in order.
    pub(crate) params: Vec<Param>,
    /// Why an intended parameter was left out.
    pub(crate) notes: Vec<String>,
    #[serde(skip)]
    version: ExchangeVersion,
}

impl Call {
    fn new(cmdlet: &'static str, version: ExchangeVersion) -> Self {
        Call {
            cmdlet,
            params: Vec::new(),
            notes: Vec::new(),
            version,
        }
    }

    /// Adds `-name value` if the parameter exists in the version and accepts the value;
    /// otherwise records why it was left out.
    fn arg(&mut self, name: &str, value: impl Into<PsValue>) -> Result<&mut Self, String> {
        let value = value.into();
        match oracle::parameter(self.cmdlet, name, self.version)? {
            Support::NotInVersion => self.notes.push(format!(
                "{} -{name} does not exist in {}; not set (intended: {})",
                self.cmdlet,
                self.version.product(),
                value.words().join(", ")
            )),
            Support::Yes { switch: true, .. } => {
                return Err(format!("{} -{name} is a switch, not a valued parameter", self.cmdlet))
            }
            Support::Yes { values, .. } => {
                let bad: Vec<String> = value
                    .words()
                    .into_iter()
                    .filter(|w| !values.is_empty() && !values.iter().any(|v| v.eq_ignore_ascii_case(w)))
                    .collect();
                if bad.is_empty() {
                    self.params.push(Param {
                        name: name.to_string(),
                        value: Some(value),
                    });
                } else {
                    self.notes.push(format!(
                        "{} -{name} does not accept {} (accepted: {}); not set",
                        self.cmdlet,
                        bad.join(", "),
                        values.join(", ")
                    ));
                }
            }
        }
        Ok(self)
    }

    /// Adds `-name value` when there is a value.
    fn opt(&mut self, name: &str, value: Option<impl Into<PsValue>>) -> Result<&mut Self, String> {
        match value {
            Some(v) => self.arg(name, v),
            None => Ok(self),
        }
    }

    /// Adds a switch if it exists in the version.
    fn switch(&mut self, name: &str) -> Result<&mut Self, String> {
        match oracle::parameter(self.cmdlet, name, self.version)? {
            Support::Yes { switch: true, .. } => self.params.push(Param {
                name: name.to_string(),
                value: None,
            }),
            Support::Yes { .. } => return Err(format!("{} -{name} is not a switch", self.cmdlet)),
            Support::NotInVersion => self.notes.push(format!(
                "{} -{name} does not exist in {}; not set",
                self.cmdlet,
                self.version.product()
            )),
        }
        Ok(self)
    }

    /// Whether a parameter made it in.
    fn has(&self, name: &str) -> bool {
        self.params.iter().any(|p| p.name == name)
    }
}

/// A property read back and compared with its intended value (order- and case-insensitive).
#[derive(Debug, Serialize)]
pub(crate) struct Compare {
    /// Property name.
    pub(crate) name: String,
    /// Intended value.
    pub(crate) value: PsValue,
    /// Values the read-back may contain beyond the intent (Exchange adds `Custom` to
    /// `PermissionGroups` when explicit permissions exist).
    pub(crate) ignore: Vec<String>,
    /// Compare only the address of `Type:Address;Cost` address spaces.
    pub(crate) address_only: bool,
}

impl Compare {
    fn new(name: &str, value: impl Into<PsValue>) -> Self {
        Compare {
            name: name.to_string(),
            value: value.into(),
            ignore: Vec::new(),
            address_only: false,
        }
    }
}

/// Template data per action.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum ActionView {
    /// Trust a CA certificate.
    Trust {
        /// Authority name.
        authority: String,
        /// CA certificate file.
        file: Option<String>,
        /// Declared common name.
        common_name: Option<String>,
        /// `Cert:\LocalMachine\Root` or `\CA`.
        store_path: &'static str,
        /// `LocalMachine\Root` or `\CA`.
        store_label: &'static str,
        /// certutil store name.
        certutil_store: &'static str,
        /// The issued certificate this CA arrives with: checked by chain, not by name.
        issued_file: Option<String>,
    },
    /// Publish to NTAuth, or verify NTAuth membership for UPN mapping.
    NtAuth {
        /// Authority name.
        authority: String,
        /// CA certificate file.
        file: Option<String>,
        /// Declared common name.
        common_name: Option<String>,
    },
    /// CRL reachability.
    Cdp {
        /// Authority name.
        authority: String,
        /// CRL URLs.
        urls: Vec<String>,
    },
    /// A certificate request, import, enablement or SMTP check.
    Certificate {
        /// Certificate name.
        certificate: String,
        /// Exchange server name (`-Server`).
        server: String,
        /// Subject DN as `-SubjectName` and certreq take it.
        subject: String,
        /// Request file (requests).
        request_file: String,
        /// Issued file (imports).
        file: String,
        /// The issued file is a PKCS #12 (needs a password).
        pfx: bool,
        /// Whether the private key stays exportable (PKCS #12 imports).
        exportable: bool,
        /// Partner reference number.
        reference: Option<String>,
        /// The cmdlet call (requests, enablement).
        call: Option<Call>,
        /// certreq INF lines (requests on non-Exchange hosts).
        inf: Vec<String>,
        /// Enabled for SMTP (keep the internal transport certificate).
        smtp: bool,
        /// Enabled for IIS on purpose.
        iis: bool,
        /// The connector FQDN the SMTP certificate must answer for, when a receive
        /// connector uses it.
        fqdn: Option<String>,
        /// That FQDN is the common name of the issued certificate, read at run time.
        fqdn_from_issued: bool,
    },
    /// A receive or send connector.
    Connector {
        /// Connector name.
        name: String,
        /// Exchange server (receive connectors).
        server: Option<String>,
        /// `SERVER\Name` (receive connectors).
        identity: String,
        /// Creation.
        create: Call,
        /// Update of everything but smart-host authentication.
        update: Call,
        /// Read-back comparison driving the update.
        compare: Vec<Compare>,
        /// Smart-host authentication update (send connectors with smart hosts).
        auth: Option<Call>,
        /// Intended `SmartHostAuthMechanism`.
        auth_mechanism: String,
        /// Secret reference name of the smart-host credential.
        credential: Option<String>,
        /// The issued certificate whose common name is the HELO/EHLO FQDN (`$connectorFqdn`).
        fqdn_file: Option<String>,
        /// The FQDN the request asked for (used under -WhatIf before the file exists).
        fqdn_requested: String,
        /// The issued certificate whose issuer and subject are the send connector's
        /// TlsCertificateName (`$tlsCertificateName`).
        tls_file: Option<String>,
    },
    /// Cost change of an existing send connector.
    Cost {
        /// Connector name.
        name: String,
        /// New cost.
        cost: u32,
        /// `;cost`.
        suffix: String,
    },
    /// Restart a service.
    Restart {
        /// Service name.
        service: String,
        /// Host, for messages.
        host: String,
    },
    /// Read a connector back.
    Verify {
        /// Send (true) or receive.
        send: bool,
        /// Connector name.
        name: String,
        /// Exchange server (receive connectors).
        server: Option<String>,
        /// Expected properties.
        expect: Vec<Compare>,
        /// The issued certificate whose common name is the HELO/EHLO FQDN (`$connectorFqdn`).
        fqdn_file: Option<String>,
        /// The FQDN the request asked for.
        fqdn_requested: String,
    },
    /// Remove a connector.
    Remove {
        /// Send (true) or receive.
        send: bool,
        /// Connector name.
        name: String,
        /// Exchange server (receive connectors), when declared.
        server: Option<String>,
        /// Where the settings are saved before removal (the runbook's rollback reads it).
        saved: String,
    },
    /// Upload the S/MIME SST.
    Smime {
        /// The SST file.
        sst_file: String,
        /// Whether Set-SmimeConfig exists for the target.
        supported: bool,
        /// Where it goes (for messages).
        target: String,
        /// Product (for the refusal message).
        product: &'static str,
    },
    /// A user's published S/MIME certificate.
    UserSmime {
        /// Recipient identity.
        user: String,
        /// Hybrid: `UserCertificate` counts as well as `UserSMimeCertificate`.
        either: bool,
        /// The uploaded store whose CAs must have issued it.
        sst_file: Option<String>,
    },
    /// ActiveSync virtual directory authentication.
    ActiveSync {
        /// `SERVER\Microsoft-Server-ActiveSync (site)`.
        identity: String,
        /// Read-back comparison.
        compare: Vec<Compare>,
        /// The update.
        update: Call,
        /// Declared auth mode, for messages.
        mode: &'static str,
    },
    /// `setspn -S`.
    Spn {
        /// `http/host`.
        spn: String,
        /// `DOMAIN\account`.
        account: String,
    },
    /// Alternate service account.
    Asa {
        /// Computer account name without `$`.
        name: String,
        /// sAMAccountName (`NAME$`).
        sam: String,
        /// `DOMAIN\NAME$`.
        account: String,
        /// Array FQDN.
        array_fqdn: String,
        /// Members' FQDNs.
        members: Vec<String>,
        /// `Get-ClientAccessServer` (2010, 2013) or `Get-ClientAccessService` (2016+).
        status_cmdlet: &'static str,
        /// RollAlternateServiceAccountPassword.ps1 invocations, in order.
        rolls: Vec<Vec<Param>>,
        /// Rolled to the members of a 2010 Client Access array (by its name, `$casArrayName`).
        array: bool,
    },
    /// Constrained delegation.
    Delegation {
        /// sAMAccountName of the delegating computer.
        account: String,
        /// SPNs to allow (both `http/fqdn` and `http/SHORT`).
        spns: Vec<String>,
        /// Protocol transition.
        protocol_transition: bool,
    },
    /// Local user rights.
    Rights {
        /// Identity.
        identity: String,
        /// Rights.
        rights: Vec<String>,
        /// A built-in service account (Network Service, Local Service, System): its logon
        /// session, which carries the rights, is made at start-up, so only a restart of the
        /// server applies them; a virtual or domain account gets them when its process starts.
        restart_server: bool,
    },
    /// A check: the SPN duplicate scan, or a manual check printed for the operator.
    Check {
        /// What to run or open.
        command: String,
        /// What a pass looks like.
        expect: String,
        /// The SPNs this change registers (the duplicate scan checks each with `-Q -F`).
        spns: Vec<String>,
    },
}

/// What SPN and delegation changes need.
const DOMAIN_ADMINS: &str = "Domain Admins rights (servicePrincipalName and delegation changes)";

/// The template for each kind of view, and the data.
type Built = (&'static str, ActionView);

/// What an operation needs from its file, collected while building.
struct Ctx<'a> {
    ir: &'a Ir,
    host: &'a Host,
    version: ExchangeVersion,
    needs: Needs,
    requirements: Vec<String>,
}

impl Ctx<'_> {
    fn require(&mut self, r: String) {
        if !self.requirements.contains(&r) {
            self.requirements.push(r);
        }
    }

    fn exchange_shell(&mut self) {
        self.needs.exchange = true;
        let r = format!("the Exchange Management Shell of {}", self.version.product());
        self.require(r);
    }

    fn ad_module(&mut self) {
        self.needs.active_directory = true;
        self.require("the ActiveDirectory PowerShell module (RSAT-AD-PowerShell)".into());
    }
}

/// The Exchange version a host's cmdlets are checked against.
pub(crate) fn version_of(ir: &Ir, host: &Host) -> ExchangeVersion {
    if host.kind == HostKind::ExchangeOnline {
        ExchangeVersion::Online
    } else {
        ir.organization.exchange
    }
}

/// The first DNS label: Exchange's server name, and the NetBIOS computer name (at most 15
/// characters).
fn short_name(fqdn: &str) -> &str {
    fqdn.split('.').next().unwrap_or(fqdn)
}

fn exchange_name(host: &Host) -> String {
    host.fqdn
        .as_deref()
        .map_or_else(|| host.id.clone(), |f| short_name(f).to_string())
}

/// Whether a server runs Exchange (so `*-ExchangeCertificate` exist there).
fn runs_exchange(host: &Host) -> bool {
    host.kind == HostKind::Server
        && host.roles.iter().any(|r| {
            matches!(
                r.as_str(),
                "hub_transport" | "client_access" | "mailbox" | "edge" | "eas"
            )
        })
}

/// A path from the intent, with Windows separators.
fn win_path(p: &str) -> String {
    p.replace('/', "\\")
}

/// `[Type:]Space;Cost`, type SMTP unless given.
pub(crate) fn address_space(space: &str, cost: u32) -> String {
    if space.contains(';') {
        return space.to_string();
    }
    let typed = if space.contains(':') {
        space.to_string()
    } else {
        format!("SMTP:{space}")
    };
    format!("{typed};{cost}")
}

/// A size as Exchange's `ByteQuantifiedSize` parses it (plain digits are bytes).
fn size_literal(bytes: u64) -> String {
    const KB: u64 = 1024;
    for (unit, factor) in [("GB", KB * KB * KB), ("MB", KB * KB), ("KB", KB)] {
        if bytes >= factor && bytes.is_multiple_of(factor) {
            return format!("{}{unit}", bytes / factor);
        }
    }
    bytes.to_string()
}

/// `http/host.domain` and, for a declared server (whose computer account answers for its
/// short name too), `http/HOST`, each once, in that order. An array name held by an
/// alternate service account is registered in its FQDN form only, so only that is delegated.
fn spn_forms(spns: &[String], servers: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for spn in spns {
        let mut forms = vec![spn.clone()];
        if let Some((service, host)) = spn.split_once('/') {
            let host = host.split(':').next().unwrap_or(host);
            if host.contains('.') && servers.iter().any(|s| s.eq_ignore_ascii_case(host)) {
                forms.push(format!("{service}/{}", short_name(host).to_ascii_uppercase()));
            }
        }
        for f in forms {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&f)) {
                out.push(f);
            }
        }
    }
    out
}

/// Builds one script's view.
pub(crate) fn script(ir: &Ir, host: &Host, phase: Phase, ops: &[&Operation]) -> Result<Script, String> {
    let version = version_of(ir, host);
    let mut cx = Ctx {
        ir,
        host,
        version,
        needs: Needs::default(),
        requirements: Vec::new(),
    };
    let computer_name = (host.kind == HostKind::Server)
        .then(|| host.fqdn.as_deref().map(|f| short_name(f).to_ascii_uppercase()))
        .flatten()
        .map(|n| n.chars().take(15).collect::<String>());
    match host.kind {
        HostKind::Server => cx.require(format!(
            "run it on {} as a local administrator",
            host.fqdn.as_deref().unwrap_or(&host.id)
        )),
        HostKind::ActiveDirectory => {
            cx.require("run it on a domain-joined computer as a domain administrator".into());
        }
        _ => {}
    }
    let mut views = Vec::new();
    let mut sources: Vec<String> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let (template, a) = action(&mut cx, op)?;
        let gate = op.gate.as_ref().map(|g| match g {
            Gate::NotBefore { date } => GateView {
                date: Some(date.clone()),
                approval: None,
            },
            Gate::Approval { text } => GateView {
                date: None,
                approval: Some(text.clone()),
            },
            Gate::Both { date, text } => GateView {
                date: Some(date.clone()),
                approval: Some(text.clone()),
            },
        });
        if gate.is_some() {
            cx.needs.gate = true;
        }
        let file = op.source_file();
        if !file.is_empty() && !sources.iter().any(|s| s == file) {
            sources.push(file.to_string());
        }
        views.push(OpView {
            number: i + 1,
            id: op.id.clone(),
            summary: op.summary.clone(),
            source: file.to_string(),
            gate,
            template,
            a,
        });
    }
    let approval = views
        .iter()
        .any(|v| v.gate.as_ref().is_some_and(|g| g.approval.is_some()));
    let mut params = Vec::new();
    if computer_name.is_some() {
        params.push("host");
    }
    if cx.needs.files {
        params.push("files");
    }
    if approval {
        params.push("approval");
    }
    if cx.needs.credentials {
        params.push("credentials");
    }
    Ok(Script {
        unit: ir.unit.clone(),
        organization: ir.organization.name.clone(),
        host_label: match &host.fqdn {
            Some(f) => format!("{} ({f})", host.id),
            None => host.id.clone(),
        },
        computer_name,
        product: (cx.needs.exchange || cx.needs.online).then(|| version.product()),
        step: format!("{:02}-{}", phase.number(), phase.slug()),
        phase_title: phase.title(),
        sources,
        requirements: cx.requirements,
        params,
        needs: cx.needs,
        ops: views,
    })
}

/// The template and data of one operation.
#[allow(clippy::too_many_lines)]
fn action(cx: &mut Ctx<'_>, op: &Operation) -> Result<Built, String> {
    let v = cx.version;
    let server = exchange_name(cx.host);
    Ok(match &op.action {
        Action::TrustAuthority {
            authority,
            file,
            common_name,
            store,
        } => {
            cx.needs.files |= file.is_some();
            let root = *store == Store::Root;
            // A partner CA that arrives with an issued certificate (its trust waits for it).
            let issued_file = cx
                .ir
                .operations
                .iter()
                .filter(|o| op.depends_on.contains(&o.id))
                .find_map(|o| match &o.action {
                    Action::SubmitRequest { issued_file, .. } => Some(win_path(issued_file)),
                    _ => None,
                })
                .filter(|_| file.is_some());
            cx.needs.issued |= issued_file.is_some();
            (
                "trust_authority.ps1.j2",
                ActionView::Trust {
                    authority: authority.clone(),
                    file: file.as_deref().map(win_path),
                    common_name: common_name.clone(),
                    store_path: if root { "Cert:\\LocalMachine\\Root" } else { "Cert:\\LocalMachine\\CA" },
                    store_label: if root { "LocalMachine\\Root" } else { "LocalMachine\\CA" },
                    certutil_store: if root { "Root" } else { "CA" },
                    issued_file,
                },
            )
        }
        Action::PublishNtAuth {
            authority,
            file,
            common_name,
        } => {
            cx.needs.files |= file.is_some();
            cx.require("Enterprise Admins rights (certutil -dspublish writes to the configuration partition)".into());
            (
                "publish_ntauth.ps1.j2",
                ActionView::NtAuth {
                    authority: authority.clone(),
                    file: file.as_deref().map(win_path),
                    common_name: common_name.clone(),
                },
            )
        }
        Action::CheckCdp { authority, urls } => (
            "check_cdp.ps1.j2",
            ActionView::Cdp {
                authority: authority.clone(),
                urls: urls.clone(),
            },
        ),
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
        } => {
            cx.needs.files = true;
            cx.needs.dn = true;
            let dn = crypto_dn(subject);
            if runs_exchange(cx.host) {
                cx.exchange_shell();
                let mut call = Call::new("New-ExchangeCertificate", v);
                call.arg("Server", server.as_str())?
                    .switch("GenerateRequest")?
                    .arg("KeySize", PsValue::Int(u64::from(*key_size)))?
                    .arg("PrivateKeyExportable", *exportable)?
                    .arg("SubjectName", dn.as_str())?;
                if !domains.is_empty() {
                    call.arg("DomainName", domains.clone())?;
                }
                call.opt("FriendlyName", friendly_name.clone())?;
                let issued = issued_file(cx.ir, certificate).unwrap_or_default();
                cx.needs.issued |= !issued.is_empty();
                (
                    "request_certificate.ps1.j2",
                    certificate_view(certificate, &server, dn, request_file, &issued, reference.as_deref(), Some(call), Vec::new()),
                )
            } else {
                let inf = inf_lines(&InfRequest {
                    dn: &dn,
                    domains,
                    key_size: *key_size,
                    exportable: *exportable,
                    friendly_name: friendly_name.as_deref(),
                    eku,
                });
                (
                    "request_certificate_certreq.ps1.j2",
                    certificate_view(certificate, &server, dn, request_file, "", reference.as_deref(), None, inf),
                )
            }
        }
        Action::ImportCertificate {
            certificate,
            file,
            subject,
            exportable,
        } => {
            cx.needs.files = true;
            cx.needs.dn |= !runs_exchange(cx.host);
            let dn = crypto_dn(subject);
            let mut view = certificate_view(certificate, &server, dn, "", file, None, None, Vec::new());
            if let ActionView::Certificate { exportable: e, .. } = &mut view {
                *e = *exportable;
            }
            if runs_exchange(cx.host) {
                cx.exchange_shell();
                cx.needs.issued = true;
                ("import_certificate.ps1.j2", view)
            } else {
                cx.needs.issued = true;
                ("import_certificate_certreq.ps1.j2", view)
            }
        }
        Action::EnableCertificate {
            certificate,
            subject,
            services,
        } => {
            cx.needs.compare = true;
            cx.exchange_shell();
            let mut call = Call::new("Enable-ExchangeCertificate", v);
            call.arg("Services", services.clone())?;
            let file = issued_file(cx.ir, certificate).ok_or_else(|| format!("`{certificate}` is enabled but never imported"))?;
            cx.needs.files = true;
            cx.needs.issued = true;
            let smtp = services.iter().any(|s| s == "SMTP");
            cx.needs.internal_tls |= smtp;
            let mut view = certificate_view(certificate, &server, crypto_dn(subject), "", &file, None, Some(call), Vec::new());
            if let ActionView::Certificate { smtp: s, .. } = &mut view {
                *s = smtp;
            }
            ("enable_certificate.ps1.j2", view)
        }
        Action::VerifySmtpCertificate { certificate, subject } => {
            cx.needs.compare = true;
            cx.needs.files = true;
            cx.needs.issued = true;
            cx.exchange_shell();
            let file = issued_file(cx.ir, certificate).ok_or_else(|| format!("`{certificate}` is verified but never imported"))?;
            let iis = cx.ir.operations.iter().any(|o| {
                o.host == op.host
                    && matches!(&o.action, Action::EnableCertificate { certificate: c, services, .. } if c == certificate && services.iter().any(|s| s == "IIS"))
            });
            let (fqdn, from_issued) = connector_fqdn(cx.ir, &op.host, certificate);
            let mut view = certificate_view(certificate, &server, crypto_dn(subject), "", &file, None, None, Vec::new());
            if let ActionView::Certificate {
                iis: i,
                fqdn: f,
                fqdn_from_issued,
                ..
            } = &mut view
            {
                *i = iis;
                *f = fqdn;
                *fqdn_from_issued = from_issued;
            }
            ("verify_smtp_certificate.ps1.j2", view)
        }
        Action::ReceiveConnector {
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
        } => {
            cx.needs.compare = true;
            cx.exchange_shell();
            let identity = format!("{server_name}\\{name}");
            // Guide 9.0: the HELO/EHLO name is the CN *of the issued certificate*, read from
            // the returned file at run time (the issuer may rewrite the requested subject).
            let fqdn_file = fqdn_certificate.as_deref().and_then(|c| issued_file(cx.ir, c));
            let fqdn_value: Option<PsValue> = match (&fqdn_file, fqdn) {
                (Some(_), _) => Some(PsValue::Var { var: "connectorFqdn" }),
                (None, Some(f)) => Some(f.as_str().into()),
                (None, None) => None,
            };
            if fqdn_file.is_some() {
                cx.needs.files = true;
                cx.needs.issued = true;
            }
            let mut create = Call::new("New-ReceiveConnector", v);
            create
                .arg("Name", name.as_str())?
                .arg("Server", server_name.as_str())?
                .arg("Usage", usage.as_str())?;
            // On 2013 and later a Mailbox server's Front End Transport service owns port 25;
            // a Hub Transport connector bound there would collide with it.
            if bindings.iter().any(|b| b.ends_with(":25")) {
                if let Support::Yes { .. } = oracle::parameter("New-ReceiveConnector", "TransportRole", v)? {
                    create.arg("TransportRole", "FrontendTransport")?;
                }
            }
            let mut update = Call::new("Set-ReceiveConnector", v);
            update.arg("Identity", identity.as_str())?;
            let mut compare = Vec::new();
            for c in [&mut create, &mut update] {
                c.arg("Bindings", bindings.clone())?
                    .arg("RemoteIPRanges", remote_ips.clone())?
                    .arg("AuthMechanism", auth.clone())?
                    .arg("PermissionGroups", permission_groups.clone())?
                    .opt("Fqdn", fqdn_value.clone())?
                    .arg("RequireTLS", *require_tls)?
                    .opt("MaxMessageSize", max_message_size.map(size_literal))?;
            }
            compare.push(Compare::new("Bindings", bindings.clone()));
            compare.push(Compare::new("RemoteIPRanges", remote_ips.clone()));
            compare.push(Compare::new("AuthMechanism", auth.clone()));
            let mut groups = Compare::new("PermissionGroups", permission_groups.clone());
            if !permission_groups.iter().any(|g| g == "Custom") {
                groups.ignore.push("Custom".into());
            }
            compare.push(groups);
            if let Some(f) = fqdn_value {
                compare.push(Compare::new("Fqdn", f));
            }
            compare.push(Compare::new("RequireTLS", *require_tls));
            if let Some(m) = max_message_size {
                compare.push(Compare::new("MaxMessageSize", PsValue::Int(*m)));
            }
            if let Some(d) = tls_domain {
                create.notes.push(format!(
                    "tls_domain {d} is not applied: TlsDomainCapabilities takes `domain:capability`, and the intent names no capability"
                ));
            }
            (
                "receive_connector.ps1.j2",
                ActionView::Connector {
                    name: name.clone(),
                    server: Some(server_name.clone()),
                    identity,
                    create,
                    update,
                    compare,
                    auth: None,
                    auth_mechanism: String::new(),
                    credential: None,
                    fqdn_file,
                    fqdn_requested: fqdn.clone().unwrap_or_default(),
                    tls_file: None,
                },
            )
        }
        Action::SendConnector {
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
        } => {
            cx.needs.compare = true;
            cx.exchange_shell();
            let spaces: Vec<String> = address_spaces.iter().map(|s| address_space(s, *cost)).collect();
            let routed = !smart_hosts.is_empty();
            // TlsCertificateName must match the certificate's issuer and subject exactly as
            // Windows writes them; they are read from the issued certificate at run time.
            let tls_file = match tls_certificate {
                Some(c) => Some(
                    issued_file(cx.ir, c)
                        .ok_or_else(|| format!("send connector `{name}`: certificate `{c}` is never imported"))?,
                ),
                None => None,
            };
            if tls_file.is_some() {
                cx.needs.files = true;
                cx.needs.issued = true;
            }
            let tls_name = tls_file.as_ref().map(|_| PsValue::Var {
                var: "tlsCertificateName",
            });
            let mut create = Call::new("New-SendConnector", v);
            create.arg("Name", name.as_str())?.arg("Usage", usage.as_str())?;
            let mut update = Call::new("Set-SendConnector", v);
            update.arg("Identity", name.as_str())?;
            let mut compare = Vec::new();
            for (i, c) in [&mut create, &mut update].into_iter().enumerate() {
                c.arg("AddressSpaces", spaces.clone())?;
                if routed {
                    c.arg("SmartHosts", smart_hosts.clone())?.arg("DNSRoutingEnabled", false)?;
                    if i == 0 {
                        c.arg("SmartHostAuthMechanism", auth_mechanism.as_str())?;
                    }
                } else {
                    c.arg("DNSRoutingEnabled", true)?;
                }
                c.arg("RequireTLS", *require_tls)?
                    .arg("IgnoreSTARTTLS", *ignore_starttls)?
                    .arg("SourceTransportServers", source_servers.clone())?
                    .opt("TlsAuthLevel", tls_auth_level.clone())?
                    .opt("TlsDomain", tls_domain.clone())?
                    .opt("TlsCertificateName", tls_name.clone())?
                    .opt("Fqdn", fqdn.clone())?
                    .opt("Port", port.map(|p| PsValue::Int(u64::from(p))))?
                    .opt("MaxMessageSize", max_message_size.map(size_literal))?;
            }
            compare.push(Compare::new("AddressSpaces", spaces.clone()));
            if routed {
                compare.push(Compare::new("SmartHosts", smart_hosts.clone()));
            }
            compare.push(Compare::new("DNSRoutingEnabled", !routed));
            compare.push(Compare::new("RequireTLS", *require_tls));
            compare.push(Compare::new("IgnoreSTARTTLS", *ignore_starttls));
            compare.push(Compare::new("SourceTransportServers", source_servers.clone()));
            // Compare only what the update sets (a parameter left out for the version is
            // not compared either).
            for (prop, val) in [
                ("TlsAuthLevel", tls_auth_level.clone().map(PsValue::from)),
                ("TlsDomain", tls_domain.clone().map(PsValue::from)),
                ("TlsCertificateName", tls_name),
                ("Fqdn", fqdn.clone().map(PsValue::from)),
            ] {
                if let (Some(val), true) = (val, update.has(prop)) {
                    compare.push(Compare::new(prop, val));
                }
            }
            if let Some(p) = port {
                compare.push(Compare::new("Port", PsValue::Int(u64::from(*p))));
            }
            if let Some(m) = max_message_size {
                compare.push(Compare::new("MaxMessageSize", PsValue::Int(*m)));
            }
            let mut auth = None;
            let credential = if routed {
                let mut a = Call::new("Set-SendConnector", v);
                a.arg("Identity", name.as_str())?
                    .arg("SmartHostAuthMechanism", auth_mechanism.as_str())?;
                auth = Some(a);
                credential.as_ref().map(|c| c.name.clone())
            } else {
                if credential.is_some() {
                    create.notes.push(
                        "a smart-host credential is declared but there are no smart hosts; it is not used".into(),
                    );
                }
                None
            };
            if credential.is_some() {
                cx.needs.credentials = true;
                cx.require(
                    "the smart-host credential: you are asked for it, or pass -SecretVault to read it from a SecretManagement vault"
                        .into(),
                );
            }
            (
                "send_connector.ps1.j2",
                ActionView::Connector {
                    name: name.clone(),
                    server: None,
                    identity: name.clone(),
                    create,
                    update,
                    compare,
                    auth,
                    auth_mechanism: auth_mechanism.clone(),
                    credential,
                    fqdn_file: None,
                    fqdn_requested: String::new(),
                    tls_file,
                },
            )
        }
        Action::SetConnectorCost { name, cost } => {
            cx.needs.compare = true;
            cx.exchange_shell();
            (
                "set_connector_cost.ps1.j2",
                ActionView::Cost {
                    name: name.clone(),
                    cost: *cost,
                    suffix: format!(";{cost}"),
                },
            )
        }
        Action::RestartService { service } => (
            "restart_service.ps1.j2",
            ActionView::Restart {
                service: service.clone(),
                host: cx.host.id.clone(),
            },
        ),
        Action::VerifyConnector {
            direction,
            name,
            expect,
        } => {
            cx.needs.compare = true;
            cx.exchange_shell();
            let send = direction == "send";
            let server = (!send).then(|| {
                cx.ir
                    .operations
                    .iter()
                    .find_map(|o| match &o.action {
                        Action::ReceiveConnector {
                            name: n, server_name, ..
                        } if n == name => Some(server_name.clone()),
                        _ => None,
                    })
                    .unwrap_or_else(|| server.clone())
            });
            // A receive connector whose FQDN is the issued certificate's CN reads it again.
            let (fqdn_file, fqdn_requested) = cx
                .ir
                .operations
                .iter()
                .find_map(|o| match &o.action {
                    Action::ReceiveConnector {
                        name: n,
                        fqdn,
                        fqdn_certificate: Some(c),
                        ..
                    } if !send && n == name => issued_file(cx.ir, c).map(|f| (Some(f), fqdn.clone().unwrap_or_default())),
                    _ => None,
                })
                .unwrap_or((None, String::new()));
            if fqdn_file.is_some() {
                cx.needs.files = true;
                cx.needs.issued = true;
            }
            let mut list = Vec::new();
            for (prop, value) in expect {
                if !super::quote::is_ident(prop) {
                    return Err(format!("connector property `{prop}` is not a property name"));
                }
                let mut c = if prop == "Fqdn" && fqdn_file.is_some() {
                    Compare::new(prop, PsValue::Var { var: "connectorFqdn" })
                } else {
                    Compare::new(prop, value.as_str())
                };
                c.address_only = prop == "AddressSpaces";
                if prop == "PermissionGroups" && !value.contains("Custom") {
                    c.ignore.push("Custom".into());
                }
                list.push(c);
            }
            (
                "verify_connector.ps1.j2",
                ActionView::Verify {
                    send,
                    name: name.clone(),
                    server,
                    expect: list,
                    fqdn_file,
                    fqdn_requested,
                },
            )
        }
        Action::RemoveConnector {
            direction,
            name,
            server_name,
        } => {
            cx.exchange_shell();
            (
                "remove_connector.ps1.j2",
                ActionView::Remove {
                    send: direction == "send",
                    name: name.clone(),
                    server: server_name.clone(),
                    saved: crate::backend::removed_connector_file(direction, name),
                },
            )
        }
        Action::SmimeConfig { sst_file, online, .. } => {
            let supported = oracle::has_cmdlet("Set-SmimeConfig", v)?;
            cx.needs.files |= supported;
            if *online {
                cx.needs.online = true;
                cx.needs.tenant.clone_from(&cx.ir.organization.tenant);
                cx.require("the ExchangeOnlineManagement module, version 3 or later".into());
            } else if supported {
                cx.exchange_shell();
            }
            (
                "smime_config.ps1.j2",
                ActionView::Smime {
                    sst_file: win_path(sst_file),
                    supported,
                    target: if *online {
                        cx.ir.organization.tenant.clone().unwrap_or_else(|| "Exchange Online".into())
                    } else {
                        cx.ir.organization.name.clone()
                    },
                    product: v.product(),
                },
            )
        }
        Action::VerifyUserSmime { user } => {
            if cx.host.kind == HostKind::ExchangeOnline {
                cx.needs.online = true;
                cx.needs.tenant.clone_from(&cx.ir.organization.tenant);
                cx.require("the ExchangeOnlineManagement module, version 3 or later".into());
            } else {
                cx.exchange_shell();
            }
            // Hybrid (a directory-sync step exists): on-premises users' certificates arrive in
            // userCertificate (AD CS autoenrolment) or userSMIMECertificate (Outlook).
            let either = cx.ir.operations.iter().any(|o| matches!(o.action, Action::DirectorySync { .. }));
            let sst_file = cx
                .ir
                .operations
                .iter()
                .find_map(|o| match &o.action {
                    Action::SmimeConfig { sst_file, .. } if !sst_file.is_empty() => Some(win_path(sst_file)),
                    _ => None,
                });
            cx.needs.files |= sst_file.is_some();
            cx.needs.bytes = true;
            (
                "verify_user_smime.ps1.j2",
                ActionView::UserSmime {
                    user: user.clone(),
                    either,
                    sst_file,
                },
            )
        }
        Action::ActiveSyncDirectory {
            server_name,
            site,
            auth,
            basic,
            client_cert_auth,
            windows,
            external_host,
            ..
        } => {
            cx.needs.compare = true;
            cx.exchange_shell();
            let identity = format!("{server_name}\\Microsoft-Server-ActiveSync ({site})");
            // The runbook's "by hand" command sets the same parameters, ExternalUrl included.
            let external_url = external_host.as_ref().map(|h| format!("https://{h}/Microsoft-Server-ActiveSync"));
            let mut update = Call::new("Set-ActiveSyncVirtualDirectory", v);
            update
                .arg("Identity", identity.as_str())?
                .arg("BasicAuthEnabled", *basic)?
                .arg("ClientCertAuth", client_cert_auth.as_str())?
                .arg("WindowsAuthEnabled", *windows)?
                .opt("ExternalUrl", external_url.clone())?;
            let mut compare = vec![
                Compare::new("BasicAuthEnabled", *basic),
                Compare::new("ClientCertAuth", client_cert_auth.as_str()),
                Compare::new("WindowsAuthEnabled", *windows),
            ];
            if let Some(url) = external_url {
                compare.push(Compare::new("ExternalUrl", url));
            }
            (
                "active_sync_directory.ps1.j2",
                ActionView::ActiveSync {
                    identity,
                    compare,
                    update,
                    mode: match auth {
                        EasAuth::Password => "user name and password",
                        EasAuth::CertificateAndPassword => "client certificate required, password as fallback identity",
                        EasAuth::CertificateOrPassword => "client certificate or password",
                        EasAuth::Certificate => "client certificate only",
                        EasAuth::Kerberos => "delegated Kerberos tickets only",
                    },
                },
            )
        }
        Action::RegisterSpn { spn, account } => {
            cx.needs.spn = true;
            cx.require(DOMAIN_ADMINS.into());
            (
                "register_spn.ps1.j2",
                ActionView::Spn {
                    spn: spn.clone(),
                    account: account.clone(),
                },
            )
        }
        Action::AlternateServiceAccount {
            account,
            array_fqdn,
            members,
            domain,
        } => {
            cx.exchange_shell();
            cx.ad_module();
            let sam = format!("{account}$");
            let qualified = format!("{}\\{sam}", domain.as_deref().unwrap_or("DOMAIN"));
            let service = oracle::has_cmdlet("Get-ClientAccessService", v)?;
            // Client Access arrays carry the ASA only in 2010; later versions roll it per server.
            let array = v == ExchangeVersion::E2010;
            let p = |name: &str, value: &str| Param {
                name: name.to_string(),
                value: Some(PsValue::Str(value.to_string())),
            };
            let rolls: Vec<Vec<Param>> = if array || members.is_empty() {
                vec![vec![
                    Param {
                        name: "ToArrayMembers".into(),
                        value: Some(PsValue::Var { var: "casArrayName" }),
                    },
                    p("GenerateNewPasswordFor", &qualified),
                ]]
            } else {
                let first = &members[0];
                let mut rolls = vec![vec![p("ToSpecificServer", first), p("GenerateNewPasswordFor", &qualified)]];
                for m in &members[1..] {
                    rolls.push(vec![p("ToSpecificServer", m), p("CopyFrom", first)]);
                }
                rolls
            };
            (
                "alternate_service_account.ps1.j2",
                ActionView::Asa {
                    name: account.clone(),
                    sam,
                    account: qualified,
                    array_fqdn: array_fqdn.clone(),
                    members: members.clone(),
                    status_cmdlet: if service {
                        "Get-ClientAccessService"
                    } else {
                        "Get-ClientAccessServer"
                    },
                    rolls,
                    array: array || members.is_empty(),
                },
            )
        }
        Action::AllowDelegation {
            account,
            spns,
            protocol_transition,
            ..
        } => {
            cx.ad_module();
            cx.require(DOMAIN_ADMINS.into());
            (
                "allow_delegation.ps1.j2",
                ActionView::Delegation {
                    account: account.clone(),
                    spns: spn_forms(
                        spns,
                        &cx.ir
                            .hosts
                            .values()
                            .filter(|h| h.kind == HostKind::Server)
                            .filter_map(|h| h.fqdn.as_deref())
                            .collect::<Vec<_>>(),
                    ),
                    protocol_transition: *protocol_transition,
                },
            )
        }
        Action::GrantUserRights { identity, rights } => {
            cx.needs.user_rights = true;
            (
                "grant_user_rights.ps1.j2",
                ActionView::Rights {
                    identity: identity.clone(),
                    rights: rights.clone(),
                    restart_server: crate::ir::is_builtin_service_account(identity),
                },
            )
        }
        Action::CertificateMapping { mapping, authority, .. } if mapping == "upn" => {
            // The CA's file or common name comes from the operations that trust or publish it.
            let (file, common_name) = cx
                .ir
                .operations
                .iter()
                .filter_map(|o| match &o.action {
                    Action::PublishNtAuth {
                        authority: a,
                        file,
                        common_name,
                    }
                    | Action::TrustAuthority {
                        authority: a,
                        file,
                        common_name,
                        ..
                    } if a == authority => Some((file.clone(), common_name.clone())),
                    _ => None,
                })
                .next()
                .unwrap_or((None, None));
            cx.needs.files |= file.is_some();
            (
                "check_upn_mapping.ps1.j2",
                ActionView::NtAuth {
                    authority: authority.clone(),
                    file: file.as_deref().map(win_path),
                    common_name,
                },
            )
        }
        Action::CertificateMapping {
            mapping,
            authority,
            account,
            subject,
        } => (
            "check_manual.ps1.j2",
            ActionView::Check {
                command: format!(
                    "the {mapping} certificate mapping for `{authority}`{}{} in Active Directory Users and Computers (Name Mappings)",
                    account.as_deref().map(|a| format!(" to {a}")).unwrap_or_default(),
                    subject.as_deref().map(|s| format!(" of {s}")).unwrap_or_default()
                ),
                expect: "the mapping exists".into(),
                spns: Vec::new(),
            },
        ),
        Action::Check { command, expect } => {
            let spn_scan = command.trim().to_ascii_lowercase().starts_with("setspn -x");
            if spn_scan {
                cx.needs.spn = true;
            }
            (
                if spn_scan {
                    "check_spn_duplicates.ps1.j2"
                } else {
                    "check_manual.ps1.j2"
                },
                ActionView::Check {
                    command: command.clone(),
                    expect: expect.clone(),
                    spns: if spn_scan {
                        cx.ir
                            .operations
                            .iter()
                            .filter_map(|o| match &o.action {
                                Action::RegisterSpn { spn, .. } => Some(spn.clone()),
                                _ => None,
                            })
                            .collect()
                    } else {
                        Vec::new()
                    },
                },
            )
        }
        other => {
            return Err(format!(
                "operation `{}` is not the exchange backend's ({:?})",
                op.id,
                std::mem::discriminant(other)
            ))
        }
    })
}

#[allow(clippy::too_many_arguments)]
fn certificate_view(
    certificate: &str,
    server: &str,
    subject: String,
    request_file: &str,
    file: &str,
    reference: Option<&str>,
    call: Option<Call>,
    inf: Vec<String>,
) -> ActionView {
    let lower = file.to_ascii_lowercase();
    ActionView::Certificate {
        certificate: certificate.to_string(),
        server: server.to_string(),
        subject,
        request_file: win_path(request_file),
        file: win_path(file),
        pfx: lower.ends_with(".pfx") || lower.ends_with(".p12"),
        exportable: false,
        reference: reference.map(str::to_string),
        call,
        inf,
        smtp: false,
        iis: false,
        fqdn: None,
        fqdn_from_issued: false,
    }
}

/// The file a certificate is issued into (from its import), with Windows separators.
fn issued_file(ir: &Ir, certificate: &str) -> Option<String> {
    ir.issued_file(certificate).map(win_path)
}

/// The FQDN a receive connector on `host` answers with when it uses `certificate`, and
/// whether that is the issued certificate's CN (read at run time) rather than a declared name.
fn connector_fqdn(ir: &Ir, host: &str, certificate: &str) -> (Option<String>, bool) {
    let enable = format!("enable/{certificate}/{host}");
    ir.operations
        .iter()
        .find_map(|o| match &o.action {
            Action::ReceiveConnector {
                server,
                fqdn,
                fqdn_certificate,
                ..
            } if server == host => {
                if fqdn_certificate.as_deref() == Some(certificate) {
                    Some((fqdn.clone(), true))
                } else if o.depends_on.contains(&enable) {
                    fqdn.clone().map(|f| (Some(f), false))
                } else {
                    None
                }
            }
            _ => None,
        })
        .unwrap_or((None, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_spaces_carry_type_and_cost() {
        assert_eq!(address_space("*", 1), "SMTP:*;1");
        assert_eq!(address_space("contoso.com", 20), "SMTP:contoso.com;20");
        assert_eq!(address_space("X400:c=US;5", 20), "X400:c=US;5");
    }

    #[test]
    fn sizes() {
        assert_eq!(size_literal(10 * 1024 * 1024), "10MB");
        assert_eq!(size_literal(1000), "1000");
        assert_eq!(size_literal(2048), "2KB");
    }

    #[test]
    fn spn_both_forms() {
        assert_eq!(
            spn_forms(&["http/eas01.corp.contoso.com".into()], &["eas01.corp.contoso.com"]),
            vec!["http/eas01.corp.contoso.com", "http/EAS01"]
        );
        assert_eq!(
            spn_forms(&["http/casarray.corp.contoso.com".into()], &["cas01.corp.contoso.com"]),
            vec!["http/casarray.corp.contoso.com"]
        );
        assert_eq!(spn_forms(&["http/eas01".into()], &[]), vec!["http/eas01"]);
    }

    #[test]
    fn parameters_a_version_lacks_become_notes() {
        let mut c = Call::new("New-SendConnector", ExchangeVersion::E2010);
        c.arg("TlsCertificateName", "<I>CN=x<S>CN=y").expect("known parameter");
        assert!(c.params.is_empty());
        assert!(
            c.notes[0].contains("does not exist in Exchange Server 2010"),
            "{:?}",
            c.notes
        );
        let mut c = Call::new("Set-ActiveSyncVirtualDirectory", ExchangeVersion::E2010);
        c.arg("ClientCertAuth", "Allowed").expect("known parameter");
        assert!(c.params.is_empty() && c.notes[0].contains("does not accept Allowed"));
        c.arg("ClientCertAuth", "Required").expect("known parameter");
        assert_eq!(c.params.len(), 1);
        assert!(c.arg("NoSuchParameter", "x").is_err());
        assert!(c.switch("Identity").is_err());
    }
}
