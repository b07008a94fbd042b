//! The TMG configuration export (`fpc4`) of a web publishing rule and its listener, written
//! with quick-xml: element text and attribute values are escaped by quick-xml's writer, the
//! only XML escaping in this backend, and the one comment goes through [`comment_text`].
//!
//! What is known about the format (research on TMG 2010 exports): the envelope, the
//! containment `Root > Arrays > Array > RuleElements | ArrayPolicy > PolicyRules > PolicyRule`,
//! the `StorageName`/`StorageType` attributes, typed scalars (`dt:dt`), `Ref`/`Refs` and
//! `IPsOnNetworks` were observed in real exports. No public export of a web listener or of a
//! web publishing rule exists: those element names are the COM property names, an inference
//! that the table [`INFERRED`] lists and the file's header repeats.

use crate::ir::{Action, Ir, Operation};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use uuid::Uuid;

/// The `fpc4` namespace (observed).
const FPC4: &str = "http://schemas.microsoft.com/isa/config-4";
/// The data-types namespace of `dt:dt` (observed).
const DT: &str = "urn:schemas-microsoft-com:datatypes";
/// TMG 2010 build written by the observed export.
const BUILD: &str = "7.0.7734.100";
/// Coclass FPCPolicyRule (msfpccom.idl): the exported item is the rule.
const POLICY_RULE_CLSID: &str = "{59740B3A-8771-492C-AF59-7764F4F939EF}";
/// Built-in External network (FpcObjectsGuids.vbs).
pub(super) const EXTERNAL_NETWORK: &str = "{F129EACF-778B-44FE-B339-5B752D7220A3}";
/// Built-in user set All Authenticated Users (FpcObjectsGuids.vbs).
pub(super) const ALL_AUTHENTICATED_USERS: &str = "{DE8CB0AA-FBE3-4105-9BB7-C2E17C34DDF4}";

/// Built-in protocol definition "HTTPS Server" (inbound TCP 443), the protocol of an SSL
/// server publishing rule. TMG 2010 SDK `protocol_guids.h` names it
/// `HTTP_S_SERVER_PROTOCOL_GUID`: the SDK's only HTTP-family server protocol, as server
/// publishing cannot publish plain HTTP.
pub(super) const HTTPS_SERVER_PROTOCOL: &str = "{E6528CE0-BC32-4A63-BC59-E400236D44FF}";

/// Element names taken from COM property names because no export showing them was found.
/// One real export from a lab TMG corrects this table and nothing else.
pub(super) const INFERRED: &[&str] = &[
    "WebListener (item of WebListeners) and its scalars",
    "WebListenerProperties StorageName=Properties and its scalars",
    "PolicyRule scalars Type and Description",
    "Refs StorageName=Networks inside SourceSelectionIPs",
    "WebPublishingProperties and its scalars",
    "PublicNames and PathMappings inside WebPublishingProperties",
    "Ref StorageName=WebListenerUsed (RefClass msFPCWebListener)",
    "Refs StorageName=UserSets inside WebPublishingProperties",
];

/// A deterministic GUID for an object of the unit: UUID version 5 of the unit, the object
/// kind and its name, in TMG's spelling (`{…}`, upper case).
pub(super) fn guid(unit: &str, kind: &str, name: &str) -> String {
    let namespace = Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:mailsec:tmg");
    let id = Uuid::new_v5(&namespace, format!("{unit}\n{kind}\n{name}").as_bytes());
    format!("{{{}}}", id.hyphenated()).to_ascii_uppercase()
}

/// Text for the XML comment: no `--`, no trailing `-`, printable ASCII and line breaks.
fn comment_text(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c == '\n' || (' '..='~').contains(&c) { c } else { '?' })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "- ");
    }
    if out.ends_with('-') {
        out.push(' ');
    }
    out
}

type W = Writer<Vec<u8>>;

fn err(e: impl std::fmt::Display) -> String {
    format!("writing the TMG export: {e}")
}

fn open(w: &mut W, name: &str, storage: Option<(&str, u8)>) -> Result<(), String> {
    let mut e = BytesStart::new(format!("fpc4:{name}"));
    if let Some((storage_name, storage_type)) = storage {
        e.push_attribute(("StorageName", storage_name));
        e.push_attribute(("StorageType", storage_type.to_string().as_str()));
    }
    w.write_event(Event::Start(e)).map_err(err)
}

fn close(w: &mut W, name: &str) -> Result<(), String> {
    w.write_event(Event::End(BytesEnd::new(format!("fpc4:{name}"))))
        .map_err(err)
}

