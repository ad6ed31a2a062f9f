//! Function signatures (`<s-n?:s>`): parsed once, then used to check and coerce the
//! arguments of a built-in or of a lambda that declares one, with the reference's errors
//! (T0410 argument mismatch, T0411 context mismatch, T0412 array item type).
//!
//! Each argument is classified by one symbol (`b n s l a o f`, `m` for undefined); every
//! parameter accepts a set of symbols, with `?` (optional), `+` (one or more) and `-` (the
//! context value stands in when the argument is missing). Matching backtracks from the
//! longest match, as a regular expression over the symbols would.

use super::value::{err, Val};
use super::JsonataError;

const B: u16 = 1;
const N: u16 = 2;
const S: u16 = 4;
const L: u16 = 8;
const A: u16 = 16;
const O: u16 = 32;
const F: u16 = 64;
const M: u16 = 128;
const ANY: u16 = B | N | S | L | A | O | F | M;

#[derive(Debug, Clone)]
struct Param {
    accepts: u16,
    /// `a<x>`: the type every item must have (a single value is wrapped into an array).
    items: Option<u16>,
    /// The type is `a`: a single value is wrapped into an array.
    array: bool,
    optional: bool,
    many: bool,
    context: bool,
}

#[derive(Debug, Clone)]
pub struct Signature {
    params: Vec<Param>,
}

fn symbol_bits(c: char) -> Option<u16> {
    Some(match c {
        'b' => B,
        'n' => N,
        's' => S,
        'l' => L,
        'a' => ANY,
        'o' => O,
        'f' => F,
        'j' => ANY & !F,
        'x' => ANY,
        'u' => B | N | S | L,
        _ => return None,
    })
}

fn symbol_of(v: &Val<'_>) -> u16 {
    match v {
        Val::Undef => M,
        Val::Null => L,
        Val::Bool(_) => B,
        Val::Num(_) => N,
        Val::S(_) | Val::Str(_) => S,
        Val::F(_) => F,
        v if v.is_array() => A,
        _ => O,
    }
}

fn type_plural(bits: u16) -> &'static str {
    match bits {
        B => "booleans",
        N => "numbers",
        S => "strings",
        L => "nulls",
        O => "objects",
        F => "functions",
        _ => "values",
    }
}

