//! `secret-add`, `secret-get`, `secret-set`, `secret-grant`, `secret-revoke`, `secret-remove`,
//! `secret-ids`, `secret-info-get`.
//!
//! Options, argument checks and texts follow juju/juju 3.6 `worker/uniter/runner/jujuc/secret-*.go`
//! and `core/secrets/createsecret.go` (`CreateSecretData`); the rules behind them are in
//! [`juju_hooks::testing::Model`] (`secret_add` and friends).

use std::collections::BTreeMap;

use juju_hooks::testing::clock::rfc3339;
use juju_hooks::testing::SecretRead;
use juju_hooks::{
    RotatePolicy, SecretContent, SecretError, SecretInfo, SecretMeta, SecretOwnerKind, SecretUri,
    UnitName,
};
use serde_json::Value;

use super::{parse, parse_bare, print_as, Failure, Session, ToolIo, FORMAT, OUTPUT, RELATION};
use crate::args::{check_empty, go_quote, OptSpec, ParsedArgs};
use crate::clock;
use crate::format::{Format, Tree};

const LABEL: OptSpec = OptSpec::value("label", None, "label");
const DESCRIPTION: OptSpec = OptSpec::value("description", None, "description");
const EXPIRE: OptSpec = OptSpec::value("expire", None, "expire");
const ROTATE: OptSpec = OptSpec::value("rotate", None, "rotate");
const FILE: OptSpec = OptSpec::value("file", None, "file");
const OWNER: OptSpec = OptSpec::value("owner", None, "owner");
const UNIT: OptSpec = OptSpec::value("unit", None, "unit");
const APP: OptSpec = OptSpec::value("app", None, "app");

/// Juju's limits (`core/secrets/createsecret.go`).
const MAX_VALUE_BYTES: usize = 8 * 1024;
const MAX_CONTENT_BYTES: usize = 64 * 1024;

fn invalid(e: &SecretError) -> Failure {
    Failure::usage(e.to_string())
}

fn parse_uri(text: &str) -> Result<SecretUri, Failure> {
    text.parse()
        .map_err(|_| Failure::usage(format!("secret URI {} not valid", go_quote(text))))
}

/// Which secret a reading tool names, and the arguments after it.
struct Named<'a> {
    uri: Option<SecretUri>,
    label: Option<&'a str>,
    rest: &'a [String],
}

/// `<ID>` (the first argument, always read as a URI) and `--label`, one of them required, and
/// the arguments after the URI (secret-get.go, secret-info-get.go `Init`).
fn uri_or_label(parsed: &ParsedArgs) -> Result<Named<'_>, Failure> {
    let (uri, rest) = match parsed.positionals.split_first() {
        Some((first, rest)) => (Some(parse_uri(first)?), rest),
        None => (None, &[][..]),
    };
    let label = parsed.value("label").filter(|l| !l.is_empty());
    if uri.is_none() && label.is_none() {
        return Err(Failure::usage("require either a secret URI or label"));
    }
    Ok(Named { uri, label, rest })
}

/// The content arguments: `key=value`, `key#base64=...`, `key#file=path`, plus `--file`.
fn content_args(
    items: &[String],
    file: Option<&str>,
    io: &mut ToolIo<'_>,
) -> Result<Option<SecretContent>, Failure> {
    let mut raw: Vec<(String, String)> = Vec::new();
    if let Some(path) = file {
        raw.extend(read_content_file(path, io)?);
    }
    for item in items {
        // Juju strips base64 padding before looking for the `=`.
        let stripped = item.trim_end_matches('=');
        let at = stripped
            .find('=')
            .filter(|at| *at > 0)
            .ok_or_else(|| Failure::usage(format!("key value {} not valid", go_quote(item))))?;
        let (key, value) = (&item[..at], &item[at + 1..]);
        match key.strip_suffix("#file") {
            Some(key) => {
                let bytes = std::fs::read(value).map_err(|e| {
                    Failure::usage(format!(
                        "reading content for secret key {}: open {value}: {e}",
                        go_quote(key)
                    ))
                })?;
                let text = String::from_utf8(bytes).map_err(|_| binary(key))?;
                raw.push((key.to_owned(), text));
            }
            None => raw.push((key.to_owned(), value.to_owned())),
        }
    }
    if raw.is_empty() {
        return Ok(None);
    }
    let mut values = BTreeMap::new();
    let mut total = 0;
    for (key, value) in raw {
        if value.len() > MAX_VALUE_BYTES {
            return Err(Failure::usage(format!(
                "secret content for key {} too large: {} bytes",
                go_quote(&key),
                value.len()
            )));
        }
        total += value.len();
        let (key, value) = match key.strip_suffix("#base64") {
            Some(key) => {
                let bytes = decode_base64(&value).ok_or_else(|| {
                    Failure::usage(format!("illegal base64 data in key {}", go_quote(key)))
                })?;
                let text = String::from_utf8(bytes).map_err(|_| binary(key))?;
                (key.to_owned(), text)
            }
            None => (key, value),
        };
        if !juju_hooks::is_valid_secret_key(&key) {
            return Err(invalid(&SecretError::Key(key)));
        }
        values.insert(key, value);
    }
    if total > MAX_CONTENT_BYTES {
        return Err(Failure::usage(format!(
            "secret content too large: {total} bytes"
        )));
    }
    SecretContent::new(values)
        .map(Some)
        .map_err(|e| invalid(&e))
}

