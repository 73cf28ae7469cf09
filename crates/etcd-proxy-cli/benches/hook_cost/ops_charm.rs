//! The ops requirer (`examples/ops-requirer`, on `etcd_proxy_relation.ops`) against a bare ops
//! charm that observes nothing, both next to the bash provider on the emulator: what the
//! library adds to a Python charm's `proxy-relation-changed` and `update-status`, in wall
//! time and in hook-tool calls. Needs `ETCD_PROXY_PYTHON` (the virtualenv of
//! `scripts/python-env.sh` with `./python` installed); without it, a loud `SKIPPED` line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use etcd_proxy::testing::TestPki;

use crate::measure::{format_calls, Spread};
use crate::Fallible;

const BARE_CHARM: &str = "#!/usr/bin/env python3\n\
import ops\n\n\n\
class Bare(ops.CharmBase):\n    \"\"\"Observes nothing: the cost of ops itself.\"\"\"\n\n\n\
if __name__ == \"__main__\":\n    ops.main(Bare)\n";

/// A bare charm that reads what the library reads (the remote units' and application's
/// databags, and, as leader, its own application databag) and does nothing with it: the
/// library's own cost is the difference to this one.
const READS_CHARM: &str = r#"#!/usr/bin/env python3
import ops


class Reads(ops.CharmBase):
    def __init__(self, framework):
        super().__init__(framework)
        framework.observe(self.on.proxy_relation_changed, self._read)

    def _read(self, event):
        for rel in self.model.relations["proxy"]:
            for unit in rel.units:
                dict(rel.data[unit])
            dict(rel.data[rel.app])
            if self.unit.is_leader():
                dict(rel.data[self.app])


if __name__ == "__main__":
    ops.main(Reads)
"#;

const HOOKS: [(&str, &[&str]); 2] = [
    (
        "proxy-relation-changed",
        &["-r", "0", "--remote-unit", "etcd/0"],
    ),
    ("update-status", &[]),
];

struct Emulator<'a> {
    binary: &'a Path,
    dir: PathBuf,
}

impl Emulator<'_> {
    fn run(&self, args: &[&str]) -> Fallible<()> {
        let out = Command::new(self.binary)
            .arg("emulator")
            .args(args)
            .env("JUJU_EMULATOR_DIR", &self.dir)
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "emulator {args:?} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        Ok(())
    }

    /// The tools called since byte `from` of the call log, and the log's new end.
    fn calls_since(&self, from: u64) -> Fallible<(BTreeMap<String, usize>, u64)> {
        let text = std::fs::read(self.dir.join("calls.jsonl")).unwrap_or_default();
        let start = usize::try_from(from)?.min(text.len());
        let mut calls = BTreeMap::new();
        for line in String::from_utf8_lossy(&text[start..]).lines() {
            let record: serde_json::Value = serde_json::from_str(line)?;
            if record["unit"] == "kube/0" {
                let tool = record["tool"].as_str().unwrap_or("?").to_owned();
                *calls.entry(tool).or_default() += 1;
            }
        }
        Ok((calls, text.len() as u64))
    }
}

fn copy_dir(from: &Path, to: &Path) -> Fallible<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// One world: the bash provider and `charm` as `kube`, related and settled.
fn world<'a>(
    binary: &'a Path,
    root: &Path,
    charm: &Path,
    pki_dir: &Path,
    venv: &Path,
) -> Fallible<Emulator<'a>> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let etcd = root.join("etcd");
    copy_dir(&repo.join("examples/bash-provider"), &etcd)?;
    std::fs::create_dir_all(etcd.join("bin"))?;
    std::os::unix::fs::symlink(binary, etcd.join("bin/etcd-proxy-relation"))?;
    let kube = root.join("kube");
    copy_dir(charm, &kube)?;
    std::os::unix::fs::symlink(venv, kube.join("venv"))?;
    let emulator = Emulator {
        binary,
        dir: root.join("model"),
    };
    let out = root.join("out");
    emulator.run(&["create"])?;
    emulator.run(&["deploy", &etcd.to_string_lossy(), "etcd"])?;
    emulator.run(&["deploy", "--no-settle", &kube.to_string_lossy(), "kube"])?;
    emulator.run(&[
        "config",
        "kube",
        &format!("credentials-dir={}", out.join("ssl").display()),
        &format!("unit-file={}", out.join("etcd-proxy.service").display()),
    ])?;
    emulator.run(&["relate", "etcd", "kube"])?;
    emulator.run(&[
        "config",
        "etcd",
        "cluster=etcd0=https://127.0.0.1:2380",
        &format!("tls-dir={}", pki_dir.display()),
    ])?;
    Ok(emulator)
}

