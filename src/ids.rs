//! Identifiers and secrets: random, URL-safe, from the operating system's RNG.

use std::fmt;

use data_encoding::BASE64URL_NOPAD;
use rand::TryRng;
use rand::rngs::SysRng;
use subtle::ConstantTimeEq;

use crate::model::Digest;

/// `bytes` random bytes from the OS RNG, as URL-safe base64: every id, key and session
/// token is made here.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // Without the OS RNG no id can be safe: failing loudly is the only correct answer.
    #[allow(clippy::expect_used)]
    SysRng
        .try_fill_bytes(&mut buf)
        .expect("the operating system's random number generator failed");
    BASE64URL_NOPAD.encode(&buf)
}

fn is_token(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

macro_rules! token_type {
    ($(#[$doc:meta])* $name:ident, $bytes:expr, $chars:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Random bytes encoded as URL-safe base64.
            pub const BYTES: usize = $bytes;
            /// Length of the encoded form.
            pub const LEN: usize = $chars;

            /// A fresh random value.
            pub fn generate() -> Self {
                Self(random_token(Self::BYTES))
            }

            /// Accept only a string of the exact shape this type produces.
            pub fn parse(s: &str) -> Option<Self> {
                is_token(s, Self::LEN).then(|| Self(s.to_owned()))
            }

            /// The encoded form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

token_type!(
    /// Public id of a gallery: 96 random bits, 16 characters, short enough for a QR code.
    GalleryId, 12, 16
);
token_type!(
    /// Id of a staged upload: 128 random bits. Knowing it is what lets a browser use
    /// its own upload in a gallery, so it is as hard to guess as a key.
    UploadId, 16, 22
);

token_type!(
    /// Id of an instance: 128 random bits in the database and in the blob tree's marker,
    /// so a database never judges files that are not its own.
    InstanceId, 16, 22
);

// The promised entropy, checked at compile time.
const _: () = assert!(GalleryId::BYTES * 8 >= 96 && UploadId::BYTES * 8 >= 128);

/// The secret that manages one gallery: 192 random bits. Only its SHA-256 is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ManageKey(String);

impl ManageKey {
    /// A fresh random key.
    pub fn generate() -> ManageKey {
        ManageKey(random_token(24))
    }

    /// The key as given to the owner.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is stored.
    pub fn hash(&self) -> Digest {
        Digest::of(self.0.as_bytes())
    }
}

impl fmt::Debug for ManageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ManageKey(…)")
    }
}

/// The secret that ties a person's galleries together (192 random bits): it lists them and
/// manages each like its manage key, from any device. Only its SHA-256 is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct OwnerKey(String);

impl OwnerKey {
    /// Random bytes behind a key.
    pub const BYTES: usize = 24;
    /// Length of the encoded form.
    pub const LEN: usize = 32;

    /// A fresh random key.
    pub fn generate() -> OwnerKey {
        OwnerKey(random_token(Self::BYTES))
    }

    /// Accept only the shape [`OwnerKey::generate`] produces, so no short, typed-in
    /// secret can guard anyone's galleries.
    pub fn parse(s: &str) -> Option<OwnerKey> {
        is_token(s, Self::LEN).then(|| OwnerKey(s.to_owned()))
    }

    /// The key as given to the owner.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is stored.
    pub fn hash(&self) -> Digest {
        Digest::of(self.0.as_bytes())
    }
}

impl fmt::Debug for OwnerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OwnerKey(…)")
    }
}

const _: () = assert!(OwnerKey::BYTES * 8 >= 128 && OwnerKey::LEN == OwnerKey::BYTES * 4 / 3);

/// Does `presented` hash to `stored`? Compared in constant time; the hash also removes
/// any length or prefix signal from the comparison. The one comparison of secrets.
pub fn key_matches(presented: &str, stored: &Digest) -> bool {
    Digest::of(presented.as_bytes()).0.ct_eq(&stored.0).into()
}

/// [`key_matches`] for a secret held in plain text (a configured token or password):
/// compared as SHA-256, so the time does not even depend on the right one's length.
pub fn secrets_match(given: &str, expected: &str) -> bool {
    key_matches(given, &Digest::of(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_promised_entropy_and_shape() {
        let a = GalleryId::generate();
        assert_eq!(a.as_str().len(), GalleryId::LEN);
        assert!(GalleryId::parse(a.as_str()).is_some());
        assert_ne!(a, GalleryId::generate());
        assert!(GalleryId::parse("short").is_none());
        assert!(GalleryId::parse("../../etc/passwd").is_none());
        assert!(GalleryId::parse("aaaaaaaaaaaaaaa/").is_none());
    }

    #[test]
    fn keys_verify_by_hash_only() {
        let key = ManageKey::generate();
        assert!(key.as_str().len() * 6 >= 128);
        let stored = key.hash();
        assert!(key_matches(key.as_str(), &stored));
        assert!(!key_matches("wrong", &stored));
        assert!(!key_matches("", &stored));
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(secrets_match("s3cret", "s3cret"));
        assert!(!secrets_match("s3cret ", "s3cret"));
        assert!(!secrets_match("", "s3cret"));
    }
}
