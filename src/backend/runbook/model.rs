//! The view model the Markdown template renders: every section of the runbook, built from
//! the IR. Plain `String` fields are user strings that the template escapes; [`Md`] fields
//! are Markdown built here from fixed text and escaped user strings.

use super::blocks::{self, bat, item, ps as pscmd, run, Block};
use super::cx::{link_to_step, Cx};
use super::escape::{md, ps, Ir as IrText, Md, C, N, T};
use super::html::slug;
use super::steps::{content, Content};
use super::topology::{self, Graph};
use crate::backend::{owner, Target};
use crate::ir::{Action, Gate, HostKind, Mode, Operation, Phase};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A generated file that carries out operations.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    /// Path below `<out>/<unit>/`.
    pub(crate) path: String,
    pub(crate) target: Target,
    pub(crate) host: Option<String>,
    pub(crate) operations: Vec<String>,
    /// Whether the script takes `-Approved` to pass approval gates.
    pub(crate) approval_switch: bool,
    /// SHA-256 of the file (hex), so a reviewer can check that the file run is the file approved.
    pub(crate) sha256: String,
}

impl Script {
    /// Whether a person runs this file (scripts), as opposed to reading it (configuration
    /// fragments).
    pub(crate) fn runnable(&self) -> bool {
        let ext = self.path.rsplit('.').next().unwrap_or("");
        matches!(ext, "ps1" | "cmd" | "bat")
    }
}

/// A row of the facts table.
#[derive(Debug, Serialize)]
pub(crate) struct Fact {
    pub(crate) label: &'static str,
    pub(crate) value: Md,
}

/// A row of the scope table.
#[derive(Debug, Serialize)]
pub(crate) struct HostRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) role: String,
    pub(crate) who: String,
    pub(crate) steps: Md,
}

/// One step: a number, a title and its Markdown sections (gate, facts, warnings, what it
/// does, notes, the procedure, verification, rollback), in that order.
#[derive(Debug, Serialize)]
pub(crate) struct StepView {
    pub(crate) number: usize,
    pub(crate) title: Md,
    pub(crate) sections: Vec<Md>,
}

/// One phase.
#[derive(Debug, Serialize)]
pub(crate) struct PhaseView {
    pub(crate) number: usize,
    pub(crate) title: &'static str,
    /// The heading's anchor (GitHub's and the HTML's).
    pub(crate) anchor: Md,
    pub(crate) first: usize,
    pub(crate) last: usize,
    pub(crate) steps: Vec<StepView>,
}

/// A troubleshooting section.
#[derive(Debug, Serialize)]
pub(crate) struct Trouble {
    pub(crate) title: &'static str,
    pub(crate) items: Vec<Md>,
}

/// A rollback entry.
#[derive(Debug, Serialize)]
pub(crate) struct Undo {
    pub(crate) step: usize,
    pub(crate) title: Md,
    pub(crate) body: Md,
}

/// The whole runbook.
#[derive(Debug, Serialize)]
pub(crate) struct View {
    pub(crate) title: String,
    pub(crate) unit: String,
    pub(crate) facts: Vec<Fact>,
    pub(crate) purpose: Vec<Md>,
    pub(crate) hosts: Vec<HostRow>,
    pub(crate) prerequisites: Vec<Md>,
    pub(crate) backups: Md,
    pub(crate) mermaid: Md,
    pub(crate) phases: Vec<PhaseView>,
    pub(crate) troubleshooting: Vec<Trouble>,
    pub(crate) rollback: Vec<Undo>,
    pub(crate) retirement: Vec<Md>,
    pub(crate) warnings: Vec<Md>,
    /// Findings the intent suppresses, each with its reason.
    pub(crate) suppressions: Vec<Md>,
    pub(crate) files: Vec<Md>,
}

/// Who does an operation.
fn who(cx: &Cx, op: &Operation) -> String {
    let host = cx.host(&op.host);
    let kind = host.map(|h| h.kind);
    let roles = host.map(|h| h.roles.clone()).unwrap_or_default();
    let has = |r: &str| roles.iter().any(|x| x == r);
    let role = match &op.action {
        Action::Prerequisite { .. } if op.id.starts_with("prereq/kerberos-") => {
            "Server administrators of the gateways, with the domain administrator"
        }
        Action::PublishNtAuth { .. } => "Enterprise administrator (Enterprise Admins)",
        Action::RegisterSpn { .. } | Action::AllowDelegation { .. } | Action::CertificateMapping { .. } => {
            "Domain administrator (Domain Admins)"
        }
        Action::AlternateServiceAccount { .. } => "Exchange administrator with a domain administrator",
        Action::TmgListener { .. } | Action::TmgPublishingRule { .. } => "TMG administrator",
        Action::Ws1Authority { .. } | Action::Ws1Template { .. } | Action::Ws1Profile { .. } => {
            "Workspace ONE UEM administrator"
        }
        Action::SubmitRequest { .. } => {
            return match &cx.ir.organization.owner {
                Some(o) => format!("{o} (change owner), with the issuing party"),
                None => "The change owner, with the issuing party".into(),
            }
        }
        Action::DirectorySync { .. } => "Directory synchronisation administrator",
        Action::Manual { .. } if kind == Some(HostKind::Clients) => "Each user, in Outlook",
        Action::Check { .. } if kind == Some(HostKind::Clients) => "A test user with a test device",
        Action::GrantUserRights { .. }
        | Action::IisClientCertificates { .. }
        | Action::IisWindowsAuth { .. }
        | Action::SegConfig { .. }
        | Action::TrustAuthority { .. }
        | Action::CheckCdp { .. } => "Server administrator (local Administrators)",
        _ => match kind {
            Some(HostKind::ExchangeOnline) => "Exchange Online administrator",
            Some(HostKind::ActiveDirectory) => "Domain administrator (Domain Admins)",
            Some(HostKind::WorkspaceOne) => "Workspace ONE UEM administrator",
            Some(HostKind::Clients) => "A test user",
            Some(HostKind::Partner) => "The issuing party",
            _ if has("domain_controller") => "Domain administrator (Domain Admins)",
            _ if has("ca") || has("ndes") => "PKI administrator",
            _ if has("tmg") => "TMG administrator",
            _ if has("seg") => "Server administrator (local Administrators)",
            _ if cx.is_exchange(&op.host) => "Exchange administrator (Organization Management)",
            _ => "Server administrator",
        },
    };
    match host.and_then(|h| h.owner.as_deref()) {
        Some(o) => format!("{role}, for {o}"),
        None => role.to_string(),
    }
}

