//! Lints over certificate-to-logon mapping: ruling (b)'s explicit "certificate or password",
//! strong mapping (KB5014754), two mappings over one issuer, and who may be in NTAuth.

use super::{Checked, Unit};
use crate::diagnostics::{Code, Diag, Diagnostics};

/// Runs the mapping lints.
pub(crate) fn run(unit: &Unit, diags: &mut Diagnostics) {
    certificate_or_password(unit, diags);
    weak_mappings(unit, diags);
    weak_implicit_mappings(unit, diags);
    shared_issuers(unit, diags);
    ntauth(unit, diags);
}

/// The authority and its parents, root first (cycles stop).
fn chain<'a>(unit: &'a Unit, name: &str) -> Vec<&'a Checked> {
    let mut out: Vec<&Checked> = Vec::new();
    let mut cur = unit.get(name).filter(|b| b.kind() == "authority");
    while let Some(a) = cur {
        if out.iter().any(|c| c.name() == a.name()) {
            break;
        }
        out.push(a);
        cur = a.text("parent").and_then(|p| unit.get(p));
    }
    out.reverse();
    out
}

/// ActiveSync and SEG blocks that authenticate devices by certificate, and TMG listeners
/// that do (TMG logs the user on from the certificate for its constrained delegation).
fn certificate_hosts(unit: &Unit) -> impl Iterator<Item = &Checked> {
    unit.blocks.iter().filter(|b| {
        (matches!(b.kind(), "activesync" | "seg")
            && matches!(
                b.text("auth"),
                Some("certificate" | "certificate_and_password" | "certificate_or_password")
            ))
            || (b.kind() == "tmg_listener" && b.text("auth") == Some("client_certificate"))
    })
}

/// Whether certificates of `authority` (or of a CA below it) are mapped to logons in the unit:
/// by a `cert_mapping`, by IIS's Active Directory mapping on an ActiveSync or SEG host, or as
/// the device certificates a Workspace ONE CA enrols for ActiveSync.
pub(crate) fn maps_to_logons(unit: &Unit, authority: &str) -> bool {
    unit.of_kind("cert_mapping")
        .chain(unit.of_kind("ws1_authority"))
        .filter_map(|m| m.text("authority"))
        .chain(certificate_hosts(unit).filter_map(|b| b.text("authority")))
        .any(|a| chain(unit, a).iter().any(|c| c.name() == authority))
}

/// Whether `authority` (or a CA below it) issues S/MIME or server certificates in the unit:
/// uses NTAuth has nothing to do with.
fn issues_without_logon(unit: &Unit, authority: &str) -> bool {
    let below = |a: &str| chain(unit, a).iter().any(|c| c.name() == authority);
    unit.of_kind("smime")
        .any(|s| s.list("authorities").iter().any(|a| below(a)))
        || unit.of_kind("certificate").filter_map(|c| c.text("issuer")).any(below)
}

fn certificate_or_password(unit: &Unit, diags: &mut Diagnostics) {
    for b in unit
        .blocks
        .iter()
        .filter(|b| matches!(b.kind(), "activesync" | "seg") && b.text("auth") == Some("certificate_or_password"))
    {
        diags.push(
            Diag::new(
                Code::CertificateOrPassword,
                b.span_of("auth"),
                format!("`{}` accepts devices without a client certificate", b.name()),
            )
            .label("client certificates accepted, not required")
            .help("once every device has its certificate, use `auth = certificate_and_password` (certificate required, password as fallback identity) or `auth = certificate`"),
        );
    }
}

fn weak_mappings(unit: &Unit, diags: &mut Diagnostics) {
    for m in unit.of_kind("cert_mapping") {
        let kind = m.text("kind").unwrap_or("upn");
        let strong = m.text("strong");
        let weak = match kind {
            // Issuer only: it names no certificate, so it can never be strong.
            "many_to_one" => Some("an issuer-only (many-to-one) mapping is weak whatever the certificates hold"),
            "upn" if strong != Some("sid_extension") => {
                Some("UPN mapping is weak unless the certificates carry the user's SID")
            }
            "one_to_one" if !matches!(strong, Some("issuer_serial" | "ski" | "sha1_public_key")) => {
                Some("a one-to-one mapping by issuer and subject is weak")
            }
            _ => None,
        };
        let Some(why) = weak else { continue };
        let mut d = Diag::new(
            Code::WeakCertificateMapping,
            m.span_of("kind"),
            format!(
                "certificate mapping `{}` is weak: domain controllers in Full Enforcement (KB5014754) refuse it",
                m.name()
            ),
        )
        .label(why);
        if let Some(a) = m.text("authority").and_then(|a| unit.get(a)) {
            d = d.with(a.name_span(), "certificates of this authority");
        }
        d = d.help(match kind {
            "many_to_one" => "map the shared devices one-to-one with `strong = issuer_serial` (or `ski`, `sha1_public_key`), or issue them certificates that carry the account's SID",
            "one_to_one" => "write the mapping by issuer and serial number, SKI or SHA-1 public key, and say so with `strong = issuer_serial` (or `ski`, `sha1_public_key`)",
            _ => "issue certificates with the user's SID (AD CS online templates, or the SID URL SAN) and write `strong = sid_extension`, or map each certificate with `kind = one_to_one` and `strong = issuer_serial`",
        });
        diags.push(d);
    }
}

