"""`python -m budget.seed data/budget` (what `make run` calls): migrates, loads, and is idempotent."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(db: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METAS_")}
    env["METAS_BUDGET_DATABASE_URL"] = f"sqlite+aiosqlite:///{db}"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "libs" / "kit" / "src"), str(ROOT / "services" / "budget" / "src"), env.get("PYTHONPATH", "")]
    )
    result = subprocess.run(
        [sys.executable, "-m", "budget.seed", str(ROOT / "data" / "budget")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_seed_cli_twice(tmp_path: Path) -> None:
    db = tmp_path / "budget.db"
    first = _run(db)
    # 15 x 4 Tabela 19 cells + 19 Anexo 5 rubric lines + 109 Anexo 4 lines = 188 amounts
    assert first == "budget seed: code tables added ['2024.1']; published budget #1 loaded; 188 amounts"
    second = _run(db)
    assert second == "budget seed: code tables added none; published budget #1 already loaded; 0 amounts"
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from budget_amount").fetchone() == (188,)
        assert conn.execute("select count(*) from published_budget").fetchone() == (1,)
        assert conn.execute("select count(*) from eixo").fetchone() == (5,)
        # the published document keeps the printed figures: Tabela 19 Eixo 1 2021 is 419.443 (not the 419.442 sum)
        (document,) = conn.execute("select document from published_budget").fetchone()
        assert json.loads(document)["eixos"][0]["execucao_2021"] == 419443
        assert conn.execute("select count(*) from procurement_line").fetchone() == (109,)
