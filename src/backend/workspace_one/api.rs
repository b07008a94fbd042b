//! Workspace ONE UEM REST bodies (MDM API v2) for the profiles, and desired-state records of
//! the certificate authorities and request templates (the console has no public API for
//! those in our sources: the runbook applies them by hand and checks them).
//!
//! The profile body's integer ids (credential source, CA, template, organization group) are
//! never hard-coded: each is `null` in `body` and listed in `resolve` with the picklist
//! request that yields it and the name to look up, so a small client fills them at run time.

use super::model::{file_name, key_type_label, san_label, Authority, Profile, Template, Ws1};
use serde_json::{json, Map, Value};

/// The request headers of every MDM API v2 call.
fn headers() -> Value {
    json!({ "Accept": "application/json;version=2", "Content-Type": "application/json" })
}

fn resolve(field: &str, from: &str, name: &str) -> Value {
    json!({ "field": field, "from": from, "name": name })
}

const CA_PICKLIST: &str = "GET /api/mdm/picklists/organizationgroups/{ogId}/certificateauthorities";
const TEMPLATE_PICKLIST: &str =
    "GET /api/mdm/picklists/organizationgroups/{ogId}/certificateauthorities/{certificateAuthorityId}/certificatetemplates";
const CREDENTIAL_SOURCE: &str = "Defined Certificate Authority";

/// The body for `POST /api/mdm/profiles/platforms/{apple|android}/create`.
pub(super) fn profile(ws1: &Ws1<'_>, p: &Profile<'_>, source: &str) -> Value {
    let t = ws1.template(p);
    let a = ws1.authority(t);
    let general = json!({
        "Name": p.name,
        "Description": format!(
            "Certificate-authenticated Exchange ActiveSync for {} (mailsec {}, from {})",
            p.host, p.op.id, source
        ),
        "ManagedLocationGroupID": null,
    });
    let credential = json!({
        "Name": t.name,
        "CredentialSource": null,
        "CertificateAuthority": null,
        "CertificateTemplate": null,
    });
    let mut eas = Map::new();
    let android = p.platform == "android";
    let (request, creds_key, eas_key, source_picklist) = if android {
        (
            "POST /api/mdm/profiles/platforms/android/create",
            "AndroidForWorkCredentialsList",
            "AndroidForWorkExchangeActiveSync",
            "GET /api/mdm/profiles/{profileId} of an Android profile made in the console (CredentialsList[].CredentialSource)",
        )
    } else {
        (
            "POST /api/mdm/profiles/platforms/apple/create",
            "CredentialsList",
            "EASNativeMailClientList",
            "GET /api/mdm/picklists/applecredentialsource",
        )
    };
    if android {
        eas.insert("Host".into(), json!(p.host));
    } else {
        eas.insert("AccountName".into(), json!(p.account_name));
        eas.insert("ExchangeActiveSyncHost".into(), json!(p.host));
    }
    eas.insert("UseSSL".into(), json!(p.use_ssl));
    eas.insert("UseSMIME".into(), json!(p.use_smime));
    for (k, v) in [
        ("Domain", p.domain),
        ("UserName", p.username),
        ("EmailAddress", p.email),
    ] {
        if let Some(v) = v {
            eas.insert(k.into(), json!(v));
        }
    }
    eas.insert(
        if android {
            "LoginCertificateName"
        } else {
            "PayloadCertificateName"
        }
        .into(),
        json!(t.name),
    );
    let eas = if android {
        Value::Object(eas)
    } else {
        json!([Value::Object(eas)])
    };
    let mut credentials = vec![credential];
    let mut resolve_roots = Vec::new();
    for (i, r) in p.trust.iter().enumerate() {
        credentials.push(json!({ "Name": r.authority, "CredentialSource": null, "CertificateID": null }));
        resolve_roots.push(resolve(
            &format!("/{creds_key}/{}/CredentialSource", i + 1),
            source_picklist,
            "Upload",
        ));
        resolve_roots.push(resolve(
            &format!("/{creds_key}/{}/CertificateID", i + 1),
            "the certificate uploaded to the console from the file named here",
            file_name(&r.file),
        ));
    }
    let mut body = Map::new();
    body.insert("General".into(), general);
    body.insert(creds_key.into(), json!(credentials));
    body.insert(eas_key.into(), eas);
    let mut resolves = vec![
        resolve(
            "/General/ManagedLocationGroupID",
            "the organization group id ({ogId} of the picklist requests)",
            "the organization group that manages the users in scope",
        ),
        resolve(
            &format!("/{creds_key}/0/CredentialSource"),
            source_picklist,
            CREDENTIAL_SOURCE,
        ),
        resolve(&format!("/{creds_key}/0/CertificateAuthority"), CA_PICKLIST, a.ca_name),
        resolve(
            &format!("/{creds_key}/0/CertificateTemplate"),
            TEMPLATE_PICKLIST,
            t.name,
        ),
    ];
    resolves.extend(resolve_roots);
    json!({
        "request": request,
        "headers": headers(),
        "resolve": resolves,
        "body": Value::Object(body),
    })
}

