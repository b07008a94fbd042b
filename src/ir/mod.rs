//! The IR: a resolved, per-host plan. Backends read only this, never the AST. Serialisable
//! (`mailsec build --emit ir`), deterministic (declaration order; sorted where order has no
//! meaning), and free of secrets: a secret appears only as its reference name.

mod lower;

pub use lower::{lower, ACTIVE_DIRECTORY, CLIENTS, EXCHANGE_ONLINE, PARTNER, WORKSPACE_ONE};

use indexmap::IndexMap;
use serde::Serialize;

/// The plan for one unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ir {
    /// Unit identifier (sanitised; used for output paths).
    pub unit: String,
    /// Source files of the unit, entry first, as display names.
    pub sources: Vec<String>,
    /// The organization.
    pub organization: Organization,
    /// Every host that receives artefacts or steps, by id.
    pub hosts: IndexMap<String, Host>,
    /// Every operation, in dependency order (a valid topological order of `depends_on`).
    pub operations: Vec<Operation>,
    /// Warnings of the check stage, with the operations they apply to.
    pub warnings: Vec<Warning>,
    /// The intent's revision (`git describe`), only when the build was asked to stamp it
    /// (`build --stamp`): a stamp changes with every commit, so it is off by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Findings the intent suppresses with a reason (`allow CODE "why"`), in block order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressions: Vec<Suppression>,
}

impl Ir {
    /// The issued file of a certificate, as the intent names it (`/` separators): the file
    /// its import operations read. Every certificate the plan uses is imported (lowering
    /// adds the import for each of its servers, with the one file).
    pub fn issued_file(&self, certificate: &str) -> Option<&str> {
        self.operations.iter().find_map(|o| match &o.action {
            Action::ImportCertificate {
                certificate: c, file, ..
            } if c == certificate => Some(file.as_str()),
            _ => None,
        })
    }

    /// SHA-256 (hex) of the plan without line numbers and stamp: what the intent *means*,
    /// so comments and layout do not change it and any change of the plan does.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut plan = self.clone();
        plan.revision = None;
        for op in &mut plan.operations {
            op.source = op.source_file().to_string();
        }
        for w in &mut plan.warnings {
            w.source = w.source_file().to_string();
        }
        for s in &mut plan.suppressions {
            s.source = s.source_file().to_string();
        }
        let json = serde_json::to_vec(&plan).expect("the IR serialises");
        Sha256::digest(json).iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A lint finding the intent suppresses on one block, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// Diagnostic code (`MS0229`).
    pub code: String,
    /// The code's title.
    pub title: String,
    /// The block: its kind and name (`send_connector "To Partner"`).
    pub block: String,
    /// The reason written in the intent.
    pub reason: String,
    /// `file:line` of the `allow`.
    pub source: String,
}

impl Suppression {
    /// The intent file of the suppression, without the line (see [`Operation::source_file`]).
    pub fn source_file(&self) -> &str {
        source_file(&self.source)
    }
}

/// The estate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organization {
    /// Display name.
    pub name: String,
    /// SMTP domains; the first is primary.
    pub smtp_domains: Vec<String>,
    /// Exchange version.
    pub exchange: ExchangeVersion,
    /// Active Directory DNS domain.
    pub ad_domain: Option<String>,
    /// Active Directory forest root domain (defaults to the domain).
    pub ad_forest: Option<String>,
    /// NetBIOS domain name.
    pub netbios: Option<String>,
    /// Exchange Online tenant domain.
    pub tenant: Option<String>,
    /// IIS site hosting Exchange virtual directories (default "Default Web Site").
    pub iis_site: String,
    /// Who owns the change.
    pub owner: Option<String>,
}

/// Exchange versions mailsec renders for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ExchangeVersion {
    /// Exchange Server 2010.
    #[serde(rename = "2010")]
    E2010,
    /// Exchange Server 2013.
    #[serde(rename = "2013")]
    E2013,
    /// Exchange Server 2016.
    #[serde(rename = "2016")]
    E2016,
    /// Exchange Server 2019.
    #[serde(rename = "2019")]
    E2019,
    /// Exchange Server Subscription Edition.
    #[serde(rename = "SE")]
    Se,
    /// Exchange Online.
    #[serde(rename = "Online")]
    Online,
}

