"""The newcomer's scripts: the Python version first, a .venv from another Python rebuilt,
progress and one closing line on install, and an unedited .env named before anything runs.

Each test runs the real scripts in a scratch copy of the repository's skeleton, where
`scripts/install-app.sh` is replaced by a recorder (the real one is tested in test_deploy.py)
and `bot` is a stub package, so nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCK = "aiogram==3.31.0 \\\n    --hash=sha256:00\nsix==1.17.0 \\\n    --hash=sha256:11\n"
VERSION_LINE = "Python 3.11 or newer is needed"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    for name in ("python.sh", "bootstrap.sh", "run.sh", "compile-bytecode.sh"):
        shutil.copy(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    (tmp_path / "scripts" / "install-app.sh").write_text(
        '#!/bin/sh\necho "installed into $PYTHON from $1" >> install-calls.log\n'
        'if [ -f fail-install ]; then echo "ERROR: no matching distribution"; exit 1; fi\n'
    )
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "__init__.py").write_text("")
    (tmp_path / "bot" / "__main__.py").write_text(
        "import sys\nopen('bot-calls.log', 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
    )
    (tmp_path / "requirements.lock").write_text(LOCK)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env.example")
    return tmp_path


def same_python_venv(repo: Path) -> None:
    """A .venv whose python is this interpreter: what bootstrap keeps, made in no time."""
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "python").symlink_to(sys.executable)


def stub(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def run(repo: Path, script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "PYTHON"}}
    return subprocess.run(
        ["sh", f"scripts/{script}", *args],
        cwd=repo,
        env={**base, "PYTHON": sys.executable, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def venv_version(repo: Path) -> str:
    result = subprocess.run(
        [str(repo / ".venv" / "bin" / "python"), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.parametrize("script", ["run.sh", "bootstrap.sh"])
def test_an_old_python_gets_one_line(repo: Path, tmp_path: Path, script: str) -> None:
    fake = stub(tmp_path / "fakebin", "python3", "echo 3.10.12")
    env = {"PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"}
    base = {k: v for k, v in os.environ.items() if k != "PYTHON"}
    result = subprocess.run(
        ["sh", f"scripts/{script}", "requirements.lock"],
        cwd=repo,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(VERSION_LINE)
    assert "3.10.12" in lines[0] and "apt install python3.11" in lines[0]
    assert not (repo / ".venv").exists()
    assert not (repo / "install-calls.log").exists()


def test_a_missing_python_gets_the_same_line(repo: Path) -> None:
    result = run(repo, "bootstrap.sh", "requirements.lock", PYTHON="python3.99-nowhere")
    assert result.returncode == 3
    assert result.stderr.startswith(VERSION_LINE)
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_venv_from_another_python_is_rebuilt_then_installed_once(repo: Path) -> None:
    stub(repo / ".venv" / "bin", "python", 'echo "3.10"')
    first = run(repo, "bootstrap.sh", "requirements.lock")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert lines[0].startswith("Rebuilding .venv: it was made by 3.10, this is Python 3.11")
    assert lines[1].startswith("Installing 2 pinned packages from requirements.lock")
    assert "about a minute the first time" in lines[1]
    assert lines[-1].startswith("Ready: Python 3.") and "2 packages" in lines[-1]
    assert venv_version(repo) == str(sys.version_info[:2])
    calls = (repo / "install-calls.log").read_text().splitlines()
    assert calls == ["installed into .venv/bin/python from requirements.lock"]

    again = run(repo, "bootstrap.sh", "requirements.lock")
    assert again.returncode == 0 and again.stdout == ""
    assert len((repo / "install-calls.log").read_text().splitlines()) == 1
    assert (repo / "bot-calls.log").read_text().splitlines() == ["compile-catalogs"]
    assert list((repo / "bot" / "__pycache__").glob("__main__.*.pyc"))  # the bot's bytecode

    (repo / "requirements.lock").write_text(LOCK + "tzdata==2026.6 \\\n    --hash=sha256:22\n")
    changed = run(repo, "bootstrap.sh", "requirements.lock")
    assert "Installing 3 pinned packages" in changed.stdout
    assert len((repo / "install-calls.log").read_text().splitlines()) == 2


@pytest.mark.slow
def test_a_broken_venv_is_rebuilt(repo: Path) -> None:
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "python").symlink_to("/nonexistent/python3.10")
    result = run(repo, "bootstrap.sh", "requirements.lock")
    assert result.returncode == 0, result.stderr
    assert "Rebuilding .venv: it was made by a missing or broken Python" in result.stdout
    assert venv_version(repo) == str(sys.version_info[:2])


def test_the_dev_lock_reinstalls_when_the_runtime_lock_changes(repo: Path) -> None:
    same_python_venv(repo)
    (repo / "requirements-dev.lock").write_text("-r requirements.lock\nruff==0.17.6 \\\n")
    first = run(repo, "bootstrap.sh", "requirements-dev.lock")
    assert "Rebuilding" not in first.stdout
    assert "Installing 3 pinned packages from requirements-dev.lock" in first.stdout
    (repo / "requirements.lock").write_text(LOCK.replace("1.17.0", "1.16.0"))
    second = run(repo, "bootstrap.sh", "requirements-dev.lock")
    assert "Installing 3 pinned packages" in second.stdout


def test_a_failed_install_shows_the_end_of_the_log(repo: Path) -> None:
    same_python_venv(repo)
    (repo / "fail-install").write_text("")
    result = run(repo, "bootstrap.sh", "requirements.lock")
    assert result.returncode == 1
    assert "ERROR: no matching distribution" in result.stderr
    assert "The install failed (the whole log: .venv/install.log)" in result.stderr
    assert not (repo / ".venv" / ".installed-requirements.lock").exists()


@pytest.mark.parametrize(
    "env_file",
    ["from-example", "BOT_TOKEN=\n", 'BOT_TOKEN = "Put-Your-Token-From-BotFather-Here"\n'],
)
def test_an_unedited_env_names_the_token_before_installing(repo: Path, env_file: str) -> None:
    if env_file == "from-example":
        shutil.copy(repo / ".env.example", repo / ".env")
    else:
        (repo / ".env").write_text(env_file)
    result = run(repo, "run.sh")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Put the token from @BotFather into BOT_TOKEN in .env; "
        "no token yet: try ./scripts/run.sh sandbox."
    )
    assert not (repo / ".venv").exists()


def test_no_env_file_says_to_copy_the_example(repo: Path) -> None:
    result = run(repo, "run.sh")
    assert result.returncode == 2
    assert "copy .env.example to .env" in result.stderr
    assert "no token yet: try ./scripts/run.sh sandbox" in result.stderr
    assert not (repo / ".venv").exists()


def test_the_sandbox_needs_no_token(repo: Path) -> None:
    same_python_venv(repo)
    shutil.copy(repo / ".env.example", repo / ".env")  # the placeholder, unedited
    result = run(repo, "run.sh", "sandbox", "--port", "8123")
    assert result.returncode == 0, result.stderr
    assert (repo / "bot-calls.log").read_text().splitlines()[-1] == "sandbox --port 8123"


def test_a_real_token_installs_and_starts(repo: Path) -> None:
    same_python_venv(repo)
    (repo / ".env").write_text("BOT_TOKEN=123456789:AAE-abcdefghijklmnopqrstuvwxyz012345\n")
    result = run(repo, "run.sh", "doctor", "--quick")
    assert result.returncode == 0, result.stderr
    assert "Ready:" in result.stdout
    assert (repo / "bot-calls.log").read_text().splitlines()[-1] == "doctor --quick"


PERCENT_READ_AS_FORMAT = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: ru\\n"

#, python-brace-format, python-format
msgid "{share}% of the time left"
msgstr "менее {share}%"
"""


