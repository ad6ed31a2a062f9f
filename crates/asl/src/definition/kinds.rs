//! The fields of particular state types: Wait, Task, Map (with ItemReader, ItemBatcher and
//! failure tolerance), Retry and Catch, and Choice rules.

use super::*;

impl Compiler {
    pub(super) fn wait(&mut self, o: &Map<String, Value>, loc: &str, ql: QueryLanguage) -> Option<Kind> {
        let present: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
            .into_iter()
            .filter(|k| o.contains_key(*k))
            .collect();
        if present.len() != 1 {
            self.schema("A Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath".into(), loc);
            return None;
        }
        match present[0] {
            "Seconds" | "SecondsPath" => {
                self.int_field(o, "Seconds", Some("SecondsPath"), loc, ql, 0).map(|d| Kind::Wait(WaitSpec::Seconds(d)))
            }
            "Timestamp" => {
                let floc = format!("{loc}/Timestamp");
                let v = &o["Timestamp"];
                let s = v.as_str().unwrap_or_default();
                if ql == QueryLanguage::Jsonata && is_ata(s).is_some() {
                    return Some(Kind::Wait(WaitSpec::Timestamp(Dyn::Ata(self.jtemplate(v, &floc)))));
                }
                if choice::parse_timestamp(s).is_none() {
                    self.schema("String does not match RFC3339 timestamp".into(), &floc);
                    return None;
                }
                Some(Kind::Wait(WaitSpec::Timestamp(Dyn::Lit(s.to_string()))))
            }
            _ => self
                .path(&o["TimestampPath"], &format!("{loc}/TimestampPath"))
                .map(|p| Kind::Wait(WaitSpec::Timestamp(Dyn::Path(p)))),
        }
    }

    pub(super) fn task(&mut self, o: &Map<String, Value>, loc: &str, ql: QueryLanguage) -> Option<Kind> {
        let Some(resource) = o.get("Resource").and_then(Value::as_str) else {
            self.schema("These fields are required: [Resource]".into(), loc);
            return None;
        };
        if !resource.starts_with("arn:") {
            self.schema(format!("Resource '{resource}' is not a valid ARN"), &format!("{loc}/Resource"));
        }
        if self.ty == MachineType::Express {
            let rloc = format!("{loc}/Resource");
            if resource.ends_with(".sync") || resource.contains(".sync:") {
                self.schema("The .sync integration pattern is not supported for EXPRESS state machines".into(), &rloc);
            } else if resource.ends_with(".waitForTaskToken") {
                self.schema(
                    "The .waitForTaskToken integration pattern is not supported for EXPRESS state machines".into(),
                    &rloc,
                );
            } else if resource.contains(":activity:") {
                self.schema("Activities are not supported for EXPRESS state machines".into(), &rloc);
            }
        }
        let timeout = self.int_field(o, "TimeoutSeconds", Some("TimeoutSecondsPath"), loc, ql, 1);
        let heartbeat = self.int_field(o, "HeartbeatSeconds", Some("HeartbeatSecondsPath"), loc, ql, 1);
        if let (Some(Dyn::Lit(t)), Some(Dyn::Lit(h))) = (&timeout, &heartbeat) {
            if h >= t {
                self.schema(
                    "HeartbeatSeconds must be smaller than TimeoutSeconds".into(),
                    &format!("{loc}/HeartbeatSeconds"),
                );
            }
        }
        Some(Kind::Task(Box::new(TaskSpec { resource: resource.to_string(), timeout, heartbeat })))
    }