/// The `cert_mapping` that maps the certificates of `authority` (or of a CA above it), if any.
fn explicit_mapping<'a>(unit: &'a Unit, authority: Option<&str>) -> Option<&'a Checked> {
    let chain = authority.map(|a| chain(unit, a)).unwrap_or_default();
    unit.of_kind("cert_mapping")
        .find(|m| m.text("authority").is_some_and(|a| chain.iter().any(|c| c.name() == a)))
}

/// KB5014754 per unit: an ActiveSync or SEG host (IIS's Active Directory mapping) or a TMG
/// listener (TMG's logon for its delegation) that maps device certificates to accounts by
/// their UPN, with no `cert_mapping` over their authority, is weak unless the host says how
/// it is strong.
fn weak_implicit_mappings(unit: &Unit, diags: &mut Diagnostics) {
    for b in certificate_hosts(unit) {
        let authority = b.text("authority");
        if b.text("strong").is_some() || explicit_mapping(unit, authority).is_some() {
            continue;
        }
        let who = if b.kind() == "tmg_listener" {
            "TMG logs the device's user on"
        } else {
            "IIS maps the device certificate to the account"
        };
        let mut d = Diag::new(
            Code::WeakCertificateMapping,
            b.span_of("auth"),
            format!(
                "`{}` maps device certificates to accounts by UPN only: domain controllers in Full Enforcement (KB5014754) refuse it",
                b.name()
            ),
        )
        .label(format!("{who} by the UPN in the certificate, a weak mapping"));
        if let Some(a) = authority.and_then(|a| unit.get(a)) {
            d = d.with(a.name_span(), "the device certificates come from this authority");
        }
        diags.push(d.help(
            "if the certificates carry the user's SID (security extension or the SAN URL `tag:microsoft.com,2022-09-14:sid:<SID>`), write `strong = sid_extension`; if each user's altSecurityIdentities maps the certificate by issuer and serial number, write `strong = issuer_serial` (or `ski`, `sha1_public_key`)",
        ));
    }
}

fn shared_issuers(unit: &Unit, diags: &mut Diagnostics) {
    let maps: Vec<&Checked> = unit.of_kind("cert_mapping").collect();
    for (i, m) in maps.iter().enumerate() {
        if m.text("kind") != Some("many_to_one") {
            continue;
        }
        let Some(authority) = m.text("authority") else { continue };
        // Every other mapping over the same issuing CA, declared before or after.
        for other in maps
            .iter()
            .enumerate()
            .filter(|(j, o)| *j != i && o.text("authority") == Some(authority))
            .map(|(_, o)| o)
        {
            // Report each pair once: at the later of two many-to-one mappings, else at the
            // many-to-one one.
            if other.text("kind") == Some("many_to_one") && maps.iter().position(|x| x.name() == other.name()) > Some(i)
            {
                continue;
            }
            diags.push(
                Diag::new(
                    Code::TwoMappingsOneIssuer,
                    m.span_of("authority"),
                    format!(
                        "`{}` maps every certificate of `{authority}` to one account, and `{}` maps the same issuer",
                        m.name(),
                        other.name()
                    ),
                )
                .label("issuer-only mapping matches every certificate of this CA")
                .with(other.span_of("authority"), "the same issuer is mapped here too")
                .help("issue the shared devices' certificates from a separate CA (an `authority` of their own), or map them `one_to_one` with `strong = issuer_serial`"),
            );
        }
    }
}

fn ntauth(unit: &Unit, diags: &mut Diagnostics) {
    for a in unit.of_kind("authority").filter(|a| a.bool("ntauth") == Some(true)) {
        let logon = maps_to_logons(unit, a.name());
        // A library may offer `ntauth = true` for the units that map; only the unit's own
        // declaration is its decision.
        if !logon && a.span.file == unit.entry && issues_without_logon(unit, a.name()) {
            diags.push(
                Diag::new(
                    Code::NtAuthWithoutLogon,
                    a.span_of("ntauth"),
                    format!("`{}` is published to NTAuth, but nothing in this unit maps its certificates to logons", a.name()),
                )
                .label("NTAuth governs logon mapping only")
                .help("remove `ntauth = true` (mailsec does not publish it here), or declare the `cert_mapping`, `activesync` or `seg` that maps its certificates"),
            );
        }
        let root = chain(unit, a.name()).into_iter().next();
        let foreign = root.is_some_and(|r| matches!(r.text("kind"), Some("external" | "partner")));
        if logon && foreign && !a.has("ntauth_approval") {
            let mut d = Diag::new(
                Code::ExternalNtAuth,
                a.span_of("ntauth"),
                format!(
                    "`{}` belongs to a CA hierarchy the organisation does not run and is published to NTAuth",
                    a.name()
                ),
            )
            .label("it could issue logon certificates for any user of the forest");
            if let Some(r) = root.filter(|r| r.name() != a.name()) {
                d = d.with(r.span_of("kind"), "the hierarchy's root is not ours");
            }
            diags.push(d.help("record the PKI owner's approval that the hierarchy is dedicated to you: `ntauth_approval = \"...\"` (the script stops before the publication until it is given)"));
        }
    }
}
