//! Sealing: AES-256-GCM with a key id, for tokens at rest in KV and for the login cookie.
//!
//! A sealed value is `base64url(kid_len | kid | nonce(12) | ciphertext+tag)`. The associated data
//! names what the value is for (`"login"`, `"refresh:<user key>"`), so a sealed value cannot be
//! moved to another purpose or another user's record. The first key of the ring seals; every key
//! opens, so a new key can be put first and the old one removed once nothing uses it.
//!
//! The Worker never seals with the configured keys themselves: each use (the login cookie, the
//! tokens at rest) gets its own ring derived from them with HKDF-SHA256 ([`Keyring::derive`],
//! RFC 5869), so that a value of one use cannot be opened with another use's keys.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zoho::base64::{decode_standard, decode_url, encode_url};

const NONCE_LEN: usize = 12;

pub struct Keyring {
    /// `(id, cipher)`, the sealing key first.
    keys: Vec<(String, Aes256Gcm)>,
    /// `(id, key)` of the keys this ring was parsed or derived as, to derive more from.
    material: Vec<(String, [u8; 32])>,
}

impl Keyring {
    /// Parses `id:base64key[,id:base64key...]`; each key is 32 bytes.
    pub fn parse(spec: &str) -> Result<Keyring, &'static str> {
        let mut material: Vec<(String, [u8; 32])> = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, key) = entry
                .split_once(':')
                .ok_or("must be id:base64key entries separated by commas")?;
            if id.is_empty() || id.len() > 16 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err("key ids must be 1 to 16 letters or digits");
            }
            if material.iter().any(|(k, _)| k == id) {
                return Err("has a key id twice");
            }
            let bytes = decode_standard(key.trim()).ok_or("has a key that is not base64")?;
            let bytes: [u8; 32] = bytes
                .try_into()
                .map_err(|_| "has a key that is not 32 bytes")?;
            material.push((id.to_owned(), bytes));
        }
        if material.is_empty() {
            return Err("has no key");
        }
        Ok(Keyring::of(material))
    }

    fn of(material: Vec<(String, [u8; 32])>) -> Keyring {
        let keys = material
            .iter()
            .map(|(id, key)| (id.clone(), Aes256Gcm::new(&(*key).into())))
            .collect();
        Keyring { keys, material }
    }

    /// The ring for one use (`label`, such as `"login"`): each key replaced by
    /// HKDF-SHA256(key, info = `zcrm-edge <label>`), with the same ids, in the same order.
    pub fn derive(&self, label: &str) -> Keyring {
        let info = format!("zcrm-edge {label}");
        Keyring::of(
            self.material
                .iter()
                .map(|(id, key)| (id.clone(), hkdf_sha256(&[], key, info.as_bytes())))
                .collect(),
        )
    }

    /// This ring, also opening (never sealing) what `older` sealed: values sealed before a
    /// change of keys stay readable until they are sealed again.
    pub fn also_opening(mut self, older: &Keyring) -> Keyring {
        self.keys.extend(older.keys.iter().cloned());
        self
    }

    /// Seals `plaintext` for `purpose` with the current key and a fresh random nonce.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        crate::session::random_bytes(&mut nonce);
        self.seal_with_nonce(purpose, plaintext, nonce)
    }

    fn seal_with_nonce(&self, purpose: &str, plaintext: &[u8], nonce: [u8; NONCE_LEN]) -> String {
        let (id, cipher) = &self.keys[0];
        let ciphertext = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: purpose.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + id.len() + NONCE_LEN + ciphertext.len());
        out.push(id.len() as u8);
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        encode_url(&out)
    }

    /// Opens a value sealed for `purpose` by any key of the ring; `None` if it was tampered
    /// with, sealed for something else, or by a key no longer in the ring.
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<Vec<u8>> {
        if sealed.len() > 16 * 1024 {
            return None;
        }
        let bytes = decode_url(sealed)?;
        let (&id_len, rest) = bytes.split_first()?;
        let id_len = usize::from(id_len);
        if rest.len() < id_len + NONCE_LEN + 16 {
            return None;
        }
        let (id, rest) = rest.split_at(id_len);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).ok()?;
        self.keys
            .iter()
            .filter(|(k, _)| k.as_bytes() == id)
            .find_map(|(_, cipher)| {
                cipher
                    .decrypt(
                        &nonce,
                        Payload {
                            msg: ciphertext,
                            aad: purpose.as_bytes(),
                        },
                    )
                    .ok()
            })
    }
}

/// HKDF-SHA256 (RFC 5869), one block of output: `T(1) = HMAC(PRK, info | 0x01)` with
/// `PRK = HMAC(salt, ikm)`; an empty salt is HashLen zeros, as the RFC says. Built on the one
/// SHA-256 of the project (`zoho::pkce::sha256`), not a second one from crates.
fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8]) -> [u8; 32] {
    let prk = hmac_sha256(salt, &[ikm]);
    hmac_sha256(&prk, &[info, &[1]])
}

