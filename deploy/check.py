#!/usr/bin/env python3
"""Checks the deployment files against each other and against the service.

Run by scripts/check-deploy (which installs PyYAML and kubernetes-validate first):

    python3 deploy/check.py --binary PATH [--kubernetes-validate PATH]

Each check prints one line; the last line is "check-deploy: N passed, N failed".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
CHART = DEPLOY / "helm" / "authrelay"
VERCEL = DEPLOY / "vercel"

# The build every image and CI run make; the Dockerfile must contain it word for word.
BUILD = "cargo build --release --locked --target x86_64-unknown-linux-musl --bin authrelay"
# Kubernetes versions the manifests are validated against: the first with the preStop
# `sleep` action on by default, and the newest the validator knows.
K8S_VERSIONS = ["1.30.0", "1.37.0"]
UID = 65532

passed: list[str] = []
failed: list[str] = []


def check(name: str, ok: bool, detail: str = "") -> bool:
    if ok:
        passed.append(name)
        print(f"ok    {name}")
    else:
        failed.append(name)
        print(f"FAIL  {name}" + (f": {detail}" if detail else ""))
    return ok


def shutdown_grace_secs() -> int:
    text = (ROOT / "src" / "startup.rs").read_text()
    m = re.search(r"SHUTDOWN_GRACE_SECS:\s*u64\s*=\s*(\d+)", text)
    return int(m.group(1)) if m else 10


def relay_check(binary: str | None, env: dict[str, str], what: str) -> None:
    """`authrelay check` accepts this configuration (with a throwaway secret)."""
    if not binary:
        return
    secret = subprocess.run([binary, "secret"], capture_output=True, text=True).stdout.strip()
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH")}
    run_env.update(env)
    run_env["AUTH_SECRET"] = secret
    r = subprocess.run([binary, "check"], env=run_env, capture_output=True, text=True)
    check(f"{what}: `authrelay check` accepts the configuration", r.returncode == 0,
          (r.stderr or r.stdout).strip())


# --- Dockerfile -------------------------------------------------------------------------

def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def env_pairs(args: str) -> dict[str, str]:
    pairs = {}
    for token in shlex.split(args):
        if "=" in token:
            k, v = token.split("=", 1)
            pairs[k] = v
    return pairs


def check_dockerfile() -> None:
    path = DEPLOY / "Dockerfile"
    ins = dockerfile_instructions(path.read_text())
    froms = [a for i, a in ins if i == "FROM"]
    check("Dockerfile: two stages", len(froms) == 2, str(froms))
    check("Dockerfile: builder is rust:1-bookworm", bool(froms) and froms[0].startswith("rust:1-bookworm"),
          froms[0] if froms else "")
    runtime = froms[-1] if froms else ""
    check("Dockerfile: runtime is distroless static (nonroot) or scratch",
          runtime.startswith("gcr.io/distroless/static-debian12:nonroot") or runtime.startswith("scratch"),
          runtime)
    runs = " ".join(a for i, a in ins if i == "RUN")
    check("Dockerfile: builds what CI builds", BUILD in re.sub(r"\s+", " ", runs), BUILD)
    check("Dockerfile: adds the musl target and musl-tools",
          "rustup target add x86_64-unknown-linux-musl" in runs and "musl-tools" in runs)
    env: dict[str, str] = {}
    for i, a in ins:
        if i == "ENV":
            env.update(env_pairs(a))
    check("Dockerfile: ENV HOST=0.0.0.0 PORT=3000 LOG_FORMAT=json",
          env.get("HOST") == "0.0.0.0" and env.get("PORT") == "3000" and env.get("LOG_FORMAT") == "json",
          str(env))
    exposed = [a for i, a in ins if i == "EXPOSE"]
    check("Dockerfile: EXPOSE equals ENV PORT", exposed == [env.get("PORT", "")], f"{exposed} vs {env.get('PORT')}")
    users = [a for i, a in ins if i == "USER"]
    check("Dockerfile: runs as nonroot", users[-1:] in (["nonroot"], ["nonroot:nonroot"], [str(UID)],
                                                        [f"{UID}:{UID}"]), str(users))
    def exec_form(instr: str) -> list | None:
        vals = [a for i, a in ins if i == instr]
        if not vals:
            return None
        arg = vals[-1]
        if instr == "HEALTHCHECK":
            arg = arg[arg.index("CMD") + 3:].strip() if "CMD" in arg else ""
        try:
            return json.loads(arg)
        except json.JSONDecodeError:
            return None
    check("Dockerfile: HEALTHCHECK runs `authrelay healthcheck`",
          exec_form("HEALTHCHECK") == ["/authrelay", "healthcheck"], str(exec_form("HEALTHCHECK")))
    check("Dockerfile: ENTRYPOINT [\"/authrelay\"]", exec_form("ENTRYPOINT") == ["/authrelay"])
    check("Dockerfile: CMD [\"serve\"]", exec_form("CMD") == ["serve"])

    ignore = [l.strip() for l in (ROOT / ".dockerignore").read_text().splitlines()
              if l.strip() and not l.strip().startswith("#")]
    check(".dockerignore: leaves out target/, node_modules/, .git and artifacts/",
          all(any(p.rstrip("/") == want for p in ignore) for want in ("target", "node_modules", ".git", "artifacts")),
          str(ignore))
    # Every workspace member must reach the build context, or cargo cannot load the
    # workspace.
    members = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["members"]
    hidden = [m for m in members for p in ignore
              if m != "." and (p.rstrip("/") == m or m.startswith(p.rstrip("/") + "/"))]
    check(".dockerignore: keeps every workspace member", not hidden, str(hidden))


# --- fly.toml ---------------------------------------------------------------------------

def check_fly(binary: str | None) -> None:
    fly = tomllib.loads((ROOT / "fly.toml").read_text())
    env = fly.get("env", {})
    svc = fly.get("http_service", {})
    check("fly.toml: builds deploy/Dockerfile", fly.get("build", {}).get("dockerfile") == "deploy/Dockerfile")
    check("fly.toml: internal_port equals PORT", str(svc.get("internal_port")) == env.get("PORT"),
          f"{svc.get('internal_port')} vs {env.get('PORT')}")
    checks = svc.get("checks", [])
    check("fly.toml: health check GETs /healthz",
          any(c.get("path") == "/healthz" and c.get("method", "GET").upper() == "GET" for c in checks), str(checks))
    check("fly.toml: force_https, never stopped, one machine at least",
          svc.get("force_https") is True and svc.get("auto_stop_machines") in ("off", False)
          and int(svc.get("min_machines_running", 0)) >= 1)
    check("fly.toml: AUTH_TRUST_HOST and LOG_FORMAT=json",
          env.get("AUTH_TRUST_HOST") == "true" and env.get("LOG_FORMAT") == "json")
    check("fly.toml: no secret in [env]", not any(k.startswith("AUTH_SECRET") for k in env))
    if "METRICS_PORT" in env:
        check("fly.toml: [metrics] scrapes METRICS_PORT, not the public port",
              str(fly.get("metrics", {}).get("port")) == env["METRICS_PORT"] != env.get("PORT"))
    relay_check(binary, env, "fly.toml")


# --- Vercel -----------------------------------------------------------------------------

def check_vercel() -> None:
    cargo = tomllib.loads((VERCEL / "Cargo.toml").read_text())
    bins = cargo.get("bin", [])
    check("vercel: the crate has one [[bin]] under api/",
          len(bins) == 1 and bins[0].get("path", "").startswith("api/") and (VERCEL / bins[0]["path"]).is_file(),
          str(bins))
    check("vercel: the function depends on vercel_runtime directly",
          "vercel_runtime" in cargo.get("dependencies", {}))
    function = "/" + bins[0]["path"].removesuffix(".rs") if bins else ""
    vj = json.loads((VERCEL / "vercel.json").read_text())
    rewrites = vj.get("rewrites", [])
    by_source = {r.get("source"): r.get("destination", "") for r in rewrites}
    for source in ("/api/auth/callback/:provider", "/api/auth/authorize/:provider", "/healthz", "/readyz"):
        dest = by_source.get(source)
        ok = dest is not None and dest.split("?")[0] == function \
            and f"__authrelay_path={source}" in dest.split("?", 1)[-1].split("&")
        check(f"vercel.json: {source} rewrites to {function} carrying its path", ok, str(dest))
    check("vercel.json: every rewrite points at the function",
          all(d.split("?")[0] == function for d in by_source.values()), str(by_source))
    for pattern in vj.get("functions", {}):
        check(f"vercel.json: functions entry {pattern} is a file", (VERCEL / pattern).is_file())
    check("deploy/vercel/vercel.json: no `builds` or `routes` (zero-config api/ function)",
          "builds" not in vj and "routes" not in vj)

    # The repository root's vercel.json: importing the repository as it is deploys the
    # same function. Vercel's Rust runtime runs `cargo build --bin <bin> --release` at the
    # root without `-p`, which finds the bin only in a default member of the workspace.
    root = json.loads((ROOT / "vercel.json").read_text())
    entry = "deploy/vercel/" + bins[0]["path"] if bins else ""
    builds = root.get("builds", [])
    check("vercel.json (root): one build, @vercel/rust, of the crate's [[bin]] source",
          len(builds) == 1 and builds[0].get("src") == entry and builds[0].get("use", "").startswith("@vercel/rust"),
          str(builds))
    members = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"].get("default-members", [])
    check("Cargo.toml: deploy/vercel is a default member (the runtime's cargo build has no -p)",
          "deploy/vercel" in members, str(members))
    # A `builds` entry keeps the source's extension in the function's path.
    root_function = "/" + entry
    by_src = {r.get("src"): r.get("dest", "") for r in root.get("routes", [])}
    for src, path in (("/api/auth/callback/([^/]+)", "/api/auth/callback/$1"),
                      ("/api/auth/authorize/([^/]+)", "/api/auth/authorize/$1"),
                      ("/healthz", "/healthz"), ("/readyz", "/readyz")):
        dest = by_src.get(src)
        ok = dest is not None and dest.split("?")[0] == root_function \
            and f"__authrelay_path={path}" in dest.split("?", 1)[-1].split("&")
        check(f"vercel.json (root): {src} routes to {root_function} carrying its path", ok, str(dest))
    check("vercel.json (root): no `functions` (Vercel refuses it beside `builds`)", "functions" not in root)


# --- Kubernetes -------------------------------------------------------------------------

def check_kubernetes(binary: str | None, validator: str | None) -> None:
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    resources = kust.get("resources", [])
    on_disk = sorted(p.name for p in K8S.glob("*.yaml")
                     if p.name not in ("kustomization.yaml", "secret.example.yaml"))
    check("kustomization: lists every manifest", sorted(resources) == on_disk, f"{resources} vs {on_disk}")
    check("kustomization: does not apply the example Secret", "secret.example.yaml" not in resources)

    files = [K8S / r for r in resources] + [K8S / "secret.example.yaml"]
    if validator:
        for version in K8S_VERSIONS:
            r = subprocess.run([validator, "--strict", "--quiet", "-k", version, *map(str, files)],
                               capture_output=True, text=True)
            check(f"kubernetes: manifests valid against the {version} schemas (strict)",
                  r.returncode == 0, (r.stdout + r.stderr).strip())

    docs = {}
    for f in files:
        for d in yaml.safe_load_all(f.read_text()):
            if d:
                docs[d["kind"]] = d
    cm = docs["ConfigMap"]["data"]
    dep = docs["Deployment"]
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    labels = dep["spec"]["template"]["metadata"]["labels"]

    check("deployment: 2 replicas or more", int(dep["spec"].get("replicas", 1)) >= 2)
    check("deployment: selector matches the pod labels",
          dep["spec"]["selector"]["matchLabels"].items() <= labels.items())
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    check("deployment: the http port is the ConfigMap's PORT", str(ports.get("http")) == cm.get("PORT"),
          f"{ports} vs PORT={cm.get('PORT')}")
    if "METRICS_PORT" in cm:
        ann = dep["spec"]["template"]["metadata"].get("annotations", {})
        check("deployment: the metrics port is METRICS_PORT (and what Prometheus scrapes)",
              str(ports.get("metrics")) == cm["METRICS_PORT"] == ann.get("prometheus.io/port", cm["METRICS_PORT"]))
    live, ready = c.get("livenessProbe", {}), c.get("readinessProbe", {})
    check("deployment: liveness probe GETs /healthz on http",
          live.get("httpGet", {}).get("path") == "/healthz" and live["httpGet"].get("port") in ("http", ports.get("http")))
    check("deployment: readiness probe GETs /readyz on http",
          ready.get("httpGet", {}).get("path") == "/readyz" and ready["httpGet"].get("port") in ("http", ports.get("http")))
    res = c.get("resources", {})
    check("deployment: cpu and memory requests and limits",
          all(k in res.get(s, {}) for s in ("requests", "limits") for k in ("cpu", "memory")), str(res))
    sc, psc = c.get("securityContext", {}), pod.get("securityContext", {})
    def either(key):
        return sc.get(key, psc.get(key))
    check("deployment: runs as non-root uid 65532", either("runAsNonRoot") is True and either("runAsUser") == UID)
    check("deployment: read-only root filesystem, no privilege escalation",
          sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False)
    check("deployment: drops ALL capabilities", sc.get("capabilities", {}).get("drop") == ["ALL"])
    check("deployment: seccomp RuntimeDefault",
          (either("seccompProfile") or {}).get("type") == "RuntimeDefault")
    secret_refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in c.get("env", [])
                   if "secretKeyRef" in e.get("valueFrom", {})}
    check("deployment: AUTH_SECRET from Secret authrelay",
          secret_refs.get("AUTH_SECRET", {}).get("name") == "authrelay"
          and secret_refs["AUTH_SECRET"].get("key") == "AUTH_SECRET"
          and not secret_refs["AUTH_SECRET"].get("optional", False))
    check("deployment: AUTH_SECRET_1 from the same Secret, optional",
          secret_refs.get("AUTH_SECRET_1", {}).get("name") == "authrelay"
          and secret_refs["AUTH_SECRET_1"].get("optional") is True)
    check("deployment: everything else from ConfigMap authrelay",
          {"configMapRef": {"name": "authrelay"}} in c.get("envFrom", []))
    check("configmap: holds no secret", not any(k.startswith("AUTH_SECRET") for k in cm))
    check("deployment: topologySpreadConstraints", bool(pod.get("topologySpreadConstraints")))
    grace = shutdown_grace_secs()
    pre_stop = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    check(f"deployment: terminationGracePeriodSeconds > preStop + the relay's {grace} s drain",
          int(pod.get("terminationGracePeriodSeconds", 30)) > pre_stop + grace)

    svc = docs["Service"]["spec"]
    check("service: selects the pods", svc["selector"].items() <= labels.items())
    check("service: exposes the http port only",
          [p.get("targetPort") for p in svc["ports"]] in (["http"], [ports.get("http")]), str(svc["ports"]))
    hpa = docs["HorizontalPodAutoscaler"]["spec"]
    check("hpa: scales the Deployment on CPU from 2",
          hpa["scaleTargetRef"]["name"] == dep["metadata"]["name"] and hpa["scaleTargetRef"]["kind"] == "Deployment"
          and int(hpa.get("minReplicas", 1)) >= 2
          and any(m.get("resource", {}).get("name") == "cpu" for m in hpa.get("metrics", [])))
    pdb = docs["PodDisruptionBudget"]["spec"]
    check("pdb: minAvailable 1 over the pods",
          pdb.get("minAvailable") == 1 and pdb["selector"]["matchLabels"].items() <= labels.items())
    example = docs["Secret"].get("stringData", {}).get("AUTH_SECRET", "")
    check("secret.example: placeholder too short to start a relay (fails closed)", len(example) < 32)
    relay_check(binary, cm, "configmap")


# --- Helm chart -------------------------------------------------------------------------
# No helm runs on the development machines (no package ships it, and it cannot be built
# here): these checks read the chart, and CI's `chart` job on GitHub (.github/workflows/
# ci.yml) runs the real `helm lint` and `helm template`, validating what it renders.

def check_helm() -> None:
    import jsonschema

    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    check("helm: Chart.yaml is apiVersion v2 with a version",
          chart.get("apiVersion") == "v2" and bool(chart.get("version")))
    check("helm: appVersion is the crate's version",
          chart.get("appVersion") == cargo["workspace"]["package"]["version"],
          f"{chart.get('appVersion')} vs {cargo['workspace']['package']['version']}")
    schema = json.loads((CHART / "values.schema.json").read_text())
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    for name in ("values.yaml", "ci/full-values.yaml"):
        values = yaml.safe_load((CHART / name).read_text())
        errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(values)]
        check(f"helm: {name} is valid against values.schema.json", not errors, "; ".join(errors))
    bad = {"config": {"authUrl": "x", "stateMaxAge": 5}, "secret": {"authSecret": "short"}, "nope": 1}
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(bad))
    check("helm: values.schema.json refuses a short secret, a bad max age and an unknown key",
          len(errors) >= 3, str([e.message for e in errors]))

    def has(path: list[str]) -> bool:
        node = defaults
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return False
            node = node[key]
        return True
    used = set()
    for tpl in (CHART / "templates").iterdir():
        used |= set(re.findall(r"\.Values((?:\.[A-Za-z0-9_]+)+)", tpl.read_text()))
    missing = sorted(u for u in used if not has(u.strip(".").split(".")))
    check("helm: every .Values path the templates use has a default in values.yaml", not missing, str(missing))
    text = "".join(t.read_text() for t in (CHART / "templates").iterdir())
    for var in ("AUTH_URL", "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS", "AUTH_TRUST_HOST", "AUTH_STATE_MAX_AGE",
                "HOST", "PORT", "METRICS_PORT", "LOG_FORMAT", "RUST_LOG", "AUTHRELAY_CONFIG",
                "AUTH_SECRET", "AUTH_SECRET_1", "AUTH_SECRET_2", "AUTH_SECRET_3"):
        check(f"helm: sets {var}, a variable of docs/configuration.md",
              re.search(rf"\b{var}:", text) is not None and f"`{var}`" in (ROOT / "docs" / "configuration.md").read_text())
    check("helm: the pod template carries the config checksum (a change rolls the pods)",
          "checksum/config" in (CHART / "templates" / "deployment.yaml").read_text())
    check("helm: the PodDisruptionBudget renders only for more than one pod (one pod never blocks a drain)",
          "gt (int $pods) 1" in (CHART / "templates" / "pdb.yaml").read_text())
    probes = (defaults["livenessProbe"]["httpGet"]["path"], defaults["readinessProbe"]["httpGet"]["path"])
    check("helm: probes GET /healthz and /readyz", probes == ("/healthz", "/readyz"), str(probes))
    sc = defaults["securityContext"]
    check("helm: non-root 65532, read-only root, no capabilities, no escalation",
          sc.get("runAsUser") == UID and sc.get("runAsNonRoot") is True
          and sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
          and sc.get("capabilities", {}).get("drop") == ["ALL"])


# --- the release image ------------------------------------------------------------------

def check_release_dockerfile() -> None:
    """deploy/release.Dockerfile: scripts/release's binaries, the runtime of deploy/Dockerfile."""
    ins = dockerfile_instructions((DEPLOY / "release.Dockerfile").read_text())
    source = dockerfile_instructions((DEPLOY / "Dockerfile").read_text())
    froms = [a for i, a in ins if i == "FROM"]
    check("release.Dockerfile: one stage, the runtime of deploy/Dockerfile",
          froms == [[a for i, a in source if i == "FROM"][-1]], str(froms))
    check("release.Dockerfile: ARG TARGETARCH, COPY dist/linux-${TARGETARCH}/authrelay to /authrelay",
          ("ARG", "TARGETARCH") in ins
          and any(i == "COPY" and a.split()[-2:] == ["dist/linux-${TARGETARCH}/authrelay", "/authrelay"] for i, a in ins))
    release = (ROOT / "scripts" / "release").read_text()
    check("release.Dockerfile: scripts/release writes dist/linux-<TARGETARCH>/authrelay",
          '"$DIST/linux-$(platform "$target")/authrelay"' in release
          and "echo amd64" in release and "echo arm64" in release)
    def tail(instrs):
        keep = ("ENV", "EXPOSE", "USER", "HEALTHCHECK", "ENTRYPOINT", "CMD")
        def norm(a):
            return re.sub(r"\s+", " ", a).replace("nonroot", str(UID)).replace(f"{UID}:{UID}", str(UID))
        return [(i, norm(a)) for i, a in instrs if i in keep and not (i == "ENV" and "FROM" in a)][-7:]
    ours = tail(ins)
    check("release.Dockerfile: ENV, EXPOSE, USER, HEALTHCHECK, ENTRYPOINT and CMD as deploy/Dockerfile",
          ours == tail(source), f"{ours} vs {tail(source)}")
    labels = " ".join(a for i, a in ins if i == "LABEL")
    check("release.Dockerfile: OCI labels (title, licenses, version, revision, created)",
          all(f"org.opencontainers.image.{k}=" in labels
              for k in ("title", "licenses", "version", "revision", "created")))


