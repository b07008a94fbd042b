//! What each block kind may contain: its header, settings with their types, and which
//! settings are required. The validator reads this table; adding a setting is one line here.

/// The type a setting's value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    /// Any string.
    Str,
    /// A string that may hold Workspace ONE lookup values (`{EmailAddress}`).
    Lookup,
    /// An integer in a range.
    Int(i64, i64),
    /// `true` / `false`.
    Bool,
    /// `2026-12-01`.
    Date,
    /// `30d`.
    Duration,
    /// `10MiB`.
    Size,
    /// A DNS name, bare or quoted.
    Hostname,
    /// An `http://` or `https://` URL, as a string.
    Url,
    /// An IP address or a CIDR range.
    IpOrCidr,
    /// An IP address.
    Ip,
    /// One of these words.
    Enum(&'static [&'static str]),
    /// The name of a block of one of these kinds.
    Ref(&'static [&'static str]),
    /// A list of values of the inner type.
    List(&'static Ty),
    /// A record with these fields.
    Record(&'static [Field]),
    /// `secret("NAME")`.
    Secret,
    /// `secret("NAME")` or `none`.
    SecretOrNone,
    /// `file("path")`.
    File,
    /// `basic(secret("NAME"))` or `none`.
    SmartHostAuth,
    /// An Exchange version: 2010, 2013, 2016, 2019, `se` or `online`.
    ExchangeVersion,
}

impl Ty {
    /// A noun phrase for "expected …".
    pub(crate) fn describe(&self) -> String {
        match self {
            Ty::Str => "a string".into(),
            Ty::Lookup => "a string (lookup values like `{EmailAddress}` allowed)".into(),
            Ty::Int(lo, hi) => format!("a number from {lo} to {hi}"),
            Ty::Bool => "`true` or `false`".into(),
            Ty::Date => "a date like `2026-12-01`".into(),
            Ty::Duration => "a duration like `30d`".into(),
            Ty::Size => "a size like `10MiB`".into(),
            Ty::Hostname => "a host name like `mail.contoso.com`".into(),
            Ty::Url => "a URL string like \"https://ca.contoso.com/certsrv/\"".into(),
            Ty::IpOrCidr => "an IP address or range like `10.0.0.0/8`".into(),
            Ty::Ip => "an IP address".into(),
            Ty::Enum(words) => format!("one of {}", words_list(words)),
            Ty::Ref(kinds) => format!("the name of {}", a_kind(kinds)),
            Ty::List(inner) => format!("a list of {}", inner.plural()),
            Ty::Record(fields) => format!(
                "a record {{ {} }}",
                fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
            ),
            Ty::Secret => "`secret(\"NAME\")`".into(),
            Ty::SecretOrNone => "`secret(\"NAME\")` or `none`".into(),
            Ty::File => "`file(\"path\")`".into(),
            Ty::SmartHostAuth => "`basic(secret(\"NAME\"))` or `none`".into(),
            Ty::ExchangeVersion => "an Exchange version: 2010, 2013, 2016, 2019, `se` or `online`".into(),
        }
    }

    /// The plural noun phrase, for "a list of …".
    fn plural(&self) -> String {
        match self {
            Ty::Str | Ty::Lookup => "strings".into(),
            Ty::Int(lo, hi) => format!("numbers from {lo} to {hi}"),
            Ty::Bool => "booleans".into(),
            Ty::Date => "dates".into(),
            Ty::Duration => "durations".into(),
            Ty::Size => "sizes".into(),
            Ty::Hostname => "host names like `mail.contoso.com`".into(),
            Ty::Url => "URL strings".into(),
            Ty::IpOrCidr => "IP addresses or ranges like `10.0.0.0/8`".into(),
            Ty::Ip => "IP addresses".into(),
            Ty::Enum(words) => format!("words from {}", words_list(words)),
            Ty::Ref(kinds) => format!(
                "names of {} blocks",
                kinds.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" or ")
            ),
            Ty::Record(fields) => format!(
                "records {{ {} }}",
                fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
            ),
            other => other.describe(),
        }
    }
}

/// "a `server`", "an `authority`", "a `server` or `service_account`".
pub(crate) fn a_kind(kinds: &[&str]) -> String {
    let first = kinds.first().copied().unwrap_or("");
    let article = if first.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    let names: Vec<String> = kinds.iter().map(|k| format!("`{k}`")).collect();
    format!("{article} {}", names.join(" or "))
}

