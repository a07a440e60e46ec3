"""The language and zone of a customer's page, from the request (`locales.choose`), and what the page
needs for them: its texts, the language switcher's links and, after a switch, the cookie that keeps it.

The switcher is plain links (`?lang=de`): it works without JavaScript. A page opened with `?lang=`
sets the `caseflow-lang` cookie, so that the next pages stay in that language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from chalicelib import locales
from chalicelib.api.pages import cookie_value


@dataclass(frozen=True)
class PageLocale:
    language: str
    zone: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    #: Whether the page was opened with `?lang=`: the customer chose, and it is remembered.
    switched: bool = False
    secure: bool = False

    @property
    def texts(self) -> locales.Texts:
        return locales.Texts(self.language, self.zone)

    def headers(self) -> dict[str, str]:
        """The cookie that keeps a language the customer switched to (none otherwise)."""
        if not self.switched:
            return {}
        flags = "; Secure" if self.secure else ""
        one_year = 365 * 24 * 3600
        return {"Set-Cookie": f"{locales.COOKIE}={self.language}; Path=/; Max-Age={one_year}; SameSite=Lax{flags}"}

    def context(self) -> dict[str, Any]:
        """What every customer template gets: `lang`, `t` (texts, dates in the zone) and the switcher."""
        return {
            "lang": self.language,
            "t": self.texts,
            "languages": locales.switcher(self.language, self.path, self.query),
        }


def page_locale(
    request: Any,
    *,
    remembered: str = "",
    zone: str = "",
    fallback_zone: str = locales.DEFAULT_ZONE,
    secure: bool = False,
) -> PageLocale:
    """The language of the page a request asks for (`?lang=`, the cookie, the customer's remembered
    language, Accept-Language, English), and the zone its times are shown in."""
    headers = request.headers if request is not None else {}
    query = dict((request.query_params or {}) if request is not None else {})
    chosen = locales.supported(query.get(locales.QUERY))
    language = locales.choose(
        query=chosen,
        cookie=cookie_value(headers, locales.COOKIE),
        remembered=remembered,
        accept_language=headers.get("accept-language"),
    )
    path = _own_path(request) if request is not None else "/"
    return PageLocale(
        language=language,
        zone=locales.valid_zone(zone) or locales.valid_zone(fallback_zone) or locales.DEFAULT_ZONE,
        path=_path(path),
        query={k: v for k, v in query.items() if k != locales.QUERY},
        switched=chosen is not None,
        secure=secure,
    )


def _own_path(request: Any) -> str:
    """The path the request was for: its route with the path parameters filled in (without a stage prefix)."""
    path = request.path or "/"
    for name, value in (request.uri_params or {}).items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


def _path(path: str) -> str:
    """The page's own path, for the switcher's links (never another site's)."""
    return path if path.startswith("/") and not path.startswith("//") else "/"


def request_locale(request: Any, **chosen: Any) -> PageLocale:
    """`page_locale` of a request to the customers' site, with the cookie Secure over HTTPS."""
    from chalicelib.bootstrap import services

    secure = services().config.public_url.startswith("https://")
    return page_locale(request, secure=secure, **chosen)
