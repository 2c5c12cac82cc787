"""Deterministic tokens and random streams.

Every random draw of the simulator comes from a stream keyed by ``(seed, *keys)`` (scene, sensor, frame,
object...). Streams are independent of each other, so a fault run and a clean run of the same seed share
the world, every sensor file and every label's noise, and differ only in what the faults change; and
writing or skipping sweeps does not change the keyframes.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _key_bytes(seed: int, keys: tuple[object, ...]) -> bytes:
    return "/".join(["fusioncheck-sim", str(int(seed)), *(str(k) for k in keys)]).encode()


def make_token(seed: int, *keys: object) -> str:
    """Return a 32-hex-digit token, the same for the same ``(seed, *keys)``."""
    return hashlib.md5(_key_bytes(seed, keys), usedforsecurity=False).hexdigest()


def static_token(*keys: object) -> str:
    """Return a seed-independent token (taxonomy and sensor records, the same in every simulated log)."""
    return hashlib.md5(
        "/".join(["fusioncheck-sim", *(str(k) for k in keys)]).encode(), usedforsecurity=False
    ).hexdigest()


def make_rng(seed: int, *keys: object) -> np.random.Generator:
    """Return the random generator of the stream ``(seed, *keys)``."""
    digest = hashlib.sha256(_key_bytes(seed, keys)).digest()
    entropy = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 32, 4)]
    return np.random.default_rng(np.random.SeedSequence(entropy))
