"""PIN hashes with Argon2id (argon2-cffi): only the hash of a PIN is ever stored.

The parameters are OWASP's recommendation for Argon2id (19 MiB of memory, two passes, one
lane): about 40 ms a hash here. A stored hash carries its parameters, so hashes made with
other ones still verify, and `needs_rehash` says when to store a fresh one at the next
successful log-in.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2PinHasher:
    def __init__(self, time_cost: int = 2, memory_cost: int = 19_456, parallelism: int = 1):
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )
        # Verified against when a card has no PIN, so that an unknown card takes as long
        # to refuse as a wrong PIN and response times do not tell which cards exist.
        self._decoy = self._hasher.hash("not a pin")

    def hash(self, pin: str) -> str:
        return self._hasher.hash(pin)

    def verify(self, pin_hash: str | None, pin: str) -> bool:
        """Whether pin matches pin_hash; with no hash, spend the same time and say no."""
        try:
            return self._hasher.verify(pin_hash or self._decoy, pin) and pin_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, pin_hash: str) -> bool:
        return self._hasher.check_needs_rehash(pin_hash)
