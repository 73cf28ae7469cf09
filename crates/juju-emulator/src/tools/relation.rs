//! `relation-ids`, `relation-list`, `relation-get`, `relation-set`.

use juju_hooks::{AppName, BagOwner, Databag, Endpoint, UnitName, WriteScope};
use serde_json::Value;

use super::{
    databag_value, deprecated_format, parse, parse_pairs, print, Failure, Session, ToolIo, FORMAT,
    OUTPUT, RELATION,
};
use crate::args::{check_empty, go_quote, OptSpec};

const APP: OptSpec = OptSpec::switch("app", None, "app");
const FILE: OptSpec = OptSpec::value("file", None, "file");

pub(super) fn relation_ids(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse("relation-ids", &[FORMAT, OUTPUT], args, s, &mut io)? else {
        return Ok(());
    };
    let (name, rest) = match parsed.positionals.split_first() {
        Some((first, rest)) => (Some(first.clone()), rest),
        None => (None, &[][..]),
    };
    let name = name
        .or_else(|| {
            let relation = s.context.invocation.relation.as_ref()?;
            Some(relation.endpoint().to_string())
        })
        .ok_or_else(|| Failure::usage("no endpoint name specified"))?;
    check_empty(rest).map_err(Failure::usage)?;
    // An endpoint the charm does not have is not an error: there are just no relations.
    let mut ids: Vec<String> = match name.parse::<Endpoint>() {
        Ok(endpoint) => s
            .model
            .relation_ids(s.unit(), &endpoint)
            .iter()
            .map(ToString::to_string)
            .collect(),
        Err(_) => Vec::new(),
    };
    ids.sort();
    print(
        &Value::Array(ids.into_iter().map(Value::String).collect()),
        &parsed,
        &mut io,
    )
}

pub(super) fn relation_list(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let specs = [RELATION, APP, FORMAT, OUTPUT];
    let Some(parsed) = parse("relation-list", &specs, args, s, &mut io)? else {
        return Ok(());
    };
    let relation = s.relation(&parsed)?;
    check_empty(&parsed.positionals).map_err(Failure::usage)?;
    let value = if parsed.switch("app") {
        Value::String(s.model.remote_app(s.unit(), &relation)?.to_string())
    } else {
        let mut units: Vec<String> = s
            .model
            .relation_list(s.unit(), &relation)?
            .iter()
            .map(ToString::to_string)
            .collect();
        units.sort();
        Value::Array(units.into_iter().map(Value::String).collect())
    };
    print(&value, &parsed, &mut io)
}

pub(super) fn relation_get(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let specs = [RELATION, APP, FORMAT, OUTPUT];
    let Some(parsed) = parse("relation-get", &specs, args, s, &mut io)? else {
        return Ok(());
    };
    let relation = s.relation(&parsed)?;
    let app_flag = parsed.switch("app");
    let mut positionals = parsed.positionals.iter();
    let key = positionals
        .next()
        .filter(|k| k.as_str() != "-")
        .map(String::as_str);
    let owner = match positionals.next() {
        Some(name) => owner_from_arg(name, app_flag)?,
        None => default_owner(s, app_flag)?,
    };
    let rest: Vec<String> = positionals.cloned().collect();
    check_empty(&rest).map_err(Failure::usage)?;
    let bag = s
        .model
        .relation_get(s.unit(), &s.context.pending, &relation, &owner)?;
    print(&databag_value(&bag, key), &parsed, &mut io)
}

/// The unit (or, with `--app`, application) named on the command line.
fn owner_from_arg(name: &str, app_flag: bool) -> Result<BagOwner, Failure> {
    if let Ok(unit) = name.parse::<UnitName>() {
        return Ok(if app_flag {
            BagOwner::App(unit.app().clone())
        } else {
            BagOwner::Unit(unit)
        });
    }
    match (name.parse::<AppName>(), app_flag) {
        (Ok(app), true) => Ok(BagOwner::App(app)),
        (Ok(_), false) => Err(Failure::usage(format!(
            "expected unit name, got application name {}",
            go_quote(name)
        ))),
        (Err(_), true) => Err(Failure::usage(format!(
            "invalid application name {}",
            go_quote(name)
        ))),
        (Err(_), false) => Err(Failure::usage(format!(
            "invalid unit name {}",
            go_quote(name)
        ))),
    }
}

/// `JUJU_REMOTE_UNIT`, else the remote application (as in `-created`, `-broken` and
/// app-data `-changed`), as Juju's `determineUnitOrAppName` does.
fn default_owner(s: &Session, app_flag: bool) -> Result<BagOwner, Failure> {
    let invocation = &s.context.invocation;
    let unit = invocation.remote_unit.clone().filter(|_| !app_flag);
    let app = invocation.remote_app.clone().or_else(|| {
        invocation
            .remote_unit
            .as_ref()
            .map(|u| u.app().clone())
            .filter(|_| app_flag)
    });
    unit.map(BagOwner::Unit)
        .or(app.map(BagOwner::App))
        .ok_or_else(|| Failure::usage("no unit or application specified"))
}

