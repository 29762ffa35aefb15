import uuid

import pytest

from common.crypto import CipherContext, FieldCipher, LocalKeyProvider


@pytest.fixture
def state_dir(tmp_path):
    return tmp_path / "state"


@pytest.fixture
def provider(state_dir):
    return LocalKeyProvider(state_dir)


@pytest.fixture
def cipher(provider):
    return FieldCipher(provider)


@pytest.fixture
def ctx():
    return CipherContext(table="users", column="email", row_id=str(uuid.uuid4()))
