"""Schemathesis hooks for Huxin's conformance run (tests/openapi_conformance.rs).

The OpenAPI document states every constraint a schema can state. Four rules rest on more than
the request itself, and the document names them in words (and, where tools can read it, in a
format or an extension):

1. A USCC's 18th character is the GB 32100-2015 check character of the first 17 (format `uscc`).
2. A `cursor` is one a page of the same list returned as its `next_cursor`.
3. A `time` marked `x-huxin-at-most: latest_block_time_ms` may not pass the latest block's time.
4. `/v1/guarantees` takes exactly one of `provider`, `tender` and `applicant`.

For a positive case (a request the server must accept) these hooks keep the generated values
within those rules: check characters are recomputed, a cursor is replaced by one the server
issued for the same list (or dropped when the list has no second page), such a time is capped at
the latest block's, a guarantee listing keeps one filter. Negative cases are left as generated,
but for the few that break nothing (see `filter_case`), which are not sent.
"""

import json
import os
import re
import urllib.parse
import urllib.request

import jsonschema_rs
import schemathesis
from hypothesis import strategies as st

API = os.environ["HUXIN_API"].rstrip("/")

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC = re.compile(r"[0-9A-HJ-NP-RTUWXY]{18}")


def check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return USCC_ALPHABET[(31 - total % 31) % 31]


schemathesis.openapi.format(
    "uscc",
    st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17).map(lambda s: s + check_character(s)),
)


def with_check_characters(value):
    """`value` with every USCC-shaped string (or comma-separated item) given its check character."""
    if isinstance(value, str):
        parts = value.split(",")
        fixed = [p[:17] + check_character(p[:17]) if USCC.fullmatch(p) else p for p in parts]
        return ",".join(fixed)
    if isinstance(value, dict):
        return {k: with_check_characters(v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_check_characters(v) for v in value]
    return value


def get(path: str, query: dict) -> dict | None:
    url = API + path + ("?" + urllib.parse.urlencode(query) if query else "")
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return json.load(answer)
    except Exception:  # a refusal or an error: the case itself will show it
        return None


_latest_time = None


def latest_block_time() -> int:
    """The latest block's time when first asked (a bound that only loosens as the chain grows)."""
    global _latest_time
    if _latest_time is None:
        _latest_time = int((get("/v1/status", {}) or {}).get("latest_block_time_ms") or 0)
    return _latest_time


def issued_cursor(case) -> str | None:
    """A `next_cursor` the server returns for the first one-item page of this very list."""
    path = case.path
    for name, value in case.path_parameters.items():
        path = path.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
    query = {k: v for k, v in case.query.items() if k != "cursor"}
    query["limit"] = 1
    page = get(path, query)
    return page.get("next_cursor") if isinstance(page, dict) else None


@schemathesis.hook
def map_case(context, case):
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    if case.path_parameters:
        case.path_parameters = with_check_characters(case.path_parameters)
    if case.query:
        case.query = with_check_characters(case.query)
    if isinstance(case.body, (dict, list)):
        case.body = with_check_characters(case.body)
    if case.query and "cursor" in case.query:
        cursor = issued_cursor(case)
        if cursor is None:
            del case.query["cursor"]
        else:
            case.query["cursor"] = cursor
    for parameter in case.operation.definition.raw.get("parameters", []):
        name = parameter.get("name")
        if parameter.get("x-huxin-at-most") == "latest_block_time_ms" and case.query and name in case.query:
            # The coverage phase sends its values as strings, the fuzzing phase as integers.
            value = case.query[name]
            number = int(value) if isinstance(value, str) and value.isdigit() else value
            if isinstance(number, int) and number > latest_block_time():
                case.query[name] = latest_block_time()
    if case.path == "/v1/guarantees":
        case.query = exactly_one_filter(case.query or {})
    return case


GUARANTEE_FILTERS = ("provider", "tender", "applicant")


def exactly_one_filter(query: dict) -> dict:
    """Rule 4: `/v1/guarantees` takes exactly one of provider, tender and applicant (the first
    given is kept; with none, a provider that has issued nothing)."""
    given = [name for name in GUARANTEE_FILTERS if name in query]
    kept = {k: v for k, v in query.items() if k not in GUARANTEE_FILTERS}
    if given:
        kept[given[0]] = query[given[0]]
    else:
        kept["provider"] = "0" * 40
    return kept


@schemathesis.hook
def filter_case(context, case):
    """Drop a negative case that breaks nothing: schemathesis cannot negate every pattern (an
    alternation such as the subject's `USCC|legacy:…|expert:…`), and sometimes generates a value
    the document calls valid as a 'negative' one (or one that becomes valid on the wire: a list
    of one string is sent as the string). A GET case whose every path and query parameter is
    present when required, known, and valid by its schema as sent is positive, whatever its
    label, and is not sent as a negative case."""
    if case.meta is None or not case.meta.generation.mode.is_negative or case.method.upper() != "GET":
        return True
    parameters = case.operation.definition.raw.get("parameters", [])
    given = {"path": case.path_parameters or {}, "query": case.query or {}}
    known = {(p.get("in"), p.get("name")) for p in parameters}
    if any(("query", name) not in known for name in given["query"]):
        return True
    for parameter in parameters:
        values = given.get(parameter.get("in"))
        if values is None:
            return True
        name = parameter.get("name")
        if name not in values:
            if parameter.get("required"):
                return True
            continue
        schema = parameter.get("schema", {})
        try:
            if not jsonschema_rs.validator_for(schema).is_valid(as_sent(values[name], schema)):
                return True
        except Exception:  # a schema this check cannot read: keep the case
            return True
    return False


def as_sent(value, schema: dict):
    """A path or query parameter's value as the server reads it off the URL."""
    if isinstance(value, list):
        value = ",".join(as_text(v) for v in value)
    text = as_text(value)
    kind = schema.get("type")
    if kind in ("integer", "number") and re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
