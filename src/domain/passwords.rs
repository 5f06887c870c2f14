//! Gallery passwords: stored only as a salted Argon2id hash (PHC string), checked by
//! recomputing it — slow on purpose, so a stolen database does not give them away.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};

/// Hash `password` with a fresh random salt.
pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Does `password` match the stored `hash`?
pub fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_and_verify() {
        let a = hash("open sesame").expect("hash");
        let b = hash("open sesame").expect("hash");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(a.starts_with("$argon2id$"));
        assert!(!a.contains("open sesame"));
        assert!(verify("open sesame", &a));
        assert!(!verify("open sesame!", &a));
        assert!(!verify("open sesame", "not a hash"));
    }
}
