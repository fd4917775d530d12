"""What simulated people write to the helpdesk, in English or Japanese, by form or by email.

The words matter: the helpdesk-ingest rules categorize emails by them, so these texts are
written the way customers write, not as category names.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import mailbox
from email.message import EmailMessage
from pathlib import Path

from db.enums import HelpdeskCategory, Locale

TEXTS: dict[tuple[str, Locale], tuple[str, str]] = {
    ("expired", Locale.EN): (
        "Verification link expired",
        "Hello, I clicked the link in your email but the page says the link has expired. "
        "Could you send a new one?",
    ),
    ("expired", Locale.JA): (
        "確認リンクの有効期限について",
        "お世話になっております。メールのリンクをクリックしたところ、期限切れと表示されました。"
        "再送をお願いできますでしょうか。",
    ),
    ("not_received", Locale.EN): (
        "Verification email not received",
        "Our administrator was registered several days ago but has not received the "
        "verification email. We checked the spam folder too.",
    ),
    ("not_received", Locale.JA): (
        "確認メールが届きません",
        "数日前に登録しましたが、確認メールが届きません。迷惑メールフォルダも確認しました。",
    ),
    ("missed", Locale.EN): (
        "We missed the pre-registration",
        "We did not register before the deadline. Please add our administrator to the new "
        "log-in system. Our log-in ID is {login_id}.",
    ),
    ("missed", Locale.JA): (
        "事前登録に間に合いませんでした",
        "期限までに事前登録ができませんでした。管理者のユーザー追加をお願いします。"
        "ログインIDは {login_id} です。",
    ),
    ("locked_out", Locale.EN): (
        "Cannot log in since the change",
        "Since the change we cannot log in with our company ID {login_id} any more. "
        "Please help us register.",
    ),
    ("locked_out", Locale.JA): (
        "ログインできません",
        "切り替え以降、会社のID {login_id} でログインできません。登録方法を教えてください。",
    ),
}
FORM_CATEGORY = {
    "expired": HelpdeskCategory.LINK_EXPIRED,
    "not_received": HelpdeskCategory.EMAIL_NOT_RECEIVED,
    "missed": HelpdeskCategory.ADD_OR_REMOVE_USER,
    "locked_out": HelpdeskCategory.CANNOT_LOG_IN,
}
REPLY = {
    Locale.EN: "Any news on this? We still cannot proceed.",
    Locale.JA: "その後いかがでしょうか。まだ進められない状況です。",
}


def words(reason: str, locale: Locale, login_id: str) -> tuple[str, str]:
    subject, text = TEXTS[(reason, locale)]
    return subject, text.format(login_id=login_id)


def write_email(
    folder: Path,
    *,
    sender_name: str,
    sender: str,
    to: str,
    subject: str,
    text: str,
    at: dt.datetime,
    message_id: str,
    in_reply_to: str | None = None,
) -> None:
    """Deliver one email into the support Maildir, as the company's mail server would."""
    message = EmailMessage()
    message["From"] = email.utils.formataddr((sender_name, sender))
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(at)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(text)
    mailbox.Maildir(folder, create=False).add(message)
