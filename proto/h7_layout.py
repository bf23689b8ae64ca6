"""The h7iap layout (proto/h7_layout.h) for Python scripts.

The values come from the header itself and the headers it includes
(hw/include/stm32h7/memorymap.h, proto/update_record.h), so that benchmark
and test scripts use the numbers the firmware and h7iap are built with:

    sys.path.insert(0, "<repo>/proto")
    import h7_layout
    L = h7_layout.load()
    L["BOOT_APP_START"]          # 0x08040000

Command line (shell scripts): `python3 proto/h7_layout.py NAME...` prints
each value as 0x%08x, one per line; without names, NAME=value for all.

Only what the headers need is understood: object- and function-like
#define of integer expressions (C suffixes u/U/l/L, + - * / % << >> & | ^ ~,
parentheses), #include "..." through proto/ and hw/include/.
"""
import os
import re
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_INCLUDE = [os.path.join(_ROOT, "proto"), os.path.join(_ROOT, "hw", "include")]
_HEADER = os.path.join(_ROOT, "proto", "h7_layout.h")


def _read(path, seen, defs):
    if path in seen:
        return
    seen.add(path)
    with open(path) as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S).replace("\\\n", " ")
    for line in text.splitlines():
        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
        if m:
            for d in [os.path.dirname(path)] + _INCLUDE:
                p = os.path.join(d, m.group(1))
                if os.path.exists(p):
                    _read(p, seen, defs)
                    break
            continue
        m = re.match(r"\s*#\s*define\s+(\w+)(\(([\w\s,]*)\))?\s+(\S.*?)\s*$", line)
        if m:
            params = [p.strip() for p in m.group(3).split(",")] if m.group(2) else None
            defs[m.group(1)] = (params, m.group(4))


def _python(expr):
    expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b", r"\1", expr)
    return expr.replace("/", "//")


class _Names:
    """Names of an expression: macro parameters first, then the macros."""

    def __init__(self, defs, bound=None):
        self.defs, self.bound = defs, bound or {}

    def __getitem__(self, name):
        if name in self.bound:
            return self.bound[name]
        if name not in self.defs:
            raise KeyError(name)
        params, body = self.defs[name]
        if params is None:
            return _eval(body, self)
        return lambda *args: _eval(body, _Names(self.defs, dict(zip(params, args))))


def _eval(expr, names):
    return eval(_python(expr), {"__builtins__": {}}, names)


def load(header=_HEADER):
    """Every integer macro of the header (and of what it includes)."""
    defs = {}
    _read(header, set(), defs)
    names, out = _Names(defs), {}
    for name, (params, _) in defs.items():
        if params is not None:
            continue
        try:
            v = names[name]
        except Exception:  # a macro that is not an integer expression
            continue
        if isinstance(v, int):
            out[name] = v & 0xFFFFFFFF
    return out


def main(argv):
    layout = load()
    if len(argv) == 0:
        for k in sorted(layout):
            print("%s=0x%08x" % (k, layout[k]))
        return 0
    for name in argv:
        if name not in layout:
            print("h7_layout.py: %s is not defined in %s" % (name, _HEADER), file=sys.stderr)
            return 2
        print("0x%08x" % layout[name])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
