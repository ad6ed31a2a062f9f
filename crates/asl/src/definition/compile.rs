//! Validation and compilation of a whole definition: the fields each state type allows, the
//! blocks (the machine, Parallel branches, Map processors) with their transitions resolved, and
//! each state's common fields. Every problem is collected with its code and JSON location.

use super::*;

pub(super) fn diag(code: &'static str, message: String, location: &str) -> Diagnostic {
    Diagnostic { code, message, location: location.to_string() }
}

pub(super) const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];

pub(super) fn allowed_fields(ty: &str, ql: QueryLanguage) -> Vec<&'static str> {
    let mut f: Vec<&'static str> = COMMON.to_vec();
    let jp = ql == QueryLanguage::JsonPath;
    let flow = ["Next", "End"];
    match ty {
        "Pass" => {
            f.extend(flow);
            f.push("Assign");
            if jp {
                f.extend(["InputPath", "OutputPath", "Parameters", "ResultPath", "Result"]);
            } else {
                f.push("Output");
            }
        }
        "Task" => {
            f.extend(flow);
            f.extend(["Resource", "TimeoutSeconds", "HeartbeatSeconds", "Retry", "Catch", "Assign", "Credentials"]);
            if jp {
                f.extend([
                    "InputPath",
                    "OutputPath",
                    "Parameters",
                    "ResultPath",
                    "ResultSelector",
                    "TimeoutSecondsPath",
                    "HeartbeatSecondsPath",
                ]);
            } else {
                f.extend(["Arguments", "Output"]);
            }
        }
        "Choice" => {
            f.extend(["Choices", "Default", "Assign"]);
            if jp {
                f.extend(["InputPath", "OutputPath"]);
            } else {
                f.push("Output");
            }
        }
        "Wait" => {
            f.extend(flow);
            f.extend(["Seconds", "Timestamp", "Assign"]);
            if jp {
                f.extend(["InputPath", "OutputPath", "SecondsPath", "TimestampPath"]);
            } else {
                f.push("Output");
            }
        }
        "Succeed" => {
            if jp {
                f.extend(["InputPath", "OutputPath"]);
            } else {
                f.push("Output");
            }
        }
        "Fail" => {
            f.extend(["Error", "Cause"]);
            if jp {
                f.extend(["ErrorPath", "CausePath"]);
            }
        }
        "Parallel" => {
            f.extend(flow);
            f.extend(["Branches", "Retry", "Catch", "Assign"]);
            if jp {
                f.extend(["InputPath", "OutputPath", "Parameters", "ResultPath", "ResultSelector"]);
            } else {
                f.extend(["Arguments", "Output"]);
            }
        }
        "Map" => {
            f.extend(flow);
            f.extend([
                "Iterator",
                "ItemProcessor",
                "ItemSelector",
                "ItemBatcher",
                "ItemReader",
                "ResultWriter",
                "MaxConcurrency",
                "ToleratedFailurePercentage",
                "ToleratedFailureCount",
                "Label",
                "Retry",
                "Catch",
                "Assign",
            ]);
            if jp {
                f.extend([
                    "InputPath",
                    "OutputPath",
                    "Parameters",
                    "ResultPath",
                    "ResultSelector",
                    "ItemsPath",
                    "MaxConcurrencyPath",
                    "ToleratedFailurePercentagePath",
                    "ToleratedFailureCountPath",
                ]);
            } else {
                f.extend(["Items", "Output"]);
            }
        }
        _ => {}
    }
    f
}

pub(super) struct Compiler {
    pub(super) diags: Vec<Diagnostic>,
    pub(super) ty: MachineType,
    pub(super) reads_context: bool,
}

/// Names a state refers to, resolved once every state of the block is known.
pub(super) struct Pending {
    pub(super) name: String,
    pub(super) loc: String,
}

/// A JSONata expression is a string that starts with `{%` and ends with `%}` exactly;
/// anything else (even with surrounding spaces) is a literal.
pub(super) fn is_ata(s: &str) -> Option<&str> {
    if s.len() >= 4 && s.starts_with("{%") && s.ends_with("%}") {
        Some(&s[2..s.len() - 2])
    } else {
        None
    }
}

