"""The one HTTP client every source API client is built on.

Why one: every source (Open edX, Canvas, edX.org, Superset, ...) throttles, fails transiently,
cuts responses short, paginates in one of a few ways and needs auth. Getting retries, backoff,
token refresh and pagination right once -- and testing it against the source sandbox's fault
injection -- is cheaper and safer than re-deriving it in each client. Source clients subclass
`ApiClient` and only describe endpoints and payloads.

Behaviour:

- Retries (bounded by `max_retries`) on throttling (`is_throttled`, default HTTP 429; overridable,
  e.g. Canvas answers 403 "Rate Limit Exceeded"), on 408/5xx (`is_retryable`), on timeouts,
  connection errors and resets, and on truncated or undecodable bodies. `Retry-After` (seconds or
  an HTTP date) is honoured, capped at `max_retry_after`; otherwise exponential backoff with
  jitter, capped at `backoff_max`. `sleep` and `rng` are injectable so tests do not wait.
- Auth: `BearerTokenAuth` or `OAuth2ClientCredentialsAuth` (cached token, refreshed shortly before
  `expires_in` runs out and once after a 401, configurable header scheme such as "JWT").
- Pagination: RFC 5988 `Link: <...>; rel="next"` (followed exactly as given), a `next` URL in the
  body (`{"next": ...}` or `{"pagination": {"next": ...}}`), or a cursor (taken from the body,
  possibly out of a `next` URL, and re-sent as a query parameter on the original request).
- Errors (`ApiError`, `RetryBudgetExhaustedError`) name the method, the endpoint and the status.
  They never contain tokens, client secrets or Authorization headers: query parameters named like
  token/secret/key/password are redacted from URLs, and known credentials are scrubbed from any
  server-provided detail.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Self
from urllib.parse import quote_plus

import httpx

logger = logging.getLogger(__name__)

PaginationStyle = Literal["link", "next_url", "cursor"]

RETRYABLE_STATUSES = frozenset({408, 500, 502, 503, 504})
DEFAULT_USER_AGENT = "ol-data-platform/0.1 (+https://github.com/mitodl/ol-data-platform)"
_REDACTED = "REDACTED"
_SENSITIVE_PARAM = re.compile(
    r"token|secret|passw|pwd|signature|credential|auth|session|api_?key|access_?key|"
    r"private_?key|verifier|^key$|^sig$|^code$",
    re.IGNORECASE,
)
# Programming errors and unusable URLs: retrying cannot help.
_NOT_RETRYABLE_TRANSPORT = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.ProxyError)


# -- errors ------------------------------------------------------------------------------------


class ApiError(Exception):
    """A request failed. The message names method, endpoint and status, never credentials."""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        endpoint: str,
        status: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.endpoint = endpoint
        self.status = status
        self.detail = detail


class RetryBudgetExhaustedError(ApiError):
    """A request kept failing transiently until the retry budget ran out."""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        endpoint: str,
        status: int | None = None,
        detail: str | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message, method=method, endpoint=endpoint, status=status, detail=detail)
        self.attempts = attempts


def redact_url(url: str | httpx.URL) -> str:
    """`url` without user info and with the values of sensitive query parameters redacted."""
    parsed = httpx.URL(str(url))
    params = [
        (name, _REDACTED if _SENSITIVE_PARAM.search(name) else value)
        for name, value in parsed.params.multi_items()
    ]
    cleaned = parsed.copy_with(username=None, password=None, query=None)
    if params:
        cleaned = cleaned.copy_with(params=params)
    return str(cleaned)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait per a `Retry-After` header (delta-seconds or HTTP date), else None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# -- auth --------------------------------------------------------------------------------------


class ApiAuth:
    """Adds credentials to requests. Subclasses override what they need."""

    def auth_headers(self, client: ApiClient) -> dict[str, str]:
        return {}

    def refresh(self, client: ApiClient, used_headers: Mapping[str, str]) -> bool:
        """Called once after a 401: drop stale credentials; True means retrying may succeed."""
        return False

    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in an error message or log."""
        return ()


class BearerTokenAuth(ApiAuth):
    """A static token: `Authorization: <scheme> <token>`."""

    def __init__(self, token: str, *, scheme: str = "Bearer") -> None:
        self._token = token
        self.scheme = scheme

    def auth_headers(self, client: ApiClient) -> dict[str, str]:
        return {"Authorization": f"{self.scheme} {self._token}"}

    def secrets(self) -> tuple[str, ...]:
        return (self._token,)

    def __repr__(self) -> str:
        return f"BearerTokenAuth(scheme={self.scheme!r}, token=***)"


