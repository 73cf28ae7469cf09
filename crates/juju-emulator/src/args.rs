//! Option parsing the way Juju's hook tools do it (`juju/gnuflag`, interspersed).
//!
//! The rules that matter for byte-exact errors: `--name` and `--name=value` for long options,
//! `-x`, `-xVALUE` and `-x VALUE` for short ones (several short booleans may share one dash),
//! `--` ends the options, a lone `-` is a positional, and an undefined `-h`/`--help` asks for
//! help. Errors say "option", as hook tools configure gnuflag to do.

use std::collections::{BTreeMap, BTreeSet};

/// Whether an option takes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OptKind {
    /// A boolean switch.
    Switch,
    /// An option with one value.
    Value,
}

/// One option a tool accepts; `key` names it in [`ParsedArgs`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct OptSpec {
    pub key: &'static str,
    pub short: Option<char>,
    pub long: Option<&'static str>,
    pub kind: OptKind,
}

impl OptSpec {
    pub(crate) const fn switch(key: &'static str, short: Option<char>, long: &'static str) -> Self {
        Self {
            key,
            short,
            long: Some(long),
            kind: OptKind::Switch,
        }
    }

    pub(crate) const fn value(key: &'static str, short: Option<char>, long: &'static str) -> Self {
        Self {
            key,
            short,
            long: Some(long),
            kind: OptKind::Value,
        }
    }
}

/// The options and positionals of one command line.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ParsedArgs {
    values: BTreeMap<&'static str, String>,
    switches: BTreeSet<&'static str>,
    /// Positional arguments in order.
    pub positionals: Vec<String>,
}

impl ParsedArgs {
    /// The last value given for a value option.
    pub(crate) fn value(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Whether a switch was given (and not set back to false).
    pub(crate) fn switch(&self, key: &str) -> bool {
        self.switches.contains(key)
    }
}

/// What a command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// `-h` or `--help`.
    Help,
    /// Run with these arguments.
    Run(ParsedArgs),
}

