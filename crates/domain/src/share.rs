//! Exact shares: ratios of integers, never floating point.

use crate::{Fen, ParseError};
use std::cmp::Ordering;

/// A non-negative exact ratio `num / den`, kept reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Share {
    num: u64,
    den: u64,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Share {
    pub const ZERO: Share = Share { num: 0, den: 1 };
    pub const ONE: Share = Share { num: 1, den: 1 };

    /// `num / den`; `None` when `den` is zero.
    pub fn new(num: u64, den: u64) -> Option<Share> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den).max(1);
        Some(Share {
            num: num / g,
            den: den / g,
        })
    }

    /// The share `part / whole` of two amounts; zero when the whole is zero.
    pub fn of_parts(part: Fen, whole: Fen) -> Share {
        let (part, whole) = (part.get().max(0) as u64, whole.get().max(0) as u64);
        Share::new(part, whole).unwrap_or(Share::ZERO)
    }

    /// Parse `70%`, `0.386%`, `0.7` or `7/10`. Decimals are read exactly.
    pub fn parse(text: &str) -> Result<Share, ParseError> {
        let bad = || {
            ParseError::new(format!(
                "{text:?} is not a share: write e.g. 70%, 0.386%, 0.7 or 7/10"
            ))
        };
        if let Some((num, den)) = text.split_once('/') {
            let num = num.trim().parse::<u64>().map_err(|_| bad())?;
            let den = den.trim().parse::<u64>().map_err(|_| bad())?;
            return Share::new(num, den).ok_or_else(bad);
        }
        let (digits, percent) = match text.strip_suffix('%') {
            Some(d) => (d.trim(), true),
            None => (text.trim(), false),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(frac) || frac.len() > 12 {
            return Err(bad());
        }
        let scale = 10u64.pow(frac.len() as u32) * if percent { 100 } else { 1 };
        let num = format!("{whole}{frac}").parse::<u64>().map_err(|_| bad())?;
        Share::new(num, scale).ok_or_else(bad)
    }

    pub fn num(self) -> u64 {
        self.num
    }

    pub fn den(self) -> u64 {
        self.den
    }

    /// This share of an amount, rounded half up to the fen.
    pub fn of(self, amount: Fen) -> Fen {
        let product = i128::from(amount.get()) * i128::from(self.num);
        let den = i128::from(self.den);
        Fen::new(((2 * product + den) / (2 * den)) as i64)
    }

    /// For display only (e.g. `73.4%`).
    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// As a percentage with `decimals` places, for display.
    pub fn percent(self, decimals: usize) -> String {
        format!("{:.*}%", decimals, self.to_f64() * 100.0)
    }
}

impl PartialOrd for Share {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Share {
    fn cmp(&self, other: &Self) -> Ordering {
        (u128::from(self.num) * u128::from(other.den))
            .cmp(&(u128::from(other.num) * u128::from(self.den)))
    }
}

impl std::fmt::Display for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_percent_decimal_and_ratio_exactly() {
        assert_eq!(Share::parse("70%").unwrap(), Share::new(7, 10).unwrap());
        assert_eq!(
            Share::parse("0.386%").unwrap(),
            Share::new(386, 100_000).unwrap()
        );
        assert_eq!(Share::parse("0.7").unwrap(), Share::new(7, 10).unwrap());
        assert_eq!(Share::parse("7/10").unwrap(), Share::new(70, 100).unwrap());
        for bad in ["", "%", "-5%", "1/0", "seventy", "1.2.3", ".5"] {
            assert!(Share::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn applies_to_fen_with_half_up_rounding() {
        let third = Share::new(1, 3).unwrap();
        assert_eq!(third.of(Fen::new(100)), Fen::new(33));
        assert_eq!(third.of(Fen::new(200)), Fen::new(67));
        assert_eq!(
            Share::parse("0.5%")
                .unwrap()
                .of(Fen::from_yuan(200_000_000_000)),
            Fen::from_yuan(1_000_000_000)
        );
    }

    #[test]
    fn compares_exactly() {
        let a = Share::of_parts(Fen::new(7_000_001), Fen::new(10_000_000));
        assert!(a > Share::parse("70%").unwrap());
        assert!(
            Share::of_parts(Fen::new(6_999_999), Fen::new(10_000_000))
                < Share::parse("70%").unwrap()
        );
        assert_eq!(Share::of_parts(Fen::new(5), Fen::ZERO), Share::ZERO);
    }
}
