//! Calendar years of a program.

use crate::ParseError;

/// A calendar year between 1949 and 2100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Year(u16);

impl Year {
    pub const MIN: u16 = 1949;
    pub const MAX: u16 = 2100;

    pub fn new(year: u16) -> Result<Self, ParseError> {
        if (Self::MIN..=Self::MAX).contains(&year) {
            Ok(Year(year))
        } else {
            Err(ParseError::new(format!(
                "{year} is not a year between {} and {}",
                Self::MIN,
                Self::MAX
            )))
        }
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let year = text
            .parse::<u16>()
            .map_err(|_| ParseError::new(format!("{text:?} is not a year: write e.g. 2019")))?;
        Year::new(year)
    }

    pub fn get(self) -> u16 {
        self.0
    }

    /// Years from `self` to `later` (negative when `later` is earlier).
    pub fn until(self, later: Year) -> i32 {
        i32::from(later.0) - i32::from(self.0)
    }

    pub fn next(self) -> Year {
        Year(self.0 + 1)
    }
}

impl std::fmt::Display for Year {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_years_in_range_only() {
        assert_eq!(Year::parse("2019").unwrap().get(), 2019);
        assert!(Year::parse("1800").is_err());
        assert!(Year::parse("twenty").is_err());
        assert_eq!(
            Year::parse("2011")
                .unwrap()
                .until(Year::parse("2015").unwrap()),
            4
        );
    }
}
