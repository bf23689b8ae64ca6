#!/usr/bin/env python3
"""Stack use of h7flash from GCC's -fcallgraph-info=su files (.ci): each
function's own frame and the worst call chain from every public entry
point (h7f_*). Usage: stack_usage.py <object dir>"""
import os
import re
import sys

frames, edges = {}, {}
for root, _, files in os.walk(sys.argv[1]):
    for name in files:
        if not name.endswith(".ci"):
            continue
        text = open(os.path.join(root, name)).read()
        for title, label in re.findall(r'node: \{ title: "([^"]+)" label: "([^"]*)"', text):
            m = re.search(r"(\d+) bytes \((\w+)", label)
            if m:
                frames[title] = (int(m.group(1)), m.group(2))
            else:
                frames.setdefault(title, (0, "external"))
        for src, dst in re.findall(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', text):
            edges.setdefault(src, set()).add(dst)


def worst(fn, seen=()):
    """(bytes, chain) of the deepest path from fn; recursion is cut."""
    own = frames.get(fn, (0, "external"))[0]
    best = (0, [])
    for callee in edges.get(fn, ()):
        if callee in seen:
            continue
        best = max(best, worst(callee, seen + (fn,)), key=lambda t: t[0])
    return own + best[0], [fn] + best[1]


def short(fn):
    return fn.split(":")[-1]


print("h7flash: stack frame per function (bytes, -fstack-usage)")
for fn, (n, kind) in sorted(frames.items(), key=lambda kv: -kv[1][0]):
    if kind != "external":
        print(f"  {n:5d}  {short(fn)} ({kind})")
entries = [fn for fn in frames if short(fn).startswith("h7f_") and frames[fn][1] != "external"]
results = sorted((worst(fn) for fn in entries), key=lambda t: -t[0])
print("h7flash: worst stack per entry point (frame sums along the deepest call chain)")
for total, chain in results[:8]:
    print(f"  {total:5d}  " + " > ".join(short(c) for c in chain))
if results:
    print(f"h7flash: max stack {results[0][0]} bytes (+ the application's h7f_port_poll_hook)")
