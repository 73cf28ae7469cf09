//! One library call per subcommand; all output and exit codes are decided here.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use etcd_proxy::endpoints::ResolveLimits;
use etcd_proxy::membership::{fetch_members, DEFAULT_TIMEOUT};
use etcd_proxy::proxy::{EtcdVersion, ProxyMode, ServiceManager, Systemctl};
use etcd_proxy::tls::ClientTls;
use etcd_proxy::{
    save_client_credentials, set_status_if_changed, ClientCredentials, ClusterString,
    CredentialPaths, EtcdUrl, InterfaceError, LocalProxy, Ownership, Provider, ProxyPlan,
    Publication, Requirer, RequirerReport,
};
use juju_hooks::testing::EndpointRole;
use juju_hooks::{
    CachedTools, Endpoint, FileFlagStore, FlagStore, HookTools, JujuContext, LogLevel,
    ProcessHookTools, StatusKind, UnitState, WorkloadStatus,
};
use serde::Deserialize as _;

use crate::cli::{
    Cli, Command, CredentialTargetArgs, FlagsArgs, ProvidesCommand, PublishArgs, RenderArgs,
    RequiresCommand, SyncArgs,
};

/// Exit code of `--strict` when the relation data is incomplete or invalid.
pub const EXIT_STRICT: u8 = 3;
/// Exit code of a runtime error.
pub const EXIT_FAILURE: u8 = 1;

/// The interface this binary speaks, as charms name it in metadata.yaml.
const INTERFACE: &str = "etcd-proxy";

/// Exit code of a usage error (as clap's own).
pub const EXIT_USAGE: u8 = 2;

/// The state file's name in the charm directory.
pub const STATE_FILE: &str = ".etcd-proxy-relation.state.json";

/// The largest file read from a path given on the command line (PEM, template): far more
/// than any certificate chain or unit template, far less than `/dev/zero`.
const MAX_INPUT_FILE_BYTES: u64 = 1024 * 1024;

/// A command line that parses but cannot work (e.g. two outputs at one path): exit
/// [`EXIT_USAGE`], before anything is read or written.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The error and its causes on one line, each cause once: many errors already show their
/// source in their own message (`cannot write X: Is a directory`), and repeating it as the
/// next link of the chain would print it twice.
pub fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Reads a file named on the command line: a regular file of at most
/// [`MAX_INPUT_FILE_BYTES`], never a FIFO or device that would hang or never end.
fn read_input(path: &Path, what: &str) -> Result<String> {
    juju_hooks::read_regular_text(path, MAX_INPUT_FILE_BYTES)
        .with_context(|| format!("cannot read {what} {}", path.display()))
}

/// Refuses two outputs at one path (`--key P --ca P`, a unit file at the key's path): one
/// would silently overwrite the other, maybe putting the private key in a 0644 file.
fn distinct_targets(targets: &[(&str, &Path)]) -> Result<()> {
    let mut seen: Vec<(&str, PathBuf)> = Vec::new();
    for (flag, path) in targets {
        let key = same_file_key(path);
        if let Some((other, _)) = seen.iter().find(|(_, k)| *k == key) {
            return Err(UsageError(format!(
                "{flag} and {other} name the same file {}; give each output its own path",
                path.display()
            ))
            .into());
        }
        seen.push((flag, key));
    }
    Ok(())
}

/// A path as the file it will be: absolute, its directory resolved (symlinks and `..`
/// when it exists, `..` by name when not yet), so two spellings of one file compare equal.
fn same_file_key(path: &Path) -> PathBuf {
    use std::path::Component;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    if let (Some(dir), Some(name)) = (absolute.parent(), absolute.file_name()) {
        if let Ok(dir) = dir.canonicalize() {
            return dir.join(name);
        }
    }
    let mut clean = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::ParentDir => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other),
        }
    }
    clean
}

/// Everything a hook command works with.
struct Hook {
    ctx: JujuContext,
    tools: CachedTools<ProcessHookTools>,
    store: FileFlagStore,
    endpoint: Endpoint,
    state: UnitState,
}

impl Hook {
    /// `tools` is a clone of the caller's, so that its time account stays readable.
    fn open(cli: &Cli, role: EndpointRole, tools: &ProcessHookTools) -> Result<Self> {
        let ctx = JujuContext::from_env().context("reading the hook context")?;
        let store = state_store(state_path(cli, Some(&ctx))?);
        let (mut state, problem) = store.load_recovering()?;
        let endpoint = endpoint_for(cli, &ctx, role, &mut state)?;
        let mut tools = CachedTools::new(tools.clone(), ctx.unit.clone());
        if let Some(problem) = problem {
            // One line, then on as a unit that never ran: the next save replaces the file.
            let line = format!("{problem}; starting from no saved state");
            eprintln!("warning: {line}");
            tools.juju_log(LogLevel::Warning, &line)?;
        }
        Ok(Self {
            tools,
            ctx,
            store,
            endpoint,
            state,
        })
    }

