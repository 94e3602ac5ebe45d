#!/usr/bin/env python3
"""Connection-level checks of a running `arbiter serve` (reward mode) on 127.0.0.1:PORT.

Prints one JSON line: the mean time of 200 sequential POST /v1/score on one kept-alive connection and on a
new connection each, of 200 GET /health on the kept-alive one, the answers to four requests written at once
(pipelined), and how long /health takes while 80 clients send their headers a line a second.

usage: python3 bench/load/http_checks.py PORT
"""
import http.client
import json
import socket
import subprocess
import sys
import threading
import time

port = int(sys.argv[1])
body = json.dumps({"pairs": [{"prompt": "hi", "response": "hello"}]})
n = 200
kept = http.client.HTTPConnection("127.0.0.1", port)
t0 = time.time()
for _ in range(n):
    kept.request("POST", "/v1/score", body, {"Content-Type": "application/json"})
    kept.getresponse().read()
kept_score = (time.time() - t0) / n
t0 = time.time()
for _ in range(n):
    fresh = http.client.HTTPConnection("127.0.0.1", port)
    fresh.request("POST", "/v1/score", body, {"Content-Type": "application/json"})
    fresh.getresponse().read()
    fresh.close()
fresh_score = (time.time() - t0) / n
t0 = time.time()
for _ in range(n):
    kept.request("GET", "/health")
    kept.getresponse().read()
kept_health = (time.time() - t0) / n

post = ("POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (len(body), body)).encode()
pipe = socket.create_connection(("127.0.0.1", port))
pipe.sendall(post * 3 + b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
pipe.settimeout(10)
answers = b""
while True:
    try:
        chunk = pipe.recv(65536)
    except socket.timeout:
        break
    if not chunk:
        break
    answers += chunk

slow = []
for _ in range(80):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /v1/score HTTP/1.1\r\n")
    slow.append(s)
probe = {}


def health():
    t = time.time()
    r = subprocess.run(["curl", "-s", "-m", "15", "-o", "/dev/null", "-w", "%{http_code}",
                        "localhost:%d/health" % port], capture_output=True, text=True)
    probe["seconds"] = round(time.time() - t, 3)
    probe["status"] = r.stdout


thread = threading.Thread(target=health)
thread.start()
started = time.time()
while thread.is_alive() and time.time() - started < 20:
    for s in slow:
        try:
            s.sendall(b"X-a: b\r\n")
        except OSError:
            pass
    time.sleep(1)
thread.join()
print(json.dumps({"kept_alive_score_ms": round(kept_score * 1e3, 2), "new_connection_score_ms": round(fresh_score * 1e3, 2),
                  "kept_alive_health_ms": round(kept_health * 1e3, 2),
                  "pipelined_answers_of_4": answers.count(b"HTTP/1.1 200"), "health_beside_80_slow_clients": probe}))
