//! The scenarios of DESIGN.md §9, each measured against two baseline hooks in the same run.

use std::collections::BTreeMap;

use etcd_proxy::testing::TestPki;
use etcd_proxy::CredentialPaths;
use juju_hooks::testing::HookInvocation;
use juju_hooks::UnitName;

use crate::measure::{run_hook, CallLog, Sample};
use crate::world::{Dispatch, Shape, Side, Snapshot, World};
use crate::Fallible;

/// The cluster string every provider publishes.
pub const CLUSTER: &str =
    "etcd0=https://10.0.0.1:2380,etcd1=https://10.0.0.2:2380,etcd2=https://10.0.0.3:2380";

/// The most calls per tool DESIGN.md §9 allows for a scenario; a tool not listed: none.
#[derive(Clone, Debug, Default)]
pub struct Floor(pub BTreeMap<&'static str, usize>);

impl Floor {
    fn of(calls: &[(&'static str, usize)]) -> Self {
        Self(calls.iter().copied().collect())
    }

    /// `relation-list 1, relation-get 1`, or `none`.
    pub fn text(&self) -> String {
        crate::measure::format_calls(&self.0.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect())
    }

    /// `at floor`, or what is above it (`+1 relation-get`).
    pub fn verdict(&self, samples: &[Sample]) -> String {
        let mut excess: BTreeMap<String, usize> = BTreeMap::new();
        for sample in samples {
            for (tool, n) in &sample.calls {
                let allowed = self.0.get(tool.as_str()).copied().unwrap_or(0);
                if *n > allowed {
                    let e = excess.entry(tool.clone()).or_insert(0);
                    *e = (*e).max(n - allowed);
                }
            }
        }
        if excess.is_empty() {
            "at floor".to_owned()
        } else {
            let parts: Vec<String> = excess.iter().map(|(t, n)| format!("+{n} {t}")).collect();
            format!("**above: {}**", parts.join(", "))
        }
    }
}

/// Something done to the model before each run of a scenario.
#[derive(Clone, Debug)]
enum Prepare {
    Nothing,
    /// Change a remote unit's bag, as happens before Juju fires `-changed` for it.
    TouchRemote {
        relation: u32,
        unit: UnitName,
    },
    /// Replace a remote unit's bag (new credentials arriving), and put back the files the
    /// previous hook left (`path`, text, mode), so that every run rewrites them.
    SetRemote {
        relation: u32,
        unit: UnitName,
        bag: juju_hooks::Databag,
        files: Vec<(std::path::PathBuf, String, u32)>,
    },
}

/// One hook measured repeatedly.
struct Scenario {
    label: String,
    invocation: HookInvocation,
    dispatch: Dispatch,
    floor: Floor,
    snapshot: Snapshot,
    prepare: Prepare,
    /// Also run a bash hook making the same tool calls (see [`crate::measure::replay_script`]).
    replay: bool,
    /// Further labelled variants (e.g. `exec … --version`: the binary's start-up alone).
    extra: Vec<(String, Dispatch)>,
    /// Runs, when fewer than the world's (slow hooks).
    reps: Option<usize>,
}

impl Scenario {
    fn new(
        label: impl Into<String>,
        invocation: HookInvocation,
        dispatch: Dispatch,
        floor: Floor,
        snapshot: Snapshot,
        prepare: Prepare,
    ) -> Self {
        Self {
            label: label.into(),
            invocation,
            dispatch,
            floor,
            snapshot,
            prepare,
            replay: false,
            extra: Vec::new(),
            reps: None,
        }
    }
}

/// The measurements of one scenario.
pub struct Row {
    /// What was measured.
    pub label: String,
    /// Remote units related.
    pub units: u32,
    /// Relation ids of the endpoint.
    pub relation_ids: u32,
    /// The floor of DESIGN.md §9.
    pub floor: Floor,
    /// The hook running the binary.
    pub binary: Vec<Sample>,
    /// The same hook with `dispatch` = `exec true`.
    pub baseline_true: Vec<Sample>,
    /// The same hook with `dispatch` = `exec relation-list -r RID`.
    pub baseline_list: Vec<Sample>,
    /// Further variants by label: `replay` (the same tool calls from bash), `--version`.
    pub extra: Vec<(String, Vec<Sample>)>,
}

/// A hook run once, to bring the unit to its steady state (reported, not repeated).
pub struct SetupRow {
    /// What ran.
    pub label: String,
    /// Remote units related.
    pub units: u32,
    /// Relation ids of the endpoint.
    pub relation_ids: u32,
    /// Its cost.
    pub sample: Sample,
}

/// Everything measured for one world.
#[derive(Default)]
pub struct Results {
    /// Repeated scenarios.
    pub rows: Vec<Row>,
    /// One-off set-up hooks.
    pub setup: Vec<SetupRow>,
}

/// Runs every scenario of `side` for `n` remote units related as `shape`.
pub fn measure_world(
    binary: &std::path::Path,
    pki: &TestPki,
    (side, shape, n): (Side, Shape, u32),
    reps: usize,
    keep: Option<&std::path::Path>,
) -> Fallible<Results> {
    let (units, relation_ids) = shape.counts(n);
    let remote_bag = match side {
        Side::Requirer => pki.python_provider_databag(CLUSTER),
        Side::Provider => Default::default(),
    };
    let mut world = World::build(binary, side, shape, n, &remote_bag)?;
    write_replay_stdin(&world, side, pki)?;
    let initial = world.snapshot()?;
    let mut log = CallLog::new(&world);
    let mut results = Results::default();
    let mut setup = |label: &str, sample: Sample| {
        results.setup.push(SetupRow {
            label: label.to_owned(),
            units,
            relation_ids,
            sample,
        });
    };
    let unit = world.unit.clone();
    let (mid_rid, mid_units) = world.relations[world.relations.len() / 2].clone();
    let mid_unit = mid_units[mid_units.len() / 2].clone();
    let changed = HookInvocation::changed(unit.clone(), mid_rid.clone(), mid_unit.clone());
    let update_status = HookInvocation::new(unit.clone(), "update-status");
    let touch = Prepare::TouchRemote {
        relation: mid_rid.number(),
        unit: mid_unit,
    };
    let mut scenarios = Vec::new();

    match side {
        Side::Requirer => {
            let sync = "requires sync".to_owned();
            let prime = HookInvocation::new(unit.clone(), "upgrade-charm");
            let sample = run_hook(
                &mut world,
                &mut log,
                &prime,
                &Dispatch::Binary(sync.clone()),
            )?;
            setup("requirer upgrade-charm: full read (fallback)", sample);
            // On Juju 3.6 the leader advertised wire version 2; the next hook confirms it
            // (one state-get of the receipt), as the provider's next hook does its writes.
            let sample = run_hook(
                &mut world,
                &mut log,
                &update_status,
                &Dispatch::Binary(sync.clone()),
            )?;
            setup(
                "requirer next hook: confirms its wire_version advertisement",
                sample,
            );
            keep_state(&world, keep, &format!("requirer-{shape:?}-{n}"))?;
            let snapshot = world.snapshot()?;
            if units <= 3 {
                scenarios.push(three_calls(
                    &mut world,
                    &mut log,
                    pki,
                    changed.clone(),
                    snapshot.clone(),
                    &mid_rid,
                    &mid_units,
                )?);
            }
            scenarios.push(Scenario {
                label: "requirer relation-changed".into(),
                invocation: changed,
                dispatch: Dispatch::Binary(sync.clone()),
                floor: Floor::of(&[("relation-list", 1), ("relation-get", 1)]),
                snapshot: snapshot.clone(),
                prepare: touch,
                replay: false,
                extra: Vec::new(),
                reps: None,
            });
            scenarios.push(Scenario {
                label: "requirer update-status (nothing changed)".into(),
                invocation: update_status,
                dispatch: Dispatch::Binary(sync),
                floor: Floor::default(),
                snapshot,
                prepare: Prepare::Nothing,
                replay: false,
                extra: Vec::new(),
                reps: None,
            });
        }
        Side::Provider => {
            // Both report their own time (`--timings`), for the in-process accounting table.
            let publish = format!("{}{}", publish_args(&world, pki)?, world.timings_arg());
            let sync = format!("provides sync{}", world.timings_arg());
            let prime = HookInvocation::new(unit.clone(), "upgrade-charm");
            let sample = run_hook(
                &mut world,
                &mut log,
                &prime,
                &Dispatch::Binary(publish.clone()),
            )?;
            setup(
                "provider publish, first run (upgrade-charm): full read + publish",
                sample,
            );
            let sample = run_hook(
                &mut world,
                &mut log,
                &update_status,
                &Dispatch::Binary(sync.clone()),
            )?;
            setup(
                "provider next hook: confirms the writes of the previous one",
                sample,
            );
            keep_state(&world, keep, &format!("provider-{shape:?}-{n}"))?;
            let steady = world.snapshot()?;
            let mut first = Scenario::new(
                "provider first hook (upgrade-charm, no state): `provides publish`",
                prime.clone(),
                Dispatch::Binary(publish.clone()),
                Floor::of(&[
                    ("relation-ids", 1),
                    ("relation-list", 1),
                    ("relation-set", relation_ids as usize),
                    ("state-set", 1),
                ]),
                initial.clone(),
                Prepare::Nothing,
            );
            first.replay = true;
            first.extra.push((
                "--version".to_owned(),
                Dispatch::Binary("--version".to_owned()),
            ));
            // Each run makes a process per relation id: a few runs at 1000.
            first.reps = (relation_ids > 100).then_some(3);
            scenarios.push(first);
            scenarios.push(Scenario {
                label: "provider update-status, `provides sync` (nothing changed)".into(),
                invocation: update_status.clone(),
                dispatch: Dispatch::Binary(sync.clone()),
                floor: Floor::default(),
                snapshot: steady.clone(),
                prepare: Prepare::Nothing,
                replay: false,
                extra: Vec::new(),
                reps: None,
            });
            scenarios.push(Scenario {
                label: "provider update-status, `provides publish` of the same data".into(),
                invocation: update_status,
                dispatch: Dispatch::Binary(publish),
                floor: Floor::default(),
                snapshot: steady.clone(),
                prepare: Prepare::Nothing,
                replay: false,
                extra: Vec::new(),
                reps: None,
            });
            scenarios.push(Scenario {
                label: "provider relation-changed (nothing to publish)".into(),
                invocation: changed,
                dispatch: Dispatch::Binary(sync.clone()),
                // The requirer's application databag, once, for its wire version.
                floor: Floor::of(&[("relation-get", 1)]),
                snapshot: steady.clone(),
                prepare: touch,
                replay: false,
                extra: Vec::new(),
                reps: None,
            });
            // A new relation next to the n existing ones.
            let (created, joined) = world.add_relation()?;
            let with_new = world.snapshot()?;
            scenarios.push(Scenario {
                label: "provider relation-created of a new relation (reads its wire version)"
                    .into(),
                invocation: created.clone(),
                dispatch: Dispatch::Binary(sync.clone()),
                // Wire version 2: the requirer's application databag; nothing is written
                // before a requirer unit joined.
                floor: Floor::of(&[("relation-get", 1)]),
                snapshot: with_new.clone(),
                prepare: Prepare::Nothing,
                replay: false,
                extra: Vec::new(),
                reps: None,
            });
            world.restore(&with_new)?;
            run_hook(
                &mut world,
                &mut log,
                &created,
                &Dispatch::Binary(sync.clone()),
            )?;
            let after_created = world.snapshot()?;
            scenarios.push(Scenario {
                label: "provider relation-joined of that new relation (publishes)".into(),
                invocation: joined,
                dispatch: Dispatch::Binary(sync),
                // Membership, the wire version again, the write, and its receipt in Juju's
                // unit state.
                floor: Floor::of(&[
                    ("relation-list", 1),
                    ("relation-get", 1),
                    ("relation-set", 1),
                    ("state-set", 1),
                ]),
                snapshot: after_created,
                prepare: Prepare::Nothing,
                replay: false,
                extra: Vec::new(),
                reps: None,
            });
        }
    }

    let fallback_rid = world.relations[0].0.clone();
    results.rows.extend(run_scenarios(
        &mut world,
        &mut log,
        scenarios,
        reps,
        (units, relation_ids),
        &fallback_rid,
    )?);
    Ok(results)
}

/// Runs each scenario `reps` times in every variant, interleaved in rotating order.
fn run_scenarios(
    world: &mut World,
    log: &mut CallLog,
    scenarios: Vec<Scenario>,
    reps: usize,
    (units, relation_ids): (u32, u32),
    fallback_rid: &juju_hooks::RelationId,
) -> Fallible<Vec<Row>> {
    let mut rows = Vec::new();
    for scenario in scenarios {
        let reps = scenario.reps.unwrap_or(reps).min(reps);
        let mut variants = vec![
            scenario.dispatch.clone(),
            Dispatch::True,
            Dispatch::OneRelationList(fallback_rid.clone()),
        ];
        let mut labels = Vec::new();
        if scenario.replay {
            // One run of the binary tells which calls to replay (and warms the caches).
            world.restore(&scenario.snapshot)?;
            prepare(world, &scenario.prepare, 0)?;
            let sample = run_hook(world, log, &scenario.invocation, &scenario.dispatch)?;
            let scratch = world.scratch.clone();
            let script = crate::measure::replay_script(&sample, |tool| {
                scratch.join(format!("{tool}.stdin"))
            });
            variants.push(Dispatch::Script(script));
            labels.push("replay".to_owned());
        }
        for (label, dispatch) in &scenario.extra {
            variants.push(dispatch.clone());
            labels.push(label.clone());
        }
        let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); variants.len()];
        for rep in 0..reps {
            // Rotate the order so no variant always runs first (cold) or last.
            for k in 0..variants.len() {
                let which = (rep + k) % variants.len();
                world.restore(&scenario.snapshot)?;
                prepare(world, &scenario.prepare, rep)?;
                let sample = run_hook(world, log, &scenario.invocation, &variants[which])?;
                if which == 0 {
                    check_rewritten(&scenario.prepare)?;
                }
                samples[which].push(sample);
            }
        }
        let mut samples = samples.into_iter();
        let mut next = || samples.next().unwrap_or_default();
        let (binary, baseline_true, baseline_list) = (next(), next(), next());
        let extra = labels.into_iter().map(|l| (l, next())).collect();
        rows.push(Row {
            label: scenario.label,
            units,
            relation_ids,
            floor: scenario.floor,
            binary,
            baseline_true,
            baseline_list,
            extra,
        });
    }
    Ok(rows)
}

/// The requirer's `-changed` with new credentials arriving from the middle unit, running
/// the CLI's three calls as the example requirer does (`requires sync`, `flags --json`,
/// `requires save-credentials`), against a bash hook making the same tool calls and an
/// `exec … --version` hook (the binary's start-up alone).
fn three_calls(
    world: &mut World,
    log: &mut CallLog,
    pki: &TestPki,
    changed: HookInvocation,
    snapshot: Snapshot,
    rid: &juju_hooks::RelationId,
    units: &[UnitName],
) -> Fallible<Scenario> {
    let dir = world.scratch.join("creds");
    // `timings`: the `--timings FILE` argument, which only this build has.
    let script_for = |binary: &str, t: &str| {
        format!(
            "b={binary}\n\
             \"$b\" requires sync{t} >/dev/null\n\
             \"$b\" flags --json{t} >/dev/null\n\
             exec \"$b\" requires save-credentials --dir '{}'{t} >/dev/null",
            dir.display()
        )
    };
    let script = script_for(
        "\"$JUJU_CHARM_DIR/bin/etcd-proxy-relation\"",
        &world.timings_arg(),
    );
    // Every provider unit rotated (a new client certificate from the same CA); Juju fires
    // `-changed` for one of them.
    let mut bag = pki.python_provider_databag(CLUSTER);
    bag.insert("client_cert".into(), pki.cnless_client.cert_pem.clone());
    bag.insert("client_key".into(), pki.cnless_client.key_pem.clone());
    let unit = units[units.len() / 2].clone();
    // With several provider units the requirer follows the publication most of them agree
    // on, so the hook that switches is the one that sees a majority rotated: the units
    // before the middle one rotated first, each seen by its own `-changed` hook.
    let rotated_first = &units[..units.len() / 2];
    let snapshot = if rotated_first.is_empty() {
        snapshot
    } else {
        world.restore(&snapshot)?;
        for first in rotated_first {
            let earlier = Prepare::SetRemote {
                relation: rid.number(),
                unit: first.clone(),
                bag: bag.clone(),
                files: Vec::new(),
            };
            prepare(world, &earlier, 0)?;
            let hook = HookInvocation::changed(world.unit.clone(), rid.clone(), first.clone());
            run_hook(world, log, &hook, &Dispatch::Binary("requires sync".into()))?;
        }
        world.snapshot()?
    };
    // The files as the previous credentials left them: each run rotates key and certificate
    // (two files, each synced before its rename, and one directory sync).
    let previous = CredentialPaths::in_dir(&dir);
    let files = vec![
        (previous.ca, pki.ca_pem.clone(), 0o644),
        (previous.cert, pki.client.cert_pem.clone(), 0o644),
        (previous.key, pki.client.key_pem.clone(), 0o600),
    ];
    let mut scenario = Scenario::new(
        "requirer relation-changed, new credentials: `sync` + `flags --json` + `save-credentials`",
        changed,
        Dispatch::Script(script),
        Floor::of(&[("relation-list", 1), ("relation-get", 1)]),
        snapshot,
        Prepare::SetRemote {
            relation: rid.number(),
            unit,
            bag,
            files,
        },
    );
    scenario.replay = true;
    scenario.extra.push((
        "--version".to_owned(),
        Dispatch::Binary("--version".to_owned()),
    ));
    // Another build (e.g. of an older commit) making the same three calls, for an A/B in one
    // run on a shared machine.
    if let Some(other) = std::env::var_os(crate::COMPARE_BINARY_VAR) {
        let other = other.to_string_lossy().replace('\'', "'\\''");
        scenario.extra.push((
            crate::OTHER_BINARY.to_owned(),
            Dispatch::Script(script_for(&format!("'{other}'"), "")),
        ));
    }
    Ok(scenario)
}

/// What a replayed `--file -` call reads on stdin: the same kind of data the binary sent.
fn write_replay_stdin(world: &World, side: Side, pki: &TestPki) -> Fallible<()> {
    let relation_set = match side {
        Side::Provider => serde_json::to_string(&pki.python_provider_databag(CLUSTER))?,
        Side::Requirer => r#"{"wire_version": "2"}"#.to_owned(),
    };
    std::fs::write(world.scratch.join("relation-set.stdin"), relation_set)?;
    std::fs::write(
        world.scratch.join("state-set.stdin"),
        r#"{"etcd-proxy.proxy.provider-receipt": "bench"}"#,
    )?;
    Ok(())
}

/// Copies the unit's state file to `dir/NAME.state.json`, if asked to.
fn keep_state(world: &World, dir: Option<&std::path::Path>, name: &str) -> Fallible<()> {
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
        std::fs::copy(world.state_file(), dir.join(format!("{name}.state.json")))?;
    }
    Ok(())
}

