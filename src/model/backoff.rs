//! Retry delay policy: exponential growth with a cap and optional full jitter.

use std::time::Duration;

/// Longest accepted base delay; anything longer is almost certainly a typo.
const MAX_BASE_MS: u64 = 86_400_000;

/// How delays between attempts grow.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Backoff {
    /// Delay before the first retry, in milliseconds.
    pub base_ms: u64,
    /// Upper bound for any single delay, in milliseconds.
    pub max_ms: u64,
    /// Whether delays are randomised.
    pub jitter: Jitter,
}

/// Randomisation applied to a computed delay.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Jitter {
    /// Uniformly random in [0, cap] (AWS "full jitter").
    Full,
    /// Exactly the cap.
    None,
}

impl Backoff {
    /// Parses "2s..5m" (base..max); a single value "3s" means base = max; jitter defaults to Full.
    pub fn parse(text: &str) -> Result<Backoff, String> {
        let trimmed = text.trim();
        let (base_text, max_text) = match trimmed.split_once("..") {
            Some((base, max)) => (base, max),
            None => (trimmed, trimmed),
        };
        let base = parse_duration(base_text)
            .map_err(|e| format!("invalid backoff \"{text}\": base: {e}"))?;
        let max = parse_duration(max_text)
            .map_err(|e| format!("invalid backoff \"{text}\": max: {e}"))?;
        let base_ms = millis_u64(base);
        let max_ms = millis_u64(max);
        if base_ms == 0 || max_ms == 0 {
            return Err(format!(
                "invalid backoff \"{text}\": delays must be at least 1ms"
            ));
        }
        if base_ms > MAX_BASE_MS {
            return Err(format!(
                "invalid backoff \"{text}\": base {} is longer than 1d",
                format_duration(base)
            ));
        }
        if max_ms < base_ms {
            return Err(format!(
                "invalid backoff \"{text}\": max {} is shorter than base {}",
                format_duration(max),
                format_duration(base)
            ));
        }
        // Full jitter spreads out retries from many resources failing at once.
        Ok(Backoff {
            base_ms,
            max_ms,
            jitter: Jitter::Full,
        })
    }

    /// The wait before attempt `next_attempt` (2 = the first retry): min(max, base * 2^(n-2)), jittered.
    pub fn delay(&self, next_attempt: u32) -> Duration {
        let exponent = next_attempt.saturating_sub(2);
        // Shifting by >= 64 is undefined for u64, so saturate explicitly.
        let factor = if exponent >= 64 {
            u64::MAX
        } else {
            1u64 << exponent
        };
        let cap = self.base_ms.saturating_mul(factor).min(self.max_ms);
        let ms = match self.jitter {
            Jitter::Full => fastrand::u64(0..=cap),
            Jitter::None => cap,
        };
        Duration::from_millis(ms)
    }

    /// "2s..5m" style text (inverse of parse, for display); a single value when base = max.
    pub fn describe(&self) -> String {
        let base = format_duration(Duration::from_millis(self.base_ms));
        if self.base_ms == self.max_ms {
            base
        } else {
            let max = format_duration(Duration::from_millis(self.max_ms));
            format!("{base}..{max}")
        }
    }
}

/// Milliseconds of a duration, saturating at u64::MAX.
fn millis_u64(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What a duration looks like, for error messages.
const DURATION_EXAMPLES: &str =
    "durations look like \"250ms\", \"10s\", \"5m\", \"1h 30m\" or \"1d\"";

/// Parses a duration in humantime's syntax ("250ms", "10s", "5m", "1h 30m", "1d"; a bare whole
/// number is seconds), to a whole number of milliseconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let parsed = if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        humantime::parse_duration(&format!("{trimmed}s"))
    } else {
        humantime::parse_duration(trimmed)
    };
    let d = parsed.map_err(|e| match e {
        humantime::DurationError::NumberOverflow => format!("invalid duration \"{text}\": {e}"),
        _ => format!("invalid duration \"{text}\": {e}; {DURATION_EXAMPLES}"),
    })?;
    if d.subsec_nanos() % 1_000_000 != 0 {
        return Err(format!(
            "invalid duration \"{text}\": durations are kept in whole milliseconds"
        ));
    }
    if u64::try_from(d.as_millis()).is_err() {
        return Err(format!("invalid duration \"{text}\": value is too large"));
    }
    Ok(d)
}

