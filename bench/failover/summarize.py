#!/usr/bin/env python3
"""Summarize bench/failover/results/*.csv: markdown table (summary.md) and a strip plot (failover.svg)."""
import csv, math, os, sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "results")
def scenarios():
    """(file, label, target) for every results CSV: lb-/keepalived- per setting (v3-50ms first), then the rest."""
    names = sorted(f[:-4] for f in os.listdir(OUT) if f.endswith(".csv"))
    out = []
    for tag in sorted({n.split("-", 1)[1] for n in names if n.startswith(("lb-", "keepalived-"))},
                      key=lambda t: (t.endswith("sigterm"), not t.startswith("v3"), t)):
        for prod, label in (("lb", "Lb"), ("keepalived", "keepalived 2.2.7")):
            if f"{prod}-{tag}" in names:
                v, a = tag.split("-")[0], tag.split("-")[1]
                extra = ", SIGTERM (priority-0 advert)" if tag.endswith("sigterm") else ", SIGKILL"
                out.append((f"{prod}-{tag}", f"{label}, {v}, advert_int {a.replace('ms', ' ms').replace('1s', '1 s')}{extra}", None))
    return out


SCEN = scenarios()


def pct(xs, p):  # nearest rank
    s = sorted(xs); return s[max(0, math.ceil(p / 100 * len(s)) - 1)]

def med(xs):
    s = sorted(xs); n = len(s); return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2

rows, data = [], []
for f, label, target in SCEN:
    path = os.path.join(OUT, f + ".csv")
    if not os.path.exists(path):
        continue
    recs = list(csv.DictReader(open(path)))
    if not recs:
        continue
    take = [float(r["takeover_s"]) * 1000 for r in recs]
    exc = [float(r["excess_ms"]) for r in recs]
    bound = float(recs[0]["bound_s"]) * 1000
    adv = [(float(r["t_first_advert_b"]) - float(r["t_last_advert"])) * 1000 - bound for r in recs if r["t_first_advert_b"] not in ("", "None")]
    met = ""
    if target:
        kind, lim = target
        v = pct(exc if kind == "excess" else take, 99)
        met = f"{'yes' if v < lim else 'NO'} (p99 {v:.1f} ms {'<' if v < lim else '≥'} {lim} ms)"
    rows.append((label, len(recs), bound, take, exc, adv, met))
    data.append((label, exc))

fmt = lambda xs: " / ".join(f"{x:.1f}" for x in (min(xs), med(xs), pct(xs, 99), max(xs)))
lines = ["| scenario | runs | bound (ms) | takeover to first GARP (ms) min / median / p99 / max | GARP − bound (ms) min / median / p99 / max | first advert of the new master − bound (ms) min / median / p99 / max | target met |",
         "|---|---|---|---|---|---|---|"]
for label, n, bound, take, exc, adv, met in rows:
    lines.append(f"| {label} | {n} | {bound:.1f} | {fmt(take)} | {fmt(exc)} | {fmt(adv) if adv else '–'} | {met or '–'} |")
cmp = ["", "| setting | Lb takeover p50 / p99 / max (ms) | keepalived p50 / p99 / max (ms) | Lb p99 ≤ keepalived p99 | Lb median − keepalived median (target ≤ 2 ms) |",
       "|---|---|---|---|---|"]
byfile = {f: take for (f, _, _), (_, _, _, take, _, _, _) in zip([s for s in SCEN if os.path.exists(os.path.join(OUT, s[0] + ".csv"))], rows)}
for f in byfile:
    if f.startswith("lb-") and "keepalived-" + f[3:] in byfile:
        a, b = byfile[f], byfile["keepalived-" + f[3:]]
        p3 = lambda xs: f"{med(xs):.1f} / {pct(xs, 99):.1f} / {max(xs):.1f}"
        d = med(a) - med(b)
        cmp.append(f"| {f[3:]} | {p3(a)} | {p3(b)} | {'yes' if pct(a, 99) <= pct(b, 99) else 'NO'} ({pct(a, 99) - pct(b, 99):+.1f} ms) | {d:+.1f} ms: {'yes' if d <= 2 else 'NO'} |")
if len(cmp) > 3:
    lines += cmp
md = "\n".join(lines) + "\n"
open(os.path.join(OUT, "summary.md"), "w").write(md)
print(md)

# SVG strip plot of (takeover - bound) per scenario
W, rowh, left, right, top = 900, 70, 330, 30, 40
H = top + rowh * len(data) + 60
allv = [v for _, xs in data for v in xs] + [0, 10]
lo, hi = min(allv), max(allv)
pad = (hi - lo) * 0.05 or 1
lo, hi = lo - pad, hi + pad
X = lambda v: left + (v - lo) / (hi - lo) * (W - left - right)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W/2}" y="20" text-anchor="middle" font-size="14">Failover: first GARP of the new master − protocol bound (ms), one dot per run</text>']
step = 10 ** math.floor(math.log10((hi - lo) / 5)) if hi > lo else 1
for m in (1, 2, 5, 10):
    if (hi - lo) / (step * m) <= 10:
        step *= m; break
t = math.ceil(lo / step) * step
while t <= hi:
    x = X(t)
    svg.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + rowh * len(data)}" stroke="#ddd"/>')
    svg.append(f'<text x="{x:.1f}" y="{top + rowh * len(data) + 16}" text-anchor="middle">{t:g}</text>')
    t += step
for v, col, name in ((0, "#000", "bound"), (10, "#c00", "target +10 ms")):
    x = X(v)
    svg.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + rowh * len(data)}" stroke="{col}" stroke-dasharray="4,3"/>')
    svg.append(f'<text x="{x + 3:.1f}" y="{top - 4}" fill="{col}">{name}</text>')
svg.append(f'<text x="{(left + W - right) / 2}" y="{H - 12}" text-anchor="middle">takeover − bound (ms)</text>')
for i, (label, xs) in enumerate(data):
    cy = top + rowh * i + rowh / 2
    svg.append(f'<text x="{left - 10}" y="{cy + 4:.1f}" text-anchor="end">{label.replace("&", "&amp;")}</text>')
    for j, v in enumerate(sorted(xs)):
        jit = ((j * 7) % 11 - 5) * 2.4
        svg.append(f'<circle cx="{X(v):.1f}" cy="{cy + jit:.1f}" r="3.5" fill="#1f77b4" fill-opacity="0.6"/>')
    m = med(xs)
    svg.append(f'<line x1="{X(m):.1f}" y1="{cy - 18:.1f}" x2="{X(m):.1f}" y2="{cy + 18:.1f}" stroke="#ff7f0e" stroke-width="2"/>')
svg.append("</svg>")
open(os.path.join(OUT, "failover.svg"), "w").write("\n".join(svg) + "\n")
