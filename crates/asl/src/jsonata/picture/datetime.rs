//! Date/time pictures: XPath F&O 3.1 `fn:format-dateTime` for `$fromMillis` and `$now`, and
//! its inverse for `$toMillis`, as jsonata-js 2.0.6 applies them. Calendar arithmetic is
//! chrono's; numeric components are written by [`super::number`]'s integer pictures.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};

use super::number::{digit_family, IntegerPicture, Primary};
use super::{err, JsonataError};

/// The picture `$fromMillis` uses without one: ISO 8601 with milliseconds.
const ISO_PICTURE: &str = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";

/// Widths a width modifier may ask for: beyond this the output would be padding only.
const MAX_WIDTH: usize = 1000;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// One piece of a parsed date/time picture.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Literal(String),
    Marker(Marker),
}

/// A variable marker such as `[MNn,3-3]`.
#[derive(Debug, Clone, PartialEq)]
struct Marker {
    component: char,
    presentation: Presentation,
    min_width: Option<usize>,
    max_width: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
enum Presentation {
    /// `N`, `n`, `Nn`: names (months, days, am/pm).
    Name(NameCase),
    /// Any `fn:format-integer` picture, with the ordinal modifier folded in.
    Integer(IntegerPicture),
    /// The timezone's own picture (`01:01`, `0`, `0101`, …) and whether `t` asks for `Z`
    /// at offset zero.
    Zone { picture: String, z_at_zero: bool },
    /// `[C]` and `[E]`: calendar and era, always "ISO" here.
    Iso,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameCase {
    Upper,
    Lower,
    Title,
}

fn component_error(component: &str) -> JsonataError {
    err("D3132", format!("Unknown component specifier \"{component}\" in date/time picture string"))
}

/// Split a picture into literals and markers: `[[` and `]]` stand for `[` and `]`, a lone
/// `]` is literal, white space inside a marker is ignored.
fn parse_picture(picture: &str) -> Result<Vec<Piece>, JsonataError> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = picture.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' if chars.peek() == Some(&'[') => {
                chars.next();
                literal.push('[');
            }
            ']' if chars.peek() == Some(&']') => {
                chars.next();
                literal.push(']');
            }
            '[' => {
                let mut body = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == ']' {
                        closed = true;
                        break;
                    }
                    if !c.is_whitespace() {
                        body.push(c);
                    }
                }
                if !closed {
                    return Err(err("D3135", "No matching closing bracket ']' in date/time picture string"));
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Marker(parse_marker(&body)?));
            }
            _ => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

/// A width: a number or `*` (unbounded); anything else leaves the width unspecified.
fn parse_width(s: &str) -> Result<Option<usize>, JsonataError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    match s.parse::<usize>() {
        Ok(w) if w <= MAX_WIDTH => Ok(Some(w)),
        _ => Err(err("D1001", format!("Number out of range: width {s} in date/time picture string"))),
    }
}

fn parse_marker(body: &str) -> Result<Marker, JsonataError> {
    let mut chars = body.chars();
    let Some(component) = chars.next() else {
        return Err(component_error(""));
    };
    if !"YMDdFWwXxHhPmsfZzCE".contains(component) {
        return Err(component_error(&component.to_string()));
    }
    let rest = chars.as_str();
    // The width modifier follows the last comma (a comma may also group digits).
    let (mut presentation, width) = match rest.rfind(',') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (mut min_width, mut max_width) = (None, None);
    if let Some(width) = width {
        let (min, max) = width.split_once('-').unwrap_or((width, ""));
        min_width = parse_width(min)?;
        max_width = parse_width(max)?;
    }
    let presentation = match component {
        'C' | 'E' => Presentation::Iso,
        'Z' | 'z' => {
            let z_at_zero = presentation.len() > 1 && presentation.ends_with('t');
            if z_at_zero {
                presentation = &presentation[..presentation.len() - 1];
            }
            let picture = if presentation.is_empty() { "01:01" } else { presentation };
            let digits = picture.chars().filter(|&c| digit_family(c).is_some()).count();
            if digits == 0 || digits > 4 {
                return Err(err("D3134", "The timezone integer format specifier cannot have more than four digits"));
            }
            Presentation::Zone { picture: picture.to_string(), z_at_zero }
        }
        _ => {
            if presentation.is_empty() {
                presentation = match component {
                    'F' | 'P' => "n",
                    'm' | 's' => "01",
                    _ => "1",
                };
            }
            let mut ordinal = false;
            if presentation.chars().count() > 1 {
                if let Some(p) = presentation.strip_suffix('o') {
                    ordinal = true;
                    presentation = p;
                } else if let Some(p) = presentation.strip_suffix('c') {
                    presentation = p;
                }
            }
            if component == 'P' {
                // am/pm is always a name; a numeric presentation is ignored.
                Presentation::Name(name_case(presentation).unwrap_or(NameCase::Lower))
            } else if let Some(case) = name_case(presentation) {
                if component != 'M' && component != 'F' {
                    return Err(err(
                        "D3133",
                        format!("The 'name' modifier can only be applied to months and days in the date/time picture string, not \"{component}\""),
                    ));
                }
                Presentation::Name(case)
            } else {
                let picture = if ordinal { format!("{presentation};o") } else { presentation.to_string() };
                Presentation::Integer(IntegerPicture::parse(&picture)?)
            }
        }
    };
    Ok(Marker { component, presentation, min_width, max_width })
}

