//! Hook cost benchmark (DESIGN.md §9): the real `etcd-proxy-relation` binary inside real hooks
//! under the emulator, for 1, 3, 100 and 1000 related units and relation ids.
//!
//! ```text
//! cargo bench -p etcd-proxy-cli --bench hook_cost [-- OPTIONS]
//!   --sizes 1,3,100,1000   remote unit / relation id counts
//!   --reps 15              runs per scenario and variant for sizes up to 100
//!   --reps-large 5         runs for larger sizes
//!   --shapes units,relations
//!   --sides requirer,provider
//!   --out FILE             also write the Markdown results to FILE
//!   --keep DIR             copy each primed state file to DIR (to profile the binary alone)
//!   --parts hooks,membership,store,ops   what to measure
//!   --store-sizes 2,1000   remote units of the relation-get part of `store`
//!   --settle-sizes 10,1000 requirer units of the deploy-and-settle part of `store`
//!   --membership-reps 30   runs per membership fetch method
//!   --ops-reps 60          rounds of the Python ops charms, each hook once per charm (needs ETCD_PROXY_PYTHON)
//!   --v2-sizes 1000        provider units of the wire-version-2 requirer world (with `hooks`)
//! ```
//!
//! With `HOOK_COST_BINARY=/path/to/etcd-proxy-relation`, that build is measured instead of the
//! one cargo built for the bench (e.g. the shipped, statically linked build of
//! `scripts/release-build.sh`). With `HOOK_COST_COMPARE_BINARY=/path/to/etcd-proxy-relation`
//! (another build, e.g. of an older commit), the requirer's three-call scenario also runs that
//! binary, interleaved.
//!
//! See docs/benchmarks.md for what is measured and how to read it.

mod measure;
mod membership;
mod ops_charm;
mod paired;
mod report;
mod scenarios;
mod store_cost;
mod world;

use std::path::{Path, PathBuf};
use std::time::Instant;

use etcd_proxy::testing::TestPki;

use scenarios::Results;
use world::{Shape, Side};

/// Errors of the bench: reported and fatal.
pub type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

/// The binary cargo built in the bench profile (release): measured unless `BINARY_VAR` names
/// another build.
const BUILT_BINARY: &str = env!("CARGO_BIN_EXE_etcd-proxy-relation");
/// Names the build of the binary to measure instead of `BUILT_BINARY`.
const BINARY_VAR: &str = "HOOK_COST_BINARY";

/// Names another build of the binary to run the three-call scenario with too.
pub const COMPARE_BINARY_VAR: &str = "HOOK_COST_COMPARE_BINARY";
/// The label of that variant.
pub const OTHER_BINARY: &str = "other binary";

struct Options {
    sizes: Vec<u32>,
    reps: usize,
    reps_large: usize,
    shapes: Vec<Shape>,
    sides: Vec<Side>,
    out: Option<PathBuf>,
    keep: Option<PathBuf>,
    hooks: bool,
    membership: bool,
    membership_reps: usize,
    store: bool,
    store_sizes: Vec<u32>,
    settle_sizes: Vec<u32>,
    ops: bool,
    ops_reps: usize,
    v2: bool,
    v2_sizes: Vec<u32>,
}

fn list<T>(value: &str, parse: impl Fn(&str) -> Fallible<T>) -> Fallible<Vec<T>> {
    value.split(',').map(|s| parse(s.trim())).collect()
}

fn parse_options() -> Fallible<Options> {
    let mut options = Options {
        sizes: vec![1, 3, 100, 1000],
        reps: 15,
        reps_large: 5,
        shapes: vec![Shape::Units, Shape::Relations],
        sides: vec![Side::Requirer, Side::Provider],
        out: None,
        keep: None,
        hooks: true,
        membership: true,
        membership_reps: 30,
        store: true,
        store_sizes: vec![2, 1000],
        settle_sizes: vec![10, 1000],
        ops: true,
        ops_reps: 60,
        v2: true,
        v2_sizes: vec![1000],
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        // `cargo bench` passes `--bench`; a filter argument is not supported.
        if arg == "--bench" {
            continue;
        }
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--sizes" => options.sizes = list(&value()?, |s| Ok(s.parse()?))?,
            "--reps" => options.reps = value()?.parse()?,
            "--reps-large" => options.reps_large = value()?.parse()?,
            "--shapes" => {
                options.shapes = list(&value()?, |s| match s {
                    "units" => Ok(Shape::Units),
                    "relations" => Ok(Shape::Relations),
                    _ => Err(format!("unknown shape {s:?}").into()),
                })?
            }
            "--sides" => {
                options.sides = list(&value()?, |s| match s {
                    "requirer" => Ok(Side::Requirer),
                    "provider" => Ok(Side::Provider),
                    _ => Err(format!("unknown side {s:?}").into()),
                })?
            }
            "--out" => options.out = Some(PathBuf::from(value()?)),
            "--keep" => options.keep = Some(PathBuf::from(value()?)),
            "--membership-reps" => options.membership_reps = value()?.parse()?,
            "--store-sizes" => options.store_sizes = list(&value()?, |s| Ok(s.parse()?))?,
            "--settle-sizes" => options.settle_sizes = list(&value()?, |s| Ok(s.parse()?))?,
            "--ops-reps" => options.ops_reps = value()?.parse()?,
            "--v2-sizes" => {
                options.v2_sizes = list(&value()?, |s| Ok(s.parse()?))?;
                options.v2 = !options.v2_sizes.is_empty();
            }
            "--parts" => {
                let parts = value()?;
                options.hooks = false;
                options.membership = false;
                options.store = false;
                options.ops = false;
                for part in parts.split(',') {
                    match part.trim() {
                        "hooks" => options.hooks = true,
                        "membership" => options.membership = true,
                        "store" => options.store = true,
                        "ops" => options.ops = true,
                        other => return Err(format!("unknown part {other:?}").into()),
                    }
                }
            }
            other => return Err(format!("unknown argument {other:?} (see the file header)").into()),
        }
    }
    Ok(options)
}

