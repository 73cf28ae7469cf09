//! The command line, as clap structs only; `commands.rs` turns them into library calls.
//!
//! The subcommand enums are `defer`red: a subcommand's arguments are built only when the
//! command line reaches it, so a hook's run builds one branch of the tree, not all of it.
//! The `Args` structs carry plain comments, not doc comments: built late, a doc comment there
//! would replace the subcommand's description.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const AFTER_HELP: &str = "\
Exit codes:
  0  success, also when the relation data is still incomplete
  1  runtime error: a hook tool failed, a file could not be written, the data asked for is
     not available, or the input to publish is invalid (nothing was published)
  2  usage error (bad arguments)
  3  --strict only: the relation data is incomplete or invalid

Run inside a Juju hook (or a hook run by `etcd-proxy-relation emulator`): the hook context
comes from the JUJU_* environment. Flags and the last seen relation data are kept in
$JUJU_CHARM_DIR/.etcd-proxy-relation.state.json (mode 0600).";

/// The etcd-proxy relation interface for charms in any language.
///
/// Call it from your charm's hooks: `requires sync` (or `provides sync`) in every hook,
/// then act on the flags (`flags --json`).
#[derive(Debug, Parser)]
#[command(name = "etcd-proxy-relation", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// The relation endpoint (metadata.yaml relation name). Default: the charm's endpoint
    /// of interface etcd-proxy on that side (the current hook's if it is one), else `proxy`.
    #[arg(long, global = true, value_name = "NAME")]
    pub endpoint: Option<String>,

    /// Where flags and relation state are kept.
    /// Default: $JUJU_CHARM_DIR/.etcd-proxy-relation.state.json.
    #[arg(long, global = true, value_name = "PATH")]
    pub state_file: Option<PathBuf>,

    /// Append one JSON line of timings to FILE when the command ends, also on failure:
    /// {"command","wall_us","tool_calls","tool_us","own_us"}, where tool_us is the time spent
    /// in hook tools (spawn to exit) and own_us = wall_us - tool_us. For profiling a charm's
    /// hooks: how much of a hook is this binary's own work and how much the hook tools'. The
    /// line holds no relation data.
    #[arg(long, global = true, value_name = "FILE")]
    pub timings: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The command as typed, without options: `provides publish`, `flags`, ...
    pub fn command_name(&self) -> &'static str {
        match &self.command {
            Command::Requires(RequiresCommand::Sync(_)) => "requires sync",
            Command::Requires(RequiresCommand::ClusterString) => "requires cluster-string",
            Command::Requires(RequiresCommand::SaveCredentials(_)) => "requires save-credentials",
            Command::Requires(RequiresCommand::Render(_)) => "requires render",
            Command::Provides(ProvidesCommand::Sync) => "provides sync",
            Command::Provides(ProvidesCommand::Publish(_)) => "provides publish",
            Command::Flags(_) => "flags",
            Command::Demo(_) => "demo",
            Command::Emulator(_) => "emulator",
        }
    }
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// The requiring side (the charm that runs a local etcd proxy).
    #[command(subcommand)]
    Requires(RequiresCommand),
    /// The providing side (the etcd charm).
    #[command(subcommand)]
    Provides(ProvidesCommand),
    /// Print or clear the flags.
    Flags(FlagsArgs),
    /// Run the whole story on the embedded Juju model: an etcd provider and a requirer,
    /// related, hooks in Juju's order, flags after each hook, credentials saved, the proxy
    /// unit rendered; with a real etcd cluster and proxy when `etcd` is installed.
    Demo(DemoArgs),
    /// The embedded Juju stand-in: create a model, deploy charms, relate them, run hooks
    /// (the same as `juju-emulator`; `emulator --help` lists its commands).
    #[command(disable_help_flag = true, disable_version_flag = true)]
    Emulator(EmulatorArgs),
}

// `emulator ...`: its arguments go to the emulator's own parser, so that the other
// commands, which run in every hook, do not build the emulator's whole command tree.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// The emulator's command and options.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<std::ffi::OsString>,
}

/// `requires ...`
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum RequiresCommand {
    /// Read the relation, derive and save the flags, set the workload status. Run it in
    /// every hook. Exits 0 also when the data is incomplete or invalid (unless --strict).
    Sync(SyncArgs),
    /// Print the canonical cluster string (`name=peerURL,...`); exit 1 if not available.
    ClusterString,
    /// Save client-ca.pem, client-cert.pem and client-key.pem (key 0600, certificates
    /// 0644), atomically and only on change; print `changed` or `unchanged`.
    SaveCredentials(CredentialTargetArgs),
    /// Save the credentials, resolve the cluster's client endpoints, render and install the
    /// proxy's systemd unit (and, for v2-proxy, its environment file); with --restart,
    /// daemon-reload, enable and restart it only when a file changed. Exit 1 with a reason
    /// when the data is not available or the mode cannot work (e.g. grpc-proxy with a
    /// certificate that has a CN: etcd would refuse to start); the latter also sets the
    /// workload status to blocked with the reason.
    Render(RenderArgs),
}

