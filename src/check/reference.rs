//! The language reference: documentation for every block kind and setting of the schema,
//! and the generator of `docs/language.md`.
//!
//! The schema (`schema.rs`) says what is valid; this module says what it means. It is a
//! table of its own so that adding a setting stays one line in the schema; the test suite
//! compares the two ([`undocumented`]) and names every setting that still lacks a
//! description here.

use super::schema::{self, Field, Header};

/// Documentation of one block kind.
struct KindDoc {
    kind: &'static str,
    /// What the block describes.
    about: &'static str,
    /// Which scenarios of the domain use it.
    scenarios: &'static str,
    /// What the compiler produces from it.
    produces: &'static str,
    settings: &'static [SettingDoc],
    /// A minimal valid block, checked by the test suite against [`EXAMPLE_UNIT`].
    example: &'static str,
}

/// Documentation of one setting.
struct SettingDoc {
    name: &'static str,
    /// One to three sentences.
    text: &'static str,
    /// What an omitted optional setting means; empty for required settings.
    default: &'static str,
    /// Meaning of enum words, where it matters (all of the enum's words, or none).
    values: &'static [(&'static str, &'static str)],
}

const fn s(name: &'static str, text: &'static str, default: &'static str) -> SettingDoc {
    SettingDoc {
        name,
        text,
        default,
        values: &[],
    }
}

const fn sv(
    name: &'static str,
    text: &'static str,
    default: &'static str,
    values: &'static [(&'static str, &'static str)],
) -> SettingDoc {
    SettingDoc {
        name,
        text,
        default,
        values,
    }
}

/// The deployment gates every block except `organization`, `server` and `authority` takes.
const GATE_DOCS: &[SettingDoc] = &[
    s(
        "not_before",
        "The operations generated from this block carry a date gate: the scripts and the runbook do not run them before this date.",
        "no date gate",
    ),
    s(
        "approval",
        "The operations generated from this block wait for this approval (a sentence saying who confirms what). With `not_before` as well, both must hold.",
        "no approval gate",
    ),
];

/// `strong` on the blocks that map device certificates to accounts implicitly (by UPN).
const STRONG_HOST: SettingDoc = sv(
    "strong",
    "How the implicit UPN mapping of the device certificates is made strong under KB5014754 (domain controllers in Full Enforcement refuse weak mappings). A statement about the PKI and the directory, verified in the runbook on a device certificate or the test user. Only for certificate authentication, and only where no `cert_mapping` covers the `authority` (then the mapping's `strong` applies).",
    "weak: warning MS0236 when devices authenticate by certificate",
    &[
        ("sid_extension", "the device certificates carry the user's SID: the SID security extension (an AD CS template that builds the subject from Active Directory, or a CA that adds it for requests with a supplied subject) or the SAN URL `tag:microsoft.com,2022-09-14:sid:<SID>`"),
        ("issuer_serial", "each user's `altSecurityIdentities` maps the certificate by issuer and serial number (`X509:<I>...<SR>...`)"),
        ("ski", "each user's `altSecurityIdentities` maps the certificate by subject key identifier (`X509:<SKI>...`)"),
        ("sha1_public_key", "each user's `altSecurityIdentities` maps the certificate by SHA-1 hash of the public key (`X509:<SHA1-PUKEY>...`)"),
    ],
);

const EAS_AUTH_VALUES: &[(&str, &str)] = &[
    (
        "password",
        "user name and password only: client certificates are ignored and no IIS client-certificate configuration is generated",
    ),
    (
        "certificate_and_password",
        "the client certificate is required and mapped (SSL setting Require, `sslFlags` `Ssl, SslNegotiateCert, SslRequireCert`); Basic stays on as the fallback identity. Not two-factor: when the certificate maps, its identity is used",
    ),
    (
        "certificate_or_password",
        "a mixed fleet while it migrates: client certificates are accepted (SSL setting Accept) and mapped, devices without one sync with their password alone; warns (MS0235)",
    ),
    (
        "certificate",
        "a client certificate only: Basic off, client certificates required (SSL setting Require) and mapped",
    ),
    (
        "kerberos",
        "delegated Kerberos tickets only, for a server behind the hop that authenticated the device (a TMG listener or a SEG): Windows authentication on (Negotiate, NTLM), client certificates ignored, Basic off, no certificate mapping. Refused where no chain delegates to the server (MS0253) and on a `seg` (MS0256)",
    ),
];

/// A unit every example block (except the organization's) is checked in: it declares the
/// names the examples refer to.
pub const EXAMPLE_UNIT: &str = r#"organization "Contoso" {
  smtp_domains = [contoso.com]
  exchange     = 2016
  tenant       = contoso.onmicrosoft.com
  ad_domain    = corp.contoso.com
  netbios      = "CONTOSO"
}

server exch01 {
  fqdn  = exch01.corp.contoso.com
  roles = [mailbox, client_access, hub_transport, eas]
}

server seg01 {
  fqdn  = seg01.corp.contoso.com
  roles = [seg]
}

server tmg01 {
  fqdn  = tmg01.corp.contoso.com
  roles = [tmg]
}

server ca01 {
  fqdn  = ca01.corp.contoso.com
  roles = [ca]
}

server dc01 {
  fqdn  = dc01.corp.contoso.com
  roles = [domain_controller]
}

server dc02 {
  fqdn  = dc02.corp.contoso.com
  roles = [domain_controller]
}

authority contoso_root {
  kind        = standalone
  common_name = "Contoso Root CA"
  certificate = file("certs/contoso-root-ca.cer")
}

authority contoso_issuing {
  kind              = enterprise
  parent            = contoso_root
  common_name       = "Contoso Issuing CA 1"
  certificate       = file("certs/contoso-issuing-ca.cer")
  server            = ca01
  ntauth            = true
  template_key_size = 2048
}

certificate mail_contoso {
  subject  = { O = "Contoso", CN = "mail.contoso.com" }
  domains  = [mail.contoso.com, exch01.corp.contoso.com]
  key      = { size = 2048 }
  issuer   = contoso_issuing
  servers  = [exch01, tmg01]
  services = [smtp]
}

tmg_listener eas_listener {
  server      = tmg01
  certificate = mail_contoso
  auth        = client_certificate
  strong      = sid_extension
}

ws1_authority contoso_ndes {
  type      = generic_scep
  ca_name   = "Contoso Issuing CA 1"
  url       = "https://ca01.corp.contoso.com/certsrv/mscep/"
  challenge = secret("NDES_SCEP_CHALLENGE")
  authority = contoso_issuing
}

ws1_template eas_device {
  authority = contoso_ndes
  subject   = "CN={DeviceUid}"
  key_size  = 2048
  san       = [{ type = email, value = "{EmailAddress}" }, { type = upn, value = "{UserPrincipalName}" }]
  eku       = [client_auth]
}
"#;