    pub(super) fn map(&mut self, o: &Map<String, Value>, loc: &str, ql: QueryLanguage) -> Option<Kind> {
        let (proc_key, proc_v) = match (o.get("ItemProcessor"), o.get("Iterator")) {
            (Some(p), None) => ("ItemProcessor", p),
            (None, Some(i)) => ("Iterator", i),
            (Some(_), Some(_)) => {
                self.schema("Fields 'ItemProcessor' and 'Iterator' are mutually exclusive".into(), loc);
                return None;
            }
            (None, None) => {
                self.schema("These fields are required: [ItemProcessor]".into(), loc);
                return None;
            }
        };
        if o.contains_key("Parameters") && o.contains_key("ItemSelector") {
            self.schema("Fields 'Parameters' and 'ItemSelector' are mutually exclusive".into(), loc);
        }
        if o.contains_key("ItemReader") || o.contains_key("ResultWriter") {
            if self.ty == MachineType::Express {
                self.schema(
                    "ItemReader and ResultWriter need a DISTRIBUTED Map, which EXPRESS state machines do not support"
                        .into(),
                    loc,
                );
            } else {
                self.schema("ItemReader and ResultWriter are not supported yet".into(), loc);
            }
        }
        let ploc = format!("{loc}/{proc_key}");
        let processor = match proc_v.as_object() {
            Some(po) => self.block(po, &ploc, ql, false),
            None => {
                self.schema("The item processor must be an object".into(), &ploc);
                None
            }
        }?;
        let items_path = o.get("ItemsPath").and_then(|v| self.path(v, &format!("{loc}/ItemsPath")));
        let items = o.get("Items").map(|v| {
            let t = self.jtemplate(v, &format!("{loc}/Items"));
            if let JTemplate::Const(c) = &t {
                if !c.is_array() {
                    self.schema("Items must be an array or a JSONata expression".into(), &format!("{loc}/Items"));
                }
            }
            t
        });
        let selector_v = o.get("ItemSelector").or_else(|| o.get("Parameters"));
        let (item_selector, item_selector_ata) = match (ql, selector_v) {
            (_, None) => (None, None),
            (QueryLanguage::JsonPath, Some(v)) => (Some(self.template(v, &format!("{loc}/ItemSelector"))), None),
            (QueryLanguage::Jsonata, Some(v)) => (None, Some(self.jtemplate(v, &format!("{loc}/ItemSelector")))),
        };
        let batcher = o.get("ItemBatcher").and_then(|v| {
            let bloc = format!("{loc}/ItemBatcher");
            let Some(bo) = v.as_object() else {
                self.schema("ItemBatcher must be an object".into(), &bloc);
                return None;
            };
            let max_items = self.int_field(bo, "MaxItemsPerBatch", Some("MaxItemsPerBatchPath"), &bloc, ql, 0);
            let max_bytes =
                self.int_field(bo, "MaxInputBytesPerBatch", Some("MaxInputBytesPerBatchPath"), &bloc, ql, 0);
            let (batch_input, batch_input_ata) = match (ql, bo.get("BatchInput")) {
                (_, None) => (None, None),
                (QueryLanguage::JsonPath, Some(v)) => (Some(self.template(v, &format!("{bloc}/BatchInput"))), None),
                (QueryLanguage::Jsonata, Some(v)) => (None, Some(self.jtemplate(v, &format!("{bloc}/BatchInput")))),
            };
            Some(Batcher { max_items, max_bytes, batch_input, batch_input_ata })
        });
        let max_concurrency = self.int_field(o, "MaxConcurrency", Some("MaxConcurrencyPath"), loc, ql, 0);
        let tolerated_count = self.int_field(o, "ToleratedFailureCount", Some("ToleratedFailureCountPath"), loc, ql, 0);
        let tolerated_pct = match (o.get("ToleratedFailurePercentage"), o.get("ToleratedFailurePercentagePath")) {
            (Some(_), Some(_)) => {
                self.schema(
                    "Fields 'ToleratedFailurePercentage' and 'ToleratedFailurePercentagePath' are mutually exclusive"
                        .into(),
                    loc,
                );
                None
            }
            (Some(v), None) => {
                let floc = format!("{loc}/ToleratedFailurePercentage");
                match (v.as_f64(), v.as_str()) {
                    (Some(x), _) if (0.0..=100.0).contains(&x) => Some(Dyn::Lit(x)),
                    (_, Some(s)) if ql == QueryLanguage::Jsonata && is_ata(s).is_some() => {
                        Some(Dyn::Ata(self.jtemplate(v, &floc)))
                    }
                    _ => {
                        self.schema("ToleratedFailurePercentage must be a number from 0 to 100".into(), &floc);
                        None
                    }
                }
            }
            (None, Some(v)) => self.path(v, &format!("{loc}/ToleratedFailurePercentagePath")).map(Dyn::Path),
            (None, None) => None,
        };
        Some(Kind::Map(Box::new(MapSpec {
            items_path,
            items,
            item_selector,
            item_selector_ata,
            batcher,
            processor,
            max_concurrency,
            tolerated_pct,
            tolerated_count,
        })))
    }

