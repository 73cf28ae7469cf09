//! `relation-set --file`: the YAML map of settings, read as Juju reads it.
//!
//! Juju (worker/uniter/runner/jujuc/relation-set.go `readSettings`) unmarshals the file with
//! `gopkg.in/yaml.v2` into a `map[string]string`. Into a string, yaml.v2 stores a scalar's
//! text as written, whatever it would resolve to (`1.10`, `0x1F`, `+12`, `true`, `yes` stay
//! as they are); a null (`~`, `null`, empty) becomes the empty string, which deletes the
//! key; a `!!binary` scalar is stored base64-decoded. Anchors, aliases and `<<` merge keys
//! work; only the first document counts; a sequence or map where a string is expected is an
//! unmarshal error naming its line. A JSON object is YAML too.

use std::collections::HashMap;

use base64::Engine as _;
use juju_hooks::Databag;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::TScalarStyle;

/// One YAML node with what the decoding needs.
#[derive(Clone, Debug)]
enum Node {
    Scalar {
        text: String,
        plain: bool,
        tag: Option<String>,
        line: usize,
    },
    Seq {
        tag: Option<String>,
        line: usize,
    },
    Map {
        pairs: Vec<(Node, Node)>,
        tag: Option<String>,
        line: usize,
    },
}

/// Parses the file's bytes into settings (empty value = delete).
pub(super) fn parse_settings(bytes: &[u8]) -> Result<Databag, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "yaml: invalid leading UTF-8 octet")?;
    let Some(root) = first_document(text)? else {
        return Ok(Databag::new());
    };
    let mut errors = Vec::new();
    let mut bag = Databag::new();
    match &root {
        Node::Map { .. } => fill(&root, &mut bag, &mut errors),
        Node::Scalar { .. } if is_null(&root) => {}
        other => errors.push(cannot_unmarshal(other, "map[string]string")),
    }
    if errors.is_empty() {
        Ok(bag)
    } else {
        Err(format!(
            "yaml: unmarshal errors:\n  {}",
            errors.join("\n  ")
        ))
    }
}

/// Sets the pairs of `map` into `bag` in order (a merge key merges its map(s) where it
/// stands; later keys win, as in yaml.v2).
fn fill(map: &Node, bag: &mut Databag, errors: &mut Vec<String>) {
    let Node::Map { pairs, .. } = map else {
        return;
    };
    for (key, value) in pairs {
        if is_merge(key) {
            match value {
                Node::Map { .. } => fill(value, bag, errors),
                Node::Seq { .. } => {}
                _ => errors.push(format!(
                    "line {}: map merge requires map or sequence of maps as the value",
                    line(value)
                )),
            }
            continue;
        }
        let key = match string_of(key) {
            Ok(k) => k,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match string_of(value) {
            Ok(v) => {
                bag.insert(key, v);
            }
            Err(e) => errors.push(e),
        }
    }
}

/// What yaml.v2 stores into a Go string: the scalar's text, `""` for null, the decoded
/// bytes of `!!binary`.
fn string_of(node: &Node) -> Result<String, String> {
    match node {
        Node::Scalar { .. } if is_null(node) => Ok(String::new()),
        Node::Scalar {
            text, tag, line, ..
        } if tag.as_deref() == Some("!!binary") => {
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|e| {
                    format!("line {line}: !!binary value contains invalid base64 data: {e}")
                })?;
            String::from_utf8(bytes).map_err(|_| {
                format!("line {line}: !!binary value is not UTF-8 text, which the emulator cannot store")
            })
        }
        Node::Scalar { text, .. } => Ok(text.clone()),
        other => Err(cannot_unmarshal(other, "string")),
    }
}

fn is_null(node: &Node) -> bool {
    match node {
        Node::Scalar { tag: Some(tag), .. } => tag == "!!null",
        Node::Scalar { text, plain, .. } => {
            *plain && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL")
        }
        _ => false,
    }
}

fn is_merge(node: &Node) -> bool {
    matches!(node, Node::Scalar { text, plain: true, tag: None, .. } if text == "<<")
        || matches!(node, Node::Scalar { tag: Some(t), .. } if t == "!!merge")
}