/// HMAC-SHA256 (RFC 2104) of the concatenated `parts`, for keys up to the block size (64 bytes;
/// every key here is 32 bytes or empty).
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    debug_assert!(key.len() <= 64);
    let mut inner = Vec::with_capacity(64 + parts.iter().map(|p| p.len()).sum::<usize>());
    let mut outer = Vec::with_capacity(64 + 32);
    for i in 0..64 {
        let k = key.get(i).copied().unwrap_or(0);
        inner.push(k ^ 0x36);
        outer.push(k ^ 0x5c);
    }
    for part in parts {
        inner.extend_from_slice(part);
    }
    outer.extend_from_slice(&zoho::pkce::sha256(&inner));
    zoho::pkce::sha256(&outer)
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "v1:emNybS1lZGdlLWxvY2FsLWRldi1rZXktMzItYnl0ZXM=";
    const K2: &str = "v2:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    #[test]
    fn round_trip_and_fresh_nonces() {
        let ring = Keyring::parse(K1).unwrap();
        let a = ring.seal("refresh:u1", b"1000.secret");
        let b = ring.seal("refresh:u1", b"1000.secret");
        assert_ne!(a, b, "each seal uses a new nonce");
        assert_eq!(ring.open("refresh:u1", &a).unwrap(), b"1000.secret");
        assert!(!a.contains("secret"));
    }

    #[test]
    fn purpose_binds_the_value() {
        let ring = Keyring::parse(K1).unwrap();
        let sealed = ring.seal("refresh:u1", b"1000.secret");
        assert_eq!(ring.open("refresh:u2", &sealed), None);
        assert_eq!(ring.open("login", &sealed), None);
    }

    #[test]
    fn tampering_is_detected() {
        let ring = Keyring::parse(K1).unwrap();
        let sealed = ring.seal("login", b"payload");
        let mut bytes = decode_url(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(ring.open("login", &encode_url(&bytes)), None);
        assert_eq!(ring.open("login", "not base64!"), None);
        assert_eq!(ring.open("login", ""), None);
        assert_eq!(ring.open("login", "AA"), None);
    }

    #[test]
    fn keys_rotate() {
        let old = Keyring::parse(K1).unwrap();
        let sealed_old = old.seal("login", b"x");
        let rotated = Keyring::parse(&format!("{K2},{K1}")).unwrap();
        assert_eq!(rotated.open("login", &sealed_old).unwrap(), b"x");
        let sealed_new = rotated.seal("login", b"y");
        assert_eq!(old.open("login", &sealed_new), None, "sealed with v2 now");
        let retired = Keyring::parse(K2).unwrap();
        assert_eq!(retired.open("login", &sealed_old), None);
    }

    #[test]
    fn derived_rings_are_separate_and_rotate_together() {
        let ring = Keyring::parse(&format!("{K2},{K1}")).unwrap();
        let login = ring.derive("login");
        let tokens = ring.derive("tokens");
        let sealed = login.seal("refresh:u1", b"1000.secret");
        assert_eq!(login.open("refresh:u1", &sealed).unwrap(), b"1000.secret");
        // Same key ids, same purpose: another use's ring, or the configured keys, do not open it.
        assert_eq!(tokens.open("refresh:u1", &sealed), None);
        assert_eq!(ring.open("refresh:u1", &sealed), None);
        assert_eq!(
            login.seal("x", b"y")[..4],
            ring.seal("x", b"y")[..4],
            "same key id"
        );
        // Derivation is stable (a restart opens what was sealed) and follows the configured key.
        let again = Keyring::parse(&format!("{K2},{K1}"))
            .unwrap()
            .derive("login");
        assert_eq!(again.open("refresh:u1", &sealed).unwrap(), b"1000.secret");
        let retired = Keyring::parse(K1).unwrap().derive("login");
        assert_eq!(retired.open("refresh:u1", &sealed), None, "sealed with v2");
        // Values sealed with the configured keys before derivation stay readable where asked.
        let legacy = ring.seal("refresh:u1", b"old");
        let bridged = ring.derive("tokens").also_opening(&ring);
        assert_eq!(bridged.open("refresh:u1", &legacy).unwrap(), b"old");
        let resealed = bridged.seal("refresh:u1", b"old");
        assert_eq!(
            ring.open("refresh:u1", &resealed),
            None,
            "sealed with the derived key"
        );
        assert_eq!(tokens.open("refresh:u1", &resealed).unwrap(), b"old");
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hkdf_matches_rfc_5869() {
        // Test cases 1 and 3 of RFC 5869, appendix A: the first 32 bytes of their OKM.
        let ikm = [0x0b; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        assert_eq!(
            hex(&hkdf_sha256(&salt, &ikm, &info)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        );
        assert_eq!(
            hex(&hkdf_sha256(&[], &ikm, &[])),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
        );
    }

    #[test]
    fn a_derived_ring_seals_as_it_always_has() {
        // Pinned with the `hkdf` crate's derivation: values sealed before must keep opening.
        let ring = Keyring::parse(K1).unwrap().derive("tokens");
        let sealed = ring.seal_with_nonce("refresh:u1", b"1000.secret", [7; NONCE_LEN]);
        assert_eq!(
            sealed,
            "AnYxBwcHBwcHBwcHBwcHfGSrucB7XfeuaBEiMBRdTTcEtXUBZPw8EoGh"
        );
    }

    #[test]
    fn bad_key_specs() {
        for bad in [
            "",
            "v1",
            "v1:",
            "v1:c2hvcnQ=",
            "v 1:emNybS1lZGdlLWxvY2FsLWRldi1rZXktMzItYnl0ZXM=",
            &format!("{K1},{K1}"),
        ] {
            assert!(Keyring::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_known_vector_opens() {
        // Sealed with a fixed nonce: the format must stay readable across releases.
        let ring = Keyring::parse(K1).unwrap();
        let sealed = ring.seal_with_nonce("login", b"hello", [7; NONCE_LEN]);
        assert_eq!(ring.open("login", &sealed).unwrap(), b"hello");
        assert!(
            sealed.starts_with("AnYx"),
            "kid length 2 then \"v1\": {sealed}"
        );
    }
}
