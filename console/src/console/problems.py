"""Problems from the API (problem+json) told in the person's language, each next to the field it concerns."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from console.gateway import ApiProblem
from console.i18n import N_

Gettext = Callable[..., str]

# Field messages of the API, recognised by their English text; anything else is shown as the API wrote it.
FIELD_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^expected a plain decimal.*out of range"), N_("This number is too large.")),
    (re.compile(r"^expected a plain decimal"), N_("This is not a number.")),
    (re.compile(r"is not a (finite )?number"), N_("This is not a number.")),
    (re.compile(r"must be between 0 and 100"), N_("Give a percentage between 0 and 100.")),
    (re.compile(r"give either value or numerator"), N_("Give a value, or a numerator and a denominator.")),
    (re.compile(r"numerator and denominator go together"), N_("Give both the numerator and the denominator.")),
    (re.compile(r"denominator must not be zero"), N_("The denominator cannot be zero.")),
    (re.compile(r"completeness must be"), N_("Choose none, partial or full.")),
    (re.compile(r"delivered_on is not an ISO date"), N_("This is not a date.")),
    (re.compile(r"delivered_on needs completeness"), N_("A delivery date needs a partial or full delivery.")),
    (re.compile(r"delivery needs delivered_on"), N_("A partial or full delivery needs its delivery date.")),
    (re.compile(r"delivery needs evidence"), N_("A partial or full delivery needs its evidence.")),
    (re.compile(r"give cumulative_percent or sub_activities"), N_("Give the progress made so far.")),
    (re.compile(r"disagrees with the sub-activities"), N_("The total disagrees with the sub-activities.")),
    (re.compile(r"^Field required"), N_("This field is required.")),
    (re.compile(r"at most \d+ characters"), N_("This text is too long.")),
    (re.compile(r"at least 1 character"), N_("This field is required.")),
    (re.compile(r"valid datetime|valid date"), N_("This is not a date.")),
]
# Payload fields a message may name when the API's path is only "payload".
PAYLOAD_FIELDS = (
    "numerator",
    "denominator",
    "multiplier",
    "value",
    "cumulative_percent",
    "sub_activities",
    "completeness",
    "delivered_on",
    "evidence",
    "note",
)


@dataclass
class Told:
    """A problem as the page shows it: one message at the top, messages by form field, and whether to offer
    a reload (the data changed underneath the person)."""

    message: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    reload: bool = False
    rows: dict[int, list[str]] = field(default_factory=dict)


def field_of(path: str, message: str) -> str:
    """The form field an API error path points at ("payload.value", "registrations[3].payload.value",
    "payload" + a message naming the field, "until", "reason")."""
    # Pydantic's errors name the request part first ("body.reason"); the application's name the field only.
    tail = re.sub(r"^registrations\[\d+\]\.?", "", re.sub(r"^body\.", "", path))
    if tail.startswith("payload."):
        return tail.removeprefix("payload.").split(".")[0].split("[")[0]
    if tail in ("payload", ""):
        for name in PAYLOAD_FIELDS:
            if re.search(rf"\b{name}\b", message):
                return name
        return "value" if tail == "payload" else ""
    return tail.split(".")[0].split("[")[0]  # "grants[0].org" → grants, "until" → until


def field_message(gettext: Gettext, message: str) -> str:
    for pattern, msgid in FIELD_MESSAGES:
        if pattern.search(message):
            return gettext(msgid)
    return message


def tell(problem: ApiProblem, gettext: Gettext, number: Callable[[Any], str] = str) -> Told:
    body = problem.problem
    kind = str(body.get("type", "")).rsplit("/", 1)[-1]
    status = problem.status
    if status == 412 or kind == "precondition-failed":
        return Told(
            gettext("Someone else changed this since you opened it, so your change was not saved."), reload=True
        )
    if kind == "period-closed":
        reason = body.get("reason")
        period = str(body.get("period") or "")
        if reason == "locked":
            text = gettext(
                "The period %(period)s is locked (it has been evaluated): nothing can change in it.", period=period
            )
        else:
            text = gettext(
                "The period %(period)s is closed: its registration window is over. "
                "A planner can grant a lock exception.",
                period=period,
            )
        return Told(text, reload=True)
    if kind == "evidence-required":
        text = gettext(
            "%(item)s for %(period)s cannot be certified without evidence: the plan requires “%(source)s” "
            "and no file is attached.",
            item=str(body.get("item_code") or ""),
            period=str(body.get("period") or ""),
            source=str(body.get("source") or ""),
        )
        return Told(text)
    if kind == "justification-required":
        text = justification_message(gettext, body.get("justification_band"), number)
        return Told(gettext("This value needs a justification; nothing was saved."), {"justification": [text]})
    if kind == "period-open":
        return Told(gettext("This period is open (or already reopened) for it: register directly."))
    if kind == "duplicate-unlock-request":
        return Told(gettext("A request to reopen this is already waiting for a planner."))
    if kind == "unlock-request-decided":
        return Told(gettext("This request was already decided by someone else."), reload=True)
    if kind == "illegal-transition":
        state = str(body.get("state", "?"))
        text = gettext("This registration is no longer awaiting that action (it is now %(state)s).", state=state)
        return Told(text, reload=True)
    if status == 409:
        return Told(gettext("This conflicts with a change made meanwhile; nothing was saved."), reload=True)
    if status == 422:
        told = Told(gettext("Some values need fixing; nothing was saved."))
        for error in problem.errors:
            path = str(error.get("path", ""))
            message = field_message(gettext, str(error.get("message", "")))
            if error.get("type") == "justification_required":
                message = justification_message(gettext, body.get("justification_band"), number)
            row = error.get("row")
            if isinstance(row, int):
                told.rows.setdefault(row, []).append(message)
            else:
                told.fields.setdefault(field_of(path, str(error.get("message", ""))), []).append(message)
        return told
    if status == 401:
        return Told(gettext("Your session has ended. Sign in again."))
    if status == 403:
        return Told(gettext("You are not allowed to do this."))
    if status == 404:
        return Told(gettext("Not found, or not visible to you."))
    if status == 429:
        wait = str(body.get("retry_after", "?"))
        return Told(gettext("Too many attempts. Wait %(seconds)s seconds and try again.", seconds=wait))
    if status == 428:
        return Told(gettext("This needs the version you saw; reload and try again."), reload=True)
    return Told(gettext("A service did not answer as expected; nothing was changed. Try again shortly."))


def justification_message(gettext: Gettext, band: Any, number: Callable[[Any], str] = str) -> str:
    """Why a justification is asked for, with the band's bounds when the API sent them (`number` writes them in
    the page's language)."""
    low = band.get("min") if isinstance(band, dict) else None
    high = band.get("max") if isinstance(band, dict) else None
    low, high = (None if v is None else number(v) for v in (low, high))
    if low is not None and high is not None:
        return gettext(
            "Outside the expected range (%(min)s to %(max)s): say why in the justification.", min=low, max=high
        )
    if low is not None:
        return gettext("Below %(min)s, short of the target: say why in the justification.", min=low)
    if high is not None:
        return gettext("Above %(max)s, short of the target: say why in the justification.", max=high)
    return gettext("This value deviates from the target: say why in the justification.")


def describe(body: dict[str, Any]) -> str:
    return str(body.get("detail") or body.get("title") or "")
