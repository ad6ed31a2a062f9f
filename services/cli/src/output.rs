//! How the client subcommands print an answer, as the AWS CLI does: `--query` picks from it
//! with a JMESPath expression (a multi-select hash's keys come out sorted, where the AWS CLI
//! keeps the expression's order), then `--output json` (the default) prints JSON indented by
//! four spaces and `--output text` the AWS CLI's tab-separated text (scalars as they are; a
//! list of scalars on one line; a structure's scalar members in key order on one line, then
//! each nested member under its key in capitals; structures in a list as rows of the same
//! columns).

use anyhow::{anyhow, bail};
use serde_json::{Map, Value};

use crate::client::Answer;

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

impl Format {
    pub fn parse(s: &str) -> anyhow::Result<Format> {
        match s {
            "json" => Ok(Format::Json),
            "text" => Ok(Format::Text),
            other => bail!("--output must be json or text, not '{other}'"),
        }
    }
}

/// A compiled `--query`.
pub struct Query(jmespath::Expression<'static>);

impl Query {
    /// Checked before any call is made, as the AWS CLI checks it.
    pub fn compile(expression: &str) -> anyhow::Result<Query> {
        jmespath::compile(expression).map(Query).map_err(|e| anyhow!("bad value for --query {expression}: {e}"))
    }

    pub fn apply(&self, v: &Value) -> anyhow::Result<Value> {
        let found = self.0.search(v).map_err(|e| anyhow!("--query {}: {e}", self.0.as_str()))?;
        serde_json::to_value(&*found).map_err(|e| anyhow!("--query {}: {e}", self.0.as_str()))
    }
}

/// What to print for `answer`, or `None` for nothing: an empty answer prints nothing unless a
/// query picked from it.
pub fn render(answer: Value, query: Option<&Query>, format: Format) -> anyhow::Result<Option<String>> {
    let v = match query {
        Some(q) => q.apply(&answer)?,
        None if answer == Value::Object(Map::new()) => return Ok(None),
        None => answer,
    };
    Ok(Some(match format {
        Format::Json => json(&v),
        Format::Text => {
            let mut out = String::new();
            text(&v, None, None, &mut out);
            out.truncate(out.trim_end_matches('\n').len());
            out
        }
    }))
}

/// [`render`] for what a client subcommand got. `--output text` prints a paginated
/// operation's pages one by one (the query applied to each), then its `NextToken` under
/// `NEXTTOKEN`, as the AWS CLI does; JSON prints them joined.
pub fn render_answer(answer: Answer, query: Option<&Query>, format: Format) -> anyhow::Result<Option<String>> {
    let listing = match (answer, format) {
        (Answer::One(v), _) => return render(v, query, format),
        (Answer::Pages(l), Format::Json) => return render(l.joined(), query, format),
        (Answer::Pages(l), Format::Text) => l,
    };
    let mut out = String::new();
    let resume = listing.resume.map(|t| serde_json::json!({"NextToken": {"NextToken": t}}));
    for page in listing.pages.into_iter().chain(resume) {
        let v = match query {
            Some(q) => q.apply(&page)?,
            None => page,
        };
        text(&v, None, None, &mut out);
    }
    out.truncate(out.trim_end_matches('\n').len());
    Ok(Some(out))
}

/// JSON indented by four spaces, as the AWS CLI prints it.
fn json(v: &Value) -> String {
    use serde::Serialize as _;
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b"    "));
    match v.serialize(&mut ser) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(_) => v.to_string(),
    }
}

/// A scalar as the AWS CLI's text output writes it (Python's `str`).
fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