fn name_case(p: &str) -> Option<NameCase> {
    match p {
        "Nn" => Some(NameCase::Title),
        "n" => Some(NameCase::Lower),
        _ if p.starts_with('N') => Some(NameCase::Upper),
        _ if p.starts_with('n') => Some(NameCase::Lower),
        _ => None,
    }
}

/// A timezone as jsonata-js reads `"+0530"`: the integer ±HHMM, its hours rounded down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Zone {
    /// Offset from UTC in minutes.
    minutes: i64,
    /// The offset as the integer ±HHMM that `[Z]` prints.
    hhmm: i64,
}

fn parse_zone(tz: Option<&str>) -> Result<Zone, JsonataError> {
    let Some(tz) = tz else {
        return Ok(Zone { minutes: 0, hhmm: 0 });
    };
    let chars: Vec<char> = tz.chars().collect();
    let n = super::number::js_parse_int(&chars).unwrap_or(0.0);
    if n.abs() > 1e8 {
        return Err(err("D1001", format!("Number out of range: timezone {tz}")));
    }
    let n = n as i64;
    let hours = n.div_euclid(100);
    let minutes = n % 100; // the sign of the dividend, as JavaScript's `%`
    Ok(Zone { minutes: hours * 60 + minutes, hhmm: hours * 100 + minutes })
}

/// The calendar fields of one instant in one timezone.
struct Fields {
    local: NaiveDateTime,
    zone: Zone,
}

impl Fields {
    fn new(millis: i64, zone: Zone) -> Result<Fields, JsonataError> {
        let local = millis
            .checked_add(zone.minutes * 60_000)
            .and_then(DateTime::from_timestamp_millis)
            .map(|t| t.naive_utc())
            .ok_or_else(|| err("D1001", format!("Number out of range: {millis} milliseconds")))?;
        Ok(Fields { local, zone })
    }

    /// The numeric value of a component.
    fn number(&self, component: char) -> i64 {
        let d = self.local.date();
        match component {
            // The astronomical year (year 0 is 1 BC), as JavaScript's Date counts it.
            'Y' => d.year() as i64,
            'M' => d.month() as i64,
            'D' => d.day() as i64,
            'd' => d.ordinal() as i64,
            'F' => d.weekday().number_from_monday() as i64,
            'W' => d.iso_week().week() as i64,
            'X' => d.iso_week().year() as i64,
            'w' => (week_thursday(d).day() as i64 - 1) / 7 + 1,
            'x' => week_thursday(d).month() as i64,
            'H' => self.local.hour() as i64,
            'h' => match self.local.hour() % 12 {
                0 => 12,
                h => h as i64,
            },
            'm' => self.local.minute() as i64,
            's' => self.local.second() as i64,
            'f' => (self.local.nanosecond() / 1_000_000) as i64,
            _ => 0,
        }
    }
}

/// The Thursday of `d`'s Monday-to-Sunday week: a week belongs to the month (and the ISO
/// week-numbering year) its Thursday falls in.
fn week_thursday(d: NaiveDate) -> NaiveDate {
    let from_monday = d.weekday().num_days_from_monday() as i64;
    d.checked_add_signed(Duration::days(3 - from_monday)).unwrap_or(d)
}

fn truncate_chars(s: &str, max: Option<usize>) -> String {
    match max {
        Some(m) => s.chars().take(m).collect(),
        None => s.to_string(),
    }
}

fn cased(name: &str, case: NameCase) -> String {
    match case {
        NameCase::Upper => name.to_uppercase(),
        NameCase::Lower => name.to_lowercase(),
        NameCase::Title => name.to_string(),
    }
}

