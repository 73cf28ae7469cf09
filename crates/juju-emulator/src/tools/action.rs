//! `action-get`, `action-set`, `action-fail`, `action-log` (juju/juju 3.6
//! `worker/uniter/runner/jujuc/action-*.go`). Outside an action each fails as the hook context
//! does: `not running an action` (`context.go` `ActionParams` and friends), exit 1.

use serde_json::Value;

use super::{parse, print, Failure, Session, ToolIo, FORMAT, OUTPUT};
use crate::args::{check_empty, go_quote};

/// Juju's `keyRule` for `action-set` key segments.
fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && b.first().is_some_and(ok)
        && b.last().is_some_and(ok)
        && b.iter().all(|c| ok(c) || *c == b'-')
}

pub(super) fn action_get(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse("action-get", &[FORMAT, OUTPUT], args, s, &mut io)? else {
        return Ok(());
    };
    let (key, rest) = match parsed.positionals.split_first() {
        Some((key, rest)) => (Some(key.as_str()), rest),
        None => (None, &[][..]),
    };
    check_empty(rest).map_err(Failure::usage)?;
    let params = s
        .model
        .action_params(s.context.invocation.action.as_deref())?;
    let mut value = Value::Object(params.clone());
    if let Some(key) = key {
        for part in key.split('.') {
            value = value.get(part).cloned().unwrap_or(Value::Null);
        }
    }
    print(&value, &parsed, &mut io)
}

pub(super) fn action_set(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse("action-set", &[], args, s, &mut io)? else {
        return Ok(());
    };
    let mut sets = Vec::new();
    for arg in &parsed.positionals {
        let (keys, value) = arg.split_once('=').ok_or_else(|| {
            Failure::usage(format!(
                "argument {} must be of the form key...=value",
                go_quote(arg)
            ))
        })?;
        let keys: Vec<String> = keys.split('.').map(str::to_owned).collect();
        if let Some(bad) = keys.iter().find(|k| !valid_key(k)) {
            return Err(Failure::usage(format!(
                "key {} must start and end with lowercase alphanumeric, and contain only \
                 lowercase alphanumeric, hyphens and periods",
                go_quote(bad)
            )));
        }
        sets.push((keys, value.to_owned()));
    }
    let action = s.context.invocation.action.clone();
    for (keys, value) in sets {
        s.model_mut()
            .action_set(action.as_deref(), &keys, Value::String(value))?;
    }
    if parsed.positionals.is_empty() {
        // Juju checks nothing then; still, outside an action there is nothing to set.
        s.model.action_params(action.as_deref())?;
    }
    Ok(())
}

pub(super) fn action_fail(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse("action-fail", &[], args, s, &mut io)? else {
        return Ok(());
    };
    let message = match parsed.positionals.split_first() {
        None => "action failed without reason given, check action for errors".to_owned(),
        Some((message, rest)) => {
            check_empty(rest).map_err(Failure::usage)?;
            message.clone()
        }
    };
    let action = s.context.invocation.action.clone();
    s.model_mut().action_fail(action.as_deref(), &message)?;
    Ok(())
}

pub(super) fn action_log(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse("action-log", &[], args, s, &mut io)? else {
        return Ok(());
    };
    if parsed.positionals.is_empty() {
        return Err(Failure::usage("no message specified"));
    }
    let message = parsed.positionals.join(" ");
    let action = s.context.invocation.action.clone();
    s.model_mut().action_log(action.as_deref(), &message)?;
    Ok(())
}
