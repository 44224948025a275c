//! A black-box estimate of how much randomness a set of codes or tokens carries (RFC 6749
//! §10.10: at most 2^-128 guessing probability). The part every sample shares (a fixed header,
//! a counter's leading zeros) is cut off; what varies is scored as its length times the bits per
//! character of the alphabet seen there. It is an upper bound: a counter or a timestamp scores
//! low, a random value scores about its true size.

use std::collections::BTreeSet;

/// Estimated bits of the least random sample, and whether all samples are distinct.
pub fn estimate(samples: &[&str]) -> (f64, bool) {
    let distinct = samples.iter().collect::<BTreeSet<_>>().len() == samples.len();
    if samples.len() < 2 {
        return (0.0, distinct);
    }
    let shortest = samples.iter().map(|s| s.len()).min().unwrap_or(0);
    let prefix = (0..shortest)
        .take_while(|&i| {
            samples
                .iter()
                .all(|s| s.as_bytes()[i] == samples[0].as_bytes()[i])
        })
        .count();
    let suffix = (0..shortest - prefix)
        .take_while(|&i| {
            let at = |s: &str| s.as_bytes()[s.len() - 1 - i];
            samples.iter().all(|s| at(s) == at(samples[0]))
        })
        .count();
    let middles: Vec<&[u8]> = samples
        .iter()
        .map(|s| &s.as_bytes()[prefix..s.len() - suffix])
        .collect();
    let alphabet: BTreeSet<u8> = middles.iter().flat_map(|m| m.iter().copied()).collect();
    let bits_per_char = (alphabet.len().max(1) as f64).log2();
    let shortest_middle = middles.iter().map(|m| m.len()).min().unwrap_or(0);
    (shortest_middle as f64 * bits_per_char, distinct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_scores_low_and_random_values_score_high() {
        let counter: Vec<String> = (1..=20).map(|i| format!("code{i:06}")).collect();
        let refs: Vec<&str> = counter.iter().map(String::as_str).collect();
        let (bits, distinct) = estimate(&refs);
        assert!(distinct);
        assert!(bits < 16.0, "{bits}");

        let random: Vec<String> = (0..20)
            .map(|_| crate::simulator::tokens::authorization_code(1))
            .collect();
        let refs: Vec<&str> = random.iter().map(String::as_str).collect();
        let (bits, distinct) = estimate(&refs);
        assert!(distinct);
        assert!(bits >= 128.0, "{bits}");
    }

    #[test]
    fn repeats_are_reported() {
        assert!(!estimate(&["abc", "abc", "abd"]).1);
    }
}