fn text(v: &Value, identifier: Option<&str>, columns: Option<&[String]>, out: &mut String) {
    match v {
        Value::Object(o) => structure(o, identifier, columns, out),
        Value::Array(items) => list(items, identifier, out),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn list(items: &[Value], identifier: Option<&str>, out: &mut String) {
    if items.iter().any(Value::is_object) {
        // Rows with the same columns: every scalar key any of them has, in order.
        let mut columns: Vec<String> = items
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|o| o.iter().filter(|(_, x)| is_scalar(x)).map(|(k, _)| k.clone()))
            .collect();
        columns.sort();
        columns.dedup();
        for item in items {
            text(item, identifier, Some(&columns), out);
        }
    } else if items.iter().any(Value::is_array) {
        let scalars: Vec<&Value> = items.iter().filter(|x| is_scalar(x)).collect();
        if !scalars.is_empty() {
            scalar_list(&scalars, identifier, out);
        }
        for nested in items.iter().filter(|x| !is_scalar(x)) {
            text(nested, identifier, None, out);
        }
    } else if !items.is_empty() {
        scalar_list(&items.iter().collect::<Vec<_>>(), identifier, out);
    }
}

fn scalar_list(items: &[&Value], identifier: Option<&str>, out: &mut String) {
    match identifier {
        Some(id) => {
            for item in items {
                out.push_str(&format!("{}\t{}\n", id.to_uppercase(), scalar(item)));
            }
        }
        None => {
            out.push_str(&items.iter().map(|x| scalar(x)).collect::<Vec<_>>().join("\t"));
            out.push('\n');
        }
    }
}

fn structure(o: &Map<String, Value>, identifier: Option<&str>, columns: Option<&[String]>, out: &mut String) {
    let mut keys: Vec<&String> = o.keys().collect();
    keys.sort();
    let (mut scalars, nested): (Vec<String>, Vec<(&str, &Value)>) = match columns {
        None => (
            keys.iter().filter(|k| is_scalar(&o[k.as_str()])).map(|k| scalar(&o[k.as_str()])).collect(),
            keys.iter().filter(|k| !is_scalar(&o[k.as_str()])).map(|k| (k.as_str(), &o[k.as_str()])).collect(),
        ),
        Some(columns) => (
            columns.iter().map(|c| o.get(c).map(scalar).unwrap_or_default()).collect(),
            keys.iter().filter(|k| !columns.contains(k)).map(|k| (k.as_str(), &o[k.as_str()])).collect(),
        ),
    };
    if !scalars.is_empty() {
        if let Some(id) = identifier {
            scalars.insert(0, id.to_uppercase());
        }
        out.push_str(&scalars.join("\t"));
        out.push('\n');
    }
    for (key, value) in nested {
        text(value, Some(key), None, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn as_text(v: Value) -> String {
        render(v, None, Format::Text).expect("render").unwrap_or_default()
    }

    #[test]
    fn text_is_laid_out_as_the_aws_cli_lays_it_out() {
        assert_eq!(as_text(json!("arn:x")), "arn:x");
        assert_eq!(as_text(json!(["a", 1, true, null])), "a\t1\tTrue\tNone");
        assert_eq!(as_text(json!([["a", "b"], ["c", "d"]])), "a\tb\nc\td");
        assert_eq!(
            as_text(json!({"b": 2, "a": "x", "tags": [{"key": "k", "value": "v"}], "cfg": {"level": "ALL"}})),
            "x\t2\nCFG\tALL\nTAGS\tk\tv"
        );
        // Rows share columns: a key one row lacks prints empty.
        assert_eq!(
            as_text(json!({"items": [{"name": "a", "type": "EXPRESS"}, {"name": "b"}]})),
            "ITEMS\ta\tEXPRESS\nITEMS\tb\t"
        );
        assert_eq!(as_text(json!({"names": ["a", "b"]})), "NAMES\ta\nNAMES\tb");
    }

    #[test]
    fn queries_pick_before_printing_and_empty_answers_print_nothing() {
        let answer = json!({"stateMachines": [{"name": "a"}, {"name": "b"}], "nextToken": null});
        let q = Query::compile("stateMachines[].name").expect("compiles");
        assert_eq!(render(answer.clone(), Some(&q), Format::Text).expect("ok").as_deref(), Some("a\tb"));
        assert_eq!(render(answer, Some(&q), Format::Json).expect("ok").as_deref(), Some("[\n    \"a\",\n    \"b\"\n]"));
        assert_eq!(render(json!({}), None, Format::Json).expect("ok"), None);
        let e = Query::compile("stateMachines[").err().expect("a bad query is refused");
        assert!(e.to_string().starts_with("bad value for --query stateMachines["), "{e}");
    }
}
