//! Workspace ONE checks that the device profile needs (the CA and template checks that also
//! concern Exchange and IIS live in `lints.rs`, MS0210-MS0215): platforms the `workspace-one`
//! target renders, subjects it can turn into a SCEP subject, SSL on and S/MIME off in the EAS
//! payload, what Apple's SCEP payload can carry, and the roots a profile installs.

use super::access::{field_span, field_text};
use super::{Checked, Unit};
use crate::diagnostics::{Code, Diag, Diagnostics};

/// Platforms the `workspace-one` target renders.
const RENDERED: &[&str] = &["ios", "android"];
/// `Keysize` values Apple's SCEP payload accepts.
const SCEP_KEY_SIZES: &[i64] = &[1024, 2048, 4096];

/// Runs the Workspace ONE profile checks.
pub(crate) fn run(unit: &Unit, diags: &mut Diagnostics) {
    for p in unit.of_kind("ws1_profile") {
        profile(unit, p, diags);
        public_name(unit, p, diags);
    }
    for t in unit.of_kind("ws1_template") {
        subject(t, diags);
        ios_scep(unit, t, diags);
    }
}

fn profile(unit: &Unit, p: &Checked, diags: &mut Diagnostics) {
    for (name, span) in p.list_spans("trust") {
        let Some(a) = unit.get(&name) else { continue };
        if a.given("parent") {
            diags.push(
                Diag::new(Code::Ws1TrustNotRoot, span, format!("`{name}` is not a root CA"))
                    .label("installed as a trusted root")
                    .with(a.span_of("parent"), "issued by this parent")
                    .help(format!(
                        "list the root at the top of the chain (`{}`); devices build the chain up to it",
                        a.text("parent").unwrap_or("the root")
                    )),
            );
        }
        if !a.given("certificate") {
            diags.push(
                Diag::new(
                    Code::Ws1TrustNoCertificate,
                    span,
                    format!("`{name}` has no certificate file to install on devices"),
                )
                .label("trusted by the profile")
                .with(a.name_span(), "declared without `certificate`")
                .help("add `certificate = file(\"certs/<root>.cer\")` to the authority"),
            );
        }
    }
    if let Some(platform) = p.text("platform").filter(|pl| !RENDERED.contains(pl)) {
        diags.push(
            Diag::new(
                Code::Ws1PlatformUnsupported,
                p.span_of("platform"),
                format!("the workspace-one target does not build `{platform}` profiles yet"),
            )
            .label("no profile would be generated for this platform")
            .help("declare the profile for `ios` or `android`, or configure this platform by hand"),
        );
    }
    if p.bool("use_smime") == Some(true) {
        diags.push(
            Diag::new(
                Code::Ws1SmimeOn,
                p.span_of("use_smime"),
                format!("profile `{}` turns S/MIME on", p.name()),
            )
            .label("the profile delivers no S/MIME certificates")
            .help("write `use_smime = false`; deliver S/MIME certificates in a profile of their own"),
        );
    }
    if p.bool("use_ssl") == Some(false) {
        diags.push(
            Diag::new(
                Code::Ws1SslOff,
                p.span_of("use_ssl"),
                format!("profile `{}` turns SSL off", p.name()),
            )
            .label("the client certificate is only sent over TLS")
            .help("write `use_ssl = true`"),
        );
    }
}