const KINDS: &[KindDoc] = &[
    KindDoc {
        kind: "organization",
        about: "The Exchange organisation the unit configures: its mail domains, its Exchange version, its Active Directory domain and its Exchange Online tenant. A file that declares an `organization` is a unit; each unit has exactly one (MS0111).",
        scenarios: "every scenario (S1–S7)",
        produces: "no operation of its own; its values feed the others (version-dependent parameters and checks, account domains, the default IIS site) and the runbook's title and sign-off",
        settings: &[
            s(
                "smtp_domains",
                "The organisation's SMTP domains. The first is the primary domain: a `certificate` without `domains` requests it as its DNS name (`-DomainName`).",
                "",
            ),
            s(
                "exchange",
                "The Exchange version the scripts are written for. `online` means Exchange Online only: connectors and `retire` are refused (MS0221) and `smime` must use mode `cloud`. On `2010`, `tls_certificate` of a send connector and on-premises S/MIME are refused (MS0221).",
                "",
            ),
            s(
                "ad_domain",
                "The Active Directory DNS domain. Named in the domain-membership prerequisites of ActiveSync and SEG servers; without `netbios`, its first label in capitals is the account domain of SPNs, delegation and alternate service accounts.",
                "none: the prerequisites say \"the Active Directory domain\", and the account domain is `netbios` or `DOMAIN`",
            ),
            s(
                "ad_forest",
                "The forest root domain, recorded in the plan's organization (`--emit ir`).",
                "`ad_domain`",
            ),
            s(
                "netbios",
                "The NetBIOS domain name, used for accounts written `DOMAIN\\name`: SPN registrations, constrained delegation and the alternate service account.",
                "the first label of `ad_domain` in capitals, else `DOMAIN`",
            ),
            s(
                "tenant",
                "The Exchange Online tenant, like `contoso.onmicrosoft.com`. An `smime` block in mode `cloud` or `hybrid` needs it (MS0104).",
                "none: the organization has no Exchange Online side",
            ),
            s(
                "iis_site",
                "The IIS site name used for ActiveSync and SEG configuration when neither the block nor its server names a site (the guides mix \"Default Website\" and \"Default Web Site\"; this is the one name used throughout). Checked for characters IIS and appcmd cannot carry (MS0120).",
                "`Default Web Site`",
            ),
            s(
                "owner",
                "Who owns the change: named in the runbook's facts as the change owner, and as the party that exchanges certificate requests with an issuing party.",
                "none: the runbook says \"the change owner\"",
            ),
        ],
        example: r#"organization "Contoso" {
  smtp_domains = [contoso.com]
  exchange     = 2016
  tenant       = contoso.onmicrosoft.com
  ad_domain    = corp.contoso.com
  netbios      = "CONTOSO"
  iis_site     = "Default Web Site"
  owner        = "Contoso messaging team"
}"#,
    },
    KindDoc {
        kind: "server",
        about: "A machine that receives artefacts: an Exchange server, an ActiveSync or SEG server, a TMG server, a domain controller or a certificate authority. Other blocks name servers to say where things run.",
        scenarios: "every on-premises scenario (S1, S2 hybrid, S3–S7)",
        produces: "a host of the plan: one script and one runbook section per server that has operations",
        settings: &[
            s(
                "fqdn",
                "The server's DNS name. Its first label is the Exchange server name (`-Server`, `-SourceTransportServers`) and, in capitals with `$`, the computer account of Kerberos delegation; SPNs are registered for the FQDN.",
                "",
            ),
            sv(
                "roles",
                "What the server does. Roles choose hosts for operations that no block places explicitly, and decide some checks.",
                "",
                &[
                    ("hub_transport", "Exchange transport: the default host of a `retire`"),
                    ("client_access", "Exchange Client Access; on-premises S/MIME runs on the first `mailbox`, else the first `client_access` server"),
                    ("mailbox", "Exchange Mailbox server"),
                    ("edge", "Exchange Edge Transport"),
                    ("eas", "serves Exchange ActiveSync"),
                    ("seg", "runs the Secure Email Gateway"),
                    ("tmg", "Forefront TMG reverse proxy"),
                    ("domain_controller", "a domain controller: NTAuth publication, SPNs, delegation and certificate mappings run on the first one declared; a unit with a `chain` and only one warns (MS0228)"),
                    ("ca", "a certificate authority server"),
                    ("ndes", "a Network Device Enrollment Service (SCEP) server"),
                ],
            ),
            s(
                "site",
                "The IIS site on this server, for the `activesync` and `seg` blocks on it that name no `site`. Checked for characters IIS cannot carry (MS0120).",
                "the organization's `iis_site`",
            ),
            s(
                "ip",
                "The server's IP address. A TMG server publishing rule to this server publishes it (its `published_ip` default); with it the rule's `fpc4` export can be written.",
                "none",
            ),
            s(
                "owner",
                "Who administers this server; the runbook names them with each step on it.",
                "none: the runbook names only the administrator role",
            ),
        ],
        example: r#"server hub01 {
  fqdn  = hub01.corp.contoso.com
  roles = [hub_transport, mailbox]
  site  = "Default Web Site"
  owner = "Messaging team"
}"#,
    },
    KindDoc {
        kind: "authority",
        about: "A certificate authority: a public or partner CA whose certificates must be trusted, or the organisation's own AD CS hierarchy. Certificates, client-certificate authentication, S/MIME and Workspace ONE name authorities; the compiler trusts the whole chain (parents first) on every server that needs it.",
        scenarios: "S1 (the partner's root), S2 (the S/MIME issuers), S3–S7 (the client-certificate issuers)",
        produces: "trust steps (`LocalMachine\\Root` or `LocalMachine\\CA`) on each server that uses the authority, the NTAuth publication on a domain controller, and CRL reachability checks",
        settings: &[
            sv(
                "kind",
                "What sort of authority this is.",
                "",
                &[
                    ("external", "a public or third-party CA; OWA cannot use its S/MIME certificates (MS0222), and it cannot issue certificates for Kerberos delegation (MS0208)"),
                    ("partner", "a CA run by a partner (S1): when a certificate is requested from it, its certificate arrives with the issued certificate and is trusted after that"),
                    ("enterprise", "an Active Directory integrated AD CS CA"),
                    ("standalone", "a CA outside Active Directory, like an offline root; it cannot back Workspace ONE or certificates mapped by UPN (MS0220)"),
                    ("intermediate", "a subordinate CA, trusted in `LocalMachine\\CA`"),
                ],
            ),
            s(
                "certificate",
                "The CA's certificate file, imported by the trust steps and published to NTAuth.",
                "none: the trust step only checks, by `common_name`, that the certificate is already trusted, and stops when it is not",
            ),
            s(
                "common_name",
                "The CN of the CA's certificate. The trust step checks that `certificate` is this CA's (or, without a file, looks the CA up by this name), and a send connector's `TlsCertificateName` names it as the issuer.",
                "none",
            ),
            s(
                "parent",
                "The authority that issued this CA's certificate. The parent is trusted before the child, and an authority with a parent is trusted in `LocalMachine\\CA`.",
                "none: a root, trusted in `LocalMachine\\Root` (unless `kind = intermediate`)",
            ),
            s(
                "ntauth",
                "Publish the CA's certificate to the enterprise NTAuth store on a domain controller (`certutil -dspublish -f <file> NTAuthCA`). UPN certificate mapping and client-certificate authentication need it (MS0207). Published only in units that map this CA's certificates to logons (MS0239); an `external` or `partner` CA is published behind an approval gate (MS0238).",
                "`false`",
            ),
            s(
                "ntauth_approval",
                "For an `external` or `partner` CA with `ntauth = true`: the approval the NTAuth publication waits for (who confirmed that the hierarchy issues only to this organisation). Recording it silences MS0238.",
                "a gate asking the PKI owner to approve the publication, and warning MS0238",
            ),
            s(
                "cdp",
                "The CRL distribution point URLs. Every server that trusts the authority gets a check that the CRL is reachable without a proxy (IIS checks revocation of every client certificate).",
                "none: no CRL check",
            ),
            s(
                "aia",
                "The authority information access URLs of the CA's certificate. No check or artefact reads them at present.",
                "none",
            ),
            s(
                "server",
                "The server the CA runs on. Certificate requests to this authority are submitted there, and the Workspace ONE prerequisite check of a CA backed by it runs there.",
                "none: requests go to the issuing party outside the organisation",
            ),
            s(
                "template",
                "The AD CS certificate template the CA issues from, for the reader. No check or artefact reads it at present.",
                "none",
            ),
            s(
                "template_key_size",
                "The key length of the CA's certificate template. A `ws1_template` whose `ws1_authority` is backed by this authority must request the same length (MS0213).",
                "none: no key-length comparison",
            ),
        ],
        example: r#"authority contoso_issuing_2 {
  kind              = enterprise
  parent            = contoso_root
  common_name       = "Contoso Issuing CA 2"
  certificate       = file("certs/contoso-issuing-ca-2.cer")
  server            = ca01
  ntauth            = true
  cdp               = ["http://pki.contoso.com/pki/contoso-issuing-ca-2.crl"]
  template_key_size = 2048
}"#,
    },
    KindDoc {
        kind: "certificate",
        about: "A server certificate the organisation requests, installs and enables: for SMTP TLS with a partner, for IIS, or for a TMG listener.",
        scenarios: "S1 (the partner-issued SMTP certificate), S7 (the TMG listener certificate)",
        produces: "the certificate request (`New-ExchangeCertificate -GenerateRequest`) on the first server, a manual step to submit it and receive the certificate, its import on every server, `Enable-ExchangeCertificate` for its services, and for SMTP a check that it is the only SMTP certificate",
        settings: &[
            s(
                "subject",
                "The subject of the request, a record of `C`, `S`, `L`, `O`, `OU` and `CN` (only `CN` is required), written in that order as `-SubjectName`. The CN is also the HELO name of a receive connector that uses the certificate without `fqdn`.",
                "",
            ),
            s(
                "domains",
                "The DNS names of the request (`-DomainName`, the subject alternative names).",
                "the organization's first `smtp_domains` entry (the cmdlet requires one)",
            ),
            s(
                "key",
                "The key: `{ size = 2048, exportable = true }`. `size` is required (below 2048 warns, MS0200; on a server with an Exchange role only 1024, 2048 and 4096 are accepted, MS0113); `exportable` (default `false`) makes the private key exportable, so the certificate can later move to another server.",
                "",
            ),
            sv(
                "eku",
                "The extended key usages the certificate is meant for. A request made with certreq (on a server without Exchange, such as a TMG server) carries them in its `[EnhancedKeyUsageExtension]`; `New-ExchangeCertificate` sets its own and does not read them.",
                "server authentication for a certreq request",
                &[
                    ("server_auth", "TLS server authentication"),
                    ("client_auth", "TLS client authentication"),
                    ("secure_email", "S/MIME"),
                    ("smart_card_logon", "smart-card logon"),
                ],
            ),
            s(
                "issuer",
                "The authority that issues the certificate. Its chain is trusted on every server of the certificate, and the request is submitted on the authority's `server` (or to the issuing party).",
                "none: no trust steps, and a warning (MS0227)",
            ),
            s(
                "servers",
                "The servers the certificate is installed on. The request is generated on the first; the others import the same issued certificate after it.",
                "",
            ),
            s(
                "services",
                "The Exchange services the certificate is enabled for (`Enable-ExchangeCertificate -Services`). Only one certificate may be enabled for `smtp` on a server (MS0205); an SMTP certificate gets a read-back check.",
                "none: imported, not enabled for any service",
            ),
            s(
                "reference",
                "The reference number the issuing party gave for this request (S1: one number per certificate). Named in the request and submission steps, and the default base of the request and certificate file names.",
                "none",
            ),
            s(
                "request",
                "Where the certificate request is written.",
                "`<reference>.req`, or `<name>.req` without a reference",
            ),
            s(
                "issued",
                "Where the issued certificate is expected, for the import.",
                "`<reference>.cer`, or `<name>.cer` without a reference",
            ),
            s("friendly_name", "The certificate's friendly name in the request.", "none"),
        ],
        example: r#"certificate owa_contoso {
  subject       = { C = "US", O = "Contoso", CN = "owa.contoso.com" }
  domains       = [owa.contoso.com, autodiscover.contoso.com]
  key           = { size = 2048, exportable = false }
  eku           = [server_auth]
  issuer        = contoso_issuing
  servers       = [exch01]
  services      = [iis]
  friendly_name = "owa.contoso.com"
}"#,
    },
    KindDoc {
        kind: "receive_connector",
        about: "An Exchange receive connector on one server: who may send to it, how they authenticate, and which certificate it presents. Names are the connector's display name and are unique among receive connectors.",
        scenarios: "S1 (mail from the partner's TLS servers)",
        produces: "`New-ReceiveConnector` / `Set-ReceiveConnector` on its server, a read-back of the applied values, and a restart of MSExchangeTransport",
        settings: &[
            s("server", "The server the connector runs on.", ""),
            s(
                "certificate",
                "The certificate the connector presents. It must be installed on the connector's server (MS0206), and the connector is configured after the certificate is enabled.",
                "none",
            ),
            s(
                "fqdn",
                "The name answered in HELO/EHLO (`-Fqdn`). It must be the CN or a DNS name of `certificate` (MS0204).",
                "the CN of `certificate`; without a certificate, Exchange's default",
            ),
            s(
                "bindings",
                "The local addresses and ports the connector listens on, as `\"address:port\"` strings.",
                "`[\"0.0.0.0:25\"]`",
            ),
            s(
                "remote_ips",
                "The remote addresses allowed to connect (`-RemoteIPRanges`): exactly the partner's sending servers. A range wider than `/8` warns (MS0203).",
                "",
            ),
            sv(
                "auth",
                "The authentication mechanisms (`-AuthMechanism`).",
                "",
                &[
                    ("tls", "`Tls`"),
                    ("basic", "`BasicAuth`"),
                    ("basic_require_tls", "`BasicAuthRequireTLS`"),
                    ("integrated", "`Integrated` (Windows authentication)"),
                    ("exchange_server", "`ExchangeServer`"),
                    ("externally_secured", "`ExternalAuthoritative`"),
                ],
            ),
            sv(
                "permission_groups",
                "The permission groups (`-PermissionGroups`).",
                "none",
                &[
                    ("anonymous", "`AnonymousUsers`"),
                    ("exchange_users", "`ExchangeUsers`"),
                    ("exchange_servers", "`ExchangeServers`"),
                    ("exchange_legacy_servers", "`ExchangeLegacyServers`"),
                    ("partners", "`Partners`"),
                ],
            ),
            s("require_tls", "Require TLS for all mail on the connector (`-RequireTLS`).", "`false`"),
            s(
                "usage",
                "The connector's usage type (`-Usage`: `Custom`, `Internet`, `Internal`, `Partner`, `Client`).",
                "`custom`",
            ),
            s(
                "max_message_size",
                "The largest message accepted (`-MaxMessageSize`).",
                "Exchange's default",
            ),
            s(
                "tls_domain",
                "A TLS domain of the connector. The script does not apply it yet (Exchange's `TlsDomainCapabilities` needs a capability the language cannot name) and says so in a note.",
                "none",
            ),
        ],
        example: r#"receive_connector "From Partner" {
  server            = exch01
  certificate       = mail_contoso
  fqdn              = mail.contoso.com
  remote_ips        = [203.0.113.25, 198.51.100.0/28]
  auth              = [tls, basic, integrated]
  permission_groups = [anonymous, exchange_users, exchange_servers, exchange_legacy_servers]
  require_tls       = true
  max_message_size  = 25MiB
}"#,
    },
    KindDoc {
        kind: "send_connector",
        about: "An Exchange send connector: which addresses it routes, through which smart hosts, with which authentication and TLS requirements. Names are the connector's display name and are unique among send connectors.",
        scenarios: "S1 (outbound mail through the partner's smart host)",
        produces: "`New-SendConnector` / `Set-SendConnector` on the first source server and a read-back of the address spaces, the routing, `SmartHostAuthMechanism`, `RequireTLS` and `IgnoreSTARTTLS`",
        settings: &[
            s(
                "address_spaces",
                "The address spaces the connector routes, like `[\"*\"]` for all mail.",
                "",
            ),
            s(
                "smart_hosts",
                "The smart hosts mail is relayed through. With smart hosts, DNS routing is off; without them, the connector routes by DNS.",
                "none: DNS routing",
            ),
            s(
                "dns_routing",
                "Whether the connector routes by DNS. `true` together with `smart_hosts` is refused (MS0104); otherwise routing follows `smart_hosts` and this value is not read.",
                "routing follows `smart_hosts`",
            ),
            s(
                "auth",
                "Smart-host authentication: `basic(secret(\"NAME\"))` for Basic with the credential the secret names (asked for, or read from a SecretManagement vault, when the script runs), or `none`. Basic without `require_tls = true` is refused (MS0201).",
                "`none`",
            ),
            s(
                "require_tls",
                "Require TLS for all mail on the connector (`-RequireTLS`); the connector wizard leaves it off.",
                "`false`",
            ),
            s(
                "ignore_starttls",
                "Never offer STARTTLS (`-IgnoreSTARTTLS`). `true` is refused (MS0202).",
                "`false`",
            ),
            s(
                "source_servers",
                "The transport servers that send through the connector. The script runs on the first.",
                "",
            ),
            s(
                "usage",
                "The connector's usage type (`-Usage`: `Custom`, `Internet`, `Internal`, `Partner`, `Client`).",
                "`custom`",
            ),
            sv(
                "tls_auth_level",
                "How the remote server's certificate is checked (`-TlsAuthLevel`).",
                "not set (Exchange's default)",
                &[
                    ("encryption_only", "`EncryptionOnly`: encrypt, do not validate"),
                    ("certificate_validation", "`CertificateValidation`: the certificate chain must validate"),
                    ("domain_validation", "`DomainValidation`: the chain must validate and the name must match `tls_domain`"),
                ],
            ),
            s("tls_domain", "The domain the remote certificate must carry (`-TlsDomain`).", "none"),
            s(
                "tls_certificate",
                "The certificate the connector presents (`-TlsCertificateName`: the script reads `<I>issuer<S>subject` from the issued certificate at run time, as Exchange compares them with the certificate's own fields). Needs Exchange 2013 or later (MS0221) and must be installed on every source server (MS0206).",
                "none: Exchange uses the certificate enabled for SMTP",
            ),
            s("cost", "The address-space cost; the lowest cost wins.", "`1`"),
            s("fqdn", "The name the connector gives in HELO/EHLO (`-Fqdn`).", "Exchange's default"),
            s("port", "The port of the smart hosts or remote servers (`-Port`).", "Exchange's default (25)"),
            s(
                "max_message_size",
                "The largest message sent (`-MaxMessageSize`).",
                "Exchange's default",
            ),
        ],
        example: r#"send_connector "To Partner Smart Host" {
  usage           = custom
  address_spaces  = ["*"]
  smart_hosts     = [smtp.partner.example]
  auth            = basic(secret("PARTNER_SMTP"))
  require_tls     = true
  ignore_starttls = false
  source_servers  = [exch01]
  tls_auth_level  = domain_validation
  tls_domain      = smtp.partner.example
  tls_certificate = mail_contoso
  not_before      = 2026-12-01
}"#,
    },
    KindDoc {
        kind: "retire",
        about: "The removal of an existing connector once a new route works. The header names the kind and the display name of the connector being retired; it need not be declared in the unit. Retirements run last, after every connector of the unit has been read back.",
        scenarios: "S1 (removing the old ISP send and receive connectors)",
        produces: "`Remove-SendConnector` / `Remove-ReceiveConnector`, gated; for a send connector with `transition_cost`, a cost change while the unit's new send connectors take over",
        settings: &[
            s(
                "after",
                "The condition that must hold before the connector is removed, as a sentence; it becomes the operation's approval gate (with `approval` also given, the gate asks for both). A retirement without `after`, `not_before` or `approval` warns (MS0225).",
                "no gate of its own",
            ),
            s(
                "server",
                "The server of the connector. A retired receive connector needs it (MS0103), since receive connectors are per server; for a send connector it is where the removal runs.",
                "the first `hub_transport` server",
            ),
            s(
                "transition_cost",
                "For a send connector: the cost it gets while each new send connector of the unit takes over (S1: 20, up from 1). Refused for receive connectors (MS0104).",
                "no cost change",
            ),
        ],
        example: r#"retire send_connector "To ISP" {
  transition_cost = 20
  after           = "mail flows through the partner smart host"
}"#,
    },
    KindDoc {
        kind: "smime",
        about: "S/MIME for Exchange Online or Exchange on premises: the SST (serialized certificate store) of the CAs that issue the users' S/MIME certificates, and the users' publication of their certificates to the GAL.",
        scenarios: "S2 (cloud-only and hybrid)",
        produces: "`Set-SmimeConfig -SMIMECertificateIssuingCA` with the SST, a manual step for users to publish their certificates from Outlook, a check per user in `verify_users`, and in hybrid mode a directory-synchronisation check",
        settings: &[
            sv(
                "mode",
                "Where the mailboxes are; it must match the organization (MS0104).",
                "",
                &[
                    ("cloud", "Exchange Online only: needs `exchange = online` and a `tenant`"),
                    ("hybrid", "on premises and Exchange Online: needs a `tenant`; directory synchronisation carries the certificates to the cloud"),
                    ("on_premises", "Exchange on premises only: configured on the first `mailbox` (else `client_access`) server; needs Exchange 2013 or later (MS0221)"),
                ],
            ),
            s("sst", "The SST file of the issuing root and intermediate CAs, uploaded as it is.", ""),
            s("authorities", "The authorities whose certificates the SST holds.", ""),
            s(
                "dirsync_version",
                "The version of directory synchronisation (hybrid). Older than `6593.0012` is refused (MS0223): it does not replicate the S/MIME attributes.",
                "none: the check does not name a version",
            ),
            sv(
                "clients",
                "The mail clients that use S/MIME, checked against their limits.",
                "none: no client checks",
                &[
                    ("outlook", "Outlook 2010 or later"),
                    ("owa", "Outlook on the web: only certificates from a Windows CA, so an `external` or `partner` authority warns (MS0222)"),
                    ("eas", "ActiveSync clients (support varies by device)"),
                    ("windows_phone", "Windows Phone 8.1"),
                ],
            ),
            s(
                "verify_users",
                "Mailboxes whose published certificate is checked (`Get-Mailbox <user> | Format-List *user*`).",
                "none: no per-user check",
            ),
        ],
        example: r#"smime contoso_smime {
  mode            = hybrid
  sst             = file("certs/contoso-smime.sst")
  authorities     = [contoso_root, contoso_issuing]
  dirsync_version = "6593.0012"
  clients         = [outlook, owa]
  verify_users    = ["megan@contoso.com"]
}"#,
    },
    KindDoc {
        kind: "activesync",
        about: "The ActiveSync virtual directory of one Exchange server: how devices authenticate, with client certificates from which authority.",
        scenarios: "S3, S4, S5 (client certificates on the EAS server), S6 and S7 (the EAS server behind a gateway)",
        produces: "`Set-ActiveSyncVirtualDirectory`; with client certificates, the IIS configuration (client-certificate mapping, SSL settings, `uploadReadAheadSize`) after the authority's chain is trusted, and a browser test; behind a gateway that delegates, Windows authentication on the directory",
        settings: &[
            s("server", "The Exchange server whose ActiveSync directory this is.", ""),
            sv("auth", "How devices authenticate.", "", EAS_AUTH_VALUES),
            s(
                "site",
                "The IIS site of the ActiveSync application.",
                "the server's `site`, else the organization's `iis_site`, else `Default Web Site`",
            ),
            s(
                "upload_read_ahead",
                "IIS `uploadReadAheadSize` while client certificates are negotiated; below 10 MiB warns (MS0216: posts with attachments fail with HTTP 413), above 2147483647 bytes is refused (MS0113). Used only when `auth` involves certificates.",
                "`10MiB` (10485760)",
            ),
            s(
                "external_host",
                "The public host name devices use: sets `-ExternalUrl https://<host>/Microsoft-Server-ActiveSync` and is the address of the browser test.",
                "none: no external URL; the test uses the server's `fqdn`",
            ),
            s(
                "authority",
                "The authority that issues the client certificates. Its chain is trusted on the server before IIS is configured; with certificate authentication it must be in NTAuth or have a `one_to_one`/`many_to_one` mapping (MS0207) and must not be standalone (MS0220).",
                "none: no trust steps for client certificates",
            ),
            STRONG_HOST,
        ],
        example: r#"activesync eas_exch01 {
  server            = exch01
  auth              = certificate_and_password
  site              = "Default Web Site"
  upload_read_ahead = 10MiB
  external_host     = mail.contoso.com
  authority         = contoso_issuing
  strong            = sid_extension
}"#,
    },
    KindDoc {
        kind: "cert_mapping",
        about: "How client certificates of an authority map to Active Directory accounts: by UPN, or by name mappings (Alternative Security Identities).",
        scenarios: "S3",
        produces: "for `upn`, a check that the authority is in NTAuth; for the name mappings, a manual step in Active Directory Users and Computers",
        settings: &[
            sv(
                "kind",
                "The mapping method.",
                "",
                &[
                    ("one_to_one", "one certificate (issuer and subject) to its user; needs `subject`"),
                    ("many_to_one", "every certificate of the authority to one account; needs `account`"),
                    ("upn", "the UPN in the certificate's SAN names the user; needs the authority in NTAuth (MS0207)"),
                ],
            ),
            s("authority", "The authority whose certificates are mapped.", ""),
            s(
                "account",
                "The account all certificates map to. Required for `many_to_one` (MS0103); write `\"DOMAIN\\\\name\"`.",
                "none",
            ),
            s(
                "subject",
                "The certificate subject that maps to its user. Required for `one_to_one` (MS0103).",
                "none",
            ),
            s(
                "domain_controller",
                "The domain controller the step runs on.",
                "the first `domain_controller` server, else Active Directory in general",
            ),
            sv(
                "strong",
                "How the mapping is strong under KB5014754 (domain controllers in Full Enforcement refuse weak mappings). Issuer-only (`many_to_one`) mappings are never strong.",
                "weak: warning MS0236",
                &[
                    ("sid_extension", "the certificates carry the user's SID (security extension or SID URL SAN); for `upn`"),
                    ("issuer_serial", "an explicit mapping by issuer and serial number; for `one_to_one`"),
                    ("ski", "an explicit mapping by subject key identifier; for `one_to_one`"),
                    ("sha1_public_key", "an explicit mapping by SHA-1 hash of the public key; for `one_to_one`"),
                ],
            ),
        ],
        example: r#"cert_mapping users {
  kind              = upn
  authority         = contoso_issuing
  strong            = sid_extension
  domain_controller = dc01
}"#,
    },
    KindDoc {
        kind: "seg",
        about: "A Workspace ONE Secure Email Gateway: an IIS application that authenticates devices and forwards to Exchange ActiveSync, usually with Kerberos constrained delegation (see `chain`).",
        scenarios: "S6, S7 (TMG → SEG → EAS)",
        produces: "the SEG application pool and its Exchange host, IIS client-certificate configuration when `auth` involves certificates, and the prerequisite that the server is a domain member",
        settings: &[
            s("server", "The server the SEG runs on.", ""),
            s(
                "exchange_host",
                "The Exchange host the SEG forwards to (its web.config). In a `chain` it must be the name the next hop's SPN is registered for (MS0217).",
                "",
            ),
            s(
                "app_pool",
                "The IIS application pool of the SEG. Checked for characters IIS cannot carry (MS0120).",
                "`SecureEmailGateway`",
            ),
            sv(
                "identity",
                "The identity the application pool runs as; in a `chain` it is granted \"Act as part of the operating system\" and \"Impersonate a client after authentication\".",
                "`network_service`",
                &[
                    ("network_service", "`NetworkService` (`NT AUTHORITY\\NETWORK SERVICE`)"),
                    ("local_system", "`LocalSystem` (`NT AUTHORITY\\SYSTEM`)"),
                    ("application_pool_identity", "`ApplicationPoolIdentity` (`IIS AppPool\\SecureEmailGateway`)"),
                ],
            ),
            sv("auth", "How devices authenticate to the SEG.", "`password`", EAS_AUTH_VALUES),
            s(
                "site",
                "The IIS site of the SEG.",
                "the server's `site`, else the organization's `iis_site`, else `Default Web Site`",
            ),
            s(
                "upload_read_ahead",
                "IIS `uploadReadAheadSize` while client certificates are negotiated, as for `activesync` (MS0216, MS0113).",
                "`10MiB` (10485760)",
            ),
            s(
                "authority",
                "The authority that issues the client certificates, as for `activesync` (MS0207, MS0220). When the SEG's server authenticates the client certificates of a `chain`, it must not be `external` or `partner` (MS0208).",
                "none: no trust steps for client certificates",
            ),
            STRONG_HOST,
            s(
                "certificate",
                "The certificate the SEG presents to devices (the public name when a reverse proxy passes TLS through). It must be installed on the SEG's `server` (MS0206). The IIS script binds it to the HTTP.sys SSL binding of the site's https binding, by the thumbprint of its issued file, keeping every other field of the binding.",
                "none: the binding keeps the certificate it has",
            ),
        ],
        example: r#"seg seg_gateway {
  server            = seg01
  exchange_host     = exch01.corp.contoso.com
  app_pool          = "SecureEmailGateway"
  identity          = network_service
  auth              = certificate
  upload_read_ahead = 10MiB
  authority         = contoso_issuing
  strong            = sid_extension
}"#,
    },
    KindDoc {
        kind: "service_account",
        about: "An alternate service account (ASA) shared by the members of a Client Access array, so that Kerberos tickets for the array's name work on every member.",
        scenarios: "S6 (several CAS/EAS servers behind the SEG)",
        produces: "the ASA and the roll of its password to the array members (`RollAlternateServiceAccountPassword.ps1`), and the SPN `http/<array_fqdn>` registered on it",
        settings: &[
            s(
                "account",
                "The computer account of the ASA, like `\"CASARRAY-ASA\"` (a trailing `$` is dropped); it is written `DOMAIN\\account$`.",
                "",
            ),
            s(
                "array_fqdn",
                "The FQDN of the Client Access array; its SPN `http/<array_fqdn>` is registered on the ASA.",
                "",
            ),
            s("members", "The array members that share the account.", ""),
        ],
        example: r#"service_account casarray_asa {
  account    = "CASARRAY-ASA"
  array_fqdn = casarray.corp.contoso.com
  members    = [exch01]
}"#,
    },
    KindDoc {
        kind: "chain",
        about: "A Kerberos constrained delegation path: the hops a request passes from the gateway that authenticates the client certificate to the Exchange server, each hop delegating to the next.",
        scenarios: "S6 (SEG → EAS), S7 (TMG → EAS, TMG → SEG → EAS)",
        produces: "per pair of hops, the SPN of the next hop and the delegation (\"trust for delegation to specified services only\", with protocol transition), the user rights of the gateway identity, Kerberos prerequisites (firewall, one domain, clocks) and a duplicate-SPN check",
        settings: &[
            s(
                "path",
                "The hops in order, from the gateway to the Exchange server.",
                "",
            ),
            s(
                "client_certificates",
                "The hop that authenticates client certificates: the first hop that terminates the device's TLS (MS0250). A TMG web listener terminates it, a `tmg_server_publishing` rule passes it through, IIS on a SEG or Exchange server terminates it. It must be on the path (MS0104) and authenticate the certificate (MS0251). Hops before it only pass TLS through and delegate nothing; hops after it receive Kerberos tickets and must accept them (`auth = kerberos`, MS0252); no other hop may require certificates (MS0209).",
                "",
            ),
            s(
                "target",
                "The alternate service account the last hop delegates to, when the last hop is a member of a Client Access array (MS0219 without it).",
                "none: the last hop's own computer account and FQDN",
            ),
            s(
                "protocol_transition",
                "Delegate with any authentication protocol (protocol transition), which a certificate logon needs; `false` is refused (MS0218).",
                "`true`",
            ),
            s("service", "The SPN service class of the delegation.", "`\"http\"`"),
        ],
        example: r#"chain seg_to_exch01 {
  path                = [seg01, exch01]
  client_certificates = seg01
  protocol_transition = true
  service             = "http"
}