# --- the built binary -------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smoke(binary: str, runner: list[str] | None = None) -> None:
    """The binary serves: --version, healthcheck, /readyz, a bounce, /metrics on METRICS_PORT
    only. `runner` prefixes every command: ["qemu-aarch64"] runs an aarch64 binary here."""
    cmd = [*(runner or []), binary]
    what = f"binary ({' '.join(runner)})" if runner else "binary"
    r = subprocess.run([*cmd, "--version"], capture_output=True, text=True, timeout=60)
    check(f"{what}: `authrelay --version` prints its version",
          r.returncode == 0 and re.fullmatch(r"authrelay \d+\.\d+\.\d+\S*\n", r.stdout) is not None,
          repr(r.stdout + r.stderr))
    port, mport = free_port(), free_port()
    secret = subprocess.run([*cmd, "secret"], capture_output=True, text=True, timeout=60).stdout.strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH")}
    env.update({
        "AUTH_SECRET": secret,
        "AUTH_URL": "https://auth.example.test/api/auth",
        "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS": "https://*.preview.example.test",
        "HOST": "127.0.0.1", "PORT": str(port), "METRICS_PORT": str(mport), "LOG_FORMAT": "json",
    })
    proc = subprocess.Popen([*cmd, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        healthy = False
        # Bounded: 30 s, for a start under emulation; at most one healthcheck at a time.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            if subprocess.run([*cmd, "healthcheck"], env=env, capture_output=True, timeout=30).returncode == 0:
                healthy = True
                break
            time.sleep(0.1)
        if not check(f"{what}: `authrelay healthcheck` passes against `authrelay serve`", healthy):
            return
        target = "https://pr-1.preview.example.test/api/auth/callback/github"
        state = subprocess.run([*cmd, "sign", "--target", target, "--provider", "github"],
                               env=env, capture_output=True, text=True, timeout=60).stdout.strip()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None
        opener = urllib.request.build_opener(NoRedirect)
        def get(url):
            try:
                r = opener.open(url, timeout=5)
                return r.status, r.headers, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.headers, e.read().decode()
        status, _, body = get(f"http://127.0.0.1:{port}/readyz")
        check(f"{what}: /readyz answers 200 ready", status == 200 and '"ready"' in body, f"{status} {body}")
        status, headers, _ = get(f"http://127.0.0.1:{port}/api/auth/callback/github?code=c&state={state}")
        check(f"{what}: a signed callback bounces (302 to the preview)",
              status == 302 and (headers.get("Location") or "").startswith(target + "?"),
              f"{status} {dict(headers)}")
        status, _, body = get(f"http://127.0.0.1:{mport}/metrics")
        check(f"{what}: /metrics answers on METRICS_PORT",
              status == 200 and "authrelay_bounces_total" in body and "authrelay_build_info" in body, str(status))
        status, _, _ = get(f"http://127.0.0.1:{port}/metrics")
        check(f"{what}: /metrics is not on the public port when METRICS_PORT is set", status == 404, str(status))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log = proc.stderr.read().decode() if proc.stderr else ""
    lines = [json.loads(l) for l in log.splitlines() if l.startswith("{")]
    check(f"{what}: LOG_FORMAT=json writes one JSON object per line", bool(lines) and all(isinstance(l, dict) for l in lines))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", help="the static authrelay binary to smoke-test")
    ap.add_argument("--kubernetes-validate", help="the kubernetes-validate executable")
    ap.add_argument("--smoke-only", action="store_true",
                    help="only smoke-test --binary (a release binary), no deployment files")
    ap.add_argument("--runner", default="",
                    help="a command that runs --binary, e.g. qemu-aarch64 for the aarch64 binary")
    args = ap.parse_args()
    if args.smoke_only:
        smoke(args.binary, shlex.split(args.runner))
        print(f"check-deploy: {len(passed)} passed, {len(failed)} failed")
        return 1 if failed else 0
    check_dockerfile()
    check_release_dockerfile()
    check_fly(args.binary)
    check_vercel()
    check_kubernetes(args.binary, args.kubernetes_validate)
    check_helm()
    if args.binary:
        smoke(args.binary)
    print(f"check-deploy: {len(passed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
