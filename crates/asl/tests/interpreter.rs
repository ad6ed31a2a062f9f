//! Behaviour of the interpreter: Task effects through the invoker, Retry and Catch timing,
//! timeouts, Map and Parallel, the Context object, variables, history events and limits.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{failed, run, run_with, succeeded, Script, Step};
use expressway_asl::{EventLog, EventType, Interpreter, Limits, NoEvents, Outcome};
use serde_json::json;

#[tokio::test(start_paused = true)]
async fn task_result_flows_through_selector_and_result_path() {
    let def = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f",
        "InputPath": "$.req", "Parameters": {"id.$": "$.id", "fixed": 1},
        "ResultSelector": {"total.$": "$.sum"}, "ResultPath": "$.res", "OutputPath": "$.res", "End": true}}});
    let tasks =
        Arc::new(Script::default().on("arn:aws:lambda:us-east-1:1:function:f", vec![Step::Ok(json!({"sum": 7}))]));
    let out = succeeded(run_with(&def, json!({"req": {"id": "a"}}), tasks.clone(), &NoEvents).await);
    assert_eq!(out, json!({"total": 7}));
    let calls = tasks.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].1, json!({"id": "a", "fixed": 1}));
}

#[tokio::test(start_paused = true)]
async fn retry_backs_off_then_catch_takes_over() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:x", "End": true,
              "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 3}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Handled"}]},
        "Handled": {"Type": "Pass", "End": true}}});
    let tasks = Arc::new(Script::default().on("arn:x", vec![Step::Err("Boom", "bad")]));
    let out = succeeded(run_with(&def, json!({"k": 1}), tasks.clone(), &NoEvents).await);
    assert_eq!(out, json!({"k": 1, "err": {"Error": "Boom", "Cause": "bad"}}));
    let calls = tasks.calls();
    assert_eq!(calls.iter().map(|c| c.2).collect::<Vec<_>>(), vec![0, 1, 2]);
    // Intervals: 2 s, then 2 * 3 = 6 s.
    assert_eq!(calls[1].3 - calls[0].3, Duration::from_secs(2));
    assert_eq!(calls[2].3 - calls[1].3, Duration::from_secs(6));
}

#[tokio::test(start_paused = true)]
async fn retry_max_delay_caps_the_backoff_and_success_ends_retrying() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:x", "End": true,
        "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 5, "BackoffRate": 10, "MaxDelaySeconds": 7, "MaxAttempts": 5}]}}});
    let tasks = Arc::new(
        Script::default()
            .on("arn:x", vec![Step::Err("Custom", "1"), Step::Err("Custom", "2"), Step::Ok(json!("done"))]),
    );
    assert_eq!(succeeded(run_with(&def, json!({}), tasks.clone(), &NoEvents).await), json!("done"));
    let calls = tasks.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[2].3 - calls[1].3, Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn task_timeout_raises_states_timeout_which_task_failed_does_not_match() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:slow", "TimeoutSeconds": 3, "End": true,
              "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Wrong"}]},
        "Wrong": {"Type": "Succeed"}}});
    let tasks = Arc::new(Script::default().on("arn:slow", vec![Step::Hang]));
    let e = failed(run_with(&def, json!({}), tasks, &NoEvents).await);
    assert_eq!(e.error.as_deref(), Some("States.Timeout"));
}

#[tokio::test(start_paused = true)]
async fn execution_time_limit_times_out() {
    let def = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 400, "End": true}}});
    match run(&def, json!({})).await {
        Outcome::TimedOut(e) => assert_eq!(e.error.as_deref(), Some("States.Timeout")),
        other => panic!("expected a time-out, got {other:?}"),
    }
    let short =
        json!({"TimeoutSeconds": 5, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 6, "End": true}}});
    assert!(matches!(run(&short, json!({})).await, Outcome::TimedOut(_)));
    let ok = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 299, "End": true}}});
    assert_eq!(succeeded(run(&ok, json!({"a": 1})).await), json!({"a": 1}));
}

#[tokio::test(start_paused = true)]
async fn runtime_errors_are_not_caught_by_states_all() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:x", "OutputPath": "$.missing", "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}]},
        "C": {"Type": "Succeed"}}});
    let e = failed(run(&def, json!({})).await);
    assert_eq!(e.error.as_deref(), Some("States.Runtime"));
    assert!(e.cause.as_deref().is_some_and(|c| c.contains("'T' (entered at the event id #2)")), "{e:?}");
}