class OAuth2ClientCredentialsAuth(ApiAuth):
    """OAuth2 client-credentials grant with a cached access token.

    The token is fetched through the owning `ApiClient` (so the token endpoint gets the same
    retries), reused until `refresh_margin` seconds (at most half its lifetime) before it expires,
    and fetched again once after a 401. `scheme` is the Authorization scheme sent with the token
    (Open edX wants "JWT" together with `extra_params={"token_type": "jwt"}`); `scheme=None` uses
    the `token_type` the server returned. `credentials_in="basic"` sends the client credentials
    as HTTP Basic auth instead of in the form body.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scheme: str | None = "Bearer",
        extra_params: Mapping[str, str] | None = None,
        scope: str | None = None,
        refresh_margin: float = 60.0,
        credentials_in: Literal["body", "basic"] = "body",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.scheme = scheme
        self.extra_params = dict(extra_params or {})
        self.scope = scope
        self.refresh_margin = refresh_margin
        self.credentials_in = credentials_in
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_type = "Bearer"  # noqa: S105 - a scheme name, not a secret
        self._refresh_at: float | None = None
        self.tokens_fetched = 0

    def __repr__(self) -> str:
        return (
            f"OAuth2ClientCredentialsAuth(token_url={redact_url(self.token_url)!r}, "
            f"client_id={self.client_id!r}, client_secret=***)"
        )

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._client_secret, self._token) if s)

    def auth_headers(self, client: ApiClient) -> dict[str, str]:
        with self._lock:
            if self._token is None or (
                self._refresh_at is not None and self._clock() >= self._refresh_at
            ):
                self._fetch_token(client)
            assert self._token is not None
            return {"Authorization": f"{self.scheme or self._token_type} {self._token}"}

    def refresh(self, client: ApiClient, used_headers: Mapping[str, str]) -> bool:
        with self._lock:
            used = used_headers.get("Authorization", "")
            if self._token is not None and used.endswith(f" {self._token}"):
                self._token = None  # another thread may already have replaced it
        return True

    def _fetch_token(self, client: ApiClient) -> None:
        form = {"grant_type": "client_credentials", **self.extra_params}
        headers: dict[str, str] = {}
        if self.credentials_in == "basic":
            pair = f"{quote_plus(self.client_id)}:{quote_plus(self._client_secret)}"  # RFC 6749
            headers["Authorization"] = f"Basic {base64.b64encode(pair.encode()).decode()}"
        else:
            form |= {"client_id": self.client_id, "client_secret": self._client_secret}
        if self.scope:
            form["scope"] = self.scope
        payload = client.post_json(self.token_url, data=form, headers=headers, authenticated=False)
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            msg = f"POST {redact_url(self.token_url)}: token response has no access_token"
            raise ApiError(msg, method="POST", endpoint=redact_url(self.token_url), status=200)
        self._token = token
        self._token_type = str(payload.get("token_type") or "Bearer")
        expires_in = payload.get("expires_in")
        now = self._clock()
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            margin = min(self.refresh_margin, float(expires_in) / 2)
            self._refresh_at = now + float(expires_in) - margin
        else:
            self._refresh_at = None  # no lifetime given: rely on the 401 refresh
        self.tokens_fetched += 1
        logger.debug("fetched an OAuth2 access token from %s", redact_url(self.token_url))


# -- the client --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of a paginated endpoint."""

    records: list[Any]
    payload: Any
    url: str  # redacted