    /// Saves the state: called only after the command's work succeeded.
    fn commit(mut self) -> Result<()> {
        self.store.save(&self.state)?;
        Ok(())
    }
}

/// `--endpoint`; else the charm's endpoint of interface `etcd-proxy` on this side (the
/// current hook's if it is one), from metadata.yaml; else `proxy`. A hook of another
/// relation (a peer relation, say) never counts as the etcd-proxy endpoint.
fn endpoint_for(
    cli: &Cli,
    ctx: &JujuContext,
    role: EndpointRole,
    state: &mut UnitState,
) -> Result<Endpoint> {
    if let Some(name) = &cli.endpoint {
        return name
            .parse()
            .with_context(|| format!("--endpoint {name:?} is not an endpoint name"));
    }
    let ours: Vec<Endpoint> = charm_endpoints(&ctx.charm_dir, state)
        .into_iter()
        .filter(|(r, _)| *r == role)
        .map(|(_, endpoint)| endpoint)
        .collect();
    if let Some(current) = ctx.endpoint().filter(|e| ours.contains(e)) {
        return Ok(current.clone());
    }
    match ours.into_iter().next() {
        Some(endpoint) => Ok(endpoint),
        None => Ok("proxy".parse()?),
    }
}

/// Where the state keeps the charm's etcd-proxy endpoints, with the identity of the
/// `metadata.yaml` they were read from.
const CHARM_ENDPOINTS_KEY: &str = "etcd-proxy-relation/charm-endpoints";

/// The charm's endpoints of interface etcd-proxy, by role, from `metadata.yaml`; none when it
/// cannot be read. Kept in the state with the file's device, inode, size and change times,
/// so that a hook reads and parses the file only when it is new or changed (about 0.1 ms per
/// command: docs/benchmarks.md, "Fifth look").
fn charm_endpoints(charm_dir: &Path, state: &mut UnitState) -> Vec<(EndpointRole, Endpoint)> {
    let identity = metadata_identity(charm_dir);
    // Decoded straight from the borrowed tree, as the library's sections are.
    let kept = state.data.get(CHARM_ENDPOINTS_KEY).and_then(|entry| {
        let (of, endpoints) = <(String, Vec<(EndpointRole, Endpoint)>)>::deserialize(entry).ok()?;
        (identity.as_deref() == Some(of.as_str())).then_some(endpoints)
    });
    if let Some(endpoints) = kept {
        return endpoints;
    }
    let endpoints: Vec<(EndpointRole, Endpoint)> =
        juju_emulator::CharmInfo::read_endpoints(charm_dir)
            .map(|endpoints| {
                endpoints
                    .into_iter()
                    .filter(|(_, (_, interface))| interface == INTERFACE)
                    .map(|(endpoint, (role, _))| (role, endpoint))
                    .collect()
            })
            .unwrap_or_default();
    if let Some(identity) = identity {
        let entry = serde_json::json!([identity, endpoints]);
        state.data.insert(CHARM_ENDPOINTS_KEY.to_owned(), entry);
    } else {
        state.data.remove(CHARM_ENDPOINTS_KEY);
    }
    endpoints
}

/// `metadata.yaml`'s device, inode, size and modification and change times: a rewritten or
/// replaced file (an upgrade) differs in at least one.
fn metadata_identity(charm_dir: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(charm_dir.join("metadata.yaml")).ok()?;
    Some(format!(
        "{}:{}:{}:{}.{}:{}.{}",
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec()
    ))
}

/// The unit's state file. Everything in it is derived from what Juju holds (relation data,
/// secrets, unit state) or from files this binary rewrites when they differ, so a save needs
/// no fsync: a state lost to a power loss costs one full read of the relations.
fn state_store(path: PathBuf) -> FileFlagStore {
    FileFlagStore::new(path).without_fsync()
}

fn state_path(cli: &Cli, ctx: Option<&JujuContext>) -> Result<PathBuf> {
    match (&cli.state_file, ctx) {
        (Some(path), _) => Ok(path.clone()),
        (None, Some(ctx)) => Ok(ctx.charm_dir.join(STATE_FILE)),
        (None, None) => bail!("outside a hook, give --state-file"),
    }
}

