//! `--timings FILE`: one JSON line per command, how long it took and how much of that was
//! spent in hook tools.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use juju_hooks::ToolTime;

/// The line for `command`, which ran `wall` in all and `tools` in hook tools.
fn line(command: &str, wall: Duration, tools: ToolTime) -> String {
    let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    let (wall_us, tool_us) = (micros(wall), micros(tools.total));
    // Written by hand to keep the documented key order (a JSON map would sort the keys).
    let name = serde_json::Value::from(command);
    format!(
        "{{\"command\":{name},\"wall_us\":{wall_us},\"tool_calls\":{},\"tool_us\":{tool_us},\"own_us\":{}}}\n",
        tools.calls,
        wall_us.saturating_sub(tool_us)
    )
}

/// Appends the line to `path` (created 0644 if missing) in one write, so lines of hooks run
/// side by side do not interleave. A failure is a warning: profiling must not fail a hook.
pub fn append(path: &Path, command: &str, wall: Duration, tools: ToolTime) {
    let text = line(command, wall, tools);
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()));
    if let Err(e) = written {
        eprintln!("warning: cannot append timings to {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_time_is_wall_minus_tool_time() {
        let tools = ToolTime {
            calls: 3,
            total: Duration::from_micros(1500),
        };
        let text = line("provides publish", Duration::from_micros(4000), tools);
        assert_eq!(
            text,
            "{\"command\":\"provides publish\",\"wall_us\":4000,\"tool_calls\":3,\
             \"tool_us\":1500,\"own_us\":2500}\n"
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"command": "provides publish", "wall_us": 4000,
                "tool_calls": 3, "tool_us": 1500, "own_us": 2500})
        );
        // Clocks read at different moments never give a negative own time.
        let late = line("x", Duration::from_micros(10), tools);
        assert!(late.contains("\"own_us\":0"), "{late}");
    }
}
