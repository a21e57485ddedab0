"""Schemathesis hooks for conftrail: serializers for the bodies that are not JSON.

Rule uploads are raw `.wasm` bytes and ingest takes gzip or JSON lines; schemathesis has no
built-in serializer for those media types, so the generated value is sent as bytes.
"""

import json

import schemathesis


def _as_bytes(value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode("utf-8")


@schemathesis.serializer("application/wasm", "application/gzip", "application/x-ndjson")
def raw_bytes(ctx, value):
    return _as_bytes(value)
