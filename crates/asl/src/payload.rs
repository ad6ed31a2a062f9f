//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`, JSONPath `Assign`):
//! JSON whose `"key.$"` fields are replaced by a path or intrinsic call result.
//!
//! A template evaluated against an input that is dropped afterwards (a Pass state's
//! `Parameters` whose result replaces the input, any `ResultSelector`) moves what its paths
//! select out of that input instead of copying it ([`Template::eval_consuming`]).

use serde_json::{Map, Value};

use crate::env::{ContextSource, Env, Vars};
use crate::error::{Diagnostic, StatesError};
use crate::exec::{json_str_len, size_bound};
use crate::intrinsic::{self, Call};
use crate::jsonpath::{JsonPath, Root};

/// A compiled template. Static subtrees are kept as ready values.
#[derive(Debug, Clone)]
pub enum Template {
    Const(Value),
    /// The fields in order, and the object's [`Shape`].
    Object(Vec<(String, Template)>, Shape),
    Array(Vec<Template>),
    Path(JsonPath, Box<str>),
    /// A path whose value [`Template::eval_consuming`] may move out of the input: no other
    /// such path of the template selects it or a part of it, or lies inside it.
    Take(JsonPath, Box<str>),
    Call(Box<Call>, Box<str>),
}

impl Template {
    /// Compile `v`; problems are pushed to `diags` with `loc` as the JSON location.
    pub fn compile(v: &Value, loc: &str, diags: &mut Vec<Diagnostic>) -> Template {
        let mut t = Template::compile_tree(v, loc, diags);
        let mut paths = Vec::new();
        t.takeable(&mut paths);
        let alone: Vec<bool> = paths
            .iter()
            .enumerate()
            .map(|(i, p)| paths.iter().enumerate().all(|(j, q)| i == j || !p.overlaps(q)))
            .collect();
        t.mark_takes(&mut alone.into_iter());
        t
    }

    fn compile_tree(v: &Value, loc: &str, diags: &mut Vec<Diagnostic>) -> Template {
        match v {
            Value::Object(o) => {
                let mut fields = Vec::with_capacity(o.len());
                let mut dynamic = false;
                for (k, x) in o {
                    if let Some(name) = k.strip_suffix(".$") {
                        dynamic = true;
                        let t = match x.as_str() {
                            Some(s) => match compile_expr(s, k) {
                                Ok(t) => t,
                                Err(()) => {
                                    diags.push(Diagnostic {
                                        code: "SCHEMA_VALIDATION_FAILED",
                                        message: format!(
                                            "The value for the field '{k}' must be a valid JSONPath or a valid intrinsic function call"
                                        ),
                                        location: loc.to_string(),
                                    });
                                    Template::Const(Value::Null)
                                }
                            },
                            None => {
                                diags.push(Diagnostic {
                                    code: "SCHEMA_VALIDATION_FAILED",
                                    message: format!("The value for the field '{k}' must be a STRING"),
                                    location: loc.to_string(),
                                });
                                Template::Const(Value::Null)
                            }
                        };
                        fields.push((name.to_string(), t));
                    } else {
                        let t = Template::compile_tree(x, &format!("{loc}/{}", escape_pointer(k)), diags);
                        dynamic |= !matches!(t, Template::Const(_));
                        fields.push((k.clone(), t));
                    }
                }
                if dynamic {
                    let shape = Shape::of(&fields);
                    Template::Object(fields, shape)
                } else {
                    Template::Const(v.clone())
                }
            }
            Value::Array(a) => {
                let items: Vec<Template> = a
                    .iter()
                    .enumerate()
                    .map(|(i, x)| Template::compile_tree(x, &format!("{loc}/{i}"), diags))
                    .collect();
                if items.iter().all(|t| matches!(t, Template::Const(_))) {
                    Template::Const(v.clone())
                } else {
                    Template::Array(items)
                }
            }
            other => Template::Const(other.clone()),
        }
    }

    /// The paths that could be moved out of the input, in the order of the template.
    fn takeable(&self, out: &mut Vec<JsonPath>) {
        match self {
            Template::Object(fields, _) => fields.iter().for_each(|(_, t)| t.takeable(out)),
            Template::Array(items) => items.iter().for_each(|t| t.takeable(out)),
            Template::Path(p, _) if p.can_take() => out.push(p.clone()),
            _ => {}
        }
    }

