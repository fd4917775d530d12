"""The email templates: every one renders in both languages, safely, with the settings' contacts."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jinja2 import meta, nodes
from typer.testing import CliRunner

from cli.main import app as cli_app
from db.enums import Locale, Role
from domain.emails.catalog import REMINDER_SEGMENTS, TEMPLATES, reminder_tone
from domain.emails.filters import format_date, format_datetime, role_label
from domain.emails.render import (
    TEMPLATE_DIR,
    MissingContext,
    TemplateContextError,
    UnknownTemplate,
    UnsupportedLocale,
    base_context,
    environment,
    render_email,
)
from domain.emails.rendered import RenderedEmail
from domain.emails.vocabulary import permission_matrix
from domain.settings import Settings

TOKYO = ZoneInfo("Asia/Tokyo")
CASES = [(name, locale) for name in TEMPLATES for locale in Locale]
CASE_IDS = [f"{name}-{locale.value}" for name, locale in CASES]
HOSTILE = "<script>alert(1)</script>"
INJECTION = "Evil Corp\r\nBcc: x@y.example"

# Hiragana, katakana, CJK ideographs, full-width forms.
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
LATIN_RUN = re.compile(r"[A-Za-z]+(?:[ ,.'-]+[A-Za-z]+){3,}")  # four English words in a row
URL = re.compile(r"(?:https?://|mailto:)\S+|\S+@\S+")


def make_settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, **overrides)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return make_settings()


@pytest.fixture(scope="module")
def custom_settings() -> Settings:
    return make_settings(
        helpdesk_name="Acme Support Desk",
        helpdesk_email="desk@support.acme.example",
        helpdesk_form_url="https://help.acme.example/contact-form",
        portal_name="Acme Customer Hub",
        portal_base_url="https://hub.acme.example",
    )


class Page(HTMLParser):
    """What the tests look at in an HTML part: links, texts, tags without inline style."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.unstyled: list[str] = []
        self.tags: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        if tag == "a" and found.get("href"):
            self.hrefs.append(str(found["href"]))
        if tag in ("p", "li", "td", "th", "a", "h2", "table", "ul", "ol") and not found.get(
            "style"
        ):
            self.unstyled.append(tag)
        if tag in ("title", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("title", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def sample(name: str, locale: Locale, settings: Settings) -> dict[str, Any]:
    return TEMPLATES[name].sample(locale, settings)


def render_sample(name: str, locale: Locale, settings: Settings, **changes: Any) -> RenderedEmail:
    return render_email(name, locale, sample(name, locale, settings) | changes, settings)


def expected_links(name: str, locale: Locale, settings: Settings) -> list[str]:
    values = base_context(settings, locale) | sample(name, locale, settings)
    return [str(values[key]) for key in TEMPLATES[name].links if values.get(key)]


# --- every template, both languages ----------------------------------------------------------


@pytest.mark.parametrize(("name", "locale"), CASES, ids=CASE_IDS)
def test_renders_completely_with_links_and_footer(
    name: str, locale: Locale, settings: Settings
) -> None:
    email = render_sample(name, locale, settings)

    assert email.subject.strip() and "\n" not in email.subject and "\r" not in email.subject
    assert email.text.strip() and email.html.strip()
    for part in (email.subject, email.text, email.html):
        for leftover in ("{{", "}}", "{%", "%}", "{#", "Undefined"):
            assert leftover not in part
        assert not re.search(r"\bNone\b", part)

    page = parse(email.html)
    text_lines = {line.strip() for line in email.text.splitlines()}
    for url in expected_links(name, locale, settings):
        assert url in page.hrefs, f"{url} is not a link in the HTML part"
        assert url in text_lines, f"{url} is not on a line of its own in the text part"
    assert str(settings.helpdesk_form_url) in page.hrefs
    assert f"mailto:{settings.helpdesk_email}" in page.hrefs
    assert str(settings.helpdesk_email) in email.text
    assert str(settings.helpdesk_form_url) in text_lines
    # Outlook and Gmail need inline styles on every element that shows text.
    assert page.unstyled == []
    assert page.tags.count("html") == 1 and "body" in page.tags


@pytest.mark.parametrize(("name", "locale"), CASES, ids=CASE_IDS)
def test_footer_and_names_come_from_settings(
    name: str, locale: Locale, custom_settings: Settings
) -> None:
    email = render_sample(name, locale, custom_settings)
    page = parse(email.html)

    for part in (email.text, email.html):
        assert "Acme Support Desk" in part
        assert "desk@support.acme.example" in part
        assert "https://help.acme.example/contact-form" in part
        assert "Acme Customer Hub" in part
        for default in ("cch-portal@classnk.or.jp", "forms.office.com", "Web Service Portal"):
            assert default not in part
    assert "https://help.acme.example/contact-form" in page.hrefs
    for url in expected_links(name, locale, custom_settings):
        assert url in page.hrefs


def _without_known_latin(text: str, name: str, locale: Locale, settings: Settings) -> str:
    """The body with the parts that are Latin by nature (names, IDs, URLs) taken out."""
    values = base_context(settings, locale) | sample(name, locale, settings)
    known = [str(v) for v in values.values() if isinstance(v, str)]
    for value in sorted(known, key=len, reverse=True):
        text = text.replace(value, " ")
    return URL.sub(" ", text)


@pytest.mark.parametrize("name", TEMPLATES)
def test_japanese_is_japanese(name: str, settings: Settings) -> None:
    email = render_sample(name, Locale.JA, settings)
    body = _without_known_latin(email.text, name, Locale.JA, settings)
    letters = [c for c in body if c.isalpha()]
    cjk = [c for c in letters if CJK.match(c)]
    assert len(cjk) / len(letters) > 0.9, f"only {len(cjk)} of {len(letters)} letters are CJK"
    assert LATIN_RUN.search(body) is None, LATIN_RUN.search(body)
    assert CJK.search(email.subject)
    assert '<html lang="ja">' in email.html


@pytest.mark.parametrize("name", TEMPLATES)
def test_english_has_no_japanese(name: str, settings: Settings) -> None:
    email = render_sample(name, Locale.EN, settings)
    for part in (email.subject, email.text, email.html):
        assert CJK.search(part) is None


@pytest.mark.parametrize("name", TEMPLATES)
def test_english_text_is_wrapped_for_plain_readers(name: str, settings: Settings) -> None:
    text = render_sample(name, Locale.EN, settings).text
    for line in text.splitlines():
        assert len(line) <= 76 or " " not in line.strip() or line.startswith(">"), line


@pytest.mark.parametrize(("name", "locale"), CASES, ids=CASE_IDS)
def test_optional_keys_may_be_left_out(name: str, locale: Locale, settings: Settings) -> None:
    spec = TEMPLATES[name]
    context = {k: v for k, v in sample(name, locale, settings).items() if k in spec.required}
    email = render_email(name, locale, context, settings)
    for part in (email.subject, email.text, email.html):
        assert not re.search(r"\bNone\b", part)


def test_every_key_a_template_reads_is_declared_in_the_catalogue() -> None:
    env = environment()
    settings_keys = set(base_context(make_settings(), Locale.EN)) | {"subject"}
    every_key = set().union(*(spec.keys | set(spec.derived) for spec in TEMPLATES.values()))
    assert env.loader is not None
    for path in sorted(TEMPLATE_DIR.rglob("*")):
        if path.is_dir():
            continue
        relative = path.relative_to(TEMPLATE_DIR)
        source = path.read_text(encoding="utf-8")
        tree = env.parse(source)
        # Blocks are their own scopes, so meta reports the file's own import aliases; drop them.
        aliases = {node.target for node in tree.find_all(nodes.Import)}
        used = meta.find_undeclared_variables(tree) - aliases
        if relative.parts[0] in TEMPLATES:
            spec = TEMPLATES[relative.parts[0]]
            allowed = set(spec.keys) | set(spec.derived) | settings_keys
        else:  # layouts and partials serve every template
            allowed = every_key | settings_keys
        assert used <= allowed, f"{relative} reads undeclared {sorted(used - allowed)}"


def test_every_catalogued_template_has_all_six_files() -> None:
    for name in TEMPLATES:
        for locale in Locale:
            for part in ("subject.txt", "body.txt", "body.html"):
                assert (TEMPLATE_DIR / name / locale.value / part).is_file(), (name, locale, part)
    on_disk = {p.name for p in TEMPLATE_DIR.iterdir() if p.is_dir()} - {"partials"}
    assert on_disk == set(TEMPLATES)


# --- escaping and header injection -----------------------------------------------------------


@pytest.mark.parametrize("locale", Locale)
@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("announcement", "organization_name"),
        ("reminder", "organization_name"),
        ("followup", "organization_name"),
        ("verification", "person_name"),
        ("invitation", "inviter_name"),
        ("helpdesk_acknowledgement", "reference"),
    ],
)
def test_hostile_values_are_escaped_in_html(
    name: str, key: str, locale: Locale, settings: Settings
) -> None:
    email = render_sample(name, locale, settings, **{key: HOSTILE})
    assert "<script" not in email.html
    assert "&lt;script&gt;" in email.html
    assert HOSTILE in email.text  # plain text is not HTML: shown as typed


