"""The `facekit` sub-commands (argument parsing and printing; the work lives in the library modules)."""
