//! Tests: the `workspace-one` backend. Every generated `.mobileconfig` is parsed with the
//! `plist` crate and checked against Apple's payload schemas (`tests/data/apple/`, MIT,
//! Apple Inc.): known keys, types, required keys, allowed values, formats, no deprecated key,
//! unique identifiers, UUID references that resolve. The S4/S5 profiles link the credential
//! from the EAS payload, use SSL, name a bare host and carry no secret; the API bodies use
//! only field names of the MDM API v2 entities (`tests/data/ws1-api-profile-fields.json`);
//! output is deterministic; snapshots of every file.

use crate::common::{compile_dir, example_irs, root};
use mailsec::backend::{render, OutputFile, Target};
use mailsec::ir::{Action, Ir};
use plist::Value as P;
use serde_json::Value as J;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------
// Inputs

fn apple() -> &'static J {
    static DATA: OnceLock<J> = OnceLock::new();
    DATA.get_or_init(|| {
        let text = std::fs::read_to_string(root().join("tests/data/apple/apple-payloads.json")).expect("apple data");
        serde_json::from_str(&text).expect("apple data is JSON")
    })
}

fn api_fields() -> &'static J {
    static DATA: OnceLock<J> = OnceLock::new();
    DATA.get_or_init(|| {
        let text = std::fs::read_to_string(root().join("tests/data/ws1-api-profile-fields.json")).expect("ws1 data");
        serde_json::from_str(&text).expect("ws1 data is JSON")
    })
}

fn fixture_irs() -> Vec<Ir> {
    let mut irs = Vec::new();
    for c in compile_dir(&root().join("tests/fixtures/workspace-one")) {
        if c.unit.is_some() {
            assert!(!c.diags.has_errors(), "fixture {} has errors: {:?}", c.name, c.diags);
            irs.push(c.ir.expect("a clean unit lowers"));
        }
    }
    assert!(!irs.is_empty(), "workspace-one fixtures found");
    irs
}

fn all_irs() -> Vec<Ir> {
    let mut irs = example_irs();
    irs.extend(fixture_irs());
    irs
}

fn ws1(ir: &Ir) -> Vec<OutputFile> {
    render(Target::WorkspaceOne, ir).unwrap_or_else(|e| panic!("{}: {e}", ir.unit))
}

fn unit<'a>(irs: &'a [Ir], name: &str) -> &'a Ir {
    irs.iter()
        .find(|i| i.unit == name)
        .unwrap_or_else(|| panic!("unit {name}"))
}

fn parse(f: &OutputFile) -> plist::Dictionary {
    let v = P::from_reader_xml(f.contents.as_slice()).unwrap_or_else(|e| panic!("{}: not a plist: {e}", f.path));
    v.into_dictionary()
        .unwrap_or_else(|| panic!("{}: top level is not a dict", f.path))
}

fn profiles(files: &[OutputFile]) -> Vec<&OutputFile> {
    files.iter().filter(|f| f.path.ends_with(".mobileconfig")).collect()
}

// ---------------------------------------------------------------------------------------
// Apple schema check

fn keys_of(payload_type: &str) -> Option<Vec<&'static J>> {
    let p = apple()["payloads"].get(payload_type)?;
    let mut keys: Vec<&J> = Vec::new();
    if p["includes_common_payload_keys"] == J::Bool(true) {
        keys.extend(
            apple()["payloads"]["CommonPayloadKeys"]["keys"]
                .as_array()
                .expect("keys"),
        );
    }
    keys.extend(p["keys"].as_array().expect("keys"));
    Some(keys)
}

fn type_ok(spec: &str, v: &P) -> bool {
    match spec {
        "<string>" => v.as_string().is_some(),
        "<integer>" => v.as_signed_integer().is_some(),
        "<boolean>" => v.as_boolean().is_some(),
        "<data>" => v.as_data().is_some(),
        "<array>" => v.as_array().is_some(),
        "<dictionary>" => v.as_dictionary().is_some(),
        "<any>" => true,
        other => panic!("schema type {other} not handled by the test"),
    }
}