/// How an option was written, with its dashes, as gnuflag prints it in errors.
fn with_minus(name: &str) -> String {
    if name.chars().count() > 1 {
        format!("--{name}")
    } else {
        format!("-{name}")
    }
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `%q` for a string: double quotes, backslash escapes, non-printables as `\x`/`\u`.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) <= 0xffff {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%q` for a list of strings: `["a" "b"]`.
pub(crate) fn go_quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[{}]", quoted.join(" "))
}

/// `unrecognized args: [...]` when `args` is not empty.
pub(crate) fn check_empty(args: &[String]) -> Result<(), String> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(format!("unrecognized args: {}", go_quote_list(args)))
    }
}

/// Parses `args` against `specs`. `check(key, value)` validates a value as gnuflag's
/// `Value.Set` would, at the moment the option is seen (so errors come in argv order).
///
/// # Errors
/// The text after `ERROR ` for a usage error (exit 2).
pub(crate) fn parse(
    specs: &[OptSpec],
    args: &[String],
    check: &mut dyn FnMut(&str, &str) -> Result<(), String>,
) -> Result<Parsed, String> {
    let mut parsed = ParsedArgs::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "-" || !arg.starts_with('-') {
            parsed.positionals.push(arg.clone());
            continue;
        }
        if arg == "--" {
            parsed.positionals.extend(rest.by_ref().cloned());
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (long, None),
            };
            let spec = specs.iter().find(|s| s.long == Some(name));
            let Some(spec) = spec else {
                return unknown(name);
            };
            apply(spec, name, inline, &mut rest, &mut parsed, check)?;
            continue;
        }
        // A group of single-rune options after one dash.
        let group = &arg[1..];
        for (at, c) in group.char_indices() {
            let name = c.to_string();
            let Some(spec) = specs.iter().find(|s| s.short == Some(c)) else {
                return unknown(&name);
            };
            match spec.kind {
                OptKind::Switch => {
                    parsed.switches.insert(spec.key);
                }
                OptKind::Value => {
                    let attached = &group[at + c.len_utf8()..];
                    let inline = (!attached.is_empty()).then(|| attached.to_owned());
                    apply(spec, &name, inline, &mut rest, &mut parsed, check)?;
                    break;
                }
            }
        }
    }
    Ok(Parsed::Run(parsed))
}

fn unknown(name: &str) -> Result<Parsed, String> {
    if name == "help" || name == "h" {
        Ok(Parsed::Help)
    } else {
        Err(format!(
            "option provided but not defined: {}",
            with_minus(name)
        ))
    }
}

/// Records one option; the value comes inline or from the next argument.
fn apply<'a>(
    spec: &OptSpec,
    name: &str,
    inline: Option<String>,
    rest: &mut impl Iterator<Item = &'a String>,
    parsed: &mut ParsedArgs,
    check: &mut dyn FnMut(&str, &str) -> Result<(), String>,
) -> Result<(), String> {
    let invalid = |value: &str, why: String| {
        format!(
            "invalid value {} for option {}: {why}",
            go_quote(value),
            with_minus(name)
        )
    };
    match spec.kind {
        OptKind::Switch => match inline {
            None => {
                parsed.switches.insert(spec.key);
            }
            Some(v) => match parse_go_bool(&v) {
                Some(true) => {
                    parsed.switches.insert(spec.key);
                }
                Some(false) => {
                    parsed.switches.remove(spec.key);
                }
                None => {
                    let why = format!(
                        "strconv.ParseBool: parsing {}: invalid syntax",
                        go_quote(&v)
                    );
                    return Err(invalid(&v, why));
                }
            },
        },
        OptKind::Value => {
            let value = match inline {
                Some(v) => v,
                None => rest
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("option needs an argument: {}", with_minus(name)))?,
            };
            check(spec.key, &value).map_err(|why| invalid(&value, why))?;
            parsed.values.insert(spec.key, value);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: [OptSpec; 4] = [
        OptSpec::value("relation", Some('r'), "relation"),
        OptSpec::switch("app", None, "app"),
        OptSpec::value("format", None, "format"),
        OptSpec::switch("all", Some('a'), "all"),
    ];

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    fn run(s: &str) -> Result<Parsed, String> {
        parse(&SPECS, &argv(s), &mut |_, _| Ok(()))
    }

    fn args(s: &str) -> ParsedArgs {
        match run(s) {
            Ok(Parsed::Run(a)) => a,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn long_short_inline_and_interspersed_forms() {
        let a = args("pew --format smart -r db:1 --app - x");
        assert_eq!(a.value("format"), Some("smart"));
        assert_eq!(a.value("relation"), Some("db:1"));
        assert!(a.switch("app"));
        assert_eq!(a.positionals, ["pew", "-", "x"]);
        assert_eq!(args("--format=json -r3").value("format"), Some("json"));
        assert_eq!(args("-r3").value("relation"), Some("3"));
        assert_eq!(args("-ar 4").value("relation"), Some("4"));
        assert!(args("-ar 4").switch("all"));
        assert!(!args("--app --app=false").switch("app"));
        assert_eq!(args("-- --app x").positionals, ["--app", "x"]);
    }

    #[test]
    fn errors_use_gnuflag_texts() {
        assert_eq!(
            run("--foo"),
            Err("option provided but not defined: --foo".into())
        );
        assert_eq!(run("-x"), Err("option provided but not defined: -x".into()));
        assert_eq!(run("-r"), Err("option needs an argument: -r".into()));
        assert_eq!(
            run("--app=maybe"),
            Err("invalid value \"maybe\" for option --app: strconv.ParseBool: parsing \"maybe\": invalid syntax".into())
        );
        let checked = parse(&SPECS, &argv("--format bad"), &mut |key, v| {
            assert_eq!(key, "format");
            Err(format!("unknown format {}", go_quote(v)))
        });
        assert_eq!(
            checked,
            Err("invalid value \"bad\" for option --format: unknown format \"bad\"".into())
        );
    }

    #[test]
    fn help_is_recognised_anywhere_but_after_an_error() {
        assert_eq!(run("--help"), Ok(Parsed::Help));
        assert_eq!(run("x -h"), Ok(Parsed::Help));
        assert!(run("--foo --help").is_err());
    }

    #[test]
    fn go_quoting_matches_percent_q() {
        assert_eq!(go_quote("a\"b\\c\n\t\u{1}é"), "\"a\\\"b\\\\c\\n\\t\\x01é\"");
        assert_eq!(go_quote_list(&argv("a b")), "[\"a\" \"b\"]");
        assert_eq!(check_empty(&[]), Ok(()));
        assert_eq!(
            check_empty(&argv("extra")),
            Err("unrecognized args: [\"extra\"]".into())
        );
    }
}
