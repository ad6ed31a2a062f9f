//! JSONata lexer and Pratt parser producing the [`Node`] tree.

use std::sync::Arc;

use regex::Regex;

/// Deepest nesting the parser accepts, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 200;

#[derive(Debug, Clone)]
pub enum Node {
    Num(f64),
    Str(String),
    Bool(bool),
    Null,
    Regex(Arc<Regex>, String),
    /// A field name step.
    Name(String),
    /// `$name`; `$` is the context (`""`), `$$` the root (`"$"`).
    Var(String),
    Wildcard,
    Descendants,
    Neg(Box<Node>),
    Path(Vec<Node>, bool),
    Filter(Box<Node>, Box<Node>),
    Array(Vec<Node>),
    Object(Vec<(Node, Node)>),
    GroupBy(Box<Node>, Vec<(Node, Node)>),
    Sort(Box<Node>, Vec<(Node, bool)>),
    Bin(BinOp, Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cond(Box<Node>, Box<Node>, Option<Box<Node>>),
    Elvis(Box<Node>, Box<Node>),
    Coalesce(Box<Node>, Box<Node>),
    Range(Box<Node>, Box<Node>),
    Block(Vec<Node>),
    Bind(String, Box<Node>),
    Call(Box<Node>, Vec<Node>),
    Apply(Box<Node>, Box<Node>),
    Lambda(Arc<LambdaDef>),
    Placeholder,
}

#[derive(Debug)]
pub struct LambdaDef {
    pub params: Vec<String>,
    pub body: Node,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Concat,
    In,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Name(String),
    Var(String),
    Op(&'static str),
    Regex(String, String),
    End,
}

const OPS: &[&str] = &[
    "..", ":=", "!=", "<=", ">=", "~>", "**", "?:", "??", ".", "[", "]", "{", "}", "(", ")", ",", "@", "#", ";", ":",
    "?", "+", "-", "*", "/", "%", "|", "=", "<", ">", "^", "&", "!",
];

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, String> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut out: Vec<(Tok, usize)> = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let end = src[i + 2..].find("*/").ok_or("S0106: comment has no closing tag")?;
            i += end + 4;
            continue;
        }
        let start = i;
        let prev_is_value = matches!(
            out.last(),
            Some((Tok::Num(_) | Tok::Str(_) | Tok::Name(_) | Tok::Var(_) | Tok::Regex(..), _))
                | Some((Tok::Op(")" | "]" | "}"), _))
        );
        if c == b'/' && !prev_is_value {
            // A regular expression literal.
            let mut j = i + 1;
            let mut pat = String::new();
            let mut depth_class = false;
            loop {
                let ch = src[j..].chars().next().ok_or("S0302: no terminating / in regular expression")?;
                if ch == '\\' {
                    let n = src[j + 1..].chars().next().ok_or("S0302: no terminating / in regular expression")?;
                    pat.push('\\');
                    pat.push(n);
                    j += 1 + n.len_utf8();
                    continue;
                }
                if ch == '[' {
                    depth_class = true;
                } else if ch == ']' {
                    depth_class = false;
                } else if ch == '/' && !depth_class {
                    break;
                }
                pat.push(ch);
                j += ch.len_utf8();
            }
            j += 1;
            let fstart = j;
            while j < b.len() && (b[j] == b'i' || b[j] == b'm' || b[j] == b'g' || b[j] == b's' || b[j] == b'x') {
                j += 1;
            }
            if pat.is_empty() {
                return Err("S0301: empty regular expressions are not allowed".into());
            }
            out.push((Tok::Regex(pat, src[fstart..j].to_string()), start));
            i = j;
            continue;
        }
        if c == b'"' || c == b'\'' {
            let q = c as char;
            let mut j = i + 1;
            let mut s = String::new();
            loop {
                let ch =
                    src[j..].chars().next().ok_or("S0101: string literal must be terminated by a matching quote")?;
                j += ch.len_utf8();
                if ch == q {
                    break;
                }
                if ch == '\\' {
                    let e = src[j..].chars().next().ok_or("S0101: unterminated string")?;
                    j += e.len_utf8();
                    match e {
                        '"' | '\\' | '/' | '\'' => s.push(e),
                        'b' => s.push('\u{8}'),
                        'f' => s.push('\u{c}'),
                        'n' => s.push('\n'),
                        'r' => s.push('\r'),
                        't' => s.push('\t'),
                        'u' => {
                            let hex = src.get(j..j + 4).ok_or("S0104: invalid unicode escape")?;
                            let mut code = u32::from_str_radix(hex, 16).map_err(|_| "S0104: invalid unicode escape")?;
                            j += 4;
                            if (0xD800..0xDC00).contains(&code) && src[j..].starts_with("\\u") {
                                let lo = src.get(j + 2..j + 6).and_then(|h| u32::from_str_radix(h, 16).ok());
                                if let Some(lo) = lo.filter(|l| (0xDC00..0xE000).contains(l)) {
                                    code = 0x10000 + ((code - 0xD800) << 10) + (lo - 0xDC00);
                                    j += 6;
                                }
                            }
                            s.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                        }
                        other => return Err(format!("S0103: unsupported escape sequence: \\{other}")),
                    }
                    continue;
                }
                s.push(ch);
            }
            out.push((Tok::Str(s), start));
            i = j;
            continue;
        }
        if c.is_ascii_digit() {
            let mut j = i;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j + 1 < b.len() && b[j] == b'.' && b[j + 1].is_ascii_digit() {
                j += 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
            }
            if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
                let mut k = j + 1;
                if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
                    k += 1;
                }
                if k < b.len() && b[k].is_ascii_digit() {
                    while k < b.len() && b[k].is_ascii_digit() {
                        k += 1;
                    }
                    j = k;
                }
            }
            let n: f64 = src[i..j].parse().map_err(|_| format!("S0102: number out of range: {}", &src[i..j]))?;
            out.push((Tok::Num(n), start));
            i = j;
            continue;
        }
        if c == b'`' {
            let end =
                src[i + 1..].find('`').ok_or("S0105: quoted property name must be terminated with a backquote")?;
            out.push((Tok::Name(src[i + 1..i + 1 + end].to_string()), start));
            i += end + 2;
            continue;
        }
        if let Some(op) = OPS.iter().find(|o| src[i..].starts_with(**o)) {
            out.push((Tok::Op(op), start));
            i += op.len();
            continue;
        }
        let is_name_char =
            |ch: char| !ch.is_whitespace() && !"`.[]{}(),".contains(ch) && !"@#;:?+-*/%|=<>^&!~\"'".contains(ch);
        let ch = src[i..].chars().next().unwrap_or(' ');
        if ch == '$' {
            let mut j = i + 1;
            for c2 in src[i + 1..].chars() {
                if c2.is_alphanumeric() || c2 == '_' || (c2 == '$' && j == i + 1) {
                    j += c2.len_utf8();
                } else {
                    break;
                }
            }
            out.push((Tok::Var(src[i + 1..j].to_string()), start));
            i = j;
            continue;
        }
        if is_name_char(ch) {
            let mut j = i;
            for c2 in src[i..].chars() {
                if is_name_char(c2) {
                    j += c2.len_utf8();
                } else {
                    break;
                }
            }
            out.push((Tok::Name(src[i..j].to_string()), start));
            i = j;
            continue;
        }
        return Err(format!("S0204: unknown operator: \"{ch}\" at column {}", i + 1));
    }
    out.push((Tok::End, src.len()));
    Ok(out)
}

