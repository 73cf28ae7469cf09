//! The Python package's suite (`python/tests`, pytest) from `cargo test`: installs
//! `python/` (maturin, pyo3) into the virtualenv `scripts/python-env.sh` made, whose python
//! is `ETCD_PROXY_PYTHON`, then runs pytest with the CLI binary at hand for the emulator
//! tests. Without `ETCD_PROXY_PYTHON` it prints a loud `SKIPPED` line, except under `CI`,
//! where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> Option<PathBuf> {
    match std::env::var_os("ETCD_PROXY_PYTHON").filter(|p| !p.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "ETCD_PROXY_PYTHON is not set under CI: run scripts/python-env.sh (see .ci/run)"
            );
            eprintln!(
                "SKIPPED: python package tests: ETCD_PROXY_PYTHON is not set \
                 (ETCD_PROXY_PYTHON=$(scripts/python-env.sh) cargo test)"
            );
            None
        }
    }
}

#[test]
fn python_package_suite() {
    let Some(python) = python() else { return };
    let root = repo_root();
    let bin_dir = python
        .parent()
        .expect("the venv's bin directory")
        .to_owned();
    let path = std::env::join_paths(
        std::iter::once(bin_dir.clone()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .expect("PATH");
    // Its own target directory: the outer `cargo test` holds the workspace's lock.
    let target = root.join("target/python-build");
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "-q",
            "--no-build-isolation",
            "./python",
        ])
        .current_dir(&root)
        .env("PATH", &path)
        .env("CARGO_TARGET_DIR", &target)
        .env("VIRTUAL_ENV", bin_dir.parent().unwrap_or(&bin_dir))
        .status()
        .expect("running pip");
    assert!(status.success(), "pip install ./python failed");
    let status = Command::new(&python)
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "python/tests",
        ])
        .current_dir(&root)
        .env("PATH", &path)
        .env(
            "ETCD_PROXY_RELATION_BIN",
            env!("CARGO_BIN_EXE_etcd-proxy-relation"),
        )
        .status()
        .expect("running pytest");
    assert!(
        status.success(),
        "pytest python/tests failed (output above)"
    );
}
