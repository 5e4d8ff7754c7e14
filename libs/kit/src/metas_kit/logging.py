"""Structured JSON logs; every line carries the request id of the request that produced it.

Every request writes one access line, so the line's cost is part of every route's cost (BENCHMARKS.md, request
path): the formatter reuses one JSON encoder and the second's timestamp text, and records carry no caller, thread
or process fields (no line shows them)."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from metas_kit.context import current_request_id

_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}
# json.dumps with options builds a new encoder per call; one is enough (it keeps no state between calls).
_encode = json.JSONEncoder(default=str, ensure_ascii=False).encode


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        self._second = -1
        self._second_text = ""

    def timestamp(self, created: float) -> str:
        """ISO 8601 in UTC with milliseconds, as datetime.isoformat(timespec="milliseconds") writes it."""
        second = int(created)
        micros = round((created - second) * 1e6)  # datetime rounds to the microsecond (half even), then cuts
        if micros >= 1_000_000:
            second, micros = second + 1, micros - 1_000_000
        if second != self._second:
            self._second, self._second_text = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._second_text}.{micros // 1000:03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.timestamp(record.created),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": current_request_id(),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and key[0] != "_":
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _encode(entry)


def configure_logging(service: str, level: str = "INFO", json_logs: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(service) if json_logs else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # No formatter of ours writes the caller, thread or process: skip collecting them for every record (the
    # logging documentation's "Optimization" settings).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # uvicorn's access log duplicates our own request log line.
    logging.getLogger("uvicorn.access").disabled = True
