"""A lost ack (broker gone between the handler's commit and the ack) must not raise: an
exception there stops the whole nameko container; the broker redelivers and the inbox dedupes."""

import pytest

from common.nameko_events import DeadLetteringEventHandler


class Consumer:
    def __init__(self, error=None):
        self.error, self.acked = error, []

    def ack_message(self, message):
        if self.error:
            raise self.error
        self.acked.append(message)


@pytest.mark.parametrize("error", [ConnectionResetError(104, "reset"), OSError("broken pipe")])
def test_a_lost_ack_is_logged_not_raised(error, caplog):
    handler = DeadLetteringEventHandler("users", "user_deleted")
    handler.queue_consumer = Consumer(error)
    handler.handle_message_processed(object(), result=None, exc_info=None)
    assert "ack lost" in caplog.text


def test_a_successful_ack():
    handler = DeadLetteringEventHandler("users", "user_deleted")
    handler.queue_consumer = consumer = Consumer()
    message = object()
    handler.handle_message_processed(message, result=None, exc_info=None)
    assert consumer.acked == [message]
