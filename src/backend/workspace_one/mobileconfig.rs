//! The iOS configuration profile of a Workspace ONE profile: what the console's *View XML*
//! shows. A credential payload — `com.apple.security.scep` when the device enrols through
//! SCEP (Generic SCEP authority), `com.apple.security.pkcs12` when Workspace ONE obtains the
//! certificate from AD CS and delivers it — and a `com.apple.eas.account` payload that uses
//! it through `PayloadCertificateUUID`, and a `com.apple.security.root` payload per root CA
//! the profile trusts. No challenge or password is ever written: Workspace ONE
//! injects them at delivery.

use super::model::{file_name, key_usage, subject_rdns, Profile, Ws1};
use super::plist::{Dict, Value};
use crate::ir::Ir;
use uuid::Uuid;

/// Namespace of every UUID this backend derives (UUID v5 of a fixed URN).
fn namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:mailsec:workspace-one")
}

/// A deterministic, upper-case UUID for a name (as Apple's tools write them).
pub(super) fn uuid(name: &str) -> String {
    Uuid::new_v5(&namespace(), name.as_bytes())
        .hyphenated()
        .to_string()
        .to_ascii_uppercase()
}

/// Reverse-DNS identifier of the profile: the primary SMTP domain reversed, then
/// `mailsec.<unit>.<profile>`, with characters outside `[A-Za-z0-9._-]` replaced.
pub(super) fn identifier(ir: &Ir, profile: &str) -> String {
    let domain = ir.organization.smtp_domains.first().map_or("invalid", String::as_str);
    let mut labels: Vec<&str> = domain.split('.').filter(|l| !l.is_empty()).collect();
    labels.reverse();
    let raw = format!("{}.mailsec.{}.{}", labels.join("."), ir.unit, profile);
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Apple's short names for subject attributes; `S` is the language's spelling of state.
fn oid(attr: &str) -> String {
    match attr.to_ascii_uppercase().as_str() {
        "S" | "ST" => "ST".into(),
        "E" | "EMAIL" => "1.2.840.113549.1.9.1".into(),
        other => other.to_string(),
    }
}

/// The profile document for an iOS profile.
pub(super) fn profile(ir: &Ir, ws1: &Ws1<'_>, p: &Profile<'_>) -> Dict {
    let t = ws1.template(p);
    let a = ws1.authority(t);
    let top_id = identifier(ir, p.name);
    let seed = format!("{}/{}", ir.unit, p.name);
    let credential_uuid = uuid(&format!("{seed}/credential/{}", t.name));
    let credential = if a.adcs {
        Dict::new()
            .s("PayloadType", "com.apple.security.pkcs12")
            .s("PayloadDisplayName", t.name)
            .s(
                "PayloadDescription",
                &format!(
                    "Identity certificate issued by {} through request template {}; Workspace ONE fills PayloadContent at delivery",
                    a.ca_name, t.name
                ),
            )
            .s("PayloadCertificateFileName", &format!("{}.p12", t.name))
            .with("PayloadContent", Value::Data(Vec::new()))
    } else {
        let mut scep = Dict::new()
            .s("URL", a.url)
            .s("Name", a.ca_name)
            .with("Keysize", Value::Integer(i64::from(t.key_size)))
            .s("Key Type", "RSA")
            .with("Key Usage", Value::Integer(key_usage(t.key_type)));
        if let Some(rdns) = subject_rdns(t.subject) {
            // Apple's Subject is X.500 order (most general first), the written DN the reverse.
            let subject: Vec<Value> = rdns
                .iter()
                .rev()
                .map(|(k, v)| {
                    Value::Array(vec![Value::Array(vec![
                        Value::String(oid(k)),
                        Value::String(v.clone()),
                    ])])
                })
                .collect();
            scep = scep.with("Subject", Value::Array(subject));
        }
        let mut alt = Dict::new();
        let mut any_alt = false;
        for (kind, key) in [("email", "rfc822Name"), ("upn", "ntPrincipalName"), ("dns", "dNSName")] {
            if let Some((_, v)) = t.san.iter().find(|(k, _)| k == kind) {
                alt = alt.s(key, v);
                any_alt = true;
            }
        }
        if any_alt {
            scep = scep.with("SubjectAltName", Value::Dict(alt));
        }
        Dict::new()
            .s("PayloadType", "com.apple.security.scep")
            .s("PayloadDisplayName", t.name)
            .s(
                "PayloadDescription",
                &format!(
                    "SCEP enrolment with {} through request template {}; Workspace ONE supplies the challenge at delivery",
                    a.ca_name, t.name
                ),
            )
            .with("PayloadContent", Value::Dict(scep))
    };
    let credential = credential
        .s("PayloadIdentifier", &format!("{top_id}.credential"))
        .s("PayloadUUID", &credential_uuid)
        .with("PayloadVersion", Value::Integer(1));

    let mut eas = Dict::new()
        .s("PayloadType", "com.apple.eas.account")
        .s("PayloadDisplayName", p.account_name)
        .s(
            "PayloadDescription",
            "Exchange ActiveSync account authenticated by the credential payload",
        )
        .s("PayloadIdentifier", &format!("{top_id}.eas"))
        .s("PayloadUUID", &uuid(&format!("{seed}/eas")))
        .with("PayloadVersion", Value::Integer(1))
        .s("Host", p.host)
        .with("SSL", Value::Boolean(p.use_ssl))
        .s("PayloadCertificateUUID", &credential_uuid)
        .with("SMIMESigningEnabled", Value::Boolean(p.use_smime))
        .with("SMIMEEncryptByDefault", Value::Boolean(p.use_smime));
    if let Some(e) = p.email {
        eas = eas.s("EmailAddress", e);
    }
    // The console joins Domain and Username as `domain\user`.
    match (p.domain, p.username) {
        (Some(d), Some(u)) => eas = eas.s("UserName", &format!("{d}\\{u}")),
        (None, Some(u)) => eas = eas.s("UserName", u),
        _ => {}
    }

    let mut payloads = vec![Value::Dict(credential), Value::Dict(eas)];
    for r in p.trust {
        let cn = r.common_name.as_deref().unwrap_or(&r.authority);
        payloads.push(Value::Dict(
            Dict::new()
                .s("PayloadType", "com.apple.security.root")
                .s("PayloadDisplayName", cn)
                .s(
                    "PayloadDescription",
                    &format!(
                        "Root CA {cn}, uploaded to the console as {}; Workspace ONE fills PayloadContent from the upload",
                        r.file
                    ),
                )
                .s("PayloadIdentifier", &format!("{top_id}.root.{}", r.authority))
                .s("PayloadUUID", &uuid(&format!("{seed}/root-ca/{}", r.authority)))
                .with("PayloadVersion", Value::Integer(1))
                .s("PayloadCertificateFileName", file_name(&r.file))
                .with("PayloadContent", Value::Data(Vec::new())),
        ));
    }
    Dict::new()
        .s("PayloadType", "Configuration")
        .with("PayloadVersion", Value::Integer(1))
        .s("PayloadIdentifier", &top_id)
        .s("PayloadUUID", &uuid(&seed))
        .s("PayloadDisplayName", p.name)
        .s(
            "PayloadDescription",
            &format!(
                "Workspace ONE profile {} ({}): certificate-authenticated Exchange ActiveSync for {}. Generated by mailsec from {}",
                p.name,
                p.op.id,
                p.host,
                p.op.source_file()
            ),
        )
        .s("PayloadOrganization", &ir.organization.name)
        .with("PayloadContent", Value::Array(payloads))
}
