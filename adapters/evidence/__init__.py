"""Evidence files: where they are kept (stores), what is accepted (accept) and how a
stored file is handed to a browser (serve)."""
