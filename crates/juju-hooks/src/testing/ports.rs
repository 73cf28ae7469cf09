//! Opened ports on the model (`open-port`, `close-port`, `opened-ports`).
//!
//! As juju/juju 3.6 `worker/uniter/runner/context/ports.go` and `core/network/portrange.go`:
//! a unit opens port ranges per endpoint (`*` = all endpoints); changes are staged and
//! committed with the hook; `opened-ports` shows the committed ranges plus this hook's changes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::model::{Model, Pending, Refusal};
use crate::ids::UnitName;

/// The endpoint key meaning "every endpoint" (`open-port` without `--endpoints`).
pub const ALL_ENDPOINTS: &str = "*";

/// A port range with its protocol; ICMP has no ports (`from` = `to` = 0).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PortRange {
    /// `tcp`, `udp` or `icmp` (sorted as Juju sorts them: by protocol, then ports).
    pub protocol: String,
    /// First port.
    pub from: u16,
    /// Last port.
    pub to: u16,
}

impl FromStr for PortRange {
    type Err = String;

    /// `<port>[/<protocol>]`, `<from>-<to>[/<protocol>]` or `icmp`, lowercased first as
    /// jujuc/ports.go `Init` does, then read as core/network/portrange.go `ParsePortRange`
    /// and `Validate` read it; the error is Juju's text.
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.to_ascii_lowercase();
        let (ports, protocol) = lower.split_once('/').unwrap_or((lower.as_str(), "tcp"));
        let parts: Vec<&str> = ports.split('-').collect();
        // strconv.Atoi, annotated with the text that did not parse.
        let atoi = |text: &str, shown: &str| {
            text.parse::<i64>().map_err(|e| {
                let why = match e.kind() {
                    std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                        "value out of range"
                    }
                    _ => "invalid syntax",
                };
                format!("invalid port {shown:?}: strconv.Atoi: parsing {text:?}: {why}")
            })
        };
        let (from, to) = match parts.as_slice() {
            ["icmp"] => (-1, -1),
            [one] => {
                let port = atoi(one, ports)?;
                (port, port)
            }
            [a, b] => (atoi(a, a)?, atoi(b, b)?),
            _ => return Err(format!("invalid port range {ports:?}")),
        };
        let protocol = if from == -1 { "icmp" } else { protocol };
        match protocol {
            "tcp" | "udp" => {}
            "icmp" if from == -1 && to == -1 => {
                return Ok(Self {
                    protocol: "icmp".into(),
                    from: 0,
                    to: 0,
                })
            }
            "icmp" => {
                return Err(format!(
                    "protocol \"icmp\" doesn't support any ports; got \"{from}\""
                ))
            }
            other => {
                return Err(format!(
                    "invalid protocol {other:?}, expected \"tcp\", \"udp\", or \"icmp\""
                ))
            }
        }
        if from > to {
            return Err(format!("invalid port range {from}-{to}/{protocol}"));
        }
        match (u16::try_from(from), u16::try_from(to)) {
            (Ok(from), Ok(to)) => Ok(Self {
                protocol: protocol.to_owned(),
                from,
                to,
            }),
            _ => Err(format!(
                "port range bounds must be between 0 and 65535, got {from}-{to}"
            )),
        }
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.protocol == "icmp" {
            f.write_str("icmp")
        } else if self.from == self.to {
            write!(f, "{}/{}", self.from, self.protocol)
        } else {
            write!(f, "{}-{}/{}", self.from, self.to, self.protocol)
        }
    }
}

impl TryFrom<String> for PortRange {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<PortRange> for String {
    fn from(range: PortRange) -> Self {
        range.to_string()
    }
}

/// One staged `open-port` or `close-port`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortChange {
    /// `true` for `open-port`.
    pub open: bool,
    /// The endpoint, or [`ALL_ENDPOINTS`].
    pub endpoint: String,
    /// The range.
    pub range: PortRange,
}

/// Opened ranges per endpoint.
pub type OpenedPorts = BTreeMap<String, BTreeSet<PortRange>>;

