//! Tests: lowering the examples to the IR — every unit lowers, the plan is ordered, ids
//! are unique, secrets stay references, and the output is deterministic.

use crate::common::{compile_text, example_irs};
use mailsec::ir::{Action, Gate, Mode, Phase};
use std::collections::HashSet;

#[test]
fn every_example_lowers_with_a_valid_order() {
    let irs = example_irs();
    assert!(irs.len() >= 9, "at least nine example units");
    for ir in &irs {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut last_phase = Phase::Prerequisites;
        for op in &ir.operations {
            assert!(seen.insert(&op.id), "{}: duplicate id {}", ir.unit, op.id);
            for dep in &op.depends_on {
                assert!(
                    seen.contains(dep.as_str()),
                    "{}: {} depends on {dep}, which is not earlier",
                    ir.unit,
                    op.id
                );
            }
            assert!(op.phase >= last_phase, "{}: phases out of order at {}", ir.unit, op.id);
            last_phase = op.phase;
            assert!(
                ir.hosts.contains_key(&op.host),
                "{}: {} runs on unknown host {}",
                ir.unit,
                op.id,
                op.host
            );
            assert!(!op.source.is_empty(), "{}: {} has no source", ir.unit, op.id);
        }
    }
}

#[test]
fn scenarios_produce_their_key_operations() {
    let irs = example_irs();
    let has = |unit: &str, f: &dyn Fn(&Action) -> bool| {
        let ir = irs
            .iter()
            .find(|i| i.unit == unit)
            .unwrap_or_else(|| panic!("example unit {unit}"));
        ir.operations.iter().any(|o| f(&o.action))
    };
    assert!(has(
        "s1-one-mail",
        &|a| matches!(a, Action::RequestCertificate { key_size, .. } if *key_size >= 2048)
    ));
    assert!(has(
        "s1-one-mail",
        &|a| matches!(a, Action::SendConnector { require_tls: true, smart_hosts, .. } if smart_hosts == &["smtp.tls.one-mail.on.ca"])
    ));
    assert!(has(
        "s1-one-mail",
        &|a| matches!(a, Action::ReceiveConnector { remote_ips, .. } if remote_ips.len() == 4)
    ));
    assert!(has("s1-one-mail", &|a| matches!(a, Action::RemoveConnector { .. })));
    assert!(has("s2-smime-cloud", &|a| matches!(
        a,
        Action::SmimeConfig { online: true, .. }
    )));
    assert!(has("s2-smime-hybrid", &|a| matches!(a, Action::DirectorySync { .. })));
    assert!(has("s3-eas-client-certs", &|a| matches!(
        a,
        Action::IisClientCertificates { .. }
    )));
    assert!(has("s3-eas-client-certs", &|a| matches!(
        a,
        Action::PublishNtAuth { .. }
    )));
    assert!(has("s4-ws1-scep", &|a| matches!(a, Action::Ws1Profile { .. })));
    assert!(has(
        "s5-ws1-adcs",
        &|a| matches!(a, Action::Ws1Authority { ca_type, .. } if ca_type == "adcs")
    ));
    assert!(has("s6-seg-kcd", &|a| matches!(
        a,
        Action::AlternateServiceAccount { .. }
    )));
    assert!(has("s6-seg-kcd", &|a| matches!(
        a,
        Action::AllowDelegation {
            protocol_transition: true,
            ..
        }
    )));
    assert!(has("s6-seg-kcd", &|a| matches!(a, Action::IisWindowsAuth { .. })));
    assert!(has("s7-tmg-eas", &|a| matches!(a, Action::TmgPublishingRule { .. })));
    // S7b: TMG passes TLS through to the SEG; only the SEG delegates, to the EAS server.
    assert!(has("s7-tmg-seg-eas", &|a| matches!(
        a,
        Action::TmgServerPublishing { .. }
    )));
    assert!(!has("s7-tmg-seg-eas", &|a| matches!(a, Action::TmgListener { .. })));
    assert!(!has(
        "s7-tmg-seg-eas",
        &|a| matches!(a, Action::RegisterSpn { spn, .. } if spn.starts_with("http/seg01"))
    ));
    assert!(has(
        "s7-tmg-seg-eas",
        &|a| matches!(a, Action::AllowDelegation { from, spns, .. } if from == "seg01" && spns.iter().any(|s| s == "http/eas01.corp.contoso.com"))
    ));
    assert!(!has(
        "s7-tmg-seg-eas",
        &|a| matches!(a, Action::AllowDelegation { from, .. } if from == "tmg01")
    ));
}

#[test]
fn gated_operations_carry_their_gate() {
    let irs = example_irs();
    let s1 = irs.iter().find(|i| i.unit == "s1-one-mail").unwrap();
    let send = s1
        .operations
        .iter()
        .find(|o| matches!(o.action, Action::SendConnector { .. }))
        .unwrap();
    assert!(matches!(&send.gate, Some(Gate::Both { date, .. }) if date == "2026-12-01"));
    for op in s1.operations.iter().filter(|o| o.phase == Phase::Retirement) {
        assert!(op.gate.is_some(), "retirement {} must be gated", op.id);
        assert_eq!(op.mode, Mode::Scripted);
    }
}

#[test]
fn secrets_never_reach_the_ir() {
    let c = compile_text(
        "s.mailsec",
        r#"
organization "X" { smtp_domains = [x.example] exchange = 2016 }
server hub { fqdn = hub.x.example roles = [hub_transport] }
send_connector "Out" {
  address_spaces = ["*"]
  smart_hosts = [relay.partner.example]
  auth = basic(secret("RELAY_PASSWORD"))
  require_tls = true
  source_servers = [hub]
}
"#,
    );
    let ir = c.ir.expect("clean unit");
    let json = serde_json::to_string(&ir).unwrap();
    assert!(json.contains("\"credential\":{\"name\":\"RELAY_PASSWORD\"}"));
}

#[test]
fn lowering_is_deterministic() {
    let a = serde_json::to_string(&example_irs()).unwrap();
    let b = serde_json::to_string(&example_irs()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn warnings_point_at_their_operations() {
    let c = compile_text(
        "w.mailsec",
        r#"
organization "X" { smtp_domains = [x.example] exchange = 2010 }
server hub { fqdn = hub.x.example roles = [hub_transport] }
authority p { kind = partner }
certificate c {
  subject = { CN = "1" }
  key = { size = 1024 }
  issuer = p
  servers = [hub]
  services = [smtp]
}
"#,
    );
    let ir = c.ir.expect("warnings only");
    let w = ir
        .warnings
        .iter()
        .find(|w| w.code == "MS0200")
        .expect("weak key warning");
    assert!(w.operations.iter().any(|o| o == "csr/c"), "{:?}", w.operations);
}

#[test]
fn rendering_targets_together_equals_rendering_each() {
    use mailsec::backend::{render, render_targets, Target};
    let targets: Vec<Target> = Target::ALL.into_iter().filter(|t| t.is_built()).collect();
    for ir in example_irs() {
        let together = render_targets(&ir, &targets).unwrap();
        let each: Vec<_> = targets.iter().flat_map(|t| render(*t, &ir).unwrap()).collect();
        assert_eq!(together, each, "{}", ir.unit);
    }
}
