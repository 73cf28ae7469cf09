//! The results as Markdown: the machine, the command, call counts next to the floor, times.

use std::fmt::Write as _;

use crate::measure::{calls_text, Accounted, Sample, Spread};
use crate::scenarios::{Results, Row};

fn ms(us: u64) -> String {
    format!("{:.1}", us as f64 / 1000.0)
}

fn signed_ms(us: i64) -> String {
    format!("{:+.1}", us as f64 / 1000.0)
}

fn ratio(a: u64, b: u64) -> String {
    if b == 0 {
        "-".to_owned()
    } else {
        format!("{:.2}", a as f64 / b as f64)
    }
}

fn walls(samples: &[Sample]) -> Spread {
    Spread::of(samples.iter().map(|s| s.wall_us))
}

fn owns(samples: &[Sample]) -> Spread {
    Spread::of(samples.iter().map(Sample::own_us))
}

fn tools(samples: &[Sample]) -> Spread {
    Spread::of(samples.iter().map(|s| s.tools_us))
}

/// The largest state file size after the hook, KiB.
fn kib(samples: &[Sample]) -> String {
    let bytes = samples.iter().map(|s| s.state_bytes).max().unwrap_or(0);
    format!("{:.0}", bytes as f64 / 1024.0)
}

/// `yes`, `no`, or `k of n runs`.
fn written_text(samples: &[Sample]) -> String {
    let written = samples.iter().filter(|s| s.state_written).count();
    match written {
        0 => "no".to_owned(),
        w if w == samples.len() => "yes".to_owned(),
        w => format!("{w} of {} runs", samples.len()),
    }
}

/// Start-up cost of one hook-tool process that the tool's own timer cannot see: the
/// one-`relation-list` hook's wall time minus that call's logged duration minus the `true`
/// hook's wall time.
fn per_call_startup_us(row: &Row) -> i64 {
    let list = owns(&row.baseline_list).median as i64;
    let nothing = walls(&row.baseline_true).median as i64;
    list - nothing
}

/// The machine, so figures can be compared across runs.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned());
    let first_line = |program: &str, arg: &str| {
        std::process::Command::new(program)
            .arg(arg)
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "not found".to_owned())
    };
    let etcd = crate::etcd_binary()
        .map(|p| first_line(&p.to_string_lossy(), "--version"))
        .unwrap_or_else(|| "not found".to_owned());
    format!(
        "- CPU: {cpu}, {cores} cores (nproc), shared with other work while measuring\n\
         - kernel {kernel}; {}; {etcd}\n",
        first_line("rustc", "-V")
    )
}

/// The call-count table, the time table and the one-off set-up hooks.
pub fn tables(results: &Results) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "#### Hook-tool calls per hook\n");
    let _ = writeln!(
        out,
        "| scenario | remote units | relation ids | calls (measured) | floor (DESIGN.md §9) | verdict | state file written |"
    );
    let _ = writeln!(out, "|---|---:|---:|---|---|---|---|");
    for row in &results.rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.label,
            row.units,
            row.relation_ids,
            calls_text(&row.binary),
            row.floor.text(),
            row.floor.verdict(&row.binary),
            written_text(&row.binary)
        );
    }

    let _ = writeln!(out, "\n#### Time per hook (ms)\n");
    let _ = writeln!(
        out,
        "wall = hook process, spawn to exit; tools = sum of the durations the tools logged for \
         this hook's calls; own = wall − tools; `true` / `1 list` = the same hook with a \
         dispatch that runs `exec true` / `exec relation-list -r RID`, interleaved with the \
         binary's runs; added = own − wall(`true`) (what the binary adds to an empty hook, \
         tool start-up included; `added min` compares the minimums, which noise from other \
         work on the machine disturbs least); start-up = estimated start-up of one tool process \
         (own(`1 list`) − wall(`true`)). Medians unless marked min.\n"
    );
    let _ = writeln!(
        out,
        "| scenario | units | rel ids | runs | wall min | wall | tools | own min | own | `true` min | `true` | `1 list` | added min | added | start-up | wall ÷ `true` | wall ÷ `1 list` | state KiB |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for row in &results.rows {
        let (wall, own, tool) = (walls(&row.binary), owns(&row.binary), tools(&row.binary));
        let nothing_spread = walls(&row.baseline_true);
        let nothing = nothing_spread.median;
        let list = walls(&row.baseline_list).median;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.label,
            row.units,
            row.relation_ids,
            row.binary.len(),
            ms(wall.min),
            ms(wall.median),
            ms(tool.median),
            ms(own.min),
            ms(own.median),
            ms(nothing_spread.min),
            ms(nothing),
            ms(list),
            signed_ms(own.min as i64 - nothing_spread.min as i64),
            signed_ms(own.median as i64 - nothing as i64),
            signed_ms(per_call_startup_us(row)),
            ratio(wall.median, nothing),
            ratio(wall.median, list),
            kib(&row.binary),
        );
    }

    out.push_str(&replay_table(results));
    out.push_str(&other_binary_table(results));
    out.push_str(&accounted_table(results));
    let _ = writeln!(out, "\n#### Set-up hooks (one run each, not repeated)\n");
    let _ = writeln!(
        out,
        "| hook | remote units | relation ids | calls | wall | tools | own | binary own (accounted) | state file written |"
    );
    let _ = writeln!(out, "|---|---:|---:|---|---:|---:|---:|---:|---|");
    for row in &results.setup {
        let s = &row.sample;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.label,
            row.units,
            row.relation_ids,
            calls_text(std::slice::from_ref(s)),
            ms(s.wall_us),
            ms(s.tools_us),
            ms(s.own_us()),
            s.accounted
                .as_ref()
                .map_or_else(|| "-".to_owned(), |a| ms(a.own_us)),
            written_text(std::slice::from_ref(s))
        );
    }
    out
}

