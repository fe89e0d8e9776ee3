#!/usr/bin/env python3
"""Runs every shell command the README and docs/*.md show (docs/testing.md).

Blocks fenced as ```sh are scripts: each command (a line, with its `\\`
continuations and `|` continuation lines) must exit 0. Blocks fenced as
```console are transcripts: each `$ ` line is a command; it must exit 0,
unless the transcript's first output line starts with `error:`, then it must
exit non-zero with an error line carrying that message (compared up to
its first digit, after the location diagnostics put before it). An HTML comment
`<!-- docs-run: skip (why) -->` on the line before a fence skips its block
(used for ./scripts/run.sh and ./scripts/test.sh, which would re-run the
build and this test).

Commands run as written, from a scratch directory that looks like the
repository root (each top-level entry symlinked, so files a command writes
stay out of the tree; `../shared` is linked too when it exists), with the
standard PATH only: docs spell tools out as build/bin/..., the build
directory given by --build is linked as `build`.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

FENCE = re.compile(r"^```(\w*)\s*$")
SKIP = re.compile(r"^<!--\s*docs-run:\s*skip\b")


def blocks(path):
    """(language, first line number, lines, skipped) of each fenced block."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        skipped = i > 0 and bool(SKIP.match(lines[i - 1].strip()))
        yield m.group(1), i + 2, lines[i + 1:j], skipped
        i = j + 1


def unfinished(cmd):
    """Whether a command continues on the next line: a trailing `\\` or a
    quote left open (a multi-line --pass-pipeline="...")."""
    quote = None
    i = 0
    while i < len(cmd):
        ch = cmd[i]
        if quote is None:
            if ch == "#" and (i == 0 or cmd[i - 1] in " \t\n"):
                while i < len(cmd) and cmd[i] != "\n":
                    i += 1
                continue
            if ch in "'\"":
                quote = ch
            elif ch == "\\":
                i += 1
        elif ch == quote:
            quote = None
        elif ch == "\\" and quote == '"':
            i += 1
        i += 1
    return quote is not None or cmd.rstrip().endswith("\\")


def commands(lang, first, body):
    """(line, command, expected error line or None) of a block."""
    out = []
    if lang == "sh":
        cur, start = None, None
        for n, line in enumerate(body, first):
            if cur is not None and (unfinished(cur) or line.lstrip().startswith("|")):
                cur = cur + "\n" + line
                continue
            if cur is not None:
                out.append((start, cur, None))
                cur = None
            if line.strip() and not line.lstrip().startswith("#"):
                cur, start = line, n
        if cur is not None:
            out.append((start, cur, None))
    elif lang == "console":
        k = 0
        while k < len(body):
            if not body[k].startswith("$ "):
                k += 1
                continue
            start, cmd = first + k, body[k][2:]
            k += 1
            while k < len(body) and (unfinished(cmd) or body[k].lstrip().startswith("|")):
                cmd += "\n" + body[k]
                k += 1
            expect = body[k] if k < len(body) and body[k].startswith("error:") else None
            out.append((start, cmd, expect))
    return out


def expected_error(expect, stderr):
    """Whether stderr has an error line with the transcript's message, up to
    its first digit (numbers drift; the location prefix is not shown)."""
    key = re.split(r"\d", expect[len("error:"):])[0].strip()
    return any("error:" in line and key in line for line in stderr.splitlines())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True, help="repository root")
    ap.add_argument("--build", required=True, help="build directory")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per command (default 60; 300 in the "
                         "sanitizer build)")
    ap.add_argument("--list", action="store_true", help="only list commands")
    args = ap.parse_args()
    if args.timeout is None:
        # The ASan + UBSan build (it alone has the fuzz harnesses) runs the
        # same commands 5-10x slower; a loaded 2-core machine slows it again.
        sanitized = os.path.exists(
            os.path.join(args.build, "bin", "strata-fuzz-ir"))
        args.timeout = 300 if sanitized else 60
    root = os.path.abspath(args.root)
    docs = ["README.md"] + sorted(
        os.path.join("docs", f) for f in os.listdir(os.path.join(root, "docs"))
        if f.endswith(".md"))

    scratch = tempfile.mkdtemp(prefix="strata-docs-")
    work = os.path.join(scratch, "strata")
    os.mkdir(work)
    for entry in os.listdir(root):
        if entry in ("build", ".git"):
            continue
        os.symlink(os.path.join(root, entry), os.path.join(work, entry))
    os.symlink(os.path.abspath(args.build), os.path.join(work, "build"))
    shared = os.path.join(os.path.dirname(root), "shared")
    if os.path.isdir(shared):
        os.symlink(shared, os.path.join(scratch, "shared"))

    env = dict(os.environ)
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    ran = failed = skipped = 0
    total = time.monotonic()
    for doc in docs:
        for lang, first, body, skip in blocks(os.path.join(root, doc)):
            cmds = commands(lang, first, body)
            if skip:
                skipped += len(cmds)
                continue
            for line, cmd, expect in cmds:
                where = f"{doc}:{line}"
                if args.list:
                    print(f"{where}: {cmd}")
                    continue
                t = time.monotonic()
                try:
                    p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=work,
                                       env=env, stdin=subprocess.DEVNULL,
                                       capture_output=True, text=True,
                                       timeout=args.timeout)
                    rc, err = p.returncode, p.stderr
                except subprocess.TimeoutExpired:
                    rc, err = None, f"timed out after {args.timeout:.0f} s"
                dt = time.monotonic() - t
                ran += 1
                ok = (rc == 0) if expect is None else (
                    rc not in (0, None) and expected_error(expect, err))
                print(f"{'ok  ' if ok else 'FAIL'} {dt:6.2f} s  {where}: "
                      f"{cmd.splitlines()[0][:100]}")
                if not ok:
                    failed += 1
                    want = "exit 0" if expect is None else f"an error '{expect}'"
                    print(f"  expected {want}, got exit {rc}; stderr:\n    "
                          + "\n    ".join(err.strip().splitlines()[-8:]))
    print(f"docs-run: {ran} commands run, {failed} failed, {skipped} skipped, "
          f"{time.monotonic() - total:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
