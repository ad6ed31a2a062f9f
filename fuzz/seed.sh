#!/usr/bin/env bash
# Regenerate the seed corpora in fuzz/corpus/<target>/ from the repository's own data:
# the conformance cases (crates/asl/tests/conformance/cases/*.json: each holds a
# "definition" and an "input") and examples/*.asl.json / *.input.json.
# Corpora are not committed (fuzz/.gitignore); run this before fuzzing.
set -euo pipefail
FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$FUZZ_DIR/.." && pwd)"
export FUZZ_DIR ROOT
python3 - <<'PY'
import glob, hashlib, json, os, re

root, fuzz = os.environ["ROOT"], os.environ["FUZZ_DIR"]
targets = ["definition", "jsonpath", "intrinsic", "jsonata", "start_command", "execution"]
seen = {t: set() for t in targets}

def put(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data or len(data) > 65536:
        return
    h = hashlib.sha1(data).hexdigest()
    if h in seen[target]:
        return
    seen[target].add(h)
    with open(os.path.join(fuzz, "corpus", target, h), "wb") as f:
        f.write(data)

for t in targets:
    os.makedirs(os.path.join(fuzz, "corpus", t), exist_ok=True)

def strings(v):
    """Every string in a JSON value, keys included."""
    if isinstance(v, str):
        yield v
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)

JSONATA = re.compile(r"\{%(.*?)%\}", re.S)
pairs = []  # (definition, input)
for path in sorted(glob.glob(os.path.join(root, "crates/asl/tests/conformance/cases/*.json"))):
    with open(path, encoding="utf-8") as f:
        case = json.load(f)
    pairs.append((case.get("definition"), case.get("input", {})))
for path in sorted(glob.glob(os.path.join(root, "examples/*.asl.json"))):
    with open(path, encoding="utf-8") as f:
        definition = json.load(f)
    inp = {}
    ipath = path[: -len(".asl.json")] + ".input.json"
    if os.path.exists(ipath):
        with open(ipath, encoding="utf-8") as f:
            inp = json.load(f)
    pairs.append((definition, inp))

# A document shaped like what the execution target's machine reads.
shaped = {
    "orderId": "o-1001", "count": 3, "customer": {"id": "c-42", "tier": "gold", "country": "US"},
    "items": [{"sku": "a", "qty": 1, "price": 3.5}, {"sku": "b", "qty": 12, "price": 1.25},
              {"sku": "a", "qty": 1, "price": 3.5}],
    "needle": {"sku": "b", "qty": 12, "price": 1.25}, "size": 2, "index": 1,
    "start": 1, "end": 10, "step": 3, "a": 1, "b": 2.5, "seed": 7,
    "text": "a,b;c", "delimiter": ",;", "b64": "aGVsbG8=", "json": "{\"p\": [1, 2]}",
    "extra": {"vip": True}, "template": "{} and {} and {}", "ip": "10.1.2.3",
    "when": "2024-05-01T12:00:00Z", "since": "2024-01-01T00:00:00.000+01:00",
    "flag": True, "other": False, "z": None, "wait": 5, "data": "hello", "algorithm": "SHA-384",
}

inputs = [json.dumps(shaped)]
for definition, inp in pairs:
    text = json.dumps(inp, separators=(",", ":"))
    inputs.append(text)
    if definition is not None:
        put("definition", json.dumps(definition, indent=1))
    put("execution", text)
    for s in strings(definition):
        st = s.strip()
        if st.startswith("States.") and "(" in st:
            put("intrinsic", st)
            put("intrinsic", st + "\n" + text)
        elif st.startswith("$"):
            put("jsonpath", st)
            put("jsonpath", st + "\n" + text)
        for m in JSONATA.finditer(s):
            expr = m.group(1).strip()
            if expr:
                put("jsonata", expr)
                put("jsonata", expr + "\0" + text)
put("execution", json.dumps(shaped))
for p in ["$.items[0].sku", "$.items[*].qty", "$..price", "$.items[?(@.qty > 2)].sku", "$.items[-1:]",
          "$.items.length()", "$['customer']['id']", "$.items[0,1]", "$.items[::2]"]:
    put("jsonpath", p + "\n" + json.dumps(shaped))

# start_command: start records as encode_start writes them, plain commands, trigger
# records and results-topic records (newline-delimited ResultMessage JSON).
arn = "arn:aws:states:us-east-1:123456789012:stateMachine:m"
for i, text in enumerate(inputs[:40]):
    cmd = {"execution_arn": arn.replace("stateMachine", "express") + f":e{i}", "execution_name": f"e{i}",
           "state_machine_arn": arn, "revision_id": "r1", "input": text, "start_ms": 1700000000000 + i,
           "reply_to": (f"worker-{i}" if i % 2 else None), "trace_header": (None if i % 3 else "00-abc-def-01")}
    put("start_command", '{"expresswayStart":1,' + json.dumps(cmd)[1:])
    put("start_command", json.dumps(cmd))
    put("start_command", json.dumps({"stateMachineArn": arn, "name": f"n{i}", "input": json.loads(text)}))
    put("start_command", json.dumps({"stateMachineArn": arn, "input": text}))
    outcome = {"Outcome": {"execution_arn": cmd["execution_arn"], "execution_name": cmd["execution_name"],
                           "state_machine_arn": arn, "status": "Succeeded", "input": text, "output": text,
                           "error": None, "cause": None, "start_ms": 1, "stop_ms": 2}}
    event = {"Event": {"execution_arn": cmd["execution_arn"], "state_machine_arn": arn,
                       "event": {"id": 1, "timestamp_ms": 2, "type": "PassStateEntered", "state_name": "S",
                                 "details": {"input": text}}}}
    put("start_command", json.dumps(outcome) + "\n" + json.dumps(event) + "\n")

for t in targets:
    print(f"{t}: {len(seen[t])} seeds")
PY
