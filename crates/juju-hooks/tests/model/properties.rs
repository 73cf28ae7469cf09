//! Whatever an operator does, and whatever charms write in any hook, the model stays one Juju
//! could produce, every hook it queues is valid when its turn comes, and the model survives a
//! JSON round trip.

use std::collections::VecDeque;

use juju_hooks::testing::{HookInvocation, Model, Pending};
use juju_hooks::{Databag, Endpoint, UnitName, WriteScope};
use proptest::prelude::*;

use crate::support::{app, deployed, endpoint, etcd_end, kube_end};

#[derive(Clone, Debug)]
enum Op {
    AddUnit { etcd: bool },
    RemoveUnit { pick: usize },
    Relate,
    Unrelate,
    UpdateStatus { pick: usize },
}

/// What every hook run during one step writes into each relation of its unit: a value for
/// `key` (empty = delete), into the app bag when `app_bag` and the unit leads.
#[derive(Clone, Debug)]
struct Charm {
    value: String,
    app_bag: bool,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<bool>().prop_map(|etcd| Op::AddUnit { etcd }),
        (0..8usize).prop_map(|pick| Op::RemoveUnit { pick }),
        Just(Op::Relate),
        Just(Op::Unrelate),
        (0..8usize).prop_map(|pick| Op::UpdateStatus { pick }),
    ]
}

fn charm() -> impl Strategy<Value = Option<Charm>> {
    prop::option::of(("[ab]?", any::<bool>()).prop_map(|(value, app_bag)| Charm { value, app_bag }))
}

fn own_endpoint(unit: &UnitName) -> Endpoint {
    endpoint(if unit.app().as_str() == "etcd" {
        "proxy"
    } else {
        "etcd"
    })
}

fn pick_unit(model: &Model, pick: usize) -> Option<UnitName> {
    let units: Vec<UnitName> = model
        .applications
        .values()
        .flat_map(|a| a.units.keys().cloned())
        .collect();
    units.get(pick % units.len().max(1)).cloned()
}

/// Runs the queue until it is empty, checking the model after every hook.
fn drain(model: &mut Model, queue: &mut VecDeque<HookInvocation>, charm: Option<&Charm>) -> usize {
    let mut ran = 0;
    while let Some(hook) = queue.pop_front() {
        ran += 1;
        assert!(ran < 1_000, "hooks kept firing");
        model.begin_hook(&hook).unwrap();
        let mut pending = Pending::default();
        if let Some(charm) = charm {
            let scope = if charm.app_bag && model.is_leader(&hook.unit) {
                WriteScope::App
            } else {
                WriteScope::Unit
            };
            let changes = Databag::from([("key".to_owned(), charm.value.clone())]);
            for rid in model.relation_ids(&hook.unit, &own_endpoint(&hook.unit)) {
                model
                    .relation_set(&hook.unit, &mut pending, &rid, scope, &changes)
                    .unwrap();
            }
        }
        queue.extend(model.commit(&hook.unit, pending));
        model.check().unwrap();
    }
    ran
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_sequence_of_operations_keeps_the_model_consistent(
        steps in prop::collection::vec((op(), charm()), 1..14)
    ) {
        let mut model = deployed(1, 1);
        let mut queue = VecDeque::new();
        for (op, charm) in steps {
            match op {
                Op::AddUnit { etcd } => {
                    let name = if etcd { "etcd" } else { "kube" };
                    queue.extend(model.add_unit(&app(name)).unwrap().1);
                }
                Op::RemoveUnit { pick } => {
                    if let Some(unit) = pick_unit(&model, pick) {
                        queue.extend(model.remove_unit(&unit).unwrap());
                    }
                }
                Op::Relate => {
                    if model.relations.is_empty() {
                        queue.extend(model.relate(&etcd_end(), &kube_end()).unwrap().1);
                    }
                }
                Op::Unrelate => {
                    if let Some(number) = model.relations.keys().next().copied() {
                        queue.extend(model.unrelate(number).unwrap());
                    }
                }
                Op::UpdateStatus { pick } => {
                    if let Some(unit) = pick_unit(&model, pick) {
                        queue.push_back(HookInvocation::new(unit, "update-status"));
                    }
                }
            }
            drain(&mut model, &mut queue, charm.as_ref());
            prop_assert!(model.running.is_empty());
            prop_assert!(model.dying_units.is_empty());
            prop_assert!(model.relations.values().all(|rel| !rel.dying));
            let json = serde_json::to_string(&model).unwrap();
            let back: Model = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, &model);
        }
    }
}
