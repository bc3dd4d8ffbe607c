#!/usr/bin/env python3
"""Helpers for scripts/bench.sh (standard library only, runs on the system python3).

  snap PID [METRICS_URL]            CPU and memory counters now (and the service's batch counters
                                    from its Prometheus /metrics), as one JSON line on stdout
  point --name N ... --before J --after J   one measured point -> a JSON line appended to --results
  scores URL TEXTS OUT              POST each text (one per request) and all of them in one request;
                                    writes {"single": [...], "batch": [...]} to OUT
  compare A.json B.json TOL         exit 1 when any score differs by more than TOL
  rate RESULTS SERVER               highest requests/s of SERVER's predict points (integer)
  meta OUT start|end [KEY=VALUE...] machine, versions, date, commit, load average -> OUT (JSON)
  workers URL N TIMEOUT             wait until N different worker pids answered URL ({"pid": ...})
  idle PID MAX_S                    wait until PID (+ children) uses < 0.2 cores over 0.5 s
  profile COLLAPSED OUT             async-profiler's collapsed stacks -> share of CPU per part of the
                                    server (JSON)
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_jiffies(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return 0
    fields = raw[raw.rindex(")") + 2 :].split()
    # after the comm: state(0) ppid(1) ... utime(11) stime(12)
    return int(fields[11]) + int(fields[12])


def _ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    return int(raw[raw.rindex(")") + 2 :].split()[1])


def _status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _with_children(pids):
    """The given processes and their direct children (gunicorn's workers)."""
    wanted = set(pids)
    out = set(pids)
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _ppid(int(entry)) in wanted:
            out.add(int(entry))
    return sorted(out)


def _batch_counters(url):
    """(batches, rows) summed over the service's mlserve_batch_rows summary, or None."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            text = resp.read().decode()
    except (OSError, ValueError):
        return None
    count = total = 0.0
    for line in text.splitlines():
        if line.startswith("mlserve_batch_rows_count"):
            count += float(line.rsplit(" ", 1)[1])
        elif line.startswith("mlserve_batch_rows_sum"):
            total += float(line.rsplit(" ", 1)[1])
    return [count, total]


def snap(pids, metrics_url=None):
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (cpu + [0] * 8)[:8]
    busy = user + nice + system + irq + softirq + steal
    procs = _with_children(pids)
    return {
        "t": time.monotonic(),
        "cpu_busy": busy,
        "cpu_total": busy + idle + iowait,
        "procs": procs,
        "proc_jiffies": sum(_proc_jiffies(p) for p in procs),
        "hwm_kb": sum(_status_kb(p, "VmHWM") for p in procs),
        "rss_kb": sum(_status_kb(p, "VmRSS") for p in procs),
        "loadavg": open("/proc/loadavg").read().split()[:3],
        "batches": _batch_counters(metrics_url) if metrics_url else None,
    }


def point(a):
    before = json.loads(a.before)
    after = json.loads(a.after)
    with open(a.result) as f:  # wrk (through post.lua / benchlib) and OpenLoop write one shape
        r = json.load(f)
    with open(a.time) as f:
        wall, user, sys_ = (float(x) for x in f.read().split()[-3:])
    seconds = r["duration_s"] or wall
    wall_snap = after["t"] - before["t"]
    machine = (after["cpu_busy"] - before["cpu_busy"]) / CLK_TCK / wall_snap
    server = (after["proc_jiffies"] - before["proc_jiffies"]) / CLK_TCK / wall_snap
    loadgen = (user + sys_) / wall if wall > 0 else 0
    errors_total = sum(r["errors"].values())
    batch_rows = None
    if before.get("batches") and after.get("batches"):
        d_count = after["batches"][0] - before["batches"][0]
        d_rows = after["batches"][1] - before["batches"][1]
        batch_rows = round(d_rows / d_count, 1) if d_count > 0 else None
    line = {
        "name": a.name,
        "server": a.server,
        "endpoint": a.endpoint,
        "load": a.kind,
        "clients": a.clients,
        "rows_per_request": a.rows,
        "target_rate": a.target_rate,
        "seconds": round(seconds, 3),
        "requests": r["requests"],
        "rps": round(r["requests"] / seconds, 1) if seconds else 0,
        "latency_ms": {k: round(v, 3) for k, v in r["latency_ms"].items()},
        "errors": r["errors"],
        "errors_total": errors_total,
        "cores": {
            "machine": round(machine, 2),
            "server": round(server, 2),
            "loadgen": round(loadgen, 2),
            "other": round(max(0.0, machine - server - loadgen), 2),
        },
        "mean_batch_rows": batch_rows,
        "server_hwm_mb": round(after["hwm_kb"] / 1024, 1),
        "server_rss_mb": round(after["rss_kb"] / 1024, 1),
        "server_processes": len(after["procs"]),
        "loadavg_after": after["loadavg"],
    }
    with open(a.results, "a") as f:
        f.write(json.dumps(line) + "\n")
    lat = line["latency_ms"]
    print(
        f"  {a.name:<28} {line['rps']:>9.1f} req/s  p50 {lat['p50']:7.2f} ms  p99 {lat['p99']:8.2f} ms"
        f"  errors {errors_total}  cpu server {server:.2f} loadgen {loadgen:.2f}"
        f" other {line['cores']['other']:.2f}  peak RSS {line['server_hwm_mb']:.0f} MB"
        + (f"  mean batch {batch_rows}" if batch_rows else "")
    )


def _post(url, texts):
    body = json.dumps({"instances": texts}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        preds = json.load(resp)["predictions"]
    return [float(p[0] if isinstance(p, list) else p) for p in preds]


def scores(url, texts_path, out):
    with open(texts_path, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f if line.strip()]
    single = [_post(url, [t])[0] for t in texts]
    batch = _post(url, texts)
    with open(out, "w") as f:
        json.dump({"texts": texts, "single": single, "batch": batch}, f, indent=1)


def compare(a_path, b_path, tol):
    with open(a_path) as f:
        a = json.load(f)
    with open(b_path) as f:
        b = json.load(f)
    worst = 0.0
    for key in ("single", "batch"):
        if len(a[key]) != len(b[key]):
            print(f"{key}: {len(a[key])} vs {len(b[key])} scores", file=sys.stderr)
            return 1
        for x, y in zip(a[key], b[key]):
            worst = max(worst, abs(x - y))
    print(f"  largest score difference {worst:.2e} (tolerance {tol:g})")
    return 0 if worst <= tol else 1


def best_rate(results, server):
    best = 0.0
    with open(results) as f:
        for line in f:
            r = json.loads(line)
            if (r["server"] == server and r["endpoint"] == "predict" and r["load"] == "wrk"
                    and r.get("rows_per_request", 1) == 1):
                best = max(best, r["rps"])
    return int(best)


def _run(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        return (p.stdout + p.stderr).strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _lscpu(field):
    for line in _run(["lscpu"]).splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def meta(out, phase, pairs):
    data = {}
    if phase == "end" and os.path.exists(out):
        with open(out) as f:
            data = json.load(f)
    extra = dict(p.split("=", 1) for p in pairs)
    now = datetime.datetime.now(datetime.timezone.utc).astimezone()
    loadavg = open("/proc/loadavg").read().split()[:3]
    if phase == "start":
        mem_kb = _status_like("/proc/meminfo", "MemTotal")
        os_name = ""
        if os.path.exists("/etc/os-release"):
            for line in open("/etc/os-release"):
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')
        java = _run(["java", "-version"]).splitlines()
        data.update(
            {
                "date": now.isoformat(timespec="seconds"),
                "cpu_model": _lscpu("Model name"),
                "cores": os.cpu_count(),
                "threads_per_core": _lscpu("Thread(s) per core"),
                "memory_gib": round(mem_kb / 1024 / 1024, 1),
                "os": os_name,
                "kernel": platform.release(),
                "java": java[1] if len(java) > 1 else (java[0] if java else ""),
                "tensorflow_java": _pom_property("tensorflow.version"),
                "javalin": _pom_property("javalin.version"),
                "git_commit": _run(["git", "rev-parse", "--short=12", "HEAD"]),
                "git_dirty": bool(_run(["git", "status", "--porcelain", "--untracked-files=no"])),
                "wrk": _run(["wrk", "-v"]).splitlines()[0] if _run(["wrk", "-v"]) else "",
                "loadavg_start": loadavg,
                "settings": extra,
            }
        )
    else:
        venv_python = os.path.join(extra.pop("python_venv", ""), "bin", "python")
        if os.path.exists(venv_python):
            code = (
                "import json, sys, tensorflow as tf, keras, flask, gunicorn, numpy;"
                "print(json.dumps({'python': sys.version.split()[0], 'tensorflow': tf.__version__,"
                "'keras': keras.__version__, 'flask': __import__('importlib.metadata').metadata.version('flask'),"
                "'gunicorn': gunicorn.__version__, 'numpy': numpy.__version__}))"
            )
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
            p = subprocess.run([venv_python, "-c", code], capture_output=True, text=True, env=env)
            lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
            if lines:
                data["python_reference"] = json.loads(lines[-1])
        data["loadavg_end"] = loadavg
        data["date_end"] = now.isoformat(timespec="seconds")
        data.setdefault("settings", {}).update(extra)
    with open(out, "w") as f:
        json.dump(data, f, indent=1)


def _status_like(path, key):
    with open(path) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _pom_property(name):
    try:
        with open("pom.xml") as f:
            m = re.search(rf"<{re.escape(name)}>([^<]+)</", f.read())
        return m.group(1) if m else ""
    except OSError:
        return ""


def workers(url, n, timeout):
    seen = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                seen.add(json.load(resp).get("pid"))
        except (OSError, ValueError):
            time.sleep(0.2)
        if len(seen) >= n:
            return 0
    print(f"only {len(seen)} of {n} workers answered {url} within {timeout} s", file=sys.stderr)
    return 1


def idle(pid, max_s):
    deadline = time.monotonic() + max_s
    while time.monotonic() < deadline:
        procs = _with_children([pid])
        a = sum(_proc_jiffies(p) for p in procs)
        time.sleep(0.5)
        b = sum(_proc_jiffies(p) for p in procs)
        if (b - a) / CLK_TCK / 0.5 < 0.2:
            return 0
    return 1

# Where a sample's CPU goes, for profile(): first by thread (whole stack), then by the frame nearest
# the leaf that names a part of the server.
PROFILE_THREADS = [
    ("JIT compiler", ("CompileBroker::", "C2Compiler::", "Compilation::")),
    ("garbage collector", ("G1ConcurrentRefine", "G1ConcurrentMark", "WorkerThread::run",
                           "G1YoungCollector", "GangWorker")),
    ("request log (logback, JSON encoder)", ("ch/qos/logback", "net/logstash")),
]
PROFILE_FRAMES = [
    ("socket I/O and epoll (syscalls)", ("writev", "__GI_write", "__GI_read", "epoll_wait",
                                          "epoll_ctl", "__libc_read", "__libc_write")),
    ("thread hand-offs (park/unpark)", ("LockSupport.park", "LockSupport.unpark", "Unsafe.park",
                                        "Unsafe.unpark")),
    ("TensorFlow (runtime and Java binding)", ("tensorflow::", "Eigen::", "TF_", "org/tensorflow/",
                                               "org/bytedeco", "dnnl")),
    ("Jackson (request and answer JSON)", ("com/fasterxml/jackson", "tools/jackson")),
    ("metrics (Micrometer, Prometheus)", ("io/micrometer", "io/prometheus", "dev/mlserve/metrics")),
    ("the service's own code", ("dev/mlserve",)),
    ("Jetty and Javalin", ("org/eclipse/jetty", "io/javalin", "kotlin/")),
]


def profile(collapsed, out):
    """Summarises async-profiler's collapsed stacks: share of CPU samples per part of the server."""
    total = 0
    parts = {}
    leaves = {}
    with open(collapsed) as f:
        for line in f:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            n = int(n)
            total += n
            frames = stack.split(";")
            part = next((name for name, keys in PROFILE_THREADS
                         if any(k in stack for k in keys)), None)
            if part is None:
                for frame in reversed(frames):
                    part = next((name for name, keys in PROFILE_FRAMES
                                 if any(k in frame for k in keys)), None)
                    if part:
                        break
            part = part or "other (JDK, libc, kernel)"
            parts[part] = parts.get(part, 0) + n
            leaves[frames[-1]] = leaves.get(frames[-1], 0) + n
    top = sorted(leaves.items(), key=lambda kv: -kv[1])[:12]
    summary = {
        "samples": total,
        "parts": [{"part": k, "share": round(v / total, 4)}
                  for k, v in sorted(parts.items(), key=lambda kv: -kv[1])],
        "top_leaf_frames": [{"frame": k, "share": round(v / total, 4)} for k, v in top],
    }
    with open(out, "w") as f:
        json.dump(summary, f, indent=1)
    for p in summary["parts"]:
        print(f"  {p['share'] * 100:5.1f} %  {p['part']}")


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd == "snap":
        print(json.dumps(snap([int(rest[0])], rest[1] if len(rest) > 1 else None)))
    elif cmd == "point":
        p = argparse.ArgumentParser(prog="benchlib.py point")
        for opt in ("--name", "--server", "--endpoint", "--kind", "--result", "--time",
                    "--before", "--after", "--results"):
            p.add_argument(opt, required=True)
        p.add_argument("--clients", type=int, required=True)
        p.add_argument("--target-rate", type=float, default=None)
        p.add_argument("--rows", type=int, default=1)
        point(p.parse_args(rest))
    elif cmd == "scores":
        scores(*rest)
    elif cmd == "compare":
        return compare(rest[0], rest[1], float(rest[2]))
    elif cmd == "rate":
        print(best_rate(rest[0], rest[1]))
    elif cmd == "meta":
        meta(rest[0], rest[1], rest[2:])
    elif cmd == "idle":
        return idle(int(rest[0]), float(rest[1]))
    elif cmd == "workers":
        return workers(rest[0], int(rest[1]), float(rest[2]))
    elif cmd == "profile":
        profile(rest[0], rest[1])
    else:
        print(f"unknown command {cmd}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
