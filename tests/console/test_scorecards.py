"""Scorecards, the item page (trend, explanation, what if, what do I need), documents and the compliance heat map
in the browser, on copies of the seed plans (tests/console/scorecards_data.py). Figures worked by hand from
docs/domain.md in the comments; the people read in pt-BR and pt-PT (comma decimals) and English."""

from __future__ import annotations

import io
import re
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from console_support import Stack, check_accessibility, screenshot, sign_in
from openpyxl import load_workbook
from playwright.sync_api import expect
from prometheus_client.parser import text_string_to_metric_families
from pypdf import PdfReader
from scorecards_data import ACORDO, QUAR, prepare


@pytest.fixture(scope="module")
def scenario(stack: Stack) -> Stack:
    with stack.api("planner") as planner, stack.api("admin") as admin:
        prepare(planner, admin)
    return stack


def signed_in(open_page: Any, path: str, lang: str) -> Any:
    """The planner, reading in `lang` (the language switch's cookie), on `path`."""
    page = open_page()
    sign_in(page, "planner", path=path)
    page.context.add_cookies([{"name": "metas_lang", "value": lang, "url": page.stack_url}])
    page.reload()
    return page


def state(page: Any, code: str) -> Any:
    return page.get_by_test_id(f"item-{code}").locator(".rag")


def test_acordo_scorecard_provisional_then_final_and_its_documents(scenario: Stack, open_page: Any) -> None:
    page = signed_in(open_page, f"/plans/{ACORDO}/scorecard", "pt-BR")
    expect(page.get_by_text("Este plano ainda não tem avaliação.")).to_be_visible()
    page.get_by_test_id("evaluate-now").click()
    expect(page.get_by_test_id("evaluation-kind")).to_have_attribute("data-kind", "provisional")
    expect(page.get_by_test_id("evaluation-kind")).to_contain_text("Avaliação provisória")
    # Composites without their components and the quantity product without its quantity have no score yet.
    expect(page.get_by_test_id("incomplete")).to_contain_text("A nota está incompleta.")
    expect(page.get_by_test_id("missing-items")).to_have_text("DP-P2, DPGF-I02, DPGF-I03")
    # DS: I1, I4, I5, I6 at their metas → 100; I2 (52 000 − 50 000) / (53 000 − 50 000) × 100 = 66.67; I3 = 12,
    # meta 8 ≥ V0 7.18 → OBS2, (1 − (12 − 8) / 8) × 100 = 50 % < 80 % → 0; products on time → 100.
    # Team grade (100 × 40 + 66.67 × 10 + 0 × 10 + 100 × 40) / 100 = 86.667 → 86.67: between the plan's bands
    # 40 and 100 → partly met.
    expect(page.get_by_test_id("grade-DS")).to_have_text("86,67")
    expect(page.get_by_test_id("score-DS-I2")).to_have_text("66,67")
    expect(page.get_by_test_id("score-DS-I3")).to_have_text("0,00")
    for code, shade, label, shape in (
        ("DS-I1", "green", "Atingida", "▲"),
        ("DS-I2", "amber", "Parcialmente atingida", "◆"),
        ("DS-I3", "red", "Não atingida", "▼"),
    ):
        expect(state(page, code)).to_have_attribute("data-state", shade)
        expect(state(page, code)).to_have_text(f"{shape} {label}")
    # The team grade explained: its formula with every goal's score × weight (no N1 given: no productivity).
    page.get_by_test_id("branch-DS").locator("details.how summary").click()
    how = page.get_by_test_id("steps-DS")
    expect(how).to_contain_text("Nota da equipe = Σ(nota × peso) / Σ peso")
    expect(how).to_contain_text("DS-I266,67 × 10")
    # The Acordo scores no objective (docs/domain.md §7): the page says so instead of leaving a blank.
    expect(page.get_by_test_id("legend")).to_contain_text("Um Acordo não pontua objetivos")
    check_accessibility(page)
    screenshot(page, "scorecard-provisional")

    # The committee closes the year: only DS-I2 is certified.
    with scenario.api("certifier") as certifier:
        url = f"/api/execution/v1/plans/{ACORDO}/registrations/DS-I2/2014-12"
        etag = certifier.get(url).headers["etag"]
        assert certifier.post(url + ":certify", headers={"if-match": etag}).status_code == 200
    with scenario.api("planner") as planner:
        final = planner.post("/api/scoring/v1/evaluations:final", json={"plan_id": ACORDO, "n1": "90"})
    assert final.status_code == 201, final.text
    run = final.json()
    page.goto(page.stack_url + f"/plans/{ACORDO}/scorecard")  # the published final is the plan's scorecard
    expect(page.get_by_test_id("evaluation-kind")).to_have_attribute("data-kind", "final")
    expect(page.get_by_test_id("evaluation-kind")).to_contain_text("Avaliação final")
    # Final: every DS item without a certified result scores 0; DS = 66.67 × 10 / 100 = 6.667 → 6.67, below 40.
    expect(page.get_by_test_id("grade-DS")).to_have_text("6,67")
    expect(page.get_by_test_id("branch-DS").locator(".branch-score .rag")).to_have_attribute("data-state", "red")
    expect(page.get_by_test_id("item-DS-I1")).to_contain_text("sem resultado certificado → 0")
    expect(page.get_by_test_id("score-DS-I1")).to_have_text("0,00")  # missing at the final → 0.00, 2 places
    # productivity with N1 = 90: 0.70 × 90 + 0.30 × 6.67 = 63 + 2.001 = 65.001 → 65.00
    page.get_by_test_id("branch-DS").locator("details.how summary").click()
    expect(page.get_by_test_id("steps-DS")).to_contain_text("Produtividade = peso de N1 × N1 + peso de N2 × N2")
    expect(page.get_by_test_id("steps-DS")).to_contain_text("65,00")
    check_accessibility(page)
    screenshot(page, "scorecard-final")

    assert run["summary"]["teams"]["DS"] == "6.67"
    with page.expect_download() as pdf:
        page.get_by_test_id("report-pdf").click()
    text = " ".join(p.extract_text() for p in PdfReader(pdf.value.path()).pages)
    assert " ".join(text.split()).count(f"Team grade (N2): {run['summary']['teams']['DS']}") == 1
    with page.expect_download() as xlsx:
        page.get_by_test_id("report-xlsx").click()
    assert xlsx.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(open(xlsx.value.path(), "rb").read()), read_only=True)
    rows = {r[0]: r for r in book["DS indicators"].iter_rows(values_only=True)}
    # DS-I2: result 52 000, meta 53 000, score 66.67 — the API's figure
    assert Decimal(str(rows["DS-I2"][4])) == Decimal(run["results"]["indicators"]["DS-I2"]["value"]) == Decimal("66.67")


