"""The sync shell: OAuth token handling, provider connections, the sync driver, and the
reads and writes that go through the mirror. Everything here does I/O; the rules it
applies come from :mod:`proxy.core`.
"""
