"""python -m adapters.cli: the same as the `rectify` command."""

from adapters.cli import main

main()