impl ExchangeVersion {
    /// Parses the language's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "2010" => Self::E2010,
            "2013" => Self::E2013,
            "2016" => Self::E2016,
            "2019" => Self::E2019,
            "se" => Self::Se,
            "online" => Self::Online,
            _ => return None,
        })
    }

    /// The product name as the Exchange cmdlet reference spells it.
    pub fn product(self) -> &'static str {
        match self {
            Self::E2010 => "Exchange Server 2010",
            Self::E2013 => "Exchange Server 2013",
            Self::E2016 => "Exchange Server 2016",
            Self::E2019 => "Exchange Server 2019",
            Self::Se => "Exchange Server SE",
            Self::Online => "Exchange Online",
        }
    }
}

/// Something that receives artefacts or manual steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Host {
    /// Identifier (the server's name in the intent, or a fixed id for pseudo hosts).
    pub id: String,
    /// What kind of host.
    pub kind: HostKind,
    /// DNS name, when it is a machine.
    pub fqdn: Option<String>,
    /// Roles declared for a server.
    pub roles: Vec<String>,
    /// IIS site name for web hosts.
    pub site: Option<String>,
    /// Computer account (`NAME$`) for servers.
    pub computer_account: Option<String>,
    /// Declared owner.
    pub owner: Option<String>,
}

/// Host kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostKind {
    /// A Windows server declared with `server`.
    Server,
    /// The Exchange Online tenant (remote PowerShell).
    ExchangeOnline,
    /// Active Directory when no domain controller is declared.
    ActiveDirectory,
    /// The Workspace ONE UEM console.
    WorkspaceOne,
    /// A partner or certificate vendor (out-of-band steps).
    Partner,
    /// End-user devices and mail clients (tests and user actions).
    Clients,
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Operation {
    /// Stable id, unique in the unit (`kind/name[/host]`).
    pub id: String,
    /// Host that performs it.
    pub host: String,
    /// Phase, for grouping in runbooks and file names in scripts.
    pub phase: Phase,
    /// Scripted, manual or verification.
    pub mode: Mode,
    /// One line a person reads.
    pub summary: String,
    /// Operations that must be done first.
    pub depends_on: Vec<String>,
    /// A gate that must be passed before this operation.
    pub gate: Option<Gate>,
    /// Where in the intent it comes from (`file:line`).
    pub source: String,
    /// What to do.
    pub action: Action,
}

impl Operation {
    /// The intent file this operation comes from, without the line: what artefacts cite, so
    /// that comments or layout changes in the intent change no generated file.
    pub fn source_file(&self) -> &str {
        source_file(&self.source)
    }
}

impl Warning {
    /// The intent file of the warning, without the line (see [`Operation::source_file`]).
    pub fn source_file(&self) -> &str {
        source_file(&self.source)
    }
}

/// The SPN a TMG web publishing rule delegates to: the declared one, else
/// `http/<internal site>` for a single server or `http/*` for a farm. One function, so the
/// script, the export, the runbook and its diagram cannot name different SPNs.
pub fn tmg_delegation_spn(spn: Option<&str>, internal_site: &str, farm: &[String]) -> String {
    match spn {
        Some(s) => s.to_string(),
        None if farm.is_empty() => format!("http/{internal_site}"),
        None => "http/*".to_string(),
    }
}

/// Strips a trailing `:line` from a `file:line` provenance.
pub fn source_file(source: &str) -> &str {
    match source.rsplit_once(':') {
        Some((file, line)) if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) => file,
        _ => source,
    }
}