// Options of `requires render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The proxy: gateway (L4, TLS passes through; etcd 3.1+), grpc-proxy (needs a client
    /// certificate without CN), v2-proxy (the original charm's set-up; etcd 3.4/3.5 only).
    #[arg(
        long,
        default_value = "gateway",
        value_name = "MODE",
        value_parser = clap::builder::PossibleValuesParser::new(["gateway", "grpc-proxy", "v2-proxy"])
    )]
    pub mode: String,
    /// The systemd unit to write, e.g. /etc/systemd/system/etcd-proxy.service.
    #[arg(long, value_name = "PATH")]
    pub unit_file: PathBuf,
    /// The environment file (v2-proxy), e.g. /etc/default/etcd-proxy.
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// Where local clients connect.
    #[arg(long, default_value = "127.0.0.1:23790", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// A Jinja2 template for the unit instead of the built-in one (variables: see the
    /// README's "Proxy modes").
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// daemon-reload, enable and restart the unit when a file changed.
    #[arg(long)]
    pub restart: bool,
    /// The etcd binary the unit runs.
    #[arg(long, default_value = "/usr/bin/etcd", value_name = "PATH")]
    pub etcd_bin: PathBuf,
    /// The v2-proxy data directory.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where the credentials are saved and read by the proxy.
    #[command(flatten)]
    pub credentials: CredentialTargetArgs,
}

/// `provides ...`
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ProvidesCommand {
    /// Derive `{endpoint}.connected` and publish the remembered data on relations that lack
    /// it. Run it in every hook.
    Sync,
    /// Validate and publish the cluster string and/or the client credentials on every
    /// relation id; parts not given keep their published value. Nothing is published when
    /// any input is invalid (exit 1).
    Publish(PublishArgs),
}

// Options of `requires sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Exit 3 when the relation data is incomplete or invalid.
    #[arg(long)]
    pub strict: bool,
    /// Do not set the workload status (the charm sets its own).
    #[arg(long)]
    pub no_status: bool,
}

// Where `save-credentials` writes: --dir, or --key, --cert and --ca (the owner alone is not
// a target).
#[derive(Debug, Args)]
#[group(skip)]
#[command(group = clap::ArgGroup::new("target").required(true).multiple(true).args(["dir", "key", "cert", "ca"]))]
pub struct CredentialTargetArgs {
    /// Write client-ca.pem, client-cert.pem, client-key.pem into DIR (created 0755).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["key", "cert", "ca"])]
    pub dir: Option<PathBuf>,
    /// Path of the private key (with --cert and --ca).
    #[arg(long, value_name = "PATH", requires_all = ["cert", "ca"])]
    pub key: Option<PathBuf>,
    /// Path of the client certificate (with --key and --ca).
    #[arg(long, value_name = "PATH", requires_all = ["key", "ca"])]
    pub cert: Option<PathBuf>,
    /// Path of the CA certificate (with --key and --cert).
    #[arg(long, value_name = "PATH", requires_all = ["key", "cert"])]
    pub ca: Option<PathBuf>,
    /// Owner (numeric user id) of the written files, e.g. the proxy's service user.
    #[arg(long, value_name = "UID", value_parser = owner_id)]
    pub uid: Option<u32>,
    /// Group (numeric group id) of the written files.
    #[arg(long, value_name = "GID", value_parser = owner_id)]
    pub gid: Option<u32>,
}

// Options of `provides publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The cluster string, etcd --initial-cluster form: name=https://host:2380,...
    #[arg(long, value_name = "STRING")]
    pub cluster: Option<String>,
    /// File with the CA certificate (PEM).
    #[arg(long, alias = "cacert", value_name = "FILE", requires_all = ["cert", "key"])]
    pub ca: Option<PathBuf>,
    /// File with the client certificate (PEM).
    #[arg(long, value_name = "FILE", requires_all = ["ca", "key"])]
    pub cert: Option<PathBuf>,
    /// File with the client certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires_all = ["ca", "cert"])]
    pub key: Option<PathBuf>,
    /// Take the credentials from leader data (client_certificate, client_key,
    /// certificate_authority), as the etcd charm shares them.
    #[arg(long, conflicts_with_all = ["ca", "cert", "key"])]
    pub from_leader: bool,
    /// Read the cluster string and client URLs from this live etcd member (its peer URL,
    /// e.g. https://10.0.0.1:2380, or its client URL), authenticating with --cacert/--cert/
    /// --key, which are also published.
    #[arg(long, value_name = "URL", conflicts_with = "cluster", requires_all = ["ca", "cert", "key"])]
    pub from_etcd: Option<String>,
}