pub(super) fn apply_port_changes(ports: &mut OpenedPorts, changes: &[PortChange]) {
    for change in changes {
        if change.open {
            ports
                .entry(change.endpoint.clone())
                .or_default()
                .insert(change.range.clone());
        } else if let Some(set) = ports.get_mut(&change.endpoint) {
            set.remove(&change.range);
            if set.is_empty() {
                ports.remove(&change.endpoint);
            }
        }
    }
}

impl Model {
    /// `open-port` / `close-port`: stages the change for `endpoints` (empty = all).
    ///
    /// An endpoint the charm does not declare is staged too: the controller refuses it when
    /// the hook commits ([`Model::port_commit_refusal`]).
    ///
    /// # Errors
    /// A range that conflicts with one the unit already has open (Juju refuses overlapping
    /// ranges of one protocol).
    pub fn port_change(
        &self,
        unit: &UnitName,
        pending: &mut Pending,
        open: bool,
        range: &PortRange,
        endpoints: &[String],
    ) -> Result<(), Refusal> {
        if !self.applications.contains_key(unit.app()) {
            return Err(Refusal::runtime(format!("unit \"{unit}\" not found")));
        }
        let targets: Vec<String> = if endpoints.is_empty() {
            vec![ALL_ENDPOINTS.to_owned()]
        } else {
            endpoints.to_vec()
        };
        if open {
            let current = self.opened_ports(unit, pending);
            for (endpoint, ranges) in &current {
                if let Some(clash) = ranges.iter().find(|r| *r != range && overlaps(r, range)) {
                    let _ = endpoint;
                    return Err(Refusal::runtime(format!(
                        "cannot open {range} (unit {unit:?}): port range conflicts with {clash} \
                         (unit {unit:?})"
                    )));
                }
            }
        }
        for endpoint in targets {
            pending.port_changes.push(PortChange {
                open,
                endpoint,
                range: range.clone(),
            });
        }
        Ok(())
    }

    /// The controller's refusal of staged port changes naming an endpoint the unit's charm
    /// does not declare (state/machine_ports_ops.go `validatePendingChanges`: opens first, then
    /// closes): `open port range: endpoint "x" for unit "u/0" not found`.
    pub fn port_commit_refusal(&self, unit: &UnitName, pending: &Pending) -> Option<Refusal> {
        let declared = self.applications.get(unit.app()).map(|app| &app.endpoints);
        let unknown = |change: &&PortChange| {
            change.endpoint != ALL_ENDPOINTS
                && !declared.is_some_and(|d| d.keys().any(|e| e.as_str() == change.endpoint))
        };
        let opens = pending.port_changes.iter().filter(|c| c.open);
        let closes = pending.port_changes.iter().filter(|c| !c.open);
        opens.chain(closes).find(unknown).map(|change| {
            let verb = if change.open { "open" } else { "close" };
            Refusal::runtime(format!(
                "{verb} port range: endpoint {:?} for unit {:?} not found",
                change.endpoint,
                unit.to_string()
            ))
        })
    }

    /// `opened-ports`: the ranges per endpoint, this hook's changes included.
    pub fn opened_ports(&self, unit: &UnitName, pending: &Pending) -> OpenedPorts {
        let mut ports = self
            .unit(unit)
            .map(|r| r.opened_ports.clone())
            .unwrap_or_default();
        apply_port_changes(&mut ports, &pending.port_changes);
        ports
    }

    /// `application-version-set` (immediate, as in Juju).
    ///
    /// # Errors
    /// `unit "<u>" not found`.
    pub fn set_workload_version(&mut self, unit: &UnitName, version: &str) -> Result<(), Refusal> {
        let record = self
            .applications
            .get_mut(unit.app())
            .and_then(|app| app.units.get_mut(unit))
            .ok_or_else(|| Refusal::runtime(format!("unit \"{unit}\" not found")))?;
        record.workload_version = version.to_owned();
        Ok(())
    }
}

