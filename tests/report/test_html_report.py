"""The HTML report: the plan the other formats show, every value escaped, a policy that runs nothing.

Rendered from the golden sample plan (every kind of action, a secret that changed, a failed write)
and from a plan whose names and descriptions are markup, then taken apart by a parser: what shows
is the text the text report shows, the only tags are ours, and the page's Content-Security-Policy
allows its one stylesheet by hash and nothing else.
"""

from __future__ import annotations

import html
from dataclasses import replace

from reconciler.manifests.model import ManifestSet, Position, Problem, Severity
from reconciler.plan.model import ActionKind, Plan
from reconciler.plan.planner import make_plan
from reconciler.report import render_text
from reconciler.report.common import label, outcome_summary
from reconciler.report.html import COUNTED, render_html
from reconciler.report.htmldoc import STYLE, esc
from reconciler.secrets import default_redactor
from reconciler.sync.result import SyncResult
from reconciler.sync.settings import SyncMode
from tests.plan.plan_helpers import OPTIONS, api, context, desired
from tests.report.htmlcheck import assert_only_our_markup, csp_hash, parse
from tests.report.test_report_golden import SECRET_NEW, SECRET_OLD, sample_outcomes, sample_plan

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_DESCRIPTION = '"><img src=x onerror="document.title=\'pwned\'">'


def _result(plan: Plan, **fields: object) -> SyncResult:
    return SyncResult(
        commit="0123abc", mode=SyncMode.APPLY, manifests=ManifestSet((), (), 0), plan=plan, **fields
    )  # type: ignore[arg-type]


def test_the_page_shows_the_plan_the_text_report_shows() -> None:
    plan = sample_plan()
    outcomes = sample_outcomes(plan)
    rendered = render_html(_result(plan, outcomes=tuple(outcomes)))
    page = parse(rendered)
    text = page.all_text
    # the summary lines, word for word
    summary = render_text(plan, outcomes).rstrip("\n").splitlines()[-2:]
    assert summary[0].startswith("Plan: ") and summary[0] in text
    assert outcome_summary(outcomes) == summary[1] and summary[1] in text
    # every action the text report lists, with its words and its resource; unchanged ones are not listed
    for action in plan.actions:
        if action.kind is ActionKind.UNCHANGED:
            continue
        assert str(action.resource) in text and label(action) in text, action
        if action.reason:
            assert action.reason in text
    assert any(a.kind is ActionKind.UNCHANGED for a in plan.actions)
    assert 'class="badge unchanged"' not in rendered  # listed only with --verbose, as in text
    assert 'class="badge unchanged"' in render_html(_result(plan), verbose=True)
    # the counts, as the plan counts them
    counts = plan.counts()
    for kind in COUNTED:
        assert f'id="count-{kind}"><b>{counts[kind]}</b>{kind}</div>' in rendered, kind
    # a failed write says so, with APIM's message; a changed secret shows as a change, never a value
    assert "failed" in text and "400 Path [/payments/] already exists" in text
    assert "(sensitive) -> (sensitive)" in text
    assert SECRET_OLD not in text and SECRET_NEW not in text
    assert_only_our_markup(page, scripts=0)


def test_the_policy_allows_the_one_stylesheet_and_no_script() -> None:
    rendered = render_html(_result(sample_plan()))
    page = parse(rendered)
    policies = [
        a.get("content")
        for tag, a in page.tags
        if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert len(policies) == 1
    directives = dict(d.strip().split(" ", 1) for d in str(policies[0]).split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'none'"
    assert page.styles == [STYLE] and directives["style-src"] == csp_hash(STYLE)
    assert "unsafe-inline" not in str(policies[0])
    assert "http://" not in rendered and "https://" not in rendered  # nothing to fetch, offline


def test_names_and_descriptions_from_git_are_text_not_markup() -> None:
    ctx = context("prod")
    hostile = api("xss", ctx="prod", description=HOSTILE_DESCRIPTION)
    hostile = replace(hostile, spec={**hostile.spec, "name": HOSTILE_NAME})
    states = desired(hostile, contexts=(ctx,))
    (ctx_id,) = {s.context for s in states.values()}
    plan = make_plan(states, {ctx_id: []}, {}, OPTIONS)
    rendered = render_html(_result(plan), verbose=True)
    page = parse(rendered)
    assert_only_our_markup(page, scripts=0)
    assert HOSTILE_NAME in page.all_text  # shown, as text
    assert "document.title=" in page.all_text
    assert "<script>alert" not in rendered and "<img" not in rendered
    assert html.escape(HOSTILE_NAME, quote=True) in rendered


def test_a_known_secret_is_scrubbed_in_every_form_the_page_could_hold() -> None:
    secret = "cnry-html-7c1e9a4b2d"
    default_redactor().add(secret)
    for form in (secret, f"{secret}<&>", f"x&{secret}", secret.upper()):
        assert secret.lower() not in esc(form).lower()
    ctx = context("prod")
    states = desired(
        api("leaky", ctx="prod", description=f"token {secret} & <b>{secret}</b>"), contexts=(ctx,)
    )
    (ctx_id,) = {s.context for s in states.values()}
    rendered = render_html(_result(make_plan(states, {ctx_id: []}, {}, OPTIONS)), verbose=True)
    assert secret not in rendered and html.escape(secret) not in rendered
    assert "(sensitive)" in rendered


def test_a_run_without_a_plan_says_so() -> None:
    problem = Problem(Severity.ERROR, "<b>bad</b> value", Position("apis/x.yaml", 3, 2))
    result = SyncResult(commit="c1", mode=SyncMode.DIFF, manifests=ManifestSet((), (problem,), 1))
    page = parse(render_html(result))
    text = page.all_text
    assert "apim-reconciler diff" in text and "Nothing planned: fix the errors above first." in text
    assert "failed" in text  # the outcome: a run refused for its manifests is not ok
    assert "apis/x.yaml:3:2" in text and "<b>bad</b> value" in text
    assert_only_our_markup(page, scripts=0)