def test_item_page_trend_explanation_what_if_and_what_do_i_need(scenario: Stack, open_page: Any) -> None:
    with scenario.api("planner") as planner:
        runs = planner.get("/api/scoring/v1/evaluations", params={"plan_id": ACORDO, "kind": "provisional"}).json()
    provisional = runs["items"][0]["id"]
    page = signed_in(open_page, f"/plans/{ACORDO}/scorecard/{provisional}/items/DS-I2", "pt-BR")
    expect(page.get_by_test_id("item-score")).to_have_text("66,67")
    chart = page.get_by_test_id("trend-chart")
    expect(chart.locator("title")).to_have_text("DS-I2: valor registrado em cada mês em comparação com a meta")
    expect(chart.locator("desc")).to_contain_text("Meta 53.000.")
    expect(chart.locator("desc")).to_contain_text("setembro de 2014: 50.500.")
    expect(chart.locator("circle")).to_have_count(4)  # September to December
    table = page.get_by_test_id("trend-table")
    expect(table.locator("tbody tr")).to_have_count(12)
    expect(table.locator("tbody tr").nth(11)).to_contain_text("52.000")
    steps = page.get_by_test_id("steps").locator("li")
    expect(steps.first).to_contain_text("Meta ambiciosa (meta > V0): regra geral")
    expect(steps.first).to_contain_text("score = (result − V0) / (meta − V0) × 100")
    expect(steps.first).to_contain_text("resultado52.000")
    expect(steps.first).to_contain_text("66,67")

    what_if = page.get_by_test_id("what-if")
    what_if.get_by_label("Resultado").fill("muito")
    what_if.get_by_role("button").click()
    expect(page.locator("#value-error")).to_have_text("Isto não é um número.")
    expect(page.locator("#value")).to_have_attribute("aria-invalid", "true")
    check_accessibility(page)
    what_if = page.get_by_test_id("what-if")
    what_if.get_by_label("Resultado").fill("53.000")
    what_if.get_by_role("button").click()
    # DS-I2 at its meta → 100; the team grade (100 × 50 + 0 × 10 + 100 × 40) / 100 = 90.00 (was 86.67).
    expect(page.get_by_test_id("what-if-score")).to_have_text("100,00")
    expect(page.get_by_test_id("what-if-team")).to_have_text("90,00")

    need = page.get_by_test_id("what-do-i-need")
    need.get_by_label("Valor-alvo").fill("100")
    need.get_by_role("button").click()
    # score 100 → R = V0 + 100 × (M − V0) / 100 = 50 000 + 3 000 = 53 000
    expect(page.get_by_test_id("inverse-value")).to_have_text("53.000")
    check_accessibility(page)
    screenshot(page, "scorecard-item")


