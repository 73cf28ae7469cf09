//! `state-get`, `state-set`, `state-delete`: the unit's Juju-side state, committed with the
//! hook (juju/juju 3.6 `worker/uniter/runner/jujuc/state-{get,set,delete}.go`).

use serde_json::Value;

use super::{parse, parse_pairs, print, relation, Failure, Session, ToolIo, FORMAT, OUTPUT};
use crate::args::{check_empty, go_quote, OptSpec};

pub(super) fn state_get(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let specs = [OptSpec::switch("strict", None, "strict"), FORMAT, OUTPUT];
    let Some(parsed) = parse("state-get", &specs, args, s, &mut io)? else {
        return Ok(());
    };
    let (key, rest) = match parsed.positionals.split_first() {
        Some((key, rest)) => (Some(key.as_str()), rest),
        None => (None, &[][..]),
    };
    check_empty(rest).map_err(Failure::usage)?;
    let value = match key {
        None => {
            let state = s.model.state_get(s.unit(), &s.context.pending);
            Value::Object(
                state
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
            )
        }
        Some(key) => match s.model.state_value(s.unit(), &s.context.pending, key) {
            Some(value) => Value::String(value),
            None if parsed.switch("strict") => {
                return Err(Failure::runtime(format!("{} not found", go_quote(key))))
            }
            None => return Ok(()),
        },
    };
    print(&value, &parsed, &mut io)
}

pub(super) fn state_set(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let specs = [OptSpec::value("file", None, "file")];
    let Some(parsed) = parse("state-set", &specs, args, s, &mut io)? else {
        return Ok(());
    };
    let pairs = parse_pairs(&parsed.positionals)?;
    let mut values = match parsed.value("file") {
        Some(path) => relation::read_settings_file(path, &mut io)?,
        None => Default::default(),
    };
    values.extend(pairs);
    s.context_changed = true;
    let super::Session { model, context, .. } = s;
    model.state_set(&context.invocation.unit, &mut context.pending, &values)?;
    Ok(())
}

pub(super) fn state_delete(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse("state-delete", &[], args, s, &mut io)? else {
        return Ok(());
    };
    let Some((key, rest)) = parsed.positionals.split_first() else {
        return Err(Failure::usage("no key specified"));
    };
    check_empty(rest).map_err(Failure::usage)?;
    s.context_changed = true;
    let super::Session { model, context, .. } = s;
    model.state_delete(&context.invocation.unit, &mut context.pending, key)?;
    Ok(())
}
