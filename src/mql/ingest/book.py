"""Leads and accounts of one import, held in memory and written in bulk.

The book loads the existing leads and accounts that a file names, merges the
file's rows into them by identity, then writes new and changed ones with a few
bulk statements (no per-row ORM round trips).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mql.store.tables import accounts, leads

#: Keys per ``IN (...)`` list: below every SQLite build's bound-parameter limit.
IN_CHUNK = 500

#: Lead fields written once: a later import never replaces them.
WRITE_ONCE = ("first_source", "referral_source")
#: Flags that stay set once set: an opt-out is withdrawn only on purpose.
STICKY = ("do_not_email", "opted_out")
#: Fields a later row may fill or change (empty cells never erase).
UPDATABLE = ("converted", "converted_at", "created_at")


class IdentityConflict(ValueError):
    """A row whose email and external id belong to two different leads."""


def chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    """Consecutive slices of ``items`` of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class AccountRecord:
    """An account as the import sees it."""

    id: int | None
    domain: str | None
    external_id: str | None
    name: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    dirty: bool = False


@dataclass
class LeadRecord:
    """A lead as the import sees it."""

    id: int | None
    email: str | None
    external_id: str | None
    account: AccountRecord | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    dirty: bool = False


class Book:
    """The leads and accounts touched by one import."""

    def __init__(self, conn: Connection, now: datetime, run_id: int) -> None:
        self.conn = conn
        self.now = now
        self.run_id = run_id
        self.by_email: dict[str, LeadRecord] = {}
        self.by_external: dict[str, LeadRecord] = {}
        self.accounts_by_domain: dict[str, AccountRecord] = {}
        self.accounts_by_external: dict[str, AccountRecord] = {}
        self.accounts_by_id: dict[int, AccountRecord] = {}
        self.new_leads: list[LeadRecord] = []
        self.new_accounts: list[AccountRecord] = []

    # -- loading -------------------------------------------------------------

    def load(
        self,
        emails: Iterable[str],
        external_ids: Iterable[str],
        domains: Iterable[str],
        account_ids: Iterable[str],
    ) -> None:
        """Read the existing leads and accounts with these keys."""
        self._load_accounts(accounts.c.domain, sorted(set(domains)))
        self._load_accounts(accounts.c.external_id, sorted(set(account_ids)))
        self._load_leads(leads.c.email, sorted(set(emails)))
        self._load_leads(leads.c.external_id, sorted(set(external_ids)))

    def _load_accounts(self, column: sa.Column[Any], keys: list[str]) -> None:
        for part in chunks(keys):
            for row in self.conn.execute(sa.select(accounts).where(column.in_(part))):
                self._remember_account(
                    AccountRecord(
                        id=row.id,
                        domain=row.domain,
                        external_id=row.external_id,
                        name=row.name,
                        attributes=dict(row.attributes or {}),
                    )
                )

    def _load_leads(self, column: sa.Column[Any], keys: list[str]) -> None:
        for part in chunks(keys):
            query = sa.select(leads).where(column.in_(part))
            for row in self.conn.execute(query):
                if row.id in {r.id for r in self._known(row.email, row.external_id)}:
                    continue
                record = LeadRecord(
                    id=row.id,
                    email=row.email,
                    external_id=row.external_id,
                    account=self._account_by_id(row.account_id),
                    attributes=dict(row.attributes or {}),
                    values={
                        name: getattr(row, name)
                        for name in (*WRITE_ONCE, *STICKY, *UPDATABLE)
                    },
                )
                self._remember_lead(record)

    def _known(self, email: str | None, external_id: str | None) -> list[LeadRecord]:
        found = [
            self.by_email.get(email or ""),
            self.by_external.get(external_id or ""),
        ]
        return [r for r in found if r is not None]

    def _account_by_id(self, account_id: int | None) -> AccountRecord | None:
        if account_id is None:
            return None
        if account_id in self.accounts_by_id:
            return self.accounts_by_id[account_id]
        row = self.conn.execute(
            sa.select(accounts).where(accounts.c.id == account_id)
        ).one()
        record = AccountRecord(
            id=row.id,
            domain=row.domain,
            external_id=row.external_id,
            name=row.name,
            attributes=dict(row.attributes or {}),
        )
        self._remember_account(record)
        return record

    def _remember_account(self, record: AccountRecord) -> None:
        if record.id is not None:
            self.accounts_by_id[record.id] = record
        if record.domain:
            self.accounts_by_domain[record.domain] = record
        if record.external_id:
            self.accounts_by_external[record.external_id] = record

    def _remember_lead(self, record: LeadRecord) -> None:
        if record.email:
            self.by_email[record.email] = record
        if record.external_id:
            self.by_external[record.external_id] = record

    # -- merging -------------------------------------------------------------

    def find_lead(
        self, email: str | None, external_id: str | None
    ) -> LeadRecord | None:
        """The lead with this email or external id; raises on a conflict."""
        by_email = self.by_email.get(email) if email else None
        by_external = self.by_external.get(external_id) if external_id else None
        if by_email and by_external and by_email is not by_external:
            raise IdentityConflict(
                f"email {email!r} belongs to one lead and external id "
                f"{external_id!r} to another; fix the row or merge the leads"
            )
        if by_email and external_id and by_email.external_id not in (None, external_id):
            raise IdentityConflict(
                f"email {email!r} belongs to a lead with external id "
                f"{by_email.external_id!r}, not {external_id!r}"
            )
        if by_external and email and by_external.email not in (None, email):
            raise IdentityConflict(
                f"external id {external_id!r} belongs to a lead with email "
                f"{by_external.email!r}, not {email!r}"
            )
        return by_email or by_external

    def new_lead(self, email: str | None, external_id: str | None) -> LeadRecord:
        """A lead created by this import."""
        record = LeadRecord(id=None, email=email, external_id=external_id)
        self.new_leads.append(record)
        self._remember_lead(record)
        return record

    def fill_identity(
        self, record: LeadRecord, email: str | None, external_id: str | None
    ) -> bool:
        """Give a lead the email or external id it lacks; True if one was added."""
        changed = False
        if email and record.email is None:
            record.email = email
            self.by_email[email] = record
            changed = True
        if external_id and record.external_id is None:
            record.external_id = external_id
            self.by_external[external_id] = record
            changed = True
        record.dirty |= changed and record.id is not None
        return changed

    def account(
        self, domain: str | None, external_id: str | None
    ) -> AccountRecord | None:
        """The account with this external id or domain, created when new."""
        if not domain and not external_id:
            return None
        found = (self.accounts_by_external.get(external_id or "")) or (
            self.accounts_by_domain.get(domain or "")
        )
        if found is None:
            found = AccountRecord(id=None, domain=domain, external_id=external_id)
            self.new_accounts.append(found)
            self._remember_account(found)
        elif domain and found.domain is None and domain not in self.accounts_by_domain:
            found.domain = domain
            found.dirty = found.id is not None
            self._remember_account(found)
        return found

    # -- writing -------------------------------------------------------------

    def flush(self) -> None:
        """Write new and changed accounts and leads."""
        self._insert_accounts()
        self._update_accounts()
        self._insert_leads()
        self._update_leads()

    def leads_of_changed_accounts(self) -> set[int]:
        """Every stored lead of an account this import changed: their scoring
        attributes (``account.*``) changed with it."""
        changed = sorted(
            {a.id for a in self._all_accounts() if a.dirty and a.id is not None}
        )
        found: set[int] = set()
        for part in chunks(changed):
            query = sa.select(leads.c.id).where(leads.c.account_id.in_(part))
            found.update(self.conn.execute(query).scalars())
        return found

    def _insert_accounts(self) -> None:
        if not self.new_accounts:
            return
        rows = [
            {
                "domain": a.domain,
                "external_id": a.external_id,
                "name": a.name,
                "attributes": a.attributes,
                "created_at": self.now,
                "updated_at": self.now,
            }
            for a in self.new_accounts
        ]
        self.conn.execute(accounts.insert(), rows)
        by_domain = {a.domain: a for a in self.new_accounts if a.domain}
        by_external = {a.external_id: a for a in self.new_accounts if a.external_id}
        for column, table_key, wanted in (
            (accounts.c.domain, "domain", by_domain),
            (accounts.c.external_id, "external_id", by_external),
        ):
            for part in chunks(sorted(wanted)):
                query = sa.select(accounts.c.id, column).where(column.in_(part))
                for row in self.conn.execute(query):
                    wanted[row._mapping[table_key]].id = row.id

    def _update_accounts(self) -> None:
        changed = [
            a
            for a in {id(a): a for a in self._all_accounts()}.values()
            if a.dirty and a.id is not None
        ]
        if not changed:
            return
        self.conn.execute(
            accounts.update().where(accounts.c.id == sa.bindparam("account_id")),
            [
                {
                    "account_id": a.id,
                    "domain": a.domain,
                    "name": a.name,
                    "attributes": a.attributes,
                    "updated_at": self.now,
                }
                for a in changed
            ],
        )

    def _all_accounts(self) -> list[AccountRecord]:
        return [*self.accounts_by_domain.values(), *self.accounts_by_external.values()]

    def _lead_row(self, record: LeadRecord) -> dict[str, Any]:
        values = {name: record.values.get(name) for name in (*WRITE_ONCE, *UPDATABLE)}
        values.update({name: bool(record.values.get(name)) for name in STICKY})
        values["created_at"] = values["created_at"] or self.now
        return {
            "email": record.email,
            "external_id": record.external_id,
            "account_id": record.account.id if record.account else None,
            "attributes": record.attributes,
            "updated_at": self.now,
            **values,
        }

    def _insert_leads(self) -> None:
        if not self.new_leads:
            return
        rows = [
            {**self._lead_row(r), "import_run_id": self.run_id} for r in self.new_leads
        ]
        self.conn.execute(leads.insert(), rows)
        for column, attr in (
            (leads.c.email, "email"),
            (leads.c.external_id, "external_id"),
        ):
            wanted = {getattr(r, attr): r for r in self.new_leads if getattr(r, attr)}
            for part in chunks(sorted(wanted)):
                query = sa.select(leads.c.id, column).where(column.in_(part))
                for row in self.conn.execute(query):
                    wanted[row._mapping[attr]].id = row.id

    def _update_leads(self) -> None:
        new = {id(r) for r in self.new_leads}
        changed = [
            r
            for r in self.all_leads()
            if r.dirty and r.id is not None and id(r) not in new
        ]
        if not changed:
            return
        self.conn.execute(
            leads.update().where(leads.c.id == sa.bindparam("lead_id")),
            [{**self._lead_row(r), "lead_id": r.id} for r in changed],
        )

    def all_leads(self) -> list[LeadRecord]:
        """Every lead the import has seen, each once."""
        seen = {id(r): r for r in (*self.by_email.values(), *self.by_external.values())}
        return list(seen.values())
