"""The HTTP shell: the aiohttp app, its one route table, and thin handlers that parse
input, ask :mod:`proxy.core` for decisions and :mod:`proxy.sync` for data, and render
through :mod:`proxy.render`.
"""
