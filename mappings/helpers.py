"""Small pure helpers for mappings (the shipped defaults import them; custom mappings may too).

Graph rules encoded here (Graph v1.0 reference, user and group resources):
- mailNickname: at most 64 ASCII characters, none of ``@ ( ) \\ [ ] " ; : . < > ,`` or space.
- passwordProfile.password: the default policy wants 8-256 characters from at least three of
  upper, lower, digit, symbol; we generate all four and 20 characters to stay clear of it.
"""

from __future__ import annotations

import re
import secrets
import string
import unicodedata

MAIL_NICKNAME_MAX = 64
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
# Everything Graph rejects in a mailNickname, plus control characters and DEL.
_NICKNAME_FORBIDDEN_RE = re.compile(r'[@()\\\[\]";:.<>,\s\x00-\x1f\x7f]+')
_SLUG_SEPARATOR_RE = re.compile(r"[^a-z0-9]+")
# Letters NFKD does not decompose into ASCII; folded by hand so they are not lost.
_FOLD = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "đ": "d",
        "Đ": "D",
        "ł": "l",
        "Ł": "L",
        "þ": "th",
        "Þ": "TH",
        "\u0131": "i",  # dotless i (Turkish)
    }
)
PASSWORD_SYMBOLS = "!#$%&*+-.:=?@^_~"
_PASSWORD_CLASSES = (
    string.ascii_uppercase,
    string.ascii_lowercase,
    string.digits,
    PASSWORD_SYMBOLS,
)
_PASSWORD_ALPHABET = "".join(_PASSWORD_CLASSES)


def ascii_fold(text: str) -> str:
    """Fold to ASCII: "Équipe Zürich" -> "Equipe Zurich"; letters with no ASCII form go."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return decomposed.encode("ascii", "ignore").decode("ascii")


def looks_like_email(value: str | None) -> bool:
    return bool(value) and _EMAIL_RE.match(value or "") is not None


def email_domain(address: str) -> str:
    """Lower-case domain part of an address ("" when there is no "@")."""
    _, at, domain = address.rpartition("@")
    return domain.strip().lower() if at else ""


def _cut(text: str, separator: str = "-") -> str:
    return text[:MAIL_NICKNAME_MAX].strip(separator)


def mail_nickname(username: str | None, fallback: str) -> str:
    """A valid user mailNickname from a userName: the local part before "@", ASCII-folded,
    each run of forbidden characters replaced by "-" (so "john.doe" stays readable as
    "john-doe"); ``fallback`` (sanitised the same way) when nothing is left."""
    local = (username or "").split("@", 1)[0]
    nickname = _cut(_NICKNAME_FORBIDDEN_RE.sub("-", ascii_fold(local)))
    if nickname:
        return nickname
    return _cut(_NICKNAME_FORBIDDEN_RE.sub("-", ascii_fold(fallback))) or "user"


def slugify(text: str | None) -> str:
    """Lower-case ASCII slug: "Équipe Zürich" -> "equipe-zurich"; may be empty."""
    folded = ascii_fold(text or "").lower()
    return _cut(_SLUG_SEPARATOR_RE.sub("-", folded).strip("-"))


def group_mail_nickname(name: str | None, uid: str | None) -> str:
    """A valid group mailNickname: the slug of the name, else "group-" + 8 chars of the uid.

    Never empty: Graph requires mailNickname on create even for security groups.
    """
    return slugify(name) or f"group-{slugify(uid)[:8]}".rstrip("-")


def strong_password(length: int = 20) -> str:
    """A random password with upper, lower, digit and symbol, from the OS CSPRNG.

    Used on first create when the SCIM client supplied no password: Graph requires one, and
    the user signs in through SSO or a reset, so nobody needs to know it.
    """
    if length < len(_PASSWORD_CLASSES):
        raise ValueError("password length too small for the complexity rules")
    chars = [secrets.choice(cls) for cls in _PASSWORD_CLASSES]
    chars += [secrets.choice(_PASSWORD_ALPHABET) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
