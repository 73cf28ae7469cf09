//! `juju-emulator`: emulator commands under its own name, a Juju hook tool under a tool's name.

use std::collections::BTreeMap;
use std::path::Path;

use clap::Parser;
use juju_emulator::{is_hook_tool, run_cli, tool_main, EmulatorCli};

fn main() {
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let program = args.first().map(String::as_str).unwrap_or_default();
    let name = Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if is_hook_tool(name) {
        let code = tool_main(
            name,
            &args[1..],
            &env,
            &mut std::io::stdin().lock(),
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        );
        std::process::exit(code);
    }
    let cli = EmulatorCli::parse();
    let binary = match std::env::current_exe() {
        Ok(path) => path,
        Err(e) => {
            eprintln!("juju-emulator: cannot find my own executable: {e}");
            std::process::exit(1);
        }
    };
    match run_cli(&cli, &binary, &env, &mut std::io::stdout().lock()) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("juju-emulator: error: {e}");
            std::process::exit(1);
        }
    }
}
