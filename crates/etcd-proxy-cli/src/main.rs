//! `etcd-proxy-relation`: the etcd-proxy relation interface for charms in any language.
//!
//! Also a multi-call binary: invoked under the name of a Juju hook tool (`relation-get`,
//! `relation-set`, ...) it is the emulator's hook tool, which is how hooks run by
//! `etcd-proxy-relation emulator` reach the embedded model.

mod cli;
mod commands;
mod demo;
mod emulate;
mod timings;

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser as _;

fn main() -> ExitCode {
    // As early as main can: `--timings` reports the wall time from here.
    let started = Instant::now();
    let program = std::env::args_os().next().unwrap_or_default();
    let name = std::path::Path::new(&program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    if juju_emulator::is_hook_tool(&name) {
        return emulate::run_tool(&name);
    }
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(cli::report_parse_error(&e)),
    };
    let tools = juju_hooks::ProcessHookTools::new();
    let code = match commands::run(&cli, &tools) {
        Ok(code) => code,
        Err(e) if e.downcast_ref::<commands::UsageError>().is_some() => {
            eprintln!("error: {e}");
            commands::EXIT_USAGE
        }
        Err(e) => {
            eprintln!("error: {}", commands::one_line(&e));
            commands::EXIT_FAILURE
        }
    };
    if let Some(path) = &cli.timings {
        timings::append(
            path,
            cli.command_name(),
            started.elapsed(),
            tools.tool_time(),
        );
    }
    ExitCode::from(code)
}
