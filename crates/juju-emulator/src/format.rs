//! The `--format smart|yaml|json` output of read tools, byte for byte as `juju/cmd` prints it.
//!
//! Values are `serde_json::Value`s; `Null` stands for "absent" (a missing key). The YAML
//! emitter covers what hook tools print (scalars, string lists, maps of scalars and nested
//! maps) with Go `yaml.v2`'s choices: double quotes for strings that would read back as another
//! type, literal blocks for multi-line strings, sorted keys. Known gap: `yaml.v2` folds plain
//! strings longer than 80 columns; this emitter never folds.

use serde_json::Value;

/// An output format of a read tool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Format {
    /// Juju's default: plain strings, `True`/`False`, one list item per line, else YAML.
    #[default]
    Smart,
    /// YAML (Go `yaml.v2` style).
    Yaml,
    /// Compact JSON with sorted keys and Go's HTML-safe escaping.
    Json,
}

impl Format {
    /// Parses a `--format` value; the error is the text gnuflag puts after the option.
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        match s {
            "smart" => Ok(Self::Smart),
            "yaml" => Ok(Self::Yaml),
            "json" => Ok(Self::Json),
            other => Err(format!("unknown format {}", crate::args::go_quote(other))),
        }
    }
}

/// Renders `value` in `format`, including the final newline (or nothing at all).
pub(crate) fn render(value: &Value, format: Format) -> String {
    match format {
        Format::Smart => smart(value),
        Format::Yaml => yaml(value),
        Format::Json => json(value),
    }
}

fn smart(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) if s.is_empty() => String::new(),
        Value::String(s) => format!("{s}\n"),
        Value::Bool(true) => "True\n".to_owned(),
        Value::Bool(false) => "False\n".to_owned(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let mut out = String::new();
            for item in items {
                out.push_str(item.as_str().unwrap_or_default());
                out.push('\n');
            }
            out
        }
        other => yaml(other),
    }
}

fn yaml(value: &Value) -> String {
    if value.is_null() {
        return String::new();
    }
    let mut out = String::new();
    emit(value, 0, &mut out);
    let trimmed = out.trim_end_matches('\n');
    format!("{trimmed}\n")
}

/// Go's `encoding/json`: compact, sorted keys, `<>&` and U+2028/9 escaped, integral floats
/// without a fraction.
fn json(value: &Value) -> String {
    let text = serde_json::to_string(&go_numbers(value)).unwrap_or_else(|_| "null".to_owned());
    let mut out = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('\n');
    out
}

fn go_numbers(value: &Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => Value::from(f as i64),
            _ => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(go_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), go_numbers(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Emits a block-style node at `indent`; maps and lists end with a newline.
fn emit(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            // serde_json's map is a BTreeMap (no `preserve_order`), so keys come sorted.
            for (key, item) in map {
                out.push_str(&pad);
                out.push_str(&scalar_string(key, indent));
                out.push(':');
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        out.push('\n');
                        emit(item, indent + 2, out);
                    }
                    // yaml.v2 does not indent a list under its key.
                    Value::Array(a) if !a.is_empty() => {
                        out.push('\n');
                        emit(item, indent, out);
                    }
                    scalar => {
                        out.push(' ');
                        out.push_str(&scalar_text(scalar, indent + 2));
                        out.push('\n');
                    }
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push_str("- ");
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        let mut nested = String::new();
                        emit(item, indent + 2, &mut nested);
                        out.push_str(&nested[indent + 2..]);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        let mut nested = String::new();
                        emit(item, indent + 2, &mut nested);
                        out.push_str(&nested[indent + 2..]);
                    }
                    scalar => {
                        out.push_str(&scalar_text(scalar, indent + 2));
                        out.push('\n');
                    }
                }
            }
        }
        scalar => {
            out.push_str(&pad);
            out.push_str(&scalar_text(scalar, indent + 2));
            out.push('\n');
        }
    }
}

/// A scalar (or empty collection) as it appears after `key: ` or `- `.
fn scalar_text(value: &Value, indent: usize) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_numbers(&Value::Number(n.clone())).to_string(),
        Value::String(s) => scalar_string(s, indent),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
    }
}

fn scalar_string(s: &str, indent: usize) -> String {
    if s.contains('\n') && literal_allowed(s) {
        return literal_block(s, indent);
    }
    if plain_allowed(s) {
        s.to_owned()
    } else {
        double_quoted(s)
    }
}

fn literal_allowed(s: &str) -> bool {
    !s.starts_with([' ', '\t'])
        && !s.contains(" \n")
        && !s.contains("\t\n")
        && s.chars().all(|c| c == '\n' || c == '\t' || !c.is_control())
}

fn literal_block(s: &str, indent: usize) -> String {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let pad = " ".repeat(indent);
    let mut out = format!("|{chomp}");
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    for _ in 1..trailing {
        out.push('\n');
    }
    out
}

