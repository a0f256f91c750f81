"""One typed settings object: environment first, then defaults.

>>> Settings(database_url="postgresql+psycopg://app:secret@db/mql")
Settings(database_url='postgresql+psycopg://app:***@db/mql')
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: The environment variable that names the database.
DATABASE_URL_ENV = "MQL_DATABASE_URL"
#: An embedded SQLite file in the working folder when nothing else is said.
DEFAULT_DATABASE_URL = "sqlite:///mql.db"


#: A password given as a parameter: in a URL's query (``?password=...``) or in a
#: keyword connection string (``host=... password=...``).
PASSWORD_PARAMETER = re.compile(
    r"(?P<head>(?:^|[?&\s])password=)(?P<password>[^&#\s]*)", re.IGNORECASE
)


def hide_password_parameters(text: str) -> str:
    """``text`` with every ``password=`` parameter's value replaced by ``***``.

    >>> hide_password_parameters("postgresql://app@db/mql?sslmode=require&password=x")
    'postgresql://app@db/mql?sslmode=require&password=***'
    >>> hide_password_parameters("host=db user=app password=x dbname=mql")
    'host=db user=app password=*** dbname=mql'
    """
    return PASSWORD_PARAMETER.sub(r"\g<head>***", text)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for logs and reprs).

    >>> mask_url("postgresql+psycopg://app@db/mql?password=secret")
    'postgresql+psycopg://app@db/mql?password=***'
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<unparseable database URL>"
    if parsed.password is not None:
        url = parsed.render_as_string(hide_password=True)
    return hide_password_parameters(url)


@dataclass(frozen=True)
class Settings:
    """Where mql keeps its data; the password never shows in ``repr``."""

    database_url: str = DEFAULT_DATABASE_URL

    def __repr__(self) -> str:
        return f"Settings(database_url={mask_url(self.database_url)!r})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings read from the environment (``MQL_DATABASE_URL``), else defaults."""
        env = os.environ if environ is None else environ
        url = env.get(DATABASE_URL_ENV, "").strip()
        return cls(database_url=url or DEFAULT_DATABASE_URL)