@pytest.mark.parametrize("locale", Locale)
@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("announcement", "organization_name"),
        ("reminder", "organization_name"),
        ("followup", "organization_name"),
        ("invitation", "inviter_name"),
        ("helpdesk_acknowledgement", "reference"),
    ],
)
def test_subject_cannot_inject_headers(
    name: str, key: str, locale: Locale, settings: Settings
) -> None:
    email = render_sample(name, locale, settings, **{key: INJECTION})
    assert "\r" not in email.subject and "\n" not in email.subject
    assert "Evil Corp Bcc: x@y.example" in email.subject
    for separator in ("\u2028", "\x85", "\x0b", "\t"):
        other = render_sample(name, locale, settings, **{key: f"A{separator}B"})
        assert separator not in other.subject


def test_subject_is_plain_text_and_the_html_title_is_escaped(settings: Settings) -> None:
    email = render_sample("announcement", Locale.EN, settings, organization_name="A & B <Sea>")
    assert "(A & B <Sea>)" in email.subject
    assert "<title>" in email.html and "A &amp; B &lt;Sea&gt;" in email.html


@pytest.mark.parametrize("locale", Locale)
def test_shared_reminder_wording_is_escaped_once_per_part(
    locale: Locale, settings: Settings
) -> None:
    # The reminder's wording lives in an HTML macro file reused by the text part and subject.
    email = render_sample("reminder", locale, settings, organization_name="A & B <Sea>")
    assert "A & B <Sea>" in email.subject and "A & B <Sea>" in email.text
    assert "&amp;" not in email.text and "&lt;" not in email.text
    assert "A &amp; B &lt;Sea&gt;" in email.html and "<Sea>" not in email.html


