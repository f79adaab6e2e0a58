"""The PySide6 desktop app. Nothing in player/ or db/ imports this package."""
