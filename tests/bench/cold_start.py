"""Cold init per function as Lambda loads it, against `import boto3; boto3.client("dynamodb")`.

Two environments, one row each per function:

- **lambda** (the figure that counts): what `sam build` put in `.aws-sam/build/<Function>` and
  in the layer, on Python 3.13, in a clean virtual environment holding only what the Lambda
  python3.13 runtime provides (boto3 and its dependencies, `--boto3`, pinned). sys.path is
  Lambda's order: the function's directory (/var/task), the layer's `python/` (/opt/python),
  then the runtime's packages. The built layer holds arm64 wheels, so the distributions with
  compiled code (pydantic_core, wrapt, ...) are installed again for this machine at the same
  versions; everything else is the built layer's own files. Nothing may write bytecode
  (`-B`): /opt and /var/task are read-only on Lambda, so what the build ships without `.pyc`
  is compiled on every cold start, here as there. The baseline runs in the same environment.
- **dev**: the repository's source in the development virtualenv (the figure this bench used to
  print). That venv holds dev dependencies that botocore also imports (pyOpenSSL, cryptography,
  awscrt), so its baseline is not Lambda's.

Each sample is a fresh process that imports the function's `app.py` and builds the AWS clients its
first request needs. Rows are interleaved, so machine noise hits every row alike; the median over
--runs processes, its ratio to the baseline, and the peak RSS are printed. Then an import budget
per function from one more process under `-X importtime`: where the import milliseconds go, by
package (self time summed, so the rows add up; vipcare split by subpackage).

The environments are cached under .bench-cache/ (gitignored), keyed by what goes in them; the
first lambda run needs PyPI (boto3, and the host wheels of the layer's compiled distributions).

    python -m tests.bench.cold_start [--runs 9] [--env both|lambda|dev] [--build-dir .aws-sam/build]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".bench-cache"
# boto3 as the Lambda python3.13 runtime ships it: AWS updates the runtime's SDK every few months
# (1.34 at launch, 1.3x-1.40 through 2025). A recent one of those, with the botocore of the same
# number, as the runtime pairs them.
RUNTIME_BOTO3 = "1.40.4"

# What each function's first request touches (pynamodb models and other lazily-built clients).
FIRST_REQUEST = {
    "enrollment": {"models": ["MemberItem"], "idempotency": True},
    "directory": {"models": ["StoreItem"], "idempotency": False},
    "purchase_api": {"models": ["MemberItem"], "idempotency": False},
    "purchase_ingestion": {"models": ["MemberItem"], "idempotency": False},
    "complaint_routing": {"models": ["ComplaintItem"], "idempotency": True, "sns": True},
    "reminder_dispatch": {"models": ["MemberItem"], "idempotency": False, "sns": True},
    "care_api": {"models": ["MemberItem"], "idempotency": True},
    "tier_reevaluation": {"models": ["MemberItem"], "idempotency": False},
    "kpi_reports": {"models": ["MemberItem"], "idempotency": False},
}
# The price of X-Ray SDK subsegments (TRACE_AWS_CALLS=true, off by default: vipcare.tracing).
WITH_SDK_TRACING = ("purchase_api", {"TRACE_AWS_CALLS": "true"})
BASELINE = "baseline (boto3 + dynamodb client)"
# The floor of every API function: the baseline plus powertools' Logger, Metrics and the validating
# REST resolver (event_handler imports every resolver, asyncio with them; validation imports
# pydantic), before any vipcare module or model.
FLOOR = "floor (+ powertools API resolver)"

PROBE = r"""
import json, os, resource, sys, time
os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1",
                  POWERTOOLS_METRICS_NAMESPACE="bench")
spec = json.loads(sys.argv[1])
os.environ.update(spec.get("env", {}))
sys.path[:0] = spec.get("path", [])
t0 = time.perf_counter()
if spec["kind"] == "baseline":
    import boto3
    boto3.client("dynamodb")