/// Validate `def` (collecting every problem) and compile it.
pub(super) fn compile(def: &Value, ty: MachineType) -> Result<StateMachine, DefinitionError> {
    let mut c = Compiler { diags: Vec::new(), ty, reads_context: false };
    let Some(obj) = def.as_object() else {
        return Err(DefinitionError::Invalid(vec![diag(
            "SCHEMA_VALIDATION_FAILED",
            "The state machine definition must be a JSON object".into(),
            "",
        )]));
    };
    let ql = match obj.get("QueryLanguage") {
        None => QueryLanguage::JsonPath,
        Some(v) => c.query_language(v, "/QueryLanguage").unwrap_or(QueryLanguage::JsonPath),
    };
    let root = c.block(obj, "", ql, true);
    if !c.diags.is_empty() {
        return Err(DefinitionError::Invalid(c.diags));
    }
    let root = root.ok_or_else(|| DefinitionError::Invalid(vec![]))?;
    Ok(StateMachine {
        root,
        reads_context: c.reads_context,
        comment: obj.get("Comment").and_then(Value::as_str).map(str::to_string),
    })
}

impl Compiler {
    pub(super) fn err(&mut self, code: &'static str, message: String, loc: &str) {
        self.diags.push(diag(code, message, loc));
    }

    pub(super) fn schema(&mut self, message: String, loc: &str) {
        self.err("SCHEMA_VALIDATION_FAILED", message, loc);
    }

    pub(super) fn query_language(&mut self, v: &Value, loc: &str) -> Option<QueryLanguage> {
        match v.as_str() {
            Some("JSONPath") => Some(QueryLanguage::JsonPath),
            Some("JSONata") => Some(QueryLanguage::Jsonata),
            _ => {
                self.schema("QueryLanguage must be JSONPath or JSONata".into(), loc);
                None
            }
        }
    }

