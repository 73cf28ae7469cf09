//! Tests of the store.

use super::*;

#[test]
fn state_round_trips_and_the_database_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("m"));
    assert!(matches!(store.load_model(), Err(EmulatorError::NoModel(_))));
    assert!(!store.exists());
    let mut state = store.load_state().unwrap();
    state.hooks_started = 7;
    state
        .queue
        .push_back(HookInvocation::new("a/0".parse().unwrap(), "install"));
    store.save_state(&state).unwrap();
    assert_eq!(store.load_state().unwrap(), state);
    let mode = |p: PathBuf| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(store.db_path()), 0o600);
    assert_eq!(mode(store.dir().to_owned()), 0o700);
}

#[test]
fn repeated_changes_coalesce_while_one_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("m"));
    store.save_state(&EmulatorState::default()).unwrap();
    let changed = |remote: &str| {
        HookInvocation::changed(
            "a/0".parse().unwrap(),
            "db:0".parse().unwrap(),
            remote.parse().unwrap(),
        )
    };
    let push =
        |hooks: Vec<HookInvocation>| store.write(|db| db.queue_push_coalesced(hooks)).unwrap();
    assert_eq!(push(vec![changed("b/0"), changed("b/0")]).len(), 1);
    assert_eq!(push(vec![changed("b/0"), changed("b/1")]), [changed("b/1")]);
    // Once the queued one ran, a new change queues again.
    let mut state = store.load_state().unwrap();
    state.queue.pop_front();
    store.save_state(&state).unwrap();
    assert_eq!(push(vec![changed("b/0")]).len(), 1);
    // Other hooks never coalesce.
    let install = HookInvocation::new("a/0".parse().unwrap(), "install");
    assert_eq!(push(vec![install.clone(), install]).len(), 2);
    assert_eq!(store.load_state().unwrap().queue.len(), 4);
}

#[test]
fn the_model_round_trips_through_skeleton_bags_and_logs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let (model, number) = related_model();
    let etcd0: UnitName = "etcd/0".parse().unwrap();
    store.save_model(&model).unwrap();
    assert!(store.exists());
    assert_eq!(store.load_model().unwrap(), model);
    let skeleton = store.read(|db| db.skeleton_text()).unwrap().unwrap();
    assert!(!skeleton.contains("hello") && !skeleton.contains("ingress-address"));
    let bag = store
        .read(|db| db.bag(number, &BagKey::Unit(etcd0.clone())))
        .unwrap()
        .unwrap();
    assert_eq!(bag["k"], "v");
}

#[test]
fn contexts_are_stored_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    assert_eq!(store.load_context("etcd/0-install-1").unwrap(), None);
    let context = HookContextFile {
        id: "etcd/0-install-1".into(),
        invocation: HookInvocation::new("etcd/0".parse().unwrap(), "install"),
        pending: Pending::default(),
    };
    store.save_context(&context).unwrap();
    assert_eq!(
        store.load_context(&context.id).unwrap(),
        Some(context.clone())
    );
    // Staged relation writes have rows of their own and come back whole.
    let mut staged = context.clone();
    staged
        .pending
        .unit_writes
        .insert(3, Databag::from([("a".into(), "1".into())]));
    staged
        .pending
        .app_writes
        .insert(4, Databag::from([("b".into(), "2".into())]));
    store.save_context(&staged).unwrap();
    assert_eq!(store.load_context(&context.id).unwrap(), Some(staged));
    store.remove_context(&context.id).unwrap();
    assert_eq!(store.load_context(&context.id).unwrap(), None);
    let left: i64 = store
        .read(|db| {
            Ok(db
                .conn
                .query_row("SELECT count(*) FROM staged", [], |r| r.get(0))
                .unwrap())
        })
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn json_lines_append_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let record = CallRecord {
        unit: Some("a/0".into()),
        hook: Some("install".into()),
        context_id: None,
        tool: "is-leader".into(),
        argv: vec!["--format=json".into()],
        exit_code: 0,
        duration_us: 12,
    };
    store.append_line(&store.calls_path(), &record).unwrap();
    store.append_line(&store.calls_path(), &record).unwrap();
    let back: Vec<CallRecord> = store.read_lines(&store.calls_path()).unwrap();
    assert_eq!(back, vec![record.clone(), record]);
}

