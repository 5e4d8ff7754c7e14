"""Every gettext catalog the product ships (the console's and execution's mails, en included) is accepted by GNU
msgfmt -c: a merge that loses a msgstr line or doubles an entry breaks the file for msgfmt even where Babel still
reads it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = sorted(
    [
        *ROOT.glob("console/src/console/locales/*/LC_MESSAGES/messages.po"),
        *ROOT.glob("services/execution/src/execution/locales/*/LC_MESSAGES/messages.po"),
    ]
)


def test_there_are_six_catalogs() -> None:
    assert len(CATALOGS) == 6  # console and execution, each in en, pt_BR and pt_PT


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda p: "/".join(p.parts[-6:-2]))
def test_msgfmt_accepts_the_catalog(catalog: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        ["msgfmt", "-c", "-o", str(tmp_path / "messages.mo"), str(catalog)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
