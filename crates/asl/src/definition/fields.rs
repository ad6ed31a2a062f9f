//! Parsing of single fields: paths, payload templates, JSONata templates, Assign, and the
//! string and integer fields that may be literal, a `…Path` or a JSONata expression.

use super::*;

impl Compiler {
    pub(super) fn note_path(&mut self, p: &JsonPath) {
        if matches!(p.root(), Root::Context) {
            self.reads_context = true;
        }
    }

    pub(super) fn path_opt(&mut self, v: Option<&Value>, loc: &str, reference: bool) -> PathOpt {
        match v {
            None => PathOpt::Default,
            Some(Value::Null) => PathOpt::Null,
            Some(Value::String(s)) => match JsonPath::parse(s) {
                Ok(p) if reference && (!p.is_reference() || !matches!(p.root(), Root::Input)) => {
                    self.schema(format!("The value for the field must be a valid Reference Path: {s}"), loc);
                    PathOpt::Default
                }
                Ok(p) => {
                    self.note_path(&p);
                    PathOpt::Path(p)
                }
                Err(e) => {
                    self.schema(format!("The value for the field must be a valid JSONPath: {}", e.reason), loc);
                    PathOpt::Default
                }
            },
            Some(_) => {
                self.schema("The value for the field must be a string or null".into(), loc);
                PathOpt::Default
            }
        }
    }

    pub(super) fn path(&mut self, v: &Value, loc: &str) -> Option<JsonPath> {
        match v.as_str().map(JsonPath::parse) {
            Some(Ok(p)) => {
                self.note_path(&p);
                Some(p)
            }
            Some(Err(e)) => {
                self.schema(format!("The value for the field must be a valid JSONPath: {}", e.reason), loc);
                None
            }
            None => {
                self.schema("The value for the field must be a string".into(), loc);
                None
            }
        }
    }

    pub(super) fn template(&mut self, v: &Value, loc: &str) -> Template {
        let t = Template::compile(v, loc, &mut self.diags);
        if t.reads_context() {
            self.reads_context = true;
        }
        t
    }

    pub(super) fn jtemplate(&mut self, v: &Value, loc: &str) -> JTemplate {
        match v {
            Value::String(s) => match is_ata(s) {
                Some(src) => match Expr::parse(src) {
                    Ok(e) => {
                        if e.reads_context() {
                            self.reads_context = true;
                        }
                        JTemplate::Expr(Box::new(e))
                    }
                    Err(msg) => {
                        self.schema(format!("The JSONata expression '{src}' is not valid: {msg}"), loc);
                        JTemplate::Const(Value::Null)
                    }
                },
                None => JTemplate::Const(v.clone()),
            },
            Value::Object(o) => {
                let fields: Vec<(String, JTemplate)> = o
                    .iter()
                    .map(|(k, x)| (k.clone(), self.jtemplate(x, &format!("{loc}/{}", escape_pointer(k)))))
                    .collect();
                if fields.iter().all(|(_, t)| matches!(t, JTemplate::Const(_))) {
                    JTemplate::Const(v.clone())
                } else {
                    JTemplate::Object(fields)
                }
            }
            Value::Array(a) => {
                let items: Vec<JTemplate> =
                    a.iter().enumerate().map(|(i, x)| self.jtemplate(x, &format!("{loc}/{i}"))).collect();
                if items.iter().all(|t| matches!(t, JTemplate::Const(_))) {
                    JTemplate::Const(v.clone())
                } else {
                    JTemplate::Array(items)
                }
            }
            other => JTemplate::Const(other.clone()),
        }
    }

    pub(super) fn assign(&mut self, v: &Value, loc: &str, ql: QueryLanguage) -> Assign {
        let Some(o) = v.as_object() else {
            self.schema("Assign must be an object".into(), loc);
            return Assign::Ata(Vec::new());
        };
        for k in o.keys() {
            let name = k.strip_suffix(".$").unwrap_or(k);
            let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && name.len() <= 80;
            if !valid || name == "states" {
                self.schema(
                    format!("The variable name '{name}' is not valid"),
                    &format!("{loc}/{}", escape_pointer(k)),
                );
            }
        }
        match ql {
            QueryLanguage::JsonPath => Assign::Path(self.template(v, loc)),
            QueryLanguage::Jsonata => Assign::Ata(
                o.iter()
                    .map(|(k, x)| (k.clone(), self.jtemplate(x, &format!("{loc}/{}", escape_pointer(k)))))
                    .collect(),
            ),
        }
    }

    /// Error/Cause of a Fail state (with their Path forms).
    pub(super) fn string_field(
        &mut self,
        o: &Map<String, Value>,
        lit: &str,
        path: &str,
        loc: &str,
        ql: QueryLanguage,
    ) -> Option<Dyn<String>> {
        match (o.get(lit), o.get(path)) {
            (Some(_), Some(_)) => {
                self.schema(format!("Fields '{lit}' and '{path}' are mutually exclusive"), loc);
                None
            }
            (Some(Value::String(s)), None) => {
                if ql == QueryLanguage::Jsonata && is_ata(s).is_some() {
                    Some(Dyn::Ata(self.jtemplate(&Value::String(s.clone()), &format!("{loc}/{lit}"))))
                } else {
                    Some(Dyn::Lit(s.clone()))
                }
            }
            (Some(_), None) => {
                self.schema(format!("The field '{lit}' must be a string"), &format!("{loc}/{lit}"));
                None
            }
            (None, Some(v)) => {
                let ploc = format!("{loc}/{path}");
                match v.as_str() {
                    Some(s) if intrinsic::looks_like_call(s) => match Call::parse(s) {
                        Ok(c) => Some(Dyn::Call(Box::new(c))),
                        Err(e) => {
                            self.schema(
                                format!(
                                    "The value for the field '{path}' must be a valid intrinsic function call: {e}"
                                ),
                                &ploc,
                            );
                            None
                        }
                    },
                    _ => self.path(v, &ploc).map(Dyn::Path),
                }
            }
            (None, None) => None,
        }
    }

    /// An integer field with an optional `…Path` form (JSONPath) or JSONata expression.
    pub(super) fn int_field(
        &mut self,
        o: &Map<String, Value>,
        lit: &str,
        path: Option<&str>,
        loc: &str,
        ql: QueryLanguage,
        min: u64,
    ) -> Option<Dyn<u64>> {
        let p = path.and_then(|p| o.get(p).map(|v| (p, v)));
        match (o.get(lit), p) {
            (Some(_), Some((pn, _))) => {
                self.schema(format!("Fields '{lit}' and '{pn}' are mutually exclusive"), loc);
                None
            }
            (Some(v), None) => {
                let floc = format!("{loc}/{lit}");
                if let (QueryLanguage::Jsonata, Some(s)) = (ql, v.as_str()) {
                    if is_ata(s).is_some() {
                        return Some(Dyn::Ata(self.jtemplate(v, &floc)));
                    }
                }
                match v.as_u64() {
                    Some(n) if n >= min && n <= 99_999_999 => Some(Dyn::Lit(n)),
                    _ => {
                        self.schema(format!("The field '{lit}' must be an integer from {min} to 99999999"), &floc);
                        None
                    }
                }
            }
            (None, Some((pn, v))) => self.path(v, &format!("{loc}/{pn}")).map(Dyn::Path),
            (None, None) => None,
        }
    }
}