/// Who works on a host, for the scope table.
fn host_who(cx: &Cx, id: &str) -> String {
    let Some(h) = cx.host(id) else { return String::new() };
    let has = |r: &str| h.roles.iter().any(|x| x == r);
    let role = match h.kind {
        HostKind::ExchangeOnline => "Exchange Online administrator",
        HostKind::ActiveDirectory => "Domain administrator",
        HostKind::WorkspaceOne => "Workspace ONE UEM administrator",
        HostKind::Partner => {
            return match &cx.ir.organization.owner {
                Some(o) => format!("{o} (change owner), with the issuing party"),
                None => "The change owner, with the issuing party".into(),
            }
        }
        HostKind::Clients => "Test users and their devices",
        HostKind::Server if has("domain_controller") => "Domain administrator",
        HostKind::Server if has("tmg") => "TMG administrator",
        HostKind::Server if has("seg") => "SEG server administrator",
        HostKind::Server if has("ca") || has("ndes") => "PKI administrator",
        HostKind::Server if cx.is_exchange(id) => "Exchange administrator",
        HostKind::Server => "Server administrator",
    };
    match &h.owner {
        Some(o) => format!("{role}, for {o}"),
        None => role.to_string(),
    }
}

fn host_name(cx: &Cx, id: &str) -> String {
    let Some(h) = cx.host(id) else { return id.to_string() };
    match h.kind {
        HostKind::Server => h.fqdn.clone().unwrap_or_default(),
        HostKind::ExchangeOnline => format!(
            "Exchange Online tenant{}",
            cx.ir
                .organization
                .tenant
                .as_ref()
                .map(|t| format!(" {t}"))
                .unwrap_or_default()
        ),
        HostKind::ActiveDirectory => format!("Active Directory {}", cx.ad_domain()),
        HostKind::WorkspaceOne => "Workspace ONE UEM console".into(),
        HostKind::Partner => "the issuing party (partner or public CA)".into(),
        HostKind::Clients => "devices and mail clients".into(),
    }
}

fn host_role(cx: &Cx, id: &str) -> String {
    let Some(h) = cx.host(id) else { return String::new() };
    match h.kind {
        HostKind::Server => super::topology::role_words(&h.roles),
        HostKind::ExchangeOnline => "Exchange Online".into(),
        HostKind::ActiveDirectory => "Active Directory".into(),
        HostKind::WorkspaceOne => "MDM console".into(),
        HostKind::Partner => "out-of-band exchanges".into(),
        HostKind::Clients => "tests and user actions".into(),
    }
}

fn gate(g: &Gate) -> Md {
    match g {
        Gate::NotBefore { date } => md!("**Gate: not before ", T(date), ".** Do not start this step earlier."),
        Gate::Approval { text } => md!("**Gate: only after** ", T(text), ". Record who confirmed it."),
        Gate::Both { date, text } => md!(
            "**Gate: not before ",
            T(date),
            ", and only after** ",
            T(text),
            ". Record who confirmed it."
        ),
    }
}

fn mode_label(op: &Operation, target: Option<Target>) -> &'static str {
    match (op.mode, target) {
        (Mode::Scripted, _) => "scripted",
        (Mode::Manual, _) => "manual",
        (Mode::Verify, Some(_)) => "verification (scripted)",
        (Mode::Verify, None) => "verification (by a person)",
    }
}

fn link(path: &str) -> Md {
    // Paths are made of sanitised components; anything else would be a backend bug, and is
    // percent-encoded rather than trusted.
    let mut dest = String::from("../");
    for c in path.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_') {
            dest.push(c);
        } else {
            for b in c.to_string().bytes() {
                dest.push_str(&format!("%{b:02X}"));
            }
        }
    }
    Md::trusted(format!("[`{dest}`]({dest})"))
}

/// What the steps need to know about the scripts, computed once per runbook rather than
/// once per step (a unit with thousands of operations made this quadratic).
pub(crate) struct ScriptIndex<'s> {
    /// Operation id → the scripts carrying it, in script order.
    by_op: HashMap<&'s str, Vec<usize>>,
    /// Script path → its index.
    by_path: HashMap<&'s str, usize>,
    /// Per script: the operations it carries.
    carried: Vec<HashSet<&'s str>>,
    /// Per script: its runs ([`script_runs`]).
    runs: Vec<Vec<Vec<usize>>>,
    /// Per script: the step numbers of the operations it carries, in order.
    steps: Vec<Vec<usize>>,
}

impl<'s> ScriptIndex<'s> {
    pub(crate) fn new(cx: &Cx, scripts: &'s [Script]) -> Self {
        let mut by_op: HashMap<&'s str, Vec<usize>> = HashMap::new();
        let mut by_path = HashMap::new();
        let mut carried = Vec::with_capacity(scripts.len());
        for (i, s) in scripts.iter().enumerate() {
            by_path.entry(s.path.as_str()).or_insert(i);
            let mut set = HashSet::with_capacity(s.operations.len());
            for o in &s.operations {
                if set.insert(o.as_str()) {
                    by_op.entry(o.as_str()).or_default().push(i);
                }
            }
            carried.push(set);
        }
        // Each script's operations in runbook order (by step number), without a pass over
        // every operation of the unit per script.
        let steps: Vec<Vec<usize>> = carried
            .iter()
            .map(|set| {
                let mut steps: Vec<usize> = set.iter().filter_map(|id| cx.step(id)).collect();
                steps.sort_unstable();
                steps
            })
            .collect();
        let runs = carried
            .iter()
            .zip(&steps)
            .map(|(set, steps)| {
                let ops = steps.iter().filter_map(|&n| cx.op_at(n));
                script_runs(cx, ops, |id| set.contains(id))
            })
            .collect();
        ScriptIndex {
            by_op,
            by_path,
            carried,
            runs,
            steps,
        }
    }

    /// The scripts carrying an operation, in script order.
    fn carrying<'x>(&self, scripts: &'x [Script], op: &str) -> Vec<&'x Script> {
        self.by_op
            .get(op)
            .map(|v| v.iter().map(|&i| &scripts[i]).collect())
            .unwrap_or_default()
    }

    fn index(&self, s: &Script) -> usize {
        self.by_path[s.path.as_str()]
    }

    fn runs(&self, s: &Script) -> &[Vec<usize>] {
        &self.runs[self.index(s)]
    }

    fn carries(&self, s: &Script, op: &str) -> bool {
        self.carried[self.index(s)].contains(op)
    }
}

