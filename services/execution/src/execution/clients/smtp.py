"""Outgoing mail over SMTP (stdlib smtplib, run in a worker thread so the event loop never blocks on the
network): host, port, security (STARTTLS, implicit TLS or none — the last only for a relay on loopback),
credentials and timeout from the settings."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

Security = Literal["starttls", "tls", "none"]


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    security: Security
    username: str | None
    password: str | None
    timeout: float

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.security == "tls":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.security == "starttls":
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)
