"""One SMTP connection to the relay, reused for every message, and what its replies mean.

Replies are sorted into three kinds, because the sender treats them differently:

* `DeliveryError` with ``permanent=True``: a 5xx reply about this message (unknown user, refused
  content, no SMTPUTF8 for an internationalized address). Retrying will not help.
* `DeliveryError` with ``permanent=False``: a 4xx reply, a timeout, or a connection that dropped
  before the relay confirmed the message with 250. The message is retried later; a DATA that
  was cut off may in rare cases have been delivered, which a retry duplicates, but a mail that
  was never confirmed must not be counted as sent.
* `RelayUnavailable` (a temporary `DeliveryError`): the relay cannot be reached at all; nothing
  else in the batch will get through either. `RelayConfigurationError`: the relay refuses our
  credentials or TLS setup — a problem for the operator, not for any message.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from functools import lru_cache
from types import TracebackType
from typing import Protocol

from domain.emails.mime import Composed
from domain.settings import Settings

MAX_REASON_CHARS = 1000

_Command = Callable[[], tuple[int, bytes]]
_Reply = tuple[int, bytes | str]
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


class DeliveryError(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason[:MAX_REASON_CHARS]
        self.permanent = permanent


class RelayUnavailable(DeliveryError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=False)


class RelayConfigurationError(Exception):
    """The relay refuses this configuration (credentials, TLS); the message names the setting."""


class Transport(Protocol):
    def offers(self, extension: str) -> bool:
        """Whether the relay announces an ESMTP extension (lower case, e.g. "8bitmime")."""
        ...

    def start(self, message: Composed) -> None:
        """Hand one message over, or raise `DeliveryError` / `RelayConfigurationError`."""
        ...

    def finish(self) -> None:
        """The verdict on the message handed over by `start`; `DeliveryError` if refused."""
        ...

    def close(self) -> None: ...


class _StaleConnection(Exception):
    """The reused connection was already dead before the relay accepted anything."""


@lru_cache(maxsize=1)
def _local_hostname() -> str:
    # smtplib asks for the FQDN on every connect, a reverse DNS lookup that can take seconds.
    return socket.getfqdn()


def _reply(stage: str, code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{stage}: {code} {' '.join(text.split())}".strip()


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600


class SmtpTransport:
    """smtplib over plain TCP, STARTTLS or implicit TLS, with optional AUTH, from settings."""

    def __init__(self, settings: Settings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._settings = settings
        self._ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None
        self._in_flight = False  # start() sent a message whose final reply is still unread
        self.connections = 0  # how many times we connected: reuse is the point of this class

    @property
    def relay(self) -> str:
        return f"{self._settings.smtp_host}:{self._settings.smtp_port}"

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._in_flight = False
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _drop(self) -> None:
        self._in_flight = False
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def offers(self, extension: str) -> bool:
        """Connects if needed: the composer asks before it chooses the body encoding."""
        return bool(self._connection().has_extn(extension))

    def send(self, message: Composed) -> None:
        """Deliver one message and wait for the relay's verdict."""
        self.start(message)
        self.finish()

    def start(self, message: Composed) -> None:
        """Send one message up to its last line, without waiting for the final reply.

        The relay takes a while to accept a message after its last line; a sender can prepare
        the next message meanwhile and then call `finish`. Nothing else is sent before that:
        this is not PIPELINING, the relay sees a strictly alternating conversation.
        """
        if self._in_flight:
            raise RuntimeError("finish() the message in flight before starting another")
        # A connection reused after a pause may have been closed by the relay (idle timeout);
        # that shows at MAIL FROM, before anything was accepted, so one reconnect is safe.
        for _ in range(2):
            fresh = self._smtp is None
            smtp = self._connection()
            if message.smtputf8 and not smtp.has_extn("smtputf8"):
                raise DeliveryError(
                    f"{message.recipient} is an internationalized address and the server does "
                    "not support SMTPUTF8",
                    permanent=True,
                )
            if message.eight_bit and not smtp.has_extn("8bitmime"):
                # Composed for a relay that offered 8BITMIME; the retry composes anew.
                raise DeliveryError("the relay no longer offers 8BITMIME", permanent=False)
            try:
                self._begin(smtp, message)
            except _StaleConnection as exc:
                self._drop()
                if fresh:
                    raise DeliveryError(
                        f"connection lost before MAIL FROM was accepted: {exc}", permanent=False
                    ) from None
                continue
            self._in_flight = True
            return
        raise AssertionError("unreachable")  # pragma: no cover

    def finish(self) -> None:
        """Read the relay's verdict on the message sent by `start`: 250, or `DeliveryError`."""
        if not self._in_flight:
            raise RuntimeError("no message in flight")
        self._in_flight = False
        smtp = self._smtp
        if smtp is None:  # pragma: no cover - start() leaves a live connection behind
            raise DeliveryError(
                "DATA: connection lost before the server confirmed", permanent=False
            )
        reply = self._step("DATA", smtp.getreply)
        self._require(smtp, "DATA", reply, (250,))

    def _begin(self, smtp: smtplib.SMTP, message: Composed) -> None:
        options: list[str] = []
        if smtp.has_extn("size"):
            options.append(f"SIZE={len(message.data)}")
        if message.smtputf8:
            options.append("SMTPUTF8")
        if message.smtputf8 or message.eight_bit:
            options.append("BODY=8BITMIME")
        mail: _Command
        rcpt: _Command
        if message.smtputf8:
            # smtplib switches the command encoding to UTF-8 for these.
            mail = lambda: smtp.mail(message.sender, options)  # noqa: E731
            rcpt = lambda: smtp.rcpt(message.recipient)  # noqa: E731
        else:
            # smtplib's mail() and rcpt() re-parse each address with email.utils.parseaddr, a
            # tenth of the client's time per message; ours are validated bare addresses.
            suffix = "".join(f" {option}" for option in options)
            mail = lambda: smtp.docmd("mail", f"FROM:<{message.sender}>{suffix}")  # noqa: E731
            rcpt = lambda: smtp.docmd("rcpt", f"TO:<{message.recipient}>")  # noqa: E731
        reply: _Reply
        try:
            reply = mail()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _StaleConnection(str(exc) or type(exc).__name__) from None
        if reply[0] == 421:
            raise _StaleConnection(_reply("MAIL FROM", *reply))
        self._require(smtp, "MAIL FROM", reply, (250,))
        reply = self._step("RCPT TO", rcpt)
        self._require(smtp, "RCPT TO", reply, (250, 251))
        reply = self._step("DATA", lambda: smtp.docmd("data"))
        self._require(smtp, "DATA", reply, (354,))
        # RFC 5321 §4.5.2: a line starting with "." gets another; the data ends with CRLF.
        payload = _LEADING_DOT.sub(b"..", message.data) + b".\r\n"

        def transmit() -> tuple[int, bytes]:
            smtp.send(payload)
            return 354, b""

        self._step("DATA", transmit)

    def _require(
        self, smtp: smtplib.SMTP, stage: str, reply: _Reply, accepted: tuple[int, ...]
    ) -> None:
        code, text = reply
        if code in accepted:
            return
        self._after_refusal(smtp, code)
        raise DeliveryError(_reply(stage, code, text), permanent=_is_permanent(code))

    def _step(self, stage: str, command: _Command) -> _Reply:
        try:
            return command()
        except smtplib.SMTPResponseException as exc:  # e.g. a reply line too long to be one
            return exc.smtp_code, exc.smtp_error
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise DeliveryError(
                f"{stage}: connection lost before the server confirmed the message "
                f"({str(exc) or type(exc).__name__})",
                permanent=False,
            ) from None

    def _after_refusal(self, smtp: smtplib.SMTP, code: int) -> None:
        if code == 421 or code < 0:  # the relay is closing, or answered gibberish
            self._drop()
        else:
            self._reset(smtp)

    def _reset(self, smtp: smtplib.SMTP) -> None:
        # RSET ends the failed transaction so the connection can carry the next message.
        try:
            code, _ = smtp.rset()
        except (smtplib.SMTPException, OSError):
            code = -1
        if code != 250:
            self._drop()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except RelayConfigurationError:
                raise
            except ssl.SSLCertVerificationError as exc:
                raise RelayConfigurationError(
                    f"the TLS certificate of the relay {self.relay} is not trusted "
                    f"({exc.verify_message})"
                ) from None
            except smtplib.SMTPResponseException as exc:
                reason = _reply("connect", exc.smtp_code, exc.smtp_error)
                if _is_permanent(exc.smtp_code):
                    raise RelayConfigurationError(
                        f"the relay {self.relay} refuses our connection ({reason})"
                    ) from None
                raise RelayUnavailable(
                    f"the relay {self.relay} is unavailable ({reason})"
                ) from None
            except (smtplib.SMTPException, OSError) as exc:
                raise RelayUnavailable(
                    f"cannot connect to the relay {self.relay} ({str(exc) or type(exc).__name__})"
                ) from None
            self.connections += 1
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        timeout = settings.smtp_timeout_seconds
        smtp: smtplib.SMTP | None = None
        try:
            if settings.smtp_security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    settings.smtp_host,
                    settings.smtp_port,
                    local_hostname=_local_hostname(),
                    timeout=timeout,
                    context=self._tls_context(),
                )
            else:
                smtp = smtplib.SMTP(
                    settings.smtp_host,
                    settings.smtp_port,
                    local_hostname=_local_hostname(),
                    timeout=timeout,
                )
            self._greet(smtp)
            return smtp
        except BaseException:
            if smtp is not None:
                smtp.close()
            raise

    def _greet(self, smtp: smtplib.SMTP) -> None:
        settings = self._settings
        try:
            self._expect(smtp.ehlo(), "EHLO")
            if settings.smtp_security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise RelayConfigurationError(
                        f"the relay {self.relay} does not offer STARTTLS; set "
                        "SWITCHOVER_SMTP_SECURITY=ssl or none to match it"
                    )
                self._expect(smtp.starttls(context=self._tls_context()), "STARTTLS")
                self._expect(smtp.ehlo(), "EHLO")
            if settings.smtp_username:
                self._login(smtp)
        except ssl.SSLCertVerificationError as exc:
            raise RelayConfigurationError(
                f"the TLS certificate of the relay {self.relay} is not trusted "
                f"({exc.verify_message})"
            ) from None

    def _login(self, smtp: smtplib.SMTP) -> None:
        settings = self._settings
        password = settings.smtp_password
        try:
            smtp.login(
                settings.smtp_username or "", password.get_secret_value() if password else ""
            )
        except smtplib.SMTPAuthenticationError as exc:
            raise RelayConfigurationError(
                f"the relay {self.relay} refused the login of {settings.smtp_username!r} "
                f"({_reply('AUTH', exc.smtp_code, exc.smtp_error)}); check "
                "SWITCHOVER_SMTP_USERNAME and SWITCHOVER_SMTP_PASSWORD"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise RelayConfigurationError(
                f"the relay {self.relay} does not offer AUTH ({exc}); unset "
                "SWITCHOVER_SMTP_USERNAME or use SWITCHOVER_SMTP_SECURITY=starttls or ssl"
            ) from None
        except (smtplib.SMTPResponseException, smtplib.SMTPServerDisconnected):
            raise
        except smtplib.SMTPException as exc:  # e.g. no AUTH mechanism in common
            raise RelayConfigurationError(
                f"cannot log in to the relay {self.relay} ({exc})"
            ) from None

    def _expect(self, reply: tuple[int, bytes], stage: str) -> None:
        code, text = reply
        if 200 <= code < 300:
            return
        raise smtplib.SMTPResponseException(code, f"{stage} refused: {text!r}")

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context
