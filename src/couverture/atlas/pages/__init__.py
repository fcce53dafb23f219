"""Atlas page families: one context function per family (plain dicts, no HTML)."""
