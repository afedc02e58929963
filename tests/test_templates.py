"""Templates keep their CSS in static/css/app.css, and every status badge comes from one tag."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import timezone

from commissions.models import Statement, StatementRun
from community.models import RSVP
from diagnostics.booking.models import Booking
from diagnostics.models import Diagnostic
from engagements.models import Engagement, Milestone
from tmw.accounts.models import Invitation

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _templates():
    return sorted(TEMPLATES.rglob("*.html"))


def _is_pdf(path: Path) -> bool:
    return "pdf" in path.relative_to(TEMPLATES).parts[:-1]


def _is_email(path: Path) -> bool:
    return "email" in path.relative_to(TEMPLATES).parts[:-1]


def test_no_template_has_a_style_block_outside_the_pdfs():
    # A PDF is rendered standalone by WeasyPrint, so it carries its own <style>.
    offenders = [str(p.relative_to(TEMPLATES)) for p in _templates() if not _is_pdf(p) and "<style" in p.read_text()]
    assert offenders == []


# What may keep a style= attribute, and why:
# - HTML emails (templates/*/email/): mail clients drop <style> blocks and linked sheets, so
#   their styles must be inline; a Content-Security-Policy does not apply to a mail.
# - PDFs (templates/*/pdf/): the two score bars of the diagnostic report take their width
#   from data; WeasyPrint renders the document offline, outside any browser CSP.
# Pages served to a browser keep none, so a CSP without 'unsafe-inline' for styles is reachable;
# bars on pages are <progress> elements instead of inline widths.
STYLE_ATTRIBUTE_BOUNDS = {"page": 0, "pdf": 2, "email": 26}  # the statement email adds 3


def test_style_attributes_stay_within_their_bounds():
    found: dict[str, list[str]] = {"page": [], "pdf": [], "email": []}
    for path in _templates():
        kind = "pdf" if _is_pdf(path) else "email" if _is_email(path) else "page"
        for match in re.finditer(r"\sstyle=", path.read_text()):
            found[kind].append(f"{path.relative_to(TEMPLATES)}@{match.start()}")
    for kind, bound in STYLE_ATTRIBUTE_BOUNDS.items():
        assert len(found[kind]) <= bound, (kind, found[kind])


# The Content-Security-Policy allows scripts from files only (script-src 'self'): a template holds no
# inline <script> (json_script data blocks are type="application/json" and are rendered, not written),
# no inline event handler (onclick=, onchange=, ...) and no hx-on* attribute, which htmx would run
# through Function(). The behaviours live in static/js/app.js as data-* attributes.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*\stype=\"application/json\")[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*?\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)


def test_no_page_template_has_an_inline_script_or_handler():
    offenders = []
    for path in _templates():
        if _is_pdf(path) or _is_email(path):
            continue
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER):
            offenders += [f"{path.relative_to(TEMPLATES)}: {m.group(0)[:60]}" for m in pattern.finditer(text)]
    assert offenders == []


def test_the_inline_patterns_catch_what_they_are_for():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert INLINE_SCRIPT.search('<script type="module">x()</script>')
    assert not INLINE_SCRIPT.search('<script src="/static/js/app.js" defer></script>')
    assert not INLINE_SCRIPT.search('<script id="d" type="application/json">{}</script>')
    assert INLINE_HANDLER.search('<select name="p" onchange="this.form.submit()">')
    assert INLINE_HANDLER.search('<button hx-on:click="go()">')
    assert INLINE_HANDLER.search('<div hx-on-htmx-after-request="go()">')
    assert not INLINE_HANDLER.search('<select name="p" data-autosubmit>')
    assert not INLINE_HANDLER.search("<p>Tick one = all</p>")


def _badge(obj) -> str:
    return Template("{% status_badge obj %}").render(Context({"obj": obj}))


@pytest.mark.parametrize(
    ("obj", "html"),
    [
        (Statement(status="draft"), '<span class="badge badge-amber">Draft</span>'),
        (Statement(status="issued"), '<span class="badge badge-blue">Issued</span>'),
        (Statement(status="paid"), '<span class="badge badge-green">Paid</span>'),
        (Statement(status="void"), '<span class="badge badge-red">Void</span>'),
        (
            Statement(status="issued", credit_note_for_id=1),
            '<span class="badge badge-blue">Credit note · Issued</span>',
        ),
        (StatementRun(status="running"), '<span class="badge badge-blue">Running</span>'),
        (StatementRun(status="failed"), '<span class="badge badge-red">Failed</span>'),
        (Engagement(status="active"), '<span class="badge badge-green">Active</span>'),
        (Engagement(status="proposed"), '<span class="badge badge-blue">Proposed</span>'),
        (Engagement(status="terminated"), '<span class="badge badge-red">Terminated</span>'),
        (Milestone(status="in_progress"), '<span class="badge badge-blue">In progress</span>'),
        (Milestone(status="planned"), '<span class="badge badge-amber">Planned</span>'),
        (Diagnostic(status="in_review"), '<span class="badge badge-blue">In review</span>'),
        (Diagnostic(status="complete"), '<span class="badge badge-green">Complete</span>'),
        (Booking(status="cancelled"), '<span class="badge badge-red">Cancelled</span>'),
        (Booking(status="converted"), '<span class="badge badge-blue">Converted</span>'),
        (RSVP(status="waitlisted"), '<span class="badge badge-amber">Waitlisted</span>'),
        (RSVP(status="not_going"), '<span class="badge badge-red">Not going</span>'),
    ],
)
def test_status_badge_maps_each_status_to_a_label_and_a_colour(obj, html):
    assert _badge(obj) == html


def test_status_badge_reads_a_computed_status_and_takes_a_suffix():
    accepted = Invitation(accepted_at=timezone.now(), expires_at=timezone.now())
    assert _badge(accepted) == '<span class="badge badge-green">accepted</span>'
    html = Template('{% status_badge rsvp suffix=" #3" %}').render(Context({"rsvp": RSVP(status="waitlisted")}))
    assert html == '<span class="badge badge-amber">Waitlisted #3</span>'
    assert _badge(None) == ""


def test_status_badge_escapes_its_label():
    html = Template("{% status_badge obj suffix=s %}").render(Context({"obj": Booking(status="confirmed"), "s": "<b>"}))
    assert html == '<span class="badge badge-green">Confirmed&lt;b&gt;</span>'


# Templates ask the policy (``can.<action>``, or a ``can_*`` flag a view computed with an object
# rule); none decides by role. These are the ways a template could test a role.
ROLE_TEST = re.compile(
    r"\b(?:user\.role|request\.user\.role|is_partner|is_operator|is_finance|is_vendor_admin|is_vendor_user|is_msp_user)\b"
)


def test_no_template_tests_a_role():
    offenders = []
    for path in TEMPLATES.rglob("*"):
        if path.suffix not in (".html", ".txt"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if ROLE_TEST.search(line):
                offenders.append(f"{path.relative_to(TEMPLATES)}:{number}: {line.strip()[:80]}")
    assert offenders == []


def test_the_role_pattern_catches_what_it_is_for():
    assert ROLE_TEST.search('{% if user.is_partner or user.role == "admin" %}')
    assert ROLE_TEST.search("{% if is_finance and period %}")
    assert not ROLE_TEST.search("{% if can.statement_issue %}")
    assert not ROLE_TEST.search("{{ booking.role }}")