#[tokio::test(start_paused = true)]
async fn map_runs_items_with_context_selector_batches_and_tolerance() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.xs", "MaxConcurrency": 2,
        "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "k.$": "$.k"},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}});
    let out = succeeded(run(&def, json!({"xs": ["a", "b"], "k": 9})).await);
    assert_eq!(out, json!([{"i": 0, "v": "a", "k": 9}, {"i": 1, "v": "b", "k": 9}]));

    let batched = json!({"StartAt": "M", "States": {"M": {"Type": "Map",
        "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"tag": "t"}},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}});
    let out = succeeded(run(&batched, json!([1, 2, 3])).await);
    assert_eq!(out, json!([{"BatchInput": {"tag": "t"}, "Items": [1, 2]}, {"BatchInput": {"tag": "t"}, "Items": [3]}]));

    let tolerant = |count: u64| {
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ToleratedFailureCount": count,
            "ItemProcessor": {"StartAt": "C", "States": {
                "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericGreaterThan": 1, "Next": "F"}], "Default": "P"},
                "F": {"Type": "Fail", "Error": "Big"},
                "P": {"Type": "Pass", "End": true}}}, "End": true}}})
    };
    let out = succeeded(run(&tolerant(1), json!([1, 2])).await);
    assert_eq!(out[0], json!(1));
    let e = failed(run(&tolerant(0), json!([1, 2])).await);
    assert_eq!(e.error.as_deref(), Some("States.ExceedToleratedFailureThreshold"));
}

#[tokio::test(start_paused = true)]
async fn parallel_branches_run_concurrently_and_a_failure_fails_the_state() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "End": true}}},
        {"StartAt": "W2", "States": {"W2": {"Type": "Wait", "Seconds": 10, "Next": "X"}, "X": {"Type": "Pass", "Result": 2, "End": true}}}]}}});
    let start = tokio::time::Instant::now();
    assert_eq!(succeeded(run(&def, json!(1)).await), json!([1, 2]));
    assert_eq!(start.elapsed(), Duration::from_secs(10), "branches must wait side by side");

    let failing = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}]}}});
    let e = failed(run(&failing, json!({})).await);
    assert_eq!((e.error.as_deref(), e.cause.as_deref()), (Some("E"), Some("C")));
}

#[tokio::test(start_paused = true)]
async fn variables_are_scoped_and_jsonata_sees_states() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"n": "{% $states.input.n %}"}, "Next": "M"},
        "M": {"Type": "Map", "Items": "{% [1, 2, 3] %}",
              "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "Output": "{% $states.input * $n %}", "End": true}}},
              "Output": "{% $sum($states.result) %}", "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input > 10 %}", "Next": "Big"}], "Default": "Small"},
        "Big": {"Type": "Succeed", "Output": "{% {'big': $states.input, 'n': $n} %}"},
        "Small": {"Type": "Fail", "Error": "Small", "Cause": "{% $string($states.input) %}"}}});
    assert_eq!(succeeded(run(&def, json!({"n": 3})).await), json!({"big": 18, "n": 3}));
    let e = failed(run(&def, json!({"n": 1})).await);
    assert_eq!((e.error.as_deref(), e.cause.as_deref()), (Some("Small"), Some("6")));
}

#[tokio::test(start_paused = true)]
async fn history_events_are_numbered_and_typed() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}});
    let log = EventLog::default();
    let tasks = Arc::new(Script::default());
    succeeded(run_with(&def, json!({"x": 1}), tasks, &log).await);
    let events = log.take();
    let types: Vec<EventType> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        vec![
            EventType::ExecutionStarted,
            EventType::PassStateEntered,
            EventType::PassStateExited,
            EventType::SucceedStateEntered,
            EventType::SucceedStateExited,
            EventType::ExecutionSucceeded
        ]
    );
    assert_eq!(events.iter().map(|e| e.id).collect::<Vec<_>>(), (1..=6).collect::<Vec<_>>());
    assert_eq!(events[1].state_name.as_deref(), Some("A"));
    assert_eq!(events[5].details["output"], json!({"x": 1}));
}