/// `a`, `b` or `c`, in backticks.
pub(crate) fn words_list(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// A record field or a block setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) ty: Ty,
    pub(crate) required: bool,
}

const fn opt(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        required: false,
    }
}

const fn req(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        required: true,
    }
}

/// What stands between the block kind and `{`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Header {
    /// One name, bare or quoted (`server hub01`, `receive_connector "From ONE Mail"`).
    Name,
    /// A kind and a quoted name (`retire send_connector "To ISP"`).
    Retire,
}

/// One block kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockSpec {
    pub(crate) kind: &'static str,
    pub(crate) header: Header,
    /// Whether the name shares the unit-wide namespace (servers, authorities, …) or only its
    /// kind's (connectors, named by display strings).
    pub(crate) global_name: bool,
    pub(crate) settings: &'static [Field],
}

impl BlockSpec {
    /// The settings a block of this kind may carry: its own, then the gates if it takes
    /// them. At most 64, so that a `u64` can mark which were written.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &'static Field> {
        let gates = if takes_gates(self.kind) { GATES } else { &[] };
        self.settings.iter().chain(gates)
    }
}

/// Settings every block except `organization`, `server` and `authority` may carry: deployment gates.
pub(crate) const GATES: &[Field] = &[opt("not_before", Ty::Date), opt("approval", Ty::Str)];

pub(crate) const VERSIONS: &[&str] = &["2010", "2013", "2016", "2019", "se", "online"];
pub(crate) const ROLES: &[&str] = &[
    "hub_transport",
    "client_access",
    "mailbox",
    "edge",
    "eas",
    "seg",
    "tmg",
    "domain_controller",
    "ca",
    "ndes",
];
pub(crate) const AUTHORITY_KINDS: &[&str] = &["external", "partner", "enterprise", "standalone", "intermediate"];
pub(crate) const EKUS: &[&str] = &["server_auth", "client_auth", "secure_email", "smart_card_logon"];
pub(crate) const SERVICES: &[&str] = &["smtp", "iis", "imap", "pop", "um"];
pub(crate) const RECEIVE_AUTH: &[&str] = &[
    "tls",
    "basic",
    "basic_require_tls",
    "integrated",
    "exchange_server",
    "externally_secured",
];
pub(crate) const PERMISSION_GROUPS: &[&str] = &[
    "anonymous",
    "exchange_users",
    "exchange_servers",
    "exchange_legacy_servers",
    "partners",
];
pub(crate) const USAGES: &[&str] = &["custom", "internet", "internal", "partner", "client"];
pub(crate) const TLS_AUTH_LEVELS: &[&str] = &["encryption_only", "certificate_validation", "domain_validation"];
pub(crate) const SMIME_MODES: &[&str] = &["cloud", "hybrid", "on_premises"];
pub(crate) const SMIME_CLIENTS: &[&str] = &["outlook", "owa", "eas", "windows_phone"];
pub(crate) const EAS_AUTH: &[&str] = &[
    "password",
    "certificate_and_password",
    "certificate_or_password",
    "certificate",
    "kerberos",
];
pub(crate) const MAPPING_KINDS: &[&str] = &["one_to_one", "many_to_one", "upn"];
/// How mapped certificates are bound strongly to their account (KB5014754).
pub(crate) const STRONG_MAPPINGS: &[&str] = &["sid_extension", "issuer_serial", "ski", "sha1_public_key"];
pub(crate) const LISTENER_AUTH: &[&str] = &["client_certificate", "basic", "forms", "none"];
pub(crate) const RULE_SERVICES: &[&str] = &["activesync", "owa", "outlook_anywhere"];
pub(crate) const RULE_DELEGATION: &[&str] = &["kerberos", "basic", "none"];
/// Protocols a TMG server (non-web) publishing rule passes through untouched.
pub(crate) const PASS_THROUGH_PROTOCOLS: &[&str] = &["https"];
pub(crate) const WS1_CA_TYPES: &[&str] = &["generic_scep", "adcs"];
pub(crate) const KEY_TYPES: &[&str] = &["signing", "encryption", "signing_and_encryption"];
pub(crate) const SAN_TYPES: &[&str] = &["email", "upn", "dns"];
pub(crate) const PLATFORMS: &[&str] = &["ios", "android", "windows", "macos"];
pub(crate) const APP_POOL_IDENTITIES: &[&str] = &["network_service", "local_system", "application_pool_identity"];
pub(crate) const RETIRABLE: &[&str] = &["send_connector", "receive_connector"];