    pub(super) fn block(&mut self, obj: &Map<String, Value>, loc: &str, ql: QueryLanguage, top: bool) -> Option<Block> {
        let mut missing = Vec::new();
        let states_v = obj.get("States");
        let start_v = obj.get("StartAt");
        if states_v.is_none() {
            missing.push("States");
        }
        if start_v.is_none() {
            missing.push("StartAt");
        }
        if !missing.is_empty() {
            self.schema(
                format!("These fields are required: [{}]", missing.join(", ")),
                if loc.is_empty() { "/" } else { loc },
            );
            return None;
        }
        let allowed: &[&str] = if top {
            &["States", "StartAt", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"]
        } else {
            &["States", "StartAt", "Comment", "ProcessorConfig", "QueryLanguage"]
        };
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                self.schema(format!("Field '{k}' is not supported"), &format!("{loc}/{}", escape_pointer(k)));
            }
        }
        let ql = match obj.get("QueryLanguage") {
            Some(v) if !top => self.query_language(v, &format!("{loc}/QueryLanguage")).unwrap_or(ql),
            _ => ql,
        };
        let timeout_seconds = match obj.get("TimeoutSeconds") {
            Some(v) if top => match v.as_u64() {
                Some(n) if n > 0 => Some(n),
                _ => {
                    self.schema("TimeoutSeconds must be a positive integer".into(), &format!("{loc}/TimeoutSeconds"));
                    None
                }
            },
            _ => None,
        };
        if let Some(pc) = obj.get("ProcessorConfig") {
            self.processor_config(pc, &format!("{loc}/ProcessorConfig"));
        }
        let Some(states) = states_v.and_then(Value::as_object) else {
            self.schema("States must be an object".into(), &format!("{loc}/States"));
            return None;
        };
        let Some(start) = start_v.and_then(Value::as_str) else {
            self.schema("StartAt must be a string".into(), &format!("{loc}/StartAt"));
            return None;
        };
        if states.is_empty() {
            self.schema("States must not be empty".into(), &format!("{loc}/States"));
            return None;
        }
        let names: HashMap<&str, usize> = states.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
        let mut pending: Vec<Vec<Pending>> = Vec::new();
        let mut compiled = Vec::with_capacity(states.len());
        for (name, sv) in states {
            let sloc = format!("{loc}/States/{}", escape_pointer(name));
            if name.is_empty() || name.chars().count() > 80 {
                self.schema("State names must be 1 to 80 characters long".into(), &sloc);
            }
            let mut refs = Vec::new();
            let st = self.state(name, sv, &sloc, ql, &names, &mut refs);
            pending.push(refs);
            compiled.push(st);
        }
        let start_idx = names.get(start).copied();
        if start_idx.is_none() {
            self.err(
                "MISSING_TRANSITION_TARGET",
                format!("Missing 'StartAt' target: {start}"),
                &format!("{loc}/StartAt"),
            );
        }
        for refs in &pending {
            for r in refs {
                if !names.contains_key(r.name.as_str()) {
                    self.err("MISSING_TRANSITION_TARGET", format!("Missing 'Next' target: {}", r.name), &r.loc);
                }
            }
        }
        // Reachability from StartAt (meaningless when StartAt itself is missing).
        let mut seen = HashSet::new();
        let mut stack = if start_idx.is_some() { vec![start] } else { Vec::new() };
        if start_idx.is_none() {
            seen.extend(states.keys().map(String::as_str));
        }
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            if let Some(&i) = names.get(n) {
                stack.extend(pending[i].iter().filter_map(|r| names.get_key_value(r.name.as_str()).map(|(k, _)| *k)));
            }
        }
        for name in states.keys() {
            if !seen.contains(name.as_str()) {
                self.err(
                    "UNREACHABLE_STATE",
                    format!("State '{name}' is not reachable"),
                    &format!("{loc}/States/{}", escape_pointer(name)),
                );
            }
        }
        let start_idx = start_idx?;
        if compiled.iter().any(Option::is_none) {
            return None;
        }
        let states: Vec<State> = compiled.into_iter().flatten().collect();
        let never_waits = states.iter().all(|s| !s.waits());
        let most_states = if never_waits { most_states(&states, start_idx) } else { None };
        Some(Block { start: start_idx, states, timeout_seconds, never_waits, most_states })
    }

    pub(super) fn processor_config(&mut self, v: &Value, loc: &str) {
        let Some(o) = v.as_object() else {
            self.schema("ProcessorConfig must be an object".into(), loc);
            return;
        };
        for (k, x) in o {
            match k.as_str() {
                "Mode" => match x.as_str() {
                    Some("INLINE") => {}
                    Some("DISTRIBUTED") if self.ty == MachineType::Express => self.schema(
                        "DISTRIBUTED Map is not supported for EXPRESS state machines".into(),
                        &format!("{loc}/Mode"),
                    ),
                    Some("DISTRIBUTED") => {}
                    _ => self.schema("Mode must be INLINE or DISTRIBUTED".into(), &format!("{loc}/Mode")),
                },
                "ExecutionType" => {}
                _ => self.schema(format!("Field '{k}' is not supported"), &format!("{loc}/{k}")),
            }
        }
    }

    pub(super) fn target(
        &mut self,
        v: Option<&Value>,
        loc: &str,
        names: &HashMap<&str, usize>,
        refs: &mut Vec<Pending>,
    ) -> Option<usize> {
        let v = v?;
        let Some(s) = v.as_str() else {
            self.schema("Next must be a string".into(), loc);
            return None;
        };
        refs.push(Pending { name: s.to_string(), loc: loc.to_string() });
        names.get(s).copied()
    }

    #[allow(clippy::too_many_lines)]
    pub(super) fn state(
        &mut self,
        name: &str,
        sv: &Value,
        loc: &str,
        parent_ql: QueryLanguage,
        names: &HashMap<&str, usize>,
        refs: &mut Vec<Pending>,
    ) -> Option<State> {
        let Some(o) = sv.as_object() else {
            self.schema("A state must be an object".into(), loc);
            return None;
        };
        let Some(ty_v) = o.get("Type") else {
            self.schema("These fields are required: [Type]".into(), loc);
            return None;
        };
        let type_name: &'static str = match ty_v.as_str() {
            Some("Pass") => "Pass",
            Some("Task") => "Task",
            Some("Choice") => "Choice",
            Some("Wait") => "Wait",
            Some("Succeed") => "Succeed",
            Some("Fail") => "Fail",
            Some("Parallel") => "Parallel",
            Some("Map") => "Map",
            _ => {
                self.schema(format!("Invalid state type: {ty_v}"), &format!("{loc}/Type"));
                return None;
            }
        };
        let ql = match o.get("QueryLanguage") {
            Some(v) => {
                let q = self.query_language(v, &format!("{loc}/QueryLanguage")).unwrap_or(parent_ql);
                if parent_ql == QueryLanguage::Jsonata && q == QueryLanguage::JsonPath {
                    self.schema(
                        "A state cannot use JSONPath when the state machine's QueryLanguage is JSONata".into(),
                        &format!("{loc}/QueryLanguage"),
                    );
                }
                q
            }
            None => parent_ql,
        };
        let allowed = allowed_fields(type_name, ql);
        let before = self.diags.len();
        for k in o.keys() {
            if !allowed.contains(&k.as_str()) {
                let why = match (ql, k.as_str()) {
                    (
                        QueryLanguage::Jsonata,
                        "InputPath"
                        | "OutputPath"
                        | "Parameters"
                        | "ResultPath"
                        | "ResultSelector"
                        | "ItemsPath"
                        | "SecondsPath"
                        | "TimestampPath"
                        | "ErrorPath"
                        | "CausePath"
                        | "MaxConcurrencyPath"
                        | "TimeoutSecondsPath"
                        | "HeartbeatSecondsPath"
                        | "ToleratedFailurePercentagePath"
                        | "ToleratedFailureCountPath"
                        | "Result",
                    ) => format!("The field '{k}' is not supported when QueryLanguage is JSONata"),
                    (QueryLanguage::JsonPath, "Arguments" | "Output" | "Items") => {
                        format!("The field '{k}' is not supported when QueryLanguage is JSONPath")
                    }
                    _ => format!("Field '{k}' is not supported for a {type_name} state"),
                };
                self.schema(why, &format!("{loc}/{}", escape_pointer(k)));
            }
        }
        let schema_ok = self.diags.len() == before;

        let field = |k: &str| format!("{loc}/{k}");
        let input_path = self.path_opt(o.get("InputPath"), &field("InputPath"), false);
        let output_path = self.path_opt(o.get("OutputPath"), &field("OutputPath"), false);
        let result_path = self.path_opt(o.get("ResultPath"), &field("ResultPath"), true);
        let parameters = o.get("Parameters").map(|v| self.template(v, &field("Parameters")));
        let result_selector = o.get("ResultSelector").map(|v| self.template(v, &field("ResultSelector")));
        let arguments = o.get("Arguments").map(|v| self.jtemplate(v, &field("Arguments")));
        let output = o.get("Output").map(|v| self.jtemplate(v, &field("Output")));
        let assign = o.get("Assign").map(|v| self.assign(v, &field("Assign"), ql));

        // Transitions.
        let terminal = matches!(type_name, "Choice" | "Succeed" | "Fail");
        let mut next = None;
        if !terminal {
            let has_next = o.contains_key("Next");
            let end = o.get("End");
            match (has_next, end) {
                (true, Some(_)) => self.schema("Fields 'Next' and 'End' are mutually exclusive".into(), loc),
                (false, None) => self.schema("These fields are required: [Next or End]".into(), loc),
                (false, Some(e)) if e != &Value::Bool(true) => {
                    self.schema("End must be true".into(), &field("End"));
                }
                _ => {}
            }
            next = self.target(o.get("Next"), &field("Next"), names, refs);
        }

        let (retry, catch) = if matches!(type_name, "Task" | "Parallel" | "Map") {
            let retry = o.get("Retry").map(|v| self.retriers(v, &field("Retry"))).unwrap_or_default();
            let catch = o.get("Catch").map(|v| self.catchers(v, &field("Catch"), ql, names, refs)).unwrap_or_default();
            (retry, catch)
        } else {
            (Vec::new(), Vec::new())
        };

        let kind = match type_name {
            "Pass" => Kind::Pass { result: o.get("Result").cloned() },
            "Succeed" => Kind::Succeed,
            "Fail" => {
                let error = self.string_field(o, "Error", "ErrorPath", loc, ql);
                let cause = self.string_field(o, "Cause", "CausePath", loc, ql);
                Kind::Fail { error, cause }
            }
            "Wait" => self.wait(o, loc, ql)?,
            "Choice" => self.choice(o, loc, ql, names, refs)?,
            "Task" => self.task(o, loc, ql)?,
            "Parallel" => {
                let Some(branches) = o.get("Branches").and_then(Value::as_array) else {
                    self.schema("These fields are required: [Branches]".into(), loc);
                    return None;
                };
                let mut out = Vec::new();
                for (i, b) in branches.iter().enumerate() {
                    let bloc = format!("{loc}/Branches/{i}");
                    match b.as_object() {
                        Some(bo) => out.extend(self.block(bo, &bloc, ql, false)),
                        None => self.schema("A branch must be an object".into(), &bloc),
                    }
                }
                if out.len() != branches.len() {
                    return None;
                }
                Kind::Parallel { branches: out }
            }
            "Map" => self.map(o, loc, ql)?,
            _ => return None,
        };
        if !schema_ok {
            return None;
        }
        let at_once = match &kind {
            Kind::Parallel { branches } => {
                retry.is_empty()
                    && ql == QueryLanguage::JsonPath
                    && branches
                        .iter()
                        .map(|b| b.most_states)
                        .sum::<Option<usize>>()
                        .is_some_and(|n| n <= AT_ONCE_STATES)
            }
            _ => false,
        };
        Some(State {
            name: name.into(),
            type_name,
            entered_event: crate::events::EventType::entered(type_name),
            exited_event: crate::events::EventType::exited(type_name),
            ql,
            kind,
            input_path,
            output_path,
            result_path,
            parameters,
            result_selector,
            arguments,
            output,
            assign,
            next,
            retry,
            catch,
            at_once,
        })
    }
}

