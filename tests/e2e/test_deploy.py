"""The deployment, tested without a Docker engine: the Dockerfile's install script in a fresh
virtualenv as a non-root user, the Dockerfile's promises, and compose.yaml against the subset of
the Compose Specification it uses (tests/data/compose/compose-subset.schema.json)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "data" / "compose" / "compose-subset.schema.json"
NON_ROOT = 65534  # nobody
APP_FILES = ["bot", "handlers", "db", "locales", "scripts", "requirements.lock"]


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    text = re.sub(r"\\\n\s*", " ", text)
    result = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, arguments = line.strip().partition(" ")
            result.append((instruction.upper(), arguments.strip()))
    return result


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


# --- the install script, as the image runs it ---


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder a non-root user may write (pytest's own tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="roadmap-install-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


PROBE = """
import os, subprocess, sys, tempfile, venv
if sys.version_info < (3, 11):
    sys.exit(1)
with tempfile.TemporaryDirectory() as folder:
    venv.create(folder)
    sys.exit(subprocess.call([os.path.join(folder, "bin", "python"), "-c", "pass"]))
"""


def python_for(as_user: list[str], env: dict[str, str]) -> str | None:
    """This interpreter if the user may run a venv of it (not one under /root), else another."""
    candidates = [
        sys._base_executable,
        *(
            shutil.which(name, path=folder)
            for folder in ("/usr/local/bin", "/usr/bin")
            for name in ("python3.11", "python3")
        ),
    ]
    for candidate in candidates:
        if candidate is None:
            continue
        probe = subprocess.run(
            [*as_user, candidate, "-c", PROBE],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        if probe.returncode == 0:
            return candidate
    return None


@pytest.mark.slow
def test_install_script_in_a_fresh_venv_as_a_non_root_user(scratch: Path) -> None:
    app = scratch / "app"
    app.mkdir()
    for name in APP_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, app / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
            )
        else:
            shutil.copy(source, app / name)
    home = scratch / "home"
    home.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        for path in [scratch, *scratch.rglob("*")]:
            os.lchown(path, NON_ROOT, NON_ROOT)
        as_user = ["setpriv", f"--reuid={NON_ROOT}", f"--regid={NON_ROOT}", "--clear-groups"]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "PIP_NO_CACHE_DIR": "1",
        "PYTHONDONTWRITEBYTECODE": "1",  # as in the image
        "MPLCONFIGDIR": str(home / ".cache" / "matplotlib"),
    }

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*as_user, *command],
            cwd=app,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    python = python_for(as_user, env)
    if python is None:
        pytest.skip("no Python 3.11+ that a non-root user may run")
    made = run(python, "-m", "venv", str(scratch / "venv"))
    assert made.returncode == 0, made.stderr
    env["PYTHON"] = str(scratch / "venv" / "bin" / "python")
    installed = run("sh", "scripts/install-app.sh")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    for locale in ("kk", "ru"):
        assert (app / "locales" / locale / "LC_MESSAGES" / "messages.mo").is_file()
    for package in ("bot/app", "db", "handlers"):  # or every start compiles them again
        assert list((app / package / "__pycache__").glob("*.cpython-3*.pyc")), package
    helped = run(env["PYTHON"], "-m", "bot", "--help")
    assert helped.returncode == 0 and "doctor" in helped.stdout
    frozen = run(env["PYTHON"], "-m", "pip", "freeze")
    pins = {line.lower() for line in frozen.stdout.splitlines()}
    assert "aiogram==3.31.0" in pins


def test_the_lock_files_pin_every_package_with_hashes() -> None:
    for name in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / name).read_text()
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
        pins = [b for b in blocks if re.match(r"^[A-Za-z0-9][^ ]*==", b)]
        assert pins, name
        for block in pins:
            assert "--hash=sha256:" in block, block.splitlines()[0]
    assert "-r requirements.lock" in (ROOT / "requirements-dev.lock").read_text()


# --- the Dockerfile ---


def test_dockerfile_pins_the_base_image_and_runs_the_install_script() -> None:
    steps = dockerfile()
    (base,) = [arguments for instruction, arguments in steps if instruction == "FROM"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base), base
    runs = [arguments for instruction, arguments in steps if instruction == "RUN"]
    assert any("sh scripts/install-app.sh" in command for command in runs)
    copied = " ".join(arguments for instruction, arguments in steps if instruction == "COPY")
    for name in APP_FILES:
        assert name in copied, f"the install script needs {name} in the image"


def test_dockerfile_runs_as_a_user_with_a_home_and_a_health_check() -> None:
    steps = dockerfile()
    env = " ".join(arguments for instruction, arguments in steps if instruction == "ENV")
    assert re.search(r"HOME=/home/bot\b", env)
    assert re.search(r"MPLCONFIGDIR=/home/bot/", env)
    users = [arguments for instruction, arguments in steps if instruction == "USER"]
    assert users and users[-1] not in {"root", "0"}
    runs = " ".join(arguments for instruction, arguments in steps if instruction == "RUN")
    assert "--home-dir /home/bot" in runs and "chown -R bot:bot /app/data /home/bot" in runs
    (health,) = [arguments for instruction, arguments in steps if instruction == "HEALTHCHECK"]
    command = json.loads(health.split("CMD", 1)[1])
    assert command == ["python", "-m", "bot", "doctor", "--quick"]
    assert "--start-period=" in health
    volumes = [arguments for instruction, arguments in steps if instruction == "VOLUME"]
    assert volumes == ['["/app/data"]']
    assert ("CMD", '["python", "-m", "bot"]') in steps


def test_the_image_holds_matplotlibs_font_list() -> None:
    """Built where MPLCONFIGDIR points, before the home is handed to the bot user: a new
    container's first chart does not rebuild it."""
    runs = " ".join(arguments for instruction, arguments in dockerfile() if instruction == "RUN")
    built = runs.find('python -c "import matplotlib.font_manager"')
    assert 0 <= built < runs.index("chown -R bot:bot /app/data /home/bot")