def test_html_templates_never_import_text_macros() -> None:
    # A macro's output counts as safe markup in an HTML caller; a macro from a text template
    # has not escaped its values, so importing one into HTML would let names inject markup.
    for path in TEMPLATE_DIR.rglob("*.html"):
        imports = environment().parse(path.read_text(encoding="utf-8")).find_all(nodes.Import)
        for node in imports:
            assert isinstance(node.template, nodes.Const), path
            assert not str(node.template.value).endswith(".txt"), path


def test_helpdesk_message_copy_is_escaped_and_keeps_its_lines(settings: Settings) -> None:
    message = "Line one <b>bold</b>\r\nLine two & <img src=x onerror=alert(1)>"
    email = render_sample("helpdesk_acknowledgement", Locale.EN, settings, message=message)
    assert "<img" not in email.html and "<b>" not in email.html
    assert "Line one &lt;b&gt;bold&lt;/b&gt;<br>" in email.html
    assert "Line two &amp; &lt;img src=x onerror=alert(1)&gt;" in email.html
    assert "> Line one <b>bold</b>\n> Line two & <img src=x onerror=alert(1)>" in email.text


# --- errors a caller can make -----------------------------------------------------------------


def test_missing_key_names_the_key(settings: Settings) -> None:
    context = sample("verification", Locale.EN, settings)
    del context["verify_url"]
    with pytest.raises(MissingContext, match="'verify_url'") as caught:
        render_email("verification", Locale.EN, context, settings)
    assert caught.value.keys == ("verify_url",)


