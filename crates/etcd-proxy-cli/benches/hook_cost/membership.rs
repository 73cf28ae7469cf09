//! Membership fetch through our library against `etcdctl member list -w json`, on the same
//! live 3-member TLS cluster, interleaved in one run.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use etcd_proxy::membership::{fetch_members, Membership, DEFAULT_TIMEOUT};
use etcd_proxy::testing::etcd::{EtcdBins, EtcdCluster, EtcdctlTls};
use etcd_proxy::tls::ClientTls;
use etcd_proxy::EtcdUrl;

use crate::measure::Spread;
use crate::Fallible;

/// `(member name, sorted peer URLs)` of every member: what both answers must agree on.
type MemberSet = BTreeSet<(String, Vec<String>)>;

/// The etcd binaries from `ETCD_BIN` / `ETCDCTL_BIN`, else `PATH`.
pub fn locate() -> Option<EtcdBins> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(Into::into)
    };
    EtcdBins::locate(
        var("ETCD_BIN"),
        var("ETCDCTL_BIN"),
        std::env::var_os("PATH").as_deref(),
    )
}

/// Whether a missing etcd must fail the run rather than skip this part.
pub fn etcd_required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
        || std::env::var("ETCD_PROXY_REQUIRE_ETCD").as_deref() == Ok("1")
}

fn of_library(membership: &Membership) -> MemberSet {
    membership
        .members
        .iter()
        .map(|m| {
            let mut peers: Vec<String> = m.peer_urls.iter().map(ToString::to_string).collect();
            peers.sort();
            (m.name.clone(), peers)
        })
        .collect()
}

fn of_etcdctl(stdout: &[u8]) -> Fallible<MemberSet> {
    let json: serde_json::Value = serde_json::from_slice(stdout)?;
    let members = json["members"]
        .as_array()
        .ok_or("etcdctl: no members array")?;
    members
        .iter()
        .map(|m| {
            let name = m["name"].as_str().unwrap_or_default().to_owned();
            let mut peers: Vec<String> = m["peerURLs"]
                .as_array()
                .ok_or("etcdctl: no peerURLs")?
                .iter()
                .filter_map(|u| u.as_str())
                // Our URL type prints the canonical form (no trailing slash).
                .map(|u| u.trim_end_matches('/').to_owned())
                .collect();
            peers.sort();
            Ok((name, peers))
        })
        .collect()
}

/// One way of fetching the membership, timed.
struct Method {
    label: String,
    samples: Vec<u64>,
    fetch: Box<dyn FnMut() -> Fallible<MemberSet>>,
}

/// Starts a cluster, fetches its membership `reps` times by each method (interleaved), checks
/// that every answer names the same members, and returns the Markdown section.
pub fn measure(bins: &EtcdBins, reps: usize) -> Fallible<String> {
    let version = first_line(&bins.etcd);
    let cluster = EtcdCluster::try_start_with(bins, 3, &[])?;
    let pki = cluster.pki();
    let member = cluster.members().first().ok_or("no member")?.clone();
    let (ca, cert, key) = (
        pki.ca_pem.clone(),
        pki.client.cert_pem.clone(),
        pki.client.key_pem.clone(),
    );
    let library = |url: String| -> Box<dyn FnMut() -> Fallible<MemberSet>> {
        let (ca, cert, key) = (ca.clone(), cert.clone(), key.clone());
        Box::new(move || {
            // What a hook does once: credentials from PEM, a new connection, the request.
            let url: EtcdUrl = url.parse()?;
            let tls = ClientTls::from_pem(&ca, &cert, &key)?;
            Ok(of_library(&fetch_members(&url, &tls, DEFAULT_TIMEOUT)?))
        })
    };
    let mut methods = vec![
        Method {
            label: "library `fetch_members`, peer URL (`GET /members`)".to_owned(),
            samples: Vec::new(),
            fetch: library(member.peer_url()),
        },
        Method {
            label: "library `fetch_members`, client URL (`GET /members` → 404 → `POST /v3/cluster/member/list`)".to_owned(),
            samples: Vec::new(),
            fetch: library(member.client_url()),
        },
    ];
    let client_url = member.client_url();
    let etcdctl_label = "`etcdctl member list -w json`, client URL (process)".to_owned();
    let startup_label = "`etcdctl version` (process start-up only, no request)".to_owned();
    let mut etcdctl_samples = Vec::new();
    let mut startup_samples = Vec::new();
    let mut reference: Option<MemberSet> = None;
    let mut agree = |set: MemberSet, who: &str| -> Fallible<()> {
        match &reference {
            None => reference = Some(set),
            Some(r) if *r == set => {}
            Some(r) => return Err(format!("{who} answered {set:?}, expected {r:?}").into()),
        }
        Ok(())
    };
    let etcdctl = |args: &[&str]| -> Fallible<Vec<u8>> {
        let output = cluster.etcdctl(&client_url, EtcdctlTls::Client(&pki.client), args);
        if !output.status.success() {
            return Err(format!(
                "etcdctl {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        Ok(output.stdout)
    };
    let variants = methods.len() + 2;
    for rep in 0..reps + 1 {
        // Rotate the order; the first round warms up and is not counted.
        for k in 0..variants {
            let which = (rep + k) % variants;
            let started = Instant::now();
            if which == methods.len() + 1 {
                etcdctl(&["version"])?;
                if rep > 0 {
                    startup_samples.push(micros(started.elapsed()));
                }
                continue;
            }
            let (set, who) = if which == methods.len() {
                let stdout = etcdctl(&["member", "list", "-w", "json"])?;
                (of_etcdctl(&stdout)?, etcdctl_label.as_str())
            } else {
                let method = &mut methods[which];
                ((method.fetch)()?, method.label.as_str())
            };
            let elapsed = micros(started.elapsed());
            agree(set, who)?;
            if rep > 0 {
                match methods.get_mut(which) {
                    Some(method) => method.samples.push(elapsed),
                    None => etcdctl_samples.push(elapsed),
                }
            }
        }
    }
    let members = reference.map_or(0, |r| r.len());
    let etcdctl = Spread::of(etcdctl_samples.iter().copied());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Results\n\n{version}, {members} members, client and peer TLS with client \
         certificates (the harness `etcd_proxy::testing::etcd`), all on 127.0.0.1; {reps} \
         timed runs per method after one warm-up round, interleaved; every answer checked to \
         name the same members with the same peer URLs.\n"
    );
    let _ = writeln!(
        out,
        "| method | runs | min ms | median ms | median ÷ etcdctl |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    let mut row = |label: &str, samples: &[u64]| {
        let s = Spread::of(samples.iter().copied());
        let _ = writeln!(
            out,
            "| {label} | {} | {:.2} | {:.2} | {:.2} |",
            samples.len(),
            s.min as f64 / 1000.0,
            s.median as f64 / 1000.0,
            s.median as f64 / etcdctl.median.max(1) as f64
        );
    };
    for method in &methods {
        row(&method.label, &method.samples);
    }
    row(&etcdctl_label, &etcdctl_samples);
    row(&startup_label, &startup_samples);
    Ok(out)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn first_line(program: &std::path::Path) -> String {
    std::process::Command::new(program)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "etcd (version unknown)".to_owned())
}
