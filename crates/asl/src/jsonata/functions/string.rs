//! String functions: `$string`, `$length`, `$substring…`, case, `$trim`, `$pad`, `$contains`,
//! `$split`, `$join`, `$match`, `$replace`, Base64 and URL encoding.

use super::*;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "string", sig: "<x-b?:s>", call: string },
    Builtin { name: "length", sig: "<s-:n>", call: length },
    Builtin { name: "substring", sig: "<s-nn?:s>", call: substring },
    Builtin { name: "substringBefore", sig: "<s-s:s>", call: substring_before },
    Builtin { name: "substringAfter", sig: "<s-s:s>", call: substring_before },
    Builtin { name: "uppercase", sig: "<s-:s>", call: uppercase },
    Builtin { name: "lowercase", sig: "<s-:s>", call: lowercase },
    Builtin { name: "trim", sig: "<s-:s>", call: trim },
    Builtin { name: "pad", sig: "<s-ns?:s>", call: pad },
    Builtin { name: "contains", sig: "<s-(sf):b>", call: contains },
    Builtin { name: "split", sig: "<s-(sf)n?:a<s>>", call: split },
    Builtin { name: "join", sig: "<a<s>s?:s>", call: join },
    Builtin { name: "match", sig: "<s-f<s:o>n?:a<o>>", call: r#match },
    Builtin { name: "replace", sig: "<s-(sf)(sf)n?:s>", call: replace },
    Builtin { name: "base64encode", sig: "<s-:s>", call: base64encode },
    Builtin { name: "base64decode", sig: "<s-:s>", call: base64decode },
    Builtin { name: "encodeUrlComponent", sig: "<s-:s>", call: encode_url },
    Builtin { name: "encodeUrl", sig: "<s-:s>", call: encode_url },
    Builtin { name: "decodeUrlComponent", sig: "<s-:s>", call: decode_url },
    Builtin { name: "decodeUrl", sig: "<s-:s>", call: decode_url },
];

fn string<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let v = arg(a, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    if matches!(arg(a, 1), Val::Bool(true)) && (v.is_array() || v.is_object()) {
        super::super::eval::check_finite(v)?;
        let mut out = String::new();
        super::super::value::write_json(v, true, &mut out, 0);
        return s(out);
    }
    match v {
        Val::S(_) | Val::Str(_) => Ok(v.clone()),
        other => s(stringify(other)?),
    }
}

fn length<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    match s_arg(a, 0) {
        Some(x) => n(x.chars().count() as f64),
        None => Ok(Val::Undef),
    }
}

fn substring<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(x) = s_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    let chars: Vec<char> = x.chars().collect();
    let len = chars.len() as f64;
    // Positions are cut to integers after the end is computed, as JavaScript's slice does.
    let mut start = n_arg(a, 1).unwrap_or(0.0);
    if start < 0.0 {
        start = (len + start).max(0.0);
    }
    let end = match n_arg(a, 2) {
        Some(c) if c <= 0.0 => return s(""),
        Some(c) => (start + c).min(len).trunc(),
        None => len,
    };
    let start = start.trunc();
    if start >= len || end <= start {
        return s("");
    }
    s(chars[start as usize..end as usize].iter().collect::<String>())
}

fn substring_before<'a>(_ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(x) = s_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    let Some(chars) = s_arg(a, 1) else {
        return Ok(arg(a, 0).clone());
    };
    match x.find(chars) {
        Some(i) if name == "substringBefore" => s(&x[..i]),
        Some(i) => s(&x[i + chars.len()..]),
        None => Ok(arg(a, 0).clone()),
    }
}

fn uppercase<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    Ok(s_arg(a, 0).map(|x| Val::str(x.to_uppercase())).unwrap_or(Val::Undef))
}

fn lowercase<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    Ok(s_arg(a, 0).map(|x| Val::str(x.to_lowercase())).unwrap_or(Val::Undef))
}

fn trim<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(x) = s_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    // Runs of space, tab, CR and LF become one space; the ends are trimmed.
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let mut out = String::with_capacity(x.len());
    let mut gap = false;
    for c in x.chars() {
        if ws(c) {
            gap = true;
        } else {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        }
    }
    s(out)
}

