"""The Python client of a Rantai node: keys, transaction builders, and a client that signs,
submits, waits, and checks every proof the node returns.

```python
from rantai import sdk

me = sdk.load_key("alice.key", passphrase="...")
with sdk.Client("http://127.0.0.1:8080", party=me.party, key=me.key) as client:
    done = client.submit(sdk.transfer("alice:main", "bob:main", "GII-2035", 10_00), wait=True)
    assert done.ok, done.receipt
    print(client.balance("alice:main", "GII-2035").amount)  # proven against the state root
```

Exceptions:

```
RantaiError
├── ApiError(code, message, status)   the API's {"code", "message"} with its HTTP status
│   ├── Rejected                      400, 409, 413, 422: the request is refused as sent
│   ├── Unauthenticated               401: read signature missing, wrong, stale, replayed
│   ├── Forbidden                     403: outside the reader's scope
│   ├── NotFound                      404 (lookups by id return None instead)
│   └── Unavailable                   429, 503: busy or not ready; retry
├── ProofError                        a proof, header hash or certificate does not verify
├── TransportError                    no complete answer (connection, timeout)
├── UnexpectedResponse                an answer that does not fit docs/api.md
├── InvalidTransaction(code, message) a body fails the stateless checks; never sent
├── TravelError                       no copy of the travel-rule data for this reader's key
│   └── TravelMismatch                the copy does not open or is not the committed payload
└── KeyFileError                      a key file cannot be read
    └── WrongPassphrase
```
A transaction the node refuses or rejects is not an exception: it is data, the ``code`` of its
``Submission`` or of its receipt.

Builders: one function per transaction kind (``transfer``, ``set_rules``, ``propose`` ...);
rules for ``set_rules`` in ``rantai.sdk.rules``, governance actions for ``propose`` in
``rantai.sdk.actions``; ``seal_travel`` and ``open_travel`` for travel-rule data.
"""

from rantai.core.block import BlockSignature, Header, Receipt
from rantai.core.governance import LegalBasis
from rantai.core.kinds.settlement import ProposeSettlement
from rantai.core.records import ChainConfig, Instrument, Party
from rantai.core.rules import Terms
from rantai.core.travel import TravelData, TravelPayload
from rantai.core.tx import TxBody
from rantai.crypto.keys import SigningKey
from rantai.crypto.smt import StateProof
from rantai.iso20022 import Iso20022Error, IsoMapping, import_sese023
from rantai.sdk import actions, rules
from rantai.sdk._async_client import AsyncClient
from rantai.sdk._builders import (
    add_key,
    affirm_settlement,
    allocate,
    allocation,
    appoint_agent,
    approve,
    approve_transfer,
    batch_transfer,
    burn,
    cancel_fund_order,
    cancel_settlement,
    check_body,
    create_cash,
    create_instrument,
    deal,
    dismiss_agent,
    genesis,
    genesis_agency,
    genesis_party,
    grant_role,
    import_credential,
    issue_claim,
    issuer_freeze,
    issuer_unfreeze,
    leg,
    legal_basis,
    mint,
    movement,
    open_account,
    open_book,
    pause_instrument,
    place_order,
    propose,
    propose_settlement,
    publish_nav,
    redeem,
    register_party,
    retry_settlement,
    revoke_claim,
    revoke_key,
    revoke_role,
    run_cycle,
    set_cash_limits,
    set_cash_terms,
    set_dealing_terms,
    set_mediator,
    set_rules,
    subscribe,
    terms,
    transfer,
    travel_transfer,
    unpause_instrument,
    veto,
)
from rantai.sdk._client import Client
from rantai.sdk._errors import (
    ApiError,
    Forbidden,
    InvalidTransaction,
    KeyFileError,
    NotFound,
    ProofError,
    RantaiError,
    Rejected,
    TransportError,
    TravelError,
    TravelMismatch,
    Unauthenticated,
    Unavailable,
    UnexpectedResponse,
    WrongPassphrase,
)
from rantai.sdk._keys import PartyKey, generate_key, load_key, save_key
from rantai.sdk._lifecycle import (
    bond_terms,
    calendar,
    call_bond,
    cast_vote,
    certify_shariah,
    claim_distribution,
    close_ballot,
    close_record,
    declare_profit,
    distribute,
    exercise_put,
    income,
    open_ballot,
    option_date,
    partial_redeem,
    pay_period,
    publish_fixing,
    redeem_bond,
    set_bond_terms,
    settle_puts,
    take_record,
)
from rantai.sdk._models import (
    Balance,
    Balances,
    ChainInfo,
    HeaderInfo,
    Health,
    Holding,
    Schedule,
    SchedulePeriod,
    Submission,
    Transaction,
)
from rantai.sdk._ops import Settlement
from rantai.sdk._travel import open_travel, seal_travel, travel_payload

