"""The RPC boundary: validate the payload, verify the caller, call the method, dump the result.

Use it under nameko's ``@rpc``::

    @rpc
    @boundary(request=BudgetIn(), response=BudgetOut(), scopes=("transactions:write",))
    def create_budget(self, principal, payload):
        # ``principal`` is a verified common.principal.Principal, ``payload`` a loaded dict
        ...

Results are dumped to plain JSON values (decimal strings, ISO-8601 UTC, string ids) so kombu
never wraps Decimal/datetime in its own envelope. Anything that is not a
:class:`common.errors.DomainError` is logged with its stack trace *here* and crosses the wire
as an opaque :class:`common.errors.ServiceUnavailable`-free ``InternalError`` with no details.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable

from marshmallow import Schema

from common.errors import DomainError
from common.principal import default_verifier
from common.schemas import validate_or_raise

log = logging.getLogger(__name__)


class InternalError(Exception):
    """What a caller sees for an unexpected failure: no message, no internals."""


def boundary(
    *,
    request: Schema | None = None,
    response: Schema | None = None,
    many: bool = False,
    scopes: Iterable[str] = (),
    authenticated: bool = True,
    step_up: bool = False,
    verifier: Callable | None = None,
):
    needed = tuple(scopes)

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            call_args = list(args)
            try:
                if authenticated:
                    token = kwargs.pop("principal") if "principal" in kwargs else call_args.pop(0)
                    principal = (verifier or default_verifier)().verify(token)
                    principal.require_scopes(*needed)
                    if step_up:
                        principal.require_step_up()
                    call_args.insert(0, principal)
                if request is not None:
                    if "payload" in kwargs:
                        kwargs["payload"] = validate_or_raise(request, kwargs["payload"])
                    elif len(call_args) > (1 if authenticated else 0):
                        idx = 1 if authenticated else 0
                        call_args[idx] = validate_or_raise(request, call_args[idx])
                    else:
                        kwargs["payload"] = validate_or_raise(request, {})
                result = method(self, *call_args, **kwargs)
                if response is None:
                    return result
                return response.dump(result, many=many)
            except DomainError:
                raise
            except Exception:
                log.exception("unexpected error in %s", method.__qualname__)
                raise InternalError() from None

        wrapper.boundary = {"scopes": needed, "authenticated": authenticated, "step_up": step_up}
        return wrapper

    return decorate
