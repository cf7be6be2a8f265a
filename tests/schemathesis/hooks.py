"""Schemathesis hooks for tests/tests/schemathesis.rs (loaded through SCHEMATHESIS_HOOKS)."""

import itertools

import schemathesis

_sequence = itertools.count()

# The server's limit (`idempotency::MAX_KEY_LEN`), also the spec's `maxLength`.
MAX_KEY_LENGTH = 255


@schemathesis.hook
def before_call(context, case, kwargs):
    """Makes every generated `Idempotency-Key` unique to its request.

    Hypothesis draws small values, so the same few keys would come back for different requests,
    and the server rightly answers each reuse with 422 `idempotency-key-reused` before the
    handler sees the body: the fuzzer would hardly ever reach a mutation's handler. A numbered
    suffix keeps what was drawn (a blank or malformed key still gets its 400).
    """
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and key.strip():
        suffix = f"-{next(_sequence)}"
        # A key of acceptable length stays acceptable; a longer one stays too long.
        kept = key[: MAX_KEY_LENGTH - len(suffix)] if len(key) <= MAX_KEY_LENGTH else key
        headers["Idempotency-Key"] = kept + suffix
