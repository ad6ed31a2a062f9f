//! Number pictures: XPath F&O 3.1 `fn:format-integer` (JSONata's `$formatInteger` and its
//! inverse `$parseInteger`) and `fn:format-number` (`$formatNumber`), as jsonata-js 2.0.6
//! implements them.
//!
//! An integer picture is analysed once into an [`IntegerPicture`] so that the date/time
//! pictures can format their numeric components with the same code.

use super::{err, JsonataError};

/// The zero digit of every Unicode decimal digit family (general category Nd) we recognise.
const ZEROS: &[u32] = &[
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0,
    0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
    0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0,
    0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x16A60, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC,
    0x1D7F6, 0x1E950,
];

/// The zero of `c`'s decimal digit family, if `c` is a decimal digit.
pub(crate) fn digit_family(c: char) -> Option<u32> {
    let cp = c as u32;
    ZEROS.iter().copied().find(|&z| cp >= z && cp <= z + 9)
}

/// The digit `d` (0..=9) of the family whose zero is `zero`.
pub(crate) fn family_digit(zero: u32, d: u32) -> char {
    char::from_u32(zero + d).unwrap_or('?')
}

/// Roman numerals above this are refused: their text grows linearly with the value.
const ROMAN_MAX: f64 = 1_000_000.0;

/// How `w`, `W` and `Ww` write words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    Lower,
    Upper,
    Title,
}

/// The primary format token of an integer picture.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Primary {
    /// Decimal digits: the family's zero, the count of mandatory digits, and the grouping
    /// separators as (digits to their right, separator).
    Decimal { zero: u32, mandatory: usize, separators: Vec<(usize, char)> },
    /// `a` / `A`: a, b, …, z, aa, ab, …
    Letters { upper: bool },
    /// `i` / `I`
    Roman { upper: bool },
    /// `w`, `W`, `Ww`
    Words(Case),
}

/// An analysed `fn:format-integer` picture.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IntegerPicture {
    pub(crate) primary: Primary,
    pub(crate) ordinal: bool,
}

fn unsupported(primary: &str) -> JsonataError {
    err(
        "D3130",
        format!("Formatting or parsing an integer as a sequence starting with \"{primary}\" is not supported by this implementation"),
    )
}

impl IntegerPicture {
    /// Analyse a picture: a primary format token, optionally followed by `;` and a format
    /// modifier whose `o` asks for ordinals (`c`, `t` and any `(…)` suffix are accepted and
    /// change nothing, as in jsonata-js).
    pub(crate) fn parse(picture: &str) -> Result<IntegerPicture, JsonataError> {
        let (primary, modifier) = match picture.rfind(';') {
            Some(i) => (&picture[..i], &picture[i + 1..]),
            None => (picture, ""),
        };
        let ordinal = modifier.starts_with('o');
        let primary = match primary {
            "A" => Primary::Letters { upper: true },
            "a" => Primary::Letters { upper: false },
            "I" => Primary::Roman { upper: true },
            "i" => Primary::Roman { upper: false },
            "W" => Primary::Words(Case::Upper),
            "w" => Primary::Words(Case::Lower),
            "Ww" => Primary::Words(Case::Title),
            _ => Self::decimal(primary)?,
        };
        Ok(IntegerPicture { primary, ordinal })
    }

    /// A decimal digit pattern: digits of one family, `#` for optional digits, and any other
    /// character as a grouping separator.
    fn decimal(primary: &str) -> Result<Primary, JsonataError> {
        let mut zero = None;
        let mut mandatory = 0;
        let mut digits = 0; // digits and `#` seen so far, from the left
        let mut seps = Vec::new(); // (digits to their left, separator)
        for c in primary.chars() {
            if let Some(z) = digit_family(c) {
                if zero.is_some_and(|known| known != z) {
                    return Err(err(
                        "D3131",
                        "In a decimal digit pattern, all digits must be from the same decimal group",
                    ));
                }
                zero = Some(z);
                mandatory += 1;
                digits += 1;
            } else if c == '#' {
                digits += 1;
            } else {
                seps.push((digits, c));
            }
        }
        let Some(zero) = zero else {
            return Err(unsupported(primary));
        };
        let separators = seps.into_iter().map(|(left, c)| (digits - left, c)).collect();
        Ok(Primary::Decimal { zero, mandatory, separators })
    }

    /// Format `value` (rounded down to an integer, as jsonata-js does).
    pub(crate) fn format(&self, value: f64) -> Result<String, JsonataError> {
        // JSON has no NaN or infinity; refusing them here keeps words and letters finite.
        if !value.is_finite() {
            return Err(err("D1001", format!("Number out of range: {value}")));
        }
        let n = value.floor();
        let (sign, n) = if n < 0.0 { ("-", -n) } else { ("", n) };
        let body = match &self.primary {
            Primary::Decimal { zero, mandatory, separators } => {
                let mut s = group_digits(&pad_digits(&js_integer_string(n), *mandatory, *zero), separators);
                if self.ordinal {
                    s.push_str(ordinal_suffix(&s, *zero));
                }
                s
            }
            Primary::Letters { upper } => letters(n, *upper),
            Primary::Roman { upper } => {
                if n > ROMAN_MAX {
                    return Err(err("D1001", format!("Number out of range: {value}")));
                }
                roman(n as u64, *upper)
            }
            Primary::Words(case) => apply_case(&words(n, self.ordinal), *case),
        };
        Ok(if sign.is_empty() { body } else { format!("{sign}{body}") })
    }

    /// Read an integer written with this picture, leniently as jsonata-js does: `None` when
    /// the text does not hold one.
    pub(crate) fn parse_value(&self, text: &str) -> Option<f64> {
        match &self.primary {
            Primary::Decimal { zero, separators, .. } => {
                // As jsonata-js reads them: with regular grouping only commas are dropped,
                // with irregular grouping every separator the picture uses; without
                // grouping nothing is, and reading stops at the first non-digit.
                let dropped: Vec<char> = match grouping(separators) {
                    Grouping::None => Vec::new(),
                    Grouping::Regular(_) => vec![','],
                    Grouping::Irregular => separators.iter().map(|s| s.1).collect(),
                };
                let mut digits: Vec<char> = text
                    .chars()
                    .filter(|c| !dropped.contains(c))
                    .map(|c| match digit_family(c) {
                        Some(z) if z == *zero => family_digit(0x30, c as u32 - z),
                        _ => c,
                    })
                    .collect();
                if self.ordinal {
                    // The ordinal suffix is two letters in English.
                    digits.truncate(digits.len().saturating_sub(2));
                }
                js_parse_int(&digits)
            }
            Primary::Letters { upper } => {
                let base = if *upper { 'A' } else { 'a' } as i64;
                Some(text.chars().fold(0.0, |acc, c| acc * 26.0 + (c as i64 - base + 1) as f64))
            }
            Primary::Roman { upper } => parse_roman(text, *upper),
            Primary::Words(_) => parse_words(text),
        }
    }
}

/// `fn:format-integer`: `$formatInteger(value, picture)`.
pub fn format_integer(value: f64, picture: &str) -> Result<String, JsonataError> {
    IntegerPicture::parse(picture)?.format(value)
}

/// `$parseInteger(text, picture)`: `Ok(None)` when `text` does not hold an integer.
pub fn parse_integer(text: &str, picture: &str) -> Result<Option<f64>, JsonataError> {
    Ok(IntegerPicture::parse(picture)?.parse_value(text))
}

/// The decimal digits of a non-negative integral `n` as JavaScript's `String(n)` writes them
/// (exponent notation from 1e21 on).
fn js_integer_string(n: f64) -> String {
    // Integers below 2^53 are exact: writing them as integers is cheaper than as floats.
    if n < 9_007_199_254_740_992.0 {
        (n as u64).to_string()
    } else if n < 1e21 {
        format!("{n}")
    } else {
        let s = format!("{n:e}");
        s.replacen('e', "e+", 1)
    }
}

/// Left-pad with zeros to `width` digits, then map ASCII digits into the family of `zero`.
pub(crate) fn pad_digits(ascii: &str, width: usize, zero: u32) -> String {
    let len = ascii.chars().count();
    let mut out = String::with_capacity(width.max(len));
    for _ in len..width {
        out.push(family_digit(zero, 0));
    }
    for c in ascii.chars() {
        out.push(match c.to_digit(10) {
            Some(d) => family_digit(zero, d),
            None => c,
        });
    }
    out
}

/// How a decimal picture groups its digits.
enum Grouping {
    None,
    /// One separator character every this many digits.
    Regular(usize),
    /// Separators exactly where the picture puts them.
    Irregular,
}

