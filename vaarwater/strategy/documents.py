"""Storing strategy documents as versions, and finding the version that applies on a day."""

import hashlib
from datetime import date
from pathlib import Path

from django.db import transaction
from django.db.models import Max

from vaarwater.core.events import Actor, event_record

from .models import Case, CaseStatus, StrategyVersion
from .schema import Strategy, document_parse

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
# The shipped strategy a creditor starts on, by sector, until it loads its own.
SHIPPED_BY_SECTOR = {"energy": "energy.yaml", "water": "energy.yaml", "housing": "housing.yaml"}
SHIPPED_DEFAULT = "generic.yaml"
SHIPPED_VALID_FROM = date(2000, 1, 1)  # a shipped default applies until a loaded version does

_parsed: dict[tuple[int, str], Strategy] = {}


def version_strategy(version: StrategyVersion) -> Strategy:
    """The parsed document of a stored version (cached: versions never change)."""
    key = (version.pk, version.sha256)  # ids can come back after a rollback; contents can't
    strategy = _parsed.get(key)
    if strategy is None:
        strategy = _parsed[key] = Strategy.model_validate(version.document)
    return strategy


def shipped_path(sector: str) -> Path:
    return SHIPPED_DIR / SHIPPED_BY_SECTOR.get(sector, SHIPPED_DEFAULT)


def strategy_load(
    *,
    creditor,
    text: str,
    source: str,
    valid_from: date,
    actor: Actor | None = None,
    shipped: bool = False,
) -> StrategyVersion:
    """Validate a document and store it as the creditor's next version, applying from a day.

    Raises ``StrategyInvalid`` (nothing stored) when the document has problems.
    """
    doc = document_parse(text, source=source)
    actor = actor or Actor.system()
    with transaction.atomic():
        # Lock the creditor row so that two loads never get the same number.
        type(creditor).objects.select_for_update().filter(pk=creditor.pk).first()
        number = (
            StrategyVersion.objects.filter(creditor=creditor).aggregate(n=Max("number"))["n"] or 0
        ) + 1
        version = StrategyVersion.objects.create(
            creditor=creditor,
            name=doc.strategy,
            number=number,
            title=doc.title,
            valid_from=valid_from,
            document=doc.model_dump(mode="json"),
            source_text=text,
            source_name=source,
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            shipped=shipped,
            loaded_by=actor.label,
        )
        event_record(
            creditor=creditor,
            verb="strategy.loaded",
            actor=actor,
            subject=version,
            reason=(
                f"strategie {version.label} ({'meegeleverd' if shipped else source}) "
                f"geldt vanaf {valid_from:%d-%m-%Y}"
            ),
            data={"number": number, "name": doc.strategy, "valid_from": valid_from.isoformat()},
        )
    return version


def current_version(creditor, on: date) -> StrategyVersion:
    """The version that applies to cases opened on ``on``; the shipped one if none was loaded."""
    version = (
        StrategyVersion.objects.filter(creditor=creditor, valid_from__lte=on)
        .order_by("-valid_from", "-number")
        .first()
    )
    if version is not None:
        return version
    return shipped_version_load(creditor)


def shipped_version_load(creditor) -> StrategyVersion:
    """Store the shipped strategy for the creditor's sector as its next version."""
    path = shipped_path(creditor.sector)
    return strategy_load(
        creditor=creditor,
        text=path.read_text(encoding="utf-8"),
        source=f"shipped/{path.name}",
        valid_from=SHIPPED_VALID_FROM,
        shipped=True,
    )


def open_cases_on_other_versions(version: StrategyVersion) -> dict[str, int]:
    """Active cases of the creditor that stay on an earlier version, counted per version."""
    rows = (
        Case.objects.filter(creditor_id=version.creditor_id)
        .exclude(status=CaseStatus.CLOSED)
        .exclude(strategy_version=version)
        .values_list("strategy_version__name", "strategy_version__number")
    )
    counts: dict[str, int] = {}
    for name, number in rows:
        key = f"{name} v{number}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def creditor_settings(creditor, *, case=None, on: date | None = None):
    """The strategy settings that apply: the case's own version, else the creditor's current."""
    if case is not None and case.strategy_version_id:
        return version_strategy(case.strategy_version).settings
    return version_strategy(current_version(creditor, on or date.today())).settings
