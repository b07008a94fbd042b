//! Backends: one module per target, each a plain function from the IR to files in memory.
//! Only the command line writes files, which makes `build --check` a comparison.

mod certreq;
mod exchange;
mod iis;
mod runbook;
mod tmg;
mod workspace_one;

use crate::ir::{Action, HostKind, Ir, Mode, Operation};
use serde::Serialize;

/// Output targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Exchange Management Shell and AD PowerShell scripts.
    Exchange,
    /// applicationHost.config fragments and appcmd scripts.
    Iis,
    /// Forefront TMG publishing scripts (COM) and export XML.
    Tmg,
    /// Workspace ONE device profiles (iOS plist XML) and console/API definitions.
    WorkspaceOne,
    /// Human-readable runbook (Markdown and HTML).
    Runbook,
}

impl Target {
    /// Every target, in build order.
    pub const ALL: [Target; 5] = [
        Target::Exchange,
        Target::Iis,
        Target::Tmg,
        Target::WorkspaceOne,
        Target::Runbook,
    ];

    /// The name used on the command line and in output paths.
    pub fn name(self) -> &'static str {
        match self {
            Target::Exchange => "exchange",
            Target::Iis => "iis",
            Target::Tmg => "tmg",
            Target::WorkspaceOne => "workspace-one",
            Target::Runbook => "runbook",
        }
    }

    /// Whether this version of mailsec renders the target.
    pub fn is_built(self) -> bool {
        match self {
            Target::Exchange => exchange::BUILT,
            Target::Iis => iis::BUILT,
            Target::Runbook => runbook::BUILT,
            Target::Tmg => tmg::BUILT,
            Target::WorkspaceOne => workspace_one::BUILT,
        }
    }
}

/// A generated file, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// Path below `<out>/<unit>/`, `/`-separated, made of sanitised components.
    pub path: String,
    /// Target that produced it.
    pub target: Target,
    /// Host it is for, if any.
    pub host: Option<String>,
    /// Ids of the IR operations this file carries out, in order.
    pub operations: Vec<String>,
    /// Contents.
    pub contents: Vec<u8>,
}

/// A backend failed: always a bug in mailsec, never the user's input.
#[derive(Debug, thiserror::Error)]
#[error("internal error in the {target} backend: {message}")]
pub struct BackendError {
    /// The target.
    pub target: &'static str,
    /// What went wrong.
    pub message: String,
}

/// Renders one target for one unit. Paths are relative to `<out>/<unit>/`.
pub fn render(target: Target, ir: &Ir) -> Result<Vec<OutputFile>, BackendError> {
    match target {
        Target::Exchange => exchange::render(ir),
        Target::Iis => iis::render(ir),
        Target::Runbook => runbook::render(ir),
        Target::Tmg => tmg::render(ir),
        Target::WorkspaceOne => workspace_one::render(ir),
    }
}

/// Renders several targets for one unit, each once: the runbook links the `exchange`, `iis`
/// and `tmg` files, so those are rendered a single time and shared with it.
pub fn render_targets(ir: &Ir, targets: &[Target]) -> Result<Vec<OutputFile>, BackendError> {
    let needs_scripts = targets.contains(&Target::Runbook);
    let mut scripts: Option<Vec<OutputFile>> = None;
    let mut runbook: Option<Vec<OutputFile>> = None;
    if needs_scripts {
        let mut files = exchange::render(ir)?;
        files.extend(iis::render(ir)?);
        files.extend(tmg::render(ir)?);
        runbook = Some(runbook::render_with(ir, &files)?);
        scripts = Some(files);
    }
    let mut out = Vec::new();
    for (k, &t) in targets.iter().enumerate() {
        // A target's files move to the output at its last mention, and are copied before.
        let last = !targets[k + 1..].contains(&t);
        match (t, &mut scripts) {
            (Target::Exchange | Target::Iis | Target::Tmg, Some(files)) if last => {
                out.extend(files.extract_if(.., |f| f.target == t));
            }
            (Target::Exchange | Target::Iis | Target::Tmg, Some(files)) => {
                out.extend(files.iter().filter(|f| f.target == t).cloned());
            }
            (Target::Runbook, Some(_)) => match (&runbook, last) {
                (Some(_), true) => out.extend(runbook.take().unwrap_or_default()),
                (Some(files), false) => out.extend(files.iter().cloned()),
                (None, _) => {}
            },
            _ => out.extend(render(t, ir)?),
        }
    }
    Ok(out)
}

