//! JSONata 2.0.6 lexer and Pratt parser producing the [`Node`] tree.
//!
//! Paths are built while parsing: `a.b[p]#$i@$v^(k){…}` becomes one [`Node::Path`] whose
//! steps carry their predicates, positional and context bindings; predicates, grouping and
//! `[]` on any other expression wrap it. Syntax added after 2.0.6 (`??`, `?:`) is rejected
//! as 2.0.6 rejects it. Errors are `"S0xxx: message"` strings.

use regex::Regex;

use super::signature::Signature;

/// Deepest nesting the parser accepts, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 200;

#[derive(Debug, Clone)]
pub enum Node {
    Num(f64),
    Str(String),
    Bool(bool),
    Null,
    Regex(Regex),
    /// A field name step.
    Name(String),
    /// `$name`; `$` is the context (`""`), `$$` the root (`"$"`).
    Var(String),
    Wildcard,
    Descendants,
    /// `%`: the value the current one was found in.
    Parent,
    Neg(Box<Node>),
    Path(Box<Path>),
    /// Predicates on an expression that is not a path (`(a.b)[0]`, `$x[1]`).
    Filtered(Box<Node>, Vec<Node>),
    /// `[]` on an expression that is not a path.
    KeepArray(Box<Node>),
    /// An array constructor.
    Array(Vec<Node>),
    Object(Vec<(Node, Node)>),
    /// A group-by `{…}` on an expression that is not a path.
    GroupBy(Box<Node>, Vec<(Node, Node)>),
    /// An order-by step of a path (`^(<a, >b)`: true for ascending).
    Sort(Vec<(Node, bool)>),
    Bin(BinOp, Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cond(Box<Node>, Box<Node>, Option<Box<Node>>),
    Range(Box<Node>, Box<Node>),
    /// `(a; b)`; the flag says whether it needs a scope of its own (it binds a variable).
    Block(Vec<Node>, bool),
    Bind(String, Box<Node>),
    Call(Box<Node>, Vec<Node>),
    Apply(Box<Node>, Box<Node>),
    Lambda(Box<LambdaDef>),
    Placeholder,
    Transform(Box<Node>, Box<Node>, Option<Box<Node>>),
}

/// A path: steps applied in turn, each over every item the previous step produced.
#[derive(Debug, Clone, Default)]
pub struct Path {
    pub steps: Vec<Step>,
    /// `[]` somewhere in the path: the result stays an array.
    pub keep: bool,
    /// A step binds `@$v` or `#$i`: the path runs as a stream of binding tuples.
    pub tuple: bool,
    pub group: Option<Vec<(Node, Node)>>,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub expr: Node,
    pub stages: Vec<Stage>,
    /// `@$v`: the step's value is bound to `$v` and the context stays where it was.
    pub focus: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Stage {
    Filter(Node),
    /// `#$i`: the position within the step's results is bound to `$i`.
    Index(String),
}

#[derive(Debug, Clone)]
pub struct LambdaDef {
    pub params: Vec<String>,
    pub signature: Option<Signature>,
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
    "..", ":=", "!=", "<=", ">=", "~>", "**", ".", "[", "]", "{", "}", "(", ")", ",", "@", "#", ";", ":", "?", "+",
    "-", "*", "/", "%", "|", "=", "<", ">", "^", "&",
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
            let end = src[i + 2..].find("*/").ok_or("S0106: Comment has no closing tag")?;
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
            let mut in_class = false;
            loop {
                let ch = src[j..].chars().next().ok_or("S0302: No terminating / in regular expression")?;
                if ch == '\\' {
                    let n = src[j + 1..].chars().next().ok_or("S0302: No terminating / in regular expression")?;
                    j += 1 + n.len_utf8();
                    continue;
                }
                if ch == '[' {
                    in_class = true;
                } else if ch == ']' {
                    in_class = false;
                } else if ch == '/' && !in_class {
                    break;
                }
                j += ch.len_utf8();
            }
            let pat = src[i + 1..j].to_string();
            j += 1;
            let fstart = j;
            while j < b.len() && (b[j] == b'i' || b[j] == b'm') {
                j += 1;
            }
            if pat.is_empty() {
                return Err("S0301: Empty regular expressions are not allowed".into());
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
                    src[j..].chars().next().ok_or("S0101: String literal must be terminated by a matching quote")?;
                j += ch.len_utf8();
                if ch == q {
                    break;
                }
                if ch == '\\' {
                    let e = src[j..]
                        .chars()
                        .next()
                        .ok_or("S0101: String literal must be terminated by a matching quote")?;
                    j += e.len_utf8();
                    match e {
                        '"' | '\\' | '/' => s.push(e),
                        'b' => s.push('\u{8}'),
                        'f' => s.push('\u{c}'),
                        'n' => s.push('\n'),
                        'r' => s.push('\r'),
                        't' => s.push('\t'),
                        'u' => {
                            let hex = src.get(j..j + 4).filter(|h| h.bytes().all(|x| x.is_ascii_hexdigit()));
                            let hex = hex.ok_or("S0104: The escape sequence \\u must be followed by 4 hex digits")?;
                            let mut code = u32::from_str_radix(hex, 16).unwrap_or(0xFFFD);
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
                        other => return Err(format!("S0103: Unsupported escape sequence: \\{other}")),
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
            let n: f64 = src[i..j].parse().unwrap_or(f64::INFINITY);
            if !n.is_finite() {
                return Err(format!("S0102: Number out of range: {}", &src[i..j]));
            }
            out.push((Tok::Num(n), start));
            i = j;
            continue;
        }
        if c == b'`' {
            let end =
                src[i + 1..].find('`').ok_or("S0105: Quoted property name must be terminated with a backquote (`)")?;
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
                if is_name_char(c2) {
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
        return Err(format!("S0204: Unknown operator: \"{ch}\" at column {}", i + 1));
    }
    out.push((Tok::End, src.len()));
    Ok(out)
}

/// Parse an expression; the flag says whether it uses the parent operator `%` (its paths
/// then keep track of where each value was found).
pub fn parse(src: &str) -> Result<(Node, bool), String> {
    let toks = lex(src)?;
    let mut p = Parser { src, toks, i: 0, depth: 0, parent: false };
    let n = p.expr(0)?;
    if p.peek() != &Tok::End {
        return Err(format!("S0201: Syntax error: {}", p.describe()));
    }
    Ok((n, p.parent))
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<(Tok, usize)>,
    i: usize,
    depth: usize,
    parent: bool,
}

/// Whether evaluating `node` may bind a variable in the scope it runs in (blocks and
/// lambda bodies have their own).
fn binds(node: &Node) -> bool {
    let pairs = |ps: &[(Node, Node)]| ps.iter().any(|(k, v)| binds(k) || binds(v));
    match node {
        Node::Bind(..) => true,
        Node::Block(..) | Node::Lambda(_) => false,
        Node::Num(_)
        | Node::Str(_)
        | Node::Bool(_)
        | Node::Null
        | Node::Regex(_)
        | Node::Name(_)
        | Node::Var(_)
        | Node::Wildcard
        | Node::Descendants
        | Node::Parent
        | Node::Placeholder => false,
        Node::Neg(e) | Node::KeepArray(e) => binds(e),
        Node::Path(p) => {
            p.steps
                .iter()
                .any(|s| binds(&s.expr) || s.stages.iter().any(|st| matches!(st, Stage::Filter(f) if binds(f))))
                || p.group.as_deref().is_some_and(pairs)
        }
        Node::Filtered(e, preds) => binds(e) || preds.iter().any(binds),
        Node::Array(items) => items.iter().any(binds),
        Node::Object(ps) => pairs(ps),
        Node::GroupBy(e, ps) => binds(e) || pairs(ps),
        Node::Sort(terms) => terms.iter().any(|(t, _)| binds(t)),
        Node::Bin(_, l, r) | Node::And(l, r) | Node::Or(l, r) | Node::Range(l, r) | Node::Apply(l, r) => {
            binds(l) || binds(r)
        }
        Node::Cond(c, t, e) => binds(c) || binds(t) || e.as_deref().is_some_and(binds),
        Node::Call(f, args) => binds(f) || args.iter().any(binds),
        Node::Transform(p, u, d) => binds(p) || binds(u) || d.as_deref().is_some_and(binds),
    }
}

/// `node` as a path (a new one-step path unless it is already one).
fn into_path(node: Node) -> Result<Path, String> {
    Ok(match node {
        Node::Path(p) if p.group.is_none() => *p,
        other => Path { steps: vec![step(other)?], ..Path::default() },
    })
}

/// An expression as a path step: a string literal is a field name, other literals are errors.
fn step(node: Node) -> Result<Step, String> {
    let expr = match node {
        Node::Str(s) => Node::Name(s),
        Node::Num(n) => {
            return Err(format!("S0213: The literal value {} cannot be used as a step within a path expression", n))
        }
        Node::Bool(b) => {
            return Err(format!("S0213: The literal value {b} cannot be used as a step within a path expression"))
        }
        Node::Null => {
            return Err("S0213: The literal value null cannot be used as a step within a path expression".into())
        }
        other => other,
    };
    Ok(Step { expr, stages: Vec::new(), focus: None })
}

fn last_step(p: &mut Path) -> &mut Step {
    // Paths always have at least one step: they are built from one.
    let n = p.steps.len() - 1;
    &mut p.steps[n]
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.i.min(self.toks.len() - 1)].0
    }

    fn describe(&self) -> String {
        match self.peek() {
            Tok::End => "end of expression".into(),
            t => format!("{} at column {}", show(t), self.toks[self.i].1 + 1),
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
        if self.is_op(op) {
            self.next();
            Ok(())
        } else if self.peek() == &Tok::End {
            Err(format!("S0203: Expected \"{op}\" before end of expression"))
        } else {
            Err(format!("S0202: Expected \"{op}\", got {}", self.describe()))
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
                "?" => 20,
                "+" | "-" | "&" => 50,
                "*" | "/" | "%" => 60,
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
            return Err("S0208: The expression is nested too deeply".into());
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

    /// An item of a bracketed list: the end of the input there is a missing `close`.
    fn item(&mut self, close: &str) -> Result<Node, String> {
        if self.peek() == &Tok::End {
            return Err(format!("S0203: Expected \"{close}\" before end of expression"));
        }
        self.expr(0)
    }

    fn list(&mut self, close: &str, args: bool) -> Result<Vec<Node>, String> {
        let mut items = Vec::new();
        if !self.is_op(close) {
            loop {
                if args && self.is_op("?") {
                    self.next();
                    items.push(Node::Placeholder);
                } else {
                    items.push(self.item(close)?);
                }
                if !self.is_op(",") {
                    break;
                }
                self.next();
            }
        }
        self.expect(close)?;
        Ok(items)
    }

    fn nud(&mut self) -> Result<Node, String> {
        let t = self.next();
        Ok(match t {
            Tok::Num(n) => Node::Num(n),
            Tok::Str(s) => Node::Str(s),
            Tok::Regex(p, flags) => {
                let mut pat = String::new();
                if !flags.is_empty() {
                    pat.push_str("(?");
                    pat.push_str(&flags);
                    pat.push(')');
                }
                pat.push_str(&p);
                let re = Regex::new(&pat).map_err(|e| format!("S0303: Invalid regular expression: {e}"))?;
                Node::Regex(re)
            }
            Tok::Var(v) => Node::Var(v),
            Tok::Name(n) => match n.as_str() {
                "true" => Node::Bool(true),
                "false" => Node::Bool(false),
                "null" => Node::Null,
                "function" | "λ" if self.is_op("(") => self.lambda()?,
                _ => Node::Path(Box::new(Path { steps: vec![step(Node::Name(n))?], ..Path::default() })),
            },
            Tok::Op("-") => match self.expr(70)? {
                Node::Num(n) => Node::Num(-n),
                other => Node::Neg(Box::new(other)),
            },
            Tok::Op("*") => Node::Path(Box::new(into_path(Node::Wildcard)?)),
            Tok::Op("**") => Node::Path(Box::new(into_path(Node::Descendants)?)),
            Tok::Op("%") => {
                self.parent = true;
                Node::Path(Box::new(into_path(Node::Parent)?))
            }
            Tok::Op("(") => {
                let mut items = Vec::new();
                while !self.is_op(")") {
                    items.push(self.item(")")?);
                    if !self.is_op(";") {
                        break;
                    }
                    self.next();
                }
                self.expect(")")?;
                let scoped = items.iter().any(binds);
                Node::Block(items, scoped)
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                if !self.is_op("]") {
                    loop {
                        let item = self.item("]")?;
                        if self.is_op("..") {
                            self.next();
                            let hi = self.expr(0)?;
                            items.push(Node::Range(Box::new(item), Box::new(hi)));
                        } else {
                            items.push(item);
                        }
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
            Tok::Op("|") => {
                let pattern = self.expr(0)?;
                self.expect("|")?;
                let update = self.expr(0)?;
                let delete = if self.is_op(",") {
                    self.next();
                    Some(Box::new(self.expr(0)?))
                } else {
                    None
                };
                self.expect("|")?;
                Node::Transform(Box::new(pattern), Box::new(update), delete)
            }
            Tok::End => return Err("S0207: Unexpected end of expression".into()),
            other => return Err(format!("S0211: The symbol {} cannot be used as a unary operator", show(&other))),
        })
    }

    fn pairs(&mut self) -> Result<Vec<(Node, Node)>, String> {
        let mut pairs = Vec::new();
        if !self.is_op("}") {
            loop {
                let k = self.item(":")?;
                self.expect(":")?;
                let v = self.item("}")?;
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
                Tok::End => return Err("S0203: Expected \")\" before end of expression".into()),
                _ => {
                    return Err("S0208: Parameter of function definition must be a variable name (start with $)".into())
                }
            }
            if !self.is_op(")") {
                self.expect(",")?;
            }
        }
        self.expect(")")?;
        let mut signature = None;
        if self.is_op("<") {
            // The signature's text runs to the matching `>` (types such as `a<n>` nest).
            let start = self.toks[self.i].1;
            let mut depth = 0;
            let end = loop {
                let pos = self.toks[self.i].1;
                match self.next() {
                    Tok::Op("<") => depth += 1,
                    Tok::Op(">") => {
                        depth -= 1;
                        if depth == 0 {
                            break pos + 1;
                        }
                    }
                    Tok::End => return Err("S0402: Unterminated function signature".into()),
                    _ => {}
                }
            };
            signature = Some(Signature::parse(&self.src[start..end])?);
        }
        self.expect("{")?;
        let body = if self.is_op("}") { Node::Block(Vec::new(), false) } else { self.expr(0)? };
        self.expect("}")?;
        Ok(Node::Lambda(Box::new(LambdaDef { params, signature, body })))
    }

    fn led(&mut self, left: Node) -> Result<Node, String> {
        let t = self.next();
        let bin = |op: BinOp, p: &mut Parser<'_>, left: Node, bp: u8| -> Result<Node, String> {
            Ok(Node::Bin(op, Box::new(left), Box::new(p.expr(bp)?)))
        };
        Ok(match t {
            Tok::Op(".") => {
                // A grouping stays at the end of the path it is extended into.
                let mut path = match left {
                    Node::Path(p) => *p,
                    other => into_path(other)?,
                };
                match self.expr(75)? {
                    Node::Path(p) if p.group.is_none() => {
                        path.keep |= p.keep;
                        path.tuple |= p.tuple;
                        path.steps.extend(p.steps);
                    }
                    other => path.steps.push(step(other)?),
                }
                Node::Path(Box::new(path))
            }
            Tok::Op("[") => {
                if self.is_op("]") {
                    self.next();
                    return Ok(match left {
                        Node::Path(mut p) => {
                            p.keep = true;
                            Node::Path(p)
                        }
                        other => Node::KeepArray(Box::new(other)),
                    });
                }
                let pred = self.item("]")?;
                self.expect("]")?;
                match left {
                    Node::Path(mut p) if p.group.is_none() => {
                        last_step(&mut p).stages.push(Stage::Filter(pred));
                        Node::Path(p)
                    }
                    Node::Filtered(e, mut preds) => {
                        preds.push(pred);
                        Node::Filtered(e, preds)
                    }
                    other => Node::Filtered(Box::new(other), vec![pred]),
                }
            }
            Tok::Op("{") => {
                let pairs = self.pairs()?;
                match left {
                    Node::Path(mut p) => {
                        if p.group.is_some() {
                            return Err("S0210: Each step can only have one grouping expression".into());
                        }
                        p.group = Some(pairs);
                        Node::Path(p)
                    }
                    other => Node::GroupBy(Box::new(other), pairs),
                }
            }
            Tok::Op("@") | Tok::Op("#") => {
                let Tok::Var(v) = self.next() else {
                    return Err(format!(
                        "S0214: The right side of {} must be a variable name (start with $)",
                        if t == Tok::Op("@") { "@" } else { "#" }
                    ));
                };
                let mut path = into_path(left)?;
                let last = last_step(&mut path);
                if t == Tok::Op("@") {
                    if matches!(last.expr, Node::Sort(_)) {
                        return Err(
                            "S0216: A context variable binding must precede the 'order-by' clause on a step".into()
                        );
                    }
                    if last.stages.iter().any(|s| matches!(s, Stage::Filter(_))) {
                        return Err("S0215: A context variable binding must precede any predicates on a step".into());
                    }
                    last.focus = Some(v);
                } else {
                    last.stages.push(Stage::Index(v));
                }
                path.tuple = true;
                Node::Path(Box::new(path))
            }
            Tok::Op("(") => {
                let args = self.list(")", true)?;
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
            Tok::Op(":=") => match left {
                Node::Var(v) => Node::Bind(v, Box::new(self.expr(9)?)),
                _ => return Err("S0212: The left side of := must be a variable name (start with $)".into()),
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
                let mut path = into_path(left)?;
                path.steps.push(Step { expr: Node::Sort(terms), stages: Vec::new(), focus: None });
                Node::Path(Box::new(path))
            }
            Tok::Op("+") => bin(BinOp::Add, self, left, 50)?,
            Tok::Op("-") => bin(BinOp::Sub, self, left, 50)?,
            Tok::Op("&") => bin(BinOp::Concat, self, left, 50)?,
            Tok::Op("*") => bin(BinOp::Mul, self, left, 60)?,
            Tok::Op("/") => bin(BinOp::Div, self, left, 60)?,
            Tok::Op("%") => bin(BinOp::Mod, self, left, 60)?,
            Tok::Op("=") => bin(BinOp::Eq, self, left, 40)?,
            Tok::Op("!=") => bin(BinOp::Ne, self, left, 40)?,
            Tok::Op("<") => bin(BinOp::Lt, self, left, 40)?,
            Tok::Op("<=") => bin(BinOp::Le, self, left, 40)?,
            Tok::Op(">") => bin(BinOp::Gt, self, left, 40)?,
            Tok::Op(">=") => bin(BinOp::Ge, self, left, 40)?,
            Tok::Name(n) if n == "in" => bin(BinOp::In, self, left, 40)?,
            Tok::Name(n) if n == "and" => Node::And(Box::new(left), Box::new(self.expr(30)?)),
            Tok::Name(n) if n == "or" => Node::Or(Box::new(left), Box::new(self.expr(25)?)),
            other => return Err(format!("S0201: Syntax error: {}", show(&other))),
        })
    }
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Num(n) => format!("{n}"),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Name(n) => n.clone(),
        Tok::Var(v) => format!("${v}"),
        Tok::Op(o) => format!("\"{o}\""),
        Tok::Regex(p, _) => format!("/{p}/"),
        Tok::End => "(end)".into(),
    }
}
