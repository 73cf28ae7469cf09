//! Reading a charm directory: its endpoints (`metadata.yaml`), its config options
//! (`config.yaml`), and copying it for a unit. A packed charm (a `.charm` file, the zip
//! `charmcraft pack` and `scripts/pack-charm.sh` write) works wherever a directory does: it
//! is read in place and unpacked into each unit's charm directory, file modes kept.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use juju_hooks::testing::EndpointRole;
use juju_hooks::{Config, Endpoint};
use serde::Deserialize;
use serde_json::Value;

use crate::error::EmulatorError;

/// What the emulator needs to know about a charm.
#[derive(Clone, Debug, PartialEq)]
pub struct CharmInfo {
    /// The charm's name (`name:` in metadata.yaml), the default application name.
    pub name: Option<String>,
    /// Endpoints from `provides`, `requires` and `peers`: name → (role, interface).
    pub endpoints: BTreeMap<Endpoint, (EndpointRole, String)>,
    /// Config options from `config.yaml`.
    pub options: BTreeMap<String, ConfigOption>,
}

/// One option of `config.yaml`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ConfigOption {
    /// `string`, `int`, `float` or `boolean`.
    #[serde(rename = "type", default = "default_type")]
    pub kind: String,
    /// The default value (absent: `null`).
    #[serde(default)]
    pub default: Option<serde_yaml_ng::Value>,
}

fn default_type() -> String {
    "string".to_owned()
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    provides: Option<BTreeMap<String, RelationSpec>>,
    #[serde(default)]
    requires: Option<BTreeMap<String, RelationSpec>>,
    #[serde(default)]
    peers: Option<BTreeMap<String, RelationSpec>>,
}

/// `name: {interface: x, ...}`, or the short form `name: x`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RelationSpec {
    Full { interface: String },
    Short(String),
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    options: Option<BTreeMap<String, ConfigOption>>,
}