/// Regular grouping: one separator character, at G, 2G, 3G, … digits from the right.
fn grouping(separators: &[(usize, char)]) -> Grouping {
    if separators.is_empty() {
        return Grouping::None;
    }
    let mut positions: Vec<usize> = separators.iter().map(|s| s.0).collect();
    positions.sort_unstable();
    let g = positions[0];
    let regular = g > 0
        && separators.iter().all(|s| s.1 == separators[0].1)
        && positions.iter().enumerate().all(|(i, &p)| p == g * (i + 1));
    if regular {
        Grouping::Regular(g)
    } else {
        Grouping::Irregular
    }
}

/// Insert grouping separators given as (digits to their right, separator): every `G` digits
/// when the grouping is regular (one separator character at G, 2G, 3G, …), else exactly where
/// the picture put them.
pub(crate) fn group_digits(digits: &str, separators: &[(usize, char)]) -> String {
    if separators.is_empty() {
        return digits.to_string();
    }
    let (regular, g) = match grouping(separators) {
        Grouping::Regular(g) => (true, g),
        _ => (false, 0),
    };
    let chars: Vec<char> = digits.chars().collect();
    let len = chars.len();
    let mut out = String::with_capacity(digits.len() * 2);
    if !regular {
        // Separators as far left as the digits go still come first, in picture order.
        out.extend(separators.iter().filter(|s| s.0 == len).map(|s| s.1));
    }
    for (i, c) in chars.iter().enumerate() {
        out.push(*c);
        let right = len - i - 1;
        if regular {
            if right > 0 && right % g == 0 {
                out.push(separators[0].1);
            }
        } else {
            out.extend(separators.iter().filter(|s| s.0 == right).map(|s| s.1));
        }
    }
    out
}

/// The English ordinal suffix for digits as written (separators included): jsonata-js looks
/// at the last two characters, so "1,000,001" is "…1st" but "12," is "12,th".
fn ordinal_suffix(written: &str, zero: u32) -> &'static str {
    let digit = |c: Option<char>| c.and_then(|c| (c as u32).checked_sub(zero)).filter(|d| *d <= 9);
    let mut rev = written.chars().rev();
    let (last, before) = (digit(rev.next()), digit(rev.next()));
    if before == Some(1) {
        return "th";
    }
    match last {
        Some(1) => "st",
        Some(2) => "nd",
        Some(3) => "rd",
        _ => "th",
    }
}

