"""One approvals engine for every app: flows per tenant and kind of subject, requests and their steps,
delegation, comments, a timeline, one queue for each approver (docs/approvals.md).

Apps use what this module exports: `ApprovalKind` (registered under `Component.extra["approval_kinds"]`),
`Facts` and `ExtraStep` to open a request with `open_request`, and `Approvals` to take steps."""

from roles.approvals.engine import Approvals, StepTaken, announce_request, clean_comment, open_request, withdraw
from roles.approvals.flows import FlowAdmin
from roles.approvals.kinds import KINDS_KEY, ApprovalKind, ApprovalKinds, Decision, ExtraStep, Facts

__all__ = [
    "KINDS_KEY",
    "ApprovalKind",
    "ApprovalKinds",
    "Approvals",
    "Decision",
    "ExtraStep",
    "Facts",
    "FlowAdmin",
    "StepTaken",
    "announce_request",
    "clean_comment",
    "open_request",
    "withdraw",
]
