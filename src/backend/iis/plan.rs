//! What one IIS host needs, gathered from its operations into one model that both the XML
//! fragment and the appcmd script are written from, so the two cannot disagree.

use super::schema::{
    self, ACCESS, ANONYMOUS, APP_POOL_NAME_FORBIDDEN, BASIC, CERT_MAPPING, DIGEST, ENABLED, IDENTITY_TYPES,
    SECTION_ORDER, SERVER_RUNTIME, SITE_NAME_FORBIDDEN, SSL_FLAGS, UPLOAD_READ_AHEAD, UPLOAD_READ_AHEAD_MAX, WINDOWS,
};
use super::{fail, Fail};
use crate::ir::{Action, ClientCerts, Host, Ir, Operation};
use indexmap::IndexMap;

/// Everything the IIS artefacts of one host carry out.
#[derive(Debug)]
pub(super) struct HostPlan<'a> {
    /// The host.
    pub(super) host: &'a Host,
    /// Its IIS-owned operations, in plan order.
    pub(super) ops: Vec<&'a Operation>,
    /// Windows features to install, in a stable order.
    pub(super) features: Vec<&'static str>,
    /// Server-level sections (applicationHost.config outside any `<location>`).
    pub(super) server: Vec<Section>,
    /// Application pools whose identity is set.
    pub(super) pools: Vec<AppPool>,
    /// `<location>` blocks, in the order the operations first name them.
    pub(super) locations: Vec<Location>,
    /// What must exist before anything is changed: sites, then applications.
    pub(super) sites: Vec<String>,
    /// Applications (`site/app`) that must exist.
    pub(super) applications: Vec<String>,
    /// The HTTP.sys SSL binding change, when client certificates are negotiated or mapped.
    pub(super) binding: Option<Binding>,
    /// Exchange hosts the SEG's web.config must name (not an IIS setting: printed as a check).
    pub(super) seg_exchange_hosts: Vec<String>,
    /// Whether IIS must restart (AD certificate mapping only takes effect after a restart).
    pub(super) restart: bool,
}

/// One configuration section in one scope.
#[derive(Debug)]
pub(super) struct Section {
    /// Full section path (`system.webServer/security/access`).
    pub(super) name: &'static str,
    /// Attributes, in the order first set.
    pub(super) attributes: IndexMap<&'static str, String>,
    /// For `windowsAuthentication`: the exact provider list (`<clear/>` then these).
    pub(super) providers: Option<&'static [&'static str]>,
}

/// A `<location path="…">` block.
#[derive(Debug)]
pub(super) struct Location {
    /// `site` or `site/application`, exactly as IIS names it.
    pub(super) path: String,
    /// Whether the block is an application's (as opposed to a site root's).
    pub(super) application: bool,
    /// Sections, in [`SECTION_ORDER`].
    pub(super) sections: Vec<Section>,
    /// Operations that set something here.
    pub(super) ops: Vec<String>,
}

/// An application pool identity.
#[derive(Debug)]
pub(super) struct AppPool {
    /// Pool name.
    pub(super) name: String,
    /// `processModel@identityType`.
    pub(super) identity: &'static str,
}

/// What the HTTP.sys SSL bindings of the host's sites need (not part of applicationHost.config).
#[derive(Debug, Clone, Default)]
pub(super) struct Binding {
    /// `dsmapperusage=enable`: Active Directory mapping of client certificates needs it.
    pub(super) ds_mapper: bool,
    /// Whether client certificates are requested at all, so that `clientcertnegotiation`
    /// (asking in the first handshake) is offered as an opt-in of the companion script.
    pub(super) negotiate_helps: bool,
    /// The sites whose https bindings are changed, in the order the operations name them.
    pub(super) sites: Vec<String>,
    /// The certificate to bind (a SEG's `certificate`): its name and issued file, whose
    /// thumbprint becomes the binding's `certhash`.
    pub(super) certificate: Option<(String, String)>,
}

impl HostPlan<'_> {
    /// Location paths whose Windows authentication providers are set.
    pub(super) fn provider_locations(&self) -> Vec<&str> {
        self.locations
            .iter()
            .filter(|l| l.sections.iter().any(|s| s.providers.is_some()))
            .map(|l| l.path.as_str())
            .collect()
    }

    /// Whether the PowerShell companion script has anything to do.
    pub(super) fn needs_helper(&self) -> bool {
        self.binding.is_some() || !self.provider_locations().is_empty()
    }
}

