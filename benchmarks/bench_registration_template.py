"""The registration template (execution) of the largest unit of a seed plan: download, dry run, import.

    .venv/bin/python benchmarks/bench_registration_template.py [--repeat 8]

QUAR 2024, unit DAS (39 items: indicators and initiatives), March 2024, on SQLite, in process (ASGI transport;
planning in process on its own SQLite file with the seed plans). Each repetition downloads the template (English),
fills every row (indicators: a value of 95 and a justification; initiatives: 50 %), uploads it for a dry run, then
imports it (every row a new version after the first repetition). The first download also loads the plan (cold);
the median and the worst of the repetitions are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from openpyxl import load_workbook

from execution.app import create_app
from execution.settings import Settings
from metas_clients.planning import PlanningClient
from metas_kit.auth import issue_token
from metas_kit.grants import Grant, Principal
from metas_kit.http import make_client

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-registration-template-0123456789"
PLAN, UNIT, PERIOD = "ii-2024-quar", "DAS", "2024-03"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def fill(content: bytes) -> tuple[bytes, int]:
    wb = load_workbook(io.BytesIO(content))
    rows = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=2):
            if ws.title == "Initiatives":
                ws.cell(row=row[0].row, column=9, value=50)  # I: cumulative execution (%)
            elif ws.title == "Indicators":
                ws.cell(row=row[0].row, column=11, value=95)  # K: value
                ws.cell(row=row[0].row, column=14, value="bench")  # N: justification
            else:
                continue
            rows += 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), rows


async def run(repeat: int) -> None:
    from planning.app import create_app as create_planning
    from planning.seed import load
    from planning.settings import Settings as PlanningSettings

    with tempfile.TemporaryDirectory() as tmp:
        planning_url = f"sqlite+aiosqlite:///{tmp}/planning.db"
        planning = create_planning(
            PlanningSettings(database_url=planning_url, jwt_secret=SECRET, migrate_on_start=True, log_level="WARNING")
        )
        async with planning.router.lifespan_context(planning):
            await load(ROOT / "data" / "plans", planning_url)
            client = PlanningClient(
                make_client(
                    "http://planning.bench",
                    transport=httpx.ASGITransport(app=planning),
                    jwt_secret=SECRET,
                    service_name="execution",
                ),
                revalidate_seconds=60.0,
            )
            settings = Settings(
                database_url=f"sqlite+aiosqlite:///{tmp}/execution.db",
                jwt_secret=SECRET,
                migrate_on_start=True,
                metrics_refresh_seconds=0,
                log_level="WARNING",
                planning_url="http://planning.bench",
            )
            app = create_app(settings, planning=client)
            app.state.clock = lambda: datetime(2024, 4, 2, 12, tzinfo=UTC)
            registrar = Principal("bench", grants=[Grant("registrar", "ii", frozenset({UNIT}))])
            headers = {"authorization": "Bearer " + issue_token(registrar, SECRET, ttl_seconds=3600)}
            path = f"/v1/plans/{PLAN}/registration-template"
            times: dict[str, list[float]] = {"download": [], "dry-run": [], "import": []}
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://execution.bench") as http,
            ):
                for _ in range(repeat):
                    start = time.perf_counter()
                    got = await http.get(path, params={"unit_code": UNIT, "period": PERIOD}, headers=headers)
                    times["download"].append(time.perf_counter() - start)
                    assert got.status_code == 200, got.text[:300]
                    data, rows = fill(got.content)
                    for action in ("dry-run", "import"):
                        start = time.perf_counter()
                        answer = await http.post(
                            f"{path}:{action}", content=data, headers={**headers, "content-type": XLSX}
                        )
                        times[action].append(time.perf_counter() - start)
                        assert answer.status_code == 200, answer.text[:300]
            print(
                f"{PLAN} {UNIT} {PERIOD}: {rows} rows filled, template {len(got.content)} bytes, {repeat} repetitions"
            )
            for name, values in times.items():
                print(f"  {name:9} p50 {statistics.median(values) * 1000:6.0f} ms   max {max(values) * 1000:6.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(run(args.repeat))


if __name__ == "__main__":
    sys.exit(main())
