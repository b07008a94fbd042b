//! Tests: lowering the examples to the IR — every unit lowers, the plan is ordered, ids
//! are unique, secrets stay references, and the output is deterministic.

use crate::common::{compile_path, compile_text, copy_examples, example_irs, examples};
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

/// The IR of one example unit.
fn example(unit: &str) -> mailsec::ir::Ir {
    example_irs()
        .into_iter()
        .find(|i| i.unit == unit)
        .unwrap_or_else(|| panic!("example unit {unit}"))
}

#[test]
fn certificate_and_password_requires_the_certificate() {
    // Ruling (b): "certificate and password" = certificate Required, Basic on (fallback
    // identity, not two-factor); only the explicit "certificate or password" accepts.
    let ir = example("s3-eas-client-certs");
    let eas = ir
        .operations
        .iter()
        .find_map(|o| match &o.action {
            Action::ActiveSyncDirectory {
                client_cert_auth,
                basic,
                ..
            } => Some((client_cert_auth.clone(), *basic)),
            _ => None,
        })
        .expect("S3 sets ActiveSync authentication");
    assert_eq!(eas, ("Required".to_string(), true));
    let iis = ir
        .operations
        .iter()
        .find_map(|o| match &o.action {
            Action::IisClientCertificates {
                client_certs, basic, ..
            } => Some((*client_certs, *basic)),
            _ => None,
        })
        .expect("S3 configures IIS");
    assert_eq!(iis, (mailsec::ir::ClientCerts::Require, true));

    let text = std::fs::read_to_string(crate::common::root().join("tests/ui/ms0235-certificate-or-password.mailsec"))
        .expect("ui case");
    let c = compile_text("or.mailsec", &text);
    assert!(c.diags.iter().any(|d| d.code.as_str() == "MS0235"), "warned");
    let ir = c.ir.expect("a warning still lowers");
    for o in &ir.operations {
        match &o.action {
            Action::ActiveSyncDirectory {
                client_cert_auth,
                basic,
                ..
            } => assert_eq!((client_cert_auth.as_str(), *basic), ("Accepted", true)),
            Action::IisClientCertificates {
                client_certs, basic, ..
            } => {
                assert_eq!((*client_certs, *basic), (mailsec::ir::ClientCerts::Accept, true));
            }
            _ => {}
        }
    }
}

#[test]
fn ntauth_only_where_certificates_map_to_logons_and_gated_for_foreign_cas() {
    // S2-3: the hybrid S/MIME unit includes a library authority with `ntauth = true`, but
    // S/MIME maps no certificate to a logon: no NTAuth publication.
    for unit in ["s2-smime-hybrid", "s2-smime-cloud"] {
        let ir = example(unit);
        assert!(
            !ir.operations
                .iter()
                .any(|o| matches!(o.action, Action::PublishNtAuth { .. })),
            "{unit} publishes to NTAuth"
        );
    }
    // S3-3: the managed PKI is not ours: its publication waits for an approval.
    let ir = example("s3-eas-client-certs");
    let ntauth = ir
        .operations
        .iter()
        .find(|o| matches!(o.action, Action::PublishNtAuth { .. }))
        .expect("S3 maps by UPN and publishes");
    assert!(matches!(&ntauth.gate, Some(Gate::Approval { text }) if text.contains("PKI owner")));
    // S3-4: the NTAuth cache is checked where the certificates are mapped: exch1.
    let mapping = ir
        .operations
        .iter()
        .find(|o| matches!(&o.action, Action::CertificateMapping { mapping, .. } if mapping == "upn"))
        .expect("UPN mapping check");
    assert_eq!(mapping.host, "exch1");
    // X-1: the KDC's strong-mapping events are read after the test, on a domain controller.
    let kdc = ir
        .operations
        .iter()
        .find(|o| o.id == "kdc-strong-mapping")
        .expect("KDC event check");
    assert_eq!((kdc.host.as_str(), kdc.mode), ("dc01", Mode::Verify));
    assert!(matches!(&kdc.action, Action::Check { command, .. } if command.contains("Id = 39, 40, 41")));
}

