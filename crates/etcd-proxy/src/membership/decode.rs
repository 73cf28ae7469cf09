//! Strict decoding of the two member-list answers.
//!
//! - Peer `GET /members`: a JSON array of `{"id": <number>, "name", "peerURLs", "clientURLs",
//!   "isLearner"}`; Go writes a nil list as `null`.
//! - Gateway `POST /v3/cluster/member/list`: `{"header": {"cluster_id": "<decimal>"},
//!   "members": [{"ID": "<decimal>", ...}]}`; 64-bit numbers are decimal strings, and empty
//!   fields are omitted (an unstarted member has no `name` and no `clientURLs`; `isLearner`
//!   appears only when true).
//!
//! Ids are read as exact `u64` (never through a float). Unknown fields are ignored, as newer
//! etcd versions add some; every URL must be a valid [`EtcdUrl`]. The peer URLs and the
//! client URLs of the answer, joined, must each fit the limit of a cluster string
//! ([`MAX_CLUSTER_STRING_LEN`]), as relation data must: they end up in one.
//!
//! Error messages never quote the answer beyond a short excerpt: a hostile server must not
//! be able to make a message (and the `juju-log` call carrying it) arbitrarily long.

use serde::de::{self, Deserializer};
use serde::Deserialize;

use super::Member;
use crate::cluster::{excerpt, EtcdUrl, MAX_CLUSTER_STRING_LEN};

#[derive(Deserialize)]
struct PeerMember {
    id: u64,
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "peerURLs", default)]
    peer_urls: Option<Vec<String>>,
    #[serde(rename = "clientURLs", default)]
    client_urls: Option<Vec<String>>,
    #[serde(rename = "isLearner", default)]
    is_learner: Option<bool>,
}

#[derive(Deserialize)]
struct GatewayList {
    #[serde(default)]
    header: Option<GatewayHeader>,
    #[serde(default)]
    members: Option<Vec<GatewayMember>>,
}

#[derive(Deserialize)]
struct GatewayHeader {
    #[serde(default, deserialize_with = "opt_decimal_u64")]
    cluster_id: Option<u64>,
}

#[derive(Deserialize)]
struct GatewayMember {
    #[serde(rename = "ID", deserialize_with = "decimal_u64")]
    id: u64,
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "peerURLs", default)]
    peer_urls: Option<Vec<String>>,
    #[serde(rename = "clientURLs", default)]
    client_urls: Option<Vec<String>>,
    #[serde(rename = "isLearner", default)]
    is_learner: Option<bool>,
}

/// Decodes a peer `/members` answer.
pub(super) fn peer_members(body: &[u8]) -> Result<Vec<Member>, String> {
    let raw: Vec<PeerMember> = serde_json::from_slice(body).map_err(|e| json_problem(&e))?;
    let members = raw
        .into_iter()
        .map(|m| member(m.id, m.name, m.peer_urls, m.client_urls, m.is_learner))
        .collect::<Result<Vec<_>, _>>()?;
    within_limits(&members)?;
    Ok(members)
}

/// Decodes a gateway member-list answer into the cluster id and the members.
pub(super) fn gateway_member_list(body: &[u8]) -> Result<(Option<u64>, Vec<Member>), String> {
    let raw: GatewayList = serde_json::from_slice(body).map_err(|e| json_problem(&e))?;
    let members = raw
        .members
        .unwrap_or_default()
        .into_iter()
        .map(|m| member(m.id, m.name, m.peer_urls, m.client_urls, m.is_learner))
        .collect::<Result<Vec<_>, _>>()?;
    within_limits(&members)?;
    Ok((raw.header.and_then(|h| h.cluster_id), members))
}

/// What is wrong with an answer, with at most a short excerpt of it: serde's own message
/// may repeat a whole (huge) string value.
fn json_problem(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Io => "unreadable",
        Category::Syntax => "not valid JSON",
        Category::Data => "not a member list",
        Category::Eof => "truncated JSON",
    };
    // The position tells where; the excerpt of serde's text tells what it expected.
    format!(
        "{what} at line {} column {} ({})",
        error.line(),
        error.column(),
        excerpt(&error.to_string())
    )
}

