#!/usr/bin/env python3
"""Turns run.sh's raw measurements into one table per scenario.

    report.py RESULTS.tsv META.json [KEY=VALUE...]

RESULTS.tsv lines: scenario tool run wall_s user_s sys_s maxrss_kib status detail
server_cpu_s (the registries' and relays' CPU time during the run)
KEY=VALUE extras: sha256_openssl=S, sha256_coreutils=S (CPU seconds of one
pass over the big image's layers), wan_rate_mbit=R, wan_measured_mbit=R.
"""
import json
import statistics
import sys

SCENARIOS = {
    "r2r": ("registry to registry", "big"),
    "r2r-tls": ("registry to registry, both over HTTPS (CAs from --src/--dest-cert-dir)", "big"),
    "wan": ("registry to registry over the emulated wide-area link", "big"),
    "pull": ("registry to OCI layout", "big"),
    "push": ("OCI layout to registry", "big"),
    "copy-all": ("copy --all of a 3-platform index", "multi"),
    "zstd": ("registry to registry, recompressing gzip to zstd", "big"),
    "chunked": ("registry to registry, recompressing gzip to zstd:chunked", "big"),
    "inspect": ("20 x `inspect --format {{.Digest}}` of the big image's tag, one process each", "big"),
    "inspect-tls": ("the same 20 calls against an HTTPS registry (--cert-dir)", "big"),
    "inspect-wan": ("the same 20 calls over the emulated wide-area link", "big"),
}
# (metric, max ferry/skopeo ratio) from the project's targets.
TARGETS = {
    "r2r": [("wall", 0.8), ("rss", 0.5)],
    "pull": [("wall", 0.8)],
    "push": [("wall", 0.8)],
    "copy-all": [("wall", 0.8)],
    "zstd": [("wall", 0.4), ("rss", 0.25)],
}
MB = 1000 * 1000


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def main():
    rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
    meta = json.load(open(sys.argv[2]))
    extra = dict(a.split("=", 1) for a in sys.argv[3:])
    sha_ossl = float(extra["sha256_openssl"]) if "sha256_openssl" in extra else None
    sha_cu = float(extra["sha256_coreutils"]) if "sha256_coreutils" in extra else None

    order = [s for s in SCENARIOS if any(r[0] == s for r in rows)]
    for scen in order:
        title, image = SCENARIOS[scen]
        total = meta[image]["total_gzip"]
        if scen.startswith("inspect"):  # no layer is read: a rate means nothing
            total = 0
            print("== %s: %s" % (scen, title))
        else:
            print("== %s: %s (%.1f MB of gzip layers)" % (scen, title, total / MB))
        print("%-7s %5s %9s %9s %9s %9s %9s  %s" % ("tool", "ok", "wall s", "CPU s", "RSS MiB", "MB/s", "srv CPU s", "verification"))
        stats = {}
        for tool in ("ferry", "skopeo"):
            rs = [r for r in rows if r[0] == scen and r[1] == tool]
            ok = [r for r in rs if r[7] == "ok"]
            wall = med([float(r[3]) for r in ok])
            cpu = med([float(r[4]) + float(r[5]) for r in ok])
            rss = med([int(r[6]) / 1024 for r in ok])
            srv = med([float(r[9]) for r in ok if len(r) > 9])
            stats[tool] = {"wall": wall, "cpu": cpu, "rss": rss}
            fails = [r for r in rs if r[7] != "ok"]
            if not rs:
                verdict = "not run"
            elif not fails:
                verdict = "all %d ok" % len(rs)
                details = sorted(set(r[8] for r in ok))
                if scen in ("zstd", "chunked") and details:
                    verdict += " (%s)" % details[0]
            else:
                verdict = "%d of %d FAILED: %s" % (len(fails), len(rs), fails[0][8])
            print("%-7s %2d/%-2d %9s %9s %9s %9s %9s  %s" % (
                tool, len(ok), len(rs), fmt(wall, ".2f"), fmt(cpu, ".2f"), fmt(rss, ".1f"),
                fmt(total / MB / wall if wall and total else None, ".0f"), fmt(srv, ".2f"), verdict))
        f, s = stats["ferry"], stats["skopeo"]
        ratios = {}
        for k in ("wall", "cpu", "rss"):
            ratios[k] = f[k] / s[k] if f[k] and s[k] else None
        print("%-7s %5s %9s %9s %9s" % ("ratio", "", fmt(ratios["wall"], ".2f") + "x",
                                          fmt(ratios["cpu"], ".2f") + "x", fmt(ratios["rss"], ".2f") + "x"))
        checks = []
        for metric, limit in TARGETS.get(scen, []):
            r = ratios[metric]
            checks.append("%s <=%.2fx: %s" % (metric, limit, "-" if r is None else ("met" if r <= limit else "MISSED")))
        if scen == "r2r" and sha_ossl:
            line = "one SHA-256 pass over these bytes: %.2f s CPU (openssl)" % sha_ossl
            if sha_cu:
                line += ", %.2f s (coreutils sha256sum)" % sha_cu
            print(line)
            if f["cpu"]:
                checks.append("client CPU <=1.5x one SHA-256 pass (%.2f s): %.2fx the pass, %s" % (
                    1.5 * sha_ossl, f["cpu"] / sha_ossl, "met" if f["cpu"] <= 1.5 * sha_ossl else "MISSED"))
        if scen == "wan":
            rate = float(extra.get("wan_rate_mbit", 500))
            base = float(extra["wan_measured_mbit"]) if "wan_measured_mbit" in extra else None
            line = "link: %.0f Mbit/s cap each way" % rate
            if base:
                line += "; one plain HTTP download through it (curl): %.0f Mbit/s" % base
            print(line)
            for tool in ("ferry", "skopeo"):
                w = stats[tool]["wall"]
                if not w:
                    continue
                mbit = total * 8 / 1e6 / w
                line = "  %s: %.0f Mbit/s = %.1f%% of the cap" % (tool, mbit, 100 * mbit / rate)
                if base:
                    line += ", %.1f%% of curl's rate" % (100 * mbit / base)
                print(line)
                if tool == "ferry":
                    # TCP/IP and Ethernet headers take ~4.4% of a 1500-byte
                    # frame, so no client reaches 97% of the raw cap; the
                    # rate a plain download achieves is the usable link rate.
                    ref = base or rate
                    checks.append(">=97%% of the link rate (%s): %s" % (
                        "curl's" if base else "cap", "met" if mbit >= 0.97 * ref else "MISSED"))
        if checks:
            print("targets: " + "; ".join(checks))
        print()


if __name__ == "__main__":
    main()
