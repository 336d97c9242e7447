//! Officials and experts, the posts they fill and their postings.

use crate::{Date, ParseError, Provenance, RecordId, RegionCode, Year};

/// Cadres serve numbered three-year batches; professionals (teachers, doctors, engineers)
/// serve shorter rotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Cadre,
    Professional,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Cadre => "cadre",
            Role::Professional => "professional",
        }
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        match text {
            "cadre" => Ok(Role::Cadre),
            "professional" => Ok(Role::Professional),
            _ => Err(ParseError::new(format!(
                "{text:?} is not a role: cadre or professional"
            ))),
        }
    }
}

/// A professional title in the Chinese grading (初级, 中级, 副高级, 正高级). "Senior staff"
/// means associate senior or senior.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Title {
    Junior,
    Intermediate,
    AssociateSenior,
    Senior,
}

impl Title {
    pub const ALL: [Title; 4] = [
        Title::Junior,
        Title::Intermediate,
        Title::AssociateSenior,
        Title::Senior,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Title::Junior => "junior",
            Title::Intermediate => "intermediate",
            Title::AssociateSenior => "associate_senior",
            Title::Senior => "senior",
        }
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        Title::ALL
            .into_iter()
            .find(|t| t.code() == text)
            .ok_or_else(|| {
                ParseError::new(format!(
                    "{text:?} is not a title: junior, intermediate, associate_senior or senior"
                ))
            })
    }

    pub fn is_senior(self) -> bool {
        self >= Title::AssociateSenior
    }
}

/// Languages as ISO 639 codes (`zh`, `ug`, `bo`, `kk`…), written space-separated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Languages(Vec<String>);

impl Languages {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut codes = Vec::new();
        for code in text.split_whitespace() {
            if !(2..=3).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(ParseError::new(format!(
                    "{code:?} is not a language code: two or three lowercase letters (ISO 639), \
                     space-separated, e.g. \"zh ug\""
                )));
            }
            if !codes.iter().any(|c| c == code) {
                codes.push(code.to_owned());
            }
        }
        Ok(Languages(codes))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, code: &str) -> bool {
        self.0.iter().any(|c| c == code)
    }

    /// Whether someone speaking `self` meets a need for any of `needed` (always, when nothing
    /// is needed).
    pub fn meets(&self, needed: &Languages) -> bool {
        needed.is_empty() || needed.0.iter().any(|c| self.contains(c))
    }
}

impl std::fmt::Display for Languages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: RecordId,
    pub provider: RegionCode,
    pub home_institution: String,
    pub specialty: String,
    /// Unknown for records made before titles were kept.
    pub title: Option<Title>,
    pub languages: Languages,
    pub provenance: Provenance,
}

/// A seat (or several) to fill at a host institution in a recipient area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: RecordId,
    pub recipient: RegionCode,
    pub host_institution: String,
    pub specialty: String,
    pub seats: u32,
    /// Languages the post works in: a person should speak one of them (none: no need).
    pub languages: Languages,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub id: RecordId,
    pub person: RecordId,
    pub post: RecordId,
    pub role: Role,
    pub start: Date,
    pub end: Date,
    /// The numbered batch of a cadre posting.
    pub batch: Option<u32>,
    /// The group-style medical team the posting belongs to.
    pub team: Option<RecordId>,
    pub provenance: Provenance,
}

/// The terms by role: a cadre serves in a numbered batch of at most three years; a professional
/// from six to eighteen months (a term of N months from D ends the day before D + N months).
pub fn check_term(role: Role, start: Date, end: Date, batch: Option<u32>) -> Result<(), String> {
    if end < start {
        return Err(format!("ends {end}, before it starts {start}"));
    }
    let months = |n: i32| {
        start
            .saturating_add(jiff::Span::new().months(n))
            .saturating_sub(jiff::Span::new().days(1))
    };
    match role {
        Role::Cadre => {
            if batch.is_none_or(|b| b == 0) {
                return Err("a cadre posting belongs to a numbered batch (1, 2, …)".into());
            }
            if end > months(36) {
                return Err(format!(
                    "a cadre batch lasts at most three years: from {start} it ends by {}, not {end}",
                    months(36)
                ));
            }
        }
        Role::Professional => {
            if batch.is_some() {
                return Err("only cadre postings belong to a numbered batch".into());
            }
            if end < months(MIN_PROFESSIONAL_MONTHS) || end > months(MAX_PROFESSIONAL_MONTHS) {
                return Err(format!(
                    "a professional serves {MIN_PROFESSIONAL_MONTHS} to {MAX_PROFESSIONAL_MONTHS} \
                     months: from {start} the term ends between {} and {}, not {end}",
                    months(MIN_PROFESSIONAL_MONTHS),
                    months(MAX_PROFESSIONAL_MONTHS)
                ));
            }
        }
    }
    Ok(())
}