/// A typed scalar: `<fpc4:Name dt:dt="type">value</fpc4:Name>`; empty = an empty element.
fn scalar(w: &mut W, name: &str, dt: &str, value: &str) -> Result<(), String> {
    let mut e = BytesStart::new(format!("fpc4:{name}"));
    e.push_attribute(("dt:dt", dt));
    if value.is_empty() {
        return w.write_event(Event::Empty(e)).map_err(err);
    }
    w.write_event(Event::Start(e)).map_err(err)?;
    w.write_event(Event::Text(BytesText::new(value))).map_err(err)?;
    close(w, name)
}

fn string(w: &mut W, name: &str, value: &str) -> Result<(), String> {
    scalar(w, name, "string", value)
}

fn int(w: &mut W, name: &str, value: i64) -> Result<(), String> {
    scalar(w, name, "int", &value.to_string())
}

fn boolean(w: &mut W, name: &str, value: bool) -> Result<(), String> {
    scalar(w, name, "boolean", if value { "1" } else { "0" })
}

/// A single reference: `Ref StorageName=<property>` naming the target's GUID and class.
fn reference(w: &mut W, storage: &str, target: &str, class: &str, scope: Option<i64>) -> Result<(), String> {
    open(w, "Ref", Some((storage, 1)))?;
    string(w, "Name", target)?;
    string(w, "RefClass", class)?;
    if let Some(s) = scope {
        int(w, "Scope", s)?;
    }
    close(w, "Ref")
}

/// A list of strings: `<fpc4:{name}><fpc4:Str dt:dt="string">…</fpc4:Str>…`.
fn strings(w: &mut W, name: &str, values: &[String]) -> Result<(), String> {
    open(w, name, None)?;
    for v in values {
        string(w, "Str", v)?;
    }
    close(w, name)
}

/// The addresses of the External network an object listens on (`IPsOnNetworks`, observed):
/// the given ones, or all of them when `addresses` is empty.
fn external_addresses(w: &mut W, item: &str, addresses: &[String]) -> Result<(), String> {
    open(w, "IPsOnNetworks", Some(("IPsOnNetworks", 1)))?;
    open(w, "IPOnNetwork", Some((item, 1)))?;
    int(w, "IPSelectionMethod", if addresses.is_empty() { 0 } else { 2 })?;
    reference(w, "Network", EXTERNAL_NETWORK, "msFPCNetwork", None)?;
    if !addresses.is_empty() {
        open(w, "IPAddresses", Some(("IPAddresses", 1)))?;
        strings(w, "IPAddressesStrings", addresses)?;
        close(w, "IPAddresses")?;
    }
    close(w, "IPOnNetwork")?;
    close(w, "IPsOnNetworks")
}

/// A rule's source: traffic from the External network (`SelectionIPs` observed, the `Refs`
/// inside it inferred).
fn from_external(w: &mut W, item: &str) -> Result<(), String> {
    open(w, "SelectionIPs", Some(("SourceSelectionIPs", 1)))?;
    open(w, "Refs", Some(("Networks", 1)))?;
    reference(w, item, EXTERNAL_NETWORK, "msFPCNetwork", None)?;
    close(w, "Refs")?;
    close(w, "SelectionIPs")
}

/// A writer holding the declaration, the `header` comment and the envelope of an export whose
/// item is the policy rule `rule_guid`, down to the scalars of the `Array` (all observed in
/// real exports).
fn begin(header: &str, rule_guid: &str, array_guid: &str) -> Result<W, String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(err)?;
    w.write_event(Event::Comment(BytesText::from_escaped(comment_text(header))))
        .map_err(err)?;
    let mut root = BytesStart::new("fpc4:Root");
    root.push_attribute(("xmlns:fpc4", FPC4));
    root.push_attribute(("xmlns:dt", DT));
    root.push_attribute(("StorageName", "FPC"));
    root.push_attribute(("StorageType", "0"));
    w.write_event(Event::Start(root)).map_err(err)?;
    string(&mut w, "Build", BUILD)?;
    string(&mut w, "Comment", "")?;
    int(&mut w, "Edition", 32)?;
    int(&mut w, "EnterpriseLevel", 2)?;
    string(&mut w, "ExportItemClassCLSID", POLICY_RULE_CLSID)?;
    int(&mut w, "ExportItemCompatibilityVersion", 2)?;
    int(&mut w, "ExportItemScope", 0)?;
    string(&mut w, "ExportItemStorageName", rule_guid)?;
    string(&mut w, "IsaXmlVersion", "7.3")?;
    int(&mut w, "OptionalData", 0)?;
    boolean(&mut w, "Upgrade", false)?;
    int(&mut w, "ConfigurationMode", 0)?;

    open(&mut w, "Arrays", Some(("Arrays", 0)))?;
    open(&mut w, "Array", Some((array_guid, 0)))?;
    int(&mut w, "AdminMajorVersion", 0)?;
    int(&mut w, "AdminMinorVersion", 0)?;
    int(&mut w, "Components", -1)?;
    string(&mut w, "DNSName", "")?;
    string(&mut w, "Name", "")?;
    string(&mut w, "Version", "0")?;
    Ok(w)
}