/// Sections of one scope, merged: the same attribute set twice must agree.
#[derive(Default)]
struct Scope {
    sections: IndexMap<&'static str, Section>,
}

impl Scope {
    fn section(&mut self, name: &'static str) -> &mut Section {
        self.sections.entry(name).or_insert_with(|| Section {
            name,
            attributes: IndexMap::new(),
            providers: None,
        })
    }

    /// Sets an attribute; a different value already set by another operation is a conflict.
    fn set(&mut self, section: &'static str, attribute: &'static str, value: &str, at: &str) -> Result<(), Fail> {
        let s = self.section(section);
        match s.attributes.get(attribute) {
            Some(old) if old != value => Err(fail(format!(
                "conflicting values for {section}@{attribute} at {at}: `{old}` and `{value}` (the checker should refuse two blocks configuring the same IIS path differently)"
            ))),
            Some(_) => Ok(()),
            None => {
                s.attributes.insert(attribute, value.to_string());
                Ok(())
            }
        }
    }

    /// Sets an attribute unless an operation already did.
    fn set_default(&mut self, section: &'static str, attribute: &'static str, value: &str) {
        let has = self
            .sections
            .get(section)
            .is_some_and(|s| s.attributes.contains_key(attribute));
        if !has {
            self.section(section).attributes.insert(attribute, value.to_string());
        }
    }

    /// Raises `uploadReadAheadSize` to at least `bytes` (several blocks on one scope: the largest wins).
    fn raise_upload(&mut self, bytes: u64) {
        let s = self.section(SERVER_RUNTIME);
        let old = s.attributes.get(UPLOAD_READ_AHEAD).and_then(|v| v.parse::<u64>().ok());
        if old.is_none_or(|o| o < bytes) {
            s.attributes.insert(UPLOAD_READ_AHEAD, bytes.to_string());
        }
    }

    fn into_sections(self) -> Vec<Section> {
        let mut v: Vec<Section> = self.sections.into_values().collect();
        v.sort_by_key(|s| SECTION_ORDER.iter().position(|n| *n == s.name).unwrap_or(usize::MAX));
        v
    }
}

/// A location being gathered.
struct PendingLocation {
    application: bool,
    scope: Scope,
    ops: Vec<String>,
    /// Client certificates are the only way in: every other method is switched off.
    certificate_only: bool,
}

/// "Certificate only: everything else off" (Workspace ONE and Symantec guides): client
/// certificates required and neither Basic nor Anonymous, so the script also switches Digest
/// off, and Windows authentication unless [`keeps_windows_auth`].
pub(crate) fn certificate_only(client_certs: ClientCerts, basic: bool, anonymous: bool) -> bool {
    client_certs == ClientCerts::Require && !basic && !anonymous
}

/// Whether `host`'s ActiveSync directory keeps Windows authentication on (the Exchange
/// backend sets WindowsAuthEnabled from it; IIS never contradicts it).
pub(crate) fn keeps_windows_auth(ir: &Ir, host: &str) -> bool {
    ir.operations
        .iter()
        .any(|o| o.host == host && matches!(o.action, Action::ActiveSyncDirectory { windows: true, .. }))
}