    /// Turn the takeable paths whose flag in `alone` is set (same order) into [`Template::Take`].
    fn mark_takes(&mut self, alone: &mut impl Iterator<Item = bool>) {
        match self {
            Template::Object(fields, _) => fields.iter_mut().for_each(|(_, t)| t.mark_takes(alone)),
            Template::Array(items) => items.iter_mut().for_each(|t| t.mark_takes(alone)),
            // Every takeable path draws its flag, in order.
            Template::Path(p, _) if p.can_take() && alone.next() == Some(true) => {
                if let Template::Path(p, key) = std::mem::replace(self, Template::Const(Value::Null)) {
                    *self = Template::Take(p, key);
                }
            }
            _ => {}
        }
    }

    /// Whether any part reads the Context object.
    pub fn reads_context(&self) -> bool {
        match self {
            Template::Const(_) => false,
            Template::Object(f, _) => f.iter().any(|(_, t)| t.reads_context()),
            Template::Array(a) => a.iter().any(Template::reads_context),
            Template::Path(p, _) => matches!(p.root(), crate::jsonpath::Root::Context),
            Template::Take(..) => false,
            Template::Call(c, _) => c.paths().iter().any(|p| matches!(p.root(), crate::jsonpath::Root::Context)),
        }
    }

    pub fn eval(&self, env: &Env<'_>) -> Result<Value, StatesError> {
        Ok(match self {
            Template::Const(v) => v.clone(),
            Template::Object(fields, shape) => Value::Object(shape.fill(fields, |t| t.eval(env))?),
            Template::Array(items) => Value::Array(items.iter().map(|t| t.eval(env)).collect::<Result<_, _>>()?),
            Template::Path(p, key) | Template::Take(p, key) => match env.path(p) {
                Some(v) => v.into_owned(),
                None => return Err(not_found(p, key, env)),
            },
            Template::Call(c, _) => c.eval(env)?,
        })
    }

    /// [`Template::eval`], and an upper bound of the result's serialized size, for an input
    /// whose size is at most `in_bound`: what a definite path selects from the input is part
    /// of the input, so it counts as `in_bound` without being walked; the rest is measured.
    pub(crate) fn eval_bounded(&self, env: &Env<'_>, in_bound: usize) -> Result<(Value, usize), StatesError> {
        self.build(&mut |leaf| {
            Ok(match leaf {
                Template::Path(p, _) | Template::Take(p, _) if matches!(p.root(), Root::Input) && p.is_definite() => {
                    (leaf.eval(env)?, in_bound)
                }
                Template::Call(c, _) => {
                    let v = c.eval(env)?;
                    // Most intrinsics make a string.
                    let b = match &v {
                        Value::String(s) => json_str_len(s),
                        other => size_bound(other),
                    };
                    (v, b)
                }
                other => {
                    let v = other.eval(env)?;
                    let b = size_bound(&v);
                    (v, b)
                }
            })
        })
    }