#[tokio::test(start_paused = true)]
async fn payload_limit_raises_data_limit_exceeded() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass",
        "Parameters": {"a.$": "$.s", "b.$": "$.s", "c.$": "$.s"}, "End": true}}});
    let interp = Interpreter::new(
        Arc::new(Script::default()),
        Arc::new(common::TokioClock::new()),
        Limits { max_payload_bytes: 1000, ..Limits::default() },
    );
    let small = interp.execute(&common::machine(&def), json!({"s": "x".repeat(100)}), common::info(), &NoEvents).await;
    assert!(matches!(small, Outcome::Succeeded(_)));
    let big = interp.execute(&common::machine(&def), json!({"s": "x".repeat(400)}), common::info(), &NoEvents).await;
    assert_eq!(failed(big).error.as_deref(), Some("States.DataLimitExceeded"));
    let too_big_input =
        interp.execute(&common::machine(&def), json!({"s": "x".repeat(2000)}), common::info(), &NoEvents).await;
    assert_eq!(failed(too_big_input).error.as_deref(), Some("States.DataLimitExceeded"));

    // Small parts of a large input: whatever bound is tracked, the output that fits passes.
    let parts = json!({"StartAt": "A", "States": {"A": {"Type": "Pass",
        "Parameters": {"a.$": "$.t", "b.$": "$.t", "c.$": "States.Format('{}', $.t)"}, "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"a.$": "$.a", "b.$": "$.b", "all.$": "$"}, "End": true}}});
    let fits = interp
        .execute(&common::machine(&parts), json!({"s": "x".repeat(600), "t": 1}), common::info(), &NoEvents)
        .await;
    assert!(matches!(&fits, Outcome::Succeeded(v) if v["all"] == json!({"a": 1, "b": 1, "c": "1"})), "{fits:?}");

    // A state whose InputPath or OutputPath reads the Context object passes on more than its
    // input held: what follows is measured from that, not from the small input before.
    for field in ["InputPath", "OutputPath"] {
        let context = json!({"StartAt": "Small", "States": {
            "Small": {"Type": "Pass", "Result": "k", "Next": "Whole"},
            "Whole": {"Type": "Pass", field: "$$.Execution.Input", "Next": "Twice"},
            "Twice": {"Type": "Pass", "Parameters": {"a.$": "$.s", "b.$": "$.s"}, "End": true}}});
        let twice =
            interp.execute(&common::machine(&context), json!({"s": "x".repeat(600)}), common::info(), &NoEvents).await;
        assert_eq!(failed(twice).error.as_deref(), Some("States.DataLimitExceeded"), "{field}");
    }

    // Map items taken from a small input: an iteration that grows its item past the limit
    // fails, as does a Map whose results together pass it; results that fit succeed.
    let grow = |copies: usize| {
        let params: serde_json::Map<String, serde_json::Value> =
            (0..copies).map(|i| (format!("k{i}.$"), json!("$.s"))).collect();
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor": {
            "StartAt": "G", "States": {"G": {"Type": "Pass", "Parameters": params, "End": true}}}}}})
    };
    let items = |n: usize| json!((0..n).map(|_| json!({"s": "x".repeat(100)})).collect::<Vec<_>>());
    for (copies, n, fits) in [(2, 2, true), (12, 1, false), (5, 2, false)] {
        let out = interp.execute(&common::machine(&grow(copies)), items(n), common::info(), &NoEvents).await;
        match fits {
            true => assert!(matches!(out, Outcome::Succeeded(_)), "{copies} × {n}: {out:?}"),
            false => assert_eq!(failed(out).error.as_deref(), Some("States.DataLimitExceeded"), "{copies} × {n}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn context_object_is_available() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass",
        "Parameters": {"name.$": "$$.Execution.Name", "state.$": "$$.State.Name", "input.$": "$$.Execution.Input.x", "sm.$": "$$.StateMachine.Name"},
        "End": true}}});
    assert_eq!(
        succeeded(run(&def, json!({"x": 5})).await),
        json!({"name": "exec-1", "state": "A", "input": 5, "sm": "sm"})
    );
}