def test_quar_scorecard_states(scenario: Stack, open_page: Any) -> None:
    page = signed_in(open_page, f"/plans/{QUAR}/scorecard", "pt-PT")
    page.get_by_test_id("evaluate-now").click()
    expect(page.get_by_test_id("evaluation-kind")).to_have_attribute("data-kind", "provisional")
    # Ind.1 = 100 = VC → 125 (Superou); Ind.3 = 97 < M − T = 98.5 → 97 / 98.5 × 100 = 98.477 → 98.48 (Não
    # atingiu); Ind.2 at its meta, inside the band → 100 (Atingiu).
    for code, value, shade, label in (
        ("Ind.1", "125,00", "green", "▲ Superou"),
        ("Ind.2", "100,00", "amber", "◆ Atingiu"),
        ("Ind.3", "98,48", "red", "▼ Não atingiu"),
    ):
        expect(page.get_by_test_id(f"score-{code}")).to_have_text(value)
        expect(state(page, code)).to_have_attribute("data-state", shade)
        expect(state(page, code)).to_have_text(label)
    # OP3 = 60 % × 98.48 + 40 % × 100 = 99.088 → 99.09; eficácia = 30 % × 125 + 24 % × 100 + 16 % × 99.09 +
    # 30 % × 100 = 107.3544 → 107.35; final = 35 % × 107.35 + 25 % × 100 + 40 % × 100 = 102.5725 → 102.57.
    expect(page.get_by_test_id("rate-OP3")).to_have_text("99,09")
    expect(page.get_by_test_id("grade-eficacia")).to_have_text("107,35")
    expect(page.get_by_test_id("final-rate")).to_contain_text("102,57 %")
    # OP3 is not relevant, every relevant objective is achieved → Desempenho satisfatório (Lei 66-B/2007 art. 18)
    expect(page.get_by_test_id("mention")).to_have_text("Desempenho satisfatório")
    page.get_by_test_id("org-title").locator("xpath=..").locator("details.how summary").click()
    expect(page.get_by_test_id("steps-final")).to_contain_text("Taxa final = Σ peso × taxa / Σ peso")
    # The objective level explained too: OP3's rate from its indicators' weights and rates (pt-PT decimals).
    page.get_by_test_id("objective-OP3").locator("details.how summary").click()
    op3 = page.get_by_test_id("steps-OP3")
    expect(op3).to_contain_text("Taxa do objetivo OP3 = Σ peso × taxa / Σ peso")
    expect(op3.locator("dt:text-is('Ind.3') + dd")).to_contain_text("× 98,48")
    expect(op3).to_contain_text("Resultado: 99,09")
    check_accessibility(page)
    screenshot(page, "scorecard-quar")


def test_compliance_heat_map(scenario: Stack, open_page: Any) -> None:
    page = signed_in(open_page, f"/plans/{ACORDO}/compliance", "en")
    ds = page.get_by_test_id("unit-DS")
    # DS owes 10 registrations a month (6 indicators, DS-P01 and DS-P02's 3 stages). January: none made → 0 of 10.
    expect(ds.get_by_test_id("cell-2014-01")).to_have_text("0.00 %0 of 10")
    # December: all 10 made on 5 January 2015, before the 10th business day → 100 %.
    expect(ds.get_by_test_id("cell-2014-12")).to_have_text("100.00 %10 of 10")
    # The year: December's 10 and DS-I2's September–November on time = 13 of 12 × 10 = 120 → 10.833 → 10.83 %.
    expect(ds.get_by_test_id("cell-YTD")).to_have_text("10.83 %13 of 120")
    with scenario.api("planner") as planner:
        report = planner.get(f"/api/execution/v1/plans/{ACORDO}/compliance").json()
    (api_ds,) = [u for u in report["units"] if u["unit_code"] == "DS"]
    assert api_ds["year_to_date"]["index"] == "10.83"
    check_accessibility(page)
    screenshot(page, "compliance")


