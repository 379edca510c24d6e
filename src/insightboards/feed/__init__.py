"""The change feed: each change of a board, as it happens, to those who could read the board
at that moment (repository.py reads them; watcher.py wakes the streams waiting on them)."""