/// A loop that never waits still ends at its time limit, lets other tasks on its thread run
/// meanwhile, and no Catch inside the machine can take the timeout (real time, 1 s).
#[tokio::test(flavor = "current_thread")]
async fn a_loop_that_never_waits_times_out_and_yields() {
    let def = json!({"TimeoutSeconds": 1, "StartAt": "Guarded", "States": {
        "Guarded": {"Type": "Parallel", "End": true,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
            "Branches": [{"StartAt": "A", "States": {
                "A": {"Type": "Pass", "Next": "B"},
                "B": {"Type": "Choice", "Choices": [{"Variable": "$.never", "IsPresent": true, "Next": "Out"}],
                      "Default": "A"},
                "Out": {"Type": "Succeed"}}}]},
        "Caught": {"Type": "Pass", "End": true}}});
    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = {
        let ticks = ticks.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        })
    };
    let started = std::time::Instant::now();
    let outcome = run(&def, json!({})).await;
    counter.abort();
    match outcome {
        Outcome::TimedOut(e) => assert_eq!(e.error.as_deref(), Some("States.Timeout")),
        other => panic!("expected a timeout, got {other:?}"),
    }
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(3), "ended {took:?} after its start, limit 1 s");
    // The other task on this one thread ran while the loop did.
    assert!(ticks.load(std::sync::atomic::Ordering::Relaxed) >= 20, "{ticks:?} ticks in {took:?}");
}

/// Sizes taken from user data are checked: a huge `$pad` width is an evaluation error, not an
/// allocation that aborts the process, and a huge `$substring` length is clamped.
#[tokio::test(start_paused = true)]
async fn jsonata_sizes_from_user_data_are_bounded() {
    let pass = |expr: &str| {
        json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
            "P": {"Type": "Pass", "Output": format!("{{% {expr} %}}"), "End": true}}})
    };
    for width in ["6e9", "-1e300", "1e300"] {
        let e = failed(run(&pass(&format!("$pad('x', {width})")), json!({})).await);
        assert_eq!(e.error.as_deref(), Some("States.QueryEvaluationError"), "{width}: {e:?}");
    }
    let out = succeeded(run(&pass("$substring('hello', 1, 9223372036854775807)"), json!({})).await);
    assert_eq!(out, json!("ello"));
    assert_eq!(succeeded(run(&pass("$pad('x', -3, '#')"), json!({})).await), json!("##x"));
}

/// Counts the tasks running at once.
#[derive(Default)]
struct Gauge {
    now: std::sync::atomic::AtomicUsize,
    max: std::sync::atomic::AtomicUsize,
}

impl expressway_asl::TaskInvoker for Gauge {
    fn invoke<'a>(
        &'a self,
        req: expressway_asl::TaskRequest<'a>,
    ) -> futures::future::BoxFuture<'a, Result<serde_json::Value, expressway_asl::StatesError>> {
        use std::sync::atomic::Ordering::SeqCst;
        Box::pin(async move {
            let n = self.now.fetch_add(1, SeqCst) + 1;
            self.max.fetch_max(n, SeqCst);
            tokio::time::sleep(Duration::from_millis(10)).await;
            self.now.fetch_sub(1, SeqCst);
            Ok(req.input)
        })
    }
}

/// An inline Map without MaxConcurrency runs 40 iterations at once, as AWS does, not all of
/// its items (a million items would otherwise all start together).
#[tokio::test(start_paused = true)]
async fn inline_map_runs_forty_iterations_at_once_by_default() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}}}}}});
    let gauge = Arc::new(Gauge::default());
    let items: Vec<u32> = (0..200).collect();
    let out = succeeded(run_with(&def, json!(items), gauge.clone(), &NoEvents).await);
    assert_eq!(out, json!(items), "every item, in order");
    assert_eq!(gauge.max.load(std::sync::atomic::Ordering::SeqCst), 40);
}

/// A clock that moves on by 100 ms each time it is read and whose timers never fire: only the
/// interpreter's own checks can notice that the time limit has passed.
struct TickingClock(std::sync::atomic::AtomicI64);

impl expressway_asl::Clock for TickingClock {
    fn now_millis(&self) -> i64 {
        self.0.fetch_add(100, std::sync::atomic::Ordering::Relaxed)
    }
    fn sleep(&self, _: Duration) -> futures::future::BoxFuture<'static, ()> {
        Box::pin(futures::future::pending())
    }
}

