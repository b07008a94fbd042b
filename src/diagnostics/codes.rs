//! The catalogue of diagnostic codes. Codes are stable: never renumber, only add.

use serde::Serialize;
use std::fmt;

/// Error or warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops the build (exit 1).
    Error,
    /// Reported; the build goes on unless warnings are denied.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

macro_rules! codes {
    ($( $variant:ident = $code:literal, $sev:ident, $title:literal, $explain:literal; )*) => {
        /// A stable diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(
                #[doc = $title]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in numeric order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The `MS0xxx` string.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code),* }
            }

            /// Default severity.
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev),* }
            }

            /// One-line title.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title),* }
            }

            /// Long explanation for `mailsec explain`.
            pub fn explain(self) -> &'static str {
                match self { $(Code::$variant => $explain),* }
            }
        }
    };
}

impl Code {
    /// Looks a code up by its string, case-insensitively (`ms0101` works).
    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

codes! {
    Syntax = "MS0001", Error, "syntax error",
"The text does not follow the mailsec grammar. The message says what was expected at the
point where reading stopped.

A file is a list of `include \"path\"` lines and blocks:

    server hub01 {
      fqdn  = \"exch01.contoso.local\"
      roles = [hub_transport]
    }

Settings are `name = value`; strings use double quotes and may contain the escapes
\\\" \\\\ \\n \\t \\r and \\u{HEX}. Comments start with `#` and run to the end of the line.";

    NotUtf8 = "MS0002", Error, "file is not valid UTF-8",
"mailsec reads intent files as UTF-8. The file contains a byte sequence that is not UTF-8,
often because it was saved as UTF-16 (Notepad's \"Unicode\") or Windows-1252.

Save the file as UTF-8 (without a byte-order mark is preferred; a BOM is accepted).";

    Binary = "MS0003", Error, "file looks binary",
"The file contains NUL bytes, so it is not a text file. An intent file must be plain UTF-8
text; check that the path does not name a certificate, a CSR or an archive by mistake.";

    InvisibleChar = "MS0004", Error, "invisible or bidirectional control character",
"The file contains a Unicode bidirectional control (U+202A..U+202E, U+2066..U+2069) or a
zero-width character (U+200B..U+200D, U+2060, U+FEFF inside the text). Such characters make
text display differently from what the compiler reads (\"Trojan Source\", CVE-2021-42574): a
connector name or an address can look right in review and be something else.

Delete the character. If a name really needs a special character, write it as an escape
(`\\u{200B}`) so that reviewers see it.";

    TooDeep = "MS0005", Error, "nesting too deep",
"Lists, records and blocks may nest at most 64 levels. Real intent never comes close; deeper
nesting is almost always a generated or damaged file. The limit keeps the compiler from
exhausting its stack.";

    InvalidLiteral = "MS0006", Error, "invalid literal",
"A typed literal has the right shape but an impossible value: an IPv4 octet above 255, a
CIDR prefix above 32 (128 for IPv6), a date that does not exist, a number too large, a size
or duration that overflows, or an unknown string escape.

    remote_ips = [76.75.133.96, 10.0.0.0/8]
    not_before = 2026-12-01
    upload_read_ahead = 10MiB";

    IncludeNotFound = "MS0007", Error, "included file cannot be read",
"An `include \"path\"` names a file that does not exist or cannot be read. Paths are relative
to the file that contains the include, not to the current directory:

    # in estate/units/one-mail.mailsec
    include \"../lib/partners.mailsec\"   # reads estate/lib/partners.mailsec

Check the spelling and the extension, and that the file is below the compile root.";

    IncludeCycle = "MS0008", Error, "include cycle",
"A file includes itself, directly or through other files. Includes form a tree: move the
shared definitions into a library file that includes nothing that includes it back.";

    IncludeOutsideRoot = "MS0009", Error, "include leaves the compile root",
"An include may only name files below the compile root: the directory given on the command
line, or the file's own directory when a file is given. A `mailsec.toml` file in a parent
directory makes that directory the root. This keeps a unit from reading arbitrary files of
the machine that builds it (for example in CI).";

    FileTooLarge = "MS0010", Error, "file too large",
"Intent files are limited to 16 MiB. Real intent is a few kilobytes per estate; a larger file
is almost always generated or the wrong file. Split a very large estate into one unit per
organization and put shared definitions (partner authorities, CA chains) into libraries
that the units `include`.";

    NotRegularFile = "MS0011", Error, "not a regular file",
"An intent file, an include or a `file(\"…\")` reference names something that is not a
regular file: a named pipe (FIFO), a device such as `/dev/zero`, or a socket. Reading it
could block forever or never end, so mailsec refuses it. Name the file itself; generated
intent belongs in a file written before `mailsec` runs, not in a pipe.";

    IncludeTooDeep = "MS0012", Error, "include chain too deep",
"Includes may nest at most 64 files deep (a unit including a library including a library…).
Real estates use two or three levels; a longer chain is almost always generated or a
mistake. Flatten the chain: let the unit include the libraries it needs directly.";

    TooManyBlocks = "MS0013", Error, "too many blocks in one unit",
"A unit (its own file and everything it includes) may hold at most 2,000,000 blocks. The
limit bounds the memory and time one compilation can take; split a larger estate into one
unit per organization, with shared definitions in libraries.";

    UnknownBlock = "MS0100", Error, "unknown block kind",
"The word before `{` names no kind of block mailsec knows. Top-level kinds are:
organization, server, authority, certificate, receive_connector, send_connector, retire,
smime, activesync, cert_mapping, seg, service_account, chain, tmg_listener,
publishing_rule, ws1_authority, ws1_template, ws1_profile. The message suggests the closest
one; the README's tour and `src/check/schema.rs` describe each.";

    UnknownSetting = "MS0101", Error, "unknown setting",
"The setting is not one of the block kind's settings. Typos are the usual cause; the help
line suggests the closest known setting, or lists every setting the block takes.

    send_connector \"Out\" {
      requre_tls = true    # error: unknown setting, did you mean `require_tls`?
    }

Settings that belong to another block kind are reported here too: `remote_ips` is a setting
of `receive_connector`, not of `send_connector`.";

    DuplicateSetting = "MS0102", Error, "setting given twice",
"A setting may appear once per block; a second one would silently win or lose depending on
the tool, so mailsec refuses both. Keep one. If both values are meant, use a list:

    smart_hosts = [relay1.partner.example, relay2.partner.example]

The same holds for the fields of a record such as `subject = { CN = \"…\" }`.";

    MissingSetting = "MS0103", Error, "required setting missing",
"The block kind needs this setting to produce correct artefacts: a `receive_connector` needs
its `server`, `remote_ips` and `auth`; a `certificate` its `subject`, `key` and `servers`; a
`ws1_profile` its `platform`, `template`, `account_name` and `host`. The help line names the
missing setting and the kind of value it takes. Some settings are required only together
with others (a many-to-one `cert_mapping` needs `account`); those are reported here too.";

    ConflictingSettings = "MS0104", Error, "settings exclude each other",
"Two settings were given that cannot both hold, or a setting contradicts the organization:
a send connector with both `smart_hosts` and `dns_routing = true`; a `transition_cost` on a
retired receive connector (only send connectors have a cost); S/MIME `mode = cloud` in an
organization that runs Exchange on premises; a chain whose `client_certificates` hop is not
on its `path`; a Workspace ONE template with a `renewal` period but without `auto_renew =
true` (the period is only used by automatic renewal). Keep the one you mean; the labels show
both places.";

    TypeMismatch = "MS0105", Error, "wrong type of value",
"The value has the wrong type for the setting: a string where a list is expected, a number
where a size is expected, and so on. The message names the expected type. Units matter:
`upload_read_ahead = 10MiB`, `renewal = 30d`.";

    UnknownVariant = "MS0106", Error, "unknown value",
"The setting takes one of a fixed set of words, written bare (without quotes):

    auth              = [tls, basic, integrated]
    permission_groups = [anonymous, exchange_users, exchange_servers]
    exchange          = 2019

The help line lists the accepted words and suggests the closest to what was written.";

    DuplicateName = "MS0107", Error, "name defined twice",
"Two blocks have the same name. Servers, authorities, certificates, gateways, chains and
Workspace ONE objects share one namespace across the unit and its includes, so `hub01`
cannot be both a server and a certificate. Connectors are named by display strings, unique
per connector kind. The secondary label shows where the name was first defined, possibly
in an included library.";

    UnresolvedReference = "MS0108", Error, "unknown name",
"A reference names nothing declared in the unit or its includes. References are bare names:

    issuer  = ssha_root      # an `authority ssha_root { … }` must exist
    servers = [hub01]

Check the spelling (the help line suggests the closest name of the right kind) or add the
missing block, or the `include` of the library that declares it.";

    WrongReferenceKind = "MS0109", Error, "reference to the wrong kind of block",
"The name exists but is a different kind of block than the setting needs: for example
`issuer = hub01` where `hub01` is a server and an authority is expected, or a publishing
rule's `listener` naming a certificate. The secondary label shows where the name is
defined; the help line suggests a block of the right kind.";

    BadHeader = "MS0110", Error, "block header is malformed",
"The words between the block kind and `{` are wrong for the kind: most blocks take one name
(`server hub01`, `receive_connector \"From ONE Mail\"`), `organization` takes its display
name, and `retire` takes the kind and name of what it retires
(`retire send_connector \"To ISP\"`).";

    TwoOrganizations = "MS0111", Error, "more than one organization in a unit",
"A compilation unit describes one estate and has exactly one `organization` block: its
Exchange version and SMTP domains decide which cmdlets and parameters every script uses.
Two organizations in one unit (in one file or through includes) would make that ambiguous.
Put the second organization in its own file; shared definitions go into a library that
both include.";

    NotAllowedHere = "MS0112", Error, "block not allowed here",
"Blocks stand at the top level of a file and refer to each other by name; they cannot be
nested (for example a `server` inside a `certificate`).

    server hub01 { fqdn = hub01.contoso.local  roles = [hub_transport] }
    certificate smtp { … servers = [hub01] }

Move the inner block to the top level and reference it.";

    OutOfRange = "MS0113", Error, "value out of range",
"The number is outside what the product accepts: RSA key sizes 512..=16384 for certificates
(and 1024..=16384 for Workspace ONE templates), address-space costs 1..=100, TCP ports
1..=65535, `upload_read_ahead` at most 2147483647 bytes (IIS stores it as a 31-bit value),
and Workspace ONE renewal periods in whole days (`30d`, not `36h`). The message names the
allowed range; values that are legal but weak (a 1024-bit key) are warnings of their own
(MS0200).";

    UnknownLookup = "MS0114", Error, "unknown Workspace ONE lookup value",
"Workspace ONE replaces `{Name}` placeholders in templates and profiles with device or user
attributes. Only its known lookup values are replaced; anything else reaches the device
literally. Known: {EnrollmentUser}, {EmailAddress}, {EmailUserName}, {EmailDomain},
{UserPrincipalName}, {DeviceUid}, {DeviceSerialNumber}, {DeviceAssetNumber},
{DeviceFriendlyName}, {DevicePlatform}, {DeviceModel}, {FirstName}, {LastName},
{GroupIdentifier}, {EnrollmentUserId}, {CustomAttribute1}..{CustomAttributeN}.";

    SecretLiteral = "MS0115", Error, "secret written as a literal",
"Passwords, SCEP challenges and service-account credentials must never be written in an
intent file: they would end up in version control and in every generated artefact. Write a
reference instead, resolved where the artefact runs:

    auth = basic(secret(\"ONE_MAIL_SMTP\"))

Exchange scripts prompt with Get-Credential (or read a declared credential store); runbooks
tell the operator where to enter it.";

    BadCall = "MS0116", Error, "unknown function or wrong arguments",
"Values can be built with three functions:

    secret(\"NAME\")            a secret, by reference (letters, digits, `_`, `-`, `.`)
    file(\"path\")              a file on the machine where the step runs
    basic(secret(\"NAME\"))     Basic smart-host authentication with that secret

The function name, or the number or type of its arguments, is wrong.";

    EmptyList = "MS0117", Error, "list must not be empty",
"The setting needs at least one entry: an empty `remote_ips` would make a receive connector
that accepts mail from nowhere, an empty `source_servers` a send connector that no server
runs, an empty `roles` a server that receives no artefact. Give the entries, or remove the
block if it is not needed.";

    InvalidHostname = "MS0118", Error, "invalid host name",
"Host names are DNS names: labels of letters, digits and hyphens separated by dots, each at
most 63 characters, no leading or trailing hyphen, 253 characters in all. URLs, ports and
paths are not host names (write `mail.contoso.com`, not `https://mail.contoso.com/`).";

    DuplicateEntry = "MS0119", Error, "list entry given twice",
"The list names the same entry twice, for example the same partner address in `remote_ips`
or the same server in `servers`. Exchange would store it once, so the repetition is at best
noise and often a sign that a different value was meant (a mistyped second address). Remove
the repetition or correct the value; the secondary label shows the first entry.";

    InvalidIisName = "MS0120", Error, "invalid IIS site or application pool name",
"IIS refuses site names with `/` or `?` and application pool names with any of
`| < > & \" / [ ] + = ; : , ? * @`. mailsec also refuses `\"`, control characters, non-ASCII
characters (the generated `.cmd` runs in the console code page) and leading or trailing
spaces in both, and `'` in pool names (it quotes them inside appcmd selectors). Use the name
exactly as IIS Manager shows it, for example \"Default Web Site\" or \"SecureEmailGateway\".";

    CaseOnlyDuplicate = "MS0121", Error, "names differ only in case",
"Two blocks of the same namespace have names that differ only in upper and lower case. The
products compare these names case-insensitively: Exchange connector names, server and
host names, certificate and authority names used as file and directory names, IIS and
Workspace ONE object names. `To Partner` and `to partner` would be one connector, and the
second `New-SendConnector` fails or changes the first. Give each block its own name.";

    MalformedLookup = "MS0122", Error, "malformed lookup placeholder",
"A Workspace ONE lookup value is written `{Name}`, with both braces and nothing nested:

    value = \"{UserPrincipalName}\"

An opening brace without its closing one (`\"{UserPrincipalName\"`), a closing brace
without an opening one, or a brace inside a placeholder reaches the device literally,
so the certificate carries the text instead of the user's value.";

    UnsafeName = "MS0123", Error, "name with characters no output can show safely",
"A name or another string that reaches scripts, runbooks and configuration contains a line
break, a control character, or an invisible or bidirectional formatting character (for
example U+202E or U+200B, even when written as a `\\u{…}` escape). A line break in a name
becomes a second command in a `.cmd` block; bidirectional controls make a runbook that a
change board approves display something other than what runs. Such characters cannot be
quoted in every output language, so mailsec refuses them: write the name with visible
characters only.";

    SuppressionWithoutReason = "MS0124", Error, "suppression without a reason",
"`allow` suppresses one finding on one block, and a reviewer must be able to see why. Write
the reason as a string after the code:

    send_connector \"To Partner\" {
      allow MS0229 \"partner accepts only opportunistic TLS; contract 2026-14 covers it\"
      …
    }

The reason appears in the runbook's list of suppressions.";

    BadSuppression = "MS0125", Error, "suppression names no lint",
"`allow` takes the code of a lint: a finding about the security or consistency of valid
intent (MS0200 and above, listed by `mailsec explain --list`). Errors about the text
itself (syntax, unknown settings, types, names) cannot be suppressed: fix the text.";

    WeakKey = "MS0200", Warning, "RSA key shorter than 2048 bits",
"Keys below 2048 bits are deprecated (NIST SP 800-131A) and refused by many partners and
public CAs. The ONE Mail guide shows `-KeySize 1024`: use 2048 or more.

    key = { size = 2048, exportable = true }";

    TlsNotRequired = "MS0201", Error, "connector does not require TLS",
"A send connector that routes to a partner smart host with credentials must require TLS:
otherwise Exchange falls back to plain SMTP when STARTTLS fails and sends the Basic
credentials and the mail in clear. The connector wizard leaves RequireTLS off; mailsec emits
`Set-SendConnector -RequireTLS $true` when you write `require_tls = true`.";

    IgnoreStartTls = "MS0202", Error, "connector ignores STARTTLS",
"`ignore_starttls = true` makes the send connector ignore the STARTTLS offer of the next hop,
so mail and credentials always travel in clear, whatever `require_tls` says. The ONE Mail
guide checks `IgnoreSTARTTLS : False` after the wizard; mailsec emits
`-IgnoreSTARTTLS $false` and verifies it. Write `ignore_starttls = false` or leave it out.";

    OpenRelayRange = "MS0203", Warning, "receive connector open to every address",
"A partner receive connector should accept connections only from the partner's sending
addresses. 0.0.0.0/0 (0.0.0.0-255.255.255.255) gives the connector's permissions and
authentication to the whole Internet. List the partner's TLS-OUT addresses instead.";

    FqdnCertMismatch = "MS0204", Error, "connector FQDN is not on its certificate",
"The FQDN a receive connector answers in HELO/EHLO must be the certificate's CN or one of its
SAN names, or Exchange will not offer that certificate for STARTTLS (event 12014). For ONE
Mail the FQDN is the reference number, which is the certificate's CN.";

    SmtpCertConflict = "MS0205", Error, "two certificates enabled for SMTP on one server",
"Only one certificate may be enabled for SMTP on a server for a partner TLS route: with two,
Exchange picks one implicitly and a renewal can silently switch the certificate the partner
sees. Enable one; keep the other for IIS or remove it.";

    CertNotOnServer = "MS0206", Error, "certificate not installed on the server that uses it",
"A connector or a SEG uses a certificate that is not installed on its server (a connector's
`tls_certificate` on a source server, a receive connector's `certificate`, a `seg`'s
`certificate`). Add the server to the certificate's `servers` list (the certificate is
exportable, so it can be imported on more than one server) or pick another certificate.";

    NtAuthMissing = "MS0207", Error, "authority not published to NTAuth",
"UPN mapping of client certificates and Kerberos protocol transition from a certificate both
require the issuing CA to be in the enterprise NTAuth store
(`certutil -dspublish -f <ca>.cer NTAuthCA`). Set `ntauth = true` on the authority that
issues the user or device certificates.";

    ExternalCaForKcd = "MS0208", Error, "external CA cannot issue certificates for KCD",
"With a Secure Email Gateway doing Kerberos constrained delegation, the user certificates must
come from an internal (enterprise) CA of the SEG's domain; a public or partner CA cannot be
trusted for NTAuth logon. Use an `enterprise` authority.";

    DoubleCertTermination = "MS0209", Error, "client certificate authenticated twice",
"In a TMG or SEG chain exactly one hop authenticates the client certificate: IIS certificate
auth is configured on the EAS server (TMG to EAS) or on the SEG (TMG to SEG to EAS), never on
both. The ActiveSync virtual directory behind a delegating hop must not require client
certificates; it accepts the delegated Kerberos ticket with Windows authentication.";

    UrlTrailingSlash = "MS0210", Error, "certificate authority URL must end with `/`",
"Workspace ONE's SCEP and AD CS URLs must end with `/` (for example
`https://ca.contoso.local/certsrv/adcs/`); without it requests fail with an unhelpful error.";

    EasHostNotHost = "MS0211", Error, "ActiveSync host must be a bare host name",
"The Exchange ActiveSync payload's host is a host name only: no `https://` and no
`/Microsoft-Server-ActiveSync`; the device adds both. With them the device builds a URL
like `https://https://mail.contoso.com/…` and the account never syncs.

    host = \"mail.contoso.com\"";

    EasSanMissing = "MS0212", Warning, "EAS certificate template lacks email or UPN in the SAN",
"Certificates used for ActiveSync mapping or SEG delegation need the user's email address and
UPN in the subject alternative name. Add `san = [{ type = email, value = \"{EmailAddress}\" },
{ type = upn, value = \"{UserPrincipalName}\" }]`.";

    KeySizeMismatch = "MS0213", Warning, "template key size differs from the CA template",
"The Workspace ONE request template's private key length must match the key length of the
certificate template on the CA, or the CA rejects the request.";

    PrivateKeyPublish = "MS0214", Warning, "`publish_private_key` is for Lotus Domino only",
"Publishing the private key to a server only makes sense for Lotus Domino. For ActiveSync it
exposes the key for nothing. Leave it false.";

    IosOnlyOption = "MS0215", Error, "option only exists on iOS",
"`force_key_generation_on_device` is an iOS-only option of the Workspace ONE template; a
profile for Android, Windows or macOS that uses the template would not get the key
generated on the device as intended. Use a separate template for iOS, or drop the option.";

    UploadReadAheadSmall = "MS0216", Warning, "uploadReadAheadSize too small for client certificates",
"When IIS renegotiates TLS to ask for a client certificate it must buffer the request body;
with the 48 KB default, ActiveSync requests with attachments fail with HTTP 413. Use at least
10 MiB (10485760), as the vendor guides do.";

    SpnMismatch = "MS0217", Error, "SPN target does not match the published host",
"Kerberos constrained delegation only works if the service the gateway delegates to
(`http/<host>`) is the host the gateway actually calls: the Exchange host in the SEG's
web.config, or the internal site name of the TMG rule. Make them the same FQDN.";

    NoProtocolTransition = "MS0218", Error, "delegation without protocol transition",
"The front end (TMG or SEG) authenticates the user by certificate, not by Kerberos, so it
must be trusted to delegate with any authentication protocol (protocol transition,
TrustedToAuthForDelegation). Set `protocol_transition = true`.";

    ArrayWithoutAsa = "MS0219", Error, "load-balanced Exchange without an alternate service account",
"When several Client Access servers answer one name, the SPN `http/<array fqdn>` must belong to
one account shared by all of them: an alternate service account (ASA). Declare a
`service_account` with the array members and use it as the delegation target.";

    StandaloneCa = "MS0220", Error, "a standalone CA cannot serve this",
"NDES for Workspace ONE, AD CS requests from Workspace ONE, and NTAuth (UPN) logon with client
certificates need an enterprise CA, integrated with Active Directory and publishing its
templates there. A standalone CA has no templates and is not trusted for logon. Use an
authority of `kind = enterprise`.";

    VersionParameter = "MS0221", Error, "setting not supported by the Exchange version",
"The setting maps to a cmdlet parameter that the organization's Exchange version does not
have (for example `TlsAuthLevel` arrived with Exchange 2013). Remove it or raise `exchange`.";

    SmimeClient = "MS0222", Warning, "S/MIME client limitation",
"OWA's S/MIME control only accepts certificates issued by a Windows CA, needs a supported
browser and .NET; cross-tenant S/MIME does not work in OWA and ActiveSync. The message says
which declared client and CA combination will not work.";

    DirSyncTooOld = "MS0223", Error, "directory sync too old for S/MIME certificates",
"Hybrid S/MIME needs the directory synchronisation tool to replicate `userCertificate` and
`userSMIMECertificate`; DirSync builds before 6593.0012 do not. Upgrade (or use Azure AD
Connect) and declare the version.";

    ClientAuthEku = "MS0224", Warning, "certificate lacks the Client Authentication EKU",
"A certificate used to authenticate a client (ActiveSync, SEG, mutual TLS) must carry the
Client Authentication extended key usage (1.3.6.1.5.5.7.3.2). Add `client_auth` to `eku`.";

    UngatedRetirement = "MS0225", Warning, "retirement has no gate",
"Removing the old connectors before the new route is verified cuts mail off. Give the
retirement a gate: `after = \"...\"` (a manual approval) or `not_before = <date>`.";

    SpnFarm = "MS0226", Warning, "load-balanced TMG rule should use `http/*`",
"When TMG load-balances a web farm it requests a ticket for whichever member serves the
request, so the publishing rule's Kerberos constrained delegation SPN must be the wildcard
`http/*` (and delegation must be allowed to each member's `http/<fqdn>`). A single-server SPN
works for one member and fails for the others.";

    NoIssuer = "MS0227", Warning, "certificate has no issuer",
"Without an issuer mailsec cannot emit the trust steps (root into LocalMachine\\Root,
intermediates into LocalMachine\\CA) nor check the chain. Name the authority that issues it.";

    SingleKdc = "MS0228", Warning, "a single domain controller is a single point of failure",
"Kerberos constrained delegation needs a KDC for every request; with one declared domain
controller, its outage stops all ActiveSync traffic through the gateway.";

    TmgHopWithoutRule = "MS0130", Error, "TMG hop publishes nothing to the next hop",
"A `tmg` server on a chain's path must publish the next hop, either with a web
`publishing_rule` (its listener terminates the device's TLS) or with a
`tmg_server_publishing` rule (TCP passed through; the next hop terminates TLS). Without either
mailsec cannot tell which hop sees the device certificate.";

    CertHopMismatch = "MS0250", Error, "`client_certificates` is not the hop that terminates the device's TLS",
"Only the first hop that terminates the device's TLS session can see the device certificate:
a TMG web listener terminates it (SSL bridging opens a new session to the published server,
and TMG has no device key to present); a TMG server publishing rule passes it through; IIS
on a SEG or Exchange server terminates it. `client_certificates` must name that hop. Every hop
behind it receives a delegated Kerberos ticket (Exchange Team, \"Demystifying Certificate
Based Authentication with ActiveSync\": the certificate is accepted by Exchange or by the KCD
device - you can choose only one).";

    NoCertHop = "MS0251", Error, "no hop authenticates the device certificate",
"The hop that terminates the device's TLS must authenticate the certificate: a TMG web
listener with `auth = client_certificate`, or an `activesync`/`seg` block with
`auth = certificate`. Otherwise the chain has no user to delegate for and devices are
refused (or let in without a certificate). Either authenticate there, or publish with
`tmg_server_publishing` so that the next hop terminates TLS and authenticates.";

    KerberosNotAccepted = "MS0252", Error, "delegated Kerberos ticket cannot be accepted",
"A hop behind a Kerberos-delegating hop receives the user's Kerberos ticket, not the device
certificate. Its virtual directory needs Windows authentication (Negotiate, NTLM) on and
client certificates ignored. Exchange's ActiveSync directory has Windows authentication off
by default, so a hop that nothing configures refuses the ticket with 401. Declare the block
with `auth = kerberos`.";

    KerberosWithoutDelegation = "MS0253", Error, "`auth = kerberos` but nothing delegates to the server",
"`auth = kerberos` accepts only tickets obtained by a delegating front end (TMG or SEG with
Kerberos constrained delegation). Devices cannot get Kerberos tickets from the Internet, so on
a server no chain delegates to it locks every device out. Put the server behind a `chain`,
or use `auth = certificate` or `auth = password`.";

    BackendCertName = "MS0254", Error, "published server's certificate does not carry the internal site name",
"TMG bridges SSL: it opens its own TLS session to the published server by the rule's internal
site name (the server's FQDN) and rejects the server certificate unless that name is its CN or
in its SAN, and its issuer is trusted on TMG. Add the FQDN to the certificate's `domains`.";

    PublicNameNotOnListener = "MS0255", Error, "public name is not on the listener's certificate",
"Devices connect to the publishing rule's public name and check it against the certificate
of the TMG web listener. If the name is neither the certificate's CN nor in its SAN, every
device refuses the connection before TMG sees a request. Add the public name to the
certificate's `domains`, or publish the name the certificate carries.";

    SegKerberosInbound = "MS0256", Error, "a SEG cannot be relied on to accept Kerberos",
"TMG -> SEG -> EAS with TMG authenticating the certificate would need a double delegation:
TMG delegates to http/<seg>, the SEG accepts that Kerberos ticket and delegates again to the
EAS server. VMware documents the SEG only as the hop that authenticates the device
certificate, not as a Kerberos service, so mailsec refuses `auth = kerberos` on a `seg`
until that is verified with the vendor. Publish the SEG with `tmg_server_publishing` and let
it authenticate the certificate (`auth = certificate`).";

    PartnerTlsNotRequired = "MS0229", Error, "partner send connector does not require TLS",
"A send connector that routes to smart hosts or to named partner address spaces carries
mail to one known party: it must require TLS. With `require_tls` omitted or `false` mailsec
would emit `-RequireTLS $false`, Exchange falls back to plain SMTP whenever STARTTLS fails,
and a drift check would switch TLS off on a live connector. Write `require_tls = true`. If
the partner really cannot do TLS, say so on the block with a reasoned suppression:

    allow MS0229 \"partner relay has no TLS; mail is S/MIME-encrypted end to end\"";

    UnusedSuppression = "MS0230", Warning, "suppression matches nothing",
"An `allow` names a code that no finding on its block has: the suppression is stale (the
problem was fixed) or names the wrong code. Remove it, or correct the code, so that the
list of suppressions in the runbook shows only exceptions that are really taken.";

    CertificateOrPassword = "MS0235", Warning, "`certificate_or_password` lets devices in without a certificate",
"`auth = certificate_or_password` sets ActiveSync client certificates to *Accepted*: a device
that presents a certificate is mapped by it, a device without one keeps syncing with its
password alone. Microsoft notes that accepted (optional) client certificates do not work
consistently across ActiveSync devices. Use it only while a fleet migrates; afterwards use
`certificate_and_password` (certificate required, password as fallback identity - not
two-factor) or `certificate` (certificate only).";

    WeakCertificateMapping = "MS0236", Warning, "certificate mapping is weak under KB5014754",
"Since the Full Enforcement of KB5014754 (February 2025), domain controllers refuse weak
certificate mappings, and IIS's Active Directory mapping goes through them (Schannel, S4U2Self).
Weak are: UPN mapping of certificates without the SID security extension (every third-party
certificate, and certificates whose subject is supplied in the request, as NDES and Workspace
ONE requests are), issuer-only (many-to-one) mappings, and issuer-and-subject one-to-one
mappings. Strong are: certificates carrying the user's SID (`strong = sid_extension`), or an
explicit `altSecurityIdentities` mapping by issuer and serial number, subject key identifier or
SHA-1 public key (`strong = issuer_serial | ski | sha1_public_key`). Check the KDC's events 39,
40 and 41 (System log, Kdcsvc) after a test logon.

The mapping need not be written down to exist: an ActiveSync or SEG host that authenticates
devices by certificate (IIS's Active Directory mapping) and a TMG listener with SSL client
certificate authentication (TMG's logon for its delegation) map each certificate by its UPN.
Where no `cert_mapping` covers their `authority`, they say how that mapping is strong with the
same `strong` setting; the runbook then reads the declaration back on a test device's
certificate (`certutil -dump`: the SID extension 1.3.6.1.4.1.311.25.2 or the SID URL SAN) or on
the test user's `altSecurityIdentities`.";

    TwoMappingsOneIssuer = "MS0237", Error, "two certificate mappings over one issuer",
"An issuer-only (many-to-one) mapping matches every certificate of that issuer, so when the
same issuer is also mapped by UPN or to another account, which account a certificate logs on
as depends on the mapper's order: a user's certificate can land in the shared account. Issue
the shared devices' certificates from a separate CA, or map them one-to-one with a strong
mapping.";

    ExternalNtAuth = "MS0238", Warning, "external or partner CA published to NTAuth",
"A CA in the enterprise NTAuth store can issue certificates that log on as any user of the
forest whose UPN it writes. For a CA the organisation does not run (a managed or partner PKI)
that is a decision for the PKI owner, and only safe for a hierarchy dedicated to the
organisation. mailsec puts an approval gate in front of the publication; name the approval
with `ntauth_approval = \"...\"` on the authority (recording that the hierarchy is
dedicated).";

    NtAuthWithoutLogon = "MS0239", Warning, "NTAuth publication without a logon mapping",
"NTAuth only governs mapping certificates to logons (smart card, IIS and ActiveSync client
certificates, UPN mapping). An authority published there while nothing in the unit maps its
certificates to accounts widens who can log on for no purpose - S/MIME, for example, needs no
NTAuth. mailsec emits the publication only in units that map certificates to logons; remove
`ntauth = true`, or add the mapping that needs it.";

    Ws1PlatformUnsupported = "MS0260", Error, "Workspace ONE platform not supported yet",
"The `workspace-one` target writes device profiles for iOS (an Apple configuration profile and
the MDM API body) and Android (the MDM API body). A `windows` or `macos` profile would get no
file at all - macOS uses a different Exchange payload (`com.apple.ews.account`) and Windows
OMA-DM nodes - so mailsec refuses it instead of leaving it out silently. Declare the profile
for `ios` or `android`, or configure the other platform by hand.";

    Ws1SubjectNotDn = "MS0261", Error, "request template subject is not a distinguished name",
"The subject of a Workspace ONE request template is a distinguished name: comma-separated
`ATTRIBUTE=value` parts, such as `CN=WorkspaceONEUEM.{EnrollmentUser}` or
`CN={DeviceUid}, O=Contoso`; a comma inside a value is escaped, `\\\\,` in the intent file.
A part without `=` cannot become the SCEP payload's subject, and the CA rejects it.";

    Ws1SmimeOn = "MS0262", Error, "S/MIME turned on in a certificate-authenticated EAS profile",
"In these profiles the certificate authenticates the device to Exchange ActiveSync; the
vendor guide turns \"Use S/MIME\" off. With S/MIME on, the mail app looks for signing and
encryption certificates that the profile does not deliver, and mailsec does not model them.
Write `use_smime = false` and deliver S/MIME certificates in a profile of their own.";

    Ws1SslOff = "MS0263", Error, "certificate-authenticated EAS profile without SSL",
"A client certificate is presented only inside TLS: with \"Use SSL\" off the device talks plain
HTTP, sends no certificate, and the account never syncs (and would send mail in clear text).
Write `use_ssl = true`.";

    Ws1ScepKeySize = "MS0264", Error, "key size an iOS SCEP payload cannot request",
"Apple's SCEP payload accepts `Keysize` 1024, 2048 or 4096 only. A request template used by an
iOS profile through a Generic SCEP authority must use one of them; 2048 or 4096, since shorter
keys are weak (MS0200).";

    Ws1ScepSanTwice = "MS0265", Error, "SAN type given twice for an iOS SCEP payload",
"Apple's SCEP payload holds one value per subject alternative name type (`rfc822Name`,
`ntPrincipalName`, `dNSName`). A request template used by an iOS profile through a Generic SCEP
authority can therefore carry each SAN type once; a second value would be dropped. Keep one
entry per type.";

    Ws1TrustNotRoot = "MS0266", Error, "profile trusts a CA that is not a root",
"`trust` on a Workspace ONE profile installs CA certificates on the device as trusted roots
(`com.apple.security.root`). An issuing CA there would be trusted as an anchor in its own
right, cut off from its root's revocation and policy; the device needs the root and gets the
intermediate from the server's chain. List the root authority instead.";

    Ws1TrustNoCertificate = "MS0267", Error, "trusted root has no certificate file",
"A root the profile installs is uploaded to the Workspace ONE console as a certificate file;
without `certificate = file(\"...\")` on the authority there is nothing to upload and the
device would not trust the server. Declare the file.";

    Ws1HostNotPublicName = "MS0268", Warning, "profile host is not the published ActiveSync name",
"Devices connect to the Exchange ActiveSync host of their profile, and certificate
authentication happens at the hop that terminates their TLS: the ActiveSync virtual
directory's `external_host`, or the TMG rule's `public_name`. A profile host that neither
publishes reaches a server without the client-certificate configuration (or none at all).
Use the published name.";

}
