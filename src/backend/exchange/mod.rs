//! The `exchange` backend: idempotent Exchange Management Shell / Active Directory
//! PowerShell scripts, one per host and phase (`exchange/<host>/<NN>-<phase>.ps1`).
//!
//! `view.rs` turns the IR into a view model (choosing cmdlets and the parameters the unit's
//! Exchange version has, per `oracle.rs`); the templates in `templates/exchange/` lay it
//! out. Templates cannot print a string unless it went through one of the filters below:
//! `psq` (a PowerShell literal, `quote.rs`), `ident` (a checked name) or `comment` (text
//! for a `#` comment). Anything else is a template bug and fails the build.

mod oracle;
mod quote;
mod view;

use super::{owner, sanitize_component, BackendError, OutputFile, Target};
use crate::ir::{Ir, Operation, Phase};
use indexmap::IndexMap;
use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, Output, State, UndefinedBehavior, Value};
use std::sync::LazyLock;

/// Whether this backend is complete.
pub(crate) const BUILT: bool = true;

/// The templates, embedded.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "script.ps1.j2",
        include_str!("../../../templates/exchange/script.ps1.j2"),
    ),
    (
        "helpers.ps1.j2",
        include_str!("../../../templates/exchange/helpers.ps1.j2"),
    ),
    (
        "trust_authority.ps1.j2",
        include_str!("../../../templates/exchange/trust_authority.ps1.j2"),
    ),
    (
        "publish_ntauth.ps1.j2",
        include_str!("../../../templates/exchange/publish_ntauth.ps1.j2"),
    ),
    (
        "check_cdp.ps1.j2",
        include_str!("../../../templates/exchange/check_cdp.ps1.j2"),
    ),
    (
        "request_certificate.ps1.j2",
        include_str!("../../../templates/exchange/request_certificate.ps1.j2"),
    ),
    (
        "request_certificate_certreq.ps1.j2",
        include_str!("../../../templates/exchange/request_certificate_certreq.ps1.j2"),
    ),
    (
        "import_certificate.ps1.j2",
        include_str!("../../../templates/exchange/import_certificate.ps1.j2"),
    ),
    (
        "import_certificate_certreq.ps1.j2",
        include_str!("../../../templates/exchange/import_certificate_certreq.ps1.j2"),
    ),
    (
        "enable_certificate.ps1.j2",
        include_str!("../../../templates/exchange/enable_certificate.ps1.j2"),
    ),
    (
        "verify_smtp_certificate.ps1.j2",
        include_str!("../../../templates/exchange/verify_smtp_certificate.ps1.j2"),
    ),
    (
        "receive_connector.ps1.j2",
        include_str!("../../../templates/exchange/receive_connector.ps1.j2"),
    ),
    (
        "send_connector.ps1.j2",
        include_str!("../../../templates/exchange/send_connector.ps1.j2"),
    ),
    (
        "set_connector_cost.ps1.j2",
        include_str!("../../../templates/exchange/set_connector_cost.ps1.j2"),
    ),
    (
        "restart_service.ps1.j2",
        include_str!("../../../templates/exchange/restart_service.ps1.j2"),
    ),
    (
        "verify_connector.ps1.j2",
        include_str!("../../../templates/exchange/verify_connector.ps1.j2"),
    ),
    (
        "remove_connector.ps1.j2",
        include_str!("../../../templates/exchange/remove_connector.ps1.j2"),
    ),
    (
        "smime_config.ps1.j2",
        include_str!("../../../templates/exchange/smime_config.ps1.j2"),
    ),
    (
        "verify_user_smime.ps1.j2",
        include_str!("../../../templates/exchange/verify_user_smime.ps1.j2"),
    ),
    (
        "active_sync_directory.ps1.j2",
        include_str!("../../../templates/exchange/active_sync_directory.ps1.j2"),
    ),
    (
        "register_spn.ps1.j2",
        include_str!("../../../templates/exchange/register_spn.ps1.j2"),
    ),
    (
        "alternate_service_account.ps1.j2",
        include_str!("../../../templates/exchange/alternate_service_account.ps1.j2"),
    ),
    (
        "allow_delegation.ps1.j2",
        include_str!("../../../templates/exchange/allow_delegation.ps1.j2"),
    ),
    (
        "grant_user_rights.ps1.j2",
        include_str!("../../../templates/exchange/grant_user_rights.ps1.j2"),
    ),
    (
        "check_upn_mapping.ps1.j2",
        include_str!("../../../templates/exchange/check_upn_mapping.ps1.j2"),
    ),
    (
        "check_spn_duplicates.ps1.j2",
        include_str!("../../../templates/exchange/check_spn_duplicates.ps1.j2"),
    ),
    (
        "check_manual.ps1.j2",
        include_str!("../../../templates/exchange/check_manual.ps1.j2"),
    ),
];