#[tokio::test]
async fn a_jsonata_evaluation_that_never_ends_is_cut_at_its_step_limit() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass",
        "Output": "{% $reduce([1..1000000], function($a, $b) { $a + $b }) %}", "End": true}}});
    let limits = Limits { max_evaluation_steps: 50_000, ..Limits::default() };
    let interp = Interpreter::new(Arc::new(common::Script::default()), Arc::new(common::TokioClock::new()), limits);
    let e = failed(interp.execute(&common::machine(&def), json!({}), common::info(), &NoEvents).await);
    assert_eq!(e.error.as_deref(), Some("States.QueryEvaluationError"));
    assert!(e.cause.as_deref().is_some_and(|c| c.contains("U1002") && c.contains("50000 steps")), "{e:?}");
}

#[tokio::test]
async fn the_time_limit_ends_a_jsonata_evaluation_mid_way_and_no_catch_takes_it() {
    let def = json!({"QueryLanguage": "JSONata", "TimeoutSeconds": 2, "StartAt": "P", "States": {
        "P": {"Type": "Task", "Resource": "arn:x", "Arguments": "{% $reduce([1..5000000], function($a, $b) { $a + $b }) %}",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
        "Caught": {"Type": "Succeed"}}});
    let clock = Arc::new(TickingClock(std::sync::atomic::AtomicI64::new(1_700_000_000_000)));
    let tasks = Arc::new(common::Script::default().on("arn:x", vec![Step::Echo]));
    let interp = Interpreter::new(tasks.clone(), clock, Limits::default());
    match interp.execute(&common::machine(&def), json!({}), common::info(), &NoEvents).await {
        Outcome::TimedOut(e) => assert_eq!(e.error.as_deref(), Some("States.Timeout")),
        other => panic!("expected a time-out, got {other:?}"),
    }
    assert!(tasks.calls().is_empty(), "the evaluation ran to its end instead of stopping mid-way");
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_run_ends_at_once_with_its_task_call_dropped() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:hang", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "After"}], "Next": "After"},
        "After": {"Type": "Task", "Resource": "arn:after", "End": true}}});
    let tasks = Arc::new(common::Script::default().on("arn:hang", vec![Step::Hang]).on("arn:after", vec![Step::Echo]));
    let interp = Interpreter::new(tasks.clone(), Arc::new(common::TokioClock::new()), Limits::default());
    let cancel = expressway_asl::exec::Cancel::new();
    let stopper = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            cancel.cancel();
        })
    };
    let log = EventLog::default();
    let machine = common::machine(&def);
    let outcome = interp.execute_with(&machine, json!({}), common::info(), &log, Some(&cancel)).await;
    stopper.await.expect("stopper");
    assert_eq!(outcome, Outcome::Aborted);
    let calls: Vec<String> = tasks.calls().into_iter().map(|c| c.0).collect();
    assert_eq!(calls, vec!["arn:hang".to_string()], "nothing ran after the stop");
    let last = log.take().last().map(|e| e.event_type);
    assert_eq!(last, Some(EventType::ExecutionAborted));

    // Stopped before it starts: no state runs.
    let outcome = interp.execute_with(&machine, json!({}), common::info(), &NoEvents, Some(&cancel)).await;
    assert_eq!(outcome, Outcome::Aborted);
    assert_eq!(tasks.calls().len(), 1);
}

#[tokio::test]
async fn seeded_random_numbers_are_the_same_in_every_release() {
    // Pinned: a change of generator would change what existing workflows compute.
    let jsonpath = json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
        "Parameters": {"r.$": "States.MathRandom(1, 1000000, 42)"}, "End": true}}});
    assert_eq!(succeeded(run(&jsonpath, json!({})).await), json!({"r": 526557}));
    let jsonata = json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass",
        "Output": "{% $random(42) %}", "End": true}}});
    assert_eq!(succeeded(run(&jsonata, json!({})).await), json!(0.5265574090027738));
}