elif spec["kind"] == "floor":  # what any API function loads before a line of ours: see FLOOR
    import boto3
    boto3.client("dynamodb")
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    Logger(); Metrics(); APIGatewayRestResolver(enable_validation=True)
else:
    import importlib.util
    s = importlib.util.spec_from_file_location("app", spec["app"])
    m = importlib.util.module_from_spec(s)
    sys.modules["app"] = m
    s.loader.exec_module(m)
    from vipcare.store import models
    for name in spec["models"]:
        if hasattr(models, name):
            model = getattr(models, name)
        else:  # the complaints store, imported only where the first request uses it
            from vipcare.store import complaints
            model = getattr(complaints, name)
        model._get_connection().connection.client
    if spec["idempotency"]:
        from vipcare.api import idempotency
        idempotency._persistence()
    if spec.get("sns"):
        from vipcare.notify.sns import sns_client
        sns_client()
t1 = time.perf_counter()
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
import botocore
print(json.dumps({"seconds": t1 - t0, "rss_mb": rss_mb, "botocore": botocore.__version__,
                  "botocore_from": os.path.dirname(botocore.__file__)}))
"""


def logical_id(name: str) -> str:
    """functions/purchase_api -> PurchaseApiFunction (template.yaml's naming)."""
    return "".join(part.title() for part in name.split("_")) + "Function"


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _run(cmd: list[str], **kw) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)


def python313(explicit: str | None) -> str:
    if explicit:
        return explicit
    if sys.version_info[:2] == (3, 13):
        return sys.executable
    found = shutil.which("python3.13")
    if not found:
        raise SystemExit("the Lambda-like environment needs Python 3.13: pass --python or put python3.13 on PATH")
    return found


# ---------------------------------------------------------------- the Lambda-like environment
def runtime_env(python: str, boto3_version: str) -> Path:
    """A venv with boto3 alone (and what it pulls in): the runtime's packages, cached."""
    version = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True,
                             text=True, check=True).stdout.strip()
    if not version.startswith("3.13."):
        raise SystemExit(f"{python} is Python {version}, not 3.13")
    env = CACHE / f"runtime-{_key('runtime', boto3_version, version, platform.machine())}"
    if not (env / ".ready").exists():
        shutil.rmtree(env, ignore_errors=True)
        _run([python, "-m", "venv", str(env)])
        _run([str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              f"boto3=={boto3_version}", f"botocore=={boto3_version}"])
        (env / ".ready").write_text("")
    return env


def _distributions(site: Path) -> list[dict]:
    """The distributions pip put in `site`: name, version, whether they hold compiled code, files."""
    dists = []
    for info in sorted(site.glob("*.dist-info")):
        meta = (info / "METADATA").read_text(errors="replace")
        name = re.search(r"^Name: (.+)$", meta, re.M).group(1).strip()  # type: ignore[union-attr]
        version = re.search(r"^Version: (.+)$", meta, re.M).group(1).strip()  # type: ignore[union-attr]
        wheel = (info / "WHEEL").read_text() if (info / "WHEEL").exists() else ""
        tags = re.findall(r"^Tag: (.+)$", wheel, re.M)
        compiled = "Root-Is-Purelib: false" in wheel or any(not t.endswith("-none-any") for t in tags)
        record = (info / "RECORD").read_text().splitlines() if (info / "RECORD").exists() else []
        files = [line.rsplit(",", 2)[0] for line in record if line]
        dists.append({"name": name, "version": version, "compiled": compiled, "files": files,
                      "info": info.name})
    return dists


def layer_standin(layer_python: Path, python: str) -> Path:
    """A stand-in for /opt/python: the built layer's files, its compiled distributions replaced
    by the same versions' wheels for this machine (cached by name, version and machine)."""
    dists = _distributions(layer_python)
    compiled = sorted(f"{d['name']}=={d['version']}" for d in dists if d["compiled"])
    host = CACHE / f"host-wheels-{_key('host', compiled, platform.machine())}"
    if compiled and not (host / ".ready").exists():
        shutil.rmtree(host, ignore_errors=True)
        _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
              "--no-compile", "--only-binary=:all:", "--target", str(host), *compiled])
        (host / ".ready").write_text("")
    skip = {f for d in dists if d["compiled"] for f in d["files"]}
    standin = CACHE / f"opt-python-{_key(str(layer_python))}"  # one per build dir: runs may overlap
    shutil.rmtree(standin, ignore_errors=True)
    for src in layer_python.rglob("*"):
        rel = src.relative_to(layer_python).as_posix()
        if src.is_dir() or rel in skip:
            continue
        dst = standin / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    if compiled:
        shutil.copytree(host, standin, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".ready", "__pycache__"))
    return standin