/// The most states a run of the block from `start` can enter (an at-once Parallel counts
/// with its branches), or `None` when its transitions can loop: the longest path through
/// the states reachable from `start`, found in topological order (no recursion, however
/// long the chain).
fn most_states(states: &[State], start: usize) -> Option<usize> {
    // A transition whose target was missing (the definition is rejected for it) leads nowhere.
    fn successors(st: &State, n: usize) -> impl Iterator<Item = usize> + '_ {
        let choices = match &st.kind {
            Kind::Choice { choices, default } => Some(choices.iter().map(|c| c.next).chain(*default)),
            _ => None,
        };
        let all = st.next.into_iter().chain(choices.into_iter().flatten()).chain(st.catch.iter().map(|c| c.next));
        all.filter(move |&j| j < n)
    }
    let own = |st: &State| match &st.kind {
        Kind::Parallel { branches } => branches.iter().map(|b| b.most_states).sum::<Option<usize>>().map(|n| n + 1),
        _ => Some(1),
    };
    let n = states.len();
    if start >= n {
        return None;
    }
    // The reachable states and how many transitions lead into each.
    let mut reached = vec![false; states.len()];
    let mut into = vec![0usize; states.len()];
    let mut stack = vec![start];
    reached[start] = true;
    while let Some(i) = stack.pop() {
        for j in successors(&states[i], n) {
            into[j] += 1;
            if !std::mem::replace(&mut reached[j], true) {
                stack.push(j);
            }
        }
    }
    // A transition back to the start is a loop. Kahn's order: a state once every state
    // leading into it is placed; any reachable state left unplaced lies on a loop.
    if into[start] > 0 {
        return None;
    }
    let mut order = Vec::with_capacity(states.len());
    let mut ready = vec![start];
    while let Some(i) = ready.pop() {
        order.push(i);
        for j in successors(&states[i], n) {
            into[j] -= 1;
            if into[j] == 0 {
                ready.push(j);
            }
        }
    }
    if order.len() != reached.iter().filter(|r| **r).count() {
        return None;
    }
    let mut most = vec![0usize; states.len()];
    for &i in order.iter().rev() {
        let after = successors(&states[i], n).map(|j| most[j]).max().unwrap_or(0);
        most[i] = own(&states[i])?.checked_add(after)?;
    }
    Some(most[start])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Whether the machine's first state, a Parallel of `branches` with `extra` fields, runs
    /// at once.
    fn at_once(branches: Value, extra: Value) -> bool {
        let mut p = json!({"Type": "Parallel", "Branches": branches, "End": true});
        if let (Some(o), Some(x)) = (p.as_object_mut(), extra.as_object()) {
            o.extend(x.clone());
        }
        let def = json!({"StartAt": "P", "States": {"P": p}});
        let m = StateMachine::from_json(&def.to_string()).expect("a valid definition");
        m.root.states[m.root.start].at_once
    }

    /// A branch of `n` Pass states in a row.
    fn chain(n: usize) -> Value {
        let mut states = serde_json::Map::new();
        for i in 0..n {
            let mut s = json!({"Type": "Pass"});
            if i + 1 == n {
                s["End"] = json!(true);
            } else {
                s["Next"] = json!(format!("S{}", i + 1));
            }
            states.insert(format!("S{i}"), s);
        }
        json!({"StartAt": "S0", "States": states})
    }

    #[test]
    fn a_parallel_runs_at_once_only_when_its_branches_are_short_and_cannot_loop_or_wait() {
        let none = json!({});
        assert!(at_once(json!([chain(1), chain(3)]), none.clone()));
        // Up to 64 states in all, counting those of nested Parallels.
        assert!(at_once(json!([chain(32), chain(32)]), none.clone()));
        assert!(!at_once(json!([chain(32), chain(33)]), none.clone()));
        let nested = json!({"StartAt": "N", "States": {"N": {"Type": "Parallel", "Branches": [chain(30), chain(30)], "End": true}}});
        assert!(at_once(json!([nested, chain(3)]), none.clone()));
        assert!(!at_once(json!([nested, chain(4)]), none.clone()));
        // A Choice counts its longest way through; a loop, back to the start or elsewhere,
        // or a state that waits rules it out, as does a Retry.
        let choice = json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "A"}], "Default": "B"},
            "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}});
        assert!(at_once(json!([choice, chain(61)]), none.clone()));
        assert!(!at_once(json!([choice, chain(62)]), none.clone()));
        let to_start = json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "A"}], "Default": "B"},
            "A": {"Type": "Pass", "Next": "C"}, "B": {"Type": "Pass", "End": true}}});
        assert!(!at_once(json!([to_start]), none.clone()));
        let inner_loop = json!({"StartAt": "S", "States": {
            "S": {"Type": "Pass", "Next": "C"},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "C2"}], "Default": "E"},
            "C2": {"Type": "Choice", "Choices": [{"Variable": "$.b", "IsPresent": true, "Next": "C2"}], "Default": "E"},
            "E": {"Type": "Pass", "End": true}}});
        assert!(!at_once(json!([inner_loop]), none.clone()));
        let waits = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 0, "End": true}}});
        assert!(!at_once(json!([waits]), none.clone()));
        assert!(!at_once(json!([chain(2)]), json!({"Retry": [{"ErrorEquals": ["States.ALL"]}]})));
        assert!(at_once(json!([chain(2)]), json!({"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "P"}]})));
    }

    /// Found by the definition fuzz target: a transition whose target is missing (here a
    /// catcher's `Next`, misspelled) leads nowhere while the states' bounds are found; the
    /// definition is rejected for it, with no panic.
    #[test]
    fn a_transition_without_a_target_is_rejected_not_a_panic() {
        let branch = json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}});
        for catcher in [json!({"ErrorEquals": ["E"], " Next": "C"}), json!({"ErrorEquals": ["E"], "Next": "Nowhere"})] {
            let def = json!({"StartAt": "P", "States": {
                "P": {"Type": "Parallel", "Branches": [branch.clone()], "Catch": [catcher], "Next": "D"},
                "C": {"Type": "Pass", "End": true}, "D": {"Type": "Pass", "End": true}}});
            assert!(StateMachine::from_json(&def.to_string()).is_err(), "{def}");
            let inner = json!({"StartAt": "Q", "States": {"Q": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "P", "States": {
                    "P": {"Type": "Parallel", "Branches": [branch.clone()], "Catch": [def["States"]["P"]["Catch"][0].clone()], "Next": "D"},
                    "D": {"Type": "Pass", "End": true}}}]}}});
            assert!(StateMachine::from_json(&inner.to_string()).is_err(), "{inner}");
        }
    }
}
