//! The IIS configuration names this backend writes, spelled as `IIS_schema.xml` spells them.
//! `tests/data/iis-schema.json` (copied from the oracle) checks every one of them.

use crate::ir::ClientCerts;

/// `system.webServer/security/access`: SSL and client-certificate negotiation per path.
pub(super) const ACCESS: &str = "system.webServer/security/access";
/// Anonymous authentication.
pub(super) const ANONYMOUS: &str = "system.webServer/security/authentication/anonymousAuthentication";
/// Basic authentication.
pub(super) const BASIC: &str = "system.webServer/security/authentication/basicAuthentication";
/// Digest authentication.
pub(super) const DIGEST: &str = "system.webServer/security/authentication/digestAuthentication";
/// Active Directory client-certificate mapping (not the IIS one-to-one/many-to-one mapping,
/// `iisClientCertificateMappingAuthentication`).
pub(super) const CERT_MAPPING: &str = "system.webServer/security/authentication/clientCertificateMappingAuthentication";
/// Windows authentication (Negotiate/NTLM).
pub(super) const WINDOWS: &str = "system.webServer/security/authentication/windowsAuthentication";
/// Request buffering; `uploadReadAheadSize` lives here. `serverRuntime` alone is ambiguous
/// (`system.ftpServer/serverRuntime` exists too), so the full path is always written.
pub(super) const SERVER_RUNTIME: &str = "system.webServer/serverRuntime";
/// Application pools (`AppHostOnly`: server level only, never inside a `<location>`).
pub(super) const APP_POOLS: &str = "system.applicationHost/applicationPools";

/// The order sections are written in, inside one scope; IIS ignores the order, snapshots do not.
pub(super) const SECTION_ORDER: [&str; 8] = [
    APP_POOLS,
    ACCESS,
    ANONYMOUS,
    BASIC,
    DIGEST,
    CERT_MAPPING,
    WINDOWS,
    SERVER_RUNTIME,
];

/// The attribute every authentication section has.
pub(super) const ENABLED: &str = "enabled";
/// `access@sslFlags`.
pub(super) const SSL_FLAGS: &str = "sslFlags";
/// `serverRuntime@uploadReadAheadSize`.
pub(super) const UPLOAD_READ_AHEAD: &str = "uploadReadAheadSize";
/// `uploadReadAheadSize` is a uint with `integerRange 0,2147483647`.
pub(super) const UPLOAD_READ_AHEAD_MAX: u64 = 2_147_483_647;
/// `windowsAuthentication/providers`, a collection keyed on `value`.
pub(super) const PROVIDERS: &str = "providers";
/// The providers a delegating front end (SEG, TMG) needs, in order: Kerberos first.
pub(super) const WINDOWS_PROVIDERS: [&str; 2] = ["Negotiate", "NTLM"];
/// `applicationPools/add/processModel@identityType` values mailsec may set (`SpecificUser`
/// needs a password, which never reaches an artefact).
pub(super) const IDENTITY_TYPES: [&str; 4] = [
    "LocalSystem",
    "LocalService",
    "NetworkService",
    "ApplicationPoolIdentity",
];

/// Characters the schema's `siteName` validator refuses.
pub(super) const SITE_NAME_FORBIDDEN: &str = "/?";
/// Characters the schema's `applicationPoolName` validator refuses.
pub(super) const APP_POOL_NAME_FORBIDDEN: &str = "|<>&\"/[]+=;:,?*@";

/// `access@sslFlags` for a client-certificate mode, always with Require SSL. "Require" writes
/// both certificate flags: correct whether `SslRequireCert` is read alone or with
/// `SslNegotiateCert` (IIS 6 semantics needed both).
pub(super) fn ssl_flags(certs: ClientCerts) -> &'static str {
    match certs {
        ClientCerts::Ignore => "Ssl",
        ClientCerts::Accept => "Ssl, SslNegotiateCert",
        ClientCerts::Require => "Ssl, SslNegotiateCert, SslRequireCert",
    }
}

/// The schema spelling of a boolean.
pub(super) fn bool_value(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// Windows features (Server Manager role services) a setting needs, by `Install-WindowsFeature`
/// name. `Web-Client-Auth` is "Client Certificate Mapping Authentication", the Active
/// Directory mapping; `Web-Cert-Auth` would be the IIS one-to-one mapping, which mailsec does
/// not configure.
pub(super) const FEATURE_CERT_MAPPING: &str = "Web-Client-Auth";
/// "Basic Authentication".
pub(super) const FEATURE_BASIC: &str = "Web-Basic-Auth";
/// "Windows Authentication".
pub(super) const FEATURE_WINDOWS: &str = "Web-Windows-Auth";
