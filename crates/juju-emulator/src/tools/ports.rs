//! `open-port`, `close-port`, `opened-ports` (juju/juju 3.6
//! `worker/uniter/runner/jujuc/ports.go`, `opened-ports.go`); staged until the hook commits.

use std::collections::BTreeMap;

use juju_hooks::testing::{PortRange, ALL_ENDPOINTS};
use serde_json::Value;

use super::{
    deprecated_format, parse, parse_bare, print, Failure, Session, ToolIo, FORMAT, OUTPUT,
};
use crate::args::{check_empty, OptSpec};

fn change(
    tool: &str,
    open: bool,
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let specs = [OptSpec::value("endpoints", None, "endpoints"), FORMAT];
    let Some(parsed) = parse(tool, &specs, args, s, &mut io)? else {
        return Ok(());
    };
    // ports.go `Run`: a `--format` is only noted as deprecated.
    deprecated_format(tool, &parsed, &mut io);
    let Some((first, rest)) = parsed.positionals.split_first() else {
        return Err(Failure::usage("no port or range specified"));
    };
    check_empty(rest).map_err(Failure::usage)?;
    let range: PortRange = first.parse().map_err(Failure::usage)?;
    // ports.go `makePortRangeCommand`: no value means every endpoint, and so does an empty
    // item of the list. Unknown endpoints are refused at commit.
    let endpoints: Vec<String> = parsed
        .value("endpoints")
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.split(',')
                .map(str::trim)
                .map(|e| if e.is_empty() { ALL_ENDPOINTS } else { e })
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    s.context_changed = true;
    let Session { model, context, .. } = s;
    model.port_change(
        &context.invocation.unit,
        &mut context.pending,
        open,
        &range,
        &endpoints,
    )?;
    Ok(())
}

pub(super) fn open_port(s: &mut Session, args: &[String], io: ToolIo<'_>) -> Result<(), Failure> {
    change("open-port", true, s, args, io)
}

pub(super) fn close_port(s: &mut Session, args: &[String], io: ToolIo<'_>) -> Result<(), Failure> {
    change("close-port", false, s, args, io)
}

pub(super) fn opened_ports(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let specs = [
        OptSpec::switch("endpoints", None, "endpoints"),
        FORMAT,
        OUTPUT,
    ];
    let Some(parsed) = parse_bare("opened-ports", &specs, args, s, &mut io)? else {
        return Ok(());
    };
    let opened = s.model.opened_ports(s.unit(), &s.context.pending);
    let mut by_range: BTreeMap<PortRange, Vec<String>> = BTreeMap::new();
    for (endpoint, ranges) in &opened {
        for range in ranges {
            by_range
                .entry(range.clone())
                .or_default()
                .push(endpoint.clone());
        }
    }
    let lines: Vec<Value> = by_range
        .into_iter()
        .map(|(range, endpoints)| {
            if parsed.switch("endpoints") {
                let shown: Vec<&str> = endpoints
                    .iter()
                    .map(|e| if e == ALL_ENDPOINTS { "*" } else { e.as_str() })
                    .collect();
                Value::String(format!("{range} ({})", shown.join(",")))
            } else {
                Value::String(range.to_string())
            }
        })
        .collect();
    print(&Value::Array(lines), &parsed, &mut io)
}
