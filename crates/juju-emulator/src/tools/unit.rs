//! `juju-log`, `status-set`, `status-get`, `config-get`.

use juju_hooks::{LogLevel, StatusKind, WorkloadStatus};
use serde_json::{json, Map, Value};

use super::{
    deprecated_format, parse, parse_bare, print, Failure, Session, ToolIo, FORMAT, OUTPUT,
};
use crate::args::{check_empty, go_quote, OptSpec};

const APPLICATION: OptSpec = OptSpec::switch("application", None, "application");

pub(super) fn juju_log(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let specs = [
        OptSpec::switch("debug", None, "debug"),
        OptSpec::value("level", Some('l'), "log-level"),
        FORMAT,
    ];
    let Some(parsed) = parse("juju-log", &specs, args, s, &mut io)? else {
        return Ok(());
    };
    if parsed.positionals.is_empty() {
        return Err(Failure::usage("no message specified"));
    }
    deprecated_format("juju-log", &parsed, &mut io);
    // Unknown levels are not an error in Juju: it warns in its own log and uses INFO.
    let level = if parsed.switch("debug") {
        LogLevel::Debug
    } else {
        match parsed
            .value("level")
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("TRACE" | "DEBUG") => LogLevel::Debug,
            Some("WARN" | "WARNING") => LogLevel::Warning,
            Some("ERROR" | "CRITICAL") => LogLevel::Error,
            _ => LogLevel::Info,
        }
    };
    let mut message = parsed.positionals.join(" ");
    if let Some(relation) = &s.context.invocation.relation {
        message = format!("{relation}: {message}");
    }
    let unit = s.unit().clone();
    s.model_mut().log(&unit, level, &message);
    Ok(())
}

pub(super) fn status_set(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse("status-set", &[APPLICATION], args, s, &mut io)? else {
        return Ok(());
    };
    let Some((word, rest)) = parsed.positionals.split_first() else {
        return Err(Failure::usage("invalid args, require <status> [message]"));
    };
    let kind = word
        .parse::<StatusKind>()
        .ok()
        .filter(|k| k.is_settable())
        .ok_or_else(|| {
            Failure::usage(format!(
                "invalid status {}, expected one of [maintenance blocked waiting active]",
                go_quote(word)
            ))
        })?;
    let (message, rest) = match rest.split_first() {
        Some((m, rest)) => (m.clone(), rest),
        None => (String::new(), rest),
    };
    check_empty(rest).map_err(Failure::usage)?;
    let status = WorkloadStatus::new(kind, message);
    let unit = s.unit().clone();
    if parsed.switch("application") {
        if !s.model.is_leader(&unit) {
            return Err(Failure::runtime("this unit is not the leader"));
        }
        s.state_mut()?.app_status.insert(unit.app().clone(), status);
        return Ok(());
    }
    s.model_mut().status_set(&unit, &status)?;
    Ok(())
}

fn status_details(status: &WorkloadStatus) -> Value {
    json!({
        "message": status.message,
        "status": status.kind.as_str(),
        "status-data": {},
    })
}

pub(super) fn status_get(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let specs = [
        OptSpec::switch("include-data", None, "include-data"),
        APPLICATION,
        FORMAT,
        OUTPUT,
    ];
    let Some(parsed) = parse_bare("status-get", &specs, args, s, &mut io)? else {
        return Ok(());
    };
    let unit = s.unit().clone();
    let value = if parsed.switch("application") {
        if !s.model.is_leader(&unit) {
            return Err(Failure::runtime(
                "finding application status: this unit is not the leader",
            ));
        }
        let app_status = s
            .state()?
            .app_status
            .get(unit.app())
            .cloned()
            .unwrap_or_else(|| WorkloadStatus::new(StatusKind::Unknown, ""));
        let units: Map<String, Value> = s
            .app_units()
            .map(|u| (u.to_string(), status_details(&s.model.status_get(u))))
            .collect();
        let mut details = status_details(&app_status);
        if let Value::Object(map) = &mut details {
            map.insert("units".to_owned(), Value::Object(units));
        }
        json!({ "application-status": details })
    } else {
        let status = s.model.status_get(&unit);
        if parsed.switch("include-data") {
            status_details(&status)
        } else if parsed.value("format").is_none_or(|f| f == "smart") {
            Value::String(status.kind.as_str().to_owned())
        } else {
            json!({ "status": status.kind.as_str() })
        }
    };
    print(&value, &parsed, &mut io)
}

pub(super) fn config_get(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let specs = [OptSpec::switch("all", Some('a'), "all"), FORMAT, OUTPUT];
    let Some(parsed) = parse("config-get", &specs, args, s, &mut io)? else {
        return Ok(());
    };
    let (key, rest) = match parsed.positionals.split_first() {
        Some((first, rest)) => (Some(first.as_str()), rest),
        None => (None, &[][..]),
    };
    if let Some(k) = key.filter(|k| !k.is_empty() && parsed.switch("all")) {
        return Err(Failure::usage(format!(
            "cannot use argument --all together with key {}",
            go_quote(k)
        )));
    }
    check_empty(rest).map_err(Failure::usage)?;
    let config = s.model.config_get(s.unit());
    let value = match key {
        Some(k) => config.get(k).cloned().unwrap_or(Value::Null),
        None => Value::Object(
            config
                .into_iter()
                .filter(|(_, v)| parsed.switch("all") || !v.is_null())
                .collect(),
        ),
    };
    print(&value, &parsed, &mut io)
}
