//! A hook whose tool call fails persists nothing: `transact` over a `FileFlagStore` with the
//! real spawning code and each kind of tool fault.

use std::fs;
use std::time::Duration;

use juju_hooks::{
    transact, BagOwner, FileFlagStore, FlagStore, HookTools, ProcessHookTools, StateError,
    ToolError, UnitState,
};

use crate::shim::ShimTools;

/// What a hook handler fails with.
#[derive(Debug)]
enum HookError {
    Tool(ToolError),
    State(StateError),
}

impl std::fmt::Display for HookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tool(e) => write!(f, "tool: {e}"),
            Self::State(e) => write!(f, "state: {e}"),
        }
    }
}

impl From<ToolError> for HookError {
    fn from(e: ToolError) -> Self {
        Self::Tool(e)
    }
}

impl From<StateError> for HookError {
    fn from(e: StateError) -> Self {
        Self::State(e)
    }
}

/// A handler that changes the state first and reads relation data after.
fn hook(tools: &mut ProcessHookTools, store: &mut FileFlagStore) -> Result<(), HookError> {
    transact(store, |state| {
        state.flags.insert("proxy.available".to_owned());
        state.flags.remove("proxy.connected");
        let bag = tools.relation_get(
            &"proxy:3".parse().unwrap(),
            &BagOwner::Unit("etcd/0".parse().unwrap()),
        )?;
        state.data.insert("seen".to_owned(), serde_json::json!(bag));
        Ok(())
    })
}

fn setup(shim: &ShimTools) -> (FileFlagStore, Vec<u8>) {
    let mut store = FileFlagStore::in_charm_dir(shim.path(), "test");
    let mut before = UnitState::default();
    before.flags.insert("proxy.connected".to_owned());
    store.save(&before).unwrap();
    let bytes = fs::read(store.path()).unwrap();
    (store, bytes)
}

#[test]
fn every_tool_fault_leaves_the_flag_file_untouched() {
    type Fault = fn(&ShimTools);
    let faults: &[(&str, Fault)] = &[
        ("exit 1", |s| {
            s.fail("relation-get", 1, "ERROR permission denied\n");
        }),
        ("exit 2", |s| {
            s.fail("relation-get", 2, "ERROR no relation id specified\n");
        }),
        ("signal", |s| {
            s.mode("relation-get", "signal");
        }),
        ("hang", |s| {
            s.mode("relation-get", "hang");
        }),
        ("garbage", |s| {
            s.answer("relation-get", "<html>");
        }),
        ("missing", |s| {
            fs::remove_file(s.path().join("relation-get")).unwrap();
        }),
    ];
    for (name, inject) in faults {
        let shim = ShimTools::new();
        let (mut store, before) = setup(&shim);
        inject(&shim);
        let mut tools =
            ProcessHookTools::with_tools_dir(shim.path()).timeout(Duration::from_millis(300));
        match hook(&mut tools, &mut store) {
            Err(HookError::Tool(err)) => assert_eq!(err.tool(), "relation-get", "{name}"),
            Err(other) => panic!("{name}: expected a tool error, got {other}"),
            Ok(()) => panic!("{name}: the hook succeeded"),
        }
        assert_eq!(fs::read(store.path()).unwrap(), before, "{name}");
    }
}

#[test]
fn a_successful_hook_saves_its_changes() {
    let shim = ShimTools::new();
    let (mut store, before) = setup(&shim);
    shim.answer("relation-get", r#"{"a":"b"}"#);
    hook(&mut shim.tools(), &mut store).unwrap();
    assert_ne!(fs::read(store.path()).unwrap(), before);
    let after = store.load().unwrap();
    assert_eq!(
        after.flags.into_iter().collect::<Vec<_>>(),
        ["proxy.available"]
    );
    assert_eq!(after.data["seen"], serde_json::json!({"a": "b"}));
}