fn pad<'a>(_ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(x) = s_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    let width = n_arg(a, 1).unwrap_or(0.0).trunc();
    let pad = s_arg(a, 2).filter(|p| !p.is_empty()).unwrap_or(" ");
    let len = x.chars().count() as f64;
    let missing = width.abs() - len;
    if missing <= 0.0 {
        return Ok(arg(a, 0).clone());
    }
    if missing > MAX_STRING_CHARS as f64 {
        return Err(too_long(name, missing as u64));
    }
    let filler: String = pad.chars().cycle().take(missing as usize).collect();
    s(if width > 0.0 { format!("{x}{filler}") } else { format!("{filler}{x}") })
}

fn contains<'a>(_ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(x) = s_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    Ok(Val::Bool(match s_arg(a, 1) {
        Some(p) => x.contains(p),
        None => regex_of(name, arg(a, 1), 1)?.is_match(x),
    }))
}

fn split<'a>(_ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(x) = s_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    let limit = match n_arg(a, 2) {
        Some(l) if l < 0.0 => {
            return Err(err("D3020", "Third argument of split function must evaluate to a positive number"))
        }
        Some(l) => l.floor() as usize,
        None => usize::MAX,
    };
    let parts: Vec<Val<'a>> = match s_arg(a, 1) {
        Some("") => x.chars().take(limit).map(|c| Val::str(c.to_string())).collect(),
        Some(sep) => x.split(sep).take(limit).map(Val::str).collect(),
        None => {
            let re = regex_of(name, arg(a, 1), 1)?;
            if re.find_iter(x).any(|m| m.is_empty()) {
                return Err(empty_match());
            }
            re.split(x).take(limit).map(Val::str).collect()
        }
    };
    Ok(Val::array(parts))
}

fn join<'a>(_ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let v = arg(a, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let sep = s_arg(a, 1).unwrap_or("");
    let mut out = String::new();
    let mut first = true;
    v.for_each(|it| {
        if !first {
            out.push_str(sep);
        }
        first = false;
        out.push_str(it.as_str().unwrap_or_default());
        fits(name, out.len())
    })?;
    s(out)
}

fn r#match<'a>(_ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(x) = s_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    let re = regex_of(name, arg(a, 1), 1)?;
    let limit = match n_arg(a, 2) {
        Some(l) if l < 0.0 => {
            return Err(err("D3040", "Third argument of match function must evaluate to a positive number"))
        }
        Some(l) => l.floor() as usize,
        None => usize::MAX,
    };
    let mut out = Vec::new();
    for c in re.captures_iter(x).take(limit) {
        if c.get(0).is_some_and(|m| m.is_empty()) {
            return Err(empty_match());
        }
        out.push(match_object(x, &c));
    }
    Ok(Val::seq(out))
}

/// `$n` group references in a replacement string (`$$` is a dollar; a reference past the
/// last group reads fewer digits).
fn expand(repl: &str, c: &regex::Captures<'_>, out: &mut String) {
    let chars: Vec<char> = repl.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        if ch == '$' && i + 1 < chars.len() {
            if chars[i + 1] == '$' {
                out.push('$');
                i += 2;
                continue;
            }
            if chars[i + 1].is_ascii_digit() {
                let mut j = i + 1;
                let mut idx = 0usize;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    let next = idx * 10 + chars[j].to_digit(10).unwrap_or(0) as usize;
                    if j > i + 1 && next >= c.len() {
                        break;
                    }
                    idx = next;
                    j += 1;
                }
                if idx < c.len() {
                    out.push_str(c.get(idx).map(|g| g.as_str()).unwrap_or(""));
                }
                i = j;
                continue;
            }
        }
        out.push(ch);
        i += 1;
    }
}

