//! `etcd-proxy-relation`: the etcd-proxy relation interface for charms in any language.
//!
//! Also a multi-call binary: invoked under the name of a Juju hook tool (`relation-get`,
//! `relation-set`, ...) it is the emulator's hook tool, which is how hooks run by
//! `etcd-proxy-relation emulator` reach the embedded model.

mod cli;
mod commands;
mod demo;
mod emulate;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
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
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.downcast_ref::<commands::UsageError>().is_some() => {
            eprintln!("error: {e}");
            ExitCode::from(commands::EXIT_USAGE)
        }
        Err(e) => {
            eprintln!("error: {}", commands::one_line(&e));
            ExitCode::from(commands::EXIT_FAILURE)
        }
    }
}