#[test]
fn strong_mappings_and_recorded_approvals_are_not_warned() {
    let text = std::fs::read_to_string(crate::common::root().join("tests/ui/ms0238-partner-ca-in-ntauth.mailsec"))
        .expect("ui case");
    let codes = |t: &str| -> Vec<String> {
        compile_text("unit.mailsec", t)
            .diags
            .iter()
            .map(|d| d.code.as_str().to_string())
            .collect()
    };
    // The UPN mapping there is strong (`strong = sid_extension`); only the approval is missing.
    assert_eq!(codes(&text), vec!["MS0238"]);
    let approved = text.replace(
        "  ntauth      = true\n",
        "  ntauth      = true\n  ntauth_approval = \"PKI owner: the hierarchy is ours alone\"\n",
    );
    assert!(codes(&approved).is_empty(), "{:?}", codes(&approved));
    // Without `strong`, UPN mapping is weak.
    let weak = approved.replace("  strong    = sid_extension\n", "");
    assert_eq!(codes(&weak), vec!["MS0236"]);
    // One-to-one by issuer and serial number is strong; by issuer and subject it is not.
    let one = approved.replace(
        "  kind      = upn\n  authority = mpki_users\n  strong    = sid_extension\n",
        "  kind      = one_to_one\n  authority = mpki_users\n  subject   = \"CN=Megan\"\n  account   = \"CONTOSO\\\\megan\"\n  strong    = issuer_serial\n",
    );
    assert!(codes(&one).is_empty(), "{:?}", codes(&one));
    assert_eq!(codes(&one.replace("  strong    = issuer_serial\n", "")), vec!["MS0236"]);
}

#[test]
fn implicit_upn_mappings_are_warned_per_unit_and_declarations_are_read_back() {
    // X-1 per unit: the shipped S4-S7 hosts map device certificates by UPN without a
    // `cert_mapping`. Each says how the mapping is strong, and the runbook reads that back.
    let hosts = [
        ("s4-ws1-scep", "eas_eas01"),
        ("s5-ws1-adcs", "eas_eas01"),
        ("s6-seg-kcd", "seg_gateway"),
        ("s7-tmg-eas", "contoso_eas_listener"),
        ("s7-tmg-seg-eas", "seg_gateway"),
    ];
    for (unit, host) in hosts {
        let ir = example(unit);
        let op = ir
            .operations
            .iter()
            .find(|o| o.id == format!("strong-mapping-{host}"))
            .unwrap_or_else(|| panic!("{unit}: no read-back of {host}'s strong mapping"));
        assert!(matches!(
            &op.action,
            Action::Check { command, expect } if command.starts_with("certutil -dump") && expect.contains("1.3.6.1.4.1.311.25.2")
        ));
        assert_eq!(op.host, "dc01", "{unit}");
    }
    // S3 declares its strength on the explicit mapping, which is read back too.
    assert!(example("s3-eas-client-certs")
        .operations
        .iter()
        .any(|o| o.id == "strong-mapping-upn_users"));

    // Without the declaration, each of those hosts is warned (MS0236); an explicit mapping
    // over the authority takes the warning over; `issuer_serial` reads altSecurityIdentities.
    for (unit, host) in hosts {
        let dir = tempfile::tempdir().expect("tempdir");
        crate::common::copy_examples(dir.path());
        let path = dir.path().join(format!("{unit}.mailsec"));
        let text = std::fs::read_to_string(&path).expect("example");
        let weak: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("strong "))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&path, &weak).expect("write");
        let c = crate::common::compile_path(&path);
        let warned: Vec<_> = c.diags.iter().filter(|d| d.code.as_str() == "MS0236").collect();
        assert_eq!(
            warned.len(),
            1,
            "{unit}: {:?}",
            c.diags.iter().map(|d| d.message.clone()).collect::<Vec<_>>()
        );
        assert!(warned[0].message.contains(host), "{unit}");
        assert!(c
            .ir
            .as_ref()
            .is_none_or(|ir| !ir.operations.iter().any(|o| o.id.starts_with("strong-mapping-"))));

        let serial = text.replace("= sid_extension\n", "= issuer_serial\n");
        std::fs::write(&path, &serial).expect("write");
        let c = crate::common::compile_path(&path);
        assert!(c.diags.iter().all(|d| d.code.as_str() != "MS0236"), "{unit}");
        let ir = c.ir.expect("ir");
        let op = ir
            .operations
            .iter()
            .find(|o| o.id == format!("strong-mapping-{host}"))
            .expect("read-back");
        assert!(matches!(&op.action, Action::Check { command, expect }
            if command.contains("altSecurityIdentities") && expect.contains("X509:<I>")));
    }
}