/// The step numbers a script carries, split where a person must act in between: at a gap
/// in the numbering (another step comes first) or at a gate (the script stops there).
/// `ops` are the script's operations in runbook order.
fn script_runs<'o>(
    cx: &Cx,
    ops: impl Iterator<Item = &'o Operation>,
    carried: impl Fn(&str) -> bool,
) -> Vec<Vec<usize>> {
    let mut runs: Vec<Vec<usize>> = Vec::new();
    let mut last_gate: Option<&Gate> = None;
    for o in ops {
        let Some(n) = cx.step(&o.id) else { continue };
        let continues = runs.last().is_some_and(|r| {
            // It waits for nothing done elsewhere since the run began, and its gate is
            // passed once the run's gates are.
            let waits = o
                .depends_on
                .iter()
                .any(|d| !carried(d) && cx.step(d).is_some_and(|m| m > r[0]));
            !waits && passed(last_gate, o.gate.as_ref())
        });
        if continues {
            if let Some(r) = runs.last_mut() {
                r.push(n);
            }
        } else {
            runs.push(vec![n]);
        }
        if o.gate.is_some() {
            last_gate = o.gate.as_ref();
        }
    }
    runs
}

/// Whether a script that passed the gate `before` also passes `gate` in the same run.
fn passed(before: Option<&Gate>, gate: Option<&Gate>) -> bool {
    let date = |g: &Gate| match g {
        Gate::NotBefore { date } | Gate::Both { date, .. } => Some(date.clone()),
        Gate::Approval { .. } => None,
    };
    let text = |g: &Gate| match g {
        Gate::Approval { text } | Gate::Both { text, .. } => Some(text.clone()),
        Gate::NotBefore { .. } => None,
    };
    match (before, gate) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(b), Some(g)) => {
            let date_ok = match (date(b), date(g)) {
                (_, None) => true,
                (Some(x), Some(y)) => y <= x,
                (None, Some(_)) => false,
            };
            let text_ok = text(g).is_none() || text(g) == text(b);
            date_ok && text_ok
        }
    }
}

fn alert(kind: &'static str, m: &Md) -> Md {
    md!("> [!", kind, "]\n> ", m.clone())
}

fn labelled(label: &'static str, body: &Md) -> Md {
    md!("**", label, "**\n\n", body.clone())
}

fn step_view(
    cx: &Cx,
    op: &Operation,
    number: usize,
    scripts: &[Script],
    index: &ScriptIndex<'_>,
    warnings: &[Md],
    content: Content,
) -> (StepView, Option<Md>) {
    let target = owner(op, cx.ir);
    let Content {
        does,
        by_hand,
        notes,
        verify,
        rollback,
    } = content;
    let carrying: Vec<&Script> = index.carrying(scripts, &op.id);
    // The file to run: IIS's `.cmd`, the other targets' `.ps1`; other scripts next to it are
    // its helpers, and configuration fragments are for reference.
    let preferred = |s: &Script| {
        let ext = s.path.rsplit('.').next().unwrap_or("");
        if s.target == Target::Iis {
            ext == "cmd"
        } else {
            ext == "ps1"
        }
    };
    let mut runnable: Vec<&Script> = carrying
        .iter()
        .copied()
        .filter(|s| s.runnable() && preferred(s))
        .collect();
    if runnable.is_empty() {
        runnable = carrying.iter().copied().filter(|s| s.runnable()).collect();
    }
    let companions: Vec<&Script> = carrying
        .iter()
        .copied()
        .filter(|s| s.runnable() && !runnable.iter().any(|r| r.path == s.path))
        .collect();
    let references: Vec<&Script> = carrying.iter().copied().filter(|s| !s.runnable()).collect();
    let host_md = match cx.host(&op.host) {
        Some(h) if h.kind == HostKind::Server => md!(C(&op.host), " (", T(h.fqdn.as_deref().unwrap_or("")), ")"),
        _ => md!(T(&host_name(cx, &op.host))),
    };
    let mut meta = vec![md!("**Host:** ", host_md), md!("**Who:** ", T(&who(cx, op)))];
    let mut how = md!("**How:** ", Md::trusted(mode_label(op, target).to_string()));
    let mut script_notes: Vec<Md> = Vec::new();
    if !runnable.is_empty() {
        let links: Vec<Md> = runnable.iter().map(|s| link(&s.path)).collect();
        how.push(&md!(": run ", Md::join(&links, " and ")));
        if !companions.is_empty() {
            let c: Vec<Md> = companions.iter().map(|s| md!(C(&s.path))).collect();
            how.push(&md!(" (it uses ", Md::join(&c, ", "), ", generated next to it)"));
        }
        if !references.is_empty() {
            let refs: Vec<Md> = references.iter().map(|s| md!(C(&s.path))).collect();
            how.push(&md!(
                "; the configuration it applies, for reference: ",
                Md::join(&refs, ", ")
            ));
        }
        for s in &runnable {
            let runs = index.runs(s);
            let Some(k) = runs.iter().position(|r| r.contains(&number)) else {
                continue;
            };
            let run = &runs[k];
            let later: Vec<usize> = runs.iter().skip(k + 1).filter_map(|r| r.first().copied()).collect();
            let rest = |r: &[usize]| -> Md {
                let l: Vec<Md> = r.iter().map(|&n| link_to_step(n)).collect();
                Md::join(&l, ", ")
            };
            if run[0] == number && k == 0 && run.len() == 1 && later.is_empty() {
                // The file does this step only: nothing to say.
            } else if run[0] == number {
                let mut m = if k == 0 {
                    md!("Run this file once here")
                } else {
                    md!(
                        "Run the file of ",
                        link_to_step(runs[0][0]),
                        " again: it checks before it changes, so what is done stays as it is, and it goes on from here"
                    )
                };
                if run.len() > 1 {
                    m.push(&md!("; the same run also does ", rest(&run[1..])));
                }
                if let Some(&next) = later.first() {
                    let why = match cx.op_at(next) {
                        Some(o) if o.gate.is_some() && !passed(op.gate.as_ref(), o.gate.as_ref()) => md!("its gate"),
                        Some(o) => {
                            let waits: Vec<Md> = o
                                .depends_on
                                .iter()
                                .filter(|d| !index.carries(s, d))
                                .filter_map(|d| cx.step(d))
                                .filter(|&m| m > number)
                                .map(link_to_step)
                                .collect();
                            if waits.is_empty() {
                                md!("the steps before it")
                            } else {
                                Md::join(&waits, ", ")
                            }
                        }
                        None => md!("the steps before it"),
                    };
                    m.push(&md!(
                        ". It stops with a message before ",
                        link_to_step(next),
                        ", which waits for ",
                        why,
                        ": that is expected; run it again there"
                    ));
                }
                m.push(&".");
                script_notes.push(m);
            } else {
                script_notes.push(md!("Done by the same run of the file as ", link_to_step(run[0]), "."));
            }
            if run[0] == number
                && op
                    .gate
                    .as_ref()
                    .is_some_and(|g| matches!(g, Gate::Approval { .. } | Gate::Both { .. }))
                && s.approval_switch
            {
                script_notes.push(md!(
                    "The script stops before this step until you confirm the gate: run it with `-Approved` once the approval is recorded."
                ));
            }
        }
    } else if let Some(t) = target {
        how.push(&md!(
            ": no file of the ",
            C(t.name()),
            " target carries this step in this build, so do it by hand as below"
        ));
    }
    meta.push(how);
    let mut after_steps: Vec<usize> = op.depends_on.iter().filter_map(|d| cx.step(d)).collect();
    after_steps.sort_unstable();
    after_steps.dedup();
    let after: Vec<Md> = after_steps.into_iter().map(link_to_step).collect();
    if !after.is_empty() {
        meta.push(md!("**After:** ", Md::join(&after, ", ")));
    }
    let mut idline = md!("**Operation:** ", C(&op.id));
    if !op.source_file().is_empty() {
        idline.push(&md!(" · **Intent:** ", C(op.source_file())));
    }
    meta.push(idline);
    let mut sections = Vec::new();
    if let Some(g) = &op.gate {
        sections.push(alert("IMPORTANT", &gate(g)));
    }
    let meta_list: Vec<Md> = meta.iter().map(|m| md!("- ", m.clone())).collect();
    sections.push(Md::join(&meta_list, "\n"));
    for w in warnings {
        sections.push(alert("WARNING", w));
    }
    if !does.as_str().is_empty() {
        sections.push(does);
    }
    for n in script_notes.iter().chain(notes.iter()) {
        sections.push(alert("NOTE", n));
    }
    if !by_hand.is_empty() {
        let body = blocks::render(&by_hand);
        if runnable.is_empty() {
            sections.push(labelled("Do", &body));
        } else {
            sections.push(md!(
                "<details>\n<summary>By hand, without the script</summary>\n\n",
                body,
                "\n</details>"
            ));
        }
    }
    if !verify.is_empty() {
        let label = if op.mode == Mode::Verify { "Check" } else { "Verify" };
        sections.push(labelled(label, &blocks::render(&verify)));
    }
    let undo = (!rollback.is_empty()).then(|| blocks::render(&rollback));
    if let Some(undo) = &undo {
        sections.push(labelled("Rollback", undo));
    }
    let view = StepView {
        number,
        title: md!(IrText(&op.summary)),
        sections: sections
            .into_iter()
            .map(|m| Md::trusted(m.as_str().trim_end().to_string()))
            .collect(),
    };
    (view, undo)
}

