"""Reports: report.json (versioned, with a JSON Schema) and the terminal summary."""

from fusioncheck.report.builder import (
    SCHEMA_VERSION,
    build_report,
    load_schema,
    validate_report,
    write_report,
)

__all__ = ["SCHEMA_VERSION", "build_report", "load_schema", "validate_report", "write_report"]
