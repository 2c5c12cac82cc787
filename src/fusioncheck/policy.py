"""Policies: which checks run, with which parameters (a TOML file, validated).

Format (``calib/default_policy.toml`` is the documented example)::

    [checks.box_fit]            # a table per check; a check without a table runs with its defaults
    noise_m = 0.10              # any parameter the check declares in ``defaults``
    enabled = true              # false switches the check off

Unknown sections, checks and parameters are rejected with their name (exit code 2 on the CLI).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fusioncheck.errors import PolicyError

_TOP_LEVEL_KEYS = {"checks", "gate"}  # gate: validated by fusioncheck.gate


@dataclass(frozen=True)
class Policy:
    """Checks to run and their parameter overrides.

    Attributes:
        checks: check name -> parameter overrides, for every enabled check.
        path: the file it was loaded from, if any.
    """

    checks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    path: str | None = None

    @staticmethod
    def default() -> Policy:
        """Every registered check with its default parameters."""
        from fusioncheck.checks.base import registered_checks

        return Policy({name: {} for name in sorted(registered_checks())})

    @staticmethod
    def load(path: str | Path) -> Policy:
        """Read and validate a TOML policy file.

        Raises:
            PolicyError: unreadable file, TOML syntax error, unknown key, check or parameter.
        """
        from fusioncheck.checks.base import registered_checks

        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise PolicyError(f"{p}: cannot read policy file: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"{p}: invalid TOML: {exc}") from exc
        unknown = sorted(set(data) - _TOP_LEVEL_KEYS)
        if unknown:
            raise PolicyError(
                f"{p}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_TOP_LEVEL_KEYS))}"
            )
        known_checks = registered_checks()
        sections = data.get("checks", {})
        if not isinstance(sections, dict):
            raise PolicyError(f"{p}: 'checks' must be a table of per-check tables")
        checks: dict[str, dict[str, Any]] = {name: {} for name in sorted(known_checks)}
        for name, params in sections.items():
            if name not in known_checks:
                raise PolicyError(
                    f"{p}: unknown check 'checks.{name}'; known: {', '.join(sorted(known_checks))}"
                )
            if not isinstance(params, dict):
                raise PolicyError(f"{p}: 'checks.{name}' must be a table")
            params = dict(params)
            enabled = params.pop("enabled", True)
            if not isinstance(enabled, bool):
                raise PolicyError(f"{p}: 'checks.{name}.enabled' must be true or false")
            defaults = known_checks[name].defaults
            for key, value in params.items():
                if key not in defaults:
                    raise PolicyError(
                        f"{p}: unknown parameter 'checks.{name}.{key}'; known: {', '.join(sorted(defaults))}"
                    )
                expected = type(defaults[key])
                if expected is float and isinstance(value, int) and not isinstance(value, bool):
                    value = float(value)
                if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                    raise PolicyError(
                        f"{p}: 'checks.{name}.{key}' must be {expected.__name__}, got {type(value).__name__}"
                    )
                params[key] = value
            if enabled:
                checks[name] = params
            else:
                checks.pop(name, None)
        return Policy(checks, str(p))

    def to_report(self) -> dict[str, Any]:
        """Return the policy as written to report.json."""
        return {"path": self.path, "checks": {k: dict(v) for k, v in self.checks.items()}}