fn purpose(cx: &Cx) -> Vec<Md> {
    let mut out = Vec::new();
    for op in cx.ops() {
        match &op.action {
            Action::SendConnector {
                name,
                smart_hosts,
                require_tls,
                auth_mechanism,
                address_spaces,
                ..
            } => out.push(md!(
                "Send outbound mail for ",
                T(&address_spaces.join(", ")),
                if smart_hosts.is_empty() { " by DNS" } else { " through the smart host " },
                T(&smart_hosts.join(", ")),
                if *require_tls { " over mandatory TLS" } else { "" },
                if auth_mechanism == "BasicAuth" { " with Basic authentication" } else { "" },
                " (send connector ",
                C(name),
                ")."
            )),
            Action::ReceiveConnector {
                name,
                server_name,
                remote_ips,
                fqdn,
                ..
            } => out.push(md!(
                "Accept inbound mail on ",
                C(server_name),
                " from the partner's ",
                N(remote_ips.len() as u64),
                " sending servers only (receive connector ",
                C(name),
                match fqdn {
                    Some(_) => ", answering as ",
                    None => "",
                },
                C(fqdn.as_deref().unwrap_or("")),
                ")."
            )),
            Action::RequestCertificate {
                certificate, subject, ..
            } => out.push(md!(
                "Request and install the certificate ",
                C(certificate),
                " (",
                C(&subject.dn()),
                ")."
            )),
            Action::SmimeConfig { online, .. } => out.push(md!(
                "Let users sign and encrypt mail with S/MIME: ",
                if *online { "Exchange Online" } else { "Exchange" },
                " validates their certificates against the uploaded issuing CAs, and users publish their certificates to the GAL."
            )),
            Action::ActiveSyncDirectory { auth, windows, .. } => {
                // One sentence for every server with the same settings, at the first of them.
                let same: Vec<Md> = cx
                    .ops()
                    .filter_map(|o| match &o.action {
                        Action::ActiveSyncDirectory {
                            server_name,
                            auth: a,
                            windows: w,
                            ..
                        } if a == auth && w == windows => Some((o.id.clone(), server_name.clone())),
                        _ => None,
                    })
                    .map(|(_, n)| md!(C(&n)))
                    .collect();
                let first = cx.ops().find(|o| {
                    matches!(&o.action, Action::ActiveSyncDirectory { auth: a, windows: w, .. } if a == auth && w == windows)
                });
                if first.is_some_and(|f| f.id != op.id) {
                    continue;
                }
                let servers = Md::join(&same, ", ");
                out.push(match (auth, windows) {
                    (crate::ir::EasAuth::Password, true) => md!(
                        "Let ",
                        servers,
                        " accept the Kerberos tickets the gateway in front delegates for ActiveSync."
                    ),
                    (crate::ir::EasAuth::Password, false) => {
                        md!("Keep ActiveSync on ", servers, " on user name and password.")
                    }
                    (crate::ir::EasAuth::CertificateAndPassword, _) => md!(
                        "Require a client certificate from every ActiveSync device on ",
                        servers,
                        ", mapped to the user's AD account; Basic stays on as the fallback identity when a certificate does not map (this is not two-factor authentication)."
                    ),
                    (crate::ir::EasAuth::CertificateOrPassword, _) => md!(
                        "Let ActiveSync devices authenticate to ",
                        servers,
                        " with a client certificate mapped to their AD account, or without one by password (a mixed fleet)."
                    ),
                    (crate::ir::EasAuth::Certificate, _) => md!(
                        "Let ActiveSync devices authenticate to ",
                        servers,
                        " with a client certificate alone, mapped to their AD account."
                    ),
                    (crate::ir::EasAuth::Kerberos, _) => md!(
                        "Let ",
                        servers,
                        " accept only the Kerberos tickets the gateway in front delegates for ActiveSync: Windows authentication on, client certificates ignored, Basic off."
                    ),
                });
            }
            Action::SegConfig { exchange_host, .. } => out.push(md!(
                "Put the Secure Email Gateway ",
                C(&op.host),
                " in front of ActiveSync: it authenticates the device certificate and calls ",
                C(exchange_host),
                " as the user with Kerberos constrained delegation."
            )),
            Action::TmgPublishingRule {
                public_name,
                internal_site,
                delegation,
                ..
            } => out.push(md!(
                "Publish ActiveSync as ",
                C(public_name),
                " through Forefront TMG ",
                C(&op.host),
                ", which checks the device certificate and forwards to ",
                C(internal_site),
                if delegation == "kerberos" { " with Kerberos constrained delegation." } else { "." }
            )),
            Action::AlternateServiceAccount { account, array_fqdn, .. } => out.push(md!(
                "Give the Client Access array ",
                C(array_fqdn),
                " one Kerberos identity, the alternate service account ",
                C(&format!("{account}$")),
                "."
            )),
            Action::Ws1Authority { ca_type, ca_name, .. } => out.push(md!(
                "Issue device certificates from ",
                C(ca_name),
                " through Workspace ONE UEM (",
                if ca_type == "adcs" { "AD CS" } else { "SCEP/NDES" },
                ") and push them with the Exchange ActiveSync profile."
            )),
            Action::CertificateMapping { mapping, authority, .. } if mapping == "upn" => out.push(md!(
                "Map client certificates of ",
                C(authority),
                " to AD users by the UPN in their SAN."
            )),
            Action::RemoveConnector { direction, name, .. } => out.push(md!(
                "Retire the old ",
                T(direction),
                " connector ",
                C(name),
                " once the new path is proven."
            )),
            _ => {}
        }
    }
    out.dedup();
    if out.is_empty() {
        out.push(md!("Nothing to change: the intent declares no connector, certificate, S/MIME, ActiveSync, gateway or Workspace ONE setting."));
    }
    out
}

