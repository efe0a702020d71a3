"""The reference tables: columns, types and bilingual descriptions.

``admin_divisions`` is built from the vendored files under
``dangjian/data/gazetteer`` (see PROVENANCE.md there) by
``dangjian.reference.gazetteer.load_admin_divisions``.
"""
from __future__ import annotations

from dangjian.schema import ADMIN_DIVISIONS, FORMER_NAME, LEVELS

TABLES = (ADMIN_DIVISIONS,)

__all__ = ["ADMIN_DIVISIONS", "FORMER_NAME", "LEVELS", "TABLES"]
