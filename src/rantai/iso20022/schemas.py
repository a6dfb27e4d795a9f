"""The XSDs shipped with the package, safe parsing, and validation that names the element.

The schemas under ``schemas/`` are subsets of ISO 20022 version 11 messages written by this
project from the published message definitions (no package on PyPI or npm ships the
official XSDs; docs/iso20022.md lists what each covers). Each is compiled once, on first use.

Parsing never resolves entities, never loads a DTD and never touches the network, so a
message cannot read files or make requests (XXE); documents over ``XML_BYTES_MAX`` are
refused before parsing.

Checks, in order (the first that fails is the error): ``too_large``, ``malformed`` (not
well-formed XML), ``malformed`` (a DOCTYPE: never in ISO 20022), ``malformed`` (the root is
not ``Document`` of the expected namespace), ``malformed`` (schema-invalid: the first error,
naming its element).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib.resources import files
from typing import Any, Final, cast

from lxml import etree

from rantai.core import codes
from rantai.iso20022.errors import Iso20022Error

__all__ = [
    "PACS009",
    "SESE023",
    "SESE025",
    "XML_BYTES_MAX",
    "check_document",
    "element_path",
    "parse_document",
]

XML_BYTES_MAX: Final = 256 * 1024  # one instruction is about 2 KiB

SESE023: Final = "sese.023.001.11"
SESE025: Final = "sese.025.001.11"
PACS009: Final = "pacs.009.001.11"
_NAMESPACE_PREFIX: Final = "urn:iso:std:iso:20022:tech:xsd:"
_CLARK: Final = re.compile(r"\{[^}]*\}")


def namespace(message: str) -> str:
    """The XML namespace of ``message`` (e.g. ``sese.023.001.11``)."""
    return _NAMESPACE_PREFIX + message


@cache
def _schema(message: str) -> etree.XMLSchema:
    source = files("rantai.iso20022").joinpath("schemas", f"{message}.rantai.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(source, _parser()))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def element_path(element: etree._Element) -> str:
    """``element``'s path of local names from below ``Document``: ``SctiesSttlmTxInstr/TxId``."""
    names = [etree.QName(e).localname for e in (element, *element.iterancestors())]
    names.reverse()
    return "/".join(names[1:]) or names[0]


def parse_document(raw: bytes, message: str) -> etree._Element:
    """The root ``Document`` of ``raw``, checked against ``message``'s schema.

    Raises Iso20022Error in the order of the module docstring.
    """
    if len(raw) > XML_BYTES_MAX:
        raise Iso20022Error(codes.TOO_LARGE, "Document", f"more than {XML_BYTES_MAX} bytes")
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        raise Iso20022Error(codes.MALFORMED, "Document", f"not well-formed XML: {exc}") from None
    doctype: str = getattr(root.getroottree().docinfo, "doctype", "")  # untyped in lxml-stubs
    if doctype:
        # ISO 20022 messages have no DTD; one could only declare entities (XXE, expansion).
        raise Iso20022Error(codes.MALFORMED, "Document", "a DOCTYPE is not allowed")
    expected = etree.QName(namespace(message), "Document")
    if root.tag != expected.text:
        raise Iso20022Error(
            codes.MALFORMED,
            etree.QName(root).localname if isinstance(root.tag, str) else "Document",
            f"not a {message} Document (namespace {namespace(message)})",
        )
    check_document(root, message)
    return root


def check_document(root: etree._Element, message: str) -> None:
    """Raise Iso20022Error(malformed) naming the first element ``root`` breaks the schema on."""
    schema = _schema(message)
    if schema.validate(root):
        return
    # lxml-stubs do not type the error log; its entries have .path and .message.
    error: Any = next(iter(cast(Iterable[Any], schema.error_log)))
    found = root.getroottree().xpath(error.path) if error.path else []
    where = (
        element_path(found[0])
        if isinstance(found, list) and found and isinstance(found[0], etree._Element)
        else "Document"
    )
    text = _CLARK.sub("", error.message)
    raise Iso20022Error(codes.MALFORMED, where, f"schema {message}: {text}")
