//! The `iis` backend: per IIS host (EAS or SEG server), an applicationHost.config fragment,
//! the same settings as an appcmd.exe script, and a small PowerShell companion for the two
//! things appcmd cannot do idempotently (an exact Windows authentication provider list, the
//! HTTP.sys SSL binding).
//!
//! Files, below `iis/<host>/`:
//! - `applicationHost.fragment.config` (XML, LF line endings);
//! - `configure-iis.cmd` (CRLF line endings: cmd.exe is a CRLF tool — a batch file with bare
//!   LF mis-parses labels and `goto` near 512-byte boundaries);
//! - `configure-iis.ps1` when there are providers or a binding to set (LF, ASCII).

mod cmd;
mod plan;
mod ps;
mod schema;
mod xml;

pub(crate) use plan::{certificate_only, keeps_windows_auth};

use super::{owner, sanitize_component, BackendError, OutputFile, Target};
use crate::ir::{Ir, Operation};
use minijinja::{Environment, UndefinedBehavior};
use plan::HostPlan;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Whether this backend is complete.
pub(crate) const BUILT: bool = true;

/// The fragment's file name.
const FRAGMENT: &str = "applicationHost.fragment.config";
/// The appcmd script's file name.
const SCRIPT: &str = "configure-iis.cmd";
/// The PowerShell companion's file name.
const HELPER: &str = "configure-iis.ps1";

/// Errors of this backend.
type Fail = BackendError;

fn fail(message: String) -> Fail {
    BackendError {
        target: Target::Iis.name(),
        message,
    }
}

/// Renders the unit's `iis` artefacts: for every host with IIS-owned operations, in host order.
pub(crate) fn render(ir: &Ir) -> Result<Vec<OutputFile>, BackendError> {
    let ops: Vec<&Operation> = ir
        .operations
        .iter()
        .filter(|op| owner(op, ir) == Some(Target::Iis))
        .collect();
    if let Some(op) = ops.iter().find(|op| !ir.hosts.contains_key(&op.host)) {
        return Err(fail(format!("`{}` runs on unknown host `{}`", op.id, op.host)));
    }
    let env = ENV.as_ref().map_err(|e| fail(e.clone()))?;
    let mut dirs: BTreeMap<String, &str> = BTreeMap::new();
    let mut files = Vec::new();
    for host in ir.hosts.values() {
        let mine: Vec<&Operation> = ops.iter().copied().filter(|op| op.host == host.id).collect();
        if mine.is_empty() {
            continue;
        }
        let dir = sanitize_component(&host.id);
        if let Some(other) = dirs.insert(dir.clone(), &host.id) {
            return Err(fail(format!(
                "hosts `{other}` and `{}` would share the output directory `iis/{dir}`",
                host.id
            )));
        }
        let plan = plan::build(ir, host, mine)?;
        let ids: Vec<String> = plan.ops.iter().map(|op| op.id.clone()).collect();
        let file = |name: &str, operations: Vec<String>, contents: Vec<u8>| OutputFile {
            path: format!("iis/{dir}/{name}"),
            target: Target::Iis,
            host: Some(host.id.clone()),
            operations,
            contents,
        };
        files.push(file(FRAGMENT, ids.clone(), xml::fragment(ir, &plan)?));
        files.push(file(SCRIPT, ids, script(env, ir, &plan)?));
        if plan.needs_helper() {
            let mine = helper_ops(&plan).iter().map(|op| op.id.clone()).collect();
            files.push(file(HELPER, mine, helper(env, ir, &plan)?));
        }
    }
    Ok(files)
}

/// The environment, built once: parsing the templates for every unit of an estate would
/// dominate rendering time.
static ENV: LazyLock<Result<Environment<'static>, String>> = LazyLock::new(|| environment().map_err(|e| e.message));

/// The template environment: embedded templates, strict undefined values, and this
/// backend's escaping filters.
fn environment() -> Result<Environment<'static>, Fail> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.add_filter("rem", |s: String| cmd::comment(&s));
    env.add_filter("pscomment", |s: String| ps::comment(&s));
    env.add_filter("ps", |s: String| {
        ps::quote(&s).map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.message))
    });
    for (name, source) in [
        (
            "configure-iis.cmd",
            include_str!("../../../templates/iis/configure-iis.cmd.j2"),
        ),
        (
            "configure-iis.ps1",
            include_str!("../../../templates/iis/configure-iis.ps1.j2"),
        ),
    ] {
        env.add_template(name, source)
            .map_err(|e| fail(format!("template {name} does not parse: {e:#}")))?;
    }
    Ok(env)
}

fn render_template(env: &Environment<'_>, name: &str, view: impl Serialize) -> Result<String, Fail> {
    env.get_template(name)
        .and_then(|t| t.render(view))
        .map_err(|e| fail(format!("template {name}: {e:#}")))
}

/// An operation as the script headers list it.
#[derive(Serialize)]
struct OpView<'a> {
    id: &'a str,
    source: &'a str,
}