pub(super) fn relation_set(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let specs = [RELATION, APP, FILE, FORMAT];
    let Some(parsed) = parse("relation-set", &specs, args, s, &mut io)? else {
        return Ok(());
    };
    let relation = s.relation(&parsed)?;
    let pairs = parse_pairs(&parsed.positionals)?;
    deprecated_format("relation-set", &parsed, &mut io);
    // The file is read when the command runs, so its errors are runtime errors (exit 1).
    let mut changes = match parsed.value("file") {
        Some(path) => read_settings_file(path, &mut io)?,
        None => Databag::new(),
    };
    changes.extend(pairs);
    let scope = if parsed.switch("app") {
        WriteScope::App
    } else {
        WriteScope::Unit
    };
    s.context_changed = true;
    let Session { model, context, .. } = s;
    model.relation_set(
        &context.invocation.unit,
        &mut context.pending,
        &relation,
        scope,
        &changes,
    )?;
    Ok(())
}

/// Reads `--file PATH` (or `-` for stdin): a YAML (or JSON) map of strings; `null` values
/// become empty strings, which delete the key, as Go's YAML decoder makes them.
pub(super) fn read_settings_file(path: &str, io: &mut ToolIo<'_>) -> Result<Databag, Failure> {
    let mut bytes = Vec::new();
    if path == "-" {
        io.stdin
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::runtime(format!("cannot read stdin: {e}")))?;
    } else {
        bytes = std::fs::read(path).map_err(|e| Failure::runtime(format!("open {path}: {e}")))?;
    }
    parse_settings(&bytes).map_err(Failure::runtime)
}

fn parse_settings(bytes: &[u8]) -> Result<Databag, String> {
    use serde::Deserialize;
    use serde_yaml_ng::Value as Yaml;
    let Some(document) = serde_yaml_ng::Deserializer::from_slice(bytes).next() else {
        return Ok(Databag::new());
    };
    let value = Yaml::deserialize(document).map_err(|e| format!("yaml: {e}"))?;
    let map = match untag(value) {
        Yaml::Null => return Ok(Databag::new()),
        Yaml::Mapping(map) => map,
        other => {
            return Err(format!(
                "yaml: unmarshal errors:\n  line 1: cannot unmarshal {} into map[string]string",
                describe(&other)
            ))
        }
    };
    let mut bag = Databag::new();
    for (key, value) in map {
        let key = scalar_text(untag(key))
            .ok_or("yaml: unmarshal errors:\n  cannot unmarshal a non-scalar key into string")?;
        let value = match untag(value) {
            Yaml::Null => String::new(),
            other => scalar_text(other.clone()).ok_or_else(|| {
                format!(
                    "yaml: unmarshal errors:\n  cannot unmarshal {} into string",
                    describe(&other)
                )
            })?,
        };
        bag.insert(key, value);
    }
    Ok(bag)
}

fn untag(value: serde_yaml_ng::Value) -> serde_yaml_ng::Value {
    match value {
        serde_yaml_ng::Value::Tagged(tagged) => untag(tagged.value),
        other => other,
    }
}

fn scalar_text(value: serde_yaml_ng::Value) -> Option<String> {
    use serde_yaml_ng::Value as Yaml;
    match value {
        Yaml::String(s) => Some(s),
        Yaml::Bool(b) => Some(b.to_string()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Null => Some(String::new()),
        _ => None,
    }
}

fn describe(value: &serde_yaml_ng::Value) -> String {
    use serde_yaml_ng::Value as Yaml;
    match value {
        Yaml::String(s) => format!("!!str `{s}`"),
        Yaml::Number(n) => format!("!!int `{n}`"),
        Yaml::Bool(b) => format!("!!bool `{b}`"),
        Yaml::Sequence(_) => "!!seq".to_owned(),
        Yaml::Mapping(_) => "!!map".to_owned(),
        Yaml::Null => "!!null".to_owned(),
        Yaml::Tagged(_) => "!!tagged".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_files_are_yaml_or_json_maps() {
        let bag = parse_settings(b"a: '1'\nb: null\nc: 2\nd: multi\n").unwrap();
        assert_eq!(bag["a"], "1");
        assert_eq!(bag["b"], "");
        assert_eq!(bag["c"], "2");
        let bag = parse_settings(br#"{"x": "<y>", "gone": null}"#).unwrap();
        assert_eq!(bag["x"], "<y>");
        assert_eq!(bag["gone"], "");
        assert!(parse_settings(b"").unwrap().is_empty());
        assert!(parse_settings(b"{}").unwrap().is_empty());
        assert_eq!(parse_settings(b"a: x\n---\nb: y\n").unwrap().len(), 1);
    }

    #[test]
    fn non_maps_are_refused_with_a_yaml_error() {
        let err = parse_settings(b"haha").unwrap_err();
        assert_eq!(
            err,
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `haha` into map[string]string"
        );
        assert!(parse_settings(b"a: [1]").unwrap_err().contains("!!seq"));
        assert!(parse_settings(b"a: {").unwrap_err().starts_with("yaml: "));
    }
}
