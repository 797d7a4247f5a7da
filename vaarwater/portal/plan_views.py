"""Payment plan in the portal: tell us what you can afford, choose a plan that fits, choose how
to pay, agree; or promise to pay an amount by a date.

Pages (all under ``/p/<token>/regeling/``):

- ``portal:plan`` — the active plan with its instalments and how to pay them; else two ways to
  tell what the household can afford: answer a few questions, or upload bank data (PSD2 JSON);
- ``portal:plan_options`` (``keuze/``) — the monthly capacity with its explanation and the plans
  that fit (2-4, plus an amount of one's own when the creditor allows it);
- ``portal:plan_method`` (``betalen/``) — bank transfer, a payment link before each payment, or
  SEPA direct debit (IBAN, account holder, consent to the mandate);
- ``portal:plan_confirm`` (``bevestigen/``) — the schedule once more, then agree;
- ``portal:plan_done`` (``klaar/``) — the plan as agreed, "we sent you a confirmation";
- ``portal:plan_promise`` (``belofte/``) — "I will pay € X on day Y".

What was chosen between the steps is kept in the session under the personal link (the
assessment's id, the option's key, the method). Amounts are never read back from a form: every
step recomputes the options with ``case_options`` and looks the choice up by ``Option.key``, so a
tampered or stale choice is refused, and an option that does not fit is never accepted.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from vaarwater.arrangements import selectors as plans
from vaarwater.arrangements import services as plan_services
from vaarwater.arrangements.affordability import (
    AffordabilityError,
    assessment_from_answers,
)
from vaarwater.arrangements.models import Assessment, PayMethod
from vaarwater.arrangements.proposals import Option, ProposalError, covered, custom_option
from vaarwater.arrangements.psd2 import Psd2Error, assessment_from_psd2
from vaarwater.arrangements.selectors import arrangement_replaceable as replaceable
from vaarwater.core.money import format_eur
from vaarwater.payments.sepa import SepaError, creditor_sepa, mandate_create

from . import selfservice as ss
from .access import portal_view
from .plan_forms import (
    EXPLANATION_LABELS,
    HOUSEHOLD_LABELS,
    METHOD_TEXT,
    PSD2_COUNTED,
    PSD2_KINDS,
    AnswersForm,
    BankForm,
    MethodForm,
    OptionForm,
    PromiseForm,
    answers_of,
    apply_error,
    language,
    psd2_message,
)


def _page(request, template: str, context: dict):
    p = request.portal
    return TemplateResponse(
        request,
        template,
        {"debtor": p.debtor, "creditor": p.creditor, "case": p.case, **context},
    )


def _go(request, name: str):
    return redirect(reverse(f"portal:{name}", args=[request.portal.token]))


def _open_case(portal):
    case = portal.case
    return case if case is not None and case.status != "closed" else None


def _state_key(portal) -> str:
    return f"plan-{portal.access.pk}-{portal.case.pk if portal.case else 0}"


def _state(request) -> dict:
    return dict(request.session.get(_state_key(request.portal)) or {})


def _state_set(request, **changes) -> None:
    state = _state(request)
    state.update(changes)
    request.session[_state_key(request.portal)] = state


def _state_clear(request) -> None:
    request.session.pop(_state_key(request.portal), None)


def explanation_rows(assessment: Assessment) -> list[dict]:
    """The assessment's reckoning, line by line, in the visitor's language."""
    return [
        {
            "label": EXPLANATION_LABELS.get(line.get("label", ""), line.get("label", "")),
            "cents": line.get("cents", 0),
        }
        for line in assessment.explanation or []
        if isinstance(line, dict)
    ]


def psd2_rows(assessment: Assessment) -> list[dict]:
    """What the bank data showed, per kind of income or cost (a PSD2 assessment's summary)."""
    summary = (assessment.data or {}).get("psd2") or {}
    rows = []
    for line in summary.get("lines") or []:
        if not isinstance(line, dict) or line.get("category") not in PSD2_COUNTED:
            continue
        rows.append(
            {
                "category": line["category"],
                "label": PSD2_KINDS.get(line.get("kind"), line.get("label", "")),
                "counterparty": line.get("counterparty", ""),
                "monthly_cents": line.get("monthly_cents", 0),
                "count": line.get("count", 0),
            }
        )
    return rows


def schedule_rows(option: Option) -> list[dict]:
    return [
        {"number": n, "due_on": d, "amount_cents": a}
        for n, (a, d) in enumerate(zip(option.amounts, option.due_dates, strict=True), start=1)
    ]


def schedule_signature(option: Option) -> str:
    """The schedule as the confirmation page showed it (dates, amounts, waiver), to notice on
    agreeing that it changed meanwhile (a payment came in, a day passed)."""
    parts = [
        f"{day.isoformat()}:{cents}"
        for cents, day in zip(option.amounts, option.due_dates, strict=True)
    ]
    return f"{option.key};{option.waived_costs_cents};" + ",".join(parts)


def option_card(option: Option) -> dict:
    """What a radio card says about an option."""
    return {
        "key": option.key,
        "kind": option.kind,
        "count": option.count,
        "amount_cents": option.amounts[0],
        "last_cents": option.amounts[-1],
        "same_amounts": len(set(option.amounts)) == 1,
        "first": option.due_dates[0],
        "last": option.due_dates[-1],
        "total_cents": option.total_cents,
        "waived_cents": option.waived_costs_cents,
    }


@dataclass
class Flow:
    """The plan being made: the case, the household's assessment and what fits."""

    case: object
    assessment: Assessment
    policy: object
    options: list[Option]
    today: date

    def find(self, key: str) -> Option | None:
        """The option behind a key, recomputed: one of the offered ones, or an own amount
        that fits; None for anything else."""
        for option in self.options:
            if option.key == key:
                return option
        if key.startswith("custom-") and self.policy.allow_custom:
            try:
                cents = int(key.removeprefix("custom-"))
            except ValueError:
                return None
            try:
                return self.custom(cents)
            except ProposalError:
                return None
        return None

    def custom(self, instalment_cents: int) -> Option:
        """An own amount per month; ProposalError when it does not fit."""
        option = custom_option(
            debt=plan_services.debt_of(self.case),
            capacity_cents=self.assessment.capacity_cents,
            payday=plan_services.payday_of(self.case.debtor, assessment=self.assessment),
            policy=self.policy,
            on=self.today,
            instalment_cents=instalment_cents,
        )
        if not option.fits:
            raise ProposalError(option.reason)
        return option

    def custom_possible(self) -> bool:
        """Whether some own amount could fit (the largest the household can pay)."""
        if not self.policy.allow_custom or self.assessment.capacity_cents <= 0:
            return False
        debt = plan_services.debt_of(self.case)
        cents = min(self.assessment.capacity_cents, debt.total_cents)
        try:
            self.custom(cents)
        except (ProposalError, ValueError):
            return False
        return True


def _flow(request) -> Flow | None:
    """The plan being made from the session, recomputed for today; None when there is none."""
    p = request.portal
    case = _open_case(p)
    if case is None:
        return None
    assessment_id = _state(request).get("assessment")
    assessment = (
        Assessment.objects.filter(pk=assessment_id, debtor=p.debtor, case=case).first()
        if assessment_id
        else None
    )
    if assessment is None:
        return None
    today = timezone.localdate()
    options = [
        o for o in plan_services.case_options(case=case, assessment=assessment, on=today) if o.fits
    ]
    return Flow(
        case=case,
        assessment=assessment,
        policy=plan_services.policy_of(case),
        options=options,
        today=today,
    )


def sepa_ready(creditor) -> bool:
    """Whether the creditor can collect by direct debit (creditor id, account)."""
    try:
        creditor_sepa(creditor)
    except SepaError:
        return False
    return True


def _methods(flow: Flow, creditor) -> list[str]:
    """The ways to pay the creditor offers; direct debit only when it can collect."""
    return [m for m in flow.policy.methods if m != PayMethod.SEPA or sepa_ready(creditor)]


def _chosen(request, flow: Flow | None) -> Option | None:
    key = _state(request).get("option") or ""
    return flow.find(key) if flow is not None and key else None


def _blocking_plan(case):
    """The active plan that stands in the way of a new one, if any."""
    if case is None:
        return None
    active = plans.active_arrangement(case)
    return active if active is not None and not replaceable(active) else None


def plan_view_context(arrangement, *, today: date) -> dict:
    """An agreed plan for the page: instalments with their status, progress, the next one and
    the payment link for it."""
    paid_count, count, paid_cents, total_cents = plans.arrangement_progress(arrangement)
    instalments = list(arrangement.instalments.select_related("payment_link").order_by("number"))
    upcoming = [i for i in instalments if i.status != "paid"]
    next_one = upcoming[0] if upcoming else None
    link = None
    if (
        next_one is not None
        and arrangement.method == PayMethod.LINK
        and next_one.payment_link is not None
        and next_one.payment_link.revoked_at is None
        and next_one.payment_link.expires_on >= today
    ):
        link = reverse("payments:link", args=[next_one.payment_link.code])
    mandate = arrangement.mandate if arrangement.mandate_id else None
    return {
        "arrangement": arrangement,
        "instalments": instalments,
        "paid_count": paid_count,
        "count": count,
        "paid_cents": paid_cents,
        "total_cents": total_cents,
        "left_cents": max(total_cents - paid_cents, 0),
        "next": next_one,
        "next_link": link,
        "iban_end": mandate.iban[-4:] if mandate else "",
    }


# -- start: the active plan, or two ways to tell what fits ------------------------------------


@portal_view
@require_http_methods(["GET", "POST"])
def plan(request):
    """Show the active plan; else ask what the household can afford (answers or bank data).

    A plan with a missed instalment may be replaced: then both are shown."""
    p = request.portal
    case = _open_case(p)
    today = timezone.localdate()
    context = {
        "state": "no_case",
        "answers": AnswersForm(prefix="antw", initial={"payday_day": p.debtor.payday_day}),
        "bank": BankForm(prefix="bank"),
        "households": list(HOUSEHOLD_LABELS.items()),
        "geldfit": ss.GELDFIT,
    }
    if case is None:
        return _page(request, "portal/plan/start.html", context)
    active = plans.active_arrangement(case)
    promise = plans.open_promise(case)
    debt = plan_services.debt_of(case)
    context.update(
        {
            "promise": promise,
            "promise_allowed": active is None and promise is None,
            "debt_cents": debt.total_cents,
            "state": "ask" if debt.total_cents > 0 else "nothing_owed",
        }
    )
    if active is not None:
        context.update(plan_view_context(active, today=today))
        context["state"] = "replan" if replaceable(active) else "active"
    if context["state"] not in ("ask", "replan"):
        return _page(request, "portal/plan/start.html", context)
    action = request.POST.get("action")
    assessment = None
    if request.method == "POST" and action == "answers":
        form = context["answers"] = AnswersForm(request.POST, prefix="antw")
        if form.is_valid():
            assessment = _assess_answers(request, case, form)
    elif request.method == "POST" and action == "bank":
        form = context["bank"] = BankForm(request.POST, request.FILES, prefix="bank")
        if form.is_valid():
            assessment = _assess_bank(request, case, form)
    elif request.method == "POST":
        return _go(request, "plan")
    if assessment is not None:
        _state_clear(request)
        _state_set(request, assessment=assessment.pk)
        return _go(request, "plan_options")
    return _page(request, "portal/plan/start.html", context)


ANSWER_FIELDS = {
    "net_income_cents": "net_income",
    "net_income": "net_income",
    "household": "household",
    "payday_day": "payday_day",
    "payday": "payday_day",
    "other_instalments_cents": "other_instalments",
    "other_debts_cents": "other_debts",
}


def _assess_answers(request, case, form: AnswersForm) -> Assessment | None:
    p = request.portal
    try:
        return assessment_from_answers(
            debtor=p.debtor, case=case, source="answers", actor=p.actor, **answers_of(form)
        )
    except AffordabilityError as exc:
        apply_error(form, exc, ANSWER_FIELDS)
        return None


def _assess_bank(request, case, form: BankForm) -> Assessment | None:
    p = request.portal
    raw = form.cleaned_data["file"].read()
    try:
        return assessment_from_psd2(
            debtor=p.debtor,
            case=case,
            household=form.cleaned_data["household"],
            raw=raw,
            actor=p.actor,
        )
    except Psd2Error as exc:
        form.add_error("file", psd2_message(exc))
    except AffordabilityError:
        form.add_error(
            "file",
            _("We could not work out your income from this file. Answer the questions instead."),
        )
    return None


# -- the plans that fit ----------------------------------------------------------------------


@portal_view
@require_http_methods(["GET", "POST"])
def plan_options(request):
    """The monthly capacity and the plans that fit; choose one, or an own amount."""
    case = _open_case(request.portal)
    if _blocking_plan(case) is not None:
        return _go(request, "plan_done")
    flow = _flow(request)
    if flow is None:
        return _go(request, "plan")
    custom = flow.custom_possible()
    keys = [o.key for o in flow.options]
    form = OptionForm(keys=keys, custom=custom, prefix="keuze")
    chosen = _state(request).get("option") or ""
    if chosen:
        if chosen.startswith("custom-") and custom:
            form.initial = {"choice": "custom", "custom_amount": _amount_text(chosen)}
        elif chosen in keys:
            form.initial = {"choice": chosen}
    if request.method == "POST":
        form = OptionForm(request.POST, keys=keys, custom=custom, prefix="keuze")
        if form.is_valid():
            option = None
            if form.cleaned_data["choice"] == "custom":
                try:
                    option = flow.custom(form.cleaned_data["custom_amount"])
                except ProposalError:
                    form.add_error(
                        "custom_amount",
                        _("This amount does not fit. %(why)s") % {"why": _custom_refusal(flow)},
                    )
            else:
                option = flow.find(form.cleaned_data["choice"])
                if option is None:
                    form.add_error("choice", _("Choose one of the plans shown."))
            if option is not None:
                _state_set(request, option=option.key)
                return _go(request, "plan_method")
    least, most = custom_limits(flow) if custom else (0, 0)
    return _page(
        request,
        "portal/plan/options.html",
        {
            "flow": flow,
            "assessment": flow.assessment,
            "lines": explanation_rows(flow.assessment),
            "found": psd2_rows(flow.assessment),
            "cards": [option_card(o) for o in flow.options],
            "custom": custom,
            "custom_min": least,
            "custom_max": most,
            "nothing_fits": not flow.options and not custom,
            "form": form,
            "geldfit": ss.GELDFIT,
        },
    )


def _amount_text(key: str) -> str:
    try:
        cents = int(key.removeprefix("custom-"))
    except ValueError:
        return ""
    return f"{cents // 100},{cents % 100:02d}"


def custom_limits(flow: Flow) -> tuple[int, int]:
    """The smallest and the largest own amount a month that can fit (cents)."""
    total, _waived = covered(plan_services.debt_of(flow.case), flow.policy)
    least = max(flow.policy.min_instalment, -(-total // flow.policy.max_months))
    most = min(flow.assessment.capacity_cents, total)
    return min(least, most), most


def _custom_refusal(flow: Flow) -> str:
    """Which own amounts fit, in the visitor's language."""
    least, most = custom_limits(flow)
    lang = language()
    return str(
        _("Choose an amount of at least %(min)s and at most %(max)s a month.")
        % {
            "min": format_eur(least, language=lang),
            "max": format_eur(most, language=lang),
        }
    )


# -- how to pay --------------------------------------------------------------------------------


@portal_view
@require_http_methods(["GET", "POST"])
def plan_method(request):
    """Choose how to pay: bank transfer, a payment link each time, or direct debit."""
    p = request.portal
    if _blocking_plan(_open_case(p)) is not None:
        return _go(request, "plan_done")
    flow = _flow(request)
    option = _chosen(request, flow)
    if flow is None:
        return _go(request, "plan")
    if option is None:
        return _go(request, "plan_options")
    methods = _methods(flow, p.creditor)
    state = _state(request)
    initial = {"method": state.get("method") or (methods[0] if len(methods) == 1 else "")}
    if state.get("method") == PayMethod.SEPA:
        initial.update({"iban": state.get("iban", ""), "account_holder": state.get("holder", "")})
    else:
        initial["account_holder"] = p.debtor.name
    form = MethodForm(methods=methods, prefix="betaal", initial=initial)
    if request.method == "POST":
        form = MethodForm(request.POST, methods=methods, prefix="betaal")
        if form.is_valid():
            data = form.cleaned_data
            sepa = data["method"] == PayMethod.SEPA
            _state_set(
                request,
                method=data["method"],
                iban=data["iban"] if sepa else "",
                holder=data["account_holder"].strip() if sepa else "",
            )
            return _go(request, "plan_confirm")
    return _page(
        request,
        "portal/plan/method.html",
        {
            "form": form,
            "option": option_card(option),
            "methods": [(m, *METHOD_TEXT[m]) for m in methods],
            "sepa": PayMethod.SEPA in methods,
            "mandate_text": mandate_text(p.creditor),
        },
    )


def mandate_text(creditor) -> str:
    """The SEPA mandate's wording, with the creditor's name and creditor id."""
    return str(
        _(
            "By giving this permission you authorise %(name)s (creditor id %(id)s) to send "
            "instructions to your bank to debit your account, and your bank to debit your "
            "account in accordance with those instructions, for the amounts of this payment "
            "plan on their due dates. You are entitled to a refund from your bank under the "
            "terms and conditions of your agreement with your bank. A refund must be claimed "
            "within 8 weeks starting from the date on which your account was debited."
        )
        % {"name": creditor.name, "id": getattr(creditor, "sepa_creditor_id", "") or "-"}
    )


# -- confirm and agree -------------------------------------------------------------------------


@portal_view
@require_http_methods(["GET", "POST"])
def plan_confirm(request):
    """Show the chosen plan and way to pay once more; agree to it."""
    p = request.portal
    case = _open_case(p)
    if _blocking_plan(case) is not None:
        return _go(request, "plan_done")  # a second click, or a plan made elsewhere
    flow = _flow(request)
    option = _chosen(request, flow)
    if flow is None:
        return _go(request, "plan")
    if option is None:
        return _go(request, "plan_options")
    state = _state(request)
    method = state.get("method")
    if method not in _methods(flow, p.creditor):
        return _go(request, "plan_method")
    error = ""
    shown = request.POST.get("schedule") if request.method == "POST" else None
    if shown is not None and shown != schedule_signature(option):
        # The page showed other amounts or dates than the plan would get now: show it again.
        error = _(
            "The amounts or dates of your plan changed since you looked (a payment came in, for "
            "example). Check the new schedule below and agree again."
        )
    elif request.method == "POST":
        try:
            with transaction.atomic():
                mandate = None
                if method == PayMethod.SEPA:
                    mandate = mandate_create(
                        debtor=p.debtor,
                        iban=state.get("iban", ""),
                        account_holder=state.get("holder", ""),
                        signed_on=flow.today,
                        signed_via="portal",
                        actor=p.actor,
                    )
                plan_services.arrangement_accept(
                    case=case,
                    option=option,
                    method=method,
                    actor=p.actor,
                    channel="portal",
                    assessment=flow.assessment,
                    mandate=mandate,
                )
        except plan_services.ArrangementError as exc:
            if _blocking_plan(case) is not None:
                _state_clear(request)
                return _go(request, "plan_done")
            error = exc.message
        except ValueError as exc:  # the mandate refused (SepaError): IBAN, holder
            error = _("We could not record the direct debit: %(why)s. Check your details.") % {
                "why": str(exc)
            }
        else:
            _state_clear(request)
            return _go(request, "plan_done")
    return _page(
        request,
        "portal/plan/confirm.html",
        {
            "option": option_card(option),
            "rows": schedule_rows(option),
            "method": method,
            "method_label": METHOD_TEXT[method][0],
            "iban": state.get("iban", ""),
            "holder": state.get("holder", ""),
            "mandate_text": mandate_text(p.creditor) if method == PayMethod.SEPA else "",
            "error": error,
            "schedule": schedule_signature(option),
        },
    )


@portal_view
@require_http_methods(["GET"])
def plan_done(request):
    """The plan as agreed, and that a confirmation was sent."""
    p = request.portal
    case = _open_case(p)
    active = plans.active_arrangement(case) if case is not None else None
    if active is None:
        return _go(request, "plan")
    return _page(
        request,
        "portal/plan/done.html",
        plan_view_context(active, today=timezone.localdate()),
    )


# -- a promise to pay --------------------------------------------------------------------------


@portal_view
@require_http_methods(["GET", "POST"])
def plan_promise(request):
    """'I will pay € X on day Y': at most the balance, no later than the limit."""
    p = request.portal
    case = _open_case(p)
    today = timezone.localdate()
    latest = today + timedelta(days=plan_services.PROMISE_MAX_DAYS)
    context = {"latest": latest, "today": today, "state": "ask"}
    if case is None:
        return _page(request, "portal/plan/promise.html", {**context, "state": "no_case"})
    balance = plan_services.debt_of(case).total_cents
    promise = plans.open_promise(case)
    active = plans.active_arrangement(case)
    form = PromiseForm(
        prefix="belofte",
        today=today,
        latest=latest,
        balance=balance,
        initial={"amount": format_eur(balance, language="nl").removeprefix("€ ")},
    )
    if promise is not None:
        context["state"] = "open"
    elif active is not None:
        context["state"] = "active"
    elif balance <= 0:
        context["state"] = "nothing_owed"
    elif request.method == "POST":
        form = PromiseForm(
            request.POST, prefix="belofte", today=today, latest=latest, balance=balance
        )
        if form.is_valid():
            try:
                plan_services.promise_record(
                    case=case,
                    amount_cents=form.cleaned_data["amount"],
                    due_on=form.cleaned_data["due_on"],
                    source="portal",
                    actor=p.actor,
                )
            except (plan_services.ArrangementError, ValueError) as exc:
                apply_error(form, exc, {"amount_cents": "amount", "due_on": "due_on"})
            else:
                return redirect(reverse("portal:plan_promise", args=[p.token]) + "?ok=1")
    return _page(
        request,
        "portal/plan/promise.html",
        {
            **context,
            "form": form,
            "promise": promise,
            "done": request.GET.get("ok") == "1" and promise is not None,
            "balance_cents": balance,
        },
    )


urlpatterns = [
    path("p/<str:token>/regeling/", plan, name="plan"),
    path("p/<str:token>/regeling/keuze/", plan_options, name="plan_options"),
    path("p/<str:token>/regeling/betalen/", plan_method, name="plan_method"),
    path("p/<str:token>/regeling/bevestigen/", plan_confirm, name="plan_confirm"),
    path("p/<str:token>/regeling/klaar/", plan_done, name="plan_done"),
    path("p/<str:token>/regeling/belofte/", plan_promise, name="plan_promise"),
]