/// Bijective base 26: 1 → a, 26 → z, 27 → aa; 0 is empty.
fn letters(mut n: f64, upper: bool) -> String {
    let base = if upper { b'A' } else { b'a' };
    let mut out = Vec::new();
    while n >= 1.0 {
        n -= 1.0;
        out.push(base + (n % 26.0) as u8);
        n = (n / 26.0).floor();
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

const ROMAN: &[(u64, &str)] = &[
    (1000, "m"),
    (900, "cm"),
    (500, "d"),
    (400, "cd"),
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
];

fn roman(mut n: u64, upper: bool) -> String {
    let mut out = String::new();
    for &(v, s) in ROMAN {
        while n >= v {
            out.push_str(s);
            n -= v;
        }
    }
    if upper {
        out.make_ascii_uppercase();
    }
    out
}

/// Roman numerals read right to left: a numeral below the largest seen so far subtracts.
/// Jsonata-js reads `IIII` as 4 and `IM` as 999; the case must match the picture's.
fn parse_roman(text: &str, upper: bool) -> Option<f64> {
    let mut total = 0i64;
    let mut max = 0i64;
    for c in text.chars().rev() {
        let lower = if upper {
            if !c.is_ascii_uppercase() {
                return None;
            }
            c.to_ascii_lowercase()
        } else {
            c
        };
        let v = match lower {
            'i' => 1,
            'v' => 5,
            'x' => 10,
            'l' => 50,
            'c' => 100,
            'd' => 500,
            'm' => 1000,
            _ => return None,
        };
        if v < max {
            total -= v;
        } else {
            total += v;
            max = v;
        }
    }
    Some(total as f64)
}

const SMALL: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
const SMALL_ORDINAL: [&str; 20] = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
];
const TENS_ORDINAL: [&str; 10] =
    ["", "", "twentieth", "thirtieth", "fortieth", "fiftieth", "sixtieth", "seventieth", "eightieth", "ninetieth"];
/// Powers named in words; larger numbers repeat "trillion" ("one thousand trillion").
const MAGNITUDES: [(f64, &str, &str); 5] = [
    (1e12, "trillion", "trillionth"),
    (1e9, "billion", "billionth"),
    (1e6, "million", "millionth"),
    (1e3, "thousand", "thousandth"),
    (100.0, "hundred", "hundredth"),
];

/// English words for a non-negative integer, as jsonata-js writes them: "one thousand, two
/// hundred and thirty-four"; with `ordinal` the last word becomes ordinal ("twenty-first").
fn words(n: f64, ordinal: bool) -> String {
    if n < 20.0 {
        let i = n as usize;
        return (if ordinal { SMALL_ORDINAL[i] } else { SMALL[i] }).to_string();
    }
    if n < 100.0 {
        let (t, u) = ((n / 10.0) as usize, n as usize % 10);
        if u == 0 {
            return (if ordinal { TENS_ORDINAL[t] } else { TENS[t] }).to_string();
        }
        return format!("{}-{}", TENS[t], words(u as f64, ordinal));
    }
    let &(mag, name, name_ordinal) = MAGNITUDES.iter().find(|m| n >= m.0).unwrap_or(&MAGNITUDES[4]);
    let mult = (n / mag).floor();
    let rem = n - mult * mag;
    let head = words(mult, false);
    if rem <= 0.0 {
        return format!("{head} {}", if ordinal { name_ordinal } else { name });
    }
    let joiner = if rem < 100.0 { " and " } else { ", " };
    format!("{head} {name}{joiner}{}", words(rem, ordinal))
}

/// Upper case, or title case with "and" left lower case ("One Hundred and Twenty-Three").
fn apply_case(s: &str, case: Case) -> String {
    match case {
        Case::Lower => s.to_string(),
        Case::Upper => s.to_uppercase(),
        Case::Title => s
            .split(' ')
            .map(|w| {
                if w == "and" {
                    return w.to_string();
                }
                let mut out = String::with_capacity(w.len());
                let mut start = true;
                for c in w.chars() {
                    out.extend(if start { c.to_uppercase().collect::<Vec<_>>() } else { vec![c] });
                    start = c == '-';
                }
                out
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The value of a number word below one hundred, cardinal or ordinal.
fn small_word(w: &str) -> Option<f64> {
    let find = |table: &[&str]| table.iter().position(|t| *t == w);
    if let Some(i) = find(&SMALL).or_else(|| find(&SMALL_ORDINAL)) {
        return Some(i as f64);
    }
    find(&TENS).or_else(|| find(&TENS_ORDINAL)).filter(|&i| i >= 2).map(|i| (i * 10) as f64)
}

/// Words back to a number: "and" and commas are ignored, case does not matter; a magnitude
/// multiplies everything on its left ("one thousand trillion" is 10^15).
fn parse_words(text: &str) -> Option<f64> {
    let lower = text.to_lowercase().replace(", ", " ");
    let mut tokens = Vec::new();
    for t in lower.split([' ', '-']) {
        if t.is_empty() {
            return None;
        }
        if t != "and" {
            tokens.push(t);
        }
    }
    if tokens.is_empty() {
        return None;
    }
    words_value(&tokens, 0)
}

fn words_value(tokens: &[&str], level: usize) -> Option<f64> {
    let Some(&(mag, name, name_ordinal)) = MAGNITUDES.get(level) else {
        return tokens.iter().try_fold(0.0, |acc, t| Some(acc + small_word(t)?));
    };
    let mut segments = tokens.split(|t| *t == name || *t == name_ordinal);
    let mut acc = words_value(segments.next().unwrap_or(&[]), level + 1)?;
    for seg in segments {
        acc = acc * mag + words_value(seg, level + 1)?;
    }
    Some(acc)
}

/// JavaScript's `parseInt(s, 10)`: leading white space, a sign, then ASCII digits.
pub(crate) fn js_parse_int(chars: &[char]) -> Option<f64> {
    let mut i = 0;
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    let negative = match chars.get(i) {
        Some('-') => {
            i += 1;
            true
        }
        Some('+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits: String = chars[i..].iter().take_while(|c| c.is_ascii_digit()).collect();
    let v: f64 = digits.parse().ok()?;
    Some(if negative { -v } else { v })
}

/// The decimal-format properties `$formatNumber`'s options object may set. Each is a string;
/// a property that is not one character never matches a picture character (so the picture
/// character it would have replaced becomes passive text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecimalFormat {
    pub decimal_separator: String,
    pub grouping_separator: String,
    pub exponent_separator: String,
    pub infinity: String,
    pub nan: String,
    pub minus_sign: String,
    pub percent: String,
    pub per_mille: String,
    pub zero_digit: String,
    pub digit: String,
    pub pattern_separator: String,
}

impl Default for DecimalFormat {
    fn default() -> Self {
        DecimalFormat {
            decimal_separator: ".".into(),
            grouping_separator: ",".into(),
            exponent_separator: "e".into(),
            infinity: "Infinity".into(),
            nan: "NaN".into(),
            minus_sign: "-".into(),
            percent: "%".into(),
            per_mille: "\u{2030}".into(),
            zero_digit: "0".into(),
            digit: "#".into(),
            pattern_separator: ";".into(),
        }
    }
}

impl DecimalFormat {
    /// Set a property by its XPath name (`decimal-separator`, `NaN`, …). Unknown names are
    /// ignored, as jsonata-js ignores them.
    pub fn set(&mut self, name: &str, value: &str) {
        let slot = match name {
            "decimal-separator" => &mut self.decimal_separator,
            "grouping-separator" => &mut self.grouping_separator,
            "exponent-separator" => &mut self.exponent_separator,
            "infinity" => &mut self.infinity,
            "NaN" => &mut self.nan,
            "minus-sign" => &mut self.minus_sign,
            "percent" => &mut self.percent,
            "per-mille" => &mut self.per_mille,
            "zero-digit" => &mut self.zero_digit,
            "digit" => &mut self.digit,
            "pattern-separator" => &mut self.pattern_separator,
            _ => return,
        };
        *slot = value.to_string();
    }

    fn zero(&self) -> u32 {
        self.zero_digit.chars().next().and_then(digit_family).unwrap_or(0x30)
    }
}

/// Whether the one-character property `p` is `c`.
fn is(p: &str, c: char) -> bool {
    let mut it = p.chars();
    it.next() == Some(c) && it.next().is_none()
}

/// One analysed sub-picture of a `fn:format-number` picture (XPath F&O 3.1 §4.7.4).
#[derive(Debug, Default)]
struct SubPicture {
    prefix: String,
    suffix: String,
    /// Grouping separators of the integer part, as digits to their right.
    integer_groups: Vec<usize>,
    /// Grouping separators of the fractional part, as digits to their left.
    fraction_groups: Vec<usize>,
    min_integer: usize,
    scaling: usize,
    min_fraction: usize,
    max_fraction: usize,
    /// Digits of the exponent when the sub-picture has one.
    exponent: Option<usize>,
    percent: bool,
    per_mille: bool,
}

fn sub_error(code: &'static str) -> JsonataError {
    let message = match code {
        "D3081" => "The sub-picture must not contain more than one instance of the 'decimal-separator' character",
        "D3082" => "The sub-picture must not contain more than one instance of the 'percent' character",
        "D3083" => "The sub-picture must not contain more than one instance of the 'per-mille' character",
        "D3084" => "The sub-picture must not contain both a 'percent' and a 'per-mille' character",
        "D3085" => "The mantissa part of a sub-picture must contain at least one character that is either an 'optional digit character' or a member of the 'decimal digit family'",
        "D3086" => "The sub-picture must not contain a passive character that is preceded by an active character and that is followed by another active character",
        "D3087" => "The sub-picture must not contain a 'grouping-separator' character that appears adjacent to a 'decimal-separator' character",
        "D3088" => "The sub-picture must not contain a 'grouping-separator' at the end of the integer part",
        "D3089" => "The sub-picture must not contain two adjacent instances of the 'grouping-separator' character",
        "D3090" => "The integer part of the sub-picture must not contain a member of the 'decimal digit family' that is followed by an instance of the 'optional digit character'",
        "D3091" => "The fractional part of the sub-picture must not contain an instance of the 'optional digit character' that is followed by a member of the 'decimal digit family'",
        "D3092" => "A sub-picture that contains a 'percent' or 'per-mille' character must not contain a character treated as an 'exponent-separator'",
        _ => "The exponent part of the sub-picture must comprise only of one or more characters that are members of the 'decimal digit family'",
    };
    err(code, message)
}

impl SubPicture {
    fn parse(pic: &[char], f: &DecimalFormat) -> Result<SubPicture, JsonataError> {
        let zero = f.zero();
        let is_digit = |c: char| (c as u32) >= zero && (c as u32) <= zero + 9;
        let is_optional = |c: char| is(&f.digit, c);
        let is_decimal = |c: char| is(&f.decimal_separator, c);
        let is_group = |c: char| is(&f.grouping_separator, c);
        let is_exp = |c: char| is(&f.exponent_separator, c);
        let mantissa_active = |c: char| is_digit(c) || is_optional(c) || is_decimal(c) || is_group(c);
        // The exponent separator is active only after an active character.
        let active: Vec<bool> = (0..pic.len())
            .map(|i| mantissa_active(pic[i]) || (is_exp(pic[i]) && i > 0 && mantissa_active(pic[i - 1])))
            .collect();
        // Every rule is checked and the highest code broken is reported, as jsonata-js does.
        let mut broken: Vec<&'static str> = Vec::new();
        let count = |p: &dyn Fn(char) -> bool| pic.iter().filter(|&&c| p(c)).count();
        if count(&is_decimal) > 1 {
            broken.push("D3081");
        }
        let percents = count(&|c| is(&f.percent, c));
        let per_milles = count(&|c| is(&f.per_mille, c));
        if percents > 1 {
            broken.push("D3082");
        }
        if per_milles > 1 {
            broken.push("D3083");
        }
        if percents > 0 && per_milles > 0 {
            broken.push("D3084");
        }
        let first = active.iter().position(|&a| a);
        let last = active.iter().rposition(|&a| a);
        let (Some(first), Some(last)) = (first, last) else {
            broken.push("D3085");
            return Err(sub_error(broken.into_iter().max().unwrap_or("D3085")));
        };
        let body = &pic[first..=last];
        if (first..=last).any(|i| !active[i]) {
            broken.push("D3086");
        }
        let exp_at = (first..=last).find(|&i| is_exp(pic[i]) && active[i]).map(|i| i - first);
        let (mantissa, exponent) = match exp_at {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        };
        if let Some(e) = exponent {
            if e.is_empty() || !e.iter().all(|&c| is_digit(c)) {
                broken.push("D3093");
            }
            if percents + per_milles > 0 {
                broken.push("D3092");
            }
        }
        if !mantissa.iter().any(|&c| is_digit(c) || is_optional(c)) {
            broken.push("D3085");
        }
        if mantissa.windows(2).any(|w| is_group(w[0]) && is_group(w[1])) {
            broken.push("D3089");
        }
        let dot = mantissa.iter().position(|&c| is_decimal(c));
        let (integer, fraction) = match dot {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, &mantissa[mantissa.len()..]),
        };
        // A grouping separator next to the (first) decimal separator; without one, at the
        // end of the integer part.
        match dot {
            Some(_) => {
                if integer.last().is_some_and(|&c| is_group(c)) || fraction.first().is_some_and(|&c| is_group(c)) {
                    broken.push("D3087");
                }
            }
            None => {
                if integer.last().is_some_and(|&c| is_group(c)) {
                    broken.push("D3088");
                }
            }
        }
        // As jsonata-js reads these rules: in the integer part, the first optional digit must
        // not follow the first digit; in the fraction, the last digit must not follow the
        // last optional digit.
        let first_digit = integer.iter().position(|&c| is_digit(c));
        let first_optional = integer.iter().position(|&c| is_optional(c));
        if let (Some(d), Some(o)) = (first_digit, first_optional) {
            if o > d {
                broken.push("D3090");
            }
        }
        let last_digit = fraction.iter().rposition(|&c| is_digit(c));
        let last_optional = fraction.iter().rposition(|&c| is_optional(c));
        if let (Some(d), Some(o)) = (last_digit, last_optional) {
            if d > o {
                broken.push("D3091");
            }
        }
        if let Some(code) = broken.into_iter().max() {
            return Err(sub_error(code));
        }

        let is_place = |c: &&char| is_digit(**c) || is_optional(**c);
        let mut integer_groups = Vec::new();
        for (i, &c) in integer.iter().enumerate() {
            if is_group(c) {
                integer_groups.push(integer[i..].iter().filter(is_place).count());
            }
        }
        let mut fraction_groups = Vec::new();
        for (i, &c) in fraction.iter().enumerate() {
            if is_group(c) {
                fraction_groups.push(fraction[..i].iter().filter(is_place).count());
            }
        }
        let mut min_integer = integer.iter().filter(|&&c| is_digit(c)).count();
        let scaling = min_integer;
        let mut min_fraction = fraction.iter().filter(|&&c| is_digit(c)).count();
        let mut max_fraction = fraction.iter().filter(is_place).count();
        if min_integer == 0 && max_fraction == 0 {
            if exponent.is_some() {
                min_fraction = 1;
                max_fraction = 1;
            } else {
                min_integer = 1;
            }
        }
        if exponent.is_some() && min_integer == 0 && integer.iter().any(|&c| is_optional(c)) {
            min_integer = 1;
        }
        if min_integer == 0 && min_fraction == 0 {
            min_fraction = 1;
        }
        Ok(SubPicture {
            prefix: pic[..first].iter().collect(),
            suffix: pic[last + 1..].iter().collect(),
            integer_groups,
            fraction_groups,
            min_integer,
            scaling,
            min_fraction,
            max_fraction,
            exponent: exponent.map(<[char]>::len),
            percent: percents > 0,
            per_mille: per_milles > 0,
        })
    }
}

/// The shortest decimal digits that read back as `v` (non-negative, finite), with the
/// position of the decimal point: `v = 0.d₁d₂… × 10^point`. Zero has no digits.
fn shortest_digits(v: f64) -> (Vec<u8>, i64) {
    if v == 0.0 {
        return (Vec::new(), 0);
    }
    let s = format!("{v:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
    (digits, exp.parse::<i64>().unwrap_or(0) + 1)
}

/// Round `digits × 10^point` to `places` fractional digits, half to even on the decimal
/// digits (so 0.125 → 0.12 and 0.135 → 0.14, as jsonata-js rounds).
fn round_half_even(digits: &mut Vec<u8>, point: &mut i64, places: usize) {
    let keep = *point + places as i64;
    if keep < 0 {
        digits.clear();
        return;
    }
    let keep = keep as usize;
    if keep >= digits.len() {
        return;
    }
    let next = digits[keep];
    let beyond = digits[keep + 1..].iter().any(|&d| d != 0);
    let last_odd = keep > 0 && digits[keep - 1] % 2 == 1;
    let up = next > 5 || (next == 5 && (beyond || last_odd));
    digits.truncate(keep);
    if up {
        let mut i = keep;
        loop {
            if i == 0 {
                digits.insert(0, 1);
                *point += 1;
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
}

/// `fn:format-number`: `$formatNumber(value, picture, options)`.
pub fn format_number(value: f64, picture: &str, format: &DecimalFormat) -> Result<String, JsonataError> {
    let chars: Vec<char> = picture.chars().collect();
    let parts: Vec<&[char]> = chars.split(|&c| is(&format.pattern_separator, c)).collect();
    if parts.len() > 2 {
        return Err(err("D3080", "The picture string must only contain a maximum of two sub-pictures"));
    }
    let positive = SubPicture::parse(parts[0], format)?;
    let negative = match parts.get(1) {
        Some(p) => Some(SubPicture::parse(p, format)?),
        None => None,
    };
    let is_negative = value < 0.0;
    let (pic, minus) = match (&negative, is_negative) {
        (Some(n), true) => (n, ""),
        (None, true) => (&positive, format.minus_sign.as_str()),
        _ => (&positive, ""),
    };
    let prefix = format!("{minus}{}", pic.prefix);
    if value.is_nan() {
        return Ok(format!("{prefix}{}{}", format.nan, pic.suffix));
    }
    if value.is_infinite() {
        return Ok(format!("{prefix}{}{}", format.infinity, pic.suffix));
    }
    let mut v = value.abs();
    if pic.percent {
        v *= 100.0;
    } else if pic.per_mille {
        v *= 1000.0;
    }
    if v.is_infinite() {
        return Ok(format!("{prefix}{}{}", format.infinity, pic.suffix));
    }
    let (mut digits, mut point) = shortest_digits(v);
    let mut exponent = 0i64;
    if pic.exponent.is_some() && !digits.is_empty() {
        // Shift the point so that `scaling` digits precede it; jsonata-js does not
        // renormalise after rounding (99999 with 0.0e0 is 10.0e4).
        exponent = point - pic.scaling as i64;
        point = pic.scaling as i64;
    }
    round_half_even(&mut digits, &mut point, pic.max_fraction);
    let zero = format.zero();
    let digit = |d: u8| family_digit(zero, d as u32);

    // Integer digits, without leading zeros, then padded to the minimum size.
    let mut integer: Vec<u8> =
        (0..point.max(0) as usize).map(|i| digits.get(i).copied().unwrap_or(0)).skip_while(|&d| d == 0).collect();
    if integer.len() < pic.min_integer {
        let mut padded = vec![0; pic.min_integer - integer.len()];
        padded.extend(integer);
        integer = padded;
    }
    // Fraction digits, without trailing zeros beyond the minimum size.
    let mut fraction: Vec<u8> = Vec::new();
    let lead = (-point).max(0) as usize;
    fraction.extend(std::iter::repeat_n(0, lead.min(pic.max_fraction)));
    let from = point.max(0) as usize;
    fraction.extend(digits.iter().skip(from).copied());
    fraction.truncate(pic.max_fraction);
    while fraction.len() > pic.min_fraction && fraction.last() == Some(&0) {
        fraction.pop();
    }
    while fraction.len() < pic.min_fraction {
        fraction.push(0);
    }

    let integer_text: String = integer.iter().map(|&d| digit(d)).collect();
    let group = format.grouping_separator.chars().next().unwrap_or(',');
    let separators: Vec<(usize, char)> = pic.integer_groups.iter().map(|&p| (p, group)).collect();
    let mut out = prefix;
    out.push_str(&group_digits(&integer_text, &separators));
    if !fraction.is_empty() {
        out.push_str(&format.decimal_separator);
        for (i, &d) in fraction.iter().enumerate() {
            out.push(digit(d));
            if pic.fraction_groups.contains(&(i + 1)) {
                out.push_str(&format.grouping_separator);
            }
        }
    }
    if let Some(width) = pic.exponent {
        out.push_str(&format.exponent_separator);
        if exponent < 0 {
            out.push_str(&format.minus_sign);
        }
        out.push_str(&pad_digits(&exponent.unsigned_abs().to_string(), width, zero));
    }
    out.push_str(&pic.suffix);
    Ok(out)
}

#[cfg(test)]
mod tests {
    //! Expected values were produced by jsonata-js 2.0.6 for the same arguments.
    use super::*;

    fn fi(v: f64, picture: &str) -> Result<String, &'static str> {
        format_integer(v, picture).map_err(|e| e.code)
    }

    fn pi(text: &str, picture: &str) -> Result<Option<f64>, &'static str> {
        parse_integer(text, picture).map_err(|e| e.code)
    }

    fn fnum(v: f64, picture: &str, options: &str) -> Result<String, &'static str> {
        let mut format = DecimalFormat::default();
        let options: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(options).expect("options are a JSON object");
        for (k, v) in &options {
            format.set(k, v.as_str().expect("options are strings"));
        }
        format_number(v, picture, &format).map_err(|e| e.code)
    }

    #[test]
    fn format_integer_decimal() {
        assert_eq!(fi(12.0, "0000"), Ok("0012".to_string()));
        assert_eq!(fi(-12.0, "0000"), Ok("-0012".to_string()));
        assert_eq!(fi(12345.0, "0000"), Ok("12345".to_string()));
        assert_eq!(fi(0.0, "0"), Ok("0".to_string()));
        assert_eq!(fi(7.0, "#0"), Ok("7".to_string()));
        assert_eq!(fi(12.0, "0#"), Ok("12".to_string()));
        assert_eq!(fi(12.7, "0"), Ok("12".to_string()));
        assert_eq!(fi(-12.5, "0"), Ok("-13".to_string()));
        assert_eq!(fi(-0.5, "0"), Ok("-1".to_string()));
        assert_eq!(fi(123456789012345678.0, "0"), Ok("123456789012345680".to_string()));
        assert_eq!(fi(12.0, "01;c"), Ok("12".to_string()));
        assert_eq!(fi(12.0, "0;"), Ok("12".to_string()));
    }

    #[test]
    fn format_integer_grouping() {
        assert_eq!(fi(1234.0, "#,##0"), Ok("1,234".to_string()));
        assert_eq!(fi(1234567.0, "#,##0"), Ok("1,234,567".to_string()));
        assert_eq!(fi(1234567.0, "#,###,##0"), Ok("1,234,567".to_string()));
        assert_eq!(fi(1234567.0, "#,##,##0"), Ok("12,34,567".to_string()));
        assert_eq!(fi(1234567.0, "#:##0"), Ok("1:234:567".to_string()));
        assert_eq!(fi(1234567.0, "0'000"), Ok("1'234'567".to_string()));
        assert_eq!(fi(12345678.0, "00:000:000"), Ok("12:345:678".to_string()));
        assert_eq!(fi(1234567.0, "0,00"), Ok("1,23,45,67".to_string()));
        assert_eq!(fi(123.0, "000,000"), Ok("000,123".to_string()));
        assert_eq!(fi(1234.0, "#,#,#0"), Ok("1,2,34".to_string()));
        assert_eq!(fi(1234.0, "# 0"), Ok("1 2 3 4".to_string()));
        assert_eq!(fi(1234.0, "0-0"), Ok("1-2-3-4".to_string()));
        assert_eq!(fi(12.0, "0,"), Ok("12,".to_string()));
        assert_eq!(fi(12.0, ",0"), Ok("1,2".to_string()));
        assert_eq!(fi(12.0, "0,,0"), Ok("1,,2".to_string()));
        assert_eq!(fi(1234567.0, "#.###,##0"), Ok("1.234,567".to_string()));
        assert_eq!(fi(1234567.0, "# ###,##0"), Ok("1 234,567".to_string()));
        assert_eq!(fi(12.0, "#,##,#0"), Ok("12".to_string()));
    }

    #[test]
    fn format_integer_digit_families() {
        assert_eq!(fi(1234.0, "١"), Ok("١٢٣٤".to_string()));
        assert_eq!(fi(1234.0, "١٠"), Ok("١٢٣٤".to_string()));
        assert_eq!(fi(1234567.0, "#,##٠"), Ok("١,٢٣٤,٥٦٧".to_string()));
        assert_eq!(fi(2024.0, "０"), Ok("２０２４".to_string()));
        assert_eq!(fi(12.0, "0١"), Err("D3131"));
    }

    #[test]
    fn format_integer_ordinal_digits() {
        assert_eq!(fi(1.0, "0;o"), Ok("1st".to_string()));
        assert_eq!(fi(2.0, "0;o"), Ok("2nd".to_string()));
        assert_eq!(fi(3.0, "0;o"), Ok("3rd".to_string()));
        assert_eq!(fi(4.0, "0;o"), Ok("4th".to_string()));
        assert_eq!(fi(11.0, "0;o"), Ok("11th".to_string()));
        assert_eq!(fi(12.0, "0;o"), Ok("12th".to_string()));
        assert_eq!(fi(13.0, "0;o"), Ok("13th".to_string()));
        assert_eq!(fi(21.0, "0;o"), Ok("21st".to_string()));
        assert_eq!(fi(22.0, "0;o"), Ok("22nd".to_string()));
        assert_eq!(fi(23.0, "0;o"), Ok("23rd".to_string()));
        assert_eq!(fi(111.0, "0;o"), Ok("111th".to_string()));
        assert_eq!(fi(112.0, "0;o"), Ok("112th".to_string()));
        assert_eq!(fi(101.0, "0;o"), Ok("101st".to_string()));
        assert_eq!(fi(-1.0, "0;o"), Ok("-1st".to_string()));
        assert_eq!(fi(12.0, "0;o(-en)"), Ok("12th".to_string()));
        assert_eq!(fi(1001.0, "#,##0;o"), Ok("1,001st".to_string()));
    }

    #[test]
    fn format_integer_letters() {
        assert_eq!(fi(1.0, "a"), Ok("a".to_string()));
        assert_eq!(fi(26.0, "a"), Ok("z".to_string()));
        assert_eq!(fi(27.0, "a"), Ok("aa".to_string()));
        assert_eq!(fi(27.0, "A"), Ok("AA".to_string()));
        assert_eq!(fi(702.0, "A"), Ok("ZZ".to_string()));
        assert_eq!(fi(703.0, "A"), Ok("AAA".to_string()));
        assert_eq!(fi(0.0, "A"), Ok("".to_string()));
        assert_eq!(fi(-3.0, "A"), Ok("-C".to_string()));
        assert_eq!(fi(2.0, "a;o"), Ok("b".to_string()));
        assert_eq!(fi(18278.0, "A"), Ok("ZZZ".to_string()));
    }

    #[test]
    fn format_integer_roman() {
        assert_eq!(fi(1999.0, "I"), Ok("MCMXCIX".to_string()));
        assert_eq!(fi(1999.0, "i"), Ok("mcmxcix".to_string()));
        assert_eq!(fi(4.0, "I"), Ok("IV".to_string()));
        assert_eq!(fi(9.0, "I"), Ok("IX".to_string()));
        assert_eq!(fi(14.0, "i"), Ok("xiv".to_string()));
        assert_eq!(fi(40.0, "I"), Ok("XL".to_string()));
        assert_eq!(fi(90.0, "I"), Ok("XC".to_string()));
        assert_eq!(fi(400.0, "I"), Ok("CD".to_string()));
        assert_eq!(fi(2024.0, "I"), Ok("MMXXIV".to_string()));
        assert_eq!(fi(3888.0, "I"), Ok("MMMDCCCLXXXVIII".to_string()));
        assert_eq!(fi(4000.0, "I"), Ok("MMMM".to_string()));
        assert_eq!(fi(0.0, "I"), Ok("".to_string()));
        assert_eq!(fi(-4.0, "I"), Ok("-IV".to_string()));
        assert_eq!(fi(2.0, "I;o"), Ok("II".to_string()));
    }

    #[test]
    fn format_integer_words() {
        assert_eq!(fi(0.0, "w"), Ok("zero".to_string()));
        assert_eq!(fi(1.0, "w"), Ok("one".to_string()));
        assert_eq!(fi(13.0, "w"), Ok("thirteen".to_string()));
        assert_eq!(fi(20.0, "w"), Ok("twenty".to_string()));
        assert_eq!(fi(21.0, "w"), Ok("twenty-one".to_string()));
        assert_eq!(fi(99.0, "w"), Ok("ninety-nine".to_string()));
        assert_eq!(fi(100.0, "w"), Ok("one hundred".to_string()));
        assert_eq!(fi(101.0, "w"), Ok("one hundred and one".to_string()));
        assert_eq!(fi(110.0, "w"), Ok("one hundred and ten".to_string()));
        assert_eq!(fi(123.0, "w"), Ok("one hundred and twenty-three".to_string()));
        assert_eq!(fi(1000.0, "w"), Ok("one thousand".to_string()));
        assert_eq!(fi(1234.0, "w"), Ok("one thousand, two hundred and thirty-four".to_string()));
        assert_eq!(fi(1100.0, "w"), Ok("one thousand, one hundred".to_string()));
        assert_eq!(fi(1000001.0, "w"), Ok("one million and one".to_string()));
        assert_eq!(fi(1000100.0, "w"), Ok("one million, one hundred".to_string()));
        assert_eq!(fi(1000000.0, "w"), Ok("one million".to_string()));
        assert_eq!(fi(1000000100.0, "w"), Ok("one billion, one hundred".to_string()));
        assert_eq!(fi(1234567890123.0, "w"), Ok("one trillion, two hundred and thirty-four billion, five hundred and sixty-seven million, eight hundred and ninety thousand, one hundred and twenty-three".to_string()));
        assert_eq!(fi(1e15, "w"), Ok("one thousand trillion".to_string()));
        assert_eq!(fi(1e15 + 5.0, "w"), Ok("one thousand trillion and five".to_string()));
        assert_eq!(fi(2e15 + 3e12 + 7.0, "w"), Ok("two thousand and three trillion and seven".to_string()));
        assert_eq!(fi(1e21, "w"), Ok("one billion trillion".to_string()));
        assert_eq!(fi(-5.0, "w"), Ok("-five".to_string()));
        assert_eq!(fi(12.9, "w"), Ok("twelve".to_string()));
        assert_eq!(fi(123.0, "W"), Ok("ONE HUNDRED AND TWENTY-THREE".to_string()));
        assert_eq!(fi(123.0, "Ww"), Ok("One Hundred and Twenty-Three".to_string()));
        assert_eq!(fi(99.0, "Ww"), Ok("Ninety-Nine".to_string()));
        assert_eq!(fi(1234.0, "Ww"), Ok("One Thousand, Two Hundred and Thirty-Four".to_string()));
    }

    #[test]
    fn format_integer_word_ordinals() {
        assert_eq!(fi(0.0, "w;o"), Ok("zeroth".to_string()));
        assert_eq!(fi(1.0, "w;o"), Ok("first".to_string()));
        assert_eq!(fi(2.0, "w;o"), Ok("second".to_string()));
        assert_eq!(fi(3.0, "w;o"), Ok("third".to_string()));
        assert_eq!(fi(5.0, "w;o"), Ok("fifth".to_string()));
        assert_eq!(fi(8.0, "w;o"), Ok("eighth".to_string()));
        assert_eq!(fi(9.0, "w;o"), Ok("ninth".to_string()));
        assert_eq!(fi(12.0, "w;o"), Ok("twelfth".to_string()));
        assert_eq!(fi(20.0, "w;o"), Ok("twentieth".to_string()));
        assert_eq!(fi(21.0, "w;o"), Ok("twenty-first".to_string()));
        assert_eq!(fi(90.0, "w;o"), Ok("ninetieth".to_string()));
        assert_eq!(fi(100.0, "w;o"), Ok("one hundredth".to_string()));
        assert_eq!(fi(112.0, "w;o"), Ok("one hundred and twelfth".to_string()));
        assert_eq!(fi(1000.0, "w;o"), Ok("one thousandth".to_string()));
        assert_eq!(fi(1200.0, "w;o"), Ok("one thousand, two hundredth".to_string()));
        assert_eq!(fi(1000000.0, "w;o"), Ok("one millionth".to_string()));
        assert_eq!(fi(2.0, "Ww;o"), Ok("Second".to_string()));
        assert_eq!(fi(1001.0, "Ww;o"), Ok("One Thousand and First".to_string()));
        assert_eq!(fi(43.0, "W;o"), Ok("FORTY-THIRD".to_string()));
        assert_eq!(fi(12.0, "w;t"), Ok("twelve".to_string()));
    }

    #[test]
    fn format_integer_errors() {
        assert_eq!(fi(12.0, ""), Err("D3130"));
        assert_eq!(fi(12.0, "#"), Err("D3130"));
        assert_eq!(fi(12.0, "x"), Err("D3130"));
        assert_eq!(fi(12.0, "β"), Err("D3130"));
        assert_eq!(fi(99.0, "WW"), Err("D3130"));
        assert_eq!(fi(99.0, "ww"), Err("D3130"));
        assert_eq!(fi(3.0, "aa"), Err("D3130"));
        assert_eq!(fi(3.0, "Ii"), Err("D3130"));
        assert_eq!(fi(12.0, ";o"), Err("D3130"));
    }

    #[test]
    fn parse_integer_decimal() {
        assert_eq!(pi("12,345", "#,##0"), Ok(Some(12345.0)));
        assert_eq!(pi("1234", "#,##0"), Ok(Some(1234.0)));
        assert_eq!(pi("1,2,34", "#,#,#0"), Ok(Some(1234.0)));
        assert_eq!(pi("0012", "0000"), Ok(Some(12.0)));
        assert_eq!(pi("12", "0000"), Ok(Some(12.0)));
        assert_eq!(pi("-12", "0"), Ok(Some(-12.0)));
        assert_eq!(pi(" 12", "0"), Ok(Some(12.0)));
        assert_eq!(pi("12a", "0"), Ok(Some(12.0)));
        assert_eq!(pi("12.5", "0"), Ok(Some(12.0)));
        assert_eq!(pi("1 2", "0"), Ok(Some(1.0)));
        assert_eq!(pi("abc", "0"), Ok(None));
        assert_eq!(pi("x12", "0"), Ok(None));
        assert_eq!(pi("", "0"), Ok(None));
        assert_eq!(pi("-", "0"), Ok(None));
        assert_eq!(pi("--12", "0"), Ok(None));
        assert_eq!(pi("1:234", "#:##0"), Ok(Some(1.0)));
        assert_eq!(pi("12345678901234567890", "0"), Ok(Some(12345678901234567168.0)));
        assert_eq!(pi("١٢٣٤", "١"), Ok(Some(1234.0)));
        assert_eq!(pi("١,٢٣٤", "#,##١"), Ok(Some(1234.0)));
        assert_eq!(pi("١٢", "0"), Ok(None));
    }

    #[test]
    fn parse_integer_ordinal_digits() {
        assert_eq!(pi("12th", "0;o"), Ok(Some(12.0)));
        assert_eq!(pi("1st", "0;o"), Ok(Some(1.0)));
        assert_eq!(pi("12nd", "0;o"), Ok(Some(12.0)));
        assert_eq!(pi("12th!", "0;o"), Ok(Some(12.0)));
        assert_eq!(pi("12", "0;o"), Ok(None));
        assert_eq!(pi("123", "0;o"), Ok(Some(1.0)));
        assert_eq!(pi("1,234th", "#,##0;o"), Ok(Some(1234.0)));
    }

    #[test]
    fn parse_integer_letters() {
        assert_eq!(pi("AA", "A"), Ok(Some(27.0)));
        assert_eq!(pi("aa", "a"), Ok(Some(27.0)));
        assert_eq!(pi("ZZ", "A"), Ok(Some(702.0)));
        assert_eq!(pi("c", "a"), Ok(Some(3.0)));
        assert_eq!(pi("", "A"), Ok(Some(0.0)));
        assert_eq!(pi("AB", "a"), Ok(Some(-836.0)));
        assert_eq!(pi("abc", "A"), Ok(Some(23227.0)));
    }

    #[test]
    fn parse_integer_roman() {
        assert_eq!(pi("MCMXCIX", "I"), Ok(Some(1999.0)));
        assert_eq!(pi("mcmxcix", "i"), Ok(Some(1999.0)));
        assert_eq!(pi("MMXXIV", "I"), Ok(Some(2024.0)));
        assert_eq!(pi("IIII", "I"), Ok(Some(4.0)));
        assert_eq!(pi("MMMM", "I"), Ok(Some(4000.0)));
        assert_eq!(pi("IM", "I"), Ok(Some(999.0)));
        assert_eq!(pi("VX", "I"), Ok(Some(5.0)));
        assert_eq!(pi("iiv", "i"), Ok(Some(3.0)));
        assert_eq!(pi("iv", "I"), Ok(None));
        assert_eq!(pi("ZZZ", "I"), Ok(None));
        assert_eq!(pi("-MCM", "I"), Ok(None));
        assert_eq!(pi("", "I"), Ok(Some(0.0)));
    }

    #[test]
    fn parse_integer_words() {
        assert_eq!(pi("twelve", "w"), Ok(Some(12.0)));
        assert_eq!(pi("zero", "w"), Ok(Some(0.0)));
        assert_eq!(pi("one thousand, two hundred and thirty-four", "w"), Ok(Some(1234.0)));
        assert_eq!(pi("one hundred and twenty-three", "w"), Ok(Some(123.0)));
        assert_eq!(pi("twenty-first", "w;o"), Ok(Some(21.0)));
        assert_eq!(pi("Twenty-First", "Ww;o"), Ok(Some(21.0)));
        assert_eq!(pi("ONE HUNDRED", "W"), Ok(Some(100.0)));
        assert_eq!(pi("one hundred", "W"), Ok(Some(100.0)));
        assert_eq!(pi("twelfth", "w"), Ok(Some(12.0)));
        assert_eq!(pi("one thousand trillion", "w"), Ok(Some(1000000000000000.0)));
        assert_eq!(pi("one trillion trillion", "w"), Ok(Some(1e+24)));
        assert_eq!(pi("one million and one", "w"), Ok(Some(1000001.0)));
        assert_eq!(pi("one thousand and one", "w"), Ok(Some(1001.0)));
        assert_eq!(pi("one-hundred", "w"), Ok(Some(100.0)));
        assert_eq!(pi("ninety nine", "w"), Ok(Some(99.0)));
        assert_eq!(pi("hundred", "w"), Ok(Some(0.0)));
        assert_eq!(pi("one zillion", "w"), Ok(None));
        assert_eq!(pi("-five", "w"), Ok(None));
        assert_eq!(pi("a hundred", "w"), Ok(None));
        assert_eq!(pi("", "w"), Ok(None));
        assert_eq!(pi("xyz", "w"), Ok(None));
        assert_eq!(pi("one thousand, two hundredth", "w;o"), Ok(Some(1200.0)));
    }

    #[test]
    fn parse_integer_errors() {
        assert_eq!(pi("12", ""), Err("D3130"));
        assert_eq!(pi("12", "x"), Err("D3130"));
        assert_eq!(pi("12", "0١"), Err("D3131"));
    }

    #[test]
    fn format_number_basic() {
        assert_eq!(fnum(1234.5678, "#,##0.00", "{}"), Ok("1,234.57".to_string()));
        assert_eq!(fnum(12345.6, "#,###.00", "{}"), Ok("12,345.60".to_string()));
        assert_eq!(fnum(12345678.9, "9,999.99", "{}"), Ok("12,345,678.90".to_string()));
        assert_eq!(fnum(123.0, "$#,##0.00", "{}"), Ok("$123.00".to_string()));
        assert_eq!(fnum(123.0, "#,##0.00 EUR", "{}"), Ok("123.00 EUR".to_string()));
        assert_eq!(fnum(1234.0, "0,000", "{}"), Ok("1,234".to_string()));
        assert_eq!(fnum(-6.0, "000", "{}"), Ok("-006".to_string()));
        assert_eq!(fnum(-0.0, "0", "{}"), Ok("0".to_string()));
        assert_eq!(fnum(-0.4, "0", "{}"), Ok("-0".to_string()));
        assert_eq!(fnum(-0.4, "0.0", "{}"), Ok("-0.4".to_string()));
        assert_eq!(fnum(0.001, "0.00", "{}"), Ok("0.00".to_string()));
        assert_eq!(fnum(-0.001, "0.00", "{}"), Ok("-0.00".to_string()));
        assert_eq!(fnum(123.0, "x0y", "{}"), Ok("x123y".to_string()));
        assert_eq!(fnum(123.0, "e0", "{}"), Ok("e123".to_string()));
        assert_eq!(fnum(123.0, "0 apples", "{}"), Ok("123 apples".to_string()));
        assert_eq!(fnum(123.0, "0.0 e", "{}"), Ok("123.0 e".to_string()));
        assert_eq!(fnum(1e20, "#,##0", "{}"), Ok("100,000,000,000,000,000,000".to_string()));
        assert_eq!(fnum(1e-320, "0.0", "{}"), Ok("0.0".to_string()));
    }

    #[test]
    fn format_number_rounding_half_even() {
        assert_eq!(fnum(0.5, "0", "{}"), Ok("0".to_string()));
        assert_eq!(fnum(1.5, "0", "{}"), Ok("2".to_string()));
        assert_eq!(fnum(2.5, "0", "{}"), Ok("2".to_string()));
        assert_eq!(fnum(-2.5, "0", "{}"), Ok("-2".to_string()));
        assert_eq!(fnum(0.125, "0.00", "{}"), Ok("0.12".to_string()));
        assert_eq!(fnum(0.135, "0.00", "{}"), Ok("0.14".to_string()));
        assert_eq!(fnum(1.005, "0.00", "{}"), Ok("1.00".to_string()));
        assert_eq!(fnum(9.99, "0.0", "{}"), Ok("10.0".to_string()));
        assert_eq!(fnum(9.96, "#.#", "{}"), Ok("10.0".to_string()));
        assert_eq!(fnum(0.96, "#.#", "{}"), Ok("1.0".to_string()));
        assert_eq!(fnum(0.96, "#", "{}"), Ok("1".to_string()));
        assert_eq!(fnum(0.5, "#", "{}"), Ok("0".to_string()));
        assert_eq!(fnum(12.3456, "#.##", "{}"), Ok("12.35".to_string()));
        assert_eq!(fnum(2.675, "0.00", "{}"), Ok("2.68".to_string()));
    }

    #[test]
    fn format_number_fraction_sizes() {
        assert_eq!(fnum(0.0, "#", "{}"), Ok("0".to_string()));
        assert_eq!(fnum(0.0, "#.#", "{}"), Ok(".0".to_string()));
        assert_eq!(fnum(0.5, ".0", "{}"), Ok(".5".to_string()));
        assert_eq!(fnum(12.0, "#.##", "{}"), Ok("12.0".to_string()));
        assert_eq!(fnum(12.0, "0.0##", "{}"), Ok("12.0".to_string()));
        assert_eq!(fnum(12.0, "0.#", "{}"), Ok("12".to_string()));
        assert_eq!(fnum(3.0, ".##", "{}"), Ok("3.0".to_string()));
        assert_eq!(fnum(0.0000001234, "0.000000000000", "{}"), Ok("0.000000123400".to_string()));
        assert_eq!(fnum(1e-7, "#.########", "{}"), Ok(".0000001".to_string()));
        assert_eq!(fnum(123.0, "0.0,0", "{}"), Ok("123.0,0".to_string()));
        assert_eq!(fnum(1234567.891, "#,##0.0##,#", "{}"), Ok("1,234,567.891,".to_string()));
    }

    #[test]
    fn format_number_irregular_grouping() {
        assert_eq!(fnum(123412345678.9, "9,9,99.99", "{}"), Ok("123412345,6,78.90".to_string()));
        assert_eq!(fnum(1234567.0, "#,##,##0", "{}"), Ok("12,34,567".to_string()));
        assert_eq!(fnum(1234567.0, "#,###,##0", "{}"), Ok("1,234,567".to_string()));
    }

    #[test]
    fn format_number_sub_pictures() {
        assert_eq!(fnum(6.0, "000;-000", "{}"), Ok("006".to_string()));
        assert_eq!(fnum(-6.0, "000;(000)", "{}"), Ok("(006)".to_string()));
        assert_eq!(fnum(-6.5, "0;(0.00)", "{}"), Ok("(6.50)".to_string()));
        assert_eq!(fnum(-123.0, "(0)", "{}"), Ok("-(123)".to_string()));
        assert_eq!(fnum(-123.0, "0;(0)", "{}"), Ok("(123)".to_string()));
        assert_eq!(fnum(12345.0, "#,##0.00;#,##0.00-", "{}"), Ok("12,345.00".to_string()));
        assert_eq!(fnum(-12345.0, "#,##0.00;#,##0.00-", "{}"), Ok("12,345.00-".to_string()));
    }

    #[test]
    fn format_number_percent_per_mille() {
        assert_eq!(fnum(0.234, "#0.##%", "{}"), Ok("23.4%".to_string()));
        assert_eq!(fnum(0.234, "#0.##‰", "{}"), Ok("234‰".to_string()));
        assert_eq!(fnum(123.0, "0%", "{}"), Ok("12300%".to_string()));
        assert_eq!(fnum(123.0, "%0", "{}"), Ok("%12300".to_string()));
        assert_eq!(fnum(0.5, "#%", "{}"), Ok("50%".to_string()));
        assert_eq!(fnum(0.14, "01%", "{\"percent\": \"pc\"}"), Ok("00%".to_string()));
        assert_eq!(fnum(0.5, "0x", "{\"percent\": \"x\"}"), Ok("50x".to_string()));
        assert_eq!(fnum(0.002, "0.0‰", "{\"per-mille\": \"pm\"}"), Ok("0.0‰".to_string()));
        assert_eq!(fnum(0.002, "0.0pm", "{\"per-mille\": \"m\"}"), Ok("2.0pm".to_string()));
    }

    #[test]
    fn format_number_exponent() {
        assert_eq!(fnum(1234.56789, "0.00e0", "{}"), Ok("1.23e3".to_string()));
        assert_eq!(fnum(1234.5678, "00.000e0", "{}"), Ok("12.346e2".to_string()));
        assert_eq!(fnum(0.000123, "0.0e0", "{}"), Ok("1.2e-4".to_string()));
        assert_eq!(fnum(1234567.0, "0.0e00", "{}"), Ok("1.2e06".to_string()));
        assert_eq!(fnum(0.00012345, "##0.00e0", "{}"), Ok("1.23e-4".to_string()));
        assert_eq!(fnum(1234.5, "##0.00e0", "{}"), Ok("1.23e3".to_string()));
        assert_eq!(fnum(12345.5, "#00.0e0", "{}"), Ok("12.3e3".to_string()));
        assert_eq!(fnum(12345.5, ".00e0", "{}"), Ok(".12e5".to_string()));
        assert_eq!(fnum(99999.0, "0.0e0", "{}"), Ok("10.0e4".to_string()));
        assert_eq!(fnum(0.5, "#.0e0", "{}"), Ok("0.5e0".to_string()));
        assert_eq!(fnum(1234.5, "#.e0", "{}"), Ok("0.1e4".to_string()));
        assert_eq!(fnum(1234.5, "0.##e0", "{}"), Ok("1.23e3".to_string()));
        assert_eq!(fnum(0.1, "0.0e0", "{}"), Ok("1.0e-1".to_string()));
        assert_eq!(fnum(123.456, "0.0e0", "{}"), Ok("1.2e2".to_string()));
        assert_eq!(fnum(1.7976931348623157e308, "0.0e0", "{}"), Ok("1.8e308".to_string()));
    }

    #[test]
    fn format_number_decimal_format_properties() {
        assert_eq!(
            fnum(1234.5678, "#.##0,00", "{\"decimal-separator\": \",\", \"grouping-separator\": \".\"}"),
            Ok("1.234,57".to_string())
        );
        assert_eq!(fnum(1234.0, "#,##0", "{\"zero-digit\": \"٠\"}"), Ok("١٢,٣٤0".to_string()));
        assert_eq!(fnum(1234.0, "#,##٠", "{\"zero-digit\": \"٠\"}"), Ok("١,٢٣٤".to_string()));
        assert_eq!(fnum(1234.5, "##0.0", "{\"digit\": \"X\"}"), Ok("##1234.5".to_string()));
        assert_eq!(fnum(1234.5, "XX0.0", "{\"digit\": \"X\"}"), Ok("1234.5".to_string()));
        assert_eq!(fnum(-1234.5, "0.0", "{\"minus-sign\": \"~\"}"), Ok("~1234.5".to_string()));
        assert_eq!(fnum(-5.0, "0", "{\"minus-sign\": \"minus \"}"), Ok("minus 5".to_string()));
        assert_eq!(fnum(1234.5, "0.0E0", "{\"exponent-separator\": \"E\"}"), Ok("1.2E3".to_string()));
        assert_eq!(fnum(1234.5, "0.0x0", "{\"exponent-separator\": \"x\"}"), Ok("1.2x3".to_string()));
        assert_eq!(fnum(12.0, "0", "{\"foo\": \"x\"}"), Ok("12".to_string()));
        assert_eq!(fnum(0.000123, "0.0e0", "{\"minus-sign\": \"~\"}"), Ok("1.2e~4".to_string()));
    }

    #[test]
    fn format_number_errors() {
        assert_eq!(fnum(123.0, "0;0;0", "{}"), Err("D3080"));
        assert_eq!(fnum(5.0, "0;-0;", "{}"), Err("D3080"));
        assert_eq!(fnum(123.0, "#.#.#", "{}"), Err("D3081"));
        assert_eq!(fnum(123.0, "0%%", "{}"), Err("D3082"));
        assert_eq!(fnum(1.5, "0‰‰", "{}"), Err("D3083"));
        assert_eq!(fnum(123.0, "0%‰", "{}"), Err("D3084"));
        assert_eq!(fnum(123.0, ".e0", "{}"), Err("D3085"));
        assert_eq!(fnum(123.0, "0a0", "{}"), Err("D3086"));
        assert_eq!(fnum(123.0, "0 0", "{}"), Err("D3086"));
        assert_eq!(fnum(1234.5, "0.0e0", "{\"exponent-separator\": \"E\"}"), Err("D3086"));
        assert_eq!(fnum(1234.0, "0,000", "{\"grouping-separator\": \".\"}"), Err("D3086"));
        assert_eq!(fnum(123.0, "0,.0", "{}"), Err("D3087"));
        assert_eq!(fnum(123.0, "0.,0", "{}"), Err("D3087"));
        assert_eq!(fnum(123.0, "0,", "{}"), Err("D3088"));
        assert_eq!(fnum(123.0, "0,,0", "{}"), Err("D3089"));
        assert_eq!(fnum(123.0, "0#", "{}"), Err("D3090"));
        assert_eq!(fnum(123.0, "0#.0", "{}"), Err("D3090"));
        assert_eq!(fnum(123.0, "0##", "{}"), Err("D3090"));
        assert_eq!(fnum(123.0, "#0#", "{}"), Ok("123".to_string()));
        assert_eq!(fnum(123.0, "0.0#0", "{}"), Err("D3091"));
        assert_eq!(fnum(123.0, "0e0%", "{}"), Err("D3092"));
        assert_eq!(fnum(123.0, "0.0e", "{}"), Err("D3093"));
        assert_eq!(fnum(123.0, "0e", "{}"), Err("D3093"));
        assert_eq!(fnum(123.0, "0e#", "{}"), Err("D3093"));
        assert_eq!(fnum(123.0, "0e0e0", "{}"), Err("D3093"));
    }

    /// Not jsonata-js: it overflows its stack on large roman numerals; we refuse them.
    #[test]
    fn format_integer_bounds() {
        assert_eq!(fi(1_000_000.0, "I").map(|s| s.len()), Ok(1000));
        assert_eq!(fi(1e7, "I"), Err("D1001"));
        assert_eq!(fi(f64::MAX, "a").map(|s| s.len() < 300), Ok(true));
        assert!(fi(f64::MAX, "w").is_ok());
        assert_eq!(fi(1e21, "0"), Ok("1e+21".to_string()));
    }

    /// Pictures are user data: odd ones give an error or a string, never a panic.
    #[test]
    fn odd_pictures_do_not_panic() {
        let long = "#".repeat(10_000) + "0";
        let odd = [
            "",
            ";",
            ";;",
            ",",
            ".",
            "e",
            "%",
            "w",
            "Ww;o",
            "a",
            "I",
            "0;o",
            "#,##0",
            "\u{2030}",
            "#.#e",
            "0.e0",
            "é0ü",
            "🙂0",
            "0;🙂",
            long.as_str(),
        ];
        let format = DecimalFormat::default();
        for p in odd {
            for v in [0.0, -1.5, 1e300, f64::MIN_POSITIVE, f64::NAN, f64::INFINITY] {
                let _ = format_integer(v, p);
                let _ = format_number(v, p, &format);
            }
            let _ = parse_integer("one twenty-trillion trillion, and", p);
        }
        assert_eq!(fi(5.0, &long).map(|s| s.len()), Ok(1));
        assert_eq!(fi(f64::INFINITY, "w"), Err("D1001"));
        assert_eq!(fi(f64::NAN, "a"), Err("D1001"));
        assert_eq!(fnum(1e307, "0%", "{}"), Ok("Infinity%".to_string()));
        assert_eq!(fnum(f64::NAN, "0", "{}"), Ok("NaN".to_string()));
    }

    /// Examples from docs.jsonata.org.
    #[test]
    fn documentation_examples() {
        assert_eq!(fnum(3.14259, "0.00", "{}"), Ok("3.14".to_string()));
        assert_eq!(fnum(0.14, "01%", "{}"), Ok("14%".to_string()));
        assert_eq!(fnum(1234.5678, "###,###.##", "{}"), Ok("1,234.57".to_string()));
        assert_eq!(fnum(34.555, "#0.00;(#0.00)", "{}"), Ok("34.56".to_string()));
        assert_eq!(fnum(-34.555, "#0.00;(#0.00)", "{}"), Ok("(34.56)".to_string()));
        assert_eq!(fnum(1234.5678, "0.00e0", "{}"), Ok("1.23e3".to_string()));
        assert_eq!(fnum(12345.6, "#,###.00", "{}"), Ok("12,345.60".to_string()));
        assert_eq!(fnum(1234.5678, "00.000e0", "{}"), Ok("12.346e2".to_string()));
        assert_eq!(fi(2789.0, "w"), Ok("two thousand, seven hundred and eighty-nine".to_string()));
        assert_eq!(fi(1999.0, "I"), Ok("MCMXCIX".to_string()));
        assert_eq!(fi(12345678.0, "#,##0"), Ok("12,345,678".to_string()));
        assert_eq!(fi(3.0, "01"), Ok("03".to_string()));
        assert_eq!(fi(42.0, "W;o"), Ok("FORTY-SECOND".to_string()));
        assert_eq!(fi(27.0, "a"), Ok("aa".to_string()));
        assert_eq!(pi("twelve thousand, four hundred and seventy-six", "w"), Ok(Some(12476.0)));
        assert_eq!(pi("12,345,678", "#,##0"), Ok(Some(12345678.0)));
        assert_eq!(pi("XCIX", "I"), Ok(Some(99.0)));
        assert_eq!(pi("ab", "a"), Ok(Some(28.0)));
    }

    #[test]
    fn format_number_error_precedence() {
        assert_eq!(fnum(0.0, ",.%", "{}"), Err("D3087"));
        assert_eq!(fnum(123.456, ",.", "{}"), Err("D3087"));
        assert_eq!(fnum(12.0, ".0#,..##", "{}"), Err("D3081"));
        assert_eq!(fnum(1.5, "0,.##0.#", "{}"), Err("D3087"));
        assert_eq!(fnum(-1.0, "0,,#", "{}"), Err("D3090"));
        assert_eq!(fnum(0.5, "$#.##.0,0 x", "{}"), Err("D3091"));
        assert_eq!(fnum(-0.0042, "0#.0#0", "{}"), Err("D3091"));
        assert_eq!(fnum(1.0, "...%", "{}"), Err("D3085"));
        assert_eq!(fnum(0.5, "#0#.#0#", "{}"), Ok("0.5".to_string()));
        assert_eq!(fnum(1.5, "$#.0#0# x", "{}"), Ok("$1.50 x".to_string()));
        assert_eq!(fnum(-1.0, "####.#0#%", "{}"), Ok("-100.0%".to_string()));
    }

    #[test]
    fn format_integer_separator_order_and_ordinals() {
        assert_eq!(fi(101.0, "#0 ,"), Ok("101 ,".to_string()));
        assert_eq!(fi(99.0, " ,#0;o"), Ok(" ,99th".to_string()));
        assert_eq!(fi(1234.0, " ,0# "), Ok("12 ,34 ".to_string()));
        assert_eq!(fi(111.0, "0  ,0"), Ok("11  ,1".to_string()));
        assert_eq!(fi(7.0, ". 0,"), Ok(". 7,".to_string()));
        assert_eq!(fi(21.0, "   00."), Ok("   21.".to_string()));
        assert_eq!(fi(12.0, "00.0;o"), Ok("0.1.2nd".to_string()));
        assert_eq!(fi(1000001.0, "0 ,;o"), Ok("1000001 ,th".to_string()));
        assert_eq!(fi(1.0, "#0.,,;o"), Ok("1.,,th".to_string()));
        assert_eq!(fi(1000001.0, ", #00;o"), Ok("1000, 001st".to_string()));
    }

    #[test]
    fn parse_integer_separators_as_jsonata_reads_them() {
        assert_eq!(pi("1:234", "0:000"), Ok(Some(1.0)));
        assert_eq!(pi("1'234", "0'000"), Ok(Some(1.0)));
        assert_eq!(pi("1 234", "0 000"), Ok(Some(1.0)));
        assert_eq!(pi("1,234", "0"), Ok(Some(1.0)));
        assert_eq!(pi("1,234", "#:##0"), Ok(Some(1234.0)));
        assert_eq!(pi("1000.,,001", "0.,,000"), Ok(Some(1000001.0)));
        assert_eq!(pi("0 10 1", "0 00 0"), Ok(Some(101.0)));
        assert_eq!(pi("-04,.2nd", "00,.0;o"), Ok(Some(-42.0)));
        assert_eq!(pi("12 3.4,th", " 0.0,;o"), Ok(Some(1234.0)));
    }
}
