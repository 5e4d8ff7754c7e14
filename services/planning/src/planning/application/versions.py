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

from metas_kit.auth import Principal
from metas_kit.errors import Conflict, Forbidden, NotFound, PreconditionFailed, PreconditionRequired, ValidationFailed
from metas_kit.etag import if_match_passes
from metas_kit.writes import WriteContext
from planning.application.reads import PLANNERS, draft_to_edit, get_version_or_404, plan_for_planning
from planning.db import repositories as repo
from planning.db.models import Plan, PlanVersion
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


def _if_match(ctx: WriteContext) -> str | None:
    request = getattr(ctx, "request", None)
    return None if request is None else request.headers.get("if-match")


def _check_if_match(if_match: str | None, current: str, *, required: bool) -> None:
    """Checked again under the plan's row lock (the envelope checked it before the write began): of two
    writers holding the same ETag, exactly one gets through. Strong comparison; ``*`` is not accepted."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                "Send If-Match with the version's ETag, so concurrent edits cannot overwrite each other."
            )
        return
    if not if_match_passes(if_match, current):
        raise PreconditionFailed(
            "The version changed since you read it; read it again and reapply your change.",
            extra={"current_etag": current},
        )


# The audit trail's `entity.verb` of each write (the metric keeps the short name).
AUDIT_VERBS = {
    "import": ("plan", "import"),
    "replace": ("plan", "replace"),
    "approve": ("plan", "approve"),
    "revise": ("plan", "revise"),
    "patch": ("plan_item", "update"),
    "add_item": ("plan_item", "create"),
    "remove_item": ("plan_item", "delete"),
}


async def _audit(ctx: WriteContext, action: str, plan: Plan, number: int, changes: dict[str, Any]) -> None:
    PLAN_WRITES.labels(plan.id, str(changes.get("action", action))).inc()
    entity, verb = AUDIT_VERBS[action]
    entity_id = f"{plan.id}/v{number}"
    if entity == "plan_item":
        entity_id += f"/{changes['item']}"
    await ctx.audit(entity, entity_id, verb, changes=changes, organisation=plan.organisation_code)


async def import_document(ctx: WriteContext, data: Any, *, dry_run: bool = False) -> ImportResult:
    session, who, if_match = ctx.session, ctx.principal, _if_match(ctx)
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
            ctx.unchanged()
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
        ctx.unchanged()
        return result

    org, org_before = await repo.upsert_organisation(session, dumped["organisation"])
    if org_before is not None:
        await ctx.audit(
            "organisation",
            org.code,
            "create" if org_before == {} else "update",
            organisation=org.code,
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
    await _audit(ctx, "import", plan, number, {"action": action, "content_hash": digest, "counts": counts})
    return result


async def _draft_for_edit(session: AsyncSession, who: Principal, plan_id: str, number: int | None) -> PlanVersion:
    # Lock the plan row first (PostgreSQL), as approve/revise/import do: one lock order, no deadlock.
    await plan_for_planning(session, who, plan_id)
    return await draft_to_edit(session, plan_id, number)


async def _write_draft(
    ctx: WriteContext,
    version: PlanVersion,
    data: Any,
    *,
    action: str,
    changes: dict[str, Any],
) -> PlanVersion:
    session = ctx.session
    _check_if_match(_if_match(ctx), version.etag, required=True)
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
        ctx.unchanged()
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
        ctx,
        action,
        plan,
        version.number,
        {**changes, "content_hash": [version.content_hash, digest]},
    )
    await repo.refresh(session, version)
    return version


async def replace_document(ctx: WriteContext, plan_id: str, number: int, data: Any) -> PlanVersion:
    version = await _draft_for_edit(ctx.session, ctx.principal, plan_id, number)
    return await _write_draft(ctx, version, data, action="replace", changes={})


async def patch_document_item(
    ctx: WriteContext,
    plan_id: str,
    collection: str,
    code: str,
    patch: dict[str, Any],
    *,
    number: int | None,
) -> tuple[PlanVersion, dict[str, Any]]:
    version = await _draft_for_edit(ctx.session, ctx.principal, plan_id, number)
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
    version = await _write_draft(ctx, version, document, action="patch", changes=changes)
    return version, after


async def add_document_item(
    ctx: WriteContext,
    plan_id: str,
    collection: str,
    item: dict[str, Any],
    *,
    number: int | None,
) -> PlanVersion:
    version = await _draft_for_edit(ctx.session, ctx.principal, plan_id, number)
    try:
        document, _key = add_item(version.document, collection, item)
    except KeyError as exc:
        raise PlanInvalid(
            [{"path": "kind", "code": "schema", "message": "strategic_objective or operational_objective"}]
        ) from exc
    changes = {"item": f"{collection}/{item.get('code')}", "created": item}
    return await _write_draft(ctx, version, document, action="add_item", changes=changes)


async def remove_document_item(
    ctx: WriteContext,
    plan_id: str,
    collection: str,
    code: str,
    *,
    number: int | None,
) -> PlanVersion:
    version = await _draft_for_edit(ctx.session, ctx.principal, plan_id, number)
    removed = remove_item(version.document, collection, code)
    if removed is None:
        raise NotFound(f"No {collection[:-1]} {code!r} in version {version.number} of {plan_id!r}.")
    document, item = removed
    changes = {"item": f"{collection}/{code}", "deleted": item}
    return await _write_draft(ctx, version, document, action="remove_item", changes=changes)


async def approve(ctx: WriteContext, plan_id: str, number: int, *, expected_etag: str | None = None) -> PlanVersion:
    """Approve a draft; ``expected_etag`` stands for If-Match where there is no request (the seed loader)."""
    session, who, if_match = ctx.session, ctx.principal, expected_etag or _if_match(ctx)
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
    await _audit(ctx, "approve", plan, number, {"status": [DRAFT, APPROVED], "superseded": previous})
    await repo.refresh(session, version)
    return version


async def revise(ctx: WriteContext, plan_id: str, number: int) -> PlanVersion:
    session, who = ctx.session, ctx.principal
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
    await _audit(ctx, "revise", plan, new_number, {"based_on": number})
    return draft