def catalog_repo(folder: Path, catalog: str) -> Path:
    (folder / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "check-catalogs.sh", folder / "scripts" / "check-catalogs.sh")
    messages = folder / "locales" / "ru" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (messages / "messages.po").write_text(catalog, encoding="utf-8")
    return folder


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
def test_the_catalog_check_fails_on_a_text_gettext_reads_as_a_percent_format(
    tmp_path: Path,
) -> None:
    repo = catalog_repo(tmp_path, PERCENT_READ_AS_FORMAT)
    assert run(repo, "check-catalogs.sh").returncode == 1
    fixed = PERCENT_READ_AS_FORMAT.replace(", python-format", "")
    fixed = fixed.replace("{share}% of the time left", "the time left under {share}%")
    (repo / "locales" / "ru" / "LC_MESSAGES" / "messages.po").write_text(fixed, encoding="utf-8")
    result = run(repo, "check-catalogs.sh")
    assert result.returncode == 0, result.stderr


def test_a_missing_msgfmt_is_named_with_the_package_to_install(tmp_path: Path) -> None:
    repo = catalog_repo(tmp_path / "repo", PERCENT_READ_AS_FORMAT)
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("sh", "dirname"):
        (tools / tool).symlink_to(shutil.which(tool) or f"/bin/{tool}")
    result = run(repo, "check-catalogs.sh", PATH=str(tools))
    assert result.returncode == 3
    assert "msgfmt is missing" in result.stderr
    assert "install gettext" in result.stderr
