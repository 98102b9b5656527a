#!/usr/bin/env python3
"""hook_listener.py DIR: a webhook receiver on 127.0.0.1 for the tests.

Binds a free port and writes it to DIR/port.  Each POST becomes
DIR/<n>.headers (one "Name: value" a line, then "path: ..." and
"answered: CODE") and DIR/<n>.body, n = 1, 2, ...; both are written
under dot-names and renamed, the body last, so a test that sees
<n>.body sees the whole request.  The status answered is read from
DIR/status at each request (default 200).
"""
import http.server
import os
import signal
import sys

DIR = sys.argv[1]
count = 0


def publish(name, data):
    tmp = os.path.join(DIR, "." + name)
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(DIR, name))


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            with open(os.path.join(DIR, "status")) as f:
                code = int(f.read().strip() or 200)
        except OSError:
            code = 200
        count += 1
        head = "".join("%s: %s\n" % (k, v) for k, v in self.headers.items())
        head += "path: %s\nanswered: %d\n" % (self.path, code)
        publish("%d.headers" % count, head.encode())
        publish("%d.body" % count, body)
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


# TERM ends it with status 0: proc_stop (under bats' set -e) records
# the exit status only of a program that ends well.
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
srv = http.server.HTTPServer(("127.0.0.1", 0), Hook)
publish("port", b"%d\n" % srv.server_address[1])
srv.serve_forever()
