"""The pre-delivery gate: rules on report.json values, a pass/fail verdict and the ``gate[]`` table.

Rules live in the policy TOML beside the checks (``calib/default_policy.toml``,
``calib/strict_delivery_policy.toml``)::

    [[gate.rule]]
    metric = "classes.*.rates.undersized_box"   # a path into report.json; '*' = every key / list item
    max = 0.05                                   # comparator: max, min, abs_max, equals or one_of
    classes = ["vehicle.car", "vehicle.truck"]   # optional: only these classes (the '*' after classes)
    streams = ["labels", "CAM_FRONT"]            # optional: only these streams / sensors (the last '*' of
                                                 # sequences.*.sync.* or sequences.*.calibration.*)
    name = "few undersized boxes"                # optional: shown in gate[] and JUnit (default: metric)
    severity = "error"                           # optional: "warning" rules are reported, never fail
    missing = "fail"                             # optional: "fail" (default) or "pass" when nothing matches
    min_support = 20                             # optional, class rates only: classes with fewer evaluated
                                                 # boxes are reported but cannot fail the rule

Paths walk the report: ``classes.<class>.rates.<finding type>``, ``classes.<class>.size_bias.length``,
``sequences.*.sync.*.offset_ms``, ``sequences.*.calibration.*.status``, ... Besides the report's own
fields, ``run.*`` holds run totals: ``run.sequences``, ``run.sequences_with_errors``,
``run.inputs_with_errors``, ``run.findings.<finding type>`` (counts).

Comparators: ``max`` passes when value <= threshold, ``min`` when value >= threshold, ``abs_max`` when
|value| <= threshold (offsets, biases), ``equals`` when value == threshold (e.g. ``status = "ok"``),
``one_of`` when value is in the list. A matched value that is null (not estimable) fails the rule like a
missing one, unless ``missing = "pass"``.

Every unknown key is rejected with its name (:class:`~fusioncheck.errors.PolicyError`, exit code 2).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fusioncheck.errors import PolicyError

COMPARATORS = ("max", "min", "abs_max", "equals", "one_of")
_RULE_KEYS = {"metric", "name", "classes", "streams", "severity", "missing", "min_support", *COMPARATORS}
_GATE_KEYS = {"rule"}
_ROOTS = ("classes", "sequences", "run", "inputs")
#: Fields whose value names a list item (for the gate table's subject column), in order of preference.
_ITEM_NAMES = ("name", "stream", "sensor", "path")


@dataclass(frozen=True)
class GateRule:
    """One rule: a metric path, a comparator and its threshold.

    Attributes:
        metric: dotted path into the report, ``*`` matching every key or list item.
        comparator: one of :data:`COMPARATORS`.
        threshold: a number, a string, or (``one_of``) a list.
        name: label in the gate table and JUnit.
        classes: when set, only these classes (rules on ``classes.*``).
        streams: when set, only rows of these streams or sensors (rules on ``sequences.*.<table>.*``).
        severity: ``error`` (can fail the verdict) or ``warning`` (reported only).
        missing: ``fail`` or ``pass`` when the path matches nothing or a null value.
        min_support: class rates evaluated on fewer boxes cannot fail (0 = no minimum).
    """

    metric: str
    comparator: str
    threshold: Any
    name: str
    classes: tuple[str, ...] = ()
    streams: tuple[str, ...] = ()
    severity: str = "error"
    missing: str = "fail"
    min_support: int = 0


@dataclass(frozen=True)
class Gate:
    """The rules of a policy file (empty: the run is not gated)."""

    rules: tuple[GateRule, ...] = ()
    path: str | None = None

    @staticmethod
    def load(path: str | Path) -> Gate:
        """Read the ``[gate]`` section of a policy TOML file and validate it.

        Raises:
            PolicyError: unreadable file, TOML syntax error, unknown key or invalid value (named).
        """
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise PolicyError(f"{p}: cannot read policy file: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"{p}: invalid TOML: {exc}") from exc
        return Gate(parse_rules(data.get("gate", {}), str(p)), str(p))


def parse_rules(section: Any, where: str) -> tuple[GateRule, ...]:
    """Validate the ``gate`` table of a policy (``where`` names the file in messages)."""
    from fusioncheck.checks.base import registered_checks

    if not isinstance(section, dict):
        raise PolicyError(f"{where}: 'gate' must be a table holding [[gate.rule]] entries")
    unknown = sorted(set(section) - _GATE_KEYS)
    if unknown:
        raise PolicyError(f"{where}: unknown key 'gate.{unknown[0]}'; known: gate.rule")
    raw = section.get("rule", [])
    if not isinstance(raw, list):
        raise PolicyError(f"{where}: 'gate.rule' must be an array of tables ([[gate.rule]])")
    finding_types = {t for c in registered_checks().values() for t in c.finding_types}
    rules = []
    for i, entry in enumerate(raw):
        at = f"{where}: gate.rule[{i}]"
        if not isinstance(entry, dict):
            raise PolicyError(f"{at} must be a table")
        unknown = sorted(set(entry) - _RULE_KEYS)
        if unknown:
            raise PolicyError(
                f"{at}: unknown key 'gate.rule[{i}].{unknown[0]}'; known: {', '.join(sorted(_RULE_KEYS))}"
            )
        metric = entry.get("metric")
        if not isinstance(metric, str) or not metric:
            raise PolicyError(f"{at}: 'metric' (a path such as classes.*.rates.undersized_box) is required")
        parts = metric.split(".")
        if parts[0] not in _ROOTS or any(not s for s in parts):
            raise PolicyError(f"{at}: metric {metric!r} must start with one of {', '.join(_ROOTS)}")
        for key in ("rates", "evaluated", "flagged", "findings"):
            if key in parts[:-1]:
                name = parts[parts.index(key) + 1]
                if name != "*" and name not in finding_types:
                    raise PolicyError(
                        f"{at}: metric {metric!r} names unknown finding type {name!r}; "
                        f"known: {', '.join(sorted(finding_types))}"
                    )
        given = [c for c in COMPARATORS if c in entry]
        if len(given) != 1:
            raise PolicyError(f"{at}: give exactly one of {', '.join(COMPARATORS)} (got {given or 'none'})")
        comparator = given[0]
        threshold = entry[comparator]
        numeric = isinstance(threshold, int | float) and not isinstance(threshold, bool)
        if comparator in ("max", "min", "abs_max") and not numeric:
            raise PolicyError(f"{at}: '{comparator}' must be a number, got {threshold!r}")
        if comparator == "equals" and not isinstance(threshold, str | int | float | bool):
            raise PolicyError(f"{at}: 'equals' must be a string, number or boolean")
        if comparator == "one_of" and not (isinstance(threshold, list) and threshold):
            raise PolicyError(f"{at}: 'one_of' must be a non-empty list")
        classes = entry.get("classes", [])
        if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
            raise PolicyError(f"{at}: 'classes' must be a list of class names")
        if classes and not (parts[0] == "classes" and len(parts) > 1 and parts[1] == "*"):
            raise PolicyError(f"{at}: 'classes' filters only metrics starting with classes.*")
        streams = entry.get("streams", [])
        if not isinstance(streams, list) or not all(isinstance(c, str) for c in streams):
            raise PolicyError(f"{at}: 'streams' must be a list of stream or sensor names")
        if streams and not (
            parts[0] == "sequences" and len(parts) > 3 and parts[1] == "*" and parts[3] == "*"
        ):
            raise PolicyError(f"{at}: 'streams' filters only metrics like sequences.*.<table>.*.<field>")
        severity = entry.get("severity", "error")
        if severity not in ("error", "warning"):
            raise PolicyError(f'{at}: \'severity\' must be "error" or "warning", got {severity!r}')
        missing = entry.get("missing", "fail")
        if missing not in ("fail", "pass"):
            raise PolicyError(f'{at}: \'missing\' must be "fail" or "pass", got {missing!r}')
        min_support = entry.get("min_support", 0)
        if not isinstance(min_support, int) or isinstance(min_support, bool) or min_support < 0:
            raise PolicyError(f"{at}: 'min_support' must be an integer >= 0")
        if min_support and not (parts[0] == "classes" and len(parts) == 4 and parts[2] == "rates"):
            raise PolicyError(f"{at}: 'min_support' applies only to classes.<class>.rates.<finding type>")
        name = entry.get("name", metric)
        if not isinstance(name, str) or not name:
            raise PolicyError(f"{at}: 'name' must be a non-empty string")
        rules.append(
            GateRule(
                metric=metric,
                comparator=comparator,
                threshold=threshold,
                name=name,
                classes=tuple(classes),
                streams=tuple(streams),
                severity=severity,
                missing=missing,
                min_support=min_support,
            )
        )
    return tuple(rules)


@dataclass
class GateResult:
    """The verdict and the gate table.

    Attributes:
        verdict: ``pass``, ``fail`` or ``not_gated`` (no rules).
        rows: ``gate[]`` rows: rule, class, subject, metric, value, threshold, comparator, passed,
            severity, reason.
    """

    verdict: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Rows that fail the gate (error severity, not passed)."""
        return [r for r in self.rows if not r["passed"] and r["severity"] == "error"]


