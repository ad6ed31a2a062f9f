//! The graph of a definition: its states as nodes (nested blocks for Parallel branches and
//! Map processors) and every transition as an edge, read from the definition's JSON so that
//! a definition the editor is still fixing can be drawn too (a transition to a state that does
//! not exist is kept as a dangling edge and left out of the drawing).

use serde_json::{Map, Value};

use crate::ConsoleError;

/// The type of a node, as ASL names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Pass,
    Task,
    Choice,
    Wait,
    Succeed,
    Fail,
    Parallel,
    Map,
    /// A `Type` this console does not know (the validator says why).
    Other,
}

impl NodeKind {
    fn of(t: &str) -> NodeKind {
        match t {
            "Pass" => NodeKind::Pass,
            "Task" => NodeKind::Task,
            "Choice" => NodeKind::Choice,
            "Wait" => NodeKind::Wait,
            "Succeed" => NodeKind::Succeed,
            "Fail" => NodeKind::Fail,
            "Parallel" => NodeKind::Parallel,
            "Map" => NodeKind::Map,
            _ => NodeKind::Other,
        }
    }

    /// The lowercase name used as a CSS class.
    pub fn class(self) -> &'static str {
        match self {
            NodeKind::Pass => "pass",
            NodeKind::Task => "task",
            NodeKind::Choice => "choice",
            NodeKind::Wait => "wait",
            NodeKind::Succeed => "succeed",
            NodeKind::Fail => "fail",
            NodeKind::Parallel => "parallel",
            NodeKind::Map => "map",
            NodeKind::Other => "other",
        }
    }

    pub fn is_cluster(self) -> bool {
        matches!(self, NodeKind::Parallel | NodeKind::Map)
    }
}

/// What a transition is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeKind {
    /// `Next`.
    Next,
    /// A Choice rule, labelled with the condition.
    Rule,
    /// A Choice's `Default`.
    Default,
    /// A `Catch`, labelled with its error names.
    Catch,
}

/// A transition from one state to another of the same block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub to: String,
    pub kind: EdgeKind,
    pub label: Option<String>,
}

/// One state.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub kind: NodeKind,
    /// A short description under the name: a Task's resource, a Wait's time.
    pub detail: Option<String>,
    /// One line per retrier: its errors and attempts.
    pub retry: Vec<String>,
    pub edges: Vec<Edge>,
    /// Ends the execution (or the branch): `End`, Succeed, Fail.
    pub terminal: bool,
    /// Parallel branches, or a Map's item processor.
    pub blocks: Vec<Block>,
}

/// A list of states with a start: the machine, a Parallel branch or a Map processor.
#[derive(Debug, Clone)]
pub struct Block {
    pub start: String,
    pub nodes: Vec<Node>,
}

impl Block {
    /// Read a block (`StartAt` and `States`) from a definition's JSON.
    pub fn from_json(def: &Value) -> Result<Block, ConsoleError> {
        let o = def.as_object().ok_or(ConsoleError::NotAnObject("the definition"))?;
        block(o)
    }

    /// Parse a definition written as JSON text.
    pub fn parse(text: &str) -> Result<Block, ConsoleError> {
        let v: Value = serde_json::from_str(text).map_err(|e| ConsoleError::Json(e.to_string()))?;
        Block::from_json(&v)
    }

    /// Every node, nested ones included, depth first.
    pub fn all_nodes(&self) -> Vec<&Node> {
        let mut out = Vec::new();
        fn walk<'a>(b: &'a Block, out: &mut Vec<&'a Node>) {
            for n in &b.nodes {
                out.push(n);
                for c in &n.blocks {
                    walk(c, out);
                }
            }
        }
        walk(self, &mut out);
        out
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }
}

fn block(o: &Map<String, Value>) -> Result<Block, ConsoleError> {
    let start = o.get("StartAt").and_then(Value::as_str).unwrap_or_default().to_string();
    let states = o.get("States").and_then(Value::as_object).ok_or(ConsoleError::NotAnObject("States"))?;
    let mut nodes = Vec::with_capacity(states.len());
    for (name, s) in states {
        let Some(s) = s.as_object() else {
            nodes.push(Node {
                name: name.clone(),
                kind: NodeKind::Other,
                detail: None,
                retry: Vec::new(),
                edges: Vec::new(),
                terminal: false,
                blocks: Vec::new(),
            });
            continue;
        };
        nodes.push(node(name, s)?);
    }
    Ok(Block { start, nodes })
}