fn charm_error(path: &Path, reason: impl Into<String>) -> EmulatorError {
    EmulatorError::Charm {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

impl CharmInfo {
    /// Reads `metadata.yaml` (required, as Juju requires it) and `config.yaml` (optional).
    ///
    /// # Errors
    /// A file is missing or malformed, or an endpoint name is not a valid one.
    pub fn read(charm_dir: &Path) -> Result<Self, EmulatorError> {
        let (name, endpoints) = read_metadata(charm_dir)?;
        let options = match charm_text(charm_dir, "config.yaml")? {
            Some(text) => {
                let config: ConfigFile = serde_yaml_ng::from_str(&text)
                    .map_err(|e| charm_error(charm_dir, format!("config.yaml: {e}")))?;
                config.options.unwrap_or_default()
            }
            None => BTreeMap::new(),
        };
        Ok(Self {
            name,
            endpoints,
            options,
        })
    }

    /// Only the endpoints of [`CharmInfo::read`], from `metadata.yaml` alone: what a hook
    /// needs to find its relation endpoints, without parsing `config.yaml`.
    ///
    /// # Errors
    /// As [`CharmInfo::read`], for `metadata.yaml`.
    pub fn read_endpoints(
        charm_dir: &Path,
    ) -> Result<BTreeMap<Endpoint, (EndpointRole, String)>, EmulatorError> {
        Ok(read_metadata(charm_dir)?.1)
    }

    /// The config a fresh application has: every option at its default (`null` if none).
    pub fn default_config(&self) -> Config {
        self.options
            .iter()
            .map(|(name, option)| {
                let value = option
                    .default
                    .as_ref()
                    .and_then(|d| serde_json::to_value(d).ok())
                    .unwrap_or(Value::Null);
                (name.clone(), value)
            })
            .collect()
    }

    /// Parses `value` for option `name` by the option's type, as `juju config app k=v` does.
    /// An empty value resets the option to its default.
    ///
    /// # Errors
    /// Unknown option, or a value that does not fit the type.
    pub fn config_value(&self, name: &str, value: &str) -> Result<Value, EmulatorError> {
        let option = self
            .options
            .get(name)
            .ok_or_else(|| EmulatorError::Usage(format!("unknown option {name:?}")))?;
        if value.is_empty() {
            return Ok(self.default_config().remove(name).unwrap_or(Value::Null));
        }
        let bad = || {
            EmulatorError::Usage(format!(
                "option {name:?} expected {}, got {value:?}",
                option.kind
            ))
        };
        Ok(match option.kind.as_str() {
            "int" => Value::from(value.parse::<i64>().map_err(|_| bad())?),
            "float" => Value::from(value.parse::<f64>().map_err(|_| bad())?),
            "boolean" => Value::from(value.parse::<bool>().map_err(|_| bad())?),
            _ => Value::String(value.to_owned()),
        })
    }
}

/// Endpoint name → (role, interface).
type Endpoints = BTreeMap<Endpoint, (EndpointRole, String)>;

/// The charm's name and its endpoints (`provides`, `requires`, `peers`) from `metadata.yaml`.
fn read_metadata(charm_dir: &Path) -> Result<(Option<String>, Endpoints), EmulatorError> {
    let text = charm_text(charm_dir, "metadata.yaml")?
        .ok_or_else(|| charm_error(charm_dir, "cannot read metadata.yaml: not found"))?;
    let metadata: Metadata = serde_yaml_ng::from_str(&text)
        .map_err(|e| charm_error(charm_dir, format!("metadata.yaml: {e}")))?;
    let mut endpoints = BTreeMap::new();
    for (role, section) in [
        (EndpointRole::Provides, metadata.provides),
        (EndpointRole::Requires, metadata.requires),
        (EndpointRole::Peers, metadata.peers),
    ] {
        for (name, spec) in section.unwrap_or_default() {
            let endpoint: Endpoint = name
                .parse()
                .map_err(|e| charm_error(charm_dir, format!("metadata.yaml: {e}")))?;
            let interface = match spec {
                RelationSpec::Full { interface } | RelationSpec::Short(interface) => interface,
            };
            if endpoints.insert(endpoint, (role, interface)).is_some() {
                return Err(charm_error(
                    charm_dir,
                    format!("metadata.yaml: endpoint {name:?} declared twice"),
                ));
            }
        }
    }
    Ok((metadata.name, endpoints))
}

/// Copies a charm directory to `target` (files keep their modes; symlinks are copied as
/// symlinks), as each Juju unit has its own charm dir.
///
/// # Errors
/// Any file cannot be read or written.
pub fn copy_charm(source: &Path, target: &Path) -> Result<(), EmulatorError> {
    if source.is_file() {
        return unpack(source, target);
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| EmulatorError::Io { path, source }
    };
    fs::create_dir_all(target).map_err(io(target))?;
    for entry in fs::read_dir(source).map_err(io(source))? {
        let entry = entry.map_err(io(source))?;
        let from = entry.path();
        // A model directory inside the charm must not be copied into itself.
        if target.starts_with(&from) {
            continue;
        }
        let to: PathBuf = target.join(entry.file_name());
        let kind = entry.file_type().map_err(io(&from))?;
        if kind.is_symlink() {
            let link = fs::read_link(&from).map_err(io(&from))?;
            std::os::unix::fs::symlink(link, &to).map_err(io(&to))?;
        } else if kind.is_dir() {
            copy_charm(&from, &to)?;
        } else {
            fs::copy(&from, &to).map_err(io(&from))?;
        }
    }
    Ok(())
}

/// The largest metadata.yaml or config.yaml read.
const MAX_CHARM_FILE_BYTES: u64 = 1024 * 1024;

/// A top-level file of a charm directory or packed charm; `None` when it has none.
fn charm_text(charm: &Path, name: &str) -> Result<Option<String>, EmulatorError> {
    let cannot = |e: &dyn std::fmt::Display| charm_error(charm, format!("cannot read {name}: {e}"));
    if !charm.is_file() {
        // Bounded and regular files only: a FIFO there must not hang whoever reads the charm.
        let path = charm.join(name);
        return match juju_hooks::read_regular_text(&path, MAX_CHARM_FILE_BYTES) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(cannot(&e)),
        };
    }
    let mut archive = open_packed(charm)?;
    let mut entry = match archive.by_name(name) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(cannot(&e)),
    };
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(&mut entry, MAX_CHARM_FILE_BYTES),
        &mut text,
    )
    .map_err(|e| cannot(&e))?;
    Ok(Some(text))
}

fn open_packed(charm: &Path) -> Result<zip::ZipArchive<fs::File>, EmulatorError> {
    let file = fs::File::open(charm).map_err(|source| EmulatorError::Io {
        path: charm.to_owned(),
        source,
    })?;
    zip::ZipArchive::new(file).map_err(|e| {
        charm_error(
            charm,
            format!("not a charm directory nor a .charm zip: {e}"),
        )
    })
}

