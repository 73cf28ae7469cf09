//! What a new user meets first: the license the manifests declare, the install command, and
//! docs that include the test support.

use std::fs;

use crate::support::repo_root;

#[test]
fn the_license_file_is_the_license_the_manifests_declare() {
    let manifest = fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("license = \"Apache-2.0\""), "{manifest}");
    let license = fs::read_to_string(repo_root().join("LICENSE")).unwrap();
    assert!(
        license.contains("Apache License\n                           Version 2.0, January 2004")
    );
    // The full text, not a pointer to it.
    assert!(license.contains("END OF TERMS AND CONDITIONS"));
    assert!(license.contains("9. Accepting Warranty or Additional Liability."));
}

#[test]
fn the_readme_says_how_to_install() {
    let readme = fs::read_to_string(repo_root().join("README.md")).unwrap();
    assert!(readme.contains("## Install"));
    assert!(readme.contains("cargo install --locked --path crates/etcd-proxy-cli"));
}

#[test]
fn docs_rs_documents_the_testing_feature() {
    for krate in ["juju-hooks", "etcd-proxy"] {
        let manifest =
            fs::read_to_string(repo_root().join("crates").join(krate).join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("[package.metadata.docs.rs]\nall-features = true"),
            "{krate}: {manifest}"
        );
    }
}