fn prerequisites(cx: &Cx) -> Vec<Md> {
    let mut out = Vec::new();
    let ir = cx.ir;
    out.push(md!(
        "The change is approved and this runbook reviewed; the people named under **Who** are available for the change window."
    ));
    for op in cx.ops() {
        match &op.action {
            Action::RequestCertificate {
                certificate,
                reference: Some(r),
                ..
            } => out.push(md!(
                "A PKI reference number from the issuing party for each certificate: ",
                C(r),
                " for ",
                C(certificate),
                "."
            )),
            Action::SendConnector { smart_hosts, .. } if !smart_hosts.is_empty() => out.push(md!(
                "Outbound TCP 25 from ",
                C(&op.host),
                " to ",
                T(&smart_hosts.join(", ")),
                " is open and the name resolves."
            )),
            Action::ReceiveConnector { remote_ips, .. } => out.push(md!(
                "Inbound TCP 25 to ",
                C(&op.host),
                " from the ",
                N(remote_ips.len() as u64),
                " partner addresses is open (firewall and NAT)."
            )),
            Action::IisClientCertificates { .. } => out.push(md!(
                "The IIS role service **Client Certificate Mapping Authentication** (`Web-Client-Auth`) is installed on ",
                C(&op.host),
                "."
            )),
            Action::CheckCdp { .. } => {
                let first = cx.ops().find(|o| o.host == op.host && matches!(o.action, Action::CheckCdp { .. }));
                if first.is_some_and(|f| f.id != op.id) {
                    continue;
                }
                let mut urls: Vec<&str> = Vec::new();
                let mut checks: Vec<Md> = Vec::new();
                for o in cx.ops().filter(|o| o.host == op.host) {
                    if let Action::CheckCdp { urls: u, .. } = &o.action {
                        urls.extend(u.iter().map(String::as_str));
                        checks.push(cx.step_link(&o.id));
                    }
                }
                let u: Vec<Md> = urls.iter().map(|x| md!(C(x))).collect();
                out.push(md!(
                    "These CRLs are reachable from ",
                    C(&op.host),
                    " without a proxy: ",
                    Md::join(&u, ", "),
                    " (checked in ",
                    Md::join(&checks, ", "),
                    ")."
                ));
            }
            Action::Ws1Authority {
                ca_type,
                account,
                ca_name,
                ..
            } => {
                if ca_type == "adcs" {
                    out.push(md!(
                        "The service account ",
                        C(account.as_deref().unwrap_or("for Workspace ONE")),
                        " may request and issue certificates on ",
                        C(ca_name),
                        " and enrol for its certificate template."
                    ));
                } else {
                    out.push(md!(
                        "NDES (SCEP) runs against the enterprise CA ",
                        C(ca_name),
                        " and issues from the template the request template expects."
                    ));
                }
            }
            Action::SegConfig { .. } => {
                out.push(md!("The Secure Email Gateway is installed and working on ", C(&op.host), "."));
                out.push(md!(
                    "User certificates come from an internal enterprise CA: an external CA cannot issue certificates for Kerberos delegation."
                ));
            }
            Action::TmgListener { .. } => out.push(md!(
                "Forefront TMG is installed and working on ",
                C(&op.host),
                ", a member of ",
                T(cx.ad_domain()),
                "."
            )),
            Action::SmimeConfig { online, .. } => {
                out.push(md!(
                    "Users hold their S/MIME certificates (with private keys) in their personal store; a sender needs a certificate of their own to send encrypted mail."
                ));
                out.push(md!(
                    "Clients: Outlook 2010 or later. OWA S/MIME needs Windows Vista or later, IE9 or later, the S/MIME control and .NET 4.5, and supports only certificates from a Windows CA. S/MIME across tenants does not work in OWA and ActiveSync."
                ));
                if *online {
                    out.push(md!("Exchange Online PowerShell (`Connect-ExchangeOnline`) with an Exchange administrator account."));
                }
            }
            Action::DirectorySync { .. } => out.push(md!(
                "Directory synchronisation is DirSync 6593.0012 or later, or Azure AD Connect / Entra Connect (checked in ",
                cx.step_link(&op.id),
                ")."
            )),
            Action::AlternateServiceAccount { array_fqdn, .. } => out.push(md!(
                "The array name ",
                C(array_fqdn),
                " resolves to the Client Access array."
            )),
            _ => {}
        }
    }
    // Files the plan reads or writes, relative to the folder the scripts run from.
    let mut files: Vec<(String, bool)> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut add = |f: &str, arrives: bool| {
        let f = f.replace('/', "\\");
        if seen.insert(f.clone()) {
            files.push((f, arrives));
        }
    };
    for op in cx.ops() {
        match &op.action {
            Action::TrustAuthority { file: Some(f), .. } | Action::PublishNtAuth { file: Some(f), .. } => {
                let received = cx.ops().any(|o| {
                    matches!(&o.action, Action::SubmitRequest { authority: Some(a), .. } if cx.authority_file(a) == Some(f.as_str()))
                });
                add(f, received);
            }
            Action::RequestCertificate { request_file, .. } => add(request_file, true),
            Action::SubmitRequest { issued_file, .. } => add(issued_file, true),
            Action::SmimeConfig { sst_file, .. } => add(sst_file, false),
            _ => {}
        }
    }
    if !files.is_empty() {
        let have: Vec<Md> = files.iter().filter(|(_, a)| !a).map(|(f, _)| md!(C(f))).collect();
        let later: Vec<Md> = files.iter().filter(|(_, a)| *a).map(|(f, _)| md!(C(f))).collect();
        let mut m = md!(
            "One working folder on each host the steps run on: the scripts and commands find the files the intent names relative to it"
        );
        if !have.is_empty() {
            m.push(&md!("; put these there now: ", Md::join(&have, ", ")));
        }
        if !later.is_empty() {
            m.push(&md!(
                "; these are written or received there during the change: ",
                Md::join(&later, ", ")
            ));
        }
        m.push(&".");
        out.push(m);
    }
    if cx.any(|a| matches!(a, Action::AllowDelegation { .. })) {
        let dcs = cx.hosts_with("domain_controller").len();
        out.push(md!(
            "At least two domain controllers (KDCs) answer Kerberos (",
            N(dcs as u64),
            " declared): with one, every delegated logon stops when it does."
        ));
    }
    let mut secrets: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for op in cx.ops() {
        let refs = match &op.action {
            Action::SendConnector { credential, .. } => credential.iter().collect::<Vec<_>>(),
            Action::Ws1Authority {
                challenge, credentials, ..
            } => challenge.iter().chain(credentials.iter()).collect(),
            _ => Vec::new(),
        };
        for r in refs {
            if let Some(n) = cx.step(&op.id) {
                secrets.entry(r.name.clone()).or_default().push(n);
            }
        }
    }
    for (name, steps) in &secrets {
        let links: Vec<Md> = steps.iter().map(|n| link_to_step(*n)).collect();
        out.push(md!(
            "The secret ",
            C(name),
            " is in your vault and you can read it (",
            Md::join(&links, ", "),
            "). It is never written into this runbook or a script."
        ));
    }
    let _ = ir;
    out.dedup();
    out
}