def test_required_key_set_to_none_counts_as_missing(settings: Settings) -> None:
    with pytest.raises(MissingContext, match="'person_name'"):
        render_sample("verification", Locale.JA, settings, person_name=None)


def test_missing_nested_key_is_reported_by_strict_undefined(settings: Settings) -> None:
    broken = [{"organization_name": "Nordic Bulk Carriers AS"}]
    with pytest.raises(MissingContext, match="'role'") as caught:
        render_sample("migration_activation", Locale.EN, settings, memberships=broken)
    assert caught.value.keys == ("role",)
    assert "migration_activation" in str(caught.value)


def test_unknown_template_lists_the_available_ones(settings: Settings) -> None:
    with pytest.raises(UnknownTemplate) as caught:
        render_email("welcome", Locale.EN, {}, settings)
    message = str(caught.value)
    assert "'welcome'" in message
    assert all(name in message for name in TEMPLATES)


def test_unsupported_locale(settings: Settings) -> None:
    with pytest.raises(UnsupportedLocale, match=r"'fr'.*en, ja"):
        render_email("verification", "fr", sample("verification", Locale.EN, settings), settings)


@pytest.mark.parametrize(
    ("name", "change", "pattern"),
    [
        ("reminder", {"segment": "everyone"}, "segment='everyone' is not one of never_registered"),
        ("reminder", {"days_left": -1}, "days_left must be a whole number of days >= 0"),
        ("followup", {"step": "close_plus_3"}, "step='close_plus_3' is not one of close_plus_1"),
        ("verification", {"role": "owner"}, "unknown role 'owner'"),
        ("helpdesk_acknowledgement", {"category": "spam"}, "unknown helpdesk category 'spam'"),
        (
            "verification",
            {"expires_at": dt.datetime(2025, 7, 15, 9, 0)},  # naive: the point of the case
            "naive datetime",
        ),
        ("verification", {"portal_name": "Other"}, "portal_name come from settings"),
    ],
)
def test_bad_values_are_refused_with_the_reason(
    name: str, change: dict[str, Any], pattern: str, settings: Settings
) -> None:
    with pytest.raises(TemplateContextError, match=pattern) as caught:
        render_sample(name, Locale.EN, settings, **change)
    assert name in str(caught.value)


def test_extra_keys_are_ignored(settings: Settings) -> None:
    email = render_sample("verification", Locale.EN, settings, switch_date=dt.date(2025, 9, 28))
    assert email.subject


# --- dates, time zone, labels ------------------------------------------------------------------

INSTANT = dt.datetime(2025, 9, 14, 15, 30, tzinfo=dt.UTC)  # 15 Sep 00:30 in Tokyo


def test_dates_are_shown_in_tokyo() -> None:
    assert format_date(INSTANT, Locale.EN, TOKYO) == "15 September 2025"
    assert format_date(INSTANT, Locale.JA, TOKYO) == "2025年9月15日（月）"
    assert format_date(dt.date(2025, 9, 14), Locale.JA, TOKYO) == "2025年9月14日（日）"
    assert format_datetime(INSTANT, Locale.EN, TOKYO) == "15 September 2025, 00:30 (JST)"
    assert format_datetime(INSTANT, Locale.JA, TOKYO) == "2025年9月15日（月）0:30（日本時間）"


