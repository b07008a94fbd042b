//! The Workspace ONE operations of a unit, resolved into profiles with their template and
//! certificate authority (the IR links them by operation dependency).

use super::fail;
use crate::backend::BackendError;
use crate::ir::{Action, DeviceRoot, Ir, Operation, SecretRef};

/// A Workspace ONE certificate authority.
pub(super) struct Authority<'a> {
    pub(super) op: &'a Operation,
    pub(super) name: &'a str,
    pub(super) adcs: bool,
    pub(super) ca_name: &'a str,
    pub(super) url: &'a str,
    pub(super) challenge: Option<&'a SecretRef>,
    pub(super) credentials: Option<&'a SecretRef>,
    pub(super) account: Option<&'a str>,
}

/// A request template.
pub(super) struct Template<'a> {
    pub(super) op: &'a Operation,
    pub(super) name: &'a str,
    pub(super) subject: &'a str,
    pub(super) key_size: u32,
    pub(super) key_type: &'a str,
    pub(super) san: &'a [(String, String)],
    pub(super) ca_template: Option<&'a str>,
    pub(super) auto_renew: bool,
    pub(super) renewal_days: Option<u64>,
    pub(super) revoke_on_unenroll: bool,
    pub(super) publish_private_key: bool,
    pub(super) force_key_generation_on_device: bool,
    /// Index into [`Ws1::authorities`].
    pub(super) authority: usize,
}

/// A device profile.
pub(super) struct Profile<'a> {
    pub(super) op: &'a Operation,
    pub(super) name: &'a str,
    pub(super) platform: &'a str,
    pub(super) account_name: &'a str,
    pub(super) host: &'a str,
    pub(super) use_ssl: bool,
    pub(super) use_smime: bool,
    pub(super) domain: Option<&'a str>,
    pub(super) username: Option<&'a str>,
    pub(super) email: Option<&'a str>,
    /// Root CAs installed as trusted.
    pub(super) trust: &'a [DeviceRoot],
    /// Index into [`Ws1::templates`].
    pub(super) template: usize,
}

/// Everything the backend renders for one unit.
pub(super) struct Ws1<'a> {
    pub(super) authorities: Vec<Authority<'a>>,
    pub(super) templates: Vec<Template<'a>>,
    pub(super) profiles: Vec<Profile<'a>>,
}

impl<'a> Ws1<'a> {
    /// Collects and links the unit's Workspace ONE operations, in plan order.
    pub(super) fn of(ir: &'a Ir) -> Result<Self, BackendError> {
        let mut w = Ws1 {
            authorities: Vec::new(),
            templates: Vec::new(),
            profiles: Vec::new(),
        };
        for op in &ir.operations {
            if let Action::Ws1Authority {
                name,
                ca_type,
                ca_name,
                url,
                challenge,
                credentials,
                account,
            } = &op.action
            {
                w.authorities.push(Authority {
                    op,
                    name,
                    adcs: ca_type == "adcs",
                    ca_name,
                    url,
                    challenge: challenge.as_ref(),
                    credentials: credentials.as_ref(),
                    account: account.as_deref(),
                });
            }
        }
        for op in &ir.operations {
            if let Action::Ws1Template {
                name,
                subject,
                key_size,
                key_type,
                san,
                ca_template,
                auto_renew,
                renewal_days,
                revoke_on_unenroll,
                publish_private_key,
                force_key_generation_on_device,
                ..
            } = &op.action
            {
                let authority = w
                    .authorities
                    .iter()
                    .position(|a| op.depends_on.contains(&a.op.id))
                    .ok_or_else(|| fail(format!("template `{name}` depends on no certificate authority")))?;
                w.templates.push(Template {
                    op,
                    name,
                    subject,
                    key_size: *key_size,
                    key_type,
                    san,
                    ca_template: ca_template.as_deref(),
                    auto_renew: *auto_renew,
                    renewal_days: *renewal_days,
                    revoke_on_unenroll: *revoke_on_unenroll,
                    publish_private_key: *publish_private_key,
                    force_key_generation_on_device: *force_key_generation_on_device,
                    authority,
                });
            }
        }
        for op in &ir.operations {
            if let Action::Ws1Profile {
                name,
                platform,
                template,
                account_name,
                host,
                use_ssl,
                use_smime,
                domain,
                username,
                email,
                trust,
                ..
            } = &op.action
            {
                let t = w
                    .templates
                    .iter()
                    .position(|t| t.name == template.as_str() && op.depends_on.contains(&t.op.id))
                    .ok_or_else(|| fail(format!("profile `{name}` depends on no template `{template}`")))?;
                w.profiles.push(Profile {
                    op,
                    name,
                    platform,
                    account_name,
                    host,
                    use_ssl: *use_ssl,
                    use_smime: *use_smime,
                    domain: domain.as_deref(),
                    username: username.as_deref(),
                    email: email.as_deref(),
                    trust,
                    template: t,
                });
            }
        }
        Ok(w)
    }

    /// The template of a profile.
    pub(super) fn template(&self, p: &Profile<'_>) -> &Template<'a> {
        &self.templates[p.template]
    }

    /// The certificate authority of a template.
    pub(super) fn authority(&self, t: &Template<'_>) -> &Authority<'a> {
        &self.authorities[t.authority]
    }
}

/// The console's name of a private key type.
pub(super) fn key_type_label(k: &str) -> &'static str {
    match k {
        "signing" => "Signing",
        "encryption" => "Encryption",
        _ => "Signing & Encryption",
    }
}

/// Apple's `Key Usage` bit mask: 1 signing, 4 encryption.
pub(super) fn key_usage(k: &str) -> i64 {
    match k {
        "signing" => 1,
        "encryption" => 4,
        _ => 5,
    }
}

/// The console's name of a SAN type.
pub(super) fn san_label(t: &str) -> &'static str {
    match t {
        "email" => "Email",
        "upn" => "User Principal Name",
        _ => "DNS Name",
    }
}

/// One relative distinguished name of a template subject: attribute, value.
pub(super) type Rdn = (String, String);

/// Splits a subject (`CN=WorkspaceONEUEM.{EnrollmentUser}, O=Contoso`) at unescaped commas
/// into attribute/value pairs, in the order written. `None` if a part has no `=` or no
/// attribute (the check stage reports that, MS0261).
pub(super) fn subject_rdns(subject: &str) -> Option<Vec<Rdn>> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = subject.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
        .into_iter()
        .map(|p| {
            let (k, v) = p.split_once('=')?;
            let k = k.trim();
            (!k.is_empty()).then(|| (k.to_string(), v.trim().to_string()))
        })
        .collect()
}

/// The file name of a path as the intent writes it (`certs/root.cer` -> `root.cer`).
pub(super) fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}
