#!/usr/bin/env python3
"""Page latency of a running Counterpart server: sign in as the demo's admin, then request each
main page and API endpoint N times one after another (keep-alive), and print p50 / p95 / max in
milliseconds per path as JSON lines. Usage: web-latency.py BASE_URL N"""
import http.client
import json
import sys
import time
import urllib.parse

base, n = sys.argv[1], int(sys.argv[2])
host = urllib.parse.urlparse(base).netloc
conn = http.client.HTTPConnection(host, timeout=120)


def request(method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    return response, data


response, page = request("GET", "/login")
login_cookie = next(v.split(";")[0] for k, v in response.getheaders()
              if k.lower() == "set-cookie" and v.startswith("cp_session="))
token = page.decode().split('name="csrf" value="')[1].split('"')[0]
response, _ = request("POST", "/login", f"csrf={token}&name=admin&password=demo-admin-2010&next=/",
                      {"Content-Type": "application/x-www-form-urlencoded", "Cookie": login_cookie})
cookie = next(v.split(";")[0] for k, v in response.getheaders()
              if k.lower() == "set-cookie" and v.startswith("cp_session="))
signed = {"Cookie": cookie}
_, body = request("GET", "/api/v1/projects?per_page=1", headers=signed)
project = json.loads(body)["items"][0]["id"]

paths = [
    ("/", {}), ("/?lang=zh", {}), ("/providers/shanghai", {}), ("/recipients/kashgar", {}),
    ("/projects", signed), ("/projects?provider=beijing&year=2015", signed),
    (f"/projects/{project}", signed), ("/ledger", signed), ("/ledger?kind=reversal", signed),
    ("/people", signed), ("/pairing", {}), ("/audit", signed),
    ("/api/v1/summary", {}), ("/api/v1/compliance?year=2019", {}),
    ("/api/v1/projects?recipient=kashgar", signed), ("/api/v1/transfers?provider=shanghai", signed),
]
for path, headers in paths:
    request("GET", path, headers=headers)  # warm: the first request may compute and cache
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response, _ = request("GET", path, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        if response.status != 200:
            sys.exit(f"{path}: HTTP {response.status}")
    times.sort()
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print(json.dumps({"path": path, "p50": round(pick(0.5), 2), "p95": round(pick(0.95), 2),
                      "max": round(times[-1], 2)}))
