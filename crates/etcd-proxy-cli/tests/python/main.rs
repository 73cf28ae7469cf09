//! The Python package's suite (`python/tests`, pytest) from `cargo test`: installs
//! `python/` (maturin, pyo3) into the virtualenv `scripts/python-env.sh` made, whose python
//! is `ETCD_PROXY_PYTHON`, then runs pytest with the CLI binary at hand for the emulator
//! tests. Without `ETCD_PROXY_PYTHON` it prints a loud `SKIPPED` line, except under `CI`,
//! where it fails.
//!
//! The install is the plain `pip install ./python` of a fresh machine: pip builds in an
//! isolated environment with maturin fetched from PyPI (`[build-system]` of
//! `python/pyproject.toml`), so that path is the one tested. `CARGO_TARGET_DIR` keeps the
//! Rust build between runs (about 2 s more than `--no-build-isolation` once warm).

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

/// The installed distribution is the one abi3 wheel for CPython >= 3.8 (its `WHEEL` tag).
fn assert_abi3_wheel(python: &Path, root: &Path) {
    let out = Command::new(python)
        .args([
            "-c",
            "import importlib.metadata as m; \
             d = m.distribution('etcd-proxy-relation'); \
             print(d.read_text('WHEEL')); print(d.metadata['Requires-Python'])",
        ])
        .current_dir(root)
        .output()
        .expect("running python");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "reading the wheel's metadata failed");
    assert!(
        text.lines().any(|l| l.starts_with("Tag: cp38-abi3-")),
        "not an abi3 wheel for CPython >= 3.8:\n{text}"
    );
    assert!(
        text.lines().any(|l| l.trim() == ">=3.8"),
        "Requires-Python is not >=3.8:\n{text}"
    );
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
        .args(["-m", "pip", "install", "-q", "./python"])
        .current_dir(&root)
        .env("PATH", &path)
        .env("CARGO_TARGET_DIR", &target)
        .env("VIRTUAL_ENV", bin_dir.parent().unwrap_or(&bin_dir))
        .status()
        .expect("running pip");
    assert!(status.success(), "pip install ./python failed");
    assert_abi3_wheel(&python, &root);
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
