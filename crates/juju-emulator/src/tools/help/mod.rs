//! `--help` texts, rendered as juju/cmd v4 `Info.HelpWithSuperFlags` (cmd.go) renders a jujuc
//! command: `Usage:` (`[options]` only when the tool has flags), `Summary:` (the `Purpose`),
//! `Options:` (gnuflag `PrintDefaults`), `Details:` (the trimmed `Doc`), `Examples:`, `See also:`.
//!
//! The data is Juju 3.6's `Info()` and `SetFlags` of each tool; the summaries are the ones
//! `cmd/juju/commands/helptool_test.go` lists for `juju help-hook-commands`.

mod other_tools;
mod relation_tools;

/// A flag's default as gnuflag prints it.
#[derive(Debug, Clone, Copy)]
enum Default {
    /// Any value but a string: `--app  (= false)`.
    Plain(&'static str),
    /// A `StringVar`: `--unit (= "")`.
    Quoted(&'static str),
    /// jujuc's relation id value: the hook's relation, if any (`-r, --relation  (= db:1)`).
    HookRelation,
}

/// One flag, or the names gnuflag groups because they set the same value.
#[derive(Debug, Clone, Copy)]
struct Flag {
    names: &'static [&'static str],
    default: Default,
    usage: &'static str,
}

/// What a tool's `Info()` and `SetFlags` give the help.
#[derive(Debug, Clone, Copy)]
struct Info {
    args: &'static str,
    purpose: &'static str,
    flags: &'static [Flag],
    doc: &'static str,
    examples: &'static str,
    see_also: &'static [&'static str],
}

/// `cmd.Output.AddFlags` with the default formatters (`smart`).
const FORMAT_SMART: Flag = Flag {
    names: &["format"],
    default: Default::Plain("smart"),
    usage: "Specify output format (json|smart|yaml)",
};
/// `cmd.Output.AddFlags` with YAML and JSON only.
const FORMAT_YAML: Flag = Flag {
    names: &["format"],
    default: Default::Plain("yaml"),
    usage: "Specify output format (json|yaml)",
};
/// `cmd.Output.AddFlags`' output file.
const OUTPUT: Flag = Flag {
    names: &["o", "output"],
    default: Default::Quoted(""),
    usage: "Specify an output file",
};
/// The write tools' ignored `--format`.
const DEPRECATED_FORMAT: Flag = Flag {
    names: &["format"],
    default: Default::Quoted(""),
    usage: "deprecated format flag",
};

/// What Juju's `Info()` reads from the hook context.
#[derive(Debug, Clone, Default)]
pub(super) struct HelpContext {
    /// The hook's relation (`endpoint:id`), if it is a relation hook.
    pub relation: Option<String>,
    /// That relation's endpoint.
    pub endpoint: Option<String>,
    /// The hook's remote unit, if any.
    pub remote_unit: Option<String>,
}

fn info(tool: &str) -> Option<Info> {
    relation_tools::info(tool).or_else(|| other_tools::info(tool))
}

/// The help text of `tool`, printed on stdout with exit 0.
pub(super) fn text(tool: &str, ctx: &HelpContext) -> String {
    let Some(info) = info(tool) else {
        return format!("Usage: {tool}\n");
    };
    let mut args = info.args;
    let mut doc = info.doc.to_owned();
    match tool {
        // relation-ids.go: the endpoint defaults to the hook's.
        "relation-ids" => {
            if let Some(endpoint) = &ctx.endpoint {
                args = "[<name>]";
                doc = format!("Current default endpoint name is {endpoint:?}.{doc}");
            }
        }
        // relation-get.go: both arguments may be left out when there is a remote unit.
        "relation-get" => {
            if let Some(unit) = &ctx.remote_unit {
                args = "[<key> [<unit id>]]";
                doc.push_str(&format!("Current default unit id is {unit:?}."));
            }
        }
        // relation-list.go, relation-model-get.go: no details inside a relation hook.
        "relation-list" | "relation-model-get" if ctx.relation.is_some() => doc.clear(),
        _ => {}
    }
    let mut out = format!("Usage: {tool}");
    if !info.flags.is_empty() {
        out.push_str(" [options]");
    }
    if !args.is_empty() {
        out.push(' ');
        out.push_str(args);
    }
    out.push_str(&format!("\n\nSummary:\n{}\n", info.purpose));
    if !info.flags.is_empty() {
        out.push_str("\nOptions:\n");
        print_defaults(info.flags, ctx, &mut out);
    }
    let doc = doc.trim();
    if !doc.is_empty() {
        out.push_str(&format!("\nDetails:\n{doc}\n"));
    }
    if !info.examples.is_empty() {
        out.push_str("\nExamples:\n");
        out.push_str(info.examples);
    }
    if !info.see_also.is_empty() {
        out.push_str("\nSee also:\n");
        for entry in info.see_also {
            out.push_str(&format!(" - {entry}\n"));
        }
        out.push('\n');
    }
    out
}

/// gnuflag `PrintDefaults`: the groups sorted by their shortest name, each line listing the
/// group's names shortest first, the default, then the shortest name's usage.
fn print_defaults(flags: &[Flag], ctx: &HelpContext, out: &mut String) {
    let mut groups: Vec<(Vec<&str>, &Flag)> = flags
        .iter()
        .map(|flag| {
            let mut names = flag.names.to_vec();
            names.sort_by_key(|n| n.len());
            (names, flag)
        })
        .collect();
    groups.sort_by(|a, b| a.0.first().cmp(&b.0.first()));
    for (names, flag) in groups {
        let line = names
            .iter()
            .map(|n| {
                if n.len() > 1 {
                    format!("--{n}")
                } else {
                    format!("-{n}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        match flag.default {
            Default::Plain(value) => out.push_str(&format!("{line}  (= {value})\n")),
            Default::Quoted(value) => out.push_str(&format!("{line} (= {value:?})\n")),
            Default::HookRelation => out.push_str(&format!(
                "{line}  (= {})\n",
                ctx.relation.as_deref().unwrap_or_default()
            )),
        }
        out.push_str(&format!("    {}\n", flag.usage));
    }
}
