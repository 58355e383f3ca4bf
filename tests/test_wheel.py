"""The built wheel carries the content: installed in a fresh venv outside the checkout, it answers."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*command: str | Path, cwd: Path) -> str:
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.slow
def test_wheel_installs_and_answers_outside_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, ROOT, cwd=tmp_path)
    wheel = next(dist.glob("qianzhu-*.whl"))

    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    python = target / "bin" / "python"
    # Third-party dependencies come from the test environment (no network needed); our own code only
    # from the wheel: a plain path line in a .pth file adds the folder but runs none of its .pth files,
    # so the editable install of the checkout stays invisible.
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).strip()
    Path(site, "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel, cwd=tmp_path)

    where = run(python, "-c", "import bot, pathlib; print(pathlib.Path(bot.__file__).parent)", cwd=tmp_path)
    assert where.strip().startswith(str(target)), where
    assert (Path(where.strip()) / "_content" / "rules.yaml").is_file()

    answer = run(
        target / "bin" / "qianzhu",
        "ask",
        "我在上海，居住证10月20号过期了",
        "--today",
        "2026-11-26",
        cwd=tmp_path,
    )
    assert "上海｜已过期，可能还在宽限期" in answer
    assert "2026年12月19日" in answer