fn prepare(world: &World, prepare: &Prepare, rep: usize) -> Fallible<()> {
    match prepare {
        Prepare::Nothing => Ok(()),
        Prepare::SetRemote {
            relation,
            unit,
            bag,
            files,
        } => {
            put_back(files)?;
            let mut model = world.load_model()?;
            let held = model
                .relations
                .get_mut(relation)
                .and_then(|r| r.unit_bags.get_mut(unit))
                .ok_or("remote bag missing")?;
            *held = bag.clone();
            world.save_model(&model)
        }
        Prepare::TouchRemote { relation, unit } => {
            let mut model = world.load_model()?;
            let bag = model
                .relations
                .get_mut(relation)
                .and_then(|r| r.unit_bags.get_mut(unit))
                .ok_or("remote bag missing")?;
            bag.insert("bench-touch".to_owned(), rep.to_string());
            world.save_model(&model)
        }
    }
}

/// The run measured what it claims: some file put back before it was rewritten.
fn check_rewritten(prepare: &Prepare) -> Fallible<()> {
    let Prepare::SetRemote { files, .. } = prepare else {
        return Ok(());
    };
    if files.is_empty() {
        return Ok(());
    }
    for (path, text, _) in files {
        if std::fs::read_to_string(path)? != *text {
            return Ok(());
        }
    }
    Err(format!("the hook left {} files as they were", files.len()).into())
}