fn op_views<'a>(ops: &[&'a Operation]) -> Vec<OpView<'a>> {
    ops.iter()
        .map(|op| OpView {
            id: &op.id,
            source: op.source_file(),
        })
        .collect()
}

/// The view of `configure-iis.cmd`: commands are complete lines, every user string in them
/// already quoted by [`cmd::quote`].
#[derive(Serialize)]
struct ScriptView<'a> {
    host: &'a str,
    unit: &'a str,
    sources: String,
    operations: Vec<OpView<'a>>,
    notes: Vec<&'static str>,
    appcmd: &'static str,
    restart: bool,
    restart_says: &'static str,
    steps: Vec<Step>,
    reminders: Vec<String>,
}

/// One numbered step of the script.
#[derive(Serialize)]
struct Step {
    /// Shown with `echo`: fixed text, no user strings.
    title: String,
    /// Complete script lines (commands end in `|| goto :fail` where they can fail).
    lines: Vec<String>,
}

fn step(title: &str, lines: Vec<String>) -> Step {
    debug_assert!(cmd::is_echo_safe(title), "step title {title:?} is not safe for echo");
    Step {
        title: title.to_string(),
        lines,
    }
}

/// Lines that end the script when a command fails.
fn or_fail(commands: Vec<String>) -> Vec<String> {
    commands.into_iter().map(|c| format!("{c} || goto :fail")).collect()
}

/// The lines that bring every attribute of `s` (at `path`, or the server) to its value,
/// writing only those that differ; labels are numbered from `step`.
fn ensure_section(
    path: Option<&str>,
    s: &plan::Section,
    step: usize,
    counter: &mut usize,
) -> Result<Vec<String>, Fail> {
    let mut lines = Vec::new();
    for (attribute, value) in &s.attributes {
        *counter += 1;
        let section = s.name;
        let attribute: &str = attribute;
        let e = cmd::Ensure {
            label: format!("s{step}_{counter}"),
            list: cmd::list_config(path, section, attribute)?,
            value,
            set: Box::new(move |v: &str| cmd::set_config(path, section, &[(attribute, v)])),
            keep_ssl128: section == schema::ACCESS && attribute == schema::SSL_FLAGS,
            // "If you use any other method [than IIS Manager] to set this attribute, you
            // must restart the Web server" (clientCertificateMappingAuthentication).
            on_change: if section == schema::CERT_MAPPING {
                cmd::OnChange::Restart
            } else {
                cmd::OnChange::Changed
            },
        };
        lines.extend(e.lines()?);
    }
    Ok(lines)
}

fn script(env: &Environment<'_>, ir: &Ir, plan: &HostPlan<'_>) -> Result<Vec<u8>, Fail> {
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    if !plan.features.is_empty() {
        notes.push("Add-WindowsFeature is the Windows Server 2008 R2 name of Install-WindowsFeature; it installs only what is missing.");
        steps.push(step(
            "Install the IIS role services",
            or_fail(vec![format!(
                "powershell.exe -NoProfile -NonInteractive -Command \"Import-Module ServerManager; $r = Add-WindowsFeature -Name {}; if (-not $r.Success) {{ exit 1 }}\"",
                plan.features.join(", ")
            )]),
        ));
    }
    let mut exist = Vec::new();
    for site in &plan.sites {
        exist.push(cmd::list("site", site)?);
    }
    for app in &plan.applications {
        exist.push(cmd::list("app", app)?);
    }
    for pool in &plan.pools {
        exist.push(cmd::list("apppool", &pool.name)?);
    }
    if !exist.is_empty() {
        steps.push(step(
            "Check that the IIS sites, applications and pools exist",
            or_fail(exist),
        ));
    }
    if !plan.server.is_empty() || !plan.pools.is_empty() {
        let n = steps.len() + 1;
        let mut counter = 0;
        let mut lines = Vec::new();
        for pool in &plan.pools {
            counter += 1;
            let name = pool.name.as_str();
            let e = cmd::Ensure {
                label: format!("s{n}_{counter}"),
                list: cmd::list_pool_identity(name)?,
                value: pool.identity,
                set: Box::new(move |v: &str| cmd::set_pool_identity(name, v)),
                keep_ssl128: false,
                on_change: cmd::OnChange::Changed,
            };
            lines.extend(e.lines()?);
        }
        for s in &plan.server {
            lines.extend(ensure_section(None, s, n, &mut counter)?);
        }
        steps.push(step("Server level settings", lines));
    }
    for l in &plan.locations {
        let n = steps.len() + 1;
        let mut counter = 0;
        let mut lines = Vec::new();
        for s in &l.sections {
            lines.extend(ensure_section(Some(&l.path), s, n, &mut counter)?);
        }
        let title = if l.application {
            "Settings of the application"
        } else {
            "Settings of the site"
        };
        steps.push(step(title, lines));
    }
    if plan.needs_helper() {
        let what = match (plan.binding.is_some(), !plan.provider_locations().is_empty()) {
            (true, true) => "Windows authentication providers and the HTTP.sys SSL binding, with configure-iis.ps1",
            (true, false) => "The HTTP.sys SSL binding, with configure-iis.ps1",
            _ => "Windows authentication providers, with configure-iis.ps1",
        };
        steps.push(step(
            what,
            or_fail(vec![format!(
                "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File \"%~dp0{HELPER}\""
            )]),
        ));
    }
    if plan.restart {
        steps.push(step(
            "Restart IIS only if the AD client certificate mapping changed",
            vec![
                "if not defined RESTART goto :no_restart".to_string(),
                format!("echo {RESTART_SAYS}"),
                "iisreset /noforce || goto :fail".to_string(),
                "goto :restarted".to_string(),
                ":no_restart".to_string(),
                "echo Nothing that needs a restart changed: IIS keeps running.".to_string(),
                ":restarted".to_string(),
            ],
        ));
    }
    let reminders = plan
        .seg_exchange_hosts
        .iter()
        .map(|h| format!("Check: the SEG web.config in its Web Listener folder must name {h} as the Exchange host."))
        .inspect(|r| debug_assert!(cmd::is_echo_safe(r)))
        .collect();
    let view = ScriptView {
        host: &plan.host.id,
        unit: &ir.unit,
        sources: ir.sources.join(", "),
        operations: op_views(&plan.ops),
        notes,
        appcmd: cmd::APPCMD,
        restart: plan.restart,
        restart_says: RESTART_SAYS,
        steps,
        reminders,
    };
    let text = render_template(env, "configure-iis.cmd", view)?;
    // cmd.exe expects CRLF; every user string was checked to hold no CR or LF of its own.
    Ok(text.replace('\n', "\r\n").into_bytes())
}