__all__ = [
    "Schedule",
    "SchedulePeriod",
    "ApiError",
    "AsyncClient",
    "Balance",
    "Balances",
    "BlockSignature",
    "ChainConfig",
    "ChainInfo",
    "Client",
    "Forbidden",
    "Header",
    "HeaderInfo",
    "Health",
    "Holding",
    "Instrument",
    "InvalidTransaction",
    "Iso20022Error",
    "IsoMapping",
    "KeyFileError",
    "LegalBasis",
    "NotFound",
    "Party",
    "PartyKey",
    "ProofError",
    "RantaiError",
    "Receipt",
    "Rejected",
    "Settlement",
    "SigningKey",
    "StateProof",
    "Submission",
    "Terms",
    "Transaction",
    "TransportError",
    "TravelData",
    "TravelError",
    "TravelMismatch",
    "TravelPayload",
    "TxBody",
    "Unauthenticated",
    "Unavailable",
    "UnexpectedResponse",
    "WrongPassphrase",
    "actions",
    "add_key",
    "affirm_settlement",
    "allocate",
    "allocation",
    "appoint_agent",
    "approve",
    "approve_transfer",
    "batch_transfer",
    "burn",
    "cancel_fund_order",
    "cancel_settlement",
    "check_body",
    "create_cash",
    "create_instrument",
    "deal",
    "dismiss_agent",
    "from_sese023",
    "generate_key",
    "genesis",
    "genesis_agency",
    "genesis_party",
    "grant_role",
    "import_credential",
    "issue_claim",
    "issuer_freeze",
    "issuer_unfreeze",
    "leg",
    "legal_basis",
    "load_key",
    "mint",
    "movement",
    "open_account",
    "open_book",
    "open_travel",
    "pause_instrument",
    "place_order",
    "propose",
    "propose_settlement",
    "publish_nav",
    "redeem",
    "register_party",
    "retry_settlement",
    "revoke_claim",
    "revoke_key",
    "revoke_role",
    "rules",
    "run_cycle",
    "save_key",
    "seal_travel",
    "set_cash_limits",
    "set_cash_terms",
    "set_dealing_terms",
    "set_mediator",
    "set_rules",
    "subscribe",
    "terms",
    "transfer",
    "travel_payload",
    "travel_transfer",
    "unpause_instrument",
    "veto",
    "bond_terms",
    "calendar",
    "call_bond",
    "cast_vote",
    "certify_shariah",
    "claim_distribution",
    "close_ballot",
    "close_record",
    "declare_profit",
    "distribute",
    "exercise_put",
    "income",
    "open_ballot",
    "option_date",
    "partial_redeem",
    "pay_period",
    "publish_fixing",
    "redeem_bond",
    "set_bond_terms",
    "settle_puts",
    "take_record",
]


def from_sese023(xml: bytes, mapping: IsoMapping, cycle: str = "") -> ProposeSettlement:
    """The ``propose_settlement`` body a sese.023.001.11 DvP instruction describes, ready to
    sign and submit: ``client.submit(sdk.from_sese023(xml, mapping), wait=True)``.

    ``mapping`` maps the message's ISIN (or proprietary id), currency and account ids to
    ledger ids and gives the instruments' decimals (docs/iso20022.md); the node's
    ``POST /v1/iso20022/sese.023`` gives the same body. Raises Iso20022Error (a reason code
    and the failing element) for a message that is malformed, schema-invalid or unmapped.
    """
    return import_sese023(xml, mapping, cycle)