/// Builds the plan of one host from its IIS-owned operations (`ir` for the host's other
/// operations: an ActiveSync directory that keeps Windows authentication on).
pub(super) fn build<'a>(ir: &Ir, host: &'a Host, ops: Vec<&'a Operation>) -> Result<HostPlan<'a>, Fail> {
    let exchange_windows = keeps_windows_auth(ir, &host.id);
    let mut server = Scope::default();
    let mut locations: IndexMap<String, PendingLocation> = IndexMap::new();
    let mut pools: IndexMap<String, &'static str> = IndexMap::new();
    let mut sites: Vec<String> = Vec::new();
    let mut applications: Vec<String> = Vec::new();
    let mut binding: Option<Binding> = None;
    let mut seg_exchange_hosts: Vec<String> = Vec::new();
    let (mut mapping, mut basic, mut windows) = (false, false, false);

    for op in &ops {
        let id = op.id.as_str();
        match &op.action {
            Action::IisClientCertificates {
                site,
                application,
                client_certs,
                basic: basic_on,
                anonymous,
                certificate_mapping,
                upload_read_ahead,
                ..
            } => {
                check_site(site, id)?;
                push_unique(&mut sites, site);
                if *upload_read_ahead > UPLOAD_READ_AHEAD_MAX {
                    return Err(fail(format!(
                        "`{id}`: uploadReadAheadSize {upload_read_ahead} is above the IIS maximum {UPLOAD_READ_AHEAD_MAX} (the checker should refuse it)"
                    )));
                }
                let path = app_path(site, application, id)?;
                if path != *site {
                    push_unique(&mut applications, &path);
                }
                let l = location(&mut locations, &path, path != *site, id);
                let at = l_name(&path);
                l.scope.set(ACCESS, SSL_FLAGS, schema::ssl_flags(*client_certs), &at)?;
                l.scope.set(ANONYMOUS, ENABLED, schema::bool_value(*anonymous), &at)?;
                l.scope.set(BASIC, ENABLED, schema::bool_value(*basic_on), &at)?;
                l.scope
                    .set(CERT_MAPPING, ENABLED, schema::bool_value(*certificate_mapping), &at)?;
                if certificate_only(*client_certs, *basic_on, *anonymous) {
                    l.certificate_only = true;
                }
                // The request body IIS buffers before renegotiating for the client certificate:
                // at the site (the location of the site root) and for the whole server.
                location(&mut locations, site, false, id)
                    .scope
                    .raise_upload(*upload_read_ahead);
                server.raise_upload(*upload_read_ahead);
                if *certificate_mapping {
                    // Server level: IIS Manager's "Active Directory Client Certificate
                    // Authentication: Enabled" is this attribute at the server.
                    server.set(CERT_MAPPING, ENABLED, "true", "server level")?;
                    mapping = true;
                }
                basic |= *basic_on;
                // The binding is touched only for what the IR asks of it: the DS mapper for
                // AD mapping; the first-handshake negotiation stays an opt-in of the script.
                if *certificate_mapping || *client_certs != ClientCerts::Ignore {
                    let b = binding.get_or_insert_with(Binding::default);
                    b.ds_mapper |= *certificate_mapping;
                    b.negotiate_helps |= *client_certs != ClientCerts::Ignore;
                    push_unique(&mut b.sites, site);
                }
            }
            Action::IisWindowsAuth { site, application } => {
                check_site(site, id)?;
                push_unique(&mut sites, site);
                let path = app_path(site, application, id)?;
                if path != *site {
                    push_unique(&mut applications, &path);
                }
                let l = location(&mut locations, &path, path != *site, id);
                let at = l_name(&path);
                l.scope.set(WINDOWS, ENABLED, "true", &at)?;
                l.scope.section(WINDOWS).providers = Some(&schema::WINDOWS_PROVIDERS);
                windows = true;
            }
            Action::SegConfig {
                app_pool,
                identity,
                exchange_host,
                site,
                certificate,
                ..
            } => {
                check_app_pool(app_pool, id)?;
                let identity = IDENTITY_TYPES.iter().copied().find(|t| t == identity).ok_or_else(|| {
                    fail(format!(
                        "`{id}`: application pool identity `{identity}` is not one of {}",
                        IDENTITY_TYPES.join(", ")
                    ))
                })?;
                match pools.get(app_pool.as_str()) {
                    Some(old) if *old != identity => {
                        return Err(fail(format!(
                            "conflicting identities for application pool `{app_pool}`: {old} and {identity}"
                        )))
                    }
                    _ => {
                        pools.insert(app_pool.clone(), identity);
                    }
                }
                if !exchange_host.is_empty() {
                    check_hostname(exchange_host, id)?;
                    push_unique(&mut seg_exchange_hosts, exchange_host);
                }
                if let Some(c) = certificate {
                    check_site(site, id)?;
                    let file = ir
                        .issued_file(c)
                        .map(|f| f.replace('/', "\\"))
                        .ok_or_else(|| fail(format!("`{id}`: certificate `{c}` is never imported")))?;
                    let b = binding.get_or_insert_with(Binding::default);
                    push_unique(&mut b.sites, site);
                    b.certificate = Some((c.clone(), file));
                }
            }
            _ => return Err(fail(format!("`{id}` is not an IIS operation"))),
        }
    }

    let mut features = Vec::new();
    if mapping {
        features.push(schema::FEATURE_CERT_MAPPING);
    }
    if basic {
        features.push(schema::FEATURE_BASIC);
    }
    if windows {
        features.push(schema::FEATURE_WINDOWS);
    }

    let locations = locations
        .into_iter()
        .map(|(path, mut l)| {
            if l.certificate_only {
                // "Certificate only: everything else off" (Workspace ONE and Symantec guides):
                // unless an operation of this host turns one on (Windows authentication for a
                // delegating front end, here or in the ActiveSync directory settings of the
                // Exchange backend), the other methods are switched off explicitly.
                l.scope.set_default(DIGEST, ENABLED, "false");
                if !exchange_windows {
                    l.scope.set_default(WINDOWS, ENABLED, "false");
                }
            }
            Location {
                path,
                application: l.application,
                sections: l.scope.into_sections(),
                ops: l.ops,
            }
        })
        .collect();

    Ok(HostPlan {
        host,
        ops,
        features,
        server: server.into_sections(),
        pools: pools
            .into_iter()
            .map(|(name, identity)| AppPool { name, identity })
            .collect(),
        locations,
        sites,
        applications,
        binding,
        seg_exchange_hosts,
        restart: mapping,
    })
}