fn format_marker(m: &Marker, f: &Fields) -> Result<String, JsonataError> {
    match &m.presentation {
        Presentation::Iso => Ok("ISO".to_string()),
        Presentation::Zone { picture, z_at_zero } => {
            if *z_at_zero && f.zone.minutes == 0 {
                return Ok("Z".to_string());
            }
            let text = format_zone(f.zone.hhmm, picture)?;
            Ok(if m.component == 'z' { format!("GMT{text}") } else { text })
        }
        Presentation::Name(case) => {
            let name = match m.component {
                'M' => MONTHS[(f.number('M') - 1).clamp(0, 11) as usize].to_string(),
                'F' => DAYS[(f.number('F') - 1).clamp(0, 6) as usize].to_string(),
                _ => (if f.local.hour() < 12 { "am" } else { "pm" }).to_string(),
            };
            // jsonata-js leaves am/pm lower case under `Nn`.
            let case = if m.component == 'P' && *case == NameCase::Title { NameCase::Lower } else { *case };
            Ok(truncate_chars(&cased(&name, case), m.max_width))
        }
        Presentation::Integer(picture) => {
            let mut picture = picture.clone();
            let date_part = matches!(m.component, 'Y' | 'M' | 'D');
            let mut width = None;
            if let Primary::Decimal { mandatory, .. } = &mut picture.primary {
                // The date components pad to the maximum width, the others to the minimum.
                *mandatory = match (date_part, m.max_width) {
                    (true, Some(max)) => max,
                    _ => (*mandatory).max(m.min_width.unwrap_or(0)),
                };
                width = Some(*mandatory);
            }
            let mut value = f.number(m.component);
            if m.component == 'Y' {
                // A year keeps only its last w digits when a maximum width w is given or when
                // it is written in w ≥ 2 digits ("[Y01]" is 18, "[Y]" is 2018).
                let w = match m.max_width {
                    Some(max) => Some(max),
                    None => width.or(m.min_width).map(|w| w.max(m.min_width.unwrap_or(0))).filter(|&w| w >= 2),
                };
                if let Some(w) = w.filter(|&w| w < 18) {
                    value %= 10i64.pow(w as u32);
                }
            }
            picture.format(value as f64)
        }
    }
}

/// A timezone offset ±HHMM written with a timezone picture: one or two digits write the
/// hours, with `:mm` when the minutes are not zero; otherwise the whole ±HHMM is written
/// with the picture as an integer picture (so `01:01` groups it as `05:30`).
fn format_zone(hhmm: i64, picture: &str) -> Result<String, JsonataError> {
    let sign = if hhmm < 0 { '-' } else { '+' };
    let abs = hhmm.abs();
    let digits = picture.chars().filter(|&c| digit_family(c).is_some()).count();
    let all_digits = picture.chars().all(|c| digit_family(c).is_some());
    let body = if digits <= 2 && all_digits {
        let hours = IntegerPicture::parse(picture)?.format((abs / 100) as f64)?;
        match abs % 100 {
            0 => hours,
            m => format!("{hours}:{m:02}"),
        }
    } else {
        IntegerPicture::parse(picture)?.format(abs as f64)?
    };
    Ok(format!("{sign}{body}"))
}