/// Writes each file with its mode, as `save-credentials` leaves it.
fn put_back(files: &[(std::path::PathBuf, String, u32)]) -> Fallible<()> {
    use std::os::unix::fs::PermissionsExt as _;
    for (path, text, mode) in files {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, text)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode))?;
    }
    Ok(())
}

/// `provides publish` with the cluster string and the PKI's client credentials, written to
/// files in the world's scratch directory.
fn publish_args(world: &World, pki: &TestPki) -> Fallible<String> {
    let file = |name: &str, text: &str| -> Fallible<String> {
        let path = world.scratch.join(name);
        std::fs::write(&path, text)?;
        Ok(format!("'{}'", path.display()))
    };
    Ok(format!(
        "provides publish --cluster '{CLUSTER}' --ca {} --cert {} --key {}",
        file("ca.pem", &pki.ca_pem)?,
        file("client.pem", &pki.client.cert_pem)?,
        file("client-key.pem", &pki.client.key_pem)?,
    ))
}

/// Wire version 2 at `n` provider units on one relation id: the provider's leader published
/// (through the library, on the in-memory model) in its application databag with the
/// credentials in a granted secret; its units' databags hold no interface key. Measures the
/// requirer's `-changed` of one provider unit and a fresh full read (no state).
pub fn measure_v2_world(
    binary: &std::path::Path,
    pki: &TestPki,
    n: u32,
    reps: usize,
) -> Fallible<Results> {
    let mut world = World::build(binary, Side::Requirer, Shape::Units, n, &Default::default())?;
    write_replay_stdin(&world, Side::Requirer, pki)?;
    let (rid, units) = world.relations[0].clone();
    publish_v2(&world, pki, rid.number())?;
    let mut log = CallLog::new(&world);
    let mut results = Results::default();
    let unit = world.unit.clone();
    let sync = "requires sync".to_owned();
    let prime = HookInvocation::new(unit.clone(), "upgrade-charm");
    for (label, hook) in [
        ("v2 requirer upgrade-charm: full read", prime.clone()),
        (
            "v2 requirer next hook",
            HookInvocation::new(unit.clone(), "update-status"),
        ),
    ] {
        let sample = run_hook(&mut world, &mut log, &hook, &Dispatch::Binary(sync.clone()))?;
        results.setup.push(SetupRow {
            label: label.to_owned(),
            units: n,
            relation_ids: 1,
            sample,
        });
    }
    let steady = world.snapshot()?;
    std::fs::remove_file(world.state_file())?;
    let fresh = world.snapshot()?;
    world.restore(&steady)?;
    let mid = units[units.len() / 2].clone();
    let scenarios = vec![
        Scenario::new(
            "v2 requirer relation-changed of one provider unit",
            HookInvocation::changed(unit.clone(), rid.clone(), mid.clone()),
            Dispatch::Binary(sync.clone()),
            Floor::of(&[("relation-list", 1)]),
            steady,
            Prepare::TouchRemote {
                relation: rid.number(),
                unit: mid,
            },
        ),
        Scenario::new(
            "v2 requirer fresh full read (upgrade-charm, no state)",
            prime,
            Dispatch::Binary(sync),
            Floor::of(&[
                ("relation-ids", 1),
                ("relation-list", 1),
                ("relation-get", 1),
                ("secret-get", 1),
            ]),
            fresh,
            Prepare::Nothing,
        ),
    ];
    results.rows.extend(run_scenarios(
        &mut world,
        &mut log,
        scenarios,
        reps,
        (n, 1),
        &rid,
    )?);
    Ok(results)
}