pub fn parse(src: &str) -> Result<Node, String> {
    let toks = lex(src)?;
    let mut p = Parser { toks, i: 0, depth: 0 };
    let n = p.expr(0)?;
    if p.peek() != &Tok::End {
        return Err(format!("S0201: syntax error: unexpected {}", p.describe()));
    }
    Ok(n)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    i: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.i.min(self.toks.len() - 1)].0
    }

    fn describe(&self) -> String {
        match self.peek() {
            Tok::End => "end of expression".into(),
            t => format!("{t:?} at column {}", self.toks[self.i].1 + 1),
        }
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn expect(&mut self, op: &str) -> Result<(), String> {
        if self.peek() == &Tok::Op(OPS.iter().find(|o| **o == op).copied().unwrap_or("")) {
            self.next();
            Ok(())
        } else {
            Err(format!("S0202: expected '{op}', got {}", self.describe()))
        }
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }

    fn lbp(&self) -> u8 {
        match self.peek() {
            Tok::Op(o) => match *o {
                "." => 75,
                "[" | "(" | "@" | "#" => 80,
                "{" => 70,
                "?" | "?:" | "??" | ".." => 20,
                "+" | "-" | "&" => 50,
                "*" | "/" | "%" | "**" => 60,
                "=" | "<" | ">" | "^" | "!=" | "<=" | ">=" | "~>" => 40,
                ":=" => 10,
                _ => 0,
            },
            Tok::Name(n) => match n.as_str() {
                "and" => 30,
                "or" => 25,
                "in" => 40,
                _ => 0,
            },
            _ => 0,
        }
    }

    fn expr(&mut self, rbp: u8) -> Result<Node, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("S0208: the expression is nested too deeply".into());
        }
        let r = stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
            let mut left = self.nud()?;
            while rbp < self.lbp() {
                left = self.led(left)?;
            }
            Ok(left)
        });
        self.depth -= 1;
        r
    }

    fn nud(&mut self) -> Result<Node, String> {
        let t = self.next();
        Ok(match t {
            Tok::Num(n) => Node::Num(n),
            Tok::Str(s) => Node::Str(s),
            Tok::Regex(p, flags) => {
                let mut pat = String::new();
                if flags.contains('i') || flags.contains('m') || flags.contains('s') || flags.contains('x') {
                    pat.push_str("(?");
                    for f in ['i', 'm', 's', 'x'] {
                        if flags.contains(f) {
                            pat.push(f);
                        }
                    }
                    pat.push(')');
                }
                pat.push_str(&p);
                let re = Regex::new(&pat).map_err(|e| format!("S0303: invalid regular expression: {e}"))?;
                Node::Regex(Arc::new(re), p)
            }
            Tok::Var(v) => Node::Var(v),
            Tok::Name(n) => match n.as_str() {
                "true" => Node::Bool(true),
                "false" => Node::Bool(false),
                "null" => Node::Null,
                "function" | "λ" if self.is_op("(") => self.lambda()?,
                "not" if self.is_op("(") => Node::Name(n),
                _ => Node::Name(n),
            },
            Tok::Op("-") => Node::Neg(Box::new(self.expr(70)?)),
            Tok::Op("*") => Node::Wildcard,
            Tok::Op("**") => Node::Descendants,
            Tok::Op("?") => Node::Placeholder,
            Tok::Op("(") => {
                let mut items = Vec::new();
                while !self.is_op(")") {
                    items.push(self.expr(0)?);
                    if !self.is_op(";") {
                        break;
                    }
                    self.next();
                }
                self.expect(")")?;
                Node::Block(items)
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                if !self.is_op("]") {
                    loop {
                        let item = self.expr(0)?;
                        items.push(item);
                        if !self.is_op(",") {
                            break;
                        }
                        self.next();
                    }
                }
                self.expect("]")?;
                Node::Array(items)
            }
            Tok::Op("{") => Node::Object(self.pairs()?),
            Tok::Op("%") => return Err("S0217: the parent operator % is not supported".into()),
            Tok::End => return Err("S0203: unexpected end of expression".into()),
            other => return Err(format!("S0211: the symbol {other:?} cannot be used as a unary operator")),
        })
    }

    fn pairs(&mut self) -> Result<Vec<(Node, Node)>, String> {
        let mut pairs = Vec::new();
        if !self.is_op("}") {
            loop {
                let k = self.expr(0)?;
                self.expect(":")?;
                let v = self.expr(0)?;
                pairs.push((k, v));
                if !self.is_op(",") {
                    break;
                }
                self.next();
            }
        }
        self.expect("}")?;
        Ok(pairs)
    }

    fn lambda(&mut self) -> Result<Node, String> {
        self.expect("(")?;
        let mut params = Vec::new();
        while !self.is_op(")") {
            match self.next() {
                Tok::Var(v) => params.push(v),
                _ => return Err("S0208: function parameters must be variables".into()),
            }
            if self.is_op(",") {
                self.next();
            }
        }
        self.expect(")")?;
        if self.is_op("<") {
            // A signature: skip it, arguments are checked by the functions themselves.
            while !self.is_op(">") && self.peek() != &Tok::End {
                self.next();
            }
            self.expect(">")?;
        }
        self.expect("{")?;
        let body = self.expr(0)?;
        self.expect("}")?;
        Ok(Node::Lambda(Arc::new(LambdaDef { params, body })))
    }

    fn led(&mut self, left: Node) -> Result<Node, String> {
        let t = self.next();
        let bin = |op: BinOp, p: &mut Parser, bp: u8| -> Result<Node, String> {
            Ok(Node::Bin(op, Box::new(left.clone()), Box::new(p.expr(bp)?)))
        };
        Ok(match t {
            Tok::Op(".") => {
                let right = self.expr(75)?;
                let mut steps = match left {
                    Node::Path(s, false) => s,
                    other => vec![other],
                };
                let keep = matches!(right, Node::Path(_, true));
                match right {
                    Node::Path(s, _) => steps.extend(s),
                    other => steps.push(other),
                }
                Node::Path(steps, keep)
            }
            Tok::Op("[") => {
                if self.is_op("]") {
                    self.next();
                    match left {
                        Node::Path(s, _) => Node::Path(s, true),
                        other => Node::Path(vec![other], true),
                    }
                } else {
                    let pred = self.expr(0)?;
                    self.expect("]")?;
                    // A predicate binds to the last step of a path.
                    match left {
                        Node::Path(mut s, keep) => {
                            let last = s.pop().unwrap_or(Node::Null);
                            s.push(Node::Filter(Box::new(last), Box::new(pred)));
                            Node::Path(s, keep)
                        }
                        other => Node::Filter(Box::new(other), Box::new(pred)),
                    }
                }
            }
            Tok::Op("{") => Node::GroupBy(Box::new(left), self.pairs()?),
            Tok::Op("(") => {
                let mut args = Vec::new();
                if !self.is_op(")") {
                    loop {
                        args.push(self.expr(0)?);
                        if !self.is_op(",") {
                            break;
                        }
                        self.next();
                    }
                }
                self.expect(")")?;
                Node::Call(Box::new(left), args)
            }
            Tok::Op("?") => {
                let then = self.expr(0)?;
                let els = if self.is_op(":") {
                    self.next();
                    Some(Box::new(self.expr(0)?))
                } else {
                    None
                };
                Node::Cond(Box::new(left), Box::new(then), els)
            }
            Tok::Op("?:") => Node::Elvis(Box::new(left), Box::new(self.expr(20)?)),
            Tok::Op("??") => Node::Coalesce(Box::new(left), Box::new(self.expr(20)?)),
            Tok::Op("..") => Node::Range(Box::new(left), Box::new(self.expr(20)?)),
            Tok::Op(":=") => match left {
                Node::Var(v) => Node::Bind(v, Box::new(self.expr(9)?)),
                _ => return Err("S0212: the left side of := must be a variable name (start with $)".into()),
            },
            Tok::Op("~>") => Node::Apply(Box::new(left), Box::new(self.expr(40)?)),
            Tok::Op("^") => {
                self.expect("(")?;
                let mut terms = Vec::new();
                loop {
                    let mut asc = true;
                    if self.is_op("<") {
                        self.next();
                    } else if self.is_op(">") {
                        self.next();
                        asc = false;
                    }
                    terms.push((self.expr(0)?, asc));
                    if !self.is_op(",") {
                        break;
                    }
                    self.next();
                }
                self.expect(")")?;
                Node::Sort(Box::new(left), terms)
            }
            Tok::Op("+") => bin(BinOp::Add, self, 50)?,
            Tok::Op("-") => bin(BinOp::Sub, self, 50)?,
            Tok::Op("&") => bin(BinOp::Concat, self, 50)?,
            Tok::Op("*") => bin(BinOp::Mul, self, 60)?,
            Tok::Op("/") => bin(BinOp::Div, self, 60)?,
            Tok::Op("%") => bin(BinOp::Mod, self, 60)?,
            Tok::Op("=") => bin(BinOp::Eq, self, 40)?,
            Tok::Op("!=") => bin(BinOp::Ne, self, 40)?,
            Tok::Op("<") => bin(BinOp::Lt, self, 40)?,
            Tok::Op("<=") => bin(BinOp::Le, self, 40)?,
            Tok::Op(">") => bin(BinOp::Gt, self, 40)?,
            Tok::Op(">=") => bin(BinOp::Ge, self, 40)?,
            Tok::Name(n) if n == "in" => bin(BinOp::In, self, 40)?,
            Tok::Name(n) if n == "and" => Node::And(Box::new(left), Box::new(self.expr(30)?)),
            Tok::Name(n) if n == "or" => Node::Or(Box::new(left), Box::new(self.expr(25)?)),
            Tok::Op("@") | Tok::Op("#") => {
                return Err("S0214: the focus (@) and index (#) binding operators are not supported".into())
            }
            other => return Err(format!("S0201: syntax error: unexpected {other:?}")),
        })
    }
}