/// A model with two etcd units related to one kube unit, a bag value and a log line.
fn related_model() -> (Model, u32) {
    let (mut model, number) = Model::with_relation(("etcd", 2), ("kube", 1), "db", "kv").unwrap();
    let etcd0: UnitName = "etcd/0".parse().unwrap();
    model
        .relations
        .get_mut(&number)
        .unwrap()
        .unit_bags
        .get_mut(&etcd0)
        .unwrap()
        .insert("k".into(), "v".into());
    model.log(&etcd0, LogLevel::Info, "hello");
    (model, number)
}

#[test]
fn a_version_1_database_is_migrated_and_a_newer_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = related_model();
    Store::new(dir.path()).save_model(&model).unwrap();
    // Version 1: the skeleton held units, relations and member views; no tables for them.
    let mut old = model.clone();
    take_bulky(&mut old);
    let conn = Connection::open(dir.path().join("model.db")).unwrap();
    conn.execute(
        "UPDATE skeleton SET model = ?1",
        [serde_json::to_string(&old).unwrap()],
    )
    .unwrap();
    conn.execute_batch(
        "DROP TABLE applications; DROP TABLE units; DROP TABLE relations; DROP TABLE members; \
         PRAGMA user_version = 1;",
    )
    .unwrap();
    assert_eq!(Store::new(dir.path()).load_model().unwrap(), model);
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);

    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    let err = Store::new(dir.path()).load_model().unwrap_err().to_string();
    assert!(err.contains("schema version 99 is newer"), "{err}");
}

#[test]
fn units_relations_and_members_have_rows_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let (model, number) = related_model();
    store.save_model(&model).unwrap();
    let skeleton = store.read(|db| db.skeleton_text()).unwrap().unwrap();
    assert!(!skeleton.contains("etcd/1"), "{skeleton}");
    let count = |sql: &str| -> i64 {
        store
            .read(|db| Ok(db.conn.query_row(sql, [], |r| r.get(0)).unwrap()))
            .unwrap()
    };
    assert_eq!(count("SELECT count(*) FROM units"), 3);
    assert_eq!(count("SELECT count(*) FROM relations"), 1);
    assert_eq!(count("SELECT count(*) FROM members"), 3);
    // kube/0's own view: the two etcd units.
    let view: String = store
        .read(|db| {
            Ok(db
                .conn
                .query_row(
                    "SELECT view FROM members WHERE relation = ?1 AND unit = 'kube/0'",
                    [number],
                    |r| r.get(0),
                )
                .unwrap())
        })
        .unwrap();
    assert_eq!(view, r#"["etcd/0","etcd/1"]"#);
}

#[test]
fn saving_rows_writes_only_what_changed_and_a_reader_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let (model, _) = related_model();
    store.save_model(&model).unwrap();
    let (mut mine, mut rows) = store.read(|db| db.load_rows()).unwrap();
    let (mut theirs, mut their_rows) = store.read(|db| db.load_rows()).unwrap();
    let kube0: UnitName = "kube/0".parse().unwrap();
    mine.status_set(
        &kube0,
        &WorkloadStatus::new(juju_hooks::StatusKind::Active, "ok"),
    )
    .unwrap();
    let versions = |db: &Db<'_>| -> Vec<(String, i64)> {
        let mut stmt = db
            .conn
            .prepare("SELECT unit, version FROM units ORDER BY unit")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let before = store.read(|db| Ok(versions(db))).unwrap();
    store
        .write(|db| db.save_rows(&mut mine, &mut rows))
        .unwrap();
    let after = store.read(|db| Ok(versions(db))).unwrap();
    let changed: Vec<&str> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .map(|(_, a)| a.0.as_str())
        .collect();
    assert_eq!(changed, ["kube/0"]);
    // Saving again writes nothing.
    store
        .write(|db| db.save_rows(&mut mine, &mut rows))
        .unwrap();
    assert_eq!(store.read(|db| Ok(versions(db))).unwrap(), after);
    // Another process catches up by the rows' versions.
    store
        .read(|db| db.sync_rows(&mut theirs, &mut their_rows))
        .unwrap();
    assert_eq!(theirs.status_get(&kube0).message, "ok");
}