/// An input the caller keeps (`execute_borrowed`) ends as an owned one does, whatever the
/// first state does with it (reads it, writes into it, hands it on, fails with it), and is
/// left as it was; Map iterations and Parallel branches start from borrowed inputs the same
/// way.
#[tokio::test]
async fn a_borrowed_input_runs_as_an_owned_one_and_is_left_unchanged() {
    let input = json!({"name": "world", "n": 12, "items": [{"k": 1}, {"k": 20}], "bad": "nope"});
    let pass = |extra: serde_json::Value| {
        let mut s = json!({"Type": "Pass", "End": true});
        if let (Some(s), serde_json::Value::Object(extra)) = (s.as_object_mut(), extra) {
            s.extend(extra);
        }
        json!({"StartAt": "S", "States": {"S": s}})
    };
    let branch_writes =
        json!({"StartAt": "W", "States": {"W": {"Type": "Pass", "Result": 1, "ResultPath": "$.w", "End": true}}});
    let branch_hands_on = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}], "Default": "Big"},
        "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": true}}});
    let branch_reads = json!({"StartAt": "R", "States": {"R": {"Type": "Pass", "Parameters": {"hi.$": "States.Format('hi {}', $.name)"}, "End": true}}});
    let iteration =
        json!({"StartAt": "I", "States": {"I": {"Type": "Pass", "Result": true, "ResultPath": "$.seen", "End": true}}});
    let cases = [
        (pass(json!({"Parameters": {"g.$": "States.Format('Hello, {}!', $.name)"}})), json!({"g": "Hello, world!"})),
        (pass(json!({"InputPath": "$.items[1]"})), json!({"k": 20})),
        (pass(json!({"Result": "r", "ResultPath": "$.name", "OutputPath": "$.name"})), json!("r")),
        (pass(json!({})), input.clone()),
        (json!({"StartAt": "S", "States": {"S": {"Type": "Succeed", "OutputPath": "$.n"}}}), json!(12)),
        (json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "CausePath": "$.bad"}}}), json!(null)),
        (
            json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 12, "Next": "D"}]},
            "D": {"Type": "Pass", "Result": 0, "ResultPath": "$.n", "End": true}}}),
            json!({"name": "world", "n": 0, "items": [{"k": 1}, {"k": 20}], "bad": "nope"}),
        ),
        (
            json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {"Type": "Pass", "Output": "{% $states.input.n + 1 %}", "End": true}}}),
            json!(13),
        ),
        (
            json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {"Type": "Pass", "End": true}}}),
            input.clone(),
        ),
        (
            json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [branch_writes, branch_hands_on, branch_reads]}}}),
            json!([
            {"name": "world", "n": 12, "items": [{"k": 1}, {"k": 20}], "bad": "nope", "w": 1},
            {"name": "world", "n": 12, "items": [{"k": 1}, {"k": 20}], "bad": "nope", "size": "big"},
            {"hi": "hi world"}]),
        ),
        (
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": iteration.clone(), "End": true}}}),
            json!([{"k": 1, "seen": true}, {"k": 20, "seen": true}]),
        ),
        (
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$$.Execution.Input.items", "ItemProcessor": iteration.clone(), "End": true}}}),
            json!([{"k": 1, "seen": true}, {"k": 20, "seen": true}]),
        ),
        (
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "ItemSelector": {"v.$": "$$.Map.Item.Value.k"}, "ItemProcessor": iteration.clone(), "End": true}}}),
            json!([{"v": 1, "seen": true}, {"v": 20, "seen": true}]),
        ),
        (
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "ItemBatcher": {"MaxItemsPerBatch": 2}, "ItemProcessor": iteration.clone(), "End": true}}}),
            json!([{"Items": [{"k": 1}, {"k": 20}], "seen": true}]),
        ),
        (
            json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {"Type": "Map", "Items": "{% $states.input.items %}", "End": true,
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "Output": "{% $states.input.k * 2 %}", "End": true}}}}}}),
            json!([2, 40]),
        ),
    ];
    let interp = Interpreter::new(Arc::new(Script::default()), Arc::new(common::TokioClock::new()), Limits::default());
    for (def, expected) in cases {
        let machine = common::machine(&def);
        let owned = interp.execute(&machine, input.clone(), common::info(), &NoEvents).await;
        let borrowed = interp.execute_borrowed(&machine, &input, &common::info(), &NoEvents).await;
        assert_eq!(borrowed, owned, "{def}");
        match owned {
            Outcome::Succeeded(out) => assert_eq!(out, expected, "{def}"),
            Outcome::Failed(e) => assert_eq!(e.cause.as_deref(), Some("nope"), "{def}"),
            other => panic!("{def}: {other:?}"),
        }
    }
    assert_eq!(input, json!({"name": "world", "n": 12, "items": [{"k": 1}, {"k": 20}], "bad": "nope"}));
}