pub const MIN_PROFESSIONAL_MONTHS: i32 = 6;
pub const MAX_PROFESSIONAL_MONTHS: i32 = 18;
/// A group-style medical team: at least this many senior staff…
pub const TEAM_MIN_SENIORS: usize = 5;
/// …each for at least this many months, at one hospital.
pub const TEAM_MIN_MONTHS: i32 = 6;

/// One member of a medical team as the rule sees it: their title, the host institution (with
/// its area) of their post, and their posting's dates.
#[derive(Debug, Clone, Copy)]
pub struct TeamMember<'a> {
    pub title: Option<Title>,
    pub recipient: &'a RegionCode,
    pub host_institution: &'a str,
    pub start: Date,
    pub end: Date,
}

/// The group-style medical team rule: at least five senior staff for at least six months each,
/// all at one hospital.
pub fn check_team(members: &[TeamMember<'_>]) -> Result<(), String> {
    let Some(first) = members.first() else {
        return Err("a team has members".into());
    };
    if let Some(other) = members
        .iter()
        .find(|m| m.recipient != first.recipient || m.host_institution != first.host_institution)
    {
        return Err(format!(
            "a medical team serves at one hospital: {} and {}",
            first.host_institution, other.host_institution
        ));
    }
    let long_enough = |m: &TeamMember<'_>| {
        m.end
            >= m.start
                .saturating_add(jiff::Span::new().months(TEAM_MIN_MONTHS))
                .saturating_sub(jiff::Span::new().days(1))
    };
    let seniors = members
        .iter()
        .filter(|m| m.title.is_some_and(Title::is_senior) && long_enough(m))
        .count();
    if seniors < TEAM_MIN_SENIORS {
        return Err(format!(
            "a group-style medical team has at least {TEAM_MIN_SENIORS} senior staff \
             (associate senior or senior title) for at least {TEAM_MIN_MONTHS} months; this one \
             has {seniors}"
        ));
    }
    Ok(())
}

/// What kind of institutions an institution pair joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstitutionKind {
    Hospital,
    School,
    Other,
}

impl InstitutionKind {
    pub const ALL: [InstitutionKind; 3] = [
        InstitutionKind::Hospital,
        InstitutionKind::School,
        InstitutionKind::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            InstitutionKind::Hospital => "hospital",
            InstitutionKind::School => "school",
            InstitutionKind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        InstitutionKind::ALL
            .into_iter()
            .find(|k| k.code() == text)
            .ok_or_else(|| {
                ParseError::new(format!(
                    "{text:?} is not an institution kind: hospital, school or other"
                ))
            })
    }
}

/// An institution of a provider paired with one in a recipient area (hospital ↔ hospital,
/// school ↔ school), under the provider's pair with that area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstitutionPair {
    pub id: RecordId,
    pub provider: RegionCode,
    pub provider_institution: String,
    pub recipient: RegionCode,
    pub host_institution: String,
    pub kind: InstitutionKind,
    pub first_year: Year,
    pub last_year: Option<Year>,
    pub provenance: Provenance,
}