    /// The value of the template's objects and arrays, with each leaf (a constant, a path, a
    /// call) and a bound of its size given by `leaf`.
    fn build<F>(&self, leaf: &mut F) -> Result<(Value, usize), StatesError>
    where
        F: FnMut(&Template) -> Result<(Value, usize), StatesError>,
    {
        Ok(match self {
            Template::Object(fields, shape) => {
                let mut bound = shape.bound;
                let m = shape.fill(fields, |t| {
                    let (v, b) = t.build(leaf)?;
                    bound = bound.saturating_add(b);
                    Ok(v)
                })?;
                (Value::Object(m), bound)
            }
            Template::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut bound = 2 + items.len().saturating_sub(1);
                for t in items {
                    let (v, b) = t.build(leaf)?;
                    bound = bound.saturating_add(b);
                    out.push(v);
                }
                (Value::Array(out), bound)
            }
            other => leaf(other)?,
        })
    }

    /// [`Template::eval_bounded`] for an input dropped afterwards: the [`Template::Take`]
    /// paths move their values out of it. Every other part is evaluated first, while the
    /// input is whole (an intrinsic may read what a path then moves), and every moved path
    /// is checked to exist before anything moves, so a failure leaves the input intact.
    pub(crate) fn eval_consuming(
        &self,
        mut input: Value,
        ctx: &ContextSource<'_>,
        vars: &Vars<'_>,
        in_bound: usize,
    ) -> Result<(Value, usize), StatesError> {
        let env = Env { input: &input, ctx, vars };
        if !self.has_take() {
            return self.eval_bounded(&env, in_bound);
        }
        let mut evaluated = Evaluated::new();
        self.prepare(&env, in_bound, &mut evaluated)?;
        self.assemble(&mut input, &mut evaluated.into_iter(), in_bound)
    }

    fn has_take(&self) -> bool {
        match self {
            Template::Take(..) => true,
            Template::Object(fields, _) => fields.iter().any(|(_, t)| t.has_take()),
            Template::Array(items) => items.iter().any(Template::has_take),
            _ => false,
        }
    }

    fn prepare(&self, env: &Env<'_>, in_bound: usize, out: &mut Evaluated) -> Result<(), StatesError> {
        match self {
            Template::Const(_) => {}
            Template::Object(fields, _) => {
                for (_, t) in fields {
                    t.prepare(env, in_bound, out)?;
                }
            }
            Template::Array(items) => {
                for t in items {
                    t.prepare(env, in_bound, out)?;
                }
            }
            Template::Take(p, key) => {
                if p.eval(env.input).is_none() {
                    return Err(not_found(p, key, env));
                }
            }
            other => out.push(other.eval_bounded(env, in_bound)?),
        }
        Ok(())
    }

    /// The value, from `evaluated` (in the order [`Template::prepare`] made it) and from
    /// what the takes move out of `input`.
    fn assemble(
        &self,
        input: &mut Value,
        evaluated: &mut impl Iterator<Item = (Value, usize)>,
        in_bound: usize,
    ) -> Result<(Value, usize), StatesError> {
        self.build(&mut |leaf| {
            Ok(match leaf {
                Template::Const(v) => (v.clone(), size_bound(v)),
                // Checked to exist by `prepare`, and no other take overlaps it.
                Template::Take(p, _) => (p.take(input).unwrap_or(Value::Null), in_bound),
                _ => evaluated.next().unwrap_or((Value::Null, 4)),
            })
        })
    }
}

/// The keys of a template object, as an object of nulls: cloning it copies the map's hash
/// index instead of hashing every key again (serde_json's maps hash with SipHash), and the
/// values are then written in place, in order. Absent when two fields give the same key
/// (`"a"` and `"a.$"`), which only inserting resolves. Beside it, the serialized size of the
/// object without its values (braces, keys, colons and commas), found once.
#[derive(Debug, Clone)]
pub struct Shape {
    keys: Option<Map<String, Value>>,
    bound: usize,
}

impl Shape {
    fn of(fields: &[(String, Template)]) -> Shape {
        // Room for one key more, which clones keep: a ResultPath or Assign that adds a field
        // to the object later does not grow it.
        let mut keys = Map::with_capacity(fields.len() + 1);
        keys.extend(fields.iter().map(|(k, _)| (k.clone(), Value::Null)));
        // Keys given twice count twice: a bound only ever counts too much.
        let bound = fields.iter().fold(2 + fields.len().saturating_sub(1), |b, (k, _)| b + json_str_len(k) + 1);
        Shape { keys: (keys.len() == fields.len()).then_some(keys), bound }
    }

    /// The object, each field's value given by `value` in the order of `fields`.
    fn fill(
        &self,
        fields: &[(String, Template)],
        mut value: impl FnMut(&Template) -> Result<Value, StatesError>,
    ) -> Result<Map<String, Value>, StatesError> {
        match &self.keys {
            Some(keys) => {
                let mut m = keys.clone();
                for ((_, t), slot) in fields.iter().zip(m.values_mut()) {
                    // The slot holds the prototype's null, which owns nothing: overwritten
                    // without running a destructor for it.
                    let placeholder = std::mem::replace(slot, value(t)?);
                    debug_assert!(placeholder.is_null());
                    std::mem::forget(placeholder);
                }
                Ok(m)
            }
            None => {
                let mut m = Map::with_capacity(fields.len());
                for (k, t) in fields {
                    let v = value(t)?;
                    m.insert(k.clone(), v);
                }
                Ok(m)
            }
        }
    }
}

/// The parts of a template evaluated before its takes move anything.
type Evaluated = Vec<(Value, usize)>;

fn not_found(p: &JsonPath, key: &str, env: &Env<'_>) -> StatesError {
    StatesError::runtime(format!(
        "The JSONPath '{p}' specified for the field '{key}' could not be found in the input '{}'",
        env.input_string()
    ))
}

