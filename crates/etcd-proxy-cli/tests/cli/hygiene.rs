//! The secret-hygiene checker itself: every life-cycle test ends with it, so it must catch
//! what it looks for.

use etcd_proxy::testing::TestPki;

use crate::support::{find_key_material, key_body_lines};

#[test]
fn the_checker_catches_a_key_line_and_the_marker_but_not_certificates() {
    let pki = TestPki::generate();
    let lines = key_body_lines(&pki);
    assert!(
        lines.len() >= 7,
        "every key has body lines: {}",
        lines.len()
    );
    let check = |text: &str, marker: bool| {
        let texts = [("a hook's stderr".to_owned(), text.to_owned())];
        find_key_material(&texts, &lines, marker)
    };

    // One body line of one key, inside a longer message.
    let leak = check(&format!("error: cannot parse {} here", lines[1]), false);
    assert!(leak.is_some_and(|m| m.starts_with("a hook's stderr shows key material")));
    let unrelated = key_body_lines(&TestPki::generate());
    assert!(
        check(&unrelated[0], false).is_none(),
        "another PKI's key is not ours"
    );

    assert!(check("-----BEGIN PRIVATE KEY-----", true).is_some());
    assert!(check("-----BEGIN PRIVATE KEY-----", false).is_none());
    // Certificates are public: printing them is no leak.
    assert!(check(&pki.client.cert_pem, true).is_none());
    assert!(check(&pki.ca_pem, true).is_none());
}