@pytest.mark.parametrize(
    ("locale", "shown"),
    [(Locale.EN, "15 September 2025, 00:30 (JST)"), (Locale.JA, "2025年9月15日（月）0:30")],
)
def test_rendered_expiry_uses_the_configured_zone(
    locale: Locale, shown: str, settings: Settings
) -> None:
    email = render_sample("verification", locale, settings, expires_at=INSTANT)
    assert shown in email.text and shown in email.html


def test_another_configured_zone_moves_the_dates() -> None:
    london = make_settings(timezone="Europe/London")
    email = render_sample("verification", Locale.EN, london, expires_at=INSTANT)
    assert "14 September 2025, 16:30 (BST)" in email.text


def test_deadline_is_the_last_minute_of_the_close_day(settings: Settings) -> None:
    text = render_sample("announcement", Locale.EN, settings).text
    assert "15 June 2025 to 14 September 2025, 23:59 (JST)" in text
    ja = render_sample("announcement", Locale.JA, settings).text
    assert "2025年6月15日（日） ～ 2025年9月14日（日）23:59（日本時間）" in ja


def test_role_labels_are_consistent_in_both_languages() -> None:
    assert [role_label(role, Locale.EN) for role in Role] == [
        "Administrator",
        "Normal User",
        "Visitor User",
    ]
    assert [role_label(role.value, Locale.JA) for role in Role] == [
        "管理者",
        "一般ユーザー",
        "閲覧ユーザー",
    ]


def test_permission_matrix_follows_the_announcement() -> None:
    matrix = permission_matrix(Locale.EN, "Hub")
    assert matrix.roles == ("Administrator", "Normal User", "Visitor User")
    assert [row.cells for row in matrix.rows] == [
        ("Yes", "Yes", "Yes"),
        ("Yes", "Yes", "Yes"),
        ("Yes", "No", "No"),
        ("Yes", "No", "No"),
        ("Yes", "Own only", "Own only"),
    ]
    normal = matrix.by_role[1]
    assert "Apply for a new service" not in normal.rights
    assert "Edit user information (own information only)" in normal.rights


@pytest.mark.parametrize("locale", Locale)
def test_announcement_shows_the_matrix_as_table_and_list(
    locale: Locale, settings: Settings
) -> None:
    email = render_sample("announcement", locale, settings)
    matrix = permission_matrix(locale, settings.portal_name)
    page = parse(email.html)
    assert page.tags.count("tr") >= len(matrix.rows) + 1
    for row in matrix.rows:
        assert row.label in email.html
    for entry in matrix.by_role:
        assert entry.role in email.text
        for right in entry.rights:
            assert right in email.text


# --- wording that follows the campaign ---------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "tone"),
    [
        (60, "early"),
        (15, "early"),
        (14, "soon"),
        (8, "soon"),
        (7, "urgent"),
        (2, "urgent"),
        (1, "tomorrow"),
        (0, "today"),
    ],
)
def test_reminder_tone_escalates(days: int, tone: str) -> None:
    assert reminder_tone(days) == tone


@pytest.mark.parametrize(
    ("days", "en", "ja"),
    [
        (30, "Reminder:", "【Web Service Portal】メールアドレス"),
        (10, "Reminder: 10 days left", "【締切まであと10日】"),
        (3, "Action required: only 3 days left", "【重要・締切まであと3日】"),
        (1, "Last chance: pre-registration closes tomorrow", "【重要・明日締切】"),
        (0, "Last day: pre-registration closes today at 23:59 (JST)", "【至急・本日締切】"),
    ],
)
def test_reminder_subject_follows_days_left(
    days: int, en: str, ja: str, settings: Settings
) -> None:
    context = {"segment": "never_registered", "days_left": days}
    assert en in render_sample("reminder", Locale.EN, settings, **context).subject
    assert ja in render_sample("reminder", Locale.JA, settings, **context).subject


