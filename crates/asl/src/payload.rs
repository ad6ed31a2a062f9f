//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`, JSONPath `Assign`):
//! JSON whose `"key.$"` fields are replaced by a path or intrinsic call result.

use serde_json::{Map, Value};

use crate::env::Env;
use crate::error::{Diagnostic, StatesError};
use crate::exec::{json_str_len, size_bound};
use crate::intrinsic::{self, Call};
use crate::jsonpath::{JsonPath, Root};

/// A compiled template. Static subtrees are kept as ready values.
#[derive(Debug, Clone)]
pub enum Template {
    Const(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    Path(JsonPath, Box<str>),
    Call(Box<Call>, Box<str>),
}

impl Template {
    /// Compile `v`; problems are pushed to `diags` with `loc` as the JSON location.
    pub fn compile(v: &Value, loc: &str, diags: &mut Vec<Diagnostic>) -> Template {
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
                        let t = Template::compile(x, &format!("{loc}/{}", escape_pointer(k)), diags);
                        dynamic |= !matches!(t, Template::Const(_));
                        fields.push((k.clone(), t));
                    }
                }
                if dynamic {
                    Template::Object(fields)
                } else {
                    Template::Const(v.clone())
                }
            }
            Value::Array(a) => {
                let items: Vec<Template> =
                    a.iter().enumerate().map(|(i, x)| Template::compile(x, &format!("{loc}/{i}"), diags)).collect();
                if items.iter().all(|t| matches!(t, Template::Const(_))) {
                    Template::Const(v.clone())
                } else {
                    Template::Array(items)
                }
            }
            other => Template::Const(other.clone()),
        }
    }

    /// Whether any part reads the Context object.
    pub fn reads_context(&self) -> bool {
        match self {
            Template::Const(_) => false,
            Template::Object(f) => f.iter().any(|(_, t)| t.reads_context()),
            Template::Array(a) => a.iter().any(Template::reads_context),
            Template::Path(p, _) => matches!(p.root(), crate::jsonpath::Root::Context),
            Template::Call(c, _) => c.paths().iter().any(|p| matches!(p.root(), crate::jsonpath::Root::Context)),
        }
    }

    pub fn eval(&self, env: &Env<'_>) -> Result<Value, StatesError> {
        Ok(match self {
            Template::Const(v) => v.clone(),
            Template::Object(fields) => {
                let mut m = Map::with_capacity(fields.len());
                for (k, t) in fields {
                    m.insert(k.clone(), t.eval(env)?);
                }
                Value::Object(m)
            }
            Template::Array(items) => Value::Array(items.iter().map(|t| t.eval(env)).collect::<Result<_, _>>()?),
            Template::Path(p, key) => match env.path(p) {
                Some(v) => v.into_owned(),
                None => {
                    return Err(StatesError::runtime(format!(
                        "The JSONPath '{p}' specified for the field '{key}' could not be found in the input '{}'",
                        env.input_string()
                    )))
                }
            },
            Template::Call(c, _) => c.eval(env)?,
        })
    }

    /// [`Template::eval`], and an upper bound of the result's serialized size, for an input
    /// whose size is at most `in_bound`: what a definite path selects from the input is part
    /// of the input, so it counts as `in_bound` without being walked; the rest is measured.
    pub(crate) fn eval_bounded(&self, env: &Env<'_>, in_bound: usize) -> Result<(Value, usize), StatesError> {
        Ok(match self {
            Template::Object(fields) => {
                let mut m = Map::with_capacity(fields.len());
                let mut bound = 2 + fields.len().saturating_sub(1);
                for (k, t) in fields {
                    let (v, b) = t.eval_bounded(env, in_bound)?;
                    bound = bound.saturating_add(json_str_len(k) + 1).saturating_add(b);
                    m.insert(k.clone(), v);
                }
                (Value::Object(m), bound)
            }
            Template::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut bound = 2 + items.len().saturating_sub(1);
                for t in items {
                    let (v, b) = t.eval_bounded(env, in_bound)?;
                    bound = bound.saturating_add(b);
                    out.push(v);
                }
                (Value::Array(out), bound)
            }
            Template::Path(p, _) if matches!(p.root(), Root::Input) && p.is_definite() => (self.eval(env)?, in_bound),
            other => {
                let v = other.eval(env)?;
                let b = size_bound(&v);
                (v, b)
            }
        })
    }
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