/// Runs one parsed command line with the hook tools `tools` and returns the process exit
/// code.
pub fn run(cli: &Cli, tools: &ProcessHookTools) -> Result<u8> {
    match &cli.command {
        Command::Requires(RequiresCommand::Sync(args)) => requires_sync(cli, tools, args),
        Command::Requires(RequiresCommand::ClusterString) => requires_cluster_string(cli, tools),
        Command::Requires(RequiresCommand::SaveCredentials(args)) => {
            requires_save_credentials(cli, tools, args)
        }
        Command::Requires(RequiresCommand::Render(args)) => requires_render(cli, tools, args),
        Command::Provides(ProvidesCommand::Sync) => provides_sync(cli, tools),
        Command::Provides(ProvidesCommand::Publish(args)) => provides_publish(cli, tools, args),
        Command::Flags(args) => flags(cli, args),
        Command::Demo(args) => crate::demo::run(args),
        Command::Emulator(args) => crate::emulate::run(args),
    }
}

/// Syncs the requirer side; with `with_status`, sets the status as `render` does (saying
/// when the client endpoints are a guess), so that commands between renders keep it.
fn sync_requirer(hook: &mut Hook, with_status: bool) -> Result<RequirerReport> {
    let requirer = Requirer::new(hook.endpoint.clone()).without_status();
    let report = requirer.sync(&hook.ctx, &mut hook.tools, &mut hook.state)?;
    if with_status {
        let status = LocalProxy::new(hook.endpoint.clone()).status(&report, &hook.state);
        set_status_if_changed(&mut hook.tools, &mut hook.state, &status)?;
    }
    Ok(report)
}

fn requires_sync(cli: &Cli, tools: &ProcessHookTools, args: &SyncArgs) -> Result<u8> {
    let mut hook = Hook::open(cli, EndpointRole::Requires, tools)?;
    let report = sync_requirer(&mut hook, !args.no_status)?;
    let flags = endpoint_flags(&hook.state, &hook.endpoint);
    hook.commit()?;
    println!("{}: {}", report.status.kind, report.status.message);
    println!("flags: {}", flags.join(" "));
    let ready = report.status.kind == juju_hooks::StatusKind::Active;
    Ok(if args.strict && !ready {
        EXIT_STRICT
    } else {
        0
    })
}

fn requires_cluster_string(cli: &Cli, tools: &ProcessHookTools) -> Result<u8> {
    let mut hook = Hook::open(cli, EndpointRole::Requires, tools)?;
    let report = sync_requirer(&mut hook, true)?;
    hook.commit()?;
    match report.cluster() {
        Some(cluster) => {
            println!("{cluster}");
            Ok(0)
        }
        None => {
            eprintln!("error: no valid cluster string: {}", report.status.message);
            Ok(EXIT_FAILURE)
        }
    }
}

fn requires_save_credentials(
    cli: &Cli,
    tools: &ProcessHookTools,
    args: &CredentialTargetArgs,
) -> Result<u8> {
    let paths = credential_paths(args)?;
    distinct_targets(&credential_targets(&paths))?;
    let mut hook = Hook::open(cli, EndpointRole::Requires, tools)?;
    let report = sync_requirer(&mut hook, true)?;
    let Some(credentials) = report.credentials() else {
        hook.commit()?;
        eprintln!(
            "error: no valid client credentials: {}",
            report.problem().unwrap_or(report.status.message)
        );
        return Ok(EXIT_FAILURE);
    };
    let owner = Ownership {
        uid: args.uid,
        gid: args.gid,
    };
    let changed = save_client_credentials(credentials, &paths, owner)?;
    hook.commit()?;
    println!("{}", if changed { "changed" } else { "unchanged" });
    Ok(0)
}

