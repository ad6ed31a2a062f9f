//! Array functions: `$count`, `$append`, `$sort`, `$reverse`, `$shuffle`, `$distinct`, `$zip`.

use super::*;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "count", sig: "<a:n>", call: count },
    Builtin { name: "append", sig: "<xx:a>", call: append },
    Builtin { name: "sort", sig: "<af?:a>", call: sort },
    Builtin { name: "reverse", sig: "<a:a>", call: reverse },
    Builtin { name: "shuffle", sig: "<a:a>", call: shuffle },
    Builtin { name: "distinct", sig: "<x:x>", call: distinct },
    Builtin { name: "zip", sig: "<a+>", call: zip },
];

fn count<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    Ok(Val::Num(match arg(a, 0) {
        Val::Undef => 0.0,
        v => v.len() as f64,
    }))
}

fn append<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    match (arg(a, 0), arg(a, 1)) {
        (Val::Undef, y) => Ok(y.clone()),
        (x, Val::Undef) => Ok(x.clone()),
        (x, y) => {
            let mut out = x.items();
            out.extend(y.items());
            Ok(Val::array(out))
        }
    }
}

/// Stable merge sort where `after(x, y)` says `x` goes after `y`.
fn merge_sort<'a, E>(
    items: Vec<Val<'a>>,
    after: &mut dyn FnMut(&Val<'a>, &Val<'a>) -> Result<bool, E>,
) -> Result<Vec<Val<'a>>, E> {
    if items.len() <= 1 {
        return Ok(items);
    }
    let mut right = items;
    let left = right.drain(..right.len() / 2).collect();
    let left = merge_sort(left, after)?;
    let right = merge_sort(right, after)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut l, mut r) = (left.into_iter().peekable(), right.into_iter().peekable());
    while let (Some(x), Some(y)) = (l.peek(), r.peek()) {
        if after(x, y)? {
            out.extend(r.next());
        } else {
            out.extend(l.next());
        }
    }
    out.extend(l);
    out.extend(r);
    Ok(out)
}

fn sort<'a>(ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], input: &Val<'a>) -> R<'a> {
    let v = arg(a, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let items = v.items();
    if items.len() <= 1 {
        return Ok(v.clone());
    }
    let sorted = match arg(a, 1) {
        Val::F(f) => merge_sort(items, &mut |x, y| Ok(truthy(&ctx.apply(f, vec![x.clone(), y.clone()], input)?)))?,
        _ => {
            let all_num = items.iter().all(|x| matches!(x, Val::Num(_)));
            let all_str = items.iter().all(|x| x.as_str().is_some());
            if !all_num && !all_str {
                return Err(err(
                    "D3070",
                    "The single argument form of the sort function can only be applied to an array of strings or an array of numbers.  Use the second argument to specify a comparison function",
                ));
            }
            merge_sort(items, &mut |x, y| {
                Ok::<bool, JsonataError>(match (x, y) {
                    (Val::Num(p), Val::Num(q)) => p > q,
                    _ => x.as_str() > y.as_str(),
                })
            })?
        }
    };
    Ok(Val::array(sorted))
}

fn reverse<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let v = arg(a, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let mut items = v.items();
    items.reverse();
    Ok(Val::array(items))
}

fn shuffle<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    use rand::seq::SliceRandom;
    let v = arg(a, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let mut items = v.items();
    items.shuffle(&mut rand::thread_rng());
    Ok(Val::array(items))
}

fn distinct<'a>(ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let v = arg(a, 0);
    if !v.is_array() || v.len() <= 1 {
        return Ok(v.clone());
    }
    let mut out: Vec<Val<'a>> = Vec::new();
    // Comparing each item with those kept is quadratic: charged as work.
    ctx.charge((v.len() as u64).saturating_mul(v.len() as u64) / 64)?;
    for it in v.items() {
        if !out.iter().any(|x| deep_eq(x, &it)) {
            out.push(it);
        }
    }
    Ok(Val::array(out))
}

fn zip<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let arrays: Vec<Vec<Val<'a>>> = a.iter().filter(|x| !x.is_undef()).map(Val::items).collect();
    let len = arrays.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Val::array((0..len).map(|i| Val::array(arrays.iter().map(|x| x[i].clone()).collect())).collect()))
}