/// Apple's only format in these payloads: the UUID pattern
/// `^[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}$`.
fn uuid_shaped(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

const UUID_FORMAT: &str = "^[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}$";

fn check_value(spec: &J, v: &P, path: &str, errors: &mut Vec<String>) {
    let ty = spec["type"].as_str().expect("type");
    if !type_ok(ty, v) {
        errors.push(format!("{path}: not a {ty}"));
        return;
    }
    if let Some(range) = spec.get("rangelist").and_then(J::as_array) {
        let ok = range.iter().any(|r| match (r, v) {
            (J::Number(n), P::Integer(i)) => n.as_i64() == i.as_signed(),
            (J::String(s), P::String(t)) => s == t,
            (J::Bool(b), P::Boolean(c)) => b == c,
            _ => false,
        });
        if !ok {
            errors.push(format!("{path}: {v:?} not in {range:?}"));
        }
    }
    if let Some(format) = spec.get("format").and_then(J::as_str) {
        assert_eq!(format, UUID_FORMAT, "{path}: format not handled by the test");
        if !v.as_string().is_some_and(uuid_shaped) {
            errors.push(format!("{path}: {v:?} is not a UUID"));
        }
    }
    if spec["iOS"].get("deprecated").is_some() {
        errors.push(format!("{path}: deprecated on iOS"));
    }
    let Some(sub) = spec.get("subkeys").and_then(J::as_array) else {
        return;
    };
    match v {
        P::Dictionary(d) => check_dict(d, &sub.iter().collect::<Vec<_>>(), path, errors),
        P::Array(items) => {
            let elem = &sub[0];
            for (i, item) in items.iter().enumerate() {
                check_value(elem, item, &format!("{path}[{i}]"), errors);
            }
        }
        _ => {}
    }
}

fn check_dict(d: &plist::Dictionary, keys: &[&J], path: &str, errors: &mut Vec<String>) {
    for (k, v) in d {
        match keys.iter().find(|s| s["key"] == k.as_str()) {
            Some(spec) => check_value(spec, v, &format!("{path}.{k}"), errors),
            None => errors.push(format!("{path}: unknown key `{k}`")),
        }
    }
    for spec in keys {
        let k = spec["key"].as_str().expect("key");
        if spec["presence"] == "required" && !d.contains_key(k) {
            errors.push(format!("{path}: required key `{k}` missing"));
        }
    }
}

/// Every problem of a profile against Apple's schemas, plus the cross-payload rules.
fn apple_errors(doc: &plist::Dictionary) -> Vec<String> {
    let mut errors = Vec::new();
    let top: Vec<&J> = keys_of("TopLevel").expect("TopLevel");
    // The top level's PayloadContent items are payloads, checked by their own type below.
    let mut shallow = doc.clone();
    shallow.insert("PayloadContent".into(), P::Array(Vec::new()));
    check_dict(&shallow, &top, "profile", &mut errors);
    let Some(items) = doc.get("PayloadContent").and_then(P::as_array) else {
        errors.push("profile: PayloadContent is not an array".into());
        return errors;
    };
    let mut uuids: BTreeMap<String, String> = BTreeMap::new();
    let mut identifiers = BTreeSet::new();
    for s in ["PayloadUUID", "PayloadIdentifier"] {
        if let Some(v) = doc.get(s).and_then(P::as_string) {
            if s == "PayloadUUID" {
                if !uuid_shaped(v) {
                    errors.push(format!("profile: PayloadUUID {v} is not a UUID"));
                }
                uuids.insert(v.into(), "Configuration".into());
            } else {
                identifiers.insert(v.to_string());
            }
        }
    }
    for (i, item) in items.iter().enumerate() {
        let path = format!("payload[{i}]");
        let Some(d) = item.as_dictionary() else {
            errors.push(format!("{path}: not a dict"));
            continue;
        };
        let ty = d.get("PayloadType").and_then(P::as_string).unwrap_or("");
        let Some(keys) = keys_of(ty) else {
            errors.push(format!("{path}: unknown PayloadType `{ty}`"));
            continue;
        };
        check_dict(d, &keys, &format!("{path}({ty})"), &mut errors);
        if let Some(u) = d.get("PayloadUUID").and_then(P::as_string) {
            if !uuid_shaped(u) {
                errors.push(format!("{path}: PayloadUUID {u} is not a UUID"));
            }
            if uuids.insert(u.to_string(), ty.to_string()).is_some() {
                errors.push(format!("{path}: PayloadUUID {u} twice"));
            }
        }
        if let Some(id) = d.get("PayloadIdentifier").and_then(P::as_string) {
            if !identifiers.insert(id.to_string()) {
                errors.push(format!("{path}: PayloadIdentifier {id} twice"));
            }
        }
    }
    for (i, item) in items.iter().enumerate() {
        let Some(d) = item.as_dictionary() else { continue };
        for (k, v) in d {
            if k.ends_with("UUID") && k != "PayloadUUID" {
                let target = v.as_string().and_then(|u| uuids.get(u));
                match (k.as_str(), target.map(String::as_str)) {
                    (_, None) => errors.push(format!("payload[{i}].{k} refers to no payload of the profile")),
                    ("PayloadCertificateUUID", Some(t))
                        if !matches!(t, "com.apple.security.scep" | "com.apple.security.pkcs12") =>
                    {
                        errors.push(format!("payload[{i}].{k} refers to a {t}, not an identity"));
                    }
                    _ => {}
                }
            }
        }
    }
    errors
}

#[test]
fn every_profile_passes_apples_payload_schemas() {
    let mut checked = 0;
    for ir in all_irs() {
        for f in ws1(&ir) {
            if !f.path.ends_with(".mobileconfig") {
                continue;
            }
            let errors = apple_errors(&parse(&f));
            assert!(errors.is_empty(), "{}/{}:\n{}", ir.unit, f.path, errors.join("\n"));
            checked += 1;
        }
    }
    assert!(checked >= 4, "profiles checked: {checked}");
}

/// The schema check is not a rubber stamp: each broken profile is caught.
#[test]
fn the_schema_check_rejects_broken_profiles() {
    let irs = example_irs();
    let files = ws1(unit(&irs, "s4-ws1-scep"));
    let good = parse(profiles(&files)[0]);
    assert!(apple_errors(&good).is_empty());
    type Edit = fn(&mut plist::Dictionary);
    fn payload(d: &mut plist::Dictionary, i: usize) -> &mut plist::Dictionary {
        d.get_mut("PayloadContent").and_then(P::as_array_mut).expect("content")[i]
            .as_dictionary_mut()
            .expect("dict")
    }
    fn scep(d: &mut plist::Dictionary) -> &mut plist::Dictionary {
        payload(d, 0)
            .get_mut("PayloadContent")
            .and_then(P::as_dictionary_mut)
            .expect("scep content")
    }
    let edits: [(&str, Edit); 9] = [
        ("Keysize 3000", |d| {
            scep(d).insert("Keysize".into(), P::Integer(3000.into()));
        }),
        ("URL missing", |d| {
            scep(d).remove("URL");
        }),
        ("unknown key", |d| {
            payload(d, 1).insert("Hostname".into(), P::String("x".into()));
        }),
        ("SSL as string", |d| {
            payload(d, 1).insert("SSL".into(), P::String("true".into()));
        }),
        ("dangling certificate", |d| {
            payload(d, 1).insert(
                "PayloadCertificateUUID".into(),
                P::String("00000000-0000-0000-0000-000000000000".into()),
            );
        }),
        ("deprecated key", |d| {
            payload(d, 1).insert("SMIMEEnabled".into(), P::Boolean(false));
        }),
        ("top-level version 2", |d| {
            d.insert("PayloadVersion".into(), P::Integer(2.into()));
        }),
        ("duplicate identifier", |d| {
            let id = payload(d, 0).get("PayloadIdentifier").cloned().expect("id");
            payload(d, 1).insert("PayloadIdentifier".into(), id);
        }),
        ("not a UUID", |d| {
            payload(d, 0).insert("PayloadUUID".into(), P::String("contoso".into()));
        }),
    ];
    for (what, edit) in edits {
        let mut bad = good.clone();
        edit(&mut bad);
        assert!(!apple_errors(&bad).is_empty(), "not caught: {what}");
    }
}

// ---------------------------------------------------------------------------------------
// S4 and S5

fn payload_of<'a>(doc: &'a plist::Dictionary, ty: &str) -> &'a plist::Dictionary {
    doc["PayloadContent"]
        .as_array()
        .expect("content")
        .iter()
        .filter_map(P::as_dictionary)
        .find(|d| d.get("PayloadType").and_then(P::as_string) == Some(ty))
        .unwrap_or_else(|| panic!("no {ty} payload"))
}