seg seg_gateway {
  server            = seg01
  exchange_host     = exch01.corp.contoso.com
  auth              = certificate
  upload_read_ahead = 10MiB
  authority         = contoso_issuing
  strong            = sid_extension
}

activesync eas_exch01 {
  server = exch01
  auth   = kerberos
}"#,
    },
    KindDoc {
        kind: "tmg_listener",
        about: "A Forefront TMG web listener: the public endpoint devices connect to, with its SSL certificate and client authentication.",
        scenarios: "S7",
        produces: "for the `tmg` target, the listener in `tmg/<host>/70-publish.ps1` (COM, idempotent) and in the rule's `fpc4` export; with client certificate authentication, trust and CRL checks of its `authority` on TMG, an NTAuth-cache check and a check of TMG's CRL system policy; the wizard as the manual alternative in the runbook",
        settings: &[
            s("server", "The TMG server.", ""),
            s(
                "certificate",
                "The listener's SSL certificate; its CN is the published host name.",
                "",
            ),
            sv(
                "auth",
                "How clients authenticate to the listener.",
                "",
                &[
                    ("client_certificate", "SSL client certificate authentication"),
                    ("basic", "HTTP Basic"),
                    ("forms", "HTML forms"),
                    ("none", "no authentication"),
                ],
            ),
            s(
                "authority",
                "The authority of the client certificates TMG validates: trusted on TMG with its CRL checked there; it must be internal (MS0208) and in NTAuth (MS0207).",
                "none: a manual check on TMG that the device CA is trusted",
            ),
            STRONG_HOST,
            s("description", "The listener's description in TMG.", "none"),
            s(
                "addresses",
                "The TMG addresses the listener uses.",
                "none: all addresses of the External network",
            ),
            s("require_ssl", "Require SSL connections with clients.", "`true`"),
        ],
        example: r#"tmg_listener owa_listener {
  server      = tmg01
  certificate = mail_contoso
  auth        = client_certificate
  strong      = sid_extension
  description = "ActiveSync for mail.contoso.com"
  addresses   = [203.0.113.10]
  require_ssl = true
}"#,
    },
    KindDoc {
        kind: "publishing_rule",
        about: "A TMG Exchange web client access publishing rule: which listener publishes which internal server under which public name, and how TMG delegates the user's identity.",
        scenarios: "S7",
        produces: "for the `tmg` target, the rule in `tmg/<host>/70-publish.ps1` (COM, idempotent: Exchange application, SSL to the server, internal site name, public name, listener, Kerberos constrained delegation with the SPN, All Authenticated Users, TestConnectivity) and `tmg/<host>/<rule>.xml` (the listener and rule as an `fpc4` export); a check that TMG trusts the published server's certificate; a manual console step for the wizard's Exchange version and services; a verification through TMG's live log and the back end's `cs-username`",
        settings: &[
            s("listener", "The listener the rule uses; the rule is created on its server.", ""),
            s(
                "published_server",
                "The internal server published; its `fqdn` is the internal site name (the EAS server, or the SEG when a SEG is in the chain).",
                "",
            ),
            s("public_name", "The public host name the rule answers for.", ""),
            sv(
                "service",
                "The Exchange service published.",
                "`activesync`",
                &[
                    ("activesync", "Exchange ActiveSync"),
                    ("owa", "Outlook Web Access"),
                    ("outlook_anywhere", "Outlook Anywhere"),
                ],
            ),
            sv(
                "delegation",
                "How TMG passes the user's identity to the published server.",
                "`kerberos`",
                &[
                    ("kerberos", "Kerberos constrained delegation; needs `spn` (MS0103)"),
                    ("basic", "Basic"),
                    ("none", "no delegation"),
                ],
            ),
            s(
                "spn",
                "The SPN of the delegation: `\"http/<published server fqdn>\"` (MS0217), or `\"http/*\"` when `farm` has several servers (MS0226).",
                "none",
            ),
            s("farm", "The servers TMG load-balances, when it publishes a farm.", "none: a single web site"),
            s("ssl_to_server", "Connect to the published server over SSL.", "`true`"),
        ],
        example: r#"publishing_rule eas_rule {
  listener         = eas_listener
  published_server = exch01
  public_name      = mail.contoso.com
  service          = activesync
  delegation       = kerberos
  spn              = "http/exch01.corp.contoso.com"
  ssl_to_server    = true
}"#,
    },
    KindDoc {
        kind: "tmg_server_publishing",
        about: "A TMG server (non-web) publishing rule: TMG passes the device's TLS session through to the published server, which terminates it and authenticates the certificate. No web listener, no delegation and no user rights on TMG.",
        scenarios: "S7 (TMG → SEG → EAS, the SEG authenticates)",
        produces: "for the `tmg` target, the rule in `tmg/<host>/70-publish.ps1` (`AddServerPublishingRule` with the protocol, the published server's address and the External listening addresses); the console steps as the manual alternative in the runbook",
        settings: &[
            s("server", "The TMG server.", ""),
            s(
                "published_server",
                "The server that receives the connection and terminates the device's TLS (the SEG).",
                "",
            ),
            sv(
                "protocol",
                "The protocol passed through.",
                "`https`",
                &[("https", "TMG's HTTPS Server protocol (TCP 443)")],
            ),
            s(
                "addresses",
                "The External addresses TMG listens on.",
                "none: all addresses of the External network",
            ),
            s(
                "published_ip",
                "The published server's IP address.",
                "none: the server's `ip`, else resolved by the script (exactly one IPv4 address)",
            ),
            s("description", "The rule's description in TMG.", "none"),
        ],
        example: r#"tmg_server_publishing seg_passthrough {
  server           = tmg01
  published_server = seg01
  protocol         = https
  addresses        = [203.0.113.10]
  description      = "ActiveSync to the SEG (TLS passed through)"
}"#,
    },
    KindDoc {
        kind: "ws1_authority",
        about: "A certificate authority as Workspace ONE UEM sees it: an NDES/SCEP endpoint or an AD CS connector that issues device certificates.",
        scenarios: "S4 (Generic SCEP), S5 and S6 (AD CS)",
        produces: "a prerequisite check that the CA is ready, a manual step in the Workspace ONE console, and for the `workspace-one` target the console's CA form as an API body (`api/ca-<name>.json`, secrets only as references)",
        settings: &[
            sv(
                "type",
                "The kind of CA in Workspace ONE.",
                "",
                &[
                    ("generic_scep", "an enterprise CA with NDES, reached by SCEP"),
                    ("adcs", "Microsoft AD CS, reached with service-account `credentials` (MS0103 without them)"),
                ],
            ),
            s("ca_name", "The CA's name as entered in Workspace ONE.", ""),
            s(
                "url",
                "The SCEP or AD CS URL, like `\"https://ca01.corp.contoso.com/certsrv/adcs/\"`; it must end with `/` (MS0210).",
                "",
            ),
            s(
                "challenge",
                "The SCEP challenge: `secret(\"NAME\")` for a static challenge, or `none`.",
                "`none`",
            ),
            s(
                "credentials",
                "The service account's password, as `secret(\"NAME\")`. Required for `type = adcs` (MS0103).",
                "none",
            ),
            s("account", "The service account's user name, like `\"CONTOSO\\\\svc-ws1\"`.", "none"),
            s(
                "authority",
                "The `authority` behind it: its `server` hosts the prerequisite check, it must not be standalone (MS0220), and its `template_key_size` is compared with the templates' `key_size` (MS0213).",
                "none",
            ),
        ],
        example: r#"ws1_authority contoso_adcs {
  type        = adcs
  ca_name     = "Contoso Issuing CA 1"
  url         = "https://ca01.corp.contoso.com/certsrv/adcs/"
  account     = "CONTOSO\\svc-ws1-adcs"
  credentials = secret("WS1_ADCS_SERVICE_ACCOUNT")
  authority   = contoso_issuing
}"#,
    },
    KindDoc {
        kind: "ws1_template",
        about: "A Workspace ONE certificate request template: what device certificates look like. Its subject and SAN values may hold lookup values like `{EmailAddress}`.",
        scenarios: "S4, S5, S6",
        produces: "a manual step in the Workspace ONE console after its CA, and for the `workspace-one` target the template form as an API body (`api/template-<name>.json`)",
        settings: &[
            s("authority", "The Workspace ONE CA that issues the certificates.", ""),
            s(
                "subject",
                "The subject as a distinguished name of `ATTRIBUTE=value` parts (MS0261), with lookup values, like `\"CN={DeviceUid}\"`; a comma inside a value is escaped `\\\\,`.",
                "",
            ),
            s(
                "key_size",
                "The private key length; below 2048 warns (MS0200), and it must match the CA template's `template_key_size` (MS0213). An iOS profile enrolling through Generic SCEP accepts only 1024, 2048 and 4096 (MS0264).",
                "",
            ),
            sv(
                "key_type",
                "The key usage of the certificate.",
                "`signing_and_encryption`",
                &[
                    ("signing", "signing"),
                    ("encryption", "encryption"),
                    ("signing_and_encryption", "signing and encryption (what EAS uses)"),
                ],
            ),
            s(
                "san",
                "The subject alternative names, records `{ type = email|upn|dns, value = \"…\" }` with lookup values. A template used by a profile needs `email` and `upn` entries (MS0212); for an iOS profile enrolling through Generic SCEP, each type at most once (MS0265).",
                "none",
            ),
            s(
                "eku",
                "The extended key usages. A template used by a profile needs `client_auth` when `eku` is given (MS0224).",
                "none",
            ),
            s("ca_template", "The certificate template on the CA.", "none"),
            s("auto_renew", "Renew certificates automatically.", "`false`"),
            s(
                "renewal",
                "The Auto Renewal Period of automatic renewal; Workspace ONE counts whole days, so anything else is refused (MS0113). Without `auto_renew = true` the period would never be used and is refused (MS0104).",
                "`30d` when `auto_renew = true`",
            ),
            s("revoke_on_unenroll", "Revoke the certificate when the device unenrols.", "`false`"),
            s(
                "publish_private_key",
                "Publish the private key (for Lotus Domino only); `true` warns (MS0214).",
                "`false`",
            ),
            s(
                "force_key_generation_on_device",
                "Generate the key on the device. iOS only: refused when a profile of another platform uses the template (MS0215).",
                "`false`",
            ),
        ],
        example: r#"ws1_template eas_user {
  authority          = contoso_ndes
  subject            = "CN=WorkspaceONEUEM.{EnrollmentUser}"
  key_size           = 2048
  key_type           = signing_and_encryption
  san                = [
    { type = email, value = "{EmailAddress}" },
    { type = upn,   value = "{UserPrincipalName}" },
  ]
  eku                = [client_auth]
  ca_template        = "ContosoMobileUser"
  auto_renew         = true
  renewal            = 30d
  revoke_on_unenroll = true
}"#,
    },
    KindDoc {
        kind: "ws1_profile",
        about: "A Workspace ONE device profile for one platform: a credentials payload from a template, then the Exchange ActiveSync payload that uses it.",
        scenarios: "S4, S5, S6",
        produces: "a manual step in the Workspace ONE console after its template, a test with an enrolled device, and for the `workspace-one` target the MDM API create request (`api/profile-<name>.json`) and, for iOS, the configuration profile (`profiles/<name>.mobileconfig`)",
        settings: &[
            sv(
                "platform",
                "The device platform.",
                "",
                &[
                    ("ios", "iOS"),
                    ("android", "Android"),
                    ("windows", "Windows: the `workspace-one` target does not build it yet (MS0260)"),
                    ("macos", "macOS: the `workspace-one` target does not build it yet (MS0260)"),
                ],
            ),
            s("template", "The certificate template of the credentials payload.", ""),
            s("account_name", "The mail account's name on the device.", ""),
            s(
                "host",
                "The ActiveSync host: a bare host name, without `https://` or `/Microsoft-Server-ActiveSync` (MS0211). Unless the unit has a `seg`, it should be an `external_host` of an `activesync` block or a `public_name` of a `publishing_rule` when the unit declares any (MS0268).",
                "",
            ),
            s(
                "use_ssl",
                "Connect over SSL; the client certificate is only sent over TLS, so `false` is refused (MS0263).",
                "`true`",
            ),
            s(
                "use_smime",
                "Use S/MIME in the mail account; the profile delivers no S/MIME certificates, so `true` is refused (MS0262).",
                "`false`",
            ),
            s("domain", "The account's domain, usually a lookup value like `\"{EmailDomain}\"`.", "none"),
            s("username", "The account's user name, usually a lookup value.", "none"),
            s("email", "The account's email address, usually `\"{EmailAddress}\"`.", "none"),
            s(
                "trust",
                "Root authorities the profile installs on devices as trusted roots. Each must be a root (no `parent`, MS0266) with a `certificate` file (MS0267).",
                "none: the profile installs no roots",
            ),
        ],
        example: r#"ws1_profile eas_ios {
  platform     = ios
  template     = eas_device
  account_name = "Contoso Mail"
  host         = "mail.contoso.com"
  use_ssl      = true
  use_smime    = false
  domain       = "{EmailDomain}"
  username     = "{EmailAddress}"
  email        = "{EmailAddress}"
  trust        = [contoso_root]
}"#,
    },
];