/// The peer URLs and the client URLs, each joined with `,`, fit [`MAX_CLUSTER_STRING_LEN`].
fn within_limits(members: &[Member]) -> Result<(), String> {
    let joined = |urls: &mut dyn Iterator<Item = &EtcdUrl>| -> usize {
        urls.map(|u| u.as_str().len() + 1)
            .sum::<usize>()
            .saturating_sub(1)
    };
    for (what, len) in [
        (
            "peer",
            joined(&mut members.iter().flat_map(|m| m.peer_urls.iter())),
        ),
        (
            "client",
            joined(&mut members.iter().flat_map(|m| m.client_urls.iter())),
        ),
    ] {
        if len > MAX_CLUSTER_STRING_LEN {
            return Err(format!(
                "{} members whose {what} URLs take {len} bytes, more than the \
                 {MAX_CLUSTER_STRING_LEN} a cluster string or client_urls may hold",
                members.len()
            ));
        }
    }
    Ok(())
}

fn member(
    id: u64,
    name: Option<String>,
    peer_urls: Option<Vec<String>>,
    client_urls: Option<Vec<String>>,
    is_learner: Option<bool>,
) -> Result<Member, String> {
    let urls = |list: Option<Vec<String>>, what: &str| {
        list.unwrap_or_default()
            .iter()
            .map(|u| {
                u.parse::<EtcdUrl>()
                    .map_err(|e| format!("member {id:x}: {what} URL: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(Member {
        id,
        name: name.unwrap_or_default(),
        peer_urls: urls(peer_urls, "peer")?,
        client_urls: urls(client_urls, "client")?,
        is_learner: is_learner.unwrap_or(false),
    })
}

/// A u64 written as a string of decimal digits (grpc-gateway's form), or as a plain number.
fn decimal_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Wire {
        Number(u64),
        Text(String),
    }
    match Wire::deserialize(deserializer)? {
        Wire::Number(n) => Ok(n),
        Wire::Text(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse().map_err(de::Error::custom)
        }
        Wire::Text(_) => Err(de::Error::custom("expected a decimal 64-bit id")),
    }
}

fn opt_decimal_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    decimal_u64(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a server answers, decoding returns a value or an error, never a panic.
        #[test]
        fn arbitrary_answers_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = peer_members(&body);
            let _ = gateway_member_list(&body);
        }

        /// Arbitrary JSON-ish members decode or fail cleanly, and ids round-trip exactly.
        #[test]
        fn any_u64_id_is_exact(id in any::<u64>(), learner in any::<bool>()) {
            let body = format!(r#"{{"members":[{{"ID":"{id}","isLearner":{learner}}}]}}"#);
            let (_, members) = gateway_member_list(body.as_bytes()).unwrap();
            prop_assert_eq!(members[0].id, id);
            prop_assert_eq!(members[0].is_learner, learner);
            let body = format!(r#"[{{"id":{id}}}]"#);
            prop_assert_eq!(peer_members(body.as_bytes()).unwrap()[0].id, id);
        }
    }

    #[test]
    fn peer_members_as_etcd_3_4_writes_them() {
        let body = br#"[
          {"id":13668033151171901709,"name":"etcd0","peerURLs":["https://127.0.0.1:32380"],
           "clientURLs":["https://127.0.0.1:32379"]},
          {"id":17806564031658898706,"name":"","peerURLs":["https://127.0.0.1:32680"],
           "clientURLs":null,"isLearner":true}
        ]"#;
        let members = peer_members(body).unwrap();
        assert_eq!(members[0].id, 13668033151171901709);
        assert_eq!(members[0].name, "etcd0");
        assert_eq!(
            members[0].client_urls[0].as_str(),
            "https://127.0.0.1:32379"
        );
        assert!(!members[0].is_learner);
        assert_eq!(members[1].id, 17806564031658898706);
        assert!(members[1].name.is_empty() && members[1].client_urls.is_empty());
        assert!(members[1].is_learner);
    }

    #[test]
    fn gateway_ids_are_decimal_strings_and_missing_fields_are_empty() {
        let body =
            br#"{"header":{"cluster_id":"9332235443270582763","member_id":"1","raft_term":"2"},
          "members":[
            {"ID":"2768603066170645261","name":"etcd2","peerURLs":["http://127.0.0.1:32580"],
             "clientURLs":["http://127.0.0.1:32579"]},
            {"ID":"17806564031658898706","peerURLs":["http://127.0.0.1:32680"],"isLearner":true}
          ]}"#;
        let (cluster_id, members) = gateway_member_list(body).unwrap();
        assert_eq!(cluster_id, Some(9332235443270582763));
        assert_eq!(members[0].id, 2768603066170645261);
        assert_eq!(members[1].id, 17806564031658898706);
        assert!(members[1].name.is_empty() && members[1].client_urls.is_empty());
        assert!(members[1].is_learner);
    }

    #[test]
    fn ids_must_be_exact_u64() {
        for bad in [
            r#"{"members":[{"ID":"18446744073709551616","peerURLs":[]}]}"#,
            r#"{"members":[{"ID":"-1","peerURLs":[]}]}"#,
            r#"{"members":[{"ID":"1e3","peerURLs":[]}]}"#,
            r#"{"members":[{"ID":1.5,"peerURLs":[]}]}"#,
            r#"{"members":[{"peerURLs":[]}]}"#,
        ] {
            assert!(gateway_member_list(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(peer_members(br#"[{"id":18446744073709551616}]"#).is_err());
        assert!(peer_members(br#"[{"id":"12"}]"#).is_err());
    }

    #[test]
    fn a_huge_value_is_never_quoted_whole() {
        let huge = format!(r#"[{{"id":"{}"}}]"#, "A".repeat(200_000));
        let err = peer_members(huge.as_bytes()).unwrap_err();
        assert!(err.len() < 200, "{} bytes: {:.100}", err.len(), err);
        assert!(err.contains("not a member list"), "{err}");
        let huge = format!(r#"{{"members":[{{"ID":"{}"}}]}}"#, "7".repeat(200_000));
        assert!(gateway_member_list(huge.as_bytes()).unwrap_err().len() < 200);
        let huge = format!(r#"[{{"id":1,"name":"{}""#, "B".repeat(200_000));
        assert!(peer_members(huge.as_bytes()).unwrap_err().len() < 200);
    }

    #[test]
    fn more_urls_than_client_urls_may_hold_are_refused() {
        let member = |i: usize| {
            format!(
                r#"{{"id":{i},"name":"m{i}","peerURLs":["https://10.{}.{}.1:2380"],
                   "clientURLs":["https://10.{}.{}.1:2379"]}}"#,
                i / 256,
                i % 256,
                i / 256,
                i % 256
            )
        };
        let list = |n: usize| format!("[{}]", (0..n).map(member).collect::<Vec<_>>().join(","));
        // 23 bytes per URL and a comma: 2730 fit in 64 KiB, 3000 do not.
        assert_eq!(peer_members(list(2700).as_bytes()).unwrap().len(), 2700);
        let err = peer_members(list(3000).as_bytes()).unwrap_err();
        assert!(err.contains("more than the 65536"), "{err}");
    }

    #[test]
    fn a_url_that_is_not_an_etcd_url_is_refused() {
        let err =
            peer_members(br#"[{"id":1,"name":"a","peerURLs":["https://h:1/path"]}]"#).unwrap_err();
        assert!(err.contains("peer URL"), "{err}");
        assert!(peer_members(br#"{"not":"a list"}"#).is_err());
        assert!(peer_members(b"").is_err());
    }
}
