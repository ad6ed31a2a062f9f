//! String functions: `$string`, `$length`, `$substring…`, case, `$trim`, `$pad`, `$contains`,
//! `$split`, `$join`, `$match`, `$replace`, Base64 and URL encoding.

use super::*;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "string", context_below: 1, call: string },
    Builtin { name: "length", context_below: 1, call: length },
    Builtin { name: "substring", context_below: 2, call: substring },
    Builtin { name: "substringBefore", context_below: 2, call: substring_before },
    Builtin { name: "substringAfter", context_below: 2, call: substring_before },
    Builtin { name: "uppercase", context_below: 1, call: uppercase },
    Builtin { name: "lowercase", context_below: 1, call: lowercase },
    Builtin { name: "trim", context_below: 1, call: trim },
    Builtin { name: "pad", context_below: 2, call: pad },
    Builtin { name: "contains", context_below: 2, call: contains },
    Builtin { name: "split", context_below: 2, call: split },
    Builtin { name: "join", context_below: 0, call: join },
    Builtin { name: "match", context_below: 2, call: r#match },
    Builtin { name: "replace", context_below: 2, call: replace },
    Builtin { name: "base64encode", context_below: 1, call: base64encode },
    Builtin { name: "base64decode", context_below: 1, call: base64decode },
    Builtin { name: "encodeUrlComponent", context_below: 0, call: encode_url_component },
    Builtin { name: "encodeUrl", context_below: 0, call: encode_url_component },
    Builtin { name: "decodeUrlComponent", context_below: 0, call: decode_url_component },
    Builtin { name: "decodeUrl", context_below: 0, call: decode_url_component },
];

fn string(_ctx: &Ctx<'_>, _name: &'static str, a: &[Val], _input: &Val) -> R {
    if arg(a, 0).is_undef() {
        return Ok(Val::Undef);
    }
    s(stringify(arg(a, 0))?)
}

fn length(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    match s_arg(name, a, 0)? {
        Some(x) => n(x.chars().count() as f64),
        None => Ok(Val::Undef),
    }
}

fn substring(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    let Some(x) = s_arg(name, a, 0)? else {
        return Ok(Val::Undef);
    };
    let chars: Vec<char> = x.chars().collect();
    let len = chars.len() as i64;
    let mut start = n_arg(name, a, 1)?.unwrap_or(0.0) as i64;
    if start < 0 {
        start = (len + start).max(0);
    }
    let count = n_arg(name, a, 2)?.map(|c| c as i64).unwrap_or(len);
    if count <= 0 || start >= len {
        return s(String::new());
    }
    let end = start.saturating_add(count).min(len);
    s(chars[start as usize..end as usize].iter().collect())
}

fn substring_before(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    let Some(x) = s_arg(name, a, 0)? else {
        return Ok(Val::Undef);
    };
    let Some(chars) = s_arg(name, a, 1)? else {
        return s(x.to_string());
    };
    match x.find(chars) {
        Some(i) if name == "substringBefore" => s(x[..i].to_string()),
        Some(i) => s(x[i + chars.len()..].to_string()),
        None => s(x.to_string()),
    }
}

fn uppercase(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    Ok(s_arg(name, a, 0)?.map(|x| Val::J(Value::String(x.to_uppercase()))).unwrap_or(Val::Undef))
}

fn lowercase(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    Ok(s_arg(name, a, 0)?.map(|x| Val::J(Value::String(x.to_lowercase()))).unwrap_or(Val::Undef))
}

fn trim(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    Ok(s_arg(name, a, 0)?
        .map(|x| Val::J(Value::String(x.split_whitespace().collect::<Vec<_>>().join(" "))))
        .unwrap_or(Val::Undef))
}

fn pad(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    let Some(x) = s_arg(name, a, 0)? else {
        return Ok(Val::Undef);
    };
    let width = n_arg(name, a, 1)?.unwrap_or(0.0) as i64;
    let pad = s_arg(name, a, 2)?.unwrap_or(" ");
    let pad = if pad.is_empty() { " " } else { pad };
    let len = x.chars().count() as i64;
    let missing = (width.unsigned_abs().min(i64::MAX as u64) as i64) - len;
    if missing <= 0 {
        return s(x.to_string());
    }
    if missing as u64 > MAX_STRING_CHARS {
        return Err(too_long(name, missing as u64));
    }
    let filler: String = pad.chars().cycle().take(missing as usize).collect();
    s(if width > 0 { format!("{x}{filler}") } else { format!("{filler}{x}") })
}

fn contains(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    let Some(x) = s_arg(name, a, 0)? else {
        return Ok(Val::Undef);
    };
    match arg(a, 1) {
        Val::J(Value::String(p)) => b(x.contains(p.as_str())),
        Val::F(f) => match &**f {
            Func::Regex(re) => b(re.is_match(x)),
            _ => Err(bad(name, 1, arg(a, 1))),
        },
        other => Err(bad(name, 1, other)),
    }
}