/// The variants of one row by label.
fn extra<'a>(row: &'a Row, label: &str) -> Option<&'a [Sample]> {
    row.extra
        .iter()
        .find(|(l, _)| l == label)
        .map(|(_, s)| s.as_slice())
}

/// Net own time: the binary's hook against a bash hook making the same tool calls.
fn replay_table(results: &Results) -> String {
    let rows: Vec<&Row> = results
        .rows
        .iter()
        .filter(|r| extra(r, "replay").is_some())
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n#### Net own time against the same tool calls from bash (ms)\n"
    );
    let _ = writeln!(
        out,
        "replay = the same hook whose dispatch makes exactly the binary's tool calls (same \
         arguments, `--file -` fed the same kind of data) from bash, interleaved with the \
         binary's runs; **net own = wall − wall(replay)**: the binary's own work and its \
         process start-ups, every tool's process and work excluded; `--version` = a hook \
         running `exec etcd-proxy-relation --version`, minus `true`: one start-up of the \
         binary. Medians unless marked min. CPU: user + sys of the hook's whole process \
         tree; **CPU net own** = the median of the per-round differences binary − replay \
         (rounds interleave the variants), which the machine's other work disturbs much \
         less than wall times.\n"
    );
    let _ = writeln!(
        out,
        "| scenario | units | rel ids | runs | calls | wall min | wall | replay min | replay | **net own min** | **net own** | `true` | binary start-up | **CPU net own** | CPU start-up |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for row in rows {
        let wall = walls(&row.binary);
        let replay = walls(extra(row, "replay").unwrap_or_default());
        let nothing = walls(&row.baseline_true);
        let startup = extra(row, "--version")
            .map(|s| signed_ms(walls(s).median as i64 - nothing.median as i64))
            .unwrap_or_else(|| "-".to_owned());
        let cpu_net = paired_cpu_difference(&row.binary, extra(row, "replay").unwrap_or_default());
        let cpu_startup = extra(row, "--version")
            .map(|s| paired_cpu_difference(s, &row.baseline_true))
            .unwrap_or_else(|| "-".to_owned());
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.label,
            row.units,
            row.relation_ids,
            row.binary.len(),
            calls_text(&row.binary),
            ms(wall.min),
            ms(wall.median),
            ms(replay.min),
            ms(replay.median),
            signed_ms(wall.min as i64 - replay.min as i64),
            signed_ms(wall.median as i64 - replay.median as i64),
            ms(nothing.median),
            startup,
            cpu_net,
            cpu_startup,
        );
    }
    out
}