/// The target whose artefacts carry out an operation; `None` for steps only a person can do
/// (they appear in the runbook). The one place that decides, so no operation is rendered by
/// two backends or by none.
pub fn owner(op: &Operation, ir: &Ir) -> Option<Target> {
    if op.mode == Mode::Manual {
        return None;
    }
    let host_kind = ir.hosts.get(&op.host).map(|h| h.kind);
    // Everything scripted on a TMG host goes to the `tmg` target, next to the publishing
    // script: the administrator of the edge firewall runs one set of files.
    let on_tmg = ir
        .hosts
        .get(&op.host)
        .is_some_and(|h| h.roles.iter().any(|r| r == "tmg"));
    let target = owner_by_action(op, host_kind)?;
    Some(if on_tmg && target == Target::Exchange {
        Target::Tmg
    } else {
        target
    })
}

fn owner_by_action(op: &Operation, host_kind: Option<HostKind>) -> Option<Target> {
    match &op.action {
        Action::TmgListener { .. } | Action::TmgPublishingRule { .. } | Action::TmgServerPublishing { .. } => {
            Some(Target::Tmg)
        }
        Action::IisClientCertificates { .. } | Action::IisWindowsAuth { .. } | Action::SegConfig { .. } => {
            Some(Target::Iis)
        }
        Action::TrustAuthority { .. }
        | Action::PublishNtAuth { .. }
        | Action::CheckCdp { .. }
        | Action::RequestCertificate { .. }
        | Action::ImportCertificate { .. }
        | Action::EnableCertificate { .. }
        | Action::VerifySmtpCertificate { .. }
        | Action::ReceiveConnector { .. }
        | Action::SendConnector { .. }
        | Action::SetConnectorCost { .. }
        | Action::RestartService { .. }
        | Action::VerifyConnector { .. }
        | Action::RemoveConnector { .. }
        | Action::SmimeConfig { .. }
        | Action::VerifyUserSmime { .. }
        | Action::ActiveSyncDirectory { .. }
        | Action::RegisterSpn { .. }
        | Action::AlternateServiceAccount { .. }
        | Action::AllowDelegation { .. }
        | Action::GrantUserRights { .. }
        | Action::CertificateMapping { .. } => Some(Target::Exchange),
        Action::Check { .. } => match host_kind {
            Some(HostKind::Server | HostKind::ActiveDirectory | HostKind::ExchangeOnline) => Some(Target::Exchange),
            _ => None,
        },
        Action::Prerequisite { .. }
        | Action::SubmitRequest { .. }
        | Action::DirectorySync { .. }
        | Action::Ws1Authority { .. }
        | Action::Ws1Template { .. }
        | Action::Ws1Profile { .. }
        | Action::Manual { .. } => None,
    }
}

/// The file a connector's settings are saved to before it is removed (by the script, or by
/// hand as the runbook says), which the runbook's rollback re-creates it from. Relative to the
/// folder the step runs in.
pub(crate) fn removed_connector_file(direction: &str, name: &str) -> String {
    format!("removed-{direction}-connector-{}.xml", sanitize_component(name))
}

/// Makes one path component safe: ASCII letters, digits, `-`, `_` and `.`; no leading dot;
/// not a reserved Windows device name; never empty.
pub fn sanitize_component(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let mut out = out.trim_matches(|c| c == '-' || c == '.').to_string();
    if out.is_empty() {
        out = "unnamed".into();
    }
    let stem = out.split('.').next().unwrap_or("").to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit());
    if reserved {
        out.insert(0, '_');
    }
    out
}
