//! Choice rules in JSONPath mode: comparison operators (and their `…Path` forms), type tests,
//! and the And/Or/Not combinators.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use crate::env::Env;
use crate::error::StatesError;
use crate::jsonpath::JsonPath;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone)]
pub enum Operand {
    Value(Value),
    Path(JsonPath),
}

#[derive(Debug, Clone)]
pub enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Compare { var: JsonPath, kind: Kind, cmp: Cmp, rhs: Operand },
    Matches { var: JsonPath, pattern: Vec<Pat> },
    Test { var: JsonPath, test: Test, expect: bool },
}

/// A piece of a StringMatches pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pat {
    Lit(String),
    Star,
}

/// Every comparison operator name, with what it compares and whether it takes a path.
pub const OPERATORS: &[(&str, Kind, Cmp, bool)] = &[
    ("StringEquals", Kind::String, Cmp::Eq, false),
    ("StringEqualsPath", Kind::String, Cmp::Eq, true),
    ("StringLessThan", Kind::String, Cmp::Lt, false),
    ("StringLessThanPath", Kind::String, Cmp::Lt, true),
    ("StringGreaterThan", Kind::String, Cmp::Gt, false),
    ("StringGreaterThanPath", Kind::String, Cmp::Gt, true),
    ("StringLessThanEquals", Kind::String, Cmp::Le, false),
    ("StringLessThanEqualsPath", Kind::String, Cmp::Le, true),
    ("StringGreaterThanEquals", Kind::String, Cmp::Ge, false),
    ("StringGreaterThanEqualsPath", Kind::String, Cmp::Ge, true),
    ("NumericEquals", Kind::Numeric, Cmp::Eq, false),
    ("NumericEqualsPath", Kind::Numeric, Cmp::Eq, true),
    ("NumericLessThan", Kind::Numeric, Cmp::Lt, false),
    ("NumericLessThanPath", Kind::Numeric, Cmp::Lt, true),
    ("NumericGreaterThan", Kind::Numeric, Cmp::Gt, false),
    ("NumericGreaterThanPath", Kind::Numeric, Cmp::Gt, true),
    ("NumericLessThanEquals", Kind::Numeric, Cmp::Le, false),
    ("NumericLessThanEqualsPath", Kind::Numeric, Cmp::Le, true),
    ("NumericGreaterThanEquals", Kind::Numeric, Cmp::Ge, false),
    ("NumericGreaterThanEqualsPath", Kind::Numeric, Cmp::Ge, true),
    ("BooleanEquals", Kind::Boolean, Cmp::Eq, false),
    ("BooleanEqualsPath", Kind::Boolean, Cmp::Eq, true),
    ("TimestampEquals", Kind::Timestamp, Cmp::Eq, false),
    ("TimestampEqualsPath", Kind::Timestamp, Cmp::Eq, true),
    ("TimestampLessThan", Kind::Timestamp, Cmp::Lt, false),
    ("TimestampLessThanPath", Kind::Timestamp, Cmp::Lt, true),
    ("TimestampGreaterThan", Kind::Timestamp, Cmp::Gt, false),
    ("TimestampGreaterThanPath", Kind::Timestamp, Cmp::Gt, true),
    ("TimestampLessThanEquals", Kind::Timestamp, Cmp::Le, false),
    ("TimestampLessThanEqualsPath", Kind::Timestamp, Cmp::Le, true),
    ("TimestampGreaterThanEquals", Kind::Timestamp, Cmp::Ge, false),
    ("TimestampGreaterThanEqualsPath", Kind::Timestamp, Cmp::Ge, true),
];

pub const TESTS: &[(&str, Test)] = &[
    ("IsNull", Test::IsNull),
    ("IsPresent", Test::IsPresent),
    ("IsNumeric", Test::IsNumeric),
    ("IsString", Test::IsString),
    ("IsBoolean", Test::IsBoolean),
    ("IsTimestamp", Test::IsTimestamp),
];

/// Parse an RFC 3339 timestamp as Step Functions accepts it.
pub fn parse_timestamp(s: &str) -> Option<DateTime<FixedOffset>> {
    // AWS requires the 'T' separator and an explicit offset; chrono's RFC 3339 parser also
    // accepts a space and lowercase letters, which AWS rejects.
    let b = s.as_bytes();
    if b.len() < 20 || b[10] != b'T' {
        return None;
    }
    DateTime::parse_from_rfc3339(s).ok()
}