/// Knowledge transfer: local staff of a host institution trained in a specialty in a year, by
/// a provider's people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Training {
    pub id: RecordId,
    pub provider: RegionCode,
    pub recipient: RegionCode,
    pub host_institution: String,
    pub specialty: String,
    pub year: Year,
    pub trained: u64,
    pub provenance: Provenance,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        crate::parse_date(text).unwrap()
    }

    #[test]
    fn terms_by_role() {
        // A cadre batch: three years less a day, numbered.
        assert!(check_term(Role::Cadre, d("2010-08-01"), d("2013-07-31"), Some(1)).is_ok());
        assert!(check_term(Role::Cadre, d("2010-08-01"), d("2012-01-31"), Some(1)).is_ok());
        let long = check_term(Role::Cadre, d("2010-08-01"), d("2013-08-01"), Some(1)).unwrap_err();
        assert!(long.contains("2013-07-31"), "{long}");
        assert!(check_term(Role::Cadre, d("2010-08-01"), d("2013-07-31"), None).is_err());
        assert!(check_term(Role::Cadre, d("2010-08-01"), d("2013-07-31"), Some(0)).is_err());
        // A professional: 6 to 18 months.
        assert!(check_term(Role::Professional, d("2016-03-01"), d("2016-08-31"), None).is_ok());
        assert!(check_term(Role::Professional, d("2016-03-01"), d("2017-08-31"), None).is_ok());
        let short =
            check_term(Role::Professional, d("2016-03-01"), d("2016-08-30"), None).unwrap_err();
        assert!(
            short.contains("between 2016-08-31 and 2017-08-31"),
            "{short}"
        );
        assert!(check_term(Role::Professional, d("2016-03-01"), d("2017-09-01"), None).is_err());
        assert!(
            check_term(
                Role::Professional,
                d("2016-03-01"),
                d("2016-12-31"),
                Some(2)
            )
            .is_err()
        );
        assert!(check_term(Role::Professional, d("2016-03-01"), d("2016-02-01"), None).is_err());
    }

    #[test]
    fn the_medical_team_rule() {
        let area = RegionCode::parse("xj.kashgar").unwrap();
        let other = RegionCode::parse("xj.hotan").unwrap();
        let member = |title, host, start, end| TeamMember {
            title,
            recipient: &area,
            host_institution: host,
            start: d(start),
            end: d(end),
        };
        let senior = |end| member(Some(Title::Senior), "H", "2017-03-01", end);
        let mut team: Vec<_> = (0..5).map(|_| senior("2017-08-31")).collect();
        assert_eq!(check_team(&team), Ok(()));
        // A junior member does not count, nor does a senior staying five months.
        team[4] = member(Some(Title::Intermediate), "H", "2017-03-01", "2017-08-31");
        assert!(check_team(&team).unwrap_err().contains("has 4"));
        team[4] = senior("2017-07-31");
        assert!(check_team(&team).unwrap_err().contains("has 4"));
        team[4] = member(None, "H", "2017-03-01", "2017-08-31");
        assert!(check_team(&team).is_err());
        // Six seniors, one of them elsewhere: one hospital only.
        team[4] = senior("2017-08-31");
        team.push(member(
            Some(Title::AssociateSenior),
            "H2",
            "2017-03-01",
            "2017-08-31",
        ));
        assert!(check_team(&team).unwrap_err().contains("one hospital"));
        team[5].host_institution = "H";
        team[5].recipient = &other;
        assert!(check_team(&team).unwrap_err().contains("one hospital"));
        team.pop();
        assert_eq!(check_team(&team), Ok(()));
        assert!(check_team(&[]).is_err());
    }

    #[test]
    fn languages_parse_and_meet() {
        let speaks = Languages::parse("zh  ug zh").unwrap();
        assert_eq!(speaks.to_string(), "zh ug");
        assert!(speaks.meets(&Languages::parse("ug").unwrap()));
        assert!(speaks.meets(&Languages::parse("").unwrap()));
        assert!(!speaks.meets(&Languages::parse("bo kk").unwrap()));
        assert!(Languages::parse("Uyghur").is_err());
        assert!(Languages::parse("z").is_err());
        assert_eq!(Title::parse("associate_senior"), Ok(Title::AssociateSenior));
        assert!(Title::AssociateSenior.is_senior() && !Title::Intermediate.is_senior());
        assert!(Title::parse("professor").is_err());
    }
}
