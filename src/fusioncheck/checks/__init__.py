"""Checks: plug-ins that turn a sequence's sensor data and labels into findings and per-class rates."""

from fusioncheck.checks.base import (
    Check,
    CheckOutput,
    ClassTally,
    Finding,
    Severity,
    register,
    registered_checks,
)

__all__ = ["Check", "CheckOutput", "ClassTally", "Finding", "Severity", "register", "registered_checks"]
