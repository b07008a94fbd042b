//! The `workspace-one` backend: for the Workspace ONE UEM console of a unit, the device
//! profiles and the console objects they need.
//!
//! Files, below `workspace-one/<host>/` (the host is the console):
//! - `profiles/<profile>.mobileconfig` for iOS profiles: the Apple configuration profile the
//!   console's *View XML* shows (plist XML, LF, keys sorted, UUIDs derived from unit and names);
//! - `api/profile-<profile>.json`: the MDM API v2 create request (iOS and Android), with the
//!   integer ids to resolve at run time listed next to the body;
//! - `api/ca-<authority>.json`, `api/template-<template>.json`: the certificate authority and
//!   request template as the console forms hold them; secrets only as `{"secret": NAME}`.
//!
//! Platforms other than iOS and Android are refused by the check stage (MS0260), so every
//! profile the IR holds gets its files here.

mod api;
mod mobileconfig;
mod model;
mod plist;

use super::{sanitize_component, BackendError, OutputFile, Target};
use crate::ir::Ir;
use model::Ws1;

/// Whether this backend is complete.
pub(crate) const BUILT: bool = true;

fn fail(message: String) -> BackendError {
    BackendError {
        target: Target::WorkspaceOne.name(),
        message,
    }
}

fn json(value: &serde_json::Value) -> Result<Vec<u8>, BackendError> {
    let mut out = serde_json::to_vec_pretty(value).map_err(|e| fail(format!("writing JSON: {e}")))?;
    out.push(b'\n');
    Ok(out)
}

/// Renders the unit's Workspace ONE artefacts: authorities, templates, then profiles, in
/// plan order.
pub(crate) fn render(ir: &Ir) -> Result<Vec<OutputFile>, BackendError> {
    let ws1 = Ws1::of(ir)?;
    let mut files = Vec::new();
    let mut push = |host: &str, path: String, op: &str, contents: Vec<u8>| {
        files.push(OutputFile {
            path: format!("workspace-one/{}/{path}", sanitize_component(host)),
            target: Target::WorkspaceOne,
            host: Some(host.to_string()),
            operations: vec![op.to_string()],
            contents,
        });
    };
    for a in &ws1.authorities {
        let body = api::authority(a, a.op.source_file());
        push(
            &a.op.host,
            format!("api/ca-{}.json", sanitize_component(a.name)),
            &a.op.id,
            json(&body)?,
        );
    }
    for t in &ws1.templates {
        let body = api::template(&ws1, t, t.op.source_file());
        push(
            &t.op.host,
            format!("api/template-{}.json", sanitize_component(t.name)),
            &t.op.id,
            json(&body)?,
        );
    }
    for p in &ws1.profiles {
        let stem = sanitize_component(p.name);
        match p.platform {
            "ios" => {
                let doc = mobileconfig::profile(ir, &ws1, p);
                let xml = plist::to_xml(&doc).map_err(|e| fail(format!("writing the plist: {e}")))?;
                push(&p.op.host, format!("profiles/{stem}.mobileconfig"), &p.op.id, xml);
            }
            "android" => {}
            other => {
                return Err(fail(format!(
                    "profile `{}` targets `{other}`, which the check stage refuses (MS0260)",
                    p.name
                )))
            }
        }
        let body = api::profile(&ws1, p, p.op.source_file());
        push(&p.op.host, format!("api/profile-{stem}.json"), &p.op.id, json(&body)?);
    }
    Ok(files)
}