/// Whether yaml.v2 would print `s` without quotes.
fn plain_allowed(s: &str) -> bool {
    if s.is_empty() || resolves_to_non_string(s) || s.contains('\n') {
        return false;
    }
    if s.starts_with([' ', '\t']) || s.ends_with([' ', '\t']) {
        return false;
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    let bytes = s.as_bytes();
    let followed_by_space = |i: usize| bytes.get(i + 1).is_none_or(|b| *b == b' ' || *b == b'\t');
    match bytes[0] {
        b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => return false,
        b'?' | b':' | b'-' if followed_by_space(0) => return false,
        _ => {}
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    s.chars().all(|c| !c.is_control() && c != '\u{feff}')
}

/// YAML 1.1 (yaml.v2) scalars that are not strings: null, bools, numbers, base-60, dates.
fn resolves_to_non_string(s: &str) -> bool {
    const WORDS: [&str; 30] = [
        "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
        ".inf", ".Inf", ".INF", ".nan",
    ];
    if WORDS.contains(&s) || matches!(s, ".NaN" | ".NAN" | "-.inf" | "-.Inf" | "-.INF" | "+.inf") {
        return true;
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let digits = unsigned.replace('_', "");
    let is_int = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        || digits
            .strip_prefix("0x")
            .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
        || digits
            .strip_prefix("0b")
            .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b == b'0' || b == b'1'));
    let is_float = unsigned.bytes().any(|b| b.is_ascii_digit())
        && unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || b"._eE+-".contains(&b))
        && digits.parse::<f64>().is_ok();
    let is_base60 = unsigned.contains(':')
        && unsigned
            .split(':')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && !unsigned.starts_with('0');
    let b = s.as_bytes();
    let is_date = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit);
    is_int || is_float || is_base60 || is_date
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if c.is_control() || c == '\u{feff}' => {
                if (c as u32) <= 0xff {
                    out.push_str(&format!("\\x{:02X}", c as u32));
                } else {
                    out.push_str(&format!("\\u{:04X}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all(v: &Value) -> [String; 3] {
        [
            render(v, Format::Smart),
            render(v, Format::Yaml),
            render(v, Format::Json),
        ]
    }

    #[test]
    fn absent_values_print_nothing_except_in_json() {
        assert_eq!(all(&Value::Null), ["", "", "null\n"]);
    }

    #[test]
    fn strings_follow_the_table() {
        assert_eq!(all(&json!("pew")), ["pew\n", "pew\n", "\"pew\"\n"]);
        assert_eq!(all(&json!("")), ["", "\"\"\n", "\"\"\n"]);
        // The smart format leaves the string untouched, so a trailing newline doubles.
        assert_eq!(render(&json!("pew\npew\n"), Format::Smart), "pew\npew\n\n");
        assert_eq!(render(&json!("12345"), Format::Smart), "12345\n");
        assert_eq!(render(&json!("12345"), Format::Yaml), "\"12345\"\n");
    }

    #[test]
    fn bools_lists_and_numbers() {
        assert_eq!(all(&json!(true)), ["True\n", "true\n", "true\n"]);
        assert_eq!(all(&json!(false)), ["False\n", "false\n", "false\n"]);
        assert_eq!(
            all(&json!(["db:0", "db:1"])),
            ["db:0\ndb:1\n", "- db:0\n- db:1\n", "[\"db:0\",\"db:1\"]\n"]
        );
        assert_eq!(all(&json!([])), ["", "[]\n", "[]\n"]);
        assert_eq!(all(&json!(45)), ["45\n", "45\n", "45\n"]);
        assert_eq!(render(&json!(1.0), Format::Json), "1\n");
        assert_eq!(render(&json!(1.5), Format::Smart), "1.5\n");
    }

    #[test]
    fn maps_are_sorted_yaml_in_smart_and_compact_json() {
        let bag = json!({"value": "12345", "pew": "pew\npew\n", "a": "<b>&"});
        assert_eq!(
            render(&bag, Format::Smart),
            "a: <b>&\npew: |\n  pew\n  pew\nvalue: \"12345\"\n"
        );
        assert_eq!(
            render(&bag, Format::Json),
            "{\"a\":\"\\u003cb\\u003e\\u0026\",\"pew\":\"pew\\npew\\n\",\"value\":\"12345\"}\n"
        );
        assert_eq!(all(&json!({})), ["{}\n", "{}\n", "{}\n"]);
    }

    #[test]
    fn yaml_quotes_what_would_read_back_as_another_type() {
        for s in [
            "true",
            "no",
            "~",
            "1.5",
            "0x1f",
            "1_000",
            "12:30",
            "2024-01-02",
            "- a",
            "a: b",
            "#x",
            "",
            " x",
        ] {
            assert!(render(&json!(s), Format::Yaml).starts_with('"'), "{s:?}");
        }
        for s in [
            "pew",
            "https://10.0.0.1:2380",
            "etcd0=https://a:1,etcd1=https://b:2",
            "a-b",
            "-x",
        ] {
            assert_eq!(render(&json!(s), Format::Yaml), format!("{s}\n"), "{s:?}");
        }
        assert_eq!(render(&json!("a\u{1}"), Format::Yaml), "\"a\\x01\"\n");
        assert_eq!(render(&json!("x\ny"), Format::Yaml), "|-\n  x\n  y\n");
    }

    #[test]
    fn nested_maps_and_lists_indent_like_yaml_v2() {
        let v = json!({"application-status": {"status": "active", "units": {"a/0": {"status": "active"}}}, "l": ["x"]});
        assert_eq!(
            render(&v, Format::Yaml),
            "application-status:\n  status: active\n  units:\n    a/0:\n      status: active\nl:\n- x\n"
        );
        assert_eq!(
            render(&json!([{"a": "1", "b": "x"}]), Format::Yaml),
            "- a: \"1\"\n  b: x\n"
        );
    }

    #[test]
    fn format_names() {
        assert_eq!(Format::parse("json"), Ok(Format::Json));
        assert_eq!(Format::parse("bad"), Err("unknown format \"bad\"".into()));
    }
}
