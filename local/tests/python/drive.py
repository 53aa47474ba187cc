"""Drives the local service with the official Python SDK (alibabacloud-onsmqtt20200420).

stdin: {"endpoint": "127.0.0.1:port", "access_key_id", "access_key_secret", "signature": "v3"|"v1",
        "calls": [[Action, {WireName: value, ...}], ...]}
A value "$token" / "$msg" stands for the token / message ID an earlier ApplyToken / SendMessage
returned; a "Tag" value is a list of {"Key", "Value"} objects.
stdout: one JSON object per call: {"action", "ok", "code", "status"}.
"""

import json
import re
import sys

from alibabacloud_onsmqtt20200420 import models
from alibabacloud_onsmqtt20200420.client import Client
from alibabacloud_tea_openapi import models as open_api_models


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def main():
    plan = json.load(sys.stdin)
    config = open_api_models.Config(
        access_key_id=plan["access_key_id"],
        access_key_secret=plan["access_key_secret"],
        endpoint=plan["endpoint"],
        protocol="http",
        read_timeout=10000,
        connect_timeout=5000,
    )
    if plan["signature"] == "v1":
        config.signature_algorithm = "v2"
    client = Client(config)
    saved = {}
    for action, params in plan["calls"]:
        kwargs = {}
        for name, value in params.items():
            if isinstance(value, str) and value in saved:
                value = saved[value]
            if name == "Tag":
                cls = getattr(models, action + "RequestTag")
                value = [cls(key=t.get("Key"), value=t.get("Value")) for t in value]
            kwargs[snake(name)] = value
        request = getattr(models, action + "Request")(**kwargs)
        result = {"action": action, "ok": False, "code": None, "status": None}
        try:
            response = getattr(client, snake(action))(request)
            result["ok"] = True
            result["status"] = response.status_code
            body = response.body.to_map()
            if action == "ApplyToken":
                saved["$token"] = body["Token"]
            if action == "SendMessage":
                saved["$msg"] = body["MsgId"]
        except Exception as e:  # every SDK failure is reported, none stops the run
            result["code"] = getattr(e, "code", None) or type(e).__name__
            result["status"] = getattr(e, "status_code", None) or getattr(e, "statusCode", None)
            result["message"] = str(getattr(e, "message", e))[:300]
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
