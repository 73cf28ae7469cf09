//! RSA beyond ring's limits, for validation: ring signs with RSA keys of at most 4096 bits and
//! verifies signatures of keys of at most 8192, while etcd (Go) takes larger ones. Only
//! public-key operations are done here (reading a key's public half, verifying a signature),
//! so no secret goes through this code's arithmetic.

use rsa::pkcs1::der::Decode;
use rsa::pkcs1::{RsaPrivateKey as Pkcs1PrivateKey, RsaPublicKey as Pkcs1PublicKey};
use rsa::pkcs8::PrivateKeyInfo;
use rsa::sha2::{Digest, Sha256, Sha384, Sha512};
use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};
use rustls_pki_types::PrivateKeyDer;
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::{
    OID_PKCS1_RSAENCRYPTION, OID_PKCS1_SHA256WITHRSA, OID_PKCS1_SHA384WITHRSA,
    OID_PKCS1_SHA512WITHRSA,
};
use x509_parser::x509::SubjectPublicKeyInfo;

/// The largest RSA modulus accepted, in bits: bounded, so that a hostile key cannot make a
/// check slow.
pub(crate) const MAX_RSA_BITS: usize = 16384;

/// An RSA public key: modulus and exponent, big-endian, without leading zeros.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RsaParts {
    modulus: Vec<u8>,
    exponent: Vec<u8>,
}

impl RsaParts {
    /// The modulus size in bits.
    pub(crate) fn bits(&self) -> usize {
        match self.modulus.first() {
            Some(top) => self.modulus.len() * 8 - top.leading_zeros() as usize,
            None => 0,
        }
    }
}

/// The public half of an RSA private key (PKCS#1, or PKCS#8 with rsaEncryption); `None` for
/// another algorithm or a key that does not parse.
pub(crate) fn private_key_parts(key: &PrivateKeyDer<'_>) -> Option<RsaParts> {
    let pkcs1 = match key {
        PrivateKeyDer::Pkcs1(der) => der.secret_pkcs1_der(),
        PrivateKeyDer::Pkcs8(der) => {
            let info = PrivateKeyInfo::from_der(der.secret_pkcs8_der()).ok()?;
            if info.algorithm.oid.as_bytes() != OID_PKCS1_RSAENCRYPTION.as_bytes() {
                return None;
            }
            info.private_key
        }
        _ => return None,
    };
    let key = Pkcs1PrivateKey::from_der(pkcs1).ok()?;
    Some(RsaParts {
        modulus: key.modulus.as_bytes().to_vec(),
        exponent: key.public_exponent.as_bytes().to_vec(),
    })
}

/// The RSA public key of a SubjectPublicKeyInfo; `None` when it is not RSA.
pub(crate) fn public_key_parts(spki: &SubjectPublicKeyInfo<'_>) -> Option<RsaParts> {
    if spki.algorithm.algorithm != OID_PKCS1_RSAENCRYPTION {
        return None;
    }
    let key = Pkcs1PublicKey::from_der(&spki.subject_public_key.data).ok()?;
    Some(RsaParts {
        modulus: key.modulus.as_bytes().to_vec(),
        exponent: key.public_exponent.as_bytes().to_vec(),
    })
}

/// Whether `issuer` made `cert`'s signature: RSA PKCS#1 v1.5 with SHA-256/384/512, for the
/// keys ring does not verify (over 8192 bits, up to [`MAX_RSA_BITS`]). Anything else is
/// `false`, left to ring.
pub(crate) fn signed_by_large_key(
    cert: &X509Certificate<'_>,
    issuer: &SubjectPublicKeyInfo<'_>,
) -> bool {
    let Some(parts) = public_key_parts(issuer) else {
        return false;
    };
    if parts.bits() <= 8192 || parts.bits() > MAX_RSA_BITS {
        return false;
    }
    let Ok(key) = RsaPublicKey::new_with_max_size(
        BigUint::from_bytes_be(&parts.modulus),
        BigUint::from_bytes_be(&parts.exponent),
        MAX_RSA_BITS,
    ) else {
        return false;
    };
    let signed = cert.tbs_certificate.as_ref();
    let signature = &cert.signature_value.data;
    let algorithm = &cert.signature_algorithm.algorithm;
    let result = if *algorithm == OID_PKCS1_SHA256WITHRSA {
        key.verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(signed),
            signature,
        )
    } else if *algorithm == OID_PKCS1_SHA384WITHRSA {
        key.verify(
            Pkcs1v15Sign::new::<Sha384>(),
            &Sha384::digest(signed),
            signature,
        )
    } else if *algorithm == OID_PKCS1_SHA512WITHRSA {
        key.verify(
            Pkcs1v15Sign::new::<Sha512>(),
            &Sha512::digest(signed),
            signature,
        )
    } else {
        return false;
    };
    result.is_ok()
}
