"""`python -m webapp …` is the `scim2entra` command."""

from webapp.cli import main

main()
