"""``python -m fusioncheck`` runs the command line."""

from fusioncheck.cli import main

main()
