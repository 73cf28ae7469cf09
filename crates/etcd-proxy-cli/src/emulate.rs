//! The embedded Juju stand-in: hook tools (multi-call) and the `emulator` commands.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{CommandFactory as _, FromArgMatches as _};
use juju_emulator::EmulatorCli;

use crate::cli::EmulatorArgs;

fn env_map() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Behaves as hook tool `name` (this binary was invoked through a tool symlink).
pub fn run_tool(name: &str) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = juju_emulator::tool_main(
        name,
        &args,
        &env_map(),
        &mut std::io::stdin().lock(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Runs an `emulator` subcommand; hooks it runs reach this binary as their hook tools.
pub fn run(args: &EmulatorArgs) -> Result<u8> {
    const NAME: &str = "etcd-proxy-relation emulator";
    let argv = std::iter::once(OsString::from(NAME)).chain(args.args.iter().cloned());
    let parsed = EmulatorCli::command()
        .name(NAME)
        .bin_name(NAME)
        .try_get_matches_from(argv)
        .and_then(|matches| EmulatorCli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => return Ok(crate::cli::report_parse_error(&e)),
    };
    let me = std::env::current_exe().context("locating this binary")?;
    let code = juju_emulator::run_cli(&cli, &me, &env_map(), &mut std::io::stdout().lock())?;
    Ok(u8::try_from(code).unwrap_or(1))
}
