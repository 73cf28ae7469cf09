//! `etcd_proxy_relation._core`: the etcd-proxy relation interface's Rust core for Python.
//!
//! Plain data in, plain data out: strings, lists and dicts go in, validated values and
//! decisions come out. No rule lives here: every function converts its arguments, calls
//! `etcd_proxy`, and converts the answer (and the error's one-line reason) back.

use pyo3::prelude::*;

mod convert;
mod errors;
mod files;
mod provider;
mod requirer;
mod values;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    values::register(m)?;
    requirer::register(m)?;
    provider::register(m)?;
    files::register(m)?;
    Ok(())
}