/// Closes `Array`, `Arrays` and `Root`; the document with a final line break.
fn finish(mut w: W) -> Result<String, String> {
    close(&mut w, "Array")?;
    close(&mut w, "Arrays")?;
    close(&mut w, "Root")?;
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    String::from_utf8(bytes).map_err(err)
}

/// The export of web publishing rule `rule_op` with its listener (from `ops`, the host's
/// publishing operations). Returns the rule's name and the document.
pub(super) fn web_rule(ir: &Ir, rule_op: &Operation, ops: &[&Operation]) -> Result<(String, String), String> {
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
    } = &rule_op.action
    else {
        return Err(format!("`{}` is not a web publishing rule", rule_op.id));
    };
    let listener_op = ops
        .iter()
        .find(|o| matches!(&o.action, Action::TmgListener { name: n, .. } if n == listener))
        .ok_or_else(|| format!("rule `{name}` names listener `{listener}`, which is not on this host"))?;
    let Action::TmgListener {
        description: listener_description,
        auth,
        addresses,
        require_ssl,
        ..
    } = &listener_op.action
    else {
        return Err(format!("`{}` is not a web listener", listener_op.id));
    };
    let unit = &ir.unit;
    let array_guid = guid(unit, "array", &rule_op.host);
    let listener_guid = guid(unit, "web-listener", listener);
    let rule_guid = guid(unit, "policy-rule", name);

    let header = format!(
        "\nGenerated by mailsec from {} (unit {unit}): TMG web listener {listener} and web publishing rule {name}.\n\
         \n\
         STRUCTURE PARTLY INFERRED - import it on a lab TMG first.\n\
         Observed in real TMG 2010 exports: the envelope (Build .. ConfigurationMode; Edition 32 is\n\
         the observed Enterprise value, a Standard Edition TMG writes 16), Arrays > Array >\n\
         RuleElements > WebListeners, ArrayPolicy > PolicyRules > PolicyRule, StorageName/StorageType,\n\
         dt:dt typing, Ref/Refs references, IPsOnNetworks > IPOnNetwork, SelectionIPs.\n\
         From the TMG 2010 SDK: every scalar's name and enum value as a COM property, the GUIDs of the\n\
         External network and of All Authenticated Users, the FPCPolicyRule CLSID.\n\
         Inferred (element names taken from COM names, never seen in an export):\n{}\
         Not included: the listener certificate (server-specific data: bind it in the console or with\n\
         70-publish.ps1) and the Exchange version and services of the wizard (no property holds them;\n\
         the rule description records them).\n\
         Import order: the web listener first, then the rule (Import on the Web Listeners collection,\n\
         then on Firewall Policy), with optional data 0, never with CleanCollections.\n\
         The script 70-publish.ps1 makes the same change through the COM object model and is the\n\
         verified way; -ExportFolder makes TMG write its own export of both objects.\n",
        rule_op.source_file(),
        INFERRED.iter().map(|i| format!("  - {i}\n")).collect::<String>()
    );
    let mut w = begin(&header, &rule_guid, &array_guid)?;

    // The listener.
    open(&mut w, "RuleElements", Some(("RuleElements", 0)))?;
    open(&mut w, "WebListeners", Some(("WebListeners", 0)))?;
    open(&mut w, "WebListener", Some((&listener_guid, 1)))?;
    string(&mut w, "Name", listener)?;
    string(&mut w, "Description", listener_description.as_deref().unwrap_or(""))?;
    external_addresses(&mut w, &guid(unit, "ip-on-network", listener), addresses)?;
    open(&mut w, "WebListenerProperties", Some(("Properties", 1)))?;
    int(&mut w, "SSLPort", 443)?;
    int(&mut w, "TCPPort", if *require_ssl { 0 } else { 80 })?;
    int(&mut w, "RedirectHTTPAsHTTPS", 0)?;
    boolean(&mut w, "SSLCertificateAuthentication", auth == "client_certificate")?;
    boolean(&mut w, "IntegratedWindowsAuthentication", false)?;
    boolean(&mut w, "BasicAuthentication", auth == "basic")?;
    boolean(&mut w, "DigestAuthentication", false)?;
    boolean(&mut w, "SSOEnabled", false)?;
    close(&mut w, "WebListenerProperties")?;
    close(&mut w, "WebListener")?;
    close(&mut w, "WebListeners")?;
    close(&mut w, "RuleElements")?;

    // The rule.
    let services = match service.as_str() {
        "owa" => "Outlook Web Access",
        "outlook_anywhere" => "Outlook Anywhere",
        _ => "Exchange ActiveSync",
    };
    let path = match service.as_str() {
        "owa" => "/owa/*",
        "outlook_anywhere" => "/rpc/*",
        _ => "/Microsoft-Server-ActiveSync/*",
    };
    open(&mut w, "ArrayPolicy", Some(("ArrayPolicy", 0)))?;
    open(&mut w, "PolicyRules", Some(("PolicyRules", 0)))?;
    open(&mut w, "PolicyRule", Some((&rule_guid, 1)))?;
    int(&mut w, "Action", 0)?;
    string(
        &mut w,
        "Description",
        &format!("{}, {services}. Generated by mailsec.", exchange.product()),
    )?;
    boolean(&mut w, "Enabled", true)?;
    string(&mut w, "Name", name)?;
    int(&mut w, "Type", 2)?;
    from_external(&mut w, &guid(unit, "source-network", name))?;
    open(&mut w, "WebPublishingProperties", Some(("WebPublishingProperties", 1)))?;
    int(&mut w, "PublishedServerApplication", 1)?;
    int(&mut w, "PublishedServerType", if *ssl_to_server { 1 } else { 0 })?;
    if *ssl_to_server {
        int(&mut w, "SSLRedirectPort", 443)?;
    } else {
        int(&mut w, "HTTPRedirectPort", 80)?;
    }
    string(&mut w, "WebSite", internal_site)?;
    boolean(&mut w, "AllPublicNames", false)?;
    strings(&mut w, "PublicNames", std::slice::from_ref(public_name))?;
    open(&mut w, "PathMappings", Some(("PathMappings", 1)))?;
    open(&mut w, "PathMapping", Some((&guid(unit, "path-mapping", name), 1)))?;
    string(&mut w, "InternalPath", path)?;
    boolean(&mut w, "SameAsInternal", true)?;
    string(&mut w, "ExternalPath", "")?;
    close(&mut w, "PathMapping")?;
    close(&mut w, "PathMappings")?;
    reference(&mut w, "WebListenerUsed", &listener_guid, "msFPCWebListener", None)?;
    boolean(&mut w, "LoadBalancingEnabled", !farm.is_empty())?;
    let delegation_type = match delegation.as_str() {
        "kerberos" => 6,
        "basic" => 3,
        _ => 0,
    };
    int(&mut w, "CredentialsDelegationType", delegation_type)?;
    if delegation == "kerberos" {
        let spn = crate::ir::tmg_delegation_spn(spn.as_deref(), internal_site, farm);
        string(&mut w, "ServicePrincipalName", &spn)?;
    }
    open(&mut w, "Refs", Some(("UserSets", 1)))?;
    reference(
        &mut w,
        &guid(unit, "user-set", name),
        ALL_AUTHENTICATED_USERS,
        "msFPCUserSet",
        Some(1),
    )?;
    close(&mut w, "Refs")?;
    close(&mut w, "WebPublishingProperties")?;
    close(&mut w, "PolicyRule")?;
    close(&mut w, "PolicyRules")?;
    close(&mut w, "ArrayPolicy")?;

    Ok((name.clone(), finish(w)?))
}

