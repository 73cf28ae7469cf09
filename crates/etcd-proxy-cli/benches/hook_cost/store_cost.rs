//! The emulator's own cost (issue 9): a hook-tool call must not cost more in a big model,
//! and the emulator's work per hook must stay a few milliseconds at any size.
//!
//! - **relation-get at 2 and 1000 units**: the requirer world of the hook tables with 2 and
//!   with 1000 remote units, each unit's bag holding what the Python provider publishes; the
//!   unit under test runs a hook whose dispatch makes `CALLS` `relation-get` calls of one
//!   remote unit's bag. The two sizes run interleaved; wall = the hook process.
//! - **deploy and settle**: two bash charms whose hooks do nothing (`exit 0`) — a provider
//!   with 2 units and a requirer with N — deployed, related and settled through real hook
//!   processes. Emulator own time = total − the hooks' wall time.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Instant;

use etcd_proxy::testing::TestPki;
use juju_emulator::Emulator;
use juju_hooks::testing::HookInvocation;

use crate::measure::Spread;
use crate::world::{Dispatch, Shape, Side, World};
use crate::Fallible;

/// `relation-get` calls per measured hook.
pub const CALLS: usize = 30;

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Times `reps` hooks of `CALLS` relation-get calls at each size, interleaved.
pub fn relation_get(binary: &Path, pki: &TestPki, sizes: &[u32], reps: usize) -> Fallible<String> {
    let bag = pki.python_provider_databag("etcd0=https://10.0.0.1:2380");
    let mut worlds = Vec::new();
    for &n in sizes {
        eprintln!("hook_cost: store: relation-get world with {n} units ...");
        let world = World::build(binary, Side::Requirer, Shape::Units, n, &bag)?;
        let (rid, remotes) = world.relations.first().cloned().ok_or("no relation")?;
        let remote = remotes
            .get(remotes.len() / 2)
            .cloned()
            .ok_or("no remote unit")?;
        world.set_dispatch(&Dispatch::Script(format!(
            "for i in $(seq {CALLS}); do relation-get -r {rid} - {remote} >/dev/null || exit 1; done"
        )))?;
        worlds.push((n, world, Vec::new()));
    }
    for rep in 0..=reps {
        for i in 0..worlds.len() {
            let index = (i + rep) % worlds.len();
            let (_, world, samples) = &mut worlds[index];
            let unit = world.unit.clone();
            let report = world
                .emulator
                .run_hook(HookInvocation::new(unit, "update-status"))?;
            if !report.succeeded() || report.tool_calls != CALLS {
                return Err(format!("relation-get hook failed: {report:#?}").into());
            }
            // The first round warms the caches.
            if rep > 0 {
                samples.push(report.duration_us);
            }
        }
    }
    let base = worlds
        .first()
        .map(|(_, _, s)| Spread::of(s.iter().copied()))
        .unwrap_or_default();
    let mut text = format!(
        "#### {CALLS} `relation-get` calls in one hook\n\n\
         | remote units | runs | wall min ms | wall median ms | per call median ms | ÷ {} units |\n\
         |---:|---:|---:|---:|---:|---:|\n",
        sizes.first().copied().unwrap_or_default()
    );
    for (n, _, samples) in &worlds {
        let s = Spread::of(samples.iter().copied());
        text.push_str(&format!(
            "| {n} | {} | {:.1} | {:.1} | {:.2} | {:.2} |\n",
            samples.len(),
            ms(s.min),
            ms(s.median),
            ms(s.median) / CALLS as f64,
            s.median as f64 / base.median.max(1) as f64
        ));
    }
    Ok(text)
}

fn charm(dir: &Path, metadata: &str) -> Fallible<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("metadata.yaml"), metadata)?;
    let dispatch = dir.join("dispatch");
    std::fs::write(&dispatch, "#!/bin/sh\nexit 0\n")?;
    std::fs::set_permissions(&dispatch, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// Deploys, relates and settles a provider of 2 units and a requirer of each size.
pub fn settle(binary: &Path, sizes: &[u32]) -> Fallible<String> {
    let mut text = String::from(
        "#### Deploy, relate and settle through real hook processes\n\n\
         | requirer units | hooks run | deploy s | settle s | total s | hooks' wall s | emulator own per hook ms |\n\
         |---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for &n in sizes {
        eprintln!("hook_cost: store: deploy and settle {n} units ...");
        let root = tempfile::tempdir()?;
        let (provider, requirer) = (root.path().join("db"), root.path().join("web"));
        charm(
            &provider,
            "name: db\nprovides:\n  api:\n    interface: kv\n",
        )?;
        charm(
            &requirer,
            "name: web\nrequires:\n  api:\n    interface: kv\n",
        )?;
        let started = Instant::now();
        let mut emulator = Emulator::create(&root.path().join("model"), "bench", binary)?;
        emulator.deploy(&"db".parse()?, &provider, 2)?;
        emulator.deploy(&"web".parse()?, &requirer, n)?;
        emulator.relate("db", "web")?;
        let deployed = started.elapsed();
        let reports = emulator.settle(usize::MAX)?;
        let total = started.elapsed();
        if let Some(bad) = reports.iter().find(|r| !r.succeeded()) {
            return Err(format!("a hook failed: {bad:#?}").into());
        }
        if !emulator.queued()?.is_empty() {
            return Err("the model did not settle".into());
        }
        let wall_us: u64 = reports.iter().map(|r| r.duration_us).sum();
        let settle_s = (total - deployed).as_secs_f64();
        let own_ms = (settle_s * 1000.0 - ms(wall_us)) / reports.len().max(1) as f64;
        text.push_str(&format!(
            "| {n} | {} | {:.1} | {settle_s:.1} | {:.1} | {:.1} | {own_ms:.2} |\n",
            reports.len(),
            deployed.as_secs_f64(),
            total.as_secs_f64(),
            ms(wall_us) / 1000.0,
        ));
    }
    Ok(text)
}
