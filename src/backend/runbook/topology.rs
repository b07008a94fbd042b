//! The topology diagram: hosts and the paths between them (TLS, client certificates,
//! Kerberos constrained delegation, SMTP to and from partners), derived from the IR. It is
//! written twice: as Mermaid source for the Markdown, and as SVG laid out here (layers from
//! left to right) so the HTML shows it without any script or network access.

use super::cx::Cx;
use super::escape::{mermaid as mm, xml};
use crate::ir::{Action, EasAuth, HostKind};
use std::fmt::Write as _;

/// What a box stands for; decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Device,
    Gateway,
    Exchange,
    Directory,
    Pki,
    External,
}

impl Kind {
    fn class(self) -> &'static str {
        match self {
            Kind::Device => "device",
            Kind::Gateway => "gateway",
            Kind::Exchange => "exchange",
            Kind::Directory => "directory",
            Kind::Pki => "pki",
            Kind::External => "external",
        }
    }

    fn colors(self) -> (&'static str, &'static str) {
        match self {
            Kind::Device => ("#eef2ff", "#6366f1"),
            Kind::Gateway => ("#fff7ed", "#ea580c"),
            Kind::Exchange => ("#eff6ff", "#2563eb"),
            Kind::Directory => ("#f0fdf4", "#16a34a"),
            Kind::Pki => ("#fdf4ff", "#a21caf"),
            Kind::External => ("#f8fafc", "#64748b"),
        }
    }
}

/// A box.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Key used to find it again (host id or a derived key).
    key: String,
    pub(crate) title: String,
    pub(crate) lines: Vec<String>,
    pub(crate) kind: Kind,
}

/// An arrow.
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) label: String,
    /// Kerberos and out-of-band exchanges are dashed; network paths solid.
    pub(crate) dashed: bool,
}

/// The diagram.
#[derive(Debug, Clone, Default)]
pub(crate) struct Graph {
    pub(crate) nodes: Vec<Node>,
    pub(crate) edges: Vec<Edge>,
}

impl Graph {
    fn find(&self, key: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.key == key)
    }

    fn node(&mut self, key: &str, title: &str, lines: Vec<String>, kind: Kind) -> usize {
        if let Some(i) = self.find(key) {
            return i;
        }
        self.nodes.push(Node {
            key: key.to_string(),
            title: title.to_string(),
            lines,
            kind,
        });
        self.nodes.len() - 1
    }

    fn edge(&mut self, from: usize, to: usize, label: &str, dashed: bool) {
        if from == to {
            return;
        }
        if let Some(e) = self.edges.iter_mut().find(|e| e.from == from && e.to == to) {
            if !e.label.split("; ").any(|l| l == label) {
                e.label.push_str("; ");
                e.label.push_str(label);
            }
            e.dashed &= dashed;
            return;
        }
        self.edges.push(Edge {
            from,
            to,
            label: label.to_string(),
            dashed,
        });
    }

    /// Whether any edge ends at `to` and starts at a gateway or delegating host.
    fn fronted(&self, to: usize) -> bool {
        self.edges
            .iter()
            .any(|e| e.to == to && self.nodes[e.from].kind == Kind::Gateway)
    }
}

