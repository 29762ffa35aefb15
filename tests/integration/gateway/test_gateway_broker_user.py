"""The gateway's own least-privilege broker user can make RPCs (provisioned test deployment)."""

import pytest

from common.logging import request_id_var

pytestmark = pytest.mark.integration


def test_gateway_broker_user_can_call_a_service(provisioned, run_container):
    from nameko.extensions import DependencyProvider
    from nameko.rpc import rpc

    from common.rpc_pool import RpcPool
    from gateway.config import gateway_amqp_uri

    class ContextData(DependencyProvider):
        def get_dependency(self, worker_ctx):
            return dict(worker_ctx.data)

    class Users:
        name = "users"
        context_data = ContextData()

        @rpc
        def whoami(self):
            return self.context_data.get("request_id")

    run_container(Users, as_service="users")
    uri = gateway_amqp_uri(provisioned)
    assert uri.startswith(f"pyamqp://{provisioned.broker_user('gateway')}:")
    with RpcPool(uri, size=1, timeout=5) as pool:
        token = request_id_var.set("via-gateway-user")
        try:
            assert pool.call("users", "whoami") == "via-gateway-user"
        finally:
            request_id_var.reset(token)