@pytest.mark.parametrize("locale", Locale)
def test_reminder_wording_differs_per_segment(locale: Locale, settings: Settings) -> None:
    bodies = {
        segment: render_sample("reminder", locale, settings, segment=segment).text
        for segment in REMINDER_SEGMENTS
    }
    assert len(set(bodies.values())) == len(REMINDER_SEGMENTS)
    admin = role_label(Role.ADMINISTRATOR, locale)
    assert admin in bodies["no_verified_admin"]


@pytest.mark.parametrize(
    ("locale", "today", "tomorrow"),
    [
        (Locale.EN, "Today is the last day", "closes tomorrow"),
        (Locale.JA, "本日23:59（日本時間）をもって締め切らせていただきます", "明日2025年9月14日"),
    ],
)
def test_reminder_body_says_last_day(
    locale: Locale, today: str, tomorrow: str, settings: Settings
) -> None:
    assert today in render_sample("reminder", locale, settings, days_left=0).text
    assert tomorrow in render_sample("reminder", locale, settings, days_left=1).text


@pytest.mark.parametrize(
    ("locale", "regain"), [(Locale.EN, "How to regain access"), (Locale.JA, "ログイン再開の手順")]
)
def test_followup_after_switch_explains_how_to_regain_access(
    locale: Locale, regain: str, settings: Settings
) -> None:
    steps = {
        step: render_sample("followup", locale, settings, step=step)
        for step in ("close_plus_1", "close_plus_7", "after_switch")
    }
    assert len({email.subject for email in steps.values()}) == 3
    assert regain in steps["after_switch"].text
    assert regain not in steps["close_plus_1"].text


@pytest.mark.parametrize(("locale", "salutation"), [(Locale.EN, "Dear"), (Locale.JA, "御中")])
def test_organization_without_contact_is_greeted_as_organization(
    locale: Locale, salutation: str, settings: Settings
) -> None:
    context = sample("announcement", locale, settings)
    del context["contact_name"]
    text = render_email("announcement", locale, context, settings).text
    assert text.splitlines()[0].startswith(salutation) or salutation in text.splitlines()[0]
    assert "様" not in text.splitlines()[0]


# --- the CLI -----------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_lists_templates() -> None:
    result = runner.invoke(cli_app, ["mail", "templates"])
    assert result.exit_code == 0, result.output
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    assert listed == list(TEMPLATES)


def test_cli_previews_text_with_the_current_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHOVER_HELPDESK_EMAIL", "preview-desk@example.org")
    result = runner.invoke(cli_app, ["mail", "preview", "verification", "--locale", "ja"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Subject: 【")
    assert "メールアドレス確認のお願い" in result.stdout
    assert "/verify/sample-" in result.stdout
    assert "preview-desk@example.org" in result.stdout
    assert "<html" not in result.stdout


@pytest.mark.parametrize(("part", "text", "html"), [("html", False, True), ("both", True, True)])
def test_cli_previews_html(part: str, text: bool, html: bool) -> None:
    result = runner.invoke(cli_app, ["mail", "preview", "reminder", "--format", part])
    assert result.exit_code == 0, result.output
    assert ("<!DOCTYPE html>" in result.stdout) is html
    assert ("Dear Ingrid Larsen,\n" in result.stdout) is text


def test_cli_unknown_template_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(cli_app, ["mail", "preview", "welcome"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: unknown email template 'welcome'; available: announcement")
    assert "Traceback" not in result.output


def test_template_dir_ships_inside_the_package() -> None:
    # Installed wheels carry domain/ as a package; templates must live under it.
    assert Path(TEMPLATE_DIR).is_relative_to(Path(__file__).resolve().parents[1] / "domain")