/// Phases, in execution order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Checks before any change.
    Prerequisites,
    /// Trust anchors: roots, intermediates, NTAuth.
    Pki,
    /// Certificate requests, imports and enablement.
    Certificates,
    /// Receive and send connectors.
    Transport,
    /// S/MIME configuration.
    Smime,
    /// Kerberos: SPNs, service accounts, delegation, user rights.
    Kerberos,
    /// ActiveSync virtual directories and IIS.
    ClientAccess,
    /// Certificate mapping in AD.
    Mapping,
    /// TMG listeners and rules.
    Gateway,
    /// Workspace ONE CA, templates and profiles.
    Mdm,
    /// End-to-end tests.
    Verification,
    /// Removal of what the change replaces.
    Retirement,
}

impl Phase {
    /// Two-digit order prefix used in file names.
    pub fn number(self) -> u8 {
        match self {
            Phase::Prerequisites => 0,
            Phase::Pki => 10,
            Phase::Certificates => 20,
            Phase::Transport => 30,
            Phase::Smime => 40,
            Phase::Kerberos => 50,
            Phase::ClientAccess => 60,
            Phase::Mapping => 65,
            Phase::Gateway => 70,
            Phase::Mdm => 80,
            Phase::Verification => 90,
            Phase::Retirement => 95,
        }
    }

    /// Slug used in file names.
    pub fn slug(self) -> &'static str {
        match self {
            Phase::Prerequisites => "prerequisites",
            Phase::Pki => "pki",
            Phase::Certificates => "certificates",
            Phase::Transport => "transport",
            Phase::Smime => "smime",
            Phase::Kerberos => "kerberos",
            Phase::ClientAccess => "client-access",
            Phase::Mapping => "mapping",
            Phase::Gateway => "gateway",
            Phase::Mdm => "mdm",
            Phase::Verification => "verification",
            Phase::Retirement => "retirement",
        }
    }

    /// Title for runbooks.
    pub fn title(self) -> &'static str {
        match self {
            Phase::Prerequisites => "Prerequisites",
            Phase::Pki => "Certificate authorities and trust",
            Phase::Certificates => "Certificates",
            Phase::Transport => "Mail transport",
            Phase::Smime => "S/MIME",
            Phase::Kerberos => "Kerberos and delegation",
            Phase::ClientAccess => "Client access (ActiveSync and IIS)",
            Phase::Mapping => "Certificate mapping",
            Phase::Gateway => "Reverse proxy (TMG)",
            Phase::Mdm => "Workspace ONE",
            Phase::Verification => "Verification",
            Phase::Retirement => "Retirement",
        }
    }
}

/// How an operation is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A backend emits a script for it.
    Scripted,
    /// A person does it (runbook click-path).
    Manual,
    /// A check that the change worked.
    Verify,
}

/// A condition to pass before an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Gate {
    /// Not before this date (`YYYY-MM-DD`).
    NotBefore {
        /// The date.
        date: String,
    },
    /// A person confirms this.
    Approval {
        /// What must be confirmed.
        text: String,
    },
    /// Both.
    Both {
        /// The date.
        date: String,
        /// What must be confirmed.
        text: String,
    },
}

/// A check-stage warning carried into the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Diagnostic code.
    pub code: String,
    /// Message.
    pub message: String,
    /// `file:line`.
    pub source: String,
    /// Operations whose source block the warning is about.
    pub operations: Vec<String>,
}

/// A reference to a secret; the value is never known to mailsec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretRef {
    /// The name in `secret("NAME")`.
    pub name: String,
}

/// Whether a user-rights identity is a built-in service account (`NT AUTHORITY\\…`:
/// Network Service, Local Service, System). Its logon session, which carries the rights, is
/// made at start-up, so rights granted to it apply only after a restart of the server.
pub fn is_builtin_service_account(identity: &str) -> bool {
    identity.to_ascii_uppercase().starts_with("NT AUTHORITY\\")
}

/// A certificate subject, in order C, S, L, O, OU, CN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Subject {
    /// Relative distinguished names: attribute → value.
    pub parts: IndexMap<String, String>,
}

impl Subject {
    /// The common name.
    pub fn cn(&self) -> &str {
        self.parts.get("CN").map_or("", String::as_str)
    }

