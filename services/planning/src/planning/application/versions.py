"""Plan lifecycle: import, draft edits, approval and revision, each audited in the request's transaction.

A plan has numbered versions. A version is a draft until approved; an approved version is
immutable; revising it copies it into a new draft. Importing a document that equals the latest
version changes nothing (idempotent); a different one replaces the open draft or, when the latest
version is approved, opens a new draft.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from metas_kit.audit import record_audit
from metas_kit.auth import Principal
from metas_kit.errors import Conflict, Forbidden, NotFound, PreconditionFailed, PreconditionRequired, ValidationFailed
from planning.application.reads import PLANNERS, get_version_or_404, plan_for_planning
from planning.db import repositories as repo
from planning.db.models import AuditEvent, Plan, PlanVersion
from planning.db.repositories import APPROVED, DRAFT
from planning.domain.document import PlanDocument, content_hash, dump_document
from planning.domain.items import add_item, patch_item, remove_item, summary
from planning.domain.validation import ValidationReport, check_document
from planning.metrics import PLAN_REJECTIONS, PLAN_WRITES

Action = Literal["create", "new_version", "replace_draft", "unchanged"]


class PlanInvalid(ValidationFailed):
    """The plan document has errors; ``errors`` and ``warnings`` list every finding by path."""

    type_slug, title = "plan-invalid", "Invalid plan document"


def version_etag(plan_id: str, number: int, digest: str) -> str:
    return f'"{plan_id}-v{number}-{digest[:24]}"'


def _findings(report: ValidationReport) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    return [e.as_dict() for e in report.errors], [w.as_dict() for w in report.warnings]


def validated(data: Any) -> tuple[PlanDocument, list[dict[str, str]]]:
    """The parsed document and its warnings, or PlanInvalid with every error."""
    doc, report = check_document(data)
    errors, warnings = _findings(report)
    if doc is None or errors:
        plan_id = data.get("plan", {}).get("id") if isinstance(data, dict) else None
        known = isinstance(plan_id, str) and len(plan_id) <= 64
        PLAN_REJECTIONS.labels(plan_id if known and doc is not None else "<invalid>").inc()
        raise PlanInvalid(errors, f"The plan document has {len(errors)} error(s).", warnings=warnings)
    return doc, warnings


@dataclass
class ImportResult:
    plan_id: str
    version: int
    status: str
    action: Action
    dry_run: bool
    etag: str
    summary: dict[str, int]
    warnings: list[dict[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "version": self.version,
            "status": self.status,
            "action": self.action,
            "changed": self.changed,
            "created": self.action == "create",
            "dry_run": self.dry_run,
            "etag": self.etag,
            "summary": self.summary,
            "warnings": self.warnings,
        }


def _check_if_match(if_match: str | None, current: str, *, required: bool) -> None:
    if if_match is None:
        if required:
            raise PreconditionRequired(
                "Send If-Match with the version's ETag, so concurrent edits cannot overwrite each other."
            )
        return
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    if "*" not in tags and current not in tags:
        raise PreconditionFailed(
            "The version changed since you read it; read it again and reapply your change.",
            extra={"current_etag": current},
        )


# The audit trail's `entity.verb` name of each write (the metric keeps the short name).
AUDIT_ACTIONS = {
    "import": "plan.import",
    "replace": "plan.replace",
    "approve": "plan.approve",
    "revise": "plan.revise",
    "patch": "plan_item.update",
    "add_item": "plan_item.create",
    "remove_item": "plan_item.delete",
}


async def _audit(
    session: AsyncSession, who: Principal, action: str, plan: Plan, number: int, changes: dict[str, Any]
) -> None:
    plan_id = plan.id
    PLAN_WRITES.labels(plan_id, str(changes.get("action", action))).inc()
    await record_audit(
        session,
        AuditEvent,
        who,
        organisation=plan.organisation_code,
        action=AUDIT_ACTIONS[action],
        entity_type="plan_version",
        entity_id=f"{plan_id}/v{number}",
        changes=changes,
    )


async def import_document(
    session: AsyncSession,
    data: Any,
    who: Principal,
    *,
    dry_run: bool = False,
    if_match: str | None = None,
) -> ImportResult:
    doc, warnings = validated(data)
    dumped = dump_document(doc)
    digest = content_hash(doc)
    plan_id = doc.plan.id
    organisation = doc.organisation.code
    if not who.can(PLANNERS, organisation):
        raise Forbidden(f"Importing a plan of {organisation!r} needs the planner role for that organisation.")
    plan = await repo.get_plan(session, plan_id, for_update=not dry_run)
    counts = summary(dumped)
    if plan is not None and plan.organisation_code != organisation:
        # Plan ids are unique across the installation; a plan never changes organisation (tenancy follows it).
        raise Conflict(f"Plan id {plan_id!r} is taken by a plan of another organisation; choose another id.")

    if plan is None:
        action: Action = "create"
        number, status = 1, DRAFT
    else:
        if plan.framework != doc.plan.framework.value:
            raise Conflict(
                f"Plan {plan_id} is a {plan.framework} plan; a document cannot change its framework.",
            )
        latest = await repo.get_version(session, plan_id, plan.latest_version)
        assert latest is not None
        if latest.content_hash == digest:
            return ImportResult(
                plan_id, latest.number, latest.status, "unchanged", dry_run, latest.etag, counts, warnings
            )
        if latest.status == DRAFT:
            _check_if_match(if_match, latest.etag, required=False)
            action, number, status = "replace_draft", latest.number, DRAFT
        else:
            action, number, status = "new_version", latest.number + 1, DRAFT
    etag = version_etag(plan_id, number, digest)
    result = ImportResult(plan_id, number, status, action, dry_run, etag, counts, warnings)
    if dry_run:
        return result

    org, org_before = await repo.upsert_organisation(session, dumped["organisation"])
    if org_before is not None:
        await record_audit(
            session,
            AuditEvent,
            who,
            organisation=org.code,
            action="organisation.create" if org_before == {} else "organisation.update",
            entity_type="organisation",
            entity_id=org.code,
            before=org_before or None,
            after={"name": org.name, "acronym": org.acronym, "country": org.country},
        )
    try:
        if plan is None:
            plan = await repo.add_plan(
                session,
                Plan(
                    id=plan_id,
                    organisation_code=doc.organisation.code,
                    framework=doc.plan.framework.value,
                    cycle_year=doc.plan.cycle_year,
                    title=doc.plan.title,
                    current_version=None,
                    latest_version=1,
                ),
            )
        if action == "replace_draft":
            latest_etag = (await repo.get_version(session, plan_id, number)).etag  # type: ignore[union-attr]
            if not await repo.update_document_if_match(
                session,
                plan_id,
                number,
                expected_etag=latest_etag,
                document=dumped,
                content_hash=digest,
                etag=etag,
                warnings=warnings,
            ):
                raise PreconditionFailed("The draft changed during the import; import again.")
        else:
            await repo.add_version(
                session,
                PlanVersion(
                    plan_id=plan_id,
                    number=number,
                    status=DRAFT,
                    document=dumped,
                    content_hash=digest,
                    etag=etag,
                    warnings=warnings,
                    based_on=None if action == "create" else number - 1,
                    created_by=who.sub,
                ),
            )
        plan.latest_version = number
        plan.title = doc.plan.title
        plan.cycle_year = doc.plan.cycle_year
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"Plan {plan_id} was changed by a concurrent import; import again.") from exc
    await _audit(session, who, "import", plan, number, {"action": action, "content_hash": digest, "counts": counts})
    return result


async def _draft_for_edit(session: AsyncSession, who: Principal, plan_id: str, number: int | None) -> PlanVersion:
    # Lock the plan row first (PostgreSQL), as approve/revise/import do: one lock order, no deadlock.
    await plan_for_planning(session, who, plan_id)
    if number is None:
        draft = await repo.latest_draft(session, plan_id)
        if draft is None:
            raise Conflict(f"Plan {plan_id!r} has no draft version; revise the approved version first.")
        return draft
    version = await get_version_or_404(session, plan_id, number)
    if version.status != DRAFT:
        raise Conflict(f"Version {number} of {plan_id!r} is {version.status}; only drafts can change.")
    return version


async def _write_draft(
    session: AsyncSession,
    version: PlanVersion,
    data: Any,
    who: Principal,
    *,
    if_match: str | None,
    action: str,
    changes: dict[str, Any],
) -> PlanVersion:
    _check_if_match(if_match, version.etag, required=True)
    doc, warnings = validated(data)
    if doc.plan.id != version.plan_id:
        raise PlanInvalid(
            [{"path": "plan.id", "code": "plan_id_mismatch", "message": f"must stay {version.plan_id!r}"}]
        )
    plan = await repo.get_plan(session, version.plan_id)  # already locked by _draft_for_edit
    assert plan is not None
    if doc.plan.framework.value != plan.framework:
        raise PlanInvalid([{"path": "plan.framework", "code": "framework_mismatch", "message": "cannot change"}])
    if doc.organisation.code != plan.organisation_code:  # a plan never changes tenant
        raise PlanInvalid([{"path": "organisation.code", "code": "organisation_mismatch", "message": "cannot change"}])
    digest = content_hash(doc)
    if digest == version.content_hash:
        # Nothing changed (e.g. a PATCH with the values already there): no write, no audit event, same ETag.
        return version
    etag = version_etag(version.plan_id, version.number, digest)
    expected = version.etag
    if not await repo.update_document_if_match(
        session,
        version.plan_id,
        version.number,
        expected_etag=expected,
        document=dump_document(doc),
        content_hash=digest,
        etag=etag,
        warnings=warnings,
    ):
        raise PreconditionFailed("The version changed since you read it; read it again and reapply your change.")
    plan.title = doc.plan.title
    await _audit(
        session,
        who,
        action,
        plan,
        version.number,
        {**changes, "content_hash": [version.content_hash, digest]},
    )
    await repo.refresh(session, version)
    return version


async def replace_document(
    session: AsyncSession, plan_id: str, number: int, data: Any, who: Principal, *, if_match: str | None
) -> PlanVersion:
    version = await _draft_for_edit(session, who, plan_id, number)
    return await _write_draft(session, version, data, who, if_match=if_match, action="replace", changes={})


async def patch_document_item(
    session: AsyncSession,
    plan_id: str,
    collection: str,
    code: str,
    patch: dict[str, Any],
    who: Principal,
    *,
    number: int | None,
    if_match: str | None,
) -> tuple[PlanVersion, dict[str, Any]]:
    version = await _draft_for_edit(session, who, plan_id, number)
    if "code" in patch and patch["code"] != code:
        raise PlanInvalid([{"path": "code", "code": "immutable", "message": "an item's code cannot change"}])
    patched = patch_item(version.document, collection, code, patch)
    if patched is None:
        raise NotFound(f"No {collection[:-1]} {code!r} in version {version.number} of {plan_id!r}.")
    document, before, after = patched
    changes = {
        "item": f"{collection}/{code}",
        "fields": {
            k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)
        },
    }
    version = await _write_draft(session, version, document, who, if_match=if_match, action="patch", changes=changes)
    return version, after


async def add_document_item(
    session: AsyncSession,
    plan_id: str,
    collection: str,
    item: dict[str, Any],
    who: Principal,
    *,
    number: int | None,
    if_match: str | None,
) -> PlanVersion:
    version = await _draft_for_edit(session, who, plan_id, number)
    try:
        document, _key = add_item(version.document, collection, item)
    except KeyError as exc:
        raise PlanInvalid(
            [{"path": "kind", "code": "schema", "message": "strategic_objective or operational_objective"}]
        ) from exc
    changes = {"item": f"{collection}/{item.get('code')}", "created": item}
    return await _write_draft(session, version, document, who, if_match=if_match, action="add_item", changes=changes)


async def remove_document_item(
    session: AsyncSession,
    plan_id: str,
    collection: str,
    code: str,
    who: Principal,
    *,
    number: int | None,
    if_match: str | None,
) -> PlanVersion:
    version = await _draft_for_edit(session, who, plan_id, number)
    removed = remove_item(version.document, collection, code)
    if removed is None:
        raise NotFound(f"No {collection[:-1]} {code!r} in version {version.number} of {plan_id!r}.")
    document, item = removed
    changes = {"item": f"{collection}/{code}", "deleted": item}
    return await _write_draft(session, version, document, who, if_match=if_match, action="remove_item", changes=changes)


async def approve(
    session: AsyncSession, plan_id: str, number: int, who: Principal, *, if_match: str | None
) -> PlanVersion:
    plan = await plan_for_planning(session, who, plan_id)
    version = await get_version_or_404(session, plan_id, number)
    if version.status != DRAFT:
        raise Conflict(f"Version {number} of {plan_id!r} is {version.status}, not a draft.")
    _check_if_match(if_match, version.etag, required=True)
    if not await repo.set_status_if_match(
        session, plan_id, number, expected_etag=version.etag, status=APPROVED, by=who.sub
    ):
        raise PreconditionFailed("The version changed since you read it; read it again.")
    previous = plan.current_version
    if previous is not None and previous != number:
        await repo.supersede(session, plan_id, previous)
    plan.current_version = number
    await session.flush()
    await _audit(session, who, "approve", plan, number, {"status": [DRAFT, APPROVED], "superseded": previous})
    await repo.refresh(session, version)
    return version


async def revise(session: AsyncSession, plan_id: str, number: int, who: Principal) -> PlanVersion:
    plan = await plan_for_planning(session, who, plan_id)
    source = await get_version_or_404(session, plan_id, number)
    if source.status != APPROVED:
        raise Conflict(f"Only the approved version can be revised; version {number} is {source.status}.")
    if await repo.latest_draft(session, plan_id) is not None:
        raise Conflict(f"Plan {plan_id!r} already has a draft version; edit it instead.")
    new_number = plan.latest_version + 1
    draft = await repo.add_version(
        session,
        PlanVersion(
            plan_id=plan_id,
            number=new_number,
            status=DRAFT,
            document=source.document,
            content_hash=source.content_hash,
            etag=version_etag(plan_id, new_number, source.content_hash),
            warnings=source.warnings,
            based_on=number,
            created_by=who.sub,
        ),
    )
    plan.latest_version = new_number
    await session.flush()
    await _audit(session, who, "revise", plan, new_number, {"based_on": number})
    return draft