fn overlaps(a: &PortRange, b: &PortRange) -> bool {
    a.protocol == b.protocol && a.from <= b.to && b.from <= a.to
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::HookInvocation;

    #[test]
    fn ranges_parse_and_print_as_juju() {
        for (text, shown) in [
            ("80", "80/tcp"),
            ("80/tcp", "80/tcp"),
            ("53/UDP", "53/udp"),
            ("8000-8080/tcp", "8000-8080/tcp"),
            ("icmp", "icmp"),
        ] {
            assert_eq!(text.parse::<PortRange>().unwrap().to_string(), shown);
        }
        assert_eq!(
            "80/sctp".parse::<PortRange>(),
            Err("invalid protocol \"sctp\", expected \"tcp\", \"udp\", or \"icmp\"".into())
        );
        // core/network/portrange.go `parsePortRange` and `Validate`.
        for (text, error) in [
            ("HTTP", "invalid port \"http\": strconv.Atoi: parsing \"http\": invalid syntax"),
            ("80-x/udp", "invalid port \"x\": strconv.Atoi: parsing \"x\": invalid syntax"),
            ("1-2-3", "invalid port range \"1-2-3\""),
            ("90-80", "invalid port range 90-80/tcp"),
            ("80/icmp", "protocol \"icmp\" doesn't support any ports; got \"80\""),
            ("70000", "port range bounds must be between 0 and 65535, got 70000-70000"),
            (
                "99999999999999999999",
                "invalid port \"99999999999999999999\": strconv.Atoi: parsing \"99999999999999999999\": value out of range",
            ),
        ] {
            assert_eq!(text.parse::<PortRange>(), Err(error.to_owned()), "{text}");
        }
        // Juju's bounds include 0.
        assert_eq!("0".parse::<PortRange>().unwrap().to_string(), "0/tcp");
        let mut sorted: Vec<PortRange> = ["443", "80", "53/udp", "icmp"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        sorted.sort();
        let shown: Vec<String> = sorted.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["icmp", "80/tcp", "443/tcp", "53/udp"]);
    }

    #[test]
    fn ports_open_with_the_hook_and_close_again() {
        let (mut model, _) = Model::with_relation(("db", 1), ("app", 1), "store", "kv").unwrap();
        let unit: UnitName = "db/0".parse().unwrap();
        let range: PortRange = "80".parse().unwrap();
        let mut pending = Pending::default();
        model
            .port_change(&unit, &mut pending, true, &range, &[])
            .unwrap();
        model
            .port_change(
                &unit,
                &mut pending,
                true,
                &"443".parse().unwrap(),
                &["store".into()],
            )
            .unwrap();
        // An unknown endpoint is staged; the commit is refused (state/machine_ports_ops.go).
        let mut unknown = Pending::default();
        model
            .port_change(&unit, &mut unknown, false, &range, &["nope".into()])
            .unwrap();
        assert_eq!(
            model
                .port_commit_refusal(&unit, &unknown)
                .map(|r| r.message),
            Some("close port range: endpoint \"nope\" for unit \"db/0\" not found".to_owned())
        );
        assert_eq!(model.port_commit_refusal(&unit, &pending), None);
        let clash = model
            .port_change(&unit, &mut pending, true, &"70-90".parse().unwrap(), &[])
            .unwrap_err();
        assert!(
            clash.message.contains("conflicts with 80/tcp"),
            "{}",
            clash.message
        );
        assert_eq!(model.opened_ports(&unit, &pending).len(), 2);
        assert!(model.opened_ports(&unit, &Pending::default()).is_empty());
        model
            .begin_hook(&HookInvocation::new(unit.clone(), "update-status"))
            .unwrap();
        model.commit(&unit, pending);
        let opened = model.opened_ports(&unit, &Pending::default());
        assert_eq!(opened[ALL_ENDPOINTS].len(), 1);
        assert_eq!(opened["store"].len(), 1);

        let mut pending = Pending::default();
        model
            .port_change(&unit, &mut pending, false, &range, &[])
            .unwrap();
        assert!(!model
            .opened_ports(&unit, &pending)
            .contains_key(ALL_ENDPOINTS));
    }
}
