//! The order a person does the steps in. It is the IR's order (phase by phase, a valid
//! order of `depends_on`), with one kind of edge the IR does not have: a trust anchor that
//! the issuing party sends together with the issued certificate cannot be imported before
//! that certificate has been received. Such a trust step moves to just after the exchange
//! with the issuing party, and is shown under that step's phase.

use crate::ir::{Action, HostKind, Ir, Phase};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// Operation indices in runbook order, each with the phase it is shown under.
pub(crate) fn runbook_order(ir: &Ir) -> Vec<(usize, Phase)> {
    let ops = &ir.operations;
    let n = ops.len();
    // Maps and a heap, not scans: a unit can have thousands of operations.
    let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(n);
    for (i, o) in ops.iter().enumerate() {
        by_id.entry(o.id.as_str()).or_insert(i);
    }
    let mut preds: Vec<Vec<usize>> = ops
        .iter()
        .map(|o| {
            o.depends_on
                .iter()
                .filter_map(|d| by_id.get(d.as_str()).copied())
                .collect()
        })
        .collect();
    let partner_requests: Vec<(usize, &str)> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| ir.hosts.get(&o.host).is_some_and(|h| h.kind == HostKind::Partner))
        .filter_map(|(s, o)| match &o.action {
            Action::SubmitRequest { authority: Some(a), .. } => Some((s, a.as_str())),
            _ => None,
        })
        .collect();
    for (t, op) in ops.iter().enumerate() {
        let Action::TrustAuthority { authority, .. } = &op.action else {
            continue;
        };
        for &(s, a) in &partner_requests {
            if a == authority {
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
    let mut waiting: Vec<usize> = vec![0; n];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, ps) in preds.iter().enumerate() {
        for &p in ps {
            if p != i {
                waiting[i] += 1;
                succs[p].push(i);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<(Phase, usize)>> = (0..n)
        .filter(|&i| waiting[i] == 0)
        .map(|i| Reverse((shown[i], i)))
        .collect();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut first_open = 0;
    while order.len() < n {
        let i = match ready.pop() {
            Some(Reverse((_, i))) => i,
            None => {
                // A cycle cannot come from the IR; if it ever did, fall back to IR order.
                while done[first_open] {
                    first_open += 1;
                }
                first_open
            }
        };
        if done[i] {
            continue;
        }
        done[i] = true;
        order.push((i, shown[i]));
        for &s in &succs[i] {
            waiting[s] -= 1;
            if waiting[s] == 0 && !done[s] {
                ready.push(Reverse((shown[s], s)));
            }
        }
    }
    order
}