def run_totals(report: dict[str, Any]) -> dict[str, Any]:
    """Return the ``run.*`` values that rules may use (counts over the whole report)."""
    findings: dict[str, int] = {}
    for f in report.get("findings", []):
        findings[f["check"]] = findings.get(f["check"], 0) + 1
    for cls in report.get("classes", {}).values():
        for check in cls.get("evaluated", {}):
            findings.setdefault(check, 0)
    return {
        "sequences": len(report.get("sequences", [])),
        "sequences_with_errors": sum(1 for s in report.get("sequences", []) if s.get("error")),
        "inputs_with_errors": sum(1 for i in report.get("inputs", []) if i.get("error")),
        "findings": findings,
    }


def _walk(node: Any, parts: list[str], labels: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Yield ``(labels of the '*' steps, value)`` for every match of ``parts`` below ``node``."""
    if not parts:
        yield labels, node
        return
    head, rest = parts[0], parts[1:]
    if isinstance(node, dict):
        if head == "*":
            for key, child in node.items():
                yield from _walk(child, rest, (*labels, str(key)))
        elif head in node:
            yield from _walk(node[head], rest, labels)
    elif isinstance(node, list):
        if head == "*":
            for i, child in enumerate(node):
                label = next(
                    (str(child[k]) for k in _ITEM_NAMES if isinstance(child, dict) and k in child), ""
                )
                yield from _walk(child, rest, (*labels, label or str(i)))
        elif head.isdigit() and int(head) < len(node):
            yield from _walk(node[int(head)], rest, labels)


def _compare(comparator: str, value: Any, threshold: Any) -> bool | None:
    """True/False, or None when the value cannot be compared (wrong type)."""
    if comparator == "equals":
        return bool(value == threshold)
    if comparator == "one_of":
        return value in threshold
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if comparator == "max":
        return bool(value <= threshold)
    if comparator == "min":
        return bool(value >= threshold)
    return bool(abs(value) <= threshold)  # abs_max


def evaluate(report: dict[str, Any], gate: Gate) -> GateResult:
    """Apply every rule to ``report``; returns the verdict and one row per rule and matched subject."""
    if not gate.rules:
        return GateResult("not_gated")
    view = {**report, "run": run_totals(report)}
    rows: list[dict[str, Any]] = []
    for rule in gate.rules:
        parts = rule.metric.split(".")
        matches = list(_walk(view, parts, ()))
        no_value = rule.missing == "pass"
        if rule.streams:
            matches = [m for m in matches if len(m[0]) > 1 and m[0][1] in rule.streams]
        if parts[0] == "classes" and rule.classes:
            matches = [m for m in matches if m[0] and m[0][0] in rule.classes]
            for name in sorted(set(rule.classes) - {m[0][0] for m in matches}):
                why = (
                    f"{rule.metric} is absent for class {name}"
                    if name in report.get("classes", {})
                    else f"class {name} not in the report"
                )
                rows.append(_row(rule, name, name, None, no_value, why))
        elif not matches:
            rows.append(_row(rule, None, None, None, no_value, "the metric matches nothing in the report"))
        for labels, value in matches:
            category = labels[0] if parts[0] == "classes" and labels else None
            subject = " / ".join(labels) if labels else None
            if value is None:
                rows.append(
                    _row(rule, category, subject, None, no_value, "not estimable (null in the report)")
                )
                continue
            passed = _compare(rule.comparator, value, rule.threshold)
            if passed is None:
                why = f"cannot compare a value of type {type(value).__name__}"
                rows.append(_row(rule, category, subject, value, False, why))
                continue
            reason: str | None = None
            if not passed and rule.min_support and category is not None:
                support = report["classes"][category].get("evaluated", {}).get(parts[3], 0)
                if support < rule.min_support:
                    passed = True
                    reason = f"only {support} boxes evaluated (< min_support {rule.min_support})"
            rows.append(_row(rule, category, subject, value, passed, reason))
    failed = any(not r["passed"] and r["severity"] == "error" for r in rows)
    return GateResult("fail" if failed else "pass", rows)


def _row(
    rule: GateRule,
    category: str | None,
    subject: str | None,
    value: Any,
    passed: bool,
    reason: str | None,
) -> dict[str, Any]:
    """One gate[] row."""
    threshold = rule.threshold
    return {
        "rule": rule.name,
        "metric": rule.metric,
        "class": category,
        "subject": subject,
        "comparator": rule.comparator,
        "value": value,
        "threshold": ", ".join(map(str, threshold)) if isinstance(threshold, list) else threshold,
        "passed": passed,
        "severity": rule.severity,
        "reason": reason,
    }


def describe_failure(row: dict[str, Any]) -> str:
    """One line saying why a row failed (for the terminal and JUnit)."""
    where = f" [{row['subject']}]" if row.get("subject") else ""
    if row["value"] is None:
        return f"{row['rule']}{where}: no value ({row.get('reason') or 'missing'})"
    symbol = {"max": "<=", "min": ">=", "abs_max": "|x| <=", "equals": "==", "one_of": "in"}[
        row["comparator"]
    ]
    return f"{row['rule']}{where}: {row['value']} is not {symbol} {row['threshold']}"


def apply_gate(report: dict[str, Any], gate: Gate) -> GateResult:
    """Evaluate ``gate`` on ``report`` and write ``verdict`` and ``gate[]`` into it."""
    result = evaluate(report, gate)
    report["verdict"] = result.verdict
    report["gate"] = result.rows
    if gate.path is not None:
        report.setdefault("policy", {})["gate_rules"] = len(gate.rules)
    return result


def format_gate(result: GateResult) -> str:
    """Terminal lines: the verdict, the rules that failed, and warnings."""
    if result.verdict == "not_gated":
        return "gate: no rules (not gated)"
    lines = [
        f"gate: {result.verdict.upper()} ({sum(r['passed'] for r in result.rows)}/{len(result.rows)} "
        f"rule checks passed)"
    ]
    for row in result.rows:
        if not row["passed"]:
            tag = "FAIL" if row["severity"] == "error" else "warn"
            lines.append(f"  {tag} {describe_failure(row)}")
    return "\n".join(lines)