fn doc_of(kind: &str) -> Option<&'static KindDoc> {
    KINDS.iter().find(|k| k.kind == kind)
}

fn enum_words(field: &Field) -> Option<&'static [&'static str]> {
    match field.ty {
        schema::Ty::Enum(words) => Some(words),
        schema::Ty::List(schema::Ty::Enum(words)) => Some(words),
        _ => None,
    }
}

/// What the reference lacks or has too much of compared with the schema: one line per
/// block kind, setting or enum word. Empty when the reference is complete.
pub fn undocumented() -> Vec<String> {
    let mut out = Vec::new();
    for b in schema::BLOCKS {
        match doc_of(b.kind) {
            None => out.push(format!("block kind `{}` is not documented", b.kind)),
            Some(k) => {
                check_settings(&mut out, &format!("`{}`", b.kind), b.settings, k.settings);
                if !k.example.starts_with(&format!("{} ", b.kind)) {
                    out.push(format!("`{}`: the example is not a `{}` block", b.kind, b.kind));
                }
            }
        }
    }
    check_settings(&mut out, "gates", schema::GATES, GATE_DOCS);
    for k in KINDS {
        if schema::block(k.kind).is_none() {
            out.push(format!("documented block kind `{}` is not in the schema", k.kind));
        }
    }
    out
}

