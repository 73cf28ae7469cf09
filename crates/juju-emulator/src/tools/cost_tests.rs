//! A tool call reads its own unit's rows, never those of the other units (issue 9: its cost
//! must not grow with the model).

use super::*;
use juju_hooks::testing::{HookInvocation, Pending};

/// Runs one tool call of `kube/0` in a model where it is related to `remotes` etcd units;
/// returns its stdout and the (rows, bytes) of JSON the call decoded.
fn call(remotes: u32, tool: &str, args: &str) -> (String, (u64, u64)) {
    let (model, number) = Model::with_relation(("etcd", remotes), ("kube", 1), "db", "kv").unwrap();
    call_in(model, number, tool, args, Pending::default())
}

/// [`call`] where `kube/0` is in `relations` relations, each to an application of one unit
/// (`etcd0`, `etcd1`, ...); `RID` names the one to `etcd1`.
fn call_related(relations: u32, tool: &str, args: &str) -> (String, (u64, u64)) {
    let mut model = Model::new("test");
    let endpoint: juju_hooks::Endpoint = "db".parse().unwrap();
    let kube: juju_hooks::AppName = "kube".parse().unwrap();
    let role = |role| BTreeMap::from([(endpoint.clone(), (role, "kv".to_owned()))]);
    model
        .deploy(&kube, role(juju_hooks::testing::EndpointRole::Requires), 1)
        .unwrap();
    let mut target = 0;
    for i in 0..relations {
        let app: juju_hooks::AppName = format!("etcd{i}").parse().unwrap();
        model
            .deploy(&app, role(juju_hooks::testing::EndpointRole::Provides), 1)
            .unwrap();
        let (number, hooks) = model
            .relate(
                &juju_hooks::testing::RelationEnd::new(app, endpoint.clone()),
                &juju_hooks::testing::RelationEnd::new(kube.clone(), endpoint.clone()),
            )
            .unwrap();
        model.settle(hooks).unwrap();
        if i == 1 {
            target = number;
        }
    }
    call_in(model, target, tool, args, Pending::default())
}

fn call_in(
    mut model: Model,
    number: u32,
    tool: &str,
    args: &str,
    pending: Pending,
) -> (String, (u64, u64)) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    for (unit, bag) in &mut model.relations.get_mut(&number).unwrap().unit_bags {
        bag.insert("client".into(), format!("https://{unit}"));
    }
    store.save_model(&model).unwrap();
    let kube0: UnitName = "kube/0".parse().unwrap();
    let context = HookContextFile {
        id: "kube/0-update-status-1".into(),
        invocation: HookInvocation::new(kube0, "update-status"),
        pending,
    };
    store.save_context(&context).unwrap();
    let args: Vec<String> = args
        .replace("RID", &format!("db:{number}"))
        .replace("NUM", &number.to_string())
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let mut session = Session::open(&store, &context.id, &load_scope(tool, &args)).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let io = ToolIo {
        stdin: &mut &b""[..],
        out: &mut out,
        err: &mut err,
    };
    dispatch(tool, &args, &mut session, io).unwrap();
    let decoded = session.store.decoded();
    session.save().unwrap();
    (String::from_utf8(out).unwrap(), decoded)
}

#[test]
fn a_relation_get_reads_the_same_rows_with_2_or_300_remote_units() {
    let (small_out, (small_rows, small_bytes)) = call(2, "relation-get", "-r RID client etcd/1");
    let (big_out, (big_rows, big_bytes)) = call(300, "relation-get", "-r RID client etcd/1");
    assert_eq!(small_out, "https://etcd/1\n");
    assert_eq!(big_out, small_out);
    // Context, skeleton, the relation, the two applications at its ends, the unit, the bag
    // (the member row only says the unit is in scope): nothing per other unit.
    assert_eq!(big_rows, small_rows);
    assert!(small_rows <= 7, "{small_rows} rows decoded");
    // Only `next_unit_number` (2 or 300) differs; 300 unit names would be > 2 KB.
    assert!(big_bytes <= small_bytes + 2, "{small_bytes} -> {big_bytes}");
}

#[test]
fn other_tools_read_no_row_of_other_units_and_relation_list_reads_only_its_view() {
    for (tool, args) in [
        ("is-leader", ""),
        ("config-get", ""),
        ("state-get", ""),
        ("relation-ids", "db"),
        ("relation-set", "-r RID k=v"),
        ("status-get", ""),
    ] {
        let (_, small) = call(2, tool, args);
        let (_, big) = call(300, tool, args);
        assert_eq!(big.0, small.0, "{tool}: rows");
        assert!(big.1 <= small.1 + 2, "{tool}: {small:?} -> {big:?}");
    }
    // relation-list prints the 300 names it reads, and only those.
    let (out, (_, small)) = call(2, "relation-list", "-r RID");
    assert_eq!(out, "etcd/0\netcd/1\n");
    let (out, (_, big)) = call(300, "relation-list", "-r RID");
    assert_eq!(out.lines().count(), 300);
    let names: u64 = out.lines().map(|l| l.len() as u64 + 3).sum();
    assert!(
        big <= small + names,
        "{small} -> {big} for {names} bytes of names"
    );
}

#[test]
fn a_relation_get_reads_the_same_rows_with_2_or_100_relations() {
    for args in [
        "-r RID client etcd1/0",
        "--relation=RID client etcd1/0",
        "-rNUM client etcd1/0",
    ] {
        let (small_out, small) = call_related(2, "relation-get", args);
        let (big_out, big) = call_related(100, "relation-get", args);
        assert_eq!(small_out, "https://etcd1/0\n", "{args}");
        assert_eq!(big_out, small_out);
        assert_eq!(big.0, small.0, "{args}: rows");
        // Only the counters' digits (next relation number) differ.
        assert!(big.1 <= small.1 + 4, "{args}: {small:?} -> {big:?}");
    }
    for (tool, args) in [
        ("is-leader", ""),
        ("state-get", ""),
        ("config-get", ""),
        ("status-set", "active"),
        ("network-get", "db -r RID"),
    ] {
        let (_, small) = call_related(2, tool, args);
        let (_, big) = call_related(100, tool, args);
        assert_eq!(big.0, small.0, "{tool}: rows");
        assert!(big.1 <= small.1 + 4, "{tool}: {small:?} -> {big:?}");
    }
    // relation-ids prints every relation, and reads them.
    let (out, _) = call_related(100, "relation-ids", "db");
    assert_eq!(out.lines().count(), 100);
}

#[test]
fn every_number_an_argument_could_name_is_loaded() {
    let args = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        relation_numbers(&args("-r db:3 --relation=4 -r5 -r=6 -ar7 k=v etcd/0 -")),
        BTreeSet::from([3, 4, 5, 6, 7])
    );
}

#[test]
fn a_relation_set_does_not_read_what_the_hook_staged_in_other_relations() {
    let staged = |relations: u32| {
        let mut pending = Pending::default();
        for number in 100..100 + relations {
            let bag = juju_hooks::Databag::from([("blob".to_owned(), "x".repeat(1000))]);
            pending.unit_writes.insert(number, bag);
        }
        let (model, number) = Model::with_relation(("etcd", 2), ("kube", 1), "db", "kv").unwrap();
        call_in(model, number, "relation-set", "-r RID k=v", pending).1
    };
    let (one, many) = (staged(1), staged(50));
    assert_eq!(many, one, "50 KB staged elsewhere were read");
}
