//! Base64 (RFC 4648) in the two forms the project speaks: unpadded base64url (§5) for what it
//! writes into cookies, `state`, PKCE challenges and sealed values, and the padded standard
//! alphabet (§4) for key specs (`TOKEN_KEYS`, `ZCRM_STORE_KEY`) and integrity digests.
//!
//! Decoding is strict, so that one value has one spelling: a character outside the alphabet,
//! padding where none belongs (or missing where it is required), a length no encoder makes, or
//! non-zero bits after the last byte all mean `None`. These are the rules of the `base64` crate's
//! `URL_SAFE_NO_PAD` and `STANDARD` engines, which the tests compare with; the few dozen lines
//! here keep that crate's generic engine out of the Worker's Wasm.

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// Each alphabet's character to its value, and [`NOT_IN`] for every other byte.
const STANDARD_VALUES: [u8; 256] = values(STANDARD);
const URL_SAFE_VALUES: [u8; 256] = values(URL_SAFE);
const NOT_IN: u8 = 0xff;

const fn values(alphabet: &[u8; 64]) -> [u8; 256] {
    let mut table = [NOT_IN; 256];
    let mut i = 0;
    while i < 64 {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
}

/// Unpadded base64url.
pub fn encode_url(bytes: &[u8]) -> String {
    encode(bytes, URL_SAFE, false)
}

/// Padded base64 in the standard alphabet.
pub fn encode_standard(bytes: &[u8]) -> String {
    encode(bytes, STANDARD, true)
}

/// Decodes unpadded base64url; `None` unless `text` is exactly what [`encode_url`] writes.
pub fn decode_url(text: &str) -> Option<Vec<u8>> {
    decode(text.as_bytes(), &URL_SAFE_VALUES, false)
}

/// Decodes padded standard base64; `None` unless `text` is exactly what [`encode_standard`]
/// writes.
pub fn decode_standard(text: &str) -> Option<Vec<u8>> {
    decode(text.as_bytes(), &STANDARD_VALUES, true)
}

fn encode(bytes: &[u8], alphabet: &[u8; 64], padded: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[(n >> (18 - 6 * i) & 63) as usize]));
        }
        if padded {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

fn decode(text: &[u8], values: &[u8; 256], padded: bool) -> Option<Vec<u8>> {
    let data = if padded {
        if !text.len().is_multiple_of(4) {
            return None;
        }
        let pads = text
            .iter()
            .rev()
            .take(2)
            .take_while(|&&c| c == b'=')
            .count();
        &text[..text.len() - pads]
    } else {
        text
    };
    // One character left over carries 6 bits: no byte ends there.
    if data.len() % 4 == 1 {
        return None;
    }
    let sextet = |c: u8| match values[usize::from(c)] {
        NOT_IN => None,
        v => Some(u32::from(v)),
    };
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    for chunk in data.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= sextet(c)? << (18 - 6 * i);
        }
        let bytes = chunk.len() - 1;
        // The bits after the last whole byte must be zero, or two texts would give one value.
        if n & (0x00ff_ffff >> (8 * bytes)) != 0 {
            return None;
        }
        out.extend((0..bytes).map(|i| (n >> (16 - 8 * i)) as u8));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::base64::Engine as _;
    use ::base64::engine::general_purpose::{STANDARD as CRATE_STANDARD, URL_SAFE_NO_PAD};
    use proptest::prelude::*;

    #[test]
    fn rfc_4648_test_vectors() {
        // RFC 4648 §10.
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(encode_standard(plain.as_bytes()), encoded);
            assert_eq!(decode_standard(encoded).as_deref(), Some(plain.as_bytes()));
            let unpadded = encoded.trim_end_matches('=');
            assert_eq!(encode_url(plain.as_bytes()), unpadded);
            assert_eq!(decode_url(unpadded).as_deref(), Some(plain.as_bytes()));
        }
    }

    #[test]
    fn the_alphabets_differ_in_their_last_two_characters() {
        assert_eq!(encode_url(&[0xfb, 0xff]), "-_8");
        assert_eq!(encode_standard(&[0xfb, 0xff]), "+/8=");
        assert_eq!(decode_url("+/8"), None);
        assert_eq!(decode_standard("-_8="), None);
    }

    #[test]
    fn what_no_encoder_writes_is_refused() {
        for text in [
            "Zg", "Zg=", "Zg===", "Z===", "====", "Zh==", "Zm9=", "Z", "Zm9vY", "Zg==Zg==",
        ] {
            assert_eq!(decode_standard(text), None, "{text:?}");
        }
        for text in ["Zg==", "Zh", "Zm9", "Z", "Zm9vY", "Zm 9v", "Zm9v\n"] {
            assert_eq!(decode_url(text), None, "{text:?}");
        }
    }

    /// Text near base64: mostly the two alphabets and `=`, now and then anything.
    fn near_base64() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[A-Za-z0-9+/=_-]{0,14}",
            1 => any::<String>(),
        ]
    }

    proptest! {
        #[test]
        fn encoding_is_the_base64_crates(bytes in prop::collection::vec(any::<u8>(), 0..70)) {
            prop_assert_eq!(encode_url(&bytes), URL_SAFE_NO_PAD.encode(&bytes));
            prop_assert_eq!(encode_standard(&bytes), CRATE_STANDARD.encode(&bytes));
            prop_assert_eq!(decode_url(&encode_url(&bytes)), Some(bytes.clone()));
            prop_assert_eq!(decode_standard(&encode_standard(&bytes)), Some(bytes));
        }

        #[test]
        fn decoding_accepts_and_refuses_what_the_base64_crate_does(text in near_base64()) {
            prop_assert_eq!(decode_url(&text), URL_SAFE_NO_PAD.decode(&text).ok());
            prop_assert_eq!(decode_standard(&text), CRATE_STANDARD.decode(&text).ok());
        }
    }
}