// Options of `flags`. Inside a hook it reads the unit's state file; outside one, give
// --state-file, or --unit for a unit of the emulator's model.
#[derive(Debug, Args)]
pub struct FlagsArgs {
    /// Outside a hook: the flags of this unit of the emulator's model (e.g. `kube/0`), in
    /// $JUJU_EMULATOR_DIR or --model-dir.
    #[arg(long, value_name = "UNIT", conflicts_with = "state_file")]
    pub unit: Option<String>,
    /// The emulator's model directory for --unit (default: $JUJU_EMULATOR_DIR).
    #[arg(long, value_name = "DIR", requires = "unit")]
    pub model_dir: Option<PathBuf>,
    /// Print a sorted JSON array instead of one flag per line.
    #[arg(long)]
    pub json: bool,
    /// Clear these flags (e.g. `proxy.tls.changed` after acting on it), then print.
    #[arg(long, value_name = "FLAG")]
    pub clear: Vec<String>,
}

// Options of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's temporary directory (model, charms, rendered files) and print it.
    #[arg(long)]
    pub keep: bool,
}

/// A numeric user or group id; 4294967295 is `(uid_t)-1`, which chown(2) reads as "leave
/// unchanged", so it is refused rather than silently ignored.
fn owner_id(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(u32::MAX) => Err(format!(
            "{} means \"leave unchanged\" to chown(2), not an id",
            u32::MAX
        )),
        Ok(id) => Ok(id),
        Err(_) => Err(format!("not a numeric id from 0 to {}", u32::MAX - 1)),
    }
}

/// How much of a rejected value an argument-parsing error repeats.
const QUOTED_CHARS: usize = 24;

/// `text` (clap's error message) with every '...'-quoted value longer than a flag name, or
/// spread over several lines, cut to its start: a value in the wrong place may be a private
/// key, and a message must stay a few short lines.
pub fn cut_quoted_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    let mut rest = text;
    while let Some(open) = rest.find('\'') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('\'') else {
            rest = after;
            break;
        };
        let quoted = &after[..close];
        if quoted.chars().count() > QUOTED_CHARS || quoted.contains('\n') {
            let start: String = quoted
                .chars()
                .take_while(|c| *c != '\n')
                .take(QUOTED_CHARS)
                .collect();
            out.push_str(&format!("{start}... ({} bytes)", quoted.len()));
        } else {
            out.push_str(quoted);
        }
        out.push('\'');
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Prints a command-line error (or the --help / --version text clap returns as one) and
/// returns the exit code.
pub fn report_parse_error(error: &clap::Error) -> u8 {
    if error.use_stderr() {
        // A rejected value may be a whole PEM key passed where a flag was expected: never
        // repeat it whole.
        eprint!("{}", cut_quoted_values(&error.render().to_string()));
        crate::commands::EXIT_USAGE
    } else {
        let _ = error.print();
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    /// Every subcommand's `about` and `long_about`, by path, walking the tree as it is.
    fn abouts(cmd: &clap::Command, path: &str, out: &mut Vec<(String, String)>) {
        // `build` adds clap's own `help` subcommands.
        for sub in cmd.get_subcommands().filter(|sub| sub.get_name() != "help") {
            let path = format!("{path} {}", sub.get_name());
            let text = |t: Option<&clap::builder::StyledStr>| t.map(ToString::to_string);
            let about = format!(
                "{:?} / {:?}",
                text(sub.get_about()),
                text(sub.get_long_about())
            );
            out.push((path.clone(), about));
            abouts(sub, &path, out);
        }
    }

    /// The subcommands' arguments are built only when a command line reaches them (`defer`),
    /// so that a hook's run does not build the whole tree; building them must not replace
    /// the subcommand's description (an `Args` struct's doc comment would).
    #[test]
    fn deferred_arguments_keep_each_subcommand_description() {
        let mut lazy = Vec::new();
        abouts(&Cli::command(), "", &mut lazy);
        let mut built = Cli::command();
        built.build();
        let mut full = Vec::new();
        abouts(&built, "", &mut full);

        assert!(lazy.len() >= 9, "{lazy:?}");
        assert_eq!(lazy, full);
        let sync = full.iter().find(|(path, _)| path == " requires sync");
        assert!(
            sync.is_some_and(|(_, about)| about.contains("Read the relation")),
            "{sync:?}"
        );
    }

    #[test]
    fn long_and_multi_line_values_are_cut_short_ones_kept() {
        let key = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----";
        let text = format!("error: unexpected argument '{key}' found\n\nfor more, try '--help'.\n");
        let cut = cut_quoted_values(&text);
        assert_eq!(
            cut,
            "error: unexpected argument '-----BEGIN PRIVATE KEY--... (86 bytes)' found\n\n\
             for more, try '--help'.\n"
        );
        assert!(!cut.contains("MIGH"));
        assert_eq!(cut_quoted_values("it's"), "it's");
    }
}
