"""The `mql` command line: `mql.cli.app:main` over the library (see docs/cli.md)."""
