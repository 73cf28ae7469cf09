//! The `--format smart|yaml|json` output of read tools, byte for byte as `juju/cmd` prints it.
//!
//! Values are `serde_json::Value`s; `Null` stands for "absent" (a missing key). The YAML
//! emitter covers what hook tools print (scalars, string lists, maps of scalars and nested
//! maps) with Go `yaml.v2`'s choices: double quotes for strings that would read back as another
//! type, literal blocks for multi-line strings, map keys in yaml.v2's order. Go structs keep
//! their field order ([`Tree`]). Known gap: `yaml.v2` folds plain
//! strings longer than 80 columns; this emitter never folds.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::Value;

/// An output format of a read tool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Format {
    /// Juju's default: plain strings, `True`/`False`, one list item per line, else YAML.
    #[default]
    Smart,
    /// YAML (Go `yaml.v2` style).
    Yaml,
    /// Compact JSON with Go's key order and HTML-safe escaping.
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

/// What a tool prints when Go marshals a struct: its fields keep their declaration order
/// (yaml.v2 and encoding/json both do), where a `Value`'s maps are Go maps, sorted.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tree {
    /// A value whose maps are Go maps.
    Value(Value),
    /// A Go struct: its fields in declaration order (`omitempty` ones left out by the caller).
    Struct(Vec<(&'static str, Tree)>),
    /// A Go map of trees: keys sorted as Go's encoder sorts them.
    Map(BTreeMap<String, Tree>),
    /// A Go slice.
    List(Vec<Tree>),
}

impl From<Value> for Tree {
    fn from(value: Value) -> Self {
        Self::Value(value)
    }
}

/// Renders `value` in `format`, including the final newline (or nothing at all).
pub(crate) fn render(value: &Value, format: Format) -> String {
    render_node(&Node::of_value(value, format), format)
}

/// [`render`] for a [`Tree`].
pub(crate) fn render_tree(tree: &Tree, format: Format) -> String {
    render_node(&Node::of_tree(tree, format), format)
}

/// What a read tool prints: a value, or a Go struct.
pub(crate) trait Printable {
    /// The text in `format`, final newline included (or nothing at all).
    fn render(&self, format: Format) -> String;
}

impl Printable for Value {
    fn render(&self, format: Format) -> String {
        render(self, format)
    }
}

impl Printable for Tree {
    fn render(&self, format: Format) -> String {
        render_tree(self, format)
    }
}

/// A borrowed view of what is printed, map entries already in print order.
enum Node<'a> {
    /// Null, a bool, a number or a string.
    Scalar(&'a Value),
    Map(Vec<(&'a str, Node<'a>)>),
    List(Vec<Node<'a>>),
}

impl<'a> Node<'a> {
    fn of_value(value: &'a Value, format: Format) -> Self {
        match value {
            Value::Object(map) => Self::go_map(
                map.iter().map(|(k, v)| (k.as_str(), v)),
                Self::of_value,
                format,
            ),
            Value::Array(items) => {
                Self::List(items.iter().map(|v| Self::of_value(v, format)).collect())
            }
            scalar => Self::Scalar(scalar),
        }
    }

    fn of_tree(tree: &'a Tree, format: Format) -> Self {
        match tree {
            Tree::Value(value) => Self::of_value(value, format),
            Tree::Struct(fields) => Self::Map(
                fields
                    .iter()
                    .map(|(k, v)| (*k, Self::of_tree(v, format)))
                    .collect(),
            ),
            Tree::Map(map) => Self::go_map(
                map.iter().map(|(k, v)| (k.as_str(), v)),
                Self::of_tree,
                format,
            ),
            Tree::List(items) => {
                Self::List(items.iter().map(|t| Self::of_tree(t, format)).collect())
            }
        }
    }

    /// A Go map's entries, given in byte order (as encoding/json sorts them); yaml.v2 sorts
    /// its own way ([`yaml_key_less`]).
    fn go_map<T: 'a>(
        entries: impl Iterator<Item = (&'a str, &'a T)>,
        node: fn(&'a T, Format) -> Self,
        format: Format,
    ) -> Self {
        let mut entries: Vec<(&'a str, Self)> =
            entries.map(|(k, v)| (k, node(v, format))).collect();
        if format != Format::Json {
            entries.sort_by(|(a, _), (b, _)| yaml_key_order(a, b));
        }
        Self::Map(entries)
    }

    fn is_string(&self) -> bool {
        matches!(self, Self::Scalar(Value::String(_)))
    }
}

fn render_node(node: &Node<'_>, format: Format) -> String {
    match format {
        Format::Smart => smart(node),
        Format::Yaml => yaml(node),
        Format::Json => json(node),
    }
}

fn smart(node: &Node<'_>) -> String {
    match node {
        Node::Scalar(Value::Null) => String::new(),
        Node::Scalar(Value::String(s)) if s.is_empty() => String::new(),
        Node::Scalar(Value::String(s)) => format!("{s}\n"),
        Node::Scalar(Value::Bool(true)) => "True\n".to_owned(),
        Node::Scalar(Value::Bool(false)) => "False\n".to_owned(),
        Node::List(items) if items.iter().all(Node::is_string) => {
            let mut out = String::new();
            for item in items {
                if let Node::Scalar(Value::String(s)) = item {
                    out.push_str(s);
                }
                out.push('\n');
            }
            out
        }
        other => yaml(other),
    }
}

fn yaml(node: &Node<'_>) -> String {
    if matches!(node, Node::Scalar(Value::Null)) {
        return String::new();
    }
    let mut out = String::new();
    emit(node, 0, &mut out);
    let trimmed = out.trim_end_matches('\n');
    format!("{trimmed}\n")
}

/// Go's `encoding/json`: compact, `<>&` and U+2028/9 escaped, integral floats without a
/// fraction.
fn json(node: &Node<'_>) -> String {
    let mut text = String::new();
    json_text(node, &mut text);
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

fn json_text(node: &Node<'_>, out: &mut String) {
    let encode = |v: &Value| serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned());
    match node {
        Node::Scalar(number @ Value::Number(_)) => out.push_str(&encode(&go_number(number))),
        Node::Scalar(scalar) => out.push_str(&encode(scalar)),
        Node::Map(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&encode(&Value::String((*key).to_owned())));
                out.push(':');
                json_text(item, out);
            }
            out.push('}');
        }
        Node::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_text(item, out);
            }
            out.push(']');
        }
    }
}

