//! Look-ups over the IR that several parts of the runbook need: step numbers in runbook
//! order, hosts, authorities' names and files.

use super::escape::Md;
use crate::ir::{Action, Host, HostKind, Ir, Operation, Phase};
use std::collections::{BTreeMap, HashMap};

/// Exchange roles: a host with one of them runs the Exchange Management Shell.
const EXCHANGE_ROLES: &[&str] = &["hub_transport", "client_access", "mailbox", "edge", "eas"];

/// The IR and the runbook's step numbering.
pub(crate) struct Cx<'a> {
    pub(crate) ir: &'a Ir,
    /// Operation indices in runbook order, with the phase each is shown under.
    pub(crate) order: Vec<(usize, Phase)>,
    /// Operation id → step number (1-based).
    numbers: BTreeMap<&'a str, usize>,
    /// Operation id → index in the IR (the first, as a linear search would find).
    by_id: HashMap<&'a str, usize>,
    /// Operation id → the verification operations that depend on it, in IR order.
    verifiers: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Cx<'a> {
    pub(crate) fn new(ir: &'a Ir, order: Vec<(usize, Phase)>) -> Self {
        let numbers = order
            .iter()
            .enumerate()
            .map(|(n, (i, _))| (ir.operations[*i].id.as_str(), n + 1))
            .collect();
        let mut by_id = HashMap::with_capacity(ir.operations.len());
        let mut verifiers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, o) in ir.operations.iter().enumerate() {
            by_id.entry(o.id.as_str()).or_insert(i);
            if o.mode == crate::ir::Mode::Verify {
                for d in &o.depends_on {
                    let list = verifiers.entry(d.as_str()).or_default();
                    if list.last() != Some(&i) {
                        list.push(i);
                    }
                }
            }
        }
        Cx {
            ir,
            order,
            numbers,
            by_id,
            verifiers,
        }
    }

    /// The operation with this id.
    pub(crate) fn op(&self, id: &str) -> Option<&'a Operation> {
        self.by_id.get(id).map(|&i| &self.ir.operations[i])
    }

    /// Operations in runbook order.
    pub(crate) fn ops(&self) -> impl Iterator<Item = &'a Operation> + '_ {
        self.order.iter().map(|(i, _)| &self.ir.operations[*i])
    }

    /// The step number of an operation.
    pub(crate) fn step(&self, id: &str) -> Option<usize> {
        self.numbers.get(id).copied()
    }

    /// The operation of a step number.
    pub(crate) fn op_at(&self, number: usize) -> Option<&'a Operation> {
        self.order
            .get(number.checked_sub(1)?)
            .map(|(i, _)| &self.ir.operations[*i])
    }

    /// `[step 5](#step-5)`.
    pub(crate) fn step_link(&self, id: &str) -> Md {
        match self.step(id) {
            Some(n) => link_to_step(n),
            None => Md::trusted("another step".into()),
        }
    }

    /// The host.
    pub(crate) fn host(&self, id: &str) -> Option<&'a Host> {
        self.ir.hosts.get(id)
    }

    /// The host's DNS name, or its id.
    pub(crate) fn fqdn<'b>(&'b self, id: &'b str) -> &'b str {
        self.ir.hosts.get(id).and_then(|h| h.fqdn.as_deref()).unwrap_or(id)
    }

    /// Whether the host runs Exchange (and so the Exchange Management Shell).
    pub(crate) fn is_exchange(&self, id: &str) -> bool {
        self.host(id).is_some_and(|h| {
            h.kind == HostKind::ExchangeOnline || h.roles.iter().any(|r| EXCHANGE_ROLES.contains(&r.as_str()))
        })
    }

    /// Hosts with a role, in declaration order.
    pub(crate) fn hosts_with(&self, role: &str) -> Vec<&'a Host> {
        self.ir
            .hosts
            .values()
            .filter(|h| h.roles.iter().any(|r| r == role))
            .collect()
    }

    /// The host whose FQDN is `fqdn` (case-insensitive).
    pub(crate) fn host_by_fqdn(&self, fqdn: &str) -> Option<&'a Host> {
        self.ir
            .hosts
            .values()
            .find(|h| h.fqdn.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(fqdn)))
    }

    /// An authority's common name, from any operation that carries it.
    pub(crate) fn authority_cn(&self, name: &str) -> Option<&'a str> {
        self.ir.operations.iter().find_map(|o| match &o.action {
            Action::TrustAuthority {
                authority, common_name, ..
            }
            | Action::PublishNtAuth {
                authority, common_name, ..
            } if authority == name => common_name.as_deref(),
            _ => None,
        })
    }

    /// An authority's certificate file, from any operation that carries it.
    pub(crate) fn authority_file(&self, name: &str) -> Option<&'a str> {
        self.ir.operations.iter().find_map(|o| match &o.action {
            Action::TrustAuthority { authority, file, .. } | Action::PublishNtAuth { authority, file, .. }
                if authority == name =>
            {
                file.as_deref()
            }
            _ => None,
        })
    }

    /// `DC=corp,DC=contoso,DC=com`, or a placeholder.
    pub(crate) fn domain_dn(&self) -> String {
        match &self.ir.organization.ad_domain {
            Some(d) => d.split('.').map(|l| format!("DC={l}")).collect::<Vec<_>>().join(","),
            None => "DC=<your>,DC=<domain>".to_string(),
        }
    }

    /// The AD DNS domain, or a phrase.
    pub(crate) fn ad_domain(&self) -> &'a str {
        self.ir
            .organization
            .ad_domain
            .as_deref()
            .unwrap_or("the Active Directory domain")
    }

    /// Verification operations that check this one.
    pub(crate) fn verifiers_of(&self, id: &str) -> Vec<&'a Operation> {
        self.verifiers
            .get(id)
            .map(|v| v.iter().map(|&i| &self.ir.operations[i]).collect())
            .unwrap_or_default()
    }

    /// Domain controllers (servers with the role), or the pseudo host.
    pub(crate) fn domain_controllers(&self) -> Vec<&'a Host> {
        let dcs = self.hosts_with("domain_controller");
        if dcs.is_empty() {
            self.ir
                .hosts
                .values()
                .filter(|h| h.kind == HostKind::ActiveDirectory)
                .collect()
        } else {
            dcs
        }
    }

    /// The name of the IIS configuration backup taken before the change.
    pub(crate) fn iis_backup(&self) -> String {
        format!("mailsec-before-{}", self.ir.unit)
    }

    /// Whether any operation matches.
    pub(crate) fn any(&self, f: impl Fn(&Action) -> bool) -> bool {
        self.ir.operations.iter().any(|o| f(&o.action))
    }
}

/// `[step 5](#step-5)`.
pub(crate) fn link_to_step(n: usize) -> Md {
    Md::trusted(format!("[step {n}](#step-{n})"))
}
