//! A temporary Juju tools directory of shell scripts (links to `fake_tool.sh`) that answer
//! from files and fail on demand.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::time::Duration;

use juju_hooks::{Databag, ProcessHookTools};

/// The tools the requirer calls.
pub const TOOLS: [&str; 5] = [
    "relation-ids",
    "relation-list",
    "relation-get",
    "status-set",
    "juju-log",
];

/// How a tool misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Exit1,
    Exit2,
    Hang,
    Garbage,
    Missing,
}

pub struct FakeTools {
    dir: tempfile::TempDir,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hardening/fake_tool.sh")
}

impl FakeTools {
    /// Every tool present, answering: one relation `proxy:1` with the member `etcd/0`, whose
    /// databag is `bag`.
    pub fn new(bag: &Databag) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // Links, not copies: an executable written while other threads fork can fail to
        // exec with ETXTBSY.
        for tool in TOOLS {
            symlink(script(), dir.path().join(tool)).unwrap();
        }
        let fake = Self { dir };
        fake.answer("relation-ids", r#"["proxy:1"]"#);
        fake.answer("relation-list", r#"["etcd/0"]"#);
        fake.publish(bag);
        fake
    }

    pub fn answer(&self, tool: &str, stdout: &str) {
        fs::write(self.dir.path().join(format!("{tool}.out")), stdout).unwrap();
    }

    /// What `relation-get` returns for `etcd/0` from now on.
    pub fn publish(&self, bag: &Databag) {
        self.answer("relation-get", &serde_json::to_string(bag).unwrap());
    }

    pub fn inject(&self, tool: &str, fault: Fault) {
        let word = match fault {
            Fault::Exit1 => "exit1",
            Fault::Exit2 => "exit2",
            Fault::Hang => "hang",
            Fault::Garbage => "garbage",
            Fault::Missing => {
                fs::remove_file(self.dir.path().join(tool)).unwrap();
                return;
            }
        };
        fs::write(self.dir.path().join(format!("{tool}.fault")), word).unwrap();
    }

    pub fn tools(&self, timeout: Duration) -> ProcessHookTools {
        ProcessHookTools::with_tools_dir(self.dir.path()).timeout(timeout)
    }
}
