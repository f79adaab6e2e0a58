"""The shared base every layer may import: errors meant for the person at the keyboard and
the app's folders. It imports nothing of the app, so ``db/`` can stand on it without
reaching up into ``player/``."""
