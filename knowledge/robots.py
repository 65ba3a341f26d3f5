"""Which group-robot webhook addresses the bot may post to (the SSRF rule).

A webhook URL is only accepted when it is ``https://`` to a host on the allow-list (the
robots' real endpoints by default), is not a literal IP address, and every address the host
resolves to is public (no loopback, private, link-local, multicast, reserved or unspecified
address, judged by the standard ``ipaddress`` module). The same check runs when the URL is set
and again before every send (the name may have been re-pointed since: DNS rebinding); the send
then goes to the very address that was checked.

``allow_loopback`` exists only for the test suite, whose stand-in robot listens on
``http://localhost``; it permits http and loopback addresses, never private networks.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from knowledge.errors import Refusal

DEFAULT_ROBOT_HOSTS = ("qyapi.weixin.qq.com", "oapi.dingtalk.com", "open.feishu.cn", "open.larksuite.com")
WEBHOOK_KINDS = ("wecom", "dingtalk", "feishu")  # 企业微信, 钉钉, 飞书 group robots

Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class RobotPolicy:
    """The allow-list of robot hosts; ``allow_loopback`` is for the tests' local server only."""

    hosts: tuple[str, ...] = DEFAULT_ROBOT_HOSTS
    allow_loopback: bool = False


@dataclass(frozen=True)
class RobotTarget:
    """A checked webhook: the host as written, its port, and the public addresses it resolved to."""

    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 first); an empty list when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    addresses = {str(info[4][0]) for info in infos}
    return sorted(addresses, key=lambda a: (":" in a, a))


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_robot_url(url: str, policy: RobotPolicy, resolve: Resolver = resolve_host) -> RobotTarget:
    """The checked target of a webhook URL; raises :class:`Refusal` naming what is wrong."""
    allowed = "、".join(policy.hosts) or "（无）"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refusal("机器人地址格式不对，请复制群机器人设置里的完整 https:// 地址") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (policy.allow_loopback and scheme == "http"):
        raise Refusal("机器人地址必须以 https:// 开头")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise Refusal("机器人地址格式不对，请复制群机器人设置里的完整 https:// 地址")
    if parts.username is not None or parts.password is not None:
        raise Refusal("机器人地址不能包含用户名或密码")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise Refusal("机器人地址不能是 IP 地址，请使用机器人的域名地址")
    if host not in {h.rstrip(".").lower() for h in policy.hosts}:
        raise Refusal(f"不接受的机器人地址：{host}（只接受 {allowed}）")
    if port is not None and port != 443 and not policy.allow_loopback:
        raise Refusal("机器人地址不能指定端口")
    port = port or (443 if scheme == "https" else 80)
    addresses = resolve(host, port)
    if not addresses:
        raise Refusal(f"无法解析机器人地址 {host}，请检查后重试")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if _is_public(address):
            continue
        if policy.allow_loopback and address.is_loopback:
            continue
        raise Refusal(f"机器人地址 {host} 指向内网或保留地址，已拒绝")
    return RobotTarget(scheme, host, port, tuple(addresses))