/// The server roles as an administrator reads them (`Hub Transport, Mailbox`).
pub(super) fn role_words(roles: &[String]) -> String {
    roles
        .iter()
        .map(|r| match r.as_str() {
            "hub_transport" => "Hub Transport",
            "client_access" => "Client Access",
            "mailbox" => "Mailbox",
            "edge" => "Edge Transport",
            "eas" => "ActiveSync",
            "seg" => "Secure Email Gateway",
            "tmg" => "Forefront TMG",
            "domain_controller" => "domain controller",
            "ca" => "certificate authority",
            "ndes" => "NDES (SCEP)",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn host_kind(roles: &[String]) -> Kind {
    let has = |r: &str| roles.iter().any(|x| x == r);
    if has("tmg") || has("seg") {
        Kind::Gateway
    } else if has("domain_controller") {
        Kind::Directory
    } else if has("ca") || has("ndes") {
        Kind::Pki
    } else {
        Kind::Exchange
    }
}

const DEVICES: &str = "#devices";
const DCS: &str = "#domain-controllers";

/// Host id → node, merging all domain controllers into one box.
fn host_node(g: &mut Graph, cx: &Cx, id: &str) -> usize {
    let Some(h) = cx.host(id) else {
        return g.node(id, id, Vec::new(), Kind::External);
    };
    match h.kind {
        HostKind::Server if h.roles.iter().any(|r| r == "domain_controller") => {
            let lines = cx
                .domain_controllers()
                .iter()
                .map(|d| d.fqdn.clone().unwrap_or_else(|| d.id.clone()))
                .collect();
            g.node(DCS, "Domain controllers (KDC)", lines, Kind::Directory)
        }
        HostKind::Server => {
            let mut lines = vec![h.fqdn.clone().unwrap_or_default()];
            if !h.roles.is_empty() {
                lines.push(role_words(&h.roles));
            }
            g.node(&h.id, &h.id, lines, host_kind(&h.roles))
        }
        HostKind::Clients => g.node(DEVICES, "Devices and mail clients", Vec::new(), Kind::Device),
        HostKind::WorkspaceOne => g.node(&h.id, "Workspace ONE UEM", vec!["console".into()], Kind::External),
        HostKind::ExchangeOnline => {
            let lines = cx.ir.organization.tenant.iter().cloned().collect();
            g.node(&h.id, "Exchange Online", lines, Kind::External)
        }
        HostKind::ActiveDirectory => g.node(
            DCS,
            "Active Directory",
            cx.ir.organization.ad_domain.iter().cloned().collect(),
            Kind::Directory,
        ),
        HostKind::Partner => g.node(
            &h.id,
            "Issuing party",
            vec!["partner or public CA".into()],
            Kind::External,
        ),
    }
}

fn devices(g: &mut Graph) -> usize {
    g.node(DEVICES, "Devices and mail clients", Vec::new(), Kind::Device)
}

fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', ':']).next().unwrap_or(rest)
}

/// Builds the diagram from the IR.
pub(crate) fn graph(cx: &Cx) -> Graph {
    let mut g = Graph::default();
    // Hosts first, in declaration order, so the layout is stable.
    for id in cx.ir.hosts.keys() {
        host_node(&mut g, cx, id);
    }
    let ops: Vec<_> = cx.ops().collect();
    for op in &ops {
        match &op.action {
            Action::ReceiveConnector {
                name, remote_ips, fqdn, ..
            } => {
                let mut lines: Vec<String> = remote_ips.iter().take(4).cloned().collect();
                if remote_ips.len() > 4 {
                    lines.push(format!("and {} more", remote_ips.len() - 4));
                }
                let from = g.node(
                    &format!("#senders/{name}"),
                    "Partner TLS-OUT servers",
                    lines,
                    Kind::External,
                );
                let to = host_node(&mut g, cx, &op.host);
                let label = match fqdn {
                    Some(f) => format!("SMTP + TLS to {name} (HELO {f})"),
                    None => format!("SMTP + TLS to {name}"),
                };
                g.edge(from, to, &label, false);
            }
            Action::SendConnector {
                smart_hosts,
                require_tls,
                auth_mechanism,
                ..
            } => {
                let from = host_node(&mut g, cx, &op.host);
                let mut label = String::from("SMTP");
                if *require_tls {
                    label.push_str(", TLS required");
                }
                if auth_mechanism == "BasicAuth" {
                    label.push_str(", Basic auth");
                }
                if smart_hosts.is_empty() {
                    let to = g.node("#internet", "Internet (DNS MX)", Vec::new(), Kind::External);
                    g.edge(from, to, &label, false);
                }
                for s in smart_hosts {
                    let to = g.node(
                        &format!("#smarthost/{s}"),
                        "Partner smart host",
                        vec![s.clone()],
                        Kind::External,
                    );
                    g.edge(from, to, &label, false);
                }
            }
            Action::SubmitRequest { certificate, .. } => {
                let requester = ops.iter().find_map(|o| match &o.action {
                    Action::RequestCertificate { certificate: c, .. } if c == certificate => Some(o.host.clone()),
                    _ => None,
                });
                if let Some(r) = requester {
                    let from = host_node(&mut g, cx, &r);
                    let to = host_node(&mut g, cx, &op.host);
                    g.edge(from, to, "certificate request (out of band)", true);
                }
            }
            Action::TmgListener { auth, .. } => {
                let from = devices(&mut g);
                let to = host_node(&mut g, cx, &op.host);
                let label = if auth == "client_certificate" {
                    "HTTPS + client certificate"
                } else {
                    "HTTPS"
                };
                g.edge(from, to, label, false);
            }
            Action::TmgPublishingRule {
                internal_site,
                farm,
                delegation,
                spn,
                ssl_to_server,
                ..
            } => {
                let from = host_node(&mut g, cx, &op.host);
                let mut label = String::from(if *ssl_to_server { "HTTPS" } else { "HTTP" });
                if delegation == "kerberos" {
                    label.push_str(" + KCD ");
                    label.push_str(&crate::ir::tmg_delegation_spn(spn.as_deref(), internal_site, farm));
                }
                let targets: Vec<String> = if farm.is_empty() {
                    vec![internal_site.clone()]
                } else {
                    farm.clone()
                };
                for t in targets {
                    let to = match cx.host_by_fqdn(&t) {
                        Some(h) => host_node(&mut g, cx, &h.id.clone()),
                        None => g.node(&format!("#site/{t}"), &t, Vec::new(), Kind::Exchange),
                    };
                    g.edge(from, to, &label, false);
                }
            }
            Action::TmgServerPublishing { published_server, .. } => {
                // TLS passes through TMG: the device's session ends on the published server.
                let from = devices(&mut g);
                let tmg = host_node(&mut g, cx, &op.host);
                g.edge(from, tmg, "HTTPS (TLS passed through)", false);
                if let Some(h) = cx.host_by_fqdn(published_server) {
                    let to = host_node(&mut g, cx, &h.id.clone());
                    g.edge(tmg, to, "HTTPS + client certificate (same TLS session)", false);
                }
            }
            Action::AllowDelegation { from, spns, .. } => {
                let src = host_node(&mut g, cx, from);
                for s in spns {
                    let target = s.split_once('/').map_or(s.as_str(), |(_, h)| h);
                    let mut to_hosts: Vec<String> = cx.host_by_fqdn(target).map(|h| h.id.clone()).into_iter().collect();
                    if to_hosts.is_empty() {
                        // An alternate service account stands for the array members.
                        for o in &ops {
                            if let Action::AlternateServiceAccount {
                                array_fqdn, members, ..
                            } = &o.action
                            {
                                if array_fqdn.eq_ignore_ascii_case(target) {
                                    to_hosts.extend(
                                        members.iter().filter_map(|m| cx.host_by_fqdn(m)).map(|h| h.id.clone()),
                                    );
                                }
                            }
                        }
                    }
                    for t in to_hosts {
                        let to = host_node(&mut g, cx, &t);
                        g.edge(src, to, &format!("HTTPS + KCD {s}"), false);
                    }
                }
                let dc = cx.domain_controllers().first().map(|h| h.id.clone());
                if let Some(dc) = dc {
                    let to = host_node(&mut g, cx, &dc);
                    g.edge(src, to, "Kerberos (S4U)", true);
                }
            }
            Action::Ws1Authority { url, ca_type, .. } => {
                let from = host_node(&mut g, cx, &op.host);
                let host = url_host(url);
                let to = match cx.host_by_fqdn(host) {
                    Some(h) => host_node(&mut g, cx, &h.id.clone()),
                    None => g.node(
                        &format!("#ca/{host}"),
                        "Certificate authority",
                        vec![host.to_string()],
                        Kind::Pki,
                    ),
                };
                let label = if ca_type == "adcs" {
                    "AD CS request (service account)"
                } else {
                    "SCEP request"
                };
                g.edge(from, to, label, false);
            }
            Action::Ws1Profile { .. } => {
                let from = host_node(&mut g, cx, &op.host);
                let to = devices(&mut g);
                g.edge(from, to, "profile + certificate", true);
            }
            Action::CheckCdp { urls, .. } => {
                let from = host_node(&mut g, cx, &op.host);
                for u in urls {
                    let h = url_host(u);
                    let to = g.node(
                        &format!("#cdp/{h}"),
                        "CRL distribution point",
                        vec![h.to_string()],
                        Kind::Pki,
                    );
                    g.edge(from, to, "CRL over HTTP, no proxy", true);
                }
            }
            Action::PublishNtAuth { .. } => {
                let to = host_node(&mut g, cx, &op.host);
                for ca in cx.hosts_with("ca") {
                    let from = host_node(&mut g, cx, &ca.id.clone());
                    g.edge(from, to, "CA certificate in NTAuth", true);
                }
            }
            Action::SmimeConfig { online, .. } => {
                let to = host_node(&mut g, cx, &op.host);
                let from = devices(&mut g);
                g.edge(
                    from,
                    to,
                    if *online {
                        "S/MIME mail (certificates in the GAL)"
                    } else {
                        "S/MIME mail"
                    },
                    false,
                );
            }
            Action::DirectorySync { .. } => {
                let from = host_node(&mut g, cx, &op.host);
                if let Some(exo) = cx.ir.hosts.values().find(|h| h.kind == HostKind::ExchangeOnline) {
                    let to = host_node(&mut g, cx, &exo.id.clone());
                    g.edge(from, to, "directory sync (userCertificate, userSMIMECertificate)", true);
                }
            }
            _ => {}
        }
    }
    // Devices reach the web servers that nothing fronts.
    for op in &ops {
        let (label, host) = match &op.action {
            Action::IisClientCertificates { .. } => ("HTTPS + client certificate", &op.host),
            Action::ActiveSyncDirectory { auth, .. } => (
                match auth {
                    EasAuth::Password => "HTTPS (user name and password)",
                    // Reached only through the delegating hop's edge.
                    EasAuth::Kerberos => continue,
                    _ => "HTTPS + client certificate",
                },
                &op.host,
            ),
            _ => continue,
        };
        let to = host_node(&mut g, cx, host);
        if g.fronted(to) {
            continue;
        }
        let from = devices(&mut g);
        if !g.edges.iter().any(|e| e.from == from && e.to == to) {
            g.edge(from, to, label, false);
        }
    }
    g
}

/// The diagram as a Mermaid `flowchart LR`.
pub(crate) fn mermaid(g: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    for (i, n) in g.nodes.iter().enumerate() {
        let mut label = mm(&n.title);
        for l in &n.lines {
            label.push_str("<br/>");
            label.push_str(&mm(l));
        }
        let _ = writeln!(out, "  n{i}[\"{label}\"]");
    }
    for e in &g.edges {
        let arrow = if e.dashed { "-.->" } else { "-->" };
        let _ = writeln!(out, "  n{} {arrow}|\"{}\"| n{}", e.from, mm(&e.label), e.to);
    }
    for kind in [
        Kind::Device,
        Kind::Gateway,
        Kind::Exchange,
        Kind::Directory,
        Kind::Pki,
        Kind::External,
    ] {
        let members: Vec<String> = g
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.kind == kind)
            .map(|(i, _)| format!("n{i}"))
            .collect();
        if members.is_empty() {
            continue;
        }
        let (fill, stroke) = kind.colors();
        let _ = writeln!(out, "  classDef {} fill:{fill},stroke:{stroke}", kind.class());
        let _ = writeln!(out, "  class {} {}", members.join(","), kind.class());
    }
    out.trim_end().to_string()
}

// Layout constants, in SVG user units (pixels at 100 %).
const CHAR_W: f64 = 7.4;
const LABEL_CHAR_W: f64 = 6.3;
const LINE_H: f64 = 16.0;
const PAD: f64 = 10.0;
const V_GAP: f64 = 30.0;
const MARGIN: f64 = 16.0;
const LABEL_WRAP: usize = 22;

fn text_width(s: &str, w: f64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let n = s.chars().count() as f64;
    n * w
}

/// Splits a label into lines of at most [`LABEL_WRAP`] characters at spaces.
fn wrap(s: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in s.split(' ') {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > LABEL_WRAP {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Layers by longest path from the sources (edges that would close a cycle are ignored).
fn layers(g: &Graph) -> Vec<usize> {
    let n = g.nodes.len();
    let mut layer = vec![0usize; n];
    for _ in 0..n {
        let mut changed = false;
        for e in &g.edges {
            if layer[e.to] < layer[e.from] + 1 && layer[e.from] + 1 < n {
                layer[e.to] = layer[e.from] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // A box that only points to others sits just left of the nearest of them, so its arrows
    // stay short (a CA pointing at the domain controllers need not start at the far left).
    for _ in 0..n {
        let mut changed = false;
        for i in 0..n {
            if g.edges.iter().any(|e| e.to == i) {
                continue;
            }
            let nearest = g.edges.iter().filter(|e| e.from == i).map(|e| layer[e.to]).min();
            if let Some(t) = nearest {
                if t > layer[i] + 1 {
                    layer[i] = t - 1;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // Boxes without arrows go to the rightmost column, out of the way.
    let max = layer.iter().copied().max().unwrap_or(0);
    for (i, l) in layer.iter_mut().enumerate() {
        if !g.edges.iter().any(|e| e.from == i || e.to == i) {
            *l = max;
        }
    }
    layer
}

fn fmt(v: f64) -> String {
    // One decimal, no "-0.0": byte-stable across platforms.
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// The diagram as a standalone inline SVG.
#[allow(clippy::too_many_lines, clippy::cast_precision_loss)]
pub(crate) fn svg(g: &Graph) -> String {
    let n = g.nodes.len();
    let layer = layers(g);
    let columns = layer.iter().copied().max().map_or(0, |m| m + 1);
    // Order inside each column: first by declaration, then by the mean position of the
    // boxes that point to it (one barycentre pass keeps arrows short and uncrossed).
    let mut cols: Vec<Vec<usize>> = vec![Vec::new(); columns];
    for i in 0..n {
        cols[layer[i]].push(i);
    }
    for c in 1..columns {
        let pos = |i: usize, cols: &Vec<Vec<usize>>| -> Option<f64> {
            let preds: Vec<f64> = g
                .edges
                .iter()
                .filter(|e| e.to == i && layer[e.from] < layer[i])
                .filter_map(|e| cols[layer[e.from]].iter().position(|&x| x == e.from).map(|p| p as f64))
                .collect();
            if preds.is_empty() {
                None
            } else {
                Some(preds.iter().sum::<f64>() / preds.len() as f64)
            }
        };
        let mut keyed: Vec<(f64, usize, usize)> = cols[c]
            .iter()
            .enumerate()
            .map(|(k, &i)| (pos(i, &cols).unwrap_or(k as f64), k, i))
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        cols[c] = keyed.into_iter().map(|(_, _, i)| i).collect();
    }
    let width_of = |i: usize| -> f64 {
        let node = &g.nodes[i];
        let title = text_width(&node.title, CHAR_W + 1.0);
        let lines = node.lines.iter().map(|l| text_width(l, CHAR_W)).fold(0.0, f64::max);
        (title.max(lines) + 2.0 * PAD).max(120.0)
    };
    let height_of = |i: usize| -> f64 { 2.0 * PAD + LINE_H * (1 + g.nodes[i].lines.len()) as f64 };
    // Column widths and the gap after each column, wide enough for its arrow labels.
    let col_w: Vec<f64> = cols
        .iter()
        .map(|c| c.iter().map(|&i| width_of(i)).fold(0.0, f64::max))
        .collect();
    let mut gap = vec![90.0f64; columns];
    for e in &g.edges {
        let l = layer[e.from];
        if layer[e.to] == l + 1 {
            let w = wrap(&e.label)
                .iter()
                .map(|s| text_width(s, LABEL_CHAR_W))
                .fold(0.0, f64::max);
            gap[l] = gap[l].max(w + 40.0);
        }
    }
    let col_h: Vec<f64> = cols
        .iter()
        .map(|c| c.iter().map(|&i| height_of(i)).sum::<f64>() + V_GAP * c.len().saturating_sub(1) as f64)
        .collect();
    let total_h = col_h.iter().copied().fold(0.0, f64::max) + 2.0 * MARGIN + 24.0;
    let mut x = MARGIN;
    let mut boxes = vec![(0.0, 0.0, 0.0, 0.0); n];
    let mut col_left = vec![0.0f64; columns];
    for (c, members) in cols.iter().enumerate() {
        col_left[c] = x;
        let mut y = MARGIN + (total_h - 2.0 * MARGIN - 24.0 - col_h[c]) / 2.0;
        for &i in members {
            let (w, h) = (width_of(i), height_of(i));
            boxes[i] = (x + (col_w[c] - w) / 2.0, y, w, h);
            y += h + V_GAP;
        }
        x += col_w[c] + if c + 1 < columns { gap[c] } else { 0.0 };
    }
    let total_w = (x + MARGIN).max(480.0);
    let col_top: Vec<f64> = cols
        .iter()
        .map(|c| c.iter().map(|&i| boxes[i].1).fold(f64::INFINITY, f64::min))
        .collect();
    let col_bottom: Vec<f64> = cols
        .iter()
        .map(|c| c.iter().map(|&i| boxes[i].1 + boxes[i].3).fold(0.0, f64::max))
        .collect();
    // Ports: the arrows leaving (entering) a box are spread over its right (left) side, in
    // the vertical order of the boxes at their other end.
    let center = |i: usize| boxes[i].1 + boxes[i].3 / 2.0;
    let mut out_y = vec![0.0f64; g.edges.len()];
    let mut in_y = vec![0.0f64; g.edges.len()];
    for (i, &(_, by, _, bh)) in boxes.iter().enumerate() {
        let mut outs: Vec<usize> = (0..g.edges.len()).filter(|&k| g.edges[k].from == i).collect();
        outs.sort_by(|&a, &b| center(g.edges[a].to).total_cmp(&center(g.edges[b].to)).then(a.cmp(&b)));
        for (k, &e) in outs.iter().enumerate() {
            out_y[e] = by + bh * (k + 1) as f64 / (outs.len() + 1) as f64;
        }
        let mut ins: Vec<usize> = (0..g.edges.len()).filter(|&k| g.edges[k].to == i).collect();
        ins.sort_by(|&a, &b| {
            center(g.edges[a].from)
                .total_cmp(&center(g.edges[b].from))
                .then(a.cmp(&b))
        });
        for (k, &e) in ins.iter().enumerate() {
            in_y[e] = by + bh * (k + 1) as f64 / (ins.len() + 1) as f64;
        }
    }
    // Arrows first, boxes over them, labels last so nothing hides them.
    let mut arrows = String::new();
    let mut labels = String::new();
    let mut placed: Vec<(f64, f64, f64, f64)> = Vec::new();
    let mut lowest = total_h;
    for (k, e) in g.edges.iter().enumerate() {
        let (sx, _, sw, _) = boxes[e.from];
        let (tx, _, tw, _) = boxes[e.to];
        let (y1, y2) = (out_y[k], in_y[k]);
        let (ls, lt) = (layer[e.from], layer[e.to]);
        let forward = tx > sx + sw;
        let (x1, x2) = if forward { (sx + sw, tx) } else { (sx, tx + tw) };
        // The last leg, from (lx, ly) to the target, is a cubic curve; an arrow that skips
        // columns first runs past them, above or below their boxes.
        let mut d = format!("M{},{}", fmt(x1), fmt(y1));
        let (lx, ly) = if forward && lt > ls + 1 {
            let mids = ls + 1..lt;
            let top = mids.clone().map(|c| col_top[c]).fold(f64::INFINITY, f64::min) - 12.0;
            let bottom = mids.clone().map(|c| col_bottom[c]).fold(0.0, f64::max) + 12.0;
            let mid = (y1 + y2) / 2.0;
            let yw = if (mid - top).abs() <= (mid - bottom).abs() && top > 4.0 {
                top
            } else {
                bottom
            };
            lowest = lowest.max(yw + 40.0);
            let xa = col_left[ls + 1] - 8.0;
            let xb = col_left[lt - 1] + col_w[lt - 1] + 8.0;
            let da = ((xa - x1) / 2.0).max(10.0);
            let _ = write!(
                d,
                " C{},{} {},{} {},{} L{},{}",
                fmt(x1 + da),
                fmt(y1),
                fmt(xa - da),
                fmt(yw),
                fmt(xa),
                fmt(yw),
                fmt(xb),
                fmt(yw)
            );
            (xb, yw)
        } else {
            (x1, y1)
        };
        let dx = ((x2 - lx).abs() / 2.0).max(30.0);
        let (c1, c2) = if x2 >= lx {
            (lx + dx, x2 - dx)
        } else {
            (lx - dx, x2 + dx)
        };
        let _ = write!(
            d,
            " C{},{} {},{} {},{}",
            fmt(c1),
            fmt(ly),
            fmt(c2),
            fmt(y2),
            fmt(x2),
            fmt(y2)
        );
        let _ = write!(
            arrows,
            "<path d=\"{d}\" fill=\"none\" stroke=\"#334155\" stroke-width=\"1.4\"{} marker-end=\"url(#arrow)\"/>",
            if e.dashed { " stroke-dasharray=\"5 4\"" } else { "" }
        );
        let lines = wrap(&e.label);
        let lw = lines.iter().map(|s| text_width(s, LABEL_CHAR_W)).fold(0.0, f64::max) + 8.0;
        let lh = 14.0 * lines.len() as f64 + 4.0;
        // The label sits in the gap just before the target's column, where no box is: on
        // the last leg, at the point whose x is the middle of that gap.
        let gap_mid = if forward && lt > 0 {
            x2 - gap[lt - 1] / 2.0
        } else {
            (lx + x2) / 2.0
        };
        let point = |t: f64| {
            let u = 1.0 - t;
            (
                u * u * u * lx + 3.0 * u * u * t * c1 + 3.0 * u * t * t * c2 + t * t * t * x2,
                u * u * u * ly + 3.0 * u * u * t * ly + 3.0 * u * t * t * y2 + t * t * t * y2,
            )
        };
        let at_x = |want: f64| {
            (0..=100)
                .map(|i| point(f64::from(i) / 100.0))
                .min_by(|a, b| (a.0 - want).abs().total_cmp(&(b.0 - want).abs()))
                .unwrap_or(((lx + x2) / 2.0, (ly + y2) / 2.0))
        };
        let collides = |mx: f64, my: f64, placed: &[(f64, f64, f64, f64)]| {
            placed.iter().any(|(px, py, pw, ph)| {
                mx - lw / 2.0 < px + pw && *px < mx + lw / 2.0 && my - lh / 2.0 < py + ph && *py < my + lh / 2.0
            })
        };
        // Where the label would cover another one, try other points of the same leg first,
        // then move it down below the one it covers.
        let (mut mx, mut my) = at_x(gap_mid);
        if collides(mx, my, &placed) {
            let lo = lx.min(x2);
            let hi = lx.max(x2);
            let found = (1..=12)
                .flat_map(|k| [gap_mid - 15.0 * f64::from(k), gap_mid + 15.0 * f64::from(k)])
                .filter(|&x| x > lo + lw / 2.0 && x < hi - lw / 2.0)
                .map(at_x)
                .find(|&(x, y)| !collides(x, y, &placed));
            if let Some((x, y)) = found {
                (mx, my) = (x, y);
            }
        }
        while let Some((_, py, _, ph)) = placed.iter().find(|(px, py, pw, ph)| {
            mx - lw / 2.0 < px + pw && *px < mx + lw / 2.0 && my - lh / 2.0 < py + ph && *py < my + lh / 2.0
        }) {
            my = py + ph + lh / 2.0 + 1.0;
        }
        placed.push((mx - lw / 2.0, my - lh / 2.0, lw, lh));
        lowest = lowest.max(my + lh / 2.0 + 40.0);
        let _ = write!(
            labels,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.92\"/>",
            fmt(mx - lw / 2.0),
            fmt(my - lh / 2.0),
            fmt(lw),
            fmt(lh)
        );
        for (k, l) in lines.iter().enumerate() {
            let _ = write!(
                labels,
                "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#1e293b\">{}</text>",
                fmt(mx),
                fmt(my - lh / 2.0 + 13.0 + 14.0 * k as f64),
                xml(l)
            );
        }
    }
    let total_h = lowest;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"topology\" role=\"img\" aria-label=\"Topology diagram\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\">",
        fmt(total_w),
        fmt(total_h),
        fmt(total_w),
        fmt(total_h)
    );
    out.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#334155\"/></marker></defs>");
    out.push_str(&arrows);
    for (i, node) in g.nodes.iter().enumerate() {
        let (bx, by, bw, bh) = boxes[i];
        let (fill, stroke) = node.kind.colors();
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\"/>",
            fmt(bx),
            fmt(by),
            fmt(bw),
            fmt(bh)
        );
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"600\" text-anchor=\"middle\" fill=\"#0f172a\">{}</text>",
            fmt(bx + bw / 2.0),
            fmt(by + PAD + 12.0),
            xml(&node.title)
        );
        for (k, l) in node.lines.iter().enumerate() {
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#334155\">{}</text>",
                fmt(bx + bw / 2.0),
                fmt(by + PAD + 12.0 + LINE_H * (k + 1) as f64),
                xml(l)
            );
        }
    }
    out.push_str(&labels);
    // Legend.
    let ly = total_h - MARGIN - 6.0;
    let _ = write!(
        out,
        "<line x1=\"{m}\" y1=\"{y}\" x2=\"{m2}\" y2=\"{y}\" stroke=\"#334155\" stroke-width=\"1.4\"/><text x=\"{t}\" y=\"{ty}\" font-size=\"11\" fill=\"#334155\">network path (TLS)</text><line x1=\"{m3}\" y1=\"{y}\" x2=\"{m4}\" y2=\"{y}\" stroke=\"#334155\" stroke-width=\"1.4\" stroke-dasharray=\"5 4\"/><text x=\"{t2}\" y=\"{ty}\" font-size=\"11\" fill=\"#334155\">Kerberos, CRL or out-of-band exchange</text>",
        m = fmt(MARGIN),
        m2 = fmt(MARGIN + 28.0),
        y = fmt(ly),
        t = fmt(MARGIN + 34.0),
        ty = fmt(ly + 4.0),
        m3 = fmt(MARGIN + 170.0),
        m4 = fmt(MARGIN + 198.0),
        t2 = fmt(MARGIN + 204.0)
    );
    out.push_str("</svg>");
    out
}