    /// `C=CA, S=ON, O=…, CN=…` with RFC 4514 escaping of values.
    pub fn dn(&self) -> String {
        self.parts
            .iter()
            .map(|(k, v)| format!("{k}={}", escape_rdn(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn escape_rdn(v: &str) -> String {
    let mut out = String::new();
    for (i, c) in v.chars().enumerate() {
        let edge = i == 0 && (c == ' ' || c == '#') || i + 1 == v.chars().count() && c == ' ';
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') || edge {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A root CA certificate a device profile installs (`com.apple.security.root`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceRoot {
    /// Authority name.
    pub authority: String,
    /// The CA's common name, when declared.
    pub common_name: Option<String>,
    /// The CA certificate file, uploaded to the console.
    pub file: String,
}

/// Which store a CA certificate goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Store {
    /// `Cert:\LocalMachine\Root` (trusted roots).
    Root,
    /// `Cert:\LocalMachine\CA` (intermediates).
    Intermediate,
}

/// Client-certificate requirement on an IIS application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientCerts {
    /// Not asked for.
    Ignore,
    /// Asked for, optional.
    Accept,
    /// Required.
    Require,
}

/// Authentication of an ActiveSync virtual directory or SEG site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EasAuth {
    /// User name and password (Basic).
    Password,
    /// Client certificate required; Basic stays on so the password is the fallback identity
    /// when the certificate does not map (not two-factor: a mapped certificate alone logs on).
    CertificateAndPassword,
    /// Client certificate *or* password (a mixed fleet during a migration): certificates are
    /// accepted, not required.
    CertificateOrPassword,
    /// Client certificate only.
    Certificate,
    /// Delegated Kerberos tickets only, from a hop that authenticated the device (Windows
    /// authentication on, client certificates ignored, Basic off).
    Kerberos,
}

/// What an operation does. Each variant carries everything a backend needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// A prerequisite to confirm before starting.
    Prerequisite {
        /// What must hold.
        text: String,
    },
    /// Put a CA certificate into the machine's trust store.
    TrustAuthority {
        /// Authority name.
        authority: String,
        /// The CA certificate file.
        file: Option<String>,
        /// The CA's common name, when declared.
        common_name: Option<String>,
        /// Root or intermediate store.
        store: Store,
    },
    /// Publish a CA certificate to the enterprise NTAuth store.
    PublishNtAuth {
        /// Authority name.
        authority: String,
        /// The CA certificate file.
        file: Option<String>,
        /// The CA's common name, when declared.
        common_name: Option<String>,
    },
    /// Check that the CRL distribution points are reachable without a proxy.
    CheckCdp {
        /// Authority name.
        authority: String,
        /// CRL URLs.
        urls: Vec<String>,
    },
    /// Generate a certificate request (CSR) with Exchange.
    RequestCertificate {
        /// Certificate name.
        certificate: String,
        /// Subject.
        subject: Subject,
        /// DNS names (`-DomainName`).
        domains: Vec<String>,
        /// RSA key length.
        key_size: u32,
        /// Whether the private key is exportable.
        exportable: bool,
        /// Where the request is written.
        request_file: String,
        /// Partner reference number.
        reference: Option<String>,
        /// Friendly name.
        friendly_name: Option<String>,
        /// Extended key usages the intent names (`certificate.eku`); a certreq request
        /// carries them (none: server authentication), `New-ExchangeCertificate` sets its own.
        eku: Vec<String>,
    },
    /// Send the CSR to the issuing party and receive the certificate (out of band).
    SubmitRequest {
        /// Certificate name.
        certificate: String,
        /// Issuing authority.
        authority: Option<String>,
        /// The CSR file.
        request_file: String,
        /// Partner reference number.
        reference: Option<String>,
        /// Where the issued certificate is saved.
        issued_file: String,
    },
    /// Import the issued certificate into Exchange.
    ImportCertificate {
        /// Certificate name.
        certificate: String,
        /// The issued certificate file.
        file: String,
        /// Subject (used to find the certificate again).
        subject: Subject,
        /// Whether the private key may be exported (for other servers).
        exportable: bool,
    },
    /// Enable an imported certificate for Exchange services.
    EnableCertificate {
        /// Certificate name.
        certificate: String,
        /// Subject used to look the thumbprint up.
        subject: Subject,
        /// Exchange service names (`SMTP`, `IIS`, …).
        services: Vec<String>,
    },
    /// Verify the certificate is enabled for SMTP and no other SMTP certificate holds the
    /// FQDN of the connector that uses it (Exchange 2010 picks the STARTTLS certificate by it).
    VerifySmtpCertificate {
        /// Certificate name.
        certificate: String,
        /// Subject of the expected certificate.
        subject: Subject,
    },
    /// Ensure a receive connector.
    ReceiveConnector {
        /// Connector name.
        name: String,
        /// Server it runs on (host id).
        server: String,
        /// Server's Exchange name (NetBIOS-style first label of the FQDN).
        server_name: String,
        /// HELO/EHLO FQDN: the declared one, else the common name the request asked for.
        fqdn: Option<String>,
        /// The certificate whose *issued* common name is the HELO/EHLO FQDN (when no FQDN is
        /// declared): the issuing CA may rewrite the requested subject, so scripts read the
        /// name from the issued file at run time.
        fqdn_certificate: Option<String>,
        /// Bindings (`IP:port`).
        bindings: Vec<String>,
        /// Remote IP ranges.
        remote_ips: Vec<String>,
        /// `AuthMechanism` values (Exchange spelling).
        auth: Vec<String>,
        /// `PermissionGroups` values (Exchange spelling).
        permission_groups: Vec<String>,
        /// RequireTLS.
        require_tls: bool,
        /// Usage type (Exchange spelling).
        usage: String,
        /// Maximum message size in bytes.
        max_message_size: Option<u64>,
        /// TlsDomainCapabilities domain.
        tls_domain: Option<String>,
    },
    /// Ensure a send connector.
    SendConnector {
        /// Connector name.
        name: String,
        /// Address spaces (`*`, `contoso.com`).
        address_spaces: Vec<String>,
        /// Smart hosts; empty for DNS routing.
        smart_hosts: Vec<String>,
        /// Smart-host authentication (`None`, `BasicAuth`).
        auth_mechanism: String,
        /// Credential reference for Basic auth.
        credential: Option<SecretRef>,
        /// RequireTLS.
        require_tls: bool,
        /// IgnoreSTARTTLS.
        ignore_starttls: bool,
        /// Source transport servers (Exchange server names).
        source_servers: Vec<String>,
        /// Usage type (Exchange spelling).
        usage: String,
        /// TlsAuthLevel (Exchange spelling).
        tls_auth_level: Option<String>,
        /// TlsDomain.
        tls_domain: Option<String>,
        /// The certificate the connector presents (TlsCertificateName), when pinned. Its
        /// `<I>issuer<S>subject` is read from the issued certificate at run time: Exchange
        /// compares it with the certificate's fields as Windows writes them (full issuer
        /// DN, order and quoting), which the intent's subject does not give.
        tls_certificate: Option<String>,
        /// Address-space cost.
        cost: u32,
        /// HELO FQDN.
        fqdn: Option<String>,
        /// Port.
        port: Option<u32>,
        /// Maximum message size in bytes.
        max_message_size: Option<u64>,
    },
    /// Change the cost of an existing send connector during a transition.
    SetConnectorCost {
        /// Connector name.
        name: String,
        /// New cost.
        cost: u32,
    },
    /// Restart a Windows service.
    RestartService {
        /// Service name.
        service: String,
    },
    /// Read a connector back and compare the settings that matter.
    VerifyConnector {
        /// `send` or `receive`.
        direction: String,
        /// Connector name.
        name: String,
        /// Property → expected value, as `Get-…Connector | Format-List` prints them.
        expect: IndexMap<String, String>,
    },
    /// Remove an old connector.
    RemoveConnector {
        /// `send` or `receive`.
        direction: String,
        /// Connector name.
        name: String,
        /// Server for receive connectors (Exchange server name).
        server_name: Option<String>,
    },
    /// Upload the S/MIME issuing CA store.
    SmimeConfig {
        /// The SST file.
        sst_file: String,
        /// Authorities in the SST.
        authorities: Vec<String>,
        /// Exchange Online or on-premises.
        online: bool,
    },
    /// A user publishes their certificate to the GAL, then it is verified.
    VerifyUserSmime {
        /// Mailbox identity.
        user: String,
    },
    /// Directory synchronisation must replicate certificate attributes.
    DirectorySync {
        /// Declared version.
        version: Option<String>,
    },
    /// Configure an ActiveSync virtual directory.
    ActiveSyncDirectory {
        /// Block name.
        name: String,
        /// Server's Exchange name.
        server_name: String,
        /// IIS site.
        site: String,
        /// Declared auth mode.
        auth: EasAuth,
        /// BasicAuthEnabled.
        basic: bool,
        /// ClientCertAuth (`Ignore`, `Accepted`, `Required`).
        client_cert_auth: String,
        /// WindowsAuthEnabled (Kerberos from a delegating front end).
        windows: bool,
        /// External host name.
        external_host: Option<String>,
    },
    /// Configure IIS client-certificate authentication for a site's application.
    IisClientCertificates {
        /// Block name (activesync or seg).
        name: String,
        /// IIS site.
        site: String,
        /// Application path below the site (`Microsoft-Server-ActiveSync`, or empty for the site).
        application: String,
        /// SSL client certificates.
        client_certs: ClientCerts,
        /// Basic authentication on.
        basic: bool,
        /// Anonymous authentication on.
        anonymous: bool,
        /// clientCertificateMappingAuthentication on.
        certificate_mapping: bool,
        /// uploadReadAheadSize in bytes.
        upload_read_ahead: u64,
        /// The host's FQDN (for the HTTP.sys binding).
        fqdn: String,
    },
    /// Enable Windows authentication (Negotiate, NTLM) for delegated Kerberos tickets.
    IisWindowsAuth {
        /// IIS site.
        site: String,
        /// Application path below the site.
        application: String,
    },
    /// Map client certificates to accounts in AD.
    CertificateMapping {
        /// `one_to_one`, `many_to_one` or `upn`.
        mapping: String,
        /// Issuing authority.
        authority: String,
        /// Target account (many-to-one).
        account: Option<String>,
        /// Certificate subject (one-to-one).
        subject: Option<String>,
    },
    /// Register an SPN on an account (`setspn -S`).
    RegisterSpn {
        /// `http/host`.
        spn: String,
        /// Account (`HOST$` or `DOMAIN\ASA$`).
        account: String,
    },
    /// Create an alternate service account and roll it to the array members.
    AlternateServiceAccount {
        /// Computer account name without `$`.
        account: String,
        /// Array FQDN.
        array_fqdn: String,
        /// Member servers' FQDNs.
        members: Vec<String>,
        /// NetBIOS domain.
        domain: Option<String>,
    },
    /// Allow an account to delegate to services (KCD).
    AllowDelegation {
        /// Delegating computer account (`HOST$`).
        account: String,
        /// Delegating host id.
        from: String,
        /// Target SPNs (both `http/host` and `http/HOST` forms are emitted by backends).
        spns: Vec<String>,
        /// Protocol transition (use any authentication protocol).
        protocol_transition: bool,
    },
    /// Grant local user rights to an identity.
    GrantUserRights {
        /// Identity (`NT AUTHORITY\NETWORK SERVICE`, `DOMAIN\svc`).
        identity: String,
        /// Rights (`SeTcbPrivilege`, `SeImpersonatePrivilege`).
        rights: Vec<String>,
    },
    /// Configure the SEG's IIS application pool and target Exchange host.
    SegConfig {
        /// Block name.
        name: String,
        /// App pool name.
        app_pool: String,
        /// App pool identity (IIS spelling: `NetworkService`, `LocalSystem`, `ApplicationPoolIdentity`).
        identity: String,
        /// Exchange host in web.config.
        exchange_host: String,
        /// IIS site the SEG runs in.
        site: String,
        /// The certificate the SEG presents to devices (`seg.certificate`): bound to the
        /// HTTP.sys SSL binding of the site's https binding, found by the thumbprint of its
        /// issued file.
        certificate: Option<String>,
    },
    /// A TMG web listener.
    TmgListener {
        /// Listener name.
        name: String,
        /// Description.
        description: Option<String>,
        /// Certificate name and subject CN (published host).
        certificate: String,
        /// CN of the listener certificate.
        certificate_cn: String,
        /// Authentication.
        auth: String,
        /// Listening addresses; empty = External network.
        addresses: Vec<String>,
        /// Require SSL from clients.
        require_ssl: bool,
    },
    /// A TMG Exchange publishing rule.
    TmgPublishingRule {
        /// Rule name.
        name: String,
        /// Listener name.
        listener: String,
        /// Exchange version.
        exchange: ExchangeVersion,
        /// Published service.
        service: String,
        /// Internal site name (FQDN of the published server).
        internal_site: String,
        /// Public name.
        public_name: String,
        /// Authentication delegation (`kerberos`, `basic`, `none`).
        delegation: String,
        /// SPN for KCD.
        spn: Option<String>,
        /// Farm members' FQDNs (load balancing).
        farm: Vec<String>,
        /// SSL to the published server.
        ssl_to_server: bool,
    },
    /// A TMG server (non-web) publishing rule: TCP passed through, no listener, no
    /// delegation; the published server terminates the device's TLS.
    TmgServerPublishing {
        /// Rule name.
        name: String,
        /// Protocol definition as TMG names it (`HTTPS Server`).
        protocol: String,
        /// Published server's FQDN.
        published_server: String,
        /// Published server's IP address, when declared.
        published_ip: Option<String>,
        /// Listening addresses on the External network; empty = all External addresses.
        addresses: Vec<String>,
        /// Description.
        description: Option<String>,
    },
    /// Workspace ONE certificate authority.
    Ws1Authority {
        /// Name.
        name: String,
        /// `generic_scep` or `adcs`.
        ca_type: String,
        /// CA name.
        ca_name: String,
        /// SCEP or AD CS URL.
        url: String,
        /// SCEP challenge reference (none = no challenge).
        challenge: Option<SecretRef>,
        /// Service-account credential reference (AD CS).
        credentials: Option<SecretRef>,
        /// Service-account name.
        account: Option<String>,
    },
    /// Workspace ONE request template.
    Ws1Template {
        /// Name.
        name: String,
        /// Workspace ONE CA name.
        authority: String,
        /// Subject with lookup values.
        subject: String,
        /// Private key length.
        key_size: u32,
        /// Key type.
        key_type: String,
        /// SAN entries (type, value).
        san: Vec<(String, String)>,
        /// EKUs.
        eku: Vec<String>,
        /// CA certificate template.
        ca_template: Option<String>,
        /// Automatic renewal.
        auto_renew: bool,
        /// Renewal period in days.
        renewal_days: Option<u64>,
        /// Revoke on unenrolment.
        revoke_on_unenroll: bool,
        /// Publish private key.
        publish_private_key: bool,
        /// Force key generation on device (iOS).
        force_key_generation_on_device: bool,
    },
    /// Workspace ONE device profile (credentials + Exchange ActiveSync payloads).
    Ws1Profile {
        /// Name.
        name: String,
        /// Platform.
        platform: String,
        /// Template name.
        template: String,
        /// Workspace ONE CA name.
        authority: String,
        /// Account name.
        account_name: String,
        /// EAS host.
        host: String,
        /// Use SSL.
        use_ssl: bool,
        /// Use S/MIME.
        use_smime: bool,
        /// Domain lookup.
        domain: Option<String>,
        /// User name lookup.
        username: Option<String>,
        /// Email lookup.
        email: Option<String>,
        /// Root CAs the profile installs on the device as trusted.
        trust: Vec<DeviceRoot>,
    },
    /// A manual step with no dedicated structure.
    Manual {
        /// Numbered instructions.
        steps: Vec<String>,
    },
    /// A check a person or script makes, with its expected result.
    Check {
        /// What to run or open.
        command: String,
        /// What a pass looks like.
        expect: String,
    },
}
