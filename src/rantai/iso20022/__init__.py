"""ISO 20022 messages for settlement: sese.023 in, sese.025 and pacs.009 out.

```
sese.023 XML --import_sese023(raw, IsoMapping)--> ProposeSettlement (unsigned body)
settled Instruction --dvp_of--> DvP --export_sese025--> sese.025 XML (the confirmation)
                                    --export_pacs009--> pacs.009 XML (its cash leg)
```
Pure mapping over ``rantai.core`` records and lxml (no I/O, no clock), so the API and the
SDK give the same answers. Schemas: ``rantai.iso20022.schemas`` (subsets written from the
published message definitions; docs/iso20022.md says exactly what they cover and how each
element maps). Every refusal is an ``Iso20022Error`` with a stable reason code and the
failing element's path.
"""

from __future__ import annotations

from rantai.iso20022.amounts import minor_from_text, text_from_minor
from rantai.iso20022.confirmations import DvP, dvp_of, export_pacs009, export_sese025
from rantai.iso20022.errors import NOT_DVP, Iso20022Error
from rantai.iso20022.mapping import PROPRIETARY_SCHEME, IsoMapping
from rantai.iso20022.schemas import (
    PACS009,
    SESE023,
    SESE025,
    XML_BYTES_MAX,
    check_document,
    parse_document,
)
from rantai.iso20022.sese023 import deadline_of, import_sese023

__all__ = [
    "NOT_DVP",
    "PACS009",
    "PROPRIETARY_SCHEME",
    "SESE023",
    "SESE025",
    "XML_BYTES_MAX",
    "DvP",
    "Iso20022Error",
    "IsoMapping",
    "check_document",
    "deadline_of",
    "dvp_of",
    "export_pacs009",
    "export_sese025",
    "import_sese023",
    "minor_from_text",
    "parse_document",
    "text_from_minor",
]
