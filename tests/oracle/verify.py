#!/usr/bin/env python3
"""Signature oracle: recomputes the signatures of captured requests with the official Alibaba Cloud
Python SDK's own signing functions and says whether the requests carried the same.

Input (stdin): one JSON object per line, a request as the test server received it:

    {"version": "v3" | "v1", "method": "POST", "path": "/", "raw_query": "A=1&B=2",
     "query": [["A", "1"], ["B", "2"]],            # decoded, in order
     "headers": [["host", "127.0.0.1:1234"], ...],  # in order, original case
     "body": "ClientId=...",                         # the raw body as text
     "access_key_id": "testid", "secret": "testsecret"}

Output (stdout): one JSON object per input line, in order:

    {"ok": true|false, "expected": "...", "got": "...", "error": "why, when not ok"}

V3 (ACS3-HMAC-SHA256): every header the request carried except `Authorization` and the ones the
HTTP transport adds on its own (the official SDK signs every header it sets, see
official-sdk-wire.txt) is handed to `get_authorization` of `alibabacloud_tea_openapi.utils.Utils`
(the function `alibabacloud_tea_openapi.client` calls) together with the decoded query and the
SHA-256 of the body; the resulting Authorization value must equal the one sent, character for
character (so the credential, the signed-header list and the signature all match), and
`x-acs-content-sha256` must be the body's hash. `alibabacloud_openapi_util.client.Client`, the
older copy of the same functions, must agree.

V1 (RPC HMAC-SHA1): every query parameter but `Signature`, plus every form parameter of the body,
is handed to `get_rpcsignature` (same two packages); the result must equal the `Signature`
parameter sent.

The decoded query given by the caller is also checked against Python's own decoding of the raw
query (`urllib.parse.parse_qsl`), so the test's decoder is not trusted blindly.
"""

import hashlib
import json
import sys
from types import SimpleNamespace
from urllib.parse import parse_qsl

from alibabacloud_openapi_util.client import Client as OpenApiUtil
from alibabacloud_tea_openapi.utils import Utils as TeaUtils

V3_ALGORITHM = "ACS3-HMAC-SHA256"
TRANSPORT_HEADERS = {"authorization", "content-length", "transfer-encoding", "connection",
                     "accept-encoding", "te", "keep-alive"}
FORM = "application/x-www-form-urlencoded"


def unique_dict(pairs, what):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"{what} parameter {k!r} appears more than once")
        out[k] = v
    return out


def header(req, name):
    for k, v in req["headers"]:
        if k.lower() == name:
            return v
    return None


def check_query_decoding(req):
    mine = [list(p) for p in req["query"]]
    python = [list(p) for p in parse_qsl(req.get("raw_query", ""), keep_blank_values=True)]
    if mine != python:
        raise ValueError(f"the query decodes differently in Python: {python!r} vs {mine!r}")


def verify_v3(req):
    body = req["body"].encode("utf-8")
    query = unique_dict(req["query"], "query")
    headers = {}
    seen = set()
    for k, v in req["headers"]:
        if k.lower() in TRANSPORT_HEADERS:
            continue
        if k.lower() in seen:
            raise ValueError(f"header {k!r} appears more than once")
        seen.add(k.lower())
        headers[k] = v
    request = SimpleNamespace(method=req["method"], pathname=req["path"], query=query, headers=headers)
    payload = TeaUtils.hash(body, V3_ALGORITHM).hex()
    expected = TeaUtils.get_authorization(request, V3_ALGORITHM, payload, req["access_key_id"], req["secret"])
    other = OpenApiUtil.get_authorization(request, V3_ALGORITHM, payload, req["access_key_id"], req["secret"])
    got = header(req, "authorization")
    if expected != other:
        return expected, got, f"the two official signers disagree: {other!r}"
    sent_hash = header(req, "x-acs-content-sha256")
    if sent_hash != hashlib.sha256(body).hexdigest():
        return expected, got, f"x-acs-content-sha256 {sent_hash!r} is not the SHA-256 of the body"
    if got != expected:
        return expected, got, "the Authorization header differs from the official signer's"
    return expected, got, None


def verify_v1(req):
    params = [(k, v) for k, v in req["query"] if k != "Signature"]
    content_type = (header(req, "content-type") or "").split(";")[0].strip().lower()
    if req["body"]:
        if content_type != FORM:
            raise ValueError(f"a body with content-type {content_type!r}")
        params += parse_qsl(req["body"], keep_blank_values=True)
    signed = unique_dict(params, "query/form")
    expected = TeaUtils.get_rpcsignature(signed, req["method"], req["secret"])
    other = OpenApiUtil.get_rpcsignature(signed, req["method"], req["secret"])
    got = dict(req["query"]).get("Signature")
    if expected != other:
        return expected, got, f"the two official signers disagree: {other!r}"
    if dict(req["query"]).get("AccessKeyId") != req["access_key_id"]:
        return expected, got, "AccessKeyId is not the caller's"
    if got != expected:
        return expected, got, "the Signature parameter differs from the official signer's"
    return expected, got, None


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        expected = got = None
        try:
            req = json.loads(line)
            check_query_decoding(req)
            if req["version"] == "v3":
                expected, got, error = verify_v3(req)
            elif req["version"] == "v1":
                expected, got, error = verify_v1(req)
            else:
                error = f"unknown version {req['version']!r}"
        except Exception as e:  # report, never crash the batch
            error = f"{type(e).__name__}: {e}"
        print(json.dumps({"ok": error is None, "expected": expected, "got": got, "error": error}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
