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

use crate::measure::{children_cpu_us, format_calls};
use crate::paired;
use crate::Fallible;

const BARE_CHARM: &str = "#!/usr/bin/env python3\n\
import ops\n\n\n\
class Bare(ops.CharmBase):\n    \"\"\"Observes nothing: the cost of ops itself.\"\"\"\n\n\n\
if __name__ == \"__main__\":\n    ops.main(Bare)\n";

/// A bare charm that reads what the library reads and does nothing with it: the remote
/// application's databag, then the credentials secret it names (wire version 2) or else the
/// remote units' databags, and, as leader, its own application databag, where it asks for
/// version 2 as the library does. The library's own cost is the difference to this one; the
/// same tool calls are expected of both.
const READS_CHARM: &str = r#"#!/usr/bin/env python3
import ops


class Reads(ops.CharmBase):
    def __init__(self, framework):
        super().__init__(framework)
        framework.observe(self.on.proxy_relation_changed, self._read)

    def _read(self, event):
        for rel in self.model.relations["proxy"]:
            app = dict(rel.data[rel.app])
            uri = app.get("client_credentials_secret")
            if uri:
                self.model.get_secret(id=uri).get_content()
            else:
                for unit in rel.units:
                    dict(rel.data[unit])
            if self.unit.is_leader() and rel.data[self.app].get("wire_version") != "2":
                rel.data[self.app]["wire_version"] = "2"


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
        self.run_timed(args).map(|_| ())
    }

    /// Runs one emulator command; returns its wall time and the CPU time (user + sys) of
    /// its whole process tree (the emulator, the hook, every tool it ran), both in µs.
    fn run_timed(&self, args: &[&str]) -> Fallible<(f64, f64)> {
        let cpu_before = children_cpu_us()?;
        let started = Instant::now();
        let out = Command::new(self.binary)
            .arg("emulator")
            .args(args)
            .env("JUJU_EMULATOR_DIR", &self.dir)
            .output()?;
        let wall = started.elapsed().as_secs_f64() * 1e6;
        let cpu = children_cpu_us()? - cpu_before;
        if !out.status.success() {
            return Err(format!(
                "emulator {args:?} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        Ok((wall, cpu))
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
    wall_us: Vec<f64>,
    cpu_us: Vec<f64>,
    calls: BTreeMap<String, usize>,
}

/// `rounds` rounds; in each, every hook runs once on every world, back to back, the order
/// of the worlds rotated round by round (no world is always first after the other hook).
fn measure(worlds: &[Emulator<'_>], rounds: usize) -> Fallible<Vec<Vec<Measured>>> {
    let mut results: Vec<Vec<Measured>> = worlds
        .iter()
        .map(|_| HOOKS.iter().map(|_| Measured::default()).collect())
        .collect();
    let mut ends = Vec::new();
    for world in worlds {
        ends.push(world.calls_since(0)?.1);
    }
    for round in 0..rounds {
        for (i, (hook, extra)) in HOOKS.iter().enumerate() {
            for k in 0..worlds.len() {
                let w = (k + round) % worlds.len();
                let world = &worlds[w];
                let mut args = vec!["run", "kube/0", hook];
                args.extend_from_slice(extra);
                let (wall, cpu) = world.run_timed(&args)?;
                let (calls, end) = world.calls_since(ends[w])?;
                ends[w] = end;
                results[w][i].wall_us.push(wall);
                results[w][i].cpu_us.push(cpu);
                results[w][i].calls = calls;
            }
        }
    }
    Ok(results)
}

/// Runs `ops_inprocess.py` with the charms' Python: the import of the library and the core
/// calls, timed inside one interpreter. Returns the Markdown lines.
fn in_process(python: &Path, pki_dir: &Path, dir: &Path) -> Fallible<String> {
    let script = dir.join("ops_inprocess.py");
    std::fs::write(&script, include_str!("ops_inprocess.py"))?;
    let out = Command::new(python)
        .arg(&script)
        .arg(pki_dir)
        .args(["25", "300"])
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "ops_inprocess.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let result: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let row = |name: &str, values: &serde_json::Value| -> Fallible<String> {
        let values: Vec<f64> = values
            .as_array()
            .ok_or("not a list")?
            .iter()
            .filter_map(serde_json::Value::as_f64)
            .collect();
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        Ok(format!(
            "| {name} | {} | {min:.1} | {:.1} |",
            values.len(),
            paired::median(&values)
        ))
    };
    let mut rows = vec![row(
        "`import etcd_proxy_relation.ops` after `import ops` (fresh interpreter each)",
        &result["import"],
    )?];
    for (name, values) in result["calls"].as_object().ok_or("no calls")? {
        rows.push(row(&format!("`{name}`"), values)?);
    }
    Ok(format!(
        "In-process, with the same Python (`ops_inprocess.py`), µs:\n\n\
         | what | samples | min | median |\n|---|---|---|---|\n{}\n",
        rows.join("\n")
    ))
}

/// The Markdown section, or a `SKIPPED` line.
pub fn section(binary: &Path, pki: &TestPki, rounds: usize) -> Fallible<String> {
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
    let mut worlds = Vec::new();
    for (name, charm) in [("bare", &bare), ("reads", &reads), ("library", &library)] {
        let root = tmp.path().join(name);
        worlds.push(world(binary, &root, charm, &pki_dir, &venv)?);
    }
    eprintln!("hook_cost: ops charms, {rounds} rounds of bare, reading and library charm ...");
    let measured = measure(&worlds, rounds)?;
    let mut rows = Vec::new();
    let mut calls = Vec::new();
    for (i, (hook, _)) in HOOKS.iter().enumerate() {
        let m = |w: usize| &measured[w][i];
        let med = |v: &[f64]| paired::median(v) / 1000.0;
        let diff = |a: &[f64], b: &[f64]| {
            paired::estimate(&paired::differences(a, b), 5000).format(1000.0)
        };
        rows.push(format!(
            "| `{hook}` | {:.0} / {:.0} / {:.0} | {} | {} | {:.0} / {:.0} / {:.0} | {} | {} |",
            med(&m(0).wall_us),
            med(&m(1).wall_us),
            med(&m(2).wall_us),
            diff(&m(2).wall_us, &m(0).wall_us),
            diff(&m(2).wall_us, &m(1).wall_us),
            med(&m(0).cpu_us),
            med(&m(1).cpu_us),
            med(&m(2).cpu_us),
            diff(&m(2).cpu_us, &m(0).cpu_us),
            diff(&m(2).cpu_us, &m(1).cpu_us),
        ));
        calls.push(format!(
            "| `{hook}` | {} | {} | {} |",
            format_calls(&m(0).calls),
            format_calls(&m(1).calls),
            format_calls(&m(2).calls),
        ));
    }
    Ok(format!(
        "{title}`etcd-proxy-relation emulator run kube/0 HOOK` (the emulator's own start-up \
         included, the same for all), {rounds} rounds, each running the bare, the reading and \
         the library charm once back to back (order rotated per round). Medians in ms; \
         differences: median of the per-round paired differences [95 % bootstrap percentile \
         interval]; CPU: user + sys of the command's whole process tree (`getrusage(RUSAGE_CHILDREN)`).\n\n\
         | hook | wall: bare / reading / library | wall: library − bare | wall: library − reading | CPU: bare / reading / library | CPU: library − bare | CPU: library − reading |\n\
         |---|---|---|---|---|---|---|\n{}\n\n\
         Hook-tool calls of the last round:\n\n\
         | hook | bare | reading | library |\n|---|---|---|---|\n{}\n\n{}",
        rows.join("\n"),
        calls.join("\n"),
        in_process(&python, &pki_dir, tmp.path())?,
    ))
}