fn backups(cx: &Cx) -> Md {
    let mut items = Vec::new();
    let mut exchange_hosts: Vec<&str> = Vec::new();
    for op in cx.ops() {
        if matches!(
            op.action,
            Action::ReceiveConnector { .. }
                | Action::SendConnector { .. }
                | Action::SetConnectorCost { .. }
                | Action::RemoveConnector { .. }
                | Action::EnableCertificate { .. }
                | Action::ActiveSyncDirectory { .. }
        ) && !exchange_hosts.contains(&op.host.as_str())
        {
            exchange_hosts.push(&op.host);
        }
    }
    if !exchange_hosts.is_empty() {
        let mut lines = Vec::new();
        if cx.any(|a| {
            matches!(
                a,
                Action::ReceiveConnector { .. }
                    | Action::SendConnector { .. }
                    | Action::SetConnectorCost { .. }
                    | Action::RemoveConnector { .. }
            )
        }) {
            lines.push("Get-SendConnector | Export-Clixml -Path .\\before-send-connectors.xml".to_string());
            lines.push("Get-ReceiveConnector | Export-Clixml -Path .\\before-receive-connectors.xml".to_string());
        }
        if cx.any(|a| matches!(a, Action::EnableCertificate { .. })) {
            lines.push("Get-ExchangeCertificate | Format-List Subject, Thumbprint, Services | Out-File -FilePath .\\before-certificates.txt".to_string());
        }
        if cx.any(|a| matches!(a, Action::ActiveSyncDirectory { .. })) {
            lines.push("Get-ActiveSyncVirtualDirectory | Export-Clixml -Path .\\before-activesync.xml".to_string());
        }
        let hosts: Vec<Md> = exchange_hosts.iter().map(|h| md!(C(h))).collect();
        items.push(run(
            md!(
                "Exchange settings, in the Exchange Management Shell on ",
                Md::join(&hosts, ", "),
                ":"
            ),
            pscmd(lines.join("\n")),
        ));
    }
    let mut iis_hosts: Vec<&str> = Vec::new();
    for op in cx.ops() {
        if matches!(
            op.action,
            Action::IisClientCertificates { .. } | Action::IisWindowsAuth { .. } | Action::SegConfig { .. }
        ) && !iis_hosts.contains(&op.host.as_str())
        {
            iis_hosts.push(&op.host);
        }
    }
    if !iis_hosts.is_empty() {
        let hosts: Vec<Md> = iis_hosts.iter().map(|h| md!(C(h))).collect();
        items.push(run(
            md!(
                "The IIS configuration, in an elevated prompt on ",
                Md::join(&hosts, ", "),
                " (the IIS rollbacks restore it):"
            ),
            bat(format!(
                "%windir%\\system32\\inetsrv\\appcmd.exe add backup {}",
                cx.iis_backup()
            )),
        ));
    }
    let delegating: Vec<String> = cx
        .ops()
        .filter_map(|o| match &o.action {
            Action::AllowDelegation { account, .. } => Some(account.clone()),
            _ => None,
        })
        .collect();
    if !delegating.is_empty() {
        let lines: Vec<String> = delegating
            .iter()
            .map(|a| {
                format!(
                    "Get-ADComputer -Identity {} -Properties msDS-AllowedToDelegateTo, TrustedToAuthForDelegation | Format-List Name, msDS-AllowedToDelegateTo, TrustedToAuthForDelegation",
                    ps(a)
                )
            })
            .collect();
        items.push(run(
            md!("The delegation settings of the gateways, in PowerShell with the AD module (keep the output):"),
            pscmd(lines.join("\n")),
        ));
    }
    if cx.any(|a| matches!(a, Action::TmgListener { .. } | Action::TmgPublishingRule { .. })) {
        items.push(item(md!(
            "The TMG configuration: **Forefront TMG Management** > right-click the server > **Export (Back Up)** > the whole configuration, with confidential information encrypted by a password from your vault."
        )));
    }
    if items.is_empty() {
        return Md::default();
    }
    blocks::render(&[Block::Steps(items)])
}

