"""A subscriber's browser over real HTTP, without a browser: cookies kept, redirects shown
(not followed), each page's CSRF token read from its forms."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

import treq

CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


class Page:
    def __init__(self, status: int, text: str, headers: Any):
        self.status = status
        self.text = text
        self.headers = headers

    @property
    def location(self) -> str | None:
        values = self.headers.getRawHeaders("location")
        return values[0] if values else None

    @property
    def csrf(self) -> str:
        found = CSRF.search(self.text)
        assert found, "the page has no form with a csrf_token"
        return found.group(1)

    def header(self, name: str) -> str | None:
        values = self.headers.getRawHeaders(name)
        return values[0] if values else None

    def __repr__(self) -> str:
        return f"<Page {self.status} {self.location or self.text[:80]!r}>"


class Subscriber:
    def __init__(self, harness, accept_language: str = "ru"):
        self.harness = harness
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []
        self.accept_language = accept_language

    async def request(self, method: str, path: str, form: dict[str, str] | None = None,
                      headers: dict[str, str] | None = None) -> Page:
        sent = {"Accept-Language": self.accept_language, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if form is not None:
            data = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        response = await treq.request(method, self.harness.url + path, data=data,
                                      headers={k: [v] for k, v in sent.items()},
                                      allow_redirects=False, pool=self.harness.pool)
        for raw in response.headers.getRawHeaders("set-cookie") or []:
            self.set_cookies.append(raw)
            cookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Page(response.code, (await response.content()).decode("utf-8"),
                    response.headers)

    async def get(self, path: str, **kwargs) -> Page:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, form: dict[str, str], csrf_from: str | None = None,
                   **kwargs) -> Page:
        """POST ``form``; its csrf_token read from the page at ``csrf_from`` (default
        ``path``) unless the form has one."""
        if "csrf_token" not in form:
            form = {**form, "csrf_token": (await self.get(csrf_from or path)).csrf}
        return await self.request("POST", path, form=form, **kwargs)

    async def login(self, number: str, password: str) -> Page:
        return await self.post("/cabinet/login", {"number": number, "password": password})