/// `$fromMillis(millis, picture, timezone)`: without a picture, ISO 8601 with milliseconds
/// (`2017-11-07T15:07:54.972Z`).
pub fn format_datetime(millis: i64, picture: Option<&str>, timezone: Option<&str>) -> Result<String, JsonataError> {
    let pieces = parse_picture(picture.unwrap_or(ISO_PICTURE))?;
    let fields = Fields::new(millis, parse_zone(timezone)?)?;
    let mut out = String::new();
    for piece in &pieces {
        match piece {
            Piece::Literal(s) => out.push_str(s),
            Piece::Marker(m) => out.push_str(&format_marker(m, &fields)?),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    //! Expected values were produced by jsonata-js 2.0.6 (`$fromMillis`, `$toMillis`) for
    //! the same arguments.
    use super::*;

    fn fd(millis: i64, picture: Option<&str>, timezone: Option<&str>) -> Result<String, &'static str> {
        format_datetime(millis, picture, timezone).map_err(|e| e.code)
    }

    #[test]
    fn format_datetime_iso_default() {
        assert_eq!(fd(1521801216617, None, None), Ok("2018-03-23T10:33:36.617Z".to_string()));
        assert_eq!(fd(0, None, None), Ok("1970-01-01T00:00:00.000Z".to_string()));
        assert_eq!(fd(1, None, None), Ok("1970-01-01T00:00:00.001Z".to_string()));
        assert_eq!(fd(-1, None, None), Ok("1969-12-31T23:59:59.999Z".to_string()));
        assert_eq!(fd(-1521801216617, None, None), Ok("1921-10-11T13:26:23.383Z".to_string()));
        assert_eq!(fd(-62198755200000, None, None), Ok("-0001-01-01T00:00:00.000Z".to_string()));
        assert_eq!(fd(-62198755200001, None, None), Ok("-0002-12-31T23:59:59.999Z".to_string()));
        assert_eq!(fd(253402300800000, None, None), Ok("0000-01-01T00:00:00.000Z".to_string()));
        assert_eq!(fd(1521801216617, Some(""), Some("+0500")), Ok("".to_string()));
        assert_eq!(fd(1521801216617, Some(""), Some("-0530")), Ok("".to_string()));
        assert_eq!(fd(1521801216617, Some(""), Some("+0000")), Ok("".to_string()));
    }

    #[test]
    fn format_datetime_year() {
        assert_eq!(fd(1521801216617, Some("[Y]"), None), Ok("2018".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y0001]"), None), Ok("2018".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y01]"), None), Ok("18".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y001]"), None), Ok("018".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y,2]"), None), Ok("18".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y,3]"), None), Ok("018".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y,*-2]"), None), Ok("18".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y,*-3]"), None), Ok("018".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y,*-4]"), None), Ok("2018".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y,4-4]"), None), Ok("2018".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y,1-2]"), None), Ok("18".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y,2-1]"), None), Ok("8".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y,1]"), None), Ok("2018".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y1,2]"), None), Ok("18".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y01,4]"), None), Ok("2018".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y01,1]"), None), Ok("18".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y0001,2-2]"), None), Ok("18".to_string()));
        assert_eq!(
            fd(1521801216617, Some("[Y0000000000000000000001]"), None),
            Ok("0000000000000000002018".to_string())
        );
        assert_eq!(fd(1521801216617, Some("[YI]"), None), Ok("MMXVIII".to_string()));
        assert_eq!(fd(1521801216617, Some("[YI,2-2]"), None), Ok("XVIII".to_string()));
        assert_eq!(fd(1521801216617, Some("[Yw]"), None), Ok("two thousand and eighteen".to_string()));
        assert_eq!(fd(1521801216617, Some("[YA]"), None), Ok("BYP".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y١]"), None), Ok("٢٠١٨".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y١٠٠٠,2-2]"), None), Ok("١٨".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y9,999,*]"), None), Ok("2,018".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y,2,3]"), None), Ok("0,1,8".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y0,001]"), None), Ok("2018".to_string()));
        assert_eq!(fd(1521801216617, Some("[ Y , 4 ]"), None), Ok("2018".to_string()));
        assert_eq!(fd(-62198755200000, Some("[Y]"), None), Ok("-1".to_string()));
        assert_eq!(fd(-62198755200001, Some("[Y0001]"), None), Ok("-0002".to_string()));
    }

    #[test]
    fn format_datetime_month_and_day() {
        assert_eq!(fd(1521801216617, Some("[M]"), None), Ok("3".to_string()));
        assert_eq!(fd(1521801216617, Some("[M01]"), None), Ok("03".to_string()));
        assert_eq!(fd(1521801216617, Some("[M,2]"), None), Ok("03".to_string()));
        assert_eq!(fd(1521801216617, Some("[M01,1]"), None), Ok("03".to_string()));
        assert_eq!(fd(1521801216617, Some("[M,3-4]"), None), Ok("0003".to_string()));
        assert_eq!(fd(1521801216617, Some("[M,*-3]"), None), Ok("003".to_string()));
        assert_eq!(fd(1521801216617, Some("[M,2-*]"), None), Ok("03".to_string()));
        assert_eq!(fd(1521801216617, Some("[M01,*-1]"), None), Ok("3".to_string()));
        assert_eq!(fd(1521801216617, Some("[M001,1-2]"), None), Ok("03".to_string()));
        assert_eq!(fd(1521801216617, Some("[MI]"), None), Ok("III".to_string()));
        assert_eq!(fd(1521801216617, Some("[Mi]"), None), Ok("iii".to_string()));
        assert_eq!(fd(1521801216617, Some("[MA]"), None), Ok("C".to_string()));
        assert_eq!(fd(1521801216617, Some("[Ma]"), None), Ok("c".to_string()));
        assert_eq!(fd(1521801216617, Some("[Mw]"), None), Ok("three".to_string()));
        assert_eq!(fd(1521801216617, Some("[D]"), None), Ok("23".to_string()));
        assert_eq!(fd(1521801216617, Some("[D01]"), None), Ok("23".to_string()));
        assert_eq!(fd(1521801216617, Some("[D,3]"), None), Ok("023".to_string()));
        assert_eq!(fd(1521801216617, Some("[D,1-3]"), None), Ok("023".to_string()));
        assert_eq!(fd(1521801216617, Some("[D0001]"), None), Ok("0023".to_string()));
        assert_eq!(fd(1521801216617, Some("[D1,2-2]"), None), Ok("23".to_string()));
        assert_eq!(fd(1521801216617, Some("[D#1]"), None), Ok("23".to_string()));
        assert_eq!(fd(1521801216617, Some("[Dw]"), None), Ok("twenty-three".to_string()));
        assert_eq!(fd(1521801216617, Some("[DW]"), None), Ok("TWENTY-THREE".to_string()));
        assert_eq!(fd(1521801216617, Some("[DWw]"), None), Ok("Twenty-Three".to_string()));
        assert_eq!(fd(1521801216617, Some("[Dwo]"), None), Ok("twenty-third".to_string()));
        assert_eq!(fd(1521801216617, Some("[D1o]"), None), Ok("23rd".to_string()));
        assert_eq!(fd(1521801216617, Some("[D01o]"), None), Ok("23rd".to_string()));
        assert_eq!(fd(1521801216617, Some("[d]"), None), Ok("82".to_string()));
        assert_eq!(fd(1521801216617, Some("[d001]"), None), Ok("082".to_string()));
        assert_eq!(fd(1521801216617, Some("[dwo]"), None), Ok("eighty-second".to_string()));
    }

    #[test]
    fn format_datetime_names() {
        assert_eq!(fd(1521801216617, Some("[MNn]"), None), Ok("March".to_string()));
        assert_eq!(fd(1521801216617, Some("[MN]"), None), Ok("MARCH".to_string()));
        assert_eq!(fd(1521801216617, Some("[Mn]"), None), Ok("march".to_string()));
        assert_eq!(fd(1521801216617, Some("[MNn,3-3]"), None), Ok("Mar".to_string()));
        assert_eq!(fd(1521801216617, Some("[MN,*-3]"), None), Ok("MAR".to_string()));
        assert_eq!(fd(1521801216617, Some("[MN,3-*]"), None), Ok("MARCH".to_string()));
        assert_eq!(fd(1521801216617, Some("[MNn,2]"), None), Ok("March".to_string()));
        assert_eq!(fd(1521801216617, Some("[MNn,10-10]"), None), Ok("March".to_string()));
        assert_eq!(fd(1521801216617, Some("[MNn,0-0]"), None), Ok("".to_string()));
        assert_eq!(fd(1521801216617, Some("[MNn,1-1]"), None), Ok("M".to_string()));
        assert_eq!(fd(1521801216617, Some("[MNno]"), None), Ok("March".to_string()));
        assert_eq!(fd(1521801216617, Some("[F]"), None), Ok("friday".to_string()));
        assert_eq!(fd(1521801216617, Some("[FNn]"), None), Ok("Friday".to_string()));
        assert_eq!(fd(1521801216617, Some("[FN]"), None), Ok("FRIDAY".to_string()));
        assert_eq!(fd(1521801216617, Some("[Fn]"), None), Ok("friday".to_string()));
        assert_eq!(fd(1521801216617, Some("[FNn,3-3]"), None), Ok("Fri".to_string()));
        assert_eq!(fd(1521801216617, Some("[FNn,*-2]"), None), Ok("Fr".to_string()));
        assert_eq!(fd(1521801216617, Some("[FNno]"), None), Ok("Friday".to_string()));
        assert_eq!(fd(1521801216617, Some("[F1]"), None), Ok("5".to_string()));
        assert_eq!(fd(1521801216617, Some("[F01]"), None), Ok("05".to_string()));
        assert_eq!(fd(1521801216617, Some("[Fw]"), None), Ok("five".to_string()));
        assert_eq!(fd(1514764800000, Some("[FNn] [MNn]"), None), Ok("Monday January".to_string()));
        assert_eq!(fd(1514678400000, Some("[FNn] [MNn]"), None), Ok("Sunday December".to_string()));
    }

    #[test]
    fn format_datetime_time() {
        assert_eq!(fd(1521801216617, Some("[H]:[m]:[s].[f]"), None), Ok("10:33:36.617".to_string()));
        assert_eq!(fd(1521801216617, Some("[H01]:[m01]:[s01].[f001]"), None), Ok("10:33:36.617".to_string()));
        assert_eq!(fd(1521801216617, Some("[h]:[m01] [P]"), None), Ok("10:33 am".to_string()));
        assert_eq!(fd(1521801216617, Some("[P]"), None), Ok("am".to_string()));
        assert_eq!(fd(1521801216617, Some("[Pn]"), None), Ok("am".to_string()));
        assert_eq!(fd(1521801216617, Some("[PN]"), None), Ok("AM".to_string()));
        assert_eq!(fd(1521801216617, Some("[PNn]"), None), Ok("am".to_string()));
        assert_eq!(fd(1521801216617, Some("[P1]"), None), Ok("am".to_string()));
        assert_eq!(fd(1514764800000, Some("[h] [P]"), None), Ok("12 am".to_string()));
        assert_eq!(fd(1514808000000, Some("[h] [P]"), None), Ok("12 pm".to_string()));
        assert_eq!(fd(1514764800000, Some("[H] [H01] [h01]"), None), Ok("0 00 12".to_string()));
        assert_eq!(fd(1521801216617, Some("[H,3-3]"), None), Ok("010".to_string()));
        assert_eq!(fd(1521801216617, Some("[H,1-3]"), None), Ok("10".to_string()));
        assert_eq!(fd(1521801216617, Some("[H,2-4]"), None), Ok("10".to_string()));
        assert_eq!(fd(1521801216617, Some("[H,3-4]"), None), Ok("010".to_string()));
        assert_eq!(fd(1521801216617, Some("[h,1-3]"), None), Ok("10".to_string()));
        assert_eq!(fd(1521801216617, Some("[m]"), None), Ok("33".to_string()));
        assert_eq!(fd(1521801216617, Some("[m,1-3]"), None), Ok("33".to_string()));
        assert_eq!(fd(1521801216617, Some("[m,3-3]"), None), Ok("033".to_string()));
        assert_eq!(fd(1521801216617, Some("[s]"), None), Ok("36".to_string()));
        assert_eq!(fd(1521801216617, Some("[s,1-3]"), None), Ok("36".to_string()));
        assert_eq!(fd(1521801216617, Some("[s01o]"), None), Ok("36th".to_string()));
        assert_eq!(fd(1521801216617, Some("[Hw]"), None), Ok("ten".to_string()));
    }

    #[test]
    fn format_datetime_fractional_seconds() {
        assert_eq!(fd(1521801216617, Some("[f]"), None), Ok("617".to_string()));
        assert_eq!(fd(1521801216617, Some("[f1]"), None), Ok("617".to_string()));
        assert_eq!(fd(1521801216617, Some("[f01]"), None), Ok("617".to_string()));
        assert_eq!(fd(1521801216617, Some("[f001]"), None), Ok("617".to_string()));
        assert_eq!(fd(1521801216617, Some("[f0001]"), None), Ok("0617".to_string()));
        assert_eq!(fd(1521801216617, Some("[f,2-2]"), None), Ok("617".to_string()));
        assert_eq!(fd(1521801216617, Some("[f,3-4]"), None), Ok("617".to_string()));
        assert_eq!(fd(1521801216617, Some("[f,4-4]"), None), Ok("0617".to_string()));
        assert_eq!(fd(1521801216005, Some("[f]"), None), Ok("5".to_string()));
        assert_eq!(fd(1521801216005, Some("[f01]"), None), Ok("05".to_string()));
        assert_eq!(fd(1521801216005, Some("[f001]"), None), Ok("005".to_string()));
        assert_eq!(fd(1521801216050, Some("[f]"), None), Ok("50".to_string()));
        assert_eq!(fd(1521801216050, Some("[f,1-1]"), None), Ok("50".to_string()));
        assert_eq!(fd(1521801216050, Some("[f,2-3]"), None), Ok("50".to_string()));
        assert_eq!(fd(1521801216050, Some("[f01,3-3]"), None), Ok("050".to_string()));
        assert_eq!(fd(1521801216050, Some("[fw]"), None), Ok("fifty".to_string()));
        assert_eq!(fd(1521801216617, Some("[f#01]"), None), Ok("617".to_string()));
    }

    #[test]
    fn format_datetime_iso_weeks() {
        assert_eq!(fd(1521801216617, Some("[W]"), None), Ok("12".to_string()));
        assert_eq!(fd(1521801216617, Some("[w]"), None), Ok("4".to_string()));
        assert_eq!(fd(1521801216617, Some("[X]"), None), Ok("2018".to_string()));
        assert_eq!(fd(1521801216617, Some("[x]"), None), Ok("3".to_string()));
        assert_eq!(fd(1521801216617, Some("[X0001]-W[W01]-[F1]"), None), Ok("2018-W12-5".to_string()));
        assert_eq!(fd(1521801216617, Some("[W,1-3]"), None), Ok("12".to_string()));
        assert_eq!(fd(1514764800000, Some("[W] [X] [x] [w] [F1] [d]"), None), Ok("1 2018 1 1 1 1".to_string()));
        assert_eq!(fd(1514678400000, Some("[W] [X] [x] [w] [F1] [d]"), None), Ok("52 2017 12 4 7 365".to_string()));
        assert_eq!(fd(1609459200000, Some("[W] [X] [x] [w] [F1] [d]"), None), Ok("53 2020 12 5 5 1".to_string()));
        assert_eq!(fd(1609372800000, Some("[W] [X] [x] [w] [F1]"), None), Ok("53 2020 12 5 4".to_string()));
        assert_eq!(fd(1577836800000, Some("[W] [X] [x] [w] [F1]"), None), Ok("1 2020 1 1 3".to_string()));
        assert_eq!(
            fd(1575158400000, Some("[W] [X] [x] [w] [F1] [D] [M]"), None),
            Ok("48 2019 11 4 7 1 12".to_string())
        );
        assert_eq!(fd(1577750400000, Some("[W] [X] [x] [w] [F1] [D] [M]"), None), Ok("1 2020 1 1 2 31 12".to_string()));
        assert_eq!(
            fd(1541030400000, Some("[W] [X] [x] [w] [F1] [D] [M]"), None),
            Ok("44 2018 11 1 4 1 11".to_string())
        );
        assert_eq!(
            fd(1543536000000, Some("[W] [X] [x] [w] [F1] [D] [M]"), None),
            Ok("48 2018 11 5 5 30 11".to_string())
        );
        assert_eq!(fd(1519862400000, Some("[w] [x] [D] [M]"), None), Ok("1 3 1 3".to_string()));
        assert_eq!(fd(1230768000000, Some("[X]-W[W01]-[F1]"), None), Ok("2009-W01-4".to_string()));
        assert_eq!(fd(1262217600000, Some("[X]-W[W01]-[F1]"), None), Ok("2009-W53-4".to_string()));
    }

    #[test]
    fn format_datetime_timezones() {
        assert_eq!(fd(1521801216617, Some("[Z]"), None), Ok("+00:00".to_string()));
        assert_eq!(fd(1521801216617, Some("[z]"), None), Ok("GMT+00:00".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z]"), Some("-0500")), Ok("-05:00".to_string()));
        assert_eq!(fd(1521801216617, Some("[z]"), Some("-0500")), Ok("GMT-05:00".to_string()));
        assert_eq!(fd(1521801216617, Some("[z]"), Some("+0530")), Ok("GMT+05:30".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z01:01]"), Some("+0530")), Ok("+05:30".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z0101]"), Some("+0530")), Ok("+0530".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z01]"), Some("+0530")), Ok("+05:30".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z01]"), Some("+0500")), Ok("+05".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z1]"), Some("+0530")), Ok("+5:30".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z1]"), Some("+0500")), Ok("+5".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z0]"), Some("+0500")), Ok("+5".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z001]"), Some("+0530")), Ok("+530".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z001]"), Some("+1030")), Ok("+1030".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z01:01t]"), None), Ok("Z".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z0t]"), Some("+0000")), Ok("Z".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z01t]"), Some("+0500")), Ok("+05".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z]"), Some("+0000")), Ok("+00:00".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z]"), Some("-0030")), Ok("-01:30".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z]"), Some("-0530")), Ok("-06:30".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z]"), Some("0530")), Ok("+05:30".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z]"), Some("+05:30")), Ok("+00:05".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z]"), Some("1")), Ok("+00:01".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z]"), Some("12345")), Ok("+1:23:45".to_string()));
        assert_eq!(fd(1521801216617, Some("[Z]"), Some("+9999")), Ok("+99:99".to_string()));
        assert_eq!(fd(1521801216617, Some("[H]:[m]"), Some("+0530")), Ok("16:03".to_string()));
        assert_eq!(fd(1521801216617, Some("[H]"), Some("+1400")), Ok("0".to_string()));
        assert_eq!(fd(1521801216617, Some("[H]"), Some("-2359")), Ok("9".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y]"), Some("+99999999")), Ok("2132".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y0001]-[M01]-[D01]"), Some("+0000xyz")), Ok("2018-03-23".to_string()));
    }

    #[test]
    fn format_datetime_calendar_and_literals() {
        assert_eq!(fd(1521801216617, Some("[C]"), None), Ok("ISO".to_string()));
        assert_eq!(fd(1521801216617, Some("[E]"), None), Ok("ISO".to_string()));
        assert_eq!(fd(1521801216617, Some("[Ct]"), None), Ok("ISO".to_string()));
        assert_eq!(fd(1521801216617, Some("[E1]"), None), Ok("ISO".to_string()));
        assert_eq!(fd(1521801216617, Some("[[[Y]]]"), None), Ok("[2018]".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y]]"), None), Ok("2018]".to_string()));
        assert_eq!(fd(1521801216617, Some("Y]"), None), Ok("Y]".to_string()));
        assert_eq!(fd(1521801216617, Some("[Y][M][D]"), None), Ok("2018323".to_string()));
        assert_eq!(fd(1521801216617, Some("Date: [D] of [MNn]"), None), Ok("Date: 23 of March".to_string()));
        assert_eq!(fd(1521801216617, Some("[D]1[M]"), None), Ok("2313".to_string()));
        assert_eq!(fd(1521801216617, Some(""), None), Ok("".to_string()));
        assert_eq!(fd(1521801216617, Some("[D1o] [MNn] [Y]"), None), Ok("23rd March 2018".to_string()));
        assert_eq!(
            fd(1521801216617, Some("[FNn], [D1o] [MNn] [Y] [h]:[m01] [PN]"), None),
            Ok("Friday, 23rd March 2018 10:33 AM".to_string())
        );
        assert_eq!(fd(1521801216617, Some("[FNn,3-3] [MNn,3-3] [D] [Y]"), None), Ok("Fri Mar 23 2018".to_string()));
        assert_eq!(
            fd(1521801216617, Some("[Y]-[M]-[D] [H]:[m]:[s].[f]"), None),
            Ok("2018-3-23 10:33:36.617".to_string())
        );
    }

    #[test]
    fn format_datetime_errors() {
        assert_eq!(fd(1521801216617, Some("[Y"), None), Err("D3135"));
        assert_eq!(fd(1521801216617, Some("[]"), None), Err("D3132"));
        assert_eq!(fd(1521801216617, Some("[Q]"), None), Err("D3132"));
        assert_eq!(fd(1521801216617, Some("[YN]"), None), Err("D3133"));
        assert_eq!(fd(1521801216617, Some("[HN]"), None), Err("D3133"));
        assert_eq!(fd(1521801216617, Some("[Dn]"), None), Err("D3133"));
        assert_eq!(fd(1521801216617, Some("[Yo]"), None), Err("D3130"));
        assert_eq!(fd(1521801216617, Some("[Y#]"), None), Err("D3130"));
        assert_eq!(fd(1521801216617, Some("[Y#,##0]"), None), Err("D3130"));
        assert_eq!(fd(1521801216617, Some("[f#]"), None), Err("D3130"));
        assert_eq!(fd(1521801216617, Some("[YMD]"), None), Err("D3130"));
        assert_eq!(fd(1521801216617, Some("[ZZ]"), Some("+0500")), Err("D3134"));
        assert_eq!(fd(1521801216617, Some("[Zt]"), None), Err("D3134"));
        assert_eq!(fd(1521801216617, Some("[ZN]"), None), Err("D3134"));
        assert_eq!(fd(1521801216617, Some("[Z00000]"), None), Err("D3134"));
        assert_eq!(fd(1521801216617, Some("[M١0]"), None), Err("D3131"));
    }

    /// Not jsonata-js (which fails with "Invalid array length" or prints NaN fields): widths
    /// and instants beyond what can be written are refused.
    #[test]
    fn format_datetime_bounds() {
        assert_eq!(fd(0, Some("[Y,9999999999]"), None), Err("D1001"));
        assert_eq!(fd(0, Some("[Y,1001]"), None), Err("D1001"));
        assert_eq!(fd(0, Some("[M,1000]"), None).map(|s| s.len()), Ok(1000));
        assert_eq!(fd(i64::MAX, None, None), Err("D1001"));
        assert_eq!(fd(i64::MIN, None, None), Err("D1001"));
        assert_eq!(fd(0, None, Some("+999999999")), Err("D1001"));
        assert_eq!(fd(0, Some("[Y]"), Some("abc")), Ok("1970".to_string()));
    }

    /// Pictures are user data: odd ones give an error or a string, never a panic.
    #[test]
    fn odd_pictures_do_not_panic() {
        let odd = [
            "[", "]", "[[", "]]", "[,]", "[Y,-]", "[Y,*-*]", "[Z,]", "[Zt,3]", "[Y🙂]", "[🙂]", "[P,2-1]", "[F١]",
            "[x;o]",
        ];
        for p in odd {
            for ms in [0, -1, 8_210_266_876_799_999, -8_334_632_851_200_000] {
                let _ = format_datetime(ms, Some(p), Some("-2359"));
            }
        }
        assert_eq!(fd(0, Some("[Y,2-]"), None), Ok("70".to_string()));
    }
}