fn eas_links(doc: &plist::Dictionary, credential_type: &str) {
    let cred = payload_of(doc, credential_type);
    let eas = payload_of(doc, "com.apple.eas.account");
    assert_eq!(eas["PayloadCertificateUUID"], cred["PayloadUUID"]);
    assert_eq!(eas["SSL"].as_boolean(), Some(true));
    let host = eas["Host"].as_string().expect("host");
    assert!(
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'),
        "host {host}"
    );
    assert_eq!(host, "mail.contoso.com");
    assert_eq!(eas["SMIMESigningEnabled"].as_boolean(), Some(false));
    assert_eq!(eas["EmailAddress"].as_string(), Some("{EmailAddress}"));
    assert!(eas["UserName"]
        .as_string()
        .is_some_and(|u| u.contains("{EmailAddress}")));
    for d in [cred, eas] {
        for k in ["Password", "Challenge", "CertificatePassword"] {
            assert!(!d.contains_key(k), "{k} in a payload");
        }
    }
}

#[test]
fn s4_enrols_through_scep_and_links_it_from_the_eas_payload() {
    let irs = example_irs();
    let files = ws1(unit(&irs, "s4-ws1-scep"));
    let ps = profiles(&files);
    assert_eq!(ps.len(), 1, "one iOS profile");
    let doc = parse(ps[0]);
    eas_links(&doc, "com.apple.security.scep");
    let scep = payload_of(&doc, "com.apple.security.scep")["PayloadContent"]
        .as_dictionary()
        .expect("scep content");
    assert!(
        !scep.contains_key("Challenge"),
        "the challenge is Workspace ONE's to inject"
    );
    assert_eq!(
        scep["URL"].as_string(),
        Some("https://ndes01.corp.contoso.com/certsrv/mscep/")
    );
    assert!(scep["Keysize"].as_signed_integer().is_some_and(|k| k >= 2048));
    assert_eq!(scep["Key Type"].as_string(), Some("RSA"));
    assert_eq!(scep["Key Usage"].as_signed_integer(), Some(5), "signing and encryption");
    let alt = scep["SubjectAltName"].as_dictionary().expect("SAN");
    assert_eq!(alt["rfc822Name"].as_string(), Some("{EmailAddress}"));
    assert_eq!(alt["ntPrincipalName"].as_string(), Some("{UserPrincipalName}"));
    let subject = scep["Subject"].as_array().expect("subject");
    let cn = &subject[0].as_array().expect("rdn")[0].as_array().expect("pair");
    assert_eq!(cn[0].as_string(), Some("CN"));
    assert_eq!(cn[1].as_string(), Some("WorkspaceONEUEM.{EnrollmentUser}"));
    // `trust = [contoso_root]`: the root goes to the device as a root payload.
    let root = payload_of(&doc, "com.apple.security.root");
    assert_eq!(
        root["PayloadCertificateFileName"].as_string(),
        Some("contoso-root-ca.cer")
    );
    assert_eq!(root["PayloadDisplayName"].as_string(), Some("Contoso Root CA"));
}

