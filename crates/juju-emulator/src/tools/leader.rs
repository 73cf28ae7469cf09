//! `is-leader`, `leader-get`, `leader-set`.

use juju_hooks::testing::HookInvocation;
use serde_json::Value;

use super::{
    databag_value, parse, parse_bare, parse_pairs, print, Failure, Session, ToolIo, FORMAT, OUTPUT,
};
use crate::args::{check_empty, go_quote};

pub(super) fn is_leader(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse_bare("is-leader", &[FORMAT, OUTPUT], args, s, &mut io)? else {
        return Ok(());
    };
    print(&Value::Bool(s.model.is_leader(s.unit())), &parsed, &mut io)
}

pub(super) fn leader_get(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse("leader-get", &[FORMAT, OUTPUT], args, s, &mut io)? else {
        return Ok(());
    };
    let (key, rest) = match parsed.positionals.split_first() {
        Some((first, rest)) => (Some(first.as_str()), rest),
        None => (None, &[][..]),
    };
    let key = key.filter(|k| *k != "-");
    if let Some(k) = key.filter(|k| k.contains('=')) {
        return Err(Failure::usage(format!("invalid key {}", go_quote(k))));
    }
    check_empty(rest).map_err(Failure::usage)?;
    let bag = s.model.leader_get(s.unit());
    print(&databag_value(&bag, key), &parsed, &mut io)
}

/// Immediate, as in Juju; the other units of the application get `leader-settings-changed`.
pub(super) fn leader_set(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse("leader-set", &[], args, s, &mut io)? else {
        return Ok(());
    };
    let changes = parse_pairs(&parsed.positionals)?;
    let unit = s.unit().clone();
    let before = s.model.leader_get(&unit);
    s.model_mut().leader_set(&unit, &changes)?;
    if s.model.leader_get(&unit) == before {
        return Ok(());
    }
    let others: Vec<HookInvocation> = s
        .app_units()
        .filter(|u| **u != unit)
        .map(|u| HookInvocation::new(u.clone(), "leader-settings-changed"))
        .collect();
    s.state_mut()?.queue.extend(others);
    Ok(())
}