/// Blocks whose states never wait run at once, and go on as futures from where the run is
/// due to yield (every 64 states): a machine, Map iterations and Parallel branches that loop
/// past several yields end with what they compute, in item order, with every event.
#[tokio::test]
async fn states_that_never_wait_run_past_their_yields_in_order() {
    // Counts $.i up to $.to in steps of one, then outputs $.tag: 2 × `to` + 2 states.
    let counter = json!({"StartAt": "Loop", "States": {
        "Loop": {"Type": "Choice", "Choices": [{"Variable": "$.i", "NumericLessThanPath": "$.to", "Next": "Inc"}], "Default": "Out"},
        "Inc": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)", "to.$": "$.to", "tag.$": "$.tag"}, "Next": "Loop"},
        "Out": {"Type": "Pass", "OutputPath": "$.tag", "End": true}}});
    assert_eq!(succeeded(run(&counter, json!({"i": 0, "to": 100, "tag": "done"})).await), json!("done"));

    let items: Vec<_> = (0..12).map(|k| json!({"i": 0, "to": 5 * k, "tag": k})).collect();
    let map = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 5, "ItemProcessor": counter.clone(), "End": true}}});
    let log = EventLog::default();
    let out = run_with(&map, json!(items), Arc::new(Script::default()), &log).await;
    assert_eq!(succeeded(out), json!((0..12).collect::<Vec<_>>()));
    let events = log.take();
    let count = |ty: EventType| events.iter().filter(|e| e.event_type == ty).count();
    assert_eq!(count(EventType::MapIterationStarted), 12);
    assert_eq!(count(EventType::MapIterationSucceeded), 12);
    // Item k passes its Choice 5k + 1 times.
    assert_eq!(count(EventType::ChoiceStateEntered), (0..12).map(|k| 5 * k + 1).sum::<usize>());
    let ids: Vec<u64> = events.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=events.len() as u64).collect::<Vec<_>>(), "ids in order, none missing");

    let parallel = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        counter.clone(),
        {"StartAt": "Short", "States": {"Short": {"Type": "Pass", "Result": "short", "End": true}}},
        counter.clone()]}}});
    let out = run(&parallel, json!({"i": 0, "to": 70, "tag": "long"})).await;
    assert_eq!(succeeded(out), json!(["long", "short", "long"]));

    // A branch that fails after another has gone on as a future fails the Parallel.
    let failing = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        counter,
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope", "Cause": "no"}}}]}}});
    let out = run(&failing, json!({"i": 0, "to": 70, "tag": "long"})).await;
    assert_eq!(failed(out).error.as_deref(), Some("Nope"));
}

