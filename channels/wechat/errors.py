"""What WeChat's answers become: each error code is a clear problem for the mini-program (RFC 9457, through
the one error mapper), or a retry (channels.wechat.api)."""

from __future__ import annotations

from portal.errors import DomainError, Throttled
from portal.i18n import N_

# WeChat's error codes (errcode) the platform acts on
SYSTEM_BUSY = -1
INVALID_CODE = 40029
INVALID_TOKEN = 40001
EXPIRED_TOKEN = 42001
MALFORMED_TOKEN = 40014
RATE_LIMITED = 45011
TOKEN_ERRORS = frozenset({INVALID_TOKEN, EXPIRED_TOKEN, MALFORMED_TOKEN})


class WeChatError(Exception):
    """An answer of WeChat's with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        self.errcode, self.errmsg = errcode, errmsg
        super().__init__(f"WeChat errcode {errcode}: {errmsg}")


class InvalidWeChatCode(DomainError):
    status, code, title = 400, "invalid_wechat_code", N_("The WeChat code is not valid")


class WeChatRateLimited(Throttled):
    code, title = "wechat_rate_limited", N_("WeChat is limiting requests")


class WeChatUnavailable(DomainError):
    """WeChat did not answer, stayed busy after the retries, or refused the mini-program's own credentials:
    nothing the person can fix, so 503 (try again later) or 502 (the manufacturer must check its registration)."""

    status, code, title = 503, "wechat_unavailable", N_("WeChat cannot be reached")


class WeChatRefused(DomainError):
    status, code, title = 502, "wechat_refused", N_("WeChat refused the mini-program's request")