fn node(name: &str, s: &Map<String, Value>) -> Result<Node, ConsoleError> {
    let kind = NodeKind::of(s.get("Type").and_then(Value::as_str).unwrap_or_default());
    let text = |k: &str| s.get(k).and_then(Value::as_str).map(str::to_string);
    let mut edges = Vec::new();
    if kind == NodeKind::Choice {
        for rule in s.get("Choices").and_then(Value::as_array).into_iter().flatten() {
            if let Some(to) = rule.get("Next").and_then(Value::as_str) {
                edges.push(Edge { to: to.into(), kind: EdgeKind::Rule, label: Some(short(&rule_label(rule), 48)) });
            }
        }
        if let Some(to) = text("Default") {
            edges.push(Edge { to, kind: EdgeKind::Default, label: Some("Default".into()) });
        }
    }
    if let Some(to) = text("Next") {
        edges.push(Edge { to, kind: EdgeKind::Next, label: None });
    }
    for c in s.get("Catch").and_then(Value::as_array).into_iter().flatten() {
        if let Some(to) = c.get("Next").and_then(Value::as_str) {
            edges.push(Edge { to: to.into(), kind: EdgeKind::Catch, label: Some(short(&errors(c), 48)) });
        }
    }
    let retry = s
        .get("Retry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| {
            let attempts = r.get("MaxAttempts").and_then(Value::as_u64).unwrap_or(3);
            short(&format!("retry {} ×{attempts}", errors(r)), 40)
        })
        .collect();
    let detail = match kind {
        NodeKind::Task => text("Resource").map(|r| short(r.rsplit(':').next().unwrap_or(&r), 32)),
        NodeKind::Wait => ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
            .iter()
            .find_map(|k| s.get(*k).map(|v| short(&format!("{k}: {}", plain(v)), 32))),
        NodeKind::Fail => text("Error").map(|e| short(&e, 32)),
        _ => None,
    };
    let mut blocks = Vec::new();
    match kind {
        NodeKind::Parallel => {
            for b in s.get("Branches").and_then(Value::as_array).into_iter().flatten() {
                if let Some(b) = b.as_object() {
                    blocks.push(block(b)?);
                }
            }
        }
        NodeKind::Map => {
            if let Some(p) = s.get("ItemProcessor").or_else(|| s.get("Iterator")).and_then(Value::as_object) {
                blocks.push(block(p)?);
            }
        }
        _ => {}
    }
    let terminal = matches!(kind, NodeKind::Succeed | NodeKind::Fail) || s.get("End") == Some(&Value::Bool(true));
    Ok(Node { name: name.to_string(), kind, detail, retry, edges, terminal, blocks })
}

fn errors(o: &Value) -> String {
    let names: Vec<&str> =
        o.get("ErrorEquals").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    names.join(", ")
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// The comparison operators of JSONPath Choice rules, as a reader writes them.
/// (The longer suffixes first: `LessThanEquals` also ends with `Equals`.)
const OPERATORS: &[(&str, &str)] =
    &[("LessThanEquals", "<="), ("GreaterThanEquals", ">="), ("LessThan", "<"), ("GreaterThan", ">"), ("Equals", "==")];

/// A Choice rule as a short condition: `$.x > 3`, `$.a is present`, `not (…)`, a JSONata
/// `Condition` without its `{% %}`.
pub fn rule_label(rule: &Value) -> String {
    let Some(o) = rule.as_object() else { return "?".into() };
    if let Some(c) = o.get("Condition").and_then(Value::as_str) {
        let c = c.trim();
        return c.strip_prefix("{%").and_then(|c| c.strip_suffix("%}")).unwrap_or(c).trim().to_string();
    }
    for (key, joiner) in [("And", " and "), ("Or", " or ")] {
        if let Some(list) = o.get(key).and_then(Value::as_array) {
            return list.iter().map(|r| format!("({})", rule_label(r))).collect::<Vec<_>>().join(joiner);
        }
    }
    if let Some(r) = o.get("Not") {
        return format!("not ({})", rule_label(r));
    }
    let var = o.get("Variable").and_then(Value::as_str).unwrap_or("?");
    for (k, v) in o {
        if k == "Variable" || k == "Next" || k == "Comment" || k == "Assign" || k == "Output" {
            continue;
        }
        if let Some(test) = k.strip_prefix("Is") {
            let yes = v.as_bool().unwrap_or(true);
            let what = test.to_lowercase();
            return if yes { format!("{var} is {what}") } else { format!("{var} is not {what}") };
        }
        let (op_name, path) = match k.strip_suffix("Path") {
            Some(base) => (base, true),
            None => (k.as_str(), false),
        };
        if op_name == "StringMatches" {
            return format!("{var} matches {}", plain(v));
        }
        for (suffix, op) in OPERATORS {
            if op_name.ends_with(suffix) {
                let rhs = if path || !v.is_string() { plain(v) } else { v.to_string() };
                return format!("{var} {op} {rhs}");
            }
        }
    }
    var.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rule_labels_read_like_conditions() {
        assert_eq!(rule_label(&json!({"Variable": "$.n", "NumericGreaterThan": 3, "Next": "x"})), "$.n > 3");
        assert_eq!(rule_label(&json!({"Variable": "$.s", "StringEquals": "a", "Next": "x"})), "$.s == \"a\"");
        assert_eq!(rule_label(&json!({"Variable": "$.a", "NumericLessThanEqualsPath": "$.b"})), "$.a <= $.b");
        assert_eq!(rule_label(&json!({"Variable": "$.email", "IsPresent": false})), "$.email is not present");
        assert_eq!(
            rule_label(
                &json!({"And": [{"Variable": "$.a", "BooleanEquals": true}, {"Not": {"Variable": "$.b", "IsNull": true}}]})
            ),
            "($.a == true) and (not ($.b is null))"
        );
        assert_eq!(rule_label(&json!({"Condition": "{% $states.input.n > 1 %}"})), "$states.input.n > 1");
        assert_eq!(rule_label(&json!({"Variable": "$.f", "StringMatches": "*.csv"})), "$.f matches *.csv");
    }

    #[test]
    fn edges_of_every_kind() {
        let b = Block::parse(include_str!("../../../examples/retry-catch.asl.json")).expect("parses");
        let quote = &b.nodes[b.index_of("Quote").expect("Quote")];
        assert_eq!(quote.kind, NodeKind::Parallel);
        assert_eq!(quote.blocks.len(), 2);
        assert_eq!(quote.retry, vec!["retry Rates.Unavailable ×2".to_string()]);
        assert!(quote.edges.contains(&Edge { to: "Done".into(), kind: EdgeKind::Next, label: None }));
        assert!(quote.edges.contains(&Edge {
            to: "Fallback".into(),
            kind: EdgeKind::Catch,
            label: Some("States.ALL".into())
        }));
        assert!(b.nodes[b.index_of("Done").expect("Done")].terminal);
        let names: Vec<&str> = b.all_nodes().iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["Quote", "Base", "Rates", "Fallback", "Done"]);
    }
}
