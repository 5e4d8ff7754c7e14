"""A real SMTP server for the reminder tests (aiosmtpd on a free loopback port, in its own thread), reading back
every message it accepted; and the people of the tests, as the accounts service's admin API takes them."""

from __future__ import annotations

import email
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """aiosmtpd handler: keeps what it accepts; refuses (554) mail to the addresses in ``refuse``."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if set(envelope.rcpt_tos) & self.refuse:
            return "554 5.7.1 refused by the test"
        parsed = email.message_from_bytes(envelope.content, policy=default)
        with self.lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


def start_smtp(mailbox: Mailbox) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


def person(username: str, locale: str, grants: list[dict[str, Any]], name: str | None = None) -> dict[str, Any]:
    return {
        "username": username,
        "display_name": name or username.capitalize(),
        "email": f"{username}@example.org",
        "locale": locale,
        "password": "correct horse battery",
        "grants": grants,
    }


def registrar(org: str, *units: str) -> dict[str, Any]:
    return {"role": "registrar", "org": org, "units": list(units)}


def certifier(org: str) -> dict[str, Any]:
    return {"role": "certifier", "org": org, "units": []}


PEOPLE = [
    person("ana", "pt-BR", [registrar("ipsm", "DS")], "Ana Souza"),
    person("joao", "pt-PT", [registrar("ipsm", "DS")], "João Silva"),
    person("emma", "en", [registrar("ipsm", "DS")], "Emma Jones"),
    person("pedro", "pt-BR", [registrar("ipsm", "PROC")], "Pedro Lima"),  # mutes the plan in the tests
    person("carla", "pt-BR", [certifier("ipsm")], "Carla Dias"),
    person("rui", "pt-PT", [registrar("ii", "DS")], "Rui Costa"),  # another organisation: never an IPSM digest
    person("ines", "pt-PT", [registrar("ii", "EPD")], "Inês Moura"),  # the QUAR seed plan's EPD unit
]
