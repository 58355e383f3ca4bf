"""deploy/ against the code: variable names, ports, the health path, the drain period, exit codes, and the
Kubernetes manifests against their schemas. Nothing is built or started (no Docker here)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import exits
from bot.__main__ import parser
from bot.calendar_links import PATH_PREFIX
from bot.channels.telegram.webhook import MAX_BODY as TELEGRAM_MAX_BODY
from bot.channels.wechat.parse import MAX_BODY as WECHAT_MAX_BODY
from bot.server import OPERATOR_PATHS
from bot.settings import Settings
from bot.store.redis.urls import connect

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
HEALTH = "/healthz"
VARIABLE = re.compile(r"\b(?:QIANZHU|WECHAT|TELEGRAM)_[A-Z0-9][A-Z0-9_]*")
WECHAT_DEADLINE = 5.0  # seconds WeChat waits for a passive reply


class Reads(dict[str, str]):
    """An environment that remembers every name the settings ask it for."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        super().__init__(values or {})
        self.names: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.names.add(key)
        return super().get(key, default)


def settings_names() -> set[str]:
    env = Reads()
    Settings.from_env(env)
    return env.names


def drain_period(env: dict[str, str]) -> float:
    """QIANZHU_SHUTDOWN_GRACE as `qianzhu serve` reads it from `env` (its default when unset)."""
    return Settings.from_env(env).shutdown_grace


def deploy_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.is_file())


def manifests() -> list[Path]:
    return sorted(K8S.rglob("*.yaml"))


def resources() -> list[dict[str, Any]]:
    return [doc for path in manifests() for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc]


def one(kind: str) -> dict[str, Any]:
    found = [doc for doc in resources() if doc["kind"] == kind]
    assert len(found) == 1, f"one {kind} in deploy/k8s/, found {len(found)}"
    return found[0]


def cli_args(argv: list[str]) -> Any:
    """Parses a command line with the real `qianzhu` parser; the program may be a path to it."""
    assert Path(argv[0]).name == "qianzhu", argv
    return parser().parse_args(argv[1:])