    pub(super) fn error_list(&mut self, o: &Map<String, Value>, loc: &str) -> Vec<String> {
        let Some(arr) = o.get("ErrorEquals").and_then(Value::as_array) else {
            self.schema("These fields are required: [ErrorEquals]".into(), loc);
            return Vec::new();
        };
        if arr.is_empty() {
            self.schema("ErrorEquals must not be empty".into(), &format!("{loc}/ErrorEquals"));
        }
        let names: Vec<String> = arr.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
        if names.len() != arr.len() {
            self.schema("ErrorEquals must hold strings".into(), &format!("{loc}/ErrorEquals"));
        }
        if names.iter().any(|n| n == "States.ALL") && names.len() > 1 {
            self.schema("States.ALL must appear alone in ErrorEquals".into(), &format!("{loc}/ErrorEquals"));
        }
        names
    }

    pub(super) fn check_all_last(&mut self, lists: &[Vec<String>], loc: &str) {
        for (i, l) in lists.iter().enumerate() {
            if i + 1 < lists.len() && l.iter().any(|n| n == "States.ALL") {
                self.schema("States.ALL must be the last error matcher".into(), &format!("{loc}/{i}/ErrorEquals"));
            }
        }
    }

    pub(super) fn retriers(&mut self, v: &Value, loc: &str) -> Vec<Retrier> {
        let Some(arr) = v.as_array() else {
            self.schema("Retry must be an array".into(), loc);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, r) in arr.iter().enumerate() {
            let rloc = format!("{loc}/{i}");
            let Some(o) = r.as_object() else {
                self.schema("A retrier must be an object".into(), &rloc);
                continue;
            };
            for k in o.keys() {
                if ![
                    "ErrorEquals",
                    "IntervalSeconds",
                    "MaxAttempts",
                    "BackoffRate",
                    "MaxDelaySeconds",
                    "JitterStrategy",
                    "Comment",
                ]
                .contains(&k.as_str())
                {
                    self.schema(format!("Field '{k}' is not supported in a retrier"), &format!("{rloc}/{k}"));
                }
            }
            let errors = self.error_list(o, &rloc);
            let num = |c: &mut Self, k: &str, def: f64, min: f64, int: bool| -> f64 {
                match o.get(k) {
                    None => def,
                    Some(v) => match v.as_f64() {
                        Some(x) if x >= min && (!int || x.fract() == 0.0) && x <= 99_999_999.0 => x,
                        _ => {
                            c.schema(format!("The field '{k}' has an invalid value: {v}"), &format!("{rloc}/{k}"));
                            def
                        }
                    },
                }
            };
            let interval = num(self, "IntervalSeconds", 1.0, 1.0, true);
            let max_attempts = num(self, "MaxAttempts", 3.0, 0.0, true) as u32;
            let backoff = num(self, "BackoffRate", 2.0, 1.0, false);
            let max_delay = o.get("MaxDelaySeconds").map(|_| num(self, "MaxDelaySeconds", 0.0, 1.0, true));
            let jitter = match o.get("JitterStrategy").map(|v| v.as_str()) {
                None | Some(Some("NONE")) => false,
                Some(Some("FULL")) => true,
                _ => {
                    self.schema("JitterStrategy must be FULL or NONE".into(), &format!("{rloc}/JitterStrategy"));
                    false
                }
            };
            out.push(Retrier { errors, interval, max_attempts, backoff, max_delay, jitter });
        }
        let lists: Vec<Vec<String>> = out.iter().map(|r| r.errors.clone()).collect();
        self.check_all_last(&lists, loc);
        out
    }