/// This build against another one ([`crate::COMPARE_BINARY_VAR`]) in the same run.
fn other_binary_table(results: &Results) -> String {
    let rows: Vec<(&Row, &[Sample])> = results
        .rows
        .iter()
        .filter_map(|r| extra(r, crate::OTHER_BINARY).map(|other| (r, other)))
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n#### This build against another build of the binary (ms)\n\n\
         The same hook with the binary of `{}`, interleaved; differences are medians of \
         the per-round differences this − other (negative: this build is cheaper).\n",
        crate::COMPARE_BINARY_VAR
    );
    let _ = writeln!(
        out,
        "| scenario | units | runs | wall | other wall | **wall difference** | CPU | other CPU | **CPU difference** |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (row, other) in rows {
        let cpu = |samples: &[Sample]| Spread::of(samples.iter().map(|s| s.cpu_us)).median;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.label,
            row.units,
            row.binary.len(),
            ms(walls(&row.binary).median),
            ms(walls(other).median),
            paired_difference(&row.binary, other, |s| s.wall_us),
            ms(cpu(&row.binary)),
            ms(cpu(other)),
            paired_cpu_difference(&row.binary, other),
        );
    }
    out
}

/// The binary's own account of each run (`--timings`): its wall time from `main`, the time in
/// its tool calls (spawn to reap), and the difference, its own work.
fn accounted_table(results: &Results) -> String {
    let rows: Vec<(&Row, Vec<&Accounted>)> = results
        .rows
        .iter()
        .map(|r| {
            (
                r,
                r.binary
                    .iter()
                    .filter_map(|s| s.accounted.as_ref())
                    .collect(),
            )
        })
        .filter(|(r, a): &(&Row, Vec<&Accounted>)| !a.is_empty() && a.len() == r.binary.len())
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let _ = writeln!(out, "\n#### Binary own time (in-process accounting, ms)\n");
    let _ = writeln!(
        out,
        "Each run of the binary passes `--timings FILE` and appends one line: binary wall = \
         from its `main` to its end; tools = the time of its tool calls, each from before the \
         spawn to after the child was reaped and its output read (the tools' process \
         start-ups included); **own = binary wall − tools**: the binary's own work. Summed \
         over the binary's runs in the hook (three for the three-call scenario). hook wall = \
         the hook process, dispatch script included. Own per command: the median own work of \
         each of the binary's runs in the hook, in run order. Medians unless marked min.\n"
    );
    let _ = writeln!(
        out,
        "| scenario | units | rel ids | runs | tool calls | hook wall | binary wall | tools | **own min** | **own** | own per command |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for (row, runs) in rows {
        let spread = |f: fn(&Accounted) -> u64| Spread::of(runs.iter().copied().map(f));
        let own = spread(|a| a.own_us);
        let per_command = own_per_command(&runs);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.label,
            row.units,
            row.relation_ids,
            runs.len(),
            spread(|a| a.tool_calls).median,
            ms(walls(&row.binary).median),
            ms(spread(|a| a.wall_us).median),
            ms(spread(|a| a.tool_us).median),
            ms(own.min),
            ms(own.median),
            per_command,
        );
    }
    out
}

/// `requires sync 1.2, flags 0.4, …`: the median own time of each run position, named by its
/// command (hooks whose runs differ in number are left out of a position they lack).
fn own_per_command(runs: &[&Accounted]) -> String {
    let positions = runs
        .iter()
        .map(|a| a.own_by_command.len())
        .max()
        .unwrap_or(0);
    (0..positions)
        .filter_map(|i| {
            let name = runs.iter().find_map(|a| a.own_by_command.get(i))?.0.clone();
            let own = Spread::of(
                runs.iter()
                    .filter_map(|a| a.own_by_command.get(i).map(|r| r.1)),
            );
            Some(format!("{name} {}", ms(own.median)))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The median over rounds of `a[i].cpu − b[i].cpu` (round i ran both), in ms.
fn paired_cpu_difference(a: &[Sample], b: &[Sample]) -> String {
    paired_difference(a, b, |s| s.cpu_us)
}

/// The median over rounds of `value(a[i]) − value(b[i])`, in ms.
fn paired_difference(a: &[Sample], b: &[Sample], value: impl Fn(&Sample) -> u64) -> String {
    let mut differences: Vec<i64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| value(x) as i64 - value(y) as i64)
        .collect();
    if differences.is_empty() {
        return "-".to_owned();
    }
    differences.sort_unstable();
    signed_ms(differences[differences.len() / 2])
}