fn secret(name: &str) -> Value {
    json!({ "secret": name })
}

/// The certificate authority as the console's *Certificate Authorities > Add* form holds it.
pub(super) fn authority(a: &Authority<'_>, source: &str) -> Value {
    let settings = if a.adcs {
        json!({
            "AuthorityType": "Microsoft ADCS",
            "Name": a.ca_name,
            "Protocol": "ADCS",
            "ServerHostname": a.url,
            "AuthorityName": a.ca_name,
            "Authentication": "Service Account",
            "Username": a.account,
            "Password": a.credentials.map(|s| secret(&s.name)),
        })
    } else {
        let mut s = json!({
            "AuthorityType": "Generic SCEP",
            "Name": a.ca_name,
            "ScepUrl": a.url,
            "ChallengeType": if a.challenge.is_some() { "Static" } else { "None" },
        });
        if let Some(c) = a.challenge {
            s["Challenge"] = secret(&c.name);
        }
        s
    };
    json!({
        "console": "Devices > Certificates > Certificate Authorities > Add",
        "operation": a.op.id,
        "source": source,
        "name": a.name,
        "settings": settings,
    })
}

/// The request template as the console's *Request Templates > Add* form holds it.
pub(super) fn template(ws1: &Ws1<'_>, t: &Template<'_>, source: &str) -> Value {
    let a = ws1.authority(t);
    let sans: Vec<Value> = t
        .san
        .iter()
        .map(|(k, v)| json!({ "Type": san_label(k), "Value": v }))
        .collect();
    let mut s = Map::new();
    s.insert("Name".into(), json!(t.name));
    s.insert("CertificateAuthority".into(), json!(a.ca_name));
    s.insert("SubjectName".into(), json!(t.subject));
    s.insert("PrivateKeyLength".into(), json!(t.key_size));
    s.insert("PrivateKeyType".into(), json!(key_type_label(t.key_type)));
    s.insert("SubjectAlternativeNames".into(), json!(sans));
    if a.adcs {
        s.insert("CertificateTemplate".into(), json!(t.ca_template));
    }
    s.insert("AutomaticCertificateRenewal".into(), json!(t.auto_renew));
    if t.auto_renew {
        s.insert("AutoRenewalPeriodDays".into(), json!(t.renewal_days.unwrap_or(30)));
    }
    s.insert("EnableCertificateRevocation".into(), json!(t.revoke_on_unenroll));
    s.insert("PublishPrivateKey".into(), json!(t.publish_private_key));
    if a.adcs {
        s.insert(
            "ForceKeyGenerationOnDevice".into(),
            json!(t.force_key_generation_on_device),
        );
    }
    json!({
        "console": "Devices > Certificates > Certificate Authorities > Request Templates > Add",
        "operation": t.op.id,
        "source": source,
        "name": t.name,
        "settings": Value::Object(s),
    })
}