/// What the restart step says before `iisreset`: which services restart.
const RESTART_SAYS: &str = "The AD client certificate mapping changed: iisreset restarts the IIS services W3SVC, WAS and IISADMIN, so every site and application pool on this server restarts, OWA, EWS, ActiveSync and Outlook Anywhere included.";

/// The view of `configure-iis.ps1`: user strings raw, quoted by the `ps` filter.
#[derive(Serialize)]
struct HelperView<'a> {
    host: &'a str,
    unit: &'a str,
    sources: String,
    operations: Vec<OpView<'a>>,
    provider_locations: Vec<&'a str>,
    providers: &'static [&'static str],
    binding: Option<BindingView<'a>>,
    fqdns: String,
}

#[derive(Serialize)]
struct BindingView<'a> {
    /// `dsmapperusage` is enabled (never disabled: something else may rely on it).
    ds_mapper: bool,
    /// Client certificates are requested, so `-NegotiateClientCertificate` is offered.
    negotiate_helps: bool,
    /// The sites whose https bindings are the default list.
    sites: &'a [String],
    /// The certificate to bind (a SEG's): name and issued file.
    certificate: Option<&'a str>,
    certificate_file: Option<&'a str>,
}

/// The operations the companion carries out: the binding (client certificates, a SEG's
/// certificate) and the provider lists (Windows authentication); not the application pool
/// of a SEG.
fn helper_ops<'a>(plan: &HostPlan<'a>) -> Vec<&'a Operation> {
    plan.ops
        .iter()
        .copied()
        .filter(|op| {
            matches!(
                op.action,
                crate::ir::Action::IisClientCertificates { .. }
                    | crate::ir::Action::IisWindowsAuth { .. }
                    | crate::ir::Action::SegConfig {
                        certificate: Some(_),
                        ..
                    }
            )
        })
        .collect()
}

fn helper(env: &Environment<'_>, ir: &Ir, plan: &HostPlan<'_>) -> Result<Vec<u8>, Fail> {
    let mut fqdns: Vec<&str> = Vec::new();
    for op in &plan.ops {
        if let crate::ir::Action::IisClientCertificates { fqdn, .. } = &op.action {
            if !fqdns.contains(&fqdn.as_str()) {
                fqdns.push(fqdn);
            }
        }
    }
    if fqdns.is_empty() {
        fqdns.extend(plan.host.fqdn.as_deref());
    }
    let view = HelperView {
        host: &plan.host.id,
        unit: &ir.unit,
        sources: ir.sources.join(", "),
        operations: op_views(&helper_ops(plan)),
        provider_locations: plan.provider_locations(),
        providers: &schema::WINDOWS_PROVIDERS,
        binding: plan.binding.as_ref().map(|b| BindingView {
            ds_mapper: b.ds_mapper,
            negotiate_helps: b.negotiate_helps,
            sites: &b.sites,
            certificate: b.certificate.as_ref().map(|(c, _)| c.as_str()),
            certificate_file: b.certificate.as_ref().map(|(_, f)| f.as_str()),
        }),
        fqdns: fqdns.join(", "),
    };
    Ok(render_template(env, "configure-iis.ps1", view)?.into_bytes())
}