fn troubleshooting(cx: &Cx) -> Vec<Trouble> {
    let mut out = Vec::new();
    let has = |f: &dyn Fn(&Action) -> bool| cx.any(f);
    if has(&|a| matches!(a, Action::ImportCertificate { .. } | Action::RequestCertificate { .. })) {
        out.push(Trouble {
            title: "Certificates",
            items: vec![
                md!("**Exchange reports `PrivateKeyMissing`** after the import: the certificate is not joined to its key. Run `certutil -repairstore my <serial number>` (serial from `Get-ExchangeCertificate -Thumbprint <thumbprint> | Format-List`), then check `HasPrivateKey : True`."),
                md!("**The import fails or the key is missing on another server**: import on the server where the request was made; to use the certificate elsewhere, export it with its private key (it must be exportable)."),
                md!("**The CA rejects the request**: the key must be 2048 bits or more and the request file plain ASCII."),
            ],
        });
    }
    if has(&|a| matches!(a, Action::SendConnector { .. } | Action::ReceiveConnector { .. })) {
        out.push(Trouble {
            title: "Mail transport",
            items: vec![
                md!("**Outbound mail queues** (`Get-Queue` shows the smart host with errors such as `451 4.4.0`): test the path with `(New-Object System.Net.Sockets.TcpClient('<smart host>', 25)).Connected` (this works in PowerShell 2.0); check the smart host offers STARTTLS and its certificate chains to a trusted root; check the credentials of the secret."),
                md!("**Mail still leaves through the old connector**: its cost must be higher than the new one's (`Get-SendConnector | Format-List Name, AddressSpaces`)."),
                md!("**Inbound mail from the partner is rejected**: the sender's address must be in the connector's `RemoteIPRanges`, and the connector's `Fqdn` must be the certificate's CN. Turn on `-ProtocolLoggingLevel Verbose` on the connector and read the SMTP receive log."),
                md!("**`RequireTLS` is `False`** after using the wizard: set it with `Set-SendConnector -RequireTLS $true`."),
            ],
        });
    }
    if has(&|a| matches!(a, Action::SmimeConfig { .. })) {
        out.push(Trouble {
            title: "S/MIME",
            items: vec![
                md!("**`UserSMimeCertificate` is empty**: the user publishes the certificate again from Outlook (**Publish to GAL**); with directory sync, wait for the next cycle."),
                md!("**Signatures cannot be validated in the cloud**: the SST lacks an intermediate or the root of the users' certificates; rebuild it with all of them and upload it again."),
                md!("**OWA cannot use the certificate**: OWA supports only certificates from a Windows CA; S/MIME across tenants does not work in OWA and ActiveSync."),
                md!("**A user cannot encrypt**: the sender needs a certificate of their own, and the recipient's must be in the GAL."),
            ],
        });
    }
    if has(&|a| {
        matches!(
            a,
            Action::IisClientCertificates { .. } | Action::CertificateMapping { .. }
        )
    }) {
        out.push(Trouble {
            title: "Client certificates (IIS and mapping)",
            items: vec![
                md!("**HTTP 505 in the browser test** is expected: the browser is not an ActiveSync client. It means the certificate was accepted."),
                md!("**HTTP 403.7 (client certificate required)** or no certificate prompt: the device or browser has no certificate from a trusted CA; the root must be in `LocalMachine\\Root` and intermediates in `LocalMachine\\CA` on the server."),
                md!("**HTTP 401, or the logged-on user is Anonymous**: the mapping failed. The CA must be in NTAuth (`certutil -enterprise -store NTAuth`), the SAN must hold the user's UPN (and email), the CRL must be reachable without a proxy (`certutil -verify -urlfetch user.cer`)."),
                md!("**The CRL cannot be fetched**: IIS and CryptoAPI use the WinHTTP proxy settings (`netsh winhttp show proxy`); open the CDP URL from the server. Fix the network path rather than running the web server as an administrator."),
                md!("**HTTP 413 (request entity too large)** on larger messages: `uploadReadAheadSize` is too small for TLS renegotiation; it must be 10485760 at server and site level."),
                md!("**Settings seem ignored**: use `%windir%\\system32\\inetsrv\\appcmd.exe`, not the SysWOW64 copy, and the exact site name (`Default Web Site`)."),
            ],
        });
    }
    if has(&|a| {
        matches!(
            a,
            Action::Ws1Authority { .. } | Action::Ws1Template { .. } | Action::Ws1Profile { .. }
        )
    }) {
        out.push(Trouble {
            title: "Workspace ONE certificates",
            items: vec![
                md!("**No certificate is issued**: in **certsrv.msc** > **Issued Certificates**, the last certificate must have the template's subject; if there is none, check the CA, the connector (SCEP or AD CS) and Workspace ONE's connection to it, and the service account's permissions on the CA and the template."),
                md!("**The SCEP or AD CS URL fails**: the **Server URL** and **SCEP Challenge URL** must end with `/`. Opening the SCEP challenge URL in a browser prompts for credentials and returns the challenge."),
                md!("**Test is unsuccessful**: run **Test Connection** before **Save**."),
                md!("**The certificate is on the device but mail fails**: its SAN must hold the Email and the Principal Name (UPN), its EKU Client Authentication; otherwise fix the template."),
                md!("**The key length is refused**: the request template's **Private Key Length** must match the CA's certificate template."),
                md!("**Still failing**: configure one device by hand with the certificate; until that works, Workspace ONE cannot make it work. Check the profile's **View XML** holds the certificate."),
            ],
        });
    }
    if has(&|a| matches!(a, Action::AllowDelegation { .. } | Action::RegisterSpn { .. })) {
        out.push(Trouble {
            title: "Kerberos constrained delegation",
            items: vec![
                md!("**Exchange answers 401**: add the **NTLM** and **Negotiate** providers to Windows Authentication on Microsoft-Server-ActiveSync."),
                md!("**Logons fail intermittently or everywhere**: clocks must be within 5 minutes of the KDCs (`w32tm /stripchart /computer:<dc>`); keep them in step with NTP."),
                md!("**Duplicate SPNs** break Kerberos: `setspn -X` must report `found 0 group of duplicate SPNs`; remove duplicates with `setspn -D`."),
                md!("**Delegation is refused** (`KDC_ERR_BADOPTION` in the gateway's System log): the SPN in the delegation list must be exactly the one registered (`setspn -Q http/<host>`) and the one the gateway uses (the SEG's Exchange host, the TMG rule's SPN); after changing delegation, run `klist -li 0x3e4 purge` (Network Service, the gateway's pool) and `klist -li 0x3e7 purge` on the gateway."),
                md!("**Everything stops when one domain controller is down**: a single KDC is a single point of failure; have at least two."),
                md!("**Test without the gateway**: authenticate a device with its certificate directly; until that works, the gateway cannot."),
            ],
        });
    }
    if has(&|a| matches!(a, Action::AlternateServiceAccount { .. })) {
        out.push(Trouble {
            title: "Alternate service account",
            items: vec![
                md!("**Kerberos works on one array member only**: every member (and every datacenter-activation server) must hold the same ASA credential: run `RollAlternateServiceAccountPassword.ps1` again after adding one and check `Get-ClientAccessServer -IncludeAlternateServiceAccountCredentialStatus`."),
                md!("**The SPN is on a computer instead of the ASA**: `setspn -Q http/<array FQDN>` must name the ASA only."),
            ],
        });
    }
    if has(&|a| matches!(a, Action::TmgListener { .. } | Action::TmgPublishingRule { .. })) {
        out.push(Trouble {
            title: "Forefront TMG",
            items: vec![
                md!("**SSO is not available** in the listener wizard is expected with client certificate authentication: ignore it."),
                md!("**Nothing changes after editing**: click **Apply** in the console."),
                md!("**The rule fails to reach the published server**: read **Logs & Reports** > **Logging** for the rule; check the internal site name resolves from TMG, the SPN matches the registered one, and TMG's computer account is trusted for delegation to it."),
                md!("**Adding a SEG to an existing TMG to EAS chain**: first stop publishing to the EAS server and take certificate authentication off it; only then let the SEG do it."),
            ],
        });
    }
    out
}

