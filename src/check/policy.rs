//! Policy checks across blocks: TLS towards partners, names the products compare without
//! case, and reasoned suppressions (`allow CODE "why"`) applied to the findings of a unit.
//! Every check here is linear in the number of blocks (hash maps, no pairwise scans).

use super::{Checked, Unit};
use crate::diagnostics::{Code, Diag, Diagnostics};
use crate::source::{FileId, Span};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Runs the policy checks of a unit.
pub(crate) fn run(unit: &Unit, diags: &mut Diagnostics) {
    partner_tls(unit, diags);
    case_only_duplicates(&unit.blocks, diags);
}

/// A send connector to smart hosts or to named partner address spaces must require TLS.
/// With Basic credentials MS0201 already says so; this covers every other such connector.
fn partner_tls(unit: &Unit, diags: &mut Diagnostics) {
    for s in unit.of_kind("send_connector") {
        if s.secret("auth").is_some() || s.bool("require_tls") == Some(true) {
            continue;
        }
        // Written but invalid: already an error of its own.
        if s.given("require_tls") && !s.has("require_tls") {
            continue;
        }
        let smart_hosts = s.list("smart_hosts");
        let partner_spaces: Vec<(String, Span)> = s
            .list_spans("address_spaces")
            .into_iter()
            .filter(|(a, _)| a.trim() != "*")
            .collect();
        let (why, span) = if let Some(host) = smart_hosts.first() {
            (format!("smart host `{host}`"), s.span_of("smart_hosts"))
        } else if let Some((space, span)) = partner_spaces.first() {
            (format!("partner address space `{space}`"), *span)
        } else {
            continue;
        };
        let (primary, label) = if s.has("require_tls") {
            (s.span_of("require_tls"), "TLS not required")
        } else {
            (s.name_span(), "no `require_tls`")
        };
        diags.push(
            Diag::new(
                Code::PartnerTlsNotRequired,
                primary,
                format!("send connector `{}` routes to {why} without requiring TLS", s.name()),
            )
            .label(label)
            .with(span, "mail to one known party goes here")
            .help("add `require_tls = true`; if the partner cannot do TLS, write `allow MS0229 \"why\"` in the block"),
        );
    }
}

/// Names that differ only in case. Exact duplicates are MS0107 already.
fn case_only_duplicates(blocks: &[Checked], diags: &mut Diagnostics) {
    let keyed = blocks.iter().enumerate().filter_map(|(i, b)| {
        if b.kind() == "organization" || b.kind() == "retire" {
            return None;
        }
        let name = b.name.as_ref()?;
        let namespace = if b.spec.global_name { "" } else { b.kind() };
        Some((i, namespace, name))
    });
    // Every pair of names that differ only in case has a name with an upper-case letter:
    // only those names, and names equal to their lower case, need comparing. Most units
    // (and most names) have none, and lowering a million names costs more than the check.
    let mut folded: HashMap<&str, HashSet<String>> = HashMap::new();
    for (_, namespace, name) in keyed.clone().filter(|(_, _, name)| !is_lower(&name.text)) {
        folded.entry(namespace).or_default().insert(name.text.to_lowercase());
    }
    if folded.is_empty() {
        return;
    }
    let mut seen: HashMap<(&str, String), usize> = HashMap::new();
    for (i, namespace, name) in keyed {
        if is_lower(&name.text) && !folded.get(namespace).is_some_and(|f| f.contains(name.text.as_str())) {
            continue;
        }
        let key = (namespace, name.text.to_lowercase());
        match seen.get(&key) {
            None => {
                seen.insert(key, i);
            }
            Some(&first) => {
                let other = &blocks[first];
                if other.name() == name.text {
                    continue;
                }
                diags.push(
                    Diag::new(
                        Code::CaseOnlyDuplicate,
                        name.span,
                        format!("`{}` and `{}` differ only in case", name.text, other.name()),
                    )
                    .label("the same name to the product")
                    .with(other.name_span(), "first defined here")
                    .help("give each block a name that differs in more than case"),
                );
            }
        }
    }
}

/// Whether `text` is its own lower case, judged without allocating (ASCII only: any other
/// text is lowered to compare).
fn is_lower(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase())
}

/// Drops the findings each block's `allow CODE "why"` suppresses, and warns about
/// suppressions that matched nothing. A finding belongs to the block whose span holds its
/// primary span.
pub(crate) fn apply_suppressions(unit: &Unit, diags: &mut Diagnostics) {
    // Blocks with suppressions by (file, start): blocks do not overlap, so the block holding
    // a span is the last one starting at or before it.
    let mut by_start: BTreeMap<(FileId, u32), usize> = BTreeMap::new();
    for (i, b) in unit.blocks.iter().enumerate() {
        if !b.allows.is_empty() {
            by_start.insert((b.span.file, b.span.start), i);
        }
    }
    if by_start.is_empty() {
        return;
    }
    let mut used: HashMap<(usize, Code), bool> = HashMap::new();
    diags.retain(|d| {
        let Some((_, &i)) = by_start.range(..=(d.span.file, d.span.start)).next_back() else {
            return true;
        };
        let b = &unit.blocks[i];
        if d.span.end > b.span.end || !b.allows.iter().any(|a| a.code == d.code) {
            return true;
        }
        used.insert((i, d.code), true);
        false
    });
    for (i, b) in unit.blocks.iter().enumerate() {
        for a in &b.allows {
            if !used.contains_key(&(i, a.code)) {
                diags.push(
                    Diag::new(
                        Code::UnusedSuppression,
                        a.span,
                        format!("`allow {}` suppresses nothing on `{}`", a.code, b.name()),
                    )
                    .label("no such finding here")
                    .help(format!("remove the `allow` (`{}` is: {})", a.code, a.code.title())),
                );
            }
        }
    }
}