fn requires_render(cli: &Cli, tools: &ProcessHookTools, args: &RenderArgs) -> Result<u8> {
    let paths = credential_paths(&args.credentials)?;
    let mut targets = credential_targets(&paths);
    targets.push(("--unit-file", &args.unit_file));
    if let Some(env_file) = &args.env_file {
        targets.push(("--env-file", env_file));
    }
    distinct_targets(&targets)?;
    let mode: ProxyMode = args.mode.parse()?;
    let template = args
        .template
        .as_deref()
        .map(|path| read_input(path, "template"))
        .transpose()?;
    let mut hook = Hook::open(cli, EndpointRole::Requires, tools)?;
    // The status is set once, below, with what rendering found out (a guess, a refusal).
    let report = sync_requirer(&mut hook, false)?;
    let plan = ProxyPlan {
        mode,
        listen: args.listen,
        unit_file: args.unit_file.clone(),
        env_file: args.env_file.clone(),
        template,
        credentials: paths,
        owner: Ownership {
            uid: args.credentials.uid,
            gid: args.credentials.gid,
        },
        etcd_bin: Some(args.etcd_bin.clone()),
        data_dir: args.data_dir.clone(),
        // Only the v2 proxy depends on the version (etcd 3.6 removed it).
        etcd_version: (mode == ProxyMode::V2Proxy)
            .then(|| EtcdVersion::detect(&args.etcd_bin))
            .flatten(),
        limits: ResolveLimits::default(),
    };
    let mut systemctl = Systemctl::default();
    let services: Option<&mut dyn ServiceManager> = if args.restart {
        Some(&mut systemctl)
    } else {
        None
    };
    let proxy = LocalProxy::new(hook.endpoint.clone());
    let outcome = match proxy.ensure(
        &hook.ctx,
        &mut hook.tools,
        &report,
        &plan,
        services,
        &mut hook.state,
    ) {
        Ok(outcome) => outcome,
        Err(e @ (InterfaceError::NotAvailable(_) | InterfaceError::Render(_))) => {
            let status = if matches!(e, InterfaceError::Render(_)) {
                // The operator must change something (mode, certificate): say so where
                // `juju status` shows it.
                let message = format!("{}: cannot run the {mode} proxy: {e}", hook.endpoint);
                WorkloadStatus::new(StatusKind::Blocked, message)
            } else {
                report.status.clone()
            };
            set_status_if_changed(&mut hook.tools, &mut hook.state, &status)?;
            hook.commit()?;
            eprintln!("error: {e}");
            return Ok(EXIT_FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    // The library logged them with juju-log; the charm's own log shows them too.
    for warning in &outcome.endpoints.warnings {
        eprintln!("warning: {warning}");
    }
    hook.commit()?;
    let word = |changed: bool| if changed { "changed" } else { "unchanged" };
    println!("credentials: {}", word(outcome.credentials_changed));
    println!("unit: {}", word(outcome.unit_changed));
    println!(
        "restarted: {}",
        if outcome.restarted { "yes" } else { "no" }
    );
    Ok(0)
}

/// The credential files with the flags that name them (`--dir` names all three).
fn credential_targets(paths: &CredentialPaths) -> Vec<(&'static str, &Path)> {
    vec![
        ("--key", paths.key.as_path()),
        ("--cert", paths.cert.as_path()),
        ("--ca", paths.ca.as_path()),
    ]
}

fn credential_paths(args: &CredentialTargetArgs) -> Result<CredentialPaths> {
    match (&args.dir, &args.key, &args.cert, &args.ca) {
        (Some(dir), None, None, None) => Ok(CredentialPaths::in_dir(dir)),
        (None, Some(key), Some(cert), Some(ca)) => Ok(CredentialPaths {
            ca: ca.clone(),
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => bail!("give either --dir DIR or all of --key, --cert and --ca"),
    }
}

fn provides_sync(cli: &Cli, tools: &ProcessHookTools) -> Result<u8> {
    let mut hook = Hook::open(cli, EndpointRole::Provides, tools)?;
    let provider = Provider::new(hook.endpoint.clone());
    let report = provider.sync(&hook.ctx, &mut hook.tools, &mut hook.state)?;
    let flags = endpoint_flags(&hook.state, &hook.endpoint);
    hook.commit()?;
    print_provider_report(&report);
    println!("flags: {}", flags.join(" "));
    Ok(0)
}

fn provides_publish(cli: &Cli, tools: &ProcessHookTools, args: &PublishArgs) -> Result<u8> {
    let mut hook = Hook::open(cli, EndpointRole::Provides, tools)?;
    let data = match publish_input(args, &mut hook.tools) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("error: {}; nothing published", one_line(&e));
            return Ok(EXIT_FAILURE);
        }
    };
    let provider = Provider::new(hook.endpoint.clone());
    let report = match provider.publish(&hook.ctx, &mut hook.tools, &mut hook.state, &data) {
        Ok(report) => report,
        Err(etcd_proxy::InterfaceError::InvalidInput(reason)) => {
            eprintln!("error: {reason}; nothing published");
            return Ok(EXIT_FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    hook.commit()?;
    print_provider_report(&report);
    Ok(0)
}

fn print_provider_report(report: &etcd_proxy::ProviderReport) {
    println!(
        "published on {} of {} relations",
        report.written.len(),
        report.relations.len()
    );
    if let Some(revision) = report.removed_revision {
        println!("removed revision {revision} of the credentials secret (no consumer tracks it)");
    }
}

fn read_pem(path: &Path) -> Result<String> {
    read_input(path, "PEM file")
}

fn publish_input(args: &PublishArgs, tools: &mut dyn HookTools) -> Result<Publication> {
    let cluster = args
        .cluster
        .as_deref()
        .map(str::parse::<ClusterString>)
        .transpose()
        .context("--cluster")?;
    let credentials = match (&args.ca, &args.cert, &args.key) {
        (Some(ca), Some(cert), Some(key)) => Some(ClientCredentials::from_pem(
            &read_pem(ca)?,
            &read_pem(cert)?,
            &read_pem(key)?,
        )?),
        _ if args.from_leader => {
            let data = tools.leader_get()?;
            let get = |k: &str| {
                data.get(k)
                    .filter(|v| !v.is_empty())
                    .cloned()
                    .with_context(|| format!("leader data has no {k}"))
            };
            Some(ClientCredentials::from_pem(
                &get("certificate_authority")?,
                &get("client_certificate")?,
                &get("client_key")?,
            )?)
        }
        _ => None,
    };
    let (cluster, client_urls) = match (&args.from_etcd, &credentials) {
        (Some(url), Some(credentials)) => {
            let url: EtcdUrl = url.parse().context("--from-etcd")?;
            let tls = ClientTls::from_credentials(credentials)?;
            let membership = fetch_members(&url, &tls, DEFAULT_TIMEOUT)?;
            (
                Some(membership.cluster_string()?),
                Some(membership.client_urls()),
            )
        }
        (Some(_), None) => bail!("--from-etcd needs --cacert, --cert and --key"),
        (None, _) => (cluster, None),
    };
    if cluster.is_none() && credentials.is_none() {
        bail!("give --cluster and/or the credentials (--ca/--cert/--key or --from-leader)");
    }
    Ok(Publication {
        cluster,
        credentials,
        client_urls,
    })
}

fn flags(cli: &Cli, args: &FlagsArgs) -> Result<u8> {
    let path = match (&args.unit, &cli.state_file) {
        // clap sees the conflict only when both follow `flags`.
        (Some(_), Some(_)) => {
            return Err(UsageError("give --unit or --state-file, not both".into()).into())
        }
        (Some(unit), None) => emulated_state_file(unit, args.model_dir.as_deref())?,
        (None, Some(path)) => path.clone(),
        (None, None) => {
            let ctx = JujuContext::from_env().map_err(|e| {
                UsageError(format!(
                    "outside a hook, give --state-file PATH, or --unit UNIT for a unit of \
                     the emulator's model ({e})"
                ))
            })?;
            ctx.charm_dir.join(STATE_FILE)
        }
    };
    let mut store = state_store(path);
    let (mut state, problem) = store.load_recovering()?;
    if let Some(problem) = problem {
        eprintln!("warning: {problem}; no flags are set");
    }
    if !args.clear.is_empty() {
        for flag in &args.clear {
            state.flags.remove(flag);
        }
        store.save(&state)?;
    }
    let flags: Vec<&String> = state.flags.iter().collect();
    if args.json {
        println!("{}", serde_json::to_string(&flags)?);
    } else {
        for flag in flags {
            println!("{flag}");
        }
    }
    Ok(0)
}

/// The state file of `unit` in the emulator's model (`model_dir`, else $JUJU_EMULATOR_DIR).
fn emulated_state_file(unit: &str, model_dir: Option<&Path>) -> Result<PathBuf> {
    let name: juju_hooks::UnitName = unit
        .parse()
        .map_err(|e| UsageError(format!("--unit {unit:?}: {e}")))?;
    let dir = match model_dir {
        Some(dir) => dir.to_owned(),
        None => std::env::var_os(juju_emulator::MODEL_DIR_VAR)
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .ok_or_else(|| {
                UsageError(format!(
                    "--unit needs the emulator's model: --model-dir DIR or {}",
                    juju_emulator::MODEL_DIR_VAR
                ))
            })?,
    };
    let me = std::env::current_exe().context("locating this binary")?;
    let emulator = juju_emulator::Emulator::open(&dir, &me)
        .with_context(|| format!("opening the emulator's model in {}", dir.display()))?;
    if emulator.model().unit(&name).is_none() {
        bail!("the model has no unit {name}");
    }
    Ok(emulator.unit_charm_dir(&name).join(STATE_FILE))
}

fn endpoint_flags(state: &UnitState, endpoint: &Endpoint) -> Vec<String> {
    let prefix = format!("{endpoint}.");
    state
        .flags
        .iter()
        .filter(|f| f.starts_with(&prefix))
        .cloned()
        .collect()
}