fn compile_expr(s: &str, key: &str) -> Result<Template, ()> {
    if intrinsic::looks_like_call(s) {
        return Call::parse(s).map(|c| Template::Call(Box::new(c), key.into())).map_err(|_| ());
    }
    JsonPath::parse(s).map(|p| Template::Path(p, key.into())).map_err(|_| ())
}

/// Escape a key for a JSON Pointer location.
pub(crate) fn escape_pointer(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(v: Value) -> Template {
        let mut diags = Vec::new();
        let t = Template::compile(&v, "/Parameters", &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        t
    }

    fn takes(t: &Template) -> Vec<&str> {
        match t {
            Template::Object(fields, _) => fields.iter().flat_map(|(_, t)| takes(t)).collect(),
            Template::Array(items) => items.iter().flat_map(takes).collect(),
            Template::Take(p, _) => vec![p.as_str()],
            _ => Vec::new(),
        }
    }

    /// What a consuming evaluation gives, next to a copying one of the same template.
    fn both(t: &Template, input: Value) -> (Result<Value, StatesError>, Result<Value, StatesError>) {
        let copied = t.eval(&Env::for_tests(&input));
        let exec = crate::env::ExecutionInfo::default();
        let ctx = ContextSource::new(&exec, "S", String::new());
        let moved = t.eval_consuming(input, &ctx, &Vars::new(), 0).map(|(v, _)| v);
        (copied, moved)
    }

    #[test]
    fn paths_move_only_when_no_other_moved_path_overlaps_them() {
        let t = template(json!({
            "items.$": "$.items",
            "count.$": "States.ArrayLength($.items)",
            "c.$": "$.c",
            "cid.$": "$.c.id",
            "first.$": "$.list[0]",
            "last.$": "$.list[-1]",
            "fixed": {"n.$": "$.n", "k": 1},
            "deep.$": "$..id",
        }));
        // `$.c` holds `$.c.id`; a negative index may be any item.
        assert_eq!(takes(&t), vec!["$.items", "$.n"]);
        let input = json!({"items": [1, 2, 3], "c": {"id": 7}, "list": ["a", "b"], "n": 5});
        let (copied, moved) = both(&t, input);
        assert_eq!(moved.expect("moved"), copied.expect("copied"));
        assert_eq!(takes(&template(json!({"all.$": "$", "n.$": "States.ArrayLength($.items)"}))), vec!["$"]);
        assert!(takes(&template(json!({"all.$": "$", "n.$": "$.n"}))).is_empty());
    }

    #[test]
    fn intrinsics_read_the_input_before_anything_moves_out_of_it() {
        let t =
            template(json!({"whole.$": "$", "n.$": "States.ArrayLength($.items)", "s.$": "States.JsonToString($)"}));
        let (copied, moved) = both(&t, json!({"items": [1, 2]}));
        let moved = moved.expect("moved");
        assert_eq!(moved, copied.expect("copied"));
        assert_eq!(moved, json!({"whole": {"items": [1, 2]}, "n": 2, "s": "{\"items\":[1,2]}"}));
    }

    #[test]
    fn objects_keep_the_fields_order_and_a_repeated_key_takes_the_last_value() {
        let input = json!({"x": 5, "y": [1]});
        let t = template(json!({"b.$": "$.x", "a": {"k.$": "$.y", "c": 1}, "c.$": "States.ArrayLength($.y)"}));
        let out = t.eval(&Env::for_tests(&input)).expect("eval");
        assert_eq!(serde_json::to_string(&out).expect("text"), r#"{"b":5,"a":{"k":[1],"c":1},"c":1}"#);
        // "a" and "a.$" both give the key "a": the later field's value, at the first one's place.
        let t = template(json!({"a": 1, "m": 2, "a.$": "$.x"}));
        let out = t.eval(&Env::for_tests(&input)).expect("eval");
        assert_eq!(serde_json::to_string(&out).expect("text"), r#"{"a":5,"m":2}"#);
        let (copied, moved) = both(&t, input);
        assert_eq!(moved.expect("moved"), copied.expect("copied"));
    }

    #[test]
    fn a_missing_path_fails_as_a_copying_evaluation_does() {
        let t = template(json!({"a.$": "$.a", "b.$": "$.missing"}));
        let (copied, moved) = both(&t, json!({"a": 1}));
        let (copied, moved) = (copied.expect_err("missing"), moved.expect_err("missing"));
        assert_eq!(moved, copied);
        assert!(moved.cause.as_deref().is_some_and(|c| c.ends_with("in the input '{\"a\":1}'")), "{moved:?}");
    }
}