static ENV: LazyLock<Result<Environment<'static>, String>> =
    LazyLock::new(|| environment().map_err(|e| format!("{e:#}")));

fn environment() -> Result<Environment<'static>, Error> {
    powershell_environment(TEMPLATES)
}

/// A template environment for PowerShell output: the filters `psq`, `ident` and `comment`
/// and a formatter that refuses unquoted strings. Shared with the `tmg` backend, so one
/// function quotes every PowerShell string mailsec writes.
pub(crate) fn powershell_environment(
    templates: &'static [(&'static str, &'static str)],
) -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_formatter(formatter);
    env.add_filter("psq", psq);
    env.add_filter("ident", ident);
    env.add_filter("comment", comment);
    for (name, source) in templates {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// Prints only what a filter produced (safe strings) and integers; any other value means a
/// template printed a user string without quoting it.
fn formatter(out: &mut Output, _state: &State, value: &Value) -> Result<(), Error> {
    let printable = value.is_safe() || (value.kind() == ValueKind::Number && value.as_i64().is_some());
    if !printable {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("`{value}` printed without `psq`, `ident` or `comment`"),
        ));
    }
    write!(out, "{value}").map_err(|_| Error::new(ErrorKind::WriteFailure, "cannot write template output"))
}

/// `psq`: any value as a PowerShell literal — strings quoted, booleans `$true`/`$false`,
/// integers as digits, sequences as `@(…)`.
fn psq(value: &Value) -> Result<Value, Error> {
    Ok(Value::from_safe_string(literal(value)?))
}

fn literal(value: &Value) -> Result<String, Error> {
    match value.kind() {
        ValueKind::String => Ok(quote::quote(value.as_str().unwrap_or_default())),
        ValueKind::Bool => Ok(if value.is_true() { "$true" } else { "$false" }.to_string()),
        ValueKind::Number => value
            .as_i64()
            .map(|n| n.to_string())
            .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, format!("`{value}` is not an integer"))),
        ValueKind::Seq => {
            let items = value.try_iter()?.map(|v| literal(&v)).collect::<Result<Vec<_>, _>>()?;
            Ok(format!("@({})", items.join(", ")))
        }
        // A variable set earlier in the script (`PsValue::Var`): a checked name, no quotes.
        ValueKind::Map => {
            let var = value.get_attr("var")?;
            match var.as_str() {
                Some(name) if quote::is_ident(name) => Ok(format!("${name}")),
                _ => Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("`{value}` has no PowerShell literal"),
                )),
            }
        }
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("`{value}` ({}) has no PowerShell literal", value.kind()),
        )),
    }
}

/// `ident`: a cmdlet, parameter or property name, checked, printed as is.
fn ident(value: &str) -> Result<Value, Error> {
    if quote::is_ident(value) {
        Ok(Value::from_safe_string(value.to_string()))
    } else {
        Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("`{value}` is not a PowerShell name"),
        ))
    }
}

/// `comment`: text that stays inside a `#` comment.
fn comment(value: &Value) -> Value {
    let text = match value.as_str() {
        Some(s) => s.to_string(),
        None => value.to_string(),
    };
    Value::from_safe_string(quote::comment(&text))
}

fn bug(message: impl Into<String>) -> BackendError {
    BackendError {
        target: Target::Exchange.name(),
        message: message.into(),
    }
}