def seconds(text: str) -> float:
    """'30', '30s', '5s', '1m' (systemd, compose and nginx durations, roughly)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s|m|min)?", text.strip())
    assert match, text
    scale = {"ms": 0.001, "s": 1, "m": 60, "min": 60, None: 1}[match.group(2)]
    return float(match.group(1)) * scale


def size(text: str) -> int:
    match = re.fullmatch(r"(\d+)([kKmM]?)", text.strip())
    assert match, text
    return int(match.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[match.group(2).lower()]


# ---- variables ----------------------------------------------------------------------------------------


def test_every_variable_named_in_deploy_is_read_by_the_settings() -> None:
    known = settings_names()
    unknown = {f"{p.relative_to(ROOT)}: {name}" for p in deploy_files() for name in VARIABLE.findall(p.read_text())}
    assert {u for u in unknown if u.rsplit(": ", 1)[1] not in known} == set()


def test_the_env_example_lists_every_setting_with_no_real_value() -> None:
    text = (DEPLOY / ".env.example").read_text("utf-8")
    listed = dict(re.findall(r"^#? ?((?:QIANZHU|WECHAT|TELEGRAM)_[A-Z0-9_]+)=(.*)$", text, re.M))
    assert settings_names() - set(listed) == set()
    live = dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", text, re.M))
    assert {name: value for name, value in live.items() if value} == {}, "uncommented lines carry no values"


# ---- Dockerfile ---------------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text("utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def final_stage() -> list[tuple[str, str]]:
    steps = dockerfile()
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def test_the_image_is_built_in_two_stages_and_runs_only_the_wheel_as_a_non_root_user() -> None:
    froms = [args for op, args in dockerfile() if op == "FROM"]
    assert len(froms) >= 2
    assert froms[-1].split()[0] == "python:3.11-slim"
    stage = dict(final_stage())
    assert "--from=" in stage["COPY"]
    assert re.search(r"pip install \S*\.whl", stage["RUN"] + " ".join(a for o, a in final_stage() if o == "RUN"))
    user = stage["USER"].split(":")[0]
    assert user not in ("root", "0")
    pod = one("Deployment")["spec"]["template"]["spec"]["securityContext"]
    assert user == str(pod["runAsUser"]), "the image's user is the one Kubernetes runs"


def test_the_image_serves_on_its_exposed_port_and_checks_healthz_there() -> None:
    stage = dict(final_stage())
    args = cli_args(json.loads(stage["CMD"]))
    assert (args.command, args.host) == ("serve", "0.0.0.0")
    assert stage["EXPOSE"].split() == [str(args.port)]
    check = stage["HEALTHCHECK"]
    assert "urllib.request" in check
    assert f"http://127.0.0.1:{args.port}{HEALTH}" in check
    assert HEALTH in OPERATOR_PATHS


def test_the_build_context_keeps_what_the_wheel_needs() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    copied = {name for op, args in dockerfile() if op == "COPY" and "--from" not in args for name in args.split()[:-1]}
    assert {"pyproject.toml", "README.md", "bot", "intents", "content"} <= copied
    assert copied.isdisjoint(ignored)
    assert {".git", ".venv", ".env"} <= ignored


# ---- compose and nginx --------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))
    return loaded


def test_compose_runs_two_serve_replicas_over_redis_with_aof() -> None:
    services = compose()["services"]
    serve = services["serve"]
    assert cli_args(serve["command"]).command == "serve"
    assert serve["deploy"]["replicas"] >= 2
    url = serve["environment"]["QIANZHU_DB"]
    host = re.fullmatch(r"redis://([a-z0-9-]+):6379/\d+", url)
    assert host, url
    redis = services[host.group(1)]
    assert redis["image"].split(":")[0] == "redis"
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command
    assert "--appendfsync everysec" in command
    volume = redis["volumes"][0].split(":")
    assert volume[1] == "/data"
    assert volume[0] in compose()["volumes"]
    assert (DEPLOY / serve["env_file"]).with_name(".env.example").is_file()
    assert seconds(serve["stop_grace_period"]) > drain_period({})


Block = list[tuple[list[str], "Block | None"]]


def nginx(text: str) -> Block:
    """nginx.conf as nested (directive words, block or None); comments and quotes handled, roughly."""
    tokens = iter(re.findall(r'"[^"]*"|[{};]|[^\s{};"]+', re.sub(r"#[^\n]*", "", text)))

    def block() -> Block:
        out: Block = []
        words: list[str] = []
        for token in tokens:
            if token == ";":
                out.append((words, None))
                words = []
            elif token == "{":
                out.append((words, block()))
                words = []
            elif token == "}":
                return out
            else:
                words.append(token.strip('"'))
        return out

    return block()


def walk(tree: Block) -> Iterator[tuple[list[str], Block | None]]:
    for words, children in tree:
        yield words, children
        if children:
            yield from walk(children)


def locations() -> dict[str, dict[str, list[str]]]:
    tree = nginx((DEPLOY / "nginx.conf").read_text("utf-8"))
    found: dict[str, dict[str, list[str]]] = {}
    for words, children in walk(tree):
        if words[:1] == ["location"] and children is not None:
            found[words[-1]] = {w[0]: w[1:] for w, c in children if c is None}
    return found


def test_nginx_routes_the_webhooks_calendar_links_and_health_to_the_serve_port() -> None:
    tree = nginx((DEPLOY / "nginx.conf").read_text("utf-8"))
    port = cli_args(compose()["services"]["serve"]["command"]).port
    upstreams = {words[1]: children for words, children in walk(tree) if words[:1] == ["upstream"]}
    servers = [w[1] for w, _ in upstreams["qianzhu"] or [] if w[0] == "server"]
    assert servers
    assert all(s == f"serve:{port}" for s in servers)
    routed = locations()
    assert {"/wechat", "/telegram", PATH_PREFIX, HEALTH} <= set(routed)
    assert "/metrics" not in routed
    for path in ("/wechat", "/telegram", PATH_PREFIX, HEALTH):
        assert routed[path]["proxy_pass"] == ["http://qianzhu"], path


def test_nginx_limits_fit_the_app_and_the_wechat_deadline() -> None:
    routed = locations()
    wechat, telegram = routed["/wechat"], routed["/telegram"]
    assert WECHAT_MAX_BODY <= size(wechat["client_max_body_size"][0]) <= 2 * WECHAT_MAX_BODY
    assert TELEGRAM_MAX_BODY <= size(telegram["client_max_body_size"][0]) <= 2 * TELEGRAM_MAX_BODY
    reply_timeout = Settings.from_env({}).wechat_reply_timeout
    assert reply_timeout < seconds(wechat["proxy_read_timeout"][0]) <= WECHAT_DEADLINE


# ---- systemd ------------------------------------------------------------------------------------------


def unit(name: str) -> dict[str, list[str]]:
    """`Key=value` lines of a unit file (any section); a key may repeat."""
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / "systemd" / name).read_text("utf-8").splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.mark.parametrize(
    ("name", "command"), [("qianzhu-serve.service", "serve"), ("qianzhu-telegram.service", "telegram")]
)
def test_systemd_units_run_the_command_hardened_and_stop_after_the_drain(name: str, command: str) -> None:
    keys = unit(name)
    assert cli_args(shlex.split(keys["ExecStart"][0])).command == command
    assert keys["Restart"] == ["on-failure"]
    assert {int(code) for code in keys["RestartPreventExitStatus"][0].split()} == {
        exits.CONTENT,
        exits.STORE,
        exits.CONFIG,
    }
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp"):
        assert keys[key] == ["yes"], key
    assert keys["ProtectSystem"] == ["strict"]
    assert keys["StateDirectory"] == ["qianzhu"]
    assert keys["EnvironmentFile"] == ["/etc/qianzhu/env"]
    assert "DynamicUser" not in keys
    sysusers = (DEPLOY / "systemd" / "qianzhu.sysusers.conf").read_text("utf-8")
    assert re.search(rf"^u {keys['User'][0]} ", sysusers, re.M), "the unit's user is created by sysusers"
    env = dict(pair.split("=", 1) for value in keys.get("Environment", []) for pair in shlex.split(value))
    assert seconds(keys["TimeoutStopSec"][0]) > drain_period(env)


def test_the_serve_unit_listens_where_its_proxy_expects() -> None:
    args = cli_args(shlex.split(unit("qianzhu-serve.service")["ExecStart"][0]))
    assert (args.host, args.port) == ("127.0.0.1", 8080)


# ---- Kubernetes ---------------------------------------------------------------------------------------


def pod() -> dict[str, Any]:
    spec: dict[str, Any] = one("Deployment")["spec"]["template"]["spec"]
    return spec


def test_the_deployment_probes_healthz_on_the_serve_port() -> None:
    container = pod()["containers"][0]
    args = cli_args(container["command"])
    assert (args.command, args.host) == ("serve", "0.0.0.0")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["http"] == args.port
    assert ports["metrics"] == args.metrics_port
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        get = container[probe]["httpGet"]
        assert (get["path"], get["port"]) == (HEALTH, "http"), probe


def test_termination_outlasts_the_prestop_sleep_and_the_drain() -> None:
    container = pod()["containers"][0]
    env = {k: str(v) for k, v in one("ConfigMap")["data"].items()}
    sleep = container["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep[0] == "sleep"
    assert pod()["terminationGracePeriodSeconds"] > int(sleep[1]) + drain_period(env)


def test_the_deployment_is_locked_down_and_sized() -> None:
    container = pod()["containers"][0]
    assert pod()["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp"}, "jieba's cache needs a writable /tmp"


def test_the_service_autoscaler_budget_and_ingress_point_at_the_deployment() -> None:
    deployment = one("Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    ports = {p["name"] for p in pod()["containers"][0]["ports"]}
    service = next(r for r in resources() if r["kind"] == "Service" and r["spec"].get("type") != "ExternalName")
    assert service["spec"]["selector"].items() <= labels.items()
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports
    hpa = one("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] >= 2
    assert one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    paths = {p["path"]: p for rule in one("Ingress")["spec"]["rules"] for p in rule["http"]["paths"]}
    assert set(paths) == {"/wechat", "/telegram", PATH_PREFIX.rstrip("/"), HEALTH}
    for path in paths.values():
        assert path["backend"]["service"]["name"] == service["metadata"]["name"]


def test_redis_is_external_and_the_secret_is_a_template() -> None:
    external = next(r for r in resources() if r["kind"] == "Service" and r["spec"].get("type") == "ExternalName")
    secret = one("Secret")["stringData"]
    assert f"@{external['metadata']['name']}:" in secret["QIANZHU_DB"]
    assert {k: v for k, v in secret.items() if v and "REPLACE_ME" not in v} == {}
    env_from = {next(iter(ref.values()))["name"] for ref in pod()["containers"][0]["envFrom"]}
    assert env_from == {one("Secret")["metadata"]["name"], one("ConfigMap")["metadata"]["name"]}


async def test_the_redis_urls_of_compose_and_the_secret_are_redis_urls() -> None:
    urls = [compose()["services"]["serve"]["environment"]["QIANZHU_DB"], one("Secret")["stringData"]["QIANZHU_DB"]]
    for url in urls:
        client = connect(url)  # parses the URL and makes the client; no connection is made
        await client.aclose()


@pytest.mark.parametrize("path", manifests(), ids=lambda p: str(p.relative_to(K8S)))
def test_the_manifest_is_valid_against_the_kubernetes_schemas(path: Path) -> None:
    if importlib.util.find_spec("kubernetes_validate") is None:
        pytest.skip("kubernetes-validate is not installed (pip install -e '.[dev]')")
    command = [sys.executable, "-m", "kubernetes_validate", "--strict", "--quiet", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# ---- README -------------------------------------------------------------------------------------------


def test_the_readme_commands_parse_and_cover_the_operator_steps() -> None:
    text = (DEPLOY / "README.md").read_text("utf-8")
    blocks = "\n".join(re.findall(r"```(?:sh|bash)\n(.*?)```", text, re.S))
    top = parser()
    subcommands = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction)).choices
    commands = []
    for line in blocks.splitlines():
        words = shlex.split(line, comments=True)
        starts = [i for i, w in enumerate(words[:-1]) if Path(w).name == "qianzhu" and words[i + 1] in subcommands]
        for start in starts[:1]:
            commands.append(cli_args(words[start:]))  # the real parser: a wrong option fails here
    assert {(c.command, getattr(c, "telegram_command", None)) for c in commands} >= {("telegram", "set-webhook")}
    for needed in (
        "appendonly yes",
        "appendfsync everysec",
        "QIANZHU_KEY_SALT",
        "QIANZHU_PUBLIC_URL",
        "QIANZHU_LINK_SECRET",
    ):
        assert needed in text, needed
