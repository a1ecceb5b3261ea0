"""The OpenAPI document, made from the declared routes (so it cannot drift from them)."""

from __future__ import annotations

import re
from typing import Any

from bgshared.api.permissions import AUTHENTICATED, PUBLIC

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
        "required": ["code", "message"]}},
}


def _path(path: str) -> tuple[str, list[dict[str, Any]]]:
    params = []

    def repl(match):
        kind, name = match.group(1), match.group(2)
        params.append({"name": name, "in": "path", "required": True,
                       "schema": {"type": "integer" if kind == "int" else "string"}})
        return "{" + name + "}"
    return re.sub(r"<(?:(\w+):)?(\w+)>", repl, path), params


def openapi(routes) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for route in routes:
        path, params = _path(route.path)
        params += [{"name": name, "in": "query", "required": False,
                    "description": text, "schema": {"type": "string"}}
                   for name, text in route.query.items()]
        operation: dict[str, Any] = {
            "summary": route.summary,
            "x-permission": route.permission,
            "parameters": params,
            "responses": {"200": {"description": "OK"},
                          "4XX": {"description": "the JSON error body", "content": {
                              "application/json": {"schema": {"$ref":
                                                              "#/components/schemas/Error"}}}}},
        }
        if route.permission == PUBLIC:
            operation["security"] = []
        elif route.permission != AUTHENTICATED:
            operation["description"] = f"Needs the permission `{route.permission}`."
        if route.body is not None:
            name = route.body.__name__
            schemas[name] = route.body.model_json_schema(ref_template="#/components/schemas/{model}")
            operation["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{name}"}}}}
        paths.setdefault(path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "bgbilling API", "version": "1"},
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "a session token from /api/v1/auth/login or an API key"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }
