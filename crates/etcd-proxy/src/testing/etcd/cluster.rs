//! A real 3-member etcd cluster on 127.0.0.1 with client and peer TLS and client-cert auth
//! on both listeners, as the etcd charm runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::daemon::Daemon;
use super::pki_files::{CertFiles, PkiFiles};
use super::{free_port, EtcdBins};
use crate::tls::ClientTls;

/// How long a whole cluster may take to become healthy.
const READY_LIMIT: Duration = Duration::from_secs(30);
/// Start attempts (a fresh set of ports each time) when a port was taken meanwhile.
const START_ATTEMPTS: usize = 3;
/// How long [`EtcdCluster::put_get`] keeps trying.
pub const PUT_GET_LIMIT: Duration = Duration::from_secs(20);

/// One member's addresses.
#[derive(Clone, Debug)]
pub struct MemberAddrs {
    /// The member name (`etcd0`, ...).
    pub name: String,
    /// The client port (`https://127.0.0.1:<client_port>`).
    pub client_port: u16,
    /// The peer port (`https://127.0.0.1:<peer_port>`).
    pub peer_port: u16,
}

impl MemberAddrs {
    /// `https://127.0.0.1:<client_port>`.
    pub fn client_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.client_port)
    }

    /// `https://127.0.0.1:<peer_port>`.
    pub fn peer_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.peer_port)
    }
}

/// A running cluster; every process is killed when it is dropped.
pub struct EtcdCluster {
    bins: EtcdBins,
    pki: PkiFiles,
    members: Vec<MemberAddrs>,
    daemons: Vec<Daemon>,
    extra_args: Vec<String>,
    // Declared last: the data and logs go only after the processes are dead.
    dir: TempDir,
}

impl EtcdCluster {
    /// Starts a `size`-member cluster and waits until every member reports healthy.
    pub fn start(bins: &EtcdBins, size: usize) -> EtcdCluster {
        Self::start_with(bins, size, &[])
    }

    /// As [`EtcdCluster::start`], with `extra_args` added to every member's command line
    /// (e.g. `--enable-grpc-gateway=false`).
    ///
    /// # Panics
    /// If the cluster does not become healthy; see [`EtcdCluster::try_start_with`].
    pub fn start_with(bins: &EtcdBins, size: usize, extra_args: &[&str]) -> EtcdCluster {
        Self::try_start_with(bins, size, extra_args).unwrap_or_else(|why| panic!("{why}"))
    }

    /// As [`EtcdCluster::start_with`], reporting failure (with the members' logs) instead
    /// of panicking: for the demo, which must explain rather than crash.
    pub fn try_start_with(
        bins: &EtcdBins,
        size: usize,
        extra_args: &[&str],
    ) -> Result<EtcdCluster, String> {
        let dir = tempfile::Builder::new()
            .prefix("etcd-proxy-test-")
            .tempdir()
            .expect("create a temporary directory");
        let pki = PkiFiles::generate(&dir.path().join("pki"));
        let mut cluster = EtcdCluster {
            bins: bins.clone(),
            pki,
            members: Vec::new(),
            daemons: Vec::new(),
            extra_args: extra_args.iter().map(|a| a.to_string()).collect(),
            dir,
        };
        let mut failures = String::new();
        for attempt in 0..START_ATTEMPTS {
            cluster.members = (0..size)
                .map(|i| MemberAddrs {
                    name: format!("etcd{i}"),
                    client_port: free_port(),
                    peer_port: free_port(),
                })
                .collect();
            match cluster.launch(attempt) {
                Ok(()) => return Ok(cluster),
                Err(why) => {
                    failures.push_str(&format!("attempt {attempt}: {why}\n"));
                    for mut daemon in cluster.daemons.drain(..) {
                        daemon.stop();
                    }
                    if !why.contains("address already in use") {
                        break;
                    }
                }
            }
        }
        Err(format!("etcd cluster did not start:\n{failures}"))
    }

