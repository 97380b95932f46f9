#!/usr/bin/env python3
"""Latency percentiles against concurrency, as an SVG, from a bench.sh run.

Reads target/bench/hold.json (HTTP holds) and target/bench/pgbench-min.tsv
(the minimal one-statement hold through pgbench; else pgbench.tsv, the
service's earlier hold SQL) and draws p50 and p99 of both on log-log axes.
Standard library only, so it runs wherever bench.sh does.

usage: plot_latency.py BENCH_DIR OUT.svg
"""
import json
import math
import sys

bench_dir, out = sys.argv[1], sys.argv[2]
hold = json.load(open(f"{bench_dir}/hold.json"))["result"]["levels"]
series = {
    "HTTP hold p50": [(l["concurrency"], l["endpoints"][0]["p50Ms"]) for l in hold],
    "HTTP hold p99": [(l["concurrency"], l["endpoints"][0]["p99Ms"]) for l in hold],
}
try:
    # The minimal one-statement hold (pgbench-min.tsv: kind, clients, n, tps, p50, p99, failed).
    pg = [line.split("\t") for line in open(f"{bench_dir}/pgbench-min.tsv") if line.startswith("hold\t")]
    series["pgbench p50"] = [(int(r[1]), float(r[4])) for r in pg]
    series["pgbench p99"] = [(int(r[1]), float(r[5])) for r in pg]
except FileNotFoundError:
    # The service's earlier hold SQL (pgbench.tsv: clients, n, tps, p50, p95, p99, max, failed).
    pg = [line.split("\t") for line in open(f"{bench_dir}/pgbench.tsv") if line.strip()]
    series["pgbench p50"] = [(int(r[0]), float(r[3])) for r in pg]
    series["pgbench p99"] = [(int(r[0]), float(r[5])) for r in pg]
colours = {"HTTP hold p50": "#1f77b4", "HTTP hold p99": "#1f77b4", "pgbench p50": "#d62728", "pgbench p99": "#d62728"}

W, H, L, R, T, B = 640, 400, 70, 170, 40, 50
xs = [x for s in series.values() for x, _ in s]
ys = [y for s in series.values() for _, y in s]
x0, x1 = math.log10(min(xs)), math.log10(max(xs))
y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))


def px(x):
    return L + (math.log10(x) - x0) / (x1 - x0) * (W - L - R)


def py(y):
    return H - B - (math.log10(y) - y0) / (y1 - y0) * (H - T - B)


parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{L}" y="22" font-size="14">Seat hold latency against concurrency (distinct seats)</text>']
for e in range(y0, y1 + 1):
    y = py(10 ** e)
    parts.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#ddd"/>')
    parts.append(f'<text x="{L - 8}" y="{y + 4:.1f}" text-anchor="end">{10 ** e:g} ms</text>')
for x in sorted(set(xs)):
    parts.append(f'<line x1="{px(x):.1f}" y1="{T}" x2="{px(x):.1f}" y2="{H - B}" stroke="#eee"/>')
    parts.append(f'<text x="{px(x):.1f}" y="{H - B + 18}" text-anchor="middle">{x}</text>')
parts.append(f'<text x="{(L + W - R) / 2}" y="{H - 10}" text-anchor="middle">concurrent clients (log)</text>')
for i, (name, points) in enumerate(series.items()):
    dash = ' stroke-dasharray="6 4"' if "p99" in name else ""
    path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in sorted(points))
    parts.append(f'<polyline points="{path}" fill="none" stroke="{colours[name]}" stroke-width="2"{dash}/>')
    for x, y in points:
        parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colours[name]}"/>')
    ly = T + 10 + i * 20
    parts.append(f'<line x1="{W - R + 15}" y1="{ly}" x2="{W - R + 45}" y2="{ly}" stroke="{colours[name]}" stroke-width="2"{dash}/>')
    parts.append(f'<text x="{W - R + 52}" y="{ly + 4}">{name}</text>')
parts.append("</svg>")
open(out, "w").write("\n".join(parts) + "\n")
print(f"wrote {out}")
