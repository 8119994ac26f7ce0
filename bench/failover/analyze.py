#!/usr/bin/env python3
"""One failover from the observer's capture (tcpdump -n -e -tt -l 'vrrp or arp').

usage: analyze.py CAPTURE T_SIGNAL FB_MAC VERSION ADVERT_INT kill|term
prints: t_signal,t_last_advert,t_first_garp,t_first_advert_b,takeover_s,bound_s,excess_ms
  kill: t_last = fa's last advert before the signal; bound = 3 x advert_int + skew
  term: t_last = fa's priority-0 advert after the signal; bound = skew
  skew (priority 100): v2 (256-100)/256 s, v3 (256-100) x advert_int / 256
  takeover = first gratuitous ARP for the VIP from fb's MAC - t_last
"""
import sys

VIP = "10.0.0.100"
cap, t_sig, fbmac, ver, adv, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3].lower(), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
skew = (256 - 100) / 256 * (1.0 if ver == 2 else adv)
bound = skew if mode == "term" else 3 * adv + skew

t_last = t_garp = t_adv_b = None
with open(cap) as f:
    for line in f:
        parts = line.split()
        if len(parts) < 4:
            continue
        try:
            ts = float(parts[0])
        except ValueError:
            continue
        src_mac = parts[1].lower()
        if "VRRP" in line and " 10.0.0.2 > 224.0.0.18" in line:
            if mode == "kill" and ts <= t_sig + 0.0005:  # a packet already on the wire when the signal went out
                t_last = ts
            elif mode == "term" and ts >= t_sig - 0.001 and t_last is None and "prio 0," in line:
                t_last = ts
        elif ts > t_sig and src_mac == fbmac:
            if t_garp is None and "ARP" in line and (f"tell {VIP}" in line or f"Reply {VIP} is-at" in line):
                t_garp = ts
            if t_adv_b is None and "VRRP" in line and " 10.0.0.3 > 224.0.0.18" in line:
                t_adv_b = ts
if t_last is None or t_garp is None:
    sys.exit(f"incomplete: t_last={t_last} t_garp={t_garp}")
take = t_garp - t_last
print(f"{t_sig:.6f},{t_last:.6f},{t_garp:.6f},{t_adv_b if t_adv_b is None else format(t_adv_b, '.6f')},{take:.6f},{bound:.6f},{(take - bound) * 1000:.3f}")
