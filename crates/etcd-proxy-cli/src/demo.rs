//! `etcd-proxy-relation demo`: the whole story on the embedded model.

use anyhow::Result;

use crate::cli::DemoArgs;

/// Runs the demo.
pub fn run(_args: &DemoArgs) -> Result<u8> {
    anyhow::bail!("the demo is not built yet")
}