/// Builds the view model.
pub(crate) fn build(cx: &Cx, scripts: &[Script], graph: &Graph) -> View {
    let index = ScriptIndex::new(cx, scripts);
    let ir = cx.ir;
    let org = &ir.organization;
    // Warnings by operation, in IR order.
    let mut by_op: BTreeMap<&str, Vec<Md>> = BTreeMap::new();
    let mut warning_rows = Vec::new();
    for w in &ir.warnings {
        let steps: Vec<usize> = w.operations.iter().filter_map(|o| cx.step(o)).collect();
        let line = md!(
            "**",
            T(&w.code),
            "** ",
            IrText(&w.message),
            " (",
            C(w.source_file()),
            ")"
        );
        for o in &w.operations {
            by_op.entry(o.as_str()).or_default().push(line.clone());
        }
        let links: Vec<Md> = steps.iter().map(|n| link_to_step(*n)).collect();
        warning_rows.push(if links.is_empty() {
            line
        } else {
            md!(line, ": ", Md::join(&links, ", "))
        });
    }
    let mut phases: Vec<PhaseView> = Vec::new();
    let mut per_host: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    // Each step's rendered rollback, by step, for the rollback section: the content of an
    // operation is worked out once.
    let mut undos: Vec<Option<Md>> = Vec::with_capacity(cx.order.len());
    for (n, (i, phase)) in cx.order.iter().enumerate() {
        let op = &ir.operations[*i];
        let number = n + 1;
        per_host.entry(op.host.as_str()).or_default().push(number);
        let (view, undo) = step_view(
            cx,
            op,
            number,
            scripts,
            &index,
            by_op.get(op.id.as_str()).map_or(&[], Vec::as_slice),
            content(op, cx),
        );
        undos.push(undo);
        match phases.last_mut() {
            Some(p) if p.title == phase.title() => {
                p.last = view.number;
                p.steps.push(view);
            }
            _ => {
                let number = phases.len() + 1;
                phases.push(PhaseView {
                    number,
                    title: phase.title(),
                    anchor: Md::trusted(slug(&format!("Phase {number}: {}", phase.title()))),
                    first: view.number,
                    last: view.number,
                    steps: vec![view],
                });
            }
        }
    }
    let counts = |m: Mode| ir.operations.iter().filter(|o| o.mode == m).count() as u64;
    let mut facts = vec![
        Fact {
            label: "Organization",
            value: md!(T(&org.name)),
        },
        Fact {
            label: "Exchange",
            value: md!(T(org.exchange.product())),
        },
        Fact {
            label: "SMTP domains",
            value: md!(T(&org.smtp_domains.join(", "))),
        },
    ];
    if let Some(d) = &org.ad_domain {
        facts.push(Fact {
            label: "Active Directory",
            value: match &org.netbios {
                Some(n) => md!(T(d), " (", T(n), ")"),
                None => md!(T(d)),
            },
        });
    }
    if let Some(t) = &org.tenant {
        facts.push(Fact {
            label: "Exchange Online tenant",
            value: md!(T(t)),
        });
    }
    if let Some(o) = &org.owner {
        facts.push(Fact {
            label: "Change owner",
            value: md!(T(o)),
        });
    }
    facts.push(Fact {
        label: "Intent files",
        value: md!(T(&ir.sources.join(", "))),
    });
    if let Some(rev) = &ir.revision {
        facts.push(Fact {
            label: "Intent revision",
            value: md!(C(rev)),
        });
    }
    facts.push(Fact {
        label: "Plan digest",
        value: md!(C(&format!("sha256:{}", ir.digest()))),
    });
    facts.push(Fact {
        label: "Generated by",
        value: md!(C(&format!("mailsec {}", env!("CARGO_PKG_VERSION")))),
    });
    facts.push(Fact {
        label: "Steps",
        value: md!(
            N(ir.operations.len() as u64),
            ": ",
            N(counts(Mode::Scripted)),
            " scripted, ",
            N(counts(Mode::Manual)),
            " manual, ",
            N(counts(Mode::Verify)),
            " verification"
        ),
    });
    let hosts = ir
        .hosts
        .values()
        .map(|h| {
            let steps = per_host.get(h.id.as_str()).cloned().unwrap_or_default();
            HostRow {
                id: h.id.clone(),
                name: host_name(cx, &h.id),
                role: host_role(cx, &h.id),
                who: host_who(cx, &h.id),
                steps: if steps.is_empty() {
                    md!("none")
                } else {
                    let links: Vec<Md> = steps.iter().map(|n| Md::trusted(format!("[{n}](#step-{n})"))).collect();
                    Md::join(&links, ", ")
                },
            }
        })
        .collect();
    // Rollback: newest change first.
    let mut rollback = Vec::new();
    let mut retirement = Vec::new();
    for (n, (i, phase)) in cx.order.iter().enumerate().rev() {
        let op = &ir.operations[*i];
        if *phase == Phase::Retirement {
            retirement.push(md!(link_to_step(n + 1), ": ", IrText(&op.summary)));
        }
        let Some(body) = undos[n].take() else {
            continue;
        };
        rollback.push(Undo {
            step: n + 1,
            title: md!(IrText(&op.summary)),
            body,
        });
    }
    retirement.reverse();
    let mut files: Vec<Md> = Vec::new();
    for (i, s) in scripts.iter().enumerate() {
        let steps: Vec<Md> = index.steps[i].iter().copied().map(link_to_step).collect();
        let mut line = md!(C(&s.path), " (", C(s.target.name()));
        if let Some(h) = &s.host {
            line.push(&md!(", ", C(h)));
        }
        line.push(&md!("), SHA-256 ", C(&s.sha256)));
        if !steps.is_empty() {
            line.push(&md!(": ", Md::join(&steps, ", ")));
        }
        files.push(line);
    }
    View {
        title: org.name.clone(),
        unit: ir.unit.clone(),
        facts,
        purpose: purpose(cx),
        hosts,
        prerequisites: prerequisites(cx),
        backups: backups(cx),
        mermaid: Md::trusted(topology::mermaid(graph)),
        phases,
        troubleshooting: troubleshooting(cx),
        rollback,
        retirement,
        warnings: warning_rows,
        suppressions: ir
            .suppressions
            .iter()
            .map(|s| {
                md!(
                    "**",
                    T(&s.code),
                    "** (",
                    T(&s.title),
                    ") on ",
                    C(&s.block),
                    ": ",
                    T(&s.reason),
                    " (",
                    C(s.source_file()),
                    ")"
                )
            })
            .collect(),
        files,
    }
}