class ApiClient:
    """Base client for one API: retries, auth, pagination and safe errors (see module doc)."""

    def __init__(
        self,
        base_url: str,
        auth: ApiAuth | None = None,
        *,
        timeout: float | httpx.Timeout = 30.0,
        max_retries: int = 5,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 300.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        if max_retries < 0:
            msg = f"max_retries must be >= 0, got {max_retries}"
            raise ValueError(msg)
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.max_retries = max_retries
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._http = httpx.Client(
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": user_agent, "Accept": "application/json", **(headers or {})},
            follow_redirects=True,  # httpx drops Authorization on cross-origin redirects
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, auth={self.auth!r})"

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- classification hooks (override in subclasses) -----------------------------------------

    def is_throttled(self, response: httpx.Response) -> bool:
        """Whether the server asked us to slow down. Default: HTTP 429."""
        return response.status_code == 429

    def is_retryable(self, response: httpx.Response) -> bool:
        """Whether a non-throttling failure is transient. Default: 408, 500, 502, 503, 504."""
        return response.status_code in RETRYABLE_STATUSES

    # -- requests -----------------------------------------------------------------------------

    def url_for(self, path: str) -> str:
        """Absolute URLs pass through; paths are appended to `base_url` (keeping its prefix)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        retry: bool = True,
        files: Mapping[str, Any] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Send a request with retries; returns the (successful, fully read) response.

        `files` makes a multipart upload (httpx's `files`; give bytes, so a retry re-sends them).
        `content` is a raw body sent byte for byte (a signed webhook's).
        """
        response, _ = self._send(
            method,
            path,
            params,
            data,
            json,
            headers,
            authenticated,
            retry,
            parse_json=False,
            files=files,
            content=content,
        )
        return response

    def get_json(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GET and decode JSON; an undecodable body counts as a transient failure."""
        return self._send("GET", path, params, None, None, headers, True, True, parse_json=True)[1]

    def post_json(
        self,
        path: str,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        retry: bool = True,
    ) -> Any:
        """POST a form (`data`) or JSON body and decode the JSON answer (None if empty)."""
        return self._send(
            "POST", path, None, data, json, headers, authenticated, retry, parse_json=True
        )[1]

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        data: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        authenticated: bool,
        retry: bool,
        *,
        parse_json: bool,
        files: Mapping[str, Any] | None = None,
        content: bytes | None = None,
    ) -> tuple[httpx.Response, Any]:
        method = method.upper()
        url = self.url_for(path)
        endpoint = redact_url(httpx.URL(url).copy_merge_params(dict(params or {})))
        max_attempts = self.max_retries + 1 if retry else 1
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            request_headers = dict(headers or {})
            if authenticated and self.auth is not None:
                request_headers.update(self.auth.auth_headers(self))
            status: int | None = None
            retry_after: float | None = None
            detail: str | None = None
            try:
                response = self._http.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    json=json,
                    files=files,
                    content=content,
                    headers=request_headers,
                )
            except _NOT_RETRYABLE_TRANSPORT as exc:
                msg = f"{method} {endpoint} failed: {type(exc).__name__}: {self._scrub(str(exc))}"
                raise ApiError(msg, method=method, endpoint=endpoint) from None
            except (httpx.TransportError, httpx.DecodingError) as exc:
                reason = f"{type(exc).__name__}: {self._scrub(str(exc)) or 'no detail'}"
            else:
                status = response.status_code
                logger.debug("%s %s -> HTTP %s", method, endpoint, status)
                if (
                    status == 401
                    and authenticated
                    and self.auth is not None
                    and not refreshed
                    and self.auth.refresh(self, request_headers)
                ):
                    refreshed = True
                    attempt -= 1  # a credential refresh is not a transient failure
                    logger.info("%s %s -> HTTP 401; refreshing credentials", method, endpoint)
                    continue
                throttled = self.is_throttled(response)
                if throttled or self.is_retryable(response):
                    detail = self._detail(response)
                    reason = f"HTTP {status}" + (" (throttled)" if throttled else "")
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                elif status >= 400:
                    detail = self._detail(response)
                    msg = f"{method} {endpoint} returned HTTP {status}"
                    if detail:
                        msg += f": {detail}"
                    raise ApiError(
                        msg, method=method, endpoint=endpoint, status=status, detail=detail
                    )
                elif not parse_json or not response.content:
                    return response, None
                else:
                    try:
                        return response, response.json()
                    except ValueError:
                        reason = f"HTTP {status} with an invalid JSON body"

            if attempt >= max_attempts:
                msg = (
                    f"{method} {endpoint} failed after {attempt} attempt"
                    f"{'s' if attempt != 1 else ''}; last error: {reason}"
                )
                if detail:
                    msg += f": {detail}"
                raise RetryBudgetExhaustedError(
                    msg,
                    method=method,
                    endpoint=endpoint,
                    status=status,
                    detail=detail,
                    attempts=attempt,
                )
            delay = self._delay(attempt, retry_after)
            logger.warning(
                "%s %s: %s; retrying in %.2fs (attempt %d of %d)",
                method,
                endpoint,
                reason,
                delay,
                attempt + 1,
                max_attempts,
            )
            self._sleep(delay)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                logger.warning(
                    "Retry-After of %.0fs exceeds max_retry_after; waiting %.0fs",
                    retry_after,
                    self.max_retry_after,
                )
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.backoff_max, self.backoff_initial * 2 ** (attempt - 1))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)  # "equal jitter"

    def _scrub(self, text: str) -> str:
        if self.auth is not None:
            for secret in self.auth.secrets():
                if secret and len(secret) >= 4:
                    text = text.replace(secret, "***")
        return text

    def _detail(self, response: httpx.Response) -> str | None:
        """A short, credential-free description of an error body."""
        try:
            payload = response.json()
        except ValueError:
            text = " ".join(re.sub(r"<[^>]+>", " ", response.text).split())
        else:
            if isinstance(payload, dict):
                for key in ("error_description", "error", "detail", "message", "errors"):
                    if payload.get(key):
                        payload = payload[key]
                        break
            text = payload if isinstance(payload, str) else str(payload)
        text = self._scrub(text.strip())
        return (text[:200] + "...") if len(text) > 200 else (text or None)

    # -- pagination ---------------------------------------------------------------------------

    def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        style: PaginationStyle = "link",
        results_key: str | None = "results",
        next_key: str = "next",
        cursor_param: str = "cursor",
        max_pages: int | None = None,
    ) -> Iterator[Any]:
        """Yield the records of every page (see `iter_pages`)."""
        for page in self.iter_pages(
            path,
            params,
            style=style,
            results_key=results_key,
            next_key=next_key,
            cursor_param=cursor_param,
            max_pages=max_pages,
        ):
            yield from page.records

    def iter_pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        style: PaginationStyle = "link",
        results_key: str | None = "results",
        next_key: str = "next",
        cursor_param: str = "cursor",
        max_pages: int | None = None,
    ) -> Iterator[Page]:
        """Walk a paginated endpoint page by page.

        - `link`: follow the `Link` header's rel="next" URL exactly as given.
        - `next_url`: follow the URL at `next_key` in the body, or at `pagination.<next_key>`.
        - `cursor`: read the cursor at `next_key` (a dotted path; if it is a URL, its
          `cursor_param` query value) and repeat the original request with `cursor_param` set.

        Records are `payload[results_key]`, or the payload itself when it is a JSON list
        (`results_key=None` forces that). A next link pointing at another host, or one that was
        already visited, raises `ApiError` instead of leaking credentials or looping forever.
        """
        if style not in ("link", "next_url", "cursor"):
            msg = f"unknown pagination style {style!r}; expected link, next_url or cursor"
            raise ValueError(msg)
        base_params = dict(params or {})
        url: str = self.url_for(path)
        request_params: dict[str, Any] | None = base_params
        seen: set[str] = set()
        pages = 0
        while True:
            response, payload = self._send(
                "GET", url, request_params, None, None, None, True, True, parse_json=True
            )
            page_url = redact_url(response.url)
            records = self._records(payload, results_key, page_url)
            yield Page(records, payload, page_url)
            pages += 1
            if max_pages is not None and pages >= max_pages:
                return

            if style == "link":
                link = response.links.get("next", {}).get("url")
                if not link:
                    return
                url, request_params = self._follow(str(response.url), link), None
                marker = url
            elif style == "next_url":
                link = _lookup(payload, next_key)
                if not link:
                    return
                url, request_params = self._follow(str(response.url), str(link)), None
                marker = url
            else:
                cursor = self._cursor(payload, next_key, cursor_param, page_url)
                if cursor is None:
                    return
                request_params = {**base_params, cursor_param: cursor}
                marker = f"cursor={cursor}"
            if marker in seen:
                msg = f"GET {page_url}: pagination repeats a page ({redact_url(url)}); stopping"
                raise ApiError(msg, method="GET", endpoint=page_url)
            seen.add(marker)

    def _follow(self, current: str, link: str) -> str:
        """Resolve a next link; refuse to send credentials to a different host."""
        target = httpx.URL(current).join(link)
        base = httpx.URL(self.base_url)
        if target.host == base.host and base.scheme == "https" and target.scheme == "http":
            # proxies in front of Django apps often build http:// links; never downgrade
            target = target.copy_with(scheme="https", port=base.port)
        if target.host != base.host or target.port != base.port:
            msg = (
                f"GET {redact_url(current)}: refusing to follow a pagination link to another "
                f"host ({target.host})"
            )
            raise ApiError(msg, method="GET", endpoint=redact_url(current))
        return str(target)

    @staticmethod
    def _records(payload: Any, results_key: str | None, page_url: str) -> list[Any]:
        if isinstance(payload, list):
            return payload
        if results_key is None or payload is None:
            return [] if payload is None else [payload]
        if isinstance(payload, dict) and results_key in payload:
            found = payload[results_key]
            return list(found) if found else []
        msg = f"GET {page_url}: page has no {results_key!r} list"
        raise ApiError(msg, method="GET", endpoint=page_url, status=200)

    @staticmethod
    def _cursor(payload: Any, next_key: str, cursor_param: str, page_url: str) -> str | None:
        value = _lookup(payload, next_key)
        if value is None or value == "":
            return None
        value = str(value)
        if "://" in value or value.startswith("/") or "?" in value:
            cursor = httpx.URL(value).params.get(cursor_param)
            if not cursor:
                msg = f"GET {page_url}: next link has no {cursor_param!r} parameter"
                raise ApiError(msg, method="GET", endpoint=page_url, status=200)
            return cursor
        return value


def _lookup(payload: Any, dotted: str) -> Any:
    """`payload["a"]["b"]` for "a.b"; also tries `payload["pagination"][dotted]`."""
    for candidate in (dotted, f"pagination.{dotted}"):
        node = payload
        for part in candidate.split("."):
            if not isinstance(node, dict) or part not in node:
                node = None
                break
            node = node[part]
        if node is not None:
            return node
    return None