const SUBJECT: &[Field] = &[
    opt("C", Ty::Str),
    opt("S", Ty::Str),
    opt("L", Ty::Str),
    opt("O", Ty::Str),
    opt("OU", Ty::Str),
    req("CN", Ty::Str),
];
const KEY: &[Field] = &[req("size", Ty::Int(512, 16384)), opt("exportable", Ty::Bool)];
const SAN_ENTRY: &[Field] = &[req("type", Ty::Enum(SAN_TYPES)), req("value", Ty::Lookup)];

/// Every block kind, in the order the documentation lists them.
pub(crate) const BLOCKS: &[BlockSpec] = &[
    BlockSpec {
        kind: "organization",
        header: Header::Name,
        global_name: false,
        settings: &[
            req("smtp_domains", Ty::List(&Ty::Hostname)),
            req("exchange", Ty::ExchangeVersion),
            opt("ad_domain", Ty::Hostname),
            opt("ad_forest", Ty::Hostname),
            opt("netbios", Ty::Str),
            opt("tenant", Ty::Hostname),
            opt("iis_site", Ty::Str),
            opt("owner", Ty::Str),
        ],
    },
    BlockSpec {
        kind: "server",
        header: Header::Name,
        global_name: true,
        settings: &[
            req("fqdn", Ty::Hostname),
            req("roles", Ty::List(&Ty::Enum(ROLES))),
            opt("site", Ty::Str),
            opt("ip", Ty::Ip),
            opt("owner", Ty::Str),
        ],
    },
    BlockSpec {
        kind: "authority",
        header: Header::Name,
        global_name: true,
        settings: &[
            req("kind", Ty::Enum(AUTHORITY_KINDS)),
            opt("certificate", Ty::File),
            opt("common_name", Ty::Str),
            opt("parent", Ty::Ref(&["authority"])),
            opt("ntauth", Ty::Bool),
            opt("ntauth_approval", Ty::Str),
            opt("cdp", Ty::List(&Ty::Url)),
            opt("aia", Ty::List(&Ty::Url)),
            opt("server", Ty::Ref(&["server"])),
            opt("template", Ty::Str),
            opt("template_key_size", Ty::Int(1024, 16384)),
        ],
    },
    BlockSpec {
        kind: "certificate",
        header: Header::Name,
        global_name: true,
        settings: &[
            req("subject", Ty::Record(SUBJECT)),
            opt("domains", Ty::List(&Ty::Hostname)),
            req("key", Ty::Record(KEY)),
            opt("eku", Ty::List(&Ty::Enum(EKUS))),
            opt("issuer", Ty::Ref(&["authority"])),
            req("servers", Ty::List(&Ty::Ref(&["server"]))),
            opt("services", Ty::List(&Ty::Enum(SERVICES))),
            opt("reference", Ty::Str),
            opt("request", Ty::File),
            opt("issued", Ty::File),
            opt("friendly_name", Ty::Str),
        ],
    },
    BlockSpec {
        kind: "receive_connector",
        header: Header::Name,
        global_name: false,
        settings: &[
            req("server", Ty::Ref(&["server"])),
            opt("certificate", Ty::Ref(&["certificate"])),
            opt("fqdn", Ty::Hostname),
            opt("bindings", Ty::List(&Ty::Str)),
            req("remote_ips", Ty::List(&Ty::IpOrCidr)),
            req("auth", Ty::List(&Ty::Enum(RECEIVE_AUTH))),
            opt("permission_groups", Ty::List(&Ty::Enum(PERMISSION_GROUPS))),
            opt("require_tls", Ty::Bool),
            opt("usage", Ty::Enum(USAGES)),
            opt("max_message_size", Ty::Size),
            opt("tls_domain", Ty::Hostname),
        ],
    },
    BlockSpec {
        kind: "send_connector",
        header: Header::Name,
        global_name: false,
        settings: &[
            req("address_spaces", Ty::List(&Ty::Str)),
            opt("smart_hosts", Ty::List(&Ty::Hostname)),
            opt("dns_routing", Ty::Bool),
            opt("auth", Ty::SmartHostAuth),
            opt("require_tls", Ty::Bool),
            opt("ignore_starttls", Ty::Bool),
            req("source_servers", Ty::List(&Ty::Ref(&["server"]))),
            opt("usage", Ty::Enum(USAGES)),
            opt("tls_auth_level", Ty::Enum(TLS_AUTH_LEVELS)),
            opt("tls_domain", Ty::Hostname),
            opt("tls_certificate", Ty::Ref(&["certificate"])),
            opt("cost", Ty::Int(1, 100)),
            opt("fqdn", Ty::Hostname),
            opt("port", Ty::Int(1, 65535)),
            opt("max_message_size", Ty::Size),
        ],
    },
    BlockSpec {
        kind: "retire",
        header: Header::Retire,
        global_name: false,
        settings: &[
            opt("after", Ty::Str),
            opt("server", Ty::Ref(&["server"])),
            opt("transition_cost", Ty::Int(1, 100)),
        ],
    },
    BlockSpec {
        kind: "smime",
        header: Header::Name,
        global_name: true,
        settings: &[
            req("mode", Ty::Enum(SMIME_MODES)),
            req("sst", Ty::File),
            req("authorities", Ty::List(&Ty::Ref(&["authority"]))),
            opt("dirsync_version", Ty::Str),
            opt("clients", Ty::List(&Ty::Enum(SMIME_CLIENTS))),
            opt("verify_users", Ty::List(&Ty::Str)),
        ],
    },
    BlockSpec {
        kind: "activesync",
        header: Header::Name,
        global_name: true,
        settings: &[
            req("server", Ty::Ref(&["server"])),
            req("auth", Ty::Enum(EAS_AUTH)),
            opt("site", Ty::Str),
            opt("upload_read_ahead", Ty::Size),
            opt("external_host", Ty::Hostname),
            opt("authority", Ty::Ref(&["authority"])),
            opt("strong", Ty::Enum(STRONG_MAPPINGS)),
        ],
    },
    BlockSpec {
        kind: "cert_mapping",
        header: Header::Name,
        global_name: true,
        settings: &[
            req("kind", Ty::Enum(MAPPING_KINDS)),
            req("authority", Ty::Ref(&["authority"])),
            opt("account", Ty::Str),
            opt("subject", Ty::Str),
            opt("strong", Ty::Enum(STRONG_MAPPINGS)),
            opt("domain_controller", Ty::Ref(&["server"])),
        ],
    },
    BlockSpec {
        kind: "seg",
        header: Header::Name,
        global_name: true,
        settings: &[
            req("server", Ty::Ref(&["server"])),
            req("exchange_host", Ty::Hostname),
            opt("app_pool", Ty::Str),
            opt("identity", Ty::Enum(APP_POOL_IDENTITIES)),
            opt("auth", Ty::Enum(EAS_AUTH)),
            opt("site", Ty::Str),
            opt("upload_read_ahead", Ty::Size),
            opt("authority", Ty::Ref(&["authority"])),
            opt("strong", Ty::Enum(STRONG_MAPPINGS)),
            opt("certificate", Ty::Ref(&["certificate"])),
        ],
    },
    BlockSpec {
        kind: "service_account",
        header: Header::Name,
        global_name: true,
        settings: &[
            req("account", Ty::Str),
            req("array_fqdn", Ty::Hostname),
            req("members", Ty::List(&Ty::Ref(&["server"]))),
        ],
    },
    BlockSpec {
        kind: "chain",
        header: Header::Name,
        global_name: true,
        settings: &[
            req("path", Ty::List(&Ty::Ref(&["server"]))),
            req("client_certificates", Ty::Ref(&["server"])),
            opt("target", Ty::Ref(&["service_account"])),
            opt("protocol_transition", Ty::Bool),
            opt("service", Ty::Str),
        ],
    },
    BlockSpec {
        kind: "tmg_listener",
        header: Header::Name,
        global_name: true,
        settings: &[
            req("server", Ty::Ref(&["server"])),
            req("certificate", Ty::Ref(&["certificate"])),
            req("auth", Ty::Enum(LISTENER_AUTH)),
            opt("authority", Ty::Ref(&["authority"])),
            opt("strong", Ty::Enum(STRONG_MAPPINGS)),
            opt("description", Ty::Str),
            opt("addresses", Ty::List(&Ty::Ip)),
            opt("require_ssl", Ty::Bool),
        ],
    },
    BlockSpec {
        kind: "publishing_rule",
        header: Header::Name,
        global_name: true,
        settings: &[
            req("listener", Ty::Ref(&["tmg_listener"])),
            req("published_server", Ty::Ref(&["server"])),
            req("public_name", Ty::Hostname),
            opt("service", Ty::Enum(RULE_SERVICES)),
            opt("delegation", Ty::Enum(RULE_DELEGATION)),
            opt("spn", Ty::Str),
            opt("farm", Ty::List(&Ty::Ref(&["server"]))),
            opt("ssl_to_server", Ty::Bool),
        ],
    },
    // A TMG server (non-web) publishing rule: TCP passed through to the published server,
    // which terminates the device's TLS itself. No listener, no delegation.
    BlockSpec {
        kind: "tmg_server_publishing",
        header: Header::Name,
        global_name: true,
        settings: &[
            req("server", Ty::Ref(&["server"])),
            req("published_server", Ty::Ref(&["server"])),
            opt("protocol", Ty::Enum(PASS_THROUGH_PROTOCOLS)),
            opt("addresses", Ty::List(&Ty::Ip)),
            opt("published_ip", Ty::Ip),
            opt("description", Ty::Str),
        ],
    },
    BlockSpec {
        kind: "ws1_authority",
        header: Header::Name,
        global_name: true,
        settings: &[
            req("type", Ty::Enum(WS1_CA_TYPES)),
            req("ca_name", Ty::Str),
            req("url", Ty::Url),
            opt("challenge", Ty::SecretOrNone),
            opt("credentials", Ty::Secret),
            opt("account", Ty::Str),
            opt("authority", Ty::Ref(&["authority"])),
        ],
    },
    BlockSpec {
        kind: "ws1_template",
        header: Header::Name,
        global_name: true,
        settings: &[
            req("authority", Ty::Ref(&["ws1_authority"])),
            req("subject", Ty::Lookup),
            req("key_size", Ty::Int(1024, 16384)),
            opt("key_type", Ty::Enum(KEY_TYPES)),
            opt("san", Ty::List(&Ty::Record(SAN_ENTRY))),
            opt("eku", Ty::List(&Ty::Enum(EKUS))),
            opt("ca_template", Ty::Str),
            opt("auto_renew", Ty::Bool),
            opt("renewal", Ty::Duration),
            opt("revoke_on_unenroll", Ty::Bool),
            opt("publish_private_key", Ty::Bool),
            opt("force_key_generation_on_device", Ty::Bool),
        ],
    },
    BlockSpec {
        kind: "ws1_profile",
        header: Header::Name,
        global_name: true,
        settings: &[
            req("platform", Ty::Enum(PLATFORMS)),
            req("template", Ty::Ref(&["ws1_template"])),
            req("account_name", Ty::Str),
            req("host", Ty::Str),
            opt("use_ssl", Ty::Bool),
            opt("use_smime", Ty::Bool),
            opt("domain", Ty::Lookup),
            opt("username", Ty::Lookup),
            opt("email", Ty::Lookup),
            opt("trust", Ty::List(&Ty::Ref(&["authority"]))),
        ],
    },
];

/// The spec of a block kind.
pub(crate) fn block(kind: &str) -> Option<&'static BlockSpec> {
    BLOCKS.iter().find(|b| b.kind == kind)
}

/// Whether the kind takes the gate settings.
pub(crate) fn takes_gates(kind: &str) -> bool {
    !matches!(kind, "organization" | "server" | "authority")
}

/// Known Workspace ONE lookup values (without braces). `CustomAttributeN` is matched apart.
pub(crate) const LOOKUPS: &[&str] = &[
    "EnrollmentUser",
    "EmailAddress",
    "EmailUserName",
    "EmailDomain",
    "UserPrincipalName",
    "DeviceUid",
    "DeviceSerialNumber",
    "DeviceAssetNumber",
    "DeviceFriendlyName",
    "DevicePlatform",
    "DeviceModel",
    "FirstName",
    "LastName",
    "GroupIdentifier",
    "EnrollmentUserId",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_at_most_64_settings() {
        for spec in BLOCKS {
            assert!(
                spec.fields().count() <= 64,
                "`{}` has too many settings for a u64",
                spec.kind
            );
        }
    }
}
