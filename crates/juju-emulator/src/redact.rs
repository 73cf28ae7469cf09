//! Hiding private keys in what the emulator prints or logs: any PEM block whose label ends
//! in `PRIVATE KEY` (`PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`, `ENCRYPTED PRIVATE
//! KEY`, ...), wherever it appears in a value.

use std::borrow::Cow;

/// What a private-key block is replaced with.
pub const REDACTED: &str = "<private key redacted>";

/// `text` with every PEM private-key block replaced by [`REDACTED`]; a block with no end
/// line is redacted to the end of the text. Text without one is returned as it is.
pub fn redact_private_keys(text: &str) -> Cow<'_, str> {
    if !text.contains("PRIVATE KEY-----") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((start, label_end)) = find_begin(rest) {
        out.push_str(&rest[..start]);
        out.push_str(REDACTED);
        let label = &rest[start + "-----BEGIN ".len()..label_end];
        let after = &rest[label_end + "-----".len()..];
        let end_line = format!("-----END {label}-----");
        rest = match after.find(&end_line) {
            Some(i) => &after[i + end_line.len()..],
            None => "",
        };
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The next `-----BEGIN <label>-----` whose label ends in `PRIVATE KEY`: where it starts and
/// where its label ends.
fn find_begin(text: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = text[from..].find("-----BEGIN ") {
        let start = from + i;
        let label_start = start + "-----BEGIN ".len();
        let line_end = text[label_start..]
            .find('\n')
            .map_or(text.len(), |n| label_start + n);
        if let Some(j) = text[label_start..line_end].find("-----") {
            let label_end = label_start + j;
            if text[label_start..label_end].ends_with("PRIVATE KEY") {
                return Some((start, label_end));
            }
        }
        from = label_start;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_key_blocks_are_redacted_and_certificates_kept() {
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert_eq!(redact_private_keys(cert), cert);
        let key = "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----";
        let text = format!("client_key={key}\n{cert}");
        assert_eq!(
            redact_private_keys(&text),
            format!("client_key={REDACTED}\n{cert}")
        );
        let cut = "x -----BEGIN PRIVATE KEY-----\nMIIE";
        assert_eq!(redact_private_keys(cut), format!("x {REDACTED}"));
        let two = format!("{key} and {key}");
        assert_eq!(
            redact_private_keys(&two),
            format!("{REDACTED} and {REDACTED}")
        );
    }
}
