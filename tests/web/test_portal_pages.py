"""Public pages, content files, languages, security headers, error pages, health."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from domain.context import App
from portal.app import create_app
from tests.web.helpers import text_of


@pytest.mark.parametrize(
    ("path", "english", "japanese"),
    [
        (
            "/",
            "The log-in system for Web Service Portal will be changed",
            "ログイン方式が変わります",
        ),
        ("/faq", "Frequently asked questions", "よくあるご質問"),
        ("/news", "Pre-registration of email addresses has started", "事前登録を開始しました"),
        ("/contact", "Address and contact details", "お問い合わせ先"),
    ],
)
def test_content_pages_render_in_both_languages(
    client: TestClient, path: str, english: str, japanese: str
) -> None:
    en = client.get(path, headers={"Accept-Language": "en-GB,en;q=0.9"})
    ja = client.get(path, headers={"Accept-Language": "ja,en;q=0.3"})
    assert en.status_code == ja.status_code == 200
    assert english in text_of(en.text)
    assert japanese in text_of(ja.text)
    assert '<html lang="ja">' in ja.text


def test_placeholders_take_the_configured_dates(client: TestClient) -> None:
    home = text_of(client.get("/").text)
    assert "Pre-registration period: 15 June 2025 – 14 September 2025" in home
    assert "{{" not in home
    faq_ja = text_of(client.get("/faq", headers={"Accept-Language": "ja"}).text)
    assert "2025年6月15日(日)から2025年9月14日(日)まで" in faq_ja


def test_japanese_lines_are_joined_without_spaces(client: TestClient) -> None:
    page = client.get("/", headers={"Accept-Language": "ja"}).text
    assert "組織単位のログインから、個人のメールアドレス" in page


def test_the_language_switch_remembers_the_choice(client: TestClient) -> None:
    switched = client.get("/language/ja?next=/faq", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/faq"
    assert "よくあるご質問" in client.get("/faq", headers={"Accept-Language": "en"}).text
    assert client.get("/language/de").status_code == 404


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example"])
def test_the_language_switch_is_not_an_open_redirect(client: TestClient, target: str) -> None:
    response = client.get("/language/en", params={"next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_content_is_read_from_the_configured_directory(portal: App, tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "news.md").write_text(
        "# Operator news\n\n"
        "<script>alert('x')</script>\n\n"
        "Inline <img src=x onerror=alert(1)> and [a link](javascript:alert(1)) "
        "and [the FAQ](/faq) and [a site](https://example.com/page).\n\n"
        "Close: {{ closes_on }}, unknown: {{ nothing_here }}\n",
        encoding="utf-8",
    )
    settings = portal.settings.model_copy(update={"portal_content_dir": tmp_path})
    configured = App(settings=settings, engine=portal.engine, clock=portal.clock)
    with TestClient(create_app(context=configured)) as client:
        news = client.get("/news")
        faq_ja = client.get("/faq", headers={"Accept-Language": "ja"})
        news_ja = client.get("/news", headers={"Accept-Language": "ja"})
    assert "Operator news" in news.text
    assert "<script>alert" not in news.text and "&lt;script&gt;" in news.text
    assert "<img" not in news.text.split("</header>")[1]
    assert "javascript:" not in news.text
    assert 'href="/faq"' in news.text
    assert 'href="https://example.com/page" rel="noopener noreferrer"' in news.text
    assert "Close: 14 September 2025, unknown: {{ nothing_here }}" in text_of(news.text)
    # Missing here: the shipped content; missing in Japanese: the operator's English page.
    assert "よくあるご質問" in faq_ja.text
    assert "Operator news" in news_ja.text


def test_an_edited_content_file_shows_without_a_restart(portal: App, tmp_path: Path) -> None:
    page = tmp_path / "en" / "faq.md"
    page.parent.mkdir()
    page.write_text("# First version\n", encoding="utf-8")
    settings = portal.settings.model_copy(update={"portal_content_dir": tmp_path})
    configured = App(settings=settings, engine=portal.engine, clock=portal.clock)
    with TestClient(create_app(context=configured)) as client:
        assert "First version" in client.get("/faq").text
        page.write_text("# Second version, a little longer\n", encoding="utf-8")
        assert "Second version" in client.get("/faq").text


def test_every_page_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/login", "/verify/" + "x" * 43, "/does-not-exist", "/healthz"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store"
    static = client.get("/static/site.css").headers
    assert static["x-content-type-options"] == "nosniff"
    assert "no-store" not in static.get("cache-control", "")


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    for path in ("/", "/faq", "/news", "/contact", "/login"):
        html = client.get(path).text
        assert "<script" not in html
        assert " style=" not in html and "<style" not in html


def test_a_missing_page_is_a_friendly_404_in_the_visitors_language(client: TestClient) -> None:
    en = client.get("/no/such/page")
    ja = client.get("/no/such/page", headers={"Accept-Language": "ja"})
    assert en.status_code == ja.status_code == 404
    assert "Page not found" in en.text and "ページが見つかりません" in ja.text
    assert '{"detail"' not in en.text


def test_a_wrong_method_is_a_page_too(client: TestClient) -> None:
    response = client.delete("/login")
    assert response.status_code == 405
    assert "This page cannot be used that way" in response.text


def _failing_app(portal: App) -> FastAPI:
    app = create_app(context=portal)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    return app


def test_an_error_shows_a_page_without_a_trace(portal: App) -> None:
    with TestClient(_failing_app(portal), raise_server_exceptions=False) as client:
        en = client.get("/boom")
        ja = client.get("/boom", headers={"Accept-Language": "ja"})
    assert en.status_code == 500
    assert "Something went wrong on our side" in en.text
    assert "システムでエラーが発生しました" in ja.text
    for response in (en, ja):
        assert "Traceback" not in response.text
        assert "hunter2" not in response.text and "RuntimeError" not in response.text
        assert response.headers["x-frame-options"] == "DENY"
        assert "script-src 'self'" in response.headers["content-security-policy"]


def test_health_pings_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_reports_an_unreachable_database(portal: App, tmp_path: Path) -> None:
    # A directory cannot be opened as a SQLite database: every connection fails.
    broken = create_engine(f"sqlite:///{tmp_path}")
    down = App(settings=portal.settings, engine=broken, clock=portal.clock)
    with TestClient(create_app(context=down)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    broken.dispose()


def test_the_mailbox_exists_only_in_demo_mode(portal: App, tmp_path: Path) -> None:
    with TestClient(create_app(context=portal)) as client:
        assert client.get("/mailbox").status_code == 404
    demo_settings = portal.settings.model_copy(
        update={"demo_mode": True, "mailsink_dir": tmp_path / "mailsink"}
    )
    demo = App(settings=demo_settings, engine=portal.engine, clock=portal.clock)
    with TestClient(create_app(context=demo)) as client:
        mailbox = client.get("/mailbox")
        home = client.get("/")
    assert mailbox.status_code == 200
    # The mailbox shows received HTML email in a srcdoc frame, styled inline.
    assert "style-src 'self' 'unsafe-inline'" in mailbox.headers["content-security-policy"]
    assert "'unsafe-inline'" not in home.headers["content-security-policy"]
    assert "Demo mode" in home.text
