//! Property tests for the URL and cluster-string parsers.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use etcd_proxy::cluster::MAX_CLUSTER_STRING_LEN;
use etcd_proxy::{ClusterString, EtcdUrl, MemberName};
use proptest::prelude::*;

/// A valid URL text in any accepted spelling (upper-case scheme or host, long IPv6 form).
fn url_text() -> impl Strategy<Value = String> {
    let scheme = prop_oneof!["http", "https", "HTTP", "Https"];
    let host = prop_oneof![
        any::<u32>().prop_map(|n| Ipv4Addr::from(n).to_string()),
        any::<u128>().prop_map(|n| format!("[{}]", Ipv6Addr::from(n))),
        any::<[u16; 8]>().prop_map(|s| {
            let parts: Vec<String> = s.iter().map(|p| format!("{p:X}")).collect();
            format!("[{}]", parts.join(":"))
        }),
        "[a-zA-Z]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,5}[a-z0-9])?){0,3}",
    ];
    (scheme, host, 1u16..=u16::MAX).prop_map(|(s, h, p)| format!("{s}://{h}:{p}"))
}

fn name_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][a-zA-Z0-9._-]{0,12}"
}

/// Valid cluster-string entries with distinct URLs, in arbitrary order.
fn entries() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((name_text(), url_text()), 1..12).prop_map(|pairs| {
        let mut by_url = BTreeMap::new();
        for (name, url) in pairs {
            let canonical = url.parse::<EtcdUrl>().map(|u| u.to_string());
            by_url
                .entry(canonical.unwrap_or(url.clone()))
                .or_insert((name, url));
        }
        by_url.into_values().collect()
    })
}

fn join(entries: &[(String, String)]) -> String {
    let items: Vec<String> = entries.iter().map(|(n, u)| format!("{n}={u}")).collect();
    items.join(",")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsers_never_panic_on_any_text(text in any::<String>()) {
        let _ = text.parse::<ClusterString>();
        let _ = text.parse::<EtcdUrl>();
        let _ = text.parse::<MemberName>();
    }

    #[test]
    fn parsers_never_panic_on_url_like_text(text in "[a-zA-Z0-9=,:/.\\[\\]@?#%_~ -]{0,80}") {
        if let Ok(cs) = text.parse::<ClusterString>() {
            // Anything accepted re-parses from its canonical form to the same value.
            prop_assert_eq!(cs.to_string().parse::<ClusterString>().unwrap(), cs);
        }
        if let Ok(url) = text.parse::<EtcdUrl>() {
            prop_assert_eq!(url.to_string().parse::<EtcdUrl>().unwrap(), url);
        }
    }

    #[test]
    fn errors_are_one_short_line(text in any::<String>()) {
        if let Err(e) = text.parse::<ClusterString>() {
            let message = e.to_string();
            // Printable ASCII only: fit for a status line, look-alikes shown as escapes.
            prop_assert!(message.chars().all(|c| c.is_ascii() && !c.is_ascii_control()), "{}", message);
            prop_assert!(message.len() < 400, "{}", message);
        }
    }

    #[test]
    fn valid_cluster_strings_round_trip(entries in entries()) {
        let text = join(&entries);
        let parsed: ClusterString = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(parsed.entries().len(), entries.len());
        let canonical = parsed.to_string();
        let reparsed: ClusterString = canonical.parse().unwrap();
        prop_assert_eq!(&reparsed, &parsed);
        prop_assert_eq!(reparsed.to_string(), canonical.clone());
        // Canonical means etcd's URLsMap.String: the name=url pairs, string-sorted.
        let mut pairs: Vec<String> = canonical.split(',').map(str::to_owned).collect();
        let before = pairs.clone();
        pairs.sort();
        prop_assert_eq!(pairs, before);
        prop_assert!(canonical.len() <= MAX_CLUSTER_STRING_LEN);
        // Only the characters the proxy renderer relies on.
        prop_assert!(canonical.chars().all(|c| c.is_ascii_alphanumeric() || ".-_:/[]=,".contains(c)));
    }

    #[test]
    fn order_of_entries_does_not_matter(entries in entries(), seed in any::<u64>()) {
        let mut shuffled = entries.clone();
        // A cheap deterministic permutation from the seed.
        let len = shuffled.len();
        for i in (1..len).rev() {
            let j = ((seed.rotate_left(i as u32) ^ i as u64) % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        let a: ClusterString = join(&entries).parse().unwrap();
        let b: ClusterString = join(&shuffled).parse().unwrap();
        prop_assert_eq!(a.to_string(), b.to_string());
        prop_assert_eq!(a, b);
    }

    #[test]
    fn a_repeated_url_is_always_refused(entries in entries(), pick in any::<prop::sample::Index>(), name in name_text()) {
        let (_, url) = pick.get(&entries).clone();
        let mut with_duplicate = entries.clone();
        with_duplicate.push((name, url));
        let err = join(&with_duplicate).parse::<ClusterString>().unwrap_err();
        prop_assert!(err.to_string().contains("duplicate URL"), "{}", err);
    }

    #[test]
    fn one_bad_character_anywhere_is_refused(entries in entries(), at in any::<prop::sample::Index>(), bad in prop::sample::select(vec!['\n', '\r', '\0', ' ', '"', '\'', '$', ';', '`', '\\', '\u{ff1a}', '\u{430}', '%', '\t', '|', '&', '<', '>'])) {
        let text = join(&entries);
        let mut chars: Vec<char> = text.chars().collect();
        let at = at.index(chars.len() + 1);
        chars.insert(at, bad);
        let broken: String = chars.into_iter().collect();
        prop_assert!(broken.parse::<ClusterString>().is_err(), "{:?}", broken);
    }
}