fn split(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    let Some(x) = s_arg(name, a, 0)? else {
        return Ok(Val::Undef);
    };
    let limit = n_arg(name, a, 2)?.map(|l| l as usize);
    let parts: Vec<Value> = match arg(a, 1) {
        Val::J(Value::String(sep)) if sep.is_empty() => x.chars().map(|c| Value::String(c.to_string())).collect(),
        Val::J(Value::String(sep)) => x.split(sep.as_str()).map(|p| Value::String(p.to_string())).collect(),
        Val::F(f) => match &**f {
            Func::Regex(re) => re.split(x).map(|p| Value::String(p.to_string())).collect(),
            _ => return Err(bad(name, 1, arg(a, 1))),
        },
        other => return Err(bad(name, 1, other)),
    };
    let parts = match limit {
        Some(l) => parts.into_iter().take(l).collect(),
        None => parts,
    };
    Ok(Val::J(Value::Array(parts)))
}

fn join(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    let items = arr(arg(a, 0));
    if arg(a, 0).is_undef() {
        return Ok(Val::Undef);
    }
    let sep = s_arg(name, a, 1)?.unwrap_or("");
    let mut out = Vec::with_capacity(items.len());
    let mut len = 0usize;
    for it in items {
        match it {
            Value::String(x) => {
                len = len.saturating_add(x.len()).saturating_add(sep.len());
                out.push(x);
            }
            other => return Err(bad(name, 0, &Val::J(other))),
        }
    }
    fits(name, len)?;
    s(out.join(sep))
}

fn r#match(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    let Some(x) = s_arg(name, a, 0)? else {
        return Ok(Val::Undef);
    };
    let re = match arg(a, 1) {
        Val::F(f) => match &**f {
            Func::Regex(re) => re.clone(),
            _ => return Err(bad(name, 1, arg(a, 1))),
        },
        other => return Err(bad(name, 1, other)),
    };
    let limit = n_arg(name, a, 2)?.map(|l| l as usize).unwrap_or(usize::MAX);
    let out: Vec<Value> = re.captures_iter(x).take(limit).map(|c| match_object(&c)).collect();
    Ok(from_seq(out, false))
}

fn replace(ctx: &Ctx<'_>, name: &'static str, a: &[Val], input: &Val) -> R {
    let Some(x) = s_arg(name, a, 0)? else {
        return Ok(Val::Undef);
    };
    let limit = n_arg(name, a, 3)?.map(|l| l as usize).unwrap_or(usize::MAX);
    match (arg(a, 1), arg(a, 2)) {
        (Val::J(Value::String(p)), Val::J(Value::String(r))) => {
            if p.is_empty() {
                return Err(err("D3010", "Second argument of replace function cannot be an empty string"));
            }
            if r.len() > p.len() {
                let grows = x.matches(p.as_str()).take(limit).count().saturating_mul(r.len() - p.len());
                fits(name, x.len().saturating_add(grows))?;
            }
            s(x.replacen(p.as_str(), r, limit))
        }
        (Val::F(f), repl) => {
            let Func::Regex(re) = &**f else {
                return Err(bad(name, 1, arg(a, 1)));
            };
            let mut out = String::new();
            let mut last = 0;
            for (count, c) in re.captures_iter(x).enumerate() {
                if count >= limit {
                    break;
                }
                let m = c.get(0).map(|m| (m.start(), m.end())).unwrap_or((0, 0));
                out.push_str(&x[last..m.0]);
                fits(name, out.len())?;
                match repl {
                    Val::J(Value::String(r)) => out.push_str(&expand(r, &c)),
                    Val::F(rf) => match ctx.apply(rf, vec![Val::J(match_object(&c))], input)? {
                        Val::J(Value::String(t)) => out.push_str(&t),
                        _ => return Err(err("D3012", "Attempted to replace a matched string with a non-string value")),
                    },
                    other => return Err(bad(name, 2, other)),
                }
                last = m.1;
            }
            out.push_str(&x[last..]);
            s(out)
        }
        (p, _) => Err(bad(name, 1, p)),
    }
}

fn base64encode(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    Ok(s_arg(name, a, 0)?
        .map(|x| Val::J(Value::String(base64::engine::general_purpose::STANDARD.encode(x))))
        .unwrap_or(Val::Undef))
}

fn base64decode(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    match s_arg(name, a, 0)? {
        Some(x) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(x)
                .map_err(|e| err("D3137", format!("invalid base64: {e}")))?;
            s(String::from_utf8_lossy(&bytes).into_owned())
        }
        None => Ok(Val::Undef),
    }
}

fn encode_url_component(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    match s_arg(name, a, 0)? {
        Some(x) => {
            let keep: &str = if name == "encodeUrl" { "-_.!~*'();/?:@&=+$,#" } else { "-_.!~*'()" };
            let mut out = String::new();
            for byte in x.bytes() {
                if byte.is_ascii_alphanumeric() || keep.as_bytes().contains(&byte) {
                    out.push(byte as char);
                } else {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
            s(out)
        }
        None => Ok(Val::Undef),
    }
}

fn decode_url_component(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    match s_arg(name, a, 0)? {
        Some(x) => {
            let bytes = x.as_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' && i + 2 < bytes.len() {
                    let h = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                    match h {
                        Some(v) => {
                            out.push(v);
                            i += 3;
                            continue;
                        }
                        None => return Err(err("D3140", "Malformed URL")),
                    }
                }
                out.push(bytes[i]);
                i += 1;
            }
            s(String::from_utf8(out).map_err(|_| err("D3140", "Malformed URL"))?)
        }
        None => Ok(Val::Undef),
    }
}
