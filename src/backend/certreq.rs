//! Certificate requests as Windows reads them: the subject in CryptoAPI's syntax and the
//! certreq INF of a request made without Exchange. The exchange and tmg scripts and the
//! runbook's "by hand" procedure take both from here, so they describe the same request.

use crate::ir::Subject;

/// A subject as CryptoAPI (`X500DistinguishedName`, certreq, `New-ExchangeCertificate
/// -SubjectName`) parses it: values holding a separator or quote are enclosed in double
/// quotes, with `"` doubled. (`Subject::dn()` escapes with backslashes, RFC 4514 style,
/// which CryptoAPI does not read.)
pub(crate) fn crypto_dn(subject: &Subject) -> String {
    subject
        .parts
        .iter()
        .map(|(k, v)| {
            let special = v.is_empty()
                || v.starts_with([' ', '#'])
                || v.ends_with(' ')
                || v.contains([',', '+', '=', '"', '\\', '<', '>', ';', '\n', '\r']);
            if special {
                format!("{k}=\"{}\"", v.replace('"', "\"\""))
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The object identifier of an extended key usage of the language (`certificate.eku`).
pub(crate) fn eku_oid(eku: &str) -> Option<&'static str> {
    Some(match eku {
        "server_auth" => "1.3.6.1.5.5.7.3.1",
        "client_auth" => "1.3.6.1.5.5.7.3.2",
        "secure_email" => "1.3.6.1.5.5.7.3.4",
        "smart_card_logon" => "1.3.6.1.4.1.311.20.2.2",
        _ => return None,
    })
}

/// What a certreq request holds.
pub(crate) struct InfRequest<'a> {
    /// Subject, in CryptoAPI syntax ([`crypto_dn`]).
    pub(crate) dn: &'a str,
    /// DNS names of the subject alternative name.
    pub(crate) domains: &'a [String],
    pub(crate) key_size: u32,
    pub(crate) exportable: bool,
    pub(crate) friendly_name: Option<&'a str>,
    /// Extended key usages by their language names; none means server authentication,
    /// what a TLS listener's certificate needs.
    pub(crate) eku: &'a [String],
}

/// The lines of the request's INF file. Values are INF-quoted (`"` doubled) and kept on
/// one line (control characters become spaces).
pub(crate) fn inf_lines(r: &InfRequest<'_>) -> Vec<String> {
    let inf = |s: &str| {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .replace('"', "\"\"")
    };
    let mut lines = vec![
        "[Version]".to_string(),
        "Signature=\"$Windows NT$\"".to_string(),
        "[NewRequest]".to_string(),
        format!("Subject = \"{}\"", inf(r.dn)),
        format!("KeyLength = {}", r.key_size),
        format!("Exportable = {}", if r.exportable { "TRUE" } else { "FALSE" }),
        "MachineKeySet = TRUE".to_string(),
        "KeySpec = 1".to_string(),
        "KeyUsage = 0xa0".to_string(),
        "ProviderName = \"Microsoft RSA SChannel Cryptographic Provider\"".to_string(),
        "ProviderType = 12".to_string(),
        "RequestType = PKCS10".to_string(),
    ];
    if let Some(f) = r.friendly_name {
        lines.push(format!("FriendlyName = \"{}\"", inf(f)));
    }
    lines.push("[EnhancedKeyUsageExtension]".to_string());
    let mut oids: Vec<&str> = r.eku.iter().filter_map(|e| eku_oid(e)).collect();
    if oids.is_empty() {
        oids.push("1.3.6.1.5.5.7.3.1");
    }
    oids.dedup();
    lines.extend(oids.iter().map(|o| format!("OID = {o}")));
    if !r.domains.is_empty() {
        lines.push("[Extensions]".to_string());
        lines.push("2.5.29.17 = \"{text}\"".to_string());
        for d in r.domains {
            lines.push(format!("_continue_ = \"dns={}&\"", inf(d)));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    #[test]
    fn crypto_dn_quotes_separators() {
        let mut parts = IndexMap::new();
        parts.insert("O".to_string(), "Contoso, \"Inc\"".to_string());
        parts.insert("CN".to_string(), "mail.contoso.com".to_string());
        assert_eq!(
            crypto_dn(&Subject { parts }),
            "O=\"Contoso, \"\"Inc\"\"\", CN=mail.contoso.com"
        );
    }

    fn request(eku: &[String]) -> Vec<String> {
        inf_lines(&InfRequest {
            dn: "CN=\"a\"\"b\"",
            domains: &["mail.contoso.com".to_string()],
            key_size: 2048,
            exportable: false,
            friendly_name: Some("line\nbreak"),
            eku,
        })
    }

    #[test]
    fn the_intents_key_usages_reach_the_request() {
        let lines = request(&["client_auth".to_string(), "server_auth".to_string()]);
        let at = lines.iter().position(|l| l == "[EnhancedKeyUsageExtension]").unwrap();
        assert_eq!(lines[at + 1], "OID = 1.3.6.1.5.5.7.3.2");
        assert_eq!(lines[at + 2], "OID = 1.3.6.1.5.5.7.3.1");
        assert_eq!(lines[at + 3], "[Extensions]");
        // Without key usages in the intent: server authentication.
        let lines = request(&[]);
        assert!(lines.contains(&"OID = 1.3.6.1.5.5.7.3.1".to_string()));
        assert!(!lines.iter().any(|l| l.contains("3.2")));
    }

    #[test]
    fn values_stay_on_their_line_and_quoted() {
        let lines = request(&[]);
        assert!(lines.contains(&"Subject = \"CN=\"\"a\"\"\"\"b\"\"\"".to_string()));
        assert!(lines.contains(&"FriendlyName = \"line break\"".to_string()));
        assert!(lines.iter().all(|l| !l.contains('\n')));
    }
}
