//! Plain Python data to and from the core's serde types, through JSON.

use pyo3::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::errors::{err, InvalidData};

/// A dict (or list, str, ...) as `T`; a shape error names the field, never a value.
pub fn from_py<T: DeserializeOwned>(value: &Bound<'_, PyAny>) -> PyResult<T> {
    let json = value.py().import("json")?;
    let text: String = json.call_method1("dumps", (value,))?.extract()?;
    serde_json::from_str(&text).map_err(|e| {
        // serde_json's message can quote the offending value: keep the position only.
        err::<InvalidData>(format_args!(
            "input does not have the expected shape (line {}, column {}): {}",
            e.line(),
            e.column(),
            classify(&e)
        ))
    })
}

fn classify(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Data => "wrong type or unknown value",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Eof => "truncated",
        serde_json::error::Category::Io => "I/O",
    }
}

/// `value` as plain Python data (dicts, lists, strings).
pub fn to_py<T: Serialize>(py: Python<'_>, value: &T) -> PyResult<PyObject> {
    let text = serde_json::to_string(value).map_err(err::<InvalidData>)?;
    let json = py.import("json")?;
    Ok(json.call_method1("loads", (text,))?.unbind())
}