    pub(super) fn catchers(
        &mut self,
        v: &Value,
        loc: &str,
        ql: QueryLanguage,
        names: &HashMap<&str, usize>,
        refs: &mut Vec<Pending>,
    ) -> Vec<Catcher> {
        let Some(arr) = v.as_array() else {
            self.schema("Catch must be an array".into(), loc);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, c) in arr.iter().enumerate() {
            let cloc = format!("{loc}/{i}");
            let Some(o) = c.as_object() else {
                self.schema("A catcher must be an object".into(), &cloc);
                continue;
            };
            let mut allowed = vec!["ErrorEquals", "Next", "Comment", "Assign"];
            allowed.push(if ql == QueryLanguage::JsonPath { "ResultPath" } else { "Output" });
            for k in o.keys() {
                if !allowed.contains(&k.as_str()) {
                    self.schema(format!("Field '{k}' is not supported in a catcher"), &format!("{cloc}/{k}"));
                }
            }
            let errors = self.error_list(o, &cloc);
            if !o.contains_key("Next") {
                self.schema("These fields are required: [Next]".into(), &cloc);
            }
            let next = self.target(o.get("Next"), &format!("{cloc}/Next"), names, refs);
            let result_path = self.path_opt(o.get("ResultPath"), &format!("{cloc}/ResultPath"), true);
            let assign = o.get("Assign").map(|v| self.assign(v, &format!("{cloc}/Assign"), ql));
            let output = o.get("Output").map(|v| self.jtemplate(v, &format!("{cloc}/Output")));
            out.push(Catcher { errors, result_path, next: next.unwrap_or(usize::MAX), assign, output });
        }
        let lists: Vec<Vec<String>> = out.iter().map(|r| r.errors.clone()).collect();
        self.check_all_last(&lists, loc);
        out
    }

    pub(super) fn choice(
        &mut self,
        o: &Map<String, Value>,
        loc: &str,
        ql: QueryLanguage,
        names: &HashMap<&str, usize>,
        refs: &mut Vec<Pending>,
    ) -> Option<Kind> {
        let Some(arr) = o.get("Choices").and_then(Value::as_array) else {
            self.schema("These fields are required: [Choices]".into(), loc);
            return None;
        };
        if arr.is_empty() {
            self.schema("Choices must not be empty".into(), &format!("{loc}/Choices"));
        }
        let mut choices = Vec::new();
        for (i, c) in arr.iter().enumerate() {
            let cloc = format!("{loc}/Choices/{i}");
            let Some(co) = c.as_object() else {
                self.schema("A choice rule must be an object".into(), &cloc);
                continue;
            };
            if !co.contains_key("Next") {
                self.schema("These fields are required: [Next]".into(), &cloc);
            }
            let next = self.target(co.get("Next"), &format!("{cloc}/Next"), names, refs);
            let assign = co.get("Assign").map(|v| self.assign(v, &format!("{cloc}/Assign"), ql));
            let output = co.get("Output").map(|v| self.jtemplate(v, &format!("{cloc}/Output")));
            let cond = match ql {
                QueryLanguage::JsonPath => self.rule(co, &cloc, true).map(Condition::Path),
                QueryLanguage::Jsonata => {
                    for k in co.keys() {
                        if !["Condition", "Next", "Assign", "Output", "Comment"].contains(&k.as_str()) {
                            self.schema(
                                format!("Field '{k}' is not supported in a JSONata choice rule"),
                                &format!("{cloc}/{k}"),
                            );
                        }
                    }
                    match co.get("Condition") {
                        Some(v) => Some(Condition::Ata(self.jtemplate(v, &format!("{cloc}/Condition")))),
                        None => {
                            self.schema("These fields are required: [Condition]".into(), &cloc);
                            None
                        }
                    }
                }
            };
            if let (Some(cond), Some(next)) = (cond, next) {
                choices.push(ChoiceBranch { cond, next, assign, output });
            }
        }
        let default = self.target(o.get("Default"), &format!("{loc}/Default"), names, refs);
        Some(Kind::Choice { choices, default })
    }