fn check_settings(out: &mut Vec<String>, what: &str, fields: &[Field], docs: &[SettingDoc]) {
    for f in fields {
        match docs.iter().find(|d| d.name == f.name) {
            None => out.push(format!("{what}: setting `{}` is not documented", f.name)),
            Some(d) => {
                if d.text.trim().is_empty() {
                    out.push(format!("{what}: setting `{}` has no description", f.name));
                }
                if f.required && !d.default.is_empty() {
                    out.push(format!(
                        "{what}: setting `{}` is required but documented with a default",
                        f.name
                    ));
                }
                if !f.required && d.default.trim().is_empty() {
                    out.push(format!(
                        "{what}: optional setting `{}` has no documented default",
                        f.name
                    ));
                }
                let words = enum_words(f).unwrap_or(&[]);
                for (w, _) in d.values {
                    if !words.contains(w) {
                        out.push(format!(
                            "{what}: setting `{}` documents the value `{w}`, which the schema lacks",
                            f.name
                        ));
                    }
                }
                if !d.values.is_empty() {
                    for w in words {
                        if !d.values.iter().any(|(v, _)| v == w) {
                            out.push(format!("{what}: value `{w}` of setting `{}` is not documented", f.name));
                        }
                    }
                }
            }
        }
    }
    for d in docs {
        if !fields.iter().any(|f| f.name == d.name) {
            out.push(format!("{what}: documented setting `{}` is not in the schema", d.name));
        }
    }
}