#[test]
fn s5_receives_an_identity_from_the_console_and_links_it() {
    let irs = example_irs();
    let files = ws1(unit(&irs, "s5-ws1-adcs"));
    let ps = profiles(&files);
    assert_eq!(ps.len(), 1, "one iOS profile");
    let doc = parse(ps[0]);
    eas_links(&doc, "com.apple.security.pkcs12");
    let id = payload_of(&doc, "com.apple.security.pkcs12");
    assert_eq!(id["PayloadContent"].as_data(), Some(&[][..]), "filled by the console");
    assert!(!id.contains_key("Password"));
    assert!(
        doc["PayloadContent"].as_array().expect("content").iter().all(|p| p
            .as_dictionary()
            .and_then(|d| d.get("PayloadType"))
            .and_then(P::as_string)
            != Some("com.apple.security.scep")),
        "ADCS certificates come from the console, not by SCEP"
    );
}

#[test]
fn subject_order_and_escapes_survive() {
    let irs = fixture_irs();
    let files = ws1(unit(&irs, "hostile"));
    let doc = parse(profiles(&files)[0]);
    let scep = payload_of(&doc, "com.apple.security.scep")["PayloadContent"]
        .as_dictionary()
        .expect("scep content");
    let pairs: Vec<(String, String)> = scep["Subject"]
        .as_array()
        .expect("subject")
        .iter()
        .map(|rdn| {
            let pair = rdn.as_array().expect("rdn")[0].as_array().expect("pair");
            (
                pair[0].as_string().expect("oid").into(),
                pair[1].as_string().expect("value").into(),
            )
        })
        .collect();
    let want = [
        ("C", "NL"),
        ("O", "A & B"),
        ("OU", "Mobile, Devices"),
        ("CN", "{EnrollmentUser}"),
    ];
    assert_eq!(pairs, want.map(|(a, b)| (a.to_string(), b.to_string())));
    assert_eq!(scep["Name"].as_string(), Some("Issuing \"CA\" <1> & co"));
    let eas = payload_of(&doc, "com.apple.eas.account");
    assert_eq!(
        eas["PayloadDisplayName"].as_string(),
        Some("Mail </string><key>Password</key><string>x"),
        "an account name stays one string"
    );
    assert!(!eas.contains_key("Password"));
}

