#!/usr/bin/env python3
"""The validity suite: pairs of client stacks that differ in exactly one behaviour, each run
through a scenario where that behaviour matters. The score must rank the better stack first by
at least the pair's margin, on every seed tried (README "Scoring", tests/validity/README.md).

usage: validity.py BROWNOUT [--scenario NAME]... [--seeds S1,S2,...] [--sim N] [--json FILE]
  BROWNOUT      the brownout binary
  --scenario    run only the pairs of tests/validity/NAME.toml (default: every pair)
  --seeds       seeds to try (default: each scenario's own)
  --sim N       instead of `brownout run`, `brownout sim --seeds N` (virtual time): every pair of
                built-in stacks over N seeds from the scenario's own, with the paired mean margin
                and its 95% interval; a pair holds when it wins by its margin on every seed
                (pairs with an external stack are left out)
  --json        write every pair's scores and margins to FILE
Exit code 0 when every pair holds on every seed, 1 when one does not, 2 on an error.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run_scenario(brownout, scenario, clients, seed, time_scale=None):
    """Runs one scenario with the named clients; returns {client: (score, report stack)}."""
    with tempfile.TemporaryDirectory(prefix="brownout-validity-") as out:
        cmd = [brownout, "run", os.path.join(HERE, scenario), "--report-dir", out]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        if time_scale is not None:
            cmd += ["--time-scale", str(time_scale)]
        for c in clients:
            cmd += ["--client", c]
        done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode not in (0, 1):
            sys.stdout.write(done.stdout)
            raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}")
        with open(os.path.join(out, "report.json")) as f:
            report = json.load(f)
    return report["scenario"]["seed"], {s["client"]: s for s in report["stacks"]}


def simulate(brownout, scenario, clients, seeds):
    """`brownout sim` over `seeds` seeds; returns (seeds, {client: [score per seed]})."""
    with tempfile.TemporaryDirectory(prefix="brownout-validity-") as out:
        path = os.path.join(out, "sim.json")
        cmd = [brownout, "sim", os.path.join(HERE, scenario), "--seeds", str(seeds), "--json", path]
        for c in clients:
            cmd += ["--client", c]
        done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            sys.stdout.write(done.stdout)
            raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}")
        with open(path) as f:
            doc = json.load(f)
    return doc["seeds"], {s["client"]: s["scores"] for s in doc["stacks"]}


T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
       2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
       2.045, 2.042]


def paired(diffs):
    """Mean and the half-width of its 95% interval (Student's t)."""
    n = len(diffs)
    mean = sum(diffs) / n
    if n < 2:
        return mean, float("nan")
    sd = (sum((d - mean) ** 2 for d in diffs) / (n - 1)) ** 0.5
    return mean, (T95[n - 2] if n <= 31 else 1.96) * sd / n ** 0.5


def main_sim(args, pairs, builtin):
    results, passed, failed = [], 0, 0
    by_scenario = {}
    for p in pairs:
        if p["better"] in builtin[p["scenario"]] and p["worse"] in builtin[p["scenario"]]:
            by_scenario.setdefault(p["scenario"], []).append(p)
        else:
            print(f"SKIP {p['name']}: an external stack cannot run in virtual time")
    for scenario, group in by_scenario.items():
        clients = sorted({c for p in group for c in (p["better"], p["worse"])})
        try:
            seeds, scores = simulate(args.brownout, scenario, clients, args.sim)
        except RuntimeError as e:
            print(f"ERROR {scenario}: {e}")
            return 2
        for p in group:
            diffs = [b - w for b, w in zip(scores[p["better"]], scores[p["worse"]])]
            mean, ci = paired(diffs)
            wins = sum(d >= p["min_margin"] for d in diffs)
            ok = wins == len(diffs)
            is_open = p.get("status") == "open"
            if not is_open:
                passed += ok
                failed += not ok
            label = "OPEN" if is_open else "PASS" if ok else "FAIL"
            print(f"{label} {p['name']} ({len(diffs)} seeds, virtual time): {p['better']} ahead by "
                  f"{mean:+.1f} ± {ci:.1f}, by >= {p['min_margin']} on {wins} of {len(diffs)} seeds")
            results.append({"pair": p["name"], "scenario": scenario, "seeds": seeds, "better": p["better"],
                            "worse": p["worse"], "margins": diffs, "mean_margin": mean, "ci95": ci,
                            "min_margin": p["min_margin"], "passed": ok, "open": is_open})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("brownout")
    ap.add_argument("--scenario", action="append", default=[])
    ap.add_argument("--seeds", default="")
    ap.add_argument("--sim", type=int, default=0)
    ap.add_argument("--json")
    # On the wire, a scenario second lasts 1/time_scale of a wall second, and so does every delay
    # of a loaded machine, multiplied back: run slower than the scenario says where the stacks
    # under test are real processes (the suite runs retry-after at x60, not x120).
    ap.add_argument("--time-scale", type=float)
    args = ap.parse_args()

    with open(os.path.join(HERE, "pairs.toml"), "rb") as f:
        pairs = tomllib.load(f)["pair"]
    if args.scenario:
        wanted = {s.removesuffix(".toml") + ".toml" for s in args.scenario}
        pairs = [p for p in pairs if p["scenario"] in wanted]
        if not pairs:
            print(f"no pair uses {', '.join(sorted(wanted))}", file=sys.stderr)
            return 2
    seeds = [int(s) for s in args.seeds.split(",") if s] or [None]
    if args.sim > 0:
        builtin = {}
        for p in pairs:
            with open(os.path.join(HERE, p["scenario"]), "rb") as f:
                clients = tomllib.load(f).get("clients", [])
            builtin[p["scenario"]] = {c["name"] for c in clients if c.get("kind", "builtin") == "builtin"}
        return main_sim(args, pairs, builtin)

    by_scenario = {}
    for p in pairs:
        by_scenario.setdefault(p["scenario"], []).append(p)
    results, passed, failed = [], 0, 0
    for scenario, group in by_scenario.items():
        clients = sorted({c for p in group for c in (p["better"], p["worse"])})
        for seed in seeds:
            try:
                used_seed, stacks = run_scenario(args.brownout, scenario, clients, seed, args.time_scale)
            except RuntimeError as e:
                print(f"ERROR {scenario}: {e}")
                return 2
            for p in group:
                better, worse = stacks[p["better"]]["score"], stacks[p["worse"]]["score"]
                margin = better - worse
                ok = margin >= p["min_margin"]
                is_open = p.get("status") == "open"
                if not is_open:
                    passed += ok
                    failed += not ok
                label = "OPEN" if is_open else "PASS" if ok else "FAIL"
                print(f"{label} {p['name']} (seed {used_seed}): "
                      f"{p['better']} {better:.1f} vs {p['worse']} {worse:.1f}, margin {margin:+.1f} (needs >= {p['min_margin']})")
                if not ok or is_open:
                    for side in ("better", "worse"):
                        comps = ", ".join(f"{c['name']} {c['value']:.2f}" if c["value"] is not None else f"{c['name']} -"
                                          for c in stacks[p[side]]["components"])
                        print(f"     {p[side]}: {comps}")
                results.append({"pair": p["name"], "scenario": scenario, "seed": used_seed, "better": p["better"],
                                "worse": p["worse"], "better_score": better, "worse_score": worse, "margin": margin,
                                "min_margin": p["min_margin"], "passed": ok, "open": is_open})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