/// Every example block of the reference as a unit to compile: the organization's on its
/// own, every other appended to [`EXAMPLE_UNIT`]. Pairs of block kind and source text.
pub fn examples() -> Vec<(&'static str, String)> {
    KINDS
        .iter()
        .map(|k| {
            let text = if k.kind == "organization" {
                format!("{}\n", k.example)
            } else {
                format!("{EXAMPLE_UNIT}\n{}\n", k.example)
            };
            (k.kind, text)
        })
        .collect()
}

/// A table cell: no line breaks, `|` escaped.
fn cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

fn header_form(b: &schema::BlockSpec) -> String {
    match b.header {
        Header::Retire => format!(
            "retire <kind> \"Display name\" {{ … }}` where `<kind>` is {}",
            schema::words_list(schema::RETIRABLE)
        ),
        Header::Name if b.kind == "organization" => "organization \"Display name\" { … }`".to_string(),
        Header::Name if !b.global_name => format!("{} \"Display name\" {{ … }}`", b.kind),
        Header::Name => format!("{} name {{ … }}`", b.kind),
    }
}

fn namespace_note(b: &schema::BlockSpec) -> &'static str {
    match b.header {
        Header::Retire => "The name is the retired connector's display name; a connector is retired once per kind and name.",
        Header::Name if b.kind == "organization" => "The name is the organisation's display name.",
        Header::Name if !b.global_name => "The name is the connector's display name, unique among connectors of this kind.",
        Header::Name => "The name is a bare identifier (or a quoted string) in the unit-wide namespace, which every kind but `organization`, the connectors and `retire` shares: no two such blocks have the same name, and other blocks refer to this one by its name.",
    }
}