// ---------------------------------------------------------------------------------------
// Runbook: the NDES and AD CS prerequisites (review S4-1..S4-3)

fn runbook_md(ir: &Ir) -> String {
    let files = render(Target::Runbook, ir).expect("runbook renders");
    let md = files.iter().find(|f| f.path.ends_with(".md")).expect("markdown");
    String::from_utf8(md.contents.clone()).expect("UTF-8")
}

#[test]
fn runbook_makes_ndes_accept_the_static_challenge_and_checks_the_templates() {
    let irs = example_irs();
    let s4 = runbook_md(unit(&irs, "s4-ws1-scep"));
    // S4-1: single-password mode, read before written, with the registry path.
    let query = s4
        .find(r"reg query HKLM\SOFTWARE\Microsoft\Cryptography\MSCEP\UseSinglePassword /v UseSinglePassword")
        .expect("reads the mode");
    let add = s4
        .find(r"reg add HKLM\SOFTWARE\Microsoft\Cryptography\MSCEP\UseSinglePassword /v UseSinglePassword /t REG_DWORD /d 1 /f")
        .expect("sets single-password mode");
    assert!(query < add);
    assert!(s4.contains("appcmd.exe recycle apppool /apppool.name:SCEP"));
    assert!(s4.contains("https://ndes01.corp.contoso.com/certsrv/mscep_admin/"));
    // S4-2: the registry value NDES takes the template from, for Signing & Encryption.
    assert!(s4.contains(r"reg query HKLM\SOFTWARE\Microsoft\Cryptography\MSCEP /v GeneralPurposeTemplate"));
    assert!(s4.contains("`GeneralPurposeTemplate    REG_SZ    ContosoMobileUser`"));
    // S4-3 in S4 and S5: the AD CS template's prerequisites, checked with certutil.
    let s5 = runbook_md(unit(&irs, "s5-ws1-adcs"));
    for md in [&s4, &s5] {
        assert!(md.contains("certutil -v -template ContosoMobileUser"));
        assert!(md.contains("CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT"));
        assert!(md.contains("**Supply in the request**"));
        assert!(md.contains("**Client Authentication** (1.3.6.1.5.5.7.3.2)"));
        assert!(md.contains("**Allow Enroll**"));
        assert!(md.contains("certutil -CATemplates"));
    }
    assert!(
        s5.contains(r"`CONTOSO\svc-ws1-adcs`"),
        "the ADCS service account may enrol"
    );
    assert!(!s5.contains("UseSinglePassword"), "no NDES in S5");
    // The console's View XML is compared with the generated profile, by its real path.
    let files = ws1(unit(&irs, "s4-ws1-scep"));
    let profile = profiles(&files)[0];
    assert!(
        s4.contains(&format!("It matches `{}`", profile.path)),
        "{}",
        profile.path
    );
}

