"""Everything that touches the outside: SQL, SMTP, files, spreadsheets, the CLI."""
