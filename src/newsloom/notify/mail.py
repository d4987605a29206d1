"""E-mail over SMTP: checking addresses, building messages, sending them with the configured encryption.

Every failure a reader or admin can cause (no server configured, a malformed address, the server refusing,
timing out or closing) is a ``DeliveryError`` or ``InputError`` with a readable message, never a traceback.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from newsloom.errors import ConfigError, DeliveryError, InputError
from newsloom.settings import Settings

TLS_MODES = ("none", "starttls", "tls")
# A pragmatic check (RFC 5321 limits, one @, a dotted domain, no spaces or angle brackets): what a mail
# server accepts is its decision; this only stops typos and header injection early.
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
MAX_ADDRESS = 254


def check_address(address: str) -> str:
    """The address trimmed, or ``InputError`` when it is not a plain ``user@domain.tld`` address."""
    text = address.strip()
    if len(text) > MAX_ADDRESS or not _ADDRESS.match(text):
        raise InputError(f"{address!r} is not an e-mail address (expected name@example.org)")
    return text


def mail_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host and settings.mail_from)


def new_message(
    settings: Settings, to: str, subject: str, text: str, html: str | None = None, *, message_id: str | None = None,
    now: datetime, headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A message from ``mail_from``; ``message_id`` (an idempotency key) makes retries recognisable."""
    sender = check_address(settings.mail_from) if settings.mail_from else ""
    if not sender:
        raise ConfigError("e-mail needs the mail_from setting (NEWSLOOM_MAIL_FROM)")
    recipient = check_address(to)
    message = EmailMessage()
    message["From"] = Address(display_name="newsloom", addr_spec=sender)
    message["To"] = recipient
    message["Subject"] = " ".join(subject.split())[:200]
    message["Date"] = format_datetime(now)
    domain = sender.rsplit("@", 1)[1]
    message["Message-ID"] = f"<{message_id}@{domain}>" if message_id else make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send_message(settings: Settings, message: EmailMessage) -> None:
    """Send through ``smtp_host``; ``DeliveryError`` saying why when the server cannot be used or refuses."""
    if not settings.smtp_host:
        raise ConfigError("e-mail needs the smtp_host setting (NEWSLOOM_SMTP_HOST)")
    mode = settings.smtp_tls.strip().lower()
    if mode not in TLS_MODES:
        raise ConfigError(f"smtp_tls is {settings.smtp_tls!r}: use none, starttls or tls")
    where = f"SMTP server {settings.smtp_host}:{settings.smtp_port}"
    context = tls_context(settings)
    try:
        smtp: smtplib.SMTP
        if mode == "tls":
            smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s)
        with smtp:
            if mode == "starttls":
                smtp.starttls(context=context)
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            refused = smtp.send_message(message)
    except ssl.SSLCertVerificationError as exc:
        raise DeliveryError(
            f"{where}: its TLS certificate is not trusted ({exc.verify_message}); to trust a private CA, set "
            "smtp_ca_file (NEWSLOOM_SMTP_CA_FILE)"
        ) from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"{where} refused the login of {settings.smtp_user!r}: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        reasons = "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in exc.recipients.items())
        raise DeliveryError(f"{where} refused the recipient ({reasons})") from exc
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"{where} refused: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"{where}: {exc} (check smtp_tls)") from exc
    except TimeoutError as exc:
        raise DeliveryError(f"{where} did not answer within {settings.smtp_timeout_s:g} s") from exc
    except smtplib.SMTPServerDisconnected as exc:
        if "timed out" in str(exc):  # smtplib turns a read timeout into a disconnect
            raise DeliveryError(f"{where} did not answer within {settings.smtp_timeout_s:g} s") from exc
        raise DeliveryError(f"{where} closed the connection: {exc}") from exc
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise DeliveryError(f"{where}: {type(exc).__name__}: {exc}") from exc
    if refused:
        raise DeliveryError(f"{where} refused {', '.join(sorted(refused))}")


def tls_context(settings: Settings) -> ssl.SSLContext:
    """Certificates are always verified (host name included): against ``smtp_ca_file`` when set, else the system CAs."""
    if not settings.smtp_ca_file:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=settings.smtp_ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"smtp_ca_file {settings.smtp_ca_file!r} cannot be used: {exc}") from exc


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