fn settings_table(out: &mut String, fields: &[Field], docs: &[SettingDoc]) {
    out.push_str("| Setting | Type | Required | Default | Description |\n");
    out.push_str("|---|---|---|---|---|\n");
    for f in fields {
        let doc = docs.iter().find(|d| d.name == f.name);
        let (text, default) = doc.map_or(("", ""), |d| (d.text, d.default));
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            f.name,
            cell(&f.ty.describe()),
            if f.required { "required" } else { "optional" },
            if f.required { "—".to_string() } else { cell(default) },
            cell(text)
        ));
    }
    let with_values: Vec<&SettingDoc> = fields
        .iter()
        .filter_map(|f| docs.iter().find(|d| d.name == f.name))
        .filter(|d| !d.values.is_empty())
        .collect();
    for d in with_values {
        out.push_str(&format!("\nValues of `{}`:\n\n", d.name));
        for (word, meaning) in d.values {
            out.push_str(&format!("- `{word}`: {meaning}\n"));
        }
    }
}

const INTRO: &str = r#"# The mailsec language

This is the reference of the mailsec intent language: the file structure, the syntax of
values, and every block kind with its settings. It is generated from the compiler's schema
and its documentation table (`src/check/reference.rs`); do not edit it by hand. The test
suite fails when a setting of the schema is not documented here, and it compiles every
example below.