fn line(node: &Node) -> usize {
    match node {
        Node::Scalar { line, .. } | Node::Seq { line, .. } | Node::Map { line, .. } => *line,
    }
}

/// yaml.v2's `terror` text: `line N: cannot unmarshal !!tag `value` into TYPE`.
fn cannot_unmarshal(node: &Node, into: &str) -> String {
    let (tag, shown) = match node {
        Node::Seq { tag, .. } => (tag.clone().unwrap_or_else(|| "!!seq".into()), String::new()),
        Node::Map { tag, .. } => (tag.clone().unwrap_or_else(|| "!!map".into()), String::new()),
        Node::Scalar {
            text, plain, tag, ..
        } => {
            let tag = tag
                .clone()
                .unwrap_or_else(|| resolve(text, *plain).to_owned());
            let shown = if text.len() > 10 {
                let cut: String = text.chars().take(7).collect();
                format!(" `{cut}...`")
            } else {
                format!(" `{text}`")
            };
            (tag, shown)
        }
    };
    format!(
        "line {}: cannot unmarshal {tag}{shown} into {into}",
        line(node)
    )
}

/// The tag yaml.v2 resolves a scalar to (for error texts only: values keep their text).
fn resolve(text: &str, plain: bool) -> &'static str {
    if !plain {
        return "!!str";
    }
    const BOOLS: [&str; 22] = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    if BOOLS.contains(&text) {
        return "!!bool";
    }
    let digits = text.trim_start_matches(['+', '-']).replace('_', "");
    let int = !digits.is_empty()
        && (digits.chars().all(|c| c.is_ascii_digit())
            || digits
                .strip_prefix("0x")
                .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
            || digits
                .strip_prefix("0b")
                .is_some_and(|b| !b.is_empty() && b.chars().all(|c| c == '0' || c == '1')));
    if int {
        return "!!int";
    }
    if matches!(
        text,
        ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
            | ".nan"
            | ".NaN"
            | ".NAN"
    ) || (digits.contains('.') || digits.contains(['e', 'E'])) && digits.parse::<f64>().is_ok()
    {
        return "!!float";
    }
    "!!str"
}

fn tag_name(tag: Option<Tag>) -> Option<String> {
    let tag = tag?;
    Some(match tag.handle.as_str() {
        "tag:yaml.org,2002:" | "!!" => format!("!!{}", tag.suffix),
        handle => format!("{handle}{}", tag.suffix),
    })
}

/// The first document of `text` as a tree (aliases resolved), or `None` if there is none.
fn first_document(text: &str) -> Result<Option<Node>, String> {
    let mut parser = Parser::new_from_str(text);
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut next = || {
        parser
            .next_token()
            .map_err(|e| format!("yaml: line {}: {}", e.marker().line(), e.info()))
    };
    // Skip to the first document.
    loop {
        match next()?.0 {
            Event::DocumentStart => break,
            Event::StreamEnd => return Ok(None),
            _ => {}
        }
    }
    let (event, mark) = next()?;
    if matches!(event, Event::DocumentEnd) {
        return Ok(None);
    }
    node(event, mark.line(), &mut next, &mut anchors).map(Some)
}

type Next<'n> = dyn FnMut() -> Result<(Event, yaml_rust2::scanner::Marker), String> + 'n;