def ensure_build(build_dir: Path) -> None:
    if (build_dir / "VipcareLayer" / "python").is_dir() and all(
            (build_dir / logical_id(n) / "app.py").exists() for n in FIRST_REQUEST):
        return
    sam = shutil.which("sam") or str(Path(sys.executable).with_name("sam"))
    print(f"no sam build in {build_dir}: running sam build", file=sys.stderr)
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    _run([sam, "build", "--template-file", str(ROOT / "template.yaml"), "--build-dir", str(build_dir)],
         cwd=ROOT, env=env)


def lambda_specs(build_dir: Path, python: str, boto3_version: str) -> tuple[str, dict[str, dict]]:
    ensure_build(build_dir)
    env = runtime_env(python, boto3_version)
    standin = layer_standin(build_dir / "VipcareLayer" / "python", python)
    specs: dict[str, dict] = {BASELINE: {"kind": "baseline", "readonly": True},
                              FLOOR: {"kind": "floor", "readonly": True, "path": [str(standin)]}}
    for name, needs in FIRST_REQUEST.items():
        task = build_dir / logical_id(name)
        specs[name] = {"kind": "function", "app": str(task / "app.py"), "readonly": True,
                       # Lambda: /var/task, /opt/python/lib/python3.13/site-packages, /opt/python, the runtime
                       "path": [str(task), str(standin / "lib" / "python3.13" / "site-packages"), str(standin)],
                       **needs}
    name, extra = WITH_SDK_TRACING
    specs[f"{name} + X-Ray SDK subsegments"] = {**specs[name], "env": extra}
    return str(env / "bin" / "python"), specs


def dev_specs() -> tuple[str, dict[str, dict]]:
    specs: dict[str, dict] = {BASELINE: {"kind": "baseline"}, FLOOR: {"kind": "floor"}}
    for name, needs in FIRST_REQUEST.items():
        specs[name] = {"kind": "function", "app": str(ROOT / "functions" / name / "app.py"),
                       "path": [str(ROOT / "shared")], **needs}
    name, extra = WITH_SDK_TRACING
    specs[f"{name} + X-Ray SDK subsegments"] = {**specs[name], "env": extra}
    return sys.executable, specs


# ---------------------------------------------------------------- measuring
def _probe_cmd(python: str, spec: dict, *flags: str) -> list[str]:
    # -I: none of this shell's PYTHONPATH or user site. -B (Lambda-like only): no bytecode written,
    # as on Lambda's read-only /opt and /var/task; the dev tree keeps the .pyc its runs write.
    readonly = ["-B"] if spec.get("readonly") else []
    return [python, "-I", *readonly, *flags, "-c", PROBE, json.dumps(spec)]