    pub(super) fn rule(&mut self, o: &Map<String, Value>, loc: &str, top: bool) -> Option<Rule> {
        let extra: &[&str] = if top { &["Next", "Comment", "Assign"] } else { &["Comment"] };
        let mut ops = Vec::new();
        for k in o.keys() {
            if extra.contains(&k.as_str()) || k == "Variable" {
                continue;
            }
            ops.push(k.as_str());
        }
        if ops.len() != 1 {
            self.schema(
                if ops.is_empty() {
                    "A choice rule needs a comparison operator or And/Or/Not".to_string()
                } else {
                    format!("A choice rule must have exactly one operator, found: {}", ops.join(", "))
                },
                loc,
            );
            return None;
        }
        let op = ops[0];
        let oloc = format!("{loc}/{op}");
        let v = &o[op];
        if matches!(op, "And" | "Or") {
            if o.contains_key("Variable") {
                self.schema("Variable is not allowed with And/Or".into(), loc);
            }
            let Some(arr) = v.as_array() else {
                self.schema(format!("{op} must be an array of rules"), &oloc);
                return None;
            };
            let mut rules = Vec::new();
            for (i, r) in arr.iter().enumerate() {
                match r.as_object() {
                    Some(ro) => rules.extend(self.rule(ro, &format!("{oloc}/{i}"), false)),
                    None => self.schema("A choice rule must be an object".into(), &format!("{oloc}/{i}")),
                }
            }
            if rules.len() != arr.len() {
                return None;
            }
            return Some(if op == "And" { Rule::And(rules) } else { Rule::Or(rules) });
        }
        if op == "Not" {
            let Some(ro) = v.as_object() else {
                self.schema("Not must be a rule".into(), &oloc);
                return None;
            };
            return self.rule(ro, &oloc, false).map(|r| Rule::Not(Box::new(r)));
        }
        let Some(var_v) = o.get("Variable") else {
            self.schema("These fields are required: [Variable]".into(), loc);
            return None;
        };
        let var = self.path(var_v, &format!("{loc}/Variable"))?;
        if let Some((_, test)) = choice::TESTS.iter().find(|(n, _)| *n == op) {
            let Some(b) = v.as_bool() else {
                self.schema(format!("{op} must be a boolean"), &oloc);
                return None;
            };
            return Some(Rule::Test { var, test: *test, expect: b });
        }
        if op == "StringMatches" {
            let Some(s) = v.as_str() else {
                self.schema("StringMatches must be a string".into(), &oloc);
                return None;
            };
            return Some(Rule::Matches { var, pattern: choice::compile_pattern(s) });
        }
        let Some(&(_, kind, cmp, is_path)) = choice::OPERATORS.iter().find(|(n, ..)| *n == op) else {
            self.schema(format!("Unknown comparison operator '{op}'"), &oloc);
            return None;
        };
        let rhs = if is_path {
            Operand::Path(self.path(v, &oloc)?)
        } else {
            let ok = match kind {
                choice::Kind::String => v.is_string(),
                choice::Kind::Numeric => v.is_number(),
                choice::Kind::Boolean => v.is_boolean(),
                choice::Kind::Timestamp => v.as_str().and_then(choice::parse_timestamp).is_some(),
            };
            if !ok {
                self.schema(format!("The value of {op} has the wrong type: {v}"), &oloc);
                return None;
            }
            Operand::Value(v.clone())
        };
        Some(Rule::Compare { var, kind, cmp, rhs })
    }
}
