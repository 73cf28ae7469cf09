//! `unit-get`, `network-get`: every unit has one loopback address of its own (the address
//! Juju seeds its relation bags with), so servers a charm starts on it are reachable locally.
//!
//! Output shapes follow juju/juju 3.6 `worker/uniter/runner/jujuc/unit-get.go` and
//! `network-get.go`: its full form prints the `*Display` structs there (field order kept,
//! YAML-only legacy copies last), the flag forms a value or a Go map.

use juju_hooks::testing::unit_address;
use serde_json::{json, Map, Value};

use super::{parse, print, print_as, Failure, Session, ToolIo, FORMAT, OUTPUT, RELATION};
use crate::args::{check_empty, go_quote, OptSpec};
use crate::format::{Format, Tree};

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
    let tree = if parsed.switch("primary-address") {
        if !keys.is_empty() {
            return Err(Failure::runtime(
                "--primary-address must be the only flag specified",
            ));
        }
        Tree::from(Value::String(address))
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
        Tree::from(match keys.as_slice() {
            [one] => values.remove(*one).unwrap_or(Value::Null),
            _ => Value::Object(values),
        })
    };
    print_as(&tree, &parsed, &mut io, Format::Smart)
}

/// `resultToDisplay`'s `networkInfoResultDisplay` for the unit's one loopback interface;
/// YAML (and smart, which prints structs as YAML) adds the `json:"-"` legacy copies.
fn full_info(address: &str, subnet: &str, yaml: bool) -> Tree {
    let text = |s: &str| Tree::from(Value::String(s.to_owned()));
    let mut addr = vec![
        ("hostname", text("")),
        ("value", text(address)),
        ("cidr", text(subnet)),
    ];
    let mut info = vec![("mac-address", text("")), ("interface-name", text("lo"))];
    if yaml {
        addr.push(("address", text(address)));
    }
    info.push(("addresses", Tree::List(vec![Tree::Struct(addr)])));
    if yaml {
        info.push(("macaddress", text("")));
        info.push(("interfacename", text("lo")));
    }
    Tree::Struct(vec![
        ("bind-addresses", Tree::List(vec![Tree::Struct(info)])),
        ("egress-subnets", Tree::List(vec![text(subnet)])),
        ("ingress-addresses", Tree::List(vec![text(address)])),
    ])
}