/// The requirer application advertises version 2; the provider's leader publishes once
/// through the library in an application-data `-changed` (reads the advertisement), on the
/// in-memory model, which is then saved.
fn publish_v2(world: &World, pki: &TestPki, number: u32) -> Fallible<()> {
    let mut model = world.load_model()?;
    let requirer_app = world.unit.app().clone();
    model
        .relations
        .get_mut(&number)
        .ok_or("relation vanished")?
        .app_bags
        .entry(requirer_app.clone())
        .or_default()
        .insert("wire_version".into(), "2".into());
    let provider_app: juju_hooks::AppName = "etcd".parse()?;
    let leader = model
        .applications
        .get(&provider_app)
        .and_then(|a| a.leader.clone())
        .ok_or("the provider has no leader")?;
    let rid = model
        .relation_id(number, &leader)
        .ok_or("leader not in the relation")?;
    let hook = HookInvocation::app_changed(leader, rid, requirer_app);
    let publication = etcd_proxy::Publication {
        cluster: Some(CLUSTER.parse()?),
        credentials: Some(pki.credentials()),
        client_urls: None,
    };
    let outcome = juju_hooks::testing::run(&model, &hook, "/charm".as_ref(), |ctx, tools| {
        let mut ctx = ctx.clone();
        ctx.juju_version = Some("3.6.1".into());
        ctx.context_id = Some("bench-v2-publish".into());
        let mut state = juju_hooks::UnitState::default();
        etcd_proxy::Provider::new("proxy".parse()?).publish(
            &ctx,
            tools,
            &mut state,
            &publication,
        )?;
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    outcome.result.map_err(|e| format!("v2 publish: {e}"))?;
    let model = outcome.model;
    let bag = model.relations[&number]
        .app_bags
        .get(&provider_app)
        .cloned()
        .unwrap_or_default();
    if !bag.contains_key("client_credentials_secret") {
        return Err(format!("no v2 publication: {:?}", bag.keys()).into());
    }
    world.save_model(&model)
}
