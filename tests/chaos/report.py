#!/usr/bin/python3
"""Turns the output of a chaos run (ctest -V or chaos.py, any number of files) into the
markdown table of RELIABILITY.md: one row per closing line, with the run's context line.

  /usr/bin/python3 tests/chaos/report.py chaos.log > table.md"""
import re
import sys

LINE = re.compile(r"^(?:\d+: )?([a-z_0-9]+(?:\[\d+\])?): acked=(\d+) lost=(\d+) tracker_missed=(\d+) "
                  r"phantom=(\d+) log_dups=(\d+) redeliveries=(\d+) applied_twice=(\d+)$")
DETAIL = re.compile(r"^(?:\d+: )?\[\s*[\d.]+s\]\s{3}(.*)$")
RESULT = re.compile(r"Test\s+#\d+: (\S+) \.+\s*(\*+\w+|Passed)\s+([\d.]+) sec")


def main(paths):
    rows, results = [], []
    for path in paths:
        last = None
        for raw in open(path, errors="replace"):
            line = raw.rstrip("\n")
            m = LINE.match(line)
            if m:
                last = [*m.groups(), ""]
                rows.append(last)
                continue
            d = DETAIL.match(line)
            if d and last is not None and not last[-1]:
                last[-1] = d.group(1)
                continue
            r = RESULT.search(line)
            if r:
                results.append(r.groups())
    print("| Run | acked | lost | tracker_missed | phantom | log_dups | redeliveries | "
          "applied_twice | context |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    if results:
        print()
        print("| ctest test | result | seconds |")
        print("|---|---|---|")
        for name, res, secs in results:
            print(f"| {name} | {res.strip('*')} | {float(secs):.0f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