/// Renders the unit's `exchange` artefacts.
pub(crate) fn render(ir: &Ir) -> Result<Vec<OutputFile>, BackendError> {
    render_owned(ir, Target::Exchange, &|_| true)
}

/// Renders the host scripts for the operations `target` owns and `take` accepts, as
/// `<target>/<host>/<NN>-<phase>.ps1`: the `tmg` backend uses it for the certificate and
/// trust steps on TMG hosts, which are plain Windows PowerShell like the Exchange hosts'.
pub(crate) fn render_owned(
    ir: &Ir,
    target: Target,
    take: &dyn Fn(&Operation) -> bool,
) -> Result<Vec<OutputFile>, BackendError> {
    let env = ENV.as_ref().map_err(|e| bug(format!("templates: {e}")))?;
    let mut groups: IndexMap<(String, Phase), Vec<&Operation>> = IndexMap::new();
    for op in &ir.operations {
        if owner(op, ir) == Some(target) && take(op) {
            groups.entry((op.host.clone(), op.phase)).or_default().push(op);
        }
    }
    // Hosts in declaration order, phases in execution order.
    groups.sort_by(|(ha, pa), _, (hb, pb), _| {
        let rank = |h: &String| ir.hosts.get_index_of(h).unwrap_or(usize::MAX);
        (rank(ha), pa, ha).cmp(&(rank(hb), pb, hb))
    });
    let mut dirs: IndexMap<String, String> = IndexMap::new();
    let mut files = Vec::new();
    for ((host_id, phase), ops) in &groups {
        let host = ir
            .hosts
            .get(host_id)
            .ok_or_else(|| bug(format!("operation on unknown host `{host_id}`")))?;
        let dir = host_dir(&mut dirs, host_id);
        let view = view::script(ir, host, *phase, ops).map_err(bug)?;
        let text = env
            .get_template("script.ps1.j2")
            .and_then(|t| t.render(&view))
            .map_err(|e| bug(format!("rendering {dir}/{}: {e:#}", view.step)))?;
        if !text.is_ascii() || text.contains('\r') {
            return Err(bug(format!("{dir}/{} is not LF-only ASCII", view.step)));
        }
        files.push(OutputFile {
            path: format!("{}/{dir}/{}.ps1", target.name(), view.step),
            target,
            host: Some(host_id.clone()),
            operations: ops.iter().map(|o| o.id.clone()).collect(),
            contents: text.into_bytes(),
        });
    }
    Ok(files)
}

/// The directory of a host: its sanitised id, made unique if two ids sanitise alike.
fn host_dir(dirs: &mut IndexMap<String, String>, host: &str) -> String {
    if let Some(d) = dirs.get(host) {
        return d.clone();
    }
    let base = sanitize_component(host);
    let mut dir = base.clone();
    let mut n = 2;
    while dirs.values().any(|d| *d == dir) {
        dir = format!("{base}-{n}");
        n += 1;
    }
    dirs.insert(host.to_string(), dir.clone());
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_load() {
        assert!(ENV.is_ok(), "{:?}", ENV.as_ref().err());
    }

    #[test]
    fn unquoted_strings_are_refused() {
        let mut env = environment().expect("environment");
        env.add_template("t", "{{ x }}").expect("template");
        let err = env
            .get_template("t")
            .and_then(|t| t.render(minijinja::context! { x => "a'b" }));
        assert!(err.is_err());
        env.add_template("u", "{{ x|psq }} {{ n }} {{ l|psq }} {{ b|psq }}")
            .expect("template");
        let ok = env
            .get_template("u")
            .and_then(|t| t.render(minijinja::context! { x => "a'b", n => 3, l => vec!["x", "y"], b => true }))
            .expect("renders");
        assert_eq!(ok, "'a''b' 3 @('x', 'y') $true");
    }

    #[test]
    fn host_dirs_are_unique() {
        let mut dirs = IndexMap::new();
        assert_eq!(host_dir(&mut dirs, "Hub01"), "hub01");
        assert_eq!(host_dir(&mut dirs, "hub01"), "hub01-2");
        assert_eq!(host_dir(&mut dirs, "Hub01"), "hub01");
    }
}