#[test]
fn a_pool_identity_gets_the_rights_under_its_own_pool_name() {
    // S6-8's narrower option: the pool's virtual account, named after the pool, not a fixed
    // "SecureEmailGateway".
    let dir = tempfile::tempdir().expect("tempdir");
    crate::common::copy_examples(dir.path());
    let path = dir.path().join("s6-seg-kcd.mailsec");
    let text = std::fs::read_to_string(&path).expect("example");
    let own = text
        .replace(
            "  app_pool          = \"SecureEmailGateway\"\n",
            "  app_pool          = \"ContosoSeg\"\n",
        )
        .replace(
            "  identity          = network_service\n",
            "  identity          = application_pool_identity\n",
        );
    assert_ne!(own, text);
    std::fs::write(&path, own).expect("write");
    let ir = crate::common::compile_path(&path).ir.expect("ir");
    let rights: Vec<&str> = ir
        .operations
        .iter()
        .filter_map(|o| match &o.action {
            Action::GrantUserRights { identity, .. } => Some(identity.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(rights, ["IIS AppPool\\ContosoSeg"]);
}

#[test]
fn a_retirement_with_approval_and_condition_asks_for_both() {
    let text = std::fs::read_to_string(examples().join("s1-one-mail.mailsec"))
        .expect("s1")
        .replace(
            "  transition_cost = 20\n",
            "  transition_cost = 20\n  approval        = \"change CHG-42 approved\"\n",
        );
    assert!(text.contains("CHG-42"), "the example's retire block moved");
    let dir = tempfile::tempdir().expect("tempdir");
    copy_examples(dir.path());
    let path = dir.path().join("s1-one-mail.mailsec");
    std::fs::write(&path, text).expect("write");
    let c = compile_path(&path);
    let ir = c.ir.as_ref().expect("compiles");
    let retire = ir
        .operations
        .iter()
        .find(|o| o.phase == Phase::Retirement && o.id.contains("To ISP"))
        .expect("retirement of To ISP");
    let Some(Gate::Approval { text }) = &retire.gate else {
        panic!("{:?}", retire.gate)
    };
    assert!(
        text.contains("CHG-42") && text.contains("ISP service is disconnected"),
        "{text}"
    );
}

/// A public CA issues server certificates from an intermediate: the S7 servers that present
/// the public name (TMG's listener, the SEG behind a pass-through rule) hold that
/// intermediate in their intermediate store, so devices get the whole chain.
#[test]
fn s7_public_certificates_chain_through_a_trusted_intermediate() {
    let irs = example_irs();
    for (unit, host) in [("s7-tmg-eas", "tmg01"), ("s7-tmg-seg-eas", "seg01")] {
        let ir = irs.iter().find(|i| i.unit == unit).expect(unit);
        assert!(
            ir.operations.iter().any(|o| o.host == host
                && matches!(&o.action, Action::TrustAuthority { authority, store: mailsec::ir::Store::Intermediate, .. } if authority == "public_tls_issuing")),
            "{unit}: {host} does not trust the issuing intermediate"
        );
        assert!(ir.operations.iter().any(|o| matches!(
            &o.action,
            Action::SubmitRequest { authority: Some(a), .. } if a == "public_tls_issuing"
        )));
    }
}