## Files, units and libraries

An intent file has the extension `.mailsec` and is UTF-8 text. It holds `include`
lines and blocks, in any order:

```
include "lib/contoso-pki.mailsec"

server exch01 {
  fqdn  = exch01.corp.contoso.com
  roles = [mailbox, client_access]
}
```

- A **block** is `kind name { settings }`. A setting is `name = value`; settings are
  separated by line breaks or spaces (a comma after a value is allowed), and each is given
  at most once. Blocks stand at the top level of a file and refer to each other by name;
  they are never nested.
- A file that declares an `organization` is a **unit**: it is compiled into one plan and
  one set of artefacts. A unit has exactly one organization.
- A file without an organization is a **library**. It is checked on its own (syntax and
  settings), and its blocks become part of every unit that includes it.
- `include "path"` pulls a library into a unit, where the line stands. The path is relative
  to the including file and must stay below the compile root: the directory named on the
  command line (or the named file's directory), widened to the nearest parent directory
  holding a `mailsec.toml`. A file included twice is read once; include cycles are errors.
- Names of servers, authorities, certificates and the other named blocks share one
  namespace per unit, included libraries too. Connectors are named by their display names,
  unique per connector kind.
- **Comments** run from `#` to the end of the line.
- **Suppressions**: `allow MS0229 "why"` inside a block silences that lint (codes MS0200 and
  up) on that block. The reason is required (MS0124), the code must exist and be a lint
  (MS0125), and a suppression that matches nothing is reported (MS0230). Suppressions are
  carried into the plan and listed in the runbook under "Suppressed findings".

## Values

| Value | Syntax | Notes |
|---|---|---|
| string | `"text"` | Escapes `\"`, `\\`, `\n`, `\t`, `\r` and `\u{263A}`; any other backslash is an error, so a Windows account is written `"CONTOSO\\svc-eas"`. A string does not span lines. |
| number | `2048`, `-1` | Whole numbers; settings give their range. |
| boolean | `true`, `false` | Without quotes. |
| host name | `mail.contoso.com` | Bare (at least one dot) or quoted; labels of letters, digits and `-`; a quoted name may start with the label `*`. No scheme, path or port. |
| IP address | `203.0.113.10`, `2001:db8::25` | IPv4 or IPv6. |
| address range | `10.0.0.0/8`, `2001:db8::/32` | CIDR notation. |
| date | `2026-12-01` | `YYYY-MM-DD`, a real calendar date. |
| duration | `30d` | A whole number with `ms`, `s`, `m`, `h`, `d` or `w`. |
| size | `10MiB` | A whole number with `B`, `KB`, `MB`, `GB` (powers of 1000) or `KiB`, `MiB`, `GiB` (powers of 1024). |
| word | `hub_transport` | A bare word: one of a setting's listed values, or the name of a block. |
| list | `[a, b, c]` | Comma-separated; a trailing comma and line breaks are allowed. An entry may not repeat, and required lists must not be empty. |
| record | `{ size = 2048, exportable = true }` | Fields `name = value`, separated by commas or line breaks. |
| file | `file("certs/root.cer")` | A path relative to the file that names it. |
| secret | `secret("ONE_MAIL_SMTP")` | A reference to a secret (letters, digits, `_`, `-`, `.`), resolved where the artefact runs; never the secret itself. A secret written as a plain string is an error. |
| smart-host credential | `basic(secret("NAME"))` | Basic authentication with the credential the secret names. |
| lookup values | `"CN={DeviceUid}"` | In Workspace ONE strings, `{Name}` is a lookup value Workspace ONE fills in per device; unknown names are errors. |

The Workspace ONE lookup values: LOOKUP_LIST, and `{CustomAttributeN}` for a number N.

## Deployment gates

Every block except `organization`, `server` and `authority` takes two more settings. They
hold back the operations generated from the block; the scripts and the runbook show the gate.

"#;

/// The language reference as Markdown: the contents of `docs/language.md`.
pub fn markdown() -> String {
    let lookups: Vec<String> = schema::LOOKUPS.iter().map(|l| format!("`{{{l}}}`")).collect();
    let mut out = INTRO.replace("LOOKUP_LIST", &lookups.join(", "));
    settings_table(&mut out, schema::GATES, GATE_DOCS);
    out.push_str(
        "\n## Examples\n\nEach block kind below ends with an example. The examples are checked as part of this unit,\nwhich declares the names they refer to (the organization's example is checked on its own):\n\n```\n",
    );
    out.push_str(EXAMPLE_UNIT);
    out.push_str("```\n\n## Block kinds\n\n");
    let kinds: Vec<String> = schema::BLOCKS
        .iter()
        .map(|b| format!("[`{0}`](#{0})", b.kind))
        .collect();
    out.push_str(&kinds.join(", "));
    out.push('\n');
    for b in schema::BLOCKS {
        let doc = doc_of(b.kind);
        out.push_str(&format!("\n## {}\n\n", b.kind));
        if let Some(d) = doc {
            out.push_str(d.about);
            out.push_str("\n\n");
            out.push_str(&format!("- Used in: {}.\n", d.scenarios));
            out.push_str(&format!("- Produces: {}.\n", d.produces));
        }
        out.push_str(&format!("- Header: `{}. {}\n", header_form(b), namespace_note(b)));
        if schema::takes_gates(b.kind) {
            out.push_str("- Also takes the gate settings `not_before` and `approval` (see [Deployment gates](#deployment-gates)).\n");
        } else {
            out.push_str("- Takes no gate settings.\n");
        }
        out.push('\n');
        settings_table(&mut out, b.settings, doc.map_or(&[], |d| d.settings));
        if let Some(d) = doc {
            out.push_str("\nExample:\n\n```\n");
            out.push_str(d.example);
            out.push_str("\n```\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::schema::Ty;

    #[test]
    fn a_missing_or_stale_setting_is_named() {
        let fields = [
            Field {
                name: "documented",
                ty: Ty::Enum(&["a", "b"]),
                required: false,
            },
            Field {
                name: "new_setting",
                ty: Ty::Bool,
                required: true,
            },
        ];
        let docs = [
            sv("documented", "Text.", "`a`", &[("a", "first")]),
            s("removed", "Text.", "none"),
        ];
        let mut out = Vec::new();
        check_settings(&mut out, "`kind`", &fields, &docs);
        assert_eq!(
            out,
            [
                "`kind`: value `b` of setting `documented` is not documented",
                "`kind`: setting `new_setting` is not documented",
                "`kind`: documented setting `removed` is not in the schema",
            ]
        );
    }
}