/// The pending location at `path`, created on first use; records `op` as contributing.
fn location<'m>(
    locations: &'m mut IndexMap<String, PendingLocation>,
    path: &str,
    application: bool,
    op: &str,
) -> &'m mut PendingLocation {
    let l = locations.entry(path.to_string()).or_insert_with(|| PendingLocation {
        application,
        scope: Scope::default(),
        ops: Vec::new(),
        certificate_only: false,
    });
    if !l.ops.iter().any(|o| o == op) {
        l.ops.push(op.to_string());
    }
    l
}

fn l_name(path: &str) -> String {
    format!("<location path=\"{path}\">")
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// `site` or `site/application`.
fn app_path(site: &str, application: &str, op: &str) -> Result<String, Fail> {
    if application.is_empty() {
        return Ok(site.to_string());
    }
    let bad = application
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        || application
            .chars()
            .any(|c| !printable(c) || matches!(c, '"' | '?' | '\\' | '\''));
    if bad {
        return Err(fail(format!("`{op}`: `{application}` is not an IIS application path")));
    }
    Ok(format!("{site}/{application}"))
}

fn printable(c: char) -> bool {
    c.is_ascii() && !c.is_ascii_control()
}

/// An IIS site name (the schema's `siteName` validator) that scripts can carry: printable
/// ASCII (cmd reads a script in the OEM code page), no `"` (cmd has no escape for it inside
/// quotes), no leading or trailing space.
fn check_site(site: &str, op: &str) -> Result<(), Fail> {
    let why = if site.is_empty() {
        Some("it is empty".to_string())
    } else if let Some(c) = site.chars().find(|c| SITE_NAME_FORBIDDEN.contains(*c)) {
        Some(format!("IIS site names cannot contain `{c}`"))
    } else if let Some(c) = site.chars().find(|c| !printable(*c)) {
        Some(format!("{c:?} cannot be written safely into a cmd script"))
    } else if site.contains('"') {
        Some("cmd cannot quote `\"`".to_string())
    } else if site.trim() != site {
        Some("it starts or ends with a space".to_string())
    } else if site.ends_with('\\') {
        Some("PowerShell cannot pass a trailing `\\` to appcmd.exe intact".to_string())
    } else {
        None
    };
    match why {
        Some(why) => Err(fail(format!(
            "`{op}`: IIS site name `{}` cannot be rendered: {why} (the checker should refuse it)",
            site.escape_debug()
        ))),
        None => Ok(()),
    }
}

/// An application pool name: the schema's `applicationPoolName` validator, printable ASCII,
/// and no `'` (it would end appcmd's `[name='…']` selector).
fn check_app_pool(name: &str, op: &str) -> Result<(), Fail> {
    let ok = !name.is_empty()
        && name.trim() == name
        && name
            .chars()
            .all(|c| printable(c) && !APP_POOL_NAME_FORBIDDEN.contains(c) && c != '\'');
    if ok {
        Ok(())
    } else {
        Err(fail(format!(
            "`{op}`: application pool name `{}` cannot be rendered: IIS refuses the characters {APP_POOL_NAME_FORBIDDEN} and mailsec also `'`, control and non-ASCII characters (the checker should refuse it)",
            name.escape_debug()
        )))
    }
}

fn check_hostname(name: &str, op: &str) -> Result<(), Fail> {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
    {
        Ok(())
    } else {
        Err(fail(format!("`{op}`: `{name}` is not a host name")))
    }
}