// ---------------------------------------------------------------------------------------
// No secret anywhere

fn has_key(v: &J, keys: &[&str]) -> bool {
    match v {
        J::Object(m) => m.iter().any(|(k, x)| keys.contains(&k.as_str()) || has_key(x, keys)),
        J::Array(a) => a.iter().any(|x| has_key(x, keys)),
        _ => false,
    }
}

#[test]
fn secrets_appear_only_as_references() {
    for ir in all_irs() {
        let secrets: BTreeSet<String> = ir
            .operations
            .iter()
            .filter_map(|op| match &op.action {
                Action::Ws1Authority {
                    challenge, credentials, ..
                } => Some(
                    challenge
                        .iter()
                        .chain(credentials)
                        .map(|s| s.name.clone())
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            })
            .flatten()
            .collect();
        for f in ws1(&ir) {
            let text = std::str::from_utf8(&f.contents).expect("UTF-8");
            if f.path.ends_with(".mobileconfig")
                || f.path.contains("/api/profile-")
                || f.path.contains("/api/template-")
            {
                for s in &secrets {
                    assert!(!text.contains(s.as_str()), "{}/{}: names secret {s}", ir.unit, f.path);
                }
                if f.path.ends_with(".mobileconfig") {
                    assert!(
                        !text.contains("<key>Challenge</key>") && !text.contains("<key>Password</key>"),
                        "{}",
                        f.path
                    );
                } else {
                    let v: J = serde_json::from_slice(&f.contents).expect("JSON");
                    assert!(
                        !has_key(&v, &["Password", "Challenge", "CertificatePassword"]),
                        "{}",
                        f.path
                    );
                }
                continue;
            }
            // A certificate-authority record: each secret only as `{"secret": NAME}`.
            let v: J = serde_json::from_slice(&f.contents).expect("JSON");
            for (k, field) in v["settings"].as_object().expect("settings") {
                if matches!(k.as_str(), "Password" | "Challenge") {
                    let name = field["secret"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{}: {k} is not a reference", f.path));
                    assert!(secrets.contains(name), "{}: {k} names an undeclared secret", f.path);
                    assert_eq!(field.as_object().map(serde_json::Map::len), Some(1), "{}", f.path);
                } else {
                    let s = serde_json::to_string(field).expect("json");
                    assert!(secrets.iter().all(|n| !s.contains(n.as_str())), "{}: {k}", f.path);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// API bodies

fn entity(name: &str) -> BTreeSet<&'static str> {
    api_fields()["entities"][name]
        .as_array()
        .unwrap_or_else(|| panic!("entity {name}"))
        .iter()
        .map(|v| v.as_str().expect("field"))
        .collect()
}

fn assert_fields(obj: &J, entity_name: &str, path: &str) {
    let allowed = entity(entity_name);
    for k in obj
        .as_object()
        .unwrap_or_else(|| panic!("{path}: not an object"))
        .keys()
    {
        assert!(
            allowed.contains(k.as_str()),
            "{path}: `{k}` is not a field of {entity_name}"
        );
    }
}

#[test]
fn profile_bodies_use_only_api_field_names_and_resolve_every_id() {
    let mut bodies = 0;
    for ir in all_irs() {
        for f in ws1(&ir) {
            if !f.path.contains("/api/profile-") {
                continue;
            }
            bodies += 1;
            let v: J = serde_json::from_slice(&f.contents).expect("JSON");
            let request = v["request"].as_str().expect("request");
            let endpoints: Vec<&str> = api_fields()["endpoints"]
                .as_object()
                .expect("endpoints")
                .values()
                .filter_map(J::as_str)
                .collect();
            assert!(endpoints.contains(&request), "{request}");
            let body = &v["body"];
            let android = request.contains("/android/");
            let (top, creds, creds_entity, eas_key, eas_entity) = if android {
                (
                    "AndroidDeviceProfileV2Entity",
                    "AndroidForWorkCredentialsList",
                    "AndroidForWorkCredentialsPayloadV2Entity",
                    "AndroidForWorkExchangeActiveSync",
                    "AndroidForWorkEASPayloadV2Entity",
                )
            } else {
                (
                    "AppleDeviceProfileV2Entity",
                    "CredentialsList",
                    "AppleCredentialsPayloadV2Entity",
                    "EASNativeMailClientList",
                    "AppleEASNativeMailClientPayloadV2Entity",
                )
            };
            assert_fields(body, top, &f.path);
            assert_fields(&body["General"], "GeneralPayloadV2Entity", &f.path);
            for c in body[creds].as_array().expect("credentials") {
                assert_fields(c, creds_entity, &f.path);
            }
            let eas = if android {
                body[eas_key].clone()
            } else {
                body[eas_key][0].clone()
            };
            assert_fields(&eas, eas_entity, &f.path);
            assert!(eas.get("Password").is_none(), "{}", f.path);
            assert_eq!(eas["UseSSL"], J::Bool(true), "{}", f.path);
            let host = eas[if android { "Host" } else { "ExchangeActiveSyncHost" }]
                .as_str()
                .expect("host");
            assert!(
                host.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'),
                "{host}"
            );
            // The EAS payload names the credential; ids are resolved, never hard-coded.
            let link = eas[if android {
                "LoginCertificateName"
            } else {
                "PayloadCertificateName"
            }]
            .clone();
            assert_eq!(link, body[creds][0]["Name"], "{}", f.path);
            let pointers: Vec<&str> = v["resolve"]
                .as_array()
                .expect("resolve")
                .iter()
                .map(|r| r["field"].as_str().expect("field"))
                .collect();
            for field in ["CredentialSource", "CertificateAuthority", "CertificateTemplate"] {
                let p = format!("/{creds}/0/{field}");
                assert!(pointers.contains(&p.as_str()), "{}: {p} not resolved", f.path);
            }
            for p in pointers {
                assert_eq!(
                    body.pointer(p),
                    Some(&J::Null),
                    "{}: {p} is filled in at run time",
                    f.path
                );
            }
        }
    }
    assert!(bodies >= 5, "profile bodies: {bodies}");
}

#[test]
fn authority_and_template_records_carry_the_console_settings() {
    let irs = example_irs();
    let get = |unit_name: &str, path: &str| -> J {
        let files = ws1(unit(&irs, unit_name));
        let f = files
            .iter()
            .find(|f| f.path.ends_with(path))
            .unwrap_or_else(|| panic!("{path}"));
        serde_json::from_slice(&f.contents).expect("JSON")
    };
    let scep = get("s4-ws1-scep", "api/ca-contoso_ndes.json");
    assert_eq!(scep["settings"]["AuthorityType"], "Generic SCEP");
    assert_eq!(scep["settings"]["ChallengeType"], "Static");
    assert_eq!(scep["settings"]["Challenge"]["secret"], "NDES_SCEP_CHALLENGE");
    let adcs = get("s5-ws1-adcs", "api/ca-contoso_adcs.json");
    assert_eq!(adcs["settings"]["AuthorityType"], "Microsoft ADCS");
    let url = adcs["settings"]["ServerHostname"].as_str().expect("url");
    assert!(url.starts_with("https://") && url.ends_with("/certsrv/adcs/"), "{url}");
    assert_eq!(adcs["settings"]["Password"]["secret"], "WS1_ADCS_SERVICE_ACCOUNT");
    let t = get("s5-ws1-adcs", "api/template-contoso_eas_adcs_ios.json");
    let s = &t["settings"];
    assert_eq!(s["PrivateKeyLength"], 2048);
    assert_eq!(s["PrivateKeyType"], "Signing & Encryption");
    assert_eq!(s["CertificateTemplate"], "ContosoMobileUser");
    assert_eq!(s["AutomaticCertificateRenewal"], true);
    assert_eq!(s["AutoRenewalPeriodDays"], 30);
    assert_eq!(s["EnableCertificateRevocation"], true);
    assert_eq!(s["PublishPrivateKey"], false);
    assert_eq!(s["ForceKeyGenerationOnDevice"], true);
    let sans: Vec<&str> = s["SubjectAlternativeNames"]
        .as_array()
        .expect("sans")
        .iter()
        .map(|x| x["Type"].as_str().expect("type"))
        .collect();
    assert_eq!(sans, ["Email", "User Principal Name"]);
    let android = get("s5-ws1-adcs", "api/template-contoso_eas_adcs_android.json");
    assert_eq!(android["settings"]["ForceKeyGenerationOnDevice"], false);
}

/// Android profiles are not dropped: they get their API body.
#[test]
fn every_profile_gets_its_files() {
    for ir in all_irs() {
        let files = ws1(&ir);
        for op in &ir.operations {
            let Action::Ws1Profile { platform, .. } = &op.action else {
                continue;
            };
            let mine: Vec<&str> = files
                .iter()
                .filter(|f| f.operations.contains(&op.id))
                .map(|f| f.path.as_str())
                .collect();
            let want = if platform == "ios" { 2 } else { 1 };
            assert_eq!(mine.len(), want, "{}: {} -> {mine:?}", ir.unit, op.id);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Determinism and snapshots

#[test]
fn two_builds_are_byte_identical() {
    let first: Vec<Vec<OutputFile>> = all_irs().iter().map(ws1).collect();
    let second: Vec<Vec<OutputFile>> = all_irs().iter().map(ws1).collect();
    assert_eq!(first, second);
    assert!(first.iter().flatten().count() >= 15);
}

#[test]
fn snapshots() {
    for ir in all_irs() {
        for f in ws1(&ir) {
            let name = format!(
                "{}__{}",
                ir.unit,
                f.path.trim_start_matches("workspace-one/").replace('/', "__")
            );
            let body = std::str::from_utf8(&f.contents).expect("UTF-8").to_string();
            insta::with_settings!({snapshot_path => "../snapshots/workspace-one", prepend_module_to_snapshot => false}, {
                insta::assert_snapshot!(name, body);
            });
        }
    }
}