def test_the_build_context_leaves_secrets_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored and ".venv" in ignored and "data" in ignored


# --- compose.yaml ---


def test_compose_file_matches_the_specification_subset() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(compose()))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_the_schema_subset_catches_mistakes() -> None:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    broken = compose()
    broken["services"]["bot"]["depends_on"] = {"db": {"condition": "service_ready"}}
    broken["services"]["db"]["healthcheck"]["interval"] = "5 seconds"
    broken["services"]["bot"]["enviroment"] = {"A": "b"}
    messages = " ".join(e.message for e in validator.iter_errors(broken))
    assert "service_ready" in messages or "not valid under any" in messages
    assert "5 seconds" in messages
    assert "enviroment" in messages


def test_compose_runs_the_bot_after_a_healthy_postgresql_15() -> None:
    spec = compose()
    db, bot = spec["services"]["db"], spec["services"]["bot"]
    assert re.fullmatch(r"postgres:15\.\d+(-\w+)?", db["image"]), db["image"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    healthy = {"condition": "service_healthy"}
    assert bot["depends_on"] == {"db": healthy, "redis": healthy}
    assert bot["build"] == "." and bot["env_file"] == ".env"
    url = bot["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql+asyncpg://") and "@db:5432/" in url
    named = set(spec["volumes"])
    for service, target in ((db, "/var/lib/postgresql/data"), (bot, "/app/data")):
        (volume,) = service["volumes"]
        source, _, mounted = volume.partition(":")
        assert source in named and mounted == target
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "POSTGRES_PASSWORD" in (ROOT / ".env.example").read_text()


def test_compose_is_caddy_to_two_webhook_replicas_with_redis_7() -> None:
    spec = compose()
    caddy, bot, redis = (spec["services"][name] for name in ("caddy", "bot", "redis"))
    assert bot["deploy"]["replicas"] == 2
    environment = bot["environment"]
    assert environment["BOT_MODE"] == "webhook" and environment["REDIS_URL"].startswith(
        "redis://redis:6379/"
    )
    assert environment["WEBHOOK_SECRET"].startswith("${WEBHOOK_SECRET:?")
    assert environment["WEB_HOST"] == "0.0.0.0" and str(environment["WEB_PORT"]) == "8080"
    assert "/readyz" in " ".join(bot["healthcheck"]["test"])
    assert re.fullmatch(r"redis:7(\.\d+)*(-\w+)?", redis["image"]), redis["image"]
    assert "ping" in redis["healthcheck"]["test"]
    assert caddy["depends_on"] == {"bot": {"condition": "service_healthy"}}
    assert {"80:80", "443:443"} <= set(caddy["ports"])
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    caddyfile = (ROOT / "Caddyfile").read_text()
    assert "{$PUBLIC_URL}" in caddyfile and "dynamic a bot 8080" in caddyfile
    assert "respond @internal 404" in caddyfile  # /metrics and health stay inside
    example = (ROOT / ".env.example").read_text()
    for key in ("BOT_MODE", "WEBHOOK_SECRET", "WEBHOOK_PATH", "REDIS_URL", "PUBLIC_URL"):
        assert key in example, key
