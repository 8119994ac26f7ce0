#!/usr/bin/env python3
"""Side-by-side table of benchmark samples.

Reads lines `RAW <product> <round> <metric> <value>` (other lines are ignored) from the files given (or stdin)
and prints a markdown table: per metric, min / median / max for each product and the ratio of Lb's median to
keepalived's (and of the minimums). A metric description file (`--metrics FILE`, lines `metric<TAB>unit<TAB>label`)
orders and labels the rows; units: s, ms, MiB, cpu-s, count (a count, with a ratio), n (no ratio).
Usage: summarize.py [--metrics FILE] [--products lb,keepalived] [FILE...]
"""
import statistics
import sys


def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit == "s":
        return f"{v:.2f}"
    if unit == "ms":
        return f"{v:.1f}" if v < 100 else f"{v:.0f}"
    if unit in ("MiB", "cpu-s"):
        return f"{v:.1f}" if v < 100 else f"{v:.0f}"
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}"


def main(argv):
    metrics_file, products, files = None, ["lb", "keepalived"], []
    it = iter(argv)
    for a in it:
        if a == "--metrics":
            metrics_file = next(it)
        elif a == "--products":
            products = next(it).split(",")
        else:
            files.append(a)
    samples = {}
    order = []
    streams = [open(f, encoding="utf-8") for f in files] or [sys.stdin]
    for s in streams:
        for line in s:
            p = line.split()
            if len(p) < 5 or p[0] != "RAW":
                continue
            prod, metric, val = p[1], p[3], p[4]
            if metric not in order:
                order.append(metric)
            if val in ("NA", "timeout", "failed"):
                samples.setdefault((prod, metric), []).append(None)
                continue
            samples.setdefault((prod, metric), []).append(float(val))
    meta = {}
    if metrics_file:
        morder = []
        for line in open(metrics_file, encoding="utf-8"):
            if line.strip() and not line.startswith("#"):
                m, unit, label = line.rstrip("\n").split("\t", 2)
                meta[m] = (unit, label)
                morder.append(m)
        order = [m for m in morder if m in order] + [m for m in order if m not in morder]
    a, b = products
    print(f"| metric | {a} min / median / max | {b} min / median / max | {a}/{b} median (min) | rounds |")
    print("|---|---|---|---|---|")
    for m in order:
        unit, label = meta.get(m, ("", m))
        cells, meds, mins, ns = [], [], [], []
        for prod in products:
            vals = samples.get((prod, m), [])
            ok = [v for v in vals if v is not None]
            bad = len(vals) - len(ok)
            ns.append(f"{len(ok)}" + (f" (+{bad} failed)" if bad else ""))
            if ok:
                med = statistics.median(ok)
                meds.append(med)
                mins.append(min(ok))
                cells.append(f"{fmt(min(ok), unit)} / {fmt(med, unit)} / {fmt(max(ok), unit)}")
            else:
                meds.append(None)
                mins.append(None)
                cells.append("n/a")
        if unit != "n" and None not in meds and meds[1] != 0 and mins[1] != 0:
            ratio = f"{meds[0] / meds[1]:.2f}× ({mins[0] / mins[1]:.2f}×)"
        else:
            ratio = "n/a"
        u = f" ({unit})" if unit and unit not in ("n", "count") else ""
        print(f"| {label}{u} | {cells[0]} | {cells[1]} | {ratio} | {' / '.join(ns)} |")


if __name__ == "__main__":
    main(sys.argv[1:])
