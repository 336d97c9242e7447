//! Targets: a value a recipient's indicator must reach by a date. Observed outcomes are
//! indicator values of recipients (see [`crate::indicator`]).

use crate::indicator::IndicatorKind;
use crate::{Date, Provenance, RecordId, RegionCode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: RecordId,
    pub region: RegionCode,
    pub indicator: IndicatorKind,
    /// In the indicator's unit; the target is met when the value is at or below it.
    pub value: i64,
    pub deadline: Date,
    pub provenance: Provenance,
}

/// Where an indicator is heading against a target that is met at or below its value: the
/// least-squares trend of the last [`TREND_YEARS`] observations, the value it projects for the
/// deadline's year, and the year the trend reaches the target.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// Change per year along the trend (negative: falling).
    pub slope: f64,
    /// The trend's value in the deadline's year.
    pub at_deadline: f64,
    /// The first year whose trend value is at or below the target; `None` when the trend does
    /// not fall (or was fitted on fewer than two years).
    pub met_in: Option<u16>,
    pub on_track: bool,
}

/// How many of the latest observations the trend is fitted on.
pub const TREND_YEARS: usize = 5;

/// The projection of `series` (year, value; any order, one value per year) toward `target`
/// (met at or below) by `deadline_year`. `None` without observations. One observation gives a
/// flat trend: on track only if already met.
pub fn project(series: &[(u16, i64)], target: i64, deadline_year: u16) -> Option<Projection> {
    let mut points: Vec<(u16, i64)> = series.to_vec();
    points.sort_unstable();
    points.dedup_by_key(|p| p.0);
    let points = &points[points.len().saturating_sub(TREND_YEARS)..];
    let &(last_year, last_value) = points.last()?;
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| f64::from(p.0)).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1 as f64).sum::<f64>() / n;
    let sxx: f64 = points
        .iter()
        .map(|p| (f64::from(p.0) - mean_x).powi(2))
        .sum();
    let sxy: f64 = points
        .iter()
        .map(|p| (f64::from(p.0) - mean_x) * (p.1 as f64 - mean_y))
        .sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let trend = |year: f64| mean_y + slope * (year - mean_x);
    let at_deadline = trend(f64::from(deadline_year));
    let met_in = if last_value <= target {
        Some(last_year)
    } else if slope < 0.0 {
        // The first whole year after the last observation whose trend value reaches it.
        let crossing = mean_x + (target as f64 - mean_y) / slope;
        Some((crossing.ceil() as i64).clamp(i64::from(last_year) + 1, 9999) as u16)
    } else {
        None
    };
    Some(Projection {
        slope,
        at_deadline,
        on_track: met_in.is_some_and(|y| y <= deadline_year),
        met_in,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_straight_fall_is_projected_exactly() {
        // 1,000 poor falling by 200 a year from 2014: zero in 2019.
        let series: Vec<(u16, i64)> = (0..4)
            .map(|i| (2014 + i, 1_000 - 200 * i64::from(i)))
            .collect();
        let p = project(&series, 0, 2020).unwrap();
        assert!((p.slope + 200.0).abs() < 1e-9);
        assert!((p.at_deadline + 200.0).abs() < 1e-9);
        assert_eq!(p.met_in, Some(2019));
        assert!(p.on_track);
        let late = project(&series, 0, 2018).unwrap();
        assert!(
            !late.on_track,
            "the trend reaches zero a year after a 2018 deadline"
        );
    }

    #[test]
    fn the_trend_uses_the_latest_years_only() {
        // A flat early stretch, then a steep fall: only the last five years count.
        let mut series = vec![(2008, 900), (2009, 900), (2010, 900)];
        series.extend((0..5).map(|i| (2014 + i, 800 - 100 * i64::from(i))));
        let p = project(&series, 0, 2030).unwrap();
        assert!((p.slope + 100.0).abs() < 1e-9);
        assert_eq!(p.met_in, Some(2022));
    }

    #[test]
    fn rising_flat_met_and_empty() {
        let rising = project(&[(2015, 10), (2016, 12)], 5, 2020).unwrap();
        assert_eq!(rising.met_in, None);
        assert!(!rising.on_track);
        let single = project(&[(2016, 12)], 5, 2020).unwrap();
        assert_eq!(single.slope, 0.0);
        assert!(!single.on_track);
        let met = project(&[(2015, 10), (2016, 4)], 5, 2020).unwrap();
        assert_eq!(met.met_in, Some(2016));
        assert!(met.on_track);
        assert_eq!(project(&[], 0, 2020), None);
    }
}