fn binary(key: &str) -> Failure {
    Failure::usage(format!(
        "secret key {}: binary content is not supported by juju-emulator",
        go_quote(key)
    ))
}

/// `--file`: a YAML (or JSON) map of keys to values.
fn read_content_file(path: &str, io: &mut ToolIo<'_>) -> Result<Vec<(String, String)>, Failure> {
    let mut bytes = Vec::new();
    if path == "-" {
        io.stdin
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::usage(format!("cannot read stdin: {e}")))?;
    } else {
        bytes = std::fs::read(path).map_err(|e| Failure::usage(format!("open {path}: {e}")))?;
    }
    let map: BTreeMap<String, serde_yaml_ng::Value> = serde_yaml_ng::from_slice(&bytes)
        .map_err(|e| Failure::usage(format!("invalid secret data in {path}: {e}")))?;
    map.into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_yaml_ng::Value::String(s) => s,
                serde_yaml_ng::Value::Number(n) => n.to_string(),
                serde_yaml_ng::Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(Failure::usage(format!(
                        "invalid secret data in {path}: value of {} is not a string",
                        go_quote(&k)
                    )))
                }
            };
            Ok((k, text))
        })
        .collect()
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

pub(super) fn encode_base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `--label`, `--description`, `--rotate`, `--expire` as metadata (`--expire` durations
/// count from the model's clock, `now`).
fn meta_args(parsed: &ParsedArgs, now: u64) -> Result<SecretMeta, Failure> {
    let rotation = parsed
        .value("rotate")
        .filter(|r| !r.is_empty())
        .map(|r| r.parse::<RotatePolicy>().map_err(|e| invalid(&e)))
        .transpose()?;
    let expiry = parsed
        .value("expire")
        .filter(|e| !e.is_empty())
        .map(|spec| clock::expiry(spec, now).map_err(Failure::usage))
        .transpose()?;
    Ok(SecretMeta {
        label: parsed
            .value("label")
            .filter(|l| !l.is_empty())
            .map(str::to_owned),
        description: parsed
            .value("description")
            .filter(|d| !d.is_empty())
            .map(str::to_owned),
        rotation,
        expiry,
    })
}

pub(super) fn secret_add(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let specs = [LABEL, DESCRIPTION, EXPIRE, ROTATE, FILE, OWNER];
    let Some(parsed) = parse("secret-add", &specs, args, s, &mut io)? else {
        return Ok(());
    };
    if parsed.positionals.is_empty() && parsed.value("file").is_none() {
        return Err(Failure::usage("missing secret value or filename"));
    }
    let meta = meta_args(&parsed, clock::model_now(&s.model))?;
    let owner = match parsed.value("owner").unwrap_or("application") {
        "application" => SecretOwnerKind::Application,
        "unit" => SecretOwnerKind::Unit,
        other => {
            return Err(Failure::usage(format!(
                "secret owner {} not valid",
                go_quote(other)
            )))
        }
    };
    let content = content_args(&parsed.positionals, parsed.value("file"), &mut io)?
        .ok_or_else(|| Failure::runtime("empty secret value not valid"))?;
    s.context_changed = true;
    let Session { model, context, .. } = s;
    let unit = context.invocation.unit.clone();
    let uri = model.secret_add(&unit, &mut context.pending, owner, content, meta)?;
    s.model_changed = true;
    io.out.extend_from_slice(format!("{uri}\n").as_bytes());
    Ok(())
}

pub(super) fn secret_get(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let specs = [
        LABEL,
        OptSpec::switch("peek", None, "peek"),
        OptSpec::switch("refresh", None, "refresh"),
        FORMAT,
        OUTPUT,
    ];
    let Some(parsed) = parse("secret-get", &specs, args, s, &mut io)? else {
        return Ok(());
    };
    let Named { uri, label, rest } = uri_or_label(&parsed)?;
    let (peek, refresh) = (parsed.switch("peek"), parsed.switch("refresh"));
    if peek && refresh {
        return Err(Failure::usage(
            "specify one of --peek or --refresh but not both",
        ));
    }
    let key = match rest.split_first() {
        Some((key, tail)) => {
            check_empty(tail).map_err(Failure::usage)?;
            Some(key.clone())
        }
        None => None,
    };
    let read = if peek {
        SecretRead::Peek
    } else if refresh {
        SecretRead::Refresh
    } else {
        SecretRead::Tracked
    };
    s.context_changed = true;
    s.model_changed = true;
    let Session { model, context, .. } = s;
    let unit = context.invocation.unit.clone();
    let content = model.secret_get(&unit, &mut context.pending, uri.as_ref(), label, read)?;
    let value = match key {
        None => Value::Object(
            content
                .values()
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
        Some(key) => {
            let (name, encoded) = match key.strip_suffix("#base64") {
                Some(name) => (name, true),
                None => (key.as_str(), false),
            };
            let value = content.get(name).ok_or_else(|| {
                Failure::runtime(format!("secret key value {} not found", go_quote(name)))
            })?;
            Value::String(if encoded {
                encode_base64(value.as_bytes())
            } else {
                value.to_owned()
            })
        }
    };
    print_as(&value, &parsed, &mut io, Format::Yaml)
}

pub(super) fn secret_set(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let specs = [LABEL, DESCRIPTION, EXPIRE, ROTATE, FILE, OWNER];
    let Some(parsed) = parse("secret-set", &specs, args, s, &mut io)? else {
        return Ok(());
    };
    let Some((first, rest)) = parsed.positionals.split_first() else {
        return Err(Failure::usage("missing secret URI"));
    };
    let uri = parse_uri(first)?;
    let meta = meta_args(&parsed, clock::model_now(&s.model))?;
    let content = content_args(rest, parsed.value("file"), &mut io)?;
    s.context_changed = true;
    let Session { model, context, .. } = s;
    let unit = context.invocation.unit.clone();
    model.secret_set(&unit, &mut context.pending, &uri, content, meta)?;
    Ok(())
}

pub(super) fn secret_remove(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let specs = [OptSpec::value("revision", None, "revision")];
    let Some(parsed) = parse("secret-remove", &specs, args, s, &mut io)? else {
        return Ok(());
    };
    let Some((first, rest)) = parsed.positionals.split_first() else {
        return Err(Failure::usage("missing secret URI"));
    };
    let uri = parse_uri(first)?;
    check_empty(rest).map_err(Failure::usage)?;
    let revision = parsed
        .value("revision")
        .map(|r| {
            r.parse::<u32>().map_err(|_| {
                Failure::usage(format!(
                    "invalid value {} for option --revision: parse error",
                    go_quote(r)
                ))
            })
        })
        .transpose()?;
    s.context_changed = true;
    let Session { model, context, .. } = s;
    let unit = context.invocation.unit.clone();
    model.secret_remove(&unit, &mut context.pending, &uri, revision)?;
    Ok(())
}

/// `secret-grant` (`grant` = true) and `secret-revoke`.
fn grant_or_revoke(
    tool: &str,
    grant: bool,
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    // secret-revoke.go `SetFlags`: `--application` is another name of `--app`.
    let specs: &[OptSpec] = if grant {
        &[RELATION, UNIT, APP]
    } else {
        &[
            RELATION,
            UNIT,
            APP,
            OptSpec::value("app", None, "application"),
        ]
    };
    let Some(parsed) = parse(tool, specs, args, s, &mut io)? else {
        return Ok(());
    };
    let Some((first, rest)) = parsed.positionals.split_first() else {
        return Err(Failure::usage("missing secret URI"));
    };
    let uri = parse_uri(first)?;
    let relation = s.relation(&parsed)?;
    let grantee = parsed
        .value("unit")
        .filter(|u| !u.is_empty())
        .map(|u| {
            u.parse::<UnitName>()
                .map_err(|_| Failure::usage(format!("unit {} not valid", go_quote(u))))
        })
        .transpose()?;
    check_empty(rest).map_err(Failure::usage)?;
    s.context_changed = true;
    let Session { model, context, .. } = s;
    let unit = context.invocation.unit.clone();
    let pending = &mut context.pending;
    if grant {
        model.secret_grant(&unit, pending, &uri, &relation, grantee.as_ref())?;
    } else {
        model.secret_revoke(&unit, pending, &uri, &relation, grantee.as_ref())?;
    }
    Ok(())
}

pub(super) fn secret_grant(
    s: &mut Session,
    args: &[String],
    io: ToolIo<'_>,
) -> Result<(), Failure> {
    grant_or_revoke("secret-grant", true, s, args, io)
}

pub(super) fn secret_revoke(
    s: &mut Session,
    args: &[String],
    io: ToolIo<'_>,
) -> Result<(), Failure> {
    grant_or_revoke("secret-revoke", false, s, args, io)
}

pub(super) fn secret_ids(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse_bare("secret-ids", &[FORMAT, OUTPUT], args, s, &mut io)? else {
        return Ok(());
    };
    let ids: Vec<Value> = s
        .model
        .secret_ids(s.unit(), &s.context.pending)
        .into_iter()
        .map(|uri| Value::String(uri.to_string()))
        .collect();
    // secret-ids.go: `smart` by default (one id per line), also yaml and json.
    print_as(&Value::Array(ids), &parsed, &mut io, Format::Smart)
}

pub(super) fn secret_info_get(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse(
        "secret-info-get",
        &[LABEL, FORMAT, OUTPUT],
        args,
        s,
        &mut io,
    )?
    else {
        return Ok(());
    };
    let Named { uri, label, rest } = uri_or_label(&parsed)?;
    if uri.is_some() && label.is_some() {
        return Err(Failure::usage(
            "specify either a secret URI or label but not both",
        ));
    }
    check_empty(rest).map_err(Failure::usage)?;
    let info = s
        .model
        .secret_info(s.unit(), &s.context.pending, uri.as_ref(), label)?;
    let value = Tree::Map(BTreeMap::from([(
        info.uri.id().to_owned(),
        info_value(s, &info),
    )]));
    print_as(&value, &parsed, &mut io, Format::Yaml)
}

/// One secret's metadata as `secret-info-get` prints it: `metadataDisplay`'s fields in their
/// order, the `omitempty` ones only when set.
fn info_value(s: &Session, info: &SecretInfo) -> Tree {
    let text = |t: String| Tree::Value(Value::String(t));
    let mut fields = vec![
        ("revision", Tree::Value(Value::from(info.revision))),
        ("label", text(info.label.clone().unwrap_or_default())),
        ("owner", text(info.owner.kind().to_owned())),
    ];
    if let Some(description) = &info.description {
        fields.push(("description", text(description.clone())));
    }
    if let Some(rotation) = info.rotation {
        fields.push(("rotation", text(rotation.to_string())));
    }
    if let Some(expiry) = &info.expiry {
        fields.push(("expiry", text(expiry.clone())));
    }
    // `rotates`: the next rotation time (secret-info-get.go `NextRotateTime`).
    let rotates = s.model.secrets.get(&info.uri).and_then(|r| r.rotate_due);
    if let (Some(at), true) = (rotates, info.rotation.is_some()) {
        fields.push(("rotates", text(rfc3339(at))));
    }
    let access: Vec<Tree> = s
        .model
        .secrets
        .get(&info.uri)
        .map(|record| {
            record
                .grants
                .iter()
                .flat_map(|(number, grantees)| {
                    let scope = s
                        .model
                        .relations
                        .get(number)
                        .map_or_else(String::new, |rel| {
                            format!(
                                "relation-{}",
                                rel.key(&s.model).replace(':', ".").replace(' ', "#")
                            )
                        });
                    grantees.iter().map(move |g| {
                        let target = match g {
                            juju_hooks::testing::SecretGrantee::Application(app) => {
                                format!("application-{app}")
                            }
                            juju_hooks::testing::SecretGrantee::Unit(unit) => {
                                format!("unit-{}", unit.to_string().replace('/', "-"))
                            }
                        };
                        // `AccessInfo`: target, scope, role.
                        Tree::Struct(vec![
                            ("target", text(target)),
                            ("scope", text(scope.clone())),
                            ("role", text("view".to_owned())),
                        ])
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if !access.is_empty() {
        fields.push(("access", Tree::List(access)));
    }
    Tree::Struct(fields)
}