    fn launch(&mut self, attempt: usize) -> Result<(), String> {
        let initial_cluster = self.initial_cluster();
        for member in self.members.clone() {
            let data_dir = self.dir.path().join(format!("{}-{attempt}", member.name));
            let log = self
                .dir
                .path()
                .join(format!("{}-{attempt}.log", member.name));
            let mut argv = self.member_argv(&member, &initial_cluster, &data_dir);
            argv.extend(self.extra_args.iter().cloned());
            self.daemons
                .push(Daemon::spawn(&member.name, &argv, &[], &log));
        }
        let started = Instant::now();
        let agent = self.https_agent(Some(&self.pki.client), Duration::from_secs(1));
        let mut pending: Vec<usize> = (0..self.members.len()).collect();
        loop {
            for daemon in &mut self.daemons {
                if let Some(status) = daemon.exit_status() {
                    return Err(format!(
                        "{} exited with {status}\n{}",
                        daemon.name(),
                        daemon.log_tail(30)
                    ));
                }
            }
            pending.retain(|&i| !is_healthy(&agent, &self.members[i].client_url()));
            if pending.is_empty() {
                return Ok(());
            }
            if started.elapsed() > READY_LIMIT {
                let logs: String = self.daemons.iter().map(|d| d.log_tail(30)).collect();
                return Err(format!("not healthy after {READY_LIMIT:?}\n{logs}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn member_argv(
        &self,
        member: &MemberAddrs,
        initial_cluster: &str,
        data_dir: &Path,
    ) -> Vec<String> {
        let pki = &self.pki;
        let path = |p: &PathBuf| p.display().to_string();
        vec![
            self.bins.etcd.display().to_string(),
            format!("--name={}", member.name),
            format!("--data-dir={}", data_dir.display()),
            format!("--listen-client-urls={}", member.client_url()),
            format!("--advertise-client-urls={}", member.client_url()),
            format!("--listen-peer-urls={}", member.peer_url()),
            format!("--initial-advertise-peer-urls={}", member.peer_url()),
            format!("--initial-cluster={initial_cluster}"),
            "--initial-cluster-state=new".into(),
            format!("--initial-cluster-token=test-{}", std::process::id()),
            format!("--cert-file={}", path(&pki.server.cert_path)),
            format!("--key-file={}", path(&pki.server.key_path)),
            format!("--trusted-ca-file={}", path(&pki.ca_path)),
            "--client-cert-auth=true".into(),
            format!("--peer-cert-file={}", path(&pki.server.cert_path)),
            format!("--peer-key-file={}", path(&pki.server.key_path)),
            format!("--peer-trusted-ca-file={}", path(&pki.ca_path)),
            "--peer-client-cert-auth=true".into(),
            // Fast elections keep the suite quick; loopback latency is tiny.
            "--heartbeat-interval=50".into(),
            "--election-timeout=500".into(),
            "--logger=zap".into(),
            "--log-level=warn".into(),
        ]
    }

    /// The certificates of this cluster.
    pub fn pki(&self) -> &PkiFiles {
        &self.pki
    }

    /// The binaries this cluster runs.
    pub fn bins(&self) -> &EtcdBins {
        &self.bins
    }

    /// A scratch directory that lives as long as the cluster.
    pub fn scratch_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The members' addresses, in name order.
    pub fn members(&self) -> &[MemberAddrs] {
        &self.members
    }

    /// `https://127.0.0.1:<port>` client URLs of all members (stopped ones included).
    pub fn client_urls(&self) -> Vec<String> {
        self.members.iter().map(MemberAddrs::client_url).collect()
    }

    /// `https://127.0.0.1:<port>` peer URLs of all members.
    pub fn peer_urls(&self) -> Vec<String> {
        self.members.iter().map(MemberAddrs::peer_url).collect()
    }

    /// The `--initial-cluster` string, `etcd0=https://127.0.0.1:P0,...`, in name order.
    pub fn initial_cluster(&self) -> String {
        self.members
            .iter()
            .map(|m| format!("{}={}", m.name, m.peer_url()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Kills member `index` (SIGKILL): a crashed machine, as far as the others can tell.
    pub fn stop_member(&mut self, index: usize) {
        self.daemons[index].stop();
    }

    /// All member logs so far, for failure messages.
    pub fn logs(&self) -> String {
        self.daemons.iter().map(|d| d.log_tail(40)).collect()
    }

    /// Runs `etcdctl` (v3 API) against `endpoints` with `tls` and `args`, bounded by
    /// short dial and command timeouts.
    pub fn etcdctl(&self, endpoints: &str, tls: EtcdctlTls<'_>, args: &[&str]) -> Output {
        let mut command = Command::new(&self.bins.etcdctl);
        command.env_clear();
        command
            .env("ETCDCTL_API", "3")
            .arg(format!("--endpoints={endpoints}"))
            .arg("--dial-timeout=3s")
            .arg("--command-timeout=3s");
        if let EtcdctlTls::Client(pair) = tls {
            command
                .arg(format!("--cacert={}", self.pki.ca_path.display()))
                .arg(format!("--cert={}", pair.cert_path.display()))
                .arg(format!("--key={}", pair.key_path.display()));
        }
        command.args(args).output().expect("etcdctl runs")
    }

    /// `etcdctl put key value` then `get key --print-value-only`, retried for up to
    /// [`PUT_GET_LIMIT`]: right after a leader dies, etcd drops in-flight proposals and the
    /// request only fails at its deadline, so one failed attempt proves nothing. Panics with
    /// every attempt's error and the cluster logs when no attempt succeeds.
    pub fn put_get(&self, endpoints: &str, tls: EtcdctlTls<'_>, key: &str, value: &str) {
        if let Err(why) = self.try_put_get_within(endpoints, tls, key, value, PUT_GET_LIMIT) {
            panic!("{why}");
        }
    }

    /// As [`EtcdCluster::put_get`] within `limit`, reporting failure (every attempt's error
    /// and the members' logs) instead of panicking.
    pub fn try_put_get_within(
        &self,
        endpoints: &str,
        tls: EtcdctlTls<'_>,
        key: &str,
        value: &str,
        limit: Duration,
    ) -> Result<(), String> {
        let started = Instant::now();
        let mut errors = String::new();
        while started.elapsed() < limit {
            match self.try_put_get(endpoints, tls, key, value) {
                Ok(()) => return Ok(()),
                Err(e) => errors.push_str(&format!("after {:?}: {e}\n", started.elapsed())),
            }
        }
        Err(format!(
            "put/get via {endpoints} never succeeded:\n{errors}{}",
            self.logs()
        ))
    }

    fn try_put_get(
        &self,
        endpoints: &str,
        tls: EtcdctlTls<'_>,
        key: &str,
        value: &str,
    ) -> Result<(), String> {
        let put = self.etcdctl(endpoints, tls, &["put", key, value]);
        if !put.status.success() {
            return Err(format!(
                "put: {}",
                String::from_utf8_lossy(&put.stderr).trim()
            ));
        }
        let get = self.etcdctl(endpoints, tls, &["get", key, "--print-value-only"]);
        if !get.status.success() {
            return Err(format!(
                "get: {}",
                String::from_utf8_lossy(&get.stderr).trim()
            ));
        }
        let got = String::from_utf8_lossy(&get.stdout).trim().to_owned();
        if got != value {
            return Err(format!("get returned {got:?}, expected {value:?}"));
        }
        Ok(())
    }

    /// An HTTPS agent trusting only this cluster's CA and presenting `pair` (or no client
    /// certificate): no proxy, no redirects, statuses returned rather than raised.
    pub fn https_agent(&self, pair: Option<&CertFiles>, timeout: Duration) -> ureq::Agent {
        let tls = match pair {
            Some(pair) => ClientTls::from_pem(&self.pki.ca_pem, &pair.cert_pem, &pair.key_pem),
            None => ClientTls::anonymous(&self.pki.ca_pem),
        }
        .expect("the generated credentials are usable");
        crate::membership::agent(&tls, timeout)
    }
}

/// How `etcdctl` talks to its endpoint.
#[derive(Clone, Copy, Debug)]
pub enum EtcdctlTls<'a> {
    /// Plaintext (e.g. a grpc-proxy listening on loopback).
    Plain,
    /// TLS with the cluster CA and this client certificate.
    Client(&'a CertFiles),
}

fn is_healthy(agent: &ureq::Agent, client_url: &str) -> bool {
    let Ok(mut response) = agent.get(&format!("{client_url}/health")).call() else {
        return false;
    };
    response.status() == 200
        && response
            .body_mut()
            .read_to_string()
            .is_ok_and(|body| body.contains("\"health\":\"true\""))
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        for daemon in &mut self.daemons {
            daemon.stop();
        }
    }
}
