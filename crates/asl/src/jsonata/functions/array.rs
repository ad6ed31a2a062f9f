//! Array functions: `$count`, `$append`, `$sort`, `$reverse`, `$shuffle`, `$distinct`, `$zip`.

use super::*;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "count", context_below: 0, call: count },
    Builtin { name: "append", context_below: 0, call: append },
    Builtin { name: "sort", context_below: 0, call: sort },
    Builtin { name: "reverse", context_below: 0, call: reverse },
    Builtin { name: "shuffle", context_below: 0, call: shuffle },
    Builtin { name: "distinct", context_below: 0, call: distinct },
    Builtin { name: "zip", context_below: 0, call: zip },
];

fn count(_ctx: &Ctx<'_>, _name: &'static str, a: &[Val], _input: &Val) -> R {
    n(match arg(a, 0) {
        Val::Undef => 0.0,
        v => arr(v).len() as f64,
    })
}

fn append(_ctx: &Ctx<'_>, _name: &'static str, a: &[Val], _input: &Val) -> R {
    match (arg(a, 0), arg(a, 1)) {
        (Val::Undef, y) => Ok(y.clone()),
        (x, Val::Undef) => Ok(x.clone()),
        (x, y) => {
            let mut out = arr(x);
            out.extend(arr(y));
            Ok(Val::J(Value::Array(out)))
        }
    }
}

fn sort(ctx: &Ctx<'_>, _name: &'static str, a: &[Val], input: &Val) -> R {
    if arg(a, 0).is_undef() {
        return Ok(Val::Undef);
    }
    let mut items = arr(arg(a, 0));
    match arg(a, 1) {
        Val::F(f) => {
            // Insertion-stable merge sort driven by the user's comparator ($a > $b means swap).
            let mut error = None;
            let mut sorted: Vec<Value> = Vec::with_capacity(items.len());
            for it in items {
                let mut pos = sorted.len();
                while pos > 0 {
                    let r = ctx.apply(f, vec![Val::J(sorted[pos - 1].clone()), Val::J(it.clone())], input);
                    match r {
                        Ok(v) if truthy(&v) => pos -= 1,
                        Ok(_) => break,
                        Err(e) => {
                            error = Some(e);
                            break;
                        }
                    }
                }
                sorted.insert(pos, it);
            }
            if let Some(e) = error {
                return Err(e);
            }
            Ok(Val::J(Value::Array(sorted)))
        }
        _ => {
            if items.iter().all(Value::is_number) {
                items.sort_by(|x, y| x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(std::cmp::Ordering::Equal));
            } else if items.iter().all(Value::is_string) {
                items.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
            } else {
                return Err(err("D3070", "The single argument form of the sort function can only be applied to an array of strings or an array of numbers"));
            }
            Ok(Val::J(Value::Array(items)))
        }
    }
}

fn reverse(_ctx: &Ctx<'_>, _name: &'static str, a: &[Val], _input: &Val) -> R {
    if arg(a, 0).is_undef() {
        return Ok(Val::Undef);
    }
    let mut items = arr(arg(a, 0));
    items.reverse();
    Ok(Val::J(Value::Array(items)))
}

fn shuffle(_ctx: &Ctx<'_>, _name: &'static str, a: &[Val], _input: &Val) -> R {
    use rand::seq::SliceRandom;
    if arg(a, 0).is_undef() {
        return Ok(Val::Undef);
    }
    let mut items = arr(arg(a, 0));
    items.shuffle(&mut rand::thread_rng());
    Ok(Val::J(Value::Array(items)))
}

fn distinct(_ctx: &Ctx<'_>, _name: &'static str, a: &[Val], _input: &Val) -> R {
    match arg(a, 0) {
        Val::J(Value::Array(items)) => {
            let mut out: Vec<Value> = Vec::new();
            for it in items {
                if !out.iter().any(|x| deep_eq(x, it)) {
                    out.push(it.clone());
                }
            }
            Ok(Val::J(Value::Array(out)))
        }
        other => Ok(other.clone()),
    }
}

fn zip(_ctx: &Ctx<'_>, _name: &'static str, a: &[Val], _input: &Val) -> R {
    let arrays: Vec<Vec<Value>> = a.iter().map(arr).collect();
    let len = arrays.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Val::J(Value::Array((0..len).map(|i| Value::Array(arrays.iter().map(|x| x[i].clone()).collect())).collect())))
}