def scraped_gauges(stack: Stack, plan_id: str, since: float) -> dict[str, dict[str, dict[str, float]]]:
    """Execution's compliance gauges of `plan_id` — unit → period ("YTD" for the (plan, unit) gauges) → due,
    on_time and ratio — from its /metrics as Prometheus scrapes it (parsed by prometheus_client's text parser),
    once the background refresh has run after `since` (it runs every 30 s)."""
    deadline = time.monotonic() + 90
    while True:
        text = httpx.get(stack.cluster.config.url("execution") + "/metrics", timeout=10).text
        families = {f.name: f for f in text_string_to_metric_families(text)}
        refreshed = families.get("metas_execution_metrics_refresh_timestamp_seconds")
        if refreshed is not None and refreshed.samples[0].value > since:
            break
        assert time.monotonic() < deadline, "the compliance gauges were not refreshed"
        time.sleep(1)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for prefix in ("metas_execution_", "metas_execution_period_"):
        for key, name in (
            ("due", "registrations_due"),
            ("on_time", "registrations_on_time"),
            ("ratio", "on_time_ratio"),
        ):
            for sample in families[prefix + name].samples:
                if sample.labels["plan"] == plan_id:
                    cell = out.setdefault(sample.labels["unit"], {}).setdefault(sample.labels.get("period", "YTD"), {})
                    cell[key] = sample.value
    return out


CELL = re.compile(r"^(?P<index>[\d.]+) %(?P<on_time>\d+) of (?P<due>\d+)$")


@pytest.mark.parametrize("plan_id", [ACORDO, QUAR])
def test_heat_map_shows_the_figures_prometheus_scrapes(scenario: Stack, open_page: Any, plan_id: str) -> None:
    """Both seed plans' copies, whose cycles (2014, 2024) are over at the wall clock of 2026: every due day has
    passed, so the figures are those of a fixed clock. Every cell of the heat map — each unit's months and its year
    to date — is the scraped ratio × 100 (2 places) with the on-time and due counts:
    metas_execution_period_*{plan,unit,period} for a month, metas_execution_*{plan,unit} for the year."""
    gauges = scraped_gauges(scenario, plan_id, since=time.time())
    assert gauges, "no compliance gauge of the plan"
    page = signed_in(open_page, f"/plans/{plan_id}/compliance", "en")
    rows = page.get_by_test_id("heatmap").locator("tbody tr")
    expect(rows).to_have_count(len(gauges))
    compared = 0
    for unit, cells in sorted(gauges.items()):
        row = page.get_by_test_id(f"unit-{unit}")
        shown = {
            str(c.get_attribute("data-testid")).removeprefix("cell-"): c.inner_text().replace("\n", "")
            for c in row.locator("td").all()
        }
        for period, text in shown.items():
            figures = cells.get(period) or {"due": 0, "on_time": 0}
            if figures["due"] == 0:  # nothing due: no ratio is exported and the cell has no figure
                assert "ratio" not in figures, (unit, period)
                assert text.startswith("—"), (unit, period, text)
                continue
            found = CELL.match(text)
            assert found is not None, (unit, period, text)
            assert (int(found["on_time"]), int(found["due"])) == (figures["on_time"], figures["due"]), (unit, period)
            expected = (Decimal(str(figures["ratio"])) * 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
            assert Decimal(found["index"]) == expected, (unit, period)
            compared += 1
        assert set(cells) <= set(shown), unit  # no scraped period missing from the page
    assert compared >= len(gauges)
    # A hand-worked cell: the Acordo copy's DS owes 10 a month and made December's 10 and DS-I2's September to
    # November on time → 13 of 120 = 0.108333… → 10.83 % (the ratio gauge is 13 / 120).
    if plan_id == ACORDO:
        assert (gauges["DS"]["YTD"]["on_time"], gauges["DS"]["YTD"]["due"]) == (13, 120)
        # December: all 10 made on 5 January 2015, on time → the period gauge's ratio is 1 → 100.00 %.
        assert gauges["DS"]["2014-12"] == {"due": 10, "on_time": 10, "ratio": 1.0}
        expect(page.get_by_test_id("unit-DS").get_by_test_id("cell-2014-12")).to_contain_text("100.00 %")
        expect(page.get_by_test_id("unit-DS").get_by_test_id("cell-YTD")).to_contain_text("10.83 %")