/// A Parallel whose branches never wait and cannot loop runs them at once, without a future;
/// one with a Retry (here one that never matches) runs them as futures. Both end the same
/// way, with the same events, whether the branches succeed or fail, whether Catch takes the
/// error, and where ResultPath or OutputPath fail after the branches are done.
#[tokio::test]
async fn a_parallel_run_at_once_ends_as_one_run_as_futures() {
    let branches = json!([
        {"StartAt": "Pick", "States": {
            "Pick": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "BooleanEquals": true, "Next": "Boom"}], "Default": "Up"},
            "Boom": {"Type": "Fail", "Error": "Branch.Failed", "Cause": "asked to"},
            "Up": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "End": true}}},
        {"StartAt": "Inner", "States": {"Inner": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": true}}}]}}}
    ]);
    let cases = [
        // Plain; ResultSelector, ResultPath, OutputPath and Assign on the way out.
        json!({}),
        json!({"ResultSelector": {"first.$": "$[0].n", "echo.$": "$[1][0]"}, "ResultPath": "$.out", "OutputPath": "$.out", "Assign": {"seen.$": "$.first"}}),
        json!({"Parameters": {"n.$": "$.n", "fail.$": "$.fail"}, "ResultPath": null}),
        // A branch fails: uncaught, caught, caught by another name only.
        json!({"Catch": [{"ErrorEquals": ["Branch.Failed"], "ResultPath": "$.error", "Next": "After"}]}),
        json!({"Catch": [{"ErrorEquals": ["Other"], "Next": "After"}]}),
        // ResultPath cannot be applied (`$.n` is a number), OutputPath finds nothing.
        json!({"ResultPath": "$.n.deeper", "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "After"}]}),
        json!({"OutputPath": "$.missing", "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "After"}]}),
        json!({"ResultPath": "$.n.deeper"}),
    ];
    for case in cases {
        for fail in [false, true] {
            let input = json!({"n": 41, "fail": fail});
            let mut outcomes = Vec::new();
            for retry in [false, true] {
                let mut p = json!({"Type": "Parallel", "Branches": branches, "Next": "After"});
                p.as_object_mut().expect("an object").extend(case.as_object().expect("an object").clone());
                if retry {
                    p["Retry"] = json!([{"ErrorEquals": ["Never.Raised"]}]);
                }
                let def = json!({"StartAt": "P", "States": {"P": p, "After": {"Type": "Pass", "End": true}}});
                let log = EventLog::default();
                let out = run_with(&def, input.clone(), Arc::new(Script::default()), &log).await;
                let events: Vec<_> =
                    log.take().into_iter().map(|e| (e.id, e.event_type, e.state_name, e.details)).collect();
                outcomes.push((format!("{out:?}"), events));
            }
            assert_eq!(outcomes[0], outcomes[1], "{case} with fail = {fail}");
        }
    }
}

/// A clock that counts its readings and moves a second on at each; its timers never fire.
#[derive(Default)]
struct ReadingClock {
    reads: std::sync::atomic::AtomicI64,
}

impl expressway_asl::Clock for ReadingClock {
    fn now_millis(&self) -> i64 {
        1000 * self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
    fn sleep(&self, _: Duration) -> futures::future::BoxFuture<'static, ()> {
        Box::pin(futures::future::pending())
    }
}

/// The time limit counts from the run's first look at its clock: a short run that never
/// waits (and records no events) never reads it; a long one reads it at its yields and
/// still ends at its limit.
#[tokio::test]
async fn a_short_run_never_reads_its_clock_and_a_long_one_still_times_out() {
    let hello = json!({"StartAt": "H", "States": {"H": {"Type": "Pass", "Parameters": {"g.$": "States.Format('hi {}', $.n)"}, "Next": "E"},
        "E": {"Type": "Succeed"}}});
    let counter = json!({"StartAt": "Loop", "States": {
        "Loop": {"Type": "Choice", "Choices": [{"Variable": "$.i", "NumericLessThanPath": "$.to", "Next": "Inc"}], "Default": "Out"},
        "Inc": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)", "to.$": "$.to"}, "Next": "Loop"},
        "Out": {"Type": "Succeed"}}});
    let run = |def: serde_json::Value, input: serde_json::Value, seconds: u64| async move {
        let clock = Arc::new(ReadingClock::default());
        let limits = Limits { execution_timeout: Some(Duration::from_secs(seconds)), ..Limits::default() };
        let interp = Interpreter::new(Arc::new(Script::default()), clock.clone(), limits);
        let out = interp.execute(&common::machine(&def), input, common::info(), &NoEvents).await;
        (out, clock.reads.load(std::sync::atomic::Ordering::Relaxed))
    };
    let (out, reads) = run(hello, json!({"n": 1}), 300).await;
    assert_eq!((succeeded(out), reads), (json!({"g": "hi 1"}), 0));
    // 2 × 100 + 2 states: a reading at each of the three yields, and one to set the timer
    // once the run has gone on as a future; a second passes at each.
    let (out, reads) = run(counter.clone(), json!({"i": 0, "to": 100}), 300).await;
    assert_eq!((succeeded(out), reads), (json!({"i": 100, "to": 100}), 4));
    // With a limit of 2 s, the third reading (2 s after the first) ends the run.
    let (out, reads) = run(counter, json!({"i": 0, "to": 1000}), 2).await;
    assert!(matches!(out, Outcome::TimedOut(_)), "{out:?}");
    assert_eq!(reads, 3);
}
