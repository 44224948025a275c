//! Random values from the operating system's source: states, page paths, and the simulator's
//! codes and tokens.

/// `n` random bytes.
pub fn bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    // The OS random source failing is unrecoverable for anything minting credentials.
    getrandom::fill(&mut b).expect("the operating system's random source failed");
    b
}

/// `n` random alphanumerics (lowercase only unless `mixed_case`).
pub fn alnum(n: usize, mixed_case: bool) -> String {
    const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    const MIXED: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let set = if mixed_case { MIXED } else { LOWER };
    bytes(n)
        .into_iter()
        .map(|b| char::from(set[usize::from(b) % set.len()]))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn alnum_has_the_length_and_alphabet_asked_for() {
        let v = super::alnum(64, false);
        assert_eq!(v.len(), 64);
        assert!(v
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        assert_ne!(super::alnum(16, true), super::alnum(16, true));
    }
}