impl Signature {
    pub fn parse(text: &str) -> Result<Signature, String> {
        let inner = text
            .strip_prefix('<')
            .and_then(|t| t.strip_suffix('>'))
            .ok_or_else(|| format!("S0401: Invalid function signature: {text}"))?;
        // The return type after the top-level `:` is documentation only.
        let mut depth = 0;
        let mut params_text = inner;
        for (i, c) in inner.char_indices() {
            match c {
                '<' | '(' => depth += 1,
                '>' | ')' => depth -= 1,
                ':' if depth == 0 => {
                    params_text = &inner[..i];
                    break;
                }
                _ => {}
            }
        }
        let chars: Vec<char> = params_text.chars().collect();
        let bad = || format!("S0401: Invalid function signature: {text}");
        let mut params: Vec<Param> = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '?' | '+' | '-' => {
                    let p = params.last_mut().ok_or_else(bad)?;
                    match c {
                        '?' => p.optional = true,
                        '+' => p.many = true,
                        _ => p.context = true,
                    }
                    i += 1;
                }
                '(' => {
                    let mut bits = M;
                    i += 1;
                    while i < chars.len() && chars[i] != ')' {
                        // An unknown type matches no argument (T0410 when called), as in the reference.
                        bits |= symbol_bits(chars[i]).unwrap_or(0);
                        i += 1;
                    }
                    if i >= chars.len() {
                        return Err(bad());
                    }
                    i += 1;
                    params.push(Param {
                        accepts: bits,
                        items: None,
                        array: false,
                        optional: false,
                        many: false,
                        context: false,
                    });
                }
                '<' => {
                    // A type parameter: `a<n>` types the items, `f<…>` is not checked.
                    let p = params.last_mut().ok_or_else(bad)?;
                    let mut depth = 1;
                    let start = i + 1;
                    i += 1;
                    while i < chars.len() && depth > 0 {
                        match chars[i] {
                            '<' => depth += 1,
                            '>' => depth -= 1,
                            _ => {}
                        }
                        i += 1;
                    }
                    if depth != 0 {
                        return Err(bad());
                    }
                    if p.array {
                        let sub: String = chars[start..i - 1].iter().collect();
                        if sub.len() == 1 {
                            p.items = symbol_bits(sub.chars().next().unwrap_or('x')).filter(|b| b.count_ones() == 1);
                        }
                    } else if p.accepts != F {
                        return Err("S0401: Type parameter can only be applied to functions and arrays".into());
                    }
                }
                c => {
                    let bits = symbol_bits(c).unwrap_or(0);
                    let bits = if c == 'f' { F } else { bits | M };
                    params.push(Param {
                        accepts: bits,
                        items: None,
                        array: c == 'a',
                        optional: false,
                        many: false,
                        context: false,
                    });
                    i += 1;
                }
            }
        }
        Ok(Signature { params })
    }

    /// How many arguments a built-in takes as a callback: its parameters up to the first
    /// optional one (the reference counts a JavaScript function's parameters without defaults).
    pub fn arity(&self) -> usize {
        self.params.iter().take_while(|p| !p.optional).count()
    }

    /// Check `args` against the signature and coerce them: the context value fills a missing
    /// `-` argument, a single value becomes an array for an `a` parameter.
    pub fn validate<'a>(
        &self,
        name: &str,
        args: Vec<Val<'a>>,
        context: &Val<'a>,
    ) -> Result<Vec<Val<'a>>, JsonataError> {
        // Small calls (all but a few) classify their arguments without allocating.
        const SMALL: usize = 8;
        let (mut sym_buf, mut count_buf) = ([0u16; SMALL], [0usize; SMALL]);
        let (sym_heap, mut count_heap);
        let symbols: &[u16] = if args.len() <= SMALL {
            for (s, a) in sym_buf.iter_mut().zip(&args) {
                *s = symbol_of(a);
            }
            &sym_buf[..args.len()]
        } else {
            sym_heap = args.iter().map(symbol_of).collect::<Vec<u16>>();
            &sym_heap
        };
        let counts: &mut [usize] = if self.params.len() <= SMALL {
            &mut count_buf[..self.params.len()]
        } else {
            count_heap = vec![0; self.params.len()];
            &mut count_heap
        };
        if !self.fit(symbols, 0, 0, counts, false) {
            // The first argument that no match can reach past.
            let bad = (1..=symbols.len())
                .find(|&k| !self.fit(&symbols[..k], 0, 0, &mut vec![0; self.params.len()], true))
                .unwrap_or(symbols.len() + 1);
            return Err(err(
                "T0410",
                format!("Argument {bad} of function \"{name}\" does not match function signature"),
            ));
        }
        // Most calls need no context value and no array coercion: the arguments stand.
        let mut ai = 0;
        let mut untouched = true;
        for (pi, p) in self.params.iter().enumerate() {
            if counts[pi] == 0 && p.context {
                untouched = false;
                break;
            }
            for a in &args[ai..ai + counts[pi]] {
                if p.array && !a.is_undef() && !(a.is_array() && p.items.is_none()) {
                    untouched = false;
                }
            }
            ai += counts[pi];
        }
        if untouched {
            return Ok(args);
        }
        let mut out = Vec::with_capacity(self.params.len());
        let mut ai = 0;
        for (pi, p) in self.params.iter().enumerate() {
            if counts[pi] == 0 {
                if p.context {
                    if p.accepts & symbol_of(context) == 0 {
                        return Err(err(
                            "T0411",
                            format!(
                                "Context value is not a compatible type with argument {} of function \"{name}\"",
                                pi + 1
                            ),
                        ));
                    }
                    out.push(self.coerce(p, context.clone(), name, pi)?);
                }
                continue;
            }
            for _ in 0..counts[pi] {
                out.push(self.coerce(p, args[ai].clone(), name, ai)?);
                ai += 1;
            }
        }
        Ok(out)
    }

    fn coerce<'a>(&self, p: &Param, v: Val<'a>, name: &str, i: usize) -> Result<Val<'a>, JsonataError> {
        if !p.array || v.is_undef() {
            return Ok(v);
        }
        if let Some(t) = p.items {
            let ok = if v.is_array() {
                let n = v.len();
                (0..n).all(|k| symbol_of(&v.at(k)) == t)
            } else {
                symbol_of(&v) == t
            };
            if !ok {
                return Err(err(
                    "T0412",
                    format!("Argument {} of function \"{name}\" must be an array of \"{}\"", i + 1, type_plural(t)),
                ));
            }
        }
        Ok(if v.is_array() { v } else { Val::array(vec![v]) })
    }

    /// Whether `symbols[si..]` fits `params[pi..]`, recording how many arguments each
    /// parameter takes; with `prefix`, running out of arguments early also fits.
    fn fit(&self, symbols: &[u16], pi: usize, si: usize, counts: &mut [usize], prefix: bool) -> bool {
        if pi == self.params.len() {
            return si == symbols.len();
        }
        if prefix && si == symbols.len() {
            return true;
        }
        let p = &self.params[pi];
        let max = if p.many { symbols.len() - si } else { 1.min(symbols.len() - si) };
        let min = if p.optional || p.context { 0 } else { 1 };
        let mut take = 0;
        while take < max && symbols[si + take] & p.accepts != 0 {
            take += 1;
        }
        loop {
            if take >= min {
                counts[pi] = take;
                if self.fit(symbols, pi + 1, si + take, counts, prefix) {
                    return true;
                }
            }
            if take == 0 {
                return false;
            }
            take -= 1;
        }
    }
}
