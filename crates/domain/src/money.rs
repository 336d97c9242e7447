//! Money as integer minor units. A yuan is 100 fen; nothing here is ever `f64`.

use crate::ParseError;

/// An amount in fen (1/100 yuan), never negative: the direction of a money movement is its
/// kind, and a correction is a new record. [`Fen::new`] holds the invariant; a signed
/// difference (a balance, an IATI transaction that takes money back) is a plain `i64` of fen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fen(i64);

impl Fen {
    pub const ZERO: Fen = Fen(0);
    pub const PER_YUAN: i64 = 100;

    /// An amount known not to be negative (a literal, a sum or share of amounts).
    ///
    /// # Panics
    /// When `fen` is negative: that is a bug in the caller. Numbers from outside (a file, a
    /// database row) go through [`Fen::try_new`] or [`Fen::parse_amount`].
    pub const fn new(fen: i64) -> Fen {
        assert!(fen >= 0, "an amount in fen is never negative");
        Fen(fen)
    }

    /// An amount from a number read from outside, refused when negative.
    pub fn try_new(fen: i64) -> Result<Fen, ParseError> {
        if fen < 0 {
            return Err(ParseError::new(format!(
                "{fen} is negative: amounts are ≥ 0 fen"
            )));
        }
        Ok(Fen(fen))
    }

    pub const fn from_yuan(yuan: i64) -> Fen {
        Fen::new(yuan * Self::PER_YUAN)
    }

    /// Parse a record amount: a whole, non-negative number of fen.
    pub fn parse_amount(text: &str) -> Result<Fen, ParseError> {
        if text.starts_with('-') {
            return Err(ParseError::new(format!(
                "{text:?} is negative: amounts are ≥ 0 fen; book a reversal to undo money"
            )));
        }
        if text.contains(['.', ',', 'e', 'E']) {
            return Err(ParseError::new(format!(
                "{text:?} is not a whole number of fen: amounts are integer fen (1 yuan = 100 fen)"
            )));
        }
        let fen = text.parse::<i64>().map_err(|_| {
            ParseError::new(format!(
                "{text:?} is not an amount: write whole fen, e.g. 125000"
            ))
        })?;
        Ok(Fen(fen))
    }

    /// Parse an amount typed by a person in yuan: digits, optional thousands separators (`,`)
    /// and at most two decimals, e.g. `1,250,000.50`.
    pub fn parse_yuan(text: &str) -> Result<Fen, ParseError> {
        let text = text.trim();
        let bad = || {
            ParseError::new(format!(
                "{text:?} is not an amount in yuan: write e.g. 1250000 or 1,250,000.50"
            ))
        };
        if text.starts_with('-') {
            return Err(ParseError::new(format!(
                "{text:?} is negative: amounts are ≥ 0; book a reversal to undo money"
            )));
        }
        let (whole, cents) = text.split_once('.').unwrap_or((text, ""));
        let whole: String = whole.chars().filter(|&c| c != ',').collect();
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || cents.len() > 2
            || !cents.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let yuan: i64 = whole.parse().map_err(|_| bad())?;
        let cents: i64 = format!("{cents:0<2}").parse().map_err(|_| bad())?;
        yuan.checked_mul(Self::PER_YUAN)
            .and_then(|f| f.checked_add(cents))
            .map(Fen)
            .ok_or_else(bad)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    /// What is left of `self` after `other`, never below zero.
    pub fn saturating_sub(self, other: Fen) -> Fen {
        Fen(self.0.saturating_sub(other.0).max(0))
    }

    /// The amount in billions of yuan, for display only.
    pub fn to_bn_yuan(self) -> f64 {
        self.0 as f64 / 1e11
    }

    /// The amount in yuan, for display only.
    pub fn to_yuan(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl std::ops::Add for Fen {
    type Output = Fen;
    fn add(self, other: Fen) -> Fen {
        Fen(self
            .0
            .checked_add(other.0)
            .expect("fen overflow: more than 92 quadrillion yuan"))
    }
}

impl std::ops::AddAssign for Fen {
    fn add_assign(&mut self, other: Fen) {
        *self = *self + other;
    }
}

impl std::iter::Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        iter.fold(Fen::ZERO, |a, b| a + b)
    }
}

impl std::fmt::Display for Fen {
    /// `1234567` fen is shown as `12,345.67`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&signed_yuan(self.0))
    }
}

/// A signed number of fen in yuan with separators: `-1234567` is `-12,345.67`.
pub fn signed_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", grouped(abs / 100), abs % 100)
}

/// A whole number with thousands separators: `87912` is `87,912`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An ISO 4217 currency code such as `CNY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const CNY: Currency = Currency(*b"CNY");

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let bytes = text.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(ParseError::new(format!(
                "{text:?} is not a currency: write a three-letter ISO code such as CNY"
            )));
        }
        Ok(Currency([bytes[0], bytes[1], bytes[2]]))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("currency codes are ASCII")
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_whole_non_negative_fen() {
        assert_eq!(Fen::parse_amount("125000").unwrap(), Fen::new(125_000));
        assert_eq!(Fen::parse_amount("0").unwrap(), Fen::ZERO);
        let negative = Fen::parse_amount("-5").unwrap_err().to_string();
        assert!(negative.contains("negative"), "{negative}");
        let fractional = Fen::parse_amount("12.5").unwrap_err().to_string();
        assert!(fractional.contains("whole number of fen"), "{fractional}");
        assert!(Fen::parse_amount("1e5").is_err());
        assert!(Fen::parse_amount("abc").is_err());
        assert!(Fen::parse_amount("99999999999999999999").is_err());
    }

    #[test]
    fn an_amount_is_never_negative() {
        assert_eq!(Fen::try_new(7).unwrap(), Fen::new(7));
        let refused = Fen::try_new(-7).unwrap_err().to_string();
        assert!(refused.contains("negative"), "{refused}");
        assert!(std::panic::catch_unwind(|| Fen::new(-1)).is_err());
        assert_eq!(Fen::new(5).saturating_sub(Fen::new(9)), Fen::ZERO);
        assert_eq!(Fen::new(9).saturating_sub(Fen::new(5)), Fen::new(4));
    }

    #[test]
    fn typed_yuan_become_fen() {
        assert_eq!(
            Fen::parse_yuan("1,250,000.50").unwrap(),
            Fen::new(125_000_050)
        );
        assert_eq!(Fen::parse_yuan(" 12.5 ").unwrap(), Fen::new(1_250));
        assert_eq!(Fen::parse_yuan("7").unwrap(), Fen::new(700));
        for bad in [
            "",
            "-3",
            "1.234",
            "1e5",
            "abc",
            "1.2.3",
            "99999999999999999999",
        ] {
            assert!(Fen::parse_yuan(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn displays_yuan_with_grouping() {
        assert_eq!(Fen::new(1_234_567).to_string(), "12,345.67");
        assert_eq!(Fen::new(5).to_string(), "0.05");
        assert_eq!(Fen::from_yuan(18_800_000_000).to_bn_yuan(), 18.8);
    }

    #[test]
    fn currency_codes_are_three_capitals() {
        assert_eq!(Currency::parse("CNY").unwrap(), Currency::CNY);
        assert!(Currency::parse("cny").is_err());
        assert!(Currency::parse("YUAN").is_err());
    }
}
