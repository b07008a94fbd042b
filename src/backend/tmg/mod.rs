//! The `tmg` backend: Forefront TMG 2010 artefacts for each TMG host of a unit.
//!
//! - `tmg/<host>/70-publish.ps1`: the primary artefact, an idempotent PowerShell 2.0 script
//!   over the TMG COM object model (`FPC.Root`) that creates or corrects the web listeners,
//!   web publishing rules and server publishing rules of the host. Every COM name in it is
//!   in the TMG 2010 SDK.
//! - `tmg/<host>/<rule>.xml`: per web publishing rule, a TMG configuration export (`fpc4`)
//!   holding the listener and the rule; per server publishing rule whose published server's
//!   IP address is known, the export of the rule. Their envelope and conventions were observed
//!   in real exports; the listener and web publishing element names are inferred from the COM
//!   names, and each file's header says which names are which.
//! - `tmg/<host>/<NN>-<phase>.ps1`: the certificate and trust steps on the TMG host (plain
//!   Windows PowerShell, rendered by the same code as the Exchange hosts' scripts).

mod export;
mod script;

use super::{exchange, owner, sanitize_component, BackendError, OutputFile, Target};
use crate::ir::{Action, Ir, Operation, Phase};
use indexmap::IndexMap;

/// Whether this backend is complete.
pub(crate) const BUILT: bool = true;

/// The TMG-specific operations: rendered by the publishing script and the export.
fn is_publishing(op: &Operation) -> bool {
    op.phase == Phase::Gateway
        && matches!(
            op.action,
            Action::TmgListener { .. }
                | Action::TmgPublishingRule { .. }
                | Action::TmgServerPublishing { .. }
                | Action::Check { .. }
        )
}

fn bug(message: impl Into<String>) -> BackendError {
    BackendError {
        target: Target::Tmg.name(),
        message: message.into(),
    }
}

/// Renders the unit's `tmg` artefacts.
pub(crate) fn render(ir: &Ir) -> Result<Vec<OutputFile>, BackendError> {
    let mut files = exchange::render_owned(ir, Target::Tmg, &|op| !is_publishing(op))?;
    let mut hosts: IndexMap<&str, Vec<&Operation>> = IndexMap::new();
    for op in &ir.operations {
        if owner(op, ir) == Some(Target::Tmg) && is_publishing(op) {
            hosts.entry(op.host.as_str()).or_default().push(op);
        }
    }
    for (host_id, ops) in hosts {
        let host = ir
            .hosts
            .get(host_id)
            .ok_or_else(|| bug(format!("operation on unknown host `{host_id}`")))?;
        let dir = sanitize_component(host_id);
        let text = script::render(ir, host, &ops).map_err(bug)?;
        if !text.is_ascii() || text.contains('\r') {
            return Err(bug(format!("{dir}/70-publish.ps1 is not LF-only ASCII")));
        }
        files.push(OutputFile {
            path: format!("tmg/{dir}/{:02}-publish.ps1", Phase::Gateway.number()),
            target: Target::Tmg,
            host: Some(host_id.to_string()),
            operations: ops.iter().map(|o| o.id.clone()).collect(),
            contents: text.into_bytes(),
        });
        for rule in &ops {
            let export = match rule.action {
                Action::TmgPublishingRule { .. } => Some(export::web_rule(ir, rule, &ops).map_err(bug)?),
                Action::TmgServerPublishing { .. } => export::server_rule(ir, rule).map_err(bug)?,
                _ => None,
            };
            let Some((name, xml)) = export else { continue };
            files.push(OutputFile {
                path: format!("tmg/{dir}/{}.xml", sanitize_component(&name)),
                target: Target::Tmg,
                host: Some(host_id.to_string()),
                // The script carries the operations out; the export is the same change for
                // the console's File > Import, for reference.
                operations: Vec::new(),
                contents: xml.into_bytes(),
            });
        }
    }
    Ok(files)
}