/// The export of server publishing rule `rule_op` (TLS passed through to the published
/// server; no listener, no delegation). `None` when the published server's IP address is not
/// known at build time: the export has to name it, the script resolves it on TMG.
pub(super) fn server_rule(ir: &Ir, rule_op: &Operation) -> Result<Option<(String, String)>, String> {
    let Action::TmgServerPublishing {
        name,
        protocol,
        published_server,
        published_ip,
        addresses,
        description,
    } = &rule_op.action
    else {
        return Err(format!("`{}` is not a server publishing rule", rule_op.id));
    };
    if protocol != "HTTPS Server" {
        return Err(format!("rule `{name}`: no protocol GUID known for `{protocol}`"));
    }
    let Some(ip) = published_ip else {
        return Ok(None);
    };
    let unit = &ir.unit;
    let rule_guid = guid(unit, "policy-rule", name);
    let header = format!(
        "\nGenerated by mailsec from {} (unit {unit}): TMG server publishing rule {name}\n\
         ({protocol} to {published_server} at {ip}; TLS passed through, no web listener).\n\
         \n\
         STRUCTURE PARTLY INFERRED - import it on a lab TMG first.\n\
         Observed in real TMG 2010 exports: the envelope (Build .. ConfigurationMode; Edition 32 is\n\
         the observed Enterprise value, a Standard Edition TMG writes 16), Arrays > Array >\n\
         ArrayPolicy > PolicyRules > PolicyRule with Action, Enabled, Name, SelectionIPs and\n\
         ServerPublishingProperties > PublishedServerIP, Ref PublishedProtocol (msFPCProtocol),\n\
         IPsOnNetworks > IPOnNetwork, Refs IPsOnNetworkSets; StorageName/StorageType, dt:dt typing.\n\
         From the TMG 2010 SDK: the GUIDs of the External network and of the protocol definition\n\
         HTTPS Server (protocol_guids.h: HTTP_S_SERVER_PROTOCOL_GUID), the FPCPolicyRule CLSID.\n\
         Inferred (names taken from COM names, never seen in an export):\n\
         \x20 - PolicyRule scalars Type and Description\n\
         \x20 - Refs StorageName=Networks inside SourceSelectionIPs\n\
         Import it on Firewall Policy with optional data 0, never with CleanCollections, and check\n\
         in the rule's Traffic tab that the protocol is HTTPS Server.\n\
         The script 70-publish.ps1 makes the same change through the COM object model and is the\n\
         verified way; -ExportFolder makes TMG write its own export of the rule.\n",
        rule_op.source_file(),
    );
    let mut w = begin(&header, &rule_guid, &guid(unit, "array", &rule_op.host))?;
    open(&mut w, "ArrayPolicy", Some(("ArrayPolicy", 0)))?;
    open(&mut w, "PolicyRules", Some(("PolicyRules", 0)))?;
    open(&mut w, "PolicyRule", Some((&rule_guid, 1)))?;
    int(&mut w, "Action", 0)?;
    string(
        &mut w,
        "Description",
        &super::server_rule_description(description.as_deref()),
    )?;
    boolean(&mut w, "Enabled", true)?;
    string(&mut w, "Name", name)?;
    int(&mut w, "Type", 1)?;
    from_external(&mut w, &guid(unit, "source-network", name))?;
    open(
        &mut w,
        "ServerPublishingProperties",
        Some(("ServerPublishingProperties", 1)),
    )?;
    string(&mut w, "PublishedServerIP", ip)?;
    reference(
        &mut w,
        "PublishedProtocol",
        HTTPS_SERVER_PROTOCOL,
        "msFPCProtocol",
        None,
    )?;
    external_addresses(&mut w, &guid(unit, "ip-on-network", name), addresses)?;
    let mut none = BytesStart::new("fpc4:Refs");
    none.push_attribute(("StorageName", "IPsOnNetworkSets"));
    none.push_attribute(("StorageType", "1"));
    w.write_event(Event::Empty(none)).map_err(err)?;
    close(&mut w, "ServerPublishingProperties")?;
    close(&mut w, "PolicyRule")?;
    close(&mut w, "PolicyRules")?;
    close(&mut w, "ArrayPolicy")?;
    Ok(Some((name.clone(), finish(w)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_stable_and_distinct() {
        let a = guid("s7", "web-listener", "l");
        assert_eq!(a, guid("s7", "web-listener", "l"));
        assert_ne!(a, guid("s7", "policy-rule", "l"));
        assert_ne!(a, guid("s8", "web-listener", "l"));
        assert_eq!(a.len(), 38);
        assert!(a.starts_with('{') && a.ends_with('}'));
        assert_eq!(a, a.to_ascii_uppercase());
    }

    #[test]
    fn comments_cannot_close_early() {
        let c = comment_text("a -- b -->\u{e9}-");
        assert!(!c.contains("--"));
        assert!(!c.ends_with('-'));
        assert!(c.is_ascii());
    }
}
