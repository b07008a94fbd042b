//! The order a person does the steps in. It is the IR's order (phase by phase, a valid
//! order of `depends_on`), with one kind of edge the IR does not have: a trust anchor that
//! the issuing party sends together with the issued certificate cannot be imported before
//! that certificate has been received. Such a trust step moves to just after the exchange
//! with the issuing party, and is shown under that step's phase.

use crate::ir::{Action, HostKind, Ir, Phase};

/// Operation indices in runbook order, each with the phase it is shown under.
pub(crate) fn runbook_order(ir: &Ir) -> Vec<(usize, Phase)> {
    let ops = &ir.operations;
    let n = ops.len();
    let index = |id: &str| ops.iter().position(|o| o.id == id);
    let mut preds: Vec<Vec<usize>> = ops
        .iter()
        .map(|o| o.depends_on.iter().filter_map(|d| index(d)).collect())
        .collect();
    for (t, op) in ops.iter().enumerate() {
        let Action::TrustAuthority { authority, .. } = &op.action else {
            continue;
        };
        for (s, other) in ops.iter().enumerate() {
            let from_partner = ir.hosts.get(&other.host).is_some_and(|h| h.kind == HostKind::Partner);
            if from_partner
                && matches!(&other.action, Action::SubmitRequest { authority: Some(a), .. } if a == authority)
            {
                preds[t].push(s);
            }
        }
    }
    // The phase an operation is shown under: never before any of its predecessors' phases.
    let mut shown: Vec<Phase> = ops.iter().map(|o| o.phase).collect();
    for _ in 0..n {
        let mut changed = false;
        for i in 0..n {
            let max = preds[i].iter().map(|&p| shown[p]).max().unwrap_or(shown[i]);
            if max > shown[i] {
                shown[i] = max;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Kahn's algorithm, always taking the ready operation that comes first by (shown phase,
    // IR position): the IR order wherever the extra edges do not force a change.
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let next = (0..n)
            .filter(|&i| !done[i] && preds[i].iter().all(|&p| done[p] || p == i))
            .min_by_key(|&i| (shown[i], i))
            // A cycle cannot come from the IR; if it ever did, fall back to IR order.
            .or_else(|| (0..n).find(|&i| !done[i]));
        let Some(i) = next else { break };
        done[i] = true;
        order.push((i, shown[i]));
    }
    order
}