#[derive(Default)]
struct Measured {
    wall_us: Vec<u64>,
    calls: BTreeMap<String, usize>,
}

/// Runs each hook `reps` times on every world, alternating worlds run by run so that a
/// change in the machine's load falls on both alike.
fn measure(worlds: &[Emulator<'_>], reps: usize) -> Fallible<Vec<Vec<Measured>>> {
    let mut results: Vec<Vec<Measured>> = worlds
        .iter()
        .map(|_| HOOKS.iter().map(|_| Measured::default()).collect())
        .collect();
    let mut ends = Vec::new();
    for world in worlds {
        ends.push(world.calls_since(0)?.1);
    }
    for _ in 0..reps {
        for (i, (hook, extra)) in HOOKS.iter().enumerate() {
            for (w, world) in worlds.iter().enumerate() {
                let mut args = vec!["run", "kube/0", hook];
                args.extend_from_slice(extra);
                let started = Instant::now();
                world.run(&args)?;
                let took = u64::try_from(started.elapsed().as_micros())?;
                let (calls, end) = world.calls_since(ends[w])?;
                ends[w] = end;
                results[w][i].wall_us.push(took);
                results[w][i].calls = calls;
            }
        }
    }
    Ok(results)
}

/// The Markdown section, or a `SKIPPED` line.
pub fn section(binary: &Path, pki: &TestPki, reps: usize) -> Fallible<String> {
    let title = "## Python: the ops requirer against a bare ops charm\n\n";
    let Some(python) = std::env::var_os("ETCD_PROXY_PYTHON").filter(|p| !p.is_empty()) else {
        let line = "SKIPPED: ETCD_PROXY_PYTHON not set (ETCD_PROXY_PYTHON=$(scripts/python-env.sh), with ./python installed)";
        eprintln!("hook_cost: {line}");
        return Ok(format!("{title}{line}\n"));
    };
    let python = PathBuf::from(python);
    let venv = python
        .parent()
        .and_then(Path::parent)
        .ok_or("ETCD_PROXY_PYTHON is not <venv>/bin/python")?
        .to_owned();
    let tmp = tempfile::tempdir()?;
    let pki_dir = tmp.path().join("tls");
    std::fs::create_dir_all(&pki_dir)?;
    std::fs::write(pki_dir.join("ca.pem"), &pki.ca_pem)?;
    std::fs::write(pki_dir.join("client.pem"), &pki.client.cert_pem)?;
    std::fs::write(pki_dir.join("client-key.pem"), &pki.client.key_pem)?;
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let library = repo.join("examples/ops-requirer");
    let bare = tmp.path().join("bare-charm");
    copy_dir(&library, &bare)?;
    std::fs::write(bare.join("src/charm.py"), BARE_CHARM)?;
    let reads = tmp.path().join("reads-charm");
    copy_dir(&library, &reads)?;
    std::fs::write(reads.join("src/charm.py"), READS_CHARM)?;
    let mut rows = Vec::new();
    let mut worlds = Vec::new();
    for (name, charm) in [("bare", &bare), ("reads", &reads), ("library", &library)] {
        let root = tmp.path().join(name);
        worlds.push(world(binary, &root, charm, &pki_dir, &venv)?);
    }
    eprintln!("hook_cost: ops charms, bare and library alternating, {reps} runs of each hook ...");
    let measured = measure(&worlds, reps)?;
    for (i, (hook, _)) in HOOKS.iter().enumerate() {
        let ms = |w: usize| {
            let spread = Spread::of(measured[w][i].wall_us.iter().copied());
            (spread.min as f64 / 1000.0, spread.median as f64 / 1000.0)
        };
        let (bare, reads, lib) = (ms(0), ms(1), ms(2));
        rows.push(format!(
            "| `{hook}` | {:.1} ({:.1}) | {:.1} ({:.1}) | {:.1} ({:.1}) | {:+.1} | {:+.1} | {} | {} | {} |",
            bare.0,
            bare.1,
            reads.0,
            reads.1,
            lib.0,
            lib.1,
            lib.0 - bare.0,
            lib.0 - reads.0,
            format_calls(&measured[0][i].calls),
            format_calls(&measured[1][i].calls),
            format_calls(&measured[2][i].calls),
        ));
    }
    Ok(format!(
        "{title}Wall time of `etcd-proxy-relation emulator run kube/0 HOOK` (the emulator's \
         own start-up included, the same for both), minimum (median) of {reps} runs alternating between the two charms, in ms; \
         added: difference of the minima; hook-tool calls of the last run.\n\n\
         | hook | bare ops charm | bare charm reading the same databags | ops requirer | requirer − bare | requirer − reading charm (the library's own time) | calls, bare | calls, reading charm | calls, requirer |\n\
         |---|---|---|---|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    ))
}