fn node(
    event: Event,
    line: usize,
    next: &mut Next<'_>,
    anchors: &mut HashMap<usize, Node>,
) -> Result<Node, String> {
    let (node, anchor) = match event {
        Event::Alias(id) => {
            return anchors
                .get(&id)
                .cloned()
                .ok_or_else(|| format!("yaml: line {line}: unknown anchor referenced"))
        }
        Event::Scalar(text, style, anchor, tag) => (
            Node::Scalar {
                text,
                plain: style == TScalarStyle::Plain,
                tag: tag_name(tag),
                line,
            },
            anchor,
        ),
        Event::SequenceStart(anchor, tag) => {
            loop {
                let (event, mark) = next()?;
                if matches!(event, Event::SequenceEnd) {
                    break;
                }
                node(event, mark.line(), next, anchors)?;
            }
            (
                Node::Seq {
                    tag: tag_name(tag),
                    line,
                },
                anchor,
            )
        }
        Event::MappingStart(anchor, tag) => {
            let mut pairs = Vec::new();
            loop {
                let (event, mark) = next()?;
                if matches!(event, Event::MappingEnd) {
                    break;
                }
                let key = node(event, mark.line(), next, anchors)?;
                let (event, mark) = next()?;
                let value = node(event, mark.line(), next, anchors)?;
                pairs.push((key, value));
            }
            (
                Node::Map {
                    pairs,
                    tag: tag_name(tag),
                    line,
                },
                anchor,
            )
        }
        other => return Err(format!("yaml: line {line}: unexpected {other:?}")),
    };
    if anchor > 0 {
        anchors.insert(anchor, node.clone());
    }
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bag(text: &str) -> Databag {
        parse_settings(text.as_bytes()).unwrap()
    }

    /// yaml.v2 into `map[string]string` keeps each scalar's text (relation-set.go
    /// `readSettings`; yaml.v2 decode.go stores `n.value` into strings).
    #[test]
    fn scalars_keep_their_text() {
        let b = bag("a: 1.10\nb: 0x1F\nc: +12\nd: true\ne: yes\nf: 1e3\ng: '007'\nh: \"q\"\ni: ~\nj: null\nk:\n");
        let want = [
            ("a", "1.10"),
            ("b", "0x1F"),
            ("c", "+12"),
            ("d", "true"),
            ("e", "yes"),
            ("f", "1e3"),
            ("g", "007"),
            ("h", "q"),
            ("i", ""),
            ("j", ""),
            ("k", ""),
        ];
        for (k, v) in want {
            assert_eq!(b[k], v, "{k}");
        }
        assert_eq!(bag("1.10: x\n")["1.10"], "x");
    }

    #[test]
    fn binary_is_decoded_and_block_scalars_kept() {
        let b = bag(
            "bin: !!binary aGVsbG8=\nlong: !!binary |\n  aGVs\n  bG8=\npem: |\n  line1\n  line2\n",
        );
        assert_eq!(b["bin"], "hello");
        assert_eq!(b["long"], "hello");
        assert_eq!(b["pem"], "line1\nline2\n");
        assert!(parse_settings(b"x: !!binary '%%%'")
            .unwrap_err()
            .contains("base64"));
    }

    #[test]
    fn anchors_aliases_and_merge_keys_work() {
        assert!(
            parse_settings(b"base: &b {x: '1'}\nz: *b\n").is_err(),
            "a map is no string"
        );
        let b = bag("a: &v hello\nb: *v\n<<: {m: merged, a: over}\nc: 3\n");
        assert_eq!(b["a"], "over");
        assert_eq!(b["b"], "hello");
        assert_eq!(b["m"], "merged");
        assert_eq!(b["c"], "3");
    }

    #[test]
    fn settings_files_are_yaml_or_json_maps() {
        let b = bag("a: '1'\nb: null\nc: 2\nd: multi\n");
        assert_eq!(
            (b["a"].as_str(), b["b"].as_str(), b["c"].as_str()),
            ("1", "", "2")
        );
        let b = bag(r#"{"x": "<y>", "gone": null, "n": 1.50}"#);
        assert_eq!(
            (b["x"].as_str(), b["gone"].as_str(), b["n"].as_str()),
            ("<y>", "", "1.50")
        );
        assert!(bag("").is_empty() && bag("{}").is_empty() && bag("~").is_empty());
        assert_eq!(bag("a: x\n---\nb: y\n").len(), 1, "first document only");
    }

    #[test]
    fn non_maps_are_refused_with_yaml_v2_texts() {
        assert_eq!(
            parse_settings(b"haha").unwrap_err(),
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `haha` into map[string]string"
        );
        assert_eq!(
            parse_settings(b"- 1").unwrap_err(),
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into map[string]string"
        );
        assert_eq!(
            parse_settings(b"ok: 1\na: [1]\nb: {c: d}\n").unwrap_err(),
            "yaml: unmarshal errors:\n  line 2: cannot unmarshal !!seq into string\n  line 3: cannot unmarshal !!map into string"
        );
        assert_eq!(
            parse_settings(b"12345678901").unwrap_err(),
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!int `1234567...` into map[string]string"
        );
        assert!(parse_settings(b"a: {")
            .unwrap_err()
            .starts_with("yaml: line "));
    }
}