fn replace<'a>(ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], input: &Val<'a>) -> R<'a> {
    let Some(x) = s_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    let limit = match n_arg(a, 3) {
        Some(l) if l < 0.0 => {
            return Err(err("D3011", "Fourth argument of replace function must evaluate to a positive number"))
        }
        Some(l) => l.floor() as usize,
        None => usize::MAX,
    };
    let repl = arg(a, 2);
    if let Val::F(f) = repl {
        if matches!(&**f, Func::Regex(_)) {
            return Err(bad(name, 2));
        }
    }
    if let Some(p) = s_arg(a, 1) {
        if p.is_empty() {
            return Err(err("D3010", "Second argument of replace function cannot be an empty string"));
        }
        if let Some(r) = repl.as_str() {
            if r.len() > p.len() {
                let grows = x.matches(p).take(limit).count().saturating_mul(r.len() - p.len());
                fits(name, x.len().saturating_add(grows))?;
            }
            return s(x.replacen(p, r, limit));
        }
    }
    let literal;
    let re = match s_arg(a, 1) {
        Some(p) => {
            literal = regex::Regex::new(&regex::escape(p)).map_err(|e| err("D3010", e.to_string()))?;
            &literal
        }
        None => regex_of(name, arg(a, 1), 1)?,
    };
    let mut out = String::new();
    let mut last = 0;
    for (count, c) in re.captures_iter(x).enumerate() {
        if count >= limit {
            break;
        }
        let m = c.get(0).map(|m| (m.start(), m.end())).unwrap_or((0, 0));
        if m.0 == m.1 {
            return Err(empty_match());
        }
        out.push_str(&x[last..m.0]);
        match repl {
            Val::F(rf) => match ctx.apply(rf, vec![match_object(x, &c)], input)? {
                v if v.as_str().is_some() => out.push_str(v.as_str().unwrap_or_default()),
                other => {
                    return Err(err(
                        "D3012",
                        format!("Attempted to replace a matched string with a non-string value: {}", show(&other)),
                    ))
                }
            },
            r => expand(r.as_str().unwrap_or_default(), &c, &mut out),
        }
        fits(name, out.len())?;
        last = m.1;
    }
    out.push_str(&x[last..]);
    s(out)
}

/// Base64 of a string's UTF-16 code units taken as bytes (their low byte), as the
/// reference's `btoa` does.
fn empty_match() -> JsonataError {
    err("D1004", "Regular expression matches zero length string")
}

fn base64encode<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    Ok(s_arg(a, 0)
        .map(|x| {
            let bytes: Vec<u8> = x.encode_utf16().map(|u| (u & 0xFF) as u8).collect();
            Val::str(base64::engine::general_purpose::STANDARD.encode(bytes))
        })
        .unwrap_or(Val::Undef))
}

fn base64decode<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    match s_arg(a, 0) {
        Some(x) => {
            let cleaned: String = x.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(cleaned.trim_end_matches('='))
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(cleaned.trim_end_matches('=')))
                .map_err(|e| err("D3137", format!("invalid base64: {e}")))?;
            // Each byte is one character (Latin-1), as the reference's `atob` gives them.
            s(bytes.iter().map(|&b| b as char).collect::<String>())
        }
        None => Ok(Val::Undef),
    }
}

fn encode_url<'a>(_ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(x) = s_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    let keep: &str = if name == "encodeUrl" { "-_.!~*'();/?:@&=+$,#" } else { "-_.!~*'()" };
    let mut out = String::with_capacity(x.len());
    for byte in x.bytes() {
        if byte.is_ascii_alphanumeric() || keep.as_bytes().contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    s(out)
}

fn decode_url<'a>(_ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(x) = s_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    // decodeURI leaves the escapes of reserved characters as they are.
    let reserved: &[u8] = if name == "decodeUrl" { b";/?:@&=+$,#" } else { b"" };
    let bytes = x.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let h = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match h {
                Some(v) if reserved.contains(&v) => out.extend_from_slice(&bytes[i..i + 3]),
                Some(v) => out.push(v),
                None => return Err(err("D3140", "Malformed URL passed to ".to_string() + name + "(): \"" + x + "\"")),
            }
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    s(String::from_utf8(out).map_err(|_| err("D3140", format!("Malformed URL passed to {name}(): \"{x}\"")))?)
}