/// An integral float as Go prints it: without a fraction.
fn go_number(value: &Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => Value::from(f as i64),
            _ => value.clone(),
        },
        other => other.clone(),
    }
}

/// yaml.v2's order of string map keys (sorter.go `keyList.Less`): runs of digits compare as
/// numbers, and a letter sorts after any other rune.
fn yaml_key_order(a: &str, b: &str) -> Ordering {
    if yaml_key_less(a, b) {
        Ordering::Less
    } else if yaml_key_less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn yaml_key_less(a: &str, b: &str) -> bool {
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let digit = |c: char| c.is_ascii_digit();
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        // Inside a number with a non-zero digit before, leading zeros are digits too.
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && digit(ar[j - 1]) {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && digit(ar[ai]) {
            an = an
                .wrapping_mul(10)
                .wrapping_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && digit(br[bi]) {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

/// Emits a block-style node at `indent`; maps and lists end with a newline.
fn emit(node: &Node<'_>, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match node {
        Node::Map(entries) if !entries.is_empty() => {
            for (key, item) in entries {
                out.push_str(&pad);
                out.push_str(&scalar_string(key, indent));
                out.push(':');
                match item {
                    Node::Map(m) if !m.is_empty() => {
                        out.push('\n');
                        emit(item, indent + 2, out);
                    }
                    // yaml.v2 does not indent a list under its key.
                    Node::List(a) if !a.is_empty() => {
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
        Node::List(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push_str("- ");
                match item {
                    Node::Map(m) if !m.is_empty() => {
                        let mut nested = String::new();
                        emit(item, indent + 2, &mut nested);
                        out.push_str(&nested[indent + 2..]);
                    }
                    Node::List(a) if !a.is_empty() => {
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
fn scalar_text(node: &Node<'_>, indent: usize) -> String {
    match node {
        Node::Scalar(Value::Null) => "null".to_owned(),
        Node::Scalar(Value::Bool(b)) => b.to_string(),
        Node::Scalar(number @ Value::Number(_)) => go_number(number).to_string(),
        Node::Scalar(Value::String(s)) => scalar_string(s, indent),
        Node::List(_) | Node::Scalar(Value::Array(_)) => "[]".to_owned(),
        Node::Map(_) | Node::Scalar(Value::Object(_)) => "{}".to_owned(),
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

    /// gopkg.in/yaml.v2 sorter.go `keyList.Less`: numbers inside keys compare as numbers,
    /// letters sort after other runes; encoding/json sorts map keys by bytes.
    #[test]
    fn map_keys_sort_as_go_sorts_them() {
        let units = json!({"app/10": 1, "app/9": 2, "app/1": 3, "aB": 4, "a_b": 5, "a-b": 6});
        assert_eq!(
            render(&units, Format::Yaml),
            "a-b: 6\na_b: 5\naB: 4\napp/1: 3\napp/9: 2\napp/10: 1\n"
        );
        assert_eq!(
            render(&units, Format::Json),
            "{\"a-b\":6,\"aB\":4,\"a_b\":5,\"app/1\":3,\"app/10\":1,\"app/9\":2}\n"
        );
        assert!(yaml_key_less("x2", "x10") && !yaml_key_less("x10", "x2"));
        assert!(yaml_key_less("a", "ab") && !yaml_key_less("ab", "ab"));
        // Equal numbers: the shorter run (no leading zero) first.
        assert!(yaml_key_less("v1", "v01") && !yaml_key_less("v01", "v1"));
    }

    /// Go structs print their fields in declaration order in both formats; their maps
    /// stay sorted.
    #[test]
    fn struct_fields_keep_their_order() {
        let tree = Tree::Struct(vec![
            (
                "units",
                Tree::Map(BTreeMap::from([
                    (
                        "u/10".to_owned(),
                        Tree::Struct(vec![
                            ("status", json!("active").into()),
                            ("since", json!("now").into()),
                        ]),
                    ),
                    (
                        "u/2".to_owned(),
                        Tree::Value(json!({"z": 1, "a": [1.0, "<x>"]})),
                    ),
                ])),
            ),
            (
                "list",
                Tree::List(vec![Tree::Struct(vec![
                    ("target", json!("t").into()),
                    ("role", json!("view").into()),
                ])]),
            ),
            ("empty", Tree::Struct(Vec::new())),
        ]);
        assert_eq!(
            render_tree(&tree, Format::Yaml),
            "units:\n  u/2:\n    a:\n    - 1\n    - <x>\n    z: 1\n  u/10:\n    status: active\n    since: now\nlist:\n- target: t\n  role: view\nempty: {}\n"
        );
        assert_eq!(
            render_tree(&tree, Format::Json),
            "{\"units\":{\"u/10\":{\"status\":\"active\",\"since\":\"now\"},\"u/2\":{\"a\":[1,\"\\u003cx\\u003e\"],\"z\":1}},\"list\":[{\"target\":\"t\",\"role\":\"view\"}],\"empty\":{}}\n"
        );
        assert_eq!(
            render_tree(&tree, Format::Smart),
            render_tree(&tree, Format::Yaml)
        );
        let lines = Tree::List(vec![json!("a").into(), json!("b").into()]);
        assert_eq!(render_tree(&lines, Format::Smart), "a\nb\n");
    }

    #[test]
    fn format_names() {
        assert_eq!(Format::parse("json"), Ok(Format::Json));
        assert_eq!(Format::parse("bad"), Err("unknown format \"bad\"".into()));
    }
}