/// `etcd` from `ETCD_BIN`, else from `PATH`.
pub fn etcd_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ETCD_BIN").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("etcd"))
        .find(|p| p.is_file())
}

fn run() -> Fallible<()> {
    let options = parse_options()?;
    let chosen = std::env::var_os(BINARY_VAR).filter(|p| !p.is_empty());
    let binary = chosen.as_deref().map_or(Path::new(BUILT_BINARY), Path::new);
    if !binary.is_file() {
        return Err(format!("{BINARY_VAR}: no file {}", binary.display()).into());
    }
    eprintln!("hook_cost: measuring {}", binary.display());
    let pki = TestPki::generate();
    let mut all = Results::default();
    let started = Instant::now();
    let sizes = if options.hooks {
        options.sizes.clone()
    } else {
        Vec::new()
    };
    for &n in &sizes {
        let reps = if n > 100 {
            options.reps_large
        } else {
            options.reps
        };
        for &side in &options.sides {
            for &shape in &options.shapes {
                // One relation id with one unit is the same world in both shapes.
                if shape == Shape::Relations && n == 1 && options.shapes.contains(&Shape::Units) {
                    continue;
                }
                let t = Instant::now();
                eprintln!("hook_cost: {side:?}, {shape:?}, n={n}, {reps} runs ...");
                let results = scenarios::measure_world(
                    binary,
                    &pki,
                    (side, shape, n),
                    reps,
                    options.keep.as_deref(),
                )?;
                eprintln!("hook_cost:   done in {:.1} s", t.elapsed().as_secs_f64());
                all.rows.extend(results.rows);
                all.setup.extend(results.setup);
            }
        }
    }
    if options.hooks && options.v2 {
        for &n in &options.v2_sizes {
            let reps = if n > 100 {
                options.reps_large
            } else {
                options.reps
            };
            eprintln!("hook_cost: wire version 2, {n} provider units, {reps} runs ...");
            let results = scenarios::measure_v2_world(binary, &pki, n, reps)?;
            all.rows.extend(results.rows);
            all.setup.extend(results.setup);
        }
    }
    let hooks_took = started.elapsed();
    let membership_text = if options.membership {
        membership_section(options.membership_reps)?
    } else {
        String::new()
    };
    let store_text = if options.store {
        format!(
            "## Emulator store\n\n{}\n{}\n{}",
            report::machine(),
            store_cost::relation_get(binary, &pki, &options.store_sizes, options.reps)?,
            store_cost::settle(binary, &options.settle_sizes)?
        )
    } else {
        String::new()
    };
    let ops_text = if options.ops {
        ops_charm::section(binary, &pki, options.ops_reps)?
    } else {
        String::new()
    };
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let command = if args.is_empty() {
        "cargo bench -p etcd-proxy-cli --bench hook_cost".to_owned()
    } else {
        format!(
            "cargo bench -p etcd-proxy-cli --bench hook_cost -- {}",
            args.join(" ")
        )
    };
    let hooks = if options.hooks {
        format!(
            "## Hook cost\n\n### Results\n\n{}\n{}\n",
            report::machine(),
            report::tables(&all)
        )
    } else {
        String::new()
    };
    let text = format!(
        "Command: `{command}` (took {:.0} s, of which hooks {:.0} s)\n\n{hooks}{membership_text}{store_text}{ops_text}",
        started.elapsed().as_secs_f64(),
        hooks_took.as_secs_f64(),
    );
    println!("{text}");
    if let Some(out) = &options.out {
        std::fs::write(out, &text)?;
        eprintln!("hook_cost: wrote {}", out.display());
    }
    Ok(())
}

/// The membership comparison, or a loud skip when etcd is missing (an error under CI or
/// `ETCD_PROXY_REQUIRE_ETCD=1`).
fn membership_section(reps: usize) -> Fallible<String> {
    let title = "## Membership fetch\n\n";
    let Some(bins) = membership::locate() else {
        let line = "SKIPPED: etcd not found (set ETCD_BIN or put etcd and etcdctl on PATH)";
        if membership::etcd_required() {
            return Err(format!("{line}, but CI or ETCD_PROXY_REQUIRE_ETCD=1 requires it").into());
        }
        eprintln!("hook_cost: {line}");
        return Ok(format!("{title}{line}\n"));
    };
    eprintln!("hook_cost: membership fetch against a 3-member TLS cluster, {reps} runs ...");
    Ok(format!("{title}{}", membership::measure(&bins, reps)?))
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hook_cost: error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
