"""Importing leads and events: readers, mappings, identity, quarantine.

The public entry points are :func:`import_leads`, :func:`import_events`,
:func:`list_quarantine` and :func:`clear_quarantine`; mapping files are
described in docs/import.md.
"""

from mql.ingest.identity import (
    FREE_MAIL_DOMAINS,
    account_domain,
    normalise_email,
    registered_domain,
)
from mql.ingest.importer import (
    ImportReport,
    ProgressCallback,
    import_events,
    import_leads,
)
from mql.ingest.mapping import Mapping, load_mapping, parse_mapping
from mql.ingest.quarantine import QuarantineRow, clear_quarantine, list_quarantine

__all__ = [
    "FREE_MAIL_DOMAINS",
    "ImportReport",
    "Mapping",
    "ProgressCallback",
    "QuarantineRow",
    "account_domain",
    "clear_quarantine",
    "import_events",
    "import_leads",
    "list_quarantine",
    "load_mapping",
    "normalise_email",
    "parse_mapping",
    "registered_domain",
]
