"""Throughput of field encryption next to its reference, in one run (prints and writes JSON).

    python -m common.crypto.benchmark [--n 5000] [--vault-addr URL --vault-token TOKEN]

Reference: one bare ``AESGCM.encrypt``/``decrypt`` under a fixed key (no envelope, no AAD
building, no token). The ratio is the price of a fresh DEK + KEK wrap + token per value.
Figures are for information only; nothing passes or fails on them.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.crypto import CipherContext, FieldCipher, LocalKeyProvider, VaultKeyProvider

VALUE = "alice.example@example.com"
RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "encryption.json"


def _per_second(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def _measure(cipher: FieldCipher, n: int) -> dict[str, float]:
    ctx = CipherContext("users", "email", str(uuid.uuid4()))
    token = cipher.encrypt(VALUE, ctx=ctx)
    return {
        "encrypt_per_s": _per_second(lambda: cipher.encrypt(VALUE, ctx=ctx), n),
        "decrypt_per_s": _per_second(lambda: cipher.decrypt(token, ctx=ctx), n),
        "blind_index_per_s": _per_second(lambda: cipher.blind_index("users.email", VALUE), n),
        "token_chars": len(token),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--vault-addr")
    parser.add_argument("--vault-token")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    key, nonce, data = AESGCM.generate_key(256), os.urandom(12), VALUE.encode()
    aead = AESGCM(key)
    sealed = aead.encrypt(nonce, data, None)
    reference = {
        "encrypt_per_s": _per_second(lambda: aead.encrypt(os.urandom(12), data, None), args.n),
        "decrypt_per_s": _per_second(lambda: aead.decrypt(nonce, sealed, None), args.n),
    }
    results = {"n": args.n, "reference_bare_aesgcm": reference, "providers": {}}
    with tempfile.TemporaryDirectory() as state:
        local = _measure(FieldCipher(LocalKeyProvider(state)), args.n)
    results["providers"]["local"] = local
    if args.vault_addr:
        vault = VaultKeyProvider(args.vault_addr, token=args.vault_token, key_name="bench-kek")
        results["providers"]["vault"] = _measure(FieldCipher(vault), max(1, args.n // 10))
    for name, figures in results["providers"].items():
        figures["encrypt_ratio_vs_reference"] = (
            reference["encrypt_per_s"] / figures["encrypt_per_s"]
        )
        figures["decrypt_ratio_vs_reference"] = (
            reference["decrypt_per_s"] / figures["decrypt_per_s"]
        )
        print(
            f"{name:6s} encrypt {figures['encrypt_per_s']:>10.0f}/s "
            f"({figures['encrypt_ratio_vs_reference']:.1f}x slower than bare AESGCM)  "
            f"decrypt {figures['decrypt_per_s']:>10.0f}/s "
            f"({figures['decrypt_ratio_vs_reference']:.1f}x)  "
            f"blind index {figures['blind_index_per_s']:>9.0f}/s  "
            f"token {figures['token_chars']} chars"
        )
    print(
        f"bare AESGCM encrypt {reference['encrypt_per_s']:.0f}/s, "
        f"decrypt {reference['decrypt_per_s']:.0f}/s"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
