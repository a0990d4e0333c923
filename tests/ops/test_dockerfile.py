"""The image and the compose stack: hadolint on the Dockerfile, and the shape both must keep."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def tool(name: str) -> str:
    """A console script of this environment (dev dependency), else one on PATH; never skip."""
    local = Path(sysconfig.get_path("scripts")) / name
    found = str(local) if local.exists() else shutil.which(name)
    assert found, f"{name} is missing: install the dev dependencies (pip install -e '.[dev]')"
    return found


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def arguments(name: str) -> list[str]:
    return [args for instruction, args in instructions() if instruction == name]


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [tool("hadolint"), "--no-color", "--format", "json", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert json.loads(result.stdout or "[]") == [], result.stdout
    assert result.returncode == 0, result.stderr
    assert not (ROOT / ".hadolint.yaml").exists()  # no rule switched off behind the test's back


def test_image_is_multi_stage_and_the_runtime_installs_only_wheels() -> None:
    steps = instructions()
    starts = [i for i, (name, _) in enumerate(steps) if name == "FROM"]

    assert len(starts) == 2
    assert all(re.fullmatch(r"python:3\.1[12]\.\d+-slim\S* AS \w+", steps[i][1]) for i in starts)
    runtime = steps[starts[1] :]
    installs = [args for name, args in runtime if name == "RUN" and "pip install" in args]
    assert len(installs) == 1 and "--no-index" in installs[0] and "/wheels" in installs[0]
    assert not any("apt-get" in args or "gcc" in args for name, args in runtime if name == "RUN")


def test_image_runs_as_a_fixed_non_root_user() -> None:
    (user,) = arguments("USER")

    assert user.split(":")[0] == "10001"


def test_healthcheck_asks_healthz_with_the_standard_library() -> None:
    (check,) = arguments("HEALTHCHECK")

    assert "/healthz" in check and "urllib.request" in check
    assert re.search(r"CMD \[", check)  # exec form


def test_entrypoint_is_commerce_and_serve_the_default_command() -> None:
    assert [json.loads(a) for a in arguments("ENTRYPOINT")] == [["commerce"]]
    assert [json.loads(a) for a in arguments("CMD")] == [["serve"]]
    assert arguments("EXPOSE") == ["8000"]


def test_environment_names_are_real_settings() -> None:
    from app.settings import Settings

    env = " ".join(arguments("ENV"))
    names = dict(re.findall(r"(\w+)=(\S+)", env))
    settings = {name.upper() for name in Settings.model_fields}

    assert names["ENVIRONMENT"] == "production" and names["DATA_DIR"] == "/tmp/commerce"
    app_names = {n for n in names if not n.startswith(("PIP_", "PYTHON"))}
    assert app_names <= settings, app_names - settings


def test_the_wheel_the_image_installs_carries_the_migrations(tmp_path: Path) -> None:
    import zipfile

    import app.migrate

    # app/migrate.py reads migrations/ beside the installed app package: the wheel the
    # builder stage makes must hold them, or `commerce migrate` in the image finds nothing.
    assert app.migrate.MIGRATIONS_DIR == ROOT / "migrations"
    # Built from what the builder stage copies, into a fresh folder: a build/ left in the
    # checkout by an earlier build would otherwise answer for setuptools.
    source = tmp_path / "src"
    source.mkdir()
    for args in arguments("COPY"):
        *names, target = args.split()
        if names[0].startswith("--"):
            continue  # the runtime stage's copies from the builder
        for name in names:  # Docker's rules: a folder's contents go into the target
            if (ROOT / name).is_dir():
                skip = shutil.ignore_patterns("__pycache__")
                shutil.copytree(ROOT / name, source / target, ignore=skip)
            else:
                shutil.copy(ROOT / name, source / target)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("commerce-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    revisions = {p.name for p in (ROOT / "migrations" / "versions").glob("*.py")}
    assert {"migrations/env.py", "migrations/script.py.mako"} <= names
    assert {f"migrations/versions/{name}" for name in revisions} <= names


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert {".commerce", ".venv", "tests", ".git", "bench"} <= ignored


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_compose_starts_in_health_gated_order() -> None:
    services = compose()["services"]

    def gates(name: str) -> dict[str, str]:
        return {dep: cond["condition"] for dep, cond in services[name]["depends_on"].items()}

    assert gates("migrate") == {"postgres": "service_healthy"}
    assert gates("api") == {
        "migrate": "service_completed_successfully",
        "redis": "service_healthy",
    }
    assert gates("worker") == gates("api")
    assert services["migrate"]["restart"] == "no"
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert services["postgres"]["image"] == "postgres:17"


def test_compose_runs_the_three_commands_of_one_image() -> None:
    services = compose()["services"]

    assert {name: services[name]["command"] for name in ("migrate", "api", "worker")} == {
        "migrate": ["migrate"],
        "api": ["serve"],
        "worker": ["worker"],
    }
    assert len({services[name]["image"] for name in ("migrate", "api", "worker")}) == 1
    assert services["api"]["ports"] == ["8000:8000"]


def test_compose_environment_uses_real_settings() -> None:
    from app.settings import Settings

    services = compose()["services"]
    api, worker = services["api"]["environment"], services["worker"]["environment"]
    settings = {name.upper() for name in Settings.model_fields}

    assert set(api) <= settings and set(worker) <= settings
    assert api["DATABASE_URL"] == "postgresql+asyncpg://commerce:commerce@postgres:5432/commerce"
    assert api["REDIS_URL"] == "redis://redis:6379/0"
    assert api["WORKER_IN_PROCESS"] == "false"
    assert api["MIGRATE_ON_START"] == worker["MIGRATE_ON_START"] == "false"
    assert api["METRICS_PORT"] == "9100"
    Settings(_env_file=None, **{k.lower(): v for k, v in api.items()})