pub fn compile_pattern(p: &str) -> Vec<Pat> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    lit.push(n);
                }
            }
            '*' => {
                if !lit.is_empty() {
                    out.push(Pat::Lit(std::mem::take(&mut lit)));
                }
                if out.last() != Some(&Pat::Star) {
                    out.push(Pat::Star);
                }
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Pat::Lit(lit));
    }
    out
}

fn matches(pat: &[Pat], s: &str) -> bool {
    match pat.split_first() {
        None => s.is_empty(),
        Some((Pat::Lit(l), rest)) => s.strip_prefix(l.as_str()).is_some_and(|r| matches(rest, r)),
        Some((Pat::Star, rest)) => {
            if rest.is_empty() {
                return true;
            }
            s.char_indices().map(|(i, _)| i).chain(std::iter::once(s.len())).any(|i| matches(rest, &s[i..]))
        }
    }
}

fn num_cmp(a: &serde_json::Number, b: &serde_json::Number) -> Option<Ordering> {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

impl Rule {
    pub fn eval(&self, env: &Env<'_>) -> Result<bool, StatesError> {
        Ok(match self {
            Rule::And(rs) => {
                for r in rs {
                    if !r.eval(env)? {
                        return Ok(false);
                    }
                }
                true
            }
            Rule::Or(rs) => {
                for r in rs {
                    if r.eval(env)? {
                        return Ok(true);
                    }
                }
                false
            }
            Rule::Not(r) => !r.eval(env)?,
            Rule::Test { var, test, expect } => {
                let v = env.path(var);
                let got = match test {
                    Test::IsPresent => v.is_some(),
                    _ => match v.as_deref() {
                        None => false,
                        Some(v) => match test {
                            Test::IsNull => v.is_null(),
                            Test::IsNumeric => v.is_number(),
                            Test::IsString => v.is_string(),
                            Test::IsBoolean => v.is_boolean(),
                            Test::IsTimestamp => v.as_str().and_then(parse_timestamp).is_some(),
                            Test::IsPresent => true,
                        },
                    },
                };
                got == *expect
            }
            Rule::Matches { var, pattern } => {
                let v = variable(env, var)?;
                v.as_str().is_some_and(|s| matches(pattern, s))
            }
            Rule::Compare { var, kind, cmp, rhs } => {
                let v = variable(env, var)?;
                let r = match rhs {
                    Operand::Value(x) => std::borrow::Cow::Borrowed(x),
                    Operand::Path(p) => env.path(p).ok_or_else(|| missing(p))?,
                };
                let ord = match (kind, &*v, &*r) {
                    (Kind::String, Value::String(a), Value::String(b)) => Some(a.cmp(b)),
                    (Kind::Numeric, Value::Number(a), Value::Number(b)) => num_cmp(a, b),
                    (Kind::Boolean, Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
                    (Kind::Timestamp, Value::String(a), Value::String(b)) => {
                        match (parse_timestamp(a), parse_timestamp(b)) {
                            (Some(x), Some(y)) => Some(x.cmp(&y)),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                let Some(ord) = ord else { return Ok(false) };
                match cmp {
                    Cmp::Eq => ord == Ordering::Equal,
                    Cmp::Lt => ord == Ordering::Less,
                    Cmp::Gt => ord == Ordering::Greater,
                    Cmp::Le => ord != Ordering::Greater,
                    Cmp::Ge => ord != Ordering::Less,
                }
            }
        })
    }
}

fn missing(p: &JsonPath) -> StatesError {
    StatesError::runtime(format!("Invalid path '{p}': The choice state's condition path references an invalid value."))
}

fn variable<'a>(env: &Env<'a>, var: &JsonPath) -> Result<std::borrow::Cow<'a, Value>, StatesError> {
    env.path(var).ok_or_else(|| missing(var))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_matches() {
        let p = compile_pattern("log-*.txt");
        assert!(matches(&p, "log-1.txt"));
        assert!(matches(&p, "log-.txt"));
        assert!(!matches(&p, "log-1.txt.gz"));
        let lit = compile_pattern("a\\*b");
        assert!(matches(&lit, "a*b"));
        assert!(!matches(&lit, "axb"));
        assert!(matches(&compile_pattern("*"), ""));
        assert!(matches(&compile_pattern("U*"), "US"));
    }

    #[test]
    fn timestamps() {
        assert!(parse_timestamp("2016-03-14T01:59:00Z").is_some());
        assert!(parse_timestamp("2016-03-14T01:59:00.123+02:00").is_some());
        assert!(parse_timestamp("2016-03-14 01:59:00Z").is_none());
        assert!(parse_timestamp("2016-03-14T01:59:00").is_none());
        assert!(parse_timestamp("2016-03-14T25:59:00Z").is_none());
    }
}
