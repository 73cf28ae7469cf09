//! `scripts/pack-charm.sh`: the archive Juju deploys, its layout and its Unix modes.
//!
//! The zip's central directory is read here directly (no zip crate): names, the system that
//! made each entry (3 = Unix) and the mode in the high half of the external attributes.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{charm_binary, example_dir};

/// Whether python3 (which the packer zips with) runs. Without it the pack tests print a loud
/// `SKIPPED` line, except under `CI`, where they fail.
fn python3_available() -> bool {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let msg = "SKIPPED: python3 not found (pack-charm.sh zips with it); install python3";
        assert!(std::env::var_os("CI").is_none(), "{msg} (CI is set)");
        let _ = writeln!(std::io::stderr(), "\n========== {msg} ==========\n");
    }
    found
}

fn repo_root() -> PathBuf {
    example_dir().join("../..")
}

fn pack(args: &[&str]) -> Output {
    Command::new("bash")
        .arg(repo_root().join("scripts/pack-charm.sh"))
        .args(args)
        .output()
        .expect("bash runs")
}

fn pack_ok(args: &[&str]) -> PathBuf {
    let output = pack(args);
    assert!(
        output.status.success(),
        "pack-charm.sh {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

#[derive(Debug, PartialEq, Eq)]
struct Entry {
    name: String,
    unix: bool,
    mode: u32,
}

fn u16_at(bytes: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// The entries of a zip, from its central directory.
fn entries(zip: &[u8]) -> Vec<Entry> {
    let end = (0..=zip.len() - 22)
        .rev()
        .find(|&i| zip[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .expect("end of central directory");
    let count = u16_at(zip, end + 10);
    let mut at = u32_at(zip, end + 16) as usize;
    let mut found = Vec::new();
    for _ in 0..count {
        assert_eq!(zip[at..at + 4], [0x50, 0x4b, 0x01, 0x02], "central header");
        let made_by_system = zip[at + 5];
        let (name_len, extra_len, comment_len) = (
            u16_at(zip, at + 28),
            u16_at(zip, at + 30),
            u16_at(zip, at + 32),
        );
        let external = u32_at(zip, at + 38);
        let name = String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).unwrap();
        found.push(Entry {
            name,
            unix: made_by_system == 3,
            mode: external >> 16,
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    found
}

/// Extracts with Python's zipfile (which the packer needs anyway) to compare contents.
fn extract(archive: &Path, into: &Path) {
    let status = Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(archive)
        .arg(into)
        .status()
        .expect("python3 runs");
    assert!(status.success());
}

fn modes(archive: &Path) -> Vec<(String, u32)> {
    let zip = fs::read(archive).unwrap();
    entries(&zip)
        .into_iter()
        .map(|e| {
            assert!(e.unix, "{} not marked as made on Unix", e.name);
            (e.name, e.mode)
        })
        .collect()
}

/// A directory with stand-ins for binaries, so no test builds a release binary.
fn stand_in_bins(dir: &Path, names: &[&str]) -> PathBuf {
    let bins = dir.join("stand-in-bins");
    fs::create_dir_all(&bins).unwrap();
    for name in names {
        let path = bins.join(name);
        fs::write(&path, "#!/bin/sh\necho stand-in\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    bins
}

const FILE_0644: u32 = 0o100644;
const FILE_0755: u32 = 0o100755;
const DIR_0755: u32 = 0o040755;

#[test]
fn the_rust_requirer_packs_its_charm_dir_and_binary_with_modes() {
    if !python3_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bin_dir = charm_binary().parent().unwrap().to_owned();
    let archive = pack_ok(&[
        "--bin-dir",
        bin_dir.to_str().unwrap(),
        "--arch",
        "amd64",
        example_dir().to_str().unwrap(),
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(archive, tmp.path().join("rust-proxy-requirer_amd64.charm"));
    let mut found = modes(&archive);
    found.sort();
    assert_eq!(
        found,
        [
            ("bin/".to_owned(), DIR_0755),
            ("bin/rust-proxy-requirer".to_owned(), FILE_0755),
            ("config.yaml".to_owned(), FILE_0644),
            ("dispatch".to_owned(), FILE_0755),
            ("manifest.yaml".to_owned(), FILE_0644),
            ("metadata.yaml".to_owned(), FILE_0644),
        ]
    );

    let out = tmp.path().join("unpacked");
    extract(&archive, &out);
    for file in ["metadata.yaml", "config.yaml", "dispatch"] {
        assert_eq!(
            fs::read(out.join(file)).unwrap(),
            fs::read(example_dir().join("charm").join(file)).unwrap(),
            "{file}"
        );
    }
    // Shipped stripped: still the ELF executable, without its symbols.
    let shipped = fs::read(out.join("bin/rust-proxy-requirer")).unwrap();
    let built = fs::read(charm_binary()).unwrap();
    assert_eq!(shipped[..4], *b"\x7fELF");
    assert!(
        shipped.len() < built.len(),
        "{} bytes shipped, {} built",
        shipped.len(),
        built.len()
    );
    let manifest = fs::read_to_string(out.join("manifest.yaml")).unwrap();
    for base in ["22.04", "24.04"] {
        assert!(
            manifest.contains(&format!(
                "- architectures:\n  - amd64\n  channel: '{base}'\n  name: ubuntu\n"
            )),
            "{manifest}"
        );
    }
    assert!(
        manifest.contains("\ncharmcraft-started-at: '"),
        "{manifest}"
    );
}

#[test]
fn a_bash_charm_gets_the_binaries_its_dispatch_runs_and_nothing_hidden() {
    if !python3_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // A charm dir that was used: a state file and a stale bin/ must not be packed.
    let charm = tmp.path().join("bash-requirer");
    fs::create_dir_all(charm.join("bin")).unwrap();
    for file in ["metadata.yaml", "config.yaml", "dispatch"] {
        fs::copy(
            repo_root().join("examples/bash-requirer").join(file),
            charm.join(file),
        )
        .unwrap();
    }
    fs::write(charm.join(".etcd-proxy-relation.state.json"), "{}").unwrap();
    fs::write(charm.join("bin/stale"), "old").unwrap();
    let bins = stand_in_bins(tmp.path(), &["etcd-proxy-relation"]);

    let archive = pack_ok(&[
        "--bin-dir",
        bins.to_str().unwrap(),
        "--base",
        "ubuntu@24.04",
        "--arch",
        "arm64",
        charm.to_str().unwrap(),
        tmp.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(archive, tmp.path().join("out/proxy-requirer_arm64.charm"));
    let mut found = modes(&archive);
    found.sort();
    assert_eq!(
        found,
        [
            ("bin/".to_owned(), DIR_0755),
            ("bin/etcd-proxy-relation".to_owned(), FILE_0755),
            ("config.yaml".to_owned(), FILE_0644),
            ("dispatch".to_owned(), FILE_0755),
            ("manifest.yaml".to_owned(), FILE_0644),
            ("metadata.yaml".to_owned(), FILE_0644),
        ]
    );
    let out = tmp.path().join("unpacked");
    extract(&archive, &out);
    let manifest = fs::read_to_string(out.join("manifest.yaml")).unwrap();
    assert!(
        manifest.contains("  - arm64\n  channel: '24.04'\n"),
        "{manifest}"
    );
    assert!(!manifest.contains("22.04"), "{manifest}");
}

#[test]
fn a_missing_binary_or_charm_file_fails_with_a_reason() {
    if !python3_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let empty = stand_in_bins(tmp.path(), &[]);
    let bash_provider = repo_root().join("examples/bash-provider");
    let output = pack(&[
        "--bin-dir",
        empty.to_str().unwrap(),
        bash_provider.to_str().unwrap(),
        tmp.path().to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no executable") && stderr.contains("etcd-proxy-relation"),
        "{stderr}"
    );

    let output = pack(&[tmp.path().to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("has no metadata.yaml"));
    assert!(fs::read_dir(tmp.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".charm")));
}

/// A bash charm whose dispatch names the binary another way than `$JUJU_CHARM_DIR/bin/`.
fn charm_with_dispatch(dir: &Path, dispatch: &str) -> PathBuf {
    let charm = dir.join("charm");
    fs::create_dir_all(&charm).unwrap();
    fs::copy(
        repo_root().join("examples/bash-requirer/metadata.yaml"),
        charm.join("metadata.yaml"),
    )
    .unwrap();
    fs::write(charm.join("dispatch"), dispatch).unwrap();
    charm
}

#[test]
fn every_way_of_naming_the_binary_ships_it() {
    if !python3_available() {
        return;
    }
    for dispatch in [
        "#!/bin/sh\ncd \"$JUJU_CHARM_DIR\"\nexec ./bin/etcd-proxy-relation requires sync\n",
        "#!/bin/sh\ncd \"$JUJU_CHARM_DIR\" && bin/etcd-proxy-relation requires sync\n",
        "#!/bin/sh\n\"${JUJU_CHARM_DIR}/bin/etcd-proxy-relation\" requires sync\n",
        "#!/bin/sh\nepr=\"$JUJU_CHARM_DIR\"/bin/etcd-proxy-relation\n$epr requires sync\n",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let charm = charm_with_dispatch(tmp.path(), dispatch);
        let bins = stand_in_bins(tmp.path(), &["etcd-proxy-relation"]);
        let archive = pack_ok(&[
            "--bin-dir",
            bins.to_str().unwrap(),
            charm.to_str().unwrap(),
            tmp.path().to_str().unwrap(),
        ]);
        let names: Vec<String> = modes(&archive).into_iter().map(|(n, _)| n).collect();
        assert!(
            names.contains(&"bin/etcd-proxy-relation".to_owned()),
            "{dispatch}: {names:?}"
        );
        // /bin/sh in the shebang is no charm binary.
        assert!(!names.contains(&"bin/sh".to_owned()), "{names:?}");
    }
}

#[test]
fn a_dispatch_naming_a_binary_that_would_not_ship_is_refused() {
    if !python3_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let charm = charm_with_dispatch(
        tmp.path(),
        "#!/bin/sh\ncd \"$JUJU_CHARM_DIR\"\nexec ./bin/etcd-proxy-relation \"$@\"\n",
    );
    let bins = stand_in_bins(tmp.path(), &["etcd-proxy-relation", "other"]);
    let output = pack(&[
        "--bin-dir",
        bins.to_str().unwrap(),
        "--bin",
        "other",
        charm.to_str().unwrap(),
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("runs bin/etcd-proxy-relation"), "{stderr}");
    assert!(fs::read_dir(tmp.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".charm")));
}

#[test]
fn help_exits_0_and_a_bad_option_2() {
    let help = pack(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("Packs an example charm"));
    assert_eq!(pack(&["--no-such-option"]).status.code(), Some(2));
}

/// The emulator deploys the packed archive as `juju deploy ./x.charm` does: each unit gets
/// it unpacked, binary executable, and its hooks run.
#[test]
fn the_emulator_deploys_the_packed_charm() {
    if !python3_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bin_dir = charm_binary().parent().unwrap().to_owned();
    let archive = pack_ok(&[
        "--bin-dir",
        bin_dir.to_str().unwrap(),
        example_dir().to_str().unwrap(),
        tmp.path().to_str().unwrap(),
    ]);
    let mut emulator =
        juju_emulator::Emulator::create(&tmp.path().join("model"), "packed", &charm_binary())
            .unwrap();
    let units = emulator
        .deploy(&"kube".parse().unwrap(), &archive, 1)
        .unwrap();
    let dir = emulator.unit_charm_dir(&units[0]);
    let mode = fs::metadata(dir.join("bin/rust-proxy-requirer"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    assert!(dir.join("metadata.yaml").is_file());
    // Dry run: the install hook logs the package it would install.
    let dry = std::collections::BTreeMap::from([("dry-run".to_owned(), "true".to_owned())]);
    emulator.set_config(&"kube".parse().unwrap(), &dry).unwrap();
    let reports = emulator.settle(100).unwrap();
    assert!(!reports.is_empty());
    assert!(
        reports
            .iter()
            .all(|r| r.outcome == juju_emulator::HookOutcome::Succeeded),
        "{reports:?}"
    );

    // A truncated state file: the next hook logs it once and carries on from no state.
    let state = dir.join(format!(
        ".{}.state.json",
        rust_proxy_requirer::STATE_NAMESPACE
    ));
    assert!(state.is_file(), "{}", state.display());
    fs::write(&state, "{\"flags\": [").unwrap();
    let hook = juju_hooks::testing::HookInvocation::new(units[0].clone(), "update-status");
    let report = emulator.run_hook(hook).unwrap();
    assert_eq!(
        report.outcome,
        juju_emulator::HookOutcome::Succeeded,
        "{report:?}"
    );
    let logs: Vec<String> = emulator
        .model()
        .unit(&units[0])
        .unwrap()
        .logs
        .iter()
        .map(|l| l.message.clone())
        .collect();
    assert!(
        logs.iter()
            .any(|l| l.contains("is corrupt") && l.contains("no saved state")),
        "{logs:?}"
    );
    assert!(fs::read_to_string(&state).unwrap().ends_with("}\n"));
}