/// Unpacks a packed charm into `target`: entry names that would leave it are refused, Unix
/// modes (dispatch and bin/* executable) are kept.
fn unpack(charm: &Path, target: &Path) -> Result<(), EmulatorError> {
    open_packed(charm)?.extract(target).map_err(|e| {
        charm_error(
            charm,
            format!("cannot unpack into {}: {e}", target.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_endpoints_and_config_defaults() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("metadata.yaml"),
            "name: x\nprovides:\n  proxy: {interface: etcd-proxy}\nrequires:\n  db: mysql\npeers:\n  cluster:\n    interface: x-peers\n",
        )
        .unwrap();
        fs::write(
            dir.path().join("config.yaml"),
            "options:\n  port: {type: int, default: 2379}\n  name: {type: string}\n  on: {type: boolean, default: false}\n",
        )
        .unwrap();
        let info = CharmInfo::read(dir.path()).unwrap();
        let proxy: Endpoint = "proxy".parse().unwrap();
        assert_eq!(
            info.endpoints[&proxy],
            (EndpointRole::Provides, "etcd-proxy".to_owned())
        );
        assert_eq!(info.endpoints.len(), 3);
        let config = info.default_config();
        assert_eq!(config["port"], Value::from(2379));
        assert_eq!(config["name"], Value::Null);
        assert_eq!(info.config_value("port", "1").unwrap(), Value::from(1));
        assert_eq!(info.config_value("on", "true").unwrap(), Value::Bool(true));
        assert!(info.config_value("port", "x").is_err());
        assert!(info.config_value("nope", "x").is_err());
    }

    #[test]
    fn endpoints_alone_come_from_metadata_even_with_a_broken_config_yaml() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("metadata.yaml"),
            "name: x\nrequires:\n  proxy: etcd-proxy\n",
        )
        .unwrap();
        fs::write(dir.path().join("config.yaml"), "options: [not, a, map]\n").unwrap();
        let endpoints = CharmInfo::read_endpoints(dir.path()).unwrap();
        let proxy: Endpoint = "proxy".parse().unwrap();
        assert_eq!(
            endpoints.into_iter().collect::<Vec<_>>(),
            [(proxy, (EndpointRole::Requires, "etcd-proxy".to_owned()))]
        );
        assert!(CharmInfo::read(dir.path()).is_err());
    }

    #[test]
    fn copies_keep_modes_and_links_and_skip_the_target_itself() {
        use std::os::unix::fs::PermissionsExt;
        let charm = tempfile::tempdir().unwrap();
        let dispatch = charm.path().join("dispatch");
        fs::write(&dispatch, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&dispatch, fs::Permissions::from_mode(0o750)).unwrap();
        fs::create_dir(charm.path().join("bin")).unwrap();
        std::os::unix::fs::symlink("/bin/true", charm.path().join("bin/tool")).unwrap();
        let target = charm.path().join("model/units/a-0/charm");
        copy_charm(charm.path(), &target).unwrap();
        let mode = fs::metadata(target.join("dispatch"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o750);
        assert_eq!(
            fs::read_link(target.join("bin/tool")).unwrap(),
            Path::new("/bin/true")
        );
        assert!(!target.join("model").exists());
    }

    #[test]
    fn a_charm_without_metadata_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            CharmInfo::read(dir.path()),
            Err(EmulatorError::Charm { .. })
        ));
    }

    #[test]
    fn a_packed_charm_is_read_and_unpacked_with_its_modes() {
        use std::io::Write;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let packed = dir.path().join("x_amd64.charm");
        let mut zip = zip::ZipWriter::new(fs::File::create(&packed).unwrap());
        let mode = |m| zip::write::SimpleFileOptions::default().unix_permissions(m);
        for (name, text, m) in [
            (
                "metadata.yaml",
                "name: x\nrequires:\n  proxy: etcd-proxy\n",
                0o644,
            ),
            (
                "config.yaml",
                "options:\n  port: {type: int, default: 7}\n",
                0o644,
            ),
            ("dispatch", "#!/bin/sh\nexec ./bin/x\n", 0o755),
            ("bin/x", "#!/bin/sh\n", 0o755),
        ] {
            zip.start_file(name, mode(m)).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap();

        let info = CharmInfo::read(&packed).unwrap();
        assert_eq!(info.name.as_deref(), Some("x"));
        assert_eq!(info.endpoints.len(), 1);
        assert_eq!(info.default_config()["port"], Value::from(7));

        let unit_dir = dir.path().join("unit");
        copy_charm(&packed, &unit_dir).unwrap();
        let mode_of =
            |p: &str| fs::metadata(unit_dir.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode_of("dispatch"), 0o755);
        assert_eq!(mode_of("bin/x"), 0o755);
        assert_eq!(mode_of("metadata.yaml"), 0o644);
        assert_eq!(CharmInfo::read(&unit_dir).unwrap(), info);

        // A FIFO where metadata.yaml belongs is refused at once.
        let fifo_charm = dir.path().join("fifo-charm");
        fs::create_dir(&fifo_charm).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(fifo_charm.join("metadata.yaml"))
            .status()
            .unwrap();
        assert!(made.success());
        let err = CharmInfo::read(&fifo_charm).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");

        fs::write(dir.path().join("junk.charm"), "not a zip").unwrap();
        let err = CharmInfo::read(&dir.path().join("junk.charm")).unwrap_err();
        assert!(err.to_string().contains("nor a .charm zip"), "{err}");
    }
}