/// The device connects to the public name of the hop that terminates its TLS: an ActiveSync
/// `external_host` or a TMG rule's `public_name`. A SEG declares no public name, so a unit
/// with a SEG is not checked.
fn public_name(unit: &Unit, p: &Checked, diags: &mut Diagnostics) {
    let Some(host) = p.text("host") else { return };
    if unit.of_kind("seg").next().is_some() || host.contains('/') {
        return;
    }
    let mut names: Vec<(&str, &Checked, &str)> = Vec::new();
    for e in unit.of_kind("activesync") {
        if let Some(h) = e.text("external_host") {
            names.push((h, e, "external_host"));
        }
    }
    for r in unit.of_kind("publishing_rule") {
        if let Some(h) = r.text("public_name") {
            names.push((h, r, "public_name"));
        }
    }
    let Some((first, block, setting)) = names.first().copied() else {
        return;
    };
    if names.iter().any(|(n, _, _)| n.eq_ignore_ascii_case(host)) {
        return;
    }
    diags.push(
        Diag::new(
            Code::Ws1HostNotPublicName,
            p.span_of("host"),
            format!(
                "profile `{}` sends devices to `{host}`, which no ActiveSync endpoint publishes",
                p.name()
            ),
        )
        .label("ActiveSync host of the profile")
        .with(block.span_of(setting), "the public name devices reach")
        .help(format!("write `host = \"{first}\"`")),
    );
}

fn subject(t: &Checked, diags: &mut Diagnostics) {
    let Some(s) = t.text("subject") else { return };
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in s.chars() {
        match (escaped, c) {
            (true, _) => {
                cur.push(c);
                escaped = false;
            }
            (false, '\\') => escaped = true,
            (false, ',') => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    if let Some(bad) = parts
        .iter()
        .find(|p| p.split_once('=').is_none_or(|(k, _)| k.trim().is_empty()))
    {
        diags.push(
            Diag::new(
                Code::Ws1SubjectNotDn,
                t.span_of("subject"),
                format!("`{}` is not an `ATTRIBUTE=value` part", bad.trim()),
            )
            .label("subject of the request template")
            .help("write the subject as a distinguished name, e.g. `subject = \"CN=WorkspaceONEUEM.{EnrollmentUser}\"`; escape a comma in a value as `\\\\,`"),
        );
    }
}

/// The iOS profiles that enrol through this template with SCEP (Generic SCEP authority).
fn ios_scep_profiles<'a>(unit: &'a Unit, t: &Checked) -> Vec<&'a Checked> {
    let scep = t
        .text("authority")
        .and_then(|a| unit.get(a))
        .is_some_and(|a| a.text("type") == Some("generic_scep"));
    if !scep {
        return Vec::new();
    }
    unit.of_kind("ws1_profile")
        .filter(|p| p.text("template") == Some(t.name()) && p.text("platform") == Some("ios"))
        .collect()
}

fn ios_scep(unit: &Unit, t: &Checked, diags: &mut Diagnostics) {
    let profiles = ios_scep_profiles(unit, t);
    let Some(first) = profiles.first() else { return };
    if let Some(size) = t.int("key_size").filter(|k| !SCEP_KEY_SIZES.contains(k)) {
        diags.push(
            Diag::new(
                Code::Ws1ScepKeySize,
                t.span_of("key_size"),
                format!("iOS cannot request a {size}-bit key through SCEP"),
            )
            .label("not 1024, 2048 or 4096")
            .with(first.span_of("platform"), "iOS profile using the template")
            .help("write `key_size = 2048` (or 4096), and the same on the CA's certificate template"),
        );
    }
    let records = t.records("san");
    for (i, r) in records.iter().enumerate() {
        let Some(kind) = field_text(r, "type") else { continue };
        let first_of_kind = records[..i].iter().position(|o| field_text(o, "type") == Some(kind));
        if let Some(j) = first_of_kind {
            let mut d = Diag::new(
                Code::Ws1ScepSanTwice,
                field_span(r, "type").unwrap_or_else(|| t.span_of("san")),
                format!("SAN type `{kind}` given twice"),
            )
            .label("second entry of this type")
            .help(format!(
                "keep one `{kind}` entry: an iOS SCEP payload holds one value per SAN type"
            ));
            if let Some(span) = field_span(records[j], "type") {
                d = d.with(span, "first entry");
            }
            diags.push(d.with(first.span_of("platform"), "iOS profile using the template"));
        }
    }
}
