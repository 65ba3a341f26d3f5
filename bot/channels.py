"""Group-robot webhooks of WeCom (企业微信), DingTalk (钉钉, with signing) and Feishu (飞书).

Many offices live in these apps; a chat binding may name a robot webhook to which the same
reminder text is posted as plain text. Each webhook gets at most 20 messages a minute
(their documented limit), paced with ``aiolimiter`` (already installed with PTB's rate limiter).

Every send checks the URL again with :func:`knowledge.robots.check_robot_url` (allow-listed
host, https, public addresses only) and then connects to the address that was checked, with
the host name kept for the ``Host`` header and TLS (SNI and certificate), so a name re-pointed
at an internal address after ``/webhook`` (DNS rebinding) is refused. Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import html
import re
import time
import urllib.parse
from typing import Any

import httpx
from aiolimiter import AsyncLimiter

from knowledge.errors import Refusal
from knowledge.robots import RobotPolicy, RobotTarget, check_robot_url

_limiters: dict[str, AsyncLimiter] = {}


def plain_text(html_text: str) -> str:
    """Telegram HTML → the plain text these robots accept."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def dingtalk_url(url: str, secret: str, timestamp_ms: int) -> str:
    """DingTalk signs ``timestamp\\nsecret`` with HMAC-SHA256 into the query string."""
    if not secret:
        return url
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={sign}"


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu signs with the key ``timestamp\\nsecret`` over an empty message."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def request_for(kind: str, url: str, secret: str, text: str, now: float) -> tuple[str, dict[str, Any]]:
    """(URL, JSON body) of one text message for a robot kind."""
    if kind == "wecom":
        return url, {"msgtype": "text", "text": {"content": text}}
    if kind == "dingtalk":
        return dingtalk_url(url, secret, int(now * 1000)), {"msgtype": "text", "text": {"content": text}}
    if kind == "feishu":
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
        if secret:
            body["timestamp"] = str(int(now))
            body["sign"] = feishu_sign(secret, int(now))
        return url, body
    raise ValueError(f"unknown webhook kind {kind}")


def pinned(url: str, target: RobotTarget) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(URL to the checked address, headers, httpx extensions) keeping the name for Host and TLS."""
    parts = urllib.parse.urlsplit(url)
    address = target.addresses[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{target.port}"
    host_header = target.host if parts.port is None else f"{target.host}:{target.port}"
    extensions: dict[str, Any] = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc)), {"Host": host_header}, extensions


async def post(
    kind: str,
    url: str,
    secret: str,
    html_text: str,
    client: httpx.AsyncClient | None = None,
    *,
    policy: RobotPolicy | None = None,
) -> str:
    """Post a reminder; returns "" on success or a short error description."""
    limiter = _limiters.setdefault(url, AsyncLimiter(20, 60))
    address, body = request_for(kind, url, secret, plain_text(html_text), time.time())
    try:
        target = await asyncio.to_thread(check_robot_url, address, policy or RobotPolicy())
    except Refusal as exc:
        return f"refused: {exc}"
    pinned_url, headers, extensions = pinned(address, target)
    async with limiter:
        owned = client is None
        client = client or httpx.AsyncClient(timeout=10, follow_redirects=False)
        try:
            response = await client.post(
                pinned_url, json=body, headers=headers, extensions=extensions, follow_redirects=False
            )
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            if owned:
                await client.aclose()
    if response.is_redirect:
        return f"HTTP {response.status_code} (redirect not followed)"
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    data = response.json() if response.content else {}
    code = data.get("errcode", data.get("code", 0)) if isinstance(data, dict) else 0
    return "" if code in (0, None) else f"{kind} error {code}: {data.get('errmsg') or data.get('msg')}"
