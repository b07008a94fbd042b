//! `applicationHost.fragment.config`: the plan as an applicationHost.config fragment, written
//! with quick-xml's writer (attribute values escaped by the writer, never by hand).

use super::plan::{HostPlan, Section};
use super::schema::{ACCESS, APP_POOLS, PROVIDERS, SSL_FLAGS};
use super::{fail, Fail};
use crate::ir::Ir;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// An element to write: name, attributes, children, and a comment written just before it.
struct Node {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Node>,
    comment: Option<String>,
}

impl Node {
    fn new(name: &str) -> Self {
        Node {
            name: name.to_string(),
            attributes: Vec::new(),
            children: Vec::new(),
            comment: None,
        }
    }

    fn attr(mut self, name: &str, value: &str) -> Self {
        self.attributes.push((name.to_string(), value.to_string()));
        self
    }

    /// The child called `name` that has no attributes (a section group), created if missing.
    fn group(&mut self, name: &str) -> &mut Node {
        let i = match self
            .children
            .iter()
            .position(|c| c.name == name && c.attributes.is_empty())
        {
            Some(i) => i,
            None => {
                self.children.push(Node::new(name));
                self.children.len() - 1
            }
        };
        &mut self.children[i]
    }

    /// Puts `element` at `path` (`system.webServer/security/access` → groups
    /// `system.webServer`, `security`, then the element itself).
    fn place(&mut self, path: &str, element: Node) {
        let mut at = self;
        let parts: Vec<&str> = path.split('/').collect();
        for group in &parts[..parts.len() - 1] {
            at = at.group(group);
        }
        at.children.push(element);
    }
}

/// The element for one section: its attributes, and for `windowsAuthentication` the exact
/// provider list (`<clear />` first, so inherited providers cannot duplicate or reorder it).
fn section(s: &Section) -> Node {
    let name = s.name.rsplit('/').next().unwrap_or(s.name);
    let mut node = Node::new(name);
    for (k, v) in &s.attributes {
        node = node.attr(k, v);
    }
    if let Some(providers) = s.providers {
        let mut list = Node::new(PROVIDERS);
        list.children.push(Node::new("clear"));
        for p in providers {
            list.children.push(Node::new("add").attr("value", p));
        }
        node.children.push(list);
    }
    node
}

/// Writes the fragment for one host.
pub(super) fn fragment(ir: &Ir, plan: &HostPlan<'_>) -> Result<Vec<u8>, Fail> {
    let mut root = Node::new("configuration");
    if !plan.pools.is_empty() {
        let mut pools = Node::new("applicationPools");
        for pool in &plan.pools {
            pools.children.push(Node {
                children: vec![Node::new("processModel").attr("identityType", pool.identity)],
                ..Node::new("add").attr("name", &pool.name)
            });
        }
        root.place(APP_POOLS, pools);
    }
    for s in &plan.server {
        root.place(s.name, section(s));
    }
    for l in &plan.locations {
        // No overrideMode: applicationHost.config itself may set a locked section inside a
        // <location>, as `appcmd set config … /commit:apphost` does; "Allow" would unlock the
        // sections for the application's web.config, which could then weaken them.
        let mut node = Node::new("location").attr("path", &l.path);
        node.comment = Some(format!(
            "{}: {}",
            if l.application { "application" } else { "site" },
            l.ops.join(", ")
        ));
        for s in &l.sections {
            node.place(s.name, section(s));
        }
        root.children.push(node);
    }

    let host = &plan.host.id;
    let mut header = vec![
        format!("mailsec: IIS configuration for host {host} (unit {}).", ir.unit),
        format!(
            "Generated from {}; do not edit: change the intent and rebuild.",
            ir.sources.join(", ")
        ),
        "Operations:".to_string(),
    ];
    header.extend(plan.ops.iter().map(|op| format!("  {} ({})", op.id, op.source_file())));
    header.extend([
        String::new(),
        r"A fragment of %windir%\system32\inetsrv\config\applicationHost.config, not a whole file:".to_string(),
        "set these attributes on the existing elements. A section may appear only once per".to_string(),
        "location path in a file, so merge a <location> into the existing one of the same path.".to_string(),
        "configure-iis.cmd makes the same changes with appcmd.exe (/commit:apphost).".to_string(),
        "Not in this file: the HTTP.sys SSL binding (DS mapper, client certificate negotiation)".to_string(),
        "and the Windows features; configure-iis.cmd does those too.".to_string(),
    ]);
    if plan.locations.iter().any(|l| {
        l.sections
            .iter()
            .any(|s| s.name == ACCESS && s.attributes.contains_key(SSL_FLAGS))
    }) {
        header.push("sslFlags: keep Ssl128 (Require 128-bit SSL) where the existing value has it;".to_string());
        header.push("configure-iis.cmd does.".to_string());
    }
    for h in &plan.seg_exchange_hosts {
        header.push(format!(
            "The SEG's web.config (Web Listener folder) must name {h} as its Exchange host."
        ));
    }
    if plan.restart {
        header.push("Restart IIS if the AD client certificate mapping changed: it takes effect after a".to_string());
        header.push("restart (configure-iis.cmd restarts only then).".to_string());
    }

    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write(&mut w, &header, &root).map_err(|e| fail(format!("writing the XML fragment: {e}")))?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}

fn write(w: &mut Writer<Vec<u8>>, header: &[String], root: &Node) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    let text: Vec<String> = header.iter().map(|l| comment_text(l)).collect();
    w.write_event(Event::Comment(BytesText::from_escaped(
        format!("\n  {}\n", text.join("\n  ")).replace("  \n", "\n"),
    )))?;
    node(w, root)
}

fn node(w: &mut Writer<Vec<u8>>, n: &Node) -> std::io::Result<()> {
    if let Some(c) = &n.comment {
        w.write_event(Event::Comment(BytesText::from_escaped(format!(
            " {} ",
            comment_text(c)
        ))))?;
    }
    let mut start = BytesStart::new(n.name.as_str());
    for (k, v) in &n.attributes {
        start.push_attribute((k.as_str(), v.as_str()));
    }
    if n.children.is_empty() {
        return w.write_event(Event::Empty(start));
    }
    w.write_event(Event::Start(start))?;
    for c in &n.children {
        node(w, c)?;
    }
    w.write_event(Event::End(BytesEnd::new(n.name.as_str())))
}

/// Text that may stand inside `<!-- … -->`: no `--`, no control characters.
fn comment_text(s: &str) -> String {
    let mut t: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    while t.contains("--") {
        t = t.replace("--", "- -");
    }
    t
}
