//! `rust-proxy-requirer`: the charm's program, run by `dispatch` for every hook.
//!
//! Invoked under the name of a Juju hook tool (`relation-get`, ...) it is the emulator's
//! hook tool instead, so that this one binary is all the lifecycle tests need.

use std::collections::BTreeMap;
use std::process::ExitCode;

use juju_hooks::{
    CachedTools, FileFlagStore, FlagStore, HookTools, JujuContext, LogLevel, ProcessHookTools,
};
use rust_proxy_requirer::{for_config, handle, CharmConfig, CharmError, STATE_NAMESPACE};

fn main() -> ExitCode {
    let program = std::env::args_os().next().unwrap_or_default();
    let name = std::path::Path::new(&program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    if juju_emulator::is_hook_tool(&name) {
        return hook_tool(&name);
    }
    match run() {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            // Juju puts a hook's stderr into the unit's log.
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<String, Box<dyn std::error::Error>> {
    let ctx = JujuContext::from_env()?;
    let mut tools = CachedTools::new(ProcessHookTools::new(), ctx.unit.clone());
    let config = CharmConfig::from_config(&tools.config_get()?);
    let mut workload = for_config(config.dry_run, &ctx.charm_dir);
    let mut store = FileFlagStore::in_charm_dir(&ctx.charm_dir, STATE_NAMESPACE);
    // A damaged state file is logged once and replaced, never a unit stuck until someone
    // deletes it; the state is saved only when the hook's work succeeded.
    let (mut state, problem) = store.load_recovering()?;
    if let Some(problem) = problem {
        let line = format!("{problem}; starting from no saved state");
        tools.juju_log(LogLevel::Warning, &line)?;
    }
    let summary = handle(&ctx, &mut tools, &mut state, &config, workload.as_mut())?;
    store.save(&state).map_err(CharmError::from)?;
    Ok(format!("{}: {summary}", ctx.hook))
}

fn hook_tool(name: &str) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let code = juju_emulator::tool_main(
        name,
        &args,
        &env,
        &mut std::io::stdin().lock(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