def sample(python: str, spec: dict) -> dict:
    out = subprocess.run(_probe_cmd(python, spec), capture_output=True, text=True, cwd="/", check=False)
    if out.returncode:
        raise RuntimeError(f"probe failed for {spec.get('app', 'baseline')}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(envs: dict[str, tuple[str, dict[str, dict]]], runs: int) -> dict[str, dict[str, dict]]:
    """{row: {env: {median_ms, ratio, rss_mb, botocore}}}, every (row, env) sampled `runs` times, interleaved."""
    samples: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for _ in range(runs):
        for env, (python, specs) in envs.items():
            for row, spec in specs.items():
                samples[(row, env)].append(sample(python, spec))
    result: dict[str, dict[str, dict]] = defaultdict(dict)
    for env in envs:
        base = statistics.median(s["seconds"] for s in samples[(BASELINE, env)])
        for row in envs[env][1]:
            values = samples[(row, env)]
            median = statistics.median(v["seconds"] for v in values)
            result[row][env] = {"median_ms": median * 1000, "ratio": median / base,
                                "rss_mb": max(v["rss_mb"] for v in values), "botocore": values[0]["botocore"],
                                "botocore_from": values[0]["botocore_from"]}
    return result


def _group(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "vipcare" and len(parts) > 1:
        return ".".join(parts[:3]) if parts[1] == "api" and len(parts) > 2 and parts[2] == "models" \
            else ".".join(parts[:2])
    return parts[0]


def import_budget(python: str, spec: dict) -> dict:
    """-X importtime of one probe: self microseconds summed per package, and the total."""
    out = subprocess.run(_probe_cmd(python, spec, "-X", "importtime"), capture_output=True, text=True,
                         cwd="/", check=True)
    by_group: dict[str, float] = defaultdict(float)
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if m:
            by_group[_group(m.group(4))] += int(m.group(1)) / 1000
    return {"total_ms": sum(by_group.values()), "by_group": dict(by_group)}


# ---------------------------------------------------------------- report
def report(result: dict[str, dict[str, dict]], envs: list[str], runs: int) -> str:
    lines = [f"Cold init, median of {runs} fresh processes per row, interleaved "
             "(target: <= 1.25x baseline in the Lambda-like environment)"]
    head = f"{'function':<36}"
    for env in envs:
        head += f" {env + ' ms':>10} {'x base':>7} {'RSS MB':>7}"
    lines.append(head)
    for row, by_env in result.items():
        line = f"{row:<36}"
        for env in envs:
            r = by_env[env]
            line += f" {r['median_ms']:>10.1f} {r['ratio']:>7.2f} {r['rss_mb']:>7.1f}"
        lines.append(line)
    for env in envs:
        fn = next(v[env] for k, v in result.items() if k not in (BASELINE, FLOOR))
        lines.append(f"{env}: baseline botocore {result[BASELINE][env]['botocore']}; the functions load botocore "
                     f"{fn['botocore']} from {fn['botocore_from']}")
    return "\n".join(lines)


def budget_report(budgets: dict[str, dict], env: str, top: int) -> str:
    lines = [f"Import budget ({env}, one -X importtime process each): import ms, then the top {top} packages "
             "by self ms summed (compiling included where no .pyc is shipped)"]
    for row, b in budgets.items():
        ranked = sorted(b["by_group"].items(), key=lambda kv: -kv[1])[:top]
        lines.append(f"{row:<24} {b['total_ms']:>6.1f}  " + "  ".join(f"{k} {v:.1f}" for k, v in ranked))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--env", choices=["both", "lambda", "dev"], default="both")
    parser.add_argument("--build-dir", type=Path, default=ROOT / ".aws-sam" / "build",
                        help="sam build output (built with `sam build` when missing)")
    parser.add_argument("--boto3", default=RUNTIME_BOTO3, help="boto3 version standing in for the runtime's")
    parser.add_argument("--python", help="a Python 3.13 for the Lambda-like environment (default: this one or "
                                         "python3.13 on PATH)")
    parser.add_argument("--top", type=int, default=8, help="packages per function in the import budget")
    args = parser.parse_args(argv)
    envs: dict[str, tuple[str, dict[str, dict]]] = {}
    if args.env in ("both", "lambda"):
        print(f"lambda: {args.build_dir} + the layer for {platform.machine()}, boto3 {args.boto3} alone, "
              "Python 3.13, no bytecode written")
        envs["lambda"] = lambda_specs(args.build_dir.resolve(), python313(args.python), args.boto3)
    if args.env in ("both", "dev"):
        envs["dev"] = dev_specs()
    result = measure(envs, args.runs)
    print(report(result, list(envs), args.runs))
    env = "lambda" if "lambda" in envs else "dev"
    python, specs = envs[env]
    budgets = {row: import_budget(python, spec) for row, spec in specs.items()}
    print(budget_report(budgets, env, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