/// Formats a duration compactly in the largest exact unit (1500ms -> "1500ms", 120s -> "2m").
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".to_string();
    }
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(base_ms: u64, max_ms: u64) -> Backoff {
        Backoff {
            base_ms,
            max_ms,
            jitter: Jitter::None,
        }
    }

    #[test]
    fn parse_duration_accepts_all_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert_eq!(parse_duration(" 3s "), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        // humantime's syntax beyond "integer + unit".
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1_500)));
        assert_eq!(parse_duration("5 m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2min"), Ok(Duration::from_secs(120)));
    }

    #[test]
    fn parse_duration_rejects_bad_text_with_explanation() {
        for bad in ["", "s", "-5s", "10x", "10S", "ms10", "1.5"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains(&format!("\"{bad}\"")), "{err}");
            assert!(err.contains("durations look like"), "{err}");
        }
        for finer in ["1.5ms", "500us"] {
            let err = parse_duration(finer).unwrap_err();
            assert!(err.contains("whole milliseconds"), "{err}");
        }
        let err = parse_duration("99999999999999999999d").unwrap_err();
        assert!(err.contains("too large"), "{err}");
        let err = parse_duration("999999999999999999d").unwrap_err();
        assert!(err.contains("too large"), "{err}");
        let err = parse_duration("999999999999999999s").unwrap_err();
        assert!(err.contains("too large"), "{err}");
    }

    #[test]
    fn format_duration_uses_largest_exact_unit() {
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(format_duration(Duration::from_secs(86_400)), "1d");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn parse_backoff_range_and_single() {
        assert_eq!(
            Backoff::parse("2s..5m"),
            Ok(Backoff {
                base_ms: 2_000,
                max_ms: 300_000,
                jitter: Jitter::Full
            })
        );
        let single = Backoff::parse("3s").unwrap();
        assert_eq!((single.base_ms, single.max_ms), (3_000, 3_000));
    }

    #[test]
    fn parse_backoff_rejects_invalid() {
        let err = Backoff::parse("5m..2s").unwrap_err();
        assert!(err.contains("max 2s is shorter than base 5m"), "{err}");
        let err = Backoff::parse("0s..5s").unwrap_err();
        assert!(err.contains("at least 1ms"), "{err}");
        let err = Backoff::parse("0").unwrap_err();
        assert!(err.contains("at least 1ms"), "{err}");
        let err = Backoff::parse("2d..3d").unwrap_err();
        assert!(err.contains("longer than 1d"), "{err}");
        let err = Backoff::parse("2s..").unwrap_err();
        assert!(err.contains("max: invalid duration \"\""), "{err}");
        let err = Backoff::parse("abc..5s").unwrap_err();
        assert!(err.contains("base: invalid duration \"abc\""), "{err}");
        assert!(Backoff::parse("1d").is_ok());
    }

    #[test]
    fn describe_round_trips() {
        for text in ["2s..5m", "3s", "250ms..1h", "1500ms..2d"] {
            assert_eq!(Backoff::parse(text).unwrap().describe(), text);
        }
    }

    #[test]
    fn delay_grows_exponentially_and_caps() {
        let b = fixed(1_000, 10_000);
        let got: Vec<u64> = (2..=8).map(|n| b.delay(n).as_millis() as u64).collect();
        assert_eq!(got, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
        // Attempts before the first retry behave like the first retry.
        assert_eq!(b.delay(0), Duration::from_secs(1));
        assert_eq!(b.delay(1), Duration::from_secs(1));
    }

    #[test]
    fn delay_never_overflows_for_huge_attempts() {
        let b = fixed(86_400_000, u64::MAX);
        for n in [63, 64, 65, 66, 1_000, u32::MAX] {
            assert_eq!(b.delay(n), Duration::from_millis(u64::MAX));
        }
        let capped = fixed(1, 5_000);
        assert_eq!(capped.delay(u32::MAX), Duration::from_secs(5));
        let mut full = capped;
        full.jitter = Jitter::Full;
        assert!(full.delay(u32::MAX) <= Duration::from_secs(5));
    }

    #[test]
    fn full_jitter_stays_within_cap_and_varies() {
        let b = Backoff {
            base_ms: 100,
            max_ms: 1_000,
            jitter: Jitter::Full,
        };
        let draws: Vec<u64> = (0..1_000).map(|_| b.delay(3).as_millis() as u64).collect();
        assert!(
            draws.iter().all(|&d| d <= 200),
            "cap for attempt 3 is 200ms"
        );
        let distinct: std::collections::HashSet<_> = draws.iter().collect();
        assert!(
            distinct.len() > 50,
            "only {} distinct values",
            distinct.len()
        );
        let capped: Vec<u64> = (0..1_000).map(|_| b.delay(40).as_millis() as u64).collect();
        assert!(capped.iter().all(|&d| d <= 1_000));
        assert!(capped.iter().any(|&d| d > 500));
    }

    #[test]
    fn serde_shape() {
        let b = fixed(2_000, 300_000);
        let json = serde_json::to_value(b).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"baseMs": 2000, "maxMs": 300000, "jitter": "none"})
        );
        assert_eq!(serde_json::from_value::<Backoff>(json).unwrap(), b);
    }
}
