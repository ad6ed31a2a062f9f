"""A Lambda-compatible function for the examples: prices one order line.

Serves HTTP on 127.0.0.1 (port from the first argument, default 9100): the request body is the
function's payload, the response body its result, as Expressway's function registry expects
(`--function price=http://127.0.0.1:9100/`). Standard library only.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def price(line):
    """Ten or more of a kind cost 10% less; amounts are in cents."""
    gross = line["qty"] * line["unitCents"]
    discount = gross // 10 if line["qty"] >= 10 else 0
    return {"line": line["line"], "sku": line["sku"], "qty": line["qty"], "totalCents": gross - discount}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        try:
            body, status = price(json.loads(self.rfile.read(length))), 200
        except (KeyError, TypeError, ValueError) as e:
            body, status = {"errorType": "InvalidLine", "errorMessage": str(e)}, 400
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9100
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"price listening on http://127.0.0.1:{port}/", flush=True)
    server.serve_forever()
