//! `unit-get`, `network-get`: every unit has one loopback address of its own (the address
//! Juju seeds its relation bags with), so servers a charm starts on it are reachable locally.
//!
//! Output shapes follow juju/juju 3.6 `worker/uniter/runner/jujuc/unit-get.go` and
//! `network-get.go` (with the YAML-only legacy keys of `network-get`'s full form).

use juju_hooks::testing::unit_address;
use serde_json::{json, Map, Value};

use super::{parse, print, Failure, Session, ToolIo, FORMAT, OUTPUT, RELATION};
use crate::args::{check_empty, go_quote, OptSpec};

pub(super) fn unit_get(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse("unit-get", &[FORMAT, OUTPUT], args, s, &mut io)? else {
        return Ok(());
    };
    let Some((key, rest)) = parsed.positionals.split_first() else {
        return Err(Failure::usage("no setting specified"));
    };
    if key != "private-address" && key != "public-address" {
        return Err(Failure::usage(format!("unknown setting {}", go_quote(key))));
    }
    check_empty(rest).map_err(Failure::usage)?;
    print(&Value::String(unit_address(s.unit())), &parsed, &mut io)
}

pub(super) fn network_get(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let specs = [
        OptSpec::switch("primary-address", None, "primary-address"),
        OptSpec::switch("bind-address", None, "bind-address"),
        OptSpec::switch("ingress-address", None, "ingress-address"),
        OptSpec::switch("egress-subnets", None, "egress-subnets"),
        RELATION,
        FORMAT,
        OUTPUT,
    ];
    let Some(parsed) = parse("network-get", &specs, args, s, &mut io)? else {
        return Ok(());
    };
    let Some((binding, rest)) = parsed.positionals.split_first() else {
        return Err(Failure::usage("no arguments specified"));
    };
    if binding.is_empty() {
        return Err(Failure::usage("no binding name specified"));
    }
    check_empty(rest).map_err(Failure::usage)?;
    let declared = s
        .model
        .applications
        .get(s.unit().app())
        .is_some_and(|app| app.endpoints.keys().any(|e| e.as_str() == binding));
    if !declared {
        return Err(Failure::runtime(format!(
            "no network config found for binding {}",
            go_quote(binding)
        )));
    }
    let address = unit_address(s.unit());
    let subnet = format!("{address}/32");
    let keys: Vec<&str> = ["bind-address", "ingress-address", "egress-subnets"]
        .into_iter()
        .filter(|k| parsed.switch(k))
        .collect();
    let yaml = parsed.value("format").is_none_or(|f| f != "json");
    let value = if parsed.switch("primary-address") {
        if !keys.is_empty() {
            return Err(Failure::runtime(
                "--primary-address must be the only flag specified",
            ));
        }
        Value::String(address)
    } else if keys.is_empty() {
        full_info(&address, &subnet, yaml)
    } else {
        let mut values = Map::new();
        for key in &keys {
            let v = match *key {
                "egress-subnets" => json!([subnet]),
                _ => Value::String(address.clone()),
            };
            values.insert((*key).to_owned(), v);
        }
        match keys.as_slice() {
            [one] => values.remove(*one).unwrap_or(Value::Null),
            _ => Value::Object(values),
        }
    };
    print(&value, &parsed, &mut io)
}

/// The whole network info of a binding; YAML repeats the legacy keys older agents read.
fn full_info(address: &str, subnet: &str, yaml: bool) -> Value {
    let mut addr = json!({ "hostname": "", "value": address, "cidr": subnet });
    let mut info = json!({
        "mac-address": "",
        "interface-name": "lo",
        "addresses": [],
    });
    if yaml {
        addr["address"] = Value::String(address.to_owned());
        info["macaddress"] = Value::String(String::new());
        info["interfacename"] = Value::String("lo".to_owned());
    }
    info["addresses"] = json!([addr]);
    json!({
        "bind-addresses": [info],
        "egress-subnets": [subnet],
        "ingress-addresses": [address],
    })
}
