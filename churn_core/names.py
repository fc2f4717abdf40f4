"""Column names: one way to normalise them, and the one vocabulary of identifiers.

Every module that matches a name against a list (labels, id columns, event-log roles,
action-rule keywords, campaign outcome columns, a scoring file's columns) normalises it
with :func:`normalize_name`, so ``Customer ID``, ``customer_id`` and ``CustomerID`` are
the same name everywhere.

Two questions are asked of a name, from one vocabulary:

- :func:`is_id_name`: is this column an identifier of anything (customer, order,
  product, code)? Such columns are read as text so ``007`` and ``50001`` stay exact.
- :func:`is_customer_id_name`: could this column be the customer's id (the key of
  a customer table)? Stricter: order numbers and product codes are not.
"""

from __future__ import annotations

import re

__all__ = ["CUSTOMER_ID_NAMES", "CUSTOMERISH", "is_customer_id_name", "is_id_name",
           "normalize_name", "snake_name", "words"]


def normalize_name(text: object) -> str:
    """Lower-case ``text`` without spaces, underscores or punctuation (for name matching).

    ``"DaySinceLastOrder"``, ``"days since last order"`` and ``"day_since_last_order"``
    all become ``"daysincelastorder"``-like keys; Chinese characters are kept.
    """
    return re.sub(r"[\W_]+", "", str(text)).lower()


def snake_name(text: str) -> str:
    """``"Add to cart"`` -> ``"add_to_cart"``: a name usable as a column name."""
    return re.sub(r"\W+", "_", text.lower()).strip("_")


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` (to write vocabularies compactly)."""
    return frozenset(text.split())


# -- any identifier: read as text ---------------------------------------------------------
_ID_WHOLE = frozenset({"id", "uid", "uuid", "guid", "customer",
                       "编号", "編號", "用户id", "用戶id", "客户id", "會員id", "会员id"})
_ID_SUFFIX = re.compile(r"[\s_\-.](?:id|no|nr|number|code)\.?$", re.IGNORECASE)  # order_no
_ID_CAMEL = re.compile(r"[a-z0-9\u4e00-\u9fff](?:ID|Id|No|Code)\.?$")          # CustomerID
_ID_CJK = re.compile(r"[\u4e00-\u9fff](?:id|ID|Id|编号|編號|编码|編碼|号|號)$")  # 客户编号


def is_id_name(name: str) -> bool:
    """Return True when a column name looks like an identifier (kept as text).

    Matches ``id``, ``uid``, ``customer``, ``编号``, ``用户ID``, names ending in
    ``_id``/`` id``/``_no``/``_code`` and camel case ``CustomerID``, ``InvoiceNo``,
    ``StockCode``. Case-insensitive for whole names, so ``ID`` and ``Id`` count.
    """
    name = name.strip()
    return (name.lower() in _ID_WHOLE or bool(_ID_SUFFIX.search(name))
            or bool(_ID_CAMEL.search(name)) or bool(_ID_CJK.search(name)))


# -- the customer's id: the key of a customer table ---------------------------------------
#: Normalised names of a customer id column.
CUSTOMER_ID_NAMES = words(
    "id uid user userid customer customerid custid clientid memberid accountid "
    "subscriberid clientnum clientnumber clientno customernumber customerno customernum "
    "custno custnum accountnumber accountno accountnum membernumber memberno usernumber "
    "customercode clientcode customerkey userkey kundennummer kundennr "
    "编号 用户 客户 用户id 客户id 会员id 用户编号 客户编号 会员编号"
)
#: Parts of a normalised name that say it is about a customer.
CUSTOMERISH = ("cust", "user", "client", "member", "account", "客户", "用户", "会员")


def is_customer_id_name(name: str) -> bool:
    """Return True when a column name could be a customer id (``customer_id``, ``CustID``,
    ``用户ID``, ``user id``); the values must still fit (unique, text or whole numbers)."""
    n = normalize_name(name)
    return (n in CUSTOMER_ID_NAMES or bool(re.search(r"(^|[_\s\-.])id$", str(name).lower()))
            or bool(re.search(r"[a-z]I[dD]$", str(name)))
            or bool(re.search(r"[\u4e00-\u9fff](id|编号)$", n)))
